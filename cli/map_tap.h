/*
 * MapTap: the pass-through filter that shows a map, piece by piece as it
 * streams, to the summaries and heatmaps observing it.
 */
#ifndef BLOCKWISE_CLI_MAP_TAP_H
#define BLOCKWISE_CLI_MAP_TAP_H

#include "itkImageAlgorithm.h"
#include "itkImageToImageFilter.h"

#include <functional>

namespace blockwise_cli
{
namespace engine_detail
{

/**
 * A pass-through filter that hands every region it is asked for, once
 * computed upstream, to an observer: how maps reach summaries and heatmaps
 * while they stream to a writer.  Where its input holds exactly the region
 * asked for, it passes that buffer on; else it copies the region (maps are
 * small beside their inputs), so that it runs once per piece even when a
 * source upstream (a reader that cannot stream) holds more than the piece.
 */
template <typename TImage>
class MapTap : public itk::ImageToImageFilter<TImage, TImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(MapTap);
  using Self = MapTap;
  using Superclass = itk::ImageToImageFilter<TImage, TImage>;
  using Pointer = itk::SmartPointer<Self>;
  using Observer = std::function<void(const TImage &, const typename TImage::RegionType &)>;
  itkNewMacro(Self);
  itkTypeMacro(MapTap, ImageToImageFilter);

  void
  SetObserver(Observer observer)
  {
    m_Observer = std::move(observer);
  }

protected:
  MapTap() = default;
  ~MapTap() override = default;

  void
  GenerateData() override
  {
    const typename TImage::RegionType region = this->GetOutput()->GetRequestedRegion();
    const TImage *                    input = this->GetInput();
    if (input->GetBufferedRegion() == region)
    {
      // the same pixels, shared: nothing downstream writes to a map
      TImage * output = this->GetOutput();
      output->CopyInformation(input);
      output->SetBufferedRegion(region);
      output->SetPixelContainer(const_cast<TImage *>(input)->GetPixelContainer());
    }
    else
    {
      this->AllocateOutputs();
      itk::ImageAlgorithm::Copy(input, this->GetOutput(), region, region);
    }
    if (m_Observer)
      m_Observer(*this->GetOutput(), region);
  }

private:
  Observer m_Observer;
};

} // namespace engine_detail
} // namespace blockwise_cli

#endif
