/*
 * Tests of the TIFF reader on files of the writer and of the builder:
 * partial reads (regions, counters of bytes and chunks, page jumps),
 * argument errors, volumes of one page, the decoded-chunk cache and the
 * band unit.
 *
 * Oracles: slices of the arrays written; counters against byte and chunk
 * counts computed from the layout; for the band unit, the strip and tile
 * geometry of files whose RowsPerStrip and tile sizes are set by hand
 * (through the writer, and by the builder byte by byte), with tiffcp's
 * re-layouts of a file.
 */
#define _XOPEN_SOURCE 700

#include "tiff_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Partial reads                                                            */
/* ------------------------------------------------------------------------ */

/* Random regions of striped (raw and compressed) and tiled files, into
 * views with unusual strides inside a larger buffer: equal to the slice of
 * the whole image, and nothing outside the view is touched. */
void test_subregions(void) {
  TMP_FILE(t, path, "s.tif");
  for (int layout = 0; layout < 4; layout++) {
    bw_tiff_write_params p = test_params(BW_F32, 4, 70, 90);
    if (layout == 0) p.rows_per_strip = 70;                    /* raw, one strip */
    if (layout == 1) p.rows_per_strip = 9;                     /* raw, strips */
    if (layout == 2) p.compression = BW_TIFF_DEFLATE, p.rows_per_strip = 8;
    if (layout == 3) p.tiled = 1, p.tile_width = 32, p.tile_length = 16,
                     p.compression = BW_TIFF_LZW, p.predictor = 1;
    bw_tiff_reader *r;
    bw_error e = {BW_OK, ""};
    float *data = write_random_and_open(path, &p, 13, &r, &e);
    CHECK(data, "write and open: %s", e.message);
    for (int it = 0; it < 60; it++) {
      bw_region reg;
      memset(&reg, 0, sizeof reg);
      for (int i = 0; i < 3; i++) {
        reg.start[i] = rnd_below((ptrdiff_t)p.shape[i]);
        reg.size[i] = 1 + rnd_below((ptrdiff_t)p.shape[i] - reg.start[i]);
      }
      /* dst: axes reversed in Y, padded in X, inside a buffer of NaN-free
       * sentinels. */
      ptrdiff_t pz = reg.size[0], py = reg.size[1], px = reg.size[2];
      size_t cap = (size_t)(pz * py * (px + 3));
      float *buf = malloc(cap * 4);
      for (size_t i = 0; i < cap; i++) buf[i] = -12345.0f;
      bw_view v;
      v.dtype = BW_F32;
      v.ndim = 3;
      v.shape[0] = pz;
      v.shape[1] = py;
      v.shape[2] = px;
      v.strides[2] = 4;
      v.strides[1] = -(px + 3) * 4;
      v.strides[0] = py * (px + 3) * 4;
      v.data = buf + (py - 1) * (px + 3);
      CHECK(bw_tiff_read(r, &reg, &v, &e) == BW_OK, "read: %s", e.message);
      size_t touched = 0;
      int ok = 1;
      for (ptrdiff_t z = 0; z < pz; z++)
        for (ptrdiff_t y = 0; y < py; y++)
          for (ptrdiff_t x = 0; x < px; x++) {
            float got = *(float *)((char *)v.data + z * v.strides[0] + y * v.strides[1] +
                                   x * v.strides[2]);
            float want = data[((reg.start[0] + z) * p.shape[1] + reg.start[1] + y) * p.shape[2] +
                              reg.start[2] + x];
            if (memcmp(&got, &want, 4) != 0) ok = 0;
          }
      for (size_t i = 0; i < cap; i++) touched += buf[i] != -12345.0f;
      free(buf);
      CHECK(ok, "layout %d region (%td,%td,%td)+(%td,%td,%td) differs", layout, reg.start[0],
            reg.start[1], reg.start[2], pz, py, px);
      CHECK(touched <= (size_t)(pz * py * px), "wrote outside the view (%zu)", touched);
    }
    bw_tiff_close(r);
    free(data);
  }
  tmpdir_remove(&t);
}

/* Reads of a small region of a 4096 x 4096 u16 image touch only the chunks
 * it meets: the byte and chunk counters show it. */
void test_partial_counters(void) {
  TMP_FILE(t, path, "big.tif");
  const ptrdiff_t N = 4096;
  uint16_t *data = malloc((size_t)(N * N) * 2);
  fill_smooth_u16(data, (size_t)N, (size_t)N);
  for (int layout = 0; layout < 4; layout++) {
    bw_tiff_write_params p = test_params(BW_U16, 0, N, N);
    const char *name = "";
    if (layout == 0) p.tiled = 1, name = "tiled 256x256";
    if (layout == 1) p.tiled = 1, p.compression = BW_TIFF_DEFLATE, name = "tiled deflate";
    if (layout == 2) p.rows_per_strip = 16, name = "16-row strips";
    if (layout == 3) p.rows_per_strip = (uint32_t)N, name = "one uncompressed strip";
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 512, &e) == BW_OK, "%s: write: %s", name, e.message);
    struct stat sb;
    CHECK(stat(path, &sb) == 0, "stat");
    bw_tiff_reader *r = NULL;
    CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "%s: open: %s", name, e.message);
    /* 10 x 10 inside one tile and one strip. */
    bw_region reg = {{2000, 3000, 0}, {10, 10, 0}};
    uint16_t out[100];
    ptrdiff_t sh[2] = {10, 10};
    bw_view v = bw_view_contiguous(out, BW_U16, 2, sh);
    bw_tiff_counters used, total;
    CHECK(read_counted(r, &reg, &v, &used, &e) == BW_OK, "%s: read: %s", name, e.message);
    for (int y = 0; y < 10; y++)
      for (int x = 0; x < 10; x++)
        CHECK(out[y * 10 + x] == data[(2000 + y) * N + 3000 + x], "%s: value", name);
    bw_tiff_reader_counters(r, &total);
    uint64_t bytes = total.bytes_read, size = (uint64_t)sb.st_size;
    CHECK(bytes * 20 < size, "%s: read %llu of %llu bytes", name, (unsigned long long)bytes,
          (unsigned long long)size);
    CHECK(used.chunks_decoded == 1, "%s: %llu chunks", name,
          (unsigned long long)used.chunks_decoded);
    uint64_t region_bytes = used.bytes_read;
    if (layout == 0) CHECK(region_bytes == 256 * 256 * 2, "%s: %llu bytes", name,
                           (unsigned long long)region_bytes);
    if (layout == 2) CHECK(region_bytes == 16 * 4096 * 2 || region_bytes == 10 * 4096 * 2,
                           "%s: %llu bytes", name, (unsigned long long)region_bytes);
    if (layout == 3) CHECK(region_bytes == 10 * 4096 * 2, "%s: %llu bytes", name,
                           (unsigned long long)region_bytes);
    /* Across tile and strip edges: 2 x 2 tiles, 2 strips. */
    bw_region reg2 = {{250, 250, 0}, {10, 10, 0}};
    CHECK(read_counted(r, &reg2, &v, &used, &e) == BW_OK, "%s: read 2: %s", name, e.message);
    for (int y = 0; y < 10; y++)
      for (int x = 0; x < 10; x++)
        CHECK(out[y * 10 + x] == data[(250 + y) * N + 250 + x], "%s: value 2", name);
    uint64_t want_chunks = layout <= 1 ? 4 : layout == 2 ? 2 : 1;
    CHECK(used.chunks_decoded == want_chunks, "%s: %llu chunks, want %llu", name,
          (unsigned long long)used.chunks_decoded, (unsigned long long)want_chunks);
    bw_tiff_reader_counters(r, &total);
    CHECK(total.bytes_read * 20 < size, "%s: read %llu of %llu bytes", name,
          (unsigned long long)total.bytes_read, (unsigned long long)size);
    bw_tiff_close(r);
  }
  free(data);
  tmpdir_remove(&t);
}

/* Page z of a many-page file is reached through the offsets cached at
 * open: reading the last page after the first re-reads one directory, not
 * the chain; pages are right in any order. */
void test_page_jumps(void) {
  TMP_FILE(t, path, "pages.tif");
  bw_tiff_write_params p = test_params(BW_U8, 60, 8, 8);
  bw_tiff_reader *r;
  bw_error e = {BW_OK, ""};
  uint8_t *data = write_random_and_open(path, &p, 0, &r, &e);
  CHECK(data, "write and open: %s", e.message);
  CHECK(bw_tiff_reader_info(r)->ndim == 3 && bw_tiff_reader_info(r)->shape[0] == 60, "pages");
  static const int order[] = {0, 59, 1, 58, 30, 30, 2, 0, 59};
  uint8_t px[64];
  ptrdiff_t sh[3] = {1, 8, 8};
  bw_view v = bw_view_contiguous(px, BW_U8, 3, sh);
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    bw_region reg = {{order[i], 0, 0}, {1, 8, 8}};
    bw_tiff_counters used;
    CHECK(read_counted(r, &reg, &v, &used, &e) == BW_OK, "read page %d: %s", order[i],
          e.message);
    CHECK(memcmp(px, data + (size_t)order[i] * 64, 64) == 0, "page %d differs", order[i]);
    /* One directory (~300 bytes with its values) and 64 pixel bytes. */
    CHECK(used.bytes_read < 1024, "page %d: %llu bytes read", order[i],
          (unsigned long long)used.bytes_read);
  }
  bw_tiff_close(r);
  free(data);
  tmpdir_remove(&t);
}

/* Reader argument checks leave dst untouched; missing files are I/O
 * errors. */
void test_reader_errors(void) {
  TMP_FILE(t, path, "r.tif");
  bw_tiff_write_params p = test_params(BW_I8, 2, 5, 6);
  bw_tiff_reader *r;
  bw_error e = {BW_OK, ""};
  int8_t *data = write_random_and_open(path, &p, 0, &r, &e);
  CHECK(data, "write and open: %s", e.message);
  int8_t out[60];
  memset(out, 0x5A, sizeof out);
  ptrdiff_t sh[3] = {2, 5, 6};
  bw_view v = bw_view_contiguous(out, BW_I8, 3, sh);
  bw_region all = {{0, 0, 0}, {2, 5, 6}};
  struct {
    bw_region reg;
    bw_status want;
  } bad[] = {
      {{{0, 0, 0}, {2, 5, 7}}, BW_ERR_REGION}, {{{1, 0, 0}, {2, 5, 6}}, BW_ERR_REGION},
      {{{0, -1, 0}, {2, 5, 6}}, BW_ERR_REGION}, {{{0, 0, 0}, {2, 0, 6}}, BW_ERR_REGION},
      {{{0, 0, 0}, {2, 4, 6}}, BW_ERR_SHAPE},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    bw_status st = bw_tiff_read(r, &bad[k].reg, &v, &e);
    CHECK(st == bad[k].want, "region %zu: %s", k, bw_status_string(st));
  }
  bad_view views[N_BAD_VIEWS];
  bad_views(&v, BW_U8, views);
  for (int k = 0; k < N_BAD_VIEWS; k++)
    CHECK(bw_tiff_read(r, &all, &views[k].v, &e) == views[k].want, "%s", views[k].what);
  CHECK(bw_tiff_read(r, NULL, &v, &e) == BW_ERR_NULL, "NULL region");
  CHECK(bw_tiff_read(NULL, &all, &v, &e) == BW_ERR_NULL, "NULL reader");
  for (int i = 0; i < 60; i++) CHECK(out[i] == 0x5A, "dst touched at %d", i);
  CHECK(bw_tiff_read(r, &all, &v, NULL) == BW_OK, "read without err");
  CHECK(memcmp(out, data, 60) == 0, "data");
  free(data);
  bw_tiff_close(r);
  bw_tiff_close(NULL);
  CHECK(bw_tiff_reader_info(NULL) == NULL, "info of NULL");

  r = (bw_tiff_reader *)1;
  char missing[700];
  tmpdir_file(&t, "missing.tif", missing, sizeof missing);
  CHECK(bw_tiff_open(missing, &r, &e) == BW_ERR_IO && r == NULL, "missing file: %s",
        e.message);
  CHECK(strstr(e.message, "missing.tif") && strstr(e.message, "No such file"), "message: %s",
        e.message);
  CHECK(bw_tiff_open(t.path, &r, &e) == BW_ERR_IO, "a folder: %s", e.message);
  CHECK(bw_tiff_open(NULL, &r, &e) == BW_ERR_NULL, "NULL path");
  CHECK(bw_tiff_open(path, NULL, &e) == BW_ERR_NULL, "NULL out");
  CHECK(bw_tiff_open_memory(NULL, 10, &r, &e) == BW_ERR_NULL, "NULL data");
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Volumes of one page                                                      */
/* ------------------------------------------------------------------------ */

/* A 1 x 5 x 7 volume keeps its three axes and spacings through a round
 * trip: the writer's images= line marks it as a volume.  Descriptions from
 * other writers decide the same way (images= or slices=), except the
 * ImageJ description tifffile writes for every single image (images=1,
 * no slices line); without such a line one page is 2-D, as before. */
void test_single_page_volume(void) {
  TMP_FILE(t, path, "vol1.tif");
  static const double sp[3] = {2.5, 0.5, 0.25};
  for (int layout = 0; layout < 3; layout++) {
    bw_tiff_write_params p = test_params(BW_U16, 1, 5, 7);
    memcpy(p.spacing, sp, sizeof sp);
    if (layout == 1) p.compression = BW_TIFF_DEFLATE, p.rows_per_strip = 2;
    if (layout == 2) p.tiled = 1, p.tile_width = 16, p.tile_length = 16;
    uint16_t data[35];
    fill_random(data, BW_U16, 35);
    bw_error e = {BW_OK, ""};
    bw_tiff_reader *r = write_and_open(path, &p, data, layout, &e);
    CHECK(r, "layout %d: write and open: %s", layout, e.message);
    const bw_tiff_info *in = bw_tiff_reader_info(r);
    int ok = in->ndim == 3 && in->shape[0] == 1 && in->shape[1] == 5 && in->shape[2] == 7;
    for (int i = 0; i < 3; i++) ok = ok && in->spacing[i] == sp[i];
    if (!ok) bw_tiff_close(r);
    CHECK(ok, "layout %d: ndim %d shape %lld x %lld x %lld spacing %g %g %g", layout, in->ndim,
          (long long)in->shape[0], (long long)in->shape[1], (long long)in->shape[2],
          in->spacing[0], in->spacing[1], in->spacing[2]);
    uint16_t *back = read_whole(r, &e);
    uint16_t part[12];
    bw_region reg = {{0, 1, 2}, {1, 3, 4}};
    ptrdiff_t sh[3] = {1, 3, 4};
    bw_view v = bw_view_contiguous(part, BW_U16, 3, sh);
    bw_status st = bw_tiff_read(r, &reg, &v, &e);
    bw_tiff_close(r);
    int same = back && memcmp(back, data, sizeof data) == 0;
    free(back);
    CHECK(same, "layout %d: pixels differ", layout);
    CHECK(st == BW_OK, "layout %d: partial read: %s", layout, e.message);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 4; x++)
        CHECK(part[y * 4 + x] == data[(1 + y) * 7 + 2 + x], "layout %d: partial read differs",
              layout);
  }
  /* A 2-D image stays 2-D. */
  {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.shape[0] = 5;
    p.shape[1] = 7;
    uint8_t data[35] = {0};
    bw_error e = {BW_OK, ""};
    bw_tiff_info in;
    memset(&in, 0, sizeof in);
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "2-D write: %s", e.message);
    free(read_file(path, &in, &e));
    CHECK(in.ndim == 2 && in.shape[0] == 5 && in.shape[1] == 7, "2-D read as %d-D", in.ndim);
  }
  /* Descriptions of other writers, on one page. */
  static const struct {
    const char *desc;
    int ndim;
    double zspacing;
  } cases[] = {
      {NULL, 2, 0},
      {"images=1\n", 3, 1},
      {"slices=1\nspacing=3\n", 3, 3},
      {"ImageJ=1.53t\nimages=1\nslices=1\nspacing=3\n", 3, 3},
      {"ImageJ=1.11a\nimages=1\nhyperstack=true\nmode=grayscale\nspacing=2.5", 2, 0},
      {"images=1.5\n", 2, 0},
      {"images=0\n", 2, 0},
      {"a microscope's notes, without keys\n", 2, 0},
  };
  uint8_t pix[6] = {1, 2, 3, 4, 5, 6};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    tb_page pg;
    tb_grey(&pg, 3, 2, 8, 1, pix, 6);
    if (cases[k].desc) {
      tb_tag d = {270, T_ASCII, 0, {0, 0}, NULL, cases[k].desc, 0};
      tb_set_tag(&pg, &d);
    }
    tb_file f;
    tb_build(&f, 0, &pg, 1);
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_open_memory(f.b, f.n, &r, &e);
    if (st != BW_OK) free(f.b);
    CHECK(st == BW_OK, "case %zu: %s", k, e.message);
    bw_tiff_info in = *bw_tiff_reader_info(r);
    uint8_t *back = read_whole(r, &e);
    bw_tiff_close(r);
    free(f.b);
    int same = back && memcmp(back, pix, 6) == 0;
    free(back);
    CHECK(in.ndim == cases[k].ndim, "case %zu: %d axes, want %d", k, in.ndim, cases[k].ndim);
    CHECK(same, "case %zu: pixels (%s)", k, e.message);
    int yx = in.ndim - 2;
    CHECK(in.shape[yx] == 2 && in.shape[yx + 1] == 3 && (in.ndim == 2 || in.shape[0] == 1),
          "case %zu: shape", k);
    CHECK(in.ndim == 2 || in.spacing[0] == cases[k].zspacing, "case %zu: z spacing %g", k,
          in.spacing[0]);
  }
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* The decoded-chunk cache                                                  */
/* ------------------------------------------------------------------------ */

/* Reads @bands bands of rows (all columns; per page in 3-D) and compares
 * them with @data; returns the counters of the reader. */
static int read_bands(const char *path, int bands, const uint16_t *data, bw_tiff_counters *c,
                      bw_error *e) {
  bw_tiff_reader *r = NULL;
  if (bw_tiff_open(path, &r, e) != BW_OK) return 0;
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  int nd = in->ndim;
  ptrdiff_t pages = nd == 3 ? (ptrdiff_t)in->shape[0] : 1;
  ptrdiff_t rows = (ptrdiff_t)in->shape[nd - 2], cols = (ptrdiff_t)in->shape[nd - 1];
  uint16_t *buf = malloc((size_t)(rows * cols) * 2);
  int ok = buf != NULL;
  for (ptrdiff_t z = 0; ok && z < pages; z++)
    for (int b = 0; ok && b < bands; b++) {
      ptrdiff_t y0 = rows * b / bands, y1 = rows * (b + 1) / bands;
      bw_region reg;
      memset(&reg, 0, sizeof reg);
      ptrdiff_t sh[3] = {1, y1 - y0, cols};
      if (nd == 3) reg.start[0] = z, reg.size[0] = 1;
      reg.start[nd - 2] = y0;
      reg.size[nd - 2] = y1 - y0;
      reg.size[nd - 1] = cols;
      bw_view v = bw_view_contiguous(buf, BW_U16, nd, nd == 3 ? sh : sh + 1);
      ok = bw_tiff_read(r, &reg, &v, e) == BW_OK &&
           memcmp(buf, data + (size_t)((z * rows + y0) * cols), (size_t)((y1 - y0) * cols) * 2) == 0;
      if (!ok && e->status == BW_OK) snprintf(e->message, sizeof e->message, "pixels differ");
    }
  bw_tiff_reader_counters(r, c);
  bw_tiff_close(r);
  free(buf);
  return ok;
}

/* Compressed strips and tiles read in bands are decoded once each: the
 * same pixels as one read, chunks_decoded the number of chunks (not chunks
 * times bands), and no more bytes read than one read takes.  The cache
 * holds one row of chunks: going back to an earlier row decodes it again,
 * staying in the row does not. */
void test_decode_cache(void) {
  TMP_FILE(t, path, "cache.tif");
  const ptrdiff_t Z = 3, Y = 1000, X = 1200;
  uint16_t *data = malloc((size_t)(Z * Y * X) * 2);
  fill_smooth_u16(data, (size_t)(Z * Y), (size_t)X);
  for (int layout = 0; layout < 5; layout++) {
    bw_tiff_write_params p = test_params(BW_U16, 0, Y, X);
    p.compression = BW_TIFF_DEFLATE;
    p.rows_per_strip = (uint32_t)Y;
    uint64_t chunks = 1;
    const char *name = "deflate, one strip";
    if (layout == 1)
      p.tiled = 1, p.tile_width = p.tile_length = 128, chunks = 8 * 10,
      name = "deflate, 128 x 128 tiles";
    if (layout == 2)
      p.compression = BW_TIFF_LZW, p.predictor = 1, p.rows_per_strip = 64, chunks = 16,
      name = "lzw, 64-row strips";
    if (layout == 3)
      p.tiled = 1, p.tile_width = 1024, p.tile_length = 256, chunks = 4 * 2,
      name = "deflate, 1024 x 256 tiles";
    if (layout == 4) {
      p.ndim = 3, p.shape[0] = Z, p.shape[1] = Y, p.shape[2] = X, chunks = (uint64_t)Z;
      name = "deflate, three pages of one strip";
    }
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "%s: write: %s", name, e.message);
    bw_tiff_counters one, banded;
    CHECK(read_bands(path, 1, data, &one, &e), "%s: one read: %s", name, e.message);
    CHECK(read_bands(path, 16, data, &banded, &e), "%s: 16 bands: %s", name, e.message);
    CHECK(one.chunks_decoded == chunks, "%s: one read decoded %llu chunks, want %llu", name,
          (unsigned long long)one.chunks_decoded, (unsigned long long)chunks);
    CHECK(banded.chunks_decoded == chunks, "%s: 16 bands decoded %llu chunks, want %llu", name,
          (unsigned long long)banded.chunks_decoded, (unsigned long long)chunks);
    CHECK(banded.bytes_read == one.bytes_read, "%s: 16 bands read %llu bytes, one read %llu",
          name, (unsigned long long)banded.bytes_read, (unsigned long long)one.bytes_read);
  }
  /* The bound: one row of tiles. */
  {
    bw_tiff_write_params p = test_params(BW_U16, 0, Y, X);
    p.compression = BW_TIFF_DEFLATE;
    p.tiled = 1;
    p.tile_width = p.tile_length = 128;
    bw_error e = {BW_OK, ""};
    bw_tiff_reader *r = write_and_open(path, &p, data, 0, &e);
    CHECK(r, "write and open: %s", e.message);
    static const struct {
      ptrdiff_t y0;
      uint64_t decoded; /* tiles decoded by this read */
    } steps[] = {{0, 10}, {10, 0}, {130, 10}, {250, 0}, {5, 10}, {120, 10}};
    uint16_t *buf = malloc((size_t)(10 * X) * 2);
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
      bw_region reg = {{steps[k].y0, 0, 0}, {steps[k].y0 == 120 ? 10 : 6, X, 0}};
      ptrdiff_t sh[2] = {reg.size[0], X};
      bw_view v = bw_view_contiguous(buf, BW_U16, 2, sh);
      bw_tiff_counters used;
      bw_status st = read_counted(r, &reg, &v, &used, &e);
      int same = st == BW_OK &&
                 memcmp(buf, data + (size_t)(steps[k].y0 * X), (size_t)(reg.size[0] * X) * 2) == 0;
      if (!same || used.chunks_decoded != steps[k].decoded) {
        bw_tiff_close(r);
        free(buf);
      }
      CHECK(same, "rows %td: %s", steps[k].y0, st == BW_OK ? "pixels differ" : e.message);
      CHECK(used.chunks_decoded == steps[k].decoded, "rows %td..: %llu tiles decoded, want %llu",
            steps[k].y0, (unsigned long long)used.chunks_decoded,
            (unsigned long long)steps[k].decoded);
    }
    bw_tiff_close(r);
    free(buf);
  }
  /* Bands that overlap by a few rows (streaming with a halo), read into
   * whole rows: a strip inside a band is decoded straight into it, the
   * band's last strip through the cache, where the next band finds it.
   * Then into a destination one byte off alignment: the pixels still. */
  {
    bw_tiff_write_params p = test_params(BW_U16, 0, 40, X);
    p.compression = BW_TIFF_DEFLATE;
    p.predictor = 1;
    p.rows_per_strip = 8;
    bw_error e = {BW_OK, ""};
    bw_tiff_reader *r = write_and_open(path, &p, data, 0, &e);
    CHECK(r, "write and open: %s", e.message);
    static const struct {
      ptrdiff_t y0, y1;
      uint64_t decoded;
    } bands[] = {{0, 16, 2}, {14, 30, 2}, {28, 37, 1}, {30, 40, 2}}; /* the last goes back a strip */
    unsigned char *raw = malloc((size_t)(16 * X) * 2 + 1);
    for (int misaligned = 0; misaligned < 2; misaligned++) {
      uint16_t *buf = (uint16_t *)(void *)(raw + misaligned);
      for (size_t k = 0; k < sizeof bands / sizeof *bands; k++) {
        bw_region reg = {{bands[k].y0, 0, 0}, {bands[k].y1 - bands[k].y0, X, 0}};
        ptrdiff_t sh[2] = {reg.size[0], X};
        bw_view v = bw_view_contiguous(buf, BW_U16, 2, sh);
        bw_tiff_counters used;
        bw_status st = read_counted(r, &reg, &v, &used, &e);
        int same = st == BW_OK;
        for (ptrdiff_t i = 0; same && i < reg.size[0] * X; i++) {
          uint16_t got;
          memcpy(&got, (unsigned char *)buf + 2 * i, 2);
          same = got == data[(size_t)(bands[k].y0 * X + i)];
        }
        CHECK(same, "overlapping bands, rows %td..%td%s: %s", bands[k].y0, bands[k].y1,
              misaligned ? ", misaligned" : "", st == BW_OK ? "pixels differ" : e.message);
        if (!misaligned)
          CHECK(used.chunks_decoded == bands[k].decoded,
                "overlapping bands, rows %td..%td: %llu strips decoded, want %llu", bands[k].y0,
                bands[k].y1, (unsigned long long)used.chunks_decoded,
                (unsigned long long)bands[k].decoded);
      }
    }
    free(raw);
    bw_tiff_close(r);
  }
  free(data);
  tmpdir_remove(&t);
}
