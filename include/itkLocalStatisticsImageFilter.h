/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkLocalStatisticsImageFilter_h
#define itkLocalStatisticsImageFilter_h

#include "bw_local.h"
#include "itkBlockwiseCommon.h"
#include "itkImageToImageFilter.h"

#include <limits>

namespace itk
{

/** \class LocalStatisticsImageFilter
 * \brief Mean, variance, standard deviation, sum or count of the box window
 * around every pixel; with a second input, their covariance or Pearson r
 * (local normalised cross-correlation).
 *
 * Output pixel k is the statistic of the input pixels within Radius of
 * input pixel k * Step along every axis, the window clipped to the image
 * (so border windows hold fewer pixels).  With Step 1 (the default) the
 * output has the input's grid; with Step s it is a decimated map, computed
 * only at every s-th pixel, whose spacing is s times the input's and whose
 * first pixel is the input's first.  A thin wrapper over the Blockwise
 * core's bw_local_stats(): the cost per output pixel does not depend on
 * the radius; integer inputs are summed exactly in integers, so variance,
 * covariance and r come from exact numerators and r lies in [-1, 1]; float
 * inputs are summed in double-double; a window where either input is
 * constant has r NaN (or the fill value), and standard deviation 0.
 *
 * Inputs: input 0 (SetInput() or SetInput1()) and, for Covariance and
 * Correlation, input 1 (SetInput2()), of the same size and index space;
 * pixels are paired by index.  Scalar pixels of any type the core takes
 * (8-, 16- and 32-bit integers, float, double); the output is float or
 * double.
 *
 * Streaming: the input requested region is the output's grown by the
 * radius (the core's bw_local_input_region()), clipped to the image, and
 * any output region computed from it is bit-identical to the same region
 * of the whole image, so streamed and threaded results equal the
 * unstreamed one to the bit.
 *
 * Where it agrees with ITK's BoxMeanImageFilter and BoxSigmaImageFilter:
 * everywhere the window lies inside the image (they also clip at the
 * border, which they handle the same way; BoxSigma divides by n - 1, so
 * compare with Ddof 1).
 *
 * \ingroup Blockwise
 */
template <typename TInputImage, typename TOutputImage = Image<float, TInputImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT LocalStatisticsImageFilter : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(LocalStatisticsImageFilter);

  using Self = LocalStatisticsImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(LocalStatisticsImageFilter, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  static_assert(ImageDimension == 2 || ImageDimension == 3, "LocalStatisticsImageFilter works on 2-D and 3-D images");
  static_assert(static_cast<unsigned int>(TOutputImage::ImageDimension) == ImageDimension,
                "The output has the dimension of the input");

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using InputRegionType = typename TInputImage::RegionType;
  using OutputRegionType = typename TOutputImage::RegionType;
  using InputPixelType = typename TInputImage::PixelType;
  using OutputPixelType = typename TOutputImage::PixelType;
  using RadiusType = Size<ImageDimension>;
  using StatisticEnum = BlockwiseEnums::Statistic;

  static_assert(blockwise::DType<InputPixelType>::supported,
                "LocalStatisticsImageFilter: the input pixel type must be a scalar of a type the core supports");
  static_assert(std::is_same<OutputPixelType, float>::value || std::is_same<OutputPixelType, double>::value,
                "LocalStatisticsImageFilter: the output pixel type must be float or double");

  /** The first input, and the second (for Covariance and Correlation). */
  void
  SetInput1(const TInputImage * image)
  {
    this->SetNthInput(0, const_cast<TInputImage *>(image));
  }
  void
  SetInput2(const TInputImage * image)
  {
    this->SetNthInput(1, const_cast<TInputImage *>(image));
  }

  /** Mean (default), Variance, StandardDeviation, Sum or Count of input 0;
   * Covariance or Correlation of inputs 0 and 1.  Minimum and Maximum are
   * not local statistics here (an exception when the filter runs). */
  itkSetEnumMacro(Statistic, StatisticEnum);
  itkGetEnumMacro(Statistic, StatisticEnum);

  /** Window radius per axis, in pixels (default BW_LOCAL_DEFAULT_RADIUS, 5:
   * 11-pixel windows); one value for every axis. */
  void
  SetRadius(const RadiusType & radius);
  void
  SetRadius(SizeValueType radius)
  {
    RadiusType r;
    r.Fill(radius);
    this->SetRadius(r);
  }
  RadiusType
  GetRadius() const
  {
    return blockwise::SizeFromCore<ImageDimension>(m_Parameters.radius);
  }

  /** Output stride per axis (default 1: every pixel). */
  void
  SetStep(const RadiusType & step);
  void
  SetStep(SizeValueType step)
  {
    RadiusType s;
    s.Fill(step);
    this->SetStep(s);
  }
  RadiusType
  GetStep() const
  {
    return blockwise::SizeFromCore<ImageDimension>(m_Parameters.step);
  }

  /** Delta degrees of freedom of variances, standard deviations and
   * covariances: 0 (default, population) or 1 (sample, as
   * BoxSigmaImageFilter); larger values are clamped to 1. */
  void
  SetDdof(unsigned int ddof);
  unsigned int
  GetDdof() const
  {
    return static_cast<unsigned int>(m_Parameters.ddof);
  }

  /** Correlation of a window in which either input is constant: NaN by
   * default, or this value. */
  void
  SetFillValue(double value);
  double
  GetFillValue() const
  {
    return m_Parameters.use_fill ? m_Parameters.fill : std::numeric_limits<double>::quiet_NaN();
  }

  /** All of the above but the statistic at once, as the C core's
   * parameters (C axis order, slowest first): kept as they are and handed
   * to the core unchanged.  @parameters.ndim must be the image dimension;
   * the values are checked (bw_local_params_check) when the filter runs. */
  void
  SetCoreParameters(const bw_local_params & parameters);
  const bw_local_params &
  GetCoreParameters() const
  {
    return m_Parameters;
  }

  /** The input region computing @outputRegion reads: the core's region map.
   * Throws when @outputRegion is not inside the output's largest region. */
  InputRegionType
  MapOutputRegionToInputRegion(const OutputRegionType & outputRegion) const;

protected:
  LocalStatisticsImageFilter();
  ~LocalStatisticsImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  VerifyInputInformation() ITKv5_CONST override;

  /** Size ceil(n / Step), spacing Step times the input's, origin the
   * input's first pixel. */
  void
  GenerateOutputInformation() override;

  void
  GenerateInputRequestedRegion() override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegionForThread) override;

private:
  bool
  IsPair() const
  {
    return m_Statistic == StatisticEnum::Covariance || m_Statistic == StatisticEnum::Correlation;
  }

  bw_local_params m_Parameters{};
  StatisticEnum   m_Statistic{ StatisticEnum::Mean };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkLocalStatisticsImageFilter.hxx"
#endif

#endif
