# Tests of the TIFF layer (libblockwise_tiff), all named tiff.*:
#   tiff.NAME           the C tests in test_tiff_*.c, one per test
#   tiff.interop.CLASS  test_tiff_interop.py, test_tiff_color.py and
#                       test_tiff_meta.py against tifffile, tiffcp,
#                       tiffinfo, vips and PIL, one per test class
#   tiff.fuzz           a libFuzzer run of the reader (clang), fixed inputs
# A missing tool makes its tests fail with a message; nothing is skipped.

# test_tiff_write.c (the writer), test_tiff_read.c (partial reads, the
# cache), test_tiff_band.c (the band unit), test_tiff_crafted.c (files
# built byte by byte, truncated, mutated), test_tiff_meta.c (OME-XML,
# ImageJ hyperstacks, units: it calls the layer's internal parser, hence
# io/ among its include folders); tiff_test_util.c their helpers.
add_executable(blockwise_tiff_tests
  test_tiff_main.c test_tiff_write.c test_tiff_read.c test_tiff_band.c test_tiff_crafted.c
  test_tiff_meta.c tiff_test_util.c)
target_link_libraries(blockwise_tiff_tests PRIVATE blockwise_tiff_static bw_test_harness)
target_include_directories(blockwise_tiff_tests PRIVATE ${PROJECT_SOURCE_DIR}/io)

# Test-only command line over bw_tiff.h, for the Python tests and the seeds.
add_executable(tiff_tool tiff_tool.c)
target_link_libraries(tiff_tool PRIVATE blockwise_tiff_static)

set(BLOCKWISE_TIFF_TMPDIR ${CMAKE_CURRENT_BINARY_DIR}/tiff_tmp)

set(BLOCKWISE_TIFF_TESTS
  roundtrip write_channels write_regions subregions partial_counters page_jumps byte_orders
  fill_order reduced_pages spacing_tags bad_files truncated mutations
  spacing_roundtrip bigtiff writer_params writer_sequence writer_io_failure
  reader_errors tags single_page_volume unsupported decode_cache band_unit
  compression_names ome_parse ome_malformed ome_hostile units meta_hyperstacks
  meta_channel_names)
foreach(t ${BLOCKWISE_TIFF_TESTS})
  add_test(NAME tiff.${t} COMMAND blockwise_tiff_tests ${t})
  set_tests_properties(tiff.${t} PROPERTIES
    ENVIRONMENT "BW_TEST_TMPDIR=${BLOCKWISE_TIFF_TMPDIR}")
endforeach()

# Tools of other software.  Debian's python3-numpy and python3-tifffile
# install for /usr/bin/python3, not for other interpreters on PATH.
find_program(BLOCKWISE_SYSTEM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(BLOCKWISE_TIFFCP NAMES tiffcp)
find_program(BLOCKWISE_TIFFINFO NAMES tiffinfo)
find_program(BLOCKWISE_CLANG NAMES clang clang-14)
find_program(BLOCKWISE_BASH NAMES bash)

# A test that fails, naming what is missing.
set(BLOCKWISE_TIFF_MISSING ${CMAKE_CURRENT_BINARY_DIR}/tiff_missing_tool.cmake)
file(WRITE ${BLOCKWISE_TIFF_MISSING}
  "message(FATAL_ERROR \"\${WHAT} was not found when CMake ran; \"\n"
  "  \"install it (tools/install-deps.sh) and configure again\")\n")
function(blockwise_tiff_missing name what)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -DWHAT=${what} -P ${BLOCKWISE_TIFF_MISSING})
endfunction()

find_program(BLOCKWISE_VIPS NAMES vips)
# test_tiff_interop.py: grey images; test_tiff_color.py: the other pixel
# formats; test_tiff_levels.py: pyramids (both also need vips);
# test_tiff_meta.py: spacing, units and axes of ImageJ, OME-TIFF and plain
# files.  An entry "file:Class" is class Class of test_tiff_<file>.py.
set(BLOCKWISE_TIFF_INTEROP_CLASSES
  ReadTifffile ReadTiffcp PartialRead WrittenByBlockwise BadFiles
  color:Channels color:Jpeg color:Palette color:Samples color:Converted
  levels:Pyramid
  meta:ImageJ meta:Ome meta:Plain)
foreach(entry ${BLOCKWISE_TIFF_INTEROP_CLASSES})
  if(entry MATCHES "^([a-z]+):(.*)$")
    set(c ${CMAKE_MATCH_2})
    set(script test_tiff_${CMAKE_MATCH_1}.py)
  else()
    set(c ${entry})
    set(script test_tiff_interop.py)
  endif()
  set(name tiff.interop.${c})
  if(NOT BLOCKWISE_SYSTEM_PYTHON3)
    blockwise_tiff_missing(${name} "/usr/bin/python3 (with python3-numpy, python3-tifffile)")
  elseif(NOT BLOCKWISE_TIFFCP OR NOT BLOCKWISE_TIFFINFO)
    blockwise_tiff_missing(${name} "tiffcp/tiffinfo (libtiff-tools)")
  else()
    add_test(NAME ${name}
      COMMAND ${BLOCKWISE_SYSTEM_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/${script} ${c})
    set_tests_properties(${name} PROPERTIES
      TIMEOUT 900
      ENVIRONMENT
        "BW_TIFF_TOOL=$<TARGET_FILE:tiff_tool>;BW_TIFFCP=${BLOCKWISE_TIFFCP};BW_TIFFINFO=${BLOCKWISE_TIFFINFO};BW_VIPS=${BLOCKWISE_VIPS};BW_TEST_TMPDIR=${BLOCKWISE_TIFF_TMPDIR}")
  endif()
endforeach()

# The reader under libFuzzer for a fixed number of inputs from a fixed seed
# (no clock in the verdict), built by the script with clang (whatever
# compiler builds the rest), with libdeflate when the library has it; seeds
# written at run time.
if(NOT BLOCKWISE_CLANG)
  blockwise_tiff_missing(tiff.fuzz "clang (with libclang-rt-14-dev for libFuzzer)")
elseif(NOT BLOCKWISE_TIFFCP OR NOT BLOCKWISE_BASH)
  blockwise_tiff_missing(tiff.fuzz "tiffcp (libtiff-tools) or bash")
else()
  add_test(NAME tiff.fuzz
    COMMAND ${BLOCKWISE_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh
      ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/tiff_fuzz
      $<TARGET_FILE:tiff_tool> ${BLOCKWISE_TIFFCP} ${BLOCKWISE_CLANG} 200000
      "$<$<BOOL:${BLOCKWISE_HAVE_LIBDEFLATE}>:${BLOCKWISE_LIBDEFLATE_LIBRARY}>"
      "$<$<BOOL:${BLOCKWISE_HAVE_LIBDEFLATE}>:${BLOCKWISE_LIBDEFLATE_INCLUDE_DIR}>")
  set_tests_properties(tiff.fuzz PROPERTIES TIMEOUT 600)
endif()
