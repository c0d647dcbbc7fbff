/*
 * The cross-correlation kernels of per-block displacement (bw_shift_fast.c):
 * for a block's rows and a run of lags, sum_x a[x] b[x + lag].  Integers:
 * 16-bit multiply-adds in pairs (pmaddwd, or VNNI's vpdpwssd) into 32-bit
 * lanes widened to 64 bits before they can overflow, exact.  Floats: fused
 * multiply-adds of doubles in 8 lanes in a fixed order, the same bits on
 * every instruction set.  bw_shift_kernels() picks the widest the CPU has
 * (within BLOCKWISE_SIMD).
 */
#include "bw_shift_internal.h"

#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define SH_X86 1
#include <immintrin.h>
#endif


static void x16_portable(const int16_t *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw,
                         const int16_t *b, ptrdiff_t bplane, ptrdiff_t bstride,
                         ptrdiff_t nlag, ptrdiff_t rmax, int64_t *sab) {
  (void)rmax;
  for (ptrdiff_t l = 0; l < nlag; l++) {
    int64_t t = 0;
    for (ptrdiff_t z = 0; z < nz; z++)
      for (ptrdiff_t y = 0; y < ny; y++) {
        const int16_t *ar = a + (z * ny + y) * aw, *br = b + z * bplane + y * bstride + l;
        int64_t s = 0;
        for (ptrdiff_t x = 0; x < aw; x++) s += (int32_t)ar[x] * (int32_t)br[x];
        t += s;
      }
    sab[l] = t;
  }
}

#ifdef SH_X86
/* The body of the x86 kernels: 8 lags at a time in registers, over chunks
 * of W elements; V the vector type, LOAD/LOADU/MADD/ADD/ZERO its
 * operations, HSUM its 64-bit horizontal sum. */
#define SH_X16_BODY(G, V, W, LOADU, MAC, ZERO, HSUM)                         \
  for (ptrdiff_t l0 = 0; l0 < nlag; l0 += G) {                               \
    V acc[G];                                                                \
    int64_t tot[G] = {0};                                                    \
    for (int l = 0; l < G; l++) acc[l] = ZERO;                               \
    ptrdiff_t cnt = 0;                                                       \
    for (ptrdiff_t z = 0; z < nz; z++)                                       \
      for (ptrdiff_t y = 0; y < ny; y++) {                                   \
        const int16_t *ar = a + (z * ny + y) * aw;                           \
        const int16_t *br = b + z * bplane + y * bstride + l0;               \
        for (ptrdiff_t c = 0; c < aw; c += W) {                              \
          const V va = LOADU(ar + c);                                        \
          for (int l = 0; l < G; l++) acc[l] = MAC(acc[l], va, LOADU(br + c + l)); \
        }                                                                    \
        if (++cnt == rmax) {                                                 \
          for (int l = 0; l < G; l++) tot[l] += HSUM(acc[l]), acc[l] = ZERO; \
          cnt = 0;                                                           \
        }                                                                    \
      }                                                                      \
    for (int l = 0; l < G; l++) tot[l] += HSUM(acc[l]);                      \
    for (int l = 0; l < G && l0 + l < nlag; l++) sab[l0 + l] = tot[l];       \
  }

/* x86 kernel NAME for target TARGET, G lags at a time. */
#define SH_X16_FN(NAME, TARGET, G, V, W, LOADU, MAC, ZERO, HSUM)             \
  __attribute__((target(TARGET))) static void NAME(                          \
      const int16_t *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw,            \
      const int16_t *b, ptrdiff_t bplane, ptrdiff_t bstride, ptrdiff_t nlag, \
      ptrdiff_t rmax, int64_t *sab) {                                        \
    SH_X16_BODY(G, V, W, LOADU, MAC, ZERO, HSUM)                             \
  }

__attribute__((target("avx2"))) static inline int64_t hsum256(__m256i v) {
  const __m256i w = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)),
                                     _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
  const __m128i h = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
  return _mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1);
}
#define SH_LU256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define SH_MAC256(acc, x, y) _mm256_add_epi32(acc, _mm256_madd_epi16(x, y))
SH_X16_FN(x16_avx2, "avx2", 8, __m256i, 16, SH_LU256, SH_MAC256, _mm256_setzero_si256(),
          hsum256)

__attribute__((target("avx512f,avx512bw"))) static inline int64_t hsum512(__m512i v) {
  const __m512i w = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)),
                                     _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
  return _mm512_reduce_add_epi64(w);
}
#define SH_LU512(p) _mm512_loadu_si512((const void *)(p))
#define SH_MAC512(acc, x, y) _mm512_add_epi32(acc, _mm512_madd_epi16(x, y))
#define SH_VNNI512(acc, x, y) _mm512_dpwssd_epi32(acc, x, y)
/* G lags at a time, G from 6 to 12, so that few lags are computed in vain
 * (33 lags, search 16: three groups of 11). */
#define SH_X16_512(G)                                                        \
  SH_X16_FN(x16_avx512_##G, "avx512f,avx512bw", G, __m512i, 32, SH_LU512, SH_MAC512, \
            _mm512_setzero_si512(), hsum512)                                 \
  SH_X16_FN(x16_vnni_##G, "avx512f,avx512bw,avx512vnni", G, __m512i, 32, SH_LU512, \
            SH_VNNI512, _mm512_setzero_si512(), hsum512)
SH_X16_512(6)
SH_X16_512(7)
SH_X16_512(8)
SH_X16_512(9)
SH_X16_512(10)
SH_X16_512(11)
SH_X16_512(12)
static const sh_x16_fn x16_avx512[7] = {x16_avx512_6, x16_avx512_7, x16_avx512_8,
                                        x16_avx512_9, x16_avx512_10, x16_avx512_11,
                                        x16_avx512_12};
static const sh_x16_fn x16_vnni[7] = {x16_vnni_6, x16_vnni_7, x16_vnni_8, x16_vnni_9,
                                      x16_vnni_10, x16_vnni_11, x16_vnni_12};
#endif

/* Cross sums of double rows, as x16 (no widening needed): each lag
 * accumulates in 8 lanes (lane k the columns x = k mod 8) with fused
 * multiply-adds, one rounding each, and sums its lanes in order 0 to 7 at
 * the end: the same operations, so the same bits, on every instruction set
 * (AVX-512 and AVX2 FMA vectors, or the C library's fma one lane at a
 * time). */

#define SH_XF_BODY(DECL, ZERO, FMA, STORE)                                   \
  for (ptrdiff_t l0 = 0; l0 < nlag; l0 += 8) {                               \
    DECL;                                                                    \
    ZERO;                                                                    \
    for (ptrdiff_t z = 0; z < nz; z++)                                       \
      for (ptrdiff_t y = 0; y < ny; y++) {                                   \
        const double *ar = a + (z * ny + y) * aw;                            \
        const double *br = b + z * bplane + y * bstride + l0;                \
        for (ptrdiff_t c = 0; c < aw; c += 8)                                \
          for (int l = 0; l < 8; l++) FMA(l, ar + c, br + c + l);            \
      }                                                                      \
    for (int l = 0; l < 8 && l0 + l < nlag; l++) {                           \
      double v[8], t = 0;                                                    \
      STORE(l, v);                                                           \
      for (int k = 0; k < 8; k++) t += v[k];                                 \
      sab[l0 + l] = t;                                                       \
    }                                                                        \
  }

#define SH_XFP_DECL double acc[8][8]
#define SH_XFP_ZERO memset(acc, 0, sizeof acc)
#define SH_XFP_FMA(l, pa, pb)                                                \
  for (int k = 0; k < 8; k++) acc[l][k] = fma((pa)[k], (pb)[k], acc[l][k])
#define SH_XFP_STORE(l, v) memcpy(v, acc[l], sizeof acc[l])
static void xf_portable(const double *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw,
                        const double *b, ptrdiff_t bplane, ptrdiff_t bstride, ptrdiff_t nlag,
                        double *sab) {
  SH_XF_BODY(SH_XFP_DECL, SH_XFP_ZERO, SH_XFP_FMA, SH_XFP_STORE)
}

#ifdef SH_X86
#define SH_XF5_DECL __m512d acc[8]
#define SH_XF5_ZERO for (int l = 0; l < 8; l++) acc[l] = _mm512_setzero_pd()
#define SH_XF5_FMA(l, pa, pb)                                                \
  acc[l] = _mm512_fmadd_pd(_mm512_loadu_pd(pa), _mm512_loadu_pd(pb), acc[l])
#define SH_XF5_STORE(l, v) _mm512_storeu_pd(v, acc[l])
__attribute__((target("avx512f"))) static void xf_avx512(
    const double *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw, const double *b,
    ptrdiff_t bplane, ptrdiff_t bstride, ptrdiff_t nlag, double *sab) {
  SH_XF_BODY(SH_XF5_DECL, SH_XF5_ZERO, SH_XF5_FMA, SH_XF5_STORE)
}

#define SH_XF2_DECL __m256d acc[8][2]
#define SH_XF2_ZERO                                                          \
  for (int l = 0; l < 8; l++) acc[l][0] = acc[l][1] = _mm256_setzero_pd()
#define SH_XF2_FMA(l, pa, pb)                                                \
  acc[l][0] = _mm256_fmadd_pd(_mm256_loadu_pd(pa), _mm256_loadu_pd(pb), acc[l][0]), \
  acc[l][1] = _mm256_fmadd_pd(_mm256_loadu_pd((pa) + 4), _mm256_loadu_pd((pb) + 4), acc[l][1])
#define SH_XF2_STORE(l, v) _mm256_storeu_pd(v, acc[l][0]), _mm256_storeu_pd((v) + 4, acc[l][1])
__attribute__((target("avx2,fma"))) static void xf_avx2(
    const double *a, ptrdiff_t nz, ptrdiff_t ny, ptrdiff_t aw, const double *b,
    ptrdiff_t bplane, ptrdiff_t bstride, ptrdiff_t nlag, double *sab) {
  SH_XF_BODY(SH_XF2_DECL, SH_XF2_ZERO, SH_XF2_FMA, SH_XF2_STORE)
}
#endif

void bw_shift_kernels(ptrdiff_t nlag, sh_x16_fn *x16, sh_xf_fn *xf, ptrdiff_t *vw,
                      ptrdiff_t *g) {
  *x16 = x16_portable;
  *xf = xf_portable;
  *vw = 0;
  *g = 1;
#ifdef SH_X86
  const unsigned simd = bw_simd();
  if (simd & BW_SIMD_AVX512BW) {
    /* the group size computing the fewest lags in vain, the larger on ties */
    int gs = 12;
    for (int k = 12; k >= 6; k--)
      if ((nlag + k - 1) / k * k < (nlag + gs - 1) / gs * gs) gs = k;
    __builtin_cpu_init();
    const int vnni = __builtin_cpu_supports("avx512vnni");
    const unsigned gi = (unsigned)(gs - 6) < 7 ? (unsigned)(gs - 6) : 6;
    *x16 = (vnni ? x16_vnni : x16_avx512)[gi], *vw = 32, *g = gs;
    *xf = xf_avx512;
  } else if (simd & BW_SIMD_AVX2) {
    *x16 = x16_avx2, *vw = 16, *g = 8;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("fma")) *xf = xf_avx2;
  }
#endif
  (void)nlag;
}
