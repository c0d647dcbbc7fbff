/*
 * Block statistics of tiled TIFFs in one pass over their tiles.
 *
 * The ITK pipeline of `corr A.tif B.tif` reads each streamed piece of both
 * images into an image of its own, then computes the piece's blocks: with
 * 10-pixel blocks and 256-pixel tiles a piece is a few rows high, so the
 * readers keep a row of decoded tiles between pieces, and every pixel is
 * written to memory three times (the decoded tile, the piece, the channel)
 * before the block kernel reads it.  Here the work follows the tiles
 * instead: for each row of tiles, columns of whole tiles and whole blocks
 * (strips) go to the threads; each thread decodes its strip's tiles of
 * both files (the channel made as each decoded tile is copied out, while
 * it is in cache), computes the strip's complete rows of blocks with the
 * core, and hands the rows a block row still lacks to the next row of
 * tiles.  Every block comes from the core's kernel over its own pixels,
 * so the map is bit for bit the pipeline's (bw_block_stats: any
 * block-aligned sub-view gives the same bits); and memory is a few strips
 * and the rows carried over, whatever the image's size.
 *
 * Used by the engine for a Corr or Stats step over reads of 2-D tiled TIFFs
 * that nothing else takes (plan.h: ResolvedStep::tiled).
 */
#ifndef BLOCKWISE_CLI_TILED_BLOCKS_H
#define BLOCKWISE_CLI_TILED_BLOCKS_H

#include "blockwise.h"
#include "bw_channel.h"
#include "bw_tiff.h"

#include "itkBlockwiseCommon.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkImage.h"
#include "itkImageSource.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace blockwise_cli
{

/** What a tile-driven block pass computes. */
struct TiledBlocksSpec
{
  struct Input
  {
    std::string       path;
    int               level = 0;       // pyramid level
    bool              convert = false; // make one channel while decoding
    bw_channel_params channel{};       // when convert
  };
  std::vector<Input> inputs; // one file, or a pair of the same shape, tiles and pixels
  bw_block_params    params{}; // 2-D blocks
  bw_stat            stat = BW_STAT_CORR;
};

/** The pass itself, without ITK's pipeline: the files open, one reader per
 * file and thread. */
class TiledBlocks
{
public:
  /** Opens the files (throws RuntimeError with the file's name). */
  explicit TiledBlocks(const TiledBlocksSpec & spec);
  ~TiledBlocks();
  TiledBlocks(const TiledBlocks &) = delete;
  TiledBlocks & operator=(const TiledBlocks &) = delete;

  /** The element type pixels are read as: what the TIFF ImageIO gives
   * for the same file and conversion. */
  static bw_dtype
  PixelType(const bw_tiff_info & info, const TiledBlocksSpec::Input & input);
  bw_dtype
  PixelType() const
  {
    return m_Type;
  }
  const bw_tiff_info &
  Info() const
  {
    return m_Info;
  }

  /** Computes the blocks of @out_region (block indices, C order) into
   * @out (BW_F32 or BW_F64, of @out_region's shape) on ITK's default
   * number of threads, calling @progress with the share of the region's
   * rows done.  Throws RuntimeError. */
  void
  Compute(const bw_region & out_region, const bw_view & out, const std::function<void(double)> & progress);

private:
  struct Worker;
  std::unique_ptr<Worker>
  TakeWorker();
  void
  GiveWorker(std::unique_ptr<Worker> w);

  TiledBlocksSpec                       m_Spec;
  bw_tiff_info                          m_Info{};
  bw_dtype                              m_Type = BW_F32;
  std::vector<std::unique_ptr<Worker>>  m_Idle;
  std::mutex                            m_Lock;
};

} // namespace blockwise_cli

namespace itk
{

/** The map of a TiledBlocks pass as an ITK image source: geometry as the
 * block filters give it over the TIFF ImageIO's image, pixels for any
 * requested region. */
template <typename TOutputImage>
class TiledBlocksImageSource : public ImageSource<TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(TiledBlocksImageSource);
  using Self = TiledBlocksImageSource;
  using Superclass = ImageSource<TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;
  itkNewMacro(Self);
  itkTypeMacro(TiledBlocksImageSource, ImageSource);
  static constexpr unsigned int ImageDimension = TOutputImage::ImageDimension;
  static_assert(ImageDimension == 2, "the tile-driven pass is 2-D");

  void
  SetSpec(const blockwise_cli::TiledBlocksSpec & spec)
  {
    m_Spec = spec;
    m_Pass.reset();
    this->Modified();
  }

protected:
  TiledBlocksImageSource() = default;
  ~TiledBlocksImageSource() override = default;

  void
  GenerateOutputInformation() override
  {
    // The image ImageFileReader would give over the TIFF ImageIO, then
    // the block filters' grid over it.
    const blockwise_cli::TiledBlocksSpec::Input & first = m_Spec.inputs.at(0);
    auto                                          io = BlockwiseTIFFImageIO::New();
    io->SetFileName(first.path);
    io->SetLevel(static_cast<unsigned int>(first.level));
    if (first.convert)
      io->SetChannelConversion(first.channel);
    io->ReadImageInformation();
    using Proxy = Image<unsigned char, ImageDimension>;
    auto                      proxy = Proxy::New();
    typename Proxy::RegionType largest;
    typename Proxy::SpacingType spacing;
    typename Proxy::PointType   origin;
    typename Proxy::DirectionType direction;
    for (unsigned int d = 0; d < ImageDimension; ++d)
    {
      largest.SetSize(d, io->GetDimensions(d));
      spacing[d] = io->GetSpacing(d);
      origin[d] = io->GetOrigin(d);
      for (unsigned int e = 0; e < ImageDimension; ++e)
        direction[e][d] = io->GetDirection(d)[e];
    }
    proxy->SetLargestPossibleRegion(largest);
    proxy->SetSpacing(spacing);
    proxy->SetOrigin(origin);
    proxy->SetDirection(direction);
    ptrdiff_t inShape[BW_MAX_DIMS] = { 0, 0, 0 }, outShape[BW_MAX_DIMS] = { 0, 0, 0 };
    blockwise::ShapeToCore(largest.GetSize(), inShape);
    bw_error err;
    if (bw_block_output_shape(&m_Spec.params, inShape, outShape, &err) != BW_OK)
      itkExceptionMacro(<< err.message);
    blockwise::SetBlockGrid(proxy.GetPointer(), outShape, m_Spec.params.block, this->GetOutput());
  }

  void
  GenerateData() override
  {
    TOutputImage * out = this->GetOutput();
    out->SetBufferedRegion(out->GetRequestedRegion());
    out->Allocate();
    if (!m_Pass)
      m_Pass.reset(new blockwise_cli::TiledBlocks(m_Spec));
    const auto &            region = out->GetBufferedRegion();
    const auto              largest = out->GetLargestPossibleRegion();
    bw_region               r{};
    bw_view                 v{};
    v.data = out->GetBufferPointer();
    v.dtype = blockwise::DType<typename TOutputImage::PixelType>::value;
    v.ndim = 2;
    for (unsigned int d = 0; d < 2; ++d)
    {
      r.start[1 - d] = static_cast<ptrdiff_t>(region.GetIndex(d));
      r.size[1 - d] = static_cast<ptrdiff_t>(region.GetSize(d));
      v.shape[1 - d] = r.size[1 - d];
    }
    v.strides[1] = sizeof(typename TOutputImage::PixelType);
    v.strides[0] = v.strides[1] * v.shape[1];
    // Progress over the whole map, so that a map computed in pieces
    // reports one steady pass.
    const double rows = static_cast<double>(largest.GetSize(1));
    m_Pass->Compute(r, v, [&](double done) {
      this->UpdateProgress(static_cast<float>((static_cast<double>(r.start[0]) + done * static_cast<double>(r.size[0])) / rows));
    });
  }

private:
  blockwise_cli::TiledBlocksSpec                m_Spec;
  std::unique_ptr<blockwise_cli::TiledBlocks>   m_Pass;
};

} // namespace itk

#endif
