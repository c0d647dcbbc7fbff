/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOInternal.h"
#include "itkBlockwiseOpenSlideImageIO.h"

#include "itkMultiThreaderBase.h"

#include <array>
#include <cstring>
#include <mutex>

namespace itk
{

using namespace blockwise_tiff_io;

namespace
{


/* Reads @region into the interleaved pixels whose first component @v
 * views: every channel of the file, one view each, one element apart; or,
 * with @channel, the one channel it makes. */
bw_status
readPixels(bw_tiff_reader *           reader,
           const bw_region &          region,
           const bw_view &            v,
           const bw_channel_params *  channel,
           bw_error *                 err)
{
  if (channel != nullptr)
  {
    return bw_tiff_read_channel(reader, &region, channel, &v, err);
  }
  const int channels = bw_tiff_reader_info(reader)->channels;
  bw_view   views[BW_TIFF_MAX_CHANNELS];
  for (int c = 0; c < channels; ++c)
  {
    views[c] = v;
    views[c].data = static_cast<char *>(v.data) + static_cast<size_t>(c) * bw_dtype_size(v.dtype);
  }
  return bw_tiff_read_channels(reader, &region, 0, channels, views, err);
}
} // namespace


BlockwiseTIFFImageIO::BlockwiseTIFFImageIO()
{
  this->SetNumberOfDimensions(2);
  for (const char * ext : { ".tif", ".tiff", ".TIF", ".TIFF" })
  {
    this->AddSupportedReadExtension(ext);
    this->AddSupportedWriteExtension(ext);
  }
  this->SetMaximumCompressionLevel(9);
  this->Self::SetCompressor("");
  this->SetCompressionLevel(6);
}

BlockwiseTIFFImageIO::~BlockwiseTIFFImageIO()
{
  this->CloseReader();
  this->AbortWriter();
}

void
BlockwiseTIFFImageIO::SetChannelConversion(const bw_channel_params & channel)
{
  if (!m_ConvertChannel || std::memcmp(&channel, &m_Channel, sizeof channel) != 0)
  {
    m_ConvertChannel = true;
    m_Channel = channel;
    this->Modified();
  }
}

void
BlockwiseTIFFImageIO::RemoveChannelConversion()
{
  if (m_ConvertChannel)
  {
    m_ConvertChannel = false;
    this->Modified();
  }
}

bool
BlockwiseTIFFImageIO::GetChannelConversion(bw_channel_params & channel) const
{
  if (m_ConvertChannel)
  {
    channel = m_Channel;
  }
  return m_ConvertChannel;
}

void
BlockwiseTIFFImageIO::SetTileSize(unsigned int width, unsigned int length)
{
  if (width != m_TileWidth || length != m_TileLength)
  {
    m_TileWidth = width;
    m_TileLength = length;
    this->Modified();
  }
}

void
BlockwiseTIFFImageIO::SetTIFFCompression(bw_tiff_compression compression)
{
  const char * name = bw_tiff_compression_name(compression);
  if (name == nullptr)
  {
    itkExceptionMacro(<< "SetTIFFCompression: " << static_cast<int>(compression)
                      << " is not a bw_tiff_compression");
  }
  if (compression != m_TIFFCompression)
  {
    m_TIFFCompression = compression;
    this->Modified();
  }
  // ITK's name of the setting follows, upper case as ITK's compressors
  // are named: GetCompressor() agrees.
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  this->SetCompressor(upper);
}

void
BlockwiseTIFFImageIO::InternalSetCompressor(const std::string & compressor)
{
  // The empty string, ITK's default compressor, is Deflate.
  bw_tiff_compression c = BW_TIFF_DEFLATE;
  bw_error            err;
  if (!compressor.empty() && bw_tiff_compression_from_name(compressor.c_str(), &c, &err) != BW_OK)
  {
    itkWarningMacro(<< err.message << "; using Deflate");
    c = BW_TIFF_DEFLATE;
  }
  m_TIFFCompression = c;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

bool
BlockwiseTIFFImageIO::CanReadFile(const char * fileName)
{
  // Whole-slide names are BlockwiseOpenSlideImageIO's, even where the file
  // is a TIFF (Aperio's .svs): OpenSlide knows the vendor's conventions.
  if (fileName == nullptr || *fileName == '\0' || BlockwiseOpenSlideImageIO::HasSlideExtension(fileName))
  {
    return false;
  }
  bw_tiff_reader * r = nullptr;
  bw_error         err;
  const bw_status  s = bw_tiff_open(fileName, &r, &err);
  if (s == BW_OK)
  {
    // Kept for the ReadImageInformation() that follows, which then does not
    // read the file's directories a second time.
    this->CloseReader();
    m_Readers.push_back(r);
    m_ReaderFileName = fileName;
    m_ReaderLevel = 0;
    m_ReaderJustProbed = true;
    return true;
  }
  // A valid TIFF this IO does not read, for its pixel format (RGB, palette,
  // one bit: BW_ERR_DTYPE) or its layout or encoding (pages of different
  // sizes, ImageDepth, a codec libtiff lacks: BW_ERR_UNSUPPORTED), is left to
  // other ImageIOs; a corrupt or truncated file with a TIFF name is ours, so
  // that reading it reports what is wrong with it.
  if (s == BW_ERR_DTYPE || s == BW_ERR_UNSUPPORTED)
  {
    return false;
  }
  return hasTIFFExtension(fileName);
}

void
BlockwiseTIFFImageIO::OpenReader()
{
  if (!m_Readers.empty() && m_ReaderFileName == m_FileName && m_ReaderLevel == m_Level)
  {
    return;
  }
  this->CloseReader();
  this->AddReader(m_FileName);
  m_ReaderFileName = m_FileName;
  m_ReaderLevel = m_Level;
}

void
BlockwiseTIFFImageIO::AddReader(const std::string & path)
{
  bw_error         err;
  bw_tiff_reader * r = nullptr;
  if (bw_tiff_open_level(path.c_str(), static_cast<int>(m_Level), &r, &err) != BW_OK)
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": " << err.message);
  }
  m_Readers.push_back(r);
}

void
BlockwiseTIFFImageIO::CloseReader()
{
  for (bw_tiff_reader * r : m_Readers)
  {
    bw_tiff_close(r);
  }
  m_Readers.clear();
  m_ReaderFileName.clear();
  m_HeldColumns = { -1, -1, -1, -1 };
  m_ReaderJustProbed = false;
}

ImageIORegion
BlockwiseTIFFImageIO::GenerateStreamableReadRegionFromRequestedRegion(const ImageIORegion & requested) const
{
  const unsigned int ndim = this->GetNumberOfDimensions();
  ImageIORegion      region(ndim);
  for (unsigned int d = 0; d < ndim; ++d)
  {
    if (d < requested.GetImageDimension() && m_UseStreamedReading)
    {
      region.SetIndex(d, requested.GetIndex(d));
      region.SetSize(d, requested.GetSize(d));
    }
    else if (d < requested.GetImageDimension())
    {
      region.SetIndex(d, 0);
      region.SetSize(d, this->GetDimensions(d));
    }
    else
    {
      // An axis of the file that the image read lacks: its first slice.
      region.SetIndex(d, 0);
      region.SetSize(d, 1);
    }
  }
  return region;
}

void
BlockwiseTIFFImageIO::ReadImageInformation()
{
  // From the file as it is now: reopened, unless CanReadFile() has just
  // opened it.
  if (!m_ReaderJustProbed || m_ReaderFileName != m_FileName)
  {
    this->CloseReader();
  }
  m_ReaderJustProbed = false;
  this->OpenReader();
  const bw_tiff_info * info = bw_tiff_reader_info(m_Readers.front());
  const auto           ndim = static_cast<unsigned int>(info->ndim);
  m_NumberOfLevels = static_cast<unsigned int>(info->levels);
  this->SetNumberOfDimensions(ndim);
  for (unsigned int d = 0; d < ndim; ++d)
  {
    this->SetDimensions(d, static_cast<SizeValueType>(info->shape[ndim - 1 - d]));
    this->SetSpacing(d, info->spacing[ndim - 1 - d]);
    this->SetOrigin(d, 0.0);
    this->SetDirection(d, this->GetDefaultDirection(d));
  }
  // Several channels are components of one pixel, interleaved in ITK's
  // buffer: RGB, RGBA, or a vector of the channels of a fluorescence file.
  this->SetNumberOfComponents(static_cast<unsigned int>(info->channels));
  this->SetPixelType(info->channels == 1           ? IOPixelEnum::SCALAR
                     : info->color == BW_TIFF_RGB  ? IOPixelEnum::RGB
                     : info->color == BW_TIFF_RGBA ? IOPixelEnum::RGBA
                                                   : IOPixelEnum::VECTOR);
  this->SetComponentType(componentOf(info->dtype));
  this->SetByteOrder(info->big_endian ? IOByteOrderEnum::BigEndian : IOByteOrderEnum::LittleEndian);
  if (m_ConvertChannel && info->channels > 1)
  {
    bw_error err;
    if (bw_channel_params_check(&m_Channel, info->channels, &err) != BW_OK)
    {
      itkExceptionMacro(<< "Cannot read " << m_FileName << " as one channel: " << err.message);
    }
    this->SetNumberOfComponents(1);
    this->SetPixelType(IOPixelEnum::SCALAR);
    this->SetComponentType(m_Channel.op == BW_CHANNEL_INDEX ? componentOf(info->dtype) : IOComponentEnum::FLOAT);
  }
}

void
BlockwiseTIFFImageIO::Read(void * buffer)
{
  this->OpenReader();
  const bw_tiff_info * info = bw_tiff_reader_info(m_Readers.front());
  // One channel made while decoding, or every channel interleaved.
  const bw_channel_params * channel = m_ConvertChannel && info->channels > 1 ? &m_Channel : nullptr;
  const bw_dtype            type = channel == nullptr || channel->op == BW_CHANNEL_INDEX ? info->dtype : BW_F32;
  bw_region                 r;
  bw_view                   v;
  regionAndView(m_IORegion, static_cast<unsigned int>(info->ndim), type, buffer, r, v, channel ? 1 : info->channels);

  // Bands along Z when the region spans several pages; else, in tiled
  // files, along X by columns of tiles (each thread decodes its columns of
  // every row of tiles the region meets, and keeps them for the next
  // streamed piece, which is asked for the same columns); else along Y.
  // Their inner edges are aligned to whole strips, tiles or pages, so that
  // no chunk is decoded by two threads.
  const int      nd = info->ndim;
  const bool     byPage = nd == 3 && r.size[0] > 1;
  const bool     byColumn = !byPage && info->tiled && info->tile_width > 0 &&
                        r.size[nd - 1] > static_cast<ptrdiff_t>(info->tile_width);
  const int      axis = byPage ? 0 : byColumn ? nd - 1 : nd - 2;
  const auto     unit = byColumn ? static_cast<uint64_t>(info->tile_width)
                                 : static_cast<uint64_t>(bw_tiff_band_unit(m_Readers.front(), axis));
  const uint64_t first = static_cast<uint64_t>(r.start[axis]) / unit;
  const uint64_t last = static_cast<uint64_t>(r.start[axis] + r.size[axis] - 1) / unit;
  const uint64_t units = last - first + 1;
  uint64_t       bytes = bw_dtype_size(info->dtype) * static_cast<uint64_t>(info->channels);
  for (int d = 0; d < nd; ++d)
  {
    bytes *= static_cast<uint64_t>(r.size[d]);
  }
  if (byColumn)
  {
    // What may be decoded: the rows of tiles the region meets, whole (a
    // piece a few rows high may start a row of tiles).
    const uint64_t tl = info->tile_length;
    const uint64_t y0 = static_cast<uint64_t>(r.start[nd - 2]) / tl;
    const uint64_t y1 = (static_cast<uint64_t>(r.start[nd - 2] + r.size[nd - 2]) + tl - 1) / tl;
    bytes = bytes / static_cast<uint64_t>(r.size[nd - 2]) * (y1 - y0) * tl;
  }
  // Automatic: no band under a megabyte, where threads cost more than they
  // save.  Set: as many bands as asked for, up to one per unit and ITK's
  // most threads.
  constexpr uint64_t minBandBytes = uint64_t{ 1 } << 20;
  uint64_t           bands = std::min<uint64_t>(
    { m_NumberOfReadThreads, units, MultiThreaderBase::GetGlobalMaximumNumberOfThreads() });
  if (m_NumberOfReadThreads == 0)
  {
    bands = std::min<uint64_t>({ MultiThreaderBase::GetGlobalDefaultNumberOfThreads(),
                                 units,
                                 std::max<uint64_t>(bytes / minBandBytes, 1) });
  }

  // Which row of tiles, split how, the readers hold decoded after a read
  // by columns.  A piece inside the row they hold already, split the same
  // way, decodes nothing: its bands are copied out on this thread, one
  // after the other (waking threads would cost more than the copies).
  std::array<int64_t, 4> after{ -1, -1, -1, -1 };
  bool                   decoded = false;
  if (byColumn)
  {
    const auto tl = static_cast<ptrdiff_t>(info->tile_length);
    const auto row0 = static_cast<int64_t>(r.start[nd - 2] / tl);
    const auto row1 = static_cast<int64_t>((r.start[nd - 2] + r.size[nd - 2] - 1) / tl);
    after = { row1, static_cast<int64_t>(first), static_cast<int64_t>(units), static_cast<int64_t>(bands) };
    decoded = row0 == row1 && after == m_HeldColumns;
  }
  m_HeldColumns = { -1, -1, -1, -1 }; // until this read has succeeded

  if (bands <= 1)
  {
    bw_error err;
    if (readPixels(m_Readers.front(), r, v, channel, &err) != BW_OK)
    {
      itkExceptionMacro(<< "Cannot read " << m_FileName << ": " << err.message);
    }
    m_HeldColumns = after;
    return;
  }
  while (m_Readers.size() < bands)
  {
    this->AddReader(m_ReaderFileName);
  }

  std::vector<bw_error>  errors(bands);
  std::vector<bw_status> status(bands, BW_OK);
  const auto             n = static_cast<SizeValueType>(bands);
  auto band = [&](SizeValueType i) {
    // Band i: units [first + units * i / bands, first + units * (i + 1) / bands),
    // clipped to the region.
    const auto lo = static_cast<ptrdiff_t>((first + units * i / bands) * unit);
    const auto hi = static_cast<ptrdiff_t>((first + units * (i + 1) / bands) * unit);
    const ptrdiff_t a = std::max(lo, r.start[axis]);
    const ptrdiff_t b = std::min(hi, r.start[axis] + r.size[axis]);
    bw_region       br = r;
    bw_view         bv = v;
    br.start[axis] = a;
    br.size[axis] = b - a;
    bv.shape[axis] = b - a;
    bv.data = static_cast<char *>(v.data) + (a - r.start[axis]) * v.strides[axis];
    status[i] = readPixels(m_Readers[i], br, bv, channel, &errors[i]);
  };
  if (decoded)
  {
    for (SizeValueType i = 0; i < n; ++i)
    {
      band(i);
    }
  }
  else
  {
    MultiThreaderBase::Pointer threader = MultiThreaderBase::New();
    threader->SetNumberOfWorkUnits(static_cast<ThreadIdType>(n));
    threader->ParallelizeArray(0, n, band, nullptr);
  }
  for (uint64_t i = 0; i < bands; ++i)
  {
    if (status[i] != BW_OK)
    {
      itkExceptionMacro(<< "Cannot read " << m_FileName << ": " << errors[i].message);
    }
  }
  if (byColumn)
  {
    // Each reader keeps its columns of the last row of tiles: together one
    // row of tiles, as one reader would hold.
    m_HeldColumns = after;
    return;
  }
  std::rotate(m_Readers.begin(), m_Readers.begin() + static_cast<ptrdiff_t>(bands - 1),
              m_Readers.begin() + static_cast<ptrdiff_t>(bands));
  // The others hold decoded chunks no read in order needs again: memory is
  // kept by one reader only, whatever the number of threads.
  for (size_t i = 1; i < m_Readers.size(); ++i)
  {
    bw_tiff_reader_trim(m_Readers[i]);
  }
}

void
BlockwiseTIFFImageIO::ReleaseDecodedChunks()
{
  for (bw_tiff_reader * r : m_Readers)
  {
    bw_tiff_reader_trim(r);
  }
  m_HeldColumns = { -1, -1, -1, -1 };
}

uint64_t
BlockwiseTIFFImageIO::GetBytesRead() const
{
  uint64_t bytes = 0;
  for (const bw_tiff_reader * r : m_Readers)
  {
    bw_tiff_counters c{ 0, 0 };
    bw_tiff_reader_counters(r, &c);
    bytes += c.bytes_read;
  }
  return bytes;
}
void
BlockwiseTIFFImageIO::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "TileWidth: " << m_TileWidth << std::endl;
  os << indent << "TileLength: " << m_TileLength << std::endl;
  os << indent << "RowsPerStrip: " << m_RowsPerStrip << std::endl;
  os << indent << "BigTIFF: " << m_BigTIFF << std::endl;
  os << indent << "UsePredictor: " << m_UsePredictor << std::endl;
  os << indent << "NumberOfReadThreads: " << m_NumberOfReadThreads << std::endl;
  os << indent << "Level: " << m_Level << std::endl;
  os << indent << "TIFFCompression: " << bw_tiff_compression_name(m_TIFFCompression)
     << (m_UseCompression ? "" : " (when UseCompression is on)") << std::endl;
}

} // namespace itk
