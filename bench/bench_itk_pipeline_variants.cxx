/*
 * bench_itk_pipeline's variants, each run in a child process: ours
 * (BlockwiseTIFFImageIO and BlockCorrelationImageFilter, streamed) and
 * stock (ITK's TIFFImageIO and stock filters); and the check, in the
 * parent, that their maps agree.
 */
#include "bench_itk_pipeline.h"

#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkBlockwiseTIFFImageIOFactory.h"

#include "itkBinShrinkImageFilter.h"
#include "itkCastImageFilter.h"
#include "itkDivideImageFilter.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkMultiThreaderBase.h"
#include "itkMultiplyImageFilter.h"
#include "itkSqrtImageFilter.h"
#include "itkSubtractImageFilter.h"
#include "itkTIFFImageIO.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <string>

namespace bench_pipeline
{
namespace
{

using U16Image = itk::Image<uint16_t, 2>;
using F32Image = itk::Image<float, 2>;
using F64Image = itk::Image<double, 2>;

int
run_ours(const std::string & dir)
{
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();
  using ReaderType = itk::ImageFileReader<U16Image>;
  using CorrType = itk::BlockCorrelationImageFilter<U16Image, U16Image, F32Image>;
  using WriterType = itk::ImageFileWriter<F32Image>;

  auto ra = ReaderType::New();
  ra->SetFileName(dir + "/A.tif");
  auto rb = ReaderType::New();
  rb->SetFileName(dir + "/B.tif");
  auto corr = CorrType::New();
  corr->SetInput1(ra->GetOutput());
  corr->SetInput2(rb->GetOutput());
  corr->SetBlockSize(kBlock);
  auto writer = WriterType::New();
  writer->SetInput(corr->GetOutput());
  writer->SetFileName(dir + "/r.tif");

  // Pieces of about 16 MiB of input (both images together) each.
  ra->UpdateOutputInformation();
  const auto    size = ra->GetOutput()->GetLargestPossibleRegion().GetSize();
  const double  pair_bytes = 2.0 * sizeof(uint16_t) * static_cast<double>(size[0]) * static_cast<double>(size[1]);
  const double  piece_bytes = 16.0 * 1024 * 1024;
  unsigned long divisions = static_cast<unsigned long>(std::ceil(pair_bytes / piece_bytes));
  divisions = std::max(1ul, std::min<unsigned long>(divisions, (size[1] + kBlock - 1) / kBlock));
  writer->SetNumberOfStreamDivisions(static_cast<unsigned int>(divisions));
  writer->Update();

  if (dynamic_cast<itk::BlockwiseTIFFImageIO *>(ra->GetModifiableImageIO()) == nullptr ||
      dynamic_cast<itk::BlockwiseTIFFImageIO *>(writer->GetModifiableImageIO()) == nullptr)
  {
    std::cerr << "bench_itk_pipeline: ours: the reader or writer did not use BlockwiseTIFFImageIO\n";
    return 1;
  }
  return 0;
}

int
run_stock(const std::string & dir)
{
  using ReaderType = itk::ImageFileReader<U16Image>;
  using CastInType = itk::CastImageFilter<U16Image, F64Image>;
  using MulType = itk::MultiplyImageFilter<F64Image, F64Image, F64Image>;
  using SubType = itk::SubtractImageFilter<F64Image, F64Image, F64Image>;
  using DivType = itk::DivideImageFilter<F64Image, F64Image, F64Image>;
  using SqrtType = itk::SqrtImageFilter<F64Image, F64Image>;
  using ShrinkType = itk::BinShrinkImageFilter<F64Image, F64Image>;
  using CastOutType = itk::CastImageFilter<F64Image, F32Image>;
  using WriterType = itk::ImageFileWriter<F32Image>;

  // A pipeline's data objects do not keep their sources alive: every filter
  // stays referenced here until the writer has run.
  auto read = [&](const char * name) {
    auto reader = ReaderType::New();
    reader->SetImageIO(itk::TIFFImageIO::New());
    reader->SetFileName(dir + "/" + name);
    return reader;
  };
  auto cast = [](U16Image * p) {
    auto f = CastInType::New();
    f->SetInput(p);
    return f;
  };
  auto mul = [](F64Image * p, F64Image * q) {
    auto f = MulType::New();
    f->SetInput1(p);
    f->SetInput2(q);
    return f;
  };
  auto sub = [](F64Image * p, F64Image * q) {
    auto f = SubType::New();
    f->SetInput1(p);
    f->SetInput2(q);
    return f;
  };
  auto shrink = [](F64Image * p) {
    auto f = ShrinkType::New();
    f->SetInput(p);
    f->SetShrinkFactors(kBlock);
    return f;
  };

  auto readA = read("A.tif");
  auto readB = read("B.tif");
  auto x = cast(readA->GetOutput());
  auto y = cast(readB->GetOutput());
  auto xx = mul(x->GetOutput(), x->GetOutput());
  auto yy = mul(y->GetOutput(), y->GetOutput());
  auto xy = mul(x->GetOutput(), y->GetOutput());
  auto ex = shrink(x->GetOutput());
  auto ey = shrink(y->GetOutput());
  auto exx = shrink(xx->GetOutput());
  auto eyy = shrink(yy->GetOutput());
  auto exy = shrink(xy->GetOutput());
  auto ex2 = mul(ex->GetOutput(), ex->GetOutput());
  auto ey2 = mul(ey->GetOutput(), ey->GetOutput());
  auto exey = mul(ex->GetOutput(), ey->GetOutput());
  auto vx = sub(exx->GetOutput(), ex2->GetOutput());
  auto vy = sub(eyy->GetOutput(), ey2->GetOutput());
  auto cxy = sub(exy->GetOutput(), exey->GetOutput());
  auto vxvy = mul(vx->GetOutput(), vy->GetOutput());
  auto sd = SqrtType::New();
  sd->SetInput(vxvy->GetOutput());
  auto r = DivType::New();
  r->SetInput1(cxy->GetOutput());
  r->SetInput2(sd->GetOutput());
  auto rf = CastOutType::New();
  rf->SetInput(r->GetOutput());
  auto writer = WriterType::New();
  writer->SetImageIO(itk::TIFFImageIO::New());
  writer->SetInput(rf->GetOutput());
  writer->SetFileName(dir + "/r_stock.tif");
  writer->Update();
  return 0;
}

F32Image::Pointer
read_with_itk_tiff(const std::string & path)
{
  auto reader = itk::ImageFileReader<F32Image>::New();
  reader->SetImageIO(itk::TIFFImageIO::New());
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

} // namespace

int
run_variant(const std::string & name, const std::string & dir, int threads)
{
  if (threads > 0)
  {
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(threads);
  }
  try
  {
    if (name == "noop")
    {
      return 0;
    }
    if (name == "ours")
    {
      return run_ours(dir);
    }
    if (name == "stock")
    {
      return run_stock(dir);
    }
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "bench_itk_pipeline: variant " << name << ": " << e.GetDescription() << "\n";
    return 1;
  }
  catch (const std::exception & e)
  {
    std::cerr << "bench_itk_pipeline: variant " << name << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "bench_itk_pipeline: unknown variant " << name << "\n";
  return 2;
}

/* ------------------------------------------------------------------------ */
/* Verification (in the parent)                                             */
/* ------------------------------------------------------------------------ */

/* Compares r.tif with r_stock.tif over the blocks both have (BinShrink drops
 * partial edge blocks, ours keeps them).  A block without correlation is
 * NaN in ours; in the stock pipeline DivideImageFilter returns the largest
 * double for a zero denominator, which becomes +inf as a float, so there a
 * non-finite value or one of float's largest magnitude marks it. */
bool
verify(const std::string & dir, int64_t width, int64_t height)
{
  F32Image::Pointer ours, stock;
  try
  {
    ours = read_with_itk_tiff(dir + "/r.tif");
    stock = read_with_itk_tiff(dir + "/r_stock.tif");
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << "bench_itk_pipeline: verify: " << e.GetDescription() << "\n";
    return false;
  }
  const auto so = ours->GetLargestPossibleRegion().GetSize();
  const auto ss = stock->GetLargestPossibleRegion().GetSize();
  const auto nx = static_cast<int64_t>(ss[0]), ny = static_cast<int64_t>(ss[1]);
  const int64_t bx = (width + kBlock - 1) / kBlock, by = (height + kBlock - 1) / kBlock;
  if (static_cast<int64_t>(so[0]) != bx || static_cast<int64_t>(so[1]) != by || nx != width / kBlock ||
      ny != height / kBlock)
  {
    std::fprintf(stderr, "bench_itk_pipeline: verify: r.tif is %lux%lu, r_stock.tif %lux%lu\n",
                 static_cast<unsigned long>(so[0]), static_cast<unsigned long>(so[1]),
                 static_cast<unsigned long>(ss[0]), static_cast<unsigned long>(ss[1]));
    return false;
  }
  const float * po = ours->GetBufferPointer();
  const float * ps = stock->GetBufferPointer();
  double        max_diff = 0, sum_r = 0;
  int64_t       no_r = 0, finite = 0, bad = 0;
  for (int64_t j = 0; j < ny; ++j)
  {
    for (int64_t i = 0; i < nx; ++i)
    {
      const float o = po[j * bx + i], s = ps[j * nx + i];
      const bool  stock_no_r = !std::isfinite(s) || std::fabs(s) >= std::numeric_limits<float>::max();
      if (std::isnan(o) && stock_no_r)
      {
        ++no_r;
      }
      else if (std::isfinite(o) && !stock_no_r)
      {
        ++finite;
        sum_r += o;
        max_diff = std::max(max_diff, std::fabs(static_cast<double>(o) - static_cast<double>(s)));
      }
      else
      {
        if (bad < 5)
        {
          std::fprintf(stderr, "bench_itk_pipeline: verify: block (%lld, %lld): ours %g, stock %g\n",
                       static_cast<long long>(i), static_cast<long long>(j), static_cast<double>(o),
                       static_cast<double>(s));
        }
        ++bad;
      }
    }
  }
  const bool ok = bad == 0 && max_diff < 1e-4;
  std::printf("verify: r.tif vs r_stock.tif over %lldx%lld blocks: %lld without r in both, %lld mismatched, "
              "max |diff| %.2e over %lld finite (mean r %.3f): %s\n",
              static_cast<long long>(nx), static_cast<long long>(ny), static_cast<long long>(no_r),
              static_cast<long long>(bad), max_diff, static_cast<long long>(finite),
              finite ? sum_r / static_cast<double>(finite) : 0.0, ok ? "OK" : "FAILED");
  return ok;
}

} // namespace bench_pipeline
