/*
 * blockwise info: what a file holds, as the command reads it: a TIFF (size,
 * type, channels, layout, compression, spacing and where it comes from,
 * pyramid levels) through the TIFF layer, or a whole slide through
 * OpenSlide.
 */
#include "args.h"
#include "cli.h"
#include "plan.h"

#include "bw_tiff.h"

#include <jansson.h>

#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace blockwise_cli
{

namespace
{

const char * const kInfoHelp =
  "usage: blockwise info FILE [--json]\n"
  "\n"
  "Size, element type, channels, pages, strips or tiles, compression, spacing,\n"
  "pyramid levels and byte order of a TIFF, as Blockwise reads it; of a whole\n"
  "slide (.svs .ndpi .mrxs .scn .bif .vms .vmu), what OpenSlide reads.  Spacing\n"
  "is shown in micrometres (millimetres from 1 mm) with where the file states it\n"
  "(resolution tags, ImageJ, OME-XML, Blockwise, OpenSlide), or as not stated;\n"
  "--json gives it in millimetres.\n";

/** Prints @o on one line, frees it, and returns 0 (the exit status). */
int
PrintJson(json_t * o)
{
  char * text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
  std::cout << text << std::endl;
  std::free(text);
  json_decref(o);
  return 0;
}

/** The levels of a pyramid, one line each, X first as SizeText: size,
 * downsample, and the pixel size along X when the file states one
 * (micrometres, or millimetres from 1 mm). */
void
PrintLevels(const std::vector<bw_tiff_level> & levels, int ndim, bool stated)
{
  if (levels.size() < 2)
    return;
  std::cout << "levels:      " << levels.size() << " (a pyramid; choose one with --level N or --resolution)\n";
  for (size_t k = 0; k < levels.size(); ++k)
  {
    const bw_tiff_level & l = levels[k];
    std::ostringstream    extra;
    extra << std::setprecision(3);
    if (k)
      extra << "downsample " << l.downsample;
    const double x = l.spacing[ndim - 1];
    if (stated)
      extra << (k ? ", " : "") << (x >= 1 ? x : x * 1000) << (x >= 1 ? " mm" : " um") << " per pixel";
    std::cout << "             " << k << ": " << l.shape[ndim - 1] << " x " << l.shape[ndim - 2]
              << (extra.str().empty() ? std::string() : " (" + extra.str() + ")") << "\n";
  }
}

/** The levels as a JSON array of {shape, spacing, downsample}. */
json_t *
LevelsJson(const std::vector<bw_tiff_level> & levels, int ndim)
{
  json_t * lv = json_array();
  for (const bw_tiff_level & l : levels)
  {
    json_t * e = json_object();
    json_t * ls = json_array();
    json_t * lsp = json_array();
    for (int d = 0; d < ndim; ++d)
    {
      json_array_append_new(ls, json_integer(l.shape[d]));
      json_array_append_new(lsp, json_real(l.spacing[d]));
    }
    json_object_set_new(e, "shape", ls);
    json_object_set_new(e, "spacing", lsp);
    json_object_set_new(e, "downsample", json_real(l.downsample));
    json_array_append_new(lv, e);
  }
  return lv;
}

/** `blockwise info` of a whole slide, from OpenSlide. */
int
InfoSlide(const std::string & path, bool json)
{
  const SlideInfo slide = ProbeSlide(path);
  const NodeInfo & node = slide.node;
  if (json)
  {
    json_t * o = json_object();
    json_t * shape = json_array();
    json_t * spacing = json_array();
    for (int d = 0; d < 2; ++d)
    {
      json_array_append_new(shape, json_integer(node.shape[d]));
      json_array_append_new(spacing, json_real(node.spacing[d]));
    }
    json_object_set_new(o, "path", json_string(path.c_str()));
    json_object_set_new(o, "format", json_string("openslide"));
    json_object_set_new(o, "vendor", json_string(slide.vendor.c_str()));
    json_object_set_new(o, "shape", shape);
    json_object_set_new(o, "dtype", json_string(DTypeName(node.dtype).c_str()));
    json_object_set_new(o, "channels", json_integer(node.channels));
    json_object_set_new(o, "color", json_string(ChannelsText(node).c_str()));
    json_object_set_new(o, "spacing", spacing);
    json_object_set_new(o, "spacing_stated", json_boolean(slide.spacing_stated));
    json_object_set_new(o, "levels", LevelsJson(slide.levels, 2));
    return PrintJson(o);
  }
  std::ostringstream spacing;
  if (slide.spacing_stated)
    spacing << std::setprecision(4) << node.spacing[1] * 1000 << " x " << node.spacing[0] * 1000
            << " um (OpenSlide: openslide.mpp-x, -y)";
  else
    spacing << "not stated in the slide (1 pixel)";
  std::cout << "file:        " << path << "\n"
            << "format:      " << (slide.vendor.empty() ? std::string("whole slide") : slide.vendor + " whole slide")
            << " (read through OpenSlide)\n"
            << "size:        " << SizeText(node) << " (x, y)\n"
            << "type:        " << DTypeName(node.dtype) << "\n"
            << "channels:    " << ChannelsText(node) << "\n"
            << "spacing:     " << spacing.str() << "\n";
  PrintLevels(slide.levels, 2, slide.spacing_stated);
  std::cout << std::flush;
  return 0;
}

} // namespace

int
Info(int argc, char ** argv)
{
  const Arguments args("info", argc, argv, { { "--json", false }, { "--help", false } }, {});
  if (args.Has("--help"))
  {
    std::cout << kInfoHelp;
    return 0;
  }
  args.ExpectPositional(1, "one file, FILE.tif or a whole slide");
  const std::string &  path = args.Positional()[0];
  if (IsSlidePath(path))
    return InfoSlide(path, args.Has("--json"));
  std::vector<bw_tiff_level> levels;
  std::vector<std::string>   names;
  const bw_tiff_info         info = ProbeTIFF(path, 0, &levels, &names);
  const int64_t              pages = info.ndim == 3 ? info.shape[0] : 1;
  const NodeInfo             node = ProbeImage(path);
  bool                       named = false;
  for (const auto & n : names)
    named = named || !n.empty();

  if (args.Has("--json"))
  {
    json_t * o = json_object();
    json_t * shape = json_array();
    json_t * spacing = json_array();
    for (int d = 0; d < info.ndim; ++d)
    {
      json_array_append_new(shape, json_integer(info.shape[d]));
      json_array_append_new(spacing, json_real(info.spacing[d]));
    }
    json_object_set_new(o, "path", json_string(path.c_str()));
    json_object_set_new(o, "shape", shape);
    json_object_set_new(o, "dtype", json_string(DTypeName(info.dtype).c_str()));
    json_object_set_new(o, "channels", json_integer(info.channels));
    json_object_set_new(o, "color", json_string(ChannelsText(node).c_str()));
    json_object_set_new(o, "photometric", json_string(info.photometric_name));
    json_object_set_new(o, "planar", json_boolean(info.planar));
    json_object_set_new(o, "bits_per_sample", json_integer(info.bits_per_sample));
    json_object_set_new(o, "pages", json_integer(pages));
    json_object_set_new(o, "tiled", json_boolean(info.tiled));
    if (info.tiled)
    {
      json_t * tile = json_array();
      json_array_append_new(tile, json_integer(info.tile_length));
      json_array_append_new(tile, json_integer(info.tile_width));
      json_object_set_new(o, "tile", tile);
    }
    else
      json_object_set_new(o, "rows_per_strip", json_integer(info.rows_per_strip));
    json_object_set_new(o, "compression", json_string(info.compression_name));
    json_object_set_new(o, "spacing", spacing);
    json_object_set_new(o, "levels", LevelsJson(levels, info.ndim));
    json_object_set_new(o, "spacing_stated", json_boolean(info.spacing_stated));
    json_object_set_new(o, "spacing_unit", info.spacing_stated ? json_string("mm") : json_null());
    json_object_set_new(o, "spacing_source", json_string(info.spacing_source));
    if (named)
    {
      json_t * list = json_array();
      for (const auto & n : names)
        json_array_append_new(list, n.empty() ? json_null() : json_string(n.c_str()));
      json_object_set_new(o, "channel_names", list);
    }
    json_object_set_new(o, "bigtiff", json_boolean(info.bigtiff));
    json_object_set_new(o, "byte_order", json_string(info.big_endian ? "big" : "little"));
    return PrintJson(o);
  }
  std::cout << "file:        " << path << "\n"
            << "size:        " << SizeText(node) << (info.ndim == 3 ? " (x, y, z)" : " (x, y)") << "\n"
            << "type:        " << DTypeName(info.dtype);
  const int whole = 8 * static_cast<int>(bw_dtype_size(info.dtype));
  if (info.bits_per_sample != whole)
    std::cout << " (" << info.bits_per_sample << " bits per sample in the file)";
  std::cout << "\n"
            << "channels:    " << ChannelsText(node);
  // How they are stored, where that says more than what they are.
  std::string stored = ChannelsText(node) == info.photometric_name || std::strcmp(info.photometric_name, "min-is-black") == 0
                         ? std::string()
                         : std::string(info.photometric_name);
  if (info.planar)
    stored += stored.empty() ? "planar" : ", planar";
  if (!stored.empty())
    std::cout << " (" << stored << ")";
  std::cout << "\n";
  if (named)
  {
    std::cout << "names:      ";
    for (size_t c = 0; c < names.size(); ++c)
      std::cout << (c ? ", " : " ") << (names[c].empty() ? "(unnamed)" : names[c]);
    std::cout << "\n";
  }
  std::cout << "pages:       " << pages << "\n";
  if (info.tiled)
    std::cout << "layout:      tiles of " << info.tile_width << " x " << info.tile_length << "\n";
  else
    std::cout << "layout:      strips of " << info.rows_per_strip << " row" << (info.rows_per_strip == 1 ? "" : "s")
              << "\n";
  std::cout << "compression: " << info.compression_name << "\n"
            << "spacing:     " << SpacingText(info) << "\n";
  PrintLevels(levels, info.ndim, info.spacing_stated != 0);
  std::cout << "format:      " << (info.bigtiff ? "BigTIFF" : "classic TIFF") << ", "
            << (info.big_endian ? "big-endian" : "little-endian") << std::endl;
  return 0;
}

} // namespace blockwise_cli
