/*
 * The parts of bench_itk_pipeline (its parent, the pair it writes, the
 * variants its children run and the check of their results) and what
 * they share.
 */
#ifndef BENCH_ITK_PIPELINE_H
#define BENCH_ITK_PIPELINE_H

#define BENCH_NAME "bench_itk_pipeline"
#include "bench_itk_util.h"

#include <cstdint>
#include <string>

namespace bench_pipeline
{

/* The side of the blocks, in pixels along both axes. */
constexpr unsigned int kBlock = 10;

/* Writes the pair A.tif and B.tif of width x height pixels into `dir`
 * (bench_itk_pipeline_pair.cxx); false, with a message, on failure. */
bool
write_pair(const std::string & dir, int64_t width, int64_t height);

/* Runs variant `name` ("noop", "ours" or "stock") on the pair in `dir` with
 * `threads` ITK threads (0: ITK's default) and returns the child's exit
 * status (bench_itk_pipeline_variants.cxx). */
int
run_variant(const std::string & name, const std::string & dir, int threads);

/* Compares r.tif with r_stock.tif in `dir` and prints the verdict; true
 * when they agree (bench_itk_pipeline_variants.cxx). */
bool
verify(const std::string & dir, int64_t width, int64_t height);

} // namespace bench_pipeline

#endif
