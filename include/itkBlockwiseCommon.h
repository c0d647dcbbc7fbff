/*=========================================================================
 *
 *  Blockwise: what the ITK filters share.  The enumerations users set, and
 *  the adaptors between ITK images and the C core: element types, strided
 *  views of image buffers (no copies) and regions in the core's C order.
 *
 *=========================================================================*/
#ifndef itkBlockwiseCommon_h
#define itkBlockwiseCommon_h

#include "blockwise.h"

#include "itkImageRegion.h"
#include "itkIntTypes.h"
#include "itkMacro.h"

#include <ostream>
#include <type_traits>

namespace itk
{

/** \class BlockwiseEnums
 * \brief Enumerations of the Blockwise block filters.
 * \ingroup Blockwise
 */
class BlockwiseEnums
{
public:
  /** A statistic of the pixels of one block (of a pair, for Covariance and
   * Correlation). */
  enum class Statistic : uint8_t
  {
    Count,
    Sum,
    Mean,
    Variance,
    StandardDeviation,
    Minimum,
    Maximum,
    Covariance,
    Correlation
  };

  /** What happens to blocks cut short by the image edge: Partial keeps them
   * (statistics over the pixels they have), Trim drops them. */
  enum class EdgePolicy : uint8_t
  {
    Partial,
    Trim
  };
};

inline std::ostream &
operator<<(std::ostream & out, const BlockwiseEnums::Statistic value)
{
  switch (value)
  {
    case BlockwiseEnums::Statistic::Count:
      return out << "BlockwiseEnums::Statistic::Count";
    case BlockwiseEnums::Statistic::Sum:
      return out << "BlockwiseEnums::Statistic::Sum";
    case BlockwiseEnums::Statistic::Mean:
      return out << "BlockwiseEnums::Statistic::Mean";
    case BlockwiseEnums::Statistic::Variance:
      return out << "BlockwiseEnums::Statistic::Variance";
    case BlockwiseEnums::Statistic::StandardDeviation:
      return out << "BlockwiseEnums::Statistic::StandardDeviation";
    case BlockwiseEnums::Statistic::Minimum:
      return out << "BlockwiseEnums::Statistic::Minimum";
    case BlockwiseEnums::Statistic::Maximum:
      return out << "BlockwiseEnums::Statistic::Maximum";
    case BlockwiseEnums::Statistic::Covariance:
      return out << "BlockwiseEnums::Statistic::Covariance";
    case BlockwiseEnums::Statistic::Correlation:
      return out << "BlockwiseEnums::Statistic::Correlation";
  }
  return out << "BlockwiseEnums::Statistic::INVALID";
}

inline std::ostream &
operator<<(std::ostream & out, const BlockwiseEnums::EdgePolicy value)
{
  switch (value)
  {
    case BlockwiseEnums::EdgePolicy::Partial:
      return out << "BlockwiseEnums::EdgePolicy::Partial";
    case BlockwiseEnums::EdgePolicy::Trim:
      return out << "BlockwiseEnums::EdgePolicy::Trim";
  }
  return out << "BlockwiseEnums::EdgePolicy::INVALID";
}

namespace blockwise
{

/** The core's element type for an ITK pixel component type.  Only the types
 * the core supports have a value; the filters static_assert on `supported`,
 * so any other pixel type fails to compile with a message. */
template <typename T>
struct DType
{
  static constexpr bool supported = false;
};

#define BLOCKWISE_DTYPE(T, D)                                                                                          \
  template <>                                                                                                          \
  struct DType<T>                                                                                                      \
  {                                                                                                                    \
    static constexpr bool     supported = true;                                                                       \
    static constexpr bw_dtype value = D;                                                                               \
  }
BLOCKWISE_DTYPE(unsigned char, BW_U8);
BLOCKWISE_DTYPE(signed char, BW_I8);
BLOCKWISE_DTYPE(char, std::is_signed<char>::value ? BW_I8 : BW_U8);
BLOCKWISE_DTYPE(unsigned short, BW_U16);
BLOCKWISE_DTYPE(short, BW_I16);
BLOCKWISE_DTYPE(unsigned int, BW_U32);
BLOCKWISE_DTYPE(int, BW_I32);
BLOCKWISE_DTYPE(float, BW_F32);
BLOCKWISE_DTYPE(double, BW_F64);
#undef BLOCKWISE_DTYPE

/** A region of an ITK image as the core's region (C order: the slowest axis
 * first), relative to @origin, the start of the image's largest region. */
template <unsigned int D>
bw_region
ToCore(const ImageRegion<D> & region, const Index<D> & origin)
{
  bw_region r{};
  for (unsigned int d = 0; d < D; ++d)
  {
    r.start[D - 1 - d] = static_cast<ptrdiff_t>(region.GetIndex(d) - origin[d]);
    r.size[D - 1 - d] = static_cast<ptrdiff_t>(region.GetSize(d));
  }
  return r;
}

/** The inverse of ToCore(). */
template <unsigned int D>
ImageRegion<D>
FromCore(const bw_region & r, const Index<D> & origin)
{
  ImageRegion<D> region;
  for (unsigned int d = 0; d < D; ++d)
  {
    region.SetIndex(d, origin[d] + static_cast<IndexValueType>(r.start[D - 1 - d]));
    region.SetSize(d, static_cast<SizeValueType>(r.size[D - 1 - d]));
  }
  return region;
}

/** Extents of an ITK size in C order. */
template <unsigned int D>
void
ShapeToCore(const Size<D> & size, ptrdiff_t * shape)
{
  for (unsigned int d = 0; d < D; ++d)
  {
    shape[D - 1 - d] = static_cast<ptrdiff_t>(size[d]);
  }
}

/** A strided view of @region inside the buffer of an image whose buffered
 * region is @buffered and whose first element is at @buffer.  Pixels hold
 * @components elements of type T; the view shows component @component.
 * No pixel is copied. */
template <typename T, unsigned int D>
bw_view
ViewOf(const T *               buffer,
       const ImageRegion<D> &  buffered,
       const ImageRegion<D> &  region,
       unsigned int            components = 1,
       unsigned int            component = 0)
{
  static_assert(DType<T>::supported, "Blockwise: unsupported pixel component type");
  bw_view   v{};
  ptrdiff_t stride = static_cast<ptrdiff_t>(components * sizeof(T));
  ptrdiff_t offset = static_cast<ptrdiff_t>(component);
  ptrdiff_t step = static_cast<ptrdiff_t>(components);
  for (unsigned int d = 0; d < D; ++d)
  {
    offset += step * static_cast<ptrdiff_t>(region.GetIndex(d) - buffered.GetIndex(d));
    v.shape[D - 1 - d] = static_cast<ptrdiff_t>(region.GetSize(d));
    v.strides[D - 1 - d] = stride;
    stride *= static_cast<ptrdiff_t>(buffered.GetSize(d));
    step *= static_cast<ptrdiff_t>(buffered.GetSize(d));
  }
  v.data = const_cast<T *>(buffer) + offset;
  v.dtype = DType<T>::value;
  v.ndim = static_cast<int>(D);
  return v;
}

/** The core's statistic for an ITK enumeration value. */
inline bw_stat
ToCore(BlockwiseEnums::Statistic s)
{
  switch (s)
  {
    case BlockwiseEnums::Statistic::Count:
      return BW_STAT_COUNT;
    case BlockwiseEnums::Statistic::Sum:
      return BW_STAT_SUM;
    case BlockwiseEnums::Statistic::Mean:
      return BW_STAT_MEAN;
    case BlockwiseEnums::Statistic::Variance:
      return BW_STAT_VAR;
    case BlockwiseEnums::Statistic::StandardDeviation:
      return BW_STAT_STD;
    case BlockwiseEnums::Statistic::Minimum:
      return BW_STAT_MIN;
    case BlockwiseEnums::Statistic::Maximum:
      return BW_STAT_MAX;
    case BlockwiseEnums::Statistic::Covariance:
      return BW_STAT_COV;
    case BlockwiseEnums::Statistic::Correlation:
      return BW_STAT_CORR;
  }
  return BW_STAT_MEAN;
}

} // namespace blockwise
} // namespace itk

#endif
