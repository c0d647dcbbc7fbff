/*
 * blockwise.h -- the Blockwise C core.
 *
 * Pure functions over strided 2-D and 3-D views.  Nothing here keeps global
 * state, starts threads or allocates inside a pixel loop; every function is
 * reentrant, so callers (ITK filters, the Python binding) may run any number
 * of them at once on disjoint outputs.
 *
 * Axis order is C order, slowest axis first: (Y, X) for 2-D, (Z, Y, X) for
 * 3-D, the same as numpy's.  ITK's index order is the reverse.
 *
 * Every operation comes with its region map: for a region of the output, the
 * region of the input that computing it needs.  Computing an output region
 * from a view of exactly that input region gives the same bits as computing
 * the whole image.
 */
#ifndef BLOCKWISE_H
#define BLOCKWISE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(BW_SHARED)
#  ifdef BW_BUILDING
#    define BW_API __declspec(dllexport)
#  else
#    define BW_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define BW_API __attribute__((visibility("default")))
#else
#  define BW_API
#endif

#define BW_VERSION_MAJOR 0
#define BW_VERSION_MINOR 1
#define BW_VERSION_PATCH 0

/** Largest number of axes a view may have. */
#define BW_MAX_DIMS 3

/* Most channels per pixel an image may have (bw_channel.h, bw_tiff.h). */
#define BW_MAX_CHANNELS 64

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/**
 * bw_status:
 * Result of every fallible function.  BW_OK is zero; everything else names
 * the kind of invalid argument.  On any error nothing has been written to any
 * output.
 */
typedef enum bw_status {
  BW_OK = 0,
  BW_ERR_NULL,     /* a required pointer is NULL */
  BW_ERR_DTYPE,    /* unsupported or mismatched element type */
  BW_ERR_NDIM,     /* number of axes is not 2 or 3, or views disagree */
  BW_ERR_SHAPE,    /* an extent is < 1, or two inputs differ in shape */
  BW_ERR_BLOCK,    /* a block extent is < 1, or trim leaves no block */
  BW_ERR_PARAM,    /* another parameter is out of range (edge, ddof, stat) */
  BW_ERR_OUTPUT,   /* an output view has the wrong shape, type or data */
  BW_ERR_REGION,   /* a requested region lies outside the output */
  BW_ERR_NOMEM,    /* scratch memory could not be allocated */
  BW_ERR_RANGE,    /* a size or index would overflow */
  BW_ERR_IO,       /* a file could not be read or written */
  BW_ERR_UNSUPPORTED, /* a valid file in a layout or encoding this library
                         does not read (another reader may) */
  BW_ERR_STOPPED     /* a progress callback asked the computation to stop */
} bw_status;

/**
 * bw_error:
 * Optional out-parameter of fallible functions: on error it receives the
 * status and a one-line message naming the offending argument, for example
 * "output 2 (mean): shape 3x4, expected 4x5".  Pass NULL when only the
 * status matters.
 */
typedef struct bw_error {
  bw_status status;
  char message[256];
} bw_error;

/** bw_status_string: a short constant description of @status. */
BW_API const char *bw_status_string(bw_status status);

/** bw_version_string: "MAJOR.MINOR.PATCH" of the library that is linked. */
BW_API const char *bw_version_string(void);

/* ------------------------------------------------------------------------ */
/* Element types and views                                                  */
/* ------------------------------------------------------------------------ */

/** bw_dtype: element types of input views (outputs are BW_F32 or BW_F64). */
typedef enum bw_dtype {
  BW_U8 = 1,
  BW_I8,
  BW_U16,
  BW_I16,
  BW_U32,
  BW_I32,
  BW_F32,
  BW_F64
} bw_dtype;

/** bw_dtype_size: bytes per element of @dtype, or 0 if it is not a dtype. */
BW_API size_t bw_dtype_size(bw_dtype dtype);

/** bw_dtype_name: "u8", "i8", ..., "f64", or "invalid". */
BW_API const char *bw_dtype_name(bw_dtype dtype);

/**
 * bw_view:
 * @data: address of element (0, 0[, 0]).
 * @dtype: element type.
 * @ndim: 2 or 3.
 * @shape: extent per axis, slowest first.  Entries past @ndim are ignored.
 * @strides: distance in bytes between neighbours along each axis.  Any
 *   value is accepted (negative strides walk backwards, as numpy's do), so a
 *   view can describe a sub-region of a larger buffer, a transposed array or
 *   every other pixel without copying.
 *
 * A view does not own its memory.
 */
typedef struct bw_view {
  void *data;
  bw_dtype dtype;
  int ndim;
  ptrdiff_t shape[BW_MAX_DIMS];
  ptrdiff_t strides[BW_MAX_DIMS];
} bw_view;

/**
 * bw_region:
 * A box of pixels (or of blocks), @start and @size per axis, slowest first.
 */
typedef struct bw_region {
  ptrdiff_t start[BW_MAX_DIMS];
  ptrdiff_t size[BW_MAX_DIMS];
} bw_region;

/**
 * bw_view_contiguous:
 * A C-contiguous view of @data with @ndim axes of extents @shape.
 */
BW_API bw_view bw_view_contiguous(void *data, bw_dtype dtype, int ndim,
                                  const ptrdiff_t *shape);

/**
 * bw_view_subview:
 * Sets *@sub to the part of @view covered by @region (same dtype and
 * strides, data pointer moved to the region's first element).
 * Returns BW_ERR_REGION if @region does not lie inside @view.
 */
BW_API bw_status bw_view_subview(const bw_view *view, const bw_region *region,
                                 bw_view *sub, bw_error *err);

/* ------------------------------------------------------------------------ */
/* Blockwise statistics                                                     */
/* ------------------------------------------------------------------------ */

/**
 * bw_edge:
 * What happens to blocks cut short by the image edge.
 * BW_EDGE_PARTIAL: they are kept, and their statistics are taken over the
 *   pixels they have (output extent ceil(n / block)).
 * BW_EDGE_TRIM: they are dropped (output extent floor(n / block)), as
 *   reshaping an array to (n / b, b) does.
 */
typedef enum bw_edge {
  BW_EDGE_PARTIAL = 0,
  BW_EDGE_TRIM = 1
} bw_edge;

/**
 * bw_stat:
 * One statistic of a block.  For a block B of n pixels a_i (and b_i):
 *   COUNT  n
 *   SUM    sum a_i
 *   MEAN   sum a_i / n
 *   VAR    sum (a_i - mean)^2 / (n - ddof)          (NaN when n <= ddof)
 *   STD    sqrt(VAR)
 *   MIN    min a_i      MAX  max a_i                (NaN if any a_i is NaN)
 *   COV    sum (a_i - mean_a)(b_i - mean_b) / (n - ddof)
 *   CORR   Pearson r = COV / (STD_a STD_b), in [-1, 1]; NaN when either
 *          block is constant, unless a fill value is set.
 */
typedef enum bw_stat {
  BW_STAT_COUNT = 0,
  BW_STAT_SUM,
  BW_STAT_MEAN,
  BW_STAT_VAR,
  BW_STAT_STD,
  BW_STAT_MIN,
  BW_STAT_MAX,
  BW_STAT_COV,
  BW_STAT_CORR
} bw_stat;

/** Number of bw_stat values. */
#define BW_NUM_STATS 9

/** bw_stat_name: "count", "sum", ..., "corr", or "invalid". */
BW_API const char *bw_stat_name(bw_stat stat);

/**
 * bw_stat_from_name:
 * The statistic named @name: its short name (bw_stat_name(): "count",
 * "sum", "mean", "var", "std", "min", "max", "cov", "corr") or its long name
 * ("variance", "standard-deviation", "minimum", "maximum", "covariance",
 * "correlation").  Sets *@stat and returns BW_OK, or returns BW_ERR_PARAM
 * for any other name (and BW_ERR_NULL for NULL pointers), leaving *@stat as
 * it was.  This is the one table of statistic names: the command line, the
 * ITK adaptors and the Python binding look names up here.
 */
BW_API bw_status bw_stat_from_name(const char *name, bw_stat *stat,
                                   bw_error *err);

/**
 * bw_stat_is_pair:
 * 1 for the statistics of a pair of images (COV, CORR), 0 for those of one
 * image, -1 for a value that is not a bw_stat.
 */
BW_API int bw_stat_is_pair(bw_stat stat);

/** Default block extent along every axis (bw_block_params_init() with a
 * NULL block). */
#define BW_BLOCK_DEFAULT 10

/**
 * bw_block_params:
 * @ndim: 2 or 3, the number of axes of inputs and outputs.
 * @block: block extent per axis (slowest first), each >= 1.
 * @edge: edge policy, BW_EDGE_PARTIAL by default.
 * @ddof: 0 (population, default) or 1 (sample) for VAR, STD and COV.
 * @use_fill: when nonzero, CORR of a block where either input is constant
 *   is @fill instead of NaN.
 * @fill: see @use_fill.
 *
 * Initialise with bw_block_params_init() so that later fields get their
 * defaults.
 */
typedef struct bw_block_params {
  int ndim;
  ptrdiff_t block[BW_MAX_DIMS];
  bw_edge edge;
  int ddof;
  int use_fill;
  double fill;
} bw_block_params;

/**
 * bw_block_params_init:
 * Fills *@params with @ndim, @block (ndim entries; NULL for BW_BLOCK_DEFAULT
 * along every axis) and the defaults: partial edges, ddof 0, NaN for
 * constant blocks in CORR.
 */
BW_API void bw_block_params_init(bw_block_params *params, int ndim,
                                 const ptrdiff_t *block);

/**
 * bw_block_params_check:
 * Checks *@params as every block operation does before it reads a pixel:
 * ndim 2 or 3 (BW_ERR_NDIM), every block extent >= 1 (BW_ERR_BLOCK), a known
 * edge policy and ddof 0 or 1 (BW_ERR_PARAM).  Returns BW_OK, or the status and message
 * bw_block_stats() would give for these parameters.  Whether trim leaves a
 * block depends on the image: bw_block_output_shape() says so.
 *
 * See also: bw_block_output_shape(), bw_block_input_region().
 */
BW_API bw_status bw_block_params_check(const bw_block_params *params,
                                       bw_error *err);

/**
 * bw_block_output:
 * One requested output of bw_block_stats().
 * @stat: the statistic.
 * @input: 0 for the first input, 1 for the second (ignored by COV and CORR,
 *   which use both).
 * @view: where it goes: BW_F32 or BW_F64, one element per block, of the
 *   shape bw_block_output_shape() gives for the input view.
 */
typedef struct bw_block_output {
  bw_stat stat;
  int input;
  bw_view view;
} bw_block_output;

/**
 * bw_block_output_shape:
 * The number of blocks along each axis of an image of extents @image_shape
 * (params->ndim entries): ceil(n / b) for partial edges, floor(n / b) for
 * trim.  Returns BW_ERR_BLOCK when trim would leave no block.
 */
BW_API bw_status bw_block_output_shape(const bw_block_params *params,
                                       const ptrdiff_t *image_shape,
                                       ptrdiff_t *out_shape, bw_error *err);

/**
 * bw_block_input_region:
 * The region map of the block operations.  For @out_region, a box of block
 * indices inside the output of an image of extents @image_shape, sets
 * *@in_region to the pixels those blocks cover: start = block start * block
 * size, end = block end * block size clipped to the image.  The result is
 * always block-aligned at its start.
 * Returns BW_ERR_REGION if @out_region is empty or not inside the output.
 *
 * See also: bw_block_stats(), which accepts a view of *@in_region and an
 * output view of @out_region's size and computes exactly those blocks.
 */
BW_API bw_status bw_block_input_region(const bw_block_params *params,
                                       const ptrdiff_t *image_shape,
                                       const bw_region *out_region,
                                       bw_region *in_region, bw_error *err);

/**
 * bw_block_output_region:
 * The inverse of bw_block_input_region(), for splitting an image into
 * pieces (dask chunks, file bands) that are computed separately.  For
 * @in_region, a box of pixels of an image of extents @image_shape that
 * starts on a block boundary along every axis and ends on one or at the
 * image's end, sets *@out_region to the blocks computed from those pixels
 * alone: with partial edges every block that starts inside @in_region; with
 * trim the whole blocks inside it (possibly none along an axis: size 0,
 * where the region holds only the trimmed remainder).  Pieces that tile the
 * image give output regions that tile the output.
 * Returns BW_ERR_REGION if @in_region is empty, outside the image or not
 * block-aligned as described.
 */
BW_API bw_status bw_block_output_region(const bw_block_params *params,
                                        const ptrdiff_t *image_shape,
                                        const bw_region *in_region,
                                        bw_region *out_region, bw_error *err);

/**
 * bw_block_stats:
 * Computes statistics of the non-overlapping blocks of @a (and @b), in one
 * pass over the pixels.
 * @a: first input.  Block (i, j[, k]) covers pixels [i*by, (i+1)*by) x
 *   [j*bx, (j+1)*bx) of @a, so a view of a sub-region that starts on a block
 *   boundary yields the blocks of that sub-region, bit for bit as computing
 *   the whole image would.
 * @b: second input, same dtype, ndim and shape as @a; needed by COV, CORR
 *   and outputs with input = 1, otherwise may be NULL.
 * @params: block size, edge policy, ddof, fill.
 * @outputs: @n_outputs requested outputs.  Several statistics computed
 *   together share the pass over the inputs.
 * @err: optional, receives a message on error.
 *
 * Accuracy: integer inputs are summed exactly (integer columns wide enough
 * never to overflow, 128-bit per block) and variances and covariances come
 * from exact integer numerators; float inputs are summed in double after
 * subtracting each block's first pixel, so a large common offset does not
 * cancel the variance away.
 *
 * Returns BW_OK, or an error status with nothing written to any output.
 *
 * See also: bw_block_corr(), bw_block_input_region().
 */
BW_API bw_status bw_block_stats(const bw_view *a, const bw_view *b,
                                const bw_block_params *params,
                                const bw_block_output *outputs,
                                size_t n_outputs, bw_error *err);

/**
 * bw_block_corr:
 * Pearson r of each block of @a and @b into @r (BW_F32 or BW_F64): the same
 * as bw_block_stats() with one CORR output.
 */
BW_API bw_status bw_block_corr(const bw_view *a, const bw_view *b,
                               const bw_block_params *params, const bw_view *r,
                               bw_error *err);

/* ------------------------------------------------------------------------ */
/* Non-local means denoising                                                */
/* ------------------------------------------------------------------------ */

/**
 * bw_nlm_noise:
 * The noise model of bw_nlm().
 * BW_NLM_GAUSSIAN: additive Gaussian noise of known standard deviation
 *   (bw_nlm_params.sigma, in the input's units).
 * BW_NLM_POISSON_GAUSSIAN: z = gain * p + offset + n with p Poisson counts
 *   and n Gaussian read noise of standard deviation read_sigma (fluorescence
 *   cameras).  The image is stabilised with the generalised Anscombe
 *   transform, denoised there (where the noise has unit variance) and
 *   brought back with the exact unbiased inverse.
 */
typedef enum bw_nlm_noise {
  BW_NLM_GAUSSIAN = 0,
  BW_NLM_POISSON_GAUSSIAN = 1
} bw_nlm_noise;

/** Largest patch radius bw_nlm() accepts along an axis. */
#define BW_NLM_MAX_PATCH 32
/** Largest search radius bw_nlm() accepts along an axis. */
#define BW_NLM_MAX_SEARCH 255

/**
 * bw_nlm_params:
 * @ndim: 2 or 3, the number of axes of the image.
 * @patch: patch radius per axis (slowest first), 0 to BW_NLM_MAX_PATCH:
 *   radius 3 means 7 pixels along that axis.
 * @search: search radius per axis, 0 to BW_NLM_MAX_SEARCH: radius 10 means
 *   a window of 21 pixels (anisotropic volumes: for example 2, 10, 10).
 * @h: filtering parameter, the scale of patch distances: >= 0, where 0
 *   selects the default (0.8 * sigma for Gaussian noise, 0.8 for
 *   Poisson-Gaussian noise).  In the units of the image for Gaussian noise;
 *   in units of the stabilised noise (whose standard deviation is 1) for
 *   Poisson-Gaussian noise.
 * @noise: the noise model, BW_NLM_GAUSSIAN by default.
 * @sigma: Gaussian noise: its standard deviation, >= 0, in the units of the
 *   image.  Ignored for Poisson-Gaussian noise.
 * @gain: Poisson-Gaussian noise: units of the image per photo-electron, > 0.
 * @offset: Poisson-Gaussian noise: the image value of zero photo-electrons
 *   (camera offset, or mean of the read noise).
 * @read_sigma: Poisson-Gaussian noise: standard deviation of the Gaussian
 *   read noise in the units of the image, >= 0.
 *
 * Initialise with bw_nlm_params_init() so that later fields get their
 * defaults.
 */
typedef struct bw_nlm_params {
  int ndim;
  ptrdiff_t patch[BW_MAX_DIMS];
  ptrdiff_t search[BW_MAX_DIMS];
  double h;
  bw_nlm_noise noise;
  double sigma;
  double gain;
  double offset;
  double read_sigma;
} bw_nlm_params;

/** Default patch radius of bw_nlm_params_init(), along every axis. */
#define BW_NLM_DEFAULT_PATCH 3
/** Default search radius of bw_nlm_params_init(), along every axis. */
#define BW_NLM_DEFAULT_SEARCH 10

/**
 * bw_nlm_params_init:
 * Fills *@params for an image of @ndim axes with the defaults: patch radius
 * BW_NLM_DEFAULT_PATCH (3) and search radius BW_NLM_DEFAULT_SEARCH (10) along
 * every axis (7x7 patches in a 21x21 window), Gaussian noise of standard
 * deviation @sigma, h = 0 (its default), and for the Poisson-Gaussian model
 * gain 1, offset 0, read_sigma 0.
 */
BW_API void bw_nlm_params_init(bw_nlm_params *params, int ndim, double sigma);

/**
 * bw_nlm_params_check:
 * Checks *@params as bw_nlm() does before it reads a pixel: ndim 2 or 3
 * (BW_ERR_NDIM), radii within [0, BW_NLM_MAX_PATCH] and
 * [0, BW_NLM_MAX_SEARCH], a known noise model with finite parameters in
 * range, and an h that is usable (BW_ERR_PARAM: for example h 0 with sigma
 * 0).  Returns BW_OK, or the status and message bw_nlm() would give.
 *
 * See also: bw_nlm_halo().
 */
BW_API bw_status bw_nlm_params_check(const bw_nlm_params *params,
                                     bw_error *err);

/**
 * bw_nlm_halo:
 * The halo of bw_nlm(): how many pixels before and after an output box
 * along each axis (params->ndim entries each, slowest first) computing it
 * reads, before clipping to the image: patch radius + search radius on
 * both sides.  bw_nlm_input_region() is the output box grown by this halo
 * and clipped.  Either of @before and @after may be NULL.
 * Returns BW_OK, or BW_ERR_NDIM / BW_ERR_PARAM for invalid radii (the noise
 * parameters do not change the halo and are not checked).
 */
BW_API bw_status bw_nlm_halo(const bw_nlm_params *params, ptrdiff_t *before,
                             ptrdiff_t *after, bw_error *err);

/**
 * bw_nlm_input_region:
 * The region map of bw_nlm().  For @out_region, a box of pixels inside an
 * image of extents @image_shape, sets *@in_region to the pixels computing it
 * reads: @out_region grown by patch radius + search radius along each axis,
 * clipped to the image (the halo of bw_nlm_halo()).
 * Returns BW_ERR_REGION if @out_region is empty or not inside the image,
 * BW_ERR_PARAM for invalid radii.
 *
 * See also: bw_nlm(), which computes @out_region from a view holding (at
 * least) *@in_region, bit for bit as computing the whole image would.
 */
BW_API bw_status bw_nlm_input_region(const bw_nlm_params *params,
                                     const ptrdiff_t *image_shape,
                                     const bw_region *out_region,
                                     bw_region *in_region, bw_error *err);

/**
 * bw_nlm:
 * Non-local means denoising of a 2-D or 3-D image, or of any box of it.
 * @in: input pixels, any dtype: a view of the box of the image that starts
 *   at @in_start and has @in's shape.  It must contain the region
 *   bw_nlm_input_region() gives for the output box; only that region is
 *   read.
 * @in_start: index in the whole image of @in's first pixel (params->ndim
 *   entries), or NULL for the origin.
 * @out: where the denoised box goes: a view of dtype BW_F32 or BW_F64, or
 *   of any other dtype, which receives values rounded to nearest and clamped
 *   to its range.  It must not overlap @in.
 * @out_start: index in the whole image of @out's first pixel, or NULL for
 *   the origin; @out's shape is the box's extents.
 * @image_shape: extents of the whole image, or NULL when @in is the whole
 *   image (then @in_start must be NULL or zero).
 * @params: radii, h, noise model.
 * @err: optional, receives a message on error.
 *
 * Output pixel x is sum_y w(x, y) v(y) / sum_y w(x, y) over the pixels y of
 * the search window centred on x, with
 *   w(x, y) = exp(-max(d2(x, y) - 2 sigma^2, 0) / h^2),
 * d2(x, y) the mean of (v(x + q) - v(y + q))^2 over the patch offsets q, and
 * v the pixel values (Gaussian noise) or their generalised Anscombe
 * transform 2 sqrt(max((z - offset) / gain + 3/8 + (read_sigma / gain)^2, 0))
 * with sigma = 1 (Poisson-Gaussian noise; the weighted mean D is then mapped
 * back by the exact unbiased inverse: the expected photo-electron count
 * whose transformed values have mean D, times gain, plus offset).
 * The pixel itself has weight 1.  Weights are at least 2^-43 (1.1e-13):
 * farther patches count as that far, never as absent.
 *
 * The image border: the whole image (@image_shape), not the box, defines it.
 * Search windows are clipped to the image, and so are patches: d2(x, y) is
 * the mean over the offsets q for which both x + q and y + q lie inside the
 * image.  No pixel outside the image is invented (no padding, no mirror).
 *
 * Exactness: every output pixel is computed from the same input pixels by
 * the same operations in the same order whatever box, tile or thread
 * computes it, so boxes computed separately (threads, ITK streaming, dask
 * chunks with the halo of bw_nlm_input_region()) assemble into the
 * whole-image result bit for bit.  The same holds for every instruction set
 * the library picks at run time.
 *
 * Precision: u8, i8, u16, i16 and f32 inputs are processed in single
 * precision (in double when h lies outside [2^-64, 2^64], where values over
 * h would leave float's range), u32, i32 and f64 in double precision, on
 * values scaled by a
 * power of two near 1 / h (exact), so any unit of the image works; weights
 * match exp() within 1e-6 relative.  Float inputs must be finite, and no
 * value may exceed 1e30 h (1e290 h in double precision): either in the
 * input region is BW_ERR_PARAM, with the pixel's position.
 *
 * Cost: about (2 s_z + 1)(2 s_y + 1)(2 s_x + 1) / 2 passes of a few dozen
 * vector operations per pixel, growing only by one addition per pass and
 * axis for each unit of patch radius (the per-shift formulation with box
 * sums; each pair's weight serves both its pixels).  Scratch memory is
 * bounded (the box is processed in tiles of at most a few megabytes) and
 * allocated once per call; the exact unbiased inverse is tabulated once per
 * call (about a millisecond).
 * No threads are started: callers split the output into boxes and run one
 * call per box on as many threads as they like.
 *
 * Returns BW_OK, or an error status with nothing written to @out.
 *
 * See also: bw_nlm_input_region().
 */
BW_API bw_status bw_nlm(const bw_view *in, const ptrdiff_t *in_start,
                        const bw_view *out, const ptrdiff_t *out_start,
                        const ptrdiff_t *image_shape,
                        const bw_nlm_params *params, bw_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BLOCKWISE_H */
