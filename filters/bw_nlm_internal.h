/*
 * Internal to non-local means: what the driver (bw_nlm.c) and the tile
 * kernels (bw_nlm_kernels.c over bw_nlm_kernel.h) share.  Nothing here is
 * exported from the library.
 */
#ifndef BW_NLM_INTERNAL_H
#define BW_NLM_INTERNAL_H

#include "bw_internal.h"

#include <stddef.h>

/* Weights are 2^-y with y = log2(e) max(d2 - 2 sigma^2, 0) / h^2, capped
 * here: 2^-43 = 1.1e-13, far below anything a weighted mean of at most a
 * few million weights can notice. */
#define BW_NLM_YCUT 43

/* Largest number of output pixels of one tile in single precision (half
 * as many in double): where offsets and patches span planes, halos along z
 * cost so much that tiles four times larger (accumulators beyond the
 * second-level cache) are faster (see bw_nlm_choose_tile). */
#define BW_NLM_TILE_2D (1 << 16)
#define BW_NLM_TILE_3D (1 << 18)

/* The h for which single precision serves the narrow types (u8, i8, u16,
 * i16, f32): their values over about h stay far inside float's range
 * (2^-64 to 2^64 times a pixel value); any other h works in double. */
#define BW_NLM_FLOAT_HMIN 0x1p-64
#define BW_NLM_FLOAT_HMAX 0x1p64

/* Alignment of every array of a call's scratch. */
#define NLM_ALIGN 64

/* One tile and its scratch, in 3-D form (a 2-D image is one plane with
 * zero radii along z).  Coordinates are global: positions in the image. */
typedef struct bw_nlm_tile {
  ptrdiff_t n[3];  /* image extents */
  ptrdiff_t p[3];  /* patch radii */
  ptrdiff_t s[3];  /* search radii */
  ptrdiff_t t0[3]; /* tile start */
  ptrdiff_t tn[3]; /* tile extents */
  ptrdiff_t i0[3]; /* start of val's box */
  ptrdiff_t in[3]; /* extents of val's box */
  double hinv2;    /* log2(e) / h^2 */
  double c0;       /* log2(e) 2 sigma^2 / h^2 */
  double ycut;     /* BW_NLM_YCUT */
  const void *val; /* working values of the box i0, in (C order) */
  void *wsum, *vsum; /* accumulators of the tile (C order) */
  void *trow, *prow, *srow, *w, *kfull, *ktmp; /* rows of rowlen + 2 p_x */
  void *yring, *ypair; /* 2 p_y + 2 rows each */
  void *zring, *zpair; /* 2 p_z + 2 planes each */
  ptrdiff_t *cx;       /* patch counts along x */
  ptrdiff_t rowlen, planelen;
} bw_nlm_tile;

typedef void (*bw_nlm_tile_fn)(const bw_nlm_tile *a);

/* The widest tile kernel this CPU runs, for working values in double (dbl)
 * or single precision. */
bw_nlm_tile_fn bw_nlm_select(int dbl);

/* Tile extents for an output box, at most @budget pixels.  Per offset, a
 * tile of extents T computes weights over its hull (T + |o| per axis, |o|
 * about s / 2 on average) and squared differences and box sums over the
 * hull grown by the patch (T + |o| + 2 p), both about as costly per pixel;
 * each row costs as much again as BW_NLM_ROW_COST pixels (loop set-up and
 * remainders).  Candidates are the box's extents halved (rounded up) any
 * number of times per axis, rows at most BW_NLM_MAX_ROW pixels (so that the
 * rows a tile works on stay in the first-level cache), and the cheapest per
 * output pixel by that count wins. */
void bw_nlm_choose_tile(const ptrdiff_t *box, const ptrdiff_t *p,
                        const ptrdiff_t *s, ptrdiff_t budget, ptrdiff_t *tile);

/* Scratch layout for tiles of at most @tile, elements of @esz bytes. */
typedef struct nlm_layout {
  size_t val, wsum, vsum, trow, prow, srow, w, kfull, ktmp, yring, ypair, zring,
      zpair, cx, total;
  ptrdiff_t rowlen, planelen;
} nlm_layout;

/* Sets *L for tiles of at most @tile in an image of extents @n. */
int bw_nlm_layout(nlm_layout *L, const ptrdiff_t *tile, const ptrdiff_t *n,
                  const ptrdiff_t *p, const ptrdiff_t *s, size_t esz);

#endif
