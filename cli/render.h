/*
 * What the command makes of a map once it has streamed past: the summary
 * numbers (median, 5th percentile, fraction below a threshold) and the
 * heatmap picture.  Both take the map's values band by band, as the streamed
 * pipeline produces them, and hold a bounded amount of memory.  No ITK here.
 */
#ifndef BLOCKWISE_CLI_RENDER_H
#define BLOCKWISE_CLI_RENDER_H

#include "pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace blockwise_cli
{

/**
 * Order statistics of a stream of values.  Exact (every finite value kept as
 * float, then selected) up to @exact_limit values; past it, the values move
 * into a histogram of 200000 bins over [lo, hi] (values outside fall into
 * the end bins), so quantiles are within (hi - lo) / 200000 of the truth.
 */
class MapStatistics
{
public:
  /** Bins of the histogram the values fall back to past the exact limit. */
  static constexpr size_t kBins = 200000;

  MapStatistics(double lo, double hi, double threshold, uint64_t exact_limit);

  void
  Add(double value)
  {
    ++m_Blocks;
    if (!std::isfinite(value))
      return;
    ++m_Finite;
    m_Below += value < m_Threshold;
    m_Min = std::min(m_Min, value);
    m_Max = std::max(m_Max, value);
    if (m_Histogram.empty())
    {
      m_Values.push_back(static_cast<float>(value));
      if (m_Values.size() > m_ExactLimit)
        ToHistogram();
      return;
    }
    ++m_Histogram[Bin(value)];
  }

  /** Add() of the @n values at @row, in order. */
  template <typename T>
  void
  AddRow(const T * row, size_t n)
  {
    for (size_t i = 0; i < n; ++i)
      Add(static_cast<double>(row[i]));
  }

  /** Fills the numbers of @summary (blocks, finite, below, median, p05, min, max). */
  void
  Finish(MapSummary & summary);

private:
  double                Quantile(double q);
  void                  ToHistogram();
  size_t
  Bin(double value) const
  {
    const double t = (value - m_Lo) / (m_Hi - m_Lo) * static_cast<double>(kBins);
    return t <= 0 ? 0 : t >= static_cast<double>(kBins) ? kBins - 1 : static_cast<size_t>(t);
  }

  double                m_Lo, m_Hi, m_Threshold;
  uint64_t              m_ExactLimit;
  uint64_t              m_Blocks = 0, m_Finite = 0, m_Below = 0;
  double                m_Min, m_Max;
  std::vector<float>    m_Values;
  std::vector<uint64_t> m_Histogram; // empty while exact
};

/**
 * The map values a heatmap needs, on a grid of at most kMaxCells cells: each
 * cell is the mean of the finite values of factor x factor blocks of one Z
 * plane (factor 1 unless the map has more blocks than that), NaN when it has
 * none.  Of a 3-D map with more than kMaxPlanes planes, every k-th plane is
 * kept, so that at most kMaxPlanes are.  Memory: 12 bytes per cell.
 */
class MapRaster
{
public:
  static constexpr int64_t kMaxCells = int64_t{ 1 } << 22;
  static constexpr int64_t kMaxPlanes = 64;

  /** @shape: the map's extents, C order, @ndim 2 or 3. */
  MapRaster(int ndim, const int64_t * shape);

  void
  Add(int64_t z, int64_t y, int64_t x, double value);

  int64_t Planes() const { return m_Planes; }
  /** Every PlaneStep()-th plane of the map is drawn. */
  int64_t PlaneStep() const { return m_PlaneStep; }
  int64_t Rows() const { return m_Rows; }
  int64_t Columns() const { return m_Columns; }
  int64_t Factor() const { return m_Factor; }
  /** The cell's value: the mean of its finite values, or NaN. */
  double  Cell(int64_t z, int64_t y, int64_t x) const;

private:
  int64_t               m_Planes, m_PlaneStep, m_Rows, m_Columns, m_Factor;
  std::vector<double>   m_Sum;
  std::vector<uint32_t> m_Count;
};

/** An 8-bit RGB picture, rows top to bottom. */
struct Picture
{
  int64_t              width = 0, height = 0;
  std::vector<uint8_t> rgb; // width * height * 3
};

/**
 * The heatmap: each cell drawn as scale x scale pixels (scale 0: chosen so the
 * picture is about 800 pixels on its longer side, 1 to 32 per cell; any
 * scale is reduced so the map part has at most 16 megapixels) with a
 * fixed blue-white-red diverging colour map over [lo, hi] (values outside
 * are clamped), NaN cells in neutral grey; Z planes of a 3-D map side by
 * side in a grid; a colour bar with labelled ends and middle, and a grey
 * swatch labelled NaN, on the right.
 */
Picture
RenderHeatmap(const MapRaster & raster, double lo, double hi, int scale);

/** The colour of @value on the heatmap's scale over [lo, hi]; NaN is grey. */
void
HeatColour(double value, double lo, double hi, uint8_t rgb[3]);

/** Number of pixels per cell RenderHeatmap() chooses for scale 0. */
int
AutomaticScale(const MapRaster & raster);

} // namespace blockwise_cli

#endif
