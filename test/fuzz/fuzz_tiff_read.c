/*
 * libFuzzer target for the TIFF reader: opens the input as a file image in
 * memory, checks the description and band units it reports, then reads a
 * few regions (corners, a block in the middle, a band of the last page,
 * the middle page in bands of its band unit through a second reader, and
 * the whole image when it is small), every channel at once into an
 * interleaved buffer and, of images with several, the last channel alone
 * (the planar-separate and conversion paths).  Seeds with ImageJ and
 * OME-XML descriptions, and a dictionary of their keys, take it through
 * the metadata parsers.  Any error must come with a message;
 * crashes, leaks, hangs and sanitizer reports are found by libFuzzer
 * itself.
 */
#include "bw_tiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Largest strip, tile or region this target reads, in bytes: keeps each
 * run fast (the reader itself accepts chunks up to 1 GiB). */
#define FUZZ_MAX_BYTES ((uint64_t)16 << 20)

static void require(int cond) {
  if (!cond) abort();
}

/* Reads channels [first, first + count) of a region into one interleaved
 * buffer; returns 1 when the read succeeded. */
static int read_channels(bw_tiff_reader *r, const bw_tiff_info *in, const int64_t *start,
                         const int64_t *size, int first, int count) {
  size_t es = bw_dtype_size(in->dtype);
  uint64_t bytes = es * (uint64_t)count;
  bw_region reg;
  memset(&reg, 0, sizeof reg);
  for (int i = 0; i < in->ndim; i++) {
    reg.start[i] = (ptrdiff_t)start[i];
    reg.size[i] = (ptrdiff_t)size[i];
    bytes *= (uint64_t)size[i];
    if (bytes > FUZZ_MAX_BYTES) return 0;
  }
  unsigned char *buf = malloc((size_t)bytes);
  if (!buf) return 0;
  memset(buf, 0xA5, (size_t)bytes);
  bw_view v[BW_TIFF_MAX_CHANNELS];
  for (int c = 0; c < count; c++) {
    v[c] = bw_view_contiguous(buf + (size_t)c * es, in->dtype, in->ndim, reg.size);
    for (int i = 0; i < in->ndim; i++) v[c].strides[i] *= count;
  }
  bw_error e;
  memset(&e, 0, sizeof e);
  bw_status st = bw_tiff_read_channels(r, &reg, first, count, v, &e);
  if (st != BW_OK) require(e.status == st && e.message[0] != '\0');
  free(buf);
  return st == BW_OK;
}

/* Reads a region converted to one float32 channel while decoding:
 * luminance of files of three channels or more, else the last channel. */
static void read_converted(bw_tiff_reader *r, const bw_tiff_info *in, const int64_t *start,
                           const int64_t *size) {
  uint64_t bytes = sizeof(float);
  bw_region reg;
  memset(&reg, 0, sizeof reg);
  for (int i = 0; i < in->ndim; i++) {
    reg.start[i] = (ptrdiff_t)start[i];
    reg.size[i] = (ptrdiff_t)size[i];
    bytes *= (uint64_t)size[i];
    if (bytes > FUZZ_MAX_BYTES) return;
  }
  float *buf = malloc((size_t)bytes);
  if (!buf) return;
  bw_view v = bw_view_contiguous(buf, BW_F32, in->ndim, reg.size);
  bw_channel_params p;
  bw_channel_params_init(&p);
  if (in->channels < 3) {
    p.op = BW_CHANNEL_INDEX;
    p.index = in->channels - 1;
  }
  bw_error e;
  memset(&e, 0, sizeof e);
  bw_status st = bw_tiff_read_channel(r, &reg, &p, &v, &e);
  if (st != BW_OK) require(e.status == st && e.message[0] != '\0');
  free(buf);
}

/* Reads a region, every channel; the last channel alone; and one channel
 * converted while decoding. */
static int read_region(bw_tiff_reader *r, const bw_tiff_info *in, const int64_t *start,
                       const int64_t *size) {
  int ok = read_channels(r, in, start, size, 0, in->channels);
  if (in->channels > 1) read_channels(r, in, start, size, in->channels - 1, 1);
  read_converted(r, in, start, size);
  return ok;
}

/* The middle page in bands of the band unit (at most 8 bands), through a
 * reader of its own, as threads read: each band starts where the strips or
 * tiles of the previous one end. */
static void read_bands(const uint8_t *data, size_t size, const bw_tiff_info *in,
                       int64_t unit) {
  bw_tiff_reader *r = NULL;
  bw_error e;
  memset(&e, 0, sizeof e);
  require(bw_tiff_open_memory(data, size, &r, &e) == BW_OK);
  int nd = in->ndim;
  int64_t start[3], sz[3];
  for (int i = 0; i < nd; i++) {
    start[i] = nd == 3 && i == 0 ? in->shape[0] / 2 : 0;
    sz[i] = i == nd - 1 ? in->shape[i] : 1;
  }
  int64_t rows = in->shape[nd - 2];
  for (int b = 0; b < 8 && start[nd - 2] < rows; b++) {
    sz[nd - 2] = rows - start[nd - 2] < unit ? rows - start[nd - 2] : unit;
    if (!read_region(r, in, start, sz)) break;
    start[nd - 2] += sz[nd - 2];
  }
  bw_tiff_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bw_tiff_reader *r = NULL;
  bw_error e;
  memset(&e, 0, sizeof e);
  bw_status st = bw_tiff_open_memory(data, size, &r, &e);
  if (st != BW_OK) {
    require(r == NULL && e.status == st && e.message[0] != '\0');
    return 0;
  }
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  require(in->ndim == 2 || in->ndim == 3);
  size_t es = bw_dtype_size(in->dtype) * (size_t)in->channels;
  require(es > 0 && in->channels >= 1 && in->channels <= BW_TIFF_MAX_CHANNELS);
  require(in->photometric_name != NULL && in->bits_per_sample > 1);
  for (int i = 0; i < in->ndim; i++) require(in->shape[i] >= 1 && in->spacing[i] > 0);
  require(in->compression_name != NULL);
  /* The metadata: sources and formats named, names whole strings. */
  require(in->spacing_source != NULL && in->description_format != NULL);
  require(in->spacing_stated == 0 || in->spacing_stated == 1);
  require(in->meta_channels >= 0 && in->meta_z >= 0 && in->meta_t >= 0);
  for (int c = -1; c <= in->channels; c++) {
    const char *name = bw_tiff_channel_name(r, c);
    require(name == NULL || (c >= 0 && c < in->channels && strlen(name) < 256));
  }
  int64_t unit = bw_tiff_band_unit(r, in->ndim - 2);
  require(unit >= 1 && unit <= in->shape[in->ndim - 2]);
  require(bw_tiff_band_unit(r, in->ndim - 1) == 0 && bw_tiff_band_unit(r, -1) == 0);
  require(in->ndim == 2 || bw_tiff_band_unit(r, 0) == 1);

  int nd = in->ndim;
  int64_t rows = in->shape[nd - 2], cols = in->shape[nd - 1];
  uint64_t chunk = in->tiled ? (uint64_t)in->tile_width * in->tile_length * es
                             : (uint64_t)in->rows_per_strip * (uint64_t)cols * es;
  if (chunk <= FUZZ_MAX_BYTES) {
    int64_t start[3] = {0, 0, 0}, one[3] = {1, 1, 1}, sz[3];
    read_region(r, in, start, one);
    int64_t last[3];
    for (int i = 0; i < nd; i++) last[i] = in->shape[i] - 1;
    read_region(r, in, last, one);
    /* A block of up to 5 x 7 in the middle of the middle page. */
    for (int i = 0; i < nd; i++) {
      sz[i] = i == nd - 2 ? 5 : i == nd - 1 ? 7 : 1;
      if (sz[i] > in->shape[i]) sz[i] = in->shape[i];
      start[i] = (in->shape[i] - sz[i]) / 2;
    }
    read_region(r, in, start, sz);
    /* Up to 3 full rows at the bottom of the last page. */
    for (int i = 0; i < nd; i++) {
      sz[i] = i == nd - 2 ? (rows < 3 ? rows : 3) : i == nd - 1 ? cols : 1;
      start[i] = in->shape[i] - sz[i];
    }
    read_region(r, in, start, sz);
    /* Everything, when small. */
    for (int i = 0; i < nd; i++) {
      start[i] = 0;
      sz[i] = in->shape[i];
    }
    read_region(r, in, start, sz);
    read_bands(data, size, in, unit);
  }
  bw_tiff_counters c;
  bw_tiff_reader_counters(r, &c);
  require(c.bytes_read > 0);
  /* Every level (a few): opened as the level table says, or declined with
   * a message; a corner pixel read. */
  require(in->levels >= 1 && in->level == 0);
  for (int k = 1; k < in->levels && k < 4; k++) {
    bw_tiff_level lv;
    require(bw_tiff_reader_level(r, k, &lv, &e) == BW_OK);
    bw_tiff_reader *rk = NULL;
    bw_status sk = bw_tiff_open_memory_level(data, size, k, &rk, &e);
    if (sk != BW_OK) {
      require(rk == NULL && e.message[0] != '\0');
      continue;
    }
    const bw_tiff_info *ik = bw_tiff_reader_info(rk);
    require(ik->level == k && ik->levels == in->levels && ik->ndim == nd);
    for (int i = 0; i < nd; i++) require(ik->shape[i] == lv.shape[i] && ik->spacing[i] > 0);
    int64_t start[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    if ((uint64_t)(ik->tiled ? (uint64_t)ik->tile_width * ik->tile_length
                             : (uint64_t)ik->rows_per_strip * (uint64_t)ik->shape[nd - 1]) *
            es <= FUZZ_MAX_BYTES)
      read_region(rk, ik, start, one);
    bw_tiff_close(rk);
  }
  require(bw_tiff_reader_level(r, in->levels, &(bw_tiff_level){0}, &e) == BW_ERR_PARAM);
  bw_tiff_close(r);
  return 0;
}
