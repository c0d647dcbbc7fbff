/*
 * The OpenSlide ImageIO through itk::ImageFileReader: levels, streamed
 * reads, spacing and errors, on the slides make_slides.py writes (vips and
 * tiffset; OpenSlide recognises them as Aperio and generic TIFF).
 *
 * Oracle: OpenSlide's own openslide_read_region() of the same region and
 * level, composited here by a plain loop (the slides are opaque: the
 * colour is the pixel), and a whole read against a streamed one.
 */
#include "itkBlockwiseOpenSlideImageIO.h"

#include "itkImageFileReader.h"
#include "itkRGBPixel.h"
#include "itkStreamingImageFilter.h"

#include "test_itk_io.h"

#include <openslide/openslide.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace
{

using namespace blockwise_test;
using RGBImage = itk::Image<itk::RGBPixel<unsigned char>, 2>;

std::string
slidePath(const char * name)
{
  // Set by CTest, to the fixture's folder.
  const char * dir = std::getenv("BLOCKWISE_SLIDES");
  return std::string(dir ? dir : "BLOCKWISE_SLIDES-is-not-set") + "/" + name;
}

RGBImage::Pointer
readSlide(const std::string & path, unsigned int level, unsigned int divisions, itk::ImageIOBase::Pointer * ioOut)
{
  auto io = itk::BlockwiseOpenSlideImageIO::New();
  io->SetLevel(level);
  auto reader = itk::ImageFileReader<RGBImage>::New();
  reader->SetFileName(path);
  reader->SetImageIO(io);
  auto streamer = itk::StreamingImageFilter<RGBImage, RGBImage>::New();
  streamer->SetInput(reader->GetOutput());
  streamer->SetNumberOfStreamDivisions(divisions);
  streamer->Update();
  if (ioOut)
    *ioOut = io.GetPointer();
  RGBImage::Pointer out = streamer->GetOutput();
  out->DisconnectPipeline();
  return out;
}

void
test_io_openslide()
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  // The Aperio slide, and the generic tiled TIFF (a .tif, which the factory
  // leaves to the TIFF IO, read here through this IO explicitly).
  for (const char * name : { "generic.tif", "aperio.svs" })
  {
  const std::string svs = slidePath(name);
  const bool        aperio = std::string(name) == "aperio.svs";
  openslide_t *     slide = openslide_open(svs.c_str());
  CHECK(slide != nullptr && openslide_get_error(slide) == nullptr, "OpenSlide cannot open %s", svs.c_str());
  if (slide == nullptr)
    return;
  const int32_t levels = openslide_get_level_count(slide);
  // Every level: those past 2 have downsamples that are not whole numbers
  // (8.03, 16.1), where a band read from anywhere but an exact level-0
  // coordinate comes out resampled.
  for (int32_t level = 0; level < levels; ++level)
  for (unsigned int divisions : { 3u, 7u })
  {
    itk::ImageIOBase::Pointer base;
    const RGBImage::Pointer   streamed = readSlide(svs, static_cast<unsigned int>(level), divisions, &base);
    const RGBImage::Pointer   whole = readSlide(svs, static_cast<unsigned int>(level), 1, nullptr);
    auto *                    io = dynamic_cast<itk::BlockwiseOpenSlideImageIO *>(base.GetPointer());
    CHECK(io->GetNumberOfLevels() == static_cast<unsigned int>(levels), "%u levels, OpenSlide says %d",
          io->GetNumberOfLevels(), levels);
    CHECK(io->GetVendor() == (aperio ? "aperio" : "generic-tiff"), "vendor %s", io->GetVendor().c_str());
    CHECK(io->GetHasPhysicalSpacing() == aperio, "%s: physical spacing %d", name, io->GetHasPhysicalSpacing());
    int64_t w = 0, h = 0;
    openslide_get_level_dimensions(slide, level, &w, &h);
    const auto size = streamed->GetLargestPossibleRegion().GetSize();
    CHECK(static_cast<int64_t>(size[0]) == w && static_cast<int64_t>(size[1]) == h, "level %d: %lu x %lu, OpenSlide %ld x %ld",
          level, size[0], size[1], static_cast<long>(w), static_cast<long>(h));
    const double ds = openslide_get_level_downsample(slide, level);
    for (unsigned int d = 0; d < 2; ++d)
      CHECK(std::fabs(streamed->GetSpacing()[d] - (aperio ? 0.499e-3 * ds : 1.0)) < 1e-15, "level %d: spacing %g",
            level, streamed->GetSpacing()[d]);
    std::vector<uint32_t> argb(static_cast<size_t>(w * h));
    openslide_read_region(slide, argb.data(), 0, 0, level, w, h);
    CHECK(openslide_get_error(slide) == nullptr, "OpenSlide's read failed");
    long differ = 0, streamedDiffer = 0, opaque = 0;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
      {
        const uint32_t             p = argb[static_cast<size_t>(y * w + x)];
        const RGBImage::IndexType  idx = { { x, y } };
        const auto                 got = streamed->GetPixel(idx);
        opaque += (p >> 24) == 255;
        differ += got[0] != ((p >> 16) & 0xff) || got[1] != ((p >> 8) & 0xff) || got[2] != (p & 0xff);
        streamedDiffer += got != whole->GetPixel(idx);
      }
    CHECK(opaque == w * h, "level %d: %ld of %ld pixels opaque", level, opaque, static_cast<long>(w * h));
    CHECK(differ == 0, "level %d: %ld pixels differ from OpenSlide's", level, differ);
    CHECK(streamedDiffer == 0, "level %d: %ld pixels of the read in %u pieces differ from the whole read", level,
          streamedDiffer, divisions);
  }
  openslide_close(slide);
  }
  const std::string svs = slidePath("aperio.svs");
  int32_t           levels = 0;
  {
    openslide_t * slide = openslide_open(svs.c_str());
    levels = openslide_get_level_count(slide);
    openslide_close(slide);
  }

  // The factory picks the IO by the name; broken slides throw with
  // OpenSlide's message.
  auto reader = itk::ImageFileReader<RGBImage>::New();
  reader->SetFileName(svs);
  reader->UpdateOutputInformation();
  CHECK(dynamic_cast<itk::BlockwiseOpenSlideImageIO *>(reader->GetImageIO()) != nullptr, "the factory chose %s",
        reader->GetImageIO()->GetNameOfClass());
  auto io = itk::BlockwiseOpenSlideImageIO::New();
  io->SetLevel(static_cast<unsigned int>(levels));
  auto bad = itk::ImageFileReader<RGBImage>::New();
  bad->SetFileName(svs);
  bad->SetImageIO(io);
  expectThrow("a level past the last", [&] { bad->Update(); },
              { "level " + std::to_string(levels) + " does not exist", "levels 0 to " + std::to_string(levels - 1) });
  for (const auto & c : std::vector<std::pair<const char *, const char *>>{
         { "corrupt.svs", "Not a JPEG file" },
         { "truncated.svs", "not a slide OpenSlide recognises" },
         { "bogus.svs", "not a slide OpenSlide recognises" },
         { "missing.svs", "not a slide OpenSlide recognises" } })
  {
    auto r = itk::ImageFileReader<RGBImage>::New();
    r->SetFileName(slidePath(c.first));
    r->SetImageIO(itk::BlockwiseOpenSlideImageIO::New());
    expectThrow(c.first, [&] { r->Update(); }, { c.second });
  }
}

} // namespace

const blockwise_test::Entry blockwise_test::openslide_tests[] = {
  { "io_openslide", test_io_openslide },
  { nullptr, nullptr },
};
