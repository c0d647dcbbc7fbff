"""One channel from many, on numpy arrays: the core's per-pixel conversion
(bw_channel_convert) of RGB slides and multichannel images to the one
channel the block operations and denoising take.

The channel axis is the last, as numpy, tifffile, PIL and blockwise.open
give colour images: (..., Y, X, C).  Each channel becomes a view of its
own (the core takes one view per input channel: an interleaved buffer is C
views one element apart), and the leading axes are folded into as few
core calls as their strides allow (blockwise._split).  With threads, calls
are restricted to rows through the core's region map
(bw_channel_input_region: the identity, a per-pixel operation has no halo).
"""
import numpy as np

from . import _args as A
from . import _core as C
from . import _split as S

__all__ = ["channel"]


def input_region(ndim, image, start, size, what="channel region map"):
    """bw_channel_input_region: (start, size) of the input pixels that the
    output box (start, size) of an image of extents `image` reads."""
    out = C.Region()
    C.call(C.channel_input_region, what, ndim, C.sizes(image), C.region(start, size), out)
    return C.box(out, ndim)


class _Call:
    """One bw_channel_convert call: one view per input channel, the output
    view, the parameters."""

    def __init__(self, params, srcs, dst, what):
        self.params, self.srcs, self.dst, self.what = params, srcs, dst, what
        self.out_shape = tuple(dst.shape[:dst.ndim])

    def sub(self, start, size):
        """The same call restricted to the box (start, size) of its output,
        reading the input region the core's region map gives for it."""
        k = self.dst.ndim
        in_region = C.region(*input_region(k, self.out_shape, start, size))
        srcs = [C.View() for _ in self.srcs]
        dst = C.View()
        for whole, part in zip(self.srcs, srcs):
            C.call(C.view_subview, "sub-view", whole, in_region, part)
        C.call(C.view_subview, "sub-view", self.dst, C.region(start, size), dst)
        return _Call(self.params, srcs, dst, self.what)

    def run(self):
        srcs = (C.View * len(self.srcs))(*self.srcs)
        C.call(C.channel_convert, self.what, self.params, len(self.srcs), srcs, self.dst)


def convert_into(planes, code, out, opts, threads=1, what="channel"):
    """Computes `out` from `planes`, one array per input channel (of bw_dtype
    code, out's shape, any strides): the core's conversion opts (checked
    ChannelOptions) over the last two axes, the leading ones kept.  Returns
    out."""
    if out.size == 0:
        return out
    out_code = A.dtype_code(out.dtype)
    params = opts.params()
    calls = []
    for unit in S.units(list(planes) + [out], 2):
        srcs = [S.view(p, code) for p in unit[:-1]]
        calls.append(_Call(params, srcs, S.view(unit[-1], out_code), what))
    S.run_shares(calls, threads)
    return out


def out_dtype(opts, dtype, x_dtype):
    """The output dtype: float32 for the colour operations and the input's
    dtype for a channel taken as it is, unless `dtype` says otherwise
    (float32, float64, or the input's dtype with an index: the core says
    which it writes)."""
    if dtype is None:
        return np.dtype(x_dtype) if opts.is_index else np.dtype(np.float32)
    return A.parse_out_dtype(dtype, x_dtype)


def channel(rgb, channel="luminance", *, white=0, dtype=None, threads=None):
    """One channel of each pixel of an image of several channels.

    Parameters
    ----------
    rgb : array
        Shape (..., Y, X, C): channels last, as numpy, tifffile, PIL and
        blockwise.open give colour images; any supported dtype, any strides.
        C is 1 to 64; the colour operations need 3 or more (R, G, B; a
        fourth, alpha, is ignored).  A dask array gives a lazy dask array.
    channel : str or int
        "luminance" (0.2125 R + 0.7154 G + 0.0721 B in the input's units,
        scikit-image's rgb2gray times the white level), "od" (mean optical
        density -log10(v / white) of R, G and B), "hematoxylin", "eosin",
        "dab" (Ruifrok-Johnston colour deconvolution, scikit-image's
        rgb2hed[..., 0], [..., 1], [..., 2]), "r", "g", "b", or a channel's
        number (an int, or its digits): that channel as it is.  Names are the
        core's (bw_channel_from_name), in any case.
    white : float
        The value of an unabsorbed pixel for the optical densities; 0 (the
        default) for the dtype's largest value (255, 65535; 1 for floats).
        Set it for samples of fewer bits than their type (4095 for 12 bits).
    dtype : optional
        float32 (the default for the colour operations) or float64; a
        channel taken as it is keeps the input's dtype by default.
    threads : int, optional
        Split the work over this many threads; the same bits for any number.

    Returns
    -------
    An array of shape (..., Y, X).  Values are computed in double and
    rounded once to the output type; NaN inputs give NaN.

    Raises ValueError with the core's message for an unknown name, a
    channel that does not exist, a colour operation on fewer than 3
    channels, or an output dtype the operation does not write (the core's
    bw_channel_plan_make says); TypeError for an input or output dtype the
    core has no code for (complex, object, bool, float16, 64-bit integers:
    see blockwise._args.SUPPORTED_DTYPES) and for arguments of the wrong
    kind.  All before any pixel is converted.
    """
    x, code = A.as_input(rgb, "rgb")
    if x.ndim < 3:
        raise ValueError(f"rgb must have shape (..., Y, X, C), channels last; its shape is "
                         f"{x.shape} (a grey image has no channels to convert)")
    opts = A.channel_options(channel, white, "channel")
    dt = out_dtype(opts, dtype, x.dtype)
    A.check_conversion(opts, x.shape[-1], x.dtype, dt, "channel")
    threads = A.parse_threads(threads)
    out = np.empty(x.shape[:-1], dtype=dt)
    planes = [x[..., c] for c in range(x.shape[-1])]
    return convert_into(planes, code, out, opts, threads)

