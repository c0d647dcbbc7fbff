"""End-to-end tests of `blockwise run PIPELINE.json` and of the 3D Slicer
modules (blockwise-corr, blockwise-stats, blockwise-denoise).  Command
line: see cli_common.py."""
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
import tifffile

from cli_common import (BLOCKWISE, PIPELINES, core, decode_png, expect_failure, main, run,
                        write_nrrd, write_pipeline)
from pairs import pair


def prepare_pipeline_folder(tmp):
    a, b = pair((256, 320), np.uint16, 7)
    tifffile.imwrite(os.path.join(tmp, "a.tif"), a)
    tifffile.imwrite(os.path.join(tmp, "b.tif"), b)
    for name in ("corr_heatmap.json", "block_stats.json", "shift_picture.json"):
        shutil.copy(os.path.join(PIPELINES, name), tmp)
    return a, b


def test_run(tmp):
    a, b = prepare_pipeline_folder(tmp)
    # Paths are relative to the pipeline file, not to the working directory.
    elsewhere = tempfile.mkdtemp(dir=tmp)
    p = run("run", os.path.join(tmp, "corr_heatmap.json"), "--dry-run", cwd=elsewhere)
    assert "pipeline is valid: 6 steps" in p.stdout, p.stdout
    assert "r: correlation of a, b in 16 x 16 blocks: 20 x 16 float32" in p.stdout, p.stdout
    assert not os.path.exists(os.path.join(tmp, "r.tif")), "a dry run wrote a file"
    p = run("run", os.path.join(tmp, "corr_heatmap.json"), cwd=elsewhere)
    r = tifffile.imread(os.path.join(tmp, "r.tif"))
    oracle = core("corr", "16", "partial", 0, os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif"), tmp=tmp)
    assert np.array_equal(r, oracle, equal_nan=True)
    assert decode_png(os.path.join(tmp, "r.png")).shape[0] >= 120
    finite = r[np.isfinite(r)].astype(np.float64)
    assert f"numbers: {r.size} blocks, median {np.median(finite):.3f}" in p.stdout, p.stdout
    # The same as the equivalent subcommand, bit for bit.
    sub = os.path.join(tmp, "sub.tif")
    run("corr", os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif"), "-o", sub, "--block", "16", "--quiet")
    assert np.array_equal(r, tifffile.imread(sub), equal_nan=True)

    # The displacement example: the shift command's field, and its picture.
    p = run("run", os.path.join(tmp, "shift_picture.json"), cwd=elsewhere)
    assert "numbers: 20 blocks (0 without a shift), shift median" in p.stdout, p.stdout
    run("shift", os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif"), "-o", sub, "--block", "64", "--search", "8",
        "--quiet")
    assert np.array_equal(tifffile.imread(os.path.join(tmp, "d.tif")), tifffile.imread(sub), equal_nan=True)
    assert decode_png(os.path.join(tmp, "d.png")).shape[:2] == (96, 5 * 12 + 96), "12 pixels per block, the wheel"

    run("run", os.path.join(tmp, "block_stats.json"), "--memory", "1M", "--threads", "1")
    mean = tifffile.imread(os.path.join(tmp, "mean.tif"))
    # tifffile without imagecodecs reads no ZSTD: tiffcp decompresses it first.
    with tifffile.TiffFile(os.path.join(tmp, "std.tif")) as t:
        assert t.pages[0].is_tiled and t.pages[0].compression == 50000  # ZSTD
    plain = os.path.join(tmp, "std_plain.tif")
    subprocess.run(["tiffcp", "-c", "none", os.path.join(tmp, "std.tif"), plain], check=True)
    std = tifffile.imread(plain)
    blocks = a.astype(np.float64).reshape(8, 32, 10, 32)
    assert mean.dtype == np.float64 and np.allclose(mean, blocks.mean(axis=(1, 3)), rtol=1e-12)
    assert np.allclose(std, blocks.std(axis=(1, 3), ddof=1), rtol=1e-10)
    for stat, ddof, got in (("mean", "0", mean), ("std", "1", std)):
        run("stats", os.path.join(tmp, "a.tif"), "-o", sub, "--stat", stat, "--ddof", ddof, "--block", "32",
            "--edge", "trim", "--type", "f64", "--quiet")
        assert np.array_equal(got, tifffile.imread(sub)), stat


def test_pipeline_errors(tmp):
    prepare_pipeline_folder(tmp)
    good = json.load(open(os.path.join(tmp, "corr_heatmap.json")))

    def variant(change):
        p = json.loads(json.dumps(good))
        change(p["steps"])
        return write_pipeline(tmp, json.dumps(p, indent=1))

    path = write_pipeline(tmp, '{\n  "steps": [\n    { "name": "a", "op": "read" "path": "a.tif" }\n  ]\n}\n')
    expect_failure(["run", path], 2, path + ":3:", tmp)
    cases = [
        (lambda s: s[2].update(op="correlate"), "step 'r': unknown op 'correlate'"),
        (lambda s: s[2].update(inputs=["a", "c"]), "step 'r' (corr): input 'c' is not the name of a step"),
        (lambda s: s.append({"name": "m", "op": "stats", "input": "numbers", "stat": "mean", "block": 4}),
         "step 'm' (stats): input 'numbers' is a summary step"),
        (lambda s: s[2].update(block="ten"), "step 'r': 'block' must be an integer or an array"),
        (lambda s: s[3].update(level="high"), "step 'save': 'level' must be an integer"),
        (lambda s: s[2].update(blok=3), "step 'r': unknown parameter 'blok'"),
        (lambda s: s[4].pop("name"), "step 5: has no \"name\""),
        (lambda s: s[1].update(name="a"), "two steps are named 'a'"),
        (lambda s: s[2].update(edge="wrap"), "step 'r' (corr): unknown edge policy 'wrap'"),
        (lambda s: s[0].update(path="missing.tif"), "step 'a' (read): cannot read"),
        (lambda s: s[3].update(path="out.png"), "step 'save' (write): output"),
        (lambda s: (s[3].pop("compression", None), s[3].update(level=9)),
         "step 'save' (write): a compression level needs a compression"),
        (lambda s: s[2].update(op="denoise", input="a", sigma="5", inputs=None) or s[2].pop("inputs"),
         "step 'r': 'sigma' must be a number"),
    ]
    for change, message in cases:
        expect_failure(["run", variant(change)], 1 if "cannot read" in message else 2, message, tmp)
    # A cycle: r reads from x, x from r.
    cyclic = variant(lambda s: s.extend([{"name": "x", "op": "stats", "input": "r2", "stat": "mean", "block": 2},
                                         {"name": "r2", "op": "stats", "input": "x", "stat": "mean", "block": 2}]))
    expect_failure(["run", cyclic], 2, "cycle", tmp)
    twice = variant(lambda s: s.append({"name": "again", "op": "write", "input": "r", "path": "./r.tif"}))
    expect_failure(["run", twice], 2, "step 'again' (write): writes", tmp)
    expect_failure(["run", os.path.join(tmp, "none.json")], 1, "cannot read", tmp)


def test_summaries(tmp):
    """Summaries past the exact limit: maps of r go on in a histogram
    (percentiles within its bin width), other maps must fit or fail early."""
    a, b = pair((600, 800), np.uint16, 12)
    for name, x in (("a.tif", a), ("b.tif", b)):
        tifffile.imwrite(os.path.join(tmp, name), x)
    steps = [{"name": "a", "op": "read", "path": "a.tif"}, {"name": "b", "op": "read", "path": "b.tif"},
             {"name": "r", "op": "corr", "inputs": ["a", "b"], "block": 2},
             {"name": "save", "op": "write", "input": "r", "path": "r.tif"},
             {"name": "numbers", "op": "summary", "input": "r"}]
    path = write_pipeline(tmp, json.dumps({"steps": steps}))
    # 120000 values, over the 32768 kept exactly under a 1M budget.
    p = run("run", path, "--memory", "1M")
    r = tifffile.imread(os.path.join(tmp, "r.tif")).astype(np.float64)
    finite = r[np.isfinite(r)]
    line = [l for l in p.stdout.split("\n") if l.startswith("numbers:")][0]
    median = float(line.split("median ")[1].split(",")[0])
    p05 = float(line.split("5th percentile ")[1].split(",")[0])
    assert abs(median - np.median(finite)) <= 1e-3 and abs(p05 - np.percentile(finite, 5)) <= 1e-3, line
    steps[2] = {"name": "r", "op": "stats", "input": "a", "stat": "mean", "block": 2}
    path = write_pipeline(tmp, json.dumps({"steps": steps}))
    expect_failure(["run", path, "--memory", "1M"], 1, "for exact percentiles", tmp)
    # A reader that cannot stream (NRRD) still shows every block to the summary.
    write_nrrd(os.path.join(tmp, "a.nrrd"), a[None], (1, 1, 1), (0, 0, 0))
    steps = [{"name": "a", "op": "read", "path": "a.nrrd"},
             {"name": "m", "op": "stats", "input": "a", "stat": "mean", "block": 10},
             {"name": "numbers", "op": "summary", "input": "m"}]
    path = write_pipeline(tmp, json.dumps({"steps": steps}))
    p = run("run", path, "--memory", "1M")
    assert "numbers: 4800 blocks" in p.stdout, p.stdout


def read_nrrd(path):
    """Header fields and the raw little-endian float32 data of a NRRD file."""
    with open(path, "rb") as f:
        data = f.read()
    head, body = data.split(b"\n\n", 1)
    fields = {}
    for line in head.decode().split("\n")[1:]:
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    assert fields["type"] == "float" and fields["encoding"] == "raw", fields
    sizes = [int(v) for v in fields["sizes"].split()]
    return fields, np.frombuffer(body, dtype="<f4").reshape(sizes[::-1])


def test_slicer(tmp):
    import xml.etree.ElementTree as ET
    folder = os.path.dirname(BLOCKWISE)
    a, b = pair((6, 40, 50), np.uint16, 10)
    i1, i2, out = (os.path.join(tmp, n) for n in ("in1.nrrd", "in2.nrrd", "out.nrrd"))
    write_nrrd(i1, a, (0.5, 0.5, 2.0), (10, 20, 30))
    write_nrrd(i2, b, (0.5, 0.5, 2.0), (10, 20, 30))
    for module, inputs in (("corr", [i1, i2]), ("stats", [i1])):
        exe = os.path.join(folder, "blockwise-" + module)
        p = subprocess.run([exe, "--xml"], capture_output=True, text=True, check=True)
        root = ET.fromstring(p.stdout)
        assert root.tag == "executable" and root.find("title").text, p.stdout[:200]
        flags, images = [], {}
        for group in root.findall("parameters"):
            for param in group:
                if param.tag in ("label", "description"):
                    continue
                assert param.find("name") is not None and param.find("label") is not None, param.tag
                if param.tag == "image":
                    images[int(param.find("index").text)] = param.find("channel").text
                    assert param.get("fileExtensions") == ".nrrd"
                else:
                    flag, default = param.find("longflag").text, param.find("default").text
                    if param.tag == "string-enumeration":
                        assert default in [e.text for e in param.findall("element")], flag
                    flags += [flag, default]
        assert sorted(images) == list(range(len(inputs) + 1)), images
        assert [images[i] for i in sorted(images)] == ["input"] * len(inputs) + ["output"]
        # As Slicer runs it: every declared flag, then the images by index.
        override = {"--block": "10", "--block-depth": "2"}
        args = []
        for flag, value in zip(flags[::2], flags[1::2]):
            args += [flag, override.get(flag, value)]
        p = subprocess.run([exe, *args, *inputs, out], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "<filter-progress>" in p.stdout and "<filter-end>" in p.stdout, p.stdout
        fields, got = read_nrrd(out)
        assert got.shape == (3, 4, 5), got.shape
        # Geometry as the filters define it: spacing times the block, origin
        # at the first block's centre.
        assert fields["space directions"].replace(" ", "") == "(5,0,0)(0,5,0)(0,0,4)", fields
        origin = [float(v) for v in fields["space origin"].strip("()").split(",")]
        assert np.allclose(origin, [10 + 4.5 * 0.5, 20 + 4.5 * 0.5, 30 + 0.5 * 2.0]), origin
        stat = "corr" if module == "corr" else "mean"
        tiffs = []
        for k, x in enumerate((a, b)[:len(inputs)]):
            tiffs.append(os.path.join(tmp, f"in{k}.tif"))
            tifffile.imwrite(tiffs[-1], x)
        oracle = core(stat, "2,10,10", "partial", 0, *tiffs, tmp=tmp)
        assert np.array_equal(got, oracle, equal_nan=True), module
    # The denoise module: its declared flags with their defaults (a search
    # depth of 2), then the images; the input's geometry, and the bits of
    # the denoise command on the same pixels.
    exe = os.path.join(folder, "blockwise-denoise")
    root = ET.fromstring(subprocess.run([exe, "--xml"], capture_output=True, text=True, check=True).stdout)
    args = []
    for group in root.findall("parameters"):
        for param in group:
            if param.find("longflag") is not None:
                flag = param.find("longflag").text
                value = {"--search-depth": "2", "--sigma": "400"}.get(flag, param.find("default").text)
                if param.tag == "string-enumeration":
                    assert value in [e.text for e in param.findall("element")], flag
                args += [flag, value]
    assert {"--sigma", "--patch", "--search", "--noise", "--gain", "--threads"} <= set(args[::2]), args
    p = subprocess.run([exe, *args, i1, out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "<filter-end>" in p.stdout, p.stdout
    fields, got = read_nrrd(out)
    assert got.shape == a.shape, got.shape
    assert fields["space directions"].replace(" ", "") == "(0.5,0,0)(0,0.5,0)(0,0,2)", fields
    origin = [float(v) for v in fields["space origin"].strip("()").split(",")]
    assert np.allclose(origin, [10, 20, 30]), origin
    tin, tout = os.path.join(tmp, "d.tif"), os.path.join(tmp, "d_out.tif")
    tifffile.imwrite(tin, a)
    run("denoise", tin, "-o", tout, "--sigma", "400", "--patch", "3", "--search", "2,10,10", "--quiet")
    assert np.array_equal(got, tifffile.imread(tout)), "module and command differ"

    # The local modules: their declared flags (radius 3, depth 1, step 2),
    # then the images; the input's geometry with the step in the spacing,
    # and the bits of the local commands on the same pixels.
    ta, tb = os.path.join(tmp, "la.tif"), os.path.join(tmp, "lb.tif")
    tifffile.imwrite(ta, a)
    tifffile.imwrite(tb, b)
    for module, inputs, command in (("localcorr", [i1, i2], ["localcorr", ta, tb]),
                                    ("localstats", [i1], ["localstats", ta, "--stat", "std", "--ddof", "1"])):
        exe = os.path.join(folder, "blockwise-" + module)
        root = ET.fromstring(subprocess.run([exe, "--xml"], capture_output=True, text=True, check=True).stdout)
        assert root.find("title").text.startswith("Local"), root.find("title").text
        args, indices = [], []
        for group in root.findall("parameters"):
            for param in group:
                if param.tag == "image":
                    indices.append(int(param.find("index").text))
                elif param.find("longflag") is not None:
                    flag = param.find("longflag").text
                    value = {"--radius": "3", "--radius-depth": "1", "--step": "2", "--stat": "std",
                             "--ddof": "1"}.get(flag, param.find("default").text)
                    if param.tag == "string-enumeration":
                        assert value in [e.text for e in param.findall("element")], flag
                    args += [flag, value]
        assert sorted(indices) == list(range(len(inputs) + 1)), indices
        p = subprocess.run([exe, *args, *inputs, out], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "<filter-end>" in p.stdout, p.stdout
        fields, got = read_nrrd(out)
        assert got.shape == (3, 20, 25), got.shape
        assert fields["space directions"].replace(" ", "") == "(1,0,0)(0,1,0)(0,0,4)", fields
        origin = [float(v) for v in fields["space origin"].strip("()").split(",")]
        assert np.allclose(origin, [10, 20, 30]), origin
        tout = os.path.join(tmp, module + ".tif")
        run(*command, "-o", tout, "--radius", "1,3,3", "--step", "2", "--quiet")
        assert np.array_equal(got, tifffile.imread(tout), equal_nan=True), f"{module}: module and command differ"

    # The shift module: a volume moved by (dz, dy, dx) = (1, 2, -1) voxels;
    # its declared flags (blocks 16 x 16 x 4, search 3 and depth 1); a
    # vector NRRD of the block grid, each vector the shift times the
    # spacing, as the command finds it in voxels.
    from test_cli_commands import smooth_texture
    v = smooth_texture((8, 48, 48), 4)
    w = np.roll(v, (1, 2, -1), axis=(0, 1, 2))
    s1, s2 = os.path.join(tmp, "s1.nrrd"), os.path.join(tmp, "s2.nrrd")
    write_nrrd(s1, v, (0.5, 0.5, 2.0), (10, 20, 30))
    write_nrrd(s2, w, (0.5, 0.5, 2.0), (10, 20, 30))
    exe = os.path.join(folder, "blockwise-shift")
    root = ET.fromstring(subprocess.run([exe, "--xml"], capture_output=True, text=True, check=True).stdout)
    assert root.find("title").text == "Block Displacement", root.find("title").text
    args, kinds = [], {}
    for group in root.findall("parameters"):
        for param in group:
            if param.tag == "image":
                kinds[int(param.find("index").text)] = (param.get("type"), param.find("channel").text)
            elif param.find("longflag") is not None:
                flag = param.find("longflag").text
                args += [flag, {"--block": "16", "--block-depth": "4", "--search": "3",
                                "--search-depth": "1"}.get(flag, param.find("default").text)]
    assert kinds == {0: ("scalar", "input"), 1: ("scalar", "input"), 2: ("vector", "output")}, kinds
    p = subprocess.run([exe, *args, s1, s2, out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "<filter-end>" in p.stdout, p.stdout
    fields, got = read_nrrd(out)
    assert got.shape == (2, 3, 3, 3) and "vector" in fields["kinds"], (got.shape, fields)
    assert fields["space directions"].split()[0] == "none", fields
    assert np.allclose(got[0, 1, 1], (-0.5, 1.0, 2.0), atol=1e-4), got[0, 1, 1]
    tv, tw, tout = (os.path.join(tmp, n) for n in ("v.tif", "w.tif", "shift.tif"))
    tifffile.imwrite(tv, v, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tw, w, imagej=True, metadata={"axes": "ZYX"})
    run("shift", tv, tw, "-o", tout, "--block", "4,16,16", "--search", "1,3,3", "--quiet")
    voxels = tifffile.imread(tout)
    assert np.allclose(got / np.array([0.5, 0.5, 2.0], dtype=np.float32), voxels, atol=1e-5, equal_nan=True), \
        "module and command differ"

    # The deconvolve module: its declared flags (3 iterations, the boolean
    # --accelerate as Slicer passes it, alone), the image and its PSF; the
    # input's geometry, and the bits of the command on the same pixels.
    exe = os.path.join(folder, "blockwise-deconvolve")
    if os.path.exists(exe):
        root = ET.fromstring(subprocess.run([exe, "--xml"], capture_output=True, text=True, check=True).stdout)
        args, kinds = [], {}
        for group in root.findall("parameters"):
            for param in group:
                if param.tag == "image":
                    kinds[int(param.find("index").text)] = param.find("channel").text
                elif param.tag == "boolean":
                    args.append(param.find("longflag").text)  # on
                elif param.find("longflag") is not None:
                    flag = param.find("longflag").text
                    args += [flag, {"--iterations": "3"}.get(flag, param.find("default").text)]
        assert kinds == {0: "input", 1: "input", 2: "output"}, kinds
        kernel = np.outer(np.hanning(5), np.hanning(7))[None].repeat(3, 0).astype(np.float32)
        kpath = os.path.join(tmp, "k.nrrd")
        write_nrrd(kpath, kernel, (0.5, 0.5, 2.0), (0, 0, 0))
        p = subprocess.run([exe, *args, i1, kpath, out], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert "<filter-end>" in p.stdout, p.stdout
        fields, got = read_nrrd(out)
        assert got.shape == a.shape and fields["space directions"].replace(" ", "") == "(0.5,0,0)(0,0.5,0)(0,0,2)"
        tk = os.path.join(tmp, "k.tif")
        tifffile.imwrite(tk, kernel, imagej=True, metadata={"axes": "ZYX"})
        tout = os.path.join(tmp, "deconvolved.tif")
        run("deconvolve", ta, "--psf", tk, "-o", tout, "--iterations", "3", "--accelerate", "--quiet")
        assert np.array_equal(got, tifffile.imread(tout)), "deconvolve: module and command differ"

    # A wrong flag is a usage error, as for the command.
    p = subprocess.run([os.path.join(folder, "blockwise-corr"), "--frob", "1", i1, i2, out],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "unknown option '--frob'" in p.stderr, p.stderr


if __name__ == "__main__":
    main(globals())
