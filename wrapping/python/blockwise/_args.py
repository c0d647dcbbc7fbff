"""Arguments: from what a caller passes to what the core takes.

Every public function checks its arguments here before any pixel is read.
This module checks only what is Python's to check: the kinds of values
(TypeError), their spelling (names of edges, noise models, dtypes), how
many there are and which array axes they cover, and that integers fit the
core's fields.  The ranges of the parameters are the core's to check: the
parameter structures made here go through bw_block_params_check and
bw_nlm_params_check, whose messages become ValueError; statistics are
looked up by name in the core's table (bw_stat_from_name).  Defaults left
as None are the core's (bw_nlm_params_init).

Channel conversions are named in the core's table (bw_channel_from_name)
and checked against an image's channels and the input and output types by
bw_channel_params_check and bw_channel_plan_make.  File
names become absolute paths; whether a file and a level exist is the TIFF
layer's to say.

The checked parameters travel as Options: plain values that pickle and
tokenize (for dask), with params() making the core's structure.
"""
import ctypes
import numbers
import operator
import os

import numpy as np

from . import _core as C

SUPPORTED_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32",
                    "float32", "float64")
#: Bytes a chunk of blockwise.open holds at least (unless the image is
#: smaller): large enough that per-task overhead does not count.
CHUNK_BYTES = 16 << 20
#: Largest extent, size or radius passed to the core (its ptrdiff_t fields).
MAX_EXTENT = 1 << 62
_INT_MAX = (1 << 31) - 1
# Elements per piece when looking for non-finite input pixels, so that the
# temporary mask stays small whatever the image's size.
_FINITE_PIECE = 1 << 22


# ---------------------------------------------------------------------------
# Arrays and numbers
# ---------------------------------------------------------------------------

def dtype_code(dt):
    """The bw_dtype code of numpy dtype dt, or None."""
    return C.DTYPES.get((dt.kind, dt.itemsize)) if dt.kind in "uif" else None


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
    check_dtype(x.dtype, name)
    if not x.dtype.isnative:
        x = x.astype(x.dtype.newbyteorder("="))
    elif not x.flags.aligned:
        x = x.copy()
    return x, dtype_code(x.dtype)


def check_dtype(dt, name):
    """TypeError unless the core reads elements of dtype dt."""
    if dtype_code(dt) is None:
        raise TypeError(f"{name} has dtype {dt}, which the core does not read; "
                        f"supported: {', '.join(SUPPORTED_DTYPES)} "
                        f"(convert with {name}.astype(...))")


def check_least_axes(x, name="x"):
    if x.ndim < 2:
        raise ValueError(f"{name} must have at least 2 axes; its shape is {x.shape}")


def check_extents(shape, k, what):
    """ValueError when one of the last k extents of shape is 0."""
    for n in shape[-k:]:
        if n < 1:
            raise ValueError(f"the array's shape {tuple(shape)} has an empty axis among "
                             f"the last {k} ({what})")


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def integer(value, name, largest=MAX_EXTENT):
    """value as a Python int, TypeError if it is not an integer, ValueError
    if its magnitude exceeds `largest` (what the core's field holds)."""
    if not is_int(value):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} {value!r}")
    value = operator.index(value)
    if abs(value) > largest:
        raise ValueError(f"{name} {value} is out of range: too large for the core")
    return value


def real(value, name):
    """value as a float, TypeError if it is not a real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__} {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} {value} is out of range") from None


def parse_threads(threads):
    if threads is None:
        return 1
    threads = integer(threads, "threads")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    return threads


def parse_shape(shape):
    """An image's shape given to a geometry function: 2 or more ints."""
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be a sequence of ints, not {type(shape).__name__}")
    shape = tuple(integer(n, "shape entry") for n in shape)
    if len(shape) < 2:
        raise ValueError(f"shape {shape} has fewer than 2 axes")
    return shape


def parse_region(region, extents):
    """(start, size) of a region given as slices (step 1) or ints, one per
    entry of extents (open slices run to the extent)."""
    if isinstance(region, (slice, numbers.Integral)):
        region = (region,)
    region = tuple(region)
    if len(region) != len(extents):
        raise ValueError(f"region has {len(region)} entries; the operation covers "
                         f"{len(extents)} axes")
    starts, sizes = [], []
    for r, n in zip(region, extents):
        if isinstance(r, slice):
            if r.step not in (None, 1):
                raise ValueError(f"region: slice {r} has a step; only step 1 is a region")
            start = 0 if r.start is None else integer(r.start, "region start")
            stop = n if r.stop is None else integer(r.stop, "region stop")
        else:
            start = integer(r, "region index")
            stop = start + 1
        if abs(stop - start) > MAX_EXTENT:
            raise ValueError(f"region: {r} is out of range")
        starts.append(start)
        sizes.append(stop - start)
    return tuple(starts), tuple(sizes)


def parse_float_dtype(dtype):
    """An output dtype of the block operations: float32 or float64 (also
    spelled 'f32', 'f64')."""
    dt = _spelled_dtype(dtype, "dtype must be float32 or float64")
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, not {dt}")
    return dt


def parse_out_dtype(dtype, x_dtype):
    """The output dtype of denoising: float32 (also 'f32' or None), float64
    ('f64'), or any other dtype the core handles, such as the input's own."""
    dt = _spelled_dtype(np.float32 if dtype is None else dtype,
                        "dtype must be a numpy dtype such as float32, float64 or x.dtype")
    if dtype_code(dt) is None:
        raise TypeError(f"dtype {dt} is not one the core writes; supported: "
                        f"{', '.join(SUPPORTED_DTYPES)} (x has {x_dtype})")
    return dt.newbyteorder("=")


def _spelled_dtype(dtype, expected):
    spelled = {"f32": np.float32, "f64": np.float64}
    if isinstance(dtype, str) and dtype in spelled:
        dtype = spelled[dtype]
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{expected}, not {dtype!r}") from None


def check_finite(x, origin=None, needs="non-local means"):
    """ValueError naming the first NaN or infinity of a float array x;
    origin is the index of x[0, ..., 0] in the array the caller knows,
    `needs` what needs finite pixels."""
    if x.dtype.kind != "f" or x.size == 0:
        return
    at = _first_nonfinite(x)
    if at is not None:
        value = x[at]
        if origin is not None:
            at = tuple(a + o for a, o in zip(at, origin))
        raise ValueError(f"x[{', '.join(map(str, at))}] is {value}: {needs} "
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


class Options:
    """Checked parameters as plain values (FIELDS, in order): they pickle
    and travel to dask workers, and name dask tasks deterministically."""
    FIELDS = ()

    def __init__(self, *values):
        for name, value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)

    def values(self):
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __reduce__(self):
        return (type(self), self.values())

    def __dask_tokenize__(self):
        return (type(self).__name__,) + self.values()


# ---------------------------------------------------------------------------
# Block operations
# ---------------------------------------------------------------------------

def parse_block(block, x_ndim):
    """The block sizes, 2 or 3 of them, for an array of x_ndim axes: the
    sizes decide which axes the blocks cover."""
    if is_int(block):
        b = integer(block, "block size")
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
        sizes = tuple(block)
        for b in sizes:
            if not is_int(b):
                raise TypeError(f"block size {b!r} is not an int")
        sizes = tuple(integer(b, "block size") for b in sizes)
        if len(sizes) not in (2, 3):
            raise ValueError(f"block {sizes} has {len(sizes)} sizes; the operations are "
                             "2-D or 3-D: give 2 or 3 sizes")
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


def parse_fill(fill):
    if fill is None:
        return None
    if isinstance(fill, (bool, np.bool_)) or not isinstance(fill, numbers.Real):
        raise TypeError(f"fill must be a real number or None, not {type(fill).__name__}")
    return float(fill)


def parse_stats(stats, have_y):
    """(names, codes, single): the statistics asked for, their bw_stat
    codes, and whether one was named on its own (a str)."""
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
    codes = []
    for s in names:
        if not isinstance(s, str):
            raise TypeError(f"stats: {s!r} is not a statistic's name (a str)")
        code = C.ctypes.c_int()
        err = C.Error()
        if C.stat_from_name(s.encode("utf-8", "replace"), code, err):
            raise ValueError(f"stats: {err.message.decode('utf-8', 'replace')}; "
                             f"known: {', '.join(C.STATS)}")
        if C.stat_is_pair(code.value) and not have_y:
            raise ValueError(f"stats: {s!r} is a statistic of a pair: pass the second "
                             "image as y=")
        codes.append(code.value)
    if len(set(codes)) != len(codes):
        raise ValueError(f"stats: a statistic is named twice in {names}")
    return names, tuple(codes), single


def needs_pair(codes):
    """Whether any of the statistics `codes` is one of a pair (cov, corr)."""
    return any(C.stat_is_pair(c) for c in codes)


def check_pair(x, y):
    if y.shape != x.shape:
        raise ValueError(f"x and y differ in shape: {x.shape} and {y.shape}")
    if y.dtype != x.dtype:
        raise TypeError(f"x and y differ in dtype: {x.dtype} and {y.dtype}; "
                        "convert one with astype() so that both have the same")


def checked_inputs(x, y, as_array):
    """x (and y, unless None) through as_array(value, name), checked: x has
    at least 2 axes, y the shape and dtype of x."""
    x = as_array(x, "x")
    check_least_axes(x)
    if y is not None:
        y = as_array(y, "y")
        check_pair(x, y)
    return x, y


class BlockOptions(Options):
    """The parameters of a block operation: block sizes, edge, ddof, fill."""
    FIELDS = ("block", "edge", "ddof", "fill")

    def params(self, lead_axis=False):
        """bw_block_params; with lead_axis, for 2-D blocks run as 3-D ones
        over a stack of planes (blocks of extent 1 along the stack)."""
        block = ((1,) if lead_axis else ()) + tuple(self.block)
        p = C.BlockParams()
        C.block_params_init(p, len(block), C.sizes(block))
        p.edge = C.EDGES[self.edge]
        p.ddof = self.ddof
        if self.fill is not None:
            p.use_fill = 1
            p.fill = self.fill
        return p


def block_options(block, x_ndim, what, edge="partial", ddof=0, fill=None):
    """Every parameter of a block operation, checked by Python and then by
    the core (bw_block_params_check); `what` names the caller in messages."""
    opts = BlockOptions(parse_block(block, x_ndim), parse_edge(edge),
                        integer(ddof, "ddof", _INT_MAX), parse_fill(fill))
    C.call(C.block_params_check, what, opts.params())
    return opts


# ---------------------------------------------------------------------------
# Non-local means
# ---------------------------------------------------------------------------

def _nlm_defaults():
    p = C.NlmParams()
    C.nlm_params_init(p, 2, 0.0)
    return dict(patch=p.patch[0], search=p.search[0], h=p.h, gain=p.gain,
                offset=p.offset, read_sigma=p.read_sigma)


#: The core's defaults (bw_nlm_params_init) of the arguments left as None.
NLM_DEFAULTS = _nlm_defaults()


def _radii_length(value):
    """The number of radii in `value` when it is a sequence, else None."""
    if value is None or is_int(value) or isinstance(value, (str, bytes)) \
            or not hasattr(value, "__iter__"):
        return None
    return len(tuple(value))


def operation_ndim(ndim, per_axis, x_ndim, cover="denoise together"):
    """The number of axes a windowed operation covers (2 or 3): ndim when
    given, else the number of values of the per-axis arguments given as
    sequences (per_axis: name -> value), else the array's own number of
    axes when that is 2 or 3.  `cover` completes "say which axes to ..."."""
    lengths = {n for n in map(_radii_length, per_axis.values()) if n is not None}
    if ndim is not None:
        if not is_int(ndim):
            raise TypeError(f"ndim must be 2 or 3, not {type(ndim).__name__} {ndim!r}")
        ndim = operator.index(ndim)
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 (planes) or 3 (volumes), not {ndim}")
    elif len(lengths) == 1 and next(iter(lengths)) in (2, 3):
        ndim = next(iter(lengths))
    elif len(lengths) > 1:
        given = " and ".join(f"{name} {tuple(v)}" for name, v in per_axis.items()
                             if _radii_length(v) is not None)
        raise ValueError(f"{given} give different numbers of values; give one per axis "
                         "in each (or one int)")
    elif x_ndim in (2, 3):
        ndim = x_ndim
    else:
        raise ValueError(
            f"x has {x_ndim} axes: say which to {cover}, ndim=2 (the last two: "
            "each plane on its own) or ndim=3 (the last three: volumes); the axes "
            "before those are kept")
    if ndim > x_ndim:
        raise ValueError(f"a {ndim}-D operation needs an array with at least {ndim} axes; "
                         f"x has {x_ndim}")
    return ndim


def parse_ndim(ndim, patch, search, x_ndim):
    """The number of axes denoising covers: see operation_ndim."""
    return operation_ndim(ndim, {"patch": patch, "search": search}, x_ndim)


def per_axis(value, name, ndim, what="radius", plural="radii"):
    """One int for every axis, or a sequence of ndim ints (slowest first),
    as a tuple; `what` and `plural` name one value and several in
    messages."""
    if is_int(value):
        return (integer(value, f"{name} {what}"),) * ndim
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be an int or a sequence of {ndim} ints ({plural}), "
                        f"not {type(value).__name__} {value!r}")
    values = tuple(value)
    for r in values:
        if not is_int(r):
            raise TypeError(f"{name} {what} {r!r} is not an int")
    values = tuple(integer(r, f"{name} {what}") for r in values)
    if len(values) != ndim:
        raise ValueError(f"{name} {values} has {len(values)} {plural}; the operation is "
                         f"{ndim}-D: give {ndim}, or one int for every axis")
    return values


def parse_radii(value, name, ndim):
    """patch or search: None (the core's default), one int for every axis,
    or one per axis (slowest first)."""
    return per_axis(NLM_DEFAULTS[name] if value is None else value, name, ndim)


def parse_noise(noise, sigma, h, gain, offset, read_sigma):
    """The noise model's parameters as plain values (None: the core's
    default), with the checks that are the binding's: which arguments go
    with which model."""
    if not isinstance(noise, str):
        raise TypeError(f"noise must be 'gaussian' or 'poisson-gaussian', "
                        f"not {type(noise).__name__} {noise!r}")
    if noise not in C.NOISES:
        raise ValueError(f"noise must be 'gaussian' or 'poisson-gaussian', not {noise!r}")
    given = dict(h=h, gain=gain, offset=offset, read_sigma=read_sigma)
    values = {name: NLM_DEFAULTS[name] if v is None else real(v, name)
              for name, v in given.items()}
    if noise == "gaussian":
        if sigma is None:
            raise ValueError("noise='gaussian' needs sigma=, the standard deviation of the "
                             "noise in the image's units (for fluorescence counts, use "
                             "noise='poisson-gaussian' with gain=, offset=, read_sigma=)")
        sigma = real(sigma, "sigma")
        if any(values[n] != NLM_DEFAULTS[n] for n in ("gain", "offset", "read_sigma")):
            raise ValueError("gain=, offset= and read_sigma= describe "
                             "noise='poisson-gaussian'; Gaussian noise has only sigma=")
    else:
        if sigma is not None:
            raise ValueError("sigma= is the standard deviation of Gaussian noise; with "
                             "noise='poisson-gaussian' give the read noise's as read_sigma= "
                             "(and the camera's gain= and offset=)")
        sigma = 0.0
    return dict(noise=noise, sigma=sigma, **values)


class NlmOptions(Options):
    """The parameters of one denoising, every default resolved."""
    FIELDS = ("ndim", "patch", "search", "noise", "sigma", "h", "gain", "offset",
              "read_sigma")

    def params(self, lead_axis=False):
        """bw_nlm_params; with lead_axis, for a 2-D operation run as a 3-D
        one over a stack of planes (radius 0 along the stack)."""
        lead = (0,) if lead_axis else ()
        patch, search = lead + tuple(self.patch), lead + tuple(self.search)
        p = C.NlmParams()
        C.nlm_params_init(p, len(patch), self.sigma)
        for i, (a, b) in enumerate(zip(patch, search)):
            p.patch[i], p.search[i] = a, b
        p.h = self.h
        p.noise = C.NOISES[self.noise]
        p.gain, p.offset, p.read_sigma = self.gain, self.offset, self.read_sigma
        return p


def nlm_options(x_ndim, sigma, patch, search, h, noise, gain, offset, read_sigma, ndim):
    """Every parameter of nlm_denoise but x, dtype and threads, checked by
    Python and then by the core (bw_nlm_params_check)."""
    k = parse_ndim(ndim, patch, search, x_ndim)
    model = parse_noise(noise, sigma, h, gain, offset, read_sigma)
    opts = NlmOptions(k, parse_radii(patch, "patch", k), parse_radii(search, "search", k),
                      *(model[name] for name in NlmOptions.FIELDS[3:]))
    C.call(C.nlm_params_check, "nlm_denoise", opts.params())
    return opts


def nlm_radii(patch, search, ndim, x_ndim):
    """NlmOptions of the radii alone (for the region map, which depends on
    nothing else), checked by Python; the core checks the ranges."""
    k = parse_ndim(ndim, patch, search, x_ndim)
    return NlmOptions(k, parse_radii(patch, "patch", k), parse_radii(search, "search", k),
                      "gaussian", 1.0, *(NLM_DEFAULTS[n] for n in
                                         ("h", "gain", "offset", "read_sigma")))


# ---------------------------------------------------------------------------
# One channel from many
# ---------------------------------------------------------------------------

class ChannelOptions(Options):
    """The parameters of a channel conversion: the core's operation code
    (bw_channel_op), the channel index of BW_CHANNEL_INDEX, and white."""
    FIELDS = ("op", "index", "white")

    def params(self):
        """bw_channel_params"""
        p = C.ChannelParams()
        C.channel_params_init(p)
        p.op, p.index, p.white = self.op, self.index, self.white
        return p

    @property
    def is_index(self):
        """Whether the output is one input channel as it is."""
        return self.op == C.CHANNEL_INDEX

    def name(self):
        """The operation's name (bw_channel_op_name), or the channel's number."""
        return str(self.index) if self.is_index else C.channel_op_name(self.op).decode()


def channel_options(channel, white, what):
    """ChannelOptions of `channel`: a name the core knows ("luminance",
    "od", "hematoxylin", "eosin", "dab", "r", "g", "b", or a channel
    number; looked up in the core's table, bw_channel_from_name) or an int,
    the index of a channel; white a real number (0: the dtype's largest
    value).  The core checks them against an image's channels
    (check_channels)."""
    p = C.ChannelParams()
    C.channel_params_init(p)
    p.white = real(white, "white")
    if isinstance(channel, str):
        C.call(C.channel_from_name, what, channel.encode("utf-8", "replace"), p)
    elif is_int(channel):
        p.op, p.index = C.CHANNEL_INDEX, integer(channel, "channel", _INT_MAX)
    else:
        raise TypeError(f"channel must be a channel's name (such as 'luminance' or "
                        f"'hematoxylin') or number, not {type(channel).__name__} {channel!r}")
    return ChannelOptions(p.op, p.index, p.white)


def check_channels(opts, channels, what):
    """The core's check of opts for an image of `channels` channels
    (bw_channel_params_check): ValueError with its message."""
    C.call(C.channel_params_check, what, opts.params(), channels)


def check_conversion(opts, channels, in_dtype, out_dtype, what, name="rgb"):
    """The core's check of the conversion opts of pixels of `channels`
    channels of in_dtype to one channel of out_dtype (bw_channel_plan_make:
    the parameters, as check_channels, then the types): ValueError with its
    message, before a pixel is read or a graph is built.  TypeError first
    for a dtype the core has no code for (complex, object, bool, float16,
    64-bit integers; `name` is the input's)."""
    check_dtype(np.dtype(in_dtype), name)
    out_code = dtype_code(np.dtype(out_dtype))
    if out_code is None:
        raise TypeError(f"dtype {np.dtype(out_dtype)} is not one the core writes; supported: "
                        f"{', '.join(SUPPORTED_DTYPES)}")
    plan = (ctypes.c_double * (C.CHANNEL_PLAN_BYTES // 8))()
    C.call(C.channel_plan_make, what, opts.params(), channels, dtype_code(np.dtype(in_dtype)),
           out_code, plan)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def parse_path(path, what):
    """path (a str, bytes or os.PathLike) as an absolute str, so that it
    names the same file on dask workers started elsewhere."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{what}: path must be a file name (str or os.PathLike), not "
                        f"{type(path).__name__} {path!r}") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return os.path.abspath(path)


def parse_level(level):
    """A pyramid level: an int (the TIFF layer checks that it exists)."""
    return integer(level, "level", _INT_MAX)
