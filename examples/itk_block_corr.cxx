// Pearson r per 10x10 block of two uint16 TIFFs, streamed: neither image is
// ever whole in memory.  Usage: itk_block_corr A.tif B.tif R.tif
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockwiseTIFFImageIOFactory.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"

#include <iostream>

int
main(int argc, char * argv[])
{
  if (argc != 4)
  {
    std::cerr << "usage: " << argv[0] << " A.tif B.tif R.tif" << std::endl;
    return 2;
  }
  // Blockwise's streaming TIFF IO, ahead of ITK's own for .tif/.tiff.
  itk::BlockwiseTIFFImageIOFactory::RegisterOneFactory();

  using InputImage = itk::Image<unsigned short, 2>;
  using MapImage = itk::Image<float, 2>;
  auto a = itk::ImageFileReader<InputImage>::New();
  auto b = itk::ImageFileReader<InputImage>::New();
  a->SetFileName(argv[1]);
  b->SetFileName(argv[2]);

  auto corr = itk::BlockCorrelationImageFilter<InputImage, InputImage, MapImage>::New();
  corr->SetInput1(a->GetOutput());
  corr->SetInput2(b->GetOutput());
  corr->SetBlockSize(10); // or a per-axis itk::Size<2>

  // 32 pieces: each asks the readers for its block-aligned rows only.
  auto writer = itk::ImageFileWriter<MapImage>::New();
  writer->SetInput(corr->GetOutput());
  writer->SetFileName(argv[3]);
  writer->SetNumberOfStreamDivisions(32);
  try
  {
    writer->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    std::cerr << e.GetDescription() << std::endl;
    return 1;
  }
  return 0;
}
