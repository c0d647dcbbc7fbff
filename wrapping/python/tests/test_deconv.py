"""Tests of the Python binding's Richardson-Lucy deconvolution
(richardson_lucy): against scikit-image's restoration.richardson_lucy where
both compute the same thing, the truth on a blurred bead scene (and the
iterations acceleration saves), leading axes
with a PSF per channel, threads, the GIL released, dask chunks against the
whole image and against pieces cut by hand (and on dask.distributed), and
bad arguments raising TypeError or ValueError.  Command line: see common.py."""
import threading
import time
import unittest

import numpy as np

import blockwise
import blockwise.dask
from common import check_raises, main


def beads(shape, seed=0, margin=0):
    """Sparse bright beads on a dim background, zero within `margin` of the
    border, float64."""
    rng = np.random.default_rng(seed)
    truth = np.zeros(shape)
    inner = tuple(slice(margin, n - margin) for n in shape)
    truth[inner] = 5 + 400 * (rng.random(truth[inner].shape) < 0.03)
    return truth


def gaussian_psf(shape, sigmas):
    grids = np.meshgrid(*[np.arange(n) - (n - 1) / 2 for n in shape], indexing="ij")
    psf = np.exp(-sum(g * g / (2 * s * s) for g, s in zip(grids, sigmas)))
    return psf / psf.sum()


def blur(x, psf):
    from scipy.signal import fftconvolve
    return np.clip(fftconvolve(x, psf, mode="same"), 0, None)


class Deconvolve(unittest.TestCase):
    """richardson_lucy on numpy arrays."""

    def test_scikit_image(self):
        # scikit-image's richardson_lucy: zero boundary, first estimate 0.5,
        # ratios where the blur is below filter_epsilon set to 0.  On a scene
        # with a zero margin wider than the PSF, the zero boundary and the
        # periodic one compute the same: the same first estimate and guard
        # give the same result, within float32 rounding.
        from skimage import restoration
        psf = gaussian_psf((9, 9), (1.6, 1.6))
        img = blur(beads((64, 80), 1, margin=10), psf)
        for it in (1, 5, 30):
            want = restoration.richardson_lucy(img, psf, num_iter=it, clip=False,
                                               filter_epsilon=1e-9 * img.max())
            got = blockwise.richardson_lucy(img, psf, it, boundary="periodic", initial=0.5,
                                            epsilon=1e-9, psf_centre=(4, 4))
            self.assertEqual(got.dtype, np.float32)
            err = np.abs(got - want).max() / np.abs(want).max()
            self.assertLess(err, 1e-4, f"{it} iterations: relative error {err}")

    def test_truth(self):
        # A bead volume blurred by an elongated PSF with Poisson noise: the
        # error against the truth falls with the iterations, and the
        # non-circulant boundary does better at the border than the
        # periodic one, which wraps the opposite side in.
        rng = np.random.default_rng(3)
        truth = beads((24, 48, 48), 2)
        psf = gaussian_psf((9, 7, 7), (1.5, 1.0, 1.0))
        img = rng.poisson(blur(truth, psf) * 4) / 4.0
        errors = []
        for it in (0, 5, 20, 60):
            out = blockwise.richardson_lucy(img, psf, it)
            errors.append(np.sqrt(np.mean((out - truth) ** 2)))
        self.assertTrue(all(b < a for a, b in zip(errors, errors[1:])), errors)
        self.assertLess(errors[-1], 0.9 * errors[0], errors)

        # Biggs-Andrews acceleration reaches the error of n plain iterations
        # in n / 2 or fewer.
        def error(it, accelerate):
            out = blockwise.richardson_lucy(img, psf, it, accelerate=accelerate)
            return np.sqrt(np.mean((out - truth) ** 2))
        for n in (20, 40):
            plain, fast = error(n, False), error(n // 2, True)
            self.assertLessEqual(fast, plain, f"accelerated {n // 2} iterations {fast}, plain {n} {plain}")

    def test_tv(self):
        # Total variation against a float64 numpy RL-TV written here:
        # periodic boundary, the image as first estimate, forward
        # differences for the gradient and backward ones for the divergence
        # around the period, |grad f| smoothed by 1e-3 of the image's
        # largest value, each correction divided by max(1 - tv div, 0.1).
        rng = np.random.default_rng(11)
        psf = gaussian_psf((5, 5), (1.2, 1.0))
        img = blur(beads((40, 44), 3), psf) + rng.random((40, 44)) * 5 + 10
        its, lam = 10, 0.01
        H = np.fft.rfft2(np.roll(np.pad(psf, ((0, 35), (0, 39))), (-2, -2), axis=(0, 1)))
        conv = lambda a, K: np.fft.irfft2(np.fft.rfft2(a) * K, s=a.shape)
        f, top = img.copy(), img.max()
        for _ in range(its):
            b = conv(f, H)
            ratio = np.where(b > 1e-6 * top, img / np.where(b > 0, b, 1), 0)
            c = np.maximum(conv(ratio, np.conj(H)), 0)
            g = [np.roll(f, -1, axis=a) - f for a in (0, 1)]
            n = np.sqrt(g[0] ** 2 + g[1] ** 2 + (1e-3 * top) ** 2)
            div = sum(g[a] / n - np.roll(g[a] / n, 1, axis=a) for a in (0, 1))
            f = f * c / np.maximum(1 - lam * div, 0.1)
        got = blockwise.richardson_lucy(img, psf, its, boundary="periodic", tv=lam)
        err = np.abs(got - f).max() / np.abs(f).max()
        self.assertLess(err, 1e-4, f"RL-TV against numpy: relative error {err}")
        plain = blockwise.richardson_lucy(img, psf, its, boundary="periodic")
        self.assertGreater(np.abs(got - plain).max() / top, 1e-3, "tv changed nothing")
        np.testing.assert_array_equal(blockwise.richardson_lucy(img, psf, its, boundary="periodic", tv=0), plain)

    def test_leading_axes(self):
        # (C, T, Y, X) with a (C, 1, y, x) PSF, 2-D (a PSF of 3 axes or more
        # is 3-D unless ndim says): each channel by its own PSF, the same as
        # one call per image; threads give the same bits.
        rng = np.random.default_rng(4)
        stack = rng.random((2, 3, 30, 34)).astype(np.float32) * 100 + 1
        psfs = np.stack([gaussian_psf((5, 5), (1, 1)), gaussian_psf((5, 5), (2, 0.7))])[:, None]
        got = blockwise.richardson_lucy(stack, psfs, 4, ndim=2)
        for c in range(2):
            for t in range(3):
                one = blockwise.richardson_lucy(stack[c, t], psfs[c, 0], 4)
                np.testing.assert_array_equal(got[c, t], one, err_msg=f"channel {c}, time {t}")
        np.testing.assert_array_equal(blockwise.richardson_lucy(stack, psfs, 4, ndim=2, threads=3), got)
        # one PSF for all; any dtype in; views with strides
        u16 = (stack * 100).astype(np.uint16)
        a = blockwise.richardson_lucy(u16, psfs[0, 0], 3)
        b = blockwise.richardson_lucy(u16.astype(np.float64)[:, :, ::-1], psfs[0, 0], 3)
        np.testing.assert_allclose(a[:, :, ::-1], b, rtol=1e-5, atol=1e-3)
        self.assertEqual(blockwise.rl_exact_halo((9, 7, 7), 10), (80, 60, 60))

    def test_gil(self):
        # A deconvolution runs while another thread counts: the GIL is free.
        img = np.random.default_rng(5).random((48, 256, 256)).astype(np.float32) + 1
        psf = gaussian_psf((5, 9, 9), (1, 2, 2))
        ticks, done = [0], threading.Event()

        def count():
            while not done.is_set():
                ticks[0] += 1
        t = threading.Thread(target=count)
        t.start()
        start = time.perf_counter()
        blockwise.richardson_lucy(img, psf, 3)
        elapsed = time.perf_counter() - start
        done.set()
        t.join()
        self.assertGreater(elapsed, 0.05)
        self.assertGreater(ticks[0], 1000, "the counting thread did not run while deconvolving")


class DeconvolveDask(unittest.TestCase):
    """blockwise.dask.richardson_lucy: chunks against the whole image and
    against pieces cut by hand, on the threaded scheduler and on a
    dask.distributed cluster of worker processes."""

    def setUp(self):
        rng = np.random.default_rng(6)
        self.stack = (rng.random((2, 30, 41, 37)) * 200 + 5).astype(np.float32)
        self.psfs = np.stack([gaussian_psf((5, 5, 5), (0.8, 1.2, 1.0)),
                              gaussian_psf((5, 5, 5), (1.5, 0.6, 1.1))])[:, None]

    def test_whole_volumes(self):
        # Chunks holding whole volumes: the numpy path's bits, each channel
        # by its own PSF; numpy in, dask out; the top level dispatches.
        import dask.array as da
        x = da.from_array(self.stack, chunks=(1, 30, 41, 37))
        want = blockwise.richardson_lucy(self.stack, self.psfs[:, 0], 4)
        got = blockwise.dask.richardson_lucy(x, self.psfs[:, 0], 4)
        self.assertIsInstance(got, da.Array)
        self.assertEqual(got.dtype, np.float32)
        np.testing.assert_array_equal(got.compute(), want)
        np.testing.assert_array_equal(blockwise.richardson_lucy(x, self.psfs[:, 0], 4).compute(), want)

    def test_exact_halo(self):
        # Chunks aligned to nothing, exact halo: the whole image's result to
        # float rounding (the pieces' FFTs have other sizes).  Not with
        # acceleration, whose step is a sum over each piece.
        import dask.array as da
        x = da.from_array(self.stack, chunks=(2, 11, 13, 17))
        want = blockwise.richardson_lucy(self.stack, self.psfs[:, 0], 3)
        got = blockwise.dask.richardson_lucy(x, self.psfs[:, 0], 3, halo="exact").compute()
        err = np.abs(got - want).max() / np.abs(want).max()
        self.assertLess(err, 1e-5, f"exact halo: relative error {err}")

    def test_auto_halo(self):
        # The default halo on a bead and filament volume blurred by PSFs
        # elongated along z, with Poisson noise, in chunks along every
        # axis: within the documented 1e-3 of the whole image's largest
        # value, with a halo far below the exact one.
        import dask.array as da
        rng = np.random.default_rng(8)
        truth = 5 + 300 * (rng.random((40, 96, 88)) < 0.003)
        truth[:, 40, :] += 200
        truth[20, :, 30] += 200
        for sigmas, its in (((2.0, 1.0, 1.0), 20), ((3.0, 1.5, 1.2), 10), ((2.0, 1.0, 1.0), 60)):
            m = tuple(2 * int(np.ceil(3 * s)) + 1 for s in sigmas)
            psf = gaussian_psf(m, sigmas)
            img = (rng.poisson(blur(truth, psf) * 3) / 3).astype(np.float32)
            halo = blockwise.rl_auto_halo(psf, its)
            exact = blockwise.rl_exact_halo(m, its)
            self.assertTrue(all(3 * h <= e for h, e in zip(halo, exact)), (halo, exact))
            want = blockwise.richardson_lucy(img, psf, its)
            got = blockwise.dask.richardson_lucy(da.from_array(img, chunks=(20, 32, 44)), psf, its)
            err = np.abs(got.compute() - want).max() / np.abs(want).max()
            self.assertLess(err, 1e-3, f"PSF {m}, {its} iterations, halo {halo}: error {err}")
            # and the halo matters: none at all is far off
            none = blockwise.dask.richardson_lucy(da.from_array(img, chunks=(20, 32, 44)), psf, its,
                                                  halo=0).compute()
            self.assertGreater(np.abs(none - want).max() / np.abs(want).max(), 1e-2)
        # 12, 18, 24 standard deviations by the iterations (a flat PSF of
        # 3 and 5 pixels: sigma sqrt(2/3) and sqrt(2)), at most the exact halo
        flat = np.ones((3, 5))
        self.assertEqual(blockwise.rl_auto_halo(flat, 20), (10, 17))
        self.assertEqual(blockwise.rl_auto_halo(flat, 300), (15, 26))
        self.assertEqual(blockwise.rl_auto_halo(flat, 500), (20, 34))
        self.assertEqual(blockwise.rl_auto_halo(flat, 2), (4, 8))

    def test_small_halo(self):
        # A halo of 2 per axis: every chunk is the deconvolution of the
        # chunk grown by 2 and clipped to the image, cut back, as computed
        # here by hand; and it is not the whole image's result.
        import dask.array as da
        halo = (2, 2, 2)
        chunks = blockwise.dask.rl_chunks(((2,), (10, 10, 10), (20, 21), (37,)), self.stack.shape,
                                          (5, 5, 5), halo)
        self.assertEqual(chunks, (((2,), (10, 10, 10), (20, 21), (37,)), (0, 2, 2, 0)))
        x = da.from_array(self.stack, chunks=(2, 10, 20, 37))
        got = blockwise.dask.richardson_lucy(x, self.psfs[:, 0], 5, halo=2).compute()
        want = np.empty_like(got)
        for z0 in (0, 10, 20):
            for y0, y1 in ((0, 20), (20, 41)):
                zs, ze = max(z0 - 2, 0), min(z0 + 12, 30)
                ys, ye = max(y0 - 2, 0), min(y1 + 2, 41)
                piece = blockwise.richardson_lucy(self.stack[:, zs:ze, ys:ye], self.psfs[:, 0], 5)
                want[:, z0:z0 + 10, y0:y1] = piece[:, z0 - zs:z0 - zs + 10, y0 - ys:y1 - ys]
        np.testing.assert_array_equal(got, want)
        whole = blockwise.richardson_lucy(self.stack, self.psfs[:, 0], 5)
        self.assertGreater(np.abs(got - whole).max(), 1e-3 * np.abs(whole).max())

    def test_merged_chunks(self):
        # Chunks thinner than the PSF or the halo join their neighbours; a
        # halo as large as an axis makes it one chunk.
        chunks, depth = blockwise.dask.rl_chunks(((1, 1), (3,) * 10, (4,) * 10 + (1,), (37,)),
                                                 self.stack.shape, (5, 5, 5), (6, 50, 0))
        self.assertEqual(chunks, ((1, 1), (6, 6, 6, 6, 6), (41,), (37,)))
        self.assertEqual(depth, (0, 6, 0, 0))

    def test_distributed(self):
        # The graph pickles, and worker processes give the same bits.
        import dask.array as da
        from common import local_cluster
        x = da.from_array(self.stack, chunks=(1, 15, 41, 20))
        lazy = blockwise.dask.richardson_lucy(x, self.psfs[:, 0], 2, halo=(2, 0, 4))
        want = lazy.compute(scheduler="threads")
        with local_cluster() as client:
            got = client.compute(lazy).result()
        np.testing.assert_array_equal(got, want)

    def test_errors(self):
        import dask.array as da
        x = da.from_array(self.stack, chunks=(1, 15, 41, 20))
        bad = self.stack.copy()
        bad[1, 20, 3, 30] = np.nan
        rl = blockwise.dask.richardson_lucy
        check_raises(self, [
            (lambda: rl(x, self.psfs[:, 0], 2, halo="nearest"), ValueError, "halo"),
            (lambda: rl(x, self.psfs[:, 0], 2, halo=(1, 2)), ValueError, "halo"),
            (lambda: rl(x, self.psfs[:, 0], 2, halo=-1), ValueError, "negative"),
            (lambda: rl(x, np.zeros((3, 3, 3)), 2), ValueError, "all zero"),
            (lambda: rl(x, np.ones((31, 3, 3)), 2), ValueError, "larger than the image"),
            (lambda: rl(x, self.psfs[:, 0], -1), ValueError, "iterations"),
            (lambda: rl(x, np.ones((3, 3, 3, 3)), 2), ValueError, "broadcast"),
            (lambda: rl(da.from_array(bad, chunks=(1, 15, 41, 20)), self.psfs[:, 0], 2, halo=2)
             .compute(), ValueError, "x[1, 20, 3, 30]"),
        ])


class DeconvolveErrors(unittest.TestCase):
    """Bad arguments: TypeError for types, ValueError for values, with the
    core's message where the core checks."""

    def test_errors(self):
        img = np.ones((20, 20), np.float32)
        psf = gaussian_psf((5, 5), (1, 1))
        bad = psf.copy()
        bad[2, 2] = np.nan
        inf = img.copy()
        inf[3, 4] = np.inf
        rl = blockwise.richardson_lucy
        check_raises(self, [
            (lambda: rl(img, np.ones((21, 3)), 2), ValueError, "larger than the image"),
            (lambda: rl(img, np.zeros((3, 3)), 2), ValueError, "all zero"),
            (lambda: rl(img, -psf, 2), ValueError, "non-negative"),
            (lambda: rl(img, bad, 2), ValueError, "finite"),
            (lambda: rl(img, psf, -1), ValueError, "iterations"),
            (lambda: rl(img, psf, 2.5), TypeError, "iterations"),
            (lambda: rl(img, psf, 2, boundary="wrap"), ValueError, "boundary"),
            (lambda: rl(img, psf, 2, epsilon=0), ValueError, "epsilon"),
            (lambda: rl(img, psf, 2, psf_centre=(1,)), ValueError, "psf_centre"),
            (lambda: rl(img, psf, 2, psf_centre=(1, 5)), ValueError, "outside the PSF"),
            (lambda: rl(img, psf, 2, initial=-1), ValueError, "first estimate"),
            (lambda: rl(img, psf, 2, accelerate=1), TypeError, "accelerate"),
            (lambda: rl(img, psf, 2, tv=-0.1), ValueError, "total-variation"),
            (lambda: rl(img, psf, 2, tv=2), ValueError, "total-variation"),
            (lambda: rl(img, psf, 2, tv="0.1"), TypeError, "tv"),
            (lambda: rl(np.ones((3, 20, 20)), np.ones((2, 5, 5)), 2, ndim=2), ValueError, "broadcast"),
            (lambda: rl(img, psf, 2, ndim=4), ValueError, "ndim"),
            (lambda: rl(inf, psf, 2), ValueError, "pixel (3, 4)"),
            (lambda: rl(img.astype(np.complex64), psf, 2), TypeError, "dtype"),
        ])

GROUPS = {"deconv": Deconvolve, "deconv_dask": DeconvolveDask, "deconv_errors": DeconvolveErrors}

if __name__ == "__main__":
    main(__doc__, GROUPS)
