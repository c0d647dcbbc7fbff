/*
 * Running a pipeline: plan it, run the ITK engine for its dimension with
 * every output under a temporary name, then move all outputs into place, or
 * remove them all on failure.
 */
#include "engine.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

namespace blockwise_cli
{

namespace
{

/** "dir/.name.<pid>.part.ext": hidden, in the output's folder so the final
 * rename stays on one file system, with the extension the format needs. */
std::string
TempPath(const std::string & path)
{
  const size_t      slash = path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t      dot = base.find_last_of('.');
  const std::string ext = dot == std::string::npos ? "" : base.substr(dot);
  return folder + "." + base + "." + std::to_string(static_cast<long>(::getpid())) + ".part" + ext;
}

/** A bar on stderr, redrawn when the whole percentage changes. */
class ProgressBar
{
public:
  void
  operator()(double fraction, const std::string & what)
  {
    const int percent = static_cast<int>(fraction * 100.0 + 1e-9);
    if (percent == m_Last && what == m_What)
      return;
    m_Last = percent;
    m_What = what;
    const int width = 30, filled = percent * width / 100;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::string label = what.size() > 40 ? "..." + what.substr(what.size() - 37) : what;
    std::fprintf(stderr, "\r[%s] %3d%% %-40s", bar.c_str(), percent, label.c_str());
    std::fflush(stderr);
    m_Drawn = true;
  }
  ~ProgressBar()
  {
    if (m_Drawn)
    {
      std::fprintf(stderr, "\r%*s\r", 80, "");
      std::fflush(stderr);
    }
  }

private:
  int         m_Last = -1;
  std::string m_What;
  bool        m_Drawn = false;
};

volatile std::sig_atomic_t g_Interrupted = 0;

extern "C" void
OnInterrupt(int sig)
{
  g_Interrupted = 1;
  std::signal(sig, SIG_DFL); // a second one ends the process at once
}

/** Catches SIGINT, SIGTERM and SIGHUP while it lives, so that a run stops
 * at its next piece and removes its temporary files. */
class InterruptGuard
{
public:
  InterruptGuard()
  {
    g_Interrupted = 0;
    for (int k = 0; k < 3; ++k)
      m_Old[k] = std::signal(kSignals[k], OnInterrupt);
  }
  ~InterruptGuard()
  {
    for (int k = 0; k < 3; ++k)
      std::signal(kSignals[k], m_Old[k] == SIG_ERR ? SIG_DFL : m_Old[k]);
  }

private:
  static constexpr int kSignals[3] = { SIGINT, SIGTERM, SIGHUP };
  void (*m_Old[3])(int);
};
constexpr int InterruptGuard::kSignals[3];

} // namespace

std::vector<MapSummary>
Execute(const Resolved & plan, const RunOptions & options)
{
  int            ndim = 0;
  std::string    first;
  for (const ResolvedStep & r : plan.steps)
  {
    if (!r.node.image)
      continue;
    if (ndim && r.node.ndim != ndim)
      throw UsageError("step '" + r.step->name + "' makes a " + std::to_string(r.node.ndim) + "-D image and step '" +
                       first + "' a " + std::to_string(ndim) + "-D one: a pipeline works in one dimension");
    if (!ndim)
    {
      ndim = r.node.ndim;
      first = r.step->name;
    }
  }

  EngineJob job;
  job.plan = &plan;
  job.options = options;
  for (size_t i = 0; i < plan.steps.size(); ++i)
  {
    const Op op = plan.steps[i].step->op;
    if (op == Op::Write || op == Op::Heatmap)
      job.temp_paths[i] = TempPath(plan.steps[i].step->path);
  }
  auto remove_temps = [&job]() {
    for (const auto & t : job.temp_paths)
      std::remove(t.second.c_str());
  };

  std::vector<MapSummary> summaries;
  InterruptGuard          guard;
  job.interrupted = &g_Interrupted;
  {
    ProgressBar bar;
    int slicer_percent = -1;
    if (options.progress)
      job.progress = [&bar](double f, const std::string & what) { bar(f, what); };
    else if (options.slicer_progress)
      job.progress = [&slicer_percent](double f, const std::string &) {
        const int percent = static_cast<int>(f * 100.0 + 1e-9);
        if (percent == slicer_percent)
          return;
        slicer_percent = percent;
        std::printf("<filter-progress>%.2f</filter-progress>\n", percent / 100.0);
        std::fflush(stdout);
      };
    try
    {
      summaries = ndim == 3 ? RunEngine3(job) : RunEngine2(job);
    }
    catch (...)
    {
      remove_temps();
      if (g_Interrupted)
        throw Interrupted();
      throw;
    }
  }
  if (g_Interrupted)
  {
    remove_temps();
    throw Interrupted();
  }

  // Nothing but a regular file may be replaced: check every target before
  // the first rename, so that a refusal leaves no output behind.
  for (const auto & t : job.temp_paths)
  {
    const std::string & final_path = plan.steps[t.first].step->path;
    struct stat         st;
    if (::lstat(final_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    {
      remove_temps();
      throw RuntimeError("cannot write " + final_path + ": it exists and is not a regular file");
    }
  }
  for (auto t = job.temp_paths.begin(); t != job.temp_paths.end(); ++t)
  {
    const std::string & final_path = plan.steps[t->first].step->path;
    if (std::rename(t->second.c_str(), final_path.c_str()) != 0)
    {
      const std::string why = std::strerror(errno);
      for (auto rest = t; rest != job.temp_paths.end(); ++rest)
        std::remove(rest->second.c_str());
      throw RuntimeError("cannot move the finished " + final_path + " into place: " + why);
    }
  }
  return summaries;
}

} // namespace blockwise_cli
