"""Per-block displacement of numpy arrays (block_shift).

block_shift checks every argument (blockwise._args_local; the core checks
the ranges) before any pixel is read, then runs the C core (bw_block_shift)
on views of the caller's memory.  With threads=N the blocks are shared
among the threads, each share computed from the regions of both images the
core's region map (bw_shift_input_region) gives for it, so the bits do not
depend on N.  blockwise.dask uses the same path on each chunk of blocks.
"""
import collections

import numpy as np

from . import _args as A
from . import _args_local as L
from . import _core as C
from . import _split as S

__all__ = ["block_shift", "shift_input_region", "BlockShift"]

#: What block_shift returns: shift, an array of shape (ndim,) + blocks (the
#: displacement along each covered axis, slowest first, in pixels); peak,
#: Pearson r at the best integer shift; zero, r at zero shift.
BlockShift = collections.namedtuple("BlockShift", ["shift", "peak", "zero"])


# ---------------------------------------------------------------------------
# The core's geometry
# ---------------------------------------------------------------------------

def output_shape(params, image, what="shift output shape"):
    """bw_shift_output_shape: blocks per axis of an image of extents `image`."""
    out = C.sizes(())
    C.call(C.shift_output_shape, what, params, C.sizes(image), out)
    return tuple(out[:params.ndim])


def input_region(params, image, start, size, what="shift region map"):
    """bw_shift_input_region: ((start, size) of x, (start, size) of y) in
    pixels, of the blocks (start, size) of an image of extents `image`: the
    blocks' pixels, and those grown by the search radius, clipped."""
    a, b = C.Region(), C.Region()
    C.call(C.shift_input_region, what, params, C.sizes(image), C.region(start, size), a, b)
    return C.box(a, params.ndim), C.box(b, params.ndim)


# ---------------------------------------------------------------------------
# Core calls
# ---------------------------------------------------------------------------

class _Box:
    """One bw_block_shift call: a box of blocks, its outputs (shift per axis
    of the core's, None where not wanted, then peak and zero), and the
    views of x and y holding what it needs, placed in the whole image."""

    def __init__(self, params, x, x_start, y, y_start, code, outs, out_code, out_start,
                 image):
        self.params, self.code, self.outs, self.out_code = params, code, outs, out_code
        self.x, self.x_start, self.y, self.y_start = x, x_start, y, y_start
        self.out_start, self.image = out_start, image
        self.out_shape = outs[-1].shape

    def sub(self, start, size):
        """The blocks (start, size) of this call's output (its coordinates),
        with both inputs cut by the core's region map."""
        gstart = tuple(s + o for s, o in zip(start, self.out_start))
        (xa, xn), (ya, yn) = input_region(self.params, self.image, gstart, size)

        def cut(arr, arr_start, a, n):
            return arr[tuple(slice(p - q, p - q + m) for p, q, m in zip(a, arr_start, n))]
        os = tuple(slice(s, s + n) for s, n in zip(start, size))
        return _Box(self.params, cut(self.x, self.x_start, xa, xn), xa,
                    cut(self.y, self.y_start, ya, yn), ya, self.code,
                    [None if o is None else o[os] for o in self.outs], self.out_code,
                    gstart, self.image)

    def run(self):
        out = C.ShiftOutputs()
        nd = self.params.ndim
        for i, o in enumerate(self.outs):  # shift per axis, peak, zero
            if o is None:
                continue
            v = S.view(o, self.out_code)
            if i < nd:
                out.shift[i] = v
            elif i == nd:
                out.peak = v
            else:
                out.zero = v
        C.call(C.block_shift, "block_shift", S.view(self.x, self.code),
               C.sizes(self.x_start), S.view(self.y, self.code), C.sizes(self.y_start),
               C.sizes(self.image), self.params, out, C.sizes(self.out_start))


def shift_into(x, y, code, res, opts, x_start, y_start, out_start, image, threads):
    """Computes into res (shape (k + 2,) + leading axes + blocks: the
    shift along each of the k covered axes, peak r, zero r) the blocks at
    out_start of the whole image (extents `image`), from x and y, the boxes
    at x_start and y_start holding what the region map says they need.
    Arguments must already be checked."""
    k = len(opts.block)
    if res.size == 0:
        return res
    out_code = A.dtype_code(res.dtype)
    units = S.units([x, y] + [res[i] for i in range(k + 2)], k)
    lead_axis = units[0][0].ndim != k  # 2-D blocks over a stack of planes
    params = opts.params(lead_axis)
    lead = (0,) if lead_axis else ()
    boxes = []
    for unit in units:
        stack = (unit[0].shape[0],) if lead_axis else ()
        # No shift is wanted along the stack: its blocks have extent 1.
        outs = ([None] if lead_axis else []) + list(unit[2:])
        boxes.append(_Box(params, unit[0], lead + tuple(x_start), unit[1],
                          lead + tuple(y_start), code, outs, out_code, lead + tuple(out_start),
                          stack + tuple(image)))
    S.run_shares(boxes, threads)
    return res


def prepare(x, y, block, search, fill, dtype, as_array):
    """The checked arguments of block_shift: (x, y, opts, out dtype)."""
    if y is None:
        raise TypeError("block_shift needs two images: block_shift(x, y, block)")
    x, y = A.checked_inputs(x, y, as_array)
    opts = L.shift_options(block, search, fill, x.ndim, "block_shift")
    out_dtype = A.parse_float_dtype(dtype)
    A.check_extents(x.shape, len(opts.block), "those the blocks cover")
    return x, y, opts, out_dtype


def split(res, k):
    """BlockShift of the stacked result res (shift, then peak, then zero)."""
    return BlockShift(res[:k], res[k], res[k + 1])


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def block_shift(x, y, block, search=None, *, fill=None, dtype=np.float64, threads=None):
    """Per-block displacement of y relative to x: for each block, the shift
    of y within the search radius that maximises Pearson r between the
    block of x and the shifted block of y, refined to sub-pixel precision.

    For block Q and integer shift s (|s_d| <= search_d), r(s) is Pearson r
    of the pairs (x[p], y[p + s]) over the pixels p of Q with p + s inside
    the image (the shifted block is clipped at the border, never padded).
    The best integer shift is refined by the maximum of a quadratic fitted
    around it (see bw_block_shift in bw_shift.h); along an axis where the
    best shift lies on the search boundary it stays an integer.

    Sign: if y[p] = x[p - d] (y is x moved by +d, as np.roll(x, d) does
    away from the borders), the shift reported is +d.

    Parameters
    ----------
    x, y : arrays
        Same shape and dtype (uint8, int8, uint16, int16, uint32, int32,
        float32, float64), 2-D or higher, any strides.  The blocks cover
        their last 2 or 3 axes; the axes before those are kept.  dask
        arrays give lazy dask results (see blockwise.dask).
    block : int or sequence of 2 or 3 ints
        Block size per axis, slowest first, as in block_stats (blocks cut
        short by the array's end are kept).
    search : int or sequence of ints
        Search radius per axis, 0 to 255: shifts -search .. search are
        tried (0: none along that axis).  Default the core's, 8.
    fill : float, optional
        Shift and peak r of blocks where no shift gives a defined r (a
        constant block), and zero r where it is undefined (NaN when not
        given).
    dtype : float32 or float64 (or "f32", "f64")
        Element type of the results.
    threads : int, optional
        Split the blocks over this many threads; the same bits whatever
        the number.

    Returns
    -------
    BlockShift(shift, peak, zero), a named tuple: shift of shape
    (len(block),) + leading axes + blocks per axis (shift[0] along the
    slowest covered axis, in pixels); peak, r at the best integer shift,
    and zero, r at zero shift (the block correlation), of shape leading
    axes + blocks per axis.

    See also: shift_input_region, block_corr, local_corr.
    """
    x, y, opts, out_dtype = prepare(x, y, block, search, fill, dtype,
                                    lambda a, name: A.as_input(a, name)[0])
    threads = A.parse_threads(threads)
    k = len(opts.block)
    image = x.shape[-k:]
    res = np.empty((k + 2,) + x.shape[:-k] + output_shape(opts.params(), image, "block_shift"),
                   dtype=out_dtype)
    shift_into(x, y, A.dtype_code(x.dtype), res, opts, (0,) * k, (0,) * k, (0,) * k, image,
               threads)
    return split(res, k)


def shift_input_region(shape, block, region, *, search=None):
    """The core's region map of block_shift: (pixels of x, pixels of y) that
    the blocks `region` need, each a tuple of slices, one per blocked axis.

    shape is the images' shape (the blocks cover its last len(block)
    axes); region a tuple of slices (or ints) in block indices.  x's pixels
    are the blocks' own; y's are those grown by the search radius, clipped
    to the image.
    """
    shape = A.parse_shape(shape)
    opts = L.shift_options(block, search, None, len(shape), "shift_input_region")
    k = len(opts.block)
    image = shape[-k:]
    for n in image:
        if n < 1:
            raise ValueError(f"shape {shape}: extents must be between 1 and 2**62")
    params = opts.params()
    start, size = A.parse_region(region, output_shape(params, image, "shift_input_region"))
    boxes = input_region(params, image, start, size, "shift_input_region")
    return tuple(tuple(slice(s, s + n) for s, n in zip(*b)) for b in boxes)
