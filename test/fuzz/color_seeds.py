#!/usr/bin/python3
"""Seed files of the pixel formats beyond one grey sample, for the TIFF
reader's fuzzer: RGB and RGBA interleaved and planar, channels, palette,
min-is-white, half floats and packed 12-bit samples (tifffile, and the
byte-by-byte writer of test_tiff_color.py), and pyramids (reduced pages in
the chain, SubIFDs), small enough to mutate.

    color_seeds.py OUT_DIR
"""
import os
import sys

import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from test_tiff_color import pack_bits, tiff_bytes  # noqa: E402

out = sys.argv[1]
rng = np.random.default_rng(7)


def save(name, a, **kw):
    tifffile.imwrite(os.path.join(out, name), a, metadata=None, **kw)


save("rgb.tif", rng.integers(0, 256, (9, 7, 3), dtype=np.uint8), photometric="rgb")
save("rgb-planar-tiled.tif", rng.integers(0, 65536, (3, 20, 18), dtype=np.uint16),
     photometric="rgb", planarconfig="separate", tile=(16, 16), compression="zlib")
save("rgba.tif", rng.integers(0, 256, (6, 5, 4), dtype=np.uint8), photometric="rgb",
     extrasamples=["assocalpha"], rowsperstrip=2)
save("channels.tif", rng.integers(0, 256, (5, 6, 5), dtype=np.uint8), photometric="minisblack",
     planarconfig="contig")
save("palette.tif", rng.integers(0, 256, (8, 8), dtype=np.uint8), photometric="palette",
     colormap=rng.integers(0, 65536, (3, 256), dtype=np.uint16))
save("miniswhite.tif", rng.integers(0, 65536, (6, 9), dtype=np.uint16),
     photometric="miniswhite")
save("half.tif", rng.standard_normal((7, 6)).astype(np.float16))
with open(os.path.join(out, "packed12.tif"), "wb") as f:
    a = rng.integers(0, 4096, (5, 7), dtype=np.uint16)
    f.write(tiff_bytes(7, 5, 12, 1, pack_bits(a, 12)))
with open(os.path.join(out, "palette4.tif"), "wb") as f:
    a = rng.integers(0, 16, (4, 9), dtype=np.uint8)
    f.write(tiff_bytes(9, 4, 4, 1, pack_bits(a, 4), photometric=3,
                       colormap=rng.integers(0, 65536, (3, 16), dtype=np.uint16)))

# Pyramids: levels as reduced pages in the chain, and as SubIFDs of each page.
a = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
with tifffile.TiffWriter(os.path.join(out, "pyramid-chain.tif")) as w:
    w.write(a, photometric="rgb", tile=(16, 16), metadata=None)
    w.write(a[::2, ::2], photometric="rgb", subfiletype=1, metadata=None)
    w.write(a[::4, ::4], photometric="rgb", subfiletype=1, metadata=None)
v = rng.integers(0, 65536, (2, 8, 12), dtype=np.uint16)
with tifffile.TiffWriter(os.path.join(out, "pyramid-subifds.tif")) as w:
    w.write(v, subifds=1, photometric="minisblack", metadata=None)
    w.write(v[:, ::2, ::2], subfiletype=1, photometric="minisblack", metadata=None)
