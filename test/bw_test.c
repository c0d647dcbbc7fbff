/* The C tests' harness (bw_test.h). */
#include "bw_test.h"

#include <math.h>
#include <string.h>

int bw_test_failures;

static uint64_t rng_state;
#define BW_TEST_SEED 0x9E3779B97F4A7C15ull

uint64_t rnd(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

ptrdiff_t rnd_below(ptrdiff_t n) { return (ptrdiff_t)(rnd() % (uint64_t)n); }

double rnd_normal(void) {
  double u = rnd_unit(), v = rnd_unit();
  if (u < 1e-300) u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

const bw_dtype bw_test_dtypes[8] = {BW_U8,  BW_I8,  BW_U16, BW_I16,
                                    BW_U32, BW_I32, BW_F32, BW_F64};

long double bw_test_get(const void *p, bw_dtype dt, size_t i) {
  switch (dt) {
  case BW_U8: return ((const uint8_t *)p)[i];
  case BW_I8: return ((const int8_t *)p)[i];
  case BW_U16: return ((const uint16_t *)p)[i];
  case BW_I16: return ((const int16_t *)p)[i];
  case BW_U32: return ((const uint32_t *)p)[i];
  case BW_I32: return ((const int32_t *)p)[i];
  case BW_F32: return ((const float *)p)[i];
  case BW_F64: return ((const double *)p)[i];
  }
  return 0;
}

void bw_test_set(void *p, bw_dtype dt, size_t i, double v) {
  switch (dt) {
  case BW_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case BW_I8: ((int8_t *)p)[i] = (int8_t)v; break;
  case BW_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case BW_I16: ((int16_t *)p)[i] = (int16_t)v; break;
  case BW_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
  case BW_I32: ((int32_t *)p)[i] = (int32_t)v; break;
  case BW_F32: ((float *)p)[i] = (float)v; break;
  case BW_F64: ((double *)p)[i] = v; break;
  }
}

int bw_test_main(int argc, char **argv, const bw_test *tests, size_t n) {
  int passed = 0, failed = 0, ran = 0;
  for (size_t i = 0; i < n; i++) {
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
    ran++;
    rng_state = BW_TEST_SEED;
    const int before = bw_test_failures;
    tests[i].fn();
    if (bw_test_failures == before) {
      passed++;
      printf("ok   %s\n", tests[i].name);
    } else {
      failed++;
      printf("FAIL %s\n", tests[i].name);
    }
  }
  if (ran == 0) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
