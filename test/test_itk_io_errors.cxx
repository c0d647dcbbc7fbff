/*
 * Tests of the streaming TIFF ImageIO's errors and compression: damaged and
 * foreign files, failed and refused writes, and the compression schemes.
 *
 * Oracles: TIFF files assembled here byte by byte, the folder's listing
 * after a failed write, and libtiff reading the files written.
 */
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOFactory.h"

#include "itkImageFileWriter.h"
#include "itkImageIOFactory.h"
#include "itkImageSource.h"

#include "bw_tiff.h"

#include "test_itk_io.h"

#include <tiffio.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

namespace
{

using namespace blockwise_test;

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

void
test_io_errors()
{
  using Image = itk::Image<unsigned short, 2>;
  const std::string dir = ioTestDir("errors");
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
    expectThrow(what.c_str(), [&] { readImage<Image>(path); }, { "Cannot read" });
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
    expectThrow("wrong magic", [&] { readImage<Image>(path); }, { "magic.tif" });
  }
  expectThrow("missing file", [&] { readImage<Image>(dir + "/none.tif"); }, { "none.tif" });

  /* a write that fails part-way leaves no file behind */
  {
    const std::string path = dir + "/partial.tif";
    auto              src = FailingSource::New();
    auto              w = itk::ImageFileWriter<itk::Image<float, 2>>::New();
    w->SetInput(src->GetOutput());
    w->SetFileName(path);
    w->SetNumberOfStreamDivisions(8);
    expectThrow("upstream failure", [&] { w->Update(); }, { "on purpose" });
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
    expectThrow("paste", [&] { w->Update(); }, { "pasting" });
  }
  /* a folder that does not exist */
  {
    auto w = itk::ImageFileWriter<Image>::New();
    w->SetInput(img);
    w->SetFileName(dir + "/no/such/folder/x.tif");
    expectThrow("bad folder", [&] { w->Update(); }, { "x.tif" });
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
    expectThrow("64-bit integers", [&] { w->Update(); }, { "component type" });
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
  using Image = itk::Image<unsigned short, 2>;
  const std::string dir = ioTestDir("compression");
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
                { "not a bw_tiff_compression" });
    CHECK(io->GetTIFFCompression() == BW_TIFF_DEFLATE, "a refused value changed the setting");
    io->SetTIFFCompression(BW_TIFF_PACKBITS);
    std::ostringstream os;
    io->Print(os);
    CHECK(os.str().find("TIFFCompression: packbits") != std::string::npos, "PrintSelf: %s", os.str().c_str());
  }
  std::remove(path.c_str());
}

} // namespace

const blockwise_test::Entry blockwise_test::io_error_tests[] = {
  { "io_errors", test_io_errors },
  { "io_compression", test_io_compression },
  { nullptr, nullptr },
};
