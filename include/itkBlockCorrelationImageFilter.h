/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockCorrelationImageFilter_h
#define itkBlockCorrelationImageFilter_h

#include "itkBlockwiseImageFilterBase.h"

namespace itk
{

/** \class BlockCorrelationImageFilter
 * \brief Pearson correlation (or covariance) of two images over each
 * non-overlapping block, one output pixel per block.
 *
 * Each output pixel is the Pearson r of the pixel pairs of its block,
 * in [-1, 1]: a map of where two images of the same scene agree and where
 * they are misaligned.  A block in which either image is constant has no r:
 * its pixel is NaN, or FillValue when set.  With SetStatistic(Covariance)
 * the output is the covariance instead (divided by n - Ddof).
 *
 * The two inputs have the same pixel type and size (an
 * itk::ExceptionObject names the sizes when they differ) and share the
 * physical space, as every ITK filter with several inputs requires.  Block
 * geometry, edge policy and streaming are described in
 * itk::BlockwiseImageFilterBase.
 *
 * The arithmetic is the Blockwise C core's bw_block_stats(), on strided
 * views of the input and output buffers (no copies).  Integer inputs are
 * summed exactly; 16-bit pairs take the core's fastest path.
 *
 * \sa BlockStatisticsImageFilter
 * \ingroup Blockwise
 */
template <typename TInputImage1, typename TInputImage2, typename TOutputImage>
class ITK_TEMPLATE_EXPORT BlockCorrelationImageFilter : public BlockwiseImageFilterBase<TInputImage1, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockCorrelationImageFilter);

  using Self = BlockCorrelationImageFilter;
  using Superclass = BlockwiseImageFilterBase<TInputImage1, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(BlockCorrelationImageFilter, BlockwiseImageFilterBase);

  using Input1ImageType = TInputImage1;
  using Input2ImageType = TInputImage2;
  using typename Superclass::OutputImageType;
  using typename Superclass::OutputRegionType;
  using typename Superclass::StatisticEnum;
  using InputPixelType = typename TInputImage1::PixelType;
  using OutputPixelType = typename TOutputImage::PixelType;

  static_assert(blockwise::DType<InputPixelType>::supported,
                "BlockCorrelationImageFilter: the input pixel type must be a scalar of a type the core supports");
  static_assert(std::is_same<InputPixelType, typename TInputImage2::PixelType>::value,
                "BlockCorrelationImageFilter: both inputs must have the same pixel type (cast one with "
                "itk::CastImageFilter)");
  static_assert(static_cast<unsigned int>(TInputImage2::ImageDimension) == Superclass::ImageDimension,
                "BlockCorrelationImageFilter: both inputs must have the same dimension");
  static_assert(std::is_same<OutputPixelType, float>::value || std::is_same<OutputPixelType, double>::value,
                "BlockCorrelationImageFilter: the output pixel type must be float or double");

  /** The first image. */
  void
  SetInput1(const TInputImage1 * image)
  {
    this->SetNthInput(0, const_cast<TInputImage1 *>(image));
  }
  const TInputImage1 *
  GetInput1() const
  {
    return this->GetInput(0);
  }

  /** The second image. */
  void
  SetInput2(const TInputImage2 * image)
  {
    this->SetNthInput(1, const_cast<TInputImage2 *>(image));
  }
  const TInputImage2 *
  GetInput2() const
  {
    return itkDynamicCastInDebugMode<const TInputImage2 *>(this->ProcessObject::GetInput(1));
  }

  /** Correlation (default) or Covariance. */
  itkSetEnumMacro(Statistic, StatisticEnum);
  itkGetEnumMacro(Statistic, StatisticEnum);

  /** Bring the two inputs up to date at the same time (on by default):
   * input 2's pipeline on a thread of its own while input 1's runs on the
   * caller's, so that a pair read from two files decodes both at once.
   * Only when the two pipelines share no process object (else, and when
   * off, one after the other, as ITK does); an exception in either is
   * rethrown here, input 1's first. */
  itkSetMacro(ConcurrentInputs, bool);
  itkGetConstMacro(ConcurrentInputs, bool);
  itkBooleanMacro(ConcurrentInputs);

protected:
  BlockCorrelationImageFilter();
  ~BlockCorrelationImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  /** Updates the inputs (concurrently: see SetConcurrentInputs()), then
   * this filter as ProcessObject does. */
  void
  UpdateOutputData(DataObject * output) override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegionForThread) override;

private:
  StatisticEnum m_Statistic{ StatisticEnum::Correlation };
  bool          m_ConcurrentInputs{ true };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkBlockCorrelationImageFilter.hxx"
#endif

#endif
