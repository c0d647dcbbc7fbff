/*
 * Tests of bw_tiff_band_unit(): the unit is what the strip and tile
 * geometry of the file says, and bands aligned to it, each read through a
 * reader of its own (as threads read them), decode every strip or tile
 * once in all.
 *
 * Oracles: the geometry set by hand, through the writer's parameters
 * (RowsPerStrip, tile sizes) and in files the builder assembles byte by
 * byte (pages of different layouts, PackBits strips encoded here); the
 * number of strips and tiles computed from that geometry; the pixels
 * written.  (test_tiff_interop.py checks the unit of tiffcp's re-layouts
 * against tiffinfo's account of them.)
 */
#define _XOPEN_SOURCE 700

#include "tiff_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the image of a file image in bands of @rows rows per page, the
 * first band ending at row @first (0: @rows), each through a reader of its
 * own; returns 1 when every pixel equals @want (contiguous, C order) and
 * adds the strips or tiles decoded to *decoded. */
static int read_in_bands(const tb_file *f, int64_t rows, int64_t first, const void *want,
                         uint64_t *decoded, bw_error *e) {
  bw_tiff_reader *r = NULL;
  if (bw_tiff_open_memory(f->b, f->n, &r, e) != BW_OK) return 0;
  const bw_tiff_info in = *bw_tiff_reader_info(r);
  bw_tiff_close(r);
  const int nd = in.ndim;
  const size_t es = bw_dtype_size(in.dtype);
  const int64_t pages = nd == 3 ? in.shape[0] : 1, length = in.shape[nd - 2],
                width = in.shape[nd - 1];
  const size_t page_bytes = (size_t)(length * width) * es;
  unsigned char *buf = malloc(page_bytes);
  int ok = buf != NULL;
  for (int64_t z = 0; ok && z < pages; z++)
    for (int64_t y0 = 0; ok && y0 < length;) {
      int64_t y1 = y0 == 0 && first > 0 ? first : y0 + rows;
      if (y1 > length) y1 = length;
      bw_region reg;
      memset(&reg, 0, sizeof reg);
      if (nd == 3) reg.start[0] = (ptrdiff_t)z, reg.size[0] = 1;
      reg.start[nd - 2] = (ptrdiff_t)y0;
      reg.size[nd - 2] = (ptrdiff_t)(y1 - y0);
      reg.size[nd - 1] = (ptrdiff_t)width;
      bw_view v = bw_view_contiguous(buf, in.dtype, nd, reg.size);
      ok = bw_tiff_open_memory(f->b, f->n, &r, e) == BW_OK && bw_tiff_read(r, &reg, &v, e) == BW_OK;
      ok = ok && memcmp(buf, (const unsigned char *)want + (size_t)z * page_bytes +
                                 (size_t)(y0 * width) * es,
                        (size_t)((y1 - y0) * width) * es) == 0;
      bw_tiff_counters c = {0, 0};
      bw_tiff_reader_counters(r, &c);
      *decoded += c.chunks_decoded;
      bw_tiff_close(r);
      r = NULL;
      if (!ok && e->status == BW_OK) snprintf(e->message, sizeof e->message, "pixels differ");
      y0 = y1;
    }
  free(buf);
  return ok;
}

/* Checks the unit of file image @f along every axis, and that bands
 * aligned to it decode @chunks strips or tiles in all (0: uncompressed
 * strips, read by rows, are not counted as decodes), and bands that are not
 * aligned more (when a chunk has several rows).  Returns 1 on success;
 * prints what differs. */
static int check_unit(const char *what, const tb_file *f, int64_t want, uint64_t chunks,
                      const void *data) {
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  if (bw_tiff_open_memory(f->b, f->n, &r, &e) != BW_OK) {
    fprintf(stderr, "%s: open: %s\n", what, e.message);
    return 0;
  }
  const int nd = bw_tiff_reader_info(r)->ndim;
  const int64_t rows = bw_tiff_band_unit(r, nd - 2);
  const int64_t pages = nd == 3 ? bw_tiff_band_unit(r, 0) : 1;
  const int64_t cols = bw_tiff_band_unit(r, nd - 1), below = bw_tiff_band_unit(r, -1),
                past = bw_tiff_band_unit(r, nd);
  bw_tiff_close(r);
  int ok = 1;
  if (rows != want || pages != 1 || cols != 0 || below != 0 || past != 0) {
    fprintf(stderr, "%s: unit %lld rows (want %lld), %lld pages, %lld/%lld/%lld elsewhere\n",
            what, (long long)rows, (long long)want, (long long)pages, (long long)cols,
            (long long)below, (long long)past);
    ok = 0;
  }
  uint64_t decoded = 0;
  if (!read_in_bands(f, want, 0, data, &decoded, &e)) {
    fprintf(stderr, "%s: aligned bands: %s\n", what, e.message);
    ok = 0;
  } else if (chunks && decoded != chunks) {
    fprintf(stderr, "%s: aligned bands decoded %llu chunks, the file has %llu\n", what,
            (unsigned long long)decoded, (unsigned long long)chunks);
    ok = 0;
  }
  /* Bands of the same height shifted by one row: edges inside chunks. */
  decoded = 0;
  if (want > 1 && !read_in_bands(f, want, 1, data, &decoded, &e)) {
    fprintf(stderr, "%s: shifted bands: %s\n", what, e.message);
    ok = 0;
  } else if (want > 1 && chunks && decoded <= chunks) {
    fprintf(stderr, "%s: shifted bands decoded %llu chunks, no more than aligned ones\n", what,
            (unsigned long long)decoded);
    ok = 0;
  }
  return ok;
}

/* Files of the writer, with RowsPerStrip and tile sizes set. */
static int writer_cases(const tmpdir *t) {
  static const struct {
    const char *what;
    bw_tiff_compression compression;
    int tiled;
    uint32_t rps, tw, tl;
    int64_t unit;        /* rows */
    uint64_t chunks;     /* per page, 37 x 45 pixels; 0: uncompressed strips */
  } cases[] = {
      {"uncompressed strips of 7 rows", BW_TIFF_NONE, 0, 7, 0, 0, 1, 0},
      {"uncompressed, one strip", BW_TIFF_NONE, 0, 1000, 0, 0, 1, 0},
      {"deflate strips of 7 rows", BW_TIFF_DEFLATE, 0, 7, 0, 0, 7, 6},
      {"lzw strips of 1 row", BW_TIFF_LZW, 0, 1, 0, 0, 1, 37},
      {"packbits, one strip", BW_TIFF_PACKBITS, 0, 1000, 0, 0, 37, 1},
      {"lzw tiles 16 x 16", BW_TIFF_LZW, 1, 0, 16, 16, 16, 9},
      {"uncompressed tiles 32 x 16", BW_TIFF_NONE, 1, 0, 32, 16, 16, 6},
      {"deflate tiles 16 x 48, taller than the page", BW_TIFF_DEFLATE, 1, 0, 16, 48, 37, 3},
  };
  int ok = 1;
  char path[600];
  tmpdir_file(t, "band.tif", path, sizeof path);
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
    for (int nd = 2; nd <= 3; nd++) {
      bw_tiff_write_params p = test_params(BW_U16, nd == 3 ? 3 : 0, 37, 45);
      p.compression = cases[k].compression;
      p.tiled = cases[k].tiled;
      p.rows_per_strip = cases[k].rps;
      if (p.tiled) p.tile_width = cases[k].tw, p.tile_length = cases[k].tl;
      size_t n;
      uint16_t *data = random_image(&p, &n);
      bw_error e = {BW_OK, ""};
      tb_file f;
      memset(&f, 0, sizeof f);
      if (write_array(path, &p, data, 0, &e) != BW_OK || !(f.b = slurp(path, &f.n))) {
        fprintf(stderr, "%s: write: %s\n", cases[k].what, e.message);
        ok = 0;
      } else {
        char what[128];
        snprintf(what, sizeof what, "%s, %d-D", cases[k].what, nd);
        ok &= check_unit(what, &f, cases[k].unit, cases[k].chunks * (nd == 3 ? 3 : 1), data);
      }
      free(f.b);
      free(data);
    }
  return ok;
}

/* A page of @w x @h 8-bit pixels (@w <= 128) of value page * 31 + 7y + x,
 * at @pix: PackBits strips of @rps rows (each row one literal run), or
 * uncompressed strips (@packbits 0), or uncompressed tiles of @tile x @tile
 * (@tile > 0).  @offs and @counts receive the chunks' offsets (from @pix)
 * and byte counts; returns the bytes written to @pix. */
static size_t make_page(tb_page *pg, uint32_t page, uint32_t w, uint32_t h, uint32_t rps,
                        int packbits, uint32_t tile, unsigned char *pix, uint64_t *offs,
                        uint64_t *counts, unsigned char *values) {
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) values[y * w + x] = (unsigned char)(page * 31 + 7 * y + x);
  size_t at = 0;
  uint32_t nchunks = 0;
  if (tile) {
    for (uint32_t ty = 0; ty < h; ty += tile)
      for (uint32_t tx = 0; tx < w; tx += tile, nchunks++) {
        offs[nchunks] = at;
        for (uint32_t y = ty; y < ty + tile; y++)
          for (uint32_t x = tx; x < tx + tile; x++)
            pix[at++] = y < h && x < w ? values[y * w + x] : 0;
        counts[nchunks] = (uint64_t)tile * tile;
      }
  } else {
    for (uint32_t y0 = 0; y0 < h; y0 += rps, nchunks++) {
      offs[nchunks] = at;
      for (uint32_t y = y0; y < y0 + rps && y < h; y++) {
        if (packbits) pix[at++] = (unsigned char)(w - 1);
        memcpy(pix + at, values + y * w, w);
        at += w;
      }
      counts[nchunks] = at - offs[nchunks];
    }
  }
  tb_grey(pg, w, h, 8, 1, pix, at);
  if (packbits) tb_set(pg, 259, T_SHORT, 32773);
  tb_tag o = {tile ? 324 : 273, T_LONG, nchunks, {0, 0}, offs, NULL, 1};
  tb_tag c = {tile ? 325 : 279, T_LONG, nchunks, {0, 0}, counts, NULL, 0};
  if (tile) {
    tb_remove(pg, 273);
    tb_remove(pg, 278);
    tb_remove(pg, 279);
    tb_set(pg, 322, T_LONG, tile);
    tb_set(pg, 323, T_LONG, tile);
  } else {
    tb_set(pg, 278, T_LONG, rps);
  }
  tb_set_tag(pg, &o);
  tb_set_tag(pg, &c);
  return at;
}

/* Files assembled here: pages of different layouts, whose unit is the
 * least common multiple of theirs, at most a page; tiles. */
static int builder_cases(void) {
  static const struct {
    const char *what;
    uint32_t w, h;
    int npages;
    struct {
      uint32_t rps;
      int packbits;
      uint32_t tile;
    } page[3];
    int64_t unit;
    uint64_t chunks; /* 0: some pages are uncompressed strips (not counted) */
  } cases[] = {
      {"packbits strips of 4 and 6 rows", 6, 24, 2, {{4, 1, 0}, {6, 1, 0}}, 12, 6 + 4},
      {"packbits strips of 4 and 6 rows, uncompressed of 5", 6, 24, 3,
       {{4, 1, 0}, {6, 1, 0}, {5, 0, 0}}, 12, 0},
      {"packbits strips of 4 and 6 rows, 10-row pages", 6, 10, 2, {{4, 1, 0}, {6, 1, 0}}, 10,
       3 + 2},
      {"packbits strips of 3 rows, big-endian", 5, 9, 1, {{3, 1, 0}}, 3, 3},
      {"uncompressed tiles 16 x 16", 20, 40, 1, {{0, 0, 16}}, 16, 2 * 3},
      {"tiles 16 x 16 and packbits strips of 8 rows", 20, 40, 2, {{0, 0, 16}, {8, 1, 0}}, 16,
       2 * 3 + 5},
  };
  int ok = 1;
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    const uint32_t w = cases[k].w, h = cases[k].h;
    tb_page pg[3];
    unsigned char pix[3][2048], values[3 * 20 * 40];
    uint64_t offs[3][64], counts[3][64];
    for (int p = 0; p < cases[k].npages; p++)
      make_page(&pg[p], (uint32_t)p, w, h, cases[k].page[p].rps, cases[k].page[p].packbits,
                cases[k].page[p].tile, pix[p], offs[p], counts[p], values + (size_t)p * w * h);
    tb_file f;
    tb_build(&f, strstr(cases[k].what, "big-endian") != NULL, pg, cases[k].npages);
    ok &= check_unit(cases[k].what, &f, cases[k].unit, cases[k].chunks, values);
    free(f.b);
  }
  return ok;
}

void test_band_unit(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  int ok = writer_cases(&t);
  ok &= builder_cases();
  CHECK(bw_tiff_band_unit(NULL, 0) == 0, "NULL reader");
  CHECK(ok, "see above");
  tmpdir_remove(&t);
}
