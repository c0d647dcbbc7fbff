/*
 * Tests of the C core.  One executable, many tests: `blockwise_core_tests
 * NAME` runs one (CTest registers each), no argument runs them all.
 *
 * The oracle is written here, independently of the library: a plain
 * two-pass long-double computation per block that walks the pixels with
 * index arithmetic (no strides, no chunks, no shifts).
 */
#include "blockwise.h"
#include "bw_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Fills n random elements covering the dtype's whole range (floats: values
 * of mixed magnitude around an offset, so that cancellation would show). */
static void fill_random(void *p, bw_dtype dt, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t r = rnd();
    switch (dt) {
    case BW_U8: ((uint8_t *)p)[i] = (uint8_t)r; break;
    case BW_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)r; break;
    case BW_U16: ((uint16_t *)p)[i] = (uint16_t)r; break;
    case BW_I16: ((int16_t *)p)[i] = (int16_t)(uint16_t)r; break;
    case BW_U32: ((uint32_t *)p)[i] = (uint32_t)r; break;
    case BW_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)r; break;
    case BW_F32: ((float *)p)[i] = (float)(1000.0 + 200.0 * (rnd_unit() - 0.5)); break;
    case BW_F64: ((double *)p)[i] = -3.0e4 + 1.0e3 * (rnd_unit() - 0.5); break;
    }
  }
}

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

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* The outputs every accuracy test asks for, all in one call. */
enum { N_OUT = 11 };
static const bw_stat out_stats[N_OUT] = {
    BW_STAT_COUNT, BW_STAT_SUM,  BW_STAT_MEAN, BW_STAT_VAR,
    BW_STAT_STD,   BW_STAT_MIN,  BW_STAT_MAX,  BW_STAT_COV,
    BW_STAT_CORR,  BW_STAT_MEAN, BW_STAT_VAR};
static const int out_input[N_OUT] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

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

static size_t prod(const ptrdiff_t *s, int nd) {
  size_t p = 1;
  for (int i = 0; i < nd; i++) p *= (size_t)s[i];
  return p;
}

/* Runs all outputs for contiguous a, b; fills outs[N_OUT] (f64, allocated). */
static bw_status run_all(const bw_view *va, const bw_view *vb,
                         const bw_block_params *p, double **outs,
                         ptrdiff_t *on, bw_error *err) {
  bw_status s = bw_block_output_shape(p, va->shape, on, err);
  if (s) return s;
  bw_block_output o[N_OUT];
  size_t no = prod(on, p->ndim);
  for (int i = 0; i < N_OUT; i++) {
    outs[i] = malloc(no * sizeof(double));
    o[i].stat = out_stats[i];
    o[i].input = out_input[i];
    o[i].view = bw_view_contiguous(outs[i], BW_F64, p->ndim, on);
  }
  return bw_block_stats(va, vb, p, o, N_OUT, err);
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

typedef struct shape_case {
  int nd;
  ptrdiff_t shape[3], block[3];
} shape_case;

static const shape_case shape_cases[] = {
    {2, {1, 97}, {1, 10}},        /* 1 x N */
    {2, {97, 1}, {10, 1}},        /* N x 1 */
    {2, {1, 97}, {3, 10}},        /* block taller than the image */
    {2, {37, 53}, {5, 7}},        /* odd sizes, partial edges */
    {2, {40, 60}, {10, 10}},      /* exact multiple */
    {2, {13, 17}, {32, 32}},      /* block larger than the image */
    {2, {13, 17}, {13, 17}},      /* block equal to the image */
    {2, {33, 1100}, {4, 600}},    /* block wider than a chunk */
    {2, {5, 2000}, {2, 3}},       /* many chunks */
    {3, {9, 20, 31}, {2, 5, 7}},  /* 3-D anisotropic */
    {3, {4, 16, 16}, {4, 16, 16}},/* 3-D block equal to the image */
    {3, {7, 3, 50}, {3, 1, 9}},   /* 3-D thin */
};

static void test_reference_2d3d(void) {
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
static void test_integer_sums_exact(void) {
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
static void test_float_offset_no_cancellation(void) {
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
static void test_constant_blocks(void) {
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
static void test_nan_propagation(void) {
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

/* Output of a block-aligned sub-region equals the whole-image output bit for
 * bit, for random output regions. */
static void test_subregion_bit_identical(void) {
  for (size_t c = 0; c < sizeof shape_cases / sizeof *shape_cases; c++) {
    const shape_case *sc = &shape_cases[c];
    for (size_t t = 0; t < 8; t++)
      for (int edge = 0; edge < 2; edge++) {
        const bw_dtype dt = bw_test_dtypes[t];
        const int nd = sc->nd;
        bw_block_params p;
        bw_block_params_init(&p, nd, sc->block);
        p.edge = (bw_edge)edge;
        ptrdiff_t on[3];
        if (bw_block_output_shape(&p, sc->shape, on, NULL) != BW_OK) continue;
        size_t n = prod(sc->shape, nd), es = bw_dtype_size(dt);
        void *a = malloc(n * es), *b = malloc(n * es);
        fill_random(a, dt, n);
        fill_random(b, dt, n);
        bw_view va = bw_view_contiguous(a, dt, nd, sc->shape);
        bw_view vb = bw_view_contiguous(b, dt, nd, sc->shape);
        double *whole[N_OUT], *part[N_OUT];
        CHECK(run_all(&va, &vb, &p, whole, on, NULL) == BW_OK, "whole");
        for (int trial = 0; trial < 6; trial++) {
          bw_region oreg, ireg;
          memset(&oreg, 0, sizeof oreg);
          for (int d = 0; d < nd; d++) {
            oreg.start[d] = (ptrdiff_t)(rnd() % (uint64_t)on[d]);
            oreg.size[d] = 1 + (ptrdiff_t)(rnd() % (uint64_t)(on[d] - oreg.start[d]));
          }
          CHECK(bw_block_input_region(&p, sc->shape, &oreg, &ireg, NULL) == BW_OK, "map");
          for (int d = 0; d < nd; d++)
            CHECK(ireg.start[d] % sc->block[d] == 0, "region not block aligned");
          bw_view sa, sb;
          CHECK(bw_view_subview(&va, &ireg, &sa, NULL) == BW_OK, "subview a");
          CHECK(bw_view_subview(&vb, &ireg, &sb, NULL) == BW_OK, "subview b");
          ptrdiff_t pon[3];
          CHECK(run_all(&sa, &sb, &p, part, pon, NULL) == BW_OK, "part");
          for (int d = 0; d < nd; d++)
            CHECK(pon[d] == oreg.size[d], "sub-output extent %td vs region %td", pon[d],
                  oreg.size[d]);
          ptrdiff_t o3[3] = {1, 1, 1}, s3[3] = {0, 0, 0}, z3[3] = {1, 1, 1};
          for (int d = 0; d < nd; d++) {
            o3[3 - nd + d] = on[d];
            s3[3 - nd + d] = oreg.start[d];
            z3[3 - nd + d] = oreg.size[d];
          }
          int mism = 0;
          for (int o = 0; o < N_OUT; o++)
            for (ptrdiff_t k = 0; k < z3[0]; k++)
              for (ptrdiff_t i = 0; i < z3[1]; i++)
                for (ptrdiff_t j = 0; j < z3[2]; j++) {
                  double w = whole[o][((s3[0] + k) * o3[1] + s3[1] + i) * o3[2] + s3[2] + j];
                  double q = part[o][(k * z3[1] + i) * z3[2] + j];
                  if (memcmp(&w, &q, sizeof w) != 0) mism++;
                }
          for (int o = 0; o < N_OUT; o++) free(part[o]);
          CHECK(mism == 0, "case %zu dtype %s edge %d: %d values differ", c,
                bw_dtype_name(dt), edge, mism);
        }
        for (int o = 0; o < N_OUT; o++) free(whole[o]);
        free(a);
        free(b);
      }
  }
}

/* Views with padding, non-unit x steps and negative strides give the same
 * bits as contiguous copies; outputs may be strided too. */
static void test_strided_views(void) {
  const ptrdiff_t shape[3] = {5, 23, 41}, block[3] = {2, 4, 6};
  for (size_t t = 0; t < 8; t++) {
    const bw_dtype dt = bw_test_dtypes[t];
    size_t es = bw_dtype_size(dt);
    /* a big buffer of shape (7, 30, 2*41 + 5); the view takes every other x,
     * starting at (1, 3, 2) */
    const ptrdiff_t big[3] = {7, 30, 2 * 41 + 5};
    size_t nbig = prod(big, 3), n = prod(shape, 3);
    void *abig = malloc(nbig * es), *bbig = malloc(nbig * es);
    fill_random(abig, dt, nbig);
    fill_random(bbig, dt, nbig);
    bw_view vabig = bw_view_contiguous(abig, dt, 3, big);
    bw_view vbbig = bw_view_contiguous(bbig, dt, 3, big);
    bw_view sa = vabig, sb = vbbig;
    ptrdiff_t start = ((1 * big[1] + 3) * big[2] + 2) * (ptrdiff_t)es;
    sa.data = (char *)abig + start;
    sb.data = (char *)bbig + start;
    for (int d = 0; d < 3; d++) sa.shape[d] = sb.shape[d] = shape[d];
    sa.strides[2] = sb.strides[2] = 2 * (ptrdiff_t)es;
    /* contiguous copies made by index arithmetic */
    char *ca = malloc(n * es), *cb = malloc(n * es);
    for (ptrdiff_t z = 0; z < shape[0]; z++)
      for (ptrdiff_t y = 0; y < shape[1]; y++)
        for (ptrdiff_t x = 0; x < shape[2]; x++) {
          size_t src = (size_t)(((1 + z) * big[1] + 3 + y) * big[2] + 2 + 2 * x);
          size_t dst = (size_t)((z * shape[1] + y) * shape[2] + x);
          memcpy(ca + dst * es, (char *)abig + src * es, es);
          memcpy(cb + dst * es, (char *)bbig + src * es, es);
        }
    bw_view va = bw_view_contiguous(ca, dt, 3, shape), vb = bw_view_contiguous(cb, dt, 3, shape);
    bw_block_params p;
    bw_block_params_init(&p, 3, block);
    double *ref[N_OUT], *got[N_OUT];
    ptrdiff_t on[3];
    CHECK(run_all(&va, &vb, &p, ref, on, NULL) == BW_OK, "contiguous");
    CHECK(run_all(&sa, &sb, &p, got, on, NULL) == BW_OK, "strided");
    size_t no = prod(on, 3);
    for (int o = 0; o < N_OUT; o++)
      CHECK(memcmp(ref[o], got[o], no * sizeof(double)) == 0, "dtype %s output %s differs",
            bw_dtype_name(dt), bw_stat_name(out_stats[o]));
    /* flipped along y (negative stride) equals the flipped contiguous copy */
    {
      bw_view fa = va;
      fa.data = ca + (shape[1] - 1) * va.strides[1];
      fa.strides[1] = -va.strides[1];
      const ptrdiff_t one[3] = {1, 1, 1};
      bw_block_params p1;
      bw_block_params_init(&p1, 3, one);
      double *fl = malloc(n * sizeof(double)), *pl = malloc(n * sizeof(double));
      bw_block_output of = {BW_STAT_SUM, 0, bw_view_contiguous(fl, BW_F64, 3, shape)};
      bw_block_output op = {BW_STAT_SUM, 0, bw_view_contiguous(pl, BW_F64, 3, shape)};
      CHECK(bw_block_stats(&fa, NULL, &p1, &of, 1, NULL) == BW_OK, "flipped");
      CHECK(bw_block_stats(&va, NULL, &p1, &op, 1, NULL) == BW_OK, "plain");
      int mism = 0;
      for (ptrdiff_t z = 0; z < shape[0]; z++)
        for (ptrdiff_t y = 0; y < shape[1]; y++)
          for (ptrdiff_t x = 0; x < shape[2]; x++)
            mism += fl[(z * shape[1] + y) * shape[2] + x] !=
                    pl[(z * shape[1] + shape[1] - 1 - y) * shape[2] + x];
      free(fl);
      free(pl);
      CHECK(mism == 0, "dtype %s: flipped view gives %d different values", bw_dtype_name(dt),
            mism);
    }
    /* a strided f32 output: every third element of a larger buffer */
    {
      float *big_out = malloc(3 * no * sizeof(float));
      for (size_t i = 0; i < 3 * no; i++) big_out[i] = 12345.0f;
      bw_block_output o = {BW_STAT_CORR, 0, bw_view_contiguous(big_out, BW_F32, 3, on)};
      o.view.strides[2] *= 3;
      o.view.strides[1] *= 3;
      o.view.strides[0] *= 3;
      CHECK(bw_block_stats(&sa, &sb, &p, &o, 1, NULL) == BW_OK, "f32 strided out");
      int mism = 0;
      for (size_t i = 0; i < 3 * no; i++) {
        float want = (i % 3 == 0) ? (float)ref[8][i / 3] : 12345.0f;
        if (memcmp(&want, &big_out[i], sizeof want) != 0) mism++;
      }
      free(big_out);
      CHECK(mism == 0, "dtype %s: strided f32 output differs in %d places",
            bw_dtype_name(dt), mism);
    }
    for (int o = 0; o < N_OUT; o++) {
      free(ref[o]);
      free(got[o]);
    }
    free(abig);
    free(bbig);
    free(ca);
    free(cb);
  }
}

/* Several statistics in one call equal separate calls, bit for bit. */
static void test_one_pass_equals_separate(void) {
  const ptrdiff_t shape[2] = {64, 77}, block[2] = {8, 11};
  for (size_t t = 0; t < 8; t++) {
    const bw_dtype dt = bw_test_dtypes[t];
    size_t n = prod(shape, 2), es = bw_dtype_size(dt);
    void *a = malloc(n * es), *b = malloc(n * es);
    fill_random(a, dt, n);
    fill_random(b, dt, n);
    bw_view va = bw_view_contiguous(a, dt, 2, shape), vb = bw_view_contiguous(b, dt, 2, shape);
    bw_block_params p;
    bw_block_params_init(&p, 2, block);
    p.ddof = 1;
    double *all[N_OUT];
    ptrdiff_t on[2];
    CHECK(run_all(&va, &vb, &p, all, on, NULL) == BW_OK, "all");
    size_t no = prod(on, 2);
    double *one = malloc(no * sizeof(double));
    for (int o = 0; o < N_OUT; o++) {
      bw_block_output out = {out_stats[o], out_input[o], bw_view_contiguous(one, BW_F64, 2, on)};
      CHECK(bw_block_stats(&va, &vb, &p, &out, 1, NULL) == BW_OK, "single");
      CHECK(memcmp(one, all[o], no * sizeof(double)) == 0, "dtype %s %s differs",
            bw_dtype_name(dt), bw_stat_name(out_stats[o]));
    }
    free(one);
    for (int o = 0; o < N_OUT; o++) free(all[o]);
    free(a);
    free(b);
  }
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

static void test_pair16_path(void) {
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

/* Each invalid argument returns its status, a message, and leaves every
 * output byte untouched. */
static void test_errors_leave_output_untouched(void) {
  enum { H = 12, W = 20 };
  static uint16_t a[H * W], b[H * W];
  static float bf[H * W];
  const ptrdiff_t shape[2] = {H, W}, block[2] = {4, 5}, on[2] = {3, 4};
  double out[12], out2[12];
  uint8_t sentinel[sizeof out];
  memset(sentinel, 0xA5, sizeof sentinel);
  fill_random(a, BW_U16, H * W);
  fill_random(b, BW_U16, H * W);

  struct {
    const char *name;
    bw_status want;
  } cases[] = {
      {"null a", BW_ERR_NULL},          {"null params", BW_ERR_NULL},
      {"null outputs", BW_ERR_NULL},    {"zero outputs", BW_ERR_PARAM},
      {"null data", BW_ERR_NULL},       {"bad dtype", BW_ERR_DTYPE},
      {"ndim 4", BW_ERR_NDIM},          {"view ndim differs", BW_ERR_NDIM},
      {"zero extent", BW_ERR_SHAPE},    {"negative extent", BW_ERR_SHAPE},
      {"zero block", BW_ERR_BLOCK},     {"negative block", BW_ERR_BLOCK},
      {"bad edge", BW_ERR_PARAM},       {"ddof 2", BW_ERR_PARAM},
      {"bad stat", BW_ERR_PARAM},       {"input 2", BW_ERR_PARAM},
      {"corr without b", BW_ERR_NULL},  {"b dtype differs", BW_ERR_DTYPE},
      {"b shape differs", BW_ERR_SHAPE},{"b null data", BW_ERR_NULL},
      {"output u8", BW_ERR_OUTPUT},     {"output shape", BW_ERR_OUTPUT},
      {"output ndim", BW_ERR_OUTPUT},   {"output null", BW_ERR_OUTPUT},
      {"second output bad", BW_ERR_OUTPUT},
      {"trim leaves nothing", BW_ERR_BLOCK},
  };
  const int ncases = (int)(sizeof cases / sizeof *cases);
  for (int c = 0; c < ncases; c++) {
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
    switch (c) {
    case 0: pa = NULL; break;
    case 1: pp = NULL; break;
    case 2: po = NULL; break;
    case 3: no = 0; break;
    case 4: va.data = NULL; break;
    case 5: va.dtype = (bw_dtype)99; break;
    case 6: p.ndim = 4; break;
    case 7: va.ndim = 3; break;
    case 8: va.shape[1] = 0; break;
    case 9: va.shape[0] = -3; break;
    case 10: p.block[1] = 0; break;
    case 11: p.block[0] = -4; break;
    case 12: p.edge = (bw_edge)7; break;
    case 13: p.ddof = 2; break;
    case 14: o[0].stat = (bw_stat)42; break;
    case 15: o[0].stat = BW_STAT_MEAN; o[0].input = 2; break;
    case 16: pb = NULL; break;
    case 17: vb = bw_view_contiguous(bf, BW_F32, 2, shape); break;
    case 18: vb.shape[1] = W - 1; break;
    case 19: vb.data = NULL; break;
    case 20: o[0].view.dtype = BW_U8; break;
    case 21: o[0].view.shape[1] = 5; break;
    case 22: o[0].view.ndim = 3; break;
    case 23: o[0].view.data = NULL; break;
    case 24: no = 2; o[1].view.shape[0] = 2; break;
    case 25: p.edge = BW_EDGE_TRIM; p.block[1] = W + 1; o[0].view.shape[1] = 0; break;
    }
    memset(out, 0xA5, sizeof out);
    memset(out2, 0xA5, sizeof out2);
    bw_error err;
    memset(&err, 0, sizeof err);
    bw_status s = bw_block_stats(pa, pb, pp, po, no, &err);
    CHECK(s == cases[c].want, "%s: status %d (%s), expected %d", cases[c].name, s,
          err.message, cases[c].want);
    CHECK(err.status == s && err.message[0] != '\0', "%s: no message", cases[c].name);
    CHECK(memcmp(out, sentinel, sizeof out) == 0 && memcmp(out2, sentinel, sizeof out2) == 0,
          "%s: output was written", cases[c].name);
    CHECK(strcmp(bw_status_string(s), "unknown status") != 0, "%s: no status string",
          cases[c].name);
    /* the same call without an error struct returns the same status */
    CHECK(bw_block_stats(pa, pb, pp, po, no, NULL) == s, "%s: status differs without err",
          cases[c].name);
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

/* The region map on known cases, written out by hand. */
static void test_region_map_values(void) {
  const ptrdiff_t shape[3] = {10, 37, 53}, block[3] = {4, 5, 7};
  bw_block_params p;
  bw_block_params_init(&p, 3, block);
  ptrdiff_t on[3];
  CHECK(bw_block_output_shape(&p, shape, on, NULL) == BW_OK, "shape");
  CHECK(on[0] == 3 && on[1] == 8 && on[2] == 8, "partial output %td %td %td", on[0], on[1],
        on[2]);
  bw_region r = {{1, 2, 6}, {2, 6, 2}}, in;
  CHECK(bw_block_input_region(&p, shape, &r, &in, NULL) == BW_OK, "map");
  CHECK(in.start[0] == 4 && in.size[0] == 6, "z: %td + %td", in.start[0], in.size[0]);
  CHECK(in.start[1] == 10 && in.size[1] == 27, "y: %td + %td", in.start[1], in.size[1]);
  CHECK(in.start[2] == 42 && in.size[2] == 11, "x: %td + %td", in.start[2], in.size[2]);
  p.edge = BW_EDGE_TRIM;
  CHECK(bw_block_output_shape(&p, shape, on, NULL) == BW_OK, "trim shape");
  CHECK(on[0] == 2 && on[1] == 7 && on[2] == 7, "trim output %td %td %td", on[0], on[1],
        on[2]);
  bw_region t = {{0, 0, 0}, {2, 7, 7}};
  CHECK(bw_block_input_region(&p, shape, &t, &in, NULL) == BW_OK, "trim map");
  CHECK(in.size[0] == 8 && in.size[1] == 35 && in.size[2] == 49, "trim region %td %td %td",
        in.size[0], in.size[1], in.size[2]);
}

/* ------------------------------------------------------------------------ */

/* bw_block_params_check gives bw_block_stats' own status and message. */
static void test_params_check(void) {
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
static void test_stat_names(void) {
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

/* bw_block_output_region: hand-worked cases, then pieces that tile the
 * image give output regions that tile the output, each mapped back by
 * bw_block_input_region to the piece it came from. */
static void test_output_region(void) {
  const ptrdiff_t shape[2] = {23, 40}, block[2] = {5, 8};
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  bw_region in = {{10, 16, 0}, {13, 24, 0}}, out;
  bw_error err;
  CHECK(bw_block_output_region(&p, shape, &in, &out, &err) == BW_OK, "%s", err.message);
  CHECK(out.start[0] == 2 && out.size[0] == 3 && out.start[1] == 2 && out.size[1] == 3,
        "partial: [%td +%td) [%td +%td)", out.start[0], out.size[0], out.start[1], out.size[1]);
  p.edge = BW_EDGE_TRIM;
  CHECK(bw_block_output_region(&p, shape, &in, &out, &err) == BW_OK, "%s", err.message);
  CHECK(out.start[0] == 2 && out.size[0] == 2 && out.size[1] == 3, "trim: %td +%td, +%td",
        out.start[0], out.size[0], out.size[1]);
  /* Only the trimmed remainder (rows 20..22): no blocks along that axis. */
  bw_region rest = {{20, 0, 0}, {3, 40, 0}};
  CHECK(bw_block_output_region(&p, shape, &rest, &out, &err) == BW_OK, "%s", err.message);
  CHECK(out.start[0] == 4 && out.size[0] == 0 && out.size[1] == 5, "remainder %td +%td",
        out.start[0], out.size[0]);
  /* Misaligned start, misaligned end, outside, empty. */
  bw_region bad = {{3, 0, 0}, {5, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "start");
  bad = (bw_region){{0, 0, 0}, {7, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "end");
  bad = (bw_region){{20, 0, 0}, {5, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "outside");
  bad = (bw_region){{0, 0, 0}, {0, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "empty");
  p.block[0] = 0;
  CHECK(bw_block_output_region(&p, shape, &in, &out, &err) == BW_ERR_BLOCK, "bad block");
  /* Tiling, both edges, random block-aligned cuts. */
  for (int edge = 0; edge < 2; edge++)
    for (int t = 0; t < 50; t++) {
      bw_block_params_init(&p, 2, block);
      p.edge = (bw_edge)edge;
      ptrdiff_t cut[2][8], nc[2];
      for (int a = 0; a < 2; a++) {
        nc[a] = 0;
        cut[a][nc[a]++] = 0;
        for (ptrdiff_t x = block[a]; x < shape[a]; x += block[a])
          if (rnd() & 1) cut[a][nc[a]++] = x;
        cut[a][nc[a]++] = shape[a];
      }
      ptrdiff_t on[2], covered[2] = {0, 0};
      CHECK(bw_block_output_shape(&p, shape, on, NULL) == BW_OK, "output shape");
      for (int a = 0; a < 2; a++)
        for (ptrdiff_t k = 0; k + 1 < nc[a]; k++) {
          bw_region piece = {{0, 0, 0}, {shape[0], shape[1], 0}};
          piece.start[a] = cut[a][k];
          piece.size[a] = cut[a][k + 1] - cut[a][k];
          CHECK(bw_block_output_region(&p, shape, &piece, &out, &err) == BW_OK, "%s",
                err.message);
          CHECK(out.start[a] == covered[a], "axis %d: piece starts at block %td, not %td", a,
                out.start[a], covered[a]);
          covered[a] += out.size[a];
          if (out.size[a] > 0) {
            bw_region back;
            CHECK(bw_block_input_region(&p, shape, &out, &back, &err) == BW_OK, "%s",
                  err.message);
            CHECK(back.start[a] == piece.start[a] && back.size[a] <= piece.size[a],
                  "axis %d: back to [%td +%td) from [%td +%td)", a, back.start[a],
                  back.size[a], piece.start[a], piece.size[a]);
          }
        }
      CHECK(covered[0] == on[0] && covered[1] == on[1], "pieces cover %td x %td of %td x %td",
            covered[0], covered[1], on[0], on[1]);
    }
}

static const bw_test tests[] = {
    {"reference", test_reference_2d3d},
    {"integer_sums_exact", test_integer_sums_exact},
    {"float_offset", test_float_offset_no_cancellation},
    {"constant_blocks", test_constant_blocks},
    {"nan_propagation", test_nan_propagation},
    {"subregion", test_subregion_bit_identical},
    {"strided_views", test_strided_views},
    {"one_pass", test_one_pass_equals_separate},
    {"errors", test_errors_leave_output_untouched},
    {"region_map", test_region_map_values},
    {"pair16", test_pair16_path},
    {"params_check", test_params_check},
    {"stat_names", test_stat_names},
    {"output_region", test_output_region},
};

int main(int argc, char **argv) {
  return bw_test_main(argc, argv, tests, sizeof tests / sizeof *tests);
}
