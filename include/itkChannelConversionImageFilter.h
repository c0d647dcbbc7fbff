/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkChannelConversionImageFilter_h
#define itkChannelConversionImageFilter_h

#include "bw_channel.h"
#include "itkBlockwiseCommon.h"
#include "itkImageToImageFilter.h"
#include "itkNumericTraits.h"

#include <string>

namespace itk
{

/** \class ChannelConversionImageFilter
 * \brief One channel from the channels of each pixel: luminance, optical
 * density, a stain of an H&E-DAB slide, or one channel as it is.
 *
 * The input's pixels hold several components of one type: an
 * itk::VectorImage, or an itk::Image of RGBPixel, RGBAPixel, Vector or
 * FixedArray (what itk::BlockwiseTIFFImageIO reads from RGB, RGBA and
 * multichannel TIFF files).  The output is a scalar image of float or
 * double, or, for one channel as it is, of the component type.
 *
 * The channel is set by name with SetChannel() ("luminance", "od",
 * "hematoxylin", "eosin", "dab", "r", "g", "b", or a channel number), by
 * the core's parameters with SetCoreParameters(), or with SetOperation()
 * and SetIndex().  Luminance uses the ITU-R BT.709 weights (0.2125,
 * 0.7154, 0.0721) on the stored values; the stains are Ruifrok and
 * Johnston's colour deconvolution with their standard vectors, computed as
 * scikit-image's rgb2hed; SetWhite() sets the value of an unabsorbed pixel
 * (0, the default: the component type's largest value).
 *
 * Each output pixel depends on its own input pixel only: the requested
 * region passes through unchanged, and streamed pieces equal the whole.
 * The arithmetic is the Blockwise C core's bw_channel_convert(), on strided
 * views of the buffers (no copies).
 *
 * \sa RGBToLuminanceImageFilter, VectorIndexSelectionCastImageFilter
 * \ingroup Blockwise
 */
template <typename TInputImage, typename TOutputImage>
class ITK_TEMPLATE_EXPORT ChannelConversionImageFilter : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(ChannelConversionImageFilter);

  using Self = ChannelConversionImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(ChannelConversionImageFilter, ImageToImageFilter);

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using InputPixelType = typename InputImageType::PixelType;
  using ComponentType = typename NumericTraits<InputPixelType>::ValueType;
  using OutputPixelType = typename OutputImageType::PixelType;
  using OutputRegionType = typename OutputImageType::RegionType;
  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;

  /** The core's operations (bw_channel_op), by their values. */
  enum class OperationEnum : uint8_t
  {
    Index = BW_CHANNEL_INDEX,
    Luminance = BW_CHANNEL_LUMINANCE,
    OpticalDensity = BW_CHANNEL_OD,
    Hematoxylin = BW_CHANNEL_HEMATOXYLIN,
    Eosin = BW_CHANNEL_EOSIN,
    DAB = BW_CHANNEL_DAB
  };

  /** The channel by name, through the core's table (bw_channel_from_name());
   * throws itk::ExceptionObject with the core's message for any other. */
  void
  SetChannel(const std::string & name);
  /** The channel's name: the operation's, or the number for Index. */
  std::string
  GetChannel() const;

  void
  SetOperation(OperationEnum op)
  {
    this->SetCore(static_cast<bw_channel_op>(op), m_Parameters.index, m_Parameters.white);
  }
  OperationEnum
  GetOperation() const
  {
    return static_cast<OperationEnum>(m_Parameters.op);
  }

  /** The input channel of Index (0 by default). */
  void
  SetIndex(unsigned int index)
  {
    this->SetCore(m_Parameters.op, static_cast<int>(index), m_Parameters.white);
  }
  unsigned int
  GetIndex() const
  {
    return static_cast<unsigned int>(m_Parameters.index);
  }

  /** The value of an unabsorbed pixel for the optical densities; 0 (the
   * default) for the component type's largest value. */
  void
  SetWhite(double white)
  {
    this->SetCore(m_Parameters.op, m_Parameters.index, white);
  }
  double
  GetWhite() const
  {
    return m_Parameters.white;
  }

  /** All of the above as the core's parameters, kept as they are; checked
   * (bw_channel_params_check()) against the input's channels when the
   * filter runs. */
  void
  SetCoreParameters(const bw_channel_params & parameters)
  {
    this->SetCore(parameters.op, parameters.index, parameters.white);
  }
  const bw_channel_params &
  GetCoreParameters() const
  {
    return m_Parameters;
  }

protected:
  ChannelConversionImageFilter();
  ~ChannelConversionImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyInputInformation() ITKv5_CONST override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegion) override;

private:
  void
  SetCore(bw_channel_op op, int index, double white);

  bw_channel_params m_Parameters;
};

inline std::ostream &
operator<<(std::ostream & out, bw_channel_op op)
{
  const char * name = bw_channel_op_name(op);
  return out << (name ? name : "INVALID");
}

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkChannelConversionImageFilter.hxx"
#endif

#endif
