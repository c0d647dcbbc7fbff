"""Pearson r per 10x10 block of a uint16 pair from Python: blockwise against numpy.

    /usr/bin/python3 bench/bench_python.py [--build BUILD] [--reps R] [--small]

Imports the package staged in BUILD/python (default: build/ of this
checkout, or whatever `import blockwise` finds on PYTHONPATH), makes a
10100 x 9660 (rows x columns) uint16 pair in memory (`--small`: 2020 x 1932,
a smoke run of a few seconds) and times, in one run, after an untimed
round, repetitions of each variant interleaved in an order rotated every
repetition (R of numpy, --fast-reps of the sub-second ones):

- ours: blockwise.block_corr(a, b, (10, 10)), float64 result, the calling
  thread only; and again with threads=2;
- ours, 2 concurrent calls: two Python threads each making that call at
  once (the core releases the GIL, so on two cores they take about the
  time of one);
- numpy: vectorised, the published way: a (H/10, 10, W/10, 10) float64 view
  of each image centred on its block means, products summed over the block
  axes;
- loop: np.corrcoef per block, timed on the first --loop-rows block rows
  (fewer repetitions: --loop-reps) and scaled to the whole image;
- dask: blockwise.dask.block_corr on dask arrays of --chunk-rows rows over
  the same pixels (made once with from_array(name=False), untimed; the
  graph is built and computed in the timing) with the threaded scheduler on
  1 and 2 threads.

It checks that the maps agree (numpy within 1e-9, dask bit for bit, loop
within 1e-9 on its slice) and exits non-zero if not, then prints the median,
min and max of each variant and the ratios against the goals: numpy / ours
>= 50, dask 1 thread / 2 threads >= 1.8, and two calls' time one after
the other (twice ours) / two concurrent calls >= 1.8.  A missed goal is printed, not an
error.  Benchmarks are not tests: absolute times on a shared machine are not
comparable between runs, the ratios are.
"""
import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np

BLOCK = 10


def import_blockwise(build):
    here = os.path.dirname(os.path.abspath(__file__))
    if build:
        sys.path.insert(0, os.path.join(os.path.abspath(build), "python"))
    try:
        import blockwise  # noqa: F401
    except ImportError:
        if build:
            raise
        sys.path.insert(0, os.path.join(os.path.dirname(here), "build", "python"))
    import blockwise
    import blockwise.dask
    return blockwise


def make_pair(rows, cols, seed=1):
    """A textured uint16 pair (values 1500-16500): b is a with a gain, an
    offset and its own noise, except in a rectangle where it is unrelated,
    and a block-aligned rectangle is constant in both (no r there)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 60, rows, dtype=np.float32)[:, None]
    x = np.linspace(0, 45, cols, dtype=np.float32)[None, :]
    texture = np.sin(y) * np.cos(x) + 0.5 * np.sin(0.37 * y + 1.3 * x)
    a = 9000 + 3000 * texture + rng.normal(0, 900, (rows, cols)).astype(np.float32)
    b = 1.1 * a - 500 + rng.normal(0, 900, (rows, cols)).astype(np.float32)
    r0, r1, c0, c1 = rows // 3, rows // 2, cols // 4, cols // 3
    b[r0:r1, c0:c1] = rng.normal(9000, 3000, (r1 - r0, c1 - c0))
    z0 = (rows // 20) // BLOCK * BLOCK
    a[z0:z0 + 4 * BLOCK, BLOCK:6 * BLOCK] = 4000
    b[z0:z0 + 4 * BLOCK, BLOCK:6 * BLOCK] = 7000
    a = np.clip(a, 1500, 16500).astype(np.uint16)
    b = np.clip(b, 1500, 16500).astype(np.uint16)
    return a, b


def numpy_corr(a, b):
    """Vectorised numpy: whole blocks only."""
    h, w = a.shape[0] // BLOCK, a.shape[1] // BLOCK
    x = a[:h * BLOCK, :w * BLOCK].reshape(h, BLOCK, w, BLOCK).astype(np.float64)
    y = b[:h * BLOCK, :w * BLOCK].reshape(h, BLOCK, w, BLOCK).astype(np.float64)
    x -= x.mean(axis=(1, 3), keepdims=True)
    y -= y.mean(axis=(1, 3), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x * y).sum(axis=(1, 3)) / np.sqrt((x * x).sum(axis=(1, 3)) *
                                                   (y * y).sum(axis=(1, 3)))


def loop_corr(a, b, block_rows):
    """np.corrcoef per block, on the first block_rows rows of blocks."""
    w = a.shape[1] // BLOCK
    r = np.empty((block_rows, w))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(block_rows):
            for j in range(w):
                sl = (slice(i * BLOCK, (i + 1) * BLOCK), slice(j * BLOCK, (j + 1) * BLOCK))
                r[i, j] = np.corrcoef(a[sl].ravel(), b[sl].ravel())[0, 1]
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=None, help="build folder holding python/blockwise")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of numpy")
    ap.add_argument("--fast-reps", type=int, default=15,
                    help="repetitions of the sub-second variants (ours, dask)")
    ap.add_argument("--loop-reps", type=int, default=3)
    ap.add_argument("--loop-rows", type=int, default=10, help="block rows of the loop's slice")
    # 5050 rows of 9660 uint16 pixels: chunks of 98 MB, the size dask's
    # documentation recommends (about 100 MB), and one per thread at two.
    ap.add_argument("--chunk-rows", type=int, default=5050, help="rows per dask chunk")
    ap.add_argument("--small", action="store_true", help="a 2020 x 1932 smoke run")
    args = ap.parse_args()
    if min(args.reps, args.fast_reps, args.loop_reps, args.loop_rows, args.chunk_rows) < 1:
        ap.error("--reps, --fast-reps, --loop-reps, --loop-rows and --chunk-rows "
                 "must be at least 1")

    bw = import_blockwise(args.build)
    import dask
    import dask.array as da

    rows, cols = (2020, 1932) if args.small else (10100, 9660)
    chunk_rows = min(args.chunk_rows, rows)
    if args.small:
        chunk_rows = min(chunk_rows, 202)
    loop_rows = min(args.loop_rows, rows // BLOCK)
    a, b = make_pair(rows, cols)
    nblocks = (rows // BLOCK) * (cols // BLOCK)
    print(f"Pearson r per {BLOCK}x{BLOCK} block, {rows} x {cols} uint16 pair "
          f"({2 * a.nbytes / 2**20:.0f} MiB), {nblocks} blocks; blockwise {bw.__version__} "
          f"({bw.library_path}), numpy {np.__version__}, dask {dask.__version__}, "
          f"{os.cpu_count()} cores")

    # The dask arrays are made once, outside the timing, and named without
    # hashing the pixels (from_array's default hashes all 372 MiB, serially,
    # which would dominate every dask row; arrays read from files by dask's
    # readers do not pay it).
    dx = da.from_array(a, chunks=(chunk_rows, cols), name=False)
    dy = da.from_array(b, chunks=(chunk_rows, cols), name=False)

    def dask_corr(threads):
        return bw.dask.block_corr(dx, dy, (BLOCK, BLOCK)).compute(scheduler="threads",
                                                                   num_workers=threads)

    def concurrent_calls(n=2):
        """n calls of block_corr, each on its own Python thread, at once."""
        results = [None] * n

        def one(i):
            results[i] = bw.block_corr(a, b, (BLOCK, BLOCK))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    variants = {
        "ours, 1 thread": lambda: bw.block_corr(a, b, (BLOCK, BLOCK)),
        "ours, 2 concurrent calls": concurrent_calls,
        "ours, threads=2": lambda: bw.block_corr(a, b, (BLOCK, BLOCK), threads=2),
        "numpy vectorised": lambda: numpy_corr(a, b),
        "dask, 1 thread": lambda: dask_corr(1),
        "dask, 2 threads": lambda: dask_corr(2),
        f"np.corrcoef loop ({loop_rows} block rows)": lambda: loop_corr(a, b, loop_rows),
    }
    loop_name = list(variants)[-1]

    # Untimed round, which also checks that the maps agree.
    results = {name: f() for name, f in variants.items()}
    ours = results["ours, 1 thread"]
    bad = []
    ref = results["numpy vectorised"]
    whole = ours[:ref.shape[0], :ref.shape[1]]  # numpy has whole blocks only
    finite = np.isfinite(whole)
    if not (np.array_equal(finite, np.isfinite(ref))
            and np.max(np.abs(whole[finite] - ref[finite])) < 1e-9):
        bad.append("numpy")
    for name in ("ours, threads=2", "dask, 1 thread", "dask, 2 threads"):
        if not np.array_equal(results[name], ours, equal_nan=True):
            bad.append(name)
    if not all(np.array_equal(r, ours, equal_nan=True)
               for r in results["ours, 2 concurrent calls"]):
        bad.append("ours, 2 concurrent calls")
    lr = results[loop_name]
    lf = np.isfinite(lr)
    if not (np.array_equal(lf, finite[:loop_rows])
            and np.max(np.abs(lr[lf] - whole[:loop_rows][lf])) < 1e-9):
        bad.append("loop")
    print(f"maps agree: {'no: ' + ', '.join(bad) if bad else 'yes'} "
          f"({np.count_nonzero(~finite)} blocks without r, median r {np.median(whole[finite]):.3f})")
    del results

    times = {name: [] for name in variants}
    names = list(variants)
    reps = {name: args.fast_reps for name in names}
    reps["numpy vectorised"] = args.reps
    reps[loop_name] = args.loop_reps
    for rep in range(max(reps.values())):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            if rep >= reps[name]:
                continue
            t = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - t)
    scale = (rows // BLOCK) / loop_rows
    times["np.corrcoef loop, scaled"] = [t * scale for t in times.pop(loop_name)]

    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"\n{'variant':<28} {'median s':>9} {'min s':>9} {'max s':>9} {'reps':>5}")
    for name, ts in times.items():
        print(f"{name:<28} {med[name]:9.3f} {min(ts):9.3f} {max(ts):9.3f} {len(ts):5d}")

    o1 = med["ours, 1 thread"]
    ratios = [
        ("numpy vectorised / ours", med["numpy vectorised"] / o1, 50),
        ("np.corrcoef loop / ours", med["np.corrcoef loop, scaled"] / o1, None),
        ("ours 1 thread / threads=2", o1 / med["ours, threads=2"], None),
        ("2 calls serial / concurrent", 2 * o1 / med["ours, 2 concurrent calls"], 1.8),
        ("dask 1 thread / 2 threads", med["dask, 1 thread"] / med["dask, 2 threads"], 1.8),
        ("dask 1 thread / ours", med["dask, 1 thread"] / o1, None),
    ]
    print(f"\n{'ratio (of medians)':<28} {'value':>9}  goal")
    for name, value, goal in ratios:
        verdict = "" if goal is None else f">= {goal}: {'met' if value >= goal else 'NOT met'}"
        print(f"{name:<28} {value:9.2f}  {verdict}")
    if bad:
        raise SystemExit(f"maps disagree: {', '.join(bad)}")


if __name__ == "__main__":
    main()
