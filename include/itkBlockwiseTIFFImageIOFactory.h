/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockwiseTIFFImageIOFactory_h
#define itkBlockwiseTIFFImageIOFactory_h

#include "BlockwiseExport.h"
#include "itkObjectFactoryBase.h"

namespace itk
{

/** \class BlockwiseTIFFImageIOFactory
 * \brief Makes itk::ImageFileReader and itk::ImageFileWriter use
 * BlockwiseTIFFImageIO for .tif and .tiff files, and ImageFileReader
 * BlockwiseOpenSlideImageIO for whole-slide files (.svs .ndpi .mrxs .scn
 * .bif .vms .vmu).
 *
 * RegisterOneFactory() puts it in front of the factories already registered
 * (ITK's own TIFFImageIO among them), once however often it is called.
 *
 * \ingroup Blockwise
 */
class Blockwise_EXPORT BlockwiseTIFFImageIOFactory : public ObjectFactoryBase
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockwiseTIFFImageIOFactory);

  using Self = BlockwiseTIFFImageIOFactory;
  using Superclass = ObjectFactoryBase;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  const char *
  GetITKSourceVersion() const override;
  const char *
  GetDescription() const override;

  itkFactorylessNewMacro(Self);
  itkTypeMacro(BlockwiseTIFFImageIOFactory, ObjectFactoryBase);

  /** Registers the factory ahead of the others (idempotent). */
  static void
  RegisterOneFactory();

protected:
  BlockwiseTIFFImageIOFactory();
  ~BlockwiseTIFFImageIOFactory() override = default;
};

} // namespace itk

#endif
