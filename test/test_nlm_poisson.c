/*
 * The core's non-local means under Poisson-Gaussian noise, against the
 * generalised Anscombe transform from its formula and the exact unbiased
 * inverse from its definition: E(y) = sum_k Poisson(k; y) E{f(k + n)} with
 * the Gaussian expectation by adaptive Simpson quadrature, inverted by
 * bisection.
 */
#include "nlm_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* The transform and its exact unbiased inverse                             */
/* ------------------------------------------------------------------------ */

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
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static int check_poisson(bw_dtype dt, int nd, const ptrdiff_t *shape,
                         const ptrdiff_t *patch, const ptrdiff_t *search,
                         double lo, double hi, double gain, double offset,
                         double read_sigma) {
  const size_t n = prod(shape, nd);
  void *img = malloc(n * bw_dtype_size(dt));
  fluorescence(img, dt, nd, shape, lo, hi, gain, offset, read_sigma);
  bw_nlm_params p;
  nlm_params_radii(&p, nd, 0.0, patch, search);
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

void test_poisson_gaussian(void) {
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
void test_inverse_constant(void) {
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
