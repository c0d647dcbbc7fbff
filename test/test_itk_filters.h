/*
 * What the tests of the ITK filters share: a source that makes pixels from
 * their index and records the regions asked of it, test textures, regions
 * and a bitwise comparison of images.
 */
#ifndef BLOCKWISE_TEST_ITK_FILTERS_H
#define BLOCKWISE_TEST_ITK_FILTERS_H

#include "itkBlockwiseCommon.h"

#include "itkImage.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkImageSource.h"

#include "test_itk.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <vector>

namespace blockwise_test
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

/* The same regions and the same bytes. */
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

} // namespace blockwise_test

#endif
