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

#include "itkImageBase.h"
#include "itkContinuousIndex.h"
#include "itkImageRegion.h"
#include "itkIntTypes.h"
#include "itkMacro.h"
#include "itkProcessObject.h"

#include <cmath>
#include <limits>
#include <ostream>
#include <string>
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
   * Correlation).  The values are the core's bw_stat values. */
  enum class Statistic : uint8_t
  {
    Count = BW_STAT_COUNT,
    Sum = BW_STAT_SUM,
    Mean = BW_STAT_MEAN,
    Variance = BW_STAT_VAR,
    StandardDeviation = BW_STAT_STD,
    Minimum = BW_STAT_MIN,
    Maximum = BW_STAT_MAX,
    Covariance = BW_STAT_COV,
    Correlation = BW_STAT_CORR
  };

  /** What happens to blocks cut short by the image edge: Partial keeps them
   * (statistics over the pixels they have), Trim drops them.  The values
   * are the core's bw_edge values. */
  enum class EdgePolicy : uint8_t
  {
    Partial = BW_EDGE_PARTIAL,
    Trim = BW_EDGE_TRIM
  };
};

namespace blockwise
{

/** Prints "@prefix" followed by @names[@value], or INVALID past @count: the
 * operator<< of every Blockwise enumeration. */
inline std::ostream &
PrintEnum(std::ostream & out, const char * prefix, const char * const * names, unsigned int count, unsigned int value)
{
  return out << prefix << (value < count ? names[value] : "INVALID");
}

} // namespace blockwise

inline std::ostream &
operator<<(std::ostream & out, const BlockwiseEnums::Statistic value)
{
  static const char * const names[BW_NUM_STATS] = { "Count",   "Sum",     "Mean",       "Variance",   "StandardDeviation",
                                                     "Minimum", "Maximum", "Covariance", "Correlation" };
  return blockwise::PrintEnum(out, "BlockwiseEnums::Statistic::", names, BW_NUM_STATS, static_cast<unsigned int>(value));
}

inline std::ostream &
operator<<(std::ostream & out, const BlockwiseEnums::EdgePolicy value)
{
  static const char * const names[] = { "Partial", "Trim" };
  return blockwise::PrintEnum(out, "BlockwiseEnums::EdgePolicy::", names, 2, static_cast<unsigned int>(value));
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

static_assert(BW_NUM_STATS == 9, "BlockwiseEnums::Statistic lists every bw_stat");

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

/** The entries of an ITK size (fastest axis first) in the core's C order
 * (slowest first): image extents, block sizes, radii.  Values past
 * ptrdiff_t's range become its largest value, which every core check
 * rejects by value rather than as a wrapped negative number. */
template <unsigned int D>
void
SizeToCore(const Size<D> & size, ptrdiff_t * core)
{
  constexpr SizeValueType largest = static_cast<SizeValueType>(std::numeric_limits<ptrdiff_t>::max());
  for (unsigned int d = 0; d < D; ++d)
  {
    core[D - 1 - d] = size[d] > largest ? std::numeric_limits<ptrdiff_t>::max() : static_cast<ptrdiff_t>(size[d]);
  }
}

/** The inverse of SizeToCore(): @core (C order) as an ITK size; negative
 * entries, which no valid parameter has, become 0. */
template <unsigned int D>
Size<D>
SizeFromCore(const ptrdiff_t * core)
{
  Size<D> size;
  for (unsigned int d = 0; d < D; ++d)
  {
    size[d] = core[D - 1 - d] < 0 ? 0 : static_cast<SizeValueType>(core[D - 1 - d]);
  }
  return size;
}

/** Extents of an image in C order (SizeToCore() of its size). */
template <unsigned int D>
void
ShapeToCore(const Size<D> & size, ptrdiff_t * shape)
{
  SizeToCore(size, shape);
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

/** The core's statistic for an ITK enumeration value, and back: the same
 * numbers (BlockwiseEnums::Statistic is defined from bw_stat); names map to
 * both through the core's one table, bw_stat_from_name(). */
inline bw_stat
ToCore(BlockwiseEnums::Statistic s)
{
  return static_cast<bw_stat>(s);
}

inline BlockwiseEnums::Statistic
FromCore(bw_stat s)
{
  return static_cast<BlockwiseEnums::Statistic>(s);
}

/** The statistic named @name (short or long name, as bw_stat_from_name()
 * takes them); throws itk::ExceptionObject for any other name. */
inline BlockwiseEnums::Statistic
StatisticFromName(const std::string & name)
{
  bw_stat  s;
  bw_error err;
  if (bw_stat_from_name(name.c_str(), &s, &err) != BW_OK)
  {
    itkGenericExceptionMacro(<< err.message);
  }
  return FromCore(s);
}

/** @outputRegion (relative to @outputOrigin, the start of the output's
 * largest region) mapped to the region of @input it needs by @coreMap, a
 * region map of the core called as coreMap(imageShape, &outCore, &inCore,
 * &err).  Throws
 * itk::ExceptionObject with the core's message when there is none. */
template <unsigned int D, typename TCoreMap>
ImageRegion<D>
MapRegion(const ImageBase<D> * input, const ImageRegion<D> & outputRegion, const Index<D> & outputOrigin,
          TCoreMap && coreMap)
{
  if (input == nullptr)
  {
    itkGenericExceptionMacro(<< "Input 0 is not set");
  }
  const ImageRegion<D> largest = input->GetLargestPossibleRegion();
  ptrdiff_t            shape[BW_MAX_DIMS] = { 0, 0, 0 };
  ShapeToCore(largest.GetSize(), shape);
  const bw_region outCore = ToCore(outputRegion, outputOrigin);
  bw_region       inCore;
  bw_error        err;
  if (coreMap(shape, &outCore, &inCore, &err) != BW_OK)
  {
    itkGenericExceptionMacro(<< "Output region " << outputRegion << " has no input region in " << largest << ": "
                             << err.message);
  }
  return FromCore(inCore, largest.GetIndex());
}

/** The fill value of the core's parameters @p (bw_block_params,
 * bw_local_params, bw_shift_params): NaN for none. */
template <typename TParams>
void
SetFill(TParams & p, double value)
{
  p.use_fill = std::isnan(value) ? 0 : 1;
  p.fill = value;
}

/** Whether @a and @b have the same fill value (NaN equals NaN). */
template <typename TParams>
bool
SameFill(const TParams & a, const TParams & b)
{
  return a.use_fill == b.use_fill && (a.fill == b.fill || (std::isnan(a.fill) && std::isnan(b.fill)));
}

/** The geometry of a map of one pixel per block over @input: @outShape
 * blocks and @block pixels per block (both C order), spacing the block
 * times the input's, origin at the centre of the first block, the input's
 * direction. */
template <unsigned int D>
void
SetBlockGrid(const ImageBase<D> * input, const ptrdiff_t * outShape, const ptrdiff_t * block, ImageBase<D> * output)
{
  const ImageRegion<D>               largest = input->GetLargestPossibleRegion();
  ImageRegion<D>                     outLargest;
  typename ImageBase<D>::SpacingType spacing;
  ContinuousIndex<double, D>         firstCentre;
  for (unsigned int d = 0; d < D; ++d)
  {
    outLargest.SetIndex(d, 0);
    outLargest.SetSize(d, static_cast<SizeValueType>(outShape[D - 1 - d]));
    const double b = static_cast<double>(block[D - 1 - d]);
    spacing[d] = input->GetSpacing()[d] * b;
    firstCentre[d] = static_cast<double>(largest.GetIndex(d)) + 0.5 * (b - 1.0);
  }
  typename ImageBase<D>::PointType origin;
  input->TransformContinuousIndexToPhysicalPoint(firstCentre, origin);
  output->SetLargestPossibleRegion(outLargest);
  output->SetSpacing(spacing);
  output->SetOrigin(origin);
  output->SetDirection(input->GetDirection());
}

/** Asks every image input of @filter for @region, the region its output's
 * requested region maps to; throws when @region is not inside an input's
 * largest possible region. */
template <unsigned int D>
void
RequestInputRegion(ProcessObject * filter, const ImageRegion<D> & region)
{
  const ProcessObject::DataObjectPointerArray inputs = filter->GetIndexedInputs();
  for (unsigned int i = 0; i < inputs.size(); ++i)
  {
    auto * input = dynamic_cast<ImageBase<D> *>(inputs[i].GetPointer());
    if (input == nullptr)
    {
      continue;
    }
    const auto largest = input->GetLargestPossibleRegion();
    if (!largest.IsInside(region))
    {
      itkGenericExceptionMacro(<< filter->GetNameOfClass() << ": input " << i << ": requested region " << region
                               << " is outside its largest region " << largest);
    }
    input->SetRequestedRegion(region);
  }
}

/** The GenerateInputRequestedRegion() of a filter whose inputs are all asked
 * for the region @filter->MapOutputRegionToInputRegion() gives for its
 * output's requested region. */
template <typename TFilter>
void
RequestMappedRegion(TFilter * filter)
{
  if (filter->GetInput() == nullptr)
  {
    return;
  }
  const auto requested = filter->GetOutput()->GetRequestedRegion();
  if (requested.GetNumberOfPixels() == 0)
  {
    return;
  }
  RequestInputRegion(filter, filter->MapOutputRegionToInputRegion(requested));
}

} // namespace blockwise
} // namespace itk

#endif
