/*
 * Tests of Richardson-Lucy deconvolution (bw_deconv.h), all named deconv.*:
 * the FFT-based iterations, plain and Biggs-Andrews accelerated, against a
 * straightforward spatial-domain
 * Richardson-Lucy written here (direct sums over the PSF, in double), for
 * both boundaries, 2-D and 3-D, odd and even PSFs off their centre; what
 * the boundaries promise (flux, non-negativity, no wrap-around); plans
 * reused; pieces with the exact halo against the whole; bad input.
 */
#include "bw_deconv.h"
#include "bw_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The oracle: Richardson-Lucy by direct sums                              */
/* ------------------------------------------------------------------------ */

/* Everything as 3-D (a leading extent of 1 in 2-D). */
typedef struct {
  ptrdiff_t n[3], m[3], c[3]; /* image, PSF, PSF centre */
} geom;

/* B f at image pixel x: sum_i h[i] f(x - (i - c)); periodic wraps f's
 * index over the image, non-circulant reads f on the object grid, whose
 * pixel 0 is image pixel -(m - 1 - c). */
static double blur_at(const geom *G, const double *h, const double *f, const ptrdiff_t *on,
                      const ptrdiff_t *lo, int periodic, ptrdiff_t z, ptrdiff_t y, ptrdiff_t x) {
  double s = 0;
  for (ptrdiff_t a = 0; a < G->m[0]; a++)
    for (ptrdiff_t b = 0; b < G->m[1]; b++)
      for (ptrdiff_t k = 0; k < G->m[2]; k++) {
        ptrdiff_t p[3] = {z - (a - G->c[0]), y - (b - G->c[1]), x - (k - G->c[2])};
        for (int d = 0; d < 3; d++)
          p[d] = periodic ? ((p[d] % G->n[d]) + G->n[d]) % G->n[d] : p[d] - lo[d];
        s += h[(a * G->m[1] + b) * G->m[2] + k] * f[(p[0] * on[1] + p[1]) * on[2] + p[2]];
      }
  return s;
}

/* Runs @iters iterations of the textbook algorithm on image @g (geometry
 * @G, PSF @h normalised here) and returns the estimate on the image's
 * pixels (allocated). */
/* Total variation (bw_rl_params.tv) at every object pixel: div(grad f /
 * |grad f|), forward differences for the gradient and backward ones for
 * the divergence, between pixels that see the image (norm > 1e-3) only;
 * periodic: around the period; non-circulant: within the object grid. */
static void tv_divergence(const ptrdiff_t *on, int periodic, const double *norm, const double *f,
                          double eta, double *div) {
#define SEEN(o) (periodic || norm[o] > 1e-3)
  const ptrdiff_t st[3] = {on[1] * on[2], on[2], 1};
  const size_t    no = (size_t)(on[0] * on[1] * on[2]);
  double         *u = malloc(3 * no * sizeof *u); /* grad f / |grad f| */
  for (ptrdiff_t z = 0; z < on[0]; z++)
    for (ptrdiff_t y = 0; y < on[1]; y++)
      for (ptrdiff_t x = 0; x < on[2]; x++) {
        const ptrdiff_t q[3] = {z, y, x}, o = z * st[0] + y * st[1] + x;
        double g[3], n2 = eta * eta;
        for (int d = 0; d < 3; d++) {
          ptrdiff_t up = -1;
          if (on[d] > 1 && (periodic || q[d] + 1 < on[d]))
            up = o + ((q[d] + 1) % on[d] - q[d]) * st[d];
          g[d] = up >= 0 && SEEN(o) && SEEN(up) ? f[up] - f[o] : 0;
          n2 += g[d] * g[d];
        }
        for (int d = 0; d < 3; d++) u[3 * (size_t)o + d] = g[d] / sqrt(n2);
      }
  for (ptrdiff_t z = 0; z < on[0]; z++)
    for (ptrdiff_t y = 0; y < on[1]; y++)
      for (ptrdiff_t x = 0; x < on[2]; x++) {
        const ptrdiff_t q[3] = {z, y, x}, o = z * st[0] + y * st[1] + x;
        double v = 0;
        for (int d = 0; d < 3; d++) {
          v += u[3 * (size_t)o + d];
          if (on[d] > 1 && (periodic || q[d] > 0)) {
            const ptrdiff_t down = o + ((q[d] + on[d] - 1) % on[d] - q[d]) * st[d];
            if (SEEN(down)) v -= u[3 * (size_t)down + d];
          }
        }
        div[o] = v;
      }
  free(u);
#undef SEEN
}

static double *rl_reference(const geom *G, const double *g, const double *h_in, int iters, int periodic,
                            double epsilon, int accelerate, double tv) {
  size_t nh = (size_t)(G->m[0] * G->m[1] * G->m[2]), ng = (size_t)(G->n[0] * G->n[1] * G->n[2]);
  double *h = malloc(nh * sizeof *h), sum = 0, top = 0;
  for (size_t i = 0; i < nh; i++) sum += h_in[i];
  for (size_t i = 0; i < nh; i++) h[i] = h_in[i] / sum;
  for (size_t i = 0; i < ng; i++) top = fmax(top, fabs(g[i]));
  /* the object grid: the image (periodic), or every pixel that reaches it */
  ptrdiff_t lo[3], on[3];
  for (int d = 0; d < 3; d++) {
    lo[d] = periodic ? 0 : -(G->m[d] - 1 - G->c[d]);
    on[d] = periodic ? G->n[d] : G->n[d] + G->m[d] - 1;
  }
  size_t no = (size_t)(on[0] * on[1] * on[2]);
  double *f = malloc(no * sizeof *f), *norm = malloc(no * sizeof *norm), *ratio = malloc(ng * sizeof *ratio);
  /* Biggs-Andrews: the estimate before, the last change, the step from */
  double *before = calloc(no, sizeof *before), *change = calloc(no, sizeof *change), *from = malloc(no * sizeof *from);
  double *div = calloc(no, sizeof *div);
  double alpha = 0;
  /* N = B^T 1 over the image; the first estimate */
  for (ptrdiff_t z = 0; z < on[0]; z++)
    for (ptrdiff_t y = 0; y < on[1]; y++)
      for (ptrdiff_t x = 0; x < on[2]; x++) {
        const ptrdiff_t o = (z * on[1] + y) * on[2] + x;
        const ptrdiff_t p[3] = {z + lo[0], y + lo[1], x + lo[2]};
        double s = 0;
        for (ptrdiff_t a = 0; a < G->m[0]; a++)
          for (ptrdiff_t b = 0; b < G->m[1]; b++)
            for (ptrdiff_t k = 0; k < G->m[2]; k++) {
              const ptrdiff_t q[3] = {p[0] + a - G->c[0], p[1] + b - G->c[1], p[2] + k - G->c[2]};
              if (periodic || (q[0] >= 0 && q[0] < G->n[0] && q[1] >= 0 && q[1] < G->n[1] && q[2] >= 0 &&
                               q[2] < G->n[2]))
                s += h[(a * G->m[1] + b) * G->m[2] + k];
            }
        norm[o] = s;
        const int inside = p[0] >= 0 && p[0] < G->n[0] && p[1] >= 0 && p[1] < G->n[1] && p[2] >= 0 && p[2] < G->n[2];
        ptrdiff_t at[3]; /* the nearest image pixel */
        for (int d = 0; d < 3; d++) at[d] = p[d] < 0 ? 0 : p[d] >= G->n[d] ? G->n[d] - 1 : p[d];
        f[o] = inside || s > 1e-3 ? g[(at[0] * G->n[1] + at[1]) * G->n[2] + at[2]] : 0;
      }
  for (int it = 0; it < iters; it++) {
    for (size_t o = 0; o < no; o++) {
      const double y = accelerate ? f[o] + alpha * (f[o] - (it ? before[o] : f[o])) : f[o];
      before[o] = f[o];
      from[o] = f[o] = y > 0 ? y : 0;
    }
    for (ptrdiff_t z = 0; z < G->n[0]; z++)
      for (ptrdiff_t y = 0; y < G->n[1]; y++)
        for (ptrdiff_t x = 0; x < G->n[2]; x++) {
          const size_t i = (size_t)((z * G->n[1] + y) * G->n[2] + x);
          const double b = blur_at(G, h, f, on, lo, periodic, z, y, x);
          ratio[i] = b > epsilon * top ? g[i] / b : 0;
        }
    /* f *= B^T ratio / N: correlation, over the image's pixels; with total
     * variation, also / (1 - tv div), at least 0.1 */
    if (tv > 0) tv_divergence(on, periodic, norm, f, BW_RL_TV_SMOOTHING * top, div);
    for (ptrdiff_t z = 0; z < on[0]; z++)
      for (ptrdiff_t y = 0; y < on[1]; y++)
        for (ptrdiff_t x = 0; x < on[2]; x++) {
          const ptrdiff_t o = (z * on[1] + y) * on[2] + x;
          const ptrdiff_t p[3] = {z + lo[0], y + lo[1], x + lo[2]};
          double s = 0;
          for (ptrdiff_t a = 0; a < G->m[0]; a++)
            for (ptrdiff_t b = 0; b < G->m[1]; b++)
              for (ptrdiff_t k = 0; k < G->m[2]; k++) {
                ptrdiff_t q[3] = {p[0] + a - G->c[0], p[1] + b - G->c[1], p[2] + k - G->c[2]};
                if (periodic)
                  for (int d = 0; d < 3; d++) q[d] = ((q[d] % G->n[d]) + G->n[d]) % G->n[d];
                else if (!(q[0] >= 0 && q[0] < G->n[0] && q[1] >= 0 && q[1] < G->n[1] && q[2] >= 0 &&
                           q[2] < G->n[2]))
                  continue;
                s += h[(a * G->m[1] + b) * G->m[2] + k] * ratio[(q[0] * G->n[1] + q[1]) * G->n[2] + q[2]];
              }
          const double den = 1 - tv * div[o];
          f[o] = norm[o] > 1e-3 ? f[o] * s / norm[o] / (den > BW_RL_MIN_TV_DIVISOR ? den : BW_RL_MIN_TV_DIVISOR) : 0;
        }
    double cross = 0, energy = 0;
    for (size_t o = 0; o < no; o++) {
      const double step = f[o] - from[o];
      cross += step * change[o];
      energy += change[o] * change[o];
      change[o] = step;
    }
    alpha = it >= 1 && energy > 0 ? fmin(fmax(cross / energy, 0), BW_RL_MAX_ALPHA) : 0;
  }
  double *out = malloc(ng * sizeof *out);
  for (ptrdiff_t z = 0; z < G->n[0]; z++)
    for (ptrdiff_t y = 0; y < G->n[1]; y++)
      for (ptrdiff_t x = 0; x < G->n[2]; x++)
        out[(z * G->n[1] + y) * G->n[2] + x] = f[((z - lo[0]) * on[1] + (y - lo[1])) * on[2] + (x - lo[2])];
  free(h);
  free(f);
  free(norm);
  free(ratio);
  free(before);
  free(change);
  free(from);
  free(div);
  return out;
}

/* A blurred scene of beads on a dim background, with Poisson-like noise:
 * positive, with structure at the edges (where the boundaries differ). */
static void scene(const geom *G, const double *h, double *g) {
  size_t ng = (size_t)(G->n[0] * G->n[1] * G->n[2]);
  double *truth = calloc(ng, sizeof *truth);
  for (size_t i = 0; i < ng; i++) truth[i] = 5 + (rnd_unit() < 0.08 ? 400 * rnd_unit() : 0);
  ptrdiff_t on[3] = {G->n[0], G->n[1], G->n[2]}, lo[3] = {0, 0, 0};
  double hs = 0;
  for (ptrdiff_t i = 0; i < G->m[0] * G->m[1] * G->m[2]; i++) hs += h[i];
  for (ptrdiff_t z = 0; z < G->n[0]; z++)
    for (ptrdiff_t y = 0; y < G->n[1]; y++)
      for (ptrdiff_t x = 0; x < G->n[2]; x++) {
        const double b = blur_at(G, h, truth, on, lo, 1, z, y, x) / hs;
        g[(z * G->n[1] + y) * G->n[2] + x] = fmax(0, b + sqrt(b) * rnd_normal());
      }
  free(truth);
}

/* ours on @g (float32 input) against the oracle, relative to the oracle's
 * largest value */
static double compare(const geom *G, int nd, const double *g, const double *h, int iters, int periodic,
                      int accelerate, double tv, const ptrdiff_t *centre, bw_error *e) {
  const size_t ng = (size_t)(G->n[0] * G->n[1] * G->n[2]), nh = (size_t)(G->m[0] * G->m[1] * G->m[2]);
  float *gf = malloc(ng * sizeof *gf), *out = malloc(ng * sizeof *out);
  for (size_t i = 0; i < ng; i++) gf[i] = (float)g[i];
  double *g32 = malloc(ng * sizeof *g32);
  for (size_t i = 0; i < ng; i++) g32[i] = gf[i];
  bw_rl_params p;
  bw_rl_params_init(&p, nd);
  p.iterations = iters;
  p.boundary = periodic ? BW_RL_PERIODIC : BW_RL_NONCIRCULANT;
  p.accelerate = accelerate;
  p.tv = tv;
  if (centre)
    for (int d = 0; d < nd; d++) p.psf_centre[d] = centre[3 - nd + d];
  const ptrdiff_t *n = G->n + (3 - nd), *m = G->m + (3 - nd);
  bw_view psf = bw_view_contiguous((void *)h, BW_F64, nd, m);
  bw_rl_plan *plan = NULL;
  double worst = INFINITY;
  if (bw_rl_plan_new(&p, n, &psf, &plan, e) == BW_OK) {
    bw_view in = bw_view_contiguous(gf, BW_F32, nd, n), o = bw_view_contiguous(out, BW_F32, nd, n);
    if (bw_rl_deconvolve(plan, &in, &o, e) == BW_OK) {
      double *want = rl_reference(G, g32, h, iters, periodic, p.epsilon, accelerate, tv), top = 0;
      worst = 0;
      for (size_t i = 0; i < ng; i++) top = fmax(top, fabs(want[i]));
      for (size_t i = 0; i < ng; i++) worst = fmax(worst, fabs(out[i] - want[i]) / top);
      free(want);
    }
  }
  bw_rl_plan_free(plan);
  (void)nh;
  free(gf);
  free(out);
  free(g32);
  return worst;
}

/* The FFT iterations are the textbook algorithm: 2-D and 3-D, both
 * boundaries, odd, even and elongated PSFs, centres of mass and given
 * centres off the middle; within 1e-4 of the float64 direct sums (relative
 * to the largest value) after 1, 5 and 20 iterations. */
static void test_reference(void) {
  struct {
    int nd;
    ptrdiff_t n[3], m[3];
    int given; /* the centre given, off the centre of mass */
  } cases[] = {
      {2, {1, 23, 31}, {1, 5, 3}, 0}, {2, {1, 17, 16}, {1, 4, 6}, 1}, {2, {1, 12, 40}, {1, 1, 9}, 0},
      {3, {7, 11, 10}, {3, 3, 5}, 0}, {3, {6, 9, 12}, {5, 2, 3}, 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    geom G;
    memcpy(G.n, cases[k].n, sizeof G.n);
    memcpy(G.m, cases[k].m, sizeof G.m);
    const size_t nh = (size_t)(G.m[0] * G.m[1] * G.m[2]), ng = (size_t)(G.n[0] * G.n[1] * G.n[2]);
    double *h = malloc(nh * sizeof *h), *g = malloc(ng * sizeof *g);
    /* an asymmetric PSF: a Gaussian-like bump off-centre, plus a floor */
    double mz = 0, my = 0, mx = 0, s = 0;
    for (ptrdiff_t a = 0; a < G.m[0]; a++)
      for (ptrdiff_t b = 0; b < G.m[1]; b++)
        for (ptrdiff_t c = 0; c < G.m[2]; c++) {
          const double dz = a - 0.4 * (double)G.m[0], dy = b - 0.6 * (double)G.m[1], dx = c - 0.3 * (double)G.m[2];
          const double v = exp(-(dz * dz + dy * dy + dx * dx) / 3.0) + 0.02 * rnd_unit();
          h[(a * G.m[1] + b) * G.m[2] + c] = v;
          s += v, mz += v * (double)a, my += v * (double)b, mx += v * (double)c;
        }
    const ptrdiff_t com[3] = {(ptrdiff_t)floor(mz / s + 0.5), (ptrdiff_t)floor(my / s + 0.5),
                              (ptrdiff_t)floor(mx / s + 0.5)};
    ptrdiff_t given[3];
    for (int d = 0; d < 3; d++) {
      G.c[d] = com[d];
      given[d] = G.m[d] - 1; /* the last pixel: far off the centre of mass */
    }
    if (cases[k].given) memcpy(G.c, given, sizeof G.c);
    scene(&G, h, g);
    /* plain, accelerated, and with total variation (0.002; 0.02 shows
     * the divisor's floor at work) */
    for (int variant = 0; variant < 4; variant++)
      for (int periodic = 0; periodic <= 1; periodic++)
        for (int iters = 1; iters <= 20; iters = iters == 1 ? 5 : iters * 4) {
          bw_error     e = {BW_OK, ""};
          const int    accelerate = variant == 1;
          const double tv = variant == 2 ? 0.002 : variant == 3 ? 0.02 : 0;
          const double worst = compare(&G, cases[k].nd, g, h, iters, periodic, accelerate, tv,
                                       cases[k].given ? given : NULL, &e);
          CHECK(worst < 1e-4, "case %zu, %s%s, tv %g, %d iterations: relative error %g (%s)", k,
                periodic ? "periodic" : "non-circulant", accelerate ? ", accelerated" : "", tv, iters,
                worst, e.message);
        }
    free(h);
    free(g);
  }
}

/* What the boundaries promise: periodic keeps the flux (the sum of a
 * non-negative image) to float precision; non-circulant does not wrap a
 * bright edge around to the opposite one; both stay non-negative; zero
 * iterations give the image; a plan gives the same bits on every call. */
static void test_boundaries(void) {
  const ptrdiff_t n[2] = {40, 48}, m[2] = {9, 9};
  float *g = malloc(sizeof(float) * 40 * 48), *out = malloc(sizeof(float) * 40 * 48),
        *again = malloc(sizeof(float) * 40 * 48);
  double h[81];
  for (int i = 0; i < 81; i++) {
    const double dy = i / 9 - 4, dx = i % 9 - 4;
    h[i] = exp(-(dy * dy + dx * dx) / 4.0);
  }
  /* dark, with a bright band along the left edge and a few beads */
  for (int i = 0; i < 40 * 48; i++)
    g[i] = (float)(1 + (i % 48 < 3 ? 500 : 0) + (i % 48 < 36 && rnd_unit() < 0.01 ? 300 : 0));
  bw_view psf = bw_view_contiguous(h, BW_F64, 2, m);
  bw_view in = bw_view_contiguous(g, BW_F32, 2, n), o = bw_view_contiguous(out, BW_F32, 2, n);
  bw_view o2 = bw_view_contiguous(again, BW_F32, 2, n);
  bw_error e = {BW_OK, ""};
  for (int periodic = 0; periodic <= 1; periodic++) {
    bw_rl_params p;
    bw_rl_params_init(&p, 2);
    p.boundary = periodic ? BW_RL_PERIODIC : BW_RL_NONCIRCULANT;
    p.iterations = 30;
    bw_rl_plan *plan = NULL;
    CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
    CHECK(bw_rl_deconvolve(plan, &in, &o, &e) == BW_OK, "deconvolve: %s", e.message);
    CHECK(bw_rl_deconvolve(plan, &in, &o2, &e) == BW_OK, "again: %s", e.message);
    CHECK(memcmp(out, again, sizeof(float) * 40 * 48) == 0, "a plan gives other bits the second time");
    double sg = 0, so = 0, right = 0, low = INFINITY;
    for (int i = 0; i < 40 * 48; i++) {
      sg += g[i], so += out[i], low = fmin(low, out[i]);
      if (i % 48 >= 45) right += out[i] / (40 * 3);
    }
    CHECK(low >= 0, "%s: a negative value %g", periodic ? "periodic" : "non-circulant", low);
    if (periodic)
      CHECK(fabs(so - sg) < 1e-4 * sg, "periodic flux %g, the image's %g", so, sg);
    else
      CHECK(right < 5, "non-circulant: the right edge %g: the bright left edge wrapped around", right);
    /* 0 iterations: the image itself */
    bw_rl_plan_free(plan);
    p.iterations = 0;
    CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
    CHECK(bw_rl_deconvolve(plan, &in, &o, &e) == BW_OK, "deconvolve: %s", e.message);
    CHECK(memcmp(out, g, sizeof(float) * 40 * 48) == 0, "0 iterations are not the image");
    /* in place */
    memcpy(again, g, sizeof(float) * 40 * 48);
    p.iterations = 3;
    bw_rl_plan_free(plan);
    CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
    CHECK(bw_rl_deconvolve(plan, &in, &o, &e) == BW_OK, "deconvolve: %s", e.message);
    bw_view inplace = bw_view_contiguous(again, BW_F32, 2, n);
    CHECK(bw_rl_deconvolve(plan, &inplace, &inplace, &e) == BW_OK, "in place: %s", e.message);
    CHECK(memcmp(out, again, sizeof(float) * 40 * 48) == 0, "in place differs");
    CHECK(bw_rl_plan_bytes(plan) > sizeof(float) * 40 * 48 * 3, "plan bytes %zu", bw_rl_plan_bytes(plan));
    size_t planned = 0;
    CHECK(bw_rl_plan_size(&p, n, m, &planned, &e) == BW_OK && planned == bw_rl_plan_bytes(plan),
          "the size without a plan %zu, the plan's %zu (%s)", planned, bw_rl_plan_bytes(plan), e.message);
    bw_rl_plan_free(plan);
  }
  free(g);
  free(out);
  free(again);
}

/* Pieces with the exact halo give the whole image's result (to float
 * rounding: their transforms have other sizes), in the middle and at the
 * image's edges; a halo of one iteration's reach does not.  3-D, an
 * elongated PSF off its centre. */
/* *@worst: the largest difference, relative to @top, between @whole (the
 * 10 x 40 x 36 image @all deconvolved whole) and the image put together
 * from 2 x 3 pieces across Y and X (the whole of Z), each deconvolved from
 * its input region for @halo; infinity when a call failed. */
static void pieces_error(const bw_rl_params *p, const bw_view *psf, const bw_view *all, const float *whole,
                         double top, const ptrdiff_t *halo, bw_error *e, double *worst) {
  const ptrdiff_t n[3] = {10, 40, 36};
  *worst = INFINITY;
  double w = 0;
  for (int py = 0; py < 2; py++)
    for (int px = 0; px < 3; px++) {
      bw_region out = {{0, py * 20, px * 12}, {10, 20, 12}}, in;
      CHECK(bw_rl_input_region(3, halo, psf->shape, n, &out, &in, e) == BW_OK, "region: %s", e->message);
      bw_view src;
      CHECK(bw_view_subview(all, &in, &src, e) == BW_OK, "subview");
      float *res = malloc(sizeof(float) * (size_t)(in.size[0] * in.size[1] * in.size[2]));
      bw_view rv = bw_view_contiguous(res, BW_F32, 3, in.size);
      bw_rl_plan *plan = NULL;
      CHECK(bw_rl_plan_new(p, in.size, psf, &plan, e) == BW_OK, "plan: %s", e->message);
      CHECK(bw_rl_deconvolve(plan, &src, &rv, e) == BW_OK, "piece: %s", e->message);
      bw_rl_plan_free(plan);
      for (ptrdiff_t z = 0; z < 10; z++)
        for (ptrdiff_t y = out.start[1]; y < out.start[1] + 20; y++)
          for (ptrdiff_t x = out.start[2]; x < out.start[2] + 12; x++) {
            const float v = res[((z - in.start[0]) * in.size[1] + (y - in.start[1])) * in.size[2] + (x - in.start[2])];
            w = fmax(w, fabs(v - whole[(z * 40 + y) * 36 + x]) / top);
          }
      free(res);
    }
  *worst = w;
}

static void test_pieces(void) {
  const ptrdiff_t n[3] = {10, 40, 36}, m[3] = {5, 3, 7};
  const size_t ng = 10 * 40 * 36;
  double h[5 * 3 * 7];
  for (int i = 0; i < 5 * 3 * 7; i++) {
    const double dz = i / 21 - 1.5, dy = (i / 7) % 3 - 1.0, dx = i % 7 - 3.5;
    h[i] = exp(-(dz * dz / 2 + dy * dy + dx * dx / 6));
  }
  float *g = malloc(ng * sizeof *g), *whole = malloc(ng * sizeof *whole), *pieced = malloc(ng * sizeof *pieced);
  for (size_t i = 0; i < ng; i++) g[i] = (float)(10 + (rnd_unit() < 0.05 ? 1000 * rnd_unit() : 0) + rnd_unit());
  bw_rl_params p;
  bw_rl_params_init(&p, 3);
  p.iterations = 4;
  bw_error e = {BW_OK, ""};
  bw_view psf = bw_view_contiguous(h, BW_F64, 3, m), all = bw_view_contiguous(g, BW_F32, 3, n);
  bw_rl_plan *plan = NULL;
  CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
  bw_view wv = bw_view_contiguous(whole, BW_F32, 3, n);
  CHECK(bw_rl_deconvolve(plan, &all, &wv, &e) == BW_OK, "whole: %s", e.message);
  bw_rl_plan_free(plan);
  double top = 0;
  for (size_t i = 0; i < ng; i++) top = fmax(top, whole[i]);
  /* FFTW on 3 threads: the same result, to float rounding */
  p.threads = 3;
  CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
  bw_view pv = bw_view_contiguous(pieced, BW_F32, 3, n);
  CHECK(bw_rl_deconvolve(plan, &all, &pv, &e) == BW_OK, "threads: %s", e.message);
  bw_rl_plan_free(plan);
  p.threads = 1;
  for (size_t i = 0; i < ng; i++)
    CHECK(fabs(pieced[i] - whole[i]) <= 1e-5 * top, "3 FFT threads: %g against %g", pieced[i], whole[i]);

  ptrdiff_t exact[3];
  CHECK(bw_rl_exact_halo(&p, m, exact, &e) == BW_OK, "halo: %s", e.message);
  CHECK(exact[0] == 16 && exact[1] == 8 && exact[2] == 24, "exact halo %td %td %td", exact[0], exact[1], exact[2]);
  const ptrdiff_t small[3] = {4, 2, 6};
  double err_exact, err_small, err_tv;
  pieces_error(&p, &psf, &all, whole, top, exact, &e, &err_exact);
  pieces_error(&p, &psf, &all, whole, top, small, &e, &err_small);
  CHECK(err_exact < 1e-5, "pieces with the exact halo: relative error %g", err_exact);
  CHECK(err_small > 100 * err_exact && err_small > 1e-4, "a halo of one iteration: error %g, exact %g", err_small,
        err_exact);
  /* with total variation, which reads a pixel each way per iteration: the
   * exact halo still gives the whole image's result */
  p.tv = 0.01;
  CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
  CHECK(bw_rl_deconvolve(plan, &all, &wv, &e) == BW_OK, "whole: %s", e.message);
  bw_rl_plan_free(plan);
  pieces_error(&p, &psf, &all, whole, top, exact, &e, &err_tv);
  CHECK(err_tv < 1e-5, "total variation, pieces with the exact halo: relative error %g", err_tv);
  p.tv = 0;
  /* the region map's own checks */
  bw_region bad = {{0, 30, 0}, {10, 11, 36}}, in;
  CHECK(bw_rl_input_region(3, exact, m, n, &bad, &in, &e) == BW_ERR_REGION, "outside: %s", e.message);
  const ptrdiff_t negative[3] = {0, -1, 0};
  bw_region ok = {{0, 0, 0}, {10, 40, 36}};
  CHECK(bw_rl_input_region(3, negative, m, n, &ok, &in, &e) == BW_ERR_PARAM, "negative halo: %s", e.message);
  /* a piece thinner than the PSF grows to its extent, inside the image */
  const ptrdiff_t none[3] = {0, 0, 0};
  bw_region thin = {{9, 39, 17}, {1, 1, 2}};
  CHECK(bw_rl_input_region(3, none, m, n, &thin, &in, &e) == BW_OK, "thin: %s", e.message);
  CHECK(in.start[0] == 5 && in.size[0] == 5 && in.start[1] == 37 && in.size[1] == 3 && in.start[2] == 15 &&
            in.size[2] == 7,
        "thin piece grown to [%td +%td, %td +%td, %td +%td]", in.start[0], in.size[0], in.start[1], in.size[1],
        in.start[2], in.size[2]);
  const ptrdiff_t huge[3] = {11, 3, 7};
  CHECK(bw_rl_input_region(3, none, huge, n, &thin, &in, &e) == BW_ERR_SHAPE, "PSF larger: %s", e.message);
  free(g);
  free(whole);
  free(pieced);
}

/* Total variation smooths flat noise: on a flat field with noise and one
 * bright square, 20 iterations with tv 0.01 leave less total variation in
 * the flat part than plain ones, keep the square's edge, and tv 0 is the
 * plain result's bits. */
static void test_tv(void) {
  enum { N = 48 };
  const ptrdiff_t n[2] = {N, N}, m[2] = {5, 5};
  double h[25];
  for (int i = 0; i < 25; i++) {
    const double dy = i / 5 - 2.0, dx = i % 5 - 2.0;
    h[i] = exp(-(dy * dy + dx * dx) / 2);
  }
  float g[N * N], plain[N * N], tv[N * N], zero[N * N];
  for (int i = 0; i < N * N; i++) {
    const int y = i / N, x = i % N;
    g[i] = (float)(100 + 20 * (rnd_unit() - 0.5) + (y >= 20 && y < 30 && x >= 20 && x < 30 ? 400 : 0));
  }
  const bw_view in = bw_view_contiguous(g, BW_F32, 2, n), psf = bw_view_contiguous(h, BW_F64, 2, m);
  float *outs[3] = {plain, tv, zero};
  const double weights[3] = {0, 0.01, 0};
  for (int k = 0; k < 3; k++) {
    bw_rl_params p;
    bw_rl_params_init(&p, 2);
    p.iterations = 20;
    p.tv = weights[k];
    bw_rl_plan *plan = NULL;
    bw_error e;
    CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
    const bw_view o = bw_view_contiguous(outs[k], BW_F32, 2, n);
    CHECK(bw_rl_deconvolve(plan, &in, &o, &e) == BW_OK, "%s", e.message);
    bw_rl_plan_free(plan);
  }
  double var_plain = 0, var_tv = 0, edge_plain = 0, edge_tv = 0;
  for (int y = 0; y < N; y++)
    for (int x = 0; x + 1 < N; x++) {
      const int i = y * N + x, flat = (y < 14 || y > 36) && x > 4 && x < N - 5;
      if (flat) var_plain += fabs(plain[i + 1] - plain[i]), var_tv += fabs(tv[i + 1] - tv[i]);
      if (y == 25 && x == 19) edge_plain = plain[i + 1] - plain[i], edge_tv = tv[i + 1] - tv[i];
    }
  CHECK(var_tv < 0.7 * var_plain, "flat part: total variation %g with tv, %g without", var_tv, var_plain);
  CHECK(edge_tv > 0.7 * edge_plain && edge_plain > 100, "the square's edge: %g with tv, %g without", edge_tv,
        edge_plain);
  CHECK(memcmp(plain, zero, sizeof plain) == 0, "tv 0 is not the plain result");
}

/* Every bad input: a message, nothing made, the output untouched. */
static void test_errors(void) {
  const ptrdiff_t n[2] = {20, 20}, m[2] = {5, 5}, big[2] = {21, 5};
  double h[25 * 5], bigh[21 * 5];
  for (int i = 0; i < 25; i++) h[i] = 1;
  for (int i = 0; i < 21 * 5; i++) bigh[i] = 1;
  float g[400], out[400];
  for (int i = 0; i < 400; i++) g[i] = 1, out[i] = -7;
  bw_rl_params p;
  bw_rl_params_init(&p, 2);
  bw_rl_plan *plan = NULL;
  bw_error e = {BW_OK, ""};
  bw_view psf = bw_view_contiguous(h, BW_F64, 2, m);
  struct {
    const char *what;
    bw_status want;
  } bad[] = {{"ndim 4", BW_ERR_NDIM},        {"iterations -1", BW_ERR_PARAM}, {"boundary 7", BW_ERR_PARAM},
             {"epsilon 0", BW_ERR_PARAM},    {"epsilon NaN", BW_ERR_PARAM},   {"centre on one axis", BW_ERR_PARAM},
             {"centre outside", BW_ERR_PARAM}, {"PSF larger", BW_ERR_SHAPE},  {"PSF zero", BW_ERR_PARAM},
             {"PSF negative", BW_ERR_PARAM}, {"PSF NaN", BW_ERR_PARAM},       {"PSF of 3 axes", BW_ERR_NDIM},
             {"initial 0", BW_ERR_PARAM},    {"initial inf", BW_ERR_PARAM},   {"threads 0", BW_ERR_PARAM},
             {"accelerate 2", BW_ERR_PARAM}, {"tv -0.1", BW_ERR_PARAM},       {"tv NaN", BW_ERR_PARAM},
             {"tv 2", BW_ERR_PARAM}};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    bw_rl_params q = p;
    bw_view v = psf;
    double saved = h[7];
    switch (k) {
    case 0: q.ndim = 4; break;
    case 1: q.iterations = -1; break;
    case 2: q.boundary = (bw_rl_boundary)7; break;
    case 3: q.epsilon = 0; break;
    case 4: q.epsilon = NAN; break;
    case 5: q.psf_centre[0] = 2; break;
    case 6: q.psf_centre[0] = 2, q.psf_centre[1] = 5; break;
    case 7: v = bw_view_contiguous(bigh, BW_F64, 2, big); break;
    case 8: memset(h, 0, sizeof h); break;
    case 9: h[7] = -1e-9; break;
    case 10: h[7] = NAN; break;
    case 11: v.ndim = 3, v.shape[2] = 1, v.strides[2] = 8; break;
    case 12: q.initial = 0; break;
    case 13: q.initial = INFINITY; break;
    case 14: q.threads = 0; break;
    case 15: q.accelerate = 2; break;
    case 16: q.tv = -0.1; break;
    case 17: q.tv = NAN; break;
    case 18: q.tv = 2; break;
    }
    bw_status st = bw_rl_plan_new(&q, n, &v, &plan, &e);
    CHECK(st == bad[k].want && plan == NULL, "%s: %s (%s)", bad[k].what, bw_status_string(st), e.message);
    CHECK(strlen(e.message) > 15 && strstr(e.message, "deconvolve") != NULL, "%s: message '%s'", bad[k].what,
          e.message);
    if (k == 8)
      for (int i = 0; i < 25; i++) h[i] = 1;
    h[7] = k == 8 ? 1 : saved;
  }
  CHECK(bw_rl_plan_new(&p, n, &psf, NULL, &e) == BW_ERR_NULL, "NULL plan");
  CHECK(bw_rl_plan_new(&p, NULL, &psf, &plan, &e) == BW_ERR_NULL, "NULL shape");
  CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
  const ptrdiff_t other[2] = {20, 19};
  bw_view in = bw_view_contiguous(g, BW_F32, 2, n), o = bw_view_contiguous(out, BW_F32, 2, n);
  bw_view wrong = bw_view_contiguous(g, BW_F32, 2, other), o64 = o;
  o64.dtype = BW_F64;
  CHECK(bw_rl_deconvolve(plan, &wrong, &o, &e) == BW_ERR_SHAPE, "image of another shape: %s", e.message);
  CHECK(bw_rl_deconvolve(plan, &in, &o64, &e) == BW_ERR_OUTPUT, "float64 output: %s", e.message);
  g[57] = INFINITY;
  CHECK(bw_rl_deconvolve(plan, &in, &o, &e) == BW_ERR_PARAM, "an infinite pixel: %s", e.message);
  CHECK(strstr(e.message, "pixel (2, 17)") != NULL, "names the pixel: %s", e.message);
  for (int i = 0; i < 400; i++) CHECK(out[i] == -7, "the output was written on error");
  CHECK(bw_rl_deconvolve(NULL, &in, &o, &e) == BW_ERR_NULL, "NULL plan");
  bw_rl_plan_free(plan);
  bw_rl_plan_free(NULL);
}

/* Progress: called after every iteration with the count done; a stop
 * after k of them returns BW_ERR_STOPPED and leaves the output alone; a
 * callback that never stops gives bw_rl_deconvolve()'s bits. */
typedef struct {
  int calls, last, total, stop_at;
} progress_log;

static int log_progress(void *user, int done, int total) {
  progress_log *l = user;
  if (done != l->last + 1) l->calls = -1000; /* out of order */
  l->calls++, l->last = done, l->total = total;
  return done == l->stop_at;
}

static void test_progress(void) {
  enum { N = 24 };
  const ptrdiff_t n[2] = {N, N}, m[2] = {5, 3};
  float h[15], g[N * N], a[N * N], b[N * N];
  for (int i = 0; i < 15; i++) h[i] = (float)(1 + i % 4);
  for (int i = 0; i < N * N; i++) g[i] = (float)(10 + (i * 37) % 91), b[i] = -7;
  bw_rl_params p;
  bw_rl_params_init(&p, 2);
  p.iterations = 6;
  bw_rl_plan *plan = NULL;
  bw_error e;
  const bw_view psf = bw_view_contiguous(h, BW_F32, 2, m);
  CHECK(bw_rl_plan_new(&p, n, &psf, &plan, &e) == BW_OK, "plan: %s", e.message);
  const bw_view in = bw_view_contiguous(g, BW_F32, 2, n);
  const bw_view va = bw_view_contiguous(a, BW_F32, 2, n), vb = bw_view_contiguous(b, BW_F32, 2, n);
  CHECK(bw_rl_deconvolve(plan, &in, &va, &e) == BW_OK, "%s", e.message);
  progress_log l = {0, 0, 0, 4};
  CHECK(bw_rl_deconvolve_progress(plan, &in, &vb, log_progress, &l, &e) == BW_ERR_STOPPED,
        "a stop after 4: %s", e.message);
  CHECK(l.calls == 4 && l.total == 6 && strstr(e.message, "4 of 6") != NULL, "%d calls of %d: %s",
        l.calls, l.total, e.message);
  for (int i = 0; i < N * N; i++) CHECK(b[i] == -7, "the output was written when stopped");
  l = (progress_log){0, 0, 0, -1};
  CHECK(bw_rl_deconvolve_progress(plan, &in, &vb, log_progress, &l, &e) == BW_OK, "%s", e.message);
  CHECK(l.calls == 6 && l.last == 6, "%d calls", l.calls);
  CHECK(memcmp(a, b, sizeof a) == 0, "with a callback, other bits");
  CHECK(bw_rl_deconvolve_progress(plan, &in, &vb, NULL, NULL, &e) == BW_OK, "no callback: %s", e.message);
  bw_rl_plan_free(plan);
}

static const bw_test tests[] = {
    {"reference", test_reference},
    {"boundaries", test_boundaries},
    {"pieces", test_pieces},
    {"errors", test_errors},
    {"progress", test_progress},
    {"tv", test_tv},
};

int main(int argc, char **argv) { return bw_test_main(argc, argv, tests, sizeof tests / sizeof *tests); }
