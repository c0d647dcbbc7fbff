/*
 * Headers of images in formats other than TIFF, read with ITK's own ImageIO
 * (NRRD: what 3D Slicer hands its command-line modules).  TIFF headers are
 * read by the TIFF layer in plan.cxx.
 */
#include "plan.h"

#include "itkNrrdImageIO.h"

namespace blockwise_cli
{

bool
IsNrrdPath(const std::string & path)
{
  if (path.size() < 5)
    return false;
  std::string ext = path.substr(path.size() - 5);
  for (char & c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".nrrd";
}

void
ProbeWithITK(const std::string & path, NodeInfo & node)
{
  auto io = itk::NrrdImageIO::New();
  if (!io->CanReadFile(path.c_str()))
    throw RuntimeError(path + ": not a readable NRRD file");
  try
  {
    io->SetFileName(path);
    io->ReadImageInformation();
  }
  catch (const itk::ExceptionObject & e)
  {
    throw RuntimeError(path + ": " + e.GetDescription());
  }
  if (io->GetNumberOfComponents() != 1)
    throw RuntimeError(path + ": " + std::to_string(io->GetNumberOfComponents()) +
                       " components per pixel; only scalar images are supported");
  switch (io->GetComponentType())
  {
    case itk::IOComponentEnum::UCHAR:
      node.dtype = BW_U8;
      break;
    case itk::IOComponentEnum::CHAR:
      node.dtype = BW_I8;
      break;
    case itk::IOComponentEnum::USHORT:
      node.dtype = BW_U16;
      break;
    case itk::IOComponentEnum::SHORT:
      node.dtype = BW_I16;
      break;
    case itk::IOComponentEnum::UINT:
      node.dtype = BW_U32;
      break;
    case itk::IOComponentEnum::INT:
      node.dtype = BW_I32;
      break;
    case itk::IOComponentEnum::FLOAT:
      node.dtype = BW_F32;
      break;
    case itk::IOComponentEnum::DOUBLE:
      node.dtype = BW_F64;
      break;
    default:
      throw RuntimeError(path + ": pixels of type " +
                         itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType()) +
                         " are not supported (8-, 16- and 32-bit integers, float32, float64)");
  }
  // A volume of one slice, as 3D Slicer stores 2-D images, is 2-D here.
  unsigned int ndim = io->GetNumberOfDimensions();
  while (ndim > 2 && io->GetDimensions(ndim - 1) == 1)
    --ndim;
  if (ndim < 2 || ndim > 3)
    throw RuntimeError(path + ": a " + std::to_string(ndim) + "-D image; blockwise works on 2-D and 3-D images");
  node.image = true;
  node.ndim = static_cast<int>(ndim);
  for (unsigned int d = 0; d < ndim; ++d)
  {
    node.shape[ndim - 1 - d] = static_cast<int64_t>(io->GetDimensions(d));
    node.spacing[ndim - 1 - d] = io->GetSpacing(d);
  }
}

} // namespace blockwise_cli
