/*
 * Tests of the ITK non-local means filter.
 *
 * Oracles: non-local means written here from its definition, the core run
 * directly on the same pixels, requested regions grown by hand, the
 * un-streamed output for streamed runs, and the messages of the core's
 * parameter check.
 */
#include "itkNonLocalMeansImageFilter.h"

#include "itkImageRegionSplitterMultidimensional.h"
#include "itkImageRegionSplitterSlowDimension.h"
#include "itkStreamingImageFilter.h"

#include "test_itk_filters.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <type_traits>
#include <vector>

namespace
{

using namespace blockwise_test;

/* Steps @o through the box [-r, r] in index order; false after the last. */
template <unsigned int D>
bool
nextOffset(itk::Offset<D> & o, const itk::Size<D> & r)
{
  for (unsigned int d = 0; d < D; ++d)
  {
    if (o[d] < static_cast<itk::OffsetValueType>(r[d]))
    {
      ++o[d];
      return true;
    }
    o[d] = -static_cast<itk::OffsetValueType>(r[d]);
  }
  return false;
}

template <unsigned int D>
itk::Offset<D>
firstOffset(const itk::Size<D> & r)
{
  itk::Offset<D> o;
  for (unsigned int d = 0; d < D; ++d)
    o[d] = -static_cast<itk::OffsetValueType>(r[d]);
  return o;
}

/* Non-local means straight from its definition, in ITK's index space:
 * every offset of the search window inside the largest region, patch
 * distances over the pixel pairs inside it, exp() weights. */
template <typename TImage>
std::vector<double>
nlmReference(const TImage * img, const itk::Size<TImage::ImageDimension> & patch,
             const itk::Size<TImage::ImageDimension> & search, double h, double sigma)
{
  constexpr unsigned int D = TImage::ImageDimension;
  const auto             region = img->GetLargestPossibleRegion();
  std::vector<double>    out;
  for (itk::ImageRegionConstIteratorWithIndex<TImage> it(img, region); !it.IsAtEnd(); ++it)
  {
    const auto x = it.GetIndex();
    double     ws = 0, vs = 0;
    auto       o = firstOffset<D>(search);
    do
    {
      const auto y = x + o;
      if (!region.IsInside(y))
        continue;
      double d2 = 0;
      long   cnt = 0;
      auto   q = firstOffset<D>(patch);
      do
      {
        if (!region.IsInside(x + q) || !region.IsInside(y + q))
          continue;
        const double d = static_cast<double>(img->GetPixel(x + q)) - static_cast<double>(img->GetPixel(y + q));
        d2 += d * d;
        ++cnt;
      } while (nextOffset<D>(q, patch));
      const double e = std::max(d2 / static_cast<double>(cnt) - 2.0 * sigma * sigma, 0.0);
      const double w = std::exp(-e / (h * h));
      ws += w;
      vs += w * static_cast<double>(img->GetPixel(y));
    } while (nextOffset<D>(o, search));
    out.push_back(vs / ws);
  }
  return out;
}

template <typename TIn, typename TOut>
void
checkNlmReference(const typename TIn::RegionType & largest, const itk::Size<TIn::ImageDimension> & patch,
                  const itk::Size<TIn::ImageDimension> & search, double sigma, double noise)
{
  auto src = makeSource<TIn>(largest, 11, noise);
  src->Update();
  auto f = itk::NonLocalMeansImageFilter<TIn, TOut>::New();
  f->SetInput(src->GetOutput());
  f->SetPatchRadius(patch);
  f->SetSearchRadius(search);
  f->SetSigma(sigma);
  f->SetNumberOfWorkUnits(5);
  f->Update();
  const auto want = nlmReference(src->GetOutput(), patch, search, 0.8 * sigma, sigma);
  size_t     i = 0;
  for (itk::ImageRegionConstIteratorWithIndex<TOut> it(f->GetOutput(), largest); !it.IsAtEnd(); ++it, ++i)
  {
    const double got = static_cast<double>(it.Get());
    if (std::is_floating_point<typename TOut::PixelType>::value)
    {
      CHECK(std::fabs(got - want[i]) <= 1e-5 * std::max(std::fabs(want[i]), 1000.0), "pixel %zu: %.9g vs %.9g", i, got,
            want[i]);
    }
    else
    {
      /* Rounded to nearest. */
      CHECK(std::fabs(got - want[i]) <= 0.5 + 1e-5 * std::fabs(want[i]), "pixel %zu: %.9g vs %.9g", i, got, want[i]);
    }
  }
}

/* The filter against the reference, with anisotropic radii (given in ITK's
 * x-first order) and largest regions that do not start at index 0. */
void
test_nlm_reference()
{
  using I2 = itk::Image<unsigned short, 2>;
  using I3 = itk::Image<short, 3>;
  checkNlmReference<I2, itk::Image<float, 2>>(regionOf<2>({ -4, 7 }, { 40, 33 }), itk::Size<2>{ { 2, 1 } },
                                              itk::Size<2>{ { 3, 2 } }, 60.0, 200.0);
  checkNlmReference<I2, I2>(regionOf<2>({ 0, 0 }, { 29, 31 }), itk::Size<2>{ { 1, 2 } }, itk::Size<2>{ { 2, 4 } },
                            60.0, 200.0);
  checkNlmReference<I3, itk::Image<double, 3>>(regionOf<3>({ 2, 0, -1 }, { 12, 10, 9 }),
                                               itk::Size<3>{ { 1, 1, 0 } }, itk::Size<3>{ { 2, 2, 1 } }, 60.0,
                                               200.0);
  checkNlmReference<itk::Image<float, 3>, itk::Image<float, 3>>(regionOf<3>({ 0, 0, 0 }, { 9, 11, 8 }),
                                                                itk::Size<3>{ { 0, 1, 2 } },
                                                                itk::Size<3>{ { 2, 1, 1 } }, 60.0, 200.0);
}

/* Poisson-Gaussian settings reach the core: the filter's output is the
 * core's own on the same pixels. */
void
test_nlm_poisson()
{
  using In = itk::Image<unsigned short, 2>;
  using Out = itk::Image<float, 2>;
  const auto largest = regionOf<2>({ 3, -2 }, { 47, 38 });
  auto       src = makeSource<In>(largest, 3, 300.0);
  src->Update();
  auto f = itk::NonLocalMeansImageFilter<In, Out>::New();
  f->SetInput(src->GetOutput());
  f->SetNoiseModel(itk::NonLocalMeansEnums::NoiseModel::PoissonGaussian);
  f->SetGain(2.5);
  f->SetOffset(100.0);
  f->SetReadSigma(3.0);
  f->SetH(0.7);
  f->SetPatchRadius(itk::Size<2>{ { 2, 1 } });
  f->SetSearchRadius(itk::Size<2>{ { 4, 3 } });
  f->Update();

  bw_nlm_params p;
  bw_nlm_params_init(&p, 2, 0.0);
  p.patch[0] = 1; /* y */
  p.patch[1] = 2; /* x */
  p.search[0] = 3;
  p.search[1] = 4;
  p.h = 0.7;
  p.noise = BW_NLM_POISSON_GAUSSIAN;
  p.gain = 2.5;
  p.offset = 100.0;
  p.read_sigma = 3.0;
  const ptrdiff_t    shape[2] = { 38, 47 };
  std::vector<float> want(38 * 47);
  bw_view            in = bw_view_contiguous(src->GetOutput()->GetBufferPointer(), BW_U16, 2, shape);
  bw_view            out = bw_view_contiguous(want.data(), BW_F32, 2, shape);
  bw_error           err;
  CHECK(bw_nlm(&in, nullptr, &out, nullptr, nullptr, &p, &err) == BW_OK, "%s", err.message);
  CHECK(std::memcmp(want.data(), f->GetOutput()->GetBufferPointer(), want.size() * sizeof(float)) == 0,
        "the filter differs from the core");
}

template <typename TImage>
void
streamAndCompare(itk::ImageSource<TImage> * f, const TImage * whole, unsigned int div,
                 itk::ImageRegionSplitterBase * splitter, const char * what)
{
  auto stream = itk::StreamingImageFilter<TImage, TImage>::New();
  stream->SetInput(f->GetOutput());
  stream->SetNumberOfStreamDivisions(div);
  if (splitter)
    stream->SetRegionSplitter(splitter);
  stream->Update();
  CHECK(sameBits<TImage>(stream->GetOutput(), whole), "%s: %u divisions differ from the whole image", what, div);
}

/* Streamed (1, 7, 64 divisions, slabs or blocks) and chunked along z: the
 * whole image's bits. */
void
test_nlm_streaming()
{
  {
    using In = itk::Image<unsigned char, 2>;
    using Out = itk::Image<float, 2>;
    auto src = makeSource<In>(regionOf<2>({ 0, 0 }, { 203, 187 }), 5, 120.0);
    src->m_Value = [](const In::IndexType & idx) {
      return static_cast<unsigned char>(std::min(255.0, std::max(0.0, 0.1 * texture<2>(idx, 5, 600.0))));
    };
    auto f = itk::NonLocalMeansImageFilter<In, Out>::New();
    f->SetInput(src->GetOutput());
    f->SetSigma(15.0);
    f->Update();
    Out::Pointer whole = f->GetOutput();
    whole->DisconnectPipeline();
    auto multi = itk::ImageRegionSplitterMultidimensional::New();
    for (unsigned int div : { 1u, 7u, 64u })
    {
      streamAndCompare<Out>(f, whole, div, nullptr, "2-D");
      streamAndCompare<Out>(f, whole, div, multi, "2-D blocks");
    }
  }
  {
    using In = itk::Image<short, 3>;
    using Out = itk::Image<float, 3>;
    auto src = makeSource<In>(regionOf<3>({ 0, 0, 0 }, { 45, 38, 30 }), 6, 400.0);
    auto f = itk::NonLocalMeansImageFilter<In, Out>::New();
    f->SetInput(src->GetOutput());
    f->SetSigma(100.0);
    f->SetPatchRadius(itk::Size<3>{ { 2, 2, 1 } });
    f->SetSearchRadius(itk::Size<3>{ { 4, 4, 2 } });
    f->Update();
    Out::Pointer whole = f->GetOutput();
    whole->DisconnectPipeline();
    auto slow = itk::ImageRegionSplitterSlowDimension::New();
    auto multi = itk::ImageRegionSplitterMultidimensional::New();
    for (unsigned int div : { 1u, 7u, 64u })
    {
      streamAndCompare<Out>(f, whole, div, slow, "3-D chunks along z");
      streamAndCompare<Out>(f, whole, div, multi, "3-D blocks");
    }
  }
}

/* The input is asked for the output's requested region grown by patch +
 * search radius per axis, clipped to the largest region. */
void
test_nlm_requested_region()
{
  using In = itk::Image<float, 3>;
  const auto largest = regionOf<3>({ -5, 2, 10 }, { 60, 50, 20 });
  auto       src = makeSource<In>(largest, 9, 10.0);
  auto       f = itk::NonLocalMeansImageFilter<In, In>::New();
  f->SetInput(src->GetOutput());
  f->SetSigma(3.0);
  f->SetPatchRadius(itk::Size<3>{ { 1, 2, 1 } });
  f->SetSearchRadius(itk::Size<3>{ { 5, 4, 2 } });
  const long halo[3] = { 6, 6, 3 };
  for (const auto & out : { regionOf<3>({ 0, 20, 15 }, { 10, 7, 3 }), regionOf<3>({ -5, 2, 10 }, { 3, 50, 1 }),
                            regionOf<3>({ 50, 45, 28 }, { 5, 7, 2 }) })
  {
    f->GetOutput()->SetRequestedRegion(out);
    f->Update();
    CHECK(!src->m_Requests.empty(), "no request");
    const auto got = src->m_Requests.back();
    for (unsigned int d = 0; d < 3; ++d)
    {
      const long lo = std::max<long>(out.GetIndex(d) - halo[d], largest.GetIndex(d));
      const long hi = std::min<long>(out.GetIndex(d) + static_cast<long>(out.GetSize(d)) + halo[d],
                                     largest.GetIndex(d) + static_cast<long>(largest.GetSize(d)));
      CHECK(got.GetIndex(d) == lo && static_cast<long>(got.GetSize(d)) == hi - lo, "axis %u: [%ld, +%lu) for [%ld, +%lu)",
            d, static_cast<long>(got.GetIndex(d)), static_cast<unsigned long>(got.GetSize(d)),
            static_cast<long>(out.GetIndex(d)), static_cast<unsigned long>(out.GetSize(d)));
    }
    src->Modified();
  }
  CHECK(f->MapOutputRegionToInputRegion(regionOf<3>({ -5, 2, 10 }, { 1, 1, 1 })).GetIndex(0) == -5, "map");
  bool threw = false;
  try
  {
    f->MapOutputRegionToInputRegion(regionOf<3>({ 56, 0, 0 }, { 5, 1, 1 }));
  }
  catch (const itk::ExceptionObject &)
  {
    threw = true;
  }
  CHECK(threw, "a region past the image has no input region");
}

void
test_nlm_errors()
{
  using In = itk::Image<float, 2>;
  auto src = makeSource<In>(regionOf<2>({ 0, 0 }, { 30, 20 }), 1, 10.0);
  auto f = itk::NonLocalMeansImageFilter<In, In>::New();
  f->SetInput(src->GetOutput());
  f->SetSigma(2.0);
  f->SetPatchRadius(33);
  expectThrow("patch radius", [&] { f->Update(); }, { "PatchRadius [33, 33]", "patch radius 33" });
  f->SetPatchRadius(3);
  f->SetSearchRadius(itk::Size<2>{ { 10, 300 } });
  expectThrow("search radius", [&] { f->Update(); }, { "search radius 300" });
  f->SetSearchRadius(10);
  f->SetH(-1.0);
  expectThrow("h < 0", [&] { f->Update(); }, { "h must be a finite number >= 0", "not -1" });
  f->SetH(0.0);
  f->SetSigma(0.0);
  expectThrow("h and sigma 0", [&] { f->Update(); }, { "sigma" });
  f->SetSigma(2.0);
  f->SetNoiseModel(itk::NonLocalMeansEnums::NoiseModel::PoissonGaussian);
  f->SetGain(0.0);
  expectThrow("gain 0", [&] { f->Update(); }, { "gain must be a finite number > 0", "not 0" });
  f->SetGain(1.0);
  f->SetReadSigma(-1.0);
  expectThrow("read sigma", [&] { f->Update(); }, { "read-noise sigma must be", "not -1" });
  f->SetReadSigma(1.0);
  f->SetNoiseModel(itk::NonLocalMeansEnums::NoiseModel::Gaussian);
  f->Update(); /* recovers */

  src->m_Value = [](const In::IndexType & idx) {
    return idx[0] == 7 && idx[1] == 4 ? std::numeric_limits<float>::quiet_NaN() : 1.0f;
  };
  src->Modified();
  expectThrow("NaN input", [&] { f->Update(); }, { "(y, x) = (4, 7)", "nan" });

  auto g = itk::NonLocalMeansImageFilter<In, In>::New();
  expectThrow("missing input", [&] { g->Update(); }, {});
}

void
test_nlm_print()
{
  using In = itk::Image<unsigned short, 3>;
  auto f = itk::NonLocalMeansImageFilter<In, itk::Image<float, 3>>::New();
  f->SetPatchRadius(itk::Size<3>{ { 3, 3, 1 } });
  f->SetSearchRadius(itk::Size<3>{ { 10, 10, 2 } });
  f->SetH(0.9);
  f->SetNoiseModel(itk::NonLocalMeansEnums::NoiseModel::PoissonGaussian);
  f->SetSigma(4.5);
  f->SetGain(2.25);
  f->SetOffset(100.5);
  f->SetReadSigma(3.75);
  std::ostringstream os;
  f->Print(os);
  for (const char * w : { "PatchRadius: [3, 3, 1]", "SearchRadius: [10, 10, 2]", "H: 0.9",
                          "NoiseModel: NonLocalMeansEnums::NoiseModel::PoissonGaussian", "Sigma: 4.5", "Gain: 2.25",
                          "Offset: 100.5", "ReadSigma: 3.75" })
    CHECK(os.str().find(w) != std::string::npos, "PrintSelf lacks \"%s\"", w);
}

} // namespace

const blockwise_test::Entry blockwise_test::nlm_tests[] = {
  { "nlm_reference", test_nlm_reference },
  { "nlm_poisson", test_nlm_poisson },
  { "nlm_streaming", test_nlm_streaming },
  { "nlm_requested_region", test_nlm_requested_region },
  { "nlm_errors", test_nlm_errors },
  { "nlm_print", test_nlm_print },
  { nullptr, nullptr },
};
