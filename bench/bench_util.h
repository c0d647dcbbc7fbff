/*
 * What the C benchmarks (bench_block_corr, bench_nlm, bench_local) and the
 * raw-image tools of the tests (test/nlm_tool.c, test/shift_tool.c) have in
 * common: a clock, the parsing of element types and lists of extents or
 * radii, and raw files read whole.
 *
 * bench_now() needs POSIX clocks: define _POSIX_C_SOURCE (199309L or later)
 * before including any header; without it bench_now() is not declared.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include "blockwise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef CLOCK_MONOTONIC
/* Seconds on a monotonic clock. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif

/* The dtype named @s (u8, i8, u16, i16, u32, i32, f32, f64) into *@dt;
 * returns 1, or 0 if @s names none. */
static inline int bench_parse_dtype(const char *s, bw_dtype *dt) {
  for (int d = BW_U8; d <= BW_F64; d++)
    if (!strcmp(s, bw_dtype_name((bw_dtype)d))) {
      *dt = (bw_dtype)d;
      return 1;
    }
  return 0;
}

/* Up to 3 comma-separated integers of @s into @v; returns how many, or 0
 * if @s is not such a list. */
static inline int bench_parse_list(const char *s, ptrdiff_t *v) {
  int n = 0;
  char *end;
  while (n < 3) {
    long x = strtol(s, &end, 10);
    if (end == s) return 0;
    v[n++] = x;
    if (*end == '\0') return n;
    if (*end != ',') return 0;
    s = end + 1;
  }
  return 0;
}

/* The number @s into *@v; returns 1, or 0 if @s is not a number. */
static inline int bench_parse_double(const char *s, double *v) {
  char *end;
  *v = strtod(s, &end);
  return end != s && *end == '\0';
}

/* @n elements of @es bytes from the raw file @path, malloc'd; exits with
 * status 2 (after a message naming @prog) when it cannot. */
static inline void *bench_read_raw(const char *prog, const char *path, size_t n, size_t es) {
  void *p = malloc(n * es);
  FILE *f = fopen(path, "rb");
  if (!p || !f || fread(p, es, n, f) != n) {
    fprintf(stderr, "%s: cannot read %zu elements from %s\n", prog, n, path);
    exit(2);
  }
  fclose(f);
  return p;
}

#endif
