/*
 * Blockwise: per-block displacement between two images.
 *
 * Part of the core library (libblockwise), over its views and regions
 * (blockwise.h): for each non-overlapping block of the first image, the
 * shift of the second image within a search radius that maximises Pearson
 * r, refined to sub-pixel precision.  It answers "how far off is this
 * region?" where a block correlation map (bw_block_corr) only says that it
 * is.
 */
#ifndef BW_SHIFT_H
#define BW_SHIFT_H

#include "blockwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default block extent along every axis (bw_shift_params_init() with a
 * NULL block). */
#define BW_SHIFT_DEFAULT_BLOCK 64
/** Default search radius along every axis (NULL search). */
#define BW_SHIFT_DEFAULT_SEARCH 8
/** Largest search radius along an axis. */
#define BW_SHIFT_MAX_SEARCH 255

/**
 * bw_shift_params:
 * @ndim: 2 or 3, the number of axes of the images.
 * @block: block extent per axis (slowest first), >= 1; blocks are those of
 *   bw_block_stats() with partial edges: block k covers [k b, (k + 1) b),
 *   clipped to the image.
 * @search: search radius per axis, 0 to BW_SHIFT_MAX_SEARCH: shifts
 *   -search .. search are tried (0: no search along that axis).
 * @use_fill: when nonzero, blocks where no shift gives a defined r (the
 *   block, or every shifted window, constant) get @fill as shift and peak r
 *   instead of NaN, and so does r at zero shift where it is undefined.
 * @fill: see @use_fill.
 *
 * Initialise with bw_shift_params_init() so that later fields get their
 * defaults.
 */
typedef struct bw_shift_params {
  int ndim;
  ptrdiff_t block[BW_MAX_DIMS];
  ptrdiff_t search[BW_MAX_DIMS];
  int use_fill;
  double fill;
} bw_shift_params;

/**
 * bw_shift_params_init:
 * Fills *@params with @ndim, @block and @search (ndim entries each; NULL for
 * BW_SHIFT_DEFAULT_BLOCK and BW_SHIFT_DEFAULT_SEARCH along every axis) and
 * NaN for undefined blocks.
 */
BW_API void bw_shift_params_init(bw_shift_params *params, int ndim,
                                 const ptrdiff_t *block, const ptrdiff_t *search);

/**
 * bw_shift_params_check:
 * Checks *@params as bw_block_shift() does before it reads a pixel: ndim 2
 * or 3 (BW_ERR_NDIM), block extents >= 1 (BW_ERR_BLOCK), search radii within
 * [0, BW_SHIFT_MAX_SEARCH] (BW_ERR_PARAM).  Returns BW_OK, or the status and
 * message bw_block_shift() would give.
 *
 * See also: bw_shift_output_shape(), bw_shift_input_region().
 */
BW_API bw_status bw_shift_params_check(const bw_shift_params *params,
                                       bw_error *err);

/**
 * bw_shift_output_shape:
 * The number of blocks along each axis of an image of extents
 * @image_shape: ceil(n / block).
 */
BW_API bw_status bw_shift_output_shape(const bw_shift_params *params,
                                       const ptrdiff_t *image_shape,
                                       ptrdiff_t *out_shape, bw_error *err);

/**
 * bw_shift_input_region:
 * The region map of bw_block_shift().  For @out_region, a box of block
 * indices inside the output of an image of extents @image_shape, sets
 * *@a_region to the pixels of the first image those blocks cover (as
 * bw_block_input_region() does) and *@b_region to the pixels of the second
 * image the search reads: *@a_region grown by the search radius along each
 * axis, clipped to the image.  Either output may be NULL.
 * Returns BW_ERR_REGION if @out_region is empty or not inside the output.
 */
BW_API bw_status bw_shift_input_region(const bw_shift_params *params,
                                       const ptrdiff_t *image_shape,
                                       const bw_region *out_region,
                                       bw_region *a_region, bw_region *b_region,
                                       bw_error *err);

/**
 * bw_shift_outputs:
 * The outputs of bw_block_shift(), each a view of BW_F32 or BW_F64 of the
 * output box's extents (blocks), or with data NULL when not wanted (at
 * least one must be wanted).
 * @shift: the displacement along each axis (params->ndim entries, C order:
 *   shift[0] is along the slowest axis), in pixels.
 * @peak: Pearson r at the best integer shift.
 * @zero: Pearson r at zero shift (the block correlation, over the pixels of
 *   the block).
 */
typedef struct bw_shift_outputs {
  bw_view shift[BW_MAX_DIMS];
  bw_view peak;
  bw_view zero;
} bw_shift_outputs;

/**
 * bw_block_shift:
 * Per-block displacement of @b relative to @a.
 * @a: first image: a view of the box that starts at @a_start.  It must hold
 *   the blocks' pixels (*a_region of bw_shift_input_region()).
 * @a_start: index in the whole image of @a's first pixel, or NULL for the
 *   origin.
 * @b: second image, same dtype as @a: a view of the box that starts at
 *   @b_start and holds *b_region of bw_shift_input_region().
 * @b_start: likewise, or NULL for the origin.
 * @image_shape: extents of the whole image (both images have them), or
 *   NULL when @a is the whole image (then @a_start and @b_start must be
 *   NULL or zero).
 * @params: block, search radius, fill.
 * @out: the wanted outputs.
 * @out_start: index in the whole output (blocks) of the output box's first
 *   block, or NULL for the origin.
 * @err: optional, receives a message on error.
 *
 * For block Q (pixels p, clipped to the image) and integer shift s with
 * |s_d| <= search_d, r(s) is Pearson r of the pairs (A(p), B(p + s)) over
 * the pixels p of Q for which p + s lies inside the image (at the image's
 * border the shifted block is clipped, never padded); it is undefined (NaN)
 * when fewer than two pairs remain or either side is constant.  The best
 * integer shift s* maximises r (the first in the order slowest axis first,
 * from -search to search, on ties).  It is refined along the axes d with
 * |s*_d| < search_d by the maximum of the quadratic through the 3^ndim
 * neighbourhood of s* (central first and second differences, the mixed ones
 * included, so that a peak tilted between the axes is not pulled towards
 * them), fitted to q = -acos(r)^2 rather than r (exactly quadratic for a
 * single sinusoid, and 2 (r - 1) near the peak, so the bias of a parabola
 * on a cosine-shaped peak goes).  When that maximum lies more than half a
 * pixel from s*, the fit is made once more around the neighbour it points
 * to; the offset is clamped to [-0.5, 0.5].  Where the quadratic does not
 * bend down or a neighbour is undefined, the parabola through q(s* - e_d),
 * q(s*), q(s* + e_d) along each axis alone refines it, and where that does
 * not bend down either, or at the search boundary, the shift stays an
 * integer along that axis.  (Measured on photographs moved by Fourier
 * shifts, this full quadratic is two to three times more accurate than
 * three-point parabolas along each axis alone, whose peaks a tilted ridge
 * pulls off; see test/test_shift_photo.py for the bounds held.)  A perfect
 * match is not refined, so its integer shift is exact: B's pixels equal
 * A's moved by s* (checked pixel for pixel, so float blocks whose sums
 * leave r a rounding short of 1 are exact too), or, for integer inputs,
 * peak r within 4 ulp of 1 (B an offset of A, moved).
 *
 * Sign: if B(x) = A(x - d), B is A moved by +d, and the shift reported is
 * +d.
 *
 * Accuracy and exactness: integer inputs are summed exactly (int64, 128-bit
 * for 32-bit inputs) with exact integer numerators; float inputs in double,
 * of values minus the block's first pixel in each image, with constant
 * windows found exactly (no two neighbours in the window differ).  Each
 * block's sums are taken in an order fixed by the block, so any box of
 * blocks computed from its mapped input gives the same bits as the whole
 * image, and on every instruction set.
 *
 * Cost: per block, summed-area tables of the block and of its search region
 * give the sums of a, a^2, b, b^2 of every shift in a few lookups; the cross
 * sums take one multiply-add pass over the block per shift (integers whose
 * block spans at most 16 bits, centred: 32 exact 16-bit products per
 * instruction, 64 in two halves for a range above about 2^15; floats: 8
 * fused multiply-adds of doubles).  Away from the image's border (2-D),
 * shifts whose r cannot reach the best r are dropped after a quarter and
 * after half of the block's rows (bounded partial correlation: the rows
 * still to come are bounded by Cauchy-Schwarz), exactly: the outputs are
 * those of the full search.  Integer blocks spanning more than 16 bits and
 * float blocks holding NaN or infinities take (2 search + 1)^ndim passes
 * of five sums instead.  Scratch is allocated once per call; no threads
 * are started.
 *
 * Returns BW_OK, or an error status with nothing written to any output.
 *
 * See also: bw_shift_input_region(), bw_block_corr().
 */
BW_API bw_status bw_block_shift(const bw_view *a, const ptrdiff_t *a_start,
                                const bw_view *b, const ptrdiff_t *b_start,
                                const ptrdiff_t *image_shape,
                                const bw_shift_params *params,
                                const bw_shift_outputs *out,
                                const ptrdiff_t *out_start, bw_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BW_SHIFT_H */
