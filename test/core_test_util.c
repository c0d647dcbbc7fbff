/*
 * Helpers of the C core's tests (core_test_util.h).
 */
#include "core_test_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void fill_random(void *p, bw_dtype dt, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t r = rnd();
    switch (dt) {
    case BW_U8: ((uint8_t *)p)[i] = (uint8_t)r; break;
    case BW_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)r; break;
    case BW_U16: ((uint16_t *)p)[i] = (uint16_t)r; break;
    case BW_I16: ((int16_t *)p)[i] = (int16_t)(uint16_t)r; break;
    case BW_U32: ((uint32_t *)p)[i] = (uint32_t)r; break;
    case BW_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)r; break;
    case BW_F32: ((float *)p)[i] = (float)(1000.0 + 200.0 * (rnd_unit() - 0.5)); break;
    case BW_F64: ((double *)p)[i] = -3.0e4 + 1.0e3 * (rnd_unit() - 0.5); break;
    }
  }
}

void random_pair_alloc(bw_dtype dt, size_t n, void **a, void **b) {
  const size_t es = bw_dtype_size(dt);
  *a = malloc(n * es);
  *b = malloc(n * es);
  fill_random(*a, dt, n);
  fill_random(*b, dt, n);
  for (size_t i = 0; i < n; i += 2) memcpy((char *)*b + i * es, (char *)*a + i * es, es);
}

size_t prod(const ptrdiff_t *s, int nd) {
  size_t p = 1;
  for (int i = 0; i < nd; i++) p *= (size_t)s[i];
  return p;
}

const bw_stat out_stats[N_OUT] = {
    BW_STAT_COUNT, BW_STAT_SUM,  BW_STAT_MEAN, BW_STAT_VAR,
    BW_STAT_STD,   BW_STAT_MIN,  BW_STAT_MAX,  BW_STAT_COV,
    BW_STAT_CORR,  BW_STAT_MEAN, BW_STAT_VAR};
const int out_input[N_OUT] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

bw_status run_all(const bw_view *va, const bw_view *vb,
                  const bw_block_params *p, double **outs,
                  ptrdiff_t *on, bw_error *err) {
  bw_status s = bw_block_output_shape(p, va->shape, on, err);
  if (s) return s;
  bw_block_output o[N_OUT];
  size_t no = prod(on, p->ndim);
  for (int i = 0; i < N_OUT; i++) {
    outs[i] = malloc(no * sizeof(double));
    o[i].stat = out_stats[i];
    o[i].input = out_input[i];
    o[i].view = bw_view_contiguous(outs[i], BW_F64, p->ndim, on);
  }
  return bw_block_stats(va, vb, p, o, N_OUT, err);
}

const shape_case shape_cases[] = {
    {2, {1, 97}, {1, 10}},        /* 1 x N */
    {2, {97, 1}, {10, 1}},        /* N x 1 */
    {2, {1, 97}, {3, 10}},        /* block taller than the image */
    {2, {37, 53}, {5, 7}},        /* odd sizes, partial edges */
    {2, {40, 60}, {10, 10}},      /* exact multiple */
    {2, {13, 17}, {32, 32}},      /* block larger than the image */
    {2, {13, 17}, {13, 17}},      /* block equal to the image */
    {2, {33, 1100}, {4, 600}},    /* block wider than a chunk */
    {2, {5, 2000}, {2, 3}},       /* many chunks */
    {3, {9, 20, 31}, {2, 5, 7}},  /* 3-D anisotropic */
    {3, {4, 16, 16}, {4, 16, 16}},/* 3-D block equal to the image */
    {3, {7, 3, 50}, {3, 1, 9}},   /* 3-D thin */
};
