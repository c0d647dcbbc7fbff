#!/usr/bin/python3
"""Local statistics and per-block displacement of a 4096 x 4096 pair, the
core on one thread (bench_local, bench_local_itk) against the baselines a
user has, all measured in this run (medians of --reps runs):

  local r, radius 2, 8, 32        ratio r32 / r2            (goal <= 1.3)
  local r, radius 8               vs scipy.ndimage.uniform_filter in float64,
                                  the five-filter formulation   (goal >= 20x)
  local mean + std, radius 5      vs itk::BoxMeanImageFilter +
                                  itk::BoxSigmaImageFilter, 1 thread, double
                                  pixels (BoxSigma overflows int on 16-bit
                                  input above 46340)            (goal >= 3x)
  displacement, 64 x 64 blocks, search 16
                                  vs per-block phase correlation with numpy
                                  FFTs (Hann taper, all blocks in one batched
                                  FFT)                          (goal >= 10x)

for uint16 and float32 pixels.  The pair: scikit-image's astronaut (grey),
tiled with mirrored copies to 4096 x 4096 and scaled to 16 bits, plus noise;
B is A moved by (2.4, -3.3) px with a Fourier shift, plus its own noise.

Usage: bench_local.py --build BUILD [--reps N] [--size N]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import ndimage
from skimage import color, data


def make_pair(n, seed=7):
    rng = np.random.default_rng(seed)
    g = color.rgb2gray(data.astronaut())
    tile = np.block([[g, g[:, ::-1]], [g[::-1, :], g[::-1, ::-1]]])
    reps = -(-n // tile.shape[0])
    img = np.tile(tile, (reps, reps))[:n, :n] * 50000.0 + 5000.0
    moved = np.real(np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(img), (2.4, -3.3))))
    a = img + rng.normal(0, 200, img.shape)
    b = moved + rng.normal(0, 200, img.shape)
    return a, b


def median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def scipy_local_r(a, b, radius):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    s = 2 * radius + 1
    ma, mb = ndimage.uniform_filter(a, s), ndimage.uniform_filter(b, s)
    va = ndimage.uniform_filter(a * a, s) - ma * ma
    vb = ndimage.uniform_filter(b * b, s) - mb * mb
    cab = ndimage.uniform_filter(a * b, s) - ma * mb
    with np.errstate(invalid="ignore", divide="ignore"):
        return cab / np.sqrt(va * vb)


def phase_corr(a, b, block=64):
    ny, nx = a.shape[0] // block, a.shape[1] // block
    def blocks(x):
        x = x[:ny * block, :nx * block].astype(np.float64)
        x = x.reshape(ny, block, nx, block).transpose(0, 2, 1, 3)
        return x - x.mean(axis=(2, 3), keepdims=True)
    w = np.outer(np.hanning(block), np.hanning(block))
    fa, fb = np.fft.rfft2(blocks(a) * w), np.fft.rfft2(blocks(b) * w)
    cross = fb * np.conj(fa)
    cross /= np.abs(cross) + 1e-12
    c = np.fft.irfft2(cross, s=(block, block))
    k = c.reshape(ny, nx, -1).argmax(axis=-1)
    dy, dx = np.unravel_index(k, (block, block))
    return (dy + block // 2) % block - block // 2, (dx + block // 2) % block - block // 2


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", type=int, default=4096)
    opt = ap.parse_args()
    tool = os.path.join(opt.build, "bench", "bench_local")
    itk_tool = os.path.join(opt.build, "bench", "bench_local_itk")
    n, reps = opt.size, str(opt.reps)
    print(f"load before: {os.getloadavg()[0]:.2f}; one thread everywhere; "
          f"{n} x {n}; medians of {opt.reps} runs")
    a, b = make_pair(n)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for dt, np_dt in (("u16", np.uint16), ("f32", np.float32)):
            pa, pb = os.path.join(d, f"a_{dt}.raw"), os.path.join(d, f"b_{dt}.raw")
            ai = np.clip(np.rint(a), 0, 65535).astype(np_dt)
            bi = np.clip(np.rint(b), 0, 65535).astype(np_dt)
            ai.tofile(pa)
            bi.tofile(pb)
            shape = f"{n},{n}"
            core = {}
            for r in (2, 8, 32):
                core[r] = float(run([tool, "corr", pa, pb, dt, shape, reps, str(r)])[-1])
            t_scipy = median_time(lambda: scipy_local_r(ai, bi, 8), opt.reps)
            itk = run([itk_tool, pa, dt, shape, "5", reps])
            t_ms_core, t_ms_itk = float(itk[3]), float(itk[5])
            t_shift = float(run([tool, "shift", pa, pb, dt, shape, reps, "64", "16"])[-1])
            t_pc = median_time(lambda: phase_corr(ai, bi), opt.reps)
            print(f"\n{dt}:")
            print(f"  local r         r2 {core[2]:.3f} s  r8 {core[8]:.3f} s  r32 {core[32]:.3f} s"
                  f"   r32/r2 {core[32] / core[2]:.2f}  (goal <= 1.3)")
            print(f"  local r, r8     scipy float64 {t_scipy:.3f} s   core {core[8]:.3f} s"
                  f"   {t_scipy / core[8]:.1f}x  (goal >= 20x)")
            print(f"  mean+std, r5    ITK BoxMean+BoxSigma (double) {t_ms_itk:.3f} s   "
                  f"core {t_ms_core:.3f} s   {t_ms_itk / t_ms_core:.1f}x  (goal >= 3x)")
            print(f"  shift 64/16     numpy phase correlation {t_pc:.3f} s   core {t_shift:.3f} s"
                  f"   {t_pc / t_shift:.1f}x  (goal >= 10x)")
    print(f"\nload after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
