/*
 * The non-local means tile kernels: bw_nlm_kernel.h instantiated for each
 * working precision and instruction set, the choice among them, and the
 * size and scratch layout of the tiles they work on.
 */
#include "bw_nlm_internal.h"

#include <stdint.h>

/* The kernels' helpers must be inlined into each instruction set's kernel
 * (they take on its target there). */
#if defined(__GNUC__)
#define BW_NLM_ALWAYS_INLINE __attribute__((always_inline))
#else
#define BW_NLM_ALWAYS_INLINE
#endif

/* The cost of starting a row in pixels, and the longest rows of a tile
 * (see bw_nlm_choose_tile). */
#define BW_NLM_ROW_COST 24.0
#define BW_NLM_MAX_ROW 256

/* ------------------------------------------------------------------------ */
/* 2^-y for y in [0, BW_NLM_YCUT]                                           */
/* ------------------------------------------------------------------------ */

/* 2^-y for y in [0, BW_NLM_YCUT]: 2^-y = 2^f 2^-n with n = round(y) and
 * f = n - y in [-1/2, 1/2]; 2^-n from the exponent bits, 2^f from a
 * polynomial: in single precision the degree-5 minimax polynomial of 2^f
 * for relative error on [-1/2, 1/2] (Remez exchange; error 7.5e-8), in
 * double precision the Taylor polynomial of exp(f ln 2) to degree 11
 * (error below 1.4e-14).  Written without branches or calls so that the
 * weight loops vectorise; the same operations in every instruction set, so
 * every implementation gives the same bits. */
static inline BW_NLM_ALWAYS_INLINE float bw_exp2neg_f(float y) {
  const int n = (int)(y + 0.5f); /* y >= 0: truncation rounds to nearest */
  const float f = (float)n - y;
  float p = 0.0013276472f;
  p = 0.0096755413f + f * p;
  p = 0.055507133f + f * p;
  p = 0.24022120f + f * p;
  p = 0.69314697f + f * p;
  p = 1.0000001f + f * p;
  union {
    uint32_t u;
    float f;
  } e;
  e.u = (uint32_t)(127 - n) << 23;
  return p * e.f;
}

static inline BW_NLM_ALWAYS_INLINE double bw_exp2neg_d(double y) {
  const int n = (int)(y + 0.5);
  const double z = ((double)n - y) * 0.693147180559945309;
  double p = 1.0 / 39916800.0;
  p = 1.0 / 3628800.0 + z * p;
  p = 1.0 / 362880.0 + z * p;
  p = 1.0 / 40320.0 + z * p;
  p = 1.0 / 5040.0 + z * p;
  p = 1.0 / 720.0 + z * p;
  p = 1.0 / 120.0 + z * p;
  p = 1.0 / 24.0 + z * p;
  p = 1.0 / 6.0 + z * p;
  p = 0.5 + z * p;
  p = 1.0 + z * p;
  p = 1.0 + z * p;
  union {
    uint64_t u;
    double f;
  } e;
  e.u = (uint64_t)(int64_t)(1023 - n) << 52;
  return p * e.f;
}

/* ------------------------------------------------------------------------ */
/* Kernels                                                                  */
/* ------------------------------------------------------------------------ */

#define NLM_REAL float
#define NLM_EXP2NEG bw_exp2neg_f
#define NLM_SUFFIX f_portable
#define NLM_TARGET
#include "bw_nlm_kernel.h"

#define NLM_REAL double
#define NLM_EXP2NEG bw_exp2neg_d
#define NLM_SUFFIX d_portable
#define NLM_TARGET
#include "bw_nlm_kernel.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define BW_NLM_X86 1
/* 512-bit vectors: GCC's generic tuning would use 256 bits. */
#if defined(__clang__)
#define BW_NLM_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#else
#define BW_NLM_AVX512                                                          \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,prefer-vector-width=512")))
#endif

#define NLM_REAL float
#define NLM_EXP2NEG bw_exp2neg_f
#define NLM_SUFFIX f_avx2
#define NLM_TARGET __attribute__((target("avx2")))
#include "bw_nlm_kernel.h"

#define NLM_REAL double
#define NLM_EXP2NEG bw_exp2neg_d
#define NLM_SUFFIX d_avx2
#define NLM_TARGET __attribute__((target("avx2")))
#include "bw_nlm_kernel.h"

#define NLM_REAL float
#define NLM_EXP2NEG bw_exp2neg_f
#define NLM_SUFFIX f_avx512
#define NLM_TARGET BW_NLM_AVX512
#include "bw_nlm_kernel.h"

#define NLM_REAL double
#define NLM_EXP2NEG bw_exp2neg_d
#define NLM_SUFFIX d_avx512
#define NLM_TARGET BW_NLM_AVX512
#include "bw_nlm_kernel.h"
#endif

/* The widest kernel bw_simd() allows.  Every kernel computes the same
 * bits. */
bw_nlm_tile_fn bw_nlm_select(int dbl) {
#ifdef BW_NLM_X86
  const unsigned simd = bw_simd();
  if (simd & BW_SIMD_AVX512)
    return dbl ? nlm_tile_d_avx512 : nlm_tile_f_avx512;
  if (simd & BW_SIMD_AVX2)
    return dbl ? nlm_tile_d_avx2 : nlm_tile_f_avx2;
#endif
  return dbl ? nlm_tile_d_portable : nlm_tile_f_portable;
}

/* ------------------------------------------------------------------------ */
/* Tiles                                                                    */
/* ------------------------------------------------------------------------ */

void bw_nlm_choose_tile(const ptrdiff_t *box, const ptrdiff_t *p,
                        const ptrdiff_t *s, ptrdiff_t budget, ptrdiff_t *tile) {
  ptrdiff_t cand[3][64];
  int nc[3];
  for (int i = 0; i < 3; i++) {
    nc[i] = 0;
    for (ptrdiff_t t = box[i];; t = (t + 1) / 2) {
      if (i < 2 || t <= BW_NLM_MAX_ROW) cand[i][nc[i]++] = t;
      if (t == 1 || nc[i] == 64) break;
    }
  }
  double best = -1.0;
  for (int a = 0; a < nc[0]; a++)
    for (int b = 0; b < nc[1]; b++)
      for (int c = 0; c < nc[2]; c++) {
        const ptrdiff_t t[3] = {cand[0][a], cand[1][b], cand[2][c]};
        if ((double)t[0] * (double)t[1] * (double)t[2] > (double)budget) continue;
        double hull = 1.0, grown = 1.0, hull_rows = 1.0, grown_rows = 1.0;
        for (int i = 0; i < 3; i++) {
          const double h = (double)t[i] + 0.5 * (double)s[i];
          const double g = h + 2.0 * (double)p[i];
          hull *= h;
          grown *= g;
          if (i < 2) {
            hull_rows *= h;
            grown_rows *= g;
          }
        }
        const double cost = 2.0 * (hull + grown + BW_NLM_ROW_COST * (hull_rows + grown_rows)) /
                            ((double)t[0] * (double)t[1] * (double)t[2]);
        if (best < 0.0 || cost < best) {
          best = cost;
          for (int i = 0; i < 3; i++) tile[i] = t[i];
        }
      }
  if (best < 0.0) /* not even one pixel per axis fits: cannot happen */
    for (int i = 0; i < 3; i++) tile[i] = 1;
}

static size_t align_up(size_t n) { return (n + NLM_ALIGN - 1) & ~(size_t)(NLM_ALIGN - 1); }

/* The arrays of bw_nlm_tile, each aligned to NLM_ALIGN bytes. */
int bw_nlm_layout(nlm_layout *L, const ptrdiff_t *tile, const ptrdiff_t *n,
                  const ptrdiff_t *p, const ptrdiff_t *s, size_t esz) {
  size_t off = 0;
  ptrdiff_t inbox = 1;
  for (int i = 0; i < 3; i++) {
    ptrdiff_t e = tile[i] + 2 * (p[i] + s[i]);
    inbox *= e < n[i] ? e : n[i];
  }
  const ptrdiff_t tvox = tile[0] * tile[1] * tile[2];
  L->rowlen = tile[2] + s[2];
  L->planelen = (tile[1] + s[1]) * L->rowlen;
  const size_t row = (size_t)(L->rowlen + 2 * p[2]) * esz;
#define NLM_PUT(field, bytes)                                                  \
  do {                                                                         \
    L->field = off;                                                            \
    off += align_up(bytes);                                                    \
  } while (0)
  NLM_PUT(val, (size_t)inbox * esz);
  NLM_PUT(wsum, (size_t)tvox * esz);
  NLM_PUT(vsum, (size_t)tvox * esz);
  NLM_PUT(trow, row);
  NLM_PUT(prow, row);
  NLM_PUT(srow, row);
  NLM_PUT(w, row);
  NLM_PUT(kfull, row);
  NLM_PUT(ktmp, row);
  NLM_PUT(yring, (size_t)(2 * p[1] + 2) * (size_t)L->rowlen * esz);
  NLM_PUT(ypair, (size_t)(2 * p[1] + 2) * (size_t)L->rowlen * esz);
  if (p[0] > 0) {
    NLM_PUT(zring, (size_t)(2 * p[0] + 2) * (size_t)L->planelen * esz);
    NLM_PUT(zpair, (size_t)(2 * p[0] + 2) * (size_t)L->planelen * esz);
  } else {
    L->zring = L->zpair = 0;
  }
  NLM_PUT(cx, (size_t)L->rowlen * sizeof(ptrdiff_t));
#undef NLM_PUT
  L->total = off;
  return 0;
}
