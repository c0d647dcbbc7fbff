#!/usr/bin/env python3
"""The error a halo costs: Richardson-Lucy of a piece of a volume, grown by
a halo, against the whole volume's result on the piece's pixels.

    PYTHONPATH=build/python /usr/bin/python3 bench/deconv_halo.py [--quick]

The scene: beads and filaments on a dim background, blurred by an
elongated Gaussian PSF (widefield-like: sigma along z 2-3 times that in y
and x), stored 3 sigma each way or cut at 1.6 sigma (--cut), with Poisson
noise.  One axis is cut at a time, so the error comes from that cut alone:
the piece is the middle of the volume along the axis, and whole along the
others.  The halo is a multiple f of the PSF's standard deviation along
that axis (measured from the stored PSF, as bw_rl_auto_halo does); the
error is the largest absolute difference over the piece's own pixels
divided by the whole result's largest value (the command's and dask's
"relative error"), and its RMS likewise.  Prints one table row per case
and, per case, the smallest f that keeps the error under 1e-3, and the
error with the automatic halo (bw_rl_auto_halo).
"""
import argparse
import math
import sys

import numpy as np
from scipy.signal import fftconvolve

import blockwise


def gaussian_psf(sigmas, cut=3.0):
    shape = tuple(2 * math.ceil(cut * s) + 1 for s in sigmas)
    grids = np.meshgrid(*[np.arange(n) - (n - 1) / 2 for n in shape], indexing="ij")
    psf = np.exp(-sum(g * g / (2 * s * s) for g, s in zip(grids, sigmas)))
    return psf / psf.sum()


def scene(shape, seed):
    """Beads (3% of voxels bright) and lines along each axis, float64."""
    rng = np.random.default_rng(seed)
    truth = 5 + 300 * (rng.random(shape) < 0.003)
    for axis in range(3):
        for _ in range(6):
            idx = [rng.integers(0, n) for n in shape]
            idx[axis] = slice(None)
            truth[tuple(idx)] += 200
    return truth


def spread(psf, axis):
    """The standard deviation of the PSF along an axis."""
    w = psf.sum(axis=tuple(a for a in range(psf.ndim) if a != axis))
    x = np.arange(w.size)
    mean = (w * x).sum() / w.sum()
    return math.sqrt((w * (x - mean) ** 2).sum() / w.sum())


def study(shape, sigmas, axis, iterations, factors, accelerate, cut, seed=0):
    psf = gaussian_psf(sigmas, cut)
    truth = scene(shape, seed)
    blurred = np.clip(fftconvolve(truth, psf, mode="same"), 0, None)
    img = (np.random.default_rng(seed + 1).poisson(blurred * 3) / 3).astype(np.float32)
    whole = blockwise.richardson_lucy(img, psf, iterations, accelerate=accelerate)
    top = float(np.abs(whole).max())
    n = shape[axis]
    sd = spread(psf, axis)
    o0, o1 = n // 2 - n // 8, n // 2 + n // 8
    rows = []
    auto = blockwise.rl_auto_halo(psf, iterations)[axis]
    for f in tuple(factors) + ("auto",):
        h = auto if f == "auto" else int(math.ceil(f * sd - 1e-9))
        i0, i1 = max(o0 - h, 0), min(o1 + h, n)
        cut = [slice(None)] * 3
        cut[axis] = slice(i0, i1)
        piece = blockwise.richardson_lucy(img[tuple(cut)], psf, iterations, accelerate=accelerate)
        own = [slice(None)] * 3
        own[axis] = slice(o0 - i0, o1 - i0)
        ref = [slice(None)] * 3
        ref[axis] = slice(o0, o1)
        d = piece[tuple(own)] - whole[tuple(ref)]
        rows.append((f, h, float(np.abs(d).max()) / top, float(np.sqrt(np.mean(d * d))) / top,
                     i0 > 0 or i1 < n))
    return psf.shape, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer cases (a smoke run)")
    ap.add_argument("--iterations", type=int, nargs="*", help="these iterations only")
    ap.add_argument("--sigma", type=float, nargs=3, action="append",
                    help="a PSF's sigma (z y x) to study; repeatable")
    ap.add_argument("--accelerate", action="store_true", help="Biggs-Andrews acceleration")
    ap.add_argument("--cut", type=float, default=3.0, help="PSF stored this many sigma each way (3)")
    args = ap.parse_args()
    factors = (0, 1.5, 3, 4.5, 6, 7.5, 9, 12, 18)
    cases = [((2.0, 1.0, 1.0), its) for its in (5, 10, 20, 50)]
    cases += [((3.0, 1.5, 1.5), its) for its in (10, 20, 50)]
    cases += [((4.5, 2.0, 2.0), its) for its in (10, 20, 50)]
    if args.sigma or args.iterations:
        cases = [(tuple(s), its) for s in (args.sigma or [(2.0, 1.0, 1.0)])
                 for its in (args.iterations or (10, 20, 50))]
    if args.quick:
        cases, factors = cases[:1], (0, 3, 9)
    if args.accelerate:
        print("Biggs-Andrews acceleration\n")
    print(f"PSFs stored {args.cut:g} sigma each way\n")
    print("| PSF sigma (z, y, x) | extent | iterations | axis cut | halo / PSF's sd: max error (RMS) |")
    print("| --- | --- | --- | --- | --- |")
    needed = []
    for sigmas, its in cases:
        for axis in (0, 1):
            extents = [2 * math.ceil(args.cut * s) + 1 for s in sigmas]
            # long along the cut axis: the piece plus the largest halo fits
            n = 2 * math.ceil(sigmas[axis] * max(factors) + 2) + 4 * extents[axis] + 8
            shape = [max(24, extents[0] + 4), max(48, extents[1] + 8), max(48, extents[2] + 8)]
            shape[axis] = int(n)
            psf_shape, rows = study(tuple(shape), sigmas, axis, its, factors, args.accelerate, args.cut)
            # (a halo that reaches both ends is the whole axis: no cut)
            cells = ", ".join((f"{f}" if f == "auto" else f"{f:g}") +
                              (f": {e:.1e} ({q:.0e})" if cut else ": whole")
                              for f, h, e, q, cut in rows)
            print(f"| {sigmas} | {psf_shape} | {its} | {'zyx'[axis]} | {cells} |", flush=True)
            ok = [f for f, h, e, q, cut in rows if f != "auto" and e < 1e-3 and cut]
            auto = rows[-1]
            needed.append((sigmas, its, "zyx"[axis], min(ok) if ok else None, auto[1], auto[2]))
    print()
    print("smallest halo / PSF's sd with a max error under 1e-3, and the automatic halo:")
    for sigmas, its, ax, f, h, e in needed:
        print(f"  sigma {sigmas}, {its} iterations, cut along {ax}: {f}; auto {h} px: {e:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
