"""Tests of the aliases for the earlier Python package `blockwise` (bw_sum,
bw_mean, bw_std, bw_corrcoef, trim, repeat_block): that package's own test
cases (per-block statistics of small arrays against a brute-force loop over
the whole blocks, trim of ragged edges, repeat_block), on numpy and dask
arrays, and more shapes.  Command line: see common.py."""
import itertools
import math
import unittest

import numpy as np

import blockwise
from common import check_raises, main
from pairs import pair


def bruteforce(arrays, block_shape, function):
    """function(*blocks) of every whole block of the arrays (the earlier
    package's reference: blocks past the last whole one are dropped)."""
    out_shape = [n // b for n, b in zip(arrays[0].shape, block_shape)]
    out = np.empty(out_shape)
    for coord in itertools.product(*[range(n) for n in out_shape]):
        s = tuple(slice(c * b, (c + 1) * b) for c, b in zip(coord, block_shape))
        out[coord] = function(*(a[s] for a in arrays))
    return out


REFERENCES = {
    "sum": np.sum,
    "mean": np.mean,
    "std": np.std,
}


def corrcoef(a, b):
    return np.corrcoef(a.ravel(), b.ravel())[0, 1]


class Legacy(unittest.TestCase):
    """The earlier package's cases, numpy in -> numpy out, dask in -> dask out."""

    @classmethod
    def setUpClass(cls):
        import dask.array as da
        cls.da = da

    def check(self, got, want, kind, msg):
        self.assertIsInstance(got, kind, msg)
        got = np.asarray(got)  # computes a dask array
        self.assertEqual(got.shape, want.shape, msg)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=msg)

    def test_bw_funcs(self):
        # test_bw_func of the earlier package: (4, 6) arange, (2, 3) blocks.
        arr = np.arange(24).reshape(4, 6)
        for name, function in REFERENCES.items():
            want = bruteforce([arr], (2, 3), function)
            f = getattr(blockwise, "bw_" + name)
            self.check(f(arr, (2, 3)), want, np.ndarray, f"bw_{name} numpy")
            self.check(f(self.da.from_array(arr), (2, 3)), want, self.da.Array,
                       f"bw_{name} dask")

    def test_bw_corrcoef(self):
        # test_bw_corrcoef of the earlier package: arange and its roll by one
        # row.
        arr1 = np.arange(24).reshape(4, 6)
        arr2 = np.roll(arr1, 1, 0)
        want = bruteforce([arr1, arr2], (2, 3), corrcoef)
        self.check(blockwise.bw_corrcoef(arr1, arr2, (2, 3)), want, np.ndarray, "numpy")
        self.check(blockwise.bw_corrcoef(self.da.from_array(arr1), self.da.from_array(arr2),
                                         (2, 3)), want, self.da.Array, "dask")

    def test_trim(self):
        # test_trim: (6, 5) with (3, 2) blocks keeps the first 4 columns.
        arr = np.arange(30).reshape(6, 5)
        got = blockwise.trim(arr, (3, 2))
        np.testing.assert_array_equal(got, arr[:, :4])
        got = blockwise.trim(self.da.arange(30).reshape(6, 5), (3, 2))
        self.assertIsInstance(got, self.da.Array)
        np.testing.assert_array_equal(got.compute(), arr[:, :4])

    def test_repeat_block(self):
        # test_repeat_block: each element becomes a (3, 2) block.
        want = np.array([[0, 0, 1, 1]] * 3 + [[2, 2, 3, 3]] * 3)
        arr = np.arange(4).reshape(2, 2)
        got = blockwise.repeat_block(arr, (3, 2))
        np.testing.assert_array_equal(got, want)
        self.assertEqual(got.dtype, arr.dtype)
        got = blockwise.repeat_block(self.da.arange(4).reshape(2, 2), (3, 2))
        self.assertIsInstance(got, self.da.Array)
        np.testing.assert_array_equal(got.compute(), want)

    def test_ragged_and_keep_shape(self):
        x, y = pair((23, 31), np.uint16, seed=1)
        block = (5, 7)
        cases = {"sum": (blockwise.bw_sum, (x,), np.sum),
                 "mean": (blockwise.bw_mean, (x,), np.mean),
                 "std": (blockwise.bw_std, (x,), np.std),
                 "corrcoef": (blockwise.bw_corrcoef, (x, y), corrcoef)}
        for name, (f, arrays, function) in cases.items():
            want = bruteforce([a.astype(np.float64) for a in arrays], block, function)
            self.assertEqual(want.shape, (4, 4))
            self.check(f(*arrays, block), want, np.ndarray, name)
            kept = f(*arrays, block, keep_shape=True)
            self.assertEqual(kept.shape, (20, 28), name)
            np.testing.assert_allclose(kept, np.kron(want, np.ones(block)), rtol=1e-12,
                                       err_msg=f"{name} keep_shape")
            dk = f(*(self.da.from_array(a, chunks=(9, 11)) for a in arrays), block,
                   keep_shape=True)
            self.check(dk, np.kron(want, np.ones(block)), self.da.Array, f"{name} dask")
        ddof = blockwise.bw_std(x, block, ddof=1)
        self.check(ddof, bruteforce([x.astype(np.float64)], block,
                                    lambda a: np.std(a, ddof=1)), np.ndarray, "ddof")
        self.assertEqual(blockwise.trim(x, block).shape, (20, 28))
        for f in (blockwise.trim, blockwise.bw_mean):
            with self.assertRaisesRegex(ValueError, "trim leaves no block"):
                f(x, (30, 7))

    def test_other_ranks(self):
        v = np.arange(10.0)
        self.check(blockwise.bw_mean(v, (3,)), np.array([1.0, 4.0, 7.0]), np.ndarray, "1-D")
        np.testing.assert_array_equal(blockwise.trim(v, (3,)), v[:9])
        vol = pair((6, 9, 10), np.float32, seed=2)[0]
        for block in ((2, 3, 4), (1, 3, 5), (6, 9, 10)):
            self.check(blockwise.bw_std(vol, block),
                       bruteforce([vol.astype(np.float64)], block, np.std), np.ndarray,
                       f"3-D {block}")
        hyper = pair((2, 3, 8, 9), np.int16, seed=3)[0]
        want = bruteforce([hyper.astype(np.float64)], (1, 1, 4, 3), np.sum)
        self.check(blockwise.bw_sum(hyper, (1, 1, 4, 3)), want, np.ndarray, "4-D")
        self.assertEqual(blockwise.repeat_block(hyper, (1, 2, 1, 3)).shape, (2, 6, 8, 27))

    def test_constant_blocks(self):
        x = np.zeros((4, 6))
        r = blockwise.bw_corrcoef(x, x + 1, (2, 3))
        self.assertTrue(np.all(np.isnan(r)))

    def test_errors(self):
        x = np.zeros((6, 8))
        check_raises(self, [
            (lambda: blockwise.bw_sum(x, (2,)), ValueError, "one size per axis"),
            (lambda: blockwise.bw_sum(x, 2), TypeError, "block_shape"),
            (lambda: blockwise.bw_mean(x, (2, 2.5)), TypeError, "not an int"),
            (lambda: blockwise.bw_std(x, (0, 2)), ValueError, "at least 1"),
            (lambda: blockwise.bw_sum(np.zeros((2, 3, 4, 5)), (2, 1, 2, 2)), ValueError,
             "size 1"),
            (lambda: blockwise.bw_corrcoef(x, None, (2, 2)), TypeError, "two images"),
            (lambda: blockwise.bw_corrcoef(x, x[:4], (2, 2)), ValueError, "shape"),
            (lambda: blockwise.bw_sum(x, (2, 2), keep_shape="yes"), TypeError, "keep_shape"),
            (lambda: blockwise.bw_sum(x.astype(np.complex64), (2, 2)), TypeError, "complex"),
            (lambda: blockwise.trim(x, (2, 2, 2)), ValueError, "one size per axis"),
            (lambda: blockwise.repeat_block(x, (2, -1)), ValueError, "at least 1"),
            (lambda: blockwise.bw_sum(np.float64(3.0), ()), ValueError, "no axes"),
        ])
        self.assertTrue(math.isnan(blockwise.bw_std(np.ones((2, 2)), (1, 1), ddof=1)[0, 0]))


GROUPS = {"legacy": Legacy}

if __name__ == "__main__":
    main(__doc__, GROUPS)
