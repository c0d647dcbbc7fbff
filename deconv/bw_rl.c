/* Richardson-Lucy deconvolution (bw_deconv.h) over FFTW's single-precision
 * real-to-complex transforms: the plan (the PSF's transform, the boundary's
 * normalisation, FFTW's plans and the work arrays, made once per shape),
 * and the iterations. */
#define _POSIX_C_SOURCE 200809L

#include "bw_deconv.h"
#include "bw_internal.h" /* the core's element loader (a static inline) */

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default halo in standard deviations of the PSF per axis, by the
 * iterations: bench/deconv_halo.py. */
static double auto_sigmas(int iterations) {
  return iterations <= 50 ? 12 : iterations <= 400 ? 18 : 24;
}

/* Object pixels the image sees through less than this share of the PSF
 * (non-circulant normalisation) are left at 0: nothing observes them. */
#define RL_MIN_SUPPORT 1e-3

struct bw_rl_plan {
  bw_rl_params p;
  int nd;
  ptrdiff_t n[BW_MAX_DIMS]; /* the image, C order */
  int L[BW_MAX_DIMS];       /* the transform */
  size_t nreal, ncplx, npix;
  fftwf_complex *H; /* the PSF's transform over nreal (a round trip is the identity) */
  float *inv_norm;  /* non-circulant: 1 / (B^T of the image's support), 0 where unseen */
  float *f, *t, *g; /* estimate and scratch (transform grid), image (its own grid) */
  float *x_prev, *change; /* acceleration: the estimate before, the last step's change */
  float *tvm;             /* total variation: each correction's multiplier */
  fftwf_complex *c;
  fftwf_plan fwd, inv;
  ptrdiff_t c3[3]; /* the PSF's centre, as three axes */
  ptrdiff_t m3[3]; /* the PSF's extents, as three axes */
};

static bw_status rl_fail(bw_error *err, bw_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bw_status rl_fail(bw_error *err, bw_status status, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = status;
  }
  return status;
}

void bw_rl_params_init(bw_rl_params *params, int ndim) {
  if (!params) return;
  memset(params, 0, sizeof *params);
  params->ndim = ndim;
  params->iterations = BW_RL_DEFAULT_ITERATIONS;
  params->boundary = BW_RL_NONCIRCULANT;
  params->epsilon = BW_RL_DEFAULT_EPSILON;
  for (int d = 0; d < BW_MAX_DIMS; d++) params->psf_centre[d] = -1;
  params->initial = NAN;
  params->threads = 1;
}

bw_status bw_rl_params_check(const bw_rl_params *p, bw_error *err) {
  if (!p) return rl_fail(err, BW_ERR_NULL, "deconvolve: params is NULL");
  if (p->ndim != 2 && p->ndim != 3)
    return rl_fail(err, BW_ERR_NDIM, "deconvolve: ndim %d; images of 2 or 3 axes", p->ndim);
  if (p->iterations < 0 || p->iterations > BW_RL_MAX_ITERATIONS)
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: %d iterations; 0 to %d", p->iterations,
                   BW_RL_MAX_ITERATIONS);
  if (p->boundary != BW_RL_NONCIRCULANT && p->boundary != BW_RL_PERIODIC)
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: boundary %d is neither non-circulant nor periodic",
                   (int)p->boundary);
  if (!(p->epsilon > 0 && p->epsilon < 1))
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: epsilon %g; a number in (0, 1)", p->epsilon);
  if (!isnan(p->initial) && !(isfinite(p->initial) && p->initial > 0))
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: first estimate %g; NaN (the image) or a positive "
                   "number", p->initial);
  if (p->accelerate != 0 && p->accelerate != 1)
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: accelerate %d; 0 or 1", p->accelerate);
  if (p->threads < 1 || p->threads > 256)
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: %d threads; 1 to 256", p->threads);
  if (!(p->tv >= 0 && p->tv <= BW_RL_MAX_TV))
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: total-variation weight %g; 0 (none) to %g", p->tv,
                   BW_RL_MAX_TV);
  int given = 0;
  for (int d = 0; d < p->ndim; d++) {
    if (p->psf_centre[d] < -1)
      return rl_fail(err, BW_ERR_PARAM, "deconvolve: PSF centre %td along axis %d; -1 (centre of "
                     "mass) or a pixel of the PSF", p->psf_centre[d], d);
    given += p->psf_centre[d] >= 0;
  }
  if (given != 0 && given != p->ndim)
    return rl_fail(err, BW_ERR_PARAM, "deconvolve: the PSF centre is given along some axes only; "
                   "give it along every axis, or -1 along every axis for the centre of mass");
  return BW_OK;
}

/* "(y, x)" or "(z, y, x)": a pixel of @nd axes, from its three-axis index. */
static const char *where(char *buf, size_t len, int nd, ptrdiff_t z, ptrdiff_t y, ptrdiff_t x) {
  if (nd == 3)
    snprintf(buf, len, "(%td, %td, %td)", z, y, x);
  else
    snprintf(buf, len, "(%td, %td)", y, x);
  return buf;
}

/* The smallest size >= @n whose prime factors are 2, 3, 5 and 7. */
static long good_size(long n) {
  for (long m = n > 1 ? n : 1;; m++) {
    long r = m;
    for (long q = 2; q <= 7; q++)
      while (r % q == 0) r /= q;
    if (r == 1) return m;
  }
}

/* FFTW's planner, made thread-safe once for the whole process; the number
 * of threads of a plan is planner state, set and used under one lock. */
static void planner_init(void) {
  fftwf_init_threads();
  fftwf_make_planner_thread_safe();
}
static pthread_once_t planner_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t planner_threads = PTHREAD_MUTEX_INITIALIZER;

void bw_rl_plan_free(bw_rl_plan *pl) {
  if (!pl) return;
  if (pl->fwd) fftwf_destroy_plan(pl->fwd);
  if (pl->inv) fftwf_destroy_plan(pl->inv);
  fftwf_free(pl->H);
  fftwf_free(pl->c);
  fftwf_free(pl->f);
  fftwf_free(pl->t);
  fftwf_free(pl->inv_norm);
  fftwf_free(pl->x_prev);
  fftwf_free(pl->change);
  fftwf_free(pl->tvm);
  free(pl->g);
  free(pl);
}

/* The transform grid of a plan: checks the shapes as bw_rl_plan_new()
 * does, and sets @L (params->ndim extents) and the counts of its real and
 * complex elements and of the image's pixels. */
static bw_status rl_grid(const bw_rl_params *params, const ptrdiff_t *image_shape,
                         const ptrdiff_t *psf_shape, int *L, size_t *nreal, size_t *ncplx,
                         size_t *npix, bw_error *err) {
  const int nd = params->ndim;
  double total = 1;
  *nreal = *npix = 1;
  for (int d = 0; d < nd; d++) {
    if (image_shape[d] < 1 || psf_shape[d] < 1)
      return rl_fail(err, BW_ERR_SHAPE, "deconvolve: extent %td of the %s along axis %d",
                     image_shape[d] < 1 ? image_shape[d] : psf_shape[d],
                     image_shape[d] < 1 ? "image" : "PSF", d);
    if (psf_shape[d] > image_shape[d])
      return rl_fail(err, BW_ERR_SHAPE, "deconvolve: the PSF (%td pixels along axis %d) is larger "
                     "than the image (%td)", psf_shape[d], d, image_shape[d]);
    const double span = params->boundary == BW_RL_PERIODIC
                            ? (double)image_shape[d]
                            : (double)good_size((long)(image_shape[d] + psf_shape[d] - 1));
    total *= span;
    if (span > (double)INT32_MAX || total > (double)((size_t)1 << 40))
      return rl_fail(err, BW_ERR_RANGE, "deconvolve: a transform of more than 2^40 pixels");
    L[d] = (int)span;
    *nreal *= (size_t)span;
    *npix *= (size_t)image_shape[d];
  }
  *ncplx = *nreal / (size_t)L[nd - 1] * (size_t)(L[nd - 1] / 2 + 1);
  return BW_OK;
}

/* The bytes of a plan of these counts (bw_rl_plan_bytes()). */
static size_t rl_bytes(const bw_rl_params *params, size_t nreal, size_t ncplx, size_t npix) {
  const size_t grids = 2 + (params->boundary == BW_RL_NONCIRCULANT) + 2 * (params->accelerate != 0) +
                       (params->tv > 0);
  return sizeof(bw_rl_plan) + ncplx * 2 * sizeof(fftwf_complex) + nreal * sizeof(float) * grids +
         npix * sizeof(float);
}

size_t bw_rl_plan_bytes(const bw_rl_plan *pl) {
  return pl ? rl_bytes(&pl->p, pl->nreal, pl->ncplx, pl->npix) : 0;
}

bw_status bw_rl_plan_size(const bw_rl_params *params, const ptrdiff_t *image_shape,
                          const ptrdiff_t *psf_shape, size_t *bytes, bw_error *err) {
  bw_status st = bw_rl_params_check(params, err);
  if (st != BW_OK) return st;
  if (!image_shape || !psf_shape || !bytes)
    return rl_fail(err, BW_ERR_NULL, "deconvolve: a NULL argument to the plan's size");
  int L[BW_MAX_DIMS];
  size_t nreal, ncplx, npix;
  st = rl_grid(params, image_shape, psf_shape, L, &nreal, &ncplx, &npix, err);
  if (st != BW_OK) return st;
  *bytes = rl_bytes(params, nreal, ncplx, npix);
  return BW_OK;
}

/* c *= H (or its conjugate), over the half spectrum. */
static void multiply(fftwf_complex *restrict c, const fftwf_complex *restrict H, size_t n,
                     int conjugate) {
  const float s = conjugate ? -1.0f : 1.0f;
  for (size_t i = 0; i < n; i++) {
    const float a = c[i][0], b = c[i][1], x = H[i][0], y = s * H[i][1];
    c[i][0] = a * x - b * y;
    c[i][1] = a * y + b * x;
  }
}

/* The plan's extents as three axes (a leading 1 in 2-D). */
typedef struct {
  ptrdiff_t n3[3];
  long L3[3];
} grid3;

static grid3 grid_of(const bw_rl_plan *pl) {
  grid3 g;
  for (int d = 0; d < 3; d++) {
    const int k = d - (3 - pl->nd);
    g.n3[d] = k >= 0 ? pl->n[k] : 1;
    g.L3[d] = k >= 0 ? pl->L[k] : 1;
  }
  return g;
}

/* The PSF @psf (params->ndim axes, as three: ps[3], pst[3]) checked
 * (finite, non-negative, a positive sum), its sum, and per axis its first
 * and second moments about the origin (sums of v x and v x^2). */
static bw_status psf_scan(int nd, const bw_view *psf, ptrdiff_t *ps, ptrdiff_t *pst, double *sum,
                          double *moment, double *second, bw_error *err) {
  if (!psf || !psf->data) return rl_fail(err, BW_ERR_NULL, "deconvolve: the PSF is NULL");
  if (psf->ndim != nd)
    return rl_fail(err, BW_ERR_NDIM, "deconvolve: the PSF has %d axes, the image %d", psf->ndim, nd);
  if (bw_dtype_size(psf->dtype) == 0)
    return rl_fail(err, BW_ERR_DTYPE, "deconvolve: the PSF's dtype %d is not an element type",
                   (int)psf->dtype);
  for (int d = 0; d < 3; d++) {
    const int k = d - (3 - nd);
    ps[d] = k >= 0 ? psf->shape[k] : 1;
    pst[d] = k >= 0 ? psf->strides[k] : 0;
    if (ps[d] < 1)
      return rl_fail(err, BW_ERR_SHAPE, "deconvolve: PSF extent %td along axis %d", ps[d], k);
    moment[d] = second[d] = 0;
  }
  *sum = 0;
  for (ptrdiff_t z = 0; z < ps[0]; z++)
    for (ptrdiff_t y = 0; y < ps[1]; y++)
      for (ptrdiff_t x = 0; x < ps[2]; x++) {
        const double v = bw_load_double((const char *)psf->data + z * pst[0] + y * pst[1] + x * pst[2], psf->dtype);
        if (!isfinite(v) || v < 0) {
          char at[80];
          return rl_fail(err, BW_ERR_PARAM, "deconvolve: PSF value %g at %s; a PSF is finite and "
                         "non-negative", v, where(at, sizeof at, nd, z, y, x));
        }
        const double q[3] = {(double)z, (double)y, (double)x};
        *sum += v;
        for (int d = 0; d < 3; d++) moment[d] += v * q[d], second[d] += v * q[d] * q[d];
      }
  if (!(*sum > 0)) return rl_fail(err, BW_ERR_PARAM, "deconvolve: the PSF is all zero");
  return BW_OK;
}

bw_status bw_rl_plan_new(const bw_rl_params *params, const ptrdiff_t *image_shape,
                         const bw_view *psf, bw_rl_plan **out, bw_error *err) {
  if (!out) return rl_fail(err, BW_ERR_NULL, "deconvolve: plan is NULL");
  *out = NULL;
  bw_status st = bw_rl_params_check(params, err);
  if (st != BW_OK) return st;
  if (!image_shape || !psf || !psf->data)
    return rl_fail(err, BW_ERR_NULL, "deconvolve: %s is NULL", !image_shape ? "image shape" : "the PSF");
  const int nd = params->ndim;
  if (psf->ndim != nd)
    return rl_fail(err, BW_ERR_NDIM, "deconvolve: the PSF has %d axes, the image %d", psf->ndim, nd);
  if (bw_dtype_size(psf->dtype) == 0)
    return rl_fail(err, BW_ERR_DTYPE, "deconvolve: the PSF's dtype %d is not an element type",
                   (int)psf->dtype);
  int L[BW_MAX_DIMS];
  size_t nreal, ncplx, npix;
  st = rl_grid(params, image_shape, psf->shape, L, &nreal, &ncplx, &npix, err);
  if (st != BW_OK) return st;

  /* The PSF: finite, non-negative, a positive sum; its centre of mass. */
  ptrdiff_t ps[3], pst[3];
  double sum, moment[3], second[3];
  st = psf_scan(nd, psf, ps, pst, &sum, moment, second, err);
  if (st != BW_OK) return st;
  ptrdiff_t centre[3] = {0, 0, 0};
  for (int d = 0; d < 3; d++) {
    const int k = d - (3 - nd);
    if (k < 0) continue;
    if (params->psf_centre[k] >= 0) {
      if (params->psf_centre[k] >= ps[d])
        return rl_fail(err, BW_ERR_PARAM, "deconvolve: PSF centre %td along axis %d is outside the "
                       "PSF (0 to %td)", params->psf_centre[k], k, ps[d] - 1);
      centre[d] = params->psf_centre[k];
    } else {
      centre[d] = (ptrdiff_t)floor(moment[d] / sum + 0.5);
    }
  }

  bw_rl_plan *pl = calloc(1, sizeof *pl);
  if (!pl) return rl_fail(err, BW_ERR_NOMEM, "deconvolve: no memory for a plan");
  pl->p = *params;
  pl->nd = nd;
  memcpy(pl->c3, centre, sizeof pl->c3);
  memcpy(pl->m3, ps, sizeof pl->m3);
  for (int d = 0; d < nd; d++) {
    pl->n[d] = image_shape[d];
    pl->L[d] = L[d];
  }
  pl->nreal = nreal;
  pl->ncplx = ncplx;
  pl->npix = npix;
  pl->H = fftwf_malloc(pl->ncplx * sizeof(fftwf_complex));
  pl->c = fftwf_malloc(pl->ncplx * sizeof(fftwf_complex));
  pl->f = fftwf_malloc(pl->nreal * sizeof(float));
  pl->t = fftwf_malloc(pl->nreal * sizeof(float));
  pl->g = malloc(pl->npix * sizeof(float));
  if (params->boundary == BW_RL_NONCIRCULANT) pl->inv_norm = fftwf_malloc(pl->nreal * sizeof(float));
  if (params->accelerate) {
    pl->x_prev = fftwf_malloc(pl->nreal * sizeof(float));
    pl->change = fftwf_malloc(pl->nreal * sizeof(float));
  }
  if (params->tv > 0) pl->tvm = fftwf_malloc(pl->nreal * sizeof(float));
  if (!pl->H || !pl->c || !pl->f || !pl->t || !pl->g ||
      (params->boundary == BW_RL_NONCIRCULANT && !pl->inv_norm) ||
      (params->accelerate && (!pl->x_prev || !pl->change)) || (params->tv > 0 && !pl->tvm)) {
    bw_rl_plan_free(pl);
    return rl_fail(err, BW_ERR_NOMEM, "deconvolve: no memory for a transform of %zu pixels", pl->nreal);
  }
  pthread_once(&planner_once, planner_init);
  pthread_mutex_lock(&planner_threads);
  fftwf_plan_with_nthreads(params->threads);
  pl->fwd = fftwf_plan_dft_r2c(nd, pl->L, pl->t, pl->c, FFTW_ESTIMATE);
  pl->inv = fftwf_plan_dft_c2r(nd, pl->L, pl->c, pl->t, FFTW_ESTIMATE);
  fftwf_plan_with_nthreads(1);
  pthread_mutex_unlock(&planner_threads);
  if (!pl->fwd || !pl->inv) {
    bw_rl_plan_free(pl);
    return rl_fail(err, BW_ERR_NOMEM, "deconvolve: FFTW made no plan for a transform of %zu pixels",
                   pl->nreal);
  }

  /* The PSF on the transform grid, its centre at the origin (wrapped), over
   * its sum; the transform over nreal, so that a round trip is the
   * identity. */
  const grid3 G = grid_of(pl);
  memset(pl->t, 0, pl->nreal * sizeof(float));
  for (ptrdiff_t z = 0; z < ps[0]; z++)
    for (ptrdiff_t y = 0; y < ps[1]; y++)
      for (ptrdiff_t x = 0; x < ps[2]; x++) {
        const double v = bw_load_double((const char *)psf->data + z * pst[0] + y * pst[1] + x * pst[2], psf->dtype);
        const long iz = (long)((z - centre[0] + G.L3[0]) % G.L3[0]);
        const long iy = (long)((y - centre[1] + G.L3[1]) % G.L3[1]);
        const long ix = (long)((x - centre[2] + G.L3[2]) % G.L3[2]);
        pl->t[((size_t)iz * (size_t)G.L3[1] + (size_t)iy) * (size_t)G.L3[2] + (size_t)ix] += (float)(v / sum);
      }
  fftwf_execute_dft_r2c(pl->fwd, pl->t, pl->H);
  const float scale = (float)(1.0 / (double)pl->nreal);
  for (size_t i = 0; i < pl->ncplx; i++) {
    pl->H[i][0] *= scale;
    pl->H[i][1] *= scale;
  }

  /* Non-circulant: N = B^T of the image's support; its inverse where the
   * image sees the pixel. */
  if (pl->inv_norm) {
    memset(pl->t, 0, pl->nreal * sizeof(float));
    for (ptrdiff_t z = 0; z < G.n3[0]; z++)
      for (ptrdiff_t y = 0; y < G.n3[1]; y++)
        for (ptrdiff_t x = 0; x < G.n3[2]; x++)
          pl->t[((size_t)z * (size_t)G.L3[1] + (size_t)y) * (size_t)G.L3[2] + (size_t)x] = 1.0f;
    fftwf_execute_dft_r2c(pl->fwd, pl->t, pl->c);
    multiply(pl->c, pl->H, pl->ncplx, 1);
    fftwf_execute_dft_c2r(pl->inv, pl->c, pl->t);
    for (size_t i = 0; i < pl->nreal; i++)
      pl->inv_norm[i] = pl->t[i] > RL_MIN_SUPPORT ? 1.0f / pl->t[i] : 0.0f;
  }
  *out = pl;
  return BW_OK;
}

/* Total variation: m[k] = 1 / (N max(1 - lambda div(grad f / |grad f|),
 * BW_RL_MIN_TV_DIVISOR)), N = 1 / inv_norm (1 periodic), 0 where nothing
 * is seen.  Forward differences for the gradient and backward ones for the
 * divergence, between seen pixels of the object only: periodic, around the
 * period; non-circulant, over the object grid (the image grown by the
 * PSF), whose pixels before the image sit at the transform grid's end, so
 * that indices wrap, except across the object's own ends. */
typedef struct {
  ptrdiff_t L[3], st[3];
  ptrdiff_t last[3], first[3]; /* the object's end and start (index), or -1 */
} tv_grid;

/* The index one step up (+1) or down (-1) along d from k (coordinate q),
 * or -1 past the object's end. */
static ptrdiff_t tv_step(const tv_grid *T, ptrdiff_t k, ptrdiff_t q, int d, int dir) {
  if (T->L[d] == 1 || q == (dir > 0 ? T->last[d] : T->first[d])) return -1;
  if (dir > 0) return q + 1 < T->L[d] ? k + T->st[d] : k - (T->L[d] - 1) * T->st[d];
  return q > 0 ? k - T->st[d] : k + (T->L[d] - 1) * T->st[d];
}

static void tv_multiplier(const bw_rl_plan *pl, const float *f, double eta, float *m) {
  const grid3 G = grid_of(pl);
  tv_grid     T;
  for (int d = 0; d < 3; d++) {
    T.L[d] = G.L3[d];
    const ptrdiff_t before = pl->m3[d] - 1 - pl->c3[d];
    T.last[d] = pl->inv_norm ? G.n3[d] + pl->c3[d] - 1 : -1;
    T.first[d] = pl->inv_norm ? (before == 0 ? 0 : G.L3[d] - before) : -1;
  }
  T.st[0] = T.L[1] * T.L[2], T.st[1] = T.L[2], T.st[2] = 1;
  const float *inv = pl->inv_norm;
  const double lambda = pl->p.tv, e2 = eta * eta;
#define RL_SEEN(k) (!inv || inv[k] != 0)
  for (ptrdiff_t z = 0; z < T.L[0]; z++)
    for (ptrdiff_t y = 0; y < T.L[1]; y++)
      for (ptrdiff_t x = 0; x < T.L[2]; x++) {
        const ptrdiff_t k = z * T.st[0] + y * T.st[1] + x;
        if (!RL_SEEN(k)) {
          m[k] = 0;
          continue;
        }
        const ptrdiff_t q[3] = {z, y, x};
        double g[3], n2 = e2, div = 0;
        for (int d = 0; d < 3; d++) {
          const ptrdiff_t u = tv_step(&T, k, q[d], d, 1);
          g[d] = u >= 0 && RL_SEEN(u) ? (double)f[u] - f[k] : 0.0;
          n2 += g[d] * g[d];
        }
        const double n = sqrt(n2);
        for (int d = 0; d < 3; d++) {
          div += g[d] / n;
          const ptrdiff_t kb = tv_step(&T, k, q[d], d, -1);
          if (kb < 0 || !RL_SEEN(kb)) continue;
          ptrdiff_t qb[3] = {z, y, x};
          qb[d] = q[d] > 0 ? q[d] - 1 : T.L[d] - 1;
          double b2 = e2, gd = 0;
          for (int a = 0; a < 3; a++) {
            const ptrdiff_t u = tv_step(&T, kb, qb[a], a, 1);
            const double    v = u >= 0 && RL_SEEN(u) ? (double)f[u] - f[kb] : 0.0;
            b2 += v * v;
            if (a == d) gd = v;
          }
          div -= gd / sqrt(b2);
        }
        const double den = 1.0 - lambda * div;
        m[k] = (float)((inv ? inv[k] : 1.0) / (den > BW_RL_MIN_TV_DIVISOR ? den : BW_RL_MIN_TV_DIVISOR));
      }
#undef RL_SEEN
}

bw_status bw_rl_deconvolve(bw_rl_plan *pl, const bw_view *in, const bw_view *out, bw_error *err) {
  return bw_rl_deconvolve_progress(pl, in, out, NULL, NULL, err);
}

bw_status bw_rl_deconvolve_progress(bw_rl_plan *pl, const bw_view *in, const bw_view *out,
                                    bw_rl_progress_fn progress, void *user, bw_error *err) {
  if (!pl || !in || !out)
    return rl_fail(err, BW_ERR_NULL, "deconvolve: %s is NULL", !pl ? "plan" : !in ? "in" : "out");
  const int nd = pl->nd;
  if (!in->data || in->ndim != nd || bw_dtype_size(in->dtype) == 0)
    return rl_fail(err, !in->data ? BW_ERR_NULL : in->ndim != nd ? BW_ERR_NDIM : BW_ERR_DTYPE,
                   "deconvolve: the image is not a view of %d axes of an element type", nd);
  if (!out->data || out->ndim != nd || out->dtype != BW_F32)
    return rl_fail(err, BW_ERR_OUTPUT, "deconvolve: the output must be a float32 view of %d axes", nd);
  for (int d = 0; d < nd; d++) {
    if (in->shape[d] != pl->n[d])
      return rl_fail(err, BW_ERR_SHAPE, "deconvolve: the image's extent %td along axis %d, the "
                     "plan's %td", in->shape[d], d, pl->n[d]);
    if (out->shape[d] != pl->n[d])
      return rl_fail(err, BW_ERR_OUTPUT, "deconvolve: the output's extent %td along axis %d, the "
                     "image's %td", out->shape[d], d, pl->n[d]);
  }
  const grid3 G = grid_of(pl);
  ptrdiff_t ist[3], ost[3];
  for (int d = 0; d < 3; d++) {
    const int k = d - (3 - nd);
    ist[d] = k >= 0 ? in->strides[k] : 0;
    ost[d] = k >= 0 ? out->strides[k] : 0;
  }

  /* The image, as float; its largest magnitude. */
  double top = 0;
  size_t i = 0;
  for (ptrdiff_t z = 0; z < G.n3[0]; z++)
    for (ptrdiff_t y = 0; y < G.n3[1]; y++)
      for (ptrdiff_t x = 0; x < G.n3[2]; x++, i++) {
        const double v = bw_load_double((const char *)in->data + z * ist[0] + y * ist[1] + x * ist[2], in->dtype);
        if (!isfinite(v)) {
          char at[80];
          return rl_fail(err, BW_ERR_PARAM, "deconvolve: pixel %s of the image is %g",
                         where(at, sizeof at, nd, z, y, x), v);
        }
        pl->g[i] = (float)v;
        top = fabs(v) > top ? fabs(v) : top;
      }
  const float guard = (float)(pl->p.epsilon * top);

  /* The first estimate: the image; non-circulant, around it the nearest
   * image pixel (a local choice, so that a piece of the image with its halo
   * starts as the whole image does there), and 0 where nothing is seen. */
  float *restrict f = pl->f, *restrict t = pl->t;
  const float *restrict g = pl->g;
  const float *restrict inv_norm = pl->inv_norm;
  for (ptrdiff_t z = 0; z < G.L3[0]; z++)
    for (ptrdiff_t y = 0; y < G.L3[1]; y++)
      for (ptrdiff_t x = 0; x < G.L3[2]; x++) {
        const size_t k = ((size_t)z * (size_t)G.L3[1] + (size_t)y) * (size_t)G.L3[2] + (size_t)x;
        const ptrdiff_t q[3] = {z, y, x};
        ptrdiff_t       at[3];
        for (int d = 0; d < 3; d++)
          /* past the image: its last pixel on the side the PSF's centre
           * reaches, its first on the side that wraps around */
          at[d] = q[d] < G.n3[d] ? q[d] : q[d] < G.n3[d] + pl->c3[d] ? G.n3[d] - 1 : 0;
        f[k] = inv_norm && inv_norm[k] == 0 ? 0.0f
               : !isnan(pl->p.initial)
                   ? (float)pl->p.initial
                   : g[((size_t)at[0] * (size_t)G.n3[1] + (size_t)at[1]) * (size_t)G.n3[2] + (size_t)at[2]];
      }

  /* Biggs-Andrews: the estimate x, the one before it, and the change the
   * last step made (g); each step starts from y = x + alpha (x - x_prev). */
  float *restrict x_prev = pl->x_prev, *restrict change = pl->change;
  double          alpha = 0;
  if (pl->p.accelerate) {
    memset(x_prev, 0, pl->nreal * sizeof(float));
    memset(change, 0, pl->nreal * sizeof(float));
  }
  for (int it = 0; it < pl->p.iterations; it++) {
    if (pl->p.accelerate)
      for (size_t k = 0; k < pl->nreal; k++) {
        const float xk = f[k], yk = xk + (float)alpha * (xk - (it ? x_prev[k] : xk));
        x_prev[k] = xk;
        f[k] = yk > 0 ? yk : 0.0f;
      }
    /* t = B f */
    fftwf_execute_dft_r2c(pl->fwd, f, pl->c);
    multiply(pl->c, pl->H, pl->ncplx, 0);
    fftwf_execute_dft_c2r(pl->inv, pl->c, t);
    /* t = g / B f on the image's pixels, 0 elsewhere */
    i = 0;
    for (ptrdiff_t z = 0; z < G.L3[0]; z++)
      for (ptrdiff_t y = 0; y < G.L3[1]; y++) {
        float *row = t + ((size_t)z * (size_t)G.L3[1] + (size_t)y) * (size_t)G.L3[2];
        ptrdiff_t x = 0;
        if (z < G.n3[0] && y < G.n3[1])
          for (; x < G.n3[2]; x++, i++) row[x] = row[x] > guard ? g[i] / row[x] : 0.0f;
        for (; x < G.L3[2]; x++) row[x] = 0.0f;
      }
    /* t = B^T t; f *= t / N */
    fftwf_execute_dft_r2c(pl->fwd, t, pl->c);
    multiply(pl->c, pl->H, pl->ncplx, 1);
    fftwf_execute_dft_c2r(pl->inv, pl->c, t);
    /* (B^T of a non-negative ratio is non-negative; below 0 is rounding.)
     * With total variation, the correction's multiplier replaces 1 / N. */
    const float *restrict scale = inv_norm;
    if (pl->tvm) {
      tv_multiplier(pl, f, BW_RL_TV_SMOOTHING * top, pl->tvm);
      scale = pl->tvm;
    }
    if (pl->p.accelerate) {
      /* the step's change, and the next alpha: the correlation of this
       * change with the last, over the last's energy, in [0, 1) */
      double cross = 0, energy = 0;
      for (size_t k = 0; k < pl->nreal; k++) {
        const float u = (t[k] > 0 ? t[k] : 0.0f) * (scale ? scale[k] : 1.0f);
        const float next = f[k] * u, step = next - f[k];
        cross += (double)step * change[k];
        energy += (double)change[k] * change[k];
        change[k] = step;
        f[k] = next;
      }
      alpha = it >= 1 && energy > 0 ? cross / energy : 0;
      alpha = alpha < 0 ? 0 : alpha > BW_RL_MAX_ALPHA ? BW_RL_MAX_ALPHA : alpha;
    } else if (scale)
      for (size_t k = 0; k < pl->nreal; k++) f[k] *= (t[k] > 0 ? t[k] : 0.0f) * scale[k];
    else
      for (size_t k = 0; k < pl->nreal; k++) f[k] *= t[k] > 0 ? t[k] : 0.0f;
    if (progress && progress(user, it + 1, pl->p.iterations))
      return rl_fail(err, BW_ERR_STOPPED, "deconvolve: stopped after %d of %d iterations", it + 1,
                     pl->p.iterations);
  }

  for (ptrdiff_t z = 0; z < G.n3[0]; z++)
    for (ptrdiff_t y = 0; y < G.n3[1]; y++) {
      const float *row = f + ((size_t)z * (size_t)G.L3[1] + (size_t)y) * (size_t)G.L3[2];
      char *o = (char *)out->data + z * ost[0] + y * ost[1];
      for (ptrdiff_t x = 0; x < G.n3[2]; x++) memcpy(o + x * ost[2], &row[x], sizeof(float));
    }
  return BW_OK;
}

bw_status bw_rl_exact_halo(const bw_rl_params *params, const ptrdiff_t *psf_shape, ptrdiff_t *halo,
                           bw_error *err) {
  bw_status st = bw_rl_params_check(params, err);
  if (st != BW_OK) return st;
  if (!psf_shape || !halo) return rl_fail(err, BW_ERR_NULL, "deconvolve: %s is NULL", !halo ? "halo" : "PSF shape");
  for (int d = 0; d < params->ndim; d++) {
    if (psf_shape[d] < 1)
      return rl_fail(err, BW_ERR_SHAPE, "deconvolve: PSF extent %td along axis %d", psf_shape[d], d);
    if ((double)params->iterations * (double)(psf_shape[d] - 1) > (double)PTRDIFF_MAX / 4)
      return rl_fail(err, BW_ERR_RANGE, "deconvolve: a halo beyond any image");
    /* total variation reads one pixel each way too */
    const ptrdiff_t reach = psf_shape[d] - 1 > 0 ? psf_shape[d] - 1 : params->tv > 0;
    halo[d] = (ptrdiff_t)params->iterations * reach;
  }
  return BW_OK;
}

bw_status bw_rl_auto_halo(const bw_rl_params *params, const bw_view *psf, ptrdiff_t *halo,
                          bw_error *err) {
  bw_status st = bw_rl_params_check(params, err);
  if (st != BW_OK) return st;
  if (!halo) return rl_fail(err, BW_ERR_NULL, "deconvolve: halo is NULL");
  const int nd = params->ndim;
  ptrdiff_t ps[3], pst[3];
  double sum, moment[3], second[3];
  st = psf_scan(nd, psf, ps, pst, &sum, moment, second, err);
  if (st != BW_OK) return st;
  ptrdiff_t exact[BW_MAX_DIMS];
  st = bw_rl_exact_halo(params, psf->shape, exact, err);
  if (st != BW_OK) return st;
  const double f = auto_sigmas(params->iterations);
  for (int d = 0; d < nd; d++) {
    const int a = d + (3 - nd);
    const double mean = moment[a] / sum, var = second[a] / sum - mean * mean;
    const double h = ceil(f * sqrt(var > 0 ? var : 0) - 1e-9);
    halo[d] = h < (double)exact[d] ? (ptrdiff_t)h : exact[d];
  }
  return BW_OK;
}

bw_status bw_rl_input_region(int ndim, const ptrdiff_t *halo, const ptrdiff_t *psf_shape,
                             const ptrdiff_t *image_shape, const bw_region *out_region,
                             bw_region *in_region, bw_error *err) {
  if (!halo || !image_shape || !out_region || !in_region)
    return rl_fail(err, BW_ERR_NULL, "deconvolve: a NULL argument to the region map");
  if (ndim != 2 && ndim != 3)
    return rl_fail(err, BW_ERR_NDIM, "deconvolve: ndim %d; images of 2 or 3 axes", ndim);
  bw_region r;
  memset(&r, 0, sizeof r);
  for (int d = 0; d < ndim; d++) {
    const ptrdiff_t a = out_region->start[d], n = out_region->size[d];
    if (n < 1 || a < 0 || a > image_shape[d] - n)
      return rl_fail(err, BW_ERR_REGION, "deconvolve: output [%td, %td) along axis %d is not inside "
                     "the image [0, %td)", a, a + n, d, image_shape[d]);
    if (halo[d] < 0)
      return rl_fail(err, BW_ERR_PARAM, "deconvolve: halo %td along axis %d", halo[d], d);
    ptrdiff_t lo = a - halo[d] > 0 ? a - halo[d] : 0;
    ptrdiff_t hi = image_shape[d] - (a + n) > halo[d] ? a + n + halo[d] : image_shape[d];
    if (psf_shape) {
      const ptrdiff_t m = psf_shape[d];
      if (m < 1 || m > image_shape[d])
        return rl_fail(err, BW_ERR_SHAPE, "deconvolve: the PSF (%td pixels along axis %d) is larger than the "
                       "image (%td)", m, d, image_shape[d]);
      if (hi - lo < m) {
        /* about the piece's middle, moved inside the image */
        lo = lo + (hi - lo) / 2 - m / 2;
        lo = lo < 0 ? 0 : lo > image_shape[d] - m ? image_shape[d] - m : lo;
        hi = lo + m;
      }
    }
    r.start[d] = lo;
    r.size[d] = hi - lo;
  }
  *in_region = r;
  return BW_OK;
}
