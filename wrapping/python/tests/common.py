"""What the tests of the Python binding share: numpy references (per block,
in float64 or exact Python integers; non-local means in float64 from its
documented formula), test images, assertions, the checks of argument
errors, and the command line of every test module:

    PYTHONPATH=BUILD/python:test test_MODULE.py [--core-tool CORE_TOOL] [GROUP ...]

run with Debian's /usr/bin/python3 (test/ holds pairs.py, the image pairs
the command's tests use too).  GROUP is one of the names in the module's
GROUPS (all when none is given); each is a unittest.TestCase.
"""
import argparse
import contextlib
import itertools
import math
import os
import sys
import threading
import unittest

import numpy as np

#: Settings from the command line (main): core_tool, the path of the
#: program that runs the C core on TIFF files, or None.
OPTIONS = argparse.Namespace(core_tool=None)

DTYPES = (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.float32,
          np.float64)


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
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
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


def ran_during(call):
    """Runs call.run() while another Python thread spins, checking
    call.in_flight() (the call's output written at its start and not yet at
    its end); True when that thread saw the call in flight twice, having
    counted in between: Python code ran while the call was inside the
    library, which it cannot while the call holds the GIL."""
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
    return len(seen) >= 2 and seen[-1] > seen[0]


@contextlib.contextmanager
def local_cluster():
    """A dask.distributed client of a LocalCluster of 2 worker processes of
    one thread each.  The library's own deadlines for connecting and for
    answering are stretched far beyond what a busy machine takes, so that
    only a hang reaches them."""
    import dask
    from distributed import Client, LocalCluster
    with dask.config.set({"distributed.comm.timeouts.connect": "300s",
                          "distributed.comm.timeouts.tcp": "300s"}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        yield client


def main(doc, groups):
    """Runs the test classes named on the command line, or all of `groups`
    (name -> unittest.TestCase) when none is named, and exits 0 when every
    test passes."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--core-tool", default=os.environ.get("BLOCKWISE_CORE_TOOL"))
    ap.add_argument("groups", nargs="*", metavar="GROUP", help=", ".join(groups))
    args = ap.parse_args()
    for g in args.groups:
        if g not in groups:
            ap.error(f"unknown group {g!r}; groups: {', '.join(groups)}")
    OPTIONS.core_tool = args.core_tool
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(groups[g])
                               for g in (args.groups or groups))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
