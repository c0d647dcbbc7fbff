/*
 * Tests of the streaming TIFF ImageIO through itk::ImageFileReader and
 * itk::ImageFileWriter: the factory, round trips, streamed and threaded
 * reads, and a whole streamed pipeline: TIFF -> block filter -> TIFF.
 *
 * Oracles: the images written (read back pixel for pixel), the block
 * filters run on in-memory images without streaming, and file sizes
 * against the IO's count of bytes read.
 */
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOFactory.h"

#include "itkImageFileWriter.h"
#include "itkImageIOFactory.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkStreamingImageFilter.h"
#include "itkTIFFImageIO.h"
#include "itkTIFFImageIOFactory.h"

#include "bw_tiff.h"

#include <tiffio.h>

#include "test_itk_io.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>

namespace
{

using namespace blockwise_test;

/* The compression recorded in a TIFF file, as the C layer names it. */
std::string
compressionOf(const std::string & path)
{
  bw_tiff_reader * r = nullptr;
  std::string      name = "unreadable";
  if (bw_tiff_open(path.c_str(), &r, nullptr) == BW_OK)
    name = bw_tiff_reader_info(r)->compression_name;
  bw_tiff_close(r);
  return name;
}

/* Writes through ImageFileWriter with `divisions` stream divisions and a
 * configured IO, reads back through ImageFileReader (the factory picks the
 * IO) and compares pixels and spacing. */
template <typename TImage>
void
checkRoundTrip(const std::string & dir, const typename TImage::SizeType & size, unsigned int divisions,
               const std::function<void(itk::BlockwiseTIFFImageIO *)> & configure,
               const char * compression = "none")
{
  const auto img = makeImage<TImage>(size, divisions + 7);
  const std::string path = dir + "/round.tif";
  auto io = itk::BlockwiseTIFFImageIO::New();
  configure(io);
  auto writer = itk::ImageFileWriter<TImage>::New();
  writer->SetInput(img);
  writer->SetFileName(path);
  writer->SetImageIO(io);
  writer->SetNumberOfStreamDivisions(divisions);
  writer->SetUseCompression(std::strcmp(compression, "none") != 0);
  writer->Update();
  CHECK(compressionOf(path) == compression, "compression %s, want %s", compressionOf(path).c_str(), compression);

  auto reader = itk::ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  reader->Update();
  CHECK(dynamic_cast<itk::BlockwiseTIFFImageIO *>(reader->GetImageIO()) != nullptr, "the factory chose %s",
        reader->GetImageIO()->GetNameOfClass());
  const TImage * back = reader->GetOutput();
  CHECK(samePixels<TImage>(back, img), "pixels differ after a round trip (%u divisions)", divisions);
  for (unsigned int d = 0; d < TImage::ImageDimension; ++d)
    CHECK(back->GetSpacing()[d] == img->GetSpacing()[d], "spacing %u: %.17g, wrote %.17g", d, back->GetSpacing()[d],
          img->GetSpacing()[d]);
  const auto left = listDir(dir);
  CHECK(left.size() == 1 && left[0] == "round.tif", "the folder holds %zu files", left.size());
}

void
test_io_factory()
{
  /* ITK's own TIFF IO first, as a program using ITK's IO modules has it;
   * ours goes in front of it. */
  itk::TIFFImageIOFactory::RegisterOneFactory();
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory(); /* once only */
  int ours = 0;
  for (auto * f : itk::ObjectFactoryBase::GetRegisteredFactories())
    ours += dynamic_cast<itk::BlockwiseTIFFImageIOFactory *>(f) != nullptr;
  CHECK(ours == 1, "registered %d times", ours);
  CHECK(dynamic_cast<itk::BlockwiseTIFFImageIOFactory *>(itk::ObjectFactoryBase::GetRegisteredFactories().front()),
        "not the first factory");
  /* a file both IOs can read goes to ours */
  const std::string dir = scratchDir("factory");
  {
    using Image = itk::Image<unsigned short, 2>;
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetInput(makeImage<Image>({ { 20, 10 } }, 1));
    w->SetFileName(dir + "/f.tif");
    w->SetImageIO(itk::TIFFImageIO::New());
    w->Update();
    auto io = itk::ImageIOFactory::CreateImageIO((dir + "/f.tif").c_str(), itk::ImageIOFactory::FileModeEnum::ReadMode);
    CHECK(io && dynamic_cast<itk::BlockwiseTIFFImageIO *>(io.GetPointer()), "ITK's TIFF IO was chosen");
    auto back = readImage<Image>(dir + "/f.tif");
    CHECK(back->GetLargestPossibleRegion().GetSize()[0] == 20, "size");
  }
  for (const char * name : { "a.tif", "b.TIFF", "c.tiff" })
  {
    auto io = itk::ImageIOFactory::CreateImageIO(name, itk::ImageIOFactory::FileModeEnum::WriteMode);
    CHECK(io && dynamic_cast<itk::BlockwiseTIFFImageIO *>(io.GetPointer()), "%s: not ours", name);
  }
  auto io = itk::ImageIOFactory::CreateImageIO("d.png", itk::ImageIOFactory::FileModeEnum::WriteMode);
  CHECK(!io || !dynamic_cast<itk::BlockwiseTIFFImageIO *>(io.GetPointer()), "claims .png");
}

void
test_io_roundtrip()
{
  const std::string dir = ioTestDir("roundtrip");
  auto              plain = [](itk::BlockwiseTIFFImageIO *) {};
  auto              tiled = [](itk::BlockwiseTIFFImageIO * io) { io->SetTileSize(32, 16); };
  auto              deflate = [](itk::BlockwiseTIFFImageIO * io) { io->SetRowsPerStrip(5); };
  auto              lzwTiled = [](itk::BlockwiseTIFFImageIO * io) {
    io->SetCompressor("LZW");
    io->SetTileSize(16, 16);
  };
  for (unsigned int div : { 1u, 7u, 64u })
  {
    checkRoundTrip<itk::Image<unsigned short, 2>>(dir, { { 101, 67 } }, div, plain);
    checkRoundTrip<itk::Image<float, 2>>(dir, { { 45, 70 } }, div, tiled);
    checkRoundTrip<itk::Image<signed char, 3>>(dir, { { 33, 20, 6 } }, div, deflate, "deflate");
    checkRoundTrip<itk::Image<double, 3>>(dir, { { 40, 17, 5 } }, div, lzwTiled, "lzw");
    /* one row, and pages of one row: pieces are still whole rows */
    checkRoundTrip<itk::Image<unsigned short, 2>>(dir, { { 400, 1 } }, div, plain);
    checkRoundTrip<itk::Image<float, 3>>(dir, { { 300, 1, 2 } }, div, tiled);
  }
  checkRoundTrip<itk::Image<unsigned char, 2>>(dir, { { 9, 300 } }, 3, plain);
  checkRoundTrip<itk::Image<short, 2>>(
    dir, { { 64, 64 } }, 2, [](itk::BlockwiseTIFFImageIO * io) { io->SetCompressor("PackBits"); }, "packbits");
  if (bw_tiff_compression_available(BW_TIFF_ZSTD))
    checkRoundTrip<itk::Image<unsigned short, 3>>(
      dir, { { 70, 30, 4 } }, 5, [](itk::BlockwiseTIFFImageIO * io) { io->SetCompressor("ZSTD"); }, "zstd");
  checkRoundTrip<itk::Image<unsigned int, 3>>(dir, { { 20, 20, 3 } }, 3, plain);
  checkRoundTrip<itk::Image<int, 2>>(dir, { { 50, 50 } }, 4, [](itk::BlockwiseTIFFImageIO * io) {
    io->SetBigTIFF(1);
    io->SetTileSize(16, 32);
  });
  /* 3-D images of one slice stay 3-D, with their Z spacing. */
  checkRoundTrip<itk::Image<unsigned short, 3>>(dir, { { 7, 5, 1 } }, 1, plain);
  checkRoundTrip<itk::Image<float, 3>>(dir, { { 40, 17, 1 } }, 3, deflate, "deflate");
  {
    using Image = itk::Image<short, 3>;
    const auto        img = makeImage<Image>({ { 7, 5, 1 } }, 11);
    const std::string path = dir + "/slice.tif";
    auto              w = itk::ImageFileWriter<Image>::New();
    w->SetInput(img);
    w->SetFileName(path);
    w->Update();
    auto r = itk::ImageFileReader<Image>::New();
    r->SetFileName(path);
    r->Update();
    const itk::ImageIOBase * io = r->GetImageIO();
    CHECK(io->GetNumberOfDimensions() == 3, "a 7 x 5 x 1 image reads back as %u-D", io->GetNumberOfDimensions());
    CHECK(io->GetDimensions(0) == 7 && io->GetDimensions(1) == 5 && io->GetDimensions(2) == 1, "size %zu x %zu x %zu",
          static_cast<size_t>(io->GetDimensions(0)), static_cast<size_t>(io->GetDimensions(1)),
          static_cast<size_t>(io->GetDimensions(2)));
    for (unsigned int d = 0; d < 3; ++d)
      CHECK(io->GetSpacing(d) == img->GetSpacing()[d], "spacing %u: %.17g, wrote %.17g", d, io->GetSpacing(d),
            img->GetSpacing()[d]);
    CHECK(samePixels<Image>(r->GetOutput(), img), "pixels of the single slice");
    /* The same file read as a 2-D image: its one slice. */
    using Image2 = itk::Image<short, 2>;
    const auto flat = readImage<Image2>(path);
    CHECK(flat->GetLargestPossibleRegion().GetSize() == (Image2::SizeType{ { 7, 5 } }), "2-D read of the slice");
    for (itk::ImageRegionConstIteratorWithIndex<Image2> it(flat, flat->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
      CHECK(it.Get() == img->GetPixel({ { it.GetIndex()[0], it.GetIndex()[1], 0 } }), "2-D read: pixel differs");
    std::remove(path.c_str());
  }
}

/* A small region of a large file: ImageFileReader asks the IO for that
 * region only, and the IO reads a small part of the file. */
void
test_io_streamed_read()
{
  using Image = itk::Image<unsigned short, 2>;
  const std::string dir = ioTestDir("streamed_read");
  const auto        img = makeImage<Image>({ { 2048, 2048 } }, 3);
  for (int tiled = 0; tiled < 2; ++tiled)
  {
    const std::string path = dir + (tiled ? "/tiled.tif" : "/striped.tif");
    auto              io = itk::BlockwiseTIFFImageIO::New();
    if (tiled)
      io->SetTileSize(128, 128);
    else
      io->SetRowsPerStrip(8);
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(img);
    writer->SetFileName(path);
    writer->SetImageIO(io);
    writer->Update();

    auto rio = itk::BlockwiseTIFFImageIO::New();
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(path);
    reader->SetImageIO(rio);
    reader->UpdateOutputInformation();
    Image::RegionType small({ { 1000, 1500 } }, { { 100, 40 } });
    reader->GetOutput()->SetRequestedRegion(small);
    reader->Update();
    CHECK(reader->GetOutput()->GetBufferedRegion() == small, "the reader buffered more than asked for");
    for (itk::ImageRegionConstIteratorWithIndex<Image> it(reader->GetOutput(), small); !it.IsAtEnd(); ++it)
      CHECK(it.Get() == img->GetPixel(it.GetIndex()), "pixel differs");
    const double fraction = static_cast<double>(rio->GetBytesRead()) / static_cast<double>(fileSize(path));
    CHECK(fraction < 0.05, "%s: read %.1f%% of the file for 0.1%% of its pixels", path.c_str(), 100 * fraction);
  }
}

/* TIFF pair -> block correlation -> TIFF, streamed through the writer, equals
 * the filter on the images in memory, un-streamed. */
void
test_io_pipeline()
{
  using In = itk::Image<unsigned short, 2>;
  using Out = itk::Image<float, 2>;
  const std::string dir = ioTestDir("pipeline");
  auto              a = makeImage<In>({ { 515, 403 } }, 1);
  auto              b = makeImage<In>({ { 515, 403 } }, 1);
  /* b: a plus noise, so r is neither 1 nor 0 */
  uint64_t h = 99;
  for (itk::ImageRegionIterator<In> it(b, b->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
    it.Set(static_cast<unsigned short>(it.Get() / 2 + ((h = mix(h)) >> 50)));
  b->SetSpacing(a->GetSpacing());
  for (int k = 0; k < 2; ++k)
  {
    auto w = itk::ImageFileWriter<In>::New();
    w->SetInput(k ? b : a);
    w->SetFileName(dir + (k ? "/b.tif" : "/a.tif"));
    w->Update();
  }
  auto whole = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  whole->SetInput1(a);
  whole->SetInput2(b);
  whole->SetBlockSize(10);
  whole->Update();

  for (unsigned int div : { 1u, 7u, 64u })
  {
    auto ra = itk::ImageFileReader<In>::New();
    auto rb = itk::ImageFileReader<In>::New();
    ra->SetFileName(dir + "/a.tif");
    rb->SetFileName(dir + "/b.tif");
    auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
    f->SetInput1(ra->GetOutput());
    f->SetInput2(rb->GetOutput());
    f->SetBlockSize(10);
    auto w = itk::ImageFileWriter<Out>::New();
    w->SetInput(f->GetOutput());
    w->SetFileName(dir + "/r.tif");
    w->SetNumberOfStreamDivisions(div);
    w->Update();
    CHECK(ra->GetOutput()->GetBufferedRegion().GetNumberOfPixels() <
            (div > 1 ? a->GetLargestPossibleRegion().GetNumberOfPixels() : ~0ull),
          "%u divisions: the reader read the whole image", div);
    auto r = readImage<Out>(dir + "/r.tif");
    CHECK(samePixels<Out>(r, whole->GetOutput()), "%u divisions: the streamed map differs", div);
    for (unsigned int d = 0; d < 2; ++d)
      CHECK(std::fabs(r->GetSpacing()[d] - whole->GetOutput()->GetSpacing()[d]) == 0, "spacing %u", d);
  }
}

/* Reads shared by threads (bands of rows of chunks, or of pages, each read
 * through its own reader) give the pixels of the image written, for any
 * number of threads, region, layout and streamed piece. */
template <typename TImage>
void
checkThreadedRead(const std::string & path, const TImage * img, const char * what)
{
  using RegionType = typename TImage::RegionType;
  const auto               whole = img->GetLargestPossibleRegion();
  const auto               size = whole.GetSize();
  constexpr unsigned int   D = TImage::ImageDimension;
  std::vector<RegionType>  regions{ whole };
  typename TImage::IndexType start;
  typename TImage::SizeType  part;
  for (unsigned int d = 0; d < D; ++d)
  {
    start[d] = static_cast<itk::IndexValueType>(size[d] / 5);
    part[d] = size[d] - size[d] / 5 - size[d] / 7;
  }
  regions.emplace_back(start, part); // unaligned at both ends
  part[D - 1] = 1;                    // one row (2-D) or one page (3-D)
  regions.emplace_back(start, part);
  if (D == 3)
  {
    part = size;
    part[2] = 2;
    start.Fill(0);
    start[2] = 1;
    regions.emplace_back(start, part); // two pages
  }
  for (unsigned int threads : { 1u, 2u, 3u, 5u, 64u })
  {
    for (const auto & region : regions)
    {
      auto io = itk::BlockwiseTIFFImageIO::New();
      io->SetNumberOfReadThreads(threads);
      auto reader = itk::ImageFileReader<TImage>::New();
      reader->SetFileName(path);
      reader->SetImageIO(io);
      reader->UpdateOutputInformation();
      reader->GetOutput()->SetRequestedRegion(region);
      reader->Update();
      CHECK(reader->GetOutput()->GetBufferedRegion() == region, "%s: buffered another region", what);
      bool same = true;
      for (itk::ImageRegionConstIteratorWithIndex<TImage> it(reader->GetOutput(), region); !it.IsAtEnd(); ++it)
      {
        const auto a = it.Get(), b = img->GetPixel(it.GetIndex());
        same = same && std::memcmp(&a, &b, sizeof a) == 0;
      }
      CHECK(same, "%s, %u threads: pixels differ in a region of %lu pixels", what, threads,
            static_cast<unsigned long>(region.GetNumberOfPixels()));
    }
    // Streamed in pieces whose edges fall inside rows of chunks: each
    // piece's first band meets the chunks the last one decoded.
    auto io = itk::BlockwiseTIFFImageIO::New();
    io->SetNumberOfReadThreads(threads);
    auto reader = itk::ImageFileReader<TImage>::New();
    reader->SetFileName(path);
    reader->SetImageIO(io);
    auto streamer = itk::StreamingImageFilter<TImage, TImage>::New();
    streamer->SetInput(reader->GetOutput());
    streamer->SetNumberOfStreamDivisions(7);
    streamer->Update();
    CHECK(samePixels<TImage>(streamer->GetOutput(), img), "%s, %u threads: streamed pixels differ", what, threads);
  }
}

void
test_io_threaded_read()
{
  const std::string dir = ioTestDir("threaded_read");
  struct Layout
  {
    const char * name;
    const char * compressor; // nullptr: uncompressed
    bool         predictor;
    unsigned int rowsPerStrip, tile;
  };
  const Layout layouts[] = {
    { "deflate strips of 7 rows, predictor", "DEFLATE", true, 7, 0 },
    { "deflate strips of 1 row", "DEFLATE", false, 1, 0 },
    { "deflate tiles 32x16, predictor", "DEFLATE", true, 0, 32 },
    { "lzw strips of 5 rows, predictor", "LZW", true, 5, 0 },
    { "uncompressed strips of 9 rows", nullptr, false, 9, 0 },
    { "uncompressed, one strip", nullptr, false, 1u << 20, 0 },
  };
  using Image2 = itk::Image<unsigned short, 2>;
  using Image3 = itk::Image<float, 3>;
  const auto img2 = makeImage<Image2>({ { 203, 157 } }, 11);
  const auto img3 = makeImage<Image3>({ { 45, 38, 9 } }, 12);
  for (const Layout & l : layouts)
  {
    auto write = [&](auto img, const std::string & path) {
      using I = typename std::remove_pointer<decltype(img)>::type;
      auto io = itk::BlockwiseTIFFImageIO::New();
      if (l.tile)
        io->SetTileSize(l.tile, l.tile / 2);
      else
        io->SetRowsPerStrip(l.rowsPerStrip);
      io->SetUsePredictor(l.predictor);
      if (l.compressor)
        io->SetCompressor(l.compressor);
      auto writer = itk::ImageFileWriter<I>::New();
      writer->SetInput(img);
      writer->SetFileName(path);
      writer->SetImageIO(io);
      writer->SetUseCompression(l.compressor != nullptr);
      writer->Update();
    };
    write(img2.GetPointer(), dir + "/a.tif");
    write(img3.GetPointer(), dir + "/v.tif");
    checkThreadedRead<Image2>(dir + "/a.tif", img2, l.name);
    checkThreadedRead<Image3>(dir + "/v.tif", img3, l.name);
  }
}

/* A pyramid of two levels, written with libtiff here: page 0 of 40 x 30
 * pixels (value 1000 + y * 40 + x) and its reduced copy of 20 x 15 (value
 * 7 + y * 20 + x, NewSubfileType 1), 4 pixels per millimetre at level 0. */
void
writePyramid(const std::string & path)
{
  TIFF * tif = TIFFOpen(path.c_str(), "w");
  CHECK(tif != nullptr, "cannot create %s", path.c_str());
  for (int level = 0; level < 2; ++level)
  {
    const uint32_t w = level ? 20 : 40, h = level ? 15 : 30;
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, level ? FILETYPE_REDUCEDIMAGE : 0);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 4);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, 40.0 / (level + 1));
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, 40.0 / (level + 1));
    std::vector<uint16_t> row(w);
    for (uint32_t y = 0; y < h; ++y)
    {
      for (uint32_t x = 0; x < w; ++x)
        row[x] = static_cast<uint16_t>((level ? 7 : 1000) + y * w + x);
      CHECK(TIFFWriteScanline(tif, row.data(), y, 0) == 1, "cannot write row %u", y);
    }
    CHECK(TIFFWriteDirectory(tif) == 1, "cannot write directory %d", level);
  }
  TIFFClose(tif);
}

/* SetLevel(): the reduced copy of a pyramid, with its own size and spacing,
 * through ImageFileReader; a level past the last throws with the levels
 * there are. */
void
test_io_levels()
{
  using ImageType = itk::Image<uint16_t, 2>;
  const std::string dir = ioTestDir("levels");
  const std::string path = dir + "/pyramid.tif";
  writePyramid(path);
  for (unsigned int level = 0; level < 2; ++level)
  {
    auto io = itk::BlockwiseTIFFImageIO::New();
    io->SetLevel(level);
    auto reader = itk::ImageFileReader<ImageType>::New();
    reader->SetFileName(path);
    reader->SetImageIO(io);
    reader->Update();
    const ImageType * image = reader->GetOutput();
    const auto        size = image->GetLargestPossibleRegion().GetSize();
    const unsigned    w = level ? 20 : 40, h = level ? 15 : 30;
    CHECK(size[0] == w && size[1] == h, "level %u: %lu x %lu", level, size[0], size[1]);
    CHECK(io->GetNumberOfLevels() == 2, "level %u: %u levels", level, io->GetNumberOfLevels());
    const double spacing = 0.25 * (level + 1);
    CHECK(std::fabs(image->GetSpacing()[0] - spacing) < 1e-12 && std::fabs(image->GetSpacing()[1] - spacing) < 1e-12,
          "level %u: spacing %g x %g", level, image->GetSpacing()[0], image->GetSpacing()[1]);
    bool same = true;
    itk::ImageRegionConstIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion());
    for (; !it.IsAtEnd(); ++it)
      same = same && it.Get() == (level ? 7 : 1000) + it.GetIndex()[1] * w + it.GetIndex()[0];
    CHECK(same, "level %u: pixels differ from those written", level);
  }
  auto io = itk::BlockwiseTIFFImageIO::New();
  io->SetLevel(2);
  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetFileName(path);
  reader->SetImageIO(io);
  expectThrow("level 2", [&] { reader->Update(); }, { "level 2 does not exist", "levels 0 to 1" });
}

} // namespace

const blockwise_test::Entry blockwise_test::io_tests[] = {
  { "io_levels", test_io_levels },
  { "io_factory", test_io_factory },
  { "io_roundtrip", test_io_roundtrip },
  { "io_streamed_read", test_io_streamed_read },
  { "io_threaded_read", test_io_threaded_read },
  { "io_pipeline", test_io_pipeline },
  { nullptr, nullptr },
};
