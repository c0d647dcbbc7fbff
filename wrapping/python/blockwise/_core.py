"""Loading of the C core (libblockwise) and its ctypes declarations.

The library is looked up, in this order:

1. the file named by the environment variable ``BLOCKWISE_LIBRARY``;
2. next to this package (the build tree stages it there, and an installed
   package carries it along);
3. in the default build folder of a source checkout (``build/filters`` of the
   repository holding ``wrapping/python/blockwise``);
4. through the system loader (an installed ``libblockwise.so.0``).

Every function is declared through ``ctypes.CDLL``, which releases the GIL
for the whole duration of each call.  Pointer arguments take the structures
themselves (ctypes passes their address) or None for NULL.

Besides the declarations: the enumerations the binding spells by name
(dtypes, edges, noise models), the statistics' names as the core lists them
(STATS), small converters to the core's arrays and regions, and call(),
which turns a failing status into a Python exception.  load_library() and
declarer() serve the TIFF library's bindings (_tiff) too, which are loaded
only when a file is opened.
"""
import ctypes
import ctypes.util
import os
import sys

MAX_DIMS = 3

# bw_status
OK = 0
ERR_NULL, ERR_DTYPE, ERR_NDIM, ERR_SHAPE, ERR_BLOCK, ERR_PARAM, ERR_OUTPUT, \
    ERR_REGION, ERR_NOMEM, ERR_RANGE, ERR_IO, ERR_UNSUPPORTED = range(1, 13)

# bw_dtype codes by numpy's one-letter kind and item size.
DTYPES = {
    ("u", 1): 1, ("i", 1): 2, ("u", 2): 3, ("i", 2): 4,
    ("u", 4): 5, ("i", 4): 6, ("f", 4): 7, ("f", 8): 8,
}

# bw_edge
EDGES = {"partial": 0, "trim": 1}

_Shape = ctypes.c_ssize_t * MAX_DIMS


class View(ctypes.Structure):
    """bw_view"""
    _fields_ = [("data", ctypes.c_void_p),
                ("dtype", ctypes.c_int),
                ("ndim", ctypes.c_int),
                ("shape", _Shape),
                ("strides", _Shape)]


class Region(ctypes.Structure):
    """bw_region"""
    _fields_ = [("start", _Shape),
                ("size", _Shape)]


class Error(ctypes.Structure):
    """bw_error"""
    _fields_ = [("status", ctypes.c_int),
                ("message", ctypes.c_char * 256)]


class BlockParams(ctypes.Structure):
    """bw_block_params"""
    _fields_ = [("ndim", ctypes.c_int),
                ("block", _Shape),
                ("edge", ctypes.c_int),
                ("ddof", ctypes.c_int),
                ("use_fill", ctypes.c_int),
                ("fill", ctypes.c_double)]


class BlockOutput(ctypes.Structure):
    """bw_block_output"""
    _fields_ = [("stat", ctypes.c_int),
                ("input", ctypes.c_int),
                ("view", View)]


# bw_nlm_noise, by the names the command line uses (--noise).
NOISES = {"gaussian": 0, "poisson-gaussian": 1}


class NlmParams(ctypes.Structure):
    """bw_nlm_params"""
    _fields_ = [("ndim", ctypes.c_int),
                ("patch", _Shape),
                ("search", _Shape),
                ("h", ctypes.c_double),
                ("noise", ctypes.c_int),
                ("sigma", ctypes.c_double),
                ("gain", ctypes.c_double),
                ("offset", ctypes.c_double),
                ("read_sigma", ctypes.c_double)]


class ChannelParams(ctypes.Structure):
    """bw_channel_params"""
    _fields_ = [("op", ctypes.c_int),
                ("index", ctypes.c_int),
                ("white", ctypes.c_double)]


#: bw_channel_op BW_CHANNEL_INDEX: one input channel as it is.
CHANNEL_INDEX = 0


class LocalParams(ctypes.Structure):
    """bw_local_params (bw_local.h)"""
    _fields_ = [("ndim", ctypes.c_int),
                ("radius", _Shape),
                ("step", _Shape),
                ("ddof", ctypes.c_int),
                ("use_fill", ctypes.c_int),
                ("fill", ctypes.c_double)]


class LocalOutput(ctypes.Structure):
    """bw_local_output (bw_local.h)"""
    _fields_ = [("stat", ctypes.c_int),
                ("input", ctypes.c_int),
                ("view", View)]


class ShiftParams(ctypes.Structure):
    """bw_shift_params (bw_shift.h)"""
    _fields_ = [("ndim", ctypes.c_int),
                ("block", _Shape),
                ("search", _Shape),
                ("use_fill", ctypes.c_int),
                ("fill", ctypes.c_double)]


class ShiftOutputs(ctypes.Structure):
    """bw_shift_outputs (bw_shift.h): views with data None are not wanted."""
    _fields_ = [("shift", View * MAX_DIMS),
                ("peak", View),
                ("zero", View)]


def library_names(stem):
    """The file names a shared library `stem` ("blockwise") has on this
    platform: unversioned, then versioned (its soname)."""
    names = {"linux": [f"lib{stem}.so", f"lib{stem}.so.0"],
             "darwin": [f"lib{stem}.dylib", f"lib{stem}.0.dylib"],
             "win32": [f"{stem}.dll", f"lib{stem}.dll"]}
    return names.get(sys.platform, names["linux"])


def load_library(stem, env_var, build_folder, description, hint):
    """(ctypes.CDLL, path) of the shared library `stem`, looked up as the
    module's docstring says: the file in the environment variable env_var
    (then nothing else), next to this package, in BUILD/build_folder of a
    source checkout, through the system loader.  ImportError listing what
    was tried, ending with `hint`, when none loads."""
    names = library_names(stem)
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ.get(env_var)
    if env:
        paths, explicit = [env], True  # an explicit choice: nothing else is tried
    else:
        paths, explicit = [os.path.join(here, n) for n in names], False
        # A source checkout: <repo>/wrapping/python/blockwise -> <repo>/build/...
        repo = os.path.dirname(os.path.dirname(os.path.dirname(here)))
        if os.path.isfile(os.path.join(repo, "include", "blockwise.h")):
            paths += [os.path.join(repo, "build", build_folder, n) for n in names]
    tried = []
    for path in paths:
        if explicit or os.path.isfile(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as e:
                tried.append(f"{path}: {e}")
        else:
            tried.append(f"{path}: not found")
    if not explicit:
        found = ctypes.util.find_library(stem)
        if found:
            try:
                return ctypes.CDLL(found), found
            except OSError as e:
                tried.append(f"{found}: {e}")
        else:
            tried.append(f"system loader: no lib{stem}")
    raise ImportError(f"blockwise: cannot load {description} (lib{stem}). {hint} "
                      f"Tried: " + "; ".join(tried))


def declarer(library, path):
    """A function declare(name, restype, *argtypes) that returns the
    function `name` of `library` (loaded from `path`) with its types set,
    or raises ImportError when the library has no such function."""
    def declare(name, restype, *argtypes):
        try:
            f = getattr(library, name)
        except AttributeError:
            raise ImportError(f"blockwise: {path} has no function {name}: it is not the "
                              "Blockwise library it should be, or a different version") from None
        f.restype = restype
        f.argtypes = argtypes
        return f
    return declare


lib, library_path = load_library(
    "blockwise", "BLOCKWISE_LIBRARY", "filters", "the C core library",
    "Build it with `cmake --build BUILD --target blockwise_python` and use the package "
    "staged in BUILD/python, or set BLOCKWISE_LIBRARY to the library's path.")
_declare = declarer(lib, library_path)


_P = ctypes.POINTER
_Sizes = _P(ctypes.c_ssize_t)
status_string = _declare("bw_status_string", ctypes.c_char_p, ctypes.c_int)
version_string = _declare("bw_version_string", ctypes.c_char_p)
view_subview = _declare("bw_view_subview", ctypes.c_int,
                        _P(View), _P(Region), _P(View), _P(Error))

stat_name = _declare("bw_stat_name", ctypes.c_char_p, ctypes.c_int)
stat_from_name = _declare("bw_stat_from_name", ctypes.c_int,
                          ctypes.c_char_p, _P(ctypes.c_int), _P(Error))
stat_is_pair = _declare("bw_stat_is_pair", ctypes.c_int, ctypes.c_int)
block_params_init = _declare("bw_block_params_init", None,
                             _P(BlockParams), ctypes.c_int, _Sizes)
block_params_check = _declare("bw_block_params_check", ctypes.c_int,
                              _P(BlockParams), _P(Error))
block_output_shape = _declare("bw_block_output_shape", ctypes.c_int,
                              _P(BlockParams), _Sizes, _Sizes, _P(Error))
block_input_region = _declare("bw_block_input_region", ctypes.c_int,
                              _P(BlockParams), _Sizes, _P(Region), _P(Region), _P(Error))
block_output_region = _declare("bw_block_output_region", ctypes.c_int,
                               _P(BlockParams), _Sizes, _P(Region), _P(Region), _P(Error))
block_stats = _declare("bw_block_stats", ctypes.c_int,
                       _P(View), _P(View), _P(BlockParams), _P(BlockOutput),
                       ctypes.c_size_t, _P(Error))

nlm_params_init = _declare("bw_nlm_params_init", None,
                           _P(NlmParams), ctypes.c_int, ctypes.c_double)
nlm_params_check = _declare("bw_nlm_params_check", ctypes.c_int, _P(NlmParams), _P(Error))
nlm_halo = _declare("bw_nlm_halo", ctypes.c_int, _P(NlmParams), _Sizes, _Sizes, _P(Error))
nlm_input_region = _declare("bw_nlm_input_region", ctypes.c_int,
                            _P(NlmParams), _Sizes, _P(Region), _P(Region), _P(Error))
nlm = _declare("bw_nlm", ctypes.c_int,
               _P(View), _Sizes, _P(View), _Sizes, _Sizes, _P(NlmParams), _P(Error))

channel_params_init = _declare("bw_channel_params_init", None, _P(ChannelParams))
channel_from_name = _declare("bw_channel_from_name", ctypes.c_int,
                             ctypes.c_char_p, _P(ChannelParams), _P(Error))
channel_op_name = _declare("bw_channel_op_name", ctypes.c_char_p, ctypes.c_int)
channel_params_check = _declare("bw_channel_params_check", ctypes.c_int,
                                _P(ChannelParams), ctypes.c_int, _P(Error))
channel_input_region = _declare("bw_channel_input_region", ctypes.c_int,
                                ctypes.c_int, _Sizes, _P(Region), _P(Region), _P(Error))
channel_convert = _declare("bw_channel_convert", ctypes.c_int,
                           _P(ChannelParams), ctypes.c_int, _P(View), _P(View), _P(Error))
# bw_channel_plan_make(params, channels, in, out, plan, err).  The binding
# makes a plan only to ask the core whether a conversion between two types
# is valid (its check of parameters and types, with its message); it never
# reads a plan's fields, which are the implementation's, so the plan is
# opaque memory of CHANNEL_PLAN_BYTES (the struct takes about 6.3 KB).
channel_plan_make = _declare("bw_channel_plan_make", ctypes.c_int,
                             _P(ChannelParams), ctypes.c_int, ctypes.c_int, ctypes.c_int,
                             ctypes.c_void_p, _P(Error))
CHANNEL_PLAN_BYTES = 1 << 15

local_params_init = _declare("bw_local_params_init", None, _P(LocalParams), ctypes.c_int, _Sizes)
local_stat_supported = _declare("bw_local_stat_supported", ctypes.c_int, ctypes.c_int)
local_params_check = _declare("bw_local_params_check", ctypes.c_int,
                              _P(LocalParams), _P(Error))
local_output_shape = _declare("bw_local_output_shape", ctypes.c_int,
                              _P(LocalParams), _Sizes, _Sizes, _P(Error))
local_halo = _declare("bw_local_halo", ctypes.c_int,
                      _P(LocalParams), _Sizes, _Sizes, _P(Error))
local_input_region = _declare("bw_local_input_region", ctypes.c_int,
                              _P(LocalParams), _Sizes, _P(Region), _P(Region), _P(Error))
# bw_local_stats(a, b, in_start, image_shape, params, outputs, n_outputs,
#                out_start, err)
local_stats = _declare("bw_local_stats", ctypes.c_int,
                       _P(View), _P(View), _Sizes, _Sizes, _P(LocalParams),
                       _P(LocalOutput), ctypes.c_size_t, _Sizes, _P(Error))

shift_params_init = _declare("bw_shift_params_init", None,
                             _P(ShiftParams), ctypes.c_int, _Sizes, _Sizes)
shift_params_check = _declare("bw_shift_params_check", ctypes.c_int,
                              _P(ShiftParams), _P(Error))
shift_output_shape = _declare("bw_shift_output_shape", ctypes.c_int,
                              _P(ShiftParams), _Sizes, _Sizes, _P(Error))
shift_input_region = _declare("bw_shift_input_region", ctypes.c_int,
                              _P(ShiftParams), _Sizes, _P(Region), _P(Region), _P(Region),
                              _P(Error))
# bw_block_shift(a, a_start, b, b_start, image_shape, params, out, out_start, err)
block_shift = _declare("bw_block_shift", ctypes.c_int,
                       _P(View), _Sizes, _P(View), _Sizes, _Sizes, _P(ShiftParams),
                       _P(ShiftOutputs), _Sizes, _P(Error))

version = version_string().decode("ascii")


def _stat_names():
    names, code = [], 0
    while stat_is_pair(code) >= 0:
        names.append(stat_name(code).decode("ascii"))
        code += 1
    return tuple(names)


#: The statistics' short names (bw_stat_name), in the core's order.
STATS = _stat_names()


def sizes(values):
    """A ctypes array of MAX_DIMS ptrdiff_t holding `values` (then zeros)."""
    return (ctypes.c_ssize_t * MAX_DIMS)(*values)


def region(start, size):
    """bw_region of the boxes (start, size), one entry per axis."""
    r = Region()
    for i, (s, n) in enumerate(zip(start, size)):
        r.start[i], r.size[i] = s, n
    return r


def box(r, k):
    """(start, size) of the first k axes of bw_region r, as tuples."""
    return tuple(r.start[:k]), tuple(r.size[:k])


def raise_for(status, err, what):
    """Raises the Python exception for a core status: TypeError for a
    dtype, MemoryError for memory, ValueError for everything else; the
    message is `what`, then the core's own."""
    message = err.message.decode("utf-8", "replace") or status_string(status).decode()
    # The core names its operation too ("channel: dst is i8 ..."): once.
    text = message if message.startswith(f"{what}: ") else f"{what}: {message}"
    if status == ERR_DTYPE:
        raise TypeError(text)
    if status == ERR_NOMEM:
        raise MemoryError(text)
    raise ValueError(text)


def call(function, what, *args):
    """Calls a fallible core function with `args` and a bw_error, and raises
    (raise_for) when it fails."""
    err = Error()
    status = function(*args, err)
    if status:
        raise_for(status, err, what)
