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

/* r values within SH_TIE of each other tie: of the shifts whose r is
 * within it of the largest, the search takes the shortest (the first in
 * shift order among equally long ones), so that a block that fits equally
 * well at many shifts (constant along an axis, periodic, flat in one image
 * of the pair along a line) reports the least movement, not the first
 * shift of the search.  The rounding of r is far below it. */
#define SH_TIE 1e-10

/* The shift bw_block_shift() takes from r of every shift (c->r's layout,
 * search radii s[3]): the shortest of those tied with the largest r, or -1
 * when every r is NaN. */
ptrdiff_t bw_shift_pick(const double *r, const ptrdiff_t *s);

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

/* The engine's internals, shared by bw_shift_fast.c, bw_shift_kernels.c
 * and bw_shift_prune.c. */

/* Cross sums of 16-bit rows: sab[l] = sum over rows (z, y) of sum_x
 * a[x] b[x + l], for lags l in [0, nlag); A rows of aw elements (zero
 * beyond the block), B rows at z * bplane + y * bstride.  The 32-bit lanes
 * are widened every @rmax rows. */
typedef void (*sh_x16_fn)(const int16_t *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw,
                          const int16_t *b, ptrdiff_t bplane, ptrdiff_t bstride,
                          ptrdiff_t nlag, ptrdiff_t rmax, int64_t *sab);
/* The same for double rows (no widening). */
typedef void (*sh_xf_fn)(const double *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw,
                         const double *b, ptrdiff_t bplane, ptrdiff_t bstride, ptrdiff_t nlag,
                         double *sab);

/* The widest kernels bw_simd() allows for @nlag lags: their vector width in
 * 16-bit elements (*vw, 0 for the portable loop) and the lags they compute
 * at a time (*g). */
void bw_shift_kernels(ptrdiff_t nlag, sh_x16_fn *x16, sh_xf_fn *xf, ptrdiff_t *vw,
                      ptrdiff_t *g);

/* Row padding: A rows are a multiple of SH_W elements, B rows that plus
 * the lags and a full vector of slack. */
#define SH_W 32

struct sh_fast {
  ptrdiff_t ae[3], pe[3];     /* largest block, its search region */
  int64_t *rawa, *rawb;       /* integer pixels of the block, the region */
  double *fa, *fb;            /* float pixels, likewise */
  int16_t *a16, *b16, *b16h;  /* centred rows (B: low part when split, high) */
  double *ad, *bd;            /* float rows, minus the block's first pixel */
  int64_t *sati[4];           /* a, aa over the block; b, bb over the region */
  double *satf[4];
  double *satd[2][3];         /* floats: neighbours that differ, per axis */
  int64_t *sabi, *sabh;       /* cross sums per shift (high part when split) */
  double *sabf;
  sh_x16_fn x16;
  sh_xf_fn xf;
  ptrdiff_t vw;               /* the kernel's vector width in elements */
  ptrdiff_t g;                /* lags it computes at a time */
  int split;                  /* this block's B is in two parts */
  ptrdiff_t rmax, aw, bs;     /* this block's widening interval, row lengths */
  int64_t *part;              /* partial cross sums per shift (pruning) */
  double *tf[2];              /* floats: B's window sums per shift (pruning) */
  unsigned char *state;       /* per shift: SH_* (pruning) */
};

/* Most lags a kernel computes at a time. */
#define SH_MAXG 12

static inline ptrdiff_t round_up(ptrdiff_t v, ptrdiff_t m) { return (v + m - 1) / m * m; }

/* The box [q0, q1) of a summed-area table s of extents e (integer and
 * double tables). */
#define SH_SAT_BOX(NAME, T)                                                  \
  static inline T NAME(const T *s, const ptrdiff_t *e, const ptrdiff_t *q0,  \
                       const ptrdiff_t *q1) {                                \
    const ptrdiff_t nx = e[2] + 1, pl = nx * (e[1] + 1);                     \
    const T *z1 = s + q1[0] * pl, *z0 = s + q0[0] * pl;                      \
    const T v1 = z1[q1[1] * nx + q1[2]] - z1[q0[1] * nx + q1[2]] -           \
                 z1[q1[1] * nx + q0[2]] + z1[q0[1] * nx + q0[2]];            \
    const T v0 = z0[q1[1] * nx + q1[2]] - z0[q0[1] * nx + q1[2]] -           \
                 z0[q1[1] * nx + q0[2]] + z0[q0[1] * nx + q0[2]];            \
    return v1 - v0;                                                          \
  }
SH_SAT_BOX(sat_i_box, int64_t)
SH_SAT_BOX(sat_f_box, double)
#undef SH_SAT_BOX

/* Whether the box [q0, q1) of a table set (differing neighbours per axis)
 * is constant. */
static inline int flat_box(double *const *sd, const ptrdiff_t *e, const ptrdiff_t *q0,
                    const ptrdiff_t *q1) {
  for (int d = 0; d < 3; d++) {
    if (q1[d] - q0[d] < 2) continue;
    ptrdiff_t h[3] = {q1[0], q1[1], q1[2]};
    h[d]--;
    if (sat_f_box(sd[d], e, q0, h) != 0) return 0;
  }
  return 1;
}

/* The cross sums over rows y0 .. y1 - 1 (see bw_shift_fast.c). */
void bw_shift_cross_rows(const sh_fast *f, const ptrdiff_t *ae, const ptrdiff_t *pe,
                         ptrdiff_t tz, ptrdiff_t ty, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t l0,
                         ptrdiff_t nl, int64_t *out);

/* The pruned searches of bw_shift_prune.c: r of every shift into c->r
 * where it is read; 0 where they do not apply. */
int bw_shift_pruned_int(const sh_call *c, sh_fast *f, const ptrdiff_t *ae, const ptrdiff_t *pe);
int bw_shift_pruned_flt(const sh_call *c, sh_fast *f, const ptrdiff_t *ae, const ptrdiff_t *pe);

#endif
