/*
 * One instantiation of the generic slab kernel of blockwise statistics
 * (bw_block_kernels.c includes this file once per input type and
 * accumulator width).  See bw_block.c for how the work is organised.
 *
 * Expects (and #undefs at its end):
 *   BK_NAME  prefix of the (static) names defined here, among them
 *            BK_NAME_slab, a slab_fn built for several instruction sets (see
 *            BW_CLONES), and BK_NAME_minmax, a minmax_fn
 *   BK_T     input element type
 *   BK_OFF   the integer centre (the middle of the type's range; 0 for
 *            floats), which keeps |v| = |x - BK_OFF| within half the range
 *            so that narrow types hold the sums; variance and covariance do
 *            not depend on it, sums add n*BK_OFF
 *   BK_ACC   per-block sum (int64_t, __int128 or double), one array per sum
 *   BK_KIND  BK_SMALL (8- and 16-bit integers), BK_INT32 or BK_FLOAT, which
 *            sets the accumulators below.
 *
 * From BK_KIND, with the bounds that make them suffice:
 *   BK_VT    type of a centred value v = x - BK_OFF (integers) or x - k
 *            (floats, k = the block's first pixel); v*v and v*w are exact
 *            in BK_VT
 *   BK_CS    per-column sum of v
 *   BK_SQ    type of v0*v0 + v1*v1 for two rows (unsigned, cannot overflow)
 *   BK_CACC  per-column sum of squares and cross products
 *   BK_FOLD  type in which a chunk's columns are added up per block
 *   BK_FLT   1 for float inputs (shifted sums, NaN-propagating min/max)
 *   BK_ROWS  even number of rows after which column sums are folded into
 *            the block sums: small enough that no column sum overflows
 *            BK_CS or BK_CACC and no chunk total (CHUNK columns) overflows
 *            BK_FOLD.
 *
 * Rows are added two at a time (v0 + v1 per column), which halves the
 * accumulator traffic and the widening of products; every path pairs rows
 * the same way from the start of the slab, so results do not depend on
 * which statistics were requested.
 */

#ifndef BK_SMALL
#define BK_SMALL 1
#define BK_INT32 2
#define BK_FLOAT 3
#endif

#if BK_KIND == BK_SMALL
/* 8- and 16-bit values, centred: |v| <= 2^15, v*v <= 2^30, so two rows of
 * squares fit uint32, value sums fit int32 for 2^15 rows, and a chunk total
 * (CHUNK * 2^14 rows * 2^30) fits int64.  Block sums are int64 when the
 * block is small enough for the finishing numerators n*S2 - S1^2 to fit
 * int64 too (see nmax64 in bw_block.c; the common case), else 128-bit. */
#define BK_VT int32_t
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_FLT 0
#define BK_ROWS ((ptrdiff_t)1 << 14)
#elif BK_KIND == BK_INT32
/* 32-bit values, centred: |v| <= 2^31, v*v <= 2^62, two rows fit uint64;
 * every column, chunk and block sum is 128-bit. */
#define BK_VT int64_t
#define BK_CS i128
#define BK_SQ uint64_t
#define BK_CACC i128
#define BK_FOLD i128
#define BK_FLT 0
#define BK_ROWS ((ptrdiff_t)1 << 14)
#elif BK_KIND == BK_FLOAT
/* floats: v = x - (block's first pixel), all in double */
#define BK_VT double
#define BK_CS double
#define BK_SQ double
#define BK_CACC double
#define BK_FOLD double
#define BK_FLT 1
#define BK_ROWS (PTRDIFF_MAX - 1)
#else
#error "BK_KIND must be BK_SMALL, BK_INT32 or BK_FLOAT"
#endif

#ifndef BK_F32_COLS
#define BK_F32_COLS 0
#endif
#define BK_CAT2(a, b) a##_##b
#define BK_CAT(a, b) BK_CAT2(a, b)
#define BK_F(name) BK_CAT(BK_NAME, name)

#ifndef BW_BLOCK_KERNEL_ONCE
#define BW_BLOCK_KERNEL_ONCE
/* rows of a slab the float column path takes at most */
#define BK_COL_ROWS 64
/* x is a NaN (never for integer types; a macro, so that compilers do not
 * warn of a comparison that is always false for those). */
#define BK_NAN(x) ((x) != (x))

#define BW_ZERO_COLUMNS()                                                      \
  do {                                                                         \
    memset(c1[0], 0, (size_t)w * sizeof(*c1[0]));                              \
    memset(c1[1], 0, (size_t)w * sizeof(*c1[1]));                              \
    memset(c2[0], 0, (size_t)w * sizeof(*c2[0]));                              \
    memset(c2[1], 0, (size_t)w * sizeof(*c2[1]));                              \
    memset(cab, 0, (size_t)w * sizeof(*cab));                                  \
  } while (0)
#endif

static inline __attribute__((always_inline)) void
BK_F(s1)(BK_CS *restrict c1, const BK_T *restrict x0, const BK_T *restrict x1,
         const BK_VT *restrict k, ptrdiff_t n, const int two) {
  if (two)
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT c = BK_FLT ? k[i] : (BK_VT)(BK_OFF);
      c1[i] += (BK_CS)(((BK_VT)x0[i] - c) + ((BK_VT)x1[i] - c));
    }
  else
    for (ptrdiff_t i = 0; i < n; i++)
      c1[i] += (BK_CS)((BK_VT)x0[i] - (BK_FLT ? k[i] : (BK_VT)(BK_OFF)));
}

static inline __attribute__((always_inline)) void
BK_F(s12)(BK_CS *restrict c1, BK_CACC *restrict c2, const BK_T *restrict x0,
          const BK_T *restrict x1, const BK_VT *restrict k, ptrdiff_t n,
          const int two) {
  if (two)
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT c = BK_FLT ? k[i] : (BK_VT)(BK_OFF);
      BK_VT u0 = (BK_VT)x0[i] - c, u1 = (BK_VT)x1[i] - c;
      c1[i] += (BK_CS)(u0 + u1);
      c2[i] += (BK_CACC)((BK_SQ)(u0 * u0) + (BK_SQ)(u1 * u1));
    }
  else
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT u0 = (BK_VT)x0[i] - (BK_FLT ? k[i] : (BK_VT)(BK_OFF));
      c1[i] += (BK_CS)u0;
      c2[i] += (BK_CACC)(BK_SQ)(u0 * u0);
    }
}

static inline __attribute__((always_inline)) void
BK_F(ab)(BK_CACC *restrict cab, const BK_T *restrict x0,
         const BK_T *restrict x1, const BK_T *restrict y0,
         const BK_T *restrict y1, const BK_VT *restrict kx,
         const BK_VT *restrict ky, ptrdiff_t n, const int two) {
  if (two)
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT cx = BK_FLT ? kx[i] : (BK_VT)(BK_OFF),
            cy = BK_FLT ? ky[i] : (BK_VT)(BK_OFF);
      cab[i] += (BK_CACC)(((BK_VT)x0[i] - cx) * ((BK_VT)y0[i] - cy)) +
                (BK_CACC)(((BK_VT)x1[i] - cx) * ((BK_VT)y1[i] - cy));
    }
  else
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT cx = BK_FLT ? kx[i] : (BK_VT)(BK_OFF),
            cy = BK_FLT ? ky[i] : (BK_VT)(BK_OFF);
      cab[i] += (BK_CACC)(((BK_VT)x0[i] - cx) * ((BK_VT)y0[i] - cy));
    }
}

/* the fused loop of the main job: both inputs, all five sums */
static inline __attribute__((always_inline)) void
BK_F(pair)(BK_CS *restrict c1a, BK_CACC *restrict c2a, BK_CS *restrict c1b,
           BK_CACC *restrict c2b, BK_CACC *restrict cab,
           const BK_T *restrict x0, const BK_T *restrict x1,
           const BK_T *restrict y0, const BK_T *restrict y1,
           const BK_VT *restrict kx, const BK_VT *restrict ky, ptrdiff_t n,
           const int two) {
  if (two)
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT cx = BK_FLT ? kx[i] : (BK_VT)(BK_OFF),
            cy = BK_FLT ? ky[i] : (BK_VT)(BK_OFF);
      BK_VT u0 = (BK_VT)x0[i] - cx, u1 = (BK_VT)x1[i] - cx;
      BK_VT v0 = (BK_VT)y0[i] - cy, v1 = (BK_VT)y1[i] - cy;
      c1a[i] += (BK_CS)(u0 + u1);
      c1b[i] += (BK_CS)(v0 + v1);
      c2a[i] += (BK_CACC)((BK_SQ)(u0 * u0) + (BK_SQ)(u1 * u1));
      c2b[i] += (BK_CACC)((BK_SQ)(v0 * v0) + (BK_SQ)(v1 * v1));
      cab[i] += (BK_CACC)(u0 * v0) + (BK_CACC)(u1 * v1);
    }
  else
    for (ptrdiff_t i = 0; i < n; i++) {
      BK_VT u0 = (BK_VT)x0[i] - (BK_FLT ? kx[i] : (BK_VT)(BK_OFF));
      BK_VT v0 = (BK_VT)y0[i] - (BK_FLT ? ky[i] : (BK_VT)(BK_OFF));
      c1a[i] += (BK_CS)u0;
      c1b[i] += (BK_CS)v0;
      c2a[i] += (BK_CACC)(BK_SQ)(u0 * u0);
      c2b[i] += (BK_CACC)(BK_SQ)(v0 * v0);
      cab[i] += (BK_CACC)(u0 * v0);
    }
}

/* min/max in the element type; for floats a NaN, once met, stays. */
static inline __attribute__((always_inline)) void
BK_F(mm)(BK_T *restrict mn, BK_T *restrict mx, const BK_T *restrict x,
         ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) {
    BK_T v = x[i];
    mn[i] = (v < mn[i] || BK_NAN(v)) ? v : mn[i];
    mx[i] = (v > mx[i] || BK_NAN(v)) ? v : mx[i];
  }
}

static const BK_T *BK_F(row)(const char *p, ptrdiff_t stride, ptrdiff_t n,
                             BK_T *restrict tmp) {
  if (stride == (ptrdiff_t)sizeof(BK_T)) return (const BK_T *)(const void *)p;
  for (ptrdiff_t i = 0; i < n; i++)
    memcpy(&tmp[i], p + i * stride, sizeof(BK_T));
  return tmp;
}

static inline __attribute__((always_inline)) void
BK_F(rows)(const needs *nd, BK_CS *const *c1, BK_CACC *const *c2, BK_CACC *cab,
           BK_T *const *cmn, BK_T *const *cmx, const BK_T *const *r0,
           const BK_T *const *r1, BK_VT *const *ck, ptrdiff_t w,
           const int two) {
  if (nd->ab && (nd->in[0] & NEED_S2) && (nd->in[1] & NEED_S2)) {
    BK_F(pair)(c1[0], c2[0], c1[1], c2[1], cab, r0[0], r1[0], r0[1], r1[1],
               ck[0], ck[1], w, two);
  } else {
    for (int s = 0; s < 2; s++) {
      if (nd->in[s] & NEED_S2)
        BK_F(s12)(c1[s], c2[s], r0[s], r1[s], ck[s], w, two);
      else if (nd->in[s] & NEED_S1)
        BK_F(s1)(c1[s], r0[s], r1[s], ck[s], w, two);
    }
    if (nd->ab) BK_F(ab)(cab, r0[0], r1[0], r0[1], r1[1], ck[0], ck[1], w, two);
  }
  for (int s = 0; s < 2; s++)
    if (nd->in[s] & NEED_MM) {
      BK_F(mm)(cmn[s], cmx[s], r0[s], w);
      if (two) BK_F(mm)(cmn[s], cmx[s], r1[s], w);
    }
}

#if BK_FLT && defined(__GNUC__)
/* The main job on floats (both inputs, all five sums, contiguous rows of
 * at most BK_COL_ROWS), with the sums of 8 columns kept in registers down
 * the slab's rows instead of in the column arrays between rows: the same
 * additions in the same order as BK_F(pair), so the same bits, without
 * loading and storing five sums per row.  Writes the column sums of
 * columns [0, w) (no zeroing needed first). */
#ifndef BK_V8D
#define BK_V8D
typedef double bk_v8d __attribute__((vector_size(64)));
#endif
typedef BK_T BK_F(v8t) __attribute__((vector_size(8 * sizeof(BK_T))));
#ifndef BK_V4D
#define BK_V4D
typedef double bk_v4d __attribute__((vector_size(32)));
#endif
typedef BK_T BK_F(v4t) __attribute__((vector_size(4 * sizeof(BK_T))));

/* 8 elements at @p, as doubles, less the shifts @k */
static inline __attribute__((always_inline)) void BK_F(ld8)(bk_v8d *out, const BK_T *p,
                                                            const bk_v8d *k) {
  BK_F(v8t) v;
  memcpy(&v, p, sizeof v);
  *out = __builtin_convertvector(v, bk_v8d) - *k;
}

/* 4 elements at @p, as doubles, less the shifts @k */
static inline __attribute__((always_inline)) void BK_F(ld4)(bk_v4d *out, const BK_T *p,
                                                            const bk_v4d *k) {
  BK_F(v4t) v;
  memcpy(&v, p, sizeof v);
  *out = __builtin_convertvector(v, bk_v4d) - *k;
}

#ifndef BK_COLS_STEP
/* Columns @N at a time as vectors @VT of doubles, loaded by @LD (i, w, the
 * rows and the sums as in BK_F(pair_cols)). */
#define BK_COLS_STEP(VT, LD, N)                                                \
  for (; i + (N) <= w; i += (N)) {                                             \
    VT ka, kb;                                                                 \
    memcpy(&ka, kx + i, sizeof ka);                                            \
    memcpy(&kb, ky + i, sizeof kb);                                            \
    VT s1a = {0}, s2a = {0}, s1b = {0}, s2b = {0}, sab = {0};                  \
    ptrdiff_t r = 0;                                                           \
    for (; r + 1 < nrows; r += 2) {                                            \
      VT u0, u1, v0, v1;                                                       \
      LD(&u0, ra[r] + i, &ka);                                                 \
      LD(&u1, ra[r + 1] + i, &ka);                                             \
      LD(&v0, rb[r] + i, &kb);                                                 \
      LD(&v1, rb[r + 1] + i, &kb);                                             \
      s1a += u0 + u1;                                                          \
      s1b += v0 + v1;                                                          \
      s2a += u0 * u0 + u1 * u1;                                                \
      s2b += v0 * v0 + v1 * v1;                                                \
      sab += u0 * v0 + u1 * v1;                                                \
    }                                                                          \
    if (r < nrows) {                                                           \
      VT u0, v0;                                                               \
      LD(&u0, ra[r] + i, &ka);                                                 \
      LD(&v0, rb[r] + i, &kb);                                                 \
      s1a += u0;                                                               \
      s1b += v0;                                                               \
      s2a += u0 * u0;                                                          \
      s2b += v0 * v0;                                                          \
      sab += u0 * v0;                                                          \
    }                                                                          \
    memcpy(c1a + i, &s1a, sizeof s1a);                                         \
    memcpy(c2a + i, &s2a, sizeof s2a);                                         \
    memcpy(c1b + i, &s1b, sizeof s1b);                                         \
    memcpy(c2b + i, &s2b, sizeof s2b);                                         \
    memcpy(cab + i, &sab, sizeof sab);                                         \
  }
#endif

static inline __attribute__((always_inline)) void
BK_F(pair_cols)(const BK_T *const *ra, const BK_T *const *rb, ptrdiff_t nrows, ptrdiff_t w,
                const double *restrict kx, const double *restrict ky, double *restrict c1a,
                double *restrict c2a, double *restrict c1b, double *restrict c2b,
                double *restrict cab) {
  ptrdiff_t i = 0;
  BK_COLS_STEP(bk_v8d, BK_F(ld8), 8)
  /* 4 more columns as one vector of 4 (the cells of a tiled slide are
   * rarely a multiple of 8 wide) */
  BK_COLS_STEP(bk_v4d, BK_F(ld4), 4)
  for (; i < w; i++) {
    double s1x = 0, s2x = 0, s1y = 0, s2y = 0, sxy = 0;
    ptrdiff_t r = 0;
    for (; r + 1 < nrows; r += 2) {
      const double u0 = (double)ra[r][i] - kx[i], u1 = (double)ra[r + 1][i] - kx[i];
      const double v0 = (double)rb[r][i] - ky[i], v1 = (double)rb[r + 1][i] - ky[i];
      s1x += u0 + u1;
      s1y += v0 + v1;
      s2x += u0 * u0 + u1 * u1;
      s2y += v0 * v0 + v1 * v1;
      sxy += u0 * v0 + u1 * v1;
    }
    if (r < nrows) {
      const double u0 = (double)ra[r][i] - kx[i], v0 = (double)rb[r][i] - ky[i];
      s1x += u0;
      s1y += v0;
      s2x += u0 * u0;
      s2y += v0 * v0;
      sxy += u0 * v0;
    }
    c1a[i] = s1x, c2a[i] = s2x, c1b[i] = s1y, c2b[i] = s2y, cab[i] = sxy;
  }
}
#define BK_HAVE_COLS 1
#else
#define BK_HAVE_COLS 0
#endif

BW_CLONES static void BK_F(slab)(const geom *g, const needs *nd, ptrdiff_t oz,
                                 ptrdiff_t oy, const slab_acc *sa,
                                 void *restrict colv, void *restrict tmpv,
                                 ptrdiff_t ja, ptrdiff_t jb) {
  BK_T *restrict tmp = (BK_T *)tmpv;
  const int two_in = nd->in[1] != 0 || nd->ab;
  const ptrdiff_t bx = g->blk[2], nx = g->n[2];
  row_cursor start;
  const ptrdiff_t nrows = slab_start(g, oz, oy, &start);
  const ptrdiff_t xend = jb * bx < nx ? jb * bx : nx;
  BK_ACC *s1[2] = {(BK_ACC *)sa->s1[0], (BK_ACC *)sa->s1[1]};
  BK_ACC *s2[2] = {(BK_ACC *)sa->s2[0], (BK_ACC *)sa->s2[1]};
  BK_ACC *sab = (BK_ACC *)sa->sab;
  BK_T *mn[2] = {(BK_T *)sa->mn[0], (BK_T *)sa->mn[1]};
  BK_T *mx[2] = {(BK_T *)sa->mx[0], (BK_T *)sa->mx[1]};
  /* column arrays, COL_BYTES(g) apart */
  char *col = (char *)colv;
  const size_t cb = COL_BYTES(g);
  const ptrdiff_t ce = g->cw;
  BK_CS *c1[2] = {(BK_CS *)(void *)col, (BK_CS *)(void *)(col + cb)};
  BK_CACC *c2[2] = {(BK_CACC *)(void *)(col + 2 * cb),
                    (BK_CACC *)(void *)(col + 3 * cb)};
  BK_CACC *cab = (BK_CACC *)(void *)(col + 4 * cb);
  BK_VT *ck[2] = {(BK_VT *)(void *)(col + 5 * cb),
                  (BK_VT *)(void *)(col + 6 * cb)};
  BK_T *cmn[2] = {tmp, tmp + ce},
       *cmx[2] = {tmp + 2 * ce, tmp + 3 * ce};
  BK_T *tr[2][2] = {{tmp + 4 * ce, tmp + 5 * ce},
                    {tmp + 6 * ce, tmp + 7 * ce}};
  /* per block: first pixel (shift for floats, start of min/max), and sums
   * from zero */
  const int mm = ((nd->in[0] | nd->in[1]) & NEED_MM) != 0;
  for (int s = 0; s < 1 + two_in; s++) {
    const char *p0 = row_ptr(g, s, &start, 0);
    const ptrdiff_t step = bx * g->st[s][2];
    for (ptrdiff_t j = ja; j < jb; j++) {
      if (BK_FLT) {
        BK_T first;
        memcpy(&first, p0 + j * step, sizeof first);
        sa->k[s][j] = isfinite((double)first) ? (double)first : 0.0;
      } else {
        sa->cen[s][j] = (BK_OFF);
      }
    }
    if (mm)
      for (ptrdiff_t j = ja; j < jb; j++) {
        BK_T first;
        memcpy(&first, p0 + j * step, sizeof first);
        mn[s][j] = mx[s][j] = first;
      }
    memset(s1[s] + ja, 0, (size_t)(jb - ja) * sizeof *s1[s]);
    memset(s2[s] + ja, 0, (size_t)(jb - ja) * sizeof *s2[s]);
  }
  memset(sab + ja, 0, (size_t)(jb - ja) * sizeof *sab);
  /* chunks: groups of whole blocks, or CHUNK-wide pieces of one block */
  for (ptrdiff_t x0 = ja * bx, jc = ja; x0 < xend;) {
    ptrdiff_t x1;
    if (bx <= CHUNK) {
      x1 = x0 + (CHUNK / bx) * bx;
    } else {
      ptrdiff_t bend = (jc + 1) * bx;
      x1 = x0 + CHUNK < bend ? x0 + CHUNK : bend;
    }
    if (x1 > xend) x1 = xend;
    const ptrdiff_t w = x1 - x0;
    /* per column: its block's shift (floats) and min/max so far (when
     * asked for) */
    const int cols = BK_HAVE_COLS && nd->ab && (nd->in[0] & NEED_S2) && (nd->in[1] & NEED_S2) && !mm &&
                     nrows <= BK_COL_ROWS && g->st[0][2] == (ptrdiff_t)sizeof(BK_T) &&
                     g->st[1][2] == (ptrdiff_t)sizeof(BK_T);
    /* bw_f32_cols_fn takes the blocks' shifts, not the columns' */
    const int block_shifts = BK_F32_COLS && cols && g->f32_cols && bx >= 8;
    if ((BK_FLT && !block_shifts) || mm) {
      for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {
        ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;
        for (int s = 0; s < 1 + two_in; s++) {
          if (BK_FLT) {
            /* 8 at a time, past the block's end into the next one's
             * columns (which it then writes) or the array's slack: ck
             * arrays hold 2 * g->cw doubles, at most g->cw used */
            const double k = sa->k[s][j];
            const double k8[8] = {k, k, k, k, k, k, k, k};
            for (ptrdiff_t i = xs - x0; i < xe - x0; i += 8) memcpy(&ck[s][i], k8, sizeof k8);
          }
          if (mm)
            for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {
              cmn[s][i] = mn[s][j];
              cmx[s][i] = mx[s][j];
            }
        }
        xs = xe;
      }
    }
    if (!cols) BW_ZERO_COLUMNS();
    row_cursor cur = start;
    for (ptrdiff_t r = 0, in_group = 0; r < nrows;) {
#if BK_HAVE_COLS
      if (cols) {
        const BK_T *ra[BK_COL_ROWS], *rb[BK_COL_ROWS];
        for (ptrdiff_t q = 0; q < nrows; q++) {
          ra[q] = (const BK_T *)(const void *)row_ptr(g, 0, &cur, x0);
          rb[q] = (const BK_T *)(const void *)row_ptr(g, 1, &cur, x0);
          row_step(&cur);
        }
#if BK_F32_COLS
        if (block_shifts)
          /* the chunk is whole blocks from jc, or inside block jc */
          g->f32_cols(ra, rb, nrows, w, sa->k[0] + jc, sa->k[1] + jc, bx <= CHUNK ? bx : w,
                      c1[0], c2[0], c1[1], c2[1], cab);
        else
#endif
          BK_F(pair_cols)(ra, rb, nrows, w, ck[0], ck[1], c1[0], c2[0], c1[1], c2[1], cab);
        r = nrows;
        goto fold;
      }
#endif
      const int two = r + 1 < nrows && in_group + 2 <= (BK_ROWS);
      const BK_T *rw[2][2] = {{NULL, NULL}, {NULL, NULL}};
      row_cursor c = cur;
      for (int q = 0; q < 1 + two; q++) {
        for (int s = 0; s < 1 + two_in; s++)
          rw[q][s] = BK_F(row)(row_ptr(g, s, &c, x0), g->st[s][2], w, tr[q][s]);
        row_step(&c);
      }
      cur = c;
      /* ask for the next two rows while this pair is summed: integer sums
       * alone are faster than memory, so hide its latency (float sums are
       * slower than memory, and the requests cost more than they hide) */
      for (ptrdiff_t q = r + 1 + two; !BK_FLT && q < r + 3 + two && q < nrows; q++) {
        for (int s = 0; s < 1 + two_in; s++) {
          const char *pf = row_ptr(g, s, &c, x0);
          const ptrdiff_t nbytes = w * g->st[s][2];
          for (ptrdiff_t o = 0; o < nbytes; o += 64) __builtin_prefetch(pf + o);
        }
        row_step(&c);
      }
      if (two)
        BK_F(rows)(nd, c1, c2, cab, cmn, cmx, rw[0], rw[1], ck, w, 1);
      else
        BK_F(rows)(nd, c1, c2, cab, cmn, cmx, rw[0], rw[0], ck, w, 0);
      r += 1 + two;
      in_group += 1 + two;
      if (in_group < (BK_ROWS) && r < nrows) continue;
#if BK_HAVE_COLS
    fold:
#endif
      in_group = 0;
      /* fold the chunk's columns into its blocks, in column order */
      if (nd->ab && (nd->in[0] & NEED_S2) && (nd->in[1] & NEED_S2)) {
        for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {
          ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;
          BK_FOLD t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
          for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {
            t0 += (BK_FOLD)c1[0][i];
            t1 += (BK_FOLD)c1[1][i];
            t2 += (BK_FOLD)c2[0][i];
            t3 += (BK_FOLD)c2[1][i];
            t4 += (BK_FOLD)cab[i];
          }
          s1[0][j] += t0;
          s1[1][j] += t1;
          s2[0][j] += t2;
          s2[1][j] += t3;
          sab[j] += t4;
          xs = xe;
        }
      } else {
        for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {
          ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;
          const ptrdiff_t i0 = xs - x0, i1 = xe - x0;
          for (int s = 0; s < 2; s++) {
            if (nd->in[s] & (NEED_S1 | NEED_S2)) {
              BK_FOLD t = 0;
              for (ptrdiff_t i = i0; i < i1; i++) t += (BK_FOLD)c1[s][i];
              s1[s][j] += t;
            }
            if (nd->in[s] & NEED_S2) {
              BK_FOLD t = 0;
              for (ptrdiff_t i = i0; i < i1; i++) t += (BK_FOLD)c2[s][i];
              s2[s][j] += t;
            }
          }
          if (nd->ab) {
            BK_FOLD t = 0;
            for (ptrdiff_t i = i0; i < i1; i++) t += (BK_FOLD)cab[i];
            sab[j] += t;
          }
          xs = xe;
        }
      }
      if (r < nrows) BW_ZERO_COLUMNS();
    }
    /* min/max fold (idempotent, so once per chunk is enough) */
    for (int s = 0; s < 2; s++) {
      if (!(nd->in[s] & NEED_MM)) continue;
      for (ptrdiff_t xs = x0, j = jc; xs < x1; j++) {
        ptrdiff_t xe = (j + 1) * bx < x1 ? (j + 1) * bx : x1;
        BK_T lo = mn[s][j], hi = mx[s][j];
        for (ptrdiff_t i = xs - x0; i < xe - x0; i++) {
          BK_T v = cmn[s][i], u = cmx[s][i];
          if (v < lo || BK_NAN(v)) lo = v;
          if (u > hi || BK_NAN(u)) hi = u;
        }
        mn[s][j] = lo;
        mx[s][j] = hi;
        xs = xe;
      }
    }
    jc += bx <= CHUNK ? (x1 - x0 + bx - 1) / bx : (x1 == (jc + 1) * bx);
    x0 = x1;
  }
}

/* min and max of a slab as doubles */
static void BK_F(minmax)(const slab_acc *sa, const needs *nd, ptrdiff_t ox,
                         const slab_fin *f) {
  for (int s = 0; s < 2; s++) {
    if (!(nd->in[s] & NEED_MM)) continue;
    const BK_T *lo = (const BK_T *)sa->mn[s], *hi = (const BK_T *)sa->mx[s];
    for (ptrdiff_t j = 0; j < ox; j++) {
      f->mn[s][j] = (double)lo[j];
      f->mx[s][j] = (double)hi[j];
    }
  }
}

#undef BK_F
#undef BK_CAT
#undef BK_CAT2
#undef BK_NAME
#undef BK_T
#undef BK_VT
#undef BK_OFF
#undef BK_CS
#undef BK_SQ
#undef BK_CACC
#undef BK_FOLD
#undef BK_ACC
#undef BK_FLT
#undef BK_ROWS
#undef BK_KIND
#undef BK_HAVE_COLS
#undef BK_F32_COLS
