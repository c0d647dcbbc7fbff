#!/usr/bin/python3
"""The `blockwise` command on RGB slides and multichannel images: one
channel of each input (luminance by default for RGB), against
scikit-image's rgb2gray and rgb2hed computed here on the pixels tifffile
and PIL decode, then the C core (core_tool) on the grey images they give.
"""
import json
import os
import subprocess

import numpy as np
import tifffile
from PIL import Image
from skimage.color import rgb2gray, rgb2hed

from cli_common import BLOCKWISE, core, expect_failure, main, run, write_pipeline
from pairs import pair


def rgb_pair(shape, seed):
    """Two RGB images of one textured scene with independent noise."""
    a, b = pair(shape, np.uint16, seed=seed)
    rgb = []
    for x in (a, b):
        x = (x.astype(np.float64) - x.min()) / (np.ptp(x) + 1)
        rgb.append(np.clip(np.stack([x * 200 + 30, 255 - x * 150, x * 90 + 100], -1), 0, 255).astype(np.uint8))
    return rgb


def grey_file(tmp, name, x):
    path = os.path.join(tmp, name)
    tifffile.imwrite(path, np.ascontiguousarray(x, np.float32), photometric="minisblack")
    return path


def test_rgb_corr(tmp):
    a, b = rgb_pair((150, 170), 3)
    pa, pb = os.path.join(tmp, "a.tif"), os.path.join(tmp, "b.tif")
    tifffile.imwrite(pa, a, photometric="rgb", tile=(64, 64), compression="zlib")
    tifffile.imwrite(pb, np.moveaxis(b, -1, 0), photometric="rgb", planarconfig="separate")
    # Luminance by default: rgb2gray on [0, 1], in the input's units.
    run("corr", pa, pb, "-o", os.path.join(tmp, "r.tif"), "--block", "10", "--quiet")
    got = tifffile.imread(os.path.join(tmp, "r.tif"))
    la, lb = (grey_file(tmp, n, rgb2gray(x) * 255) for n, x in (("la.tif", a), ("lb.tif", b)))
    want = core("corr", "10", "partial", 0, la, lb, tmp=tmp)
    np.testing.assert_allclose(got, want, atol=1e-5, err_msg="luminance")
    # Hematoxylin against eosin, a stain of each.
    run("corr", pa, pb, "-o", os.path.join(tmp, "h.tif"), "--channel-a", "hematoxylin", "--channel-b", "eosin",
        "--quiet")
    got = tifffile.imread(os.path.join(tmp, "h.tif"))
    ha, eb = grey_file(tmp, "ha.tif", rgb2hed(a)[..., 0]), grey_file(tmp, "eb.tif", rgb2hed(b)[..., 1])
    want = core("corr", "10", "partial", 0, ha, eb, tmp=tmp)
    np.testing.assert_allclose(got, want, atol=1e-4, err_msg="hematoxylin vs eosin")


def test_jpeg_slide(tmp):
    """A tiled JPEG pyramid written by vips: its pixels as PIL decodes them."""
    a, b = rgb_pair((300, 260), 5)
    png, pa, pb = (os.path.join(tmp, n) for n in ("a.png", "a.tif", "b.tif"))
    Image.fromarray(a).save(png)
    subprocess.run(["vips", "tiffsave", png, pa, "--tile", "--pyramid", "--compression", "jpeg", "--Q", "90"],
                   check=True)
    tifffile.imwrite(pb, b, photometric="rgb")
    p = run("info", pa)
    assert "channels:    RGB" in p.stdout and "compression: jpeg" in p.stdout, p.stdout
    run("stats", pa, "-o", os.path.join(tmp, "m.tif"), "--stat", "mean", "--block", "13", "--quiet")
    with Image.open(pa) as im:
        decoded = np.asarray(im.convert("RGB"))
    want = core("mean", "13", "partial", 0, grey_file(tmp, "l.tif", rgb2gray(decoded) * 255), tmp=tmp)
    np.testing.assert_allclose(tifffile.imread(os.path.join(tmp, "m.tif")), want, rtol=1e-6, atol=1e-4)


def block_reference(x, y, block, stat, trim=False):
    """Per-block corr (of x and y) or mean (of x), float64, by a loop."""
    by, bx = block
    ny, nx = x.shape
    rows = ny // by if trim else -(-ny // by)
    cols = nx // bx if trim else -(-nx // bx)
    out = np.full((rows, cols), np.nan)
    for i in range(rows):
        for j in range(cols):
            u = x[i * by:(i + 1) * by, j * bx:(j + 1) * bx].astype(np.float64).ravel()
            if stat == "mean":
                out[i, j] = u.mean()
                continue
            v = y[i * by:(i + 1) * by, j * bx:(j + 1) * bx].astype(np.float64).ravel()
            du, dv = u - u.mean(), v - v.mean()
            den = np.sqrt((du * du).sum() * (dv * dv).sum())
            out[i, j] = (du * dv).sum() / den if den > 0 else np.nan
    return out


def test_tiled_pass(tmp):
    """A block step over reads of tiled TIFFs that nothing else takes runs
    in one pass over their tiles: its map is bit for bit the one the ITK
    pipeline makes (the same steps with a second consumer of a read), in
    any number of pieces and threads, and near a float64 reference."""
    a, b = rgb_pair((700, 1000), 11)
    pa, pb = os.path.join(tmp, "ta.tif"), os.path.join(tmp, "tb.tif")
    tifffile.imwrite(pa, a, photometric="rgb", tile=(64, 128), compression="zlib")
    tifffile.imwrite(pb, b, photometric="rgb", tile=(64, 128), compression="zlib")
    g = a[..., 1].astype(np.uint16) * 250 + np.arange(1000, dtype=np.uint16)
    pg = os.path.join(tmp, "tg.tif")
    tifffile.imwrite(pg, g, photometric="minisblack", tile=(48, 80))
    # tiles narrower than a block: cells of whole blocks across several tiles
    pn = os.path.join(tmp, "tn.tif")
    tifffile.imwrite(pn, g, photometric="minisblack", tile=(32, 16))
    lum = np.array([0.2125, 0.7154, 0.0721])
    la, lb = a.astype(np.float64) @ lum, b.astype(np.float64) @ lum

    def pipeline(name, files, block, op, extra, second, channel=None):
        """Reads, channel steps, one block step written to NAME.tif; with
        @second, a mean of the first channel step too, which gives its
        read a second consumer."""
        steps = [{"name": f"f{k}", "op": "read", "path": f} for k, f in enumerate(files)]
        steps += [{"name": f"c{k}", "op": "channel", "input": f"f{k}", **({"channel": channel} if channel else {})}
                  for k in range(len(files))]
        steps.append({"name": "m", "op": op, "inputs": [f"c{k}" for k in range(len(files))], "block": block,
                      **extra})
        steps.append({"name": "w", "op": "write", "input": "m", "path": os.path.join(tmp, name + ".tif")})
        if second:
            steps.append({"name": "s", "op": "stats", "inputs": ["c0"], "stat": "max", "block": 5})
            steps.append({"name": "ws", "op": "write", "input": "s", "path": os.path.join(tmp, name + "_s.tif")})
        return write_pipeline(tmp, json.dumps({"steps": steps}), name + ".json")

    cases = [("corr", [pa, pb], [10, 10], {}, None, block_reference(la, lb, (10, 10), "corr")),
             ("corr", [pa, pb], [13, 7], {"edge": "trim"}, None,
              block_reference(la, lb, (13, 7), "corr", trim=True)),
             ("corr", [pa, pb], [64, 128], {}, None, block_reference(la, lb, (64, 128), "corr")),
             ("corr", [pa, pb], [9, 9], {}, "hematoxylin", None),
             ("stats", [pg], [10, 6], {"stat": "mean"}, None, block_reference(g, None, (10, 6), "mean")),
             ("stats", [pn], [10, 40], {"stat": "mean"}, None, block_reference(g, None, (10, 40), "mean"))]
    for n, (op, files, block, extra, channel, want) in enumerate(cases):
        fast = pipeline(f"fast{n}", files, block, op, extra, False, channel)
        slow = pipeline(f"slow{n}", files, block, op, extra, True, channel)
        assert "one pass over the files' tiles" in run("run", fast, "--dry-run").stdout, n
        assert "one pass" not in run("run", slow, "--dry-run").stdout, n
        run("run", slow, "--quiet")
        ref = tifffile.imread(os.path.join(tmp, f"slow{n}.tif"))
        for options in ([], ["--memory", "1M", "--threads", "1"], ["--memory", "2M", "--threads", "3"]):
            run("run", fast, "--quiet", *options)
            got = tifffile.imread(os.path.join(tmp, f"fast{n}.tif"))
            assert got.shape == ref.shape and np.array_equal(got, ref, equal_nan=True), (n, options)
        if want is not None:
            np.testing.assert_allclose(ref, want, atol=2e-5, err_msg=f"case {n}")
    # The command takes the same pass: its map is the pipeline's.
    run("corr", pa, pb, "-o", os.path.join(tmp, "cmd.tif"), "--block", "10", "--quiet")
    assert np.array_equal(tifffile.imread(os.path.join(tmp, "cmd.tif")),
                          tifffile.imread(os.path.join(tmp, "slow0.tif")), equal_nan=True)


def test_levels(tmp):
    """Levels of a pyramid: vips' JPEG pyramid for A, tifffile's SubIFDs for
    B; each level's pixels as PIL and tifffile decode them."""
    a, b = rgb_pair((400, 360), 7)
    png, pa, pb = (os.path.join(tmp, n) for n in ("a.png", "a.tif", "b.tif"))
    Image.fromarray(a).save(png)
    subprocess.run(["vips", "tiffsave", png, pa, "--tile", "--tile-width", "64", "--tile-height", "64",
                    "--pyramid", "--compression", "jpeg", "--Q", "90"], check=True)
    with tifffile.TiffWriter(pb) as w:
        w.write(b, photometric="rgb", subifds=2, tile=(64, 64))
        for k in (1, 2):
            w.write(b[::2 ** k, ::2 ** k], photometric="rgb", subfiletype=1, tile=(32, 32))
    with Image.open(pa) as im:
        sizes = []
        for k in range(im.n_frames):
            im.seek(k)
            sizes.append(im.size)
    p = run("info", pa)
    assert f"levels:      {len(sizes)} (a pyramid" in p.stdout, p.stdout
    for k, (w, h) in enumerate(sizes):
        assert f"{k}: {w} x {h}" in p.stdout, (k, p.stdout)
    # Level 1 of A against level 1 of B.
    out = os.path.join(tmp, "r.tif")
    run("corr", pa, pb, "-o", out, "--level", "1", "--block", "8", "--quiet")
    with Image.open(pa) as im:
        im.seek(1)
        a1 = np.asarray(im.convert("RGB"))
    b1 = b[::2, ::2]
    la, lb = (grey_file(tmp, n, rgb2gray(x) * 255) for n, x in (("la.tif", a1), ("lb.tif", b1)))
    want = core("corr", "8", "partial", 0, la, lb, tmp=tmp)
    np.testing.assert_allclose(tifffile.imread(out), want, atol=1e-5, err_msg="level 1")
    # Levels chosen per input: A's level 2 and B's level 2 have one size.
    run("corr", pa, pb, "-o", out, "--level-a", "2", "--level-b", "2", "--quiet")
    assert tifffile.imread(out).shape == (10, 9)
    expect_failure(["corr", pa, pb, "-o", out, "--level", "1", "--level-b", "0"], 1,
                   "inputs have different sizes", tmp)
    expect_failure(["corr", pa, pb, "-o", out, "--level", "7"], 1,
                   f"level 7 does not exist: the file has levels 0 to {len(sizes) - 1}", tmp)
    expect_failure(["stats", pb, "-o", out, "--stat", "mean", "--level", "x"], 2, "--level", tmp)


def make_slides(tmp):
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(["/usr/bin/python3", os.path.join(here, "make_slides.py"), tmp], check=True)
    return {n: os.path.join(tmp, n) for n in os.listdir(tmp)}


def test_openslide(tmp):
    """An Aperio slide through OpenSlide: its levels and pixels as
    python3-openslide's read_region gives them; broken slides fail cleanly."""
    import openslide
    files = make_slides(tmp)
    svs = files["aperio.svs"]
    with openslide.OpenSlide(svs) as s:
        dims, vendor = s.level_dimensions, s.properties["openslide.vendor"]
        levels = [np.asarray(s.read_region((0, 0), k, d).convert("RGB")) for k, d in enumerate(dims[:2])]
    p = run("info", svs)
    assert f"format:      {vendor} whole slide" in p.stdout, p.stdout
    assert "spacing:     0.499 x 0.499 um" in p.stdout, p.stdout
    for k, (w, h) in enumerate(dims):
        assert f"{k}: {w} x {h}" in p.stdout, (k, p.stdout)
    out = os.path.join(tmp, "m.tif")
    for k, px in enumerate(levels):
        for channel, c in (("r", 0), ("2", 2)):
            run("stats", svs, "-o", out, "--stat", "mean", "--block", "16", "--channel", channel, "--level", str(k),
                "--quiet")
            want = core("mean", "16", "partial", 0, grey_file(tmp, "c.tif", px[..., c]), tmp=tmp)
            np.testing.assert_allclose(tifffile.imread(out), want, rtol=1e-6, err_msg=f"level {k}, channel {channel}")
    info = tifffile.TiffFile(out).pages[0]
    assert abs(info.tags["XResolution"].value[1] / info.tags["XResolution"].value[0] - 0.499e-3 * 2 * 16 / 10) < 1e-9
    # The same tiles through Blockwise's TIFF reader: the same pixels, r = 1.
    run("corr", svs, files["generic.tif"], "-o", out, "--block", "32", "--fill", "1", "--quiet")
    np.testing.assert_allclose(tifffile.imread(out), 1.0, atol=1e-6)
    # --resolution: the level nearest that pixel size (0.499 um x 2 at level 1).
    run("stats", svs, "-o", out, "--stat", "mean", "--block", "16", "--channel", "r", "--resolution", "1um",
        "--quiet")
    want = core("mean", "16", "partial", 0, grey_file(tmp, "c.tif", levels[1][..., 0]), tmp=tmp)
    np.testing.assert_allclose(tifffile.imread(out), want, rtol=1e-6, err_msg="--resolution 1um")
    run("corr", svs, files["generic.tif"], "-o", out, "--resolution-a", "2um", "--level-b", "2", "--fill", "1",
        "--quiet")
    np.testing.assert_allclose(tifffile.imread(out), 1.0, atol=1e-6, err_msg="A at 2 um, B at level 2")
    # The same from a pipeline file: a read step's "resolution" (and "level").
    steps = [{"name": "s", "op": "read", "path": svs, "resolution": "1um"},
             {"name": "r", "op": "channel", "input": "s", "channel": "r"},
             {"name": "m", "op": "stats", "input": "r", "stat": "mean", "block": 16},
             {"name": "w", "op": "write", "input": "m", "path": out}]
    run("run", write_pipeline(tmp, json.dumps({"steps": steps})), "--quiet")
    np.testing.assert_allclose(tifffile.imread(out), want, rtol=1e-6, err_msg="pipeline resolution 1um")
    steps[0] = {"name": "s", "op": "read", "path": svs, "level": 1}
    run("run", write_pipeline(tmp, json.dumps({"steps": steps})), "--quiet")
    np.testing.assert_allclose(tifffile.imread(out), want, rtol=1e-6, err_msg="pipeline level 1")
    os.remove(os.path.join(tmp, "p.json"))
    expect_failure(["stats", svs, "-o", out, "--stat", "mean", "--resolution", "2"], 2, "needs a unit", tmp)
    expect_failure(["stats", svs, "-o", out, "--stat", "mean", "--resolution", "2um", "--level", "1"], 2,
                   "give --level or --resolution, not both", tmp)
    plain = os.path.join(tmp, "plain.tif")
    tifffile.imwrite(plain, levels[1], photometric="rgb")
    expect_failure(["stats", plain, "-o", out, "--stat", "mean", "--resolution", "2um"], 1,
                   "plain.tif states no pixel size", tmp)
    for name, words in (("truncated.svs", "not a slide OpenSlide recognises"),
                        ("bogus.svs", "not a slide OpenSlide recognises"),
                        ("corrupt.svs", "Not a JPEG file"),
                        ("missing.svs", "No such file")):
        expect_failure(["stats", os.path.join(tmp, name), "-o", os.path.join(tmp, "x.tif"), "--stat", "mean"], 1,
                       words, tmp)
    expect_failure(["stats", svs, "-o", os.path.join(tmp, "x.tif"), "--stat", "mean", "--level", "9"], 1,
                   f"level 9 does not exist: the slide has levels 0 to {len(dims) - 1}", tmp)
    # OpenSlide is loaded for vendor slides only (the loader's own log,
    # LD_DEBUG=files, names every library it opens, dlopen's included), and
    # from the file BLOCKWISE_OPENSLIDE names when that is set.
    def opened(path, **env):
        p = subprocess.run([BLOCKWISE, "info", path], capture_output=True, text=True,
                           env=dict(os.environ, **env))
        return p
    assert "libopenslide" not in opened(files["generic.tif"], LD_DEBUG="files").stderr
    assert "libopenslide" in opened(svs, LD_DEBUG="files").stderr
    p = opened(svs, BLOCKWISE_OPENSLIDE=os.path.join(tmp, "none.so"))
    lines = p.stderr.strip().split("\n")
    assert p.returncode == 1 and len(lines) == 1, p.stderr
    assert "none.so cannot be used" in lines[0] and "libopenslide0" in lines[0], lines[0]
    assert p.stdout == "", p.stdout


def test_channels(tmp):
    """A fluorescence file of 4 channels: one chosen by number, read as it is."""
    rng = np.random.default_rng(11)
    f = rng.integers(0, 4096, (4, 60, 70), dtype=np.uint16)
    pf = os.path.join(tmp, "f.tif")
    tifffile.imwrite(pf, np.moveaxis(f, 0, -1), photometric="minisblack", planarconfig="contig")
    run("stats", pf, "-o", os.path.join(tmp, "s.tif"), "--stat", "std", "--channel", "2", "--quiet")
    p2 = os.path.join(tmp, "c2.tif")
    tifffile.imwrite(p2, f[2], photometric="minisblack")
    want = core("std", "10", "partial", 0, p2, tmp=tmp)
    np.testing.assert_array_equal(tifffile.imread(os.path.join(tmp, "s.tif")), want)
    out = os.path.join(tmp, "x.tif")
    expect_failure(["stats", pf, "-o", out, "--stat", "mean"], 2,
                   "f.tif has 4 channels: choose one with --channel (0 to 3)", tmp)
    expect_failure(["stats", pf, "-o", out, "--stat", "mean", "--channel", "luminance"], 2,
                   "has 4 channels, not RGB: luminance needs red, green and blue", tmp)
    expect_failure(["stats", pf, "-o", out, "--stat", "mean", "--channel", "4"], 2,
                   "channel 4 does not exist: the image has 4", tmp)
    expect_failure(["stats", pf, "-o", out, "--stat", "mean", "--channel", "blue"], 2,
                   "unknown channel \"blue\"", tmp)
    # Channels an OME-XML description names: chosen by name, any case.
    names = ["DAPI", "GFP", "RFP", "Cy5"]
    channels = "".join(f'<Channel ID="Channel:0:{c}" Name="{n}" SamplesPerPixel="1"/>' for c, n in enumerate(names))
    xml = ('<?xml version="1.0" encoding="UTF-8"?>'
           '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">'
           '<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="70" SizeY="60" SizeC="4" '
           'SizeZ="1" SizeT="1" PhysicalSizeX="0.5" PhysicalSizeY="0.5">' + channels +
           '<TiffData/></Pixels></Image></OME>')
    po = os.path.join(tmp, "ome.tif")
    tifffile.imwrite(po, np.moveaxis(f, 0, -1), photometric="minisblack", planarconfig="contig",
                     description=xml, metadata=None)
    assert "DAPI" in run("info", po).stdout
    run("stats", po, "-o", os.path.join(tmp, "s.tif"), "--stat", "std", "--channel", "rfp", "--quiet")
    np.testing.assert_array_equal(tifffile.imread(os.path.join(tmp, "s.tif")), want)
    expect_failure(["stats", po, "-o", out, "--stat", "mean"], 2,
                   "ome.tif has 4 channels: choose one with --channel (0 to 3, or DAPI, GFP, RFP, Cy5)", tmp)
    expect_failure(["stats", po, "-o", out, "--stat", "mean", "--channel", "TRITC"], 2,
                   "or a channel the file names (DAPI, GFP, RFP, Cy5)", tmp)


if __name__ == "__main__":
    main(globals())
