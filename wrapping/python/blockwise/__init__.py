"""Blockwise: statistics and Pearson correlation of the non-overlapping
blocks of large 2-D and 3-D images, and their non-local means denoising,
on numpy and dask arrays; whole-slide TIFF files and vendors' slides read
lazily.

    >>> import numpy as np, blockwise
    >>> a = np.arange(40 * 60, dtype=np.uint16).reshape(40, 60)
    >>> blockwise.block_stats(a, (10, 10), "mean").shape
    (4, 6)

Slides and volumes in TIFF files (tiled or striped, pyramids, RGB, JPEG,
planar, multichannel):

    >>> slide = blockwise.open("slide.tif", level=1)          # doctest: +SKIP
    >>> slide                                                 # doctest: +SKIP
    dask.array<blockwise-open, shape=(24000, 32000, 3), dtype=uint8, ...>
    >>> blockwise.info("slide.tif", level=1)["spacing"]       # doctest: +SKIP
    (0.000504, 0.000504)
    >>> h = blockwise.open("slide.tif", 1, channel="hematoxylin")   # doctest: +SKIP
    >>> r = blockwise.block_corr(h, other, (10, 10))          # doctest: +SKIP

open() returns a plain dask array (nothing to unpack), read chunk by chunk
by the streaming reader when computed; what it cannot carry (spacing,
levels, layout) comes from info(), a dict.

The work is done by the Blockwise C core (libblockwise), called through
ctypes with the GIL released, on views of the caller's memory.  Arrays with
more axes than the block (time, channel, ...) are handled in one call: a
(T, C, Z, Y, X) array with a 3-D block gives (T, C, z, y, x) results.
dask arrays give lazy dask results (blockwise.dask).

Functions: block_stats, block_corr, block_output_shape, block_input_region,
local_stats, local_corr, local_output_shape, local_input_region,
block_shift, shift_input_region, nlm_denoise, nlm_input_region,
richardson_lucy, rl_exact_halo, rl_auto_halo, rl_input_region, channel, open,
info; and the
earlier `blockwise` package's names: bw_sum, bw_mean,
bw_std, bw_corrcoef, trim, repeat_block.

Modules, each using only those before it: _core (the library and its ctypes
declarations), _tiff (the TIFF library's, loaded by open and info only),
_args and _args_local (arguments, checked by Python and the core), _split
(views, leading axes, thread shares), _numpy, _nlm, _local, _shift and
_channel (the operations on numpy arrays), _deconv (deconvolution, over its
own library, loaded at the first call), _legacy (the earlier package's
names), _read (TIFF files into numpy arrays), _slide (vendors' whole-slide
files, through python3-openslide), dask and _dask_local (on dask arrays,
and open's lazy arrays).  This module dispatches dask inputs.
"""
import functools
import inspect
import sys

from . import _channel, _core, _deconv, _legacy, _local, _nlm, _numpy, _shift
from ._legacy import repeat_block, trim
from ._local import local_input_region, local_output_shape
from ._nlm import nlm_input_region
from ._numpy import block_input_region, block_output_shape
from ._shift import BlockShift, shift_input_region

__version__ = _core.version
#: Path of the loaded C core library.
library_path = _core.library_path
#: Names of the statistics, in the core's order.
STATS = _core.STATS

# open is left out, so that `from blockwise import *` keeps the builtin open:
# it is blockwise.open.
__all__ = ["block_stats", "block_corr", "block_output_shape", "block_input_region",
           "local_stats", "local_corr", "local_output_shape", "local_input_region",
           "block_shift", "shift_input_region", "BlockShift",
           "nlm_denoise", "nlm_input_region", "richardson_lucy", "rl_exact_halo", "rl_auto_halo",
           "rl_input_region",
           "channel", "info",
           "bw_sum", "bw_mean", "bw_std", "bw_corrcoef", "trim", "repeat_block",
           "STATS", "library_path", "__version__"]


def _is_dask_array(x):
    """True for a dask array (without importing dask when it is not loaded)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, da.Array)


def _dispatching(numpy_function, arrays):
    """numpy_function, except that when one of the arguments named `arrays`
    is a dask array it calls the function of the same name in
    blockwise.dask, which takes the same arguments but threads."""
    signature = inspect.signature(numpy_function)

    @functools.wraps(numpy_function)
    def function(*args, **kwargs):
        try:
            bound = signature.bind_partial(*args, **kwargs)
        except TypeError:
            return numpy_function(*args, **kwargs)  # raises the call's own TypeError
        if not any(_is_dask_array(bound.arguments.get(a)) for a in arrays):
            return numpy_function(*args, **kwargs)
        if bound.arguments.pop("threads", None) is not None:
            raise ValueError("threads= applies to numpy arrays; for dask arrays the "
                             "scheduler decides the parallelism")
        from . import dask
        return getattr(dask, numpy_function.__name__)(*bound.args, **bound.kwargs)

    function.__module__ = __name__  # pickled by reference as blockwise.<name>
    return function


block_stats = _dispatching(_numpy.block_stats, ("x", "y"))
block_corr = _dispatching(_numpy.block_corr, ("x", "y"))
local_stats = _dispatching(_local.local_stats, ("x", "y"))
local_corr = _dispatching(_local.local_corr, ("x", "y"))
block_shift = _dispatching(_shift.block_shift, ("x", "y"))
nlm_denoise = _dispatching(_nlm.nlm_denoise, ("x",))
channel = _dispatching(_channel.channel, ("rgb",))

# The names of the earlier Python package `blockwise` (per-block sum, mean,
# std and Pearson r over every axis, ragged edges trimmed), over
# block_stats, which dispatches dask arrays itself.
# Deconvolution: its library (FFTW) is loaded at the first call.
richardson_lucy = _dispatching(_deconv.richardson_lucy, ("image",))
rl_exact_halo = _deconv.rl_exact_halo
rl_exact_halo.__module__ = __name__
rl_auto_halo = _deconv.rl_auto_halo
rl_auto_halo.__module__ = __name__
rl_input_region = _deconv.rl_input_region
rl_input_region.__module__ = __name__

bw_sum = _legacy.bw_sum
bw_mean = _legacy.bw_mean
bw_std = _legacy.bw_std
bw_corrcoef = _legacy.bw_corrcoef


# Hides the builtin open in this module, which does not use that.
def open(path, level=0, channel=None, *, white=0, chunk_bytes=None):
    """A TIFF file's or a whole slide's image at pyramid level `level`, as a
    lazy dask array.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF file: strips or tiles, any compression this libtiff decodes
        (JPEG, Deflate, LZW, ZSTD, ...), classic or BigTIFF; grey, RGB(A),
        YCbCr JPEG (as RGB), palette, or channels of their own; pixel-
        interleaved or planar; pages of one size form a volume (Z).
        Or a whole slide in a vendor's format (.svs, .ndpi, .mrxs, .scn,
        .bif, .vms, .vmu, in any case: the command's list), read through
        OpenSlide's Python binding (Debian's python3-openslide; ImportError
        naming it when it is missing): 8-bit RGB composited on the slide's
        background colour, the same pixels the command reads (see
        blockwise._slide).
    level : int
        Pyramid level: 0 the image itself, 1 the largest reduced copy, and
        so on, largest first (reduced pages in the chain, as vips writes
        them, or SubIFDs, as OME-TIFF and tifffile do).  info(path) lists
        them.
    channel : None, str or int
        None: every channel, as stored.  A name or number: one channel per
        pixel, computed per chunk by the core's conversion (see
        blockwise.channel): "luminance", "od", "hematoxylin", "eosin",
        "dab", "r", "g", "b", a channel's number (read alone: a planar
        file reads only its planes), or the name an OME-TIFF gives a
        channel ("DAPI"; any case; info() lists them as channel_names).
        A TIFF file's reader converts while it decodes
        (bw_tiff_read_channel), so a chunk never holds the channels it is
        made of; a slide's chunk is converted from its RGB.
    white : float
        The white level of the optical densities (see blockwise.channel);
        0 for the dtype's largest value.
    chunk_bytes : int, optional
        Least bytes of decoded pixels per chunk (16 MiB by default).

    Returns
    -------
    A dask.array.Array: shape (Y, X) or (Z, Y, X) for one channel (and for
    any channel=), (Y, X, C) or (Z, Y, X, C) for several; the file's dtype
    (float32 for the colour conversions).  Chunks follow the file's strips
    and tiles (rows in multiples of its band unit, whole width, tile-aligned
    columns for very wide tiled files, whole pages of volumes) so that each
    strip or tile is decoded by one task.  Nothing is read until computed;
    computing part of it (a slice) reads only the chunks the part meets.
    Each task opens the file itself and holds only its path, the level and
    its region: the graph pickles, and dask.distributed workers read the
    file (the same path must name it there).  Reads release the GIL.

    The spacing (mm per pixel; whether the file states it), the levels and
    the layout: info(path, level).

    Raises ValueError with the TIFF layer's message (OpenSlide's, for a
    slide: when the slide is opened, or when a chunk it cannot decode is
    computed) for a missing or unreadable file or a level that does not
    exist, and with the core's for a channel the file does not have
    (TypeError for a pixel format the reader does not read, and for
    arguments of the wrong kind).

    See also: info, channel, blockwise.dask.open.
    """
    from . import dask
    return dask.open(path, level, channel, white=white, chunk_bytes=chunk_bytes)


def info(path, level=0):
    """What a TIFF file holds, as open(path, level) reads it: a dict of

    path (absolute), level, shape (of open(path, level): channels last
    when there are several), axes ("YX", "YXC", "ZYX", "ZYXC"), dtype (a
    numpy dtype), spacing (per spatial axis, (Z,) Y, X, in millimetres:
    level 0's times the level's reduction), channels (a count), color
    ("grey", "RGB", "RGBA" or "channels"), alpha (the last channel is
    alpha), photometric (as stored: "min-is-black", "RGB", "YCbCr",
    "palette", ...), planar, bits_per_sample (as stored), levels (a list,
    largest first, of dicts with shape, spacing and downsample: level 0's
    pixels per pixel of the level), compression ("none", "jpeg",
    "deflate", ...), tiled, tile ((length, width) or None), rows_per_strip
    (None for tiles), band_unit (the rows open aligns its chunks to),
    bigtiff, byte_order ("little" or "big").

    Of a whole-slide file (the extensions open reads through OpenSlide):
    the same keys, those that only a TIFF file has (photometric,
    compression, rows_per_strip, band_unit, bigtiff, byte_order) None; tile
    the level's tile (height, width) when OpenSlide states it; spacing
    from openslide.mpp-x and -y; and also background (the (R, G, B) the
    slide is composited on).  Both kinds also give spacing_stated (False
    when the file states no physical spacing: spacing is then 1 per
    pixel, or ratios without a unit), spacing_source ("resolution tags",
    "ImageJ", "OME-XML", "Blockwise", "OpenSlide" or "none"), format
    ("tiff" or "openslide") and vendor (OpenSlide's, such as "aperio";
    None for TIFF files).

    Raises as open does.
    """
    from . import _slide
    if _slide.is_slide_path(path):
        return _slide.info(path, level)
    from . import _read
    return _read.info(path, level)
