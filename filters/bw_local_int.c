/*
 * The exact integer engine of local statistics: bw_local_int_kernel.h
 * instantiated for two accumulator widths, and the choice between them.
 *
 * Bounds (n = window count, at most 2^32, which the driver checks):
 *   8- and 16-bit inputs, centred (u8 - 128, u16 - 32768): |v| <= 2^15, so
 *   v*v and v*w fit int32; window sums |S1| <= n 2^15 and S2, Sab <= n 2^30
 *   fit int64.  The numerators n S2 - S1^2 are at most n^2 2^30 (2^14 for
 *   8-bit values): int64 up to n = 2^16 (2^24 for 8-bit), 128-bit above.
 *   32-bit inputs, centred (u32 - 2^31): |v| <= 2^31, v*v fits int64,
 *   |S1| < 2^63, S2 and Sab 128-bit, numerators below n^2 2^62 < 2^127.
 */
#include "bw_local_internal.h"

#include <math.h>
#include <string.h>

#define LI_NAME li16_
#define LI_V int32_t
#define LI_Q2 uint64_t
#define LI_S2 int64_t
#define LI_FAST 1
#include "bw_local_int_kernel.h"

#define LI_NAME li32_
#define LI_V int64_t
#define LI_Q2 u128
#define LI_S2 i128
#include "bw_local_int_kernel.h"

bw_status bw_local_int(const lc_geom *g, const ptrdiff_t *k0,
                       const ptrdiff_t *kn, int64_t nmax, lc_emit_fn emit,
                       void *ctx, bw_error *err) {
  switch (g->dt) {
  case BW_U8:
  case BW_I8:
    return li16_run(g, k0, kn, nmax <= ((int64_t)1 << 24), emit, ctx, err);
  case BW_U16:
  case BW_I16:
    return li16_run(g, k0, kn, nmax <= ((int64_t)1 << 16), emit, ctx, err);
  default:
    return li32_run(g, k0, kn, 0, emit, ctx, err);
  }
}
