/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOInternal.h"

namespace itk
{

using namespace blockwise_tiff_io;

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

bool
BlockwiseTIFFImageIO::CanWriteFile(const char * fileName)
{
  return hasTIFFExtension(fileName);
}

unsigned int
BlockwiseTIFFImageIO::GetActualNumberOfSplitsForWriting(unsigned int          numberOfRequestedSplits,
                                                        const ImageIORegion & pasteRegion,
                                                        const ImageIORegion & largestPossibleRegion)
{
  if (pasteRegion != largestPossibleRegion)
  {
    itkExceptionMacro(<< "Cannot write " << m_FileName
                      << ": writing a region into an existing TIFF file (pasting) is not supported");
  }
  // Pieces are bands of whole rows (or whole pages) along the slowest axis
  // that has more than one.
  const unsigned int axis = this->RowSplitAxis(largestPossibleRegion);
  const auto         n = static_cast<SizeValueType>(std::max(1u, numberOfRequestedSplits));
  return static_cast<unsigned int>(std::min(n, largestPossibleRegion.GetSize(axis)));
}

unsigned int
BlockwiseTIFFImageIO::RowSplitAxis(const ImageIORegion & largest) const
{
  return largest.GetImageDimension() >= 3 && largest.GetSize(2) > 1 ? 2 : 1;
}

ImageIORegion
BlockwiseTIFFImageIO::GetSplitRegionForWriting(unsigned int          ithPiece,
                                               unsigned int          numberOfActualSplits,
                                               const ImageIORegion & pasteRegion,
                                               const ImageIORegion & largestPossibleRegion)
{
  (void)pasteRegion;
  const unsigned int axis = this->RowSplitAxis(largestPossibleRegion);
  const auto         size = static_cast<uint64_t>(largestPossibleRegion.GetSize(axis));
  const uint64_t     n = std::max(1u, numberOfActualSplits);
  const uint64_t     lo = size * ithPiece / n, hi = size * (ithPiece + 1) / n;
  ImageIORegion      piece = largestPossibleRegion;
  piece.SetIndex(axis, largestPossibleRegion.GetIndex(axis) + static_cast<IndexValueType>(lo));
  piece.SetSize(axis, static_cast<SizeValueType>(hi - lo));
  return piece;
}

void
BlockwiseTIFFImageIO::AbortWriter()
{
  bw_tiff_abort(m_Writer);
  m_Writer = nullptr;
}

void
BlockwiseTIFFImageIO::Write(const void * buffer)
{
  const unsigned int ndim = this->GetNumberOfDimensions();
  bw_dtype           dtype = BW_U8;
  if (!this->SupportsDimension(ndim))
  {
    itkExceptionMacro(<< "Cannot write " << m_FileName << ": TIFF files hold 2-D and 3-D images, not " << ndim
                      << "-D");
  }
  const unsigned int components = this->GetNumberOfComponents();
  if (components < 1 || components > BW_TIFF_WRITE_MAX_CHANNELS)
  {
    itkExceptionMacro(<< "Cannot write " << m_FileName << ": pixels of " << components
                      << " components; this writer writes 1 to " << BW_TIFF_WRITE_MAX_CHANNELS);
  }
  if (!dtypeOf(this->GetComponentType(), dtype))
  {
    itkExceptionMacro(<< "Cannot write " << m_FileName << ": unsupported component type "
                      << ImageIOBase::GetComponentTypeAsString(this->GetComponentType()));
  }

  // The first region of an image starts a new file.
  bool first = true;
  for (unsigned int d = 0; d < ndim; ++d)
  {
    first = first && m_IORegion.GetIndex(d) == 0;
  }
  if (first || m_Writer == nullptr)
  {
    this->AbortWriter();
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = dtype;
    p.channels = static_cast<int>(components);
    p.ndim = static_cast<int>(ndim);
    for (unsigned int d = 0; d < ndim; ++d)
    {
      p.shape[ndim - 1 - d] = static_cast<int64_t>(this->GetDimensions(d));
      p.spacing[ndim - 1 - d] = this->GetSpacing(d);
    }
    if (m_UseCompression)
    {
      // The predictor where the scheme takes one; the level where it has
      // levels, 1 to the maximum this IO sets.
      p.compression = m_TIFFCompression;
      p.predictor = m_UsePredictor && bw_tiff_compression_has_predictor(m_TIFFCompression) ? 1 : 0;
      const int maxLevel = bw_tiff_compression_max_level(m_TIFFCompression);
      if (maxLevel > 0)
      {
        p.level = std::max(1, std::min({ m_CompressionLevel, this->GetMaximumCompressionLevel(), maxLevel }));
      }
    }
    if (m_TileWidth > 0 || m_TileLength > 0)
    {
      p.tiled = 1;
      p.tile_width = m_TileWidth;
      p.tile_length = m_TileLength;
    }
    p.rows_per_strip = m_RowsPerStrip;
    p.bigtiff = m_BigTIFF;
    bw_error err;
    if (bw_tiff_create(m_FileName.c_str(), &p, &m_Writer, &err) != BW_OK)
    {
      m_Writer = nullptr;
      itkExceptionMacro(<< "Cannot write " << m_FileName << ": " << err.message);
    }
  }

  // The components of a pixel are the file's channels: one view of each,
  // one element apart.
  bw_region r;
  bw_view   v[BW_TIFF_WRITE_MAX_CHANNELS];
  regionAndView(m_IORegion, ndim, dtype, const_cast<void *>(buffer), r, v[0], static_cast<int>(components));
  for (unsigned int c = 1; c < components; ++c)
  {
    v[c] = v[0];
    v[c].data = static_cast<char *>(v[0].data) + c * bw_dtype_size(dtype);
  }
  bw_error err;
  if (bw_tiff_write_channels(m_Writer, &r, static_cast<int>(components), v, &err) != BW_OK)
  {
    this->AbortWriter();
    itkExceptionMacro(<< "Cannot write " << m_FileName << ": " << err.message);
  }
  if (bw_tiff_writer_complete(m_Writer))
  {
    bw_tiff_writer * w = m_Writer;
    m_Writer = nullptr;
    if (bw_tiff_finish(w, &err) != BW_OK)
    {
      itkExceptionMacro(<< "Cannot write " << m_FileName << ": " << err.message);
    }
  }
}

} // namespace itk
