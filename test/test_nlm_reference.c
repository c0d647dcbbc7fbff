/*
 * The core's non-local means against a straightforward per-pixel reference
 * in double precision (nlm_test_util.c): for every pixel, every offset of
 * the full search window, the patch distance summed pixel by pixel over the
 * offsets where both patches are inside the image, exp() of the weight; in
 * 2-D and 3-D, every dtype, and at the extremes of values and of h.
 */
#include "nlm_test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compares bw_nlm on a test image of @dt against the reference. */
static int check_reference(bw_dtype dt, int nd, const ptrdiff_t *shape,
                           const ptrdiff_t *patch, const ptrdiff_t *search,
                           double hfac) {
  const size_t n = prod(shape, nd);
  void *img = malloc(n * bw_dtype_size(dt));
  const double sigma = fill_image(img, dt, nd, shape, 0.08);
  double lo, span;
  dtype_range(dt, &lo, &span);
  bw_nlm_params p;
  nlm_params_radii(&p, nd, sigma, patch, search);
  p.h = hfac * sigma;
  double *v = malloc(n * sizeof *v), *ref = malloc(n * sizeof *ref);
  for (size_t i = 0; i < n; i++) v[i] = (double)bw_test_get(img, dt, i);
  ptrdiff_t n3[3], p3[3], s3[3];
  shape3(nd, shape, NULL, n3, 1);
  shape3(nd, shape, patch, p3, 0);
  shape3(nd, shape, search, s3, 0);
  ref_nlm(v, n3, p3, s3, p.h, sigma, ref);

  int bad = 0;
  const bw_dtype outs[3] = {BW_F32, BW_F64, dt};
  for (int o = 0; o < 3 && !bad; o++) {
    bw_status st;
    void *out = run_whole(img, dt, nd, shape, &p, outs[o], &st);
    if (st) bad = 1;
    for (size_t i = 0; i < n && !bad; i++) {
      const double got = (double)bw_test_get(out, outs[o], i), want = ref[i];
      if (outs[o] == BW_F32 || outs[o] == BW_F64) {
        const double tol = 1e-5 * fmax(fabs(want), span);
        if (!(fabs(got - want) <= tol)) {
          fprintf(stderr, "%s %dD out %s pixel %zu: %.9g, reference %.9g\n",
                  bw_dtype_name(dt), nd, bw_dtype_name(outs[o]), i, got, want);
          bad = 1;
        }
      } else {
        /* Rounded to nearest: exact unless the reference sits within the
         * tolerance of a half-integer. */
        const double tol = 1e-5 * fmax(fabs(want), span);
        const double r0 = floor(want - tol + 0.5), r1 = floor(want + tol + 0.5);
        if (got < r0 || got > r1) {
          fprintf(stderr, "%s %dD rounded pixel %zu: %.17g, reference %.17g\n",
                  bw_dtype_name(dt), nd, i, got, want);
          bad = 1;
        }
      }
    }
    free(out);
  }
  free(img);
  free(v);
  free(ref);
  return !bad;
}

void test_reference_2d(void) {
  const ptrdiff_t shape[2] = {23, 31};
  const ptrdiff_t patch[][2] = {{3, 3}, {1, 2}, {0, 1}, {2, 0}, {6, 5}};
  const ptrdiff_t search[][2] = {{5, 5}, {3, 2}, {2, 3}, {0, 4}, {3, 4}};
  for (size_t d = 0; d < sizeof bw_test_dtypes / sizeof *bw_test_dtypes; d++)
    for (int c = 0; c < 5; c++)
      CHECK(check_reference(bw_test_dtypes[d], 2, shape, patch[c], search[c], 0.8),
            "%s patch %td,%td search %td,%td", bw_dtype_name(bw_test_dtypes[d]),
            patch[c][0], patch[c][1], search[c][0], search[c][1]);
  /* h well below and above sigma. */
  const ptrdiff_t p3[2] = {2, 2}, s3[2] = {3, 3};
  CHECK(check_reference(BW_F32, 2, shape, p3, s3, 0.3), "h = 0.3 sigma");
  CHECK(check_reference(BW_U16, 2, shape, p3, s3, 3.0), "h = 3 sigma");
}

void test_reference_3d(void) {
  const ptrdiff_t shape[3] = {9, 11, 13};
  const ptrdiff_t patch[][3] = {{1, 1, 1}, {0, 1, 1}, {2, 1, 0}, {1, 2, 2}, {5, 1, 1}};
  const ptrdiff_t search[][3] = {{1, 2, 2}, {2, 1, 1}, {1, 1, 2}, {2, 0, 1}, {1, 1, 1}};
  for (size_t d = 0; d < sizeof bw_test_dtypes / sizeof *bw_test_dtypes; d++)
    for (int c = 0; c < 5; c++)
      CHECK(check_reference(bw_test_dtypes[d], 3, shape, patch[c], search[c], 0.8),
            "%s patch %td,%td,%td search %td,%td,%td",
            bw_dtype_name(bw_test_dtypes[d]), patch[c][0], patch[c][1], patch[c][2],
            search[c][0], search[c][1], search[c][2]);
  /* Thin images: one plane, one row. */
  const ptrdiff_t thin[3] = {1, 7, 40}, p1[3] = {1, 1, 2}, s1[3] = {2, 3, 3};
  CHECK(check_reference(BW_I16, 3, thin, p1, s1, 0.8), "one plane");
  const ptrdiff_t row[2] = {1, 50}, p2[2] = {2, 2}, s2[2] = {3, 5};
  CHECK(check_reference(BW_F64, 2, row, p2, s2, 0.8), "one row");
  const ptrdiff_t one[2] = {1, 1};
  CHECK(check_reference(BW_U8, 2, one, p2, s2, 0.8), "one pixel");
}

/* h far beyond the image's values: every weight is 1 (to 1e-80), so each
 * pixel is the plain mean of its search window, clipped to the image; the
 * narrow types must not lose their values to float's range. */
void test_huge_h(void) {
  const ptrdiff_t shape[2] = {9, 12};
  uint8_t img[9 * 12];
  for (int i = 0; i < 9 * 12; i++) img[i] = (uint8_t)((i * 53) % 251);
  const double hs[] = {1e25, 1e45, 1e200, 1e-25};
  for (size_t k = 0; k < sizeof hs / sizeof *hs; k++) {
    bw_nlm_params p;
    bw_nlm_params_init(&p, 2, 0.0);
    p.patch[0] = p.patch[1] = 1;
    p.search[0] = p.search[1] = 2;
    p.h = hs[k];
    bw_status st;
    double *out = run_whole(img, BW_U8, 2, shape, &p, BW_F64, &st);
    int bad = -1;
    double want = 0;
    for (ptrdiff_t y = 0; y < shape[0] && bad < 0 && st == BW_OK; y++)
      for (ptrdiff_t x = 0; x < shape[1] && bad < 0; x++) {
        double sum = 0, n = 0;
        if (hs[k] > 1) { /* all weights 1: the window's mean */
          for (ptrdiff_t v = y - 2; v <= y + 2; v++)
            for (ptrdiff_t u = x - 2; u <= x + 2; u++)
              if (v >= 0 && v < shape[0] && u >= 0 && u < shape[1]) {
                sum += img[v * shape[1] + u];
                n += 1;
              }
          want = sum / n;
        } else { /* every other weight 2^-43 or less: the pixel itself */
          want = img[y * shape[1] + x];
        }
        const double got = out[y * shape[1] + x];
        if (!(fabs(got - want) <= 1e-4 * fmax(1.0, fabs(want)) + (hs[k] > 1 ? 0 : 1e-9 * 25 * 255)))
          bad = (int)(y * shape[1] + x);
      }
    const double got = bad >= 0 ? out[bad] : 0;
    free(out);
    CHECK(st == BW_OK, "h = %g: status %d", hs[k], (int)st);
    CHECK(bad < 0, "h = %g: pixel %d is %g, expected %g", hs[k], bad, got, want);
  }
}

/* Extreme values: huge floats stay finite, 32-bit integers keep their
 * precision, integer outputs clamp. */
void test_extremes(void) {
  const ptrdiff_t shape[2] = {12, 14};
  float f[168];
  for (int i = 0; i < 168; i++) f[i] = (i % 3 ? 3e37f : -3e37f) * (1.0f + 0.01f * (i % 7));
  bw_nlm_params p;
  bw_nlm_params_init(&p, 2, 1e36);
  bw_status st;
  float *o = run_whole(f, BW_F32, 2, shape, &p, BW_F32, &st);
  CHECK(st == BW_OK, "huge floats: status %d", st);
  for (int i = 0; i < 168; i++) CHECK(isfinite(o[i]), "huge floats: %g at %d", o[i], i);
  free(o);
  /* Tiny values with tiny h, as with any other unit. */
  double tv[168], tref[168];
  for (int i = 0; i < 168; i++) tv[i] = 1e-30 * (double)((i * 7919) % 101);
  {
    ptrdiff_t n3[3] = {1, 12, 14}, pp[3] = {0, 3, 3}, ss[3] = {0, 10, 10};
    ref_nlm(tv, n3, pp, ss, 0.8 * 3e-30, 3e-30, tref);
  }
  bw_nlm_params_init(&p, 2, 3e-30);
  double *od0 = run_whole(tv, BW_F64, 2, shape, &p, BW_F64, &st);
  CHECK(st == BW_OK, "tiny values");
  for (int i = 0; i < 168; i++)
    CHECK(fabs(od0[i] - tref[i]) <= 1e-5 * 1e-28, "tiny values at %d: %g vs %g", i,
          od0[i], tref[i]);
  free(od0);
  /* Tiny h: every other patch weighs at most 2^-43, the output is the
   * input. */
  for (int i = 0; i < 168; i++) f[i] = (float)((i * 37) % 101);
  p.h = 1e-10;
  p.sigma = 0;
  o = run_whole(f, BW_F32, 2, shape, &p, BW_F32, &st);
  CHECK(st == BW_OK, "tiny h");
  for (int i = 0; i < 168; i++)
    CHECK(fabs(o[i] - f[i]) <= 1e-6 * 100, "tiny h: pixel %d %g vs %g", i, o[i], f[i]);
  free(o);
  /* Values too large for h are refused before anything is written. */
  f[100] = 1e25f;
  float sentinel[168];
  for (int i = 0; i < 168; i++) sentinel[i] = 7.0f;
  {
    float o2[168];
    memcpy(o2, sentinel, sizeof o2);
    bw_view in = bw_view_contiguous(f, BW_F32, 2, shape);
    bw_view ov = bw_view_contiguous(o2, BW_F32, 2, shape);
    bw_error err;
    CHECK(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err) == BW_ERR_PARAM, "1e25 / 1e-10");
    CHECK(strstr(err.message, "(y, x) = (7, 2)") != NULL, "message: %s", err.message);
    CHECK(!memcmp(o2, sentinel, sizeof o2), "output written");
  }

  /* u32 values near the top of the range with small noise: double
   * precision keeps the texture. */
  const ptrdiff_t p2[2] = {1, 1}, s2[2] = {2, 2};
  uint32_t u[168];
  for (int i = 0; i < 168; i++) u[i] = 4294960000u + (uint32_t)(rnd() % 100);
  double v[168], ref[168];
  for (int i = 0; i < 168; i++) v[i] = u[i];
  ptrdiff_t n3[3] = {1, 12, 14}, pp[3] = {0, 1, 1}, ss[3] = {0, 2, 2};
  nlm_params_radii(&p, 2, 30.0, p2, s2);
  ref_nlm(v, n3, pp, ss, 24.0, 30.0, ref);
  double *od = run_whole(u, BW_U32, 2, shape, &p, BW_F64, &st);
  CHECK(st == BW_OK, "u32");
  for (int i = 0; i < 168; i++)
    CHECK(fabs(od[i] - ref[i]) < 1e-3, "u32 pixel %d: %.6f vs %.6f", i, od[i], ref[i]);
  free(od);
  /* Output clamped to u8 and i8. */
  int16_t big[168];
  for (int i = 0; i < 168; i++) big[i] = (int16_t)(i % 2 ? 30000 : -30000);
  p.sigma = 1.0;
  p.h = 1.0;
  uint8_t *o8 = run_whole(big, BW_I16, 2, shape, &p, BW_U8, &st);
  CHECK(st == BW_OK, "clamp");
  for (int i = 0; i < 168; i++)
    CHECK(o8[i] == (i % 2 ? 255 : 0), "u8 clamp at %d: %d", i, o8[i]);
  free(o8);
}
