/*
 * Block correlation against the memory floor.
 *
 * For each case, in one run: (a) a plain read of both inputs (summing every
 * element of both, the least any blockwise pass must do) and (b)
 * bw_block_corr, interleaved, several repetitions each.  Prints the median
 * times and the ratio (b)/(a).  Single thread.
 *
 *   bench_block_corr [--reps N] [--small]
 *
 * Cases: a 10100x9660 uint16 pair with 10x10 blocks, and a 64x1024x1024
 * uint16 pair with 4x16x16 blocks (--small divides every extent by 4).
 */
#define _POSIX_C_SOURCE 200809L
#include "blockwise.h"
#include "bench_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The baseline: every element of both inputs read and summed once, with
 * 32-bit lanes (65536 uint16 values cannot overflow them) so that the loop
 * vectorises and runs at memory speed: the floor for any pass over the
 * pixels. */
static uint64_t __attribute__((noinline))
plain_read(const uint16_t *restrict a, const uint16_t *restrict b, size_t n) {
  uint64_t total = 0;
  for (size_t i0 = 0; i0 < n; i0 += 32768) {
    size_t i1 = i0 + 32768 < n ? i0 + 32768 : n;
    uint32_t s = 0;
    for (size_t i = i0; i < i1; i++) s += (uint32_t)a[i] + b[i];
    total += s;
  }
  return total;
}

/* A smooth texture plus noise, and a second image correlated with it. */
static void make_pair(uint16_t *a, uint16_t *b, size_t n) {
  uint64_t s = 0x243F6A8885A308D3ull;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    uint16_t base = (uint16_t)(20000 + (i * 2654435761u >> 20) % 20000);
    a[i] = (uint16_t)(base + (s & 1023));
    b[i] = (uint16_t)(base + ((s >> 20) & 1023));
  }
}

static int run_case(const char *name, int ndim, const ptrdiff_t *shape,
                    const ptrdiff_t *block, int reps) {
  size_t n = 1;
  for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
  uint16_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  if (!a || !b) {
    fprintf(stderr, "bench: cannot allocate %zu MB\n", 2 * n * sizeof *a >> 20);
    return 1;
  }
  make_pair(a, b, n);
  bw_block_params p;
  bw_block_params_init(&p, ndim, block);
  ptrdiff_t on[3];
  bw_error err;
  if (bw_block_output_shape(&p, shape, on, &err)) {
    fprintf(stderr, "bench: %s\n", err.message);
    return 1;
  }
  size_t no = 1;
  for (int d = 0; d < ndim; d++) no *= (size_t)on[d];
  float *r = malloc(no * sizeof *r);
  bw_view va = bw_view_contiguous(a, BW_U16, ndim, shape);
  bw_view vb = bw_view_contiguous(b, BW_U16, ndim, shape);
  bw_view vr = bw_view_contiguous(r, BW_F32, ndim, on);

  double *ta = malloc((size_t)reps * sizeof *ta), *tb = malloc((size_t)reps * sizeof *tb);
  volatile uint64_t sink = 0;
  /* one untimed round of each to fault the pages in */
  sink += plain_read(a, b, n);
  if (bw_block_corr(&va, &vb, &p, &vr, &err)) {
    fprintf(stderr, "bench: %s\n", err.message);
    return 1;
  }
  for (int i = 0; i < reps; i++) {
    double t0 = bench_now();
    sink += plain_read(a, b, n);
    double t1 = bench_now();
    bw_block_corr(&va, &vb, &p, &vr, NULL);
    double t2 = bench_now();
    ta[i] = t1 - t0;
    tb[i] = t2 - t1;
  }
  double ma = median(ta, reps), mb = median(tb, reps);
  double mean_r = 0;
  for (size_t i = 0; i < no; i++) mean_r += r[i];
  mean_r /= (double)no;
  char blk[64];
  if (ndim == 3)
    snprintf(blk, sizeof blk, "%tdx%tdx%td", block[0], block[1], block[2]);
  else
    snprintf(blk, sizeof blk, "%tdx%td", block[0], block[1]);
  printf("%-28s blocks %-8s  plain read %8.1f ms  block corr %8.1f ms  "
         "ratio %.2f  (%.2f GB/s read, mean r %.3f)\n",
         name, blk, 1e3 * ma, 1e3 * mb, mb / ma,
         2.0 * (double)n * sizeof *a / ma * 1e-9, mean_r);
  (void)sink;
  free(ta);
  free(tb);
  free(a);
  free(b);
  free(r);
  return 0;
}

int main(int argc, char **argv) {
  int reps = 7, small = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--small")) {
      small = 1;
    } else {
      fprintf(stderr, "usage: bench_block_corr [--reps N] [--small]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  const ptrdiff_t s = small ? 4 : 1;
  printf("bench_block_corr: median of %d repetitions, one thread, uint16 pairs\n", reps);
  const ptrdiff_t shape2[2] = {10100 / s, 9660 / s}, block2[2] = {10, 10};
  const ptrdiff_t shape3[3] = {64 / s, 1024 / s, 1024 / s}, block3[3] = {4, 16, 16};
  char n2[64], n3[64];
  snprintf(n2, sizeof n2, "2-D %tdx%td", shape2[0], shape2[1]);
  snprintf(n3, sizeof n3, "3-D %tdx%tdx%td", shape3[0], shape3[1], shape3[2]);
  if (run_case(n2, 2, shape2, block2, reps)) return 1;
  if (run_case(n3, 3, shape3, block3, reps)) return 1;
  return 0;
}
