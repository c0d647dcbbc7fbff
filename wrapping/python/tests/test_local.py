"""Tests of the Python binding's local (sliding-window) statistics,
local_stats and local_corr: against a brute-force loop over the windows,
clipped at the image's edge, written here (float64 or exact Python
integers), against scipy.ndimage.uniform_filter, on numpy and dask arrays
(any chunks, steps), and bad arguments raising TypeError or ValueError.
Command line: see common.py."""
import itertools
import math
import pickle
import unittest

import numpy as np

import blockwise
from common import (DTYPES, STRIDED_VIEWS, assert_close, assert_same_bits, check_raises,
                    core_message, local_cluster, main)
from pairs import pair

STATS = ("mean", "std", "var", "sum", "count")


def windows(shape, radius, step):
    """(output index, slices of the window clipped to the image) of every
    output pixel: the window centred on input pixel index * step."""
    ranges = [range(-(-n // s)) for n, s in zip(shape, step)]
    for idx in itertools.product(*ranges):
        yield idx, tuple(slice(max(0, i * s - r), min(n, i * s + r + 1))
                         for i, s, r, n in zip(idx, step, radius, shape))


def window_reference(x, radius, step, stat, y=None, ddof=0, fill=math.nan):
    """One local statistic of a 2-D or 3-D image, window by window: exact
    Python integers for integer inputs, float64 two-pass for floats."""
    out_shape = tuple(-(-n // s) for n, s in zip(x.shape, step))
    out = np.empty(out_shape)
    exact = np.issubdtype(x.dtype, np.integer)
    for idx, sl in windows(x.shape, radius, step):
        a = x[sl].ravel()
        b = y[sl].ravel() if y is not None else None
        n = a.size
        if exact:
            ai = [int(v) for v in a]
            s1 = sum(ai)
            m2a = n * sum(v * v for v in ai) - s1 * s1  # n * sum (a - mean)^2
            if b is not None:
                bi = [int(v) for v in b]
                t1 = sum(bi)
                m2b = n * sum(v * v for v in bi) - t1 * t1
                mab = n * sum(p * q for p, q in zip(ai, bi)) - s1 * t1
            total, mean = float(s1), s1 / n
        else:
            af = a.astype(np.float64)
            total, mean = af.sum(), af.mean()
            m2a = ((af - mean) ** 2).sum() * n
            if b is not None:
                bf = b.astype(np.float64)
                m2b = ((bf - bf.mean()) ** 2).sum() * n
                mab = ((af - mean) * (bf - bf.mean())).sum() * n
        var = m2a / (n * (n - ddof)) if n > ddof else math.nan
        values = {"count": float(n), "sum": total, "mean": mean, "var": var,
                  "std": math.sqrt(var)}
        if b is not None:
            values["cov"] = mab / (n * (n - ddof)) if n > ddof else math.nan
            values["corr"] = mab / math.sqrt(m2a * m2b) if m2a > 0 and m2b > 0 else fill
        out[idx] = values[stat]
    return out


def corrcoef_reference(x, y, radius, step, fill=math.nan):
    """Local Pearson r by np.corrcoef over each window; fill where either
    window is constant."""
    out_shape = tuple(-(-n // s) for n, s in zip(x.shape, step))
    out = np.empty(out_shape)
    for idx, sl in windows(x.shape, radius, step):
        a = x[sl].ravel().astype(np.float64)
        b = y[sl].ravel().astype(np.float64)
        if a.min() == a.max() or b.min() == b.max():
            out[idx] = fill
        else:
            out[idx] = np.corrcoef(a, b)[0, 1]
    return out


def box_reference(x, radius, stat):
    """Local sum, count or mean with step 1 from scipy.ndimage.uniform_filter
    over zero padding (mode "constant"): the sum over the window clipped to
    the image, and the count of its pixels the same filter of ones."""
    from scipy import ndimage
    size = tuple(2 * r + 1 for r in radius)
    volume = math.prod(size)
    total = ndimage.uniform_filter(x.astype(np.float64), size, mode="constant") * volume
    count = ndimage.uniform_filter(np.ones(x.shape), size, mode="constant") * volume
    return {"sum": total, "count": np.round(count), "mean": total / np.round(count)}[stat]


def image(shape, dtype, seed=0):
    """Textured test image of dtype spanning much of its range."""
    return pair(shape, dtype, seed=seed)[0]


def stat_rtol(stat):
    # The core's results are exact to double rounding for integer inputs
    # and about that for floats (double-double sums); the reference's
    # float64 two-pass sums are the looser side.
    return 1e-12 if stat in ("count", "sum", "mean") else 1e-10


class Local(unittest.TestCase):
    """local_stats against the window loop and uniform_filter: every dtype,
    2-D and 3-D, anisotropic radii, steps, ddof, leading axes, views."""

    def test_reference_2d_every_dtype(self):
        for dt in DTYPES:
            x = image((23, 31), dt, seed=1)
            for radius, step in (((2, 3), (1, 1)), ((1, 4), (2, 3)), ((0, 2), (3, 1))):
                got = blockwise.local_stats(x, radius, STATS, step=step, ddof=1)
                for s in STATS:
                    want = window_reference(x, radius, step, s, ddof=1)
                    assert_close(self, got[s], want, stat_rtol(s),
                                 f"{np.dtype(dt)} {s} radius={radius} step={step}")

    def test_reference_3d_anisotropic(self):
        for dt in (np.uint8, np.int16, np.uint16, np.int32, np.float32, np.float64):
            x = image((7, 11, 13), dt, seed=2)
            for radius, step in (((1, 2, 3), (1, 1, 1)), ((2, 0, 1), (2, 3, 4))):
                for s in ("mean", "std", "count"):
                    got = blockwise.local_stats(x, radius, s, step=step)
                    assert_close(self, got, window_reference(x, radius, step, s),
                                 stat_rtol(s), f"{np.dtype(dt)} {s} {radius} {step}")

    def test_uniform_filter(self):
        # uint16 with values near the top of its range, where sums of
        # squares in float32 or int32 would lose the variance.
        rng = np.random.default_rng(3)
        x = (65535 - rng.integers(0, 300, (61, 83))).astype(np.uint16)
        for radius in ((5, 7), (1, 1), (12, 0)):
            for s in ("sum", "count", "mean"):
                got = blockwise.local_stats(x, radius, s)
                assert_close(self, got, box_reference(x, radius, s), 1e-12, f"{s} {radius}")
        z = rng.normal(size=(9, 20, 17)).astype(np.float32)
        got = blockwise.local_stats(z, (1, 3, 2), "mean")
        assert_close(self, got, box_reference(z, (1, 3, 2), "mean"), 1e-9, "3-D float32")

    def test_uint16_large_values(self):
        rng = np.random.default_rng(4)
        x = np.where(rng.random((19, 22)) < 0.5, 0, 65535).astype(np.uint16)
        x[3:12, 5:15] = 65535  # constant windows too
        for s in ("var", "std", "mean"):
            got = blockwise.local_stats(x, (2, 3), s)
            assert_close(self, got, window_reference(x, (2, 3), (1, 1), s), 1e-13, s)
        std = blockwise.local_stats(x, (1, 1), "std")
        self.assertTrue(np.all(std[5:10, 7:13] == 0), "constant windows have std 0")

    def test_float32_offset(self):
        # 1e6 + noise in float32: the noise's variance survives the offset.
        rng = np.random.default_rng(5)
        noise = rng.normal(0, 1, (27, 29))
        x = (1e6 + noise).astype(np.float32)
        for s in ("var", "std", "mean"):
            got = blockwise.local_stats(x, (3, 2), s, step=(2, 1), ddof=1)
            want = window_reference(x, (3, 2), (2, 1), s, ddof=1)
            assert_close(self, got, want, 1e-9, s)
        # The variance is that of the float32 pixels (noise as rounded near
        # 1e6, a step of 1/16), not swamped by the offset's square.
        var = blockwise.local_stats(x, 3, "var")
        self.assertTrue(0.3 < np.median(var) < 3, np.median(var))

    def test_ddof_and_small_windows(self):
        x = image((5, 6), np.int16, seed=6)
        var = blockwise.local_stats(x, 0, "var", ddof=1)  # one pixel per window
        self.assertTrue(np.all(np.isnan(var)), "n <= ddof gives NaN")
        self.assertTrue(np.all(blockwise.local_stats(x, 0, "var") == 0))
        big = blockwise.local_stats(x, 100, ("count", "mean"))  # windows beyond the image
        self.assertTrue(np.all(big["count"] == x.size))
        assert_close(self, big["mean"], np.full(x.shape, x.mean()), 1e-13, "whole image")

    def test_output_dtype(self):
        x = image((17, 19), np.uint16, seed=7)
        f64 = blockwise.local_stats(x, 2, ("mean", "std"))
        f32 = blockwise.local_stats(x, 2, ("mean", "std"), dtype=np.float32)
        for s in f64:
            self.assertEqual(f32[s].dtype, np.float32)
            assert_same_bits(self, f32[s], f64[s].astype(np.float32), s)

    def test_leading_axes(self):
        x = image((2, 3, 12, 14), np.float32, seed=8)
        got = blockwise.local_stats(x, (1, 2), "std", step=(2, 3))
        self.assertEqual(got.shape, (2, 3, 6, 5))
        for i, j in np.ndindex(2, 3):
            assert_same_bits(self, got[i, j],
                             blockwise.local_stats(x[i, j], (1, 2), "std", step=(2, 3)),
                             f"plane {i},{j}")
        got = blockwise.local_stats(x, (1, 1, 2), "mean")
        for i in range(2):
            assert_same_bits(self, got[i], blockwise.local_stats(x[i], (1, 1, 2), "mean"),
                             f"volume {i}")
        nd2 = blockwise.local_stats(x[0], 2, "mean", ndim=2)
        for j in range(3):
            assert_same_bits(self, nd2[j], blockwise.local_stats(x[0, j], 2, "mean"), "ndim=2")

    def test_strided_views(self):
        base = image((41, 53), np.int32, seed=9)
        for name, make in STRIDED_VIEWS.items():
            v = make(base)
            got = blockwise.local_stats(v, (2, 1), ("mean", "var"), step=(1, 2))
            want = blockwise.local_stats(np.ascontiguousarray(v), (2, 1), ("mean", "var"),
                                         step=(1, 2))
            for s in got:
                assert_same_bits(self, got[s], want[s], f"{name} {s}")

    def test_threads(self):
        x, y = pair((3, 37, 45), np.float32, seed=10)
        want = blockwise.local_stats(x, (1, 3, 2), ("mean", "corr"), y=y, step=(1, 2, 1))
        for threads in (2, 3, 7):
            got = blockwise.local_stats(x, (1, 3, 2), ("mean", "corr"), y=y, step=(1, 2, 1),
                                        threads=threads)
            for s in want:
                assert_same_bits(self, got[s], want[s], f"threads={threads} {s}")

    def test_geometry(self):
        # Worked out by hand: ceil(n / step) outputs; an output box's input
        # runs from its first centre minus the radius to its last plus it.
        self.assertEqual(blockwise.local_output_shape((10, 11), radius=(2, 1), step=(3, 2)),
                         (4, 6))
        self.assertEqual(blockwise.local_output_shape((4, 10, 11), radius=(2, 1)),
                         (4, 10, 11))
        self.assertEqual(blockwise.local_input_region((10, 11), (slice(1, 3), slice(0, 2)),
                                                      radius=(2, 1), step=(3, 2)),
                         (slice(1, 9), slice(0, 4)))
        self.assertEqual(blockwise.local_input_region((10, 11), (3, 5), radius=(2, 1),
                                                      step=(3, 2)),
                         (slice(7, 10), slice(9, 11)))


class LocalCorr(unittest.TestCase):
    """local_corr (and the pair statistics) against np.corrcoef per window;
    r within [-1, 1]; constant windows give the fill value."""

    def test_corrcoef_reference(self):
        for dt in DTYPES:
            x, y = pair((21, 26), dt, seed=20)
            for radius, step in (((2, 2), (1, 1)), ((3, 1), (2, 3))):
                got = blockwise.local_corr(x, y, radius, step=step)
                want = corrcoef_reference(x, y, radius, step)
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, equal_nan=True,
                                           err_msg=f"{np.dtype(dt)} {radius} {step}")
                self.assertTrue(np.all(np.abs(got) <= 1), np.dtype(dt))

    def test_3d_and_cov(self):
        x, y = pair((6, 9, 10), np.int16, seed=21)
        got = blockwise.local_stats(x, (1, 2, 1), ("cov", "corr"), y=y, step=(2, 1, 3),
                                    ddof=1)
        for s in ("cov", "corr"):
            want = window_reference(x, (1, 2, 1), (2, 1, 3), s, y=y, ddof=1)
            assert_close(self, got[s], want, 1e-10, s)

    def test_flat_windows_fill(self):
        x, y = pair((20, 24), np.float64, seed=22)
        x[2:12, 3:15] = 7.0  # constant windows in x
        y[10:20, 14:24] = -3.0  # and in y
        for fill in (None, -2.0, 0.0):
            got = blockwise.local_corr(x, y, 1, fill=fill)
            want = corrcoef_reference(x, y, (1, 1), (1, 1),
                                      math.nan if fill is None else fill)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, equal_nan=True,
                                       err_msg=f"fill={fill}")
            flat = got[4:10, 5:13]
            if fill is None:
                self.assertTrue(np.all(np.isnan(flat)))
            else:
                self.assertTrue(np.all(flat == fill))

    def test_adversarial(self):
        rng = np.random.default_rng(23)
        noise = rng.normal(size=(24, 25))
        cases = {
            "1e6 offset float32": ((1e6 + noise).astype(np.float32),
                                   (1e6 + noise + 0.5 * rng.normal(size=noise.shape))
                                   .astype(np.float32)),
            "uint16 extremes": (np.where(noise > 0, 65535, 0).astype(np.uint16),
                                np.where(noise + 0.3 * rng.normal(size=noise.shape) > 0,
                                         65535, 0).astype(np.uint16)),
            "identical": (noise, noise.copy()),
            "negated": (noise, -noise),
        }
        for name, (x, y) in cases.items():
            got = blockwise.local_corr(x, y, 2)
            want = corrcoef_reference(x, y, (2, 2), (1, 1))
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, equal_nan=True,
                                       err_msg=name)
            finite = got[np.isfinite(got)]
            self.assertTrue(np.all((finite >= -1) & (finite <= 1)), name)
        np.testing.assert_allclose(blockwise.local_corr(noise, noise, 2), 1, rtol=0,
                                   atol=1e-15)
        np.testing.assert_allclose(blockwise.local_corr(noise, -noise, 2), -1, rtol=0,
                                   atol=1e-15)
        const = np.full((10, 12), 3, np.uint8)
        self.assertTrue(np.all(np.isnan(blockwise.local_corr(const, const, 2))))


class LocalDask(unittest.TestCase):
    """blockwise.dask local statistics: the bits of numpy for any chunks and
    steps, lazily, chunks worked out by hand, pickled graphs."""

    @classmethod
    def setUpClass(cls):
        import dask
        import dask.array as da
        import blockwise.dask as bwd
        cls.dask, cls.da, cls.bwd = dask, da, bwd

    def test_chunkings_and_steps(self):
        da = self.da
        x, y = pair((95, 87), np.uint16, seed=30)
        names = ("mean", "std", "count", "corr")
        for step in (1, (3, 2), 5):
            want = blockwise.local_stats(x, (4, 2), names, y=y, step=step, ddof=1)
            for chunks in ((95, 87), (10, 10), (17, 23), (5, 3), (33, 87), ((50, 45), (1, 86))):
                got = blockwise.local_stats(da.from_array(x, chunks=chunks), (4, 2), names,
                                            y=da.from_array(y, chunks=(31, 29)), step=step,
                                            ddof=1)
                for s, g in zip(names, self.dask.compute(*got.values())):
                    assert_same_bits(self, g, want[s], f"{s} step={step} chunks={chunks}")

    def test_3d_and_leading_axes(self):
        da = self.da
        x, y = pair((2, 9, 31, 26), np.float32, seed=31)
        for radius, step in (((1, 3, 2), (2, 3, 1)), ((2, 1), (1, 4))):
            want = blockwise.local_corr(x, y, radius, step=step)
            for chunks in ((1, 9, 31, 26), (2, 4, 13, 7), (1, 2, 8, 30)):
                got = blockwise.local_corr(da.from_array(x, chunks=chunks),
                                           da.from_array(y, chunks=chunks), radius, step=step)
                self.assertEqual(got.shape, want.shape)
                assert_same_bits(self, got.compute(), want, f"{radius} {step} {chunks}")

    def test_float_offset(self):
        rng = np.random.default_rng(32)
        x = (1e6 + rng.normal(size=(40, 45))).astype(np.float32)
        want = blockwise.local_stats(x, 3, "std", step=2)
        got = blockwise.local_stats(self.da.from_array(x, chunks=(13, 11)), 3, "std", step=2)
        assert_same_bits(self, got.compute(), want, "float32 offset")

    def test_chunks_by_hand(self):
        # Boundaries move to the nearest multiple of the step (12 -> 12,
        # 25 -> 24 with step 4 along x ... ), chunks smaller than the halo
        # join a neighbour, and each gives the centres inside it.
        chunks, out, depth = self.bwd.local_chunks(((12, 13, 15), (7, 7, 7, 9)), (40, 30),
                                                   radius=(2, 3), step=(4, 1))
        self.assertEqual(chunks, ((12, 12, 16), (7, 7, 7, 9)))
        self.assertEqual(out, ((3, 3, 4), (7, 7, 7, 9)))
        self.assertEqual(depth, ((2, 2), (3, 3)))
        chunks, out, depth = self.bwd.local_chunks(((2, 2, 2, 2, 2), (30,)), (10, 30),
                                                   radius=3, step=1)
        self.assertEqual((chunks, out, depth), (((4, 6), (30,)), ((4, 6), (30,)),
                                                ((3, 3), (0, 0))))
        chunks, out, depth = self.bwd.local_chunks(((5, 5), (3, 3, 4)), (10, 10),
                                                   radius=20, step=3)
        self.assertEqual((chunks, out, depth), (((10,), (10,)), ((4,), (4,)), ((0, 0), (0, 0))))

    def test_lazy_dispatch_pickle(self):
        import cloudpickle
        x, y = pair((30, 33), np.int16, seed=33)
        dx, dy = self.da.from_array(x, chunks=11), self.da.from_array(y, chunks=11)
        for got, want in ((blockwise.local_corr(dx, dy, 2, step=2),
                           blockwise.local_corr(x, y, 2, step=2)),
                          (blockwise.local_stats(dx, (1, 2), "var"),
                           blockwise.local_stats(x, (1, 2), "var")),
                          (blockwise.local_stats(dx, 1, "mean", threads=None),
                           blockwise.local_stats(x, 1, "mean"))):
            self.assertIsInstance(got, self.da.Array)
            assert_same_bits(self, pickle.loads(pickle.dumps(got)).compute(), want, "pickled")
        for f in (self.bwd.chunk_local, self.bwd.local_stats):
            self.assertIs(cloudpickle.loads(cloudpickle.dumps(f)), f)
            self.assertLess(len(pickle.dumps(f)), 200, "pickled by value, not by reference")
        with self.assertRaises(ValueError):
            blockwise.local_stats(dx, 1, threads=2)

    def test_distributed(self):
        # The graphs of local_corr and block_shift run on worker processes
        # (pickled, the chunk functions by reference): the numpy bits.
        x, y = pair((60, 70), np.float32, seed=34)
        dx, dy = self.da.from_array(x, chunks=(25, 33)), self.da.from_array(y, chunks=(25, 33))
        with local_cluster() as client:
            r, shift = client.compute([blockwise.local_corr(dx, dy, (2, 3), step=(1, 2)),
                                       blockwise.block_shift(dx, dy, 10, 2).shift], sync=True)
        assert_same_bits(self, r, blockwise.local_corr(x, y, (2, 3), step=(1, 2)), "local_corr")
        assert_same_bits(self, shift, blockwise.block_shift(x, y, 10, 2).shift, "block_shift")


class LocalErrors(unittest.TestCase):
    """Bad arguments raise TypeError or ValueError with a clear message (the
    core's for ranges), on numpy and on dask before a graph is built."""

    def test_messages(self):
        import dask.array as da
        from blockwise import _core as C
        x, y = pair((12, 14), np.uint16, seed=40)
        p = C.LocalParams()
        C.local_params_init(p, 2, C.sizes((-1, 2)))
        radius_msg = core_message(C.local_params_check, p)
        C.local_params_init(p, 2, C.sizes((1, 1)))
        p.step[1] = 0
        step_msg = core_message(C.local_params_check, p)
        for lib, xx, yy in (("numpy", x, y), ("dask", da.from_array(x), da.from_array(y))):
            with self.subTest(lib=lib):
                check_raises(self, [
                    (lambda: blockwise.local_stats(xx, (-1, 2)), ValueError, radius_msg),
                    (lambda: blockwise.local_stats(xx, 1, step=(1, 0)), ValueError, step_msg),
                    (lambda: blockwise.local_stats(xx, 70000), ValueError, "65535"),
                    (lambda: blockwise.local_stats(xx, 1.5), TypeError, "radius"),
                    (lambda: blockwise.local_stats(xx, (1, 2, 3)), ValueError,
                     "at least 3 axes"),
                    (lambda: blockwise.local_stats(xx, (1, 2, 3), ndim=2), ValueError,
                     "3 radii"),
                    (lambda: blockwise.local_stats(xx[None], (1, 1), step=(1, 2, 3)),
                     ValueError, "different numbers"),
                    (lambda: blockwise.local_stats(xx, 1, "min"), ValueError,
                     "not a local statistic"),
                    (lambda: blockwise.local_stats(xx, 1, "median"), ValueError, "stats"),
                    (lambda: blockwise.local_stats(xx, 1, "corr"), ValueError, "y="),
                    (lambda: blockwise.local_stats(xx, 1, ddof=2), ValueError, "ddof"),
                    (lambda: blockwise.local_stats(xx, 1, fill="x"), TypeError, "fill"),
                    (lambda: blockwise.local_stats(xx, 1, dtype=np.int32), TypeError, "float"),
                    (lambda: blockwise.local_corr(xx, None, 1), TypeError, "two images"),
                    (lambda: blockwise.local_corr(xx, yy[:-1], 1), ValueError, "shape"),
                    (lambda: blockwise.local_corr(xx, yy.astype(np.float32), 1), TypeError,
                     "dtype"),
                    (lambda: blockwise.local_stats(xx[0], 1), ValueError, "at least 2 axes"),
                    (lambda: blockwise.local_stats(xx[:, :0], 1), ValueError, "empty"),
                    (lambda: blockwise.local_stats(xx.astype(np.int64), 1), TypeError,
                     "int64"),
                    (lambda: blockwise.local_stats(xx.astype(np.complex64), 1), TypeError,
                     "complex64"),
                    (lambda: blockwise.local_stats(xx, 1, ndim=4), ValueError, "ndim"),
                    (lambda: blockwise.local_stats(xx[None, None], 1), ValueError,
                     "ndim=2"),
                ])
        check_raises(self, [
            (lambda: blockwise.local_stats(x, 1, threads=0), ValueError, "threads"),
            (lambda: blockwise.local_input_region((10, 10), (slice(0, 20), 0), radius=1),
             ValueError, "output region"),
            (lambda: blockwise.local_output_shape((10, 0), radius=1), ValueError, "extents"),
        ])


GROUPS = {"local": Local, "local_corr": LocalCorr, "local_dask": LocalDask,
          "local_errors": LocalErrors}

if __name__ == "__main__":
    main(__doc__, GROUPS)
