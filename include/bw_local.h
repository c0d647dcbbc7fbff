/*
 * Blockwise: local (sliding-window) statistics.
 *
 * Part of the core library (libblockwise), over its views, regions and
 * statistics (blockwise.h): the mean, variance, standard deviation,
 * covariance and Pearson r of the box window around every pixel (or every
 * step-th pixel), in 2-D and 3-D, with a radius per axis.  The cost per
 * output pixel does not depend on the radius.
 */
#ifndef BW_LOCAL_H
#define BW_LOCAL_H

#include "blockwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default window radius along every axis (bw_local_params_init() with a
 * NULL radius): 11-pixel windows. */
#define BW_LOCAL_DEFAULT_RADIUS 5
/** Default output stride along every axis: every pixel. */
#define BW_LOCAL_DEFAULT_STEP 1
/** Largest window radius along an axis. */
#define BW_LOCAL_MAX_RADIUS 65535

/**
 * bw_local_params:
 * @ndim: 2 or 3, the number of axes of inputs and outputs.
 * @radius: window radius per axis (slowest first), 0 to
 *   BW_LOCAL_MAX_RADIUS: radius 5 means 11 pixels along that axis.
 * @step: output stride per axis, >= 1: output pixel k is the window
 *   centred on input pixel k * step (1, the default, for every pixel).
 * @ddof: 0 (population, default) or 1 (sample) for VAR, STD and COV.
 * @use_fill: when nonzero, CORR of a window where either input is constant
 *   is @fill instead of NaN.
 * @fill: see @use_fill.
 *
 * Initialise with bw_local_params_init() so that later fields get their
 * defaults.
 */
typedef struct bw_local_params {
  int ndim;
  ptrdiff_t radius[BW_MAX_DIMS];
  ptrdiff_t step[BW_MAX_DIMS];
  int ddof;
  int use_fill;
  double fill;
} bw_local_params;

/**
 * bw_local_params_init:
 * Fills *@params with @ndim, @radius (ndim entries; NULL for
 * BW_LOCAL_DEFAULT_RADIUS along every axis) and the defaults: step
 * BW_LOCAL_DEFAULT_STEP (1), ddof 0, NaN for constant windows in CORR.
 */
BW_API void bw_local_params_init(bw_local_params *params, int ndim,
                                 const ptrdiff_t *radius);

/**
 * bw_local_stat_supported:
 * 1 when bw_local_stats() computes @stat over a window (count, sum, mean,
 * var, std, cov, corr), 0 for the statistics it refuses (min and max, which
 * have no running sums) and for values that are no statistic.  Layers that
 * check a request before computing ask this rather than keep a list.
 */
BW_API int bw_local_stat_supported(bw_stat stat);

/**
 * bw_local_params_check:
 * Checks *@params as bw_local_stats() does before it reads a pixel: ndim 2
 * or 3 (BW_ERR_NDIM), every radius within [0, BW_LOCAL_MAX_RADIUS], every
 * step >= 1 and ddof 0 or 1 (BW_ERR_PARAM).  Returns BW_OK, or the status
 * and message bw_local_stats() would give for these parameters.
 *
 * See also: bw_local_output_shape(), bw_local_input_region().
 */
BW_API bw_status bw_local_params_check(const bw_local_params *params,
                                       bw_error *err);

/**
 * bw_local_output_shape:
 * The output extents for an image of extents @image_shape (params->ndim
 * entries): ceil(n / step) along each axis.
 */
BW_API bw_status bw_local_output_shape(const bw_local_params *params,
                                       const ptrdiff_t *image_shape,
                                       ptrdiff_t *out_shape, bw_error *err);

/**
 * bw_local_halo:
 * How many input pixels before and after the window centres of an output
 * box computing it reads, along each axis (params->ndim entries each),
 * before clipping to the image: the radius on both sides.  Either of
 * @before and @after may be NULL.
 */
BW_API bw_status bw_local_halo(const bw_local_params *params,
                               ptrdiff_t *before, ptrdiff_t *after,
                               bw_error *err);

/**
 * bw_local_input_region:
 * The region map of bw_local_stats().  For @out_region, a box of output
 * pixels (output coordinates) inside the output of an image of extents
 * @image_shape, sets *@in_region to the input pixels computing it reads:
 * from the first window centre, out_region->start * step, minus the radius,
 * to the last, (start + size - 1) * step, plus the radius, clipped to the
 * image (bw_local_halo()).
 * Returns BW_ERR_REGION if @out_region is empty or not inside the output.
 *
 * See also: bw_local_stats(), which computes @out_region from a view
 * holding (at least) *@in_region, bit for bit as computing the whole image
 * would.
 */
BW_API bw_status bw_local_input_region(const bw_local_params *params,
                                       const ptrdiff_t *image_shape,
                                       const bw_region *out_region,
                                       bw_region *in_region, bw_error *err);

/**
 * bw_local_output:
 * One requested output of bw_local_stats().
 * @stat: BW_STAT_COUNT, SUM, MEAN, VAR, STD, COV or CORR (MIN and MAX are
 *   not local statistics here: BW_ERR_PARAM).
 * @input: 0 for the first input, 1 for the second (ignored by COV and
 *   CORR, which use both).
 * @view: where it goes: BW_F32 or BW_F64, of the output box's extents.
 */
typedef struct bw_local_output {
  bw_stat stat;
  int input;
  bw_view view;
} bw_local_output;

/**
 * bw_local_stats:
 * Local statistics of @a (and @b) over box windows, for an output box.
 * @a: first input: a view of the box of the image that starts at
 *   @in_start and has @a's shape.  It must contain the region
 *   bw_local_input_region() gives for the output box; only that region is
 *   read.
 * @b: second input, same dtype, shape and place as @a; needed by COV, CORR
 *   and outputs with input = 1, otherwise may be NULL.
 * @in_start: index in the whole image of the first pixel of @a and @b
 *   (params->ndim entries), or NULL for the origin.
 * @image_shape: extents of the whole image, or NULL when @a is the whole
 *   image (then @in_start must be NULL or zero).
 * @params: radius, step, ddof, fill.
 * @outputs: @n_outputs requested outputs, all of the output box's extents.
 *   Statistics computed together share the sums.
 * @out_start: index in the whole output (output coordinates) of the output
 *   box's first pixel, or NULL for the origin.
 * @err: optional, receives a message on error.
 *
 * Output pixel k (k = (k_z,) k_y, k_x, in output coordinates) is the
 * statistic of the input pixels p with |p_d - k_d step_d| <= radius_d along
 * every axis d that lie inside the image: windows are clipped to the image,
 * so their pixel count (COUNT) is smaller along the border.  For that
 * window W of n pixels: SUM and MEAN as in bw_stat, VAR = M2 / (n - ddof)
 * (NaN when n <= ddof) with M2 = sum (a - mean)^2, STD = sqrt(VAR) (0, not
 * NaN, for a constant window), COV likewise, CORR = Mab / sqrt(M2a M2b) in
 * [-1, 1], NaN (or the fill value) when either window is constant.
 *
 * Accuracy: integer inputs are summed exactly (int64; 128-bit sums of
 * squares and products for 32-bit inputs) and VAR, COV and CORR come from
 * exact integer numerators n Sab - Sa Sb, rounded once to double; CORR is
 * clamped to [-1, 1] only against the rounding of that final division and
 * square root.  A constant window has numerator exactly zero.  Windows may
 * hold at most 2^32 pixels (BW_ERR_RANGE).  Float inputs are summed in
 * double-double (error-free transformations, about 106 bits, with exact
 * products), so a large common offset such as 1e6 + noise in float32 keeps
 * the noise's statistics to about 1e-20 relative; a window is constant
 * exactly, not by a tolerance: for float64 when its minimum equals its
 * maximum, for float32 when its M2 numerator is zero (the double-double
 * sums of a constant float32 window are exact, so it is exactly zero).  Float
 * values must stay below about 1e150 in magnitude (their squares are
 * summed); NaN and infinities make the windows holding them NaN.
 *
 * Exactness across tilings: every output pixel depends only on the pixels
 * of its window, combined in an order fixed by the window's place in the
 * image, not by the output box.  Integer sums are exact, so order does not
 * matter.  Float sums along each axis are taken over fixed segments of
 * 2 radius + 1 pixels aligned to multiples of that length in image
 * coordinates: a window's sum is the suffix sum of the segment holding its
 * first pixel plus the prefix sum of the segment holding its last, each
 * accumulated from the segment boundary inside the window.  So boxes
 * computed separately (threads, streaming, dask chunks with the halo of
 * bw_local_input_region()) assemble into the whole-image result bit for
 * bit.
 *
 * Cost: a few additions per pixel and axis for each sum, whatever the
 * radius and step; scratch is allocated once per call and bounded (the box
 * is processed in tiles).  No threads are started.
 *
 * Returns BW_OK, or an error status with nothing written to any output.
 *
 * See also: bw_local_input_region(), bw_local_corr(), bw_block_stats().
 */
BW_API bw_status bw_local_stats(const bw_view *a, const bw_view *b,
                                const ptrdiff_t *in_start,
                                const ptrdiff_t *image_shape,
                                const bw_local_params *params,
                                const bw_local_output *outputs,
                                size_t n_outputs, const ptrdiff_t *out_start,
                                bw_error *err);

/**
 * bw_local_corr:
 * Local Pearson r of @a and @b into @r (BW_F32 or BW_F64): the same as
 * bw_local_stats() with one CORR output.
 */
BW_API bw_status bw_local_corr(const bw_view *a, const bw_view *b,
                               const ptrdiff_t *in_start,
                               const ptrdiff_t *image_shape,
                               const bw_local_params *params, const bw_view *r,
                               const ptrdiff_t *out_start, bw_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BW_LOCAL_H */
