/*
 * One instantiation of the non-local means tile kernel (bw_nlm_kernels.c
 * includes this file once per working precision and instruction set).
 *
 * Expects (and #undefs at its end):
 *   NLM_REAL    float or double, the working type
 *   NLM_EXP2NEG 2^-y for y in [0, BW_NLM_YCUT] in that type
 *   NLM_SUFFIX  suffix of the names defined here
 *   NLM_TARGET  a target attribute, or nothing
 *
 * The kernel adds, for every offset o of the upper half of the search
 * window, the weighted contributions of the pairs (x, x + o) to both x and
 * x + o, over one tile of the output.  Every quantity is a function of
 * global pixel positions only, and every sum is taken in an order fixed
 * relative to the pixel it belongs to:
 *   t(u)   = (v(u) - v(u + o))^2 where u and u + o are inside the image,
 *            0 elsewhere;
 *   box sums of t along x, then y, then z, each the pair sums
 *            P(u) = t(u) + t(u + 1) at u = x - r, x - r + 2, ... taken left
 *            to right, then t(x + r);
 *   weights from the box sum, its patch count and the constants;
 *   accumulators: weight 1 for the pixel itself first, then per offset in
 *            a fixed order the pair's two contributions.
 * Hence no running sum ever starts at a tile-dependent place, and any tile
 * gives the bits of the whole image.
 */

#define NLM_CAT2(a, b) a##_##b
#define NLM_CAT(a, b) NLM_CAT2(a, b)
#define NLM_F(name) NLM_CAT(name, NLM_SUFFIX)
#define NLM_INLINE NLM_TARGET static inline BW_NLM_ALWAYS_INLINE

/* out[i] = ((r[0][i] + r[1][i]) + r[2][i]) + ... + r[m-1][i], m >= 1: the
 * order of the sum is fixed, whichever loop computes it. */
NLM_INLINE void NLM_F(nlm_sum_rows)(NLM_REAL *restrict out,
                                    const NLM_REAL *const *r, int m,
                                    ptrdiff_t n) {
  const NLM_REAL *restrict r0 = r[0];
  if (m == 1) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = r0[i];
    return;
  }
  const NLM_REAL *restrict r1 = r[1];
  if (m == 2) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = r0[i] + r1[i];
    return;
  }
  const NLM_REAL *restrict r2 = r[2];
  if (m == 3) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = (r0[i] + r1[i]) + r2[i];
    return;
  }
  const NLM_REAL *restrict r3 = r[3];
  if (m == 4) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = ((r0[i] + r1[i]) + r2[i]) + r3[i];
    return;
  }
  const NLM_REAL *restrict r4 = r[4];
  for (ptrdiff_t i = 0; i < n; i++)
    out[i] = (((r0[i] + r1[i]) + r2[i]) + r3[i]) + r4[i];
  for (int j = 5; j < m; j++) {
    const NLM_REAL *restrict rj = r[j];
    for (ptrdiff_t i = 0; i < n; i++) out[i] += rj[i];
  }
}

/* The box sum along one axis of length @n outputs: out[i] = sum of
 * in[i .. i + 2r], as pair sums P[i], P[i + 2], ... then in[i + 2r].
 * @pair holds n + 2r - 1 elements of scratch. */
NLM_INLINE void NLM_F(nlm_box_row)(NLM_REAL *restrict out,
                                   const NLM_REAL *restrict in,
                                   NLM_REAL *restrict pair, ptrdiff_t n,
                                   ptrdiff_t r) {
  const NLM_REAL *rows[BW_NLM_MAX_PATCH + 1];
  if (r > 0) {
    const ptrdiff_t np = n + 2 * r - 2;
    for (ptrdiff_t i = 0; i < np; i++) pair[i] = in[i] + in[i + 1];
  }
  for (ptrdiff_t j = 0; j < r; j++) rows[j] = pair + 2 * j;
  rows[r] = in + 2 * r;
  NLM_F(nlm_sum_rows)(out, rows, (int)r + 1, n);
}

NLM_INLINE void NLM_F(nlm_add)(NLM_REAL *restrict d, const NLM_REAL *restrict a,
                               const NLM_REAL *restrict b, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) d[i] = a[i] + b[i];
}

/* One row of t over [x0, x1) of the t box, zero outside [vx0, vx1). */
NLM_INLINE void NLM_F(nlm_t_row)(NLM_REAL *restrict t,
                                 const NLM_REAL *restrict a,
                                 const NLM_REAL *restrict b, ptrdiff_t n,
                                 ptrdiff_t v0, ptrdiff_t v1) {
  for (ptrdiff_t i = 0; i < v0; i++) t[i] = 0;
  for (ptrdiff_t i = v0; i < v1; i++) {
    const NLM_REAL d = a[i] - b[i];
    t[i] = d * d;
  }
  for (ptrdiff_t i = v1; i < n; i++) t[i] = 0;
}

/* Weights 2^-y of one row, y = max(S k - c0, 0) capped at @cut, from its
 * box sums S, the sums of the rows @r in the order of nlm_sum_rows, and the
 * factors @k = log2(e) / (N h^2).  Up to four rows are summed in the weight
 * loop itself; more go through @s. */
#define NLM_WEIGHT_LOOP(SUM)                                                   \
  for (ptrdiff_t i = 0; i < n; i++) {                                          \
    NLM_REAL y = (SUM) * k[i] - c0;                                            \
    y = y > 0 ? y : 0;                                                         \
    y = y < cut ? y : cut;                                                     \
    w[i] = NLM_EXP2NEG(y);                                                     \
  }
NLM_INLINE void NLM_F(nlm_weights)(NLM_REAL *restrict w,
                                   const NLM_REAL *const *r, int m,
                                   NLM_REAL *restrict s,
                                   const NLM_REAL *restrict k, NLM_REAL c0,
                                   NLM_REAL cut, ptrdiff_t n) {
  /* cut comes from memory: with a constant, GCC turns the two clamps into
   * a branch and the loop no longer vectorises. */
  if (m > 4) {
    NLM_F(nlm_sum_rows)(s, r, m, n);
    const NLM_REAL *restrict r0 = s;
    NLM_WEIGHT_LOOP(r0[i])
    return;
  }
  const NLM_REAL *restrict r0 = r[0];
  if (m == 1) {
    NLM_WEIGHT_LOOP(r0[i])
    return;
  }
  const NLM_REAL *restrict r1 = r[1];
  if (m == 2) {
    NLM_WEIGHT_LOOP(r0[i] + r1[i])
    return;
  }
  const NLM_REAL *restrict r2 = r[2];
  if (m == 3) {
    NLM_WEIGHT_LOOP((r0[i] + r1[i]) + r2[i])
    return;
  }
  const NLM_REAL *restrict r3 = r[3];
  NLM_WEIGHT_LOOP(((r0[i] + r1[i]) + r2[i]) + r3[i])
}
#undef NLM_WEIGHT_LOOP

/* ws[i] += w[i], vs[i] += w[i] * v[i]. */
NLM_INLINE void NLM_F(nlm_accumulate)(NLM_REAL *restrict ws,
                                      NLM_REAL *restrict vs,
                                      const NLM_REAL *restrict w,
                                      const NLM_REAL *restrict v,
                                      ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) {
    ws[i] += w[i];
    vs[i] += w[i] * v[i];
  }
}

/* Patch count along one axis of a pixel at @x for the valid range
 * [lo, hi) of patch pixels. */
static inline ptrdiff_t NLM_F(nlm_count)(ptrdiff_t x, ptrdiff_t r,
                                         ptrdiff_t lo, ptrdiff_t hi) {
  ptrdiff_t a = x - r > lo ? x - r : lo;
  ptrdiff_t b = x + r < hi - 1 ? x + r : hi - 1;
  return b - a + 1;
}

/* State of one offset while its rows are produced. */
typedef struct NLM_F(nlm_shift) {
  const bw_nlm_tile *a;
  ptrdiff_t o[3], lo[3], hi[3], h0[3], h1[3];
  ptrdiff_t wx;   /* h1[2] - h0[2] */
  ptrdiff_t full; /* full patch count in z and y */
} NLM_F(nlm_shift);

/* Weights of row (z, y) of the hull from its box sums (the sum of @m
 * rows), and their contributions to the tile's accumulators. */
NLM_INLINE void NLM_F(nlm_row_done)(const NLM_F(nlm_shift) * sh, ptrdiff_t z,
                                    ptrdiff_t y, const NLM_REAL *const *rows,
                                    int m) {
  const bw_nlm_tile *a = sh->a;
  const ptrdiff_t *t0 = a->t0, *tn = a->tn, *i0 = a->i0, *in = a->in;
  const ptrdiff_t *o = sh->o, wx = sh->wx, hx0 = sh->h0[2];
  NLM_REAL *restrict w = (NLM_REAL *)a->w;
  const NLM_REAL *k = (const NLM_REAL *)a->kfull;
  const ptrdiff_t czy =
      NLM_F(nlm_count)(z, a->p[0], sh->lo[0], sh->hi[0]) *
      NLM_F(nlm_count)(y, a->p[1], sh->lo[1], sh->hi[1]);
  if (czy != sh->full) {
    NLM_REAL *restrict kt = (NLM_REAL *)a->ktmp;
    for (ptrdiff_t i = 0; i < wx; i++)
      kt[i] = (NLM_REAL)(a->hinv2 / (double)(czy * a->cx[i]));
    k = kt;
  }
  NLM_F(nlm_weights)(w, rows, m, (NLM_REAL *)a->srow, k, (NLM_REAL)a->c0,
                     (NLM_REAL)a->ycut, wx);

  const NLM_REAL *val = (const NLM_REAL *)a->val;
  NLM_REAL *wsum = (NLM_REAL *)a->wsum, *vsum = (NLM_REAL *)a->vsum;
  const ptrdiff_t tx0 = t0[2], tx1 = t0[2] + tn[2];
  /* x itself, with neighbour x + o. */
  if (z >= t0[0] && z < t0[0] + tn[0] && y >= t0[1] && y < t0[1] + tn[1]) {
    ptrdiff_t x0 = hx0 > tx0 ? hx0 : tx0;
    ptrdiff_t x1 = hx0 + wx < tx1 ? hx0 + wx : tx1;
    if (x0 < x1) {
      const ptrdiff_t acc = ((z - t0[0]) * tn[1] + (y - t0[1])) * tn[2] + (x0 - tx0);
      const ptrdiff_t nb = ((z + o[0] - i0[0]) * in[1] + (y + o[1] - i0[1])) * in[2] +
                           (x0 + o[2] - i0[2]);
      NLM_F(nlm_accumulate)(wsum + acc, vsum + acc, w + (x0 - hx0), val + nb, x1 - x0);
    }
  }
  /* x + o, with neighbour x. */
  const ptrdiff_t zs = z + o[0], ys = y + o[1];
  if (zs >= t0[0] && zs < t0[0] + tn[0] && ys >= t0[1] && ys < t0[1] + tn[1]) {
    ptrdiff_t x0 = hx0 > tx0 - o[2] ? hx0 : tx0 - o[2];
    ptrdiff_t x1 = hx0 + wx < tx1 - o[2] ? hx0 + wx : tx1 - o[2];
    if (x0 < x1) {
      const ptrdiff_t acc =
          ((zs - t0[0]) * tn[1] + (ys - t0[1])) * tn[2] + (x0 + o[2] - tx0);
      const ptrdiff_t me = ((z - i0[0]) * in[1] + (y - i0[1])) * in[2] + (x0 - i0[2]);
      NLM_F(nlm_accumulate)(wsum + acc, vsum + acc, w + (x0 - hx0), val + me, x1 - x0);
    }
  }
}

/* The box sums over y and x of plane @zt of t, row by row for the rows of
 * the hull.  With @plane NULL each finished row goes to nlm_row_done (no
 * box along z); otherwise into row y - h0[1] of @plane. */
NLM_INLINE void NLM_F(nlm_plane)(const NLM_F(nlm_shift) * sh, ptrdiff_t zt,
                                 NLM_REAL *plane) {
  const bw_nlm_tile *a = sh->a;
  const ptrdiff_t *i0 = a->i0, *in = a->in, *o = sh->o;
  const ptrdiff_t py = a->p[1], px = a->p[2], wx = sh->wx;
  const ptrdiff_t hy0 = sh->h0[1], hy1 = sh->h1[1];
  const ptrdiff_t tx0 = sh->h0[2] - px, tw = wx + 2 * px;
  /* valid columns of t, relative to the t box */
  ptrdiff_t v0 = sh->lo[2] - tx0, v1 = sh->hi[2] - tx0;
  v0 = v0 < 0 ? 0 : v0;
  v1 = v1 > tw ? tw : v1;
  const ptrdiff_t ring = 2 * py + 2;
  NLM_REAL *t = (NLM_REAL *)a->trow, *pair = (NLM_REAL *)a->prow;
  const NLM_REAL *val = (const NLM_REAL *)a->val;
  const ptrdiff_t base = hy0 - py;
  for (ptrdiff_t yt = base; yt < hy1 + py; yt++) {
    const ptrdiff_t slot = (yt - base) % ring;
    NLM_REAL *hx = (NLM_REAL *)a->yring + slot * a->rowlen;
    if (yt >= sh->lo[1] && yt < sh->hi[1]) {
      const ptrdiff_t ia = ((zt - i0[0]) * in[1] + (yt - i0[1])) * in[2] + (tx0 - i0[2]);
      const ptrdiff_t ib = ((zt + o[0] - i0[0]) * in[1] + (yt + o[1] - i0[1])) * in[2] +
                           (tx0 + o[2] - i0[2]);
      /* Columns outside [v0, v1) are never read from val. */
      NLM_F(nlm_t_row)(t, val + ia, val + ib, tw, v0, v1);
      NLM_F(nlm_box_row)(hx, t, pair, wx, px);
    } else {
      for (ptrdiff_t i = 0; i < wx; i++) hx[i] = 0;
    }
    if (py > 0 && yt > base) {
      const ptrdiff_t prev = (yt - 1 - base) % ring;
      NLM_F(nlm_add)((NLM_REAL *)a->ypair + prev * a->rowlen,
                     (const NLM_REAL *)a->yring + prev * a->rowlen, hx, wx);
    }
    const ptrdiff_t y = yt - py;
    if (y < hy0) continue;
    /* Row y is complete: pairs y - py, y - py + 2, ..., then y + py. */
    const NLM_REAL *rows[BW_NLM_MAX_PATCH + 1];
    for (ptrdiff_t j = 0; j < py; j++)
      rows[j] = (const NLM_REAL *)a->ypair +
                ((y - py + 2 * j - base) % ring) * a->rowlen;
    rows[py] = hx;
    if (plane)
      NLM_F(nlm_sum_rows)(plane + (y - hy0) * wx, rows, (int)py + 1, wx);
    else
      NLM_F(nlm_row_done)(sh, zt, y, rows, (int)py + 1);
  }
}

/* One offset over the tile. */
NLM_INLINE void NLM_F(nlm_offset)(const bw_nlm_tile *a, ptrdiff_t oz,
                                  ptrdiff_t oy, ptrdiff_t ox) {
  NLM_F(nlm_shift) sh;
  sh.a = a;
  sh.o[0] = oz;
  sh.o[1] = oy;
  sh.o[2] = ox;
  for (int ax = 0; ax < 3; ax++) {
    const ptrdiff_t o = sh.o[ax], n = a->n[ax], t0 = a->t0[ax], t1 = t0 + a->tn[ax];
    sh.lo[ax] = o < 0 ? -o : 0;
    sh.hi[ax] = o > 0 ? n - o : n;
    ptrdiff_t h0 = o > 0 ? t0 - o : t0, h1 = o < 0 ? t1 - o : t1;
    sh.h0[ax] = h0 > sh.lo[ax] ? h0 : sh.lo[ax];
    sh.h1[ax] = h1 < sh.hi[ax] ? h1 : sh.hi[ax];
    if (sh.h0[ax] >= sh.h1[ax]) return;
  }
  sh.wx = sh.h1[2] - sh.h0[2];
  sh.full = (2 * a->p[0] + 1) * (2 * a->p[1] + 1);
  /* Patch counts along x, and the factors of rows with full z and y. */
  NLM_REAL *kfull = (NLM_REAL *)a->kfull;
  for (ptrdiff_t i = 0; i < sh.wx; i++) {
    a->cx[i] = NLM_F(nlm_count)(sh.h0[2] + i, a->p[2], sh.lo[2], sh.hi[2]);
    kfull[i] = (NLM_REAL)(a->hinv2 / (double)(sh.full * a->cx[i]));
  }

  const ptrdiff_t pz = a->p[0];
  if (pz == 0) {
    for (ptrdiff_t z = sh.h0[0]; z < sh.h1[0]; z++) NLM_F(nlm_plane)(&sh, z, NULL);
    return;
  }
  /* Box along z over planes of y-x box sums: a ring of 2 pz + 2 planes and
   * of their pair sums. */
  const ptrdiff_t ring = 2 * pz + 2, hy = sh.h1[1] - sh.h0[1];
  const ptrdiff_t psz = hy * sh.wx, base = sh.h0[0] - pz;
  NLM_REAL *q = (NLM_REAL *)a->zring, *qp = (NLM_REAL *)a->zpair;
  for (ptrdiff_t zt = base; zt < sh.h1[0] + pz; zt++) {
    const ptrdiff_t slot = (zt - base) % ring;
    NLM_REAL *plane = q + slot * a->planelen;
    if (zt >= sh.lo[0] && zt < sh.hi[0]) {
      NLM_F(nlm_plane)(&sh, zt, plane);
    } else {
      for (ptrdiff_t i = 0; i < psz; i++) plane[i] = 0;
    }
    if (zt > base) {
      const ptrdiff_t prev = (zt - 1 - base) % ring;
      NLM_F(nlm_add)(qp + prev * a->planelen, q + prev * a->planelen, plane, psz);
    }
    const ptrdiff_t z = zt - pz;
    if (z < sh.h0[0]) continue;
    for (ptrdiff_t r = 0; r < hy; r++) {
      const ptrdiff_t off = r * sh.wx;
      const NLM_REAL *rows[BW_NLM_MAX_PATCH + 1];
      for (ptrdiff_t j = 0; j < pz; j++)
        rows[j] = qp + ((z - pz + 2 * j - base) % ring) * a->planelen + off;
      rows[pz] = plane + off;
      NLM_F(nlm_row_done)(&sh, z, sh.h0[1] + r, rows, (int)pz + 1);
    }
  }
}

/* Every offset of the upper half of the search window, in a fixed order. */
NLM_TARGET static void NLM_F(nlm_tile)(const bw_nlm_tile *a) {
  const ptrdiff_t sz = a->s[0], sy = a->s[1], sx = a->s[2];
  for (ptrdiff_t oz = 0; oz <= sz; oz++)
    for (ptrdiff_t oy = oz > 0 ? -sy : 0; oy <= sy; oy++)
      for (ptrdiff_t ox = (oz > 0 || oy > 0) ? -sx : 1; ox <= sx; ox++)
        NLM_F(nlm_offset)(a, oz, oy, ox);
}

#undef NLM_CAT2
#undef NLM_CAT
#undef NLM_F
#undef NLM_INLINE
#undef NLM_REAL
#undef NLM_EXP2NEG
#undef NLM_SUFFIX
#undef NLM_TARGET
