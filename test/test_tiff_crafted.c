/*
 * Tests of the TIFF reader on crafted files: files assembled byte by byte
 * (byte orders, fill order, reduced-resolution pages, spacing tags,
 * broken and unsupported files), and valid files cut short or mutated.
 *
 * Oracles: the values the builder put in the files (it shares no code with
 * the library or libtiff); for broken files, the status and a message,
 * nothing printed on stderr, no crash; for truncated and mutated files, no
 * crash and never wrong pixels without an error.
 */
#define _XOPEN_SOURCE 700

#include "tiff_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Files assembled here                                                     */
/* ------------------------------------------------------------------------ */

/* Opens a file image from memory and expects an error with a message. */
static int expect_open_fails(const tb_file *f, bw_status want, const char *what) {
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  bw_status st = bw_tiff_open_memory(f->b, f->n, &r, &e);
  if (st == BW_OK) {
    /* Some breakage shows only when the pixels are decoded. */
    void *buf = read_whole(r, &e);
    bw_tiff_close(r);
    r = NULL;
    if (buf) {
      free(buf);
      fprintf(stderr, "%s: opened and read without error\n", what);
      return 0;
    }
    st = e.status;
  }
  if (r) {
    fprintf(stderr, "%s: reader set on error\n", what);
    return 0;
  }
  if (want != BW_OK && st != want) {
    fprintf(stderr, "%s: status %s, expected %s (%s)\n", what, bw_status_string(st),
            bw_status_string(want), e.message);
    return 0;
  }
  if (getenv("BW_TEST_VERBOSE")) printf("  %s -> %s: %s\n", what, bw_status_string(st), e.message);
  if (e.status != st || strlen(e.message) < 10) {
    fprintf(stderr, "%s: no clear message (%s)\n", what, e.message);
    return 0;
  }
  return 1;
}

/* Opens a file image and expects @want with @word in the message. */
static int expect_status(const tb_file *f, bw_status want, const char *word, const char *what) {
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  bw_status st = bw_tiff_open_memory(f->b, f->n, &r, &e);
  bw_tiff_close(r);
  if (st != want || e.status != st || !strstr(e.message, word)) {
    fprintf(stderr, "%s: %s (%s), expected %s with \"%s\"\n", what, bw_status_string(st),
            e.message, bw_status_string(want), word);
    return 0;
  }
  if (getenv("BW_TEST_VERBOSE")) printf("  %s -> %s: %s\n", what, bw_status_string(st), e.message);
  return 1;
}

/* A crafted file: one or two grey pages (tb_grey(), every pixel byte
 * @fill), then @edit applied to the first page in order (a tag of type 0:
 * removed), and what opening it must give: @want with @word in the message,
 * or with @word NULL, expect_open_fails() (@want BW_OK: any error). */
typedef struct crafted_case {
  const char *what;
  bw_status want;
  const char *word;
  int npages; /* 0: one */
  struct {
    uint32_t w, h;
    int bits, fmt;
    size_t npix; /* at most 64 */
  } page[2];
  tb_tag edit[8];
  uint8_t fill; /* 0: the test's */
} crafted_case;

/* A tag of one value, and a tag removed (crafted_case.edit). */
#define TAG(tag, type, value) {tag, type, 1, {value, 0}, NULL, NULL, 0}
#define UNTAG(tag) {tag, 0, 0, {0, 0}, NULL, NULL, 0}

/* Builds each case (pixel bytes @fill unless it says) and checks it; 1 if
 * all pass (the others say why on stderr). */
static int check_crafted(const crafted_case *cases, size_t n, uint8_t fill) {
  int ok = 1;
  for (size_t k = 0; k < n; k++) {
    const crafted_case *c = &cases[k];
    uint8_t pix[64];
    memset(pix, c->fill ? c->fill : fill, sizeof pix);
    const int npages = c->npages ? c->npages : 1;
    tb_page pg[2];
    for (int i = 0; i < npages; i++)
      tb_grey(&pg[i], c->page[i].w, c->page[i].h, c->page[i].bits, c->page[i].fmt, pix,
              c->page[i].npix);
    const size_t nedit = sizeof c->edit / sizeof *c->edit;
    for (const tb_tag *t = c->edit; t < c->edit + nedit && t->tag; t++) {
      if (t->type)
        tb_set_tag(&pg[0], t);
      else
        tb_remove(&pg[0], t->tag);
    }
    tb_file f;
    tb_build(&f, 0, pg, npages);
    if (!(c->word ? expect_status(&f, c->want, c->word, c->what)
                  : expect_open_fails(&f, c->want, c->what)))
      ok = 0;
    free(f.b);
  }
  return ok;
}

/* Big-endian and little-endian files of every dtype, one strip, with and
 * without SampleFormat (missing means unsigned). */
void test_crafted_byte_orders(void) {
  for (int di = 0; di < BW_TEST_NDTYPES; di++)
    for (int be = 0; be <= 1; be++)
      for (int omit_fmt = 0; omit_fmt <= 1; omit_fmt++) {
        bw_dtype dt = bw_test_dtypes[di];
        int fmt = (dt == BW_F32 || dt == BW_F64) ? 3
                  : (dt == BW_I8 || dt == BW_I16 || dt == BW_I32) ? 2
                                                                  : 1;
        if (omit_fmt && fmt != 1) continue;
        size_t es = bw_dtype_size(dt);
        const uint32_t W = 7, H = 5;
        unsigned char *vals = malloc(W * H * es), *pix = malloc(W * H * es);
        fill_random(vals, dt, W * H);
        memcpy(pix, vals, W * H * es);
        if (be != host_big_endian()) swap_elems(pix, W * H, es);
        tb_page pg;
        tb_grey(&pg, W, H, (int)(8 * es), omit_fmt ? 0 : fmt, pix, W * H * es);
        tb_file f;
        tb_build(&f, be, &pg, 1);
        bw_tiff_reader *r = NULL;
        bw_error e = {BW_OK, ""};
        CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "%s be %d: %s",
              bw_dtype_name(dt), be, e.message);
        const bw_tiff_info *in = bw_tiff_reader_info(r);
        CHECK(in->dtype == dt && in->ndim == 2 && in->shape[0] == H && in->shape[1] == W,
              "info %s", bw_dtype_name(in->dtype));
        CHECK(in->big_endian == be && in->bigtiff == 0, "byte order");
        CHECK(strcmp(in->compression_name, "none") == 0, "name %s", in->compression_name);
        CHECK(in->spacing[0] == 1 && in->spacing[1] == 1, "default spacing");
        void *back = read_whole(r, &e);
        bw_tiff_close(r);
        CHECK(back && memcmp(back, vals, W * H * es) == 0, "%s be %d: values differ",
              bw_dtype_name(dt), be);
        free(back);
        free(vals);
        free(pix);
        free(f.b);
      }
}

/* FillOrder 2 (bits of each byte reversed), as libtiff decodes it: the
 * direct row reads agree with libtiff's own decoding of the same bytes. */
void test_crafted_fill_order(void) {
  uint8_t vals[16], pix[16];
  for (int i = 0; i < 16; i++) {
    vals[i] = (uint8_t)(i * 37 + 1);
    uint8_t b = vals[i], rev = 0;
    for (int k = 0; k < 8; k++) rev |= (uint8_t)(((b >> k) & 1) << (7 - k));
    pix[i] = rev;
  }
  tb_page pg;
  tb_grey(&pg, 4, 4, 8, 1, pix, 16);
  tb_set(&pg, 266, T_SHORT, 2);
  tb_file f;
  tb_build(&f, 0, &pg, 1);
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "open: %s", e.message);
  uint8_t *back = read_whole(r, &e);
  bw_tiff_close(r);
  CHECK(back && memcmp(back, vals, 16) == 0, "fill order 2 not undone");
  free(back);
  free(f.b);
}

/* Reduced-resolution pages (NewSubfileType bit 0) are skipped; the others
 * form Z. */
void test_crafted_reduced_pages(void) {
  uint8_t a[12], small[3], c[12];
  for (int i = 0; i < 12; i++) a[i] = (uint8_t)i, c[i] = (uint8_t)(100 + i);
  memset(small, 7, sizeof small);
  tb_page pg[3];
  tb_grey(&pg[0], 4, 3, 8, 1, a, 12);
  tb_grey(&pg[1], 2, 1, 8, 1, small, 2);
  tb_set(&pg[1], 254, T_LONG, 1);
  tb_grey(&pg[2], 4, 3, 8, 1, c, 12);
  tb_set(&pg[2], 254, T_LONG, 2); /* a page of a multi-page file: kept */
  tb_file f;
  tb_build(&f, 1, pg, 3);
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "open: %s", e.message);
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  CHECK(in->ndim == 3 && in->shape[0] == 2 && in->shape[1] == 3 && in->shape[2] == 4,
        "shape %d %lld", in->ndim, (long long)in->shape[0]);
  uint8_t *back = read_whole(r, &e);
  bw_tiff_close(r);
  CHECK(back && memcmp(back, a, 12) == 0 && memcmp(back + 12, c, 12) == 0, "pages differ");
  free(back);
  free(f.b);
}

/* Spacing read from resolution tags in inches, centimetres and without
 * unit, and from description lines (which win), including ImageJ's (in
 * its unit, whatever ResolutionUnit says); whether it is stated, and
 * where it comes from. */
void test_crafted_spacing(void) {
  uint8_t pix[6] = {1, 2, 3, 4, 5, 6};
  struct {
    int unit; /* 0: no ResolutionUnit tag (TIFF default: inch) */
    uint32_t xn, xd, yn, yd;
    const char *desc;
    int pages;
    double want[3]; /* C order */
    int stated;
    const char *source;
  } cases[] = {
      {2, 300, 1, 150, 1, NULL, 1, {25.4 / 150, 25.4 / 300, 0}, 1, "resolution tags"},
      {0, 72, 1, 72, 1, NULL, 1, {25.4 / 72, 25.4 / 72, 0}, 1, "resolution tags"},
      {3, 2000, 1, 4000, 1, NULL, 1, {10.0 / 4000, 10.0 / 2000, 0}, 1, "resolution tags"},
      {1, 4, 1, 2, 1, NULL, 1, {0.5, 0.25, 0}, 0, "resolution tags"},
      {1, 1, 1, 1, 1, NULL, 1, {1, 1, 0}, 0, "none"},
      {5, 4, 1, 4, 1, NULL, 1, {0.25e-3, 0.25e-3, 0}, 1, "resolution tags"},
      {3, 2000, 1, 4000, 1, "xspacing=0.123\nyspacing=7\n", 1, {7, 0.123, 0}, 1, "Blockwise"},
      {1, 5, 1, 5, 1, "ImageJ=1.53t\nimages=2\nslices=2\nunit=micron\nspacing=2.5\n", 2,
       {2.5e-3, 0.2e-3, 0.2e-3}, 1, "ImageJ"},
      {3, 5, 1, 5, 1, "ImageJ=1.53t\nimages=2\nslices=2\nunit=nm\nspacing=2.5\n", 2,
       {2.5e-6, 0.2e-6, 0.2e-6}, 1, "ImageJ"},
      {3, 5, 1, 5, 1, "ImageJ=1.53t\nimages=2\nslices=2\nspacing=2.5\n", 2, {25, 2, 2}, 1,
       "resolution tags"},
      {3, 5, 1, 5, 1, "ImageJ=1.53t\nimages=2\nslices=2\nunit=pixel\nspacing=2.5\n", 2,
       {2.5, 0.2, 0.2}, 0, "ImageJ"},
      {3, 0, 1, 10, 0, "spacing=-4\nxspacing=nan\n", 2, {1, 1, 1}, 0, "none"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    tb_page pg[2];
    for (int p = 0; p < cases[k].pages; p++) {
      tb_grey(&pg[p], 3, 2, 8, 1, pix, 6);
      if (cases[k].unit) tb_set(&pg[p], 296, T_SHORT, (uint64_t)cases[k].unit);
      tb_tag xr = {282, T_RATIONAL, 1, {cases[k].xn, cases[k].xd}, NULL, NULL, 0};
      tb_tag yr = {283, T_RATIONAL, 1, {cases[k].yn, cases[k].yd}, NULL, NULL, 0};
      tb_set_tag(&pg[p], &xr);
      tb_set_tag(&pg[p], &yr);
      if (cases[k].desc) {
        tb_tag d = {270, T_ASCII, 0, {0, 0}, NULL, cases[k].desc, 0};
        tb_set_tag(&pg[p], &d);
      }
    }
    tb_file f;
    tb_build(&f, 0, pg, cases[k].pages);
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "case %zu: %s", k, e.message);
    const bw_tiff_info *in = bw_tiff_reader_info(r);
    int nd = cases[k].pages > 1 ? 3 : 2;
    CHECK(in->ndim == nd, "case %zu ndim", k);
    for (int i = 0; i < nd; i++)
      CHECK(fabs(in->spacing[i] - cases[k].want[i]) <= 1e-6 * cases[k].want[i],
            "case %zu: spacing[%d] %.9g, want %.9g", k, i, in->spacing[i], cases[k].want[i]);
    CHECK(in->spacing_stated == cases[k].stated && strcmp(in->spacing_source, cases[k].source) == 0,
          "case %zu: stated %d by %s, want %d by %s", k, in->spacing_stated, in->spacing_source,
          cases[k].stated, cases[k].source);
    bw_tiff_close(r);
    free(f.b);
  }
}

/* ------------------------------------------------------------------------ */
/* Broken files                                                             */
/* ------------------------------------------------------------------------ */

/* Broken and unsupported files: an error status with a message, nothing
 * printed, no crash, no huge allocation. */
void test_bad_files(void) {
  TMP_CAPTURE(t, cap);
  int ok = 1;
  uint8_t pix[64];
  memset(pix, 9, sizeof pix);
  tb_page pg[2];
  tb_file f;

  /* Not TIFF at all. */
  {
    const char junk[] = "PK\x03\x04 this is a zip file, not a TIFF file at all";
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    if (bw_tiff_open_memory(junk, sizeof junk, &r, &e) != BW_ERR_PARAM || r ||
        strlen(e.message) < 10)
      ok = 0, fprintf(stderr, "wrong magic: %s\n", e.message);
    if (bw_tiff_open_memory(junk, 0, &r, &e) == BW_OK || r)
      ok = 0, fprintf(stderr, "empty file accepted\n");
    if (bw_tiff_open_memory(junk, 5, &r, &e) == BW_OK || r)
      ok = 0, fprintf(stderr, "5 bytes accepted\n");
  }
  /* Headers libtiff refuses, said in words (never libtiff's own text). */
  {
    static const struct {
      const char *bytes;
      size_t n;
      const char *words;
    } heads[] = {
        {"PK\x03\x04 not a TIFF", 16, "does not start as a TIFF file does"},
        {"II*", 3, "too few for a TIFF header"},
        {"MM\0\x2c\0\0\0\x08\0\0", 10, "version 44, not 42"},
        {"II+\0\x08\0\0\0", 8, "too short for a BigTIFF header"},
        {"II*\0\xf0\0\0\0\0\0", 10, "first directory lies at byte 240, outside the file"},
        {"II*\0\0\0\0\0\0\0", 10, "first directory lies at byte 0"},
        {"II*\0\x08\0\0\0\xff\xff\0\0", 12, "claims 65535 entries"},
    };
    for (size_t i = 0; i < sizeof heads / sizeof *heads; i++) {
      bw_tiff_reader *r = NULL;
      bw_error e = {BW_OK, ""};
      const bw_status st = bw_tiff_open_memory(heads[i].bytes, heads[i].n, &r, &e);
      if (st != BW_ERR_PARAM || r || !strstr(e.message, "not a readable TIFF file: ") ||
          !strstr(e.message, heads[i].words) || strstr(e.message, "TIFF directory") ||
          strstr(e.message, "magic"))
        ok = 0, fprintf(stderr, "header %zu: %s, expected \"%s\"\n", i, e.message, heads[i].words);
    }
  }
  /* Files of the builder, pixel bytes 9 unless a case says. */
  static const uint64_t offs[2] = {0, 32}, counts[2] = {32, 10};
  static const crafted_case cases[] = {
      {.what = "zero width", .want = BW_OK, .page = {{0, 8, 8, 1, 64}}},
      {.what = "zero length", .want = BW_OK, .page = {{8, 0, 8, 1, 64}}},
      /* 2^31 x 2^31 with one tiny strip per row, and with one strip. */
      {.what = "absurd dimensions, 1 row per strip", .want = BW_ERR_PARAM,
       .page = {{1u << 31, 1u << 31, 8, 1, 64}}, .edit = {TAG(278, T_LONG, 1)}},
      {.what = "absurd dimensions, one strip", .want = BW_ERR_PARAM,
       .page = {{1u << 31, 1u << 31, 8, 1, 64}}},
      {.what = "absurd dimensions, one LZW strip", .want = BW_ERR_PARAM,
       .page = {{1u << 31, 1u << 31, 8, 1, 64}}, .edit = {TAG(259, T_SHORT, 5)}},
      /* Huge tiles. */
      {.what = "32 GiB tiles", .want = BW_ERR_PARAM, .page = {{8, 8, 64, 3, 64}},
       .edit = {UNTAG(273), UNTAG(278), UNTAG(279), TAG(322, T_LONG, 65536),
                TAG(323, T_LONG, 65536), {324, T_LONG, 1, {0, 0}, NULL, NULL, 1},
                TAG(325, T_LONG, 64)}},
      /* Compressed strips far too large for what they hold. */
      {.what = "9 GiB deflate strip", .want = BW_ERR_PARAM, .page = {{70000, 70000, 16, 1, 64}},
       .edit = {TAG(259, T_SHORT, 8)}},
      /* A strip beyond the end of the file, uncompressed and compressed. */
      {.what = "strip past EOF", .want = BW_ERR_PARAM, .page = {{8, 8, 8, 1, 64}},
       .edit = {TAG(273, T_LONG, 1000000)}},
      {.what = "LZW strip past EOF", .want = BW_ERR_PARAM, .page = {{8, 8, 8, 1, 64}},
       .edit = {TAG(273, T_LONG, 1000000), TAG(259, T_SHORT, 5)}},
      /* A strip shorter than its rows (of two: with one strip libtiff takes
       * the count for a mistake and computes it). */
      {.what = "short strip", .want = BW_ERR_PARAM, .page = {{8, 8, 8, 1, 64}},
       .edit = {TAG(278, T_LONG, 4), {273, T_LONG, 2, {0, 0}, offs, NULL, 1},
                {279, T_LONG, 2, {0, 0}, counts, NULL, 0}}},
      /* Codes beyond the LZW table where LZW data should be. */
      {.what = "corrupt LZW", .want = BW_ERR_PARAM, .page = {{8, 8, 8, 1, 64}},
       .edit = {TAG(259, T_SHORT, 5)}, .fill = 0xFF},
      /* Pixel formats this reader declines (those it reads are tested in
       * test_tiff_interop.py against tifffile and PIL). */
      {.what = "CMYK", .want = BW_ERR_DTYPE, .page = {{4, 4, 8, 1, 64}},
       .edit = {TAG(277, T_SHORT, 4), TAG(262, T_SHORT, 5)}},
      {.what = "CIE L*a*b*", .want = BW_ERR_DTYPE, .page = {{4, 4, 8, 1, 48}},
       .edit = {TAG(277, T_SHORT, 3), TAG(262, T_SHORT, 8)}},
      {.what = "uncompressed YCbCr", .want = BW_ERR_DTYPE, .page = {{4, 4, 8, 1, 48}},
       .edit = {TAG(277, T_SHORT, 3), TAG(262, T_SHORT, 6)}},
      {.what = "min-is-white floats", .want = BW_ERR_DTYPE, .page = {{4, 4, 32, 3, 64}},
       .edit = {TAG(262, T_SHORT, 0)}},
      {.what = "bilevel", .want = BW_ERR_DTYPE, .page = {{8, 8, 1, 1, 8}},
       .edit = {TAG(262, T_SHORT, 0)}},
      {.what = "24 bits", .want = BW_ERR_DTYPE, .page = {{4, 4, 24, 1, 48}}},
      {.what = "signed 12 bits", .want = BW_ERR_DTYPE, .page = {{4, 4, 12, 2, 24}}},
      {.what = "24-bit floats", .want = BW_ERR_DTYPE, .page = {{4, 4, 24, 3, 48}}},
      {.what = "complex", .want = BW_ERR_DTYPE, .page = {{4, 4, 32, 6, 64}}},
      {.what = "64-bit integers", .want = BW_ERR_DTYPE, .page = {{4, 4, 64, 1, 64}}},
      {.what = "unknown compression", .want = BW_ERR_UNSUPPORTED, .page = {{4, 4, 8, 1, 16}},
       .edit = {TAG(259, T_SHORT, 12345)}},
      /* Pages that do not stack. */
      {.what = "pages of different sizes", .want = BW_ERR_UNSUPPORTED, .npages = 2,
       .page = {{4, 4, 8, 1, 16}, {5, 4, 8, 1, 20}}},
      {.what = "pages of different types", .want = BW_ERR_DTYPE, .npages = 2,
       .page = {{4, 4, 8, 1, 16}, {4, 4, 16, 1, 32}}},
  };
  if (!check_crafted(cases, sizeof cases / sizeof *cases, 9)) ok = 0;

  /* A directory chain that loops back to itself. */
  {
    tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
    tb_build(&f, 0, pg, 1);
    uint32_t ifd = (uint32_t)f.b[4] | (uint32_t)f.b[5] << 8 | (uint32_t)f.b[6] << 16 | (uint32_t)f.b[7] << 24;
    uint16_t nent = (uint16_t)(f.b[ifd] | f.b[ifd + 1] << 8);
    tb_put(&f, ifd + 2 + 12u * nent, ifd, 4);
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_open_memory(f.b, f.n, &r, &e);
    /* Either refused, or read as the one page it is. */
    if (st == BW_OK) {
      if (bw_tiff_reader_info(r)->ndim != 2) ok = 0, fprintf(stderr, "loop: pages\n");
      bw_tiff_close(r);
    } else if (strlen(e.message) < 10) {
      ok = 0, fprintf(stderr, "loop: no message\n");
    }
    free(f.b);
  }

  long printed = capture_end(&cap);
  CHECK(ok, "see above");
  CHECK(printed == 0, "%ld bytes printed on stderr", printed);
  tmpdir_remove(&t);
}

/* Files cut short at many points, including every one of the last 300
 * bytes (directories and their values): always an error with a message,
 * never a crash or wrong pixels. */
void test_truncated(void) {
  TMP_FILE(t, path, "t.tif");
  capture cap;
  for (int layout = 0; layout < 3; layout++) {
    bw_tiff_write_params p = test_params(BW_U16, 3, 40, 50);
    if (layout == 0) p.rows_per_strip = 40;
    if (layout == 1) p.tiled = 1, p.tile_width = 16, p.tile_length = 16,
                     p.compression = BW_TIFF_LZW;
    if (layout == 2) p.compression = BW_TIFF_DEFLATE, p.rows_per_strip = 7;
    const size_t n = nelem(p.ndim, p.shape);
    unsigned char *img;
    size_t size;
    bw_error e = {BW_OK, ""};
    uint16_t *data = write_random_and_slurp(path, &p, 0, &img, &size, &e);
    CHECK(data, "write: %s", e.message);
    capture_begin(&cap, &t);
    int ok = 1;
    for (size_t cut = 0; cut < size; cut += cut + 300 < size ? 1 + cut / 64 : 1) {
      unsigned char *part = malloc(cut ? cut : 1);
      memcpy(part, img, cut);
      bw_tiff_reader *r = NULL;
      e.status = BW_OK;
      e.message[0] = '\0';
      bw_status st = bw_tiff_open_memory(part, cut, &r, &e);
      void *back = NULL;
      if (st == BW_OK) {
        back = read_whole(r, &e);
        const bw_tiff_info *in = bw_tiff_reader_info(r);
        if (back && (in->ndim != 3 || memcmp(back, data, n * 2) != 0)) {
          fprintf(stderr, "layout %d cut %zu: wrong pixels without error\n", layout, cut);
          ok = 0;
        }
        bw_tiff_close(r);
      }
      if (!back && strlen(e.message) < 10) {
        fprintf(stderr, "layout %d cut %zu: no message\n", layout, cut);
        ok = 0;
      }
      if (back) {
        fprintf(stderr, "layout %d cut %zu of %zu: read without error\n", layout, cut, size);
        ok = 0;
      }
      free(back);
      free(part);
    }
    long printed = capture_end(&cap);
    free(img);
    free(data);
    CHECK(ok, "layout %d: see above", layout);
    CHECK(printed == 0, "%ld bytes printed", printed);
  }
  tmpdir_remove(&t);
}

/* Deterministic byte flips in valid files: any outcome but a crash; when
 * the read succeeds, the output is complete (no error is lost). */
void test_mutations(void) {
  TMP_FILE(t, path, "m.tif");
  capture cap;
  static const bw_tiff_compression comps[] = {BW_TIFF_NONE, BW_TIFF_LZW, BW_TIFF_DEFLATE,
                                              BW_TIFF_PACKBITS, BW_TIFF_ZSTD};
  for (int ci = 0; ci < 5; ci++) {
    if (!bw_tiff_compression_available(comps[ci])) continue;
    bw_tiff_write_params p = test_params(BW_I32, 2, 20, 33);
    p.compression = comps[ci];
    p.tiled = ci % 2;
    p.tile_width = p.tile_length = 16;
    p.rows_per_strip = 6;
    p.predictor = comps[ci] == BW_TIFF_LZW || comps[ci] == BW_TIFF_ZSTD;
    unsigned char *img;
    size_t size;
    bw_error e = {BW_OK, ""};
    int32_t *data = write_random_and_slurp(path, &p, 5, &img, &size, &e);
    CHECK(data, "write: %s", e.message);
    capture_begin(&cap, &t);
    for (int it = 0; it < 400; it++) {
      unsigned char *m = malloc(size);
      memcpy(m, img, size);
      int flips = 1 + (int)rnd_below(4);
      for (int k = 0; k < flips; k++) {
        size_t at = (size_t)rnd_below((ptrdiff_t)size);
        /* Half the time aim at the directories (after the pixels). */
        if (rnd() & 1) at = size - 1 - (size_t)rnd_below((ptrdiff_t)(size / 4));
        m[at] = (unsigned char)rnd();
      }
      bw_tiff_reader *r = NULL;
      if (bw_tiff_open_memory(m, size, &r, &e) == BW_OK) {
        const bw_tiff_info *in = bw_tiff_reader_info(r);
        size_t bytes = nelem(in->ndim, in->shape) * bw_dtype_size(in->dtype);
        if (bytes <= ((size_t)1 << 26)) free(read_whole(r, &e));
        bw_tiff_close(r);
      }
      free(m);
    }
    long printed = capture_end(&cap);
    free(img);
    free(data);
    CHECK(printed == 0, "%ld bytes printed", printed);
  }
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Unsupported files                                                        */
/* ------------------------------------------------------------------------ */

/* Valid files in layouts or encodings the reader does not handle give
 * BW_ERR_UNSUPPORTED with a message that names what; corrupt files of the
 * same kinds stay BW_ERR_PARAM, and pixel formats BW_ERR_DTYPE. */
void test_unsupported(void) {
  TMP_CAPTURE(t, cap);
  int ok = 1;
  tb_page pg[1];
  tb_file f;
  static const crafted_case cases[] = {
      {.what = "pages of different sizes", .want = BW_ERR_UNSUPPORTED, .word = "different sizes",
       .npages = 2, .page = {{4, 4, 8, 1, 16}, {5, 4, 8, 1, 20}}},
      {.what = "ImageDepth 2", .want = BW_ERR_UNSUPPORTED, .word = "ImageDepth 2",
       .page = {{4, 4, 8, 1, 16}}, .edit = {TAG(32997, T_LONG, 2)}},
      {.what = "unknown compression", .want = BW_ERR_UNSUPPORTED, .word = "compression 12345",
       .page = {{4, 4, 8, 1, 16}}, .edit = {TAG(259, T_SHORT, 12345)}},
      {.what = "reduced-resolution pages only", .want = BW_ERR_UNSUPPORTED,
       .word = "reduced-resolution", .page = {{4, 4, 8, 1, 16}}, .edit = {TAG(254, T_LONG, 1)}},
      /* ImageJ's layout for large stacks: one directory, the pages' pixels
       * one after the other. */
      {.what = "ImageJ stack after one directory", .want = BW_ERR_UNSUPPORTED, .word = "one page",
       .page = {{4, 4, 8, 1, 64}},
       .edit = {{270, T_ASCII, 0, {0, 0}, NULL, "ImageJ=1.53t\nimages=4\nslices=4\n", 0}}},
      /* The same kinds, corrupt: pixels the file is too small to hold. */
      {.what = "9 GiB of deflate in 64 bytes", .want = BW_ERR_PARAM,
       .word = "truncated or corrupt", .page = {{70000, 70000, 16, 1, 64}},
       .edit = {TAG(259, T_SHORT, 8)}},
      {.what = "32 GiB uncompressed in 64 bytes", .want = BW_ERR_PARAM,
       .word = "truncated or corrupt", .page = {{1u << 28, 16, 64, 3, 64}},
       .edit = {TAG(279, T_LONG, (uint64_t)1 << 31)}},
      {.what = "CMYK", .want = BW_ERR_DTYPE, .word = "CMYK (separated) colour is not supported",
       .page = {{4, 4, 8, 1, 64}}, .edit = {TAG(277, T_SHORT, 4), TAG(262, T_SHORT, 5)}},
      {.what = "no columns", .want = BW_ERR_PARAM, .word = "zero-size image",
       .page = {{0, 4, 8, 1, 16}}},
  };
  if (!check_crafted(cases, sizeof cases / sizeof *cases, 3)) ok = 0;

  /* Rows past the 1 GiB limit in a file that holds them (sparse): valid,
   * not supported. */
  {
    const uint32_t W = (1u << 30) + 16;
    tb_grey(&pg[0], W, 1, 8, 1, NULL, 0);
    tb_set(&pg[0], 273, T_LONG, 4096);
    tb_set(&pg[0], 279, T_LONG, W);
    tb_build(&f, 0, pg, 1);
    char path[600];
    tmpdir_file(&t, "wide.tif", path, sizeof path);
    const int written = spill(path, f.b, f.n) == 0;
    free(f.b);
    if (!written || truncate(path, (off_t)4096 + W) != 0) {
      ok = 0;
      fprintf(stderr, "cannot make the sparse file %s\n", path);
    } else {
      bw_tiff_reader *r = NULL;
      bw_error e = {BW_OK, ""};
      bw_status st = bw_tiff_open(path, &r, &e);
      bw_tiff_close(r);
      if (st != BW_ERR_UNSUPPORTED || !strstr(e.message, "limit of 1 GiB")) {
        ok = 0;
        fprintf(stderr, "1 GiB rows: %s (%s)\n", bw_status_string(st), e.message);
      }
    }
    unlink(path);
  }
  long printed = capture_end(&cap);
  CHECK(ok, "see above");
  CHECK(printed == 0, "%ld bytes printed on stderr", printed);
  CHECK(strcmp(bw_status_string(BW_ERR_UNSUPPORTED), "unknown status") != 0, "status string");
  tmpdir_remove(&t);
}
