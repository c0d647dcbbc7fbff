/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkChannelConversionImageFilter_hxx
#define itkChannelConversionImageFilter_hxx

#include "itkChannelConversionImageFilter.h"

namespace itk
{

template <typename TInputImage, typename TOutputImage>
ChannelConversionImageFilter<TInputImage, TOutputImage>::ChannelConversionImageFilter()
{
  bw_channel_params_init(&m_Parameters);
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TOutputImage>
void
ChannelConversionImageFilter<TInputImage, TOutputImage>::SetCore(bw_channel_op op, int index, double white)
{
  const bool same = op == m_Parameters.op && index == m_Parameters.index &&
                    (white == m_Parameters.white || (white != white && m_Parameters.white != m_Parameters.white));
  if (!same)
  {
    m_Parameters.op = op;
    m_Parameters.index = index;
    m_Parameters.white = white;
    this->Modified();
  }
}

template <typename TInputImage, typename TOutputImage>
void
ChannelConversionImageFilter<TInputImage, TOutputImage>::SetChannel(const std::string & name)
{
  bw_channel_params p = m_Parameters;
  bw_error          err;
  if (bw_channel_from_name(name.c_str(), &p, &err) != BW_OK)
  {
    itkExceptionMacro(<< err.message);
  }
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
std::string
ChannelConversionImageFilter<TInputImage, TOutputImage>::GetChannel() const
{
  if (m_Parameters.op == BW_CHANNEL_INDEX)
  {
    return std::to_string(m_Parameters.index);
  }
  const char * name = bw_channel_op_name(m_Parameters.op);
  return name ? name : "";
}

template <typename TInputImage, typename TOutputImage>
void
ChannelConversionImageFilter<TInputImage, TOutputImage>::VerifyInputInformation() ITKv5_CONST
{
  Superclass::VerifyInputInformation();
  // The core's check against the input's channels, known once the
  // input's information is, before any pixel of the pipeline is read.
  const unsigned int channels = this->GetInput()->GetNumberOfComponentsPerPixel();
  bw_error           err;
  if (bw_channel_params_check(&m_Parameters, static_cast<int>(channels), &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid channel (" << this->GetChannel() << ", White " << m_Parameters.white
                      << ") for an input of " << channels << " channels: " << err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
void
ChannelConversionImageFilter<TInputImage, TOutputImage>::DynamicThreadedGenerateData(
  const OutputRegionType & outputRegion)
{
  const TInputImage * input = this->GetInput();
  TOutputImage *      output = this->GetOutput();
  const unsigned int  channels = input->GetNumberOfComponentsPerPixel();
  // Interleaved components of one type: channel c is a view one element
  // after channel c - 1.
  const auto * buffer = reinterpret_cast<const ComponentType *>(input->GetBufferPointer());
  bw_view      src[BW_MAX_CHANNELS];
  for (unsigned int c = 0; c < channels && c < BW_MAX_CHANNELS; ++c)
  {
    src[c] = blockwise::ViewOf(buffer, input->GetBufferedRegion(), outputRegion, channels, c);
  }
  const bw_view dst =
    blockwise::ViewOf(output->GetBufferPointer(), output->GetBufferedRegion(), outputRegion);
  bw_error err;
  if (bw_channel_convert(&m_Parameters, static_cast<int>(channels), src, &dst, &err) != BW_OK)
  {
    itkExceptionMacro(<< err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
void
ChannelConversionImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Channel: " << this->GetChannel() << std::endl;
  os << indent << "Operation: " << m_Parameters.op << std::endl;
  os << indent << "Index: " << m_Parameters.index << std::endl;
  os << indent << "White: " << m_Parameters.white << std::endl;
}

} // namespace itk

#endif
