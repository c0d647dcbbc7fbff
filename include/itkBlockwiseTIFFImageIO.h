/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockwiseTIFFImageIO_h
#define itkBlockwiseTIFFImageIO_h

#include "BlockwiseExport.h"
#include "bw_tiff.h"
#include "itkImageIOBase.h"

#include <array>
#include <vector>

namespace itk
{

/** \class BlockwiseTIFFImageIO
 * \brief Streaming TIFF reading and writing: a reader asks for a region and
 * only the strips or tiles that intersect it are read; a writer is fed
 * region by region and holds one strip (or one row of tiles) in memory.
 *
 * A thin wrapper over Blockwise's C TIFF layer (bw_tiff.h, over libtiff).
 *
 * Reads images of unsigned char, char, unsigned short, short, unsigned
 * int, int, float and double: grey, RGB, RGBA or several channels
 * (components of a pixel; or one channel made while decoding,
 * SetChannelConversion()), with palettes, MinIsWhite, packed 10/12/14-bit
 * samples and half floats unpacked; striped or tiled; uncompressed, LZW,
 * Deflate, PackBits, ZSTD or JPEG (as the installed libtiff has it); either
 * byte order; classic TIFF or BigTIFF; any level of a pyramid (SetLevel()).  A file of several pages is a 3-D image,
 * the page being Z; so is a file of one page whose ImageDescription marks it
 * as a volume ("images=" or "slices=", ImageJ's keys; this IO writes
 * "images=" for every 3-D image, so a 3-D image of one slice reads back as
 * 3-D).  Valid TIFF files this IO does not read are left to other ImageIOs,
 * CanReadFile() being false for them: other pixel formats (one bit per
 * pixel, CMYK, Lab) and other layouts or encodings (pages of different
 * sizes, ImageDepth, a compression the installed libtiff lacks); so are
 * whole-slide names (.svs, ...), BlockwiseOpenSlideImageIO's.  A corrupt or
 * truncated file with a TIFF name is claimed, and reading it throws an
 * itk::ExceptionObject that says what is wrong.
 *
 * Writes 2-D and 3-D images of those types, of scalars or of vectors (up
 * to BW_TIFF_WRITE_MAX_CHANNELS components, stored as samples of a pixel:
 * itk::Vector, itk::VectorImage, a displacement field), striped (default) or
 * tiled (SetTileSize()); compressed when the writer's UseCompression is on
 * (ImageFileWriter::UseCompressionOn()) with the scheme of
 * SetTIFFCompression() (Deflate by default), or by name with ITK's
 * SetCompressor("DEFLATE" | "LZW" | "PACKBITS" | "ZSTD" | "NONE"), with
 * the predictor (UsePredictor) for the schemes that take one
 * (bw_tiff_compression_has_predictor()) and CompressionLevel 1-9 for those
 * with levels (Deflate and ZSTD); BigTIFF when the file could pass 4 GB.  Streamed
 * writes come in bands of whole rows (or pages).  The file is written under
 * a temporary name and renamed when the last row is in, so the final name
 * never holds a partial file; after a failed write the temporary file is
 * removed by the next write or when this IO is destroyed.  Pasting into an
 * existing file is not supported.
 *
 * Spacing survives a round trip: X and Y in the resolution tags and, exactly,
 * in the ImageDescription; Z in the ImageDescription's "spacing=" line
 * (ImageJ's key).  Origin and direction are not stored (read as 0 and
 * identity).
 *
 * Register it ahead of ITK's own TIFFImageIO with
 * BlockwiseTIFFImageIOFactory::RegisterOneFactory().
 *
 * \ingroup Blockwise
 */
class Blockwise_EXPORT BlockwiseTIFFImageIO : public ImageIOBase
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockwiseTIFFImageIO);

  using Self = BlockwiseTIFFImageIO;
  using Superclass = ImageIOBase;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(BlockwiseTIFFImageIO, ImageIOBase);

  /** The level of a pyramid to read: 0 (the default) is the image itself,
   * 1 the largest reduced-resolution copy, and so on (bw_tiff_open_level()
   * says which directories form levels).  Size and spacing are the
   * level's; a level the file lacks throws when the image information is
   * read. */
  itkSetMacro(Level, unsigned int);
  itkGetConstMacro(Level, unsigned int);

  /** Reads one channel made from the file's channels while decoding, by
   * the core's conversion \a channel (bw_channel.h: luminance, optical
   * density, a stain of the colour deconvolution, or one channel by
   * number), instead of every channel.  The image read is then scalar, of
   * float (a channel by number: of the file's component type), with the
   * values ChannelConversionImageFilter computes from the pixels read
   * without it, bit for bit; but no image of the file's channels is made:
   * each decoded strip or tile is converted as it is copied out.  Checked
   * against the file's channels when the image information is read (an
   * exception names what does not fit).  A file of one channel is read as
   * it is. */
  void
  SetChannelConversion(const bw_channel_params & channel);
  /** Every channel as stored, as components of a pixel (the default). */
  void
  RemoveChannelConversion();
  /** Whether a conversion is set; if so, it is copied into \a channel. */
  bool
  GetChannelConversion(bw_channel_params & channel) const;

  /** Levels of the file's pyramid (1 without one), once
   * ReadImageInformation() has run; 0 before. */
  itkGetConstMacro(NumberOfLevels, unsigned int);

  /** Tiles of this width and length (multiples of 16) when writing; 0 for
   * strips (the default). */
  void
  SetTileSize(unsigned int width, unsigned int length);
  itkGetConstMacro(TileWidth, unsigned int);
  itkGetConstMacro(TileLength, unsigned int);

  /** Rows per strip when writing strips; 0 (default): strips of about
   * 64 KiB. */
  itkSetMacro(RowsPerStrip, unsigned int);
  itkGetConstMacro(RowsPerStrip, unsigned int);

  /** BigTIFF: -1 (default) when the file could pass 4 GB, 0 never, 1 always. */
  itkSetClampMacro(BigTIFF, int, -1, 1);
  itkGetConstMacro(BigTIFF, int);

  /** Threads that share one read: the region is cut into bands, each read
   * on a thread of ITK's pool through a reader of its own, so compressed
   * chunks are decoded in parallel and each is still decoded once: whole
   * pages for a region of several pages; in tiled files, columns of whole
   * tiles (so that a streamed piece thinner than a row of tiles is still
   * decoded on every thread, each keeping its columns for the next piece);
   * else rows of whole strips.  0 (the default): MultiThreaderBase's global
   * default number of threads, with bands of a megabyte at least; N: N
   * bands, or one per page, column of tiles or row of strips when the
   * region spans fewer, and at most MultiThreaderBase's global maximum
   * number of threads; 1: the calling thread alone.  Between reads, the
   * decoded chunks kept are those of one row of strips or tiles. */
  itkSetMacro(NumberOfReadThreads, unsigned int);
  itkGetConstMacro(NumberOfReadThreads, unsigned int);

  /** The compression scheme of files written while UseCompression is on
   * (ImageFileWriter::SetUseCompression() sets it at each write): Deflate
   * by default; BW_TIFF_NONE writes uncompressed files even then.  The same
   * setting as ITK's SetCompressor(), by name: setting either sets both
   * (GetCompressor() returns the scheme's name in upper case).  A value
   * that is not a bw_tiff_compression throws an itk::ExceptionObject. */
  void
  SetTIFFCompression(bw_tiff_compression compression);
  itkGetConstMacro(TIFFCompression, bw_tiff_compression);

  /** Horizontal differencing (or the floating-point predictor) before LZW,
   * Deflate or ZSTD compression; on by default. */
  itkSetMacro(UsePredictor, bool);
  itkGetConstMacro(UsePredictor, bool);
  itkBooleanMacro(UsePredictor);

  bool
  SupportsDimension(unsigned long dim) override
  {
    return dim == 2 || dim == 3;
  }

  bool
  CanReadFile(const char * fileName) override;
  bool
  CanStreamRead() override
  {
    return true;
  }
  /** Exactly the requested region (with size 1 along axes of the file that
   * the requested region lacks): any region can be read. */
  ImageIORegion
  GenerateStreamableReadRegionFromRequestedRegion(const ImageIORegion & requested) const override;
  void
  ReadImageInformation() override;
  void
  Read(void * buffer) override;

  bool
  CanWriteFile(const char * fileName) override;
  bool
  CanStreamWrite() override
  {
    return true;
  }
  void
  WriteImageInformation() override
  {}
  void
  Write(const void * buffer) override;

  /** Frees the decoded strips or tiles this IO keeps between streamed
   * reads (a row of tiles across the image, for the next piece), as for a
   * reader that will sit idle: the next read decodes them again. */
  void
  ReleaseDecodedChunks();

  /** Bytes this IO has read from its current file so far: a read of a small
   * region of a large file reads a small part of it. */
  uint64_t
  GetBytesRead() const;

  /** Pieces of whole rows (or pages): the writer takes rows in order. */
  ImageIORegion
  GetSplitRegionForWriting(unsigned int          ithPiece,
                           unsigned int          numberOfActualSplits,
                           const ImageIORegion & pasteRegion,
                           const ImageIORegion & largestPossibleRegion) override;

  unsigned int
  GetActualNumberOfSplitsForWriting(unsigned int          numberOfRequestedSplits,
                                    const ImageIORegion & pasteRegion,
                                    const ImageIORegion & largestPossibleRegion) override;

protected:
  BlockwiseTIFFImageIO();
  ~BlockwiseTIFFImageIO() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

  /** ITK's compressor names (upper case by then): the names of
   * bw_tiff_compression_from_name(), in any case; the empty string (ITK's
   * default compressor) is Deflate, and an unknown name gives a warning
   * and Deflate. */
  void
  InternalSetCompressor(const std::string & compressor) override;

private:
  unsigned int
  RowSplitAxis(const ImageIORegion & largest) const;
  void
  OpenReader();
  /** Opens one more reader of \a path; throws on failure. */
  void
  AddReader(const std::string & path);
  void
  CloseReader();
  void
  AbortWriter();

  /** Open readers of m_ReaderFileName: the first always (while open), more
   * for reads shared by threads.  All are equal; after each shared read the
   * one that read the last band moves to the front, as it holds the chunks
   * the next band of a streamed read starts in. */
  std::vector<bw_tiff_reader *> m_Readers;
  std::string         m_ReaderFileName;
  unsigned int        m_ReaderLevel{ 0 }; // the level m_Readers read
  unsigned int        m_Level{ 0 };
  unsigned int        m_NumberOfLevels{ 0 };
  unsigned int        m_NumberOfReadThreads{ 0 };
  bool                m_ReaderJustProbed{ false };
  bw_tiff_writer *    m_Writer{ nullptr };
  unsigned int        m_TileWidth{ 0 };
  unsigned int        m_TileLength{ 0 };
  unsigned int        m_RowsPerStrip{ 0 };
  int                 m_BigTIFF{ -1 };
  bool                m_UsePredictor{ true };
  bw_tiff_compression m_TIFFCompression{ BW_TIFF_DEFLATE };
  bool                m_ConvertChannel{ false };
  bw_channel_params   m_Channel{};
  /** After a read by columns: the row of tiles the readers hold decoded,
   * and the first column, columns and bands of its split (-1: none). */
  std::array<int64_t, 4> m_HeldColumns{ { -1, -1, -1, -1 } };
};

} // namespace itk

#endif
