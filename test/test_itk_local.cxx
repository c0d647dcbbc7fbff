/*
 * LocalStatisticsImageFilter and BlockShiftImageFilter.
 *
 * Oracles: ITK's BoxMeanImageFilter and BoxSigmaImageFilter; brute-force
 * window loops written here (local r); BlockCorrelationImageFilter for the
 * r at zero shift; known shifts of a smooth texture; the unstreamed result
 * against streamed ones.
 */
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockShiftImageFilter.h"
#include "itkLocalStatisticsImageFilter.h"

#include "itkBoxMeanImageFilter.h"
#include "itkBoxSigmaImageFilter.h"
#include "itkCastImageFilter.h"
#include "itkStreamingImageFilter.h"

#include "test_itk_filters.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace
{

using namespace blockwise_test;

/* The mean and sample standard deviation of BoxMean and BoxSigma against
 * ours with Ddof 1, everywhere (their windows are clipped to the image at
 * the border, as ours are), 2-D and 3-D, anisotropic radii.  ITK's filters
 * are given the pixels as double: on 16-bit input BoxSigma squares them in
 * int, which overflows past 46340. */
template <unsigned int D>
void
boxFilters()
{
  using In = itk::Image<uint16_t, D>;
  using Out = itk::Image<double, D>;
  typename In::RegionType largest;
  typename In::SizeType   size, radius;
  for (unsigned int d = 0; d < D; ++d)
  {
    size[d] = D == 2 ? 61 + 7 * d : 19 + 4 * d;
    radius[d] = 1 + 2 * d;
  }
  largest.SetSize(size);
  auto src = makeSource<In>(largest, 7, 900.0);
  src->Update();
  const In * image = src->GetOutput();

  auto asDouble = itk::CastImageFilter<In, Out>::New();
  asDouble->SetInput(image);
  auto mean = itk::BoxMeanImageFilter<Out, Out>::New();
  mean->SetInput(asDouble->GetOutput());
  mean->SetRadius(radius);
  mean->Update();
  auto sigma = itk::BoxSigmaImageFilter<Out, Out>::New();
  sigma->SetInput(asDouble->GetOutput());
  sigma->SetRadius(radius);
  sigma->Update();
  for (Stat stat : { Stat::Mean, Stat::StandardDeviation })
  {
    auto ours = itk::LocalStatisticsImageFilter<In, Out>::New();
    ours->SetInput(image);
    ours->SetRadius(radius);
    ours->SetDdof(1);
    ours->SetStatistic(stat);
    ours->Update();
    const Out * want = stat == Stat::Mean ? mean->GetOutput() : sigma->GetOutput();
    double      worst = 0;
    for (itk::ImageRegionConstIteratorWithIndex<Out> it(want, largest); !it.IsAtEnd(); ++it)
    {
      const double got = ours->GetOutput()->GetPixel(it.GetIndex());
      worst = std::max(worst, std::fabs(got - it.Get()) / std::max(1.0, std::fabs(it.Get())));
    }
    CHECK(worst < 1e-9, "%u-D %s: relative difference %g from ITK's box filter", D,
          stat == Stat::Mean ? "mean" : "std", worst);
  }
}

void
test_local_box()
{
  boxFilters<2>();
  boxFilters<3>();
}

/* Local r against a window loop written here (double output, 1e-9), with
 * steps; r in [-1, 1]; a constant window gives NaN, or the fill value. */
void
test_local_corr_reference()
{
  using In = itk::Image<int16_t, 2>;
  using Out = itk::Image<double, 2>;
  const auto largest = regionOf<2>({ 0, 0 }, { 47, 38 });
  auto       srcA = makeSource<In>(largest, 3, 4000.0);
  auto       srcB = makeSource<In>(largest, 4, 4000.0);
  // A constant patch in both: windows inside it are undefined.
  for (auto * src : { srcA.GetPointer(), srcB.GetPointer() })
  {
    auto value = src->m_Value;
    src->m_Value = [value](const In::IndexType & i) { return i[0] < 9 && i[1] < 9 ? In::PixelType(77) : value(i); };
  }
  srcA->Update();
  srcB->Update();
  const In * a = srcA->GetOutput();
  const In * b = srcB->GetOutput();
  for (unsigned step : { 1u, 3u })
  {
    auto f = itk::LocalStatisticsImageFilter<In, Out>::New();
    f->SetInput1(a);
    f->SetInput2(b);
    f->SetStatistic(Stat::Correlation);
    In::SizeType radius;
    radius[0] = 2;
    radius[1] = 3;
    f->SetRadius(radius);
    f->SetStep(step);
    f->Update();
    const Out * r = f->GetOutput();
    CHECK(r->GetSpacing()[0] == step && r->GetLargestPossibleRegion().GetSize(0) == (47 + step - 1) / step,
          "step %u: grid", step);
    double worst = 0;
    long   nan = 0, outside = 0;
    for (itk::ImageRegionConstIteratorWithIndex<Out> it(r, r->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
    {
      const auto k = it.GetIndex();
      double     n = 0, sa = 0, sb = 0;
      std::vector<std::pair<double, double>> w;
      for (long y = k[1] * step - 3; y <= static_cast<long>(k[1] * step) + 3; ++y)
        for (long x = k[0] * step - 2; x <= static_cast<long>(k[0] * step) + 2; ++x)
          if (x >= 0 && y >= 0 && x < 47 && y < 38)
          {
            const double va = a->GetPixel({ { x, y } }), vb = b->GetPixel({ { x, y } });
            w.emplace_back(va, vb);
            n += 1;
            sa += va;
            sb += vb;
          }
      double maa = 0, mbb = 0, mab = 0;
      for (const auto & p : w)
      {
        maa += (p.first - sa / n) * (p.first - sa / n);
        mbb += (p.second - sb / n) * (p.second - sb / n);
        mab += (p.first - sa / n) * (p.second - sb / n);
      }
      const double got = it.Get();
      if (maa == 0 || mbb == 0)
      {
        nan += !std::isnan(got);
        continue;
      }
      outside += got < -1 || got > 1;
      worst = std::max(worst, std::fabs(got - mab / std::sqrt(maa * mbb)));
    }
    CHECK(worst < 1e-9 && nan == 0 && outside == 0,
          "step %u: worst difference %g, %ld constant windows not NaN, %ld outside [-1, 1]", step, worst, nan, outside);
  }
  auto f = itk::LocalStatisticsImageFilter<In, Out>::New();
  f->SetInput1(a);
  f->SetInput2(b);
  f->SetStatistic(Stat::Correlation);
  f->SetRadius(1);
  f->SetFillValue(-2.0);
  f->Update();
  CHECK(f->GetOutput()->GetPixel({ { 3, 3 } }) == -2.0, "fill value for a constant window");
}

/* Streamed in 1, 7 and 64 pieces, bit for bit; the source is asked for the
 * pieces grown by the radius, clipped; bad settings throw. */
void
test_local_streaming()
{
  using In = itk::Image<float, 3>;
  using Out = itk::Image<float, 3>;
  const auto largest = regionOf<3>({ 0, 0, 0 }, { 23, 19, 17 });
  std::vector<Out::Pointer> results;
  for (unsigned divisions : { 1u, 7u, 64u })
  {
    auto src = makeSource<In>(largest, 11, 50.0);
    auto f = itk::LocalStatisticsImageFilter<In, Out>::New();
    f->SetInput(src->GetOutput());
    In::SizeType radius;
    radius[0] = 1;
    radius[1] = 2;
    radius[2] = 3;
    f->SetRadius(radius);
    f->SetStatistic(Stat::StandardDeviation);
    auto s = itk::StreamingImageFilter<Out, Out>::New();
    s->SetInput(f->GetOutput());
    s->SetNumberOfStreamDivisions(divisions);
    s->Update();
    results.push_back(s->GetOutput());
    results.back()->DisconnectPipeline();
    for (const auto & asked : src->m_Requests)
      CHECK(largest.IsInside(asked), "asked for %s outside the image", "a region");
    if (divisions == 7)
    {
      const auto first = src->m_Requests.front();
      CHECK(first.GetSize(0) == 23 && first.GetSize(1) == 19 && first.GetSize(2) < 17,
            "the first of 7 pieces grown by the radius, not the whole volume");
    }
  }
  CHECK(sameBits(results[0].GetPointer(), results[1].GetPointer()) &&
          sameBits(results[0].GetPointer(), results[2].GetPointer()),
        "streamed pieces give the unstreamed bits");

  auto src = makeSource<In>(largest, 11, 50.0);
  auto f = itk::LocalStatisticsImageFilter<In, Out>::New();
  f->SetInput(src->GetOutput());
  f->SetStatistic(Stat::Maximum);
  expectThrow("maximum", [&] { f->Update(); }, { "not a local statistic" });
  f->SetStatistic(Stat::Correlation);
  expectThrow("no second input", [&] { f->Update(); }, { "needs a second input" });
  f->SetStatistic(Stat::Mean);
  f->SetStep(0);
  expectThrow("step 0", [&] { f->Update(); }, { "Invalid parameters" });
  std::ostringstream os;
  f->Print(os);
  CHECK(os.str().find("Radius:") != std::string::npos && os.str().find("Step:") != std::string::npos, "Print");
}

/* A smooth texture (16-bit, so that the core's sums are exact) shifted by a
 * known whole number of pixels: the field gives it exactly, in physical
 * units (spacing applied) and with the documented sign; identical inputs
 * give 0 and r 1; the zero-shift r equals BlockCorrelationImageFilter's;
 * streaming gives the same bits.  (Sub-pixel shifts are the core's tests'.) */
void
test_block_shift()
{
  using In = itk::Image<uint16_t, 2>;
  using Field = itk::Image<itk::Vector<float, 2>, 2>;
  const auto largest = regionOf<2>({ 0, 0 }, { 160, 128 });
  auto       smooth = [](double x, double y) {
    double v = 0;
    for (int k = 0; k < 10; ++k)
      v += std::sin(x * (0.11 + 0.037 * k) + y * (0.07 - 0.029 * k) + 1.7 * k) * (1.0 + 0.1 * k);
    return 1000.0 + 40.0 * v;
  };
  const double dx = 3, dy = -2; // pixels: B is A moved by (dx, dy)
  auto         srcA = SpySource<In>::New();
  auto         srcB = SpySource<In>::New();
  for (auto * s : { srcA.GetPointer(), srcB.GetPointer() })
  {
    s->m_Largest = largest;
    s->m_Spacing[0] = 0.5;
    s->m_Spacing[1] = 2.0;
  }
  srcA->m_Value = [&](const In::IndexType & i) { return static_cast<uint16_t>(std::lround(smooth(i[0], i[1]))); };
  srcB->m_Value = [&](const In::IndexType & i) {
    return static_cast<uint16_t>(std::lround(smooth(i[0] - dx, i[1] - dy)));
  };

  std::vector<Field::Pointer> fields;
  for (unsigned divisions : { 1u, 5u })
  {
    auto f = itk::BlockShiftImageFilter<In>::New();
    f->SetFixedImage(srcA->GetOutput());
    f->SetMovingImage(srcB->GetOutput());
    f->SetBlockSize(32);
    f->SetSearchRadius(4);
    auto s = itk::StreamingImageFilter<Field, Field>::New();
    s->SetInput(f->GetOutput());
    s->SetNumberOfStreamDivisions(divisions);
    s->Update();
    fields.push_back(s->GetOutput());
    fields.back()->DisconnectPipeline();
  }
  const Field * u = fields[0];
  CHECK(u->GetLargestPossibleRegion().GetSize(0) == 5 && u->GetLargestPossibleRegion().GetSize(1) == 4 &&
          u->GetSpacing()[0] == 16.0 && u->GetSpacing()[1] == 64.0,
        "the block grid");
  double worst = 0;
  for (itk::ImageRegionConstIteratorWithIndex<Field> it(u, u->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    worst = std::max({ worst, std::fabs(it.Get()[0] - dx * 0.5), std::fabs(it.Get()[1] - dy * 2.0) });
  }
  CHECK(worst == 0, "displacement (%g, %g) px: off by up to %g physical units", dx, dy, worst);
  const size_t bytes = u->GetPixelContainer()->Size() * sizeof(Field::PixelType);
  CHECK(std::memcmp(u->GetBufferPointer(), fields[1]->GetBufferPointer(), bytes) == 0,
        "5 streamed pieces give the unstreamed bits");

  // Identical inputs; the zero-shift r against the block correlation.
  auto f = itk::BlockShiftImageFilter<In>::New();
  f->SetFixedImage(srcA->GetOutput());
  f->SetMovingImage(srcA->GetOutput());
  f->SetBlockSize(32);
  f->SetSearchRadius(3);
  f->Update();
  double most = 0, peakOff = 0;
  for (itk::ImageRegionConstIteratorWithIndex<Field> it(f->GetOutput(), f->GetOutput()->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    most = std::max({ most, std::fabs(double{ it.Get()[0] }), std::fabs(double{ it.Get()[1] }) });
    peakOff = std::max(peakOff, std::fabs(f->GetPeakCorrelationOutput()->GetPixel(it.GetIndex()) - 1.0));
  }
  CHECK(most == 0 && peakOff < 1e-6, "identical inputs: largest displacement %g, peak r off 1 by %g", most, peakOff);

  auto g = itk::BlockShiftImageFilter<In>::New();
  g->SetFixedImage(srcA->GetOutput());
  g->SetMovingImage(srcB->GetOutput());
  g->SetBlockSize(32);
  g->SetSearchRadius(4);
  g->Update();
  using Map = itk::Image<float, 2>;
  auto corr = itk::BlockCorrelationImageFilter<In, In, Map>::New();
  corr->SetInput1(srcA->GetOutput());
  corr->SetInput2(srcB->GetOutput());
  corr->SetBlockSize(32);
  corr->Update();
  double zeroOff = 0;
  for (itk::ImageRegionConstIteratorWithIndex<Map> it(corr->GetOutput(), corr->GetOutput()->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    zeroOff = std::max(zeroOff, std::fabs(double{ g->GetZeroShiftCorrelationOutput()->GetPixel(it.GetIndex()) } - it.Get()));
  }
  CHECK(zeroOff < 1e-5, "r at zero shift differs from the block correlation by %g", zeroOff);

  g->SetSearchRadius(300);
  expectThrow("search 300", [&] { g->Update(); }, { "Invalid parameters" });
}

} // namespace

const blockwise_test::Entry blockwise_test::local_tests[] = {
  { "local_box", test_local_box },
  { "local_corr_reference", test_local_corr_reference },
  { "local_streaming", test_local_streaming },
  { "block_shift", test_block_shift },
  { nullptr, nullptr },
};
