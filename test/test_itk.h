/*
 * The ITK layer's test driver: tests are named functions in tables, one
 * table per source file; `blockwise_itk_tests NAME` runs one of them.
 */
#ifndef BLOCKWISE_TEST_ITK_H
#define BLOCKWISE_TEST_ITK_H

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>

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
extern const Entry io_tests[];
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

#endif
