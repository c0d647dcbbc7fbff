/*
 * The parameters of one step, from the command's representation to the
 * core's, checked by the core (plan.cxx calls these once per step while it
 * resolves a pipeline).  Not installed.
 */
#ifndef BLOCKWISE_CLI_RESOLVE_STEPS_H
#define BLOCKWISE_CLI_RESOLVE_STEPS_H

#include "plan.h"

#include <string>

namespace blockwise_cli
{

/** A problem with one step; Resolve() turns it into a UsageError or a
 * RuntimeError, naming the step when the user named it. */
struct StepError
{
  const Step * step;
  bool         usage;
  std::string  what;
};

/** Throws a StepError: the user's mistake (@usage) or a fact about the
 * files. */
[[noreturn]] void StepUsage(const Step & s, const std::string & what);
[[noreturn]] void StepFail(const Step & s, const std::string & what);

/** The compression a Write step names. */
bw_tiff_compression CompressionOf(const Step & s);

/** The statistic a Corr or Stats step names, through the core's table of
 * names; Corr takes the statistics of a pair, Stats those of one image. */
bw_stat StatisticOf(const Step & s);

/** The core's block parameters of a Corr or Stats step over @in, and the
 * geometry of the map it makes. */
void ResolveBlockStep(const Step & s, const NodeInfo & in, ResolvedStep & r);

/** The core's local-window parameters of a Local step over @in (with a
 * second image of @in's size when @pair), its statistic (mean by default,
 * correlation for a pair), and the geometry of the map it makes: ceil(n /
 * step) pixels, spacing step times @in's. */
void ResolveLocalStep(const Step & s, const NodeInfo & in, bool pair, ResolvedStep & r);

/** The core's displacement parameters of a Shift step over @in (and a
 * second image of its size), and the geometry of the field it makes: a
 * vector of ndim float32 components per block, spacing block times @in's. */
void ResolveShiftStep(const Step & s, const NodeInfo & in, ResolvedStep & r);

/** The deconvolution library's parameters of a Deconvolve step over @in
 * with the PSF @psf (of @in's axes, no larger), checked by the library, and
 * its halo (the step's, or the exact one); the result has @in's geometry,
 * in float32. */
void ResolveDeconvolveStep(const Step & s, const NodeInfo & in, const ResolvedStep & psf, ResolvedStep & r);

/** The core's non-local means parameters of a Denoise step over @in; the
 * denoised image has its input's geometry, in float32. */
void ResolveDenoiseStep(const Step & s, const NodeInfo & in, ResolvedStep & r);

/** One channel of @in: as it is when it has one (and the step asks for
 * none in particular, or for channel 0), else through the core's
 * conversion, checked by the core.  @input names the image in messages;
 * @option is how the user chooses ("--channel" or "channel"). */
void ResolveChannelStep(const Step & s, const NodeInfo & in, const std::string & input, const char * option,
                        ResolvedStep & r);

} // namespace blockwise_cli

#endif
