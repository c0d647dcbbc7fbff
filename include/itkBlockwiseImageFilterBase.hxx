/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockwiseImageFilterBase_hxx
#define itkBlockwiseImageFilterBase_hxx

#include "itkBlockwiseImageFilterBase.h"
#include "itkContinuousIndex.h"

namespace itk
{

template <typename TInputImage, typename TOutputImage>
BlockwiseImageFilterBase<TInputImage, TOutputImage>::BlockwiseImageFilterBase()
{
  m_BlockSize.Fill(10);
}

template <typename TInputImage, typename TOutputImage>
bw_block_params
BlockwiseImageFilterBase<TInputImage, TOutputImage>::CoreParameters() const
{
  ptrdiff_t block[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(m_BlockSize, block);
  bw_block_params p;
  bw_block_params_init(&p, static_cast<int>(ImageDimension), block);
  p.edge = m_EdgePolicy == EdgePolicyEnum::Trim ? BW_EDGE_TRIM : BW_EDGE_PARTIAL;
  p.ddof = static_cast<int>(m_Ddof);
  if (!std::isnan(m_FillValue))
  {
    p.use_fill = 1;
    p.fill = m_FillValue;
  }
  return p;
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::ThrowCoreError(const char * what, const bw_error & err) const
{
  itkExceptionMacro(<< what << ": " << err.message);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    if (m_BlockSize[d] < 1)
    {
      itkExceptionMacro(<< "BlockSize must be at least 1 along every axis; it is " << m_BlockSize);
    }
  }
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::VerifyInputInformation() ITKv5_CONST
{
  // Same physical space, within the coordinate and direction tolerances.
  Superclass::VerifyInputInformation();

  using BaseImage = ImageBase<ImageDimension>;
  const auto * first = dynamic_cast<const BaseImage *>(this->GetInput(0));
  if (first == nullptr)
  {
    return;
  }
  const auto size = first->GetLargestPossibleRegion().GetSize();
  for (unsigned int i = 1; i < this->GetNumberOfIndexedInputs(); ++i)
  {
    const auto * other = dynamic_cast<const BaseImage *>(this->GetInput(i));
    if (other == nullptr)
    {
      continue;
    }
    const auto otherSize = other->GetLargestPossibleRegion().GetSize();
    if (otherSize != size)
    {
      itkExceptionMacro(<< "Inputs differ in size: input 0 is " << size << ", input " << i << " is " << otherSize
                        << "; blockwise statistics of a pair need images of the same size");
    }
    // Pixels are paired by index, as in every ITK filter of several inputs.
    const auto start = first->GetLargestPossibleRegion().GetIndex();
    const auto otherStart = other->GetLargestPossibleRegion().GetIndex();
    if (otherStart != start)
    {
      itkExceptionMacro(<< "Inputs start at different indices: input 0 at " << start << ", input " << i << " at "
                        << otherStart << "; their pixels would not pair up");
    }
  }
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::GenerateOutputInformation()
{
  Superclass::GenerateOutputInformation();

  const TInputImage * input = this->GetInput();
  TOutputImage *      output = this->GetOutput();
  if (input == nullptr || output == nullptr)
  {
    return;
  }
  const InputRegionType largest = input->GetLargestPossibleRegion();

  ptrdiff_t       inShape[BW_MAX_DIMS] = { 0, 0, 0 };
  ptrdiff_t       outShape[BW_MAX_DIMS] = { 0, 0, 0 };
  bw_error        err;
  bw_block_params p = this->CoreParameters();
  blockwise::ShapeToCore(largest.GetSize(), inShape);
  if (bw_block_output_shape(&p, inShape, outShape, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Cannot cut an image of size " << largest.GetSize() << " into blocks of " << m_BlockSize
                      << " with edge policy " << m_EdgePolicy << ": " << err.message);
  }

  OutputRegionType outLargest;
  typename TOutputImage::SpacingType     spacing;
  ContinuousIndex<double, ImageDimension> firstCentre;
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    outLargest.SetIndex(d, 0);
    outLargest.SetSize(d, static_cast<SizeValueType>(outShape[ImageDimension - 1 - d]));
    spacing[d] = input->GetSpacing()[d] * static_cast<double>(m_BlockSize[d]);
    firstCentre[d] = static_cast<double>(largest.GetIndex(d)) + 0.5 * (static_cast<double>(m_BlockSize[d]) - 1.0);
  }
  typename TOutputImage::PointType origin;
  input->TransformContinuousIndexToPhysicalPoint(firstCentre, origin);

  output->SetLargestPossibleRegion(outLargest);
  output->SetSpacing(spacing);
  output->SetOrigin(origin);
  output->SetDirection(input->GetDirection());
}

template <typename TInputImage, typename TOutputImage>
auto
BlockwiseImageFilterBase<TInputImage, TOutputImage>::MapOutputRegionToInputRegion(
  const OutputRegionType & outputRegion) const -> InputRegionType
{
  const TInputImage * input = this->GetInput();
  if (input == nullptr)
  {
    itkExceptionMacro(<< "Input 0 is not set");
  }
  const InputRegionType largest = input->GetLargestPossibleRegion();
  ptrdiff_t             inShape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(largest.GetSize(), inShape);

  const bw_region outCore = blockwise::ToCore(outputRegion, Index<ImageDimension>::Filled(0));
  bw_region       inCore;
  bw_error        err;
  bw_block_params p = this->CoreParameters();
  if (bw_block_input_region(&p, inShape, &outCore, &inCore, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Output region " << outputRegion << " has no input region: " << err.message);
  }
  return blockwise::FromCore(inCore, largest.GetIndex());
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  // Not the superclass' version: it would ask every input for the output's
  // requested region as it is.
  const OutputRegionType requested = this->GetOutput()->GetRequestedRegion();
  if (requested.GetNumberOfPixels() == 0)
  {
    return;
  }
  // Inputs share their largest region (VerifyInputInformation), so every
  // one is asked for the same pixels.
  const InputRegionType region = this->MapOutputRegionToInputRegion(requested);

  using BaseImage = ImageBase<ImageDimension>;
  for (unsigned int i = 0; i < this->GetNumberOfIndexedInputs(); ++i)
  {
    auto * input = dynamic_cast<BaseImage *>(const_cast<DataObject *>(this->ProcessObject::GetInput(i)));
    if (input == nullptr)
    {
      continue;
    }
    const auto largest = input->GetLargestPossibleRegion();
    if (!largest.IsInside(region))
    {
      itkExceptionMacro(<< "Input " << i << ": requested region " << region << " is outside its largest region "
                        << largest);
    }
    input->SetRequestedRegion(region);
  }
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "BlockSize: " << m_BlockSize << std::endl;
  os << indent << "EdgePolicy: " << m_EdgePolicy << std::endl;
  os << indent << "Ddof: " << m_Ddof << std::endl;
  os << indent << "FillValue: " << m_FillValue << std::endl;
}

} // namespace itk

#endif
