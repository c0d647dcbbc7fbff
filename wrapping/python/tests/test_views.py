"""Tests of the Python binding: leading axes kept, strided views read in
place, and bad arguments to the block functions raising TypeError or
ValueError (the core's own messages where the core finds them).  Command
line: see common.py."""
import math
import tracemalloc
import unittest

import numpy as np

import blockwise
from common import (STRIDED_VIEWS, argument_picks, assert_close, assert_same_bits,
                    check_outcome, check_raises, common_argument_errors, core_message,
                    main, reference)
from pairs import pair


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


GROUPS = {"leading": Leading, "views": Views, "errors": Errors}

if __name__ == "__main__":
    main(__doc__, GROUPS)
