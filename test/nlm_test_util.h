/*
 * Helpers of the tests of the core's non-local means (test_nlm_*.c, one
 * executable): test images, the per-pixel reference and whole-image runs.
 */
#ifndef NLM_TEST_UTIL_H
#define NLM_TEST_UTIL_H

#include "blockwise.h"
#include "bw_test.h"

#include <stddef.h>

/* The tests, by file (the table is in test_nlm_main.c). */
/* test_nlm_reference.c: against a per-pixel reference */
void test_reference_2d(void);
void test_reference_3d(void);
void test_extremes(void);
void test_huge_h(void);
/* test_nlm_poisson.c: Poisson-Gaussian noise */
void test_poisson_gaussian(void);
void test_inverse_constant(void);
/* test_nlm_regions.c: boxes, bands, views, instruction sets, the map */
void test_subregion(void);
void test_bands(void);
void test_strided_views(void);
void test_simd_paths(void);
void test_region_map(void);
/* test_nlm_errors.c: bad input, parameter checks, defaults, halo */
void test_errors(void);
void test_params_init(void);
void test_params_check_halo(void);

/* Range of a dtype used for test images: [lo, lo + span]. */
void dtype_range(bw_dtype dt, double *lo, double *span);

/* The product of the @nd extents @s. */
size_t prod(const ptrdiff_t *s, int nd);

/* A smooth pattern with edges plus Gaussian noise of standard deviation
 * @noise (a fraction of the span), clipped to the dtype's test range;
 * returns the noise in image units. */
double fill_image(void *p, bw_dtype dt, int nd, const ptrdiff_t *shape, double noise);

/* A simulated fluorescence image: counts of a pattern between @lo and @hi
 * expected photo-electrons, times gain, plus offset and read noise. */
void fluorescence(void *img, bw_dtype dt, int nd, const ptrdiff_t *shape, double lo,
                  double hi, double gain, double offset, double read_sigma);

/* Non-local means of the values v (C order, 3-D form: 2-D images have
 * shape[0] = 1 and zero radii along z), weights exp(-max(d2 - 2 s^2, 0) /
 * h^2), straight from the definition. */
void ref_nlm(const double *v, const ptrdiff_t *n, const ptrdiff_t *p, const ptrdiff_t *s,
             double h, double sigma, double *out);

/* bw_nlm_params_init(@p, @nd, @sigma), then the patch and search radii
 * @patch and @search (@nd values each, slowest first). */
void nlm_params_radii(bw_nlm_params *p, int nd, double sigma, const ptrdiff_t *patch,
                      const ptrdiff_t *search);

/* Whole-image bw_nlm into a new buffer of @odt (free it); the status in *st. */
void *run_whole(const void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
                const bw_nlm_params *p, bw_dtype odt, bw_status *st);

/* The 3-D form of @a (of @shape when @a is NULL): @nd values, slowest
 * first, after 3 - @nd leading @fill. */
void shape3(int nd, const ptrdiff_t *shape, const ptrdiff_t *a, ptrdiff_t *out3,
            ptrdiff_t fill);

#endif
