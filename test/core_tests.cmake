# Tests of the C core's block statistics, all named core.*, in one
# executable: test_core_stats.c (accuracy against a plain reference),
# test_core_regions.c (views, sub-regions, region maps), test_core_errors.c
# (bad input, parameter checks, names), test_core_channel.c (one channel
# from many), test_core_local.c and test_core_local_regions.c (local
# statistics), test_core_shift.c (per-block displacement); core_test_util.c
# their helpers.
add_executable(blockwise_core_tests
  test_core_main.c test_core_stats.c test_core_regions.c test_core_errors.c
  test_core_channel.c test_core_local.c test_core_local_regions.c
  test_core_shift.c core_test_util.c)
target_link_libraries(blockwise_core_tests PRIVATE bw_test_harness)

set(BLOCKWISE_CORE_TESTS
  reference integer_sums_exact float_offset constant_blocks nan_propagation
  subregion strided_views one_pass corr_alone errors region_map pair16
  params_check stat_names output_region
  channel_reference channel_u8_bits channel_luminance_all channel_regions channel_names_errors
  local_reference local_large local_corr_adversarial local_float_offset
  local_subregion local_region_map local_errors
  shift_known shift_identical shift_brute_force shift_subregion shift_pruning shift_ties
  shift_region_map shift_errors)
foreach(t ${BLOCKWISE_CORE_TESTS})
  add_test(NAME core.${t} COMMAND blockwise_core_tests ${t})
endforeach()

# The same accuracy and path tests with the portable C loops and the AVX2
# loops instead of the widest ones the CPU has: every implementation must
# give the same bits.  (An AVX2 run on a CPU without AVX2 tests the portable
# loops again.)
foreach(simd portable avx2)
  foreach(t reference subregion one_pass corr_alone pair16 shift_known shift_brute_force shift_subregion
            shift_pruning shift_ties channel_luminance_all)
    add_test(NAME core.${t}_${simd} COMMAND blockwise_core_tests ${t})
    set_tests_properties(core.${t}_${simd} PROPERTIES ENVIRONMENT BLOCKWISE_SIMD=${simd})
  endforeach()
endforeach()

# Displacement on scikit-image's photographs moved by Fourier shifts
# (test_shift_photo.py, with scipy), through a tool that runs the core on
# raw files.
add_executable(shift_tool shift_tool.c)
target_link_libraries(shift_tool PRIVATE blockwise_static)
find_program(BLOCKWISE_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(BLOCKWISE_SYSTEM_PYTHON)
  add_test(NAME core.shift_photo
    COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_shift_photo.py
            $<TARGET_FILE:shift_tool>)
endif()
