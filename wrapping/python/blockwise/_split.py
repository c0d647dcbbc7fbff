"""Cutting the work into core calls: views, leading axes, thread shares.

The core works on 2-D and 3-D strided views.  Arrays with more axes (time,
channel, ...) are cut into units of at most 3 axes, as few as their strides
allow (units), one core call each.  With threads, the output rows of all
calls are shared evenly among the threads (run_shares): a call that a share
holds only in part is restricted to its rows by the call's own sub(), which
asks the operation's region map for the input those rows need.
"""
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _core as C


def view(a, code):
    """bw_view of numpy array a (elements of bw_dtype code), in place."""
    v = C.View()
    v.data = a.ctypes.data
    v.dtype = code
    v.ndim = a.ndim
    for i, (n, s) in enumerate(zip(a.shape, a.strides)):
        v.shape[i] = n
        v.strides[i] = s
    return v


def fold(a, k):
    """a with all but its last k axes merged into one, as a view, or None
    when that would need a copy."""
    lead = a.shape[:-k]
    if len(lead) <= 1:
        return a
    # Axes of extent 1 have no say; the others merge when each one's stride
    # is the next one's stride times its extent.
    dims = [(n, s) for n, s in zip(lead, a.strides[:-k]) if n != 1]
    for (_, s0), (n1, s1) in zip(dims, dims[1:]):
        if s0 != s1 * n1:
            return None
    step = dims[-1][1] if dims else 0
    return np.lib.stride_tricks.as_strided(
        a, shape=(math.prod(lead),) + a.shape[-k:], strides=(step,) + a.strides[-k:],
        writeable=a.flags.writeable)


def units(arrays, k):
    """Cuts the arrays (same leading axes, k operated axes each) into tuples
    of views of at most 3 axes: one core call each.  With k = 2, the last
    leading axis becomes the core's first axis (a stack of planes, which
    the operation covers with extent 1 or radius 0 along it)."""
    lead = arrays[0].shape[:-k]
    if not lead:
        return [tuple(arrays)]
    folded = [fold(a, k) for a in arrays]
    if all(f is not None for f in folded):
        arrays, lead = folded, folded[0].shape[:1]
    loop = lead if k == 3 else lead[:-1]
    if not loop:
        return [tuple(arrays)]
    return [tuple(a[idx] for a in arrays) for idx in np.ndindex(*loop)]


def sub_box(region_map, in_start, out_start, start, size):
    """The box (start, size) of a call's output, in the call's coordinates,
    where the call's output starts at out_start and its input at in_start
    in the whole image: (the box's start in the whole output, the start of
    the input it needs there, the slices of that input in the call's input,
    the slices of the box in the call's output).  region_map(start, size)
    is the operation's: (start, size) of the input an output box needs."""
    gstart = tuple(s + o for s, o in zip(start, out_start))
    istart, isize = region_map(gstart, size)
    xs = tuple(slice(a - b, a - b + n) for a, b, n in zip(istart, in_start, isize))
    os = tuple(slice(s, s + n) for s, n in zip(start, size))
    return gstart, istart, xs, os


def row_boxes(out_shape, r0, r1):
    """(start, size) boxes covering rows [r0, r1) of an output of out_shape,
    its rows being the first axis (2-D) or the first two flattened (3-D)."""
    if len(out_shape) == 2:
        return [((r0, 0), (r1 - r0, out_shape[1]))]
    nz, ny, nx = out_shape
    z0, y0 = divmod(r0, ny)
    z1, y1 = divmod(r1, ny)
    if z0 == z1:
        return [((z0, y0, 0), (1, y1 - y0, nx))]
    boxes = []
    if y0:
        boxes.append(((z0, y0, 0), (1, ny - y0, nx)))
        z0 += 1
    if z1 > z0:
        boxes.append(((z0, 0, 0), (z1 - z0, ny, nx)))
    if y1:
        boxes.append(((z1, 0, 0), (1, y1, nx)))
    return boxes


def run_shares(calls, threads):
    """Runs the core calls, on `threads` threads.

    Each call has out_shape (the same for all: the units of one array),
    run(), and sub(start, size), the same call restricted to a box of its
    output.  The output rows of all calls are split evenly among the
    threads; every restricted call is made before any runs, so an error
    stops everything before a pixel is written.  The bits do not depend on
    the number of threads: each output element is computed by the same
    core from the same input as in one call.
    """
    if threads == 1 or not calls:
        for c in calls:
            c.run()
        return
    out_shape = calls[0].out_shape
    rows = out_shape[0] * (out_shape[1] if len(out_shape) == 3 else 1)
    total = rows * len(calls)
    shares = []
    for t in range(threads):
        g0, g1 = total * t // threads, total * (t + 1) // threads
        share = []
        while g0 < g1:
            u, r0 = divmod(g0, rows)
            r1 = min(rows, r0 + (g1 - g0))
            call = calls[u]
            if r0 == 0 and r1 == rows:
                share.append(call)
            else:
                share.extend(call.sub(s, n) for s, n in row_boxes(out_shape, r0, r1))
            g0 += r1 - r0
        if share:
            shares.append(share)

    def work(share):
        for c in share:
            c.run()

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for f in [pool.submit(work, s) for s in shares]:
            f.result()
