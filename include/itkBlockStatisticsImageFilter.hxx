/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockStatisticsImageFilter_hxx
#define itkBlockStatisticsImageFilter_hxx

#include "itkBlockStatisticsImageFilter.h"

namespace itk
{

template <typename TInputImage, typename TOutputImage>
BlockStatisticsImageFilter<TInputImage, TOutputImage>::BlockStatisticsImageFilter()
  : m_Statistics{ StatisticEnum::Mean }
{
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TOutputImage>
void
BlockStatisticsImageFilter<TInputImage, TOutputImage>::SetStatistics(const StatisticsType & statistics)
{
  if (statistics != m_Statistics)
  {
    m_Statistics = statistics;
    this->Modified();
  }
}

template <typename TInputImage, typename TOutputImage>
void
BlockStatisticsImageFilter<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  constexpr bool scalar = std::is_same<typename TOutputImage::PixelType, OutputComponentType>::value;
  if (m_Statistics.empty())
  {
    itkExceptionMacro(<< "No statistic is set");
  }
  if (scalar && m_Statistics.size() != 1)
  {
    itkExceptionMacro(<< m_Statistics.size()
                      << " statistics are set, but a scalar output image holds one; use an itk::VectorImage output "
                         "for several");
  }
  for (const StatisticEnum s : m_Statistics)
  {
    const int pair = bw_stat_is_pair(blockwise::ToCore(s));
    if (pair < 0)
    {
      itkExceptionMacro(<< "Statistic " << static_cast<int>(s) << " is not a BlockwiseEnums::Statistic");
    }
    if (pair)
    {
      itkExceptionMacro(<< s << " needs two images: use itk::BlockCorrelationImageFilter");
    }
  }
}

template <typename TInputImage, typename TOutputImage>
void
BlockStatisticsImageFilter<TInputImage, TOutputImage>::GenerateOutputInformation()
{
  Superclass::GenerateOutputInformation();
  this->GetOutput()->SetNumberOfComponentsPerPixel(static_cast<unsigned int>(m_Statistics.size()));
}

template <typename TInputImage, typename TOutputImage>
void
BlockStatisticsImageFilter<TInputImage, TOutputImage>::DynamicThreadedGenerateData(
  const OutputRegionType & outputRegionForThread)
{
  if (outputRegionForThread.GetNumberOfPixels() == 0)
  {
    return;
  }
  const TInputImage * input = this->GetInput();
  TOutputImage *      output = this->GetOutput();
  const auto          inputRegion = this->MapOutputRegionToInputRegion(outputRegionForThread);

  const bw_view  in = blockwise::ViewOf(input->GetBufferPointer(), input->GetBufferedRegion(), inputRegion);
  const auto     n = static_cast<unsigned int>(m_Statistics.size());
  bw_block_output outs[BW_STAT_CORR + 1];
  if (n > sizeof outs / sizeof outs[0])
  {
    itkExceptionMacro(<< "At most " << sizeof outs / sizeof outs[0] << " statistics at once");
  }
  for (unsigned int k = 0; k < n; ++k)
  {
    outs[k].stat = blockwise::ToCore(m_Statistics[k]);
    outs[k].input = 0;
    outs[k].view = blockwise::ViewOf(
      output->GetBufferPointer(), output->GetBufferedRegion(), outputRegionForThread, n, k);
  }
  bw_error err;
  if (bw_block_stats(&in, nullptr, &this->GetCoreParameters(), outs, n, &err) != BW_OK)
  {
    this->ThrowCoreError("Block statistics failed", err);
  }
}

template <typename TInputImage, typename TOutputImage>
void
BlockStatisticsImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Statistics:";
  for (const StatisticEnum s : m_Statistics)
  {
    os << ' ' << s;
  }
  os << std::endl;
}

} // namespace itk

#endif
