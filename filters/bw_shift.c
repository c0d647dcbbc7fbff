/*
 * Per-block displacement (bw_block_shift): parameters, the region map,
 * validation and, per block, Pearson r over every integer shift of the
 * search window, its maximum and the quadratic sub-pixel refinement.  See
 * bw_shift.h.
 *
 * Each block's r of every shift comes from the summed-area engine
 * (bw_shift_fast.c) or, for the blocks it leaves (integers spanning more
 * than 16 bits, non-finite floats), from the direct path here: the block
 * copied once (its pixels of A, and of B the block grown by the search
 * radius) into scratch as centred integers or, for floats, doubles minus
 * the block's first pixel; each shift then takes the five sums of its
 * clipped window in one pass over those rows.  Both sum in an order fixed
 * by the block, so a block gives the same bits whatever box it is computed
 * in.
 */
#include "bw_shift_internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void bw_shift_params_init(bw_shift_params *p, int ndim, const ptrdiff_t *block,
                          const ptrdiff_t *search) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->ndim = ndim;
  for (int i = 0; i < BW_MAX_DIMS; i++) {
    p->block[i] = !block ? BW_SHIFT_DEFAULT_BLOCK : i < ndim ? block[i] : 1;
    p->search[i] = !search ? BW_SHIFT_DEFAULT_SEARCH : i < ndim ? search[i] : 0;
  }
  p->use_fill = 0;
  p->fill = NAN;
}

bw_status bw_shift_params_check(const bw_shift_params *p, bw_error *err) {
  if (!p) return bw_fail(err, BW_ERR_NULL, "shift: params is NULL");
  if (p->ndim != 2 && p->ndim != 3)
    return bw_fail(err, BW_ERR_NDIM, "shift: params.ndim is %d, expected 2 or 3",
                   p->ndim);
  for (int i = 0; i < p->ndim; i++) {
    if (p->block[i] < 1)
      return bw_fail(err, BW_ERR_BLOCK, "shift: block extent %td along axis %d (< 1)",
                     p->block[i], i);
    if (p->search[i] < 0 || p->search[i] > BW_SHIFT_MAX_SEARCH)
      return bw_fail(err, BW_ERR_PARAM,
                     "shift: search radius %td along axis %d is outside [0, %d]",
                     p->search[i], i, BW_SHIFT_MAX_SEARCH);
  }
  return BW_OK;
}

bw_status bw_shift_output_shape(const bw_shift_params *p,
                                const ptrdiff_t *image_shape,
                                ptrdiff_t *out_shape, bw_error *err) {
  bw_status s = bw_shift_params_check(p, err);
  if (s) return s;
  if (!image_shape || !out_shape)
    return bw_fail(err, BW_ERR_NULL, "shift output shape: NULL shape pointer");
  for (int i = 0; i < p->ndim; i++)
    if (image_shape[i] < 1)
      return bw_fail(err, BW_ERR_SHAPE, "shift: image extent %td along axis %d (< 1)",
                     image_shape[i], i);
  for (int i = 0; i < p->ndim; i++)
    out_shape[i] = (image_shape[i] + p->block[i] - 1) / p->block[i];
  return BW_OK;
}

static void map_region(const bw_shift_params *p, const ptrdiff_t *n,
                       const bw_region *out, bw_region *ar, bw_region *br) {
  memset(ar, 0, sizeof *ar);
  memset(br, 0, sizeof *br);
  for (int i = 0; i < p->ndim; i++) {
    const ptrdiff_t lo = out->start[i] * p->block[i];
    ptrdiff_t hi = (out->start[i] + out->size[i]) * p->block[i];
    if (hi > n[i]) hi = n[i];
    ar->start[i] = lo;
    ar->size[i] = hi - lo;
    const ptrdiff_t blo = lo - p->search[i] < 0 ? 0 : lo - p->search[i];
    const ptrdiff_t bhi = hi + p->search[i] > n[i] ? n[i] : hi + p->search[i];
    br->start[i] = blo;
    br->size[i] = bhi - blo;
  }
}

bw_status bw_shift_input_region(const bw_shift_params *p,
                                const ptrdiff_t *image_shape,
                                const bw_region *out_region, bw_region *a_region,
                                bw_region *b_region, bw_error *err) {
  ptrdiff_t on[BW_MAX_DIMS];
  bw_status s = bw_shift_output_shape(p, image_shape, on, err);
  if (s) return s;
  if (!out_region) return bw_fail(err, BW_ERR_NULL, "shift input region: NULL region");
  if ((s = bw_check_box("shift", p->ndim, on, out_region, "output region", "output", err))) return s;
  bw_region ar, br;
  map_region(p, image_shape, out_region, &ar, &br);
  if (a_region) *a_region = ar;
  if (b_region) *b_region = br;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Sums over one shifted window                                             */
/* ------------------------------------------------------------------------ */

/* The rows of one shift: @a and @b at the window's first pixel, row
 * strides (elements) per plane and row, extents e[3]. */
typedef struct sh_win {
  ptrdiff_t az, ay, bz, by, e[3];
} sh_win;

/* Integer sums of centred values: int64 for 8- and 16-bit inputs (|v| <=
 * 2^15, so products fit int32 and a block of up to 2^32 pixels sums them in
 * int64), 128-bit for 32-bit inputs (|v| <= 2^31, products fit int64). */
#define SH_INT_SUMS(NAME, ACC)                                               \
  static void NAME(const int64_t *a, const int64_t *b, const sh_win *w,     \
                   i128 *out) {                                              \
    ACC sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;                           \
    for (ptrdiff_t z = 0; z < w->e[0]; z++)                                  \
      for (ptrdiff_t y = 0; y < w->e[1]; y++) {                              \
        const int64_t *restrict ar = a + z * w->az + y * w->ay;              \
        const int64_t *restrict br = b + z * w->bz + y * w->by;              \
        for (ptrdiff_t x = 0; x < w->e[2]; x++) {                            \
          const int64_t u = ar[x], v = br[x];                                \
          sa += u, sb += v;                                                  \
          saa += (ACC)(u * u), sbb += (ACC)(v * v), sab += (ACC)(u * v);     \
        }                                                                    \
      }                                                                      \
    out[0] = sa, out[1] = sb, out[2] = saa, out[3] = sbb, out[4] = sab;      \
  }
SH_INT_SUMS(sums_i64, int64_t)
SH_INT_SUMS(sums_i128, i128)
#undef SH_INT_SUMS

/* Pearson r of doubles over a window, NaN when undefined; constant sides
 * are found by their extremes, exactly. */
static double r_flt(const double *a, const double *b, const sh_win *w) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  double amin = a[0], amax = a[0], bmin = b[0], bmax = b[0];
  double n = 0;
  for (ptrdiff_t z = 0; z < w->e[0]; z++)
    for (ptrdiff_t y = 0; y < w->e[1]; y++) {
      const double *restrict ar = a + z * w->az + y * w->ay;
      const double *restrict br = b + z * w->bz + y * w->by;
      for (ptrdiff_t x = 0; x < w->e[2]; x++) {
        const double u = ar[x], v = br[x];
        sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v;
        amin = u < amin ? u : amin, amax = u > amax ? u : amax;
        bmin = v < bmin ? v : bmin, bmax = v > bmax ? v : bmax;
      }
      n += (double)w->e[2];
    }
  if (n < 2 || !(amin < amax) || !(bmin < bmax)) return NAN;
  const double ma = saa - sa * (sa / n), mb = sbb - sb * (sb / n);
  const double mab = sab - sa * (sb / n);
  if (!(ma > 0) || !(mb > 0)) return NAN;
  const double v = mab / (sqrt(ma) * sqrt(mb));
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

/* ------------------------------------------------------------------------ */
/* The driver                                                               */
/* ------------------------------------------------------------------------ */


/* Copies box (lo, e) of input s into buf (C order), centred integers or
 * doubles minus @k. */
static void load_box(const sh_call *c, int s, const ptrdiff_t *lo,
                     const ptrdiff_t *e, void *buf, double k) {
  const int64_t cen = c->dt == BW_U8 ? 128 : c->dt == BW_U16 ? 32768
                    : c->dt == BW_U32 ? 2147483648ll : 0;
  size_t i = 0;
  for (ptrdiff_t z = 0; z < e[0]; z++)
    for (ptrdiff_t y = 0; y < e[1]; y++) {
      const char *p = c->base[s] + (lo[0] + z - c->i0[s][0]) * c->str[s][0] +
                      (lo[1] + y - c->i0[s][1]) * c->str[s][1] +
                      (lo[2] - c->i0[s][2]) * c->str[s][2];
      for (ptrdiff_t x = 0; x < e[2]; x++, i++, p += c->str[s][2]) {
        const double v = bw_load_double(p, c->dt);
        if (c->is_flt)
          ((double *)buf)[i] = v - k;
        else
          ((int64_t *)buf)[i] = (int64_t)v - cen;
      }
    }
}

/* The sub-pixel offset of a parabola through rm, r0, rp (0 when it does
 * not bend down or a neighbour is undefined). */
static double parabola(double rm, double r0, double rp) {
  const double den = rm - 2 * r0 + rp;
  if (!(den < 0)) return 0;
  double d = (rm - rp) / (2 * den);
  return d > 0.5 ? 0.5 : d < -0.5 ? -0.5 : d;
}

/* The value the quadratic is fitted to: -acos(r)^2, which is exactly
 * quadratic in the shift for one sinusoid in any direction (r = cos(w.(s -
 * d))), so textures of few frequencies are refined with little bias;
 * about 2 (r - 1) near the peak. */
static double peak_value(double r) {
  const double a = acos(r > 1 ? 1 : r < -1 ? -1 : r);
  return isnan(r) ? r : -a * a;
}

/* Solves A x = g for the m x m symmetric A (row stride 3) by Cholesky;
 * returns 0 when A is not positive definite. */
static int solve_spd(int m, double A[3][3], const double *g, double *x) {
  double L[3][3] = {{0}};
  for (int i = 0; i < m; i++)
    for (int j = 0; j <= i; j++) {
      double v = A[i][j];
      for (int k = 0; k < j; k++) v -= L[i][k] * L[j][k];
      if (i == j) {
        if (!(v > 0)) return 0;
        L[i][i] = sqrt(v);
      } else {
        L[i][j] = v / L[j][j];
      }
    }
  double y[3];
  for (int i = 0; i < m; i++) {
    double v = g[i];
    for (int k = 0; k < i; k++) v -= L[i][k] * y[k];
    y[i] = v / L[i][i];
  }
  for (int i = m - 1; i >= 0; i--) {
    double v = y[i];
    for (int k = i + 1; k < m; k++) v -= L[k][i] * x[k];
    x[i] = v / L[i][i];
  }
  return 1;
}

/* The sub-pixel offsets off[3] of the peak at index @best of r (strides
 * @stride per axis) along the axes flagged in @ok: the maximum of the
 * quadratic through the peak's neighbourhood (gradient and second
 * differences, mixed ones included, so that a peak tilted between the axes
 * is not pulled towards them); where that quadratic does not bend down or a
 * neighbour is undefined, the parabola along each axis alone (all on
 * peak_value(r)). */
static void refine(const double *r, ptrdiff_t best, const ptrdiff_t *stride,
                   const int *ok, double *off) {
  int ax[3], m = 0, defined = 1;
  for (int d = 0; d < 3; d++) {
    off[d] = 0;
    if (ok[d]) ax[m++] = d;
  }
  if (m == 0) return;
  double H[3][3], g[3], x[3];
#define SH_Q(t) peak_value(r[t])
  const double r0 = SH_Q(best);
  for (int i = 0; i < m; i++) {
    const ptrdiff_t si = stride[ax[i]];
    const double rp = SH_Q(best + si), rm = SH_Q(best - si);
    g[i] = (rp - rm) / 2;
    H[i][i] = -(rp - 2 * r0 + rm);
    for (int j = 0; j < i; j++) {
      const ptrdiff_t sj = stride[ax[j]];
      H[i][j] = H[j][i] = -(SH_Q(best + si + sj) - SH_Q(best + si - sj) -
                            SH_Q(best - si + sj) + SH_Q(best - si - sj)) / 4;
    }
  }
#undef SH_Q
  for (int i = 0; i < m; i++)
    for (int j = 0; j <= i; j++) defined &= !isnan(H[i][j]) && !isnan(g[i]);
  if (defined && solve_spd(m, H, g, x)) {
    for (int i = 0; i < m; i++) off[ax[i]] = x[i] > 1 ? 1 : x[i] < -1 ? -1 : x[i];
    return;
  }
  for (int i = 0; i < m; i++) {
    const ptrdiff_t si = stride[ax[i]];
    off[ax[i]] = parabola(peak_value(r[best - si]), r0, peak_value(r[best + si]));
  }
}

/* The direct path: r of every shift of the block [lo, hi) into c->r, one
 * pass of five sums over the block per shift. */
static void direct_r(sh_call *c, const ptrdiff_t *lo, const ptrdiff_t *hi,
                     const ptrdiff_t *blo, const ptrdiff_t *be, const ptrdiff_t *ae) {
  double ka = 0, kb = 0;
  if (c->is_flt) {
    const ptrdiff_t one[3] = {1, 1, 1};
    load_box(c, 0, lo, one, &ka, 0);
    load_box(c, 1, lo, one, &kb, 0);
  }
  load_box(c, 0, lo, ae, c->abuf, ka);
  load_box(c, 1, blo, be, c->bbuf, kb);
  ptrdiff_t t = 0;
  ptrdiff_t sv[3];
  for (sv[0] = -c->s[0]; sv[0] <= c->s[0]; sv[0]++)
    for (sv[1] = -c->s[1]; sv[1] <= c->s[1]; sv[1]++)
      for (sv[2] = -c->s[2]; sv[2] <= c->s[2]; sv[2]++, t++) {
        /* pairs p in the block with p + s in the image */
        sh_win w;
        ptrdiff_t p0[3], aoff = 0, boff = 0;
        int64_t n = 1;
        for (int d = 0; d < 3; d++) {
          p0[d] = lo[d] > -sv[d] ? lo[d] : -sv[d];
          const ptrdiff_t p1 = hi[d] < c->n[d] - sv[d] ? hi[d] : c->n[d] - sv[d];
          w.e[d] = p1 > p0[d] ? p1 - p0[d] : 0;
          n *= w.e[d];
        }
        w.ay = ae[2], w.az = ae[1] * ae[2], w.by = be[2], w.bz = be[1] * be[2];
        aoff = (p0[0] - lo[0]) * w.az + (p0[1] - lo[1]) * w.ay + (p0[2] - lo[2]);
        boff = (p0[0] + sv[0] - blo[0]) * w.bz + (p0[1] + sv[1] - blo[1]) * w.by +
               (p0[2] + sv[2] - blo[2]);
        double r = NAN;
        if (n >= 2) {
          if (c->is_flt) {
            r = r_flt((const double *)c->abuf + aoff, (const double *)c->bbuf + boff, &w);
          } else {
            i128 sums[5];
            (c->wide ? sums_i128 : sums_i64)((const int64_t *)c->abuf + aoff,
                                             (const int64_t *)c->bbuf + boff, &w, sums);
            r = sh_r_int(sums, n);
          }
        }
        c->r[t] = r;
      }
}

/* Whether block [lo, hi) of A equals B moved by shift @sv pixel for pixel
 * over its pairs (p, p + sv inside the image): a perfect match, whose
 * integer shift is exact whatever rounding did to r. */
static int pairs_equal(const sh_call *c, const ptrdiff_t *lo, const ptrdiff_t *hi,
                       const ptrdiff_t *sv) {
  ptrdiff_t p0[3], p1[3];
  for (int d = 0; d < 3; d++) {
    p0[d] = lo[d] > -sv[d] ? lo[d] : -sv[d];
    p1[d] = hi[d] < c->n[d] - sv[d] ? hi[d] : c->n[d] - sv[d];
  }
  for (ptrdiff_t z = p0[0]; z < p1[0]; z++)
    for (ptrdiff_t y = p0[1]; y < p1[1]; y++)
      for (ptrdiff_t x = p0[2]; x < p1[2]; x++)
        if (bw_load_double(sh_at(c, 0, z, y, x), c->dt) !=
            bw_load_double(sh_at(c, 1, z + sv[0], y + sv[1], x + sv[2]), c->dt))
          return 0;
  return 1;
}

ptrdiff_t bw_shift_pick(const double *r, const ptrdiff_t *s) {
  const ptrdiff_t ns[3] = {2 * s[0] + 1, 2 * s[1] + 1, 2 * s[2] + 1};
  double top = NAN;
  for (ptrdiff_t t = 0; t < ns[0] * ns[1] * ns[2]; t++)
    if (!isnan(r[t]) && !(r[t] <= top)) top = r[t];
  if (isnan(top)) return -1;
  ptrdiff_t best = -1, len = 0, t = 0;
  for (ptrdiff_t z = -s[0]; z <= s[0]; z++)
    for (ptrdiff_t y = -s[1]; y <= s[1]; y++)
      for (ptrdiff_t x = -s[2]; x <= s[2]; x++, t++) {
        const ptrdiff_t l = z * z + y * y + x * x;
        if (r[t] >= top - SH_TIE && (best < 0 || l < len)) best = t, len = l;
      }
  return best;
}

/* Block k: r over every shift, then the results into res[0..2] (shift per
 * axis), res[3] (peak), res[4] (r at zero shift). */
static void one_block(sh_call *c, const ptrdiff_t *k, double fill, double *res) {
  ptrdiff_t lo[3], hi[3], blo[3], be[3], ae[3], ns[3];
  for (int d = 0; d < 3; d++) {
    lo[d] = k[d] * c->blk[d];
    hi[d] = lo[d] + c->blk[d] < c->n[d] ? lo[d] + c->blk[d] : c->n[d];
    blo[d] = lo[d] - c->s[d] < 0 ? 0 : lo[d] - c->s[d];
    be[d] = (hi[d] + c->s[d] > c->n[d] ? c->n[d] : hi[d] + c->s[d]) - blo[d];
    ae[d] = hi[d] - lo[d];
    ns[d] = 2 * c->s[d] + 1;
  }
  if (!(c->fast && bw_shift_fast_block(c, c->fast, lo, ae))) direct_r(c, lo, hi, blo, be, ae);
  const ptrdiff_t best = bw_shift_pick(c->r, c->s);
  const ptrdiff_t zero = (c->s[0] * ns[1] + c->s[1]) * ns[2] + c->s[2];
  res[4] = isnan(c->r[zero]) ? fill : c->r[zero];
  if (best < 0) {
    res[0] = res[1] = res[2] = res[3] = fill;
    return;
  }
  res[3] = c->r[best];
  const ptrdiff_t at[3] = {best / (ns[1] * ns[2]), best / ns[2] % ns[1], best % ns[2]};
  const ptrdiff_t stride[3] = {ns[1] * ns[2], ns[2], 1};
  /* A peak tilted between the axes can put the best integer shift next to
   * the one nearest the maximum: when the quadratic points more than half a
   * pixel away, it is fitted again once around that neighbour. */
  ptrdiff_t cen[3] = {at[0], at[1], at[2]};
  double off[3] = {0, 0, 0};
  /* A perfect match is taken as exact, with no refinement: B's pixels are
   * A's, moved (floats too, whose sums' rounding leaves r short of 1), or,
   * for integers, whose numerators are exact, r is 1 to the rounding of
   * its last division and square roots (B an offset of A, moved). */
  const ptrdiff_t sv[3] = {at[0] - c->s[0], at[1] - c->s[1], at[2] - c->s[2]};
  const int perfect = res[3] >= 1 - 1e-9 &&
                      ((!c->is_flt && res[3] >= 1 - 4 * DBL_EPSILON) || pairs_equal(c, lo, hi, sv));
  for (int pass = perfect ? 2 : 0; pass < 2; pass++) {
    int ok[3], moved = 0;
    const ptrdiff_t t0 = (cen[0] * ns[1] + cen[1]) * ns[2] + cen[2];
    /* an axis along which r is flat (both neighbours tie) has no peak to
     * refine: the shortest shift stands */
    for (int d = 0; d < 3; d++)
      ok[d] = cen[d] > 0 && cen[d] < 2 * c->s[d] &&
              !(fabs(c->r[t0 + stride[d]] - c->r[t0]) <= SH_TIE &&
                fabs(c->r[t0 - stride[d]] - c->r[t0]) <= SH_TIE);
    refine(c->r, t0, stride, ok, off);
    if (pass == 1) break;
    ptrdiff_t next[3] = {cen[0], cen[1], cen[2]};
    for (int d = 0; d < 3; d++)
      if (off[d] > 0.5 || off[d] < -0.5) {
        next[d] += off[d] > 0 ? 1 : -1;
        moved |= next[d] > 0 && next[d] < 2 * c->s[d];
      }
    const ptrdiff_t t1 = (next[0] * ns[1] + next[1]) * ns[2] + next[2];
    if (!moved || isnan(c->r[t1])) break;
    for (int d = 0; d < 3; d++) cen[d] = next[d];
  }
  for (int d = 0; d < 3; d++) {
    const double o = off[d] > 0.5 ? 0.5 : off[d] < -0.5 ? -0.5 : off[d];
    res[d] = (double)(cen[d] - c->s[d]) + o;
  }
}

static void put_out(const bw_view *v, int nd, const ptrdiff_t *pos, double x) {
  char *q = (char *)v->data;
  for (int d = 0; d < nd; d++) q += pos[3 - nd + d] * v->strides[d];
  if (v->dtype == BW_F32) {
    const float f = (float)x;
    memcpy(q, &f, sizeof f);
  } else {
    memcpy(q, &x, sizeof x);
  }
}

bw_status bw_block_shift(const bw_view *a, const ptrdiff_t *a_start,
                         const bw_view *b, const ptrdiff_t *b_start,
                         const ptrdiff_t *image_shape, const bw_shift_params *p,
                         const bw_shift_outputs *out, const ptrdiff_t *out_start,
                         bw_error *err) {
  bw_status st = bw_shift_params_check(p, err);
  if (st) return st;
  const int nd = p->ndim;
  if ((st = bw_check_view(a, nd, "shift: input a", err))) return st;
  if ((st = bw_check_view(b, nd, "shift: input b", err))) return st;
  if (b->dtype != a->dtype)
    return bw_fail(err, BW_ERR_DTYPE, "shift: inputs differ in dtype: a is %s, b is %s",
                   bw_dtype_name(a->dtype), bw_dtype_name(b->dtype));
  if (!out) return bw_fail(err, BW_ERR_NULL, "shift: outputs is NULL");
  const bw_view *views[BW_MAX_DIMS + 2];
  const char *names[BW_MAX_DIMS + 2] = {"shift[0]", "shift[1]", "shift[2]", "peak", "zero"};
  int nv = 0, first = -1;
  for (int i = 0; i < nd; i++) views[i] = &out->shift[i];
  views[nd] = &out->peak;
  views[nd + 1] = &out->zero;
  if (nd == 2) names[2] = "peak", names[3] = "zero";
  char sa[64], sb[64];
  for (int i = 0; i < nd + 2; i++) {
    const bw_view *v = views[i];
    if (!v->data) continue;
    nv++;
    if (first < 0) first = i;
    if (v->dtype != BW_F32 && v->dtype != BW_F64)
      return bw_fail(err, BW_ERR_OUTPUT, "shift: output %s: dtype %s, expected f32 or f64",
                     names[i], bw_dtype_name(v->dtype));
    if (v->ndim != nd)
      return bw_fail(err, BW_ERR_OUTPUT, "shift: output %s: %d axes, expected %d",
                     names[i], v->ndim, nd);
    for (int d = 0; d < nd; d++)
      if (v->shape[d] != views[first]->shape[d])
        return bw_fail(err, BW_ERR_OUTPUT, "shift: output %s: shape %s, but %s is %s",
                       names[i], bw_format_shape(sa, sizeof sa, nd, v->shape),
                       names[first], bw_format_shape(sb, sizeof sb, nd, views[first]->shape));
  }
  if (nv == 0) return bw_fail(err, BW_ERR_PARAM, "shift: no outputs requested");
  ptrdiff_t shape[BW_MAX_DIMS], on[BW_MAX_DIMS];
  for (int d = 0; d < nd; d++) {
    if (!image_shape && ((a_start && a_start[d]) || (b_start && b_start[d])))
      return bw_fail(err, BW_ERR_REGION,
                     "shift: a_start or b_start is not zero but no image_shape is given");
    shape[d] = image_shape ? image_shape[d] : a->shape[d];
  }
  if ((st = bw_shift_output_shape(p, shape, on, err))) return st;
  bw_region outr, ar, br, need_a, need_b;
  memset(&outr, 0, sizeof outr);
  memset(&ar, 0, sizeof ar);
  memset(&br, 0, sizeof br);
  for (int d = 0; d < nd; d++) {
    outr.start[d] = out_start ? out_start[d] : 0;
    outr.size[d] = views[first]->shape[d];
    ar.start[d] = a_start ? a_start[d] : 0;
    ar.size[d] = a->shape[d];
    br.start[d] = b_start ? b_start[d] : 0;
    br.size[d] = b->shape[d];
  }
  if ((st = bw_check_box("shift", nd, on, &outr, "output box", "output", err))) return st;
  if ((st = bw_check_box("shift", nd, shape, &ar, "box of a", "image", err))) return st;
  if ((st = bw_check_box("shift", nd, shape, &br, "box of b", "image", err))) return st;
  map_region(p, shape, &outr, &need_a, &need_b);
  const bw_region *have[2] = {&ar, &br}, *need[2] = {&need_a, &need_b};
  for (int s = 0; s < 2; s++)
    for (int d = 0; d < nd; d++)
      if (need[s]->start[d] < have[s]->start[d] ||
          need[s]->start[d] + need[s]->size[d] > have[s]->start[d] + have[s]->size[d])
        return bw_fail(err, BW_ERR_REGION,
                       "shift: the box of %c [%td, %td) along axis %d does not hold "
                       "[%td, %td), the pixels the output box needs "
                       "(bw_shift_input_region)",
                       "ab"[s], have[s]->start[d], have[s]->start[d] + have[s]->size[d],
                       d, need[s]->start[d], need[s]->start[d] + need[s]->size[d]);

  sh_call c;
  memset(&c, 0, sizeof c);
  ptrdiff_t k0[3] = {0, 0, 0}, kn[3] = {1, 1, 1};
  size_t ablk = 1, bblk = 1, nshift = 1;
  for (int d = 0; d < 3; d++) c.n[d] = 1, c.blk[d] = 1;
  for (int d = 0; d < nd; d++) {
    const int j = 3 - nd + d;
    c.n[j] = shape[d];
    c.blk[j] = p->block[d];
    c.s[j] = p->search[d];
    c.str[0][j] = a->strides[d];
    c.str[1][j] = b->strides[d];
    c.i0[0][j] = ar.start[d];
    c.i0[1][j] = br.start[d];
    k0[j] = outr.start[d];
    kn[j] = outr.size[d];
  }
  for (int d = 0; d < 3; d++) {
    const ptrdiff_t e = c.blk[d] < c.n[d] ? c.blk[d] : c.n[d];
    const ptrdiff_t eb = e + 2 * c.s[d] < c.n[d] ? e + 2 * c.s[d] : c.n[d];
    if ((size_t)eb > ((size_t)1 << 32) / bblk)
      return bw_fail(err, BW_ERR_RANGE, "shift: blocks and search windows beyond 2^32 pixels");
    ablk *= (size_t)e;
    bblk *= (size_t)eb;
    nshift *= (size_t)(2 * c.s[d] + 1);
  }
  c.base[0] = (const char *)a->data;
  c.base[1] = (const char *)b->data;
  c.dt = a->dtype;
  c.is_flt = c.dt == BW_F32 || c.dt == BW_F64;
  c.wide = c.dt == BW_U32 || c.dt == BW_I32;
  const size_t total = (ablk + bblk + nshift) * 8;
  char *mem = malloc(total);
  if (!mem) return bw_fail(err, BW_ERR_NOMEM, "shift: no memory for %zu bytes of scratch", total);
  c.abuf = mem;
  c.bbuf = mem + ablk * 8;
  c.r = (double *)(void *)(mem + (ablk + bblk) * 8);
  c.fast = bw_shift_fast_new(&c); /* NULL: every block by the direct path */
  const double fill = p->use_fill ? p->fill : NAN;
  ptrdiff_t k[3];
  for (k[0] = k0[0]; k[0] < k0[0] + kn[0]; k[0]++)
    for (k[1] = k0[1]; k[1] < k0[1] + kn[1]; k[1]++)
      for (k[2] = k0[2]; k[2] < k0[2] + kn[2]; k[2]++) {
        double res[5];
        one_block(&c, k, fill, res);
        const ptrdiff_t pos[3] = {k[0] - k0[0], k[1] - k0[1], k[2] - k0[2]};
        for (int i = 0; i < nd; i++)
          if (out->shift[i].data) put_out(&out->shift[i], nd, pos, res[3 - nd + i]);
        if (out->peak.data) put_out(&out->peak, nd, pos, res[3]);
        if (out->zero.data) put_out(&out->zero, nd, pos, res[4]);
      }
  bw_shift_fast_free(c.fast);
  free(mem);
  return BW_OK;
}
