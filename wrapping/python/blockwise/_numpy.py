"""The numpy API: block statistics and block correlation of numpy arrays.

Every function validates its arguments before any pixel is read, and raises
TypeError (wrong kind of argument, unsupported dtype) or ValueError (a value
out of range, mismatched shapes) with a message naming the argument.  The C
core then runs on views of the caller's memory: any strides, no copy.
"""
import math
import numbers
import operator
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _core as C

__all__ = ["block_stats", "block_corr", "block_output_shape", "block_input_region"]

SUPPORTED_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32",
                    "float32", "float64")
_MAX_EXTENT = 1 << 62


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------

def is_dask_array(x):
    """True for a dask array (without importing dask when it is not loaded)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, da.Array)


def as_input(x, name):
    """x as a numpy array the core can read, and its bw_dtype code.

    Non-native byte order and misaligned data are copied; everything else is
    used in place, whatever its strides.
    """
    if x is None:
        raise TypeError(f"{name} is None; expected an array")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked array, whose mask would be ignored; "
                        f"pass {name}.filled(value) or {name}.data")
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as e:  # anything numpy cannot turn into an array
            raise TypeError(f"{name}: cannot be converted to an array ({e})") from None
    dt = x.dtype
    code = C.DTYPES.get((dt.kind, dt.itemsize)) if dt.kind in "uif" else None
    if code is None:
        raise TypeError(f"{name} has dtype {dt}, which the core does not read; "
                        f"supported: {', '.join(SUPPORTED_DTYPES)} "
                        f"(convert with {name}.astype(...))")
    if not dt.isnative:
        x = x.astype(dt.newbyteorder("="))
    elif not x.flags.aligned:
        x = x.copy()
    return x, code


def _integer(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} {value!r}")
    return operator.index(value)


def parse_block(block, x_ndim):
    """The block sizes, 2 or 3 of them, for an array of x_ndim axes."""
    if isinstance(block, numbers.Integral) and not isinstance(block, (bool, np.bool_)):
        b = operator.index(block)
        if x_ndim > 3:
            raise ValueError(
                f"block={b} is ambiguous for a {x_ndim}-D array: give 2 sizes for 2-D "
                f"blocks over the last two axes, e.g. ({b}, {b}), or 3 for 3-D blocks "
                f"over the last three, e.g. ({b}, {b}, {b})")
        sizes = (b,) * min(x_ndim, 3)
    elif isinstance(block, (str, bytes)) or not hasattr(block, "__iter__"):
        raise TypeError(f"block must be an int or a sequence of 2 or 3 ints, "
                        f"not {type(block).__name__} {block!r}")
    else:
        sizes = tuple(_integer(b, "block size") for b in block)
        if len(sizes) not in (2, 3):
            raise ValueError(f"block {sizes} has {len(sizes)} sizes; the operations are "
                             "2-D or 3-D: give 2 or 3 sizes")
    for b in sizes:
        if b < 1:
            raise ValueError(f"block {sizes}: every size must be at least 1")
        if b > _MAX_EXTENT:
            raise ValueError(f"block {sizes}: a size is too large")
    if len(sizes) > x_ndim:
        raise ValueError(f"a {len(sizes)}-D block needs an array with at least "
                         f"{len(sizes)} axes; the array has {x_ndim}")
    return sizes


def parse_edge(edge):
    if not isinstance(edge, str):
        raise TypeError(f"edge must be 'partial' or 'trim', not {type(edge).__name__}")
    if edge not in C.EDGES:
        raise ValueError(f"edge must be 'partial' or 'trim', not {edge!r}")
    return edge


def parse_ddof(ddof):
    ddof = _integer(ddof, "ddof")
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 (population) or 1 (sample), not {ddof}")
    return ddof


def parse_fill(fill):
    if fill is None:
        return None
    if isinstance(fill, (bool, np.bool_)) or not isinstance(fill, numbers.Real):
        raise TypeError(f"fill must be a real number or None, not {type(fill).__name__}")
    return float(fill)


def parse_dtype(dtype):
    """The output dtype: float32 or float64 (also spelled 'f32', 'f64')."""
    spelled = {"f32": np.float32, "f64": np.float64}
    if isinstance(dtype, str) and dtype in spelled:
        dtype = spelled[dtype]
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, not {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, not {dt}")
    return dt


def parse_threads(threads):
    if threads is None:
        return 1
    threads = _integer(threads, "threads")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return threads


def parse_stats(stats, have_y):
    """(names, single): the statistics asked for, and whether one was named
    on its own (a str) rather than in a sequence."""
    single = isinstance(stats, str)
    if single:
        names = (stats,)
    elif isinstance(stats, bytes) or not hasattr(stats, "__iter__"):
        raise TypeError(f"stats must be a statistic's name or a sequence of names, "
                        f"not {type(stats).__name__}")
    else:
        names = tuple(stats)
    if not names:
        raise ValueError("stats is empty: name at least one statistic")
    for s in names:
        if not isinstance(s, str):
            raise TypeError(f"stats: {s!r} is not a statistic's name (a str)")
        if s not in C.STAT_CODES:
            raise ValueError(f"stats: unknown statistic {s!r}; known: {', '.join(C.STATS)}")
        if s in C.PAIR_STATS and not have_y:
            raise ValueError(f"stats: {s!r} is a statistic of a pair: pass the second "
                             "image as y=")
    if len(set(names)) != len(names):
        raise ValueError(f"stats: a statistic is named twice in {names}")
    return names, single


def check_pair(x, y):
    if y.shape != x.shape:
        raise ValueError(f"x and y differ in shape: {x.shape} and {y.shape}")
    if y.dtype != x.dtype:
        raise TypeError(f"x and y differ in dtype: {x.dtype} and {y.dtype}; "
                        "convert one with astype() so that both have the same")


def check_spatial(x, k):
    for n in x.shape[-k:]:
        if n < 1:
            raise ValueError(f"the array's shape {x.shape} has an empty axis among "
                             f"the last {k} (those the blocks cover)")


# ---------------------------------------------------------------------------
# Core calls
# ---------------------------------------------------------------------------

def _params(block, edge, ddof, fill):
    p = C.BlockParams()
    k = len(block)
    sizes = (C.ctypes.c_ssize_t * C.MAX_DIMS)(*block)
    C.block_params_init(C.ctypes.byref(p), k, sizes)
    p.edge = C.EDGES[edge]
    p.ddof = ddof
    if fill is not None:
        p.use_fill = 1
        p.fill = fill
    return p


def _core_output_shape(params, shape):
    """bw_block_output_shape for the last params.ndim extents of shape."""
    k = params.ndim
    image = (C.ctypes.c_ssize_t * C.MAX_DIMS)(*shape[-k:])
    out = (C.ctypes.c_ssize_t * C.MAX_DIMS)()
    err = C.Error()
    st = C.block_output_shape(C.ctypes.byref(params), image, out, C.ctypes.byref(err))
    if st:
        C.raise_for(st, err, f"block {tuple(params.block[:k])} on shape {tuple(shape)}")
    return tuple(out[:k])


def _view(a, code):
    v = C.View()
    v.data = a.ctypes.data
    v.dtype = code
    v.ndim = a.ndim
    for i, (n, s) in enumerate(zip(a.shape, a.strides)):
        v.shape[i] = n
        v.strides[i] = s
    return v


def _fold(a, k):
    """a with all but its last k axes merged into one, as a view, or None
    when that would need a copy."""
    lead = a.shape[:-k]
    if len(lead) <= 1:
        return a
    # Axes of extent 1 have no say; the others merge when each one's stride
    # is the next one's stride times its extent.
    dims = [(n, s) for n, s in zip(lead, a.strides[:-k]) if n != 1]
    for (_, s0), (n1, s1) in zip(dims, dims[1:]):
        if s0 != s1 * n1:
            return None
    step = dims[-1][1] if dims else 0
    return np.lib.stride_tricks.as_strided(
        a, shape=(math.prod(lead),) + a.shape[-k:], strides=(step,) + a.strides[-k:],
        writeable=a.flags.writeable)


def _units(arrays, k):
    """Cuts the arrays (same leading axes, k block axes each) into tuples of
    views of at most 3 axes: one core call each.  With 2-D blocks, the last
    leading axis becomes the core's first axis (blocks of extent 1 there)."""
    lead = arrays[0].shape[:-k]
    if not lead:
        return [tuple(arrays)]
    folded = [_fold(a, k) for a in arrays]
    if all(f is not None for f in folded):
        arrays, lead = folded, folded[0].shape[:1]
    loop = lead if k == 3 else lead[:-1]
    if not loop:
        return [tuple(arrays)]
    return [tuple(a[idx] for a in arrays) for idx in np.ndindex(*loop)]


class _Call:
    """One core call: input views, output views, parameters."""

    def __init__(self, params, xv, yv, outs):
        self.params, self.xv, self.yv, self.outs = params, xv, yv, outs

    def sub(self, region):
        """The same call restricted to a region of its output (block indices),
        with the input cut by the core's region map."""
        byref = C.ctypes.byref
        err = C.Error()
        in_region = C.Region()
        image = (C.ctypes.c_ssize_t * C.MAX_DIMS)(*self.xv.shape)
        st = C.block_input_region(byref(self.params), image, byref(region),
                                  byref(in_region), byref(err))
        if st:
            C.raise_for(st, err, "region map")
        xv = C.View()
        yv = C.View() if self.yv is not None else None
        outs = (C.BlockOutput * len(self.outs))()
        pairs = [(self.xv, xv, in_region)]
        if yv is not None:
            pairs.append((self.yv, yv, in_region))
        for i, o in enumerate(self.outs):
            outs[i].stat, outs[i].input = o.stat, o.input
            pairs.append((o.view, outs[i].view, region))
        for whole, part, reg in pairs:
            st = C.view_subview(byref(whole), byref(reg), byref(part), byref(err))
            if st:
                C.raise_for(st, err, "sub-view")
        return _Call(self.params, xv, yv, outs)

    def run(self):
        byref = C.ctypes.byref
        err = C.Error()
        st = C.block_stats(byref(self.xv),
                           byref(self.yv) if self.yv is not None else None,
                           byref(self.params), self.outs, len(self.outs), byref(err))
        if st:
            C.raise_for(st, err, "block statistics")


def _row_regions(out_shape, r0, r1):
    """Regions covering rows [r0, r1) of an output, its rows being the first
    axis (2-D) or the first two axes flattened (3-D)."""
    def region(start, size):
        reg = C.Region()
        for i, (s, n) in enumerate(zip(start, size)):
            reg.start[i], reg.size[i] = s, n
        return reg
    if len(out_shape) == 2:
        return [region((r0, 0), (r1 - r0, out_shape[1]))]
    nz, ny, nx = out_shape
    z0, y0 = divmod(r0, ny)
    z1, y1 = divmod(r1, ny)
    if z0 == z1:
        return [region((z0, y0, 0), (1, y1 - y0, nx))]
    regions = []
    if y0:
        regions.append(region((z0, y0, 0), (1, ny - y0, nx)))
        z0 += 1
    if z1 > z0:
        regions.append(region((z0, 0, 0), (z1 - z0, ny, nx)))
    if y1:
        regions.append(region((z1, 0, 0), (1, y1, nx)))
    return regions


def stacked(x, xcode, y, block, names, edge, ddof, fill, out_dtype, threads):
    """The statistics `names` of the blocks of x (and y), stacked along a new
    first axis: shape (len(names),) + leading axes + blocks per axis.
    Arguments must already be checked."""
    k = len(block)
    lead = x.shape[:-k]
    params = _params(block, edge, ddof, fill)
    spatial_out = _core_output_shape(params, x.shape)
    res = np.empty((len(names),) + lead + spatial_out, dtype=out_dtype)
    if res.size == 0:
        return res
    out_code = C.DTYPES[(res.dtype.kind, res.dtype.itemsize)]
    arrays = [x] + ([y] if y is not None else []) + [res[i] for i in range(len(names))]
    units = _units(arrays, k)
    unit_ndim = units[0][0].ndim
    if unit_ndim != k:  # 2-D blocks over (leading, Y, X): extent 1 along the first axis
        params = _params((1,) + tuple(block), edge, ddof, fill)
    calls = []
    nin = 1 + (y is not None)
    codes = [C.STAT_CODES[s] for s in names]
    for unit in units:
        xv = _view(unit[0], xcode)
        yv = _view(unit[1], xcode) if y is not None else None
        outs = (C.BlockOutput * len(names))()
        for i, (code, o) in enumerate(zip(codes, unit[nin:])):
            outs[i].stat = code
            outs[i].input = 0
            outs[i].view = _view(o, out_code)
        calls.append(_Call(params, xv, yv, outs))

    if threads == 1:
        for c in calls:
            c.run()
        return res

    # Split the output rows of all units evenly over the threads; each
    # thread computes its share as block-aligned regions through the region
    # map, so the bits are those of one call over everything.
    unit_out = units[0][nin].shape
    rows = unit_out[0] * (unit_out[1] if len(unit_out) == 3 else 1)
    total = rows * len(calls)
    shares = []
    for t in range(threads):
        g0, g1 = total * t // threads, total * (t + 1) // threads
        share = []
        while g0 < g1:
            u, r0 = divmod(g0, rows)
            r1 = min(rows, r0 + (g1 - g0))
            call = calls[u]
            if r0 == 0 and r1 == rows:
                share.append(call)
            else:
                share.extend(call.sub(reg) for reg in _row_regions(unit_out, r0, r1))
            g0 += r1 - r0
        if share:
            shares.append(share)

    def work(share):
        for c in share:
            c.run()

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for f in [pool.submit(work, s) for s in shares]:
            f.result()
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
        y, "cov" and "corr".  All are computed in one pass over the pixels.
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
    if is_dask_array(x) or is_dask_array(y):
        if threads is not None:
            raise ValueError("threads= applies to numpy arrays; for dask arrays the "
                             "scheduler decides the parallelism")
        from . import dask as bwd
        return bwd.block_stats(x, block, stats, y=y, edge=edge, ddof=ddof, fill=fill,
                               dtype=dtype)
    x, xcode = as_input(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes; its shape is {x.shape}")
    if y is not None:
        y, _ = as_input(y, "y")
        check_pair(x, y)
    names, single = parse_stats(stats, y is not None)
    block = parse_block(block, x.ndim)
    edge = parse_edge(edge)
    ddof = parse_ddof(ddof)
    fill = parse_fill(fill)
    out_dtype = parse_dtype(dtype)
    threads = parse_threads(threads)
    check_spatial(x, len(block))
    if not any(s in C.PAIR_STATS for s in names):
        y = None
    res = stacked(x, xcode, y, block, names, edge, ddof, fill, out_dtype, threads)
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
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be a sequence of ints, not {type(shape).__name__}")
    shape = tuple(_integer(n, "shape entry") for n in shape)
    if len(shape) < 2:
        raise ValueError(f"shape {shape} has fewer than 2 axes")
    block = parse_block(block, len(shape))
    edge = parse_edge(edge)
    for n in shape:
        if n < 0 or n > _MAX_EXTENT:
            raise ValueError(f"shape {shape}: extents must be between 0 and 2**62")
    k = len(block)
    return shape[:-k] + _core_output_shape(_params(block, edge, 0, None), shape)


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
    block = parse_block(block, len(shape))
    k = len(block)
    if isinstance(region, (slice, numbers.Integral)):
        region = (region,)
    region = tuple(region)
    if len(region) != k:
        raise ValueError(f"region has {len(region)} entries; the blocks cover {k} axes")
    reg = C.Region()
    for i, (r, n) in enumerate(zip(region, out_shape[-k:])):
        if isinstance(r, slice):
            if r.step not in (None, 1):
                raise ValueError(f"region: slice {r} has a step; only step 1 is a region")
            start = 0 if r.start is None else _integer(r.start, "region start")
            stop = n if r.stop is None else _integer(r.stop, "region stop")
        else:
            start = _integer(r, "region index")
            stop = start + 1
        if abs(start) > _MAX_EXTENT or abs(stop) > _MAX_EXTENT:
            raise ValueError(f"region: {r} is out of range")
        reg.start[i], reg.size[i] = start, stop - start
    params = _params(block, edge, 0, None)
    image = (C.ctypes.c_ssize_t * C.MAX_DIMS)(*shape[-k:])
    out = C.Region()
    err = C.Error()
    st = C.block_input_region(C.ctypes.byref(params), image, C.ctypes.byref(reg),
                              C.ctypes.byref(out), C.ctypes.byref(err))
    if st:
        C.raise_for(st, err, "block_input_region")
    return tuple(slice(out.start[i], out.start[i] + out.size[i]) for i in range(k))
