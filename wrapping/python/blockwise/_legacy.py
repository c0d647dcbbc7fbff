"""The names of the earlier Python package `blockwise`, as thin aliases.

That package (numpy and dask, by summed-area tables) gave per-block
statistics over every axis of an array, one block size per axis, keeping
only whole blocks: bw_sum, bw_mean, bw_std and bw_corrcoef(image1, image2,
block_shape), each with keep_shape=True to repeat every block's value over
its pixels; trim(image, block_shape) cut off the pixels after the last
whole block along each axis and repeat_block(image, block_shape) repeated
each element into a block.

Here they are computed by block_stats (edge="trim": whole blocks only), so
numpy in gives numpy out and dask in gives dask out, and the results are
float64 (the earlier bw_sum kept integer inputs' integer type).  Inputs
of a dtype the core does not read but numpy makes by default (int64, from
np.arange, uint64, bool, float16) are converted to float64, exact for
integers up to 2**53 in magnitude.  The core
covers 2 or 3 axes: a 1-D array is treated as one row, and arrays of more
axes need blocks of extent 1 along all but their last three.  Constant
blocks give NaN in bw_corrcoef, as they did (0 / 0) there, without the
warning.  A block larger than the array along an axis, which leaves no
whole block, raises ValueError (the core's message) where the earlier
functions returned empty arrays.
"""
import sys

import numpy as np

from . import _args as A

__all__ = ["bw_sum", "bw_mean", "bw_std", "bw_corrcoef", "trim", "repeat_block"]


def _is_dask(x):
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, da.Array)


def _array(x, name):
    """x as it is when it is a numpy or dask array, else as a numpy array."""
    if isinstance(x, np.ndarray) or _is_dask(x):
        return x
    if x is None:
        raise TypeError(f"{name} is None; expected an array")
    return np.asarray(x)


def _readable(x):
    """x, or, when its dtype is a real one the core does not read (64-bit
    integers, as np.arange makes, booleans, float16), x as float64: exact
    for integers up to 2**53 in magnitude."""
    dt = x.dtype
    if A.dtype_code(dt) is None and (dt.kind in "biu" or dt == np.float16):
        return x.astype(np.float64)
    return x


def _block_shape(block_shape, ndim, what):
    """block_shape as a tuple of one int >= 1 per axis of an array of ndim
    axes (TypeError, ValueError otherwise)."""
    if isinstance(block_shape, (str, bytes)) or not hasattr(block_shape, "__iter__"):
        raise TypeError(f"{what}: block_shape must be a sequence of one int per axis, "
                        f"not {type(block_shape).__name__} {block_shape!r}")
    sizes = tuple(block_shape)
    for b in sizes:
        if not A.is_int(b):
            raise TypeError(f"{what}: block size {b!r} is not an int")
    if len(sizes) != ndim:
        raise ValueError(f"{what}: block_shape {sizes} has {len(sizes)} sizes; the array "
                         f"has {ndim} axes: give one size per axis")
    for b in sizes:
        if b < 1:
            raise ValueError(f"{what}: block sizes must be at least 1; block_shape is {sizes}")
    return sizes


def _core_blocks(x, block_shape, what):
    """(x as the core sees it, its blocks, unpack): a 1-D array becomes one
    row (unpack removes that axis again); the blocks cover the last 2 or 3
    axes, leading axes needing size 1."""
    sizes = _block_shape(block_shape, x.ndim, what)
    if x.ndim == 0:
        raise ValueError(f"{what}: the array has no axes; give at least one")
    if x.ndim == 1:
        return x[None], (1,) + sizes, lambda r: r[0]
    lead, blocks = sizes[:-3], sizes[-3:]
    if any(b != 1 for b in lead):
        raise ValueError(f"{what}: block_shape {sizes}: blocks cover at most the last 3 axes; "
                         "give size 1 along the ones before")
    return x, blocks, lambda r: r


def _stat(x, block_shape, stat, y=None, ddof=0, keep_shape=False, what=""):
    from . import block_stats  # dispatches dask arrays
    x = _readable(_array(x, "image" if y is None else "image1"))
    xs, blocks, unpack = _core_blocks(x, block_shape, what)
    ys = None
    if y is not None:
        y = _readable(_array(y, "image2"))
        if y.ndim != x.ndim:
            raise ValueError(f"{what}: image1 and image2 differ in shape: {x.shape} and "
                             f"{y.shape}")
        ys = y[None] if x.ndim == 1 else y
    if not isinstance(keep_shape, (bool, np.bool_)):
        raise TypeError(f"{what}: keep_shape must be True or False, not {keep_shape!r}")
    res = unpack(block_stats(xs, blocks, stat, y=ys, edge="trim", ddof=ddof))
    return repeat_block(res, block_shape) if keep_shape else res


def bw_sum(image, block_shape, keep_shape=False):
    """Sum of each whole block of `image` (block_shape: one size per axis);
    with keep_shape, each block's sum repeated over its pixels (the shape of
    trim(image, block_shape)).  block_stats(image, block, "sum",
    edge="trim") in the earlier package's terms."""
    return _stat(image, block_shape, "sum", keep_shape=keep_shape, what="bw_sum")


def bw_mean(image, block_shape, keep_shape=False):
    """Mean of each whole block; see bw_sum."""
    return _stat(image, block_shape, "mean", keep_shape=keep_shape, what="bw_mean")


def bw_std(image, block_shape, ddof=0, keep_shape=False):
    """Standard deviation of each whole block, sqrt(sum (a - mean)^2 /
    (n - ddof)); see bw_sum."""
    return _stat(image, block_shape, "std", ddof=ddof, keep_shape=keep_shape, what="bw_std")


def bw_corrcoef(image1, image2, block_shape, keep_shape=False):
    """Pearson r of each pair of whole blocks of image1 and image2 (same
    shape and dtype); NaN where either block is constant; see bw_sum."""
    if image2 is None:
        raise TypeError("bw_corrcoef needs two images: bw_corrcoef(image1, image2, "
                        "block_shape)")
    return _stat(image1, block_shape, "corr", y=image2, keep_shape=keep_shape,
                 what="bw_corrcoef")


def trim(image, block_shape):
    """image without the pixels after its last whole block along each axis
    (block_shape: one size per axis): the pixels the blocks of
    block_stats(..., edge="trim") cover, from the core's region map.  A
    numpy or dask array, sliced (a view of a numpy array).  ValueError when
    a block is larger than the array."""
    from . import block_input_region, block_output_shape
    x = _array(image, "image")
    xs, blocks, unpack = _core_blocks(x, block_shape, "trim")
    k = len(blocks)
    counts = block_output_shape(xs.shape, blocks, edge="trim")[-k:]
    cut = block_input_region(xs.shape, blocks, tuple(slice(0, c) for c in counts),
                             edge="trim")
    return unpack(xs[(Ellipsis,) + cut])


def repeat_block(image, block_shape):
    """Each element of image repeated block_shape[d] times along each axis
    d, into a block: the inverse of taking one value per block, as
    keep_shape does.  numpy in, numpy out (a new array); dask in, dask out."""
    x = _array(image, "image")
    sizes = _block_shape(block_shape, x.ndim, "repeat_block")
    if _is_dask(x):
        import dask.array as da
        for axis, b in enumerate(sizes):
            if b != 1:
                x = da.repeat(x, b, axis=axis)
        return x
    # A view of x with an axis of extent b after each axis, made contiguous.
    expanded = x.reshape(sum(((n, 1) for n in x.shape), ()))
    target = sum(((n, b) for n, b in zip(x.shape, sizes)), ())
    out_shape = tuple(n * b for n, b in zip(x.shape, sizes))
    return np.broadcast_to(expanded, target).reshape(out_shape)
