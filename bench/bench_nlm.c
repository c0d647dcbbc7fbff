/*
 * bench_nlm: times the core's non-local means on a raw image, on one or
 * more threads.  Driven by bench_nlm.py, which makes the image, times
 * OpenCV on the same one and compares.
 *
 *   bench_nlm IN.raw DTYPE SHAPE OUT.raw OUT_DTYPE [--threads N] [--reps R]
 *             [--patch R[,R[,R]]] [--search R[,R[,R]]] [--sigma S] [--h H]
 *
 * With N threads the output is cut into N bands along the slowest axis and
 * each thread runs bw_nlm on its band, from the input region the core's
 * region map gives for it (the result does not depend on N).  Prints one
 * line of JSON: {"seconds": [t1, ..., tR]}, the wall time of each
 * repetition (threads started and joined included, reading and writing the
 * files not), and writes the last repetition's result to OUT.raw.
 */
#define _POSIX_C_SOURCE 200112L
#include "blockwise.h"
#include "bench_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct band {
  const bw_view *in;
  const bw_view *out;
  const bw_nlm_params *p;
  ptrdiff_t lo, hi; /* rows (slowest axis) of the band */
  bw_status status;
  bw_error err;
} band;

static void *run_band(void *arg) {
  band *b = arg;
  const int nd = b->in->ndim;
  bw_region box, need;
  memset(&box, 0, sizeof box);
  for (int i = 0; i < nd; i++) box.size[i] = b->in->shape[i];
  box.start[0] = b->lo;
  box.size[0] = b->hi - b->lo;
  bw_view in, out;
  b->status = bw_nlm_input_region(b->p, b->in->shape, &box, &need, &b->err);
  if (!b->status) b->status = bw_view_subview(b->in, &need, &in, &b->err);
  if (!b->status) b->status = bw_view_subview(b->out, &box, &out, &b->err);
  if (!b->status)
    b->status = bw_nlm(&in, need.start, &out, box.start, b->in->shape, b->p, &b->err);
  return NULL;
}

static int usage(void) {
  fprintf(stderr, "usage: bench_nlm IN.raw DTYPE SHAPE OUT.raw OUT_DTYPE [--threads N] "
                  "[--reps R] [--patch R] [--search R] [--sigma S] [--h H]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 6) return usage();
  bw_dtype dt, odt;
  ptrdiff_t shape[3];
  const int nd = bench_parse_list(argv[3], shape);
  if (!bench_parse_dtype(argv[2], &dt) || !bench_parse_dtype(argv[5], &odt) || nd < 2)
    return usage();
  int threads = 1, reps = 1;
  bw_nlm_params p;
  bw_nlm_params_init(&p, nd, 0.0);
  for (int i = 6; i + 1 < argc; i += 2) {
    ptrdiff_t r[3];
    int k;
    if (!strcmp(argv[i], "--threads"))
      threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--reps"))
      reps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--sigma"))
      p.sigma = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--h"))
      p.h = atof(argv[i + 1]);
    else if ((!strcmp(argv[i], "--patch") || !strcmp(argv[i], "--search")) &&
             ((k = bench_parse_list(argv[i + 1], r)) == 1 || k == nd))
      for (int a = 0; a < nd; a++) (argv[i][2] == 'p' ? p.patch : p.search)[a] = r[k == 1 ? 0 : a];
    else
      return usage();
  }
  if (threads < 1 || threads > 256 || reps < 1) return usage();
  if (threads > shape[0]) threads = (int)shape[0];

  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  void *src = malloc(n * bw_dtype_size(dt)), *dst = malloc(n * bw_dtype_size(odt));
  FILE *f = fopen(argv[1], "rb");
  if (!src || !dst || !f || fread(src, bw_dtype_size(dt), n, f) != n) {
    fprintf(stderr, "bench_nlm: cannot read %s\n", argv[1]);
    return 1;
  }
  fclose(f);
  const bw_view in = bw_view_contiguous(src, dt, nd, shape);
  const bw_view out = bw_view_contiguous(dst, odt, nd, shape);
  band *bands = calloc((size_t)threads, sizeof *bands);
  pthread_t *tid = calloc((size_t)threads, sizeof *tid);
  printf("{\"seconds\": [");
  for (int r = 0; r < reps; r++) {
    const double t0 = bench_now();
    for (int b = 0; b < threads; b++) {
      bands[b].in = &in;
      bands[b].out = &out;
      bands[b].p = &p;
      bands[b].lo = shape[0] * b / threads;
      bands[b].hi = shape[0] * (b + 1) / threads;
      if (b > 0 && pthread_create(&tid[b], NULL, run_band, &bands[b]) != 0) {
        fprintf(stderr, "bench_nlm: cannot start a thread\n");
        return 1;
      }
    }
    run_band(&bands[0]);
    for (int b = 1; b < threads; b++) pthread_join(tid[b], NULL);
    const double t = bench_now() - t0;
    for (int b = 0; b < threads; b++)
      if (bands[b].status) {
        fprintf(stderr, "bench_nlm: %s\n", bands[b].err.message);
        return 1;
      }
    printf("%s%.6f", r ? ", " : "", t);
    fflush(stdout);
  }
  printf("]}\n");
  f = fopen(argv[4], "wb");
  if (!f || fwrite(dst, bw_dtype_size(odt), n, f) != n || fclose(f)) {
    fprintf(stderr, "bench_nlm: cannot write %s\n", argv[4]);
    return 1;
  }
  free(src);
  free(dst);
  free(bands);
  free(tid);
  return 0;
}
