"""Peak memory and time of `blockwise corr` under several --memory budgets.

    /usr/bin/python3 bench/bench_cli.py BLOCKWISE DEMO_PAIR [--size N] [--reps R] [--dir D]

Makes an N x N uint16 pair with demo_pair (default 8192: 128 MiB per image,
Deflate), then runs `blockwise corr` on it with 10x10 blocks under each
budget, R times (default 3), and prints the median wall time and peak RSS
(from the kernel's accounting of the child), with the process's baseline:
the peak RSS of the same command on a 256 x 256 pair, which runs the same
code on next to no pixels.  RSS above that baseline is the working set that
--memory bounds.  Benchmarks are not tests.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time


def run(cmd):
    """Wall time and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("blockwise")
    ap.add_argument("demo_pair")
    ap.add_argument("--size", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        a, b, r = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
        subprocess.run([args.demo_pair, a, b, "--size", str(args.size), "--region",
                        f"{args.size // 4},{args.size // 3},{args.size // 2},{args.size // 2 + args.size // 4}"],
                       check=True, stdout=subprocess.DEVNULL)
        image_mib = 2 * args.size * args.size * 2 / 2**20
        sa, sb = os.path.join(tmp, "small_a.tif"), os.path.join(tmp, "small_b.tif")
        subprocess.run([args.demo_pair, sa, sb, "--size", "256", "--region", "64,64,128,128"],
                       check=True, stdout=subprocess.DEVNULL)
        base = statistics.median(run([args.blockwise, "corr", sa, sb, "-o", r, "--quiet"])[1]
                                 for _ in range(args.reps))
        print(f"blockwise corr, {args.size}x{args.size} uint16 pair ({image_mib:.0f} MiB of pixels), "
              f"10x10 blocks, median of {args.reps}")
        print(f"baseline (the same command on a 256x256 pair): peak RSS {base:.0f} MiB")
        print(f"{'--memory':>9} {'wall s':>7} {'peak RSS MiB':>13} {'RSS - baseline':>15} {'of budget':>10}")
        for budget, mib in (("32M", 32), ("64M", 64), ("256M", 256), ("1G", 1024)):
            walls, rss = [], []
            for _ in range(args.reps):
                w, m = run([args.blockwise, "corr", a, b, "-o", r, "--memory", budget, "--quiet"])
                walls.append(w)
                rss.append(m)
            wall, peak = statistics.median(walls), statistics.median(rss)
            print(f"{budget:>9} {wall:7.2f} {peak:13.0f} {peak - base:15.0f} {(peak - base) / mib:9.2f}x")


if __name__ == "__main__":
    main()
