"""Reading TIFF files through the streaming reader (libblockwise_tiff), into
numpy arrays: what the file holds (info), regions of one level (Reader,
read_region, the function dask tasks run), and the chunks that fit the
file's strips and tiles (plan_chunks).

Arrays are in C order with the channels last: (Y, X) or (Z, Y, X) for one
channel, (Y, X, C) or (Z, Y, X, C) for several, so that colour images look
as tifffile and PIL give them.  A channel conversion (ChannelOptions) makes
one channel per pixel: a channel taken as it is reads only that channel
(only its planes, in a planar file); the colour operations are done by the
reader while it decodes (bw_tiff_read_channel: each strip or tile
converted as it is copied out), so that no buffer of every channel of the
region is ever made; the values are those bw_tiff_read_channels followed
by bw_channel_convert give, bit for bit.
"""
import math
import os

import numpy as np

from . import _args as A
from . import _channel as K
from . import _core as C
from . import _split as S
from . import _tiff as T

#: Bytes a chunk of blockwise.open holds at least (blockwise._args').
CHUNK_BYTES = A.CHUNK_BYTES

_NUMPY_DTYPES = {code: np.dtype(f"{kind}{size}") for (kind, size), code in C.DTYPES.items()}


channel_name_of = T.channel_name


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else None


class Reader:
    """One level of a TIFF file open for reading (a bw_tiff_reader).  One
    thread at a time; close() (or a with block) frees it.

    meta holds what bw_tiff_reader_info() says, as Python values: dtype (a
    numpy dtype), ndim (2 or 3 spatial axes), shape and spacing (those
    axes, C order; spacing in mm), channels, color, alpha, planar,
    bits_per_sample, photometric, tiled, tile ((length, width) or None),
    rows_per_strip, compression, bigtiff, big_endian, levels, level,
    spacing_stated, spacing_source."""

    def __init__(self, path, level=0, what="open"):
        self._handle = None
        handle = T.ReaderP()
        err = C.Error()
        status = T.open_level(os.fsencode(path), level, handle, err)
        if status:
            # The file's name is this layer's context, unless the message has it.
            named = os.fsencode(path) in err.message
            C.raise_for(status, err, what if named else f"{what}: {path}")
        self._handle = handle
        self.path = path
        info = T.reader_info(handle).contents
        k = info.ndim
        self.meta = dict(
            dtype=_NUMPY_DTYPES[info.dtype], ndim=k, shape=tuple(info.shape[:k]),
            spacing=tuple(info.spacing[:k]), channels=info.channels,
            color=T.COLORS[info.color] if 0 <= info.color < len(T.COLORS) else "channels",
            alpha=bool(info.alpha), planar=bool(info.planar),
            bits_per_sample=info.bits_per_sample, photometric=_text(info.photometric_name),
            tiled=bool(info.tiled),
            tile=(info.tile_length, info.tile_width) if info.tiled else None,
            rows_per_strip=None if info.tiled else info.rows_per_strip,
            compression=_text(info.compression_name), bigtiff=bool(info.bigtiff),
            big_endian=bool(info.big_endian), levels=info.levels, level=info.level,
            spacing_stated=bool(info.spacing_stated), spacing_source=_text(info.spacing_source))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def close(self):
        if self._handle is not None:
            T.close(self._handle)
            self._handle = None

    def _open_handle(self):
        if self._handle is None:
            raise ValueError(f"the reader of {self.path} is closed")
        return self._handle

    def level(self, k, what="level"):
        """(shape, spacing, downsample) of level k of the file (spatial axes)."""
        out = T.Level()
        C.call(T.reader_level, what, self._open_handle(), k, out)
        n = self.meta["ndim"]
        return tuple(out.shape[:n]), tuple(out.spacing[:n]), out.downsample

    def channel_names(self):
        """The names the file gives its channels (OME-XML), or None when it
        names none; "" for a channel it leaves unnamed."""
        names = [_text(channel_name_of(self._handle, c)) for c in range(self.meta["channels"])]
        return [n or "" for n in names] if any(names) else None

    def named_channel(self, channel):
        """The index of the channel the file names `channel` (any case), or
        `channel` as it is when no channel has that name."""
        names = self.channel_names() or []
        for c, n in enumerate(names):
            if n and isinstance(channel, str) and n.casefold() == channel.casefold():
                return c
        return channel

    def band_unit(self, axis):
        """bw_tiff_band_unit: rows (axis ndim - 2) or pages (axis 0 of a
        volume) to which bands of reads should be aligned."""
        return int(T.band_unit(self._open_handle(), axis))

    def counters(self):
        """(bytes read from the file, strips or tiles decoded) so far."""
        c = T.Counters()
        T.reader_counters(self._open_handle(), c)
        return c.bytes_read, c.chunks_decoded

    def read(self, start, size, first=0, count=None, out=None, what="read"):
        """Channels [first, first + count) (all by default) of the region
        (start, size) of the spatial axes, into `out` or a new array of
        shape size + (count,) (size alone for one channel), the file's
        dtype.  `out` may have any strides."""
        handle = self._open_handle()
        meta = self.meta
        if count is None:
            count = meta["channels"] - first
        shape = tuple(size) + ((count,) if count > 1 else ())
        if out is None:
            out = np.empty(shape, dtype=meta["dtype"])
        elif out.shape != shape or out.dtype != meta["dtype"]:
            raise ValueError(f"{what}: out has shape {out.shape} and dtype {out.dtype}; "
                             f"expected {shape} and {meta['dtype']}")
        if out.size == 0:
            return out
        code = A.dtype_code(meta["dtype"])
        planes = [out[..., c] for c in range(count)] if count > 1 else [out]
        views = (C.View * count)(*(S.view(p, code) for p in planes))
        C.call(T.read_channels, what, handle, C.region(start, size), first, count, views)
        return out

    def read_channel(self, start, size, opts, out=None, what="read"):
        """The one channel opts (checked ChannelOptions) makes of each pixel
        of the region (start, size) of the spatial axes, converted by the
        reader while it decodes (bw_tiff_read_channel), into `out` or a new
        array of shape size and the conversion's dtype (out_dtype).  `out`
        may have any strides, and float32 or float64 (or the file's dtype
        with a channel index)."""
        handle = self._open_handle()
        if out is None:
            out = np.empty(tuple(size), dtype=out_dtype(self.meta, opts))
        elif out.shape != tuple(size):
            raise ValueError(f"{what}: out has shape {out.shape}; expected {tuple(size)}")
        code = A.dtype_code(out.dtype)
        if code is None:
            raise TypeError(f"{what}: out has dtype {out.dtype}, which the core does not write")
        if out.size == 0:
            return out
        C.call(T.read_channel, what, handle, C.region(start, size), opts.params(),
               S.view(out, code))
        return out


def array_shape(spatial, channels):
    """The array shape of an image of `channels` channels: the spatial axes,
    then the channels when there are several."""
    return tuple(spatial) + ((channels,) if channels > 1 else ())


def axes(ndim, channels):
    """"YX", "YXC", "ZYX" or "ZYXC"."""
    return ("ZYX" if ndim == 3 else "YX") + ("C" if channels > 1 else "")


def info(path, level=0):
    """What the TIFF file at `path` holds at pyramid level `level`: see
    blockwise.info."""
    path = A.parse_path(path, "info")
    level = A.parse_level(level)
    with Reader(path, level, "info") as r:
        m = r.meta
        channels = m["channels"]
        levels = []
        for k in range(m["levels"]):
            shape, spacing, downsample = r.level(k, "info")
            levels.append(dict(shape=array_shape(shape, channels), spacing=spacing,
                               downsample=downsample))
        return dict(
            path=path, level=m["level"], shape=array_shape(m["shape"], channels),
            axes=axes(m["ndim"], channels), dtype=m["dtype"], spacing=m["spacing"],
            channels=channels, color=m["color"], alpha=m["alpha"],
            photometric=m["photometric"], planar=m["planar"],
            bits_per_sample=m["bits_per_sample"], levels=levels,
            compression=m["compression"], tiled=m["tiled"], tile=m["tile"],
            rows_per_strip=m["rows_per_strip"], band_unit=r.band_unit(m["ndim"] - 2),
            bigtiff=m["bigtiff"], byte_order="big" if m["big_endian"] else "little",
            channel_names=r.channel_names(), spacing_stated=m["spacing_stated"],
            spacing_source=m["spacing_source"], format="tiff", vendor=None)


def out_dtype(meta, opts):
    """The dtype of what read_region gives: the file's, or float32 for a
    colour operation."""
    return K.out_dtype(opts, None, meta["dtype"]) if opts is not None else meta["dtype"]


def out_shape(meta, opts):
    """The array shape of a whole level as read_region gives it."""
    return array_shape(meta["shape"], meta["channels"] if opts is None else 1)


def read_region(path, level, start, size, opts):
    """The region (start, size) of the spatial axes of level `level` of the
    file: all its channels (opts None; channels last when there are
    several), or the one channel opts (checked ChannelOptions) makes of
    them: a channel taken as it is read alone, a colour operation done by
    the reader as it decodes (Reader.read_channel), never holding the
    region's channels.  Opens a reader of its own: tasks of blockwise.open
    call this, one reader per task, so that any number run at once."""
    with Reader(path, level, "open") as r:
        if opts is None:
            return r.read(start, size, what="open")
        if opts.is_index:
            return r.read(start, size, opts.index, 1, what="open")
        return r.read_channel(start, size, opts, what="open")


def _round_up(n, unit):
    return -(-n // unit) * unit


def _pieces(n, step):
    """Extents of the chunks of an axis of n cut every `step`."""
    step = max(1, min(step, n))
    return (step,) * (n // step) + ((n % step,) if n % step else ())


def plan_chunks(reader, target=CHUNK_BYTES):
    """dask chunks of the spatial axes of the reader's level, each holding
    about `target` bytes of decoded pixels (all the file's channels) or
    more, with edges where the file's strips and tiles have theirs:

    - rows in multiples of the band unit (bw_tiff_band_unit: tiles' or
      compressed strips' rows; any row for uncompressed strips), full
      width; so each strip or tile is decoded by one task only;
    - columns too, in multiples of the tile width, for tiled files so wide
      that one row of tiles holds more than twice `target`;
    - in a volume, whole pages, several per chunk when a page is smaller
      than `target`, else one page cut into rows as above.
    """
    m = reader.meta
    shape = m["shape"]
    k = m["ndim"]
    bpp = m["channels"] * m["dtype"].itemsize
    ny, nx = shape[-2:]
    row_bytes = max(1, nx * bpp)
    chunks = []
    if k == 3:
        page_bytes = row_bytes * ny
        if page_bytes < target:
            pages = _round_up(math.ceil(target / page_bytes), max(1, reader.band_unit(0)))
            return (_pieces(shape[0], pages), (ny,), (nx,))
        chunks.append((1,) * shape[0])
    unit = max(1, reader.band_unit(k - 2))
    rows = min(ny, _round_up(math.ceil(target / row_bytes), unit))
    cols = nx
    if m["tiled"] and unit * row_bytes > 2 * target:
        cols = min(nx, _round_up(math.ceil(target / (rows * bpp)), m["tile"][1]))
    chunks += [_pieces(ny, rows), _pieces(nx, cols)]
    return tuple(chunks)
