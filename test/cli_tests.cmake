# The `blockwise` command, end to end, with the C core (core_tool), numpy,
# tifffile and PIL as oracles: test_cli_commands.py (the subcommands),
# test_cli_pipelines.py (pipeline files and the Slicer modules),
# test_cli_process.py (failures, signals, the terminal, memory),
# test_cli_slides.py (RGB and multichannel inputs, scikit-image), on what
# cli_common.py and pairs.py share.  Exit status 77: could not run here
# (skipped).
add_executable(core_tool core_tool.c)
target_link_libraries(core_tool PRIVATE blockwise_tiff_static)

# blockwise_cli_tests(MODULE TEST...): one test cli.TEST for each function
# test_TEST of MODULE.
function(blockwise_cli_tests module)
  foreach(t ${ARGN})
    add_test(NAME cli.${t}
      COMMAND ${BLOCKWISE_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/${module}
              $<TARGET_FILE:blockwise_cli> $<TARGET_FILE:core_tool> $<TARGET_FILE:demo_pair>
              ${PROJECT_SOURCE_DIR}/examples/pipelines ${t})
    set_tests_properties(cli.${t} PROPERTIES SKIP_RETURN_CODE 77)
  endforeach()
endfunction()
blockwise_cli_tests(test_cli_commands.py corr stats denoise info info_spacing heatmap demo local shift)
if(BLOCKWISE_BUILD_DECONV)
  blockwise_cli_tests(test_cli_commands.py deconvolve)
endif()
blockwise_cli_tests(test_cli_pipelines.py run pipeline_errors summaries slicer)
blockwise_cli_tests(test_cli_process.py errors full_disk progress interrupt)
blockwise_cli_tests(test_cli_slides.py rgb_corr jpeg_slide tiled_pass levels openslide channels)

# --memory really bounds memory: peak RSS on a 256 MiB pair.  Not under the
# sanitizers, whose shadow memory and quarantine are not the program's.
if(NOT BLOCKWISE_SANITIZE)
  blockwise_cli_tests(test_cli_process.py memory)
endif()
