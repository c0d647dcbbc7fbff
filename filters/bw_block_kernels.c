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

/* 8- and 16-bit inputs: int64 block sums when blocks are small enough for
 * exact int64 finishing (narrow), else 128-bit ones (the w kernels). */
#define BK_NAME k_u8
#define BK_T uint8_t
#define BK_OFF 128
#define BK_ACC int64_t
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_i8
#define BK_T int8_t
#define BK_OFF 0
#define BK_ACC int64_t
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_u16
#define BK_T uint16_t
#define BK_OFF 32768
#define BK_ACC int64_t
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_i16
#define BK_T int16_t
#define BK_OFF 0
#define BK_ACC int64_t
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_u8w
#define BK_T uint8_t
#define BK_OFF 128
#define BK_ACC i128
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_i8w
#define BK_T int8_t
#define BK_OFF 0
#define BK_ACC i128
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_u16w
#define BK_T uint16_t
#define BK_OFF 32768
#define BK_ACC i128
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

#define BK_NAME k_i16w
#define BK_T int16_t
#define BK_OFF 0
#define BK_ACC i128
#define BK_KIND BK_SMALL
#include "bw_block_kernel.h"

/* 32-bit inputs */
#define BK_NAME k_u32
#define BK_T uint32_t
#define BK_OFF 2147483648ll
#define BK_ACC i128
#define BK_KIND BK_INT32
#include "bw_block_kernel.h"

#define BK_NAME k_i32
#define BK_T int32_t
#define BK_OFF 0
#define BK_ACC i128
#define BK_KIND BK_INT32
#include "bw_block_kernel.h"

/* floating-point inputs */
#define BK_NAME k_f32
#define BK_T float
#define BK_OFF 0
#define BK_ACC double
#define BK_KIND BK_FLOAT
#define BK_F32_COLS 1 /* g->f32_cols, when set, sums the columns */
#include "bw_block_kernel.h"

#define BK_NAME k_f64
#define BK_T double
#define BK_OFF 0
#define BK_ACC double
#define BK_KIND BK_FLOAT
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
