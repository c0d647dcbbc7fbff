/*
 * Tests of the streaming TIFF ImageIO through itk::ImageFileReader and
 * itk::ImageFileWriter, and of whole streamed pipelines:
 * TIFF -> block filter -> TIFF.
 *
 * Oracles: the images written (read back pixel for pixel), the block
 * filters run on in-memory images without streaming, and file sizes
 * against the IO's count of bytes read.
 */
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOFactory.h"

#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageIOFactory.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkStreamingImageFilter.h"
#include "itkTIFFImageIO.h"
#include "itkTIFFImageIOFactory.h"

#include "bw_tiff.h"

#include "test_itk.h"

#include <tiffio.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>
#include <type_traits>
#include <utility>
#include <vector>

namespace
{

/* A fresh, empty folder for one test's files. */
std::string
scratchDir(const char * name)
{
  const char * base = std::getenv("BLOCKWISE_TEST_TMP");
  std::string  dir = std::string(base ? base : "/tmp") + "/bw_itk_io_" + name + "_" + std::to_string(getpid());
  const std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0)
    std::abort();
  return dir;
}

std::vector<std::string>
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

long long
fileSize(const std::string & path)
{
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
}

using blockwise_test::mix;

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

template <typename TImage>
typename TImage::Pointer
readImage(const std::string & path)
{
  auto reader = itk::ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

/* Writes through ImageFileWriter with `divisions` stream divisions and a
 * configured IO, reads back through ImageFileReader (the factory picks the
 * IO) and compares pixels and spacing. */
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

/* A little-endian classic TIFF of 8-bit grey pages of the given sizes
 * (width, length), one strip each, assembled here byte by byte; the pages'
 * Compression tag is `compression`. */
std::string
tinyTIFF(const std::vector<std::pair<uint32_t, uint32_t>> & sizes, uint16_t compression = 1)
{
  std::string b("II*\0\0\0\0\0", 8);
  auto        put = [&b](size_t at, uint64_t v, int n) {
    if (b.size() < at + static_cast<size_t>(n))
      b.resize(at + static_cast<size_t>(n), '\0');
    for (int i = 0; i < n; ++i)
      b[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  size_t link = 4;
  for (const auto & wh : sizes)
  {
    const uint32_t w = wh.first, h = wh.second;
    const size_t   pixels = b.size();
    b.append(static_cast<size_t>(w) * h, '\x2a');
    if (b.size() % 2)
      b.push_back('\0');
    const size_t ifd = b.size();
    put(link, ifd, 4);
    enum : uint16_t
    {
      SHORT = 3,
      LONG = 4
    };
    const uint64_t entries[][3] = { { 256, LONG, w },           { 257, LONG, h },     { 258, SHORT, 8 },
                                    { 259, SHORT, compression }, { 262, SHORT, 1 },    { 273, LONG, pixels },
                                    { 277, SHORT, 1 },           { 278, LONG, h },     { 279, LONG, uint64_t(w) * h } };
    const size_t   n = sizeof entries / sizeof *entries;
    put(ifd, n, 2);
    for (size_t i = 0; i < n; ++i)
    {
      const size_t e = ifd + 2 + 12 * i;
      put(e, entries[i][0], 2);
      put(e + 2, entries[i][1], 2);
      put(e + 4, 1, 4);
      put(e + 8, entries[i][2], entries[i][1] == SHORT ? 2 : 4);
    }
    link = ifd + 2 + 12 * n;
    put(link, 0, 4);
  }
  return b;
}

void
writeBytes(const std::string & path, const std::string & bytes)
{
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
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
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  const std::string dir = scratchDir("roundtrip");
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
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  using Image = itk::Image<unsigned short, 2>;
  const std::string dir = scratchDir("streamed_read");
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
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  using In = itk::Image<unsigned short, 2>;
  using Out = itk::Image<float, 2>;
  const std::string dir = scratchDir("pipeline");
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

/* Runs `f`; passes if it throws an itk::ExceptionObject whose message holds
 * `word`. */
void
expectThrow(const char * what, const std::function<void()> & f, const char * word)
{
  try
  {
    f();
  }
  catch (const itk::ExceptionObject & e)
  {
    const std::string msg = e.GetDescription();
    CHECK(msg.find(word) != std::string::npos, "%s: message \"%s\" lacks \"%s\"", what, msg.c_str(), word);
    return;
  }
  CHECK(false, "%s: no exception", what);
}

/* A source that fails on its third request. */
class FailingSource : public itk::ImageSource<itk::Image<float, 2>>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(FailingSource);
  using Self = FailingSource;
  using Pointer = itk::SmartPointer<Self>;
  itkNewMacro(Self);
  itkTypeMacro(FailingSource, ImageSource);
  int m_Calls{ 0 };

protected:
  FailingSource() = default;
  void
  GenerateOutputInformation() override
  {
    this->GetOutput()->SetLargestPossibleRegion(itk::ImageRegion<2>({ { 0, 0 } }, { { 64, 64 } }));
  }
  void
  GenerateData() override
  {
    if (++m_Calls == 3)
      itkExceptionMacro(<< "source failed on purpose");
    auto * out = this->GetOutput();
    out->SetBufferedRegion(out->GetRequestedRegion());
    out->Allocate();
    out->FillBuffer(1.5f);
  }
};

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
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  const std::string dir = scratchDir("threaded_read");
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

void
test_io_errors()
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  using Image = itk::Image<unsigned short, 2>;
  const std::string dir = scratchDir("errors");
  const auto        img = makeImage<Image>({ { 64, 64 } }, 5);
  {
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetInput(img);
    w->SetFileName(dir + "/good.tif");
    w->Update();
  }
  /* truncated copies of a good file */
  std::ifstream     in(dir + "/good.tif", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t cut : { size_t(4), size_t(9), size_t(200), bytes.size() / 2, bytes.size() - 3 })
  {
    const std::string path = dir + "/cut.tif";
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    const std::string what = "file cut at " + std::to_string(cut) + " of " + std::to_string(bytes.size());
    /* claimed, so that the exception is this IO's, saying what is wrong */
    CHECK(itk::BlockwiseTIFFImageIO::New()->CanReadFile(path.c_str()), "%s: not claimed", what.c_str());
    expectThrow(what.c_str(), [&] { readImage<Image>(path); }, "Cannot read");
  }
  /* Valid TIFF files this IO does not read are left to other IOs. */
  {
    struct Case
    {
      const char * what;
      std::string  bytes;
    };
    const Case cases[] = {
      { "pages of different sizes", tinyTIFF({ { 4, 4 }, { 5, 4 } }) },
      { "an unknown compression", tinyTIFF({ { 4, 4 } }, 12345) },
    };
    const std::string path = dir + "/other.tif";
    for (const auto & c : cases)
    {
      writeBytes(path, c.bytes);
      CHECK(!itk::BlockwiseTIFFImageIO::New()->CanReadFile(path.c_str()), "%s: claimed", c.what);
      auto io = itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::FileModeEnum::ReadMode);
      CHECK(!io || !dynamic_cast<itk::BlockwiseTIFFImageIO *>(io.GetPointer()), "%s: the factory chose this IO",
            c.what);
    }
    /* the same builder's files are readable when they are of one size */
    writeBytes(path, tinyTIFF({ { 4, 4 }, { 4, 4 } }));
    CHECK(itk::BlockwiseTIFFImageIO::New()->CanReadFile(path.c_str()), "two 4 x 4 pages not claimed");
    /* and claimed when cut short */
    const std::string two = tinyTIFF({ { 4, 4 }, { 4, 4 } });
    writeBytes(path, two.substr(0, two.size() - 20));
    CHECK(itk::BlockwiseTIFFImageIO::New()->CanReadFile(path.c_str()), "a truncated file not claimed");
    std::remove(path.c_str());
  }
  {
    const std::string path = dir + "/magic.tif";
    std::ofstream(path, std::ios::binary) << "JUNK" << std::string(100, 'x');
    expectThrow("wrong magic", [&] { readImage<Image>(path); }, "magic.tif");
  }
  expectThrow("missing file", [&] { readImage<Image>(dir + "/none.tif"); }, "none.tif");

  /* a write that fails part-way leaves no file behind */
  {
    const std::string path = dir + "/partial.tif";
    auto              src = FailingSource::New();
    auto              w = itk::ImageFileWriter<itk::Image<float, 2>>::New();
    w->SetInput(src->GetOutput());
    w->SetFileName(path);
    w->SetNumberOfStreamDivisions(8);
    expectThrow("upstream failure", [&] { w->Update(); }, "on purpose");
    w = nullptr; /* the writer's IO removes its temporary file */
    CHECK(fileSize(path) < 0, "a partial file was left behind");
  }
  /* pasting into a file is refused */
  {
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetInput(img);
    w->SetFileName(dir + "/paste.tif");
    itk::ImageIORegion region(2);
    region.SetIndex(0, 0);
    region.SetIndex(1, 10);
    region.SetSize(0, 64);
    region.SetSize(1, 10);
    w->SetIORegion(region);
    expectThrow("paste", [&] { w->Update(); }, "pasting");
  }
  /* a folder that does not exist */
  {
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetInput(img);
    w->SetFileName(dir + "/no/such/folder/x.tif");
    expectThrow("bad folder", [&] { w->Update(); }, "x.tif");
  }
  /* 64-bit integers are not a pixel type the TIFF layer writes */
  {
    using L = itk::Image<long long, 2>;
    auto l = L::New();
    l->SetRegions(itk::Size<2>{ { 4, 4 } });
    l->Allocate();
    l->FillBuffer(1);
    auto w = itk::ImageFileWriter<L>::New();
    w->SetInput(l);
    w->SetFileName(dir + "/long.tif");
    expectThrow("64-bit integers", [&] { w->Update(); }, "component type");
  }
  const auto left = listDir(dir);
  for (const auto & name : left)
    CHECK(name == "good.tif" || name == "cut.tif" || name == "magic.tif", "left behind: %s", name.c_str());
}

/* The compression and predictor libtiff itself finds in the first
 * directory of a file (-1 when it cannot open it); predictor 1 is none
 * (PREDICTOR_HORIZONTAL is 2). */
std::pair<int, int>
libtiffCompression(const std::string & path)
{
  TIFF * t = TIFFOpen(path.c_str(), "r");
  if (t == nullptr)
    return { -1, -1 };
  uint16_t compression = 0, predictor = PREDICTOR_NONE;
  TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &compression);
  // libtiff knows the tag only with the codecs that take it.
  if (compression == COMPRESSION_LZW || compression == COMPRESSION_ADOBE_DEFLATE || compression == COMPRESSION_ZSTD)
    TIFFGetFieldDefaulted(t, TIFFTAG_PREDICTOR, &predictor);
  TIFFClose(t);
  return { compression, predictor };
}

/* SetTIFFCompression() picks the scheme of files written with
 * UseCompression on, as libtiff reads the file (the oracle), with the
 * predictor where the scheme takes one; SetCompressor() names the same
 * setting, in any case; PrintSelf shows it. */
void
test_io_compression()
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  using Image = itk::Image<unsigned short, 2>;
  const std::string dir = scratchDir("compression");
  const std::string path = dir + "/c.tif";
  const auto        img = makeImage<Image>({ { 61, 43 } }, 4);
  struct Case
  {
    bw_tiff_compression compression;
    int                 code; // libtiff's COMPRESSION_*
    const char *        upper;
    bool                predictor;
  };
  const Case cases[] = {
    { BW_TIFF_NONE, COMPRESSION_NONE, "NONE", false },
    { BW_TIFF_LZW, COMPRESSION_LZW, "LZW", true },
    { BW_TIFF_DEFLATE, COMPRESSION_ADOBE_DEFLATE, "DEFLATE", true },
    { BW_TIFF_PACKBITS, COMPRESSION_PACKBITS, "PACKBITS", false },
    { BW_TIFF_ZSTD, COMPRESSION_ZSTD, "ZSTD", true },
  };
  auto write = [&](itk::BlockwiseTIFFImageIO * io, bool useCompression) {
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(img);
    writer->SetFileName(path);
    writer->SetImageIO(io);
    writer->SetNumberOfStreamDivisions(3);
    writer->SetUseCompression(useCompression);
    writer->Update();
  };
  for (const Case & c : cases)
  {
    if (!bw_tiff_compression_available(c.compression))
      continue;
    for (bool predictor : { true, false })
    {
      auto io = itk::BlockwiseTIFFImageIO::New();
      io->SetTIFFCompression(c.compression);
      io->SetUsePredictor(predictor);
      CHECK(io->GetTIFFCompression() == c.compression, "%s: GetTIFFCompression", c.upper);
      CHECK(io->GetCompressor() == c.upper, "%s: GetCompressor() is \"%s\"", c.upper, io->GetCompressor().c_str());
      write(io, true);
      const auto tags = libtiffCompression(path);
      const int  wantPredictor = predictor && c.predictor ? PREDICTOR_HORIZONTAL : PREDICTOR_NONE;
      CHECK(tags.first == c.code, "%s: libtiff reads compression %d, want %d", c.upper, tags.first, c.code);
      CHECK(tags.second == wantPredictor, "%s, UsePredictor %d: predictor %d, want %d", c.upper, predictor,
            tags.second, wantPredictor);
      CHECK(samePixels<Image>(readImage<Image>(path), img), "%s: pixels differ", c.upper);
    }
  }
  /* UseCompression off: uncompressed, whatever the scheme. */
  {
    auto io = itk::BlockwiseTIFFImageIO::New();
    io->SetTIFFCompression(BW_TIFF_LZW);
    write(io, false);
    CHECK(libtiffCompression(path).first == COMPRESSION_NONE, "UseCompression off: compression %d",
          libtiffCompression(path).first);
  }
  /* By name, through the same table: any case; the empty name (ITK's
   * default compressor) and unknown names are Deflate. */
  {
    const std::pair<const char *, bw_tiff_compression> names[] = {
      { "lzw", BW_TIFF_LZW },   { "Deflate", BW_TIFF_DEFLATE }, { "PACKBITS", BW_TIFF_PACKBITS },
      { "zStd", BW_TIFF_ZSTD }, { "none", BW_TIFF_NONE },       { "", BW_TIFF_DEFLATE },
      { "LZW", BW_TIFF_LZW },   { "JPEG2000", BW_TIFF_DEFLATE },
    };
    auto       io = itk::BlockwiseTIFFImageIO::New();
    const bool warnings = itk::Object::GetGlobalWarningDisplay();
    itk::Object::SetGlobalWarningDisplay(false); // the unknown name's warning
    for (const auto & n : names)
    {
      io->SetCompressor(n.first);
      CHECK(io->GetTIFFCompression() == n.second, "SetCompressor(\"%s\"): %s, want %s", n.first,
            bw_tiff_compression_name(io->GetTIFFCompression()), bw_tiff_compression_name(n.second));
    }
    itk::Object::SetGlobalWarningDisplay(warnings);
    expectThrow("not a bw_tiff_compression", [&] { io->SetTIFFCompression(static_cast<bw_tiff_compression>(99)); },
                "not a bw_tiff_compression");
    CHECK(io->GetTIFFCompression() == BW_TIFF_DEFLATE, "a refused value changed the setting");
    io->SetTIFFCompression(BW_TIFF_PACKBITS);
    std::ostringstream os;
    io->Print(os);
    CHECK(os.str().find("TIFFCompression: packbits") != std::string::npos, "PrintSelf: %s", os.str().c_str());
  }
  std::remove(path.c_str());
}

} // namespace

const blockwise_test::Entry blockwise_test::io_tests[] = {
  { "io_factory", test_io_factory },
  { "io_roundtrip", test_io_roundtrip },
  { "io_streamed_read", test_io_streamed_read },
  { "io_threaded_read", test_io_threaded_read },
  { "io_pipeline", test_io_pipeline },
  { "io_errors", test_io_errors },
  { "io_compression", test_io_compression },
  { nullptr, nullptr },
};
