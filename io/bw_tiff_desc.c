/* The spacing convention of bw_tiff.h, both halves: what the writer puts in
 * the resolution tags and the ImageDescription, and how the reader takes
 * spacing and the volume mark back out of them (ours and other writers'). */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_internal.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The description's keys.  ImageJ's own: "images" (the number of images
 * of a stack, written for every 3-D image so that a volume of one page
 * reads back as 3-D), "slices" (read only) and "spacing" (Z); ours:
 * "xspacing" and "yspacing" (the exact X and Y spacing, which the
 * resolution tags round to rationals). */
static const char KEY_IMAGES[] = "images";
static const char KEY_SLICES[] = "slices";
static const char KEY_X[] = "xspacing";
static const char KEY_Y[] = "yspacing";
static const char KEY_Z[] = "spacing";

/* Resolution tags: pixels per centimetre, so XResolution = 10 / spacing_x
 * for spacing in millimetres. */
#define MM_PER_CM 10.0
#define MM_PER_INCH 25.4

/* ------------------------------------------------------------------------ */
/* Numbers, whatever the locale                                             */
/* ------------------------------------------------------------------------ */

/* The locale's decimal point (often "."). */
static const char *decimal_point(void) {
  const struct lconv *lc = localeconv();
  return lc && lc->decimal_point && *lc->decimal_point ? lc->decimal_point : ".";
}

/* Formats @v with as many significant digits as it takes to read it back
 * exactly (at most 17), with '.' as the decimal point. */
static void format_double(char *buf, size_t len, double v) {
  /* The shortest form that reads back as the same double: "0.1", not
   * "0.10000000000000001".  Both directions use the current locale here. */
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (prec == 17 || strtod(buf, NULL) == v) break;
  }
  const char *dp = decimal_point();
  if (strcmp(dp, ".") == 0) return;
  char *at = strstr(buf, dp);
  if (!at) return;
  size_t dl = strlen(dp);
  *at = '.';
  memmove(at + 1, at + dl, strlen(at + dl) + 1);
}

/* Parses a number written by format_double (or any decimal or exponent
 * notation with '.').  Returns 1 and sets *v when the whole of [s, s + len)
 * up to blanks around it is a number. */
static int parse_double(const char *s, size_t len, double *v) {
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
  const char *dp = decimal_point();
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

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

void bw_tiff_describe(char *buf, int ndim, uint32_t pages, const double *spacing) {
  char sx[40], sy[40], sz[40];
  format_double(sx, sizeof sx, spacing[ndim - 1]);
  format_double(sy, sizeof sy, spacing[ndim - 2]);
  if (ndim == 3) {
    format_double(sz, sizeof sz, spacing[0]);
    /* images=: the page count, which marks the file as a volume even when
     * it has one page. */
    snprintf(buf, BW_TIFF_DESCRIPTION_MAX, "%s=%u\n%s=%s\n%s=%s\n%s=%s\n", KEY_IMAGES, pages,
             KEY_X, sx, KEY_Y, sy, KEY_Z, sz);
  } else {
    snprintf(buf, BW_TIFF_DESCRIPTION_MAX, "%s=%s\n%s=%s\n", KEY_X, sx, KEY_Y, sy);
  }
}

int bw_tiff_set_spacing_tags(TIFF *tif, int ndim, const double *spacing,
                             const char *description) {
  int ok = 1;
  ok &= TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
  ok &= TIFFSetField(tif, TIFFTAG_XRESOLUTION, MM_PER_CM / spacing[ndim - 1]);
  ok &= TIFFSetField(tif, TIFFTAG_YRESOLUTION, MM_PER_CM / spacing[ndim - 2]);
  ok &= TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/* Value of "key=value" lines of @desc for @key, when it is a positive
 * finite number (the last such line wins). */
static int description_value(const char *desc, const char *key, double *out) {
  size_t klen = strlen(key);
  const char *line = desc;
  int found = 0;
  while (line && *line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    const char *p = line;
    size_t n = len;
    while (n > 0 && (*p == ' ' || *p == '\t')) {
      p++;
      n--;
    }
    if (n > klen && strncmp(p, key, klen) == 0) {
      const char *q = p + klen;
      size_t m = n - klen;
      while (m > 0 && (*q == ' ' || *q == '\t')) {
        q++;
        m--;
      }
      double v;
      if (m > 0 && *q == '=' && parse_double(q + 1, m - 1, &v) && isfinite(v) && v > 0) {
        *out = v;
        found = 1;
      }
    }
    line = end ? end + 1 : NULL;
  }
  return found;
}

/* Millimetres per pixel from a resolution tag, or 0. */
static double spacing_from_resolution(TIFF *tif, ttag_t tag, uint16_t unit) {
  float res = 0;
  if (!TIFFGetField(tif, tag, &res)) return 0;
  if (!isfinite(res) || !(res > 0)) return 0;
  double per_unit = unit == RESUNIT_INCH         ? MM_PER_INCH
                    : unit == RESUNIT_CENTIMETER ? MM_PER_CM
                                                 : 1.0;
  double s = per_unit / (double)res;
  return isfinite(s) && s > 0 ? s : 0;
}

void bw_tiff_read_spacing(TIFF *tif, double spacing[3]) {
  double sx = 1, sy = 1, sz = 1, v;
  uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if ((v = spacing_from_resolution(tif, TIFFTAG_XRESOLUTION, unit)) > 0) sx = v;
  if ((v = spacing_from_resolution(tif, TIFFTAG_YRESOLUTION, unit)) > 0) sy = v;
  const char *desc = NULL;
  if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) && desc) {
    if (description_value(desc, KEY_X, &v)) sx = v;
    if (description_value(desc, KEY_Y, &v)) sy = v;
    if (description_value(desc, KEY_Z, &v)) sz = v;
  }
  spacing[0] = sz;
  spacing[1] = sy;
  spacing[2] = sx;
}

/* A volume by ImageJ's keys: "images=N" or "slices=N".  tifffile writes
 * "images=1" into the ImageJ description of every single image, and ImageJ
 * itself never does (it writes the key for stacks only), so an ImageJ
 * description with images=1 and no slices line is a single image. */
int bw_tiff_description_volume(TIFF *tif, double *images) {
  const char *desc = NULL;
  *images = 0;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) || !desc) return 0;
  double n = 0, slices = 0;
  int has_images = description_value(desc, KEY_IMAGES, &n);
  int has_slices = description_value(desc, KEY_SLICES, &slices);
  if (!has_images && !has_slices) return 0;
  if (!has_images) n = slices;
  if (n != floor(n)) return 0;
  if (strncmp(desc, "ImageJ=", 7) == 0 && n == 1 && !has_slices) return 0;
  *images = n;
  return 1;
}
