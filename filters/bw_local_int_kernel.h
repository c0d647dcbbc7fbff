/*
 * One instantiation of the exact integer engine of local statistics
 * (bw_local_int.c includes this file once per accumulator width).
 *
 * Expects (and #undefs at its end):
 *   LI_NAME  prefix of the (static) names defined here; LI_NAME_run is the
 *            engine (the signature of bw_local_int)
 *   LI_V     type of a centred value v = x - centre and of the products
 *            v*v, v*w (int32_t for 8- and 16-bit inputs, |v| <= 2^15;
 *            int64_t for 32-bit inputs, |v| <= 2^31)
 *   LI_Q2    type of the sums of squares and products (uint64_t; unsigned
 *            __int128 for 32-bit inputs)
 *   LI_S2    the signed type of the same width
 *
 * All sums are unsigned, so they wrap instead of overflowing; a window's
 * sum is a difference of two of them and exact whenever the true sum fits
 * the signed type, which the bounds in bw_local_int.c guarantee.
 *
 * The work, per tile of output rows and columns: along z, plane sums over
 * the z-window of every row of the tile's input box, kept from one output
 * plane to the next by adding the planes that enter and subtracting those
 * that leave (only where the radius along z is not 0); along y, column sums
 * over the y-window kept likewise from one output row to the next; along x,
 * prefix sums of those column sums, from which each window's sum is one
 * difference.  Every input row is so added once and subtracted once per
 * pass, whatever the radius.
 */

#define LI_CAT2(a, b) a##b
#define LI_CAT(a, b) LI_CAT2(a, b)
#define LI_(x) LI_CAT(LI_NAME, x)

/* One row (or several rows, back to back) of each sum. */
typedef struct LI_(q) {
  uint64_t *s1[2];
  LI_Q2 *s2[2], *ab;
} LI_(q);

/* q moved on by @off elements. */
static LI_(q) LI_(at)(const LI_(q) *q, ptrdiff_t off) {
  LI_(q) r;
  for (int s = 0; s < 2; s++) {
    r.s1[s] = q->s1[s] ? q->s1[s] + off : NULL;
    r.s2[s] = q->s2[s] ? q->s2[s] + off : NULL;
  }
  r.ab = q->ab ? q->ab + off : NULL;
  return r;
}

static void LI_(zero)(const LI_(q) *q, ptrdiff_t w) {
  for (int s = 0; s < 2; s++) {
    if (q->s1[s]) memset(q->s1[s], 0, (size_t)w * sizeof *q->s1[s]);
    if (q->s2[s]) memset(q->s2[s], 0, (size_t)w * sizeof *q->s2[s]);
  }
  if (q->ab) memset(q->ab, 0, (size_t)w * sizeof *q->ab);
}

/* Centred values of row (z, y), columns x0 .. x0 + w - 1, of input s. */
BW_CLONES static void LI_(load)(const lc_geom *g, int s, ptrdiff_t z, ptrdiff_t y,
                      ptrdiff_t x0, ptrdiff_t w, LI_V *restrict v) {
  const char *p = g->base[s] + (z - g->i0[0]) * g->str[s][0] +
                  (y - g->i0[1]) * g->str[s][1] + (x0 - g->i0[2]) * g->str[s][2];
  const ptrdiff_t sx = g->str[s][2];
  switch (g->dt) {
#define LI_LOAD(T, CEN)                                                      \
  if (sx == (ptrdiff_t)sizeof(T)) {                                          \
    const T *restrict q = (const T *)(const void *)p;                        \
    for (ptrdiff_t i = 0; i < w; i++) v[i] = (LI_V)((int64_t)q[i] - (CEN));  \
  } else {                                                                   \
    for (ptrdiff_t i = 0; i < w; i++) {                                      \
      T x;                                                                   \
      memcpy(&x, p + i * sx, sizeof x);                                      \
      v[i] = (LI_V)((int64_t)x - (CEN));                                     \
    }                                                                        \
  }                                                                          \
  break;
  case BW_U8: LI_LOAD(uint8_t, 128)
  case BW_I8: LI_LOAD(int8_t, 0)
  case BW_U16: LI_LOAD(uint16_t, 32768)
  case BW_I16: LI_LOAD(int16_t, 0)
  case BW_U32: LI_LOAD(uint32_t, 2147483648ll)
  case BW_I32: LI_LOAD(int32_t, 0)
#undef LI_LOAD
  default: break;
  }
}

/* c += (or -=, sub) the sums of one row of values va, vb. */
BW_CLONES static void LI_(add_values)(const LI_(q) *c,
                                            const LI_V *restrict va,
                                            const LI_V *restrict vb,
                                            ptrdiff_t w, int sub) {
  const LI_V *v[2] = {va, vb};
  for (int s = 0; s < 2; s++) {
    const LI_V *restrict x = v[s];
    uint64_t *restrict s1 = c->s1[s];
    LI_Q2 *restrict s2 = c->s2[s];
    if (s1 && sub)
      for (ptrdiff_t i = 0; i < w; i++) s1[i] -= (uint64_t)(int64_t)x[i];
    else if (s1)
      for (ptrdiff_t i = 0; i < w; i++) s1[i] += (uint64_t)(int64_t)x[i];
    if (s2 && sub)
      for (ptrdiff_t i = 0; i < w; i++) s2[i] -= (LI_Q2)(LI_S2)(x[i] * x[i]);
    else if (s2)
      for (ptrdiff_t i = 0; i < w; i++) s2[i] += (LI_Q2)(LI_S2)(x[i] * x[i]);
  }
  if (c->ab) {
    LI_Q2 *restrict ab = c->ab;
    if (sub)
      for (ptrdiff_t i = 0; i < w; i++) ab[i] -= (LI_Q2)(LI_S2)(va[i] * vb[i]);
    else
      for (ptrdiff_t i = 0; i < w; i++) ab[i] += (LI_Q2)(LI_S2)(va[i] * vb[i]);
  }
}

/* c += (or -=, sub) the sums of row set r. */
BW_CLONES static void LI_(add_sums)(const LI_(q) *c, const LI_(q) *r,
                                          ptrdiff_t w, int sub) {
  for (int s = 0; s < 2; s++) {
    if (c->s1[s]) {
      uint64_t *restrict d = c->s1[s];
      const uint64_t *restrict x = r->s1[s];
      if (sub)
        for (ptrdiff_t i = 0; i < w; i++) d[i] -= x[i];
      else
        for (ptrdiff_t i = 0; i < w; i++) d[i] += x[i];
    }
    LI_Q2 *q2[2] = {c->s2[s], s == 0 ? c->ab : NULL};
    const LI_Q2 *r2[2] = {r->s2[s], s == 0 ? r->ab : NULL};
    for (int k = 0; k < 2; k++) {
      if (!q2[k]) continue;
      LI_Q2 *restrict d = q2[k];
      const LI_Q2 *restrict x = r2[k];
      if (sub)
        for (ptrdiff_t i = 0; i < w; i++) d[i] -= x[i];
      else
        for (ptrdiff_t i = 0; i < w; i++) d[i] += x[i];
    }
  }
}

/* The scratch of one call. */
typedef struct LI_(work) {
  const lc_geom *g;
  LI_V *va, *vb;     /* one row of values each */
  LI_V *va2, *vb2;   /* and the row leaving the window */
  LI_(q) col;        /* column sums over the y-window, box width */
  LI_(q) pre;        /* their prefix sums, box width + 1 */
  LI_(q) zs;         /* plane sums over the z-window, box rows x width */
  ptrdiff_t *xl, *xh; /* window columns of the tile's outputs, box-relative */
  int64_t *nw;        /* their widths */
  ptrdiff_t ja, jb;   /* outputs ja .. jb - 1 have unclipped windows at step 1: */
  ptrdiff_t ol, oh;   /* columns j + ol .. j + oh - 1 */
  int64_t *w1[2], *w2[3]; /* window sums of a row: a, b; aa, bb, ab */
  double *rbuf;           /* r of a row, where the engine gives CORR itself */
  lc_row row;
  int zsum;          /* radius along z > 0: plane sums */
  int fin64;         /* numerators fit int64 */
  int64_t cen[2];    /* the centre the values are taken about */
} LI_(work);

/* Adds (or subtracts) input plane z, rows y0..y0+h-1, into the plane sums. */
static void LI_(add_plane)(LI_(work) *W, ptrdiff_t z, ptrdiff_t y0, ptrdiff_t h,
                           ptrdiff_t x0, ptrdiff_t w, int sub) {
  for (ptrdiff_t y = 0; y < h; y++) {
    LI_(load)(W->g, 0, z, y0 + y, x0, w, W->va);
    if (W->g->base[1]) LI_(load)(W->g, 1, z, y0 + y, x0, w, W->vb);
    const LI_(q) dst = LI_(at)(&W->zs, y * w);
    LI_(add_values)(&dst, W->va, W->vb, w, sub);
  }
}

#ifdef LI_FAST
/* c += the sums of row (in) minus those of row (out), in one pass: for
 * 16-bit values the differences of squares fit int32 and those of products
 * int64, so every column sum stays exact. */
BW_CLONES static void LI_(add_diff)(const LI_(q) *c, const LI_V *restrict ai,
                                    const LI_V *restrict bi, const LI_V *restrict ao,
                                    const LI_V *restrict bo, ptrdiff_t w) {
  const LI_V *in[2] = {ai, bi}, *out[2] = {ao, bo};
  for (int s = 0; s < 2; s++) {
    const LI_V *restrict x = in[s], *restrict y = out[s];
    uint64_t *restrict s1 = c->s1[s];
    LI_Q2 *restrict s2 = c->s2[s];
    if (s1) for (ptrdiff_t i = 0; i < w; i++) s1[i] += (uint64_t)(int64_t)(x[i] - y[i]);
    if (s2)
      for (ptrdiff_t i = 0; i < w; i++) s2[i] += (LI_Q2)(LI_S2)(x[i] * x[i] - y[i] * y[i]);
  }
  if (c->ab) {
    LI_Q2 *restrict ab = c->ab;
    for (ptrdiff_t i = 0; i < w; i++)
      ab[i] += (LI_Q2)((int64_t)ai[i] * bi[i] - (int64_t)ao[i] * bo[i]);
  }
}

/* The y-window moves from [out, in - 1] to [out + 1, in] (2-D). */
static void LI_(slide_row)(LI_(work) *W, ptrdiff_t z, ptrdiff_t out, ptrdiff_t in,
                           ptrdiff_t x0, ptrdiff_t w) {
  const int pair = W->g->base[1] != NULL;
  LI_(load)(W->g, 0, z, in, x0, w, W->va);
  LI_(load)(W->g, 0, z, out, x0, w, W->va2);
  if (pair) {
    LI_(load)(W->g, 1, z, in, x0, w, W->vb);
    LI_(load)(W->g, 1, z, out, x0, w, W->vb2);
  }
  LI_(add_diff)(&W->col, W->va, W->vb, W->va2, W->vb2, w);
}
#endif

/* Adds (or subtracts) row y of the current plane into the column sums. */
static void LI_(add_row)(LI_(work) *W, ptrdiff_t z, ptrdiff_t y, ptrdiff_t y0,
                         ptrdiff_t x0, ptrdiff_t w, int sub) {
  if (W->zsum) {
    const LI_(q) src = LI_(at)(&W->zs, (y - y0) * w);
    LI_(add_sums)(&W->col, &src, w, sub);
  } else {
    LI_(load)(W->g, 0, z, y, x0, w, W->va);
    if (W->g->base[1]) LI_(load)(W->g, 1, z, y, x0, w, W->vb);
    LI_(add_values)(&W->col, W->va, W->vb, w, sub);
  }
}

#ifdef LI_FAST
/* Window sums d[j] of prefix sums p for the tile's outputs: contiguous
 * differences where the windows are unclipped, gathered elsewhere. */
static inline void LI_(win)(const LI_(work) *W, ptrdiff_t nx, const uint64_t *restrict p,
                            int64_t *restrict d) {
  const ptrdiff_t *xl = W->xl, *xh = W->xh, ja = W->ja, jb = W->jb;
  for (ptrdiff_t j = 0; j < ja; j++) d[j] = (int64_t)(p[xh[j] + 1] - p[xl[j]]);
  const uint64_t *restrict ph = p + W->oh, *restrict pl = p + W->ol;
  for (ptrdiff_t j = ja; j < jb; j++) d[j] = (int64_t)(ph[j] - pl[j]);
  for (ptrdiff_t j = jb > ja ? jb : ja; j < nx; j++) d[j] = (int64_t)(p[xh[j] + 1] - p[xl[j]]);
}

/* The moments of finish_row where the numerators fit int64, in loops that
 * vectorise; the same values as the general loop. */
BW_CLONES static void LI_(finish_fast)(LI_(work) *W, ptrdiff_t nx, int64_t cnt_zy) {
  const LI_(q) *p = &W->pre;
  lc_row *o = &W->row;
  const int64_t *restrict nw = W->nw;
  if (W->g->corr_only) {
    /* r itself */
    int64_t *restrict ta = W->w1[0], *restrict tb = W->w1[1];
    int64_t *restrict qa = W->w2[0], *restrict qb = W->w2[1], *restrict qab = W->w2[2];
    LI_(win)(W, nx, p->s1[0], ta);
    LI_(win)(W, nx, p->s1[1], tb);
    LI_(win)(W, nx, (const uint64_t *)p->s2[0], qa);
    LI_(win)(W, nx, (const uint64_t *)p->s2[1], qb);
    LI_(win)(W, nx, (const uint64_t *)p->ab, qab);
    double *restrict r = W->rbuf;
    const double fill = W->g->fill;
    for (ptrdiff_t j = 0; j < nx; j++) {
      /* r = Nab / sqrt(Na Nb) from the exact numerators N = n S2 - S1^2,
       * each rounded once to double: one square root and one division
       * (the 1/n of M2 and Mab cancels) */
      const int64_t n = cnt_zy * nw[j];
      const double na = (double)(n * qa[j] - ta[j] * ta[j]);
      const double nb = (double)(n * qb[j] - tb[j] * tb[j]);
      const double nab = (double)(n * qab[j] - ta[j] * tb[j]);
      double v = nab / sqrt(na * nb);
      v = v > 1 ? 1 : v;
      v = v < -1 ? -1 : v;
      r[j] = (na == 0 || nb == 0) ? fill : v;
    }
    o->r = r;
    return;
  }
  double *restrict cnt = o->cnt;
  for (ptrdiff_t j = 0; j < nx; j++) cnt[j] = (double)(cnt_zy * nw[j]);
  for (int s = 0; s < 2; s++) {
    if (!p->s1[s]) continue;
    int64_t *restrict t1 = W->w1[s];
    LI_(win)(W, nx, p->s1[s], t1);
    const int64_t cen = W->cen[s];
    double *restrict sum = o->sum[s], *restrict mean = o->mean[s];
    for (ptrdiff_t j = 0; j < nx && !W->g->no_means; j++) {
      const int64_t n = cnt_zy * nw[j];
      sum[j] = (double)(t1[j] + n * cen);
      mean[j] = (double)cen + (double)t1[j] / (double)n;
    }
    if (!p->s2[s]) continue;
    int64_t *restrict t2 = W->w2[s];
    LI_(win)(W, nx, (const uint64_t *)p->s2[s], t2);
    double *restrict m2 = o->m2[s];
    for (ptrdiff_t j = 0; j < nx; j++) {
      const int64_t n = cnt_zy * nw[j];
      m2[j] = (double)(n * t2[j] - t1[j] * t1[j]) / (double)n;
    }
  }
  if (p->ab) {
    int64_t *restrict tab = W->w2[2];
    const int64_t *restrict ta = W->w1[0], *restrict tb = W->w1[1];
    LI_(win)(W, nx, (const uint64_t *)p->ab, tab);
    double *restrict mab = o->mab;
    for (ptrdiff_t j = 0; j < nx; j++) {
      const int64_t n = cnt_zy * nw[j];
      mab[j] = (double)(n * tab[j] - ta[j] * tb[j]) / (double)n;
    }
  }
}
#endif

/* Prefix sums of the column sums, then the moments of the tile's outputs
 * of this row; cnt_zy is the window's extent in z times in y. */
static void LI_(finish_row)(LI_(work) *W, ptrdiff_t w, ptrdiff_t nx,
                            int64_t cnt_zy) {
  const LI_(q) *c = &W->col, *p = &W->pre;
#ifdef LI_FAST
  if (c->s1[0] && c->s1[1] && c->s2[0] && c->s2[1] && c->ab) {
    /* the five prefix sums of a pair in one loop: five chains side by side */
    uint64_t *restrict d0 = p->s1[0], *restrict d1 = p->s1[1];
    LI_Q2 *restrict d2 = p->s2[0], *restrict d3 = p->s2[1], *restrict d4 = p->ab;
    const uint64_t *restrict c0 = c->s1[0], *restrict c1 = c->s1[1];
    const LI_Q2 *restrict c2 = c->s2[0], *restrict c3 = c->s2[1], *restrict c4 = c->ab;
    uint64_t a0 = 0, a1 = 0;
    LI_Q2 a2 = 0, a3 = 0, a4 = 0;
    d0[0] = d1[0] = 0, d2[0] = d3[0] = d4[0] = 0;
    /* in two loops, so that pointers and sums stay in registers */
    for (ptrdiff_t i = 0; i < w; i++)
      d0[i + 1] = a0 += c0[i], d1[i + 1] = a1 += c1[i], d2[i + 1] = a2 += c2[i];
    for (ptrdiff_t i = 0; i < w; i++) d3[i + 1] = a3 += c3[i], d4[i + 1] = a4 += c4[i];
    if (W->fin64) {
      LI_(finish_fast)(W, nx, cnt_zy);
      return;
    }
  } else
#endif
  for (int s = 0; s < 2; s++) {
    if (c->s1[s]) {
      uint64_t *restrict d = p->s1[s], acc = 0;
      d[0] = 0;
      for (ptrdiff_t i = 0; i < w; i++) d[i + 1] = acc += c->s1[s][i];
    }
    LI_Q2 *q2[2] = {p->s2[s], s == 0 ? p->ab : NULL};
    const LI_Q2 *c2[2] = {c->s2[s], s == 0 ? c->ab : NULL};
    for (int k = 0; k < 2; k++) {
      if (!q2[k]) continue;
      LI_Q2 *restrict d = q2[k], acc = 0;
      d[0] = 0;
      for (ptrdiff_t i = 0; i < w; i++) d[i + 1] = acc += c2[k][i];
    }
  }
#ifdef LI_FAST
  if (W->fin64) {
    LI_(finish_fast)(W, nx, cnt_zy);
    return;
  }
#endif
  const ptrdiff_t *xl = W->xl, *xh = W->xh;
  const lc_row *o = &W->row;
  for (ptrdiff_t j = 0; j < nx; j++) {
    const int64_t n = cnt_zy * (int64_t)(xh[j] - xl[j] + 1);
    const double dn = (double)n;
    o->cnt[j] = dn;
    int64_t s1[2] = {0, 0};
    for (int s = 0; s < 2; s++) {
      if (!p->s1[s]) continue;
      s1[s] = (int64_t)(p->s1[s][xh[j] + 1] - p->s1[s][xl[j]]);
      o->sum[s][j] = (double)((i128)s1[s] + (i128)n * W->cen[s]);
      o->mean[s][j] = (double)W->cen[s] + (double)s1[s] / dn;
      if (!p->s2[s]) continue;
      const LI_S2 s2 = (LI_S2)(p->s2[s][xh[j] + 1] - p->s2[s][xl[j]]);
      if (W->fin64)
        o->m2[s][j] = (double)(n * (int64_t)s2 - s1[s] * s1[s]) / dn;
      else
        o->m2[s][j] = (double)((i128)n * s2 - (i128)s1[s] * s1[s]) / dn;
    }
    if (p->ab) {
      const LI_S2 ab = (LI_S2)(p->ab[xh[j] + 1] - p->ab[xl[j]]);
      if (W->fin64)
        o->mab[j] = (double)(n * (int64_t)ab - s1[0] * s1[1]) / dn;
      else
        o->mab[j] = (double)((i128)n * ab - (i128)s1[0] * s1[1]) / dn;
    }
  }
}

/* Moves a window [*lo, *hi] (empty when *lo > *hi) to [nl, nh], both ends
 * moving forward, by adding and subtracting rows or planes. */
#define LI_SLIDE(lo, hi, nl, nh, ZERO, ADD)                                  \
  do {                                                                       \
    if ((nl) > *(hi)) {                                                      \
      ZERO;                                                                  \
      for (ptrdiff_t t_ = (nl); t_ <= (nh); t_++) ADD(t_, 0);                \
    } else {                                                                 \
      for (ptrdiff_t t_ = *(lo); t_ < (nl); t_++) ADD(t_, 1);                \
      for (ptrdiff_t t_ = *(hi) + 1; t_ <= (nh); t_++) ADD(t_, 0);           \
    }                                                                        \
    *(lo) = (nl);                                                            \
    *(hi) = (nh);                                                            \
  } while (0)

/* One tile: outputs ty0 .. ty0 + tyn - 1 by tx0 .. tx0 + txn - 1 of every
 * output plane kz0 .. kz0 + kzn - 1. */
static void LI_(tile)(LI_(work) *W, ptrdiff_t kz0, ptrdiff_t kzn, ptrdiff_t ty0,
                      ptrdiff_t tyn, ptrdiff_t tx0, ptrdiff_t txn,
                      lc_emit_fn emit, void *ctx) {
  const lc_geom *g = W->g;
  const ptrdiff_t x0 = lc_lo(g, 2, tx0), w = lc_hi(g, 2, tx0 + txn - 1) - x0 + 1;
  const ptrdiff_t y0 = lc_lo(g, 1, ty0), h = lc_hi(g, 1, ty0 + tyn - 1) - y0 + 1;
  for (ptrdiff_t j = 0; j < txn; j++) {
    W->xl[j] = lc_lo(g, 2, tx0 + j) - x0;
    W->xh[j] = lc_hi(g, 2, tx0 + j) - x0;
    W->nw[j] = (int64_t)(W->xh[j] - W->xl[j] + 1);
  }
  /* unclipped windows at step 1: tx0 + j - r >= 0 and tx0 + j + r < n */
  W->ja = W->jb = 0;
  if (g->st[2] == 1) {
    ptrdiff_t ja = g->r[2] - tx0, jb = g->n[2] - g->r[2] - tx0;
    ja = ja < 0 ? 0 : ja > txn ? txn : ja;
    jb = jb > txn ? txn : jb < ja ? ja : jb;
    W->ja = ja, W->jb = jb;
    W->ol = tx0 - g->r[2] - x0, W->oh = tx0 + g->r[2] - x0 + 1;
  }
  ptrdiff_t zl = 0, zh = -1; /* empty */
  for (ptrdiff_t kz = kz0; kz < kz0 + kzn; kz++) {
    const ptrdiff_t nzl = lc_lo(g, 0, kz), nzh = lc_hi(g, 0, kz);
    if (W->zsum) {
#define LI_ZADD(z, sub) LI_(add_plane)(W, z, y0, h, x0, w, sub)
      LI_SLIDE(&zl, &zh, nzl, nzh, LI_(zero)(&W->zs, h * w), LI_ZADD);
#undef LI_ZADD
    }
    ptrdiff_t yl = 0, yh = -1;
    for (ptrdiff_t ky = ty0; ky < ty0 + tyn; ky++) {
      const ptrdiff_t nyl = lc_lo(g, 1, ky), nyh = lc_hi(g, 1, ky);
#define LI_YADD(y, sub) LI_(add_row)(W, nzl, y, y0, x0, w, sub)
#ifdef LI_FAST
      /* the window moved by one row: one pass adds the new row and takes
       * the old one away */
      if (!W->zsum && nyl == yl + 1 && nyh == yh + 1 && yl <= yh) {
        LI_(slide_row)(W, nzl, yl, nyh, x0, w);
        yl = nyl, yh = nyh;
      } else
#endif
      LI_SLIDE(&yl, &yh, nyl, nyh, LI_(zero)(&W->col, w), LI_YADD);
#undef LI_YADD
      LI_(finish_row)(W, w, txn, (int64_t)(nzh - nzl + 1) * (nyh - nyl + 1));
      emit(ctx, kz, ky, tx0, txn, &W->row);
    }
  }
}

/* Carves n elements of type T from *mem when @on. */
#define LI_TAKE(mem, T, n, on) ((on) ? (T *)lc_take(mem, (size_t)(n) * sizeof(T)) : NULL)

static bw_status LI_(run)(const lc_geom *g, const ptrdiff_t *k0,
                          const ptrdiff_t *kn, int fin64, lc_emit_fn emit,
                          void *ctx, bw_error *err) {
  LI_(work) W;
  memset(&W, 0, sizeof W);
  W.g = g;
  W.zsum = g->r[0] > 0 && g->n[0] > 1;
  W.fin64 = fin64;
  for (int s = 0; s < 2; s++)
    W.cen[s] = g->dt == BW_U8 ? 128 : g->dt == BW_U16 ? 32768
             : g->dt == BW_U32 ? 2147483648ll : 0;
  /* Plane sums are kept for the input box of a tile: tiles bound it. */
  const int fixed[3] = {1, !W.zsum, !W.zsum};
  ptrdiff_t tile[3];
  bw_local_tile(g, kn, LC_INT_BOX, fixed, tile);
  /* the input box of any tile, at most (tile - 1) step + 2 radius + 1 */
  ptrdiff_t wmax = (tile[2] - 1) * g->st[2] + 2 * g->r[2] + 1;
  ptrdiff_t hmax = (tile[1] - 1) * g->st[1] + 2 * g->r[1] + 1;
  if (wmax > g->n[2]) wmax = g->n[2];
  if (hmax > g->n[1]) hmax = g->n[1];
  const unsigned nd = g->need;
  const int use[2][2] = {{!!(nd & LC_A1), !!(nd & LC_A2)},
                         {!!(nd & LC_B1), !!(nd & LC_B2)}};
  const int nq = !!(nd & LC_A1) + !!(nd & LC_B1),
            nq2 = !!(nd & LC_A2) + !!(nd & LC_B2) + !!(nd & LC_AB);
  const size_t per = (size_t)nq * 8 + (size_t)nq2 * sizeof(LI_Q2);
  size_t total = 4 * (size_t)wmax * sizeof(LI_V) + per * (2 * (size_t)wmax + 1) +
                 2 * (size_t)tile[2] * sizeof(ptrdiff_t) +
                 LC_ROW_ARRAYS * (size_t)tile[2] * sizeof(double) +
                 7 * (size_t)tile[2] * sizeof(int64_t) + 64 * 44;
  if (W.zsum) total += per * (size_t)wmax * (size_t)hmax;
  lc_mem mem;
  if (lc_mem_alloc(&mem, total))
    return bw_fail(err, BW_ERR_NOMEM, "local: no memory for %zu bytes of scratch",
                   total);
  W.va = LI_TAKE(&mem, LI_V, wmax, 1);
  W.vb = LI_TAKE(&mem, LI_V, wmax, 1);
  W.va2 = LI_TAKE(&mem, LI_V, wmax, 1);
  W.vb2 = LI_TAKE(&mem, LI_V, wmax, 1);
  LI_(q) *qs[3] = {&W.col, &W.pre, &W.zs};
  const ptrdiff_t qn[3] = {wmax, wmax + 1, W.zsum ? wmax * hmax : 0};
  for (int k = 0; k < 3; k++) {
    const int on = qn[k] > 0;
    for (int s = 0; s < 2; s++) {
      qs[k]->s1[s] = LI_TAKE(&mem, uint64_t, qn[k], on && use[s][0]);
      qs[k]->s2[s] = LI_TAKE(&mem, LI_Q2, qn[k], on && use[s][1]);
    }
    qs[k]->ab = LI_TAKE(&mem, LI_Q2, qn[k], on && (nd & LC_AB));
  }
  W.xl = LI_TAKE(&mem, ptrdiff_t, tile[2], 1);
  W.xh = LI_TAKE(&mem, ptrdiff_t, tile[2], 1);
  W.nw = LI_TAKE(&mem, int64_t, tile[2], 1);
  for (int k = 0; k < 2; k++) W.w1[k] = LI_TAKE(&mem, int64_t, tile[2], 1);
  for (int k = 0; k < 3; k++) W.w2[k] = LI_TAKE(&mem, int64_t, tile[2], 1);
  W.rbuf = LI_TAKE(&mem, double, tile[2], 1);
  double **rows[LC_ROW_ARRAYS];
  lc_row_arrays(&W.row, rows);
  for (int k = 0; k < LC_ROW_ARRAYS; k++) *rows[k] = LI_TAKE(&mem, double, tile[2], 1);

  for (ptrdiff_t ty = k0[1]; ty < k0[1] + kn[1]; ty += tile[1])
    for (ptrdiff_t tx = k0[2]; tx < k0[2] + kn[2]; tx += tile[2]) {
      const ptrdiff_t tyn = k0[1] + kn[1] - ty < tile[1] ? k0[1] + kn[1] - ty : tile[1];
      const ptrdiff_t txn = k0[2] + kn[2] - tx < tile[2] ? k0[2] + kn[2] - tx : tile[2];
      LI_(tile)(&W, k0[0], kn[0], ty, tyn, tx, txn, emit, ctx);
    }
  lc_mem_free(&mem);
  return BW_OK;
}

#undef LI_TAKE
#undef LI_SLIDE
#undef LI_
#undef LI_CAT
#undef LI_CAT2
#undef LI_NAME
#undef LI_V
#undef LI_Q2
#undef LI_S2
#undef LI_FAST
