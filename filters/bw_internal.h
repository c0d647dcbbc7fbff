/* Internal helpers shared by the core's translation units. */
#ifndef BW_INTERNAL_H
#define BW_INTERNAL_H

#include "blockwise.h"

#if defined(__GNUC__)
#  define BW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define BW_PRINTF(f, a)
#endif

/* Records @status and a formatted message in @err (if not NULL); returns
 * @status so that callers can write `return bw_fail(err, ...)`. */
bw_status bw_fail(bw_error *err, bw_status status, const char *fmt, ...)
    BW_PRINTF(3, 4);

/* Checks that @v is a usable view with @ndim axes, every extent >= 1 and a
 * supported dtype; @what names it in messages. */
bw_status bw_check_view(const bw_view *v, int ndim, const char *what,
                        bw_error *err);

/* Formats the first @ndim entries of @s as "AxBxC" into @buf. */
const char *bw_format_shape(char *buf, size_t len, int ndim,
                            const ptrdiff_t *s);

#endif
