/*
 * Column-pair sums of centred 16-bit rows: the inner loop of block
 * correlation for 16-bit pairs.
 *
 * Lane k of each sum covers columns 2k and 2k+1 of a row piece, so one
 * multiply-add of 16-bit lanes (pmaddwd on x86) gives two products summed
 * in 32 bits: half the multiplies and none of the widening that 64-bit
 * column sums would need.  Sums wrap modulo 2^32; the caller bounds the
 * number of rows so that the true sums fit (see bw_internal.h).
 *
 * The portable loop defines the result; the AVX2 and AVX-512 loops compute
 * the same integers.
 */
#include "bw_internal.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define BW_X86_SIMD 1
#include <immintrin.h>
#endif

/* x - c as a signed 16-bit value: the caller guarantees it fits. */
static inline int32_t centred(uint16_t x, uint16_t c) {
  int32_t d = (int32_t)x - (int32_t)c;
  if (d > 32767) d -= 65536;
  if (d < -32768) d += 65536;
  return d;
}

/* One lane: columns i and i + 1 (when i + 1 < w) of one or two rows. */
static inline void pair_lane(const bw_p16_sums *acc, ptrdiff_t k,
                             const uint16_t *const *ra,
                             const uint16_t *const *rb, int nrow, ptrdiff_t i,
                             ptrdiff_t w, uint16_t ca, uint16_t cb) {
  uint32_t s1a = 0, s1b = 0, s2a = 0, s2b = 0, sab = 0;
  for (int q = 0; q < nrow; q++) {
    for (ptrdiff_t t = i; t < i + 2 && t < w; t++) {
      const int32_t u = centred(ra[q][t], ca), v = centred(rb[q][t], cb);
      s1a += (uint32_t)u;
      s1b += (uint32_t)v;
      s2a += (uint32_t)(u * u);
      s2b += (uint32_t)(v * v);
      sab += (uint32_t)(u * v);
    }
  }
  acc->s1[0][k] += s1a;
  acc->s1[1][k] += s1b;
  acc->s2[0][k] += s2a;
  acc->s2[1][k] += s2b;
  acc->sab[k] += sab;
}

/* Lanes k0 onwards of row pieces of w columns, in portable C. */
static void pairs_portable(const bw_p16_sums *acc, ptrdiff_t k0,
                           const uint16_t *a0, const uint16_t *a1,
                           const uint16_t *b0, const uint16_t *b1, ptrdiff_t w,
                           uint16_t ca, uint16_t cb) {
  const uint16_t *ra[2] = {a0, a1}, *rb[2] = {b0, b1};
  const int nrow = a1 ? 2 : 1;
  for (ptrdiff_t k = k0; 2 * k < w; k++)
    pair_lane(acc, k, ra, rb, nrow, 2 * k, w, ca, cb);
}

static void p16_portable(const bw_p16_sums *acc, const void *a0,
                         const void *a1, const void *b0, const void *b1,
                         ptrdiff_t w, uint16_t ca, uint16_t cb,
                         const char *const *ahead) {
  (void)ahead; /* the portable loop leaves fetching to the hardware */
  pairs_portable(acc, 0, (const uint16_t *)a0, (const uint16_t *)a1,
                 (const uint16_t *)b0, (const uint16_t *)b1, w, ca, cb);
}

#ifdef BW_X86_SIMD

/* One step of V-wide vectors: u = x - c in 16-bit lanes (wrapping, which is
 * exact because the difference fits), then multiply-adds of lane pairs. */
#define BW_P16_BODY(VEC, LOAD, STORE, SUB, MADD, ADD, SET1, LANES)             \
  do {                                                                         \
    const VEC one = SET1(1), vca = SET1((short)ca), vcb = SET1((short)cb);     \
    ptrdiff_t i = 0;                                                           \
    for (; i + (LANES) <= w; i += (LANES)) {                                   \
      for (int q = 0; q < 4; q++) _mm_prefetch(ahead[q] + 2 * i, _MM_HINT_T1);   \
      const VEC u0 = SUB(LOAD((const VEC *)(pa0 + i)), vca);                   \
      const VEC v0 = SUB(LOAD((const VEC *)(pb0 + i)), vcb);                   \
      VEC s1a = MADD(u0, one), s1b = MADD(v0, one);                            \
      VEC s2a = MADD(u0, u0), s2b = MADD(v0, v0), sab = MADD(u0, v0);          \
      if (two) {                                                               \
        const VEC u1 = SUB(LOAD((const VEC *)(pa1 + i)), vca);                 \
        const VEC v1 = SUB(LOAD((const VEC *)(pb1 + i)), vcb);                 \
        s1a = ADD(s1a, MADD(u1, one));                                         \
        s1b = ADD(s1b, MADD(v1, one));                                         \
        s2a = ADD(s2a, MADD(u1, u1));                                          \
        s2b = ADD(s2b, MADD(v1, v1));                                          \
        sab = ADD(sab, MADD(u1, v1));                                          \
      }                                                                        \
      const ptrdiff_t k = i / 2;                                               \
      VEC *p;                                                                  \
      p = (VEC *)(acc->s1[0] + k), STORE(p, ADD(LOAD(p), s1a));                \
      p = (VEC *)(acc->s1[1] + k), STORE(p, ADD(LOAD(p), s1b));                \
      p = (VEC *)(acc->s2[0] + k), STORE(p, ADD(LOAD(p), s2a));                \
      p = (VEC *)(acc->s2[1] + k), STORE(p, ADD(LOAD(p), s2b));                \
      p = (VEC *)(acc->sab + k), STORE(p, ADD(LOAD(p), sab));                  \
    }                                                                          \
    pairs_portable(acc, i / 2, pa0, two ? pa1 : NULL, pb0, pb1, w, ca, cb);    \
  } while (0)

/* NAME, a bw_p16_fn for target TARGET over BODY (the _n functions): one
 * row (a1 NULL) or two, the row count a constant in each copy of BODY. */
#define BW_P16_ENTRY(NAME, TARGET, BODY)                                       \
  __attribute__((target(TARGET))) static void NAME(                            \
      const bw_p16_sums *acc, const void *a0, const void *a1, const void *b0,  \
      const void *b1, ptrdiff_t w, uint16_t ca, uint16_t cb,                   \
      const char *const *ahead) {                                              \
    if (a1)                                                                    \
      BODY(acc, a0, a1, b0, b1, w, ca, cb, ahead, 1);                          \
    else                                                                       \
      BODY(acc, a0, a0, b0, b0, w, ca, cb, ahead, 0);                          \
  }

__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
p16_avx2_n(const bw_p16_sums *acc, const uint16_t *pa0, const uint16_t *pa1,
           const uint16_t *pb0, const uint16_t *pb1, ptrdiff_t w, uint16_t ca,
           uint16_t cb, const char *const *ahead, const int two) {
  BW_P16_BODY(__m256i, _mm256_loadu_si256, _mm256_storeu_si256,
              _mm256_sub_epi16, _mm256_madd_epi16, _mm256_add_epi32,
              _mm256_set1_epi16, 16);
}

BW_P16_ENTRY(p16_avx2, "avx2", p16_avx2_n)

/* AVX-512: as BW_P16_BODY, and the last columns through masks, with masked
 * lanes zero (they add nothing). */
__attribute__((target("avx512f,avx512bw"))) static inline
    __attribute__((always_inline)) void
    p16_avx512_n(const bw_p16_sums *acc, const uint16_t *pa0,
                 const uint16_t *pa1, const uint16_t *pb0, const uint16_t *pb1,
                 ptrdiff_t w, uint16_t ca, uint16_t cb,
                 const char *const *ahead, const int two) {
  const __m512i one = _mm512_set1_epi16(1);
  const __m512i vca = _mm512_set1_epi16((short)ca), vcb = _mm512_set1_epi16((short)cb);
  for (ptrdiff_t i = 0; i < w; i += 32) {
    for (int q = 0; q < 4; q++) _mm_prefetch(ahead[q] + 2 * i, _MM_HINT_T1);
    const ptrdiff_t left = w - i;
    const __mmask32 m16 = left >= 32 ? ~(__mmask32)0 : (((__mmask32)1 << left) - 1);
    const __mmask16 m32 = left >= 32 ? (__mmask16)0xffff
                                     : (__mmask16)((1u << ((left + 1) / 2)) - 1);
    const __m512i u0 = _mm512_maskz_sub_epi16(m16, _mm512_maskz_loadu_epi16(m16, pa0 + i), vca);
    const __m512i v0 = _mm512_maskz_sub_epi16(m16, _mm512_maskz_loadu_epi16(m16, pb0 + i), vcb);
    __m512i s1a = _mm512_madd_epi16(u0, one), s1b = _mm512_madd_epi16(v0, one);
    __m512i s2a = _mm512_madd_epi16(u0, u0), s2b = _mm512_madd_epi16(v0, v0);
    __m512i sab = _mm512_madd_epi16(u0, v0);
    if (two) {
      const __m512i u1 = _mm512_maskz_sub_epi16(m16, _mm512_maskz_loadu_epi16(m16, pa1 + i), vca);
      const __m512i v1 = _mm512_maskz_sub_epi16(m16, _mm512_maskz_loadu_epi16(m16, pb1 + i), vcb);
      s1a = _mm512_add_epi32(s1a, _mm512_madd_epi16(u1, one));
      s1b = _mm512_add_epi32(s1b, _mm512_madd_epi16(v1, one));
      s2a = _mm512_add_epi32(s2a, _mm512_madd_epi16(u1, u1));
      s2b = _mm512_add_epi32(s2b, _mm512_madd_epi16(v1, v1));
      sab = _mm512_add_epi32(sab, _mm512_madd_epi16(u1, v1));
    }
    uint32_t *const dst[5] = {acc->s1[0] + i / 2, acc->s1[1] + i / 2,
                              acc->s2[0] + i / 2, acc->s2[1] + i / 2,
                              acc->sab + i / 2};
    const __m512i add[5] = {s1a, s1b, s2a, s2b, sab};
    for (int q = 0; q < 5; q++)
      _mm512_mask_storeu_epi32(
          dst[q], m32,
          _mm512_add_epi32(_mm512_maskz_loadu_epi32(m32, dst[q]), add[q]));
  }
}

BW_P16_ENTRY(p16_avx512, "avx512f,avx512bw", p16_avx512_n)

#endif /* BW_X86_SIMD */

bw_p16_fn bw_p16_select(void) {
#ifdef BW_X86_SIMD
  const unsigned simd = bw_simd();
  if (simd & BW_SIMD_AVX512BW) return p16_avx512;
  if (simd & BW_SIMD_AVX2) return p16_avx2;
#endif
  return p16_portable;
}
