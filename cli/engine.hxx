/*
 * The command's ITK pipeline, for one image dimension.  Each image step
 * becomes an ITK process object (a reader over Blockwise's streaming TIFF
 * IO, a block filter, a cast when a pair's element types differ); maps that
 * feed heatmaps or summaries pass through a tap that shows each streamed band
 * to them; writes stream through ImageFileWriter in enough pieces to keep
 * the working set under the memory budget.
 */
#ifndef BLOCKWISE_CLI_ENGINE_HXX
#define BLOCKWISE_CLI_ENGINE_HXX

#include "engine.h"
#include "map_tap.h"
#include "memory.h"
#include "png_write.h"
#include "render.h"
#include "tiled_blocks.h"

#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockShiftImageFilter.h"
#include "itkBlockStatisticsImageFilter.h"
#include "itkBlockwiseOpenSlideImageIO.h"
#include "itkBlockwiseTIFFImageIO.h"
#include "itkCastImageFilter.h"
#include "itkChannelConversionImageFilter.h"
#include "itkLocalStatisticsImageFilter.h"
#include "itkImageFileReader.h"
#include "itkImageAlgorithm.h"
#include "itkImageFileWriter.h"
#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkImageRegionSplitterSlowDimension.h"
#include "itkImageToImageFilter.h"
#include "itkMultiThreaderBase.h"
#include "itkNonLocalMeansImageFilter.h"
#include "itkRichardsonLucyBlockwiseImageFilter.h"
#include "itkNrrdImageIO.h"
#include "itkProcessObject.h"
#include "itkStreamingImageFilter.h"
#include "itkVectorImage.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include <malloc.h>

namespace blockwise_cli
{
namespace engine_detail
{

template <typename T>
struct Tag
{
  using type = T;
};

/** Calls f(Tag<T>{}) for the first of Ts whose core element type
 * (itk::blockwise::DType, the one table of them) is @dtype. */
template <typename F>
void
WithTypeOf(bw_dtype, F &&)
{
  throw RuntimeError("unsupported element type");
}

template <typename T, typename... Ts, typename F>
void
WithTypeOf(bw_dtype dtype, F && f)
{
  if (itk::blockwise::DType<T>::value == dtype)
    return f(Tag<T>{});
  WithTypeOf<Ts...>(dtype, std::forward<F>(f));
}

/** Calls f(Tag<T>{}) with the C++ type of @dtype. */
template <typename F>
void
WithPixelType(bw_dtype dtype, F && f)
{
  WithTypeOf<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, double>(dtype, std::forward<F>(f));
}

/** Calls f(Tag<float>{}) or f(Tag<double>{}): the types filters make. */
template <typename F>
void
WithMapType(bw_dtype dtype, F && f)
{
  if (dtype == BW_F64)
    return f(Tag<double>{});
  return f(Tag<float>{});
}

/** @message with the outputs' temporary names replaced by their final names. */
inline std::string
WithFinalNames(std::string message, const std::map<size_t, std::string> & temps, const Resolved & plan)
{
  for (const auto & t : temps)
    for (size_t at; (at = message.find(t.second)) != std::string::npos;)
      message.replace(at, t.second.size(), plan.steps[t.first].step->path);
  return message;
}

/** ITK's message without the "ITK ERROR: Class(0x...): " it starts with,
 * and with the outputs' final names. */
inline std::string
Describe(const itk::ExceptionObject & e, const std::map<size_t, std::string> & temps, const Resolved & plan)
{
  std::string d = e.GetDescription();
  const size_t tag = d.find("ITK ERROR: ");
  if (tag != std::string::npos)
  {
    const size_t colon = d.find("): ", tag);
    d.erase(tag, colon == std::string::npos ? 11 : colon + 3 - tag);
  }
  d = WithFinalNames(d, temps, plan);
  while (!d.empty() && (d.back() == '\n' || d.back() == ' '))
    d.pop_back();
  return d;
}

template <unsigned int D>
class Engine
{
public:
  explicit Engine(const EngineJob & job)
    : m_Job(job)
    , m_Plan(*job.plan)
    , m_Nodes(job.plan->steps.size())
  {}

  std::vector<MapSummary>
  Run();

private:
  struct Node
  {
    itk::ProcessObject::Pointer filter;   // keeps the pipeline alive
    itk::DataObject::Pointer    image;    // the step's output
    itk::ProcessObject::Pointer tap;      // MapTap over image, when observed
    itk::DataObject::Pointer    tapped;   // the tap's output
    bool                        recorded = false;
    std::unique_ptr<MapRaster>  raster;   // for the first heatmap on this map
    std::vector<size_t>         heatmaps; // steps drawing this map
    std::vector<std::pair<size_t, std::unique_ptr<MapStatistics>>> summaries;
    // A Shift step's: r at the best and at zero shift (the filter's other
    // outputs, computed with the field), and what observes the field.
    itk::DataObject::Pointer    peak, zero;
    itk::LightObject::Pointer   io; // a Read step's ImageIO
    std::unique_ptr<ShiftRaster> shift_raster;
    std::vector<std::pair<size_t, std::unique_ptr<ShiftStatistics>>> shift_summaries;
  };

  template <typename T>
  using ImageOf = itk::Image<T, D>;
  /** A Shift step's image: a displacement vector per block. */
  using FieldOf = itk::Image<itk::Vector<float, D>, D>;
  using RegionType = itk::ImageRegion<D>;

  template <typename T>
  ImageOf<T> *
  Input(size_t node) const
  {
    auto * image = dynamic_cast<ImageOf<T> *>(m_Nodes[node].image.GetPointer());
    if (!image)
      throw RuntimeError("internal: step '" + m_Plan.steps[node].step->name + "' has an unexpected pixel type");
    return image;
  }

  /** Makes @f the filter of node @i and its output the node's image. */
  template <typename F>
  void
  Attach(size_t i, const F & f)
  {
    m_Nodes[i].filter = f;
    m_Nodes[i].image = f->GetOutput();
  }

  void
  BuildRead(size_t i);
  void
  BuildBlock(size_t i);
  void
  BuildTiled(size_t i);
  void
  BuildLocal(size_t i);
  void
  BuildShift(size_t i);
  void
  BuildDeconvolve(size_t i);
  void
  BuildShiftTap(size_t n);
  void
  BuildDenoise(size_t i);
  void
  BuildChannel(size_t i);
  itk::DataObject::Pointer
  AsDouble(size_t node);
  void
  BuildTap(size_t i);
  void
  Write(size_t i);
  void
  Drive(size_t node);
  void
  DrawHeatmap(size_t i);

  /** Pieces that keep the node's pipeline under the budget (memory.h). */
  unsigned int
  Divisions(size_t node) const
  {
    return blockwise_cli::Divisions(m_Plan, node, m_Job.options.memory);
  }

  /** Stops the run (itk::ProcessAborted) when the user interrupted it. */
  void
  CheckInterrupted() const
  {
    if (m_Job.interrupted && *m_Job.interrupted)
      throw itk::ProcessAborted(__FILE__, __LINE__);
  }

  /** Reports progress, and stops the run when the user interrupted it. */
  void
  Report(double within_pass, const std::string & what)
  {
    this->CheckInterrupted();
    if (m_Job.progress)
      m_Job.progress((m_Pass + std::min(std::max(within_pass, 0.0), 1.0)) / std::max(m_Passes, 1.0), what);
  }

  const EngineJob &  m_Job;
  const Resolved &   m_Plan;
  std::vector<Node>  m_Nodes;
  std::vector<itk::ProcessObject::Pointer> m_Casts;
  double             m_Pass = 0, m_Passes = 1;
};

template <unsigned int D>
void
Engine<D>::Write(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  const size_t         n = r.inputs[0];
  Node &               node = m_Nodes[n];
  const unsigned int   divisions = this->Divisions(n);
  const std::string &  temp = m_Job.temp_paths.at(i);
  const std::string    what = "writing " + r.step->path;
  itk::DataObject *    source = node.tap ? node.tapped.GetPointer() : node.image.GetPointer();

  // An image of scalars, or a displacement field (vectors: a TIFF of as
  // many samples per pixel, or a NRRD vector image).
  auto write = [&](auto image_tag) {
    using I = typename decltype(image_tag)::type;
    auto * image = dynamic_cast<I *>(source);
    if (!image)
      throw RuntimeError("internal: step '" + m_Plan.steps[n].step->name + "' has an unexpected pixel type");
    auto writer = itk::ImageFileWriter<I>::New();
    writer->SetFileName(temp);
    if (IsNrrdPath(r.step->path))
    {
      // ITK's NRRD writer takes the image whole (gzip when compressed).
      writer->SetImageIO(itk::NrrdImageIO::New());
      writer->SetUseCompression(r.compression != BW_TIFF_NONE);
    }
    else
    {
      auto io = itk::BlockwiseTIFFImageIO::New();
      // No predictor: readers without the floating-point predictor (tifffile
      // without imagecodecs, for one) can read every file the command writes.
      io->SetUsePredictor(false);
      if (r.step->tile)
        io->SetTileSize(static_cast<unsigned int>(r.step->tile), static_cast<unsigned int>(r.step->tile));
      writer->SetImageIO(io);
      io->SetTIFFCompression(r.compression);
      writer->SetUseCompression(r.compression != BW_TIFF_NONE);
      // Deflate at level 1 unless told otherwise: maps compress nearly as
      // well, and the default level took a fifth of a whole run.
      if (r.step->level > 0 || r.compression == BW_TIFF_DEFLATE)
        writer->SetCompressionLevel(r.step->level > 0 ? r.step->level : 1);
    }
    if (IsNrrdPath(r.step->path))
    {
      // The NRRD writer asks for the whole map at once: a streaming filter
      // in front computes it piece by piece, so only the map is whole.
      auto streamer = itk::StreamingImageFilter<I, I>::New();
      streamer->SetInput(image);
      streamer->SetNumberOfStreamDivisions(divisions);
      streamer->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
        this->Report(streamer->GetProgress(), what);
      });
      writer->SetInput(streamer->GetOutput());
      this->Report(0, what);
      writer->Update();
      return;
    }
    writer->SetInput(image);
    writer->SetNumberOfStreamDivisions(divisions);
    writer->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
      this->Report(writer->GetProgress(), what);
    });
    this->Report(0, what);
    writer->Update();
  };
  if (m_Plan.steps[n].step->op == Op::Shift)
    write(Tag<FieldOf>{});
  else
    WithPixelType(m_Plan.steps[n].node.dtype, [&](auto tag) { write(Tag<ImageOf<typename decltype(tag)::type>>{}); });
  // The first pass over a map showed it whole to its observers.
  node.recorded = true;
}

/** Pulls a map through its tap band by band, for heatmaps and summaries of
 * maps no step writes. */
template <unsigned int D>
void
Engine<D>::Drive(size_t n)
{
  Node &            node = m_Nodes[n];
  auto *            out = dynamic_cast<itk::ImageBase<D> *>(node.tapped.GetPointer());
  const std::string what = "computing " + m_Plan.steps[n].step->name;
  out->UpdateOutputInformation();
  const RegionType largest = out->GetLargestPossibleRegion();
  auto             splitter = itk::ImageRegionSplitterSlowDimension::New();
  const unsigned   pieces = splitter->GetNumberOfSplits(largest, this->Divisions(n));
  for (unsigned p = 0; p < pieces; ++p)
  {
    RegionType piece = largest;
    splitter->GetSplit(p, pieces, piece);
    this->Report(static_cast<double>(p) / pieces, what);
    out->SetRequestedRegion(piece);
    out->PropagateRequestedRegion();
    out->UpdateOutputData();
  }
  node.recorded = true;
}

template <unsigned int D>
void
Engine<D>::DrawHeatmap(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  const Node &         node = m_Nodes[r.inputs[0]];
  Picture              pic;
  if (node.shift_raster)
  {
    // The field's cells and the thumbnail's, in pixels of the image.
    const ResolvedStep & field = m_Plan.steps[r.inputs[0]];
    const int            nd = field.node.ndim;
    const double         factor = static_cast<double>(node.shift_raster->X().Factor());
    const double         field_cell[2] = { factor * static_cast<double>(field.shift.block[nd - 2]),
                                           factor * static_cast<double>(field.shift.block[nd - 1]) };
    double               under_cell[2] = { 1, 1 };
    const MapRaster *    under = nullptr;
    if (r.inputs.size() == 2)
    {
      const ResolvedStep & thumb = m_Plan.steps[r.inputs[1]];
      under = m_Nodes[r.inputs[1]].raster.get();
      const double f = static_cast<double>(under->Factor());
      under_cell[0] = f * static_cast<double>(thumb.params.block[nd - 2]);
      under_cell[1] = f * static_cast<double>(thumb.params.block[nd - 1]);
    }
    pic = RenderShift(*node.shift_raster, under, field_cell, under_cell, 0.0, r.step->scale);
  }
  else
    pic = RenderHeatmap(*node.raster, r.step->range_lo, r.step->range_hi, r.step->scale);
  char                 message[512];
  if (blockwise_write_png_rgb(m_Job.temp_paths.at(i).c_str(), pic.rgb.data(), static_cast<long>(pic.width),
                              static_cast<long>(pic.height), message, sizeof message) != 0)
    throw RuntimeError(WithFinalNames(message, m_Job.temp_paths, m_Plan));
}

template <unsigned int D>
std::vector<MapSummary>
Engine<D>::Run()
{
  const size_t count = m_Plan.steps.size();
  if (m_Job.options.threads > 0)
  {
    const auto n = static_cast<itk::ThreadIdType>(m_Job.options.threads);
    itk::MultiThreaderBase::SetGlobalMaximumNumberOfThreads(
      std::max(n, itk::MultiThreaderBase::GetGlobalMaximumNumberOfThreads()));
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(n);
  }
  // Which maps are observed, and by what.
  for (size_t i = 0; i < count; ++i)
  {
    const ResolvedStep & r = m_Plan.steps[i];
    if (r.step->op == Op::Heatmap)
      for (size_t in : r.inputs) // a field, and the map under it
        m_Nodes[in].heatmaps.push_back(i);
    if (r.step->op == Op::Summary && m_Plan.steps[r.inputs[0]].step->op == Op::Shift)
    {
      const ResolvedStep & field = m_Plan.steps[r.inputs[0]];
      const NodeInfo &     image = m_Plan.steps[field.inputs[0]].node;
      m_Nodes[r.inputs[0]].shift_summaries.emplace_back(
        i, std::unique_ptr<ShiftStatistics>(
             new ShiftStatistics(image.ndim, field.shift.search, image.spacing, SummaryValues(field.node, ~uint64_t{ 0 }),
                                 m_Job.options.memory / 8 / sizeof(float))));
    }
    else if (r.step->op == Op::Summary)
    {
      const NodeInfo & map = m_Plan.steps[r.inputs[0]].node;
      double           cells = 1;
      for (int d = 0; d < map.ndim; ++d)
        cells *= static_cast<double>(map.shape[d]);
      const uint64_t limit = SummaryValues(map, m_Job.options.memory);
      // Exact order statistics while the values fit in an eighth of the
      // budget; past that, maps of r go on in a histogram over [-1, 1].
      // Other maps have no known range: their values must fit.
      const ResolvedStep & map_step = m_Plan.steps[r.inputs[0]];
      const bool     bounded = map_step.step->op == Op::Corr && map_step.stat == BW_STAT_CORR;
      if (!bounded && static_cast<double>(limit) < cells)
        throw RuntimeError("summary '" + r.step->name + "': the " + std::to_string(static_cast<uint64_t>(cells)) +
                           " values of '" + map_step.step->name + "' need " +
                           std::to_string(static_cast<uint64_t>(cells * 4 / (1 << 20)) + 1) +
                           " MiB for exact percentiles, over an eighth of --memory");
      m_Nodes[r.inputs[0]].summaries.emplace_back(
        i, std::unique_ptr<MapStatistics>(new MapStatistics(-1.0, 1.0, r.step->threshold, limit)));
    }
  }

  for (size_t i = 0; i < count; ++i)
  {
    switch (m_Plan.steps[i].step->op)
    {
      case Op::Read:
        if (!m_Plan.steps[i].tiled) // else its consumer reads the file
          this->BuildRead(i);
        break;
      case Op::Corr:
      case Op::Stats:
        this->BuildBlock(i);
        break;
      case Op::Local:
        this->BuildLocal(i);
        break;
      case Op::Shift:
        this->BuildShift(i);
        break;
      case Op::Deconvolve:
        this->BuildDeconvolve(i);
        break;
      case Op::Denoise:
        this->BuildDenoise(i);
        break;
      case Op::Channel:
        if (!m_Plan.steps[i].tiled)
          this->BuildChannel(i);
        break;
      default:
        break;
    }
  }
  for (size_t n = 0; n < count; ++n)
    if (m_Plan.steps[n].step->op == Op::Shift)
    {
      if (!m_Nodes[n].heatmaps.empty() || !m_Nodes[n].shift_summaries.empty())
        this->BuildShiftTap(n);
    }
    else if (!m_Nodes[n].heatmaps.empty() || !m_Nodes[n].summaries.empty())
      this->BuildTap(n);

  // One pass per write, and one per observed map that no write streams.
  std::vector<size_t> writes, drives;
  for (size_t i = 0; i < count; ++i)
    if (m_Plan.steps[i].step->op == Op::Write)
      writes.push_back(i);
  for (size_t n = 0; n < count; ++n)
  {
    bool written = false;
    for (size_t w : writes)
      written = written || m_Plan.steps[w].inputs[0] == n;
    if (m_Nodes[n].tap && !written)
      drives.push_back(n);
  }
  m_Passes = static_cast<double>(writes.size() + drives.size());

  try
  {
    // Each pass leaves its last piece in the pipeline's buffers: freed
    // before the next pass, which asks for pieces of its own.
    auto release = [this]() {
      for (Node & node : m_Nodes)
        for (itk::DataObject * d : { node.image.GetPointer(), node.tapped.GetPointer(), node.peak.GetPointer(),
                                     node.zero.GetPointer() })
          if (d)
            d->ReleaseData();
      for (auto & cast : m_Casts)
        for (auto & out : cast->GetOutputs())
          out->ReleaseData();
      for (Node & node : m_Nodes)
        if (auto * tiff = dynamic_cast<itk::BlockwiseTIFFImageIO *>(node.io.GetPointer()))
          tiff->ReleaseDecodedChunks();
#ifdef M_TRIM_THRESHOLD
      malloc_trim(0); // what the pass freed, back to the system
#endif
    };
    for (size_t w : writes)
    {
      this->Write(w);
      ++m_Pass;
      release();
    }
    for (size_t n : drives)
    {
      this->Drive(n);
      ++m_Pass;
      release();
    }
    for (size_t i = 0; i < count; ++i)
      if (m_Plan.steps[i].step->op == Op::Heatmap)
        this->DrawHeatmap(i);
  }
  catch (const itk::ProcessAborted &)
  {
    throw RuntimeError("interrupted");
  }
  catch (const itk::ExceptionObject & e)
  {
    if (m_Job.interrupted && *m_Job.interrupted)
      throw RuntimeError("interrupted");
    throw RuntimeError(Describe(e, m_Job.temp_paths, m_Plan));
  }
  this->Report(0, "done");

  // A summary of summary step @step over node @n: its name, and the first
  // files the node is written to and drawn in.
  auto summaryOf = [&](size_t n, size_t step) {
    MapSummary out;
    out.step = m_Plan.steps[step].step->name;
    for (size_t i = 0; i < count; ++i)
    {
      const ResolvedStep & r = m_Plan.steps[i];
      if (r.step->op == Op::Write && r.inputs[0] == n && out.map_path.empty())
        out.map_path = r.step->path;
      if (r.step->op == Op::Heatmap && r.inputs[0] == n && out.png_path.empty())
        out.png_path = r.step->path;
    }
    return out;
  };
  std::vector<MapSummary> summaries;
  for (size_t n = 0; n < count; ++n)
    for (auto & s : m_Nodes[n].summaries)
    {
      MapSummary out = summaryOf(n, s.first);
      s.second->Finish(out);
      summaries.push_back(out);
    }
  for (size_t n = 0; n < count; ++n)
    for (auto & s : m_Nodes[n].shift_summaries)
    {
      MapSummary out = summaryOf(n, s.first);
      out.displacement = true;
      s.second->Finish(out.shift);
      out.blocks = out.shift.blocks;
      out.finite = out.shift.defined;
      summaries.push_back(out);
    }
  return summaries;
}

} // namespace engine_detail
} // namespace blockwise_cli

// The builders of the steps' filters, Engine<D>::Build*.
#include "engine_build.hxx"

#endif
