#!/usr/bin/python3
"""Pyramids read by the Blockwise TIFF reader, level by level, against the
writers' own records and independent decoders: vips' tiled JPEG pyramids
(levels as reduced-resolution directories in the chain), tifffile's
SubIFD pyramids (OME-TIFF's layout) and its chain of reduced pages, and
files whose extra directories are not levels (a label of another shape,
a mask, copies that do not follow every page).

Oracles: the arrays tifffile wrote for each level, PIL's decoder for JPEG
pages (the same libjpeg through libtiff: equal), tiffinfo's sizes, and the
level 0 spacing times each level's reduction.

Run by CTest like test_tiff_interop.py (same environment variables); it
also needs BW_VIPS (vips).
"""
import unittest

import numpy as np
import tifffile
from PIL import Image

import test_tiff_color
from test_tiff_color import texture, vips_jpeg_pyramid
from test_tiff_interop import Case


def setUpModule():
    test_tiff_color.setUpModule()


def halve(a):
    """A level as writers make it here: every other pixel."""
    return a[::2, ::2]


class Pyramid(Case):
    def assertLevels(self, info, shapes, what):
        got = [tuple(lv["shape"]) for lv in info["levels"]]
        self.assertEqual(got, [tuple(s) for s in shapes], what)

    def test_vips_jpeg_pyramid(self):
        src = texture((700, 900, 3), self.rng)
        png = self.path("src", ".png")
        Image.fromarray(src).save(png)
        p = vips_jpeg_pyramid(self, png, 128, "--xres", "4", "--yres", "4")
        with tifffile.TiffFile(p) as tf:
            pages = [(pg.imagelength, pg.imagewidth) for pg in tf.pages]
        self.assertGreater(len(pages), 2, "vips wrote no pyramid")
        info = self.info(p)
        self.assertLevels(info, pages, "vips levels")
        base_spacing = info["spacing"]
        # vips: --xres is pixels per millimetre.
        self.assertAlmostEqual(base_spacing[1], 0.25, places=6)
        for k, (h, w) in enumerate(pages):
            lv = info["levels"][k]
            want = [base_spacing[0] * 700 / h, base_spacing[1] * 900 / w]
            np.testing.assert_allclose(lv["spacing"], want, rtol=1e-12, err_msg=f"level {k}")
            self.assertAlmostEqual(lv["downsample"], (700 / h + 900 / w) / 2, places=9)
            got, _ = self.read(p, level=k)
            with Image.open(p) as im:
                im.seek(k)
                want_px = np.asarray(im.convert("RGB"))
            self.assertEqual(got.shape, want_px.shape, f"level {k}")
            self.assertEqual(np.abs(got.astype(int) - want_px.astype(int)).max(), 0,
                             f"level {k} vs PIL")
            li = self.info(p, level=k)
            self.assertEqual((li["level"], li["shape"]), (k, [h, w]), f"level {k} info")
            self.assertEqual(li["levels"], info["levels"], "the same levels from any level")
        # A region of a level reads only the tiles it meets.
        whole_px, whole = self.read(p, level=1)
        part, c = self.read(p, level=1, start=(10, 130), size=(40, 50))
        self.assertSameArray(part, whole_px[10:50, 130:180], "region of level 1")
        self.assertEqual(c["chunks_decoded"], 1)
        self.assertLess(c["bytes_read"], whole["bytes_read"] / 4)
        r = self.run_tool("info", p, "--level", len(pages), expect_ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"levels 0 to {len(pages) - 1}", r.stderr)

    def test_tifffile_subifds(self):
        a0 = self.rng.integers(0, 65535, size=(3, 64, 96), dtype=np.uint16)
        levels = [a0, a0[:, ::2, ::2], a0[:, ::4, ::4]]
        p = self.path("subifd")
        with tifffile.TiffWriter(p) as w:
            w.write(levels[0], subifds=2, tile=(32, 32), resolution=(100, 100),
                    resolutionunit="CENTIMETER", photometric="minisblack", metadata=None)
            for lv in levels[1:]:
                w.write(lv, subfiletype=1, tile=(16, 16), photometric="minisblack",
                        metadata=None)
        info = self.info(p)
        self.assertEqual((info["ndim"], info["shape"]), (3, [3, 64, 96]), "pages of level 0")
        self.assertLevels(info, [lv.shape for lv in levels], "SubIFD levels")
        for k, lv in enumerate(levels):
            got, _ = self.read(p, level=k)
            self.assertSameArray(got, lv, f"SubIFD level {k}")
            self.assertAlmostEqual(info["levels"][k]["spacing"][2], 0.1 * 2 ** k, places=12)
            self.assertAlmostEqual(info["levels"][k]["spacing"][0], info["spacing"][0])

    def test_tifffile_chain(self):
        """Reduced pages in the chain after their page (tifffile's
        subfiletype=1), and unmarked smaller copies of a single image."""
        a0 = self.rng.integers(0, 255, size=(90, 120, 3), dtype=np.uint8)
        levels = [a0, halve(a0), halve(halve(a0))]
        for marked in (True, False):
            p = self.path("chain")
            with tifffile.TiffWriter(p) as w:
                for k, lv in enumerate(levels):
                    w.write(lv, photometric="rgb", subfiletype=1 if marked and k else 0,
                            metadata=None)
            info = self.info(p)
            self.assertEqual(info["ndim"], 2, f"marked={marked}: not a volume")
            self.assertLevels(info, [lv.shape[:2] for lv in levels], f"marked={marked}")
            for k, lv in enumerate(levels):
                got, _ = self.read(p, level=k)
                self.assertSameArray(got, lv, f"marked={marked}, level {k}")

    def test_not_levels(self):
        a0 = self.rng.integers(0, 255, size=(80, 100), dtype=np.uint8)
        p = self.path("label")
        with tifffile.TiffWriter(p) as w:
            w.write(a0, metadata=None)
            w.write(halve(a0), subfiletype=1, metadata=None)
            w.write(np.zeros((30, 90), np.uint8), subfiletype=1, metadata=None)  # a label
        info = self.info(p)
        self.assertLevels(info, [(80, 100), (40, 50)], "a label is not a level")
        got, _ = self.read(p, level=1)
        self.assertSameArray(got, halve(a0), "level 1")
        # A volume whose second page has no reduced copy: no level.
        p = self.path("partial")
        with tifffile.TiffWriter(p) as w:
            w.write(a0, metadata=None)
            w.write(halve(a0), subfiletype=1, metadata=None)
            w.write(a0, metadata=None)
        info = self.info(p)
        self.assertEqual(info["shape"], [2, 80, 100])
        self.assertLevels(info, [(2, 80, 100)], "copies of one page only")
        # Levels of another pixel format are declined when opened.
        p = self.path("format")
        with tifffile.TiffWriter(p) as w:
            w.write(a0, metadata=None)
            w.write(halve(a0).astype(np.uint16), subfiletype=1, metadata=None)
        self.assertEqual(len(self.info(p)["levels"]), 2)
        r = self.run_tool("info", p, "--level", 1, expect_ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("levels of different pixel formats", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
