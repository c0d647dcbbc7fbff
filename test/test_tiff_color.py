#!/usr/bin/python3
"""Pixel formats beyond one grey sample, read by the Blockwise TIFF reader
and compared with independent readers and writers: RGB and RGBA, planar
and interleaved, channels of fluorescence files, JPEG (YCbCr), palette,
min-is-white, packed 10/12/14-bit samples and half floats.

Writers: tifffile, PIL, libtiff's tiffcp, vips, and TIFF files assembled
byte by byte here (packed samples, which tifffile reads and writes only
with the imagecodecs package, not in Debian).  Oracles: the arrays
written, numpy on them (inversion, colour-map lookup, bit packing),
tifffile's and PIL's decoders.

Run by CTest like test_tiff_interop.py (same environment variables), one
test class per CTest test; it also needs BW_VIPS (vips).
"""
import os
import struct
import subprocess
import sys
import unittest

import numpy as np
import tifffile
from PIL import Image

import test_tiff_interop as base
from test_tiff_interop import Case

VIPS = None


def setUpModule():
    global VIPS
    base.setUpModule()
    VIPS = base._required_program("BW_VIPS")


def texture(shape, rng, dtype=np.uint8):
    """A smooth colour image with noise: what JPEG is made for."""
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    top = np.iinfo(dtype).max
    chans = [0.5 + 0.4 * np.sin(x / (7 + 3 * c) + y / (11 + 2 * c) + c) for c in range(shape[2])]
    a = np.stack(chans, -1) * top + rng.normal(0, top / 100, shape)
    return np.clip(a, 0, top).astype(dtype)


def vips_jpeg_pyramid(case, png, tile, *options):
    """A tiled JPEG pyramid (quality 90) of @png written by vips, with
    tiles of @tile x @tile: its path."""
    p = case.path("vips")
    r = subprocess.run([VIPS, "tiffsave", png, p, "--tile", "--tile-width", str(tile), "--tile-height",
                        str(tile), "--pyramid", "--compression", "jpeg", "--Q", "90", *options],
                       capture_output=True, text=True)
    case.assertEqual(r.returncode, 0, r.stderr)
    return p


def pack_bits(a, bits):
    """Rows of unsigned samples packed most significant bit first, each row
    padded to whole bytes (TIFF's packing), as bytes."""
    rows = []
    for row in a.reshape(a.shape[0], -1):
        bitstr = ((row[:, None].astype(np.uint32) >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8)
        rows.append(np.packbits(bitstr.reshape(-1)).tobytes())
    return b"".join(rows)


def tiff_bytes(width, length, bits, spp, pixels, big_endian=False, photometric=1,
               sampleformat=1, colormap=None):
    """A one-strip uncompressed TIFF of the given tags, assembled here;
    colormap: a (3, 2**bits) array of uint16."""
    e = ">" if big_endian else "<"
    entries = [(256, 4, 1, width), (257, 4, 1, length), (258, 3, 1, bits), (259, 3, 1, 1),
               (262, 3, 1, photometric), (273, 4, 1, "pixels"), (277, 3, 1, spp),
               (278, 4, 1, length), (279, 4, 1, len(pixels)), (339, 3, 1, sampleformat)]
    cmap = b""
    if colormap is not None:
        cmap = np.asarray(colormap, np.dtype(np.uint16).newbyteorder(e)).tobytes()
        entries.insert(9, (320, 3, colormap.size, "cmap"))
    header = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    ifd_size = 2 + 12 * len(entries) + 4
    at = {"cmap": 8 + ifd_size, "pixels": 8 + ifd_size + len(cmap)}
    ifd = struct.pack(e + "H", len(entries))
    for tag, typ, count, val in entries:
        val = at.get(val, val) if isinstance(val, str) else val
        if typ == 3 and count == 1:
            ifd += struct.pack(e + "HHIHH", tag, typ, count, val, 0)
        else:
            ifd += struct.pack(e + "HHII", tag, typ, count, val)
    ifd += struct.pack(e + "I", 0)
    return header + ifd + cmap + pixels


class Channels(Case):
    """RGB, RGBA and fluorescence channels, interleaved and planar, every
    dtype, strips and tiles, compressed or not: the pixels tifffile wrote."""

    def test_rgb_layouts(self):
        for dtype in (np.uint8, np.uint16, np.float32):
            a = base.random_array(dtype, (37, 45, 3), self.rng)
            for cfg in [dict(planarconfig="contig"), dict(planarconfig="separate"),
                        dict(planarconfig="contig", tile=(16, 16), compression="zlib"),
                        dict(planarconfig="separate", tile=(16, 32)),
                        dict(planarconfig="contig", rowsperstrip=5, compression="zlib",
                             predictor=True)]:
                if dtype == np.float32 and cfg.get("predictor"):
                    # (the floating-point predictor needs imagecodecs)
                    cfg = dict(cfg, predictor=False)
                p = self.path("rgb")
                # tifffile takes planar images samples first.
                data = np.moveaxis(a, -1, 0) if cfg["planarconfig"] == "separate" else a
                tifffile.imwrite(p, data, photometric="rgb", metadata=None, **cfg)
                what = f"{np.dtype(dtype)} {cfg}"
                info = self.info(p)
                self.assertEqual((info["channels"], info["color"], info["photometric"]),
                                 (3, 1, "RGB"), what)
                self.assertEqual(info["planar"], int(cfg["planarconfig"] == "separate"), what)
                got, _ = self.read(p)
                self.assertSameArray(got, a, what)
                got, _ = self.read(p, planar=True)
                self.assertSameArray(got, np.moveaxis(a, -1, 0), what + " planar views")
                got, _ = self.read(p, start=(3, 7), size=(20, 30), channels=(1, 2))
                self.assertSameArray(got, a[3:23, 7:37, 1:3], what + " region, channels 1-2")
                got, _ = self.read(p, start=(0, 0), size=(37, 45), channels=(2, 1))
                self.assertSameArray(got, a[..., 2], what + " channel 2")

    def test_rgba_and_fluorescence(self):
        a = base.random_array(np.uint8, (20, 30, 4), self.rng)
        p = self.path("rgba")
        tifffile.imwrite(p, a, photometric="rgb", extrasamples=["unassalpha"], metadata=None)
        info = self.info(p)
        self.assertEqual((info["channels"], info["color"], info["alpha"]), (4, 2, 1))
        self.assertSameArray(self.read(p)[0], a, "RGBA")
        for planar in ("contig", "separate"):
            f = base.random_array(np.uint16, (5, 19, 23), self.rng)
            p = self.path("fluo")
            tifffile.imwrite(p, np.moveaxis(f, 0, -1) if planar == "contig" else f,
                             photometric="minisblack", planarconfig=planar, metadata=None)
            info = self.info(p)
            self.assertEqual((info["channels"], info["color"], info["ndim"]), (5, 3, 2), planar)
            self.assertSameArray(self.read(p, planar=True)[0], f, f"5 channels, {planar}")
            self.assertSameArray(self.read(p, channels=(3, 1))[0], f[3], f"channel 3, {planar}")

    def test_volume_of_rgb_pages(self):
        a = base.random_array(np.uint8, (4, 10, 12, 3), self.rng)
        p = self.path("rgbz")
        tifffile.imwrite(p, a, photometric="rgb", metadata=None)
        info = self.info(p)
        self.assertEqual((info["ndim"], info["shape"], info["channels"]), (3, [4, 10, 12], 3))
        self.assertSameArray(self.read(p)[0], a, "RGB volume")
        self.assertSameArray(self.read(p, start=(1, 2, 3), size=(2, 5, 6))[0],
                             a[1:3, 2:7, 3:9], "RGB volume region")

    def test_grey_reads_refuse_channels(self):
        p = self.path("rgb")
        tifffile.imwrite(p, np.zeros((4, 4, 3), np.uint8), photometric="rgb")
        out = self.path("x", ".raw")
        r = self.run_tool("read", p, out, "--channels", "2,2", expect_ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("channels 2 to 3 asked for; the image has 3", r.stderr)


class Jpeg(Case):
    """JPEG strips and tiles, YCbCr subsampled and RGB, from tiffcp, vips and
    PIL: the pixels PIL decodes from the same file, and close to the image
    before compression."""

    def check(self, p, src, what, tol_mean=4.0):
        info = self.info(p)
        self.assertEqual((info["channels"], info["color"], info["dtype"]), (3, 1, "u8"), what)
        got, _ = self.read(p)
        with Image.open(p) as im:
            want = np.asarray(im.convert("RGB"))
        self.assertEqual(got.shape, want.shape, what)
        diff = np.abs(got.astype(int) - want.astype(int))
        # The same codec (libtiff's, over libjpeg) with the same colour
        # conversion: equal.
        self.assertEqual(diff.max(), 0, f"{what}: vs PIL")
        self.assertLess(np.abs(got.astype(float) - src).mean(), tol_mean, f"{what}: vs source")
        return got

    def test_tiffcp_and_pil(self):
        src = texture((70, 90, 3), self.rng)
        plain = self.path("src")
        tifffile.imwrite(plain, src, photometric="rgb", metadata=None)
        for opts in [["-c", "jpeg:90", "-r", "16"], ["-c", "jpeg:90", "-t", "-w", "32", "-l", "32"],
                     ["-c", "jpeg:90", "-r", "32"], ["-c", "jpeg:r:90", "-t"]]:
            p = self.tiffcp(plain, *opts)
            photometric = self.info(p)["photometric"]
            self.assertEqual(photometric, "RGB" if "jpeg:r:90" in opts else "YCbCr", opts)
            got = self.check(p, src, f"tiffcp {opts}")
            part, _ = self.read(p, start=(9, 13), size=(40, 50))
            self.assertSameArray(part, got[9:49, 13:63], f"tiffcp {opts}: region")
        p = self.path("pil")
        Image.fromarray(src).save(p, compression="jpeg", quality=90)
        self.check(p, src, "PIL")

    def test_vips_pyramid_level0(self):
        src = texture((300, 260, 3), self.rng)
        png = self.path("src", ".png")
        Image.fromarray(src).save(png)
        p = vips_jpeg_pyramid(self, png, 64)
        info = self.info(p)
        self.assertEqual((info["ndim"], info["shape"]), (2, [300, 260]), "level 0 only")
        self.check(p, src, "vips")


class Palette(Case):
    """Palette images: a colour map gives RGB (as PIL converts it); a grey
    map gives the indices (Fiji's grey images with a LUT)."""

    def test_colour_map(self):
        for bits in (8, 4, 16):
            n = 1 << bits
            cmap = self.rng.integers(0, 65536, size=(3, n), dtype=np.uint16)
            idx = self.rng.integers(0, n, size=(17, 21)).astype(np.uint8 if bits <= 8 else np.uint16)
            p = self.path("pal")
            if bits == 4:  # (tifffile packs 4-bit samples only with imagecodecs)
                with open(p, "wb") as f:
                    f.write(tiff_bytes(21, 17, 4, 1, pack_bits(idx, 4), photometric=3,
                                       colormap=cmap))
            else:
                tifffile.imwrite(p, idx, photometric="palette", colormap=cmap, metadata=None)
            info = self.info(p)
            self.assertEqual((info["channels"], info["color"], info["dtype"]),
                             (3, 1, "u8" if bits <= 8 else "u16"), bits)
            want = cmap.T[idx]
            if bits <= 8:
                want = (want >> 8).astype(np.uint8)
            self.assertSameArray(self.read(p)[0], want, f"{bits}-bit palette")
            if bits == 8:
                with Image.open(p) as im:
                    self.assertSameArray(self.read(p)[0], np.asarray(im.convert("RGB")), "PIL")

    def test_grey_map(self):
        idx = self.rng.integers(0, 256, size=(13, 11), dtype=np.uint8)
        grey = np.arange(256, dtype=np.uint16)[::-1] * 257  # an inverting LUT
        p = self.path("greylut")
        tifffile.imwrite(p, idx, photometric="palette", colormap=np.stack([grey] * 3),
                         metadata=None)
        info = self.info(p)
        self.assertEqual((info["channels"], info["color"], info["photometric"]),
                         (1, 0, "palette"))
        self.assertSameArray(self.read(p)[0], idx, "grey map: the indices")


class Samples(Case):
    """Min-is-white, packed 10/12/14-bit and 2/4-bit samples, half floats,
    in both byte orders."""

    def test_min_is_white(self):
        for dtype in (np.uint8, np.uint16, np.int16):
            a = base.random_array(dtype, (9, 14), self.rng)
            p = self.path("miw")
            tifffile.imwrite(p, a, photometric="miniswhite", metadata=None)
            self.assertEqual(self.info(p)["photometric"], "min-is-white")
            self.assertSameArray(self.read(p)[0], ~a, f"{np.dtype(dtype)} inverted")
        a = base.random_array(np.uint8, (9, 14), self.rng)
        p = self.path("miw8")
        tifffile.imwrite(p, a, photometric="miniswhite", metadata=None)
        with Image.open(p) as im:
            self.assertSameArray(self.read(p)[0], np.asarray(im), "vs PIL (mode L;I)")

    def test_packed_bits(self):
        for bits in (2, 4, 10, 12, 14):
            for big in (False, True):
                a = self.rng.integers(0, 1 << bits, size=(7, 13), dtype=np.uint16)
                p = self.path(f"b{bits}")
                with open(p, "wb") as f:
                    f.write(tiff_bytes(13, 7, bits, 1, pack_bits(a, bits), big_endian=big))
                info = self.info(p)
                self.assertEqual((info["bits_per_sample"], info["dtype"]),
                                 (bits, "u8" if bits < 8 else "u16"), bits)
                # (tifffile unpacks these only with imagecodecs: the oracle
                # is the array packed above.)
                self.assertSameArray(self.read(p)[0], a.astype(np.uint16 if bits > 8 else np.uint8),
                                     f"{bits} bits, {'big' if big else 'little'} endian")
                part, _ = self.read(p, start=(2, 3), size=(4, 7))
                self.assertSameArray(part, self.read(p)[0][2:6, 3:10], f"{bits} bits: region")
        # Packed RGB: 12 bits x 3 samples.
        a = self.rng.integers(0, 4096, size=(5, 9, 3), dtype=np.uint16)
        p = self.path("rgb12")
        with open(p, "wb") as f:
            f.write(tiff_bytes(9, 5, 12, 3, pack_bits(a, 12), photometric=2))
        self.assertSameArray(self.read(p)[0], a, "12-bit RGB")

    def test_half_floats(self):
        a = (self.rng.standard_normal((11, 17)) * 100).astype(np.float16)
        a.reshape(-1)[:6] = [0.0, -0.0, np.inf, -np.inf, 6e-8, 65504]
        for cfg in [{}, dict(byteorder=">"), dict(compression="zlib", tile=(16, 16))]:
            p = self.path("f16")
            tifffile.imwrite(p, a, metadata=None, **cfg)
            info = self.info(p)
            self.assertEqual((info["dtype"], info["bits_per_sample"]), ("f32", 16), cfg)
            self.assertSameArray(self.read(p)[0], tifffile.imread(p).astype(np.float32), str(cfg))
            self.assertSameArray(self.read(p)[0], a.astype(np.float32), f"{cfg}: written")


def reference_channel(a, name, white=None):
    """scikit-image's conversion @name of RGB(A) pixels @a (channels last),
    in the input's units as bw_channel.h defines them: rgb2gray for
    luminance, rgb2hed for the stains (on values relative to @white, the
    type's largest by default), -log10 for optical density."""
    from skimage.color import rgb2gray, rgb2hed
    rgb = a[..., :3].astype(np.float64)
    if white is None:
        white = np.iinfo(a.dtype).max if np.issubdtype(a.dtype, np.integer) else 1.0
    if name == "luminance":
        return rgb2gray(rgb)
    t = np.clip(rgb / white, 1e-6, 1)
    if name == "od":
        return (-np.log10(t)).mean(-1)
    return rgb2hed(t)[..., ["hematoxylin", "eosin", "dab"].index(name)]


class Converted(Case):
    """One channel made while reading (bw_tiff_read_channel): luminance,
    optical density, stains and a channel by number, for every layout the
    reader unpacks, equal to scikit-image's conversion of the pixels
    tifffile or PIL decode (float32: within 1e-6 relative; float64: 1e-12),
    and for a region the same values as for the whole image."""

    def converted(self, p, name, f64=False, start=None, size=None):
        info = self.info(p)
        out = self.path("conv", ".raw")
        args = ["read", p, out, "--convert", name] + (["--f64"] if f64 else [])
        if start is not None:
            args += list(start) + list(size)
        self.run_tool(*args)
        shape = tuple(size) if size is not None else tuple(info["shape"])
        dtype = np.float64 if f64 else np.float32
        if name.isdigit() and not f64:
            dtype = base.DTYPES[info["dtype"]]
        a = np.fromfile(out, dtype=dtype).reshape(shape)
        os.remove(out)
        return a

    def assertConverted(self, p, decoded, what, white=None):
        for name in ("luminance", "od", "hematoxylin", "eosin", "dab"):
            want = reference_channel(decoded, name, white)
            for f64 in (False, True):
                got = self.converted(p, name, f64)
                tol = 1e-12 if f64 else 1e-6
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol * (1 + np.abs(want).max()),
                                           err_msg=f"{what}: {name} {'f64' if f64 else 'f32'}")
        h, w = decoded.shape[:2]
        start, size = (h // 3, w // 4), (h // 2, w // 2)
        whole = self.converted(p, "luminance")
        part = self.converted(p, "luminance", start=start, size=size)
        self.assertSameArray(part, whole[start[0]:start[0] + size[0], start[1]:start[1] + size[1]],
                             f"{what}: a region converted alone")
        ch = self.converted(p, "1")
        self.assertSameArray(ch, decoded[..., 1], f"{what}: channel 1 as it is")

    def test_rgb_layouts(self):
        for dtype in (np.uint8, np.uint16, np.float32):
            # (floats in [0, 1], white for the densities; NaN and infinities
            # are the core's tests' business)
            a = (self.rng.random((37, 45, 3)).astype(np.float32) if dtype == np.float32
                 else base.random_array(dtype, (37, 45, 3), self.rng))
            for cfg in [dict(planarconfig="contig"), dict(planarconfig="separate"),
                        dict(planarconfig="contig", tile=(16, 16), compression="zlib"),
                        dict(planarconfig="contig", rowsperstrip=5, compression="zlib")]:
                p = self.path("rgb")
                data = np.moveaxis(a, -1, 0) if cfg["planarconfig"] == "separate" else a
                tifffile.imwrite(p, data, photometric="rgb", metadata=None, **cfg)
                self.assertConverted(p, a, f"{np.dtype(dtype)} {cfg}")

    def test_rgba_jpeg_palette(self):
        a = base.random_array(np.uint8, (20, 30, 4), self.rng)
        p = self.path("rgba")
        tifffile.imwrite(p, a, photometric="rgb", extrasamples=["unassalpha"], metadata=None)
        self.assertConverted(p, a, "RGBA")
        src = texture((70, 90, 3), self.rng)
        plain = self.path("src")
        tifffile.imwrite(plain, src, photometric="rgb", metadata=None)
        for opts in [["-c", "jpeg:90", "-t", "-w", "32", "-l", "32"], ["-c", "jpeg:90", "-r", "16"]]:
            p = self.tiffcp(plain, *opts)
            with Image.open(p) as im:
                decoded = np.asarray(im.convert("RGB"))
            # (libjpeg's YCbCr to RGB as PIL's, to the bit: what tiffcp's
            # files read as, Jpeg.test_tiffcp_and_pil checks.)
            self.assertConverted(p, self.read(p)[0], f"tiffcp {opts}")
            lum = self.converted(p, "luminance")
            from skimage.color import rgb2gray
            np.testing.assert_allclose(lum, rgb2gray(decoded.astype(np.float64)), atol=2.0,
                                       err_msg=f"tiffcp {opts}: within JPEG's rounding of PIL's")
        cmap = self.rng.integers(0, 65536, size=(3, 256), dtype=np.uint16)
        idx = self.rng.integers(0, 256, size=(17, 21)).astype(np.uint8)
        p = self.path("pal")
        tifffile.imwrite(p, idx, photometric="palette", colormap=cmap, metadata=None)
        self.assertConverted(p, (cmap.T[idx] >> 8).astype(np.uint8), "palette")

    def test_declined(self):
        a = base.random_array(np.uint8, (9, 14), self.rng)
        p = self.path("grey")
        tifffile.imwrite(p, a, metadata=None)
        r = subprocess.run([base.TOOL, "read", p, self.path("x", ".raw"), "--convert", "luminance"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("needs red, green and blue", r.stderr)
        self.assertFalse(os.path.exists(self.path("x", ".raw")), "nothing written")


if __name__ == "__main__":
    unittest.main(verbosity=2)
