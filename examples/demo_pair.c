/*
 * demo_pair: makes the image pair of `make demo`.
 *
 *   demo_pair A.tif B.tif [--size N | --shape H,W] [--region Y0,X0,Y1,X1] [--shift S]
 *
 * A is a textured N x N (or H x W) uint16 image (default 2048 x 2048).  B is the same texture
 * with independent noise, warped inside the rectangle rows [Y0, Y1) x
 * columns [X0, X1) (default 600,1100,1400,1800): there each pixel samples
 * the texture S pixels away (default 6), along a smooth displacement that
 * falls to zero over 16 pixels at the rectangle's border.  Outside the
 * rectangle the two images differ by noise only, so a map of Pearson r per
 * block should be low exactly over the rectangle.
 *
 * Both files are written band by band with the TIFF layer (Deflate), never
 * whole in memory.  Prints the files, their size and the warped rows and
 * columns (inclusive) on one line.
 */
#include "blockwise.h"
#include "bw_tiff.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BAND = 64, RAMP = 16 };

static uint64_t rng_state = 0x853C49E6748FEA9Bull;

/* Uniform in [0, 1): xorshift, deterministic. */
static double urand(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Texture: oriented waves of several scales, smooth and deterministic. */
static double texture(double y, double x) {
  return 0.35 * sin(0.21 * x + 0.13 * y) + 0.3 * sin(0.05 * x - 0.17 * y + 1.0) +
         0.2 * sin(0.31 * y) * cos(0.27 * x) + 0.15 * cos(0.011 * (x + y));
}

/* 1 well inside [lo, hi), falling smoothly to 0 over RAMP pixels at both ends. */
static double window(double v, double lo, double hi) {
  const double d = fmin(v - lo, hi - 1 - v);
  if (d <= 0) return 0;
  if (d >= RAMP) return 1;
  const double s = sin(0.5 * 3.14159265358979323846 * d / RAMP);
  return s * s;
}

static int parse_list(const char *text, long *out, int n) {
  char *end = NULL;
  for (int i = 0; i < n; i++) {
    out[i] = strtol(text, &end, 10);
    if (end == text || (i < n - 1 && *end != ',') || (i == n - 1 && *end)) return -1;
    text = end + 1;
  }
  return 0;
}

static int fail(const char *what, const bw_error *e) {
  fprintf(stderr, "demo_pair: %s: %s\n", what, e->message);
  return 1;
}

int main(int argc, char **argv) {
  long shape[2] = {2048, 2048}, region[4] = {600, 1100, 1400, 1800}, shift = 6;
  const char *paths[2] = {NULL, NULL};
  int npaths = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--size") && i + 1 < argc) {
      if (parse_list(argv[++i], &shape[0], 1) || shape[0] < 64 || shape[0] > 65536) {
        fprintf(stderr, "demo_pair: --size must be 64 to 65536\n");
        return 2;
      }
      shape[1] = shape[0];
    } else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
      if (parse_list(argv[++i], shape, 2) || shape[0] < 64 || shape[0] > 65536 || shape[1] < 64 ||
          shape[1] > 65536) {
        fprintf(stderr, "demo_pair: --shape takes H,W, each 64 to 65536\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--region") && i + 1 < argc) {
      if (parse_list(argv[++i], region, 4)) {
        fprintf(stderr, "demo_pair: --region takes Y0,X0,Y1,X1\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--shift") && i + 1 < argc) {
      if (parse_list(argv[++i], &shift, 1) || shift < 0 || shift > 1000) {
        fprintf(stderr, "demo_pair: --shift must be 0 to 1000\n");
        return 2;
      }
    } else if (argv[i][0] != '-' && npaths < 2) {
      paths[npaths++] = argv[i];
    } else {
      fprintf(stderr, "usage: demo_pair A.tif B.tif [--size N | --shape H,W] [--region Y0,X0,Y1,X1] "
                      "[--shift S]\n");
      return 2;
    }
  }
  if (npaths != 2) {
    fprintf(stderr, "usage: demo_pair A.tif B.tif [--size N | --shape H,W] [--region Y0,X0,Y1,X1] "
                    "[--shift S]\n");
    return 2;
  }
  const long height = shape[0], width = shape[1];
  if (region[0] < 0 || region[1] < 0 || region[2] > height || region[3] > width || region[0] >= region[2] ||
      region[1] >= region[3]) {
    fprintf(stderr, "demo_pair: the region must lie inside the %ld x %ld image\n", height, width);
    return 2;
  }

  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = BW_U16;
  p.ndim = 2;
  p.shape[0] = height;
  p.shape[1] = width;
  p.compression = BW_TIFF_DEFLATE;
  p.predictor = 1;
  bw_tiff_writer *w[2] = {NULL, NULL};
  bw_error err;
  for (int k = 0; k < 2; k++)
    if (bw_tiff_create(paths[k], &p, &w[k], &err)) {
      bw_tiff_abort(w[0]);
      return fail(paths[k], &err);
    }

  uint16_t *band[2] = {malloc(sizeof(uint16_t) * BAND * (size_t)width),
                       malloc(sizeof(uint16_t) * BAND * (size_t)width)};
  if (!band[0] || !band[1]) {
    fprintf(stderr, "demo_pair: out of memory\n");
    bw_tiff_abort(w[0]);
    bw_tiff_abort(w[1]);
    return 1;
  }
  for (long y0 = 0; y0 < height; y0 += BAND) {
    const long rows = y0 + BAND <= height ? BAND : height - y0;
    for (long y = y0; y < y0 + rows; y++) {
      const double wy = window((double)y, (double)region[0], (double)region[2]);
      for (long x = 0; x < width; x++) {
        const double wxy = wy * window((double)x, (double)region[1], (double)region[3]);
        const double d = (double)shift * wxy;
        const double ta = texture((double)y, (double)x);
        const double tb = texture((double)y + 0.6 * d, (double)x + 0.8 * d);
        band[0][(y - y0) * width + x] = (uint16_t)(30000 + 20000 * ta + 3000 * (urand() - 0.5));
        band[1][(y - y0) * width + x] = (uint16_t)(30000 + 20000 * tb + 3000 * (urand() - 0.5));
      }
    }
    const ptrdiff_t band_shape[2] = {rows, width};
    const bw_region r = {{y0, 0}, {rows, width}};
    for (int k = 0; k < 2; k++) {
      const bw_view v = bw_view_contiguous(band[k], BW_U16, 2, band_shape);
      if (bw_tiff_write(w[k], &r, &v, &err)) {
        free(band[0]);
        free(band[1]);
        bw_tiff_abort(w[0]);
        bw_tiff_abort(w[1]);
        return fail(paths[k], &err);
      }
    }
  }
  free(band[0]);
  free(band[1]);
  for (int k = 0; k < 2; k++)
    if (bw_tiff_finish(w[k], &err)) {
      if (k == 0) bw_tiff_abort(w[1]);
      return fail(paths[k], &err);
    }
  printf("%s, %s: %ld x %ld uint16; the second is warped in rows %ld-%ld, columns %ld-%ld\n", paths[0],
         paths[1], height, width, region[0], region[2] - 1, region[1], region[3] - 1);
  return 0;
}
