/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockShiftImageFilter_h
#define itkBlockShiftImageFilter_h

#include "bw_shift.h"
#include "itkBlockwiseCommon.h"
#include "itkImageToImageFilter.h"
#include "itkVector.h"

#include <limits>

namespace itk
{

/** \class BlockShiftImageFilter
 * \brief Per-block displacement of a moving image relative to a fixed one:
 * for each block of the fixed image, the shift of the moving image within
 * a search radius that maximises Pearson r, refined to sub-pixel, as a
 * displacement field in physical units.
 *
 * Output 0 is a displacement field on the block grid (one vector per
 * block; spacing BlockSize times the input's, origin at the centre of the
 * first block, as BlockStatisticsImageFilter's maps): vector u of a block
 * is the displacement from the fixed image to the moving one, in physical
 * units (the shift in pixels times the spacing, turned by the direction):
 * if the moving image is the fixed one moved by d, u is d, and
 * WarpImageFilter with the moving image and this field (upsampled to the
 * fixed image's grid) brings the moving image back onto the fixed one.
 * Output 1 (GetPeakCorrelationOutput()) is Pearson r at the best integer
 * shift, output 2 (GetZeroShiftCorrelationOutput()) Pearson r at zero
 * shift (the block correlation).  Blocks where no shift gives a defined r
 * are NaN (or the fill value).
 *
 * A thin wrapper over the Blockwise core's bw_block_shift(), which defines
 * the search, the sub-pixel refinement and the exactness: integer inputs
 * are summed exactly; any region of blocks computed from its mapped inputs
 * gives the same bits as the whole image, so streamed and threaded results
 * equal the unstreamed one.  Requested regions: the fixed image's pixels
 * the blocks cover, and those grown by the search radius in the moving
 * image (bw_shift_input_region()).
 *
 * Inputs: the fixed image (SetFixedImage(), input 0) and the moving image
 * (SetMovingImage(), input 1), of the same size and index space, scalar
 * pixels of one type the core takes.
 *
 * \ingroup Blockwise
 */
template <typename TInputImage,
          typename TDisplacementImage = Image<Vector<float, TInputImage::ImageDimension>, TInputImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT BlockShiftImageFilter : public ImageToImageFilter<TInputImage, TDisplacementImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockShiftImageFilter);

  using Self = BlockShiftImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TDisplacementImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(BlockShiftImageFilter, ImageToImageFilter);

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  static_assert(ImageDimension == 2 || ImageDimension == 3, "BlockShiftImageFilter works on 2-D and 3-D images");

  using InputImageType = TInputImage;
  using DisplacementImageType = TDisplacementImage;
  using InputRegionType = typename TInputImage::RegionType;
  using OutputRegionType = typename TDisplacementImage::RegionType;
  using InputPixelType = typename TInputImage::PixelType;
  using VectorType = typename TDisplacementImage::PixelType;
  using ComponentType = typename VectorType::ValueType;
  using CorrelationImageType = Image<ComponentType, ImageDimension>;
  using SizeType = Size<ImageDimension>;

  static_assert(blockwise::DType<InputPixelType>::supported,
                "BlockShiftImageFilter: the input pixel type must be a scalar of a type the core supports");
  static_assert(VectorType::Dimension == ImageDimension, "BlockShiftImageFilter: one vector component per axis");
  static_assert(std::is_same<ComponentType, float>::value || std::is_same<ComponentType, double>::value,
                "BlockShiftImageFilter: vector components are float or double");

  /** The fixed image (input 0) and the moving image (input 1). */
  void
  SetFixedImage(const TInputImage * image)
  {
    this->SetNthInput(0, const_cast<TInputImage *>(image));
  }
  void
  SetMovingImage(const TInputImage * image)
  {
    this->SetNthInput(1, const_cast<TInputImage *>(image));
  }

  /** Block extent per axis, in pixels (default BW_SHIFT_DEFAULT_BLOCK,
   * 64); one value for every axis. */
  void
  SetBlockSize(const SizeType & size);
  void
  SetBlockSize(SizeValueType size)
  {
    SizeType s;
    s.Fill(size);
    this->SetBlockSize(s);
  }
  SizeType
  GetBlockSize() const
  {
    return blockwise::SizeFromCore<ImageDimension>(m_Parameters.block);
  }

  /** Search radius per axis, in pixels (default BW_SHIFT_DEFAULT_SEARCH,
   * 8): shifts -radius .. radius are tried; one value for every axis. */
  void
  SetSearchRadius(const SizeType & radius);
  void
  SetSearchRadius(SizeValueType radius)
  {
    SizeType r;
    r.Fill(radius);
    this->SetSearchRadius(r);
  }
  SizeType
  GetSearchRadius() const
  {
    return blockwise::SizeFromCore<ImageDimension>(m_Parameters.search);
  }

  /** The value of blocks where no shift gives a defined r: NaN by default. */
  void
  SetFillValue(double value);
  double
  GetFillValue() const
  {
    return m_Parameters.use_fill ? m_Parameters.fill : std::numeric_limits<double>::quiet_NaN();
  }

  /** All of the above at once, as the C core's parameters (C axis order):
   * kept as they are and handed to the core unchanged; checked
   * (bw_shift_params_check) when the filter runs. */
  void
  SetCoreParameters(const bw_shift_params & parameters);
  const bw_shift_params &
  GetCoreParameters() const
  {
    return m_Parameters;
  }

  /** Pearson r at the best integer shift, per block. */
  CorrelationImageType *
  GetPeakCorrelationOutput()
  {
    return dynamic_cast<CorrelationImageType *>(this->ProcessObject::GetOutput(1));
  }
  /** Pearson r at zero shift, per block. */
  CorrelationImageType *
  GetZeroShiftCorrelationOutput()
  {
    return dynamic_cast<CorrelationImageType *>(this->ProcessObject::GetOutput(2));
  }

  /** The regions of the fixed and the moving image computing the blocks
   * of @outputRegion reads: the core's region map.  Throws when
   * @outputRegion is not inside the output's largest region. */
  void
  MapOutputRegionToInputRegions(const OutputRegionType & outputRegion,
                                InputRegionType &        fixedRegion,
                                InputRegionType &        movingRegion) const;

  using Superclass::MakeOutput;
  DataObject::Pointer
  MakeOutput(ProcessObject::DataObjectPointerArraySizeType idx) override;

protected:
  BlockShiftImageFilter();
  ~BlockShiftImageFilter() override = default;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  void
  VerifyPreconditions() ITKv5_CONST override;

  void
  VerifyInputInformation() ITKv5_CONST override;

  void
  GenerateOutputInformation() override;

  void
  GenerateInputRequestedRegion() override;

  /** Every output is asked for the displacement field's requested region. */
  void
  EnlargeOutputRequestedRegion(DataObject * output) override;

  void
  DynamicThreadedGenerateData(const OutputRegionType & outputRegionForThread) override;

private:
  bw_shift_params m_Parameters{};
};

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkBlockShiftImageFilter.hxx"
#endif

#endif
