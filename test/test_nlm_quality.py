#!/usr/bin/python3
"""Denoising quality of the core's non-local means, against independent
oracles computed in the same run (no stored numbers):

1. scikit-image's camera photograph with Gaussian noise (sigma 20, fixed
   seed), 7x7 patches in a 21x21 window: the PSNR of bw_nlm is at least that
   of skimage.restoration.denoise_nl_means (fast mode, h = 0.8 sigma,
   sigma given) on the same noisy input.
2. A simulated fluorescence image (Poisson photon counts times a gain, plus
   an offset and Gaussian read noise): the Poisson-Gaussian path
   (generalised Anscombe transform, exact unbiased inverse) beats the
   Gaussian path with the image's overall noise level in PSNR.
3. Flat fluorescence images: the Poisson-Gaussian path's mean is the true
   photon count within 0.1 photo-electrons, where the plain algebraic
   inverse of the transform's mean misses it by more than twice as much.

Usage: test_nlm_quality.py NLM_TOOL
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from skimage import data
from skimage.restoration import denoise_nl_means

DTYPES = {"uint8": "u8", "uint16": "u16", "float32": "f32", "float64": "f64"}


def run_core(tool, img, *options):
    """bw_nlm on img (2-D numpy array) through nlm_tool; float64 result."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "in.raw"), os.path.join(d, "out.raw")
        np.ascontiguousarray(img).tofile(src)
        shape = ",".join(str(n) for n in img.shape)
        cmd = [tool, src, DTYPES[img.dtype.name], shape, dst, "f64"]
        cmd += [str(o) for o in options]
        subprocess.run(cmd, check=True)
        return np.fromfile(dst, dtype=np.float64).reshape(img.shape)


def psnr(x, ref, data_range):
    mse = np.mean((np.asarray(x, dtype=np.float64) - ref) ** 2)
    return 10.0 * np.log10(data_range ** 2 / mse)


def check_camera(tool):
    sigma = 20.0
    clean = data.camera().astype(np.float64)
    rng = np.random.default_rng(20240605)
    noisy = (clean + rng.normal(0.0, sigma, clean.shape)).astype(np.float32)
    theirs = denoise_nl_means(noisy.astype(np.float64), patch_size=7,
                              patch_distance=10, h=0.8 * sigma, sigma=sigma,
                              fast_mode=True, preserve_range=True)
    ours = run_core(tool, noisy, "--patch", 3, "--search", 10,
                    "--sigma", sigma, "--h", 0.8 * sigma)
    p_noisy, p_theirs, p_ours = (psnr(x, clean, 255.0)
                                 for x in (noisy, theirs, ours))
    print(f"camera, sigma 20: noisy {p_noisy:.3f} dB, skimage {p_theirs:.3f} dB, "
          f"bw_nlm {p_ours:.3f} dB")
    ok = p_ours >= p_theirs and p_ours > p_noisy + 5.0
    if not ok:
        print("FAIL: bw_nlm's PSNR is below skimage's (or barely above the noise)")
    return ok


def fluorescence(rng, n=256):
    """Expected photon counts of blobs and filaments on a dim background."""
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    lam = np.full((n, n), 1.0)
    for _ in range(40):
        cy, cx = rng.uniform(0, n, 2)
        r, amp = rng.uniform(3, 14), rng.uniform(5, 300)
        lam += amp * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
    for _ in range(8):
        y0, x0, ang = rng.uniform(0, n), rng.uniform(0, n), rng.uniform(0, np.pi)
        dist = np.abs((yy - y0) * np.cos(ang) - (xx - x0) * np.sin(ang))
        lam += rng.uniform(10, 80) * np.exp(-dist ** 2 / 2.0)
    return lam


def camera_counts(rng, lam, gain, offset, read_sigma):
    z = gain * rng.poisson(lam) + offset + rng.normal(0.0, read_sigma, lam.shape)
    return np.clip(np.round(z), 0, 65535).astype(np.uint16)


def check_fluorescence(tool):
    gain, offset, read_sigma = 2.0, 100.0, 4.0
    rng = np.random.default_rng(77)
    lam = fluorescence(rng)
    clean = gain * lam + offset
    z = camera_counts(rng, lam, gain, offset, read_sigma)
    # The Gaussian path with the image's overall noise level.
    sigma = float(np.sqrt(np.mean(gain * gain * lam + read_sigma ** 2)))
    pg = run_core(tool, z, "--noise", "poisson-gaussian", "--gain", gain,
                  "--offset", offset, "--read-sigma", read_sigma)
    ga = run_core(tool, z, "--sigma", sigma)
    span = clean.max() - clean.min()
    p_noisy, p_pg, p_ga = (psnr(x, clean, span) for x in (z, pg, ga))
    print(f"fluorescence: noisy {p_noisy:.2f} dB, Gaussian path (sigma "
          f"{sigma:.1f}) {p_ga:.2f} dB, Poisson-Gaussian path {p_pg:.2f} dB")
    ok = p_pg > p_ga
    if not ok:
        print("FAIL: the Poisson-Gaussian path does not beat the Gaussian path")
    return ok


def check_unbiased(tool):
    gain, offset, read_sigma = 2.0, 100.0, 4.0
    s = read_sigma / gain
    rng = np.random.default_rng(5)
    ok = True
    for lam in (0.5, 2.0, 10.0, 50.0):
        z = camera_counts(rng, np.full((256, 256), lam), gain, offset, read_sigma)
        out = run_core(tool, z, "--noise", "poisson-gaussian", "--gain", gain,
                       "--offset", offset, "--read-sigma", read_sigma)
        bias = (out.mean() - offset) / gain - lam
        # The plain algebraic inverse of the transform's mean.
        u = (z.astype(np.float64) - offset) / gain
        d = np.mean(2.0 * np.sqrt(np.maximum(u + 0.375 + s * s, 0.0)))
        algebraic = (d / 2.0) ** 2 - 0.375 - s * s - lam
        print(f"flat {lam:5.1f} photons: bias {bias:+.4f} e- "
              f"(algebraic inverse {algebraic:+.4f} e-)")
        if not (abs(bias) < 0.1 and abs(bias) < 0.5 * abs(algebraic)):
            print("FAIL: biased inverse")
            ok = False
    return ok


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    results = [check_camera(tool), check_fluorescence(tool), check_unbiased(tool)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
