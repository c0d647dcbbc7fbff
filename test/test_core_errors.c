/*
 * The core's block statistics on bad input: each invalid argument gives its
 * status and a message and writes nothing; the parameter check gives the
 * operation's own message; the table of statistic names.
 */
#include "core_test_util.h"

#include <stdint.h>
#include <string.h>

/* Each invalid argument returns its status, a message, and leaves every
 * output byte untouched. */
void test_errors_leave_output_untouched(void) {
  enum { H = 12, W = 20 };
  static uint16_t a[H * W], b[H * W];
  static float bf[H * W];
  const ptrdiff_t shape[2] = {H, W}, block[2] = {4, 5}, on[2] = {3, 4};
  double out[12], out2[12];
  uint8_t sentinel[sizeof out];
  memset(sentinel, 0xA5, sizeof sentinel);
  fill_random(a, BW_U16, H * W);
  fill_random(b, BW_U16, H * W);

  /* Each case: its name, the status it must give, and what it breaks. */
  for (int c = 0;; c++) {
    bw_view va = bw_view_contiguous(a, BW_U16, 2, shape);
    bw_view vb = bw_view_contiguous(b, BW_U16, 2, shape);
    bw_block_params p;
    bw_block_params_init(&p, 2, block);
    bw_block_output o[2] = {{BW_STAT_CORR, 0, bw_view_contiguous(out, BW_F64, 2, on)},
                            {BW_STAT_MEAN, 0, bw_view_contiguous(out2, BW_F64, 2, on)}};
    size_t no = 1;
    const bw_view *pa = &va, *pb = &vb;
    const bw_block_params *pp = &p;
    const bw_block_output *po = o;
    const char *name = NULL;
    bw_status want = BW_ERR_PARAM;
    switch (c) {
    case 0: name = "null a", want = BW_ERR_NULL, pa = NULL; break;
    case 1: name = "null params", want = BW_ERR_NULL, pp = NULL; break;
    case 2: name = "null outputs", want = BW_ERR_NULL, po = NULL; break;
    case 3: name = "zero outputs", no = 0; break;
    case 4: name = "null data", want = BW_ERR_NULL, va.data = NULL; break;
    case 5: name = "bad dtype", want = BW_ERR_DTYPE, va.dtype = (bw_dtype)99; break;
    case 6: name = "ndim 4", want = BW_ERR_NDIM, p.ndim = 4; break;
    case 7: name = "view ndim differs", want = BW_ERR_NDIM, va.ndim = 3; break;
    case 8: name = "zero extent", want = BW_ERR_SHAPE, va.shape[1] = 0; break;
    case 9: name = "negative extent", want = BW_ERR_SHAPE, va.shape[0] = -3; break;
    case 10: name = "zero block", want = BW_ERR_BLOCK, p.block[1] = 0; break;
    case 11: name = "negative block", want = BW_ERR_BLOCK, p.block[0] = -4; break;
    case 12: name = "bad edge", p.edge = (bw_edge)7; break;
    case 13: name = "ddof 2", p.ddof = 2; break;
    case 14: name = "bad stat", o[0].stat = (bw_stat)42; break;
    case 15: name = "input 2", o[0].stat = BW_STAT_MEAN, o[0].input = 2; break;
    case 16: name = "corr without b", want = BW_ERR_NULL, pb = NULL; break;
    case 17:
      name = "b dtype differs", want = BW_ERR_DTYPE;
      vb = bw_view_contiguous(bf, BW_F32, 2, shape);
      break;
    case 18: name = "b shape differs", want = BW_ERR_SHAPE, vb.shape[1] = W - 1; break;
    case 19: name = "b null data", want = BW_ERR_NULL, vb.data = NULL; break;
    case 20: name = "output u8", want = BW_ERR_OUTPUT, o[0].view.dtype = BW_U8; break;
    case 21: name = "output shape", want = BW_ERR_OUTPUT, o[0].view.shape[1] = 5; break;
    case 22: name = "output ndim", want = BW_ERR_OUTPUT, o[0].view.ndim = 3; break;
    case 23: name = "output null", want = BW_ERR_OUTPUT, o[0].view.data = NULL; break;
    case 24:
      name = "second output bad", want = BW_ERR_OUTPUT;
      no = 2, o[1].view.shape[0] = 2;
      break;
    case 25:
      name = "trim leaves nothing", want = BW_ERR_BLOCK;
      p.edge = BW_EDGE_TRIM, p.block[1] = W + 1, o[0].view.shape[1] = 0;
      break;
    }
    if (!name) break;
    memset(out, 0xA5, sizeof out);
    memset(out2, 0xA5, sizeof out2);
    bw_error err;
    memset(&err, 0, sizeof err);
    bw_status s = bw_block_stats(pa, pb, pp, po, no, &err);
    CHECK(s == want, "%s: status %d (%s), expected %d", name, s, err.message, want);
    CHECK(err.status == s && err.message[0] != '\0', "%s: no message", name);
    CHECK(memcmp(out, sentinel, sizeof out) == 0 && memcmp(out2, sentinel, sizeof out2) == 0,
          "%s: output was written", name);
    CHECK(strcmp(bw_status_string(s), "unknown status") != 0, "%s: no status string", name);
    /* the same call without an error struct returns the same status */
    CHECK(bw_block_stats(pa, pb, pp, po, no, NULL) == s, "%s: status differs without err", name);
  }
  /* the error message names the offending sizes */
  {
    bw_view va = bw_view_contiguous(a, BW_U16, 2, shape), vb = va;
    vb.shape[0] = 11;
    bw_block_params p;
    bw_block_params_init(&p, 2, block);
    bw_error err;
    bw_block_output o = {BW_STAT_CORR, 0, bw_view_contiguous(out, BW_F64, 2, on)};
    bw_block_stats(&va, &vb, &p, &o, 1, &err);
    CHECK(strstr(err.message, "12x20") && strstr(err.message, "11x20"),
          "message does not name both shapes: %s", err.message);
  }
  /* region map and subview errors */
  {
    bw_block_params p;
    bw_block_params_init(&p, 2, block);
    bw_region r = {{0, 0}, {3, 5}}, in;
    memset(&in, 0x5A, sizeof in);
    bw_region keep = in;
    bw_error err;
    CHECK(bw_block_input_region(&p, shape, &r, &in, &err) == BW_ERR_REGION,
          "region past the output: %s", err.message);
    r.size[1] = 0;
    CHECK(bw_block_input_region(&p, shape, &r, &in, &err) == BW_ERR_REGION, "empty region");
    r.start[0] = -1;
    r.size[1] = 1;
    CHECK(bw_block_input_region(&p, shape, &r, &in, &err) == BW_ERR_REGION, "negative start");
    CHECK(bw_block_input_region(&p, shape, NULL, &in, &err) == BW_ERR_NULL, "null region");
    CHECK(memcmp(&in, &keep, sizeof in) == 0, "input region written on error");
    bw_view v = bw_view_contiguous(a, BW_U16, 2, shape), sub;
    bw_region big = {{0, 0}, {H, W + 1}};
    CHECK(bw_view_subview(&v, &big, &sub, &err) == BW_ERR_REGION, "subview outside");
    ptrdiff_t os[2] = {-1, -1};
    bw_block_params bad;
    bw_block_params_init(&bad, 2, block);
    bad.block[0] = 0;
    CHECK(bw_block_output_shape(&bad, shape, os, &err) == BW_ERR_BLOCK, "output shape, block 0");
    CHECK(os[0] == -1 && os[1] == -1, "output shape written on error");
  }
}

/* bw_block_params_check gives bw_block_stats' own status and message. */
void test_params_check(void) {
  const ptrdiff_t shape[2] = {6, 8}, block[2] = {2, 3};
  uint16_t a[48] = {0};
  float r[3 * 3];
  const ptrdiff_t rshape[2] = {3, 3};
  const bw_view va = bw_view_contiguous(a, BW_U16, 2, shape);
  const bw_view vr = bw_view_contiguous(r, BW_F32, 2, rshape);
  bw_block_params p;
  bw_error e1, e2;
  bw_block_params_init(&p, 2, block);
  CHECK(bw_block_params_check(&p, &e1) == BW_OK, "valid: %s", e1.message);
  for (int c = 0; c < 5; c++) {
    bw_block_params_init(&p, 2, block);
    bw_status want;
    switch (c) {
    case 0: p.ndim = 1; want = BW_ERR_NDIM; break;
    case 1: p.block[1] = 0; want = BW_ERR_BLOCK; break;
    case 2: p.block[0] = -4; want = BW_ERR_BLOCK; break;
    case 3: p.edge = (bw_edge)5; want = BW_ERR_PARAM; break;
    default: p.ddof = 2; want = BW_ERR_PARAM; break;
    }
    const bw_status got = bw_block_params_check(&p, &e1);
    const bw_status ran = bw_block_corr(&va, &va, &p, &vr, &e2);
    CHECK(got == want && ran == want, "case %d: check %d, corr %d, want %d", c, (int)got,
          (int)ran, (int)want);
    CHECK(!strcmp(e1.message, e2.message), "case %d: '%s' vs '%s'", c, e1.message,
          e2.message);
  }
  CHECK(bw_block_params_check(NULL, NULL) == BW_ERR_NULL, "NULL params");
  /* A NULL block is the default block along every axis. */
  bw_block_params_init(&p, 3, NULL);
  CHECK(p.block[0] == BW_BLOCK_DEFAULT && p.block[1] == 10 && p.block[2] == 10,
        "default block %td %td %td", p.block[0], p.block[1], p.block[2]);
}

/* The table of statistic names, entry by entry. */
void test_stat_names(void) {
  static const struct {
    const char *name;
    bw_stat stat;
    int pair;
  } want[] = {
      {"count", BW_STAT_COUNT, 0}, {"sum", BW_STAT_SUM, 0},
      {"mean", BW_STAT_MEAN, 0},   {"var", BW_STAT_VAR, 0},
      {"variance", BW_STAT_VAR, 0}, {"std", BW_STAT_STD, 0},
      {"standard-deviation", BW_STAT_STD, 0}, {"min", BW_STAT_MIN, 0},
      {"minimum", BW_STAT_MIN, 0}, {"max", BW_STAT_MAX, 0},
      {"maximum", BW_STAT_MAX, 0}, {"cov", BW_STAT_COV, 1},
      {"covariance", BW_STAT_COV, 1}, {"corr", BW_STAT_CORR, 1},
      {"correlation", BW_STAT_CORR, 1},
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    bw_stat s = (bw_stat)99;
    CHECK(bw_stat_from_name(want[i].name, &s, NULL) == BW_OK && s == want[i].stat,
          "%s gives %d", want[i].name, (int)s);
    CHECK(bw_stat_is_pair(s) == want[i].pair, "%s pair", want[i].name);
  }
  static const char *const shorts[BW_NUM_STATS] = {"count", "sum", "mean", "var", "std",
                                                   "min",   "max", "cov",  "corr"};
  for (int i = 0; i < BW_NUM_STATS; i++)
    CHECK(!strcmp(bw_stat_name((bw_stat)i), shorts[i]), "name of %d", i);
  bw_stat s = BW_STAT_SUM;
  bw_error err;
  CHECK(bw_stat_from_name("Mean", &s, &err) == BW_ERR_PARAM && s == BW_STAT_SUM,
        "names are case-sensitive");
  CHECK(!strcmp(err.message, "unknown statistic 'Mean'"), "message '%s'", err.message);
  CHECK(bw_stat_from_name("", &s, NULL) == BW_ERR_PARAM, "empty name");
  CHECK(bw_stat_from_name(NULL, &s, NULL) == BW_ERR_NULL, "NULL name");
  CHECK(bw_stat_is_pair((bw_stat)BW_NUM_STATS) == -1 && bw_stat_is_pair((bw_stat)-1) == -1,
        "out of range");
  CHECK(!strcmp(bw_stat_name((bw_stat)BW_NUM_STATS), "invalid"), "invalid name");
}
