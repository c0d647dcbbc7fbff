# The ITK layer's tests: one executable (ITK translation units compile
# slowly), each test registered by name.
add_executable(blockwise_itk_tests
  test_itk_main.cxx test_itk_filters.cxx test_itk_io.cxx)
target_link_libraries(blockwise_itk_tests PRIVATE blockwise_itk BlockwiseIO)

set(BLOCKWISE_ITK_TESTS
  stats_reference corr_reference corr_constant binshrink requested_regions
  streaming errors print
  io_factory io_roundtrip io_streamed_read io_pipeline io_errors)
foreach(t ${BLOCKWISE_ITK_TESTS})
  add_test(NAME itk.${t} COMMAND blockwise_itk_tests ${t})
  set_tests_properties(itk.${t} PROPERTIES
    ENVIRONMENT BLOCKWISE_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})
endforeach()

