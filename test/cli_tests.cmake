# The `blockwise` command, end to end, with the C core (core_tool), numpy,
# tifffile and PIL as oracles.  Exit status 77: could not run here (skipped).
add_executable(core_tool core_tool.c)
target_link_libraries(core_tool PRIVATE blockwise_tiff_static)

set(BLOCKWISE_CLI_TESTS corr stats denoise info heatmap demo run pipeline_errors errors full_disk slicer progress interrupt summaries)
foreach(t ${BLOCKWISE_CLI_TESTS})
  add_test(NAME cli.${t}
    COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.py
            $<TARGET_FILE:blockwise_cli> $<TARGET_FILE:core_tool> $<TARGET_FILE:demo_pair>
            ${PROJECT_SOURCE_DIR}/examples/pipelines ${t})
  set_tests_properties(cli.${t} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

# --memory really bounds memory: peak RSS on a 256 MiB pair.  Not under the
# sanitizers, whose shadow memory and quarantine are not the program's.
if(NOT BLOCKWISE_SANITIZE)
  add_test(NAME cli.memory
    COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.py
            $<TARGET_FILE:blockwise_cli> $<TARGET_FILE:core_tool> $<TARGET_FILE:demo_pair>
            ${PROJECT_SOURCE_DIR}/examples/pipelines memory)
endif()
