"""Tests of blockwise.open, blockwise.info and blockwise.channel: TIFF files
read lazily through the streaming reader (libblockwise_tiff), against the
pixels that tifffile and PIL decode from the same files (written here by
tifffile and by vips), and channel conversions against scikit-image's
rgb2gray and rgb2hed.  Command line: see common.py."""
import ctypes
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import tifffile

import blockwise
from common import (assert_same_bits, check_raises, core_message, local_cluster, main,
                    ran_during)


def rgb_image(shape, seed, dtype=np.uint8):
    """A textured RGB picture of about stained tissue: smooth structures
    and noise, no channel constant, values across the dtype's range."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    y, x = np.mgrid[0:ny, 0:nx].astype(np.float64)
    t = 0.5 + 0.25 * np.sin(y / 7.3 + rng.uniform(0, 6)) * np.cos(x / 5.1 + rng.uniform(0, 6))
    t += 0.2 * (np.hypot(y - ny / 3, x - nx / 2) < min(shape) / 4)
    t = np.clip(t + rng.normal(0, 0.05, shape), 0, 1)
    top = np.iinfo(dtype).max if np.dtype(dtype).kind in "ui" else 1.0
    rgb = np.stack([1 - 0.6 * t, 1 - 0.8 * t ** 1.5, 1 - 0.3 * t], -1)
    rgb = np.clip(rgb + rng.normal(0, 0.02, rgb.shape), 0, 1) * top
    return (np.round(rgb) if np.dtype(dtype).kind in "ui" else rgb).astype(dtype)


def grey_image(shape, seed, dtype=np.uint16):
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


class Files:
    """A temporary folder for the files of one test class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bw-open-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data, **kw):
        p = self.path(name)
        tifffile.imwrite(p, data, **kw)
        return p


class OpenPixels(Files, unittest.TestCase):
    """blockwise.open gives the pixels tifffile reads, for every layout,
    whatever the chunks."""

    def check(self, path, want, chunk_sizes=(None, 5000, 700)):
        import dask.array as da
        for chunk_bytes in chunk_sizes:
            a = blockwise.open(path, chunk_bytes=chunk_bytes)
            self.assertIsInstance(a, da.Array)
            self.assertEqual((a.shape, a.dtype), (want.shape, want.dtype), path)
            assert_same_bits(self, a.compute(), want, f"{path} chunk_bytes={chunk_bytes}")
        return a

    def test_rgb(self):
        x = rgb_image((123, 157), 1)
        for name, kw in (("none.tif", {}), ("deflate.tif", dict(compression="zlib")),
                         ("strips.tif", dict(compression="zlib", rowsperstrip=10)),
                         ("tiles.tif", dict(compression="zlib", tile=(32, 48))),
                         ("tiles_raw.tif", dict(tile=(64, 64)))):
            p = self.write(name, x, photometric="rgb", **kw)
            assert_same_bits(self, tifffile.imread(p), x, name)
            a = self.check(p, x)
            self.assertEqual(a.chunks[-1], (3,), "the channel axis is one chunk")

    def test_grey_and_types(self):
        for dt in (np.uint8, np.uint16, np.int16, np.uint32, np.float32, np.float64):
            x = (grey_image((77, 91), 2, np.uint16) / 7).astype(dt)
            p = self.write(f"grey_{np.dtype(dt).name}.tif", x, photometric="minisblack",
                           compression="zlib", tile=(32, 32))
            self.check(p, tifffile.imread(p))
            assert_same_bits(self, blockwise.open(p).compute(), x)

    def test_planar_and_channels(self):
        x = rgb_image((90, 110), 3)
        p = self.write("planar.tif", np.moveaxis(x, -1, 0), photometric="rgb",
                       planarconfig="separate", compression="zlib", rowsperstrip=8)
        self.check(p, x)
        self.assertTrue(blockwise.info(p)["planar"])
        f = grey_image((4, 50, 60), 4)
        p = self.write("fluo.tif", np.moveaxis(f, 0, -1), photometric="minisblack",
                       planarconfig="contig")
        self.check(p, np.moveaxis(f, 0, -1))
        self.assertEqual(blockwise.info(p)["color"], "channels")
        rgba = np.concatenate([x, np.full(x.shape[:2] + (1,), 200, np.uint8)], -1)
        p = self.write("rgba.tif", rgba, photometric="rgb", extrasamples=["unassalpha"])
        self.check(p, rgba)
        self.assertEqual((blockwise.info(p)["color"], blockwise.info(p)["alpha"]),
                         ("RGBA", True))

    def test_volumes(self):
        v = grey_image((5, 60, 70), 5)
        p = self.write("vol.tif", v, photometric="minisblack")
        self.check(p, v, (None, 20000, 3000, 100))
        p = self.write("vol_tiles.tif", v, photometric="minisblack", tile=(32, 32),
                       compression="zlib")
        self.check(p, v, (None, 20000, 3000))
        c = np.stack([rgb_image((40, 50), s) for s in range(3)])
        p = self.write("vol_rgb.tif", c, photometric="rgb", compression="zlib")
        a = self.check(p, c, (None, 7000, 500))
        self.assertEqual(a.shape, (3, 40, 50, 3))
        self.assertEqual(blockwise.info(p)["axes"], "ZYXC")

    def test_info(self):
        x = rgb_image((100, 130), 6)
        p = self.write("info.tif", x, photometric="rgb", tile=(32, 64), compression="zlib",
                       resolution=(20000, 25000), resolutionunit="CENTIMETER")
        i = blockwise.info(p)
        want = dict(path=p, level=0, shape=(100, 130, 3), axes="YXC", dtype=np.dtype(np.uint8),
                    channels=3, color="RGB", alpha=False, photometric="RGB", planar=False,
                    bits_per_sample=8, compression="deflate", tiled=True, tile=(32, 64),
                    rows_per_strip=None, band_unit=32, bigtiff=False, byte_order="little")
        for k, v in want.items():
            self.assertEqual(i[k], v, k)
        # Resolution in pixels per cm: 10 / resolution mm per pixel, (Y, X).
        np.testing.assert_allclose(i["spacing"], (10 / 25000, 10 / 20000), rtol=1e-12)
        self.assertEqual((i["spacing_stated"], i["spacing_source"], i["format"], i["vendor"]),
                         (True, "resolution tags", "tiff", None))
        self.assertEqual(len(i["levels"]), 1)
        self.assertEqual(i["levels"][0]["shape"], (100, 130, 3))
        g = blockwise.info(self.write("info_grey.tif", grey_image((30, 40), 7),
                                      rowsperstrip=7, compression="zlib"))
        self.assertEqual((g["shape"], g["axes"], g["tiled"], g["tile"], g["rows_per_strip"],
                          g["band_unit"], g["spacing"], g["spacing_stated"], g["spacing_source"]),
                         ((30, 40), "YX", False, None, 7, 7, (1.0, 1.0), False, "none"))

    def test_lazy_and_pathlike(self):
        import pathlib
        x = rgb_image((64, 64), 8)
        p = self.write("lazy.tif", x, photometric="rgb")
        a = blockwise.open(pathlib.Path(p))
        os.remove(p)  # nothing was read but the header: the tasks read it
        with self.assertRaises(ValueError) as cm:
            a.compute()
        self.assertIn("cannot open", str(cm.exception))


class OpenLevels(Files, unittest.TestCase):
    """Pyramid levels: vips' tiled JPEG pyramid against PIL's decoding of its
    pages, and tifffile's SubIFD pyramids against the arrays written."""

    def test_vips_jpeg_pyramid(self):
        from PIL import Image
        x = rgb_image((700, 530), 10)
        png, p = self.path("slide.png"), self.path("slide.tif")
        Image.fromarray(x).save(png)
        subprocess.run(["vips", "tiffsave", png, p, "--tile", "--tile-width", "64",
                        "--tile-height", "64", "--pyramid", "--compression", "jpeg",
                        "--Q", "90"], check=True)
        pages = []
        with Image.open(p) as im:
            for k in range(im.n_frames):
                im.seek(k)
                pages.append(np.asarray(im.convert("RGB")))
        self.assertGreaterEqual(len(pages), 3)
        i = blockwise.info(p)
        self.assertEqual(len(i["levels"]), len(pages))
        self.assertEqual((i["compression"], i["color"], i["tiled"], i["tile"]),
                         ("jpeg", "RGB", True, (64, 64)))
        for k, want in enumerate(pages):
            self.assertEqual(i["levels"][k]["shape"], want.shape, k)
            self.assertEqual(blockwise.info(p, k)["shape"], want.shape, k)
            for chunk_bytes in (None, 30000):
                got = blockwise.open(p, level=k, chunk_bytes=chunk_bytes).compute()
                assert_same_bits(self, got, want, f"level {k} chunk_bytes={chunk_bytes}")
        self.assertAlmostEqual(i["levels"][1]["downsample"], 2.0, delta=0.01)

    def test_subifd_pyramid(self):
        g = grey_image((260, 300), 11)
        c = rgb_image((260, 300), 12)
        for name, x, kw in (("sub_grey.tif", g, dict(photometric="minisblack")),
                            ("sub_rgb.tif", c, dict(photometric="rgb", compression="zlib"))):
            p = self.path(name)
            with tifffile.TiffWriter(p) as w:
                w.write(x, subifds=2, tile=(64, 64), **kw)
                for k in (1, 2):
                    w.write(x[::2 ** k, ::2 ** k], subfiletype=1, tile=(32, 32), **kw)
            i = blockwise.info(p)
            self.assertEqual(len(i["levels"]), 3, name)
            for k in range(3):
                want = x[::2 ** k, ::2 ** k]
                assert_same_bits(self, blockwise.open(p, k).compute(), want, f"{name} {k}")
                assert_same_bits(self, blockwise.open(p, k, chunk_bytes=4000).compute(), want,
                                 f"{name} {k} small chunks")
                lv = blockwise.info(p, level=k)
                self.assertEqual((lv["level"], lv["shape"]), (k, want.shape))
                self.assertEqual(i["levels"][k]["shape"], want.shape)
                np.testing.assert_allclose(lv["spacing"], i["levels"][k]["spacing"])
            np.testing.assert_allclose(i["levels"][2]["spacing"],
                                       np.multiply(i["spacing"], (260 / 65, 300 / 75)))
            with self.assertRaises(ValueError) as cm:
                blockwise.open(p, level=3)
            self.assertIn("level 3 does not exist: the file has levels 0 to 2",
                          str(cm.exception))


def od_reference(x, white):
    """Mean optical density of R, G, B, from the formula of bw_channel.h."""
    t = np.clip(x[..., :3].astype(np.float64) / white, 1e-6, 1)
    return -np.log10(t).mean(-1)


class OpenChannel(Files, unittest.TestCase):
    """blockwise.channel against scikit-image, and open(channel=) against
    blockwise.channel of the pixels tifffile reads."""

    def test_against_skimage(self):
        from skimage.color import rgb2gray, rgb2hed
        x = rgb_image((70, 90), 20)
        lum = blockwise.channel(x)
        self.assertEqual((lum.shape, lum.dtype), ((70, 90), np.float32))
        np.testing.assert_allclose(lum, rgb2gray(x) * 255, rtol=0, atol=1e-4)
        hed = rgb2hed(x)
        for k, name in enumerate(("hematoxylin", "eosin", "dab")):
            got = blockwise.channel(x, name)
            np.testing.assert_allclose(got, hed[..., k], rtol=0, atol=1e-5, err_msg=name)
            self.assertGreater(np.ptp(got), 0.01, name)
        np.testing.assert_allclose(blockwise.channel(x, "od"), od_reference(x, 255),
                                   rtol=1e-6, atol=1e-6)
        x16 = rgb_image((40, 50), 21, np.uint16)
        np.testing.assert_allclose(blockwise.channel(x16), rgb2gray(x16) * 65535, rtol=1e-6)
        np.testing.assert_allclose(blockwise.channel(x16, "Hematoxylin"), rgb2hed(x16)[..., 0],
                                   rtol=0, atol=1e-5)
        xf = rgb_image((30, 40), 22, np.float64)
        np.testing.assert_allclose(blockwise.channel(xf, dtype=np.float64), rgb2gray(xf),
                                   rtol=1e-12)
        twelve = (x16 >> 4).astype(np.uint16)
        np.testing.assert_allclose(blockwise.channel(twelve, "od", white=4095),
                                   od_reference(twelve, 4095), rtol=1e-6, atol=1e-6)

    def test_index_alpha_layouts_threads(self):
        x = rgb_image((61, 47), 23)
        for c, name in enumerate("rgb"):
            for spelled in (c, name, str(c), name.upper()):
                got = blockwise.channel(x, spelled)
                assert_same_bits(self, got, x[..., c], f"{spelled!r}")
        assert_same_bits(self, blockwise.channel(x, 1, dtype=np.float64),
                         x[..., 1].astype(np.float64))
        rgba = np.concatenate([x, np.zeros(x.shape[:2] + (1,), np.uint8)], -1)
        assert_same_bits(self, blockwise.channel(rgba, "eosin"), blockwise.channel(x, "eosin"))
        assert_same_bits(self, blockwise.channel(rgba, 3), rgba[..., 3])
        want = blockwise.channel(x, "hematoxylin")
        for view in (lambda a: a[::2, ::-3], lambda a: np.asfortranarray(a),
                     lambda a: a.transpose(1, 0, 2)):
            assert_same_bits(self, blockwise.channel(view(x), "hematoxylin"),
                             view(want[..., None])[..., 0])
        stack = np.stack([x, x[::-1], x[:, ::-1]])
        got = blockwise.channel(stack[None], "hematoxylin")
        self.assertEqual(got.shape, (1, 3, 61, 47))
        for i in range(3):
            assert_same_bits(self, got[0, i], blockwise.channel(stack[i], "hematoxylin"))
        for t in (2, 3, 8):
            assert_same_bits(self, blockwise.channel(stack, "luminance", threads=t),
                             blockwise.channel(stack, "luminance"), f"threads={t}")

    def test_dask_dispatch(self):
        import dask.array as da
        x = rgb_image((80, 66), 24)
        want = blockwise.channel(x, "dab")
        for chunks in ((80, 66, 3), (17, 20, 1), (40, 33, 2)):
            got = blockwise.channel(da.from_array(x, chunks=chunks), "dab")
            self.assertIsInstance(got, da.Array)
            self.assertEqual(got.dtype, np.float32)
            assert_same_bits(self, got.compute(), want, f"chunks={chunks}")
        got = blockwise.channel(da.from_array(x, chunks=20), 2)
        self.assertEqual(got.dtype, np.uint8)
        assert_same_bits(self, got.compute(), x[..., 2])

    def test_open_with_channel(self):
        from skimage.color import rgb2hed
        x = rgb_image((130, 150), 25)
        for name, kw in (("c_tiles.tif", dict(tile=(32, 32), compression="zlib")),
                         ("c_planar.tif", dict(planarconfig="separate", rowsperstrip=9))):
            data = np.moveaxis(x, -1, 0) if "planar" in name else x
            p = self.write(name, data, photometric="rgb", **kw)
            for chunk_bytes in (None, 5000):
                for channel in ("luminance", "hematoxylin", "od", "g", 2):
                    got = blockwise.open(p, channel=channel, chunk_bytes=chunk_bytes)
                    want = blockwise.channel(x, channel)
                    self.assertEqual((got.shape, got.dtype), (want.shape, want.dtype))
                    assert_same_bits(self, got.compute(), want, f"{name} {channel}")
            np.testing.assert_allclose(blockwise.open(p, channel="eosin").compute(),
                                       rgb2hed(x)[..., 1], rtol=0, atol=1e-5)
        # An index reads that channel alone: only its planes in a planar file.
        from blockwise import _read
        with _read.Reader(self.path("c_planar.tif")) as r:
            r.read((0, 0), (130, 150), 1, 1)
            one = r.counters()[0]
        with _read.Reader(self.path("c_planar.tif")) as r:
            r.read((0, 0), (130, 150))
            three = r.counters()[0]
        self.assertLess(one * 2, three)
        g = grey_image((40, 50), 26, np.uint16)
        p = self.write("c_grey.tif", g, photometric="minisblack")
        assert_same_bits(self, blockwise.open(p).compute(), g)
        assert_same_bits(self, blockwise.open(p, channel=0).compute(), g)
        with self.assertRaises(ValueError) as cm:
            blockwise.open(p, channel="luminance")
        self.assertIn("channel luminance needs red, green and blue: the image has 1 channel",
                      str(cm.exception))
        p = self.write("c_12bit.tif", (rgb_image((30, 40), 27, np.uint16) >> 4),
                       photometric="rgb")
        np.testing.assert_allclose(blockwise.open(p, channel="od", white=4095).compute(),
                                   od_reference(tifffile.imread(p), 4095), rtol=1e-6, atol=1e-6)

    def test_channel_names(self):
        """Channels an OME-XML description names: by name, in any case."""
        f = grey_image((4, 30, 40), 28, np.uint16)
        names = ["DAPI", "GFP", "RFP", "Cy5"]
        channels = "".join(f'<Channel ID="Channel:0:{c}" Name="{n}" SamplesPerPixel="1"/>'
                           for c, n in enumerate(names))
        xml = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">'
               '<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="40" SizeY="30" '
               'SizeC="4" SizeZ="1" SizeT="1">' + channels + '<TiffData/></Pixels></Image></OME>')
        p = self.write("c_ome.tif", np.moveaxis(f, 0, -1), photometric="minisblack",
                       planarconfig="contig", description=xml, metadata=None)
        self.assertEqual(blockwise.info(p)["channel_names"], names)
        assert_same_bits(self, blockwise.open(p, channel="gfp").compute(), f[1])
        assert_same_bits(self, blockwise.open(p, channel="Cy5").compute(), f[3])
        with self.assertRaises(ValueError):
            blockwise.open(p, channel="TRITC")
        self.assertIsNone(blockwise.info(self.write("c_plain.tif", f[0]))["channel_names"])

    def test_errors(self):
        from blockwise import _core as C
        x = rgb_image((20, 30), 28)
        p = C.ChannelParams()
        C.channel_params_init(p)
        unknown = core_message(C.channel_from_name, b"purple", p)
        p.op, p.index = C.CHANNEL_INDEX, 5
        missing = core_message(C.channel_params_check, p, 3)
        C.channel_params_init(p)
        p.white = -1.0
        white = core_message(C.channel_params_check, p, 3)
        check_raises(self, [
            (lambda: blockwise.channel(x, "purple"), ValueError, unknown),
            (lambda: blockwise.channel(x, 5), ValueError, missing),
            (lambda: blockwise.channel(x, white=-1), ValueError, white),
            (lambda: blockwise.channel(x[..., :2]), ValueError,
             "channel luminance needs red, green and blue: the image has 2 channels"),
            (lambda: blockwise.channel(x[..., 0]), ValueError, "(..., Y, X, C)"),
            (lambda: blockwise.channel(x, 1.0), TypeError, "channel must be"),
            (lambda: blockwise.channel(x, None), TypeError, "channel must be"),
            (lambda: blockwise.channel(x, white="1"), TypeError, "white must be a real number"),
            (lambda: blockwise.channel(x.astype(np.int64)), TypeError, "int64"),
            (lambda: blockwise.channel(x, dtype=np.uint16), ValueError, "f32 or f64"),
            (lambda: blockwise.channel(x, threads=0), ValueError, "threads"),
        ])


    def test_dtypes(self):
        """Input and output dtypes the core does not convert: TypeError (or
        the core's ValueError for a dtype it writes but not for this
        operation) before any pixel is converted, and on dask arrays before
        a graph is made."""
        import dask.array as da
        import blockwise.dask as bd
        x = rgb_image((20, 30), 29)
        for dt in (np.complex64, object, bool, np.float16, np.int64, np.uint64):
            y = x.astype(dt)
            for name, call in (("numpy", lambda: blockwise.channel(y)),
                               ("dask", lambda: bd.channel(da.from_array(y, chunks=(10, 10, 3)))),
                               ("dispatch", lambda: blockwise.channel(
                                   da.from_array(y, chunks=(10, 10, 3)), "hematoxylin")),
                               ("numpy to dask", lambda: bd.channel(y, "od"))):
                with self.subTest(dtype=np.dtype(dt).name, path=name):
                    with self.assertRaises(TypeError) as cm:
                        call()
                    self.assertIn(f"rgb has dtype {np.dtype(dt)}, which the core does not read",
                                  str(cm.exception))
        dx = da.from_array(x, chunks=(10, 10, 3))
        for dt in (np.complex64, bool, np.float16):
            for call in (lambda: blockwise.channel(x, dtype=dt), lambda: bd.channel(dx, dtype=dt)):
                with self.subTest(out=np.dtype(dt).name):
                    with self.assertRaises(TypeError) as cm:
                        call()
                    self.assertIn(f"dtype {np.dtype(dt)} is not one the core writes",
                                  str(cm.exception))
        from blockwise import _core as C
        p = C.ChannelParams()
        C.channel_params_init(p)
        plan = (ctypes.c_double * (C.CHANNEL_PLAN_BYTES // 8))()
        for dt, code in ((np.uint16, 3), (np.int32, 6)):
            message = core_message(C.channel_plan_make, p, 3, 1, code, plan)
            for call in (lambda: blockwise.channel(x, dtype=dt),
                         lambda: bd.channel(dx, dtype=dt)):  # not only when computed
                with self.subTest(out=np.dtype(dt).name):
                    with self.assertRaises(ValueError) as cm:
                        call()
                    self.assertIn(message, str(cm.exception))
                    # The operation named once, though the core names it too.
                    self.assertEqual(str(cm.exception).count("channel: "), 1, str(cm.exception))
        # A channel as it is may keep the input's dtype, lazily too.
        assert_same_bits(self, bd.channel(dx, "g", dtype=np.uint8).compute(), x[..., 1])


def two_step(reader, start, size, opts, dtype=np.float32):
    """The conversion as blockwise.open made it before the reader converted
    while decoding: every channel of the region read, then the core's
    bw_channel_convert."""
    from blockwise import _args, _channel
    pixels = reader.read(start, size)
    planes = [pixels[..., c] for c in range(pixels.shape[-1])]
    out = np.empty(tuple(size), dtype)
    return _channel.convert_into(planes, _args.dtype_code(pixels.dtype), out, opts)


class OpenFused(Files, unittest.TestCase):
    """open(channel=) converts while the reader decodes
    (bw_tiff_read_channel): the same bits as reading every channel and
    converting them (the two-step path open had), for every layout the
    reader has (interleaved strips and tiles, planar, RGBA, 16 bits, JPEG,
    palette, volumes), whole and in regions not aligned to strips or tiles;
    near scikit-image; and no buffer of the region's channels."""

    OPS = ("luminance", "od", "hematoxylin", "eosin", "dab")

    def files(self):
        from PIL import Image
        x = rgb_image((150, 170), 70)
        files = {}
        for name, data, kw in (
                ("f_tiles.tif", x, dict(tile=(32, 48), compression="zlib")),
                ("f_strips.tif", x, dict(rowsperstrip=7)),
                ("f_planar.tif", np.moveaxis(x, -1, 0), dict(planarconfig="separate",
                                                              rowsperstrip=9, compression="zlib")),
                ("f_rgba.tif", np.concatenate([x, x[..., :1] // 3 + 7], -1),
                 dict(extrasamples=["unassalpha"], tile=(64, 64))),
                ("f_16.tif", rgb_image((150, 170), 71, np.uint16), dict(tile=(32, 32),
                                                                        compression="zlib")),
                ("f_volume.tif", np.stack([x, x[::-1], x[:, ::-1]]), dict(compression="zlib"))):
            files[name] = self.write(name, data, photometric="rgb", **kw)
        index = (x[..., 0] // 16).astype(np.uint8)
        cmap = (np.stack([np.arange(256) * 256, 65535 - np.arange(256) * 200,
                          np.arange(256) * 100]) % 65536).astype(np.uint16)
        files["f_palette.tif"] = self.write("f_palette.tif", index, photometric="palette",
                                            colormap=cmap)
        png = self.path("f.png")
        Image.fromarray(x).save(png)
        files["f_jpeg.tif"] = self.path("f_jpeg.tif")
        subprocess.run(["vips", "tiffsave", png, files["f_jpeg.tif"], "--tile", "--tile-width",
                        "64", "--tile-height", "64", "--pyramid", "--compression", "jpeg"],
                       check=True)
        return files

    def test_same_bits_as_two_steps(self):
        from blockwise import _args, _read
        for name, p in self.files().items():
            levels = blockwise.info(p)["levels"]
            for level in range(min(2, len(levels))):
                with _read.Reader(p, level) as r:
                    shape = r.meta["shape"]
                    k = len(shape)
                    boxes = [((0,) * k, shape),
                             ((0,) * (k - 2) + (5, 11), (1,) * (k - 2) + (33, 61)),
                             (tuple(n - m for n, m in zip(shape, (1,) * (k - 2) + (17, 40))),
                              (1,) * (k - 2) + (17, 40))]
                    for op in self.OPS:
                        opts = _args.channel_options(op, 0, "test")
                        for start, size in boxes:
                            msg = f"{name} level {level} {op} {start} {size}"
                            want = two_step(r, start, size, opts)
                            assert_same_bits(self, _read.read_region(p, level, start, size, opts),
                                             want, msg)
                            assert_same_bits(self, r.read_channel(start, size, opts), want, msg)
                        # float64, and an output with strides of its own.
                        start, size = boxes[1]
                        want = two_step(r, start, size, opts, np.float64)
                        out = np.full(tuple(size[:-1]) + (2 * size[-1],), np.nan)[..., ::-2]
                        r.read_channel(start, size, opts, out=out)
                        assert_same_bits(self, out, want, f"{name} {op} float64 strided")
                for op in self.OPS:
                    for chunk_bytes in (None, 3000):
                        with _read.Reader(p, level) as r:
                            want = two_step(r, (0,) * len(r.meta["shape"]), r.meta["shape"],
                                            _args.channel_options(op, 0, "test"))
                        got = blockwise.open(p, level, op, chunk_bytes=chunk_bytes).compute()
                        assert_same_bits(self, got, want, f"open {name} {level} {op} {chunk_bytes}")

    def test_against_skimage(self):
        from skimage.color import rgb2gray, rgb2hed
        for name, p in self.files().items():
            if name == "f_jpeg.tif":
                continue  # tifffile here decodes no JPEG
            x = tifffile.imread(p)
            if name == "f_planar.tif":
                x = np.moveaxis(x, 0, -1)
            if name == "f_palette.tif":
                page = tifffile.TiffFile(p).pages[0]
                x = (page.colormap.T[x] >> 8).astype(np.uint8)
            x = x[..., :3]
            top = np.iinfo(x.dtype).max
            np.testing.assert_allclose(blockwise.open(p, channel="luminance").compute(),
                                       rgb2gray(x) * top, rtol=0, atol=1e-5 * top / 255,
                                       err_msg=name)
            hed = rgb2hed(x)
            for k, op in enumerate(("hematoxylin", "eosin", "dab")):
                np.testing.assert_allclose(blockwise.open(p, channel=op).compute(), hed[..., k],
                                           rtol=0, atol=1e-5, err_msg=f"{name} {op}")

    def test_no_buffer_of_channels(self):
        """A chunk's read allocates its output and nothing of the size of
        its RGB (numpy's allocations are traced by tracemalloc): the two-step
        path needed 3 bytes per pixel more."""
        import tracemalloc
        from blockwise import _args, _read
        x = rgb_image((512, 1024), 72)
        p = self.write("f_big.tif", x, photometric="rgb", tile=(64, 64), compression="zlib")
        opts = _args.channel_options("hematoxylin", 0, "test")
        out_bytes = x.shape[0] * x.shape[1] * 4
        for read in (lambda: _read.read_region(p, 0, (0, 0), x.shape[:2], opts),
                     lambda: _read.read_region(p, 0, (0, 0), x.shape[:2], None)):
            read()  # imports and first-use allocations out of the way
        tracemalloc.start()
        try:
            got = _read.read_region(p, 0, (0, 0), x.shape[:2], opts)
            fused = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            with _read.Reader(p) as r:
                old = two_step(r, (0, 0), x.shape[:2], opts)
            two = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert_same_bits(self, got, old)
        self.assertLess(fused, out_bytes + x.size // 4, "the fused read held the channels")
        self.assertGreater(two, out_bytes + x.size, "the two-step path holds the channels")


class OpenChunks(Files, unittest.TestCase):
    """Chunks aligned to strips and tiles, worked out by hand; a small
    region reads one chunk and decodes its tiles only; the graph pickles."""

    def chunks(self, name, shape, chunk_bytes, **kw):
        p = self.write(name, np.zeros(shape, np.uint8), photometric="minisblack", **kw)
        return p, blockwise.open(p, chunk_bytes=chunk_bytes).chunks

    def test_chunks_by_hand(self):
        cases = [
            # Tiles of 64 rows: 100000 / 1300 = 77 rows, up to 128.
            ("t1.tif", (1000, 1300), 100000, dict(tile=(64, 64)),
             ((128,) * 7 + (104,), (1300,))),
            # One row of tiles (64 x 5000 = 320000 bytes) holds more than
            # twice the target: columns of 100000 / 64 = 1563, up to 1600.
            ("t2.tif", (200, 5000), 100000, dict(tile=(64, 64), compression="zlib"),
             ((64, 64, 64, 8), (1600, 1600, 1600, 200))),
            # Compressed strips of 10 rows: 5000 / 400 = 13 rows, up to 20.
            ("s1.tif", (95, 400), 5000, dict(rowsperstrip=10, compression="zlib"),
             ((20,) * 4 + (15,), (400,))),
            # Uncompressed strips read by rows: any row is an edge.
            ("s2.tif", (95, 400), 5000, dict(rowsperstrip=10), ((13,) * 7 + (4,), (400,))),
            # A wide striped file keeps whole rows.
            ("s3.tif", (40, 5000), 1000, dict(rowsperstrip=4, compression="zlib"),
             ((4,) * 10, (5000,))),
            # Whole pages of a volume: 3 pages of 2000 bytes hold 5000.
            ("v1.tif", (7, 40, 50), 5000, {}, ((3, 3, 1), (40,), (50,))),
            # Pages larger than the target: one each, cut in rows.
            ("v2.tif", (2, 40, 50), 1000, dict(tile=(16, 16)), ((1, 1), (32, 8), (50,))),
            ("whole.tif", (30, 40), None, {}, ((30,), (40,))),
        ]
        for name, shape, chunk_bytes, kw, want in cases:
            p, got = self.chunks(name, shape, chunk_bytes, **kw)
            self.assertEqual(got, want, name)

    def test_small_region_reads_one_chunk(self):
        import dask
        from blockwise import _read
        x = grey_image((512, 4096), 30, np.uint8)
        p = self.write("wide.tif", x, photometric="minisblack", tile=(64, 64),
                       compression="zlib")
        a = blockwise.open(p, chunk_bytes=64 << 10)
        self.assertEqual(a.chunks, ((64,) * 8, (1024,) * 4))
        sub = a[100:120, 200:230]
        graph = sub.__dask_graph__().cull(set(dask.core.flatten(sub.__dask_keys__())))
        reads = {k: v for k, v in dict(graph).items() if isinstance(k, tuple) and k[0] == a.name}
        self.assertEqual(list(reads), [(a.name, 1, 0)])
        assert_same_bits(self, sub.compute(), x[100:120, 200:230])
        # That task's read decodes the 16 tiles of its chunk, of 512.
        task = reads[(a.name, 1, 0)]
        self.assertIs(task[0], _read.read_region)
        self.assertEqual(task[1:5], (p, 0, (64, 0), (64, 1024)))
        with _read.Reader(p) as r:
            got = r.read(task[3], task[4])
            self.assertEqual(r.counters()[1], 16)
        assert_same_bits(self, got, x[64:128, :1024])

    def test_pickle_and_names(self):
        x = rgb_image((90, 80), 31)
        p = self.write("pickle.tif", x, photometric="rgb", tile=(32, 32), compression="zlib")
        a = blockwise.open(p, channel="hematoxylin", chunk_bytes=3000)
        self.assertGreater(a.npartitions, 2)
        for key, task in dict(a.__dask_graph__()).items():
            self.assertLess(len(pickle.dumps(task)), 400, "a task holds more than its region")
        b = pickle.loads(pickle.dumps(a))
        assert_same_bits(self, b.compute(), blockwise.channel(x, "hematoxylin"))
        self.assertEqual(a.name, blockwise.open(p, channel="hematoxylin", chunk_bytes=3000).name)
        others = {blockwise.open(p, channel="eosin", chunk_bytes=3000).name,
                  blockwise.open(p, chunk_bytes=3000).name,
                  blockwise.open(p, channel="hematoxylin").name}
        self.assertNotIn(a.name, others)
        self.assertEqual(len(others), 3)


class OpenDistributed(Files, unittest.TestCase):
    """open's arrays computed on a dask.distributed LocalCluster of 2 worker
    processes (common.local_cluster), each reading the file itself."""

    def test_local_cluster(self):
        a, b = rgb_image((300, 260), 40), rgb_image((300, 260), 41)
        pa = self.write("da.tif", a, photometric="rgb", tile=(64, 64), compression="zlib")
        pb = self.write("db.tif", b, photometric="rgb", rowsperstrip=16, compression="zlib")
        want_r = blockwise.block_corr(blockwise.channel(a), blockwise.channel(b), (10, 10))
        with local_cluster() as client:
            x = blockwise.open(pa, chunk_bytes=50000)
            la = blockwise.open(pa, channel="luminance", chunk_bytes=50000)
            lb = blockwise.open(pb, channel="luminance", chunk_bytes=50000)
            self.assertGreater(la.npartitions, 1)
            r = blockwise.block_corr(la, lb, (10, 10))
            got_x, got_r = client.compute([x, r], sync=True)
        assert_same_bits(self, got_x, a, "pixels read by the workers")
        assert_same_bits(self, got_r, want_r, "corr of luminances")


class OpenErrors(Files, unittest.TestCase):
    """Bad files, levels and channels: ValueError with the TIFF layer's or
    the core's message, before any task runs; TypeError for arguments of
    the wrong kind."""

    def test_errors(self):
        x = rgb_image((40, 50), 50)
        p = self.write("e.tif", x, photometric="rgb")
        missing = self.path("missing.tif")
        junk = self.path("junk.tif")
        with open(junk, "wb") as f:
            f.write(b"not a TIFF file at all")
        cases = []
        for f in (blockwise.open, blockwise.info):
            cases += [
                (lambda f=f: f(missing), ValueError,
                 f"cannot open {missing}: No such file or directory"),
                (lambda f=f: f(self.tmp), ValueError, "not a regular file"),
                (lambda f=f: f(junk), ValueError, junk),
                (lambda f=f: f(p, 1), ValueError,
                 "level 1 does not exist: the file has one level (0), no pyramid"),
                (lambda f=f: f(p, -1), ValueError, "level -1 does not exist"),
                (lambda f=f: f(p, "0"), TypeError, "level must be an integer"),
                (lambda f=f: f(p, 1.0), TypeError, "level must be an integer"),
                (lambda f=f: f(None), TypeError, "path must be a file name"),
                (lambda f=f: f(3), TypeError, "path must be a file name"),
            ]
        cases += [
            (lambda: blockwise.open(p, channel="purple"), ValueError, 'unknown channel "purple"'),
            (lambda: blockwise.open(p, channel=3), ValueError,
             "channel 3 does not exist: the image has 3 (numbered from 0)"),
            (lambda: blockwise.open(p, channel="7"), ValueError, "channel 7 does not exist"),
            (lambda: blockwise.open(p, channel=[0]), TypeError, "channel must be"),
            (lambda: blockwise.open(p, channel="od", white=-2), ValueError,
             "white must be a finite number >= 0"),
            (lambda: blockwise.open(p, white=255), ValueError, "give channel="),
            (lambda: blockwise.open(p, chunk_bytes=0), ValueError, "chunk_bytes"),
            (lambda: blockwise.open(p, chunk_bytes=1.5), TypeError, "chunk_bytes"),
        ]
        check_raises(self, cases)

    def run_python(self, code, **env):
        return subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env),
                              capture_output=True, text=True)

    def test_library_loading(self):
        # The TIFF library is loaded by open and info only: the core's
        # functions work without it, and a missing one says what was tried.
        p = self.write("load.tif", rgb_image((20, 30), 51), photometric="rgb")
        code = ("import numpy as np, blockwise; "
                "print(blockwise.block_stats(np.ones((4, 4)), 2, 'sum').sum()); "
                f"blockwise.info({p!r})")
        r = self.run_python(code, BLOCKWISE_TIFF_LIBRARY="/nonexistent/libblockwise_tiff.so")
        self.assertEqual(r.stdout.strip(), "16.0")
        self.assertIn("ImportError: blockwise: cannot load the TIFF library (libblockwise_tiff)",
                      r.stderr)
        self.assertIn("/nonexistent/libblockwise_tiff.so", r.stderr)
        from blockwise import _tiff
        r = self.run_python(code + "; from blockwise import _tiff; print(_tiff.library_path)",
                            BLOCKWISE_TIFF_LIBRARY=_tiff.library_path)
        self.assertEqual(r.stdout.split(), ["16.0", _tiff.library_path], r.stderr)
        # The builtin open survives a star import.
        r = self.run_python("from blockwise import *; print(open is __builtins__.open, "
                            "callable(info), callable(channel))")
        self.assertEqual(r.stdout.strip(), "True True True", r.stderr)


class LongRead:
    """One long read through the binding's reader into an output that the
    test owns, so that other threads can see how far it has got without a
    clock.  The output starts filled with a NaN bit pattern that the file
    does not hold; the reader writes it front to back (strip after strip).
    While the first element is written and the last is not, the read is in
    flight: Python code that sees this ran while the read's thread was
    inside the library."""

    SENTINEL = np.uint32(0x7FA0_DEAD)  # a signalling NaN's bits

    def __init__(self, path, reader_class):
        self.reader = reader_class(path)
        self.shape = self.reader.meta["shape"]
        self.out = np.empty(self.shape, np.float32)
        self.bits = self.out.view(np.uint32)
        self.bits[...] = self.SENTINEL

    def run(self):
        self.reader.read((0, 0), self.shape, out=self.out)
        self.reader.close()

    def in_flight(self):
        return self.bits[0, 0] != self.SENTINEL and self.bits[-1, -1] == self.SENTINEL

    def done(self):
        return self.bits[-1, -1] != self.SENTINEL


class OpenGil(Files, unittest.TestCase):
    """The GIL is released for the whole of each read, shown without clocks
    as test_threads.Gil shows it for the core: another Python thread keeps
    counting while a read is half way through writing its output.  Were
    the GIL held, no Python code could run between the reader's first and
    last write; released, this passes on the first try unless the machine
    keeps the other thread off the cores for a whole read, and then the
    read is tried again until one shows it."""

    def test_python_thread_runs_during_a_read(self):
        from blockwise import _read, _tiff
        self.assertIsInstance(_tiff.lib, ctypes.CDLL)
        self.assertNotIsInstance(_tiff.lib, ctypes.PyDLL, "the TIFF library is a PyDLL")
        self.assertEqual(os.path.dirname(_tiff.library_path),
                         os.path.dirname(os.path.abspath(blockwise.__file__)))
        rng = np.random.default_rng(60)
        x = np.round(rng.normal(0, 1, (2048, 2048)).cumsum(1), 1).astype(np.float32)
        p = self.write("gil.tif", x, compression="zlib", rowsperstrip=8)
        while True:
            call = LongRead(p, _read.Reader)
            shown = ran_during(call)
            self.assertTrue(call.done())
            assert_same_bits(self, call.out, x)
            if shown:
                break


GROUPS = {"open_pixels": OpenPixels, "open_levels": OpenLevels, "open_channel": OpenChannel,
          "open_chunks": OpenChunks, "open_distributed": OpenDistributed,
          "open_errors": OpenErrors, "open_gil": OpenGil, "open_fused": OpenFused}

if __name__ == "__main__":
    main(__doc__, GROUPS)
