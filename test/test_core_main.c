/*
 * Tests of the C core.  One executable, many tests: `blockwise_core_tests
 * NAME` runs one (CTest registers each as core.NAME), no argument runs them
 * all.  The tests live in test_core_stats.c (accuracy against a plain
 * reference), test_core_regions.c (views, sub-regions, region maps) and
 * test_core_errors.c (bad input, parameter checks, names),
 * test_core_channel.c (one channel from many), test_core_local.c and
 * test_core_local_regions.c (local statistics), test_core_shift.c
 * (per-block displacement); core_test_util.c holds their helpers.
 */
#include "core_test_util.h"

static const bw_test tests[] = {
    {"reference", test_reference_2d3d},
    {"integer_sums_exact", test_integer_sums_exact},
    {"float_offset", test_float_offset_no_cancellation},
    {"constant_blocks", test_constant_blocks},
    {"nan_propagation", test_nan_propagation},
    {"subregion", test_subregion_bit_identical},
    {"strided_views", test_strided_views},
    {"one_pass", test_one_pass_equals_separate},
    {"corr_alone", test_corr_alone},
    {"errors", test_errors_leave_output_untouched},
    {"region_map", test_region_map_values},
    {"pair16", test_pair16_path},
    {"params_check", test_params_check},
    {"stat_names", test_stat_names},
    {"output_region", test_output_region},
    {"channel_reference", test_channel_reference},
    {"channel_u8_bits", test_channel_u8_bits},
    {"channel_luminance_all", test_channel_luminance_all},
    {"channel_regions", test_channel_regions},
    {"channel_names_errors", test_channel_names_errors},
    {"local_reference", test_local_reference},
    {"local_large", test_local_large},
    {"local_corr_adversarial", test_local_corr_adversarial},
    {"local_float_offset", test_local_float_offset},
    {"local_subregion", test_local_subregion},
    {"local_region_map", test_local_region_map},
    {"local_errors", test_local_errors},
    {"shift_known", test_shift_known},
    {"shift_identical", test_shift_identical},
    {"shift_brute_force", test_shift_brute_force},
    {"shift_subregion", test_shift_subregion},
    {"shift_pruning", test_shift_pruning},
    {"shift_ties", test_shift_ties},
    {"shift_region_map", test_shift_region_map},
    {"shift_errors", test_shift_errors},
};

BW_TEST_MAIN(tests)
