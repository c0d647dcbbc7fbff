/*
 * Internal to local statistics: what the driver (bw_local.c) and the two
 * sum engines share, the exact integer engine (bw_local_int.c over
 * bw_local_int_kernel.h) and the double-double float engine
 * (bw_local_flt.c).  Nothing here is exported from the library.
 *
 * Everything is in 3-D form: a 2-D image is one plane with radius 0 and
 * step 1 along z.  Coordinates are global: positions in the image, output
 * positions in the whole output.  Output k along axis d is the window
 * centred on k * step[d], [max(0, c - r), min(n - 1, c + r)].
 */
#ifndef BW_LOCAL_INTERNAL_H
#define BW_LOCAL_INTERNAL_H

#include "bw_internal.h"
#include "bw_local.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The sums a call needs (bits). */
enum {
  LC_A1 = 1,  /* sum of a */
  LC_A2 = 2,  /* sum of a^2 */
  LC_B1 = 4,  /* sum of b */
  LC_B2 = 8,  /* sum of b^2 */
  LC_AB = 16  /* sum of a b */
};

/* The inputs of one call. */
typedef struct lc_geom {
  ptrdiff_t n[3];      /* image extents */
  ptrdiff_t r[3];      /* radii */
  ptrdiff_t st[3];     /* steps */
  ptrdiff_t i0[3];     /* image position of the views' first pixel */
  const char *base[2]; /* a, b (b NULL when not needed) */
  ptrdiff_t str[2][3]; /* their strides in bytes */
  bw_dtype dt;
  unsigned need;       /* LC_* bits */
  int no_means;        /* no output reads the sums or means of an lc_row */
  int corr_only;       /* the one output is CORR: engines may give r itself */
  double fill;         /* CORR of a constant window */
} lc_geom;

/* The moments of a run of output pixels of one row: window count, sums, means,
 * M2 = sum (x - mean)^2 (exactly 0 for a constant window, else > 0 or NaN)
 * and the co-moment Mab = sum (a - mean_a)(b - mean_b).  Only the entries
 * the needed sums give are set. */
typedef struct lc_row {
  double *cnt, *sum[2], *mean[2], *m2[2], *mab;
  const double *r; /* when not NULL: CORR itself, from the engine */
} lc_row;

/* Number of arrays of an lc_row. */
#define LC_ROW_ARRAYS 8

/* The arrays of *r, in one list (for carving them from scratch). */
static inline void lc_row_arrays(lc_row *r, double **arrays[LC_ROW_ARRAYS]) {
  double **a[LC_ROW_ARRAYS] = {&r->cnt,     &r->sum[0], &r->sum[1], &r->mean[0],
                               &r->mean[1], &r->m2[0],  &r->m2[1],  &r->mab};
  for (int i = 0; i < LC_ROW_ARRAYS; i++) arrays[i] = a[i];
}

/* Receives the moments of output pixels (kz, ky, kx0 .. kx0 + nx - 1). */
typedef void (*lc_emit_fn)(void *ctx, ptrdiff_t kz, ptrdiff_t ky,
                           ptrdiff_t kx0, ptrdiff_t nx, const lc_row *row);

/* First and last input position of the window of output k along axis d. */
static inline ptrdiff_t lc_lo(const lc_geom *g, int d, ptrdiff_t k) {
  const ptrdiff_t c = k * g->st[d] - g->r[d];
  return c < 0 ? 0 : c;
}
static inline ptrdiff_t lc_hi(const lc_geom *g, int d, ptrdiff_t k) {
  const ptrdiff_t c = k * g->st[d] + g->r[d];
  return c > g->n[d] - 1 ? g->n[d] - 1 : c;
}

/* Largest input box of a tile, in pixels, where an engine keeps sums for
 * a whole box: the integer engine's plane sums (3-D with a radius along
 * z), the float engine's passes.  Boxes of single windows larger than this
 * are processed one window at a time. */
#define LC_INT_BOX ((ptrdiff_t)1 << 18)
#define LC_FLT_BOX ((ptrdiff_t)1 << 14)

/* One block of scratch, carved into 64-byte aligned arrays. */
typedef struct lc_mem {
  unsigned char *base, *next;
} lc_mem;

/* Allocates @total bytes (callers add 64 per array for alignment);
 * returns nonzero on failure. */
static inline int lc_mem_alloc(lc_mem *m, size_t total) {
  m->base = malloc(total);
  m->next = m->base;
  return m->base == NULL;
}

static inline void *lc_take(lc_mem *m, size_t bytes) {
  unsigned char *p = (unsigned char *)(((uintptr_t)m->next + 63) & ~(uintptr_t)63);
  m->next = p + bytes;
  return p;
}

static inline void lc_mem_free(lc_mem *m) { free(m->base); }

/* Tile extents (output pixels) for output box extents @kn such that the
 * input box of a tile holds at most @budget pixels where it can; along
 * axes flagged in @fixed the tile spans the whole box. */
void bw_local_tile(const lc_geom *g, const ptrdiff_t *kn, ptrdiff_t budget,
                   const int *fixed, ptrdiff_t *tile);

/* The engines: the moments of the output box (k0, kn), row by row through
 * @emit.  They allocate their scratch once; they fail only for memory
 * (BW_ERR_NOMEM), before emitting anything.  @nmax is the largest
 * window count met (at most 2^32). */
bw_status bw_local_int(const lc_geom *g, const ptrdiff_t *k0,
                       const ptrdiff_t *kn, int64_t nmax, lc_emit_fn emit,
                       void *ctx, bw_error *err);
bw_status bw_local_flt(const lc_geom *g, const ptrdiff_t *k0,
                       const ptrdiff_t *kn, lc_emit_fn emit, void *ctx,
                       bw_error *err);

#endif
