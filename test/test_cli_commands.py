"""End-to-end tests of the `blockwise` subcommands corr, stats, info,
denoise, localcorr, localstats, shift and deconvolve: maps against the core
and numpy (deconvolution against a scipy Richardson-Lucy),
displacement fields against the shifts made, the pictures, the demo pair.
Command line: see cli_common.py."""
import json
import os
import re
import subprocess

import numpy as np
import tifffile

from cli_common import DEMO_PAIR, core, decode_png, expect_failure, main, run, write_pipeline
from pairs import pair


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


def test_corr(tmp):
    # 2-D uint16, sizes that are not block multiples, several pieces.
    a, b = pair((301, 412), np.uint16, 1)
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
    a3, b3 = pair((13, 40, 50), np.int16, 2)
    tifffile.imwrite(pa, a3)
    tifffile.imwrite(pb, b3)
    for threads in ("1", "2"):
        run("corr", pa, pb, "-o", pr, "--block", "4,16,16", "--threads", threads, "--quiet")
        r = tifffile.imread(pr)
        oracle = core("corr", "4,16,16", "partial", 0, pa, pb, tmp=tmp)
        assert r.shape == (4, 3, 4) and np.array_equal(r, oracle, equal_nan=True)

    # Different element types: compared as float64.
    a2, b2 = pair((120, 90), np.float32, 3)
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


def test_info_spacing(tmp):
    """Spacing in micrometres with where the file states it, or that it
    does not; channel names; hyperstacks refused in one line.  Oracle: the
    file's metadata as tifffile reads it back."""
    a = np.zeros((3, 10, 12), np.uint16)
    ij = os.path.join(tmp, "ij.tif")
    tifffile.imwrite(ij, a, imagej=True, resolution=(1 / 0.25, 1 / 0.25),
                     metadata={"unit": "um", "spacing": 2.0, "axes": "ZYX"})
    with tifffile.TiffFile(ij) as t:
        xn, xd = t.pages[0].tags["XResolution"].value
        assert t.imagej_metadata["unit"] == "um" and t.imagej_metadata["spacing"] == 2.0
    um = xd / xn  # micrometres per pixel
    assert "spacing:     0.25 x 0.25 x 2 um (ImageJ)\n" in run("info", ij).stdout
    info = json.loads(run("info", ij, "--json").stdout)
    assert (info["spacing_stated"], info["spacing_unit"], info["spacing_source"]) == (True, "mm", "ImageJ")
    assert np.allclose(info["spacing"], [2e-3, um * 1e-3, um * 1e-3], rtol=1e-6), info["spacing"]

    plain = os.path.join(tmp, "plain.tif")
    tifffile.imwrite(plain, a[0])
    with tifffile.TiffFile(plain) as t:
        assert int(t.pages[0].tags["ResolutionUnit"].value) == 1  # none
    assert "spacing:     not stated in the file (1 pixel)\n" in run("info", plain).stdout
    info = json.loads(run("info", plain, "--json").stdout)
    assert (info["spacing_stated"], info["spacing_unit"], info["spacing_source"], info["spacing"]) == \
        (False, None, "none", [1.0, 1.0]), info

    mm = os.path.join(tmp, "mm.tif")
    tifffile.imwrite(mm, a[0], resolution=(0.5, 0.5), resolutionunit="CENTIMETER")
    assert "spacing:     20 x 20 mm (resolution tags)\n" in run("info", mm).stdout

    ome = os.path.join(tmp, "ome.tif")
    chans = "".join(f'<Channel SamplesPerPixel="1" Name="{n}"/>' for n in ("DAPI", "GFP", "Cy5"))
    tifffile.imwrite(ome, np.zeros((10, 12, 3), np.uint8), photometric="minisblack", planarconfig="contig",
                     metadata=None, description=(
                         '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image><Pixels '
                         'SizeX="12" SizeY="10" SizeC="3" SizeZ="1" SizeT="1" PhysicalSizeX="0.5" '
                         f'PhysicalSizeY="0.5">{chans}</Pixels></Image></OME>').encode())
    text = run("info", ome).stdout
    assert "names:       DAPI, GFP, Cy5\n" in text and "spacing:     0.5 x 0.5 um (OME-XML)\n" in text, text
    assert json.loads(run("info", ome, "--json").stdout)["channel_names"] == ["DAPI", "GFP", "Cy5"]

    hyper = os.path.join(tmp, "hyper.tif")
    tifffile.imwrite(hyper, np.zeros((3, 5, 8, 9), np.uint8), ome=True, metadata={"axes": "CZYX"})
    expect_failure(["info", hyper], 1, "OME-TIFF hyperstack of 3 channels x 5 slices: channels stored as pages",
                   tmp)


def colour(v, lo=-1.0, hi=1.0):
    """The documented colour scale: five stops, linear between them."""
    if np.isnan(v):
        return (150, 150, 150)
    stops = np.array([(30, 80, 160), (110, 165, 215), (248, 248, 248), (235, 135, 100), (170, 20, 40)], float)
    t = min(1.0, max(0.0, (v - lo) / (hi - lo))) * 4
    i = min(3, int(t))
    return tuple(int(np.floor(c + 0.5)) for c in stops[i] + (stops[i + 1] - stops[i]) * (t - i))


def test_heatmap(tmp):
    a, b = pair((200, 150), np.uint16, 6)
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


def nlm_reference(v, patch, search, sigma, h):
    """Non-local means as the core documents it, one shift at a time in
    float64: weight exp(-max(d2 - 2 sigma^2, 0) / h^2), d2 the mean squared
    difference over the patch offsets inside the image for both pixels,
    search windows clipped to the image."""
    v = v.astype(np.float64)
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
    # (axes: without them tifffile writes a 3-D array as ImageJ channels.)
    tifffile.imwrite(pv, vol, imagej=True, metadata={"axes": "ZYX"})
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


def local_reference(a, b, radius, step, stat):
    """The statistic of the window of radius @radius around every @step-th
    pixel, clipped to the image: a numpy loop (float64)."""
    out_shape = tuple(-(-n // s) for n, s in zip(a.shape, step))
    out = np.empty(out_shape)
    for k in np.ndindex(*out_shape):
        sl = tuple(slice(max(0, i * s - r), min(n, i * s + r + 1))
                   for i, s, r, n in zip(k, step, radius, a.shape))
        x = a[sl].astype(np.float64).ravel()
        if stat == "mean":
            out[k] = x.mean()
        elif stat == "std":
            out[k] = x.std()
        else:
            y = b[sl].astype(np.float64).ravel()
            x, y = x - x.mean(), y - y.mean()
            d = np.sqrt((x * x).sum() * (y * y).sum())
            out[k] = (x * y).sum() / d if d > 0 else np.nan
    return out


def test_local(tmp):
    # localcorr: 2-D int16 pair, anisotropic radius, against the loop; the
    # same bits streamed in small pieces; the picture.
    rng = np.random.default_rng(5)
    a, b = pair((53, 71), np.uint16, 3)
    a, b = a.astype(np.int16) // 2, b.astype(np.int16) // 2
    a[:12, :12] = 7  # constant windows: NaN
    b[:12, :12] = 9
    pa, pb = os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif")
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b, tile=(16, 16), compression="zlib")
    r1, r2, png = (os.path.join(tmp, n) for n in ("r1.tif", "r2.tif", "r.png"))
    p = run("localcorr", pa, pb, "-o", r1, "--radius", "2,4", "--type", "f64", "--png", png)
    assert "local corr" in p.stdout, p.stdout
    got = tifffile.imread(r1)
    want = local_reference(a, b, (2, 4), (1, 1), "corr")
    assert got.shape == a.shape and got.dtype == np.float64
    assert np.allclose(got, want, rtol=0, atol=1e-9, equal_nan=True), np.nanmax(abs(got - want))
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.nanmax(np.abs(got)) <= 1
    run("localcorr", pa, pb, "-o", r2, "--radius", "2,4", "--type", "f64", "--memory", "1M", "--threads", "3")
    assert np.array_equal(tifffile.imread(r2), got, equal_nan=True), "streamed in pieces: other bits"
    rgb = decode_png(png)
    assert rgb.shape[:2][0] >= a.shape[0] and rgb.shape[2] == 3, rgb.shape

    # localstats: mean and std with a step, 2-D and 3-D.
    v = rng.integers(0, 4000, size=(9, 31, 27)).astype(np.uint16)
    pv = os.path.join(tmp, "v.tif")
    tifffile.imwrite(pv, v, imagej=True, metadata={"axes": "ZYX"})
    for stat in ("mean", "std"):
        out = os.path.join(tmp, f"{stat}.tif")
        run("localstats", pv, "-o", out, "--stat", stat, "--radius", "1,3,2", "--step", "2,3,1",
            "--type", "f64", "--memory", "1M")
        got = tifffile.imread(out)
        want = local_reference(v, None, (1, 3, 2), (2, 3, 1), stat)
        assert got.shape == want.shape, (got.shape, want.shape)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-9), (stat, np.abs(got - want).max())

    # A pipeline file: local r of the luminance of an RGB pair.
    ca = rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8)
    cb = np.clip(ca.astype(int) + rng.integers(-20, 20, size=ca.shape), 0, 255).astype(np.uint8)
    pca, pcb = os.path.join(tmp, "ca.tif"), os.path.join(tmp, "cb.tif")
    tifffile.imwrite(pca, ca, photometric="rgb")
    tifffile.imwrite(pcb, cb, photometric="rgb")
    steps = [{"name": "a", "op": "read", "path": pca}, {"name": "b", "op": "read", "path": pcb},
             {"name": "la", "op": "channel", "input": "a"}, {"name": "lb", "op": "channel", "input": "b"},
             {"name": "r", "op": "local", "inputs": ["la", "lb"], "radius": 3, "type": "f64"},
             {"name": "w", "op": "write", "input": "r", "path": os.path.join(tmp, "lr.tif")}]
    run("run", write_pipeline(tmp, json.dumps({"steps": steps})))
    w = np.array([0.2125, 0.7154, 0.0721])
    want = local_reference(ca.astype(np.float64) @ w, cb.astype(np.float64) @ w, (3, 3), (1, 1), "corr")
    got = tifffile.imread(os.path.join(tmp, "lr.tif"))
    assert np.allclose(got, want, rtol=0, atol=1e-6, equal_nan=True), np.nanmax(abs(got - want))

    # Usage errors: one line, status 2, nothing written.
    bad = os.path.join(tmp, "bad.tif")
    expect_failure(["localstats", pa, "-o", bad], 2, "needs --stat", tmp)
    expect_failure(["localstats", pa, "-o", bad, "--stat", "corr"], 2, "unknown local statistic", tmp)
    expect_failure(["localstats", pa, "-o", bad, "--stat", "max"], 2, "unknown local statistic", tmp)
    expect_failure(["localcorr", pa, pb, "-o", bad, "--radius", "1,2,3"], 2, "radius needs 1 value or 2", tmp)
    expect_failure(["localcorr", pa, pb, "-o", bad, "--step", "0"], 2, "step", tmp)
    expect_failure(["localcorr", pa, pv, "-o", bad], 1, "different sizes", tmp)


def smooth_texture(shape, seed):
    """Noise low-passed by a Gaussian in Fourier space: structure at every
    position, as the displacement search needs, with no flat block."""
    rng = np.random.default_rng(seed)
    f = np.fft.fftn(rng.normal(size=shape))
    k = np.meshgrid(*[np.fft.fftfreq(n) for n in shape], indexing="ij")
    f *= np.exp(-sum(x * x for x in k) / (2 * 0.08 ** 2))
    t = np.real(np.fft.ifftn(f))
    return ((t - t.min()) / (t.max() - t.min()) * 60000).astype(np.uint16)


def test_shift(tmp):
    # B is A with the square [96, 288) x [128, 320) moved by d = (dy, dx) =
    # (3, -5): B(x) = A(x - d) there, B = A elsewhere.  Blocks whose search
    # sees one side only match exactly at d or at 0.
    a = smooth_texture((320, 384), 7)
    d = (3, -5)
    b = a.copy()
    moved = np.roll(np.roll(a, d[0], axis=0), d[1], axis=1)
    b[96:288, 128:320] = moved[96:288, 128:320]
    pa, pb, pd = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "d.tif"))
    # 0.5 um pixels
    tifffile.imwrite(pa, a, resolution=(20000, 20000), resolutionunit="CENTIMETER")
    tifffile.imwrite(pb, b, resolution=(20000, 20000), resolutionunit="CENTIMETER", tile=(64, 64),
                     compression="zlib")
    block, search = 32, 8
    png = os.path.join(tmp, "d.png")
    summary = json.loads(run("shift", pa, pb, "-o", pd, "--block", block, "--search", search, "--png", png,
                             "--json").stdout)
    field = tifffile.imread(pd)
    assert field.shape == (10, 12, 2) and field.dtype == np.float32, (field.shape, field.dtype)
    with tifffile.TiffFile(pd) as t:
        assert t.pages[0].samplesperpixel == 2 and t.pages[0].photometric == 1  # MinIsBlack
    px = field.astype(np.float64) / 0.0005  # mm back to pixels; components x first
    inside, outside = 0, 0
    for (i, j), sl in blocks_of(a, (block, block)):
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        # the block and every window the search reads, inside the square or
        # outside it
        if 96 + search <= y0 and y1 <= 288 - search and 128 + search <= x0 and x1 <= 320 - search:
            want, inside = (d[1], d[0]), inside + 1
        elif y1 + search <= 96 or y0 - search >= 288 or x1 + search <= 128 or x0 - search >= 320:
            want, outside = (0, 0), outside + 1
        else:
            continue
        assert np.allclose(px[i, j], want, rtol=0, atol=1e-3), ((i, j), px[i, j], want)
    assert inside >= 6 and outside >= 20, (inside, outside)

    # The summary: numbers of the field as numpy computes them; r at zero
    # shift as the block correlation of the pair.
    length = np.hypot(px[..., 0], px[..., 1]).ravel()
    assert summary["blocks"] == 120 and summary["undefined_blocks"] == 0, summary
    assert abs(summary["median_px"] - np.median(length)) < 1e-3, (summary["median_px"], np.median(length))
    assert abs(summary["p95_px"] - np.percentile(length, 95)) < 1e-3, (summary["p95_px"], np.percentile(length, 95))
    assert abs(summary["p95_um"] - 0.5 * np.percentile(length, 95)) < 1e-3, summary
    assert abs(summary["fraction_moved"] - np.mean(length >= 0.5)) < 1e-9, summary
    assert summary["median_shift_px"]["dx"] == 0 and summary["spacing_stated"] is True, summary
    zero_r = corr_reference(a, b, (block, block))
    assert abs(summary["median_r_zero_shift"] - np.median(zero_r)) < 1e-5, (summary, np.median(zero_r))
    assert summary["median_r_best_shift"] > 0.999, summary
    moved_r = np.median(zero_r.ravel()[length >= 0.5])
    assert abs(summary["moved_median_r_zero_shift"] - moved_r) < 1e-5, (summary, moved_r)
    assert moved_r < 0.9 and summary["moved_median_r_best_shift"] > 0.999, summary

    # corr --shift-search adds the same summary to the main job, whose own
    # numbers do not change.
    both = json.loads(run("corr", pa, pb, "-o", os.path.join(tmp, "r.tif"), "--shift-search", search,
                          "--shift-block", block, "--json").stdout)
    alone = json.loads(run("corr", pa, pb, "-o", os.path.join(tmp, "r.tif"), "--json").stdout)
    assert both.pop("shift") == {k: v for k, v in summary.items() if k not in ("field", "png", "grid")}, both
    assert both == alone, (both, alone)
    p = run("corr", pa, pb, "-o", os.path.join(tmp, "r.tif"), "--shift-search", search, "--shift-block", block)
    assert "displacement, 32 x 32 blocks, search 8 x 8 px:" in p.stdout and "at the best shift" in p.stdout, p.stdout
    expect_failure(["corr", pa, pb, "-o", os.path.join(tmp, "bad.tif"), "--shift-block", "8"], 2,
                   "--shift-block goes with --shift-search", tmp)

    # With noise in B the lengths spread: the percentiles are numpy's still.
    noisy = np.clip(b + np.random.default_rng(1).normal(0, 3000, b.shape), 0, 65535).astype(np.uint16)
    pn = os.path.join(tmp, "noisy.tif")
    tifffile.imwrite(pn, noisy)
    s2 = json.loads(run("shift", pa, pn, "-o", os.path.join(tmp, "dn.tif"), "--block", block,
                        "--search", search, "--json").stdout)
    fn = tifffile.imread(os.path.join(tmp, "dn.tif")).astype(np.float64) / 0.0005
    ln = np.hypot(fn[..., 0], fn[..., 1]).ravel()
    assert len(np.unique(np.round(ln, 3))) > 50, "lengths do not spread"
    for key, q in (("median_px", 50), ("p95_px", 95)):
        assert abs(s2[key] - np.percentile(ln, q)) < 1e-3, (key, s2[key], np.percentile(ln, q))
    assert abs(s2["median_shift_px"]["dy"] - np.median(fn[..., 1])) < 1e-3, s2

    # The picture: A's thumbnail, grey where B is A, tinted where it moved,
    # with the hue of d's direction (atan2(dy, dx), 149 degrees) on the wheel.
    import colorsys
    rgb = decode_png(png).astype(np.float64)
    scale = rgb.shape[0] // 10  # pixels per block
    assert rgb.shape[0] == 10 * scale and rgb.shape[1] > 12 * scale, rgb.shape
    def centre(i, j):
        return rgb[i * scale + scale // 4, j * scale + scale // 4] / 255  # off the arrows
    grey = centre(0, 0)
    assert np.ptp(grey) < 0.02, grey
    tint = centre(5, 6)
    h, _, sat = colorsys.rgb_to_hls(*tint)
    assert sat > 0.2 and abs(h * 360 - 149) < 15, (tint, h * 360)

    # The plain summary, in micrometres; streamed in small pieces on three
    # threads, the same bits; a NRRD vector image.
    p = run("shift", pa, pb, "-o", pd, "--block", block, "--search", search)
    assert "(0.5 px or more)" not in p.stdout and "um)" in p.stdout and "at the best shift" in p.stdout, p.stdout
    pd2 = os.path.join(tmp, "d2.tif")
    run("shift", pa, pb, "-o", pd2, "--block", block, "--search", search, "--memory", "1M", "--threads", "3",
        "--quiet")
    assert np.array_equal(tifffile.imread(pd2), field), "streamed in pieces: other bits"
    nrrd = os.path.join(tmp, "d.nrrd")
    run("shift", pa, pb, "-o", nrrd, "--block", block, "--search", search, "--quiet")
    with open(nrrd, "rb") as f:
        header = f.read(400).split(b"\n\n")[0].decode()
    assert "sizes: 2 12 10" in header and "vector" in header, header

    # No pixel size in the files: shifts in pixels.  3-D: dz too.
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b)
    pdp = os.path.join(tmp, "dp.tif")
    p = run("shift", pa, pb, "-o", pdp, "--block", block, "--search", search)
    assert "in pixels" in p.stdout and "state no pixel size" in p.stdout, p.stdout
    assert np.allclose(tifffile.imread(pdp), px, rtol=0, atol=1e-4), "in pixels"
    v = smooth_texture((12, 64, 64), 3)
    w = np.roll(v, (1, 2, -1), axis=(0, 1, 2))
    tifffile.imwrite(pa, v, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(pb, w, imagej=True, metadata={"axes": "ZYX"})
    run("shift", pa, pb, "-o", pd, "--block", "4,16,16", "--search", "2,3,3", "--quiet")
    f3 = tifffile.imread(pd)
    assert f3.shape == (3, 4, 4, 3), f3.shape  # (z, y, x, components dx dy dz)
    assert np.allclose(f3[1, 1:3, 1:3], (-1, 2, 1), atol=1e-3), f3[1, 1:3, 1:3]

    # Pipelines: the shift op, its field written, drawn and summarised.
    tifffile.imwrite(pa, a)
    tifffile.imwrite(pb, b)
    steps = [{"name": "a", "op": "read", "path": pa}, {"name": "b", "op": "read", "path": pb},
             {"name": "s", "op": "shift", "inputs": ["a", "b"], "block": block, "search": search},
             {"name": "w", "op": "write", "input": "s", "path": os.path.join(tmp, "p.tif")},
             {"name": "t", "op": "stats", "input": "a", "stat": "mean", "block": 8},
             {"name": "h", "op": "heatmap", "inputs": ["s", "t"], "path": os.path.join(tmp, "p.png")},
             {"name": "n", "op": "summary", "input": "s"}]
    p = run("run", write_pipeline(tmp, json.dumps({"steps": steps})))
    assert np.array_equal(tifffile.imread(os.path.join(tmp, "p.tif")), tifffile.imread(pdp)), "pipeline's field"
    assert "n: 120 blocks (0 without a shift)" in p.stdout, p.stdout
    assert decode_png(os.path.join(tmp, "p.png")).shape[0] >= 100

    # Mistakes: one line, nothing written.
    bad = os.path.join(tmp, "bad.tif")
    expect_failure(["shift", pa, pb, "-o", bad, "--search", "300"], 2, "search", tmp)
    expect_failure(["shift", pa, pb, "-o", bad, "--block", "0"], 2, "block", tmp)
    expect_failure(["shift", pa, pb, "-o", bad, "--search", "1,2,3"], 2, "search needs 1 value or 2", tmp)
    expect_failure(["shift", pa, pb], 2, "needs -o", tmp)
    tifffile.imwrite(os.path.join(tmp, "small.tif"), a[:100])
    expect_failure(["shift", pa, os.path.join(tmp, "small.tif"), "-o", bad], 1, "different sizes", tmp)
    steps[4] = {"name": "t", "op": "stats", "input": "s", "stat": "mean"}
    expect_failure(["run", write_pipeline(tmp, json.dumps({"steps": steps}), "bad.json")], 2,
                   "is a displacement field", tmp)
    steps[4] = {"name": "t", "op": "stats", "input": "a", "stat": "mean", "block": 8, "edge": "trim"}
    expect_failure(["run", write_pipeline(tmp, json.dumps({"steps": steps}), "bad.json")], 2,
                   "the map under a displacement field", tmp)


def rl_reference(g, h, iterations, epsilon=1e-6):
    """Richardson-Lucy with the non-circulant boundary in float64 with
    scipy: the object on the image grown by the PSF (first estimate: the
    nearest image pixel), B f as the 'valid' convolution, B^T as the 'full'
    correlation, normalised by B^T of the image's support."""
    from scipy.signal import fftconvolve
    g = g.astype(np.float64)
    h = h.astype(np.float64) / h.sum()
    grids = np.meshgrid(*[np.arange(n) for n in h.shape], indexing="ij")
    c = [int(np.floor((h * x).sum() + 0.5)) for x in grids]
    lo = [m - 1 - ci for m, ci in zip(h.shape, c)]
    hi = [ci for ci in c]
    f = np.pad(g, list(zip(lo, hi)), mode="edge")
    norm = fftconvolve(np.ones(g.shape), h[(slice(None, None, -1),) * h.ndim], "full")
    seen = norm > 1e-3
    f[~seen] = 0
    guard = epsilon * np.abs(g).max()
    for _ in range(iterations):
        b = fftconvolve(f, h, "valid")
        ratio = np.where(b > guard, g / np.where(b > guard, b, 1), 0)
        t = fftconvolve(ratio, h[(slice(None, None, -1),) * h.ndim], "full")
        f = np.where(seen, f * np.clip(t, 0, None) / np.where(seen, norm, 1), 0)
    return f[tuple(slice(a, a + n) for a, n in zip(lo, g.shape))]


def test_deconvolve(tmp):
    # A bead volume blurred by an elongated PSF off its grid's centre, with
    # Poisson noise; uint16 in, float32 PSF.  Against the scipy reference;
    # streamed (a budget too small for one piece) with the exact halo, the
    # same; with a small halo, close but not the same; a pipeline file.
    rng = np.random.default_rng(6)
    from scipy.signal import fftconvolve
    truth = 5 + 400 * (rng.random((14, 48, 40)) < 0.02)
    grids = np.meshgrid(*[np.arange(n) - k for n, k in ((5, 2.3), (7, 3.4), (9, 3.6))], indexing="ij")
    psf = np.exp(-(grids[0] ** 2 / 3 + grids[1] ** 2 / 2.5 + grids[2] ** 2 / 4)).astype(np.float32)
    blurred = np.clip(fftconvolve(truth, psf / psf.sum(), mode="same"), 0, None)
    img = (rng.poisson(blurred * 4) / 4).astype(np.uint16)
    pv, pp, out = (os.path.join(tmp, n) for n in ("v.tif", "psf.tif", "d.tif"))
    tifffile.imwrite(pv, img, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(pp, psf, imagej=True, metadata={"axes": "ZYX"})
    p = run("deconvolve", pv, "--psf", pp, "-o", out, "--iterations", 6)
    assert "deconvolved: " + out in p.stdout and "6 iterations" in p.stdout, p.stdout
    got = tifffile.imread(out)
    assert got.shape == img.shape and got.dtype == np.float32, (got.shape, got.dtype)
    want = rl_reference(img, psf, 6)
    err = np.abs(got - want).max() / want.max()
    assert err < 1e-4, f"relative error {err} against the scipy reference"
    assert got.min() >= 0

    # Pieces: the exact halo reaches over this volume, so it stays one
    # piece under any budget; a set halo streams in pieces.
    streamed, small = os.path.join(tmp, "s.tif"), os.path.join(tmp, "h.tif")
    p = run("deconvolve", pv, "--psf", pp, "-o", streamed, "--iterations", 6, "--memory", "1M",
            "--halo", "exact")
    assert "in 1 piece, halo 24,36,48 px (Z,Y,X; exact)" in p.stdout, p.stdout
    assert np.array_equal(tifffile.imread(streamed), got), "one piece: the same bits"
    p = run("deconvolve", pv, "--psf", pp, "-o", small, "--iterations", 6, "--memory", "1M", "--halo", "2,3,4")
    assert "halo 2,3,4 px (Z,Y,X; set)" in p.stdout and " 1 piece" not in p.stdout, p.stdout
    piece_err = np.abs(tifffile.imread(small) - got).max() / got.max()
    assert 1e-4 < piece_err < 0.2, f"a small halo: relative error {piece_err}"

    # The default halo on a volume that streams: within 1e-3 of the whole
    # volume's largest value.
    big = 5 + 400 * (rng.random((48, 96, 80)) < 0.01)
    big_img = (rng.poisson(np.clip(fftconvolve(big, psf / psf.sum(), mode="same"), 0, None) * 4) / 4)
    pb, whole, parts = (os.path.join(tmp, n) for n in ("big.tif", "whole.tif", "parts.tif"))
    tifffile.imwrite(pb, big_img.astype(np.uint16), imagej=True, metadata={"axes": "ZYX"})
    p = run("deconvolve", pb, "--psf", pp, "-o", whole, "--iterations", 12)
    assert "in 1 piece, halo 14,14,17 px (Z,Y,X; auto)" in p.stdout, p.stdout
    p = run("deconvolve", pb, "--psf", pp, "-o", parts, "--iterations", 12, "--memory", "3M")
    assert "halo 14,14,17 px (Z,Y,X; auto)" in p.stdout and " 1 piece" not in p.stdout, p.stdout
    w = tifffile.imread(whole)
    auto_err = np.abs(tifffile.imread(parts) - w).max() / w.max()
    assert auto_err < 1e-3, f"the default halo: relative error {auto_err}"

    # Total variation: the library's regularised result (python.deconv
    # checks it against numpy), smoother than the plain one; the pipeline
    # key gives the same bits.
    ptv = os.path.join(tmp, "tv.tif")
    p = run("deconvolve", pv, "--psf", pp, "-o", ptv, "--iterations", 6, "--tv", "0.02")
    assert "total variation 0.02" in p.stdout, p.stdout
    smooth = tifffile.imread(ptv)
    tv_of = lambda a: np.abs(np.diff(a, axis=2)).sum()
    assert tv_of(smooth) < 0.95 * tv_of(got), (tv_of(smooth), tv_of(got))
    steps_tv = [{"name": "v", "op": "read", "path": pv}, {"name": "p", "op": "read", "path": pp},
                {"name": "d", "op": "deconvolve", "inputs": ["v", "p"], "iterations": 6, "tv": 0.02},
                {"name": "w", "op": "write", "input": "d", "path": os.path.join(tmp, "ptv.tif")}]
    p = run("run", write_pipeline(tmp, json.dumps({"steps": steps_tv})), "--dry-run")
    assert "total variation 0.02" in p.stdout, p.stdout
    run("run", write_pipeline(tmp, json.dumps({"steps": steps_tv})))
    assert np.array_equal(tifffile.imread(os.path.join(tmp, "ptv.tif")), smooth)

    # Accelerated and periodic run; the pipeline op gives the command's bits.
    run("deconvolve", pv, "--psf", pp, "-o", os.path.join(tmp, "a.tif"), "--iterations", 3, "--accelerate",
        "--boundary", "periodic", "--quiet")
    steps = [{"name": "v", "op": "read", "path": pv}, {"name": "p", "op": "read", "path": pp},
             {"name": "d", "op": "deconvolve", "inputs": ["v", "p"], "iterations": 3, "accelerate": True,
              "boundary": "periodic"},
             {"name": "w", "op": "write", "input": "d", "path": os.path.join(tmp, "pa.tif")}]
    p = run("run", write_pipeline(tmp, json.dumps({"steps": steps})), "--dry-run")
    assert "Richardson-Lucy of v, p, 3 iterations (accelerated), periodic" in p.stdout, p.stdout
    run("run", write_pipeline(tmp, json.dumps({"steps": steps})))
    assert np.array_equal(tifffile.imread(os.path.join(tmp, "pa.tif")), tifffile.imread(os.path.join(tmp, "a.tif")))

    # Mistakes: one line, nothing written.
    bad = os.path.join(tmp, "bad.tif")
    expect_failure(["deconvolve", pv, "-o", bad], 2, "needs --psf", tmp)
    expect_failure(["deconvolve", pv, "--psf", pp, "-o", bad, "--boundary", "wrap"], 2, "unknown boundary", tmp)
    expect_failure(["deconvolve", pv, "--psf", pp, "-o", bad, "--iterations", "-1"], 2, "--iterations", tmp)
    expect_failure(["deconvolve", pv, "--psf", pp, "-o", bad, "--halo", "1,2"], 2, "halo needs 1 value or 3", tmp)
    expect_failure(["deconvolve", pv, "--psf", pp, "-o", bad, "--tv", "-1"], 2, "total-variation weight", tmp)
    expect_failure(["deconvolve", pv, "--psf", pp, "-o", bad, "--halo", "nearest"], 2, "unknown halo", tmp)
    expect_failure(["deconvolve", pp, "--psf", pv, "-o", bad], 1, "larger than the image", tmp)
    flat = os.path.join(tmp, "zero.tif")
    tifffile.imwrite(flat, np.zeros((3, 3, 3), np.float32), imagej=True, metadata={"axes": "ZYX"})
    expect_failure(["deconvolve", pv, "--psf", flat, "-o", bad], 1, "all zero", tmp)


if __name__ == "__main__":
    main(globals())
