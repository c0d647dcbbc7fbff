/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockShiftImageFilter_hxx
#define itkBlockShiftImageFilter_hxx

#include "itkBlockShiftImageFilter.h"

#include <cmath>

namespace itk
{

template <typename TInputImage, typename TDisplacementImage>
BlockShiftImageFilter<TInputImage, TDisplacementImage>::BlockShiftImageFilter()
{
  bw_shift_params_init(&m_Parameters, static_cast<int>(ImageDimension), nullptr, nullptr);
  this->SetNumberOfRequiredInputs(2);
  this->SetNumberOfRequiredOutputs(3);
  this->SetNthOutput(1, this->MakeOutput(1));
  this->SetNthOutput(2, this->MakeOutput(2));
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TDisplacementImage>
DataObject::Pointer
BlockShiftImageFilter<TInputImage, TDisplacementImage>::MakeOutput(ProcessObject::DataObjectPointerArraySizeType idx)
{
  if (idx == 0)
  {
    return TDisplacementImage::New().GetPointer();
  }
  return CorrelationImageType::New().GetPointer();
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::SetBlockSize(const SizeType & size)
{
  bw_shift_params p = m_Parameters;
  blockwise::SizeToCore(size, p.block);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::SetSearchRadius(const SizeType & radius)
{
  bw_shift_params p = m_Parameters;
  blockwise::SizeToCore(radius, p.search);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::SetFillValue(double value)
{
  bw_shift_params p = m_Parameters;
  blockwise::SetFill(p, value);
  this->SetCoreParameters(p);
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::SetCoreParameters(const bw_shift_params & parameters)
{
  if (parameters.ndim != static_cast<int>(ImageDimension))
  {
    itkExceptionMacro(<< "Core parameters for " << parameters.ndim << "-D images given to a filter of "
                      << ImageDimension << "-D images");
  }
  const bw_shift_params & o = m_Parameters;
  bool same = blockwise::SameFill(parameters, o);
  for (unsigned int d = 0; d < BW_MAX_DIMS; ++d)
  {
    same = same && parameters.block[d] == o.block[d] && parameters.search[d] == o.search[d];
  }
  if (!same)
  {
    m_Parameters = parameters;
    this->Modified();
  }
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  bw_error err;
  if (bw_shift_params_check(&m_Parameters, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid parameters (BlockSize " << this->GetBlockSize() << ", SearchRadius "
                      << this->GetSearchRadius() << "): " << err.message);
  }
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::VerifyInputInformation() ITKv5_CONST
{
  // Same physical space, within the coordinate and direction tolerances.
  Superclass::VerifyInputInformation();
  const TInputImage * a = this->GetInput(0);
  const TInputImage * b = this->GetInput(1);
  if (a != nullptr && b != nullptr && a->GetLargestPossibleRegion() != b->GetLargestPossibleRegion())
  {
    itkExceptionMacro(<< "Inputs cover different regions: the fixed image " << a->GetLargestPossibleRegion()
                      << ", the moving image " << b->GetLargestPossibleRegion() << "; their pixels would not pair up");
  }
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::GenerateOutputInformation()
{
  const TInputImage * input = this->GetInput(0);
  if (input == nullptr)
  {
    return;
  }
  const InputRegionType largest = input->GetLargestPossibleRegion();
  ptrdiff_t             inShape[BW_MAX_DIMS] = { 0, 0, 0 };
  ptrdiff_t             outShape[BW_MAX_DIMS] = { 0, 0, 0 };
  bw_error              err;
  blockwise::ShapeToCore(largest.GetSize(), inShape);
  if (bw_shift_output_shape(&m_Parameters, inShape, outShape, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Cannot cut an image of size " << largest.GetSize() << " into blocks of "
                      << this->GetBlockSize() << ": " << err.message);
  }
  for (unsigned int i = 0; i < 3; ++i)
  {
    auto * out = dynamic_cast<ImageBase<ImageDimension> *>(this->ProcessObject::GetOutput(i));
    if (out == nullptr)
    {
      continue;
    }
    blockwise::SetBlockGrid(input, outShape, m_Parameters.block, out);
  }
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::EnlargeOutputRequestedRegion(DataObject * output)
{
  Superclass::EnlargeOutputRequestedRegion(output);
  const auto * requested = dynamic_cast<ImageBase<ImageDimension> *>(output);
  if (requested == nullptr)
  {
    return;
  }
  const OutputRegionType region = requested->GetRequestedRegion();
  for (unsigned int i = 0; i < 3; ++i)
  {
    auto * out = dynamic_cast<ImageBase<ImageDimension> *>(this->ProcessObject::GetOutput(i));
    if (out != nullptr)
    {
      out->SetRequestedRegion(region);
    }
  }
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::MapOutputRegionToInputRegions(
  const OutputRegionType & outputRegion,
  InputRegionType &        fixedRegion,
  InputRegionType &        movingRegion) const
{
  const TInputImage * input = this->GetInput(0);
  if (input == nullptr)
  {
    itkExceptionMacro(<< "The fixed image is not set");
  }
  const InputRegionType largest = input->GetLargestPossibleRegion();
  ptrdiff_t             shape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(largest.GetSize(), shape);
  const bw_region outCore = blockwise::ToCore(outputRegion, Index<ImageDimension>::Filled(0));
  bw_region       a, b;
  bw_error        err;
  if (bw_shift_input_region(&m_Parameters, shape, &outCore, &a, &b, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Output region " << outputRegion << " has no input regions in " << largest << ": "
                      << err.message);
  }
  fixedRegion = blockwise::FromCore(a, largest.GetIndex());
  movingRegion = blockwise::FromCore(b, largest.GetIndex());
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::GenerateInputRequestedRegion()
{
  // The fixed image's blocks, and the moving image's grown by the search.
  auto * fixed = const_cast<TInputImage *>(this->GetInput(0));
  auto * moving = const_cast<TInputImage *>(this->GetInput(1));
  if (fixed == nullptr || moving == nullptr)
  {
    return;
  }
  const OutputRegionType requested = this->GetOutput()->GetRequestedRegion();
  if (requested.GetNumberOfPixels() == 0)
  {
    return;
  }
  InputRegionType a, b;
  this->MapOutputRegionToInputRegions(requested, a, b);
  fixed->SetRequestedRegion(a);
  moving->SetRequestedRegion(b);
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::DynamicThreadedGenerateData(
  const OutputRegionType & outputRegionForThread)
{
  if (outputRegionForThread.GetNumberOfPixels() == 0)
  {
    return;
  }
  const TInputImage * a = this->GetInput(0);
  const TInputImage * b = this->GetInput(1);
  InputRegionType     ra, rb;
  this->MapOutputRegionToInputRegions(outputRegionForThread, ra, rb);
  if (!a->GetBufferedRegion().IsInside(ra) || !b->GetBufferedRegion().IsInside(rb))
  {
    itkExceptionMacro(<< "Input regions " << ra << " and " << rb << " are not buffered (buffered: "
                      << a->GetBufferedRegion() << ", " << b->GetBufferedRegion() << ")");
  }
  TDisplacementImage *   field = this->GetOutput();
  CorrelationImageType * peak = this->GetPeakCorrelationOutput();
  CorrelationImageType * zero = this->GetZeroShiftCorrelationOutput();
  const auto             largest = a->GetLargestPossibleRegion();

  const bw_view    va = blockwise::ViewOf(a->GetBufferPointer(), a->GetBufferedRegion(), ra);
  const bw_view    vb = blockwise::ViewOf(b->GetBufferPointer(), b->GetBufferedRegion(), rb);
  bw_shift_outputs out{};
  const auto *     components = reinterpret_cast<const ComponentType *>(field->GetBufferPointer());
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    // The core's axis d (C order) is ITK's component ImageDimension - 1 - d.
    out.shift[d] = blockwise::ViewOf(components, field->GetBufferedRegion(), outputRegionForThread, ImageDimension,
                                     ImageDimension - 1 - d);
  }
  out.peak = blockwise::ViewOf(peak->GetBufferPointer(), peak->GetBufferedRegion(), outputRegionForThread);
  out.zero = blockwise::ViewOf(zero->GetBufferPointer(), zero->GetBufferedRegion(), outputRegionForThread);
  const bw_region ca = blockwise::ToCore(ra, largest.GetIndex());
  const bw_region cb = blockwise::ToCore(rb, largest.GetIndex());
  const bw_region co = blockwise::ToCore(outputRegionForThread, Index<ImageDimension>::Filled(0));
  ptrdiff_t       shape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(largest.GetSize(), shape);
  bw_error err;
  if (bw_block_shift(&va, ca.start, &vb, cb.start, shape, &m_Parameters, &out, co.start, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Block shift of region " << outputRegionForThread << " failed: " << err.message);
  }
  // Pixels to physical units: each component times the spacing, turned by
  // the direction.
  const auto & spacing = a->GetSpacing();
  const auto & direction = a->GetDirection();
  for (ImageRegionIterator<TDisplacementImage> it(field, outputRegionForThread); !it.IsAtEnd(); ++it)
  {
    const VectorType pixels = it.Get();
    VectorType       physical;
    for (unsigned int i = 0; i < ImageDimension; ++i)
    {
      double v = 0;
      for (unsigned int j = 0; j < ImageDimension; ++j)
      {
        v += direction[i][j] * spacing[j] * static_cast<double>(pixels[j]);
      }
      physical[i] = static_cast<ComponentType>(v);
    }
    it.Set(physical);
  }
}

template <typename TInputImage, typename TDisplacementImage>
void
BlockShiftImageFilter<TInputImage, TDisplacementImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "BlockSize: " << this->GetBlockSize() << std::endl;
  os << indent << "SearchRadius: " << this->GetSearchRadius() << std::endl;
  os << indent << "FillValue: " << this->GetFillValue() << std::endl;
}

} // namespace itk

#endif
