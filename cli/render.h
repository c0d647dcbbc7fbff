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

  /** The @q quantile (0 to 1) of the finite values so far, as numpy's
   * default (linear) method gives it; NaN when there are none. */
  double                Quantile(double q);

private:
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

/**
 * The numbers of a displacement field's summary (ShiftSummary), from its
 * blocks streamed in any order: each block's shift in pixels (C order), its
 * length in millimetres, r at zero shift and at the best shift.  Each
 * distribution is exact while its share of the budget holds its values,
 * then a histogram over its bounded range (shifts within the search
 * radius, r within [-1, 1]).
 */
class ShiftStatistics
{
public:
  /** @search: the search radius per axis, @spacing the pixel size in
   * millimetres per axis, both C order, @ndim entries; @blocks the field's
   * blocks, @budget the values all the distributions together may keep. */
  ShiftStatistics(int ndim, const ptrdiff_t * search, const double * spacing, uint64_t blocks, uint64_t budget);

  /** One block: @shift in pixels (C order; NaN where undefined). */
  void
  Add(const double * shift, double zero_r, double peak_r);

  void
  Finish(ShiftSummary & summary);

private:
  int                        m_Ndim;
  double                     m_Spacing[3];
  uint64_t                   m_Blocks = 0, m_Defined = 0, m_Moved = 0;
  // px, mm, zero r, peak r, zero r and peak r of the moved blocks, then
  // one per axis
  std::vector<MapStatistics> m_Stats;
};

/**
 * What the picture of a displacement field needs: the mean shift in pixels
 * along Y and X of each cell of a MapRaster grid over the field (a cell is
 * factor x factor blocks of one Z plane), NaN where no block of it has one.
 */
class ShiftRaster
{
public:
  ShiftRaster(int ndim, const int64_t * shape)
    : m_Y(ndim, shape)
    , m_X(ndim, shape)
  {}

  void
  Add(int64_t z, int64_t y, int64_t x, double dy, double dx)
  {
    if (std::isfinite(dy) && std::isfinite(dx))
    {
      m_Y.Add(z, y, x, dy);
      m_X.Add(z, y, x, dx);
    }
  }
  const MapRaster & Y() const { return m_Y; }
  const MapRaster & X() const { return m_X; }

private:
  MapRaster m_Y, m_X;
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

/**
 * The picture of a displacement field: each cell of @field drawn as scale x
 * scale pixels (scale 0: as RenderHeatmap() chooses), over a grey
 * thumbnail of the fixed image when @under is given (a raster of its block
 * means, cells of @under_cell pixels of the image along Y and X, with
 * @field's cells @field_cell pixels), tinted by the shift's direction (hue,
 * on a colour wheel) and length (saturation, full at @full pixels), with an
 * arrow along the shift from the centre of every few cells (lengths scaled
 * so the longest are about the spacing of the arrows).  Cells without a
 * shift are left untinted, and hatched where there is no thumbnail.  Z
 * planes side by side as in RenderHeatmap(); the colour wheel as a legend
 * on the right.
 */
Picture
RenderShift(const ShiftRaster & field, const MapRaster * under, const double field_cell[2], const double under_cell[2],
            double full, int scale);

/** The colour of a shift (@dy, @dx pixels) on the picture's colour wheel:
 * hue from its direction, saturation from its length over @full. */
void
ShiftColour(double dy, double dx, double full, uint8_t rgb[3]);

/** The colour of @value on the heatmap's scale over [lo, hi]; NaN is grey. */
void
HeatColour(double value, double lo, double hi, uint8_t rgb[3]);

/** Number of pixels per cell RenderHeatmap() chooses for scale 0. */
int
AutomaticScale(const MapRaster & raster);

} // namespace blockwise_cli

#endif
