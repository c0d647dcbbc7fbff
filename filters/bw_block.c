/*
 * Blockwise statistics over non-overlapping blocks.
 *
 * The work is organised by slabs: a slab is one row of blocks (the bz*by
 * input rows that blocks (k, i, *) share).  Within a slab the columns are
 * taken in chunks of whole blocks (or block-aligned pieces of one wide
 * block).  For each chunk, every row of the slab is added column-wise into
 * small per-column accumulators that stay in L1 cache; these inner loops are
 * plain element-wise loops over contiguous arrays that the compiler
 * vectorises.  The columns of a chunk are then folded into per-block sums,
 * one array per sum across the blocks of the slab, and the slab's blocks
 * are finished into moments and statistics by loops across those arrays.
 * The slab kernels are in bw_block_kernel.h (one per input type, made in
 * bw_block_kernels.c) and bw_block_p16.c; here are the parameters, the
 * region maps, validation, dispatch, finishing and storing.
 *
 * Accumulators by input type (bw_block_kernels.c gives the bounds):
 *   u8 i8 u16 i16  values centred on the middle of the type's range; int32
 *                  column sums, uint32 for two rows of squares, int64 column
 *                  sums of squares and products; int64 per block when the
 *                  block is small enough for exact int64 finishing (nmax64),
 *                  else __int128: exact.
 *   u32 i32        centred likewise; __int128 per column and per block.
 *   f32 f64        double, of values minus the block's first pixel (the
 *                  shifted-data algorithm), so a large common offset does not
 *                  cancel the variance away.
 * Correlation of 16-bit pairs has its own path with 32-bit column-pair sums
 * (bw_block_p16.c, over bw_pairsum.c); it computes the same integers.
 *
 * Every block's result depends only on its own pixels and exact integer
 * sums or, for floats, double sums taken in a fixed order (chunks are
 * aligned to block starts), so any block-aligned sub-view yields the same
 * bits as the whole image.
 */
#include "bw_block_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The one table of statistic names: short (bw_stat_name) and long. */
static const struct {
  bw_stat stat;
  const char *name, *long_name;
} stat_names[BW_NUM_STATS] = {
    {BW_STAT_COUNT, "count", "count"},
    {BW_STAT_SUM, "sum", "sum"},
    {BW_STAT_MEAN, "mean", "mean"},
    {BW_STAT_VAR, "var", "variance"},
    {BW_STAT_STD, "std", "standard-deviation"},
    {BW_STAT_MIN, "min", "minimum"},
    {BW_STAT_MAX, "max", "maximum"},
    {BW_STAT_COV, "cov", "covariance"},
    {BW_STAT_CORR, "corr", "correlation"},
};

bw_status bw_stat_from_name(const char *name, bw_stat *stat, bw_error *err) {
  if (!name || !stat)
    return bw_fail(err, BW_ERR_NULL, "statistic name: NULL pointer");
  for (int i = 0; i < BW_NUM_STATS; i++)
    if (!strcmp(name, stat_names[i].name) ||
        !strcmp(name, stat_names[i].long_name)) {
      *stat = stat_names[i].stat;
      return BW_OK;
    }
  return bw_fail(err, BW_ERR_PARAM, "unknown statistic '%.64s'", name);
}

int bw_stat_is_pair(bw_stat stat) {
  if ((int)stat < 0 || (int)stat >= BW_NUM_STATS) return -1;
  return stat == BW_STAT_COV || stat == BW_STAT_CORR;
}

void bw_block_params_init(bw_block_params *p, int ndim,
                          const ptrdiff_t *block) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->ndim = ndim;
  for (int i = 0; i < BW_MAX_DIMS; i++)
    p->block[i] = !block ? BW_BLOCK_DEFAULT : i < ndim ? block[i] : 1;
  p->edge = BW_EDGE_PARTIAL;
  p->ddof = 0;
  p->use_fill = 0;
  p->fill = NAN;
}

const char *bw_stat_name(bw_stat stat) {
  return bw_stat_is_pair(stat) < 0 ? "invalid" : stat_names[stat].name;
}

bw_status bw_block_params_check(const bw_block_params *p, bw_error *err) {
  if (!p) return bw_fail(err, BW_ERR_NULL, "params is NULL");
  if (p->ndim != 2 && p->ndim != 3)
    return bw_fail(err, BW_ERR_NDIM, "params: ndim %d, expected 2 or 3",
                   p->ndim);
  for (int i = 0; i < p->ndim; i++)
    if (p->block[i] < 1)
      return bw_fail(err, BW_ERR_BLOCK, "block sizes must be at least 1, not %td (axis %d)",
                     p->block[i], i);
  if (p->edge != BW_EDGE_PARTIAL && p->edge != BW_EDGE_TRIM)
    return bw_fail(err, BW_ERR_PARAM, "edge policy %d is neither partial nor trim",
                   (int)p->edge);
  if (p->ddof != 0 && p->ddof != 1)
    return bw_fail(err, BW_ERR_PARAM, "ddof %d, expected 0 or 1", p->ddof);
  return BW_OK;
}

bw_status bw_block_output_shape(const bw_block_params *p,
                                const ptrdiff_t *image_shape,
                                ptrdiff_t *out_shape, bw_error *err) {
  bw_status s = bw_block_params_check(p, err);
  if (s) return s;
  if (!image_shape || !out_shape)
    return bw_fail(err, BW_ERR_NULL, "output shape: NULL shape pointer");
  ptrdiff_t tmp[BW_MAX_DIMS];
  for (int i = 0; i < p->ndim; i++) {
    ptrdiff_t n = image_shape[i], b = p->block[i];
    if (n < 1)
      return bw_fail(err, BW_ERR_SHAPE, "image extent %td along axis %d (< 1)",
                     n, i);
    tmp[i] = p->edge == BW_EDGE_TRIM ? n / b : n / b + (n % b != 0);
    if (tmp[i] < 1)
      return bw_fail(err, BW_ERR_BLOCK,
                     "block extent %td along axis %d is larger than the image "
                     "(%td): trim leaves no block",
                     b, i, n);
  }
  for (int i = 0; i < p->ndim; i++) out_shape[i] = tmp[i];
  return BW_OK;
}

bw_status bw_block_input_region(const bw_block_params *p,
                                const ptrdiff_t *image_shape,
                                const bw_region *out_region,
                                bw_region *in_region, bw_error *err) {
  ptrdiff_t on[BW_MAX_DIMS];
  bw_status s = bw_block_output_shape(p, image_shape, on, err);
  if (s) return s;
  if (!out_region || !in_region)
    return bw_fail(err, BW_ERR_NULL, "input region: NULL region pointer");
  bw_region r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < p->ndim; i++) {
    ptrdiff_t st = out_region->start[i], sz = out_region->size[i];
    if (st < 0 || sz < 1 || st > on[i] - sz)
      return bw_fail(err, BW_ERR_REGION,
                     "output region [%td, %td) along axis %d is not inside the "
                     "%td blocks of the output",
                     st, st + sz, i, on[i]);
    ptrdiff_t b = p->block[i];
    ptrdiff_t lo = st * b, hi = (st + sz) * b;
    if (hi > image_shape[i]) hi = image_shape[i];
    r.start[i] = lo;
    r.size[i] = hi - lo;
  }
  *in_region = r;
  return BW_OK;
}

bw_status bw_block_output_region(const bw_block_params *p,
                                 const ptrdiff_t *image_shape,
                                 const bw_region *in_region,
                                 bw_region *out_region, bw_error *err) {
  bw_status s = bw_block_params_check(p, err);
  if (s) return s;
  if (!image_shape || !in_region || !out_region)
    return bw_fail(err, BW_ERR_NULL, "output region: NULL pointer");
  bw_region r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < p->ndim; i++) {
    const ptrdiff_t st = in_region->start[i], sz = in_region->size[i];
    const ptrdiff_t n = image_shape[i], b = p->block[i];
    if (n < 1)
      return bw_fail(err, BW_ERR_SHAPE, "image extent %td along axis %d (< 1)",
                     n, i);
    if (st < 0 || sz < 1 || st > n - sz)
      return bw_fail(err, BW_ERR_REGION,
                     "input region [%td, %td) along axis %d is not inside the "
                     "image [0, %td)",
                     st, st + sz, i, n);
    const ptrdiff_t end = st + sz;
    if (st % b != 0 || (end % b != 0 && end != n))
      return bw_fail(err, BW_ERR_REGION,
                     "input region [%td, %td) along axis %d does not start on "
                     "a block boundary (block %td) and end on one or at the "
                     "image's end (%td)",
                     st, end, i, b, n);
    r.start[i] = st / b;
    r.size[i] = p->edge == BW_EDGE_TRIM ? end / b - st / b
                                        : (end - st + b - 1) / b;
  }
  *out_region = r;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Integer finishing: exact numerators from exact sums                      */
/* ------------------------------------------------------------------------ */

/* sum / n with one rounding of the remainder. */
static double int_mean(i128 s1, int64_t n) {
  i128 q = s1 / n, r = s1 % n;
  return (double)q + (double)r / (double)n;
}

/* n * sum (x - mean_x)(y - mean_y) = n*sxy - sx*sy, exact when the products
 * fit (nmax_exact), else computed as sxy - sx*q - sx*r/n with sy = q*n + r,
 * which keeps every intermediate within 128 bits.  Returned as n*M. */
static double int_comoment_n(i128 sxy, i128 sx, i128 sy, int64_t n,
                             int64_t nmax_exact) {
  if (n <= nmax_exact) return (double)(n * sxy - sx * sy);
  i128 q = sy / n, r = sy % n;
  return ((double)(sxy - sx * q) - (double)(sx * r) / (double)n) * (double)n;
}


/* ------------------------------------------------------------------------ */
/* Finishing a slab and writing outputs                                     */
/* ------------------------------------------------------------------------ */

/* Pixels in block j of a slab whose blocks have rzy rows. */
static inline int64_t block_count(int64_t rzy, ptrdiff_t bx, ptrdiff_t nx,
                                  ptrdiff_t j) {
  ptrdiff_t rx = nx - j * bx;
  return rzy * (int64_t)(rx < bx ? rx : bx);
}

/* int64 block sums of centred values, blocks of at most nmax64 pixels: every
 * numerator is exact in int64 and each moment is rounded once.  The loops
 * run across the blocks of the slab and vectorise. */
BW_CLONES static void fin_i64(const slab_acc *sa, const needs *nd,
                              ptrdiff_t ox, int64_t rzy, ptrdiff_t bx,
                              ptrdiff_t nx, const slab_fin *f) {
  for (int s = 0; s < 2; s++) {
    const int64_t *restrict s1 = (const int64_t *)sa->s1[s];
    const int64_t *restrict s2 = (const int64_t *)sa->s2[s];
    double *restrict sum = f->sum[s], *restrict mean = f->mean[s];
    const int64_t *restrict cen = sa->cen[s];
    double *restrict m2 = f->m2[s];
    if (nd->in[s] & NEED_SUM)
      for (ptrdiff_t j = 0; j < ox; j++) {
        const int64_t n = block_count(rzy, bx, nx, j);
        sum[j] = (double)(s1[j] + n * cen[j]); /* |.| < 2^53: exact */
        mean[j] = sum[j] / (double)n;
      }
    if (nd->in[s] & NEED_S2)
      for (ptrdiff_t j = 0; j < ox; j++) {
        const int64_t n = block_count(rzy, bx, nx, j);
        m2[j] = (double)(n * s2[j] - s1[j] * s1[j]) / (double)n;
      }
  }
  if (nd->ab) {
    const int64_t *restrict a1 = (const int64_t *)sa->s1[0];
    const int64_t *restrict b1 = (const int64_t *)sa->s1[1];
    const int64_t *restrict ab = (const int64_t *)sa->sab;
    double *restrict mab = f->mab;
    for (ptrdiff_t j = 0; j < ox; j++) {
      const int64_t n = block_count(rzy, bx, nx, j);
      mab[j] = (double)(n * ab[j] - a1[j] * b1[j]) / (double)n;
    }
  }
}

/* 128-bit block sums (32-bit inputs, or blocks too large for fin_i64). */
static void fin_i128(const slab_acc *sa, const needs *nd, ptrdiff_t ox,
                     int64_t rzy, ptrdiff_t bx, ptrdiff_t nx, int64_t nmax128,
                     const slab_fin *f) {
  const i128 *s1[2] = {(const i128 *)sa->s1[0], (const i128 *)sa->s1[1]};
  const i128 *s2[2] = {(const i128 *)sa->s2[0], (const i128 *)sa->s2[1]};
  const i128 *sab = (const i128 *)sa->sab;
  for (ptrdiff_t j = 0; j < ox; j++) {
    const int64_t n = block_count(rzy, bx, nx, j);
    for (int s = 0; s < 2; s++) {
      if (nd->in[s] & (NEED_S1 | NEED_S2)) {
        /* the kernels sum x - cen; variances and covariances do not
         * depend on cen, sums and means get n * cen back */
        const i128 t = s1[s][j] + (i128)n * sa->cen[s][j];
        if (t < ((i128)1 << 53) && t > -((i128)1 << 53)) {
          f->sum[s][j] = (double)(int64_t)t; /* exact */
          f->mean[s][j] = f->sum[s][j] / (double)n;
        } else {
          f->sum[s][j] = (double)t;
          f->mean[s][j] = int_mean(t, n);
        }
      }
      if (nd->in[s] & NEED_S2) {
        double c = int_comoment_n(s2[s][j], s1[s][j], s1[s][j], n, nmax128);
        if (c < 0) c = 0; /* only the inexact fallback can dip below zero */
        f->m2[s][j] = c / (double)n;
      }
    }
    if (nd->ab)
      f->mab[j] = int_comoment_n(sab[j], s1[0][j], s1[1][j], n, nmax128) /
                  (double)n;
  }
}

/* double sums of x - k (k = the block's first pixel). */
static void fin_f64(const slab_acc *sa, const needs *nd, ptrdiff_t ox,
                    int64_t rzy, ptrdiff_t bx, ptrdiff_t nx,
                    const slab_fin *f) {
  const double *s1[2] = {(const double *)sa->s1[0], (const double *)sa->s1[1]};
  const double *s2[2] = {(const double *)sa->s2[0], (const double *)sa->s2[1]};
  const double *sab = (const double *)sa->sab;
  for (ptrdiff_t j = 0; j < ox; j++) {
    const double dn = (double)block_count(rzy, bx, nx, j);
    for (int s = 0; s < 2; s++) {
      if (!(nd->in[s] & (NEED_S1 | NEED_S2))) continue;
      const double k = sa->k[s][j], d1 = s1[s][j];
      f->sum[s][j] = k * dn + d1;
      f->mean[s][j] = k + d1 / dn;
      if (nd->in[s] & NEED_S2) {
        double m2 = s2[s][j] - d1 * (d1 / dn);
        f->m2[s][j] = m2 < 0 ? 0 : m2;
      }
    }
    if (nd->ab) f->mab[j] = sab[j] - s1[0][j] * (s1[1][j] / dn);
  }
}

/* One statistic for the ox blocks of a slab, into f->val. */
BW_CLONES static void stat_row(const slab_fin *f, bw_stat stat, int s,
                               const bw_block_params *p, ptrdiff_t ox,
                               int64_t rzy, ptrdiff_t bx, ptrdiff_t nx) {
  double *restrict val = f->val;
  const double ddof = (double)p->ddof;
  switch (stat) {
  case BW_STAT_COUNT:
    for (ptrdiff_t j = 0; j < ox; j++)
      val[j] = (double)block_count(rzy, bx, nx, j);
    break;
  case BW_STAT_SUM: memcpy(val, f->sum[s], (size_t)ox * sizeof *val); break;
  case BW_STAT_MEAN: memcpy(val, f->mean[s], (size_t)ox * sizeof *val); break;
  case BW_STAT_MIN: memcpy(val, f->mn[s], (size_t)ox * sizeof *val); break;
  case BW_STAT_MAX: memcpy(val, f->mx[s], (size_t)ox * sizeof *val); break;
  case BW_STAT_VAR:
  case BW_STAT_STD:
  case BW_STAT_COV: {
    const double *restrict m = stat == BW_STAT_COV ? f->mab : f->m2[s];
    for (ptrdiff_t j = 0; j < ox; j++) {
      const double dof = (double)block_count(rzy, bx, nx, j) - ddof;
      val[j] = dof > 0 ? m[j] / dof : NAN;
    }
    if (stat == BW_STAT_STD)
      for (ptrdiff_t j = 0; j < ox; j++) val[j] = sqrt(val[j]);
    break;
  }
  case BW_STAT_CORR: {
    const double *restrict ma = f->m2[0], *restrict mb = f->m2[1];
    const double *restrict mab = f->mab;
    const double fill = p->use_fill ? p->fill : NAN;
    for (ptrdiff_t j = 0; j < ox; j++) {
      double v = mab[j] / (sqrt(ma[j]) * sqrt(mb[j]));
      v = v > 1 ? 1 : v;
      v = v < -1 ? -1 : v;
      /* a constant block has M2 exactly zero */
      val[j] = (ma[j] == 0 || mb[j] == 0) ? fill : v;
    }
    break;
  }
  }
}

/* Stores f->val as row (k, i, :) of output view v. */
static void store_row(const bw_view *v, ptrdiff_t k, ptrdiff_t i,
                      const double *val, ptrdiff_t ox) {
  char *p = (char *)v->data;
  ptrdiff_t sx;
  if (v->ndim == 3) {
    p += k * v->strides[0] + i * v->strides[1];
    sx = v->strides[2];
  } else {
    p += i * v->strides[0];
    sx = v->strides[1];
  }
  if (v->dtype == BW_F32) {
    if (sx == (ptrdiff_t)sizeof(float) && ((uintptr_t)p % sizeof(float)) == 0) {
      float *q = (float *)(void *)p;
      for (ptrdiff_t j = 0; j < ox; j++) q[j] = (float)val[j];
    } else {
      for (ptrdiff_t j = 0; j < ox; j++) {
        float x = (float)val[j];
        memcpy(p + j * sx, &x, sizeof x);
      }
    }
  } else {
    for (ptrdiff_t j = 0; j < ox; j++) memcpy(p + j * sx, &val[j], sizeof val[j]);
  }
}


/* ------------------------------------------------------------------------ */
/* Validation and dispatch                                                  */
/* ------------------------------------------------------------------------ */

static needs needs_of(const bw_block_output *o, size_t n) {
  needs nd = {{0, 0}, 0};
  for (size_t i = 0; i < n; i++) {
    int s = o[i].input;
    switch (o[i].stat) {
    case BW_STAT_COUNT: break;
    case BW_STAT_SUM:
    case BW_STAT_MEAN: nd.in[s] |= NEED_S1 | NEED_SUM; break;
    case BW_STAT_VAR:
    case BW_STAT_STD: nd.in[s] |= NEED_S1 | NEED_S2; break;
    case BW_STAT_MIN:
    case BW_STAT_MAX: nd.in[s] |= NEED_MM; break;
    case BW_STAT_COV:
      nd.in[0] |= NEED_S1;
      nd.in[1] |= NEED_S1;
      nd.ab = 1;
      break;
    case BW_STAT_CORR:
      nd.in[0] |= NEED_S1 | NEED_S2;
      nd.in[1] |= NEED_S1 | NEED_S2;
      nd.ab = 1;
      break;
    }
  }
  return nd;
}

static int uses_b(const bw_block_output *o) {
  return o->stat == BW_STAT_COV || o->stat == BW_STAT_CORR || o->input == 1;
}

bw_status bw_block_stats(const bw_view *a, const bw_view *b,
                         const bw_block_params *p,
                         const bw_block_output *outputs, size_t n_outputs,
                         bw_error *err) {
  bw_status s = bw_block_params_check(p, err);
  if (s) return s;
  const int nd3 = p->ndim;
  if ((s = bw_check_view(a, nd3, "input a", err))) return s;
  if (!outputs) return bw_fail(err, BW_ERR_NULL, "outputs is NULL");
  if (n_outputs == 0) return bw_fail(err, BW_ERR_PARAM, "no outputs requested");

  int need_b = 0;
  for (size_t i = 0; i < n_outputs; i++) {
    const bw_block_output *o = &outputs[i];
    if ((unsigned)o->stat >= BW_NUM_STATS)
      return bw_fail(err, BW_ERR_PARAM, "output %zu: unknown statistic %d", i,
                     (int)o->stat);
    if (o->input != 0 && o->input != 1)
      return bw_fail(err, BW_ERR_PARAM, "output %zu (%s): input %d, expected 0 or 1",
                     i, bw_stat_name(o->stat), o->input);
    need_b |= uses_b(o);
  }
  char sa[64], sb[64];
  if (need_b) {
    if (!b)
      return bw_fail(err, BW_ERR_NULL,
                     "input b is NULL but a requested statistic needs it");
    if ((s = bw_check_view(b, nd3, "input b", err))) return s;
    if (b->dtype != a->dtype)
      return bw_fail(err, BW_ERR_DTYPE, "inputs differ in dtype: a is %s, b is %s",
                     bw_dtype_name(a->dtype), bw_dtype_name(b->dtype));
    for (int i = 0; i < nd3; i++)
      if (a->shape[i] != b->shape[i])
        return bw_fail(err, BW_ERR_SHAPE, "inputs differ in shape: a is %s, b is %s",
                       bw_format_shape(sa, sizeof sa, nd3, a->shape),
                       bw_format_shape(sb, sizeof sb, nd3, b->shape));
  }

  ptrdiff_t on[BW_MAX_DIMS];
  if ((s = bw_block_output_shape(p, a->shape, on, err))) return s;
  for (size_t i = 0; i < n_outputs; i++) {
    const bw_view *v = &outputs[i].view;
    const char *nm = bw_stat_name(outputs[i].stat);
    if (!v->data)
      return bw_fail(err, BW_ERR_OUTPUT, "output %zu (%s): data is NULL", i, nm);
    if (v->dtype != BW_F32 && v->dtype != BW_F64)
      return bw_fail(err, BW_ERR_OUTPUT, "output %zu (%s): dtype %s, expected f32 or f64",
                     i, nm, bw_dtype_name(v->dtype));
    if (v->ndim != nd3)
      return bw_fail(err, BW_ERR_OUTPUT, "output %zu (%s): %d axes, expected %d", i,
                     nm, v->ndim, nd3);
    for (int d = 0; d < nd3; d++)
      if (v->shape[d] != on[d])
        return bw_fail(err, BW_ERR_OUTPUT, "output %zu (%s): shape %s, expected %s",
                       i, nm, bw_format_shape(sa, sizeof sa, nd3, v->shape),
                       bw_format_shape(sb, sizeof sb, nd3, on));
  }

  /* Everything is valid; from here on only an allocation can fail, and it
   * fails before any output is written. */
  geom g;
  memset(&g, 0, sizeof g);
  const int lead = 3 - nd3;
  for (int d = 0; d < 3; d++) {
    g.n[d] = d < lead ? 1 : a->shape[d - lead];
    g.blk[d] = d < lead ? 1 : p->block[d - lead];
    g.on[d] = d < lead ? 1 : on[d - lead];
    g.st[0][d] = d < lead ? 0 : a->strides[d - lead];
    g.st[1][d] = (d < lead || !need_b) ? 0 : b->strides[d - lead];
  }
  g.base[0] = (const char *)a->data;
  g.base[1] = need_b ? (const char *)b->data : NULL;
  /* the largest block actually met: blocks are clipped to the image */
  int64_t nbig = 1;
  for (int d = 0; d < 3; d++) {
    const ptrdiff_t e = g.blk[d] < g.n[d] ? g.blk[d] : g.n[d];
    if (e > INT32_MAX || nbig > INT64_MAX / e)
      return bw_fail(err, BW_ERR_RANGE, "block volume overflows");
    nbig *= e;
  }

  const needs nd = needs_of(outputs, n_outputs);
  const bw_dtype dt = a->dtype;
  const int is_flt = dt == BW_F32 || dt == BW_F64;
  const int small = dt == BW_U8 || dt == BW_I8 || dt == BW_U16 || dt == BW_I16;
  /* nmax64: the largest block volume for which n * S2 and S1^2 fit int64
   * (max|v|^2 is 2^16 for 8-bit and 2^32 for 16-bit centred values);
   * below it, block sums are int64 and finishing is exact in int64.
   * nmax128: the same for 128 bits. */
  const int64_t nmax64 =
      !small ? 0 : (dt == BW_U8 || dt == BW_I8) ? 11863282 : 46340;
  const int64_t nmax128 = small ? ((int64_t)1 << 47) : ((int64_t)1 << 31);
  const int narrow = small && nbig <= nmax64;
  const int p16 = (dt == BW_U16 || dt == BW_I16) && narrow && nd.ab &&
                  (nd.in[0] & ~NEED_SUM) == (NEED_S1 | NEED_S2) &&
                  (nd.in[1] & ~NEED_SUM) == (NEED_S1 | NEED_S2) &&
                  g.blk[2] % 2 == 0 &&
                  g.blk[2] <= CHUNK && g.st[0][2] == 2 && g.st[1][2] == 2;
  const bw_p16_fn p16_rows = p16 ? bw_p16_select() : NULL;
  /* the generic kernel, and the fallback of the 16-bit pair path */
  const slab_kernel kernel = bw_slab_kernel(dt, narrow);

  /* Scratch: 7 column accumulator arrays; 8 arrays of elements (min, max
   * and gathered rows, two each per input); then per block of a slab, 5
   * sums, 4 min/max, 2 shifts, 2 centres and 12 finished values (11
   * moments and one output row), each array rounded up to 64 bytes. */
  const size_t ox = (size_t)g.on[2];
  /* no chunk is wider than the image: arrays of that many columns (the
   * 16-bit pair path keeps its own layout of CHUNK) keep the scratch of a
   * narrow call small, so that it comes from the allocator's free lists
   * rather than from new pages each call */
  g.cw = p16 || g.n[2] >= CHUNK ? CHUNK : (g.n[2] + 7) / 8 * 8;
  g.f32_cols = dt == BW_F32 ? bw_f32_cols_select() : NULL;
  const size_t col_bytes = 7 * COL_BYTES(&g), tmp_bytes = 8 * (size_t)g.cw * 8;
  const size_t fixed = col_bytes + tmp_bytes;
  const size_t accsz = is_flt || narrow ? 8 : 16;
  if (ox > ((SIZE_MAX - fixed) / 25 - 64) / 16)
    return bw_fail(err, BW_ERR_RANGE, "output too wide");
  const size_t arr_acc = (ox * accsz + 63) & ~(size_t)63;
  const size_t arr_8 = (ox * 8 + 63) & ~(size_t)63;
  const size_t total = fixed + 5 * arr_acc + 20 * arr_8 + 64;
  unsigned char *scratch = malloc(total);
  if (!scratch)
    return bw_fail(err, BW_ERR_NOMEM, "cannot allocate %zu bytes of scratch",
                   total);
  unsigned char *q = (unsigned char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  void *col = q, *tmp = q + col_bytes;
  q += fixed;
  slab_acc acc;
  slab_fin fin;
  acc.s1[0] = q, q += arr_acc;
  acc.s1[1] = q, q += arr_acc;
  acc.s2[0] = q, q += arr_acc;
  acc.s2[1] = q, q += arr_acc;
  acc.sab = q, q += arr_acc;
  void **mm[4] = {&acc.mn[0], &acc.mn[1], &acc.mx[0], &acc.mx[1]};
  for (int i = 0; i < 4; i++) *mm[i] = q, q += arr_8;
  acc.cen[0] = (int64_t *)(void *)q, q += arr_8;
  acc.cen[1] = (int64_t *)(void *)q, q += arr_8;
  double **d8[14] = {&acc.k[0],    &acc.k[1],    &fin.sum[0], &fin.sum[1], &fin.mean[0],
                     &fin.mean[1],  &fin.m2[0],    &fin.m2[1],  &fin.mab,    &fin.mn[0],
                     &fin.mn[1],    &fin.mx[0],    &fin.mx[1],  &fin.val};
  for (int i = 0; i < 14; i++) *d8[i] = (double *)(void *)q, q += arr_8;

  const ptrdiff_t oxs = g.on[2];
  for (ptrdiff_t oz = 0; oz < g.on[0]; oz++) {
    for (ptrdiff_t oy = 0; oy < g.on[1]; oy++) {
      row_cursor first_row;
      const int64_t rzy = slab_start(&g, oz, oy, &first_row);
      const ptrdiff_t bx = g.blk[2], nx = g.n[2];
      if (p16) {
        bw_p16_slab(&g, &nd, oz, oy, &acc, col, tmp, p16_rows, kernel.slab,
                    dt == BW_I16);
      } else {
        kernel.slab(&g, &nd, oz, oy, &acc, col, tmp, 0, oxs);
        kernel.minmax(&acc, &nd, oxs, &fin);
      }
      if (is_flt)
        fin_f64(&acc, &nd, oxs, rzy, bx, nx, &fin);
      else if (narrow)
        fin_i64(&acc, &nd, oxs, rzy, bx, nx, &fin);
      else
        fin_i128(&acc, &nd, oxs, rzy, bx, nx, nmax128, &fin);
      for (size_t i = 0; i < n_outputs; i++) {
        stat_row(&fin, outputs[i].stat, outputs[i].input, p, oxs, rzy, bx, nx);
        store_row(&outputs[i].view, oz, oy, fin.val, oxs);
      }
    }
  }
  free(scratch);
  return BW_OK;
}


bw_status bw_block_corr(const bw_view *a, const bw_view *b,
                        const bw_block_params *params, const bw_view *r,
                        bw_error *err) {
  if (!r) return bw_fail(err, BW_ERR_NULL, "output r is NULL");
  bw_block_output o;
  o.stat = BW_STAT_CORR;
  o.input = 0;
  o.view = *r;
  return bw_block_stats(a, b, params, &o, 1, err);
}
