/*
 * The core's local (sliding-window) statistics against an oracle written
 * here: a plain two-pass long-double computation per output pixel over its
 * window clipped to the image, by index arithmetic (no strides, tiles,
 * segments or running sums); adversarial inputs for r; large images and
 * windows.  Regions and errors are in test_core_local_regions.c.
 */
#include "core_test_util.h"
#include "bw_local.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The oracle                                                               */
/* ------------------------------------------------------------------------ */

/* The statistics of the outputs the tests ask for, in this order. */
enum { L_OUT = 9 };
static const bw_stat l_stats[L_OUT] = {BW_STAT_COUNT, BW_STAT_SUM, BW_STAT_MEAN,
                                       BW_STAT_VAR,   BW_STAT_STD, BW_STAT_COV,
                                       BW_STAT_CORR,  BW_STAT_MEAN, BW_STAT_STD};
static const int l_input[L_OUT] = {0, 0, 0, 0, 0, 0, 0, 1, 1};

static void case3(const lcase *c, ptrdiff_t *n, ptrdiff_t *r, ptrdiff_t *s) {
  for (int d = 0; d < 3; d++) n[d] = 1, r[d] = 0, s[d] = 1;
  for (int d = 0; d < c->nd; d++) {
    n[3 - c->nd + d] = c->n[d];
    r[3 - c->nd + d] = c->r[d];
    s[3 - c->nd + d] = c->s[d];
  }
}

/* The L_OUT statistics of the window of output (k0, k1, k2) of contiguous
 * a, b of 3-D shape n; ddof 0. */
static void ref_window(const void *a, const void *b, bw_dtype dt, const ptrdiff_t *n,
                       const ptrdiff_t *r, const ptrdiff_t *s, const ptrdiff_t *k,
                       int use_fill, double fill, long double *out) {
  ptrdiff_t lo[3], hi[3];
  for (int d = 0; d < 3; d++) {
    lo[d] = k[d] * s[d] - r[d];
    hi[d] = k[d] * s[d] + r[d];
    if (lo[d] < 0) lo[d] = 0;
    if (hi[d] > n[d] - 1) hi[d] = n[d] - 1;
  }
  /* deviations scaled by the count, da = a cnt - sum a: exact for integer
   * inputs, so constant windows give exact zeros */
  long double cnt = 0, sa = 0, sb = 0, qa = 0, qb = 0, qab = 0;
  for (int pass = 0; pass < 2; pass++)
    for (ptrdiff_t z = lo[0]; z <= hi[0]; z++)
      for (ptrdiff_t y = lo[1]; y <= hi[1]; y++)
        for (ptrdiff_t x = lo[2]; x <= hi[2]; x++) {
          const size_t i = (size_t)((z * n[1] + y) * n[2] + x);
          const long double va = bw_test_get(a, dt, i), vb = bw_test_get(b, dt, i);
          if (pass == 0) {
            cnt += 1;
            sa += va;
            sb += vb;
          } else {
            const long double da = va * cnt - sa, db = vb * cnt - sb;
            qa += da * da;
            qb += db * db;
            qab += da * db;
          }
        }
  const long double c2 = cnt * cnt;
  out[0] = cnt;
  out[1] = sa;
  out[2] = sa / cnt;
  out[3] = qa / c2 / cnt;
  out[4] = sqrtl(out[3]);
  out[5] = qab / c2 / cnt;
  out[6] = (qa == 0 || qb == 0) ? (use_fill ? fill : NAN) : qab / sqrtl(qa * qb);
  out[7] = sb / cnt;
  out[8] = sqrtl(qb / c2 / cnt);
}

/* |got - want| <= tol * max(1, |want|, at), NaN only against NaN. */
static int near_at(double got, long double want, double tol, long double at) {
  if (isnan((double)want)) return isnan(got);
  if (isnan(got)) return 0;
  long double scale = fabsl(want) > 1 ? fabsl(want) : 1;
  if (at > scale) scale = at;
  return fabsl((long double)got - want) <= tol * scale;
}

static int near(double got, long double want, double tol) {
  return near_at(got, want, tol, 0);
}

/* Output extents of a case (ceil(n / step)), 3-D form, and their product. */
static size_t out3(const ptrdiff_t *n, const ptrdiff_t *s, ptrdiff_t *on) {
  size_t t = 1;
  for (int d = 0; d < 3; d++) t *= (size_t)(on[d] = (n[d] + s[d] - 1) / s[d]);
  return t;
}

/* Runs the L_OUT outputs (f64, allocated) over the whole image. */
static bw_status run_local(const void *a, const void *b, bw_dtype dt, const lcase *c,
                           int use_fill, double fill, double **outs, bw_error *err) {
  bw_local_params p;
  bw_local_params_init(&p, c->nd, c->r);
  for (int d = 0; d < c->nd; d++) p.step[d] = c->s[d];
  p.use_fill = use_fill;
  p.fill = fill;
  ptrdiff_t on[BW_MAX_DIMS];
  bw_status st = bw_local_output_shape(&p, c->n, on, err);
  if (st) return st;
  bw_view va = bw_view_contiguous((void *)a, dt, c->nd, c->n);
  bw_view vb = bw_view_contiguous((void *)b, dt, c->nd, c->n);
  bw_local_output o[L_OUT];
  for (int i = 0; i < L_OUT; i++) {
    outs[i] = malloc(prod(on, c->nd) * sizeof(double));
    o[i].stat = l_stats[i];
    o[i].input = l_input[i];
    o[i].view = bw_view_contiguous(outs[i], BW_F64, c->nd, on);
  }
  return bw_local_stats(&va, &vb, NULL, NULL, &p, o, L_OUT, NULL, err);
}

/* Compares every output of a case with the oracle at every output pixel
 * (or @samples random ones when not 0); returns the number of misses. */
static int check_case(const void *a, const void *b, bw_dtype dt, const lcase *c,
                      int use_fill, double fill, double tol, size_t samples) {
  ptrdiff_t n[3], r[3], s[3], on[3];
  case3(c, n, r, s);
  const size_t no = out3(n, s, on);
  double *outs[L_OUT] = {0};
  bw_error err;
  int bad = 0;
  if (run_local(a, b, dt, c, use_fill, fill, outs, &err) != BW_OK) {
    fprintf(stderr, "%s: %s\n", bw_dtype_name(dt), err.message);
    bad = 1;
  } else {
    const size_t count = samples ? samples : no;
    for (size_t t = 0; t < count; t++) {
      const size_t i = samples ? (size_t)rnd_below((ptrdiff_t)no) : t;
      const ptrdiff_t k[3] = {(ptrdiff_t)(i / (size_t)(on[1] * on[2])),
                              (ptrdiff_t)(i / (size_t)on[2] % (size_t)on[1]),
                              (ptrdiff_t)(i % (size_t)on[2])};
      long double want[L_OUT];
      ref_window(a, b, dt, n, r, s, k, use_fill, fill, want);
      for (int o = 0; o < L_OUT; o++) {
        const double got = outs[o][i];
        const int is_fill = use_fill && got == fill && want[o] == fill;
        const int out_of_range = o == 6 && !is_fill && (got > 1 || got < -1);
        /* the oracle's covariance is exact only to about the product of
         * the standard deviations times its precision */
        const long double at = o == 5 ? want[4] * want[8] : 0;
        if (!near_at(got, want[o], tol, at) || out_of_range) {
          if (bad < 5)
            fprintf(stderr,
                    "%s %dD n %tdx%tdx%td r %td,%td,%td step %td,%td,%td: output "
                    "(%td,%td,%td) %s%s: got %.17g, want %.17Lg\n",
                    bw_dtype_name(dt), c->nd, n[0], n[1], n[2], r[0], r[1], r[2],
                    s[0], s[1], s[2], k[0], k[1], k[2], bw_stat_name(l_stats[o]),
                    l_input[o] ? " (b)" : "", got, want[o]);
          bad++;
        }
      }
    }
  }
  for (int o = 0; o < L_OUT; o++) free(outs[o]);
  return bad;
}

static const lcase ref_cases[] = {
    {2, {37, 53}, {2, 3}, {1, 1}},    /* anisotropic */
    {2, {20, 31}, {0, 4}, {2, 3}},    /* radius 0 along y, steps */
    {2, {9, 7}, {5, 6}, {1, 1}},      /* windows larger than the image */
    {2, {1, 40}, {1, 2}, {1, 1}},     /* one row */
    {2, {40, 1}, {3, 0}, {4, 1}},     /* one column, step */
    {2, {17, 19}, {1, 1}, {5, 7}},    /* steps beyond the window */
    {3, {7, 9, 11}, {1, 2, 3}, {1, 1, 2}},
    {3, {5, 6, 7}, {0, 1, 1}, {2, 1, 1}},
    {3, {6, 4, 5}, {2, 0, 1}, {1, 3, 1}},
    {3, {4, 5, 6}, {9, 9, 9}, {1, 1, 1}},
};

void test_local_reference(void) {
  int bad = 0;
  for (size_t c = 0; c < sizeof ref_cases / sizeof *ref_cases; c++)
    for (int t = 0; t < BW_TEST_NDTYPES; t++) {
      const bw_dtype dt = bw_test_dtypes[t];
      ptrdiff_t n[3], r[3], s[3];
      case3(&ref_cases[c], n, r, s);
      void *a, *b;
      random_pair_alloc(dt, prod(n, 3), &a, &b);
      bad += check_case(a, b, dt, &ref_cases[c], 0, 0, 1e-9, 0);
      free(a);
      free(b);
    }
  CHECK(bad == 0, "%d outputs differ from the oracle", bad);
}

/* Images large enough for several tiles (float boxes of 2^16 pixels,
 * integer plane sums of 2^18) and windows beyond 2^16 pixels (128-bit
 * finishing of 16-bit inputs), checked at random pixels. */
void test_local_large(void) {
  static const lcase cases[] = {
      {2, {300, 310}, {3, 2}, {1, 1}},
      {2, {300, 300}, {150, 140}, {37, 29}},
      {3, {6, 250, 260}, {1, 2, 1}, {1, 1, 1}},
      {3, {40, 50, 60}, {20, 25, 30}, {9, 11, 13}},
  };
  static const bw_dtype dts[] = {BW_U8, BW_U16, BW_I16, BW_U32, BW_F32, BW_F64};
  int bad = 0;
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
    for (size_t t = 0; t < sizeof dts / sizeof *dts; t++) {
      ptrdiff_t n[3], r[3], s[3];
      case3(&cases[c], n, r, s);
      void *a, *b;
      random_pair_alloc(dts[t], prod(n, 3), &a, &b);
      bad += check_case(a, b, dts[t], &cases[c], 0, 0, 1e-9, 60);
      free(a);
      free(b);
    }
  CHECK(bad == 0, "%d outputs differ from the oracle", bad);
}

/* ------------------------------------------------------------------------ */
/* Adversarial inputs for r                                                 */
/* ------------------------------------------------------------------------ */

static double type_min(bw_dtype dt) {
  switch (dt) {
  case BW_I8: return -128;
  case BW_I16: return -32768;
  case BW_I32: return -2147483648.0;
  case BW_F32: case BW_F64: return -1e6;
  default: return 0;
  }
}

static double type_max(bw_dtype dt) {
  switch (dt) {
  case BW_U8: return 255;
  case BW_I8: return 127;
  case BW_U16: return 65535;
  case BW_I16: return 32767;
  case BW_U32: return 4294967295.0;
  case BW_I32: return 2147483647.0;
  default: return 1e6;
  }
}

/* Extremes only (0/65535, -32768/32767, ...), constant planes and rows,
 * b = a and b = -a: every r within the oracle's tolerance and in [-1, 1],
 * constant windows NaN or the fill value, their std exactly 0. */
void test_local_corr_adversarial(void) {
  const lcase c2 = {2, {23, 29}, {2, 3}, {1, 1}};
  const lcase c3 = {3, {5, 9, 8}, {1, 1, 2}, {1, 2, 1}};
  int bad = 0;
  for (int t = 0; t < BW_TEST_NDTYPES; t++)
    for (int kind = 0; kind < 4; kind++)
      for (int use_fill = 0; use_fill < 2; use_fill++) {
        const bw_dtype dt = bw_test_dtypes[t];
        const lcase *c = kind & 1 ? &c3 : &c2;
        const size_t n = prod(c->n, c->nd), es = bw_dtype_size(dt);
        void *a = malloc(n * es), *b = malloc(n * es);
        const double lo = type_min(dt), hi = type_max(dt);
        for (size_t i = 0; i < n; i++) {
          /* extremes, in blocks of rows constant in one input */
          const int row = (int)(i / (size_t)c->n[c->nd - 1]);
          const double va = (row % 5 < 2) ? hi : (rnd() & 1) ? hi : lo;
          double vb = (row % 7 == 3) ? lo : (rnd() & 1) ? hi : lo;
          if (kind == 2) vb = va;                /* r = 1 */
          if (kind == 3) vb = lo + hi - va;      /* r = -1 */
          bw_test_set(a, dt, i, va);
          bw_test_set(b, dt, i, vb);
        }
        bad += check_case(a, b, dt, c, use_fill, -2.5, 1e-9, 0);
        free(a);
        free(b);
      }
  CHECK(bad == 0, "%d outputs differ from the oracle", bad);
}

/* float32 1e6 + noise: the r of the noise alone to 1e-6, and constant
 * 1e6 planes NaN. */
void test_local_float_offset(void) {
  const lcase c = {2, {40, 50}, {3, 2}, {1, 1}};
  const size_t n = 40 * 50;
  float *a = malloc(n * 4), *b = malloc(n * 4);
  double *na = malloc(n * 8), *nb = malloc(n * 8);
  for (size_t i = 0; i < n; i++) {
    na[i] = (double)(float)(rnd_normal() * 0.5);
    nb[i] = (double)(float)(0.6 * na[i] + 0.4 * rnd_normal() * 0.5);
    if (i / 50 >= 30) na[i] = 0; /* constant rows: flat windows */
    a[i] = (float)(1e6 + na[i]);
    b[i] = (float)(1e6 + nb[i]);
    /* the noise as float32 actually stores it */
    na[i] = (double)a[i] - 1e6;
    nb[i] = (double)b[i] - 1e6;
  }
  double *outs[L_OUT] = {0};
  bw_error err;
  bw_status st = run_local(a, b, BW_F32, &c, 0, 0, outs, &err);
  int bad = 0, flat = 0;
  if (st == BW_OK) {
    const ptrdiff_t nn[3] = {1, 40, 50}, r[3] = {0, 3, 2}, s[3] = {1, 1, 1};
    for (ptrdiff_t y = 0; y < 40; y++)
      for (ptrdiff_t x = 0; x < 50; x++) {
        const ptrdiff_t k[3] = {0, y, x};
        long double want[L_OUT];
        ref_window(na, nb, BW_F64, nn, r, s, k, 0, 0, want);
        const double got = outs[6][y * 50 + x];
        if (isnan((double)want[6])) flat++;
        if (!near(got, want[6], 1e-6) || !near(outs[4][y * 50 + x], want[4], 1e-6))
          bad++;
      }
  }
  for (int o = 0; o < L_OUT; o++) free(outs[o]);
  free(a), free(b), free(na), free(nb);
  CHECK(st == BW_OK, "%s", err.message);
  CHECK(flat > 0, "no flat windows tested");
  CHECK(bad == 0, "%d pixels differ from the noise's r or std", bad);
}

