/*
 * One channel from many (bw_channel.h): every operation against a plain
 * reference written here (the stain matrix inverted by Gauss-Jordan
 * elimination, sums in long double), over interleaved and planar views;
 * regions computed alone equal the whole; names, checks and errors.
 * (test_channel.py compares the same operations with scikit-image.)
 */
#include "bw_channel.h"
#include "core_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The inverse of the Ruifrok-Johnston stain matrix, by Gauss-Jordan
 * elimination with partial pivoting. */
static void reference_inverse(long double inv[3][3]) {
  long double a[3][6] = {{0.65L, 0.70L, 0.29L, 1, 0, 0},
                         {0.07L, 0.99L, 0.11L, 0, 1, 0},
                         {0.27L, 0.57L, 0.78L, 0, 0, 1}};
  for (int c = 0; c < 3; c++) {
    int p = c;
    for (int r = c + 1; r < 3; r++)
      if (fabsl(a[r][c]) > fabsl(a[p][c])) p = r;
    for (int k = 0; k < 6; k++) {
      long double t = a[c][k];
      a[c][k] = a[p][k];
      a[p][k] = t;
    }
    long double d = a[c][c];
    for (int k = 0; k < 6; k++) a[c][k] /= d;
    for (int r = 0; r < 3; r++)
      if (r != c) {
        long double f = a[r][c];
        for (int k = 0; k < 6; k++) a[r][k] -= f * a[c][k];
      }
  }
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) inv[r][c] = a[r][3 + c];
}

/* The reference value of one pixel (r, g, b[, others]) for @p. */
static long double reference_pixel(const bw_channel_params *p, const long double *v,
                                   long double white) {
  if (p->op == BW_CHANNEL_INDEX) return v[p->index];
  if (p->op == BW_CHANNEL_LUMINANCE) return 0.2125L * v[0] + 0.7154L * v[1] + 0.0721L * v[2];
  long double t[3], od[3];
  for (int c = 0; c < 3; c++) {
    t[c] = v[c] / white;
    if (t[c] < 1e-6L) t[c] = 1e-6L;
    if (t[c] > 1) t[c] = 1;
    od[c] = logl(t[c]) / logl(1e-6L);
  }
  if (p->op == BW_CHANNEL_OD) return -(log10l(t[0]) + log10l(t[1]) + log10l(t[2])) / 3;
  long double inv[3][3];
  reference_inverse(inv);
  int s = p->op - BW_CHANNEL_HEMATOXYLIN;
  long double x = od[0] * inv[0][s] + od[1] * inv[1][s] + od[2] * inv[2][s];
  return x < 0 ? 0 : x;
}

static const bw_channel_op kOps[] = {BW_CHANNEL_INDEX, BW_CHANNEL_LUMINANCE, BW_CHANNEL_OD,
                                     BW_CHANNEL_HEMATOXYLIN, BW_CHANNEL_EOSIN, BW_CHANNEL_DAB};

/* Views of the @C channels of @buf, elements of @dt: interleaved (channel
 * last) or @planar (channel first), of extents @shape. */
static void channel_views(bw_view *v, void *buf, bw_dtype dt, int nd, const ptrdiff_t *shape,
                          int C, int planar) {
  size_t n = 1, es = bw_dtype_size(dt);
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  for (int c = 0; c < C; c++) {
    v[c] = bw_view_contiguous((char *)buf + (planar ? (size_t)c * n : (size_t)c) * es, dt, nd, shape);
    if (!planar)
      for (int i = 0; i < nd; i++) v[c].strides[i] *= C;
  }
}

/* Every operation on 4-channel images of u8, u16 and f32, interleaved
 * (one buffer, channel last) and planar (channel first), 2-D and 3-D,
 * against the reference, to float precision (f32 out) and 1e-12 (f64). */
void test_channel_reference(void) {
  static const bw_dtype types[] = {BW_U8, BW_U16, BW_F32};
  for (size_t ti = 0; ti < 3; ti++)
    for (int nd = 2; nd <= 3; nd++)
      for (int planar = 0; planar <= 1; planar++) {
        const bw_dtype dt = types[ti];
        const size_t es = bw_dtype_size(dt);
        ptrdiff_t shape[3] = {nd == 3 ? 3 : 13, nd == 3 ? 13 : 17, 17};
        size_t n = (size_t)shape[0] * (size_t)shape[1] * (nd == 3 ? (size_t)shape[2] : 1);
        const int C = 4;
        unsigned char *buf = malloc(n * (size_t)C * es);
        double white = dt == BW_U8 ? 255 : dt == BW_U16 ? 65535 : 1;
        /* Values over the range, with dark (below the 1e-6 floor) and
         * white pixels among them. */
        for (size_t i = 0; i < n * (size_t)C; i++) {
          double v = rnd_below(5) == 0 ? (rnd_below(2) ? white : 0) : rnd_unit() * white;
          if (dt == BW_U8) buf[i] = (uint8_t)v;
          else if (dt == BW_U16) ((uint16_t *)(void *)buf)[i] = (uint16_t)v;
          else ((float *)(void *)buf)[i] = (float)v;
        }
        bw_view src[4];
        channel_views(src, buf, dt, nd, shape, C, planar);
        for (size_t oi = 0; oi < sizeof kOps / sizeof *kOps; oi++)
          for (int f64 = 0; f64 <= 1; f64++) {
            bw_channel_params p;
            bw_channel_params_init(&p);
            p.op = kOps[oi];
            p.index = 3;
            void *out = malloc(n * 8);
            bw_view dst = bw_view_contiguous(out, f64 ? BW_F64 : BW_F32, nd, shape);
            bw_error e;
            CHECK(bw_channel_convert(&p, C, src, &dst, &e) == BW_OK, "convert: %s", e.message);
            double worst = 0;
            for (size_t i = 0; i < n; i++) {
              long double v[4];
              for (int c = 0; c < C; c++)
                v[c] = bw_test_get(buf, dt, planar ? (size_t)c * n + i : i * (size_t)C + (size_t)c);
              long double want = reference_pixel(&p, v, white);
              double got = f64 ? ((double *)out)[i] : ((float *)out)[i];
              double tol = (f64 ? 1e-12 : 1e-6) * (1 + fabs((double)want));
              double d = fabs(got - (double)want);
              if (d > worst) worst = d;
              CHECK(d <= tol, "%s %s %dD %s -> %s: pixel %zu is %.17g, want %.17Lg",
                    bw_dtype_name(dt), bw_channel_op_name(p.op), nd,
                    planar ? "planar" : "interleaved", f64 ? "f64" : "f32", i, got, want);
            }
            free(out);
          }
        free(buf);
      }
}

/* 8-bit RGB (the table path) gives the bits the general path gives for the
 * same values stored as 16 bits with white 255. */
void test_channel_u8_bits(void) {
  const ptrdiff_t shape[2] = {9, 31};
  const size_t n = 9 * 31;
  uint8_t a8[9 * 31 * 3];
  uint16_t a16[9 * 31 * 3];
  for (size_t i = 0; i < n * 3; i++) a16[i] = a8[i] = (uint8_t)rnd_below(256);
  a8[0] = a8[1] = a8[2] = 0; /* black and white pixels among them */
  a8[3] = a8[4] = a8[5] = 255;
  for (int i = 0; i < 6; i++) a16[i] = a8[i];
  bw_view s8[3], s16[3];
  channel_views(s8, a8, BW_U8, 2, shape, 3, 0);
  channel_views(s16, a16, BW_U16, 2, shape, 3, 0);
  for (size_t oi = 1; oi < sizeof kOps / sizeof *kOps; oi++)
    for (int f64 = 0; f64 <= 1; f64++) {
      bw_channel_params p;
      bw_channel_params_init(&p);
      p.op = kOps[oi];
      p.white = 255;
      double o8[9 * 31], o16[9 * 31];
      bw_view d8 = bw_view_contiguous(o8, f64 ? BW_F64 : BW_F32, 2, shape);
      bw_view d16 = bw_view_contiguous(o16, f64 ? BW_F64 : BW_F32, 2, shape);
      bw_error e;
      CHECK(bw_channel_convert(&p, 3, s8, &d8, &e) == BW_OK, "u8: %s", e.message);
      CHECK(bw_channel_convert(&p, 3, s16, &d16, &e) == BW_OK, "u16: %s", e.message);
      CHECK(memcmp(o8, o16, n * (f64 ? 8 : 4)) == 0, "%s %s: u8 and u16 give different bits",
            bw_channel_op_name(p.op), f64 ? "f64" : "f32");
    }
}

/* 8-bit luminance of every RGB triple, packed as RGB and RGBA, into
 * float32 and float64: the vectorised loop gives the bits of the rule
 * written plainly here (the exact integer numerator times 1e-4 in double,
 * rounded once more to float32). */
void test_channel_luminance_all(void) {
  enum { N = 256 * 256 };
  uint8_t *rgb = (uint8_t *)malloc((size_t)N * 4);
  float *f = (float *)malloc((size_t)N * sizeof *f);
  double *d = (double *)malloc((size_t)N * sizeof *d);
  CHECK(rgb && f && d, "allocation");
  bw_channel_params p;
  bw_channel_params_init(&p);
  p.op = BW_CHANNEL_LUMINANCE;
  bw_channel_plan pf, pd;
  bw_error e;
  CHECK(bw_channel_plan_make(&p, 4, BW_U8, BW_F32, &pf, &e) == BW_OK, "plan: %s", e.message);
  CHECK(bw_channel_plan_make(&p, 4, BW_U8, BW_F64, &pd, &e) == BW_OK, "plan: %s", e.message);
  long wrong = 0;
  for (int spp = 3; spp <= 4; spp++)
    for (int r = 0; r < 256; r++) {
      for (int i = 0; i < N; i++) {
        rgb[(size_t)i * spp] = (uint8_t)r;
        rgb[(size_t)i * spp + 1] = (uint8_t)(i >> 8);
        rgb[(size_t)i * spp + 2] = (uint8_t)(i & 255);
        if (spp == 4) rgb[(size_t)i * spp + 3] = (uint8_t)(i * 7);
      }
      bw_channel_convert_pixels(&pf, rgb, spp, f, sizeof *f, N);
      bw_channel_convert_pixels(&pd, rgb, spp, d, sizeof *d, N);
      for (int i = 0; i < N; i++) {
        const long num = 2125L * r + 7154L * (i >> 8) + 721L * (i & 255);
        const double want = (double)num * 1e-4;
        wrong += d[i] != want || f[i] != (float)want;
      }
    }
  CHECK(wrong == 0, "%ld of %d luminances differ from (2125 R + 7154 G + 721 B) * 1e-4", wrong,
        2 * 256 * N);
  /* Runs of every length up to 70 from every offset up to 5 (the loops'
   * remainders), each followed by a pixel that must stay untouched. */
  for (int spp = 3; spp <= 4; spp++)
    for (size_t off = 0; off < 6; off++)
      for (size_t n = 1; n <= 70; n++) {
        for (size_t i = 0; i < (off + n + 1) * (size_t)spp; i++) rgb[i] = (uint8_t)(i * 37 + n);
        f[off + n] = -1;
        bw_channel_convert_pixels(&pf, rgb + off * spp, spp, f + off, sizeof *f, n);
        for (size_t i = off; i < off + n; i++) {
          const uint8_t *px = rgb + i * spp;
          wrong += f[i] != (float)((double)(2125L * px[0] + 7154L * px[1] + 721L * px[2]) * 1e-4);
        }
        wrong += f[off + n] != -1;
      }
  CHECK(wrong == 0, "%ld luminances of short runs wrong or past the run", wrong);
  free(rgb);
  free(f);
  free(d);
}

/* Regions computed alone are bit-identical to the same region of the
 * whole image; the region map is the identity; INDEX into the input's own
 * type is a copy; @white replaces the type's maximum. */
void test_channel_regions(void) {
  ptrdiff_t shape[2] = {20, 30};
  uint16_t rgb[20 * 30 * 3];
  for (size_t i = 0; i < sizeof rgb / sizeof *rgb; i++) rgb[i] = (uint16_t)rnd_below(4096);
  bw_view src[3];
  for (int c = 0; c < 3; c++) {
    src[c] = bw_view_contiguous(rgb + c, BW_U16, 2, shape);
    src[c].strides[0] *= 3;
    src[c].strides[1] *= 3;
  }
  bw_channel_params p;
  bw_channel_params_init(&p);
  p.op = BW_CHANNEL_HEMATOXYLIN;
  p.white = 4095;
  float whole[600], part[600];
  bw_view dw = bw_view_contiguous(whole, BW_F32, 2, shape);
  bw_error e;
  CHECK(bw_channel_convert(&p, 3, src, &dw, &e) == BW_OK, "whole: %s", e.message);
  bw_region out = {{4, 7}, {9, 11}}, in;
  CHECK(bw_channel_input_region(2, shape, &out, &in, &e) == BW_OK, "map: %s", e.message);
  CHECK(in.start[0] == 4 && in.start[1] == 7 && in.size[0] == 9 && in.size[1] == 11,
        "identity map");
  bw_view sub[3];
  for (int c = 0; c < 3; c++)
    CHECK(bw_view_subview(&src[c], &in, &sub[c], &e) == BW_OK, "subview: %s", e.message);
  bw_view dp = bw_view_contiguous(part, BW_F32, 2, in.size);
  CHECK(bw_channel_convert(&p, 3, sub, &dp, &e) == BW_OK, "part: %s", e.message);
  for (int y = 0; y < 9; y++)
    for (int x = 0; x < 11; x++)
      CHECK(memcmp(&part[y * 11 + x], &whole[(y + 4) * 30 + x + 7], 4) == 0,
            "pixel (%d, %d) differs", y, x);
  /* white 4095: a pixel of 4095 has no optical density. */
  long double v[3] = {4095, 4095, 4095};
  p.op = BW_CHANNEL_OD;
  CHECK(reference_pixel(&p, v, 4095) == 0, "reference: white has OD 0");
  uint16_t w3[3] = {4095, 4095, 4095};
  bw_view ws[3];
  ptrdiff_t one[2] = {1, 1};
  for (int c = 0; c < 3; c++) ws[c] = bw_view_contiguous(w3 + c, BW_U16, 2, one);
  float od = -1;
  bw_view dod = bw_view_contiguous(&od, BW_F32, 2, one);
  CHECK(bw_channel_convert(&p, 3, ws, &dod, &e) == BW_OK && od == 0, "OD of white: %g", od);
  /* INDEX into the input type: a copy. */
  p.op = BW_CHANNEL_INDEX;
  p.index = 1;
  uint16_t g[600];
  bw_view dg = bw_view_contiguous(g, BW_U16, 2, shape);
  CHECK(bw_channel_convert(&p, 3, src, &dg, &e) == BW_OK, "copy: %s", e.message);
  for (int i = 0; i < 600; i++) CHECK(g[i] == rgb[i * 3 + 1], "copy of green at %d", i);
}

/* Names, the parameter check, and errors that leave dst untouched. */
void test_channel_names_errors(void) {
  static const struct {
    const char *name;
    bw_channel_op op;
    int index;
  } names[] = {{"luminance", BW_CHANNEL_LUMINANCE, 0}, {"Luminance", BW_CHANNEL_LUMINANCE, 0},
               {"OD", BW_CHANNEL_OD, 0}, {"hematoxylin", BW_CHANNEL_HEMATOXYLIN, 0},
               {"eosin", BW_CHANNEL_EOSIN, 0}, {"DAB", BW_CHANNEL_DAB, 0},
               {"r", BW_CHANNEL_INDEX, 0}, {"G", BW_CHANNEL_INDEX, 1},
               {"b", BW_CHANNEL_INDEX, 2}, {"0", BW_CHANNEL_INDEX, 0},
               {"17", BW_CHANNEL_INDEX, 17}};
  bw_error e;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    bw_channel_params p;
    bw_channel_params_init(&p);
    p.white = 7;
    CHECK(bw_channel_from_name(names[i].name, &p, &e) == BW_OK, "%s: %s", names[i].name,
          e.message);
    CHECK(p.op == names[i].op && p.index == names[i].index && p.white == 7, "%s: %d %d",
          names[i].name, (int)p.op, p.index);
  }
  static const char *bad[] = {"", "lum", "-1", "12345", "1x", "red"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    bw_channel_params p;
    bw_channel_params_init(&p);
    CHECK(bw_channel_from_name(bad[i], &p, &e) == BW_ERR_PARAM, "\"%s\" accepted", bad[i]);
    CHECK(strstr(e.message, "luminance, od, hematoxylin") && p.op == BW_CHANNEL_LUMINANCE,
          "\"%s\": %s", bad[i], e.message);
  }
  bw_channel_params p;
  bw_channel_params_init(&p);
  CHECK(p.op == BW_CHANNEL_LUMINANCE && p.index == 0 && p.white == 0, "defaults");
  CHECK(bw_channel_params_check(&p, 3, &e) == BW_OK, "luminance of RGB");
  CHECK(bw_channel_params_check(&p, 1, &e) == BW_ERR_PARAM &&
            strstr(e.message, "needs red, green and blue: the image has 1 channel"),
        "luminance of grey: %s", e.message);
  p.op = BW_CHANNEL_INDEX;
  p.index = 5;
  CHECK(bw_channel_params_check(&p, 5, &e) == BW_ERR_PARAM &&
            strstr(e.message, "channel 5 does not exist: the image has 5"),
        "index: %s", e.message);
  p.index = 0;
  p.white = -1;
  CHECK(bw_channel_params_check(&p, 5, &e) == BW_ERR_PARAM && strstr(e.message, "white"),
        "white: %s", e.message);
  p.white = 0;
  p.op = (bw_channel_op)99;
  CHECK(bw_channel_params_check(&p, 5, &e) == BW_ERR_PARAM, "unknown op");

  /* Errors leave dst untouched. */
  ptrdiff_t shape[2] = {2, 3}, other[2] = {2, 4};
  uint8_t a[6] = {0}, b8[6] = {0};
  int16_t b16[6] = {0};
  float out[6] = {5, 5, 5, 5, 5, 5};
  bw_view src[3] = {bw_view_contiguous(a, BW_U8, 2, shape), bw_view_contiguous(b8, BW_U8, 2, shape),
                    bw_view_contiguous(a, BW_U8, 2, shape)};
  bw_view dst = bw_view_contiguous(out, BW_F32, 2, shape);
  bw_channel_params_init(&p);
  bw_view s2[3] = {src[0], bw_view_contiguous(b16, BW_I16, 2, shape), src[2]};
  CHECK(bw_channel_convert(&p, 3, s2, &dst, &e) == BW_ERR_DTYPE, "mixed types");
  s2[1] = bw_view_contiguous(b8, BW_U8, 2, other);
  CHECK(bw_channel_convert(&p, 3, s2, &dst, &e) == BW_ERR_SHAPE, "mixed shapes");
  bw_view d8 = bw_view_contiguous(a, BW_U8, 2, shape);
  CHECK(bw_channel_convert(&p, 3, src, &d8, &e) == BW_ERR_OUTPUT, "u8 luminance");
  CHECK(bw_channel_convert(&p, 2, src, &dst, &e) == BW_ERR_PARAM, "two channels");
  CHECK(bw_channel_convert(&p, 3, NULL, &dst, &e) == BW_ERR_NULL, "NULL src");
  for (int i = 0; i < 6; i++) CHECK(out[i] == 5, "dst written at %d", i);
  bw_region r = {{1, 0}, {2, 3}}, in;
  CHECK(bw_channel_input_region(2, shape, &r, &in, &e) == BW_ERR_REGION, "region outside");
  r.start[0] = 0;
  r.size[1] = 0;
  CHECK(bw_channel_input_region(2, shape, &r, &in, &e) == BW_ERR_REGION, "empty region");
}
