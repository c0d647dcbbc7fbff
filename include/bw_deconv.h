/*
 * Blockwise: Richardson-Lucy deconvolution of 2-D images and 3-D volumes.
 *
 * A library of its own (libblockwise_deconv), over the core's views
 * (blockwise.h) and FFTW's single-precision real-to-complex transforms: the
 * rest of the core needs only libc and libm.  A plan holds what depends on
 * the image's shape and the PSF (the PSF's transform, FFTW's plans, the
 * boundary's normalisation) and is reused over any number of images of that
 * shape.
 */
#ifndef BW_DECONV_H
#define BW_DECONV_H

#include "blockwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default number of iterations (bw_rl_params_init()). */
#define BW_RL_DEFAULT_ITERATIONS 10
/** Most iterations a call runs. */
#define BW_RL_MAX_ITERATIONS 100000
/** Largest extrapolation step of the acceleration (bw_rl_params.accelerate). */
#define BW_RL_MAX_ALPHA 0.999

/** Largest total-variation weight (bw_rl_params.tv). */
#define BW_RL_MAX_TV 1.0

/** The smoothing of |grad f| in total variation, relative to the image's
 * largest value: |grad f| is sqrt(|grad f|^2 + (s top)^2), so differences
 * far below s of the image's range count as flat, not as edges. */
#define BW_RL_TV_SMOOTHING 1e-3

/** Smallest 1 - lambda div of a regularised correction (bw_rl_params.tv). */
#define BW_RL_MIN_TV_DIVISOR 0.1

/** Default division guard, relative to the image's largest value. */
#define BW_RL_DEFAULT_EPSILON 1e-6

/**
 * bw_rl_boundary:
 * @BW_RL_NONCIRCULANT: the object is estimated on the image grown by the
 *   PSF (every object pixel that reaches an observed pixel), and the
 *   multiplicative correction is normalised by the PSF's response to the
 *   image's support (Bertero and Boccacci, 2005): nothing wraps around, and
 *   the edges are not pulled towards darkness or the opposite edge.
 * @BW_RL_PERIODIC: the image is taken as one period of a periodic one, as
 *   FFT-only tools take it (for comparison with them).
 */
typedef enum bw_rl_boundary {
  BW_RL_NONCIRCULANT = 0,
  BW_RL_PERIODIC = 1
} bw_rl_boundary;

/**
 * bw_rl_params:
 * @ndim: 2 or 3, the axes of the image and of the PSF.
 * @iterations: Richardson-Lucy iterations, 0 to BW_RL_MAX_ITERATIONS (0:
 *   the first estimate).
 * @boundary: see bw_rl_boundary.
 * @epsilon: the guard against division by about zero, relative to the
 *   image's largest absolute value: where the blurred estimate is below
 *   epsilon times it, the ratio of the image to it counts as 0 (never a
 *   NaN or an infinity).  Positive and below 1.
 * @psf_centre: the PSF's centre per axis (C order, pixels of the PSF), or
 *   all -1 (bw_rl_params_init()): its centre of mass, rounded.
 * @initial: the first estimate: NaN (bw_rl_params_init()) for the image
 *   itself, or this constant everywhere (scikit-image's richardson_lucy
 *   starts at 0.5); finite and positive.
 * @accelerate: 1 for Biggs-Andrews acceleration (Biggs and Andrews, 1997):
 *   each iteration starts from the estimate moved on along its last
 *   change, y = x + alpha (x - x_prev), clipped at 0, with alpha the
 *   correlation of the last two steps' changes over the last one's energy,
 *   in [0, BW_RL_MAX_ALPHA] (0 for the first two); a result comes in fewer
 *   iterations.  alpha is a sum over the whole grid, so with acceleration a
 *   piece is not the whole image's result, whatever its halo.  Default 0.
 * @threads: threads of FFTW's transforms, 1 (bw_rl_params_init()) to 256;
 *   the rest of an iteration runs on the calling thread.  Results are
 *   deterministic for a given number of threads; different numbers may
 *   round differently (FFTW splits the transforms otherwise).
 * @tv: the weight lambda of total-variation regularisation (Dey et al.,
 *   2006), 0 (bw_rl_params_init(): none) to BW_RL_MAX_TV; 0.002 is a
 *   usual start.  Each correction is divided by N (1 - lambda div(grad f /
 *   |grad f|)) instead of N (bw_rl_deconvolve(); Dey's N - lambda div
 *   where N = 1, so that the prior weighs alike where the image sees an
 *   object pixel through little of the PSF), with forward differences
 *   for the gradient and backward ones for the divergence, taken between
 *   pixels of the object only (non-circulant: the image grown by the PSF,
 *   where N is not about 0) or around the period (periodic), |grad f|
 *   smoothed by BW_RL_TV_SMOOTHING times the image's largest value, and
 *   1 - lambda div kept at least BW_RL_MIN_TV_DIVISOR: flat noise is
 *   smoothed, edges are kept.  It reads one pixel each way per iteration, which the
 *   exact halo covers.
 *
 * Initialise with bw_rl_params_init() so that later fields get their
 * defaults.
 */
typedef struct bw_rl_params {
  int ndim;
  int iterations;
  bw_rl_boundary boundary;
  double epsilon;
  ptrdiff_t psf_centre[BW_MAX_DIMS];
  double initial;
  int accelerate;
  int threads;
  double tv;
} bw_rl_params;

/** bw_rl_params_init: @ndim, BW_RL_DEFAULT_ITERATIONS, non-circulant
 * boundary, BW_RL_DEFAULT_EPSILON, the PSF's centre of mass, the image as
 * the first estimate. */
BW_API void bw_rl_params_init(bw_rl_params *params, int ndim);

/**
 * bw_rl_params_check:
 * Checks *@params as bw_rl_plan_new() does: ndim 2 or 3 (BW_ERR_NDIM),
 * iterations, boundary, epsilon and centre in range (BW_ERR_PARAM).
 */
BW_API bw_status bw_rl_params_check(const bw_rl_params *params, bw_error *err);

/** A deconvolution plan: see bw_rl_plan_new(). */
typedef struct bw_rl_plan bw_rl_plan;

/**
 * bw_rl_plan_new:
 * Plans the deconvolution of images of extents @image_shape (params->ndim
 * entries, C order) by the PSF @psf (a view of params->ndim axes, any
 * dtype, any strides; copied: the view may go once this returns).
 *
 * The PSF is checked before anything else is made: finite, non-negative,
 * with a positive sum (BW_ERR_PARAM, naming the first bad value), no larger
 * than the image along any axis (BW_ERR_SHAPE), a centre inside it.  It is
 * normalised to sum 1.  Transforms are of the image's size (periodic) or of
 * the image grown by the PSF less one pixel, rounded up per axis to a size
 * whose prime factors are 2, 3, 5 and 7 (non-circulant).  FFTW plans with
 * FFTW_ESTIMATE, so a plan of a shape is the same in every run and the
 * results are deterministic.  Planning is safe from several threads at
 * once; a plan is used by one call at a time.
 *
 * See also: bw_rl_deconvolve(), bw_rl_plan_free().
 */
BW_API bw_status bw_rl_plan_new(const bw_rl_params *params, const ptrdiff_t *image_shape,
                                const bw_view *psf, bw_rl_plan **plan, bw_error *err);

/** bw_rl_plan_free: frees @plan (NULL is allowed). */
BW_API void bw_rl_plan_free(bw_rl_plan *plan);

/**
 * bw_rl_plan_bytes:
 * The memory @plan holds and a call of bw_rl_deconvolve() adds while it
 * runs, in bytes: what to count against a memory budget.
 */
BW_API size_t bw_rl_plan_bytes(const bw_rl_plan *plan);

/**
 * bw_rl_plan_size:
 * What bw_rl_plan_bytes() would give for a plan of @params, @image_shape
 * and @psf_shape, without making it (for a memory budget); the shapes are
 * checked as bw_rl_plan_new() checks them.
 */
BW_API bw_status bw_rl_plan_size(const bw_rl_params *params, const ptrdiff_t *image_shape,
                                 const ptrdiff_t *psf_shape, size_t *bytes, bw_error *err);

/**
 * bw_rl_deconvolve:
 * Richardson-Lucy deconvolution of @in (the plan's image shape, any dtype,
 * any strides) into @out (the same extents, BW_F32, any strides; it may be
 * @in's memory: the image is copied first).
 *
 * With B the blur by the (normalised, centred) PSF h, g the image and f
 * the estimate, each iteration is
 *   f <- f / N * B^T( g / B f ),   N = B^T 1
 * where B^T is correlation with h; ratios where B f is below the guard
 * (bw_rl_params.epsilon) count as 0.  Periodic: B is circular over the
 * image, N = 1.  Non-circulant: f lives on the image grown by the PSF, g /
 * B f is taken on the image's pixels only (0 elsewhere), and N = B^T of the
 * image's support.  The first estimate is the image itself, as ITK's
 * RichardsonLucyDeconvolutionImageFilter starts (non-circulant: around
 * the image, its nearest pixel), or bw_rl_params.initial; nothing is clipped (a correction that rounds
 * below zero counts as zero), so a non-negative image gives a non-negative
 * result.  @out receives f on the image's pixels.
 * Arithmetic is float32 (FFTW's single-precision transforms).
 *
 * Returns BW_ERR_SHAPE when @in's extents are not the plan's, BW_ERR_OUTPUT
 * for an unusable @out, BW_ERR_PARAM for a non-finite pixel of @in (named),
 * BW_ERR_NOMEM; on error @out is untouched.
 */
BW_API bw_status bw_rl_deconvolve(bw_rl_plan *plan, const bw_view *in, const bw_view *out,
                                  bw_error *err);

/**
 * bw_rl_progress_fn:
 * Called by bw_rl_deconvolve_progress() after each iteration, on the
 * calling thread, with @done of @total iterations finished; returns 0 to
 * go on, anything else to stop.
 */
typedef int (*bw_rl_progress_fn)(void *user, int done, int total);

/**
 * bw_rl_deconvolve_progress:
 * bw_rl_deconvolve(), calling @progress (NULL for none) with @user after
 * each iteration.  Returns BW_ERR_STOPPED, @out untouched, when @progress
 * asks to stop; a long deconvolution can so be shown and interrupted.
 */
BW_API bw_status bw_rl_deconvolve_progress(bw_rl_plan *plan, const bw_view *in, const bw_view *out,
                                           bw_rl_progress_fn progress, void *user, bw_error *err);

/**
 * bw_rl_exact_halo:
 * The halo per axis (C order, params->ndim entries) that makes a piece of
 * the image, deconvolved with the non-circulant boundary, give the whole
 * image's result on its own pixels: each iteration reads m - 1 pixels each
 * way (the blur and its transpose, for a PSF of m pixels), so the halo is
 * iterations x (m - 1).  "The same" is to float rounding: the pieces'
 * transforms have other sizes than the image's, so the bits may differ in
 * the last places (test/test_deconv.c measures it).  The periodic boundary
 * wraps around the piece, not the image: no halo makes it exact.
 * Returns BW_ERR_PARAM / BW_ERR_NDIM as bw_rl_params_check(), and
 * BW_ERR_SHAPE for a PSF extent below 1.
 */
BW_API bw_status bw_rl_exact_halo(const bw_rl_params *params, const ptrdiff_t *psf_shape,
                                  ptrdiff_t *halo, bw_error *err);

/**
 * bw_rl_auto_halo:
 * The default halo per axis (C order, params->ndim entries) for the PSF
 * @psf: f standard deviations of the PSF along the axis (the root of its
 * second central moment), rounded up, with f = 12 up to 50 iterations,
 * 18 up to 400 and 24 beyond, and never more than bw_rl_exact_halo().  The
 * error a halo leaves falls with the distance in the PSF's own width, not
 * in its extent, so PSFs stored with long near-zero margins get small
 * halos and tightly cut ones large enough.  With it, plain iterations
 * with the non-circulant boundary keep the error of a piece (the largest
 * difference from the whole image's result over the piece's own pixels,
 * relative to that result's largest value) under 1e-3 in every case of
 * bench/deconv_halo.py (3-D beads and filaments with Poisson noise,
 * Gaussian PSFs elongated along z, stored 3 and 1.6 standard deviations
 * each way, 5 to 400 iterations; the table is in the README).
 * Acceleration adds an error the halo cannot remove (its step is a sum
 * over each piece), measured there too.
 * Returns the errors of bw_rl_params_check() and of the PSF's checks in
 * bw_rl_plan_new().
 */
BW_API bw_status bw_rl_auto_halo(const bw_rl_params *params, const bw_view *psf, ptrdiff_t *halo,
                                 bw_error *err);

/**
 * bw_rl_input_region:
 * The region map of deconvolution: for @out_region of an image of extents
 * @image_shape (@ndim axes), *@in_region is the region to deconvolve, the
 * output grown by @halo per axis (bw_rl_exact_halo(), or less: see the
 * README for the error a smaller halo costs), clipped to the image, and
 * then, where it is thinner than the PSF (@psf_shape; NULL for none), grown
 * about its middle to the PSF's extent inside the image: a piece is never
 * smaller than the PSF, which bw_rl_plan_new() requires.
 * Returns BW_ERR_REGION if @out_region is empty or not inside the image,
 * BW_ERR_PARAM for a negative halo, BW_ERR_SHAPE for a PSF larger than
 * the image.
 */
BW_API bw_status bw_rl_input_region(int ndim, const ptrdiff_t *halo, const ptrdiff_t *psf_shape,
                                    const ptrdiff_t *image_shape, const bw_region *out_region,
                                    bw_region *in_region, bw_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BW_DECONV_H */
