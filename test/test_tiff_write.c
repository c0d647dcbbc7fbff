/*
 * Tests of the TIFF writer (bw_tiff_create/write/finish): round trips of
 * every dtype, layout and compression, files of several channels, regions
 * of every allowed form,
 * spacing, BigTIFF, the tags written, bad parameters and sequences, system
 * failures, and the compression names.
 *
 * Oracles: the arrays written, kept and compared byte for byte with what
 * is read back; the raw bytes of the files (tags); the header bytes
 * (BigTIFF); and, for the names, the list in bw_tiff.h written out here.
 */
#define _XOPEN_SOURCE 700

#include "tiff_test_util.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

/* Every dtype, 2-D and 3-D, strips (default, 3 rows, one strip) and tiles,
 * every available compression, with and without predictor, written in
 * bands of several heights: read back identically, from the file and from
 * memory, with the layout reported as written. */
void test_roundtrip(void) {
  TMP_FILE(t, path, "rt.tif");
  static const bw_tiff_compression comps[] = {BW_TIFF_NONE, BW_TIFF_LZW, BW_TIFF_DEFLATE,
                                              BW_TIFF_PACKBITS, BW_TIFF_ZSTD};
  static const int tiff_codes[] = {1, 5, 8, 32773, 50000};
  int files = 0;
  for (int di = 0; di < BW_TEST_NDTYPES; di++)
    for (int nd = 2; nd <= 3; nd++)
      for (int layout = 0; layout < 4; layout++)
        for (int ci = 0; ci < 5; ci++)
          for (int pred = 0; pred <= 1; pred++) {
            bw_tiff_compression c = comps[ci];
            if (!bw_tiff_compression_available(c)) continue;
            if (pred && (c == BW_TIFF_NONE || c == BW_TIFF_PACKBITS)) continue;
            bw_tiff_write_params p;
            bw_tiff_write_params_init(&p);
            p.dtype = bw_test_dtypes[di];
            p.ndim = nd;
            int64_t shape[3] = {3, 37, 45};
            if (nd == 2) {
              p.shape[0] = 37;
              p.shape[1] = 45;
            } else {
              memcpy(p.shape, shape, sizeof shape);
            }
            p.compression = c;
            p.predictor = pred;
            if (layout == 1) p.rows_per_strip = 3;
            if (layout == 2) p.rows_per_strip = 1000;
            if (layout == 3) {
              p.tiled = 1;
              p.tile_width = 16;
              p.tile_length = 32;
            }
            size_t n = nelem(nd, p.shape), es = bw_dtype_size(p.dtype);
            unsigned char *data = malloc(n * es);
            fill_random(data, p.dtype, n);
            bw_error e = {BW_OK, ""};
            ptrdiff_t band = (ptrdiff_t)(files % 4 == 0 ? 0 : files % 4 == 1 ? 1 : 7 + files % 5);
            bw_status st = write_array(path, &p, data, band, &e);
            CHECK(st == BW_OK, "write %s nd %d layout %d comp %d pred %d: %s",
                  bw_dtype_name(p.dtype), nd, layout, (int)c, pred, e.message);
            bw_tiff_info in;
            unsigned char *back = read_file(path, &in, &e);
            CHECK(back != NULL, "read %s nd %d layout %d comp %d: %s", bw_dtype_name(p.dtype),
                  nd, layout, (int)c, e.message);
            int same = memcmp(back, data, n * es) == 0;
            free(back);
            CHECK(same, "data differ: %s nd %d layout %d comp %d pred %d",
                  bw_dtype_name(p.dtype), nd, layout, (int)c, pred);
            CHECK(in.dtype == p.dtype && in.ndim == nd, "info dtype/ndim");
            for (int i = 0; i < nd; i++) CHECK(in.shape[i] == p.shape[i], "info shape %d", i);
            CHECK(in.tiled == p.tiled, "info tiled");
            CHECK(in.compression == tiff_codes[ci], "info compression %d", in.compression);
            CHECK(!p.tiled || (in.tile_width == 16 && in.tile_length == 32), "tile size");
            uint32_t want_rps = layout == 1 ? 3 : layout == 2 ? 37 : 0;
            CHECK(p.tiled || layout == 0 || in.rows_per_strip == want_rps, "rows per strip %u",
                  in.rows_per_strip);
            CHECK(in.bigtiff == 0 && in.big_endian == host_big_endian(), "bigtiff/endianness");

            /* The same bytes from memory. */
            size_t sz;
            unsigned char *img = slurp(path, &sz);
            bw_tiff_reader *r = NULL;
            CHECK(img && bw_tiff_open_memory(img, sz, &r, &e) == BW_OK, "memory open: %s",
                  e.message);
            back = read_whole(r, &e);
            bw_tiff_close(r);
            same = back && memcmp(back, data, n * es) == 0;
            free(back);
            free(img);
            free(data);
            CHECK(same, "memory read differs");
            files++;
          }
  CHECK(files >= 8 * 2 * 4 * 4, "only %d files", files);
  CHECK(tmpdir_count(&t, NULL, 0) == 1, "stray files");
  tmpdir_remove(&t);
}

/* Files of several channels (bw_tiff_write_channels): 2, 3 and 5 samples
 * per pixel of every dtype, 2-D and 3-D, strips and tiles, with and
 * without compression, each written from views of three layouts (an
 * interleaved buffer, one element apart; a planar one, one plane apart;
 * every other pixel of a wider interleaved buffer) in bands: read back
 * with bw_tiff_read_channels(), every channel is what was written, and the
 * file says it holds channels of their own. */
void test_write_channels(void) {
  TMP_FILE(t, path, "ch.tif");
  static const int counts[] = {2, 3, 5};
  int files = 0;
  for (int di = 0; di < BW_TEST_NDTYPES; di++)
    for (int ki = 0; ki < 3; ki++)
      for (int nd = 2; nd <= 3; nd++)
        for (int layout = 0; layout < 3; layout++) {
          const int nc = counts[ki];
          bw_tiff_write_params p;
          bw_tiff_write_params_init(&p);
          p.dtype = bw_test_dtypes[di];
          p.channels = nc;
          p.ndim = nd;
          const ptrdiff_t pages = nd == 3 ? 2 : 1, rows = 19, cols = 23;
          if (nd == 3) p.shape[0] = pages;
          p.shape[nd - 2] = rows;
          p.shape[nd - 1] = cols;
          if (files % 2) p.tiled = 1, p.tile_width = p.tile_length = 16;
          if (files % 3 == 1 && bw_tiff_compression_available(BW_TIFF_DEFLATE))
            p.compression = BW_TIFF_DEFLATE, p.predictor = files % 6 == 1;
          const size_t es = bw_dtype_size(p.dtype), px = (size_t)(pages * rows * cols);
          /* the oracle: channel c of pixel i at want[(i * nc + c) * es] */
          unsigned char *want = malloc(px * nc * es);
          fill_random(want, p.dtype, px * nc);
          /* the source, in the layout under test */
          const int spread = layout == 2 ? 2 : 1;
          unsigned char *src = malloc(px * nc * es * spread);
          bw_view v[5];
          for (size_t i = 0; i < px; i++)
            for (int c = 0; c < nc; c++) {
              const unsigned char *from = want + (i * nc + c) * es;
              size_t at = layout == 1 ? ((size_t)c * px + i) * es : (i * spread * nc + c) * es;
              memcpy(src + at, from, es);
            }
          for (int c = 0; c < nc; c++) {
            memset(&v[c], 0, sizeof v[c]);
            v[c].dtype = p.dtype;
            v[c].ndim = nd;
            ptrdiff_t step = layout == 1 ? (ptrdiff_t)es : (ptrdiff_t)(es * nc * spread);
            v[c].data = src + (layout == 1 ? (size_t)c * px * es : (size_t)c * es);
            for (int d = nd - 1; d >= 0; d--) {
              v[c].shape[d] = (ptrdiff_t)p.shape[d];
              v[c].strides[d] = step;
              step *= (ptrdiff_t)p.shape[d];
            }
          }
          bw_tiff_writer *w = NULL;
          bw_error e = {BW_OK, ""};
          CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create %d channels: %s", nc,
                e.message);
          /* bands of 7 rows, page by page */
          for (ptrdiff_t z = 0; z < pages && w; z++)
            for (ptrdiff_t y = 0; y < rows; y += 7) {
              bw_region reg;
              memset(&reg, 0, sizeof reg);
              if (nd == 3) reg.start[0] = z, reg.size[0] = 1;
              reg.start[nd - 2] = y;
              reg.size[nd - 2] = y + 7 <= rows ? 7 : rows - y;
              reg.size[nd - 1] = cols;
              bw_view sub[5];
              for (int c = 0; c < nc; c++)
                CHECK(bw_view_subview(&v[c], &reg, &sub[c], &e) == BW_OK, "subview");
              CHECK(bw_tiff_write_channels(w, &reg, nc, sub, &e) == BW_OK,
                    "write %s, %d channels, %d-D, layout %d: %s", bw_dtype_name(p.dtype), nc, nd,
                    layout, e.message);
            }
          CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);

          bw_tiff_reader *r = NULL;
          CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
          const bw_tiff_info *in = bw_tiff_reader_info(r);
          CHECK(in->channels == nc && in->color == BW_TIFF_CHANNELS && in->dtype == p.dtype &&
                    in->ndim == nd && in->planar == 0,
                "info: %d channels, colour %d, %s, %d-D", in->channels, (int)in->color,
                bw_dtype_name(in->dtype), in->ndim);
          unsigned char *back = malloc(px * nc * es);
          bw_view dst[5];
          bw_region all;
          memset(&all, 0, sizeof all);
          for (int d = 0; d < nd; d++) all.size[d] = (ptrdiff_t)p.shape[d];
          for (int c = 0; c < nc; c++) {
            memset(&dst[c], 0, sizeof dst[c]);
            dst[c].dtype = p.dtype;
            dst[c].ndim = nd;
            dst[c].data = back + (size_t)c * es;
            ptrdiff_t step = (ptrdiff_t)(es * nc);
            for (int d = nd - 1; d >= 0; d--) {
              dst[c].shape[d] = (ptrdiff_t)p.shape[d];
              dst[c].strides[d] = step;
              step *= (ptrdiff_t)p.shape[d];
            }
          }
          CHECK(bw_tiff_read_channels(r, &all, 0, nc, dst, &e) == BW_OK, "read: %s", e.message);
          CHECK(memcmp(back, want, px * nc * es) == 0, "%s, %d channels, %d-D, layout %d, %s: "
                "the channels read back differ", bw_dtype_name(p.dtype), nc, nd, layout,
                p.tiled ? "tiles" : "strips");
          bw_tiff_close(r);
          free(back);
          free(src);
          free(want);
          unlink(path);
          files++;
        }
  CHECK(files == BW_TEST_NDTYPES * 3 * 2 * 3, "only %d files", files);

  /* The channel count is checked, and each function writes its files. */
  bw_tiff_write_params p = test_params(BW_F32, 0, 8, 8);
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  for (int bad = 0; bad < 2; bad++) {
    p.channels = bad ? BW_TIFF_WRITE_MAX_CHANNELS + 1 : 0;
    CHECK(bw_tiff_create(path, &p, &w, &e) == BW_ERR_PARAM && !w, "%d channels: %s", p.channels,
          e.message);
    CHECK(strstr(e.message, "channels") != NULL, "message: %s", e.message);
  }
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
  p.channels = 2;
  float pix[8 * 8 * 2] = {0};
  ptrdiff_t shape[2] = {8, 8};
  bw_view one = bw_view_contiguous(pix, BW_F32, 2, shape);
  one.strides[1] = 2 * sizeof(float);
  one.strides[0] = 16 * sizeof(float);
  bw_view two[2] = {one, one};
  two[1].data = pix + 1;
  bw_region reg = {{0, 0, 0}, {8, 8, 1}};
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  CHECK(bw_tiff_write(w, &reg, &one, &e) == BW_ERR_PARAM, "one view for 2 channels: %s",
        e.message);
  CHECK(strstr(e.message, "bw_tiff_write_channels") != NULL, "message: %s", e.message);
  CHECK(bw_tiff_write_channels(w, &reg, 1, two, &e) == BW_ERR_PARAM, "count 1 of 2: %s",
        e.message);
  CHECK(bw_tiff_write_channels(w, &reg, 2, NULL, &e) == BW_ERR_NULL, "NULL views");
  two[1].dtype = BW_F64;
  CHECK(bw_tiff_write_channels(w, &reg, 2, two, &e) == BW_ERR_DTYPE, "second view's dtype: %s",
        e.message);
  two[1].dtype = BW_F32;
  CHECK(bw_tiff_write_channels(w, &reg, 2, two, &e) == BW_OK, "write: %s", e.message);
  CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);
  unlink(path);
  p.channels = 1;
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  CHECK(bw_tiff_write_channels(w, &reg, 1, &one, &e) == BW_OK, "one channel: %s", e.message);
  CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);
  tmpdir_remove(&t);
}

/* Regions of every allowed form: single rows, bands across strip and tile
 * edges, several whole pages at once, and strided sources (reversed
 * columns, every other row of a larger buffer). */
void test_write_regions(void) {
  TMP_FILE(t, path, "w.tif");
  bw_tiff_write_params p = test_params(BW_I16, 5, 41, 29);
  p.tiled = 1;
  p.tile_width = 16;
  p.tile_length = 16;
  p.compression = BW_TIFF_LZW;
  size_t n;
  int16_t *data = random_image(&p, &n);
  /* A source buffer twice as tall and with columns reversed. */
  ptrdiff_t Z = 5, Y = 41, X = 29;
  int16_t *big = malloc((size_t)(Z * 2 * Y * X) * 2);
  for (ptrdiff_t z = 0; z < Z; z++)
    for (ptrdiff_t y = 0; y < Y; y++)
      for (ptrdiff_t x = 0; x < X; x++)
        big[(z * 2 * Y + 2 * y) * X + (X - 1 - x)] = data[(z * Y + y) * X + x];
  bw_view src;
  src.data = big + (X - 1);
  src.dtype = BW_I16;
  src.ndim = 3;
  src.shape[0] = Z;
  src.shape[1] = Y;
  src.shape[2] = X;
  src.strides[0] = 2 * Y * X * 2;
  src.strides[1] = 2 * X * 2;
  src.strides[2] = -2;

  for (int mode = 0; mode < 2; mode++) {
    p.tiled = mode;
    bw_tiff_writer *w = NULL;
    bw_error e = {BW_OK, ""};
    CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
    /* pages 0-1 whole, page 2 in rows 1, 15, 25; page 3 row by row; page 4 whole */
    bw_region regs[64];
    int nr = 0;
    memset(regs, 0, sizeof regs);
    regs[nr].start[0] = 0, regs[nr].size[0] = 2, regs[nr].size[1] = Y, nr++;
    ptrdiff_t cuts[] = {0, 1, 16, 41};
    for (int i = 0; i < 3; i++)
      regs[nr].start[0] = 2, regs[nr].size[0] = 1, regs[nr].start[1] = cuts[i],
      regs[nr].size[1] = cuts[i + 1] - cuts[i], nr++;
    for (ptrdiff_t y = 0; y < Y; y++)
      regs[nr].start[0] = 3, regs[nr].size[0] = 1, regs[nr].start[1] = y, regs[nr].size[1] = 1,
      nr++;
    regs[nr].start[0] = 4, regs[nr].size[0] = 1, regs[nr].size[1] = Y, nr++;
    for (int i = 0; i < nr; i++) {
      regs[i].size[2] = X;
      CHECK(!bw_tiff_writer_complete(w), "complete too early");
      bw_view sub;
      CHECK(bw_view_subview(&src, &regs[i], &sub, &e) == BW_OK, "subview");
      CHECK(bw_tiff_write(w, &regs[i], &sub, &e) == BW_OK, "write region %d: %s", i,
            e.message);
    }
    CHECK(bw_tiff_writer_complete(w), "not complete");
    CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);
    bw_tiff_info in;
    int16_t *back = read_file(path, &in, &e);
    CHECK(back, "read: %s", e.message);
    int same = memcmp(back, data, n * 2) == 0;
    free(back);
    CHECK(same, "data differ (mode %d)", mode);
  }
  free(big);
  free(data);
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Spacing, BigTIFF, tags                                                   */
/* ------------------------------------------------------------------------ */

void test_spacing_roundtrip(void) {
  TMP_FILE(t, path, "sp.tif");
  static const double sets[][3] = {{1, 1, 1}, {2.5, 0.123456789012345, 3.3e-4},
                                   {1e-7, 1e5, 0.1}, {0.3, 0.3, 0.30000000000000004}};
  for (int nd = 2; nd <= 3; nd++)
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
      bw_tiff_write_params p;
      bw_tiff_write_params_init(&p);
      p.ndim = nd;
      p.shape[0] = 2;
      p.shape[1] = 3;
      p.shape[2] = 4;
      memcpy(p.spacing, sets[k], sizeof sets[k]);
      uint8_t data[24] = {0};
      bw_error e = {BW_OK, ""};
      bw_tiff_reader *r = write_and_open(path, &p, data, 0, &e);
      CHECK(r, "write and open: %s", e.message);
      const bw_tiff_info *in = bw_tiff_reader_info(r);
      for (int i = 0; i < nd; i++)
        CHECK(in->spacing[i] == sets[k][i], "nd %d set %zu axis %d: %.17g != %.17g", nd, k, i,
              in->spacing[i], sets[k][i]);
      bw_tiff_close(r);
    }
  tmpdir_remove(&t);
}

/* BigTIFF: forced, automatic for images past 4 GB (checked on the header
 * of the temporary file, then aborted), refused when forbidden. */
void test_bigtiff(void) {
  TMP_FILE(t, path, "b.tif");
  bw_tiff_write_params p = test_params(BW_F64, 2, 17, 19);
  p.bigtiff = 1;
  p.compression = BW_TIFF_DEFLATE;
  p.predictor = 1;
  size_t n;
  double *data = random_image(&p, &n);
  bw_error e = {BW_OK, ""};
  CHECK(write_array(path, &p, data, 4, &e) == BW_OK, "write: %s", e.message);
  bw_tiff_info in;
  double *back = read_file(path, &in, &e);
  CHECK(back && memcmp(back, data, n * 8) == 0, "bigtiff data: %s", e.message);
  CHECK(in.bigtiff == 1, "not BigTIFF");
  free(back);
  free(data);
  unlink(path);

  bw_tiff_write_params_init(&p);
  p.ndim = 3;
  p.shape[0] = 3;
  p.shape[1] = 40000;
  p.shape[2] = 40000; /* 4.8 GB of u8 */
  for (int mode = 0; mode < 4; mode++) {
    p.bigtiff = mode == 1 ? 0 : -1;
    p.compression = mode >= 2 ? BW_TIFF_LZW : BW_TIFF_NONE;
    if (mode == 3) p.bigtiff = 0;
    bw_tiff_writer *w = NULL;
    bw_status st = bw_tiff_create(path, &p, &w, &e);
    if (mode == 1) {
      CHECK(st == BW_ERR_PARAM && !w, "bigtiff 0 accepted for 4.8 GB: %s", e.message);
      CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
      continue;
    }
    CHECK(st == BW_OK, "create mode %d: %s", mode, e.message);
    char name[256], tmp[900];
    CHECK(tmpdir_count(&t, name, sizeof name) == 1, "temporary file");
    CHECK(strncmp(name, "b.tif.tmp-", 10) == 0, "temporary name %s", name);
    snprintf(tmp, sizeof tmp, "%s/%s", t.path, name);
    size_t sz;
    unsigned char *hdr = slurp(tmp, &sz);
    CHECK(hdr && sz >= 8, "header");
    int version = host_big_endian() ? hdr[3] : hdr[2];
    free(hdr);
    CHECK(version == (mode == 3 ? 42 : 43), "mode %d: version %d", mode, version);
    bw_tiff_abort(w);
    CHECK(tmpdir_count(&t, NULL, 0) == 0, "abort left a file");
  }
  tmpdir_remove(&t);
}

/* Writer tags, found in the raw bytes: Software names Blockwise and its
 * version, ImageDescription holds the page count and the spacing lines in
 * their shortest exact form. */
void test_tags(void) {
  TMP_FILE(t, path, "tags.tif");
  static const double sp[3] = {4, 0.1, 0.25};
  bw_tiff_write_params p = test_params(BW_U8, 2, 2, 2);
  memcpy(p.spacing, sp, sizeof sp);
  uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  bw_error e = {BW_OK, ""};
  CHECK(write_array(path, &p, data, 1, &e) == BW_OK, "write: %s", e.message);
  size_t sz;
  char *img = (char *)slurp(path, &sz);
  CHECK(img, "slurp");
  char want[64];
  snprintf(want, sizeof want, "Blockwise %s", bw_version_string());
  const char *desc = "images=2\nxspacing=0.25\nyspacing=0.1\nspacing=4\n";
  size_t lw = strlen(want) + 1, ld = strlen(desc) + 1;
  int found_sw = 0, found_desc = 0;
  for (size_t i = 0; i < sz; i++) {
    if (i + lw <= sz && memcmp(img + i, want, lw) == 0) found_sw++;
    if (i + ld <= sz && memcmp(img + i, desc, ld) == 0) found_desc++;
  }
  free(img);
  CHECK(found_sw == 2, "Software tag on both pages (%d)", found_sw);
  CHECK(found_desc == 2, "description on both pages (%d)", found_desc);
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Every bad parameter of bw_tiff_create: its status, a message, no file. */
void test_writer_params(void) {
  TMP_FILE(t, path, "p.tif");
  struct {
    const char *what;
    bw_status want;
    int field;
    double value;
  } cases[] = {
      {"dtype 0", BW_ERR_DTYPE, 0, 0},       {"dtype 99", BW_ERR_DTYPE, 0, 99},
      {"ndim 1", BW_ERR_NDIM, 1, 1},         {"ndim 4", BW_ERR_NDIM, 1, 4},
      {"shape 0", BW_ERR_SHAPE, 2, 0},       {"shape -3", BW_ERR_SHAPE, 2, -3},
      {"shape 2^32", BW_ERR_SHAPE, 2, 4294967296.0},
      {"spacing 0", BW_ERR_PARAM, 3, 0},     {"spacing -1", BW_ERR_PARAM, 3, -1},
      {"spacing nan", BW_ERR_PARAM, 3, NAN}, {"spacing inf", BW_ERR_PARAM, 3, INFINITY},
      {"compression 9", BW_ERR_PARAM, 4, 9}, {"compression -1", BW_ERR_PARAM, 4, -1},
      {"level for lzw", BW_ERR_PARAM, 5, 3}, {"deflate level 10", BW_ERR_PARAM, 6, 10},
      {"zstd level 23", BW_ERR_PARAM, 7, 23},
      {"predictor without compression", BW_ERR_PARAM, 8, 1},
      {"predictor 2", BW_ERR_PARAM, 9, 2},   {"tile width 100", BW_ERR_PARAM, 10, 100},
      {"tile length 8", BW_ERR_PARAM, 11, 8}, {"tile width 0", BW_ERR_PARAM, 10, 0},
      {"tiled 2", BW_ERR_PARAM, 12, 2},      {"bigtiff 2", BW_ERR_PARAM, 13, 2},
      {"strip over 1 GiB", BW_ERR_PARAM, 14, 0}, {"tile row over 1 GiB", BW_ERR_PARAM, 15, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.shape[0] = 10;
    p.shape[1] = 10;
    double v = cases[k].value;
    switch (cases[k].field) {
    case 0: p.dtype = (bw_dtype)(int)v; break;
    case 1: p.ndim = (int)v; break;
    case 2: p.shape[1] = (int64_t)v; break;
    case 3: p.spacing[0] = v; break;
    case 4: p.compression = (bw_tiff_compression)(int)v; break;
    case 5: p.compression = BW_TIFF_LZW, p.level = (int)v; break;
    case 6: p.compression = BW_TIFF_DEFLATE, p.level = (int)v; break;
    case 7: p.compression = BW_TIFF_ZSTD, p.level = (int)v; break;
    case 8: p.predictor = (int)v; break;
    case 9: p.compression = BW_TIFF_LZW, p.predictor = (int)v; break;
    case 10: p.tiled = 1, p.tile_width = (uint32_t)v; break;
    case 11: p.tiled = 1, p.tile_length = (uint32_t)v; break;
    case 12: p.tiled = (int)v; break;
    case 13: p.bigtiff = (int)v; break;
    case 14: p.dtype = BW_F64, p.shape[0] = 100000, p.shape[1] = 200000000,
             p.rows_per_strip = 1000; break;
    case 15: p.dtype = BW_F64, p.shape[1] = 4000000000, p.tiled = 1; break;
    }
    if (cases[k].field == 7 && !bw_tiff_compression_available(BW_TIFF_ZSTD)) continue;
    bw_tiff_writer *w = NULL;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_create(path, &p, &w, &e);
    CHECK(st == cases[k].want && !w, "%s: status %s (%s)", cases[k].what, bw_status_string(st),
          e.message);
    CHECK(e.status == st && strlen(e.message) > 10, "%s: message '%s'", cases[k].what,
          e.message);
    CHECK(tmpdir_count(&t, NULL, 0) == 0, "%s: file left", cases[k].what);
  }
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.shape[0] = p.shape[1] = 4;
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_create(NULL, &p, &w, &e) == BW_ERR_NULL, "NULL path");
  CHECK(bw_tiff_create(path, NULL, &w, &e) == BW_ERR_NULL, "NULL params");
  CHECK(bw_tiff_create(path, &p, NULL, &e) == BW_ERR_NULL, "NULL out");
  char nodir[700];
  tmpdir_file(&t, "no/such/folder/x.tif", nodir, sizeof nodir);
  CHECK(bw_tiff_create(nodir, &p, &w, &e) == BW_ERR_IO && !w, "missing folder: %s",
        e.message);
  CHECK(strstr(e.message, "No such file") != NULL, "message: %s", e.message);
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
  tmpdir_remove(&t);
}

/* Misplaced regions and mismatched views: an error, nothing changes, the
 * writer goes on.  Finishing early fails and leaves nothing behind; so does
 * aborting. */
void test_writer_sequence(void) {
  TMP_FILE(t, path, "seq.tif");
  bw_tiff_write_params p = test_params(BW_U16, 3, 10, 6);
  size_t n;
  uint16_t *data = random_image(&p, &n);
  ptrdiff_t shape[3] = {3, 10, 6};
  bw_view all = bw_view_contiguous(data, BW_U16, 3, shape);
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  struct {
    bw_region reg;
    bw_status want;
  } bad[] = {
      {{{0, 3, 0}, {1, 2, 6}}, BW_ERR_REGION},  /* skips rows 0-2 */
      {{{1, 0, 0}, {1, 10, 6}}, BW_ERR_REGION}, /* page 1 first */
      {{{0, 0, 0}, {1, 2, 5}}, BW_ERR_REGION},  /* not whole rows */
      {{{0, 0, 1}, {1, 2, 5}}, BW_ERR_REGION},
      {{{0, 0, 0}, {2, 5, 6}}, BW_ERR_REGION},  /* two pages, part of each */
      {{{0, 0, 0}, {1, 11, 6}}, BW_ERR_REGION}, /* past the end */
      {{{0, -1, 0}, {1, 2, 6}}, BW_ERR_REGION},
      {{{0, 0, 0}, {4, 10, 6}}, BW_ERR_REGION},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    bw_view v = all;
    for (int i = 0; i < 3; i++) v.shape[i] = bad[k].reg.size[i];
    bw_status st = bw_tiff_write(w, &bad[k].reg, &v, &e);
    CHECK(st == bad[k].want, "bad region %zu: %s (%s)", k, bw_status_string(st), e.message);
    CHECK(strlen(e.message) > 10, "message");
  }
  bw_region first = {{0, 0, 0}, {1, 4, 6}};
  bw_view sub;
  CHECK(bw_view_subview(&all, &first, &sub, &e) == BW_OK, "subview");
  bw_view wrong = sub;
  wrong.shape[1] = 3;
  CHECK(bw_tiff_write(w, &first, &wrong, &e) == BW_ERR_SHAPE, "shape mismatch: %s", e.message);
  bad_view views[N_BAD_VIEWS];
  bad_views(&sub, BW_I16, views);
  for (int k = 0; k < N_BAD_VIEWS; k++)
    CHECK(bw_tiff_write(w, &first, &views[k].v, &e) == views[k].want, "%s", views[k].what);
  CHECK(bw_tiff_write(w, NULL, &sub, &e) == BW_ERR_NULL, "NULL region");
  /* Still usable: write everything properly. */
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_OK, "first: %s", e.message);
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_ERR_REGION, "the same rows twice");
  bw_region rest = {{0, 4, 0}, {1, 6, 6}};
  CHECK(bw_view_subview(&all, &rest, &sub, &e) == BW_OK, "subview");
  CHECK(bw_tiff_write(w, &rest, &sub, &e) == BW_OK, "rest: %s", e.message);
  bw_region pages = {{1, 0, 0}, {2, 10, 6}};
  CHECK(bw_view_subview(&all, &pages, &sub, &e) == BW_OK, "subview");
  CHECK(bw_tiff_write(w, &pages, &sub, &e) == BW_OK, "pages: %s", e.message);
  CHECK(bw_tiff_writer_complete(w), "complete");
  CHECK(bw_tiff_write(w, &pages, &sub, &e) == BW_ERR_REGION, "past the end");
  CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);
  uint16_t *back = read_file(path, NULL, &e);
  CHECK(back && memcmp(back, data, n * 2) == 0, "data: %s", e.message);
  free(back);
  unlink(path);

  /* Finishing early. */
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  CHECK(bw_view_subview(&all, &first, &sub, &e) == BW_OK, "subview");
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_OK, "first: %s", e.message);
  CHECK(tmpdir_count(&t, NULL, 0) == 1, "temporary file while writing");
  CHECK(access(path, F_OK) != 0, "final name exists before finish");
  bw_status st = bw_tiff_finish(w, &e);
  CHECK(st == BW_ERR_REGION, "early finish: %s (%s)", bw_status_string(st), e.message);
  CHECK(strstr(e.message, "4 of 30 rows") != NULL, "message: %s", e.message);
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left after early finish");
  /* Aborting. */
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_OK, "first: %s", e.message);
  bw_tiff_abort(w);
  bw_tiff_abort(NULL);
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left after abort");
  CHECK(bw_tiff_finish(NULL, &e) == BW_ERR_NULL, "NULL finish");
  free(data);
  tmpdir_remove(&t);
}

/* A write that fails at the system level (file size limit): BW_ERR_IO
 * with the system's message, the temporary file removed, later calls
 * refused. */
void test_writer_io_failure(void) {
  TMP_FILE(t, path, "io.tif");
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.shape[0] = 1000;
  p.shape[1] = 1000;
  size_t n = nelem(2, p.shape);
  uint8_t *data = malloc(n);
  fill_random(data, BW_U8, n);
  struct rlimit old, lim;
  CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0, "getrlimit");
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  lim = old;
  lim.rlim_cur = 100000;
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  bw_status st = bw_tiff_create(path, &p, &w, &e);
  ptrdiff_t sh[2] = {1000, 1000};
  bw_view all = bw_view_contiguous(data, BW_U8, 2, sh);
  bw_status wst = BW_OK;
  bw_error we = {BW_OK, ""};
  if (st == BW_OK) {
    bw_region reg = {{0, 0, 0}, {1000, 1000, 0}};
    wst = bw_tiff_write(w, &reg, &all, &we);
  }
  int left = tmpdir_count(&t, NULL, 0);
  bw_status again = BW_OK;
  if (st == BW_OK) {
    bw_region reg = {{0, 0, 0}, {1000, 1000, 0}};
    again = bw_tiff_write(w, &reg, &all, &e);
  }
  bw_status fst = st == BW_OK ? bw_tiff_finish(w, &e) : BW_OK;
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  free(data);
  CHECK(st == BW_OK, "create: %s", e.message);
  CHECK(wst == BW_ERR_IO, "write past the size limit: %s (%s)", bw_status_string(wst),
        we.message);
  CHECK(strstr(we.message, "too large") != NULL, "message: %s", we.message);
  CHECK(left == 0, "temporary file not removed");
  CHECK(again == BW_ERR_IO, "a failed writer accepted more");
  CHECK(fst == BW_ERR_IO, "finish of a failed writer: %s", bw_status_string(fst));
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Compression names                                                        */
/* ------------------------------------------------------------------------ */

/* Every name both ways, in any case; bad names and values; the levels and
 * predictors of each scheme; and the name the reader gives a file written
 * with each scheme.  Oracle: bw_tiff.h's list, written out here, and
 * libtiff's codes of the schemes (TIFF 6 and its registry). */
void test_compression_names(void) {
  static const struct {
    bw_tiff_compression c;
    const char *name, *upper, *mixed;
    int max_level, predictor, code;
  } table[] = {
      {BW_TIFF_NONE, "none", "NONE", "None", 0, 0, 1},
      {BW_TIFF_LZW, "lzw", "LZW", "Lzw", 0, 1, 5},
      {BW_TIFF_DEFLATE, "deflate", "DEFLATE", "DeFlate", 9, 1, 8},
      {BW_TIFF_PACKBITS, "packbits", "PACKBITS", "PackBits", 0, 0, 32773},
      {BW_TIFF_ZSTD, "zstd", "ZSTD", "zStD", 22, 1, 50000},
  };
  TMP_FILE(t, path, "names.tif");
  for (size_t k = 0; k < sizeof table / sizeof *table; k++) {
    const char *name = bw_tiff_compression_name(table[k].c);
    CHECK(name && strcmp(name, table[k].name) == 0, "name of %d: %s", (int)table[k].c,
          name ? name : "NULL");
    const char *spellings[] = {table[k].name, table[k].upper, table[k].mixed};
    for (int s = 0; s < 3; s++) {
      bw_tiff_compression c = (bw_tiff_compression)-1;
      bw_error e = {BW_OK, ""};
      CHECK(bw_tiff_compression_from_name(spellings[s], &c, &e) == BW_OK && c == table[k].c,
            "from_name(\"%s\"): %d (%s)", spellings[s], (int)c, e.message);
    }
    CHECK(bw_tiff_compression_max_level(table[k].c) == table[k].max_level, "%s: max level %d",
          name, bw_tiff_compression_max_level(table[k].c));
    CHECK(bw_tiff_compression_has_predictor(table[k].c) == table[k].predictor,
          "%s: predictor %d", name, bw_tiff_compression_has_predictor(table[k].c));
    if (!bw_tiff_compression_available(table[k].c)) continue;
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.shape[0] = 9;
    p.shape[1] = 11;
    p.compression = table[k].c;
    p.level = table[k].max_level;
    p.predictor = table[k].predictor;
    uint8_t data[99];
    fill_random(data, BW_U8, 99);
    bw_error e = {BW_OK, ""};
    bw_tiff_info in;
    CHECK(write_array(path, &p, data, 4, &e) == BW_OK, "%s: write: %s", name, e.message);
    void *back = read_file(path, &in, &e);
    int same = back && memcmp(back, data, sizeof data) == 0;
    free(back);
    CHECK(same, "%s: pixels differ (%s)", name, e.message);
    CHECK(strcmp(in.compression_name, name) == 0 && in.compression == table[k].code,
          "%s: read back as %s (%d)", name, in.compression_name, in.compression);
    /* A level past the scheme's, or one it lacks: refused, naming it. */
    p.level = table[k].max_level + 1;
    bw_tiff_writer *w = NULL;
    CHECK(bw_tiff_create(path, &p, &w, &e) == BW_ERR_PARAM && !w, "%s: level %d accepted",
          name, p.level);
    CHECK(strstr(e.message, name) != NULL, "%s: message %s", name, e.message);
  }
  static const char *bad[] = {"",        "zip",      "lzw ",    " lzw",
                              "deflate2", "lz",       "jpeg",    "packbit",
                              "zstd1",    "none\tx", "LZW\n",  "lzw\xc4",
                              /* full-width LZW in UTF-8 */ "\xef\xbc\xac\xef\xbc\xba\xef\xbc\xb7"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    bw_tiff_compression c = BW_TIFF_PACKBITS;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_compression_from_name(bad[k], &c, &e);
    CHECK(st == BW_ERR_PARAM && e.status == st, "from_name(\"%s\"): %s", bad[k],
          bw_status_string(st));
    CHECK(c == BW_TIFF_PACKBITS, "from_name(\"%s\") changed *out", bad[k]);
    CHECK(strstr(e.message, "none, deflate, lzw, packbits or zstd") != NULL,
          "from_name(\"%s\"): message %s", bad[k], e.message);
  }
  bw_tiff_compression c = BW_TIFF_NONE;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_compression_from_name(NULL, &c, &e) == BW_ERR_NULL, "NULL name");
  CHECK(bw_tiff_compression_from_name("lzw", NULL, &e) == BW_ERR_NULL, "NULL out");
  CHECK(bw_tiff_compression_from_name("lzw", &c, NULL) == BW_OK && c == BW_TIFF_LZW,
        "without err");
  CHECK(bw_tiff_compression_from_name("jpeg", &c, NULL) == BW_ERR_PARAM, "bad, without err");
  static const int invalid[] = {-1, 5, 99};
  for (size_t k = 0; k < sizeof invalid / sizeof *invalid; k++) {
    bw_tiff_compression v = (bw_tiff_compression)invalid[k];
    CHECK(bw_tiff_compression_name(v) == NULL, "name of %d", invalid[k]);
    CHECK(bw_tiff_compression_max_level(v) == 0 && bw_tiff_compression_has_predictor(v) == 0 &&
              bw_tiff_compression_available(v) == 0,
          "facts of %d", invalid[k]);
  }
  tmpdir_remove(&t);
}
