"""The main job end to end: Pearson r per 10x10 block of a TIFF pair, file to file.

    /usr/bin/python3 bench/bench_cli_corr.py BLOCKWISE DEMO_PAIR [--reps R] [--dir D] [--small]

Makes a 10100 x 9660 (rows x columns) uint16 pair with demo_pair (Deflate
strips with the horizontal predictor; --small: 2020 x 1932, a quick check)
in a new folder under D (default $TMPDIR), and an uncompressed copy of it
with tiffcp; then, for each of the two layouts, times, interleaved over R repetitions (default 5)
after one untimed round, each as child processes whose wall time (monotonic
clock around the child) and peak RSS (wait4 ru_maxrss) the parent measures:

- ours:  `blockwise corr A.tif B.tif -o R.tif --quiet` (10x10 blocks, the
  default; threads and memory budget as they come).
- vips:  `vips shrink A.tif A.v 10 10` and the same for B, two processes,
  times added, peak RSS the larger.  Block means only (libvips has no
  correlation): the floor for one pass of a tuned image library.
- numpy: a /usr/bin/python3 child that reads both TIFFs with tifffile,
  computes r per block vectorised (float64, centred products summed over the
  block axes of a (H/10, 10, W/10, 10) view, whole blocks only) and writes
  the float32 map with tifffile.
- noop:  /bin/true, the floor of the RSS column: a child started with vfork
  reports at least the parent's own peak RSS, so the parent imports nothing
  heavy until the timing is over.

Then it checks once that the numpy map equals ours within 1e-5 where both
are finite (over the whole blocks, which is every block at full size) and
prints medians, the ratios vips/ours and numpy/ours, and the goals:
ours >= 3x faster than the two vips runs, >= 50x faster than numpy, at
<= 64 MiB peak RSS.  A missed goal is printed, not an error.  Without
/usr/bin/vips the vips row is skipped.  Benchmarks are not tests.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cli import run  # noqa: E402  wall time and peak RSS of one child

VIPS = "/usr/bin/vips"
PYTHON = "/usr/bin/python3"
BLOCK = 10
RSS_GOAL_MIB = 64
VIPS_GOAL = 3.0
NUMPY_GOAL = 50.0

NUMPY_JOB = r"""
import sys
import numpy as np
import tifffile

a_path, b_path, out_path, bs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
a = tifffile.imread(a_path)
b = tifffile.imread(b_path)
h, w = a.shape[0] // bs, a.shape[1] // bs


def centred(img):
    x = img[:h * bs, :w * bs].astype(np.float64).reshape(h, bs, w, bs)
    x -= x.mean(axis=(1, 3), keepdims=True)
    return x


x = centred(a)
y = centred(b)
sxy = (x * y).sum(axis=(1, 3))
sxx = (x * x).sum(axis=(1, 3))
syy = (y * y).sum(axis=(1, 3))
with np.errstate(invalid="ignore", divide="ignore"):
    r = sxy / np.sqrt(sxx * syy)
tifffile.imwrite(out_path, r.astype(np.float32))
"""



def run_all(cmds):
    """Several children one after the other: times added, the largest peak RSS."""
    walls, peaks = zip(*(run(c) for c in cmds))
    return sum(walls), max(peaks)


CHECK_JOB = r"""
import json
import sys
import numpy as np
import tifffile

ours = tifffile.imread(sys.argv[1]).astype(np.float64)
ref = tifffile.imread(sys.argv[2]).astype(np.float64)
h, w = ref.shape
if ours.shape[0] < h or ours.shape[1] < w:
    raise SystemExit(f"ours {ours.shape} is smaller than numpy's {ref.shape}")
ours = ours[:h, :w]
fo, fr = np.isfinite(ours), np.isfinite(ref)
both = fo & fr
diff = float(np.max(np.abs(ours[both] - ref[both]))) if both.any() else 0.0
print(json.dumps({"blocks": h * w, "finite": int(both.sum()), "mismatched_finite": int((fo != fr).sum()),
                  "max_diff": diff, "mean_r": float(ref[both].mean()) if both.any() else float("nan")}))
"""


def check(ours_path, numpy_path):
    """Largest |ours - numpy| over the whole blocks where both are finite, in
    a child: numpy in this process would raise every later child's peak RSS."""
    import json
    out = subprocess.run([PYTHON, "-c", CHECK_JOB, ours_path, numpy_path], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("blockwise")
    ap.add_argument("demo_pair")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    if args.reps < 1:
        raise SystemExit("--reps must be at least 1")
    height, width = (2020, 1932) if args.small else (10100, 9660)
    have_vips = os.access(VIPS, os.X_OK)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        p = {n: os.path.join(tmp, n) for n in
             ("a.tif", "b.tif", "r.tif", "r_numpy.tif", "a.v", "b.v")}
        region = f"{height // 4},{width // 3},{height // 2},{width // 2 + width // 4}"
        subprocess.run([args.demo_pair, p["a.tif"], p["b.tif"], "--shape", f"{height},{width}",
                        "--region", region], check=True, stdout=subprocess.DEVNULL)
        for name in ("a", "b"):
            subprocess.run(["tiffcp", "-c", "none", p[name + ".tif"], os.path.join(tmp, name + "_raw.tif")],
                           check=True)
        os.sync()
        for layout, suffix in (("Deflate", ""), ("uncompressed", "_raw")):
            pa, pb = (os.path.join(tmp, n + suffix + ".tif") for n in ("a", "b"))
            measure(args, p, pa, pb, layout, height, width, have_vips)


def measure(args, p, pa, pb, layout, height, width, have_vips):
    """Times every variant on one layout of the pair and prints the table."""
    file_mib = (os.path.getsize(pa) + os.path.getsize(pb)) / 2**20
    pixel_mib = 2 * height * width * 2 / 2**20

    variants = {
        "ours": [[args.blockwise, "corr", pa, pb, "-o", p["r.tif"], "--quiet"]],
        "numpy": [[PYTHON, "-c", NUMPY_JOB, pa, pb, p["r_numpy.tif"], str(BLOCK)]],
        "noop": [["/bin/true"]],
    }
    if have_vips:
        variants["vips"] = [[VIPS, "shrink", pa, p["a.v"], str(BLOCK), str(BLOCK)],
                            [VIPS, "shrink", pb, p["b.v"], str(BLOCK), str(BLOCK)]]
    names = list(variants)

    print()
    print(f"Pearson r per {BLOCK}x{BLOCK} block, file to file: {height} x {width} (rows x columns) "
          f"uint16 pair, {pixel_mib:.0f} MiB of pixels, {file_mib:.0f} MiB as {layout} TIFF; "
          f"{args.reps} repetitions, interleaved, after one untimed round")
    if not have_vips:
        print(f"NOTE: {VIPS} not found: the vips row is SKIPPED "
              f"(bash tools/install-deps.sh --bench installs it)")
    sys.stdout.flush()

    for name in names:
        run_all(variants[name])
    times = {n: [] for n in names}
    peaks = {n: [] for n in names}
    for rep in range(args.reps):
        k = rep % len(names)
        for name in names[k:] + names[:k]:
            wall, peak = run_all(variants[name])
            times[name].append(wall)
            peaks[name].append(peak)

    result = check(p["r.tif"], p["r_numpy.tif"])

    med_t = {n: statistics.median(v) for n, v in times.items()}
    med_m = {n: statistics.median(v) for n, v in peaks.items()}
    labels = {
        "ours": "ours: blockwise corr",
        "vips": "vips shrink A + B (means only)",
        "numpy": "numpy (tifffile, vectorised)",
        "noop": "process start (/bin/true)",
    }
    print()
    print(f"{'variant':<32} {'median s':>9} {'min - max s':>17} {'peak RSS MiB':>13}")
    for name in ("noop", "ours", "vips", "numpy"):
        if name not in times:
            print(f"{labels[name]:<32} {'skipped: ' + VIPS + ' not found':>41}")
            continue
        lo, hi = min(times[name]), max(times[name])
        print(f"{labels[name]:<32} {med_t[name]:9.3f} {lo:8.3f} - {hi:6.3f} {med_m[name]:13.1f}")

    ok = result["max_diff"] <= 1e-5 and result["mismatched_finite"] == 0
    print()
    print(f"check: numpy and ours agree on {result['finite']} of {result['blocks']} whole blocks "
          f"(max |diff| {result['max_diff']:.2e}, {result['mismatched_finite']} blocks finite in only one, "
          f"mean r {result['mean_r']:.3f}): {'OK' if ok else 'MISMATCH'}")

    print()
    print(f"{'goal':<36} {'measured':>10} {'goal':>8}  held")
    if have_vips:
        ratio = med_t["vips"] / med_t["ours"]
        print(f"{'time vips / ours':<36} {ratio:10.2f} {'>= ' + format(VIPS_GOAL, 'g'):>8}  "
              f"{'yes' if ratio >= VIPS_GOAL else 'NO'}")
    else:
        print(f"{'time vips / ours':<36} {'skipped':>10} {'>= ' + format(VIPS_GOAL, 'g'):>8}  -")
    ratio = med_t["numpy"] / med_t["ours"]
    print(f"{'time numpy / ours':<36} {ratio:10.1f} {'>= ' + format(NUMPY_GOAL, 'g'):>8}  "
          f"{'yes' if ratio >= NUMPY_GOAL else 'NO'}")
    rss = med_m["ours"]
    print(f"{'ours peak RSS MiB':<36} {rss:10.1f} {'<= ' + str(RSS_GOAL_MIB):>8}  "
          f"{'yes' if rss <= RSS_GOAL_MIB else 'NO'}")
    if not ok:
        raise SystemExit("numpy and ours disagree")


if __name__ == "__main__":
    main()
