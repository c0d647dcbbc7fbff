/*
 * Helpers of the TIFF layer's tests (test_tiff_*.c, one executable):
 * scratch folders, stderr captures, whole-array writes and reads through
 * bw_tiff.h, and a small TIFF builder that assembles files byte by byte.
 *
 * The builder shares no code with the library (nor with libtiff), so the
 * contents of the files it makes are known independently of both: it is
 * the oracle of the crafted-file tests and of the band unit's geometry.
 */
#ifndef TIFF_TEST_UTIL_H
#define TIFF_TEST_UTIL_H

#include "bw_test.h"
#include "bw_tiff.h"

#include <stddef.h>
#include <stdint.h>

/* The tests, by file (the table is in test_tiff_main.c). */
void test_roundtrip(void);
void test_write_channels(void);
void test_write_regions(void);
void test_spacing_roundtrip(void);
void test_bigtiff(void);
void test_writer_params(void);
void test_writer_sequence(void);
void test_writer_io_failure(void);
void test_tags(void);
void test_compression_names(void); /* test_tiff_write.c */
void test_subregions(void);
void test_partial_counters(void);
void test_page_jumps(void);
void test_reader_errors(void);
void test_single_page_volume(void);
void test_decode_cache(void);
void test_band_unit(void); /* test_tiff_read.c */
void test_crafted_byte_orders(void);
void test_crafted_fill_order(void);
void test_crafted_reduced_pages(void);
void test_crafted_spacing(void);
void test_bad_files(void);
void test_truncated(void);
void test_mutations(void);
void test_unsupported(void); /* test_tiff_crafted.c */
void test_ome_parse(void);
void test_ome_malformed(void);
void test_ome_hostile(void);
void test_units(void);
void test_meta_hyperstacks(void);
void test_meta_channel_names(void); /* test_tiff_meta.c */

/* ------------------------------------------------------------------------ */
/* Data, folders, files                                                     */
/* ------------------------------------------------------------------------ */

/* Random bytes (rnd()), except that floats get finite random values (NaN
 * payloads would survive too, but a finite value is a clearer failure
 * message). */
void fill_random(void *p, bw_dtype dt, size_t n);

/* Smooth data, which compresses (for large files that should stay small
 * on disk where that does not matter). */
void fill_smooth_u16(uint16_t *p, size_t rows, size_t cols);

/* Elements of an array of @nd axes. */
size_t nelem(int nd, const int64_t *shape);

/* A fresh folder under $BW_TEST_TMPDIR (default /tmp). */
typedef struct tmpdir {
  char path[512];
} tmpdir;

/* Makes the folder; 0 on success. */
int tmpdir_make(tmpdir *t);

/* Makes the folder and names the file @name in it in @out; 0 on success. */
int tmpdir_make_with(tmpdir *t, const char *name, char *out, size_t len);

/* Declares tmpdir @t and char @path[600], the file @name in a new folder
 * under it, and fails the running test if the folder cannot be made. */
#define TMP_FILE(t, path, name)                                                \
  tmpdir t;                                                                    \
  char path[600];                                                              \
  CHECK(tmpdir_make_with(&t, name, path, sizeof path) == 0, "mkdtemp")

/* The path of @name in the folder. */
void tmpdir_file(const tmpdir *t, const char *name, char *out, size_t len);

/* Number of entries in the folder (besides . and ..); the first name goes
 * to @first (if not NULL). */
int tmpdir_count(const tmpdir *t, char *first, size_t len);

/* Removes the folder and the files in it. */
void tmpdir_remove(tmpdir *t);

/* The bytes of a file (free them), *size its size; NULL if unreadable. */
unsigned char *slurp(const char *path, size_t *size);

/* Writes @n bytes to a new file; 0 on success. */
int spill(const char *path, const void *data, size_t n);

/* stderr captured into a file in @t, to check that nothing is printed. */
typedef struct capture {
  int saved;
  char path[600];
} capture;

void capture_begin(capture *c, const tmpdir *t);

/* Ends the capture; returns the bytes that were printed (and shows them). */
long capture_end(capture *c);

/* Declares tmpdir @t and capture @cap, makes the folder (failing the running
 * test if it cannot) and captures stderr into a file in it. */
#define TMP_CAPTURE(t, cap)                                                    \
  tmpdir t;                                                                    \
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");                                      \
  capture cap;                                                                 \
  capture_begin(&cap, &t)

/* ------------------------------------------------------------------------ */
/* Whole arrays through bw_tiff.h                                           */
/* ------------------------------------------------------------------------ */

/* bw_tiff_write_params_init()'s parameters for an image of @dtype and shape
 * (@z, @y, @x), or (@y, @x) when @z is 0. */
bw_tiff_write_params test_params(bw_dtype dtype, int64_t z, int64_t y, int64_t x);

/* A new array (free it) of the parameters' dtype and shape, filled by
 * fill_random(); *n receives its number of elements. */
void *random_image(const bw_tiff_write_params *p, size_t *n);

/* Writes the C-contiguous @data with regions of @band rows (within each
 * page; band 0: the whole image in one call). */
bw_status write_array(const char *path, const bw_tiff_write_params *p, const void *data,
                      ptrdiff_t band, bw_error *err);

/* write_array(), then bw_tiff_open() of the file written; NULL on error
 * (message in err). */
bw_tiff_reader *write_and_open(const char *path, const bw_tiff_write_params *p, const void *data,
                               ptrdiff_t band, bw_error *err);

/* A random_image() of @p (free it) written with write_array() in bands of
 * @band rows and opened into *r; NULL on error, message in err (and *r
 * NULL). */
void *write_random_and_open(const char *path, const bw_tiff_write_params *p, ptrdiff_t band,
                            bw_tiff_reader **r, bw_error *err);

/* A random_image() of @p (free it) written with write_array() in bands of
 * @band rows, and the bytes of the file in *img (free them), *size bytes;
 * NULL on error, message in err (and *img NULL). */
void *write_random_and_slurp(const char *path, const bw_tiff_write_params *p, ptrdiff_t band,
                             unsigned char **img, size_t *size, bw_error *err);

/* Reads the whole image of an open reader into a new contiguous buffer;
 * NULL on error (message in err). */
void *read_whole(bw_tiff_reader *r, bw_error *err);

/* Opens @path and reads everything; NULL on error (message in err). */
void *read_file(const char *path, bw_tiff_info *info, bw_error *err);

/* bw_tiff_read(), and in *used what it took: the bytes read and the strips
 * or tiles decoded (the differences of the reader's counters). */
bw_status read_counted(bw_tiff_reader *r, const bw_region *region, const bw_view *dst,
                       bw_tiff_counters *used, bw_error *err);

/* Copies of @v that break one rule each of bw_tiff_read() and
 * bw_tiff_write(), with the status they must give: another dtype (@other),
 * another number of axes, NULL data. */
typedef struct bad_view {
  const char *what;
  bw_view v;
  bw_status want;
} bad_view;
enum { N_BAD_VIEWS = 3 };
void bad_views(const bw_view *v, bw_dtype other, bad_view out[N_BAD_VIEWS]);

/* ------------------------------------------------------------------------ */
/* A small TIFF builder (classic TIFF, either byte order)                   */
/* ------------------------------------------------------------------------ */

enum { T_BYTE = 1, T_ASCII = 2, T_SHORT = 3, T_LONG = 4, T_RATIONAL = 5 };

typedef struct tb_tag {
  uint16_t tag, type;
  uint32_t count;
  uint64_t v[2];          /* values when arr is NULL (RATIONAL: v[0]/v[1]) */
  const uint64_t *arr;    /* count values */
  const char *str;        /* ASCII */
  int rel;                /* values are offsets from the page's pixel data */
} tb_tag;

typedef struct tb_page {
  tb_tag tags[32];
  int ntags;
  const void *pix; /* pixel bytes, already in the file's byte order */
  size_t npix;
} tb_page;

typedef struct tb_file {
  unsigned char *b;
  size_t n, cap;
  int be;
} tb_file;

/* Writes @v in @bytes bytes at @at, in the file's byte order. */
void tb_put(tb_file *f, size_t at, uint64_t v, int bytes);

/* Adds or replaces a tag of one value. */
void tb_set(tb_page *pg, uint16_t tag, uint16_t type, uint64_t value);

/* Adds or replaces a tag. */
void tb_set_tag(tb_page *pg, const tb_tag *t);

/* Removes a tag. */
void tb_remove(tb_page *pg, uint16_t tag);

/* A one-strip grey page: w x h samples of @bits bits, SampleFormat @fmt
 * (0: no SampleFormat tag). */
void tb_grey(tb_page *pg, uint32_t w, uint32_t h, int bits, int fmt, const void *pix,
             size_t npix);

/* Assembles the pages into a file image: header, then per page its pixels,
 * its directory and the directory's out-of-line values.  Free f->b. */
void tb_build(tb_file *f, int big_endian, tb_page *pages, int npages);

/* Byte-swaps n elements of size es in place (for big-endian pixels). */
void swap_elems(void *p, size_t n, size_t es);

int host_big_endian(void);

#endif
