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
 *
 * Accumulators by input type (see DEFINE_KERNEL for the bounds):
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
 * (p16_slab, over bw_pairsum.c); it computes the same integers.
 *
 * Every block's result depends only on its own pixels and exact integer
 * sums or, for floats, double sums taken in a fixed order (chunks are
 * aligned to block starts), so any block-aligned sub-view yields the same
 * bits as the whole image.
 */
#include "bw_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef __SIZEOF_INT128__
#error "the Blockwise core needs 128-bit integers (GCC or Clang, 64-bit target)"
#endif

__extension__ typedef __int128 i128;

/* Columns per chunk: the five column sums of 1024 columns take 32 KiB for
 * 16-bit inputs, so they stay in L1 cache across the rows of a slab. */
#define CHUNK 1024
/* Bytes per column array: room for CHUNK elements of the widest type. */
#define CHUNK_BYTES (CHUNK * 16)

/* What to accumulate per input. */
enum { NEED_S1 = 1, NEED_S2 = 2, NEED_MM = 4, NEED_SUM = 8 /* sum or mean out */ };

typedef struct needs {
  unsigned in[2]; /* NEED_* bits for inputs a and b */
  int ab;         /* cross products */
} needs;

/* Geometry of one call, everything 3-D (a 2-D call has nz = bz = 1). */
typedef struct geom {
  ptrdiff_t n[3];   /* input extents z, y, x */
  ptrdiff_t blk[3]; /* block extents */
  ptrdiff_t on[3];  /* output extents */
  ptrdiff_t st[2][3];
  const char *base[2];
} geom;

/* The accumulators of one slab, one array per sum (ox blocks each), so that
 * folding and finishing run as loops across the blocks of a slab.  The sums
 * are of the kernel's accumulator type (int64, __int128 or double); min and
 * max are of the element type; k is the float shift (the block's first
 * pixel); integer sums are of x - cen, cen being the middle of the type's
 * range or, on the 16-bit pair path, of the values met. */
typedef struct slab_acc {
  void *s1[2], *s2[2], *sab;
  void *mn[2], *mx[2];
  double *k[2];
  int64_t *cen[2]; /* integers: the centre the sums are taken about */
} slab_acc;

/* The finished moments of one slab, per block: sum and mean, M2 (the sum of
 * squared deviations, zero exactly when the block is constant), the
 * co-moment Mab, min and max.  Statistics are computed from these. */
typedef struct slab_fin {
  double *sum[2], *mean[2], *m2[2], *mab, *mn[2], *mx[2];
  double *val; /* one output row before it is stored */
} slab_fin;

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
/* The generic slab kernel                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Where the compiler supports it, the slab kernels are built for AVX-512 and
 * AVX2 as well as the baseline, and the loader picks the widest the CPU has.
 * Floating-point contraction is off for the whole file, so every clone
 * rounds the same way and results do not depend on the machine.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&       \
    defined(__ELF__) && !defined(BW_NO_CLONES)
#define BW_CLONES                                                            \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BW_CLONES
#endif

/* Rows of a slab are visited in order; a cursor steps through (z, y)
 * without dividing. */
typedef struct row_cursor {
  ptrdiff_t z, y, y0, y1;
} row_cursor;

static inline void row_step(row_cursor *c) {
  if (++c->y == c->y1) {
    c->y = c->y0;
    c->z++;
  }
}

/* The rows of slab (oz, oy), clipped to the image: sets *c on the first
 * and returns how many there are. */
static inline ptrdiff_t slab_start(const geom *g, ptrdiff_t oz, ptrdiff_t oy,
                                   row_cursor *c) {
  const ptrdiff_t z0 = oz * g->blk[0], y0 = oy * g->blk[1];
  const ptrdiff_t z1 = z0 + g->blk[0] < g->n[0] ? z0 + g->blk[0] : g->n[0];
  const ptrdiff_t y1 = y0 + g->blk[1] < g->n[1] ? y0 + g->blk[1] : g->n[1];
  c->z = z0, c->y = c->y0 = y0, c->y1 = y1;
  return (z1 - z0) * (y1 - y0);
}

static inline const char *row_ptr(const geom *g, int s, const row_cursor *c,
                                  ptrdiff_t x0) {
  return g->base[s] + c->z * g->st[s][0] + c->y * g->st[s][1] +
         x0 * g->st[s][2];
}

#define BW_ZERO_COLUMNS()                                                      \
  do {                                                                         \
    memset(c1[0], 0, (size_t)w * sizeof(*c1[0]));                             \
    memset(c1[1], 0, (size_t)w * sizeof(*c1[1]));                             \
    memset(c2[0], 0, (size_t)w * sizeof(*c2[0]));                             \
    memset(c2[1], 0, (size_t)w * sizeof(*c2[1]));                             \
    memset(cab, 0, (size_t)w * sizeof(*cab));                                  \
  } while (0)

/*
 * DEFINE_KERNEL(NAME, T, VT, OFF, CS, SQ, CACC, FOLD, ACC, FLT, ROWS)
 *   T     input element type
 *   VT    type of a centred value v = x - OFF (integers) or x - k (floats,
 *         k = the block's first pixel); v*v and v*w are exact in VT
 *   OFF   the integer centre (the middle of the type's range), which keeps
 *         |v| within half the range so that narrow types hold the sums;
 *         variance and covariance do not depend on it, sums add n*OFF
 *   CS    per-column sum of v (narrow: int32 for 8/16-bit inputs)
 *   SQ    type of v0*v0 + v1*v1 for two rows (unsigned, cannot overflow)
 *   CACC  per-column sum of squares and cross products
 *   FOLD  type in which a chunk's columns are added up per block
 *   ACC   per-block sum (int64_t, __int128 or double), one array per sum
 *   FLT   1 for float inputs (shifted sums, NaN-propagating min/max)
 *   ROWS  even number of rows after which column sums are folded into the
 *         block sums: small enough that no column sum overflows CS or CACC
 *         and no chunk total (CHUNK columns) overflows FOLD.
 *
 * Rows are added two at a time (v0 + v1 per column), which halves the
 * accumulator traffic and the widening of products; every path pairs rows
 * the same way from the start of the slab, so results do not depend on
 * which statistics were requested.
 */
#define DEFINE_KERNEL(NAME, T, VT, OFF, CS, SQ, CACC, FOLD, ACC, FLT, ROWS)    \
  static inline __attribute__((always_inline)) void NAME##_s1(                 \
      CS *restrict c1, const T *restrict x0, const T *restrict x1,             \
      const VT *restrict k, ptrdiff_t n, const int two) {                      \
    if (two)                                                                   \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT c = FLT ? k[i] : (VT)(OFF);                                         \
        c1[i] += (CS)(((VT)x0[i] - c) + ((VT)x1[i] - c));                      \
      }                                                                        \
    else                                                                       \
      for (ptrdiff_t i = 0; i < n; i++)                                        \
        c1[i] += (CS)((VT)x0[i] - (FLT ? k[i] : (VT)(OFF)));                   \
  }                                                                            \
  static inline __attribute__((always_inline)) void NAME##_s12(                \
      CS *restrict c1, CACC *restrict c2, const T *restrict x0,                \
      const T *restrict x1, const VT *restrict k, ptrdiff_t n,                 \
      const int two) {                                                         \
    if (two)                                                                   \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT c = FLT ? k[i] : (VT)(OFF);                                         \
        VT u0 = (VT)x0[i] - c, u1 = (VT)x1[i] - c;                             \
        c1[i] += (CS)(u0 + u1);                                                \
        c2[i] += (CACC)((SQ)(u0 * u0) + (SQ)(u1 * u1));                        \
      }                                                                        \
    else                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT u0 = (VT)x0[i] - (FLT ? k[i] : (VT)(OFF));                          \
        c1[i] += (CS)u0;                                                       \
        c2[i] += (CACC)(SQ)(u0 * u0);                                          \
      }                                                                        \
  }                                                                            \
  static inline __attribute__((always_inline)) void NAME##_ab(                 \
      CACC *restrict cab, const T *restrict x0, const T *restrict x1,          \
      const T *restrict y0, const T *restrict y1, const VT *restrict kx,       \
      const VT *restrict ky, ptrdiff_t n, const int two) {                     \
    if (two)                                                                   \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT cx = FLT ? kx[i] : (VT)(OFF), cy = FLT ? ky[i] : (VT)(OFF);         \
        cab[i] += (CACC)(((VT)x0[i] - cx) * ((VT)y0[i] - cy)) +                \
                  (CACC)(((VT)x1[i] - cx) * ((VT)y1[i] - cy));                 \
      }                                                                        \
    else                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT cx = FLT ? kx[i] : (VT)(OFF), cy = FLT ? ky[i] : (VT)(OFF);         \
        cab[i] += (CACC)(((VT)x0[i] - cx) * ((VT)y0[i] - cy));                 \
      }                                                                        \
  }                                                                            \
  /* the fused loop of the main job: both inputs, all five sums */             \
  static inline __attribute__((always_inline)) void NAME##_pair(               \
      CS *restrict c1a, CACC *restrict c2a, CS *restrict c1b,                  \
      CACC *restrict c2b, CACC *restrict cab, const T *restrict x0,            \
      const T *restrict x1, const T *restrict y0, const T *restrict y1,        \
      const VT *restrict kx, const VT *restrict ky, ptrdiff_t n,               \
      const int two) {                                                         \
    if (two)                                                                   \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT cx = FLT ? kx[i] : (VT)(OFF), cy = FLT ? ky[i] : (VT)(OFF);         \
        VT u0 = (VT)x0[i] - cx, u1 = (VT)x1[i] - cx;                           \
        VT v0 = (VT)y0[i] - cy, v1 = (VT)y1[i] - cy;                           \
        c1a[i] += (CS)(u0 + u1);                                               \
        c1b[i] += (CS)(v0 + v1);                                               \
        c2a[i] += (CACC)((SQ)(u0 * u0) + (SQ)(u1 * u1));                       \
        c2b[i] += (CACC)((SQ)(v0 * v0) + (SQ)(v1 * v1));                       \
        cab[i] += (CACC)(u0 * v0) + (CACC)(u1 * v1);                           \
      }                                                                        \
    else                                                                       \
      for (ptrdiff_t i = 0; i < n; i++) {                                      \
        VT u0 = (VT)x0[i] - (FLT ? kx[i] : (VT)(OFF));                         \
        VT v0 = (VT)y0[i] - (FLT ? ky[i] : (VT)(OFF));                         \
        c1a[i] += (CS)u0;                                                      \
        c1b[i] += (CS)v0;                                                      \
        c2a[i] += (CACC)(SQ)(u0 * u0);                                         \
        c2b[i] += (CACC)(SQ)(v0 * v0);                                         \
        cab[i] += (CACC)(u0 * v0);                                             \
      }                                                                        \
  }                                                                            \
  /* min/max in the element type; for floats a NaN, once met, stays. */        \
  static inline __attribute__((always_inline)) void NAME##_mm(                 \
      T *restrict mn, T *restrict mx, const T *restrict x, ptrdiff_t n) {      \
    for (ptrdiff_t i = 0; i < n; i++) {                                        \
      T v = x[i];                                                              \
      mn[i] = (v < mn[i] || v != v) ? v : mn[i];                               \
      mx[i] = (v > mx[i] || v != v) ? v : mx[i];                               \
    }                                                                          \
  }                                                                            \
  static const T *NAME##_row(const char *p, ptrdiff_t stride, ptrdiff_t n,     \
                             T *restrict tmp) {                                \
    if (stride == (ptrdiff_t)sizeof(T)) return (const T *)(const void *)p;     \
    for (ptrdiff_t i = 0; i < n; i++)                                          \
      memcpy(&tmp[i], p + i * stride, sizeof(T));                              \
    return tmp;                                                                \
  }                                                                            \
  static inline __attribute__((always_inline)) void NAME##_rows(               \
      const needs *nd, CS *const *c1, CACC *const *c2, CACC *cab,              \
      T *const *cmn, T *const *cmx, const T *const *r0, const T *const *r1,    \
      VT *const *ck, ptrdiff_t w, const int two) {                           \
    if (nd->ab && (nd->in[0] & NEED_S2) && (nd->in[1] & NEED_S2)) {            \
      NAME##_pair(c1[0], c2[0], c1[1], c2[1], cab, r0[0], r1[0], r0[1], r1[1], \
                  ck[0], ck[1], w, two);                                       \
    } else {                                                                   \
      for (int s = 0; s < 2; s++) {                                            \
        if (nd->in[s] & NEED_S2)                                               \
          NAME##_s12(c1[s], c2[s], r0[s], r1[s], ck[s], w, two);               \
        else if (nd->in[s] & NEED_S1)                                          \
          NAME##_s1(c1[s], r0[s], r1[s], ck[s], w, two);                       \
      }                                                                        \
      if (nd->ab)                                                              \
        NAME##_ab(cab, r0[0], r1[0], r0[1], r1[1], ck[0], ck[1], w, two);      \
    }                                                                          \
    for (int s = 0; s < 2; s++)                                                \
      if (nd->in[s] & NEED_MM) {                                               \
        NAME##_mm(cmn[s], cmx[s], r0[s], w);                                   \
        if (two) NAME##_mm(cmn[s], cmx[s], r1[s], w);                          \
      }                                                                        \
  }                                                                            \
  BW_CLONES static void NAME##_slab(const geom *g, const needs *nd,            \
                                    ptrdiff_t oz, ptrdiff_t oy,                \
                                    const slab_acc *sa, void *restrict colv,   \
                                    void *restrict tmpv, ptrdiff_t ja,         \
                                    ptrdiff_t jb) {                            \
    T *restrict tmp = (T *)tmpv;                                               \
    const int two_in = nd->in[1] != 0 || nd->ab;                               \
    const ptrdiff_t bx = g->blk[2], nx = g->n[2];                              \
    row_cursor start;                                                          \
    const ptrdiff_t nrows = slab_start(g, oz, oy, &start);                     \
    const ptrdiff_t xend = jb * bx < nx ? jb * bx : nx;                        \
    ACC *s1[2] = {(ACC *)sa->s1[0], (ACC *)sa->s1[1]};                         \
    ACC *s2[2] = {(ACC *)sa->s2[0], (ACC *)sa->s2[1]};                         \
    ACC *sab = (ACC *)sa->sab;                                                 \
    T *mn[2] = {(T *)sa->mn[0], (T *)sa->mn[1]};                               \
    T *mx[2] = {(T *)sa->mx[0], (T *)sa->mx[1]};                               \
    /* column arrays, CHUNK_BYTES apart */                                     \
    char *col = (char *)colv;                                                  \
    CS *c1[2] = {(CS *)(void *)col, (CS *)(void *)(col + CHUNK_BYTES)};        \
    CACC *c2[2] = {(CACC *)(void *)(col + 2 * CHUNK_BYTES),                    \
                   (CACC *)(void *)(col + 3 * CHUNK_BYTES)};                   \
    CACC *cab = (CACC *)(void *)(col + 4 * CHUNK_BYTES);                       \
    VT *ck[2] = {(VT *)(void *)(col + 5 * CHUNK_BYTES),                        \
                 (VT *)(void *)(col + 6 * CHUNK_BYTES)};                       \
    T *cmn[2] = {tmp, tmp + CHUNK}, *cmx[2] = {tmp + 2 * CHUNK,                \
                                               tmp + 3 * CHUNK};               \
    T *tr[2][2] = {{tmp + 4 * CHUNK, tmp + 5 * CHUNK},                         \
                   {tmp + 6 * CHUNK, tmp + 7 * CHUNK}};                        \
    /* per block: first pixel (shift for floats, start of min/max) */          \
    for (int s = 0; s < 1 + two_in; s++) {                                     \
      const char *p0 = row_ptr(g, s, &start, 0);                               \
      for (ptrdiff_t j = ja; j < jb; j++) {                                    \
        T first;                                                               \
        memcpy(&first, p0 + j * bx * g->st[s][2], sizeof first);               \
        if (FLT) sa->k[s][j] = isfinite((double)first) ? (double)first : 0.0;  \
        else sa->cen[s][j] = (OFF);                                            \
        mn[s][j] = mx[s][j] = first;                                           \
        s1[s][j] = s2[s][j] = 0;                                               \
      }                                                                        \
    }                                                                          \
    for (ptrdiff_t j = ja; j < jb; j++) sab[j] = 0;                            \
    /* chunks: groups of whole blocks, or CHUNK-wide pieces of one block */    \
    for (ptrdiff_t x0 = ja * bx, jc = ja; x0 < xend;) {                        \
      ptrdiff_t x1;                                                            \
      if (bx <= CHUNK) {                                                       \
        x1 = x0 + (CHUNK / bx) * bx;                                           \
      } else {                                                                 \
        ptrdiff_t bend = (jc + 1) * bx;                                        \
        x1 = x0 + CHUNK < bend ? x0 + CHUNK : bend;                            \
      }                                                                        \
      if (x1 > xend) x1 = xend;                                                \
      const ptrdiff_t w = x1 - x0;                                             \
      if (FLT || (nd->in[0] | nd->in[1]) & NEED_MM) {                          \
        for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {                        \
          ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;                \
          for (int s = 0; s < 1 + two_in; s++)                                 \
            for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {                    \
              ck[s][i] = FLT ? (VT)sa->k[s][j] : (VT)0;                        \
              cmn[s][i] = mn[s][j];                                            \
              cmx[s][i] = mx[s][j];                                            \
            }                                                                  \
          xs = xe;                                                             \
        }                                                                      \
      }                                                                        \
      BW_ZERO_COLUMNS();                                                       \
      row_cursor cur = start;                                                  \
      for (ptrdiff_t r = 0, in_group = 0; r < nrows;) {                        \
        const int two = r + 1 < nrows && in_group + 2 <= (ROWS);               \
        const T *rw[2][2] = {{NULL, NULL}, {NULL, NULL}};                      \
        row_cursor c = cur;                                                    \
        for (int q = 0; q < 1 + two; q++) {                                    \
          for (int s = 0; s < 1 + two_in; s++)                                 \
            rw[q][s] = NAME##_row(row_ptr(g, s, &c, x0), g->st[s][2], w,       \
                                  tr[q][s]);                                   \
          row_step(&c);                                                        \
        }                                                                      \
        cur = c;                                                               \
        /* ask for the next two rows while this pair is summed: the sums  \
         * alone are faster than memory, so hide its latency */           \
        for (ptrdiff_t q = r + 1 + two; q < r + 3 + two && q < nrows; q++) {   \
          for (int s = 0; s < 1 + two_in; s++) {                               \
            const char *pf = row_ptr(g, s, &c, x0);                            \
            const ptrdiff_t nbytes = w * g->st[s][2];                          \
            for (ptrdiff_t o = 0; o < nbytes; o += 64)                         \
              __builtin_prefetch(pf + o);                                      \
          }                                                                    \
          row_step(&c);                                                        \
        }                                                                      \
        if (two)                                                               \
          NAME##_rows(nd, c1, c2, cab, cmn, cmx, rw[0], rw[1], ck, w, 1);      \
        else                                                                   \
          NAME##_rows(nd, c1, c2, cab, cmn, cmx, rw[0], rw[0], ck, w, 0);      \
        r += 1 + two;                                                          \
        in_group += 1 + two;                                                   \
        if (in_group < (ROWS) && r < nrows) continue;                          \
        in_group = 0;                                                          \
        /* fold the chunk's columns into its blocks, in column order */        \
        if (nd->ab && (nd->in[0] & NEED_S2) && (nd->in[1] & NEED_S2)) {        \
          for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {                      \
            ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;              \
            FOLD t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;                       \
            for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {                    \
              t0 += (FOLD)c1[0][i];                                            \
              t1 += (FOLD)c1[1][i];                                            \
              t2 += (FOLD)c2[0][i];                                            \
              t3 += (FOLD)c2[1][i];                                            \
              t4 += (FOLD)cab[i];                                              \
            }                                                                  \
            s1[0][j] += t0;                                                    \
            s1[1][j] += t1;                                                    \
            s2[0][j] += t2;                                                    \
            s2[1][j] += t3;                                                    \
            sab[j] += t4;                                                      \
            xs = xe;                                                           \
          }                                                                    \
        } else {                                                               \
          for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {                      \
            ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;              \
            const ptrdiff_t i0 = xs - x0, i1 = xe - x0;                        \
            for (int s = 0; s < 2; s++) {                                      \
              if (nd->in[s] & (NEED_S1 | NEED_S2)) {                           \
                FOLD t = 0;                                                    \
                for (ptrdiff_t i = i0; i < i1; i++) t += (FOLD)c1[s][i];       \
                s1[s][j] += t;                                                 \
              }                                                                \
              if (nd->in[s] & NEED_S2) {                                       \
                FOLD t = 0;                                                    \
                for (ptrdiff_t i = i0; i < i1; i++) t += (FOLD)c2[s][i];       \
                s2[s][j] += t;                                                 \
              }                                                                \
            }                                                                  \
            if (nd->ab) {                                                      \
              FOLD t = 0;                                                      \
              for (ptrdiff_t i = i0; i < i1; i++) t += (FOLD)cab[i];           \
              sab[j] += t;                                                     \
            }                                                                  \
            xs = xe;                                                           \
          }                                                                    \
        }                                                                      \
        if (r < nrows) BW_ZERO_COLUMNS();                                      \
      }                                                                        \
      /* min/max fold (idempotent, so once per chunk is enough) */             \
      for (int s = 0; s < 2; s++) {                                            \
        if (!(nd->in[s] & NEED_MM)) continue;                                  \
        for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {                        \
          ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;                \
          T lo = mn[s][j], hi = mx[s][j];                                      \
          for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {                      \
            T v = cmn[s][i], u = cmx[s][i];                                    \
            if (v < lo || v != v) lo = v;                                      \
            if (u > hi || u != u) hi = u;                                      \
          }                                                                    \
          mn[s][j] = lo;                                                       \
          mx[s][j] = hi;                                                       \
          xs = xe;                                                             \
        }                                                                      \
      }                                                                        \
      jc += bx <= CHUNK ? (x1 - x0 + bx - 1) / bx : (x1 == (jc + 1) * bx);     \
      x0 = x1;                                                                 \
    }                                                                          \
  }                                                                            \
  /* min and max of a slab as doubles */                                       \
  static void NAME##_minmax(const slab_acc *sa, const needs *nd,               \
                            ptrdiff_t ox, const slab_fin *f) {                 \
    for (int s = 0; s < 2; s++) {                                              \
      if (!(nd->in[s] & NEED_MM)) continue;                                    \
      const T *lo = (const T *)sa->mn[s], *hi = (const T *)sa->mx[s];          \
      for (ptrdiff_t j = 0; j < ox; j++) {                                     \
        f->mn[s][j] = (double)lo[j];                                           \
        f->mx[s][j] = (double)hi[j];                                           \
      }                                                                        \
    }                                                                          \
  }

/* 8- and 16-bit values, centred: |v| <= 2^15, v*v <= 2^30, so two rows of
 * squares fit uint32, value sums fit int32 for 2^15 rows, and a chunk total
 * (CHUNK * 2^14 rows * 2^30) fits int64.  Block sums are int64 when the
 * block is small enough for the finishing numerators n*S2 - S1^2 to fit
 * int64 too (see nmax64 below; the common case), else 128-bit. */
#define SMALL_ROWS ((ptrdiff_t)1 << 14)
DEFINE_KERNEL(k_u8, uint8_t, int32_t, 128, int32_t, uint32_t, int64_t, int64_t, int64_t, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i8, int8_t, int32_t, 0, int32_t, uint32_t, int64_t, int64_t, int64_t, 0, SMALL_ROWS)
DEFINE_KERNEL(k_u16, uint16_t, int32_t, 32768, int32_t, uint32_t, int64_t, int64_t, int64_t, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i16, int16_t, int32_t, 0, int32_t, uint32_t, int64_t, int64_t, int64_t, 0, SMALL_ROWS)
DEFINE_KERNEL(k_u8w, uint8_t, int32_t, 128, int32_t, uint32_t, int64_t, int64_t, i128, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i8w, int8_t, int32_t, 0, int32_t, uint32_t, int64_t, int64_t, i128, 0, SMALL_ROWS)
DEFINE_KERNEL(k_u16w, uint16_t, int32_t, 32768, int32_t, uint32_t, int64_t, int64_t, i128, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i16w, int16_t, int32_t, 0, int32_t, uint32_t, int64_t, int64_t, i128, 0, SMALL_ROWS)
/* 32-bit values, centred: |v| <= 2^31, v*v <= 2^62, two rows fit uint64;
 * every column, chunk and block sum is 128-bit. */
DEFINE_KERNEL(k_u32, uint32_t, int64_t, 2147483648ll, i128, uint64_t, i128, i128, i128, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i32, int32_t, int64_t, 0, i128, uint64_t, i128, i128, i128, 0, SMALL_ROWS)
/* floats: v = x - (block's first pixel), all in double */
DEFINE_KERNEL(k_f32, float, double, 0, double, double, double, double, double, 1, PTRDIFF_MAX - 1)
DEFINE_KERNEL(k_f64, double, double, 0, double, double, double, double, double, 1, PTRDIFF_MAX - 1)

/* ------------------------------------------------------------------------ */
/* The 16-bit pair path                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Correlation of 16-bit pairs, the main job, with 32-bit sums.  For each
 * chunk of a slab the values met fix a centre c per input (the middle of
 * their range) and a bound m on |x - c|; each lane of bw_p16_sums adds two
 * columns, 2*m^2 per row at most, so groups of (2^31 - 1) / (2 m^2) rows fit
 * 32 bits and are folded into the int64 block sums after each group.  Sums
 * are exact whatever the centre, so results equal the generic kernel's.
 * When m is too large for even one row (values spanning the whole 16-bit
 * range), the chunk goes through the generic kernel.
 *
 * Taken when all five sums are needed and nothing else (no min/max), the
 * inputs are 16-bit with contiguous rows, blocks are at most CHUNK columns
 * wide with an even width (so lanes never straddle blocks) and at most
 * nmax64 pixels (int64 block sums).
 */
typedef void (*slab_fn)(const geom *, const needs *, ptrdiff_t, ptrdiff_t,
                        const slab_acc *, void *, void *, ptrdiff_t,
                        ptrdiff_t);

/* Range of the values of input s over a chunk of a slab, in the element
 * type so that the loop vectorises. */
#define BW_ROW_RANGE(T)                                                        \
  do {                                                                         \
    const T *x = (const T *)p;                                                 \
    T a = x[0], b = x[0];                                                      \
    for (ptrdiff_t i = 0; i < w; i++) {                                        \
      a = x[i] < a ? x[i] : a;                                                 \
      b = x[i] > b ? x[i] : b;                                                 \
    }                                                                          \
    mn = a < mn ? a : mn;                                                      \
    mx = b > mx ? b : mx;                                                      \
  } while (0)

static inline __attribute__((always_inline)) void
chunk_range(const geom *g, int s, int is_signed, const row_cursor *start,
            ptrdiff_t nrows, ptrdiff_t x0, ptrdiff_t w, int32_t *lo,
            int32_t *hi) {
  row_cursor c = *start;
  int32_t mn = INT32_MAX, mx = INT32_MIN;
  for (ptrdiff_t r = 0; r < nrows; r++, row_step(&c)) {
    const void *p = row_ptr(g, s, &c, x0);
    if (is_signed)
      BW_ROW_RANGE(int16_t);
    else
      BW_ROW_RANGE(uint16_t);
  }
  *lo = mn;
  *hi = mx;
}

/* A uint32 lane read back as the signed sum it holds (GCC and Clang, which
 * the core requires, convert out-of-range values modulo 2^32). */
static inline int64_t lane_i32(uint32_t u) { return (int32_t)u; }

/* Rows of the slab after the current chunk, fetched ahead while the chunk is
 * summed: the next chunk of the same slab, or the first of the next slab. */
typedef struct ahead {
  row_cursor c;
  ptrdiff_t rows, x0;
} ahead;

static ahead ahead_of(const geom *g, ptrdiff_t oz, ptrdiff_t oy, ptrdiff_t jd) {
  ahead a;
  memset(&a, 0, sizeof a);
  if (jd >= g->on[2]) {
    if (++oy == g->on[1]) oy = 0, oz++;
    if (oz == g->on[0]) return a; /* the last slab: nothing after it */
    jd = 0;
  }
  a.rows = slab_start(g, oz, oy, &a.c);
  a.x0 = jd * g->blk[2];
  return a;
}

/* The next row of the look-ahead, as pointers for inputs a and b.  The
 * pixel loop fetches the same number of columns ahead as it sums (w); when
 * the look-ahead has fewer columns left in its rows (the last chunk of a
 * slab), or no rows, it gets the rows being summed instead, so every
 * address it fetches lies inside the image. */
static inline void next_ahead(const geom *g, ahead *a, ptrdiff_t w,
                              const char *here_a, const char *here_b,
                              const char **pa, const char **pb) {
  if (a->rows <= 0 || a->x0 + w > g->n[2]) {
    *pa = here_a, *pb = here_b;
    return;
  }
  *pa = row_ptr(g, 0, &a->c, a->x0);
  *pb = row_ptr(g, 1, &a->c, a->x0);
  row_step(&a->c);
  a->rows--;
}

BW_CLONES static void p16_slab(const geom *g, const needs *nd, ptrdiff_t oz,
                               ptrdiff_t oy, const slab_acc *sa, void *colv,
                               void *tmp, bw_p16_fn rows_fn, slab_fn generic,
                               int is_signed) {
  const ptrdiff_t bx = g->blk[2], nx = g->n[2], ox = g->on[2];
  row_cursor start;
  const ptrdiff_t nrows = slab_start(g, oz, oy, &start);
  /* blocks per chunk, lanes per block */
  const ptrdiff_t per = CHUNK / bx, hb = bx / 2;
  char *col = (char *)colv;
  bw_p16_sums cs;
  cs.s1[0] = (uint32_t *)(void *)col;
  cs.s1[1] = (uint32_t *)(void *)(col + CHUNK_BYTES);
  cs.s2[0] = (uint32_t *)(void *)(col + 2 * CHUNK_BYTES);
  cs.s2[1] = (uint32_t *)(void *)(col + 3 * CHUNK_BYTES);
  cs.sab = (uint32_t *)(void *)(col + 4 * CHUNK_BYTES);
  int64_t *s1[2] = {(int64_t *)sa->s1[0], (int64_t *)sa->s1[1]};
  int64_t *s2[2] = {(int64_t *)sa->s2[0], (int64_t *)sa->s2[1]};
  int64_t *sab = (int64_t *)sa->sab;
  /* 64-bit lanes, after the five 32-bit lane arrays (CHUNK / 2 lanes of 8
   * bytes each: 20 KiB of the 32 KiB left) */
  int64_t *wide[5];
  for (int q = 0; q < 5; q++)
    wide[q] = (int64_t *)(void *)(col + 5 * CHUNK_BYTES) + q * (CHUNK / 2);
  for (ptrdiff_t jc = 0; jc < ox; jc += per) {
    const ptrdiff_t jd = jc + per < ox ? jc + per : ox;
    const ptrdiff_t x0 = jc * bx, x1 = jd * bx < nx ? jd * bx : nx;
    const ptrdiff_t w = x1 - x0, nl = (w + 1) / 2;
    int32_t lo[2], hi[2], cen[2];
    int64_t m = 0;
    for (int s = 0; s < 2; s++) {
      chunk_range(g, s, is_signed, &start, nrows, x0, w, &lo[s], &hi[s]);
      cen[s] = lo[s] + (hi[s] - lo[s] + 1) / 2; /* x - cen fits int16 */
      const int64_t d = hi[s] - cen[s] > cen[s] - lo[s] ? hi[s] - cen[s]
                                                          : cen[s] - lo[s];
      m = d > m ? d : m;
    }
    const int64_t rows = m ? (int64_t)INT32_MAX / (2 * m * m) : nrows;
    if (rows < 1) {
      generic(g, nd, oz, oy, sa, colv, tmp, jc, jd);
      continue;
    }
    for (ptrdiff_t j = jc; j < jd; j++) {
      sa->cen[0][j] = cen[0];
      sa->cen[1][j] = cen[1];
    }
    const uint16_t ca = (uint16_t)(cen[0] & 0xffff);
    const uint16_t cb = (uint16_t)(cen[1] & 0xffff);
    const int widen = nrows > 2 * rows;
    ahead pf = ahead_of(g, oz, oy, jd);
    row_cursor c = start;
    for (ptrdiff_t r = 0; r < nrows;) {
      const int first = r == 0;
      const ptrdiff_t rend = nrows - r < rows ? nrows : r + (ptrdiff_t)rows;
      for (int q = 0; q < 5; q++)
        memset(col + q * CHUNK_BYTES, 0, (size_t)nl * 4);
      while (r < rend) {
        const char *a0 = row_ptr(g, 0, &c, x0), *b0 = row_ptr(g, 1, &c, x0);
        row_step(&c);
        const char *f[4];
        next_ahead(g, &pf, w, a0, b0, &f[0], &f[2]);
        if (r + 1 < rend) {
          const char *a1 = row_ptr(g, 0, &c, x0), *b1 = row_ptr(g, 1, &c, x0);
          row_step(&c);
          next_ahead(g, &pf, w, a1, b1, &f[1], &f[3]);
          rows_fn(&cs, a0, a1, b0, b1, w, ca, cb, f);
          r += 2;
        } else {
          f[1] = f[0], f[3] = f[2];
          rows_fn(&cs, a0, NULL, b0, NULL, w, ca, cb, f);
          r += 1;
        }
      }
      /* Up to two groups: fold each group's 32-bit lanes into the blocks.
       * More: add each group's lanes to 64-bit lanes (one vectorised pass)
       * and fold those once. */
      const int last = r >= nrows;
      if (widen) {
        for (int q = 0; q < 5; q++) {
          const uint32_t *restrict u = (const uint32_t *)(void *)(col + q * CHUNK_BYTES);
          int64_t *restrict l = wide[q];
          if (q == 2 || q == 3) { /* sums of squares: unsigned */
            if (first) for (ptrdiff_t k = 0; k < nl; k++) l[k] = u[k];
            else for (ptrdiff_t k = 0; k < nl; k++) l[k] += u[k];
          } else {
            if (first) for (ptrdiff_t k = 0; k < nl; k++) l[k] = lane_i32(u[k]);
            else for (ptrdiff_t k = 0; k < nl; k++) l[k] += lane_i32(u[k]);
          }
        }
        if (!last) continue;
      }
      /* fold the lanes into the blocks, in lane order */
      for (ptrdiff_t j = jc; j < jd; j++) {
        const ptrdiff_t k0 = (j - jc) * hb;
        const ptrdiff_t k1 = k0 + hb < nl ? k0 + hb : nl;
        int64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
        if (!widen) {
          for (ptrdiff_t k = k0; k < k1; k++) {
            t0 += lane_i32(cs.s1[0][k]);
            t1 += lane_i32(cs.s1[1][k]);
            t2 += cs.s2[0][k];
            t3 += cs.s2[1][k];
            t4 += lane_i32(cs.sab[k]);
          }
        } else {
          for (ptrdiff_t k = k0; k < k1; k++) {
            t0 += wide[0][k];
            t1 += wide[1][k];
            t2 += wide[2][k];
            t3 += wide[3][k];
            t4 += wide[4][k];
          }
        }
        if (widen || first) {
          s1[0][j] = t0, s1[1][j] = t1, s2[0][j] = t2, s2[1][j] = t3;
          sab[j] = t4;
        } else {
          s1[0][j] += t0, s1[1][j] += t1, s2[0][j] += t2, s2[1][j] += t3;
          sab[j] += t4;
        }
      }
    }
  }
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

  /* Scratch: 7 column accumulator arrays; 8 arrays of elements (min, max
   * and gathered rows, two each per input); then per block of a slab, 5
   * sums, 4 min/max, 2 shifts, 2 centres and 12 finished values (11
   * moments and one output row), each array rounded up to 64 bytes. */
  const size_t ox = (size_t)g.on[2];
  const size_t col_bytes = 7 * (size_t)CHUNK_BYTES, tmp_bytes = 8 * CHUNK * 8;
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
#define BW_SLAB(K)                                                             \
  do {                                                                         \
    K##_slab(&g, &nd, oz, oy, &acc, col, tmp, 0, oxs);                         \
    K##_minmax(&acc, &nd, oxs, &fin);                                             \
  } while (0)
      if (p16) {
        if (dt == BW_U16)
          p16_slab(&g, &nd, oz, oy, &acc, col, tmp, p16_rows, k_u16_slab, 0);
        else
          p16_slab(&g, &nd, oz, oy, &acc, col, tmp, p16_rows, k_i16_slab, 1);
      } else switch (dt) {
      case BW_U8: if (narrow) BW_SLAB(k_u8); else BW_SLAB(k_u8w); break;
      case BW_I8: if (narrow) BW_SLAB(k_i8); else BW_SLAB(k_i8w); break;
      case BW_U16: if (narrow) BW_SLAB(k_u16); else BW_SLAB(k_u16w); break;
      case BW_I16: if (narrow) BW_SLAB(k_i16); else BW_SLAB(k_i16w); break;
      case BW_U32: BW_SLAB(k_u32); break;
      case BW_I32: BW_SLAB(k_i32); break;
      case BW_F32: BW_SLAB(k_f32); break;
      case BW_F64: BW_SLAB(k_f64); break;
      }
#undef BW_SLAB
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
