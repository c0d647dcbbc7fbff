/* Shared by the TIFF reader and writer: libtiff messages, file access
 * through libtiff's client procedures, the table of compression schemes,
 * byte swapping and row copies. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

void bw_tiff_msg_clear(bw_tiff_msg *m) {
  m->text[0] = '\0';
  m->set = 0;
}

/* libtiff error handler (TIFFErrorHandlerExtR): user_data is a bw_tiff_msg.
 * Keeps the first message and stops libtiff from printing it. */
static int on_error(TIFF *tif, void *user_data, const char *module, const char *fmt,
                    va_list ap) {
  bw_tiff_msg *m = (bw_tiff_msg *)user_data;
  if (!m || m->set) return 1;
  /* libtiff names the function that failed as the module, or the file;
   * the function helps, the file name the caller knows already. */
  const char *name = tif ? TIFFFileName(tif) : NULL;
  size_t used = 0;
  if (module && *module && !(name && strcmp(module, name) == 0)) {
    size_t k = strlen(module);
    if (k > sizeof m->text / 2) k = sizeof m->text / 2;
    memcpy(m->text, module, k);
    memcpy(m->text + k, ": ", 2);
    used = k + 2;
  }
  vsnprintf(m->text + used, sizeof m->text - used, fmt, ap);
  m->set = 1;
  return 1;
}

/* libtiff warning handler: drops the warning (never printed). */
static int on_warning(TIFF *tif, void *user_data, const char *module, const char *fmt,
                      va_list ap) {
  (void)tif;
  (void)user_data;
  (void)module;
  (void)fmt;
  (void)ap;
  return 1;
}

/* Open options with our handlers (reporting into @msg) and the allocation
 * bound; NULL when out of memory.  Free with TIFFOpenOptionsFree(). */
static TIFFOpenOptions *open_options(bw_tiff_msg *msg) {
  TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
  if (!o) return NULL;
  TIFFOpenOptionsSetMaxSingleMemAlloc(o, BW_TIFF_MAX_LIBTIFF_ALLOC);
  TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, msg);
  TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, msg);
  return o;
}

static bw_status vfail(bw_error *err, bw_status status, const bw_tiff_msg *m,
                       const char *fmt, va_list ap) {
  if (err) {
    err->status = status;
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    if (m && m->set && n >= 0 && (size_t)n < sizeof err->message)
      snprintf(err->message + n, sizeof err->message - (size_t)n, ": %s", m->text);
  }
  return status;
}

bw_status bw_tiff_fail(bw_error *err, bw_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(err, status, NULL, fmt, ap);
  va_end(ap);
  return status;
}

bw_status bw_tiff_fail_lib(bw_error *err, bw_status status,
                           const bw_tiff_msg *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(err, status, m, fmt, ap);
  va_end(ap);
  return status;
}

/* ------------------------------------------------------------------------ */
/* File access                                                              */
/* ------------------------------------------------------------------------ */

int64_t bw_tiff_file_pread(bw_tiff_file *f, void *buf, uint64_t n, uint64_t offset) {
  if (n > (uint64_t)INT64_MAX) n = (uint64_t)INT64_MAX;
  if (f->fd < 0) {
    if (offset >= f->size) return 0;
    uint64_t avail = f->size - offset;
    uint64_t k = n < avail ? n : avail;
    memcpy(buf, f->mem + offset, (size_t)k);
    f->bytes_read += k;
    return (int64_t)k;
  }
  uint64_t done = 0;
  while (done < n) {
    uint64_t want = n - done;
    if (want > ((uint64_t)1 << 30)) want = (uint64_t)1 << 30;
    if (offset + done > (uint64_t)INT64_MAX) break;
    ssize_t got = pread(f->fd, (char *)buf + done, (size_t)want, (off_t)(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      if (!f->io_errno) f->io_errno = errno ? errno : EIO;
      return -1;
    }
    if (got == 0) break;
    done += (uint64_t)got;
    f->bytes_read += (uint64_t)got;
  }
  return (int64_t)done;
}

static tmsize_t proc_read(thandle_t h, void *buf, tmsize_t n) {
  bw_tiff_file *f = (bw_tiff_file *)h;
  if (n <= 0) return 0;
  int64_t got = bw_tiff_file_pread(f, buf, (uint64_t)n, f->pos);
  if (got < 0) return -1;
  f->pos += (uint64_t)got;
  return (tmsize_t)got;
}

static tmsize_t proc_write(thandle_t h, void *buf, tmsize_t n) {
  bw_tiff_file *f = (bw_tiff_file *)h;
  if (n <= 0) return 0;
  if (f->fd < 0) return -1;
  uint64_t done = 0;
  while (done < (uint64_t)n) {
    ssize_t put = pwrite(f->fd, (const char *)buf + done, (size_t)((uint64_t)n - done),
                         (off_t)(f->pos + done));
    if (put < 0) {
      if (errno == EINTR) continue;
      if (!f->io_errno) f->io_errno = errno ? errno : EIO;
      return -1;
    }
    if (put == 0) {
      if (!f->io_errno) f->io_errno = EIO;
      return -1;
    }
    done += (uint64_t)put;
  }
  f->pos += done;
  if (f->pos > f->size) f->size = f->pos;
  return (tmsize_t)done;
}

static toff_t proc_seek(thandle_t h, toff_t off, int whence) {
  bw_tiff_file *f = (bw_tiff_file *)h;
  int64_t base;
  switch (whence) {
  case SEEK_SET: base = 0; break;
  case SEEK_CUR: base = (int64_t)f->pos; break;
  case SEEK_END: base = (int64_t)f->size; break;
  default: return (toff_t)-1;
  }
  /* SEEK_CUR and SEEK_END offsets may be negative, passed as unsigned. */
  int64_t delta = (int64_t)off;
  if (whence == SEEK_SET) {
    if (off > (toff_t)INT64_MAX) return (toff_t)-1;
  } else if ((delta > 0 && base > INT64_MAX - delta) || base + delta < 0) {
    return (toff_t)-1;
  }
  f->pos = (uint64_t)(base + delta);
  return (toff_t)f->pos;
}

static int proc_close(thandle_t h) {
  (void)h;
  return 0;
}

static toff_t proc_size(thandle_t h) { return (toff_t)((bw_tiff_file *)h)->size; }

static int proc_map(thandle_t h, void **base, toff_t *size) {
  (void)h;
  (void)base;
  (void)size;
  return 0;
}

static void proc_unmap(thandle_t h, void *base, toff_t size) {
  (void)h;
  (void)base;
  (void)size;
}

TIFF *bw_tiff_client_open(bw_tiff_file *f, const char *name, const char *mode,
                          bw_tiff_msg *msg) {
  TIFFOpenOptions *o = open_options(msg);
  if (!o) return NULL;
  TIFF *tif = TIFFClientOpenExt(name, mode, (thandle_t)f, proc_read, proc_write,
                                proc_seek, proc_close, proc_size, proc_map,
                                proc_unmap, o);
  TIFFOpenOptionsFree(o);
  return tif;
}

/* ------------------------------------------------------------------------ */
/* Compression schemes                                                      */
/* ------------------------------------------------------------------------ */

#ifndef COMPRESSION_ZSTD
#  define COMPRESSION_ZSTD 50000
#endif

/* Everything this layer knows of each scheme it writes, in the order of
 * bw_tiff_compression. */
static const struct codec {
  bw_tiff_compression c;
  const char *name;   /* bw_tiff_compression_name() */
  uint16_t code;      /* libtiff's COMPRESSION_*, as written */
  int max_level;      /* bw_tiff_compression_max_level() */
  int predictor;      /* bw_tiff_compression_has_predictor() */
  /* A bound on how many times smaller than the pixels their encoding can
   * be, 0 for none to rely on: Deflate and LZW are bounded by their
   * longest match per code (about 1032 and 2600), PackBits by 128 bytes
   * per 2; the bounds here are generous. */
  uint64_t max_ratio;
} codecs[] = {
    {BW_TIFF_NONE, "none", COMPRESSION_NONE, 0, 0, 1},
    {BW_TIFF_LZW, "lzw", COMPRESSION_LZW, 0, 1, 8192},
    {BW_TIFF_DEFLATE, "deflate", COMPRESSION_ADOBE_DEFLATE, 9, 1, 2048},
    {BW_TIFF_PACKBITS, "packbits", COMPRESSION_PACKBITS, 0, 0, 128},
    {BW_TIFF_ZSTD, "zstd", COMPRESSION_ZSTD, 22, 1, 0},
};
enum { NCODECS = sizeof codecs / sizeof *codecs };

static const struct codec *codec_of(bw_tiff_compression c) {
  return (unsigned)c < NCODECS ? &codecs[c] : NULL;
}

/* The entry of libtiff code @code (old-style Deflate reads as Deflate), or
 * NULL. */
static const struct codec *codec_of_code(uint16_t code) {
  if (code == COMPRESSION_DEFLATE) code = COMPRESSION_ADOBE_DEFLATE;
  for (size_t i = 0; i < NCODECS; i++)
    if (codecs[i].code == code) return &codecs[i];
  return NULL;
}

const char *bw_tiff_compression_name(bw_tiff_compression c) {
  const struct codec *k = codec_of(c);
  return k ? k->name : NULL;
}

bw_status bw_tiff_compression_from_name(const char *name, bw_tiff_compression *out,
                                        bw_error *err) {
  if (!name || !out)
    return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_compression_from_name: %s is NULL",
                        name ? "out" : "name");
  /* ASCII case folding, the same in every locale. */
  for (size_t i = 0; i < NCODECS; i++) {
    const char *a = name, *b = codecs[i].name;
    while (*a && *b && (*a >= 'A' && *a <= 'Z' ? *a - 'A' + 'a' : *a) == *b) a++, b++;
    if (!*a && !*b) {
      *out = codecs[i].c;
      return BW_OK;
    }
  }
  return bw_tiff_fail(err, BW_ERR_PARAM,
                      "unknown compression \"%.64s\" (none, deflate, lzw, packbits or zstd)",
                      name);
}

int bw_tiff_compression_available(bw_tiff_compression c) {
  const struct codec *k = codec_of(c);
  return k && (k->code == COMPRESSION_NONE || TIFFIsCODECConfigured(k->code)) ? 1 : 0;
}

int bw_tiff_compression_max_level(bw_tiff_compression c) {
  const struct codec *k = codec_of(c);
  return k ? k->max_level : 0;
}

int bw_tiff_compression_has_predictor(bw_tiff_compression c) {
  return bw_tiff_code_has_predictor(bw_tiff_compression_code(c));
}

uint16_t bw_tiff_compression_code(bw_tiff_compression c) {
  const struct codec *k = codec_of(c);
  return k ? k->code : (uint16_t)COMPRESSION_NONE;
}

const char *bw_tiff_code_name(uint16_t code) {
  const struct codec *k = codec_of_code(code);
  if (k) return k->name;
  switch (code) {
#ifdef COMPRESSION_LZMA
  case COMPRESSION_LZMA: return "lzma";
#endif
  case COMPRESSION_JPEG: return "jpeg";
  case COMPRESSION_OJPEG: return "ojpeg";
  default: break;
  }
  const TIFFCodec *codec = TIFFFindCODEC(code);
  return codec && codec->name ? codec->name : "unknown";
}

int bw_tiff_code_has_predictor(uint16_t code) {
  const struct codec *k = codec_of_code(code);
  return k ? k->predictor : 0;
}

uint64_t bw_tiff_code_max_ratio(uint16_t code) {
  const struct codec *k = codec_of_code(code);
  return k ? k->max_ratio : 0;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

bw_status bw_tiff_check_view(const char *fn, const char *role, int nd, const int64_t *shape,
                             bw_dtype dtype, const bw_region *region, const bw_view *v,
                             bw_error *err) {
  if (!v->data) return bw_tiff_fail(err, BW_ERR_NULL, "%s: %s data is NULL", fn, role);
  if (v->ndim != nd)
    return bw_tiff_fail(err, BW_ERR_NDIM, "%s: %s has %d axes, the image %d", fn, role, v->ndim,
                        nd);
  if (v->dtype != dtype)
    return bw_tiff_fail(err, BW_ERR_DTYPE, "%s: %s is %s, the file holds %s", fn, role,
                        bw_dtype_name(v->dtype), bw_dtype_name(dtype));
  for (int i = 0; i < nd; i++) {
    ptrdiff_t st = region->start[i], sz = region->size[i];
    if (st < 0 || sz < 1 || (int64_t)st > shape[i] - (int64_t)sz)
      return bw_tiff_fail(err, BW_ERR_REGION,
                          "%s: axis %d range [%td, %td + %td) outside [0, %lld)", fn, i, st, st,
                          sz, (long long)shape[i]);
  }
  return BW_OK;
}

bw_status bw_tiff_check_extents(const char *fn, const char *role, int nd,
                                const bw_region *region, const bw_view *v, bw_error *err) {
  for (int i = 0; i < nd; i++)
    if (v->shape[i] != region->size[i])
      return bw_tiff_fail(err, BW_ERR_SHAPE, "%s: %s extent %td along axis %d, region size %td",
                          fn, role, v->shape[i], i, region->size[i]);
  return BW_OK;
}

void bw_tiff_dtype_format(bw_dtype dtype, uint16_t *sample_format, uint16_t *bits) {
  uint16_t fmt = SAMPLEFORMAT_UINT;
  switch (dtype) {
  case BW_I8: case BW_I16: case BW_I32: fmt = SAMPLEFORMAT_INT; break;
  case BW_F32: case BW_F64: fmt = SAMPLEFORMAT_IEEEFP; break;
  default: break;
  }
  *sample_format = fmt;
  *bits = (uint16_t)(8 * bw_dtype_size(dtype));
}

void bw_tiff_swab(void *data, size_t n, size_t esize) {
  tmsize_t cnt = (tmsize_t)n;
  switch (esize) {
  case 2: TIFFSwabArrayOfShort((uint16_t *)data, cnt); break;
  case 4: TIFFSwabArrayOfLong((uint32_t *)data, cnt); break;
  case 8: TIFFSwabArrayOfLong8((uint64_t *)data, cnt); break;
  default: break;
  }
}

void bw_tiff_copy_to_strided(char *dst, ptrdiff_t dst_stride, const unsigned char *src,
                             size_t n, size_t esize) {
  if (dst_stride == (ptrdiff_t)esize) {
    memcpy(dst, src, n * esize);
    return;
  }
  for (size_t i = 0; i < n; i++, dst += dst_stride, src += esize) memcpy(dst, src, esize);
}

void bw_tiff_copy_from_strided(unsigned char *dst, const char *src, ptrdiff_t src_stride,
                               size_t n, size_t esize) {
  if (src_stride == (ptrdiff_t)esize) {
    memcpy(dst, src, n * esize);
    return;
  }
  for (size_t i = 0; i < n; i++, dst += esize, src += src_stride) memcpy(dst, src, esize);
}
