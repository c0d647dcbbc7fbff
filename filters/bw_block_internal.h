/*
 * Internal to blockwise statistics: what the driver (bw_block.c), the
 * generic slab kernels (bw_block_kernels.c over bw_block_kernel.h) and the
 * 16-bit pair path (bw_block_p16.c) share.  See bw_block.c for how the work
 * is organised.  Nothing here is exported from the library; functions with
 * BW_CLONES (bw_internal.h) stay static (see bw_slab_kernel).
 */
#ifndef BW_BLOCK_INTERNAL_H
#define BW_BLOCK_INTERNAL_H

#include "bw_internal.h"

#include <stdint.h>

/* Columns per chunk: the five column sums of 1024 columns take 32 KiB for
 * 16-bit inputs, so they stay in L1 cache across the rows of a slab. */
#define CHUNK 1024
/* Bytes per column array: room for CHUNK elements of the widest type. */
#define CHUNK_BYTES (CHUNK * 16)
/* Bytes per column array of a call whose arrays hold g->cw elements. */
#define COL_BYTES(g) ((size_t)(g)->cw * 16)

/* What to accumulate per input. */
enum { NEED_S1 = 1, NEED_S2 = 2, NEED_MM = 4, NEED_SUM = 8 /* sum or mean out */ };

typedef struct needs {
  unsigned in[2]; /* NEED_* bits for inputs a and b */
  int ab;         /* cross products */
} needs;

/* The five column sums of @w columns of float32 pairs down @nrows rows
 * (rows at ra[r] and rb[r]), as the kernel's pair_cols computes them
 * (bw_block_f32.c), less the shift of each column's block: column i is in
 * block i / bx (bx >= 8), whose shifts are kx[] and ky[]. */
typedef void (*bw_f32_cols_fn)(const float *const *ra, const float *const *rb,
                               ptrdiff_t nrows, ptrdiff_t w, const double *kx,
                               const double *ky, ptrdiff_t bx, double *c1a, double *c2a,
                               double *c1b, double *c2b, double *cab);

/* An implementation in intrinsics bw_simd() allows, or NULL for the
 * kernel's own loop; all give the same bits. */
bw_f32_cols_fn bw_f32_cols_select(void);

/* Geometry of one call, everything 3-D (a 2-D call has nz = bz = 1). */
typedef struct geom {
  ptrdiff_t n[3];   /* input extents z, y, x */
  ptrdiff_t blk[3]; /* block extents */
  ptrdiff_t on[3];  /* output extents */
  ptrdiff_t st[2][3];
  const char *base[2];
  ptrdiff_t cw; /* elements per column and scratch array: CHUNK, or fewer
                   (a multiple of 8) when no chunk can be as wide */
  bw_f32_cols_fn f32_cols; /* float32 pairs: bw_f32_cols_select() */
} geom;

/* The accumulators of one slab, one array per sum (ox blocks each), so that
 * folding and finishing run as loops across the blocks of a slab.  The sums
 * are of the kernel's accumulator type (int64, __int128 or double); min and
 * max are of the element type; k is the float shift (the block's first
 * pixel); integer sums are of x - cen, cen being the middle of the type's
 * range or, on the 16-bit pair path, of the values met. */
typedef struct slab_acc {
  void *s1[2], *s2[2], *sab;
  void *mn[2], *mx[2];
  double *k[2];
  int64_t *cen[2]; /* integers: the centre the sums are taken about */
} slab_acc;

/* The finished moments of one slab, per block: sum and mean, M2 (the sum of
 * squared deviations, zero exactly when the block is constant), the
 * co-moment Mab, min and max.  Statistics are computed from these. */
typedef struct slab_fin {
  double *sum[2], *mean[2], *m2[2], *mab, *mn[2], *mx[2];
  double *val; /* one output row before it is stored */
} slab_fin;


/* Rows of a slab are visited in order; a cursor steps through (z, y)
 * without dividing. */
typedef struct row_cursor {
  ptrdiff_t z, y, y0, y1;
} row_cursor;

static inline void row_step(row_cursor *c) {
  if (++c->y == c->y1) {
    c->y = c->y0;
    c->z++;
  }
}

/* The rows of slab (oz, oy), clipped to the image: sets *c on the first
 * and returns how many there are. */
static inline ptrdiff_t slab_start(const geom *g, ptrdiff_t oz, ptrdiff_t oy,
                                   row_cursor *c) {
  const ptrdiff_t z0 = oz * g->blk[0], y0 = oy * g->blk[1];
  const ptrdiff_t z1 = z0 + g->blk[0] < g->n[0] ? z0 + g->blk[0] : g->n[0];
  const ptrdiff_t y1 = y0 + g->blk[1] < g->n[1] ? y0 + g->blk[1] : g->n[1];
  c->z = z0, c->y = c->y0 = y0, c->y1 = y1;
  return (z1 - z0) * (y1 - y0);
}

static inline const char *row_ptr(const geom *g, int s, const row_cursor *c,
                                  ptrdiff_t x0) {
  return g->base[s] + c->z * g->st[s][0] + c->y * g->st[s][1] +
         x0 * g->st[s][2];
}

/* A slab kernel: the sums (and min/max) of blocks [ja, jb) of slab
 * (oz, oy) into sa, with colv (7 arrays of COL_BYTES(g)) and tmpv (8 arrays
 * of g->cw elements) as scratch. */
typedef void (*slab_fn)(const geom *g, const needs *nd, ptrdiff_t oz,
                        ptrdiff_t oy, const slab_acc *sa, void *colv,
                        void *tmpv, ptrdiff_t ja, ptrdiff_t jb);
/* The min and max of the ox blocks of a slab, as doubles into f. */
typedef void (*minmax_fn)(const slab_acc *sa, const needs *nd, ptrdiff_t ox,
                          const slab_fin *f);

typedef struct slab_kernel {
  slab_fn slab;
  minmax_fn minmax;
} slab_kernel;

/* The generic slab kernel for inputs of type dt (bw_block_kernels.c): for
 * 8- and 16-bit inputs with int64 block sums (narrow) or 128-bit ones; the
 * other types have one kernel each and ignore narrow. */
slab_kernel bw_slab_kernel(bw_dtype dt, int narrow);

/* The 16-bit pair path (bw_block_p16.c): all five sums of slab (oz, oy) of
 * u16 (is_signed 0) or i16 inputs, with 32-bit column-pair sums by rows_fn;
 * chunks whose values span too much of the 16-bit range go through
 * generic, the narrow generic kernel of the same type.  The integers equal
 * generic's. */
void bw_p16_slab(const geom *g, const needs *nd, ptrdiff_t oz, ptrdiff_t oy,
                 const slab_acc *sa, void *colv, void *tmp, bw_p16_fn rows_fn,
                 slab_fn generic, int is_signed);

#endif
