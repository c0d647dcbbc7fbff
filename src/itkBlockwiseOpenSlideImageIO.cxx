/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#include "itkBlockwiseOpenSlideImageIO.h"
#include "itkBlockwiseTIFFImageIOInternal.h"

#include "itkMultiThreaderBase.h"

#include <openslide/openslide.h>

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace itk
{

namespace
{

/* OpenSlide's functions, resolved the first time a slide is opened, from
 * BLOCKWISE_OPENSLIDE_SONAME (the library built against) or the file the
 * environment variable BLOCKWISE_OPENSLIDE names.  A program that reads no
 * vendor slide then never loads OpenSlide and the 45 libraries it brings
 * (GLib, cairo, gdk-pixbuf, libxml2, SQLite, OpenJPEG...), which took most
 * of the 16 ms the command spent starting. */
struct OpenSlideApi
{
  decltype(&openslide_detect_vendor)      detect_vendor = nullptr;
  decltype(&openslide_open)               open = nullptr;
  decltype(&openslide_close)              close = nullptr;
  decltype(&openslide_get_error)          get_error = nullptr;
  decltype(&openslide_get_level_count)    get_level_count = nullptr;
  decltype(&openslide_get_level_dimensions) get_level_dimensions = nullptr;
  decltype(&openslide_get_level_downsample) get_level_downsample = nullptr;
  decltype(&openslide_get_property_value) get_property_value = nullptr;
  decltype(&openslide_read_region)        read_region = nullptr;
  std::string                             library; // what was loaded, or tried
  std::string                             error;   // why it cannot be used; "" if it can
};

template <typename F>
void
resolve(void * handle, const char * name, F & fn, OpenSlideApi & api)
{
  void * p = dlsym(handle, name);
  if (p == nullptr && api.error.empty())
  {
    api.error = std::string(name) + " is not in it";
  }
  static_assert(sizeof fn == sizeof p, "a function pointer as wide as an object pointer");
  std::memcpy(&fn, &p, sizeof fn);
}

const OpenSlideApi &
openSlideApi()
{
  static const OpenSlideApi api = [] {
    OpenSlideApi a;
    const char * path = std::getenv("BLOCKWISE_OPENSLIDE");
    a.library = path != nullptr && *path != 0 ? path : BLOCKWISE_OPENSLIDE_SONAME;
    void * h = dlopen(a.library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr)
    {
      const char * e = dlerror();
      a.error = e != nullptr ? e : "it cannot be loaded";
      return a;
    }
    resolve(h, "openslide_detect_vendor", a.detect_vendor, a);
    resolve(h, "openslide_open", a.open, a);
    resolve(h, "openslide_close", a.close, a);
    resolve(h, "openslide_get_error", a.get_error, a);
    resolve(h, "openslide_get_level_count", a.get_level_count, a);
    resolve(h, "openslide_get_level_dimensions", a.get_level_dimensions, a);
    resolve(h, "openslide_get_level_downsample", a.get_level_downsample, a);
    resolve(h, "openslide_get_property_value", a.get_property_value, a);
    resolve(h, "openslide_read_region", a.read_region, a);
    return a; // the library stays loaded for the program's life
  }();
  return api;
}

/* Pixels per band of a read: 16 MiB of OpenSlide's ARGB at most. */
constexpr int64_t kBandPixels = int64_t(1) << 22;

/* The value of property @name as a positive finite number, or 0. */
double
positiveProperty(openslide_t * slide, const char * name)
{
  const char * text = openSlideApi().get_property_value(slide, name);
  if (text == nullptr)
  {
    return 0;
  }
  char *       end = nullptr;
  const double v = std::strtod(text, &end);
  return end != text && std::isfinite(v) && v > 0 ? v : 0;
}

/* One premultiplied ARGB pixel composited on @bg, as 8-bit RGB. */
inline void
composite(uint32_t argb, const unsigned char * bg, unsigned char * rgb)
{
  const uint32_t a = argb >> 24;
  const uint32_t c[3] = { (argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff };
  for (int k = 0; k < 3; ++k)
  {
    // Premultiplied: the colour is already weighted by alpha; the
    // background shows through the rest.
    const uint32_t v = c[k] + (bg[k] * (255 - a) + 127) / 255;
    rgb[k] = static_cast<unsigned char>(std::min<uint32_t>(v, 255));
  }
}

} // namespace

bool
BlockwiseOpenSlideImageIO::HasSlideExtension(const char * fileName)
{
  return blockwise_tiff_io::hasExtension(fileName, BLOCKWISE_SLIDE_EXTENSIONS);
}

BlockwiseOpenSlideImageIO::BlockwiseOpenSlideImageIO()
{
  this->SetNumberOfDimensions(2);
  this->SetNumberOfComponents(3);
  this->SetPixelType(IOPixelEnum::RGB);
  this->SetComponentType(IOComponentEnum::UCHAR);
  for (const char * e : BLOCKWISE_SLIDE_EXTENSIONS)
  {
    this->AddSupportedReadExtension((std::string(".") + e).c_str());
  }
}

BlockwiseOpenSlideImageIO::~BlockwiseOpenSlideImageIO()
{
  this->CloseSlide();
}

bool
BlockwiseOpenSlideImageIO::CanReadFile(const char * fileName)
{
  // A slide by its name and by OpenSlide's look at its content; a corrupt
  // file with a slide's name is ours, so that reading it says what is wrong.
  return HasSlideExtension(fileName);
}

void
BlockwiseOpenSlideImageIO::CloseSlide()
{
  if (m_Slide != nullptr)
  {
    openSlideApi().close(m_Slide);
    m_Slide = nullptr;
  }
  m_SlideFileName.clear();
}

void
BlockwiseOpenSlideImageIO::OpenSlide()
{
  if (m_Slide != nullptr && m_SlideFileName == m_FileName)
  {
    return;
  }
  this->CloseSlide();
  const OpenSlideApi & os = openSlideApi();
  if (!os.error.empty())
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": whole-slide files are read with OpenSlide, and "
                      << os.library << " cannot be used: " << os.error
                      << " (install Debian's libopenslide0, or name the library in BLOCKWISE_OPENSLIDE)");
  }
  if (os.detect_vendor(m_FileName.c_str()) == nullptr)
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": not a slide OpenSlide recognises (or the file is missing)");
  }
  openslide_t * slide = os.open(m_FileName.c_str());
  if (slide == nullptr)
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": OpenSlide cannot open it");
  }
  if (const char * e = os.get_error(slide))
  {
    const std::string message = e;
    os.close(slide);
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": " << message);
  }
  m_Slide = slide;
  m_SlideFileName = m_FileName;
}

void
BlockwiseOpenSlideImageIO::ReadImageInformation()
{
  this->CloseSlide(); // the file as it is now
  this->OpenSlide();
  const int32_t levels = openSlideApi().get_level_count(m_Slide);
  if (levels < 1)
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": OpenSlide finds no level in it");
  }
  m_NumberOfLevels = static_cast<unsigned int>(levels);
  if (m_Level >= m_NumberOfLevels)
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": level " << m_Level << " does not exist: the slide has "
                      << (levels == 1 ? std::string("one level (0)") : "levels 0 to " + std::to_string(levels - 1)));
  }
  const auto level = static_cast<int32_t>(m_Level);
  int64_t    w = 0, h = 0;
  openSlideApi().get_level_dimensions(m_Slide, level, &w, &h);
  m_Downsample = openSlideApi().get_level_downsample(m_Slide, level);
  if (w <= 0 || h <= 0 || !(m_Downsample > 0))
  {
    const char * e = openSlideApi().get_error(m_Slide);
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": level " << m_Level << " has no size"
                      << (e ? std::string(": ") + e : std::string()));
  }
  const char * vendor = openSlideApi().get_property_value(m_Slide, OPENSLIDE_PROPERTY_NAME_VENDOR);
  m_Vendor = vendor ? vendor : "";

  // Micrometres per level-0 pixel, in millimetres per pixel of this level.
  const double mppx = positiveProperty(m_Slide, OPENSLIDE_PROPERTY_NAME_MPP_X);
  const double mppy = positiveProperty(m_Slide, OPENSLIDE_PROPERTY_NAME_MPP_Y);
  m_HasPhysicalSpacing = mppx > 0 && mppy > 0;
  this->SetNumberOfDimensions(2);
  this->SetDimensions(0, static_cast<SizeValueType>(w));
  this->SetDimensions(1, static_cast<SizeValueType>(h));
  this->SetSpacing(0, m_HasPhysicalSpacing ? mppx / 1000.0 * m_Downsample : 1.0);
  this->SetSpacing(1, m_HasPhysicalSpacing ? mppy / 1000.0 * m_Downsample : 1.0);
  for (unsigned int d = 0; d < 2; ++d)
  {
    this->SetOrigin(d, 0.0);
    this->SetDirection(d, this->GetDefaultDirection(d));
  }
  this->SetNumberOfComponents(3);
  this->SetPixelType(IOPixelEnum::RGB);
  this->SetComponentType(IOComponentEnum::UCHAR);

  // The colour of what the scanner did not image: "RRGGBB" in hex.
  m_Background[0] = m_Background[1] = m_Background[2] = 255;
  const char * bg = openSlideApi().get_property_value(m_Slide, OPENSLIDE_PROPERTY_NAME_BACKGROUND_COLOR);
  if (bg != nullptr && std::strlen(bg) == 6)
  {
    char *     end = nullptr;
    const long v = std::strtol(bg, &end, 16);
    if (end == bg + 6)
    {
      m_Background[0] = static_cast<unsigned char>((v >> 16) & 0xff);
      m_Background[1] = static_cast<unsigned char>((v >> 8) & 0xff);
      m_Background[2] = static_cast<unsigned char>(v & 0xff);
    }
  }
}

void
BlockwiseOpenSlideImageIO::GetLevelInformation(unsigned int level, SizeValueType size[2], double & downsample) const
{
  if (m_Slide == nullptr || level >= m_NumberOfLevels)
  {
    itkExceptionMacro(<< "level " << level << " of " << m_FileName << " is not known (" << m_NumberOfLevels
                      << " levels read)");
  }
  int64_t w = 0, h = 0;
  openSlideApi().get_level_dimensions(m_Slide, static_cast<int32_t>(level), &w, &h);
  size[0] = static_cast<SizeValueType>(std::max<int64_t>(w, 0));
  size[1] = static_cast<SizeValueType>(std::max<int64_t>(h, 0));
  downsample = openSlideApi().get_level_downsample(m_Slide, static_cast<int32_t>(level));
}

ImageIORegion
BlockwiseOpenSlideImageIO::GenerateStreamableReadRegionFromRequestedRegion(const ImageIORegion & requested) const
{
  ImageIORegion region(2);
  for (unsigned int d = 0; d < 2; ++d)
  {
    const bool asked = d < requested.GetImageDimension();
    region.SetIndex(d, asked && m_UseStreamedReading ? requested.GetIndex(d) : 0);
    region.SetSize(d, asked && m_UseStreamedReading ? requested.GetSize(d) : this->GetDimensions(d));
  }
  return region;
}

namespace
{
/** The nearest pixel at or before @v (along one axis of a level of
 * downsample @ds) whose level-0 coordinate, rounded, maps back to it
 * within 1/512 of a pixel.  OpenSlide takes a region's origin in level-0
 * coordinates and resamples the level by the fraction left over (cairo's
 * bilinear filter, 7-bit weights), so a read that starts anywhere else, at
 * a level whose downsample is not a whole number, gives other values than
 * a read of the whole level: a read from here, cut, gives the same. */
int64_t
ExactStart(int64_t v, double ds)
{
  for (; v > 0; --v)
  {
    const double back = static_cast<double>(std::llround(static_cast<double>(v) * ds)) / ds;
    if (std::fabs(back - static_cast<double>(v)) < 1.0 / 512)
      break;
  }
  return v;
}
} // namespace

void
BlockwiseOpenSlideImageIO::Read(void * buffer)
{
  this->OpenSlide();
  const int64_t x = m_IORegion.GetIndex(0), y = m_IORegion.GetIndex(1);
  const int64_t w = static_cast<int64_t>(m_IORegion.GetSize(0));
  const int64_t h = m_IORegion.GetImageDimension() > 1 ? static_cast<int64_t>(m_IORegion.GetSize(1)) : 1;
  if (w <= 0 || h <= 0)
  {
    return;
  }
  if (w > std::numeric_limits<int32_t>::max())
  {
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": a region " << w << " pixels wide is too wide for OpenSlide");
  }
  const int64_t rows = std::max<int64_t>(1, std::min<int64_t>(h, kBandPixels / w));
  const auto    bands = static_cast<SizeValueType>((h + rows - 1) / rows);
  const double  ds = m_Downsample;
  const auto    level = static_cast<int32_t>(m_Level);
  auto *        out = static_cast<unsigned char *>(buffer);
  std::atomic<bool> failed{ false };

  auto readBand = [&](SizeValueType b) {
    if (failed)
    {
      return;
    }
    const int64_t r0 = static_cast<int64_t>(b) * rows, n = std::min(rows, h - r0);
    // From a pixel whose level-0 coordinates are exact (a few more rows
    // and columns above and left of the band, cut off after).
    const int64_t         xs = ExactStart(x, ds), ys = ExactStart(y + r0, ds);
    const int64_t         rw = w + (x - xs), rh = n + (y + r0 - ys);
    std::vector<uint32_t> argb(static_cast<size_t>(rw * rh));
    openSlideApi().read_region(m_Slide, argb.data(), std::llround(static_cast<double>(xs) * ds),
                          std::llround(static_cast<double>(ys) * ds), level, rw, rh);
    if (openSlideApi().get_error(m_Slide) != nullptr)
    {
      failed = true;
      return;
    }
    for (int64_t r = 0; r < n; ++r)
    {
      const uint32_t * src = argb.data() + static_cast<size_t>((r + y + r0 - ys) * rw + (x - xs));
      unsigned char *  dst = out + static_cast<size_t>((r0 + r) * w) * 3;
      for (int64_t i = 0; i < w; ++i)
      {
        composite(src[i], m_Background, dst + 3 * i);
      }
    }
  };
  if (bands == 1)
  {
    readBand(0);
  }
  else
  {
    MultiThreaderBase::New()->ParallelizeArray(0, bands, readBand, nullptr);
  }
  if (failed)
  {
    const char * e = openSlideApi().get_error(m_Slide);
    itkExceptionMacro(<< "Cannot read " << m_FileName << ": " << (e ? e : "OpenSlide failed"));
  }
}

void
BlockwiseOpenSlideImageIO::Write(const void *)
{
  itkExceptionMacro(<< "Cannot write " << m_FileName << ": whole-slide formats are read only");
}

void
BlockwiseOpenSlideImageIO::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Level: " << m_Level << std::endl;
  os << indent << "NumberOfLevels: " << m_NumberOfLevels << std::endl;
  os << indent << "Downsample: " << m_Downsample << std::endl;
  os << indent << "Vendor: " << m_Vendor << std::endl;
  os << indent << "HasPhysicalSpacing: " << m_HasPhysicalSpacing << std::endl;
}

} // namespace itk
