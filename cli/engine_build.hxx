// The steps of the command's ITK pipeline, each as filters: reading, block
// maps, denoising, channels and the taps heatmaps and summaries observe.
// Included by engine.hxx only.
#ifndef BLOCKWISE_CLI_ENGINE_BUILD_HXX
#define BLOCKWISE_CLI_ENGINE_BUILD_HXX

#include "engine.hxx"

namespace blockwise_cli
{
namespace engine_detail
{

template <unsigned int D>
void
Engine<D>::BuildRead(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  WithPixelType(r.node.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto read = [&](auto reader) {
      reader->SetFileName(r.step->path);
      // The level the plan chose, through whichever IO reads the file.
      auto atLevel = [&](auto io) {
        io->SetLevel(static_cast<unsigned int>(r.node.level));
        reader->SetImageIO(io);
        m_Nodes[i].io = io.GetPointer();
      };
      if (IsNrrdPath(r.step->path))
        reader->SetImageIO(itk::NrrdImageIO::New());
      else if (IsSlidePath(r.step->path))
        atLevel(itk::BlockwiseOpenSlideImageIO::New());
      else
      {
        auto io = itk::BlockwiseTIFFImageIO::New();
        if (r.fused)
          io->SetChannelConversion(r.channel);
        atLevel(io);
      }
      this->Attach(i, reader);
    };
    // One channel made while decoding; else pixels of several channels,
    // interleaved, for a channel step to take.
    if (r.fused && r.fused_type == BW_F32)
      read(itk::ImageFileReader<ImageOf<float>>::New());
    else if (r.fused)
      read(itk::ImageFileReader<ImageOf<T>>::New());
    else if (r.node.channels > 1)
      read(itk::ImageFileReader<itk::VectorImage<T, D>>::New());
    else
      read(itk::ImageFileReader<ImageOf<T>>::New());
  });
}

template <unsigned int D>
itk::DataObject::Pointer
Engine<D>::AsDouble(size_t node)
{
  itk::DataObject::Pointer out;
  WithPixelType(m_Plan.steps[node].node.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto cast = itk::CastImageFilter<ImageOf<T>, ImageOf<double>>::New();
    cast->SetInput(this->Input<T>(node));
    m_Casts.push_back(cast.GetPointer());
    out = cast->GetOutput();
  });
  return out;
}

template <unsigned int D>
void
Engine<D>::BuildBlock(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  const Step &         s = *r.step;
  if (r.tiled)
    return this->BuildTiled(i);

  // Both filters take the core's parameters as the plan made them.
  auto configure = [&](auto f) {
    f->SetCoreParameters(r.params);
    f->SetStatistic(itk::blockwise::FromCore(r.stat));
    this->Attach(i, f);
  };
  WithMapType(r.node.dtype, [&](auto out_tag) {
    using O = typename decltype(out_tag)::type;
    if (s.op == Op::Corr)
    {
      const size_t a = r.inputs[0], b = r.inputs[1];
      auto build = [&](auto tag, itk::DataObject * ia, itk::DataObject * ib) {
        using T = typename decltype(tag)::type;
        auto f = itk::BlockCorrelationImageFilter<ImageOf<T>, ImageOf<T>, ImageOf<O>>::New();
        f->SetInput1(dynamic_cast<ImageOf<T> *>(ia));
        f->SetInput2(dynamic_cast<ImageOf<T> *>(ib));
        // The command pairs pixels by index (the plan checked the sizes):
        // files from different scanners or writers state different
        // spacings, and the map takes A's.
        f->SetCoordinateTolerance(1e30);
        configure(f);
      };
      const bw_dtype ta = m_Plan.steps[a].node.dtype, tb = m_Plan.steps[b].node.dtype;
      if (ta == tb)
        WithPixelType(ta, [&](auto tag) { build(tag, m_Nodes[a].image, m_Nodes[b].image); });
      else
      {
        // Different element types: both are read as double, exactly for every type here.
        itk::DataObject::Pointer da = this->AsDouble(a), db = this->AsDouble(b);
        build(Tag<double>{}, da, db);
      }
    }
    else
    {
      WithPixelType(m_Plan.steps[r.inputs[0]].node.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        auto f = itk::BlockStatisticsImageFilter<ImageOf<T>, ImageOf<O>>::New();
        f->SetInput(this->Input<T>(r.inputs[0]));
        configure(f);
      });
    }
  });
}

/** A block step over tiled TIFFs, in one pass over their tiles: the files
 * and conversions of the reads (and channel steps) in front of it, which
 * build nothing of their own. */
/** The source of a tile-driven block map: 2-D only. */
template <unsigned int D, typename O>
struct TiledSource
{
  static itk::ProcessObject::Pointer
  Make(const TiledBlocksSpec &)
  {
    throw RuntimeError("internal: a tile-driven block step in " + std::to_string(D) + "-D");
  }
};
template <typename O>
struct TiledSource<2, O>
{
  static itk::ProcessObject::Pointer
  Make(const TiledBlocksSpec & spec)
  {
    auto source = itk::TiledBlocksImageSource<itk::Image<O, 2>>::New();
    source->SetSpec(spec);
    return source.GetPointer();
  }
};

template <unsigned int D>
void
Engine<D>::BuildTiled(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  TiledBlocksSpec      spec;
  spec.params = r.params;
  spec.stat = r.stat;
  for (size_t k : r.inputs)
  {
    if (m_Plan.steps[k].step->op == Op::Channel)
      k = m_Plan.steps[k].inputs[0];
    const ResolvedStep &   read = m_Plan.steps[k];
    TiledBlocksSpec::Input input;
    input.path = read.step->path;
    input.level = read.node.level;
    input.convert = read.fused;
    input.channel = read.channel;
    spec.inputs.push_back(input);
  }
  WithMapType(r.node.dtype, [&](auto out_tag) {
    using O = typename decltype(out_tag)::type;
    itk::ProcessObject::Pointer source = TiledSource<D, O>::Make(spec);
    // The pass is most of the run's time: its progress is the bar's (the
    // writer's moves only between pieces).
    itk::ProcessObject *         raw = source.GetPointer();
    const std::string            what = "computing " + r.step->name;
    source->AddObserver(itk::ProgressEvent(), [this, raw, what](const itk::EventObject &) {
      this->Report(raw->GetProgress(), what);
    });
    m_Nodes[i].filter = source;
    m_Nodes[i].image = source->GetOutputs().at(0);
  });
}

/** A local statistic of one image, or of a pair (both read as double when
 * their element types differ), as float32 or float64: the filter asks its
 * inputs for each piece grown by the window's radius. */
template <unsigned int D>
void
Engine<D>::BuildLocal(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  WithMapType(r.node.dtype, [&](auto out_tag) {
    using O = typename decltype(out_tag)::type;
    auto build = [&](auto tag, itk::DataObject * ia, itk::DataObject * ib) {
      using T = typename decltype(tag)::type;
      auto f = itk::LocalStatisticsImageFilter<ImageOf<T>, ImageOf<O>>::New();
      f->SetInput1(dynamic_cast<ImageOf<T> *>(ia));
      if (ib != nullptr)
      {
        f->SetInput2(dynamic_cast<ImageOf<T> *>(ib));
        f->SetCoordinateTolerance(1e30); // paired by index, as corr pairs them
      }
      f->SetCoreParameters(r.local);
      f->SetStatistic(itk::blockwise::FromCore(r.stat));
      this->Attach(i, f);
    };
    const size_t   a = r.inputs[0];
    const bw_dtype ta = m_Plan.steps[a].node.dtype;
    if (r.inputs.size() == 1)
      WithPixelType(ta, [&](auto tag) { build(tag, m_Nodes[a].image, nullptr); });
    else if (ta == m_Plan.steps[r.inputs[1]].node.dtype)
      WithPixelType(ta, [&](auto tag) { build(tag, m_Nodes[a].image, m_Nodes[r.inputs[1]].image); });
    else
    {
      itk::DataObject::Pointer da = this->AsDouble(a), db = this->AsDouble(r.inputs[1]);
      build(Tag<double>{}, da, db);
    }
  });
}

/** The displacement field of a pair (both read as double when their
 * element types differ), and r at the best and at zero shift beside it:
 * the filter asks the moving image for each piece grown by the search. */
template <unsigned int D>
void
Engine<D>::BuildShift(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  auto build = [&](auto tag, itk::DataObject * fixed, itk::DataObject * moving) {
    using T = typename decltype(tag)::type;
    auto f = itk::BlockShiftImageFilter<ImageOf<T>, FieldOf>::New();
    f->SetFixedImage(dynamic_cast<ImageOf<T> *>(fixed));
    f->SetMovingImage(dynamic_cast<ImageOf<T> *>(moving));
    f->SetCoordinateTolerance(1e30); // paired by index, as corr pairs them
    f->SetCoreParameters(r.shift);
    this->Attach(i, f);
    m_Nodes[i].peak = f->GetPeakCorrelationOutput();
    m_Nodes[i].zero = f->GetZeroShiftCorrelationOutput();
  };
  const size_t   a = r.inputs[0], b = r.inputs[1];
  const bw_dtype ta = m_Plan.steps[a].node.dtype;
  if (ta == m_Plan.steps[b].node.dtype)
    WithPixelType(ta, [&](auto tag) { build(tag, m_Nodes[a].image, m_Nodes[b].image); });
  else
  {
    itk::DataObject::Pointer da = this->AsDouble(a), db = this->AsDouble(b);
    build(Tag<double>{}, da, db);
  }
}

/** A tap over a displacement field that a picture or summaries observe:
 * each piece's vectors (physical, x first) back in pixels, with the r of
 * the filter's other outputs for the same blocks. */
template <unsigned int D>
void
Engine<D>::BuildShiftTap(size_t n)
{
  Node &           node = m_Nodes[n];
  const NodeInfo & info = m_Plan.steps[n].node;
  const NodeInfo & image = m_Plan.steps[m_Plan.steps[n].inputs[0]].node;
  if (!node.heatmaps.empty())
    node.shift_raster.reset(new ShiftRaster(info.ndim, info.shape));
  auto * field = dynamic_cast<FieldOf *>(node.image.GetPointer());
  if (!field)
    throw RuntimeError("internal: step '" + m_Plan.steps[n].step->name + "' is not a displacement field");
  auto tap = MapTap<FieldOf>::New();
  tap->SetInput(field);
  auto * peak = dynamic_cast<ImageOf<float> *>(node.peak.GetPointer());
  auto * zero = dynamic_cast<ImageOf<float> *>(node.zero.GetPointer());
  double spacing[D]; // ITK order
  for (unsigned int a = 0; a < D; ++a)
    spacing[a] = image.spacing[D - 1 - a];
  tap->SetObserver([this, &node, peak, zero, spacing](const FieldOf & f, const RegionType & region) {
    if (node.recorded)
      return;
    this->CheckInterrupted();
    for (itk::ImageRegionConstIteratorWithIndex<FieldOf> it(&f, region); !it.IsAtEnd(); ++it)
    {
      const auto & idx = it.GetIndex();
      const auto & u = it.Get();
      double       shift[3]; // pixels, C order
      for (unsigned int a = 0; a < D; ++a)
        shift[D - 1 - a] = static_cast<double>(u[a]) / spacing[a];
      if (node.shift_raster)
        node.shift_raster->Add(D == 3 ? idx[2] : 0, idx[1], idx[0], shift[D - 2], shift[D - 1]);
      const double zr = zero ? static_cast<double>(zero->GetPixel(idx)) : std::numeric_limits<double>::quiet_NaN();
      const double pr = peak ? static_cast<double>(peak->GetPixel(idx)) : std::numeric_limits<double>::quiet_NaN();
      for (auto & s : node.shift_summaries)
        s.second->Add(shift, zr, pr);
    }
  });
  node.tap = tap;
  node.tapped = tap->GetOutput();
}

/** Richardson-Lucy deconvolution of an image by its PSF (read as float32),
 * as float32: the filter asks the image for each piece grown by the halo
 * the plan chose, and reads the PSF whole. */
template <unsigned int D>
void
Engine<D>::BuildDeconvolve(size_t i)
{
#ifndef BLOCKWISE_HAVE_DECONV
  (void)i;
  throw RuntimeError("this blockwise was built without deconvolution");
#else
  const ResolvedStep & r = m_Plan.steps[i];
  const size_t         psf = r.inputs[1];
  itk::DataObject::Pointer kernel = m_Nodes[psf].image;
  if (m_Plan.steps[psf].node.dtype != BW_F32)
    WithPixelType(m_Plan.steps[psf].node.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      auto cast = itk::CastImageFilter<ImageOf<T>, ImageOf<float>>::New();
      cast->SetInput(this->Input<T>(psf));
      m_Casts.push_back(cast.GetPointer());
      kernel = cast->GetOutput();
    });
  WithPixelType(m_Plan.steps[r.inputs[0]].node.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto f = itk::RichardsonLucyBlockwiseImageFilter<ImageOf<T>, ImageOf<float>, ImageOf<float>>::New();
    f->SetInput(this->Input<T>(r.inputs[0]));
    f->SetKernelImage(dynamic_cast<ImageOf<float> *>(kernel.GetPointer()));
    f->SetCoreParameters(r.rl);
    f->SetHalo(itk::blockwise::SizeFromCore<D>(r.halo));
    // Progress after every iteration of every piece: the pieces started so
    // far (the writer streams Divisions(i) of them), and this one's share.
    const std::string what = "deconvolving " + r.step->name;
    itk::ProcessObject * raw = f.GetPointer();
    auto                 started = std::make_shared<unsigned int>(0);
    const double         pieces = std::max(1u, this->Divisions(i));
    f->AddObserver(itk::StartEvent(), [started](const itk::EventObject &) { ++*started; });
    f->AddObserver(itk::ProgressEvent(), [this, raw, what, started, pieces](const itk::EventObject &) {
      const double done = std::min(static_cast<double>(std::max(*started, 1u) - 1), pieces - 1);
      this->Report((done + raw->GetProgress()) / pieces, what);
    });
    this->Attach(i, f);
  });
#endif
}

/** Non-local means of one image, as float32: the filter asks its input for
 * each piece grown by the core's halo, so streamed pieces assemble into the
 * whole-image result. */
template <unsigned int D>
void
Engine<D>::BuildDenoise(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  WithPixelType(m_Plan.steps[r.inputs[0]].node.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto f = itk::NonLocalMeansImageFilter<ImageOf<T>, ImageOf<float>>::New();
    f->SetInput(this->Input<T>(r.inputs[0]));
    f->SetCoreParameters(r.nlm);
    this->Attach(i, f);
  });
}

/** One channel of an image: the input itself when it has one or when its
 * reader made the channel while decoding, else the core's conversion of
 * the interleaved channels, to float32 (or to the input's type for one
 * channel as it is). */
template <unsigned int D>
void
Engine<D>::BuildChannel(size_t i)
{
  const ResolvedStep & r = m_Plan.steps[i];
  const size_t         in = r.inputs[0];
  if (r.pass || r.fused)
  {
    m_Nodes[i].image = m_Nodes[in].image;
    return;
  }
  WithPixelType(m_Plan.steps[in].node.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using V = itk::VectorImage<T, D>;
    auto * image = dynamic_cast<V *>(m_Nodes[in].image.GetPointer());
    if (!image)
      throw RuntimeError("internal: step '" + m_Plan.steps[in].step->name + "' has no channels to take");
    auto build = [&](auto f) {
      f->SetInput(image);
      f->SetCoreParameters(r.channel);
      this->Attach(i, f);
    };
    if (r.node.dtype == BW_F32)
      build(itk::ChannelConversionImageFilter<V, ImageOf<float>>::New());
    else
      build(itk::ChannelConversionImageFilter<V, ImageOf<T>>::New());
  });
}

/** A tap over a map that heatmaps or summaries observe. */
template <unsigned int D>
void
Engine<D>::BuildTap(size_t n)
{
  Node &           node = m_Nodes[n];
  const NodeInfo & info = m_Plan.steps[n].node;
  if (!node.heatmaps.empty())
    node.raster.reset(new MapRaster(info.ndim, info.shape));
  WithPixelType(info.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto tap = MapTap<ImageOf<T>>::New();
    tap->SetInput(this->Input<T>(n));
    tap->SetObserver([this, &node](const ImageOf<T> & image, const RegionType & region) {
      if (node.recorded)
        return;
      this->CheckInterrupted(); // a long pass stops here too
      // row by row over the buffer (the band is the image's buffered region
      // or inside it), in the order of the pixels
      const auto      width = static_cast<int64_t>(region.GetSize(0));
      const int64_t   planes = D == 3 ? static_cast<int64_t>(region.GetSize(D - 1)) : 1;
      const int64_t   rows = static_cast<int64_t>(region.GetSize(1));
      auto            idx = region.GetIndex();
      const auto      first = region.GetIndex();
      for (int64_t z = 0; z < planes; ++z)
        for (int64_t y = 0; y < rows; ++y)
        {
          idx[1] = first[1] + y;
          if (D == 3)
            idx[D - 1] = first[D - 1] + z;
          const T * row = image.GetBufferPointer() + image.ComputeOffset(idx);
          if (node.raster)
            for (int64_t x = 0; x < width; ++x)
              node.raster->Add(D == 3 ? idx[D - 1] : 0, idx[1], first[0] + x, static_cast<double>(row[x]));
          for (auto & s : node.summaries)
            s.second->AddRow(row, static_cast<size_t>(width));
        }
    });
    node.tap = tap;
    node.tapped = tap->GetOutput();
  });
}

} // namespace engine_detail
} // namespace blockwise_cli

#endif
