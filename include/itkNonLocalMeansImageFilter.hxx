/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkNonLocalMeansImageFilter_hxx
#define itkNonLocalMeansImageFilter_hxx

#include "itkNonLocalMeansImageFilter.h"

namespace itk
{

template <typename TInputImage, typename TOutputImage>
NonLocalMeansImageFilter<TInputImage, TOutputImage>::NonLocalMeansImageFilter()
{
  m_PatchRadius.Fill(3);
  m_SearchRadius.Fill(10);
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TOutputImage>
bw_nlm_params
NonLocalMeansImageFilter<TInputImage, TOutputImage>::CoreParameters() const
{
  bw_nlm_params p;
  bw_nlm_params_init(&p, static_cast<int>(ImageDimension), m_Sigma);
  // Radii beyond ptrdiff_t's range cannot be valid; keep them invalid.
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    const SizeValueType pr = m_PatchRadius[d], sr = m_SearchRadius[d];
    p.patch[ImageDimension - 1 - d] = pr > 1000000 ? 1000000 : static_cast<ptrdiff_t>(pr);
    p.search[ImageDimension - 1 - d] = sr > 1000000 ? 1000000 : static_cast<ptrdiff_t>(sr);
  }
  p.h = m_H;
  p.noise = m_NoiseModel == NoiseModelEnum::PoissonGaussian ? BW_NLM_POISSON_GAUSSIAN : BW_NLM_GAUSSIAN;
  p.gain = m_Gain;
  p.offset = m_Offset;
  p.read_sigma = m_ReadSigma;
  return p;
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_NoiseModel != NoiseModelEnum::Gaussian && m_NoiseModel != NoiseModelEnum::PoissonGaussian)
  {
    itkExceptionMacro(<< "NoiseModel is not Gaussian or PoissonGaussian");
  }
  // Every parameter check is the core's: run it on a one-pixel image, so
  // that bad settings fail here, with the core's message, before any pixel
  // of the pipeline is read.
  const bw_nlm_params p = this->CoreParameters();
  float               in = 0.0f, out = 0.0f;
  const ptrdiff_t     one[BW_MAX_DIMS] = { 1, 1, 1 };
  const bw_view       vin = bw_view_contiguous(&in, BW_F32, static_cast<int>(ImageDimension), one);
  const bw_view       vout = bw_view_contiguous(&out, BW_F32, static_cast<int>(ImageDimension), one);
  bw_error            err;
  if (bw_nlm(&vin, nullptr, &vout, nullptr, nullptr, &p, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid parameters (PatchRadius " << m_PatchRadius << ", SearchRadius " << m_SearchRadius
                      << ", H " << m_H << ", NoiseModel " << m_NoiseModel << ", Sigma " << m_Sigma << ", Gain "
                      << m_Gain << ", Offset " << m_Offset << ", ReadSigma " << m_ReadSigma << "): " << err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
auto
NonLocalMeansImageFilter<TInputImage, TOutputImage>::MapOutputRegionToInputRegion(
  const OutputRegionType & outputRegion) const -> InputRegionType
{
  const TInputImage * input = this->GetInput();
  if (input == nullptr)
  {
    itkExceptionMacro(<< "Input 0 is not set");
  }
  const InputRegionType largest = input->GetLargestPossibleRegion();
  ptrdiff_t             shape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(largest.GetSize(), shape);
  const bw_region     outCore = blockwise::ToCore(outputRegion, largest.GetIndex());
  bw_region           inCore;
  bw_error            err;
  const bw_nlm_params p = this->CoreParameters();
  if (bw_nlm_input_region(&p, shape, &outCore, &inCore, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Output region " << outputRegion << " has no input region in " << largest << ": "
                      << err.message);
  }
  return blockwise::FromCore(inCore, largest.GetIndex());
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  // Not the superclass' version: it would ask for the output's requested
  // region as it is, without the halo.
  auto * input = const_cast<TInputImage *>(this->GetInput());
  if (input == nullptr)
  {
    return;
  }
  const OutputRegionType requested = this->GetOutput()->GetRequestedRegion();
  if (requested.GetNumberOfPixels() == 0)
  {
    return;
  }
  const InputRegionType region = this->MapOutputRegionToInputRegion(requested);
  if (!input->GetLargestPossibleRegion().IsInside(region))
  {
    itkExceptionMacro(<< "Requested region " << region << " is outside the input's largest region "
                      << input->GetLargestPossibleRegion());
  }
  input->SetRequestedRegion(region);
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::GenerateData()
{
  this->AllocateOutputs();
  this->BeforeThreadedGenerateData();
  const OutputRegionType region = this->GetOutput()->GetRequestedRegion();
  // The axis not to split: x in 2-D (pieces are bands of rows); in 3-D the
  // one along which a piece's halo costs most.
  unsigned int keep = 0;
  if (ImageDimension == 3)
  {
    double worst = -1.0;
    for (unsigned int d = 0; d < ImageDimension; ++d)
    {
      const double halo = static_cast<double>(m_PatchRadius[d]) + static_cast<double>(m_SearchRadius[d]);
      const double ratio = halo / static_cast<double>(std::max<SizeValueType>(1, region.GetSize(d)));
      if (ratio > worst)
      {
        worst = ratio;
        keep = d;
      }
    }
  }
  this->GetMultiThreader()->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  this->GetMultiThreader()->SetUpdateProgress(this->GetThreaderUpdateProgress());
  this->GetMultiThreader()->template ParallelizeImageRegionRestrictDirection<ImageDimension>(
    keep,
    region,
    [this](const OutputRegionType & piece) { this->DynamicThreadedGenerateData(piece); },
    this);
  this->AfterThreadedGenerateData();
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::DynamicThreadedGenerateData(
  const OutputRegionType & outputRegionForThread)
{
  if (outputRegionForThread.GetNumberOfPixels() == 0)
  {
    return;
  }
  const TInputImage * input = this->GetInput();
  TOutputImage *      output = this->GetOutput();
  const auto          largest = input->GetLargestPossibleRegion();
  const auto          inputRegion = this->MapOutputRegionToInputRegion(outputRegionForThread);
  if (!input->GetBufferedRegion().IsInside(inputRegion))
  {
    itkExceptionMacro(<< "Input region " << inputRegion << " is not buffered (buffered: " << input->GetBufferedRegion()
                      << ")");
  }

  const bw_view   in = blockwise::ViewOf(input->GetBufferPointer(), input->GetBufferedRegion(), inputRegion);
  const bw_view   out = blockwise::ViewOf(output->GetBufferPointer(), output->GetBufferedRegion(), outputRegionForThread);
  const bw_region inCore = blockwise::ToCore(inputRegion, largest.GetIndex());
  const bw_region outCore = blockwise::ToCore(outputRegionForThread, largest.GetIndex());
  ptrdiff_t       shape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(largest.GetSize(), shape);
  const bw_nlm_params p = this->CoreParameters();
  bw_error            err;
  if (bw_nlm(&in, inCore.start, &out, outCore.start, shape, &p, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Non-local means of region " << outputRegionForThread << " failed: " << err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "PatchRadius: " << m_PatchRadius << std::endl;
  os << indent << "SearchRadius: " << m_SearchRadius << std::endl;
  os << indent << "H: " << m_H << std::endl;
  os << indent << "NoiseModel: " << m_NoiseModel << std::endl;
  os << indent << "Sigma: " << m_Sigma << std::endl;
  os << indent << "Gain: " << m_Gain << std::endl;
  os << indent << "Offset: " << m_Offset << std::endl;
  os << indent << "ReadSigma: " << m_ReadSigma << std::endl;
}

} // namespace itk

#endif
