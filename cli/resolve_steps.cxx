/*
 * Each step's parameters, from a Step to the core's structs, checked by the
 * core's own checks: one translation, in one place (resolve_steps.h).
 */
#include "resolve_steps.h"

#include "bw_tiff.h"

#include <cmath>
#include <strings.h>
#include <sstream>
#include <utility>
#include <vector>

namespace blockwise_cli
{


[[noreturn]] void
StepUsage(const Step & s, const std::string & what)
{
  throw StepError{ &s, true, what };
}

[[noreturn]] void
StepFail(const Step & s, const std::string & what)
{
  throw StepError{ &s, false, what };
}

bw_tiff_compression
CompressionOf(const Step & s)
{
  bw_tiff_compression c;
  bw_error            err;
  if (bw_tiff_compression_from_name(s.compression.c_str(), &c, &err) != BW_OK)
    StepUsage(s, err.message);
  return c;
}

/** The statistic a Corr or Stats step names, through the core's table of
 * names; Corr takes the statistics of a pair, Stats those of one image. */
bw_stat
StatisticOf(const Step & s)
{
  const bool  pair = s.op == Op::Corr;
  const char * known = pair ? "correlation or covariance" : "mean, std, var, sum, min, max or count";
  if (s.statistic.empty())
  {
    if (pair)
      return BW_STAT_CORR;
    StepUsage(s, std::string("no statistic given (") + known + ")");
  }
  bw_stat stat;
  if (bw_stat_from_name(s.statistic.c_str(), &stat, nullptr) != BW_OK || bw_stat_is_pair(stat) != (pair ? 1 : 0))
    StepUsage(s, "unknown statistic '" + s.statistic + "' (" + known + ")");
  return stat;
}

namespace
{

/** One value for every axis, or one per axis ([Z,] Y, X), of the option
 * @what; none leaves @out as it is. */
void
PerAxis(const Step & s, const char * what, const std::vector<int64_t> & given, int ndim, ptrdiff_t * out)
{
  if (given.size() > 1 && given.size() != static_cast<size_t>(ndim))
    StepUsage(s, std::string(what) + " needs 1 value or " + std::to_string(ndim) + " for this " +
                   std::to_string(ndim) + "-D image, not " + std::to_string(given.size()));
  for (int d = 0; d < ndim && !given.empty(); ++d)
    out[d] = static_cast<ptrdiff_t>(given.size() == 1 ? given[0] : given[static_cast<size_t>(d)]);
}

} // namespace

void
ResolveLocalStep(const Step & s, const NodeInfo & in, bool pair, ResolvedStep & r)
{
  const int nd = in.ndim;
  bw_local_params_init(&r.local, nd, nullptr);
  PerAxis(s, "radius", s.radius, nd, r.local.radius);
  PerAxis(s, "step", s.stride, nd, r.local.step);
  r.local.ddof = s.ddof;
  if (!std::isnan(s.fill))
  {
    if (!std::isfinite(s.fill))
      StepUsage(s, "the fill value must be a finite number");
    r.local.use_fill = 1;
    r.local.fill = s.fill;
  }
  bw_error err;
  if (bw_local_params_check(&r.local, &err) != BW_OK)
    StepUsage(s, err.message);
  const char * known = pair ? "correlation or covariance" : "mean, std, var, sum or count";
  bw_stat      stat = pair ? BW_STAT_CORR : BW_STAT_MEAN;
  if (!s.statistic.empty() &&
      (bw_stat_from_name(s.statistic.c_str(), &stat, nullptr) != BW_OK || bw_stat_is_pair(stat) != (pair ? 1 : 0) ||
       !bw_local_stat_supported(stat)))
    StepUsage(s, "unknown local statistic '" + s.statistic + "' for " + (pair ? "two images" : "one image") + " (" +
                   known + ")");
  r.stat = stat;
  if (s.type != "f32" && s.type != "f64")
    StepUsage(s, "output type must be f32 or f64, not '" + s.type + "'");
  ptrdiff_t image[3], out[3];
  for (int i = 0; i < nd; ++i)
    image[i] = static_cast<ptrdiff_t>(in.shape[i]);
  if (bw_local_output_shape(&r.local, image, out, &err) != BW_OK)
    StepFail(s, err.message);
  r.node.image = true;
  r.node.ndim = nd;
  r.node.dtype = s.type == "f64" ? BW_F64 : BW_F32;
  for (int i = 0; i < nd; ++i)
  {
    r.node.shape[i] = out[i];
    r.node.spacing[i] = in.spacing[i] * static_cast<double>(r.local.step[i]);
  }
}

void
ResolveBlockStep(const Step & s, const NodeInfo & in, ResolvedStep & r)
{
  const int nd = in.ndim;
  if (s.block.size() > 1 && s.block.size() != static_cast<size_t>(nd))
    StepUsage(s, "block has " + std::to_string(s.block.size()) + " values, the image has " + std::to_string(nd) +
                   " axes (give 1 value, or " + std::to_string(nd) + ")");
  ptrdiff_t block[3];
  for (int i = 0; i < nd && !s.block.empty(); ++i)
    block[i] = static_cast<ptrdiff_t>(s.block.size() == 1 ? s.block[0] : s.block[static_cast<size_t>(i)]);
  bw_block_params_init(&r.params, nd, s.block.empty() ? nullptr : block);
  if (s.edge == "partial")
    r.params.edge = BW_EDGE_PARTIAL;
  else if (s.edge == "trim")
    r.params.edge = BW_EDGE_TRIM;
  else
    StepUsage(s, "unknown edge policy '" + s.edge + "' (partial or trim)");
  r.params.ddof = s.ddof;
  if (!std::isnan(s.fill))
  {
    if (!std::isfinite(s.fill))
      StepUsage(s, "the fill value must be a finite number");
    r.params.use_fill = 1;
    r.params.fill = s.fill;
  }
  bw_error err;
  if (bw_block_params_check(&r.params, &err) != BW_OK)
    StepUsage(s, err.message);
  if (s.type != "f32" && s.type != "f64")
    StepUsage(s, "output type must be f32 or f64, not '" + s.type + "'");

  ptrdiff_t image[3], out[3];
  for (int i = 0; i < nd; ++i)
    image[i] = static_cast<ptrdiff_t>(in.shape[i]);
  if (bw_block_output_shape(&r.params, image, out, &err) != BW_OK)
  {
    std::ostringstream m;
    m << "block ";
    for (int i = nd - 1; i >= 0; --i)
      m << r.params.block[i] << (i ? " x " : "");
    m << " leaves no whole block in the " << SizeText(in) << " image with edge trim";
    StepFail(s, m.str());
  }
  r.node.image = true;
  r.node.ndim = nd;
  r.node.dtype = s.type == "f64" ? BW_F64 : BW_F32;
  for (int i = 0; i < nd; ++i)
  {
    r.node.shape[i] = out[i];
    r.node.spacing[i] = in.spacing[i] * static_cast<double>(r.params.block[i]);
  }
}



#ifdef BLOCKWISE_HAVE_DECONV
/** The pixels of a PSF, in the file's element type. */
struct PsfPixels
{
  std::vector<unsigned char> raw;
  bw_dtype                   dtype = BW_F32;
};

/** The pixels of the PSF @psf when it is a grey TIFF file read as it is
 * (the usual case: the automatic halo needs the PSF's spread); none
 * otherwise. */
PsfPixels
ReadPsf(const ResolvedStep & psf)
{
  PsfPixels        pixels;
  const NodeInfo & node = psf.node;
  if (psf.step->op != Op::Read || node.channels != 1)
    return pixels;
  size_t count = 1;
  for (int i = 0; i < node.ndim; ++i)
    count *= static_cast<size_t>(node.shape[i]);
  if (count > (size_t{ 1 } << 26))
    return pixels;
  bw_tiff_reader * reader = nullptr;
  if (bw_tiff_open_level(psf.step->path.c_str(), node.level, &reader, nullptr) != BW_OK)
    return pixels;
  const bw_tiff_info & info = *bw_tiff_reader_info(reader);
  bw_region          region{};
  for (int i = 0; i < info.ndim; ++i)
    region.size[i] = info.shape[i];
  std::vector<unsigned char> raw(count * bw_dtype_size(info.dtype));
  const bw_view              view = bw_view_contiguous(raw.data(), info.dtype, info.ndim, info.shape);
  if (info.ndim == node.ndim && info.channels == 1 && bw_tiff_read(reader, &region, &view, nullptr) == BW_OK)
  {
    pixels.raw = std::move(raw);
    pixels.dtype = info.dtype;
  }
  bw_tiff_close(reader);
  return pixels;
}
#endif

void
ResolveDeconvolveStep(const Step & s, const NodeInfo & in, const ResolvedStep & psf_step, ResolvedStep & r)
{
  const NodeInfo & psf = psf_step.node;
#ifndef BLOCKWISE_HAVE_DECONV
  (void)in, (void)psf, (void)r;
  StepFail(s, "this blockwise was built without deconvolution (configure with FFTW, Debian's libfftw3-dev)");
#else
  const int nd = in.ndim;
  bw_rl_params_init(&r.rl, nd);
  r.rl.iterations = s.iterations;
  if (s.boundary == "non-circulant")
    r.rl.boundary = BW_RL_NONCIRCULANT;
  else if (s.boundary == "periodic")
    r.rl.boundary = BW_RL_PERIODIC;
  else
    StepUsage(s, "unknown boundary '" + s.boundary + "' (non-circulant or periodic)");
  r.rl.accelerate = s.accelerate ? 1 : 0;
  r.rl.tv = s.tv;
  if (s.epsilon != 0)
    r.rl.epsilon = s.epsilon;
  bw_error err;
  if (bw_rl_params_check(&r.rl, &err) != BW_OK)
    StepUsage(s, err.message);
  if (psf.ndim != nd)
    StepFail(s, "the PSF has " + std::to_string(psf.ndim) + " axes, the image " + std::to_string(nd));
  ptrdiff_t image[3] = { 1, 1, 1 };
  for (int i = 0; i < nd; ++i)
  {
    r.psf_shape[i] = static_cast<ptrdiff_t>(psf.shape[i]);
    image[i] = static_cast<ptrdiff_t>(in.shape[i]);
  }
  // The library's check of the shapes (a PSF no larger than the image).
  size_t bytes = 0;
  if (bw_rl_plan_size(&r.rl, image, r.psf_shape, &bytes, &err) != BW_OK)
    StepFail(s, err.message);
  r.halo_mode = "set";
  if (s.halo.empty())
  {
    if (s.halo_mode != "auto" && s.halo_mode != "exact")
      StepUsage(s, "unknown halo '" + s.halo_mode + "' (auto, exact, or pixels)");
    // auto needs the PSF's pixels; a PSF made by other steps gets the exact halo
    PsfPixels pixels = s.halo_mode == "auto" ? ReadPsf(psf_step) : PsfPixels();
    if (!pixels.raw.empty())
    {
      const bw_view view = bw_view_contiguous(pixels.raw.data(), pixels.dtype, nd, r.psf_shape);
      if (bw_rl_auto_halo(&r.rl, &view, r.halo, &err) != BW_OK)
        StepFail(s, err.message);
      r.halo_mode = "auto";
    }
    else
    {
      if (bw_rl_exact_halo(&r.rl, r.psf_shape, r.halo, &err) != BW_OK)
        StepUsage(s, err.message);
      r.halo_mode = s.halo_mode == "auto" ? "exact: the PSF is not a grey TIFF read as it is" : "exact";
    }
  }
  else
  {
    PerAxis(s, "halo", s.halo, nd, r.halo);
    for (int i = 0; i < nd; ++i)
      if (r.halo[i] < 0)
        StepUsage(s, "the halo must be 0 or more pixels, not " + std::to_string(r.halo[i]));
  }
  r.node = in;
  r.node.dtype = BW_F32;
  r.node.channels = 1;
  r.node.color = BW_TIFF_GREY;
  r.node.bits = 0;
  r.node.chunk_rows = 0;
  r.node.tile_width = r.node.tile_length = 0;
  r.node.channel_names.clear();
#endif
}

void
ResolveShiftStep(const Step & s, const NodeInfo & in, ResolvedStep & r)
{
  const int nd = in.ndim;
  bw_shift_params_init(&r.shift, nd, nullptr, nullptr);
  PerAxis(s, "block", s.block, nd, r.shift.block);
  PerAxis(s, "search", s.search, nd, r.shift.search);
  if (!std::isnan(s.fill))
  {
    if (!std::isfinite(s.fill))
      StepUsage(s, "the fill value must be a finite number");
    r.shift.use_fill = 1;
    r.shift.fill = s.fill;
  }
  bw_error err;
  if (bw_shift_params_check(&r.shift, &err) != BW_OK)
    StepUsage(s, err.message);
  ptrdiff_t image[3], out[3];
  for (int i = 0; i < nd; ++i)
    image[i] = static_cast<ptrdiff_t>(in.shape[i]);
  if (bw_shift_output_shape(&r.shift, image, out, &err) != BW_OK)
    StepFail(s, err.message);
  r.node.image = true;
  r.node.ndim = nd;
  r.node.dtype = BW_F32;
  r.node.channels = nd;
  r.node.color = BW_TIFF_CHANNELS;
  for (int i = 0; i < nd; ++i)
  {
    r.node.shape[i] = out[i];
    r.node.spacing[i] = in.spacing[i] * static_cast<double>(r.shift.block[i]);
  }
}

/** The denoised image has its input's geometry, in float32; every
 * parameter is checked by the core's own check. */
void
ResolveDenoiseStep(const Step & s, const NodeInfo & in, ResolvedStep & r)
{
  bw_nlm_params & p = r.nlm;
  bw_nlm_params_init(&p, in.ndim, std::isnan(s.sigma) && s.noise != "gaussian" ? 0.0 : s.sigma);
  PerAxis(s, "patch radius", s.patch, in.ndim, p.patch);
  PerAxis(s, "search radius", s.search, in.ndim, p.search);
  if (s.noise == "gaussian")
  {
    p.noise = BW_NLM_GAUSSIAN;
    if (std::isnan(s.sigma))
      StepUsage(s, "Gaussian noise needs its standard deviation, sigma");
  }
  else if (s.noise == "poisson-gaussian")
    p.noise = BW_NLM_POISSON_GAUSSIAN;
  else
    StepUsage(s, "unknown noise model '" + s.noise + "' (gaussian or poisson-gaussian)");
  p.h = s.h;
  p.gain = s.gain;
  p.offset = s.offset;
  p.read_sigma = s.read_sigma;
  bw_error err;
  if (bw_nlm_params_check(&p, &err) != BW_OK)
    StepUsage(s, err.message);
  r.node = in;
  r.node.dtype = BW_F32;
}

/** One channel of @in: as it is when it has one (and the step asks for
 * none in particular, or for channel 0), else through the core's
 * conversion, checked by the core.  @input names the image in messages;
 * @option is how the user chooses ("--channel" or "channel"). */
namespace
{

/** "DAPI, GFP, channel 2": the names of a file's channels. */
std::string
NamesText(const std::vector<std::string> & names)
{
  std::string out;
  for (size_t c = 0; c < names.size(); ++c)
    out += (c ? ", " : "") + (names[c].empty() ? "channel " + std::to_string(c) : names[c]);
  return out;
}

} // namespace

void
ResolveChannelStep(const Step & s, const NodeInfo & in, const std::string & input, const char * option,
                   ResolvedStep & r)
{
  r.node = in;
  r.node.channels = 1;
  r.node.color = BW_TIFF_GREY;
  const std::string & name = s.channel.empty() ? std::string("auto") : s.channel;
  if (in.channels == 1 && (name == "auto" || name == "0"))
  {
    r.pass = true;
    return;
  }
  bw_channel_params & p = r.channel;
  bw_channel_params_init(&p);
  if (name == "auto")
  {
    if (in.color != BW_TIFF_RGB && in.color != BW_TIFF_RGBA)
      StepUsage(s, input + " has " + std::to_string(in.channels) + " channels: choose one with " + option +
                     " (0 to " + std::to_string(in.channels - 1) +
                     (in.channel_names.empty() ? std::string() : ", or " + NamesText(in.channel_names)) + ")");
  }
  else
  {
    bw_error err;
    // A channel the file names (OME-XML: "DAPI"), before the core's names.
    int named = -1;
    for (size_t c = 0; c < in.channel_names.size() && named < 0; ++c)
      if (!in.channel_names[c].empty() && strcasecmp(in.channel_names[c].c_str(), name.c_str()) == 0)
        named = static_cast<int>(c);
    if (named >= 0)
    {
      p.op = BW_CHANNEL_INDEX;
      p.index = named;
    }
    else if (bw_channel_from_name(name.c_str(), &p, &err) != BW_OK)
      StepUsage(s, in.channel_names.empty() ? std::string(err.message)
                                            : std::string(err.message) + ", or a channel the file names (" +
                                                NamesText(in.channel_names) + ")");
  }
  if (p.op != BW_CHANNEL_INDEX && in.color != BW_TIFF_RGB && in.color != BW_TIFF_RGBA)
    StepUsage(s, input + (in.channels == 1 ? " is grey" : " has " + ChannelsText(in)) + ", not RGB: " + bw_channel_op_name(p.op) +
                   " needs red, green and blue; choose a channel number (0 to " + std::to_string(in.channels - 1) +
                   ")");
  p.white = s.white;
  // Samples of fewer bits than their type (12-bit cameras): white is the
  // largest value they hold, not the type's.
  const bool integer = in.dtype != BW_F32 && in.dtype != BW_F64;
  if (p.white == 0 && integer && in.bits > 0 && in.bits < 8 * static_cast<int>(bw_dtype_size(in.dtype)))
    p.white = std::ldexp(1.0, in.bits) - 1;
  bw_error err;
  if (bw_channel_params_check(&p, in.channels, &err) != BW_OK)
    StepUsage(s, input + ": " + err.message);
  r.node.dtype = p.op == BW_CHANNEL_INDEX ? in.dtype : BW_F32;
}

} // namespace blockwise_cli
