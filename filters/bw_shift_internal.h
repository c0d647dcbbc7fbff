/*
 * Internal to per-block displacement: what the driver (bw_shift.c) and the
 * summed-area engine (bw_shift_fast.c) share.  Nothing here is exported.
 * Everything is in 3-D form (a 2-D image is one plane, search 0 along z).
 */
#ifndef BW_SHIFT_INTERNAL_H
#define BW_SHIFT_INTERNAL_H

#include "bw_internal.h"
#include "bw_shift.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sh_fast sh_fast;

typedef struct sh_call {
  ptrdiff_t n[3], blk[3], s[3];
  const char *base[2];
  ptrdiff_t str[2][3], i0[2][3];
  bw_dtype dt;
  int is_flt, wide;
  void *abuf, *bbuf; /* a block, and of B the block grown by the search */
  double *r;         /* r per shift */
  sh_fast *fast;     /* the summed-area engine's scratch, or NULL */
} sh_call;

/* The address of pixel p (image coordinates) of input s. */
static inline const char *sh_at(const sh_call *c, int s, ptrdiff_t z, ptrdiff_t y,
                                ptrdiff_t x) {
  return c->base[s] + (z - c->i0[s][0]) * c->str[s][0] + (y - c->i0[s][1]) * c->str[s][1] +
         (x - c->i0[s][2]) * c->str[s][2];
}

/* Pearson r from exact integer sums (a, b, aa, bb, ab) over n pairs; NaN
 * when undefined. */
static inline double sh_r_int(const i128 *s, int64_t n) {
  if (n < 2) return NAN;
  const i128 na = (i128)n * s[2] - s[0] * s[0], nb = (i128)n * s[3] - s[1] * s[1];
  if (na == 0 || nb == 0) return NAN;
  const double v = (double)((i128)n * s[4] - s[0] * s[1]) /
                   (sqrt((double)na) * sqrt((double)nb));
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

/* Pearson r from double sums (a, b, aa, bb, ab) over n pairs; NaN when
 * undefined (the caller has ruled out constant sides exactly). */
static inline double sh_r_flt(const double *s, double n) {
  if (n < 2) return NAN;
  const double ma = s[2] - s[0] * (s[0] / n), mb = s[3] - s[1] * (s[1] / n);
  const double mab = s[4] - s[0] * (s[1] / n);
  if (!(ma > 0) || !(mb > 0)) return NAN;
  const double v = mab / (sqrt(ma) * sqrt(mb));
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

/* Scratch of the summed-area engine for blocks of at most c->blk pixels
 * (and the search c->s); NULL when out of memory or the blocks are too
 * large for it. */
sh_fast *bw_shift_fast_new(const sh_call *c);
void bw_shift_fast_free(sh_fast *f);

/* r of every shift of the block [lo, lo + ae) into c->r (shift order:
 * slowest axis first), from summed-area tables of the block and of B's
 * search region and an exact cross-correlation kernel.  Returns 0 (and
 * leaves c->r alone) for blocks it does not take: non-finite floats,
 * integer blocks whose values span more than 16 bits.  *exact is set when
 * the integer sums are exact (integer inputs). */
int bw_shift_fast_block(const sh_call *c, sh_fast *f, const ptrdiff_t *lo,
                        const ptrdiff_t *ae);

#endif
