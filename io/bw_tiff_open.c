/* Opening a TIFF file for reading: the directory chain is read once, every
 * page checked against what this reader reads (pixel format, layout,
 * encoding, sizes that fit the file), and each page's layout recorded for
 * the reads (bw_tiff_decode.c). */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* a * b, or UINT64_MAX when that would overflow. */
static uint64_t mul_sat(uint64_t a, uint64_t b) {
  return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */
/* ------------------------------------------------------------------------ */

bw_status bw_tiff_examine_directory(bw_tiff_reader *r, unsigned dir, int as_level, int *skip,
                                    page_layout *pl, sample_format *fmt, uint32_t *w,
                                    uint32_t *h, bw_error *err) {
  TIFF *tif = r->tif;
  memset(pl, 0, sizeof *pl);
  *skip = 0;
  *w = *h = 0;
  bw_status st = bw_tiff_check_directory_extent(r, TIFFCurrentDirOffset(tif), dir, err);
  if (st != BW_OK) return st;
  uint32_t subfile = 0, width = 0, length = 0, depth = 1;
  int have_size = TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) &&
                  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &length);
  if (!as_level && TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile) &&
      (subfile & FILETYPE_REDUCEDIMAGE)) {
    /* A reduced-resolution copy: a level, if others make one with it;
     * transparency masks are not. */
    *skip = (subfile & FILETYPE_MASK) ? 2 : 1;
    if (have_size) *w = width, *h = length;
    return BW_OK;
  }
  if (!have_size)
    return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: image width or length missing", dir);
  if (width == 0 || length == 0)
    return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: zero-size image (%u x %u pixels)",
                        dir, width, length);
  if (TIFFGetField(tif, TIFFTAG_IMAGEDEPTH, &depth) && depth > 1)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: volumetric tiles (ImageDepth %u) are not supported",
                        dir, depth);

  st = bw_tiff_examine_samples(tif, dir, fmt, err);
  if (st != BW_OK) return st;
  /* Bits of one stored pixel of a plane (of one sample in planar files);
   * YCbCr JPEG is decoded to 8-bit RGB. */
  const uint64_t plane_spp = fmt->planar ? 1 : (uint64_t)fmt->spp;
  const uint64_t pixel_bits = plane_spp * (uint64_t)fmt->bits;

  uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (compression == COMPRESSION_OJPEG)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: old-style JPEG (TIFF 6.0's, compression 6) is not "
                        "supported",
                        dir);
  if (!TIFFIsCODECConfigured(compression))
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: compression %u (%s) is not supported by this libtiff",
                        dir, compression, bw_tiff_code_name(compression));
  uint16_t fill = FILLORDER_MSB2LSB;
  TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fill);

  /* Checks that show a corrupt or truncated file come before the limits of
   * this reader, so that a corrupt file is reported as such (BW_ERR_PARAM)
   * rather than as a valid one beyond the limits (BW_ERR_UNSUPPORTED). */
  uint64_t row_bytes = ((uint64_t)width * pixel_bits + 7) / 8;
  uint64_t expected, chunk_bytes;
  int raw = compression == COMPRESSION_NONE;
  pl->compression = compression;
  pl->reverse_bits = fill == FILLORDER_LSB2MSB;
  pl->predictor = PREDICTOR_NONE;
  if (bw_tiff_code_has_predictor(compression))
    TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &pl->predictor);
  pl->jpeg_rgb = fmt->jpeg_rgb;
  if (pl->jpeg_rgb && !TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: this libtiff cannot convert YCbCr JPEG to RGB", dir);
#ifdef BW_HAVE_LIBDEFLATE
  /* Differencing is undone here for one sample per pixel of whole bytes;
   * libtiff undoes the rest. */
  pl->inflate = (compression == COMPRESSION_ADOBE_DEFLATE || compression == COMPRESSION_DEFLATE) &&
                (pl->predictor == PREDICTOR_NONE ||
                 (pl->predictor == PREDICTOR_HORIZONTAL && plane_spp == 1 &&
                  fmt->bits % 8 == 0 && fmt->bits <= 64)) &&
                !pl->reverse_bits;
#endif
  if (TIFFIsTiled(tif)) {
    uint32_t tw = 0, tl = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &tl);
    if (tw == 0 || tl == 0)
      return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: tile size %u x %u is invalid", dir,
                          tw, tl);
    if ((uint64_t)tw * pixel_bits > (uint64_t)UINT32_MAX * 8)
      return bw_tiff_fail(err, BW_ERR_UNSUPPORTED, "directory %u: tiles %u pixels wide", dir,
                          tw);
    pl->chunk_row_bytes = (uint32_t)(((uint64_t)tw * pixel_bits + 7) / 8);
    chunk_bytes = mul_sat(pl->chunk_row_bytes, tl);
    expected = ((uint64_t)width + tw - 1) / tw * (((uint64_t)length + tl - 1) / tl);
    pl->tiled = 1;
    pl->tw = tw;
    pl->tl = tl;
  } else {
    uint32_t rps = UINT32_MAX;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps == 0)
      return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: RowsPerStrip is 0", dir);
    if (rps > length) rps = length;
    chunk_bytes = mul_sat(row_bytes, rps);
    pl->chunk_row_bytes = row_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)row_bytes;
    expected = ((uint64_t)length + rps - 1) / rps;
    pl->rps = rps;
    pl->raw_rows = raw;
  }
  const char *what = pl->tiled ? "tiles" : "strips";
  /* Planar-separate files hold one set of strips or tiles per sample. */
  const uint64_t planes = fmt->planar ? (uint64_t)fmt->spp : 1;
  const uint64_t per_plane = expected;
  expected = mul_sat(expected, planes);
  /* Each strip or tile has an offset in the file, at least 2 bytes (SHORT)
   * when there are several: more than the file can hold means a corrupt
   * header, not a reason to allocate. */
  if (expected > 1 && expected > r->file.size / 2)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u: %llu %s cannot be described in a file of %llu bytes",
                        dir, (unsigned long long)expected, what,
                        (unsigned long long)r->file.size);
  /* Uncompressed pixels are stored whole, and the codecs below shrink data
   * by a bounded factor: a file too small to hold the page is cut short or
   * corrupt. */
  uint64_t decoded = mul_sat(pl->tiled ? mul_sat(per_plane, chunk_bytes) : mul_sat(length, row_bytes),
                             planes);
  uint64_t ratio = bw_tiff_code_max_ratio(compression);
  if (ratio && decoded / ratio > r->file.size)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u: %u x %u pixels (%llu bytes, %s) do not fit in a file "
                        "of %llu bytes: the file is truncated or corrupt",
                        dir, width, length, (unsigned long long)decoded,
                        bw_tiff_code_name(compression), (unsigned long long)r->file.size);
  /* Valid, but beyond what this reader holds in memory at once. */
  if (pl->tiled && chunk_bytes > BW_TIFF_MAX_CHUNK)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: tiles of %u x %u pixels (%llu bytes) exceed the "
                        "limit of 1 GiB",
                        dir, pl->tw, pl->tl, (unsigned long long)chunk_bytes);
  if (!pl->tiled && row_bytes > BW_TIFF_MAX_CHUNK)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: rows of %llu bytes exceed the limit of 1 GiB", dir,
                        (unsigned long long)row_bytes);
  if (!pl->tiled && !raw && chunk_bytes > BW_TIFF_MAX_CHUNK)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: compressed strips of %u rows (%llu bytes) exceed "
                        "the limit of 1 GiB",
                        dir, pl->rps, (unsigned long long)chunk_bytes);
  if (expected > UINT32_MAX)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED, "directory %u: %llu %s is too many", dir,
                        (unsigned long long)expected, what);
  uint32_t have = pl->tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
  if (have < expected)
    return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: %u %s, %llu expected", dir, have,
                        what, (unsigned long long)expected);
  pl->nchunks = (uint32_t)per_plane;
  pl->ifd = TIFFCurrentDirOffset(tif);
  *w = width;
  *h = length;
  return BW_OK;
}

static bw_status add_page(bw_tiff_reader *r, const page_layout *pl, bw_error *err) {
  if (r->npages == r->pages_cap) {
    size_t cap = r->pages_cap ? 2 * r->pages_cap : 8;
    page_layout *p = (page_layout *)realloc(r->pages, cap * sizeof *p);
    if (!p) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the page table");
    r->pages = p;
    r->pages_cap = cap;
  }
  r->pages[r->npages++] = *pl;
  return BW_OK;
}

/* Sets the reader's sample fields and info's channel fields from the
 * format every page shares. */
static bw_status take_format(bw_tiff_reader *r, const sample_format *f, bw_error *err) {
  bw_tiff_info *in = &r->info;
  in->dtype = f->dtype;
  in->channels = f->channels;
  in->color = f->color;
  in->alpha = f->alpha;
  in->planar = f->planar;
  in->bits_per_sample = f->bits;
  in->photometric_name = f->photometric_name;
  r->esize = bw_dtype_size(f->dtype);
  r->spp = f->spp;
  r->planes = f->planar ? f->spp : 1;
  r->plane_spp = f->planar ? 1 : f->spp;
  /* YCbCr JPEG is decoded to 8-bit RGB. */
  r->bits = f->bits;
  r->sample_bytes = f->bits % 8 == 0 && f->bits <= 64 ? f->bits / 8 : 0;
  r->pixel_bytes = r->sample_bytes ? (size_t)r->sample_bytes * (size_t)r->plane_spp : 0;
  r->row_bytes = ((uint64_t)r->width * (uint64_t)r->plane_spp * (uint64_t)f->bits + 7) / 8;
  r->conv = f->conv;
  r->invert = f->invert;
  r->invert_mask = f->conv == CONV_BITS ? (((uint64_t)1 << f->bits) - 1)
                   : r->esize >= 8      ? UINT64_MAX
                                        : (((uint64_t)1 << (8 * r->esize)) - 1);
  r->plain = f->channels == 1 && f->conv == CONV_COPY && !f->invert;
  if (f->conv != CONV_PALETTE) return BW_OK;
  /* The colour map of the first kept page (libtiff's current directory is
   * the last one read: go back to it). */
  bw_status st = bw_tiff_select_page(r, 0, err);
  return st == BW_OK ? bw_tiff_make_lut(r, r->tif, err) : st;
}

/* Reads the metadata of libtiff's current directory (the first kept page)
 * into *m and r->info, moving the channel names to r. */
static void take_meta(bw_tiff_reader *r, bw_tiff_meta *m) {
  /* ResolutionUnit as stored: libtiff drops the millimetre and micrometre
   * codes some writers use, and would then report inches. */
  uint64_t unit =
      bw_tiff_directory_value(&r->file, TIFFCurrentDirOffset(r->tif), TIFFIsBigTIFF(r->tif) ? 1 : 0,
                              TIFFIsBigEndian(r->tif) ? 1 : 0, TIFFTAG_RESOLUTIONUNIT);
  bw_tiff_read_meta(r->tif, unit == UINT64_MAX ? -1 : unit > 0xFFFF ? 0 : (int)unit, m);
  bw_tiff_info *in = &r->info;
  for (int i = 0; i < 3; i++) in->spacing[i] = m->spacing[i];
  in->spacing_stated = m->stated;
  in->spacing_source = m->source;
  in->description_format = m->format;
  in->meta_channels = m->channels;
  in->meta_z = m->z;
  in->meta_t = m->t;
  /* Names go with channels one to one: one Channel element per sample. */
  r->nnames = m->ome.channels;
  for (int c = 0; c < BW_TIFF_MAX_CHANNELS; c++) {
    if (m->ome.channel_spp[c] > 1) r->nnames = 0;
    r->names[c] = m->ome.names[c];
    m->ome.names[c] = NULL;
  }
}

bw_status bw_tiff_check_page(const bw_tiff_reader *r, size_t z, uint32_t w, uint32_t h,
                             const sample_format *fmt, const sample_format *fmt0, bw_error *err) {
  if (w != r->width || h != r->length)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "page %zu is %u x %u pixels, page 0 is %u x %u: pages of "
                        "different sizes are not supported",
                        z, w, h, r->width, r->length);
  if (fmt->dtype != fmt0->dtype || fmt->bits != fmt0->bits)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "page %zu holds %d-bit %s samples, page 0 %d-bit %s: pages of "
                        "different types are not supported",
                        z, fmt->bits, bw_dtype_name(fmt->dtype), fmt0->bits,
                        bw_dtype_name(fmt0->dtype));
  if (fmt->channels != fmt0->channels || fmt->spp != fmt0->spp ||
      fmt->planar != fmt0->planar || fmt->photometric != fmt0->photometric ||
      fmt->conv != fmt0->conv)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "page %zu is %s with %d samples per pixel%s, page 0 %s with %d%s: "
                        "pages of different pixel formats are not supported",
                        z, fmt->photometric_name, fmt->spp, fmt->planar ? " (planar)" : "",
                        fmt0->photometric_name, fmt0->spp, fmt0->planar ? " (planar)" : "");
  return BW_OK;
}

/* The layout fields of info that page 0 gives. */
void bw_tiff_take_layout(bw_tiff_reader *r, const page_layout *pl, uint32_t w, uint32_t h) {
  r->width = w;
  r->length = h;
  r->info.compression = pl->compression;
  r->info.compression_name = bw_tiff_code_name(pl->compression);
  r->info.tiled = pl->tiled;
  r->info.tile_width = pl->tw;
  r->info.tile_length = pl->tl;
  r->info.rows_per_strip = pl->rps;
}

/* Reads the directory chain of the file in r->file, and opens level
 * @level of it. */
static bw_status reader_init(bw_tiff_reader *r, const char *name, int level, bw_error *err) {
  r->cur = SIZE_MAX;
  bw_tiff_msg_clear(&r->msg);
  /* r: read; m: no memory mapping; c: no strip chopping (uncompressed strips
   * are read by rows here). */
  r->tif = bw_tiff_client_open(&r->file, name, "rmc", &r->msg);
  if (!r->tif) {
    if (r->file.io_errno)
      return bw_tiff_fail(err, BW_ERR_IO, "cannot read %s: %s", name,
                          strerror(r->file.io_errno));
    /* Said in words where libtiff's own text would not be. */
    if (r->msg.set && (bw_tiff_first_directory_value(&r->file, TIFFTAG_IMAGEWIDTH) == 0 ||
                       bw_tiff_first_directory_value(&r->file, TIFFTAG_IMAGELENGTH) == 0))
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "not a readable TIFF file: the first image is a zero-size image "
                          "(ImageWidth or ImageLength is 0)");
    char why[256];
    bw_tiff_header_problem(&r->file, why, sizeof why);
    return bw_tiff_fail(err, BW_ERR_PARAM, "not a readable TIFF file: %s", why);
  }
  TIFF *tif = r->tif;
  r->swapped = TIFFIsByteSwapped(tif) ? 1 : 0;
  sample_format fmt0;
  memset(&fmt0, 0, sizeof fmt0);
  int last_kept = 0;        /* libtiff holds the directory of the last page */
  int volume = 0;           /* the first page's description marks a volume */
  double volume_images = 0; /* and announces this many images */
  bw_tiff_meta meta;        /* the first page's metadata (names moved to r) */
  memset(&meta, 0, sizeof meta);
  for (unsigned dir = 0;; dir++) {
    page_layout pl;
    sample_format fmt;
    uint32_t w = 0, h = 0;
    int skip = 0;
    const uint64_t ifd = TIFFCurrentDirOffset(tif);
    bw_status st = bw_tiff_examine_directory(r, dir, 0, &skip, &pl, &fmt, &w, &h, err);
    if (st != BW_OK) return st;
    if (skip == 0 && r->npages == 1 && bw_tiff_reduced_size(r, w, h)) {
      /* A smaller copy of a single image, unmarked (as some writers of
       * pyramids leave them): a level, not a page. */
      skip = 1;
    }
    if (skip == 1) {
      st = bw_tiff_levels_note(r, -1, w, h, ifd, err);
    } else if (skip == 0) {
      if (r->npages == 0) {
        fmt0 = fmt;
        bw_tiff_take_layout(r, &pl, w, h);
        take_meta(r, &meta);
        volume = bw_tiff_description_volume(tif, &volume_images);
      } else {
        st = bw_tiff_check_page(r, r->npages, w, h, &fmt, &fmt0, err);
      }
      if (st == BW_OK) st = add_page(r, &pl, err);
      /* SubIFDs of this page: its reduced copies (OME-TIFF's levels). */
      uint16_t nsub = 0;
      uint64_t *sub = NULL;
      if (st == BW_OK && TIFFGetField(tif, TIFFTAG_SUBIFD, &nsub, &sub) && sub)
        for (int k = 0; k < (int)nsub && k < BW_TIFF_MAX_LEVELS && st == BW_OK; k++)
          st = bw_tiff_levels_note(r, k, 0, 0, sub[k], err);
    }
    if (st != BW_OK) return st;
    last_kept = skip == 0;
    if (TIFFLastDirectory(tif)) break;
    bw_tiff_msg_clear(&r->msg);
    if (!TIFFReadDirectory(tif)) {
      if (!r->msg.set && !r->file.io_errno) break; /* no further directory */
      if (r->file.io_errno)
        return bw_tiff_fail(err, BW_ERR_IO, "directory %u: %s", dir + 1,
                            strerror(r->file.io_errno));
      return bw_tiff_fail_lib(err, BW_ERR_PARAM, &r->msg, "directory %u is corrupt", dir + 1);
    }
  }
  if (r->npages == 0)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "the file holds only reduced-resolution images");
  bw_status mst = bw_tiff_meta_check(&meta, fmt0.spp, r->npages, err);
  if (mst != BW_OK) return mst;
  if (r->npages == 1 && volume && volume_images > 1)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "the description announces %.0f images but the file holds one page: "
                        "stacks stored after a single directory (ImageJ's layout for large "
                        "files) are not supported",
                        volume_images);
  /* The last page's directory stays libtiff's current one, for the first
   * read, unless finding or loading levels moves it. */
  r->cur = last_kept ? r->npages - 1 : SIZE_MAX;
  bw_status st = bw_tiff_levels_finish(r, err);
  if (st == BW_OK && level != 0) st = bw_tiff_levels_load(r, level, &fmt0, err);
  if (st != BW_OK) return st;
  st = take_format(r, &fmt0, err);
  if (st != BW_OK) return st;

  bw_tiff_info *in = &r->info;
  if (r->npages > 1 || volume) {
    in->ndim = 3;
    in->shape[0] = (int64_t)r->npages;
    in->shape[1] = r->length;
    in->shape[2] = r->width;
  } else {
    in->ndim = 2;
    in->shape[0] = r->length;
    in->shape[1] = r->width;
    in->shape[2] = 0;
    /* bw_tiff_read_spacing() gave (Z, Y, X). */
    in->spacing[0] = in->spacing[1];
    in->spacing[1] = in->spacing[2];
    in->spacing[2] = 1;
  }
  /* A level's pixels are larger by its downsample on each axis. */
  const bw_tiff_level_src *lv = bw_tiff_level_src_of(r, level);
  in->spacing[in->ndim - 1] *= lv->scale[1];
  in->spacing[in->ndim - 2] *= lv->scale[0];
  in->bigtiff = TIFFIsBigTIFF(tif) ? 1 : 0;
  in->big_endian = TIFFIsBigEndian(tif) ? 1 : 0;
  return BW_OK;
}

static void reader_free(bw_tiff_reader *r) {
  if (!r) return;
  if (r->tif) TIFFClose(r->tif);
  if (r->file.fd >= 0) close(r->file.fd);
  free(r->pages);
  bw_tiff_levels_free(r);
  free(r->lut);
  for (int c = 0; c < BW_TIFF_MAX_CHANNELS; c++) free(r->names[c]);
  bw_tiff_decode_free(r);
  free(r);
}

static bw_tiff_reader *reader_alloc(void) {
  bw_tiff_reader *r = (bw_tiff_reader *)calloc(1, sizeof *r);
  if (!r) return NULL;
  r->file.fd = -1;
  r->cur = SIZE_MAX;
  return r;
}

bw_status bw_tiff_open(const char *path, bw_tiff_reader **out, bw_error *err) {
  return bw_tiff_open_level(path, 0, out, err);
}

bw_status bw_tiff_open_level(const char *path, int level, bw_tiff_reader **out, bw_error *err) {
  if (!out) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open: out is NULL");
  *out = NULL;
  if (!path) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open: path is NULL");
  if (level < 0)
    return bw_tiff_fail(err, BW_ERR_PARAM, "level %d does not exist: levels count from 0", level);
  bw_tiff_reader *r = reader_alloc();
  if (!r) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a reader");
  /* Non-blocking, so that a FIFO does not wait for a writer; reads of a
   * regular file are not affected. */
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int e = errno;
    reader_free(r);
    return bw_tiff_fail(err, BW_ERR_IO, "cannot open %s: %s", path, strerror(e));
  }
  r->file.fd = fd;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    reader_free(r);
    return bw_tiff_fail(err, BW_ERR_IO, "cannot open %s: %s", path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    reader_free(r);
    return bw_tiff_fail(err, BW_ERR_IO, "cannot open %s: not a regular file", path);
  }
  r->file.size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
  bw_status st = reader_init(r, path, level, err);
  if (st != BW_OK) {
    reader_free(r);
    return st;
  }
  *out = r;
  return BW_OK;
}

bw_status bw_tiff_open_memory(const void *data, size_t size, bw_tiff_reader **out,
                              bw_error *err) {
  return bw_tiff_open_memory_level(data, size, 0, out, err);
}

bw_status bw_tiff_open_memory_level(const void *data, size_t size, int level,
                                    bw_tiff_reader **out, bw_error *err) {
  if (!out) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open_memory: out is NULL");
  *out = NULL;
  if (!data) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open_memory: data is NULL");
  if (level < 0)
    return bw_tiff_fail(err, BW_ERR_PARAM, "level %d does not exist: levels count from 0", level);
  bw_tiff_reader *r = reader_alloc();
  if (!r) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a reader");
  r->file.mem = (const unsigned char *)data;
  r->file.size = size;
  bw_status st = reader_init(r, "memory", level, err);
  if (st != BW_OK) {
    reader_free(r);
    return st;
  }
  *out = r;
  return BW_OK;
}

const bw_tiff_info *bw_tiff_reader_info(const bw_tiff_reader *r) {
  return r ? &r->info : NULL;
}

const char *bw_tiff_channel_name(const bw_tiff_reader *r, int c) {
  if (!r || c < 0 || c >= r->info.channels || r->nnames != r->info.channels) return NULL;
  return r->names[c];
}

void bw_tiff_reader_counters(const bw_tiff_reader *r, bw_tiff_counters *c) {
  if (!c) return;
  c->bytes_read = r ? r->file.bytes_read : 0;
  c->chunks_decoded = r ? r->chunks_decoded : 0;
}

void bw_tiff_close(bw_tiff_reader *r) { reader_free(r); }
