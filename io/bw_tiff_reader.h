/* The reader's state, shared by its two halves (not installed):
 * bw_tiff_open.c opens a file, checks that its layout is one this reader
 * reads and records each page's layout; bw_tiff_decode.c reads regions. */
#ifndef BW_TIFF_READER_H
#define BW_TIFF_READER_H

#include "bw_tiff_internal.h"

#ifdef BW_HAVE_LIBDEFLATE
#  include <libdeflate.h>
#endif

/* How one page (directory) stores its pixels. */
typedef struct page_layout {
  uint64_t ifd;          /* file offset of the directory */
  int tiled;             /* 1: tiles, 0: strips */
  uint32_t tw, tl;       /* tile width and length */
  uint32_t rps;          /* rows per strip, at most the page's rows */
  uint32_t nchunks;      /* strips or tiles the page needs */
  uint16_t compression;  /* COMPRESSION_* */
  int raw_rows;          /* uncompressed strips: rows are read directly */
  int reverse_bits;      /* FillOrder 2: bits of each byte are reversed */
  uint16_t predictor;    /* PREDICTOR_*, for the codecs that have one */
  int inflate;           /* Deflate chunks this reader inflates itself */
} page_layout;

/* Decoded strips or tiles of one "row" of chunks of one page: one strip, or
 * tiles of one row of tiles (those that reads have asked for).  Reading in
 * bands, each band meets the row the previous band ended in, whose chunks
 * are then taken from here instead of being decoded again.  Slots are
 * allocated on first use and kept (reused for the next row) until the
 * reader is closed or a page with another layout needs them.  At most
 * BW_TIFF_CACHE_MAX bytes are held; a tile past that is decoded into the
 * scratch buffer and not kept. */
typedef struct chunk_cache {
  int valid;             /* page and row name the chunks held */
  size_t page;
  uint32_t row;          /* strip number, or row of tiles */
  uint32_t nslots;       /* chunks per row: 1 (strips) or tiles across */
  uint64_t slot_bytes;   /* decoded bytes of a whole strip or tile */
  unsigned char **slot;  /* nslots buffers, NULL until used */
  unsigned char *ready;  /* ready[i]: slot i holds chunk i of the row */
  uint64_t held;         /* bytes allocated in slots */
} chunk_cache;

/* Most bytes the decoded-chunk cache holds. */
#define BW_TIFF_CACHE_MAX BW_TIFF_MAX_CHUNK

struct bw_tiff_reader {
  bw_tiff_file file;
  TIFF *tif;
  bw_tiff_msg msg;
  bw_tiff_info info;
  page_layout *pages; /* the kept pages, in file order (Z) */
  size_t npages, pages_cap;
  size_t cur;         /* page whose directory libtiff holds, or SIZE_MAX */
  uint32_t width, length;
  size_t esize;
  int swapped;        /* file byte order differs from this machine's */
  unsigned char *scratch; /* rows of uncompressed strips; chunks not cached */
  size_t scratch_cap;
  chunk_cache cache;
  uint64_t chunks_decoded;
#ifdef BW_HAVE_LIBDEFLATE
  struct libdeflate_decompressor *inflater; /* made on first use */
  unsigned char *packed;  /* compressed bytes of one chunk */
  size_t packed_cap;
#endif
};

/* Status for a failure reported by libtiff: a failed system call is an I/O
 * error, anything else a problem of the file's content. */
static inline bw_status bw_tiff_lib_status(const bw_tiff_reader *r) {
  return r->file.io_errno ? BW_ERR_IO : BW_ERR_PARAM;
}

/* Makes page @z libtiff's current directory, checking that its layout is
 * still the one recorded at open (bw_tiff_open.c). */
bw_status bw_tiff_select_page(bw_tiff_reader *r, size_t z, bw_error *err);

/* Frees everything reads have allocated: what bw_tiff_reader_trim() frees,
 * and the inflater (bw_tiff_decode.c). */
void bw_tiff_decode_free(bw_tiff_reader *r);

#endif /* BW_TIFF_READER_H */
