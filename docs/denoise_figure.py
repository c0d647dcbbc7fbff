"""Makes docs/denoise_before_after.png: scikit-image's `camera` photograph
with Gaussian noise (sigma 20, fixed seed), and the result of

    blockwise denoise noisy.tif -o clean.tif --sigma 20 --patch 3 --search 10

side by side, with the PSNR of each against the clean photograph.

    /usr/bin/python3 docs/denoise_figure.py build/bin/blockwise

Needs python3-skimage (the photograph), python3-tifffile and python3-pil.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import tifffile
from PIL import Image, ImageDraw
from skimage import data

SIGMA = 20.0


def psnr(x, ref):
    mse = np.mean((x.astype(np.float64) - ref) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    blockwise = sys.argv[1]
    clean = data.camera().astype(np.float64)
    rng = np.random.default_rng(2024)
    noisy = clean + rng.normal(0, SIGMA, clean.shape)
    with tempfile.TemporaryDirectory() as tmp:
        pin, pout = os.path.join(tmp, "noisy.tif"), os.path.join(tmp, "clean.tif")
        tifffile.imwrite(pin, noisy.astype(np.float32))
        subprocess.run([blockwise, "denoise", pin, "-o", pout, "--sigma", str(SIGMA),
                        "--patch", "3", "--search", "10", "--quiet"], check=True)
        denoised = tifffile.imread(pout).astype(np.float64)
    panels = []
    for name, img in (("noisy", noisy), ("blockwise denoise", denoised)):
        grey = np.clip(np.round(img), 0, 255).astype(np.uint8)
        tile = Image.fromarray(grey)
        draw = ImageDraw.Draw(tile)
        label = f"{name}: PSNR {psnr(img, clean):.2f} dB"
        draw.rectangle([0, 0, 8 + 6 * len(label), 16], fill=0)
        draw.text((4, 3), label, fill=255)
        panels.append(tile)
    w, h = panels[0].size
    out = Image.new("L", (2 * w + 8, h), 255)
    out.paste(panels[0], (0, 0))
    out.paste(panels[1], (w + 8, 0))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "denoise_before_after.png")
    out.save(path, optimize=True)
    print(f"{path}: noisy {psnr(noisy, clean):.2f} dB, denoised {psnr(denoised, clean):.2f} dB")


if __name__ == "__main__":
    main()
