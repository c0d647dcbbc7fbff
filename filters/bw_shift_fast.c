/*
 * The summed-area engine of per-block displacement: r of every shift of a
 * block from
 *   - summed-area tables of the block of A and of B's search region (the
 *     block grown by the search, B outside the image taken as zero), so the
 *     sums of a, a^2, b, b^2 over the pairs of any shift are a few lookups;
 *   - the cross sums, sum a(p) b(p + s) for every s, from an exact kernel:
 *     integers centred to 16 bits and multiplied-added in pairs (pmaddwd)
 *     into 32-bit lanes that are widened to 64 bits before they can
 *     overflow; floats in double, in a vector order fixed by the code (not
 *     by the instruction set), so every clone gives the same bits.
 * The cost per block is one pass of the kernel per shift over the block
 * (a handful of instructions per 32 pixels) plus work proportional to the
 * search region, not the five sums of a pass per shift of the direct
 * path.  Blocks whose integers span more than 16 bits, and float blocks
 * holding NaN or infinities, are left to the direct path (bw_shift.c).
 */
#include "bw_shift_internal.h"

#include <stdlib.h>
#include <string.h>



void bw_shift_fast_free(sh_fast *f) {
  if (!f) return;
  free(f->rawa), free(f->rawb), free(f->fa), free(f->fb);
  free(f->a16), free(f->b16), free(f->b16h), free(f->ad), free(f->bd);
  for (int i = 0; i < 4; i++) free(f->sati[i]), free(f->satf[i]);
  for (int s = 0; s < 2; s++)
    for (int d = 0; d < 3; d++) free(f->satd[s][d]);
  free(f->sabi), free(f->sabh), free(f->sabf), free(f->part), free(f->state);
  free(f->tf[0]), free(f->tf[1]);
  free(f);
}


static void *alloc_or_flag(size_t n, int *bad) {
  void *p = n ? malloc(n) : NULL;
  if (n && !p) *bad = 1;
  return p;
}

sh_fast *bw_shift_fast_new(const sh_call *c) {
  sh_fast *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  size_t na = 1, np = 1, sa = 1, sp = 1, ns = 1;
  for (int d = 0; d < 3; d++) {
    f->ae[d] = c->blk[d] < c->n[d] ? c->blk[d] : c->n[d];
    f->pe[d] = f->ae[d] + 2 * c->s[d];
    na *= (size_t)f->ae[d], np *= (size_t)f->pe[d];
    sa *= (size_t)f->ae[d] + 1, sp *= (size_t)f->pe[d] + 1;
    ns *= (size_t)(2 * c->s[d] + 1);
  }
  if (np > ((size_t)1 << 28)) {
    free(f);
    return NULL;
  }
  const ptrdiff_t aw = round_up(f->ae[2], SH_W), bs = aw + 2 * c->s[2] + SH_W;
  const size_t arows = (size_t)(f->ae[0] * f->ae[1]), brows = (size_t)(f->pe[0] * f->pe[1]);
  const size_t a_el = arows * (size_t)aw + SH_W, b_el = brows * (size_t)bs + 2 * SH_W;
  int bad = 0;
  if (c->is_flt) {
    f->fa = alloc_or_flag(na * sizeof(double), &bad);
    f->fb = alloc_or_flag(np * sizeof(double), &bad);
    f->ad = alloc_or_flag(a_el * sizeof(double), &bad);
    f->bd = alloc_or_flag(b_el * sizeof(double), &bad);
    for (int i = 0; i < 4; i++) f->satf[i] = alloc_or_flag((i < 2 ? sa : sp) * sizeof(double), &bad);
    for (int s = 0; s < 2; s++)
      for (int d = 0; d < 3; d++) f->satd[s][d] = alloc_or_flag((s ? sp : sa) * sizeof(double), &bad);
    f->sabf = alloc_or_flag(ns * sizeof(double), &bad);
    f->tf[0] = alloc_or_flag(ns * sizeof(double), &bad);
    f->tf[1] = alloc_or_flag(ns * sizeof(double), &bad);
    f->state = alloc_or_flag(ns, &bad);
  } else {
    f->rawa = alloc_or_flag((na + (size_t)f->pe[2]) * sizeof(int64_t), &bad);
    f->rawb = alloc_or_flag(np * sizeof(int64_t), &bad);
    f->a16 = alloc_or_flag(a_el * sizeof(int16_t), &bad);
    f->b16 = alloc_or_flag(b_el * sizeof(int16_t), &bad);
    f->b16h = alloc_or_flag(b_el * sizeof(int16_t), &bad);
    for (int i = 0; i < 4; i++) f->sati[i] = alloc_or_flag((i < 2 ? sa : sp) * sizeof(int64_t), &bad);
    f->sabi = alloc_or_flag(ns * sizeof(int64_t), &bad);
    f->sabh = alloc_or_flag(ns * sizeof(int64_t), &bad);
    f->part = alloc_or_flag(ns * sizeof(int64_t), &bad);
    f->state = alloc_or_flag(ns, &bad);
  }
  if (bad) {
    bw_shift_fast_free(f);
    return NULL;
  }
  bw_shift_kernels(2 * c->s[2] + 1, &f->x16, &f->xf, &f->vw, &f->g);
  return f;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* Row of w pixels of input s at image (z, y, x0), as int64 or double. */
#define SH_ROW(T)                                                            \
  if (sx == (ptrdiff_t)sizeof(T)) {                                          \
    const T *restrict q = (const T *)(const void *)p;                        \
    for (ptrdiff_t i = 0; i < w; i++) out[i] = (int64_t)q[i];                \
  } else {                                                                   \
    for (ptrdiff_t i = 0; i < w; i++) {                                      \
      T v;                                                                   \
      memcpy(&v, p + i * sx, sizeof v);                                      \
      out[i] = (int64_t)v;                                                   \
    }                                                                        \
  }                                                                          \
  break;
BW_CLONES static void row_int_dt(const char *p, ptrdiff_t sx, bw_dtype dt, ptrdiff_t w,
                                 int64_t *restrict out) {
  switch (dt) {
  case BW_U8: SH_ROW(uint8_t)
  case BW_I8: SH_ROW(int8_t)
  case BW_U16: SH_ROW(uint16_t)
  case BW_I16: SH_ROW(int16_t)
  case BW_U32: SH_ROW(uint32_t)
  case BW_I32: SH_ROW(int32_t)
  default: break;
  }
}
#undef SH_ROW

static void row_int(const sh_call *c, int s, ptrdiff_t z, ptrdiff_t y, ptrdiff_t x0,
                    ptrdiff_t w, int64_t *restrict out) {
  row_int_dt(sh_at(c, s, z, y, x0), c->str[s][2], c->dt, w, out);
}

/* *mn = min(*mn, v...), *mx likewise. */
BW_CLONES static void minmax(const int64_t *restrict v, ptrdiff_t n, int64_t *mn,
                             int64_t *mx) {
  int64_t a = *mn, b = *mx;
  for (ptrdiff_t i = 0; i < n; i++) a = v[i] < a ? v[i] : a, b = v[i] > b ? v[i] : b;
  *mn = a, *mx = b;
}

static void row_flt(const sh_call *c, int s, ptrdiff_t z, ptrdiff_t y, ptrdiff_t x0,
                    ptrdiff_t w, double *restrict out) {
  const char *p = sh_at(c, s, z, y, x0);
  const ptrdiff_t sx = c->str[s][2];
  if (c->dt == BW_F32)
    for (ptrdiff_t i = 0; i < w; i++) {
      float v;
      memcpy(&v, p + i * sx, sizeof v);
      out[i] = v;
    }
  else
    for (ptrdiff_t i = 0; i < w; i++) memcpy(&out[i], p + i * sx, sizeof(double));
}

/* The part of the search region (padded coordinates) inside the image:
 * [i0, i1) per axis. */
static void region_inside(const sh_call *c, const ptrdiff_t *lo, const ptrdiff_t *ae,
                          ptrdiff_t *i0, ptrdiff_t *i1) {
  for (int d = 0; d < 3; d++) {
    const ptrdiff_t g0 = lo[d] - c->s[d], g1 = lo[d] + ae[d] + c->s[d];
    i0[d] = (g0 < 0 ? 0 : g0) - g0;
    i1[d] = (g1 > c->n[d] ? c->n[d] : g1) - g0;
  }
}

/* ------------------------------------------------------------------------ */
/* Summed-area tables                                                       */
/* ------------------------------------------------------------------------ */

/* In place: T (extents e + 1 per axis, the first plane, row and column
 * zero, the rest holding values) becomes its summed-area table. */
#define SH_SAT(NAME, T)                                                      \
  static void NAME(T *restrict s, const ptrdiff_t *e) {                      \
    const ptrdiff_t nx = e[2] + 1, ny = e[1] + 1, pl = nx * ny;              \
    for (ptrdiff_t z = 1; z <= e[0]; z++)                                    \
      for (ptrdiff_t y = 1; y <= e[1]; y++) {                                \
        T *r = s + z * pl + y * nx;                                          \
        for (ptrdiff_t x = 1; x <= e[2]; x++) r[x] += r[x - 1];              \
      }                                                                      \
    for (ptrdiff_t z = 1; z <= e[0]; z++)                                    \
      for (ptrdiff_t y = 2; y <= e[1]; y++) {                                \
        T *r = s + z * pl + y * nx;                                          \
        const T *q = r - nx;                                                 \
        for (ptrdiff_t x = 1; x <= e[2]; x++) r[x] += q[x];                  \
      }                                                                      \
    for (ptrdiff_t z = 2; z <= e[0]; z++) {                                  \
      T *r = s + z * pl;                                                     \
      const T *q = r - pl;                                                   \
      for (ptrdiff_t i = nx; i < pl; i++) r[i] += q[i];                      \
    }                                                                        \
  }

SH_SAT(sat_f, double)
#undef SH_SAT

/* Index of (z, y, x) (values, 0-based) in a table of extents e + 1. */
static inline size_t sat_at(const ptrdiff_t *e, ptrdiff_t z, ptrdiff_t y, ptrdiff_t x) {
  return (size_t)(((z + 1) * (e[1] + 1) + y + 1) * (e[2] + 1) + x + 1);
}

static void sat_clear(void *s, const ptrdiff_t *e, size_t es) {
  memset(s, 0, (size_t)((e[0] + 1) * (e[1] + 1) * (e[2] + 1)) * es);
}

/* Streaming tables of v and v^2 over extents e, row by row: starts a
 * table pair (zero borders), then adds row (z, y) of values v (e[2] of
 * them), in order. */
static void sat2_start(int64_t *s1, int64_t *s2, const ptrdiff_t *e) {
  const ptrdiff_t nx = e[2] + 1, pl = nx * (e[1] + 1);
  memset(s1, 0, (size_t)pl * sizeof *s1), memset(s2, 0, (size_t)pl * sizeof *s2);
  for (ptrdiff_t z = 1; z <= e[0]; z++) {
    memset(s1 + z * pl, 0, (size_t)nx * sizeof *s1);
    memset(s2 + z * pl, 0, (size_t)nx * sizeof *s2);
  }
}

static void sat2_row(int64_t *restrict s1, int64_t *restrict s2, const ptrdiff_t *e,
                     ptrdiff_t z, ptrdiff_t y, const int64_t *restrict v) {
  const ptrdiff_t nx = e[2] + 1, pl = nx * (e[1] + 1), o = (z + 1) * pl + (y + 1) * nx;
  int64_t *r1 = s1 + o, *r2 = s2 + o;
  r1[0] = r2[0] = 0;
  int64_t a1 = 0, a2 = 0;
  if (e[0] == 1) {
    for (ptrdiff_t x = 0; x < e[2]; x++) {
      a1 += v[x], a2 += v[x] * v[x];
      r1[x + 1] = a1 + r1[x + 1 - nx], r2[x + 1] = a2 + r2[x + 1 - nx];
    }
    return;
  }
  for (ptrdiff_t x = 0; x < e[2]; x++) {
    a1 += v[x], a2 += v[x] * v[x];
    r1[x + 1] = a1 + r1[x + 1 - nx] + r1[x + 1 - pl] - r1[x + 1 - pl - nx];
    r2[x + 1] = a2 + r2[x + 1 - nx] + r2[x + 1 - pl] - r2[x + 1 - pl - nx];
  }
}

/* ------------------------------------------------------------------------ */
/* Blocks                                                                   */
/* ------------------------------------------------------------------------ */

/* Integers: the cross sums of every shift into f->sabi; 0 if the block's
 * values do not fit the kernel. */
static int cross_int(const sh_call *c, sh_fast *f, const ptrdiff_t *lo, const ptrdiff_t *ae,
                     const ptrdiff_t *pe) {
  ptrdiff_t i0[3], i1[3];
  region_inside(c, lo, ae, i0, i1);
  const size_t na = (size_t)(ae[0] * ae[1] * ae[2]);
  int64_t amin = INT64_MAX, amax = INT64_MIN, bmin = INT64_MAX, bmax = INT64_MIN;
  for (ptrdiff_t z = 0; z < ae[0]; z++)
    for (ptrdiff_t y = 0; y < ae[1]; y++)
      row_int(c, 0, lo[0] + z, lo[1] + y, lo[2], ae[2], f->rawa + (z * ae[1] + y) * ae[2]);
  minmax(f->rawa, (ptrdiff_t)na, &amin, &amax);
  for (ptrdiff_t z = i0[0]; z < i1[0]; z++)
    for (ptrdiff_t y = i0[1]; y < i1[1]; y++) {
      int64_t *r = f->rawb + (z * pe[1] + y) * pe[2];
      row_int(c, 1, lo[0] - c->s[0] + z, lo[1] - c->s[1] + y, lo[2] - c->s[2] + i0[2],
              i1[2] - i0[2], r + i0[2]);
      minmax(r + i0[2], i1[2] - i0[2], &bmin, &bmax);
    }
  if (amax - amin > 65535 || bmax - bmin > 65535) return 0;
  const int64_t ca = (amin + amax + 1) >> 1, cb = (bmin + bmax + 1) >> 1;
  const int64_t ha = amax - ca > ca - amin ? amax - ca : ca - amin;
  const int64_t hb = bmax - cb > cb - bmin ? bmax - cb : cb - bmin;
  const ptrdiff_t aw = round_up(ae[2], SH_W), bs = aw + 2 * c->s[2] + SH_W;
  const ptrdiff_t rows = ae[0] * ae[1];
  /* rows between widenings: a lane adds 2 aw / vw products per row */
  const int64_t lim = 2147483647, per = f->vw ? 2 * (aw / f->vw) : 1;
  int64_t rmax = ha * hb != 0 ? lim / (per * ha * hb) : rows;
  int split = 0;
  if (f->vw && rmax < 1) {
    rmax = ha ? lim / (per * ha * 255) : rows;
    if (rmax < 1) return 0;
    split = 1;
  }
  if (!f->vw) rmax = rows;
  /* centred rows, and the tables of a, aa over the block and b, bb over
   * the region */
  int64_t *s1 = f->sati[0], *s2 = f->sati[1], *t1 = f->sati[2], *t2 = f->sati[3];
  int64_t *tmp = f->rawa + na; /* a row of the region */
  sat2_start(s1, s2, ae), sat2_start(t1, t2, pe);
  memset(f->a16, 0, ((size_t)(rows * aw) + SH_W) * sizeof(int16_t));
  for (ptrdiff_t z = 0; z < ae[0]; z++)
    for (ptrdiff_t y = 0; y < ae[1]; y++) {
      int64_t *r = f->rawa + (z * ae[1] + y) * ae[2];
      int16_t *o = f->a16 + (z * ae[1] + y) * aw;
      for (ptrdiff_t x = 0; x < ae[2]; x++) r[x] -= ca, o[x] = (int16_t)r[x];
      sat2_row(s1, s2, ae, z, y, r);
    }
  const size_t bel = (size_t)(pe[0] * pe[1] * bs) + 2 * SH_W;
  memset(f->b16, 0, bel * sizeof(int16_t));
  if (split) memset(f->b16h, 0, bel * sizeof(int16_t));
  for (ptrdiff_t z = 0; z < pe[0]; z++)
    for (ptrdiff_t y = 0; y < pe[1]; y++) {
      memset(tmp, 0, (size_t)pe[2] * sizeof *tmp);
      if (z >= i0[0] && z < i1[0] && y >= i0[1] && y < i1[1]) {
        const int64_t *r = f->rawb + (z * pe[1] + y) * pe[2];
        int16_t *o = f->b16 + (z * pe[1] + y) * bs, *oh = f->b16h + (z * pe[1] + y) * bs;
        for (ptrdiff_t x = i0[2]; x < i1[2]; x++) tmp[x] = r[x] - cb;
        if (split)
          for (ptrdiff_t x = i0[2]; x < i1[2]; x++) {
            const int64_t w = tmp[x] + 32768;
            o[x] = (int16_t)(w & 255);
            oh[x] = (int16_t)((w >> 8) - 128);
          }
        else
          for (ptrdiff_t x = i0[2]; x < i1[2]; x++) o[x] = (int16_t)tmp[x];
      }
      sat2_row(t1, t2, pe, z, y, tmp);
    }
  f->split = split, f->rmax = (ptrdiff_t)rmax, f->aw = aw, f->bs = bs;
  return 1;
}

/* The cross sums over rows y0 .. y1 - 1 of the block (2-D blocks, or all
 * rows of every plane when y0 = 0 and y1 = ae[1]) of lags l0 .. l0 + nl - 1
 * of shift row (tz, ty), into out[0 .. nl - 1]. */
void bw_shift_cross_rows(const sh_fast *f, const ptrdiff_t *ae, const ptrdiff_t *pe,
                       ptrdiff_t tz, ptrdiff_t ty, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t l0,
                       ptrdiff_t nl, int64_t *out) {
  const ptrdiff_t aw = f->aw, bs = f->bs;
  const size_t off = (size_t)((tz * pe[1] + ty + y0) * bs + l0);
  const int16_t *a = f->a16 + y0 * aw;
  f->x16(a, ae[0], y1 - y0, aw, f->b16 + off, pe[1] * bs, bs, nl, f->rmax, out);
  if (f->split) {
    int64_t hi[SH_MAXG];
    for (ptrdiff_t k = 0; k < nl; k += SH_MAXG) {
      const ptrdiff_t m = nl - k < SH_MAXG ? nl - k : SH_MAXG;
      f->x16(a, ae[0], y1 - y0, aw, f->b16h + off + k, pe[1] * bs, bs, m, f->rmax, hi);
      for (ptrdiff_t l = 0; l < m; l++) out[k + l] += 256 * hi[l];
    }
  }
}

/* Integers: the cross sums of every shift into f->sabi. */
static void cross_all_int(const sh_call *c, sh_fast *f, const ptrdiff_t *ae,
                          const ptrdiff_t *pe) {
  const ptrdiff_t ns1 = 2 * c->s[1] + 1, ns2 = 2 * c->s[2] + 1;
  for (ptrdiff_t tz = 0; tz <= 2 * c->s[0]; tz++)
    for (ptrdiff_t ty = 0; ty < ns1; ty++)
      bw_shift_cross_rows(f, ae, pe, tz, ty, 0, ae[1], 0, ns2, f->sabi + (tz * ns1 + ty) * ns2);
}

/* Floats: the cross sums into f->sabf, the tables into f->satf and
 * f->satd; 0 if the block or region holds NaN or infinities. */
static int cross_flt(const sh_call *c, sh_fast *f, const ptrdiff_t *lo, const ptrdiff_t *ae,
                     const ptrdiff_t *pe) {
  ptrdiff_t i0[3], i1[3];
  region_inside(c, lo, ae, i0, i1);
  const size_t na = (size_t)(ae[0] * ae[1] * ae[2]);
  for (ptrdiff_t z = 0; z < ae[0]; z++)
    for (ptrdiff_t y = 0; y < ae[1]; y++)
      row_flt(c, 0, lo[0] + z, lo[1] + y, lo[2], ae[2], f->fa + (z * ae[1] + y) * ae[2]);
  int finite = 1;
  for (size_t i = 0; i < na; i++) finite &= isfinite(f->fa[i]) != 0;
  for (ptrdiff_t z = i0[0]; z < i1[0]; z++)
    for (ptrdiff_t y = i0[1]; y < i1[1]; y++) {
      double *r = f->fb + (z * pe[1] + y) * pe[2];
      row_flt(c, 1, lo[0] - c->s[0] + z, lo[1] - c->s[1] + y, lo[2] - c->s[2] + i0[2],
              i1[2] - i0[2], r + i0[2]);
      for (ptrdiff_t x = i0[2]; x < i1[2]; x++) finite &= isfinite(r[x]) != 0;
    }
  if (!finite) return 0;
  /* values minus each image's pixel at the block's first position */
  const double ka = f->fa[0];
  const double kb = f->fb[(c->s[0] * pe[1] + c->s[1]) * pe[2] + c->s[2]];
  const ptrdiff_t aw = round_up(ae[2], SH_W), bs = aw + 2 * c->s[2] + SH_W;
  double *s1 = f->satf[0], *s2 = f->satf[1], *t1 = f->satf[2], *t2 = f->satf[3];
  sat_clear(s1, ae, 8), sat_clear(s2, ae, 8), sat_clear(t1, pe, 8), sat_clear(t2, pe, 8);
  for (int d = 0; d < 3; d++) sat_clear(f->satd[0][d], ae, 8), sat_clear(f->satd[1][d], pe, 8);
  memset(f->ad, 0, ((size_t)(ae[0] * ae[1] * aw) + SH_W) * sizeof(double));
  for (ptrdiff_t z = 0; z < ae[0]; z++)
    for (ptrdiff_t y = 0; y < ae[1]; y++) {
      const double *r = f->fa + (z * ae[1] + y) * ae[2];
      double *o = f->ad + (z * ae[1] + y) * aw;
      const size_t k = sat_at(ae, z, y, 0);
      for (ptrdiff_t x = 0; x < ae[2]; x++) {
        const double u = r[x] - ka;
        o[x] = u;
        s1[k + x] = u, s2[k + x] = u * u;
        /* neighbours that differ, along z, y and x */
        if (z + 1 < ae[0]) f->satd[0][0][k + x] = r[x] != r[x + ae[1] * ae[2]];
        if (y + 1 < ae[1]) f->satd[0][1][k + x] = r[x] != r[x + ae[2]];
        if (x + 1 < ae[2]) f->satd[0][2][k + x] = r[x] != r[x + 1];
      }
    }
  const size_t bel = (size_t)(pe[0] * pe[1] * bs) + 2 * SH_W;
  memset(f->bd, 0, bel * sizeof(double));
  for (ptrdiff_t z = i0[0]; z < i1[0]; z++)
    for (ptrdiff_t y = i0[1]; y < i1[1]; y++) {
      const double *r = f->fb + (z * pe[1] + y) * pe[2];
      double *o = f->bd + (z * pe[1] + y) * bs;
      const size_t k = sat_at(pe, z, y, 0);
      for (ptrdiff_t x = i0[2]; x < i1[2]; x++) {
        const double v = r[x] - kb;
        o[x] = v;
        t1[k + x] = v, t2[k + x] = v * v;
        if (z + 1 < i1[0]) f->satd[1][0][k + x] = r[x] != r[x + pe[1] * pe[2]];
        if (y + 1 < i1[1]) f->satd[1][1][k + x] = r[x] != r[x + pe[2]];
        if (x + 1 < i1[2]) f->satd[1][2][k + x] = r[x] != r[x + 1];
      }
    }
  sat_f(s1, ae), sat_f(s2, ae), sat_f(t1, pe), sat_f(t2, pe);
  for (int d = 0; d < 3; d++)
    if (ae[d] > 1 || pe[d] > 1) sat_f(f->satd[0][d], ae), sat_f(f->satd[1][d], pe);
  return 1;
}

/* Floats: the cross sums of every shift into f->sabf. */
static void cross_all_flt(const sh_call *c, sh_fast *f, const ptrdiff_t *ae,
                          const ptrdiff_t *pe) {
  const ptrdiff_t ns1 = 2 * c->s[1] + 1, ns2 = 2 * c->s[2] + 1;
  const ptrdiff_t aw = round_up(ae[2], SH_W), bs = aw + 2 * c->s[2] + SH_W;
  for (ptrdiff_t tz = 0; tz <= 2 * c->s[0]; tz++)
    for (ptrdiff_t ty = 0; ty < ns1; ty++)
      f->xf(f->ad, ae[0], ae[1], aw, f->bd + (tz * pe[1] + ty) * bs, pe[1] * bs, bs, ns2,
            f->sabf + (tz * ns1 + ty) * ns2);
}


/* r of one row of shifts (lags tx) of a block whose pairs all lie inside
 * the image: n pairs, A's sums fixed (nA = n Saa - Sa^2 > 0, sqa its
 * square root), B's window sums from the table rows p (z1 y1, z1 y0, z0 y1,
 * z0 y0; window width w).  In int64 (n <= 2^15 pairs of 16-bit values);
 * the same bits as sh_r_int. */
BW_CLONES static void r_row_int(ptrdiff_t nlag, int64_t n, int64_t sa, double sqa,
                                const int64_t *const *p1, const int64_t *const *p2,
                                ptrdiff_t w, const int64_t *restrict sab,
                                double *restrict r) {
  for (ptrdiff_t t = 0; t < nlag; t++) {
    const int64_t sb = (p1[0][t + w] - p1[1][t + w] - p1[0][t] + p1[1][t]) -
                       (p1[2][t + w] - p1[3][t + w] - p1[2][t] + p1[3][t]);
    const int64_t sbb = (p2[0][t + w] - p2[1][t + w] - p2[0][t] + p2[1][t]) -
                        (p2[2][t + w] - p2[3][t + w] - p2[2][t] + p2[3][t]);
    const int64_t nb = n * sbb - sb * sb, num = n * sab[t] - sa * sb;
    double v = (double)num / (sqa * sqrt((double)nb));
    v = v > 1 ? 1 : v < -1 ? -1 : v;
    r[t] = nb == 0 ? NAN : v;
  }
}

/* Integer blocks whose every shift pairs the whole block (away from the
 * image's border): r row by row; 0 if the block is too large for int64. */
static int r_interior_int(const sh_call *c, const sh_fast *f, const ptrdiff_t *ae,
                          const ptrdiff_t *pe) {
  const int64_t n = (int64_t)(ae[0] * ae[1] * ae[2]);
  if (n < 2 || n > ((int64_t)1 << 15)) return 0;
  const ptrdiff_t z0[3] = {0, 0, 0};
  const int64_t sa = sat_i_box(f->sati[0], ae, z0, ae), saa = sat_i_box(f->sati[1], ae, z0, ae);
  const int64_t na = n * saa - sa * sa;
  const double sqa = sqrt((double)na);
  const ptrdiff_t ns[3] = {2 * c->s[0] + 1, 2 * c->s[1] + 1, 2 * c->s[2] + 1};
  const ptrdiff_t nx = pe[2] + 1, pl = nx * (pe[1] + 1);
  for (ptrdiff_t tz = 0; tz < ns[0]; tz++)
    for (ptrdiff_t ty = 0; ty < ns[1]; ty++) {
      double *r = c->r + (tz * ns[1] + ty) * ns[2];
      if (na == 0) {
        for (ptrdiff_t t = 0; t < ns[2]; t++) r[t] = NAN;
        continue;
      }
      const ptrdiff_t o[4] = {(tz + ae[0]) * pl + (ty + ae[1]) * nx, (tz + ae[0]) * pl + ty * nx,
                              tz * pl + (ty + ae[1]) * nx, tz * pl + ty * nx};
      const int64_t *p1[4], *p2[4];
      for (int k = 0; k < 4; k++) p1[k] = f->sati[2] + o[k], p2[k] = f->sati[3] + o[k];
      r_row_int(ns[2], n, sa, sqa, p1, p2, ae[2], f->sabi + (tz * ns[1] + ty) * ns[2], r);
    }
  return 1;
}

int bw_shift_fast_block(const sh_call *c, sh_fast *f, const ptrdiff_t *lo,
                        const ptrdiff_t *ae) {
  ptrdiff_t pe[3];
  for (int d = 0; d < 3; d++) pe[d] = ae[d] + 2 * c->s[d];
  if (!(c->is_flt ? cross_flt(c, f, lo, ae, pe) : cross_int(c, f, lo, ae, pe))) return 0;
  int inside = 1;
  for (int d = 0; d < 3; d++) inside &= lo[d] - c->s[d] >= 0 && lo[d] + ae[d] + c->s[d] <= c->n[d];
  if (c->is_flt) {
    if (inside && bw_shift_pruned_flt(c, f, ae, pe)) return 1;
    cross_all_flt(c, f, ae, pe);
  }
  if (!c->is_flt) {
    if (inside && bw_shift_pruned_int(c, f, ae, pe)) return 1;
    cross_all_int(c, f, ae, pe);
    if (inside && r_interior_int(c, f, ae, pe)) return 1;
  }
  const ptrdiff_t ns[3] = {2 * c->s[0] + 1, 2 * c->s[1] + 1, 2 * c->s[2] + 1};
  ptrdiff_t t[3], idx = 0;
  for (t[0] = 0; t[0] < ns[0]; t[0]++)
    for (t[1] = 0; t[1] < ns[1]; t[1]++)
      for (t[2] = 0; t[2] < ns[2]; t[2]++, idx++) {
        /* pairs p in the block with p + s in the image, block coordinates */
        ptrdiff_t q0[3], q1[3], b0[3], b1[3];
        int64_t n = 1;
        for (int d = 0; d < 3; d++) {
          const ptrdiff_t s = t[d] - c->s[d];
          const ptrdiff_t p0 = lo[d] > -s ? lo[d] : -s;
          const ptrdiff_t p1 = lo[d] + ae[d] < c->n[d] - s ? lo[d] + ae[d] : c->n[d] - s;
          q0[d] = p0 - lo[d], q1[d] = p1 > p0 ? p1 - lo[d] : q0[d];
          b0[d] = q0[d] + t[d], b1[d] = q1[d] + t[d];
          n *= q1[d] - q0[d];
        }
        double r = NAN;
        if (n >= 2 && !c->is_flt) {
          const i128 s5[5] = {sat_i_box(f->sati[0], ae, q0, q1),
                              sat_i_box(f->sati[2], pe, b0, b1),
                              sat_i_box(f->sati[1], ae, q0, q1),
                              sat_i_box(f->sati[3], pe, b0, b1), f->sabi[idx]};
          r = sh_r_int(s5, n);
        } else if (n >= 2 && !flat_box(f->satd[0], ae, q0, q1) &&
                   !flat_box(f->satd[1], pe, b0, b1)) {
          const double s5[5] = {sat_f_box(f->satf[0], ae, q0, q1),
                                sat_f_box(f->satf[2], pe, b0, b1),
                                sat_f_box(f->satf[1], ae, q0, q1),
                                sat_f_box(f->satf[3], pe, b0, b1), f->sabf[idx]};
          r = sh_r_flt(s5, (double)n);
        }
        c->r[idx] = r;
      }
  return 1;
}
