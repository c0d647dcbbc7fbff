/*
 * bench_local: the core's local statistics and per-block displacement on
 * one thread, over a raw image pair (or a generated one), for
 * bench_local.py, which times the Python and ITK baselines in the same run.
 *
 *   bench_local OP A.raw B.raw DTYPE Y,X REPS [ARGS]
 *     OP corr RADIUS       local Pearson r (f32 output)
 *     OP meanstd RADIUS    local mean and std of A (f32 outputs)
 *     OP shift BLOCK SEARCH   per-block displacement
 *
 * Prints the medians of REPS thread CPU times and wall-clock times in
 * seconds, one line: "OP DTYPE ARGS cpu SECONDS median SECONDS".
 */
#define _POSIX_C_SOURCE 199309L
#include "bw_local.h"
#include "bw_shift.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* This thread's CPU time: less disturbed than the wall clock by other
 * processes on a shared machine. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


static int cmp(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: bench_local corr|meanstd|shift A.raw B.raw DTYPE Y,X REPS ARGS\n");
    return 2;
  }
  const char *op = argv[1];
  bw_dtype dt;
  ptrdiff_t n[3];
  if (!bench_parse_dtype(argv[4], &dt) || bench_parse_list(argv[5], n) != 2) return 2;
  const int reps = atoi(argv[6]);
  const size_t np = (size_t)(n[0] * n[1]), es = bw_dtype_size(dt);
  void *a = bench_read_raw("bench_local", argv[2], np, es), *b = bench_read_raw("bench_local", argv[3], np, es);
  const bw_view va = bw_view_contiguous(a, dt, 2, n), vb = bw_view_contiguous(b, dt, 2, n);
  float *o1 = malloc(np * sizeof(float)), *o2 = malloc(np * sizeof(float));
  double t[64], tc[64];
  bw_error err;
  for (int k = 0; k < reps && k < 64; k++) {
    bw_status st = BW_OK;
    const double t0 = bench_now(), c0 = cpu_now();
    if (!strcmp(op, "corr") || !strcmp(op, "meanstd")) {
      const ptrdiff_t r = atol(argv[7]), rad[2] = {r, r};
      bw_local_params p;
      bw_local_params_init(&p, 2, rad);
      bw_local_output o[2];
      memset(o, 0, sizeof o);
      o[0].view = bw_view_contiguous(o1, BW_F32, 2, n);
      o[1].view = bw_view_contiguous(o2, BW_F32, 2, n);
      if (op[0] == 'c') {
        o[0].stat = BW_STAT_CORR;
        st = bw_local_stats(&va, &vb, NULL, NULL, &p, o, 1, NULL, &err);
      } else {
        o[0].stat = BW_STAT_MEAN, o[1].stat = BW_STAT_STD;
        st = bw_local_stats(&va, NULL, NULL, NULL, &p, o, 2, NULL, &err);
      }
    } else if (!strcmp(op, "shift") && argc >= 9) {
      const ptrdiff_t bk = atol(argv[7]), sr = atol(argv[8]), blk[2] = {bk, bk}, s[2] = {sr, sr};
      bw_shift_params p;
      bw_shift_params_init(&p, 2, blk, s);
      ptrdiff_t on[2];
      bw_shift_output_shape(&p, n, on, &err);
      bw_shift_outputs o;
      memset(&o, 0, sizeof o);
      o.shift[0] = bw_view_contiguous(o1, BW_F32, 2, on);
      o.shift[1] = bw_view_contiguous(o2, BW_F32, 2, on);
      st = bw_block_shift(&va, NULL, &vb, NULL, NULL, &p, &o, NULL, &err);
    } else {
      return 2;
    }
    t[k] = bench_now() - t0;
    tc[k] = cpu_now() - c0;
    if (st) {
      fprintf(stderr, "bench_local: %s\n", err.message);
      return 1;
    }
  }
  qsort(t, (size_t)reps, sizeof *t, cmp);
  qsort(tc, (size_t)reps, sizeof *tc, cmp);
  printf("%s %s", op, argv[4]);
  for (int i = 7; i < argc; i++) printf(" %s", argv[i]);
  printf(" cpu %.6f median %.6f\n", tc[reps / 2], t[reps / 2]);
  free(a), free(b), free(o1), free(o2);
  return 0;
}
