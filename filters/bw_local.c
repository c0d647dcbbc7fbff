/*
 * Local (sliding box window) statistics: parameters, the region map,
 * validation and the statistics of each output pixel from the moments the
 * sum engines give (bw_local_int.c for integer inputs, exact; bw_local_flt.c
 * for float inputs, double-double over fixed segments).  See bw_local.h.
 */
#include "bw_local_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void bw_local_params_init(bw_local_params *params, int ndim,
                          const ptrdiff_t *radius) {
  if (!params) return;
  memset(params, 0, sizeof *params);
  params->ndim = ndim;
  for (int i = 0; i < BW_MAX_DIMS; i++) {
    params->radius[i] = !radius ? BW_LOCAL_DEFAULT_RADIUS : i < ndim ? radius[i] : 0;
    params->step[i] = BW_LOCAL_DEFAULT_STEP;
  }
  params->ddof = 0;
  params->use_fill = 0;
  params->fill = NAN;
}

int bw_local_stat_supported(bw_stat stat) {
  return bw_stat_is_pair(stat) >= 0 && stat != BW_STAT_MIN && stat != BW_STAT_MAX;
}

bw_status bw_local_params_check(const bw_local_params *p, bw_error *err) {
  if (!p) return bw_fail(err, BW_ERR_NULL, "local: params is NULL");
  if (p->ndim != 2 && p->ndim != 3)
    return bw_fail(err, BW_ERR_NDIM, "local: params.ndim is %d, expected 2 or 3",
                   p->ndim);
  for (int i = 0; i < p->ndim; i++) {
    if (p->radius[i] < 0 || p->radius[i] > BW_LOCAL_MAX_RADIUS)
      return bw_fail(err, BW_ERR_PARAM,
                     "local: radius %td along axis %d is outside [0, %d]",
                     p->radius[i], i, BW_LOCAL_MAX_RADIUS);
    if (p->step[i] < 1)
      return bw_fail(err, BW_ERR_PARAM, "local: step %td along axis %d (< 1)",
                     p->step[i], i);
  }
  if (p->ddof != 0 && p->ddof != 1)
    return bw_fail(err, BW_ERR_PARAM, "local: ddof %d, expected 0 or 1", p->ddof);
  return BW_OK;
}

static bw_status check_image(int nd, const ptrdiff_t *shape, bw_error *err) {
  for (int i = 0; i < nd; i++)
    if (shape[i] < 1)
      return bw_fail(err, BW_ERR_SHAPE, "local: image extent %td along axis %d (< 1)",
                     shape[i], i);
  return BW_OK;
}

bw_status bw_local_output_shape(const bw_local_params *p,
                                const ptrdiff_t *image_shape,
                                ptrdiff_t *out_shape, bw_error *err) {
  bw_status s = bw_local_params_check(p, err);
  if (s) return s;
  if (!image_shape || !out_shape)
    return bw_fail(err, BW_ERR_NULL, "local output shape: NULL shape pointer");
  if ((s = check_image(p->ndim, image_shape, err))) return s;
  for (int i = 0; i < p->ndim; i++)
    out_shape[i] = (image_shape[i] - 1) / p->step[i] + 1;
  return BW_OK;
}

bw_status bw_local_halo(const bw_local_params *p, ptrdiff_t *before,
                        ptrdiff_t *after, bw_error *err) {
  bw_status s = bw_local_params_check(p, err);
  if (s) return s;
  for (int i = 0; i < p->ndim; i++) {
    if (before) before[i] = p->radius[i];
    if (after) after[i] = p->radius[i];
  }
  return BW_OK;
}

/* The region map without checks. */
static void map_region(const bw_local_params *p, const ptrdiff_t *image_shape,
                       const bw_region *out, bw_region *in) {
  memset(in, 0, sizeof *in);
  for (int i = 0; i < p->ndim; i++) {
    ptrdiff_t lo = out->start[i] * p->step[i] - p->radius[i];
    ptrdiff_t hi = (out->start[i] + out->size[i] - 1) * p->step[i] + p->radius[i] + 1;
    in->start[i] = lo < 0 ? 0 : lo;
    in->size[i] = (hi > image_shape[i] ? image_shape[i] : hi) - in->start[i];
  }
}

bw_status bw_local_input_region(const bw_local_params *p,
                                const ptrdiff_t *image_shape,
                                const bw_region *out_region,
                                bw_region *in_region, bw_error *err) {
  ptrdiff_t on[BW_MAX_DIMS];
  bw_status s = bw_local_output_shape(p, image_shape, on, err);
  if (s) return s;
  if (!out_region || !in_region)
    return bw_fail(err, BW_ERR_NULL, "local input region: NULL region pointer");
  if ((s = bw_check_box("local", p->ndim, on, out_region, "output region", "output", err)))
    return s;
  bw_region r;
  map_region(p, image_shape, out_region, &r);
  *in_region = r;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Tiles                                                                    */
/* ------------------------------------------------------------------------ */

static ptrdiff_t box_extent(const lc_geom *g, int d, ptrdiff_t t) {
  const ptrdiff_t e = (t - 1) * g->st[d] + 2 * g->r[d] + 1;
  return e < g->n[d] ? e : g->n[d];
}

void bw_local_tile(const lc_geom *g, const ptrdiff_t *kn, ptrdiff_t budget,
                   const int *fixed, ptrdiff_t *tile) {
  for (int d = 0; d < 3; d++) tile[d] = kn[d];
  for (;;) {
    double vol = 1;
    int widest = -1;
    for (int d = 0; d < 3; d++) {
      vol *= (double)box_extent(g, d, tile[d]);
      if (!fixed[d] && tile[d] > 1 &&
          (widest < 0 || box_extent(g, d, tile[d]) > box_extent(g, widest, tile[widest])))
        widest = d;
    }
    if (vol <= (double)budget || widest < 0) return;
    tile[widest] = (tile[widest] + 1) / 2;
  }
}

/* ------------------------------------------------------------------------ */
/* Statistics and outputs                                                   */
/* ------------------------------------------------------------------------ */

typedef struct lc_out {
  const bw_local_params *p;
  const bw_local_output *outputs;
  size_t n_outputs;
  int nd;
  ptrdiff_t o0[3]; /* the output box's start, 3-D form */
  double *val;     /* one row of one statistic */
} lc_out;

BW_CLONES static void stat_row(const lc_row *r, bw_stat stat, int s, const bw_local_params *p,
                     ptrdiff_t nx, double *restrict val) {
  const double ddof = (double)p->ddof;
  switch (stat) {
  case BW_STAT_COUNT: memcpy(val, r->cnt, (size_t)nx * sizeof *val); break;
  case BW_STAT_SUM: memcpy(val, r->sum[s], (size_t)nx * sizeof *val); break;
  case BW_STAT_MEAN: memcpy(val, r->mean[s], (size_t)nx * sizeof *val); break;
  case BW_STAT_VAR:
  case BW_STAT_STD:
  case BW_STAT_COV: {
    const double *restrict m = stat == BW_STAT_COV ? r->mab : r->m2[s];
    for (ptrdiff_t j = 0; j < nx; j++) {
      const double dof = r->cnt[j] - ddof;
      val[j] = dof > 0 ? m[j] / dof : NAN;
    }
    if (stat == BW_STAT_STD)
      for (ptrdiff_t j = 0; j < nx; j++) val[j] = sqrt(val[j]);
    break;
  }
  case BW_STAT_CORR: {
    if (r->r) {
      memcpy(val, r->r, (size_t)nx * sizeof *val);
      break;
    }
    const double *restrict ma = r->m2[0], *restrict mb = r->m2[1], *restrict mab = r->mab;
    const double fill = p->use_fill ? p->fill : NAN;
    for (ptrdiff_t j = 0; j < nx; j++) {
      double v = mab[j] / (sqrt(ma[j]) * sqrt(mb[j]));
      v = v > 1 ? 1 : v;
      v = v < -1 ? -1 : v;
      /* a constant window has M2 exactly zero */
      val[j] = (ma[j] == 0 || mb[j] == 0) ? fill : v;
    }
    break;
  }
  default: break;
  }
}

/* Row of nx values into an output row at q (stride sx bytes), f32 or f64. */
BW_CLONES static void put_row(char *q, ptrdiff_t sx, bw_dtype dt,
                              const double *restrict val, ptrdiff_t nx) {
  if (dt == BW_F32 && sx == (ptrdiff_t)sizeof(float) && ((uintptr_t)q % sizeof(float)) == 0) {
    float *restrict o = (float *)(void *)q;
    for (ptrdiff_t j = 0; j < nx; j++) o[j] = (float)val[j];
  } else if (dt == BW_F32) {
    for (ptrdiff_t j = 0; j < nx; j++) {
      const float x = (float)val[j];
      memcpy(q + j * sx, &x, sizeof x);
    }
  } else if (sx == (ptrdiff_t)sizeof(double)) {
    memcpy(q, val, (size_t)nx * sizeof(double));
  } else {
    for (ptrdiff_t j = 0; j < nx; j++) memcpy(q + j * sx, &val[j], sizeof(double));
  }
}

static void emit_row(void *ctx, ptrdiff_t kz, ptrdiff_t ky, ptrdiff_t kx0,
                     ptrdiff_t nx, const lc_row *row) {
  const lc_out *c = ctx;
  const ptrdiff_t pos[3] = {kz - c->o0[0], ky - c->o0[1], kx0 - c->o0[2]};
  for (size_t i = 0; i < c->n_outputs; i++) {
    const bw_local_output *o = &c->outputs[i];
    stat_row(row, o->stat, o->input, c->p, nx, c->val);
    const bw_view *v = &o->view;
    char *q = (char *)v->data;
    for (int d = 0; d < c->nd; d++) q += pos[3 - c->nd + d] * v->strides[d];
    put_row(q, v->strides[c->nd - 1], v->dtype, c->val, nx);
  }
}

static unsigned need_of(const bw_local_output *o, size_t n) {
  unsigned need = 0;
  for (size_t i = 0; i < n; i++) {
    const unsigned one = o[i].input ? LC_B1 : LC_A1, two = o[i].input ? LC_B2 : LC_A2;
    switch (o[i].stat) {
    case BW_STAT_SUM:
    case BW_STAT_MEAN: need |= one; break;
    case BW_STAT_VAR:
    case BW_STAT_STD: need |= one | two; break;
    case BW_STAT_COV: need |= LC_A1 | LC_B1 | LC_AB; break;
    case BW_STAT_CORR: need |= LC_A1 | LC_A2 | LC_B1 | LC_B2 | LC_AB; break;
    default: break;
    }
  }
  return need;
}

static bw_status check_outputs(const bw_local_output *outputs, size_t n, int nd,
                               const ptrdiff_t *box, int *need_b, bw_error *err) {
  char sa[64], sb[64];
  if (!outputs) return bw_fail(err, BW_ERR_NULL, "local: outputs is NULL");
  if (n == 0) return bw_fail(err, BW_ERR_PARAM, "local: no outputs requested");
  *need_b = 0;
  for (size_t i = 0; i < n; i++) {
    const bw_local_output *o = &outputs[i];
    const bw_stat st = o->stat;
    if (bw_stat_is_pair(st) < 0)
      return bw_fail(err, BW_ERR_PARAM, "local: output %zu: unknown statistic %d", i,
                     (int)st);
    const char *nm = bw_stat_name(st);
    if (!bw_local_stat_supported(st))
      return bw_fail(err, BW_ERR_PARAM,
                     "local: output %zu: %s is not a local statistic (count, sum, "
                     "mean, var, std, cov, corr)",
                     i, nm);
    if (o->input != 0 && o->input != 1)
      return bw_fail(err, BW_ERR_PARAM, "local: output %zu (%s): input %d, expected 0 or 1",
                     i, nm, o->input);
    *need_b |= bw_stat_is_pair(st) || o->input == 1;
    const bw_view *v = &o->view;
    if (!v->data)
      return bw_fail(err, BW_ERR_OUTPUT, "local: output %zu (%s): data is NULL", i, nm);
    if (v->dtype != BW_F32 && v->dtype != BW_F64)
      return bw_fail(err, BW_ERR_OUTPUT, "local: output %zu (%s): dtype %s, expected f32 or f64",
                     i, nm, bw_dtype_name(v->dtype));
    if (v->ndim != nd)
      return bw_fail(err, BW_ERR_OUTPUT, "local: output %zu (%s): %d axes, expected %d",
                     i, nm, v->ndim, nd);
    for (int d = 0; d < nd; d++)
      if (v->shape[d] != box[d])
        return bw_fail(err, BW_ERR_OUTPUT, "local: output %zu (%s): shape %s, expected %s",
                       i, nm, bw_format_shape(sa, sizeof sa, nd, v->shape),
                       bw_format_shape(sb, sizeof sb, nd, box));
  }
  return BW_OK;
}

bw_status bw_local_stats(const bw_view *a, const bw_view *b,
                         const ptrdiff_t *in_start, const ptrdiff_t *image_shape,
                         const bw_local_params *params,
                         const bw_local_output *outputs, size_t n_outputs,
                         const ptrdiff_t *out_start, bw_error *err) {
  bw_status st = bw_local_params_check(params, err);
  if (st) return st;
  const int nd = params->ndim;
  if ((st = bw_check_view(a, nd, "local: input a", err))) return st;
  if (!outputs) return bw_fail(err, BW_ERR_NULL, "local: outputs is NULL");
  if (n_outputs == 0) return bw_fail(err, BW_ERR_PARAM, "local: no outputs requested");
  ptrdiff_t box[BW_MAX_DIMS] = {0};
  for (int d = 0; d < nd; d++) box[d] = outputs[0].view.shape[d];
  int need_b = 0;
  if ((st = check_outputs(outputs, n_outputs, nd, box, &need_b, err))) return st;
  char sa[64], sb[64];
  if (need_b) {
    if (!b)
      return bw_fail(err, BW_ERR_NULL,
                     "local: input b is NULL but a requested statistic needs it");
    if ((st = bw_check_view(b, nd, "local: input b", err))) return st;
    if (b->dtype != a->dtype)
      return bw_fail(err, BW_ERR_DTYPE, "local: inputs differ in dtype: a is %s, b is %s",
                     bw_dtype_name(a->dtype), bw_dtype_name(b->dtype));
    for (int d = 0; d < nd; d++)
      if (a->shape[d] != b->shape[d])
        return bw_fail(err, BW_ERR_SHAPE, "local: inputs differ in shape: a is %s, b is %s",
                       bw_format_shape(sa, sizeof sa, nd, a->shape),
                       bw_format_shape(sb, sizeof sb, nd, b->shape));
  }
  ptrdiff_t shape[BW_MAX_DIMS], on[BW_MAX_DIMS];
  for (int d = 0; d < nd; d++) {
    if (!image_shape && in_start && in_start[d] != 0)
      return bw_fail(err, BW_ERR_REGION,
                     "local: in_start is not zero but no image_shape is given");
    shape[d] = image_shape ? image_shape[d] : a->shape[d];
  }
  if ((st = bw_local_output_shape(params, shape, on, err))) return st;
  bw_region outr, inr, need;
  memset(&outr, 0, sizeof outr);
  memset(&inr, 0, sizeof inr);
  for (int d = 0; d < nd; d++) {
    outr.start[d] = out_start ? out_start[d] : 0;
    outr.size[d] = box[d];
    inr.start[d] = in_start ? in_start[d] : 0;
    inr.size[d] = a->shape[d];
  }
  if ((st = bw_check_box("local", nd, on, &outr, "output box", "output", err))) return st;
  if ((st = bw_check_box("local", nd, shape, &inr, "input box", "image", err))) return st;
  map_region(params, shape, &outr, &need);
  for (int d = 0; d < nd; d++)
    if (need.start[d] < inr.start[d] ||
        need.start[d] + need.size[d] > inr.start[d] + inr.size[d])
      return bw_fail(err, BW_ERR_REGION,
                     "local: the input box [%td, %td) along axis %d does not hold "
                     "[%td, %td), the pixels the output box needs "
                     "(bw_local_input_region)",
                     inr.start[d], inr.start[d] + inr.size[d], d, need.start[d],
                     need.start[d] + need.size[d]);

  /* Everything in 3-D form. */
  lc_geom g;
  memset(&g, 0, sizeof g);
  ptrdiff_t k0[3] = {0, 0, 0}, kn[3] = {1, 1, 1};
  for (int d = 0; d < 3; d++) {
    g.n[d] = 1;
    g.st[d] = 1;
  }
  int64_t nmax = 1;
  for (int d = 0; d < nd; d++) {
    const int j = 3 - nd + d;
    g.n[j] = shape[d];
    g.r[j] = params->radius[d];
    g.st[j] = params->step[d];
    g.i0[j] = inr.start[d];
    g.str[0][j] = a->strides[d];
    g.str[1][j] = need_b ? b->strides[d] : 0;
    k0[j] = outr.start[d];
    kn[j] = outr.size[d];
    const ptrdiff_t e = 2 * g.r[j] + 1 < g.n[j] ? 2 * g.r[j] + 1 : g.n[j];
    nmax = nmax > ((int64_t)1 << 40) ? nmax : nmax * e;
  }
  g.base[0] = (const char *)a->data;
  g.base[1] = need_b ? (const char *)b->data : NULL;
  g.dt = a->dtype;
  g.need = need_of(outputs, n_outputs);
  g.corr_only = n_outputs == 1 && outputs[0].stat == BW_STAT_CORR;
  g.fill = params->use_fill ? params->fill : NAN;
  g.no_means = 1;
  for (size_t i = 0; i < n_outputs; i++)
    g.no_means &= outputs[i].stat != BW_STAT_SUM && outputs[i].stat != BW_STAT_MEAN;
  const int is_flt = g.dt == BW_F32 || g.dt == BW_F64;
  if (!is_flt && nmax > ((int64_t)1 << 32))
    return bw_fail(err, BW_ERR_RANGE,
                   "local: windows of up to %lld pixels; integer inputs allow at "
                   "most 2^32",
                   (long long)nmax);

  lc_out ctx;
  ctx.p = params;
  ctx.outputs = outputs;
  ctx.n_outputs = n_outputs;
  ctx.nd = nd;
  for (int d = 0; d < 3; d++) ctx.o0[d] = k0[d];
  ctx.val = malloc((size_t)kn[2] * sizeof(double));
  if (!ctx.val) return bw_fail(err, BW_ERR_NOMEM, "local: no memory for an output row");
  st = is_flt ? bw_local_flt(&g, k0, kn, emit_row, &ctx, err)
              : bw_local_int(&g, k0, kn, nmax, emit_row, &ctx, err);
  free(ctx.val);
  return st;
}

bw_status bw_local_corr(const bw_view *a, const bw_view *b,
                        const ptrdiff_t *in_start, const ptrdiff_t *image_shape,
                        const bw_local_params *params, const bw_view *r,
                        const ptrdiff_t *out_start, bw_error *err) {
  if (!r) return bw_fail(err, BW_ERR_NULL, "local: output r is NULL");
  bw_local_output o;
  o.stat = BW_STAT_CORR;
  o.input = 0;
  o.view = *r;
  return bw_local_stats(a, b, in_start, image_shape, params, &o, 1, out_start, err);
}
