"""The numpy API of non-local means denoising.

nlm_denoise validates every argument before any pixel is read, then runs the
C core (bw_nlm) on views of the caller's memory.  With threads=N the output
is cut into boxes, and each box is computed from the input region the core's
region map (bw_nlm_input_region) gives for it, with the box's place in the
whole image, so the bits do not depend on N.  blockwise.dask uses the same
path on each chunk with the chunk's place in the whole array.
"""
import math
import numbers
import operator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _core as C
from . import _numpy as N

__all__ = ["nlm_denoise", "nlm_input_region"]

_ctypes = C.ctypes
_Shape = _ctypes.c_ssize_t * C.MAX_DIMS
# Elements per piece when looking for non-finite input pixels, so that the
# temporary mask stays small whatever the image's size.
_FINITE_PIECE = 1 << 22


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------

def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def _radii_length(value):
    """The number of radii in `value` when it is a sequence, else None."""
    if _is_int(value) or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return None
    return len(tuple(value))


def parse_ndim(ndim, patch, search, x_ndim):
    """The number of axes the operation covers (2 or 3): ndim when given,
    else the number of radii of a per-axis patch or search, else the
    array's own number of axes when that is 2 or 3."""
    lengths = {n for n in (_radii_length(patch), _radii_length(search)) if n is not None}
    if ndim is not None:
        if not _is_int(ndim):
            raise TypeError(f"ndim must be 2 or 3, not {type(ndim).__name__} {ndim!r}")
        ndim = operator.index(ndim)
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 (planes) or 3 (volumes), not {ndim}")
    elif len(lengths) == 1 and next(iter(lengths)) in (2, 3):
        ndim = next(iter(lengths))
    elif len(lengths) > 1:
        raise ValueError(f"patch {tuple(patch)} and search {tuple(search)} give different "
                         "numbers of radii; give one radius per axis in both (or one int)")
    elif x_ndim in (2, 3):
        ndim = x_ndim
    else:
        raise ValueError(
            f"x has {x_ndim} axes: say which to denoise together, ndim=2 (the last two: "
            "each plane on its own) or ndim=3 (the last three: volumes); the axes "
            "before those are kept")
    if ndim > x_ndim:
        raise ValueError(f"a {ndim}-D operation needs an array with at least {ndim} axes; "
                         f"x has {x_ndim}")
    return ndim


def parse_radii(value, name, ndim, largest):
    """patch or search: one int for every axis, or one per axis (slowest
    first), each in [0, largest]."""
    if _is_int(value):
        radii = (operator.index(value),) * ndim
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be an int or a sequence of {ndim} ints (radii), "
                        f"not {type(value).__name__} {value!r}")
    else:
        radii = tuple(value)
        for r in radii:
            if not _is_int(r):
                raise TypeError(f"{name} radius {r!r} is not an int")
        radii = tuple(operator.index(r) for r in radii)
        if len(radii) != ndim:
            raise ValueError(f"{name} {radii} has {len(radii)} radii; the operation is "
                             f"{ndim}-D: give {ndim}, or one int for every axis")
    for r in radii:
        if not 0 <= r <= largest:
            raise ValueError(f"{name} {radii}: each radius must be between 0 and {largest} "
                             f"(radius r spans 2r + 1 pixels)")
    return radii


def _real(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, not {value}")
    return value


def parse_noise(noise, sigma, h, gain, offset, read_sigma):
    """The noise model's parameters, checked, as keyword arguments of
    nlm_params."""
    if not isinstance(noise, str):
        raise TypeError(f"noise must be 'gaussian' or 'poisson-gaussian', "
                        f"not {type(noise).__name__} {noise!r}")
    if noise not in C.NOISES:
        raise ValueError(f"noise must be 'gaussian' or 'poisson-gaussian', not {noise!r}")
    h = _real(h, "h")
    if h < 0:
        raise ValueError(f"h must be >= 0 (0: the default), not {h}")
    gain = _real(gain, "gain")
    offset = _real(offset, "offset")
    read_sigma = _real(read_sigma, "read_sigma")
    if noise == "gaussian":
        if sigma is None:
            raise ValueError("noise='gaussian' needs sigma=, the standard deviation of the "
                             "noise in the image's units (for fluorescence counts, use "
                             "noise='poisson-gaussian' with gain=, offset=, read_sigma=)")
        sigma = _real(sigma, "sigma")
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, not {sigma}")
        if sigma == 0 and h == 0:
            raise ValueError("sigma is 0 and h is 0: h defaults to 0.8 * sigma, so give "
                             "h > 0 or sigma > 0")
        if (gain, offset, read_sigma) != (1.0, 0.0, 0.0):
            raise ValueError("gain=, offset= and read_sigma= describe "
                             "noise='poisson-gaussian'; Gaussian noise has only sigma=")
    else:
        if sigma is not None:
            raise ValueError("sigma= is the standard deviation of Gaussian noise; with "
                             "noise='poisson-gaussian' give the read noise's as read_sigma= "
                             "(and the camera's gain= and offset=)")
        sigma = 0.0
        if gain <= 0:
            raise ValueError(f"gain must be > 0 (image units per photo-electron), not {gain}")
        if read_sigma < 0:
            raise ValueError(f"read_sigma must be >= 0, not {read_sigma}")
    return dict(noise=noise, sigma=sigma, h=h, gain=gain, offset=offset,
                read_sigma=read_sigma)


def parse_out_dtype(dtype, x_dtype):
    """The output's dtype: float32 (also 'f32' or None), float64 ('f64'),
    or any other dtype the core handles, such as the input's own."""
    spelled = {"f32": np.float32, "f64": np.float64}
    if dtype is None:
        dtype = np.float32
    elif isinstance(dtype, str) and dtype in spelled:
        dtype = spelled[dtype]
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a numpy dtype such as float32, float64 or "
                        f"x.dtype, not {dtype!r}") from None
    if dt.kind not in "uif" or (dt.kind, dt.itemsize) not in C.DTYPES:
        raise TypeError(f"dtype {dt} is not one the core writes; supported: "
                        f"{', '.join(N.SUPPORTED_DTYPES)} (x has {x_dtype})")
    return dt.newbyteorder("=")


def check_extents(shape, k):
    for n in shape[-k:]:
        if n < 1:
            raise ValueError(f"the array's shape {tuple(shape)} has an empty axis among "
                             f"the last {k} (those denoised)")


class Options:
    """The checked arguments of one denoising, as plain values (they pickle,
    and travel to dask workers); params() makes the core's structure."""

    def __init__(self, ndim, patch, search, noise, sigma, h, gain, offset, read_sigma):
        self.ndim, self.patch, self.search = ndim, patch, search
        self.noise, self.sigma, self.h = noise, sigma, h
        self.gain, self.offset, self.read_sigma = gain, offset, read_sigma

    def _values(self):
        return (self.ndim, self.patch, self.search, self.noise, self.sigma, self.h,
                self.gain, self.offset, self.read_sigma)

    def __reduce__(self):
        return (Options, self._values())

    def __dask_tokenize__(self):
        return ("blockwise.nlm",) + self._values()

    def params(self, lead_axis=False):
        """bw_nlm_params; with lead_axis, for a 2-D operation run as a 3-D
        one over a stack of planes (radius 0 along the stack)."""
        p = C.NlmParams()
        patch, search = self.patch, self.search
        if lead_axis:
            patch, search = (0,) + patch, (0,) + search
        C.nlm_params_init(_ctypes.byref(p), len(patch), self.sigma)
        for i, (a, b) in enumerate(zip(patch, search)):
            p.patch[i], p.search[i] = a, b
        p.h = self.h
        p.noise = C.NOISES[self.noise]
        p.sigma = self.sigma
        p.gain, p.offset, p.read_sigma = self.gain, self.offset, self.read_sigma
        return p


def parse_options(x_ndim, sigma, patch, search, h, noise, gain, offset, read_sigma, ndim):
    """Every parameter of nlm_denoise but x, dtype and threads, checked
    (the last checks are the core's own, on a one-pixel image)."""
    k = parse_ndim(ndim, patch, search, x_ndim)
    patch = parse_radii(patch, "patch", k, C.NLM_MAX_PATCH)
    search = parse_radii(search, "search", k, C.NLM_MAX_SEARCH)
    opts = Options(k, patch, search, **parse_noise(noise, sigma, h, gain, offset, read_sigma))
    _probe(opts)
    return opts


def _probe(opts):
    """Runs the core on a one-pixel image, so that it rejects the parameters
    it would reject on the real one (h out of range, ...) before any work."""
    x = np.zeros((1,) * opts.ndim)
    out = np.empty((1,) * opts.ndim, np.float32)
    err = C.Error()
    st = C.nlm(_ctypes.byref(N._view(x, C.DTYPES[("f", 8)])), None,
               _ctypes.byref(N._view(out, C.DTYPES[("f", 4)])), None, None,
               _ctypes.byref(opts.params()), _ctypes.byref(err))
    if st:
        C.raise_for(st, err, "nlm_denoise")


def check_finite(x, origin=None):
    """ValueError naming the first NaN or infinity of a float array x;
    origin is the index of x[0, ..., 0] in the array the caller knows."""
    if x.dtype.kind != "f" or x.size == 0:
        return
    at = _first_nonfinite(x)
    if at is not None:
        value = x[at]
        if origin is not None:
            at = tuple(a + o for a, o in zip(at, origin))
        raise ValueError(f"x[{', '.join(map(str, at))}] is {value}: non-local means "
                         "needs finite pixels (replace NaN and infinity first, for "
                         "example with np.nan_to_num)")


def _first_nonfinite(a):
    if a.ndim == 1 or a.size <= _FINITE_PIECE:
        bad = ~np.isfinite(a)
        if bad.any():
            return tuple(int(i) for i in np.argwhere(bad)[0])
        return None
    row = a.size // a.shape[0]
    if row > _FINITE_PIECE:
        for i in range(a.shape[0]):
            at = _first_nonfinite(a[i])
            if at is not None:
                return (i,) + at
        return None
    step = _FINITE_PIECE // row
    for i in range(0, a.shape[0], step):
        bad = ~np.isfinite(a[i:i + step])
        if bad.any():
            at = np.argwhere(bad)[0]
            return (i + int(at[0]),) + tuple(int(j) for j in at[1:])
    return None


# ---------------------------------------------------------------------------
# Core calls
# ---------------------------------------------------------------------------

def input_region(params, image, out_start, out_size):
    """bw_nlm_input_region: (start, size) of the input pixels that the output
    box (out_start, out_size) of an image of extents `image` needs."""
    reg, out = C.Region(), C.Region()
    for i, (s, n) in enumerate(zip(out_start, out_size)):
        reg.start[i], reg.size[i] = s, n
    err = C.Error()
    st = C.nlm_input_region(_ctypes.byref(params), _Shape(*image), _ctypes.byref(reg),
                            _ctypes.byref(out), _ctypes.byref(err))
    if st:
        C.raise_for(st, err, "nlm region map")
    k = params.ndim
    return tuple(out.start[:k]), tuple(out.size[:k])


def halo(opts):
    """(before, after) per axis of the operation: how far the input a pixel
    needs reaches on either side, from the core's region map of one pixel
    in the middle of an image too large for its window to reach an edge
    (the radii are at most the core's largest)."""
    params = opts.params()
    k = opts.ndim
    big = 2 * (C.NLM_MAX_PATCH + C.NLM_MAX_SEARCH) + 3
    mid = big // 2
    start, size = input_region(params, (big,) * k, (mid,) * k, (1,) * k)
    before = tuple(mid - s for s in start)
    after = tuple(s + n - mid - 1 for s, n in zip(start, size))
    return before, after


class _Box:
    """One core call: a box of the output computed from the input view
    holding the pixels it needs, both placed in the whole image."""

    def __init__(self, params, x, xcode, out, out_code, in_start, out_start, image):
        self.params, self.x, self.xcode = params, x, xcode
        self.out, self.out_code = out, out_code
        self.in_start, self.out_start, self.image = in_start, out_start, image

    def sub(self, start, size):
        """The box (start, size) of this call's output (in its coordinates),
        with the input cut to what the region map says it needs."""
        gstart = tuple(s + o for s, o in zip(start, self.out_start))
        istart, isize = input_region(self.params, self.image, gstart, size)
        xs = tuple(slice(a - b, a - b + n) for a, b, n in zip(istart, self.in_start, isize))
        os = tuple(slice(s, s + n) for s, n in zip(start, size))
        return _Box(self.params, self.x[xs], self.xcode, self.out[os], self.out_code,
                    istart, gstart, self.image)

    def run(self):
        byref = _ctypes.byref
        err = C.Error()
        st = C.nlm(byref(N._view(self.x, self.xcode)), _Shape(*self.in_start),
                   byref(N._view(self.out, self.out_code)), _Shape(*self.out_start),
                   _Shape(*self.image), byref(self.params), byref(err))
        if st:
            C.raise_for(st, err, "nlm_denoise")


def denoise_into(x, xcode, out, opts, in_start, out_start, image, threads):
    """Denoises into `out` the box of the whole image (extents `image` along
    the last opts.ndim axes) at out_start, from x, the box at in_start that
    holds the input it needs.  x and out share their leading axes, which are
    denoised each on its own.  Arguments must already be checked."""
    k = opts.ndim
    out_code = C.DTYPES[(out.dtype.kind, out.dtype.itemsize)]
    if out.size == 0:
        return out
    units = N._units([x, out], k)
    lead_axis = units[0][0].ndim != k  # a 2-D operation over a stack of planes
    params = opts.params(lead_axis)
    boxes = []
    for ux, uo in units:
        if lead_axis:
            boxes.append(_Box(params, ux, xcode, uo, out_code, (0,) + tuple(in_start),
                              (0,) + tuple(out_start), (ux.shape[0],) + tuple(image)))
        else:
            boxes.append(_Box(params, ux, xcode, uo, out_code, tuple(in_start),
                              tuple(out_start), tuple(image)))

    if threads == 1:
        for b in boxes:
            b.run()
        return out

    # The output rows of all units (rows: the first axis in 2-D, the first
    # two flattened in 3-D) shared evenly by the threads, each share as
    # boxes whose input comes from the region map.
    unit_out = boxes[0].out.shape
    rows = unit_out[0] * (unit_out[1] if len(unit_out) == 3 else 1)
    total = rows * len(boxes)
    shares = []
    for t in range(threads):
        g0, g1 = total * t // threads, total * (t + 1) // threads
        share = []
        while g0 < g1:
            u, r0 = divmod(g0, rows)
            r1 = min(rows, r0 + (g1 - g0))
            box = boxes[u]
            if r0 == 0 and r1 == rows:
                share.append(box)
            else:
                for reg in N._row_regions(unit_out, r0, r1):
                    n = len(unit_out)
                    share.append(box.sub(tuple(reg.start[:n]), tuple(reg.size[:n])))
            g0 += r1 - r0
        if share:
            shares.append(share)

    def work(share):
        for b in share:
            b.run()

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for f in [pool.submit(work, s) for s in shares]:
            f.result()
    return out


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def nlm_denoise(x, sigma=None, *, patch=3, search=10, h=0.0, noise="gaussian", gain=1.0,
                offset=0.0, read_sigma=0.0, ndim=None, dtype=np.float32, threads=None):
    """Non-local means denoising of the 2-D planes or 3-D volumes of x.

    Each pixel becomes the mean of the pixels y of its search window,
    weighted by how alike the patches around the two are:

        out(p) = sum_y w(p, y) v(y) / sum_y w(p, y),
        w(p, y) = exp(-max(d2(p, y) - 2 sigma^2, 0) / h^2),

    d2 the mean of (v(p + q) - v(y + q))^2 over the patch offsets q with
    both pixels inside the image.  Windows and patches are clipped to the
    image (no padding): any part of the result equals the whole-image
    result there, which is what lets threads and dask chunks compute parts.

    Parameters
    ----------
    x : array
        2-D or higher, of dtype uint8, int8, uint16, int16, uint32, int32,
        float32 or float64 (finite values), any strides.  The operation
        covers its last 2 or 3 axes (see ndim); the axes before those (time,
        channel, ...) are kept, each plane or volume denoised on its own.
        A dask array gives a lazy dask result (see blockwise.dask).
    sigma : float
        Standard deviation of the Gaussian noise, in the image's units
        (required for noise="gaussian"; not used by "poisson-gaussian").
    patch : int or sequence of ints
        Patch radius per axis, slowest first, 0 to 32: 3 means 7x7 patches
        (scikit-image's patch_size=7).  One int for every axis.
    search : int or sequence of ints
        Search radius per axis, 0 to 255: 10 means a 21x21 window
        (scikit-image's patch_distance=10).  Anisotropic volumes: e.g.
        (2, 10, 10).
    h : float
        Filtering strength, >= 0; 0 (default) means 0.8 * sigma for Gaussian
        noise and 0.8 for Poisson-Gaussian noise, where it is in units of
        the stabilised noise (standard deviation 1).
    noise : "gaussian" or "poisson-gaussian"
        Poisson-Gaussian (fluorescence cameras): x = gain * counts + offset
        + read noise.  The image is stabilised by the generalised Anscombe
        transform, denoised there with sigma = 1, and mapped back by the
        exact unbiased inverse.
    gain, offset, read_sigma : float
        Poisson-Gaussian noise: image units per photo-electron (> 0), image
        value of zero photo-electrons, and standard deviation of the
        Gaussian read noise in image units (>= 0).
    ndim : 2 or 3, optional
        Denoise planes (the last 2 axes) or volumes (the last 3).  Default:
        the number of radii given per axis, else x.ndim for 2-D and 3-D
        arrays; required for arrays of more axes.
    dtype : numpy dtype
        Of the result: float32 (default), float64, or another supported
        dtype such as x.dtype, which receives values rounded to nearest and
        clamped to its range.
    threads : int, optional
        Split the work over this many threads (default: the calling thread).
        The result is the same bits whatever the number.

    Returns
    -------
    An array of x's shape and of dtype `dtype`.

    See also: nlm_input_region, blockwise.dask.nlm_denoise.
    """
    if N.is_dask_array(x):
        if threads is not None:
            raise ValueError("threads= applies to numpy arrays; for dask arrays the "
                             "scheduler decides the parallelism")
        from . import dask as bwd
        return bwd.nlm_denoise(x, sigma, patch=patch, search=search, h=h, noise=noise,
                               gain=gain, offset=offset, read_sigma=read_sigma, ndim=ndim,
                               dtype=dtype)
    x, xcode = N.as_input(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes; its shape is {x.shape}")
    opts = parse_options(x.ndim, sigma, patch, search, h, noise, gain, offset, read_sigma,
                         ndim)
    out_dtype = parse_out_dtype(dtype, x.dtype)
    threads = N.parse_threads(threads)
    k = opts.ndim
    check_extents(x.shape, k)
    check_finite(x)
    out = np.empty(x.shape, dtype=out_dtype)
    return denoise_into(x, xcode, out, opts, (0,) * k, (0,) * k, x.shape[-k:], threads)


def nlm_input_region(shape, region, *, patch=3, search=10, ndim=None):
    """The core's region map of nlm_denoise: the input pixels that the
    output pixels `region` need.

    shape is the image's shape (the operation covers its last ndim axes,
    chosen as in nlm_denoise); region is a tuple of slices (or ints), one
    per covered axis; the result is a tuple of slices, one per covered
    axis: region grown by patch + search radius, clipped to the image.
    Denoising x[result] as a part of the whole image (blockwise.dask does
    this per chunk) gives the pixels `region` of nlm_denoise(x), bit for bit.
    """
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be a sequence of ints, not {type(shape).__name__}")
    shape = tuple(N._integer(n, "shape entry") for n in shape)
    if len(shape) < 2:
        raise ValueError(f"shape {shape} has fewer than 2 axes")
    k = parse_ndim(ndim, patch, search, len(shape))
    opts = Options(k, parse_radii(patch, "patch", k, C.NLM_MAX_PATCH),
                   parse_radii(search, "search", k, C.NLM_MAX_SEARCH),
                   "gaussian", 1.0, 0.0, 1.0, 0.0, 0.0)
    image = shape[-k:]
    for n in image:
        if n < 1 or n > N._MAX_EXTENT:
            raise ValueError(f"shape {shape}: extents must be between 1 and 2**62")
    if isinstance(region, (slice, numbers.Integral)):
        region = (region,)
    region = tuple(region)
    if len(region) != k:
        raise ValueError(f"region has {len(region)} entries; the operation covers {k} axes")
    starts, sizes = [], []
    for r, n in zip(region, image):
        if isinstance(r, slice):
            if r.step not in (None, 1):
                raise ValueError(f"region: slice {r} has a step; only step 1 is a region")
            start = 0 if r.start is None else N._integer(r.start, "region start")
            stop = n if r.stop is None else N._integer(r.stop, "region stop")
        else:
            start = N._integer(r, "region index")
            stop = start + 1
        if abs(start) > N._MAX_EXTENT or abs(stop) > N._MAX_EXTENT:
            raise ValueError(f"region: {r} is out of range")
        starts.append(start)
        sizes.append(stop - start)
    start, size = input_region(opts.params(), image, starts, sizes)
    return tuple(slice(s, s + n) for s, n in zip(start, size))
