/*
 * Exact pruning of per-block displacement (bw_shift_fast.c): shifts whose
 * r cannot reach the best r are dropped after part of the block's rows
 * (bounded partial correlation), for 2-D blocks away from the image's
 * border.
 */
#include "bw_shift_internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Exact pruning (bounded partial correlation)                              */
/* ------------------------------------------------------------------------ */

enum { SH_OPEN, SH_DONE, SH_PRUNED, SH_UNDEF };

/* Every shift t of a 2-D search, at shift row ty and lag tx. */
#define SH_EACH(t, ty, tx)                                                   \
  for (ptrdiff_t ty = 0, t = 0; ty < ns1; ty++)                              \
    for (ptrdiff_t tx = 0; tx < ns2; tx++, t++)

/* A 2-D block away from the border: the cross sums are taken over the
 * rows in stages (a quarter, a half, all); after each stage, a shift whose
 * r cannot reach the best r found so far is dropped.  The bound: over the
 * rows Q not yet summed, sum a b <= (Sa_Q Sb_Q + sqrt(M_Q(a) M_Q(b))) / |Q|
 * (Cauchy-Schwarz about Q's own means, M_Q = |Q| S2 - S1^2 exact), so
 * r(s) <= r_bound(s); a shift is dropped only when r_bound(s) plus a bound
 * on its rounding stays SH_TIE below the best r, so it could not have been
 * the maximum (nor tied with it).  The shifts the refinement and the zero
 * output read (within two of the best, and zero) are then completed, so
 * c->r holds the exact r wherever it is read; dropped shifts get -inf.
 * Every cross sum is an exact integer, so r does not depend on how it was
 * staged: the same bits as without pruning.  Returns 0 where it does not
 * apply. */
/* r from int64 sums as r_row_int computes it (the same bits as
 * sh_r_int); nb = n Sbb - Sb^2 > 0. */
static inline double r64(int64_t n, int64_t sa, double sqa, int64_t sb, int64_t nb,
                         int64_t sab) {
  const double v = (double)(n * sab - sa * sb) / (sqa * sqrt((double)nb));
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

int bw_shift_pruned_int(const sh_call *c, sh_fast *f, const ptrdiff_t *ae, const ptrdiff_t *pe) {
  if (ae[0] != 1 || c->s[0] != 0 || ae[1] < 8) return 0;
  const int64_t n = (int64_t)(ae[1] * ae[2]);
  if (n > ((int64_t)1 << 15)) return 0;
  const ptrdiff_t ns1 = 2 * c->s[1] + 1, ns2 = 2 * c->s[2] + 1, nsh = ns1 * ns2;
  const ptrdiff_t G = f->g > 1 ? f->g : 8, w = ae[2], h = ae[1];
  const ptrdiff_t z0[3] = {0, 0, 0};
  const int64_t sa = sat_i_box(f->sati[0], ae, z0, ae), saa = sat_i_box(f->sati[1], ae, z0, ae);
  const int64_t na = n * saa - sa * sa;
  if (na == 0) return 0;
  const double sqa = sqrt((double)na);
  const int64_t *T1 = f->sati[2], *T2 = f->sati[3];
  const ptrdiff_t nx = pe[2] + 1, pl = nx * (pe[1] + 1);
#define SH_BOX(T, y0, y1, x0, x1)                                            \
  ((T)[pl + (y1) * nx + (x1)] - (T)[pl + (y0) * nx + (x1)] - (T)[pl + (y1) * nx + (x0)] + \
   (T)[pl + (y0) * nx + (x0)])
  int64_t *P = f->part, *SB = f->sabh, *NB = f->sabi;
  unsigned char *st = f->state;
  SH_EACH(t, ty, tx) {
        SB[t] = SH_BOX(T1, ty, ty + h, tx, tx + w);
    NB[t] = n * SH_BOX(T2, ty, ty + h, tx, tx + w) - SB[t] * SB[t];
    st[t] = NB[t] == 0 ? SH_UNDEF : SH_OPEN;
    P[t] = 0;
  }
  double best = -INFINITY;
  const ptrdiff_t stage[3] = {h / 4, h / 2, h};
  ptrdiff_t y0 = 0;
  int64_t buf[SH_MAXG];
  double *ub = c->r; /* the bounds, until c->r is filled */
  for (int k = 0; k < 3; k++) {
    const ptrdiff_t y1 = stage[k];
    /* the rows y0 .. y1 - 1 of every group holding an open shift */
    for (ptrdiff_t ty = 0; ty < ns1; ty++)
      for (ptrdiff_t l0 = 0; l0 < ns2; l0 += G) {
        const ptrdiff_t nl = ns2 - l0 < G ? ns2 - l0 : G;
        int open = 0;
        for (ptrdiff_t l = 0; l < nl; l++) open |= st[ty * ns2 + l0 + l] == SH_OPEN;
        if (!open) continue;
        bw_shift_cross_rows(f, ae, pe, 0, ty, y0, y1, l0, nl, buf);
        for (ptrdiff_t l = 0; l < nl; l++) P[ty * ns2 + l0 + l] += buf[l];
      }
    y0 = y1;
    if (k == 2) break;
    const int64_t nq = (int64_t)(h - y1) * w;
    const ptrdiff_t q0[3] = {0, y1, 0};
    const int64_t sqa1 = sat_i_box(f->sati[0], ae, q0, ae);
    const double mqa = (double)(nq * sat_i_box(f->sati[1], ae, q0, ae) - sqa1 * sqa1);
    ptrdiff_t cand = -1;
    SH_EACH(t, ty, tx) {
      if (st[t] != SH_OPEN) continue;
      const int64_t sqb = SH_BOX(T1, ty + y1, ty + h, tx, tx + w);
      const int64_t sqbb = SH_BOX(T2, ty + y1, ty + h, tx, tx + w);
      const double mqb = (double)(nq * sqbb - sqb * sqb);
      /* nq (n P - Sa Sb) + n Sa_Q Sb_Q + n sqrt(M_Q(a) M_Q(b)), each term in
       * double within a few ulps; the allowance covers them all */
      const double x1 = (double)nq * (double)(n * P[t] - sa * SB[t]);
      const double x2 = (double)n * ((double)sqa1 * (double)sqb);
      const double y = (double)n * sqrt(mqa * mqb);
      const double den = (double)nq * sqa * sqrt((double)NB[t]);
      ub[t] = (x1 + x2 + y) / den + 1e-14 * ((fabs(x1) + fabs(x2) + y) / den + 1.0);
      if (cand < 0 || ub[t] > ub[cand]) cand = t;
    }
    if (k == 0 && cand >= 0) {
      /* complete the group of the best bound over the remaining rows */
      const ptrdiff_t ty = cand / ns2, l0 = cand % ns2 / G * G;
      const ptrdiff_t nl = ns2 - l0 < G ? ns2 - l0 : G;
      bw_shift_cross_rows(f, ae, pe, 0, ty, y1, h, l0, nl, buf);
      for (ptrdiff_t l = 0; l < nl; l++) {
        const ptrdiff_t t = ty * ns2 + l0 + l;
        if (st[t] == SH_OPEN) P[t] += buf[l], st[t] = SH_DONE;
      }
    }
    for (ptrdiff_t t = 0; t < nsh; t++)
      if (st[t] == SH_DONE) {
        const double r = r64(n, sa, sqa, SB[t], NB[t], P[t]);
        best = r > best ? r : best;
      }
    for (ptrdiff_t t = 0; t < nsh; t++)
      if (st[t] == SH_OPEN && ub[t] < best - SH_TIE) st[t] = SH_PRUNED;
  }
  /* r where it is read: every completed shift, and of the dropped ones
   * those within two of the best and zero */
  for (ptrdiff_t t = 0; t < nsh; t++) {
    if (st[t] == SH_OPEN) st[t] = SH_DONE;
    c->r[t] = st[t] == SH_DONE ? r64(n, sa, sqa, SB[t], NB[t], P[t])
              : st[t] == SH_UNDEF ? NAN : -INFINITY;
  }
  const ptrdiff_t bt = bw_shift_pick(c->r, c->s);
  const ptrdiff_t zt = c->s[1] * ns2 + c->s[2], by = bt / ns2, bx = bt % ns2;
  SH_EACH(t, ty, tx) {
    if (st[t] != SH_PRUNED) continue;
    const int near = bt >= 0 && labs((long)(ty - by)) <= 2 && labs((long)(tx - bx)) <= 2;
    if (!near && t != zt) continue;
    bw_shift_cross_rows(f, ae, pe, 0, ty, 0, h, tx, 1, buf);
    c->r[t] = r64(n, sa, sqa, SB[t], NB[t], buf[0]);
  }
#undef SH_BOX
  return 1;
}

/* Floats: pruned_int's stages over double cross sums.  The bound is the
 * same; the rounding of the cross sums still to come, of the tables and of
 * the bound itself is covered by an allowance of 1e-9 of the magnitudes
 * involved (their rounding is some 1e-13 at most), and a shift is dropped
 * only 1e-9 below the best r.  Each block's sums are taken in an order
 * fixed by the block, so tilings still give the same bits. */
int bw_shift_pruned_flt(const sh_call *c, sh_fast *f, const ptrdiff_t *ae, const ptrdiff_t *pe) {
  if (ae[0] != 1 || c->s[0] != 0 || ae[1] < 8) return 0;
  const ptrdiff_t ns1 = 2 * c->s[1] + 1, ns2 = 2 * c->s[2] + 1, nsh = ns1 * ns2;
  const ptrdiff_t w = ae[2], h = ae[1], aw = round_up(ae[2], SH_W), bs = aw + 2 * c->s[2] + SH_W;
  const double n = (double)(h * w);
  const ptrdiff_t z0[3] = {0, 0, 0};
  if (flat_box(f->satd[0], ae, z0, ae)) return 0;
  const double sa = sat_f_box(f->satf[0], ae, z0, ae), saa = sat_f_box(f->satf[1], ae, z0, ae);
  const double ma = saa - sa * (sa / n);
  if (!(ma > 0)) return 0;
  double *P = f->sabf, *SB = f->tf[0], *SBB = f->tf[1];
  unsigned char *st = f->state;
  SH_EACH(t, ty, tx) {
        const ptrdiff_t b0[3] = {0, ty, tx}, b1[3] = {1, ty + h, tx + w};
    SB[t] = sat_f_box(f->satf[2], pe, b0, b1);
    SBB[t] = sat_f_box(f->satf[3], pe, b0, b1);
    const double mb = SBB[t] - SB[t] * (SB[t] / n);
    st[t] = flat_box(f->satd[1], pe, b0, b1) || !(mb > 0) ? SH_UNDEF : SH_OPEN;
    P[t] = 0;
  }
  double best = -INFINITY, buf[8];
  const ptrdiff_t stage[3] = {h / 4, h / 2, h};
  ptrdiff_t y0 = 0;
  double *ub = c->r;
#define SH_FR(t, sab)                                                        \
  sh_r_flt((const double[5]){sa, SB[t], saa, SBB[t], (sab)}, n)
  for (int k = 0; k < 3; k++) {
    const ptrdiff_t y1 = stage[k];
    for (ptrdiff_t ty = 0; ty < ns1; ty++)
      for (ptrdiff_t l0 = 0; l0 < ns2; l0 += 8) {
        const ptrdiff_t nl = ns2 - l0 < 8 ? ns2 - l0 : 8;
        int open = 0;
        for (ptrdiff_t l = 0; l < nl; l++) open |= st[ty * ns2 + l0 + l] == SH_OPEN;
        if (!open) continue;
        f->xf(f->ad + y0 * aw, 1, y1 - y0, aw, f->bd + (ty + y0) * bs + l0, pe[1] * bs, bs, nl,
              buf);
        for (ptrdiff_t l = 0; l < nl; l++) P[ty * ns2 + l0 + l] += buf[l];
      }
    y0 = y1;
    if (k == 2) break;
    const double nq = (double)((h - y1) * w);
    const ptrdiff_t q0[3] = {0, y1, 0};
    const double sqa = sat_f_box(f->satf[0], ae, q0, ae), sqaa = sat_f_box(f->satf[1], ae, q0, ae);
    const double mqa = nq * sqaa - sqa * sqa;
    ptrdiff_t cand = -1;
    SH_EACH(t, ty, tx) {
      if (st[t] != SH_OPEN) continue;
      const ptrdiff_t b0[3] = {0, ty + y1, tx}, b1[3] = {1, ty + h, tx + w};
      const double sqb = sat_f_box(f->satf[2], pe, b0, b1), sqbb = sat_f_box(f->satf[3], pe, b0, b1);
      const double mqb = nq * sqbb - sqb * sqb;
      const double cs = sqrt((mqa > 0 ? mqa : 0) * (mqb > 0 ? mqb : 0)) / nq;
      const double x = P[t] + sqa * sqb / nq + cs - sa * (SB[t] / n);
      const double mb = SBB[t] - SB[t] * (SB[t] / n);
      const double den = sqrt(ma) * sqrt(mb);
      const double mag = fabs(P[t]) + fabs(sqa * sqb) / nq + sqrt(sqaa * sqbb) + cs +
                         fabs(sa * SB[t]) / n;
      ub[t] = x / den + 1e-9 * (mag / den + 1.0);
      if (cand < 0 || ub[t] > ub[cand]) cand = t;
    }
    if (k == 0 && cand >= 0) {
      const ptrdiff_t ty = cand / ns2, l0 = cand % ns2 / 8 * 8;
      const ptrdiff_t nl = ns2 - l0 < 8 ? ns2 - l0 : 8;
      f->xf(f->ad + y1 * aw, 1, h - y1, aw, f->bd + (ty + y1) * bs + l0, pe[1] * bs, bs, nl, buf);
      for (ptrdiff_t l = 0; l < nl; l++) {
        const ptrdiff_t t = ty * ns2 + l0 + l;
        if (st[t] == SH_OPEN) P[t] += buf[l], st[t] = SH_DONE;
      }
    }
    for (ptrdiff_t t = 0; t < nsh; t++)
      if (st[t] == SH_DONE) {
        const double r = SH_FR(t, P[t]);
        best = r > best ? r : best;
      }
    for (ptrdiff_t t = 0; t < nsh; t++)
      if (st[t] == SH_OPEN && ub[t] < best - 1e-9) st[t] = SH_PRUNED;
  }
  for (ptrdiff_t t = 0; t < nsh; t++) {
    if (st[t] == SH_OPEN) st[t] = SH_DONE;
    c->r[t] = st[t] == SH_DONE ? SH_FR(t, P[t]) : st[t] == SH_UNDEF ? NAN : -INFINITY;
  }
  const ptrdiff_t bt = bw_shift_pick(c->r, c->s);
  const ptrdiff_t zt = c->s[1] * ns2 + c->s[2], by = bt / ns2, bx = bt % ns2;
  SH_EACH(t, ty, tx) {
    if (st[t] != SH_PRUNED) continue;
    const int near = bt >= 0 && labs((long)(ty - by)) <= 2 && labs((long)(tx - bx)) <= 2;
    if (!near && t != zt) continue;
    f->xf(f->ad, 1, h, aw, f->bd + ty * bs + tx, pe[1] * bs, bs, 1, buf);
    c->r[t] = SH_FR(t, buf[0]);
  }
#undef SH_FR
  return 1;
}
