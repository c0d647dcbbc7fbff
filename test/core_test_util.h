/*
 * Helpers of the C core's tests (test_core_*.c, one executable): random
 * data, every statistic of a pair in one call, and the shapes the accuracy
 * and sub-region tests walk through.
 */
#ifndef CORE_TEST_UTIL_H
#define CORE_TEST_UTIL_H

#include "blockwise.h"
#include "bw_test.h"

#include <stddef.h>

/* The tests, by file (the table is in test_core_main.c). */
/* test_core_stats.c: accuracy against a plain reference */
void test_reference_2d3d(void);
void test_integer_sums_exact(void);
void test_float_offset_no_cancellation(void);
void test_constant_blocks(void);
void test_nan_propagation(void);
void test_pair16_path(void);
/* test_core_regions.c: views, sub-regions, region maps */
void test_subregion_bit_identical(void);
void test_strided_views(void);
void test_one_pass_equals_separate(void);
void test_corr_alone(void);
void test_region_map_values(void);
void test_output_region(void);
/* test_core_errors.c: bad input, parameter checks, names */
void test_errors_leave_output_untouched(void);
void test_params_check(void);
void test_stat_names(void);
/* test_core_channel.c */
void test_channel_reference(void);
void test_channel_u8_bits(void);
void test_channel_luminance_all(void);
void test_channel_regions(void);
void test_channel_names_errors(void);

/* test_core_local.c (accuracy), test_core_local_regions.c (regions,
 * errors): local statistics */
void test_local_reference(void);
void test_local_large(void);
void test_local_corr_adversarial(void);
void test_local_float_offset(void);
void test_local_subregion(void);
void test_local_region_map(void);
void test_local_errors(void);

/* test_core_shift.c: per-block displacement */
void test_shift_known(void);
void test_shift_identical(void);
void test_shift_brute_force(void);
void test_shift_subregion(void);
void test_shift_pruning(void);
void test_shift_ties(void);
void test_shift_region_map(void);
void test_shift_errors(void);

/* Fills n random elements covering the dtype's whole range (floats: values
 * of mixed magnitude around an offset, so that cancellation would show). */
void fill_random(void *p, bw_dtype dt, size_t n);

/* A case of local statistics: image n, radius r, step s per axis. */
typedef struct lcase {
  int nd;
  ptrdiff_t n[3], r[3], s[3];
} lcase;

/* Allocates *a and *b of n random elements of dt (fill_random), b equal to
 * a in every other element so that correlations span a range. */
void random_pair_alloc(bw_dtype dt, size_t n, void **a, void **b);

/* The product of the @nd extents @s. */
size_t prod(const ptrdiff_t *s, int nd);

/* The outputs every accuracy test asks for, all in one call. */
enum { N_OUT = 11 };
extern const bw_stat out_stats[N_OUT];
extern const int out_input[N_OUT];

/* Runs all outputs for contiguous a, b; fills outs[N_OUT] (f64, allocated). */
bw_status run_all(const bw_view *va, const bw_view *vb, const bw_block_params *p,
                  double **outs, ptrdiff_t *on, bw_error *err);

/* An image shape and a block shape. */
typedef struct shape_case {
  int nd;
  ptrdiff_t shape[3], block[3];
} shape_case;

/* 1 x N, N x 1, partial edges, blocks larger than the image or a chunk,
 * many chunks, 3-D. */
enum { N_SHAPE_CASES = 12 };
extern const shape_case shape_cases[N_SHAPE_CASES];

#endif
