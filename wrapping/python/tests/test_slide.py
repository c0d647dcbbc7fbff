"""Tests of blockwise.open and blockwise.info on whole-slide files read
through OpenSlide: the slides test/make_slides.py writes (a vips JPEG
pyramid marked as an Aperio .svs by tiffset, and broken copies), against
python3-openslide's own read_region composited here with numpy, and
channel conversions against scikit-image's rgb2gray and rgb2hed of those
pixels.  Command line: see common.py."""
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import blockwise
from common import assert_same_bits, check_raises, local_cluster, main

MAKE_SLIDES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "test",
                           "make_slides.py")


def openslide_rgb(slide, level, start, size, bg=(255, 255, 255)):
    """The region (start, size) ((Y, X) each) of `level` as python3-openslide
    reads it (level-0 coordinates: the level's times its downsample),
    composited on bg in floating point from the un-premultiplied RGBA it
    gives, and the alpha it had."""
    ds = slide.level_downsamples[level]
    (y, x), (h, w) = start, size
    rgba = np.asarray(slide.read_region((int(round(x * ds)), int(round(y * ds))), level, (w, h)))
    a = rgba[..., 3:].astype(np.float64) / 255
    rgb = rgba[..., :3] * a + np.asarray(bg, np.float64) * (1 - a)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8), rgba[..., 3]


class Slides:
    """The slides of make_slides.py in a temporary folder, made once per
    test class."""

    @classmethod
    def setUpClass(cls):
        import openslide
        cls.tmp = tempfile.mkdtemp(prefix="bw-slide-")
        subprocess.run([sys.executable, MAKE_SLIDES, cls.tmp], check=True)
        cls.svs = os.path.join(cls.tmp, "aperio.svs")
        cls.slide = openslide.OpenSlide(cls.svs)

    @classmethod
    def tearDownClass(cls):
        cls.slide.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def level_rgb(self, level):
        """Level `level` whole, as openslide_rgb reads it: opaque
        everywhere (so that the float compositing is exact)."""
        w, h = self.slide.level_dimensions[level]
        rgb, alpha = openslide_rgb(self.slide, level, (0, 0), (h, w))
        self.assertTrue((alpha == 255).all(), "the slide's tiles cover its levels")
        return rgb


class SlidePixels(Slides, unittest.TestCase):
    """Levels 0 and 1 of the Aperio slide, whole and in chunks, as
    python3-openslide reads them; info as OpenSlide describes the slide."""

    def test_levels_whole_and_chunked(self):
        import dask.array as da
        for level in (0, 1):
            want = self.level_rgb(level)
            for chunk_bytes in (None, 40000, 5000):
                a = blockwise.open(self.svs, level=level, chunk_bytes=chunk_bytes)
                self.assertIsInstance(a, da.Array)
                self.assertEqual((a.shape, a.dtype), (want.shape, np.dtype(np.uint8)))
                self.assertEqual(a.chunks[-1], (3,))
                if chunk_bytes is not None:
                    self.assertGreater(a.npartitions, 4, chunk_bytes)
                assert_same_bits(self, a.compute(), want, f"level {level} chunk_bytes={chunk_bytes}")
            # A slice reads only the chunks it meets, the same pixels.
            a = blockwise.open(self.svs, level=level, chunk_bytes=5000)
            assert_same_bits(self, a[37:201, 55:333].compute(), want[37:201, 55:333])

    def in_pieces(self, level, ph, pw):
        """Level `level` read in pieces of ph x pw pixels by the function
        the tasks of blockwise.open run."""
        from blockwise import _slide
        w, h = self.slide.level_dimensions[level]
        got = np.zeros((h, w, 3), np.uint8)
        ys, xs = list(range(0, h, ph)) + [h], list(range(0, w, pw)) + [w]
        for y0, y1 in zip(ys, ys[1:]):
            for x0, x1 in zip(xs, xs[1:]):
                got[y0:y1, x0:x1] = _slide.read_region(self.svs, level, (y0, x0), (y1 - y0, x1 - x0), None)
        return got

    def test_regions_not_aligned_to_tiles(self):
        """Regions of any origin and size (the slide's tiles are 128 x 128),
        through the function open's tasks run, and regions reaching past
        the level's edge, where OpenSlide gives transparent pixels and the
        slide's background (white) shows."""
        from blockwise import _slide
        for level in (0, 1):
            want = self.level_rgb(level)
            h, w = want.shape[:2]
            assert_same_bits(self, self.in_pieces(level, 97, 131), want, f"level {level} in 97 x 131 pieces")
            for start, size in (((13, 29), (1, 1)), ((h - 50, w - 70), (90, 110)),
                                ((h - 1, w - 1), (3, 4))):
                rgb, alpha = openslide_rgb(self.slide, level, start, size)
                self.assertTrue(set(np.unique(alpha)) <= {0, 255})
                assert_same_bits(self, _slide.read_region(self.svs, level, start, size, None),
                                 rgb, f"level {level} {start} {size}")
                if start[0] + size[0] > h:
                    self.assertTrue((rgb[h - start[0]:] == 255).all(), "white background")

    def test_fractional_levels(self):
        """Levels whose downsample is not a whole number (8.03 and 16.1
        here), where OpenSlide resamples a read that starts at an inexact
        level-0 coordinate: pieces of any origin (through the function
        open's tasks run) are still the pixels of the whole level as
        OpenSlide reads it from its origin."""
        for level in range(2, self.slide.level_count):
            with self.subTest(level=level):
                ds = self.slide.level_downsamples[level]
                assert_same_bits(self, self.in_pieces(level, 37, 53), self.level_rgb(level),
                                 f"level {level} (downsample {ds}) in 37 x 53 pieces")

    def test_info(self):
        import openslide
        s = self.slide
        i = blockwise.info(self.svs)
        dims = s.level_dimensions
        want = dict(path=self.svs, level=0, shape=(dims[0][1], dims[0][0], 3), axes="YXC",
                    dtype=np.dtype(np.uint8), channels=3, color="RGB", alpha=False,
                    format="openslide", vendor=s.properties[openslide.PROPERTY_NAME_VENDOR],
                    spacing_stated=True, spacing_source="OpenSlide", background=(255, 255, 255),
                    tile=(128, 128), tiled=True)
        for k, v in want.items():
            self.assertEqual(i[k], v, k)
        mpp = (float(s.properties[openslide.PROPERTY_NAME_MPP_Y]),
               float(s.properties[openslide.PROPERTY_NAME_MPP_X]))
        self.assertEqual(mpp, (0.499, 0.499), "make_slides.py's MPP")
        self.assertEqual(len(i["levels"]), s.level_count)
        for k, lv in enumerate(i["levels"]):
            self.assertEqual(lv["shape"], (dims[k][1], dims[k][0], 3), k)
            self.assertEqual(lv["downsample"], s.level_downsamples[k], k)
            np.testing.assert_allclose(lv["spacing"], np.multiply(mpp, s.level_downsamples[k] / 1000),
                                       rtol=1e-12)
        one = blockwise.info(self.svs, level=1)
        self.assertEqual((one["level"], one["shape"]), (1, (dims[1][1], dims[1][0], 3)))
        np.testing.assert_allclose(one["spacing"], (0.000998, 0.000998), rtol=1e-12)
        # The same file named .tif is the TIFF reader's: the one dispatch is
        # the extension, as in the command.
        tif = self.path("aperio_as.tif")
        shutil.copyfile(self.svs, tif)
        self.assertEqual(blockwise.info(tif)["format"], "tiff")
        upper = self.path("UPPER.SVS")
        shutil.copyfile(self.svs, upper)
        self.assertEqual(blockwise.info(upper)["format"], "openslide")

    def test_no_stated_spacing(self):
        """A generic TIFF that OpenSlide reads with no MPP, named .svs: not
        stated, spacing 1 per pixel, as for a TIFF file that states none."""
        import openslide
        p = self.path("nompp.svs")
        shutil.copyfile(self.path("generic.tif"), p)
        with openslide.OpenSlide(p) as s:
            self.assertNotIn(openslide.PROPERTY_NAME_MPP_X, s.properties)
            vendor = s.properties[openslide.PROPERTY_NAME_VENDOR]
        i = blockwise.info(p, level=2)
        self.assertEqual((i["spacing"], i["spacing_stated"], i["spacing_source"], i["vendor"]),
                         ((1.0, 1.0), False, "none", vendor))
        self.assertEqual([lv["spacing"] for lv in i["levels"]], [(1.0, 1.0)] * len(i["levels"]))

    def test_background_colour(self):
        """openslide.background-color as the ImageIO parses it, and pixels
        OpenSlide leaves transparent composited on it."""
        from blockwise import _slide
        for text, want in (("1A2B3C", (26, 43, 60)), ("ffffff", (255, 255, 255)),
                           (None, (255, 255, 255)), ("12345", (255, 255, 255)),
                           ("GG0000", (255, 255, 255))):
            props = {} if text is None else {"openslide.background-color": text}
            self.assertEqual(_slide.background(props), want, text)
        s = _slide.Slide(self.svs, 1)
        s.meta["background"] = (10, 200, 30)
        h, w = s.meta["shape"]
        got = s.read((h - 5, w - 6), (9, 10))
        rgb, alpha = openslide_rgb(self.slide, 1, (h - 5, w - 6), (9, 10), bg=(10, 200, 30))
        assert_same_bits(self, got, rgb)
        self.assertTrue((alpha == 0).any() and (got[alpha == 0] == (10, 200, 30)).all())


class SlideComposite(unittest.TestCase):
    """The compositing arithmetic, for every premultiplied (colour, alpha)
    pair OpenSlide can give: the binding's own un-premultiplication
    (openslide.lowlevel, which read_region uses), then blockwise's
    compositing, equal the ImageIO's formula applied here to the
    premultiplied values: min(255, c + (bg (255 - a) + 127) // 255)."""

    def test_every_pair(self):
        import ctypes
        from openslide import lowlevel
        from blockwise import _slide
        a = np.repeat(np.arange(256, dtype=np.uint32), 256)
        c = np.tile(np.arange(256, dtype=np.uint32), 256)
        a, c = a[c <= a], c[c <= a]  # premultiplied: colour <= alpha
        # Three different colours per pixel: c, a - c, c // 2.
        r, g, b = c, a - c, c // 2
        argb = (a << 24) | (r << 16) | (g << 8) | b
        buf = (ctypes.c_uint32 * argb.size).from_buffer(argb.copy())
        rgba = np.asarray(lowlevel._load_image(buf, (argb.size, 1)))
        for bg in ((255, 255, 255), (0, 0, 0), (17, 128, 254)):
            got = _slide.composite(rgba, bg, np.empty(rgba.shape[:-1] + (3,), np.uint8))[0]
            for k, ch in enumerate((r, g, b)):
                want = np.minimum(255, ch + (bg[k] * (255 - a) + 127) // 255)
                np.testing.assert_array_equal(got[:, k], want, err_msg=f"bg {bg} channel {k}")


class SlideChannel(Slides, unittest.TestCase):
    """open(channel=) on the slide against scikit-image on python3-openslide's
    pixels; a channel by number as it is."""

    def test_against_skimage(self):
        from skimage.color import rgb2gray, rgb2hed
        for level in (0, 1):
            rgb = self.level_rgb(level)
            hed = rgb2hed(rgb)
            for chunk_bytes in (None, 6000):
                lum = blockwise.open(self.svs, level, "luminance", chunk_bytes=chunk_bytes)
                self.assertEqual((lum.shape, lum.dtype), (rgb.shape[:2], np.float32))
                lum = lum.compute()
                np.testing.assert_allclose(lum, rgb2gray(rgb) * 255, rtol=0, atol=1e-5)
                h = blockwise.open(self.svs, level, "hematoxylin", chunk_bytes=chunk_bytes)
                h = h.compute()
                np.testing.assert_allclose(h, hed[..., 0], rtol=0, atol=1e-5)
                self.assertGreater(np.ptp(h), 0.05, "the slide has hematoxylin to see")
            g = blockwise.open(self.svs, level, "g", chunk_bytes=6000)
            self.assertEqual(g.dtype, np.uint8)
            assert_same_bits(self, g.compute(), rgb[..., 1])
            assert_same_bits(self, blockwise.open(self.svs, level, "od", white=250).compute(),
                             blockwise.channel(rgb, "od", white=250))

    def test_pickle_and_distributed(self):
        """The graph holds no OpenSlide handle: each task is its region, and
        worker processes open the slide themselves."""
        a = blockwise.open(self.svs, 1, "eosin", chunk_bytes=6000)
        self.assertGreater(a.npartitions, 4)
        for task in dict(a.__dask_graph__()).values():
            self.assertLess(len(pickle.dumps(task)), 400, "a task holds more than its region")
        want = blockwise.channel(self.level_rgb(1), "eosin")
        assert_same_bits(self, pickle.loads(pickle.dumps(a)).compute(), want)
        rgb = blockwise.open(self.svs, 0, chunk_bytes=60000)
        with local_cluster() as client:
            got_e, got_rgb = client.compute([a, rgb], sync=True)
        assert_same_bits(self, got_e, want, "eosin on the workers")
        assert_same_bits(self, got_rgb, self.level_rgb(0), "RGB on the workers")

    def test_handles(self):
        """One handle per file and process, opened anew when the file
        changes."""
        from blockwise import _slide
        p = self.path("handles.svs")
        shutil.copyfile(self.svs, p)
        a = blockwise.open(p, 1, chunk_bytes=6000)
        a.compute(scheduler="threads")
        mine = [k for k in _slide._handles.slides if k[0] == p]
        self.assertEqual(len(mine), 1)
        st = os.stat(p)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))
        assert_same_bits(self, blockwise.open(p, 1).compute(), self.level_rgb(1))
        now = [k for k in _slide._handles.slides if k[0] == p]
        self.assertEqual(len(now), 1)
        self.assertNotEqual(now, mine)
        self.assertNotEqual(a.name, blockwise.open(p, 1, chunk_bytes=6000).name)


class SlideErrors(Slides, unittest.TestCase):
    """Missing, broken and unrecognised slides: ValueError with OpenSlide's
    message (found here by asking python3-openslide itself); levels and
    channels that do not exist; python3-openslide missing."""

    def test_errors(self):
        import openslide
        bogus, truncated, corrupt = (self.path(n) for n in ("bogus.svs", "truncated.svs",
                                                             "corrupt.svs"))
        missing = self.path("missing.svs")
        unrecognised = {}
        for p in (bogus, truncated):
            with self.assertRaises(openslide.OpenSlideUnsupportedFormatError) as cm:
                openslide.OpenSlide(p)
            unrecognised[p] = f"{p}: not a slide OpenSlide recognises (OpenSlide: {cm.exception})"
        with openslide.OpenSlide(corrupt) as s:
            with self.assertRaises(openslide.OpenSlideError) as cm:
                s.read_region((0, 0), 0, s.level_dimensions[0])
            decode = f"open: {corrupt}: {cm.exception}"
        self.assertIn("JPEG", decode)
        os.mkdir(self.path("folder.svs"))
        cases = []
        for f, what in ((blockwise.open, "open"), (blockwise.info, "info")):
            cases += [
                (lambda f=f: f(missing), ValueError,
                 f"{what}: cannot open {missing}: No such file or directory"),
                (lambda f=f: f(self.path("folder.svs")), ValueError, "not a regular file"),
                (lambda f=f: f(bogus), ValueError, unrecognised[bogus]),
                (lambda f=f: f(truncated), ValueError, unrecognised[truncated]),
                (lambda f=f: f(self.svs, 5), ValueError,
                 f"{self.svs}: level 5 does not exist: the slide has levels 0 to 4"),
                (lambda f=f: f(self.svs, -1), ValueError, "level -1 does not exist"),
                (lambda f=f: f(self.svs, "1"), TypeError, "level must be an integer"),
            ]
        cases += [
            (lambda: blockwise.open(self.svs, channel=3), ValueError,
             "channel 3 does not exist: the image has 3 (numbered from 0)"),
            (lambda: blockwise.open(self.svs, channel="DAPI"), ValueError, 'unknown channel "DAPI"'),
            (lambda: blockwise.open(self.svs, channel=1.5), TypeError, "channel must be"),
            (lambda: blockwise.open(self.svs, channel="od", white=-1), ValueError,
             "white must be a finite number >= 0"),
            (lambda: blockwise.open(self.svs, white=200), ValueError, "give channel="),
            (lambda: blockwise.open(self.svs, chunk_bytes=0), ValueError, "chunk_bytes"),
            # The header is intact: it opens, and fails where a tile is decoded.
            (lambda: blockwise.open(corrupt).compute(), ValueError, decode),
            # In small chunks, another tile may fail first, with its own words.
            (lambda: blockwise.open(corrupt, channel="dab", chunk_bytes=5000).compute(),
             ValueError, f"open: {corrupt}: "),
        ]
        check_raises(self, cases)
        # A failed read leaves no broken handle behind.  (Another thread of
        # the last compute may have opened the slide afresh after the
        # failure dropped its handle, and still be reading: a handle may be
        # there, but not one that holds OpenSlide's error, after which
        # every call on it fails.)
        from blockwise import _slide
        for k, s in list(_slide._handles.slides.items()):
            if k[0] == corrupt:
                self.assertGreater(s.level_count, 0)

    def test_without_openslide(self):
        code = ("import sys; sys.modules['openslide'] = None; import blockwise; "
                f"blockwise.open({self.svs!r})")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError: blockwise: whole-slide files (.svs, .ndpi, .mrxs, .scn, "
                      ".bif, .vms, .vmu) are read through OpenSlide's Python binding", r.stderr)
        self.assertIn("install Debian's python3-openslide", r.stderr)
        # TIFF files need no OpenSlide.
        code = ("import sys; sys.modules['openslide'] = None; import blockwise; "
                f"print(blockwise.info({self.path('generic.tif')!r})['shape'])")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "(900, 1100, 3)", r.stderr)


GROUPS = {"slide_pixels": SlidePixels, "slide_composite": SlideComposite,
          "slide_channel": SlideChannel, "slide_errors": SlideErrors}

if __name__ == "__main__":
    main(__doc__, GROUPS)
