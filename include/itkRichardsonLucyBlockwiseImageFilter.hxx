/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkRichardsonLucyBlockwiseImageFilter_hxx
#define itkRichardsonLucyBlockwiseImageFilter_hxx

#include "itkRichardsonLucyBlockwiseImageFilter.h"

#include "itkImageAlgorithm.h"
#include "itkMultiThreaderBase.h"

#include <exception>
#include <memory>

namespace itk
{

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::RichardsonLucyBlockwiseImageFilter()
{
  bw_rl_params_init(&m_Parameters, static_cast<int>(ImageDimension));
  this->SetNumberOfRequiredInputs(2);
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
auto
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::GetHalo() const -> SizeType
{
  if (m_HaloSet)
  {
    return m_Halo;
  }
  const KernelImageType * kernel = this->GetKernelImage();
  if (kernel == nullptr)
  {
    itkExceptionMacro(<< "The kernel image (input 1) is not set");
  }
  bw_rl_params p = m_Parameters;
  p.ndim = static_cast<int>(ImageDimension);
  ptrdiff_t shape[BW_MAX_DIMS] = { 0, 0, 0 }, halo[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(kernel->GetLargestPossibleRegion().GetSize(), shape);
  bw_error err;
  if (bw_rl_exact_halo(&p, shape, halo, &err) != BW_OK)
  {
    itkExceptionMacro(<< err.message);
  }
  return blockwise::SizeFromCore<ImageDimension>(halo);
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
auto
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::MapOutputRegionToInputRegion(
  const RegionType & outputRegion) const -> RegionType
{
  ptrdiff_t halo[BW_MAX_DIMS] = { 0, 0, 0 }, psf[BW_MAX_DIMS] = { 1, 1, 1 };
  blockwise::SizeToCore(this->GetHalo(), halo);
  const KernelImageType * kernel = this->GetKernelImage();
  if (kernel == nullptr)
  {
    itkExceptionMacro(<< "The kernel image (input 1, SetKernelImage()) is not set");
  }
  blockwise::ShapeToCore(kernel->GetLargestPossibleRegion().GetSize(), psf);
  const TInputImage * input = this->GetInput();
  const Index<ImageDimension> origin =
    input ? input->GetLargestPossibleRegion().GetIndex() : outputRegion.GetIndex();
  return blockwise::MapRegion<ImageDimension>(
    input, outputRegion, origin, [&](const ptrdiff_t * shape, const bw_region * out, bw_region * in, bw_error * err) {
      return bw_rl_input_region(static_cast<int>(ImageDimension), halo, psf, shape, out, in, err);
    });
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
void
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::VerifyPreconditions() ITKv5_CONST
{
  if (this->GetKernelImage() == nullptr)
  {
    itkExceptionMacro(<< "The kernel image (input 1, SetKernelImage()) is not set");
  }
  Superclass::VerifyPreconditions();
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
void
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::VerifyInputInformation() ITKv5_CONST
{
  // The kernel lives on a grid of its own: only input 0 defines the space.
  const TInputImage * input = this->GetInput();
  if (input == nullptr)
  {
    itkExceptionMacro(<< "Input 0 is not set");
  }
  if (this->GetKernelImage() == nullptr)
  {
    itkExceptionMacro(<< "The kernel image (input 1) is not set");
  }
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
void
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::GenerateInputRequestedRegion()
{
  const RegionType requested = this->GetOutput()->GetRequestedRegion();
  auto *           input = const_cast<TInputImage *>(this->GetInput());
  auto *           kernel = const_cast<KernelImageType *>(this->GetKernelImage());
  if (input == nullptr || kernel == nullptr)
  {
    return;
  }
  kernel->SetRequestedRegionToLargestPossibleRegion();
  if (requested.GetNumberOfPixels() == 0)
  {
    return;
  }
  input->SetRequestedRegion(this->MapOutputRegionToInputRegion(requested));
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
void
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::GenerateData()
{
  this->AllocateOutputs();
  TOutputImage *          output = this->GetOutput();
  const TInputImage *     input = this->GetInput();
  const KernelImageType * kernel = this->GetKernelImage();
  const RegionType        outRegion = output->GetRequestedRegion();
  const RegionType        inRegion = this->MapOutputRegionToInputRegion(outRegion);
  if (!input->GetBufferedRegion().IsInside(inRegion))
  {
    itkExceptionMacro(<< "The input holds " << input->GetBufferedRegion() << ", not " << inRegion);
  }

  bw_rl_params p = m_Parameters;
  p.ndim = static_cast<int>(ImageDimension);
  p.threads = static_cast<int>(std::max<ThreadIdType>(1, std::min<ThreadIdType>(256, this->GetNumberOfWorkUnits())));
  ptrdiff_t shape[BW_MAX_DIMS] = { 0, 0, 0 };
  blockwise::ShapeToCore(inRegion.GetSize(), shape);
  const bw_view psf = blockwise::ViewOf(kernel->GetBufferPointer(), kernel->GetBufferedRegion(),
                                        kernel->GetLargestPossibleRegion());
  bw_rl_plan * raw = nullptr;
  bw_error     err;
  if (bw_rl_plan_new(&p, shape, &psf, &raw, &err) != BW_OK)
  {
    itkExceptionMacro(<< err.message);
  }
  std::unique_ptr<bw_rl_plan, void (*)(bw_rl_plan *)> plan(raw, bw_rl_plan_free);

  // The grown region deconvolved into a buffer of its own; its part the
  // output asked for, copied out.
  auto piece = TOutputImage::New();
  piece->SetRegions(inRegion);
  piece->Allocate();
  const bw_view in = blockwise::ViewOf(input->GetBufferPointer(), input->GetBufferedRegion(), inRegion);
  const bw_view out = blockwise::ViewOf(piece->GetBufferPointer(), inRegion, inRegion);
  // Progress after every iteration; an observer's exception (an abort) is
  // caught here, stops the library, and is thrown again past it.
  struct Progress
  {
    Self *             filter;
    std::exception_ptr failed;
  } progress{ this, nullptr };
  const bw_rl_progress_fn report = [](void * user, int done, int total) -> int {
    auto * state = static_cast<Progress *>(user);
    try
    {
      state->filter->UpdateProgress(static_cast<float>(done) / static_cast<float>(total));
      if (state->filter->GetAbortGenerateData())
      {
        ProcessAborted e(__FILE__, __LINE__);
        e.SetDescription("Richardson-Lucy deconvolution aborted");
        throw e;
      }
    }
    catch (...)
    {
      state->failed = std::current_exception();
      return 1;
    }
    return 0;
  };
  const bw_status st = bw_rl_deconvolve_progress(plan.get(), &in, &out, report, &progress, &err);
  if (progress.failed)
  {
    std::rethrow_exception(progress.failed);
  }
  if (st != BW_OK)
  {
    itkExceptionMacro(<< err.message);
  }
  ImageAlgorithm::Copy(piece.GetPointer(), output, outRegion, outRegion);
  this->UpdateProgress(1.0f);
}

template <typename TInputImage, typename TOutputImage, typename TKernelImage>
void
RichardsonLucyBlockwiseImageFilter<TInputImage, TOutputImage, TKernelImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "NumberOfIterations: " << m_Parameters.iterations << std::endl;
  os << indent << "PeriodicBoundary: " << (this->GetPeriodicBoundary() ? "On" : "Off") << std::endl;
  os << indent << "Accelerate: " << (this->GetAccelerate() ? "On" : "Off") << std::endl;
  os << indent << "Epsilon: " << m_Parameters.epsilon << std::endl;
  os << indent << "Halo: ";
  if (m_HaloSet)
    os << m_Halo << std::endl;
  else
    os << "exact" << std::endl;
}

} // namespace itk

#endif
