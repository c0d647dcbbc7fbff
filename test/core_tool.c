/*
 * core_tool: a test-only oracle for the command-line tests.  Reads whole
 * TIFF images with the TIFF layer and calls the C core on them directly, with
 * no ITK and no streaming, so the `blockwise` command's maps can be checked
 * against the core's own result.
 *
 *   core_tool STAT OUT.raw BLOCK EDGE DDOF A.tif [B.tif]
 *
 * STAT is a bw_stat name (count, sum, mean, var, std, min, max, cov, corr),
 * BLOCK is [Z,]Y,X or one size, EDGE partial or trim.  Writes the map as
 * raw native-endian float32 in C order and prints its shape as JSON.
 */
#include "blockwise.h"
#include "bw_tiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const bw_error *e) {
  fprintf(stderr, "core_tool: %s: %s\n", what, e->message);
  return 1;
}

static void *read_whole(const char *path, bw_view *view, bw_error *err, int *status) {
  bw_tiff_reader *r = NULL;
  *status = 1;
  if (bw_tiff_open(path, &r, err)) return NULL;
  const bw_tiff_info *info = bw_tiff_reader_info(r);
  ptrdiff_t shape[3];
  size_t n = 1;
  bw_region region;
  memset(&region, 0, sizeof region);
  for (int i = 0; i < info->ndim; i++) {
    shape[i] = (ptrdiff_t)info->shape[i];
    region.size[i] = shape[i];
    n *= (size_t)shape[i];
  }
  void *data = malloc(n * bw_dtype_size(info->dtype));
  if (!data) {
    bw_tiff_close(r);
    return NULL;
  }
  *view = bw_view_contiguous(data, info->dtype, info->ndim, shape);
  if (bw_tiff_read(r, &region, view, err)) {
    free(data);
    bw_tiff_close(r);
    return NULL;
  }
  bw_tiff_close(r);
  *status = 0;
  return data;
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: core_tool STAT OUT.raw BLOCK EDGE DDOF A.tif [B.tif]\n");
    return 2;
  }
  int stat = -1;
  for (int s = 0; s < BW_NUM_STATS; s++)
    if (!strcmp(argv[1], bw_stat_name((bw_stat)s))) stat = s;
  if (stat < 0) {
    fprintf(stderr, "core_tool: unknown statistic %s\n", argv[1]);
    return 2;
  }
  bw_error err;
  bw_view a, b;
  int status;
  void *da = read_whole(argv[6], &a, &err, &status), *db = NULL;
  if (!da) return fail(argv[6], &err);
  if (argc == 8 && !(db = read_whole(argv[7], &b, &err, &status))) return fail(argv[7], &err);

  ptrdiff_t block[3];
  int nb = 0;
  for (char *p = argv[3]; nb < 3;) {
    block[nb++] = strtol(p, &p, 10);
    if (*p != ',') break;
    p++;
  }
  if (nb == 1)
    for (int i = 1; i < a.ndim; i++) block[i] = block[0];
  else if (nb != a.ndim) {
    fprintf(stderr, "core_tool: block has %d sizes, the image %d axes\n", nb, a.ndim);
    return 2;
  }
  bw_block_params p;
  bw_block_params_init(&p, a.ndim, block);
  p.edge = !strcmp(argv[4], "trim") ? BW_EDGE_TRIM : BW_EDGE_PARTIAL;
  p.ddof = atoi(argv[5]);

  ptrdiff_t on[3];
  if (bw_block_output_shape(&p, a.shape, on, &err)) return fail("shape", &err);
  size_t n = 1;
  for (int i = 0; i < a.ndim; i++) n *= (size_t)on[i];
  float *out = malloc(n * sizeof *out);
  if (!out) return 1;
  bw_block_output o;
  o.stat = (bw_stat)stat;
  o.input = 0;
  o.view = bw_view_contiguous(out, BW_F32, a.ndim, on);
  if (bw_block_stats(&a, db ? &b : NULL, &p, &o, 1, &err)) return fail("core", &err);

  FILE *f = fopen(argv[2], "wb");
  if (!f || fwrite(out, sizeof *out, n, f) != n || fclose(f)) {
    fprintf(stderr, "core_tool: cannot write %s\n", argv[2]);
    return 1;
  }
  printf("{\"shape\": [");
  for (int i = 0; i < a.ndim; i++) printf("%s%td", i ? ", " : "", on[i]);
  printf("]}\n");
  free(out);
  free(da);
  free(db);
  return 0;
}
