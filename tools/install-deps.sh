#!/usr/bin/env bash
# Installs the Debian packages Blockwise needs to build and test, and only
# those that are missing.  Does nothing (no apt-get update) when all are
# installed.  Non-interactive; uses sudo only when not root.
#
#   tools/install-deps.sh           build and test dependencies
#   tools/install-deps.sh --bench   also what the benchmarks compare against
set -euo pipefail

# One package per word.  Add new build or test dependencies here.
PACKAGES="cmake make gcc g++ libinsighttoolkit5-dev libtiff-dev libdeflate-dev libexpat1-dev libfftw3-dev libtiff-tools libjansson-dev libpng-dev pkg-config python3-numpy python3-tifffile python3-pil python3-dask python3-distributed clang libclang-rt-14-dev python3-skimage libvips-tools libopenslide-dev python3-openslide"

# The benchmarks' baselines (not needed to build or test).
BENCH_PACKAGES="python3-opencv"
if [ "${1:-}" = "--bench" ]; then
  PACKAGES="$PACKAGES $BENCH_PACKAGES"
fi

die() {
  echo "install-deps: $*" >&2
  exit 1
}

command -v dpkg-query >/dev/null 2>&1 \
  || die "dpkg-query not found: this script needs Debian (bookworm) or a derivative; install these packages by other means: $PACKAGES"

missing=()
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; missing packages: ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
  as_root=(env)
elif command -v sudo >/dev/null 2>&1; then
  # Without a terminal sudo cannot ask for a password: fail rather than hang.
  if [ -t 0 ]; then as_root=(sudo env); else as_root=(sudo -n env); fi
else
  die "missing packages: ${missing[*]}; run this script as root, or install sudo"
fi

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get update -qq \
  || die "apt-get update failed"
"${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" \
  || die "apt-get install failed for: ${missing[*]}"
