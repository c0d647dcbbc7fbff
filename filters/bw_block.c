/*
 * Blockwise statistics over non-overlapping blocks.
 *
 * The work is organised by slabs: a slab is one row of blocks (the bz*by
 * input rows that blocks (k, i, *) share).  Within a slab the columns are
 * taken in chunks of whole blocks (or block-aligned pieces of one wide
 * block).  For each chunk, every row of the slab is added column-wise into
 * small per-column accumulators that stay in L1 cache; these inner loops are
 * plain element-wise loops over contiguous arrays that the compiler
 * vectorises.  The columns of a chunk are then folded into per-block
 * accumulators, and each finished block is turned into the requested
 * statistics.
 *
 * Accumulators by input type (see DEFINE_KERNEL for the bounds):
 *   u8 i8 u16 i16  values centred on the middle of the type's range; int32
 *                  column sums, uint32 for two rows of squares, int64 column
 *                  sums of squares and products, __int128 per block: exact.
 *   u32 i32        centred likewise; __int128 per column and per block.
 *   f32 f64        double, of values minus the block's first pixel (the
 *                  shifted-data algorithm), so a large common offset does not
 *                  cancel the variance away.
 *
 * Every block's result depends only on its own pixels, taken in a fixed
 * order (chunks are aligned to block starts), so any block-aligned sub-view
 * yields the same bits as the whole image.
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
enum { NEED_S1 = 1, NEED_S2 = 2, NEED_MM = 4 };

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

/* Per-block accumulators of the slab being computed. */
typedef struct acc_int {
  i128 s1[2], s2[2], sab;
  int64_t mn[2], mx[2];
  double k[2]; /* unused: integer sums need no shift */
} acc_int;

typedef struct acc_flt {
  double s1[2], s2[2], sab, mn[2], mx[2], k[2];
} acc_flt;

/* The per-block results a finished block hands to the output writer. */
typedef struct block_result {
  double count, sum[2], mean[2], m2[2], mab, mn[2], mx[2];
  int constant[2]; /* M2 is exactly zero */
} block_result;

const char *bw_stat_name(bw_stat stat) {
  switch (stat) {
  case BW_STAT_COUNT: return "count";
  case BW_STAT_SUM: return "sum";
  case BW_STAT_MEAN: return "mean";
  case BW_STAT_VAR: return "var";
  case BW_STAT_STD: return "std";
  case BW_STAT_MIN: return "min";
  case BW_STAT_MAX: return "max";
  case BW_STAT_COV: return "cov";
  case BW_STAT_CORR: return "corr";
  }
  return "invalid";
}

void bw_block_params_init(bw_block_params *p, int ndim,
                          const ptrdiff_t *block) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->ndim = ndim;
  for (int i = 0; i < BW_MAX_DIMS; i++)
    p->block[i] = (block && i < ndim) ? block[i] : 1;
  p->edge = BW_EDGE_PARTIAL;
  p->ddof = 0;
  p->use_fill = 0;
  p->fill = NAN;
}

static bw_status check_params(const bw_block_params *p, bw_error *err) {
  if (!p) return bw_fail(err, BW_ERR_NULL, "params is NULL");
  if (p->ndim != 2 && p->ndim != 3)
    return bw_fail(err, BW_ERR_NDIM, "params: ndim %d, expected 2 or 3",
                   p->ndim);
  for (int i = 0; i < p->ndim; i++)
    if (p->block[i] < 1)
      return bw_fail(err, BW_ERR_BLOCK, "block extent %td along axis %d (< 1)",
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
  bw_status s = check_params(p, err);
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

/* Address of column x0 of row q of a slab that starts at (z0, y0) and has
 * ny rows per plane, in input s. */
static inline const char *row_addr(const geom *g, int s, ptrdiff_t z0,
                                   ptrdiff_t y0, ptrdiff_t ny, ptrdiff_t q,
                                   ptrdiff_t x0) {
  return g->base[s] + (z0 + q / ny) * g->st[s][0] +
         (y0 + q % ny) * g->st[s][1] + x0 * g->st[s][2];
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
 *   ACC   per-block accumulator struct (acc_int or acc_flt)
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
                                    ACC *restrict acc, void *restrict colv,    \
                                    T *restrict tmp) {                         \
    const int two_in = nd->in[1] != 0 || nd->ab;                               \
    const ptrdiff_t bx = g->blk[2], nx = g->n[2], ox = g->on[2];               \
    const ptrdiff_t z0 = oz * g->blk[0], y0 = oy * g->blk[1];                  \
    ptrdiff_t z1 = z0 + g->blk[0], y1 = y0 + g->blk[1];                        \
    if (z1 > g->n[0]) z1 = g->n[0];                                            \
    if (y1 > g->n[1]) y1 = g->n[1];                                            \
    const ptrdiff_t ny = y1 - y0, nrows = (z1 - z0) * ny;                      \
    const ptrdiff_t xend = ox * bx < nx ? ox * bx : nx;                        \
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
      const char *p0 = g->base[s] + z0 * g->st[s][0] + y0 * g->st[s][1];       \
      for (ptrdiff_t j = 0; j < ox; j++) {                                     \
        T first;                                                               \
        memcpy(&first, p0 + j * bx * g->st[s][2], sizeof first);               \
        if (FLT) acc[j].k[s] = isfinite((double)first) ? (double)first : 0.0;  \
        acc[j].mn[s] = acc[j].mx[s] = first;                                   \
        acc[j].s1[s] = acc[j].s2[s] = 0;                                       \
      }                                                                        \
    }                                                                          \
    for (ptrdiff_t j = 0; j < ox; j++) acc[j].sab = 0;                         \
    /* chunks: groups of whole blocks, or CHUNK-wide pieces of one block */    \
    for (ptrdiff_t x0 = 0, jc = 0; x0 < xend;) {                               \
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
              ck[s][i] = (VT)acc[j].k[s];                                      \
              cmn[s][i] = cmx[s][i] = (T)acc[j].mn[s];                         \
            }                                                                  \
          xs = xe;                                                             \
        }                                                                      \
      }                                                                        \
      BW_ZERO_COLUMNS();                                                       \
      for (ptrdiff_t r = 0, in_group = 0; r < nrows;) {                        \
        const int two = r + 1 < nrows && in_group + 2 <= (ROWS);               \
        const T *rw[2][2] = {{NULL, NULL}, {NULL, NULL}};                      \
        for (int q = 0; q < 1 + two; q++) {                                    \
          for (int s = 0; s < 1 + two_in; s++)                                 \
            rw[q][s] = NAME##_row(row_addr(g, s, z0, y0, ny, r + q, x0),       \
                                  g->st[s][2], w, tr[q][s]);                   \
        }                                                                      \
        /* ask for the next two rows while this pair is summed: the sums  \
         * alone are faster than memory, so hide its latency */           \
        for (ptrdiff_t q = r + 2; q < r + 4 && q < nrows; q++) {               \
          for (int s = 0; s < 1 + two_in; s++) {                               \
            const char *pf = row_addr(g, s, z0, y0, ny, q, x0);                \
            const ptrdiff_t nbytes = w * g->st[s][2];                          \
            for (ptrdiff_t o = 0; o < nbytes; o += 64)                         \
              __builtin_prefetch(pf + o);                                      \
          }                                                                    \
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
        for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {                        \
          ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;                \
          ACC *a = &acc[j];                                                    \
          const ptrdiff_t i0 = xs - x0, i1 = xe - x0;                          \
          for (int s = 0; s < 2; s++) {                                        \
            if (nd->in[s] & (NEED_S1 | NEED_S2)) {                             \
              FOLD t = 0;                                                      \
              for (ptrdiff_t i = i0; i < i1; i++) t += (FOLD)c1[s][i];         \
              a->s1[s] += t;                                                   \
            }                                                                  \
            if (nd->in[s] & NEED_S2) {                                         \
              FOLD t = 0;                                                      \
              for (ptrdiff_t i = i0; i < i1; i++) t += (FOLD)c2[s][i];         \
              a->s2[s] += t;                                                   \
            }                                                                  \
          }                                                                    \
          if (nd->ab) {                                                        \
            FOLD t = 0;                                                        \
            for (ptrdiff_t i = i0; i < i1; i++) t += (FOLD)cab[i];             \
            a->sab += t;                                                       \
          }                                                                    \
          xs = xe;                                                             \
        }                                                                      \
        if (r < nrows) BW_ZERO_COLUMNS();                                      \
      }                                                                        \
      /* min/max fold (idempotent, so once per chunk is enough) */             \
      for (int s = 0; s < 2; s++) {                                            \
        if (!(nd->in[s] & NEED_MM)) continue;                                  \
        for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {                        \
          ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;                \
          ACC *a = &acc[j];                                                    \
          for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {                      \
            T v = cmn[s][i], u = cmx[s][i];                                    \
            if (v < a->mn[s] || v != v) a->mn[s] = v;                          \
            if (u > a->mx[s] || u != u) a->mx[s] = u;                          \
          }                                                                    \
          xs = xe;                                                             \
        }                                                                      \
      }                                                                        \
      jc += bx <= CHUNK ? (x1 - x0 + bx - 1) / bx : (x1 == (jc + 1) * bx);     \
      x0 = x1;                                                                 \
    }                                                                          \
  }

/* 8- and 16-bit values, centred: |v| <= 2^15, v*v <= 2^30, so two rows of
 * squares fit uint32, value sums fit int32 for 2^15 rows, and a chunk total
 * (CHUNK * 2^14 rows * 2^30) fits int64.  Block sums are 128-bit. */
#define SMALL_ROWS ((ptrdiff_t)1 << 14)
DEFINE_KERNEL(k_u8, uint8_t, int32_t, 128, int32_t, uint32_t, int64_t, int64_t, acc_int, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i8, int8_t, int32_t, 0, int32_t, uint32_t, int64_t, int64_t, acc_int, 0, SMALL_ROWS)
DEFINE_KERNEL(k_u16, uint16_t, int32_t, 32768, int32_t, uint32_t, int64_t, int64_t, acc_int, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i16, int16_t, int32_t, 0, int32_t, uint32_t, int64_t, int64_t, acc_int, 0, SMALL_ROWS)
/* 32-bit values, centred: |v| <= 2^31, v*v <= 2^62, two rows fit uint64;
 * every column and chunk sum is 128-bit. */
DEFINE_KERNEL(k_u32, uint32_t, int64_t, 2147483648ll, i128, uint64_t, i128, i128, acc_int, 0, SMALL_ROWS)
DEFINE_KERNEL(k_i32, int32_t, int64_t, 0, i128, uint64_t, i128, i128, acc_int, 0, SMALL_ROWS)
/* floats: v = x - (block's first pixel), all in double */
DEFINE_KERNEL(k_f32, float, double, 0, double, double, double, double, acc_flt, 1, PTRDIFF_MAX - 1)
DEFINE_KERNEL(k_f64, double, double, 0, double, double, double, double, acc_flt, 1, PTRDIFF_MAX - 1)

/* ------------------------------------------------------------------------ */
/* Finishing a block and writing outputs                                    */
/* ------------------------------------------------------------------------ */

/* nmax64: the largest block volume for which n * S2 and S1^2 fit int64, so
 * that the exact numerators need no 128-bit arithmetic (0 for 32-bit
 * inputs).  nmax128: the same for 128 bits. */
static void finish_int(const acc_int *a, const needs *nd, int64_t n,
                       int64_t off, int64_t nmax64, int64_t nmax128,
                       block_result *r) {
  const double dn = (double)n;
  r->count = dn;
  for (int s = 0; s < 2; s++) {
    if (!nd->in[s]) continue;
    if (nd->in[s] & (NEED_S1 | NEED_S2)) {
      /* the kernels sum x - off; variances and covariances do not
       * depend on off, sums and means get n * off back */
      const i128 s1 = a->s1[s] + (i128)n * off;
      if (s1 < ((i128)1 << 53) && s1 > -((i128)1 << 53)) {
        r->sum[s] = (double)(int64_t)s1; /* exact */
        r->mean[s] = r->sum[s] / dn;
      } else {
        r->sum[s] = (double)s1;
        r->mean[s] = int_mean(s1, n);
      }
    }
    if (nd->in[s] & NEED_S2) {
      double c;
      if (n <= nmax64)
        c = (double)(n * (int64_t)a->s2[s] - (int64_t)a->s1[s] * (int64_t)a->s1[s]);
      else
        c = int_comoment_n(a->s2[s], a->s1[s], a->s1[s], n, nmax128);
      if (c < 0) c = 0; /* only the inexact fallback can dip below zero */
      r->m2[s] = c / dn;
      r->constant[s] = (c == 0);
    }
    r->mn[s] = (double)a->mn[s];
    r->mx[s] = (double)a->mx[s];
  }
  if (nd->ab) {
    if (n <= nmax64)
      r->mab = (double)(n * (int64_t)a->sab - (int64_t)a->s1[0] * (int64_t)a->s1[1]) / dn;
    else
      r->mab = int_comoment_n(a->sab, a->s1[0], a->s1[1], n, nmax128) / dn;
  }
}

static void finish_flt(const acc_flt *a, const needs *nd, int64_t n,
                       block_result *r) {
  double dn = (double)n;
  r->count = dn;
  for (int s = 0; s < 2; s++) {
    if (!nd->in[s]) continue;
    double k = a->k[s], d1 = a->s1[s];
    r->sum[s] = k * dn + d1;
    r->mean[s] = k + d1 / dn;
    if (nd->in[s] & NEED_S2) {
      double m2 = a->s2[s] - d1 * (d1 / dn);
      if (m2 < 0) m2 = 0;
      r->m2[s] = m2;
      r->constant[s] = (m2 == 0);
    }
    r->mn[s] = a->mn[s];
    r->mx[s] = a->mx[s];
  }
  if (nd->ab) r->mab = a->sab - a->s1[0] * (a->s1[1] / (double)n);
}

static double stat_value(const block_result *r, bw_stat stat, int s,
                         const bw_block_params *p) {
  double dof = r->count - p->ddof;
  switch (stat) {
  case BW_STAT_COUNT: return r->count;
  case BW_STAT_SUM: return r->sum[s];
  case BW_STAT_MEAN: return r->mean[s];
  case BW_STAT_VAR: return dof > 0 ? r->m2[s] / dof : NAN;
  case BW_STAT_STD: return dof > 0 ? sqrt(r->m2[s] / dof) : NAN;
  case BW_STAT_MIN: return r->mn[s];
  case BW_STAT_MAX: return r->mx[s];
  case BW_STAT_COV: return dof > 0 ? r->mab / dof : NAN;
  case BW_STAT_CORR: {
    if (r->constant[0] || r->constant[1]) return p->use_fill ? p->fill : NAN;
    double v = r->mab / (sqrt(r->m2[0]) * sqrt(r->m2[1]));
    if (v > 1) v = 1;
    if (v < -1) v = -1;
    return v;
  }
  }
  return NAN;
}

static void store(const bw_view *v, ptrdiff_t k, ptrdiff_t i, ptrdiff_t j,
                  double x) {
  char *p = (char *)v->data;
  if (v->ndim == 3)
    p += k * v->strides[0] + i * v->strides[1] + j * v->strides[2];
  else
    p += i * v->strides[0] + j * v->strides[1];
  if (v->dtype == BW_F32) {
    float f = (float)x;
    memcpy(p, &f, sizeof f);
  } else {
    memcpy(p, &x, sizeof x);
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
    case BW_STAT_MEAN: nd.in[s] |= NEED_S1; break;
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
  bw_status s = check_params(p, err);
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
  const int64_t bvol = (int64_t)g.blk[0] * g.blk[1] * g.blk[2];
  if (g.blk[0] > INT32_MAX || g.blk[1] > INT32_MAX || g.blk[2] > INT32_MAX ||
      bvol / g.blk[0] / g.blk[1] != g.blk[2])
    return bw_fail(err, BW_ERR_RANGE, "block volume overflows");

  const needs nd = needs_of(outputs, n_outputs);
  const int is_flt = a->dtype == BW_F32 || a->dtype == BW_F64;
  const size_t accsz = is_flt ? sizeof(acc_flt) : sizeof(acc_int);
  const size_t ox = (size_t)g.on[2];
  /* 7 column accumulator arrays; 8 arrays of elements (min, max and
   * gathered rows, two each per input); ox blocks. */
  const size_t col_bytes = 7 * (size_t)CHUNK_BYTES, tmp_bytes = 8 * CHUNK * 8;
  if (ox > (SIZE_MAX - col_bytes - tmp_bytes - 64) / accsz)
    return bw_fail(err, BW_ERR_RANGE, "output too wide");
  const size_t acc_off = col_bytes + tmp_bytes;
  unsigned char *scratch = malloc(acc_off + ox * accsz + 64);
  if (!scratch)
    return bw_fail(err, BW_ERR_NOMEM, "cannot allocate %zu bytes of scratch",
                   acc_off + ox * accsz);
  /* col_bytes and tmp_bytes are multiples of 16, so everything is aligned */
  void *col = scratch, *tmp = scratch + col_bytes, *acc = scratch + acc_off;
  /* n^2 * max|v|^2 must stay below 2^63 (2^127): max|v|^2 is 2^16 for 8-bit,
   * 2^32 for 16-bit and 2^64 for 32-bit inputs. */
  const int wide = a->dtype == BW_U32 || a->dtype == BW_I32;
  const int64_t nmax64 = wide ? 0
                         : (a->dtype == BW_U8 || a->dtype == BW_I8) ? 11863282
                                                                     : 46340;
  /* the centres the integer kernels subtract (see DEFINE_KERNEL) */
  const int64_t off = a->dtype == BW_U8    ? 128
                      : a->dtype == BW_U16 ? 32768
                      : a->dtype == BW_U32 ? ((int64_t)1 << 31)
                                           : 0;
  const int64_t nmax128 = wide ? ((int64_t)1 << 31) : ((int64_t)1 << 47);

  for (ptrdiff_t oz = 0; oz < g.on[0]; oz++) {
    for (ptrdiff_t oy = 0; oy < g.on[1]; oy++) {
      switch (a->dtype) {
      case BW_U8: k_u8_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_I8: k_i8_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_U16: k_u16_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_I16: k_i16_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_U32: k_u32_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_I32: k_i32_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_F32: k_f32_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      case BW_F64: k_f64_slab(&g, &nd, oz, oy, acc, col, tmp); break;
      }
      ptrdiff_t rz = g.n[0] - oz * g.blk[0], ry = g.n[1] - oy * g.blk[1];
      if (rz > g.blk[0]) rz = g.blk[0];
      if (ry > g.blk[1]) ry = g.blk[1];
      for (ptrdiff_t j = 0; j < g.on[2]; j++) {
        ptrdiff_t rx = g.n[2] - j * g.blk[2];
        if (rx > g.blk[2]) rx = g.blk[2];
        const int64_t n = (int64_t)rz * ry * rx;
        block_result r;
        memset(&r, 0, sizeof r);
        if (is_flt)
          finish_flt((const acc_flt *)acc + j, &nd, n, &r);
        else
          finish_int((const acc_int *)acc + j, &nd, n, off, nmax64, nmax128, &r);
        for (size_t i = 0; i < n_outputs; i++)
          store(&outputs[i].view, oz, oy, j,
                stat_value(&r, outputs[i].stat, outputs[i].input, p));
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
