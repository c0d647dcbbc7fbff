/*
 * shift_tool: runs the core's per-block displacement on a raw image pair,
 * for the tests that build their pairs in Python (test_shift_photo.py).
 *
 *   shift_tool A.raw B.raw DTYPE SHAPE BLOCK SEARCH OUT.raw
 *
 * A.raw and B.raw hold the images in C order, native endianness, elements
 * of DTYPE (u8, i8, u16, i16, u32, i32, f32, f64); SHAPE is Y,X or Z,Y,X;
 * BLOCK and SEARCH one value or one per axis.  OUT.raw receives float64
 * planes of the block grid, one after the other: the shift along each axis
 * (slowest first), the peak r and r at zero shift.  Prints the grid's
 * extents.  Exit status 0 on success, 1 on a core error (message on
 * stderr), 2 on bad usage.
 */
#include "bw_shift.h"
#include "../bench/bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *why) {
  fprintf(stderr, "shift_tool: %s\nusage: shift_tool A.raw B.raw DTYPE SHAPE BLOCK "
                  "SEARCH OUT.raw\n", why);
  return 2;
}


int main(int argc, char **argv) {
  if (argc != 8) return usage("expected 7 arguments");
  bw_dtype dt;
  if (!bench_parse_dtype(argv[3], &dt)) return usage("unknown DTYPE");
  ptrdiff_t shape[3], blk[3], srch[3];
  const int nd = bench_parse_list(argv[4], shape);
  const int nb = bench_parse_list(argv[5], blk), ns = bench_parse_list(argv[6], srch);
  if (nd < 2) return usage("SHAPE must be Y,X or Z,Y,X");
  if ((nb != 1 && nb != nd) || (ns != 1 && ns != nd))
    return usage("BLOCK and SEARCH: one value or one per axis");
  size_t n = 1;
  for (int i = 0; i < nd; i++) {
    if (shape[i] < 1) return usage("SHAPE extents must be >= 1");
    n *= (size_t)shape[i];
    blk[i] = blk[nb == 1 ? 0 : i];
    srch[i] = srch[ns == 1 ? 0 : i];
  }
  const size_t es = bw_dtype_size(dt);
  void *a = bench_read_raw("shift_tool", argv[1], n, es), *b = bench_read_raw("shift_tool", argv[2], n, es);
  bw_shift_params p;
  bw_shift_params_init(&p, nd, blk, srch);
  bw_error err;
  ptrdiff_t on[3];
  if (bw_shift_output_shape(&p, shape, on, &err) != BW_OK) {
    fprintf(stderr, "shift_tool: %s\n", err.message);
    return 1;
  }
  size_t no = 1;
  for (int i = 0; i < nd; i++) no *= (size_t)on[i];
  double *out = malloc((size_t)(nd + 2) * no * sizeof *out);
  if (!out) return 1;
  bw_shift_outputs o;
  memset(&o, 0, sizeof o);
  for (int i = 0; i < nd; i++) o.shift[i] = bw_view_contiguous(out + i * no, BW_F64, nd, on);
  o.peak = bw_view_contiguous(out + nd * no, BW_F64, nd, on);
  o.zero = bw_view_contiguous(out + (nd + 1) * no, BW_F64, nd, on);
  const bw_view va = bw_view_contiguous(a, dt, nd, shape);
  const bw_view vb = bw_view_contiguous(b, dt, nd, shape);
  if (bw_block_shift(&va, NULL, &vb, NULL, NULL, &p, &o, NULL, &err) != BW_OK) {
    fprintf(stderr, "shift_tool: %s\n", err.message);
    return 1;
  }
  FILE *f = fopen(argv[7], "wb");
  if (!f || fwrite(out, sizeof *out, (nd + 2) * no, f) != (nd + 2) * no || fclose(f) != 0) {
    fprintf(stderr, "shift_tool: cannot write %s\n", argv[7]);
    return 1;
  }
  for (int i = 0; i < nd; i++) printf(i ? ",%td" : "%td", on[i]);
  printf("\n");
  free(a), free(b), free(out);
  return 0;
}
