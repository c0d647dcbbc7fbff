/*
 * The command's memory model: how many pieces a pass must stream in so
 * that the images it holds stay under the budget, and how many summary
 * values fit.  It asks the core's region maps which input region each
 * step needs for a piece of its output (block maps, non-local means
 * halos), so it agrees with what the ITK filters request.  No ITK here.
 */
#ifndef BLOCKWISE_CLI_MEMORY_H
#define BLOCKWISE_CLI_MEMORY_H

#include "plan.h"

#include <cstdint>

namespace blockwise_cli
{

/** Bytes of every image upstream of step @node, each counted once, while a
 * piece of @node's output of @rows rows (extent along its slowest axis,
 * placed where halos are not clipped) is computed: each step's region from
 * the core's region map of its consumer, the casts to double of a pair of
 * different element types included. */
double
PieceBytes(const Resolved & plan, size_t node, int64_t rows);

/** The number of pieces (bands along the slowest axis of @node's output)
 * that keeps PieceBytes under half of @memory; the other half is for the
 * summaries' values, codec buffers and the allocator.  At least 1, at most
 * the output's extent along that axis. */
unsigned int
Divisions(const Resolved & plan, size_t node, uint64_t memory);

/** Columns of a strip of the tile-driven block pass (tiled_blocks.h):
 * whole blocks, and whole tiles of @tile_width where the two meet often
 * enough. */
int64_t
TiledStripWidth(const bw_block_params & params, uint32_t tile_width);
/** Whether the cells of such a strip, the pieces decoded and reduced at
 * once, are its tiles (tiles at least a block wide), each with the columns
 * of incomplete blocks the cell on its left passes on. */
bool
TiledCellsFollowTiles(const bw_block_params & params, uint32_t tile_width);
/** Columns a cell holds at most: a tile and the columns passed on to it,
 * or else whole blocks about a tile wide (at most the strip). */
int64_t
TiledCellWidth(const bw_block_params & params, uint32_t tile_width);
/** Bytes the tile-driven block pass holds besides its output, on
 * @threads threads, for @inputs files an image @width pixels wide of
 * tiles @tile_width x @tile_length holding @file_bytes bytes per pixel,
 * read as @pixel_bytes per pixel: a cell of each file per thread (the
 * rows carried from the row of tiles above included) and the columns it
 * passes on, two decoded tiles, and the rows carried down a strip. */
double
TiledWorkingBytes(const bw_block_params & params, uint32_t tile_width, uint32_t tile_length, int64_t width,
                  double file_bytes, double pixel_bytes, int inputs, unsigned threads);
/** How many values of a map a summary keeps for exact percentiles: an
 * eighth of @memory, at most the map's size. */
uint64_t
SummaryValues(const NodeInfo & map, uint64_t memory);

} // namespace blockwise_cli

#endif
