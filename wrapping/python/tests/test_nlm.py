"""Tests of the Python binding's non-local means (nlm_denoise): against a
float64 reference of the documented formula, and bad arguments raising
TypeError or ValueError (the core's own messages where the core finds
them).  Command line: see common.py."""
import math
import os
import unittest

import numpy as np

import blockwise
from common import (DTYPES, STRIDED_VIEWS, argument_picks, assert_same_bits,
                    check_outcome, check_raises, clean_image, common_argument_errors,
                    core_message, main, nlm_reference, nlm_rtol, noisy_image, poisson_image)


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))



def assert_close_scaled(test, got, want, rtol, msg=""):
    """Equal within rtol relative to the image's largest magnitude."""
    test.assertEqual(got.shape, want.shape, msg)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * float(np.abs(want).max()),
                               err_msg=msg)


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


GROUPS = {"nlm": Nlm, "nlm_errors": NlmErrors}

if __name__ == "__main__":
    main(__doc__, GROUPS)
