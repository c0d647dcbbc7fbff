"""Non-local means denoising of numpy arrays.

nlm_denoise checks every argument (blockwise._args; the core checks the
parameters' ranges) before any pixel is read, then runs the C core (bw_nlm)
on views of the caller's memory.  With threads=N the output is cut into
boxes, and each box is computed from the input region the core's region map
(bw_nlm_input_region) gives for it, with the box's place in the whole
image, so the bits do not depend on N.  blockwise.dask uses the same path on
each chunk with the chunk's place in the whole array.
"""
import numpy as np

from . import _args as A
from . import _core as C
from . import _split as S

__all__ = ["nlm_denoise", "nlm_input_region"]


# ---------------------------------------------------------------------------
# The core's geometry: halo and region map
# ---------------------------------------------------------------------------

def halo(params):
    """bw_nlm_halo: (before, after) per axis, how far the input an output
    box needs reaches beyond it on either side."""
    before, after = C.sizes(()), C.sizes(())
    C.call(C.nlm_halo, "nlm halo", params, before, after)
    k = params.ndim
    return tuple(before[:k]), tuple(after[:k])


def input_region(params, image, start, size, what="nlm region map"):
    """bw_nlm_input_region: (start, size) of the input pixels that the
    output box (start, size) of an image of extents `image` needs."""
    out = C.Region()
    C.call(C.nlm_input_region, what, params, C.sizes(image), C.region(start, size), out)
    return C.box(out, params.ndim)


# ---------------------------------------------------------------------------
# Core calls
# ---------------------------------------------------------------------------

class _Box:
    """One bw_nlm call: a box of the output computed from the input view
    holding the pixels it needs, both placed in the whole image."""

    def __init__(self, params, x, xcode, out, out_code, in_start, out_start, image):
        self.params, self.x, self.xcode = params, x, xcode
        self.out, self.out_code = out, out_code
        self.in_start, self.out_start, self.image = in_start, out_start, image
        self.out_shape = out.shape

    def sub(self, start, size):
        """The box (start, size) of this call's output (in its coordinates),
        with the input cut to what the region map says it needs."""
        gstart, istart, xs, os = S.sub_box(
            lambda a, n: input_region(self.params, self.image, a, n), self.in_start,
            self.out_start, start, size)
        return _Box(self.params, self.x[xs], self.xcode, self.out[os], self.out_code,
                    istart, gstart, self.image)

    def run(self):
        C.call(C.nlm, "nlm_denoise", S.view(self.x, self.xcode), C.sizes(self.in_start),
               S.view(self.out, self.out_code), C.sizes(self.out_start),
               C.sizes(self.image), self.params)


def denoise_into(x, xcode, out, opts, in_start, out_start, image, threads):
    """Denoises into `out` the box of the whole image (extents `image` along
    the last opts.ndim axes) at out_start, from x, the box at in_start that
    holds the input it needs.  x and out share their leading axes, which are
    denoised each on its own.  Arguments must already be checked."""
    k = opts.ndim
    if out.size == 0:
        return out
    out_code = A.dtype_code(out.dtype)
    units = S.units([x, out], k)
    lead_axis = units[0][0].ndim != k  # a 2-D operation over a stack of planes
    params = opts.params(lead_axis)
    boxes = []
    for ux, uo in units:
        lead = (0,) if lead_axis else ()
        stack = (ux.shape[0],) if lead_axis else ()
        boxes.append(_Box(params, ux, xcode, uo, out_code, lead + tuple(in_start),
                          lead + tuple(out_start), stack + tuple(image)))
    S.run_shares(boxes, threads)
    return out


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def nlm_denoise(x, sigma=None, *, patch=None, search=None, h=None, noise="gaussian",
                gain=None, offset=None, read_sigma=None, ndim=None, dtype=np.float32,
                threads=None):
    """Non-local means denoising of the 2-D planes or 3-D volumes of x.

    Each pixel becomes the mean of the pixels y of its search window,
    weighted by how alike the patches around the two are:

        out(p) = sum_y w(p, y) v(y) / sum_y w(p, y),
        w(p, y) = exp(-max(d2(p, y) - 2 sigma^2, 0) / h^2),

    d2 the mean of (v(p + q) - v(y + q))^2 over the patch offsets q with
    both pixels inside the image.  Windows and patches are clipped to the
    image (no padding): any part of the result equals the whole-image
    result there, which is what lets threads and dask chunks compute parts.
    Arguments left as None take the core's defaults (bw_nlm_params_init),
    given below.

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
        Patch radius per axis, slowest first, 0 to 32; default 3, 7x7
        patches (scikit-image's patch_size=7).  One int for every axis.
    search : int or sequence of ints
        Search radius per axis, 0 to 255; default 10, a 21x21 window
        (scikit-image's patch_distance=10).  Anisotropic volumes: e.g.
        (2, 10, 10).
    h : float
        Filtering strength, >= 0; 0 (the default) means 0.8 * sigma for
        Gaussian noise and 0.8 for Poisson-Gaussian noise, where it is in
        units of the stabilised noise (standard deviation 1).
    noise : "gaussian" or "poisson-gaussian"
        Poisson-Gaussian (fluorescence cameras): x = gain * counts + offset
        + read noise.  The image is stabilised by the generalised Anscombe
        transform, denoised there with sigma = 1, and mapped back by the
        exact unbiased inverse.
    gain, offset, read_sigma : float
        Poisson-Gaussian noise: image units per photo-electron (> 0,
        default 1), image value of zero photo-electrons (default 0), and
        standard deviation of the Gaussian read noise in image units (>= 0,
        default 0).
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
    x, xcode = A.as_input(x, "x")
    A.check_least_axes(x)
    opts = A.nlm_options(x.ndim, sigma, patch, search, h, noise, gain, offset, read_sigma,
                         ndim)
    out_dtype = A.parse_out_dtype(dtype, x.dtype)
    threads = A.parse_threads(threads)
    k = opts.ndim
    A.check_extents(x.shape, k, "those denoised")
    A.check_finite(x)
    out = np.empty(x.shape, dtype=out_dtype)
    return denoise_into(x, xcode, out, opts, (0,) * k, (0,) * k, x.shape[-k:], threads)


def nlm_input_region(shape, region, *, patch=None, search=None, ndim=None):
    """The core's region map of nlm_denoise: the input pixels that the
    output pixels `region` need.

    shape is the image's shape (the operation covers its last ndim axes,
    chosen as in nlm_denoise); region is a tuple of slices (or ints), one
    per covered axis; the result is a tuple of slices, one per covered
    axis: region grown by patch + search radius (defaults 3 and 10, as in
    nlm_denoise), clipped to the image.  Denoising x[result] as a part of
    the whole image (blockwise.dask does this per chunk) gives the pixels
    `region` of nlm_denoise(x), bit for bit.
    """
    shape = A.parse_shape(shape)
    opts = A.nlm_radii(patch, search, ndim, len(shape))
    image = shape[-opts.ndim:]
    for n in image:
        if n < 1:
            raise ValueError(f"shape {shape}: extents must be between 1 and 2**62")
    start, size = A.parse_region(region, image)
    start, size = input_region(opts.params(), image, start, size, "nlm_input_region")
    return tuple(slice(s, s + n) for s, n in zip(start, size))
