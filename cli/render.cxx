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

ShiftStatistics::ShiftStatistics(int ndim, const ptrdiff_t * search, const double * spacing, uint64_t blocks,
                                 uint64_t budget)
  : m_Ndim(ndim)
{
  double reach_px = 0, reach_mm = 0;
  for (int d = 0; d < ndim; ++d)
  {
    m_Spacing[d] = spacing[d];
    reach_px += static_cast<double>(search[d]) * static_cast<double>(search[d]);
    reach_mm += static_cast<double>(search[d]) * spacing[d] * static_cast<double>(search[d]) * spacing[d];
  }
  // The distributions share the summary's part of the budget.
  const uint64_t each = std::max<uint64_t>(std::min(blocks, budget / static_cast<uint64_t>(6 + ndim)), 1);
  auto           range = [](double r) { return r > 0 ? r : 1.0; };
  m_Stats.reserve(static_cast<size_t>(6 + ndim));
  m_Stats.emplace_back(0.0, range(std::sqrt(reach_px)), 0.0, each);
  m_Stats.emplace_back(0.0, range(std::sqrt(reach_mm)), 0.0, each);
  for (int k = 0; k < 4; ++k)
    m_Stats.emplace_back(-1.0, 1.0, 0.0, each);
  for (int d = 0; d < ndim; ++d)
    m_Stats.emplace_back(-range(static_cast<double>(search[d])), range(static_cast<double>(search[d])), 0.0, each);
}

void
ShiftStatistics::Add(const double * shift, double zero_r, double peak_r)
{
  ++m_Blocks;
  m_Stats[2].Add(zero_r);
  m_Stats[3].Add(peak_r);
  double px = 0, mm = 0;
  for (int d = 0; d < m_Ndim; ++d)
  {
    if (!std::isfinite(shift[d]))
      return;
    px += shift[d] * shift[d];
    mm += shift[d] * m_Spacing[d] * shift[d] * m_Spacing[d];
  }
  ++m_Defined;
  px = std::sqrt(px);
  m_Stats[0].Add(px);
  m_Stats[1].Add(std::sqrt(mm));
  if (px >= 0.5)
  {
    ++m_Moved;
    m_Stats[4].Add(zero_r);
    m_Stats[5].Add(peak_r);
  }
  for (int d = 0; d < m_Ndim; ++d)
    m_Stats[static_cast<size_t>(6 + d)].Add(shift[d]);
}

void
ShiftStatistics::Finish(ShiftSummary & s)
{
  s.blocks = m_Blocks;
  s.defined = m_Defined;
  s.moved = m_Moved;
  s.median_px = m_Stats[0].Quantile(0.5);
  s.p95_px = m_Stats[0].Quantile(0.95);
  s.median_mm = m_Stats[1].Quantile(0.5);
  s.p95_mm = m_Stats[1].Quantile(0.95);
  s.zero_r = m_Stats[2].Quantile(0.5);
  s.peak_r = m_Stats[3].Quantile(0.5);
  s.zero_r_moved = m_Stats[4].Quantile(0.5);
  s.peak_r_moved = m_Stats[5].Quantile(0.5);
  MapSummary largest;
  m_Stats[0].Finish(largest);
  s.max_px = largest.max;
  for (int d = 0; d < m_Ndim; ++d)
    s.median_axis[d] = m_Stats[static_cast<size_t>(6 + d)].Quantile(0.5);
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

/* How planes of cells are laid out: side by side in a near-square grid,
 * @s pixels per cell (the scale asked, or the automatic one, reduced so
 * that the map part holds at most 16 megapixels), 4 pixels between them. */
struct PlaneLayout
{
  int64_t grid_cols, grid_rows, s, gap, tile_w, tile_h, map_w, map_h;

  PlaneLayout(const MapRaster & raster, int scale)
  {
    grid_cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(raster.Planes()))));
    grid_rows = (raster.Planes() + grid_cols - 1) / grid_cols;
    const double  cells = static_cast<double>(grid_cols * raster.Columns()) * static_cast<double>(grid_rows * raster.Rows());
    const int64_t largest = std::max<int64_t>(1, static_cast<int64_t>(std::sqrt(16.0e6 / cells)));
    s = std::min<int64_t>(scale > 0 ? scale : AutomaticScale(raster), largest);
    gap = raster.Planes() > 1 ? 4 : 0;
    tile_w = raster.Columns() * s;
    tile_h = raster.Rows() * s;
    map_w = grid_cols * tile_w + (grid_cols - 1) * gap;
    map_h = grid_rows * tile_h + (grid_rows - 1) * gap;
  }
};

} // namespace

Picture
RenderHeatmap(const MapRaster & raster, double lo, double hi, int scale)
{
  const PlaneLayout L(raster, scale);
  const int64_t     grid_cols = L.grid_cols, s = L.s, gap = L.gap, tile_w = L.tile_w, tile_h = L.tile_h;
  const int64_t     map_w = L.map_w, map_h = L.map_h;

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

void
ShiftColour(double dy, double dx, double full, uint8_t rgb[3])
{
  // HSV with value 1: hue the direction (0 degrees: +X, 90: +Y, down the
  // picture), saturation the length.
  const double len = std::sqrt(dy * dy + dx * dx);
  const double sat = full > 0 ? std::min(1.0, len / full) : 0.0;
  double       hue = std::atan2(dy, dx) * 180.0 / 3.14159265358979323846;
  if (hue < 0)
    hue += 360.0;
  const double h = hue / 60.0;
  const int    sector = std::min(5, static_cast<int>(h));
  const double f = h - sector;
  const double p = 1.0 - sat, q = 1.0 - sat * f, t = 1.0 - sat * (1.0 - f);
  double       c[3];
  switch (sector)
  {
    case 0: c[0] = 1, c[1] = t, c[2] = p; break;
    case 1: c[0] = q, c[1] = 1, c[2] = p; break;
    case 2: c[0] = p, c[1] = 1, c[2] = t; break;
    case 3: c[0] = p, c[1] = q, c[2] = 1; break;
    case 4: c[0] = t, c[1] = p, c[2] = 1; break;
    default: c[0] = 1, c[1] = p, c[2] = q; break;
  }
  for (int k = 0; k < 3; ++k)
    rgb[k] = static_cast<uint8_t>(std::lround(255.0 * c[k]));
}

namespace
{

/* A line from (x0, y0) to (x1, y1), @width pixels across. */
void
Line(Canvas & canvas, double x0, double y0, double x1, double y1, int width, const uint8_t c[3])
{
  const double  dx = x1 - x0, dy = y1 - y0;
  const int64_t n = static_cast<int64_t>(std::ceil(std::max(std::fabs(dx), std::fabs(dy)))) + 1;
  for (int64_t i = 0; i <= n; ++i)
  {
    const double  t = static_cast<double>(i) / static_cast<double>(n);
    const int64_t x = static_cast<int64_t>(std::floor(x0 + dx * t)), y = static_cast<int64_t>(std::floor(y0 + dy * t));
    canvas.Fill(x - (width - 1) / 2, y - (width - 1) / 2, width, width, c);
  }
}

/* An arrow from (x, y) along (dx, dy) pixels of the picture, with a head. */
void
Arrow(Canvas & canvas, double x, double y, double dx, double dy, int width, const uint8_t c[3])
{
  const double len = std::sqrt(dx * dx + dy * dy);
  Line(canvas, x, y, x + dx, y + dy, width, c);
  const double head = std::min(6.0, std::max(2.5, len / 3));
  const double ux = dx / len, uy = dy / len;
  for (int side = -1; side <= 1; side += 2)
  {
    // back from the tip, 30 degrees off the shaft
    const double bx = -ux * 0.866 - side * uy * 0.5, by = -uy * 0.866 + side * ux * 0.5;
    Line(canvas, x + dx, y + dy, x + dx + bx * head, y + dy + by * head, width, c);
  }
}

/* The @q quantile of the finite cells of @r (NaN if none). */
double
CellQuantile(const MapRaster & r, double q)
{
  std::vector<double> v;
  for (int64_t z = 0; z < r.Planes(); ++z)
    for (int64_t y = 0; y < r.Rows(); ++y)
      for (int64_t x = 0; x < r.Columns(); ++x)
        if (std::isfinite(r.Cell(z, y, x)))
          v.push_back(r.Cell(z, y, x));
  if (v.empty())
    return kNaN;
  const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

} // namespace

Picture
RenderShift(const ShiftRaster & field, const MapRaster * under, const double field_cell[2], const double under_cell[2],
            double full, int scale)
{
  const MapRaster &   fx = field.X();
  const MapRaster &   fy = field.Y();
  const PlaneLayout   L(fx, scale);
  const int64_t       grid_cols = L.grid_cols, s = L.s, gap = L.gap, tile_w = L.tile_w, tile_h = L.tile_h;
  const int64_t       map_w = L.map_w, map_h = L.map_h;

  // The length drawn at full colour: the 95th percentile of the cells'
  // shifts, at least a pixel, so sub-pixel jitter stays pale.
  if (!(full > 0))
  {
    std::vector<double> lengths;
    for (int64_t z = 0; z < fx.Planes(); ++z)
      for (int64_t y = 0; y < fx.Rows(); ++y)
        for (int64_t x = 0; x < fx.Columns(); ++x)
        {
          const double dx = fx.Cell(z, y, x), dy = fy.Cell(z, y, x);
          if (std::isfinite(dx) && std::isfinite(dy))
            lengths.push_back(std::sqrt(dx * dx + dy * dy));
        }
    full = 1.0;
    if (!lengths.empty())
    {
      const size_t k = static_cast<size_t>(0.95 * static_cast<double>(lengths.size() - 1));
      std::nth_element(lengths.begin(), lengths.begin() + static_cast<std::ptrdiff_t>(k), lengths.end());
      full = std::max(1.0, lengths[k]);
    }
  }

  const int64_t margin = 8, wheel = 40;
  Picture       pic;
  pic.width = map_w + margin + 2 * wheel + margin;
  pic.height = std::max<int64_t>(map_h, 2 * wheel + 2 * margin);
  pic.rgb.assign(static_cast<size_t>(pic.width * pic.height * 3), 255);
  Canvas canvas{ pic };

  // The thumbnail's grey: its 1st to 99th percentile over black to white.
  const double g_lo = under ? CellQuantile(*under, 0.01) : kNaN;
  const double g_hi = under ? CellQuantile(*under, 0.99) : kNaN;
  auto         grey = [&](double v) -> double {
    if (!std::isfinite(v) || !std::isfinite(g_lo))
      return 200;
    if (!(g_hi > g_lo))
      return 160;
    return 40 + 200 * std::min(1.0, std::max(0.0, (v - g_lo) / (g_hi - g_lo)));
  };

  uint8_t c[3];
  for (int64_t z = 0; z < fx.Planes(); ++z)
  {
    const int64_t ox = (z % grid_cols) * (tile_w + gap), oy = (z / grid_cols) * (tile_h + gap);
    for (int64_t py = 0; py < tile_h; ++py)
      for (int64_t px = 0; px < tile_w; ++px)
      {
        const int64_t cy = py / s, cx = px / s;
        const double  dx = fx.Cell(z, cy, cx), dy = fy.Cell(z, cy, cx);
        const bool    defined = std::isfinite(dx) && std::isfinite(dy);
        double        base = 245;
        if (under != nullptr && under->Planes() == 1)
        {
          // the image pixel at this picture pixel's centre, and its cell
          const double  iy = (static_cast<double>(py) + 0.5) * field_cell[0] / static_cast<double>(s);
          const double  ix = (static_cast<double>(px) + 0.5) * field_cell[1] / static_cast<double>(s);
          const int64_t uy = std::min<int64_t>(under->Rows() - 1, static_cast<int64_t>(iy / under_cell[0]));
          const int64_t ux = std::min<int64_t>(under->Columns() - 1, static_cast<int64_t>(ix / under_cell[1]));
          base = grey(under->Cell(0, uy, ux));
        }
        else if (!defined && (px + py) % 6 < 2)
          base = 175; // hatched: no shift, and nothing under it
        double out[3] = { base, base, base };
        if (defined)
        {
          // the hue at full strength, laid on as strongly as the shift is long
          uint8_t hue[3];
          ShiftColour(dy, dx, 1e-300, hue);
          const double a = 0.6 * std::min(1.0, std::sqrt(dx * dx + dy * dy) / full);
          for (int k = 0; k < 3; ++k)
            out[k] = base * (1 - a) + hue[k] * a;
        }
        for (int k = 0; k < 3; ++k)
          c[k] = static_cast<uint8_t>(std::lround(std::min(255.0, std::max(0.0, out[k]))));
        canvas.Set(ox + px, oy + py, c);
      }

    // Arrows: one per group of k x k cells, about 20 pixels apart, along the
    // group's mean shift, the full length drawn as 0.9 of their spacing.
    const int64_t k = std::max<int64_t>(1, (20 + s - 1) / s);
    const double  spacing = static_cast<double>(k * s);
    const double  gain = 0.9 * spacing / full;
    const int     width = spacing >= 32 ? 2 : 1;
    const uint8_t ink[3] = { 25, 25, 25 };
    for (int64_t gy = 0; gy < fx.Rows(); gy += k)
      for (int64_t gx = 0; gx < fx.Columns(); gx += k)
      {
        double  sx = 0, sy = 0;
        int64_t n = 0;
        for (int64_t y = gy; y < std::min(gy + k, fx.Rows()); ++y)
          for (int64_t x = gx; x < std::min(gx + k, fx.Columns()); ++x)
          {
            const double dx = fx.Cell(z, y, x), dy = fy.Cell(z, y, x);
            if (std::isfinite(dx) && std::isfinite(dy))
              sx += dx, sy += dy, ++n;
          }
        if (n == 0)
          continue;
        double ax = sx / static_cast<double>(n) * gain, ay = sy / static_cast<double>(n) * gain;
        const double len = std::sqrt(ax * ax + ay * ay);
        if (len < 3)
          continue; // aligned here: no arrow
        if (len > 1.2 * spacing)
          ax *= 1.2 * spacing / len, ay *= 1.2 * spacing / len;
        const double cx = ox + (static_cast<double>(gx) + static_cast<double>(std::min(k, fx.Columns() - gx)) / 2) * s;
        const double cy = oy + (static_cast<double>(gy) + static_cast<double>(std::min(k, fx.Rows() - gy)) / 2) * s;
        Arrow(canvas, cx - ax / 2, cy - ay / 2, ax, ay, width, ink);
      }
  }

  // The legend: the colour wheel, a shift of @full pixels at its rim.
  const int64_t wx = map_w + margin + wheel, wy = margin + wheel;
  for (int64_t y = -wheel; y <= wheel; ++y)
    for (int64_t x = -wheel; x <= wheel; ++x)
    {
      const double r = std::sqrt(static_cast<double>(x * x + y * y));
      if (r > wheel)
        continue;
      if (r > wheel - 1)
      {
        const uint8_t rim[3] = { 90, 90, 90 };
        canvas.Set(wx + x, wy + y, rim);
        continue;
      }
      uint8_t hue[3];
      ShiftColour(static_cast<double>(y), static_cast<double>(x), 1e-300, hue);
      const double a = 0.6 * std::min(1.0, r / wheel);
      for (int k = 0; k < 3; ++k)
        c[k] = static_cast<uint8_t>(std::lround(245 * (1 - a) + hue[k] * a));
      canvas.Set(wx + x, wy + y, c);
    }
  return pic;
}

} // namespace blockwise_cli
