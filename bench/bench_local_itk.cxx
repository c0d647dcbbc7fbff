/*
 * bench_local_itk: local mean and standard deviation of a 2-D image, the
 * core (bw_local_stats, MEAN and STD with ddof 1, f64 outputs, straight
 * from the 16-bit pixels) against itk::BoxMeanImageFilter and
 * itk::BoxSigmaImageFilter (sample standard deviation) on one thread each,
 * in the same run.  ITK gets the image as double: ITK 5.2's BoxSigma sums
 * the squares of 16-bit input in int, which overflows above 46340, so
 * double pixels are the type it handles correctly (the conversion is not
 * timed).  bench_local.py runs it; one translation unit.
 *
 *   bench_local_itk A.raw DTYPE Y,X RADIUS REPS
 *
 * DTYPE is u16 or f32.  Prints one line: "itk RADIUS core SECONDS itk
 * SECONDS ratio R", medians of REPS runs.
 */
#include "bw_local.h"

#include "itkBoxMeanImageFilter.h"
#include "itkBoxSigmaImageFilter.h"
#include "itkImage.h"
#include "itkMultiThreaderBase.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace
{
double
now()
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

double
median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
} // namespace

int
main(int argc, char ** argv)
{
  if (argc != 6)
  {
    std::fprintf(stderr, "usage: bench_local_itk A.raw u16|f32 Y,X RADIUS REPS\n");
    return 2;
  }
  const bool is16 = !std::strcmp(argv[2], "u16");
  long ny = 0, nx = 0;
  if (std::sscanf(argv[3], "%ld,%ld", &ny, &nx) != 2)
    return 2;
  const long r = std::atol(argv[4]);
  const int reps = std::atoi(argv[5]);
  const size_t n = static_cast<size_t>(ny * nx), es = is16 ? 2 : 4;
  std::vector<char> raw(n * es);
  FILE * f = std::fopen(argv[1], "rb");
  if (!f || std::fread(raw.data(), es, n, f) != n)
  {
    std::fprintf(stderr, "bench_local_itk: cannot read %s\n", argv[1]);
    return 2;
  }
  std::fclose(f);
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(1);

  using Image = itk::Image<double, 2>;
  auto img = Image::New();
  Image::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(nx);
  size[1] = static_cast<itk::SizeValueType>(ny);
  img->SetRegions(size);
  img->Allocate();
  double * px = img->GetBufferPointer();
  for (size_t i = 0; i < n; ++i)
  {
    if (is16)
    {
      uint16_t v;
      std::memcpy(&v, raw.data() + 2 * i, 2);
      px[i] = v;
    }
    else
    {
      float v;
      std::memcpy(&v, raw.data() + 4 * i, 4);
      px[i] = v;
    }
  }
  Image::SizeType rad;
  rad.Fill(static_cast<itk::SizeValueType>(r));

  std::vector<double> mean(n), sd(n), tc, ti;
  const ptrdiff_t shape[2] = {ny, nx}, radius[2] = {r, r};
  bw_local_params p;
  bw_local_params_init(&p, 2, radius);
  p.ddof = 1;
  bw_view in = bw_view_contiguous(raw.data(), is16 ? BW_U16 : BW_F32, 2, shape);
  bw_local_output o[2];
  std::memset(o, 0, sizeof o);
  o[0].stat = BW_STAT_MEAN;
  o[0].view = bw_view_contiguous(mean.data(), BW_F64, 2, shape);
  o[1].stat = BW_STAT_STD;
  o[1].view = bw_view_contiguous(sd.data(), BW_F64, 2, shape);
  for (int k = 0; k < reps; ++k)
  {
    bw_error err;
    double t0 = now();
    if (bw_local_stats(&in, nullptr, nullptr, nullptr, &p, o, 2, nullptr, &err) != BW_OK)
    {
      std::fprintf(stderr, "bench_local_itk: %s\n", err.message);
      return 1;
    }
    tc.push_back(now() - t0);

    auto bm = itk::BoxMeanImageFilter<Image, Image>::New();
    auto bs = itk::BoxSigmaImageFilter<Image, Image>::New();
    bm->SetInput(img);
    bs->SetInput(img);
    bm->SetRadius(rad);
    bs->SetRadius(rad);
    bm->SetNumberOfWorkUnits(1);
    bs->SetNumberOfWorkUnits(1);
    t0 = now();
    bm->Update();
    bs->Update();
    ti.push_back(now() - t0);
    /* the same numbers away from the border, where both windows are whole */
    if (k == 0)
    {
      const long y = ny / 2, x = nx / 2;
      Image::IndexType at;
      at[0] = x;
      at[1] = y;
      const double dm = bm->GetOutput()->GetPixel(at) - mean[y * nx + x];
      const double ds = bs->GetOutput()->GetPixel(at) - sd[y * nx + x];
      if (!(std::abs(dm) < 1e-6 * (1 + std::abs(mean[y * nx + x])) &&
            std::abs(ds) < 1e-6 * (1 + sd[y * nx + x])))
      {
        std::fprintf(stderr, "bench_local_itk: results differ (%g, %g)\n", dm, ds);
        return 1;
      }
    }
  }
  const double c = median(tc), i = median(ti);
  std::printf("itk %ld core %.6f itk %.6f ratio %.2f\n", r, c, i, i / c);
  return 0;
}
