"""Tests of the Python binding: loading the core; block_stats and block_corr
against the per-block numpy references, every dtype; and the bits of the C
core itself on the same pixels, through core_tool (a test program that reads
TIFF files written here by tifffile).  Command line: see common.py."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import blockwise
from common import DTYPES, OPTIONS, assert_close, assert_same_bits, main, reference
from pairs import pair

STATS1 = ("count", "sum", "mean", "var", "std", "min", "max")


class Import(unittest.TestCase):
    """The package loads the core staged next to it; a missing or wrong
    library gives a clear ImportError."""

    def test_loaded_next_to_package(self):
        here = os.path.dirname(os.path.abspath(blockwise.__file__))
        self.assertEqual(os.path.dirname(os.path.abspath(blockwise.library_path)), here)
        self.assertRegex(blockwise.__version__, r"^\d+\.\d+\.\d+$")
        self.assertEqual(blockwise.STATS, ("count", "sum", "mean", "var", "std", "min",
                                           "max", "cov", "corr"))

    def _import_with(self, library):
        env = dict(os.environ, BLOCKWISE_LIBRARY=library)
        return subprocess.run([sys.executable, "-c", "import blockwise"], env=env,
                              capture_output=True, text=True)

    def test_missing_library(self):
        p = self._import_with("/nonexistent/libblockwise.so")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError: blockwise: cannot load the C core library", p.stderr)
        self.assertIn("/nonexistent/libblockwise.so", p.stderr)

    def test_not_a_library(self):
        with tempfile.NamedTemporaryFile(suffix=".so") as f:
            f.write(b"not a shared library")
            f.flush()
            p = self._import_with(f.name)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot load the C core library", p.stderr)

    def test_wrong_library(self):
        import ctypes.util
        libm = ctypes.util.find_library("m")
        self.assertIsNotNone(libm)
        p = self._import_with(libm)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("has no function bw_", p.stderr)

    def test_dask_submodule(self):
        import blockwise.dask as bwd
        self.assertTrue(callable(bwd.block_corr))


class Stats(unittest.TestCase):
    """block_stats against the per-block numpy reference, every dtype."""

    def check(self, x, block, edge, ddof, rtol):
        got = blockwise.block_stats(x, block, STATS1, edge=edge, ddof=ddof)
        self.assertEqual(list(got), list(STATS1))
        for s in STATS1:
            want = reference(x, block, s, edge=edge, ddof=ddof)
            assert_close(self, got[s], want, rtol, f"{s} {x.dtype} {block} {edge} ddof={ddof}")
            self.assertEqual(got[s].dtype, np.float64)

    def test_2d_every_dtype(self):
        for dt in DTYPES:
            x, _ = pair((23, 31), dt, seed=1)
            rtol = 1e-6 if dt == np.float32 else 1e-12
            for edge in ("partial", "trim"):
                for ddof in (0, 1):
                    self.check(x, (4, 5), edge, ddof, rtol)

    def test_3d_every_dtype(self):
        for dt in DTYPES:
            x, _ = pair((7, 13, 11), dt, seed=2)
            rtol = 1e-6 if dt == np.float32 else 1e-12
            self.check(x, (3, 4, 5), "partial", 0, rtol)
            self.check(x, (2, 6, 5), "trim", 1, rtol)

    def test_int_block_and_whole_image_blocks(self):
        x, _ = pair((17, 9), np.uint16, seed=3)
        assert_close(self, blockwise.block_stats(x, 4, "mean"), reference(x, (4, 4), "mean"), 1e-12)
        assert_close(self, blockwise.block_stats(x, (100, 100), "std"),
                     reference(x, (100, 100), "std"), 1e-12)
        v, _ = pair((5, 6, 7), np.int16, seed=4)
        self.assertEqual(blockwise.block_stats(v, 3, "sum").shape, (2, 2, 3))

    def test_single_stat_and_float32_output(self):
        x, _ = pair((40, 50), np.float64, seed=5)
        r64 = blockwise.block_stats(x, (10, 10), ("mean", "var"))
        r32 = blockwise.block_stats(x, (10, 10), ("mean", "var"), dtype="f32")
        for s in ("mean", "var"):
            self.assertEqual(r32[s].dtype, np.float32)
            assert_same_bits(self, r32[s], r64[s].astype(np.float32), s)
        one = blockwise.block_stats(x, (10, 10), "var")
        self.assertIsInstance(one, np.ndarray)
        assert_same_bits(self, one, r64["var"])

    def test_large_offset_and_nan(self):
        rng = np.random.default_rng(6)
        x = 1e8 + rng.normal(size=(20, 20))
        got = blockwise.block_stats(x, (5, 5), "var")
        assert_close(self, got, reference(x, (5, 5), "var"), 1e-6)
        x[3, 3] = np.nan
        got = blockwise.block_stats(x, (5, 5), ("mean", "min", "max"))
        for s in ("mean", "min", "max"):
            self.assertTrue(np.isnan(got[s][0, 0]), s)
            self.assertEqual(np.isnan(got[s]).sum(), 1, s)

    def test_ddof_one_pixel_blocks(self):
        x, _ = pair((4, 6), np.uint8, seed=7)
        got = blockwise.block_stats(x, (1, 1), ("var", "mean"), ddof=1)
        self.assertTrue(np.isnan(got["var"]).all())
        assert_close(self, got["mean"], x.astype(np.float64), 0)

    def test_integer_sums_exact(self):
        x = np.full((64, 64), 2**31 - 1, dtype=np.int32)
        x[1::2] = -2**31
        got = blockwise.block_stats(x, (64, 64), ("sum", "var"))
        self.assertEqual(got["sum"][0, 0], float(32 * 64 * (2**31 - 1) - 32 * 64 * 2**31))
        assert_close(self, got["var"], reference(x, (64, 64), "var"), 1e-15)


class Corr(unittest.TestCase):
    """block_corr and the pair statistics against the numpy reference."""

    def test_every_dtype(self):
        for dt in DTYPES:
            x, y = pair((26, 33), dt, seed=10)
            rtol = 1e-5 if dt == np.float32 else 1e-11
            for edge in ("partial", "trim"):
                got = blockwise.block_corr(x, y, (5, 6), edge=edge)
                assert_close(self, got, reference(x, (5, 6), "corr", y=y, edge=edge), rtol,
                             f"corr {np.dtype(dt)} {edge}")
            got = blockwise.block_stats(x, (5, 6), ("cov", "mean", "corr"), y=y, ddof=1)
            assert_close(self, got["cov"], reference(x, (5, 6), "cov", y=y, ddof=1), rtol)
            assert_close(self, got["mean"], reference(x, (5, 6), "mean"), rtol)
            assert_same_bits(self, got["corr"], blockwise.block_corr(x, y, (5, 6)))

    def test_3d(self):
        x, y = pair((9, 14, 12), np.uint16, seed=11)
        assert_close(self, blockwise.block_corr(x, y, (4, 5, 6)),
                     reference(x, (4, 5, 6), "corr", y=y), 1e-11)

    def test_constant_blocks_and_fill(self):
        x, y = pair((20, 20), np.uint16, seed=12)
        x[:10, :10] = 7
        y[10:, 10:] = 9
        r = blockwise.block_corr(x, y, (10, 10))
        self.assertTrue(np.isnan(r[0, 0]) and np.isnan(r[1, 1]))
        self.assertFalse(np.isnan(r[0, 1]) or np.isnan(r[1, 0]))
        f = blockwise.block_corr(x, y, (10, 10), fill=0.0)
        self.assertEqual((f[0, 0], f[1, 1]), (0.0, 0.0))
        assert_same_bits(self, f[0, 1:], r[0, 1:])
        assert_close(self, f, reference(x, (10, 10), "corr", y=y, fill=0.0), 1e-12)

    def test_perfect_and_anti_correlation(self):
        x, _ = pair((30, 30), np.float64, seed=13)
        np.testing.assert_allclose(blockwise.block_corr(x, 3 * x + 2, 10), 1.0, rtol=1e-14)
        np.testing.assert_allclose(blockwise.block_corr(x, -x, 10), -1.0, rtol=1e-14)


class CoreOracle(unittest.TestCase):
    """The binding gives the bits the C core gives for the same pixels
    (core_tool: the core called from C on a TIFF read by the TIFF layer)."""

    def setUp(self):
        if not OPTIONS.core_tool:
            self.skipTest("no --core-tool given")
        import tifffile
        self.tifffile = tifffile
        self.tmp = tempfile.mkdtemp(prefix="bw_python_")

    def tearDown(self):
        if hasattr(self, "tmp"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def core(self, stat, block, edge, ddof, *images):
        files = []
        for i, im in enumerate(images):
            path = os.path.join(self.tmp, f"in{i}.tif")
            self.tifffile.imwrite(path, im, photometric="minisblack")
            files.append(path)
        out = os.path.join(self.tmp, "out.raw")
        p = subprocess.run([OPTIONS.core_tool, stat, out, ",".join(map(str, block)), edge,
                            str(ddof), *files], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        shape = json.loads(p.stdout)["shape"]
        return np.fromfile(out, dtype=np.float32).reshape(shape)

    def test_stats_and_corr(self):
        cases = [((61, 47), (10, 10), np.uint16), ((33, 40), (4, 7), np.float32),
                 ((6, 30, 22), (4, 10, 10), np.uint8), ((5, 17, 19), (2, 5, 3), np.int16)]
        for shape, block, dt in cases:
            x, y = pair(shape, dt, seed=20)
            for edge in ("partial", "trim"):
                for ddof in (0, 1):
                    got = blockwise.block_stats(x, block, blockwise.STATS, y=y, edge=edge,
                                                ddof=ddof, dtype=np.float32)
                    for stat in blockwise.STATS:
                        if stat in ("count", "sum", "min", "max") and ddof == 1:
                            continue
                        want = self.core(stat, block, edge, ddof, x,
                                         *([y] if stat in ("cov", "corr") else []))
                        assert_same_bits(self, got[stat], want,
                                         f"{stat} {np.dtype(dt)} {shape} {block} {edge} ddof={ddof}")


GROUPS = {"import": Import, "stats": Stats, "corr": Corr, "core_oracle": CoreOracle}

if __name__ == "__main__":
    main(__doc__, GROUPS)
