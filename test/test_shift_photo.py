#!/usr/bin/python3
"""Per-block displacement (bw_block_shift) on real photographs, against
shifts known by construction (no stored numbers):

1. Integer shifts, made by slicing (B's pixels are A's, moved): every block
   whose search stays inside the image reports the shift exactly, with
   peak r 1, for uint16 and float32 pixels.
2. Sub-pixel shifts, made with scipy.ndimage.fourier_shift on the
   photograph padded by mirroring (so the wrap-around of the FFT does not
   ring into the image): on the blocks where the texture determines a
   shift (the block's gradient structure tensor has its smaller eigenvalue
   at least 0.3 of the larger and at least 25 grey levels^2 per pixel^2,
   computed here from A alone), the error per axis stays within the bounds
   below, for 64 x 64 and 32 x 32 blocks, uint16 and float32.  Blocks where
   one edge or a flat area dominates only fix the shift across the edge,
   if at all (the aperture problem), and are not held to a bound.

Images: scikit-image's camera and the grey astronaut (skimage.data).
Usage: test_shift_photo.py SHIFT_TOOL
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import ndimage
from skimage import color, data

DTYPES = {"uint16": "u16", "float32": "f32"}
# (block, median, 95th percentile, maximum) of |error| per axis, in pixels,
# over the textured blocks of both photographs and every shift.
BOUNDS = {64: (0.04, 0.09, 0.15), 32: (0.05, 0.12, 0.25)}
SEARCH = 4
SHIFTS = [(0.3, -0.7), (2.5, -1.25), (-0.45, 0.15), (1.1, 0.9), (0.0, 0.5),
          (-1.6, -2.2)]


def run_core(tool, a, b, block, search):
    """bw_block_shift through shift_tool: (shift y, shift x, peak, zero)."""
    with tempfile.TemporaryDirectory() as d:
        pa, pb, po = (os.path.join(d, n) for n in ("a.raw", "b.raw", "o.raw"))
        np.ascontiguousarray(a).tofile(pa)
        np.ascontiguousarray(b).tofile(pb)
        shape = ",".join(str(n) for n in a.shape)
        out = subprocess.run([tool, pa, pb, DTYPES[a.dtype.name], shape, str(block),
                              str(search), po], check=True, capture_output=True,
                             text=True).stdout
        on = tuple(int(n) for n in out.split(","))
        return np.fromfile(po, dtype=np.float64).reshape((4,) + on)


def photographs():
    yield "camera", data.camera().astype(np.float64)
    yield "astronaut", color.rgb2gray(data.astronaut()) * 255.0


def as_dtype(img, dtype):
    """Grey levels 0..255 as uint16 (times 256, rounded) or float32."""
    if dtype == "uint16":
        return np.clip(np.rint(img * 256.0), 0, 65535).astype(np.uint16)
    return img.astype(np.float32)


def fourier_moved(img, d, pad=64):
    """img moved by +d (B(x) = A(x - d)), band-limited."""
    p = np.pad(img, pad, mode="symmetric")
    moved = np.real(np.fft.ifftn(ndimage.fourier_shift(np.fft.fftn(p), d)))
    return moved[pad:-pad, pad:-pad]


def inner_blocks(shape, block, search, margin):
    """Indices of the blocks whose search window lies margin px inside."""
    ny, nx = shape[0] // block, shape[1] // block
    for i in range(ny):
        for j in range(nx):
            y0, x0 = i * block, j * block
            if (y0 - search - margin >= 0 and x0 - search - margin >= 0 and
                    y0 + block + search + margin <= shape[0] and
                    x0 + block + search + margin <= shape[1]):
                yield i, j, y0, x0


def textured(a, y0, x0, block):
    blk = a[y0:y0 + block, x0:x0 + block]
    gy, gx = np.gradient(blk)
    j = np.array([[np.mean(gy * gy), np.mean(gy * gx)],
                  [np.mean(gy * gx), np.mean(gx * gx)]])
    lo, hi = np.linalg.eigvalsh(j)
    return lo >= 0.3 * hi and lo >= 25.0


def check_integer(tool):
    bad = 0
    for name, img in photographs():
        for dtype in DTYPES:
            a = as_dtype(img, dtype)
            for d in [(2, -3), (0, 1), (-4, 4), (0, 0)]:
                # B(x) = A(x - d): B[y, x] = A[y - dy, x - dx] where defined
                b = np.zeros_like(a)
                ys = slice(max(d[0], 0), a.shape[0] + min(d[0], 0))
                xs = slice(max(d[1], 0), a.shape[1] + min(d[1], 0))
                ya = slice(max(-d[0], 0), a.shape[0] + min(-d[0], 0))
                xa = slice(max(-d[1], 0), a.shape[1] + min(-d[1], 0))
                b[ys, xs] = a[ya, xa]
                for block in (64, 32):
                    out = run_core(tool, a, b, block, SEARCH)
                    for i, j, y0, x0 in inner_blocks(a.shape, block, SEARCH, 4):
                        if a[y0:y0 + block, x0:x0 + block].min() == \
                                a[y0:y0 + block, x0:x0 + block].max():
                            continue
                        got = (out[0, i, j], out[1, i, j])
                        if got != (float(d[0]), float(d[1])) or out[2, i, j] < 1 - 1e-12:
                            if bad < 5:
                                print(f"{name} {dtype} block {block} ({i}, {j}): shift "
                                      f"{got}, expected {d}, peak {out[2, i, j]!r}")
                            bad += 1
    print(f"integer shifts: {bad} blocks not exact")
    return bad == 0


def check_subpixel(tool):
    ok = True
    for block, (bmed, b95, bmax) in BOUNDS.items():
        for dtype in DTYPES:
            errs = []
            for name, img in photographs():
                a = as_dtype(img, dtype)
                for d in SHIFTS:
                    b = as_dtype(fourier_moved(img, d), dtype)
                    out = run_core(tool, a, b, block, SEARCH)
                    for i, j, y0, x0 in inner_blocks(a.shape, block, SEARCH, 16):
                        if textured(img, y0, x0, block):
                            errs += [abs(out[0, i, j] - d[0]), abs(out[1, i, j] - d[1])]
            e = np.array(errs)
            med, p95, mx = np.median(e), np.percentile(e, 95), e.max()
            good = med <= bmed and p95 <= b95 and mx <= bmax
            print(f"block {block} {dtype}: {len(e) // 2} textured blocks, |error| median "
                  f"{med:.3f} p95 {p95:.3f} max {mx:.3f} px (bounds {bmed}, {b95}, {bmax})"
                  f"{'' if good else '  FAILED'}")
            ok &= bool(good)
    return ok


def main():
    tool = sys.argv[1]
    ok = check_integer(tool)
    ok &= check_subpixel(tool)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
