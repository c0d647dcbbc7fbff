/*
 * What the benchmarks over ITK and the TIFF layer (bench_itk_pipeline,
 * bench_nlm_itk) share: their common options, a clock and medians, checks
 * of the core's status codes, TIFF files written whole, child processes
 * timed with their peak RSS, and temporary folders.
 *
 * Define BENCH_NAME, the program's name (it starts every message), before
 * including this header.
 */
#ifndef BENCH_ITK_UTIL_H
#define BENCH_ITK_UTIL_H

#include "blockwise.h"
#include "bw_tiff.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BENCH_NAME
#  error "define BENCH_NAME before including bench_itk_util.h"
#endif

namespace bench
{

/* The options these benchmarks share: --reps N, --small, --dir DIR, and
 * --variant NAME, with which a benchmark runs one variant as a child of
 * itself. */
struct Options
{
  int         reps;
  bool        small;
  std::string dir, variant;
};

/* If argv[i] is one of Options' (with its value), takes it into @o, moves
 * @i to its last word and returns true. */
inline bool
parse_option(int argc, char ** argv, int & i, Options & o)
{
  const std::string a = argv[i];
  if (a == "--reps" && i + 1 < argc)
  {
    o.reps = std::atoi(argv[++i]);
  }
  else if (a == "--small")
  {
    o.small = true;
  }
  else if (a == "--dir" && i + 1 < argc)
  {
    o.dir = argv[++i];
  }
  else if (a == "--variant" && i + 1 < argc)
  {
    o.variant = argv[++i];
  }
  else
  {
    return false;
  }
  return true;
}

/* Seconds on a monotonic clock. */
inline double
now()
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double
median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* True if @s is BW_OK; otherwise prints what failed and why. */
inline bool
check(bw_status s, const bw_error & err, const char * what)
{
  if (s == BW_OK)
  {
    return true;
  }
  std::fprintf(stderr, BENCH_NAME ": %s: %s\n", what, err.message);
  return false;
}

/* The parameters of a new TIFF file of @ndim axes of extents @shape and
 * elements of @dtype; everything else as bw_tiff_write_params_init sets it
 * (uncompressed strips). */
inline bw_tiff_write_params
tiff_params(bw_dtype dtype, int ndim, const ptrdiff_t * shape)
{
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = dtype;
  p.ndim = ndim;
  for (int i = 0; i < ndim; ++i)
  {
    p.shape[i] = shape[i];
  }
  return p;
}

/* Writes @view, whole, as the new TIFF file @path (uncompressed strips). */
inline bool
write_tiff(const std::string & path, const bw_view & view)
{
  const bw_tiff_write_params p = tiff_params(view.dtype, view.ndim, view.shape);
  bw_error                   err;
  bw_tiff_writer *           w = nullptr;
  if (!check(bw_tiff_create(path.c_str(), &p, &w, &err), err, "create"))
  {
    return false;
  }
  bw_region r{};
  for (int i = 0; i < view.ndim; ++i)
  {
    r.size[i] = view.shape[i];
  }
  if (!check(bw_tiff_write(w, &r, &view, &err), err, "write"))
  {
    bw_tiff_abort(w);
    return false;
  }
  return check(bw_tiff_finish(w, &err), err, "finish");
}

struct RunResult
{
  bool   ok;
  double seconds;
  long   maxrss_kib;
};

/* Runs args[0] with @args in a child process; times it from before fork to
 * after wait4, which also gives its peak RSS. */
inline RunResult
spawn(const std::vector<std::string> & args)
{
  std::vector<char *> argv;
  for (const auto & a : args)
  {
    argv.push_back(const_cast<char *>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  const double t0 = now();
  const pid_t  pid = fork();
  if (pid < 0)
  {
    std::perror(BENCH_NAME ": fork");
    return { false, 0, 0 };
  }
  if (pid == 0)
  {
    execv(argv[0], argv.data());
    std::fprintf(stderr, BENCH_NAME ": cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  int           status = 0;
  struct rusage ru;
  std::memset(&ru, 0, sizeof ru);
  pid_t got;
  do
  {
    got = wait4(pid, &status, 0, &ru);
  } while (got < 0 && errno == EINTR);
  const double t1 = now();
  const bool   ok = got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!ok)
  {
    std::fprintf(stderr, BENCH_NAME ": %s %s failed (%s %d)\n", args[0].c_str(),
                 args.size() > 2 ? args[2].c_str() : "", WIFSIGNALED(status) ? "signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  }
  return { ok, t1 - t0, ru.ru_maxrss };
}

/* This program's path, to run it again as a child; "" (after a message) if
 * it cannot be had. */
inline std::string
self_path()
{
  char          self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
  {
    std::perror(BENCH_NAME ": /proc/self/exe");
    return std::string();
  }
  return std::string(self, static_cast<size_t>(n));
}

/* A new folder under $TMPDIR (or /tmp); "" (after a message) if none can be
 * made. */
inline std::string
make_temp_dir()
{
  const char *      tmp = std::getenv("TMPDIR");
  const std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" BENCH_NAME ".XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
  {
    std::perror(BENCH_NAME ": mkdtemp");
    return std::string();
  }
  return std::string(buf.data());
}

/* Removes @dir and the files in it. */
inline void
remove_tree(const std::string & dir)
{
  if (DIR * d = opendir(dir.c_str()))
  {
    while (struct dirent * e = readdir(d))
    {
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
      {
        unlink((dir + "/" + e->d_name).c_str());
      }
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

} // namespace bench

#endif
