"""Tests of the Python binding's per-block displacement (block_shift): known
integer shifts of a photograph (np.roll of scikit-image's camera) recovered
with the sign of bw_shift.h, sub-pixel shifts (Fourier shift), r at zero
shift equal to the block correlation, numpy and dask alike, and bad
arguments raising TypeError or ValueError.  Command line: see common.py."""
import pickle
import unittest

import numpy as np

import blockwise
from common import assert_same_bits, check_raises, core_message, main
from pairs import pair


def camera():
    from skimage import data
    return data.camera()  # 512 x 512 uint8


def textured_volume(shape, seed=0):
    """A smooth random volume (noise blurred), float64."""
    from scipy import ndimage
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), 1.5) * 100


def inner_blocks(shape, block, d, search):
    """Index slices of the blocks whose shifted pixels (p + d) and whole
    search windows stay clear of the image's border and of what np.roll
    wrapped around: there B(p + s) = A(p + s - d) holds for every shift
    tried."""
    sl = []
    for n, b, di, s in zip(shape, block, d, search):
        margin = abs(di) + s
        first = -(-margin // b)
        last = (n - margin) // b  # blocks [first, last) lie inside
        sl.append(slice(first, last))
    return tuple(sl)


class Shift(unittest.TestCase):
    """block_shift on numpy arrays: integer and sub-pixel shifts, the sign,
    identical inputs, zero-shift r, leading axes, threads, region map."""

    def test_integer_shifts_camera(self):
        a = camera()
        for d in ((3, -2), (-5, 0), (0, 7), (1, 1)):
            b = np.roll(a, d, axis=(0, 1))  # b[p] = a[p - d]: moved by +d
            for dt in (np.uint8, np.float32, np.int16):
                res = blockwise.block_shift(a.astype(dt), b.astype(dt), (48, 64), 8)
                self.assertEqual(res.shift.shape, (2, 11, 8))
                inner = inner_blocks(a.shape, (48, 64), d, (8, 8))
                for axis in range(2):
                    got = res.shift[axis][inner]
                    self.assertTrue(np.all(got == d[axis]),
                                    f"d={d} {np.dtype(dt)} axis {axis}: {np.unique(got)}")
                np.testing.assert_allclose(res.peak[inner], 1, rtol=0, atol=1e-12,
                                           err_msg=f"peak d={d}")
                self.assertTrue(np.all(res.zero[inner] < res.peak[inner]), f"zero d={d}")

    def test_identical_inputs(self):
        a = camera()
        res = blockwise.block_shift(a, a, 64, 6)
        self.assertTrue(np.all(res.shift == 0))
        np.testing.assert_allclose(res.peak, 1, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.zero, 1, rtol=0, atol=1e-12)

    def test_anisotropic_search_3d(self):
        v = textured_volume((24, 40, 44), seed=1)
        d = (1, -3, 2)
        w = np.roll(v, d, axis=(0, 1, 2))
        res = blockwise.block_shift(v, w, (8, 16, 16), (2, 4, 3))
        self.assertEqual(res.shift.shape, (3, 3, 3, 3))
        inner = inner_blocks(v.shape, (8, 16, 16), d, (2, 4, 3))
        for axis in range(3):
            np.testing.assert_allclose(res.shift[axis][inner], d[axis], rtol=0, atol=1e-9,
                                       err_msg=f"axis {axis}")
        # A shift beyond the search radius along an axis is not found there.
        res = blockwise.block_shift(v, w, (8, 16, 16), (2, 2, 3))
        self.assertFalse(np.any(res.shift[1][inner] == -3))

    def test_subpixel_fourier_shift(self):
        from scipy import ndimage
        a = camera().astype(np.float64)
        d = (0.3, -0.6)
        b = np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(a), d)).real
        res = blockwise.block_shift(a, b, 64, 3)
        inner = inner_blocks(a.shape, (64, 64), (1, 1), (3, 3))
        for axis in range(2):
            err = np.abs(res.shift[axis][inner] - d[axis])
            # Where the texture allows: most blocks within 0.1 px.
            self.assertLess(np.median(err), 0.1, f"axis {axis}: median error")
            self.assertGreater(np.mean(err < 0.1), 0.75, f"axis {axis}: {err.round(2)}")

    def test_zero_is_block_corr(self):
        x, y = pair((70, 90), np.float64, seed=2)
        res = blockwise.block_shift(x, y, (16, 20), (2, 3))
        np.testing.assert_allclose(res.zero, blockwise.block_corr(x, y, (16, 20)), rtol=0,
                                   atol=1e-12)
        self.assertTrue(np.all(res.peak >= res.zero - 1e-12))
        self.assertTrue(np.all(np.abs(res.peak) <= 1))

    def test_fill(self):
        a = camera().astype(np.float32)
        b = a.copy()
        a[:64, :64] = 5  # a constant block: no r anywhere
        for fill in (None, -7.0):
            res = blockwise.block_shift(a, b, 64, 2, fill=fill)
            corner = [res.shift[0][0, 0], res.shift[1][0, 0], res.peak[0, 0], res.zero[0, 0]]
            if fill is None:
                self.assertTrue(np.all(np.isnan(corner)), corner)
            else:
                self.assertTrue(np.all(np.array(corner) == fill), corner)
            self.assertTrue(np.all(res.shift[:, 1:, 1:] == 0))

    def test_leading_axes_dtype_threads(self):
        x, y = pair((2, 3, 40, 50), np.int16, seed=3)
        y = np.roll(x, (1, -2), axis=(2, 3)) + (y // 8)
        res = blockwise.block_shift(x, y, (10, 12), 3)
        self.assertEqual(res.shift.shape, (2, 2, 3, 4, 5))
        for i, j in np.ndindex(2, 3):
            one = blockwise.block_shift(x[i, j], y[i, j], (10, 12), 3)
            for name, got, want in zip(res._fields, (res.shift[:, i, j], res.peak[i, j],
                                                     res.zero[i, j]), one):
                assert_same_bits(self, got, want, f"{name} plane {i},{j}")
        f32 = blockwise.block_shift(x, y, (10, 12), 3, dtype="f32")
        for got, want in zip(f32, res):
            assert_same_bits(self, got, want.astype(np.float32), "float32")
        for threads in (2, 5):
            for got, want in zip(blockwise.block_shift(x, y, (10, 12), 3, threads=threads),
                                 res):
                assert_same_bits(self, got, want, f"threads={threads}")
        # A strided view reads in place, with the results of a copy.
        v, w = x[..., ::-1, 1::2], y[..., ::-1, 1::2]
        for got, want in zip(blockwise.block_shift(v, w, (10, 12), 3),
                             blockwise.block_shift(v.copy(), w.copy(), (10, 12), 3)):
            assert_same_bits(self, got, want, "view")

    def test_region_map(self):
        # Worked out by hand: blocks 1..2 along y (rows 10..30 of 45),
        # block 4 along x (columns 48..58, the last partial block), grown
        # by the search radius and clipped.
        a, b = blockwise.shift_input_region((45, 58), (10, 12), (slice(1, 3), 4),
                                            search=(3, 5))
        self.assertEqual(a, (slice(10, 30), slice(48, 58)))
        self.assertEqual(b, (slice(7, 33), slice(43, 58)))


class ShiftDask(unittest.TestCase):
    """blockwise.dask.block_shift: the bits of numpy for any chunks, the
    chunks and depth worked out by hand, pickled graphs."""

    @classmethod
    def setUpClass(cls):
        import dask
        import dask.array as da
        import blockwise.dask as bwd
        cls.dask, cls.da, cls.bwd = dask, da, bwd

    def test_chunkings(self):
        da = self.da
        a = camera().astype(np.float32)[:300, :260]
        noise = np.random.default_rng(7).normal(0, 20, a.shape)
        b = (np.roll(a, (2, -5), axis=(0, 1)) + noise).astype(np.float32)
        want = blockwise.block_shift(a, b, (40, 50), (5, 6))
        for chunks in ((300, 260), (100, 77), (33, 260), (7, 9), ((150, 150), (1, 259))):
            got = blockwise.block_shift(da.from_array(a, chunks=chunks),
                                        da.from_array(b, chunks=(61, 53)), (40, 50), (5, 6))
            self.assertIsInstance(got.shift, da.Array)
            for name, g, w in zip(want._fields, self.dask.compute(*got), want):
                assert_same_bits(self, g, w, f"{name} chunks={chunks}")

    def test_3d_and_leading_axes(self):
        da = self.da
        x, y = pair((2, 12, 30, 26), np.uint16, seed=4)
        for block, search in (((4, 10, 10), (1, 2, 3)), ((6, 5), 2)):
            want = blockwise.block_shift(x, y, block, search)
            for chunks in ((1, 12, 30, 26), (2, 5, 13, 7)):
                got = blockwise.block_shift(da.from_array(x, chunks=chunks),
                                            da.from_array(y, chunks=chunks), block, search)
                for g, w in zip(got, want):
                    assert_same_bits(self, g.compute(), w, f"{block} {chunks}")

    def test_chunks_by_hand(self):
        # Boundaries on the nearest block boundary (as block_chunks); the
        # second image's chunks grow by the search radius; a chunk smaller
        # than that joins the one before it.
        chunks, out, depth = self.bwd.shift_chunks(((17, 23, 20), (30, 28)), (60, 58), (10, 10),
                                                   (3, 4))
        self.assertEqual(chunks, ((20, 20, 20), (30, 28)))
        self.assertEqual(out, ((2, 2, 2), (3, 3)))
        self.assertEqual(depth, ((3, 3), (4, 4)))
        chunks, out, depth = self.bwd.shift_chunks(((4, 4, 4, 4), (16,)), (16, 16), (4, 4),
                                                   (6, 0))
        self.assertEqual((chunks, out, depth), (((8, 8), (16,)), ((2, 2), (4,)),
                                                ((6, 6), (0, 0))))

    def test_pickle_and_lazy(self):
        import cloudpickle
        x, y = pair((40, 44), np.int16, seed=5)
        got = blockwise.block_shift(self.da.from_array(x, chunks=15),
                                    self.da.from_array(y, chunks=15), 10, 2)
        want = blockwise.block_shift(x, y, 10, 2)
        for g, w in zip(got, want):
            assert_same_bits(self, pickle.loads(pickle.dumps(g)).compute(), w, "pickled")
        for f in (self.bwd.chunk_shift, self.bwd.block_shift):
            self.assertIs(cloudpickle.loads(cloudpickle.dumps(f)), f)
            self.assertLess(len(pickle.dumps(f)), 200, "pickled by value, not by reference")


class ShiftErrors(unittest.TestCase):
    """Bad arguments raise TypeError or ValueError (the core's message for
    ranges), on numpy and on dask before a graph is built."""

    def test_messages(self):
        import dask.array as da
        from blockwise import _core as C
        x, y = pair((40, 44), np.uint8, seed=6)
        p = C.ShiftParams()
        C.shift_params_init(p, 2, C.sizes((8, 8)), C.sizes((1, 256)))
        search_msg = core_message(C.shift_params_check, p)
        for lib, xx, yy in (("numpy", x, y), ("dask", da.from_array(x), da.from_array(y))):
            with self.subTest(lib=lib):
                check_raises(self, [
                    (lambda: blockwise.block_shift(xx, yy, 8, (1, 256)), ValueError,
                     search_msg),
                    (lambda: blockwise.block_shift(xx, yy, 8, -1), ValueError, "search"),
                    (lambda: blockwise.block_shift(xx, yy, 0, 2), ValueError, "block"),
                    (lambda: blockwise.block_shift(xx, yy, 8.0, 2), TypeError, "block"),
                    (lambda: blockwise.block_shift(xx, yy, 8, 2.5), TypeError, "search"),
                    (lambda: blockwise.block_shift(xx, yy, 8, (1, 2, 3)), ValueError,
                     "3 radii"),
                    (lambda: blockwise.block_shift(xx, None, 8), TypeError, "two images"),
                    (lambda: blockwise.block_shift(xx, yy[1:], 8), ValueError, "shape"),
                    (lambda: blockwise.block_shift(xx, yy.astype(np.int16), 8), TypeError,
                     "dtype"),
                    (lambda: blockwise.block_shift(xx[0], yy[0], 8), ValueError,
                     "at least 2 axes"),
                    (lambda: blockwise.block_shift(xx.astype(bool), yy.astype(bool), 8),
                     TypeError, "bool"),
                    (lambda: blockwise.block_shift(xx, yy, 8, fill="n"), TypeError, "fill"),
                    (lambda: blockwise.block_shift(xx, yy, 8, dtype=np.uint8), TypeError,
                     "float"),
                    (lambda: blockwise.block_shift(xx[None, None], yy[None, None], 8),
                     ValueError, "ambiguous"),
                ])
        check_raises(self, [
            (lambda: blockwise.block_shift(x, y, 8, threads=0), ValueError, "threads"),
            (lambda: blockwise.shift_input_region((40, 44), 8, (9, 0)), ValueError,
             "output region"),
        ])


GROUPS = {"shift": Shift, "shift_dask": ShiftDask, "shift_errors": ShiftErrors}

if __name__ == "__main__":
    main(__doc__, GROUPS)
