/*
 * Pipeline files: JSON, read with jansson, checked step by step before
 * anything runs.
 *
 *   { "steps": [
 *       { "name": "a", "op": "read", "path": "a.tif" },
 *       { "name": "b", "op": "read", "path": "b.tif" },
 *       { "name": "r", "op": "corr", "inputs": ["a", "b"], "block": 10 },
 *       { "name": "save", "op": "write", "input": "r", "path": "r.tif" },
 *       { "name": "picture", "op": "heatmap", "input": "r", "path": "r.png" },
 *       { "name": "numbers", "op": "summary", "input": "r", "threshold": 0.5 } ] }
 */
#include "args.h"
#include "cli.h"
#include "plan.h"

#include <jansson.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <unistd.h>

namespace blockwise_cli
{

namespace
{

using JsonPtr = std::unique_ptr<json_t, void (*)(json_t *)>;

const char *
JsonTypeName(const json_t * v)
{
  switch (json_typeof(v))
  {
    case JSON_OBJECT:
      return "an object";
    case JSON_ARRAY:
      return "an array";
    case JSON_STRING:
      return "a string";
    case JSON_INTEGER:
      return "an integer";
    case JSON_REAL:
      return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
      return "a boolean";
    case JSON_NULL:
      return "null";
  }
  return "a value";
}

/** Reads one step's parameters, each at most once, and complains about the rest. */
class StepReader
{
public:
  StepReader(const json_t * object, const std::string & label)
    : m_Object(object)
    , m_Label(label)
  {}

  /** Names the step in later messages, once its name is known. */
  void
  SetLabel(const std::string & label)
  {
    m_Label = label;
  }

  [[noreturn]] void
  Fail(const std::string & what) const
  {
    throw UsageError(m_Label + ": " + what);
  }

  const json_t *
  Take(const char * key)
  {
    m_Used.insert(key);
    return json_object_get(m_Object, key);
  }

  /** The value of @key if present: it must be of the JSON type @is tells,
   * named @what in the message. */
  const json_t *
  Typed(const char * key, int (*is)(const json_t *), const char * what)
  {
    const json_t * v = this->Take(key);
    if (v && !is(v))
      Fail(std::string("'") + key + "' must be " + what + ", not " + JsonTypeName(v));
    return v;
  }

  bool
  String(const char * key, std::string & out)
  {
    const json_t * v = this->Typed(key, [](const json_t * j) { return json_is_string(j) ? 1 : 0; }, "a string");
    if (v)
      out = json_string_value(v);
    return v != nullptr;
  }

  bool
  Number(const char * key, double & out)
  {
    const json_t * v = this->Typed(key, [](const json_t * j) { return json_is_number(j) ? 1 : 0; }, "a number");
    if (v)
      out = json_number_value(v);
    return v != nullptr;
  }

  bool
  Integer(const char * key, long long lo, long long hi, int & out)
  {
    const json_t * v = this->Typed(key, [](const json_t * j) { return json_is_integer(j) ? 1 : 0; }, "an integer");
    if (!v)
      return false;
    const json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
      Fail(std::string("'") + key + "' must be " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
           std::to_string(static_cast<long long>(i)));
    out = static_cast<int>(i);
    return true;
  }

  /** An integer, or an array of 1 to 3 integers. */
  bool
  Sizes(const char * key, std::vector<int64_t> & out)
  {
    const json_t * v = this->Take(key);
    if (!v)
      return false;
    const std::string what = std::string("'") + key + "' must be an integer or an array of 1 to 3 integers";
    out.clear();
    if (json_is_integer(v))
      out.push_back(json_integer_value(v));
    else if (json_is_array(v) && json_array_size(v) >= 1 && json_array_size(v) <= 3)
    {
      for (size_t i = 0; i < json_array_size(v); ++i)
      {
        const json_t * e = json_array_get(v, i);
        if (!json_is_integer(e))
          Fail(what + " (element " + std::to_string(i + 1) + " is " + JsonTypeName(e) + ")");
        out.push_back(json_integer_value(e));
      }
    }
    else
      Fail(what + ", not " + JsonTypeName(v));
    return true;
  }

  void
  CheckAllUsed() const
  {
    const char * key;
    json_t *     value;
    json_object_foreach(const_cast<json_t *>(m_Object), key, value)
    {
      (void)value;
      if (!m_Used.count(key))
        Fail(std::string("unknown parameter '") + key + "'");
    }
  }

private:
  const json_t *        m_Object;
  std::string           m_Label;
  std::set<std::string> m_Used;
};

std::string
RelativeTo(const std::string & folder, const std::string & path)
{
  if (path.empty() || path[0] == '/' || folder == ".")
    return path;
  return folder + "/" + path;
}

Step
ParseStep(const json_t * object, size_t index, const std::string & folder)
{
  std::string label = "step " + std::to_string(index + 1);
  if (!json_is_object(object))
    throw UsageError(label + ": must be an object, not " + JsonTypeName(object));
  StepReader reader(object, label);
  Step       s;
  if (!reader.String("name", s.name))
    reader.Fail("has no \"name\"");
  if (s.name.empty())
    reader.Fail("\"name\" is empty");
  reader.SetLabel("step '" + s.name + "'");

  std::string op;
  if (!reader.String("op", op))
    reader.Fail("has no \"op\" (read, channel, corr, stats, local, shift, denoise, deconvolve, write, heatmap or summary)");
  bool known = false;
  for (Op candidate :
       { Op::Read, Op::Channel, Op::Corr, Op::Stats, Op::Local, Op::Shift, Op::Denoise, Op::Deconvolve, Op::Write,
         Op::Heatmap, Op::Summary })
    if (op == OpName(candidate))
    {
      s.op = candidate;
      known = true;
    }
  if (!known)
    reader.Fail("unknown op '" + op + "' (read, channel, corr, stats, local, shift, denoise, deconvolve, write, heatmap or summary)");

  // Inputs: "input": "name", or "inputs": ["a", "b"].
  const json_t * input = reader.Take("input");
  const json_t * inputs = reader.Take("inputs");
  if (input && inputs)
    reader.Fail("give \"input\" or \"inputs\", not both");
  if (input)
  {
    if (!json_is_string(input))
      reader.Fail(std::string("'input' must be a step's name, not ") + JsonTypeName(input));
    s.inputs.push_back(json_string_value(input));
  }
  if (inputs)
  {
    if (!json_is_array(inputs))
      reader.Fail(std::string("'inputs' must be an array of step names, not ") + JsonTypeName(inputs));
    for (size_t i = 0; i < json_array_size(inputs); ++i)
    {
      const json_t * e = json_array_get(inputs, i);
      if (!json_is_string(e))
        reader.Fail("'inputs' must hold step names, element " + std::to_string(i + 1) + " is " + JsonTypeName(e));
      s.inputs.push_back(json_string_value(e));
    }
  }

  switch (s.op)
  {
    case Op::Read:
      reader.String("path", s.path);
      s.path = RelativeTo(folder, s.path);
      reader.Integer("level", 0, 1000, s.read_level); // the file's levels are checked by the plan
      {
        std::string resolution;
        reader.String("resolution", resolution);
        if (!resolution.empty())
        {
          try
          {
            s.read_resolution = ParseLength("resolution", resolution);
          }
          catch (const UsageError & e)
          {
            reader.Fail(e.what());
          }
        }
      }
      break;
    case Op::Corr:
    case Op::Stats:
    {
      reader.Sizes("block", s.block);
      reader.String("edge", s.edge);
      reader.Integer("ddof", 0, 1, s.ddof);
      reader.String("type", s.type);
      if (s.op == Op::Corr)
      {
        reader.String("statistic", s.statistic);
        double fill = 0;
        if (reader.Number("fill", fill))
          s.fill = fill;
      }
      else
        reader.String("stat", s.statistic);
      break;
    }
    case Op::Local:
    {
      reader.Sizes("radius", s.radius);
      reader.Sizes("step", s.stride);
      reader.String("stat", s.statistic);
      reader.Integer("ddof", 0, 1, s.ddof);
      reader.String("type", s.type);
      double fill = 0;
      if (reader.Number("fill", fill))
        s.fill = fill;
      break;
    }
    case Op::Shift:
    {
      reader.Sizes("block", s.block);
      reader.Sizes("search", s.search);
      double fill = 0;
      if (reader.Number("fill", fill))
        s.fill = fill;
      break;
    }
    case Op::Write:
      reader.String("path", s.path);
      s.path = RelativeTo(folder, s.path);
      reader.String("compression", s.compression);
      reader.Integer("level", 0, 99, s.level); // the scheme's range is checked by the plan
      reader.Integer("tile", 0, 1 << 16, s.tile);
      break;
    case Op::Heatmap:
    {
      reader.String("path", s.path);
      s.path = RelativeTo(folder, s.path);
      const json_t * range = reader.Take("range");
      if (range)
      {
        if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_number(json_array_get(range, 0)) ||
            !json_is_number(json_array_get(range, 1)))
          reader.Fail("'range' must be an array of two numbers, [low, high]");
        s.range_lo = json_number_value(json_array_get(range, 0));
        s.range_hi = json_number_value(json_array_get(range, 1));
      }
      reader.Integer("scale", 0, 64, s.scale);
      break;
    }
    case Op::Summary:
      reader.Number("threshold", s.threshold);
      break;
    case Op::Channel:
      reader.String("channel", s.channel);
      reader.Number("white", s.white);
      break;
    case Op::Deconvolve:
    {
      reader.Integer("iterations", 0, 100000, s.iterations);
      reader.String("boundary", s.boundary);
      const json_t * acc = reader.Typed("accelerate", [](const json_t * j) { return json_is_boolean(j) ? 1 : 0; },
                                        "true or false");
      if (acc)
        s.accelerate = json_is_true(acc);
      reader.Number("tv", s.tv);
      reader.Number("epsilon", s.epsilon);
      // "auto", "exact", or pixels
      const json_t * halo = json_object_get(object, "halo");
      if (halo && json_is_string(halo))
        reader.String("halo", s.halo_mode);
      else
        reader.Sizes("halo", s.halo);
      break;
    }
    case Op::Denoise:
      reader.String("noise", s.noise);
      for (const auto & f : kDenoiseNumbers)
        reader.Number(f.key, s.*f.field);
      for (const auto & f : kDenoiseSizes)
        reader.Sizes(f.key, s.*f.field);
      break;
  }
  reader.CheckAllUsed();
  return s;
}

/** A total-variation weight as the user wrote it (%g). */
std::string
TvText(double tv)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", tv);
  return buf;
}

std::string
StepLine(const ResolvedStep & r, const Resolved & plan)
{
  const Step & s = *r.step;
  std::string  ins;
  for (size_t i = 0; i < r.inputs.size(); ++i)
    ins += (i ? ", " : "") + plan.steps[r.inputs[i]].step->name;
  const std::string image = r.node.image ? SizeText(r.node) + " " + DTypeName(r.node.dtype) : "";
  switch (s.op)
  {
    case Op::Read:
      return "read " + s.path + (r.node.level ? " (level " + std::to_string(r.node.level) + ")" : std::string()) +
             ": " + image + (r.node.channels > 1 ? ", " + ChannelsText(r.node) : "");
    case Op::Channel:
      return (r.pass ? "channel of " + ins + ": as it is"
                     : std::string(r.channel.op == BW_CHANNEL_INDEX ? "channel " + std::to_string(r.channel.index)
                                                                    : bw_channel_op_name(r.channel.op)) +
                         " of " + ins) +
             ": " + image;
    case Op::Corr:
    case Op::Stats:
    {
      std::string block;
      for (int d = r.node.ndim - 1; d >= 0; --d)
        block += std::to_string(r.params.block[d]) + (d ? " x " : "");
      return (s.op == Op::Corr ? (r.stat == BW_STAT_COV ? "covariance" : "correlation") : s.statistic) + " of " +
             ins + " in " + block + " blocks: " + image + (r.tiled ? " (in one pass over the files' tiles)" : "");
    }
    case Op::Local:
    {
      std::string window, step;
      for (int d = r.node.ndim - 1; d >= 0; --d)
      {
        window += std::to_string(2 * r.local.radius[d] + 1) + (d ? " x " : "");
        step += std::to_string(r.local.step[d]) + (d ? " x " : "");
      }
      return std::string("local ") + bw_stat_name(r.stat) + " of " + ins + " in " + window + " windows" +
             (step.find_first_not_of("1 x") == std::string::npos ? std::string() : ", every " + step + " pixels") +
             ": " + image;
    }
    case Op::Shift:
    {
      std::string block, search;
      for (int d = r.node.ndim - 1; d >= 0; --d)
      {
        block += std::to_string(r.shift.block[d]) + (d ? " x " : "");
        search += std::to_string(r.shift.search[d]) + (d ? " x " : "");
      }
      return "displacement of " + ins + " in " + block + " blocks, search radius " + search +
             " pixels: " + SizeText(r.node) + " vectors of " + std::to_string(r.node.channels) + " " +
             DTypeName(r.node.dtype);
    }
    case Op::Deconvolve:
    {
      std::string halo;
      for (int d = r.node.ndim - 1; d >= 0; --d)
        halo += std::to_string(r.halo[d]) + (d ? " x " : "");
      return "Richardson-Lucy of " + ins + ", " + std::to_string(r.rl.iterations) + " iterations" +
             (r.rl.accelerate ? " (accelerated)" : "") +
             (r.rl.tv > 0 ? ", total variation " + TvText(r.rl.tv) : std::string()) + ", " +
             (r.rl.boundary == BW_RL_PERIODIC ? "periodic" : "non-circulant") + ", pieces grown by " + halo +
             ": " + image;
    }
    case Op::Write:
      return "write " + ins + " to " + s.path + " (" + s.compression + ")";
    case Op::Heatmap:
      return "heatmap of " + ins + " to " + s.path;
    case Op::Summary:
      return "summary of " + ins;
    case Op::Denoise:
    {
      std::string patch, search;
      for (int d = r.node.ndim - 1; d >= 0; --d)
      {
        patch += std::to_string(2 * r.nlm.patch[d] + 1) + (d ? " x " : "");
        search += std::to_string(2 * r.nlm.search[d] + 1) + (d ? " x " : "");
      }
      return "non-local means of " + ins + ", " + patch + " patches in " + search + " windows, " +
             (r.nlm.noise == BW_NLM_GAUSSIAN ? "Gaussian" : "Poisson-Gaussian") + " noise: " + image;
    }
  }
  return "";
}

} // namespace

Pipeline
LoadPipeline(const std::string & path)
{
  if (::access(path.c_str(), R_OK) != 0)
    throw RuntimeError("cannot read " + path + ": " + std::strerror(errno));
  json_error_t error;
  JsonPtr      root(json_load_file(path.c_str(), JSON_REJECT_DUPLICATES, &error), json_decref);
  if (!root)
    throw UsageError(path + ":" + std::to_string(error.line) + ":" + std::to_string(error.column) + ": " +
                     error.text);
  if (!json_is_object(root.get()))
    throw UsageError(path + ": a pipeline is an object with \"steps\", not " + JsonTypeName(root.get()));
  const char * key;
  json_t *     value;
  json_object_foreach(root.get(), key, value)
  {
    (void)value;
    if (std::strcmp(key, "steps") != 0 && std::strcmp(key, "description") != 0)
      throw UsageError(path + ": unknown key '" + key + "' (a pipeline has \"steps\" and an optional \"description\")");
  }
  const json_t * steps = json_object_get(root.get(), "steps");
  if (!steps || !json_is_array(steps))
    throw UsageError(path + ": \"steps\" must be an array of steps");
  const std::string folder = FolderOf(path);
  Pipeline          p;
  for (size_t i = 0; i < json_array_size(steps); ++i)
    p.steps.push_back(ParseStep(json_array_get(steps, i), i, folder));
  return p;
}

int
RunCommand(int argc, char ** argv)
{
  const Arguments args("run", argc, argv, WithCommon({ { "--dry-run", false } }), {});
  if (args.Has("--help"))
  {
    std::cout << "usage: blockwise run PIPELINE.json [--dry-run] [--threads N] [--memory SIZE] [--quiet]\n"
                 "\n"
                 "Runs a pipeline file: JSON with \"steps\", each with a \"name\", an \"op\" (read, corr,\n"
                 "stats, local, shift, denoise, deconvolve, write, heatmap, summary), its \"input\" or \"inputs\" by name, and its\n"
                 "parameters.  Everything is checked before any work starts; paths are\n"
                 "relative to the file's folder.  --dry-run checks and prints the plan only.\n";
    return 0;
  }
  args.ExpectPositional(1, "one pipeline file");
  const RunOptions  options = CommonOptions(args);
  const bool        dry_run = args.Has("--dry-run");
  const std::string file = args.Positional()[0];

  const Pipeline p = LoadPipeline(file);
  const Resolved plan = Resolve(p);
  if (dry_run)
  {
    for (const ResolvedStep & r : plan.steps)
      std::cout << r.step->name << ": " << StepLine(r, plan) << "\n";
    std::cout << "pipeline is valid: " << plan.steps.size() << " steps" << std::endl;
    return 0;
  }
  const std::vector<MapSummary> summaries = Execute(plan, options);
  if (!options.quiet)
  {
    for (const ResolvedStep & r : plan.steps)
      if (r.step->op == Op::Write || r.step->op == Op::Heatmap)
        std::cout << r.step->name << ": wrote " << r.step->path << "\n";
    for (const MapSummary & s : summaries)
    {
      if (s.displacement)
      {
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s: %llu blocks (%llu without a shift), shift median %.2f px, 95th percentile "
                      "%.2f px, %.1f%% moved by 0.5 px or more\n",
                      s.step.c_str(), static_cast<unsigned long long>(s.shift.blocks),
                      static_cast<unsigned long long>(s.shift.blocks - s.shift.defined), s.shift.median_px,
                      s.shift.p95_px,
                      s.shift.defined ? 100.0 * static_cast<double>(s.shift.moved) / static_cast<double>(s.shift.defined)
                                      : 0.0);
        std::cout << buf;
        continue;
      }
      std::cout << s.step << ": " << s.blocks << " blocks";
      if (s.blocks != s.finite)
        std::cout << " (" << s.blocks - s.finite << " undefined)";
      char buf[160];
      std::snprintf(buf, sizeof buf, ", median %.3f, 5th percentile %.3f, %.1f%% below %g", s.median, s.p05,
                    s.finite ? 100.0 * static_cast<double>(s.below) / static_cast<double>(s.finite) : 0.0,
                    s.threshold);
      std::cout << buf << "\n";
    }
    std::cout.flush();
  }
  return 0;
}

} // namespace blockwise_cli
