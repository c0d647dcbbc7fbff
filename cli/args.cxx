/*
 * Command-line options of the subcommands.
 */
#include "args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <unistd.h>

namespace blockwise_cli
{

Arguments::Arguments(const std::string & command, int argc, char ** argv, const std::map<std::string, bool> & known,
                     const std::map<std::string, std::string> & aliases)
  : m_Command(command)
{
  bool options_done = false;
  for (int i = 0; i < argc; ++i)
  {
    std::string a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-' || (a[1] != '-' && !aliases.count(a)))
    {
      if (a.size() >= 2 && a[0] == '-' && !options_done && !std::isdigit(static_cast<unsigned char>(a[1])))
        throw UsageError("unknown option '" + a + "' for 'blockwise " + command + "'");
      m_Positional.push_back(a);
      continue;
    }
    if (a == "--")
    {
      options_done = true;
      continue;
    }
    if (aliases.count(a))
      a = aliases.at(a);
    std::string value;
    bool        has_value = false;
    const size_t eq = a.find('=');
    if (eq != std::string::npos)
    {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    const auto it = known.find(a);
    if (it == known.end())
      throw UsageError("unknown option '" + a + "' for 'blockwise " + command + "'");
    if (it->second && !has_value)
    {
      if (i + 1 >= argc)
        throw UsageError("option " + a + " needs a value");
      value = argv[++i];
    }
    else if (!it->second && has_value)
      throw UsageError("option " + a + " takes no value");
    if (m_Values.count(a))
      throw UsageError("option " + a + " is given twice");
    m_Values[a] = value;
  }
}

bool
Arguments::Has(const std::string & option) const
{
  return m_Values.count(option) != 0;
}

std::string
Arguments::Get(const std::string & option, const std::string & fallback) const
{
  const auto it = m_Values.find(option);
  return it == m_Values.end() ? fallback : it->second;
}

void
Arguments::Number(const std::string & option, double & out) const
{
  if (this->Has(option))
    out = ParseNumber(option, this->Get(option));
}

void
Arguments::Sizes(const std::string & option, std::vector<int64_t> & out) const
{
  if (this->Has(option))
    out = ParseSizes(option, this->Get(option));
}

void
Arguments::ExpectPositional(size_t n, const char * what) const
{
  if (m_Positional.size() != n)
    throw UsageError("'blockwise " + m_Command + "' takes " + what + " (got " + std::to_string(m_Positional.size()) +
                     " file argument" + (m_Positional.size() == 1 ? "" : "s") + ")");
}

double
ParseNumber(const std::string & option, const std::string & text)
{
  char * end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || errno == ERANGE)
    throw UsageError(option + ": '" + text + "' is not a number");
  return v;
}

double
ParseLength(const std::string & option, const std::string & text)
{
  static const struct
  {
    const char * unit;
    double       mm;
  } units[] = { { "um", 1e-3 }, { "\xc2\xb5m", 1e-3 }, { "micron", 1e-3 }, { "microns", 1e-3 },
                { "nm", 1e-6 }, { "mm", 1.0 },          { "cm", 10.0 } };
  char *       end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  std::string  unit = end ? end : "";
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  if (text.empty() || end == text.c_str() || errno == ERANGE || !std::isfinite(v) || !(v > 0))
    throw UsageError(option + ": '" + text + "' is not a pixel size (e.g. 2um, 0.5um, 500nm)");
  for (const auto & u : units)
    if (unit == u.unit)
      return v * u.mm;
  throw UsageError(option + ": '" + text + "' needs a unit: um, nm, mm or cm (e.g. 2um)");
}

long
ParseInteger(const std::string & option, const std::string & text, long lo, long hi)
{
  char * end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end || errno == ERANGE)
    throw UsageError(option + ": '" + text + "' is not a whole number");
  if (v < lo || v > hi)
    throw UsageError(option + ": " + text + " is out of range (" + std::to_string(lo) + " to " +
                     std::to_string(hi) + ")");
  return v;
}

std::vector<int64_t>
ParseSizes(const std::string & option, const std::string & text)
{
  std::vector<int64_t> sizes;
  std::stringstream    in(text);
  std::string          part;
  while (std::getline(in, part, ','))
    sizes.push_back(ParseInteger(option, part, 0, 1L << 40));
  if (sizes.empty() || sizes.size() > 3 || text.back() == ',')
    throw UsageError(option + ": '" + text + "' is not 1 to 3 sizes such as 10 or 4,16,16");
  return sizes;
}

/** The options every command takes, added to its own. */
std::map<std::string, bool>
WithCommon(std::map<std::string, bool> known)
{
  known["--threads"] = true;
  known["--memory"] = true;
  known["--quiet"] = false;
  known["--help"] = false;
  return known;
}

RunOptions
CommonOptions(const Arguments & args)
{
  RunOptions o;
  if (args.Has("--threads"))
    o.threads = static_cast<int>(ParseInteger("--threads", args.Get("--threads"), 1, 1024));
  if (args.Has("--memory"))
    o.memory = ParseMemory(args.Get("--memory"));
  o.quiet = args.Has("--quiet");
  o.progress = !o.quiet && ::isatty(STDERR_FILENO);
  return o;
}

} // namespace blockwise_cli
