/*
 * Blockwise: one channel from many.
 *
 * Part of the core library (libblockwise), over its views and regions: the
 * per-pixel conversion of an image of several channels (RGB slides, channels
 * of a fluorescence file) to the one channel the block statistics,
 * correlation and denoising take.  Each output pixel depends on its own
 * pixel only: the region map is the identity, there is no halo, and any
 * region computed alone is bit-identical to the same region of the whole
 * image.
 */
#ifndef BW_CHANNEL_H
#define BW_CHANNEL_H

#include "blockwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * bw_channel_op:
 * What the output channel is.  For the operations on colour (all but
 * INDEX), the first three input channels are red, green and blue (a fourth,
 * alpha, is ignored) and each value is taken relative to @white
 * (bw_channel_params): t = clamp(v / white, 1e-6, 1) for the optical
 * densities.
 *   INDEX        input channel @index, as it is (converted to the output type)
 *   LUMINANCE    0.2125 R + 0.7154 G + 0.0721 B, in the input's units: the
 *                ITU-R BT.709 weights as scikit-image's rgb2gray applies
 *                them, to the stored values (no gamma linearisation);
 *                computed as (2125 R + 7154 G + 721 B) * 1e-4 in double,
 *                so integer samples give an exact sum and one rounding
 *   OD           optical density, the mean over R, G and B of -log10(t)
 *   HEMATOXYLIN  the stains of Ruifrok and Johnston's colour deconvolution
 *   EOSIN        with their standard H&E-DAB vectors, as scikit-image's
 *   DAB          rgb2hed computes them: the optical densities ln(t) / ln(1e-6)
 *                of R, G, B times the inverse of the stain matrix, negative
 *                amounts set to 0
 */
typedef enum bw_channel_op {
  BW_CHANNEL_INDEX = 0,
  BW_CHANNEL_LUMINANCE,
  BW_CHANNEL_OD,
  BW_CHANNEL_HEMATOXYLIN,
  BW_CHANNEL_EOSIN,
  BW_CHANNEL_DAB
} bw_channel_op;

/**
 * bw_channel_params:
 * @op: the operation, BW_CHANNEL_LUMINANCE by default.
 * @index: the input channel of BW_CHANNEL_INDEX (0 by default).
 * @white: the value of an unabsorbed (white) pixel for the optical
 *   densities; 0 (the default) for the input type's largest value (255,
 *   65535, ...; 1 for floats).  Set it for samples of fewer bits than their
 *   type (4095 for 12-bit data) or for a measured background.
 *
 * Initialise with bw_channel_params_init().
 */
typedef struct bw_channel_params {
  bw_channel_op op;
  int index;
  double white;
} bw_channel_params;

/** bw_channel_params_init: the defaults above. */
BW_API void bw_channel_params_init(bw_channel_params *params);

/**
 * bw_channel_from_name:
 * Sets *@params (which keeps its @white) from a name: "luminance", "od",
 * "hematoxylin", "eosin", "dab", "r", "g", "b" (INDEX 0, 1, 2), or a
 * decimal channel index ("0", "3").  Case-insensitive.  BW_ERR_PARAM for
 * any other name, with a message that lists them; *@params is then
 * unchanged.  The one table of channel names: the command line, the ITK
 * filter and the Python binding look names up here.
 */
BW_API bw_status bw_channel_from_name(const char *name, bw_channel_params *params,
                                      bw_error *err);

/** bw_channel_op_name: "index", "luminance", "od", "hematoxylin", "eosin",
 * "dab", or NULL for a value that is not a bw_channel_op. */
BW_API const char *bw_channel_op_name(bw_channel_op op);

/**
 * bw_channel_params_check:
 * Checks *@params for an input of @channels channels (1 to
 * BW_MAX_CHANNELS): a known operation; an
 * index in [0, channels) for INDEX; at least 3 channels for the colour
 * operations; @white finite and >= 0.  Returns BW_OK, or the status and
 * message bw_channel_convert() would give (BW_ERR_PARAM).
 */
BW_API bw_status bw_channel_params_check(const bw_channel_params *params, int channels,
                                         bw_error *err);

/**
 * bw_channel_input_region:
 * The region map: the input region an output region reads, which is the
 * same region (per-pixel operation).  BW_ERR_REGION when @out_region is
 * empty or not inside an image of @ndim axes of extents @image_shape.
 */
BW_API bw_status bw_channel_input_region(int ndim, const ptrdiff_t *image_shape,
                                         const bw_region *out_region, bw_region *in_region,
                                         bw_error *err);

/**
 * bw_channel_convert:
 * Computes @dst from the @channels views @src (one per input channel, all
 * of one dtype and of @dst's extents, any strides: an interleaved buffer is
 * @channels views one element apart).  @dst is BW_F32 or BW_F64; with
 * INDEX it may also be the input's dtype (a copy).  Values are computed in
 * double and rounded once to @dst's type.  NaN inputs give NaN.
 * Returns BW_OK, or an error with nothing written to @dst.
 */
BW_API bw_status bw_channel_convert(const bw_channel_params *params, int channels,
                                    const bw_view *src, const bw_view *dst, bw_error *err);

/**
 * bw_channel_plan:
 * A conversion made ready once, for input elements of one type and output
 * elements of another: parameters checked, tables filled.  Applied to any
 * number of runs of pixels with bw_channel_convert_pixels(), it is the form
 * a reader uses while it decodes (the TIFF layer converts each decoded
 * strip or tile as it copies it out).  Make it with bw_channel_plan_make();
 * its fields are the implementation's.  It holds no pointers: copy it
 * freely, share it between threads.
 */
typedef struct bw_channel_plan {
  bw_channel_params params;
  int channels;
  bw_dtype in, out;
  int stain, lut_ready;
  unsigned simd;
  double white;
  double inv[3][3];
  double lut[3][256];
} bw_channel_plan;

/**
 * bw_channel_plan_make:
 * Prepares *@plan to convert pixels of @channels channels of type @in to
 * one channel of type @out (BW_F32 or BW_F64; with INDEX also @in itself,
 * a copy).  Returns BW_OK, or the status and message bw_channel_convert()
 * would give for these parameters and types.
 */
BW_API bw_status bw_channel_plan_make(const bw_channel_params *params, int channels,
                                      bw_dtype in, bw_dtype out, bw_channel_plan *plan,
                                      bw_error *err);

/**
 * bw_channel_convert_pixels:
 * Converts @n pixels of interleaved channels: channel c of pixel i is the
 * element of the plan's input type at (char *)@src + i * @src_stride +
 * c * bw_dtype_size(in), in native byte order, at any alignment; its output
 * goes to (char *)@dst + i * @dst_stride.  The same bits as
 * bw_channel_convert() gives for those pixels.  Nothing is checked here
 * (the plan was): 8-bit RGB or RGBA to contiguous luminance runs at memory
 * speed.
 */
BW_API void bw_channel_convert_pixels(const bw_channel_plan *plan, const void *src,
                                      ptrdiff_t src_stride, void *dst, ptrdiff_t dst_stride,
                                      size_t n);

#ifdef __cplusplus
}
#endif

#endif /* BW_CHANNEL_H */
