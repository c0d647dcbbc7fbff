/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockwiseImageFilterBase_hxx
#define itkBlockwiseImageFilterBase_hxx

#include "itkBlockwiseImageFilterBase.h"

#include <cmath>

namespace itk
{

template <typename TInputImage, typename TOutputImage>
BlockwiseImageFilterBase<TInputImage, TOutputImage>::BlockwiseImageFilterBase()
{
  bw_block_params_init(&m_Parameters, static_cast<int>(ImageDimension), nullptr);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::SetBlockSize(const BlockSizeType & size)
{
  bw_block_params p = m_Parameters;
  blockwise::SizeToCore(size, p.block);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::SetEdgePolicy(EdgePolicyEnum policy)
{
  bw_block_params p = m_Parameters;
  p.edge = static_cast<bw_edge>(policy);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::SetDdof(unsigned int ddof)
{
  bw_block_params p = m_Parameters;
  p.ddof = ddof > 1 ? 1 : static_cast<int>(ddof);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::SetFillValue(double value)
{
  bw_block_params p = m_Parameters;
  blockwise::SetFill(p, value);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::SetCoreParameters(const bw_block_params & parameters)
{
  if (parameters.ndim != static_cast<int>(ImageDimension))
  {
    itkExceptionMacro(<< "Core parameters for " << parameters.ndim << "-D images given to a filter of "
                      << ImageDimension << "-D images");
  }
  const bw_block_params & o = m_Parameters;
  bool same = parameters.edge == o.edge && parameters.ddof == o.ddof && blockwise::SameFill(parameters, o);
  for (unsigned int d = 0; d < BW_MAX_DIMS; ++d)
  {
    same = same && parameters.block[d] == o.block[d];
  }
  if (!same)
  {
    m_Parameters = parameters;
    this->Modified();
  }
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
  bw_error err;
  if (bw_block_params_check(&m_Parameters, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid parameters (BlockSize " << this->GetBlockSize() << ", EdgePolicy "
                      << this->GetEdgePolicy() << ", Ddof " << this->GetDdof() << "): " << err.message);
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
  blockwise::ShapeToCore(largest.GetSize(), inShape);
  if (bw_block_output_shape(&m_Parameters, inShape, outShape, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Cannot cut an image of size " << largest.GetSize() << " into blocks of "
                      << this->GetBlockSize() << " with edge policy " << this->GetEdgePolicy() << ": "
                      << err.message);
  }

  blockwise::SetBlockGrid(input, outShape, m_Parameters.block, output);
}

template <typename TInputImage, typename TOutputImage>
auto
BlockwiseImageFilterBase<TInputImage, TOutputImage>::MapOutputRegionToInputRegion(
  const OutputRegionType & outputRegion) const -> InputRegionType
{
  const bw_block_params & p = m_Parameters;
  return blockwise::MapRegion(this->GetInput(), outputRegion, Index<ImageDimension>::Filled(0),
                              [&p](const ptrdiff_t * shape, const bw_region * out, bw_region * in, bw_error * err) {
                                return bw_block_input_region(&p, shape, out, in, err);
                              });
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  // Not the superclass' version: it would ask every input for the output's
  // requested region as it is.  Inputs share their largest region
  // (VerifyInputInformation), so every one is asked for the same pixels.
  blockwise::RequestMappedRegion(this);
}

template <typename TInputImage, typename TOutputImage>
void
BlockwiseImageFilterBase<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "BlockSize: " << this->GetBlockSize() << std::endl;
  os << indent << "EdgePolicy: " << this->GetEdgePolicy() << std::endl;
  os << indent << "Ddof: " << this->GetDdof() << std::endl;
  os << indent << "FillValue: " << this->GetFillValue() << std::endl;
}

} // namespace itk

#endif
