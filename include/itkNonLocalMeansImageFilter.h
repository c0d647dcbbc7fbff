/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkNonLocalMeansImageFilter_h
#define itkNonLocalMeansImageFilter_h

#include "itkBlockwiseCommon.h"
#include "itkImageToImageFilter.h"

#include <algorithm>
#include <cmath>
#include <ostream>

namespace itk
{

/** \class NonLocalMeansEnums
 * \brief Enumerations of itk::NonLocalMeansImageFilter.
 * \ingroup Blockwise
 */
class NonLocalMeansEnums
{
public:
  /** The noise model: additive Gaussian noise of known standard deviation
   * (Sigma), or Poisson photon counts times Gain plus Offset plus Gaussian
   * read noise of standard deviation ReadSigma (fluorescence cameras).
   * The values are the core's bw_nlm_noise values. */
  enum class NoiseModel : uint8_t
  {
    Gaussian = BW_NLM_GAUSSIAN,
    PoissonGaussian = BW_NLM_POISSON_GAUSSIAN
  };
};

inline std::ostream &
operator<<(std::ostream & out, const NonLocalMeansEnums::NoiseModel value)
{
  static const char * const names[] = { "Gaussian", "PoissonGaussian" };
  return blockwise::PrintEnum(out, "NonLocalMeansEnums::NoiseModel::", names, 2, static_cast<unsigned int>(value));
}

/** Set##name / Get##name of m_Parameters.field, a double of the core's
 * parameters (Modified() when it changes). */
#define itkBlockwiseDoubleMacro(name, field)                                                                           \
  void Set##name(double value) { this->SetField(m_Parameters.field, value); }                                        \
  double Get##name() const { return m_Parameters.field; }                                                            \
  ITK_MACROEND_NOOP_STATEMENT

/** Set##name (per axis in ITK order, or one value for every axis) and
 * Get##name of the radii m_Parameters.field (core order). */
#define itkBlockwiseRadiusMacro(name, field)                                                                           \
  void Set##name(const RadiusType & radius) { this->SetRadius(radius, &bw_nlm_params::field); }                      \
  RadiusType Get##name() const { return blockwise::SizeFromCore<ImageDimension>(m_Parameters.field); }               \
  void Set##name(SizeValueType radius)                                                                               \
  {                                                                                                                  \
    RadiusType r;                                                                                                    \
    r.Fill(radius);                                                                                                  \
    this->Set##name(r);                                                                                              \
  }                                                                                                                  \
  ITK_MACROEND_NOOP_STATEMENT

/** \class NonLocalMeansImageFilter
 * \brief Non-local means denoising of 2-D and 3-D images, streamable and
 * threaded, bit for bit the same however the output is split.
 *
 * Each output pixel is the weighted mean of the pixels of a search window
 * centred on it (SearchRadius per axis: radius 10 is a 21-pixel window),
 * each weighted by the similarity of the patches around the two pixels
 * (PatchRadius per axis: radius 3 is a 7-pixel patch):
 *   w = exp(-max(d2 - 2 Sigma^2, 0) / H^2),
 * d2 the mean squared difference of the two patches.  Radii are given per
 * axis in ITK's index order (x first), so anisotropic volumes can search
 * 2 slices in z and 10 pixels in x and y.
 *
 * Noise models (SetNoiseModel): Gaussian with known Sigma (image units; H in
 * image units, 0 selecting 0.8 Sigma), or PoissonGaussian with Gain (image
 * units per photo-electron), Offset and ReadSigma: the image is stabilised by
 * the generalised Anscombe transform, denoised there (H in units of the
 * stabilised noise, 0 selecting 0.8) and brought back by the exact unbiased
 * inverse.
 *
 * Border: the image's largest possible region (not the requested region)
 * defines it; search windows and patches are clipped to it, patch distances
 * averaged over the pixel pairs inside.
 *
 * Streaming (GenerateInputRequestedRegion): the input is asked for the
 * output's requested region grown by PatchRadius + SearchRadius along each
 * axis, clipped to the largest possible region, as the C core's region map
 * (bw_nlm_input_region) gives it; every output region computed from that
 * input region equals the whole-image result bit for bit, so streamed,
 * chunked and threaded results are identical.
 *
 * The arithmetic is the Blockwise C core's bw_nlm(), on strided views of the
 * input and output buffers (no copies of the images), one call per thread's
 * region.  Output pixels of an integer type are rounded to nearest and
 * clamped to its range.  Float inputs must be finite; NaN or infinity in the
 * region an output region needs raises an itk::ExceptionObject.
 *
 * \ingroup Blockwise
 */
template <typename TInputImage, typename TOutputImage = TInputImage>
class ITK_TEMPLATE_EXPORT NonLocalMeansImageFilter : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(NonLocalMeansImageFilter);

  using Self = NonLocalMeansImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(NonLocalMeansImageFilter, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  static_assert(ImageDimension == 2 || ImageDimension == 3, "NonLocalMeansImageFilter works on 2-D and 3-D images");
  static_assert(static_cast<unsigned int>(TOutputImage::ImageDimension) == ImageDimension,
                "The output has the dimension of the input");

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using InputRegionType = typename TInputImage::RegionType;
  using OutputRegionType = typename TOutputImage::RegionType;
  using InputPixelType = typename TInputImage::PixelType;
  using OutputPixelType = typename TOutputImage::PixelType;
  using RadiusType = Size<ImageDimension>;
  using NoiseModelEnum = NonLocalMeansEnums::NoiseModel;

  static_assert(blockwise::DType<InputPixelType>::supported,
                "NonLocalMeansImageFilter: the input pixel type must be a scalar of a type the core supports");
  static_assert(blockwise::DType<OutputPixelType>::supported,
                "NonLocalMeansImageFilter: the output pixel type must be a scalar of a type the core supports");

  /** Patch radius per axis (default BW_NLM_DEFAULT_PATCH, 3: 7-pixel
   * patches). */
  itkBlockwiseRadiusMacro(PatchRadius, patch);

  /** Search radius per axis (default BW_NLM_DEFAULT_SEARCH, 10: 21-pixel
   * windows). */
  itkBlockwiseRadiusMacro(SearchRadius, search);

  /** The filtering parameter, >= 0; 0 (default) selects 0.8 Sigma for
   * Gaussian noise and 0.8 for Poisson-Gaussian noise. */
  itkBlockwiseDoubleMacro(H, h);

  /** Gaussian (default) or PoissonGaussian. */
  void
  SetNoiseModel(NoiseModelEnum model)
  {
    bw_nlm_params p = m_Parameters;
    p.noise = static_cast<bw_nlm_noise>(model);
    this->SetCoreParameters(p);
  }
  NoiseModelEnum
  GetNoiseModel() const
  {
    return static_cast<NoiseModelEnum>(m_Parameters.noise);
  }

  /** Gaussian noise: its standard deviation in image units (default 0). */
  itkBlockwiseDoubleMacro(Sigma, sigma);

  /** Poisson-Gaussian noise: image units per photo-electron (default 1). */
  itkBlockwiseDoubleMacro(Gain, gain);

  /** Poisson-Gaussian noise: the image value of no photo-electrons
   * (default 0). */
  itkBlockwiseDoubleMacro(Offset, offset);

  /** Poisson-Gaussian noise: standard deviation of the Gaussian read noise
   * in image units (default 0). */
  itkBlockwiseDoubleMacro(ReadSigma, read_sigma);

  /** All of the above at once, as the C core's parameters (radii in C axis
   * order, slowest first), for programs that already hold them: kept as
   * they are and handed to the core unchanged.  @parameters.ndim must be
   * the image dimension; the values are checked (bw_nlm_params_check) when
   * the filter runs. */
  void
  SetCoreParameters(const bw_nlm_params & parameters);
  const bw_nlm_params &
  GetCoreParameters() const
  {
    return m_Parameters;
  }

  /** The input region computing @outputRegion reads: the core's region map.
   * Throws when @outputRegion is not inside the largest possible region. */
  InputRegionType
  MapOutputRegionToInputRegion(const OutputRegionType & outputRegion) const;

protected:
  NonLocalMeansImageFilter();
  ~NonLocalMeansImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  GenerateInputRequestedRegion() override;

  /** Splits the output's requested region among threads along every axis
   * but one: in 3-D, the axis whose halo (the core's bw_nlm_halo()) is
   * largest relative to its extent (usually Z of an anisotropic stack), so
   * that threads do not each recompute the whole halo along it; in 2-D, the
   * rows. */
  void
  GenerateData() override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegionForThread) override;

private:
  /** Sets the patch or search radii (@field) from ITK order. */
  void
  SetRadius(const RadiusType & radius, ptrdiff_t (bw_nlm_params::*field)[BW_MAX_DIMS])
  {
    bw_nlm_params p = m_Parameters;
    blockwise::SizeToCore(radius, p.*field);
    this->SetCoreParameters(p);
  }

  /** Sets one double of the parameters, calling Modified() if it changes
   * (NaN counts as unchanged by NaN). */
  void
  SetField(double & field, double value)
  {
    if (!(field == value) && !(std::isnan(field) && std::isnan(value)))
    {
      field = value;
      this->Modified();
    }
  }

  /** Every parameter, in the one form the core takes. */
  bw_nlm_params m_Parameters;
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkNonLocalMeansImageFilter.hxx"
#endif

#endif
