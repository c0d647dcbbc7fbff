/* Which directories form the image: the pages of level 0 (bw_tiff_open.c
 * finds them), the levels of a pyramid (reduced-resolution copies in the
 * directory chain or in SubIFDs), and making a page libtiff's current
 * directory for a read. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_reader.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Levels                                                                   */
/* ------------------------------------------------------------------------ */

int bw_tiff_reduced_size(const bw_tiff_reader *r, uint32_t w, uint32_t h) {
  if (w == 0 || h == 0 || w > r->width || h > r->length || (w == r->width && h == r->length))
    return 0;
  /* The same picture: width and length reduced by one factor, each rounded
   * to a whole pixel either way (|W h - H w| < W + H). */
  uint64_t a = (uint64_t)r->width * h, b = (uint64_t)r->length * w;
  return (a > b ? a - b : b - a) < (uint64_t)r->width + r->length;
}

/* The candidate of source @subifd (-1: the directory chain) and size w x h
 * (0 x 0: any, for SubIFDs, measured later). */
static bw_tiff_level_src *find_src(bw_tiff_reader *r, int subifd, uint32_t w, uint32_t h) {
  for (int i = 0; i < r->nsrc; i++) {
    bw_tiff_level_src *s = &r->src[i];
    if (s->subifd == subifd && (subifd >= 0 || (s->width == w && s->length == h))) return s;
  }
  if (r->nsrc == BW_TIFF_MAX_LEVELS - 1) return NULL;
  bw_tiff_level_src *s = &r->src[r->nsrc++];
  memset(s, 0, sizeof *s);
  s->subifd = subifd;
  s->width = w;
  s->length = h;
  return s;
}

bw_status bw_tiff_levels_note(bw_tiff_reader *r, int subifd, uint32_t w, uint32_t h,
                              uint64_t ifd, bw_error *err) {
  if (subifd < 0 && (w == 0 || h == 0)) return BW_OK;
  bw_tiff_level_src *s = find_src(r, subifd, w, h);
  if (!s || s->broken) return BW_OK; /* more kinds of copies than levels kept */
  /* One copy per page, in page order: the copy of page z comes after page
   * z (the chain) or with it (SubIFDs).  Any other arrangement is not a
   * level. */
  if (r->npages == 0 || s->count != r->npages - 1) {
    s->broken = 1;
    return BW_OK;
  }
  if (s->count == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 4;
    uint64_t *p = (uint64_t *)realloc(s->ifd, cap * sizeof *p);
    if (!p) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the level table");
    s->ifd = p;
    s->cap = cap;
  }
  s->ifd[s->count++] = ifd;
  return BW_OK;
}

static int by_width_descending(const void *a, const void *b) {
  const bw_tiff_level_src *x = (const bw_tiff_level_src *)a, *y = (const bw_tiff_level_src *)b;
  if (x->width != y->width) return x->width > y->width ? -1 : 1;
  return x->length > y->length ? -1 : x->length < y->length;
}

bw_status bw_tiff_levels_finish(bw_tiff_reader *r, bw_error *err) {
  (void)err;
  /* SubIFD levels: their size is that of their first directory. */
  for (int i = 0; i < r->nsrc; i++) {
    bw_tiff_level_src *s = &r->src[i];
    if (s->subifd < 0 || s->broken || s->count != r->npages) continue;
    r->cur = SIZE_MAX;
    uint32_t w = 0, h = 0;
    bw_tiff_msg_clear(&r->msg);
    if (s->ifd[0] <= r->file.size && TIFFSetSubDirectory(r->tif, s->ifd[0]) &&
        TIFFGetField(r->tif, TIFFTAG_IMAGEWIDTH, &w) && TIFFGetField(r->tif, TIFFTAG_IMAGELENGTH, &h)) {
      s->width = w;
      s->length = h;
    } else {
      s->broken = 1; /* checked as a page if it is ever opened; not a level */
    }
  }
  /* Level 0, then every complete candidate of a reduced size, largest
   * first; one per size. */
  int n = 0;
  for (int i = 0; i < r->nsrc; i++) {
    bw_tiff_level_src *s = &r->src[i];
    if (!s->broken && s->count == r->npages && bw_tiff_reduced_size(r, s->width, s->length)) {
      r->src[n++] = *s;
    } else {
      free(s->ifd);
    }
  }
  qsort(r->src, (size_t)n, sizeof r->src[0], by_width_descending);
  int kept = 0;
  for (int i = 0; i < n; i++) {
    if (kept > 0 && r->src[kept - 1].width == r->src[i].width &&
        r->src[kept - 1].length == r->src[i].length) {
      free(r->src[i].ifd);
      continue;
    }
    r->src[kept++] = r->src[i];
  }
  r->nsrc = kept;
  for (int i = kept; i < BW_TIFF_MAX_LEVELS - 1; i++) memset(&r->src[i], 0, sizeof r->src[i]);
  /* Level 0 is the pages themselves. */
  r->level0.width = r->width;
  r->level0.length = r->length;
  r->level0.scale[0] = r->level0.scale[1] = 1;
  for (int i = 0; i < kept; i++) {
    r->src[i].scale[0] = (double)r->length / r->src[i].length;
    r->src[i].scale[1] = (double)r->width / r->src[i].width;
  }
  r->info.levels = 1 + kept;
  return BW_OK;
}

const bw_tiff_level_src *bw_tiff_level_src_of(const bw_tiff_reader *r, int level) {
  return level <= 0 ? &r->level0 : &r->src[level - 1];
}

bw_status bw_tiff_levels_load(bw_tiff_reader *r, int level, sample_format *fmt0,
                              bw_error *err) {
  if (level >= r->info.levels && r->info.levels == 1)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "level %d does not exist: the file has one level (0), no pyramid", level);
  if (level >= r->info.levels)
    return bw_tiff_fail(err, BW_ERR_PARAM, "level %d does not exist: the file has levels 0 to %d",
                        level, r->info.levels - 1);
  const bw_tiff_level_src *s = &r->src[level - 1];
  for (size_t z = 0; z < r->npages; z++) {
    r->cur = SIZE_MAX;
    bw_tiff_msg_clear(&r->msg);
    if (!TIFFSetSubDirectory(r->tif, s->ifd[z]))
      return bw_tiff_fail_lib(err, bw_tiff_lib_status(r), &r->msg,
                              "level %d, page %zu: cannot read its directory", level, z);
    page_layout pl;
    sample_format fmt;
    uint32_t w = 0, h = 0;
    int skip = 0;
    bw_status st = bw_tiff_examine_directory(r, (unsigned)z, 1, &skip, &pl, &fmt, &w, &h, err);
    if (st == BW_OK && z == 0) {
      if (fmt.channels != fmt0->channels || fmt.dtype != fmt0->dtype)
        return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                            "level %d holds %d channels of %s, level 0 %d of %s: levels of "
                            "different pixel formats are not supported",
                            level, fmt.channels, bw_dtype_name(fmt.dtype), fmt0->channels,
                            bw_dtype_name(fmt0->dtype));
      *fmt0 = fmt;
      bw_tiff_take_layout(r, &pl, w, h);
    } else if (st == BW_OK) {
      st = bw_tiff_check_page(r, z, w, h, &fmt, fmt0, err);
    }
    if (st != BW_OK) return st;
    r->pages[z] = pl;
  }
  r->cur = r->npages - 1; /* the directory libtiff holds now */
  r->info.level = level;
  return BW_OK;
}

void bw_tiff_levels_free(bw_tiff_reader *r) {
  for (int i = 0; i < r->nsrc; i++) free(r->src[i].ifd);
  r->nsrc = 0;
}

bw_status bw_tiff_reader_level(const bw_tiff_reader *r, int level, bw_tiff_level *out,
                               bw_error *err) {
  if (!r || !out) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_reader_level: NULL argument");
  if (level < 0 || level >= r->info.levels)
    return bw_tiff_fail(err, BW_ERR_PARAM, "level %d does not exist: the file has %d", level,
                        r->info.levels);
  const bw_tiff_info *in = &r->info;
  const bw_tiff_level_src *cur = bw_tiff_level_src_of(r, in->level);
  const bw_tiff_level_src *s = bw_tiff_level_src_of(r, level);
  memset(out, 0, sizeof *out);
  const int nd = in->ndim;
  if (nd == 3) out->shape[0] = in->shape[0], out->spacing[0] = in->spacing[0];
  out->shape[nd - 2] = s->length;
  out->shape[nd - 1] = s->width;
  /* The spacing of level 0, from the current level's. */
  out->spacing[nd - 2] = in->spacing[nd - 2] / cur->scale[0] * s->scale[0];
  out->spacing[nd - 1] = in->spacing[nd - 1] / cur->scale[1] * s->scale[1];
  out->downsample = (s->scale[0] + s->scale[1]) / 2;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Pages                                                                    */
/* ------------------------------------------------------------------------ */

bw_status bw_tiff_select_page(bw_tiff_reader *r, size_t z, bw_error *err) {
  if (r->cur == z) return BW_OK;
  const page_layout *pl = &r->pages[z];
  r->cur = SIZE_MAX;
  bw_tiff_msg_clear(&r->msg);
  if (!TIFFSetSubDirectory(r->tif, pl->ifd))
    return bw_tiff_fail_lib(err, bw_tiff_lib_status(r), &r->msg,
                            "page %zu: cannot read its directory", z);
  /* The directory was read at open; a file changed since then is refused
   * rather than decoded with a stale layout. */
  uint32_t w = 0, h = 0;
  uint16_t compression = 0;
  TIFFGetField(r->tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(r->tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(r->tif, TIFFTAG_COMPRESSION, &compression);
  int tiled = TIFFIsTiled(r->tif) ? 1 : 0;
  uint32_t have = tiled ? TIFFNumberOfTiles(r->tif) : TIFFNumberOfStrips(r->tif);
  uint16_t predictor = PREDICTOR_NONE, fill = FILLORDER_MSB2LSB;
  if (bw_tiff_code_has_predictor(compression))
    TIFFGetFieldDefaulted(r->tif, TIFFTAG_PREDICTOR, &predictor);
  TIFFGetFieldDefaulted(r->tif, TIFFTAG_FILLORDER, &fill);
  int same = w == r->width && h == r->length && compression == pl->compression &&
             tiled == pl->tiled && have >= pl->nchunks && predictor == pl->predictor &&
             (fill == FILLORDER_LSB2MSB) == pl->reverse_bits;
  if (same && tiled) {
    uint32_t tw = 0, tl = 0;
    TIFFGetField(r->tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(r->tif, TIFFTAG_TILELENGTH, &tl);
    same = tw == pl->tw && tl == pl->tl;
  } else if (same) {
    uint32_t rps = UINT32_MAX;
    TIFFGetFieldDefaulted(r->tif, TIFFTAG_ROWSPERSTRIP, &rps);
    same = (rps > h ? h : rps) == pl->rps;
  }
  if (!same)
    return bw_tiff_fail(err, BW_ERR_PARAM, "page %zu: directory changed since the file was opened",
                        z);
  /* A pseudo-tag of the JPEG codec, reset with every directory. */
  if (pl->jpeg_rgb && !TIFFSetField(r->tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
    return bw_tiff_fail_lib(err, BW_ERR_PARAM, &r->msg, "page %zu: cannot decode YCbCr as RGB",
                            z);
  r->cur = z;
  return BW_OK;
}
