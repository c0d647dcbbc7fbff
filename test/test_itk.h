/*
 * The ITK layer's test driver: tests are named functions in tables, one
 * table per source file; `blockwise_itk_tests NAME` runs one of them.
 * The source files compile as one unity translation unit, and each also
 * on its own: what two of them share is here or in a header of its own.
 */
#ifndef BLOCKWISE_TEST_ITK_H
#define BLOCKWISE_TEST_ITK_H

#include "itkMacro.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace blockwise_test
{
extern int failures;

/* splitmix64's finaliser: well-mixed 64-bit values from a seed or a
 * counter, the same on every platform, for test images. */
inline uint64_t
mix(uint64_t x)
{
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

struct Entry
{
  const char * name;
  void (*run)();
};

extern const Entry filter_tests[];
extern const Entry param_tests[];
extern const Entry nlm_tests[];
extern const Entry io_tests[];
extern const Entry io_error_tests[];
extern const Entry openslide_tests[];
extern const Entry channel_tests[];
extern const Entry local_tests[];
extern const Entry deconv_tests[]; // when built with the deconvolution library
} // namespace blockwise_test

/* Reports a failed condition and leaves the (void) test function. */
#define CHECK(cond, ...)                                                                                               \
  do                                                                                                                   \
  {                                                                                                                    \
    if (!(cond))                                                                                                       \
    {                                                                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                                   \
      std::fprintf(stderr, __VA_ARGS__);                                                                               \
      std::fprintf(stderr, "\n");                                                                                      \
      ++blockwise_test::failures;                                                                                      \
      return;                                                                                                          \
    }                                                                                                                  \
  } while (0)

namespace blockwise_test
{
/* Runs `update`; passes if it throws an itk::ExceptionObject whose message
 * contains every string of `words`. */
inline void
expectThrow(const char * what, const std::function<void()> & update, const std::vector<std::string> & words)
{
  try
  {
    update();
  }
  catch (const itk::ExceptionObject & e)
  {
    const std::string msg = e.GetDescription();
    for (const auto & w : words)
      CHECK(msg.find(w) != std::string::npos, "%s: message \"%s\" lacks \"%s\"", what, msg.c_str(), w.c_str());
    return;
  }
  CHECK(false, "%s: no exception", what);
}
} // namespace blockwise_test

#endif
