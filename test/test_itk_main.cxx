/*
 * blockwise_itk_tests [NAME...]: runs the named tests of the ITK layer, or
 * all of them.  Exit status 0 when every check passed.
 */
#include "test_itk.h"

#include "itkMacro.h"

#include <cstring>
#include <iostream>

int blockwise_test::failures = 0;

namespace
{
bool
run(const blockwise_test::Entry & e)
{
  const int before = blockwise_test::failures;
  try
  {
    e.run();
  }
  catch (const itk::ExceptionObject & ex)
  {
    std::cerr << e.name << ": unexpected itk::ExceptionObject: " << ex << std::endl;
    ++blockwise_test::failures;
  }
  catch (const std::exception & ex)
  {
    std::cerr << e.name << ": unexpected exception: " << ex.what() << std::endl;
    ++blockwise_test::failures;
  }
  std::cerr << (blockwise_test::failures == before ? "PASS " : "FAIL ") << e.name << std::endl;
  return blockwise_test::failures == before;
}
} // namespace

int
main(int argc, char ** argv)
{
  const blockwise_test::Entry * tables[] = { blockwise_test::filter_tests, blockwise_test::param_tests,
                                              blockwise_test::nlm_tests,    blockwise_test::io_tests,
                                              blockwise_test::io_error_tests, blockwise_test::openslide_tests,
                                              blockwise_test::channel_tests, blockwise_test::local_tests
#ifdef BLOCKWISE_TEST_DECONV
                                              ,
                                              blockwise_test::deconv_tests
#endif
  };
  int                           matched = 0;
  for (const auto * table : tables)
  {
    for (const auto * e = table; e->name; ++e)
    {
      bool wanted = argc < 2;
      for (int i = 1; i < argc; ++i)
        wanted = wanted || std::strcmp(argv[i], e->name) == 0;
      if (wanted)
      {
        ++matched;
        run(*e);
      }
    }
  }
  if (matched < argc - 1 || matched == 0)
  {
    std::cerr << "blockwise_itk_tests: unknown test name" << std::endl;
    return 2;
  }
  return blockwise_test::failures ? 1 : 0;
}
