/*
 * Column sums of float32 pairs: the inner loop of block correlation for
 * float images (a slide's luminance, a microscope's float stacks), in
 * AVX-512 intrinsics.
 *
 * The kernel's own loop (pair_cols in bw_block_kernel.h) defines the
 * result.  These compute the same additions and products in the same
 * order per lane, so they give the same bits; what they change is the
 * widening of 8 floats to 8 doubles, one instruction from memory here
 * where GCC 12 splits the kernel's generic vector conversion into halves
 * and shuffles that cost more than the arithmetic.
 */
#include "bw_block_internal.h"

#include <string.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define BW_X86_SIMD 1
#include <immintrin.h>
#endif

#ifdef BW_X86_SIMD

/* The columns from i on, fewer than 8: 4 of them with 256-bit vectors,
 * then one at a time. */
#define BW_F32_TAIL()                                                          \
  do {                                                                         \
    for (; i + 4 <= w; i += 4) {                                               \
      const __m256d ka = _mm256_setr_pd(kx[i / bx], kx[(i + 1) / bx],          \
                                        kx[(i + 2) / bx], kx[(i + 3) / bx]);     \
      const __m256d kb = _mm256_setr_pd(ky[i / bx], ky[(i + 1) / bx],          \
                                        ky[(i + 2) / bx], ky[(i + 3) / bx]);     \
      __m256d s1a = _mm256_setzero_pd(), s2a = s1a, s1b = s1a, s2b = s1a,      \
              sab = s1a;                                                       \
      ptrdiff_t r = 0;                                                         \
      for (; r + 1 < nrows; r += 2) {                                          \
        const __m256d u0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(ra[r] + i)), ka);      \
        const __m256d u1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(ra[r + 1] + i)), ka);  \
        const __m256d v0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(rb[r] + i)), kb);      \
        const __m256d v1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(rb[r + 1] + i)), kb);  \
        s1a = _mm256_add_pd(s1a, _mm256_add_pd(u0, u1));                       \
        s1b = _mm256_add_pd(s1b, _mm256_add_pd(v0, v1));                       \
        s2a = _mm256_add_pd(s2a, _mm256_add_pd(_mm256_mul_pd(u0, u0), _mm256_mul_pd(u1, u1))); \
        s2b = _mm256_add_pd(s2b, _mm256_add_pd(_mm256_mul_pd(v0, v0), _mm256_mul_pd(v1, v1))); \
        sab = _mm256_add_pd(sab, _mm256_add_pd(_mm256_mul_pd(u0, v0), _mm256_mul_pd(u1, v1))); \
      }                                                                        \
      if (r < nrows) {                                                         \
        const __m256d u0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(ra[r] + i)), ka);      \
        const __m256d v0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(rb[r] + i)), kb);      \
        s1a = _mm256_add_pd(s1a, u0);                                          \
        s1b = _mm256_add_pd(s1b, v0);                                          \
        s2a = _mm256_add_pd(s2a, _mm256_mul_pd(u0, u0));                       \
        s2b = _mm256_add_pd(s2b, _mm256_mul_pd(v0, v0));                       \
        sab = _mm256_add_pd(sab, _mm256_mul_pd(u0, v0));                       \
      }                                                                        \
      _mm256_storeu_pd(c1a + i, s1a);                                          \
      _mm256_storeu_pd(c2a + i, s2a);                                          \
      _mm256_storeu_pd(c1b + i, s1b);                                          \
      _mm256_storeu_pd(c2b + i, s2b);                                          \
      _mm256_storeu_pd(cab + i, sab);                                          \
    }                                                                          \
    for (; i < w; i++) {                                                       \
      double s1x = 0, s2x = 0, s1y = 0, s2y = 0, sxy = 0;                      \
      const double kxi = kx[i / bx], kyi = ky[i / bx];                         \
      ptrdiff_t r = 0;                                                         \
      for (; r + 1 < nrows; r += 2) {                                          \
        const double u0 = (double)ra[r][i] - kxi, u1 = (double)ra[r + 1][i] - kxi; \
        const double v0 = (double)rb[r][i] - kyi, v1 = (double)rb[r + 1][i] - kyi; \
        s1x += u0 + u1;                                                        \
        s1y += v0 + v1;                                                        \
        s2x += u0 * u0 + u1 * u1;                                              \
        s2y += v0 * v0 + v1 * v1;                                              \
        sxy += u0 * v0 + u1 * v1;                                              \
      }                                                                        \
      if (r < nrows) {                                                         \
        const double u0 = (double)ra[r][i] - kxi, v0 = (double)rb[r][i] - kyi;   \
        s1x += u0;                                                             \
        s1y += v0;                                                             \
        s2x += u0 * u0;                                                        \
        s2y += v0 * v0;                                                        \
        sxy += u0 * v0;                                                        \
      }                                                                        \
      c1a[i] = s1x, c2a[i] = s2x, c1b[i] = s1y, c2b[i] = s2y, cab[i] = sxy;    \
    }                                                                          \
  } while (0)

__attribute__((target("avx512f"))) static void
cols_avx512(const float *const *ra, const float *const *rb, ptrdiff_t nrows, ptrdiff_t w,
            const double *restrict kx, const double *restrict ky, ptrdiff_t bx,
            double *restrict c1a, double *restrict c2a, double *restrict c1b,
            double *restrict c2b, double *restrict cab) {
  ptrdiff_t i = 0;
  for (; i + 8 <= w; i += 8) {
    /* the 8 columns' shifts: those of block j, then of block j + 1 from
     * the lane where it starts (blocks are at least 8 wide) */
    const ptrdiff_t j = i / bx, left = (j + 1) * bx - i;
    const __mmask8 in_j = left >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << left) - 1);
    const ptrdiff_t next = left >= 8 ? j : j + 1;
    const __m512d ka = _mm512_mask_blend_pd(in_j, _mm512_set1_pd(kx[next]), _mm512_set1_pd(kx[j]));
    const __m512d kb = _mm512_mask_blend_pd(in_j, _mm512_set1_pd(ky[next]), _mm512_set1_pd(ky[j]));
    __m512d s1a = _mm512_setzero_pd(), s2a = s1a, s1b = s1a, s2b = s1a, sab = s1a;
    ptrdiff_t r = 0;
    for (; r + 1 < nrows; r += 2) {
      const __m512d u0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(ra[r] + i)), ka);
      const __m512d u1 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(ra[r + 1] + i)), ka);
      const __m512d v0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(rb[r] + i)), kb);
      const __m512d v1 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(rb[r + 1] + i)), kb);
      s1a = _mm512_add_pd(s1a, _mm512_add_pd(u0, u1));
      s1b = _mm512_add_pd(s1b, _mm512_add_pd(v0, v1));
      s2a = _mm512_add_pd(s2a, _mm512_add_pd(_mm512_mul_pd(u0, u0), _mm512_mul_pd(u1, u1)));
      s2b = _mm512_add_pd(s2b, _mm512_add_pd(_mm512_mul_pd(v0, v0), _mm512_mul_pd(v1, v1)));
      sab = _mm512_add_pd(sab, _mm512_add_pd(_mm512_mul_pd(u0, v0), _mm512_mul_pd(u1, v1)));
    }
    if (r < nrows) {
      const __m512d u0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(ra[r] + i)), ka);
      const __m512d v0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(rb[r] + i)), kb);
      s1a = _mm512_add_pd(s1a, u0);
      s1b = _mm512_add_pd(s1b, v0);
      s2a = _mm512_add_pd(s2a, _mm512_mul_pd(u0, u0));
      s2b = _mm512_add_pd(s2b, _mm512_mul_pd(v0, v0));
      sab = _mm512_add_pd(sab, _mm512_mul_pd(u0, v0));
    }
    _mm512_storeu_pd(c1a + i, s1a);
    _mm512_storeu_pd(c2a + i, s2a);
    _mm512_storeu_pd(c1b + i, s1b);
    _mm512_storeu_pd(c2b + i, s2b);
    _mm512_storeu_pd(cab + i, sab);
  }
  BW_F32_TAIL();
}

#endif /* BW_X86_SIMD */

bw_f32_cols_fn bw_f32_cols_select(void) {
#ifdef BW_X86_SIMD
  const unsigned simd = bw_simd();
  if (simd & BW_SIMD_AVX512BW) return cols_avx512;
#endif
  return NULL;
}
