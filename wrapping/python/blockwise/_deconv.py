"""Richardson-Lucy deconvolution of numpy arrays, through the deconvolution
library (libblockwise_deconv, include/bw_deconv.h).

The library is loaded the first time richardson_lucy is called, so that the
rest of the package works where it is not built; it is looked up as the
core is (blockwise._core): the file named by ``BLOCKWISE_DECONV_LIBRARY``,
next to this package, ``build/deconv`` of a source checkout, the system
loader.  Every call runs with the GIL released (ctypes), so the threads of
richardson_lucy, and dask's, deconvolve at once.
"""
import ctypes
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _args as A
from . import _core as C
from . import _split as S

__all__ = ["richardson_lucy", "rl_exact_halo", "rl_auto_halo", "rl_input_region"]

#: bw_rl_boundary, by the names the command line uses (--boundary).
BOUNDARIES = {"non-circulant": 0, "periodic": 1}


class RlParams(ctypes.Structure):
    """bw_rl_params (bw_deconv.h)"""
    _fields_ = [("ndim", ctypes.c_int),
                ("iterations", ctypes.c_int),
                ("boundary", ctypes.c_int),
                ("epsilon", ctypes.c_double),
                ("psf_centre", ctypes.c_ssize_t * C.MAX_DIMS),
                ("initial", ctypes.c_double),
                ("accelerate", ctypes.c_int),
                ("threads", ctypes.c_int),
                ("tv", ctypes.c_double)]


_lock = threading.Lock()
_lib = None


def library():
    """The deconvolution library's declarations (a namespace), loaded once."""
    global _lib
    with _lock:
        if _lib is None:
            lib, path = C.load_library(
                "blockwise_deconv", "BLOCKWISE_DECONV_LIBRARY", "deconv", "the deconvolution library",
                "Build it with `cmake --build BUILD --target blockwise_python` (which stages it next to "
                "the package in BUILD/python; it needs FFTW, Debian's libfftw3-dev), or set "
                "BLOCKWISE_DECONV_LIBRARY to its path.")
            declare = C.declarer(lib, path)
            P = ctypes.POINTER

            class Lib:
                params_init = declare("bw_rl_params_init", None, P(RlParams), ctypes.c_int)
                params_check = declare("bw_rl_params_check", ctypes.c_int, P(RlParams), P(C.Error))
                plan_new = declare("bw_rl_plan_new", ctypes.c_int, P(RlParams), P(ctypes.c_ssize_t),
                                   P(C.View), P(ctypes.c_void_p), P(C.Error))
                plan_free = declare("bw_rl_plan_free", None, ctypes.c_void_p)
                deconvolve = declare("bw_rl_deconvolve", ctypes.c_int, ctypes.c_void_p, P(C.View),
                                     P(C.View), P(C.Error))
                exact_halo = declare("bw_rl_exact_halo", ctypes.c_int, P(RlParams), P(ctypes.c_ssize_t),
                                     P(ctypes.c_ssize_t), P(C.Error))
                auto_halo = declare("bw_rl_auto_halo", ctypes.c_int, P(RlParams), P(C.View),
                                    P(ctypes.c_ssize_t), P(C.Error))
                input_region = declare("bw_rl_input_region", ctypes.c_int, ctypes.c_int,
                                       P(ctypes.c_ssize_t), P(ctypes.c_ssize_t), P(ctypes.c_ssize_t),
                                       P(C.Region), P(C.Region), P(C.Error))
            _lib = Lib
    return _lib


def _params(k, iterations, boundary, epsilon, psf_centre, initial, fft_threads=1, accelerate=False,
            tv=0.0):
    """bw_rl_params, checked by Python's types and then by the core."""
    L = library()
    p = RlParams()
    L.params_init(p, k)
    p.iterations = A.integer(iterations, "iterations", 2**31 - 1)
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary {boundary!r}; one of {', '.join(BOUNDARIES)}")
    p.boundary = BOUNDARIES[boundary]
    p.epsilon = A.real(epsilon, "epsilon")
    if psf_centre is not None:
        centre = tuple(psf_centre)
        if len(centre) != k or not all(A.is_int(c) for c in centre):
            raise ValueError(f"psf_centre must be {k} integers (the PSF's spatial axes), not {psf_centre!r}")
        for d, c in enumerate(centre):
            p.psf_centre[d] = A.integer(c, "psf_centre")
    if initial is not None:
        p.initial = A.real(initial, "initial")
    p.threads = A.integer(fft_threads, "fft_threads", 2**31 - 1)
    if not isinstance(accelerate, (bool, np.bool_)):
        raise TypeError(f"accelerate must be True or False, not {accelerate!r}")
    p.accelerate = int(accelerate)
    p.tv = A.real(tv, "tv")
    C.call(L.params_check, "richardson_lucy", p)
    return p


def psf_layout(shape, h, ndim):
    """(spatial axes k, the PSF h with the image's leading axes) for an
    image of `shape`: ValueError unless both have the k spatial axes and
    h's leading axes broadcast to the image's (extent 1 or the image's)."""
    k = min(h.ndim, 3) if ndim is None else ndim
    if k not in (2, 3):
        raise ValueError(f"ndim {k!r}: deconvolution is 2-D or 3-D")
    if len(shape) < k or h.ndim < k:
        raise ValueError(f"image of {len(shape)} axes and PSF of {h.ndim}: both need the {k} spatial axes")
    lead, hlead = tuple(shape[:-k]), h.shape[:-k]
    if len(hlead) > len(lead) or any(n not in (1, m) for n, m in zip(hlead[::-1], lead[::-1])):
        raise ValueError(f"PSF leading axes {hlead} do not broadcast to the image's {lead}")
    return k, h.reshape((1,) * (len(lead) - len(hlead)) + h.shape)


def rl_exact_halo(psf_shape, iterations):
    """bw_rl_exact_halo: the halo per spatial axis (iterations x (m - 1))
    with which a piece deconvolves as the whole image does there."""
    shape = tuple(int(n) for n in psf_shape)
    p = _params(len(shape), iterations, "non-circulant", 1e-6, None, None)
    halo = C.sizes(())
    C.call(library().exact_halo, "richardson_lucy", p, C.sizes(shape), halo)
    return tuple(halo[:len(shape)])


def rl_auto_halo(psf, iterations):
    """bw_rl_auto_halo: the default halo per axis of the PSF `psf` (2-D or
    3-D): 12 of its standard deviations along each axis up to 50
    iterations, 18 up to 400, 24 beyond, at most the exact halo; with it a
    piece stays within 1e-3 of the whole image's largest value in the
    measured cases (plain iterations, non-circulant; README)."""
    h, code = A.as_input(psf, "psf")
    if h.ndim not in (2, 3):
        raise ValueError(f"psf of {h.ndim} axes: deconvolution is 2-D or 3-D")
    p = _params(h.ndim, iterations, "non-circulant", 1e-6, None, None)
    halo = C.sizes(())
    C.call(library().auto_halo, "richardson_lucy", p, S.view(h, code), halo)
    return tuple(halo[:h.ndim])


def rl_input_region(halo, psf_shape, image_shape, start, size):
    """bw_rl_input_region: (start, size) of the piece of an image of extents
    `image_shape` that is deconvolved for the output box (start, size): the
    box grown by `halo` per spatial axis, clipped to the image, and grown
    to the PSF's extent where it is thinner."""
    k = len(image_shape)
    out = C.Region()
    C.call(library().input_region, "richardson_lucy region map", k, C.sizes(halo),
           C.sizes(psf_shape), C.sizes(image_shape), C.region(start, size), out)
    return C.box(out, k)


class _Plans:
    """One thread's plans, by PSF: a plan serves one call at a time."""

    def __init__(self, params, shape):
        self.params, self.shape, self.plans = params, shape, {}

    def get(self, key, psf, code):
        if key not in self.plans:
            handle = ctypes.c_void_p()
            C.call(library().plan_new, "richardson_lucy", self.params, C.sizes(self.shape),
                   S.view(psf, code), ctypes.byref(handle))
            self.plans[key] = handle
        return self.plans[key]

    def free(self):
        for handle in self.plans.values():
            library().plan_free(handle)
        self.plans.clear()


def richardson_lucy(image, psf, iterations=10, *, boundary="non-circulant", epsilon=1e-6,
                    accelerate=False, tv=0.0, psf_centre=None, initial=None, ndim=None, threads=None,
                    fft_threads=1):
    """Richardson-Lucy deconvolution of `image` by `psf`, as float32.

    Parameters
    ----------
    image : array_like
        2-D or 3-D images of any dtype the core reads, with any leading axes
        (a (C, T, Z, Y, X) stack): each image is deconvolved on its own.  A
        dask array gives a lazy dask result (blockwise.dask.richardson_lucy,
        its default halo).
    psf : array_like
        The point spread function, of ndim spatial axes no larger than the
        image's, finite and non-negative with a positive sum (normalised to
        sum 1 here); leading axes of extent 1 or the image's, so that
        a (C, 1, z, y, x) PSF deconvolves each channel with its own PSF.
    iterations : int
        0 (the first estimate) to 100000.
    boundary : {"non-circulant", "periodic"}
        Non-circulant (default): the object is estimated on the image grown
        by the PSF, and the correction normalised by the PSF's response to
        the image, so nothing wraps around. Periodic: the image is one
        period, as FFT-only tools take it.
    accelerate : bool
        Biggs-Andrews acceleration: each iteration starts from the estimate
        moved on along its last change, so a result takes fewer iterations.
    tv : float
        Total-variation regularisation (Dey et al., 2006), 0 (none) to 1;
        0.002 is a usual start: flat noise is smoothed, edges are kept.
    epsilon : float
        Where the blurred estimate is below epsilon times the image's
        largest value, the ratio counts as 0 (no NaN, no infinity).
    psf_centre : sequence of int, optional
        The PSF's centre per spatial axis; default its centre of mass.
    initial : float, optional
        A constant first estimate (scikit-image starts at 0.5); default the
        image itself, as ITK's filter starts.
    ndim : {2, 3}, optional
        Spatial axes: default 3 for a PSF of 3 axes or more, else 2 (a
        (C, 1, y, x) PSF of 2-D images needs ndim=2).
    threads : int, optional
        Images (of the leading axes) deconvolved at once, default 1; each
        image is one call.
    fft_threads : int
        Threads of each call's FFTs (FFTW's), default 1: for one large
        volume.  Other numbers may round differently in the last places.

    Returns
    -------
    numpy.ndarray of float32, image's shape.
    """
    x, xcode = A.as_input(image, "image")
    h, hcode = A.as_input(psf, "psf")
    k, h = psf_layout(x.shape, h, ndim)
    lead, hlead = x.shape[:-k], h.shape[:-k]
    params = _params(k, iterations, boundary, epsilon, psf_centre, initial, fft_threads, accelerate, tv)
    threads = A.parse_threads(threads)
    out = np.empty(x.shape, np.float32)
    items = list(np.ndindex(*lead)) if lead else [()]

    def psf_of(idx):
        key = tuple(i if n > 1 else 0 for i, n in zip(idx, hlead))
        return key, h[key]

    # Every PSF is planned (and so checked) before any image is read.
    first = _Plans(params, x.shape[-k:])
    try:
        for idx in items:
            key, one = psf_of(idx)
            first.get(key, one, hcode)
    except Exception:
        first.free()
        raise

    def run(share, plans):
        try:
            for idx in share:
                key, one = psf_of(idx)
                C.call(library().deconvolve, "richardson_lucy", plans.get(key, one, hcode),
                       S.view(x[idx], xcode), S.view(out[idx], C.DTYPES[("f", 4)]))
        finally:
            if plans is not first:
                plans.free()

    try:
        n = max(1, min(threads, len(items)))
        if n == 1:
            run(items, first)
        else:
            shares = [items[t::n] for t in range(n)]
            with ThreadPoolExecutor(n) as pool:
                futures = [pool.submit(run, s, first if t == 0 else _Plans(params, x.shape[-k:]))
                           for t, s in enumerate(shares)]
                for f in futures:
                    f.result()
    finally:
        first.free()
    return out
