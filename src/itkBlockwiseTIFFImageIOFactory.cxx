/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#include "itkBlockwiseTIFFImageIOFactory.h"
#include "itkBlockwiseOpenSlideImageIO.h"
#include "itkBlockwiseTIFFImageIO.h"

#include "itkVersion.h"

#include <mutex>

namespace itk
{

/* ------------------------------------------------------------------------ */
/* Factory                                                                  */
/* ------------------------------------------------------------------------ */

BlockwiseTIFFImageIOFactory::BlockwiseTIFFImageIOFactory()
{
  this->RegisterOverride("itkImageIOBase",
                         "itkBlockwiseTIFFImageIO",
                         "Blockwise streaming TIFF IO",
                         true,
                         CreateObjectFunction<BlockwiseTIFFImageIO>::New());
  this->RegisterOverride("itkImageIOBase",
                         "itkBlockwiseOpenSlideImageIO",
                         "Blockwise streaming whole-slide IO (OpenSlide)",
                         true,
                         CreateObjectFunction<BlockwiseOpenSlideImageIO>::New());
}

const char *
BlockwiseTIFFImageIOFactory::GetITKSourceVersion() const
{
  return ITK_SOURCE_VERSION;
}

const char *
BlockwiseTIFFImageIOFactory::GetDescription() const
{
  return "Blockwise streaming TIFF and whole-slide ImageIO factory";
}

void
BlockwiseTIFFImageIOFactory::RegisterOneFactory()
{
  static std::once_flag once;
  std::call_once(once, [] {
    ObjectFactoryBase::RegisterFactory(BlockwiseTIFFImageIOFactory::New(),
                                       ObjectFactoryEnums::InsertionPosition::INSERT_AT_FRONT);
  });
}

// Registration hook for ITK module builds, whose IO factory manager calls
// <Name>FactoryRegister__Private() for the factories itk-module.cmake names.
void Blockwise_EXPORT
     BlockwiseTIFFImageIOFactoryRegister__Private()
{
  BlockwiseTIFFImageIOFactory::RegisterOneFactory();
}
} // namespace itk
