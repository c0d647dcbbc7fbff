/*
 * Non-local means of a 3-D volume through a streamed ITK pipeline, file to
 * file, against the same pipeline without the filter and against the core
 * on the whole volume in memory, in one run.
 *
 *   bench_nlm_itk [--reps N] [--small] [--divisions D] [--dir DIR]
 *
 * A 64x512x512 uint16 volume (Z x Y x X; --small: 16x256x256) of blobs on a
 * background with Poisson-like noise is written once as an uncompressed
 * multi-page TIFF.  Each variant runs in a child process of its own (this
 * binary again, with --variant NAME), timed by the parent around the child,
 * with its peak RSS from wait4 (ru_maxrss):
 *
 *   copy   ImageFileReader (BlockwiseTIFFImageIO, streaming) ->
 *          ImageFileWriter (BlockwiseTIFFImageIO), streamed in D slabs along
 *          Z: the cost of reading and writing the files.
 *   ours   the same with itk::NonLocalMeansImageFilter in between (patch
 *          radius 3, search radius 2 in Z and 10 in Y and X, Gaussian noise
 *          of the volume's sigma; uint16 output): each slab reads its halo
 *          (5 slices each side) from the file.  ITK's default thread count.
 *   core   the whole volume read into memory, bw_nlm on as many threads
 *          (bands along Y, one call each), the result written: no ITK, no
 *          streaming; the floor for the arithmetic.
 *
 * Prints medians, Mvoxel/s, peak RSS, and the ratios ours / core (time) and
 * ours / copy; checks that ours and core wrote the same voxels (the region
 * map makes streaming exact).  Exits non-zero if anything fails or differs.
 */
#define BENCH_NAME "bench_nlm_itk"
#include "bench_itk_util.h"

#include "bw_tiff.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOFactory.h"
#include "itkNonLocalMeansImageFilter.h"

#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkMultiThreaderBase.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace
{

using U16Volume = itk::Image<unsigned short, 3>;

constexpr double kSigma = 30.0; /* noise of the generated volume */

using bench::check;

/* The core's parameters of the benchmark. */
bw_nlm_params
params()
{
  bw_nlm_params p;
  bw_nlm_params_init(&p, 3, kSigma);
  p.patch[0] = p.patch[1] = p.patch[2] = 3;
  p.search[0] = 2;
  p.search[1] = p.search[2] = 10;
  return p;
}

bool
write_volume(const std::string & path, const ptrdiff_t * shape)
{
  std::vector<uint16_t> v(static_cast<size_t>(shape[0] * shape[1] * shape[2]));
  std::mt19937_64       rng(7);
  std::normal_distribution<double> noise(0.0, kSigma);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  struct Blob
  {
    double z, y, x, r, a;
  };
  std::vector<Blob> blobs;
  for (int i = 0; i < 200; ++i)
    blobs.push_back({ u(rng) * shape[0], u(rng) * shape[1], u(rng) * shape[2], 3 + 12 * u(rng), 200 + 1500 * u(rng) });
  std::vector<double> plane(static_cast<size_t>(shape[1] * shape[2]));
  for (ptrdiff_t z = 0; z < shape[0]; ++z)
  {
    std::fill(plane.begin(), plane.end(), 300.0);
    for (const Blob & b : blobs)
    {
      const double dz = (z - b.z) * 2.0; /* anisotropic: slices twice as far */
      if (std::fabs(dz) > 3 * b.r)
        continue;
      const ptrdiff_t y0 = std::max<ptrdiff_t>(0, static_cast<ptrdiff_t>(b.y - 3 * b.r));
      const ptrdiff_t y1 = std::min<ptrdiff_t>(shape[1], static_cast<ptrdiff_t>(b.y + 3 * b.r) + 1);
      const ptrdiff_t x0 = std::max<ptrdiff_t>(0, static_cast<ptrdiff_t>(b.x - 3 * b.r));
      const ptrdiff_t x1 = std::min<ptrdiff_t>(shape[2], static_cast<ptrdiff_t>(b.x + 3 * b.r) + 1);
      for (ptrdiff_t y = y0; y < y1; ++y)
        for (ptrdiff_t x = x0; x < x1; ++x)
        {
          const double d2 = dz * dz + (y - b.y) * (y - b.y) + (x - b.x) * (x - b.x);
          plane[static_cast<size_t>(y * shape[2] + x)] += b.a * std::exp(-d2 / (2 * b.r * b.r));
        }
    }
    for (size_t i = 0; i < plane.size(); ++i)
    {
      const double val = std::round(plane[i] + noise(rng));
      v[static_cast<size_t>(z) * plane.size() + i] = static_cast<uint16_t>(std::min(65535.0, std::max(0.0, val)));
    }
  }
  return bench::write_tiff(path, bw_view_contiguous(v.data(), BW_U16, 3, shape));
}

/* Reads a whole volume with the TIFF layer. */
bool
read_volume(const std::string & path, std::vector<uint16_t> & v, ptrdiff_t * shape)
{
  bw_error         err;
  bw_tiff_reader * r = nullptr;
  if (!check(bw_tiff_open(path.c_str(), &r, &err), err, "open"))
    return false;
  const bw_tiff_info * info = bw_tiff_reader_info(r);
  bw_region            region{};
  for (int i = 0; i < 3; ++i)
  {
    shape[i] = static_cast<ptrdiff_t>(info->shape[i]);
    region.size[i] = shape[i];
  }
  v.resize(static_cast<size_t>(shape[0] * shape[1] * shape[2]));
  const bw_view view = bw_view_contiguous(v.data(), BW_U16, 3, shape);
  const bool    ok = info->ndim == 3 && info->dtype == BW_U16 && check(bw_tiff_read(r, &region, &view, &err), err, "read");
  bw_tiff_close(r);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Variants (in the child)                                                  */
/* ------------------------------------------------------------------------ */

int
run_pipeline(const std::string & dir, bool filter, unsigned int divisions)
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  auto reader = itk::ImageFileReader<U16Volume>::New();
  reader->SetFileName(dir + "/V.tif");
  auto writer = itk::ImageFileWriter<U16Volume>::New();
  writer->SetFileName(dir + (filter ? "/ours.tif" : "/copy.tif"));
  auto nlm = itk::NonLocalMeansImageFilter<U16Volume, U16Volume>::New();
  if (filter)
  {
    nlm->SetInput(reader->GetOutput());
    nlm->SetPatchRadius(3);
    nlm->SetSearchRadius(itk::Size<3>{ { 10, 10, 2 } }); /* x, y, z */
    nlm->SetSigma(kSigma);
    writer->SetInput(nlm->GetOutput());
  }
  else
  {
    writer->SetInput(reader->GetOutput());
  }
  writer->SetNumberOfStreamDivisions(divisions);
  try
  {
    writer->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "bench_nlm_itk: " << e << std::endl;
    return 1;
  }
  if (dynamic_cast<itk::BlockwiseTIFFImageIO *>(reader->GetModifiableImageIO()) == nullptr ||
      dynamic_cast<itk::BlockwiseTIFFImageIO *>(writer->GetModifiableImageIO()) == nullptr)
  {
    std::cerr << "bench_nlm_itk: the reader or writer did not use BlockwiseTIFFImageIO\n";
    return 1;
  }
  return 0;
}

struct Band
{
  const bw_view * in;
  const bw_view * out;
  ptrdiff_t       y0, y1; /* rows of the band, in every slice */
  bw_status       status;
  bw_error        err;
};

void
run_band(Band * b)
{
  const bw_nlm_params p = params();
  bw_region           box{}, need;
  for (int i = 0; i < 3; ++i)
    box.size[i] = b->in->shape[i];
  box.start[1] = b->y0;
  box.size[1] = b->y1 - b->y0;
  bw_view in, out;
  b->status = bw_nlm_input_region(&p, b->in->shape, &box, &need, &b->err);
  if (!b->status)
    b->status = bw_view_subview(b->in, &need, &in, &b->err);
  if (!b->status)
    b->status = bw_view_subview(b->out, &box, &out, &b->err);
  if (!b->status)
    b->status = bw_nlm(&in, need.start, &out, box.start, b->in->shape, &p, &b->err);
}

int
run_core(const std::string & dir)
{
  std::vector<uint16_t> v;
  ptrdiff_t             shape[3];
  if (!read_volume(dir + "/V.tif", v, shape))
    return 1;
  std::vector<uint16_t> o(v.size());
  const bw_view         in = bw_view_contiguous(v.data(), BW_U16, 3, shape);
  const bw_view         out = bw_view_contiguous(o.data(), BW_U16, 3, shape);
  const unsigned int    n = std::max(1u, itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads());
  std::vector<Band>     bands(n);
  std::vector<std::thread> threads;
  for (unsigned int t = 0; t < n; ++t)
  {
    bands[t] = Band{ &in, &out, shape[1] * t / n, shape[1] * (t + 1) / n, BW_OK, {} };
    threads.emplace_back(run_band, &bands[t]);
  }
  for (auto & t : threads)
    t.join();
  for (const Band & b : bands)
    if (!check(b.status, b.err, "bw_nlm"))
      return 1;
  return bench::write_tiff(dir + "/core.tif", out) ? 0 : 1;
}

} // namespace

int
main(int argc, char ** argv)
{
  bench::Options o{ 3, false, {}, {} };
  unsigned int   divisions = 8;
  for (int i = 1; i < argc; ++i)
  {
    if (bench::parse_option(argc, argv, i, o))
      continue;
    if (std::strcmp(argv[i], "--divisions") == 0 && i + 1 < argc)
      divisions = static_cast<unsigned int>(std::atoi(argv[++i]));
    else
    {
      std::fprintf(stderr, "usage: bench_nlm_itk [--reps N] [--small] [--divisions D] [--dir DIR]\n");
      return 2;
    }
  }
  const int          reps = o.reps;
  const bool         small = o.small;
  const std::string & variant = o.variant;
  std::string        dir = o.dir;
  if (reps < 1 || divisions < 1)
    return 2;
  if (!variant.empty())
  {
    if (variant == "copy" || variant == "ours")
      return run_pipeline(dir, variant == "ours", divisions);
    if (variant == "core")
      return run_core(dir);
    return 2;
  }

  const bool keep = !dir.empty();
  if (!keep)
  {
    dir = bench::make_temp_dir();
    if (dir.empty())
      return 1;
  }
  const ptrdiff_t shape[3] = { small ? 16 : 64, small ? 256 : 512, small ? 256 : 512 };
  const double    mvox = static_cast<double>(shape[0] * shape[1] * shape[2]) / 1e6;
  if (!write_volume(dir + "/V.tif", shape))
    return 1;

  const std::string self = bench::self_path();
  if (self.empty())
    return 1;
  const char * names[3] = { "copy", "ours", "core" };
  std::vector<double> times[3];
  long                rss[3] = { 0, 0, 0 };
  bool                ok = true;
  for (int r = 0; r < reps && ok; ++r)
    for (int k = 0; k < 3 && ok; ++k)
    {
      const bench::RunResult res =
        bench::spawn({ self, "--variant", names[k], "--dir", dir, "--divisions", std::to_string(divisions) });
      ok = res.ok;
      times[k].push_back(res.seconds);
      rss[k] = std::max(rss[k], res.maxrss_kib);
    }
  if (ok)
  {
    std::vector<uint16_t> a, b;
    ptrdiff_t             sa[3], sb[3];
    ok = read_volume(dir + "/ours.tif", a, sa) && read_volume(dir + "/core.tif", b, sb) && a == b;
    if (!ok)
      std::fprintf(stderr, "bench_nlm_itk: the streamed pipeline and the core differ\n");
  }
  if (ok)
  {
    const double in_mib = mvox * 1e6 * sizeof(uint16_t) / (1024.0 * 1024.0);
    std::printf("non-local means, %tdx%tdx%td u16 volume (%.0f MiB), patch 7x7x7, search 5x21x21, "
                "%u slabs, %u threads; medians of %d\n",
                shape[0], shape[1], shape[2], in_mib, divisions,
                itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads(), reps);
    const char * labels[3] = { "copy (read + write, streamed)", "ours (ITK pipeline, streamed)",
                               "core (whole volume in memory)" };
    for (int k = 0; k < 3; ++k)
    {
      const double m = bench::median(times[k]);
      std::printf("  %-32s %8.2f s %8.3f Mvoxel/s  peak RSS %7.1f MiB\n", labels[k], m, mvox / m,
                  rss[k] / 1024.0);
    }
    std::printf("  time ours / core: %.2f   ours / copy: %.1f   peak RSS ours / volume: %.2f\n",
                bench::median(times[1]) / bench::median(times[2]),
                bench::median(times[1]) / bench::median(times[0]),
                rss[1] / 1024.0 / in_mib);
  }
  if (!keep)
    bench::remove_tree(dir);
  return ok ? 0 : 1;
}
