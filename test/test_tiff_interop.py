#!/usr/bin/python3
"""Interoperability of the Blockwise TIFF reader and writer with other TIFF
software: tifffile (an independent Python implementation) and libtiff's
command-line tools tiffcp and tiffinfo.

Run by CTest, one test class per CTest test:

    /usr/bin/python3 test_tiff_interop.py ClassName

with the environment variables BW_TIFF_TOOL (the tiff_tool program),
BW_TIFFCP, BW_TIFFINFO (libtiff's tools) and BW_TEST_TMPDIR (a folder for
temporary files).  A missing tool or module is an error, never a skip.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import tifffile

DTYPES = {
    "u8": np.uint8, "i8": np.int8, "u16": np.uint16, "i16": np.int16,
    "u32": np.uint32, "i32": np.int32, "f32": np.float32, "f64": np.float64,
}


def _required_program(var):
    path = os.environ.get(var, "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"{var} must name an executable program (got {path!r})")
    return path


TOOL = TIFFCP = TIFFINFO = None


def setUpModule():
    global TOOL, TIFFCP, TIFFINFO
    TOOL = _required_program("BW_TIFF_TOOL")
    TIFFCP = _required_program("BW_TIFFCP")
    TIFFINFO = _required_program("BW_TIFFINFO")


def random_array(dtype, shape, rng):
    """Values over the dtype's whole range (floats: mixed magnitudes with
    signed zeros and infinities)."""
    dt = np.dtype(dtype)
    if dt.kind in "ui":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    a = (rng.standard_normal(shape) * 10.0 ** rng.integers(-5, 6, size=shape)).astype(dt)
    flat = a.reshape(-1)
    flat[:4] = [0.0, -0.0, np.inf, -np.inf]
    return a


def native(a):
    return a.astype(a.dtype.newbyteorder("="), copy=False)


class Case(unittest.TestCase):
    """Helpers shared by the test classes: a private folder, the tool."""

    def setUp(self):
        base = os.environ.get("BW_TEST_TMPDIR") or None
        if base:
            os.makedirs(base, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(dir=base, prefix="bwtiff-py-")
        self.dir = self._tmp.name
        self.rng = np.random.default_rng(20240611)
        self.counter = 0

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, stem, ext=".tif"):
        self.counter += 1
        return os.path.join(self.dir, f"{stem}-{self.counter}{ext}")

    def run_tool(self, *args, expect_ok=True):
        r = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True)
        self.assertGreaterEqual(r.returncode, 0, f"tiff_tool {args} died of signal: {r.stderr}")
        if expect_ok:
            self.assertEqual(r.returncode, 0, f"tiff_tool {args}: {r.stderr}")
        if r.returncode == 0:
            self.assertEqual(r.stderr, "", f"tiff_tool {args} printed on stderr")
        return r

    def info(self, path, level=None):
        extra = [] if level is None else ["--level", level]
        return json.loads(self.run_tool("info", path, *extra).stdout)

    def read(self, path, start=None, size=None, channels=None, planar=False, level=None):
        """The region (default: all) as read by Blockwise, and the counters.
        Images of several channels come channels last (..., Y, X, C), or
        first with planar=True; channels=(first, count) reads some; level
        picks a level of a pyramid."""
        info = self.info(path, level)
        out = self.path("read", ".raw")
        args = ["read", path, out]
        if level is not None:
            args += ["--level", level]
        if channels is not None:
            args += ["--channels", f"{channels[0]},{channels[1]}"]
        if planar:
            args += ["--planar"]
        if start is not None:
            args += list(start) + list(size)
        counters = json.loads(self.run_tool(*args).stdout)
        shape = tuple(size) if size is not None else tuple(info["shape"])
        n = channels[1] if channels is not None else info["channels"]
        if n > 1:
            shape = (n,) + shape if planar else shape + (n,)
        a = np.fromfile(out, dtype=DTYPES[info["dtype"]]).reshape(shape)
        os.remove(out)
        return a, counters

    def write(self, a, path, *options, spacing=None):
        raw = self.path("in", ".raw")
        native(a).tofile(raw)
        dtype = {np.dtype(v): k for k, v in DTYPES.items()}[a.dtype.newbyteorder("=")]
        args = ["write", raw, path, "--dtype", dtype, "--shape", ",".join(map(str, a.shape))]
        if spacing is not None:
            args += ["--spacing", ",".join(repr(float(s)) for s in spacing)]
        self.run_tool(*args, *options)
        os.remove(raw)

    def tiffcp(self, src, *options):
        dst = self.path("cp")
        r = subprocess.run([TIFFCP, *options, src, dst], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, f"tiffcp {options}: {r.stderr}")
        return dst

    def assertSameArray(self, got, want, what=""):
        want = native(np.asarray(want))
        self.assertEqual(got.dtype, want.dtype, what)
        self.assertEqual(got.shape, want.shape, what)
        if got.tobytes() != want.tobytes():
            g = np.ascontiguousarray(got).view(np.uint8).reshape(got.shape + (-1,))
            w = np.ascontiguousarray(want).view(np.uint8).reshape(want.shape + (-1,))
            diff = np.argwhere((g != w).any(-1))
            self.fail(f"{what}: arrays differ at {len(diff)} elements, e.g. {diff[:3].tolist()}")


class ReadTifffile(Case):
    """Files written by tifffile, every dtype, read identically by Blockwise."""

    CONFIGS = [
        ("uncompressed", {}),
        ("deflate", {"compression": "zlib"}),
        ("deflate, 8-row strips, predictor", {"compression": "zlib", "rowsperstrip": 8,
                                              "predictor": True}),
        ("old-style deflate", {"compression": "deflate"}),
        ("lzma", {"compression": "lzma"}),
        ("tiled 32x16", {"tile": (32, 16)}),
        ("tiled deflate big-endian", {"tile": (16, 48), "compression": "zlib",
                                      "byteorder": ">"}),
        ("bigtiff", {"bigtiff": True}),
        ("bigtiff big-endian tiled", {"bigtiff": True, "byteorder": ">", "tile": (16, 16)}),
        ("big-endian", {"byteorder": ">"}),
        ("little-endian", {"byteorder": "<"}),
    ]

    def test_every_dtype_and_layout(self):
        for name, dt in DTYPES.items():
            for label, cfg in self.CONFIGS:
                if cfg.get("predictor") and np.dtype(dt).kind == "f":
                    continue  # tifffile needs imagecodecs for the float predictor
                for shape in [(37, 45), (4, 37, 45)]:
                    with self.subTest(dtype=name, config=label, shape=shape):
                        a = random_array(dt, shape, self.rng)
                        p = self.path("tf")
                        tifffile.imwrite(p, a, photometric="minisblack", **cfg)
                        info = self.info(p)
                        self.assertEqual(info["dtype"], name)
                        self.assertEqual(info["shape"], list(shape))
                        self.assertEqual(info["big_endian"], int(cfg.get("byteorder") == ">"))
                        self.assertEqual(info["bigtiff"], int(bool(cfg.get("bigtiff"))))
                        self.assertEqual(info["tiled"], int("tile" in cfg))
                        got, _ = self.read(p)
                        self.assertSameArray(got, a, f"{name} {label} {shape}")
                        os.remove(p)

    def test_random_subregions(self):
        a = random_array(np.float32, (5, 70, 90), self.rng)
        for cfg in [{}, {"tile": (16, 32), "compression": "zlib"},
                    {"rowsperstrip": 7, "compression": "zlib", "byteorder": ">"}]:
            p = self.path("sub")
            tifffile.imwrite(p, a, photometric="minisblack", **cfg)
            for _ in range(12):
                start = [int(self.rng.integers(0, n)) for n in a.shape]
                size = [int(self.rng.integers(1, n - s + 1)) for s, n in zip(start, a.shape)]
                got, _ = self.read(p, start, size)
                want = a[tuple(slice(s, s + n) for s, n in zip(start, size))]
                self.assertSameArray(got, want, f"{cfg} {start} {size}")

    def test_spacing_from_resolution(self):
        a = random_array(np.uint16, (6, 8), self.rng)
        for unit, per_unit in [("CENTIMETER", 10.0), ("INCH", 25.4), ("NONE", 1.0)]:
            p = self.path("res")
            tifffile.imwrite(p, a, resolution=(4.0, 2.5), resolutionunit=unit)
            with tifffile.TiffFile(p) as t:
                tags = t.pages[0].tags
                xn, xd = tags["XResolution"].value
                yn, yd = tags["YResolution"].value
            info = self.info(p)
            self.assertAlmostEqual(info["spacing"][1], per_unit * xd / xn, delta=1e-6)
            self.assertAlmostEqual(info["spacing"][0], per_unit * yd / yn, delta=1e-6)
            self.assertAlmostEqual(info["spacing"][1], per_unit / 4.0, places=6)

    def test_imagej_spacing(self):
        a = random_array(np.uint16, (3, 10, 12), self.rng)
        p = self.path("ij")
        tifffile.imwrite(p, a, imagej=True, resolution=(1 / 0.2, 1 / 0.3),
                         metadata={"spacing": 2.5, "unit": "um", "axes": "ZYX"})
        with tifffile.TiffFile(p) as t:
            tags = t.pages[0].tags
            # ImageJ's unit is the unit of the resolution tags and of
            # spacing (test_tiff_meta.py tests the others).
            self.assertEqual(t.imagej_metadata["unit"], "um")
            per_unit = 1e-3
            xn, xd = tags["XResolution"].value
            yn, yd = tags["YResolution"].value
        info = self.info(p)
        self.assertEqual(info["shape"], [3, 10, 12])
        self.assertAlmostEqual(info["spacing"][0], 2.5e-3, delta=1e-15)
        # libtiff hands resolutions over as single-precision floats.
        self.assertAlmostEqual(info["spacing"][1], per_unit * yd / yn, delta=1e-9)
        self.assertAlmostEqual(info["spacing"][2], per_unit * xd / xn, delta=1e-9)
        got, _ = self.read(p)
        self.assertSameArray(got, a)

    def test_imagej_single_image(self):
        # tifffile writes images=1 into the ImageJ description of a single
        # image: it stays 2-D.
        a = random_array(np.uint8, (10, 12), self.rng)
        p = self.path("ij1")
        tifffile.imwrite(p, a, imagej=True)
        with tifffile.TiffFile(p) as t:
            self.assertIn("images=1", t.pages[0].description.splitlines())
        self.assertEqual(self.info(p)["shape"], [10, 12])
        got, _ = self.read(p)
        self.assertSameArray(got, a)


class ReadTiffcp(Case):
    """tiffcp re-layouts (LZW, PackBits, ZSTD, predictors, tiles, strips,
    byte orders, BigTIFF) of tifffile files read identically."""

    def variants(self, kind):
        pred = "3" if kind == "f" else "2"
        v = [
            ["-c", "lzw"], ["-c", "lzw:" + pred], ["-c", "packbits"], ["-c", "zip:" + pred],
            ["-c", "zstd"], ["-c", "zstd:" + pred + ":p19"], ["-r", "5"], ["-r", "3", "-c", "lzw"],
            ["-t", "-w", "128", "-l", "128"], ["-t", "-w", "16", "-l", "32", "-c", "lzw:" + pred],
            ["-t", "-w", "32", "-l", "16", "-c", "packbits", "-B"], ["-B", "-c", "zstd"],
            ["-8", "-c", "lzw", "-r", "7"], ["-8", "-B", "-t", "-w", "16", "-l", "16"],
            # Deflate with horizontal differencing (on the bits of floats
            # too), in both byte orders, strips and tiles: the reader
            # inflates these itself.
            ["-c", "zip:2"], ["-B", "-c", "zip:2", "-r", "4"],
            ["-B", "-t", "-w", "16", "-l", "32", "-c", "zip:2"],
        ]
        return v

    def test_relayouts(self):
        for name, dt in DTYPES.items():
            for shape in [(37, 45), (3, 37, 45)]:
                a = random_array(dt, shape, self.rng)
                src = self.path("src")
                tifffile.imwrite(src, a, photometric="minisblack", metadata=None)
                for opts in self.variants(np.dtype(dt).kind):
                    with self.subTest(dtype=name, shape=shape, tiffcp=" ".join(opts)):
                        p = self.tiffcp(src, *opts)
                        info = self.info(p)
                        self.assertEqual(info["shape"], list(shape))
                        self.assertEqual(info["tiled"], int("-t" in opts))
                        self.assertEqual(info["big_endian"],
                                         1 if "-B" in opts else int(sys.byteorder == "big"))
                        self.assertEqual(info["bigtiff"], int("-8" in opts))
                        got, _ = self.read(p)
                        self.assertSameArray(got, a, f"{name} {opts}")
                        os.remove(p)

    def tiffinfo_geometry(self, p):
        """(tiled, RowsPerStrip or TileLength, compressed) of the first
        directory, as tiffinfo tells them."""
        r = subprocess.run([TIFFINFO, p], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, f"tiffinfo {p}: {r.stderr}")
        tile = re.search(r"Tile Width: (\d+) Tile Length: (\d+)", r.stdout)
        strip = re.search(r"Rows/Strip: (\d+)", r.stdout)
        scheme = re.search(r"Compression Scheme: (.+)", r.stdout)
        self.assertTrue(scheme and (tile or strip), f"tiffinfo {p}: {r.stdout}")
        rows = int(tile.group(2)) if tile else int(strip.group(1))
        return bool(tile), rows, scheme.group(1).strip() != "None"

    def test_band_unit(self):
        """The band unit of each re-layout is what tiffinfo says of its
        geometry: one row for uncompressed strips, RowsPerStrip for
        compressed strips, TileLength for tiles, at most the rows of a page;
        one page."""
        a = random_array(np.uint16, (3, 37, 45), self.rng)
        src = self.path("src")
        tifffile.imwrite(src, a, photometric="minisblack", metadata=None)
        extra = [["-r", "100", "-c", "lzw"], ["-t", "-w", "16", "-l", "64"],
                 ["-r", "1", "-c", "packbits"], ["-r", "9"]]
        for opts in self.variants("u") + extra:
            with self.subTest(tiffcp=" ".join(opts)):
                p = self.tiffcp(src, *opts)
                tiled, rows, compressed = self.tiffinfo_geometry(p)
                want = min(rows, 37) if tiled or compressed else 1
                info = self.info(p)
                self.assertEqual((info["band_rows"], info["band_pages"]), (want, 1),
                                 f"tiffinfo: tiled {tiled}, {rows} rows, compressed {compressed}")
                os.remove(p)

    def test_names(self):
        a = random_array(np.uint16, (20, 30), self.rng)
        src = self.path("src")
        tifffile.imwrite(src, a, metadata=None)
        for opt, code, name in [("lzw", 5, "lzw"), ("packbits", 32773, "packbits"),
                                ("zip", 8, "deflate"), ("zstd", 50000, "zstd"),
                                ("none", 1, "none")]:
            info = self.info(self.tiffcp(src, "-c", opt))
            self.assertEqual((info["compression"], info["compression_name"]), (code, name))


class PartialRead(Case):
    """A small region of a large file reads a small fraction of its bytes and
    only the strips or tiles it meets (files made by tifffile and tiffcp)."""

    def test_counters(self):
        n = 4096
        y, x = np.mgrid[0:n, 0:n]
        a = ((y * 7 + x * 3) % 65536).astype(np.uint16)
        single = self.path("single")
        tifffile.imwrite(single, a, rowsperstrip=n, metadata=None)
        with tifffile.TiffFile(single) as t:
            self.assertEqual(len(t.pages[0].dataoffsets), 1)
        cases = [
            ("one uncompressed strip", single, 1, 1),
            ("tiles 256", self.tiffcp(single, "-t", "-w", "256", "-l", "256"), 1, 4),
            ("lzw tiles 256", self.tiffcp(single, "-t", "-w", "256", "-l", "256", "-c", "lzw"),
             1, 4),
            ("16-row strips", self.tiffcp(single, "-r", "16"), 1, 2),
            ("16-row zstd strips", self.tiffcp(single, "-r", "16", "-c", "zstd"), 1, 2),
        ]
        for label, p, chunks_inside, chunks_across in cases:
            with self.subTest(label):
                size = os.path.getsize(p)
                got, c = self.read(p, (2000, 3000), (10, 10))
                self.assertSameArray(got, a[2000:2010, 3000:3010], label)
                self.assertLess(c["bytes_read"], 0.05 * size, f"{label}: {c} of {size}")
                self.assertEqual(c["chunks_decoded"], chunks_inside, label)
                got, c = self.read(p, (250, 250), (10, 10))
                self.assertSameArray(got, a[250:260, 250:260], label)
                self.assertEqual(c["chunks_decoded"], chunks_across, label)
                self.assertLess(c["bytes_read"], 0.05 * size, f"{label}: {c} of {size}")


class WrittenByBlockwise(Case):
    """Files written by Blockwise: tiffinfo accepts them without a word on
    stderr, tifffile reads the same pixels (after tiffcp -c none for codecs
    it lacks), and the tags say what was asked for."""

    CONFIGS = [
        ("none", [], 1),
        ("none 5-row strips", ["--rows-per-strip", "5"], 1),
        ("tiled", ["--tiled", "16x32"], 1),
        ("lzw predictor", ["--compression", "lzw", "--predictor"], 5),
        ("deflate 9 predictor", ["--compression", "deflate", "--level", "9", "--predictor"], 8),
        ("deflate tiled", ["--compression", "deflate", "--tiled", "32x16", "--pieces", "0"], 8),
        ("packbits", ["--compression", "packbits", "--pieces", "7"], 32773),
        ("zstd predictor", ["--compression", "zstd", "--predictor", "--pieces", "3"], 50000),
        ("zstd tiled", ["--compression", "zstd", "--tiled", "16x16", "--level", "5"], 50000),
        ("bigtiff", ["--bigtiff", "1", "--tiled", "16x16"], 1),
    ]

    def tifffile_read(self, p, code, predictor):
        if code in (5, 32773, 50000) or (predictor and code == 8):
            p = self.tiffcp(p, "-c", "none")
        return tifffile.imread(p)

    def test_every_dtype_and_layout(self):
        for name, dt in DTYPES.items():
            for label, opts, code in self.CONFIGS:
                for shape in [(23, 35), (3, 23, 35)]:
                    with self.subTest(dtype=name, config=label, shape=shape):
                        a = random_array(dt, shape, self.rng)
                        p = self.path("bw")
                        self.write(a, p, *opts)
                        r = subprocess.run([TIFFINFO, "-D", p], capture_output=True, text=True)
                        self.assertEqual(r.returncode, 0, r.stderr)
                        self.assertEqual(r.stderr, "", label)
                        got = self.tifffile_read(p, code, "--predictor" in opts)
                        self.assertSameArray(got, a, f"{name} {label} {shape}")
                        with tifffile.TiffFile(p) as t:
                            self.assertEqual(len(t.pages), shape[0] if len(shape) == 3 else 1)
                            self.assertEqual(t.is_bigtiff, "--bigtiff" in opts)
                            for i, page in enumerate(t.pages):
                                tags = page.tags
                                self.assertEqual(int(tags["Compression"].value), code)
                                self.assertTrue(tags["Software"].value.startswith("Blockwise "))
                                self.assertEqual(page.is_tiled, "--tiled" in opts)
                                self.assertEqual(int(tags["SampleFormat"].value),
                                                 {"u": 1, "i": 2, "f": 3}[np.dtype(dt).kind])
                                if len(shape) == 3:
                                    self.assertEqual(tuple(tags["PageNumber"].value), (i, shape[0]))
                                if "--predictor" in opts:
                                    self.assertEqual(int(tags["Predictor"].value),
                                                     3 if np.dtype(dt).kind == "f" else 2)
                        os.remove(p)

    def test_spacing(self):
        a = random_array(np.float64, (3, 5, 7), self.rng)
        sp = (2.5, 0.123456789012345, 3.3e-4)
        p = self.path("sp")
        self.write(a, p, spacing=sp)
        self.assertEqual(self.info(p)["spacing"], list(sp))
        with tifffile.TiffFile(p) as t:
            tags = t.pages[0].tags
            self.assertEqual(int(tags["ResolutionUnit"].value), 3)
            xn, xd = tags["XResolution"].value
            yn, yd = tags["YResolution"].value
            self.assertAlmostEqual((xn / xd) / (10 / sp[2]), 1, places=6)
            self.assertAlmostEqual((yn / yd) / (10 / sp[1]), 1, places=6)
            lines = tags["ImageDescription"].value.splitlines()
            self.assertIn("images=3", lines)
            self.assertIn("spacing=2.5", lines)
            self.assertIn(f"yspacing={sp[1]!r}", lines)
            self.assertIn(f"xspacing={sp[2]!r}", lines)

    def test_single_page_volume(self):
        # A volume of one page reads back as one (images=1 marks it); other
        # software sees a plain page.
        a = random_array(np.uint16, (1, 5, 7), self.rng)
        sp = (2.5, 0.5, 0.25)
        p = self.path("vol1")
        self.write(a, p, "--compression", "deflate", spacing=sp)
        info = self.info(p)
        self.assertEqual((info["ndim"], info["shape"], info["spacing"]), (3, [1, 5, 7], list(sp)))
        got, _ = self.read(p)
        self.assertSameArray(got, a)
        with tifffile.TiffFile(p) as t:
            self.assertEqual(len(t.pages), 1)
            self.assertIn("images=1", t.pages[0].description.splitlines())
        self.assertSameArray(tifffile.imread(p).reshape(1, 5, 7), a)
        r = subprocess.run([TIFFINFO, "-D", p], capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))


class BadFiles(Case):
    """Broken files: tiff_tool exits with status 1 and one message line;
    nothing crashes."""

    def check_fails(self, p, what):
        for args in (["info", p], ["read", p, self.path("out", ".raw")]):
            r = self.run_tool(*args, expect_ok=False)
            if r.returncode == 0 and args[0] == "read":
                return False
            if r.returncode != 0:
                self.assertEqual(r.returncode, 1, f"{what}: {r.stderr}")
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, f"{what}: {r.stderr}")
                self.assertTrue(lines[0].startswith("tiff_tool: "), lines[0])
                return True
        return False

    def test_truncated(self):
        a = random_array(np.uint16, (3, 40, 50), self.rng)
        for cfg in [{}, {"compression": "zlib", "tile": (16, 16)}]:
            p = self.path("full")
            tifffile.imwrite(p, a, photometric="minisblack", **cfg)
            with open(p, "rb") as f:
                data = f.read()
            with tifffile.TiffFile(p) as t:
                last_pixel = max(int(o) + int(c) for page in t.pages
                                 for o, c in zip(page.dataoffsets, page.databytecounts))
            for cut in list(range(0, 64, 7)) + [len(data) // 3, len(data) // 2, last_pixel - 1]:
                q = self.path("cut")
                with open(q, "wb") as f:
                    f.write(data[:cut])
                self.assertTrue(self.check_fails(q, f"{cfg} cut at {cut}"),
                                f"{cfg}: a file cut at {cut} of {len(data)} read without error")

    def test_truncated_blockwise_file(self):
        a = random_array(np.float32, (2, 30, 20), self.rng)
        p = self.path("bw")
        self.write(a, p, "--compression", "deflate", "--tiled", "16x16")
        with open(p, "rb") as f:
            data = f.read()
        for cut in [1, 3, 20, 100, len(data) // 2]:
            q = self.path("cut")
            with open(q, "wb") as f:
                f.write(data[:len(data) - cut])
            self.assertTrue(self.check_fails(q, f"cut {cut} bytes"),
                            f"a file missing its last {cut} bytes read without error")

    def test_not_tiff(self):
        p = self.path("junk")
        with open(p, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + bytes(200))
        self.assertTrue(self.check_fails(p, "png"))
        r = self.run_tool("info", p, expect_ok=False)
        self.assertIn("not a readable TIFF", r.stderr)
        r = self.run_tool("info", os.path.join(self.dir, "missing.tif"), expect_ok=False)
        self.assertIn("No such file", r.stderr)

    def test_unsupported(self):
        for a, kw, word in [
            (np.zeros((8, 8, 4), np.uint8), {"photometric": "separated"}, "CMYK"),
            (np.zeros((8, 8), np.complex64), {}, "complex"),
            (np.zeros((8, 8), np.int64), {}, "64-bit"),
            (np.zeros((8, 8), bool), {}, "bilevel"),
        ]:
            p = self.path("unsup")
            tifffile.imwrite(p, a, **kw)
            r = self.run_tool("info", p, expect_ok=False)
            self.assertEqual(r.returncode, 1, f"{a.dtype}: accepted")
            self.assertIn(word, r.stderr)
        p = self.path("pages")
        with tifffile.TiffWriter(p) as w:
            w.write(np.zeros((4, 4), np.uint8))
            w.write(np.zeros((4, 5), np.uint8))
        r = self.run_tool("info", p, expect_ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("different sizes", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
