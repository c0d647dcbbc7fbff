"""Tests of the Python binding: threads=N gives the bits of one thread, and
the GIL is released during core calls.  Command line: see common.py."""
import ctypes
import itertools
import threading
import unittest

import numpy as np

import blockwise
from common import assert_same_bits, main, noisy_image, poisson_image, ran_during
from pairs import pair


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
    pass.  Released, they pass on the first try unless the machine keeps
    the other threads off the cores for a whole call; then longer calls
    are tried, and the longest again until one shows it: how busy the
    machine is decides how many tries that takes, not the verdict."""

    @staticmethod
    def scales():
        """Sizes of LongCall to try: longer and longer, then the longest
        again and again."""
        return itertools.chain((1, 2, 4), itertools.repeat(8))

    def setUp(self):
        # ctypes releases the GIL around each call of a CDLL's functions and
        # holds it around a PyDLL's.  A binding that held it would fail here
        # instead of trying below until CTest's timeout.
        from blockwise import _core as C
        self.assertIsInstance(C.lib, ctypes.CDLL)
        self.assertNotIsInstance(C.lib, ctypes.PyDLL, "the core is loaded as a PyDLL")

    def test_python_thread_runs_during_a_call(self):
        for kind in ("block", "nlm"):
            for scale in self.scales():
                call = LongCall(kind, scale)
                shown = ran_during(call)
                self.assertTrue(call.done(), kind)
                # The spinner saw the call in flight, twice at least, having
                # counted in between: it ran while the call was in the core.
                if shown:
                    break

    def test_two_threads_in_the_core(self):
        small, other = pair((64, 64), np.float32, seed=71)
        want = blockwise.block_corr(small, other, 8)
        want_nlm = blockwise.nlm_denoise(small, 0.3, patch=1, search=2)
        for scale in self.scales():
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


GROUPS = {"threads": Threads, "gil": Gil, "nlm_threads": NlmThreads}

if __name__ == "__main__":
    main(__doc__, GROUPS)
