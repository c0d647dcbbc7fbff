/*
 * Command-line options of the subcommands: "--name value", "--name=value",
 * flags, short aliases, and the options every working command takes.
 */
#ifndef BLOCKWISE_CLI_ARGS_H
#define BLOCKWISE_CLI_ARGS_H

#include "pipeline.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace blockwise_cli
{

/** Options and positional arguments of one subcommand.  @known maps each
 * option to whether it takes a value; @aliases maps short names ("-o") to
 * long ones.  Unknown options, missing values and repeats are UsageErrors. */
class Arguments
{
public:
  Arguments(const std::string & command, int argc, char ** argv, const std::map<std::string, bool> & known,
            const std::map<std::string, std::string> & aliases);

  bool
  Has(const std::string & option) const;
  std::string
  Get(const std::string & option, const std::string & fallback = "") const;
  const std::vector<std::string> &
  Positional() const
  {
    return m_Positional;
  }
  /** Sets @out to the number @option gives, when it is given. */
  void
  Number(const std::string & option, double & out) const;
  /** Sets @out to the sizes @option gives ("10" or "4,16,16"), when it is given. */
  void
  Sizes(const std::string & option, std::vector<int64_t> & out) const;
  /** Throws a UsageError unless there are exactly @n positional arguments. */
  void
  ExpectPositional(size_t n, const char * what) const;

private:
  std::string                        m_Command;
  std::map<std::string, std::string> m_Values;
  std::vector<std::string>           m_Positional;
};

double
ParseNumber(const std::string & option, const std::string & text);
long
ParseInteger(const std::string & option, const std::string & text, long lo, long hi);
/** A pixel size with its unit, "2um", "0.5 µm", "500nm", "0.002mm", in
 * millimetres (the unit is required; um, µm, micron, nm, mm, cm). */
double
ParseLength(const std::string & option, const std::string & text);
/** "10" or "4,16,16": 1 to 3 integers of at least 0 (block sizes, radii),
 * for @option; the core checks what each must be. */
std::vector<int64_t>
ParseSizes(const std::string & option, const std::string & text);

/** @known plus --threads, --memory, --quiet and --help. */
std::map<std::string, bool>
WithCommon(std::map<std::string, bool> known);
/** The RunOptions those options set; a progress bar when stderr is a terminal. */
RunOptions
CommonOptions(const Arguments & args);

} // namespace blockwise_cli

#endif
