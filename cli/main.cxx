/*
 * blockwise: blockwise statistics and correlation maps of huge TIFF images,
 * streamed.  Subcommands build a pipeline (pipeline.h) and run it; usage
 * errors exit with status 2, failures with 1, each with one line on stderr.
 */
#include "args.h"
#include "cli.h"
#include "pipeline.h"
#include "memory.h"
#include "plan.h"
#include "render.h"

#include "bw_tiff.h"

#include <jansson.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <vector>

#include <malloc.h>
#include <unistd.h>

namespace blockwise_cli
{

namespace
{

const char * const kUsage =
  "usage: blockwise COMMAND [ARGS] [OPTIONS]\n"
  "\n"
  "commands:\n"
  "  corr A.tif B.tif -o R.tif   Pearson r per block of an image pair, a summary, a heatmap\n"
  "  stats IN.tif -o OUT.tif     one statistic per block\n"
  "  localcorr A.tif B.tif -o R.tif  Pearson r in the window around every pixel\n"
  "  localstats IN.tif -o OUT.tif  mean, std, ... in the window around every pixel\n"
  "  shift A.tif B.tif -o D.tif  how far B is off A, per block: a displacement field\n"
  "  denoise IN.tif -o OUT.tif   non-local means denoising, 2-D or 3-D\n"
  "  deconvolve IN.tif --psf PSF.tif -o OUT.tif  Richardson-Lucy deconvolution\n"
  "  info FILE                  size, type, layout, levels and spacing of a TIFF or slide\n"
  "  run PIPELINE.json           a pipeline of named steps\n"
  "\n"
  "Run 'blockwise COMMAND --help' for a command's options.\n";

#define BW_CLI_STR(x) #x
#define BW_CLI_XSTR(x) BW_CLI_STR(x)

std::string
CommonHelp()
{
  return "  --threads N        threads for the filters (default: every core)\n"
         "  --memory SIZE      working-set budget, e.g. 256M or 2G (default " +
         std::to_string(kDefaultMemory >> 20) +
         "M): the images\n"
         "                     stream in as many pieces as it takes\n"
         "  --quiet            no progress bar and no summary (errors and --json still print)\n";
}

const char * const kCorrHelp =
  "usage: blockwise corr A.tif B.tif -o R.tif [options]\n"
  "\n"
  "Pearson r of each block of A and B, as a float32 TIFF map, with a summary of\n"
  "the blocks: median r, 5th percentile, and the fraction below --threshold.\n"
  "\n"
  "  -o, --output R.tif  the map (required)\n"
  "  --channel C         of RGB or multichannel images: luminance (default for RGB),\n"
  "                      od, hematoxylin, eosin, dab, r, g, b, or a channel number\n"
  "  --channel-a C, --channel-b C  the same for A or B alone\n"
  "  --level N           level N of pyramids (0: full resolution; see blockwise info)\n"
  "  --resolution R      the level whose pixel size is nearest R (e.g. 2um), in each\n"
  "                      file: slides scanned at different magnifications meet\n"
  "  --level-a, --level-b, --resolution-a, --resolution-b  the same for A or B alone\n"
  "  --block B           block size: B for every axis, or [Z,]Y,X (default " BW_CLI_XSTR(BW_BLOCK_DEFAULT) ")\n"
  "  --png R.png         also a heatmap: blue (r = -1), white (0), red (1), NaN grey\n"
  "  --edge partial|trim blocks cut by the image edge: kept (default) or dropped\n"
  "  --fill VALUE        r of blocks where either image is constant (default NaN)\n"
  "  --threshold T       r below which a block counts as poor (default 0.5)\n"
  "  --shift-search S    also how far B is off A: the summary of blockwise shift with\n"
  "                      search radius S (pixels, or [Z,]Y,X) in blocks of --shift-block\n"
  "                      (default " BW_CLI_XSTR(BW_SHIFT_DEFAULT_BLOCK) "), from a second pass over the files\n"
  "  --type f32|f64      element type of the map (default f32)\n"
  "  --compression C     none|deflate|lzw|packbits|zstd (default none)\n"
  "  --json              print the summary as one JSON object\n";

const char * const kLocalHelp =
  "usage: blockwise localcorr A.tif B.tif -o R.tif [options]\n"
  "       blockwise localstats IN.tif -o OUT.tif --stat STAT [options]\n"
  "\n"
  "A statistic of the box window around every pixel (or every --step-th), as a\n"
  "float32 (or float64) TIFF map: localcorr, Pearson r of A and B (local normalised\n"
  "cross-correlation); localstats, the mean, std, var, sum or count of IN.  Windows\n"
  "are clipped to the image; the cost does not depend on the radius.\n"
  "\n"
  "  -o, --output OUT.tif  the map (required)\n"
  "  --radius R          window radius: R for every axis, or [Z,]Y,X (default " BW_CLI_XSTR(BW_LOCAL_DEFAULT_RADIUS) ":\n"
  "                      11-pixel windows)\n"
  "  --step S            compute every S-th pixel: S for every axis, or [Z,]Y,X (default 1)\n"
  "  --stat S            localstats: mean|std|var|sum|count (required); localcorr:\n"
  "                      correlation (default) or covariance\n"
  "  --ddof 0|1          delta degrees of freedom of var, std and covariance (default 0)\n"
  "  --fill VALUE        r of windows where either image is constant (default NaN)\n"
  "  --png R.png         localcorr: also a picture, blue (r = -1), white (0), red (1)\n"
  "  --channel C         of RGB or multichannel images: luminance (default for RGB),\n"
  "                      od, hematoxylin, eosin, dab, r, g, b, or a channel number\n"
  "  --level N, --resolution R  a level of pyramids (see blockwise corr --help)\n"
  "  --type f32|f64      element type of the map (default f32)\n"
  "  --compression C     none|deflate|lzw|packbits|zstd (default none)\n";

const char * const kShiftHelp =
  "usage: blockwise shift A.tif B.tif -o D.tif [options]\n"
  "\n"
  "For each block of A, the shift of B within the search radius that matches it\n"
  "best (largest Pearson r), refined to a fraction of a pixel: a displacement\n"
  "field with a vector per block, in the images' physical units (dx, dy[, dz];\n"
  "B(x) = A(x - d) gives d), as a float32 TIFF of 2 (or 3) samples per pixel or a\n"
  "NRRD vector image.  The summary gives the shift's median and 95th percentile in\n"
  "pixels and micrometres, and r at zero shift against r at the best shift.\n"
  "\n"
  "  -o, --output D.tif  the field (required; .tif, .tiff or .nrrd)\n"
  "  --block B           block size: B for every axis, or [Z,]Y,X (default " BW_CLI_XSTR(BW_SHIFT_DEFAULT_BLOCK) ")\n"
  "  --search S          largest shift tried, in pixels: S for every axis, or [Z,]Y,X\n"
  "                      (default " BW_CLI_XSTR(BW_SHIFT_DEFAULT_SEARCH) ", at most " BW_CLI_XSTR(BW_SHIFT_MAX_SEARCH) ")\n"
  "  --png D.png         also a picture: A's thumbnail tinted by the shift (hue: its\n"
  "                      direction, as on the colour wheel beside it; strength: its\n"
  "                      length), with arrows where B is off\n"
  "  --fill VALUE        shift of blocks where no shift gives a defined r (default NaN)\n"
  "  --channel C         of RGB or multichannel images: luminance (default for RGB),\n"
  "                      od, hematoxylin, eosin, dab, r, g, b, or a channel number\n"
  "  --channel-a C, --channel-b C  the same for A or B alone\n"
  "  --level N, --resolution R  a level of pyramids (see blockwise corr --help)\n"
  "  --compression C     none|deflate|lzw|packbits|zstd (default none)\n"
  "  --json              print the summary as one JSON object\n";

const char * const kDeconvolveHelp =
  "usage: blockwise deconvolve IN.tif --psf PSF.tif -o OUT.tif [options]\n"
  "\n"
  "Richardson-Lucy deconvolution of a 2-D image or a 3-D volume by its point spread\n"
  "function, as a float32 TIFF of the input's size.  The volume streams through in\n"
  "pieces, each deconvolved from the input grown by a halo.  The default halo (1.5 to 3\n"
  "PSF extents per axis, by the iterations) keeps a piece within 1e-3 of the whole\n"
  "volume's largest value; the exact halo (iterations x (PSF extent - 1)) gives the\n"
  "whole volume's result, to float rounding, without --accelerate.\n"
  "\n"
  "  -o, --output OUT.tif  the deconvolved image (required)\n"
  "  --psf PSF.tif       the point spread function: grey, of the image's axes, no larger;\n"
  "                      normalised to sum 1, centred at its centre of mass (required)\n"
  "  --iterations N      Richardson-Lucy iterations (default 10)\n"
  "  --accelerate        Biggs-Andrews acceleration: a result in fewer iterations\n"
  "  --tv L              total-variation regularisation of weight L (0 to 1; 0.002 is a\n"
  "                      usual start): flat noise smoothed, edges kept (default 0: none)\n"
  "  --boundary B        non-circulant (default: nothing wraps around) or periodic\n"
  "  --halo H            the pixels each piece is grown by: auto (default), exact, or H\n"
  "                      for every axis, or [Z,]Y,X\n"
  "  --epsilon E         ratios where the blur is below E times the image's largest\n"
  "                      value count as 0 (default 1e-6)\n"
  "  --channel C         of RGB or multichannel images: luminance (default for RGB),\n"
  "                      od, hematoxylin, eosin, dab, r, g, b, or a channel number\n"
  "  --level N, --resolution R  a level of pyramids (see blockwise corr --help)\n"
  "  --compression C     none|deflate|lzw|packbits|zstd (default none)\n";

const char * const kStatsHelp =
  "usage: blockwise stats IN.tif -o OUT.tif --stat STAT [options]\n"
  "\n"
  "One statistic of each block, as a float32 (or float64) TIFF map.\n"
  "\n"
  "  -o, --output OUT.tif  the map (required)\n"
  "  --stat S            mean|std|var|sum|min|max|count (required)\n"
  "  --channel C         of RGB or multichannel images: luminance (default for RGB),\n"
  "                      od, hematoxylin, eosin, dab, r, g, b, or a channel number\n"
  "  --level N           level N of a pyramid (0: full resolution; see blockwise info)\n"
  "  --resolution R      the level whose pixel size is nearest R (e.g. 2um)\n"
  "  --block B           block size: B for every axis, or [Z,]Y,X (default " BW_CLI_XSTR(BW_BLOCK_DEFAULT) ")\n"
  "  --ddof 0|1          delta degrees of freedom of var and std (default 0)\n"
  "  --edge partial|trim blocks cut by the image edge: kept (default) or dropped\n"
  "  --type f32|f64      element type of the map (default f32)\n"
  "  --compression C     none|deflate|lzw|packbits|zstd (default none)\n";

const char * const kDenoiseHelp =
  "usage: blockwise denoise IN.tif -o OUT.tif --sigma S [options]\n"
  "       blockwise denoise IN.tif -o OUT.tif --noise poisson-gaussian --gain G [options]\n"
  "\n"
  "Non-local means: each pixel becomes the mean of the pixels of its search window,\n"
  "weighted by how alike the patches around them are.  Writes a float32 TIFF of\n"
  "the input's size; any part of it equals the result on the whole image.\n"
  "\n"
  "  -o, --output OUT.tif  the denoised image (required)\n"
  "  --sigma S           standard deviation of Gaussian noise (required for it)\n"
  "  --channel C         of RGB or multichannel images: luminance (default for RGB),\n"
  "                      od, hematoxylin, eosin, dab, r, g, b, or a channel number\n"
  "  --level N           level N of a pyramid (0: full resolution; see blockwise info)\n"
  "  --resolution R      the level whose pixel size is nearest R (e.g. 2um)\n"
  "  --patch R           patch radius: R for every axis, or [Z,]Y,X (default " BW_CLI_XSTR(BW_NLM_DEFAULT_PATCH) ")\n"
  "  --search R          search radius, likewise (default " BW_CLI_XSTR(BW_NLM_DEFAULT_SEARCH) "; e.g. 2,10,10)\n"
  "  --h H               filtering strength (default 0.8 sigma; 0.8 for poisson-gaussian)\n"
  "  --noise M           gaussian (default) or poisson-gaussian (fluorescence):\n"
  "  --gain G            image units per photo-electron (default 1)\n"
  "  --offset O          image value of zero photo-electrons (default 0)\n"
  "  --read-sigma R      standard deviation of the read noise (default 0)\n"
  "  --compression C     none|deflate|lzw|packbits|zstd (default none)\n";

/** The options of a working subcommand (its own and the common ones, -o for
 * --output). */
Arguments
CommandArguments(const char * command, int argc, char ** argv, std::map<std::string, bool> own)
{
  return Arguments(command, argc, argv, WithCommon(std::move(own)), { { "-o", "--output" } });
}

/** Prints @help and the common options if --help was given. */
bool
ShowHelp(const Arguments & args, const char * help)
{
  if (args.Has("--help"))
    std::cout << help << CommonHelp();
  return args.Has("--help");
}

/** The file arguments and -o of a working subcommand. */
void
ExpectFiles(const Arguments & args, const char * command, size_t n, const char * what, const char * output)
{
  args.ExpectPositional(n, what);
  if (!args.Has("--output"))
    throw UsageError(std::string("'blockwise ") + command + "' needs -o " + output);
}

/** @own plus the channel options: --channel, and for a pair
 * --channel-a and --channel-b. */
std::map<std::string, bool>
WithChannelOptions(std::map<std::string, bool> own, bool pair)
{
  for (const char * o : { "--channel", "--level", "--resolution" })
  {
    own[o] = true;
    if (pair)
      own[std::string(o) + "-a"] = own[std::string(o) + "-b"] = true;
  }
  return own;
}

/** @own plus the options of corr and stats: the map, its blocks, type and
 * compression, the channels. */
std::map<std::string, bool>
WithBlockOptions(std::map<std::string, bool> own, bool pair)
{
  for (const char * o : { "--output", "--block", "--edge", "--type", "--compression" })
    own[o] = true;
  return WithChannelOptions(std::move(own), pair);
}

/** A subcommand's pipeline so far: for each file argument in order, its
 * read and the channel step the image is used through, named as @names
 * say (name, and the suffix of the options choosing for it alone, "-a" or
 * "-b", or NULL); --channel and --level choose for all, and by default a
 * grey image is taken as it is and an RGB one as its luminance, at level
 * 0.  Messages do not name steps the user never named. */
Pipeline
Reads(const Arguments & args, std::initializer_list<std::pair<const char *, const char *>> names)
{
  Pipeline p;
  p.name_steps = false;
  size_t i = 0;
  for (const auto & name : names)
  {
    const std::string read = std::string("read ") + name.first;
    const std::string own = name.second ? name.second : "";
    Step step = ReadStep(read, args.Positional().at(i++));
    // This file's own option, else the one for all.
    auto option = [&](const char * name) {
      const std::string mine = std::string(name) + own;
      return !own.empty() && args.Has(mine) ? mine : std::string(name);
    };
    const std::string level = option("--level"), resolution = option("--resolution");
    if (args.Has(level) && args.Has(resolution))
      throw UsageError("give " + level + " or " + resolution + ", not both");
    if (args.Has(level))
      step.read_level = static_cast<int>(ParseInteger(level, args.Get(level), 0, 1000));
    if (args.Has(resolution))
      step.read_resolution = ParseLength(resolution, args.Get(resolution));
    p.steps.push_back(step);
    const std::string all = args.Get("--channel", "auto");
    p.steps.push_back(ChannelStep(name.first, read, own.empty() ? all : args.Get("--channel" + own, all)));
  }
  return p;
}

/** Adds @step and the write of its image to -o, then checks and runs the
 * pipeline. */
Resolved
RunToOutput(Pipeline & p, const Step & step, const Arguments & args, const RunOptions & options)
{
  p.steps.push_back(step);
  p.steps.push_back(WriteStep(step.name, args.Get("--output"), args.Get("--compression", "none")));
  Resolved plan = Resolve(p);
  Execute(plan, options);
  return plan;
}

/** The image the (first) step doing @op makes in @plan. */
const NodeInfo &
NodeOf(const Resolved & plan, Op op)
{
  for (const ResolvedStep & r : plan.steps)
    if (r.step->op == op)
      return r.node;
  throw RuntimeError(std::string("internal: no ") + OpName(op) + " step");
}

/** The block options shared by corr and stats. */
void
BlockOptions(const Arguments & args, Step & s)
{
  args.Sizes("--block", s.block);
  s.edge = args.Get("--edge", "partial");
  s.type = args.Get("--type", "f32");
  // Resolve() checks both, for subcommands and pipeline files alike.
}

std::string
Percent(double fraction)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
  return buf;
}

std::string
Fixed(double v, int digits = 3)
{
  if (std::isnan(v))
    return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

json_t *
JsonNumber(double v)
{
  return std::isfinite(v) ? json_real(v) : json_null();
}

/** A length of @mm millimetres as a person reads it, to about @step
 * millimetres: in micrometres when @step is under 10 um, else in
 * millimetres. */
std::string
LengthText(double mm, double step)
{
  if (std::isnan(mm))
    return "NaN";
  const bool   um = step < 0.01;
  const double v = um ? mm * 1000 : mm, q = um ? step * 1000 : step;
  const int    digits = q > 0 ? std::min(6, std::max(0, static_cast<int>(std::ceil(-std::log10(q))))) : 3;
  char         buf[64];
  std::snprintf(buf, sizeof buf, "%.*f %s", digits, v, um ? "um" : "mm");
  return buf;
}

/** Copies of the steps that read @image ("A": "read A" and "A") under the
 * names "@prefix read A" and "@prefix A": a second read of the same file,
 * for a pass that should not share the first's (a tiled pass takes the
 * tiles of reads no other step takes). */
void
CopyRead(Pipeline & p, const std::string & image, const std::string & prefix)
{
  for (const Step & st : std::vector<Step>(p.steps))
    if (st.name == "read " + image || st.name == image)
    {
      Step copy = st;
      copy.name = prefix + " " + st.name;
      for (std::string & in : copy.inputs)
        in = prefix + " " + in;
      p.steps.push_back(copy);
    }
}

/** What the displacement summary of the Shift step @shift in @plan needs:
 * the step, the image it compares, and whether the files state their
 * pixel size. */
struct ShiftReport
{
  const MapSummary &   m;
  const ResolvedStep & step;
  const NodeInfo &     image;
  bool                 stated;

  ShiftReport(const Resolved & plan, const std::vector<MapSummary> & summaries, const std::string & shift)
    : m(Find(summaries, plan, shift))
    , step(StepOf(plan, shift))
    , image(plan.steps[step.inputs[0]].node)
    , stated(Stated(plan, step))
  {}

  static const ResolvedStep &
  StepOf(const Resolved & plan, const std::string & name)
  {
    for (const ResolvedStep & r : plan.steps)
      if (r.step->name == name)
        return r;
    throw RuntimeError("internal: no step " + name);
  }
  /** The summary of a Summary step over the step @shift. */
  static const MapSummary &
  Find(const std::vector<MapSummary> & summaries, const Resolved & plan, const std::string & shift)
  {
    for (const ResolvedStep & r : plan.steps)
      if (r.step->op == Op::Summary && plan.steps[r.inputs[0]].step->name == shift)
        for (const MapSummary & m : summaries)
          if (m.step == r.step->name)
            return m;
    throw RuntimeError("internal: no summary of " + shift);
  }
  /** Whether the reads the step's inputs come from state their pixel size. */
  static bool
  Stated(const Resolved & plan, const ResolvedStep & r)
  {
    if (r.step->op == Op::Read)
      return r.node.spacing_stated;
    bool all = true;
    for (size_t in : r.inputs)
      all = all && Stated(plan, plan.steps[in]);
    return all;
  }

  double
  Moved() const
  {
    return m.shift.defined ? static_cast<double>(m.shift.moved) / static_cast<double>(m.shift.defined) : 0.0;
  }

  /** The summary as JSON members of @o. */
  void
  Json(json_t * o) const
  {
    const ShiftSummary & s = m.shift;
    const int            nd = image.ndim;
    const char * const   axes[3] = { "dz", "dy", "dx" };
    json_t *             block = json_array();
    json_t *             search = json_array();
    json_t *             median = json_object();
    for (int d = 0; d < nd; ++d)
    {
      json_array_append_new(block, json_integer(step.shift.block[d]));
      json_array_append_new(search, json_integer(step.shift.search[d]));
      json_object_set_new(median, axes[3 - nd + d], JsonNumber(s.median_axis[d]));
    }
    json_object_set_new(o, "block", block);
    json_object_set_new(o, "search", search);
    json_object_set_new(o, "blocks", json_integer(static_cast<json_int_t>(s.blocks)));
    json_object_set_new(o, "undefined_blocks", json_integer(static_cast<json_int_t>(s.blocks - s.defined)));
    json_object_set_new(o, "median_px", JsonNumber(s.median_px));
    json_object_set_new(o, "p95_px", JsonNumber(s.p95_px));
    json_object_set_new(o, "max_px", JsonNumber(s.max_px));
    json_object_set_new(o, "spacing_stated", json_boolean(stated));
    json_object_set_new(o, "median_um", stated ? JsonNumber(s.median_mm * 1000) : json_null());
    json_object_set_new(o, "p95_um", stated ? JsonNumber(s.p95_mm * 1000) : json_null());
    json_object_set_new(o, "median_shift_px", median);
    json_object_set_new(o, "fraction_moved", s.defined ? json_real(Moved()) : json_null());
    json_object_set_new(o, "median_r_zero_shift", JsonNumber(s.zero_r));
    json_object_set_new(o, "median_r_best_shift", JsonNumber(s.peak_r));
    json_object_set_new(o, "moved_median_r_zero_shift", JsonNumber(s.zero_r_moved));
    json_object_set_new(o, "moved_median_r_best_shift", JsonNumber(s.peak_r_moved));
  }

  /** The summary's lines: the shift's length, per axis, the moved blocks,
   * r at zero and at the best shift. */
  void
  Print(std::ostream & out) const
  {
    const ShiftSummary & s = m.shift;
    const int            nd = image.ndim;
    const char * const   axes[3] = { "dz", "dy", "dx" };
    // Physical lengths to about a hundredth of the finest pixel, as the pixels.
    double finest = image.spacing[0];
    for (int d = 1; d < nd; ++d)
      finest = std::min(finest, image.spacing[d]);
    auto both = [&](double px, double mm) {
      return Fixed(px, 2) + " px" + (stated ? " (" + LengthText(mm, 0.01 * finest) + ")" : std::string());
    };
    out << "shift:      median " << both(s.median_px, s.median_mm) << ", 95th pct " << both(s.p95_px, s.p95_mm)
        << ", largest " << Fixed(s.max_px, 2) << " px\n";
    out << "per axis:   median";
    for (int d = nd - 1; d >= 0; --d)
    {
      char buf[48];
      std::snprintf(buf, sizeof buf, " %s %+.2f px%s", axes[3 - nd + d], s.median_axis[d], d ? "," : "");
      out << buf;
    }
    out << "\nmoved:      " << (s.defined ? Percent(Moved()) : std::string("-")) << " of blocks by 0.5 px or more\n"
        << "r:          median " << Fixed(s.zero_r) << " at zero shift, " << Fixed(s.peak_r) << " at the best shift";
    if (s.moved)
      out << "; in the moved blocks " << Fixed(s.zero_r_moved) << " and " << Fixed(s.peak_r_moved);
    out << "\n";
    if (!stated)
      out << "(the files state no pixel size: shifts are in pixels)\n";
  }
};

int
Corr(int argc, char ** argv)
{
  const Arguments args = CommandArguments(
    "corr", argc, argv,
    WithBlockOptions({ { "--png", true },
                       { "--fill", true },
                       { "--threshold", true },
                       { "--json", false },
                       { "--shift-search", true },
                       { "--shift-block", true } },
                     true));
  if (ShowHelp(args, kCorrHelp))
    return 0;
  ExpectFiles(args, "corr", 2, "two images, A.tif B.tif", "R.tif, the file for the map");
  const RunOptions options = CommonOptions(args);

  Pipeline p = Reads(args, { { "A", "-a" }, { "B", "-b" } });
  Step corr = MakeStep("r", Op::Corr, { "A", "B" });
  corr.statistic = "correlation";
  BlockOptions(args, corr);
  args.Number("--fill", corr.fill);
  p.steps.push_back(corr);
  p.steps.push_back(WriteStep("r", args.Get("--output"), args.Get("--compression", "none")));
  if (args.Has("--png"))
  {
    Step h = MakeStep("heatmap", Op::Heatmap, { "r" });
    h.path = args.Get("--png");
    p.steps.push_back(h);
  }
  Step summary = MakeStep("summary", Op::Summary, { "r" });
  args.Number("--threshold", summary.threshold);
  p.steps.push_back(summary);
  if (args.Has("--shift-block") && !args.Has("--shift-search"))
    throw UsageError("--shift-block goes with --shift-search");
  const bool shift = args.Has("--shift-search");
  if (shift)
  {
    // Reads of their own: the block map keeps its pass over the tiles.
    CopyRead(p, "A", "shift");
    CopyRead(p, "B", "shift");
    Step sh = MakeStep("shift", Op::Shift, { "shift A", "shift B" });
    args.Sizes("--shift-search", sh.search);
    args.Sizes("--shift-block", sh.block);
    p.steps.push_back(sh);
    p.steps.push_back(MakeStep("shift summary", Op::Summary, { "shift" }));
  }

  const Resolved                plan = Resolve(p);
  const std::vector<MapSummary> summaries = Execute(plan, options);
  const MapSummary &            s = summaries.at(0);
  const NodeInfo *              map = &NodeOf(plan, Op::Corr);

  const double fraction = s.finite ? static_cast<double>(s.below) / static_cast<double>(s.finite) : 0.0;
  const bool   recommend = s.finite && fraction >= 0.05;
  std::string  verdict;
  const std::string see = s.png_path.empty() ? s.map_path : s.png_path;
  const std::string t = Fixed(s.threshold, 2);
  if (!s.finite)
    verdict = "no block has a defined r (every block is constant in A or B): nothing to compare";
  else if (s.below == 0)
    verdict = "no block has r < " + t + ": the pair looks aligned";
  else if (!recommend)
    verdict = Percent(fraction) + " of blocks have r < " + t + ": the pair looks aligned, with a few poor blocks (see " +
              see + ")";
  else
    verdict = Percent(fraction) + " of blocks have r < " + t + ": registration recommended, see " + see;

  if (args.Has("--json"))
  {
    json_t * o = json_object();
    json_t * grid = json_array();
    for (int d = 0; d < map->ndim; ++d)
      json_array_append_new(grid, json_integer(map->shape[d]));
    json_object_set_new(o, "map", json_string(s.map_path.c_str()));
    json_object_set_new(o, "png", s.png_path.empty() ? json_null() : json_string(s.png_path.c_str()));
    json_object_set_new(o, "grid", grid);
    json_object_set_new(o, "blocks", json_integer(static_cast<json_int_t>(s.blocks)));
    json_object_set_new(o, "nan_blocks", json_integer(static_cast<json_int_t>(s.blocks - s.finite)));
    json_object_set_new(o, "median", JsonNumber(s.median));
    json_object_set_new(o, "p05", JsonNumber(s.p05));
    json_object_set_new(o, "min", JsonNumber(s.min));
    json_object_set_new(o, "max", JsonNumber(s.max));
    json_object_set_new(o, "threshold", json_real(s.threshold));
    json_object_set_new(o, "below_threshold", json_integer(static_cast<json_int_t>(s.below)));
    json_object_set_new(o, "fraction_below", s.finite ? json_real(fraction) : json_null());
    json_object_set_new(o, "registration_recommended", json_boolean(recommend));
    json_object_set_new(o, "verdict", json_string(verdict.c_str()));
    if (shift)
    {
      json_t * d = json_object();
      ShiftReport(plan, summaries, "shift").Json(d);
      json_object_set_new(o, "shift", d);
    }
    char * text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    std::cout << text << std::endl;
    std::free(text);
    json_decref(o);
    return 0;
  }
  if (options.quiet)
    return 0;
  std::cout << "map:        " << s.map_path << " (" << SizeText(*map) << " blocks, " << DTypeName(map->dtype) << ")\n";
  if (!s.png_path.empty())
    std::cout << "heatmap:    " << s.png_path << "\n";
  std::cout << "blocks:     " << s.blocks;
  if (s.blocks != s.finite)
    std::cout << " (" << s.blocks - s.finite << " constant, r undefined)";
  std::cout << "\nmedian r:   " << Fixed(s.median) << "\n"
            << "5th pct r:  " << Fixed(s.p05) << "\n"
            << "r < " << t << ":   " << (s.finite ? Percent(fraction) : std::string("-")) << " of blocks\n"
            << verdict << std::endl;
  if (shift)
  {
    const ShiftReport report(plan, summaries, "shift");
    std::string       block, search;
    for (int d = report.image.ndim - 1; d >= 0; --d)
    {
      block += std::to_string(report.step.shift.block[d]) + (d ? " x " : "");
      search += std::to_string(report.step.shift.search[d]) + (d ? " x " : "");
    }
    std::cout << "displacement, " << block << " blocks, search " << search << " px:\n";
    report.Print(std::cout);
    std::cout.flush();
  }
  return 0;
}

/** localcorr (@pair) and localstats: a Local step over one or two reads. */
int
Local(const char * command, bool pair, int argc, char ** argv)
{
  std::map<std::string, bool> own{ { "--output", true }, { "--radius", true }, { "--step", true },
                                   { "--stat", true },   { "--ddof", true },   { "--fill", true },
                                   { "--type", true },   { "--compression", true } };
  if (pair)
    own["--png"] = true;
  const Arguments args = CommandArguments(command, argc, argv, WithChannelOptions(own, pair));
  if (ShowHelp(args, kLocalHelp))
    return 0;
  ExpectFiles(args, command, pair ? 2 : 1, pair ? "two images, A.tif B.tif" : "one image, IN.tif",
              "OUT.tif, the file for the map");
  if (!pair && !args.Has("--stat"))
    throw UsageError("'blockwise localstats' needs --stat mean|std|var|sum|count");
  const RunOptions options = CommonOptions(args);
  Pipeline p = pair ? Reads(args, { { "A", "-a" }, { "B", "-b" } }) : Reads(args, { { "in", nullptr } });
  Step     st = MakeStep("local", Op::Local, pair ? std::vector<std::string>{ "A", "B" } : std::vector<std::string>{ "in" });
  st.statistic = args.Get("--stat", "");
  args.Sizes("--radius", st.radius);
  args.Sizes("--step", st.stride);
  st.type = args.Get("--type", "f32");
  args.Number("--fill", st.fill);
  if (args.Has("--ddof"))
    st.ddof = static_cast<int>(ParseInteger("--ddof", args.Get("--ddof"), 0, 1));
  if (args.Has("--png"))
  {
    Step h = MakeStep("heatmap", Op::Heatmap, { "local" });
    h.path = args.Get("--png");
    p.steps.push_back(h);
  }
  const Resolved   plan = RunToOutput(p, st, args, options);
  const NodeInfo & map = NodeOf(plan, Op::Local);
  if (!options.quiet)
  {
    std::string stat = "mean";
    for (const ResolvedStep & r : plan.steps)
      if (r.step->op == Op::Local)
        stat = bw_stat_name(r.stat);
    std::cout << "map:        " << args.Get("--output") << " (local " << stat << ", " << SizeText(map) << ", "
              << DTypeName(map.dtype) << ")" << std::endl;
    if (args.Has("--png"))
      std::cout << "picture:    " << args.Get("--png") << std::endl;
  }
  return 0;
}

int
Shift(int argc, char ** argv)
{
  const Arguments args = CommandArguments(
    "shift", argc, argv,
    WithChannelOptions({ { "--output", true }, { "--block", true }, { "--search", true }, { "--png", true },
                         { "--fill", true }, { "--compression", true }, { "--json", false } },
                       true));
  if (ShowHelp(args, kShiftHelp))
    return 0;
  ExpectFiles(args, "shift", 2, "two images, A.tif B.tif", "D.tif, the file for the displacement field");
  const RunOptions options = CommonOptions(args);

  Pipeline p = Reads(args, { { "A", "-a" }, { "B", "-b" } });
  Step     sh = MakeStep("shift", Op::Shift, { "A", "B" });
  args.Sizes("--block", sh.block);
  args.Sizes("--search", sh.search);
  args.Number("--fill", sh.fill);
  p.steps.push_back(sh);
  p.steps.push_back(WriteStep("shift", args.Get("--output"), args.Get("--compression", "none")));
  p.steps.push_back(MakeStep("summary", Op::Summary, { "shift" }));
  if (args.Has("--png"))
  {
    // The picture: the field over A's thumbnail, block means of A about
    // one picture pixel each (2-D; a volume's planes are drawn without).
    // (The plan of the steps so far gives the field's grid; it points into
    // p.steps, which grow below.)
    const Resolved        first = Resolve(p);
    const NodeInfo        field = NodeOf(first, Op::Shift);
    const bw_shift_params params = ShiftReport::StepOf(first, "shift").shift;
    Step                  h = MakeStep("picture", Op::Heatmap, { "shift" });
    h.path = args.Get("--png");
    if (field.ndim == 2)
    {
      const MapRaster grid(field.ndim, field.shape);
      const int       scale = AutomaticScale(grid);
      Step            thumb = MakeStep("thumbnail", Op::Stats, { "thumbnail A" });
      thumb.statistic = "mean";
      for (int d = 0; d < 2; ++d)
        thumb.block.push_back(std::max<int64_t>(1, params.block[d] * static_cast<int64_t>(grid.Factor()) / scale));
      // A read of its own, so that the thumbnail's pass takes the tiles of
      // a tiled file directly (tiled_blocks.h).
      CopyRead(p, "A", "thumbnail");
      p.steps.push_back(thumb);
      h.inputs.push_back("thumbnail");
    }
    p.steps.push_back(h);
  }

  const Resolved                plan = Resolve(p);
  const std::vector<MapSummary> summaries = Execute(plan, options);
  const ShiftReport             report(plan, summaries, "shift");
  const NodeInfo &              field = report.step.node;
  if (args.Has("--json"))
  {
    json_t * o = json_object();
    json_t * grid = json_array();
    for (int d = 0; d < field.ndim; ++d)
      json_array_append_new(grid, json_integer(field.shape[d]));
    json_object_set_new(o, "field", json_string(report.m.map_path.c_str()));
    json_object_set_new(o, "png", report.m.png_path.empty() ? json_null() : json_string(report.m.png_path.c_str()));
    json_object_set_new(o, "grid", grid);
    report.Json(o);
    char * text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    std::cout << text << std::endl;
    std::free(text);
    json_decref(o);
    return 0;
  }
  if (options.quiet)
    return 0;
  std::string block;
  for (int d = field.ndim - 1; d >= 0; --d)
    block += std::to_string(report.step.shift.block[d]) + (d ? " x " : "");
  std::cout << "field:      " << report.m.map_path << " (" << SizeText(field) << " blocks of " << block << " px, "
            << (field.ndim == 3 ? "dx, dy, dz" : "dx, dy") << (report.stated ? " in mm" : " in pixels") << ")\n";
  if (!report.m.png_path.empty())
    std::cout << "picture:    " << report.m.png_path << "\n";
  std::cout << "blocks:     " << report.m.shift.blocks;
  if (report.m.shift.blocks != report.m.shift.defined)
    std::cout << " (" << report.m.shift.blocks - report.m.shift.defined << " without a shift: flat in A or B)";
  std::cout << "\n";
  report.Print(std::cout);
  std::cout.flush();
  return 0;
}

int
Stats(int argc, char ** argv)
{
  const Arguments args =
    CommandArguments("stats", argc, argv, WithBlockOptions({ { "--stat", true }, { "--ddof", true } }, false));
  if (ShowHelp(args, kStatsHelp))
    return 0;
  ExpectFiles(args, "stats", 1, "one image, IN.tif", "OUT.tif, the file for the map");
  if (!args.Has("--stat"))
    throw UsageError("'blockwise stats' needs --stat mean|std|var|sum|min|max|count");
  const RunOptions options = CommonOptions(args);

  Pipeline p = Reads(args, { { "in", nullptr } });
  Step st = MakeStep("stats", Op::Stats, { "in" });
  st.statistic = args.Get("--stat");
  BlockOptions(args, st);
  if (args.Has("--ddof"))
    st.ddof = static_cast<int>(ParseInteger("--ddof", args.Get("--ddof"), 0, 1));
  const Resolved   plan = RunToOutput(p, st, args, options);
  const NodeInfo & map = NodeOf(plan, Op::Stats);
  if (!options.quiet)
    std::cout << "map:        " << args.Get("--output") << " (" << st.statistic << " of " << SizeText(map)
              << " blocks, " << DTypeName(map.dtype) << ")" << std::endl;
  return 0;
}

int
Denoise(int argc, char ** argv)
{
  std::map<std::string, bool> own = { { "--output", true }, { "--noise", true }, { "--compression", true } };
  for (const auto & f : kDenoiseNumbers)
    own[OptionOf(f.key)] = true;
  for (const auto & f : kDenoiseSizes)
    own[OptionOf(f.key)] = true;
  const Arguments args = CommandArguments("denoise", argc, argv, WithChannelOptions(own, false));
  if (ShowHelp(args, kDenoiseHelp))
    return 0;
  ExpectFiles(args, "denoise", 1, "one image, IN.tif", "OUT.tif, the file for the denoised image");
  const RunOptions options = CommonOptions(args);

  Pipeline p = Reads(args, { { "in", nullptr } });
  Step d = MakeStep("denoise", Op::Denoise, { "in" });
  d.noise = args.Get("--noise", "gaussian");
  for (const auto & f : kDenoiseNumbers)
    args.Number(OptionOf(f.key), d.*f.field);
  for (const auto & f : kDenoiseSizes)
    args.Sizes(OptionOf(f.key), d.*f.field);
  if (d.noise == "gaussian" && !args.Has("--sigma"))
    throw UsageError("'blockwise denoise' needs --sigma S, the noise's standard deviation "
                     "(or --noise poisson-gaussian --gain G)");
  const Resolved   plan = RunToOutput(p, d, args, options);
  const NodeInfo & image = NodeOf(plan, Op::Denoise);
  if (!options.quiet)
    std::cout << "denoised:   " << args.Get("--output") << " (" << SizeText(image) << ", " << DTypeName(image.dtype)
              << ")" << std::endl;
  return 0;
}

int
Deconvolve(int argc, char ** argv)
{
  const Arguments args = CommandArguments(
    "deconvolve", argc, argv,
    WithChannelOptions({ { "--output", true }, { "--psf", true }, { "--iterations", true }, { "--accelerate", false },
                         { "--tv", true }, { "--boundary", true }, { "--halo", true }, { "--epsilon", true },
                         { "--compression", true } },
                       false));
  if (ShowHelp(args, kDeconvolveHelp))
    return 0;
  ExpectFiles(args, "deconvolve", 1, "one image, IN.tif", "OUT.tif, the file for the deconvolved image");
  if (!args.Has("--psf"))
    throw UsageError("'blockwise deconvolve' needs --psf PSF.tif, the point spread function");
  const RunOptions options = CommonOptions(args);

  Pipeline p = Reads(args, { { "in", nullptr } });
  p.steps.push_back(ReadStep("psf", args.Get("--psf")));
  Step d = MakeStep("deconvolved", Op::Deconvolve, { "in", "psf" });
  if (args.Has("--iterations"))
    d.iterations = static_cast<int>(ParseInteger("--iterations", args.Get("--iterations"), 0, 100000));
  d.accelerate = args.Has("--accelerate");
  args.Number("--tv", d.tv);
  d.boundary = args.Get("--boundary", "non-circulant");
  args.Number("--epsilon", d.epsilon);
  const std::string halo = args.Get("--halo", "auto");
  if (halo == "auto" || halo == "exact")
    d.halo_mode = halo;
  else if (halo.find_first_not_of("0123456789,") != std::string::npos)
    throw UsageError("--halo: unknown halo '" + halo + "' (auto, exact, or pixels: H or [Z,]Y,X)");
  else
    args.Sizes("--halo", d.halo);
  const Resolved   plan = RunToOutput(p, d, args, options);
  const NodeInfo & image = NodeOf(plan, Op::Deconvolve);
  if (!options.quiet)
  {
    size_t step = 0;
    while (plan.steps[step].step->op != Op::Deconvolve)
      ++step;
    const ResolvedStep & r = plan.steps[step];
    std::string          halo;
    for (int i = 0; i < r.rl.ndim; ++i)
      halo += (i ? "," : "") + std::to_string(r.halo[i]);
    const unsigned pieces = Divisions(plan, step, options.memory);
    std::cout << "deconvolved: " << args.Get("--output") << " (" << SizeText(image) << ", " << DTypeName(image.dtype)
              << ", " << d.iterations << " iterations" << (d.accelerate ? ", accelerated" : "")
              << (d.tv > 0 ? ", total variation " : "");
    if (d.tv > 0)
      std::cout << d.tv;
    std::cout << ")" << std::endl;
    // the halo as --halo takes it, slowest axis first
    std::cout << "  in " << pieces << (pieces == 1 ? " piece" : " pieces") << ", halo " << halo << " px ("
              << (r.rl.ndim == 3 ? "Z,Y,X; " : "Y,X; ") << r.halo_mode << ")" << std::endl;
    if (d.accelerate && pieces > 1)
      std::cout << "  note: acceleration steps by a sum over each piece, so pieces differ from the whole\n"
                   "  volume's result by up to 10% of its largest value; a --memory that holds it in one\n"
                   "  piece avoids it"
                << std::endl;
  }
  return 0;
}

} // namespace

int
Main(int argc, char ** argv)
{
  // Run as blockwise-corr, -stats, -localcorr, -localstats, -shift, -denoise or -deconvolve: a 3D Slicer module.
  const std::string program = argv[0] ? argv[0] : "blockwise";
  const std::string base = program.substr(program.find_last_of('/') == std::string::npos
                                            ? 0
                                            : program.find_last_of('/') + 1);
  if (base == "blockwise-corr" || base == "blockwise-stats" || base == "blockwise-denoise" ||
      base == "blockwise-localcorr" || base == "blockwise-localstats" || base == "blockwise-shift" ||
      base == "blockwise-deconvolve")
    return SlicerModule(base.substr(10), argc - 1, argv + 1);
  if (argc < 2)
  {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help")
  {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version")
  {
    std::cout << "blockwise " << bw_version_string() << std::endl;
    return 0;
  }
  if (command == "corr")
    return Corr(argc - 2, argv + 2);
  if (command == "stats")
    return Stats(argc - 2, argv + 2);
  if (command == "denoise")
    return Denoise(argc - 2, argv + 2);
  if (command == "localcorr" || command == "localstats")
    return Local(command == "localcorr" ? "localcorr" : "localstats", command == "localcorr", argc - 2, argv + 2);
  if (command == "shift")
    return Shift(argc - 2, argv + 2);
  if (command == "deconvolve")
    return Deconvolve(argc - 2, argv + 2);
  if (command == "info")
    return Info(argc - 2, argv + 2);
  if (command == "run")
    return RunCommand(argc - 2, argv + 2);
  throw UsageError("unknown command '" + command +
                   "' (corr, stats, localcorr, localstats, shift, denoise, deconvolve, info or run; see blockwise --help)");
}

} // namespace blockwise_cli

int
main(int argc, char ** argv)
{
#ifdef M_ARENA_MAX
  // One malloc arena: with one per thread, glibc keeps what the pipeline's
  // threads free in pools of their own, and the peak grows past --memory
  // with the number of threads.
  mallopt(M_ARENA_MAX, 1);
#endif
  try
  {
    return blockwise_cli::Main(argc, argv);
  }
  catch (const blockwise_cli::UsageError & e)
  {
    std::cerr << "blockwise: " << e.what() << std::endl;
    return 2;
  }
  catch (const blockwise_cli::Interrupted & e)
  {
    std::cerr << "blockwise: " << e.what() << std::endl;
    return 130;
  }
  catch (const std::bad_alloc &)
  {
    std::cerr << "blockwise: out of memory" << std::endl;
    return 1;
  }
  catch (const std::exception & e)
  {
    std::cerr << "blockwise: " << e.what() << std::endl;
    return 1;
  }
}
