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
#define BENCH_NAME "bench_itk_pipeline"
#include "bench_itk_util.h"

#include "bw_tiff.h"
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOFactory.h"

#include "itkBinShrinkImageFilter.h"
#include "itkCastImageFilter.h"
#include "itkDivideImageFilter.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkMultiThreaderBase.h"
#include "itkMultiplyImageFilter.h"
#include "itkSqrtImageFilter.h"
#include "itkSubtractImageFilter.h"
#include "itkTIFFImageIO.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __GLIBC__
#  include <malloc.h>
#endif

namespace
{

using U16Image = itk::Image<uint16_t, 2>;
using F32Image = itk::Image<float, 2>;
using F64Image = itk::Image<double, 2>;

constexpr unsigned int kBlock = 10;
const char * const     kVips = "/usr/bin/vips";

using bench::check;
using bench::median;
using bench::now;
using bench::RunResult;
using bench::spawn;

/* ------------------------------------------------------------------------ */
/* The test pair                                                            */
/* ------------------------------------------------------------------------ */

uint64_t
mix64(uint64_t z)
{
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A value in [0, 1) attached to lattice point (i, j) of layer salt. */
double
lattice(int64_t i, int64_t j, uint64_t salt)
{
  const uint64_t h = mix64(static_cast<uint64_t>(i) * 0x632BE59BD9B4E019ull ^
                           static_cast<uint64_t>(j) * 0x85157AF5F0E9D3B1ull ^ salt);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

/* Value noise: lattice values every cell pixels, blended with smoothstep
 * weights; continuous in (u, v), so it can be sampled between pixels. */
double
value_noise(double u, double v, double cell, uint64_t salt)
{
  const double fu = u / cell, fv = v / cell;
  const double iu = std::floor(fu), iv = std::floor(fv);
  double       tu = fu - iu, tv = fv - iv;
  tu = tu * tu * (3 - 2 * tu);
  tv = tv * tv * (3 - 2 * tv);
  const int64_t i = static_cast<int64_t>(iu), j = static_cast<int64_t>(iv);
  const double  a = lattice(i, j, salt), b = lattice(i + 1, j, salt);
  const double  c = lattice(i, j + 1, salt), d = lattice(i + 1, j + 1, salt);
  return a + (b - a) * tu + (c - a) * tv + (a - b - c + d) * tu * tv;
}

/* The scene: three octaves of value noise, values in [2000, 16000). */
double
texture(double x, double y)
{
  return 2000 + 7000 * value_noise(x, y, 97, 11) + 4000 * value_noise(x, y, 23, 12) +
         3000 * value_noise(x, y, 6.5, 13);
}

/* Per-pixel noise, uniform in [-1, 1). */
double
pixel_noise(uint64_t x, uint64_t y, uint64_t salt)
{
  return static_cast<double>(mix64((y << 32 | x) ^ salt) >> 11) * 0x1.0p-52 - 1.0;
}

uint16_t
to_u16(double v)
{
  return static_cast<uint16_t>(std::lrint(std::min(65535.0, std::max(0.0, v))));
}

struct PairGeometry
{
  int64_t width, height;
  /* A rectangle of constant value in both images (as the unacquired fill of
   * a mosaic), aligned to the blocks: those blocks have no correlation. */
  int64_t fill_x0, fill_x1, fill_y0, fill_y1;
  /* B's sampling offsets: x + dx_col[x] + dx_row[y], y + dy_col[x] + dy_row[y]. */
  std::vector<double> dx_col, dx_row, dy_col, dy_row;

  PairGeometry(int64_t w, int64_t h)
    : width(w)
    , height(h)
  {
    const auto align = [](double v) { return static_cast<int64_t>(v / kBlock) * kBlock; };
    fill_x0 = align(0.62 * w);
    fill_x1 = fill_x0 + align(0.1 * w);
    fill_y0 = align(0.15 * h);
    fill_y1 = fill_y0 + align(0.08 * h);
    const double two_pi = 6.283185307179586;
    dx_col.resize(w);
    dy_col.resize(w);
    for (int64_t x = 0; x < w; ++x)
    {
      dx_col[x] = 0.4 * std::sin(two_pi * x / 4100.0);
      dy_col[x] = -0.6 + 0.7 * std::sin(two_pi * x / 3300.0);
    }
    dx_row.resize(h);
    dy_row.resize(h);
    for (int64_t y = 0; y < h; ++y)
    {
      dx_row[y] = 1.0 + 0.8 * std::sin(two_pi * y / 2900.0);
      dy_row[y] = 0.3 * std::sin(two_pi * y / 5200.0);
    }
  }

  /* Rows [y0, y1) of A and B into a and b (row-major, width columns). */
  void
  fill_rows(int64_t y0, int64_t y1, uint16_t * a, uint16_t * b) const
  {
    for (int64_t y = y0; y < y1; ++y)
    {
      uint16_t * ra = a + (y - y0) * width;
      uint16_t * rb = b + (y - y0) * width;
      const bool fill_row = y >= fill_y0 && y < fill_y1;
      for (int64_t x = 0; x < width; ++x)
      {
        if (fill_row && x >= fill_x0 && x < fill_x1)
        {
          ra[x] = 1500;
          rb[x] = 2300;
          continue;
        }
        const double ta = texture(static_cast<double>(x), static_cast<double>(y));
        const double tb = texture(x + dx_col[x] + dx_row[y], y + dy_col[x] + dy_row[y]);
        ra[x] = to_u16(ta + 500 * pixel_noise(x, y, 0xA));
        rb[x] = to_u16(0.9 * tb + 1000 + 500 * pixel_noise(x, y, 0xB));
      }
    }
  }
};

/* Writes A.tif and B.tif band by band (uncompressed strips), computing each
 * band on all cores: the pair is never whole in memory. */
bool
write_pair(const std::string & dir, int64_t width, int64_t height)
{
  const PairGeometry         g(width, height);
  const ptrdiff_t            extents[2] = { static_cast<ptrdiff_t>(height), static_cast<ptrdiff_t>(width) };
  const bw_tiff_write_params p = bench::tiff_params(BW_U16, 2, extents); /* uncompressed strips */
  bw_error         err;
  bw_tiff_writer * wa = nullptr;
  bw_tiff_writer * wb = nullptr;
  if (!check(bw_tiff_create((dir + "/A.tif").c_str(), &p, &wa, &err), err, "create A.tif") ||
      !check(bw_tiff_create((dir + "/B.tif").c_str(), &p, &wb, &err), err, "create B.tif"))
  {
    bw_tiff_abort(wa);
    return false;
  }
  const int64_t         band = 128;
  std::vector<uint16_t> a(static_cast<size_t>(band * width)), b(a.size());
  const unsigned int    nthreads = std::max(1u, std::thread::hardware_concurrency());
  bool                  ok = true;
  for (int64_t y0 = 0; y0 < height && ok; y0 += band)
  {
    const int64_t            rows = std::min(band, height - y0);
    std::vector<std::thread> workers;
    for (unsigned int t = 0; t < nthreads; ++t)
    {
      const int64_t r0 = rows * t / nthreads, r1 = rows * (t + 1) / nthreads;
      workers.emplace_back(
        [&, r0, r1] { g.fill_rows(y0 + r0, y0 + r1, a.data() + r0 * width, b.data() + r0 * width); });
    }
    for (auto & w : workers)
    {
      w.join();
    }
    bw_region region;
    region.start[0] = y0;
    region.start[1] = 0;
    region.size[0] = rows;
    region.size[1] = width;
    const ptrdiff_t shape[2] = { static_cast<ptrdiff_t>(rows), static_cast<ptrdiff_t>(width) };
    const bw_view   va = bw_view_contiguous(a.data(), BW_U16, 2, shape);
    const bw_view   vb = bw_view_contiguous(b.data(), BW_U16, 2, shape);
    ok = check(bw_tiff_write(wa, &region, &va, &err), err, "write A.tif") &&
         check(bw_tiff_write(wb, &region, &vb, &err), err, "write B.tif");
  }
  if (!ok)
  {
    bw_tiff_abort(wa);
    bw_tiff_abort(wb);
    return false;
  }
  const bool done_a = check(bw_tiff_finish(wa, &err), err, "finish A.tif");
  const bool done_b = check(bw_tiff_finish(wb, &err), err, "finish B.tif");
  return done_a && done_b;
}

/* ------------------------------------------------------------------------ */
/* The variants (run in the child)                                          */
/* ------------------------------------------------------------------------ */

int
run_ours(const std::string & dir)
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  using ReaderType = itk::ImageFileReader<U16Image>;
  using CorrType = itk::BlockCorrelationImageFilter<U16Image, U16Image, F32Image>;
  using WriterType = itk::ImageFileWriter<F32Image>;

  auto ra = ReaderType::New();
  ra->SetFileName(dir + "/A.tif");
  auto rb = ReaderType::New();
  rb->SetFileName(dir + "/B.tif");
  auto corr = CorrType::New();
  corr->SetInput1(ra->GetOutput());
  corr->SetInput2(rb->GetOutput());
  corr->SetBlockSize(kBlock);
  auto writer = WriterType::New();
  writer->SetInput(corr->GetOutput());
  writer->SetFileName(dir + "/r.tif");

  // Pieces of about 16 MiB of input (both images together) each.
  ra->UpdateOutputInformation();
  const auto    size = ra->GetOutput()->GetLargestPossibleRegion().GetSize();
  const double  pair_bytes = 2.0 * sizeof(uint16_t) * static_cast<double>(size[0]) * static_cast<double>(size[1]);
  const double  piece_bytes = 16.0 * 1024 * 1024;
  unsigned long divisions = static_cast<unsigned long>(std::ceil(pair_bytes / piece_bytes));
  divisions = std::max(1ul, std::min<unsigned long>(divisions, (size[1] + kBlock - 1) / kBlock));
  writer->SetNumberOfStreamDivisions(static_cast<unsigned int>(divisions));
  writer->Update();

  if (dynamic_cast<itk::BlockwiseTIFFImageIO *>(ra->GetModifiableImageIO()) == nullptr ||
      dynamic_cast<itk::BlockwiseTIFFImageIO *>(writer->GetModifiableImageIO()) == nullptr)
  {
    std::cerr << "bench_itk_pipeline: ours: the reader or writer did not use BlockwiseTIFFImageIO\n";
    return 1;
  }
  return 0;
}

int
run_stock(const std::string & dir)
{
  using ReaderType = itk::ImageFileReader<U16Image>;
  using CastInType = itk::CastImageFilter<U16Image, F64Image>;
  using MulType = itk::MultiplyImageFilter<F64Image, F64Image, F64Image>;
  using SubType = itk::SubtractImageFilter<F64Image, F64Image, F64Image>;
  using DivType = itk::DivideImageFilter<F64Image, F64Image, F64Image>;
  using SqrtType = itk::SqrtImageFilter<F64Image, F64Image>;
  using ShrinkType = itk::BinShrinkImageFilter<F64Image, F64Image>;
  using CastOutType = itk::CastImageFilter<F64Image, F32Image>;
  using WriterType = itk::ImageFileWriter<F32Image>;

  // A pipeline's data objects do not keep their sources alive: every filter
  // stays referenced here until the writer has run.
  auto read = [&](const char * name) {
    auto reader = ReaderType::New();
    reader->SetImageIO(itk::TIFFImageIO::New());
    reader->SetFileName(dir + "/" + name);
    return reader;
  };
  auto cast = [](U16Image * p) {
    auto f = CastInType::New();
    f->SetInput(p);
    return f;
  };
  auto mul = [](F64Image * p, F64Image * q) {
    auto f = MulType::New();
    f->SetInput1(p);
    f->SetInput2(q);
    return f;
  };
  auto sub = [](F64Image * p, F64Image * q) {
    auto f = SubType::New();
    f->SetInput1(p);
    f->SetInput2(q);
    return f;
  };
  auto shrink = [](F64Image * p) {
    auto f = ShrinkType::New();
    f->SetInput(p);
    f->SetShrinkFactors(kBlock);
    return f;
  };

  auto readA = read("A.tif");
  auto readB = read("B.tif");
  auto x = cast(readA->GetOutput());
  auto y = cast(readB->GetOutput());
  auto xx = mul(x->GetOutput(), x->GetOutput());
  auto yy = mul(y->GetOutput(), y->GetOutput());
  auto xy = mul(x->GetOutput(), y->GetOutput());
  auto ex = shrink(x->GetOutput());
  auto ey = shrink(y->GetOutput());
  auto exx = shrink(xx->GetOutput());
  auto eyy = shrink(yy->GetOutput());
  auto exy = shrink(xy->GetOutput());
  auto ex2 = mul(ex->GetOutput(), ex->GetOutput());
  auto ey2 = mul(ey->GetOutput(), ey->GetOutput());
  auto exey = mul(ex->GetOutput(), ey->GetOutput());
  auto vx = sub(exx->GetOutput(), ex2->GetOutput());
  auto vy = sub(eyy->GetOutput(), ey2->GetOutput());
  auto cxy = sub(exy->GetOutput(), exey->GetOutput());
  auto vxvy = mul(vx->GetOutput(), vy->GetOutput());
  auto sd = SqrtType::New();
  sd->SetInput(vxvy->GetOutput());
  auto r = DivType::New();
  r->SetInput1(cxy->GetOutput());
  r->SetInput2(sd->GetOutput());
  auto rf = CastOutType::New();
  rf->SetInput(r->GetOutput());
  auto writer = WriterType::New();
  writer->SetImageIO(itk::TIFFImageIO::New());
  writer->SetInput(rf->GetOutput());
  writer->SetFileName(dir + "/r_stock.tif");
  writer->Update();
  return 0;
}

int
run_variant(const std::string & name, const std::string & dir, int threads)
{
  if (threads > 0)
  {
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(threads);
  }
  try
  {
    if (name == "noop")
    {
      return 0;
    }
    if (name == "ours")
    {
      return run_ours(dir);
    }
    if (name == "stock")
    {
      return run_stock(dir);
    }
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "bench_itk_pipeline: variant " << name << ": " << e.GetDescription() << "\n";
    return 1;
  }
  catch (const std::exception & e)
  {
    std::cerr << "bench_itk_pipeline: variant " << name << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "bench_itk_pipeline: unknown variant " << name << "\n";
  return 2;
}

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
/* Verification (in the parent)                                             */
/* ------------------------------------------------------------------------ */

F32Image::Pointer
read_with_itk_tiff(const std::string & path)
{
  auto reader = itk::ImageFileReader<F32Image>::New();
  reader->SetImageIO(itk::TIFFImageIO::New());
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

/* Compares r.tif with r_stock.tif over the blocks both have (BinShrink drops
 * partial edge blocks, ours keeps them).  A block without correlation is
 * NaN in ours; in the stock pipeline DivideImageFilter returns the largest
 * double for a zero denominator, which becomes +inf as a float, so there a
 * non-finite value or one of float's largest magnitude marks it. */
bool
verify(const std::string & dir, int64_t width, int64_t height)
{
  F32Image::Pointer ours, stock;
  try
  {
    ours = read_with_itk_tiff(dir + "/r.tif");
    stock = read_with_itk_tiff(dir + "/r_stock.tif");
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "bench_itk_pipeline: verify: " << e.GetDescription() << "\n";
    return false;
  }
  const auto so = ours->GetLargestPossibleRegion().GetSize();
  const auto ss = stock->GetLargestPossibleRegion().GetSize();
  const auto nx = static_cast<int64_t>(ss[0]), ny = static_cast<int64_t>(ss[1]);
  const int64_t bx = (width + kBlock - 1) / kBlock, by = (height + kBlock - 1) / kBlock;
  if (static_cast<int64_t>(so[0]) != bx || static_cast<int64_t>(so[1]) != by || nx != width / kBlock ||
      ny != height / kBlock)
  {
    std::fprintf(stderr, "bench_itk_pipeline: verify: r.tif is %lux%lu, r_stock.tif %lux%lu\n",
                 static_cast<unsigned long>(so[0]), static_cast<unsigned long>(so[1]),
                 static_cast<unsigned long>(ss[0]), static_cast<unsigned long>(ss[1]));
    return false;
  }
  const float * po = ours->GetBufferPointer();
  const float * ps = stock->GetBufferPointer();
  double        max_diff = 0, sum_r = 0;
  int64_t       no_r = 0, finite = 0, bad = 0;
  for (int64_t j = 0; j < ny; ++j)
  {
    for (int64_t i = 0; i < nx; ++i)
    {
      const float o = po[j * bx + i], s = ps[j * nx + i];
      const bool  stock_no_r = !std::isfinite(s) || std::fabs(s) >= std::numeric_limits<float>::max();
      if (std::isnan(o) && stock_no_r)
      {
        ++no_r;
      }
      else if (std::isfinite(o) && !stock_no_r)
      {
        ++finite;
        sum_r += o;
        max_diff = std::max(max_diff, std::fabs(static_cast<double>(o) - static_cast<double>(s)));
      }
      else
      {
        if (bad < 5)
        {
          std::fprintf(stderr, "bench_itk_pipeline: verify: block (%lld, %lld): ours %g, stock %g\n",
                       static_cast<long long>(i), static_cast<long long>(j), static_cast<double>(o),
                       static_cast<double>(s));
        }
        ++bad;
      }
    }
  }
  const bool ok = bad == 0 && max_diff < 1e-4;
  std::printf("verify: r.tif vs r_stock.tif over %lldx%lld blocks: %lld without r in both, %lld mismatched, "
              "max |diff| %.2e over %lld finite (mean r %.3f): %s\n",
              static_cast<long long>(nx), static_cast<long long>(ny), static_cast<long long>(no_r),
              static_cast<long long>(bad), max_diff, static_cast<long long>(finite),
              finite ? sum_r / static_cast<double>(finite) : 0.0, ok ? "OK" : "FAILED");
  return ok;
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
      return usage();
    }
  }
  if (!o.variant.empty())
  {
    return run_variant(o.variant, o.dir, threads);
  }
  const int reps = o.reps < 1 ? 1 : o.reps;
  std::string dir = o.dir;

  // The children are this binary, run again.
  const std::string self = bench::self_path();
  if (self.empty())
  {
    return 1;
  }
  if (access(kVips, X_OK) != 0)
  {
    std::fprintf(stderr, "bench_itk_pipeline: %s not found (Debian package libvips-tools)\n", kVips);
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

  const int status = run_benchmark(reps, o.small, dir, self);
  if (temporary)
  {
    bench::remove_tree(dir);
  }
  return status;
}
