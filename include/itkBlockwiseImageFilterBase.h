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

  /** Block extent per axis, in pixels (default BW_BLOCK_DEFAULT, 10, along
   * every axis). */
  void
  SetBlockSize(const BlockSizeType & size);
  BlockSizeType
  GetBlockSize() const
  {
    return blockwise::SizeFromCore<ImageDimension>(m_Parameters.block);
  }
  /** The same extent along every axis. */
  void
  SetBlockSize(SizeValueType size)
  {
    BlockSizeType s;
    s.Fill(size);
    this->SetBlockSize(s);
  }

  /** Edge blocks: Partial (default) or Trim. */
  void
  SetEdgePolicy(EdgePolicyEnum policy);
  EdgePolicyEnum
  GetEdgePolicy() const
  {
    return static_cast<EdgePolicyEnum>(m_Parameters.edge);
  }

  /** Delta degrees of freedom of variances, standard deviations and
   * covariances: 0 (default, population) or 1 (sample); larger values are
   * clamped to 1. */
  void
  SetDdof(unsigned int ddof);
  unsigned int
  GetDdof() const
  {
    return static_cast<unsigned int>(m_Parameters.ddof);
  }

  /** Correlation of a block in which either input is constant: NaN by
   * default (as numpy.corrcoef), or this value. */
  void
  SetFillValue(double value);
  double
  GetFillValue() const
  {
    return m_Parameters.use_fill ? m_Parameters.fill : std::numeric_limits<double>::quiet_NaN();
  }

  /** All of the above at once, as the C core's parameters (C axis order,
   * slowest first), for programs that already hold them: they are kept as
   * they are and handed to the core unchanged.  @parameters.ndim must be
   * the image dimension; the values are checked (bw_block_params_check)
   * when the filter runs. */
  void
  SetCoreParameters(const bw_block_params & parameters);
  const bw_block_params &
  GetCoreParameters() const
  {
    return m_Parameters;
  }

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

  /** Throws an itk::ExceptionObject for a failed core call. */
  void
  ThrowCoreError(const char * what, const bw_error & err) const;

private:
  /** Every parameter, in the one form the core takes. */
  bw_block_params m_Parameters;
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkBlockwiseImageFilterBase.hxx"
#endif

#endif
