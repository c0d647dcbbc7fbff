"""The dask API: the block operations on dask arrays, lazily.

Each function rechunks its inputs so that every chunk boundary along a
blocked axis falls on a block boundary (as near as possible to the boundary
it had), then computes every chunk with the numpy path through
dask.array.map_blocks.  The input extent of each output chunk comes from the
core's region map (blockwise.block_input_region), so computing a chunk gives
exactly the bits the whole-array computation gives for its blocks.  The
leading axes (time, channel, ...) keep their chunks.

The results are lazy dask arrays.  The functions and the chunk function
live at module level, so they pickle by reference and run on
dask.distributed workers that can import blockwise.

There are no windowed operations in the core yet; when there are, their
dask versions use map_overlap with the depth taken from the core's region
map and boundary="none".
"""
import math

import dask.array as da
import numpy as np

from . import _core as C
from . import _numpy as N

__all__ = ["block_stats", "block_corr", "block_chunks"]


def _as_dask(x, name):
    if x is None:
        raise TypeError(f"{name} is None; expected an array")
    if not isinstance(x, da.Array):
        x = da.asarray(x)
    if isinstance(getattr(x, "_meta", None), np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked dask array, whose mask would be ignored")
    N.as_input(np.empty((0,), x.dtype), name)  # TypeError for unsupported dtypes
    return x


def block_chunks(chunks, shape, block, edge="partial"):
    """Chunks for an array of `shape` whose last len(block) axes are blocked:
    along those axes every boundary lies on a block boundary, the one
    nearest to the boundary in `chunks` (a dask chunks tuple); the leading
    axes keep theirs.  Returns (input chunks, output chunks of the blocks).
    """
    k = len(block)
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
