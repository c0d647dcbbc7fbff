/*
 * A validated pipeline: steps in an order where every input comes first,
 * with the geometry and element type of every image a step makes.  Made by
 * Resolve() from the files' headers alone; the engine builds the ITK
 * pipeline from it.
 */
#ifndef BLOCKWISE_CLI_PLAN_H
#define BLOCKWISE_CLI_PLAN_H

#include "blockwise.h"
#include "bw_channel.h"
#include "bw_deconv.h"
#include "bw_local.h"
#include "bw_shift.h"
#include "bw_tiff.h"
#include "pipeline.h"

#include <cstddef>
#include <string>
#include <vector>

namespace blockwise_cli
{

/** The image a step makes (for steps that make one). */
struct NodeInfo
{
  bool     image = false;         // false for Write, Heatmap, Summary
  bw_dtype dtype = BW_F32;
  int      ndim = 2;
  int64_t  shape[3] = { 1, 1, 1 };     // C order: [Z,] Y, X
  double   spacing[3] = { 1, 1, 1 };   // C order
  int      channels = 1;               // per pixel, interleaved (a Shift
                                       // step's: ndim vector components)
  bw_tiff_color color = BW_TIFF_GREY;  // what they are (TIFF inputs)
  int      bits = 0;                   // bits per sample as stored (0: the type's)
  int      level = 0;                  // the pyramid level read (Read steps)
  bool     spacing_stated = true;      // Read steps: whether the file states its
                                       // pixel size (else spacing is 1 per pixel)
  int64_t  chunk_rows = 0;             // rows of the decoded strips or tiles a reader
                                       // keeps between pieces (Read steps of TIFFs)
  uint32_t tile_width = 0, tile_length = 0;   // tiles of a tiled TIFF (Read steps), else 0
  std::vector<std::string> channel_names; // as the file names them ("" unnamed), or none
};

struct ResolvedStep
{
  const Step *        step = nullptr;
  std::vector<size_t> inputs; // indices into Resolved::steps
  NodeInfo            node;
  bw_block_params     params{};   // Corr, Stats
  bw_nlm_params       nlm{};      // Denoise
  bw_channel_params   channel{};  // Channel
  bw_local_params     local{};    // Local
  bw_shift_params     shift{};    // Shift
  bw_rl_params        rl{};       // Deconvolve
  ptrdiff_t           halo[3] = { 0, 0, 0 }; // Deconvolve: per axis, C order
  std::string         halo_mode;             // Deconvolve: auto, exact (and why), or set
  ptrdiff_t           psf_shape[3] = { 1, 1, 1 }; // Deconvolve: the PSF's extents
  bool                pass = false; // Channel: the input is already one channel
  // Read of a TIFF whose one consumer is a channel step: the reader makes
  // that channel while decoding (channel: its parameters, fused_type: the
  // image's element type), and the channel step passes it on.  Channel:
  // made so by its input.
  bool                fused = false;
  bw_dtype            fused_type = BW_F32;
  // Corr or Stats over reads of 2-D tiled TIFFs that nothing else takes
  // (through a channel step fused into the read, or none): computed in one
  // pass over the tiles (tiled_blocks.h), and those reads and channel
  // steps build nothing (Read, Channel: made so by their consumer).
  bool                tiled = false;
  bw_stat             stat = BW_STAT_CORR;
  bw_tiff_compression compression = BW_TIFF_NONE; // Write
};

struct Resolved
{
  std::vector<ResolvedStep> steps; // in an order where inputs come first
};

Resolved Resolve(const Pipeline & pipeline);

/** The element type a TIFF read gives, as the TIFF ImageIO makes it: a
 * conversion (@convert) of several channels gives float32, an index keeps
 * the file's type @file, one channel is read as it is. */
bw_dtype ReadType(bw_dtype file, int channels, bool convert, const bw_channel_params & channel);
/** "grey", "RGB", "RGBA" or "5 channels": what a node's pixels hold. */
std::string ChannelsText(const NodeInfo & node);
/** "uint16", "float32", ... */
std::string DTypeName(bw_dtype dtype);
/** "1010 x 966" or "64 x 1024 x 1024", X first as a person reads sizes. */
std::string SizeText(const NodeInfo & node);

/** Whether @path names a NRRD file (read and written with ITK's NrrdImageIO). */
bool IsNrrdPath(const std::string & path);
/** Whether @path names a whole-slide file, read through OpenSlide (.svs
 * .ndpi .mrxs .scn .bif .vms .vmu). */
bool IsSlidePath(const std::string & path);
/** What OpenSlide says of a whole-slide file: level @level's geometry (RGB),
 * every level (shape, spacing, downsample), the vendor, and whether the
 * slide states its pixel size.  Throws RuntimeError with OpenSlide's
 * message. */
struct SlideInfo
{
  NodeInfo                  node;
  std::string               vendor;
  std::vector<bw_tiff_level> levels;
  bool                      spacing_stated = false;
};
SlideInfo ProbeSlide(const std::string & path, int level = 0);
/** The level of @path (a TIFF or a whole slide) whose pixel size is
 * nearest @resolution (millimetres, along X; nearest by ratio), for
 * slides scanned at different magnifications to meet at one scale.
 * Throws RuntimeError when the file states no pixel size. */
int LevelNearest(const std::string & path, double resolution);
/** The image @path holds at pyramid level @level, from its header (TIFF or
 * NRRD or a whole slide): the command's one probe.  Throws RuntimeError naming the file. */
NodeInfo ProbeImage(const std::string & path, int level = 0);
/** The TIFF layer's description of level @level of the TIFF @path, in
 * @levels (when not null) every level of it, and into @names (when not
 * null) its channel names, "" for a channel the file does not name;
 * throws RuntimeError.  The strings of the description are static. */
bw_tiff_info ProbeTIFF(const std::string & path, int level = 0, std::vector<bw_tiff_level> * levels = nullptr,
                       std::vector<std::string> * names = nullptr);
/** The spacing of a TIFF as a person reads it, X first: "0.25 x 0.25 um
 * (ImageJ)" in micrometres, or millimetres when every axis is 1 mm or
 * more, with where the file states it; or "not stated in the file (1
 * pixel)", with any ratios the file gives without a unit. */
std::string SpacingText(const bw_tiff_info & info);

/** The folder part of @path ("." when it has none). */
std::string FolderOf(const std::string & path);

} // namespace blockwise_cli

#endif
