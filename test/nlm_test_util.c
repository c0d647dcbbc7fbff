/*
 * Helpers of the tests of the core's non-local means (nlm_test_util.h).
 */
#include "nlm_test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

void dtype_range(bw_dtype dt, double *lo, double *span) {
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

size_t prod(const ptrdiff_t *s, int nd) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)s[i];
  return n;
}

double fill_image(void *p, bw_dtype dt, int nd, const ptrdiff_t *shape,
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
    bw_test_set(p, dt, i, v);
  }
  return noise * span;
}

void fluorescence(void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
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
    bw_test_set(img, dt, i, z);
  }
}

/* ------------------------------------------------------------------------ */
/* The per-pixel reference                                                  */
/* ------------------------------------------------------------------------ */

void ref_nlm(const double *v, const ptrdiff_t *n, const ptrdiff_t *p,
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

/* ------------------------------------------------------------------------ */
/* Runs                                                                     */
/* ------------------------------------------------------------------------ */

void nlm_params_radii(bw_nlm_params *p, int nd, double sigma, const ptrdiff_t *patch,
                      const ptrdiff_t *search) {
  bw_nlm_params_init(p, nd, sigma);
  for (int i = 0; i < nd; i++) {
    p->patch[i] = patch[i];
    p->search[i] = search[i];
  }
}

void *run_whole(const void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
                const bw_nlm_params *p, bw_dtype odt, bw_status *st) {
  void *out = calloc(prod(shape, nd), bw_dtype_size(odt));
  bw_view in = bw_view_contiguous((void *)img, dt, nd, shape);
  bw_view ov = bw_view_contiguous(out, odt, nd, shape);
  bw_error err;
  *st = bw_nlm(&in, NULL, &ov, NULL, NULL, p, &err);
  if (*st) fprintf(stderr, "bw_nlm: %s\n", err.message);
  return out;
}

void shape3(int nd, const ptrdiff_t *shape, const ptrdiff_t *a,
            ptrdiff_t *out3, ptrdiff_t fill) {
  for (int i = 0; i < 3; i++) out3[i] = fill;
  for (int i = 0; i < nd; i++) out3[3 - nd + i] = a ? a[i] : shape[i];
}
