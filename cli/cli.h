/*
 * The subcommands that live outside main.cxx.
 */
#ifndef BLOCKWISE_CLI_CLI_H
#define BLOCKWISE_CLI_CLI_H

#include "pipeline.h"

#include <string>

namespace blockwise_cli
{

/**
 * A 3D Slicer command-line module, "corr" or "stats": the program run under
 * the name blockwise-corr or blockwise-stats.  --xml prints its Slicer
 * Execution Model description.
 */
int
SlicerModule(const std::string & module, int argc, char ** argv);

/** `blockwise run PIPELINE.json [--dry-run]`. */
int
RunCommand(int argc, char ** argv);

/** `blockwise info FILE [--json]` (info.cxx): the exit status. */
int
Info(int argc, char ** argv);

/**
 * Reads a pipeline file: syntax errors name the line and column, and every
 * step is checked for its operation, its inputs and the names and types of
 * its parameters (UsageError naming the step).  Relative paths are taken
 * from the file's folder.
 */
Pipeline
LoadPipeline(const std::string & path);

} // namespace blockwise_cli

#endif
