/*
 * Non-local means denoising (bw_nlm), 2-D and 3-D, Gaussian or
 * Poisson-Gaussian noise.
 *
 * The per-shift formulation: for each offset o of the upper half of the
 * search window, the squared differences of the image and its copy shifted
 * by o are box-summed over the patch, turned into weights, and each weight
 * is added to both pixels of its pair (the distance from x to x + o is the
 * distance from x + o to x).  The arithmetic is in bw_nlm_kernel.h, built
 * for each precision and instruction set in bw_nlm_kernels.c, which also
 * sizes the tiles; the generalised Anscombe transform and its exact
 * unbiased inverse are in bw_nlm_gat.c.  Here are the parameters, the
 * region map, validation, dtype conversion and the loop over tiles.
 *
 * Scratch memory is allocated once per call: the output box is processed in
 * tiles small enough for the accumulators and rings to stay in cache, and
 * the tiles give the same bits as one whole-image pass would (see the
 * kernel's header comment).
 */
#if defined(__unix__) || defined(__APPLE__)
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#define BW_NLM_MMAP 1
#endif

#include "bw_nlm_gat.h"
#include "bw_nlm_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef BW_NLM_MMAP
#include <sys/mman.h>
#endif

/* ------------------------------------------------------------------------ */
/* Parameters and the region map                                            */
/* ------------------------------------------------------------------------ */

void bw_nlm_params_init(bw_nlm_params *params, int ndim, double sigma) {
  if (!params) return;
  memset(params, 0, sizeof *params);
  params->ndim = ndim;
  for (int i = 0; i < BW_MAX_DIMS; i++) {
    params->patch[i] = BW_NLM_DEFAULT_PATCH;
    params->search[i] = BW_NLM_DEFAULT_SEARCH;
  }
  params->h = 0.0;
  params->noise = BW_NLM_GAUSSIAN;
  params->sigma = sigma;
  params->gain = 1.0;
  params->offset = 0.0;
  params->read_sigma = 0.0;
}

static bw_status check_radii(const bw_nlm_params *p, bw_error *err) {
  if (!p) return bw_fail(err, BW_ERR_NULL, "nlm: params is NULL");
  if (p->ndim != 2 && p->ndim != 3)
    return bw_fail(err, BW_ERR_NDIM, "nlm: params.ndim is %d, expected 2 or 3",
                   p->ndim);
  for (int i = 0; i < p->ndim; i++) {
    if (p->patch[i] < 0 || p->patch[i] > BW_NLM_MAX_PATCH)
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: patch radius %td along axis %d is outside [0, %d]",
                     p->patch[i], i, BW_NLM_MAX_PATCH);
    if (p->search[i] < 0 || p->search[i] > BW_NLM_MAX_SEARCH)
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: search radius %td along axis %d is outside [0, %d]",
                     p->search[i], i, BW_NLM_MAX_SEARCH);
  }
  return BW_OK;
}

/* The effective h, and c0 = 2 sigma^2 / h^2 (sigma = 1 in the stabilised
 * domain). */
static bw_status check_noise(const bw_nlm_params *p, double *h_out, double *c0,
                             bw_error *err) {
  double sigma;
  if (p->noise == BW_NLM_GAUSSIAN) {
    if (!(p->sigma >= 0.0) || !isfinite(p->sigma))
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: sigma must be a finite number >= 0, not %g", p->sigma);
    sigma = p->sigma;
  } else if (p->noise == BW_NLM_POISSON_GAUSSIAN) {
    if (!(p->gain > 0.0) || !isfinite(p->gain))
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: gain must be a finite number > 0, not %g", p->gain);
    if (!isfinite(p->offset))
      return bw_fail(err, BW_ERR_PARAM, "nlm: offset must be a finite number, not %g",
                     p->offset);
    if (!(p->read_sigma >= 0.0) || !isfinite(p->read_sigma))
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: read-noise sigma must be a finite number >= 0, not %g",
                     p->read_sigma);
    const double rs = p->read_sigma / p->gain;
    if (!(rs <= 1e6))
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: read_sigma / gain is %g, expected at most 1e6", rs);
    sigma = 1.0;
  } else {
    return bw_fail(err, BW_ERR_PARAM, "nlm: unknown noise model %d",
                   (int)p->noise);
  }
  if (!(p->h >= 0.0) || !isfinite(p->h))
    return bw_fail(err, BW_ERR_PARAM,
                   "nlm: h must be a finite number >= 0 (0: the default), not %g", p->h);
  const double h = p->h > 0.0 ? p->h : 0.8 * sigma;
  if (h == 0.0)
    return bw_fail(err, BW_ERR_PARAM,
                   "nlm: h is 0 and so is sigma: set h, or sigma for its default "
                   "0.8 sigma");
  const double c = 2.0 * (sigma / h) * (sigma / h);
  if (!(h >= 1e-300 && h <= 1e300) || !(c <= 2e30))
    return bw_fail(err, BW_ERR_PARAM,
                   "nlm: h = %g (sigma %g) is out of range: h must lie in "
                   "[1e-300, 1e300] and sigma / h at most 1e15",
                   h, sigma);
  *h_out = h;
  *c0 = c;
  return BW_OK;
}

bw_status bw_nlm_params_check(const bw_nlm_params *params, bw_error *err) {
  bw_status s = check_radii(params, err);
  if (s) return s;
  double h, c0;
  return check_noise(params, &h, &c0, err);
}

bw_status bw_nlm_halo(const bw_nlm_params *params, ptrdiff_t *before,
                      ptrdiff_t *after, bw_error *err) {
  bw_status s = check_radii(params, err);
  if (s) return s;
  for (int i = 0; i < params->ndim; i++) {
    const ptrdiff_t halo = params->patch[i] + params->search[i];
    if (before) before[i] = halo;
    if (after) after[i] = halo;
  }
  return BW_OK;
}

static bw_status check_image_shape(int nd, const ptrdiff_t *shape,
                                   bw_error *err) {
  for (int i = 0; i < nd; i++)
    if (shape[i] < 1)
      return bw_fail(err, BW_ERR_SHAPE,
                     "nlm: image extent %td along axis %d (< 1)", shape[i], i);
  return BW_OK;
}

/* The region map without checks of the parameters' values. */
static void map_region(const bw_nlm_params *p, const ptrdiff_t *image_shape,
                       const bw_region *out, bw_region *in) {
  ptrdiff_t before[BW_MAX_DIMS], after[BW_MAX_DIMS];
  bw_nlm_halo(p, before, after, NULL);
  memset(in, 0, sizeof *in);
  for (int i = 0; i < p->ndim; i++) {
    ptrdiff_t lo = out->start[i] - before[i];
    ptrdiff_t hi = out->start[i] + out->size[i] + after[i];
    if (lo < 0) lo = 0;
    if (hi > image_shape[i]) hi = image_shape[i];
    in->start[i] = lo;
    in->size[i] = hi - lo;
  }
}

static bw_status check_out_region(int nd, const ptrdiff_t *image_shape,
                                  const bw_region *r, const char *what,
                                  bw_error *err) {
  for (int i = 0; i < nd; i++) {
    const ptrdiff_t st = r->start[i], sz = r->size[i];
    if (st < 0 || sz < 1 || st > image_shape[i] - sz)
      return bw_fail(err, BW_ERR_REGION,
                     "nlm: %s [%td, %td) along axis %d is not inside the image "
                     "[0, %td)",
                     what, st, st + sz, i, image_shape[i]);
  }
  return BW_OK;
}

bw_status bw_nlm_input_region(const bw_nlm_params *params,
                              const ptrdiff_t *image_shape,
                              const bw_region *out_region, bw_region *in_region,
                              bw_error *err) {
  bw_status s = check_radii(params, err);
  if (s) return s;
  if (!image_shape || !out_region || !in_region)
    return bw_fail(err, BW_ERR_NULL, "nlm input region: NULL argument");
  if ((s = check_image_shape(params->ndim, image_shape, err))) return s;
  if ((s = check_out_region(params->ndim, image_shape, out_region,
                            "output region", err)))
    return s;
  bw_region r;
  map_region(params, image_shape, out_region, &r);
  *in_region = r;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading and writing pixels                                               */
/* ------------------------------------------------------------------------ */

static double clamp_round(double v, double lo, double hi) {
  if (v <= lo) return lo;
  if (v >= hi) return hi;
  return floor(v + 0.5);
}

static void put_elem(char *p, bw_dtype dt, double v) {
  switch (dt) {
  case BW_U8: { uint8_t x = (uint8_t)clamp_round(v, 0, 255); memcpy(p, &x, 1); break; }
  case BW_I8: { int8_t x = (int8_t)clamp_round(v, -128, 127); memcpy(p, &x, 1); break; }
  case BW_U16: { uint16_t x = (uint16_t)clamp_round(v, 0, 65535); memcpy(p, &x, 2); break; }
  case BW_I16: { int16_t x = (int16_t)clamp_round(v, -32768, 32767); memcpy(p, &x, 2); break; }
  case BW_U32: { uint32_t x = (uint32_t)clamp_round(v, 0, 4294967295.0); memcpy(p, &x, 4); break; }
  case BW_I32: { int32_t x = (int32_t)clamp_round(v, -2147483648.0, 2147483647.0); memcpy(p, &x, 4); break; }
  case BW_F32: { float x = (float)v; memcpy(p, &x, 4); break; }
  case BW_F64: memcpy(p, &v, 8); break;
  }
}

/* ------------------------------------------------------------------------ */
/* The driver                                                               */
/* ------------------------------------------------------------------------ */

/* A view and where it sits, in 3-D form. */
typedef struct nlm_place {
  const char *data;
  bw_dtype dtype;
  ptrdiff_t start[3], shape[3], strides[3];
} nlm_place;

static void place3(const bw_view *v, const ptrdiff_t *start, int nd,
                   nlm_place *pl) {
  const int lead = 3 - nd;
  pl->data = (const char *)v->data;
  pl->dtype = v->dtype;
  for (int i = 0; i < 3; i++) {
    pl->start[i] = 0;
    pl->shape[i] = 1;
    pl->strides[i] = 0;
  }
  for (int i = 0; i < nd; i++) {
    pl->start[lead + i] = start ? start[i] : 0;
    pl->shape[lead + i] = v->shape[i];
    pl->strides[lead + i] = v->strides[i];
  }
}

static const char *place_at(const nlm_place *pl, ptrdiff_t z, ptrdiff_t y,
                            ptrdiff_t x) {
  return pl->data + (z - pl->start[0]) * pl->strides[0] +
         (y - pl->start[1]) * pl->strides[1] + (x - pl->start[2]) * pl->strides[2];
}

/* Lowest and highest byte a view touches. */
static void view_span(const bw_view *v, uintptr_t *lo, uintptr_t *hi) {
  intptr_t a = 0, b = 0;
  for (int i = 0; i < v->ndim; i++) {
    const intptr_t d = (intptr_t)(v->shape[i] - 1) * (intptr_t)v->strides[i];
    if (d < 0)
      a += d;
    else
      b += d;
  }
  *lo = (uintptr_t)v->data + (uintptr_t)a;
  *hi = (uintptr_t)v->data + (uintptr_t)b + bw_dtype_size(v->dtype) - 1;
}

/* A call's scratch: on POSIX systems straight from the kernel and back to
 * it when the call ends.  Through malloc, glibc raises its mmap threshold
 * when the first such block is freed and serves later ones from its heaps,
 * which keep them: a streamed pipeline calling the core for every piece
 * then held three times the memory it needs. */
static void *scratch_alloc(size_t n) {
#ifdef BW_NLM_MMAP
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
#else
  return aligned_alloc(NLM_ALIGN, n);
#endif
}

static void scratch_free(void *p, size_t n) {
#ifdef BW_NLM_MMAP
  munmap(p, n);
#else
  (void)n;
  free(p);
#endif
}

/* Working values: pixel values, or their generalised Anscombe transform,
 * times scale, an exact power of two near 1 / h.  Scaling by a power of two
 * is exact, and it keeps the squared differences of any input in the range
 * of single precision wherever a weight depends on them. */
typedef struct nlm_values {
  const bw_gat *gat;
  double scale;
} nlm_values;

static double work_value(const nlm_values *wv, double v) {
  if (wv->gat) v = bw_gat_forward(wv->gat, v);
  return v * wv->scale;
}

/* Loads the working values of box (i0, in). */
static void load_values(const nlm_place *src, const ptrdiff_t *i0,
                        const ptrdiff_t *in, const nlm_values *wv, int dbl,
                        void *dst) {
  float *df = dst;
  double *dd = dst;
  size_t k = 0;
  for (ptrdiff_t z = i0[0]; z < i0[0] + in[0]; z++)
    for (ptrdiff_t y = i0[1]; y < i0[1] + in[1]; y++) {
      const char *p = place_at(src, z, y, i0[2]);
      for (ptrdiff_t x = 0; x < in[2]; x++, k++, p += src->strides[2]) {
        const double v = work_value(wv, bw_load_double(p, src->dtype));
        if (dbl)
          dd[k] = v;
        else
          df[k] = (float)v;
      }
    }
}

/* The first pixel of box (i0, in) that is not finite, or whose working
 * value exceeds @vmax in magnitude (weighted sums of a few million such
 * values stay finite).  Returns 1 and its position and value, or 0. */
static int find_bad_value(const nlm_place *src, const ptrdiff_t *i0,
                          const ptrdiff_t *in, const nlm_values *wv,
                          double vmax, ptrdiff_t *at, double *value) {
  for (ptrdiff_t z = i0[0]; z < i0[0] + in[0]; z++)
    for (ptrdiff_t y = i0[1]; y < i0[1] + in[1]; y++) {
      const char *p = place_at(src, z, y, i0[2]);
      for (ptrdiff_t x = 0; x < in[2]; x++, p += src->strides[2]) {
        const double v = bw_load_double(p, src->dtype);
        if (!isfinite(v) || !(fabs(work_value(wv, v)) <= vmax)) {
          at[0] = z;
          at[1] = y;
          at[2] = i0[2] + x;
          *value = v;
          return 1;
        }
      }
    }
  return 0;
}

bw_status bw_nlm(const bw_view *in, const ptrdiff_t *in_start,
                 const bw_view *out, const ptrdiff_t *out_start,
                 const ptrdiff_t *image_shape, const bw_nlm_params *params,
                 bw_error *err) {
  bw_status st = check_radii(params, err);
  if (st) return st;
  const int nd = params->ndim;
  double h = 0.0, c0 = 0.0;
  if ((st = check_noise(params, &h, &c0, err))) return st;
  if ((st = bw_check_view(in, nd, "nlm input", err))) return st;
  {
    bw_error e;
    if (bw_check_view(out, nd, "nlm output", &e))
      return bw_fail(err, BW_ERR_OUTPUT, "%s", e.message);
  }
  ptrdiff_t shape[BW_MAX_DIMS];
  if (image_shape) {
    for (int i = 0; i < nd; i++) shape[i] = image_shape[i];
    if ((st = check_image_shape(nd, shape, err))) return st;
  } else {
    for (int i = 0; i < nd; i++) {
      if (in_start && in_start[i] != 0)
        return bw_fail(err, BW_ERR_REGION,
                       "nlm: in_start is not zero but no image_shape is given");
      shape[i] = in->shape[i];
    }
  }
  bw_region outr, inr, need;
  memset(&outr, 0, sizeof outr);
  memset(&inr, 0, sizeof inr);
  for (int i = 0; i < nd; i++) {
    outr.start[i] = out_start ? out_start[i] : 0;
    outr.size[i] = out->shape[i];
    inr.start[i] = in_start ? in_start[i] : 0;
    inr.size[i] = in->shape[i];
  }
  if ((st = check_out_region(nd, shape, &outr, "output box", err))) return st;
  if ((st = check_out_region(nd, shape, &inr, "input box", err))) return st;
  map_region(params, shape, &outr, &need);
  for (int i = 0; i < nd; i++)
    if (need.start[i] < inr.start[i] ||
        need.start[i] + need.size[i] > inr.start[i] + inr.size[i])
      return bw_fail(err, BW_ERR_REGION,
                     "nlm: the input box [%td, %td) along axis %d does not hold "
                     "[%td, %td), the pixels the output box needs "
                     "(bw_nlm_input_region)",
                     inr.start[i], inr.start[i] + inr.size[i], i, need.start[i],
                     need.start[i] + need.size[i]);
  {
    uintptr_t alo, ahi, blo, bhi;
    view_span(in, &alo, &ahi);
    view_span(out, &blo, &bhi);
    if (alo <= bhi && blo <= ahi)
      return bw_fail(err, BW_ERR_OUTPUT, "nlm: the output view overlaps the input");
  }

  /* Everything in 3-D form. */
  nlm_place src, dst;
  place3(in, in_start, nd, &src);
  place3(out, out_start, nd, &dst);
  ptrdiff_t n[3] = {1, 1, 1}, p[3] = {0, 0, 0}, s[3] = {0, 0, 0};
  ptrdiff_t o0[3] = {0, 0, 0}, on[3] = {1, 1, 1}, need0[3] = {0, 0, 0},
            needn[3] = {1, 1, 1};
  for (int i = 0; i < nd; i++) {
    const int j = 3 - nd + i;
    n[j] = shape[i];
    p[j] = params->patch[i];
    s[j] = params->search[i];
    o0[j] = outr.start[i];
    on[j] = outr.size[i];
    need0[j] = need.start[i];
    needn[j] = need.size[i];
  }
  /* Single precision for the narrow types, unless h is so far from 1 that
   * working values (pixel values over about h) would leave float's range. */
  const int dbl = in->dtype == BW_U32 || in->dtype == BW_I32 || in->dtype == BW_F64 ||
                  !(h >= BW_NLM_FLOAT_HMIN && h <= BW_NLM_FLOAT_HMAX);
  const size_t esz = dbl ? sizeof(double) : sizeof(float);
  ptrdiff_t tile[3];
  bw_nlm_choose_tile(on, p, s, (p[0] + s[0] > 0 ? BW_NLM_TILE_3D : BW_NLM_TILE_2D) / (dbl ? 2 : 1),
              tile);
  nlm_layout L;
  bw_nlm_layout(&L, tile, n, p, s, esz);

  bw_gat *gat = NULL;
  if (params->noise == BW_NLM_POISSON_GAUSSIAN) {
    gat = malloc(sizeof *gat);
    if (!gat) return bw_fail(err, BW_ERR_NOMEM, "nlm: no memory for the inverse table");
    if ((st = bw_gat_init(gat, params, err))) {
      free(gat);
      return st;
    }
  }
  /* Working values in units of about h: scale = 2^-e with h = m 2^e,
   * 1/2 <= m < 1, so that h * scale = m. */
  nlm_values wv;
  wv.gat = gat;
  double hs; /* h in those units */
  {
    int e;
    hs = frexp(h, &e);
    wv.scale = ldexp(1.0, -e);
  }
  {
    ptrdiff_t at[3];
    double v;
    if (find_bad_value(&src, need0, needn, &wv, dbl ? 1e290 : 1e30, at, &v)) {
      char pos[96];
      if (nd == 2)
        snprintf(pos, sizeof pos, "(y, x) = (%td, %td)", at[1], at[2]);
      else
        snprintf(pos, sizeof pos, "(z, y, x) = (%td, %td, %td)", at[0], at[1], at[2]);
      free(gat);
      if (!isfinite(v))
        return bw_fail(err, BW_ERR_PARAM, "nlm: the input pixel at %s is %g", pos, v);
      return bw_fail(err, BW_ERR_PARAM,
                     "nlm: the input pixel at %s is %g: too large for h = %g (its "
                     "working value exceeds %g h)",
                     pos, v, h, dbl ? 1e290 : 1e30);
    }
  }
  char *mem = scratch_alloc(L.total);
  if (!mem) {
    free(gat);
    return bw_fail(err, BW_ERR_NOMEM, "nlm: no memory for %zu bytes of scratch",
                   L.total);
  }

  bw_nlm_tile a;
  memset(&a, 0, sizeof a);
  for (int i = 0; i < 3; i++) {
    a.n[i] = n[i];
    a.p[i] = p[i];
    a.s[i] = s[i];
  }
  a.hinv2 = 1.4426950408889634 / (hs * hs);
  a.c0 = c0 * 1.4426950408889634;
  a.ycut = BW_NLM_YCUT;
  a.val = mem + L.val;
  a.wsum = mem + L.wsum;
  a.vsum = mem + L.vsum;
  a.trow = mem + L.trow;
  a.prow = mem + L.prow;
  a.srow = mem + L.srow;
  a.w = mem + L.w;
  a.kfull = mem + L.kfull;
  a.ktmp = mem + L.ktmp;
  a.yring = mem + L.yring;
  a.ypair = mem + L.ypair;
  a.zring = p[0] > 0 ? mem + L.zring : NULL;
  a.zpair = p[0] > 0 ? mem + L.zpair : NULL;
  a.cx = (ptrdiff_t *)(mem + L.cx);
  a.rowlen = L.rowlen;
  a.planelen = L.planelen;
  const bw_nlm_tile_fn kernel = bw_nlm_select(dbl);

  for (ptrdiff_t tz = o0[0]; tz < o0[0] + on[0]; tz += tile[0])
    for (ptrdiff_t ty = o0[1]; ty < o0[1] + on[1]; ty += tile[1])
      for (ptrdiff_t tx = o0[2]; tx < o0[2] + on[2]; tx += tile[2]) {
        const ptrdiff_t t0[3] = {tz, ty, tx};
        for (int i = 0; i < 3; i++) {
          a.t0[i] = t0[i];
          a.tn[i] = o0[i] + on[i] - t0[i] < tile[i] ? o0[i] + on[i] - t0[i] : tile[i];
          const ptrdiff_t halo = p[i] + s[i];
          ptrdiff_t lo = t0[i] - halo, hi = t0[i] + a.tn[i] + halo;
          a.i0[i] = lo < 0 ? 0 : lo;
          a.in[i] = (hi > n[i] ? n[i] : hi) - a.i0[i];
        }
        load_values(&src, a.i0, a.in, &wv, dbl, mem + L.val);
        /* The pixel itself: weight 1. */
        {
          size_t k = 0;
          for (ptrdiff_t z = 0; z < a.tn[0]; z++)
            for (ptrdiff_t y = 0; y < a.tn[1]; y++) {
              const ptrdiff_t v = ((z + a.t0[0] - a.i0[0]) * a.in[1] +
                                   (y + a.t0[1] - a.i0[1])) * a.in[2] +
                                  (a.t0[2] - a.i0[2]);
              for (ptrdiff_t x = 0; x < a.tn[2]; x++, k++) {
                if (dbl) {
                  ((double *)a.wsum)[k] = 1.0;
                  ((double *)a.vsum)[k] = ((const double *)a.val)[v + x];
                } else {
                  ((float *)a.wsum)[k] = 1.0f;
                  ((float *)a.vsum)[k] = ((const float *)a.val)[v + x];
                }
              }
            }
        }
        kernel(&a);
        /* The weighted means, back to image units, into the output. */
        size_t k = 0;
        for (ptrdiff_t z = 0; z < a.tn[0]; z++)
          for (ptrdiff_t y = 0; y < a.tn[1]; y++) {
            char *q = (char *)place_at(&dst, a.t0[0] + z, a.t0[1] + y, a.t0[2]);
            for (ptrdiff_t x = 0; x < a.tn[2]; x++, k++, q += dst.strides[2]) {
              double v;
              if (dbl)
                v = ((double *)a.vsum)[k] / ((double *)a.wsum)[k];
              else
                v = (double)(((float *)a.vsum)[k] / ((float *)a.wsum)[k]);
              v /= wv.scale;
              if (gat) v = bw_gat_inverse(gat, v);
              put_elem(q, dst.dtype, v);
            }
          }
      }
  scratch_free(mem, L.total);
  free(gat);
  return BW_OK;
}
