/*
 * blockwise_demo: is this image pair misaligned, and where?
 *
 * Makes a textured 2048x2048 uint16 image and a copy of it with noise in
 * which one rectangle is displaced by a few pixels (a local misalignment),
 * computes Pearson r per 16x16 block with the core, and prints a summary and
 * a coarse map of r: the low-r area should be exactly the displaced
 * rectangle.
 */
#include "blockwise.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { H = 2048, W = 2048, B = 16 };
/* the displaced rectangle, in pixels */
enum { WY0 = 640, WY1 = 1152, WX0 = 1280, WX1 = 1792, SHIFT = 5 };

static uint64_t rng = 0x853C49E6748FEA9Bull;
static double urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* Texture: a sum of oriented waves and blobs, deterministic. */
static double texture(double y, double x) {
  return 0.35 * sin(0.21 * x + 0.13 * y) + 0.3 * sin(0.05 * x - 0.17 * y + 1.0) +
         0.2 * sin(0.31 * y) * cos(0.27 * x) + 0.15 * cos(0.011 * (x + y));
}

static int cmp_float(const void *p, const void *q) {
  float a = *(const float *)p, b = *(const float *)q;
  return (a > b) - (a < b);
}

int main(void) {
  uint16_t *a = malloc(sizeof(uint16_t) * H * W), *b = malloc(sizeof(uint16_t) * H * W);
  if (!a || !b) return 1;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int inside = y >= WY0 && y < WY1 && x >= WX0 && x < WX1;
      double ta = texture(y, x);
      double tb = inside ? texture(y + SHIFT, x + SHIFT) : ta;
      a[y * W + x] = (uint16_t)(30000 + 20000 * ta + 1500 * (urand() - 0.5));
      b[y * W + x] = (uint16_t)(30000 + 20000 * tb + 1500 * (urand() - 0.5));
    }

  const ptrdiff_t shape[2] = {H, W}, block[2] = {B, B};
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  ptrdiff_t on[2];
  bw_error err;
  if (bw_block_output_shape(&p, shape, on, &err)) {
    fprintf(stderr, "blockwise_demo: %s\n", err.message);
    return 1;
  }
  const size_t nb = (size_t)(on[0] * on[1]);
  float *r = malloc(nb * sizeof *r), *sorted = malloc(nb * sizeof *sorted);
  bw_view va = bw_view_contiguous(a, BW_U16, 2, shape);
  bw_view vb = bw_view_contiguous(b, BW_U16, 2, shape);
  bw_view vr = bw_view_contiguous(r, BW_F32, 2, on);
  if (bw_block_corr(&va, &vb, &p, &vr, &err)) {
    fprintf(stderr, "blockwise_demo: %s\n", err.message);
    return 1;
  }

  memcpy(sorted, r, nb * sizeof *r);
  qsort(sorted, nb, sizeof *sorted, cmp_float);
  size_t low = 0, in_n = 0, out_n = 0;
  double in_sum = 0, out_sum = 0;
  for (ptrdiff_t i = 0; i < on[0]; i++)
    for (ptrdiff_t j = 0; j < on[1]; j++) {
      float v = r[i * on[1] + j];
      low += v < 0.5f;
      int inside = i * B >= WY0 && (i + 1) * B <= WY1 && j * B >= WX0 && (j + 1) * B <= WX1;
      if (inside) { in_sum += v; in_n++; } else { out_sum += v; out_n++; }
    }
  printf("Blockwise %s demo: Pearson r per %dx%d block of a %dx%d uint16 pair\n",
         bw_version_string(), B, B, H, W);
  printf("(the second image has noise, and rows %d-%d x columns %d-%d displaced by %d px)\n\n",
         WY0, WY1 - 1, WX0, WX1 - 1, SHIFT);
  /* coarse map: one character per 4x4 blocks, by the lowest r in them */
  const int cy = 8, cx = 2; /* characters are about twice as tall as wide */
  printf("r map, one character per %dx%d blocks, lowest r shown ('#' < 0.5, '+' < 0.8, "
         "'.' >= 0.8):\n", cy, cx);
  for (ptrdiff_t i = 0; i < on[0]; i += cy) {
    putchar(' ');
    for (ptrdiff_t j = 0; j < on[1]; j += cx) {
      float m = 1;
      for (ptrdiff_t di = 0; di < cy && i + di < on[0]; di++)
        for (ptrdiff_t dj = 0; dj < cx && j + dj < on[1]; dj++)
          if (r[(i + di) * on[1] + j + dj] < m) m = r[(i + di) * on[1] + j + dj];
      putchar(m < 0.5f ? '#' : m < 0.8f ? '+' : '.');
    }
    putchar('\n');
  }
  printf("\nblocks: %zu   median r: %.3f   5th percentile: %.3f\n", nb, sorted[nb / 2],
         sorted[nb / 20]);
  printf("mean r inside the displaced rectangle: %.3f, outside: %.3f\n", in_sum / (double)in_n,
         out_sum / (double)out_n);
  printf("%.1f%% of blocks have r < 0.5: %s\n", 100.0 * (double)low / (double)nb,
         low > nb / 100 ? "registration recommended" : "no registration needed");
  free(a);
  free(b);
  free(r);
  free(sorted);
  return 0;
}
