/*
 * Block correlation of a TIFF pair through ITK: Blockwise against ITK's
 * stock filters and against libvips, in one run.
 *
 *   bench_itk_pipeline [--reps N] [--small] [--dir DIR]
 *
 * A uint16 pair (A, and B = A warped by a pixel or two plus independent
 * noise) is written once as uncompressed striped TIFF files, then each
 * variant runs in a child process of its own (this binary run again with
 * --variant NAME), timed by the parent around the child with a monotonic
 * clock, so that every variant pays for its process start and its peak RSS
 * (wait4's ru_maxrss) is its own:
 *
 *   noop    the child starts and exits: process start and library loading.
 *   ours    ImageFileReader x2 (BlockwiseTIFFImageIO, streaming) ->
 *           BlockCorrelationImageFilter (10x10 blocks, float output) ->
 *           ImageFileWriter (BlockwiseTIFFImageIO) streamed in pieces small
 *           enough that the inputs' part of the working set stays near
 *           16 MiB, writing r.tif.  ITK's default thread count.
 *   ours-1t the same with one ITK thread.
 *   stock   ITK's TIFFImageIO readers -> Cast to double -> Multiply (x*x,
 *           y*y, x*y) -> BinShrink 10x10 of x, y, x*x, y*y, x*y ->
 *           r = (Exy - Ex Ey) / sqrt((Exx - Ex^2)(Eyy - Ey^2)) with
 *           Multiply, Subtract, Sqrt and Divide -> Cast to float ->
 *           ImageFileWriter with ITK's TIFFImageIO, writing r_stock.tif.
 *   vips    `vips shrink A.tif A.v 10 10` and the same for B, two child
 *           processes whose times are added (block means only; libvips uses
 *           all cores by default).
 *
 * Repetitions interleave the variants (in an order rotated every
 * repetition) after one untimed round.  Prints the median time and the
 * largest peak RSS of each variant, the ratios stock/ours and vips/ours,
 * and checks r.tif against r_stock.tif (both read with ITK's TIFFImageIO):
 * the benchmark exits non-zero if they disagree or anything fails, and
 * zero whether or not the goals are met.
 *
 * --small uses a 2525x2415 pair instead of 10100x9660 (width x height).
 * --dir DIR writes the files into DIR and leaves them there; by default
 * they go to a new folder under $TMPDIR (or /tmp), removed at the end.
 */
#include "bench_itk_pipeline.h"

#include "itkMultiThreaderBase.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __GLIBC__
#  include <malloc.h>
#endif

namespace bench_pipeline
{
namespace
{

const char * const kVips = "/usr/bin/vips";

using bench::median;
using bench::now;
using bench::RunResult;
using bench::spawn;

/* ------------------------------------------------------------------------ */
/* Child processes (in the parent)                                          */
/* ------------------------------------------------------------------------ */

struct Variant
{
  std::string         label;
  std::string         name; /* --variant name, or "vips" */
  int                 threads;
  std::vector<double> times;
  long                maxrss_kib = 0;
};

RunResult
run_once(const Variant & v, const std::string & self, const std::string & dir)
{
  if (v.name == "vips")
  {
    RunResult total{ true, 0, 0 };
    for (const char * img : { "A", "B" })
    {
      const RunResult r =
        spawn({ kVips, "shrink", dir + "/" + img + ".tif", dir + "/" + img + ".v", std::to_string(kBlock),
                std::to_string(kBlock) });
      total.ok = total.ok && r.ok;
      total.seconds += r.seconds;
      total.maxrss_kib = std::max(total.maxrss_kib, r.maxrss_kib);
    }
    return total;
  }
  std::vector<std::string> args{ self, "--variant", v.name, "--dir", dir };
  if (v.threads > 0)
  {
    args.push_back("--threads");
    args.push_back(std::to_string(v.threads));
  }
  return spawn(args);
}

/* Anonymous resident memory of this process, KiB: a forked child starts
 * with this much counted in its peak RSS. */
long
anon_rss_kib()
{
  FILE * f = std::fopen("/proc/self/status", "r");
  if (!f)
  {
    return -1;
  }
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
  {
    if (std::sscanf(line, "RssAnon: %ld", &kib) == 1)
    {
      break;
    }
  }
  std::fclose(f);
  return kib;
}

/* ------------------------------------------------------------------------ */
/* The parent                                                               */
/* ------------------------------------------------------------------------ */

int
usage()
{
  std::fprintf(stderr, "usage: bench_itk_pipeline [--reps N] [--small] [--dir DIR]\n");
  return 2;
}

int
run_benchmark(int reps, bool small, const std::string & dir, const std::string & self)
{
  const int64_t width = small ? 2525 : 10100, height = small ? 2415 : 9660;
  const double  image_mb = 2.0 * static_cast<double>(width * height) / (1024.0 * 1024.0);
  const unsigned int cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned int itk_threads = itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads();
  const char *       vips_conc = std::getenv("VIPS_CONCURRENCY");

  std::printf("bench_itk_pipeline: %lldx%lld (width x height) uint16 pair, %ux%u blocks, "
              "median of %d repetitions\n",
              static_cast<long long>(width), static_cast<long long>(height), kBlock, kBlock, reps);
  std::printf("machine: %u cores; ITK threads %u (global default); vips concurrency %s\n", cores, itk_threads,
              vips_conc ? vips_conc : "default (all cores)");

  const double t0 = now();
  if (!write_pair(dir, width, height))
  {
    return 1;
  }
  // Written pages go to disk now rather than during the measurements.
  sync();
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  std::printf("inputs: %s/A.tif, B.tif: %.1f MiB each, uncompressed strips, written in %.1f s\n", dir.c_str(),
              image_mb, now() - t0);

  std::vector<Variant> variants;
  variants.push_back({ "process start (noop)", "noop", 0, {} });
  variants.push_back({ "ours, ITK " + std::to_string(itk_threads) + " thread(s)", "ours", 0, {} });
  variants.push_back({ "ours, ITK 1 thread", "ours", 1, {} });
  variants.push_back({ "stock ITK filters (double)", "stock", 0, {} });
  variants.push_back({ "vips shrink A + B", "vips", 0, {} });
  const size_t kOurs = 1, kOurs1 = 2, kStock = 3, kVipsIdx = 4;

  // One untimed round: warms the page cache and the libraries, and gives
  // the results to check before anything is timed.
  for (auto & v : variants)
  {
    if (!run_once(v, self, dir).ok)
    {
      return 1;
    }
  }
  if (!verify(dir, width, height))
  {
    return 1;
  }
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  std::printf("parent anonymous RSS when starting children: %.1f MiB\n", anon_rss_kib() / 1024.0);

  for (int rep = 0; rep < reps; ++rep)
  {
    for (size_t k = 0; k < variants.size(); ++k)
    {
      Variant &       v = variants[(k + static_cast<size_t>(rep)) % variants.size()];
      const RunResult r = run_once(v, self, dir);
      if (!r.ok)
      {
        return 1;
      }
      v.times.push_back(r.seconds);
      v.maxrss_kib = std::max(v.maxrss_kib, r.maxrss_kib);
    }
  }
  if (!verify(dir, width, height))
  {
    return 1;
  }

  std::printf("\n%-30s %10s %10s %10s %12s\n", "variant", "median s", "min s", "max s", "peak RSS MiB");
  for (const auto & v : variants)
  {
    std::printf("%-30s %10.3f %10.3f %10.3f %12.1f\n", v.label.c_str(), median(v.times),
                *std::min_element(v.times.begin(), v.times.end()),
                *std::max_element(v.times.begin(), v.times.end()), v.maxrss_kib / 1024.0);
  }
  const double ours = median(variants[kOurs].times);
  const double ours1 = median(variants[kOurs1].times);
  const double stock = median(variants[kStock].times);
  const double vips = median(variants[kVipsIdx].times);
  const double rss_mib = variants[kOurs].maxrss_kib / 1024.0;
  const double rss1_mib = variants[kOurs1].maxrss_kib / 1024.0;
  const auto   verdict = [](bool met) { return met ? "PASS" : "MISS"; };
  std::printf("\nstock / ours   %6.1f   (goal >= 15)   %s\n", stock / ours, verdict(stock / ours >= 15));
  std::printf("vips / ours    %6.1f   (goal >= 3)    %s\n", vips / ours, verdict(vips / ours >= 3));
  std::printf("ours peak RSS  %6.1f MiB (goal <= 64) %s\n", rss_mib, verdict(rss_mib <= 64));
  std::printf("with ours on 1 ITK thread: stock / ours %.1f, vips / ours %.1f, peak RSS %.1f MiB\n",
              stock / ours1, vips / ours1, rss1_mib);
  return 0;
}

} // namespace
} // namespace bench_pipeline

int
main(int argc, char ** argv)
{
  bench::Options o{ 5, false, {}, {} };
  int            threads = 0;
  for (int i = 1; i < argc; ++i)
  {
    if (bench::parse_option(argc, argv, i, o))
    {
      continue;
    }
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
    {
      threads = std::atoi(argv[++i]);
    }
    else
    {
      return bench_pipeline::usage();
    }
  }
  if (!o.variant.empty())
  {
    return bench_pipeline::run_variant(o.variant, o.dir, threads);
  }
  const int reps = o.reps < 1 ? 1 : o.reps;
  std::string dir = o.dir;

  // The children are this binary, run again.
  const std::string self = bench::self_path();
  if (self.empty())
  {
    return 1;
  }
  if (access(bench_pipeline::kVips, X_OK) != 0)
  {
    std::fprintf(stderr, "bench_itk_pipeline: %s not found (Debian package libvips-tools)\n",
                 bench_pipeline::kVips);
    return 1;
  }

  bool temporary = false;
  if (dir.empty())
  {
    dir = bench::make_temp_dir();
    if (dir.empty())
    {
      return 1;
    }
    temporary = true;
  }
  else if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
  {
    std::fprintf(stderr, "bench_itk_pipeline: cannot create %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }

  const int status = bench_pipeline::run_benchmark(reps, o.small, dir, self);
  if (temporary)
  {
    bench::remove_tree(dir);
  }
  return status;
}
