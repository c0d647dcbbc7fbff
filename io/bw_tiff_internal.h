/* Internal helpers shared by the TIFF reader and writer. */
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
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

/* Collects the first error libtiff reports during one operation. */
typedef struct bw_tiff_msg {
  char text[200];
  int set;
} bw_tiff_msg;

/* Forgets the collected message. */
void bw_tiff_msg_clear(bw_tiff_msg *m);

/* libtiff error handler (TIFFErrorHandlerExtR): user_data is a bw_tiff_msg.
 * Keeps the first message and stops libtiff from printing it. */
int bw_tiff_on_error(TIFF *tif, void *user_data, const char *module,
                     const char *fmt, va_list ap);

/* libtiff warning handler: drops the warning (never printed). */
int bw_tiff_on_warning(TIFF *tif, void *user_data, const char *module,
                       const char *fmt, va_list ap);

/* Open options with our handlers (reporting into @msg) and the allocation
 * bound; NULL when out of memory.  Free with TIFFOpenOptionsFree(). */
TIFFOpenOptions *bw_tiff_options(bw_tiff_msg *msg);

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
/* File access through libtiff's client procedures                          */
/* ------------------------------------------------------------------------ */

/* A file descriptor (fd >= 0) or a read-only memory image (fd < 0).  Every
 * byte moved is counted.  The libtiff procedures below take a bw_tiff_file
 * as their client data. */
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
 * messages into @msg. */
TIFF *bw_tiff_client_open(bw_tiff_file *f, const char *name, const char *mode,
                          bw_tiff_msg *msg);

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

/* TIFF SampleFormat and BitsPerSample of @dtype. */
void bw_tiff_dtype_format(bw_dtype dtype, uint16_t *sample_format, uint16_t *bits);

/* Formats @v with as many significant digits as it takes to read it back
 * exactly (at most 17), with '.' as the decimal point whatever the
 * locale. */
void bw_tiff_format_double(char *buf, size_t len, double v);

/* Parses a number written by bw_tiff_format_double (or any decimal or
 * exponent notation with '.'), whatever the locale.  Returns 1 and sets *v
 * when the whole of [s, end) up to trailing blanks is a number. */
int bw_tiff_parse_double(const char *s, size_t len, double *v);

/* Copies one row of @n elements of @esize bytes between a contiguous buffer
 * and a strided one. */
void bw_tiff_copy_to_strided(char *dst, ptrdiff_t dst_stride, const unsigned char *src,
                             size_t n, size_t esize);
void bw_tiff_copy_from_strided(unsigned char *dst, const char *src, ptrdiff_t src_stride,
                               size_t n, size_t esize);

#endif /* BW_TIFF_INTERNAL_H */
