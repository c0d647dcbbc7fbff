#!/usr/bin/env python3
"""Richardson-Lucy deconvolution of one float32 volume: the core against
ITK's RichardsonLucyDeconvolutionImageFilter and scikit-image's
restoration.richardson_lucy, in one run.

    /usr/bin/python3 bench/bench_deconv.py --build build [--shape Z,Y,X] [--psf Z,Y,X]
                                           [--iterations N] [--reps N]

Default: the issue's case, a 128 x 1024 x 768 volume and a 41 x 64 x 64
PSF, 10 iterations (several minutes per repetition; --shape 64,512,384
--psf 21,32,32 is an eighth of it).  Variants, each in a process of its own
so that its peak RSS is its own (less the same process's baseline with the
volume made and nothing run):

- ours, 1 and 2 threads: bench_deconv ours (bw_rl_deconvolve,
  non-circulant; FFTW threads);
- ITK, 2 threads: bench_deconv itk (FFTW, zero-flux Neumann padding);
- scikit-image, its one thread (scipy's FFT convolution, float32 input).

Prints the medians of --reps repetitions, time per iteration, the ratios
(goal: ours on 2 threads at least 5x faster per iteration than ITK on 2 and
than scikit-image; 2 threads at least 1.7x one) and peak memory over the
volume's float32 bytes (goal: at most 4x).
"""
import argparse
import os
import statistics
import subprocess
import sys

SKIMAGE = r"""
import sys, time, numpy as np
from skimage import restoration
z, y, x = map(int, sys.argv[1].split(",")); pz, py, px = map(int, sys.argv[2].split(","))
its = int(sys.argv[3])
rng = np.random.default_rng(0)
img = (10 + rng.integers(0, 16, size=(z, y, x)) + 500 * (rng.random((z, y, x)) < 0.01)).astype(np.float32)
g = np.meshgrid(*[(np.arange(n) - (n - 1) / 2) / (n / 6) for n in (pz, py, px)], indexing="ij")
psf = np.exp(-sum(a * a for a in g) / 2).astype(np.float32)
psf /= psf.sum()
if sys.argv[4] == "run":
    t0 = time.perf_counter()
    restoration.richardson_lucy(img, psf, num_iter=its, clip=False)
    print("skimage seconds %.4f" % (time.perf_counter() - t0))
else:
    print("none seconds 0")
"""


def measure(cmd):
    """(seconds the program reports, peak RSS in MiB) of one run."""
    p = subprocess.run(["/usr/bin/time", "-f", "RSS %M", *cmd], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    seconds = float(p.stdout.split()[-1])
    rss = int([l for l in p.stderr.splitlines() if l.startswith("RSS ")][-1].split()[1]) / 1024
    return seconds, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--shape", default="128,1024,768")
    ap.add_argument("--psf", default="41,64,64")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    opt = ap.parse_args()
    tool = os.path.join(opt.build, "bench", "bench_deconv")
    if not os.path.exists(tool):
        raise SystemExit(f"{tool} not found: build the target bench_deconv")
    shape = [int(v) for v in opt.shape.split(",")]
    volume_mib = shape[0] * shape[1] * shape[2] * 4 / 2**20
    its = str(opt.iterations)
    py = "/usr/bin/python3"
    variants = {
        "ours 1": [tool, "ours", opt.shape, opt.psf, its, "1"],
        "ours 2": [tool, "ours", opt.shape, opt.psf, its, "2"],
        "itk 2": [tool, "itk", opt.shape, opt.psf, its, "2"],
        "skimage": [py, "-c", SKIMAGE, opt.shape, opt.psf, its, "run"],
    }
    baselines = {"tool": [tool, "none", opt.shape, opt.psf, its, "1"],
                 "python": [py, "-c", SKIMAGE, opt.shape, opt.psf, its, "none"]}
    print(f"volume {opt.shape} float32 ({volume_mib:.0f} MiB), PSF {opt.psf}, {opt.iterations} iterations; "
          f"{os.cpu_count()} cores; {opt.reps} repetitions, interleaved", flush=True)
    base = {k: measure(c)[1] for k, c in baselines.items()}
    times = {k: [] for k in variants}
    rss = {k: [] for k in variants}
    for _ in range(opt.reps):
        for k, cmd in variants.items():
            s, r = measure(cmd)
            times[k].append(s)
            rss[k].append(r - base["python" if k == "skimage" else "tool"])
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{'variant':10s} {'median s':>9s} {'s/iteration':>12s} {'peak MiB':>9s} {'x volume':>9s}")
    for k in variants:
        m = statistics.median(rss[k])
        print(f"{k:10s} {med[k]:9.2f} {med[k] / opt.iterations:12.3f} {m:9.0f} {m / volume_mib:9.1f}")
    print()
    print(f"ITK 2 threads / ours 2 threads   {med['itk 2'] / med['ours 2']:6.2f}   goal >= 5")
    print(f"scikit-image / ours 2 threads    {med['skimage'] / med['ours 2']:6.2f}   goal >= 5")
    print(f"ours 1 thread / ours 2 threads   {med['ours 1'] / med['ours 2']:6.2f}   goal >= 1.7")
    print(f"ours' peak memory / volume       {statistics.median(rss['ours 2']) / volume_mib:6.2f}   goal <= 4")


if __name__ == "__main__":
    sys.exit(main())
