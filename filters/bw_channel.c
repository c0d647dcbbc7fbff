/* One channel from many: luminance, optical density, stains of the colour
 * deconvolution, or one channel as it is (bw_channel.h). */
#include "bw_channel.h"
#include "bw_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif

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
 * hematoxylin, eosin and DAB in R, G, B), inverted once per plan: the
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

/* Luminance: the weights as integers over 10000, so that integer samples
 * give an exact numerator (an 8-bit pixel's in 32-bit integers) and one
 * rounding, at the scaling. */
#define LUM_R 2125
#define LUM_G 7154
#define LUM_B 721
#define LUM_SCALE 1e-4
#define LUM_DIVISOR 10000 /* 1 / LUM_SCALE */

/* The optical density term of one sample: ln(t) / ln(1e-6), t its value
 * relative to white clamped to [1e-6, 1]; NaN stays NaN. */
static double od_term(double v, double white) {
  double t = v / white;
  t = t < 1e-6 ? 1e-6 : t > 1 ? 1 : t;
  return log(t) / log(1e-6);
}

/* The colour operations after their three terms: OD's -log10(t) mean is
 * (sum of ln t / ln 1e-6) * 6 / 3; the stains clamp negative amounts. */
static double colour_finish(bw_channel_op op, double sum) {
  if (op == BW_CHANNEL_OD) return sum * (6.0 / 3.0);
  if (op >= BW_CHANNEL_HEMATOXYLIN && sum < 0) return 0;
  return sum;
}

static unsigned luminance_simd(void);

bw_status bw_channel_plan_make(const bw_channel_params *params, int channels, bw_dtype in,
                               bw_dtype out, bw_channel_plan *plan, bw_error *err) {
  bw_status st = bw_channel_params_check(params, channels, err);
  if (st != BW_OK) return st;
  if (!plan) return bw_fail(err, BW_ERR_NULL, "channel: plan is NULL");
  if (bw_dtype_size(in) == 0)
    return bw_fail(err, BW_ERR_DTYPE, "channel: input type %d is not a bw_dtype", (int)in);
  const int copy = params->op == BW_CHANNEL_INDEX && out == in;
  if (!copy && out != BW_F32 && out != BW_F64)
    return bw_fail(err, BW_ERR_OUTPUT,
                   "channel: dst is %s; it must be f32 or f64 (or, for one channel as it "
                   "is, the input's type)",
                   bw_dtype_name(out));
  memset(plan, 0, sizeof *plan);
  plan->params = *params;
  plan->channels = channels;
  plan->in = in;
  plan->out = out;
  plan->white = params->white > 0 ? params->white : type_white(in);
  stain_inverse(plan->inv);
  plan->stain = params->op >= BW_CHANNEL_HEMATOXYLIN ? (int)(params->op - BW_CHANNEL_HEMATOXYLIN) : 0;
  /* 8-bit optical densities and stains: what each value of channel c adds
   * to the sum, the same products the general loop forms, so that summing
   * them in the same order gives the same bits. */
  plan->lut_ready = in == BW_U8 && params->op >= BW_CHANNEL_OD;
  plan->simd = in == BW_U8 && params->op == BW_CHANNEL_LUMINANCE ? luminance_simd() : 0;
  for (int c = 0; plan->lut_ready && c < 3; c++)
    for (int v = 0; v < 256; v++) {
      const double od = od_term((double)v, plan->white);
      plan->lut[c][v] = params->op == BW_CHANNEL_OD ? od : od * plan->inv[c][plan->stain];
    }
  return BW_OK;
}

/* Stores @v rounded once to the plan's output type at @out. */
static void store(bw_dtype out, double v, char *dst) {
  if (out == BW_F32) {
    float f = (float)v;
    memcpy(dst, &f, sizeof f);
  } else {
    memcpy(dst, &v, sizeof v);
  }
}

/* One pixel whose channel c is at in[c] (any alignment), by the general
 * rule: every value loaded exactly as a double. */
static double pixel_value(const bw_channel_plan *p, const char *const *in) {
  const bw_channel_op op = p->params.op;
  if (op == BW_CHANNEL_INDEX) return bw_load_double(in[0], p->in);
  double rgb[3];
  for (int c = 0; c < 3; c++) rgb[c] = bw_load_double(in[c], p->in);
  if (op == BW_CHANNEL_LUMINANCE)
    return (LUM_R * rgb[0] + LUM_G * rgb[1] + LUM_B * rgb[2]) * LUM_SCALE;
  double term[3];
  for (int c = 0; c < 3; c++) {
    const double od = od_term(rgb[c], p->white);
    term[c] = op == BW_CHANNEL_OD ? od : od * p->inv[c][p->stain];
  }
  /* Summed as the 8-bit tables are (a white pixel's -0 stays -0). */
  return colour_finish(op, term[0] + term[1] + term[2]);
}

/* 8-bit luminance of @n contiguous pixels of @spp (3 or 4) samples into
 * contiguous float32 or float64: the numerator in 32-bit integers, exactly
 * the general rule's, in a loop the compiler vectorises.  For float32 the
 * numerator (below 2^22, exact in float) is divided by 10000 in float: a
 * correctly rounded quotient, which for every 8-bit RGB triple is the
 * float32 the general rule rounds its double product to (as
 * test_core_channel.c checks for every triple), in 16 lanes where the double
 * product takes 8. */
/* Runs of 16 pixels, the last one padded through a local buffer: decoded
 * tiles are copied out in runs that are seldom a multiple of the vector
 * loop's width (256-pixel tiles in cells of whole 10-pixel blocks), and a
 * scalar remainder took a quarter of the conversion's time. */
#define LUM_RUN 16
#define LUM_RUNS(SPP)                                                                   \
  do {                                                                                  \
    size_t i = 0;                                                                       \
    for (; i + LUM_RUN <= n; i += LUM_RUN)                                              \
      for (int k = 0; k < LUM_RUN; k++)                                                 \
        d[i + k] = (float)(LUM_R * s[SPP * (i + k)] + LUM_G * s[SPP * (i + k) + 1] +   \
                           LUM_B * s[SPP * (i + k) + 2]) /                              \
                   scale;                                                               \
    if (i < n) {                                                                        \
      uint8_t in[SPP * LUM_RUN] = {0};                                                  \
      float out[LUM_RUN];                                                               \
      memcpy(in, s + SPP * i, (size_t)SPP * (n - i));                                   \
      for (int k = 0; k < LUM_RUN; k++)                                                 \
        out[k] = (float)(LUM_R * in[SPP * k] + LUM_G * in[SPP * k + 1] +                \
                         LUM_B * in[SPP * k + 2]) /                                     \
                 scale;                                                                 \
      memcpy(d + i, out, sizeof *out * (n - i));                                        \
    }                                                                                   \
  } while (0)

BW_CLONES static void luminance_u8_f32_portable(const uint8_t *restrict s, int spp,
                                                float *restrict d, size_t n) {
  const float scale = (float)LUM_DIVISOR;
  if (spp == 3)
    LUM_RUNS(3);
  else
    LUM_RUNS(4);
}

#if defined(__GNUC__) && defined(__x86_64__)
/* The same float32 luminance with x86 vectors, as fast as the tiles it
 * follows are decoded: pixels are gathered four to a 128-bit lane (RGB
 * triples moved into place by a 32-bit permutation), their samples widened
 * to 16 bits by a byte shuffle, and the numerator formed by two
 * multiply-adds, (R, G) . (2125, 7154) + (B, 0) . (721, 0), exact in 32 bits.
 * The quotient is the product by the float reciprocal with one Newton step
 * through fused multiply-adds, q + (x - q * 10000) / 10000: for every
 * numerator up to 255 * 10000 the correctly rounded quotient, as the
 * division gives (test_core_channel.c checks every 8-bit triple). */
#define LUM_SHUF_RG3 0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1
#define LUM_SHUF_B3 2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1
#define LUM_SHUF_RG4 0, -1, 1, -1, 4, -1, 5, -1, 8, -1, 9, -1, 12, -1, 13, -1
#define LUM_SHUF_B4 2, -1, -1, -1, 6, -1, -1, -1, 10, -1, -1, -1, 14, -1, -1, -1

__attribute__((target("avx512f,avx512bw,fma"))) static void luminance_u8_f32_avx512(
    const uint8_t *restrict s, int spp, float *restrict d, size_t n) {
  const __m512 dv = _mm512_set1_ps((float)LUM_DIVISOR), inv = _mm512_set1_ps(1.0f / LUM_DIVISOR);
  const __m512i wrg = _mm512_set1_epi32((LUM_G << 16) | LUM_R), wb = _mm512_set1_epi32(LUM_B);
  const __m512i mrg = _mm512_broadcast_i32x4(spp == 3 ? _mm_setr_epi8(LUM_SHUF_RG3)
                                                      : _mm_setr_epi8(LUM_SHUF_RG4));
  const __m512i mb = _mm512_broadcast_i32x4(spp == 3 ? _mm_setr_epi8(LUM_SHUF_B3)
                                                     : _mm_setr_epi8(LUM_SHUF_B4));
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0, 6, 7, 8, 0, 9, 10, 11, 0);
  const __mmask64 run = spp == 3 ? (1ULL << 48) - 1 : ~0ULL;
  for (size_t i = 0; i < n; i += 16) {
    /* the last run loads and stores only its own pixels; the others store
     * whole vectors (masked stores cost more) */
    const size_t k = n - i < 16 ? n - i : 16;
    const __mmask64 in = k == 16 ? run : (1ULL << (k * (size_t)spp)) - 1;
    __m512i v = _mm512_maskz_loadu_epi8(in, s + i * (size_t)spp);
    if (spp == 3) v = _mm512_permutexvar_epi32(lanes, v);
    const __m512i x = _mm512_add_epi32(_mm512_madd_epi16(_mm512_shuffle_epi8(v, mrg), wrg),
                                       _mm512_madd_epi16(_mm512_shuffle_epi8(v, mb), wb));
    const __m512 f = _mm512_cvtepi32_ps(x);
    __m512 q = _mm512_mul_ps(f, inv);
    q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, dv, f), inv, q);
    if (k == 16)
      _mm512_storeu_ps(d + i, q);
    else
      _mm512_mask_storeu_ps(d + i, (__mmask16)((1u << k) - 1), q);
  }
}

__attribute__((target("avx2,fma"))) static void luminance_u8_f32_avx2(const uint8_t *restrict s,
                                                                     int spp, float *restrict d,
                                                                     size_t n) {
  const __m256 dv = _mm256_set1_ps((float)LUM_DIVISOR), inv = _mm256_set1_ps(1.0f / LUM_DIVISOR);
  const __m256i wrg = _mm256_set1_epi32((LUM_G << 16) | LUM_R), wb = _mm256_set1_epi32(LUM_B);
  const __m256i mrg = _mm256_broadcastsi128_si256(spp == 3 ? _mm_setr_epi8(LUM_SHUF_RG3)
                                                           : _mm_setr_epi8(LUM_SHUF_RG4));
  const __m256i mb = _mm256_broadcastsi128_si256(spp == 3 ? _mm_setr_epi8(LUM_SHUF_B3)
                                                          : _mm_setr_epi8(LUM_SHUF_B4));
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i v;
    if (spp == 3) {
      /* 24 bytes, read as 16 and 8 */
      v = _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(s + 3 * i)));
      v = _mm256_inserti128_si256(
          v, _mm_loadl_epi64((const __m128i *)(const void *)(s + 3 * i + 16)), 1);
      v = _mm256_permutevar8x32_epi32(v, lanes);
    } else {
      v = _mm256_loadu_si256((const __m256i *)(const void *)(s + 4 * i));
    }
    const __m256i x = _mm256_add_epi32(_mm256_madd_epi16(_mm256_shuffle_epi8(v, mrg), wrg),
                                       _mm256_madd_epi16(_mm256_shuffle_epi8(v, mb), wb));
    const __m256 f = _mm256_cvtepi32_ps(x);
    __m256 q = _mm256_mul_ps(f, inv);
    q = _mm256_fmadd_ps(_mm256_fnmadd_ps(q, dv, f), inv, q);
    _mm256_storeu_ps(d + i, q);
  }
  if (i < n) luminance_u8_f32_portable(s + (size_t)spp * i, spp, d + i, n - i);
}
#endif

/* BW_SIMD_* bits of the luminance kernel a plan uses */
static unsigned luminance_simd(void) {
#if defined(__GNUC__) && defined(__x86_64__)
  const unsigned simd = bw_simd();
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("fma")) return 0;
  if (simd & BW_SIMD_AVX512BW) return BW_SIMD_AVX512BW;
  if (simd & BW_SIMD_AVX2) return BW_SIMD_AVX2;
#endif
  return 0;
}

static void luminance_u8_f32(const bw_channel_plan *plan, const uint8_t *restrict s, int spp,
                             float *restrict d, size_t n) {
#if defined(__GNUC__) && defined(__x86_64__)
  if (plan->simd & BW_SIMD_AVX512BW) {
    luminance_u8_f32_avx512(s, spp, d, n);
    return;
  }
  if (plan->simd & BW_SIMD_AVX2) {
    luminance_u8_f32_avx2(s, spp, d, n);
    return;
  }
#else
  (void)plan;
#endif
  luminance_u8_f32_portable(s, spp, d, n);
}

BW_CLONES static void luminance_u8_f64(const uint8_t *restrict s, int spp, double *restrict d,
                                       size_t n) {
  for (size_t i = 0; i < n; i++, s += spp)
    d[i] = (double)(LUM_R * s[0] + LUM_G * s[1] + LUM_B * s[2]) * LUM_SCALE;
}

void bw_channel_convert_pixels(const bw_channel_plan *plan, const void *src,
                               ptrdiff_t src_stride, void *dst, ptrdiff_t dst_stride,
                               size_t n) {
  if (!plan || !src || !dst || n == 0) return;
  const bw_channel_op op = plan->params.op;
  const size_t es = bw_dtype_size(plan->in), os = bw_dtype_size(plan->out);
  const unsigned char *s = (const unsigned char *)src;
  char *d = (char *)dst;
  if (op == BW_CHANNEL_LUMINANCE && plan->in == BW_U8 && (src_stride == 3 || src_stride == 4) &&
      dst_stride == (ptrdiff_t)os && plan->channels >= (int)src_stride) {
    if (plan->out == BW_F32)
      luminance_u8_f32(plan, s, (int)src_stride, (float *)dst, n);
    else
      luminance_u8_f64(s, (int)src_stride, (double *)dst, n);
    return;
  }
  if (plan->lut_ready) {
    for (size_t i = 0; i < n; i++, s += src_stride, d += dst_stride)
      store(plan->out, colour_finish(op, plan->lut[0][s[0]] + plan->lut[1][s[1]] + plan->lut[2][s[2]]),
            d);
    return;
  }
  if (op == BW_CHANNEL_INDEX && plan->out == plan->in) {
    for (size_t i = 0; i < n; i++, s += src_stride, d += dst_stride)
      memcpy(d, s + (size_t)plan->params.index * es, es);
    return;
  }
  const size_t first = op == BW_CHANNEL_INDEX ? (size_t)plan->params.index : 0;
  for (size_t i = 0; i < n; i++, s += src_stride, d += dst_stride) {
    const char *in[3] = {(const char *)s + first * es, (const char *)s + es,
                         (const char *)s + 2 * es};
    store(plan->out, pixel_value(plan, in), d);
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
  bw_channel_plan plan;
  st = bw_channel_plan_make(params, channels, in_type, dst->dtype, &plan, err);
  if (st != BW_OK) return st;

  /* Interleaved channels (channel c one element after channel c - 1, equal
   * strides) go through bw_channel_convert_pixels() a row at a time; any
   * other layout pixel by pixel. */
  const size_t es = bw_dtype_size(in_type);
  int interleaved = 1;
  for (int c = 1; c < channels && interleaved; c++) {
    interleaved = (const char *)src[c].data == (const char *)src[0].data + (size_t)c * es;
    for (int i = 0; i < nd; i++) interleaved = interleaved && src[c].strides[i] == src[0].strides[i];
  }
  const int used = params->op == BW_CHANNEL_INDEX ? 1 : 3;
  const ptrdiff_t n2 = nd == 3 ? dst->shape[0] : 1, cols = dst->shape[nd - 1];
  for (ptrdiff_t z = 0; z < n2; z++)
    for (ptrdiff_t y = 0; y < dst->shape[nd - 2]; y++) {
      char *out = (char *)dst->data + (nd == 3 ? z * dst->strides[0] : 0) + y * dst->strides[nd - 2];
      const ptrdiff_t dsx = dst->strides[nd - 1];
      const char *row[3];
      ptrdiff_t ssx[3];
      for (int c = 0; c < used; c++) {
        const bw_view *v = &src[params->op == BW_CHANNEL_INDEX ? params->index : c];
        row[c] = (const char *)v->data + (nd == 3 ? z * v->strides[0] : 0) + y * v->strides[nd - 2];
        ssx[c] = v->strides[nd - 1];
      }
      if (interleaved) {
        const char *first = (const char *)src[0].data + (nd == 3 ? z * src[0].strides[0] : 0) +
                            y * src[0].strides[nd - 2];
        bw_channel_convert_pixels(&plan, first, src[0].strides[nd - 1], out, dsx, (size_t)cols);
        continue;
      }
      for (ptrdiff_t x = 0; x < cols; x++, out += dsx) {
        const char *in[3];
        for (int c = 0; c < used; c++) in[c] = row[c] + x * ssx[c];
        if (params->op == BW_CHANNEL_INDEX && plan.out == plan.in)
          memcpy(out, in[0], es);
        else if (plan.lut_ready)
          store(plan.out,
                colour_finish(params->op, plan.lut[0][*(const uint8_t *)in[0]] +
                                              plan.lut[1][*(const uint8_t *)in[1]] +
                                              plan.lut[2][*(const uint8_t *)in[2]]),
                out);
        else
          store(plan.out, pixel_value(&plan, in), out);
      }
    }
  return BW_OK;
}
