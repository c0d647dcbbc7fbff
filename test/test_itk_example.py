"""The README's ITK example end to end: TIFFs written by tifffile, read by
Blockwise's ImageIO, block correlation, written by Blockwise's ImageIO,
read back by tifffile and compared with Pearson r computed by numpy.

Usage: /usr/bin/python3 test_itk_example.py PATH/TO/itk_block_corr
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import tifffile


def block_corr(a, b, k):
    """Pearson r per k x k block with partial edge blocks, plain numpy."""
    ny, nx = a.shape
    out = np.empty(((ny + k - 1) // k, (nx + k - 1) // k))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            x = a[i * k:(i + 1) * k, j * k:(j + 1) * k].astype(np.float64).ravel()
            y = b[i * k:(i + 1) * k, j * k:(j + 1) * k].astype(np.float64).ravel()
            x -= x.mean()
            y -= y.mean()
            d = np.sqrt((x * x).sum() * (y * y).sum())
            out[i, j] = (x * y).sum() / d if d > 0 else np.nan
    return out


def main():
    exe = sys.argv[1]
    rng = np.random.default_rng(7)
    ny, nx = 257, 333
    yy, xx = np.mgrid[0:ny, 0:nx]
    base = 20000 + 8000 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    a = (base + rng.normal(0, 300, base.shape)).astype(np.uint16)
    b = (base + rng.normal(0, 300, base.shape)).astype(np.uint16)
    b[100:150, 200:260] = a[100:150, 195:255]  # a displaced patch
    b[0:10, 0:10] = 5                           # a constant block: NaN
    with tempfile.TemporaryDirectory() as d:
        pa, pb, pr = (os.path.join(d, n) for n in ("a.tif", "b.tif", "r.tif"))
        tifffile.imwrite(pa, a)
        tifffile.imwrite(pb, b, tile=(64, 64), compression="zlib")
        subprocess.run([exe, pa, pb, pr], check=True)
        r = tifffile.imread(pr)
    want = block_corr(a, b, 10)
    assert r.dtype == np.float32, r.dtype
    assert r.shape == want.shape, (r.shape, want.shape)
    assert np.array_equal(np.isnan(r), np.isnan(want)), "NaN blocks differ"
    ok = ~np.isnan(want)
    err = np.max(np.abs(r[ok] - want[ok]))
    assert err < 1e-6, f"max |r - numpy| = {err}"
    print(f"itk_block_corr: {r.size} blocks, max |r - numpy| = {err:.2e}")


if __name__ == "__main__":
    main()
