/*
 * Tests of the ITK Richardson-Lucy filter (RichardsonLucyBlockwiseImageFilter).
 *
 * Oracles: ITK's own RichardsonLucyDeconvolutionImageFilter on a scene
 * where both compute the same thing; the filter's un-streamed output for
 * streamed runs; requested regions grown by hand; the library's messages.
 */
#include "itkRichardsonLucyBlockwiseImageFilter.h"

#include "itkPeriodicBoundaryCondition.h"
#include "itkRichardsonLucyDeconvolutionImageFilter.h"
#include "itkStreamingImageFilter.h"

#include "test_itk_filters.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace
{

using namespace blockwise_test;
using Image3 = itk::Image<float, 3>;

/* Beads on a dim background inside a zero margin of @margin pixels. */
Image3::Pointer
beadScene(const Image3::SizeType & size, unsigned int margin, uint64_t seed)
{
  auto image = Image3::New();
  image->SetRegions(size);
  image->Allocate();
  image->FillBuffer(0.0f);
  Image3::IndexType i;
  uint64_t          k = 0;
  for (i[2] = margin; i[2] < static_cast<long>(size[2] - margin); ++i[2])
    for (i[1] = margin; i[1] < static_cast<long>(size[1] - margin); ++i[1])
      for (i[0] = margin; i[0] < static_cast<long>(size[0] - margin); ++i[0])
      {
        const uint64_t h = mix(seed + k++);
        image->SetPixel(i, 5.0f + ((h & 63) == 0 ? 400.0f : static_cast<float>((h >> 8) % 7)));
      }
  return image;
}

/* A normalised Gaussian kernel, odd sizes, elongated along Z. */
Image3::Pointer
gaussianKernel(const Image3::SizeType & size, const double sigma[3])
{
  auto kernel = Image3::New();
  kernel->SetRegions(size);
  kernel->Allocate();
  double            sum = 0;
  Image3::IndexType i;
  for (i[2] = 0; i[2] < static_cast<long>(size[2]); ++i[2])
    for (i[1] = 0; i[1] < static_cast<long>(size[1]); ++i[1])
      for (i[0] = 0; i[0] < static_cast<long>(size[0]); ++i[0])
      {
        double r = 0;
        for (int d = 0; d < 3; ++d)
        {
          const double x = (static_cast<double>(i[d]) - (size[d] - 1) / 2.0) / sigma[d];
          r += x * x;
        }
        kernel->SetPixel(i, static_cast<float>(std::exp(-r / 2)));
        sum += std::exp(-r / 2);
      }
  for (float * p = kernel->GetBufferPointer(); p != kernel->GetBufferPointer() + kernel->GetBufferedRegion().GetNumberOfPixels(); ++p)
    *p = static_cast<float>(*p / sum);
  return kernel;
}

double
largest(const Image3 * image)
{
  const float * p = image->GetBufferPointer();
  return *std::max_element(p, p + image->GetBufferedRegion().GetNumberOfPixels());
}

double
relativeDifference(const Image3 * a, const Image3 * b)
{
  const float *  pa = a->GetBufferPointer();
  const float *  pb = b->GetBufferPointer();
  const size_t   n = a->GetBufferedRegion().GetNumberOfPixels();
  double         worst = 0;
  const double   top = largest(b);
  for (size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(pa[i]) - pb[i]) / top);
  return worst;
}

/* ITK's own filter, periodic, on beads inside a zero margin wider than the
 * kernel: there its padding and our periodic boundary agree, both start
 * from the image, and ITK's absolute 1e-5 guard is ours relative to the
 * image's largest value: the same result within 1e-4. */
void
test_deconv_itk_reference()
{
  Image3::SizeType size, ksize;
  size[0] = 36, size[1] = 40, size[2] = 24;
  ksize[0] = 7, ksize[1] = 7, ksize[2] = 5;
  const double    sigma[3] = { 1.2, 1.2, 1.8 };
  Image3::Pointer image = beadScene(size, 8, 3), kernel = gaussianKernel(ksize, sigma);
  CHECK(largest(image) > 100, "the scene has beads");
  for (int iterations : { 1, 8 })
  {
    itk::PeriodicBoundaryCondition<Image3> periodic;
    auto                                   theirs = itk::RichardsonLucyDeconvolutionImageFilter<Image3>::New();
    theirs->SetInput(image);
    theirs->SetKernelImage(kernel);
    theirs->SetNumberOfIterations(iterations);
    theirs->NormalizeOn();
    theirs->SetBoundaryCondition(&periodic);
    theirs->Update();

    auto ours = itk::RichardsonLucyBlockwiseImageFilter<Image3>::New();
    ours->SetInput(image);
    ours->SetKernelImage(kernel);
    bw_rl_params p = ours->GetCoreParameters();
    p.iterations = iterations;
    p.boundary = BW_RL_PERIODIC;
    p.epsilon = 1e-5 / largest(image);
    ours->SetCoreParameters(p);
    ours->Update();
    const double d = relativeDifference(ours->GetOutput(), theirs->GetOutput());
    CHECK(d < 1e-4, "%d iterations: relative difference %g from ITK's filter", iterations, d);
  }
}

/* Streamed in pieces with the exact halo: the un-streamed result to float
 * rounding; the input is asked for each piece grown by the halo (a set
 * one, too), clipped to the image. */
void
test_deconv_streaming()
{
  Image3::SizeType size, ksize;
  size[0] = 30, size[1] = 28, size[2] = 12;
  ksize[0] = 5, ksize[1] = 3, ksize[2] = 3;
  const double    sigma[3] = { 1.0, 0.8, 0.8 };
  Image3::Pointer image = beadScene(size, 0, 9), kernel = gaussianKernel(ksize, sigma);
  auto            whole = itk::RichardsonLucyBlockwiseImageFilter<Image3>::New();
  whole->SetInput(image);
  whole->SetKernelImage(kernel);
  whole->SetNumberOfIterations(3);
  whole->Update();
  CHECK(whole->GetHalo()[0] == 12 && whole->GetHalo()[1] == 6 && whole->GetHalo()[2] == 6, "exact halo");

  auto pieces = itk::RichardsonLucyBlockwiseImageFilter<Image3>::New();
  pieces->SetInput(image);
  pieces->SetKernelImage(kernel);
  pieces->SetNumberOfIterations(3);
  auto streamer = itk::StreamingImageFilter<Image3, Image3>::New();
  streamer->SetInput(pieces->GetOutput());
  streamer->SetNumberOfStreamDivisions(4);
  streamer->Update();
  const double d = relativeDifference(streamer->GetOutput(), whole->GetOutput());
  CHECK(d < 1e-5, "4 pieces with the exact halo: relative difference %g", d);

  Image3::SizeType halo;
  halo[0] = 2, halo[1] = 1, halo[2] = 1;
  pieces->SetHalo(halo);
  const auto out = regionOf<3>({ 10, 0, 4 }, { 5, 28, 3 });
  const auto in = pieces->MapOutputRegionToInputRegion(out);
  CHECK(in == regionOf<3>({ 8, 0, 3 }, { 9, 28, 5 }), "the piece grown by the halo, clipped");
  pieces->UseExactHalo();
  CHECK(pieces->GetHalo() == whole->GetHalo(), "back to the exact halo");
}

/* Progress after every iteration of every piece, rising within a piece;
 * an observer that aborts stops the update with itk::ProcessAborted. */
void
test_deconv_progress()
{
  Image3::SizeType size, ksize;
  size[0] = 20, size[1] = 18, size[2] = 8;
  ksize.Fill(3);
  const double sigma[3] = { 1.0, 1.0, 1.0 };
  auto         f = itk::RichardsonLucyBlockwiseImageFilter<Image3>::New();
  f->SetInput(beadScene(size, 0, 4));
  f->SetKernelImage(gaussianKernel(ksize, sigma));
  f->SetNumberOfIterations(5);
  std::vector<float> seen;
  f->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) { seen.push_back(f->GetProgress()); });
  f->Update();
  // ITK reports 0 at the start, then ours: 1/5 .. 5/5, and 1 at the end
  int iterations = 0;
  for (size_t k = 0; k < seen.size(); ++k)
    for (int it = 1; it <= 5; ++it)
      iterations += std::fabs(seen[k] - it / 5.0f) < 1e-6f && (k == 0 || seen[k] > seen[k - 1]);
  CHECK(iterations >= 5, "%d of 5 iterations reported (%zu events)", iterations, seen.size());

  auto again = itk::RichardsonLucyBlockwiseImageFilter<Image3>::New();
  again->SetInput(beadScene(size, 0, 4));
  again->SetKernelImage(gaussianKernel(ksize, sigma));
  again->SetNumberOfIterations(50);
  int events = 0;
  again->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
    if (++events == 3)
      again->AbortGenerateDataOn();
  });
  bool aborted = false;
  try
  {
    again->Update();
  }
  catch (const itk::ProcessAborted &)
  {
    aborted = true;
  }
  CHECK(aborted && events < 10, "aborted after %d progress events", events);
}

/* Bad kernels and a missing kernel: itk::ExceptionObject with the
 * library's message. */
void
test_deconv_errors()
{
  Image3::SizeType size, big;
  size[0] = 10, size[1] = 10, size[2] = 4;
  big[0] = 11, big[1] = 3, big[2] = 3;
  const double sigma[3] = { 1, 1, 1 };
  Image3::Pointer image = beadScene(size, 0, 1);
  auto            f = itk::RichardsonLucyBlockwiseImageFilter<Image3>::New();
  f->SetInput(image);
  expectThrow("no kernel", [&] { f->Update(); }, { "kernel" });
  f->SetKernelImage(gaussianKernel(big, sigma));
  expectThrow("kernel larger than the image", [&] { f->Update(); }, { "larger than the image" });
  Image3::SizeType small;
  small.Fill(3);
  Image3::Pointer zero = gaussianKernel(small, sigma);
  zero->FillBuffer(0.0f);
  f->SetKernelImage(zero);
  expectThrow("zero kernel", [&] { f->Update(); }, { "all zero" });
  f->SetKernelImage(gaussianKernel(small, sigma));
  f->SetNumberOfIterations(-2);
  expectThrow("negative iterations", [&] { f->Update(); }, { "iterations" });
}

} // namespace

const blockwise_test::Entry blockwise_test::deconv_tests[] = {
  { "deconv_itk_reference", test_deconv_itk_reference },
  { "deconv_streaming", test_deconv_streaming },
  { "deconv_errors", test_deconv_errors },
  { "deconv_progress", test_deconv_progress },
  { nullptr, nullptr },
};
