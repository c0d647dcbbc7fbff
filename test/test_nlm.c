/*
 * Tests of the core's non-local means (bw_nlm).  One executable:
 * `blockwise_nlm_tests NAME` runs one test (CTest registers each), no
 * argument runs them all.
 *
 * Oracles, written here independently of the library:
 *   - a straightforward per-pixel non-local means in double precision: for
 *     every pixel, every offset of the full search window, the patch
 *     distance summed pixel by pixel over the offsets where both patches
 *     are inside the image, exp() of the weight;
 *   - for Poisson-Gaussian noise, the generalised Anscombe transform from
 *     its formula and the exact unbiased inverse from its definition:
 *     E(y) = sum_k Poisson(k; y) E{f(k + n)} with the Gaussian expectation
 *     by adaptive Simpson quadrature, inverted by bisection;
 *   - the whole-image result, for boxes, strided views and instruction sets
 *     (bit for bit).
 */
#define _POSIX_C_SOURCE 200112L
#include "blockwise.h"
#include "bw_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Data                                                                     */
/* ------------------------------------------------------------------------ */

/* Poisson variate by inversion (small means) or a normal approximation
 * rounded (large means); only the test's data depend on it. */
static double rnd_poisson(double mean) {
  if (mean > 200.0) {
    double k = floor(mean + sqrt(mean) * rnd_normal() + 0.5);
    return k < 0 ? 0 : k;
  }
  double u = rnd_unit(), p = exp(-mean), c = p;
  int k = 0;
  while (u > c && k < 10000) {
    k++;
    p *= mean / k;
    c += p;
  }
  return k;
}

/* The coordinates (slowest first) of element @i of a C-contiguous image. */
static void coords_of(size_t i, int nd, const ptrdiff_t *shape, double *c) {
  c[0] = c[1] = c[2] = 0;
  for (int a = nd - 1; a >= 0; a--) {
    c[a] = (double)(i % (size_t)shape[a]);
    i /= (size_t)shape[a];
  }
}

static void set_d(void *p, bw_dtype dt, size_t i, double v) {
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

/* Range of a dtype used for test images: [lo, lo + span]. */
static void dtype_range(bw_dtype dt, double *lo, double *span) {
  *lo = 0;
  *span = 1;
  switch (dt) {
  case BW_U8: *lo = 0; *span = 255; break;
  case BW_I8: *lo = -128; *span = 255; break;
  case BW_U16: *lo = 0; *span = 65535; break;
  case BW_I16: *lo = -32768; *span = 65535; break;
  case BW_U32: *lo = 0; *span = 4294967295.0; break;
  case BW_I32: *lo = -2147483648.0; *span = 4294967295.0; break;
  case BW_F32: *lo = -700.0; *span = 3000.0; break;
  case BW_F64: *lo = 1e6; *span = 5e4; break;
  }
}

static size_t prod(const ptrdiff_t *s, int nd) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)s[i];
  return n;
}

/* A smooth pattern with edges plus Gaussian noise of standard deviation
 * @noise (a fraction of the span), clipped to the dtype's test range;
 * returns the noise in image units. */
static double fill_image(void *p, bw_dtype dt, int nd, const ptrdiff_t *shape,
                         double noise) {
  double lo, span;
  dtype_range(dt, &lo, &span);
  const int isint = dt != BW_F32 && dt != BW_F64;
  const size_t n = prod(shape, nd);
  for (size_t i = 0; i < n; i++) {
    double c[3];
    coords_of(i, nd, shape, c);
    double u = 0.5 + 0.3 * sin(0.45 * c[nd - 1] + 0.2 * c[0]) *
                         cos(0.31 * c[nd - 2] - 0.1 * c[nd - 1]);
    if ((int)(c[nd - 1] / 5 + c[nd - 2] / 7) % 3 == 0) u += 0.15;
    u += noise * rnd_normal();
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    double v = lo + u * span;
    if (isint) v = floor(v);
    if (v > lo + span) v = lo + span;
    set_d(p, dt, i, v);
  }
  return noise * span;
}

/* ------------------------------------------------------------------------ */
/* The per-pixel reference                                                  */
/* ------------------------------------------------------------------------ */

/* Non-local means of the values v (C order, 3-D form: 2-D images have
 * shape[0] = 1 and zero radii along z), weights exp(-max(d2 - 2 s^2, 0) /
 * h^2), straight from the definition. */
static void ref_nlm(const double *v, const ptrdiff_t *n, const ptrdiff_t *p,
                    const ptrdiff_t *s, double h, double sigma, double *out) {
  for (ptrdiff_t z = 0; z < n[0]; z++)
    for (ptrdiff_t y = 0; y < n[1]; y++)
      for (ptrdiff_t x = 0; x < n[2]; x++) {
        double ws = 0, vs = 0;
        for (ptrdiff_t oz = -s[0]; oz <= s[0]; oz++)
          for (ptrdiff_t oy = -s[1]; oy <= s[1]; oy++)
            for (ptrdiff_t ox = -s[2]; ox <= s[2]; ox++) {
              const ptrdiff_t z2 = z + oz, y2 = y + oy, x2 = x + ox;
              if (z2 < 0 || z2 >= n[0] || y2 < 0 || y2 >= n[1] || x2 < 0 ||
                  x2 >= n[2])
                continue;
              double d2 = 0;
              long cnt = 0;
              for (ptrdiff_t qz = -p[0]; qz <= p[0]; qz++)
                for (ptrdiff_t qy = -p[1]; qy <= p[1]; qy++)
                  for (ptrdiff_t qx = -p[2]; qx <= p[2]; qx++) {
                    const ptrdiff_t a[3] = {z + qz, y + qy, x + qx};
                    const ptrdiff_t b[3] = {z2 + qz, y2 + qy, x2 + qx};
                    int inside = 1;
                    for (int k = 0; k < 3; k++)
                      if (a[k] < 0 || a[k] >= n[k] || b[k] < 0 || b[k] >= n[k])
                        inside = 0;
                    if (!inside) continue;
                    const double d = v[(a[0] * n[1] + a[1]) * n[2] + a[2]] -
                                     v[(b[0] * n[1] + b[1]) * n[2] + b[2]];
                    d2 += d * d;
                    cnt++;
                  }
              d2 /= (double)cnt;
              double e = d2 - 2.0 * sigma * sigma;
              if (e < 0) e = 0;
              const double w = exp(-e / (h * h));
              ws += w;
              vs += w * v[(z2 * n[1] + y2) * n[2] + x2];
            }
        out[(z * n[1] + y) * n[2] + x] = vs / ws;
      }
}

/* g(a) = E{2 sqrt(max(a + n, 0))}, n ~ N(0, s^2), by adaptive Simpson. */
static double ref_integrand(double n, double a, double s) {
  const double u = a + n;
  return u > 0 ? 2.0 * sqrt(u) * exp(-0.5 * n * n / (s * s)) / (s * 2.5066282746310002)
               : 0.0;
}

static double simpson(double lo, double hi, double flo, double fmid, double fhi,
                      double whole, double a, double s, double tol, int depth) {
  const double mid = 0.5 * (lo + hi);
  const double lm = 0.5 * (lo + mid), rm = 0.5 * (mid + hi);
  const double flm = ref_integrand(lm, a, s), frm = ref_integrand(rm, a, s);
  const double left = (mid - lo) / 6.0 * (flo + 4 * flm + fmid);
  const double right = (hi - mid) / 6.0 * (fmid + 4 * frm + fhi);
  if (depth <= 0 || fabs(left + right - whole) < 15 * tol)
    return left + right + (left + right - whole) / 15.0;
  return simpson(lo, mid, flo, flm, fmid, left, a, s, tol / 2, depth - 1) +
         simpson(mid, hi, fmid, frm, fhi, right, a, s, tol / 2, depth - 1);
}

static double ref_g(double a, double s) {
  if (s == 0) return a > 0 ? 2.0 * sqrt(a) : 0.0;
  double lo = -14.0 * s, hi = 14.0 * s;
  if (lo < -a) lo = -a;
  if (hi <= lo) return 0.0;
  const double flo = ref_integrand(lo, a, s), fhi = ref_integrand(hi, a, s);
  const double fm = ref_integrand(0.5 * (lo + hi), a, s);
  const double whole = (hi - lo) / 6.0 * (flo + 4 * fm + fhi);
  return simpson(lo, hi, flo, fm, fhi, whole, a, s, 1e-11, 40);
}

typedef struct ref_gat {
  double gain, offset, s, c;
  double *g; /* g(k + c), computed when first needed (NaN until then) */
  long kmax;
} ref_gat;

static void ref_gat_init(ref_gat *r, double gain, double offset, double read_sigma,
                         double ymax) {
  r->gain = gain;
  r->offset = offset;
  r->s = read_sigma / gain;
  r->c = 0.375 + r->s * r->s;
  r->kmax = (long)(2 * ymax + 15 * sqrt(2 * ymax) + 40); /* bisection overshoots up to 2x */
  r->g = malloc((size_t)(r->kmax + 1) * sizeof *r->g);
  for (long k = 0; k <= r->kmax; k++) r->g[k] = NAN;
}

static double ref_gk(ref_gat *r, long k) {
  if (k > r->kmax) {
    fprintf(stderr, "reference: k = %ld beyond its table\n", k);
    exit(3);
  }
  if (isnan(r->g[k])) r->g[k] = ref_g(k + r->c, r->s);
  return r->g[k];
}

static double ref_forward(const ref_gat *r, double z) {
  const double u = (z - r->offset) / r->gain + r->c;
  return u > 0 ? 2.0 * sqrt(u) : 0.0;
}

/* E(y): the Poisson probabilities beyond 15 standard deviations (and 30)
 * from the mean are below 1e-40. */
static double ref_expect(ref_gat *r, double y) {
  if (y == 0) return ref_gk(r, 0);
  double e = 0;
  long k0 = (long)(y - 15 * sqrt(y) - 30), k1 = (long)(y + 15 * sqrt(y) + 30);
  if (k0 < 0) k0 = 0;
  for (long k = k0; k <= k1; k++)
    e += exp(k * log(y) - y - lgamma(k + 1.0)) * ref_gk(r, k);
  return e;
}

/* The y >= 0 with E(y) = d (0 when d <= E(0)), in image units. */
static double ref_inverse(ref_gat *r, double d) {
  double lo = 0, hi = 1;
  if (d <= ref_expect(r, 0)) return r->offset;
  while (ref_expect(r, hi) < d) {
    lo = hi;
    hi *= 2;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const double mid = 0.5 * (lo + hi);
    if (ref_expect(r, mid) < d)
      lo = mid;
    else
      hi = mid;
  }
  return r->gain * 0.5 * (lo + hi) + r->offset;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Whole-image bw_nlm into a new buffer of @odt. */
static void *run_whole(const void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
                       const bw_nlm_params *p, bw_dtype odt, bw_status *st) {
  void *out = calloc(prod(shape, nd), bw_dtype_size(odt));
  bw_view in = bw_view_contiguous((void *)img, dt, nd, shape);
  bw_view ov = bw_view_contiguous(out, odt, nd, shape);
  bw_error err;
  *st = bw_nlm(&in, NULL, &ov, NULL, NULL, p, &err);
  if (*st) fprintf(stderr, "bw_nlm: %s\n", err.message);
  return out;
}

static void shape3(int nd, const ptrdiff_t *shape, const ptrdiff_t *a,
                   ptrdiff_t *out3, ptrdiff_t fill) {
  for (int i = 0; i < 3; i++) out3[i] = fill;
  for (int i = 0; i < nd; i++) out3[3 - nd + i] = a ? a[i] : shape[i];
}

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
  bw_nlm_params_init(&p, nd, sigma);
  for (int i = 0; i < nd; i++) {
    p.patch[i] = patch[i];
    p.search[i] = search[i];
  }
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

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static void test_reference_2d(void) {
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

static void test_reference_3d(void) {
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

/* A simulated fluorescence image: counts of a pattern between @lo and @hi
 * expected photo-electrons, times gain, plus offset and read noise. */
static void fluorescence(void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
                         double lo, double hi, double gain, double offset,
                         double read_sigma) {
  const size_t n = prod(shape, nd);
  for (size_t i = 0; i < n; i++) {
    double c[3];
    coords_of(i, nd, shape, c);
    double u = 0.5 + 0.5 * sin(0.5 * c[nd - 1]) * cos(0.4 * c[nd - 2] + 0.3 * c[0]);
    const double mean = lo + (hi - lo) * u * u;
    double z = gain * rnd_poisson(mean) + offset + read_sigma * rnd_normal();
    if (dt != BW_F32 && dt != BW_F64) z = floor(z + 0.5);
    if (z < 0) z = 0;
    if (dt == BW_U8 && z > 255) z = 255;
    set_d(img, dt, i, z);
  }
}

static int check_poisson(bw_dtype dt, int nd, const ptrdiff_t *shape,
                         const ptrdiff_t *patch, const ptrdiff_t *search,
                         double lo, double hi, double gain, double offset,
                         double read_sigma) {
  const size_t n = prod(shape, nd);
  void *img = malloc(n * bw_dtype_size(dt));
  fluorescence(img, dt, nd, shape, lo, hi, gain, offset, read_sigma);
  bw_nlm_params p;
  bw_nlm_params_init(&p, nd, 0.0);
  for (int i = 0; i < nd; i++) {
    p.patch[i] = patch[i];
    p.search[i] = search[i];
  }
  p.noise = BW_NLM_POISSON_GAUSSIAN;
  p.gain = gain;
  p.offset = offset;
  p.read_sigma = read_sigma;
  ref_gat rg;
  ref_gat_init(&rg, gain, offset, read_sigma, 2.5 * hi + 100);
  double *v = calloc(n, sizeof *v), *d = calloc(n, sizeof *d);
  double vmax = 0;
  for (size_t i = 0; i < n; i++) {
    v[i] = ref_forward(&rg, (double)bw_test_get(img, dt, i));
    vmax = fmax(vmax, fabs((double)bw_test_get(img, dt, i)));
  }
  ptrdiff_t n3[3], p3[3], s3[3];
  shape3(nd, shape, NULL, n3, 1);
  shape3(nd, shape, patch, p3, 0);
  shape3(nd, shape, search, s3, 0);
  ref_nlm(v, n3, p3, s3, 0.8, 1.0, d);
  bw_status st;
  double *out = run_whole(img, dt, nd, shape, &p, BW_F64, &st);
  int ok = st == BW_OK;
  for (size_t i = 0; i < n && ok; i++) {
    const double want = ref_inverse(&rg, d[i]);
    if (!(fabs(out[i] - want) <= 1e-5 * fmax(fabs(want), vmax))) {
      fprintf(stderr, "%s pixel %zu: %.9g, reference %.9g (D %.9g)\n",
              bw_dtype_name(dt), i, out[i], want, d[i]);
      ok = 0;
    }
  }
  free(rg.g);
  free(img);
  free(v);
  free(d);
  free(out);
  return ok;
}

static void test_poisson_gaussian(void) {
  const ptrdiff_t s2[2] = {17, 19}, pp[2] = {2, 2}, ss[2] = {3, 3};
  /* Few photons (the inverse's curved part) and many (its expansion). */
  CHECK(check_poisson(BW_U16, 2, s2, pp, ss, 0.2, 30, 2.5, 100, 3.0),
        "u16, few photons");
  CHECK(check_poisson(BW_F32, 2, s2, pp, ss, 300, 2000, 0.7, 10, 2.0),
        "f32, many photons");
  CHECK(check_poisson(BW_I32, 2, s2, pp, ss, 1, 600, 1.0, -50, 0.0),
        "i32, pure Poisson, negative offset");
  CHECK(check_poisson(BW_F64, 2, s2, pp, ss, 0.5, 40, 1.0, 0, 8.0),
        "f64, strong read noise");
  CHECK(check_poisson(BW_U8, 2, s2, pp, ss, 0.1, 10, 4.0, 20, 1.5), "u8");
  const ptrdiff_t s3[3] = {6, 9, 10}, p3[3] = {1, 1, 1}, q3[3] = {1, 2, 2};
  CHECK(check_poisson(BW_U16, 3, s3, p3, q3, 0.5, 80, 3.0, 200, 4.0), "3-D u16");
}

/* Constant images: every weight is one, so the output is the inverse of the
 * transform of the constant, over the whole range of the table, below it
 * and above it. */
static void test_inverse_constant(void) {
  const double read[] = {0.0, 1.0, 2.5, 30.0};
  const double levels[] = {-20, 0, 0.3, 1, 2.7, 10, 55, 399, 401, 3000};
  const ptrdiff_t shape[2] = {6, 7};
  for (int r = 0; r < 4; r++) {
    ref_gat rg;
    ref_gat_init(&rg, 1.3, 5.0, read[r], 3500);
    for (int l = 0; l < 10; l++) {
      const double z = 5.0 + 1.3 * levels[l];
      double img[42];
      for (int i = 0; i < 42; i++) img[i] = z;
      bw_nlm_params p;
      bw_nlm_params_init(&p, 2, 0);
      p.patch[0] = p.patch[1] = 1;
      p.search[0] = p.search[1] = 2;
      p.noise = BW_NLM_POISSON_GAUSSIAN;
      p.gain = 1.3;
      p.offset = 5.0;
      p.read_sigma = read[r];
      bw_status st;
      double *out = run_whole(img, BW_F64, 2, shape, &p, BW_F64, &st);
      const double got = out[17];
      free(out);
      CHECK(st == BW_OK, "status %d", st);
      const double want = ref_inverse(&rg, ref_forward(&rg, z));
      CHECK(fabs(got - want) <= 1e-6 * fmax(fabs(want), 100.0),
            "read sigma %g, level %g: %.12g, reference %.12g", read[r], levels[l],
            got, want);
    }
    free(rg.g);
  }
}

/* A box of the image computed from a view of exactly its mapped input
 * region (or a larger box) gives the whole image's bits. */
static int check_box(const void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
                     const bw_nlm_params *p, const void *whole, bw_dtype odt,
                     const bw_region *box, int larger) {
  bw_region need;
  bw_error err;
  if (bw_nlm_input_region(p, shape, box, &need, &err)) {
    fprintf(stderr, "input region: %s\n", err.message);
    return 0;
  }
  if (larger)
    for (int i = 0; i < nd; i++) {
      if (need.start[i] > 0) need.start[i]--, need.size[i]++;
      if (need.start[i] + need.size[i] < shape[i]) need.size[i]++;
    }
  bw_view all = bw_view_contiguous((void *)img, dt, nd, shape), in;
  if (bw_view_subview(&all, &need, &in, &err)) return 0;
  const size_t esz = bw_dtype_size(odt);
  void *out = malloc(prod(box->size, nd) * esz);
  bw_view ov = bw_view_contiguous(out, odt, nd, box->size);
  if (bw_nlm(&in, need.start, &ov, box->start, shape, p, &err)) {
    fprintf(stderr, "box: %s\n", err.message);
    free(out);
    return 0;
  }
  /* Compare with the box of the whole result. */
  bw_view wv = bw_view_contiguous((void *)whole, odt, nd, shape), wsub;
  bw_view_subview(&wv, box, &wsub, &err);
  int ok = 1;
  const size_t nb = prod(box->size, nd);
  for (size_t i = 0; i < nb && ok; i++) {
    size_t r = i;
    const char *q = wsub.data;
    for (int a = nd - 1; a >= 0; a--) {
      q += (ptrdiff_t)(r % (size_t)box->size[a]) * wsub.strides[a];
      r /= (size_t)box->size[a];
    }
    if (memcmp(q, (char *)out + i * esz, esz) != 0) {
      fprintf(stderr, "box pixel %zu differs: %.17g vs %.17g\n", i,
              (double)bw_test_get(out, odt, i), (double)bw_test_get(q, odt, 0));
      ok = 0;
    }
  }
  free(out);
  return ok;
}

static void random_box(int nd, const ptrdiff_t *shape, bw_region *b) {
  memset(b, 0, sizeof *b);
  for (int i = 0; i < nd; i++) {
    ptrdiff_t a = (ptrdiff_t)(rnd() % (uint64_t)shape[i]);
    ptrdiff_t c = (ptrdiff_t)(rnd() % (uint64_t)shape[i]);
    if (a > c) {
      ptrdiff_t t = a;
      a = c;
      c = t;
    }
    b->start[i] = a;
    b->size[i] = c - a + 1;
  }
}

static void check_subregions(bw_dtype dt, int nd, const ptrdiff_t *shape,
                             const ptrdiff_t *patch, const ptrdiff_t *search,
                             int poisson, bw_dtype odt, int nboxes) {
  const size_t n = prod(shape, nd);
  void *img = malloc(n * bw_dtype_size(dt));
  double sigma;
  if (poisson) {
    fluorescence(img, dt, nd, shape, 0.5, 200, 2.0, 100, 3.0);
    sigma = 0;
  } else {
    sigma = fill_image(img, dt, nd, shape, 0.08);
  }
  bw_nlm_params p;
  bw_nlm_params_init(&p, nd, sigma);
  for (int i = 0; i < nd; i++) {
    p.patch[i] = patch[i];
    p.search[i] = search[i];
  }
  if (poisson) {
    p.noise = BW_NLM_POISSON_GAUSSIAN;
    p.gain = 2.0;
    p.offset = 100;
    p.read_sigma = 3.0;
  }
  bw_status st;
  void *whole = run_whole(img, dt, nd, shape, &p, odt, &st);
  CHECK(st == BW_OK, "whole image: status %d", st);
  /* Corners, edges, single pixels and lines, then random boxes. */
  for (int b = 0; b < nboxes; b++) {
    bw_region box;
    memset(&box, 0, sizeof box);
    if (b < nd * 2) {
      for (int i = 0; i < nd; i++) {
        box.start[i] = 0;
        box.size[i] = shape[i];
      }
      const int ax = b / 2;
      box.size[ax] = 1 + (shape[ax] - 1) / 3;
      if (b % 2) box.start[ax] = shape[ax] - box.size[ax];
    } else if (b < nd * 2 + 3) {
      for (int i = 0; i < nd; i++) {
        box.start[i] = (ptrdiff_t)(rnd() % (uint64_t)shape[i]);
        box.size[i] = 1;
      }
      if (b == nd * 2 + 1) { /* a whole line along x */
        box.start[nd - 1] = 0;
        box.size[nd - 1] = shape[nd - 1];
      }
    } else {
      random_box(nd, shape, &box);
    }
    CHECK(check_box(img, dt, nd, shape, &p, whole, odt, &box, b % 3 == 2),
          "%s %dD%s box %d (start %td,%td,%td size %td,%td,%td)",
          bw_dtype_name(dt), nd, poisson ? " poisson" : "", b, box.start[0],
          box.start[1], box.start[2], box.size[0], box.size[1], box.size[2]);
  }
  free(whole);
  free(img);
}

static void test_subregion(void) {
  /* Larger than one tile of the core, so the whole image is computed in
   * several tiles and every box in others. */
  const ptrdiff_t s2[2] = {300, 280}, p2[2] = {3, 3}, q2[2] = {5, 6};
  check_subregions(BW_U8, 2, s2, p2, q2, 0, BW_F32, 14);
  check_subregions(BW_F64, 2, s2, p2, q2, 0, BW_F64, 8);
  check_subregions(BW_U16, 2, s2, p2, q2, 1, BW_U16, 8);
  const ptrdiff_t s3[3] = {40, 90, 81}, p3[3] = {1, 2, 2}, q3[3] = {2, 3, 3};
  check_subregions(BW_I16, 3, s3, p3, q3, 0, BW_F32, 12);
  check_subregions(BW_I32, 3, s3, p3, q3, 0, BW_I32, 7);
  const ptrdiff_t p4[3] = {0, 3, 3}, q4[3] = {1, 4, 4};
  check_subregions(BW_F32, 3, s3, p4, q4, 1, BW_F32, 7);
}

/* Bands along the slowest axis, as threads split the work: together they
 * are the whole image. */
static void test_bands(void) {
  const ptrdiff_t shape[2] = {257, 190};
  uint8_t *img = malloc(257 * 190);
  const double sigma = fill_image(img, BW_U8, 2, shape, 0.08);
  bw_nlm_params p;
  bw_nlm_params_init(&p, 2, sigma);
  bw_status st;
  float *whole = run_whole(img, BW_U8, 2, shape, &p, BW_F32, &st);
  CHECK(st == BW_OK, "whole");
  float *banded = calloc(257 * 190, sizeof *banded);
  for (int nb = 2; nb <= 9; nb += 7) {
    for (int b = 0; b < nb; b++) {
      bw_region box = {{257 * b / nb, 0, 0}, {257 * (b + 1) / nb - 257 * b / nb, 190, 0}};
      bw_region need;
      bw_error err;
      CHECK(bw_nlm_input_region(&p, shape, &box, &need, &err) == BW_OK, "map");
      bw_view all = bw_view_contiguous(img, BW_U8, 2, shape), in;
      bw_view_subview(&all, &need, &in, &err);
      bw_view ov = bw_view_contiguous(banded + box.start[0] * 190, BW_F32, 2, box.size);
      CHECK(bw_nlm(&in, need.start, &ov, box.start, shape, &p, &err) == BW_OK,
            "band: %s", err.message);
    }
    CHECK(memcmp(whole, banded, 257 * 190 * sizeof(float)) == 0, "%d bands differ", nb);
  }
  free(img);
  free(whole);
  free(banded);
}

/* Transposed, reversed and strided views give the same bits as contiguous
 * ones holding the same pixels. */
static void test_strided_views(void) {
  const ptrdiff_t shape[2] = {37, 29};
  const size_t n = 37 * 29;
  int16_t *img = malloc(n * sizeof *img);
  const double sigma = fill_image(img, BW_I16, 2, shape, 0.08);
  bw_nlm_params p;
  bw_nlm_params_init(&p, 2, sigma);
  p.search[0] = 4;
  p.patch[1] = 2;
  bw_status st;
  double *want = run_whole(img, BW_I16, 2, shape, &p, BW_F64, &st);
  CHECK(st == BW_OK, "contiguous");
  /* Input: the transpose of a buffer holding the image transposed and
   * reversed along its rows; output: every third double of a wider buffer,
   * rows reversed. */
  int16_t *tr = malloc(n * sizeof *tr);
  for (ptrdiff_t y = 0; y < 37; y++)
    for (ptrdiff_t x = 0; x < 29; x++) tr[x * 37 + (36 - y)] = img[y * 29 + x];
  bw_view in;
  memset(&in, 0, sizeof in);
  in.data = tr + 36;
  in.dtype = BW_I16;
  in.ndim = 2;
  in.shape[0] = 37;
  in.shape[1] = 29;
  in.strides[0] = -(ptrdiff_t)sizeof(int16_t);
  in.strides[1] = 37 * (ptrdiff_t)sizeof(int16_t);
  double *buf = calloc(n * 3, sizeof *buf);
  bw_view out;
  memset(&out, 0, sizeof out);
  out.data = buf + 36 * 29 * 3;
  out.dtype = BW_F64;
  out.ndim = 2;
  out.shape[0] = 37;
  out.shape[1] = 29;
  out.strides[0] = -29 * 3 * (ptrdiff_t)sizeof(double);
  out.strides[1] = 3 * (ptrdiff_t)sizeof(double);
  bw_error err;
  CHECK(bw_nlm(&in, NULL, &out, NULL, NULL, &p, &err) == BW_OK, "%s", err.message);
  for (ptrdiff_t y = 0; y < 37; y++)
    for (ptrdiff_t x = 0; x < 29; x++) {
      const double got = buf[(36 - y) * 29 * 3 + x * 3];
      CHECK(memcmp(&got, &want[y * 29 + x], sizeof got) == 0, "pixel %td,%td", y, x);
    }
  free(img);
  free(tr);
  free(buf);
  free(want);
}

/* Every instruction set the library may pick computes the same bits. */
static void test_simd_paths(void) {
  const ptrdiff_t s2[2] = {70, 90}, s3[3] = {8, 21, 34};
  const char *caps[3] = {"portable", "avx2", NULL};
  const bw_dtype dts[2] = {BW_U16, BW_F64};
  for (int d = 0; d < 2; d++)
    for (int nd = 2; nd <= 3; nd++) {
      const ptrdiff_t *shape = nd == 2 ? s2 : s3;
      const size_t n = prod(shape, nd);
      void *img = malloc(n * bw_dtype_size(dts[d]));
      const double sigma = fill_image(img, dts[d], nd, shape, 0.08);
      bw_nlm_params p;
      bw_nlm_params_init(&p, nd, sigma);
      if (nd == 3) {
        p.patch[0] = 1;
        p.search[0] = 2;
        p.search[1] = p.search[2] = 4;
      }
      void *res[3];
      for (int c = 0; c < 3; c++) {
        if (caps[c])
          setenv("BLOCKWISE_SIMD", caps[c], 1);
        else
          unsetenv("BLOCKWISE_SIMD");
        bw_status st;
        res[c] = run_whole(img, dts[d], nd, shape, &p, BW_F64, &st);
      }
      unsetenv("BLOCKWISE_SIMD");
      const int same = !memcmp(res[0], res[1], n * 8) && !memcmp(res[0], res[2], n * 8);
      for (int c = 0; c < 3; c++) free(res[c]);
      free(img);
      CHECK(same, "%s %dD: instruction sets differ", bw_dtype_name(dts[d]), nd);
    }
}

/* Extreme values: huge floats stay finite, 32-bit integers keep their
 * precision, integer outputs clamp. */
/* h far beyond the image's values: every weight is 1 (to 1e-80), so each
 * pixel is the plain mean of its search window, clipped to the image; the
 * narrow types must not lose their values to float's range. */
static void test_huge_h(void) {
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

static void test_extremes(void) {
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
  bw_nlm_params_init(&p, 2, 30.0);
  p.patch[0] = p2[0];
  p.patch[1] = p2[1];
  p.search[0] = s2[0];
  p.search[1] = s2[1];
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

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct err_case {
  const char *what;
  bw_status want;
} err_case;

static void test_errors(void) {
  const ptrdiff_t shape[2] = {20, 24};
  float img[480], out[480], sentinel[480];
  for (int i = 0; i < 480; i++) {
    img[i] = (float)(i % 17);
    sentinel[i] = -12345.0f;
  }
  bw_view in = bw_view_contiguous(img, BW_F32, 2, shape);
  bw_view ov = bw_view_contiguous(out, BW_F32, 2, shape);
  bw_nlm_params good;
  bw_nlm_params_init(&good, 2, 2.0);
  bw_error err;

#define EXPECT(call, code, what)                                               \
  do {                                                                         \
    memcpy(out, sentinel, sizeof out);                                         \
    memset(&err, 0, sizeof err);                                               \
    bw_status st_ = (call);                                                    \
    CHECK(st_ == (code), "%s: status %d (%s), expected %d", what, st_,         \
          err.message, code);                                                  \
    CHECK(err.status == (code) && err.message[0], "%s: no message", what);     \
    CHECK(!memcmp(out, sentinel, sizeof out), "%s: output written", what);     \
  } while (0)

  bw_nlm_params p = good;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, NULL, &err), BW_ERR_NULL, "NULL params");
  EXPECT(bw_nlm(NULL, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_NULL, "NULL input");
  EXPECT(bw_nlm(&in, NULL, NULL, NULL, NULL, &p, &err), BW_ERR_OUTPUT, "NULL output");
  p.ndim = 4;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_NDIM, "ndim 4");
  p = good;
  p.ndim = 3;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_NDIM, "ndim mismatch");
  p = good;
  p.patch[1] = -1;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "patch -1");
  p = good;
  p.patch[0] = BW_NLM_MAX_PATCH + 1;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "patch too big");
  p = good;
  p.search[1] = BW_NLM_MAX_SEARCH + 1;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "search too big");
  p = good;
  p.search[0] = -3;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "search -3");
  p = good;
  p.h = -1;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "h < 0");
  p.h = NAN;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "h NaN");
  p.h = INFINITY;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "h inf");
  p.h = 1e-300;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "h tiny");
  p = good;
  p.sigma = -1;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "sigma < 0");
  p.sigma = NAN;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "sigma NaN");
  p.sigma = 0;
  p.h = 0;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "h and sigma 0");
  p = good;
  p.noise = (bw_nlm_noise)7;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "noise model");
  p.noise = BW_NLM_POISSON_GAUSSIAN;
  p.gain = 0;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "gain 0");
  p.gain = NAN;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "gain NaN");
  p.gain = 1;
  p.offset = INFINITY;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "offset inf");
  p.offset = 0;
  p.read_sigma = -2;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "read sigma < 0");
  p.read_sigma = 1e300;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "read sigma huge");
  p = good;

  /* Views. */
  bw_view bad = in;
  bad.dtype = (bw_dtype)99;
  EXPECT(bw_nlm(&bad, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_DTYPE, "input dtype");
  bad = ov;
  bad.dtype = (bw_dtype)0;
  EXPECT(bw_nlm(&in, NULL, &bad, NULL, NULL, &p, &err), BW_ERR_OUTPUT, "output dtype");
  bad = ov;
  bad.shape[1] = 0;
  EXPECT(bw_nlm(&in, NULL, &bad, NULL, NULL, &p, &err), BW_ERR_OUTPUT, "output extent 0");
  bad = in;
  bad.data = NULL;
  EXPECT(bw_nlm(&bad, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_NULL, "input data NULL");
  bad = ov;
  bad.shape[0] = 21;
  EXPECT(bw_nlm(&in, NULL, &bad, NULL, NULL, &p, &err), BW_ERR_REGION, "output past the image");
  /* In place. */
  bw_view inplace = bw_view_contiguous(out, BW_F32, 2, shape);
  memcpy(out, sentinel, sizeof out);
  CHECK(bw_nlm(&inplace, NULL, &ov, NULL, NULL, &p, &err) == BW_ERR_OUTPUT, "in place");

  /* Geometry. */
  const ptrdiff_t whole[2] = {40, 50}, start[2] = {10, 10}, neg[2] = {-1, 0};
  const ptrdiff_t ostart[2] = {30, 0}, ostart_ok[2] = {20, 20};
  bw_view small = bw_view_contiguous(out, BW_F32, 2, (ptrdiff_t[]){2, 3});
  EXPECT(bw_nlm(&in, start, &ov, NULL, NULL, &p, &err), BW_ERR_REGION,
         "in_start without image shape");
  EXPECT(bw_nlm(&in, neg, &ov, NULL, whole, &p, &err), BW_ERR_REGION, "negative in_start");
  EXPECT(bw_nlm(&in, start, &ov, ostart, whole, &p, &err), BW_ERR_REGION,
         "output past the image (start)");
  EXPECT(bw_nlm(&in, start, &small, ostart_ok, whole, &p, &err), BW_ERR_REGION,
         "input misses the halo");
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, (ptrdiff_t[]){0, 5}, &p, &err), BW_ERR_SHAPE,
         "image extent 0");
  /* The same box of a larger image is fine when the input holds its halo. */
  bw_view tiny_in = bw_view_contiguous(img, BW_F32, 2, (ptrdiff_t[]){20, 24});
  const ptrdiff_t tin[2] = {0, 0}, tout[2] = {5, 5};
  bw_nlm_params q = good;
  q.patch[0] = q.patch[1] = 1;
  q.search[0] = q.search[1] = 2;
  memcpy(out, sentinel, sizeof out);
  CHECK(bw_nlm(&tiny_in, tin, &small, tout, whole, &q, &err) == BW_OK, "%s", err.message);

  /* Non-finite input anywhere in the needed region. */
  float saved = img[7 * 24 + 11];
  img[7 * 24 + 11] = NAN;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "NaN input");
  img[7 * 24 + 11] = -INFINITY;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "-inf input");
  img[7 * 24 + 11] = saved;
  /* ... but not outside it. */
  img[0] = NAN;
  memcpy(out, sentinel, sizeof out);
  bw_region far_box = {{15, 19, 0}, {5, 5, 0}}, far_need;
  CHECK(bw_nlm_input_region(&q, shape, &far_box, &far_need, &err) == BW_OK, "map");
  bw_view far_in;
  bw_view_subview(&in, &far_need, &far_in, &err);
  bw_view far_out = bw_view_contiguous(out, BW_F32, 2, far_box.size);
  CHECK(bw_nlm(&far_in, far_need.start, &far_out, far_box.start, shape, &q, &err) == BW_OK,
        "NaN outside the needed region: %s", err.message);
  img[0] = 0;

  /* The region map. */
  bw_region box = {{0, 0, 0}, {0, 4, 0}}, got;
  EXPECT(bw_nlm_input_region(&good, shape, &box, &got, &err), BW_ERR_REGION, "empty box");
  box.size[0] = 3;
  box.start[1] = 22;
  EXPECT(bw_nlm_input_region(&good, shape, &box, &got, &err), BW_ERR_REGION, "box past edge");
  box.start[1] = 0;
  EXPECT(bw_nlm_input_region(&good, NULL, &box, &got, &err), BW_ERR_NULL, "NULL shape");
  EXPECT(bw_nlm_input_region(&good, shape, &box, NULL, &err), BW_ERR_NULL, "NULL out");
  p = good;
  p.search[1] = -1;
  EXPECT(bw_nlm_input_region(&p, shape, &box, &got, &err), BW_ERR_PARAM, "map: bad search");
  /* NULL err is allowed. */
  CHECK(bw_nlm(&in, NULL, &ov, NULL, NULL, NULL, NULL) == BW_ERR_NULL, "NULL err");
#undef EXPECT
}

static void test_region_map(void) {
  const ptrdiff_t shape[3] = {30, 200, 150};
  bw_nlm_params p;
  bw_nlm_params_init(&p, 3, 1.0);
  p.patch[0] = 1;
  p.search[0] = 2;
  p.patch[1] = 3;
  p.search[1] = 10;
  p.patch[2] = 2;
  p.search[2] = 7;
  const ptrdiff_t halo[3] = {3, 13, 9};
  for (int t = 0; t < 200; t++) {
    bw_region box, got;
    random_box(3, shape, &box);
    bw_error err;
    CHECK(bw_nlm_input_region(&p, shape, &box, &got, &err) == BW_OK, "%s", err.message);
    for (int i = 0; i < 3; i++) {
      ptrdiff_t lo = box.start[i] - halo[i], hi = box.start[i] + box.size[i] + halo[i];
      if (lo < 0) lo = 0;
      if (hi > shape[i]) hi = shape[i];
      CHECK(got.start[i] == lo && got.size[i] == hi - lo,
            "axis %d: [%td, +%td) for box [%td, +%td)", i, got.start[i], got.size[i],
            box.start[i], box.size[i]);
    }
  }
}

/* bw_nlm_params_check gives bw_nlm's own status and message, and bw_nlm_halo
 * the radii sums worked out by hand. */
static void test_params_check_halo(void) {
  bw_nlm_params p;
  bw_error a, b;
  float in[6 * 7] = {0}, out[6 * 7];
  const ptrdiff_t shape[2] = {6, 7};
  const bw_view vin = bw_view_contiguous(in, BW_F32, 2, shape);
  const bw_view vout = bw_view_contiguous(out, BW_F32, 2, shape);
  bw_nlm_params_init(&p, 2, 2.0);
  CHECK(bw_nlm_params_check(&p, &a) == BW_OK, "defaults: %s", a.message);
  /* Each bad setting: the check and the operation agree, word for word. */
  for (int c = 0; c < 9; c++) {
    bw_nlm_params_init(&p, 2, 2.0);
    bw_status want;
    switch (c) {
    case 0: p.ndim = 4; want = BW_ERR_NDIM; break;
    case 1: p.patch[1] = BW_NLM_MAX_PATCH + 1; want = BW_ERR_PARAM; break;
    case 2: p.search[0] = -1; want = BW_ERR_PARAM; break;
    case 3: p.sigma = -1; want = BW_ERR_PARAM; break;
    case 4: p.sigma = 0; want = BW_ERR_PARAM; break; /* h 0 and sigma 0 */
    case 5: p.h = NAN; want = BW_ERR_PARAM; break;
    case 6: p.noise = BW_NLM_POISSON_GAUSSIAN; p.gain = 0; want = BW_ERR_PARAM; break;
    case 7: p.noise = (bw_nlm_noise)7; want = BW_ERR_PARAM; break;
    default: p.noise = BW_NLM_POISSON_GAUSSIAN; p.read_sigma = -2; want = BW_ERR_PARAM; break;
    }
    const bw_status got = bw_nlm_params_check(&p, &a);
    const bw_status ran = bw_nlm(&vin, NULL, &vout, NULL, NULL, &p, &b);
    CHECK(got == want && ran == want, "case %d: check %d, nlm %d, want %d", c, (int)got,
          (int)ran, (int)want);
    CHECK(!strcmp(a.message, b.message), "case %d: '%s' vs '%s'", c, a.message, b.message);
  }
  CHECK(bw_nlm_params_check(NULL, NULL) == BW_ERR_NULL, "NULL params");
  /* A Poisson-Gaussian setting with sigma 0 is valid: its h is 0.8. */
  bw_nlm_params_init(&p, 3, 0.0);
  p.noise = BW_NLM_POISSON_GAUSSIAN;
  CHECK(bw_nlm_params_check(&p, &a) == BW_OK, "Poisson-Gaussian: %s", a.message);

  /* Halo: patch + search per axis, the same before and after. */
  ptrdiff_t before[3] = {-1, -1, -1}, after[3] = {-1, -1, -1};
  bw_nlm_params_init(&p, 3, 1.0);
  p.patch[0] = 1, p.search[0] = 2;
  p.patch[1] = 0, p.search[1] = 0;
  p.patch[2] = 4, p.search[2] = 9;
  CHECK(bw_nlm_halo(&p, before, after, &a) == BW_OK, "%s", a.message);
  CHECK(before[0] == 3 && before[1] == 0 && before[2] == 13, "before %td %td %td", before[0],
        before[1], before[2]);
  CHECK(after[0] == 3 && after[1] == 0 && after[2] == 13, "after %td %td %td", after[0],
        after[1], after[2]);
  bw_nlm_params_init(&p, 2, 1.0);
  before[2] = -7;
  CHECK(bw_nlm_halo(&p, before, NULL, &a) == BW_OK, "%s", a.message);
  CHECK(before[0] == 13 && before[1] == 13 && before[2] == -7, "2-D defaults %td %td (%td)",
        before[0], before[1], before[2]);
  /* The noise does not change the halo; bad radii fail as in the map. */
  p.sigma = -5;
  CHECK(bw_nlm_halo(&p, before, after, &a) == BW_OK, "halo with bad sigma: %s", a.message);
  p.search[1] = BW_NLM_MAX_SEARCH + 1;
  CHECK(bw_nlm_halo(&p, before, after, &a) == BW_ERR_PARAM, "halo of a bad radius");
  /* The region map is the box grown by the halo: one interior pixel. */
  bw_nlm_params_init(&p, 2, 1.0);
  p.patch[0] = 2, p.search[0] = 1, p.patch[1] = 1, p.search[1] = 5;
  const ptrdiff_t big[2] = {50, 60};
  bw_region box = {{20, 30, 0}, {1, 1, 0}}, got;
  CHECK(bw_nlm_input_region(&p, big, &box, &got, &a) == BW_OK, "%s", a.message);
  CHECK(got.start[0] == 17 && got.size[0] == 7 && got.start[1] == 24 && got.size[1] == 13,
        "map [%td +%td) [%td +%td)", got.start[0], got.size[0], got.start[1], got.size[1]);
}

static void test_params_init(void) {
  bw_nlm_params p;
  memset(&p, 0xAB, sizeof p);
  bw_nlm_params_init(&p, 3, 12.5);
  CHECK(p.ndim == 3 && p.sigma == 12.5 && p.h == 0 && p.noise == BW_NLM_GAUSSIAN,
        "basic fields");
  for (int i = 0; i < 3; i++)
    CHECK(p.patch[i] == 3 && p.search[i] == 10, "radii along %d", i);
  CHECK(p.gain == 1 && p.offset == 0 && p.read_sigma == 0, "Poisson-Gaussian fields");
  /* h = 0 means 0.8 sigma. */
  const ptrdiff_t shape[2] = {15, 16};
  float img[240];
  for (int i = 0; i < 240; i++) img[i] = (float)((i * 37) % 23);
  bw_nlm_params_init(&p, 2, 4.0);
  bw_status st;
  float *a = run_whole(img, BW_F32, 2, shape, &p, BW_F32, &st);
  CHECK(a && st == BW_OK, "default h: status %d", (int)st);
  p.h = 3.2;
  float *b = run_whole(img, BW_F32, 2, shape, &p, BW_F32, &st);
  if (!b || st != BW_OK) free(a);
  CHECK(b && st == BW_OK, "h = 3.2: status %d", (int)st);
  const int same = !memcmp(a, b, sizeof img);
  free(a);
  free(b);
  CHECK(same, "h = 0 is not 0.8 sigma");
}


static const bw_test tests[] = {
    {"reference_2d", test_reference_2d},
    {"reference_3d", test_reference_3d},
    {"poisson_gaussian", test_poisson_gaussian},
    {"inverse_constant", test_inverse_constant},
    {"subregion", test_subregion},
    {"bands", test_bands},
    {"strided_views", test_strided_views},
    {"simd_paths", test_simd_paths},
    {"extremes", test_extremes},
    {"errors", test_errors},
    {"region_map", test_region_map},
    {"params_init", test_params_init},
    {"params_check_halo", test_params_check_halo},
    {"huge_h", test_huge_h},
};

int main(int argc, char **argv) {
  return bw_test_main(argc, argv, tests, sizeof tests / sizeof *tests);
}
