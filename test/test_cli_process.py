"""End-to-end tests of how the `blockwise` command behaves as a process:
errors and a full disk leave nothing behind, a signal interrupts a run
cleanly, the progress bar shows on a terminal only, --memory bounds the
working set.  Command line: see cli_common.py."""
import array
import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time

import numpy as np
import tifffile

from cli_common import BLOCKWISE, DEMO_PAIR, SKIP, expect_failure, listing, main, run
from pairs import pair


def test_errors(tmp):
    a, b = pair((64, 80), np.uint16, 8)
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
    a, b = pair((1024, 1024), np.float32, 9)
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


#: The first line and the length of each progress line that a Slicer module
#: prints on stdout (cli/slicer.cxx, cli/execute.cxx).
SLICER_START = "<filter-start><filter-name>Block Correlation</filter-name></filter-start>\n"
SLICER_PROGRESS = len("<filter-progress>0.00</filter-progress>\n")


def unread(fd):
    """How many bytes the pipe that fd reads from holds."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def read_to_end(fd, safety=300):
    """Everything the pipe fd holds until its last writer closes it; fails
    if the writer neither writes nor ends in `safety` seconds (a hang)."""
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], safety)
        assert ready, f"the command neither wrote nor ended in {safety} s"
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return data
        data += chunk


def test_interrupt(tmp):
    """SIGTERM, SIGINT or SIGHUP in the middle of a run: exit 130, one line,
    no output and no temporary file left.

    The run is held at a known point by its own output, not by a clock: the
    Slicer module blockwise-corr prints a progress line on stdout after each
    piece of the map (a 4096 x 4096 pair takes several under the module's
    budget), into a pipe of one page that this test fills first but for
    room for the module's first line and two progress lines.  Once those
    are in the pipe the first piece is on disk under its temporary name,
    and the run cannot finish before this test drains the pipe: the signal
    comes in between."""
    pa, pb, pr = (os.path.join(tmp, n) for n in ("a.tif", "b.tif", "r.tif"))
    subprocess.run([DEMO_PAIR, pa, pb, "--size", "4096", "--region", "100,100,200,200"],
                   check=True, stdout=subprocess.DEVNULL)
    module = os.path.join(os.path.dirname(BLOCKWISE), "blockwise-corr")
    before = listing(tmp)
    room = len(SLICER_START) + 2 * SLICER_PROGRESS + SLICER_PROGRESS // 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        r, w = os.pipe()
        try:
            capacity = fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, os.sysconf("SC_PAGE_SIZE"))
            filler = capacity - room
            os.write(w, bytes(filler))
            proc = subprocess.Popen([module, "--block", "10", pa, pb, pr], stdout=w,
                                    stderr=subprocess.PIPE, text=True)
        finally:
            os.close(w)
        held = filler + len(SLICER_START) + 2 * SLICER_PROGRESS
        safety = time.monotonic() + 300
        while unread(r) < held:
            assert proc.poll() is None, ("the run ended before its second progress line",
                                         proc.returncode, proc.stderr.read())
            assert time.monotonic() < safety, "no second progress line in 300 s (a hang)"
            time.sleep(0.005)
        assert unread(r) == held, ("progress lines of another length", unread(r) - filler)
        temps = [n for n in listing(tmp) if n.startswith(".r.tif.")]
        assert temps and not os.path.exists(pr), ("not held while writing the map", listing(tmp))
        proc.send_signal(sig)
        out = read_to_end(r)[filler:].decode()
        os.close(r)
        err = proc.stderr.read()
        assert proc.wait(timeout=300) == 130, (sig, proc.returncode, err)
        assert err.strip() == "blockwise: interrupted", (sig, err)
        lines = out.splitlines()
        assert out.startswith(SLICER_START) and 3 <= len(lines) <= 4, (sig, out)
        assert all(line.startswith("<filter-progress>") for line in lines[1:]), (sig, out)
        assert listing(tmp) == before, (sig, set(listing(tmp)) - set(before))


def test_progress(tmp):
    """A bar on a terminal (a pseudo-terminal from script(1)), nothing otherwise."""
    a, b = pair((600, 500), np.uint16, 11)
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


if __name__ == "__main__":
    main(globals())
