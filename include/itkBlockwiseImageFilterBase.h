/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockwiseImageFilterBase_h
#define itkBlockwiseImageFilterBase_h

#include "itkBlockwiseCommon.h"
#include "itkImageToImageFilter.h"

#include <limits>

namespace itk
{

/** \class BlockwiseImageFilterBase
 * \brief Common part of the filters that reduce each non-overlapping block
 * of pixels of their input(s) to one output pixel.
 *
 * Block (i, j[, k]) of the output covers input pixels
 * [I0 + i*Bx, I0 + (i+1)*Bx) x [J0 + j*By, ...) where (I0, J0, ...) is the
 * start of the input's largest possible region and B the BlockSize.
 *
 * Geometry (GenerateOutputInformation): the output has ceil(N/B) pixels per
 * axis with the Partial edge policy (blocks cut short by the image edge are
 * kept) and floor(N/B) with Trim (they are dropped; an exception if none is
 * left); its largest possible region starts at index 0; spacing is the input
 * spacing times the block size; the origin is the physical centre of the
 * first block, (B - 1) / 2 pixels from the input's first pixel along each
 * axis (as itk::BinShrinkImageFilter places it); direction is the input's.
 *
 * Streaming (GenerateInputRequestedRegion): every input is asked for exactly
 * the pixels of the blocks in the output's requested region, as given by the
 * C core's region map (bw_block_input_region); any output region computed
 * from that input region equals the whole-image result bit for bit.
 *
 * Inputs must all have the same largest possible region (pixels pair up by
 * index); otherwise an itk::ExceptionObject names the sizes or start
 * indices.
 *
 * \ingroup Blockwise
 */
template <typename TInputImage, typename TOutputImage>
class ITK_TEMPLATE_EXPORT BlockwiseImageFilterBase : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockwiseImageFilterBase);

  using Self = BlockwiseImageFilterBase;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkTypeMacro(BlockwiseImageFilterBase, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  static_assert(ImageDimension == 2 || ImageDimension == 3, "Blockwise filters work on 2-D and 3-D images");
  static_assert(static_cast<unsigned int>(TOutputImage::ImageDimension) == ImageDimension,
                "The output has the dimension of the input");

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using InputRegionType = typename TInputImage::RegionType;
  using OutputRegionType = typename TOutputImage::RegionType;
  using BlockSizeType = Size<ImageDimension>;
  using StatisticEnum = BlockwiseEnums::Statistic;
  using EdgePolicyEnum = BlockwiseEnums::EdgePolicy;

  /** Block extent per axis, in pixels (default 10 along every axis). */
  itkSetMacro(BlockSize, BlockSizeType);
  itkGetConstReferenceMacro(BlockSize, BlockSizeType);
  /** The same extent along every axis. */
  void
  SetBlockSize(SizeValueType size)
  {
    BlockSizeType s;
    s.Fill(size);
    this->SetBlockSize(s);
  }

  /** Edge blocks: Partial (default) or Trim. */
  itkSetEnumMacro(EdgePolicy, EdgePolicyEnum);
  itkGetEnumMacro(EdgePolicy, EdgePolicyEnum);

  /** Delta degrees of freedom of variances, standard deviations and
   * covariances: 0 (default, population) or 1 (sample). */
  itkSetClampMacro(Ddof, unsigned int, 0, 1);
  itkGetConstMacro(Ddof, unsigned int);

  /** Correlation of a block in which either input is constant: NaN by
   * default (as numpy.corrcoef), or this value. */
  itkSetMacro(FillValue, double);
  itkGetConstMacro(FillValue, double);

  /** The input region whose pixels the blocks of @outputRegion cover: the
   * core's region map. */
  InputRegionType
  MapOutputRegionToInputRegion(const OutputRegionType & outputRegion) const;

protected:
  BlockwiseImageFilterBase();
  ~BlockwiseImageFilterBase() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  GenerateOutputInformation() override;

  void
  GenerateInputRequestedRegion() override;

  void
  VerifyInputInformation() ITKv5_CONST override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  /** The core's parameters for the current settings. */
  bw_block_params
  CoreParameters() const;

  /** Throws an itk::ExceptionObject for a failed core call. */
  void
  ThrowCoreError(const char * what, const bw_error & err) const;

private:
  BlockSizeType  m_BlockSize;
  EdgePolicyEnum m_EdgePolicy{ EdgePolicyEnum::Partial };
  unsigned int   m_Ddof{ 0 };
  double         m_FillValue{ std::numeric_limits<double>::quiet_NaN() };
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkBlockwiseImageFilterBase.hxx"
#endif

#endif
