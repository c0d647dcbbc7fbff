/*
 * The `blockwise` command's pipeline model, shared by the subcommands and
 * by pipeline files: named steps wired by name, validated as a whole before
 * any pixel moves, then executed as one streamed ITK pipeline.
 *
 * This header has no ITK in it, so that argument parsing, pipeline files and
 * the Slicer descriptions compile quickly; the ITK work is in engine*.cxx.
 */
#ifndef BLOCKWISE_CLI_PIPELINE_H
#define BLOCKWISE_CLI_PIPELINE_H

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace blockwise_cli
{

/** The deconvolve step's default iterations (the library's, bw_deconv.h). */
constexpr int BW_RL_DEFAULT_ITERATIONS_CLI = 10;

/** A mistake in how the command was called (exit status 2). */
class UsageError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** A failure while checking inputs or doing the work (exit status 1). */
class RuntimeError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

/** The user interrupted the run (SIGINT, SIGTERM, SIGHUP; exit status 130). */
class Interrupted : public RuntimeError
{
public:
  Interrupted()
    : RuntimeError("interrupted")
  {}
};

/** The operations a step can name. */
enum class Op
{
  Read,    // path -> image
  Corr,    // two images -> map of Pearson r (or covariance) per block
  Stats,   // one image -> map of one statistic per block
  Write,   // image -> TIFF file
  Heatmap, // map -> PNG picture
  Summary, // map -> the block summary printed at the end
  Denoise, // image -> non-local means denoised image (float32)
  Channel, // image of several channels -> one channel (float32, or the
           // input's type for a channel as it is)
  Local,   // one image (or two) -> map of a statistic of the box window
           // around every pixel (or every step-th): mean ... or Pearson r
  Shift,   // two images (fixed, moving) -> displacement field on the block
           // grid: a vector per block, in physical units (x first)
  Deconvolve // an image and its PSF -> Richardson-Lucy deconvolved (float32)
};

const char * OpName(Op op);

/** One step.  Which fields matter depends on the operation. */
struct Step
{
  std::string name;
  Op          op = Op::Read;
  std::vector<std::string> inputs; // names of earlier steps

  // Read, Write, Heatmap: a file (absolute once the pipeline is resolved).
  std::string path;

  // Read: the level of a pyramid (bw_tiff_open_level(): 0 is the image
  // itself, 1 the largest reduced copy, ...), or the level whose pixel size
  // is nearest @read_resolution (millimetres; NaN: use @read_level).
  int    read_level = 0;
  double read_resolution = std::numeric_limits<double>::quiet_NaN();

  // Corr, Stats, Shift: 1 value for every axis, or one per axis, slowest
  // first ([z,] y, x); none: the core's default (BW_BLOCK_DEFAULT;
  // BW_SHIFT_DEFAULT_BLOCK for Shift).  Shift also takes @search (below,
  // the radius of shifts tried) and @fill.
  std::vector<int64_t> block;
  std::string          edge = "partial";
  double               fill = std::numeric_limits<double>::quiet_NaN();
  int                  ddof = 0;
  std::string          statistic;     // Stats: mean|std|var|sum|min|max|count; Corr: correlation|covariance
  std::string          type = "f32";  // Corr, Stats: output pixel type, f32 or f64

  // Local: window radius and output stride, 1 value for every axis or one
  // per axis, slowest first; none: the core's defaults.  Statistic, type,
  // ddof and fill as above (statistic: mean|std|var|sum|count of one image,
  // correlation|covariance of two).
  std::vector<int64_t> radius;
  std::vector<int64_t> stride;

  // Write
  std::string compression = "none"; // none|deflate|lzw|packbits|zstd
  int         level = 0;               // 0: the codec's default
  int         tile = 0;                // 0: strips; otherwise square tiles of this size

  // Heatmap
  double range_lo = -1.0, range_hi = 1.0;
  int    scale = 0; // pixels per block; 0: chosen from the map's size

  // Summary
  double threshold = 0.5;

  // Channel: a name of bw_channel_from_name() ("luminance", "hematoxylin",
  // "2", ...), or "auto": an image of one channel as it is, the luminance
  // of RGB and RGBA; @white as bw_channel_params (0: from the file's bits).
  std::string channel = "auto";
  double      white = 0;

  // Denoise: radii (1 value for every axis, or one per axis, slowest
  // first; none: the core's defaults), the noise model and its
  // parameters; h 0: the core's default.
  std::vector<int64_t> patch;
  std::vector<int64_t> search;
  std::string          noise = "gaussian"; // gaussian|poisson-gaussian
  double               sigma = std::numeric_limits<double>::quiet_NaN();
  double               h = 0;
  double               gain = 1, offset = 0, read_sigma = 0;

  // Deconvolve: iterations, the boundary (non-circulant|periodic),
  // Biggs-Andrews acceleration, the guard (0: the library's default), and
  // the halo of each piece: pixels (1 value or one per axis, slowest
  // first), or, when none are given, halo_mode: auto (bw_rl_auto_halo) or
  // exact (bw_rl_exact_halo).
  int                  iterations = BW_RL_DEFAULT_ITERATIONS_CLI;
  std::string          boundary = "non-circulant";
  bool                 accelerate = false;
  double               tv = 0;             // total-variation weight, 0: none
  double               epsilon = 0;
  std::vector<int64_t> halo;
  std::string          halo_mode = "auto";
};

/** A parameter of a step, by its key in pipeline files; on the command
 * line and in Slicer it is the option "--" + key with '_' as '-'. */
template <typename T>
struct StepField
{
  const char * key;
  T Step::*    field;
};

/** The denoise step's numbers and radii: the one list the subcommand, the
 * pipeline reader and the Slicer module read them by. */
extern const StepField<double>               kDenoiseNumbers[5];
extern const StepField<std::vector<int64_t>> kDenoiseSizes[2];

/** "--" + @key with '_' as '-'. */
std::string OptionOf(const char * key);

/** A step named @name doing @op on the images of the steps @inputs. */
Step MakeStep(const std::string & name, Op op, const std::vector<std::string> & inputs);
/** A step named @name that reads @path. */
Step ReadStep(const std::string & name, const std::string & path);
/** The step "@name" that takes @channel of the image of step @input. */
Step ChannelStep(const std::string & name, const std::string & input, const std::string & channel);
/** The step "write" that writes the image of step @input to @path. */
Step WriteStep(const std::string & input, const std::string & path, const std::string & compression);

struct Pipeline
{
  std::vector<Step> steps;
  /** Whether messages name the step ("step 'r' (corr): ..."): yes for
   * pipeline files, no for the subcommands, whose steps the user never named. */
  bool name_steps = true;
};

/** The working-set budget when none is given: 64 MiB. */
constexpr uint64_t kDefaultMemory = uint64_t{ 64 } << 20;

/** Options common to every subcommand. */
struct RunOptions
{
  int      threads = 0;                        // 0: ITK's default
  uint64_t memory = kDefaultMemory;            // working-set budget in bytes
  bool     quiet = false;
  bool     progress = false;                   // draw a progress bar on stderr
  bool     slicer_progress = false;            // print <filter-progress> lines for 3D Slicer
};

/** What a Summary step of a displacement field (a Shift step's) measured
 * over its blocks with a defined shift: magnitudes in pixels and in
 * millimetres (the spacing applied per axis), the median component per
 * axis (pixels, C order), and Pearson r at zero shift and at the best
 * shift. */
struct ShiftSummary
{
  uint64_t blocks = 0, defined = 0;
  uint64_t moved = 0; // defined blocks whose shift is 0.5 pixels or more
  double   median_px = std::numeric_limits<double>::quiet_NaN();
  double   p95_px = std::numeric_limits<double>::quiet_NaN();
  double   max_px = std::numeric_limits<double>::quiet_NaN();
  double   median_mm = std::numeric_limits<double>::quiet_NaN();
  double   p95_mm = std::numeric_limits<double>::quiet_NaN();
  double   median_axis[3] = { 0, 0, 0 };
  double   zero_r = std::numeric_limits<double>::quiet_NaN(); // medians
  double   peak_r = std::numeric_limits<double>::quiet_NaN();
  double   zero_r_moved = std::numeric_limits<double>::quiet_NaN(); // over the moved blocks
  double   peak_r_moved = std::numeric_limits<double>::quiet_NaN();
};

/** What a Summary step measured over the finite values of a map. */
struct MapSummary
{
  std::string step;
  std::string map_path; // the file the map was written to, if any
  std::string png_path; // the heatmap, if any
  uint64_t    blocks = 0;
  uint64_t    finite = 0;
  uint64_t    below = 0; // finite values below the threshold
  double      threshold = 0.5;
  double      median = std::numeric_limits<double>::quiet_NaN();
  double      p05 = std::numeric_limits<double>::quiet_NaN();
  double      min = std::numeric_limits<double>::quiet_NaN();
  double      max = std::numeric_limits<double>::quiet_NaN();
  bool        displacement = false; // the map is a Shift step's: see @shift
  ShiftSummary shift;
};

struct Resolved;

/**
 * Runs a pipeline checked by Resolve() (plan.h), streamed under
 * options.memory.  Every output is written under a temporary name in its
 * folder, and all are renamed into place only when every step has
 * succeeded; on failure or interruption none is left behind.  Returns the
 * summaries of the Summary steps.
 */
std::vector<MapSummary> Execute(const Resolved & plan, const RunOptions & options);

/** Parses "256M", "1.5G", "4096" (bytes; K, M, G, T are powers of 1024). */
uint64_t ParseMemory(const std::string & text);

} // namespace blockwise_cli

#endif
