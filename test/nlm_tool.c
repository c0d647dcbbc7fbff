/*
 * nlm_tool: runs the core's non-local means on a raw image, for the tests
 * that compare it with other libraries from Python.
 *
 *   nlm_tool IN.raw DTYPE SHAPE OUT.raw OUT_DTYPE [options]
 *
 * IN.raw holds the image in C order, native endianness, elements of DTYPE
 * (u8, i8, u16, i16, u32, i32, f32, f64); SHAPE is Y,X or Z,Y,X.  OUT.raw
 * receives the denoised image as OUT_DTYPE.  Options:
 *   --patch R[,R[,R]]   patch radius (one value: every axis)   default 3
 *   --search R[,R[,R]]  search radius                         default 10
 *   --sigma S           Gaussian noise standard deviation      default 0
 *   --h H               filtering parameter (0: default)       default 0
 *   --noise gaussian|poisson-gaussian                          default gaussian
 *   --gain G --offset O --read-sigma R   Poisson-Gaussian model
 * Exit status 0 on success, 1 on a core error (message on stderr), 2 on
 * bad usage.
 */
#include "blockwise.h"
#include "../bench/bench_util.h" /* parsing shared with bench_nlm */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *why) {
  fprintf(stderr, "nlm_tool: %s\nusage: nlm_tool IN.raw DTYPE SHAPE OUT.raw OUT_DTYPE "
                  "[--patch R] [--search R] [--sigma S] [--h H] [--noise MODEL] "
                  "[--gain G] [--offset O] [--read-sigma R]\n",
          why);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 6) return usage("too few arguments");
  bw_dtype dt, odt;
  if (!bench_parse_dtype(argv[2], &dt)) return usage("unknown DTYPE");
  if (!bench_parse_dtype(argv[5], &odt)) return usage("unknown OUT_DTYPE");
  ptrdiff_t shape[3];
  const int nd = bench_parse_list(argv[3], shape);
  if (nd < 2) return usage("SHAPE must be Y,X or Z,Y,X");
  size_t n = 1;
  for (int i = 0; i < nd; i++) {
    if (shape[i] < 1) return usage("SHAPE extents must be >= 1");
    n *= (size_t)shape[i];
  }
  bw_nlm_params p;
  bw_nlm_params_init(&p, nd, 0.0);
  for (int i = 6; i < argc; i++) {
    const char *opt = argv[i];
    if (i + 1 >= argc) return usage("option without a value");
    const char *val = argv[++i];
    ptrdiff_t r[3];
    int k;
    if (!strcmp(opt, "--patch") || !strcmp(opt, "--search")) {
      k = bench_parse_list(val, r);
      if (k != 1 && k != nd) return usage("radii: one value or one per axis");
      ptrdiff_t *dst = opt[2] == 'p' ? p.patch : p.search;
      for (int a = 0; a < nd; a++) dst[a] = r[k == 1 ? 0 : a];
    } else if (!strcmp(opt, "--noise")) {
      if (!strcmp(val, "gaussian"))
        p.noise = BW_NLM_GAUSSIAN;
      else if (!strcmp(val, "poisson-gaussian"))
        p.noise = BW_NLM_POISSON_GAUSSIAN;
      else
        return usage("--noise: gaussian or poisson-gaussian");
    } else {
      double *dst = !strcmp(opt, "--sigma")        ? &p.sigma
                    : !strcmp(opt, "--h")          ? &p.h
                    : !strcmp(opt, "--gain")       ? &p.gain
                    : !strcmp(opt, "--offset")     ? &p.offset
                    : !strcmp(opt, "--read-sigma") ? &p.read_sigma
                                                   : NULL;
      if (!dst) return usage("unknown option");
      if (!bench_parse_double(val, dst)) return usage("not a number");
    }
  }

  const size_t isz = bw_dtype_size(dt), osz = bw_dtype_size(odt);
  void *in = malloc(n * isz), *out = malloc(n * osz);
  if (!in || !out) {
    fprintf(stderr, "nlm_tool: out of memory\n");
    return 1;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(in, isz, n, f) != n) {
    fprintf(stderr, "nlm_tool: cannot read %zu elements from %s\n", n, argv[1]);
    return 1;
  }
  fclose(f);
  bw_view vi = bw_view_contiguous(in, dt, nd, shape);
  bw_view vo = bw_view_contiguous(out, odt, nd, shape);
  bw_error err;
  if (bw_nlm(&vi, NULL, &vo, NULL, NULL, &p, &err) != BW_OK) {
    fprintf(stderr, "nlm_tool: %s\n", err.message);
    return 1;
  }
  f = fopen(argv[4], "wb");
  if (!f || fwrite(out, osz, n, f) != n || fclose(f) != 0) {
    fprintf(stderr, "nlm_tool: cannot write %s\n", argv[4]);
    return 1;
  }
  free(in);
  free(out);
  return 0;
}
