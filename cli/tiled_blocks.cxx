/*
 * Block statistics of tiled TIFFs in one pass over their tiles
 * (tiled_blocks.h).
 */
#include "tiled_blocks.h"

#include "memory.h"
#include "pipeline.h"
#include "plan.h"

#include "itkMultiThreaderBase.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <thread>
#include <cstring>

namespace blockwise_cli
{

/** A thread's readers (one per file), and its buffers: a cell of each file,
 * the rows of each file carried down its strip, and the columns of each
 * file passed from one cell to the next. */
struct TiledBlocks::Worker
{
  std::vector<bw_tiff_reader *>             readers;
  std::vector<std::unique_ptr<unsigned char[]>> buffers;
  std::vector<size_t>                       capacity;

  ~Worker()
  {
    for (bw_tiff_reader * r : readers)
      bw_tiff_close(r);
  }

  /** Buffer @i, at least @bytes long, aligned to a cache line (contents
   * not kept). */
  unsigned char *
  Buffer(size_t i, size_t bytes)
  {
    if (capacity[i] < bytes)
    {
      buffers[i].reset(new unsigned char[bytes + Line - 1]); // not zeroed: every byte used is written first
      capacity[i] = bytes;
    }
    const uintptr_t at = reinterpret_cast<uintptr_t>(buffers[i].get());
    return buffers[i].get() + ((Line - at % Line) % Line);
  }

  static constexpr size_t Line = 64;
};

bw_dtype
TiledBlocks::PixelType(const bw_tiff_info & info, const TiledBlocksSpec::Input & input)
{
  return ReadType(info.dtype, info.channels, input.convert, input.channel);
}

TiledBlocks::TiledBlocks(const TiledBlocksSpec & spec)
  : m_Spec(spec)
{
  // The first worker opens the files, and says what they hold.
  std::unique_ptr<Worker> w = this->TakeWorker();
  m_Info = *bw_tiff_reader_info(w->readers[0]);
  m_Type = PixelType(m_Info, m_Spec.inputs[0]);
  for (size_t i = 0; i < w->readers.size(); ++i)
  {
    const bw_tiff_info & o = *bw_tiff_reader_info(w->readers[i]);
    const std::string &  path = m_Spec.inputs[i].path;
    if (!o.tiled || o.ndim != 2 || (o.channels > 1 && !m_Spec.inputs[i].convert))
      throw RuntimeError("internal: " + path + " is not a 2-D tiled image of one channel or made one");
    if (o.shape[0] != m_Info.shape[0] || o.shape[1] != m_Info.shape[1] || o.tile_width != m_Info.tile_width ||
        o.tile_length != m_Info.tile_length || PixelType(o, m_Spec.inputs[i]) != m_Type)
      throw RuntimeError("internal: " + path + " is not tiled as " + m_Spec.inputs[0].path);
  }
  this->GiveWorker(std::move(w));
}

TiledBlocks::~TiledBlocks() = default;

std::unique_ptr<TiledBlocks::Worker>
TiledBlocks::TakeWorker()
{
  {
    std::lock_guard<std::mutex> hold(m_Lock);
    if (!m_Idle.empty())
    {
      std::unique_ptr<Worker> w = std::move(m_Idle.back());
      m_Idle.pop_back();
      return w;
    }
  }
  std::unique_ptr<Worker> w(new Worker);
  for (const TiledBlocksSpec::Input & input : m_Spec.inputs)
  {
    bw_tiff_reader * r = nullptr;
    bw_error         err;
    if (bw_tiff_open_level(input.path.c_str(), input.level, &r, &err) != BW_OK)
      throw RuntimeError(input.path + ": " + err.message);
    w->readers.push_back(r);
  }
  w->buffers.resize(3 * m_Spec.inputs.size());
  w->capacity.assign(3 * m_Spec.inputs.size(), 0);
  return w;
}

void
TiledBlocks::GiveWorker(std::unique_ptr<Worker> w)
{
  std::lock_guard<std::mutex> hold(m_Lock);
  m_Idle.push_back(std::move(w));
}

void
TiledBlocks::Compute(const bw_region & out_region, const bw_view & out, const std::function<void(double)> & progress)
{
  const bw_block_params & p = m_Spec.params;
  ptrdiff_t               shape[BW_MAX_DIMS] = { static_cast<ptrdiff_t>(m_Info.shape[0]),
                                                 static_cast<ptrdiff_t>(m_Info.shape[1]), 1 };
  bw_region               in{};
  bw_error                err;
  if (bw_block_input_region(&p, shape, &out_region, &in, &err) != BW_OK)
    throw RuntimeError(std::string("internal: ") + err.message);
  const ptrdiff_t by = p.block[0];
  const ptrdiff_t tl = static_cast<ptrdiff_t>(m_Info.tile_length);
  const ptrdiff_t y0 = in.start[0], y1 = in.start[0] + in.size[0];
  const ptrdiff_t x0 = in.start[1], x1 = in.start[1] + in.size[1], nx = x1 - x0;
  const ptrdiff_t ws = static_cast<ptrdiff_t>(TiledStripWidth(p, m_Info.tile_width));
  const ptrdiff_t cw = static_cast<ptrdiff_t>(TiledCellWidth(p, m_Info.tile_width));
  const size_t    strips = static_cast<size_t>((nx + ws - 1) / ws);
  const size_t    inputs = m_Spec.inputs.size();
  const size_t    esize = bw_dtype_size(m_Type);

  // Rows of each file below the last complete row of blocks, carried to
  // the next row of tiles in the worker's buffers: at most a block's height
  // less one, a strip wide.
  const size_t carry_row = static_cast<size_t>(ws) * esize;
  const size_t carry_bytes = carry_row * static_cast<size_t>(std::max<ptrdiff_t>(by - 1, 1));

  // The rows of tiles (or what the region holds of them), each under the
  // rows carried from the one above: the same for every strip.
  struct Band
  {
    ptrdiff_t y, end;     // the rows read
    ptrdiff_t carried;    // rows carried in above y
    ptrdiff_t done;       // rows from y - carried in complete blocks
    ptrdiff_t left;       // rows carried on to the next band
  };
  std::vector<Band> bands;
  for (ptrdiff_t y = y0, carried = 0; y < y1;)
  {
    Band b;
    b.y = y;
    b.end = std::min((y / tl + 1) * tl, y1);
    b.carried = carried;
    const ptrdiff_t held = b.end - y + carried;
    b.done = b.end == y1 ? held : held / by * by;
    b.left = held - b.done;
    bands.push_back(b);
    carried = b.left;
    y = b.end;
  }

  // Groups of bands that carry no rows into one another: a strip's group
  // is a unit of work, computed from its first row to its last by one
  // worker.  The first band of each group takes no rows from above.
  std::vector<size_t> groups;
  for (size_t k = 0; k < bands.size(); ++k)
    if (bands[k].carried == 0)
      groups.push_back(k);
  groups.push_back(bands.size());

  // Band @b of the cell that reads columns [c0, c1) of the strip starting
  // at @sx, with @worker's readers and buffers; "" or what failed.  Where
  // cells follow tiles, a cell's first columns are those the cell to its
  // left read but could not complete a block with (its last k1 - c1
  // columns, fewer than a block): the cell holds columns [k0, c1) and
  // computes the whole blocks of [k0, k1), and passes [k1, c1) on to the
  // next one.  Each tile is then decoded once, by one read that takes all
  // of it, and no decoded tile waits in the reader's cache.
  const ptrdiff_t bx = p.block[1];
  const ptrdiff_t tw = static_cast<ptrdiff_t>(m_Info.tile_width);
  const bool      follow_tiles = TiledCellsFollowTiles(p, m_Info.tile_width);
  // A cell's rows start on cache lines, so that the kernel's loads of a
  // block row do not straddle two.
  const auto      row_of = [&](ptrdiff_t w) {
    return (static_cast<size_t>(w) * esize + Worker::Line - 1) / Worker::Line * Worker::Line;
  };
  const size_t    cell_bytes = static_cast<size_t>(by - 1 + tl) * row_of(cw);
  const size_t    side_bytes = static_cast<size_t>(by - 1 + tl) * static_cast<size_t>(std::max<ptrdiff_t>(bx - 1, 1)) * esize;
  auto            cell = [&](ptrdiff_t sx, ptrdiff_t k0, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t k1, const Band & b,
                  Worker & worker) -> std::string {
    const ptrdiff_t w = c1 - k0, lc = c0 - k0, rc = c1 - k1;
    const ptrdiff_t held = b.carried + (b.end - b.y);
    const size_t    row = row_of(w);
    bw_view         views[2];
    unsigned char * carry[2] = { nullptr, nullptr };
    unsigned char * side[2] = { nullptr, nullptr };
    for (size_t i = 0; i < inputs; ++i)
    {
      unsigned char * buf = worker.Buffer(i, cell_bytes);
      carry[i] = worker.Buffer(inputs + i, carry_bytes);
      side[i] = worker.Buffer(2 * inputs + i, side_bytes);
      // the columns passed on from the left, every row held
      for (ptrdiff_t k = 0; lc > 0 && k < held; ++k)
        std::memcpy(buf + static_cast<size_t>(k) * row, side[i] + static_cast<size_t>(k * lc) * esize,
                    static_cast<size_t>(lc) * esize);
      // the rows carried from above, of the columns this cell reads
      for (ptrdiff_t k = 0; k < b.carried; ++k)
        std::memcpy(buf + static_cast<size_t>(k) * row + static_cast<size_t>(lc) * esize,
                    carry[i] + static_cast<size_t>(k) * carry_row + static_cast<size_t>(c0 - sx) * esize,
                    static_cast<size_t>(c1 - c0) * esize);
      bw_view & v = views[i];
      v = bw_view{};
      v.dtype = m_Type;
      v.ndim = 2;
      v.strides[0] = static_cast<ptrdiff_t>(row);
      v.strides[1] = static_cast<ptrdiff_t>(esize);
      v.data = buf + static_cast<size_t>(b.carried) * row + static_cast<size_t>(lc) * esize;
      v.shape[0] = b.end - b.y;
      v.shape[1] = c1 - c0;
      bw_region part{};
      part.start[0] = b.y;
      part.start[1] = c0;
      part.size[0] = b.end - b.y;
      part.size[1] = c1 - c0;
      const TiledBlocksSpec::Input & input = m_Spec.inputs[i];
      bw_error                       e;
      const bw_status                st = input.convert && bw_tiff_reader_info(worker.readers[i])->channels > 1
                                            ? bw_tiff_read_channel(worker.readers[i], &part, &input.channel, &v, &e)
                                            : bw_tiff_read(worker.readers[i], &part, &v, &e);
      if (st != BW_OK)
        return input.path + ": " + e.message;
      v.data = buf;
      v.shape[0] = b.done;
      v.shape[1] = k1 - k0;
    }
    if (b.done > 0 && k1 > k0)
    {
      bw_region pixels{}, blocks{};
      pixels.start[0] = b.y - b.carried;
      pixels.start[1] = k0;
      pixels.size[0] = b.done;
      pixels.size[1] = k1 - k0;
      bw_error e;
      if (bw_block_output_region(&p, shape, &pixels, &blocks, &e) != BW_OK)
        return std::string("internal: ") + e.message;
      if (blocks.size[0] > 0 && blocks.size[1] > 0)
      {
        bw_block_output o{};
        o.stat = m_Spec.stat;
        o.input = 0;
        o.view = out;
        o.view.data = static_cast<char *>(out.data) + (blocks.start[0] - out_region.start[0]) * out.strides[0] +
                      (blocks.start[1] - out_region.start[1]) * out.strides[1];
        o.view.shape[0] = blocks.size[0];
        o.view.shape[1] = blocks.size[1];
        if (bw_block_stats(&views[0], inputs > 1 ? &views[1] : nullptr, &p, &o, 1, &e) != BW_OK)
          return e.message;
      }
    }
    for (size_t i = 0; i < inputs; ++i)
    {
      const unsigned char * buf = static_cast<const unsigned char *>(views[i].data);
      // rows below the complete blocks, of the columns computed here
      for (ptrdiff_t k = 0; k < b.left; ++k)
        std::memcpy(carry[i] + static_cast<size_t>(k) * carry_row + static_cast<size_t>(k0 - sx) * esize,
                    buf + static_cast<size_t>(b.done + k) * row, static_cast<size_t>(k1 - k0) * esize);
      // columns right of them, every row, to the next cell
      for (ptrdiff_t k = 0; rc > 0 && k < held; ++k)
        std::memcpy(side[i] + static_cast<size_t>(k * rc) * esize,
                    buf + static_cast<size_t>(k) * row + static_cast<size_t>(k1 - k0) * esize,
                    static_cast<size_t>(rc) * esize);
    }
    return std::string();
  };

  // Band @b of strip @s: its cells, left to right, so that a cell of both
  // files, a row of tiles high, stays in a core's cache from its decoding
  // to its blocks.  Cells follow the tiles where tiles are at least a block
  // wide; otherwise they are whole blocks about a tile wide, and a tile two
  // of them share is decoded once (the reader keeps a tile a read ends
  // inside).
  auto band = [&](size_t s, const Band & b, Worker & worker) -> std::string {
    const ptrdiff_t xs = x0 + static_cast<ptrdiff_t>(s) * ws, xe = std::min(xs + ws, x1);
    for (ptrdiff_t c0 = xs, k0 = xs; c0 < xe;)
    {
      const ptrdiff_t c1 = follow_tiles ? std::min((c0 / tw + 1) * tw, xe) : std::min(c0 + cw, xe);
      // blocks start at multiples of bx (x0 and the strips are aligned)
      const ptrdiff_t k1 = c1 == xe ? c1 : std::max(k0, c1 / bx * bx);
      std::string     e = cell(xs, k0, c0, c1, k1, b, worker);
      if (!e.empty())
        return e;
      c0 = c1;
      k0 = k1;
    }
    return std::string();
  };

  // Each thread takes a unit, a group of a strip, and goes down it band
  // after band; units are independent, taken a row of groups at a time,
  // left to right, and small enough that the threads finish together.
  // This thread reports progress meanwhile, and stops them when the
  // progress callback throws (an interrupted run).
  const size_t   units = strips * (groups.size() - 1);
  const unsigned threads = std::max(1u, std::min<unsigned>(itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads(),
                                                            static_cast<unsigned>(std::min<size_t>(units, 1u << 16))));
  std::vector<std::string> errors(units);
  std::atomic<size_t>      next{ 0 }, finished{ 0 };
  std::atomic<bool>        stop{ false };
  std::mutex               exit_lock;
  std::condition_variable  exited;
  unsigned                 running = threads;
  auto                     work = [&]() {
    std::unique_ptr<Worker> worker;
    for (size_t u; !stop && (u = next++) < units;)
    {
      const size_t s = u % strips, g = u / strips;
      try
      {
        if (!worker)
          worker = this->TakeWorker();
        for (size_t k = groups[g]; k < groups[g + 1] && !stop && errors[u].empty(); ++k, ++finished)
          errors[u] = band(s, bands[k], *worker);
      }
      catch (const std::exception & e)
      {
        errors[u] = e.what();
      }
      if (!errors[u].empty())
        stop = true;
    }
    if (worker)
      this->GiveWorker(std::move(worker));
    std::lock_guard<std::mutex> hold(exit_lock);
    --running;
    exited.notify_one();
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back(work);
  std::exception_ptr interrupted;
  const double       total = static_cast<double>(bands.size() * strips);
  for (bool all = false; !all;)
  {
    {
      std::unique_lock<std::mutex> hold(exit_lock);
      all = exited.wait_for(hold, std::chrono::milliseconds(100), [&] { return running == 0; });
    }
    if (interrupted)
      continue;
    try
    {
      progress(static_cast<double>(finished) / total);
    }
    catch (...)
    {
      interrupted = std::current_exception();
      stop = true;
    }
  }
  for (std::thread & t : pool)
    t.join();
  if (interrupted)
    std::rethrow_exception(interrupted);
  for (const std::string & e : errors)
    if (!e.empty())
      throw RuntimeError(e);
  // Nothing is kept between pieces: a piece that ends inside a row of
  // tiles leaves the rest of it to be decoded again by the next piece.
  std::lock_guard<std::mutex> hold(m_Lock);
  for (auto & w : m_Idle)
    for (bw_tiff_reader * r : w->readers)
      bw_tiff_reader_trim(r);
}

} // namespace blockwise_cli
