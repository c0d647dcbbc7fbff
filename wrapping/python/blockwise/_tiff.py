"""Loading of the TIFF library (libblockwise_tiff) and its ctypes
declarations: the streaming reader of include/bw_tiff.h.

Imported only when a file is opened (blockwise.open, blockwise.info), so
that the core's functions work where the TIFF library is not installed.
The library is looked up as the core is (blockwise._core):

1. the file named by the environment variable ``BLOCKWISE_TIFF_LIBRARY``;
2. next to this package (the build tree stages it there, and an installed
   package carries it along);
3. in the default build folder of a source checkout (``build/io``);
4. through the system loader (an installed ``libblockwise_tiff.so.0``).

The TIFF library links to the core (libblockwise.so.0); the core loaded by
blockwise._core is loaded first, so the dynamic loader gives the TIFF
library that same copy (it matches the already loaded library by its
soname) rather than another one.

Every function is declared through ``ctypes.CDLL``, which releases the GIL
for the whole of each call: reads (the decoding of strips and tiles) run in
parallel on dask's threads.  A reader serves one thread at a time.
"""
import ctypes

from . import _core as C

lib, library_path = C.load_library(
    "blockwise_tiff", "BLOCKWISE_TIFF_LIBRARY", "io", "the TIFF library",
    "Build it with `cmake --build BUILD --target blockwise_python` (which stages it next "
    "to the package in BUILD/python), or set BLOCKWISE_TIFF_LIBRARY to its path.")
_declare = C.declarer(lib, library_path)

_Int64x3 = ctypes.c_int64 * 3
_Doublex3 = ctypes.c_double * 3

#: bw_tiff_color, by the names blockwise.info gives (those of `blockwise info`).
COLORS = ("grey", "RGB", "RGBA", "channels")


class Info(ctypes.Structure):
    """bw_tiff_info, as include/bw_tiff.h declares it, up to
    `spacing_source`.

    Only a prefix: fields may be appended to the C struct after it (OME
    metadata, ...) without breaking this declaration,
    because the binding never allocates a bw_tiff_info nor copies one by
    value: it only reads the fields below through the pointer that
    bw_tiff_reader_info() returns, into the library's own struct, whose
    first fields keep these offsets.  Fields inserted or reordered before
    `spacing_source` would break it: the C struct only grows at its end."""
    _fields_ = [("dtype", ctypes.c_int),
                ("ndim", ctypes.c_int),
                ("shape", _Int64x3),
                ("spacing", _Doublex3),
                ("tiled", ctypes.c_int),
                ("tile_width", ctypes.c_uint32),
                ("tile_length", ctypes.c_uint32),
                ("rows_per_strip", ctypes.c_uint32),
                ("compression", ctypes.c_int),
                ("compression_name", ctypes.c_char_p),
                ("bigtiff", ctypes.c_int),
                ("big_endian", ctypes.c_int),
                ("channels", ctypes.c_int),
                ("color", ctypes.c_int),
                ("alpha", ctypes.c_int),
                ("planar", ctypes.c_int),
                ("bits_per_sample", ctypes.c_int),
                ("photometric_name", ctypes.c_char_p),
                ("levels", ctypes.c_int),
                ("level", ctypes.c_int),
                ("spacing_stated", ctypes.c_int),
                ("spacing_source", ctypes.c_char_p)]


class Level(ctypes.Structure):
    """bw_tiff_level (allocated here: the whole struct)."""
    _fields_ = [("shape", _Int64x3),
                ("spacing", _Doublex3),
                ("downsample", ctypes.c_double)]


class Counters(ctypes.Structure):
    """bw_tiff_counters"""
    _fields_ = [("bytes_read", ctypes.c_uint64),
                ("chunks_decoded", ctypes.c_uint64)]


_P = ctypes.POINTER
#: bw_tiff_reader *, an opaque handle.
ReaderP = ctypes.c_void_p

open_level = _declare("bw_tiff_open_level", ctypes.c_int,
                      ctypes.c_char_p, ctypes.c_int, _P(ReaderP), _P(C.Error))
reader_info = _declare("bw_tiff_reader_info", _P(Info), ReaderP)
reader_level = _declare("bw_tiff_reader_level", ctypes.c_int,
                        ReaderP, ctypes.c_int, _P(Level), _P(C.Error))
read_channels = _declare("bw_tiff_read_channels", ctypes.c_int,
                         ReaderP, _P(C.Region), ctypes.c_int, ctypes.c_int, _P(C.View),
                         _P(C.Error))
read_channel = _declare("bw_tiff_read_channel", ctypes.c_int,
                        ReaderP, _P(C.Region), _P(C.ChannelParams), _P(C.View), _P(C.Error))
band_unit = _declare("bw_tiff_band_unit", ctypes.c_int64, ReaderP, ctypes.c_int)
channel_name = _declare("bw_tiff_channel_name", ctypes.c_char_p, ReaderP, ctypes.c_int)
reader_counters = _declare("bw_tiff_reader_counters", None, ReaderP, _P(Counters))
reader_trim = _declare("bw_tiff_reader_trim", None, ReaderP)
close = _declare("bw_tiff_close", None, ReaderP)
