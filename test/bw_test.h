/*
 * The C tests' harness: checks, reproducible random data and the runner
 * every C test executable shares (`EXE NAME` runs one test, as CTest does;
 * no argument runs them all).
 */
#ifndef BW_TEST_H
#define BW_TEST_H

#include "blockwise.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Failed checks so far, over every translation unit of the executable. */
extern int bw_test_failures;

/** Fails the running test (and returns from the function) unless @cond;
 * the message is printf-formatted. */
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      bw_test_failures++;                                                      \
      return;                                                                  \
    }                                                                          \
  } while (0)

/** The next number of a xorshift64* stream, reset before every test so a
 * test sees the same data alone or in a full run. */
uint64_t rnd(void);
/** Uniform in [0, 1). */
double rnd_unit(void);
/** Uniform in [0, n), n >= 1. */
ptrdiff_t rnd_below(ptrdiff_t n);
/** Standard normal (Box-Muller). */
double rnd_normal(void);

/** Element @i of a contiguous buffer of @dtype, as long double. */
long double bw_test_get(const void *p, bw_dtype dtype, size_t i);

/** Sets element @i of a contiguous buffer of @dtype to @v (converted as C
 * converts a double to that type). */
void bw_test_set(void *p, bw_dtype dtype, size_t i, double v);

/** Every input dtype, in bw_dtype order. */
extern const bw_dtype bw_test_dtypes[8];
#define BW_TEST_NDTYPES 8

typedef struct bw_test {
  const char *name;
  void (*fn)(void);
} bw_test;

/** Runs the test named argv[1], or all of @tests; prints "ok"/"FAIL" per
 * test and "N passed, N failed"; returns the exit status (2: no such test). */
int bw_test_main(int argc, char **argv, const bw_test *tests, size_t n);

/** Defines main() as bw_test_main() over the array @tests. */
#define BW_TEST_MAIN(tests)                                                    \
  int main(int argc, char **argv) {                                            \
    return bw_test_main(argc, argv, tests, sizeof tests / sizeof *tests);      \
  }

#endif
