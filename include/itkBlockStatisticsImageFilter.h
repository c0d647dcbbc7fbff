/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockStatisticsImageFilter_h
#define itkBlockStatisticsImageFilter_h

#include "itkBlockwiseImageFilterBase.h"

#include <vector>

namespace itk
{

/** \class BlockStatisticsImageFilter
 * \brief Statistics of the non-overlapping blocks of an image, one output
 * pixel per block.
 *
 * Each output pixel is a statistic of the input pixels of its block: Count,
 * Sum, Mean, Variance, StandardDeviation (with Ddof 0 or 1), Minimum or
 * Maximum.  Integer inputs are summed exactly; float inputs without
 * catastrophic cancellation; a NaN pixel makes its block's statistics NaN.
 *
 * With a scalar output image (itk::Image of float or double) the filter
 * computes the one Statistic set with SetStatistic() (Mean by default).
 * With an itk::VectorImage of float or double it computes every statistic
 * set with SetStatistics(), one component each and in that order, in one
 * pass over the input.
 *
 * Block geometry, edge policy and streaming are described in
 * itk::BlockwiseImageFilterBase.  The input pixel type is unsigned char,
 * signed char, char, unsigned short, short, unsigned int, int, float or
 * double.
 *
 * The arithmetic is the Blockwise C core's bw_block_stats(), called on
 * strided views of the input and output buffers (no copies), one call per
 * output region of a work unit.
 *
 * \sa BlockCorrelationImageFilter, BinShrinkImageFilter
 * \ingroup Blockwise
 */
template <typename TInputImage, typename TOutputImage>
class ITK_TEMPLATE_EXPORT BlockStatisticsImageFilter : public BlockwiseImageFilterBase<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockStatisticsImageFilter);

  using Self = BlockStatisticsImageFilter;
  using Superclass = BlockwiseImageFilterBase<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(BlockStatisticsImageFilter, BlockwiseImageFilterBase);

  using typename Superclass::InputImageType;
  using typename Superclass::OutputImageType;
  using typename Superclass::OutputRegionType;
  using typename Superclass::StatisticEnum;
  using InputPixelType = typename TInputImage::PixelType;
  using OutputComponentType = typename TOutputImage::InternalPixelType;
  using StatisticsType = std::vector<StatisticEnum>;

  static_assert(blockwise::DType<InputPixelType>::supported,
                "BlockStatisticsImageFilter: the input pixel type must be a scalar of a type the core supports");
  static_assert(std::is_same<OutputComponentType, float>::value || std::is_same<OutputComponentType, double>::value,
                "BlockStatisticsImageFilter: the output pixel (component) type must be float or double");

  /** The statistic of a scalar output (replaces the list with this one). */
  void
  SetStatistic(StatisticEnum statistic)
  {
    this->SetStatistics(StatisticsType{ statistic });
  }
  /** The first statistic of the list (Mean if the list is empty). */
  StatisticEnum
  GetStatistic() const
  {
    return m_Statistics.empty() ? StatisticEnum::Mean : m_Statistics.front();
  }

  /** The statistics of a vector output, one component each. */
  void
  SetStatistics(const StatisticsType & statistics);
  const StatisticsType &
  GetStatistics() const
  {
    return m_Statistics;
  }

protected:
  BlockStatisticsImageFilter();
  ~BlockStatisticsImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  GenerateOutputInformation() override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegionForThread) override;

private:
  StatisticsType m_Statistics;
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkBlockStatisticsImageFilter.hxx"
#endif

#endif
