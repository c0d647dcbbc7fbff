"""Tests of the Python binding, run by CTest with Debian's /usr/bin/python3:

    PYTHONPATH=BUILD/python test_blockwise.py [--core-tool CORE_TOOL] [GROUP ...]

GROUP is one of the names in GROUPS (all when none is given); each is a
unittest.TestCase.  Oracles: numpy references written here, per block, in
float64 or exact Python integers; and the C core itself called on the same
pixels through core_tool (a test program that reads TIFF files written here
by tifffile).
"""
import argparse
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import unittest

import numpy as np

import blockwise

CORE_TOOL = None
DTYPES = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32,
          np.float64)
STATS1 = ("count", "sum", "mean", "var", "std", "min", "max")


# ---------------------------------------------------------------------------
# numpy references
# ---------------------------------------------------------------------------

def block_slices(shape, block, edge="partial"):
    """(output shape, [(output index, pixel slices)]) of the blocks of the
    last len(block) axes of an array of `shape`."""
    ranges = []
    for n, b in zip(shape[-len(block):], block):
        count = n // b if edge == "trim" else -(-n // b)
        ranges.append([slice(i * b, min((i + 1) * b, n)) for i in range(count)])
    out = tuple(len(r) for r in ranges)
    return out, [(idx, tuple(ranges[d][i] for d, i in enumerate(idx)))
                 for idx in np.ndindex(*out)]


def reference(x, block, stat, y=None, edge="partial", ddof=0, fill=None):
    """One statistic per block, straightforwardly: exact Python integers for
    integer inputs, float64 for floats."""
    k = len(block)
    lead = x.shape[:-k]
    out_shape, blocks = block_slices(x.shape, block, edge)
    out = np.empty(lead + out_shape)
    exact = np.issubdtype(x.dtype, np.integer)
    for li in np.ndindex(*lead):
        for idx, sl in blocks:
            a = x[li][sl].ravel()
            b = y[li][sl].ravel() if y is not None else None
            n = a.size
            if exact:
                ai = [int(v) for v in a]
                bi = [int(v) for v in b] if b is not None else None
                s1 = sum(ai)
                s2 = sum(v * v for v in ai)
                m2a = n * s2 - s1 * s1  # n * sum (a - mean)^2, exact
                if bi is not None:
                    t1 = sum(bi)
                    m2b = n * sum(v * v for v in bi) - t1 * t1
                    mab = n * sum(p * q for p, q in zip(ai, bi)) - s1 * t1
                values = {
                    "count": float(n), "sum": float(s1), "mean": s1 / n,
                    "var": m2a / (n * (n - ddof)) if n > ddof else math.nan,
                    "min": float(min(ai)), "max": float(max(ai)),
                }
                values["std"] = math.sqrt(values["var"])
                if bi is not None:
                    values["cov"] = mab / (n * (n - ddof)) if n > ddof else math.nan
                    values["corr"] = (mab / math.sqrt(m2a * m2b) if m2a > 0 and m2b > 0
                                      else (math.nan if fill is None else fill))
            else:
                af = a.astype(np.float64)
                da = af - af.mean()
                var = (da * da).sum() / (n - ddof) if n > ddof else math.nan
                values = {
                    "count": float(n), "sum": af.sum(), "mean": af.mean(), "var": var,
                    "std": math.sqrt(var), "min": np.min(af), "max": np.max(af),
                }
                if b is not None:
                    bf = b.astype(np.float64)
                    db = bf - bf.mean()
                    values["cov"] = (da * db).sum() / (n - ddof) if n > ddof else math.nan
                    den = (da * da).sum() * (db * db).sum()
                    values["corr"] = ((da * db).sum() / math.sqrt(den) if den > 0
                                      else (math.nan if fill is None else fill))
            out[li + idx] = values[stat]
    return out


def pair(shape, dtype, seed=0, noise=0.4):
    """A textured pair of images of `dtype`, correlated block by block with
    varying strength and sign."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=shape)
    a = base + noise * rng.normal(size=shape)
    b = base * rng.uniform(-1, 1, size=shape[:-1] + (1,)) + noise * rng.normal(size=shape)
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        scale = (float(info.max) - float(info.min)) / 14
        mid = (float(info.max) + float(info.min)) / 2
        a = np.clip(np.round(a * scale + mid), info.min, info.max)
        b = np.clip(np.round(b * scale + mid), info.min, info.max)
    return a.astype(dtype), b.astype(dtype)


def assert_same_bits(test, a, b, msg=""):
    a, b = np.asarray(a), np.asarray(b)
    test.assertEqual(a.shape, b.shape, msg)
    test.assertEqual(a.dtype, b.dtype, msg)
    test.assertTrue(np.array_equal(a.view(np.uint8), b.view(np.uint8)),
                    f"{msg}: differ in {np.count_nonzero(a != b)} of {a.size} elements")


def assert_close(test, got, want, rtol, msg=""):
    test.assertEqual(got.shape, want.shape, msg)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True, err_msg=msg)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

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
        if not CORE_TOOL:
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
        p = subprocess.run([CORE_TOOL, stat, out, ",".join(map(str, block)), edge,
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


class Leading(unittest.TestCase):
    """Axes before the blocked ones are kept: (T, C, Z, Y, X) with a 3-D
    block gives (T, C, z, y, x)."""

    def test_5d_with_3d_blocks(self):
        x, y = pair((2, 3, 5, 12, 14), np.uint16, seed=30)
        got = blockwise.block_stats(x, (2, 5, 5), ("mean", "corr"), y=y)
        self.assertEqual(got["mean"].shape, (2, 3, 3, 3, 3))
        for t in range(2):
            for c in range(3):
                one = blockwise.block_stats(x[t, c], (2, 5, 5), ("mean", "corr"), y=y[t, c])
                for s in one:
                    assert_same_bits(self, got[s][t, c], one[s], f"{s} t={t} c={c}")
        assert_close(self, got["corr"], reference(x, (2, 5, 5), "corr", y=y), 1e-11)
        assert_close(self, got["mean"], reference(x, (2, 5, 5), "mean"), 1e-12)

    def test_5d_with_2d_blocks(self):
        x, y = pair((2, 2, 3, 11, 13), np.float32, seed=31)
        r = blockwise.block_corr(x, y, (4, 4))
        self.assertEqual(r.shape, (2, 2, 3, 3, 4))
        for idx in np.ndindex(2, 2, 3):
            assert_same_bits(self, r[idx], blockwise.block_corr(x[idx], y[idx], (4, 4)), str(idx))
        assert_close(self, r, reference(x, (4, 4), "corr", y=y), 1e-5)

    def test_strided_leading_axes(self):
        # Leading axes whose strides cannot merge into one (a step, a
        # transpose), and some that can (an axis of extent 1, broadcasting).
        x, y = pair((4, 6, 20, 21), np.int16, seed=32)
        cases = [(x[:, ::2], y[:, ::2]), (x.transpose(1, 0, 2, 3), y.transpose(1, 0, 2, 3)),
                 (x[:, 2:3], y[:, 2:3]), (x[1:3, :, ::-1], y[1:3, :, ::-1]),
                 (np.broadcast_to(x[0, 0], (2, 3, 20, 21)), np.broadcast_to(y[1, 1], (2, 3, 20, 21)))]
        for xs, ys in cases:
            for block in ((5, 7), (3, 5, 7)):
                got = blockwise.block_corr(xs, ys, block)
                want = blockwise.block_corr(np.ascontiguousarray(xs), np.ascontiguousarray(ys), block)
                assert_same_bits(self, got, want, str(block))

    def test_empty_leading_axis(self):
        x = np.zeros((0, 3, 20, 20), np.uint8)
        got = blockwise.block_stats(x, (10, 10), ("mean", "max"))
        self.assertEqual(got["mean"].shape, (0, 3, 2, 2))
        self.assertEqual(blockwise.block_output_shape(x.shape, (10, 10)), (0, 3, 2, 2))

    def test_output_shape_and_region_map(self):
        self.assertEqual(blockwise.block_output_shape((2, 3, 25, 40, 41), (10, 10, 10)),
                         (2, 3, 3, 4, 5))
        self.assertEqual(blockwise.block_output_shape((25, 41), 10, edge="trim"), (2, 4))
        reg = blockwise.block_input_region((25, 41), (10, 10), (slice(1, 3), 4))
        self.assertEqual(reg, (slice(10, 25), slice(40, 41)))
        x, _ = pair((25, 41), np.uint16, seed=33)
        whole = blockwise.block_stats(x, (10, 10), "std")
        assert_same_bits(self, blockwise.block_stats(x[reg], (10, 10), "std"), whole[1:3, 4:5])


class Views(unittest.TestCase):
    """Strided views go to the core as they are: same bits as a contiguous
    copy, and no copy made."""

    def test_strided_views(self):
        base, other = pair((60, 70), np.uint16, seed=40)
        views = {
            "step": lambda a: a[1::2, ::3],
            "reversed": lambda a: a[::-1, ::-1],
            "transposed": lambda a: a.T,
            "fortran": np.asfortranarray,
            "subregion": lambda a: a[7:51, 13:66],
        }
        for name, f in views.items():
            xv, yv = f(base), f(other)
            for block in ((4, 6), (10, 10)):
                got = blockwise.block_stats(xv, block, ("mean", "var", "min", "corr"), y=yv)
                want = blockwise.block_stats(np.ascontiguousarray(xv), block,
                                             ("mean", "var", "min", "corr"),
                                             y=np.ascontiguousarray(yv))
                for s in got:
                    assert_same_bits(self, got[s], want[s], f"{name} {block} {s}")

    def test_zero_strides(self):
        row = np.arange(50, dtype=np.float64)
        x = np.broadcast_to(row, (40, 50))
        assert_same_bits(self, blockwise.block_stats(x, (8, 10), "mean"),
                         blockwise.block_stats(x.copy(), (8, 10), "mean"))

    def test_no_copy(self):
        big, _ = pair((3000, 3000), np.float64, seed=41)
        view = big[::2, ::2]  # a copy would be 18 MB
        tracemalloc.start()
        try:
            blockwise.block_stats(view, (10, 10), ("mean", "std"), threads=2)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(peak, 2 * 1024 * 1024, "block_stats copied its input")

    def test_byte_order_and_alignment(self):
        x, y = pair((30, 40), np.int32, seed=42)
        want = blockwise.block_corr(x, y, 10)
        assert_same_bits(self, blockwise.block_corr(x.astype(">i4"), y.astype(">i4"), 10), want)
        buf = np.zeros(x.nbytes + 1, np.uint8)
        xu = np.frombuffer(buf.data, dtype=np.int32, count=x.size, offset=1).reshape(x.shape)
        self.assertFalse(xu.flags.aligned)
        assert_same_bits(self, blockwise.block_stats(xu, 10, "mean"),
                         blockwise.block_stats(np.zeros_like(x), 10, "mean"))

    def test_array_likes(self):
        rows = [[float(i * 7 + j) for j in range(7)] for i in range(6)]
        assert_same_bits(self, blockwise.block_stats(rows, 3, "sum"),
                         blockwise.block_stats(np.array(rows), 3, "sum"))


class Errors(unittest.TestCase):
    """Bad input raises TypeError or ValueError with a clear message, and
    never crashes."""

    def test_messages(self):
        x, y = pair((20, 30), np.uint16, seed=50)
        bs, bc = blockwise.block_stats, blockwise.block_corr
        cases = [
            (lambda: bs(x.astype(np.int64), 10), TypeError, "dtype int64"),
            (lambda: bs(x.astype(bool), 10), TypeError, "dtype bool"),
            (lambda: bs(x.astype(np.complex64), 10), TypeError, "supported: uint8"),
            (lambda: bs(x.astype(np.float16), 10), TypeError, "float16"),
            (lambda: bs(x.astype(object), 10), TypeError, "object"),
            (lambda: bs([[1, 2], [3, 4]], 1), TypeError, "int64"),
            (lambda: bs(np.ma.masked_array(x), 10), TypeError, "masked"),
            (lambda: bs(None, 10), TypeError, "x is None"),
            (lambda: bs(x[0], 10), ValueError, "at least 2 axes"),
            (lambda: bs(np.float64(1.0), 10), ValueError, "at least 2 axes"),
            (lambda: bs(np.zeros((0, 10), np.uint8), 5), ValueError, "empty axis"),
            (lambda: bs(x, 0), ValueError, "at least 1"),
            (lambda: bs(x, (5, -1)), ValueError, "at least 1"),
            (lambda: bs(x, (5,)), ValueError, "2 or 3 sizes"),
            (lambda: bs(x, (1, 2, 3, 4)), ValueError, "2 or 3 sizes"),
            (lambda: bs(x, (2, 2, 2)), ValueError, "at least 3 axes"),
            (lambda: bs(x, 2.5), TypeError, "block"),
            (lambda: bs(x, "10"), TypeError, "block"),
            (lambda: bs(x, None), TypeError, "block"),
            (lambda: bs(x, True), TypeError, "block"),
            (lambda: bs(x, (10, 2.0)), TypeError, "block size"),
            (lambda: bs(x, (2**70, 2)), ValueError, "too large"),
            (lambda: bs(np.zeros((2, 2, 4, 4)), 2), ValueError, "ambiguous"),
            (lambda: bs(x, 10, "median"), ValueError, "unknown statistic 'median'"),
            (lambda: bs(x, 10, ()), ValueError, "empty"),
            (lambda: bs(x, 10, ("mean", "mean")), ValueError, "twice"),
            (lambda: bs(x, 10, 3), TypeError, "stats"),
            (lambda: bs(x, 10, ("mean", 3)), TypeError, "stats"),
            (lambda: bs(x, 10, "corr"), ValueError, "pass the second image as y="),
            (lambda: bs(x, 10, edge="full"), ValueError, "'partial' or 'trim'"),
            (lambda: bs(x, 10, edge=1), TypeError, "edge"),
            (lambda: bs(x, 10, ddof=2), ValueError, "ddof"),
            (lambda: bs(x, 10, ddof=0.5), TypeError, "ddof"),
            (lambda: bs(x, 10, dtype=np.int32), TypeError, "float32 or float64"),
            (lambda: bs(x, 10, dtype="f16"), TypeError, "float32 or float64"),
            (lambda: bs(x, 10, dtype="nonsense"), TypeError, "float32 or float64"),
            (lambda: bs(x, 10, threads=0), ValueError, "threads"),
            (lambda: bs(x, 10, threads=1.5), TypeError, "threads"),
            (lambda: bs(x, (40, 40), edge="trim"), ValueError, "trim leaves no block"),
            (lambda: bc(x, None, 10), TypeError, "two images"),
            (lambda: bc(x, y[:10], 10), ValueError, "differ in shape"),
            (lambda: bc(x, y.astype(np.int16), 10), TypeError, "differ in dtype"),
            (lambda: bc(x, y, 10, fill="a"), TypeError, "fill"),
            (lambda: blockwise.block_output_shape(5, 10), TypeError, "shape"),
            (lambda: blockwise.block_output_shape((5,), 10), ValueError, "fewer than 2"),
            (lambda: blockwise.block_input_region((20, 30), 10, (slice(0, 3), 0)),
             ValueError, "not inside"),
            (lambda: blockwise.block_input_region((20, 30), 10, (slice(0, 2, 2), 0)),
             ValueError, "step"),
            (lambda: blockwise.block_input_region((20, 30), 10, (0,)), ValueError, "entries"),
        ]
        for i, (call, exc, fragment) in enumerate(cases):
            with self.subTest(case=i, expect=fragment):
                with self.assertRaises(exc) as cm:
                    call()
                self.assertIn(fragment, str(cm.exception))

    def test_random_arguments(self):
        # Many combinations of odd values: each either works or raises
        # TypeError/ValueError.
        rng = np.random.default_rng(51)
        values = {
            "shape": [(0, 5), (1, 1), (3, 4), (2, 3, 4), (1, 2, 3, 4), (5,)],
            "dtype": [np.uint8, np.int64, np.float32, bool, np.uint32],
            "block": [0, 1, 3, (1, 1), (2, 0), (2, 2, 2), (7, 7, 7, 7), -3, None, 1.0, (), [2, 3]],
            "stats": ["mean", ("min", "corr"), [], "x", None, ("count",)],
            "edge": ["partial", "trim", "", None],
            "ddof": [0, 1, -1, None],
            "fill": [None, 0, math.nan, "x"],
            "threads": [None, 1, 3, -2],
        }
        for _ in range(400):
            pick = {k: v[rng.integers(len(v))] for k, v in values.items()}
            x = np.ones(pick["shape"], dtype=pick["dtype"])
            y = np.ones(pick["shape"], dtype=pick["dtype"]) if rng.integers(2) else None
            try:
                blockwise.block_stats(x, pick["block"], pick["stats"], y=y, edge=pick["edge"],
                                      ddof=pick["ddof"], fill=pick["fill"],
                                      threads=pick["threads"])
            except (TypeError, ValueError):
                pass


class Threads(unittest.TestCase):
    """threads=N gives the bits of one thread."""

    def test_same_bits(self):
        cases = [((101, 57), (10, 10)), ((3, 7), (2, 2)), ((9, 23, 18), (2, 5, 4)),
                 ((3, 4, 31, 29), (6, 5)), ((2, 3, 5, 12, 11), (2, 4, 4)),
                 ((1, 50), (1, 7))]
        for shape, block in cases:
            x, y = pair(shape, np.float32, seed=60)
            one = blockwise.block_stats(x, block, ("mean", "std", "max", "corr"), y=y)
            for t in (2, 3, 7, 64):
                got = blockwise.block_stats(x, block, ("mean", "std", "max", "corr"), y=y,
                                            threads=t)
                for s in one:
                    assert_same_bits(self, got[s], one[s], f"{shape} {block} threads={t} {s}")
            xs, ys = x[..., ::-1], y[..., ::-1]  # leading axes kept, X reversed
            assert_same_bits(self, blockwise.block_corr(xs, ys, block, threads=3),
                             blockwise.block_corr(xs, ys, block))


class Gil(unittest.TestCase):
    """The GIL is released for the whole of each core call."""

    @classmethod
    def setUpClass(cls):
        # A long call without much memory: a broadcast view (stride 0 along Y)
        # of one row, as long as it takes for a call of about 0.25 s.
        rng = np.random.default_rng(70)
        cls.row = rng.random(2048)
        rows = 1024
        while True:
            x = np.broadcast_to(cls.row, (rows, cls.row.size))
            t = time.perf_counter()
            cls.call(x)
            if time.perf_counter() - t >= 0.25 or rows >= 1 << 22:
                break
            rows *= 2
        cls.x = x

    @staticmethod
    def call(x):
        return blockwise.block_stats(x, (8, 8), ("mean", "std", "min", "max"))

    def test_python_thread_runs_during_a_call(self):
        ratios = []
        for _ in range(3):
            count = [0]
            stop = threading.Event()

            def spin():
                while not stop.is_set():
                    count[0] += 1

            t = threading.Thread(target=spin)
            t.start()
            try:
                time.sleep(0.05)
                c0, t0 = count[0], time.perf_counter()
                time.sleep(0.1)  # the spinning rate with the GIL free
                free_rate = (count[0] - c0) / (time.perf_counter() - t0)
                c0, t0 = count[0], time.perf_counter()
                self.call(self.x)
                busy_rate = (count[0] - c0) / (time.perf_counter() - t0)
            finally:
                stop.set()
                t.join()
            ratios.append(busy_rate / free_rate)
            if ratios[-1] > 0.2:
                break
        # Holding the GIL, the spinning thread would stop for the whole call
        # (ratio near 0); released, it spins about as fast as when free.
        self.assertGreater(max(ratios), 0.2, f"spin rate during a call / free: {ratios}")

    def test_two_threads_overlap(self):
        x = self.x[: self.x.shape[0] // 2]

        def timed(nthreads):
            ts = [threading.Thread(target=self.call, args=(x,)) for _ in range(nthreads)]
            t = time.perf_counter()
            for th in ts:
                th.start()
            for th in ts:
                th.join()
            return time.perf_counter() - t

        ratios = []
        for _ in range(5):
            one, two = timed(1), timed(2)
            ratios.append(two / one)
            if ratios[-1] < 1.6:
                break
        # Serialised by the GIL, two calls would take 2x one; with both cores
        # free they take about 1x.  Best of up to five tries.
        self.assertLess(min(ratios), 1.6, f"time of 2 concurrent calls / 1 call: {ratios}")


class Dask(unittest.TestCase):
    """blockwise.dask: lazy, and the bits of the numpy path for any chunks."""

    @classmethod
    def setUpClass(cls):
        import dask
        import dask.array as da
        import blockwise.dask as bwd
        cls.dask, cls.da, cls.bwd = dask, da, bwd

    def test_chunkings(self):
        da = self.da
        x, y = pair((95, 87), np.uint16, seed=80)
        names = ("count", "mean", "var", "min", "cov", "corr")
        for edge in ("partial", "trim"):
            want = blockwise.block_stats(x, (10, 10), names, y=y, edge=edge, ddof=1)
            for chunks in ((95, 87), (10, 10), (30, 40), (17, 23), (5, 3), (33, 87),
                           ((50, 45), (1, 86))):
                dx = da.from_array(x, chunks=chunks)
                dy = da.from_array(y, chunks=(31, 29))  # y chunked differently
                got = self.bwd.block_stats(dx, (10, 10), names, y=dy, edge=edge, ddof=1)
                computed = self.dask.compute(*got.values())
                for s, g in zip(names, computed):
                    assert_same_bits(self, g, want[s], f"{s} {edge} chunks={chunks}")

    def test_3d_and_leading_axes(self):
        da = self.da
        x, y = pair((3, 2, 9, 31, 26), np.float32, seed=81)
        for block in ((4, 10, 10), (6, 5)):
            want = blockwise.block_corr(x, y, block)
            for chunks in ((1, 2, 9, 31, 26), (2, 1, 4, 13, 7), (3, 2, 9, 8, 30)):
                got = self.bwd.block_corr(da.from_array(x, chunks=chunks),
                                          da.from_array(y, chunks=chunks), block)
                self.assertEqual(got.shape, want.shape)
                assert_same_bits(self, got.compute(), want, f"{block} {chunks}")

    def test_chunks_on_block_boundaries(self):
        chunks, out = self.bwd.block_chunks(((5, 5), (17, 23, 20), (14, 40, 6)), (10, 60, 60),
                                            (10, 10))
        self.assertEqual(chunks, ((5, 5), (20, 20, 20), (10, 40, 10)))
        self.assertEqual(out, ((5, 5), (2, 2, 2), (1, 4, 1)))
        chunks, out = self.bwd.block_chunks(((58,), (30, 28)), (58, 58), (10, 10), edge="trim")
        self.assertEqual(chunks, ((58,), (30, 28)))
        self.assertEqual(out, ((5,), (3, 2)))
        # A chunk that would hold only the pixels after the last whole block
        # joins its neighbour.
        for edge, want in (("partial", ((58,), (6,))), ("trim", ((58,), (5,)))):
            chunks, out = self.bwd.block_chunks(((5,), (55, 3)), (5, 58), (5, 10), edge=edge)
            self.assertEqual((chunks[1], out[1]), want, edge)

    def test_lazy(self):
        da = self.da
        calls = []

        def source(block_info=None):
            calls.append(1)
            return np.ones(block_info[None]["chunk-shape"], np.uint8)

        x = da.map_blocks(source, chunks=((20, 20), (30,)), dtype=np.uint8,
                          meta=np.empty((0, 0), np.uint8))
        before = len(calls)
        r = self.bwd.block_stats(x, (10, 10), "mean")
        self.assertIsInstance(r, da.Array)
        self.assertEqual(len(calls), before, "building the result read pixels")
        np.testing.assert_array_equal(r.compute(), np.ones((4, 3)))
        self.assertGreater(len(calls), before)

    def test_dispatch_and_numpy_inputs(self):
        da = self.da
        x, y = pair((40, 41), np.int16, seed=82)
        want = blockwise.block_corr(x, y, 10)
        dx = da.from_array(x, chunks=15)
        r = blockwise.block_corr(dx, y, 10)  # top-level function, dask x, numpy y
        self.assertIsInstance(r, da.Array)
        assert_same_bits(self, r.compute(), want)
        assert_same_bits(self, self.bwd.block_corr(x, y, 10).compute(), want)
        with self.assertRaises(ValueError):
            blockwise.block_corr(dx, y, 10, threads=2)
        with self.assertRaises(TypeError):
            self.bwd.block_stats(da.zeros((10, 10), dtype=np.int64, chunks=5), 5)
        with self.assertRaises(ValueError):
            self.bwd.block_stats(da.zeros((10, 10), chunks=5), 5, "corr")

    def test_pickle_by_reference(self):
        for f in (blockwise.block_stats, blockwise.block_corr, self.bwd.block_stats,
                  self.bwd.block_corr, self.bwd._chunk_stats):
            data = pickle.dumps(f)
            self.assertIs(pickle.loads(data), f)
            self.assertLess(len(data), 200, "pickled by value, not by reference")
        import cloudpickle
        data = cloudpickle.dumps(self.bwd._chunk_stats)
        self.assertIs(cloudpickle.loads(data), self.bwd._chunk_stats)
        self.assertLess(len(data), 200)


class Distributed(unittest.TestCase):
    """The dask path on a dask.distributed LocalCluster of 2 worker
    processes gives the numpy path's bits."""

    def test_local_cluster(self):
        import dask.array as da
        from distributed import Client, LocalCluster
        import blockwise.dask as bwd
        x, y = pair((2, 203, 187), np.uint16, seed=90)
        want_r = blockwise.block_corr(x, y, (10, 10))
        want_s = blockwise.block_stats(x, (10, 10), ("mean", "std"))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=40) as cluster, \
                Client(cluster) as client:
            self.assertEqual(len(client.scheduler_info()["workers"]), 2)
            dx = da.from_array(x, chunks=(1, 64, 50))
            dy = da.from_array(y, chunks=(1, 64, 50))
            r = bwd.block_corr(dx, dy, (10, 10))
            s = bwd.block_stats(dx, (10, 10), ("mean", "std"))
            got_r, got_mean, got_std = client.compute([r, s["mean"], s["std"]], sync=True)
            where = client.run(lambda: "blockwise" in sys.modules)
        assert_same_bits(self, got_r, want_r, "corr")
        assert_same_bits(self, got_mean, want_s["mean"], "mean")
        assert_same_bits(self, got_std, want_s["std"], "std")
        self.assertEqual(len(where), 2)
        self.assertTrue(any(where.values()), "no worker imported blockwise")


GROUPS = {"import": Import, "stats": Stats, "corr": Corr, "core_oracle": CoreOracle,
          "leading": Leading, "views": Views, "errors": Errors, "threads": Threads,
          "gil": Gil, "dask": Dask, "distributed": Distributed}


def main():
    global CORE_TOOL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--core-tool", default=os.environ.get("BLOCKWISE_CORE_TOOL"))
    ap.add_argument("groups", nargs="*", metavar="GROUP", help=", ".join(GROUPS))
    args = ap.parse_args()
    for g in args.groups:
        if g not in GROUPS:
            ap.error(f"unknown group {g!r}; groups: {', '.join(GROUPS)}")
    CORE_TOOL = args.core_tool
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(GROUPS[g])
                               for g in (args.groups or GROUPS))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
