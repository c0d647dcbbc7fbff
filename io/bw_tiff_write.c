/* Streaming TIFF writer: rows arrive in order, one strip (or one row of
 * tiles) is held in memory, each page becomes a directory, and the file is
 * renamed into place only when it is complete. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Default strip size: rows of about this many bytes. */
#define BW_TIFF_STRIP_TARGET 65536u

/* Classic TIFF offsets are 32-bit. */
#define BW_TIFF_CLASSIC_LIMIT 4294967295.0

struct bw_tiff_writer {
  bw_tiff_file file;
  TIFF *tif;
  bw_tiff_msg msg;
  bw_tiff_write_params p;
  char *path; /* final name */
  char *tmp;  /* temporary name, while it exists */
  size_t esize;        /* bytes of a pixel: channels x element */
  uint32_t width, length, pages;
  uint64_t row_bytes;
  uint64_t total_rows; /* pages * length */
  uint64_t next_row;   /* rows received so far, over all pages */
  uint32_t chunk_rows; /* rows per strip, or tile length */
  uint32_t rps;        /* rows per strip (striped) */
  uint32_t across;     /* tiles per row of tiles */
  unsigned char *buf;  /* chunk_rows rows of the image */
  uint32_t buf_rows;   /* rows in buf */
  uint32_t buf_first;  /* row (within its page) of buf's first row */
  unsigned char *tile; /* one tile, tiled files */
  bw_status failed;    /* BW_OK, or the status that ended the writer */
  char fail_message[sizeof(((bw_error *)0)->message)];
  char description[BW_TIFF_DESCRIPTION_MAX];
  char software[48];
};

void bw_tiff_write_params_init(bw_tiff_write_params *p) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->dtype = BW_U8;
  p->channels = 1;
  p->ndim = 2;
  p->spacing[0] = p->spacing[1] = p->spacing[2] = 1.0;
  p->compression = BW_TIFF_NONE;
  p->level = 0;
  p->predictor = 0;
  p->tiled = 0;
  p->tile_width = 256;
  p->tile_length = 256;
  p->rows_per_strip = 0;
  p->bigtiff = -1;
}

/* Checks *p and derives the layout; fills w's geometry fields. */
static bw_status validate(const bw_tiff_write_params *p, bw_tiff_writer *w, bw_error *err) {
  const char *fn = "bw_tiff_create";
  w->esize = bw_dtype_size(p->dtype);
  if (w->esize == 0)
    return bw_tiff_fail(err, BW_ERR_DTYPE, "%s: dtype %d is not an element type", fn,
                        (int)p->dtype);
  if (p->channels < 1 || p->channels > BW_TIFF_WRITE_MAX_CHANNELS)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: %d channels; 1 to %d expected", fn, p->channels,
                        BW_TIFF_WRITE_MAX_CHANNELS);
  w->esize *= (size_t)p->channels;
  if (p->ndim != 2 && p->ndim != 3)
    return bw_tiff_fail(err, BW_ERR_NDIM, "%s: ndim %d; 2 (one page) or 3 (pages) expected", fn,
                        p->ndim);
  for (int i = 0; i < p->ndim; i++)
    if (p->shape[i] < 1 || p->shape[i] > (int64_t)UINT32_MAX)
      return bw_tiff_fail(err, BW_ERR_SHAPE, "%s: shape[%d] = %lld; 1 to %u expected", fn, i,
                          (long long)p->shape[i], UINT32_MAX);
  for (int i = 0; i < p->ndim; i++)
    if (!isfinite(p->spacing[i]) || !(p->spacing[i] > 0))
      return bw_tiff_fail(err, BW_ERR_PARAM, "%s: spacing[%d] = %g; a positive number expected",
                          fn, i, p->spacing[i]);
  const char *cname = bw_tiff_compression_name(p->compression);
  if (!cname)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: compression %d is not a bw_tiff_compression", fn,
                        (int)p->compression);
  if (!bw_tiff_compression_available(p->compression))
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: compression %s is not available in this libtiff",
                        fn, cname);
  const int max_level = bw_tiff_compression_max_level(p->compression);
  if (max_level > 0 && (p->level < 0 || p->level > max_level))
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: %s level %d; 0 (default) to %d expected", fn,
                        cname, p->level, max_level);
  if (max_level == 0 && p->level != 0)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: level %d given, but %s compression has no level",
                        fn, p->level, cname);
  if (p->predictor != 0 && p->predictor != 1)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: predictor %d; 0 or 1 expected", fn,
                        p->predictor);
  if (p->predictor && !bw_tiff_compression_has_predictor(p->compression))
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "%s: a predictor needs lzw, deflate or zstd compression, not %s", fn,
                        cname);
  if (p->tiled != 0 && p->tiled != 1)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: tiled %d; 0 or 1 expected", fn, p->tiled);
  if (p->bigtiff < -1 || p->bigtiff > 1)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: bigtiff %d; -1 (auto), 0 or 1 expected", fn,
                        p->bigtiff);

  w->pages = p->ndim == 3 ? (uint32_t)p->shape[0] : 1;
  w->length = (uint32_t)p->shape[p->ndim - 2];
  w->width = (uint32_t)p->shape[p->ndim - 1];
  w->row_bytes = (uint64_t)w->width * w->esize;
  w->total_rows = (uint64_t)w->pages * w->length;
  double chunks_per_page;
  double data_bytes; /* uncompressed pixel bytes as stored (tiles padded) */
  if (p->tiled) {
    if (p->tile_width < 16 || p->tile_width % 16 || p->tile_length < 16 ||
        p->tile_length % 16)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "%s: tile size %u x %u; both must be multiples of 16", fn,
                          p->tile_width, p->tile_length);
    uint64_t tile_bytes = (uint64_t)p->tile_width * p->tile_length * w->esize;
    if (tile_bytes > BW_TIFF_MAX_CHUNK)
      return bw_tiff_fail(err, BW_ERR_PARAM, "%s: tiles of %u x %u pixels of %d %s exceed 1 GiB",
                          fn, p->tile_width, p->tile_length, p->channels,
                          bw_dtype_name(p->dtype));
    w->across = (uint32_t)(((uint64_t)w->width + p->tile_width - 1) / p->tile_width);
    uint64_t down = ((uint64_t)w->length + p->tile_length - 1) / p->tile_length;
    uint64_t tile_row = (uint64_t)w->across * p->tile_width * p->tile_length * w->esize;
    if (tile_row > BW_TIFF_MAX_CHUNK)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "%s: a row of tiles (%u tiles of %u x %u) exceeds 1 GiB; use "
                          "shorter tiles",
                          fn, w->across, p->tile_width, p->tile_length);
    if ((uint64_t)w->across * down > UINT32_MAX)
      return bw_tiff_fail(err, BW_ERR_PARAM, "%s: more than 2^32 tiles per page", fn);
    w->chunk_rows = p->tile_length;
    chunks_per_page = (double)w->across * (double)down;
    data_bytes = (double)w->pages * chunks_per_page * (double)tile_bytes;
  } else {
    uint64_t rps = p->rows_per_strip;
    if (rps == 0) {
      rps = BW_TIFF_STRIP_TARGET / w->row_bytes;
      if (rps < 1) rps = 1;
    }
    if (rps > w->length) rps = w->length;
    if (rps * w->row_bytes > BW_TIFF_MAX_CHUNK)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "%s: strips of %llu rows of %llu bytes exceed 1 GiB; use fewer rows "
                          "per strip",
                          fn, (unsigned long long)rps, (unsigned long long)w->row_bytes);
    w->rps = (uint32_t)rps;
    w->chunk_rows = w->rps;
    chunks_per_page = ceil((double)w->length / (double)rps);
    data_bytes = (double)w->total_rows * (double)w->row_bytes;
  }

  /* A conservative size: compressed data may exceed raw size (LZW by up to
   * half, PackBits up to double on tiny rows), plus per-chunk offsets and
   * counts, per-page directories and the header. */
  double factor = 1.0;
  switch (p->compression) {
  case BW_TIFF_NONE: factor = 1.0; break;
  case BW_TIFF_LZW: factor = 1.5; break;
  case BW_TIFF_PACKBITS: factor = 2.0; break;
  case BW_TIFF_DEFLATE:
  case BW_TIFF_ZSTD: factor = 1.1; break;
  }
  double estimate = data_bytes * factor + (double)w->pages * (chunks_per_page * 64.0 + 4096.0) +
                    65536.0;
  int need_big = estimate >= BW_TIFF_CLASSIC_LIMIT;
  if (p->bigtiff == 0 && need_big && p->compression == BW_TIFF_NONE)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "%s: the image needs %.0f bytes, more than classic TIFF holds (4 GiB); "
                        "allow BigTIFF (bigtiff -1 or 1)",
                        fn, estimate);
  w->p = *p;
  w->p.bigtiff = p->bigtiff == 1 || (p->bigtiff == -1 && need_big);
  return BW_OK;
}

/* Sets the tags of page @page, before its first pixel. */
static int set_page_tags(bw_tiff_writer *w, uint32_t page) {
  TIFF *tif = w->tif;
  const bw_tiff_write_params *p = &w->p;
  uint16_t fmt, bits;
  bw_tiff_dtype_format(p->dtype, &fmt, &bits);
  int nd = p->ndim;
  int ok = 1;
  ok &= TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w->width);
  ok &= TIFFSetField(tif, TIFFTAG_IMAGELENGTH, w->length);
  ok &= TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bits);
  ok &= TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)p->channels);
  ok &= TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, fmt);
  if (p->channels > 1) {
    /* Grey with extra samples of no stated meaning: every sample is a
     * channel, not colour. */
    uint16_t extra[BW_TIFF_WRITE_MAX_CHANNELS - 1];
    for (int c = 0; c < p->channels - 1; c++) extra[c] = EXTRASAMPLE_UNSPECIFIED;
    ok &= TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (uint16_t)(p->channels - 1), extra);
  }
  ok &= TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  ok &= TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  ok &= TIFFSetField(tif, TIFFTAG_COMPRESSION, bw_tiff_compression_code(p->compression));
  if (p->predictor)
    ok &= TIFFSetField(tif, TIFFTAG_PREDICTOR,
                       fmt == SAMPLEFORMAT_IEEEFP ? PREDICTOR_FLOATINGPOINT
                                                  : PREDICTOR_HORIZONTAL);
  if (p->level && p->compression == BW_TIFF_DEFLATE)
    ok &= TIFFSetField(tif, TIFFTAG_ZIPQUALITY, p->level);
#ifdef TIFFTAG_ZSTD_LEVEL
  if (p->level && p->compression == BW_TIFF_ZSTD)
    ok &= TIFFSetField(tif, TIFFTAG_ZSTD_LEVEL, p->level);
#endif
  if (p->tiled) {
    ok &= TIFFSetField(tif, TIFFTAG_TILEWIDTH, p->tile_width);
    ok &= TIFFSetField(tif, TIFFTAG_TILELENGTH, p->tile_length);
  } else {
    ok &= TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, w->rps);
  }
  ok &= bw_tiff_set_spacing_tags(tif, nd, p->spacing, w->description);
  ok &= TIFFSetField(tif, TIFFTAG_SOFTWARE, w->software);
  if (nd == 3) {
    ok &= TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    if (w->pages <= 65535)
      ok &= TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)page, (uint16_t)w->pages);
  }
  return ok;
}

/* Ends the writer after a failure: records the error, removes the
 * temporary file.  Returns the status. */
static bw_status fail_writer(bw_tiff_writer *w, bw_error *err, const char *what) {
  bw_error e;
  if (w->file.io_errno)
    bw_tiff_fail(&e, BW_ERR_IO, "%s: %s", what, strerror(w->file.io_errno));
  else
    bw_tiff_fail_lib(&e, BW_ERR_PARAM, &w->msg, "%s failed", what);
  w->failed = e.status;
  memcpy(w->fail_message, e.message, sizeof w->fail_message);
  if (w->tif) {
    TIFFCleanup(w->tif);
    w->tif = NULL;
  }
  if (w->file.fd >= 0) {
    close(w->file.fd);
    w->file.fd = -1;
  }
  if (w->tmp) {
    unlink(w->tmp);
    free(w->tmp);
    w->tmp = NULL;
  }
  if (err) *err = e;
  return e.status;
}

static void writer_free(bw_tiff_writer *w) {
  if (!w) return;
  if (w->tif) TIFFCleanup(w->tif);
  if (w->file.fd >= 0) close(w->file.fd);
  if (w->tmp) {
    unlink(w->tmp);
    free(w->tmp);
  }
  free(w->path);
  free(w->buf);
  free(w->tile);
  free(w);
}

/* Creates the temporary file next to w->path. */
static bw_status create_temp(bw_tiff_writer *w, bw_error *err) {
  size_t n = strlen(w->path) + 48;
  w->tmp = (char *)malloc(n);
  if (!w->tmp) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a file name");
  long pid = (long)getpid();
  for (unsigned attempt = 0; attempt < 1000; attempt++) {
    snprintf(w->tmp, n, "%s.tmp-%ld-%u", w->path, pid, attempt);
    int fd = open(w->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      w->file.fd = fd;
      return BW_OK;
    }
    if (errno == EINTR || errno == EEXIST) continue;
    int e = errno;
    free(w->tmp);
    w->tmp = NULL;
    return bw_tiff_fail(err, BW_ERR_IO, "cannot create a file next to %s: %s", w->path,
                        strerror(e));
  }
  free(w->tmp);
  w->tmp = NULL;
  return bw_tiff_fail(err, BW_ERR_IO, "cannot create a temporary file next to %s", w->path);
}

bw_status bw_tiff_create(const char *path, const bw_tiff_write_params *p,
                         bw_tiff_writer **out, bw_error *err) {
  if (!out) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_create: out is NULL");
  *out = NULL;
  if (!path || !p)
    return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_create: %s is NULL", path ? "params" : "path");
  if (!*path) return bw_tiff_fail(err, BW_ERR_PARAM, "bw_tiff_create: empty path");
  bw_tiff_writer *w = (bw_tiff_writer *)calloc(1, sizeof *w);
  if (!w) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a writer");
  w->file.fd = -1;
  bw_status st = validate(p, w, err);
  if (st != BW_OK) {
    writer_free(w);
    return st;
  }
  w->path = (char *)malloc(strlen(path) + 1);
  if (!w->path) {
    writer_free(w);
    return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a file name");
  }
  strcpy(w->path, path);

  /* Buffers first: nothing is created if memory is short. */
  w->buf = (unsigned char *)malloc((size_t)(w->chunk_rows * w->row_bytes));
  if (w->p.tiled)
    w->tile = (unsigned char *)malloc((size_t)w->p.tile_width * w->p.tile_length * w->esize);
  if (!w->buf || (w->p.tiled && !w->tile)) {
    const char *what = w->p.tiled ? "tile" : "strip";
    writer_free(w);
    return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the %s buffer", what);
  }

  bw_tiff_describe(w->description, w->p.ndim, w->pages, w->p.spacing);
  snprintf(w->software, sizeof w->software, "Blockwise %s", bw_version_string());

  st = create_temp(w, err);
  if (st != BW_OK) {
    writer_free(w);
    return st;
  }
  bw_tiff_msg_clear(&w->msg);
  w->tif = bw_tiff_client_open(&w->file, w->path, w->p.bigtiff ? "w8m" : "wm", &w->msg);
  if (!w->tif) {
    st = fail_writer(w, err, "creating the file");
    writer_free(w);
    return st;
  }
  if (!set_page_tags(w, 0)) {
    st = fail_writer(w, err, "setting the tags");
    writer_free(w);
    return st;
  }
  *out = w;
  return BW_OK;
}

/* Writes the rows in buf as one strip or one row of tiles. */
static bw_status flush_chunk(bw_tiff_writer *w, bw_error *err) {
  bw_tiff_msg_clear(&w->msg);
  if (!w->p.tiled) {
    uint32_t strip = w->buf_first / w->rps;
    tmsize_t n = (tmsize_t)(w->buf_rows * w->row_bytes);
    if (TIFFWriteEncodedStrip(w->tif, strip, w->buf, n) != n)
      return fail_writer(w, err, "writing a strip");
  } else {
    uint32_t tw = w->p.tile_width, tl = w->p.tile_length;
    uint32_t ty = w->buf_first / tl;
    size_t es = w->esize;
    size_t tile_row = (size_t)tw * es;
    tmsize_t tile_bytes = (tmsize_t)(tile_row * tl);
    for (uint32_t tx = 0; tx < w->across; tx++) {
      uint64_t x0 = (uint64_t)tx * tw;
      size_t cols = (size_t)(w->width - x0 < tw ? w->width - x0 : tw);
      for (uint32_t r = 0; r < tl; r++) {
        unsigned char *dst = w->tile + (size_t)r * tile_row;
        if (r < w->buf_rows) {
          memcpy(dst, w->buf + r * w->row_bytes + x0 * es, cols * es);
          if (cols < tw) memset(dst + cols * es, 0, (tw - cols) * es);
        } else {
          memset(dst, 0, tile_row);
        }
      }
      if (TIFFWriteEncodedTile(w->tif, ty * w->across + tx, w->tile, tile_bytes) != tile_bytes)
        return fail_writer(w, err, "writing a tile");
    }
  }
  w->buf_first += w->buf_rows;
  w->buf_rows = 0;
  return BW_OK;
}

/* After the last row of a page: writes its directory, starts the next. */
static bw_status end_page(bw_tiff_writer *w, uint32_t page, bw_error *err) {
  bw_tiff_msg_clear(&w->msg);
  if (!TIFFWriteDirectory(w->tif)) return fail_writer(w, err, "writing a directory");
  w->buf_first = 0;
  if (page + 1 < w->pages && !set_page_tags(w, page + 1))
    return fail_writer(w, err, "setting the tags");
  return BW_OK;
}

/* One row of a pixel's @nc channels, each from its view's row @row_c[c]
 * (X stride @stride[c]), into @dst interleaved. */
static void copy_channels_row(unsigned char *dst, const char *const *row_c,
                              const ptrdiff_t *stride, int nc, uint32_t width, size_t es) {
  int interleaved = 1; /* views one element apart over pixels of nc elements */
  for (int c = 0; c < nc; c++)
    interleaved &= stride[c] == stride[0] && row_c[c] == row_c[0] + (ptrdiff_t)c * (ptrdiff_t)es;
  if (interleaved) {
    bw_tiff_copy_from_strided(dst, row_c[0], stride[0], width, es * (size_t)nc);
    return;
  }
  for (int c = 0; c < nc; c++) {
    unsigned char *d = dst + (size_t)c * es;
    const char *src = row_c[c];
    for (uint32_t x = 0; x < width; x++, d += es * (size_t)nc, src += stride[c]) memcpy(d, src, es);
  }
}

/* bw_tiff_write() and bw_tiff_write_channels(): @src holds one view per
 * channel of the file. */
static bw_status write_region(bw_tiff_writer *w, const char *fn, const bw_region *region,
                              const bw_view *src, bw_error *err) {
  const int nd = w->p.ndim, nc = w->p.channels;
  for (int c = 0; c < nc; c++) {
    char role[32];
    snprintf(role, sizeof role, nc == 1 ? "src" : "src[%d]", c);
    bw_status checked =
        bw_tiff_check_view(fn, role, nd, w->p.shape, w->p.dtype, region, &src[c], err);
    if (checked != BW_OK) return checked;
  }
  int ay = nd - 2, ax = nd - 1;
  if (region->start[ax] != 0 || region->size[ax] != (ptrdiff_t)w->width)
    return bw_tiff_fail(err, BW_ERR_REGION, "%s: regions must span whole rows (columns 0 to %u)",
                        fn, w->width);
  if (nd == 3 && region->size[0] > 1 &&
      (region->start[1] != 0 || region->size[1] != (ptrdiff_t)w->length))
    return bw_tiff_fail(err, BW_ERR_REGION,
                        "%s: a region over several pages must cover whole pages", fn);
  uint64_t first = (nd == 3 ? (uint64_t)region->start[0] * w->length : 0) +
                   (uint64_t)region->start[ay];
  if (first != w->next_row) {
    uint64_t pz = w->next_row / w->length, py = w->next_row % w->length;
    if (nd == 3)
      return bw_tiff_fail(err, BW_ERR_REGION,
                          "%s: region starts at page %td, row %td; regions come in order and "
                          "the next is page %llu, row %llu",
                          fn, region->start[0], region->start[1], (unsigned long long)pz,
                          (unsigned long long)py);
    return bw_tiff_fail(err, BW_ERR_REGION,
                        "%s: region starts at row %td; regions come in order and the next is "
                        "row %llu",
                        fn, region->start[0], (unsigned long long)py);
  }
  for (int c = 0; c < nc; c++) {
    bw_status checked = bw_tiff_check_extents(fn, nc == 1 ? "src" : "a channel's view", nd,
                                              region, &src[c], err);
    if (checked != BW_OK) return checked;
  }

  const size_t es = w->esize / (size_t)nc;
  uint32_t z0 = nd == 3 ? (uint32_t)region->start[0] : 0;
  uint32_t nz = nd == 3 ? (uint32_t)region->size[0] : 1;
  uint32_t y0 = (uint32_t)region->start[ay], ny = (uint32_t)region->size[ay];
  const char *row_c[BW_TIFF_WRITE_MAX_CHANNELS];
  ptrdiff_t stride[BW_TIFF_WRITE_MAX_CHANNELS];
  for (int c = 0; c < nc; c++) stride[c] = src[c].strides[ax];
  for (uint32_t k = 0; k < nz; k++) {
    for (uint32_t i = 0; i < ny; i++) {
      uint32_t y = y0 + i;
      for (int c = 0; c < nc; c++)
        row_c[c] = (const char *)src[c].data + (nd == 3 ? (ptrdiff_t)k * src[c].strides[0] : 0) +
                   (ptrdiff_t)i * src[c].strides[ay];
      copy_channels_row(w->buf + w->buf_rows * w->row_bytes, row_c, stride, nc, w->width, es);
      w->buf_rows++;
      w->next_row++;
      int page_done = y + 1 == w->length;
      if (w->buf_rows == w->chunk_rows || page_done) {
        bw_status st = flush_chunk(w, err);
        if (st != BW_OK) return st;
      }
      if (page_done) {
        bw_status st = end_page(w, z0 + k, err);
        if (st != BW_OK) return st;
      }
    }
  }
  return BW_OK;
}

bw_status bw_tiff_write(bw_tiff_writer *w, const bw_region *region, const bw_view *src,
                        bw_error *err) {
  if (!w || !region || !src)
    return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_write: NULL argument");
  if (w->failed) return bw_tiff_fail(err, w->failed, "%s", w->fail_message);
  if (w->p.channels != 1)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "bw_tiff_write: the file has %d channels; write them with "
                        "bw_tiff_write_channels()",
                        w->p.channels);
  return write_region(w, "bw_tiff_write", region, src, err);
}

bw_status bw_tiff_write_channels(bw_tiff_writer *w, const bw_region *region, int count,
                                 const bw_view *src, bw_error *err) {
  if (!w || !region || !src)
    return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_write_channels: NULL argument");
  if (w->failed) return bw_tiff_fail(err, w->failed, "%s", w->fail_message);
  if (count != w->p.channels)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "bw_tiff_write_channels: %d views given, the file has %d channels", count,
                        w->p.channels);
  return write_region(w, "bw_tiff_write_channels", region, src, err);
}

int bw_tiff_writer_complete(const bw_tiff_writer *w) {
  return w && !w->failed && w->next_row == w->total_rows;
}

bw_status bw_tiff_finish(bw_tiff_writer *w, bw_error *err) {
  if (!w) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_finish: writer is NULL");
  bw_status st;
  if (w->failed) {
    st = bw_tiff_fail(err, w->failed, "%s", w->fail_message);
  } else if (w->next_row != w->total_rows) {
    st = bw_tiff_fail(err, BW_ERR_REGION,
                      "bw_tiff_finish: only %llu of %llu rows were written; file removed",
                      (unsigned long long)w->next_row, (unsigned long long)w->total_rows);
  } else {
    bw_tiff_msg_clear(&w->msg);
    if (!TIFFFlush(w->tif) || w->msg.set) {
      st = fail_writer(w, err, "completing the file");
    } else {
      TIFFCleanup(w->tif);
      w->tif = NULL;
      int fd = w->file.fd;
      w->file.fd = -1;
      if (close(fd) != 0) {
        w->file.io_errno = errno;
        st = fail_writer(w, err, "closing the file");
      } else if (rename(w->tmp, w->path) != 0) {
        st = bw_tiff_fail(err, BW_ERR_IO, "cannot rename %s to %s: %s", w->tmp, w->path,
                          strerror(errno));
      } else {
        free(w->tmp);
        w->tmp = NULL;
        st = BW_OK;
      }
    }
  }
  writer_free(w);
  return st;
}

void bw_tiff_abort(bw_tiff_writer *w) { writer_free(w); }
