"""Block statistics and block correlation of numpy arrays.

Every function checks its arguments (blockwise._args) before any pixel is
read, and raises TypeError (wrong kind of argument, unsupported dtype) or
ValueError (a value out of range, mismatched shapes) with a message naming
the argument.  The C core then runs on views of the caller's memory: any
strides, no copy.  dask arrays are dispatched by the package's top level
(blockwise.block_stats), not here.
"""
import numpy as np

from . import _args as A
from . import _core as C
from . import _split as S

__all__ = ["block_stats", "block_corr", "block_output_shape", "block_input_region"]


# ---------------------------------------------------------------------------
# The core's geometry: output shape and region maps
# ---------------------------------------------------------------------------

def output_shape(params, image, what):
    """bw_block_output_shape: blocks per axis of an image of extents `image`."""
    k = params.ndim
    out = C.sizes(())
    C.call(C.block_output_shape, what, params, C.sizes(image), out)
    return tuple(out[:k])


def input_region(params, image, start, size, what="region map"):
    """bw_block_input_region: (start, size) in pixels of the blocks (start,
    size) of an image of extents `image`."""
    out = C.Region()
    C.call(C.block_input_region, what, params, C.sizes(image), C.region(start, size), out)
    return C.box(out, params.ndim)


def output_region(params, image, start, size, what="block output region"):
    """bw_block_output_region: (start, size) of the blocks computed from the
    block-aligned pixels (start, size) alone; with trim a size may be 0."""
    out = C.Region()
    C.call(C.block_output_region, what, params, C.sizes(image), C.region(start, size), out)
    return C.box(out, params.ndim)


# ---------------------------------------------------------------------------
# Core calls
# ---------------------------------------------------------------------------

class _Call:
    """One bw_block_stats call: input views, output views, parameters."""

    def __init__(self, params, xv, yv, outs):
        self.params, self.xv, self.yv, self.outs = params, xv, yv, outs
        self.out_shape = tuple(outs[0].view.shape[:outs[0].view.ndim])

    def sub(self, start, size):
        """The same call restricted to the blocks (start, size) of its
        output, with the input cut by the core's region map."""
        k = self.params.ndim
        image = tuple(self.xv.shape[:k])
        in_region = C.region(*input_region(self.params, image, start, size))
        out_region = C.region(start, size)
        xv = C.View()
        yv = C.View() if self.yv is not None else None
        outs = (C.BlockOutput * len(self.outs))()
        pairs = [(self.xv, xv, in_region)]
        if yv is not None:
            pairs.append((self.yv, yv, in_region))
        for i, o in enumerate(self.outs):
            outs[i].stat, outs[i].input = o.stat, o.input
            pairs.append((o.view, outs[i].view, out_region))
        for whole, part, reg in pairs:
            C.call(C.view_subview, "sub-view", whole, reg, part)
        return _Call(self.params, xv, yv, outs)

    def run(self):
        C.call(C.block_stats, "block statistics", self.xv, self.yv, self.params,
               self.outs, len(self.outs))


def stacked(x, xcode, y, opts, codes, out_dtype, threads, what="block_stats"):
    """The statistics `codes` of the blocks of x (and y), stacked along a new
    first axis: shape (len(codes),) + leading axes + blocks per axis.
    opts are checked BlockOptions; x and y checked arrays."""
    k = len(opts.block)
    lead = x.shape[:-k]
    spatial_out = output_shape(opts.params(), x.shape[-k:], what)
    res = np.empty((len(codes),) + lead + spatial_out, dtype=out_dtype)
    if res.size == 0:
        return res
    out_code = A.dtype_code(res.dtype)
    arrays = [x] + ([y] if y is not None else []) + [res[i] for i in range(len(codes))]
    units = S.units(arrays, k)
    params = opts.params(lead_axis=units[0][0].ndim != k)
    nin = 1 + (y is not None)
    calls = []
    for unit in units:
        xv = S.view(unit[0], xcode)
        yv = S.view(unit[1], xcode) if y is not None else None
        outs = (C.BlockOutput * len(codes))()
        for i, (code, o) in enumerate(zip(codes, unit[nin:])):
            outs[i].stat = code
            outs[i].input = 0
            outs[i].view = S.view(o, out_code)
        calls.append(_Call(params, xv, yv, outs))
    S.run_shares(calls, threads)
    return res


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def block_stats(x, block, stats=("mean", "std"), *, y=None, edge="partial", ddof=0,
                fill=None, dtype=np.float64, threads=None):
    """Statistics of the non-overlapping blocks of x (and of the pair x, y).

    Parameters
    ----------
    x : array
        2-D or higher, of dtype uint8, int8, uint16, int16, uint32, int32,
        float32 or float64, any strides.  The blocks cover its last 2 or 3
        axes; the axes before those (time, channel, ...) are kept: a
        (T, C, Z, Y, X) array with a 3-D block gives (T, C, z, y, x) results.
        A dask array gives lazy dask results (see blockwise.dask).
    block : int or sequence of 2 or 3 ints
        Block size per axis, slowest first: (by, bx) or (bz, by, bx).  One
        int means that size along every axis of a 2-D or 3-D array (a 3-D
        array gets 3-D blocks); arrays of more axes need explicit sizes.
    stats : str or sequence of str
        Among "count", "sum", "mean", "var", "std", "min", "max", and, with
        y, "cov" and "corr" (or the long names the command line also takes:
        "variance", "standard-deviation", "minimum", "maximum",
        "covariance", "correlation").  All are computed in one pass.
    y : array, optional
        Second image for "cov" and "corr": same shape and dtype as x.
    edge : "partial" or "trim"
        Blocks cut short by the array's end are kept with the pixels they
        have (ceil(n / b) blocks per axis) or dropped (floor(n / b)).
    ddof : 0 or 1
        Delta degrees of freedom of "var", "std" and "cov".
    fill : float, optional
        "corr" of blocks where x or y is constant (NaN when not given).
    dtype : float32 or float64 (or "f32", "f64")
        Element type of the results.
    threads : int, optional
        Split the work over this many threads (default: the calling thread).
        The results are the same bits whatever the number.

    Returns
    -------
    An array when stats is one name; otherwise a dict from each name to its
    array, in the order asked.  For a block of n pixels a_i: count n, sum
    and mean of a_i, var = sum (a_i - mean)^2 / (n - ddof) (NaN when
    n <= ddof), std its square root, min and max (NaN if the block has a
    NaN), cov the same with (a_i - mean_a)(b_i - mean_b), and corr Pearson's
    r = cov / (std_a std_b).

    See also: block_corr, block_output_shape, block_input_region.
    """
    x, xcode = A.as_input(x, "x")
    A.check_least_axes(x)
    if y is not None:
        y, _ = A.as_input(y, "y")
        A.check_pair(x, y)
    names, codes, single = A.parse_stats(stats, y is not None)
    opts = A.block_options(block, x.ndim, "block_stats", edge, ddof, fill)
    out_dtype = A.parse_float_dtype(dtype)
    threads = A.parse_threads(threads)
    A.check_extents(x.shape, len(opts.block), "those the blocks cover")
    if not A.needs_pair(codes):
        y = None
    res = stacked(x, xcode, y, opts, codes, out_dtype, threads)
    if single:
        return res[0]
    return {s: res[i] for i, s in enumerate(names)}


def block_corr(x, y, block, *, edge="partial", fill=None, dtype=np.float64, threads=None):
    """Pearson r of each pair of blocks of x and y.

    r = sum (a_i - mean_a)(b_i - mean_b) / sqrt(sum (a_i - mean_a)^2 sum (b_i - mean_b)^2)
    over the n pixels a_i of a block of x and b_i of the same block of y;
    NaN (or `fill`) where either block is constant.  x and y have the same
    shape and dtype; the arguments are those of block_stats, and so are the
    leading axes, the edge policy and the threads.  Returns an array of
    dtype `dtype` (float64 by default); a dask array for dask inputs.

    See also: block_stats, blockwise.dask.block_corr.
    """
    if y is None:
        raise TypeError("block_corr needs two images: block_corr(x, y, block)")
    return block_stats(x, block, "corr", y=y, edge=edge, fill=fill, dtype=dtype,
                       threads=threads)


def block_output_shape(shape, block, *, edge="partial"):
    """The shape of block_stats' results for an array of shape `shape`: the
    leading axes, then the number of blocks along each blocked axis."""
    shape = A.parse_shape(shape)
    opts = A.block_options(block, len(shape), "block_output_shape", edge)
    for n in shape:
        if n < 0:
            raise ValueError(f"shape {shape}: extents must be between 0 and 2**62")
    k = len(opts.block)
    return shape[:-k] + output_shape(opts.params(), shape[-k:], "block_output_shape")


def block_input_region(shape, block, region, *, edge="partial"):
    """The core's region map: the pixels that the blocks `region` need.

    shape is the image's shape (its last 2 or 3 axes are blocked, as in
    block_stats); region is a tuple of slices (or ints), one per blocked
    axis, in block indices; the result is a tuple of slices in pixels, one
    per blocked axis: start = first block * block size, stop = end block *
    block size clipped to the image.  block_stats of x[result] equals the
    blocks `region` of block_stats(x), bit for bit.
    """
    out_shape = block_output_shape(shape, block, edge=edge)
    shape = A.parse_shape(shape)
    opts = A.block_options(block, len(shape), "block_input_region", edge)
    k = len(opts.block)
    start, size = A.parse_region(region, out_shape[-k:])
    start, size = input_region(opts.params(), shape[-k:], start, size, "block_input_region")
    return tuple(slice(s, s + n) for s, n in zip(start, size))
