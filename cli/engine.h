/*
 * The ITK side of the command: builds one streamed ITK pipeline from a
 * resolved plan and runs its sinks.  Instantiated once per dimension
 * (engine2.cxx, engine3.cxx) so the two compile in parallel.
 */
#ifndef BLOCKWISE_CLI_ENGINE_H
#define BLOCKWISE_CLI_ENGINE_H

#include "plan.h"

#include <csignal>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace blockwise_cli
{

/** Progress of the whole run, 0 to 1, with what is being done. */
using ProgressFunction = std::function<void(double fraction, const std::string & what)>;

struct EngineJob
{
  const Resolved *                plan = nullptr;
  RunOptions                      options;
  std::map<size_t, std::string>   temp_paths; // resolved step index -> where its file goes first
  ProgressFunction                progress;
  /** Set (by a signal handler) when the user interrupts: the run stops at
   * the next piece and fails with "interrupted". */
  const volatile std::sig_atomic_t * interrupted = nullptr;
};

/** Runs the job; throws RuntimeError with ITK's message on failure. */
std::vector<MapSummary>
RunEngine2(const EngineJob & job);
std::vector<MapSummary>
RunEngine3(const EngineJob & job);

} // namespace blockwise_cli

#endif
