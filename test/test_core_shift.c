/*
 * The core's per-block displacement against oracles written here: a
 * smooth analytic texture (a sum of sinusoids) evaluated at coordinates
 * moved by known integer and sub-pixel amounts, so the true shift is known;
 * a brute-force long-double Pearson r of every shift of every block for
 * the search itself; sub-regions bit-identical to the whole; the region map
 * by hand; errors.
 */
#include "core_test_util.h"
#include "bw_shift.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A random smooth texture: sinusoids of wavelengths 14 to 30 pixels. */
enum { N_WAVES = 10 };
typedef struct texture {
  double f[N_WAVES][3], phase[N_WAVES], amp[N_WAVES];
} texture;

static void texture_init(texture *t) {
  for (int k = 0; k < N_WAVES; k++) {
    for (int d = 0; d < 3; d++) {
      const double f = 1.0 / (14.0 + 16.0 * rnd_unit());
      t->f[k][d] = rnd() & 1 ? f : -f;
    }
    t->phase[k] = 6.283185307179586 * rnd_unit();
    t->amp[k] = 0.5 + rnd_unit();
  }
}

static double texture_at(const texture *t, const double *p) {
  double v = 0;
  for (int k = 0; k < N_WAVES; k++)
    v += t->amp[k] * sin(6.283185307179586 * (t->f[k][0] * p[0] + t->f[k][1] * p[1] +
                                              t->f[k][2] * p[2]) + t->phase[k]);
  return v;
}

/* A = T(p), B = T(p - d) (B is A moved by +d), in dtype dt (integers:
 * scaled to most of their range), 3-D form n (2-D: n[0] = 1, d[0] = 0). */
static void make_pair(const texture *t, bw_dtype dt, const ptrdiff_t *n, const double *d,
                      void *a, void *b) {
  const int narrow = dt == BW_U8 || dt == BW_I8;
  const double scale = narrow ? 12 : dt == BW_F32 || dt == BW_F64 ? 1 : 3000;
  const double off = dt == BW_U8 ? 128 : dt == BW_U16 || dt == BW_U32 ? 30000 : 0;
  size_t i = 0;
  for (ptrdiff_t z = 0; z < n[0]; z++)
    for (ptrdiff_t y = 0; y < n[1]; y++)
      for (ptrdiff_t x = 0; x < n[2]; x++, i++) {
        const double p[3] = {(double)z, (double)y, (double)x};
        const double q[3] = {z - d[0], y - d[1], x - d[2]};
        double va = off + scale * texture_at(t, p), vb = off + scale * texture_at(t, q);
        if (dt != BW_F32 && dt != BW_F64) va = floor(va + 0.5), vb = floor(vb + 0.5);
        bw_test_set(a, dt, i, va);
        bw_test_set(b, dt, i, vb);
      }
}

/* Runs the shift over the whole image; outs[0..nd-1] shifts, [nd] peak,
 * [nd + 1] zero (f64, allocated, of extents on). */
static bw_status run_shift(const void *a, const void *b, bw_dtype dt, int nd,
                           const ptrdiff_t *n, const ptrdiff_t *block,
                           const ptrdiff_t *search, double **outs, ptrdiff_t *on,
                           bw_error *err) {
  bw_shift_params p;
  bw_shift_params_init(&p, nd, block, search);
  bw_status st = bw_shift_output_shape(&p, n, on, err);
  if (st) return st;
  bw_shift_outputs o;
  memset(&o, 0, sizeof o);
  bw_view *v[5] = {&o.shift[0], &o.shift[1], &o.shift[2], &o.peak, &o.zero};
  if (nd == 2) v[2] = &o.peak, v[3] = &o.zero;
  for (int i = 0; i < nd + 2; i++) {
    outs[i] = malloc(prod(on, nd) * sizeof(double));
    *v[i] = bw_view_contiguous(outs[i], BW_F64, nd, on);
  }
  const bw_view va = bw_view_contiguous((void *)a, dt, nd, n);
  const bw_view vb = bw_view_contiguous((void *)b, dt, nd, n);
  return bw_block_shift(&va, NULL, &vb, NULL, NULL, &p, &o, NULL, err);
}

/* Every block's shift within tol of d (C order, nd entries). */
static int check_recovered(bw_dtype dt, int nd, const ptrdiff_t *n, const ptrdiff_t *block,
                           const ptrdiff_t *search, const double *d, double tol) {
  texture t;
  texture_init(&t);
  ptrdiff_t n3[3] = {1, 1, 1};
  double d3[3] = {0, 0, 0};
  for (int i = 0; i < nd; i++) n3[3 - nd + i] = n[i], d3[3 - nd + i] = d[i];
  const size_t np = prod(n, nd), es = bw_dtype_size(dt);
  void *a = malloc(np * es), *b = malloc(np * es);
  make_pair(&t, dt, n3, d3, a, b);
  double *outs[5] = {0};
  ptrdiff_t on[3];
  bw_error err;
  int bad = 0;
  if (run_shift(a, b, dt, nd, n, block, search, outs, on, &err) != BW_OK) {
    fprintf(stderr, "%s: %s\n", bw_dtype_name(dt), err.message);
    bad = 1;
  } else {
    for (size_t k = 0; k < prod(on, nd); k++)
      for (int i = 0; i < nd; i++)
        if (!(fabs(outs[i][k] - d[i]) <= tol)) {
          if (bad < 5)
            fprintf(stderr, "%s %dD block %zu axis %d: shift %.4f, expected %.4f (peak r %.6f)\n",
                    bw_dtype_name(dt), nd, k, i, outs[i][k], d[i], outs[nd][k]);
          bad++;
        }
  }
  for (int i = 0; i < 5; i++) free(outs[i]);
  free(a), free(b);
  return bad;
}

void test_shift_known(void) {
  static const bw_dtype dts[] = {BW_U8, BW_I8, BW_U16, BW_I16, BW_U32, BW_I32, BW_F32, BW_F64};
  const ptrdiff_t n2[2] = {96, 128}, b2[2] = {32, 32}, s2[2] = {4, 4};
  const double integer[2] = {3, -2}, sub[2] = {1.3, -0.6}, half[2] = {2.5, -1.25};
  const ptrdiff_t n3[3] = {32, 40, 40}, b3[3] = {16, 20, 20}, s3[3] = {2, 3, 4};
  const double sub3[3] = {0.4, -1.25, 2.3};
  int bad = 0;
  for (size_t i = 0; i < sizeof dts / sizeof *dts; i++) {
    bad += check_recovered(dts[i], 2, n2, b2, s2, integer, 0.1);
    bad += check_recovered(dts[i], 2, n2, b2, s2, sub, 0.1);
    bad += check_recovered(dts[i], 2, n2, b2, s2, half, 0.1);
  }
  bad += check_recovered(BW_U16, 3, n3, b3, s3, sub3, 0.1);
  bad += check_recovered(BW_F32, 3, n3, b3, s3, sub3, 0.1);
  CHECK(bad == 0, "%d block shifts off by more than 0.1 px", bad);
}

/* Identical inputs: shift exactly zero, r 1. */
void test_shift_identical(void) {
  texture t;
  texture_init(&t);
  const ptrdiff_t n[3] = {1, 70, 90}, n2[2] = {70, 90}, blk[2] = {16, 24}, s[2] = {3, 2};
  const double d[3] = {0, 0, 0};
  uint16_t *a = malloc(70 * 90 * 2), *b = malloc(70 * 90 * 2);
  make_pair(&t, BW_U16, n, d, a, b);
  double *outs[4] = {0};
  ptrdiff_t on[2];
  bw_error err;
  bw_status st = run_shift(a, a, BW_U16, 2, n2, blk, s, outs, on, &err);
  int bad = 0;
  for (size_t k = 0; st == BW_OK && k < prod(on, 2); k++) {
    if (!(outs[0][k] == 0 && outs[1][k] == 0 && outs[2][k] >= 1 - 1e-12 &&
          outs[3][k] >= 1 - 1e-12))
      bad++;
  }
  for (int i = 0; i < 4; i++) free(outs[i]);
  free(a), free(b);
  CHECK(st == BW_OK, "%s", err.message);
  CHECK(bad == 0, "%d blocks not at zero shift with r 1", bad);
}

/* r of the pairs (A(p), B(p + s)), p in block (lo, hi) with p + s inside
 * the image, long double two-pass; NaN when undefined. */
static long double ref_r(const void *a, const void *b, bw_dtype dt, const ptrdiff_t *n,
                         const ptrdiff_t *lo, const ptrdiff_t *hi, const ptrdiff_t *s) {
  long double cnt = 0, sa = 0, sb = 0, qa = 0, qb = 0, qab = 0;
  for (int pass = 0; pass < 2; pass++)
    for (ptrdiff_t y = lo[0]; y < hi[0]; y++)
      for (ptrdiff_t x = lo[1]; x < hi[1]; x++) {
        const ptrdiff_t v = y + s[0], u = x + s[1];
        if (v < 0 || v >= n[0] || u < 0 || u >= n[1]) continue;
        const long double pa = bw_test_get(a, dt, (size_t)(y * n[1] + x));
        const long double pb = bw_test_get(b, dt, (size_t)(v * n[1] + u));
        if (pass == 0) {
          cnt += 1, sa += pa, sb += pb;
        } else {
          const long double da = pa * cnt - sa, db = pb * cnt - sb;
          qa += da * da, qb += db * db, qab += da * db;
        }
      }
  if (cnt < 2 || qa == 0 || qb == 0) return NAN;
  return qab / sqrtl(qa * qb);
}

/* Every block of outs (run_shift's) against brute force: the best integer
 * shift within shift_tol, its r and r at zero shift within r_tol; returns
 * the number of blocks off (the first few printed, after @what). */
static int check_brute(const void *a, const void *b, bw_dtype dt, const ptrdiff_t *n,
                       const ptrdiff_t *blk, const ptrdiff_t *s, double *const *outs,
                       const ptrdiff_t *on, double shift_tol, double r_tol, const char *what) {
  int bad = 0;
  for (ptrdiff_t i = 0; i < on[0]; i++)
    for (ptrdiff_t j = 0; j < on[1]; j++) {
      const ptrdiff_t lo[2] = {i * blk[0], j * blk[1]};
      const ptrdiff_t hi[2] = {lo[0] + blk[0] < n[0] ? lo[0] + blk[0] : n[0],
                               lo[1] + blk[1] < n[1] ? lo[1] + blk[1] : n[1]};
      /* the largest r, and of the shifts within 1e-10 of it the shortest */
      long double top = -2, best = -2, rs[64][64];
      ptrdiff_t bs[2] = {0, 0}, sv[2], len = -1;
      for (sv[0] = -s[0]; sv[0] <= s[0]; sv[0]++)
        for (sv[1] = -s[1]; sv[1] <= s[1]; sv[1]++) {
          const long double r = ref_r(a, b, dt, n, lo, hi, sv);
          rs[sv[0] + s[0]][sv[1] + s[1]] = r;
          if (!isnan((double)r) && r > top) top = r;
        }
      for (sv[0] = -s[0]; sv[0] <= s[0]; sv[0]++)
        for (sv[1] = -s[1]; sv[1] <= s[1]; sv[1]++) {
          const long double r = rs[sv[0] + s[0]][sv[1] + s[1]];
          const ptrdiff_t l = sv[0] * sv[0] + sv[1] * sv[1];
          if (!isnan((double)r) && r >= top - 1e-10L && (len < 0 || l < len))
            best = r, len = l, bs[0] = sv[0], bs[1] = sv[1];
        }
      const ptrdiff_t z0[2] = {0, 0};
      const long double rz = ref_r(a, b, dt, n, lo, hi, z0);
      const size_t k = (size_t)(i * on[1] + j);
      const int ok = fabs(outs[0][k] - (double)bs[0]) <= shift_tol &&
                     fabs(outs[1][k] - (double)bs[1]) <= shift_tol &&
                     fabsl(outs[2][k] - best) <= r_tol && fabsl(outs[3][k] - rz) <= r_tol;
      if (!ok && bad++ < 5)
        fprintf(stderr, "%s block (%td, %td): shift %.3f %.3f r %.15f zero %.15f; "
                "expected %td %td r %.15Lf zero %.15Lf\n",
                what, i, j, outs[0][k], outs[1][k], outs[2][k], outs[3][k], bs[0], bs[1],
                best, rz);
    }
  return bad;
}

/* The search against brute force on noisy data: the integer peak and its r,
 * and r at zero shift, for every block, including the image's borders. */
void test_shift_brute_force(void) {
  static const bw_dtype dts[] = {BW_U8, BW_I16, BW_U32, BW_F32, BW_F64, BW_U16, BW_U16};
  const ptrdiff_t n[2] = {37, 45}, blk[2] = {10, 12}, s[2] = {3, 4};
  int bad = 0;
  for (size_t t = 0; t < sizeof dts / sizeof *dts; t++) {
    const bw_dtype dt = dts[t];
    void *a, *b;
    random_pair_alloc(dt, 37 * 45, &a, &b);
    /* the last run: 16-bit extremes only, values spanning the whole range */
    if (t + 1 == sizeof dts / sizeof *dts)
      for (size_t i = 0; i < 37 * 45; i++) {
        ((uint16_t *)a)[i] = rnd() & 1 ? 65535 : 0;
        if (i % 3) ((uint16_t *)b)[i] = rnd() & 1 ? 65535 : 0;
      }
    double *outs[4] = {0};
    ptrdiff_t on[2];
    bw_error err;
    bw_status st = run_shift(a, b, dt, 2, n, blk, s, outs, on, &err);
    CHECK(st == BW_OK, "%s", err.message);
    bad += check_brute(a, b, dt, n, blk, s, outs, on, 0.5, 1e-9, bw_dtype_name(dt));
    for (int o = 0; o < 4; o++) free(outs[o]);
    free(a), free(b);
  }
  CHECK(bad == 0, "%d blocks differ from brute force", bad);
}

/* Blocks large enough for the search to drop shifts that cannot win
 * (bounded partial correlation) on a textured pair with noise: the best
 * integer shift, its r and r at zero shift are brute force's, with 16-bit
 * values spanning a narrow range and the whole range. */
void test_shift_pruning(void) {
  const ptrdiff_t n[2] = {120, 136}, blk[2] = {24, 32}, s[2] = {6, 7};
  int bad = 0;
  for (int wide = 0; wide < 2; wide++) {
    texture t;
    texture_init(&t);
    const ptrdiff_t n3[3] = {1, 120, 136};
    const double d[3] = {0, 2.3, -4.6};
    uint16_t *a = malloc(120 * 136 * 2), *b = malloc(120 * 136 * 2);
    make_pair(&t, BW_U16, n3, d, a, b);
    for (size_t i = 0; i < 120 * 136; i++) {
      const double k = wide ? 6.0 : 1.0;
      const double va = 32768 + k * ((double)a[i] - 30000), vb = 32768 + k * ((double)b[i] - 30000);
      a[i] = (uint16_t)(va < 0 ? 0 : va > 65535 ? 65535 : va);
      b[i] = (uint16_t)(vb < 0 ? 0 : vb > 65535 ? 65535 : vb + (double)(rnd() % 200));
      if (b[i] > 65535 - 200) b[i] = 65535;
    }
    double *outs[4] = {0};
    ptrdiff_t on[2];
    bw_error err;
    CHECK(run_shift(a, b, BW_U16, 2, n, blk, s, outs, on, &err) == BW_OK, "%s", err.message);
    bad += check_brute(a, b, BW_U16, n, blk, s, outs, on, 1, 1e-12, wide ? "wide" : "narrow");
    for (int o = 0; o < 4; o++) free(outs[o]);
    free(a), free(b);
  }
  CHECK(bad == 0, "%d blocks differ from brute force", bad);
}

/* Blocks that fit equally well at many shifts report the shortest: rows
 * constant along x (every x shift ties), and rows of period 4 along x
 * (x shifts of 0, +-4, +-8 tie), B moved by whole pixels along y only;
 * and a pair of identical images of the first kind: every block's shift
 * is exactly (dy, 0), with r 1, in 16-bit integers and in floats.  With
 * noise added to B's rows, r is below 1 and the peak is refined along y,
 * but not along x, where r is flat to its rounding. */
void test_shift_ties(void) {
  enum { H = 96, W = 80 };
  const ptrdiff_t n[2] = {H, W}, blk[2] = {16, 16}, s[2] = {4, 8};
  int bad = 0, blocks = 0;
  for (int kind = 0; kind < 4; kind++)
    for (int flt = 0; flt < 2; flt++) {
      const ptrdiff_t dy = kind == 2 ? 0 : kind == 1 ? -3 : 2;
      double row[H + 8][4], noise[H];
      for (int y = 0; y < H + 8; y++)
        for (int x = 0; x < 4; x++) row[y][x] = (double)(rnd() % 4000);
      for (int y = 0; y < H; y++) noise[y] = kind == 3 ? (double)(rnd() % 400) : 0;
      uint16_t *a = malloc(H * W * sizeof *a), *b = malloc(H * W * sizeof *b);
      float *fa = malloc(H * W * sizeof *fa), *fb = malloc(H * W * sizeof *fb);
      for (ptrdiff_t y = 0; y < H; y++)
        for (ptrdiff_t x = 0; x < W; x++) {
          /* B(y + dy, x) = A(y, x); rows beyond the image from row[] too */
          const double va = row[y + 4][kind == 1 ? x % 4 : 0];
          const double vb = row[y - dy + 4][kind == 1 ? x % 4 : 0] + noise[y];
          a[y * W + x] = (uint16_t)va, b[y * W + x] = (uint16_t)vb;
          fa[y * W + x] = (float)(1e3 + va / 7), fb[y * W + x] = (float)(1e3 + vb / 7);
        }
      double *outs[4] = {0};
      ptrdiff_t on[2];
      bw_error err;
      CHECK(run_shift(flt ? (void *)fa : (void *)a, flt ? (void *)fb : (void *)b,
                      flt ? BW_F32 : BW_U16, 2, n, blk, s, outs, on, &err) == BW_OK,
            "%s", err.message);
      for (ptrdiff_t k = 0; k < on[0] * on[1]; k++, blocks++)
        if (kind == 3 ? !(fabs(outs[0][k] - (double)dy) < 0.5) || outs[1][k] != 0
                      : outs[0][k] != (double)dy || outs[1][k] != 0 || !(outs[2][k] > 1 - 1e-9)) {
          if (bad++ < 5)
            fprintf(stderr, "kind %d %s block %td: shift %g %g r %.12f, expected %td 0\n", kind,
                    flt ? "f32" : "u16", k, outs[0][k], outs[1][k], outs[2][k], dy);
        }
      for (int o = 0; o < 4; o++) free(outs[o]);
      free(a), free(b), free(fa), free(fb);
    }
  CHECK(blocks == 8 * 30, "%d blocks", blocks);
  CHECK(bad == 0, "%d blocks not at the shortest of tied shifts", bad);
}

/* Boxes of blocks from exactly their mapped inputs (a's blocks, b's grown
 * region) give the whole image's bits; 1 x 1 boxes and random ones. */
void test_shift_subregion(void) {
  static const bw_dtype dts[] = {BW_U16, BW_I32, BW_F32};
  const ptrdiff_t n[2] = {45, 53}, blk[2] = {8, 7}, s[2] = {2, 3};
  int bad = 0, boxes = 0;
  for (size_t t = 0; t < sizeof dts / sizeof *dts; t++) {
    const bw_dtype dt = dts[t];
    texture tx;
    texture_init(&tx);
    const ptrdiff_t n3[3] = {1, 45, 53};
    const double d[3] = {0, 1.4, -0.8};
    void *a = malloc(45 * 53 * 4), *b = malloc(45 * 53 * 4);
    make_pair(&tx, dt, n3, d, a, b);
    double *whole[4] = {0};
    ptrdiff_t on[2];
    bw_error err;
    CHECK(run_shift(a, b, dt, 2, n, blk, s, whole, on, &err) == BW_OK, "%s", err.message);
    bw_shift_params p;
    bw_shift_params_init(&p, 2, blk, s);
    const bw_view va = bw_view_contiguous(a, dt, 2, n), vb = bw_view_contiguous(b, dt, 2, n);
    for (int rep = 0; rep < 40; rep++) {
      bw_region o;
      memset(&o, 0, sizeof o);
      for (int d2 = 0; d2 < 2; d2++) {
        o.start[d2] = rnd_below(on[d2]);
        o.size[d2] = rep < 10 ? 1 : 1 + rnd_below(on[d2] - o.start[d2]);
      }
      bw_region ar, br;
      CHECK(bw_shift_input_region(&p, n, &o, &ar, &br, &err) == BW_OK, "%s", err.message);
      bw_view sa, sb;
      bw_view_subview(&va, &ar, &sa, NULL);
      bw_view_subview(&vb, &br, &sb, NULL);
      double part[4][64];
      bw_shift_outputs out;
      memset(&out, 0, sizeof out);
      bw_view *v[4] = {&out.shift[0], &out.shift[1], &out.peak, &out.zero};
      for (int i = 0; i < 4; i++) *v[i] = bw_view_contiguous(part[i], BW_F64, 2, o.size);
      CHECK(bw_block_shift(&sa, ar.start, &sb, br.start, n, &p, &out, o.start, &err) == BW_OK,
            "box: %s", err.message);
      boxes++;
      for (int i = 0; i < 4; i++)
        for (ptrdiff_t y = 0; y < o.size[0]; y++)
          for (ptrdiff_t x = 0; x < o.size[1]; x++) {
            const double w = whole[i][(o.start[0] + y) * on[1] + o.start[1] + x];
            if (memcmp(&w, &part[i][y * o.size[1] + x], sizeof w) != 0) bad++;
          }
    }
    for (int i = 0; i < 4; i++) free(whole[i]);
    free(a), free(b);
  }
  CHECK(boxes == 120, "%d boxes", boxes);
  CHECK(bad == 0, "%d outputs differ from the whole image's", bad);
}

void test_shift_region_map(void) {
  bw_shift_params p;
  const ptrdiff_t blk[2] = {10, 16}, s[2] = {3, 5}, n[2] = {95, 100};
  bw_shift_params_init(&p, 2, blk, s);
  ptrdiff_t on[2];
  bw_error err;
  CHECK(bw_shift_output_shape(&p, n, on, &err) == BW_OK && on[0] == 10 && on[1] == 7,
        "output %tdx%td", on[0], on[1]);
  bw_region o = {{2, 0}, {3, 7}}, ar, br;
  CHECK(bw_shift_input_region(&p, n, &o, &ar, &br, &err) == BW_OK, "%s", err.message);
  /* blocks rows 20..50, columns 0..100 (clipped from 112) */
  CHECK(ar.start[0] == 20 && ar.size[0] == 30 && ar.start[1] == 0 && ar.size[1] == 100,
        "a [%td +%td] [%td +%td]", ar.start[0], ar.size[0], ar.start[1], ar.size[1]);
  CHECK(br.start[0] == 17 && br.size[0] == 36 && br.start[1] == 0 && br.size[1] == 100,
        "b [%td +%td] [%td +%td]", br.start[0], br.size[0], br.start[1], br.size[1]);
  bw_region last = {{9, 6}, {1, 1}};
  CHECK(bw_shift_input_region(&p, n, &last, &ar, &br, &err) == BW_OK, "%s", err.message);
  CHECK(ar.start[0] == 90 && ar.size[0] == 5 && br.start[0] == 87 && br.size[0] == 8 &&
        ar.start[1] == 96 && ar.size[1] == 4 && br.start[1] == 91 && br.size[1] == 9,
        "last block: a %td+%td %td+%td b %td+%td %td+%td", ar.start[0], ar.size[0],
        ar.start[1], ar.size[1], br.start[0], br.size[0], br.start[1], br.size[1]);
  bw_region outside = {{9, 6}, {2, 1}};
  CHECK(bw_shift_input_region(&p, n, &outside, &ar, &br, &err) == BW_ERR_REGION, "outside");
}

void test_shift_errors(void) {
  static uint16_t a[40 * 40], b[40 * 40];
  static int16_t c[40 * 40];
  static double out[16];
  const ptrdiff_t n[2] = {40, 40}, blk[2] = {10, 10}, s[2] = {2, 2}, on[2] = {4, 4};
  const ptrdiff_t on_bad[2] = {4, 3}, at[2] = {0, 10};
  const bw_view va = bw_view_contiguous(a, BW_U16, 2, n), vb = bw_view_contiguous(b, BW_U16, 2, n);
  const bw_view vc = bw_view_contiguous(c, BW_I16, 2, n);
  bw_shift_outputs good, none, bad_shape, bad_type;
  memset(&good, 0, sizeof good);
  good.peak = bw_view_contiguous(out, BW_F64, 2, on);
  none = bad_shape = bad_type = good;
  none.peak.data = NULL;
  bad_shape.zero = bw_view_contiguous(out, BW_F64, 2, on_bad);
  bad_type.peak.dtype = BW_I16;
  bw_shift_params p;
  bw_shift_params_init(&p, 2, blk, s);
  bw_shift_params bad_nd = p, bad_blk = p, bad_search = p;
  bad_nd.ndim = 1;
  bad_blk.block[1] = 0;
  bad_search.search[0] = -1;
  struct {
    const char *what;
    const bw_shift_params *p;
    const bw_view *a, *b;
    const bw_shift_outputs *o;
    const ptrdiff_t *b_start, *image;
    bw_status want;
  } cases[] = {
      {"NULL params", NULL, &va, &vb, &good, NULL, NULL, BW_ERR_NULL},
      {"ndim 1", &bad_nd, &va, &vb, &good, NULL, NULL, BW_ERR_NDIM},
      {"block 0", &bad_blk, &va, &vb, &good, NULL, NULL, BW_ERR_BLOCK},
      {"search -1", &bad_search, &va, &vb, &good, NULL, NULL, BW_ERR_PARAM},
      {"a NULL", &p, NULL, &vb, &good, NULL, NULL, BW_ERR_NULL},
      {"b NULL", &p, &va, NULL, &good, NULL, NULL, BW_ERR_NULL},
      {"dtypes differ", &p, &va, &vc, &good, NULL, NULL, BW_ERR_DTYPE},
      {"outputs NULL", &p, &va, &vb, NULL, NULL, NULL, BW_ERR_NULL},
      {"no output", &p, &va, &vb, &none, NULL, NULL, BW_ERR_PARAM},
      {"shapes differ", &p, &va, &vb, &bad_shape, NULL, NULL, BW_ERR_OUTPUT},
      {"output dtype", &p, &va, &vb, &bad_type, NULL, NULL, BW_ERR_OUTPUT},
      {"b_start without image", &p, &va, &vb, &good, at, NULL, BW_ERR_REGION},
      {"b misses the search", &p, &va, &vb, &good, at, n, BW_ERR_REGION},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    memset(out, 0x5a, sizeof out);
    bw_error e, e2;
    e.message[0] = 0;
    const bw_status st = bw_block_shift(cases[i].a, NULL, cases[i].b, cases[i].b_start,
                                        cases[i].image, cases[i].p, cases[i].o, NULL, &e);
    CHECK(st == cases[i].want, "%s: status %d (%s)", cases[i].what, st, e.message);
    CHECK(e.message[0] != 0, "%s: no message", cases[i].what);
    CHECK(((unsigned char *)out)[0] == 0x5a && ((unsigned char *)out)[sizeof out - 1] == 0x5a,
          "%s: output written", cases[i].what);
    if (i < 4)
      CHECK(bw_shift_params_check(cases[i].p, &e2) == st && !strcmp(e.message, e2.message),
            "%s: the check says %s", cases[i].what, e2.message);
  }
}
