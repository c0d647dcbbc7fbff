/*
 * The core's block statistics against an oracle written here, independently
 * of the library: a plain two-pass long-double computation per block that
 * walks the pixels with index arithmetic (no strides, no chunks, no shifts);
 * exact integer sums; cancellation, constant blocks, NaN; the 16-bit pair
 * path against the generic kernel.
 */
#include "core_test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The oracle                                                               */
/* ------------------------------------------------------------------------ */

typedef struct ref_stats {
  long double count, sum, mean, var, std, mn, mx, cov, corr, mean_b, var_b;
} ref_stats;

/* Two-pass reference for the block with block indices (k, i, j) of
 * contiguous arrays a, b of 3-D shape n[3] (2-D: n[0] = 1). */
static ref_stats ref_block(const void *a, const void *b, bw_dtype dt,
                           const ptrdiff_t n[3], const ptrdiff_t blk[3],
                           ptrdiff_t k, ptrdiff_t i, ptrdiff_t j, int ddof,
                           int use_fill, double fill) {
  ref_stats r;
  memset(&r, 0, sizeof r);
  ptrdiff_t lo[3] = {k * blk[0], i * blk[1], j * blk[2]}, hi[3];
  for (int d = 0; d < 3; d++) hi[d] = lo[d] + blk[d] < n[d] ? lo[d] + blk[d] : n[d];
  long double sa = 0, sb = 0, cnt = 0;
  r.mn = INFINITY;
  r.mx = -INFINITY;
  int nan_seen = 0;
  for (ptrdiff_t z = lo[0]; z < hi[0]; z++)
    for (ptrdiff_t y = lo[1]; y < hi[1]; y++)
      for (ptrdiff_t x = lo[2]; x < hi[2]; x++) {
        size_t off = (size_t)((z * n[1] + y) * n[2] + x);
        long double va = bw_test_get(a, dt, off), vb = bw_test_get(b, dt, off);
        sa += va;
        sb += vb;
        cnt += 1;
        if (va != va) nan_seen = 1;
        if (va < r.mn) r.mn = va;
        if (va > r.mx) r.mx = va;
      }
  if (nan_seen) r.mn = r.mx = NAN;
  r.count = cnt;
  r.sum = sa;
  r.mean = sa / cnt;
  r.mean_b = sb / cnt;
  long double m2a = 0, m2b = 0, mab = 0;
  for (ptrdiff_t z = lo[0]; z < hi[0]; z++)
    for (ptrdiff_t y = lo[1]; y < hi[1]; y++)
      for (ptrdiff_t x = lo[2]; x < hi[2]; x++) {
        size_t off = (size_t)((z * n[1] + y) * n[2] + x);
        long double da = bw_test_get(a, dt, off) - r.mean;
        long double db = bw_test_get(b, dt, off) - r.mean_b;
        m2a += da * da;
        m2b += db * db;
        mab += da * db;
      }
  long double dof = cnt - ddof;
  r.var = dof > 0 ? m2a / dof : NAN;
  r.std = dof > 0 ? sqrtl(r.var) : NAN;
  r.var_b = dof > 0 ? m2b / dof : NAN;
  r.cov = dof > 0 ? mab / dof : NAN;
  if (m2a == 0 || m2b == 0)
    r.corr = use_fill ? fill : NAN;
  else
    r.corr = mab / sqrtl(m2a * m2b);
  return r;
}

/* |got - want| <= tol * max(1, |want|), NaN only against NaN. */
static int close_to(double got, long double want, double tol) {
  if (isnan((double)want)) return isnan(got);
  if (isnan(got)) return 0;
  long double scale = fabsl(want) > 1 ? fabsl(want) : 1;
  return fabsl((long double)got - want) <= tol * scale;
}

static long double ref_field(const ref_stats *r, int o) {
  switch (o) {
  case 0: return r->count;
  case 1: return r->sum;
  case 2: return r->mean;
  case 3: return r->var;
  case 4: return r->std;
  case 5: return r->mn;
  case 6: return r->mx;
  case 7: return r->cov;
  case 8: return r->corr;
  case 9: return r->mean_b;
  case 10: return r->var_b;
  }
  return 0;
}

/* Compares every output of one configuration against the oracle. */
static int check_against_ref(bw_dtype dt, int nd, const ptrdiff_t *shape,
                             const ptrdiff_t *block, bw_edge edge, int ddof) {
  size_t n = prod(shape, nd), es = bw_dtype_size(dt);
  void *a = malloc(n * es), *b = malloc(n * es);
  fill_random(a, dt, n);
  fill_random(b, dt, n);
  /* make b correlated with a in half the pixels so r spans a range */
  for (size_t i = 0; i < n; i += 2) memcpy((char *)b + i * es, (char *)a + i * es, es);
  bw_view va = bw_view_contiguous(a, dt, nd, shape);
  bw_view vb = bw_view_contiguous(b, dt, nd, shape);
  bw_block_params p;
  bw_block_params_init(&p, nd, block);
  p.edge = edge;
  p.ddof = ddof;
  double *outs[N_OUT] = {0};
  ptrdiff_t on[3];
  bw_error err;
  int bad = 0;
  bw_status s = run_all(&va, &vb, &p, outs, on, &err);
  if (s != BW_OK) {
    fprintf(stderr, "dtype %s: status %d (%s)\n", bw_dtype_name(dt), s, err.message);
    bad = 1;
  } else {
    ptrdiff_t n3[3] = {1, 1, 1}, b3[3] = {1, 1, 1}, o3[3] = {1, 1, 1};
    for (int d = 0; d < nd; d++) {
      n3[3 - nd + d] = shape[d];
      b3[3 - nd + d] = block[d];
      o3[3 - nd + d] = on[d];
    }
    size_t flat = 0;
    for (ptrdiff_t k = 0; k < o3[0]; k++)
      for (ptrdiff_t i = 0; i < o3[1]; i++)
        for (ptrdiff_t j = 0; j < o3[2]; j++, flat++) {
          ref_stats r = ref_block(a, b, dt, n3, b3, k, i, j, ddof, 0, 0);
          for (int o = 0; o < N_OUT; o++) {
            if (!close_to(outs[o][flat], ref_field(&r, o), 1e-9)) {
              if (bad < 5)
                fprintf(stderr,
                        "dtype %s nd %d edge %d ddof %d block (%td,%td,%td) "
                        "%s[%d]: got %.17g want %.17Lg\n",
                        bw_dtype_name(dt), nd, edge, ddof, k, i, j,
                        bw_stat_name(out_stats[o]), out_input[o],
                        outs[o][flat], ref_field(&r, o));
              bad++;
            }
          }
        }
  }
  for (int i = 0; i < N_OUT; i++) free(outs[i]);
  free(a);
  free(b);
  return bad;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

void test_reference_2d3d(void) {
  for (size_t c = 0; c < sizeof shape_cases / sizeof *shape_cases; c++) {
    const shape_case *sc = &shape_cases[c];
    for (size_t t = 0; t < 8; t++)
      for (int edge = 0; edge < 2; edge++)
        for (int ddof = 0; ddof < 2; ddof++) {
          /* trim with a block larger than the image is an error, tested
           * separately */
          int trim_empty = 0;
          for (int d = 0; d < sc->nd; d++)
            if (sc->block[d] > sc->shape[d]) trim_empty = 1;
          if (edge == BW_EDGE_TRIM && trim_empty) continue;
          int bad = check_against_ref(bw_test_dtypes[t], sc->nd, sc->shape,
                                      sc->block, (bw_edge)edge, ddof);
          CHECK(bad == 0, "case %zu dtype %s edge %d ddof %d: %d mismatches", c,
                bw_dtype_name(bw_test_dtypes[t]), edge, ddof, bad);
        }
  }
}

/* Integer sums are exact: compare with sums done in uint64 / int64 here. */
void test_integer_sums_exact(void) {
  const ptrdiff_t shape[2] = {300, 300}, block[2] = {150, 300};
  size_t n = 300 * 300;
  uint16_t *a = malloc(n * sizeof *a);
  uint32_t *c = malloc(n * sizeof *c);
  for (size_t i = 0; i < n; i++) {
    a[i] = (uint16_t)(65535 - (rnd() & 3));
    c[i] = 0xFFFFFFFFu - (uint32_t)(rnd() & 7);
  }
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  const ptrdiff_t on[2] = {2, 1};
  double sum16[2], sum32[2], var32[2];
  bw_block_output o16 = {BW_STAT_SUM, 0, bw_view_contiguous(sum16, BW_F64, 2, on)};
  bw_view va = bw_view_contiguous(a, BW_U16, 2, shape);
  bw_view vc = bw_view_contiguous(c, BW_U32, 2, shape);
  CHECK(bw_block_stats(&va, NULL, &p, &o16, 1, NULL) == BW_OK, "u16 sums");
  bw_block_output o32[2] = {{BW_STAT_SUM, 0, bw_view_contiguous(sum32, BW_F64, 2, on)},
                            {BW_STAT_VAR, 0, bw_view_contiguous(var32, BW_F64, 2, on)}};
  CHECK(bw_block_stats(&vc, NULL, &p, o32, 2, NULL) == BW_OK, "u32 sums");
  for (int blk = 0; blk < 2; blk++) {
    uint64_t s16 = 0;
    unsigned __int128 s32 = 0;
    for (size_t i = (size_t)blk * 45000; i < (size_t)(blk + 1) * 45000; i++) {
      s16 += a[i];
      s32 += c[i];
    }
    /* both sums are below 2^53 (u16) or rounded once (u32) */
    CHECK(sum16[blk] == (double)s16, "u16 block %d: %.17g vs %llu", blk, sum16[blk],
          (unsigned long long)s16);
    CHECK(sum32[blk] == (double)s32, "u32 block %d sum %.17g", blk, sum32[blk]);
    /* variance of values in {max-7..max}: exact numerator, so tiny error */
    long double m = (long double)s32 / 45000, m2 = 0;
    for (size_t i = (size_t)blk * 45000; i < (size_t)(blk + 1) * 45000; i++)
      m2 += ((long double)c[i] - m) * ((long double)c[i] - m);
    CHECK(fabsl(var32[blk] - m2 / 45000) < 1e-12L, "u32 var %.17g vs %.17Lg",
          var32[blk], m2 / 45000);
  }
  free(a);
  free(c);
}

/* A float32 block of 1e6 + noise gives the r of the noise alone. */
void test_float_offset_no_cancellation(void) {
  const ptrdiff_t shape[2] = {40, 40}, block[2] = {10, 10};
  float a[1600], b[1600], a0[1600], b0[1600];
  for (int i = 0; i < 1600; i++) {
    /* noise on the f32 grid at 1e6 (steps of 1/16), amplitude 1 */
    float na = (float)((int)(rnd() % 33) - 16) / 16.0f;
    float nb = (i % 3 != 0) ? na : (float)((int)(rnd() % 33) - 16) / 16.0f;
    a0[i] = na;
    b0[i] = nb;
    a[i] = 1.0e6f + na;
    b[i] = 1.0e6f + nb;
  }
  const ptrdiff_t on[2] = {4, 4};
  double r[16], r0[16], v[16], v0[16];
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  bw_view va = bw_view_contiguous(a, BW_F32, 2, shape), vb = bw_view_contiguous(b, BW_F32, 2, shape);
  bw_view va0 = bw_view_contiguous(a0, BW_F32, 2, shape), vb0 = bw_view_contiguous(b0, BW_F32, 2, shape);
  bw_block_output o[2] = {{BW_STAT_CORR, 0, bw_view_contiguous(r, BW_F64, 2, on)},
                          {BW_STAT_VAR, 0, bw_view_contiguous(v, BW_F64, 2, on)}};
  bw_block_output o0[2] = {{BW_STAT_CORR, 0, bw_view_contiguous(r0, BW_F64, 2, on)},
                           {BW_STAT_VAR, 0, bw_view_contiguous(v0, BW_F64, 2, on)}};
  CHECK(bw_block_stats(&va, &vb, &p, o, 2, NULL) == BW_OK, "offset");
  CHECK(bw_block_stats(&va0, &vb0, &p, o0, 2, NULL) == BW_OK, "no offset");
  for (int i = 0; i < 16; i++) {
    CHECK(fabs(r[i] - r0[i]) <= 1e-6, "block %d: r %.9f with offset, %.9f without", i,
          r[i], r0[i]);
    CHECK(fabs(v[i] - v0[i]) <= 1e-6 * v0[i], "block %d: var %.9g vs %.9g", i, v[i], v0[i]);
    CHECK(r0[i] > 0.3 && r0[i] < 0.999, "block %d: r %.6f not in a useful range", i, r0[i]);
  }
}

/* Constant blocks: r is NaN, or the fill value when one is set. */
void test_constant_blocks(void) {
  const ptrdiff_t shape[2] = {4, 8}, block[2] = {4, 4};
  uint8_t a[32], b[32];
  for (int i = 0; i < 32; i++) {
    a[i] = (i % 8) < 4 ? 7 : (uint8_t)(i * 3);
    b[i] = (uint8_t)(i * 5 + 1);
  }
  const ptrdiff_t on[2] = {1, 2};
  double r[2];
  bw_view va = bw_view_contiguous(a, BW_U8, 2, shape), vb = bw_view_contiguous(b, BW_U8, 2, shape);
  bw_view vr = bw_view_contiguous(r, BW_F64, 2, on);
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  CHECK(bw_block_corr(&va, &vb, &p, &vr, NULL) == BW_OK, "corr");
  CHECK(isnan(r[0]), "constant block gives %g, expected NaN", r[0]);
  CHECK(!isnan(r[1]) && r[1] > 0.5, "varying block gives %g", r[1]);
  double r1 = r[1];
  p.use_fill = 1;
  p.fill = -2.0;
  CHECK(bw_block_corr(&va, &vb, &p, &vr, NULL) == BW_OK, "corr with fill");
  CHECK(r[0] == -2.0, "fill gives %g", r[0]);
  CHECK(r[1] == r1, "fill changed a varying block: %g vs %g", r[1], r1);
  /* ddof 1 on a single-pixel block: var is NaN, as numpy's is */
  const ptrdiff_t one[2] = {1, 1}, s11[2] = {1, 1};
  double v1;
  bw_block_params_init(&p, 2, one);
  p.ddof = 1;
  bw_view va1 = bw_view_contiguous(a, BW_U8, 2, s11);
  bw_block_output ov = {BW_STAT_VAR, 0, bw_view_contiguous(&v1, BW_F64, 2, s11)};
  CHECK(bw_block_stats(&va1, NULL, &p, &ov, 1, NULL) == BW_OK, "var ddof 1");
  CHECK(isnan(v1), "var of one pixel with ddof 1 is %g", v1);
}

/* NaN in a float block: min, max, mean and r of that block are NaN, other
 * blocks unaffected. */
void test_nan_propagation(void) {
  const ptrdiff_t shape[2] = {2, 8}, block[2] = {2, 4}, on[2] = {1, 2};
  float a[16], b[16];
  for (int i = 0; i < 16; i++) {
    a[i] = (float)(i * i % 7);
    b[i] = (float)(i % 5);
  }
  a[5] = NAN;
  double mn[2], mx[2], mean[2], r[2];
  bw_view va = bw_view_contiguous(a, BW_F32, 2, shape), vb = bw_view_contiguous(b, BW_F32, 2, shape);
  bw_block_output o[4] = {{BW_STAT_MIN, 0, bw_view_contiguous(mn, BW_F64, 2, on)},
                          {BW_STAT_MAX, 0, bw_view_contiguous(mx, BW_F64, 2, on)},
                          {BW_STAT_MEAN, 0, bw_view_contiguous(mean, BW_F64, 2, on)},
                          {BW_STAT_CORR, 0, bw_view_contiguous(r, BW_F64, 2, on)}};
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  CHECK(bw_block_stats(&va, &vb, &p, o, 4, NULL) == BW_OK, "stats");
  CHECK(isnan(mn[1]) && isnan(mx[1]) && isnan(mean[1]) && isnan(r[1]),
        "NaN block gives min %g max %g mean %g r %g", mn[1], mx[1], mean[1], r[1]);
  CHECK(!isnan(mn[0]) && !isnan(mx[0]) && !isnan(mean[0]) && !isnan(r[0]),
        "clean block gives NaN");
}

/* 16-bit pairs whose correlation-only calls take the 32-bit pair path (even
 * block widths, contiguous rows): on data whose range forces every row-group
 * size from "many rows" down to "one row" and "none" (full 16-bit range, the
 * generic kernel per chunk), with chunks of different ranges side by side,
 * odd widths and several chunks per row.  Results must match the oracle and,
 * bit for bit, the same statistics computed along with min (which takes the
 * generic kernel). */
static void fill_span(void *p, bw_dtype dt, size_t n, size_t row, long span) {
  const long top = dt == BW_U16 ? 65535 : 32767;
  for (size_t i = 0; i < n; i++) {
    /* from column 1500 on, an eighth of the span: chunks there see a
     * narrower range than chunks before */
    const long sp = (i % row) < 1500 ? span : span / 8;
    const long v = top - span / 2 - sp / 2 + (long)(rnd() % (uint64_t)(sp + 1));
    if (dt == BW_U16)
      ((uint16_t *)p)[i] = (uint16_t)v;
    else
      ((int16_t *)p)[i] = (int16_t)v;
  }
}

void test_pair16_path(void) {
  static const struct {
    int nd;
    ptrdiff_t shape[3], block[3];
  } cases[] = {
      {2, {23, 2101}, {10, 10}},       /* odd width, partial last block */
      {2, {40, 3000}, {4, 2}},         /* 2-px blocks: one lane per block */
      {2, {9, 1030}, {9, 1024}},       /* block as wide as a chunk */
      {3, {5, 13, 1030}, {2, 4, 16}},  /* 3-D, partial slabs */
  };
  /* spans: 12-bit (many rows per group), 15-bit (a few), 46000 (two rows),
   * 60000 (one row), 65535 (no rows: generic per chunk) */
  static const long spans[] = {4095, 30000, 46000, 60000, 65535};
  static const bw_dtype dts[] = {BW_U16, BW_I16};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (size_t sp = 0; sp < sizeof spans / sizeof spans[0]; sp++)
      for (int t = 0; t < 2; t++) {
        const int nd = cases[c].nd;
        const bw_dtype dt = dts[t];
        const size_t n = prod(cases[c].shape, nd);
        const size_t row = (size_t)cases[c].shape[nd - 1];
        void *a = malloc(n * 2), *b = malloc(n * 2);
        fill_span(a, dt, n, row, spans[sp]);
        fill_span(b, dt, n, row, spans[sp]);
        /* b: a plus a little noise, so r is far from zero */
        for (size_t i = 0; i < n; i++) {
          if (rnd() % 4) continue;
          if (dt == BW_U16) ((uint16_t *)b)[i] = ((uint16_t *)a)[i];
          else ((int16_t *)b)[i] = ((int16_t *)a)[i];
        }
        bw_block_params p;
        bw_block_params_init(&p, nd, cases[c].block);
        ptrdiff_t on[3];
        CHECK(bw_block_output_shape(&p, cases[c].shape, on, NULL) == BW_OK, "shape");
        const size_t no = prod(on, nd);
        bw_view va = bw_view_contiguous(a, dt, nd, cases[c].shape);
        bw_view vb = bw_view_contiguous(b, dt, nd, cases[c].shape);
        /* fast: corr, cov, var of both, mean; generic: the same plus min */
        enum { NF = 5 };
        const bw_stat st[NF + 1] = {BW_STAT_CORR, BW_STAT_COV, BW_STAT_VAR,
                                    BW_STAT_VAR, BW_STAT_MEAN, BW_STAT_MIN};
        const int in[NF + 1] = {0, 0, 0, 1, 0, 0};
        double *fast[NF + 1], *gen[NF + 1];
        bw_block_output of[NF + 1], og[NF + 1];
        for (int o = 0; o < NF + 1; o++) {
          fast[o] = malloc(no * sizeof(double));
          gen[o] = malloc(no * sizeof(double));
          of[o] = (bw_block_output){st[o], in[o], bw_view_contiguous(fast[o], BW_F64, nd, on)};
          og[o] = (bw_block_output){st[o], in[o], bw_view_contiguous(gen[o], BW_F64, nd, on)};
        }
        CHECK(bw_block_stats(&va, &vb, &p, of, NF, NULL) == BW_OK, "fast");
        CHECK(bw_block_stats(&va, &vb, &p, og, NF + 1, NULL) == BW_OK, "generic");
        for (int o = 0; o < NF; o++)
          CHECK(memcmp(fast[o], gen[o], no * sizeof(double)) == 0,
                "case %zu span %ld %s: %s differs from the generic kernel", c,
                spans[sp], bw_dtype_name(dt), bw_stat_name(st[o]));
        ptrdiff_t n3[3] = {1, 1, 1}, b3[3] = {1, 1, 1}, o3[3] = {1, 1, 1};
        for (int d = 0; d < nd; d++) {
          n3[3 - nd + d] = cases[c].shape[d];
          b3[3 - nd + d] = cases[c].block[d];
          o3[3 - nd + d] = on[d];
        }
        for (ptrdiff_t k = 0; k < o3[0]; k++)
          for (ptrdiff_t i = 0; i < o3[1]; i++)
            for (ptrdiff_t j = 0; j < o3[2]; j++) {
              const ref_stats r = ref_block(a, b, dt, n3, b3, k, i, j, 0, 0, 0);
              const size_t idx = (size_t)((k * o3[1] + i) * o3[2] + j);
              const long double want[NF] = {r.corr, r.cov, r.var, r.var_b, r.mean};
              for (int o = 0; o < NF; o++)
                CHECK(close_to(fast[o][idx], want[o], 1e-9),
                      "case %zu span %ld %s block (%td,%td,%td) %s: %.17g vs %.17Lg",
                      c, spans[sp], bw_dtype_name(dt), k, i, j,
                      bw_stat_name(st[o]), fast[o][idx], want[o]);
            }
        for (int o = 0; o < NF + 1; o++) {
          free(fast[o]);
          free(gen[o]);
        }
        free(a);
        free(b);
      }
}

/* Correlation asked for alone takes the kernel's register path for float
 * pairs (and, on AVX-512 machines, its intrinsics): against the oracle, and
 * bit for bit equal to the correlation of a call that asks for everything,
 * over widths that leave every remainder of 8 and 4 columns, blocks
 * narrower and wider than 8 columns and than a chunk, and rows above and
 * below the register path's limit. */
void test_corr_alone(void) {
  static const struct {
    ptrdiff_t shape[2], block[2];
  } cases[] = {
      {{20, 1}, {10, 10}},   {{20, 7}, {10, 10}},    {{23, 13}, {10, 10}},
      {{21, 30}, {10, 10}},  {{10, 250}, {10, 10}},  {{31, 260}, {10, 10}},
      {{12, 37}, {3, 5}},    {{9, 45}, {4, 9}},      {{11, 100}, {5, 8}},
      {{8, 1100}, {4, 600}}, {{6, 2100}, {3, 1030}}, {{70, 40}, {70, 12}},
      {{33, 99}, {65, 16}},  {{10, 13}, {5, 9}},    {{10, 15}, {4, 11}},
  };
  const bw_dtype types[2] = {BW_F32, BW_F64};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
    for (int t = 0; t < 2; t++) {
      const bw_dtype dt = types[t];
      const ptrdiff_t *shape = cases[c].shape, *block = cases[c].block;
      const size_t n = prod(shape, 2);
      void *a, *b;
      random_pair_alloc(dt, n, &a, &b);
      bw_view va = bw_view_contiguous(a, dt, 2, shape), vb = bw_view_contiguous(b, dt, 2, shape);
      bw_block_params p;
      bw_block_params_init(&p, 2, block);
      double *all[N_OUT];
      ptrdiff_t on[2];
      CHECK(run_all(&va, &vb, &p, all, on, NULL) == BW_OK, "case %zu: all", c);
      const size_t no = prod(on, 2);
      double *r = malloc(no * sizeof *r);
      bw_block_output o = {BW_STAT_CORR, 0, bw_view_contiguous(r, BW_F64, 2, on)};
      CHECK(bw_block_stats(&va, &vb, &p, &o, 1, NULL) == BW_OK, "case %zu: corr", c);
      CHECK(memcmp(r, all[8], no * sizeof *r) == 0, "case %zu %s: corr alone differs from corr with the rest",
            c, bw_dtype_name(dt));
      const ptrdiff_t n3[3] = {1, shape[0], shape[1]}, b3[3] = {1, block[0], block[1]};
      int bad = 0;
      for (ptrdiff_t i = 0; i < on[0]; i++)
        for (ptrdiff_t j = 0; j < on[1]; j++) {
          const ref_stats ref = ref_block(a, b, dt, n3, b3, 0, i, j, 0, 0, 0);
          if (!close_to(r[i * on[1] + j], ref.corr, 1e-9) && bad++ < 3)
            fprintf(stderr, "case %zu %s block (%td,%td): r %.17g, want %.17Lg\n", c,
                    bw_dtype_name(dt), i, j, r[i * on[1] + j], ref.corr);
        }
      CHECK(bad == 0, "case %zu %s: %d blocks off the oracle", c, bw_dtype_name(dt), bad);
      for (int k = 0; k < N_OUT; k++) free(all[k]);
      free(r);
      free(a);
      free(b);
    }
}
