/*
 * bench_itk_pipeline's test pair: a uint16 texture A and B = A warped by a
 * pixel or two plus independent noise, with a constant rectangle in both,
 * written as uncompressed striped TIFF files band by band.
 */
#include "bench_itk_pipeline.h"

#include "bw_tiff.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace bench_pipeline
{
namespace
{

using bench::check;

uint64_t
mix64(uint64_t z)
{
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A value in [0, 1) attached to lattice point (i, j) of layer salt. */
double
lattice(int64_t i, int64_t j, uint64_t salt)
{
  const uint64_t h = mix64(static_cast<uint64_t>(i) * 0x632BE59BD9B4E019ull ^
                           static_cast<uint64_t>(j) * 0x85157AF5F0E9D3B1ull ^ salt);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

/* Value noise: lattice values every cell pixels, blended with smoothstep
 * weights; continuous in (u, v), so it can be sampled between pixels. */
double
value_noise(double u, double v, double cell, uint64_t salt)
{
  const double fu = u / cell, fv = v / cell;
  const double iu = std::floor(fu), iv = std::floor(fv);
  double       tu = fu - iu, tv = fv - iv;
  tu = tu * tu * (3 - 2 * tu);
  tv = tv * tv * (3 - 2 * tv);
  const int64_t i = static_cast<int64_t>(iu), j = static_cast<int64_t>(iv);
  const double  a = lattice(i, j, salt), b = lattice(i + 1, j, salt);
  const double  c = lattice(i, j + 1, salt), d = lattice(i + 1, j + 1, salt);
  return a + (b - a) * tu + (c - a) * tv + (a - b - c + d) * tu * tv;
}

/* The scene: three octaves of value noise, values in [2000, 16000). */
double
texture(double x, double y)
{
  return 2000 + 7000 * value_noise(x, y, 97, 11) + 4000 * value_noise(x, y, 23, 12) +
         3000 * value_noise(x, y, 6.5, 13);
}

/* Per-pixel noise, uniform in [-1, 1). */
double
pixel_noise(uint64_t x, uint64_t y, uint64_t salt)
{
  return static_cast<double>(mix64((y << 32 | x) ^ salt) >> 11) * 0x1.0p-52 - 1.0;
}

uint16_t
to_u16(double v)
{
  return static_cast<uint16_t>(std::lrint(std::min(65535.0, std::max(0.0, v))));
}

struct PairGeometry
{
  int64_t width, height;
  /* A rectangle of constant value in both images (as the unacquired fill of
   * a mosaic), aligned to the blocks: those blocks have no correlation. */
  int64_t fill_x0, fill_x1, fill_y0, fill_y1;
  /* B's sampling offsets: x + dx_col[x] + dx_row[y], y + dy_col[x] + dy_row[y]. */
  std::vector<double> dx_col, dx_row, dy_col, dy_row;

  PairGeometry(int64_t w, int64_t h)
    : width(w)
    , height(h)
  {
    const auto align = [](double v) { return static_cast<int64_t>(v / kBlock) * kBlock; };
    fill_x0 = align(0.62 * w);
    fill_x1 = fill_x0 + align(0.1 * w);
    fill_y0 = align(0.15 * h);
    fill_y1 = fill_y0 + align(0.08 * h);
    const double two_pi = 6.283185307179586;
    dx_col.resize(w);
    dy_col.resize(w);
    for (int64_t x = 0; x < w; ++x)
    {
      dx_col[x] = 0.4 * std::sin(two_pi * x / 4100.0);
      dy_col[x] = -0.6 + 0.7 * std::sin(two_pi * x / 3300.0);
    }
    dx_row.resize(h);
    dy_row.resize(h);
    for (int64_t y = 0; y < h; ++y)
    {
      dx_row[y] = 1.0 + 0.8 * std::sin(two_pi * y / 2900.0);
      dy_row[y] = 0.3 * std::sin(two_pi * y / 5200.0);
    }
  }

  /* Rows [y0, y1) of A and B into a and b (row-major, width columns). */
  void
  fill_rows(int64_t y0, int64_t y1, uint16_t * a, uint16_t * b) const
  {
    for (int64_t y = y0; y < y1; ++y)
    {
      uint16_t * ra = a + (y - y0) * width;
      uint16_t * rb = b + (y - y0) * width;
      const bool fill_row = y >= fill_y0 && y < fill_y1;
      for (int64_t x = 0; x < width; ++x)
      {
        if (fill_row && x >= fill_x0 && x < fill_x1)
        {
          ra[x] = 1500;
          rb[x] = 2300;
          continue;
        }
        const double ta = texture(static_cast<double>(x), static_cast<double>(y));
        const double tb = texture(x + dx_col[x] + dx_row[y], y + dy_col[x] + dy_row[y]);
        ra[x] = to_u16(ta + 500 * pixel_noise(x, y, 0xA));
        rb[x] = to_u16(0.9 * tb + 1000 + 500 * pixel_noise(x, y, 0xB));
      }
    }
  }
};

} // namespace

/* Writes A.tif and B.tif band by band (uncompressed strips), computing each
 * band on all cores: the pair is never whole in memory. */
bool
write_pair(const std::string & dir, int64_t width, int64_t height)
{
  const PairGeometry         g(width, height);
  const ptrdiff_t            extents[2] = { static_cast<ptrdiff_t>(height), static_cast<ptrdiff_t>(width) };
  const bw_tiff_write_params p = bench::tiff_params(BW_U16, 2, extents); /* uncompressed strips */
  bw_error         err;
  bw_tiff_writer * wa = nullptr;
  bw_tiff_writer * wb = nullptr;
  if (!check(bw_tiff_create((dir + "/A.tif").c_str(), &p, &wa, &err), err, "create A.tif") ||
      !check(bw_tiff_create((dir + "/B.tif").c_str(), &p, &wb, &err), err, "create B.tif"))
  {
    bw_tiff_abort(wa);
    return false;
  }
  const int64_t         band = 128;
  std::vector<uint16_t> a(static_cast<size_t>(band * width)), b(a.size());
  const unsigned int    nthreads = std::max(1u, std::thread::hardware_concurrency());
  bool                  ok = true;
  for (int64_t y0 = 0; y0 < height && ok; y0 += band)
  {
    const int64_t            rows = std::min(band, height - y0);
    std::vector<std::thread> workers;
    for (unsigned int t = 0; t < nthreads; ++t)
    {
      const int64_t r0 = rows * t / nthreads, r1 = rows * (t + 1) / nthreads;
      workers.emplace_back(
        [&, r0, r1] { g.fill_rows(y0 + r0, y0 + r1, a.data() + r0 * width, b.data() + r0 * width); });
    }
    for (auto & w : workers)
    {
      w.join();
    }
    bw_region region;
    region.start[0] = y0;
    region.start[1] = 0;
    region.size[0] = rows;
    region.size[1] = width;
    const ptrdiff_t shape[2] = { static_cast<ptrdiff_t>(rows), static_cast<ptrdiff_t>(width) };
    const bw_view   va = bw_view_contiguous(a.data(), BW_U16, 2, shape);
    const bw_view   vb = bw_view_contiguous(b.data(), BW_U16, 2, shape);
    ok = check(bw_tiff_write(wa, &region, &va, &err), err, "write A.tif") &&
         check(bw_tiff_write(wb, &region, &vb, &err), err, "write B.tif");
  }
  if (!ok)
  {
    bw_tiff_abort(wa);
    bw_tiff_abort(wb);
    return false;
  }
  const bool done_a = check(bw_tiff_finish(wa, &err), err, "finish A.tif");
  const bool done_b = check(bw_tiff_finish(wb, &err), err, "finish B.tif");
  return done_a && done_b;
}

} // namespace bench_pipeline
