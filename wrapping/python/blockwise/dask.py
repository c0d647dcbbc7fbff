"""The dask API: the block operations and denoising on dask arrays, lazily.

Block operations (block_stats, block_corr) rechunk their inputs so that
every chunk boundary along a blocked axis falls on a block boundary (the one
nearest to the boundary it had), and compute every chunk with the numpy path
through dask.array.map_blocks.  The blocks each input chunk gives, and so the
output chunks, come from the core's region map (bw_block_output_region): a
chunk holding only the pixels that edge="trim" drops gives none, and joins
its neighbour.  The leading axes (time, channel, ...) keep their chunks.

Non-local means denoising (nlm_denoise) is a windowed operation: it uses
dask.array.map_overlap with boundary="none" and the depth per axis the core
gives (bw_nlm_halo), and computes each chunk from the input region the
core's region map gives for it (bw_nlm_input_region), as the part of the
whole image it is, so the result equals the whole-array one bit for bit.

The local statistics (local_stats, local_corr) and the block displacement
(block_shift) live in blockwise._dask_local and are exported here: windows
through map_overlap with the core's halo, and steps, as denoising does;
displacement on block-aligned chunks whose second image is grown by the
search radius the core's region map gives.

Richardson-Lucy deconvolution (richardson_lucy) lives in
blockwise._dask_deconv and is exported here: each chunk is deconvolved
from the piece the core's region map gives for it (the chunk grown by a
halo, "exact" by default), through map_overlap.

The channel conversion (channel) is per pixel: map_blocks over chunks
holding every channel of their pixels (the channel axis in one chunk).

open() makes a lazy array of a TIFF file, one task per chunk, each reading
its region through a reader of its own (blockwise._read.read_region); the
tasks hold only the file's path, the level, the region and the channel
conversion, so the graph pickles and workers read the file themselves.

The results are lazy dask arrays.  The functions and the chunk functions
(chunk_stats, chunk_nlm, chunk_channel, and _read.read_region) live at
module level, so they pickle by reference and run on dask.distributed
workers that can import blockwise.
"""
import itertools
import math
import os

import dask.array as da
import numpy as np

from . import _args as A
from . import _channel as K
from . import _nlm
from . import _numpy as N

__all__ = ["block_stats", "block_corr", "block_chunks", "nlm_denoise", "nlm_chunks",
           "local_stats", "local_corr", "local_chunks", "block_shift", "shift_chunks",
           "richardson_lucy", "rl_chunks", "channel", "open"]


def _as_dask(x, name):
    if x is None:
        raise TypeError(f"{name} is None; expected an array")
    if not isinstance(x, da.Array):
        # The dtype first: dask's own chunking fails on some (object) with
        # a message about chunks, not about the dtype.
        dt = getattr(x, "dtype", None)
        A.check_dtype(np.dtype(dt) if dt is not None else A.as_input(x, name)[0].dtype, name)
        x = da.asarray(x)
    if isinstance(getattr(x, "_meta", None), np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked dask array, whose mask would be ignored")
    A.check_dtype(x.dtype, name)
    if not x.dtype.isnative:
        # As the numpy path converts such arrays: the core reads native order.
        x = x.astype(x.dtype.newbyteorder("="))
    return x


def _check_known(chunks):
    for c in chunks:
        if any(isinstance(n, float) and math.isnan(n) for n in c):
            raise ValueError("the array has chunks of unknown size; call "
                             "compute_chunk_sizes() on it first")


# ---------------------------------------------------------------------------
# Block operations
# ---------------------------------------------------------------------------

def _block_pieces(params, image, axis, cuts):
    """(input extents, output extents) along `axis` of the pieces between
    the pixel boundaries `cuts` (block boundaries inside the image); a piece
    of which the core's region map computes no block (it holds only pixels
    that trim drops) joins the piece before it."""
    def blocks(s, e):
        start, size = [0] * len(image), list(image)
        start[axis], size[axis] = s, e - s
        return N.output_region(params, image, start, size, "block_chunks")[1][axis]

    bounds = [0] + list(cuts) + [image[axis]]
    pieces = []  # (first pixel, end pixel, blocks)
    for s, e in zip(bounds[:-1], bounds[1:]):
        m = blocks(s, e)
        while m == 0 and pieces:
            s = pieces.pop()[0]
            m = blocks(s, e)
        pieces.append((s, e, m))
    return tuple(e - s for s, e, _ in pieces), tuple(m for _, _, m in pieces)


def block_chunks(chunks, shape, block, edge="partial"):
    """Chunks for an array of `shape` whose last len(block) axes are blocked:
    along those axes every boundary lies on a block boundary, the one
    nearest to the boundary in `chunks` (a dask chunks tuple); the leading
    axes keep theirs.  Returns (input chunks, output chunks of the blocks),
    the blocks of each input chunk being those the core's region map
    (bw_block_output_region) gives for it.
    """
    _check_known(chunks)
    shape = tuple(int(n) for n in shape)
    opts = A.block_options(block, len(shape), "block_chunks", edge)
    k = len(opts.block)
    image = shape[-k:]
    params = opts.params()
    N.output_shape(params, image, "block_chunks")  # any block at all (trim)?
    in_chunks = list(chunks[:-k])
    out_chunks = list(chunks[:-k])
    for axis, (n, b) in enumerate(zip(image, opts.block)):
        ends = itertools.accumulate(int(c) for c in chunks[len(shape) - k + axis][:-1])
        nearest = ((e + b // 2) // b * b for e in ends)  # the nearest block boundary
        ins, outs = _block_pieces(params, image, axis, sorted({p for p in nearest if 0 < p < n}))
        in_chunks.append(ins)
        out_chunks.append(outs)
    return tuple(in_chunks), tuple(out_chunks)


def chunk_stats(x, y, *, opts, codes, out_dtype, stack):
    """The statistics of one chunk, stacked along a new first axis (stack)
    or, for one statistic, without it."""
    x, code = A.as_input(x, "x")
    if y is not None:
        y, _ = A.as_input(y, "y")
    res = N.stacked(x, code, y, opts, codes, np.dtype(out_dtype), 1)
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
    x, y = A.checked_inputs(x, y, _as_dask)
    names, codes, single = A.parse_stats(stats, y is not None)
    opts = A.block_options(block, x.ndim, "block_stats", edge, ddof, fill)
    out_dtype = A.parse_float_dtype(dtype)
    A.check_extents(x.shape, len(opts.block), "those the blocks cover")
    in_chunks, out_chunks = block_chunks(x.chunks, x.shape, opts.block, opts.edge)
    x = x.rechunk(in_chunks)
    y = y.rechunk(in_chunks) if y is not None and A.needs_pair(codes) else None
    common = dict(opts=opts, codes=codes, out_dtype=out_dtype.str, dtype=out_dtype,
                  name="blockwise-" + "-".join(names))
    if len(names) == 1:
        res = da.map_blocks(chunk_stats, x, y, stack=False, chunks=out_chunks,
                            meta=np.empty((0,) * x.ndim, dtype=out_dtype), **common)
        return res if single else {names[0]: res}
    # Several statistics: one task per chunk computes them all in one pass,
    # stacked along a new first axis that the results then index.
    res = da.map_blocks(chunk_stats, x, y, stack=True,
                        chunks=((len(names),),) + out_chunks, new_axis=0,
                        meta=np.empty((0,) * (x.ndim + 1), dtype=out_dtype), **common)
    return {s: res[i] for i, s in enumerate(names)}


def block_corr(x, y, block, *, edge="partial", fill=None, dtype=np.float64):
    """blockwise.block_corr on dask arrays, lazily; see block_stats."""
    if y is None:
        raise TypeError("block_corr needs two images: block_corr(x, y, block)")
    return block_stats(x, block, "corr", y=y, edge=edge, fill=fill, dtype=dtype)


# ---------------------------------------------------------------------------
# Non-local means
# ---------------------------------------------------------------------------

def _merge_small_chunks(chunks, size, carried=None):
    """chunks (of one axis) merged with their neighbours until each holds at
    least `size` elements.  With carried, one number per chunk (such as the
    blocks each gives), returns (merged chunks, those numbers summed over
    each merged chunk's pieces)."""
    extra = tuple(carried) if carried is not None else (0,) * len(chunks)
    if min(chunks) >= size:
        merged, summed = tuple(chunks), extra
    else:
        merged, summed, acc, acc_extra = [], [], 0, 0
        for c, e in zip(chunks, extra):
            acc, acc_extra = acc + c, acc_extra + e
            if acc >= size:
                merged.append(acc)
                summed.append(acc_extra)
                acc, acc_extra = 0, 0
        if acc:
            if merged:
                merged[-1] += acc
                summed[-1] += acc_extra
            else:
                merged.append(acc)
                summed.append(acc_extra)
        merged, summed = tuple(merged), tuple(summed)
    return merged if carried is None else (merged, summed)


def depth_arg(depth):
    """map_overlap's depth= of (before, after) pairs, one per axis."""
    return {i: b if a == b else (b, a) for i, (b, a) in enumerate(depth)}


def _overlap(chunks, shape, halo):
    """(chunks, depth): the chunks of an array of `shape` for a windowed
    operation over its last len(before) axes whose halo, from the core, is
    halo = (before, after), and the depth (before, after) per axis that
    map_overlap grows them by: the halo along the operated axes, none along
    the leading ones or where one chunk holds the whole axis.  Chunks
    smaller than the halo are merged with their neighbours."""
    _check_known(chunks)
    before, after = halo
    lead = len(shape) - len(before)
    chunks = list(chunks)
    depth = [(0, 0)] * len(shape)
    for i, (n, b, a) in enumerate(zip(shape[lead:], before, after)):
        axis = lead + i
        if len(chunks[axis]) == 1 or max(b, a) >= n:
            # One chunk along this axis holds everything its pixels need.
            chunks[axis] = (n,)
            continue
        chunks[axis] = _merge_small_chunks(chunks[axis], max(b, a))
        if len(chunks[axis]) > 1:
            depth[axis] = (b, a)
    return tuple(chunks), tuple(depth)


def nlm_chunks(chunks, shape, *, patch=None, search=None, ndim=None):
    """(chunks, depth): how blockwise.dask.nlm_denoise rechunks an array of
    `shape` and chunks `chunks` (a dask chunks tuple) for these radii
    (chosen as in nlm_denoise), and the overlap depth (before, after) each
    chunk gets along each axis: the core's halo, patch + search radius,
    along the denoised axes with more than one chunk, 0 elsewhere.
    Denoised axes are rechunked where a chunk is smaller than the halo.
    """
    shape = A.parse_shape(shape)
    return _overlap(chunks, shape, _nlm.halo(A.nlm_radii(patch, search, ndim,
                                                          len(shape)).params()))


def overlap_place(block_info, k, depth_before):
    """(leading location, output start, output size, x's start) of a chunk
    function's output chunk over its last k axes, and of its input x: the
    chunk grown by depth_before before it (none at the array's start) and
    by the overlap after it (map_overlap, boundary="none")."""
    info = block_info[None]
    location = info["array-location"]
    index = info["chunk-location"]
    lead = len(location) - k
    out_start = tuple(a for a, _ in location[lead:])
    out_size = tuple(b - a for a, b in location[lead:])
    x_start = tuple(s - (d if i > 0 else 0) for s, d, i in zip(out_start, depth_before, index[lead:]))
    return location[:lead], out_start, out_size, x_start


def chunk_nlm(x, *, opts, depth_before, image, out_dtype, block_info=None):
    """Denoises one chunk: x is the chunk grown by depth_before before it
    (none at the array's start) and by the overlap after it; the output is
    the chunk itself, computed from the input region the core's region map
    gives for it, as the part of the whole image (extents `image`) it is."""
    k = opts.ndim
    leading, out_start, out_size, x_start = overlap_place(block_info, k, depth_before)
    in_start, in_size = _nlm.input_region(opts.params(), image, out_start, out_size)
    x = x[(Ellipsis,) + tuple(slice(s - xs, s - xs + n)
                              for s, n, xs in zip(in_start, in_size, x_start))]
    x, code = A.as_input(x, "x")
    A.check_finite(x, tuple(a for a, _ in leading) + in_start)
    out = np.empty(tuple(b - a for a, b in leading) + out_size, dtype=np.dtype(out_dtype))
    return _nlm.denoise_into(x, code, out, opts, in_start, out_start, image, 1)


def nlm_denoise(x, sigma=None, *, patch=None, search=None, h=None, noise="gaussian",
                gain=None, offset=None, read_sigma=None, ndim=None, dtype=np.float32):
    """blockwise.nlm_denoise on dask arrays: the same arguments (but no
    threads=: the scheduler runs the chunks in parallel) and the same
    result, as a lazy dask array.  numpy inputs are wrapped with
    dask.array.asarray.

    Each chunk is computed with dask.array.map_overlap, boundary="none",
    from the chunk grown by the core's halo (patch radius + search radius
    per axis), as the part of the whole image it is: the result equals the
    whole-array result bit for bit, whatever the chunks.  The denoised axes
    are rechunked where a chunk is smaller than the halo (nlm_chunks says
    how); chunks many times larger than the halo waste less work on
    overlaps.  Leading axes keep their chunks.

    See also: blockwise.nlm_denoise, blockwise.nlm_input_region, nlm_chunks.
    """
    x = _as_dask(x, "x")
    A.check_least_axes(x)
    opts = A.nlm_options(x.ndim, sigma, patch, search, h, noise, gain, offset, read_sigma,
                         ndim)
    out_dtype = A.parse_out_dtype(dtype, x.dtype)
    k = opts.ndim
    A.check_extents(x.shape, k, "those denoised")
    chunks, depth = _overlap(x.chunks, x.shape, _nlm.halo(opts.params()))
    x = x.rechunk(chunks)
    return da.map_overlap(chunk_nlm, x, depth=depth_arg(depth), boundary="none",
                          trim=False, align_arrays=False, allow_rechunk=False,
                          chunks=x.chunks, dtype=out_dtype,
                          meta=np.empty((0,) * x.ndim, dtype=out_dtype),
                          name="blockwise-nlm", opts=opts,
                          depth_before=tuple(b for b, _ in depth[x.ndim - k:]),
                          image=tuple(x.shape[x.ndim - k:]), out_dtype=out_dtype.str)


# ---------------------------------------------------------------------------
# One channel from many
# ---------------------------------------------------------------------------

def chunk_channel(x, *, opts, out_dtype):
    """The channel opts makes of each pixel of one chunk (channels last)."""
    x, code = A.as_input(x, "rgb")
    out = np.empty(x.shape[:-1], dtype=np.dtype(out_dtype))
    return K.convert_into([x[..., c] for c in range(x.shape[-1])], code, out, opts)


def channel(rgb, channel="luminance", *, white=0, dtype=None):
    """blockwise.channel on dask arrays: the same arguments (but no
    threads=) and the same result, as a lazy dask array of shape
    (..., Y, X).  The channel axis (the last) is rechunked into one chunk;
    the others keep theirs (a per-pixel operation: no overlap).

    See also: blockwise.channel, open.
    """
    x = _as_dask(rgb, "rgb")
    if x.ndim < 3:
        raise ValueError(f"rgb must have shape (..., Y, X, C), channels last; its shape is "
                         f"{x.shape} (a grey image has no channels to convert)")
    _check_known(x.chunks[-1:])
    opts = A.channel_options(channel, white, "channel")
    dt = K.out_dtype(opts, dtype, x.dtype)
    # The core's check of the parameters and of both dtypes, before the
    # graph is built: a lazy array that could only fail when computed is
    # not made.
    A.check_conversion(opts, x.shape[-1], x.dtype, dt, "channel")
    x = x.rechunk({x.ndim - 1: -1})
    return da.map_blocks(chunk_channel, x, drop_axis=x.ndim - 1, dtype=dt,
                         meta=np.empty((0,) * (x.ndim - 1), dtype=dt),
                         name="blockwise-channel", opts=opts, out_dtype=dt.str)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _starts(chunks):
    return tuple(itertools.accumulate((0,) + tuple(chunks[:-1])))


def _file_array(read, path, level, opts, spatial, shape, dtype):
    """A lazy array of one task per chunk of the spatial chunks `spatial`,
    each read(path, level, start, size, opts); shape and dtype are the
    whole array's (a channel axis last, in one chunk, when it has more
    axes than `spatial`).  The name depends on the reader, the path, the
    level, the conversion, the chunks and the file's size and modification
    time."""
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    stat = os.stat(path)
    channel_axis = len(shape) > len(spatial)
    chunks = spatial + (((shape[-1],),) if channel_axis else ())
    name = "blockwise-open-" + tokenize(read.__module__, path, level, opts, chunks,
                                         stat.st_size, stat.st_mtime_ns)
    starts = [_starts(c) for c in spatial]
    dsk = {}
    for idx in itertools.product(*(range(len(c)) for c in spatial)):
        start = tuple(s[i] for s, i in zip(starts, idx))
        size = tuple(c[i] for c, i in zip(spatial, idx))
        key = (name,) + idx + ((0,) if channel_axis else ())
        dsk[key] = (read, path, level, start, size, opts)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks, meta=np.empty((0,) * len(shape), dtype=dtype))


def _open_tiff(path, level, channel, white, target):
    from . import _read as R

    with R.Reader(path, level, "open") as r:
        meta = r.meta
        # A channel the file names ("DAPI"), else the core's names.
        opts = None if channel is None else A.channel_options(r.named_channel(channel), white, "open")
        if opts is not None:
            A.check_conversion(opts, meta["channels"], meta["dtype"], R.out_dtype(meta, opts),
                               f"open: {path}")
        spatial = R.plan_chunks(r, target)
    return _file_array(R.read_region, path, level, opts, spatial, R.out_shape(meta, opts),
                       R.out_dtype(meta, opts))


def _open_slide(path, level, channel, white, target):
    from . import _slide as S

    meta = S.Slide(path, level, "open").meta
    shape, dtype = meta["shape"] + (3,), np.dtype(np.uint8)
    opts = None
    if channel is not None:
        opts = A.channel_options(channel, white, "open")
        dtype = K.out_dtype(opts, None, dtype)
        A.check_conversion(opts, 3, np.uint8, dtype, f"open: {path}")
        shape = meta["shape"]
    return _file_array(S.read_region, path, level, opts, S.plan_chunks(meta, target), shape,
                       dtype)


# Named as blockwise.open, which calls it; it hides the builtin open in this
# module, which does not use that.
def open(path, level=0, channel=None, *, white=0, chunk_bytes=None):
    """blockwise.open: a TIFF file's or a whole slide's level as a lazy
    dask array.

    TIFF files: chunks hold at least chunk_bytes bytes of decoded pixels
    (16 MiB by default: blockwise._args.CHUNK_BYTES) and are aligned to the
    file's strips and tiles (blockwise._read.plan_chunks): rows in
    multiples of the band unit, whole width (tile-aligned columns for very
    wide tiled files), whole pages of volumes.  Each task opens the file
    with a reader of its own and reads its region only.

    Whole slides (the extensions of blockwise._slide.EXTENSIONS), through
    python3-openslide: about square chunks of at least chunk_bytes bytes of
    RGB, their edges on the level's tile edges (blockwise._slide.plan_chunks);
    each task reads its region with OpenSlide.read_region through the
    handle its process keeps for the file (blockwise._slide).

    The channel axis, when there is one, is one chunk.  The array's name
    depends on the path, the level, the channel conversion, the chunks and
    the file's size and modification time.

    See also: blockwise.open, blockwise.info.
    """
    from . import _slide

    path = A.parse_path(path, "open")
    level = A.parse_level(level)
    if channel is None and A.real(white, "white") != 0:
        raise ValueError("white= is the white level of a channel conversion: give channel= "
                         "(such as 'hematoxylin') too")
    target = A.CHUNK_BYTES if chunk_bytes is None else A.integer(chunk_bytes, "chunk_bytes")
    if target < 1:
        raise ValueError(f"chunk_bytes must be at least 1, not {target}")
    if _slide.is_slide_path(path):
        return _open_slide(path, level, channel, white, target)
    return _open_tiff(path, level, channel, white, target)


# The local statistics and the block displacement live in
# blockwise._dask_local, over the helpers above, and are looked up there on
# first use: that module imports this one, and a worker that unpickles one of
# its chunk functions imports it first.
_FROM_LOCAL = ("local_stats", "local_corr", "local_chunks", "block_shift", "shift_chunks",
               "chunk_local", "chunk_shift")
# The same for deconvolution (blockwise._dask_deconv), which needs the
# deconvolution library only when it is called.
_FROM_DECONV = ("richardson_lucy", "rl_chunks", "chunk_rl")


def __getattr__(name):
    if name in _FROM_LOCAL:
        from . import _dask_local
        return getattr(_dask_local, name)
    if name in _FROM_DECONV:
        from . import _dask_deconv
        return getattr(_dask_deconv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
