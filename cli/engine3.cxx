// The command's ITK pipeline for 3-D images.
#include "engine.hxx"

namespace blockwise_cli
{
std::vector<MapSummary>
RunEngine3(const EngineJob & job)
{
  return engine_detail::Engine<3>(job).Run();
}
} // namespace blockwise_cli
