/* Shared by the TIFF reader and writer: libtiff messages, file access
 * through libtiff's client procedures, number formatting, row copies. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_internal.h"

#include <errno.h>
#include <locale.h>
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

int bw_tiff_on_error(TIFF *tif, void *user_data, const char *module,
                     const char *fmt, va_list ap) {
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

int bw_tiff_on_warning(TIFF *tif, void *user_data, const char *module,
                       const char *fmt, va_list ap) {
  (void)tif;
  (void)user_data;
  (void)module;
  (void)fmt;
  (void)ap;
  return 1;
}

TIFFOpenOptions *bw_tiff_options(bw_tiff_msg *msg) {
  TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
  if (!o) return NULL;
  TIFFOpenOptionsSetMaxSingleMemAlloc(o, BW_TIFF_MAX_LIBTIFF_ALLOC);
  TIFFOpenOptionsSetErrorHandlerExtR(o, bw_tiff_on_error, msg);
  TIFFOpenOptionsSetWarningHandlerExtR(o, bw_tiff_on_warning, msg);
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
  TIFFOpenOptions *o = bw_tiff_options(msg);
  if (!o) return NULL;
  TIFF *tif = TIFFClientOpenExt(name, mode, (thandle_t)f, proc_read, proc_write,
                                proc_seek, proc_close, proc_size, proc_map,
                                proc_unmap, o);
  TIFFOpenOptionsFree(o);
  return tif;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

int bw_tiff_compression_available(bw_tiff_compression c) {
  switch (c) {
  case BW_TIFF_NONE: return 1;
  case BW_TIFF_LZW: return TIFFIsCODECConfigured(COMPRESSION_LZW) ? 1 : 0;
  case BW_TIFF_DEFLATE: return TIFFIsCODECConfigured(COMPRESSION_ADOBE_DEFLATE) ? 1 : 0;
  case BW_TIFF_PACKBITS: return TIFFIsCODECConfigured(COMPRESSION_PACKBITS) ? 1 : 0;
  case BW_TIFF_ZSTD:
#ifdef COMPRESSION_ZSTD
    return TIFFIsCODECConfigured(COMPRESSION_ZSTD) ? 1 : 0;
#else
    return 0;
#endif
  }
  return 0;
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

void bw_tiff_format_double(char *buf, size_t len, double v) {
  /* The shortest form that reads back as the same double: "0.1", not
   * "0.10000000000000001".  Both directions use the current locale here. */
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (prec == 17 || strtod(buf, NULL) == v) break;
  }
  const struct lconv *lc = localeconv();
  const char *dp = lc && lc->decimal_point && *lc->decimal_point ? lc->decimal_point : ".";
  if (strcmp(dp, ".") == 0) return;
  char *at = strstr(buf, dp);
  if (!at) return;
  size_t dl = strlen(dp);
  *at = '.';
  memmove(at + 1, at + dl, strlen(at + dl) + 1);
}

int bw_tiff_parse_double(const char *s, size_t len, double *v) {
  /* Leading and trailing blanks (and a CR before the newline) are allowed. */
  while (len > 0 && (*s == ' ' || *s == '\t')) {
    s++;
    len--;
  }
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) len--;
  if (len == 0 || len > 64) return 0;
  /* one decimal point at most: with the locale's point (up to 8 bytes) in
   * its place, the number fits buf */
  size_t dots = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    dots += c == '.';
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' ||
          c == 'E'))
      return 0;
  }
  if (dots > 1) return 0;
  /* strtod reads the locale's decimal point: put it in place of '.'. */
  char buf[80];
  const struct lconv *lc = localeconv();
  const char *dp = lc && lc->decimal_point && *lc->decimal_point ? lc->decimal_point : ".";
  size_t dl = strlen(dp), o = 0;
  if (dl > 8) return 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      memcpy(buf + o, dp, dl);
      o += dl;
    } else {
      buf[o++] = s[i];
    }
  }
  buf[o] = '\0';
  char *end = NULL;
  double d = strtod(buf, &end);
  if (end != buf + o) return 0;
  *v = d;
  return 1;
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
