# Tests of non-local means in the core, all named nlm.*:
#   nlm.NAME     the C tests in test_nlm_*.c, one per test
#   nlm.quality  test_nlm_quality.py against scikit-image, through nlm_tool

# test_nlm_reference.c (against a per-pixel reference), test_nlm_poisson.c
# (Poisson-Gaussian noise against the exact inverse), test_nlm_regions.c
# (boxes, bands, views, instruction sets, the region map), test_nlm_errors.c
# (bad input, parameter checks, defaults, halo); nlm_test_util.c their
# helpers.
add_executable(blockwise_nlm_tests
  test_nlm_main.c test_nlm_reference.c test_nlm_poisson.c test_nlm_regions.c
  test_nlm_errors.c nlm_test_util.c)
target_link_libraries(blockwise_nlm_tests PRIVATE bw_test_harness)
set(BLOCKWISE_NLM_TESTS
  reference_2d reference_3d poisson_gaussian inverse_constant subregion bands
  strided_views simd_paths extremes errors region_map params_init params_check_halo huge_h)
foreach(t ${BLOCKWISE_NLM_TESTS})
  add_test(NAME nlm.${t} COMMAND blockwise_nlm_tests ${t})
endforeach()

# Quality against scikit-image, and the Poisson-Gaussian path against the
# Gaussian one, through a tool that runs the core on raw files.
add_executable(nlm_tool nlm_tool.c)
target_link_libraries(nlm_tool PRIVATE blockwise_static)
add_test(NAME nlm.quality
  COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_nlm_quality.py
          $<TARGET_FILE:nlm_tool>)
