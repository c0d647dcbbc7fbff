/*
 * The generalised Anscombe transform of the Poisson-Gaussian noise model of
 * non-local means and its exact unbiased inverse (see bw_nlm_gat.h).
 *
 * In photo-electron units (u = (z - offset) / gain, s = read_sigma / gain)
 * the data are u = k + n, k ~ Poisson(y), n ~ N(0, s^2), and the transform
 * is f(u) = 2 sqrt(max(u + 3/8 + s^2, 0)).  Its exact unbiased inverse maps
 * a value D to the y for which E{f(u) | y} = D:
 *
 *   E(y) = sum_k Poisson(k; y) g(k),   g(k) = E{f(k + n)},
 *
 * increasing in y.  D <= E(0) maps to 0.  E is tabulated once per call at
 * nodes y_i = (i * 20 / M)^2 (y up to 400) with its derivative
 * E'(y) = sum_k Poisson(k; y) (g(k + 1) - g(k)), and inverted by cubic
 * Hermite interpolation of y(D) between nodes.  Above the table, E comes
 * from the expansion of E{2 sqrt(X)} in the central moments of
 * X = u + 3/8 + s^2 (mean m = y + 3/8 + s^2; cumulants: y + s^2 for the
 * second, y for every higher one) to sixth order, whose truncation error is
 * below 1e-10 relative there, inverted by Newton steps.
 */
#include "bw_nlm_gat.h"

#include <math.h>
#include <stdlib.h>

#define BW_GAT_SMAX 20.0 /* sqrt of the largest tabulated y */

static double gat_normal(double n, double s) {
  const double q = n / s;
  return exp(-0.5 * q * q) / (s * 2.5066282746310002);
}

/* g(k) = E{2 sqrt(max(a + n, 0))} with a = k + c, n ~ N(0, s^2). */
static double gat_g(double a, double s) {
  if (s == 0.0) return 2.0 * sqrt(a);
  if (a > 12.0 * s) {
    /* E sqrt(a + n) = sqrt(a) sum_j binom(1/2, 2j) E n^2j / a^2j. */
    const double r = s * s / (a * a);
    return 2.0 * sqrt(a) *
           (1.0 - r * (1.0 / 8.0 + r * (15.0 / 128.0 +
                                        r * (315.0 / 1024.0 + r * (45045.0 / 32768.0)))));
  }
  /* Where the Gaussian reaches the kink at n = -a: with n = t^2 - a the
   * integrand 2 sqrt(a + n) phi(n) dn becomes the smooth 4 t^2 phi(t^2 - a)
   * dt on [0, sqrt(a + 12 s)] (beyond 12 s the Gaussian has no mass left
   * that double precision sees).  Simpson's rule. */
  const int m = 512;
  const double tmax = sqrt(a + 12.0 * s), dt = tmax / m;
  double sum = 0.0;
  for (int i = 0; i <= m; i++) {
    const double t = i * dt;
    const double f = 4.0 * t * t * gat_normal(t * t - a, s);
    sum += f * (i == 0 || i == m ? 1.0 : (i % 2 ? 4.0 : 2.0));
  }
  return sum * dt / 3.0;
}

/* E(y) and E'(y) from the g table (g[k] for k <= kmax + 1). */
static void gat_expect(double y, const double *g, double *e, double *de) {
  if (y == 0.0) {
    *e = g[0];
    *de = g[1] - g[0];
    return;
  }
  const double sd = sqrt(y);
  ptrdiff_t k0 = (ptrdiff_t)floor(y - 12.0 * sd - 12.0);
  ptrdiff_t k1 = (ptrdiff_t)ceil(y + 12.0 * sd + 12.0);
  if (k0 < 0) k0 = 0;
  const ptrdiff_t mode = (ptrdiff_t)floor(y);
  const double pm = exp((double)mode * log(y) - y - lgamma((double)mode + 1.0));
  double se = 0.0, sde = 0.0, pk = pm;
  for (ptrdiff_t k = mode; k <= k1; k++) {
    se += pk * g[k];
    sde += pk * (g[k + 1] - g[k]);
    pk *= y / (double)(k + 1);
  }
  pk = pm;
  for (ptrdiff_t k = mode - 1; k >= k0; k--) {
    pk *= (double)(k + 1) / y;
    se += pk * g[k];
    sde += pk * (g[k + 1] - g[k]);
  }
  *e = se;
  *de = sde;
}

/* E(y) above the table, from the central moments of X. */
static double gat_expect_asym(const bw_gat *t, double y) {
  const double m = y + t->c, k2 = y + t->s2;
  const double mu2 = k2, mu3 = y, mu4 = y + 3.0 * k2 * k2,
               mu5 = y + 10.0 * y * k2,
               mu6 = y + 15.0 * y * k2 + 10.0 * y * y + 15.0 * k2 * k2 * k2;
  const double i = 1.0 / m;
  const double series =
      1.0 - mu2 * i * i / 8.0 + mu3 * i * i * i / 16.0 -
      5.0 * mu4 * i * i * i * i / 128.0 + 7.0 * mu5 * i * i * i * i * i / 256.0 -
      21.0 * mu6 * i * i * i * i * i * i / 1024.0;
  return 2.0 * sqrt(m) * series;
}

bw_status bw_gat_init(bw_gat *t, const bw_nlm_params *p, bw_error *err) {
  t->gain = p->gain;
  t->offset = p->offset;
  const double s = p->read_sigma / p->gain;
  t->s2 = s * s;
  t->c = 0.375 + t->s2;
  const double ymax = BW_GAT_SMAX * BW_GAT_SMAX;
  const ptrdiff_t kmax = (ptrdiff_t)ceil(ymax + 12.0 * BW_GAT_SMAX + 12.0) + 2;
  double *g = malloc((size_t)(kmax + 1) * sizeof *g);
  if (!g) return bw_fail(err, BW_ERR_NOMEM, "nlm: no memory for the inverse table");
  for (ptrdiff_t k = 0; k <= kmax; k++) g[k] = gat_g((double)k + t->c, s);
  for (int i = 0; i <= BW_GAT_NODES; i++) {
    const double sq = BW_GAT_SMAX * i / BW_GAT_NODES;
    double e, de;
    t->y[i] = sq * sq;
    gat_expect(t->y[i], g, &e, &de);
    t->d[i] = e;
    t->slope[i] = 1.0 / de;
  }
  free(g);
  return BW_OK;
}

double bw_gat_inverse(const bw_gat *t, double d) {
  double y;
  if (!(d > t->d[0])) {
    y = 0.0;
  } else if (d < t->d[BW_GAT_NODES]) {
    int lo = 0, hi = BW_GAT_NODES;
    while (hi - lo > 1) {
      const int mid = (lo + hi) / 2;
      if (t->d[mid] <= d)
        lo = mid;
      else
        hi = mid;
    }
    const double w = t->d[hi] - t->d[lo], u = (d - t->d[lo]) / w;
    const double u2 = u * u, u3 = u2 * u;
    y = (2.0 * u3 - 3.0 * u2 + 1.0) * t->y[lo] + (u3 - 2.0 * u2 + u) * w * t->slope[lo] +
        (-2.0 * u3 + 3.0 * u2) * t->y[hi] + (u3 - u2) * w * t->slope[hi];
  } else {
    /* Newton steps on the expansion, with the slope 1 / sqrt(m) of its
     * leading term (the others change it by less than 1/(8m)). */
    y = 0.25 * d * d + 0.25 - t->c;
    for (int it = 0; it < 6; it++)
      y -= (gat_expect_asym(t, y) - d) * sqrt(y + t->c);
  }
  return t->gain * y + t->offset;
}
