"""Local (sliding box window) statistics of numpy arrays.

local_stats and local_corr check every argument (blockwise._args_local;
the core checks the parameters' ranges) before any pixel is read, then run
the C core (bw_local_stats) on views of the caller's memory.  With
threads=N the output is cut into boxes, each computed from the input region
the core's region map (bw_local_input_region) gives for it, with the box's
place in the whole image, so the bits do not depend on N.  blockwise.dask
uses the same path on each chunk with the chunk's place in the whole array.
"""
import numpy as np

from . import _args as A
from . import _args_local as L
from . import _core as C
from . import _split as S

__all__ = ["local_stats", "local_corr", "local_output_shape", "local_input_region"]


# ---------------------------------------------------------------------------
# The core's geometry: output shape, halo and region map
# ---------------------------------------------------------------------------

def output_shape(params, image, what="local output shape"):
    """bw_local_output_shape: the output extents for an image of extents
    `image` (ceil(n / step) per axis)."""
    out = C.sizes(())
    C.call(C.local_output_shape, what, params, C.sizes(image), out)
    return tuple(out[:params.ndim])


def halo(params):
    """bw_local_halo: (before, after) per axis, how far the input an output
    box needs reaches beyond its window centres."""
    before, after = C.sizes(()), C.sizes(())
    C.call(C.local_halo, "local halo", params, before, after)
    k = params.ndim
    return tuple(before[:k]), tuple(after[:k])


def input_region(params, image, start, size, what="local region map"):
    """bw_local_input_region: (start, size) of the input pixels that the
    output box (start, size) (output coordinates) of an image of extents
    `image` needs."""
    out = C.Region()
    C.call(C.local_input_region, what, params, C.sizes(image), C.region(start, size), out)
    return C.box(out, params.ndim)


# ---------------------------------------------------------------------------
# Core calls
# ---------------------------------------------------------------------------

class _Box:
    """One bw_local_stats call: a box of the output (one array per
    statistic) computed from the input views holding the pixels it needs,
    all placed in the whole image."""

    def __init__(self, params, x, y, xcode, outs, codes, out_code, in_start, out_start,
                 image):
        self.params, self.x, self.y, self.xcode = params, x, y, xcode
        self.outs, self.codes, self.out_code = outs, codes, out_code
        self.in_start, self.out_start, self.image = in_start, out_start, image
        self.out_shape = outs[0].shape

    def sub(self, start, size):
        """The box (start, size) of this call's output (in its coordinates),
        with the input cut to what the region map says it needs."""
        gstart, istart, xs, os = S.sub_box(
            lambda a, n: input_region(self.params, self.image, a, n), self.in_start,
            self.out_start, start, size)
        return _Box(self.params, self.x[xs], None if self.y is None else self.y[xs],
                    self.xcode, [o[os] for o in self.outs], self.codes, self.out_code,
                    istart, gstart, self.image)

    def run(self):
        outs = (C.LocalOutput * len(self.outs))()
        for i, (code, o) in enumerate(zip(self.codes, self.outs)):
            outs[i].stat, outs[i].input = code, 0
            outs[i].view = S.view(o, self.out_code)
        yv = None if self.y is None else S.view(self.y, self.xcode)
        C.call(C.local_stats, "local statistics", S.view(self.x, self.xcode), yv,
               C.sizes(self.in_start), C.sizes(self.image), self.params, outs, len(outs),
               C.sizes(self.out_start))


def local_into(x, xcode, y, res, codes, opts, in_start, out_start, image, threads):
    """Computes into res[i] the statistic codes[i] of the output box at
    out_start of the whole image (extents `image` along the last opts.ndim
    axes), from x (and y), the box at in_start that holds the input it
    needs.  x, y and res[i] share their leading axes, each computed on its
    own.  Arguments must already be checked."""
    k = opts.ndim
    if res.size == 0:
        return res
    out_code = A.dtype_code(res.dtype)
    arrays = [x] + ([] if y is None else [y]) + [res[i] for i in range(len(codes))]
    units = S.units(arrays, k)
    lead_axis = units[0][0].ndim != k  # 2-D windows over a stack of planes
    params = opts.params(lead_axis)
    lead = (0,) if lead_axis else ()
    nin = 1 if y is None else 2
    boxes = []
    for unit in units:
        stack = (unit[0].shape[0],) if lead_axis else ()
        boxes.append(_Box(params, unit[0], unit[1] if y is not None else None, xcode,
                          list(unit[nin:]), codes, out_code, lead + tuple(in_start),
                          lead + tuple(out_start), stack + tuple(image)))
    S.run_shares(boxes, threads)
    return res


def prepare(x, y, stats, radius, step, ddof, fill, ndim, dtype, what, as_array):
    """The checked arguments of local_stats: (x, y, names, codes, single,
    opts, out dtype); as_array converts an input (numpy's as_input or the
    dask one)."""
    x, y = A.checked_inputs(x, y, as_array)
    names, codes, single = L.local_stat_codes(stats, y is not None)
    opts = L.local_options(x.ndim, radius, step, ddof, fill, ndim, what)
    out_dtype = A.parse_float_dtype(dtype)
    A.check_extents(x.shape, opts.ndim, "those the windows cover")
    if not A.needs_pair(codes):
        y = None
    return x, y, names, codes, single, opts, out_dtype


def as_numpy(x, name):
    return A.as_input(x, name)[0]


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def local_stats(x, radius=None, stat="mean", *, y=None, step=None, ddof=0, fill=None,
                ndim=None, dtype=np.float64, threads=None):
    """Statistics of the box window around every pixel (or every step-th
    pixel) of x: local mean, std, variance, sum, count (and, with y,
    covariance and Pearson r).

    Output pixel k is the statistic of the input pixels p with
    |p_d - k_d step_d| <= radius_d along every covered axis d that lie
    inside the image: windows are clipped to the image (no padding), so
    they hold fewer pixels (count) along the border.  For such a window of
    n pixels: sum and mean of its pixels, var = sum (a - mean)^2 /
    (n - ddof) (NaN when n <= ddof), std its square root (0 for a constant
    window), cov likewise with (a - mean_a)(b - mean_b), corr Pearson's r
    in [-1, 1], NaN (or `fill`) where either window is constant.  The cost
    per pixel does not depend on the radius; integer inputs are summed
    exactly, floats in double-double (a large common offset does not
    cancel the variance).

    Parameters
    ----------
    x : array
        2-D or higher, of dtype uint8, int8, uint16, int16, uint32, int32,
        float32 or float64, any strides.  The windows cover its last 2 or 3
        axes (see ndim); the axes before those (time, channel, ...) are
        kept, each plane or volume computed on its own.  A dask array gives
        a lazy dask result (see blockwise.dask).
    radius : int or sequence of ints
        Window radius per axis, slowest first: radius 5 means 11 pixels
        along that axis.  One int for every axis; default the core's, 5.
    stat : str or sequence of str
        Among "mean", "std", "var", "sum", "count" and, with y, "cov" and
        "corr" (or the long names: "variance", "standard-deviation",
        "covariance", "correlation").  Several are computed in one pass.
    y : array, optional
        Second image for "cov" and "corr": same shape and dtype as x.
    step : int or sequence of ints
        Output stride per axis (default 1, every pixel): output pixel k is
        the window centred on input pixel k * step, and the output has
        ceil(n / step) pixels along each axis.
    ddof : 0 or 1
        Delta degrees of freedom of "var", "std" and "cov".
    fill : float, optional
        "corr" of windows where x or y is constant (NaN when not given).
    ndim : 2 or 3, optional
        Windows over planes (the last 2 axes) or volumes (the last 3).
        Default: the number of radii or steps given per axis, else x.ndim
        for 2-D and 3-D arrays; required for arrays of more axes.
    dtype : float32 or float64 (or "f32", "f64")
        Element type of the results.
    threads : int, optional
        Split the work over this many threads (default: the calling
        thread).  The results are the same bits whatever the number.

    Returns
    -------
    An array of shape x.shape[:-ndim] + local_output_shape when stat is
    one name; otherwise a dict from each name to its array, in the order
    asked.

    See also: local_corr, local_output_shape, local_input_region,
    block_stats.
    """
    x, y, names, codes, single, opts, out_dtype = prepare(
        x, y, stat, radius, step, ddof, fill, ndim, dtype, "local_stats", as_numpy)
    threads = A.parse_threads(threads)
    k = opts.ndim
    image = x.shape[-k:]
    res = np.empty((len(codes),) + x.shape[:-k] + output_shape(opts.params(), image),
                   dtype=out_dtype)
    local_into(x, A.dtype_code(x.dtype), y, res, codes, opts, (0,) * k, (0,) * k, image,
               threads)
    if single:
        return res[0]
    return {s: res[i] for i, s in enumerate(names)}


def local_corr(x, y, radius=None, *, step=None, fill=None, ndim=None, dtype=np.float64,
               threads=None):
    """Local Pearson r of x and y: r of the box windows around every pixel
    (or every step-th), windows clipped to the image, in [-1, 1]; NaN (or
    `fill`) where either window is constant.  x and y have the same shape
    and dtype; the other arguments are those of local_stats.  Returns an
    array of dtype `dtype` (float64 by default); a dask array for dask
    inputs.

    See also: local_stats, block_corr, block_shift.
    """
    if y is None:
        raise TypeError("local_corr needs two images: local_corr(x, y, radius)")
    return local_stats(x, radius, "corr", y=y, step=step, fill=fill, ndim=ndim,
                       dtype=dtype, threads=threads)


def _geometry(shape, radius, step, ndim, what):
    shape = A.parse_shape(shape)
    opts = L.local_options(len(shape), radius, step, 0, None, ndim, what)
    image = shape[-opts.ndim:]
    for n in image:
        if n < 1:
            raise ValueError(f"shape {shape}: extents must be between 1 and 2**62")
    return shape, opts, image


def local_output_shape(shape, *, radius=None, step=None, ndim=None):
    """The shape of local_stats' results for an array of shape `shape`: the
    leading axes, then ceil(n / step) along each covered axis (the core's
    bw_local_output_shape)."""
    shape, opts, image = _geometry(shape, radius, step, ndim, "local_output_shape")
    return shape[:-opts.ndim] + output_shape(opts.params(), image, "local_output_shape")


def local_input_region(shape, region, *, radius=None, step=None, ndim=None):
    """The core's region map of local_stats: the input pixels that the
    output pixels `region` need.

    shape is the image's shape (the windows cover its last ndim axes,
    chosen as in local_stats); region is a tuple of slices (or ints) in
    output pixels, one per covered axis; the result is a tuple of slices of
    input pixels: from the first window centre (start * step) minus the
    radius to the last plus the radius, clipped to the image.  local_stats
    of x[result] computed as the part of the whole image it is
    (blockwise.dask does this per chunk) gives the pixels `region` of
    local_stats(x), bit for bit.
    """
    shape, opts, image = _geometry(shape, radius, step, ndim, "local_input_region")
    params = opts.params()
    start, size = A.parse_region(region, output_shape(params, image, "local_input_region"))
    start, size = input_region(params, image, start, size, "local_input_region")
    return tuple(slice(s, s + n) for s, n in zip(start, size))
