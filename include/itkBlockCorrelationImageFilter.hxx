/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockCorrelationImageFilter_hxx
#define itkBlockCorrelationImageFilter_hxx

#include "itkBlockCorrelationImageFilter.h"

#include <exception>
#include <set>
#include <thread>

namespace itk
{

template <typename TInputImage1, typename TInputImage2, typename TOutputImage>
BlockCorrelationImageFilter<TInputImage1, TInputImage2, TOutputImage>::BlockCorrelationImageFilter()
{
  this->SetNumberOfRequiredInputs(2);
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage1, typename TInputImage2, typename TOutputImage>
void
BlockCorrelationImageFilter<TInputImage1, TInputImage2, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_Statistic != StatisticEnum::Correlation && m_Statistic != StatisticEnum::Covariance)
  {
    itkExceptionMacro(<< "Statistic must be Correlation or Covariance, not " << m_Statistic
                      << "; statistics of one image come from itk::BlockStatisticsImageFilter");
  }
}

template <typename TInputImage1, typename TInputImage2, typename TOutputImage>
void
BlockCorrelationImageFilter<TInputImage1, TInputImage2, TOutputImage>::DynamicThreadedGenerateData(
  const OutputRegionType & outputRegionForThread)
{
  if (outputRegionForThread.GetNumberOfPixels() == 0)
  {
    return;
  }
  const TInputImage1 * a = this->GetInput1();
  const TInputImage2 * b = this->GetInput2();
  TOutputImage *       output = this->GetOutput();

  // The same pixels of both inputs: they share their largest region.
  const auto region = this->MapOutputRegionToInputRegion(outputRegionForThread);

  const bw_view   va = blockwise::ViewOf(a->GetBufferPointer(), a->GetBufferedRegion(), region);
  const bw_view   vb = blockwise::ViewOf(b->GetBufferPointer(), b->GetBufferedRegion(), region);
  bw_block_output out;
  out.stat = blockwise::ToCore(m_Statistic);
  out.input = 0;
  out.view = blockwise::ViewOf(output->GetBufferPointer(), output->GetBufferedRegion(), outputRegionForThread);
  bw_error err;
  if (bw_block_stats(&va, &vb, &this->GetCoreParameters(), &out, 1, &err) != BW_OK)
  {
    this->ThrowCoreError("Block correlation failed", err);
  }
}

template <typename TInputImage1, typename TInputImage2, typename TOutputImage>
void
BlockCorrelationImageFilter<TInputImage1, TInputImage2, TOutputImage>::PrintSelf(std::ostream & os,
                                                                                 Indent         indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Statistic: " << m_Statistic << std::endl;
  os << indent << "ConcurrentInputs: " << m_ConcurrentInputs << std::endl;
}

namespace blockwise
{
/* The process objects upstream of @data (its source, their inputs'
 * sources, ...), into @seen. */
inline void
CollectUpstream(const DataObject * data, std::set<const ProcessObject *> & seen)
{
  ProcessObject * source = data ? data->GetSource().GetPointer() : nullptr;
  if (source == nullptr || !seen.insert(source).second)
  {
    return;
  }
  for (const DataObject * input : source->GetInputs())
  {
    CollectUpstream(input, seen);
  }
}
} // namespace blockwise

template <typename TInputImage1, typename TInputImage2, typename TOutputImage>
void
BlockCorrelationImageFilter<TInputImage1, TInputImage2, TOutputImage>::UpdateOutputData(DataObject * output)
{
  DataObject * a = this->ProcessObject::GetInput(0);
  DataObject * b = this->ProcessObject::GetInput(1);
  bool         apart = m_ConcurrentInputs && a != nullptr && b != nullptr && a != b;
  if (apart)
  {
    std::set<const ProcessObject *> upA, upB;
    blockwise::CollectUpstream(a, upA);
    blockwise::CollectUpstream(b, upB);
    for (const ProcessObject * p : upB)
    {
      apart = apart && upA.count(p) == 0;
    }
    apart = apart && !upA.empty() && !upB.empty();
  }
  if (apart)
  {
    // ITK creates DataObject's global release-data flag on first use, and
    // not thread-safely: two updates asking for it at once each allocate
    // one, and one is lost.  Create it here, so both threads only read it.
    DataObject::GetGlobalReleaseDataFlag();
    std::exception_ptr failedA, failedB;
    std::thread        other([b, &failedB] {
      try
      {
        b->UpdateOutputData();
      }
      catch (...)
      {
        failedB = std::current_exception();
      }
    });
    try
    {
      a->UpdateOutputData();
    }
    catch (...)
    {
      failedA = std::current_exception();
    }
    other.join();
    if (failedA)
    {
      std::rethrow_exception(failedA);
    }
    if (failedB)
    {
      std::rethrow_exception(failedB);
    }
  }
  // Inputs brought up to date above are not generated again.
  Superclass::UpdateOutputData(output);
}

} // namespace itk

#endif
