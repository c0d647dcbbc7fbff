/*
 * Summary numbers and heatmap pictures of maps, from values streamed band by
 * band.
 */
#include "render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace blockwise_cli
{

namespace
{
const double     kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

constexpr size_t MapStatistics::kBins;

MapStatistics::MapStatistics(double lo, double hi, double threshold, uint64_t exact_limit)
  : m_Lo(lo)
  , m_Hi(hi)
  , m_Threshold(threshold)
  , m_ExactLimit(std::max<uint64_t>(exact_limit, 1))
  , m_Min(std::numeric_limits<double>::infinity())
  , m_Max(-std::numeric_limits<double>::infinity())
{
  // the bound is at most the map's size, and counted in the budget
  m_Values.reserve(static_cast<size_t>(std::min<uint64_t>(m_ExactLimit + 1, uint64_t{ 1 } << 28)));
}

void
MapStatistics::ToHistogram()
{
  m_Histogram.assign(kBins, 0);
  for (float v : m_Values)
    ++m_Histogram[Bin(v)];
  std::vector<float>().swap(m_Values);
}

/* numpy's default ("linear") quantile: position q * (n - 1) between the
 * sorted values, interpolated. */
double
MapStatistics::Quantile(double q)
{
  if (m_Finite == 0)
    return kNaN;
  const double   pos = q * static_cast<double>(m_Finite - 1);
  const uint64_t k = static_cast<uint64_t>(std::floor(pos));
  const double   frac = pos - static_cast<double>(k);
  if (m_Histogram.empty())
  {
    auto nth = m_Values.begin() + static_cast<std::ptrdiff_t>(k);
    std::nth_element(m_Values.begin(), nth, m_Values.end());
    const double a = *nth;
    if (frac == 0 || k + 1 >= m_Values.size())
      return a;
    const double b = *std::min_element(nth + 1, m_Values.end());
    return a + (b - a) * frac;
  }
  // The bin holding the k-th value, at its centre, clamped to what was seen.
  uint64_t seen = 0;
  for (size_t i = 0; i < kBins; ++i)
  {
    seen += m_Histogram[i];
    if (seen > k)
    {
      const double centre = m_Lo + (static_cast<double>(i) + 0.5) * (m_Hi - m_Lo) / static_cast<double>(kBins);
      return std::min(std::max(centre, m_Min), m_Max);
    }
  }
  return m_Max;
}

void
MapStatistics::Finish(MapSummary & s)
{
  s.blocks = m_Blocks;
  s.finite = m_Finite;
  s.below = m_Below;
  s.threshold = m_Threshold;
  s.median = Quantile(0.5);
  s.p05 = Quantile(0.05);
  s.min = m_Finite ? m_Min : kNaN;
  s.max = m_Finite ? m_Max : kNaN;
}

constexpr int64_t MapRaster::kMaxCells;
constexpr int64_t MapRaster::kMaxPlanes;

MapRaster::MapRaster(int ndim, const int64_t * shape)
{
  const int64_t planes = ndim == 3 ? shape[0] : 1;
  m_PlaneStep = (planes + kMaxPlanes - 1) / kMaxPlanes;
  m_Planes = (planes + m_PlaneStep - 1) / m_PlaneStep;
  const int64_t rows = shape[ndim - 2], cols = shape[ndim - 1];
  m_Factor = 1;
  while (m_Planes * ((rows + m_Factor - 1) / m_Factor) * ((cols + m_Factor - 1) / m_Factor) > kMaxCells)
    ++m_Factor;
  m_Rows = (rows + m_Factor - 1) / m_Factor;
  m_Columns = (cols + m_Factor - 1) / m_Factor;
  const size_t cells = static_cast<size_t>(m_Planes * m_Rows * m_Columns);
  m_Sum.assign(cells, 0.0);
  m_Count.assign(cells, 0);
}

void
MapRaster::Add(int64_t z, int64_t y, int64_t x, double value)
{
  if (!std::isfinite(value) || z % m_PlaneStep != 0)
    return;
  z /= m_PlaneStep;
  const size_t i = static_cast<size_t>((z * m_Rows + y / m_Factor) * m_Columns + x / m_Factor);
  m_Sum[i] += value;
  ++m_Count[i];
}

double
MapRaster::Cell(int64_t z, int64_t y, int64_t x) const
{
  const size_t i = static_cast<size_t>((z * m_Rows + y) * m_Columns + x);
  return m_Count[i] ? m_Sum[i] / m_Count[i] : kNaN;
}

/* A diverging scale: dark blue at the low end, through white in the middle,
 * to dark red at the high end, with a lighter step in each half so equal
 * differences look about equally different. */
void
HeatColour(double value, double lo, double hi, uint8_t rgb[3])
{
  if (std::isnan(value))
  {
    rgb[0] = rgb[1] = rgb[2] = 150;
    return;
  }
  static const double stops[5][3] = {
    { 30, 80, 160 }, { 110, 165, 215 }, { 248, 248, 248 }, { 235, 135, 100 }, { 170, 20, 40 }
  };
  double t = (value - lo) / (hi - lo);
  t = std::min(1.0, std::max(0.0, t)) * 4.0;
  const int    i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<uint8_t>(std::lround(stops[i][c] + (stops[i + 1][c] - stops[i][c]) * f));
}

int
AutomaticScale(const MapRaster & raster)
{
  const int64_t cols_grid = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(raster.Planes()))));
  const int64_t rows_grid = (raster.Planes() + cols_grid - 1) / cols_grid;
  const int64_t longest = std::max(raster.Columns() * cols_grid, raster.Rows() * rows_grid);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(32, 800 / std::max<int64_t>(longest, 1))));
}

namespace
{

/* A 3x5 pixel font for the labels: digits, sign, point and the letters of
 * "NaN".  Each glyph is five rows of three bits, high bit on the left. */
const unsigned char *
Glyph(char c)
{
  static const unsigned char digits[10][5] = {
    { 7, 5, 5, 5, 7 }, { 2, 6, 2, 2, 7 }, { 7, 1, 7, 4, 7 }, { 7, 1, 7, 1, 7 }, { 5, 5, 7, 1, 1 },
    { 7, 4, 7, 1, 7 }, { 7, 4, 7, 5, 7 }, { 7, 1, 1, 2, 2 }, { 7, 5, 7, 5, 7 }, { 7, 5, 7, 1, 7 }
  };
  static const unsigned char minus[5] = { 0, 0, 7, 0, 0 }, plus[5] = { 0, 2, 7, 2, 0 },
                             point[5] = { 0, 0, 0, 0, 2 }, big_n[5] = { 5, 7, 7, 7, 5 },
                             small_a[5] = { 0, 3, 5, 5, 3 }, e[5] = { 7, 4, 7, 4, 7 }, blank[5] = { 0, 0, 0, 0, 0 };
  if (c >= '0' && c <= '9')
    return digits[c - '0'];
  switch (c)
  {
    case '-':
      return minus;
    case '+':
      return plus;
    case '.':
      return point;
    case 'N':
      return big_n;
    case 'a':
      return small_a;
    case 'e':
      return e;
    default:
      return blank;
  }
}

struct Canvas
{
  Picture & p;
  void
  Set(int64_t x, int64_t y, const uint8_t c[3])
  {
    if (x < 0 || y < 0 || x >= p.width || y >= p.height)
      return;
    uint8_t * d = &p.rgb[static_cast<size_t>((y * p.width + x) * 3)];
    d[0] = c[0];
    d[1] = c[1];
    d[2] = c[2];
  }
  void
  Fill(int64_t x0, int64_t y0, int64_t w, int64_t h, const uint8_t c[3])
  {
    for (int64_t y = y0; y < y0 + h; ++y)
      for (int64_t x = x0; x < x0 + w; ++x)
        Set(x, y, c);
  }
  /* Text with its top-left corner at (x, y), each font pixel drawn size x size. */
  void
  Text(int64_t x, int64_t y, const std::string & s, int size, const uint8_t c[3])
  {
    for (char ch : s)
    {
      const unsigned char * g = Glyph(ch);
      for (int r = 0; r < 5; ++r)
        for (int b = 0; b < 3; ++b)
          if (g[r] & (4 >> b))
            Fill(x + b * size, y + r * size, size, size, c);
      x += 4 * size;
    }
  }
};

std::string
Label(double v)
{
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

} // namespace

Picture
RenderHeatmap(const MapRaster & raster, double lo, double hi, int scale)
{
  const int64_t grid_cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(raster.Planes()))));
  const int64_t grid_rows = (raster.Planes() + grid_cols - 1) / grid_cols;
  const double  cells = static_cast<double>(grid_cols * raster.Columns()) * static_cast<double>(grid_rows * raster.Rows());
  const int64_t largest = std::max<int64_t>(1, static_cast<int64_t>(std::sqrt(16.0e6 / cells)));
  const int64_t s = std::min<int64_t>(scale > 0 ? scale : AutomaticScale(raster), largest);
  const int64_t gap = raster.Planes() > 1 ? 4 : 0;
  const int64_t tile_w = raster.Columns() * s, tile_h = raster.Rows() * s;
  const int64_t map_w = grid_cols * tile_w + (grid_cols - 1) * gap;
  const int64_t map_h = grid_rows * tile_h + (grid_rows - 1) * gap;

  // The bar: at least 120 pixels tall, labels in a font scaled with it.
  const int     font = map_h >= 400 ? 3 : 2;
  const int64_t margin = 8, bar_w = 16;
  const int64_t bar_h = std::max<int64_t>(map_h, 120) - 2 * margin - 10 * font;
  std::string   labels[3] = { Label(hi), Label((lo + hi) / 2), Label(lo) };
  size_t        longest = 3; // "NaN"
  for (const std::string & l : labels)
    longest = std::max(longest, l.size());
  const int64_t label_w = static_cast<int64_t>(longest) * 4 * font;

  Picture pic;
  pic.width = map_w + margin + bar_w + 6 + label_w + margin;
  pic.height = std::max<int64_t>(map_h, 120);
  pic.rgb.assign(static_cast<size_t>(pic.width * pic.height * 3), 255);
  Canvas        canvas{ pic };
  const uint8_t ink[3] = { 40, 40, 40 };

  uint8_t c[3];
  for (int64_t z = 0; z < raster.Planes(); ++z)
  {
    const int64_t ox = (z % grid_cols) * (tile_w + gap), oy = (z / grid_cols) * (tile_h + gap);
    for (int64_t y = 0; y < raster.Rows(); ++y)
      for (int64_t x = 0; x < raster.Columns(); ++x)
      {
        HeatColour(raster.Cell(z, y, x), lo, hi, c);
        canvas.Fill(ox + x * s, oy + y * s, s, s, c);
      }
  }

  // Colour bar: high at the top, with ticks and labels at both ends and the middle.
  const int64_t bx = map_w + margin, by = margin;
  for (int64_t y = 0; y < bar_h; ++y)
  {
    HeatColour(hi - (hi - lo) * static_cast<double>(y) / static_cast<double>(std::max<int64_t>(bar_h - 1, 1)), lo,
               hi, c);
    canvas.Fill(bx, by + y, bar_w, 1, c);
  }
  for (int i = 0; i < 3; ++i)
  {
    const int64_t ty = by + (bar_h - 1) * i / 2;
    canvas.Fill(bx + bar_w, ty, 4, 1, ink);
    canvas.Text(bx + bar_w + 6, std::min(std::max<int64_t>(ty - 2 * font, 0), pic.height - 5 * font), labels[i],
                font, ink);
  }
  // NaN swatch below the bar.
  const int64_t sy = by + bar_h + 3 * font;
  HeatColour(kNaN, lo, hi, c);
  canvas.Fill(bx, sy, bar_w, 5 * font, c);
  canvas.Text(bx + bar_w + 6, sy, "NaN", font, ink);
  return pic;
}

} // namespace blockwise_cli
