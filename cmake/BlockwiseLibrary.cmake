# blockwise_add_library(NAME SOURCES src...)
#
# One C library of the project, as every layer below the ITK filters builds
# it: the sources compiled once into NAME_objects (position-independent,
# symbols hidden unless marked BW_API, BW_BUILDING defined), linked into a
# shared NAME and a static NAME_static (same file name), both exposing the
# public headers in include/.  Callers add their own dependencies to
# NAME_objects (compile) and to NAME / NAME_static (link).
function(blockwise_add_library name)
  cmake_parse_arguments(arg "" "" "SOURCES" ${ARGN})
  add_library(${name}_objects OBJECT ${arg_SOURCES})
  set_target_properties(${name}_objects PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden)
  target_include_directories(${name}_objects PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name}_objects PRIVATE BW_BUILDING)

  add_library(${name} SHARED $<TARGET_OBJECTS:${name}_objects>)
  add_library(${name}_static STATIC $<TARGET_OBJECTS:${name}_objects>)
  set_target_properties(${name}_static PROPERTIES OUTPUT_NAME ${name})
  set_target_properties(${name} PROPERTIES
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
  foreach(t ${name} ${name}_static)
    target_include_directories(${t} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:include>)
  endforeach()
  target_compile_definitions(${name} INTERFACE BW_SHARED)

  if(NOT BLOCKWISE_ITK_MODULE)
    include(GNUInstallDirs)
    install(TARGETS ${name} ${name}_static
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  endif()
endfunction()
