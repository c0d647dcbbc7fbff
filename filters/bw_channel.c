/* One channel from many: luminance, optical density, stains of the colour
 * deconvolution, or one channel as it is (bw_channel.h). */
#include "bw_channel.h"
#include "bw_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void bw_channel_params_init(bw_channel_params *params) {
  if (!params) return;
  params->op = BW_CHANNEL_LUMINANCE;
  params->index = 0;
  params->white = 0;
}

static const struct {
  const char *name;
  bw_channel_op op;
  int index;
} kNames[] = {
    {"luminance", BW_CHANNEL_LUMINANCE, 0}, {"od", BW_CHANNEL_OD, 0},
    {"hematoxylin", BW_CHANNEL_HEMATOXYLIN, 0}, {"eosin", BW_CHANNEL_EOSIN, 0},
    {"dab", BW_CHANNEL_DAB, 0}, {"r", BW_CHANNEL_INDEX, 0},
    {"g", BW_CHANNEL_INDEX, 1}, {"b", BW_CHANNEL_INDEX, 2},
};

static int same_name(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
    if (x != *b) return 0;
  }
  return *a == *b;
}

bw_status bw_channel_from_name(const char *name, bw_channel_params *params, bw_error *err) {
  if (!name || !params) return bw_fail(err, BW_ERR_NULL, "channel: NULL argument");
  for (size_t i = 0; i < sizeof kNames / sizeof *kNames; i++)
    if (same_name(name, kNames[i].name)) {
      params->op = kNames[i].op;
      params->index = kNames[i].index;
      return BW_OK;
    }
  /* A decimal index of at most 4 digits. */
  int index = 0;
  size_t n = strlen(name);
  int digits = n > 0 && n <= 4;
  for (size_t i = 0; digits && i < n; i++) {
    digits = name[i] >= '0' && name[i] <= '9';
    index = index * 10 + (name[i] - '0');
  }
  if (!digits)
    return bw_fail(err, BW_ERR_PARAM,
                   "unknown channel \"%.64s\" (luminance, od, hematoxylin, eosin, dab, r, g, b, "
                   "or a channel number)",
                   name);
  params->op = BW_CHANNEL_INDEX;
  params->index = index;
  return BW_OK;
}

const char *bw_channel_op_name(bw_channel_op op) {
  switch (op) {
  case BW_CHANNEL_INDEX: return "index";
  case BW_CHANNEL_LUMINANCE: return "luminance";
  case BW_CHANNEL_OD: return "od";
  case BW_CHANNEL_HEMATOXYLIN: return "hematoxylin";
  case BW_CHANNEL_EOSIN: return "eosin";
  case BW_CHANNEL_DAB: return "dab";
  }
  return NULL;
}

bw_status bw_channel_params_check(const bw_channel_params *params, int channels,
                                  bw_error *err) {
  if (!params) return bw_fail(err, BW_ERR_NULL, "channel: params is NULL");
  const char *name = bw_channel_op_name(params->op);
  if (!name) return bw_fail(err, BW_ERR_PARAM, "channel: unknown operation %d", (int)params->op);
  if (channels < 1 || channels > BW_MAX_CHANNELS)
    return bw_fail(err, BW_ERR_PARAM, "channel: an image has 1 to %d channels, not %d",
                   BW_MAX_CHANNELS, channels);
  if (params->op == BW_CHANNEL_INDEX && (params->index < 0 || params->index >= channels))
    return bw_fail(err, BW_ERR_PARAM,
                   "channel %d does not exist: the image has %d (numbered from 0)",
                   params->index, channels);
  if (params->op != BW_CHANNEL_INDEX && channels < 3)
    return bw_fail(err, BW_ERR_PARAM,
                   "channel %s needs red, green and blue: the image has %d channel%s", name,
                   channels, channels == 1 ? "" : "s");
  if (!(params->white >= 0) || isinf(params->white))
    return bw_fail(err, BW_ERR_PARAM, "white must be a finite number >= 0, not %g",
                   params->white);
  return BW_OK;
}

bw_status bw_channel_input_region(int ndim, const ptrdiff_t *image_shape,
                                  const bw_region *out_region, bw_region *in_region,
                                  bw_error *err) {
  if (!image_shape || !out_region || !in_region)
    return bw_fail(err, BW_ERR_NULL, "channel region map: NULL argument");
  if (ndim < 2 || ndim > BW_MAX_DIMS)
    return bw_fail(err, BW_ERR_NDIM, "channel region map: %d axes (2 or 3)", ndim);
  for (int i = 0; i < ndim; i++) {
    ptrdiff_t st = out_region->start[i], sz = out_region->size[i];
    if (sz < 1 || st < 0 || st > image_shape[i] - sz)
      return bw_fail(err, BW_ERR_REGION,
                     "channel region map: axis %d range [%td, %td) is empty or outside "
                     "[0, %td)",
                     i, st, st + sz, image_shape[i]);
  }
  bw_region r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < ndim; i++) {
    r.start[i] = out_region->start[i];
    r.size[i] = out_region->size[i];
  }
  *in_region = r;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* The conversion                                                           */
/* ------------------------------------------------------------------------ */

/* The largest value of @dtype (1 for floats). */
static double type_white(bw_dtype dtype) {
  switch (dtype) {
  case BW_U8: return 255.0;
  case BW_I8: return 127.0;
  case BW_U16: return 65535.0;
  case BW_I16: return 32767.0;
  case BW_U32: return 4294967295.0;
  case BW_I32: return 2147483647.0;
  default: return 1.0;
  }
}

/* The stain matrix of Ruifrok and Johnston (rows: the optical densities of
 * hematoxylin, eosin and DAB in R, G, B), inverted once per call: the
 * amounts of the stains are the pixel's optical densities times the
 * inverse. */
static void stain_inverse(double inv[3][3]) {
  static const double m[3][3] = {{0.65, 0.70, 0.29}, {0.07, 0.99, 0.11}, {0.27, 0.57, 0.78}};
  double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
               m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
               m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      /* Cofactor of m[j][i] over the determinant: the adjugate. */
      int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
      inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
    }
}

/* What each 8-bit value of channel c adds to the output of a colour
 * operation: the same products the general loop forms, so that summing
 * them in the same order gives the same bits.  OD's factor 6 / 3 and the
 * stains' clamp are applied after the sum, as there. */
static void u8_terms(bw_channel_op op, int stain, double white, const double inv[3][3],
                     double lut[3][256]) {
  static const double weight[3] = {0.2125, 0.7154, 0.0721};
  const double ln_floor = log(1e-6);
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++) {
      if (op == BW_CHANNEL_LUMINANCE) {
        lut[c][v] = weight[c] * (double)v;
        continue;
      }
      double t = (double)v / white;
      t = t < 1e-6 ? 1e-6 : t > 1 ? 1 : t;
      const double od = log(t) / ln_floor;
      lut[c][v] = op == BW_CHANNEL_OD ? od : od * inv[c][stain];
    }
}

/* The colour operations on 8-bit RGB (slides): three table lookups per
 * pixel instead of three logarithms, bit for bit what the general loop
 * gives. */
static void convert_u8(bw_channel_op op, const double lut[3][256], const bw_view *src,
                       const bw_view *dst) {
  const int nd = dst->ndim;
  const ptrdiff_t n2 = nd == 3 ? dst->shape[0] : 1, rows = dst->shape[nd - 2],
                  cols = dst->shape[nd - 1];
  for (ptrdiff_t z = 0; z < n2; z++)
    for (ptrdiff_t y = 0; y < rows; y++) {
      const unsigned char *in[3];
      ptrdiff_t sx[3];
      for (int c = 0; c < 3; c++) {
        in[c] = (const unsigned char *)src[c].data + (nd == 3 ? z * src[c].strides[0] : 0) +
                y * src[c].strides[nd - 2];
        sx[c] = src[c].strides[nd - 1];
      }
      char *out = (char *)dst->data + (nd == 3 ? z * dst->strides[0] : 0) + y * dst->strides[nd - 2];
      const ptrdiff_t dsx = dst->strides[nd - 1];
      for (ptrdiff_t x = 0; x < cols; x++, out += dsx) {
        double v = lut[0][in[0][x * sx[0]]] + lut[1][in[1][x * sx[1]]] + lut[2][in[2][x * sx[2]]];
        if (op == BW_CHANNEL_OD) v *= 6.0 / 3.0;
        if (op >= BW_CHANNEL_HEMATOXYLIN && v < 0) v = 0;
        if (dst->dtype == BW_F32) {
          float f = (float)v;
          memcpy(out, &f, 4);
        } else {
          memcpy(out, &v, 8);
        }
      }
    }
}

bw_status bw_channel_convert(const bw_channel_params *params, int channels, const bw_view *src,
                             const bw_view *dst, bw_error *err) {
  bw_status st = bw_channel_params_check(params, channels, err);
  if (st != BW_OK) return st;
  if (!src) return bw_fail(err, BW_ERR_NULL, "channel: src is NULL");
  st = bw_check_view(dst, dst ? dst->ndim : 0, "channel: dst", err);
  if (st != BW_OK) return st;
  const int nd = dst->ndim;
  if (nd < 2 || nd > BW_MAX_DIMS)
    return bw_fail(err, BW_ERR_NDIM, "channel: dst has %d axes (2 or 3)", nd);
  const bw_dtype in_type = src[0].dtype;
  for (int c = 0; c < channels; c++) {
    char what[40];
    snprintf(what, sizeof what, "channel: src %d", c);
    st = bw_check_view(&src[c], nd, what, err);
    if (st != BW_OK) return st;
    if (src[c].dtype != in_type)
      return bw_fail(err, BW_ERR_DTYPE, "channel: src %d is %s, src 0 %s", c,
                     bw_dtype_name(src[c].dtype), bw_dtype_name(in_type));
    for (int i = 0; i < nd; i++)
      if (src[c].shape[i] != dst->shape[i])
        return bw_fail(err, BW_ERR_SHAPE, "channel: src %d and dst differ along axis %d", c, i);
  }
  const int copy = params->op == BW_CHANNEL_INDEX && dst->dtype == in_type;
  if (!copy && dst->dtype != BW_F32 && dst->dtype != BW_F64)
    return bw_fail(err, BW_ERR_OUTPUT,
                   "channel: dst is %s; it must be f32 or f64 (or, for one channel as it "
                   "is, the input's type)",
                   bw_dtype_name(dst->dtype));

  const double white = params->white > 0 ? params->white : type_white(in_type);
  double inv[3][3];
  stain_inverse(inv);
  const int stain = params->op - BW_CHANNEL_HEMATOXYLIN;
  if (in_type == BW_U8 && params->op != BW_CHANNEL_INDEX) {
    double lut[3][256];
    u8_terms(params->op, stain < 0 ? 0 : stain, white, inv, lut);
    convert_u8(params->op, lut, src, dst);
    return BW_OK;
  }
  const double ln_floor = log(1e-6);
  const size_t es = bw_dtype_size(in_type);
  const ptrdiff_t n2 = nd == 3 ? dst->shape[0] : 1;
  for (ptrdiff_t z = 0; z < n2; z++)
    for (ptrdiff_t y = 0; y < dst->shape[nd - 2]; y++) {
      char *out = (char *)dst->data + (nd == 3 ? z * dst->strides[0] : 0) +
                  y * dst->strides[nd - 2];
      const char *in[3];
      const int used = params->op == BW_CHANNEL_INDEX ? 1 : 3;
      for (int c = 0; c < used; c++) {
        const bw_view *v = &src[params->op == BW_CHANNEL_INDEX ? params->index : c];
        in[c] = (const char *)v->data + (nd == 3 ? z * v->strides[0] : 0) +
                y * v->strides[nd - 2];
      }
      const ptrdiff_t dsx = dst->strides[nd - 1];
      ptrdiff_t ssx[3];
      for (int c = 0; c < used; c++)
        ssx[c] = src[params->op == BW_CHANNEL_INDEX ? params->index : c].strides[nd - 1];
      for (ptrdiff_t x = 0; x < dst->shape[nd - 1]; x++, out += dsx) {
        if (copy) {
          memcpy(out, in[0] + x * ssx[0], es);
          continue;
        }
        double v;
        if (params->op == BW_CHANNEL_INDEX) {
          v = bw_load_double(in[0] + x * ssx[0], in_type);
        } else {
          double rgb[3];
          for (int c = 0; c < 3; c++) rgb[c] = bw_load_double(in[c] + x * ssx[c], in_type);
          if (params->op == BW_CHANNEL_LUMINANCE) {
            v = 0.2125 * rgb[0] + 0.7154 * rgb[1] + 0.0721 * rgb[2];
          } else {
            double od[3];
            for (int c = 0; c < 3; c++) {
              double t = rgb[c] / white;
              t = t < 1e-6 ? 1e-6 : t > 1 ? 1 : t; /* NaN stays NaN */
              od[c] = log(t) / ln_floor;
            }
            if (params->op == BW_CHANNEL_OD) {
              /* -log10(t) = (ln t / ln 1e-6) * 6 */
              v = (od[0] + od[1] + od[2]) * (6.0 / 3.0);
            } else {
              v = od[0] * inv[0][stain] + od[1] * inv[1][stain] + od[2] * inv[2][stain];
              if (v < 0) v = 0;
            }
          }
        }
        if (dst->dtype == BW_F32) {
          float f = (float)v;
          memcpy(out, &f, 4);
        } else {
          memcpy(out, &v, 8);
        }
      }
    }
  return BW_OK;
}
