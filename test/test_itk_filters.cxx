/*
 * Tests of the ITK block filters: statistics and correlation per block,
 * geometry, requested regions and streaming.
 *
 * Oracles: plain per-block loops written here (two-pass, long double),
 * itk::BinShrinkImageFilter for block means and geometry, block-aligned
 * regions derived by hand for requested-region negotiation, and the
 * un-streamed output for streamed runs.
 */
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockStatisticsImageFilter.h"

#include "itkBinShrinkImageFilter.h"
#include "itkImageRegionSplitterSlowDimension.h"
#include "itkStreamingImageFilter.h"
#include "itkVectorImage.h"

#include "test_itk_filters.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <vector>

namespace
{

using namespace blockwise_test;

/* The reference: statistic of the pixels of output pixel `o` of an image
 * whose largest region is `largest`, computed with plain loops (two passes,
 * long double).  Partial edge blocks are clipped to the image. */
template <typename TImage>
double
reference(const TImage * a, const TImage * b, const itk::Size<TImage::ImageDimension> & block,
          const itk::Index<TImage::ImageDimension> & o, Stat stat, unsigned ddof, double fill)
{
  constexpr unsigned int D = TImage::ImageDimension;
  const auto             largest = a->GetLargestPossibleRegion();
  typename TImage::RegionType r;
  for (unsigned int d = 0; d < D; ++d)
  {
    const long lo = largest.GetIndex(d) + o[d] * static_cast<long>(block[d]);
    const long hi = std::min<long>(lo + static_cast<long>(block[d]),
                                   largest.GetIndex(d) + static_cast<long>(largest.GetSize(d)));
    r.SetIndex(d, lo);
    r.SetSize(d, static_cast<unsigned long>(hi - lo));
  }
  std::vector<long double> x, y;
  for (itk::ImageRegionConstIteratorWithIndex<TImage> it(a, r); !it.IsAtEnd(); ++it)
  {
    x.push_back(static_cast<long double>(it.Get()));
    if (b)
    {
      auto idx = it.GetIndex();
      for (unsigned int d = 0; d < D; ++d)
        idx[d] += b->GetLargestPossibleRegion().GetIndex(d) - largest.GetIndex(d);
      y.push_back(static_cast<long double>(b->GetPixel(idx)));
    }
  }
  const long double n = static_cast<long double>(x.size());
  long double       sx = 0, sy = 0;
  for (size_t i = 0; i < x.size(); ++i)
  {
    sx += x[i];
    if (b)
      sy += y[i];
  }
  const long double mx = sx / n, my = b ? sy / n : 0;
  long double       cxx = 0, cyy = 0, cxy = 0;
  for (size_t i = 0; i < x.size(); ++i)
  {
    cxx += (x[i] - mx) * (x[i] - mx);
    if (b)
    {
      cyy += (y[i] - my) * (y[i] - my);
      cxy += (x[i] - mx) * (y[i] - my);
    }
  }
  const long double dof = n - ddof;
  switch (stat)
  {
    case Stat::Count:
      return static_cast<double>(n);
    case Stat::Sum:
      return static_cast<double>(sx);
    case Stat::Mean:
      return static_cast<double>(mx);
    case Stat::Variance:
      return dof > 0 ? static_cast<double>(cxx / dof) : NAN;
    case Stat::StandardDeviation:
      return dof > 0 ? static_cast<double>(sqrtl(cxx / dof)) : NAN;
    case Stat::Minimum:
      return static_cast<double>(*std::min_element(x.begin(), x.end()));
    case Stat::Maximum:
      return static_cast<double>(*std::max_element(x.begin(), x.end()));
    case Stat::Covariance:
      return dof > 0 ? static_cast<double>(cxy / dof) : NAN;
    case Stat::Correlation:
      if (cxx == 0 || cyy == 0)
        return fill;
      return static_cast<double>(cxy / sqrtl(cxx * cyy));
  }
  return NAN;
}

bool
close(double got, double want, double tol)
{
  if (std::isnan(want))
    return std::isnan(got);
  return std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want));
}

/* ------------------------------------------------------------------------ */

template <typename TPixel, unsigned int D>
void
checkStats(const itk::ImageRegion<D> & largest, const itk::Size<D> & block, Edge edge, unsigned ddof)
{
  using In = itk::Image<TPixel, D>;
  using Out = itk::VectorImage<double, D>;
  auto src = makeSource<In>(largest, 7, 200.0);
  auto f = itk::BlockStatisticsImageFilter<In, Out>::New();
  const std::vector<Stat> stats{ Stat::Count, Stat::Sum,     Stat::Mean,   Stat::Variance,
                                 Stat::StandardDeviation, Stat::Minimum, Stat::Maximum };
  f->SetInput(src->GetOutput());
  f->SetBlockSize(block);
  f->SetEdgePolicy(edge);
  f->SetDdof(ddof);
  f->SetStatistics(stats);
  f->Update();
  const Out * out = f->GetOutput();
  const In *  in = src->GetOutput();
  CHECK(out->GetNumberOfComponentsPerPixel() == stats.size(), "components %u", out->GetNumberOfComponentsPerPixel());
  for (unsigned int d = 0; d < D; ++d)
  {
    const unsigned long n = largest.GetSize(d), b = block[d];
    const unsigned long want = edge == Edge::Partial ? (n + b - 1) / b : n / b;
    CHECK(out->GetLargestPossibleRegion().GetSize(d) == want, "axis %u: size %lu, want %lu", d,
          out->GetLargestPossibleRegion().GetSize(d), want);
  }
  for (itk::ImageRegionConstIteratorWithIndex<Out> it(out, out->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const auto v = it.Get();
    for (size_t k = 0; k < stats.size(); ++k)
    {
      const double want = reference<In>(in, nullptr, block, it.GetIndex(), stats[k], ddof, NAN);
      CHECK(close(v[k], want, 1e-9), "stat %d at block %ld: %.17g, want %.17g", static_cast<int>(stats[k]),
            static_cast<long>(it.GetIndex()[0]), v[k], want);
    }
  }
}

void
test_stats_reference()
{
  checkStats<unsigned short, 2>(regionOf<2>({ 0, 0 }, { 103, 47 }), itk::Size<2>{ { 10, 7 } }, Edge::Partial, 0);
  checkStats<short, 2>(regionOf<2>({ 3, -5 }, { 40, 40 }), itk::Size<2>{ { 8, 5 } }, Edge::Trim, 1);
  checkStats<float, 3>(regionOf<3>({ 0, 0, 0 }, { 21, 13, 9 }), itk::Size<3>{ { 4, 4, 2 } }, Edge::Partial, 1);
  checkStats<unsigned char, 3>(regionOf<3>({ 1, 2, 3 }, { 16, 16, 5 }), itk::Size<3>{ { 16, 3, 5 } }, Edge::Trim,
                               0);
  checkStats<double, 2>(regionOf<2>({ 0, 0 }, { 5, 3 }), itk::Size<2>{ { 10, 10 } }, Edge::Partial, 0);
}

template <typename TPixel, unsigned int D>
void
checkCorr(const itk::ImageRegion<D> & largest, const itk::Size<D> & block, Stat stat, unsigned ddof, double fill)
{
  using In = itk::Image<TPixel, D>;
  using Out = itk::Image<float, D>;
  auto a = makeSource<In>(largest, 1, 120.0);
  auto b = makeSource<In>(largest, 2, 120.0);
  auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  f->SetInput1(a->GetOutput());
  f->SetInput2(b->GetOutput());
  f->SetBlockSize(block);
  f->SetStatistic(stat);
  f->SetDdof(ddof);
  f->SetFillValue(fill);
  f->Update();
  const Out * out = f->GetOutput();
  for (itk::ImageRegionConstIteratorWithIndex<Out> it(out, out->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const double want = reference<In>(a->GetOutput(), b->GetOutput(), block, it.GetIndex(), stat, ddof, fill);
    CHECK(close(it.Get(), want, 1e-6), "%s at block (%ld, %ld): %.9g, want %.9g",
          stat == Stat::Correlation ? "r" : "cov", static_cast<long>(it.GetIndex()[0]),
          static_cast<long>(it.GetIndex()[1]), static_cast<double>(it.Get()), want);
  }
}

void
test_corr_reference()
{
  checkCorr<unsigned short, 2>(regionOf<2>({ 0, 0 }, { 203, 117 }), itk::Size<2>{ { 10, 10 } }, Stat::Correlation,
                               0, NAN);
  checkCorr<short, 2>(regionOf<2>({ -7, 4 }, { 64, 33 }), itk::Size<2>{ { 16, 4 } }, Stat::Covariance, 1, NAN);
  checkCorr<float, 3>(regionOf<3>({ 0, 0, 0 }, { 35, 18, 7 }), itk::Size<3>{ { 16, 16, 4 } }, Stat::Correlation, 0,
                      NAN);
  checkCorr<int, 3>(regionOf<3>({ 0, 0, 0 }, { 9, 9, 9 }), itk::Size<3>{ { 3, 3, 3 } }, Stat::Covariance, 0, NAN);
}

/* Constant blocks: NaN r, or the fill value. */
void
test_corr_constant()
{
  using In = itk::Image<unsigned char, 2>;
  using Out = itk::Image<double, 2>;
  for (double fill : { static_cast<double>(NAN), -2.0 })
  {
    auto a = makeSource<In>(regionOf<2>({ 0, 0 }, { 20, 10 }), 1, 0.0);
    auto b = makeSource<In>(regionOf<2>({ 0, 0 }, { 20, 10 }), 2, 50.0);
    a->m_Value = [](const In::IndexType & idx) { return static_cast<unsigned char>(idx[0] < 10 ? 7 : idx[0] + idx[1]); };
    auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
    f->SetInput1(a->GetOutput());
    f->SetInput2(b->GetOutput());
    f->SetBlockSize(10);
    f->SetFillValue(fill);
    f->Update();
    const double left = f->GetOutput()->GetPixel({ { 0, 0 } });
    const double right = f->GetOutput()->GetPixel({ { 1, 0 } });
    CHECK(std::isnan(fill) ? std::isnan(left) : left == fill, "constant block gave %g (fill %g)", left, fill);
    const double want = reference<In>(a->GetOutput(), b->GetOutput(), itk::Size<2>{ { 10, 10 } }, { { 1, 0 } },
                                      Stat::Correlation, 0, fill);
    CHECK(close(right, want, 1e-12), "r %.17g, want %.17g", right, want);
  }
}

/* The two inputs of a pair are generated at the same time: each source,
 * on its first pixel, waits for the other to have started (a gate, with a
 * minute's guard against a hang: the verdict is whether both saw the
 * other, not how long it took).  With ConcurrentInputs off, and when both
 * inputs come from one source, they are generated one after the other;
 * the maps are the same either way. */
void
test_corr_concurrent_inputs()
{
  using In = itk::Image<float, 2>;
  using Out = itk::Image<double, 2>;
  std::mutex              mutex;
  std::condition_variable changed;
  bool                    started[2] = { false, false }, saw[2] = { false, false };
  auto                    gated = [&](int me, const In::IndexType & idx, uint64_t seed) {
    if (idx[0] == 0 && idx[1] == 0)
    {
      std::unique_lock<std::mutex> lock(mutex);
      started[me] = true;
      changed.notify_all();
      saw[me] = changed.wait_for(lock, std::chrono::seconds(60), [&] { return started[1 - me]; });
    }
    return static_cast<float>(texture<2>(idx, seed, 50.0));
  };
  Out::Pointer maps[2];
  for (int concurrent = 1; concurrent >= 0; --concurrent)
  {
    auto a = makeSource<In>(regionOf<2>({ 0, 0 }, { 40, 30 }), 1, 50.0);
    auto b = makeSource<In>(regionOf<2>({ 0, 0 }, { 40, 30 }), 2, 50.0);
    if (concurrent)
    {
      a->m_Value = [&](const In::IndexType & idx) { return gated(0, idx, 1); };
      b->m_Value = [&](const In::IndexType & idx) { return gated(1, idx, 2); };
    }
    auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
    f->SetInput1(a->GetOutput());
    f->SetInput2(b->GetOutput());
    f->SetBlockSize(10);
    f->SetConcurrentInputs(concurrent != 0);
    f->Update();
    maps[concurrent] = f->GetOutput();
    CHECK(a->m_Requests.size() == 1 && b->m_Requests.size() == 1, "sources generated %zu and %zu times",
          a->m_Requests.size(), b->m_Requests.size());
  }
  CHECK(saw[0] && saw[1], "the inputs were not generated at the same time (%d, %d)", saw[0], saw[1]);
  CHECK(sameBits<Out>(maps[0], maps[1]), "concurrent and sequential maps differ");
  // One source behind both inputs: updated once, on the caller's thread.
  auto one = makeSource<In>(regionOf<2>({ 0, 0 }, { 40, 30 }), 3, 50.0);
  auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  f->SetInput1(one->GetOutput());
  f->SetInput2(one->GetOutput());
  f->SetBlockSize(10);
  f->Update();
  CHECK(one->m_Requests.size() == 1, "one source generated %zu times", one->m_Requests.size());
  // An exception in input 2's pipeline reaches the caller.
  auto ok = makeSource<In>(regionOf<2>({ 0, 0 }, { 40, 30 }), 4, 50.0);
  auto bad = makeSource<In>(regionOf<2>({ 0, 0 }, { 40, 30 }), 5, 50.0);
  bad->m_Value = [](const In::IndexType &) -> float { throw itk::ExceptionObject(__FILE__, __LINE__, "input 2 failed"); };
  auto g = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  g->SetInput1(ok->GetOutput());
  g->SetInput2(bad->GetOutput());
  g->SetBlockSize(10);
  expectThrow("input 2 throws", [&] { g->Update(); }, { "input 2 failed" });
}

/* Block means equal itk::BinShrinkImageFilter's on images whose size is a
 * multiple of the block, and so does the output geometry. */
template <typename TPixel, unsigned int D>
void
checkBinShrink(const itk::ImageRegion<D> & largest, const itk::Size<D> & block)
{
  using In = itk::Image<TPixel, D>;
  using Out = itk::Image<double, D>;
  auto src = makeSource<In>(largest, 3, 400.0);
  src->m_Spacing[0] = 0.5;
  src->m_Spacing[1] = 2.0;
  src->m_Origin[0] = -3.0;
  src->m_Origin[1] = 11.0;
  typename In::DirectionType dir;
  dir.SetIdentity();
  dir[0][0] = std::cos(0.3);
  dir[0][1] = -std::sin(0.3);
  dir[1][0] = std::sin(0.3);
  dir[1][1] = std::cos(0.3);
  src->m_Direction = dir;

  auto ours = itk::BlockStatisticsImageFilter<In, Out>::New();
  ours->SetInput(src->GetOutput());
  ours->SetBlockSize(block);
  ours->SetStatistic(Stat::Mean);
  ours->Update();
  auto shrink = itk::BinShrinkImageFilter<In, Out>::New();
  shrink->SetInput(src->GetOutput());
  typename itk::BinShrinkImageFilter<In, Out>::ShrinkFactorsType factors;
  for (unsigned int d = 0; d < D; ++d)
    factors[d] = static_cast<unsigned int>(block[d]);
  shrink->SetShrinkFactors(factors);
  shrink->Update();

  const Out * o = ours->GetOutput();
  const Out * s = shrink->GetOutput();
  CHECK(o->GetLargestPossibleRegion().GetSize() == s->GetLargestPossibleRegion().GetSize(), "sizes differ");
  for (unsigned int d = 0; d < D; ++d)
  {
    CHECK(std::fabs(o->GetSpacing()[d] - s->GetSpacing()[d]) < 1e-12, "spacing %u: %g vs %g", d, o->GetSpacing()[d],
          s->GetSpacing()[d]);
    CHECK(std::fabs(o->GetOrigin()[d] - s->GetOrigin()[d]) < 1e-9, "origin %u: %.12g vs %.12g", d, o->GetOrigin()[d],
          s->GetOrigin()[d]);
  }
  CHECK(o->GetDirection() == s->GetDirection(), "directions differ");
  itk::ImageRegionConstIterator<Out> io(o, o->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<Out> is(s, s->GetLargestPossibleRegion());
  for (; !io.IsAtEnd(); ++io, ++is)
    CHECK(close(io.Get(), is.Get(), 1e-12), "mean %.17g, BinShrink %.17g", io.Get(), is.Get());
}

void
test_binshrink()
{
  checkBinShrink<unsigned short, 2>(regionOf<2>({ 0, 0 }, { 120, 60 }), itk::Size<2>{ { 10, 6 } });
  checkBinShrink<float, 2>(regionOf<2>({ 0, 0 }, { 64, 64 }), itk::Size<2>{ { 4, 16 } });
  checkBinShrink<short, 3>(regionOf<3>({ 0, 0, 0 }, { 32, 16, 12 }), itk::Size<3>{ { 16, 4, 3 } });
}

/* ------------------------------------------------------------------------ */
/* Requested regions and streaming                                          */
/* ------------------------------------------------------------------------ */

/* The input pixels of the blocks of output region `o`, derived by hand. */
template <unsigned int D>
itk::ImageRegion<D>
blockAligned(const itk::ImageRegion<D> & o, const itk::ImageRegion<D> & largest, const itk::Size<D> & block)
{
  itk::ImageRegion<D> r;
  for (unsigned int d = 0; d < D; ++d)
  {
    const long b = static_cast<long>(block[d]);
    const long lo = o.GetIndex(d) * b;
    const long hi = std::min<long>((o.GetIndex(d) + static_cast<long>(o.GetSize(d))) * b,
                                   static_cast<long>(largest.GetSize(d)));
    r.SetIndex(d, largest.GetIndex(d) + lo);
    r.SetSize(d, static_cast<unsigned long>(hi - lo));
  }
  return r;
}

template <typename TFilter, unsigned int D>
void
checkRequests(TFilter * f, std::vector<SpySource<typename TFilter::InputImageType> *> spies,
              const itk::ImageRegion<D> & largest, const itk::Size<D> & block, unsigned int divisions)
{
  using Out = typename TFilter::OutputImageType;
  /* Modified sources run again for every piece, so each request shows. */
  for (auto * s : spies)
  {
    s->m_Requests.clear();
    s->Modified();
  }
  auto stream = itk::StreamingImageFilter<Out, Out>::New();
  stream->SetInput(f->GetOutput());
  stream->SetNumberOfStreamDivisions(divisions);
  stream->Update();

  const auto outLargest = stream->GetOutput()->GetLargestPossibleRegion();
  auto       splitter = itk::ImageRegionSplitterSlowDimension::New();
  const unsigned int n = splitter->GetNumberOfSplits(outLargest, divisions);
  for (auto * s : spies)
  {
    CHECK(s->m_Requests.size() == n, "%zu requests for %u pieces", s->m_Requests.size(), n);
    for (unsigned int i = 0; i < n; ++i)
    {
      itk::ImageRegion<D> piece = outLargest;
      splitter->GetSplit(i, n, piece);
      const auto want = blockAligned(piece, largest, block);
      std::ostringstream got, exp;
      got << s->m_Requests[i];
      exp << want;
      CHECK(s->m_Requests[i] == want, "piece %u: requested %s, want %s", i, got.str().c_str(), exp.str().c_str());
    }
  }
}

void
test_requested_regions()
{
  {
    using In = itk::Image<unsigned short, 2>;
    using Out = itk::Image<float, 2>;
    const auto largest = regionOf<2>({ 5, -3 }, { 103, 97 });
    const itk::Size<2> block{ { 10, 7 } };
    auto a = makeSource<In>(largest, 1, 50.0);
    auto b = makeSource<In>(largest, 2, 50.0);
    auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
    f->SetInput1(a->GetOutput());
    f->SetInput2(b->GetOutput());
    f->SetBlockSize(block);
    for (unsigned int div : { 1u, 3u, 7u, 64u })
      checkRequests<decltype(f)::ObjectType, 2>(f, { a.GetPointer(), b.GetPointer() }, largest, block, div);
    f->SetEdgePolicy(Edge::Trim);
    for (unsigned int div : { 1u, 5u })
      checkRequests<decltype(f)::ObjectType, 2>(f, { a.GetPointer(), b.GetPointer() }, largest, block, div);
  }
  {
    using In = itk::Image<float, 3>;
    using Out = itk::Image<double, 3>;
    const auto largest = regionOf<3>({ 0, 0, 0 }, { 40, 30, 21 });
    const itk::Size<3> block{ { 16, 16, 4 } };
    auto a = makeSource<In>(largest, 1, 50.0);
    auto f = itk::BlockStatisticsImageFilter<In, Out>::New();
    f->SetInput(a->GetOutput());
    f->SetBlockSize(block);
    f->SetStatistic(Stat::StandardDeviation);
    for (unsigned int div : { 1u, 2u, 6u })
      checkRequests<decltype(f)::ObjectType, 3>(f, { a.GetPointer() }, largest, block, div);
  }
}

template <typename TFilter>
void
checkStreaming(TFilter * f)
{
  using Out = typename TFilter::OutputImageType;
  f->Update();
  typename Out::Pointer whole = f->GetOutput();
  whole->DisconnectPipeline();
  for (unsigned int div : { 1u, 7u, 64u })
  {
    auto stream = itk::StreamingImageFilter<Out, Out>::New();
    stream->SetInput(f->GetOutput());
    stream->SetNumberOfStreamDivisions(div);
    stream->Update();
    CHECK(sameBits<Out>(stream->GetOutput(), whole), "%u divisions differ from the whole image", div);
  }
}

void
test_streaming()
{
  {
    using In = itk::Image<unsigned short, 2>;
    using Out = itk::Image<float, 2>;
    const auto largest = regionOf<2>({ 0, 0 }, { 1013, 517 });
    auto a = makeSource<In>(largest, 1, 3000.0);
    auto b = makeSource<In>(largest, 2, 3000.0);
    auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
    f->SetInput1(a->GetOutput());
    f->SetInput2(b->GetOutput());
    f->SetBlockSize(10);
    checkStreaming(f.GetPointer());
  }
  {
    using In = itk::Image<float, 3>;
    using Out = itk::VectorImage<double, 3>;
    const auto largest = regionOf<3>({ 0, 0, 0 }, { 70, 66, 130 });
    auto a = makeSource<In>(largest, 4, 10.0);
    auto f = itk::BlockStatisticsImageFilter<In, Out>::New();
    f->SetInput(a->GetOutput());
    f->SetBlockSize(itk::Size<3>{ { 16, 16, 4 } });
    f->SetStatistics({ Stat::Mean, Stat::Variance, Stat::Maximum });
    checkStreaming(f.GetPointer());
  }
  {
    using In = itk::Image<short, 3>;
    using Out = itk::Image<double, 3>;
    const auto largest = regionOf<3>({ 0, 0, 0 }, { 33, 31, 67 });
    auto a = makeSource<In>(largest, 5, 3000.0);
    auto b = makeSource<In>(largest, 6, 3000.0);
    auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
    f->SetInput1(a->GetOutput());
    f->SetInput2(b->GetOutput());
    f->SetBlockSize(itk::Size<3>{ { 4, 4, 4 } });
    f->SetEdgePolicy(Edge::Trim);
    checkStreaming(f.GetPointer());
  }
}

} // namespace

const blockwise_test::Entry blockwise_test::filter_tests[] = {
  { "stats_reference", test_stats_reference },
  { "corr_reference", test_corr_reference },
  { "corr_constant", test_corr_constant },
  { "corr_concurrent_inputs", test_corr_concurrent_inputs },
  { "binshrink", test_binshrink },
  { "requested_regions", test_requested_regions },
  { "streaming", test_streaming },
  { nullptr, nullptr },
};
