"""End-to-end tests of the `blockwise` command.

Run by CTest with Debian's /usr/bin/python3:

    test_cli.py BLOCKWISE CORE_TOOL DEMO_PAIR PIPELINES_DIR TEST

Oracles: the C core called directly on the same files (core_tool, no ITK,
no streaming), numpy references written here, tifffile for TIFF contents
and headers, PIL to decode the heatmap.  Exit status 77 means the test could
not run here (CTest reports it as skipped, not passed).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import tifffile

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


def blocks_of(x, block, edge="partial"):
    """Yields (block index, pixels) of the blocks of x, a numpy reference."""
    ranges = []
    for n, b in zip(x.shape, block):
        count = n // b if edge == "trim" else -(-n // b)
        ranges.append([(i * b, min((i + 1) * b, n)) for i in range(count)])
    for idx in np.ndindex(*[len(r) for r in ranges]):
        sl = tuple(slice(*ranges[d][i]) for d, i in enumerate(idx))
        yield idx, sl


def corr_reference(a, b, block, edge="partial"):
    shape = [len(r) for r in [[*range(-(-n // bb) if edge == "partial" else n // bb)]
                              for n, bb in zip(a.shape, block)]]
    r = np.empty(shape)
    for idx, sl in blocks_of(a, block, edge):
        x = a[sl].astype(np.float64).ravel()
        y = b[sl].astype(np.float64).ravel()
        x -= x.mean()
        y -= y.mean()
        d = np.sqrt((x * x).sum() * (y * y).sum())
        r[idx] = (x * y).sum() / d if d > 0 else np.nan
    return r


def textured_pair(shape, dtype, seed, noise=0.3):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=shape)
    a = base + noise * rng.normal(size=shape)
    b = base * rng.uniform(-1, 1, size=shape[:-1] + (1,)) + noise * rng.normal(size=shape)
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        scale = min(info.max, 40000) / 12
        a = np.clip(np.round(a * scale + (info.max + info.min) / 2), info.min, info.max)
        b = np.clip(np.round(b * scale + (info.max + info.min) / 2), info.min, info.max)
    return a.astype(dtype), b.astype(dtype)


def listing(folder):
    return sorted(os.listdir(folder))


def test_corr(tmp):
    # 2-D uint16, sizes that are not block multiples, several pieces.
    a, b = textured_pair((301, 412), np.uint16, 1)
    pa, pb, pr = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b, compression="zlib", tile=(64, 64))
    p = run("corr", pa, pb, "-o", pr, "--block", "7,9", "--json", "--memory", "1M")
    summary = json.loads(p.stdout)
    r = tifffile.imread(pr)
    assert r.dtype == np.float32 and r.shape == (43, 46), (r.dtype, r.shape)
    with tifffile.TiffFile(pr) as t:
        assert int(t.pages[0].compression) == 1, "maps are uncompressed unless asked"
    oracle = core("corr", "7,9", "partial", 0, pa, pb, tmp=tmp)
    assert np.array_equal(r, oracle, equal_nan=True), "map differs from the core's"
    ref = corr_reference(a, b, (7, 9))
    assert np.allclose(r, ref, rtol=0, atol=1e-5, equal_nan=True), np.nanmax(abs(r - ref))
    finite = r[np.isfinite(r)].astype(np.float64)
    assert summary["blocks"] == r.size and summary["nan_blocks"] == r.size - finite.size
    assert abs(summary["median"] - np.median(finite)) < 1e-6, (summary["median"], np.median(finite))
    assert abs(summary["p05"] - np.percentile(finite, 5)) < 1e-6, (summary["p05"], np.percentile(finite, 5))
    assert summary["below_threshold"] == int((finite < 0.5).sum())
    assert summary["grid"] == [43, 46] and summary["map"] == pr and summary["png"] is None
    assert summary["registration_recommended"] == (summary["fraction_below"] >= 0.05)

    # The plain summary says the same numbers.
    p = run("corr", pa, pb, "-o", pr, "--block", "7,9")
    assert f"median r:   {np.median(finite):.3f}" in p.stdout, p.stdout
    assert "blocks:     1978" in p.stdout, p.stdout

    # Trim, a fill value, float64 output, one block size for both axes.
    p = run("corr", pa, pb, "-o", pr, "--block", "10", "--edge", "trim", "--fill", "-2", "--type", "f64",
            "--quiet")
    assert p.stdout == "" and p.stderr == ""
    r = tifffile.imread(pr)
    assert r.dtype == np.float64 and r.shape == (30, 41)
    assert np.allclose(r, corr_reference(a, b, (10, 10), "trim"), atol=1e-12)

    # 3-D, anisotropic blocks, 1 thread and 2.
    a3, b3 = textured_pair((13, 40, 50), np.int16, 2)
    tifffile.imwrite(pa, a3)
    tifffile.imwrite(pb, b3)
    for threads in ("1", "2"):
        run("corr", pa, pb, "-o", pr, "--block", "4,16,16", "--threads", threads, "--quiet")
        r = tifffile.imread(pr)
        oracle = core("corr", "4,16,16", "partial", 0, pa, pb, tmp=tmp)
        assert r.shape == (4, 3, 4) and np.array_equal(r, oracle, equal_nan=True)

    # Different element types: compared as float64.
    a2, b2 = textured_pair((120, 90), np.float32, 3)
    tifffile.imwrite(pa, a2)
    tifffile.imwrite(pb, np.clip(b2 * 1000 + 30000, 0, 65535).astype(np.uint16))
    run("corr", pa, pb, "-o", pr, "--block", "10", "--quiet")
    ref = corr_reference(a2, np.clip(b2 * 1000 + 30000, 0, 65535).astype(np.uint16), (10, 10))
    assert np.allclose(tifffile.imread(pr), ref, atol=1e-5)


def test_stats(tmp):
    rng = np.random.default_rng(4)
    image = rng.integers(0, 4000, size=(123, 77)).astype(np.uint16)
    pin, pout = os.path.join(tmp, "in.tif"), os.path.join(tmp, "out.tif")
    tifffile.imwrite(pin, image, compression="zlib")
    for stat, core_name in [("mean", "mean"), ("std", "std"), ("var", "var"), ("sum", "sum"),
                            ("min", "min"), ("max", "max"), ("count", "count")]:
        for ddof in (0, 1):
            run("stats", pin, "-o", pout, "--stat", stat, "--block", "8,5", "--ddof", ddof, "--memory", "1M")
            got = tifffile.imread(pout)
            oracle = core(core_name, "8,5", "partial", ddof, pin, tmp=tmp)
            assert np.array_equal(got, oracle, equal_nan=True), (stat, ddof)
    # numpy as a second oracle for the mean, in whole blocks.
    run("stats", pin, "-o", pout, "--stat", "mean", "--block", "3", "--edge", "trim", "--type", "f64", "--quiet")
    ref = image[:123, :75].astype(np.float64).reshape(41, 3, 25, 3).mean(axis=(1, 3))
    assert np.allclose(tifffile.imread(pout), ref, rtol=1e-12)
    p = run("stats", pin, "-o", pout, "--stat", "max", "--block", "10")
    assert "max of 8 x 13 blocks" in p.stdout, p.stdout


def test_info(tmp):
    rng = np.random.default_rng(5)
    cases = {
        "strips.tif": dict(data=rng.integers(0, 255, (50, 60)).astype(np.uint8), kw={}),
        "deflate_tiled.tif": dict(data=rng.normal(size=(70, 90)).astype(np.float32),
                                  kw=dict(compression="zlib", tile=(32, 48))),
        "bigtiff.tif": dict(data=rng.integers(-5, 5, (20, 30)).astype(np.int32), kw=dict(bigtiff=True)),
        "bigendian.tif": dict(data=rng.integers(0, 60000, (25, 35)).astype(np.uint16), kw=dict(byteorder=">")),
        "pages.tif": dict(data=rng.normal(size=(4, 16, 24)),
                          kw=dict(photometric="minisblack", resolution=(2.0, 4.0), resolutionunit="CENTIMETER")),
    }
    for name, case in cases.items():
        path = os.path.join(tmp, name)
        tifffile.imwrite(path, case["data"], **case["kw"])
    lzw = os.path.join(tmp, "lzw.tif")
    subprocess.run(["tiffcp", "-c", "lzw", os.path.join(tmp, "strips.tif"), lzw], check=True)
    for name in list(cases) + ["lzw.tif"]:
        path = os.path.join(tmp, name)
        info = json.loads(run("info", path, "--json").stdout)
        with tifffile.TiffFile(path) as t:
            page = t.pages[0]
            series = t.series[0]
            assert info["shape"] == list(series.shape), (name, info["shape"], series.shape)
            assert info["dtype"] == str(series.dtype), (name, info["dtype"])
            assert info["pages"] == len(t.pages), name
            assert info["tiled"] == page.is_tiled, name
            if page.is_tiled:
                assert info["tile"] == [page.tilelength, page.tilewidth], name
            else:
                assert info["rows_per_strip"] == min(page.rowsperstrip, page.imagelength), name
            expected = {1: "none", 5: "lzw", 8: "deflate", 32946: "deflate"}[int(page.compression)]
            assert info["compression"] == expected, (name, info["compression"])
            assert info["bigtiff"] == t.is_bigtiff, name
            assert info["byte_order"] == ("big" if t.byteorder == ">" else "little"), name
        text = run("info", path).stdout
        assert "type:        " + info["dtype"] in text and "compression: " + info["compression"] in text, text
    info = json.loads(run("info", os.path.join(tmp, "pages.tif"), "--json").stdout)
    # 4 pixels per cm in y, 2 in x: 2.5 and 5 mm.
    assert np.allclose(info["spacing"][1:], [2.5, 5.0]), info["spacing"]


def decode_png(path):
    from PIL import Image
    with Image.open(path) as im:
        assert im.mode == "RGB", im.mode
        return np.asarray(im)


def colour(v, lo=-1.0, hi=1.0):
    """The documented colour scale: five stops, linear between them."""
    if np.isnan(v):
        return (150, 150, 150)
    stops = np.array([(30, 80, 160), (110, 165, 215), (248, 248, 248), (235, 135, 100), (170, 20, 40)], float)
    t = min(1.0, max(0.0, (v - lo) / (hi - lo))) * 4
    i = min(3, int(t))
    return tuple(int(np.floor(c + 0.5)) for c in stops[i] + (stops[i + 1] - stops[i]) * (t - i))


def test_heatmap(tmp):
    a, b = textured_pair((200, 150), np.uint16, 6)
    a[0:20, 0:30] = 1000  # constant blocks: r is NaN there
    pa, pb, pr, png = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif", "r.png"))
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b)
    run("corr", pa, pb, "-o", pr, "--png", png, "--block", "10", "--quiet")
    r = tifffile.imread(pr)
    assert r.shape == (20, 15) and np.isnan(r[0:2, 0:3]).all()
    pic = decode_png(png)
    scale = max(1, min(32, 800 // max(r.shape)))  # the documented automatic scale
    assert pic.shape[0] == max(r.shape[0] * scale, 120), pic.shape
    assert pic.shape[1] > r.shape[1] * scale, "no room for the colour bar"
    for (y, x) in [(0, 0), (1, 2), (5, 5), (19, 14), (10, 3), (7, 12)]:
        got = tuple(int(c) for c in pic[y * scale + scale // 2, x * scale + scale // 2])
        want = colour(float(r[y, x]))
        assert max(abs(g - w) for g, w in zip(got, want)) <= 1, ((y, x), r[y, x], got, want)
        # The whole cell has one colour.
        cell = pic[y * scale:(y + 1) * scale, x * scale:(x + 1) * scale].reshape(-1, 3)
        assert (cell == cell[0]).all(), (y, x)
    # The colour bar: the top is the colour of 1, the bottom of the bar the colour of -1.
    bar = pic[:, r.shape[1] * scale + 8 + 8]
    assert tuple(int(c) for c in bar[8]) == colour(1.0), bar[8]
    column = [tuple(int(c) for c in px) for px in bar]
    assert colour(-1.0) in column, "the bar does not reach the colour of -1"


def test_demo(tmp):
    pa, pb, pr = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
    p = subprocess.run([DEMO_PAIR, pa, pb, "--size", "1024", "--region", "300,500,700,900"],
                       capture_output=True, text=True, check=True)
    found = re.search(r"rows (\d+)-(\d+), columns (\d+)-(\d+)", p.stdout)
    y0, y1, x0, x1 = (int(v) for v in found.groups())
    y1, x1 = y1 + 1, x1 + 1  # printed inclusive
    assert (y0, x0, y1, x1) == (300, 500, 700, 900), p.stdout
    out = json.loads(run("corr", pa, pb, "-o", pr, "--block", "16", "--json").stdout)
    r = tifffile.imread(pr)
    inside = np.zeros(r.shape, bool)
    # Blocks wholly inside the warped rectangle, away from its 16-pixel ramp.
    for by in range(r.shape[0]):
        for bx in range(r.shape[1]):
            inside[by, bx] = (by * 16 >= y0 + 16 and (by + 1) * 16 <= y1 - 16 and
                              bx * 16 >= x0 + 16 and (bx + 1) * 16 <= x1 - 16)
    outside = np.ones(r.shape, bool)
    outside[max(0, y0 // 16 - 1):y1 // 16 + 2, max(0, x0 // 16 - 1):x1 // 16 + 2] = False
    med_in, med_out = np.median(r[inside]), np.median(r[outside])
    assert med_out > 0.85 and med_in < med_out - 0.4, (med_in, med_out)
    assert out["registration_recommended"], out


def prepare_pipeline_folder(tmp):
    a, b = textured_pair((256, 320), np.uint16, 7)
    tifffile.imwrite(os.path.join(tmp, "a.tif"), a)
    tifffile.imwrite(os.path.join(tmp, "b.tif"), b)
    for name in ("corr_heatmap.json", "block_stats.json"):
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


def test_errors(tmp):
    a, b = textured_pair((64, 80), np.uint16, 8)
    pa, pb = os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif")
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b)
    small = os.path.join(tmp, "small.tif")
    tifffile.imwrite(small, a[:32, :40])
    text = os.path.join(tmp, "text.tif")
    with open(text, "w") as f:
        f.write("this is not a TIFF file, only text\n" * 10)
    corrupt = os.path.join(tmp, "corrupt.tif")
    tifffile.imwrite(corrupt, np.arange(256 * 256, dtype=np.uint16).reshape(256, 256), compression="zlib")
    with open(corrupt, "r+b") as f:
        data = f.read()
        # Keep the header and directory, scramble the compressed strips.
        f.seek(0)
        f.write(data[:len(data) // 4] + bytes(len(data) - len(data) // 4))
    out = os.path.join(tmp, "r.tif")
    expect_failure(["corr", pa, os.path.join(tmp, "missing.tif"), "-o", out], 1,
                   "cannot read " + os.path.join(tmp, "missing.tif") + ": No such file", tmp)
    expect_failure(["corr", pa, text, "-o", out], 1, text + ": not a readable TIFF", tmp)
    expect_failure(["corr", pa, corrupt, "-o", out], 1, corrupt, tmp)
    expect_failure(["stats", corrupt, "-o", out, "--stat", "mean"], 1, "corrupt.tif", tmp)
    expect_failure(["corr", pa, small, "-o", out], 1,
                   f"inputs have different sizes: {pa} is 80 x 64, {small} is 40 x 32", tmp)
    expect_failure(["corr", pa, pb, "-o", out, "--block", "0"], 2, "block sizes must be at least 1", tmp)
    expect_failure(["corr", pa, pb, "-o", out, "--block", "65", "--edge", "trim"], 1,
                   "block 65 x 65 leaves no whole block in the 80 x 64 image", tmp)
    expect_failure(["corr", pa, pb, "-o", out, "--blocks", "10"], 2, "unknown option '--blocks'", tmp)
    expect_failure(["corr", pa, pb], 2, "needs -o R.tif", tmp)
    expect_failure(["stats", pa, "-o", out], 2, "needs --stat", tmp)
    expect_failure(["frobnicate"], 2, "unknown command 'frobnicate'", tmp)
    expect_failure(["corr", pa, pb, "-o", out, "--memory", "lots"], 2, "--memory", tmp)
    expect_failure(["corr", pa, pb, "-o", os.path.join(tmp, "nowhere", "r.tif")], 1,
                   "folder " + os.path.join(tmp, "nowhere") + " does not exist", tmp)
    expect_failure(["corr", pa, pb, "-o", pa], 2, "would overwrite " + pa, tmp)
    # Another spelling of the same file is the same file.
    alias = os.path.join(tmp, ".", "a.tif")
    expect_failure(["corr", pa, pb, "-o", alias], 2, "would overwrite " + alias, tmp)
    if os.geteuid() != 0:
        locked = os.path.join(tmp, "locked")
        os.mkdir(locked, 0o555)
        expect_failure(["corr", pa, pb, "-o", os.path.join(locked, "r.tif")], 1, "is not writable", tmp)
    else:
        # Root may write anywhere that allows it at all: /proc does not.
        expect_failure(["corr", pa, pb, "-o", "/proc/r.tif"], 1, "/proc/", tmp)
    expect_failure(["corr", pa, pb, "-o", out, "--png", os.path.join(tmp, "r.jpg")], 2, "must end in .png", tmp)


def test_full_disk(tmp):
    """A disk that fills while the map, or then the heatmap, is written:
    exit 1, one line, nothing left on the disk."""
    a, b = textured_pair((1024, 1024), np.float32, 9)
    pa, pb = os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif")
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b)
    mount = os.path.join(tmp, "small")
    os.mkdir(mount)
    # $0: where the listing of the small disk goes; $1: the mount point; $2: its size.
    script = ('m="$1"; size="$2"; shift 2; mount -t tmpfs -o size=$size tmpfs "$m" 2>/dev/null || exit 77; '
              '"$@"; s=$?; ls -A "$m" > "$0"; umount "$m"; exit $s')
    listed = os.path.join(tmp, "left.txt")
    cases = [
        # 2x2 blocks: a 2 MiB map on a 128 KiB disk.
        ("128k", ["--block", "2"], "r.tif"),
        # 8x8 blocks: the 64 KiB map fits, its heatmap does not.
        ("80k", ["--block", "8"], "r.png"),
    ]
    for runner in (["sh", "-c"], ["unshare", "-rm", "sh", "-c"]):
        for size, block, failing in cases:
            args = [BLOCKWISE, "corr", pa, pb, "-o", os.path.join(mount, "r.tif"), *block,
                    "--compression", "none", "--png", os.path.join(mount, "r.png")]
            p = subprocess.run(runner + [script, listed, mount, size] + args, capture_output=True, text=True)
            if p.returncode == 77:
                break
            assert p.returncode == 1, (size, p.returncode, p.stderr)
            line = p.stderr.strip()
            assert "\n" not in line and line.startswith("blockwise: "), line
            assert "no space left" in line.lower() and failing in line, (failing, line)
            with open(listed) as f:
                left = f.read().split()
            assert left == [], ("files left on the full disk", left)
        else:
            return
    print("cannot mount a small tmpfs here (needs root or user namespaces)")
    sys.exit(SKIP)


def test_interrupt(tmp):
    """SIGTERM in the middle of a run: exit 130, no output, no temporary file."""
    import signal
    import time
    pa, pb, pr = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
    subprocess.run([DEMO_PAIR, pa, pb, "--size", "4096", "--region", "100,100,200,200"],
                   check=True, stdout=subprocess.DEVNULL)
    before = listing(tmp)
    proc = subprocess.Popen([BLOCKWISE, "corr", pa, pb, "-o", pr, "--memory", "1M", "--png",
                             os.path.join(tmp, "r.png")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until the map is being written (its temporary file exists), then interrupt.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if any(n.startswith(".r.tif.") for n in os.listdir(tmp)):
            break
        time.sleep(0.001)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip() == "blockwise: interrupted", err
    assert listing(tmp) == before, set(listing(tmp)) - set(before)


def test_summaries(tmp):
    """Summaries past the exact limit: maps of r go on in a histogram
    (percentiles within its bin width), other maps must fit or fail early."""
    a, b = textured_pair((600, 800), np.uint16, 12)
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


def test_progress(tmp):
    """A bar on a terminal (a pseudo-terminal from script(1)), nothing otherwise."""
    a, b = textured_pair((600, 500), np.uint16, 11)
    pa, pb, pr = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b)
    cmd = f"'{BLOCKWISE}' corr '{pa}' '{pb}' -o '{pr}' --memory 1M"
    if shutil.which("script") is None:
        print("script(1) is missing: no pseudo-terminal to test with")
        sys.exit(SKIP)
    # Bytes, not text: text mode would turn the bar's carriage returns into newlines.
    p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    frames = [f for f in out.split("\r") if f.startswith("[")]
    percents = [int(f.split("]")[1].split("%")[0]) for f in frames]
    assert len(frames) >= 3 and percents == sorted(percents) and percents[-1] >= 90, percents
    assert "writing " in out and "median r:" in out, out
    # Not a terminal: no bar, only the summary on stdout.
    p = run("corr", pa, pb, "-o", pr, "--memory", "1M")
    assert p.stderr == "" and "[" not in p.stdout, (p.stderr, p.stdout)
    # --quiet on a terminal: nothing at all.
    p = subprocess.run(["script", "-qec", cmd + " --quiet", "/dev/null"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.strip() == "", repr(p.stdout)


# A child's peak RSS counts the pages it had before exec, a copy of its
# parent's; this test's process holds numpy, so a small interpreter without
# site packages starts the command and reports its peak.
MEASURE = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(0 if status == 0 else 1)
"""


def peak_rss_mib(cmd):
    """Peak resident set size of one run of cmd, in MiB."""
    p = subprocess.run([sys.executable, "-S", "-c", MEASURE, *cmd], capture_output=True, text=True)
    assert p.returncode == 0, (cmd, p.stderr)
    return int(p.stdout.split()[-1]) / 1024.0


def test_memory(tmp):
    """--memory bounds the working set: a 256 MiB pair under a 64M budget
    stays within the budget plus the process's own baseline (the same
    command on a tiny pair).  A bound on memory, not a timing."""
    pa, pb, pr = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
    sa, sb = os.path.join(tmp, "sa.tif"), os.path.join(tmp, "sb.tif")
    subprocess.run([DEMO_PAIR, pa, pb, "--size", "8192", "--region", "2000,2000,4000,4000"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([DEMO_PAIR, sa, sb, "--size", "256", "--region", "64,64,128,128"],
                   check=True, stdout=subprocess.DEVNULL)
    baseline = peak_rss_mib([BLOCKWISE, "corr", sa, sb, "-o", pr, "--quiet"])
    bounded = peak_rss_mib([BLOCKWISE, "corr", pa, pb, "-o", pr, "--memory", "64M", "--quiet"])
    r64 = tifffile.imread(pr)
    whole = peak_rss_mib([BLOCKWISE, "corr", pa, pb, "-o", pr, "--memory", "1G", "--quiet"])
    print(f"peak RSS: baseline {baseline:.0f} MiB, --memory 64M {bounded:.0f} MiB, --memory 1G {whole:.0f} MiB")
    assert bounded <= 64 + baseline, (bounded, baseline)
    # The budget is what bounds it: with room for everything the pair is read whole.
    assert whole > 256 > bounded, (whole, bounded)
    assert np.array_equal(r64, tifffile.imread(pr), equal_nan=True), "streamed pieces changed the map"


def nlm_reference(v, patch, search, sigma, h):
    """Non-local means as the core documents it, one shift at a time in
    float64: weight exp(-max(d2 - 2 sigma^2, 0) / h^2), d2 the mean squared
    difference over the patch offsets inside the image for both pixels,
    search windows clipped to the image."""
    v = v.astype(np.float64)
    nd = v.ndim
    num = np.zeros_like(v)
    den = np.zeros_like(v)

    def shifted(a, s, fill):
        """out[x] = a[x + s], fill where x + s is outside."""
        out = np.full_like(a, fill)
        dst = tuple(slice(max(-k, 0), n - max(k, 0)) for k, n in zip(s, a.shape))
        src = tuple(slice(max(k, 0), n - max(-k, 0)) for k, n in zip(s, a.shape))
        out[dst] = a[src]
        return out

    inside = np.ones(v.shape, dtype=bool)
    for s in np.ndindex(*[2 * r + 1 for r in search]):
        s = tuple(k - r for k, r in zip(s, search))
        other = shifted(v, s, 0.0)
        ok = shifted(inside, s, False)
        d = np.where(ok, (v - other) ** 2, 0.0)
        total = np.zeros_like(v)
        count = np.zeros_like(v)
        for q in np.ndindex(*[2 * r + 1 for r in patch]):
            q = tuple(k - r for k, r in zip(q, patch))
            total += shifted(d, q, 0.0)
            count += shifted(ok.astype(np.float64), q, 0.0)
        d2 = total / np.maximum(count, 1)
        w = np.exp(-np.maximum(d2 - 2 * sigma * sigma, 0) / (h * h))
        w = np.where(ok, w, 0.0)
        num += w * other
        den += w
    return num / den


def test_denoise(tmp):
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:410, 0:520]
    clean = 1000 + 400 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    noisy = np.round(clean + rng.normal(0, 30, clean.shape)).astype(np.uint16)
    pin, pout, pwhole = (os.path.join(tmp, n) for n in ("in.tif", "out.tif", "whole.tif"))
    tifffile.imwrite(pin, noisy, compression="zlib")
    # Streamed in many pieces (a tiny budget) and whole: the same bits.
    p = run("denoise", pin, "-o", pout, "--sigma", "30", "--patch", "1", "--search", "3", "--memory", "1M")
    assert "denoised:" in p.stdout, p.stdout
    run("denoise", pin, "-o", pwhole, "--sigma", "30", "--patch", "1", "--search", "3", "--memory", "1G")
    got, whole = tifffile.imread(pout), tifffile.imread(pwhole)
    assert got.dtype == np.float32 and got.shape == noisy.shape, (got.dtype, got.shape)
    assert np.array_equal(got, whole), "streamed result differs from the whole image's"
    ref = nlm_reference(noisy, (1, 1), (3, 3), 30.0, 0.8 * 30.0)
    rel = np.max(np.abs(got - ref) / np.abs(ref))
    assert rel < 1e-5, rel
    assert np.mean((got - clean) ** 2) < 0.5 * np.mean((noisy - clean) ** 2), "no denoising"

    # 3-D float32, anisotropic radii, h given; Z chunked by the budget.
    vol = (clean[None, :60, :80] + rng.normal(0, 30, (24, 60, 80))).astype(np.float32)
    pv, pvo = os.path.join(tmp, "v.tif"), os.path.join(tmp, "vo.tif")
    tifffile.imwrite(pv, vol, imagej=True)
    run("denoise", pv, "-o", pvo, "--sigma", "25", "--h", "40", "--patch", "1,1,2", "--search", "1,2,3",
        "--memory", "1M", "--compression", "deflate")
    got = tifffile.imread(pvo)
    ref = nlm_reference(vol, (1, 1, 2), (1, 2, 3), 25.0, 40.0)
    assert got.shape == vol.shape and np.max(np.abs(got - ref) / np.abs(ref)) < 1e-5

    # A pipeline step gives the subcommand's bits.
    pp = write_pipeline(tmp, json.dumps({"steps": [
        {"name": "in", "op": "read", "path": "in.tif"},
        {"name": "clean", "op": "denoise", "input": "in", "sigma": 30, "patch": 1, "search": [3, 3]},
        {"name": "save", "op": "write", "input": "clean", "path": "piped.tif"}]}))
    run("run", pp, "--memory", "1M", "--quiet")
    assert np.array_equal(tifffile.imread(os.path.join(tmp, "piped.tif")), whole)

    # Poisson-Gaussian: streamed equals whole, and it denoises.
    counts = rng.poisson(clean / 40.0)
    fluo = np.round(2.0 * counts + 100 + rng.normal(0, 3, clean.shape)).astype(np.uint16)
    pf = os.path.join(tmp, "f.tif")
    tifffile.imwrite(pf, fluo)
    args = ["--noise", "poisson-gaussian", "--gain", "2", "--offset", "100", "--read-sigma", "3", "--search", "4"]
    run("denoise", pf, "-o", os.path.join(tmp, "f1.tif"), *args, "--memory", "1M")
    run("denoise", pf, "-o", os.path.join(tmp, "f2.tif"), *args)
    f1, f2 = tifffile.imread(os.path.join(tmp, "f1.tif")), tifffile.imread(os.path.join(tmp, "f2.tif"))
    assert np.array_equal(f1, f2)
    truth = 2.0 * clean / 40.0 + 100
    assert np.mean((f1 - truth) ** 2) < 0.5 * np.mean((fluo - truth) ** 2), "no denoising"

    # Usage errors: one line, status 2, nothing written.
    out = os.path.join(tmp, "bad.tif")
    expect_failure(["denoise", pin, "-o", out], 2, "needs --sigma", tmp)
    expect_failure(["denoise", pin, "-o", out, "--sigma", "-1"], 2, "sigma must be", tmp)
    expect_failure(["denoise", pin, "-o", out, "--sigma", "5", "--search", "1,2,3"], 2,
                   "search radius needs 1 value or 2", tmp)
    expect_failure(["denoise", pin, "-o", out, "--sigma", "5", "--noise", "speckle"], 2,
                   "unknown noise model 'speckle'", tmp)
    expect_failure(["denoise", pin, "-o", out, "--sigma", "5", "--patch", "99"], 2, "patch", tmp)
    expect_failure(["denoise", pin, "-o", out, "--noise", "poisson-gaussian", "--gain", "0"], 2,
                   "gain must be", tmp)


def write_nrrd(path, x, spacing, origin):
    """A NRRD file as 3D Slicer writes one: X fastest, LPS space, raw."""
    kinds = {np.dtype(np.uint16): "uint16", np.dtype(np.float32): "float", np.dtype(np.int16): "int16"}
    dirs = " ".join("(" + ",".join(str(spacing[k] if k == d else 0) for k in range(3)) + ")" for d in range(3))
    header = (f"NRRD0004\ntype: {kinds[x.dtype]}\ndimension: 3\nspace: left-posterior-superior\n"
              f"sizes: {x.shape[2]} {x.shape[1]} {x.shape[0]}\nspace directions: {dirs}\n"
              f"space origin: ({origin[0]},{origin[1]},{origin[2]})\nencoding: raw\nendian: little\n\n")
    with open(path, "wb") as f:
        f.write(header.encode() + x.astype(x.dtype.newbyteorder("<")).tobytes())


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
    a, b = textured_pair((6, 40, 50), np.uint16, 10)
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

    # A wrong flag is a usage error, as for the command.
    p = subprocess.run([os.path.join(folder, "blockwise-corr"), "--frob", "1", i1, i2, out],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "unknown option '--frob'" in p.stderr, p.stderr


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}

if __name__ == "__main__":
    name = sys.argv[5]
    with tempfile.TemporaryDirectory() as tmp:
        TESTS[name](tmp)
    print(f"cli.{name}: ok")
