/*
 * Tests of the ITK block filters.  One executable for the ITK layer:
 * `blockwise_itk_tests NAME` runs one test (CTest registers each).
 *
 * Oracles: plain per-block loops written here (two-pass, long double),
 * itk::BinShrinkImageFilter for block means and geometry, block-aligned
 * regions derived by hand for requested-region negotiation, and the
 * un-streamed output for streamed runs.
 */
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockStatisticsImageFilter.h"
#include "itkNonLocalMeansImageFilter.h"

#include "itkBinShrinkImageFilter.h"
#include "itkImage.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkImageRegionSplitterMultidimensional.h"
#include "itkImageRegionSplitterSlowDimension.h"
#include "itkImageSource.h"
#include "itkStreamingImageFilter.h"
#include "itkVectorImage.h"

#include "test_itk.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

namespace
{

using Stat = itk::BlockwiseEnums::Statistic;
using Edge = itk::BlockwiseEnums::EdgePolicy;

/* A source that makes pixel values from their index (the same value for an
 * index whatever region is asked for) and records every region asked of
 * it. */
template <typename TImage>
class SpySource : public itk::ImageSource<TImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(SpySource);
  using Self = SpySource;
  using Superclass = itk::ImageSource<TImage>;
  using Pointer = itk::SmartPointer<Self>;
  itkNewMacro(Self);
  itkTypeMacro(SpySource, ImageSource);

  using RegionType = typename TImage::RegionType;
  using PixelType = typename TImage::PixelType;
  static constexpr unsigned int D = TImage::ImageDimension;

  RegionType                                                       m_Largest;
  typename TImage::SpacingType                                     m_Spacing;
  typename TImage::PointType                                       m_Origin;
  typename TImage::DirectionType                                   m_Direction;
  std::function<PixelType(const typename TImage::IndexType &)>     m_Value;
  std::vector<RegionType>                                          m_Requests;

protected:
  SpySource()
  {
    m_Spacing.Fill(1.0);
    m_Origin.Fill(0.0);
    m_Direction.SetIdentity();
  }
  void
  GenerateOutputInformation() override
  {
    TImage * out = this->GetOutput();
    out->SetLargestPossibleRegion(m_Largest);
    out->SetSpacing(m_Spacing);
    out->SetOrigin(m_Origin);
    out->SetDirection(m_Direction);
  }
  void
  GenerateData() override
  {
    TImage * out = this->GetOutput();
    m_Requests.push_back(out->GetRequestedRegion());
    out->SetBufferedRegion(out->GetRequestedRegion());
    out->Allocate();
    for (itk::ImageRegionIteratorWithIndex<TImage> it(out, out->GetRequestedRegion()); !it.IsAtEnd(); ++it)
    {
      it.Set(m_Value(it.GetIndex()));
    }
  }
};

using blockwise_test::mix;

/* A textured value plus noise, deterministic per index; pair images share
 * the texture so that r is high but not 1. */
template <unsigned int D>
double
texture(const itk::Index<D> & idx, uint64_t seed, double noise)
{
  double   v = 1000.0;
  uint64_t h = seed;
  for (unsigned int d = 0; d < D; ++d)
  {
    v += 300.0 * std::sin(0.37 * static_cast<double>(idx[d]) * (d + 1));
    h = mix(h ^ static_cast<uint64_t>(idx[d] + 1000003 * d));
  }
  return v + noise * (static_cast<double>(h >> 11) / 9007199254740992.0 - 0.5);
}

template <typename TImage>
typename SpySource<TImage>::Pointer
makeSource(const typename TImage::RegionType & largest, uint64_t seed, double noise)
{
  auto src = SpySource<TImage>::New();
  src->m_Largest = largest;
  src->m_Value = [seed, noise](const typename TImage::IndexType & idx) {
    return static_cast<typename TImage::PixelType>(texture<TImage::ImageDimension>(idx, seed, noise));
  };
  return src;
}

template <unsigned int D>
itk::ImageRegion<D>
regionOf(std::initializer_list<long> index, std::initializer_list<unsigned long> size)
{
  itk::ImageRegion<D> r;
  unsigned int        d = 0;
  for (long i : index)
    r.SetIndex(d++, i);
  d = 0;
  for (unsigned long s : size)
    r.SetSize(d++, s);
  return r;
}

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

template <typename TImage>
bool
sameBits(const TImage * x, const TImage * y)
{
  if (x->GetLargestPossibleRegion() != y->GetLargestPossibleRegion() ||
      x->GetBufferedRegion() != y->GetBufferedRegion())
    return false;
  const size_t bytes = x->GetPixelContainer()->Size() * sizeof(typename TImage::InternalPixelType);
  return std::memcmp(x->GetBufferPointer(), y->GetBufferPointer(), bytes) == 0;
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

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Runs `update`; passes if it throws an itk::ExceptionObject whose message
 * contains every string of `words`. */
void
expectThrow(const char * what, const std::function<void()> & update, std::vector<std::string> words)
{
  try
  {
    update();
  }
  catch (const itk::ExceptionObject & e)
  {
    const std::string msg = e.GetDescription();
    for (const auto & w : words)
      CHECK(msg.find(w) != std::string::npos, "%s: message \"%s\" lacks \"%s\"", what, msg.c_str(), w.c_str());
    return;
  }
  CHECK(false, "%s: no exception", what);
}

void
test_errors()
{
  using In = itk::Image<unsigned short, 2>;
  using Out = itk::Image<float, 2>;
  auto a = makeSource<In>(regionOf<2>({ 0, 0 }, { 100, 50 }), 1, 10.0);
  auto b = makeSource<In>(regionOf<2>({ 0, 0 }, { 100, 51 }), 2, 10.0);
  auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  f->SetInput1(a->GetOutput());
  f->SetInput2(b->GetOutput());
  expectThrow("sizes", [&] { f->Update(); }, { "[100, 50]", "[100, 51]" });

  auto shifted = makeSource<In>(regionOf<2>({ 3, 0 }, { 100, 50 }), 2, 10.0);
  f->SetInput2(shifted->GetOutput());
  expectThrow("start indices", [&] { f->Update(); }, { "[0, 0]", "[3, 0]" });

  auto c = makeSource<In>(regionOf<2>({ 0, 0 }, { 100, 50 }), 2, 10.0);
  f->SetInput2(c->GetOutput());
  f->SetBlockSize(0);
  expectThrow("block 0", [&] { f->Update(); }, { "BlockSize" });
  f->SetBlockSize(itk::Size<2>{ { 10, 60 } });
  f->SetEdgePolicy(Edge::Trim);
  expectThrow("trim leaves nothing", [&] { f->Update(); }, { "[100, 50]" });
  f->SetEdgePolicy(Edge::Partial);
  f->SetStatistic(Stat::Mean);
  expectThrow("mean of a pair", [&] { f->Update(); }, { "Correlation or Covariance" });
  f->SetStatistic(Stat::Correlation);
  f->Update(); /* recovers */

  auto g = itk::BlockStatisticsImageFilter<In, Out>::New();
  g->SetInput(a->GetOutput());
  g->SetStatistics({ Stat::Mean, Stat::Maximum });
  expectThrow("two stats, scalar output", [&] { g->Update(); }, { "VectorImage" });
  g->SetStatistic(Stat::Correlation);
  expectThrow("corr of one image", [&] { g->Update(); }, { "BlockCorrelationImageFilter" });
  g->SetStatistics({});
  expectThrow("no statistic", [&] { g->Update(); }, { "No statistic" });

  auto h = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  h->SetInput1(a->GetOutput());
  expectThrow("missing input", [&] { h->Update(); }, {});
}

/* PrintSelf shows every parameter. */
void
test_print()
{
  using In = itk::Image<unsigned short, 3>;
  using Out = itk::Image<float, 3>;
  auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  f->SetBlockSize(itk::Size<3>{ { 16, 16, 4 } });
  f->SetEdgePolicy(Edge::Trim);
  f->SetDdof(1);
  f->SetFillValue(0.25);
  std::ostringstream os;
  f->Print(os);
  for (const char * w : { "BlockSize: [16, 16, 4]", "EdgePolicy: BlockwiseEnums::EdgePolicy::Trim", "Ddof: 1",
                          "FillValue: 0.25", "Statistic: BlockwiseEnums::Statistic::Correlation" })
    CHECK(os.str().find(w) != std::string::npos, "PrintSelf lacks \"%s\"", w);
}

/* ------------------------------------------------------------------------ */
/* Non-local means                                                          */
/* ------------------------------------------------------------------------ */

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

/* The core's parameters pass into a filter as they are: getters show them
 * in ITK's axis order (worked out by hand), the output equals that of the
 * same settings made one by one, and a mismatched dimension is refused. */
void
test_core_parameters()
{
  using In = itk::Image<unsigned short, 3>;
  using Out = itk::Image<float, 3>;
  const auto      largest = regionOf<3>({ 0, 0, 0 }, { 41, 23, 17 });
  auto            a = makeSource<In>(largest, 11, 90.0);
  auto            b = makeSource<In>(largest, 12, 90.0);
  const ptrdiff_t block[3] = { 2, 3, 5 }; // Z, Y, X
  bw_block_params p;
  bw_block_params_init(&p, 3, block);
  p.edge = BW_EDGE_TRIM;
  p.ddof = 1;
  p.use_fill = 1;
  p.fill = -2.5;
  auto viaCore = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  viaCore->SetInput1(a->GetOutput());
  viaCore->SetInput2(b->GetOutput());
  viaCore->SetCoreParameters(p);
  CHECK(viaCore->GetBlockSize() == (itk::Size<3>{ { 5, 3, 2 } }), "block size in ITK order");
  CHECK(viaCore->GetEdgePolicy() == Edge::Trim && viaCore->GetDdof() == 1 && viaCore->GetFillValue() == -2.5,
        "edge, ddof, fill");
  auto viaSetters = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  viaSetters->SetInput1(a->GetOutput());
  viaSetters->SetInput2(b->GetOutput());
  viaSetters->SetBlockSize(itk::Size<3>{ { 5, 3, 2 } });
  viaSetters->SetEdgePolicy(Edge::Trim);
  viaSetters->SetDdof(1);
  viaSetters->SetFillValue(-2.5);
  const bw_block_params & q = viaSetters->GetCoreParameters();
  CHECK(q.block[0] == 2 && q.block[1] == 3 && q.block[2] == 5 && q.edge == BW_EDGE_TRIM && q.ddof == 1 &&
          q.use_fill == 1 && q.fill == -2.5,
        "setters give the core's order");
  viaSetters->SetFillValue(std::numeric_limits<double>::quiet_NaN());
  CHECK(viaSetters->GetCoreParameters().use_fill == 0 && std::isnan(viaSetters->GetFillValue()), "NaN: no fill");
  viaSetters->SetFillValue(-2.5);
  viaCore->Update();
  viaSetters->Update();
  const auto region = viaCore->GetOutput()->GetBufferedRegion();
  CHECK(region.GetSize() == (itk::Size<3>{ { 8, 7, 8 } }), "trim output size");
  CHECK(region == viaSetters->GetOutput()->GetBufferedRegion(), "same output region");
  CHECK(std::memcmp(viaCore->GetOutput()->GetBufferPointer(), viaSetters->GetOutput()->GetBufferPointer(),
                    region.GetNumberOfPixels() * sizeof(float)) == 0,
        "same bits either way");

  bw_block_params flat;
  bw_block_params_init(&flat, 2, nullptr);
  expectThrow("2-D parameters", [&] { viaCore->SetCoreParameters(flat); }, { "2-D", "3-D" });
  // The core's own check and message, with the setting in ITK terms.
  viaSetters->SetBlockSize(itk::Size<3>{ { 4, 0, 2 } });
  expectThrow("block 0", [&] { viaSetters->Update(); }, { "BlockSize [4, 0, 2]", "block sizes must be at least 1" });
  // Defaults: the core's.
  auto fresh = itk::BlockStatisticsImageFilter<In, Out>::New();
  CHECK(fresh->GetBlockSize() == (itk::Size<3>{ { BW_BLOCK_DEFAULT, BW_BLOCK_DEFAULT, BW_BLOCK_DEFAULT } }),
        "default block");

  // Statistic names: the core's table gives the ITK enumeration.
  CHECK(itk::blockwise::StatisticFromName("std") == Stat::StandardDeviation, "std");
  CHECK(itk::blockwise::StatisticFromName("covariance") == Stat::Covariance, "covariance");
  CHECK(itk::blockwise::ToCore(Stat::Maximum) == BW_STAT_MAX, "to the core");
  CHECK(itk::blockwise::FromCore(BW_STAT_COUNT) == Stat::Count, "from the core");
  expectThrow("unknown name", [] { itk::blockwise::StatisticFromName("median"); }, { "unknown statistic 'median'" });

  // Non-local means: radii in ITK order, the split axis from the core's halo.
  using Img = itk::Image<float, 3>;
  auto            src = makeSource<Img>(regionOf<3>({ 0, 0, 0 }, { 24, 20, 9 }), 13, 40.0);
  bw_nlm_params   n;
  bw_nlm_params_init(&n, 3, 15.0);
  n.patch[0] = 1, n.patch[1] = 2, n.patch[2] = 3;
  n.search[0] = 2, n.search[1] = 4, n.search[2] = 5;
  n.h = 9.0;
  auto viaNlm = itk::NonLocalMeansImageFilter<Img, Img>::New();
  viaNlm->SetInput(src->GetOutput());
  viaNlm->SetCoreParameters(n);
  CHECK(viaNlm->GetPatchRadius() == (itk::Size<3>{ { 3, 2, 1 } }), "patch in ITK order");
  CHECK(viaNlm->GetSearchRadius() == (itk::Size<3>{ { 5, 4, 2 } }), "search in ITK order");
  CHECK(viaNlm->GetSigma() == 15.0 && viaNlm->GetH() == 9.0, "sigma, h");
  auto bySetters = itk::NonLocalMeansImageFilter<Img, Img>::New();
  bySetters->SetInput(src->GetOutput());
  bySetters->SetPatchRadius(itk::Size<3>{ { 3, 2, 1 } });
  bySetters->SetSearchRadius(itk::Size<3>{ { 5, 4, 2 } });
  bySetters->SetSigma(15.0);
  bySetters->SetH(9.0);
  viaNlm->Update();
  bySetters->Update();
  const auto r = viaNlm->GetOutput()->GetBufferedRegion();
  CHECK(std::memcmp(viaNlm->GetOutput()->GetBufferPointer(), bySetters->GetOutput()->GetBufferPointer(),
                    r.GetNumberOfPixels() * sizeof(float)) == 0,
        "NLM: same bits either way");
  auto nlmDefaults = itk::NonLocalMeansImageFilter<Img, Img>::New();
  CHECK(nlmDefaults->GetPatchRadius() == (itk::Size<3>{ { 3, 3, 3 } }) &&
          nlmDefaults->GetSearchRadius() == (itk::Size<3>{ { 10, 10, 10 } }),
        "NLM defaults");
}

} // namespace

const blockwise_test::Entry blockwise_test::filter_tests[] = {
  { "stats_reference", test_stats_reference },
  { "corr_reference", test_corr_reference },
  { "corr_constant", test_corr_constant },
  { "binshrink", test_binshrink },
  { "requested_regions", test_requested_regions },
  { "streaming", test_streaming },
  { "errors", test_errors },
  { "print", test_print },
  { "core_parameters", test_core_parameters },
  { "nlm_reference", test_nlm_reference },
  { "nlm_poisson", test_nlm_poisson },
  { "nlm_streaming", test_nlm_streaming },
  { "nlm_requested_region", test_nlm_requested_region },
  { "nlm_errors", test_nlm_errors },
  { "nlm_print", test_nlm_print },
  { nullptr, nullptr },
};
