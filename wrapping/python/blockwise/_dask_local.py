"""The local statistics and the block displacement on dask arrays, lazily
(exported by blockwise.dask).

Local statistics (local_stats, local_corr) are windowed: chunk boundaries
along the covered axes move to the nearest multiple of the step, so that
every input chunk holds the window centres of a whole output chunk (the
output pixels centred in it: the core's output shape of the extent up to
its end minus that up to its start), chunks smaller than the core's halo
(bw_local_halo) join their neighbours, and dask.array.map_overlap grows
each chunk by that halo (boundary="none").  Each chunk is computed from the
input region the core's region map gives for its output pixels
(bw_local_input_region), as the part of the whole image it is: the result
equals the whole-array one bit for bit, whatever the chunks.

The block displacement (block_shift) rechunks both images on block
boundaries (as block_stats does) and grows the chunks of the second by the
depth the core's region map says its blocks read beyond them
(bw_shift_input_region: the search radius, clipped to the image).

Chunk functions live at module level (blockwise._dask_local.chunk_local,
chunk_shift), so graphs pickle by reference for dask.distributed.
"""
import itertools

import dask.array as da
import numpy as np

from . import _args as A
from . import _args_local as L
from . import _local
from . import _shift
from . import dask as D

__all__ = ["local_stats", "local_corr", "local_chunks", "block_shift", "shift_chunks"]


def _starts(chunks):
    return tuple(itertools.accumulate((0,) + tuple(chunks[:-1])))


def _chunk_place(block_info, k, stacked):
    """(leading extents, output start, output size, chunk index along the
    last k axes) of the output chunk a chunk function computes; stacked
    when the output has a new first axis (several results)."""
    info = block_info[None]
    location = info["array-location"][1 if stacked else 0:]
    index = info["chunk-location"][1 if stacked else 0:]
    lead = len(location) - k
    return (tuple(b - a for a, b in location[:lead]), tuple(a for a, _ in location[lead:]),
            tuple(b - a for a, b in location[lead:]), index[lead:])


def _cut(arr, arr_start, start, size):
    """The box (start, size) of the whole image, from arr, the box at
    arr_start (along the last len(start) axes)."""
    return arr[(Ellipsis,) + tuple(slice(s - a, s - a + n)
                                   for s, a, n in zip(start, arr_start, size))]


# ---------------------------------------------------------------------------
# Local statistics
# ---------------------------------------------------------------------------

def _on_steps(chunks, n, step):
    """chunks of one axis of extent n with every boundary moved to the
    nearest multiple of step (boundaries that meet merge)."""
    if step == 1:
        return tuple(chunks)
    ends = itertools.accumulate(int(c) for c in chunks[:-1])
    cuts = sorted({p for p in ((e + step // 2) // step * step for e in ends) if 0 < p < n})
    bounds = [0] + cuts + [n]
    return tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))


def _local_chunks(chunks, shape, opts):
    """(input chunks, output chunks, depth) of local statistics over an
    array of `shape` and `chunks`, for checked LocalOptions."""
    D._check_known(chunks)
    k = opts.ndim
    lead = len(shape) - k
    image = tuple(shape[lead:])
    params = opts.params()
    chunks = list(chunks)
    for i, s in enumerate(opts.step):
        chunks[lead + i] = _on_steps(chunks[lead + i], image[i], s)
    chunks, depth = D._overlap(tuple(chunks), shape, _local.halo(params))
    out_chunks = list(chunks[:lead])
    for i in range(k):
        def centres(end):  # output pixels centred before input pixel `end`
            if end == 0:
                return 0
            extents = image[:i] + (end,) + image[i + 1:]
            return _local.output_shape(params, extents, "local_chunks")[i]
        ends = list(itertools.accumulate(chunks[lead + i]))
        out_chunks.append(tuple(centres(e) - centres(e - c)
                                for e, c in zip(ends, chunks[lead + i])))
    return chunks, tuple(out_chunks), depth


def local_chunks(chunks, shape, *, radius=None, step=None, ndim=None):
    """(input chunks, output chunks, depth): how blockwise.dask.local_stats
    rechunks an array of `shape` and chunks `chunks` (a dask chunks tuple)
    for these windows (chosen as in local_stats), the chunks of its result,
    and the overlap (before, after) each input chunk gets per axis: the
    core's halo (the radius) along the covered axes with more than one
    chunk, 0 elsewhere.  Along the covered axes chunk boundaries move to
    the nearest multiple of the step, and chunks smaller than the halo join
    a neighbour."""
    shape = A.parse_shape(shape)
    opts = L.local_options(len(shape), radius, step, 0, None, ndim, "local_chunks")
    A.check_extents(shape, opts.ndim, "those the windows cover")
    return _local_chunks(chunks, shape, opts)


def chunk_local(x, y=None, *, opts, codes, starts, depth_before, image, out_dtype, stacked,
                block_info=None):
    """The statistics of one output chunk: x (and y) are the input chunk
    holding its window centres, grown by depth_before before it (none at
    the array's start, whose chunk starts are `starts` per covered axis)
    and by the overlap after it; the output is computed from the input
    region the core's region map gives for it, as the part of the whole
    image (extents `image`) it is."""
    k = opts.ndim
    lead, out_start, out_size, index = _chunk_place(block_info, k, stacked)
    x_start = tuple(s[i] - (d if i > 0 else 0)
                    for s, i, d in zip(starts, index, depth_before))
    in_start, in_size = _local.input_region(opts.params(), image, out_start, out_size)
    x, code = A.as_input(_cut(x, x_start, in_start, in_size), "x")
    if y is not None:
        y, _ = A.as_input(_cut(y, x_start, in_start, in_size), "y")
    res = np.empty((len(codes),) + lead + out_size, dtype=np.dtype(out_dtype))
    _local.local_into(x, code, y, res, codes, opts, in_start, out_start, image, 1)
    return res if stacked else res[0]


def local_stats(x, radius=None, stat="mean", *, y=None, step=None, ddof=0, fill=None,
                ndim=None, dtype=np.float64):
    """blockwise.local_stats on dask arrays: the same arguments (but no
    threads=: the scheduler runs the chunks in parallel) and the same
    results, as lazy dask arrays, equal to the numpy ones bit for bit
    whatever the chunks (local_chunks says how they are rechunked).  numpy
    inputs are wrapped with dask.array.asarray.  Several statistics are
    computed in one pass.

    See also: blockwise.local_stats, local_chunks.
    """
    x, y, names, codes, single, opts, out_dtype = _local.prepare(
        x, y, stat, radius, step, ddof, fill, ndim, dtype, "local_stats", D._as_dask)
    k = opts.ndim
    chunks, out_chunks, depth = _local_chunks(x.chunks, x.shape, opts)
    args = [x.rechunk(chunks)] + ([] if y is None else [y.rechunk(chunks)])
    stacked = len(codes) > 1
    extra = dict(chunks=((len(codes),),) + out_chunks, new_axis=0) if stacked \
        else dict(chunks=out_chunks)
    res = da.map_overlap(
        chunk_local, *args, depth=D.depth_arg(depth), boundary="none", trim=False,
        align_arrays=False, allow_rechunk=False, dtype=out_dtype,
        meta=np.empty((0,) * (x.ndim + stacked), dtype=out_dtype),
        name="blockwise-local-" + "-".join(names), opts=opts, codes=codes,
        starts=tuple(_starts(c) for c in chunks[x.ndim - k:]),
        depth_before=tuple(b for b, _ in depth[x.ndim - k:]), image=tuple(x.shape[-k:]),
        out_dtype=out_dtype.str, stacked=stacked, **extra)
    if not stacked:
        return res if single else {names[0]: res}
    return {s: res[i] for i, s in enumerate(names)}


def local_corr(x, y, radius=None, *, step=None, fill=None, ndim=None, dtype=np.float64):
    """blockwise.local_corr on dask arrays, lazily; see local_stats."""
    if y is None:
        raise TypeError("local_corr needs two images: local_corr(x, y, radius)")
    return local_stats(x, radius, "corr", y=y, step=step, fill=fill, ndim=ndim, dtype=dtype)


# ---------------------------------------------------------------------------
# Block displacement
# ---------------------------------------------------------------------------

def _reach(params, image, axis, blocks):
    """(before, after): how far beyond their own pixels along `axis` the
    chunks of `blocks` blocks each (along that axis; all blocks along the
    others) read the second image, the most over the chunks, from the
    core's region map (bw_shift_input_region)."""
    out_shape = _shift.output_shape(params, image, "shift_chunks")
    before = after = 0
    for b0, m in zip(_starts(blocks), blocks):
        start, size = [0] * len(image), list(out_shape)
        start[axis], size[axis] = b0, m
        (xa, xn), (ya, yn) = _shift.input_region(params, image, start, size, "shift_chunks")
        before = max(before, xa[axis] - ya[axis])
        after = max(after, ya[axis] + yn[axis] - xa[axis] - xn[axis])
    return before, after


def _shift_chunks(chunks, shape, opts):
    """(input chunks, output chunks, depth of the second image) of
    block_shift over arrays of `shape` and `chunks`, for checked
    ShiftOptions."""
    k = len(opts.block)
    lead = len(shape) - k
    image = tuple(shape[lead:])
    params = opts.params()
    in_chunks, out_chunks = (list(c) for c in D.block_chunks(chunks, shape, opts.block))
    depth = [(0, 0)] * len(shape)
    for i in range(k):
        axis = lead + i
        while len(in_chunks[axis]) > 1:
            reach = _reach(params, image, i, out_chunks[axis])
            merged = D._merge_small_chunks(in_chunks[axis], max(reach), out_chunks[axis])
            if merged[0] == tuple(in_chunks[axis]):
                depth[axis] = reach
                break
            in_chunks[axis], out_chunks[axis] = merged
    return tuple(in_chunks), tuple(out_chunks), tuple(depth)


def shift_chunks(chunks, shape, block, search=None):
    """(input chunks, output chunks, depth): how blockwise.dask.block_shift
    rechunks arrays of `shape` and chunks `chunks` (both images alike: on
    the block boundaries nearest to theirs, as block_chunks), the chunks of
    its results (blocks), and the overlap (before, after) per axis by which
    the second image's chunks are grown: how far the core's region map
    says their blocks' search reaches beyond them (the search radius).
    Chunks smaller than that join a neighbour."""
    shape = A.parse_shape(shape)
    opts = L.shift_options(block, search, None, len(shape), "shift_chunks")
    A.check_extents(shape, len(opts.block), "those the blocks cover")
    return _shift_chunks(chunks, shape, opts)


def chunk_shift(x, y, *, opts, starts, depth_before, image, out_dtype, block_info=None):
    """The displacement of one chunk of blocks: x is the chunk of the first
    image (its blocks' pixels; chunk starts `starts` per blocked axis), y
    the same chunk of the second grown by depth_before before it (none at
    the array's start) and the overlap after it; the regions of each come
    from the core's region map for the chunk's blocks."""
    k = len(opts.block)
    lead, out_start, out_size, index = _chunk_place(block_info, k, True)
    x_start = tuple(s[i] for s, i in zip(starts, index))
    y_start = tuple(a - (d if i > 0 else 0) for a, i, d in zip(x_start, index, depth_before))
    (xa, xn), (ya, yn) = _shift.input_region(opts.params(), image, out_start, out_size)
    x, code = A.as_input(_cut(x, x_start, xa, xn), "x")
    y, _ = A.as_input(_cut(y, y_start, ya, yn), "y")
    res = np.empty((k + 2,) + lead + out_size, dtype=np.dtype(out_dtype))
    return _shift.shift_into(x, y, code, res, opts, xa, ya, out_start, image, 1)


def block_shift(x, y, block, search=None, *, fill=None, dtype=np.float64):
    """blockwise.block_shift on dask arrays: the same arguments (but no
    threads=) and the same BlockShift(shift, peak, zero), of lazy dask
    arrays computed in one pass, equal to the numpy results bit for bit
    whatever the chunks (shift_chunks says how they are rechunked).

    See also: blockwise.block_shift, shift_chunks.
    """
    x, y, opts, out_dtype = _shift.prepare(x, y, block, search, fill, dtype, D._as_dask)
    k = len(opts.block)
    in_chunks, out_chunks, depth = _shift_chunks(x.chunks, x.shape, opts)
    x = x.rechunk(in_chunks)
    y = da.overlap.overlap(y.rechunk(in_chunks), depth=D.depth_arg(depth), boundary="none")
    res = da.map_blocks(
        chunk_shift, x, y, chunks=((k + 2,),) + out_chunks, new_axis=0,
        dtype=out_dtype, meta=np.empty((0,) * (x.ndim + 1), dtype=out_dtype),
        name="blockwise-shift", opts=opts, starts=tuple(_starts(c) for c in in_chunks[-k:]),
        depth_before=tuple(b for b, _ in depth[-k:]), image=tuple(x.shape[-k:]),
        out_dtype=out_dtype.str)
    return _shift.split(res, k)
