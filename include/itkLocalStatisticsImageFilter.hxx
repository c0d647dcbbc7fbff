/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkLocalStatisticsImageFilter_hxx
#define itkLocalStatisticsImageFilter_hxx

#include "itkLocalStatisticsImageFilter.h"

#include <cmath>

namespace itk
{

template <typename TInputImage, typename TOutputImage>
LocalStatisticsImageFilter<TInputImage, TOutputImage>::LocalStatisticsImageFilter()
{
  bw_local_params_init(&m_Parameters, static_cast<int>(ImageDimension), nullptr);
  this->SetNumberOfRequiredInputs(1);
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::SetRadius(const RadiusType & radius)
{
  bw_local_params p = m_Parameters;
  blockwise::SizeToCore(radius, p.radius);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::SetStep(const RadiusType & step)
{
  bw_local_params p = m_Parameters;
  blockwise::SizeToCore(step, p.step);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::SetDdof(unsigned int ddof)
{
  bw_local_params p = m_Parameters;
  p.ddof = ddof > 1 ? 1 : static_cast<int>(ddof);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::SetFillValue(double value)
{
  bw_local_params p = m_Parameters;
  blockwise::SetFill(p, value);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::SetCoreParameters(const bw_local_params & parameters)
{
  if (parameters.ndim != static_cast<int>(ImageDimension))
  {
    itkExceptionMacro(<< "Core parameters for " << parameters.ndim << "-D images given to a filter of "
                      << ImageDimension << "-D images");
  }
  const bw_local_params & o = m_Parameters;
  bool same = parameters.ddof == o.ddof && blockwise::SameFill(parameters, o);
  for (unsigned int d = 0; d < BW_MAX_DIMS; ++d)
  {
    same = same && parameters.radius[d] == o.radius[d] && parameters.step[d] == o.step[d];
  }
  if (!same)
  {
    m_Parameters = parameters;
    this->Modified();
  }
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  bw_error err;
  if (bw_local_params_check(&m_Parameters, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid parameters (Radius " << this->GetRadius() << ", Step " << this->GetStep()
                      << ", Ddof " << this->GetDdof() << "): " << err.message);
  }
  if (m_Statistic == StatisticEnum::Minimum || m_Statistic == StatisticEnum::Maximum)
  {
    itkExceptionMacro(<< "Statistic " << m_Statistic
                      << " is not a local statistic (Count, Sum, Mean, Variance, StandardDeviation, Covariance "
                         "or Correlation)");
  }
  if (this->IsPair() && this->GetInput(1) == nullptr)
  {
    itkExceptionMacro(<< "Statistic " << m_Statistic << " needs a second input (SetInput2())");
  }
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::VerifyInputInformation() ITKv5_CONST
{
  Superclass::VerifyInputInformation();
  const TInputImage * a = this->GetInput(0);
  const TInputImage * b = this->GetInput(1);
  if (a != nullptr && b != nullptr && a->GetLargestPossibleRegion() != b->GetLargestPossibleRegion())
  {
    itkExceptionMacro(<< "Inputs cover different regions: input 0 " << a->GetLargestPossibleRegion() << ", input 1 "
                      << b->GetLargestPossibleRegion() << "; their pixels would not pair up");
  }
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::GenerateOutputInformation()
{
  Superclass::GenerateOutputInformation();
  const TInputImage * input = this->GetInput();
  TOutputImage *      output = this->GetOutput();
  if (input == nullptr || output == nullptr)
  {
    return;
  }
  const InputRegionType largest = input->GetLargestPossibleRegion();
  ptrdiff_t             inShape[BW_MAX_DIMS] = { 0, 0, 0 };
  ptrdiff_t             outShape[BW_MAX_DIMS] = { 0, 0, 0 };
  bw_error              err;
  blockwise::ShapeToCore(largest.GetSize(), inShape);
  if (bw_local_output_shape(&m_Parameters, inShape, outShape, &err) != BW_OK)
  {
    itkExceptionMacro(<< "No output for an image of size " << largest.GetSize() << " with step " << this->GetStep()
                      << ": " << err.message);
  }
  OutputRegionType                     outLargest;
  typename TOutputImage::SpacingType   spacing;
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    outLargest.SetIndex(d, 0);
    outLargest.SetSize(d, static_cast<SizeValueType>(outShape[ImageDimension - 1 - d]));
    spacing[d] = input->GetSpacing()[d] * static_cast<double>(m_Parameters.step[ImageDimension - 1 - d]);
  }
  typename TOutputImage::PointType origin;
  input->TransformIndexToPhysicalPoint(largest.GetIndex(), origin);
  output->SetLargestPossibleRegion(outLargest);
  output->SetSpacing(spacing);
  output->SetOrigin(origin);
  output->SetDirection(input->GetDirection());
}

template <typename TInputImage, typename TOutputImage>
auto
LocalStatisticsImageFilter<TInputImage, TOutputImage>::MapOutputRegionToInputRegion(
  const OutputRegionType & outputRegion) const -> InputRegionType
{
  const bw_local_params & p = m_Parameters;
  return blockwise::MapRegion(this->GetInput(), outputRegion, Index<ImageDimension>::Filled(0),
                              [&p](const ptrdiff_t * shape, const bw_region * out, bw_region * in, bw_error * err) {
                                return bw_local_input_region(&p, shape, out, in, err);
                              });
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  // Not the superclass' version: it would ask for the output's requested
  // region as it is, without the radius.  Both inputs cover one region
  // (VerifyInputInformation), so both are asked for the same pixels.
  blockwise::RequestMappedRegion(this);
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::DynamicThreadedGenerateData(
  const OutputRegionType & outputRegionForThread)
{
  if (outputRegionForThread.GetNumberOfPixels() == 0)
  {
    return;
  }
  const TInputImage * a = this->GetInput(0);
  const TInputImage * b = this->IsPair() ? this->GetInput(1) : nullptr;
  TOutputImage *      output = this->GetOutput();
  const auto          largest = a->GetLargestPossibleRegion();
  const auto          inputRegion = this->MapOutputRegionToInputRegion(outputRegionForThread);
  for (const TInputImage * in : { a, b })
  {
    if (in != nullptr && !in->GetBufferedRegion().IsInside(inputRegion))
    {
      itkExceptionMacro(<< "Input region " << inputRegion << " is not buffered (buffered: "
                        << in->GetBufferedRegion() << ")");
    }
  }
  const bw_view   va = blockwise::ViewOf(a->GetBufferPointer(), a->GetBufferedRegion(), inputRegion);
  bw_view         vb{};
  if (b != nullptr)
  {
    vb = blockwise::ViewOf(b->GetBufferPointer(), b->GetBufferedRegion(), inputRegion);
  }
  bw_local_output out{};
  out.stat = blockwise::ToCore(m_Statistic);
  out.input = 0;
  out.view = blockwise::ViewOf(output->GetBufferPointer(), output->GetBufferedRegion(), outputRegionForThread);
  const bw_region inCore = blockwise::ToCore(inputRegion, largest.GetIndex());
  const bw_region outCore = blockwise::ToCore(outputRegionForThread, Index<ImageDimension>::Filled(0));
  ptrdiff_t       shape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(largest.GetSize(), shape);
  bw_error err;
  if (bw_local_stats(&va, b ? &vb : nullptr, inCore.start, shape, &m_Parameters, &out, 1, outCore.start, &err) !=
      BW_OK)
  {
    itkExceptionMacro(<< "Local " << m_Statistic << " of region " << outputRegionForThread
                      << " failed: " << err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
void
LocalStatisticsImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Statistic: " << m_Statistic << std::endl;
  os << indent << "Radius: " << this->GetRadius() << std::endl;
  os << indent << "Step: " << this->GetStep() << std::endl;
  os << indent << "Ddof: " << this->GetDdof() << std::endl;
  os << indent << "FillValue: " << this->GetFillValue() << std::endl;
}

} // namespace itk

#endif
