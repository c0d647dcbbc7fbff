/*
 * The 16-bit pair path of blockwise statistics: correlation of u16 and i16
 * pairs, the main job, with 32-bit sums (bw_block_internal.h declares it,
 * bw_block.c decides when it is taken, bw_pairsum.c sums the rows).
 *
 * For each chunk of a slab the values met fix a centre c per input (the
 * middle of their range) and a bound m on |x - c|; each lane of
 * bw_p16_sums adds two columns, 2*m^2 per row at most, so groups of
 * (2^31 - 1) / (2 m^2) rows fit 32 bits and are folded into the int64 block
 * sums after each group.  Sums are exact whatever the centre, so results
 * equal the generic kernel's.  When m is too large for even one row (values
 * spanning the whole 16-bit range), the chunk goes through the generic
 * kernel.
 *
 * Taken when all five sums are needed and nothing else (no min/max), the
 * inputs are 16-bit with contiguous rows, blocks are at most CHUNK columns
 * wide with an even width (so lanes never straddle blocks) and at most
 * nmax64 pixels (int64 block sums).
 */
#include "bw_block_internal.h"

#include <stdint.h>
#include <string.h>

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

/* The clones stay static, as the generic kernels do (see bw_slab_kernel). */
void bw_p16_slab(const geom *g, const needs *nd, ptrdiff_t oz, ptrdiff_t oy,
                 const slab_acc *sa, void *colv, void *tmp, bw_p16_fn rows_fn,
                 slab_fn generic, int is_signed) {
  p16_slab(g, nd, oz, oy, sa, colv, tmp, rows_fn, generic, is_signed);
}
