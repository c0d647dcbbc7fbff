# Tests of the Python binding, all named python.*, one per test class of
# wrapping/python/tests/test_blockwise.py, run with Debian's /usr/bin/python3
# (python3-numpy, python3-dask, python3-distributed, python3-tifffile) on the
# package staged in BUILD/python by the target blockwise_python.  Oracles:
# numpy references written in the tests, and the C core called directly on
# the same pixels (core_tool).
#
# Not under the sanitizers: there the staged library is ASan-instrumented, and
# loading it into an uninstrumented python needs libasan preloaded, which
# python's own allocations and dask's worker processes do not survive
# reliably.  The core itself is tested under the sanitizers by core.*.
if(BLOCKWISE_SANITIZE OR NOT TARGET blockwise_python)
  return()
endif()

find_program(BLOCKWISE_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
set(BLOCKWISE_PYTHON_TESTS
  import stats corr core_oracle leading views errors threads gil dask distributed
  nlm nlm_threads nlm_dask nlm_errors)
foreach(t ${BLOCKWISE_PYTHON_TESTS})
  add_test(NAME python.${t}
    COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${PROJECT_SOURCE_DIR}/wrapping/python/tests/test_blockwise.py
            --core-tool $<TARGET_FILE:core_tool> ${t})
  set_tests_properties(python.${t} PROPERTIES
    ENVIRONMENT "PYTHONPATH=${BLOCKWISE_PYTHON_DIR}"
    TIMEOUT 300)
endforeach()
