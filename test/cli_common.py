"""What the end-to-end tests of the `blockwise` command share.

Each test module runs one test, by CTest with Debian's /usr/bin/python3:

    test_cli_MODULE.py BLOCKWISE CORE_TOOL DEMO_PAIR PIPELINES_DIR TEST

Oracles: the C core called directly on the same files (core_tool, no ITK,
no streaming), numpy references written in the tests, tifffile for TIFF
contents and headers, PIL to decode the heatmap.  Exit status 77 means the
test could not run here (CTest reports it as skipped, not passed).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

BLOCKWISE, CORE_TOOL, DEMO_PAIR, PIPELINES = sys.argv[1:5]
SKIP = 77


def run(*args, expect=0, cwd=None):
    p = subprocess.run([BLOCKWISE, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if p.returncode != expect:
        raise AssertionError(f"blockwise {' '.join(map(str, args))}: exit {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def core(stat, block, edge, ddof, *files, tmp):
    out = os.path.join(tmp, "core.raw")
    p = subprocess.run([CORE_TOOL, stat, out, block, edge, str(ddof), *files],
                       capture_output=True, text=True, check=True)
    shape = json.loads(p.stdout)["shape"]
    return np.fromfile(out, dtype=np.float32).reshape(shape)


def listing(folder):
    return sorted(os.listdir(folder))


def expect_failure(args, status, message, folder, cwd=None):
    before = listing(folder)
    p = run(*args, expect=status, cwd=cwd)
    lines = p.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("blockwise: "), p.stderr
    assert message in lines[0], (message, lines[0])
    assert listing(folder) == before, ("files left behind", set(listing(folder)) - set(before))
    return lines[0]


def write_pipeline(tmp, text, name="p.json"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def decode_png(path):
    from PIL import Image
    with Image.open(path) as im:
        assert im.mode == "RGB", im.mode
        return np.asarray(im)


def write_nrrd(path, x, spacing, origin):
    """A NRRD file as 3D Slicer writes one: X fastest, LPS space, raw."""
    kinds = {np.dtype(np.uint16): "uint16", np.dtype(np.float32): "float", np.dtype(np.int16): "int16"}
    dirs = " ".join("(" + ",".join(str(spacing[k] if k == d else 0) for k in range(3)) + ")" for d in range(3))
    header = (f"NRRD0004\ntype: {kinds[x.dtype]}\ndimension: 3\nspace: left-posterior-superior\n"
              f"sizes: {x.shape[2]} {x.shape[1]} {x.shape[0]}\nspace directions: {dirs}\n"
              f"space origin: ({origin[0]},{origin[1]},{origin[2]})\nencoding: raw\nendian: little\n\n")
    with open(path, "wb") as f:
        f.write(header.encode() + x.astype(x.dtype.newbyteorder("<")).tobytes())


def main(namespace):
    """Runs the test that the command line names (the function test_NAME of
    `namespace`, a module's globals()) in a temporary folder."""
    tests = {name[5:]: fn for name, fn in namespace.items() if name.startswith("test_")}
    name = sys.argv[5]
    with tempfile.TemporaryDirectory() as tmp:
        tests[name](tmp)
    print(f"cli.{name}: ok")
