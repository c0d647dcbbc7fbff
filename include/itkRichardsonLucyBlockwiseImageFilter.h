/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkRichardsonLucyBlockwiseImageFilter_h
#define itkRichardsonLucyBlockwiseImageFilter_h

#include "bw_deconv.h"
#include "itkBlockwiseCommon.h"
#include "itkImageToImageFilter.h"

namespace itk
{

/** \class RichardsonLucyBlockwiseImageFilter
 * \brief Richardson-Lucy deconvolution that streams: each requested region
 * is deconvolved from the input region grown by a halo, so a streaming
 * pipeline pulls pieces of a volume far larger than memory.
 *
 * A thin wrapper over the Blockwise deconvolution library's
 * bw_rl_deconvolve() (libblockwise_deconv, over FFTW), which defines the
 * iterations, the boundaries, the acceleration and the guard; the first
 * estimate is the input itself, as RichardsonLucyDeconvolutionImageFilter
 * starts.  The requested region of input 0 is the output's grown by the
 * halo and clipped to the image (bw_rl_input_region()); by default the
 * halo is bw_rl_exact_halo() (iterations x (PSF extent - 1) per axis), with
 * which every piece is the whole image's result to float rounding
 * (non-circulant boundary, no acceleration); SetHalo() sets a smaller one,
 * trading accuracy at piece edges for memory.  The kernel (input 1,
 * SetKernelImage(), float by default: any scalar type the core reads) is
 * read whole; its centre is its centre of mass.
 *
 * The output is float, of the input's geometry.  The work of one requested
 * region is one call, its transforms on the filter's number of work units
 * (FFTW threads).
 *
 * \ingroup Blockwise
 */
template <typename TInputImage,
          typename TOutputImage = Image<float, TInputImage::ImageDimension>,
          typename TKernelImage = Image<float, TInputImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT RichardsonLucyBlockwiseImageFilter : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(RichardsonLucyBlockwiseImageFilter);

  using Self = RichardsonLucyBlockwiseImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(RichardsonLucyBlockwiseImageFilter, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  static_assert(ImageDimension == 2 || ImageDimension == 3, "RichardsonLucyBlockwiseImageFilter: 2-D or 3-D");
  static_assert(std::is_same<typename TOutputImage::PixelType, float>::value,
                "RichardsonLucyBlockwiseImageFilter: the output is float");

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using RegionType = typename TInputImage::RegionType;
  using SizeType = Size<ImageDimension>;
  using KernelImageType = TKernelImage;
  static_assert(TKernelImage::ImageDimension == ImageDimension, "RichardsonLucyBlockwiseImageFilter: the kernel "
                                                                 "has the image's dimension");

  /** The point spread function: read whole, normalised to sum 1. */
  void
  SetKernelImage(const KernelImageType * kernel)
  {
    this->SetNthInput(1, const_cast<KernelImageType *>(kernel));
  }
  const KernelImageType *
  GetKernelImage() const
  {
    return dynamic_cast<const KernelImageType *>(this->ProcessObject::GetInput(1));
  }

  /** Iterations (default BW_RL_DEFAULT_ITERATIONS). */
  void
  SetNumberOfIterations(int n)
  {
    if (m_Parameters.iterations != n)
    {
      m_Parameters.iterations = n;
      this->Modified();
    }
  }
  int
  GetNumberOfIterations() const
  {
    return m_Parameters.iterations;
  }

  /** Periodic instead of the non-circulant boundary (default off). */
  void
  SetPeriodicBoundary(bool on)
  {
    const bw_rl_boundary b = on ? BW_RL_PERIODIC : BW_RL_NONCIRCULANT;
    if (m_Parameters.boundary != b)
    {
      m_Parameters.boundary = b;
      this->Modified();
    }
  }
  bool
  GetPeriodicBoundary() const
  {
    return m_Parameters.boundary == BW_RL_PERIODIC;
  }
  itkBooleanMacro(PeriodicBoundary);

  /** Biggs-Andrews acceleration (default off). */
  void
  SetAccelerate(bool on)
  {
    if (m_Parameters.accelerate != (on ? 1 : 0))
    {
      m_Parameters.accelerate = on ? 1 : 0;
      this->Modified();
    }
  }
  bool
  GetAccelerate() const
  {
    return m_Parameters.accelerate != 0;
  }
  itkBooleanMacro(Accelerate);

  /** The weight of total-variation regularisation (Dey et al., 2006), 0
   * (default: none) to BW_RL_MAX_TV; 0.002 is a usual start.  Checked
   * when the filter runs. */
  void
  SetTotalVariation(double lambda)
  {
    if (m_Parameters.tv != lambda)
    {
      m_Parameters.tv = lambda;
      this->Modified();
    }
  }
  double
  GetTotalVariation() const
  {
    return m_Parameters.tv;
  }

  /** The halo per axis of each requested region; unset (the default), the
   * exact halo of the kernel and the iterations. */
  void
  SetHalo(const SizeType & halo)
  {
    if (!m_HaloSet || m_Halo != halo)
    {
      m_Halo = halo;
      m_HaloSet = true;
      this->Modified();
    }
  }
  void
  UseExactHalo()
  {
    if (m_HaloSet)
    {
      m_HaloSet = false;
      this->Modified();
    }
  }
  /** The halo in use: SetHalo()'s, or the exact one (needs the kernel's
   * information). */
  SizeType
  GetHalo() const;

  /** All of the above at once, as the library's parameters (C order),
   * kept as they are; checked when the filter runs.  ndim and threads are
   * the filter's own (the image's dimension, the work units). */
  void
  SetCoreParameters(const bw_rl_params & parameters)
  {
    m_Parameters = parameters;
    this->Modified();
  }
  const bw_rl_params &
  GetCoreParameters() const
  {
    return m_Parameters;
  }

  /** The region of the input computing @outputRegion reads: the halo's
   * region map.  Throws when @outputRegion is not inside the output's
   * largest region. */
  RegionType
  MapOutputRegionToInputRegion(const RegionType & outputRegion) const;

protected:
  RichardsonLucyBlockwiseImageFilter();
  ~RichardsonLucyBlockwiseImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  VerifyInputInformation() ITKv5_CONST override;

  void
  GenerateInputRequestedRegion() override;

  void
  GenerateData() override;

private:
  bw_rl_params m_Parameters;
  SizeType     m_Halo{};
  bool         m_HaloSet{ false };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkRichardsonLucyBlockwiseImageFilter.hxx"
#endif

#endif
