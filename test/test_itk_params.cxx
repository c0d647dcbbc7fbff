/*
 * Tests of the ITK block filters' errors and PrintSelf, and of the core's
 * parameter structs passed as they are to the block and non-local means
 * filters.
 *
 * Oracles: the messages of the filters and of the core's parameter checks,
 * axis orders worked out by hand, and the output of the same settings made
 * through the ITK setters.
 */
#include "itkBlockCorrelationImageFilter.h"
#include "itkBlockStatisticsImageFilter.h"
#include "itkNonLocalMeansImageFilter.h"

#include "test_itk_filters.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace
{

using namespace blockwise_test;

void
test_errors()
{
  using In = itk::Image<unsigned short, 2>;
  using Out = itk::Image<float, 2>;
  auto a = makeSource<In>(regionOf<2>({ 0, 0 }, { 100, 50 }), 1, 10.0);
  auto b = makeSource<In>(regionOf<2>({ 0, 0 }, { 100, 51 }), 2, 10.0);
  auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  f->SetInput1(a->GetOutput());
  f->SetInput2(b->GetOutput());
  expectThrow("sizes", [&] { f->Update(); }, { "[100, 50]", "[100, 51]" });

  auto shifted = makeSource<In>(regionOf<2>({ 3, 0 }, { 100, 50 }), 2, 10.0);
  f->SetInput2(shifted->GetOutput());
  expectThrow("start indices", [&] { f->Update(); }, { "[0, 0]", "[3, 0]" });

  auto c = makeSource<In>(regionOf<2>({ 0, 0 }, { 100, 50 }), 2, 10.0);
  f->SetInput2(c->GetOutput());
  f->SetBlockSize(0);
  expectThrow("block 0", [&] { f->Update(); }, { "BlockSize" });
  f->SetBlockSize(itk::Size<2>{ { 10, 60 } });
  f->SetEdgePolicy(Edge::Trim);
  expectThrow("trim leaves nothing", [&] { f->Update(); }, { "[100, 50]" });
  f->SetEdgePolicy(Edge::Partial);
  f->SetStatistic(Stat::Mean);
  expectThrow("mean of a pair", [&] { f->Update(); }, { "Correlation or Covariance" });
  f->SetStatistic(Stat::Correlation);
  f->Update(); /* recovers */

  auto g = itk::BlockStatisticsImageFilter<In, Out>::New();
  g->SetInput(a->GetOutput());
  g->SetStatistics({ Stat::Mean, Stat::Maximum });
  expectThrow("two stats, scalar output", [&] { g->Update(); }, { "VectorImage" });
  g->SetStatistic(Stat::Correlation);
  expectThrow("corr of one image", [&] { g->Update(); }, { "BlockCorrelationImageFilter" });
  g->SetStatistics({});
  expectThrow("no statistic", [&] { g->Update(); }, { "No statistic" });

  auto h = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  h->SetInput1(a->GetOutput());
  expectThrow("missing input", [&] { h->Update(); }, {});
}

/* PrintSelf shows every parameter. */
void
test_print()
{
  using In = itk::Image<unsigned short, 3>;
  using Out = itk::Image<float, 3>;
  auto f = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  f->SetBlockSize(itk::Size<3>{ { 16, 16, 4 } });
  f->SetEdgePolicy(Edge::Trim);
  f->SetDdof(1);
  f->SetFillValue(0.25);
  std::ostringstream os;
  f->Print(os);
  for (const char * w : { "BlockSize: [16, 16, 4]", "EdgePolicy: BlockwiseEnums::EdgePolicy::Trim", "Ddof: 1",
                          "FillValue: 0.25", "Statistic: BlockwiseEnums::Statistic::Correlation" })
    CHECK(os.str().find(w) != std::string::npos, "PrintSelf lacks \"%s\"", w);
}

/* The core's parameters pass into a filter as they are: getters show them
 * in ITK's axis order (worked out by hand), the output equals that of the
 * same settings made one by one, and a mismatched dimension is refused. */
void
test_core_parameters()
{
  using In = itk::Image<unsigned short, 3>;
  using Out = itk::Image<float, 3>;
  const auto      largest = regionOf<3>({ 0, 0, 0 }, { 41, 23, 17 });
  auto            a = makeSource<In>(largest, 11, 90.0);
  auto            b = makeSource<In>(largest, 12, 90.0);
  const ptrdiff_t block[3] = { 2, 3, 5 }; // Z, Y, X
  bw_block_params p;
  bw_block_params_init(&p, 3, block);
  p.edge = BW_EDGE_TRIM;
  p.ddof = 1;
  p.use_fill = 1;
  p.fill = -2.5;
  auto viaCore = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  viaCore->SetInput1(a->GetOutput());
  viaCore->SetInput2(b->GetOutput());
  viaCore->SetCoreParameters(p);
  CHECK(viaCore->GetBlockSize() == (itk::Size<3>{ { 5, 3, 2 } }), "block size in ITK order");
  CHECK(viaCore->GetEdgePolicy() == Edge::Trim && viaCore->GetDdof() == 1 && viaCore->GetFillValue() == -2.5,
        "edge, ddof, fill");
  auto viaSetters = itk::BlockCorrelationImageFilter<In, In, Out>::New();
  viaSetters->SetInput1(a->GetOutput());
  viaSetters->SetInput2(b->GetOutput());
  viaSetters->SetBlockSize(itk::Size<3>{ { 5, 3, 2 } });
  viaSetters->SetEdgePolicy(Edge::Trim);
  viaSetters->SetDdof(1);
  viaSetters->SetFillValue(-2.5);
  const bw_block_params & q = viaSetters->GetCoreParameters();
  CHECK(q.block[0] == 2 && q.block[1] == 3 && q.block[2] == 5 && q.edge == BW_EDGE_TRIM && q.ddof == 1 &&
          q.use_fill == 1 && q.fill == -2.5,
        "setters give the core's order");
  viaSetters->SetFillValue(std::numeric_limits<double>::quiet_NaN());
  CHECK(viaSetters->GetCoreParameters().use_fill == 0 && std::isnan(viaSetters->GetFillValue()), "NaN: no fill");
  viaSetters->SetFillValue(-2.5);
  viaCore->Update();
  viaSetters->Update();
  const auto region = viaCore->GetOutput()->GetBufferedRegion();
  CHECK(region.GetSize() == (itk::Size<3>{ { 8, 7, 8 } }), "trim output size");
  CHECK(region == viaSetters->GetOutput()->GetBufferedRegion(), "same output region");
  CHECK(std::memcmp(viaCore->GetOutput()->GetBufferPointer(), viaSetters->GetOutput()->GetBufferPointer(),
                    region.GetNumberOfPixels() * sizeof(float)) == 0,
        "same bits either way");

  bw_block_params flat;
  bw_block_params_init(&flat, 2, nullptr);
  expectThrow("2-D parameters", [&] { viaCore->SetCoreParameters(flat); }, { "2-D", "3-D" });
  // The core's own check and message, with the setting in ITK terms.
  viaSetters->SetBlockSize(itk::Size<3>{ { 4, 0, 2 } });
  expectThrow("block 0", [&] { viaSetters->Update(); }, { "BlockSize [4, 0, 2]", "block sizes must be at least 1" });
  // Defaults: the core's.
  auto fresh = itk::BlockStatisticsImageFilter<In, Out>::New();
  CHECK(fresh->GetBlockSize() == (itk::Size<3>{ { BW_BLOCK_DEFAULT, BW_BLOCK_DEFAULT, BW_BLOCK_DEFAULT } }),
        "default block");

  // Statistic names: the core's table gives the ITK enumeration.
  CHECK(itk::blockwise::StatisticFromName("std") == Stat::StandardDeviation, "std");
  CHECK(itk::blockwise::StatisticFromName("covariance") == Stat::Covariance, "covariance");
  CHECK(itk::blockwise::ToCore(Stat::Maximum) == BW_STAT_MAX, "to the core");
  CHECK(itk::blockwise::FromCore(BW_STAT_COUNT) == Stat::Count, "from the core");
  expectThrow("unknown name", [] { itk::blockwise::StatisticFromName("median"); }, { "unknown statistic 'median'" });

  // Non-local means: radii in ITK order, the split axis from the core's halo.
  using Img = itk::Image<float, 3>;
  auto            src = makeSource<Img>(regionOf<3>({ 0, 0, 0 }, { 24, 20, 9 }), 13, 40.0);
  bw_nlm_params   n;
  bw_nlm_params_init(&n, 3, 15.0);
  n.patch[0] = 1, n.patch[1] = 2, n.patch[2] = 3;
  n.search[0] = 2, n.search[1] = 4, n.search[2] = 5;
  n.h = 9.0;
  auto viaNlm = itk::NonLocalMeansImageFilter<Img, Img>::New();
  viaNlm->SetInput(src->GetOutput());
  viaNlm->SetCoreParameters(n);
  CHECK(viaNlm->GetPatchRadius() == (itk::Size<3>{ { 3, 2, 1 } }), "patch in ITK order");
  CHECK(viaNlm->GetSearchRadius() == (itk::Size<3>{ { 5, 4, 2 } }), "search in ITK order");
  CHECK(viaNlm->GetSigma() == 15.0 && viaNlm->GetH() == 9.0, "sigma, h");
  auto bySetters = itk::NonLocalMeansImageFilter<Img, Img>::New();
  bySetters->SetInput(src->GetOutput());
  bySetters->SetPatchRadius(itk::Size<3>{ { 3, 2, 1 } });
  bySetters->SetSearchRadius(itk::Size<3>{ { 5, 4, 2 } });
  bySetters->SetSigma(15.0);
  bySetters->SetH(9.0);
  viaNlm->Update();
  bySetters->Update();
  const auto r = viaNlm->GetOutput()->GetBufferedRegion();
  CHECK(std::memcmp(viaNlm->GetOutput()->GetBufferPointer(), bySetters->GetOutput()->GetBufferPointer(),
                    r.GetNumberOfPixels() * sizeof(float)) == 0,
        "NLM: same bits either way");
  auto nlmDefaults = itk::NonLocalMeansImageFilter<Img, Img>::New();
  CHECK(nlmDefaults->GetPatchRadius() == (itk::Size<3>{ { 3, 3, 3 } }) &&
          nlmDefaults->GetSearchRadius() == (itk::Size<3>{ { 10, 10, 10 } }),
        "NLM defaults");
}

} // namespace

const blockwise_test::Entry blockwise_test::param_tests[] = {
  { "errors", test_errors },
  { "print", test_print },
  { "core_parameters", test_core_parameters },
  { nullptr, nullptr },
};
