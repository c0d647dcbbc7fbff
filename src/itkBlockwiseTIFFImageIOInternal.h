/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
/* Helpers the reading and writing halves of BlockwiseTIFFImageIO share:
 * element types between the core and ITK, and IO regions as core regions
 * and views.  Not installed. */
#ifndef itkBlockwiseTIFFImageIOInternal_h
#define itkBlockwiseTIFFImageIOInternal_h

#include "itkImageIOBase.h"

#include "bw_tiff.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <string>

namespace itk
{
namespace blockwise_tiff_io
{


/* Whether @fileName ends in "." and one of @extensions (lower case, without
 * the dot), in any case. */
inline bool
hasExtension(const char * fileName, std::initializer_list<const char *> extensions)
{
  if (fileName == nullptr)
  {
    return false;
  }
  std::string name(fileName);
  const auto  dot = name.rfind('.');
  if (dot == std::string::npos)
  {
    return false;
  }
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char * e : extensions)
  {
    if (ext == e)
    {
      return true;
    }
  }
  return false;
}

inline bool
hasTIFFExtension(const char * fileName)
{
  return hasExtension(fileName, { "tif", "tiff" });
}

/* The whole-slide formats BlockwiseOpenSlideImageIO claims. */
#define BLOCKWISE_SLIDE_EXTENSIONS { "svs", "ndpi", "mrxs", "scn", "bif", "vms", "vmu" }

/* The core's element types and ITK's component types of the same size and
 * kind (CHAR is signed char).  ITK's LONG and ULONG are 32 or 64 bits by
 * platform: the 32-bit types when they are 32 bits, else none. */
struct ComponentOfDtype
{
  bw_dtype        dtype;
  IOComponentEnum component;
};
static const ComponentOfDtype componentTable[] = {
  { BW_U8, IOComponentEnum::UCHAR },
  { BW_I8, IOComponentEnum::CHAR },
  { BW_U16, IOComponentEnum::USHORT },
  { BW_I16, IOComponentEnum::SHORT },
  { BW_U32, IOComponentEnum::UINT },
  { BW_I32, IOComponentEnum::INT },
  { BW_F32, IOComponentEnum::FLOAT },
  { BW_F64, IOComponentEnum::DOUBLE },
  { sizeof(unsigned long) == 4 ? BW_U32 : bw_dtype(0), IOComponentEnum::ULONG },
  { sizeof(long) == 4 ? BW_I32 : bw_dtype(0), IOComponentEnum::LONG },
};

inline IOComponentEnum
componentOf(bw_dtype t)
{
  for (const auto & e : componentTable)
  {
    if (e.dtype == t)
    {
      return e.component; // the first, exact, entry of a dtype
    }
  }
  return IOComponentEnum::UNKNOWNCOMPONENTTYPE;
}

/* The core's type for an ITK component type; false when it has none. */
inline bool
dtypeOf(IOComponentEnum c, bw_dtype & t)
{
  for (const auto & e : componentTable)
  {
    if (e.component == c && e.dtype != bw_dtype(0))
    {
      t = e.dtype;
      return true;
    }
  }
  return false;
}

/* The IO region, C order, and a contiguous view of a buffer holding it:
 * of its first component when pixels have @components (interleaved). */
inline void
regionAndView(const ImageIORegion & io,
              unsigned int         ndim,
              bw_dtype             t,
              void *               buffer,
              bw_region &          r,
              bw_view &            v,
              int                  components = 1)
{
  std::memset(&r, 0, sizeof r);
  std::memset(&v, 0, sizeof v);
  ptrdiff_t stride = static_cast<ptrdiff_t>(bw_dtype_size(t)) * components;
  for (unsigned int d = 0; d < ndim; ++d)
  {
    const ptrdiff_t start = d < io.GetImageDimension() ? static_cast<ptrdiff_t>(io.GetIndex(d)) : 0;
    const ptrdiff_t size = d < io.GetImageDimension() ? static_cast<ptrdiff_t>(io.GetSize(d)) : 1;
    r.start[ndim - 1 - d] = start;
    r.size[ndim - 1 - d] = size;
    v.shape[ndim - 1 - d] = size;
    v.strides[ndim - 1 - d] = stride;
    stride *= size;
  }
  v.data = buffer;
  v.dtype = t;
  v.ndim = static_cast<int>(ndim);
}

} // namespace blockwise_tiff_io
} // namespace itk

#endif
