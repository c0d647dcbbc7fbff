/* The reader's state, shared by its parts (not installed): bw_tiff_open.c
 * opens a file, checks that its layout is one this reader reads and records
 * each page's layout (bw_tiff_dir.c reads directories without libtiff); bw_tiff_decode.c reads regions of strips and tiles;
 * bw_tiff_samples.c turns the samples of decoded rows into channels. */
#ifndef BW_TIFF_READER_H
#define BW_TIFF_READER_H

#include "bw_channel.h"
#include "bw_tiff_internal.h"

#ifdef BW_HAVE_LIBDEFLATE
#  include <libdeflate.h>
#endif

/* Most levels of a pyramid a reader keeps (level 0 among them). */
#define BW_TIFF_MAX_LEVELS 32

/* Where the pages of one level are: a reduced-resolution copy of each page
 * of level 0, from the directory chain (@subifd -1: copies of one size) or
 * from SubIFD number @subifd of each page. */
typedef struct bw_tiff_level_src {
  int subifd;
  uint32_t width, length;
  size_t count, cap;
  uint64_t *ifd;    /* count directory offsets, in page order */
  int broken;       /* copies not one per page in order: not a level */
  double scale[2];  /* level 0's pixels per pixel of this level (Y, X) */
} bw_tiff_level_src;

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
  int jpeg_rgb;          /* YCbCr JPEG: libtiff converts to RGB (JPEGCOLORMODE) */
  uint32_t chunk_row_bytes; /* bytes of one decoded row of a strip or tile of one plane */
} page_layout;

/* How the stored samples of a decoded row become the channels a read asks
 * for (bw_tiff_samples.c). */
typedef enum sample_conv {
  CONV_COPY = 0, /* samples are the channels' elements */
  CONV_BITS,     /* unsigned samples of bits that are not a whole type, widened */
  CONV_HALF,     /* 16-bit floats, widened to float */
  CONV_PALETTE   /* palette indices, looked up in the colour map (lut) */
} sample_conv;

/* A page's pixel format, as the reader takes it (bw_tiff_samples.c). */
typedef struct sample_format {
  bw_dtype dtype;        /* of a channel's elements */
  int channels, alpha, planar;
  bw_tiff_color color;
  uint16_t photometric;
  const char *photometric_name;
  int spp, bits;         /* as stored */
  sample_conv conv;
  int invert;            /* min-is-white */
  int jpeg_rgb;          /* YCbCr JPEG, converted to RGB by libtiff */
} sample_format;

/* Examines the pixel format of directory @dir (libtiff's current one):
 * BW_OK and *f, or an error for formats this reader does not read. */
bw_status bw_tiff_examine_samples(TIFF *tif, unsigned dir, sample_format *f, bw_error *err);

/* Builds r->lut from the colour map of libtiff's current directory, for a
 * reader whose bits and esize are set. */
bw_status bw_tiff_make_lut(bw_tiff_reader *r, TIFF *tif, bw_error *err);

/* The channels of one page of a read, and where they go. */
typedef struct dst_plane {
  int first, count;    /* channels [first, first + count) */
  char *base[BW_TIFF_MAX_CHANNELS]; /* element (y0, x0) of this page, per channel */
  ptrdiff_t sy[BW_TIFF_MAX_CHANNELS], sx[BW_TIFF_MAX_CHANNELS]; /* strides */
  uint32_t y0, y1, x0, x1; /* region rows [y0, y1), columns [x0, x1) */
  /* The read can move whole stored pixels: every channel of a pixel-
   * interleaved file, asked for in order into one interleaved buffer (or
   * one channel of a one-sample file), without conversion.  Then base[0],
   * sy[0] and sx[0] describe pixels of r->pixel_bytes bytes. */
  int whole_pixels;
  /* Not NULL: the stored pixels (of a pixel-interleaved file that needs no
   * conversion of its samples) are converted to one channel by this plan
   * as they are copied out, into base[0] with strides sy[0], sx[0]. */
  const bw_channel_plan *plan;
} dst_plane;

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
  int plane;             /* plane of a planar-separate file, else 0 */
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
  uint32_t width, length; /* of a page of the open level */
  bw_tiff_level_src src[BW_TIFF_MAX_LEVELS - 1]; /* levels 1 ... (bw_tiff_pages.c) */
  int nsrc;
  bw_tiff_level_src level0;
  size_t esize;       /* bytes of one element of a channel (info.dtype) */
  /* Samples as stored: spp per pixel of @bits bits each (sample_bytes bytes
   * when that is a whole number of bytes of a type, else 0), in @planes
   * planes of chunks (spp for planar-separate files, else 1) of
   * plane_spp samples per pixel each. */
  int spp, planes, plane_spp, bits, sample_bytes;
  size_t pixel_bytes;  /* bytes of a stored pixel of one plane, when whole (else 0) */
  uint64_t row_bytes;  /* bytes of one stored row of a plane over the image's width */
  sample_conv conv;
  int plain;           /* one channel, stored as it is read: no conversion */
  unsigned char *lut;  /* CONV_PALETTE: channels elements per index */
  int invert;          /* min-is-white: samples are inverted ... */
  uint64_t invert_mask; /* ... by XOR with this mask (all of the sample's bits) */
  int swapped;        /* file byte order differs from this machine's */
  unsigned char *scratch; /* rows of uncompressed strips; chunks not cached */
  size_t scratch_cap;
  chunk_cache cache;
  uint64_t chunks_decoded;
  char *names[BW_TIFF_MAX_CHANNELS]; /* channel names of the OME-XML, or NULL */
  int nnames;         /* Channel elements, when each is one sample; else 0 */
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

/* Examines directory @dir (libtiff's current one) as a page of the image
 * (bw_tiff_open.c).  Unless @as_level, sets *skip for a reduced-resolution
 * copy (1, with *w and *h when it has them) or a transparency mask (2), and
 * examines nothing else; otherwise fills *pl, *fmt, *w and *h, or fails
 * for what this reader does not read. */
bw_status bw_tiff_examine_directory(bw_tiff_reader *r, unsigned dir, int as_level, int *skip,
                                    page_layout *pl, sample_format *fmt, uint32_t *w,
                                    uint32_t *h, bw_error *err);

/* Page @z (w x h, format @fmt) stacks with page 0 (format @fmt0): the same
 * size and format, or an error that says how they differ. */
bw_status bw_tiff_check_page(const bw_tiff_reader *r, size_t z, uint32_t w, uint32_t h,
                             const sample_format *fmt, const sample_format *fmt0, bw_error *err);

/* Takes the size and info's layout fields from page 0 of a level. */
void bw_tiff_take_layout(bw_tiff_reader *r, const page_layout *pl, uint32_t w, uint32_t h);

/* 1 when w x h is a reduced copy of the pages' size: smaller, and the same
 * picture (one factor on both axes, to the pixel) (bw_tiff_pages.c). */
int bw_tiff_reduced_size(const bw_tiff_reader *r, uint32_t w, uint32_t h);

/* While the chain is read: directory @ifd is a reduced copy (w x h) of the
 * last page found (@subifd -1), or SubIFD number @subifd of it. */
bw_status bw_tiff_levels_note(bw_tiff_reader *r, int subifd, uint32_t w, uint32_t h,
                              uint64_t ifd, bw_error *err);

/* After the chain: the levels, sorted by size, in info.levels. */
bw_status bw_tiff_levels_finish(bw_tiff_reader *r, bw_error *err);

/* Replaces the page table with level @level's (>= 1), and *fmt0 with its
 * format, checking every page of it. */
bw_status bw_tiff_levels_load(bw_tiff_reader *r, int level, sample_format *fmt0,
                              bw_error *err);

/* The source of level @level (0: the pages themselves). */
const bw_tiff_level_src *bw_tiff_level_src_of(const bw_tiff_reader *r, int level);

void bw_tiff_levels_free(bw_tiff_reader *r);
/* The value of SHORT or LONG tag @tag in the directory at @off of a file
 * of that kind (@big: BigTIFF, @be: big-endian), read without libtiff
 * (which drops values it finds out of range); UINT64_MAX when the tag is
 * missing or of another type, or the directory cannot be read
 * (bw_tiff_dir.c). */
uint64_t bw_tiff_directory_value(bw_tiff_file *f, uint64_t off, int big, int be, unsigned tag);

/* The same in the first directory of the file (for files libtiff refuses
 * to open); UINT64_MAX also when the file is not TIFF. */
uint64_t bw_tiff_first_directory_value(bw_tiff_file *f, unsigned tag);

/* Why libtiff refused to open the file @f, in words, into @out (@cap
 * bytes): too short, not a TIFF header, an unknown version, a first
 * directory outside the file or too long for it, or else damaged. */
void bw_tiff_header_problem(bw_tiff_file *f, char *out, size_t cap);

/* Checks that directory @dir at @off, and every value it stores out of
 * line, lie inside the file: BW_ERR_PARAM with a message when not.  libtiff
 * drops a tag whose value is cut off with only a warning; here a file cut
 * short is an error, so that a lost ImageDescription cannot silently
 * change the spacing. */
bw_status bw_tiff_check_directory_extent(bw_tiff_reader *r, uint64_t off, unsigned dir,
                                         bw_error *err);

/* Makes page @z libtiff's current directory, checking that its layout is
 * still the one recorded at open (bw_tiff_pages.c). */
bw_status bw_tiff_select_page(bw_tiff_reader *r, size_t z, bw_error *err);

/* Puts @n pixels of a decoded row of plane @plane (stored samples at @row,
 * starting with pixel @px of it) into row @y, columns [col, col + n), of
 * the channels of @d (bw_tiff_samples.c). */
void bw_tiff_put_pixels(const bw_tiff_reader *r, const dst_plane *d, int plane, uint32_t y,
                        const unsigned char *row, uint32_t px, uint32_t col, uint32_t n);

/* Frees everything reads have allocated: what bw_tiff_reader_trim() frees,
 * and the inflater (bw_tiff_decode.c). */
void bw_tiff_decode_free(bw_tiff_reader *r);

#endif /* BW_TIFF_READER_H */
