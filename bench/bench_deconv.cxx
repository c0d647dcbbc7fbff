/*
 * bench_deconv: Richardson-Lucy deconvolution of one float32 volume, the
 * core (bw_rl_deconvolve, non-circulant, FFTW threads) or ITK's
 * itk::RichardsonLucyDeconvolutionImageFilter (FFTW, its default
 * zero-flux Neumann padding), on the same synthetic volume and PSF.
 * bench_deconv.py runs each variant in a process of its own (for its peak
 * memory) and scikit-image beside them; one translation unit.
 *
 *   bench_deconv VARIANT Z,Y,X PZ,PY,PX ITERATIONS THREADS
 *
 * VARIANT is ours, itk or none (the volume made, nothing run: the
 * process's baseline memory).  Prints "VARIANT seconds S": the wall time
 * of the deconvolution alone (planning included, making the volume not).
 */
#include "bw_deconv.h"

#include "itkImage.h"
#include "itkMultiThreaderBase.h"
#include "itkRichardsonLucyDeconvolutionImageFilter.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace
{
using Image = itk::Image<float, 3>;

double
now()
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool
parse3(const char * s, long v[3])
{
  return std::sscanf(s, "%ld,%ld,%ld", &v[0], &v[1], &v[2]) == 3 && v[0] > 0 && v[1] > 0 && v[2] > 0;
}

Image::Pointer
make(const long n[3])
{
  auto          image = Image::New();
  Image::SizeType size;
  for (int d = 0; d < 3; ++d)
    size[d] = static_cast<itk::SizeValueType>(n[2 - d]);
  image->SetRegions(size);
  image->Allocate();
  return image;
}
} // namespace

int
main(int argc, char ** argv)
{
  long n[3], m[3];
  if (argc != 6 || !parse3(argv[2], n) || !parse3(argv[3], m))
  {
    std::fprintf(stderr, "usage: bench_deconv ours|itk|none Z,Y,X PZ,PY,PX ITERATIONS THREADS\n");
    return 2;
  }
  const std::string variant = argv[1];
  const int         iterations = std::atoi(argv[4]), threads = std::atoi(argv[5]);

  // A dim background with bright beads, and a Gaussian PSF elongated along Z.
  Image::Pointer image = make(n), psf = make(m);
  float *        g = image->GetBufferPointer();
  uint64_t       state = 88172645463325252ull;
  const size_t   count = static_cast<size_t>(n[0] * n[1] * n[2]);
  for (size_t i = 0; i < count; ++i)
  {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    g[i] = 10.0f + ((state >> 40) % 100 == 0 ? 500.0f : static_cast<float>((state >> 20) % 16));
  }
  float * h = psf->GetBufferPointer();
  double  sum = 0;
  for (long z = 0; z < m[0]; ++z)
    for (long y = 0; y < m[1]; ++y)
      for (long x = 0; x < m[2]; ++x)
      {
        const double dz = (z - (m[0] - 1) / 2.0) / (m[0] / 6.0), dy = (y - (m[1] - 1) / 2.0) / (m[1] / 6.0),
                     dx = (x - (m[2] - 1) / 2.0) / (m[2] / 6.0);
        h[(z * m[1] + y) * m[2] + x] = static_cast<float>(std::exp(-(dz * dz + dy * dy + dx * dx) / 2));
        sum += h[(z * m[1] + y) * m[2] + x];
      }
  for (long i = 0; i < m[0] * m[1] * m[2]; ++i)
    h[i] = static_cast<float>(h[i] / sum);

  double seconds = 0;
  if (variant == "ours")
  {
    std::vector<float> out(count);
    const double       t0 = now();
    bw_rl_params       p;
    bw_rl_params_init(&p, 3);
    p.iterations = iterations;
    p.threads = threads;
    const ptrdiff_t shape[3] = { n[0], n[1], n[2] }, pshape[3] = { m[0], m[1], m[2] };
    const bw_view   pv = bw_view_contiguous(h, BW_F32, 3, pshape);
    const bw_view   in = bw_view_contiguous(g, BW_F32, 3, shape);
    const bw_view   ov = bw_view_contiguous(out.data(), BW_F32, 3, shape);
    bw_rl_plan *    plan = nullptr;
    bw_error        err;
    if (bw_rl_plan_new(&p, shape, &pv, &plan, &err) != BW_OK || bw_rl_deconvolve(plan, &in, &ov, &err) != BW_OK)
    {
      std::fprintf(stderr, "bench_deconv: %s\n", err.message);
      return 1;
    }
    bw_rl_plan_free(plan);
    seconds = now() - t0;
  }
  else if (variant == "itk")
  {
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(threads);
    const double t0 = now();
    auto         rl = itk::RichardsonLucyDeconvolutionImageFilter<Image>::New();
    rl->SetInput(image);
    rl->SetKernelImage(psf);
    rl->SetNumberOfIterations(iterations);
    rl->NormalizeOn();
    rl->Update();
    seconds = now() - t0;
  }
  else if (variant != "none")
  {
    std::fprintf(stderr, "bench_deconv: variant %s: ours, itk or none\n", variant.c_str());
    return 2;
  }
  std::printf("%s seconds %.4f\n", variant.c_str(), seconds);
  return 0;
}
