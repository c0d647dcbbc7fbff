"""The whole-slide benchmark: Pearson r per 10x10 block of a pyramidal
JPEG-tiled RGB TIFF pair, against the decode floor and vips.

    /usr/bin/python3 bench/bench_slides.py [--build BUILD] [--work DIR] [--reps R] [--small]

The pair (20000 x 15000 RGB; --small: 4000 x 3000) is made with vips once
and kept in DIR/WxH/ (default DIR: /tmp/bw_bench_slides); it is made again
only when a file is missing.  A: two octaves of Gaussian noise (a coarse one,
upsampled 16x with a cubic kernel, and a fine one blurred with sigma 1.2),
mapped to pink and purple stain-like colours (R 200 +- 35, G 130 +- 50 from
the sum, B 185 +- 30 from the coarse octave alone), cast to 8 bits; B: a
copy of A in which a square of a third of the height, centred, is shifted
by (+3, +2) pixels.  Both are written with
`vips tiffsave --tile --tile-width 256 --tile-height 256 --pyramid
--compression jpeg --Q 85` (YCbCr JPEG tiles, reduced levels in the main
IFD chain), and `blockwise info --json` must list 3 levels or more.

Then, after one untimed round (it fills the page cache), R repetitions
(default 5) of each variant, interleaved, the order rotated each
repetition; each one is one or more child processes whose wall time the
parent takes around them (monotonic clock, process start included) and
whose peak RSS comes from wait4 (ru_maxrss):

- floor:   BUILD/bench/decode_floor A.tif B.tif: every tile of level 0 of
           both files decoded to RGB by libtiff on every core, and
           discarded.  No reader of the pixels can be faster.
- ours:    `blockwise corr A.tif B.tif -o r.tif --channel luminance --quiet`
           (10x10 blocks, level 0; threads and memory budget as they come).
- vips:    `vips colourspace A.tif A.v b-w` then `vips shrink A.v As.v 10 10`,
           and the same for B: four processes, times added, peak RSS the
           largest; the .v files are removed after each repetition.  Block
           means of the grey image only (libvips has no correlation).
- level 2: `blockwise corr ... --level 2`: the same job on the pyramid's
           level 2 (downsample 4), which is read, not computed.

Prints median, min and max wall time, the median CPU time (user + system)
and the median peak RSS of each, the ratios of the medians and the goals
(and, less sensitive to a machine whose speed drifts, the median of each
repetition's own ours / floor):
ours / floor <= 1.25, vips / ours > 1, level 0 / level 2 >= 10, ours' peak
RSS <= 128 MiB.  A missed goal is printed, not an error: benchmarks are not
tests.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

VIPS = "/usr/bin/vips"
FULL = (20000, 15000)
SMALL = (4000, 3000)
TILE = 256
FLOOR_GOAL = 1.25
VIPS_GOAL = 1.0
LEVEL_GOAL = 10.0
RSS_GOAL_MIB = 128


def run(cmd, capture=False):
    """Wall time, CPU time (user + system), peak RSS (MiB) and stdout (if
    @capture) of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    out = proc.stdout.read().decode() if capture else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if capture:
        proc.stdout.close()
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, out


def vips(*args):
    subprocess.run([VIPS, *map(str, args)], check=True, stdout=subprocess.DEVNULL)


def make_pair(folder, width, height):
    """A.tif and B.tif in @folder, made with vips unless both exist."""
    a, b = os.path.join(folder, "A.tif"), os.path.join(folder, "B.tif")
    if os.path.exists(a) and os.path.exists(b):
        return a, b
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, "gen")
    os.makedirs(tmp, exist_ok=True)
    t = lambda name: os.path.join(tmp, name)  # noqa: E731
    start = time.perf_counter()
    print(f"making the {width} x {height} RGB pair in {folder} with vips ...", flush=True)
    up = 16
    # Coarse octave: noise on a 16x coarser grid, upsampled with a cubic kernel.
    vips("gaussnoise", t("c0.v"), width // up + 2, height // up + 2, "--mean", 0, "--sigma", 0.7)
    vips("resize", t("c0.v"), t("c1.v"), up, "--kernel", "cubic")
    vips("crop", t("c1.v"), t("c.v"), 0, 0, width, height)
    # Fine octave: per-pixel noise blurred a little.
    vips("gaussnoise", t("f0.v"), width, height, "--mean", 0, "--sigma", 2.0)
    vips("gaussblur", t("f0.v"), t("f.v"), 1.2)
    vips("add", t("c.v"), t("f.v"), t("s.v"))
    vips("bandjoin", f"{t('s.v')} {t('s.v')} {t('c.v')}", t("s3.v"))
    vips("linear", t("s3.v"), t("A.v"), "35 50 30", "200 130 185", "--uchar")
    for name in ("c0.v", "c1.v", "c.v", "f0.v", "f.v", "s.v", "s3.v"):
        os.remove(t(name))
    # B: a centred square shifted by (+3, +2) px, the rest as in A.
    side = height // 3
    x0, y0 = (width - side) // 2, (height - side) // 2
    vips("extract_area", t("A.v"), t("sq.v"), x0, y0, side, side)
    vips("insert", t("A.v"), t("sq.v"), t("B.v"), x0 + 3, y0 + 2)
    os.remove(t("sq.v"))
    for src, dst in ((t("A.v"), a), (t("B.v"), b)):
        part = dst + ".part.tif"
        vips("tiffsave", src, part, "--tile", "--tile-width", TILE, "--tile-height", TILE,
             "--pyramid", "--compression", "jpeg", "--Q", 85)
        os.replace(part, dst)
        os.remove(src)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"  made in {time.perf_counter() - start:.1f} s", flush=True)
    return a, b


def levels_of(blockwise, path):
    """The levels `blockwise info --json` lists, [(width, height), ...];
    exits unless there are 3 or more."""
    out = subprocess.run([blockwise, "info", "--json", path], check=True, capture_output=True,
                         text=True).stdout
    levels = [(lv["shape"][-1], lv["shape"][-2]) for lv in json.loads(out).get("levels", [])]
    if len(levels) < 3:
        raise SystemExit(f"blockwise info {path} lists {len(levels)} levels, not 3 or more:\n{out}")
    return levels


def summary(xs):
    return statistics.median(xs), min(xs), max(xs)


def goal(ok):
    return "met" if ok else "NOT met"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="the build folder (default: build)")
    ap.add_argument("--work", default="/tmp/bw_bench_slides",
                    help="where the pair is kept between runs (default: /tmp/bw_bench_slides)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--small", action="store_true", help=f"a {SMALL[0]} x {SMALL[1]} pair, a quick run")
    args = ap.parse_args()
    blockwise = os.path.join(args.build, "bin", "blockwise")
    floor_exe = os.path.join(args.build, "bench", "decode_floor")
    for exe in (blockwise, floor_exe, VIPS):
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"bench_slides: {exe} not found (build it: make -C {args.build} "
                             f"blockwise_cli decode_floor; vips: apt-get install libvips-tools)")
    width, height = SMALL if args.small else FULL
    folder = os.path.join(args.work, f"{width}x{height}")
    a, b = make_pair(folder, width, height)
    levels = levels_of(blockwise, a)
    if levels_of(blockwise, b) != levels:
        raise SystemExit("bench_slides: A and B have different pyramids")
    scratch = os.path.join(folder, "run")
    os.makedirs(scratch, exist_ok=True)
    s = lambda name: os.path.join(scratch, name)  # noqa: E731
    ncores = len(os.sched_getaffinity(0))  # as nproc
    megabytes = sum(os.path.getsize(p) for p in (a, b)) / 2**20

    def floor():
        wall, cpu, rss, out = run([floor_exe, "--threads", str(ncores), a, b], capture=True)
        floor.inner.append(json.loads(out)["seconds"])
        return wall, cpu, rss
    floor.inner = []

    def ours(level):
        def job():
            cmd = [blockwise, "corr", a, b, "-o", s(f"r{level}.tif"), "--channel", "luminance",
                   "--quiet"]
            if level:
                cmd += ["--level", str(level)]
            return run(cmd)[:3]
        return job

    def vips_pair():
        wall, cpu, peak = 0.0, 0.0, 0.0
        for src, tag in ((a, "A"), (b, "B")):
            for cmd in ([VIPS, "colourspace", src, s(f"{tag}.v"), "b-w"],
                        [VIPS, "shrink", s(f"{tag}.v"), s(f"{tag}s.v"), "10", "10"]):
                w, c, m, _ = run(cmd)
                wall, cpu, peak = wall + w, cpu + c, max(peak, m)
        for tag in ("A", "B"):
            for name in (f"{tag}.v", f"{tag}s.v"):
                os.remove(s(name))
        return wall, cpu, peak

    variants = [("floor", floor), ("ours", ours(0)), ("vips", vips_pair), ("level 2", ours(2))]
    walls = {name: [] for name, _ in variants}
    cpus = {name: [] for name, _ in variants}
    rss = {name: [] for name, _ in variants}
    print(f"pair: {width} x {height} RGB, JPEG Q85 tiles of {TILE} x {TILE}, {len(levels)} levels "
          f"(level 2: {levels[2][0]} x {levels[2][1]}), {megabytes:.0f} MiB on disk; "
          f"{ncores} cores; 10x10 blocks")
    print(f"one untimed round, then {args.reps} repetitions, interleaved ...", flush=True)
    for _, job in variants:
        job()
    floor.inner.clear()
    for rep in range(args.reps):
        k = rep % len(variants)
        for name, job in variants[k:] + variants[:k]:
            w, c, m = job()
            walls[name].append(w)
            cpus[name].append(c)
            rss[name].append(m)
    shutil.rmtree(scratch, ignore_errors=True)

    print(f"\n{'variant':<10} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>7} "
          f"{'peak RSS MiB':>13}")
    for name, _ in variants:
        med, lo, hi = summary(walls[name])
        print(f"{name:<10} {med:9.3f} {lo:7.3f} {hi:7.3f} {statistics.median(cpus[name]):7.2f} "
              f"{statistics.median(rss[name]):13.1f}")
    print(f"(the floor inside its process, threads started to joined: "
          f"{statistics.median(floor.inner):.3f} s)")
    med = {name: statistics.median(walls[name]) for name in walls}
    ours_rss = statistics.median(rss["ours"])
    r_floor = med["ours"] / med["floor"]
    r_vips = med["vips"] / med["ours"]
    r_level = med["ours"] / med["level 2"]
    print()
    print(f"ours / floor       {r_floor:6.2f}   goal <= {FLOOR_GOAL}: {goal(r_floor <= FLOOR_GOAL)}")
    print(f"vips / ours        {r_vips:6.2f}   goal > {VIPS_GOAL:g}: {goal(r_vips > VIPS_GOAL)}")
    print(f"level 0 / level 2  {r_level:6.2f}   goal >= {LEVEL_GOAL:g}: {goal(r_level >= LEVEL_GOAL)}")
    print(f"ours' peak RSS     {ours_rss:6.1f} MiB   goal <= {RSS_GOAL_MIB} MiB: "
          f"{goal(ours_rss <= RSS_GOAL_MIB)}")
    paired = sorted(o / f for o, f in zip(walls["ours"], walls["floor"]))
    print(f"(ours / floor within each repetition: median {statistics.median(paired):.2f}, "
          f"range {paired[0]:.2f}-{paired[-1]:.2f})")
    print(f"(peak RSS at level 2: {statistics.median(rss['level 2']):.1f} MiB; CPU time, user + "
          f"system, ours / floor {statistics.median(cpus['ours']) / statistics.median(cpus['floor']):.2f}, "
          f"vips / ours {statistics.median(cpus['vips']) / statistics.median(cpus['ours']):.2f}: "
          f"less sensitive to a busy machine than the wall times)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
