#!/usr/bin/python3
"""Whole-slide test files for the OpenSlide ImageIO, written by vips and
libtiff's tiffset (independent writers), recognised by OpenSlide:

    generic.tif    a tiled JPEG pyramid (OpenSlide's "generic-tiff")
    aperio.svs     the same with an Aperio ImageDescription (vendor "aperio",
                   MPP 0.499 um), as Aperio's scanners write it
    truncated.svs  aperio.svs cut to 60% of its bytes
    corrupt.svs    aperio.svs with its level-0 tiles overwritten by zeros
                   (the header intact: it opens, and fails when read)
    bogus.svs      bytes that are no slide

    make_slides.py OUT_DIR [VIPS [TIFFSET]]
"""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

out = sys.argv[1]
vips = sys.argv[2] if len(sys.argv) > 2 else "vips"
tiffset = sys.argv[3] if len(sys.argv) > 3 else "tiffset"
os.makedirs(out, exist_ok=True)

# Tissue-like colours with structure at several scales, and some glass.
h, w = 900, 1100
y, x = np.mgrid[0:h, 0:w].astype(np.float64)
rng = np.random.default_rng(5)
t = np.sin(x / 23) * np.cos(y / 17) + 0.5 * np.sin((x + y) / 7) + rng.normal(0, 0.2, (h, w))
t = (t - t.min()) / np.ptp(t)
rgb = np.stack([235 - 120 * t, 200 - 160 * t, 230 - 60 * t], -1)
rgb[:, :150] = 242  # glass
png = os.path.join(out, "slide.png")
Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(png)

generic = os.path.join(out, "generic.tif")
subprocess.run([vips, "tiffsave", png, generic, "--tile", "--tile-width", "128", "--tile-height", "128",
                "--pyramid", "--compression", "jpeg", "--Q", "90"], check=True)
aperio = os.path.join(out, "aperio.svs")
with open(generic, "rb") as f:
    data = f.read()
with open(aperio, "wb") as f:
    f.write(data)
subprocess.run([tiffset, "-s", "270",
                f"Aperio Image Library v12.0.0\r\n{w}x{h} [0,0 {w}x{h}] (128x128) JPEG/RGB Q=90"
                "|AppMag = 20|MPP = 0.4990", aperio], check=True)
with open(aperio, "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.svs"), "wb") as f:
    f.write(data[: len(data) * 6 // 10])
bad = bytearray(data)
bad[len(data) // 10: len(data) // 2] = bytes(len(data) // 2 - len(data) // 10)
with open(os.path.join(out, "corrupt.svs"), "wb") as f:
    f.write(bytes(bad))
with open(os.path.join(out, "bogus.svs"), "wb") as f:
    f.write(b"II*\x00" + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
os.remove(png)
