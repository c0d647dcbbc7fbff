/* Status strings, dtypes and views, and the helpers every operation
 * shares (bw_internal.h). */
#include "bw_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *bw_status_string(bw_status status) {
  switch (status) {
  case BW_OK: return "success";
  case BW_ERR_NULL: return "required pointer is NULL";
  case BW_ERR_DTYPE: return "unsupported or mismatched element type";
  case BW_ERR_NDIM: return "unsupported or mismatched number of axes";
  case BW_ERR_SHAPE: return "invalid or mismatched shape";
  case BW_ERR_BLOCK: return "invalid block size";
  case BW_ERR_PARAM: return "parameter out of range";
  case BW_ERR_OUTPUT: return "invalid output view";
  case BW_ERR_REGION: return "region outside the image";
  case BW_ERR_NOMEM: return "out of memory";
  case BW_ERR_RANGE: return "size out of range";
  case BW_ERR_IO: return "file could not be read or written";
  case BW_ERR_UNSUPPORTED: return "valid file in an unsupported layout or encoding";
  case BW_ERR_STOPPED: return "stopped by its caller";
  }
  return "unknown status";
}

const char *bw_version_string(void) {
#define BW_STR2(x) #x
#define BW_STR(x) BW_STR2(x)
  return BW_STR(BW_VERSION_MAJOR) "." BW_STR(BW_VERSION_MINOR) "." BW_STR(
      BW_VERSION_PATCH);
}

bw_status bw_fail(bw_error *err, bw_status status, const char *fmt, ...) {
  if (err) {
    va_list ap;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return status;
}

size_t bw_dtype_size(bw_dtype dtype) {
  switch (dtype) {
  case BW_U8: case BW_I8: return 1;
  case BW_U16: case BW_I16: return 2;
  case BW_U32: case BW_I32: case BW_F32: return 4;
  case BW_F64: return 8;
  }
  return 0;
}

const char *bw_dtype_name(bw_dtype dtype) {
  switch (dtype) {
  case BW_U8: return "u8";
  case BW_I8: return "i8";
  case BW_U16: return "u16";
  case BW_I16: return "i16";
  case BW_U32: return "u32";
  case BW_I32: return "i32";
  case BW_F32: return "f32";
  case BW_F64: return "f64";
  }
  return "invalid";
}

const char *bw_format_shape(char *buf, size_t len, int ndim,
                            const ptrdiff_t *s) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < ndim && used < len; i++) {
    int n = snprintf(buf + used, len - used, i ? "x%td" : "%td", s[i]);
    if (n < 0) break;
    used += (size_t)n;
  }
  return buf;
}

unsigned bw_simd(void) {
  const char *cap = getenv("BLOCKWISE_SIMD");
  unsigned simd = 0;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  if (cap && !strcmp(cap, "portable")) return 0;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) simd |= BW_SIMD_AVX2;
  if (!(cap && !strcmp(cap, "avx2")) && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512bw")) {
    simd |= BW_SIMD_AVX512BW;
    if (__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      simd |= BW_SIMD_AVX512;
  }
#else
  (void)cap;
#endif
  return simd;
}

bw_view bw_view_contiguous(void *data, bw_dtype dtype, int ndim,
                           const ptrdiff_t *shape) {
  bw_view v;
  memset(&v, 0, sizeof v);
  v.data = data;
  v.dtype = dtype;
  v.ndim = ndim;
  if (ndim < 1 || ndim > BW_MAX_DIMS || !shape) return v;
  ptrdiff_t step = (ptrdiff_t)bw_dtype_size(dtype);
  for (int i = ndim - 1; i >= 0; i--) {
    v.shape[i] = shape[i];
    v.strides[i] = step;
    step *= shape[i];
  }
  return v;
}

bw_status bw_check_view(const bw_view *v, int ndim, const char *what,
                        bw_error *err) {
  if (!v) return bw_fail(err, BW_ERR_NULL, "%s: view is NULL", what);
  if (!v->data) return bw_fail(err, BW_ERR_NULL, "%s: data is NULL", what);
  if (bw_dtype_size(v->dtype) == 0)
    return bw_fail(err, BW_ERR_DTYPE, "%s: unsupported dtype %d", what,
                   (int)v->dtype);
  if (v->ndim != ndim)
    return bw_fail(err, BW_ERR_NDIM, "%s: %d axes, expected %d", what,
                   v->ndim, ndim);
  for (int i = 0; i < ndim; i++)
    if (v->shape[i] < 1)
      return bw_fail(err, BW_ERR_SHAPE, "%s: extent %td along axis %d (< 1)",
                     what, v->shape[i], i);
  return BW_OK;
}

bw_status bw_check_box(const char *op, int ndim, const ptrdiff_t *extent,
                       const bw_region *r, const char *what, const char *of,
                       bw_error *err) {
  for (int i = 0; i < ndim; i++) {
    const ptrdiff_t st = r->start[i], sz = r->size[i];
    if (st < 0 || sz < 1 || st > extent[i] - sz)
      return bw_fail(err, BW_ERR_REGION,
                     "%s: %s [%td, %td) along axis %d is not inside the %s [0, %td)",
                     op, what, st, st + sz, i, of, extent[i]);
  }
  return BW_OK;
}

bw_status bw_view_subview(const bw_view *view, const bw_region *region,
                          bw_view *sub, bw_error *err) {
  if (!view || !region || !sub)
    return bw_fail(err, BW_ERR_NULL, "subview: NULL argument");
  if (view->ndim < 1 || view->ndim > BW_MAX_DIMS)
    return bw_fail(err, BW_ERR_NDIM, "subview: view has %d axes", view->ndim);
  char *p = (char *)view->data;
  bw_view s = *view;
  for (int i = 0; i < view->ndim; i++) {
    ptrdiff_t st = region->start[i], sz = region->size[i];
    if (st < 0 || sz < 1 || st > view->shape[i] - sz)
      return bw_fail(err, BW_ERR_REGION,
                     "subview: axis %d range [%td, %td) outside [0, %td)", i,
                     st, st + sz, view->shape[i]);
    p += st * view->strides[i];
    s.shape[i] = sz;
  }
  s.data = p;
  *sub = s;
  return BW_OK;
}
