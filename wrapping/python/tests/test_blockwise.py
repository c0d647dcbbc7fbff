"""Tests of the Python binding, run by CTest with Debian's /usr/bin/python3:

    PYTHONPATH=BUILD/python test_blockwise.py [--core-tool CORE_TOOL] [GROUP ...]

GROUP is one of the names in GROUPS (all when none is given); each is a
unittest.TestCase.  Oracles: numpy references written here, per block, in
float64 or exact Python integers, and of non-local means in float64 from its
documented formula; and the C core itself called on the same pixels through
core_tool (a test program that reads TIFF files written here by tifffile).
"""
import argparse
import itertools
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
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


#: Views of a 2-D array that the core reads in place, as they are.
STRIDED_VIEWS = {
    "step": lambda a: a[1::2, ::3],
    "reversed": lambda a: a[::-1, ::-1],
    "transposed": lambda a: a.T,
    "fortran": np.asfortranarray,
    "subregion": lambda a: a[7:-9, 13:-4],
    "broadcast": lambda a: np.broadcast_to(a[3], (20, a.shape[1])),
}


def assert_same_bits(test, a, b, msg=""):
    a, b = np.asarray(a), np.asarray(b)
    test.assertEqual(a.shape, b.shape, msg)
    test.assertEqual(a.dtype, b.dtype, msg)
    test.assertTrue(np.array_equal(a.view(np.uint8), b.view(np.uint8)),
                    f"{msg}: differ in {np.count_nonzero(a != b)} of {a.size} elements")


def assert_close(test, got, want, rtol, msg=""):
    test.assertEqual(got.shape, want.shape, msg)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True, err_msg=msg)


def nlm_reference(v, patch, search, h, sigma):
    """Non-local means of a 2-D or 3-D image in float64, from the formula:
    out(x) = sum_y w v(y) / sum_y w over the search window clipped to the
    image, w = exp(-max(d2 - 2 sigma^2, 0) / h^2), d2 the mean of
    (v(x + q) - v(y + q))^2 over the patch offsets q with both pixels in the
    image.  Pixels outside the image are NaN in a padded copy, and drop out."""
    v = np.asarray(v, np.float64)
    # Offsets past the image's extent reach no pixel: the same result.
    patch = [min(p, n - 1) for p, n in zip(patch, v.shape)]
    search = [min(s, n - 1) for s, n in zip(search, v.shape)]
    pad = [p + s for p, s in zip(patch, search)]
    vp = np.pad(v, [(m, m) for m in pad], constant_values=np.nan)

    def shifted(d):  # element x is v[x + d], NaN outside the image
        return vp[tuple(slice(m + di, m + di + n) for m, di, n in zip(pad, d, v.shape))]

    wsum = np.zeros(v.shape)
    vsum = np.zeros(v.shape)
    for o in itertools.product(*(range(-s, s + 1) for s in search)):
        vy = shifted(o)
        inside = np.isfinite(vy)
        dsum = np.zeros(v.shape)
        count = np.zeros(v.shape)
        for q in itertools.product(*(range(-r, r + 1) for r in patch)):
            d = shifted(q) - shifted(tuple(a + b for a, b in zip(o, q)))
            ok = np.isfinite(d)
            dsum += np.where(ok, d * d, 0.0)
            count += ok
        d2 = dsum / np.maximum(count, 1)
        w = np.where(inside, np.exp(-np.maximum(d2 - 2 * sigma * sigma, 0.0) / h / h), 0.0)
        wsum += w
        vsum += w * np.where(inside, vy, 0.0)
    return vsum / wsum


def clean_image(shape, seed=0):
    """A smooth image with edges, values about 60 to 200."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape), indexing="ij")
    img = np.full(shape, 130.0)
    for g in grids:
        img += 25 * np.sin(g / rng.uniform(2, 5) + rng.uniform(0, 6))
    img += 20 * (grids[-1] > shape[-1] / 2)
    return img


def noisy_image(shape, dtype, sigma=12.0, seed=0):
    """clean_image plus Gaussian noise, in dtype (integers rounded, clipped;
    int8 shifted to centre on 0)."""
    rng = np.random.default_rng(seed)
    x = clean_image(shape, seed) + rng.normal(0, sigma, shape)
    dt = np.dtype(dtype)
    if dt.kind in "ui":
        if dt == np.int8:
            x = x - 130
        info = np.iinfo(dt)
        x = np.clip(np.round(x), info.min, info.max)
    return x.astype(dt)


def assert_close_scaled(test, got, want, rtol, msg=""):
    """Equal within rtol relative to the image's largest magnitude."""
    test.assertEqual(got.shape, want.shape, msg)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()),
                               err_msg=msg)


def check_raises(test, cases):
    """cases: (call, exception type, text its message holds)."""
    for i, (call, exc, fragment) in enumerate(cases):
        with test.subTest(case=i, expect=fragment):
            with test.assertRaises(exc) as cm:
                call()
            test.assertIn(fragment, str(cm.exception))


def core_message(function, *args):
    """The message of the core's `function`, called directly through
    ctypes with args (and a bw_error), which must fail."""
    from blockwise import _core as C
    err = C.Error()
    status = function(*args, err)
    assert status != C.OK, f"{function.__name__}{args} did not fail"
    message = err.message.decode()
    assert message, f"{function.__name__} gave no message"
    return message


def argument_picks(seed, values, baselines, count):
    """Arguments to try, as dicts, each with a random generator for making
    arrays: every value of every argument with the others from each of the
    baselines (good arguments), then count picks of one value at random from
    each list of values."""
    rng = np.random.default_rng(seed)
    for base in baselines:
        for name, choices in values.items():
            for v in choices:
                yield dict(base, **{name: v}), rng
    for _ in range(count):
        yield {k: v[rng.integers(len(v))] for k, v in values.items()}, rng


def check_outcome(test, call, errors, check_result, msg):
    """call() raises one of `errors` (each bad argument says which type it
    calls for; which one is checked first is not specified), or, when there
    is none, returns what check_result accepts.  Returns whether it was
    valid."""
    if errors:
        with test.assertRaises(tuple(errors), msg=msg):
            call()
        return False
    check_result(call())
    return True


def common_argument_errors(p):
    """The exception types that x (of shape p["shape"] and dtype p["dtype"])
    and p["threads"] call for, in every function taking them."""
    errors = set()
    if np.dtype(p["dtype"]) not in DTYPES:
        errors.add(TypeError)
    if len(p["shape"]) < 2:
        errors.add(ValueError)
    if p["threads"] is not None and p["threads"] < 1:
        errors.add(ValueError)
    return errors


def block_argument_errors(p, have_y):
    """(exception types, block sizes): what block_stats must raise for the
    arguments p, from its documentation; block sizes when they are valid."""
    errors = common_argument_errors(p)
    shape, nd = p["shape"], len(p["shape"])
    stats = p["stats"]
    if stats is None:
        errors.add(TypeError)
    else:
        names = (stats,) if isinstance(stats, str) else tuple(stats)
        if not names or not set(names) <= set(blockwise.STATS):
            errors.add(ValueError)
        elif {"cov", "corr"} & set(names) and not have_y:
            errors.add(ValueError)
    block, sizes = p["block"], None
    if block is None or isinstance(block, float):
        errors.add(TypeError)
    elif isinstance(block, int):
        if nd > 3:
            errors.add(ValueError)
        else:
            sizes = (block,) * nd
    elif len(block) not in (2, 3) or len(block) > nd:
        errors.add(ValueError)
    else:
        sizes = tuple(block)
    if sizes is not None and min(sizes) < 1:
        errors.add(ValueError)
        sizes = None
    edge = p["edge"]
    if edge is None:
        errors.add(TypeError)
    elif edge not in ("partial", "trim"):
        errors.add(ValueError)
    if p["ddof"] is None:
        errors.add(TypeError)
    elif p["ddof"] not in (0, 1):
        errors.add(ValueError)
    if isinstance(p["fill"], str):
        errors.add(TypeError)
    if sizes is not None and nd >= 2:
        extents = shape[-len(sizes):]
        if 0 in extents:
            errors.add(ValueError)  # an empty axis
        elif edge == "trim" and any(n < b for n, b in zip(extents, sizes)):
            errors.add(ValueError)  # trim leaves no block
    return errors, sizes


#: bw_nlm's documented limits and defaults (include/blockwise.h).
NLM_LIMITS = {"patch": 32, "search": 255}
NLM_DEFAULTS = {"patch": 3, "search": 10}
NLM_SINGLE = (np.uint8, np.int8, np.uint16, np.int16, np.float32)


def nlm_argument_errors(p, x):
    """(exception types, resolved arguments): what nlm_denoise must raise
    for the arguments p on x, from its documentation; the operation's
    ndim, radii, h and sigma when they are valid."""
    errors = common_argument_errors(p)
    shape, nd = p["shape"], len(p["shape"])
    per_axis = {n: isinstance(p[n], (tuple, list)) for n in ("patch", "search")}
    k, ndim = None, p["ndim"]
    if ndim is not None:
        if not isinstance(ndim, int):
            errors.add(TypeError)
        elif ndim not in (2, 3) or ndim > nd:
            errors.add(ValueError)
        else:
            k = ndim
    else:
        lengths = {len(p[n]) for n in per_axis if per_axis[n]}
        if len(lengths) == 1 and lengths <= {2, 3}:
            k = lengths.pop()
        elif len(lengths) > 1 or nd not in (2, 3):
            errors.add(ValueError)
        else:
            k = nd
        if k is not None and k > nd:
            errors.add(ValueError)
            k = None
    radii = {}
    for name in ("patch", "search"):
        v = NLM_DEFAULTS[name] if p[name] is None else p[name]
        if isinstance(v, float):
            errors.add(TypeError)
            continue
        rs = tuple(v) if per_axis[name] else (v,) * (k or 1)
        if (k is not None and len(rs) != k) or \
                any(not 0 <= r <= NLM_LIMITS[name] for r in rs):
            errors.add(ValueError)
        elif k is not None:
            radii[name] = rs
    noise, sigma, gain = p["noise"], p["sigma"], p["gain"]
    h = 0.0 if p["h"] is None else p["h"]
    s_eff = None
    if noise is None:
        errors.add(TypeError)
    elif noise not in ("gaussian", "poisson-gaussian"):
        errors.add(ValueError)
    elif noise == "gaussian":
        if gain != 1.0:
            errors.add(ValueError)  # gain describes Poisson-Gaussian noise
        if sigma is None:
            errors.add(ValueError)
        elif isinstance(sigma, str):
            errors.add(TypeError)
        elif not sigma >= 0:
            errors.add(ValueError)
        else:
            s_eff = sigma
    else:
        if sigma is not None:
            errors.add(ValueError)
        if not 0 < gain < math.inf:
            errors.add(ValueError)
        s_eff = 1.0
    h_eff = None
    if h < 0:
        errors.add(ValueError)
    elif s_eff is not None:
        h_eff = h if h > 0 else 0.8 * s_eff
        if h_eff == 0 or not 1e-300 <= h_eff <= 1e300 or \
                not 2 * (s_eff / h_eff) * (s_eff / h_eff) <= 2e30:
            errors.add(ValueError)
        elif x.size and np.dtype(p["dtype"]) in DTYPES:
            largest = (1e30 if np.dtype(p["dtype"]) in NLM_SINGLE else 1e290) * h_eff
            if noise == "gaussian" and np.abs(x.astype(np.float64)).max() > largest:
                errors.add(ValueError)  # a pixel too large for h
    if p["out"] == np.float16:
        errors.add(TypeError)
    if k is not None and 0 in shape[-k:]:
        errors.add(ValueError)
    return errors, dict(k=k, h=h_eff, sigma=s_eff, **radii)


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
        for name, f in STRIDED_VIEWS.items():
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
            (lambda: bs(x, 10, ()), ValueError, "empty"),
            (lambda: bs(x, 10, ("mean", "mean")), ValueError, "twice"),
            (lambda: bs(x, 10, 3), TypeError, "stats"),
            (lambda: bs(x, 10, ("mean", 3)), TypeError, "stats"),
            (lambda: bs(x, 10, "corr"), ValueError, "pass the second image as y="),
            (lambda: bs(x, 10, edge="full"), ValueError, "'partial' or 'trim'"),
            (lambda: bs(x, 10, edge=1), TypeError, "edge"),
            (lambda: bs(x, 10, ddof=0.5), TypeError, "ddof"),
            (lambda: bs(x, 10, dtype=np.int32), TypeError, "float32 or float64"),
            (lambda: bs(x, 10, dtype="f16"), TypeError, "float32 or float64"),
            (lambda: bs(x, 10, dtype="nonsense"), TypeError, "float32 or float64"),
            (lambda: bs(x, 10, threads=0), ValueError, "threads"),
            (lambda: bs(x, 10, threads=1.5), TypeError, "threads"),
            (lambda: bc(x, None, 10), TypeError, "two images"),
            (lambda: bc(x, y[:10], 10), ValueError, "differ in shape"),
            (lambda: bc(x, y.astype(np.int16), 10), TypeError, "differ in dtype"),
            (lambda: bc(x, y, 10, fill="a"), TypeError, "fill"),
            (lambda: blockwise.block_output_shape(5, 10), TypeError, "shape"),
            (lambda: blockwise.block_output_shape((5,), 10), ValueError, "fewer than 2"),
            (lambda: blockwise.block_input_region((20, 30), 10, (slice(0, 2, 2), 0)),
             ValueError, "step"),
            (lambda: blockwise.block_input_region((20, 30), 10, (0,)), ValueError, "entries"),
        ]
        check_raises(self, cases)

    def test_random_arguments(self):
        # Odd values of every argument, combined at random: each combination
        # raises what one of its bad arguments calls for, and one of good
        # arguments only gives the numpy reference's blocks.
        values = {
            "shape": [(0, 5), (1, 1), (3, 4), (2, 3, 4), (1, 2, 3, 4), (5,)],
            "dtype": [np.uint8, np.int64, np.float32, bool, np.uint32],
            "block": [0, 1, 3, (1, 1), (2, 0), (2, 2, 2), (7, 7, 7, 7), -3, None, 1.0, (), [2, 3]],
            "stats": ["mean", ("min", "corr"), [], "x", None, ("count",), ("var", "cov")],
            "edge": ["partial", "trim", "", None],
            "ddof": [0, 1, -1, None],
            "fill": [None, 0, math.nan, "x"],
            "threads": [None, 1, 3, -2],
            "y": [False, True],
        }
        baselines = [
            dict(shape=(3, 4), dtype=np.uint8, block=1, stats="mean", edge="partial", ddof=0,
                 fill=None, threads=None, y=False),
            dict(shape=(2, 3, 4), dtype=np.float32, block=[2, 3], stats=("min", "corr"),
                 edge="trim", ddof=1, fill=0, threads=3, y=True),
        ]
        valid = 0
        for pick, rng in argument_picks(51, values, baselines, 400):
            x = rng.integers(0, 10, pick["shape"]).astype(pick["dtype"])
            y = rng.integers(0, 10, pick["shape"]).astype(pick["dtype"]) if pick["y"] else None
            errors, sizes = block_argument_errors(pick, y is not None)

            def call():
                return blockwise.block_stats(x, pick["block"], pick["stats"], y=y,
                                             edge=pick["edge"], ddof=pick["ddof"],
                                             fill=pick["fill"], threads=pick["threads"])

            def check(got):
                stats = pick["stats"]
                got = {stats: got} if isinstance(stats, str) else got
                self.assertEqual(list(got), [stats] if isinstance(stats, str) else list(stats))
                rtol = 1e-6 if pick["dtype"] == np.float32 else 1e-12
                for s, g in got.items():
                    assert_close(self, g, reference(x, sizes, s, y=y, edge=pick["edge"],
                                                    ddof=pick["ddof"], fill=pick["fill"]),
                                 rtol, f"{pick} {s}")

            valid += check_outcome(self, call, errors, check, str(pick))
        self.assertGreater(valid, 40, "too few valid combinations to test the results")

    def test_core_messages(self):
        # Parameter errors that the core finds come as ValueError with the
        # core's own message, from the numpy and the dask functions alike.
        import dask.array as da
        import blockwise.dask as bwd
        from blockwise import _core as C
        Sizes = C.ctypes.c_ssize_t * C.MAX_DIMS

        def params(block=(10, 10), edge=0, ddof=0):
            p = C.BlockParams()
            C.block_params_init(p, len(block), Sizes(*block))
            p.edge, p.ddof = edge, ddof
            return p

        def region(start, size):
            r = C.Region()
            for i, (s, n) in enumerate(zip(start, size)):
                r.start[i], r.size[i] = s, n
            return r

        x = pair((20, 30), np.uint16, seed=52)[0]
        dx = da.from_array(x, chunks=10)
        image = Sizes(20, 30)
        bad_block = core_message(C.block_params_check, params((0, 0)))
        bad_ddof = core_message(C.block_params_check, params(ddof=2))
        no_block = core_message(C.block_output_shape, params((40, 40), edge=1), image, Sizes())
        cases = [
            (lambda: blockwise.block_stats(x, 0), bad_block),
            (lambda: blockwise.block_stats(x, (5, -1)),
             core_message(C.block_params_check, params((5, -1)))),
            (lambda: blockwise.block_stats(x, 10, ddof=2), bad_ddof),
            (lambda: blockwise.block_stats(x, (40, 40), edge="trim"), no_block),
            (lambda: blockwise.block_stats(x, 10, "median"),
             core_message(C.stat_from_name, b"median", C.ctypes.c_int())),
            (lambda: blockwise.block_output_shape((20, 30), (0, 0)), bad_block),
            (lambda: blockwise.block_input_region((20, 30), 10, (slice(0, 3), 0)),
             core_message(C.block_input_region, params(), image, region((0, 0), (3, 1)),
                          C.Region())),
            (lambda: bwd.block_stats(dx, 0), bad_block),
            (lambda: bwd.block_stats(dx, 10, ddof=2), bad_ddof),
            (lambda: bwd.block_chunks(dx.chunks, dx.shape, (40, 40), edge="trim"), no_block),
        ]
        check_raises(self, [(call, ValueError, message) for call, message in cases])


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


class LongCall:
    """One long core call, made through the binding's ctypes declarations
    into an output that the test owns, so that other threads can see how
    far it has got without a clock.  The output starts filled with a NaN
    bit pattern no computation gives; the core writes it front to back
    (block rows, NLM tiles).  While the first element is written and the
    last is not, the call is in flight: Python code that sees this ran
    while the call's thread was inside the core."""

    SENTINEL = np.uint64(0x7FF4_DEAD_BEEF_0001)  # a signalling NaN's bits

    def __init__(self, kind, scale):
        from blockwise import _core as C
        self.C, self.kind = C, kind
        rng = np.random.default_rng(70)
        if kind == "block":
            # A broadcast view (stride 0 along Y) of one row: long, little memory.
            self.x = np.broadcast_to(rng.random(2048), (scale << 14, 2048))
            self.out = np.empty((self.x.shape[0] // 8, 256))
        else:
            side = 256 * scale
            self.x = rng.random((side, side))
            self.out = np.empty((side, side))
        self.bits = self.out.view(np.uint64)
        self.bits[...] = self.SENTINEL

    def view(self, a):
        C = self.C
        v = C.View()
        v.data, v.dtype, v.ndim = a.ctypes.data, C.DTYPES[("f", 8)], a.ndim
        for i, (n, s) in enumerate(zip(a.shape, a.strides)):
            v.shape[i], v.strides[i] = n, s
        return v

    def run(self):
        C = self.C
        if self.kind == "block":
            p = C.BlockParams()
            C.block_params_init(p, 2, (C.ctypes.c_ssize_t * 3)(8, 8, 1))
            outs = (C.BlockOutput * 1)()
            outs[0].stat, outs[0].view = C.STATS.index("mean"), self.view(self.out)
            st = C.block_stats(self.view(self.x), None, p, outs, 1, None)
        else:
            p = C.NlmParams()
            C.nlm_params_init(p, 2, 0.1)
            for i in range(2):
                p.patch[i], p.search[i] = 1, 4
            st = C.nlm(self.view(self.x), None, self.view(self.out), None, None, p, None)
        assert st == C.OK, st

    def in_flight(self):
        return self.bits[0, 0] != self.SENTINEL and self.bits[-1, -1] == self.SENTINEL

    def done(self):
        return self.bits[-1, -1] != self.SENTINEL


class Gil(unittest.TestCase):
    """The GIL is released for the whole of each core call, shown without
    clocks by what other Python threads do while one call is in flight.
    Were the GIL held during a call, no Python code could run between the
    core's first and last write of the output, so none of these could
    pass; released, they pass on the first try unless the machine keeps
    the other threads off the cores for a whole call, when a longer call
    is tried (up to 5 times)."""

    TRIES = 5

    def test_python_thread_runs_during_a_call(self):
        for kind in ("block", "nlm"):
            for scale in (2 ** t for t in range(self.TRIES)):
                call = LongCall(kind, scale)
                count, seen = [0], []
                started, stop = threading.Event(), threading.Event()

                def spin():
                    started.set()
                    while not stop.is_set():
                        count[0] += 1
                        if call.in_flight():
                            seen.append(count[0])

                t = threading.Thread(target=spin)
                t.start()
                try:
                    started.wait()
                    call.run()
                finally:
                    stop.set()
                    t.join()
                self.assertTrue(call.done(), kind)
                # The spinner saw the call in flight, twice at least, having
                # counted in between: it ran while the call was in the core.
                if len(seen) >= 2 and seen[-1] > seen[0]:
                    break
            else:
                self.fail(f"{kind}: no Python thread ran while a core call was in flight "
                          f"in {self.TRIES} tries (is the GIL held during core calls?)")

    def test_two_threads_in_the_core(self):
        small, other = pair((64, 64), np.float32, seed=71)
        want = blockwise.block_corr(small, other, 8)
        want_nlm = blockwise.nlm_denoise(small, 0.3, patch=1, search=2)
        for scale in (2 ** t for t in range(self.TRIES)):
            call = LongCall("block", scale)
            a = threading.Thread(target=call.run)
            a.start()
            while not call.in_flight() and not call.done() and a.is_alive():
                pass  # pure Python: runs only while A's call has released the GIL
            verdict = {}

            def short_calls():
                if not call.in_flight():
                    return  # A's call already returned
                verdict["r"] = blockwise.block_corr(small, other, 8)
                verdict["d"] = blockwise.nlm_denoise(small, 0.3, patch=1, search=2)
                verdict["A still in the core"] = call.in_flight()

            b = threading.Thread(target=short_calls)
            b.start()
            b.join()
            a.join()
            self.assertTrue(call.done())
            if verdict.get("A still in the core"):
                # B's two core calls began and ended while A's was in flight.
                assert_same_bits(self, verdict["r"], want, "corr from thread B")
                assert_same_bits(self, verdict["d"], want_nlm, "nlm from thread B")
                break
        else:
            self.fail(f"thread B never completed core calls while thread A was in a core "
                      f"call, in {self.TRIES} tries (is the GIL held during core calls?)")


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

    def test_output_chunks_by_hand(self):
        # Input chunk boundaries move to the nearest block boundary; each
        # input chunk gives the blocks that start in it (partial) or lie
        # wholly in it (trim), and a chunk holding only pixels that trim
        # drops joins the chunk before it.
        cases = [
            ((45, 58), (10, 10), ((20, 20, 5), (50, 8)), "partial",
             ((20, 20, 5), (50, 8)), ((2, 2, 1), (5, 1))),
            ((45, 58), (10, 10), ((20, 20, 5), (50, 8)), "trim",
             ((20, 25), (58,)), ((2, 2), (5,))),
            ((45, 58), (10, 10), ((40, 5), (58,)), "partial", ((40, 5), (58,)), ((4, 1), (6,))),
            ((45, 58), (10, 10), ((40, 5), (58,)), "trim", ((45,), (58,)), ((4,), (5,))),
            ((3, 45, 58), (10, 10), ((1, 2), (15, 15, 15), (29, 29)), "trim",
             ((1, 2), (20, 10, 15), (30, 28)), ((1, 2), (2, 1, 1), (3, 2))),
            ((9, 45, 58), (4, 10, 10), ((5, 4), (45,), (58,)), "trim",
             ((4, 5), (45,), (58,)), ((1, 1), (4,), (5,))),
        ]
        for shape, block, chunks, edge, want_in, want_out in cases:
            msg = f"{shape} {block} {chunks} {edge}"
            self.assertEqual(self.bwd.block_chunks(chunks, shape, block, edge=edge),
                             (want_in, want_out), msg)
            x, y = pair(shape, np.uint16, seed=83)
            dx = self.da.from_array(x, chunks=chunks)
            got = self.bwd.block_stats(dx, block, ("mean", "corr"), y=y, edge=edge)
            want = blockwise.block_stats(x, block, ("mean", "corr"), y=y, edge=edge)
            for s in want:
                self.assertEqual(got[s].chunks, want_out, msg)
                assert_same_bits(self, got[s].compute(), want[s], f"{msg} {s}")

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
                  self.bwd.block_corr, self.bwd.chunk_stats):
            data = pickle.dumps(f)
            self.assertIs(pickle.loads(data), f)
            self.assertLess(len(data), 200, "pickled by value, not by reference")
        import cloudpickle
        data = cloudpickle.dumps(self.bwd.chunk_stats)
        self.assertIs(cloudpickle.loads(data), self.bwd.chunk_stats)
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

    def test_nlm_local_cluster(self):
        import dask.array as da
        from distributed import Client, LocalCluster
        import blockwise.dask as bwd
        x = noisy_image((3, 70, 66), np.uint16, seed=91)
        want = blockwise.nlm_denoise(x, 12, ndim=2, patch=2, search=5)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=40) as cluster, \
                Client(cluster) as client:
            r = bwd.nlm_denoise(da.from_array(x, chunks=(1, 30, 40)), 12, ndim=2, patch=2,
                                search=5)
            got = client.compute(r, sync=True)
        assert_same_bits(self, got, want, "nlm on 2 worker processes")

def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))


def poisson_image(shape, gain, offset, read_sigma, seed):
    """(noisy, clean): gain * Poisson(lam) + offset + N(0, read_sigma^2)
    and gain * lam + offset, lam between about 15 and 50 photo-electrons."""
    rng = np.random.default_rng(seed)
    lam = clean_image(shape, seed) / 4
    z = gain * rng.poisson(lam) + offset + rng.normal(0, read_sigma, shape)
    return z, gain * lam + offset


def nlm_rtol(dtype):
    """The core computes u32, i32 and f64 inputs in double precision, the
    others in single precision."""
    return 1e-10 if np.dtype(dtype) in (np.uint32, np.int32, np.float64) else 1e-5


class Nlm(unittest.TestCase):
    """nlm_denoise against a float64 reference of the documented formula,
    output dtypes, leading axes, strided views, Poisson-Gaussian noise."""

    def test_reference_2d_every_dtype(self):
        sigma = 12.0
        for dt in DTYPES:
            x = noisy_image((17, 21), dt, sigma, seed=100)
            for patch, search, h in ((2, 4, 0.0), ((1, 2), (3, 5), 15.0), ((0, 0), (2, 3), 9.0),
                                     ((3, 1), (1, 6), 0.0)):
                got = blockwise.nlm_denoise(x, sigma, patch=patch, search=search, h=h,
                                            dtype=np.float64)
                k2 = lambda r: (r, r) if isinstance(r, int) else r  # noqa: E731
                want = nlm_reference(x, k2(patch), k2(search), h or 0.8 * sigma, sigma)
                assert_close_scaled(self, got, want, nlm_rtol(dt),
                                    f"{np.dtype(dt)} patch={patch} search={search} h={h}")

    def test_reference_3d(self):
        sigma = 10.0
        for dt in (np.uint8, np.uint16, np.int32, np.float32, np.float64):
            x = noisy_image((6, 9, 10), dt, sigma, seed=101)
            for patch, search in (((1, 1, 1), (1, 3, 3)), ((0, 1, 2), (2, 2, 1)), (1, 2)):
                got = blockwise.nlm_denoise(x, sigma, patch=patch, search=search,
                                            dtype=np.float64)
                k3 = lambda r: (r,) * 3 if isinstance(r, int) else r  # noqa: E731
                want = nlm_reference(x, k3(patch), k3(search), 0.8 * sigma, sigma)
                assert_close_scaled(self, got, want, nlm_rtol(dt),
                                    f"{np.dtype(dt)} patch={patch} search={search}")

    def test_sigma_zero_and_tiny_images(self):
        x = noisy_image((9, 8), np.float64, seed=102)
        got = blockwise.nlm_denoise(x, 0, patch=1, search=3, h=20.0, dtype=np.float64)
        assert_close_scaled(self, got, nlm_reference(x, (1, 1), (3, 3), 20.0, 0.0), 1e-10)
        for shape in ((1, 1), (1, 7), (4, 1), (1, 1, 1), (2, 1, 3)):
            x = noisy_image(shape, np.float64, seed=103)
            k = len(shape)
            got = blockwise.nlm_denoise(x, 12.0, patch=1, search=2, dtype=np.float64)
            assert_close_scaled(self, got, nlm_reference(x, (1,) * k, (2,) * k, 9.6, 12.0),
                                1e-10, str(shape))

    def test_output_dtypes(self):
        x = noisy_image((30, 33), np.uint8, seed=104)
        f64 = blockwise.nlm_denoise(x, 12, patch=2, search=5, dtype=np.float64)
        f32 = blockwise.nlm_denoise(x, 12, patch=2, search=5)
        self.assertEqual(f32.dtype, np.float32)
        self.assertEqual(f64.dtype, np.float64)
        assert_same_bits(self, f32, f64.astype(np.float32), "float32 = float64 rounded")
        assert_same_bits(self, blockwise.nlm_denoise(x, 12, patch=2, search=5, dtype="f64"), f64)
        assert_same_bits(self, blockwise.nlm_denoise(x, 12, patch=2, search=5, dtype="f32"), f32)
        # Integer outputs: rounded to nearest (halves up) and clamped.
        wide = (x.astype(np.float64) - 128) * 3  # -384 to 381
        w64 = blockwise.nlm_denoise(wide, 36, patch=2, search=5, dtype=np.float64)
        for dt in DTYPES[:6]:
            info = np.iinfo(dt)
            want = np.clip(np.floor(w64 + 0.5), info.min, info.max).astype(dt)
            got = blockwise.nlm_denoise(wide, 36, patch=2, search=5, dtype=dt)
            assert_same_bits(self, got, want, f"dtype={np.dtype(dt)}")
        same = blockwise.nlm_denoise(x, 12, patch=2, search=5, dtype=x.dtype)
        assert_same_bits(self, same, np.clip(np.floor(f64 + 0.5), 0, 255).astype(np.uint8))
        self.assertEqual(blockwise.nlm_denoise(x.astype(">f4"), 12, dtype=">f8").dtype,
                         np.float64)

    def test_denoises(self):
        shape = (64, 72)
        clean = clean_image(shape, seed=105)
        x = clean + np.random.default_rng(105).normal(0, 15, shape)
        got = blockwise.nlm_denoise(x, 15)
        self.assertLess(rmse(got, clean), 0.5 * rmse(x, clean))

    def test_poisson_gaussian(self):
        gain, offset, read = 2.5, 100.0, 3.0
        for shape, search in (((64, 70), 10), ((8, 30, 32), (1, 5, 5))):
            z, clean = poisson_image(shape, gain, offset, read, seed=106)
            for dt in (np.float32, np.float64, np.uint16):
                zz = np.round(z).astype(dt) if dt == np.uint16 else z.astype(dt)
                got = blockwise.nlm_denoise(zz, noise="poisson-gaussian", gain=gain,
                                            offset=offset, read_sigma=read, search=search,
                                            dtype=np.float64)
                before, after = rmse(zz, clean), rmse(got, clean)
                self.assertLess(after, 0.6 * before, f"{shape} {np.dtype(dt)}")
                # The exact unbiased inverse keeps the mean level.
                self.assertLess(abs(got.mean() - clean.mean()), 0.01 * (clean.mean() - offset),
                                f"{shape} {np.dtype(dt)}")

    def test_leading_axes(self):
        kw = dict(patch=1, search=(2, 3, 3))
        x = noisy_image((2, 3, 5, 14, 15), np.uint16, seed=107)
        got = blockwise.nlm_denoise(x, 12, ndim=3, **kw)
        self.assertEqual(got.shape, x.shape)
        for idx in np.ndindex(2, 3):
            assert_same_bits(self, got[idx], blockwise.nlm_denoise(x[idx], 12, **kw), str(idx))
        # 2-D over every plane of the leading axes: one call per stack of
        # planes gives the bits of one call per plane.
        for args in (dict(ndim=2, patch=1, search=3), dict(patch=(1, 1), search=(3, 3))):
            got = blockwise.nlm_denoise(x, 12, **args)
            for idx in np.ndindex(2, 3, 5):
                assert_same_bits(self, got[idx],
                                 blockwise.nlm_denoise(x[idx], 12, patch=1, search=3), str(idx))
        v = x[0, 0]
        planes = blockwise.nlm_denoise(v, 12, patch=(1, 1), search=(3, 3))  # 3-D x, 2-D op
        for z in range(v.shape[0]):
            assert_same_bits(self, planes[z], blockwise.nlm_denoise(v[z], 12, patch=1, search=3))
        # Leading axes that do not fold into one (a step, a transpose,
        # reversed), some that do (extent 1, broadcast).
        cases = [x[:, ::2], x.transpose(1, 0, 2, 3, 4), x[:, 1:2], x[::-1, :, ::-1],
                 np.broadcast_to(x[0, 0], (2, 3) + x.shape[2:])]
        for xs in cases:
            for ndim in (2, 3):
                got = blockwise.nlm_denoise(xs, 12, ndim=ndim, patch=1, search=2)
                want = blockwise.nlm_denoise(np.ascontiguousarray(xs), 12, ndim=ndim, patch=1,
                                             search=2)
                assert_same_bits(self, got, want, f"{xs.shape} {xs.strides} ndim={ndim}")
        empty = blockwise.nlm_denoise(np.zeros((0, 3, 10, 10), np.uint8), 5, ndim=2)
        self.assertEqual((empty.shape, empty.dtype), ((0, 3, 10, 10), np.float32))

    def test_strided_views(self):
        base = noisy_image((40, 46), np.int16, seed=108)
        for name, f in STRIDED_VIEWS.items():
            v = f(base)
            got = blockwise.nlm_denoise(v, 12, patch=2, search=4)
            want = blockwise.nlm_denoise(np.ascontiguousarray(v), 12, patch=2, search=4)
            assert_same_bits(self, got, want, name)
        want = blockwise.nlm_denoise(base.astype(np.int32), 12, patch=2, search=4)
        assert_same_bits(self, blockwise.nlm_denoise(base.astype(">i4"), 12, patch=2, search=4),
                         want, "byte order")
        buf = np.zeros(base.size * 4 + 1, np.uint8)
        xu = np.frombuffer(buf.data, dtype=np.int32, count=base.size, offset=1).reshape(base.shape)
        xu[...] = base
        self.assertFalse(xu.flags.aligned)
        assert_same_bits(self, blockwise.nlm_denoise(xu, 12, patch=2, search=4), want, "unaligned")
        rows = base[:8, :9].astype(np.float64).tolist()
        assert_same_bits(self, blockwise.nlm_denoise(rows, 12, patch=1, search=2),
                         blockwise.nlm_denoise(np.array(rows), 12, patch=1, search=2), "list")

    def test_input_region(self):
        r = blockwise.nlm_input_region((100, 80), (slice(10, 20), 5), patch=2, search=(3, 4))
        self.assertEqual(r, (slice(5, 25), slice(0, 12)))
        r = blockwise.nlm_input_region((30, 40, 50), (0, slice(None), slice(45, 50)), patch=1,
                                       search=(2, 10, 10))
        self.assertEqual(r, (slice(0, 4), slice(0, 40), slice(34, 50)))
        r = blockwise.nlm_input_region((2, 30, 40, 50), (3, slice(6, 8)), ndim=2)
        self.assertEqual(r, (slice(0, 17), slice(0, 21)))


class NlmThreads(unittest.TestCase):
    """nlm_denoise with threads=N gives the bits of one thread."""

    def test_same_bits(self):
        cases = [
            (noisy_image((61, 47), np.uint8, seed=110), dict(sigma=12)),
            (noisy_image((5, 7), np.float32, seed=111), dict(sigma=12, patch=1, search=2)),
            (noisy_image((7, 20, 19), np.uint16, seed=112), dict(sigma=12, patch=1,
                                                                 search=(1, 3, 3))),
            (noisy_image((3, 2, 21, 23), np.float32, seed=113), dict(sigma=12, ndim=2,
                                                                     patch=2, search=4)),
            (noisy_image((2, 5, 12, 13), np.int16, seed=114), dict(sigma=12, ndim=3, patch=1,
                                                                   search=(1, 2, 2))),
            (poisson_image((40, 44), 2.0, 50.0, 2.0, seed=115)[0],
             dict(noise="poisson-gaussian", gain=2.0, offset=50.0, read_sigma=2.0, search=5)),
            (noisy_image((33, 35), np.float64, seed=116)[::-1, ::2], dict(sigma=12, patch=2,
                                                                        search=5,
                                                                        dtype=np.uint8)),
        ]
        for x, kw in cases:
            one = blockwise.nlm_denoise(x, **kw)
            for t in (2, 3, 7, 64):
                assert_same_bits(self, blockwise.nlm_denoise(x, threads=t, **kw), one,
                                 f"{x.shape} {kw} threads={t}")


class NlmDask(unittest.TestCase):
    """blockwise.dask.nlm_denoise: lazy, and the bits of the numpy path for
    any chunks."""

    @classmethod
    def setUpClass(cls):
        import dask
        import dask.array as da
        import blockwise.dask as bwd
        cls.dask, cls.da, cls.bwd = dask, da, bwd

    def check(self, x, chunk_list, **kw):
        want = blockwise.nlm_denoise(x, **kw)
        for chunks in chunk_list:
            got = self.bwd.nlm_denoise(self.da.from_array(x, chunks=chunks), **kw)
            self.assertEqual(got.dtype, want.dtype)
            assert_same_bits(self, got.compute(), want, f"{x.shape} chunks={chunks} {kw}")

    def test_chunkings_2d(self):
        x = noisy_image((57, 63), np.uint16, seed=120)
        # Halo 6: chunks larger, equal, smaller (rechunked), irregular.
        self.check(x, [(57, 63), (20, 25), (6, 6), (5, 4), ((3, 50, 4), (60, 3)), (57, 1),
                       ((10, 7, 40), (31, 32))], sigma=12, patch=2, search=4)
        self.check(x, [(20, 25), (9, 30)], sigma=12, patch=(1, 2), search=(4, 2),
                   dtype=np.uint16)
        self.check(x.astype(np.float64), [(16, 16)], sigma=12, dtype=np.float64)

    def test_3d_and_leading_axes(self):
        x = noisy_image((2, 9, 26, 24), np.float32, seed=121)
        self.check(x, [(1, 4, 10, 7), (2, 2, 26, 24), (1, 9, 5, 24), (2, (1, 3, 5), 13, 12)],
                   sigma=12, ndim=3, patch=1, search=(1, 3, 3))
        self.check(x, [(1, 1, 26, 24), (2, 4, 9, 9), (1, 2, 13, 5)], sigma=12, ndim=2, patch=1,
                   search=3)

    def test_depth_by_hand(self):
        # The overlap depth is patch + search radius along each denoised
        # axis with more than one chunk, and 0 elsewhere; chunks smaller than
        # that merge with their neighbours.
        cases = [
            ((57, 63), (20, 25), dict(patch=2, search=4),
             ((20, 20, 17), (25, 25, 13)), (2 + 4, 2 + 4)),
            ((57, 63), (20, 25), dict(patch=(1, 2), search=(4, 2)),
             ((20, 20, 17), (25, 25, 13)), (1 + 4, 2 + 2)),
            ((2, 9, 26, 24), (1, 4, 10, 7), dict(ndim=3, patch=1, search=(1, 3, 3)),
             ((1, 1), (4, 5), (10, 10, 6), (7, 7, 10)), (0, 1 + 1, 1 + 3, 1 + 3)),
            ((3, 70, 66), (1, 30, 40), dict(ndim=2, patch=2, search=5),
             ((1, 1, 1), (30, 30, 10), (40, 26)), (0, 2 + 5, 2 + 5)),
            ((12, 40), (5, 10), {}, ((12,), (20, 20)), (0, 3 + 10)),  # defaults 3, 10
        ]
        for shape, chunks, kw, want_chunks, want_depth in cases:
            x = self.da.from_array(np.zeros(shape, np.uint8), chunks=chunks)
            got = self.bwd.nlm_chunks(x.chunks, shape, **kw)
            self.assertEqual(got, (want_chunks, tuple((d, d) for d in want_depth)),
                             f"{shape} {chunks} {kw}")
            r = self.bwd.nlm_denoise(x, 12, **kw)
            self.assertEqual(r.chunks, want_chunks, f"{shape} {chunks} {kw}")

    def test_halo_larger_than_image(self):
        x = noisy_image((12, 40), np.uint8, seed=122)
        self.check(x, [(5, 10), (12, 7), (1, 40)], sigma=12)  # halo 13 >= 12 rows

    def test_poisson_gaussian(self):
        z, _ = poisson_image((50, 48), 2.0, 80.0, 1.5, seed=123)
        self.check(z, [(20, 16), (7, 48)], noise="poisson-gaussian", gain=2.0, offset=80.0,
                   read_sigma=1.5, search=6)

    def test_lazy_and_dispatch(self):
        da = self.da
        calls = []

        def source(block_info=None):
            calls.append(1)
            return np.full(block_info[None]["chunk-shape"], 7, np.uint8)

        x = da.map_blocks(source, chunks=((20, 20), (30,)), dtype=np.uint8,
                          meta=np.empty((0, 0), np.uint8))
        before = len(calls)
        r = self.bwd.nlm_denoise(x, 5, patch=1, search=2)
        self.assertIsInstance(r, da.Array)
        self.assertEqual((r.shape, r.dtype), ((40, 30), np.float32))
        self.assertEqual(len(calls), before, "building the result read pixels")
        np.testing.assert_allclose(r.compute(), 7.0, rtol=1e-6)
        self.assertGreater(len(calls), before)
        y = noisy_image((30, 31), np.int16, seed=124)
        want = blockwise.nlm_denoise(y, 12, search=4)
        top = blockwise.nlm_denoise(da.from_array(y, chunks=12), 12, search=4)
        self.assertIsInstance(top, da.Array)
        assert_same_bits(self, top.compute(), want)
        assert_same_bits(self, self.bwd.nlm_denoise(y, 12, search=4).compute(), want)
        with self.assertRaises(ValueError):
            blockwise.nlm_denoise(da.from_array(y, chunks=12), 12, threads=2)
        with self.assertRaises(TypeError):
            self.bwd.nlm_denoise(da.zeros((10, 10), dtype=np.int64, chunks=5), 1)
        with self.assertRaises(ValueError):
            self.bwd.nlm_denoise(da.zeros((10, 10), chunks=5), patch=40)

    def test_nonfinite(self):
        x = noisy_image((40, 30), np.float32, seed=125)
        x[33, 7] = np.nan
        with self.assertRaises(ValueError) as cm:
            blockwise.nlm_denoise(x, 12)
        self.assertIn("x[33, 7] is nan", str(cm.exception))
        r = self.bwd.nlm_denoise(self.da.from_array(x, chunks=(15, 10)), 12, search=3)
        with self.assertRaises(ValueError) as cm:
            r.compute()
        self.assertIn("x[33, 7] is nan", str(cm.exception))

    def test_pickle_by_reference(self):
        for f in (blockwise.nlm_denoise, self.bwd.nlm_denoise, self.bwd.chunk_nlm):
            data = pickle.dumps(f)
            self.assertIs(pickle.loads(data), f)
            self.assertLess(len(data), 200, "pickled by value, not by reference")
        import cloudpickle
        data = cloudpickle.dumps(self.bwd.chunk_nlm)
        self.assertIs(cloudpickle.loads(data), self.bwd.chunk_nlm)
        x = self.da.from_array(noisy_image((20, 20), np.uint8, seed=126), chunks=10)
        r = self.bwd.nlm_denoise(x, 12, search=3)
        assert_same_bits(self, pickle.loads(pickle.dumps(r)).compute(), r.compute())
        self.assertEqual(r.name, self.bwd.nlm_denoise(x, 12, search=3).name)
        self.assertNotEqual(r.name, self.bwd.nlm_denoise(x, 12, search=4).name)


class NlmErrors(unittest.TestCase):
    """Bad arguments to nlm_denoise raise TypeError or ValueError with a
    clear message before any pixel is read."""

    def test_messages(self):
        x = noisy_image((20, 30), np.uint16, seed=130)
        nd = blockwise.nlm_denoise
        pg = dict(noise="poisson-gaussian")
        cases = [
            (lambda: nd(x.astype(np.int64), 5), TypeError, "dtype int64"),
            (lambda: nd(x.astype(np.complex64), 5), TypeError, "supported: uint8"),
            (lambda: nd(x.astype(bool), 5), TypeError, "dtype bool"),
            (lambda: nd(np.ma.masked_array(x), 5), TypeError, "masked"),
            (lambda: nd(None, 5), TypeError, "x is None"),
            (lambda: nd(x[0], 5), ValueError, "at least 2 axes"),
            (lambda: nd(np.zeros((0, 10), np.uint8), 5), ValueError, "empty axis"),
            (lambda: nd(np.zeros((2, 2, 4, 4)), 5), ValueError, "ndim=2"),
            (lambda: nd(x, 5, ndim=4), ValueError, "ndim must be 2"),
            (lambda: nd(x, 5, ndim=3), ValueError, "at least 3 axes"),
            (lambda: nd(x, 5, ndim=2.0), TypeError, "ndim"),
            (lambda: nd(x, 5, patch=(1, 2, 3)), ValueError, "at least 3 axes"),
            (lambda: nd(x, 5, patch=(1, 2), search=(1, 2, 3)), ValueError, "different numbers"),
            (lambda: nd(x, 5, patch=(1, 2), ndim=3), ValueError, "at least 3 axes"),
            (lambda: nd(np.zeros((3, 5, 5)), 5, patch=(1, 2), ndim=3), ValueError, "has 2 radii"),
            (lambda: nd(x, 5, patch=1.5), TypeError, "patch"),
            (lambda: nd(x, 5, patch="3"), TypeError, "patch"),
            (lambda: nd(x, 5, search=(3, None)), TypeError, "search radius None"),
            (lambda: nd(x, 5, search=True), TypeError, "search"),
            (lambda: nd(x), ValueError, "needs sigma="),
            (lambda: nd(x, "5"), TypeError, "sigma must be a real number"),
            (lambda: nd(x, 5, gain=2.0), ValueError, "poisson-gaussian"),
            (lambda: nd(x, 5, read_sigma=1.0), ValueError, "poisson-gaussian"),
            (lambda: nd(x, 5, noise="poisson"), ValueError, "'gaussian' or 'poisson-gaussian'"),
            (lambda: nd(x, 5, noise=1), TypeError, "noise"),
            (lambda: nd(x, 5, **pg), ValueError, "read_sigma="),
            (lambda: nd(x, 5, dtype=np.int64), TypeError, "dtype int64"),
            (lambda: nd(x, 5, dtype="f16"), TypeError, "dtype"),
            (lambda: nd(x, 5, dtype=bool), TypeError, "dtype bool"),
            (lambda: nd(x, 5, threads=0), ValueError, "threads"),
            (lambda: nd(x, 5, threads=2.0), TypeError, "threads"),
            (lambda: nd(np.full((5, 5), np.inf), 5), ValueError, "x[0, 0] is inf"),
            (lambda: blockwise.nlm_input_region((20, 30), (slice(0, 4, 2), 0)), ValueError,
             "step"),
            (lambda: blockwise.nlm_input_region((20, 30), (0,)), ValueError, "entries"),
            (lambda: blockwise.nlm_input_region((20, 0), (0, 0)), ValueError, "extents"),
            (lambda: blockwise.nlm_input_region(5, (0, 0)), TypeError, "shape"),
        ]
        check_raises(self, cases)

    def test_limits_defaults_and_layout_match_the_core(self):
        # The header says the limits and defaults; the binding states
        # neither, so they must be the core's.
        header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                              "include", "blockwise.h")
        if not os.path.isfile(header):
            self.skipTest("no include/blockwise.h next to the tests")
        import re
        from blockwise import _core as C
        with open(header) as f:
            text = f.read()

        def macro(name):
            return int(re.search(rf"#define {name} (\d+)", text).group(1))

        for name, largest in (("patch", macro("BW_NLM_MAX_PATCH")),
                              ("search", macro("BW_NLM_MAX_SEARCH"))):
            self.assertEqual(largest, NLM_LIMITS[name])
            r = blockwise.nlm_input_region((1000, 1000), (500, 500), **{name: largest})
            self.assertEqual(r[0].stop - r[0].start, 1 + 2 * (largest + NLM_DEFAULTS[
                "search" if name == "patch" else "patch"]))
            with self.assertRaises(ValueError):
                blockwise.nlm_input_region((1000, 1000), (500, 500), **{name: largest + 1})
        patch, search = macro("BW_NLM_DEFAULT_PATCH"), macro("BW_NLM_DEFAULT_SEARCH")
        self.assertEqual((patch, search), (NLM_DEFAULTS["patch"], NLM_DEFAULTS["search"]))
        x = noisy_image((30, 34), np.uint8, seed=132)
        assert_same_bits(self, blockwise.nlm_denoise(x, 12),
                         blockwise.nlm_denoise(x, 12, patch=patch, search=search, h=0,
                                               gain=1, offset=0, read_sigma=0))
        self.assertEqual(blockwise.nlm_input_region((100, 100), (50, 50)),
                         (slice(50 - patch - search, 51 + patch + search),) * 2)
        # The structures' fields are the header's, in its order.
        for name, struct in (("bw_nlm_params", C.NlmParams),
                             ("bw_block_params", C.BlockParams)):
            body = re.search(rf"typedef struct {name} \{{(.*?)\}} {name};", text, re.S)
            fields = re.findall(r"(\w+)(?:\[\w+\])?;", body.group(1))
            self.assertEqual(fields, [f for f, _ in struct._fields_], name)

    def test_random_arguments(self):
        # Odd values of every argument, combined at random: each combination
        # raises what one of its bad arguments calls for, and one of good
        # arguments only gives the float64 reference (Gaussian noise) or the
        # same computation spelled out in full (Poisson-Gaussian noise).
        values = {
            "shape": [(0, 5), (1, 1), (3, 4), (2, 3, 4), (1, 2, 3, 4), (5,)],
            "dtype": [np.uint8, np.int64, np.float32, bool, np.uint32],
            "sigma": [None, 0, 1, -1.0, math.nan, "1", 1e308],
            "patch": [0, 1, (1, 1), (1, 1, 1), -1, 40, None, 1.0, ()],
            "search": [0, 2, (2, 2), (1, 2, 2), 300, [1, 1], None],
            "h": [0.0, 1.0, -1.0, None, 1e-200, 1e30],
            "noise": ["gaussian", "poisson-gaussian", "", None],
            "gain": [1.0, 0.0, 2.0, math.inf],
            "ndim": [None, 2, 3, 4, 1.5],
            "out": [np.float32, np.uint8, np.float16, "f64", None],
            "threads": [None, 1, 3, -2],
        }
        baselines = [
            dict(shape=(3, 4), dtype=np.uint8, sigma=1, patch=1, search=2, h=0.0,
                 noise="gaussian", gain=1.0, ndim=None, out=np.float32, threads=None),
            dict(shape=(2, 3, 4), dtype=np.uint32, sigma=None, patch=(1, 1), search=[1, 1],
                 h=1.0, noise="poisson-gaussian", gain=2.0, ndim=2, out="f64", threads=3),
        ]
        valid = 0
        for pick, rng in argument_picks(131, values, baselines, 400):
            x = rng.integers(0, 10, pick["shape"]).astype(pick["dtype"])
            errors, a = nlm_argument_errors(pick, x)

            def call():
                return blockwise.nlm_denoise(
                    x, pick["sigma"], patch=pick["patch"], search=pick["search"], h=pick["h"],
                    noise=pick["noise"], gain=pick["gain"], ndim=pick["ndim"],
                    dtype=pick["out"], threads=pick["threads"])

            def check(got):
                out = {None: np.float32, "f64": np.float64}.get(pick["out"], pick["out"])
                self.assertEqual((got.shape, got.dtype), (x.shape, np.dtype(out)), str(pick))
                if pick["noise"] == "gaussian":
                    want = np.empty(x.shape)
                    for idx in np.ndindex(*x.shape[:-a["k"]]):
                        want[idx] = nlm_reference(x[idx], a["patch"], a["search"], a["h"],
                                                  a["sigma"])
                else:
                    want = blockwise.nlm_denoise(
                        x, noise="poisson-gaussian", gain=pick["gain"], h=a["h"],
                        patch=a["patch"], search=a["search"], ndim=a["k"], dtype=np.float64)
                rtol = max(nlm_rtol(x.dtype), float(np.finfo(np.float32).eps)
                           if np.dtype(out) == np.float32 else 0)
                atol = 0.5 if np.dtype(out).kind in "ui" else 0
                scale = max(float(np.abs(want).max()), 1.0) if want.size else 1.0
                np.testing.assert_allclose(got.astype(np.float64), want, rtol=0,
                                           atol=atol + rtol * scale, err_msg=str(pick))

            valid += check_outcome(self, call, errors, check, str(pick))
        self.assertGreater(valid, 40, "too few valid combinations to test the results")

    def test_core_messages(self):
        # Parameter errors that the core finds come as ValueError with the
        # core's own message (bw_nlm_params_check, bw_nlm_input_region),
        # from the numpy and the dask functions alike.
        import dask.array as da
        import blockwise.dask as bwd
        from blockwise import _core as C
        Sizes = C.ctypes.c_ssize_t * C.MAX_DIMS

        def params(sigma=5.0, noise=0, patch=(3, 3), search=(10, 10), **fields):
            p = C.NlmParams()
            C.nlm_params_init(p, 2, sigma)
            p.noise = noise
            for i in range(2):
                p.patch[i], p.search[i] = patch[i], search[i]
            for name, value in fields.items():
                setattr(p, name, value)
            return p

        def check(**kw):
            return core_message(C.nlm_params_check, params(**kw))

        x = noisy_image((20, 30), np.uint16, seed=133)
        dx = da.from_array(x, chunks=10)
        nd = blockwise.nlm_denoise
        pg = dict(noise="poisson-gaussian")
        pgp = dict(sigma=0.0, noise=1)
        out_region = C.Region()
        out_region.start[0], out_region.size[0], out_region.size[1] = 0, 25, 1
        cases = [
            (lambda: nd(x, 5, patch=33), check(patch=(33, 33))),
            (lambda: nd(x, 5, patch=-1), check(patch=(-1, -1))),
            (lambda: nd(x, 5, search=(2, 256)), check(search=(2, 256))),
            (lambda: nd(x, -1), check(sigma=-1.0)),
            (lambda: nd(x, math.nan), check(sigma=math.nan)),
            (lambda: nd(x, 0), check(sigma=0.0)),
            (lambda: nd(x, 5, h=-1), check(h=-1.0)),
            (lambda: nd(x, 5, h=math.inf), check(h=math.inf)),
            (lambda: nd(x, 5, h=1e-300), check(h=1e-300)),
            (lambda: nd(x, gain=0, **pg), check(gain=0.0, **pgp)),
            (lambda: nd(x, gain=-2, **pg), check(gain=-2.0, **pgp)),
            (lambda: nd(x, gain=math.nan, **pg), check(gain=math.nan, **pgp)),
            (lambda: nd(x, offset=math.inf, **pg), check(offset=math.inf, **pgp)),
            (lambda: nd(x, read_sigma=-1, **pg), check(read_sigma=-1.0, **pgp)),
            (lambda: nd(x, read_sigma=1e9, gain=1e-3, **pg),
             check(read_sigma=1e9, gain=1e-3, **pgp)),
            (lambda: blockwise.nlm_input_region((20, 30), (slice(0, 25), 0)),
             core_message(C.nlm_input_region, params(), Sizes(20, 30), out_region,
                          C.Region())),
            (lambda: blockwise.nlm_input_region((20, 30), (0, 0), patch=40),
             check(patch=(40, 40))),
            (lambda: bwd.nlm_denoise(dx, 5, patch=40), check(patch=(40, 40))),
            (lambda: bwd.nlm_denoise(dx, 5, h=-1), check(h=-1.0)),
            (lambda: bwd.nlm_chunks(dx.chunks, dx.shape, search=300),
             check(search=(300, 300))),
        ]
        check_raises(self, [(call, ValueError, message) for call, message in cases])


GROUPS = {"import": Import, "stats": Stats, "corr": Corr, "core_oracle": CoreOracle,
          "leading": Leading, "views": Views, "errors": Errors, "threads": Threads,
          "gil": Gil, "dask": Dask, "distributed": Distributed, "nlm": Nlm,
          "nlm_threads": NlmThreads, "nlm_dask": NlmDask, "nlm_errors": NlmErrors}


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
