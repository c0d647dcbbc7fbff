"""The dask API: the block operations on dask arrays, lazily.

Each function rechunks its inputs so that every chunk boundary along a
blocked axis falls on a block boundary (as near as possible to the boundary
it had), then computes every chunk with the numpy path through
dask.array.map_blocks.  The input extent of each output chunk comes from the
core's region map (blockwise.block_input_region), so computing a chunk gives
exactly the bits the whole-array computation gives for its blocks.  The
leading axes (time, channel, ...) keep their chunks.

Non-local means denoising (nlm_denoise) is a windowed operation: it uses
dask.array.map_overlap with boundary="none" and the depth per axis taken
from the core's region map (blockwise.nlm_input_region), and computes each
chunk as the part of the whole image it is, at its place in the array, so
the result equals the whole-array one bit for bit.

The results are lazy dask arrays.  The functions and the chunk functions
live at module level, so they pickle by reference and run on
dask.distributed workers that can import blockwise.
"""
import math

import dask.array as da
import numpy as np

from . import _core as C
from . import _nlm
from . import _numpy as N

__all__ = ["block_stats", "block_corr", "block_chunks", "nlm_denoise"]


def _as_dask(x, name):
    if x is None:
        raise TypeError(f"{name} is None; expected an array")
    if not isinstance(x, da.Array):
        x = da.asarray(x)
    if isinstance(getattr(x, "_meta", None), np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked dask array, whose mask would be ignored")
    N.as_input(np.empty((0,), x.dtype), name)  # TypeError for unsupported dtypes
    if not x.dtype.isnative:
        # As the numpy path converts such arrays: the core reads native order.
        x = x.astype(x.dtype.newbyteorder("="))
    return x


def block_chunks(chunks, shape, block, edge="partial"):
    """Chunks for an array of `shape` whose last len(block) axes are blocked:
    along those axes every boundary lies on a block boundary, the one
    nearest to the boundary in `chunks` (a dask chunks tuple); the leading
    axes keep theirs.  Returns (input chunks, output chunks of the blocks).
    """
    k = len(block)
    if any(isinstance(n, float) and math.isnan(n) for n in shape):
        raise ValueError("the array has chunks of unknown size; call "
                         "compute_chunk_sizes() on it first")
    edge = N.parse_edge(edge)
    out_shape = N.block_output_shape(shape, block, edge=edge)
    in_chunks = list(chunks[:-k])
    out_chunks = list(chunks[:-k])
    for axis in range(k):
        n, b = shape[len(shape) - k + axis], block[axis]
        nout = out_shape[len(shape) - k + axis]
        cuts = set()
        edge_at = 0
        for c in chunks[len(shape) - k + axis][:-1]:
            if isinstance(c, float) and math.isnan(c):
                raise ValueError("the array has chunks of unknown size; call "
                                 "compute_chunk_sizes() on it first")
            edge_at += int(c)
            j = (edge_at + b // 2) // b  # the nearest block boundary
            if 0 < j < nout:
                cuts.add(j)
        bounds = [0] + sorted(cuts) + [nout]
        ins, outs = [], []
        for j0, j1 in zip(bounds[:-1], bounds[1:]):
            region = [slice(None)] * k
            region[axis] = slice(j0, j1)
            pixels = N.block_input_region(shape, block, tuple(region), edge=edge)[axis]
            ins.append(pixels.stop - pixels.start)
            outs.append(j1 - j0)
        # With edge="trim" the pixels after the last whole block belong to no
        # block: the last chunk carries them.
        ins[-1] += n - sum(ins)
        in_chunks.append(tuple(ins))
        out_chunks.append(tuple(outs))
    return tuple(in_chunks), tuple(out_chunks)


def _chunk_stats(x, y, *, block, names, edge, ddof, fill, out_dtype, stack):
    """The statistics of one chunk, stacked along a new first axis (stack)
    or, for one statistic, without it."""
    x, code = N.as_input(x, "x")
    if y is not None:
        y, _ = N.as_input(y, "y")
    res = N.stacked(x, code, y, block, names, edge, ddof, fill, np.dtype(out_dtype), 1)
    return res if stack else res[0]


def block_stats(x, block, stats=("mean", "std"), *, y=None, edge="partial", ddof=0,
                fill=None, dtype=np.float64):
    """blockwise.block_stats on dask arrays: the same arguments (but no
    threads=: the scheduler runs the chunks in parallel) and the same
    results, as lazy dask arrays.  numpy inputs are wrapped with
    dask.array.asarray.  Computing several of the returned arrays together
    (dask.compute(*result.values())) makes one pass over the pixels.

    See also: blockwise.block_stats, block_chunks.
    """
    x = _as_dask(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes; its shape is {x.shape}")
    if y is not None:
        y = _as_dask(y, "y")
        N.check_pair(x, y)
    names, single = N.parse_stats(stats, y is not None)
    block = N.parse_block(block, x.ndim)
    edge = N.parse_edge(edge)
    ddof = N.parse_ddof(ddof)
    fill = N.parse_fill(fill)
    out_dtype = N.parse_dtype(dtype)
    N.check_spatial(x, len(block))
    if not any(s in C.PAIR_STATS for s in names):
        y = None
    in_chunks, out_chunks = block_chunks(x.chunks, x.shape, block, edge)
    x = x.rechunk(in_chunks)
    args = [x]
    if y is not None:
        args.append(y.rechunk(in_chunks))
    else:
        args.append(None)
    name = "blockwise-" + "-".join(names)
    common = dict(block=block, names=names, edge=edge, ddof=ddof, fill=fill,
                  out_dtype=out_dtype.str, dtype=out_dtype, name=name)
    if len(names) == 1:
        res = da.map_blocks(_chunk_stats, *args, stack=False, chunks=out_chunks,
                            meta=np.empty((0,) * x.ndim, dtype=out_dtype), **common)
        return res if single else {names[0]: res}
    # Several statistics: one task per chunk computes them all in one pass,
    # stacked along a new first axis that the results then index.
    res = da.map_blocks(_chunk_stats, *args, stack=True,
                        chunks=((len(names),),) + out_chunks, new_axis=0,
                        meta=np.empty((0,) * (x.ndim + 1), dtype=out_dtype), **common)
    return {s: res[i] for i, s in enumerate(names)}


def block_corr(x, y, block, *, edge="partial", fill=None, dtype=np.float64):
    """blockwise.block_corr on dask arrays, lazily; see block_stats."""
    if y is None:
        raise TypeError("block_corr needs two images: block_corr(x, y, block)")
    return block_stats(x, block, "corr", y=y, edge=edge, fill=fill, dtype=dtype)


def _merge_small_chunks(chunks, size):
    """chunks (of one axis) merged with their neighbours until each holds at
    least `size` elements."""
    if min(chunks) >= size:
        return tuple(chunks)
    merged, acc = [], 0
    for c in chunks:
        acc += c
        if acc >= size:
            merged.append(acc)
            acc = 0
    if acc:
        if merged:
            merged[-1] += acc
        else:
            merged.append(acc)
    return tuple(merged)


def _chunk_nlm(x, *, opts, depth_before, image, out_dtype, block_info=None):
    """Denoises one chunk: x is the chunk grown by the overlap (none at the
    array's edges); the output is the chunk itself, computed as the part of
    the whole image (extents `image`) it is."""
    k = opts.ndim
    info = block_info[None]
    location = info["array-location"]
    index = info["chunk-location"]
    out_start, in_start, origin = [], [], []
    for axis, (start, stop) in enumerate(location):
        spatial = axis - (len(location) - k)
        if spatial < 0:
            origin.append(start)
            continue
        before = depth_before[spatial] if index[axis] > 0 else 0
        out_start.append(start)
        in_start.append(start - before)
        origin.append(start - before)
    x, code = N.as_input(x, "x")
    _nlm.check_finite(x, origin)
    out = np.empty(tuple(b - a for a, b in location), dtype=np.dtype(out_dtype))
    return _nlm.denoise_into(x, code, out, opts, in_start, out_start, image, 1)


def nlm_denoise(x, sigma=None, *, patch=3, search=10, h=0.0, noise="gaussian", gain=1.0,
                offset=0.0, read_sigma=0.0, ndim=None, dtype=np.float32):
    """blockwise.nlm_denoise on dask arrays: the same arguments (but no
    threads=: the scheduler runs the chunks in parallel) and the same
    result, as a lazy dask array.  numpy inputs are wrapped with
    dask.array.asarray.

    Each chunk is computed with dask.array.map_overlap, boundary="none",
    from the chunk grown by the halo the core's region map gives (patch
    radius + search radius per axis), as the part of the whole image it is:
    the result equals the whole-array result bit for bit, whatever the
    chunks.  The denoised axes are rechunked where a chunk is smaller than
    the halo; chunks many times larger than the halo waste less work on
    overlaps.  Leading axes keep their chunks.

    See also: blockwise.nlm_denoise, blockwise.nlm_input_region.
    """
    x = _as_dask(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes; its shape is {x.shape}")
    opts = _nlm.parse_options(x.ndim, sigma, patch, search, h, noise, gain, offset,
                              read_sigma, ndim)
    out_dtype = _nlm.parse_out_dtype(dtype, x.dtype)
    k = opts.ndim
    _nlm.check_extents(x.shape, k)
    for c in x.chunks:
        if any(isinstance(n, float) and math.isnan(n) for n in c):
            raise ValueError("the array has chunks of unknown size; call "
                             "compute_chunk_sizes() on it first")
    before, after = _nlm.halo(opts)
    lead = x.ndim - k
    image = tuple(x.shape[lead:])
    chunks = list(x.chunks)
    depth = {axis: 0 for axis in range(x.ndim)}
    depth_before = []
    for i, n in enumerate(image):
        axis = lead + i
        b, a = before[i], after[i]
        if len(chunks[axis]) == 1 or max(b, a) >= n:
            # One chunk along this axis holds everything its pixels need.
            chunks[axis] = (n,)
            b = a = 0
        else:
            chunks[axis] = _merge_small_chunks(chunks[axis], max(b, a))
            if len(chunks[axis]) == 1:
                b = a = 0
        depth[axis] = b if a == b else (b, a)
        depth_before.append(b)
    x = x.rechunk(tuple(chunks))
    return da.map_overlap(_chunk_nlm, x, depth=depth, boundary="none", trim=False,
                          align_arrays=False, allow_rechunk=False, chunks=x.chunks,
                          dtype=out_dtype, meta=np.empty((0,) * x.ndim, dtype=out_dtype),
                          name="blockwise-nlm", opts=opts, depth_before=tuple(depth_before),
                          image=image, out_dtype=out_dtype.str)
