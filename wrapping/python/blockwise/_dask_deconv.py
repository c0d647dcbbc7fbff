"""Richardson-Lucy deconvolution of dask arrays, lazily (exported by
blockwise.dask).

Each output chunk is deconvolved from a piece of the image: the chunk
grown by a halo per spatial axis and clipped to the image, the region the
core's region map gives for it (bw_rl_input_region), cut from the chunk
that dask.array.map_overlap grows by the same halo (boundary="none").  A
chunk that holds its whole volume has no halo along any axis, so volumes
held whole by their chunks are deconvolved exactly as the numpy path does.

Chunks along the spatial axes are merged with their neighbours until each
is at least the halo and the PSF's extent (a piece is never smaller than
the PSF), or made whole where the halo covers the axis.  The leading axes
keep their chunks; a PSF with leading axes (one per channel) is cut to
each chunk's.

The default halo="auto" (bw_rl_auto_halo) keeps every pixel within 1e-3
of the whole image's largest value in the README's measurements; with
halo="exact" (bw_rl_exact_halo: iterations x (PSF extent - 1)) every pixel
is what the whole image gives, to float rounding (pieces' FFTs have other
sizes), without acceleration: its step is a sum over each piece.

chunk_rl lives at module level, so the graph pickles by reference for
dask.distributed; the PSF travels in the graph as a numpy array.
"""
import dask.array as da
import numpy as np

from . import _args as A
from . import _deconv as R
from . import dask as D

__all__ = ["richardson_lucy", "rl_chunks"]


def _halo(halo, k, psfs, iterations):
    """The halo per spatial axis: "auto" (the largest of the PSFs'),
    "exact", one int, or k ints."""
    if isinstance(halo, str):
        if halo not in ("auto", "exact"):
            raise ValueError(f"halo {halo!r}: 'auto', 'exact' or integers (one, or one per spatial axis)")
        if halo == "exact":
            return R.rl_exact_halo(psfs.shape[-k:], iterations)
        each = [R.rl_auto_halo(psfs[idx], iterations) for idx in np.ndindex(*psfs.shape[:-k])]
        return tuple(max(h[d] for h in each) for d in range(k))
    values = (halo,) * k if A.is_int(halo) else tuple(halo)
    if len(values) != k or not all(A.is_int(v) for v in values):
        raise ValueError(f"halo {halo!r}: 'auto', 'exact' or integers (one, or {k}: one per spatial axis)")
    if any(v < 0 for v in values):
        raise ValueError(f"halo {halo!r}: negative")
    return tuple(int(v) for v in values)


def rl_chunks(chunks, shape, psf_shape, halo):
    """(chunks, depth): how blockwise.dask.richardson_lucy rechunks an
    array of `shape` and `chunks` (a dask chunks tuple) for a PSF of
    spatial extents `psf_shape` and a halo per spatial axis, and the
    overlap depth each chunk gets per axis: the halo along the spatial axes
    with more than one chunk, 0 elsewhere.  A spatial axis is one chunk
    where the halo covers it; elsewhere its chunks are merged until each
    holds at least the halo and the PSF's extent."""
    D._check_known(chunks)
    k = len(psf_shape)
    lead = len(shape) - k
    chunks = list(chunks)
    depth = [0] * len(shape)
    for i, (n, m, h) in enumerate(zip(shape[lead:], psf_shape, halo)):
        axis = lead + i
        if len(chunks[axis]) == 1 or h >= n:
            chunks[axis] = (n,)
            continue
        chunks[axis] = D._merge_small_chunks(chunks[axis], max(h, m))
        if len(chunks[axis]) > 1:
            depth[axis] = h
    return tuple(chunks), tuple(depth)


def chunk_rl(x, *, psf, k, halo, grown, image, options, block_info=None):
    """Deconvolves one chunk: x is the chunk grown by `grown` on each side
    that has a neighbour; the output is the chunk, cut from the
    deconvolution of the piece the core's region map gives for it."""
    lead = len(grown) - k
    leading, out_start, out_size, x_start = D.overlap_place(block_info, k, grown[lead:])
    in_start, in_size = R.rl_input_region(halo, psf.shape[-k:], image, out_start, out_size)
    piece = x[(Ellipsis,) + tuple(slice(s - xs, s - xs + n)
                                  for s, n, xs in zip(in_start, in_size, x_start))]
    A.check_finite(piece, tuple(a for a, _ in leading) + in_start, "deconvolution")
    # The PSF of these leading indices (axes of extent 1 serve them all).
    h = psf[tuple(slice(a, b) if m > 1 else slice(None)
                  for (a, b), m in zip(leading, psf.shape[:lead]))]
    y = R.richardson_lucy(piece, h, ndim=k, **options)
    return y[(Ellipsis,) + tuple(slice(s - i, s - i + n)
                                 for s, i, n in zip(out_start, in_start, out_size))]


def richardson_lucy(image, psf, iterations=10, *, halo="auto", boundary="non-circulant",
                    epsilon=1e-6, accelerate=False, tv=0.0, psf_centre=None, initial=None, ndim=None,
                    fft_threads=1):
    """blockwise.richardson_lucy on a dask array: the same arguments (but
    no threads=: the scheduler runs the chunks in parallel) and, with the
    default halo, the same result to float rounding, as a lazy float32 dask
    array.  numpy inputs are wrapped with dask.array.asarray; the PSF is
    small and is computed (numpy) when it is a dask array.

    halo : "auto", "exact", int or sequence of int
        The pixels each chunk is grown by per spatial axis before it is
        deconvolved.  "auto" (default) is bw_rl_auto_halo (12 to 24 standard
        deviations of the PSF, by the iterations; the largest over a PSF per
        channel), with which every pixel stays within 1e-3 of the
        whole image's largest value in the README's measurements; "exact"
        is bw_rl_exact_halo, iterations x (PSF extent - 1), with which
        every pixel is the whole image's (without acceleration, whose step
        is a sum over each piece); integers: a halo of your own.  Chunks
        holding a whole axis need none.

    Chunks are deconvolved with dask.array.map_overlap (boundary="none")
    after rl_chunks rechunks the spatial axes; chunks that hold whole
    volumes are deconvolved as they are (no overlap).  Each chunk is one
    call of the core, with the GIL released.

    See also: blockwise.richardson_lucy, blockwise.rl_exact_halo,
    blockwise.rl_input_region, rl_chunks.
    """
    x = D._as_dask(image, "image")
    h = psf.compute() if isinstance(psf, da.Array) else psf
    h, _ = A.as_input(h, "psf")
    k, h = R.psf_layout(x.shape, h, ndim)
    psf_shape = h.shape[-k:]
    if any(m > n for m, n in zip(psf_shape, x.shape[-k:])):
        raise ValueError(f"PSF of extents {psf_shape} is larger than the image's {x.shape[-k:]}")
    options = dict(iterations=iterations, boundary=boundary, epsilon=epsilon, accelerate=accelerate,
                   tv=tv, psf_centre=psf_centre, initial=initial, fft_threads=fft_threads)
    # Every argument and every PSF is checked now, not when a chunk runs:
    # each PSF deconvolves an image of its own extents.
    for idx in np.ndindex(*h.shape[:-k]):
        R.richardson_lucy(np.ones(psf_shape, np.float32), h[idx], ndim=k, **options)
    halo = _halo(halo, k, h, iterations)
    chunks, depth = rl_chunks(x.chunks, x.shape, psf_shape, halo)
    x = x.rechunk(chunks)
    return da.map_overlap(chunk_rl, x, depth=dict(enumerate(depth)), boundary="none",
                          trim=False, align_arrays=False, allow_rechunk=False,
                          chunks=x.chunks, dtype=np.float32,
                          meta=np.empty((0,) * x.ndim, dtype=np.float32),
                          name="blockwise-richardson-lucy", psf=h, k=k, halo=halo, grown=depth,
                          image=tuple(x.shape[-k:]), options=options)
