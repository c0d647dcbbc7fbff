"""Tests of the Python binding's dask functions (blockwise.dask): lazy, the
bits of the numpy path for any chunks, chunks and overlap depths worked out
by hand, and the same on a dask.distributed cluster of worker processes.
Command line: see common.py."""
import pickle
import sys
import unittest

import numpy as np

import blockwise
from common import assert_same_bits, local_cluster, main, noisy_image, poisson_image
from pairs import pair


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
    processes gives the numpy path's bits (common.local_cluster)."""

    def test_local_cluster(self):
        import dask.array as da
        import blockwise.dask as bwd
        x, y = pair((2, 203, 187), np.uint16, seed=90)
        want_r = blockwise.block_corr(x, y, (10, 10))
        want_s = blockwise.block_stats(x, (10, 10), ("mean", "std"))
        with local_cluster() as client:
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
        import blockwise.dask as bwd
        x = noisy_image((3, 70, 66), np.uint16, seed=91)
        want = blockwise.nlm_denoise(x, 12, ndim=2, patch=2, search=5)
        with local_cluster() as client:
            r = bwd.nlm_denoise(da.from_array(x, chunks=(1, 30, 40)), 12, ndim=2, patch=2,
                                search=5)
            got = client.compute(r, sync=True)
        assert_same_bits(self, got, want, "nlm on 2 worker processes")


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


GROUPS = {"dask": Dask, "distributed": Distributed, "nlm_dask": NlmDask}

if __name__ == "__main__":
    main(__doc__, GROUPS)
