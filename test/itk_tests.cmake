# The ITK layer's tests: one executable, each test registered by name.
# ITK translation units compile slowly: the filters' tests compile as one
# unity translation unit and the ImageIO's as another, beside the driver.
set(BLOCKWISE_ITK_FILTER_TEST_SOURCES test_itk_filters.cxx test_itk_params.cxx test_itk_nlm.cxx
  test_itk_local.cxx)
set(BLOCKWISE_ITK_IO_TEST_SOURCES test_itk_io.cxx test_itk_io_errors.cxx test_itk_openslide.cxx
  test_itk_channel.cxx)
# The deconvolution filter, over libblockwise_deconv, against ITK's own
# RichardsonLucyDeconvolutionImageFilter (ITK's FFT modules).
if(BLOCKWISE_BUILD_DECONV)
  list(APPEND BLOCKWISE_ITK_FILTER_TEST_SOURCES test_itk_deconv.cxx)
  find_package(ITK 5.2 REQUIRED COMPONENTS ITKCommon ITKFFT ITKConvolution ITKDeconvolution)
  set(BLOCKWISE_ITK_DECONV_LIBRARIES blockwise_deconv ${ITK_LIBRARIES})
endif()
# libtiff: io_levels writes its pyramid with it; OpenSlide: io_openslide
# compares the ImageIO with OpenSlide's own reads.
find_package(TIFF REQUIRED)
add_executable(blockwise_itk_tests
  test_itk_main.cxx ${BLOCKWISE_ITK_FILTER_TEST_SOURCES} ${BLOCKWISE_ITK_IO_TEST_SOURCES})
target_link_libraries(blockwise_itk_tests PRIVATE blockwise_itk BlockwiseIO blockwise_tiff TIFF::TIFF
  PkgConfig::OPENSLIDE)
if(BLOCKWISE_BUILD_DECONV)
  target_link_libraries(blockwise_itk_tests PRIVATE ${BLOCKWISE_ITK_DECONV_LIBRARIES})
  target_include_directories(blockwise_itk_tests SYSTEM PRIVATE ${ITK_INCLUDE_DIRS})
  target_compile_definitions(blockwise_itk_tests PRIVATE BLOCKWISE_TEST_DECONV)
endif()
set_target_properties(blockwise_itk_tests PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
set_source_files_properties(${BLOCKWISE_ITK_FILTER_TEST_SOURCES} PROPERTIES UNITY_GROUP itk_filters)
set_source_files_properties(${BLOCKWISE_ITK_IO_TEST_SOURCES} PROPERTIES UNITY_GROUP itk_io)

set(BLOCKWISE_ITK_TESTS
  stats_reference corr_reference corr_constant corr_concurrent_inputs binshrink requested_regions
  streaming errors print core_parameters
  nlm_reference nlm_poisson nlm_streaming nlm_requested_region nlm_errors nlm_print
  io_factory io_roundtrip io_streamed_read io_threaded_read io_pipeline io_errors
  io_compression io_levels channel_reference io_rgb io_channel_conversion
  local_box local_corr_reference local_streaming block_shift)
if(BLOCKWISE_BUILD_DECONV)
  list(APPEND BLOCKWISE_ITK_TESTS deconv_itk_reference deconv_streaming deconv_errors deconv_progress)
endif()
foreach(t ${BLOCKWISE_ITK_TESTS})
  add_test(NAME itk.${t} COMMAND blockwise_itk_tests ${t})
  set_tests_properties(itk.${t} PROPERTIES
    ENVIRONMENT BLOCKWISE_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})
endforeach()

# The OpenSlide ImageIO on slides vips and tiffset write (make_slides.py),
# made once by a fixture.
find_program(BLOCKWISE_ITK_VIPS NAMES vips)
find_program(BLOCKWISE_ITK_TIFFSET NAMES tiffset)
set(BLOCKWISE_SLIDES ${CMAKE_CURRENT_BINARY_DIR}/slides)
add_test(NAME itk.slides_setup
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/make_slides.py ${BLOCKWISE_SLIDES}
          ${BLOCKWISE_ITK_VIPS} ${BLOCKWISE_ITK_TIFFSET})
set_tests_properties(itk.slides_setup PROPERTIES FIXTURES_SETUP slides)
add_test(NAME itk.io_openslide COMMAND blockwise_itk_tests io_openslide)
set_tests_properties(itk.io_openslide PROPERTIES
  FIXTURES_REQUIRED slides
  ENVIRONMENT "BLOCKWISE_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR};BLOCKWISE_SLIDES=${BLOCKWISE_SLIDES}")

# The README's example program end to end, with tifffile and numpy as the
# independent writer, reader and oracle.
find_program(BLOCKWISE_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT BLOCKWISE_SYSTEM_PYTHON)
  message(FATAL_ERROR "Tests need /usr/bin/python3 with python3-numpy and "
                      "python3-tifffile (tools/install-deps.sh installs them)")
endif()
add_test(NAME itk.example
  COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_itk_example.py
          $<TARGET_FILE:itk_block_corr>)
