/*=========================================================================
 *
 *  Blockwise
 *
 *=========================================================================*/
#ifndef itkBlockwiseOpenSlideImageIO_h
#define itkBlockwiseOpenSlideImageIO_h

#include "BlockwiseExport.h"
#include "itkImageIOBase.h"

#include <string>

// OpenSlide's handle, declared here so that users of this header need not
// have OpenSlide's.
typedef struct _openslide openslide_t;

namespace itk
{

/** \class BlockwiseOpenSlideImageIO
 * \brief Streams whole-slide images in the vendor formats OpenSlide reads
 * (Aperio .svs, Hamamatsu .ndpi .vms .vmu, 3DHISTECH .mrxs, Leica .scn,
 * Ventana .bif), one requested region at a time.
 *
 * An image is one level of the slide (SetLevel(); 0, the default, is full
 * resolution), 2-D, of RGB pixels of unsigned char.  Reads stream: each
 * Read() asks OpenSlide for exactly the region ITK requested, at the chosen
 * level, in bands of rows read on ITK's threads (OpenSlide's handles may be
 * shared by threads).  OpenSlide gives premultiplied ARGB; pixels are
 * composited on the slide's background colour (openslide.background-color,
 * white when the slide states none), so areas the scanner did not image
 * read as that colour, as OpenSlide's own viewers show them.
 *
 * A region of a level starts at level-0 pixel round(x * downsample), the
 * coordinates openslide_read_region() takes, as OpenSlide's own tools
 * address levels.  At levels whose downsample is a whole number this is
 * exactly pixel x of the level; at others OpenSlide renders the level at
 * the sub-pixel offset that rounding leaves.
 *
 * Spacing is openslide.mpp-x and openslide.mpp-y (micrometres per pixel of
 * level 0) in millimetres, times the level's downsample; a slide that
 * states no pixel size has spacing 1 (HasPhysicalSpacing() says which).
 *
 * Plain TIFF files (.tif, .tiff) are left to BlockwiseTIFFImageIO, which
 * reads them without OpenSlide; this IO does not write.  A file OpenSlide
 * does not recognise, or fails to read, throws an itk::ExceptionObject
 * carrying OpenSlide's own message.
 *
 * Register it with BlockwiseTIFFImageIOFactory::RegisterOneFactory(),
 * which registers both of Blockwise's ImageIOs.
 *
 * \ingroup Blockwise
 */
class Blockwise_EXPORT BlockwiseOpenSlideImageIO : public ImageIOBase
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(BlockwiseOpenSlideImageIO);

  using Self = BlockwiseOpenSlideImageIO;
  using Superclass = ImageIOBase;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  itkNewMacro(Self);
  itkTypeMacro(BlockwiseOpenSlideImageIO, ImageIOBase);

  /** The level to read: 0 (the default) is full resolution; a level the
   * slide lacks throws when the image information is read. */
  itkSetMacro(Level, unsigned int);
  itkGetConstMacro(Level, unsigned int);

  /** Levels of the slide, once ReadImageInformation() has run; 0 before. */
  itkGetConstMacro(NumberOfLevels, unsigned int);

  /** The level's downsample (level-0 pixels per pixel), as OpenSlide
   * reports it, once ReadImageInformation() has run. */
  itkGetConstMacro(Downsample, double);

  /** Size (x, y) and downsample of level @level (0 to
   * GetNumberOfLevels() - 1) of the slide, once ReadImageInformation() has
   * run; throws for a level the slide lacks. */
  void
  GetLevelInformation(unsigned int level, SizeValueType size[2], double & downsample) const;

  /** Whether the slide states its pixel size (openslide.mpp-x and -y). */
  itkGetConstMacro(HasPhysicalSpacing, bool);

  /** The slide's vendor as OpenSlide names it ("aperio", "hamamatsu", ...),
   * once ReadImageInformation() has run. */
  const std::string &
  GetVendor() const
  {
    return m_Vendor;
  }

  /** The file extensions this IO claims: .svs .ndpi .mrxs .scn .bif .vms
   * .vmu (any case). */
  static bool
  HasSlideExtension(const char * fileName);

  bool
  SupportsDimension(unsigned long dim) override
  {
    return dim == 2;
  }

  bool
  CanReadFile(const char * fileName) override;
  void
  ReadImageInformation() override;
  void
  Read(void * buffer) override;

  /** Streams: ITK's requested region is read as it is. */
  bool
  CanStreamRead() override
  {
    return true;
  }

  ImageIORegion
  GenerateStreamableReadRegionFromRequestedRegion(const ImageIORegion & requested) const override;

  bool
  CanWriteFile(const char *) override
  {
    return false;
  }
  void
  WriteImageInformation() override
  {}
  void
  Write(const void *) override;

protected:
  BlockwiseOpenSlideImageIO();
  ~BlockwiseOpenSlideImageIO() override;

  void
  PrintSelf(std::ostream & os, Indent indent) const override;

private:
  /** Opens m_FileName (unless open); throws with OpenSlide's message. */
  void
  OpenSlide();
  void
  CloseSlide();

  openslide_t * m_Slide{ nullptr };
  std::string   m_SlideFileName;
  unsigned int  m_Level{ 0 };
  unsigned int  m_NumberOfLevels{ 0 };
  double        m_Downsample{ 1.0 };
  bool          m_HasPhysicalSpacing{ false };
  std::string   m_Vendor;
  unsigned char m_Background[3]{ 255, 255, 255 };
};

} // namespace itk

#endif
