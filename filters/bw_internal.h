/* Internal helpers shared by the core's translation units. */
#ifndef BW_INTERNAL_H
#define BW_INTERNAL_H

#include "blockwise.h"

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#  define BW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define BW_PRINTF(f, a)
#endif

#ifndef __SIZEOF_INT128__
#error "the Blockwise core needs 128-bit integers (GCC or Clang, 64-bit target)"
#endif

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/*
 * Where the compiler supports it, kernels marked BW_CLONES are built for
 * AVX-512 and AVX2 as well as the baseline, and the loader picks the widest
 * the CPU has.
 * Floating-point contraction is off for the whole core, so every clone
 * rounds the same way and results do not depend on the machine.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&       \
    defined(__ELF__) && !defined(BW_NO_CLONES)
#define BW_CLONES                                                            \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BW_CLONES
#endif

/* Records @status and a formatted message in @err (if not NULL); returns
 * @status so that callers can write `return bw_fail(err, ...)`. */
bw_status bw_fail(bw_error *err, bw_status status, const char *fmt, ...)
    BW_PRINTF(3, 4);

/* Checks that @v is a usable view with @ndim axes, every extent >= 1 and a
 * supported dtype; @what names it in messages. */
bw_status bw_check_view(const bw_view *v, int ndim, const char *what,
                        bw_error *err);

/* Checks that the first @ndim axes of box @r are non-empty and lie inside
 * [0, extent); else BW_ERR_REGION with "OP: WHAT [a, b) along axis d is not
 * inside the OF [0, n)". */
bw_status bw_check_box(const char *op, int ndim, const ptrdiff_t *extent,
                       const bw_region *r, const char *what, const char *of,
                       bw_error *err);

/* The element of @dt at @p (any alignment), as a double: exact for every
 * dtype. */
static inline double bw_load_double(const char *p, bw_dtype dt) {
  switch (dt) {
  case BW_U8: return *(const uint8_t *)p;
  case BW_I8: return *(const int8_t *)p;
  case BW_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
  case BW_I16: { int16_t v; memcpy(&v, p, 2); return v; }
  case BW_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
  case BW_I32: { int32_t v; memcpy(&v, p, 4); return v; }
  case BW_F32: { float v; memcpy(&v, p, 4); return v; }
  case BW_F64: { double v; memcpy(&v, p, 8); return v; }
  }
  return 0.0;
}

/* Formats the first @ndim entries of @s as "AxBxC" into @buf. */
const char *bw_format_shape(char *buf, size_t len, int ndim,
                            const ptrdiff_t *s);

/* Instruction sets beyond the baseline (bits of bw_simd()). */
enum {
  BW_SIMD_AVX2 = 1,
  BW_SIMD_AVX512BW = 2, /* AVX-512 F and BW */
  BW_SIMD_AVX512 = 4    /* AVX-512 F, BW, DQ and VL */
};

/* The instruction sets of BW_SIMD_* this CPU runs, as far as the
 * environment variable BLOCKWISE_SIMD allows: =portable none, =avx2 none
 * beyond AVX2 (the tests run every implementation so).  Each operation
 * picks the widest implementation it has among them; all give the same
 * results. */
unsigned bw_simd(void);


/* Column-pair sums of centred 16-bit rows (bw_pairsum.c).  Lane k of each
 * array covers columns 2k and 2k+1 of a row piece of w columns (a missing
 * column 2k+1, when w is odd, counts as zero).  With u = x - ca and
 * v = y - cb, which the caller guarantees fit int16, a call adds to lane k
 * the sums of u, v (s1), u*u, v*v (s2) and u*v (sab) over those columns of
 * one row (a1 and b1 NULL) or two.  Arithmetic is modulo 2^32: the caller
 * limits the rows summed so that the true sums fit int32 (uint32 for s2).
 * ahead[0..3] are rows (a0, a1, b0, b1 order) to fetch into cache while
 * these are summed, at the same pace: 2*w bytes from each. */
typedef struct bw_p16_sums {
  uint32_t *s1[2], *s2[2], *sab;
} bw_p16_sums;

typedef void (*bw_p16_fn)(const bw_p16_sums *acc, const void *a0,
                          const void *a1, const void *b0, const void *b1,
                          ptrdiff_t w, uint16_t ca, uint16_t cb,
                          const char *const *ahead);

/* The widest implementation bw_simd() allows: AVX-512BW, AVX2 or portable
 * C; all compute the same integers. */
bw_p16_fn bw_p16_select(void);

#endif
