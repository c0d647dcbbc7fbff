"""Whole-slide files in the vendors' formats (Aperio .svs, Hamamatsu .ndpi,
.vms and .vmu, 3DHISTECH .mrxs, Leica .scn, Ventana .bif) read through
OpenSlide's Python binding (Debian's python3-openslide, imported on first
use), into numpy arrays: what a slide holds (info), regions of one level
(read_region, which the tasks of blockwise.open run) and the chunks that
fit its tiles (plan_chunks).

The pixels are those the command reads through its OpenSlide ImageIO
(src/itkBlockwiseOpenSlideImageIO.cxx), bit for bit, by the same steps:

- a region of level k is read in bands of at most 2**22 pixels (the
  ImageIO's bands), each with OpenSlide.read_region from the nearest pixel
  at or above and left of the band whose level-0 coordinates,
  llround(start * downsample), map back to it within 1/512 of a pixel
  (OpenSlide resamples a level by the fraction left over, so reads that
  start elsewhere at a level whose downsample is not a whole number give
  other values than a read of the whole level), then cut to the band;
- OpenSlide gives premultiplied ARGB and the binding un-premultiplies it
  to RGBA (u = floor(255 c / a), as openslide-python and Pillow do); as
  255 / a >= 1, exactly one integer c gives u, and c = ceil(u a / 255)
  recovers OpenSlide's premultiplied value;
- each pixel is composited on the slide's background colour
  (openslide.background-color, "RRGGBB"; white when absent) as the ImageIO
  does: min(255, c + (bg (255 - a) + 127) // 255), giving 8-bit RGB.

Spacing comes from openslide.mpp-x and openslide.mpp-y (micrometres per
level-0 pixel), in millimetres per pixel of the level: mpp / 1000 times
the level's downsample.  A slide without both (as positive finite
numbers) states no spacing: it has spacing 1 per pixel and info says
spacing_stated False, spacing_source "none", as for TIFF files.

A task holds only the path, the level, its region and the channel
conversion.  OpenSlide handles are opened in each process on first use
and kept (the few most recently used), keyed by the path and the file's
size and modification time, so that a changed file is opened anew and a
pickled graph needs no handle; a handle on which OpenSlide reported an
error is dropped (OpenSlide's errors stick to the handle).  OpenSlide is
thread-safe and its binding's calls release the GIL (ctypes.CDLL), so
dask's threads read one slide at once.
"""
import math
import os
import re
import stat as _stat
import threading

import numpy as np

from . import _args as A
from . import _channel as K

#: The extensions read through OpenSlide, in any case: the command's list
#: (BLOCKWISE_SLIDE_EXTENSIONS in src/itkBlockwiseTIFFImageIOInternal.h).
EXTENSIONS = ("svs", "ndpi", "mrxs", "scn", "bif", "vms", "vmu")

#: Pixels per call of OpenSlide.read_region at most (the ImageIO's bands).
BAND_PIXELS = 1 << 22

#: OpenSlide handles kept per process.
HANDLES = 4

_INSTALL = ("install Debian's python3-openslide (apt-get install python3-openslide), "
            "which brings libopenslide0")


def is_slide_path(path):
    """Whether `path` names a whole-slide file by its extension (after the
    last dot, in any case), as the command tells them; False for what is
    not a path."""
    try:
        name = os.fspath(path)
    except TypeError:
        return False
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    dot = name.rfind(".")
    return dot >= 0 and name[dot + 1:].lower() in EXTENSIONS


def _openslide():
    """The openslide module, or ImportError naming the package to install."""
    try:
        import openslide
    except ImportError as e:
        raise ImportError(f"blockwise: whole-slide files (.{', .'.join(EXTENSIONS)}) are read "
                          f"through OpenSlide's Python binding, which cannot be imported "
                          f"({e}): {_INSTALL}") from None
    return openslide


def _identity(path, what):
    """(size, modification time) of the file, or ValueError as the TIFF
    layer words it for a missing file or one that is not a regular file."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise ValueError(f"{what}: cannot open {path}: {e.strerror}") from None
    if not _stat.S_ISREG(st.st_mode):
        raise ValueError(f"{what}: cannot open {path}: not a regular file")
    return st.st_size, st.st_mtime_ns


def _open(path, what):
    openslide = _openslide()
    try:
        return openslide.OpenSlide(path)
    except openslide.OpenSlideUnsupportedFormatError as e:
        raise ValueError(f"{what}: {path}: not a slide OpenSlide recognises "
                         f"(OpenSlide: {e})") from None
    except openslide.OpenSlideError as e:
        raise ValueError(f"{what}: {path}: {e}") from None


class _Handles:
    """The OpenSlide handles of this process, most recently used last."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.slides = {}  # (path, size, mtime) -> OpenSlide

    def get(self, path, what):
        key = (path,) + _identity(path, what)
        with self.lock:
            if self.pid != os.getpid():  # a forked child: its parent's handles are not its own
                self.slides, self.pid = {}, os.getpid()
            slide = self.slides.pop(key, None)
            if slide is not None:
                self.slides[key] = slide
                return slide
        slide = _open(path, what)
        with self.lock:
            slide = self.slides.setdefault(key, slide)
            for old in [k for k in self.slides if k[0] == path and k != key]:
                del self.slides[old]  # an earlier version of the file
            while len(self.slides) > HANDLES:
                del self.slides[next(iter(self.slides))]
        return slide

    def drop(self, path):
        with self.lock:
            for k in [k for k in self.slides if k[0] == path]:
                del self.slides[k]


_handles = _Handles()


def _positive(properties, name):
    """Property `name` as a positive finite number, or 0 (the ImageIO's
    positiveProperty: the number strtod reads at the start of the text)."""
    text = properties.get(name)
    m = re.match(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text or "")
    if m is None:
        return 0.0
    v = float(m.group(0))
    return v if math.isfinite(v) and v > 0 else 0.0


def background(properties):
    """The slide's background colour (R, G, B): openslide.background-color
    as six hex digits, else white."""
    text = properties.get("openslide.background-color")
    if text is not None and len(text) == 6 and re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        v = int(text, 16)
        return (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
    return 255, 255, 255


def _llround(v):
    """C's llround for v >= 0: the nearest integer, halves away from zero
    (v - floor(v) is exact in floating point)."""
    f = math.floor(v)
    return int(f) + (1 if v - f >= 0.5 else 0)


#: Pixels composited at once: bounds composite's temporaries (a few MiB).
_COMPOSITE_PIXELS = 1 << 18


def composite(rgba, bg, out):
    """RGB of un-premultiplied RGBA pixels (OpenSlide.read_region's, shape
    (..., X, 4)) composited on the colour bg, into out (uint8, (..., X,
    3)), with the ImageIO's integer arithmetic: the premultiplied colour
    c = ceil(u a / 255) plus (bg (255 - a) + 127) // 255, at most 255.
    Every intermediate fits 16 bits (u a + 254 <= 65279).  out must be
    C-contiguous."""
    if not out.flags.c_contiguous:
        raise ValueError("composite: out must be C-contiguous")
    flat_in = rgba.reshape(-1, 4)
    flat_out = out.reshape(-1, 3)
    bg = np.asarray(bg, np.uint16)
    for i in range(0, flat_in.shape[0], _COMPOSITE_PIXELS):
        px = flat_in[i:i + _COMPOSITE_PIXELS]
        a = px[:, 3:].astype(np.uint16)
        c = px[:, :3] * a
        c += 254
        c //= 255
        back = bg * (255 - a)
        back += 127
        back //= 255
        c += back
        np.minimum(c, 255, out=c)
        flat_out[i:i + _COMPOSITE_PIXELS] = c
    return out


class Slide:
    """A whole-slide file as OpenSlide opens it, at one level.  meta holds
    what info() reports of it: shape ((Y, X) of the level), spacing (Y, X,
    mm), spacing_stated, downsample, levels (dicts of shape (Y, X),
    spacing, downsample), level, vendor, background, tile ((height, width)
    of the level's tiles when OpenSlide states them, else None)."""

    def __init__(self, path, level=0, what="open"):
        openslide = _openslide()
        self.path = path
        slide = _handles.get(path, what)
        self._slide = slide
        try:
            props = dict(slide.properties)
            dims = slide.level_dimensions
            downsamples = slide.level_downsamples
        except openslide.OpenSlideError as e:
            _handles.drop(path)
            raise ValueError(f"{what}: {path}: {e}") from None
        if not 0 <= level < len(dims):
            n = len(dims)
            has = "one level (0)" if n == 1 else f"levels 0 to {n - 1}"
            raise ValueError(f"{what}: {path}: level {level} does not exist: the slide has {has}")
        mpp = (_positive(props, "openslide.mpp-y"), _positive(props, "openslide.mpp-x"))
        stated = mpp[0] > 0 and mpp[1] > 0
        levels = []
        for k, ((w, h), ds) in enumerate(zip(dims, downsamples)):
            spacing = tuple(m / 1000.0 * ds for m in mpp) if stated else (1.0, 1.0)
            levels.append(dict(shape=(h, w), spacing=spacing, downsample=ds))
        lv = levels[level]
        if min(lv["shape"]) <= 0 or not lv["downsample"] > 0:
            raise ValueError(f"{what}: {path}: level {level} has no size")
        tile = (props.get(f"openslide.level[{level}].tile-height"),
                props.get(f"openslide.level[{level}].tile-width"))
        tile = tuple(int(t) for t in tile) if all(t and t.isdigit() and int(t) > 0
                                                  for t in tile) else None
        self.meta = dict(shape=lv["shape"], spacing=lv["spacing"], spacing_stated=stated,
                         downsample=lv["downsample"], levels=levels, level=level,
                         vendor=props.get("openslide.vendor"), background=background(props),
                         tile=tile)

    def read(self, start, size, out=None, what="read"):
        """The region (start, size) ((Y, X) each) of the level as 8-bit RGB,
        into `out` or a new (Y, X, 3) array: see the top of this module."""
        openslide = _openslide()
        (y, x), (h, w) = start, size
        if out is None:
            out = np.empty((h, w, 3), np.uint8)
        if h <= 0 or w <= 0:
            return out
        if w > (1 << 31) - 1:
            raise ValueError(f"{what}: {self.path}: a region {w} pixels wide is too wide "
                             "for OpenSlide")
        m = self.meta
        ds, level = m["downsample"], m["level"]
        rows = max(1, min(h, BAND_PIXELS // w))
        xs = _exact_start(x, ds)
        for r0 in range(0, h, rows):
            n = min(rows, h - r0)
            ys = _exact_start(y + r0, ds)
            try:
                rgba = np.asarray(self._slide.read_region(
                    (_llround(xs * ds), _llround(ys * ds)), level, (w + x - xs, n + y + r0 - ys)))
            except openslide.OpenSlideError as e:
                _handles.drop(self.path)  # its error sticks to the handle
                raise ValueError(f"{what}: {self.path}: {e}") from None
            composite(rgba[y + r0 - ys:, x - xs:], m["background"], out[r0:r0 + n])
        return out


def _exact_start(v, ds):
    """The ImageIO's ExactStart: the nearest pixel at or before v whose
    level-0 coordinate, rounded, maps back to it within 1/512 of a pixel."""
    while v > 0 and abs(_llround(v * ds) / ds - v) >= 1.0 / 512:
        v -= 1
    return v


def info(path, level=0):
    """blockwise.info of a whole-slide file: the TIFF keys that apply, and
    format "openslide", vendor, background."""
    path = A.parse_path(path, "info")
    level = A.parse_level(level)
    m = Slide(path, level, "info").meta
    return dict(
        path=path, level=level, shape=m["shape"] + (3,), axes="YXC", dtype=np.dtype(np.uint8),
        spacing=m["spacing"], spacing_stated=m["spacing_stated"],
        spacing_source="OpenSlide" if m["spacing_stated"] else "none",
        channels=3, color="RGB", alpha=False, photometric=None, planar=False,
        bits_per_sample=8,
        levels=[dict(lv, shape=lv["shape"] + (3,)) for lv in m["levels"]],
        compression=None, tiled=m["tile"] is not None, tile=m["tile"], rows_per_strip=None,
        band_unit=None, bigtiff=None, byte_order=None, channel_names=None,
        format="openslide", vendor=m["vendor"], background=m["background"])


def read_region(path, level, start, size, opts):
    """The region (start, size) ((Y, X) each) of level `level` of the
    slide: RGB (opts None) or the one channel opts (checked
    ChannelOptions) makes of it, converted by the core
    (bw_channel_convert).  Tasks of blockwise.open call this; the slide's
    handle comes from this process's cache."""
    rgb = Slide(path, level, "open").read(start, size, what="open")
    if opts is None:
        return rgb
    out = np.empty(tuple(size), dtype=K.out_dtype(opts, None, rgb.dtype))
    return K.convert_into([rgb[..., c] for c in range(3)], A.dtype_code(rgb.dtype), out, opts,
                          what="open")


def _round_up(n, unit):
    return -(-n // unit) * unit


def plan_chunks(meta, target=A.CHUNK_BYTES):
    """dask chunks ((rows...), (columns...)) of the level: tiles of about
    `target` bytes of RGB or more, about square, with edges on the
    slide's tile edges when OpenSlide states its tiles (each tile then
    decoded by one task)."""
    h, w = meta["shape"]
    th, tw = meta["tile"] or (1, 1)
    side = math.isqrt(max(1, -(-target // 3)) - 1) + 1  # ceil(sqrt(target / 3))
    cols = min(w, _round_up(side, tw))
    rows = min(h, _round_up(-(-target // (3 * cols)), th))

    def pieces(n, step):
        return (step,) * (n // step) + ((n % step,) if n % step else ())
    return pieces(h, rows), pieces(w, cols)
