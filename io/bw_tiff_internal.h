/* Internal helpers shared by the TIFF reader and writer (not installed). */
#ifndef BW_TIFF_INTERNAL_H
#define BW_TIFF_INTERNAL_H

#include "bw_tiff.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <tiffio.h>

#if defined(__GNUC__)
#  define BW_TIFF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define BW_TIFF_PRINTF(f, a)
#endif

/* Largest strip or tile (decoded), and largest buffer of rows the writer
 * holds: 1 GiB.  Anything bigger is refused with a message. */
#define BW_TIFF_MAX_CHUNK ((uint64_t)1 << 30)

/* Largest single allocation libtiff may make on our behalf: one chunk plus
 * room for its own bookkeeping. */
#define BW_TIFF_MAX_LIBTIFF_ALLOC ((tmsize_t)(BW_TIFF_MAX_CHUNK + ((uint64_t)1 << 24)))

/* ------------------------------------------------------------------------ */
/* Messages (bw_tiff_common.c)                                              */
/* ------------------------------------------------------------------------ */

/* Collects the first error libtiff reports during one operation. */
typedef struct bw_tiff_msg {
  char text[200];
  int set;
} bw_tiff_msg;

/* Forgets the collected message. */
void bw_tiff_msg_clear(bw_tiff_msg *m);

/* Records @status and a formatted message in @err (if not NULL); returns
 * @status. */
bw_status bw_tiff_fail(bw_error *err, bw_status status, const char *fmt, ...)
    BW_TIFF_PRINTF(3, 4);

/* As bw_tiff_fail(), appending ": " and libtiff's message when @m holds
 * one. */
bw_status bw_tiff_fail_lib(bw_error *err, bw_status status,
                           const bw_tiff_msg *m, const char *fmt, ...)
    BW_TIFF_PRINTF(4, 5);

/* ------------------------------------------------------------------------ */
/* File access through libtiff's client procedures (bw_tiff_common.c)      */
/* ------------------------------------------------------------------------ */

/* A file descriptor (fd >= 0) or a read-only memory image (fd < 0).  Every
 * byte moved is counted.  The libtiff procedures behind
 * bw_tiff_client_open() take a bw_tiff_file as their client data. */
typedef struct bw_tiff_file {
  int fd;
  const unsigned char *mem; /* memory image, when fd < 0 */
  uint64_t size;            /* bytes in the file (grows while writing) */
  uint64_t pos;             /* position for libtiff's read/write/seek */
  uint64_t bytes_read;
  int io_errno; /* errno of the first failed system call, 0 if none */
} bw_tiff_file;

/* Reads up to @n bytes at @offset into @buf; returns the count read (short
 * at the end of the file), or -1 after a system error (io_errno set). */
int64_t bw_tiff_file_pread(bw_tiff_file *f, void *buf, uint64_t n, uint64_t offset);

/* Opens a TIFF over @f with libtiff's client interface: no memory mapping,
 * libtiff's errors into @msg (never printed), warnings dropped, and
 * libtiff's allocations bounded by BW_TIFF_MAX_LIBTIFF_ALLOC. */
TIFF *bw_tiff_client_open(bw_tiff_file *f, const char *name, const char *mode,
                          bw_tiff_msg *msg);

/* ------------------------------------------------------------------------ */
/* Compression schemes: one table (bw_tiff_common.c)                        */
/* ------------------------------------------------------------------------ */

/* libtiff's COMPRESSION_* code written for @c (COMPRESSION_NONE for a value
 * that is not a bw_tiff_compression). */
uint16_t bw_tiff_compression_code(bw_tiff_compression c);

/* The name of libtiff code @code as bw_tiff_info reports it: the table's
 * name for the schemes this layer writes (old-style Deflate is "deflate"
 * too), else libtiff's codec name, or "unknown". */
const char *bw_tiff_code_name(uint16_t code);

/* 1 when data of @code may carry a Predictor tag (LZW, Deflate, ZSTD). */
int bw_tiff_code_has_predictor(uint16_t code);

/* A bound on how many times smaller than the pixels their encoding by
 * @code can be, or 0 when there is none to rely on. */
uint64_t bw_tiff_code_max_ratio(uint16_t code);

/* ------------------------------------------------------------------------ */
/* The spacing convention of bw_tiff.h: both halves (bw_tiff_desc.c)        */
/* ------------------------------------------------------------------------ */

/* Longest description bw_tiff_describe() writes, with its NUL. */
#define BW_TIFF_DESCRIPTION_MAX 200

/* Composes the ImageDescription of a new file of @ndim axes (@pages pages
 * in 3-D) with @spacing in C order.  @buf holds BW_TIFF_DESCRIPTION_MAX
 * bytes. */
void bw_tiff_describe(char *buf, int ndim, uint32_t pages, const double *spacing);

/* Sets the spacing tags of the current directory of a file being written:
 * the resolution tags from @spacing (C order, @ndim axes) and
 * ImageDescription @description (from bw_tiff_describe()).  Returns 1 when
 * libtiff took every tag. */
int bw_tiff_set_spacing_tags(TIFF *tif, int ndim, const double *spacing,
                             const char *description);

/* Parses a number in decimal or exponent notation with '.' as the decimal
 * point, whatever the locale: 1 and *v when the whole of [s, s + len),
 * up to blanks around it, is one (at most 64 bytes). */
int bw_tiff_parse_double(const char *s, size_t len, double *v);

/* Millimetres per unit of length @unit (@len bytes, no NUL needed): the
 * symbols of OME's UnitsLength from pm to km, angstrom, inch, foot, yard,
 * mile, thou, line and point, and ImageJ's names ("micron", "um",
 * "\u00B5m", "inch", ...); 0 for anything else ("pixel" too). */
double bw_tiff_unit_mm(const char *unit, size_t len);

/* ------------------------------------------------------------------------ */
/* Metadata of the first page: spacing, hyperstacks (bw_tiff_desc.c)        */
/* ------------------------------------------------------------------------ */

/* Longest channel name kept, with its NUL. */
#define BW_TIFF_NAME_MAX 256

/* What an OME-XML description says of its first Image (bw_tiff_ome.c). */
typedef struct bw_tiff_ome {
  int valid;      /* 1: the root is OME and the first Image's Pixels element
                     was read, without an XML error before it */
  int images;     /* Image elements seen (up to where parsing stopped) */
  int64_t size_x, size_y, size_z, size_c, size_time; /* 0 when missing or invalid */
  char dimension_order[8]; /* "XYZCT" ..., "" when missing or invalid */
  char type[16];           /* "uint16" ..., "" when missing or too long */
  double physical_mm[3];   /* PhysicalSizeX, Y, Z in millimetres; 0 when
                              missing, invalid or in an unknown unit */
  int channels;            /* Channel elements of the first Pixels (counted
                              up to BW_TIFF_MAX_CHANNELS) */
  int channel_spp[BW_TIFF_MAX_CHANNELS]; /* their SamplesPerPixel, 0 if none */
  char *names[BW_TIFF_MAX_CHANNELS];     /* their Name (malloc'ed), or NULL */
} bw_tiff_ome;

/* Most bytes of a description parsed as OME-XML; past them parsing stops,
 * keeping what was read (the first Image comes first). */
#define BW_TIFF_OME_MAX_BYTES ((size_t)16 << 20)

/* Most nested elements in OME-XML (the schema needs under 10): deeper
 * input stops the parser and is taken as no OME-XML. */
#define BW_TIFF_OME_MAX_DEPTH 64

/* 1 when @desc looks like XML (its first character past blanks and a
 * UTF-8 byte-order mark is '<'). */
int bw_tiff_is_xml(const char *desc);

/* Parses @len bytes of OME-XML into *o (zeroed first); returns o->valid.
 * Malformed or hostile XML (a DTD declaring entities, nesting deeper than
 * BW_TIFF_OME_MAX_DEPTH) gives 0.  Memory is bounded by the bytes parsed.
 * Free the names with bw_tiff_ome_free(), whatever it returns. */
int bw_tiff_ome_parse(const char *xml, size_t len, bw_tiff_ome *o);

/* Frees the names of *o and forgets them. */
void bw_tiff_ome_free(bw_tiff_ome *o);

/* The metadata of a page, as bw_tiff.h describes it. */
typedef struct bw_tiff_meta {
  double spacing[3];          /* Z, Y, X (Z is 1 when nothing states it) */
  int stated;                 /* bw_tiff_info.spacing_stated */
  const char *source, *format; /* spacing_source, description_format */
  int channels, z, t;         /* bw_tiff_info.meta_channels, _z, _t */
  int imagej;                 /* the description is ImageJ's */
  bw_tiff_ome ome;            /* its OME-XML, when valid */
} bw_tiff_meta;

/* Reads the metadata of the current directory of a file being read, whose
 * ResolutionUnit tag holds @resolution_unit (-1: no such tag).  The
 * channel names in m->ome are allocated: take them, or free them with
 * bw_tiff_ome_free(). */
void bw_tiff_read_meta(TIFF *tif, int resolution_unit, bw_tiff_meta *m);

/* Declines a hyperstack flattened into pages (BW_ERR_UNSUPPORTED with a
 * message that says so), for pages of @spp samples per pixel, @npages
 * pages kept: ImageJ or OME channels that are not the samples of a pixel,
 * time points, and the pages of several OME images.  BW_OK otherwise. */
bw_status bw_tiff_meta_check(const bw_tiff_meta *m, int spp, size_t npages, bw_error *err);

/* 1 when the current directory's description marks the file as a volume,
 * even of one page; *images receives the number of images it announces. */
int bw_tiff_description_volume(TIFF *tif, double *images);

/* ------------------------------------------------------------------------ */
/* Small helpers (bw_tiff_common.c)                                         */
/* ------------------------------------------------------------------------ */

/* The checks bw_tiff_read() and bw_tiff_write() share, in this order: the
 * view @v (@role in messages: "dst", "src") has data, the image's @nd axes
 * and its @dtype; @region lies within @shape.  @fn names the function in
 * messages.  BW_OK, or the status of the first check that fails. */
bw_status bw_tiff_check_view(const char *fn, const char *role, int nd, const int64_t *shape,
                             bw_dtype dtype, const bw_region *region, const bw_view *v,
                             bw_error *err);

/* The view's extents are the region's sizes (BW_ERR_SHAPE otherwise). */
bw_status bw_tiff_check_extents(const char *fn, const char *role, int nd,
                                const bw_region *region, const bw_view *v, bw_error *err);

/* TIFF SampleFormat and BitsPerSample of @dtype. */
void bw_tiff_dtype_format(bw_dtype dtype, uint16_t *sample_format, uint16_t *bits);

/* Reverses the byte order of @n elements of @esize bytes (1: nothing). */
void bw_tiff_swab(void *data, size_t n, size_t esize);

/* Copies one row of @n elements of @esize bytes between a contiguous buffer
 * and a strided one. */
void bw_tiff_copy_to_strided(char *dst, ptrdiff_t dst_stride, const unsigned char *src,
                             size_t n, size_t esize);
void bw_tiff_copy_from_strided(unsigned char *dst, const char *src, ptrdiff_t src_stride,
                               size_t n, size_t esize);

#endif /* BW_TIFF_INTERNAL_H */
