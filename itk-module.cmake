# ITK module description, used when Blockwise is built inside an ITK source
# tree (Modules/Remote) or against an ITK that ships ITKModuleExternal.cmake.
get_filename_component(MY_CURRENT_DIR "${CMAKE_CURRENT_LIST_FILE}" PATH)
file(READ "${MY_CURRENT_DIR}/README.md" DOCUMENTATION)

itk_module(Blockwise
  DEPENDS
    ITKCommon
    ITKIOImageBase
  TEST_DEPENDS
    ITKTestKernel
    ITKImageGrid
  FACTORY_NAMES
    ImageIO::BlockwiseTIFF
  DESCRIPTION
    "${DOCUMENTATION}"
  EXCLUDE_FROM_DEFAULT
  ENABLE_SHARED
)
