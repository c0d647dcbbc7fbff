/*
 * ChannelConversionImageFilter and the TIFF ImageIO's colour pixels.
 *
 * Oracles: plain loops written here (BT.709 luminance, a channel as it is,
 * Ruifrok-Johnston colour deconvolution with the stain matrix inverted here
 * by cofactors, as scikit-image's rgb2hed does), the filter's whole-image
 * result against a streamed one, and ITK's own TIFFImageIO reading the RGB
 * file libtiff writes here.
 */
#include "itkBlockwiseTIFFImageIO.h"
#include "itkChannelConversionImageFilter.h"

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkRGBPixel.h"
#include "itkStreamingImageFilter.h"
#include "itkTIFFImageIO.h"
#include "itkVectorImage.h"

#include "test_itk_io.h"

#include <tiffio.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace
{

using namespace blockwise_test;
using RGBVector = itk::VectorImage<uint16_t, 2>;
using Grey = itk::Image<float, 2>;

/* A 3-channel image of 37 x 23 pixels, channel c of pixel (x, y) a hash of
 * (x, y, c) spread over the 16-bit range. */
RGBVector::Pointer
makeColour()
{
  auto                  img = RGBVector::New();
  RGBVector::RegionType region;
  region.SetSize({ { 37, 23 } });
  img->SetRegions(region);
  img->SetNumberOfComponentsPerPixel(3);
  img->Allocate();
  itk::ImageRegionIteratorWithIndex<RGBVector> it(img, region);
  for (; !it.IsAtEnd(); ++it)
  {
    itk::VariableLengthVector<uint16_t> v(3);
    for (unsigned c = 0; c < 3; ++c)
    {
      const auto i = it.GetIndex();
      v[c] = static_cast<uint16_t>((i[0] * 7919u + i[1] * 104729u + c * 1299709u) * 2654435761u >> 16);
    }
    it.Set(v);
  }
  return img;
}

/* The inverse of a 3 x 3 matrix, by cofactors. */
void
invert3(const double m[3][3], double inv[3][3])
{
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
    {
      const int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
      inv[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
    }
}

/* What each operation gives for one pixel (values relative to 65535). */
double
reference(const std::string & op, const itk::VariableLengthVector<uint16_t> & v)
{
  if (op == "luminance")
    return 0.2125 * v[0] + 0.7154 * v[1] + 0.0721 * v[2];
  if (op == "1")
    return v[1];
  // rgb2hed: optical densities log(t) / log(1e-6), times the inverse of the
  // stain matrix (rows: hematoxylin, eosin, DAB), negative amounts 0.
  const double rgb_from_hed[3][3] = { { 0.65, 0.70, 0.29 }, { 0.07, 0.99, 0.11 }, { 0.27, 0.57, 0.78 } };
  double       hed_from_rgb[3][3];
  invert3(rgb_from_hed, hed_from_rgb);
  double od[3];
  for (int c = 0; c < 3; ++c)
    od[c] = std::log(std::min(std::max(v[c] / 65535.0, 1e-6), 1.0)) / std::log(1e-6);
  const int stain = op == "hematoxylin" ? 0 : op == "eosin" ? 1 : 2;
  double    s = 0;
  for (int c = 0; c < 3; ++c)
    s += od[c] * hed_from_rgb[c][stain];
  return std::max(s, 0.0);
}

void
test_channel_reference()
{
  const auto colour = makeColour();
  for (const std::string op : { "luminance", "1", "hematoxylin", "eosin", "dab" })
  {
    for (unsigned divisions : { 1u, 5u })
    {
      auto f = itk::ChannelConversionImageFilter<RGBVector, Grey>::New();
      f->SetInput(colour);
      f->SetChannel(op);
      auto streamer = itk::StreamingImageFilter<Grey, Grey>::New();
      streamer->SetInput(f->GetOutput());
      streamer->SetNumberOfStreamDivisions(divisions);
      streamer->Update();
      const Grey * out = streamer->GetOutput();
      double       worst = 0;
      itk::ImageRegionConstIteratorWithIndex<RGBVector> it(colour, colour->GetLargestPossibleRegion());
      for (; !it.IsAtEnd(); ++it)
      {
        const double want = reference(op, it.Get());
        const double got = out->GetPixel(it.GetIndex());
        worst = std::max(worst, std::fabs(got - want) / std::max(1.0, std::fabs(want)));
      }
      CHECK(worst < 1e-6, "%s, %u pieces: relative error %g", op.c_str(), divisions, worst);
    }
  }
  // A channel the image lacks: the core's message, in ITK's exception.
  auto f = itk::ChannelConversionImageFilter<RGBVector, Grey>::New();
  f->SetInput(colour);
  f->SetChannel("3");
  expectThrow("channel 3 of 3", [&] { f->Update(); }, { "channel 3 does not exist" });
  expectThrow("unknown name", [&] { f->SetChannel("blue"); }, { "unknown channel" });
}

/* An RGB TIFF of @w x @h pixels, 8 bits, written with libtiff: tiled 16 x
 * 16 when @tiled, else strips of 5 rows. */
void
writeRGB(const std::string & path, bool tiled, uint32_t w = 41, uint32_t h = 29)
{
  TIFF *         tif = TIFFOpen(path.c_str(), "w");
  CHECK(tif != nullptr, "cannot create %s", path.c_str());
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  auto value = [](uint32_t x, uint32_t y, uint32_t c) {
    return static_cast<uint8_t>(((x * 31 + y * 17 + c * 85) ^ (x * y * 2654435761u >> 24)) & 0xff);
  };
  if (tiled)
  {
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
    std::vector<uint8_t> tile(16 * 16 * 3);
    for (uint32_t ty = 0; ty < h; ty += 16)
      for (uint32_t tx = 0; tx < w; tx += 16)
      {
        for (uint32_t y = 0; y < 16; ++y)
          for (uint32_t x = 0; x < 16; ++x)
            for (uint32_t c = 0; c < 3; ++c)
              tile[(y * 16 + x) * 3 + c] = tx + x < w && ty + y < h ? value(tx + x, ty + y, c) : 0;
        CHECK(TIFFWriteTile(tif, tile.data(), tx, ty, 0, 0) > 0, "cannot write tile %u,%u", tx, ty);
      }
  }
  else
  {
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 5);
    std::vector<uint8_t> row(w * 3);
    for (uint32_t y = 0; y < h; ++y)
    {
      for (uint32_t x = 0; x < w; ++x)
        for (uint32_t c = 0; c < 3; ++c)
          row[x * 3 + c] = value(x, y, c);
      CHECK(TIFFWriteScanline(tif, row.data(), y, 0) == 1, "cannot write row %u", y);
    }
  }
  TIFFClose(tif);
}

void
test_io_rgb()
{
  using Vector = itk::VectorImage<uint8_t, 2>;
  using RGB = itk::Image<itk::RGBPixel<uint8_t>, 2>;
  const std::string dir = ioTestDir("rgb");
  for (bool tiled : { false, true })
  {
    const std::string path = dir + (tiled ? "/tiled.tif" : "/strips.tif");
    writeRGB(path, tiled);
    // Ours, streamed in 4 pieces, into a VectorImage.
    auto io = itk::BlockwiseTIFFImageIO::New();
    auto reader = itk::ImageFileReader<Vector>::New();
    reader->SetFileName(path);
    reader->SetImageIO(io);
    auto streamer = itk::StreamingImageFilter<Vector, Vector>::New();
    streamer->SetInput(reader->GetOutput());
    streamer->SetNumberOfStreamDivisions(4);
    streamer->Update();
    CHECK(io->GetPixelType() == itk::IOPixelEnum::RGB && io->GetNumberOfComponents() == 3, "pixel type %s",
          itk::ImageIOBase::GetPixelTypeAsString(io->GetPixelType()).c_str());
    // ITK's own reader of the same file.
    auto itkReader = itk::ImageFileReader<RGB>::New();
    itkReader->SetFileName(path);
    itkReader->SetImageIO(itk::TIFFImageIO::New());
    itkReader->Update();
    const RGB *    want = itkReader->GetOutput();
    const Vector * got = streamer->GetOutput();
    CHECK(got->GetLargestPossibleRegion() == want->GetLargestPossibleRegion(), "regions differ");
    long differ = 0;
    itk::ImageRegionConstIteratorWithIndex<RGB> it(want, want->GetLargestPossibleRegion());
    for (; !it.IsAtEnd(); ++it)
    {
      const auto v = got->GetPixel(it.GetIndex());
      for (unsigned c = 0; c < 3; ++c)
        differ += v[c] != it.Get()[c];
    }
    CHECK(differ == 0, "%s: %ld samples differ from ITK's TIFFImageIO", path.c_str(), differ);
  }
}

/* One channel made while decoding (SetChannelConversion) equals the
 * channel filter over every channel read, bit for bit: strips and tiles,
 * streamed in 1, 7 and 64 pieces (pieces thinner than a row of tiles reuse
 * the decoded row), on 1 to 3 read threads.  A grey file is read as it is;
 * a channel the file lacks throws. */
void
test_io_channel_conversion()
{
  using Vector = itk::VectorImage<uint8_t, 2>;
  const std::string dir = ioTestDir("channel_io");
  for (bool tiled : { false, true })
  {
    const std::string path = dir + (tiled ? "/tiled.tif" : "/strips.tif");
    writeRGB(path, tiled, 203, 141);
    for (const std::string op : { "luminance", "hematoxylin", "1" })
    {
      bw_channel_params p;
      bw_channel_params_init(&p);
      CHECK(bw_channel_from_name(op.c_str(), &p, nullptr) == BW_OK, "%s", op.c_str());
      // The oracle: every channel read, then the channel filter.
      auto all = itk::ImageFileReader<Vector>::New();
      all->SetFileName(path);
      all->SetImageIO(itk::BlockwiseTIFFImageIO::New());
      auto conv = itk::ChannelConversionImageFilter<Vector, Grey>::New();
      conv->SetInput(all->GetOutput());
      conv->SetChannel(op);
      conv->Update();
      const Grey * want = conv->GetOutput();
      for (unsigned divisions : { 1u, 7u, 64u })
        for (unsigned threads : { 1u, 3u })
        {
          auto io = itk::BlockwiseTIFFImageIO::New();
          io->SetChannelConversion(p);
          io->SetNumberOfReadThreads(threads);
          bw_channel_params back;
          CHECK(io->GetChannelConversion(back) && back.op == p.op, "the conversion set");
          auto reader = itk::ImageFileReader<Grey>::New();
          reader->SetFileName(path);
          reader->SetImageIO(io);
          auto streamer = itk::StreamingImageFilter<Grey, Grey>::New();
          streamer->SetInput(reader->GetOutput());
          streamer->SetNumberOfStreamDivisions(divisions);
          streamer->Update();
          CHECK(io->GetNumberOfComponents() == 1 && io->GetPixelType() == itk::IOPixelEnum::SCALAR,
                "one channel read");
          CHECK(io->GetComponentType() == (op == "1" ? itk::IOComponentEnum::UCHAR : itk::IOComponentEnum::FLOAT),
                "%s: component type", op.c_str());
          const Grey * got = streamer->GetOutput();
          long differ = 0;
          itk::ImageRegionConstIteratorWithIndex<Grey> it(want, want->GetLargestPossibleRegion());
          for (; !it.IsAtEnd(); ++it)
          {
            const float a = it.Get(), b = got->GetPixel(it.GetIndex());
            differ += std::memcmp(&a, &b, sizeof a) != 0;
          }
          CHECK(differ == 0, "%s, %s, %u pieces, %u threads: %ld pixels differ from the channel filter's",
                path.c_str(), op.c_str(), divisions, threads, differ);
        }
    }
  }
  // A grey file is read as it is; a channel an RGB file lacks throws.
  const std::string grey = dir + "/grey.tif";
  auto img = Grey::New();
  Grey::RegionType region;
  region.SetSize({ { 9, 7 } });
  img->SetRegions(region);
  img->Allocate();
  img->FillBuffer(2.5f);
  auto writer = itk::ImageFileWriter<Grey>::New();
  writer->SetInput(img);
  writer->SetFileName(grey);
  writer->SetImageIO(itk::BlockwiseTIFFImageIO::New());
  writer->Update();
  bw_channel_params lum;
  bw_channel_params_init(&lum);
  auto io = itk::BlockwiseTIFFImageIO::New();
  io->SetChannelConversion(lum);
  auto reader = itk::ImageFileReader<Grey>::New();
  reader->SetFileName(grey);
  reader->SetImageIO(io);
  reader->Update();
  CHECK(reader->GetOutput()->GetPixel({ { 3, 4 } }) == 2.5f, "grey as it is");
  io->RemoveChannelConversion();
  CHECK(!io->GetChannelConversion(lum), "no conversion after RemoveChannelConversion()");
  bw_channel_params five;
  bw_channel_params_init(&five);
  five.op = BW_CHANNEL_INDEX;
  five.index = 5;
  auto io5 = itk::BlockwiseTIFFImageIO::New();
  io5->SetChannelConversion(five);
  auto r5 = itk::ImageFileReader<Grey>::New();
  r5->SetFileName(dir + "/tiled.tif");
  r5->SetImageIO(io5);
  expectThrow("channel 5 of 3", [&] { r5->Update(); }, { "as one channel", "channel 5 does not exist" });
}

} // namespace

const blockwise_test::Entry blockwise_test::channel_tests[] = {
  { "channel_reference", test_channel_reference },
  { "io_rgb", test_io_rgb },
  { "io_channel_conversion", test_io_channel_conversion },
  { nullptr, nullptr },
};
