/*
 * Tests of the core's non-local means (bw_nlm).  One executable:
 * `blockwise_nlm_tests NAME` runs one test (CTest registers each as
 * nlm.NAME), no argument runs them all.  The tests live in
 * test_nlm_reference.c (against a per-pixel reference), test_nlm_poisson.c
 * (Poisson-Gaussian noise against the exact inverse), test_nlm_regions.c
 * (boxes, bands, views, instruction sets, the region map) and
 * test_nlm_errors.c (bad input, parameter checks, defaults, halo);
 * nlm_test_util.c holds their helpers.
 */
#include "nlm_test_util.h"

static const bw_test tests[] = {
    {"reference_2d", test_reference_2d},
    {"reference_3d", test_reference_3d},
    {"poisson_gaussian", test_poisson_gaussian},
    {"inverse_constant", test_inverse_constant},
    {"subregion", test_subregion},
    {"bands", test_bands},
    {"strided_views", test_strided_views},
    {"simd_paths", test_simd_paths},
    {"extremes", test_extremes},
    {"errors", test_errors},
    {"region_map", test_region_map},
    {"params_init", test_params_init},
    {"params_check_halo", test_params_check_halo},
    {"huge_h", test_huge_h},
};

BW_TEST_MAIN(tests)
