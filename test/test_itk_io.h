/*
 * What the tests of the TIFF ImageIO share: scratch folders, test images
 * and their comparison, and reads through itk::ImageFileReader.
 */
#ifndef BLOCKWISE_TEST_ITK_IO_H
#define BLOCKWISE_TEST_ITK_IO_H

#include "itkBlockwiseTIFFImageIOFactory.h"

#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageRegionIterator.h"

#include "test_itk.h"

#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace blockwise_test
{

/* A fresh, empty folder for one test's files. */
inline std::string
scratchDir(const char * name)
{
  const char * base = std::getenv("BLOCKWISE_TEST_TMP");
  std::string  dir = std::string(base ? base : "/tmp") + "/bw_itk_io_" + name + "_" + std::to_string(getpid());
  const std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0)
    std::abort();
  return dir;
}

/* What a test of this IO starts with: the IO registered with ITK's factory
 * (in front of the others, once only) and a fresh folder for its files. */
inline std::string
ioTestDir(const char * name)
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  return scratchDir(name);
}

/* The names in folder `dir`, but for . and .. */
inline std::vector<std::string>
listDir(const std::string & dir)
{
  std::vector<std::string> names;
  if (DIR * d = opendir(dir.c_str()))
  {
    while (dirent * e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

/* The size of file `path` in bytes, -1 when there is none. */
inline long long
fileSize(const std::string & path)
{
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

/* An image whose pixel values cover the type's range, with spacing. */
template <typename TImage>
typename TImage::Pointer
makeImage(const typename TImage::SizeType & size, uint64_t seed)
{
  using P = typename TImage::PixelType;
  auto img = TImage::New();
  img->SetRegions(size);
  img->Allocate();
  typename TImage::SpacingType sp;
  for (unsigned int d = 0; d < TImage::ImageDimension; ++d)
    sp[d] = 0.25 + 0.5 * d + 0.001 * static_cast<double>(seed);
  img->SetSpacing(sp);
  uint64_t h = seed;
  for (itk::ImageRegionIterator<TImage> it(img, img->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    h = mix(h);
    P v;
    if (std::is_floating_point<P>::value)
      v = static_cast<P>((static_cast<double>(h >> 11) / 9007199254740992.0 - 0.5) * 1e6);
    else
      std::memcpy(&v, &h, sizeof v);
    it.Set(v);
  }
  return img;
}

/* The same size and the same bytes in every pixel. */
template <typename TImage>
bool
samePixels(const TImage * a, const TImage * b)
{
  if (a->GetLargestPossibleRegion().GetSize() != b->GetLargestPossibleRegion().GetSize())
    return false;
  itk::ImageRegionConstIterator<TImage> ia(a, a->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<TImage> ib(b, b->GetLargestPossibleRegion());
  for (; !ia.IsAtEnd(); ++ia, ++ib)
  {
    const auto x = ia.Get(), y = ib.Get();
    if (std::memcmp(&x, &y, sizeof x) != 0)
      return false;
  }
  return true;
}

/* The image in `path`, through ImageFileReader (the factory picks the IO). */
template <typename TImage>
typename TImage::Pointer
readImage(const std::string & path)
{
  auto reader = itk::ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

} // namespace blockwise_test

#endif
