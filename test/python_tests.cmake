# Tests of the Python binding, all named python.*, one per test class of the
# modules in wrapping/python/tests (their shared code in common.py, the image
# pairs in test/pairs.py), run with Debian's /usr/bin/python3 (python3-numpy,
# python3-dask, python3-distributed, python3-tifffile, python3-skimage,
# python3-openslide) on the package staged in BUILD/python by the target
# blockwise_python.  Oracles: numpy references written in the tests (block
# by block, window by window), scipy.ndimage's uniform_filter, known shifts
# of scikit-image's photographs, the earlier `blockwise` package's test
# cases (test_legacy.py), the C core called directly on the same pixels
# (core_tool), tifffile's and PIL's decoding, scikit-image's colour conversions, and python3-openslide's
# read_region of the slides test/make_slides.py writes (with vips and
# tiffset, libvips-tools and libtiff-tools).
#
# Not under the sanitizers: there the staged library is ASan-instrumented, and
# loading it into an uninstrumented python needs libasan preloaded, which
# python's own allocations and dask's worker processes do not survive
# reliably.  The core itself is tested under the sanitizers by core.*.
if(BLOCKWISE_SANITIZE OR NOT TARGET blockwise_python)
  return()
endif()

find_program(BLOCKWISE_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
# blockwise_python_tests(MODULE GROUP...): one test python.GROUP for each
# test class GROUP of MODULE.
function(blockwise_python_tests module)
  foreach(t ${ARGN})
    add_test(NAME python.${t}
      COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/wrapping/python/tests/${module}
              --core-tool $<TARGET_FILE:core_tool> ${t})
    set_tests_properties(python.${t} PROPERTIES
      ENVIRONMENT "PYTHONPATH=${BLOCKWISE_PYTHON_DIR}:${PROJECT_SOURCE_DIR}/test"
      TIMEOUT 300)
  endforeach()
endfunction()
blockwise_python_tests(test_stats.py import stats corr core_oracle)
blockwise_python_tests(test_views.py leading views errors)
blockwise_python_tests(test_threads.py threads gil nlm_threads)
blockwise_python_tests(test_dask.py dask distributed nlm_dask)
blockwise_python_tests(test_nlm.py nlm nlm_errors)
blockwise_python_tests(test_local.py local local_corr local_dask local_errors)
blockwise_python_tests(test_shift.py shift shift_dask shift_errors)
blockwise_python_tests(test_legacy.py legacy)
if(BLOCKWISE_BUILD_DECONV)
  blockwise_python_tests(test_deconv.py deconv deconv_dask deconv_errors)
endif()
blockwise_python_tests(test_open.py open_pixels open_levels open_channel open_fused
                       open_chunks open_distributed open_errors open_gil)
blockwise_python_tests(test_slide.py slide_pixels slide_composite slide_channel slide_errors)
