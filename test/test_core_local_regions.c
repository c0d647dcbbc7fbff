/*
 * The core's local statistics, by region: sub-regions and tilings
 * computed from their mapped input bit-identical to the whole image,
 * strided views, the region map against values worked out by hand, and
 * parameter and argument errors (status, message, nothing written).
 */
#include "core_test_util.h"
#include "bw_local.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Sub-regions, tilings and views                                           */
/* ------------------------------------------------------------------------ */

enum { S_OUT = 4 };
static const bw_stat s_stats[S_OUT] = {BW_STAT_CORR, BW_STAT_STD, BW_STAT_MEAN,
                                       BW_STAT_COV};
static const int s_input[S_OUT] = {0, 0, 1, 0};

/* The S_OUT outputs (f64, the last f32) of output box (o0, on) from the
 * views va, vb of the input box starting at i0; into outs at the box's
 * place in a whole output of extents full. */
static bw_status run_box(const bw_view *va, const bw_view *vb, const ptrdiff_t *i0,
                         const ptrdiff_t *image, const bw_local_params *p,
                         const ptrdiff_t *o0, const ptrdiff_t *on,
                         const ptrdiff_t *full, double **outs, bw_error *err) {
  const int nd = p->ndim;
  bw_local_output o[S_OUT];
  for (int i = 0; i < S_OUT; i++) {
    bw_view whole = bw_view_contiguous(outs[i], i == S_OUT - 1 ? BW_F32 : BW_F64, nd, full);
    bw_region r;
    memset(&r, 0, sizeof r);
    for (int d = 0; d < nd; d++) r.start[d] = o0[d], r.size[d] = on[d];
    bw_status st = bw_view_subview(&whole, &r, &o[i].view, err);
    if (st) return st;
    o[i].stat = s_stats[i];
    o[i].input = s_input[i];
  }
  return bw_local_stats(va, vb, i0, image, p, o, S_OUT, o0, err);
}

/* Random cut points of [0, n) into pieces: cuts[0] = 0, ..., cuts[k] = n. */
static int random_cuts(ptrdiff_t n, ptrdiff_t *cuts, int max) {
  int k = 0;
  ptrdiff_t pos = 0;
  cuts[0] = 0;
  while (pos < n && k < max - 2) {
    pos += 1 + rnd_below(n / 3 + 1);
    cuts[++k] = pos < n ? pos : n;
  }
  if (cuts[k] < n) cuts[++k] = n;
  return k;
}

void test_local_subregion(void) {
  static const lcase cases[] = {
      {2, {41, 57}, {2, 3}, {1, 1}},
      {2, {41, 57}, {3, 1}, {2, 3}},
      {3, {9, 13, 17}, {1, 2, 2}, {1, 2, 1}},
      {3, {8, 11, 12}, {0, 1, 3}, {2, 1, 1}},
  };
  static const bw_dtype dts[] = {BW_U8, BW_U16, BW_I32, BW_F32, BW_F64};
  int bad = 0, boxes = 0;
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
    for (size_t t = 0; t < sizeof dts / sizeof *dts; t++) {
      const lcase *lc = &cases[c];
      const int nd = lc->nd;
      const bw_dtype dt = dts[t];
      const size_t es = bw_dtype_size(dt);
      void *a, *b;
      random_pair_alloc(dt, prod(lc->n, nd), &a, &b);
      bw_local_params p;
      bw_local_params_init(&p, nd, lc->r);
      for (int d = 0; d < nd; d++) p.step[d] = lc->s[d];
      ptrdiff_t on[3], zero[3] = {0, 0, 0};
      bw_error err;
      bw_local_output_shape(&p, lc->n, on, &err);
      const size_t no = prod(on, nd);
      double *whole[S_OUT], *part[S_OUT];
      for (int i = 0; i < S_OUT; i++) {
        whole[i] = calloc(no, 8);
        part[i] = calloc(no, 8);
      }
      const bw_view va = bw_view_contiguous(a, dt, nd, lc->n);
      const bw_view vb = bw_view_contiguous(b, dt, nd, lc->n);
      bw_status st = run_box(&va, &vb, NULL, NULL, &p, zero, on, on, whole, &err);
      CHECK(st == BW_OK, "whole: %s", err.message);
      /* tilings: random grids, each piece from exactly its mapped input */
      for (int rep = 0; rep < 4; rep++) {
        ptrdiff_t cuts[3][128];
        int k[3] = {1, 1, 1};
        for (int d = 0; d < nd; d++)
          k[d] = rep == 0 ? (int)on[d] : random_cuts(on[d], cuts[d], 128);
        if (rep == 0)
          for (int d = 0; d < nd; d++)
            for (ptrdiff_t i = 0; i <= on[d]; i++) cuts[d][i] = i; /* 1 x 1 */
        for (int i = 0; i < S_OUT; i++) memset(part[i], 0xff, no * 8);
        for (int i0 = 0; i0 < k[0]; i0++)
          for (int i1 = 0; i1 < k[1]; i1++)
            for (int i2 = 0; i2 < (nd == 3 ? k[2] : 1); i2++) {
              const int ix[3] = {i0, i1, i2};
              bw_region outr, inr;
              memset(&outr, 0, sizeof outr);
              for (int d = 0; d < nd; d++) {
                outr.start[d] = cuts[d][ix[d]];
                outr.size[d] = cuts[d][ix[d] + 1] - cuts[d][ix[d]];
              }
              st = bw_local_input_region(&p, lc->n, &outr, &inr, &err);
              CHECK(st == BW_OK, "region map: %s", err.message);
              bw_view sa, sb;
              bw_view_subview(&va, &inr, &sa, NULL);
              bw_view_subview(&vb, &inr, &sb, NULL);
              st = run_box(&sa, &sb, inr.start, lc->n, &p, outr.start, outr.size, on,
                           part, &err);
              CHECK(st == BW_OK, "piece: %s", err.message);
              boxes++;
            }
        for (int i = 0; i < S_OUT; i++) {
          const size_t bytes = i == S_OUT - 1 ? no * 4 : no * 8;
          if (memcmp(whole[i], part[i], bytes) != 0) {
            if (bad < 5)
              fprintf(stderr, "%s %dD case %zu tiling %d: %s differs\n",
                      bw_dtype_name(dt), nd, c, rep, bw_stat_name(s_stats[i]));
            bad++;
          }
        }
      }
      /* a strided view (every other column of a wider buffer) */
      ptrdiff_t wide[3];
      for (int d = 0; d < nd; d++) wide[d] = lc->n[d];
      wide[nd - 1] *= 2;
      char *wa = calloc(prod(wide, nd), es), *wb = calloc(prod(wide, nd), es);
      for (size_t i = 0; i < prod(lc->n, nd); i++) {
        memcpy(wa + 2 * i * es, (char *)a + i * es, es);
        memcpy(wb + 2 * i * es, (char *)b + i * es, es);
      }
      bw_view xa = bw_view_contiguous(wa, dt, nd, wide), xb = bw_view_contiguous(wb, dt, nd, wide);
      xa.shape[nd - 1] = xb.shape[nd - 1] = lc->n[nd - 1];
      xa.strides[nd - 1] = xb.strides[nd - 1] = 2 * (ptrdiff_t)es;
      st = run_box(&xa, &xb, NULL, NULL, &p, zero, on, on, part, &err);
      CHECK(st == BW_OK, "strided: %s", err.message);
      for (int i = 0; i < S_OUT; i++)
        if (memcmp(whole[i], part[i], i == S_OUT - 1 ? no * 4 : no * 8) != 0) bad++;
      free(wa), free(wb);
      for (int i = 0; i < S_OUT; i++) free(whole[i]), free(part[i]);
      free(a), free(b);
    }
  CHECK(boxes > 100, "only %d boxes", boxes);
  CHECK(bad == 0, "%d outputs differ from the whole image's", bad);
}

/* ------------------------------------------------------------------------ */
/* Region map and errors                                                    */
/* ------------------------------------------------------------------------ */

void test_local_region_map(void) {
  bw_local_params p;
  const ptrdiff_t r[2] = {3, 2}, n[2] = {100, 50};
  bw_local_params_init(&p, 2, r);
  p.step[0] = 4, p.step[1] = 5;
  ptrdiff_t on[2], before[2], after[2];
  bw_error err;
  CHECK(bw_local_output_shape(&p, n, on, &err) == BW_OK, "%s", err.message);
  CHECK(on[0] == 25 && on[1] == 10, "output %tdx%td", on[0], on[1]);
  CHECK(bw_local_halo(&p, before, after, &err) == BW_OK, "%s", err.message);
  CHECK(before[0] == 3 && after[1] == 2, "halo %td %td", before[0], after[1]);
  bw_region o = {{2, 1}, {3, 4}}, in;
  CHECK(bw_local_input_region(&p, n, &o, &in, &err) == BW_OK, "%s", err.message);
  /* centres y 8..16, x 5..20 */
  CHECK(in.start[0] == 5 && in.size[0] == 15 && in.start[1] == 3 && in.size[1] == 20,
        "in [%td +%td] [%td +%td]", in.start[0], in.size[0], in.start[1], in.size[1]);
  bw_region all = {{0, 0}, {25, 10}};
  CHECK(bw_local_input_region(&p, n, &all, &in, &err) == BW_OK, "%s", err.message);
  /* last centres y 96 (+3 clipped to 100), x 45 (+2 -> 48) */
  CHECK(in.start[0] == 0 && in.size[0] == 100 && in.start[1] == 0 && in.size[1] == 48,
        "in [%td +%td] [%td +%td]", in.start[0], in.size[0], in.start[1], in.size[1]);
  bw_region outside = {{24, 0}, {2, 1}}, empty = {{0, 0}, {0, 1}};
  CHECK(bw_local_input_region(&p, n, &outside, &in, &err) == BW_ERR_REGION, "outside");
  CHECK(bw_local_input_region(&p, n, &empty, &in, &err) == BW_ERR_REGION, "empty");
}

void test_local_errors(void) {
  enum { H = 12, W = 10 };
  static uint16_t a[H * W], b[H * W];
  static int16_t c[H * W];
  static double out[H * W];
  const ptrdiff_t n[2] = {H, W}, small[2] = {H, W - 1};
  const bw_view va = bw_view_contiguous(a, BW_U16, 2, n);
  const bw_view vb = bw_view_contiguous(b, BW_U16, 2, n);
  const bw_view vc = bw_view_contiguous(c, BW_I16, 2, n);
  const bw_view vs = bw_view_contiguous(b, BW_U16, 2, small);
  fill_random(a, BW_U16, H * W);
  fill_random(b, BW_U16, H * W);
  bw_local_params good;
  bw_local_params_init(&good, 2, NULL);
  struct {
    const char *what;
    int field; /* 0 ndim, 1 radius, 2 step, 3 ddof, 4 NULL params */
    ptrdiff_t value;
    bw_status want;
  } bad_params[] = {
      {"ndim 4", 0, 4, BW_ERR_NDIM},        {"ndim 1", 0, 1, BW_ERR_NDIM},
      {"radius -1", 1, -1, BW_ERR_PARAM},   {"radius too large", 1, 70000, BW_ERR_PARAM},
      {"step 0", 2, 0, BW_ERR_PARAM},       {"step -2", 2, -2, BW_ERR_PARAM},
      {"ddof 2", 3, 2, BW_ERR_PARAM},       {"NULL params", 4, 0, BW_ERR_NULL},
  };
  bw_local_output o = {BW_STAT_CORR, 0, bw_view_contiguous(out, BW_F64, 2, n)};
  for (size_t i = 0; i < sizeof bad_params / sizeof *bad_params; i++) {
    bw_local_params p = good;
    if (bad_params[i].field == 0) p.ndim = (int)bad_params[i].value;
    if (bad_params[i].field == 1) p.radius[1] = bad_params[i].value;
    if (bad_params[i].field == 2) p.step[0] = bad_params[i].value;
    if (bad_params[i].field == 3) p.ddof = (int)bad_params[i].value;
    const bw_local_params *pp = bad_params[i].field == 4 ? NULL : &p;
    memset(out, 0x5a, sizeof out);
    bw_error e1, e2;
    const bw_status s1 = bw_local_stats(&va, &vb, NULL, NULL, pp, &o, 1, NULL, &e1);
    const bw_status s2 = bw_local_params_check(pp, &e2);
    CHECK(s1 == bad_params[i].want, "%s: status %d", bad_params[i].what, s1);
    CHECK(s2 == s1 && !strcmp(e1.message, e2.message), "%s: check says %s, op %s",
          bad_params[i].what, e2.message, e1.message);
    CHECK(((unsigned char *)out)[0] == 0x5a && ((unsigned char *)out)[sizeof out - 1] == 0x5a,
          "%s: output written", bad_params[i].what);
  }
  CHECK(bw_local_params_check(&good, NULL) == BW_OK, "defaults rejected");

  /* bw_local_stat_supported says what bw_local_stats does with each
   * statistic of the core's table, and no for values outside it */
  for (int code = -2; code < 40; code++) {
    bw_local_output one = o;
    one.stat = (bw_stat)code;
    const bw_status st = bw_local_stats(&va, &vb, NULL, NULL, &good, &one, 1, NULL, NULL);
    CHECK(bw_local_stat_supported((bw_stat)code) == (st == BW_OK),
          "statistic %d: supported %d, bw_local_stats status %d", code,
          bw_local_stat_supported((bw_stat)code), st);
  }
  CHECK(!bw_local_stat_supported(BW_STAT_MIN) && !bw_local_stat_supported(BW_STAT_MAX) &&
            bw_local_stat_supported(BW_STAT_CORR) && bw_local_stat_supported(BW_STAT_COUNT),
        "min, max, corr, count");

  /* bad views, outputs and boxes */
  bw_local_output wrong_shape[2] = {o, o}, wrong_type = o, min_stat = o, no_data = o;
  wrong_shape[1].view = bw_view_contiguous(out, BW_F64, 2, small);
  wrong_type.view = bw_view_contiguous(out, BW_U16, 2, n);
  min_stat.stat = BW_STAT_MIN;
  no_data.view.data = NULL;
  const ptrdiff_t img_big[2] = {H + 5, W}, img_zero[2] = {0, W}, at1[2] = {1, 0};
  const ptrdiff_t out_far[2] = {H, 0};
  struct {
    const char *what;
    const bw_view *a, *b;
    const bw_local_output *o;
    size_t no;
    const ptrdiff_t *in_start, *image, *out_start;
    bw_status want;
  } cases[] = {
      {"a NULL", NULL, &vb, &o, 1, NULL, NULL, NULL, BW_ERR_NULL},
      {"b NULL", &va, NULL, &o, 1, NULL, NULL, NULL, BW_ERR_NULL},
      {"outputs NULL", &va, &vb, NULL, 1, NULL, NULL, NULL, BW_ERR_NULL},
      {"no outputs", &va, &vb, &o, 0, NULL, NULL, NULL, BW_ERR_PARAM},
      {"b dtype", &va, &vc, &o, 1, NULL, NULL, NULL, BW_ERR_DTYPE},
      {"b shape", &va, &vs, &o, 1, NULL, NULL, NULL, BW_ERR_SHAPE},
      {"output shapes differ", &va, &vb, wrong_shape, 2, NULL, NULL, NULL, BW_ERR_OUTPUT},
      {"output dtype", &va, &vb, &wrong_type, 1, NULL, NULL, NULL, BW_ERR_OUTPUT},
      {"output data", &va, &vb, &no_data, 1, NULL, NULL, NULL, BW_ERR_OUTPUT},
      {"min", &va, &vb, &min_stat, 1, NULL, NULL, NULL, BW_ERR_PARAM},
      {"in_start without image", &va, &vb, &o, 1, at1, NULL, NULL, BW_ERR_REGION},
      {"input box too small", &va, &vb, &o, 1, at1, img_big, at1, BW_ERR_REGION},
      {"output box outside", &va, &vb, &o, 1, NULL, img_big, out_far, BW_ERR_REGION},
      {"image extent 0", &va, &vb, &o, 1, NULL, img_zero, NULL, BW_ERR_SHAPE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    memset(out, 0x5a, sizeof out);
    bw_error e;
    e.message[0] = 0;
    const bw_status s = bw_local_stats(cases[i].a, cases[i].b, cases[i].in_start,
                                       cases[i].image, &good, cases[i].o, cases[i].no,
                                       cases[i].out_start, &e);
    CHECK(s == cases[i].want, "%s: status %d (%s), expected %d", cases[i].what, s,
          e.message, cases[i].want);
    CHECK(e.message[0] != 0, "%s: no message", cases[i].what);
    CHECK(((unsigned char *)out)[0] == 0x5a && ((unsigned char *)out)[sizeof out - 1] == 0x5a,
          "%s: output written", cases[i].what);
  }
  /* integer windows beyond 2^32 pixels: a huge image of one repeated pixel */
  bw_local_params p3;
  const ptrdiff_t r3[3] = {1000, 1000, 1000}, n3[3] = {3000, 3000, 3000}, one[3] = {1, 1, 1};
  bw_local_params_init(&p3, 3, r3);
  bw_view huge = bw_view_contiguous(a, BW_U16, 3, n3);
  huge.strides[0] = huge.strides[1] = huge.strides[2] = 0;
  bw_local_output o3 = {BW_STAT_MEAN, 0, bw_view_contiguous(out, BW_F64, 3, one)};
  memset(out, 0x5a, sizeof out);
  bw_error e;
  CHECK(bw_local_stats(&huge, NULL, NULL, NULL, &p3, &o3, 1, NULL, &e) == BW_ERR_RANGE,
        "huge window: %s", e.message);
  CHECK(((unsigned char *)out)[0] == 0x5a, "huge window: output written");
}
