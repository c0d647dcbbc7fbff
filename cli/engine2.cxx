// The command's ITK pipeline for 2-D images.
#include "engine.hxx"

namespace blockwise_cli
{
std::vector<MapSummary>
RunEngine2(const EngineJob & job)
{
  return engine_detail::Engine<2>(job).Run();
}
} // namespace blockwise_cli
