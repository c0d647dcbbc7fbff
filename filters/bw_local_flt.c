/*
 * The float engine of local statistics: sums in double-double over fixed
 * segments, so that every window's sums come from its own pixels in an
 * order fixed by its place in the image.
 *
 * Per tile of outputs, the tile's input box is loaded as double-double
 * values and exact products (a, a^2, b, b^2, a b; with the minimum and
 * maximum of a and b, which say exactly whether a window is constant), and
 * summed separably: along z, then y, then x, each pass keeping only the
 * window centres of the tile.  Along an axis of radius r the image is cut
 * into segments of L = 2r + 1 positions starting at multiples of L (the
 * last one ends at the image's end).  A window [lo, hi] is at most L long,
 * so it holds at most one segment start s; its sum is the suffix sum of
 * lo's segment from lo (accumulated backwards from s - 1) plus the prefix
 * sum of hi's segment up to hi (accumulated forwards from s), or one of
 * them alone when the window starts on a segment start or ends on the
 * image's end.  Both pieces lie inside the window, and neither depends on
 * where the tile or the view begins: every output is the same double-double
 * whatever box computes it.  Each pass costs two accumulations per position
 * and one addition per output, whatever the radius.
 */
#include "bw_local_internal.h"

#include <math.h>
#include <string.h>

typedef struct dd {
  double hi, lo;
} dd;

static inline dd dd_add(dd x, dd y) {
  const double s = x.hi + y.hi, bs = s - x.hi;
  double e = (x.hi - (s - bs)) + (y.hi - bs);
  const double t = x.lo + y.lo, bt = t - x.lo;
  const double f = (x.lo - (t - bt)) + (y.lo - bt);
  e += t;
  const double s2 = s + e;
  e = e - (s2 - s) + f;
  const double hi = s2 + e;
  return (dd){hi, e - (hi - s2)};
}

static inline dd dd_norm(double hi, double lo) {
  const double s = hi + lo;
  return (dd){s, lo - (s - hi)};
}

/* a * b exactly (Dekker's product; contraction is off for the core). */
static inline dd two_prod(double a, double b) {
  const double p = a * b;
  const double ca = 134217729.0 * a, cb = 134217729.0 * b;
  const double ah = ca - (ca - a), al = a - ah;
  const double bh = cb - (cb - b), bl = b - bh;
  return (dd){p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
}

static inline dd dd_mul(dd x, dd y) {
  const dd p = two_prod(x.hi, y.hi);
  return dd_norm(p.hi, p.lo + (x.hi * y.lo + x.lo * y.hi));
}

/* n x - y y' (the numerators of M2 and Mab, times n), as a double. */
static inline double numerator(double n, dd x, dd y, dd y2) {
  const dd a = dd_mul((dd){n, 0.0}, x), b = dd_mul(y, y2);
  return dd_add(a, (dd){-b.hi, -b.lo}).hi;
}

/* The pass geometry along one axis: positions b0 .. b0 + len - 1 of the
 * source, outputs k0 .. k0 + kn - 1. */
typedef struct lc_pass {
  ptrdiff_t outer, len, inner, b0, k0, kn, seg, n;
  const lc_geom *g;
  int d;
} lc_pass;

/* The body of a pass over elements of type T combined by COMBINE(x, y):
 * window combinations along the pass's axis, src [outer][len][inner] to
 * dst [outer][kn][inner]; pre and suf hold len * inner elements. */
#define LC_PASS_BODY(T, COMBINE) LC_PASS_BODY2(T, COMBINE, COMBINE, COMBINE)
/* ... with PRE(acc, x) and SUF(x, acc) accumulating the prefix and suffix
 * sums and COMBINE joining them. */
#define LC_PASS_BODY2(T, PRE, SUF, COMBINE)                                   \
  const ptrdiff_t len = P->len, in = P->inner, L = P->seg;                    \
  for (ptrdiff_t o = 0; o < P->outer; o++) {                                  \
    const T *restrict s = src + o * len * in;                                 \
    for (ptrdiff_t i = 0; i < len; i++) {                                     \
      const ptrdiff_t p = P->b0 + i;                                          \
      if (i == 0 || p % L == 0)                                               \
        memcpy(pre + i * in, s + i * in, (size_t)in * sizeof *pre);           \
      else                                                                    \
        for (ptrdiff_t j = 0; j < in; j++)                                    \
          pre[i * in + j] = PRE(pre[(i - 1) * in + j], s[i * in + j]);        \
    }                                                                         \
    for (ptrdiff_t i = len - 1; i >= 0; i--) {                                \
      const ptrdiff_t p = P->b0 + i;                                          \
      if (i == len - 1 || (p + 1) % L == 0 || p == P->n - 1)                  \
        memcpy(suf + i * in, s + i * in, (size_t)in * sizeof *suf);           \
      else                                                                    \
        for (ptrdiff_t j = 0; j < in; j++)                                    \
          suf[i * in + j] = SUF(s[i * in + j], suf[(i + 1) * in + j]);        \
    }                                                                         \
    T *restrict t = dst + o * P->kn * in;                                     \
    for (ptrdiff_t k = 0; k < P->kn; k++) {                                   \
      const ptrdiff_t lo = lc_lo(P->g, P->d, P->k0 + k);                      \
      const ptrdiff_t hi = lc_hi(P->g, P->d, P->k0 + k);                      \
      const ptrdiff_t li = lo - P->b0, hj = hi - P->b0;                       \
      if (lo / L != hi / L) {                                                 \
        for (ptrdiff_t j = 0; j < in; j++)                                    \
          t[k * in + j] = COMBINE(suf[li * in + j], pre[hj * in + j]);        \
      } else {                                                                \
        const T *from = lo % L == 0 ? pre + hj * in : suf + li * in;          \
        memcpy(t + k * in, from, (size_t)in * sizeof *t);                     \
      }                                                                       \
    }                                                                         \
  }

/* Window sums. */
BW_CLONES static void pass_sum(const lc_pass *P, const dd *src, dd *dst,
                               dd *restrict pre, dd *restrict suf) {
  LC_PASS_BODY(dd, dd_add)
}

/* x + y for a double-double x and a double y. */
static inline dd dd_add_d(dd x, double y) {
  const double s = x.hi + y, bs = s - x.hi;
  double e = (x.hi - (s - bs)) + (y - bs);
  e += x.lo;
  const double hi = s + e;
  return (dd){hi, e - (hi - s)};
}
#define LC_PRE_D(acc, x) dd_add_d(acc, (x).hi)
#define LC_SUF_D(x, acc) dd_add_d(acc, (x).hi)

/* Window sums of a source whose elements are plain doubles (lo parts
 * zero: the first pass over float32 pixels, their squares and products,
 * all exact in double): the prefix and suffix sums add doubles, which
 * costs half of adding double-doubles. */
BW_CLONES static void pass_sum_d(const lc_pass *P, const dd *src, dd *dst,
                                 dd *restrict pre, dd *restrict suf) {
  LC_PASS_BODY2(dd, LC_PRE_D, LC_SUF_D, dd_add)
}

#define LC_MIN(x, y) ((x) < (y) ? (x) : (y))
#define LC_MAX(x, y) ((x) > (y) ? (x) : (y))

/* Window minima and maxima. */
BW_CLONES static void pass_min(const lc_pass *P, const double *src, double *dst,
                               double *restrict pre, double *restrict suf) {
  LC_PASS_BODY(double, LC_MIN)
}

BW_CLONES static void pass_max(const lc_pass *P, const double *src, double *dst,
                               double *restrict pre, double *restrict suf) {
  LC_PASS_BODY(double, LC_MAX)
}

/* The quantities: sums 0 a, 1 a^2, 2 b, 3 b^2, 4 a b; extremes 0 min a,
 * 1 max a, 2 min b, 3 max b. */
enum { NSUM = 5, NEXT = 4 };

typedef struct lc_fwork {
  dd *sum[2][NSUM];      /* two buffers of a box each */
  double *ext[2][NEXT];
  dd *pre, *suf;         /* a box each, also for the extremes */
  double *rowa, *rowb;   /* one input row each */
  int use_sum[NSUM], use_ext[NEXT];
  lc_row row;
} lc_fwork;

/* Row of w pixels of input s at (z, y, x0) as doubles. */
BW_CLONES static void load_row(const lc_geom *g, int s, ptrdiff_t z, ptrdiff_t y,
                               ptrdiff_t x0, ptrdiff_t w, double *restrict out) {
  const char *p = g->base[s] + (z - g->i0[0]) * g->str[s][0] +
                  (y - g->i0[1]) * g->str[s][1] + (x0 - g->i0[2]) * g->str[s][2];
  const ptrdiff_t sx = g->str[s][2];
  if (g->dt == BW_F32 && sx == (ptrdiff_t)sizeof(float)) {
    const float *restrict q = (const float *)(const void *)p;
    for (ptrdiff_t i = 0; i < w; i++) out[i] = q[i];
  } else {
    for (ptrdiff_t i = 0; i < w; i++) out[i] = bw_load_double(p + i * sx, g->dt);
  }
}

/* The quantities of one row of values a, b (b NULL: zeros) into buffer 0
 * at offset i. */
BW_CLONES static void put_quantities(lc_fwork *F, size_t i, const double *restrict a,
                                     const double *restrict b, ptrdiff_t w) {
  dd *const *S = F->sum[0];
  double *const *E = F->ext[0];
  for (int q = 0; q < NSUM; q++) {
    if (!F->use_sum[q]) continue;
    dd *restrict o = S[q] + i;
    const double *restrict x = q < 2 || q == 4 ? a : b, *restrict y = q == 4 ? b : x;
    if (q == 0 || q == 2)
      for (ptrdiff_t j = 0; j < w; j++) o[j] = (dd){x[j], 0.0};
    else
      for (ptrdiff_t j = 0; j < w; j++) o[j] = two_prod(x[j], y[j]);
  }
  for (int q = 0; q < NEXT; q++)
    if (F->use_ext[q]) memcpy(E[q] + i, q < 2 ? a : b, (size_t)w * sizeof(double));
}

/* Loads the box b0, bn into buffer 0. */
static void load_box(const lc_geom *g, lc_fwork *F, const ptrdiff_t *b0,
                     const ptrdiff_t *bn) {
  size_t i = 0;
  const int pair = g->base[1] != NULL;
  double *ra = F->rowa, *rb = pair ? F->rowb : NULL;
  for (ptrdiff_t z = b0[0]; z < b0[0] + bn[0]; z++)
    for (ptrdiff_t y = b0[1]; y < b0[1] + bn[1]; y++, i += (size_t)bn[2]) {
      load_row(g, 0, z, y, b0[2], bn[2], ra);
      if (pair) load_row(g, 1, z, y, b0[2], bn[2], rb);
      else memset(F->rowb, 0, (size_t)bn[2] * sizeof(double)), rb = F->rowb;
      put_quantities(F, i, ra, rb, bn[2]);
    }
}

/* One pass along axis d, from buffer @from to the other. */
static void run_pass(const lc_geom *g, lc_fwork *F, int d, int from,
                     const lc_pass *P, int plain) {
  for (int q = 0; q < NSUM; q++)
    if (F->use_sum[q])
      (plain ? pass_sum_d : pass_sum)(P, F->sum[from][q], F->sum[!from][q], F->pre, F->suf);
  for (int q = 0; q < NEXT; q++)
    if (F->use_ext[q])
      (q & 1 ? pass_max : pass_min)(P, F->ext[from][q], F->ext[!from][q],
                                    (double *)F->pre, (double *)F->suf);
  (void)g;
  (void)d;
}

/* Transposes [rows][cols] (row stride sstride) into [cols][rows] (row
 * stride dstride), in blocks that stay in cache. */
#define LC_PAD 8
#define LC_TRANSPOSE(NAME, T)                                                \
  BW_CLONES static void NAME(const T *restrict src, T *restrict dst, ptrdiff_t rows, \
                             ptrdiff_t cols, ptrdiff_t sstride, ptrdiff_t dstride) { \
    enum { TB = 8 };                                                         \
    ptrdiff_t r0 = 0;                                                        \
    for (; r0 + TB <= rows; r0 += TB) {                                      \
      ptrdiff_t c0 = 0;                                                      \
      for (; c0 + TB <= cols; c0 += TB) {                                    \
        T t[TB][TB];                                                         \
        for (int i = 0; i < TB; i++)                                         \
          for (int j = 0; j < TB; j++) t[j][i] = src[(r0 + i) * sstride + c0 + j]; \
        for (int j = 0; j < TB; j++)                                         \
          for (int i = 0; i < TB; i++) dst[(c0 + j) * dstride + r0 + i] = t[j][i]; \
      }                                                                      \
      for (; c0 < cols; c0++)                                                \
        for (int i = 0; i < TB; i++) dst[c0 * dstride + r0 + i] = src[(r0 + i) * sstride + c0]; \
    }                                                                        \
    for (; r0 < rows; r0++)                                                  \
      for (ptrdiff_t c = 0; c < cols; c++) dst[c * dstride + r0] = src[r0 * sstride + c]; \
  }
LC_TRANSPOSE(transpose_dd, dd)
LC_TRANSPOSE(transpose_d, double)
#undef LC_TRANSPOSE

/* Transposes every quantity in use from buffer @from to the other. */
static void transpose_all(lc_fwork *F, int from, ptrdiff_t rows, ptrdiff_t rows_pad,
                          ptrdiff_t cols) {
  for (int q = 0; q < NSUM; q++)
    if (F->use_sum[q])
      transpose_dd(F->sum[from][q], F->sum[!from][q], rows, cols, cols, rows_pad);
  for (int q = 0; q < NEXT; q++)
    if (F->use_ext[q])
      transpose_d(F->ext[from][q], F->ext[!from][q], rows, cols, cols, rows_pad);
}

/* The moments of every output of the tile, from the summed buffer @buf in
 * [x][rows] order (m rows): element i = x m + j has the count
 * nx[x] nzy[j]; into the arrays of @res (the same order). */
BW_CLONES static void finish_tile(lc_fwork *F, int buf, ptrdiff_t tx, ptrdiff_t m,
                                  ptrdiff_t mp, const double *restrict nxw,
                                  const double *restrict nzy, const lc_row *res,
                                  int no_means, int corr_only, double fill) {
  dd *const *S = F->sum[buf];
  double *const *E = F->ext[buf];
  if (corr_only) {
    /* r itself, into res->mab: Nab / sqrt(Na Nb) of the numerators, a
     * constant side (its numerator zero or, for float64, its extremes
     * equal) giving the fill value */
    for (ptrdiff_t x = 0; x < tx; x++) {
      const size_t o = (size_t)(x * mp);
      const double w = nxw[x];
      const dd *restrict sa = S[0] + o, *restrict saa = S[1] + o, *restrict sb = S[2] + o,
               *restrict sbb = S[3] + o, *restrict sab = S[4] + o;
      double *restrict r = res->mab + o, *restrict na = res->m2[0] + o,
                       *restrict nb = res->m2[1] + o;
      /* one numerator per loop, so that each vectorises */
      for (ptrdiff_t j = 0; j < m; j++) na[j] = numerator(nzy[j] * w, saa[j], sa[j], sa[j]);
      for (ptrdiff_t j = 0; j < m; j++) nb[j] = numerator(nzy[j] * w, sbb[j], sb[j], sb[j]);
      for (ptrdiff_t j = 0; j < m; j++) r[j] = numerator(nzy[j] * w, sab[j], sa[j], sb[j]);
      if (F->use_ext[0])
        for (ptrdiff_t j = 0; j < m; j++) {
          if (E[0][o + j] == E[1][o + j]) na[j] = na[j] != na[j] ? na[j] : 0.0;
          if (E[2][o + j] == E[3][o + j]) nb[j] = nb[j] != nb[j] ? nb[j] : 0.0;
        }
      for (ptrdiff_t j = 0; j < m; j++) {
        const double a = na[j], b2 = nb[j];
        double v = r[j] / sqrt(a * b2);
        v = v > 1 ? 1 : v;
        v = v < -1 ? -1 : v;
        const int flat = (a <= 0) | (b2 <= 0);
        r[j] = (a != a || b2 != b2) ? a + b2 : flat ? fill : v;
      }
    }
    return;
  }
  for (ptrdiff_t x = 0; x < tx; x++) {
    const size_t o = (size_t)(x * mp);
    const double w = nxw[x];
    double *restrict cnt = res->cnt + o;
    for (ptrdiff_t j = 0; j < m; j++) cnt[j] = nzy[j] * w;
    for (int s = 0; s < 2; s++) {
      if (!F->use_sum[2 * s]) continue;
      const dd *restrict s1 = S[2 * s] + o;
      if (!no_means) {
        double *restrict sum = res->sum[s] + o, *restrict mean = res->mean[s] + o;
        for (ptrdiff_t j = 0; j < m; j++) sum[j] = s1[j].hi, mean[j] = s1[j].hi / cnt[j];
      }
      if (!F->use_sum[2 * s + 1]) continue;
      const dd *restrict s2 = S[2 * s + 1] + o;
      double *restrict m2 = res->m2[s] + o;
      if (F->use_ext[2 * s]) {
        const double *restrict lo = E[2 * s] + o, *restrict hi = E[2 * s + 1] + o;
        for (ptrdiff_t j = 0; j < m; j++) {
          const double n = cnt[j], v = numerator(n, s2[j], s1[j], s1[j]);
          const int flat = (lo[j] == hi[j]) | (v <= 0);
          const double q = flat ? 0.0 : v / n;
          m2[j] = v != v ? v : q;
        }
      } else {
        for (ptrdiff_t j = 0; j < m; j++) {
          const double n = cnt[j], v = numerator(n, s2[j], s1[j], s1[j]);
          const double q = v <= 0 ? 0.0 : v / n;
          m2[j] = v != v ? v : q;
        }
      }
    }
    if (F->use_sum[4]) {
      const dd *restrict sab = S[4] + o, *restrict sa = S[0] + o, *restrict sb = S[2] + o;
      double *restrict mab = res->mab + o;
      for (ptrdiff_t j = 0; j < m; j++) mab[j] = numerator(cnt[j], sab[j], sa[j], sb[j]) / cnt[j];
    }
  }
}

bw_status bw_local_flt(const lc_geom *g, const ptrdiff_t *k0,
                       const ptrdiff_t *kn, lc_emit_fn emit, void *ctx,
                       bw_error *err) {
  lc_fwork F;
  memset(&F, 0, sizeof F);
  const unsigned nd = g->need;
  F.use_sum[0] = !!(nd & LC_A1);
  F.use_sum[1] = !!(nd & LC_A2);
  F.use_sum[2] = !!(nd & LC_B1);
  F.use_sum[3] = !!(nd & LC_B2);
  F.use_sum[4] = !!(nd & LC_AB);
  /* Constant windows: for float32 pixels, the double-double sums of a
   * constant window are exact (c, c^2 and n c^2 fit 106 bits), so its M2
   * numerator is exactly zero and the extremes are not needed; float64
   * squares and their sums do not fit, so the extremes decide. */
  F.use_ext[0] = F.use_ext[1] = F.use_sum[1] && g->dt != BW_F32;
  F.use_ext[2] = F.use_ext[3] = F.use_sum[3] && g->dt != BW_F32;
  /* tiles with input boxes well above a window, for O(1) cost per pixel */
  ptrdiff_t win = 1;
  for (int d = 0; d < 3; d++) {
    const ptrdiff_t e = 2 * g->r[d] + 1 < g->n[d] ? 2 * g->r[d] + 1 : g->n[d];
    win = win > PTRDIFF_MAX / 8 / e ? PTRDIFF_MAX / 8 : win * e;
  }
  /* boxes of a few windows: small enough that a tile's sums stay in cache
   * (which matters more than the halo, measured), large enough for the halo */
  const ptrdiff_t budget = win > LC_FLT_BOX / 6 ? win * 6 : LC_FLT_BOX;
  const int fixed[3] = {0, 0, 0};
  ptrdiff_t tile[3], bmax[3];
  bw_local_tile(g, kn, budget, fixed, tile);
  size_t vol = 1;
  for (int d = 0; d < 3; d++) {
    bmax[d] = (tile[d] - 1) * g->st[d] + 2 * g->r[d] + 1;
    if (bmax[d] > g->n[d]) bmax[d] = g->n[d];
    if ((size_t)bmax[d] > SIZE_MAX / 512 / vol)
      return bw_fail(err, BW_ERR_NOMEM, "local: tiles of %zu x %td pixels are too large",
                     vol, bmax[d]);
    vol *= (size_t)bmax[d];
  }
  vol += LC_PAD * (size_t)bmax[2]; /* the padded transposed rows */
  int nsum = 0, next = 0;
  for (int q = 0; q < NSUM; q++) nsum += F.use_sum[q];
  for (int q = 0; q < NEXT; q++) next += F.use_ext[q];
  const size_t total = vol * (2 * nsum * sizeof(dd) + 2 * next * sizeof(double) +
                              2 * sizeof(dd)) +
                       (LC_ROW_ARRAYS * sizeof(double) + sizeof(double)) * (size_t)tile[2] +
                       (size_t)(tile[0] * tile[1]) * sizeof(double) +
                       2 * LC_ROW_ARRAYS * (size_t)((tile[0] * tile[1] + LC_PAD) * (tile[2] + LC_PAD)) * sizeof(double) +
                       2 * (size_t)bmax[2] * sizeof(double) + 64 * 84;
  lc_mem mem;
  if (lc_mem_alloc(&mem, total))
    return bw_fail(err, BW_ERR_NOMEM, "local: no memory for %zu bytes of scratch",
                   total);
  for (int b = 0; b < 2; b++) {
    for (int q = 0; q < NSUM; q++)
      if (F.use_sum[q]) F.sum[b][q] = lc_take(&mem, vol * sizeof(dd));
    for (int q = 0; q < NEXT; q++)
      if (F.use_ext[q]) F.ext[b][q] = lc_take(&mem, vol * sizeof(double));
  }
  F.rowa = lc_take(&mem, (size_t)bmax[2] * sizeof(double));
  F.rowb = lc_take(&mem, (size_t)bmax[2] * sizeof(double));
  F.pre = lc_take(&mem, vol * sizeof(dd));
  F.suf = lc_take(&mem, vol * sizeof(dd));
  double **rows[LC_ROW_ARRAYS];
  lc_row_arrays(&F.row, rows);
  for (int k = 0; k < LC_ROW_ARRAYS; k++)
    *rows[k] = lc_take(&mem, (size_t)tile[2] * sizeof(double));
  double *nxw = lc_take(&mem, (size_t)tile[2] * sizeof(double));
  double *nzy = lc_take(&mem, (size_t)(tile[0] * tile[1]) * sizeof(double));
  /* the moments of a tile, [x][rows] */
  lc_row res;
  memset(&res, 0, sizeof res);
  const size_t tvol = (size_t)((tile[0] * tile[1] + LC_PAD) * (tile[2] + LC_PAD));
  res.cnt = lc_take(&mem, tvol * sizeof(double));
  for (int s = 0; s < 2; s++) {
    if (F.use_sum[2 * s] && !g->no_means) {
      res.sum[s] = lc_take(&mem, tvol * sizeof(double));
      res.mean[s] = lc_take(&mem, tvol * sizeof(double));
    }
    if (F.use_sum[2 * s + 1]) res.m2[s] = lc_take(&mem, tvol * sizeof(double));
  }
  if (F.use_sum[4]) res.mab = lc_take(&mem, tvol * sizeof(double));
  lc_row rowmajor = res;
  {
    double **ra[LC_ROW_ARRAYS], **rt[LC_ROW_ARRAYS];
    lc_row_arrays(&res, ra);
    lc_row_arrays(&rowmajor, rt);
    for (int k = 0; k < LC_ROW_ARRAYS; k++)
      if (*ra[k]) *rt[k] = lc_take(&mem, tvol * sizeof(double));
  }

  ptrdiff_t t0[3];
  for (t0[0] = k0[0]; t0[0] < k0[0] + kn[0]; t0[0] += tile[0])
    for (t0[1] = k0[1]; t0[1] < k0[1] + kn[1]; t0[1] += tile[1])
      for (t0[2] = k0[2]; t0[2] < k0[2] + kn[2]; t0[2] += tile[2]) {
        ptrdiff_t tn[3], b0[3], bn[3];
        for (int d = 0; d < 3; d++) {
          tn[d] = k0[d] + kn[d] - t0[d] < tile[d] ? k0[d] + kn[d] - t0[d] : tile[d];
          b0[d] = lc_lo(g, d, t0[d]);
          bn[d] = lc_hi(g, d, t0[d] + tn[d] - 1) - b0[d] + 1;
        }
        load_box(g, &F, b0, bn);
        /* z: [1][bn0][bn1 bn2] (skipped where it maps planes one to one),
         * y: [tn0][bn1][bn2], then transposed to [bn2][tn0 tn1] so that x
         * runs across rows: [1][bn2][tn0 tn1] to [tn2][tn0 tn1] */
        int cur = 0, plain = g->dt == BW_F32;
        if (!(bn[0] == tn[0] && g->r[0] == 0)) {
          const lc_pass pz = {1, bn[0], bn[1] * bn[2], b0[0], t0[0], tn[0],
                              2 * g->r[0] + 1, g->n[0], g, 0};
          run_pass(g, &F, 0, cur, &pz, plain);
          cur = !cur;
          plain = 0;
        }
        const lc_pass py = {tn[0], bn[1], bn[2], b0[1], t0[1], tn[1],
                            2 * g->r[1] + 1, g->n[1], g, 1};
        run_pass(g, &F, 1, cur, &py, plain);
        cur = !cur;
        /* transposed rows padded off powers of two, which would put a
         * block's rows in one cache set */
        const ptrdiff_t m = tn[0] * tn[1], mp = m + LC_PAD;
        transpose_all(&F, cur, m, mp, bn[2]);
        cur = !cur;
        const lc_pass px = {1, bn[2], mp, b0[2], t0[2], tn[2], 2 * g->r[2] + 1, g->n[2], g, 2};
        run_pass(g, &F, 2, cur, &px, 0);
        cur = !cur;
        for (ptrdiff_t j = 0; j < tn[2]; j++)
          nxw[j] = (double)(lc_hi(g, 2, t0[2] + j) - lc_lo(g, 2, t0[2] + j) + 1);
        for (ptrdiff_t z = 0; z < tn[0]; z++)
          for (ptrdiff_t y = 0; y < tn[1]; y++) {
            const ptrdiff_t kz = t0[0] + z, ky = t0[1] + y;
            nzy[z * tn[1] + y] = (double)((lc_hi(g, 0, kz) - lc_lo(g, 0, kz) + 1) *
                                          (lc_hi(g, 1, ky) - lc_lo(g, 1, ky) + 1));
          }
        finish_tile(&F, cur, tn[2], m, mp, nxw, nzy, &res, g->no_means, g->corr_only, g->fill);
        if (g->corr_only) {
          transpose_d(res.mab, rowmajor.mab, tn[2], m, mp, tn[2] + LC_PAD);
          for (ptrdiff_t j = 0; j < m; j++) {
            F.row.r = rowmajor.mab + j * (tn[2] + LC_PAD);
            emit(ctx, t0[0] + j / tn[1], t0[1] + j % tn[1], t0[2], tn[2], &F.row);
          }
          continue;
        }
        double **ra[LC_ROW_ARRAYS], **rt[LC_ROW_ARRAYS], **rr[LC_ROW_ARRAYS];
        lc_row_arrays(&res, ra);
        lc_row_arrays(&rowmajor, rt);
        lc_row_arrays(&F.row, rr);
        for (int k = 0; k < LC_ROW_ARRAYS; k++)
          if (*ra[k]) transpose_d(*ra[k], *rt[k], tn[2], m, mp, tn[2] + LC_PAD);
        for (ptrdiff_t j = 0; j < m; j++) {
          for (int k = 0; k < LC_ROW_ARRAYS; k++)
            *rr[k] = *rt[k] ? *rt[k] + j * (tn[2] + LC_PAD) : NULL;
          emit(ctx, t0[0] + j / tn[1], t0[1] + j % tn[1], t0[2], tn[2], &F.row);
        }
      }
  lc_mem_free(&mem);
  return BW_OK;
}
