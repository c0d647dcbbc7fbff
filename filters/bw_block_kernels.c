/*
 * The generic slab kernels of blockwise statistics, one per input type and
 * accumulator width: bw_block_kernel.h instantiated with the types and
 * bounds of each (see its header comment for what they mean), and
 * bw_slab_kernel, which picks one.
 */
#include "bw_block_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 8- and 16-bit values, centred: |v| <= 2^15, v*v <= 2^30, so two rows of
 * squares fit uint32, value sums fit int32 for 2^15 rows, and a chunk total
 * (CHUNK * 2^14 rows * 2^30) fits int64.  Block sums are int64 when the
 * block is small enough for the finishing numerators n*S2 - S1^2 to fit
 * int64 too (see nmax64 in bw_block.c; the common case), else 128-bit. */
#define SMALL_ROWS ((ptrdiff_t)1 << 14)

#define BK_NAME k_u8
#define BK_T uint8_t
#define BK_VT int32_t
#define BK_OFF 128
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC int64_t
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_i8
#define BK_T int8_t
#define BK_VT int32_t
#define BK_OFF 0
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC int64_t
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_u16
#define BK_T uint16_t
#define BK_VT int32_t
#define BK_OFF 32768
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC int64_t
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_i16
#define BK_T int16_t
#define BK_VT int32_t
#define BK_OFF 0
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC int64_t
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

/* ... and with 128-bit block sums, for larger blocks. */
#define BK_NAME k_u8w
#define BK_T uint8_t
#define BK_VT int32_t
#define BK_OFF 128
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC i128
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_i8w
#define BK_T int8_t
#define BK_VT int32_t
#define BK_OFF 0
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC i128
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_u16w
#define BK_T uint16_t
#define BK_VT int32_t
#define BK_OFF 32768
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC i128
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_i16w
#define BK_T int16_t
#define BK_VT int32_t
#define BK_OFF 0
#define BK_CS int32_t
#define BK_SQ uint32_t
#define BK_CACC int64_t
#define BK_FOLD int64_t
#define BK_ACC i128
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

/* 32-bit values, centred: |v| <= 2^31, v*v <= 2^62, two rows fit uint64;
 * every column, chunk and block sum is 128-bit. */
#define BK_NAME k_u32
#define BK_T uint32_t
#define BK_VT int64_t
#define BK_OFF 2147483648ll
#define BK_CS i128
#define BK_SQ uint64_t
#define BK_CACC i128
#define BK_FOLD i128
#define BK_ACC i128
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

#define BK_NAME k_i32
#define BK_T int32_t
#define BK_VT int64_t
#define BK_OFF 0
#define BK_CS i128
#define BK_SQ uint64_t
#define BK_CACC i128
#define BK_FOLD i128
#define BK_ACC i128
#define BK_FLT 0
#define BK_ROWS SMALL_ROWS
#include "bw_block_kernel.h"

/* floats: v = x - (block's first pixel), all in double */
#define BK_NAME k_f32
#define BK_T float
#define BK_VT double
#define BK_OFF 0
#define BK_CS double
#define BK_SQ double
#define BK_CACC double
#define BK_FOLD double
#define BK_ACC double
#define BK_FLT 1
#define BK_ROWS PTRDIFF_MAX - 1
#include "bw_block_kernel.h"

#define BK_NAME k_f64
#define BK_T double
#define BK_VT double
#define BK_OFF 0
#define BK_CS double
#define BK_SQ double
#define BK_CACC double
#define BK_FOLD double
#define BK_ACC double
#define BK_FLT 1
#define BK_ROWS PTRDIFF_MAX - 1
#include "bw_block_kernel.h"

/* The kernels stay static and are handed out as pointers: GCC gives a
 * global function with target_clones an ifunc symbol of default visibility
 * whatever -fvisibility says, which would export it from the library. */
#define BW_KERNEL(NAME) ((slab_kernel){NAME##_slab, NAME##_minmax})

slab_kernel bw_slab_kernel(bw_dtype dt, int narrow) {
  switch (dt) {
  case BW_U8: return narrow ? BW_KERNEL(k_u8) : BW_KERNEL(k_u8w);
  case BW_I8: return narrow ? BW_KERNEL(k_i8) : BW_KERNEL(k_i8w);
  case BW_U16: return narrow ? BW_KERNEL(k_u16) : BW_KERNEL(k_u16w);
  case BW_I16: return narrow ? BW_KERNEL(k_i16) : BW_KERNEL(k_i16w);
  case BW_U32: return BW_KERNEL(k_u32);
  case BW_I32: return BW_KERNEL(k_i32);
  case BW_F32: return BW_KERNEL(k_f32);
  case BW_F64: break;
  }
  return BW_KERNEL(k_f64);
}
