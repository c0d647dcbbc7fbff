#!/usr/bin/env bash
# Builds the TIFF reader's libFuzzer target with clang, makes a seed corpus
# of small valid files, and fuzzes a fixed number of inputs from a fixed
# random seed: the same run, with the same verdict, however fast or loaded
# the machine.  Fails on any crash, leak, sanitizer report or hang that
# libFuzzer finds, and when a tool is missing.
#
#   run_fuzz.sh SOURCE_DIR WORK_DIR TIFF_TOOL TIFFCP CLANG [RUNS [LIBDEFLATE INCLUDE]]
#
# SOURCE_DIR: the repository; WORK_DIR: a folder for the build, the seeds
# and the corpus (emptied first); TIFF_TOOL: test/tiff_tool built by CMake,
# which writes the seeds through Blockwise's writer; TIFFCP: libtiff's
# tiffcp, which re-encodes some of them; CLANG: clang with libFuzzer;
# RUNS: inputs to run (default 200000, about 30 s on one core); LIBDEFLATE
# and INCLUDE: libdeflate's library and include folder, when the library
# is built with it, so that the reader's own Deflate path is fuzzed as it
# runs there.
set -euo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 SOURCE_DIR WORK_DIR TIFF_TOOL TIFFCP CLANG [RUNS [LIBDEFLATE INCLUDE]]" >&2
  exit 2
fi
src=$1 work=$2 tool=$3 tiffcp=$4 clang=$5 runs=${6:-200000} deflate_lib=${7:-} deflate_inc=${8:-}

for prog in "$tool" "$tiffcp" "$clang"; do
  if [ ! -x "$prog" ]; then
    echo "run_fuzz: required program not found: $prog" >&2
    exit 1
  fi
done

rm -rf "$work"
mkdir -p "$work/seeds" "$work/corpus" "$work/tmp"

deflate=()
if [ -n "$deflate_lib" ]; then
  deflate=(-DBW_HAVE_LIBDEFLATE -I"$deflate_inc" "$deflate_lib")
fi

echo "== building the fuzzer${deflate_lib:+ (with libdeflate)}"
"$clang" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src/include" -I"$src/io" -I"$src/filters" \
  "$src/test/fuzz/fuzz_tiff_read.c" "$src"/io/*.c "$src/filters/bw_view.c" "$src/filters/bw_channel.c" \
  "${deflate[@]}" -ltiff -lexpat -lm -o "$work/fuzz_tiff_read"

echo "== seed files"
n=0
# BYTES pseudo-random bytes, the same in every run (bash's RANDOM, seeded).
bytes() {
  local count=$1 fmt="" h i
  RANDOM=$2
  for ((i = 0; i < count; i++)); do
    printf -v h '\\x%02x' $((RANDOM % 256))
    fmt+=$h
  done
  printf "$fmt"
}
seed() { # seed DTYPE SHAPE BYTES [tiff_tool write options...]
  local dtype=$1 shape=$2 count=$3
  shift 3
  n=$((n + 1))
  bytes "$count" "$n" > "$work/tmp/in.raw"
  "$tool" write "$work/tmp/in.raw" "$work/seeds/bw-$n.tif" --dtype "$dtype" --shape "$shape" "$@"
}
seed u8 12,10 120
seed i8 7,9 63 --rows-per-strip 2
seed u16 3,9,11 594 --compression lzw --predictor --pieces 2
seed i16 20,17 680 --tiled 16x16 --compression deflate
seed u32 2,6,5 240 --compression packbits --rows-per-strip 1
seed i32 5,7 140 --compression zstd --predictor
seed f32 4,6 96 --compression deflate --predictor --bigtiff 1
seed f64 2,3,4 192 --tiled 16x16 --compression zstd --spacing 2,0.5,0.25
seed u16 33,18 1188 --tiled 16x32 --compression lzw
base="$work/seeds/bw-3.tif"
k=0
for opts in "-c lzw" "-c packbits" "-c zstd" "-c zip:2" "-c none" "-t -w 16 -l 16" \
            "-B" "-B -c lzw:2" "-8" "-8 -B -t -w 16 -l 16 -c packbits" "-r 1"; do
  k=$((k + 1))
  # shellcheck disable=SC2086
  "$tiffcp" $opts "$base" "$work/seeds/cp-$k.tif"
done
# The other pixel formats (tifffile and the test's own writer), and JPEG
# (YCbCr) strips and tiles re-encoded by tiffcp.
python=/usr/bin/python3
if [ ! -x "$python" ]; then
  echo "run_fuzz: required program not found: $python (with python3-tifffile)" >&2
  exit 1
fi
"$python" "$src/test/fuzz/color_seeds.py" "$work/seeds"
# ImageJ and OME-XML descriptions, for the metadata parsers.
"$python" "$src/test/fuzz/meta_seeds.py" "$work/seeds"
"$tiffcp" -c jpeg:50 -r 16 "$work/seeds/rgb.tif" "$work/seeds/jpeg-strips.tif"
"$tiffcp" -c jpeg:50 -t -w 16 -l 16 "$work/seeds/rgb.tif" "$work/seeds/jpeg-tiles.tif"
ls -l "$work/seeds" | tail -n +2 | awk '{s += $5} END {print NR " seeds, " s " bytes"}'

# -timeout: an input that runs this long hangs (no input of 8 KiB comes
# near it, on any machine); the verdict does not rest on a clock otherwise.
echo "== fuzzing $runs inputs"
cd "$work"
./fuzz_tiff_read -runs="$runs" -seed=1 -timeout=300 -rss_limit_mb=2560 \
  -max_len=8192 -dict="$src/test/fuzz/meta.dict" -print_final_stats=1 \
  -artifact_prefix="$work/" corpus seeds
