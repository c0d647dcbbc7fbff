"""Makes docs/deconv_before_after.png: a synthetic fluorescence volume
(beads and curved filaments, 64 x 192 x 192) blurred by a widefield-like
PSF two and a half times as long along z as across, with Poisson noise,
and the result of

    blockwise deconvolve blurred.tif --psf psf.tif -o deconvolved.tif --iterations 30 --memory 512M

side by side: a slice through the middle (y, x) above a slice along z
(z, x), each panel scaled to its own range, with its error against the
truth (RMS, relative to the truth's largest value).

    /usr/bin/python3 docs/deconv_figure.py build/bin/blockwise

Needs python3-scipy, python3-tifffile and python3-pil.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import tifffile
from PIL import Image, ImageDraw
from scipy.signal import fftconvolve

SHAPE = (64, 192, 192)
SIGMA = (4.0, 1.6, 1.6)
ITERATIONS = 30


def scene(rng):
    """Beads of a few voxels and filaments along random smooth curves."""
    truth = np.full(SHAPE, 5.0)
    z, y, x = np.indices(SHAPE)
    for _ in range(60):
        c = [rng.uniform(4, n - 4) for n in SHAPE]
        r2 = (z - c[0]) ** 2 / 4 + (y - c[1]) ** 2 + (x - c[2]) ** 2
        truth += 1500 * (r2 < 2.5)
    t = np.linspace(0, 1, 2000)
    for _ in range(8):
        a = rng.uniform(0.2, 0.8, 3) * SHAPE
        b = rng.uniform(-0.4, 0.4, 3) * SHAPE
        w = rng.uniform(1, 4, 3)
        pts = a[:, None] + b[:, None] * np.sin(np.outer(w, t) + rng.uniform(0, 6, (3, 1)))
        idx = np.round(pts).astype(int)
        keep = np.all((idx >= 0) & (idx < np.array(SHAPE)[:, None]), axis=0)
        truth[tuple(idx[:, keep])] = 1200
    return truth


def psf():
    m = tuple(2 * int(np.ceil(3 * s)) + 1 for s in SIGMA)
    g = np.meshgrid(*[np.arange(n) - (n - 1) / 2 for n in m], indexing="ij")
    h = np.exp(-sum(a * a / (2 * s * s) for a, s in zip(g, SIGMA)))
    return (h / h.sum()).astype(np.float32)


def panel(img, label):
    lo, hi = np.percentile(img, 0.5), np.percentile(img, 99.8)
    grey = (np.clip((img - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)
    tile = Image.fromarray(grey)
    draw = ImageDraw.Draw(tile)
    draw.rectangle([0, 0, 8 + 6 * len(label), 14], fill=0)
    draw.text((4, 2), label, fill=255)
    return tile


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    blockwise = sys.argv[1]
    rng = np.random.default_rng(7)
    truth = scene(rng)
    h = psf()
    blurred = rng.poisson(np.clip(fftconvolve(truth, h, mode="same"), 0, None)).astype(np.uint16)
    with tempfile.TemporaryDirectory() as tmp:
        pv, pp, pd = (os.path.join(tmp, n) for n in ("blurred.tif", "psf.tif", "deconvolved.tif"))
        tifffile.imwrite(pv, blurred, imagej=True, metadata={"axes": "ZYX"})
        tifffile.imwrite(pp, h, imagej=True, metadata={"axes": "ZYX"})
        subprocess.run([blockwise, "deconvolve", pv, "--psf", pp, "-o", pd, "--iterations",
                        str(ITERATIONS), "--memory", "512M"], check=True)
        result = tifffile.imread(pd).astype(np.float64)
    top = truth.max()

    def error(v):
        return np.sqrt(np.mean((v - truth) ** 2)) / top

    zc, yc = SHAPE[0] // 2, SHAPE[1] // 2
    rows = []
    for name, vol in (("blurred", blurred.astype(np.float64)), ("deconvolved", result)):
        label = f"{name} (RMS error {error(vol):.3f})"
        xy = panel(vol[zc], label)
        # z stretched 3x so that a z slice reads at the scale of x
        xz = panel(np.repeat(vol[:, yc, :], 3, axis=0)[: 3 * SHAPE[0]], "z slice")
        rows.append((xy, xz))
    w, hxy = rows[0][0].size
    hxz = rows[0][1].size[1]
    out = Image.new("L", (2 * w + 8, hxy + 8 + hxz), 255)
    for k, (xy, xz) in enumerate(rows):
        out.paste(xy, (k * (w + 8), 0))
        out.paste(xz, (k * (w + 8), hxy + 8))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deconv_before_after.png")
    out.save(path, optimize=True)
    print(f"{path}: blurred {error(blurred):.4f}, deconvolved {error(result):.4f} (RMS / largest)")


if __name__ == "__main__":
    main()
