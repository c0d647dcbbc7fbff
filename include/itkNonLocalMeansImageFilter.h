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
   * read noise of standard deviation ReadSigma (fluorescence cameras). */
  enum class NoiseModel : uint8_t
  {
    Gaussian,
    PoissonGaussian
  };
};

inline std::ostream &
operator<<(std::ostream & out, const NonLocalMeansEnums::NoiseModel value)
{
  switch (value)
  {
    case NonLocalMeansEnums::NoiseModel::Gaussian:
      return out << "NonLocalMeansEnums::NoiseModel::Gaussian";
    case NonLocalMeansEnums::NoiseModel::PoissonGaussian:
      return out << "NonLocalMeansEnums::NoiseModel::PoissonGaussian";
  }
  return out << "NonLocalMeansEnums::NoiseModel::INVALID";
}

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

  /** Patch radius per axis (default 3: 7-pixel patches). */
  itkSetMacro(PatchRadius, RadiusType);
  itkGetConstReferenceMacro(PatchRadius, RadiusType);
  /** The same patch radius along every axis. */
  void
  SetPatchRadius(SizeValueType radius)
  {
    RadiusType r;
    r.Fill(radius);
    this->SetPatchRadius(r);
  }

  /** Search radius per axis (default 10: 21-pixel windows). */
  itkSetMacro(SearchRadius, RadiusType);
  itkGetConstReferenceMacro(SearchRadius, RadiusType);
  /** The same search radius along every axis. */
  void
  SetSearchRadius(SizeValueType radius)
  {
    RadiusType r;
    r.Fill(radius);
    this->SetSearchRadius(r);
  }

  /** The filtering parameter, >= 0; 0 (default) selects 0.8 Sigma for
   * Gaussian noise and 0.8 for Poisson-Gaussian noise. */
  itkSetMacro(H, double);
  itkGetConstMacro(H, double);

  /** Gaussian (default) or PoissonGaussian. */
  itkSetEnumMacro(NoiseModel, NoiseModelEnum);
  itkGetEnumMacro(NoiseModel, NoiseModelEnum);

  /** Gaussian noise: its standard deviation in image units (default 0). */
  itkSetMacro(Sigma, double);
  itkGetConstMacro(Sigma, double);

  /** Poisson-Gaussian noise: image units per photo-electron (default 1). */
  itkSetMacro(Gain, double);
  itkGetConstMacro(Gain, double);

  /** Poisson-Gaussian noise: the image value of no photo-electrons
   * (default 0). */
  itkSetMacro(Offset, double);
  itkGetConstMacro(Offset, double);

  /** Poisson-Gaussian noise: standard deviation of the Gaussian read noise
   * in image units (default 0). */
  itkSetMacro(ReadSigma, double);
  itkGetConstMacro(ReadSigma, double);

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
   * but one: in 3-D, the axis whose halo (PatchRadius + SearchRadius) is
   * largest relative to its extent (usually Z of an anisotropic stack), so
   * that threads do not each recompute the whole halo along it; in 2-D, the
   * rows. */
  void
  GenerateData() override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegionForThread) override;

  /** The core's parameters for the current settings. */
  bw_nlm_params
  CoreParameters() const;

private:
  RadiusType     m_PatchRadius;
  RadiusType     m_SearchRadius;
  double         m_H{ 0.0 };
  NoiseModelEnum m_NoiseModel{ NoiseModelEnum::Gaussian };
  double         m_Sigma{ 0.0 };
  double         m_Gain{ 1.0 };
  double         m_Offset{ 0.0 };
  double         m_ReadSigma{ 0.0 };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkNonLocalMeansImageFilter.hxx"
#endif

#endif
