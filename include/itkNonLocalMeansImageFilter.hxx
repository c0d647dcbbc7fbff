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
  bw_nlm_params_init(&m_Parameters, static_cast<int>(ImageDimension), 0.0);
  this->DynamicMultiThreadingOn();
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::SetCoreParameters(const bw_nlm_params & parameters)
{
  if (parameters.ndim != static_cast<int>(ImageDimension))
  {
    itkExceptionMacro(<< "Core parameters for " << parameters.ndim << "-D images given to a filter of "
                      << ImageDimension << "-D images");
  }
  const bw_nlm_params & o = m_Parameters;
  auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  bool unchanged = parameters.noise == o.noise && same(parameters.h, o.h) && same(parameters.sigma, o.sigma) &&
                   same(parameters.gain, o.gain) && same(parameters.offset, o.offset) &&
                   same(parameters.read_sigma, o.read_sigma);
  for (unsigned int d = 0; d < BW_MAX_DIMS; ++d)
  {
    unchanged = unchanged && parameters.patch[d] == o.patch[d] && parameters.search[d] == o.search[d];
  }
  if (!unchanged)
  {
    m_Parameters = parameters;
    this->Modified();
  }
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  // The core's own check, with its message, before any pixel of the
  // pipeline is read.
  bw_error err;
  if (bw_nlm_params_check(&m_Parameters, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid parameters (PatchRadius " << this->GetPatchRadius() << ", SearchRadius "
                      << this->GetSearchRadius() << ", H " << this->GetH() << ", NoiseModel " << this->GetNoiseModel()
                      << ", Sigma " << this->GetSigma() << ", Gain " << this->GetGain() << ", Offset "
                      << this->GetOffset() << ", ReadSigma " << this->GetReadSigma() << "): " << err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
auto
NonLocalMeansImageFilter<TInputImage, TOutputImage>::MapOutputRegionToInputRegion(
  const OutputRegionType & outputRegion) const -> InputRegionType
{
  const TInputImage *   input = this->GetInput();
  const bw_nlm_params & p = m_Parameters;
  // Output and input share their index space.
  return blockwise::MapRegion(input, outputRegion,
                              input ? input->GetLargestPossibleRegion().GetIndex() : Index<ImageDimension>(),
                              [&p](const ptrdiff_t * shape, const bw_region * out, bw_region * in, bw_error * err) {
                                return bw_nlm_input_region(&p, shape, out, in, err);
                              });
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  // Not the superclass' version: it would ask for the output's requested
  // region as it is, without the halo.
  blockwise::RequestMappedRegion(this);
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
  ptrdiff_t    before[BW_MAX_DIMS] = { 0, 0, 0 }, after[BW_MAX_DIMS] = { 0, 0, 0 };
  bw_error     err;
  if (bw_nlm_halo(&m_Parameters, before, after, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Invalid radii: " << err.message);
  }
  if (ImageDimension == 3)
  {
    double worst = -1.0;
    for (unsigned int d = 0; d < ImageDimension; ++d)
    {
      const unsigned int c = ImageDimension - 1 - d; // the core's axis
      const double       halo = static_cast<double>(before[c]) + static_cast<double>(after[c]);
      const double       ratio = halo / static_cast<double>(std::max<SizeValueType>(1, region.GetSize(d)));
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
  bw_error        err;
  if (bw_nlm(&in, inCore.start, &out, outCore.start, shape, &m_Parameters, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Non-local means of region " << outputRegionForThread << " failed: " << err.message);
  }
}

template <typename TInputImage, typename TOutputImage>
void
NonLocalMeansImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "PatchRadius: " << this->GetPatchRadius() << std::endl;
  os << indent << "SearchRadius: " << this->GetSearchRadius() << std::endl;
  os << indent << "H: " << this->GetH() << std::endl;
  os << indent << "NoiseModel: " << this->GetNoiseModel() << std::endl;
  os << indent << "Sigma: " << this->GetSigma() << std::endl;
  os << indent << "Gain: " << this->GetGain() << std::endl;
  os << indent << "Offset: " << this->GetOffset() << std::endl;
  os << indent << "ReadSigma: " << this->GetReadSigma() << std::endl;
}

} // namespace itk

#endif
