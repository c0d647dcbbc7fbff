/* Reading regions: only the strips or tiles a region meets, uncompressed
 * strips by rows, compressed strips and tiles decoded whole (Deflate by
 * libdeflate when it is there, with the predictor undone here; the rest by
 * libtiff) into a cache of one row of chunks, so that reads in successive
 * bands decode each chunk once. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_reader.h"

#include <stdlib.h>
#include <string.h>

/* Uncompressed strips are read in pieces of at most this many bytes (at
 * least one row). */
#define BW_TIFF_ROW_BATCH ((uint64_t)4 << 20)

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */
/* ------------------------------------------------------------------------ */

static bw_status ensure_scratch(bw_tiff_reader *r, uint64_t bytes, bw_error *err) {
  if (bytes <= r->scratch_cap) return BW_OK;
  if (bytes > BW_TIFF_MAX_CHUNK + BW_TIFF_ROW_BATCH)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED, "a strip or tile of %llu bytes is too large",
                        (unsigned long long)bytes);
  unsigned char *p = (unsigned char *)realloc(r->scratch, (size_t)bytes);
  if (!p)
    return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate %llu bytes for a strip or tile",
                        (unsigned long long)bytes);
  r->scratch = p;
  r->scratch_cap = (size_t)bytes;
  return BW_OK;
}

static void cache_free(chunk_cache *c) {
  for (uint32_t i = 0; c->slot && i < c->nslots; i++) free(c->slot[i]);
  free(c->slot);
  free(c->ready);
  memset(c, 0, sizeof *c);
}

void bw_tiff_reader_trim(bw_tiff_reader *r) {
  if (!r) return;
  cache_free(&r->cache);
  free(r->scratch);
  r->scratch = NULL;
  r->scratch_cap = 0;
#ifdef BW_HAVE_LIBDEFLATE
  free(r->packed);
  r->packed = NULL;
  r->packed_cap = 0;
#endif
}

void bw_tiff_decode_free(bw_tiff_reader *r) {
  bw_tiff_reader_trim(r);
#ifdef BW_HAVE_LIBDEFLATE
  if (r->inflater) libdeflate_free_decompressor(r->inflater);
  r->inflater = NULL;
#endif
}

/* ------------------------------------------------------------------------ */
/* Decoding one strip or tile                                               */
/* ------------------------------------------------------------------------ */

#ifdef BW_HAVE_LIBDEFLATE
/* Undoes horizontal differencing in @rows rows of @n samples each: every
 * sample becomes the sum (modulo the type's range) of itself and the
 * samples before it in its row.  The running sum stays in a register, so
 * each sample costs one load, one add and one store. */
#  define BW_DEFINE_UNDIFF(name, T)                                         \
    static void name(void *data, size_t n, size_t rows) {                  \
      T *p = (T *)data;                                                    \
      for (size_t y = 0; y < rows; y++, p += n) {                          \
        T acc = p[0];                                                      \
        for (size_t i = 1; i < n; i++) {                                   \
          acc = (T)(acc + p[i]);                                           \
          p[i] = acc;                                                      \
        }                                                                  \
      }                                                                    \
    }
BW_DEFINE_UNDIFF(undiff8, uint8_t)
BW_DEFINE_UNDIFF(undiff16, uint16_t)
BW_DEFINE_UNDIFF(undiff32, uint32_t)
BW_DEFINE_UNDIFF(undiff64, uint64_t)
#  undef BW_DEFINE_UNDIFF

/* Deflate strips and tiles, decoded here rather than by libtiff: the
 * compressed bytes read straight from the file, inflated by libdeflate
 * (libtiff's own fastest path, without its copy through a buffer of its
 * own), then the byte order and horizontal differencing undone with the
 * running sum in a register (libtiff's loop reloads each sum from memory,
 * which costs it a store-to-load round trip per sample).  Returns 1 when
 * @buf holds the chunk; 0 when anything is unusual (an offset, count or
 * stream that is not exactly right, no memory): libtiff then decodes the
 * chunk, and reports what is wrong with it. */
static int inflate_chunk(bw_tiff_reader *r, const page_layout *pl, uint32_t chunk,
                         uint64_t bytes, unsigned char *buf) {
  int e1 = 0, e2 = 0;
  uint64_t off = TIFFGetStrileOffsetWithErr(r->tif, chunk, &e1);
  uint64_t count = TIFFGetStrileByteCountWithErr(r->tif, chunk, &e2);
  if (e1 || e2 || count == 0 || count > BW_TIFF_MAX_CHUNK || off > r->file.size ||
      count > r->file.size - off)
    return 0;
  if (count > r->packed_cap) {
    unsigned char *p = (unsigned char *)realloc(r->packed, (size_t)count);
    if (!p) return 0;
    r->packed = p;
    r->packed_cap = (size_t)count;
  }
  if (!r->inflater && !(r->inflater = libdeflate_alloc_decompressor())) return 0;
  if (bw_tiff_file_pread(&r->file, r->packed, count, off) != (int64_t)count) return 0;
  if (libdeflate_zlib_decompress(r->inflater, r->packed, (size_t)count, buf, (size_t)bytes,
                                 NULL) != LIBDEFLATE_SUCCESS)
    return 0;
  const size_t sb = (size_t)r->sample_bytes;
  if (r->swapped && sb > 1) bw_tiff_swab(buf, (size_t)(bytes / sb), sb);
  if (pl->predictor == PREDICTOR_HORIZONTAL) {
    /* One sample per pixel of whole bytes (see pl->inflate). */
    size_t n = pl->tiled ? pl->tw : r->width;
    size_t rows = (size_t)(bytes / sb) / n;
    switch (sb) {
    case 1: undiff8(buf, n, rows); break;
    case 2: undiff16(buf, n, rows); break;
    case 4: undiff32(buf, n, rows); break;
    default: undiff64(buf, n, rows); break;
    }
  }
  return 1;
}
#endif

/* Decodes strip or tile @chunk of page @z, whole (@bytes decoded bytes),
 * into @buf. */
static bw_status decode_chunk(bw_tiff_reader *r, size_t z, uint32_t chunk, uint64_t bytes,
                              unsigned char *buf, bw_error *err) {
  const page_layout *pl = &r->pages[z];
#ifdef BW_HAVE_LIBDEFLATE
  if (pl->inflate && inflate_chunk(r, pl, chunk, bytes, buf)) {
    r->chunks_decoded++;
    return BW_OK;
  }
#endif
  bw_tiff_msg_clear(&r->msg);
  tmsize_t got = pl->tiled ? TIFFReadEncodedTile(r->tif, chunk, buf, (tmsize_t)bytes)
                           : TIFFReadEncodedStrip(r->tif, chunk, buf, (tmsize_t)bytes);
  const char *what = pl->tiled ? "tile" : "strip";
  if (got < 0)
    return bw_tiff_fail_lib(err, bw_tiff_lib_status(r), &r->msg,
                            "page %zu, %s %u: cannot decode", z, what, chunk);
  if ((uint64_t)got < bytes)
    return bw_tiff_fail_lib(err, BW_ERR_PARAM, &r->msg,
                            "page %zu, %s %u: decoded %lld bytes, %llu expected", z, what,
                            chunk, (long long)got, (unsigned long long)bytes);
  r->chunks_decoded++;
  return BW_OK;
}

/* Sets *out to the decoded strip or tile @col of chunk row @row of page @z
 * (strip or tile number @chunk, @bytes decoded bytes): from the cache, or
 * decoded now and kept there; or, when @keep is 0 (no read in order needs
 * the chunk again), decoded into the scratch buffer, which stays in cache
 * from one chunk to the next where a slot of its own would not. */
static bw_status get_chunk(bw_tiff_reader *r, size_t z, int plane, uint32_t row,
                           uint32_t col, uint32_t chunk, uint64_t bytes, int keep,
                           const unsigned char **out, bw_error *err) {
  const page_layout *pl = &r->pages[z];
  chunk_cache *c = &r->cache;
  const int held = c->valid && c->page == z && c->plane == plane && c->row == row &&
                   c->slot && col < c->nslots && c->ready[col];
  if (!keep && !held) {
    bw_status st = ensure_scratch(r, bytes, err);
    if (st == BW_OK) st = decode_chunk(r, z, chunk, bytes, r->scratch, err);
    if (st != BW_OK) return st;
    *out = r->scratch;
    return BW_OK;
  }
  uint64_t slot_bytes = pl->tiled ? (uint64_t)pl->tl * pl->chunk_row_bytes
                                  : (uint64_t)pl->rps * r->row_bytes;
  /* Slots for the tiles across, as many as the bound lets the cache hold
   * (so the table stays small for extremely wide images too). */
  uint64_t fit = BW_TIFF_CACHE_MAX / slot_bytes;
  uint64_t across = pl->tiled ? ((uint64_t)r->width + pl->tw - 1) / pl->tw : 1;
  uint32_t nslots = (uint32_t)(across < fit ? across : fit > 0 ? fit : 1);
  if (c->slot && (c->nslots != nslots || c->slot_bytes != slot_bytes)) cache_free(c);
  if (!c->slot) {
    c->slot = (unsigned char **)calloc(nslots, sizeof *c->slot);
    c->ready = (unsigned char *)calloc(nslots, 1);
    if (!c->slot || !c->ready) {
      cache_free(c);
      return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the table of decoded %s",
                          pl->tiled ? "tiles" : "strips");
    }
    c->nslots = nslots;
    c->slot_bytes = slot_bytes;
  }
  if (!c->valid || c->page != z || c->plane != plane || c->row != row) {
    memset(c->ready, 0, nslots);
    c->valid = 1;
    c->page = z;
    c->plane = plane;
    c->row = row;
  }
  if (col < nslots && c->ready[col]) {
    *out = c->slot[col];
    return BW_OK;
  }
  unsigned char *buf = col < nslots ? c->slot[col] : NULL;
  /* The buffer of a column that holds nothing of this row (a reader that
   * moves across the image keeps as many slots as one row needs). */
  for (uint32_t j = 0; !buf && col < nslots && j < nslots; j++)
    if (c->slot[j] && !c->ready[j]) {
      buf = c->slot[col] = c->slot[j];
      c->slot[j] = NULL;
    }
  if (!buf && col < nslots && c->held + slot_bytes <= BW_TIFF_CACHE_MAX) {
    buf = (unsigned char *)malloc((size_t)slot_bytes);
    if (buf) {
      c->slot[col] = buf;
      c->held += slot_bytes;
    }
  }
  if (!buf) {
    /* Past the cache's bound (or out of memory for a slot): decoded for
     * this read only. */
    bw_status st = ensure_scratch(r, bytes, err);
    if (st != BW_OK) return st;
    st = decode_chunk(r, z, chunk, bytes, r->scratch, err);
    if (st != BW_OK) return st;
    *out = r->scratch;
    return BW_OK;
  }
  bw_status st = decode_chunk(r, z, chunk, bytes, buf, err);
  if (st != BW_OK) return st;
  c->ready[col] = 1;
  *out = buf;
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading regions                                                          */
/* ------------------------------------------------------------------------ */

/* 1 when the destination holds whole rows of the page back to back,
 * aligned for the element type: rows can be read or decoded into it
 * directly. */
static int whole_rows(const bw_tiff_reader *r, const dst_plane *d) {
  return d->whole_pixels && d->x0 == 0 && d->x1 == r->width &&
         d->sx[0] == (ptrdiff_t)r->pixel_bytes && (uint64_t)d->sy[0] == r->row_bytes &&
         (uintptr_t)d->base[0] % r->esize == 0;
}

/* Rows of strip @s: [*sy0, *sy1) in the page, [*a, *b) of them in the
 * region. */
static void strip_rows(const bw_tiff_reader *r, const page_layout *pl, const dst_plane *d,
                       uint32_t s, uint32_t *sy0, uint32_t *sy1, uint32_t *a, uint32_t *b) {
  *sy0 = s * pl->rps;
  *sy1 = pl->rps > r->length - *sy0 ? r->length : *sy0 + pl->rps;
  *a = d->y0 > *sy0 ? d->y0 : *sy0;
  *b = d->y1 < *sy1 ? d->y1 : *sy1;
}

/* Uncompressed strips: reads just the rows of the region; straight into
 * the destination when it holds whole rows back to back, else through the
 * scratch buffer. */
static bw_status read_raw_rows(bw_tiff_reader *r, size_t z, int plane, const dst_plane *d,
                               bw_error *err) {
  const page_layout *pl = &r->pages[z];
  const uint64_t row_bytes = r->row_bytes;
  const uint32_t first = (uint32_t)plane * pl->nchunks;
  const size_t sb = (size_t)r->sample_bytes;
  uint64_t batch_rows = BW_TIFF_ROW_BATCH / row_bytes;
  if (batch_rows < 1) batch_rows = 1;
  const int direct = whole_rows(r, d);
  for (uint32_t s = d->y0 / pl->rps; s <= (d->y1 - 1) / pl->rps; s++) {
    uint32_t sy0, sy1, a, b;
    strip_rows(r, pl, d, s, &sy0, &sy1, &a, &b);
    int e1 = 0, e2 = 0;
    bw_tiff_msg_clear(&r->msg);
    uint64_t off = TIFFGetStrileOffsetWithErr(r->tif, first + s, &e1);
    uint64_t count = TIFFGetStrileByteCountWithErr(r->tif, first + s, &e2);
    if (e1 || e2)
      return bw_tiff_fail_lib(err, bw_tiff_lib_status(r), &r->msg,
                              "page %zu, strip %u: offset or byte count unreadable", z, s);
    uint64_t need = (uint64_t)(b - sy0) * row_bytes;
    if (count < need)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "page %zu, strip %u: %llu bytes stored, %llu needed for its rows", z,
                          s, (unsigned long long)count, (unsigned long long)need);
    if (off > UINT64_MAX - need || off + need > r->file.size)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "page %zu, strip %u: rows at bytes %llu..%llu lie past the end of "
                          "the file (%llu bytes)",
                          z, s, (unsigned long long)off, (unsigned long long)(off + need),
                          (unsigned long long)r->file.size);
    for (uint32_t y = a; y < b;) {
      uint32_t n = (uint64_t)(b - y) < batch_rows ? b - y : (uint32_t)batch_rows;
      uint64_t len = (uint64_t)n * row_bytes;
      unsigned char *buf;
      if (direct) {
        buf = (unsigned char *)(d->base[0] + (ptrdiff_t)(y - d->y0) * d->sy[0]);
      } else {
        bw_status st = ensure_scratch(r, len, err);
        if (st != BW_OK) return st;
        buf = r->scratch;
      }
      int64_t got = bw_tiff_file_pread(&r->file, buf, len,
                                       off + (uint64_t)(y - sy0) * row_bytes);
      if (got < 0)
        return bw_tiff_fail(err, BW_ERR_IO, "page %zu, strip %u: %s", z, s,
                            strerror(r->file.io_errno));
      if ((uint64_t)got < len)
        return bw_tiff_fail(err, BW_ERR_PARAM, "page %zu, strip %u: the file ends inside it",
                            z, s);
      if (pl->reverse_bits) TIFFReverseBits(buf, (tmsize_t)len);
      if (r->swapped && sb > 1) bw_tiff_swab(buf, (size_t)(len / sb), sb);
      if (!direct)
        for (uint32_t i = 0; i < n; i++)
          bw_tiff_put_pixels(r, d, plane, y + i, buf + i * row_bytes, d->x0, d->x0,
                             d->x1 - d->x0);
      y += n;
    }
    r->chunks_decoded++;
  }
  return BW_OK;
}

/* Compressed strips: each strip the region meets, decoded whole (once,
 * while it stays in the cache).  A strip that lies inside the region, short
 * of its last row, is decoded straight into the destination when that holds
 * whole, aligned rows back to back: the next read of bands in order, or of
 * bands that overlap by a few rows, starts in the region's last strip, which
 * goes through the cache. */
static bw_status read_strips(bw_tiff_reader *r, size_t z, int plane, const dst_plane *d,
                             bw_error *err) {
  const page_layout *pl = &r->pages[z];
  const uint64_t row_bytes = r->row_bytes;
  const uint32_t first = (uint32_t)plane * pl->nchunks;
  const int direct = whole_rows(r, d);
  const chunk_cache *c = &r->cache;
  for (uint32_t s = d->y0 / pl->rps; s <= (d->y1 - 1) / pl->rps; s++) {
    uint32_t sy0, sy1, a, b;
    strip_rows(r, pl, d, s, &sy0, &sy1, &a, &b);
    const int cached = c->valid && c->page == z && c->plane == plane && c->row == s &&
                       c->ready && c->ready[0];
    if (direct && a == sy0 && b == sy1 && sy1 < d->y1 && !cached) {
      bw_status st =
          decode_chunk(r, z, first + s, (uint64_t)(sy1 - sy0) * row_bytes,
                       (unsigned char *)(d->base[0] + (ptrdiff_t)(a - d->y0) * d->sy[0]), err);
      if (st != BW_OK) return st;
      continue;
    }
    const unsigned char *buf = NULL;
    bw_status st = get_chunk(r, z, plane, s, 0, first + s, (uint64_t)(sy1 - sy0) * row_bytes,
                             1, &buf, err);
    if (st != BW_OK) return st;
    for (uint32_t y = a; y < b; y++)
      bw_tiff_put_pixels(r, d, plane, y, buf + (uint64_t)(y - sy0) * row_bytes, d->x0, d->x0,
                         d->x1 - d->x0);
  }
  return BW_OK;
}

/* Tiles: each tile the region meets, decoded whole (once, while its row of
 * tiles stays in the cache). */
static bw_status read_tiles(bw_tiff_reader *r, size_t z, int plane, const dst_plane *d,
                            bw_error *err) {
  const page_layout *pl = &r->pages[z];
  const uint64_t tile_row_bytes = pl->chunk_row_bytes;
  const uint64_t tile_bytes = tile_row_bytes * pl->tl;
  const uint32_t first = (uint32_t)plane * pl->nchunks;
  uint32_t across = (uint32_t)(((uint64_t)r->width + pl->tw - 1) / pl->tw);
  for (uint32_t ty = d->y0 / pl->tl; ty <= (d->y1 - 1) / pl->tl; ty++) {
    uint64_t ty0 = (uint64_t)ty * pl->tl;
    uint32_t a = (uint64_t)d->y0 > ty0 ? d->y0 : (uint32_t)ty0;
    uint32_t b = (uint64_t)d->y1 < ty0 + pl->tl ? d->y1 : (uint32_t)(ty0 + pl->tl);
    for (uint32_t tx = d->x0 / pl->tw; tx <= (d->x1 - 1) / pl->tw; tx++) {
      uint64_t tx0 = (uint64_t)tx * pl->tw;
      uint32_t c0 = (uint64_t)d->x0 > tx0 ? d->x0 : (uint32_t)tx0;
      uint32_t c1 = (uint64_t)d->x1 < tx0 + pl->tw ? d->x1 : (uint32_t)(tx0 + pl->tw);
      /* A tile the region takes to its last row and column is not kept:
       * reads in order (bands down, pieces across) do not come back to it. */
      const int keep = (uint64_t)d->y1 < ty0 + pl->tl && d->y1 < r->length ? 1
                       : (uint64_t)d->x1 < tx0 + pl->tw && d->x1 < r->width ? 1
                                                                            : 0;
      const unsigned char *buf = NULL;
      bw_status st = get_chunk(r, z, plane, ty, tx, first + ty * across + tx, tile_bytes, keep,
                               &buf, err);
      if (st != BW_OK) return st;
      for (uint32_t y = a; y < b; y++)
        bw_tiff_put_pixels(r, d, plane, y, buf + (uint64_t)(y - ty0) * tile_row_bytes,
                           (uint32_t)(c0 - tx0), c0, c1 - c0);
    }
  }
  return BW_OK;
}

/* 1 when the @count views are one buffer of interleaved pixels of the
 * file's layout: equal strides, channel k one element after channel k - 1. */
static int interleaved(const bw_tiff_reader *r, int count, const bw_view *dst) {
  for (int k = 1; k < count; k++) {
    if ((char *)dst[k].data != (char *)dst[0].data + (size_t)k * r->esize) return 0;
    for (int i = 0; i < dst[0].ndim; i++)
      if (dst[k].strides[i] != dst[0].strides[i]) return 0;
  }
  return 1;
}

/* Reads every page of @region through @d, planes [p0, p1) of planar-
 * separate files: channel k of the region's first page at @data[k], its
 * later pages @zstride[k] bytes apart. */
static bw_status read_pages(bw_tiff_reader *r, const bw_region *region, dst_plane *d,
                            char *const *data, const ptrdiff_t *zstride, int p0, int p1,
                            bw_error *err) {
  const int nd = r->info.ndim, ay = nd - 2, ax = nd - 1;
  d->y0 = (uint32_t)region->start[ay];
  d->y1 = (uint32_t)(region->start[ay] + region->size[ay]);
  d->x0 = (uint32_t)region->start[ax];
  d->x1 = (uint32_t)(region->start[ax] + region->size[ax]);
  const size_t z0 = nd == 3 ? (size_t)region->start[0] : 0;
  const size_t nz = nd == 3 ? (size_t)region->size[0] : 1;
  for (size_t k = 0; k < nz; k++) {
    const size_t z = z0 + k;
    for (int c = 0; c < d->count; c++) d->base[c] = data[c] + (ptrdiff_t)k * zstride[c];
    bw_status st = bw_tiff_select_page(r, z, err);
    if (st != BW_OK) return st;
    const page_layout *pl = &r->pages[z];
    for (int p = p0; p < p1 && st == BW_OK; p++) {
      if (pl->tiled)
        st = read_tiles(r, z, p, d, err);
      else if (pl->raw_rows)
        st = read_raw_rows(r, z, p, d, err);
      else
        st = read_strips(r, z, p, d, err);
    }
    if (st != BW_OK) return st;
  }
  return BW_OK;
}

/* bw_tiff_read_channels(), as called by @fn. */
static bw_status read_channels(const char *fn, bw_tiff_reader *r, const bw_region *region,
                               int first, int count, const bw_view *dst, bw_error *err) {
  if (!r || !region || !dst) return bw_tiff_fail(err, BW_ERR_NULL, "%s: NULL argument", fn);
  const bw_tiff_info *in = &r->info;
  if (first < 0 || count < 1 || first > in->channels - count)
    return bw_tiff_fail(err, BW_ERR_PARAM, "%s: channels %d to %d asked for; the image has %d",
                        fn, first, first + count - 1, in->channels);
  const int nd = in->ndim;
  for (int k = 0; k < count; k++) {
    bw_status st = bw_tiff_check_view(fn, "dst", nd, in->shape, in->dtype, region, &dst[k], err);
    if (st == BW_OK) st = bw_tiff_check_extents(fn, "dst", nd, region, &dst[k], err);
    if (st != BW_OK) return st;
  }
  dst_plane d;
  memset(&d, 0, sizeof d);
  d.first = first;
  d.count = count;
  d.whole_pixels = r->conv == CONV_COPY && !r->invert && r->planes == 1 &&
                   count == r->plane_spp && interleaved(r, count, dst);
  char *data[BW_TIFF_MAX_CHANNELS];
  ptrdiff_t zstride[BW_TIFF_MAX_CHANNELS];
  for (int k = 0; k < count; k++) {
    d.sy[k] = dst[k].strides[nd - 2];
    d.sx[k] = dst[k].strides[nd - 1];
    data[k] = (char *)dst[k].data;
    zstride[k] = nd == 3 ? dst[k].strides[0] : 0;
  }
  /* Planar-separate files: the planes of the channels asked for. */
  const int p0 = r->planes > 1 ? first : 0, p1 = r->planes > 1 ? first + count : 1;
  return read_pages(r, region, &d, data, zstride, p0, p1, err);
}

/* Rows of the region a converted read of a file whose samples need
 * unpacking first (planes, palettes, packed bits, half floats, MinIsWhite)
 * holds at once: about this many bytes of them. */
#define BW_TIFF_CONVERT_BATCH ((uint64_t)4 << 20)

bw_status bw_tiff_read_channel(bw_tiff_reader *r, const bw_region *region,
                               const bw_channel_params *channel, const bw_view *dst,
                               bw_error *err) {
  const char *fn = "bw_tiff_read_channel";
  if (!r || !region || !channel || !dst)
    return bw_tiff_fail(err, BW_ERR_NULL, "%s: NULL argument", fn);
  const bw_tiff_info *in = &r->info;
  const int nd = in->ndim;
  bw_channel_plan plan;
  bw_status st = bw_channel_plan_make(channel, in->channels, in->dtype, dst->dtype, &plan, err);
  if (st == BW_OK) st = bw_tiff_check_view(fn, "dst", nd, in->shape, dst->dtype, region, dst, err);
  if (st == BW_OK) st = bw_tiff_check_extents(fn, "dst", nd, region, dst, err);
  if (st != BW_OK) return st;

  if (r->conv == CONV_COPY && !r->invert && r->planes == 1) {
    /* Each decoded strip or tile converted as it is copied out. */
    dst_plane d;
    memset(&d, 0, sizeof d);
    d.count = 1;
    d.plan = &plan;
    d.sy[0] = dst->strides[nd - 2];
    d.sx[0] = dst->strides[nd - 1];
    char *data = (char *)dst->data;
    ptrdiff_t zstride = nd == 3 ? dst->strides[0] : 0;
    return read_pages(r, region, &d, &data, &zstride, 0, 1, err);
  }

  /* Other layouts: a few rows of the region's channels at a time, unpacked
   * into interleaved pixels, then converted. */
  const int channels = in->channels;
  const size_t esize = bw_dtype_size(in->dtype);
  const ptrdiff_t nx = region->size[nd - 1];
  const uint64_t row_bytes = (uint64_t)nx * (uint64_t)channels * esize;
  uint64_t rows = BW_TIFF_CONVERT_BATCH / row_bytes;
  if (rows < 1) rows = 1;
  if (rows > (uint64_t)region->size[nd - 2]) rows = (uint64_t)region->size[nd - 2];
  unsigned char *buf = (unsigned char *)malloc((size_t)(rows * row_bytes));
  if (!buf)
    return bw_tiff_fail(err, BW_ERR_NOMEM, "%s: cannot allocate %llu bytes for the rows", fn,
                        (unsigned long long)(rows * row_bytes));
  const ptrdiff_t nz = nd == 3 ? region->size[0] : 1;
  for (ptrdiff_t z = 0; z < nz && st == BW_OK; z++)
    for (ptrdiff_t y = 0; y < region->size[nd - 2] && st == BW_OK; y += (ptrdiff_t)rows) {
      bw_region part = *region;
      if (nd == 3) {
        part.start[0] = region->start[0] + z;
        part.size[0] = 1;
      }
      part.start[nd - 2] = region->start[nd - 2] + y;
      part.size[nd - 2] = region->size[nd - 2] - y < (ptrdiff_t)rows ? region->size[nd - 2] - y
                                                                   : (ptrdiff_t)rows;
      bw_view views[BW_TIFF_MAX_CHANNELS];
      for (int c = 0; c < channels; c++) {
        bw_view *v = &views[c];
        memset(v, 0, sizeof *v);
        v->data = buf + (size_t)c * esize;
        v->dtype = in->dtype;
        v->ndim = nd;
        for (int i = 0; i < nd; i++) v->shape[i] = part.size[i];
        v->strides[nd - 1] = (ptrdiff_t)((size_t)channels * esize);
        v->strides[nd - 2] = (ptrdiff_t)row_bytes;
        if (nd == 3) v->strides[0] = (ptrdiff_t)row_bytes * part.size[nd - 2];
      }
      st = read_channels(fn, r, &part, 0, channels, views, err);
      for (ptrdiff_t i = 0; st == BW_OK && i < part.size[nd - 2]; i++)
        bw_channel_convert_pixels(&plan, buf + (size_t)i * row_bytes,
                                  (ptrdiff_t)((size_t)channels * esize),
                                  (char *)dst->data + (nd == 3 ? z * dst->strides[0] : 0) +
                                      (y + i) * dst->strides[nd - 2],
                                  dst->strides[nd - 1], (size_t)nx);
    }
  free(buf);
  return st;
}

bw_status bw_tiff_read_channels(bw_tiff_reader *r, const bw_region *region, int first,
                                int count, const bw_view *dst, bw_error *err) {
  return read_channels("bw_tiff_read_channels", r, region, first, count, dst, err);
}

bw_status bw_tiff_read(bw_tiff_reader *r, const bw_region *region, const bw_view *dst,
                       bw_error *err) {
  if (!r || !region || !dst)
    return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_read: NULL argument");
  if (r->info.channels != 1)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "bw_tiff_read: the image has %d channels (%s); read them with "
                        "bw_tiff_read_channels()",
                        r->info.channels, r->info.photometric_name);
  return read_channels("bw_tiff_read", r, region, 0, 1, dst, err);
}

/* ------------------------------------------------------------------------ */
/* Band unit                                                                */
/* ------------------------------------------------------------------------ */

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

int64_t bw_tiff_band_unit(const bw_tiff_reader *r, int axis) {
  if (!r) return 0;
  const int nd = r->info.ndim;
  if (nd == 3 && axis == 0) return 1; /* each page has strips or tiles of its own */
  if (axis != nd - 2) return 0;
  /* The rows each page's reads keep together (see bw_tiff_read): one row
   * of uncompressed strips, which are read by rows; a strip; a row of
   * tiles.  Pages of different layouts: the least common multiple, and a
   * whole page at most (the edges of a page are edges of its chunks). */
  uint64_t unit = 1;
  for (size_t z = 0; z < r->npages && unit < r->length; z++) {
    const page_layout *pl = &r->pages[z];
    uint64_t u = pl->tiled ? pl->tl : pl->raw_rows ? 1 : pl->rps;
    unit = unit / gcd(unit, u) * u;
  }
  return (int64_t)(unit < r->length ? unit : r->length);
}
