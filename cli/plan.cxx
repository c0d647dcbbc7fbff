/*
 * Validation of a whole pipeline before any pixel moves: names, wiring,
 * parameters, and the geometry each step makes, from the files' headers.
 */
#include "plan.h"
#include "resolve_steps.h"

#include "bw_tiff.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace blockwise_cli
{

const char *
OpName(Op op)
{
  static const char * const names[] = { "read",    "corr",    "stats",   "write", "heatmap",
                                        "summary", "denoise", "channel", "local", "shift", "deconvolve" };
  const size_t              k = static_cast<size_t>(op);
  return k < sizeof names / sizeof names[0] ? names[k] : "invalid";
}

std::string
DTypeName(bw_dtype dtype)
{
  static const char * const names[] = { "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64" };
  const int                 k = static_cast<int>(dtype) - BW_U8;
  return k >= 0 && k < 8 ? names[k] : "invalid";
}

const StepField<double> kDenoiseNumbers[5] = { { "sigma", &Step::sigma },
                                                { "h", &Step::h },
                                                { "gain", &Step::gain },
                                                { "offset", &Step::offset },
                                                { "read_sigma", &Step::read_sigma } };
const StepField<std::vector<int64_t>> kDenoiseSizes[2] = { { "patch", &Step::patch }, { "search", &Step::search } };

std::string
OptionOf(const char * key)
{
  std::string option = std::string("--") + key;
  std::replace(option.begin(), option.end(), '_', '-');
  return option;
}

Step
MakeStep(const std::string & name, Op op, const std::vector<std::string> & inputs)
{
  Step s;
  s.name = name;
  s.op = op;
  s.inputs = inputs;
  return s;
}

Step
ReadStep(const std::string & name, const std::string & path)
{
  Step s = MakeStep(name, Op::Read, {});
  s.path = path;
  return s;
}

Step
ChannelStep(const std::string & name, const std::string & input, const std::string & channel)
{
  Step s = MakeStep(name, Op::Channel, { input });
  s.channel = channel;
  return s;
}

bw_dtype
ReadType(bw_dtype file, int channels, bool convert, const bw_channel_params & channel)
{
  return convert && channels > 1 && channel.op != BW_CHANNEL_INDEX ? BW_F32 : file;
}

std::string
ChannelsText(const NodeInfo & node)
{
  if (node.channels == 1)
    return "grey";
  if (node.color == BW_TIFF_RGB)
    return "RGB";
  if (node.color == BW_TIFF_RGBA)
    return "RGBA";
  return std::to_string(node.channels) + " channels";
}

Step
WriteStep(const std::string & input, const std::string & path, const std::string & compression)
{
  Step s = MakeStep("write", Op::Write, { input });
  s.path = path;
  s.compression = compression;
  return s;
}

std::string
SizeText(const NodeInfo & node)
{
  std::ostringstream s;
  for (int i = node.ndim - 1; i >= 0; --i)
    s << node.shape[i] << (i ? " x " : "");
  return s.str();
}

std::string
FolderOf(const std::string & path)
{
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

uint64_t
ParseMemory(const std::string & text)
{
  const char * s = text.c_str();
  char *       end = nullptr;
  errno = 0;
  const double v = std::strtod(s, &end);
  if (end == s || errno || !(v > 0) || !std::isfinite(v))
    throw UsageError("--memory: '" + text + "' is not a size such as 256M or 2G");
  double scale = 1;
  std::string unit(end);
  if (unit == "" || unit == "B")
    scale = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB" || unit == "k")
    scale = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TiB")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    throw UsageError("--memory: unknown unit '" + unit + "' in '" + text + "' (use K, M, G or T)");
  const double bytes = v * scale;
  if (bytes < 1024 * 1024)
    throw UsageError("--memory: '" + text + "' is below the smallest budget, 1M");
  if (bytes > 9.0e18)
    throw UsageError("--memory: '" + text + "' is too large");
  return static_cast<uint64_t>(bytes);
}

namespace
{


/** @path with its folder's symbolic links and dots resolved, for telling
 * whether two spellings name one file.  The folder must exist. */
std::string
Canonical(const std::string & path)
{
  const size_t      slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  char *            folder = ::realpath(FolderOf(path).c_str(), nullptr);
  if (!folder)
    return path;
  std::string out = std::string(folder) + "/" + base;
  std::free(folder);
  // A link to a file is that file.
  if (char * full = ::realpath(out.c_str(), nullptr))
  {
    out = full;
    std::free(full);
  }
  return out;
}

bool
EndsWith(const std::string & s, const char * suffix)
{
  const size_t n = std::strlen(suffix);
  if (s.size() < n)
    return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i])
      return false;
  return true;
}

/** An output must land in an existing, writable folder, and must not replace
 * anything but a regular file. */
void
CheckOutputPath(const Step & s, const std::string & path)
{
  if (path.empty())
    StepUsage(s, "no output file given");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0)
  {
    if (S_ISDIR(st.st_mode))
      StepFail(s, "cannot write " + path + ": it is a folder");
    if (!S_ISREG(st.st_mode))
      StepFail(s, "cannot write " + path + ": it exists and is not a regular file");
  }
  const std::string folder = FolderOf(path);
  if (::stat(folder.c_str(), &st) != 0)
    StepFail(s, "cannot write " + path + ": folder " + folder + " does not exist");
  if (!S_ISDIR(st.st_mode))
    StepFail(s, "cannot write " + path + ": " + folder + " is not a folder");
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    StepFail(s, "cannot write " + path + ": folder " + folder + " is not writable");
}


/** Orders the steps so that every input comes before its consumers, and
 * reports unknown names and cycles by name. */
std::vector<size_t>
TopologicalOrder(const Pipeline & p, std::vector<std::vector<size_t>> & inputs)
{
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < p.steps.size(); ++i)
  {
    const Step & s = p.steps[i];
    if (s.name.empty())
      throw UsageError("step " + std::to_string(i + 1) + " (" + OpName(s.op) + ") has no name");
    if (!index.emplace(s.name, i).second)
      throw UsageError("two steps are named '" + s.name + "'");
  }
  inputs.assign(p.steps.size(), {});
  for (size_t i = 0; i < p.steps.size(); ++i)
    for (const std::string & in : p.steps[i].inputs)
    {
      const auto it = index.find(in);
      if (it == index.end())
        StepUsage(p.steps[i], "input '" + in + "' is not the name of a step");
      inputs[i].push_back(it->second);
    }

  std::vector<size_t> order;
  std::vector<int>    state(p.steps.size(), 0); // 0 new, 1 on the path, 2 done
  std::vector<size_t> path;
  // Depth-first, iteratively, so a long chain cannot exhaust the stack.
  for (size_t root = 0; root < p.steps.size(); ++root)
  {
    if (state[root])
      continue;
    std::vector<std::pair<size_t, size_t>> stack{ { root, 0 } };
    state[root] = 1;
    path.assign(1, root);
    while (!stack.empty())
    {
      auto & top = stack.back();
      if (top.second < inputs[top.first].size())
      {
        const size_t next = inputs[top.first][top.second++];
        if (state[next] == 1)
        {
          std::string cycle = "'" + p.steps[next].name + "'";
          bool        on = false;
          for (size_t k : path)
          {
            on = on || k == next;
            if (on && k != next)
              cycle += " <- '" + p.steps[k].name + "'";
          }
          cycle += " <- '" + p.steps[next].name + "'";
          throw UsageError("steps form a cycle: " + cycle);
        }
        if (state[next] == 0)
        {
          state[next] = 1;
          stack.push_back({ next, 0 });
          path.push_back(next);
        }
      }
      else
      {
        state[top.first] = 2;
        order.push_back(top.first);
        stack.pop_back();
        path.pop_back();
      }
    }
  }
  return order;
}


/** How messages name the image of resolved step @k: by its file where it
 * comes straight from one (through channel steps), else by the step. */
std::string
ImageName(const Resolved & out, size_t k)
{
  while (out.steps[k].step->op == Op::Channel)
    k = out.steps[k].inputs[0];
  const Step & in = *out.steps[k].step;
  return in.op == Op::Read ? in.path : "'" + in.name + "'";
}

/** A channel step whose input is a TIFF read that nothing else takes is
 * made by the reader while it decodes (no image of the file's channels);
 * NRRD and whole-slide files keep the channel filter. */
std::vector<int>
Consumers(const Resolved & out)
{
  std::vector<int> consumers(out.steps.size(), 0);
  for (const ResolvedStep & r : out.steps)
    for (size_t in : r.inputs)
      ++consumers[in];
  return consumers;
}

void
FuseChannels(Resolved & out)
{
  const std::vector<int> consumers = Consumers(out);
  for (ResolvedStep & r : out.steps)
  {
    if (r.step->op != Op::Channel || r.pass)
      continue;
    ResolvedStep & read = out.steps[r.inputs[0]];
    if (read.step->op != Op::Read || consumers[r.inputs[0]] != 1 || IsNrrdPath(read.step->path) ||
        IsSlidePath(read.step->path))
      continue;
    read.fused = r.fused = true;
    read.channel = r.channel;
    read.fused_type = r.node.dtype;
  }
}

/** A Corr or Stats step over reads of 2-D tiled TIFFs that nothing else
 * takes, each directly or through a channel step (fused into the read, or
 * passing a grey image on), with the same tiles and element type: one
 * pass over the tiles computes it (tiled_blocks.h). */
void
TileDrivenBlocks(Resolved & out)
{
  const std::vector<int> consumers = Consumers(out);
  for (ResolvedStep & r : out.steps)
  {
    if ((r.step->op != Op::Corr && r.step->op != Op::Stats) || r.params.ndim != 2)
      continue;
    bool                 ok = true;
    std::vector<size_t>  chain;
    const ResolvedStep * first = nullptr;
    for (size_t in : r.inputs)
    {
      size_t k = in;
      chain.push_back(k);
      if (out.steps[k].step->op == Op::Channel && (out.steps[k].fused || out.steps[k].pass) && consumers[k] == 1)
      {
        k = out.steps[k].inputs[0];
        chain.push_back(k);
      }
      const ResolvedStep & read = out.steps[k];
      ok = ok && read.step->op == Op::Read && consumers[k] == 1 && !IsNrrdPath(read.step->path) &&
           !IsSlidePath(read.step->path) && read.node.ndim == 2 && read.node.tile_width > 0 &&
           (read.node.channels == 1 || read.fused) && out.steps[in].node.dtype == out.steps[r.inputs[0]].node.dtype;
      // The element type the block step takes must be the one the reader
      // makes, as it is in the pipeline (no cast between them).
      ok = ok && ReadType(read.node.dtype, read.node.channels, read.fused, read.channel) == out.steps[in].node.dtype;
      if (ok && first != nullptr)
        ok = read.node.tile_width == first->node.tile_width && read.node.tile_length == first->node.tile_length;
      first = ok && first == nullptr ? &read : first;
    }
    if (!ok)
      continue;
    r.tiled = true;
    for (size_t k : chain)
      out.steps[k].tiled = true;
  }
}

size_t
ExpectedInputs(Op op)
{
  switch (op)
  {
    case Op::Read:
      return 0;
    case Op::Corr:
    case Op::Shift:
    case Op::Deconvolve:
      return 2;
    default:
      return 1;
  }
}

} // namespace

namespace
{

Resolved
ResolveSteps(const Pipeline & p)
{
  if (p.steps.empty())
    throw UsageError("the pipeline has no steps");
  std::vector<std::vector<size_t>> inputs;
  const std::vector<size_t>        order = TopologicalOrder(p, inputs);

  Resolved                 out;
  std::vector<size_t>      position(p.steps.size());
  std::map<std::string, std::string> outputs; // path -> step name
  std::map<std::string, std::string> reads;   // path -> step name
  for (size_t k = 0; k < order.size(); ++k)
    position[order[k]] = k;
  for (size_t k = 0; k < order.size(); ++k)
  {
    const Step & s = p.steps[order[k]];
    ResolvedStep r;
    r.step = &s;
    // A heatmap of a displacement field may take, second, a map drawn
    // under it (the fixed image's block means: a thumbnail).
    const bool over_shift = s.op == Op::Heatmap && !inputs[order[k]].empty() &&
                            p.steps[inputs[order[k]][0]].op == Op::Shift;
    if (s.op == Op::Local && (s.inputs.size() == 1 || s.inputs.size() == 2))
      ; // one image, or a pair
    else if (over_shift && (s.inputs.size() == 1 || s.inputs.size() == 2))
      ; // a field, or a field over a map
    else if (s.inputs.size() != ExpectedInputs(s.op))
      StepUsage(s, "takes " + std::to_string(ExpectedInputs(s.op)) + " input" +
                     (ExpectedInputs(s.op) == 1 ? "" : "s") + ", not " + std::to_string(s.inputs.size()));
    for (size_t in : inputs[order[k]])
    {
      r.inputs.push_back(position[in]);
      const NodeInfo & node = out.steps[position[in]].node;
      if (!node.image)
        StepUsage(s, "input '" + p.steps[in].name + "' is a " + OpName(p.steps[in].op) + " step, which makes no image");
      const bool field = p.steps[in].op == Op::Shift;
      if (field && s.op != Op::Write && s.op != Op::Summary && !(s.op == Op::Heatmap && in == inputs[order[k]][0]))
        StepUsage(s, "input '" + p.steps[in].name + "' is a displacement field (a shift step's): only write, heatmap "
                     "and summary steps take it");
      if (node.channels > 1 && s.op != Op::Channel && !field)
        StepUsage(s, "input '" + p.steps[in].name + "' has " + std::to_string(node.channels) + " channels (" +
                       ChannelsText(node) + "): make it one channel first with a channel step (luminance, od, hematoxylin, eosin, "
                       "dab, r, g, b or a channel number)");
    }
    switch (s.op)
    {
      case Op::Read:
      {
        if (s.path.empty())
          StepUsage(s, "no file given");
        try
        {
          const int level = std::isnan(s.read_resolution) ? s.read_level : LevelNearest(s.path, s.read_resolution);
          r.node = ProbeImage(s.path, level);
        }
        catch (const RuntimeError & e)
        {
          StepFail(s, e.what());
        }
        reads[Canonical(s.path)] = s.name;
        break;
      }
      case Op::Corr:
      case Op::Stats:
      case Op::Local:
      case Op::Shift:
      {
        const NodeInfo & a = out.steps[r.inputs[0]].node;
        if (r.inputs.size() == 2)
        {
          const NodeInfo & b = out.steps[r.inputs[1]].node;
          bool same = a.ndim == b.ndim;
          for (int i = 0; same && i < a.ndim; ++i)
            same = a.shape[i] == b.shape[i];
          if (!same)
          {
            // Name images by their files where they come straight from one.
            auto what = [&](size_t k) { return ImageName(out, r.inputs[k]); };
            StepFail(s, "inputs have different sizes: " + what(0) + " is " + SizeText(a) + ", " + what(1) + " is " +
                          SizeText(b));
          }
        }
        if (s.op == Op::Local)
        {
          ResolveLocalStep(s, a, r.inputs.size() == 2, r);
          break;
        }
        if (s.op == Op::Shift)
        {
          ResolveShiftStep(s, a, r);
          break;
        }
        r.stat = StatisticOf(s);
        ResolveBlockStep(s, a, r);
        break;
      }
      case Op::Write:
      {
        if (!EndsWith(s.path, ".tif") && !EndsWith(s.path, ".tiff") && !IsNrrdPath(s.path))
          StepUsage(s, "output " + (s.path.empty() ? std::string("(none)") : s.path) +
                         " must end in .tif, .tiff or .nrrd");
        const bw_tiff_compression c = CompressionOf(s);
        if (IsNrrdPath(s.path) && c != BW_TIFF_NONE && c != BW_TIFF_DEFLATE)
          StepUsage(s, "NRRD files are written uncompressed or with gzip (compression none or deflate)");
        if (!bw_tiff_compression_available(c))
          StepFail(s, "this libtiff has no " + s.compression + " codec");
        r.compression = c;
        const int top = bw_tiff_compression_max_level(c);
        if (s.level > 0 && c == BW_TIFF_NONE)
          StepUsage(s, "a compression level needs a compression (deflate or zstd); maps are written "
                       "uncompressed unless one is given");
        if (s.level > 0 && top == 0)
          StepUsage(s, s.compression + " has no compression levels (deflate and zstd have)");
        if (s.level < 0 || s.level > top)
          StepUsage(s, "compression level must be 1 to " + std::to_string(top) + " (0: the codec default), not " +
                         std::to_string(s.level));
        if (s.tile != 0 && (s.tile < 16 || s.tile % 16 != 0))
          StepUsage(s, "tile size must be a multiple of 16, not " + std::to_string(s.tile));
        CheckOutputPath(s, s.path);
        break;
      }
      case Op::Heatmap:
      {
        if (!EndsWith(s.path, ".png"))
          StepUsage(s, "output " + (s.path.empty() ? std::string("(none)") : s.path) + " must end in .png");
        if (!(s.range_lo < s.range_hi) || !std::isfinite(s.range_lo) || !std::isfinite(s.range_hi))
          StepUsage(s, "the colour range must be two finite numbers, low < high");
        if (s.scale < 0 || s.scale > 64)
          StepUsage(s, "scale must be 0 (automatic) to 64 pixels per block");
        if (r.inputs.size() == 2)
        {
          // The map under a field covers the same image: its blocks tile
          // the field's input, whatever their size.
          const ResolvedStep & field = out.steps[r.inputs[0]];
          const ResolvedStep & under = out.steps[r.inputs[1]];
          const NodeInfo &     image = out.steps[field.inputs[0]].node;
          bool                 same = under.step->op == Op::Stats && under.node.ndim == image.ndim;
          for (int d = 0; same && d < image.ndim; ++d)
          {
            const int64_t b = under.params.block[d];
            same = under.params.edge == BW_EDGE_PARTIAL && (image.shape[d] + b - 1) / b == under.node.shape[d] &&
                   out.steps[under.inputs[0]].node.shape[d] == image.shape[d];
          }
          if (!same)
            StepUsage(s, "the map under a displacement field must be a stats step (partial edges) over an image of "
                         "the size of the field's input, " + SizeText(image));
        }
        CheckOutputPath(s, s.path);
        break;
      }
      case Op::Summary:
        if (!std::isfinite(s.threshold))
          StepUsage(s, "the threshold must be a finite number");
        break;
      case Op::Denoise:
        ResolveDenoiseStep(s, out.steps[r.inputs[0]].node, r);
        break;
      case Op::Deconvolve:
        ResolveDeconvolveStep(s, out.steps[r.inputs[0]].node, out.steps[r.inputs[1]], r);
        break;
      case Op::Channel:
      {
        ResolveChannelStep(s, out.steps[r.inputs[0]].node, ImageName(out, r.inputs[0]),
                           p.name_steps ? "channel" : "--channel", r);
        break;
      }
    }
    if (s.op == Op::Write || s.op == Op::Heatmap)
    {
      const auto seen = outputs.emplace(Canonical(s.path), s.name);
      if (!seen.second)
        StepUsage(s, "writes " + s.path + ", as step '" + seen.first->second + "' does");
    }
    out.steps.push_back(r);
  }
  FuseChannels(out);
  TileDrivenBlocks(out);
  for (const auto & o : outputs)
  {
    const auto it = reads.find(o.first);
    if (it != reads.end())
    {
      const Step * writer = nullptr;
      for (const Step & st : p.steps)
        if (st.name == o.second)
          writer = &st;
      StepUsage(*writer, "would overwrite " + writer->path + ", which is read as '" + it->second + "'");
    }
  }
  return out;
}

} // namespace

Resolved
Resolve(const Pipeline & p)
{
  try
  {
    return ResolveSteps(p);
  }
  catch (const StepError & e)
  {
    const std::string message =
      (p.name_steps ? "step '" + e.step->name + "' (" + OpName(e.step->op) + "): " : std::string()) + e.what;
    if (e.usage)
      throw UsageError(message);
    throw RuntimeError(message);
  }
}

} // namespace blockwise_cli
