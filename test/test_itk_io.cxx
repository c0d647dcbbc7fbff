/*
 * Tests of the streaming TIFF ImageIO through itk::ImageFileReader/Writer.
 */
#include "test_itk.h"

const blockwise_test::Entry blockwise_test::io_tests[] = {
  { nullptr, nullptr },
};
