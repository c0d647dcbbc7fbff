/*
 * The command's one image probe: the header of an input, before any pixel
 * is read.  TIFF headers come from the TIFF layer; NRRD (what 3D Slicer
 * hands its command-line modules) from ITK's own ImageIO; whole slides in
 * vendor formats from Blockwise's OpenSlide ImageIO.
 */
#include "plan.h"

#include "itkBlockwiseOpenSlideImageIO.h"
#include "itkNrrdImageIO.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>

#include <sys/stat.h>

namespace blockwise_cli
{

bool
IsNrrdPath(const std::string & path)
{
  if (path.size() < 5)
    return false;
  std::string ext = path.substr(path.size() - 5);
  for (char & c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".nrrd";
}

bool
IsSlidePath(const std::string & path)
{
  return itk::BlockwiseOpenSlideImageIO::HasSlideExtension(path.c_str());
}

namespace
{

/** Throws RuntimeError unless @path exists and is not a folder. */
void
CheckReadable(const std::string & path)
{
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw RuntimeError("cannot read " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw RuntimeError("cannot read " + path + ": it is a folder");
}

/** The core's element type of an ITK component type, or 0. */
bw_dtype
DTypeOfComponent(itk::IOComponentEnum component)
{
  static const struct
  {
    itk::IOComponentEnum itk;
    bw_dtype             core;
  } types[] = { { itk::IOComponentEnum::UCHAR, BW_U8 },  { itk::IOComponentEnum::CHAR, BW_I8 },
                { itk::IOComponentEnum::USHORT, BW_U16 }, { itk::IOComponentEnum::SHORT, BW_I16 },
                { itk::IOComponentEnum::UINT, BW_U32 },   { itk::IOComponentEnum::INT, BW_I32 },
                { itk::IOComponentEnum::FLOAT, BW_F32 },  { itk::IOComponentEnum::DOUBLE, BW_F64 } };
  for (const auto & t : types)
    if (t.itk == component)
      return t.core;
  return static_cast<bw_dtype>(0);
}

NodeInfo
ProbeNrrd(const std::string & path)
{
  auto io = itk::NrrdImageIO::New();
  if (!io->CanReadFile(path.c_str()))
    throw RuntimeError(path + ": not a readable NRRD file");
  try
  {
    io->SetFileName(path);
    io->ReadImageInformation();
  }
  catch (const itk::ExceptionObject & e)
  {
    throw RuntimeError(path + ": " + e.GetDescription());
  }
  if (io->GetNumberOfComponents() != 1)
    throw RuntimeError(path + ": " + std::to_string(io->GetNumberOfComponents()) +
                       " components per pixel; only scalar images are supported");
  NodeInfo node;
  node.dtype = DTypeOfComponent(io->GetComponentType());
  if (!node.dtype)
    throw RuntimeError(path + ": pixels of type " +
                       itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType()) +
                       " are not supported (8-, 16- and 32-bit integers, float32, float64)");
  // A volume of one slice, as 3D Slicer stores 2-D images, is 2-D here.
  unsigned int ndim = io->GetNumberOfDimensions();
  while (ndim > 2 && io->GetDimensions(ndim - 1) == 1)
    --ndim;
  if (ndim < 2 || ndim > 3)
    throw RuntimeError(path + ": a " + std::to_string(ndim) + "-D image; blockwise works on 2-D and 3-D images");
  node.image = true;
  node.ndim = static_cast<int>(ndim);
  for (unsigned int d = 0; d < ndim; ++d)
  {
    node.shape[ndim - 1 - d] = static_cast<int64_t>(io->GetDimensions(d));
    node.spacing[ndim - 1 - d] = io->GetSpacing(d);
  }
  return node;
}

} // namespace

SlideInfo
ProbeSlide(const std::string & path, int level)
{
  CheckReadable(path);
  auto io = itk::BlockwiseOpenSlideImageIO::New();
  io->SetFileName(path);
  io->SetLevel(static_cast<unsigned int>(level));
  SlideInfo out;
  try
  {
    io->ReadImageInformation();
    for (unsigned int k = 0; k < io->GetNumberOfLevels(); ++k)
    {
      itk::SizeValueType size[2];
      bw_tiff_level      l{};
      io->GetLevelInformation(k, size, l.downsample);
      l.shape[0] = static_cast<int64_t>(size[1]);
      l.shape[1] = static_cast<int64_t>(size[0]);
      // The level's spacing, from this level's and the ratio of downsamples.
      for (int d = 0; d < 2; ++d)
        l.spacing[1 - d] = io->GetSpacing(d) / io->GetDownsample() * l.downsample;
      out.levels.push_back(l);
    }
  }
  catch (const itk::ExceptionObject & e)
  {
    // The IO's message after its "Cannot read PATH: ".
    std::string       what = e.GetDescription();
    const std::string prefix = "Cannot read " + path + ": ";
    const size_t      at = what.find(prefix);
    if (at != std::string::npos)
      what = what.substr(at + prefix.size());
    throw RuntimeError(path + ": " + what);
  }
  NodeInfo & node = out.node;
  node.image = true;
  node.dtype = BW_U8;
  node.ndim = 2;
  node.channels = 3;
  node.color = BW_TIFF_RGB;
  node.bits = 8;
  node.level = level;
  node.shape[0] = static_cast<int64_t>(io->GetDimensions(1));
  node.shape[1] = static_cast<int64_t>(io->GetDimensions(0));
  node.spacing[0] = io->GetSpacing(1);
  node.spacing[1] = io->GetSpacing(0);
  out.vendor = io->GetVendor();
  out.spacing_stated = io->GetHasPhysicalSpacing();
  return out;
}

bw_tiff_info
ProbeTIFF(const std::string & path, int level, std::vector<bw_tiff_level> * levels,
          std::vector<std::string> * names)
{
  CheckReadable(path);
  bw_tiff_reader * reader = nullptr;
  bw_error         err;
  if (bw_tiff_open_level(path.c_str(), level, &reader, &err) != BW_OK)
    throw RuntimeError(path + ": " + err.message);
  const bw_tiff_info info = *bw_tiff_reader_info(reader);
  for (int k = 0; levels && k < info.levels; ++k)
  {
    bw_tiff_level l;
    if (bw_tiff_reader_level(reader, k, &l, nullptr) == BW_OK)
      levels->push_back(l);
  }
  if (names)
  {
    names->clear();
    for (int c = 0; c < info.channels; ++c)
    {
      const char * name = bw_tiff_channel_name(reader, c);
      names->push_back(name ? name : "");
    }
  }
  bw_tiff_close(reader);
  return info;
}

std::string
SpacingText(const bw_tiff_info & info)
{
  std::ostringstream text;
  if (info.spacing_stated)
  {
    double least = info.spacing[0];
    for (int d = 1; d < info.ndim; ++d)
      least = std::min(least, info.spacing[d]);
    const bool mm = least >= 1.0;
    for (int d = info.ndim - 1; d >= 0; --d)
      text << (mm ? info.spacing[d] : info.spacing[d] * 1000.0) << (d ? " x " : "");
    text << (mm ? " mm (" : " um (") << info.spacing_source << ")";
    return text.str();
  }
  text << "not stated in the file (1 pixel";
  if (std::strcmp(info.spacing_source, "none") != 0)
  {
    // Ratios without a unit: worth showing, not as lengths.
    text << "; " << info.spacing_source << " without a unit give ";
    for (int d = info.ndim - 1; d >= 0; --d)
      text << info.spacing[d] << (d ? " x " : "");
  }
  text << ")";
  return text.str();
}

int
LevelNearest(const std::string & path, double resolution)
{
  std::vector<bw_tiff_level> levels;
  bool                       stated = false;
  if (IsSlidePath(path))
  {
    SlideInfo slide = ProbeSlide(path);
    levels = slide.levels;
    stated = slide.spacing_stated;
  }
  else if (!IsNrrdPath(path))
    stated = ProbeTIFF(path, 0, &levels).spacing_stated != 0;
  else
    return 0; // no pyramid
  if (!stated)
    throw RuntimeError(path + " states no pixel size, so no level can be chosen by resolution: choose one with "
                              "--level (blockwise info lists them)");
  int    best = 0;
  double best_ratio = 0;
  for (size_t k = 0; k < levels.size(); ++k)
  {
    const int    nd = levels[k].shape[2] > 0 ? 3 : 2;
    const double x = levels[k].spacing[nd - 1];
    const double ratio = std::fabs(std::log(x / resolution));
    if (k == 0 || ratio < best_ratio)
    {
      best = static_cast<int>(k);
      best_ratio = ratio;
    }
  }
  return best;
}

NodeInfo
ProbeImage(const std::string & path, int level)
{
  if (IsNrrdPath(path))
  {
    CheckReadable(path);
    if (level != 0)
      throw RuntimeError(path + ": level " + std::to_string(level) + " does not exist: NRRD files have no pyramid");
    return ProbeNrrd(path);
  }
  if (IsSlidePath(path))
  {
    SlideInfo slide = ProbeSlide(path, level);
    slide.node.spacing_stated = slide.spacing_stated;
    return slide.node;
  }
  std::vector<std::string> names;
  const bw_tiff_info       info = ProbeTIFF(path, level, nullptr, &names);
  NodeInfo           node;
  node.image = true;
  node.dtype = info.dtype;
  node.ndim = info.ndim;
  node.channels = info.channels;
  node.color = info.color;
  node.bits = info.bits_per_sample;
  // A reader keeps one row of decoded tiles, or one compressed strip
  // (uncompressed strips are read by rows into the destination).
  node.chunk_rows = info.tiled ? info.tile_length : info.compression != 1 /* COMPRESSION_NONE */ ? info.rows_per_strip : 0;
  node.level = info.level;
  node.spacing_stated = info.spacing_stated != 0;
  if (info.tiled)
  {
    node.tile_width = info.tile_width;
    node.tile_length = info.tile_length;
  }
  for (const auto & n : names)
    if (!n.empty())
      node.channel_names = names; // any name given: all of them, by channel
  for (int i = 0; i < info.ndim; ++i)
  {
    node.shape[i] = info.shape[i];
    node.spacing[i] = info.spacing[i];
  }
  return node;
}

} // namespace blockwise_cli
