/*
 * The command's memory model (memory.h).
 */
#include "memory.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <thread>

namespace blockwise_cli
{

namespace
{

double
Pixels(const bw_region & r, int ndim)
{
  double n = 1;
  for (int d = 0; d < ndim; ++d)
    n *= static_cast<double>(r.size[d]);
  return n;
}

/** The smallest box holding @a and @b (an empty @a is replaced). */
void
Cover(bw_region & a, const bw_region & b, int ndim, bool & empty)
{
  if (empty)
  {
    a = b;
    empty = false;
    return;
  }
  for (int d = 0; d < ndim; ++d)
  {
    const ptrdiff_t lo = std::min(a.start[d], b.start[d]);
    const ptrdiff_t hi = std::max(a.start[d] + a.size[d], b.start[d] + b.size[d]);
    a.start[d] = lo;
    a.size[d] = hi - lo;
  }
}

/** The region of step @k's input computing @out of @k's output needs: the
 * core's region map of the step's operation. */
bw_region
InputRegion(const Resolved & plan, size_t k, const bw_region & out)
{
  const ResolvedStep & r = plan.steps[k];
  const NodeInfo &     in = plan.steps[r.inputs[0]].node;
  ptrdiff_t            shape[BW_MAX_DIMS] = { 1, 1, 1 };
  for (int d = 0; d < in.ndim; ++d)
    shape[d] = static_cast<ptrdiff_t>(in.shape[d]);
  bw_region need = out;
  bw_status status = BW_OK;
  if (r.step->op == Op::Corr || r.step->op == Op::Stats)
    status = bw_block_input_region(&r.params, shape, &out, &need, nullptr);
  else if (r.step->op == Op::Denoise)
    status = bw_nlm_input_region(&r.nlm, shape, &out, &need, nullptr);
  else if (r.step->op == Op::Channel)
    status = bw_channel_input_region(in.ndim, shape, &out, &need, nullptr);
  else if (r.step->op == Op::Local)
    status = bw_local_input_region(&r.local, shape, &out, &need, nullptr);
#ifdef BLOCKWISE_HAVE_DECONV
  else if (r.step->op == Op::Deconvolve)
    status = bw_rl_input_region(in.ndim, r.halo, r.psf_shape, shape, &out, &need, nullptr);
#endif
  else if (r.step->op == Op::Shift)
    // the moving image's, the larger: counted for both inputs
    status = bw_shift_input_region(&r.shift, shape, &out, nullptr, &need, nullptr);
  if (status != BW_OK)
    throw RuntimeError("internal: step '" + r.step->name + "' has no input region for a piece of its output");
  return need;
}

/** The bytes of the plan a Deconvolve step makes for a piece of extents
 * @piece (bw_rl_plan_size()). */
double
DeconvolvePlanBytes(const ResolvedStep & s, const ptrdiff_t * piece)
{
#ifdef BLOCKWISE_HAVE_DECONV
  ptrdiff_t psf[BW_MAX_DIMS] = { 1, 1, 1 };
  for (int d = 0; d < s.node.ndim; ++d)
    psf[d] = static_cast<ptrdiff_t>(s.psf_shape[d]);
  size_t bytes = 0;
  if (bw_rl_plan_size(&s.rl, piece, psf, &bytes, nullptr) != BW_OK)
    throw RuntimeError("internal: step '" + s.step->name + "' has no plan for a piece");
  return static_cast<double>(bytes);
#else
  (void)s, (void)piece;
  return 0;
#endif
}

} // namespace

double
PieceBytes(const Resolved & plan, size_t node, int64_t rows)
{
  const size_t     count = plan.steps.size();
  const NodeInfo & out = plan.steps[node].node;
  // Regions each step is asked for, from the consumers down: steps are in
  // an order where inputs come first, so walking it backwards visits every
  // consumer before its inputs.
  std::vector<bw_region> region(count);
  std::vector<bool>      empty(count, true), needed(count, false);
  bw_region              piece{};
  const int64_t          n = out.shape[0];
  const int64_t          r = std::max<int64_t>(1, std::min(rows, n));
  piece.start[0] = static_cast<ptrdiff_t>((n - r) / 2);
  piece.size[0] = static_cast<ptrdiff_t>(r);
  for (int d = 1; d < out.ndim; ++d)
    piece.size[d] = static_cast<ptrdiff_t>(out.shape[d]);
  bool e = true;
  Cover(region[node], piece, out.ndim, e);
  empty[node] = false;
  needed[node] = true;

  double bytes = 0;
  for (size_t k = count; k-- > 0;)
  {
    if (!needed[k])
      continue;
    const ResolvedStep & s = plan.steps[k];
    const int            nd = s.node.ndim;
    // A channel step that passes its input on holds no image of its own; a
    // read that makes one channel while decoding holds that channel only.
    if (s.step->op == Op::Read && s.fused)
      bytes += Pixels(region[k], nd) * static_cast<double>(bw_dtype_size(s.fused_type));
    else if (!(s.step->op == Op::Channel && (s.pass || s.fused)))
      bytes += Pixels(region[k], nd) * static_cast<double>(bw_dtype_size(s.node.dtype)) * s.node.channels;
    if (s.tiled && (s.step->op == Op::Corr || s.step->op == Op::Stats))
    {
      // One pass over the tiles of the files: no image of them.
      size_t read = s.inputs[0];
      if (plan.steps[read].step->op == Op::Channel)
        read = plan.steps[read].inputs[0];
      const NodeInfo & file = plan.steps[read].node;
      const unsigned   threads = std::max(1u, std::thread::hardware_concurrency());
      bytes += TiledWorkingBytes(s.params, file.tile_width, file.tile_length, file.shape[1],
                                 static_cast<double>(bw_dtype_size(file.dtype)) * file.channels,
                                 static_cast<double>(bw_dtype_size(plan.steps[s.inputs[0]].node.dtype)),
                                 static_cast<int>(s.inputs.size()), threads);
      continue;
    }
    if (s.inputs.empty())
    {
      // What the reader keeps decoded between pieces: rows of chunks across
      // the image, whatever the piece.
      const int64_t width = s.node.shape[nd - 1];
      bytes += static_cast<double>(s.node.chunk_rows) * static_cast<double>(width) *
               static_cast<double>(bw_dtype_size(s.node.dtype)) * s.node.channels;
      continue;
    }
    const bw_region need = InputRegion(plan, k, region[k]);
    const bool      cast = s.inputs.size() == 2 && s.step->op != Op::Deconvolve &&
                      plan.steps[s.inputs[0]].node.dtype != plan.steps[s.inputs[1]].node.dtype;
    if (s.step->op == Op::Deconvolve)
    {
      // The piece's plan (its transforms, as the library counts them) and
      // the piece's own float32 buffer; the PSF is read whole.
      const NodeInfo & psf = plan.steps[s.inputs[1]].node;
      bytes += DeconvolvePlanBytes(s, need.size) + 4 * Pixels(need, nd);
      bw_region whole{};
      for (int d = 0; d < psf.ndim; ++d)
        whole.size[d] = static_cast<ptrdiff_t>(psf.shape[d]);
      bool e0 = empty[s.inputs[1]];
      Cover(region[s.inputs[1]], whole, psf.ndim, e0);
      empty[s.inputs[1]] = e0;
      needed[s.inputs[1]] = true;
      bool e1 = empty[s.inputs[0]];
      Cover(region[s.inputs[0]], need, nd, e1);
      empty[s.inputs[0]] = e1;
      needed[s.inputs[0]] = true;
      continue;
    }
    for (size_t in : s.inputs)
    {
      bool was_empty = empty[in];
      Cover(region[in], need, plan.steps[in].node.ndim, was_empty);
      empty[in] = was_empty;
      needed[in] = true;
      if (cast)
        bytes += 8 * Pixels(need, nd); // the cast to double
    }
  }
  return bytes;
}

unsigned int
Divisions(const Resolved & plan, size_t node, uint64_t memory)
{
  const double  budget = 0.5 * static_cast<double>(memory);
  const int64_t rows = plan.steps[node].node.shape[0];
  // Bytes per row of the output, whole-image: the first guess.
  const double whole = PieceBytes(plan, node, rows);
  int64_t      n = static_cast<int64_t>(std::min(std::max(std::ceil(whole / budget), 1.0), static_cast<double>(rows)));
  // Halos and block alignment make pieces larger than whole / n: add
  // pieces until one fits, or every piece is one row.
  while (n < rows && PieceBytes(plan, node, (rows + n - 1) / n) > budget)
    n = std::min(rows, n + std::max<int64_t>(1, n / 8));
  // Pieces whose halos reach over most of the image (a deconvolution's
  // exact halo) cost nearly the whole image each: more of them only
  // repeat the work.
  if (n > 1 && PieceBytes(plan, node, (rows + n - 1) / n) > 0.9 * whole)
    return 1;
  // Past one row (a slab of a volume) pieces split the next axis too.
  if (n == rows)
  {
    const double one = PieceBytes(plan, node, 1);
    if (one > budget)
      n = static_cast<int64_t>(std::min(static_cast<double>(rows) * std::ceil(one / budget), 1.0e6));
  }
  return static_cast<unsigned int>(std::min<int64_t>(n, 1000000));
}

int64_t
TiledStripWidth(const bw_block_params & params, uint32_t tile_width)
{
  // About 1280 columns: a strip of both files, a row of tiles high, in
  // float32, is then about the size of a core's L2 cache.  Whole tiles
  // where a width of whole tiles and whole blocks is not too wide (no
  // tile decoded for two strips); else whole blocks.
  constexpr int64_t target = 1280;
  const int64_t     bx = std::max<int64_t>(params.block[1], 1);
  const int64_t     tw = std::max<int64_t>(tile_width, 1);
  int64_t           g = tw, h = bx;
  while (h != 0)
    g = std::exchange(h, g % h);
  const int64_t both = tw / g * bx;
  if (both <= 4 * target)
    return both * std::max<int64_t>(1, target / both);
  return bx * std::max<int64_t>(1, (target + bx - 1) / bx);
}

bool
TiledCellsFollowTiles(const bw_block_params & params, uint32_t tile_width)
{
  return static_cast<int64_t>(tile_width) >= params.block[1];
}

int64_t
TiledCellWidth(const bw_block_params & params, uint32_t tile_width)
{
  const int64_t bx = std::max<int64_t>(params.block[1], 1);
  const int64_t tw = std::max<int64_t>(tile_width, 1);
  if (TiledCellsFollowTiles(params, tile_width))
    return std::min(TiledStripWidth(params, tile_width), tw) + bx - 1;
  return std::min(TiledStripWidth(params, tile_width), bx * std::max<int64_t>(1, (tw + bx / 2) / bx));
}

double
TiledWorkingBytes(const bw_block_params & params, uint32_t tile_width, uint32_t tile_length, int64_t width,
                  double file_bytes, double pixel_bytes, int inputs, unsigned threads)
{
  const double cell = static_cast<double>(TiledCellWidth(params, tile_width));
  const double carried = static_cast<double>(std::max<int64_t>(params.block[0] - 1, 0));
  const double strip = static_cast<double>(std::min<int64_t>(TiledStripWidth(params, tile_width), width));
  const double side = static_cast<double>(std::max<int64_t>(params.block[1] - 1, 1));
  // a cell's rows are padded to a cache line (64 bytes)
  const double per_thread = (carried + tile_length) * ((cell + side) * pixel_bytes + 64) + carried * strip * pixel_bytes +
                            2.0 * static_cast<double>(tile_width) * tile_length * file_bytes;
  return inputs * threads * per_thread;
}

uint64_t
SummaryValues(const NodeInfo & map, uint64_t memory)
{
  double cells = 1;
  for (int d = 0; d < map.ndim; ++d)
    cells *= static_cast<double>(map.shape[d]);
  return static_cast<uint64_t>(std::min(cells, static_cast<double>(memory / 8 / sizeof(float))));
}

} // namespace blockwise_cli
