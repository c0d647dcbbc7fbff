# Tests of Richardson-Lucy deconvolution (libblockwise_deconv), all named
# deconv.*, in one executable: test_deconv.c, against a spatial-domain
# Richardson-Lucy written in the test.
add_executable(blockwise_deconv_tests test_deconv.c)
target_link_libraries(blockwise_deconv_tests PRIVATE blockwise_deconv_static bw_test_harness)
foreach(t reference boundaries pieces errors progress tv)
  add_test(NAME deconv.${t} COMMAND blockwise_deconv_tests ${t})
endforeach()
