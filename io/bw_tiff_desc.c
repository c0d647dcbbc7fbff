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
 * notation with '.'): see bw_tiff_internal.h. */
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
/* Reading: description lines, units                                        */
/* ------------------------------------------------------------------------ */

/* ImageJ's keys read here besides those above. */
static const char KEY_UNIT[] = "unit";
static const char KEY_CHANNELS[] = "channels";
static const char KEY_FRAMES[] = "frames";

/* The next "key=value" line of @key from *cursor (a position in a
 * description, NULL at its end): 1, its value in [*val, *val + *len) with
 * the blanks around it (and a CR) trimmed, and *cursor past the line. */
static int next_line(const char **cursor, const char *key, const char **val, size_t *len) {
  size_t klen = strlen(key);
  while (*cursor && **cursor) {
    const char *line = *cursor;
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    *cursor = end ? end + 1 : NULL;
    while (n > 0 && (*line == ' ' || *line == '\t')) {
      line++;
      n--;
    }
    if (n <= klen || strncmp(line, key, klen) != 0) continue;
    const char *q = line + klen;
    size_t m = n - klen;
    while (m > 0 && (*q == ' ' || *q == '\t')) {
      q++;
      m--;
    }
    if (m == 0 || *q != '=') continue;
    q++;
    m--;
    while (m > 0 && (*q == ' ' || *q == '\t')) {
      q++;
      m--;
    }
    while (m > 0 && (q[m - 1] == ' ' || q[m - 1] == '\t' || q[m - 1] == '\r')) m--;
    *val = q;
    *len = m;
    return 1;
  }
  return 0;
}

/* Value of "key=value" lines of @desc for @key, when it is a positive
 * finite number (the last such line wins). */
static int description_value(const char *desc, const char *key, double *out) {
  const char *cursor = desc, *val;
  size_t len;
  int found = 0;
  while (next_line(&cursor, key, &val, &len)) {
    double v;
    if (bw_tiff_parse_double(val, len, &v) && isfinite(v) && v > 0) {
      *out = v;
      found = 1;
    }
  }
  return found;
}

/* The text of the last "key=value" line of @desc for @key. */
static int description_text(const char *desc, const char *key, const char **out, size_t *len) {
  const char *cursor = desc, *val;
  size_t n;
  int found = 0;
  while (next_line(&cursor, key, &val, &n)) {
    *out = val;
    *len = n;
    found = 1;
  }
  return found;
}

/* A whole count of @key, from 1 to 2^31 - 1; 0 when missing or not one. */
static int description_count(const char *desc, const char *key) {
  double v = 0;
  if (!description_value(desc, key, &v) || v != floor(v) || v > 2147483647.0) return 0;
  return (int)v;
}

/* Units of length: millimetres per unit.  Symbols (OME's UnitsLength, and
 * ImageJ's) match exactly; words in any case. */
static const struct {
  const char *name;
  double mm;
  int word;
} UNITS[] = {
    {"fm", 1e-12, 0},          {"pm", 1e-9, 0},
    {"\xC3\x85", 1e-7, 0},     /* Å, U+00C5 */
    {"\xE2\x84\xAB", 1e-7, 0}, /* Å, U+212B (angstrom sign) */
    {"angstrom", 1e-7, 1},     {"nm", 1e-6, 0},
    {"\xC2\xB5m", 1e-3, 0},    /* µm, U+00B5 (micro sign) */
    {"\xCE\xBCm", 1e-3, 0},    /* μm, U+03BC (Greek mu) */
    {"\\u00B5m", 1e-3, 1},     /* ImageJ's description, escaped as Java's properties */
    {"\\u03BCm", 1e-3, 1},     {"um", 1e-3, 0},
    {"micron", 1e-3, 1},       {"microns", 1e-3, 1},
    {"micrometer", 1e-3, 1},   {"micrometre", 1e-3, 1},
    {"mm", 1, 0},              {"cm", 10, 0},
    {"dm", 100, 0},            {"m", 1e3, 0},
    {"meter", 1e3, 1},         {"metre", 1e3, 1},
    {"km", 1e6, 0},            {"thou", 0.0254, 0},
    {"li", 25.4 / 12, 0},      {"pt", 25.4 / 72, 0},
    {"in", 25.4, 0},           {"inch", 25.4, 1},
    {"inches", 25.4, 1},       {"ft", 304.8, 0},
    {"yd", 914.4, 0},          {"mi", 1609344, 0},
};

double bw_tiff_unit_mm(const char *unit, size_t len) {
  if (!unit) return 0;
  for (size_t i = 0; i < sizeof UNITS / sizeof *UNITS; i++) {
    const char *n = UNITS[i].name;
    if (strlen(n) != len) continue;
    int same = 1;
    for (size_t k = 0; k < len && same; k++) {
      char a = unit[k], b = n[k];
      if (UNITS[i].word) {
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
      }
      same = a == b;
    }
    if (same) return UNITS[i].mm;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading: spacing and the axes of the first page                          */
/* ------------------------------------------------------------------------ */

/* Millimetres per ResolutionUnit: TIFF's inch and centimetre, and the
 * millimetre (4) and micrometre (5) tifffile knows; 0 for none (1) or an
 * unknown code. */
static double resolution_unit_mm(int unit) {
  switch (unit) {
  case RESUNIT_INCH: return MM_PER_INCH;
  case RESUNIT_CENTIMETER: return MM_PER_CM;
  case 4: return 1;
  case 5: return 1e-3;
  default: return 0;
  }
}

/* 1 / resolution of a resolution tag (a length in resolution units), or 0
 * when missing or not positive and finite. */
static double per_pixel(TIFF *tif, ttag_t tag) {
  float res = 0;
  if (!TIFFGetField(tif, tag, &res) || !isfinite(res) || !(res > 0)) return 0;
  double s = 1.0 / (double)res;
  return isfinite(s) && s > 0 ? s : 0;
}

static const char SOURCE_TAGS[] = "resolution tags";

/* Sets Y and X to @yx (those above 0), times @mm when it is above 0. */
static void set_yx(bw_tiff_meta *m, const double yx[2], double mm) {
  for (int i = 0; i < 2; i++)
    if (yx[i] > 0 && isfinite(yx[i] * (mm > 0 ? mm : 1)))
      m->spacing[1 + i] = yx[i] * (mm > 0 ? mm : 1);
}

/* 1 when some axis is not 1: the numbers say something, if not in what. */
static int not_ones(const bw_tiff_meta *m) {
  return m->spacing[0] != 1 || m->spacing[1] != 1 || m->spacing[2] != 1;
}

/* ImageJ's description: its unit for the resolution tags and spacing=. */
static void read_imagej(bw_tiff_meta *m, const char *desc, const double yx[2], double res_mm,
                        int has_res) {
  m->imagej = 1;
  const char *u = NULL;
  size_t ulen = 0;
  double mm, z = 0;
  const char *source = "ImageJ";
  if (description_text(desc, KEY_UNIT, &u, &ulen)) {
    mm = bw_tiff_unit_mm(u, ulen);
  } else {
    /* No unit line: the unit of the resolution tags, if they have one. */
    mm = has_res ? res_mm : 0;
    source = SOURCE_TAGS;
  }
  m->spacing[0] = m->spacing[1] = m->spacing[2] = 1;
  set_yx(m, yx, 0);
  if (description_value(desc, KEY_Z, &z)) m->spacing[0] = z;
  if (mm > 0) {
    for (int i = 0; i < 3; i++) m->spacing[i] *= mm;
    m->stated = 1;
    m->source = source;
  } else {
    m->stated = 0;
    m->source = not_ones(m) ? "ImageJ" : "none";
  }
  int c = description_count(desc, KEY_CHANNELS), t = description_count(desc, KEY_FRAMES);
  int z_count = description_count(desc, KEY_SLICES);
  m->channels = c ? c : 1;
  m->t = t ? t : 1;
  if (!z_count) {
    int64_t images = description_count(desc, KEY_IMAGES);
    z_count = (int)(images / ((int64_t)m->channels * m->t));
  }
  m->z = z_count > 0 ? z_count : 1;
}

/* OME-XML: physical sizes per axis, over what the resolution tags gave. */
static void read_ome(bw_tiff_meta *m, const char *desc) {
  if (!bw_tiff_ome_parse(desc, strlen(desc), &m->ome)) return;
  const bw_tiff_ome *o = &m->ome;
  m->channels = (int)o->size_c;
  m->z = (int)o->size_z;
  m->t = (int)o->size_time;
  /* physical_mm: X, Y, Z; spacing: Z, Y, X. */
  for (int a = 0; a < 3; a++) {
    if (o->physical_mm[a] > 0) {
      m->spacing[2 - a] = o->physical_mm[a];
      m->stated = 1;
      m->source = "OME-XML";
    }
  }
}

/* Any other description: this writer's keys, in millimetres. */
static void read_keys(bw_tiff_meta *m, const char *desc) {
  double v;
  if (description_value(desc, KEY_X, &v)) {
    m->spacing[2] = v;
    m->stated = 1;
    m->source = "Blockwise";
  }
  if (description_value(desc, KEY_Y, &v)) {
    m->spacing[1] = v;
    m->stated = 1;
    m->source = "Blockwise";
  }
  if (description_value(desc, KEY_Z, &v)) m->spacing[0] = v;
}

void bw_tiff_read_meta(TIFF *tif, int resolution_unit, bw_tiff_meta *m) {
  memset(m, 0, sizeof *m);
  m->spacing[0] = m->spacing[1] = m->spacing[2] = 1;
  m->source = "none";
  m->format = "none";
  /* Resolution tags, by their ResolutionUnit (inch when missing). */
  double yx[2] = {per_pixel(tif, TIFFTAG_YRESOLUTION), per_pixel(tif, TIFFTAG_XRESOLUTION)};
  double res_mm = resolution_unit_mm(resolution_unit < 0 ? RESUNIT_INCH : resolution_unit);
  int has_res = yx[0] > 0 || yx[1] > 0;
  set_yx(m, yx, res_mm);
  if (has_res && res_mm > 0) {
    m->stated = 1;
    m->source = SOURCE_TAGS;
  } else if (not_ones(m)) {
    m->source = SOURCE_TAGS; /* ratios without a unit */
  }
  const char *desc = NULL;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) || !desc || !*desc) return;
  if (bw_tiff_is_xml(desc)) {
    read_ome(m, desc);
    m->format = m->ome.valid ? "OME-XML" : "other";
  } else if (strncmp(desc, "ImageJ=", 7) == 0) {
    m->format = "ImageJ";
    read_imagej(m, desc, yx, res_mm, has_res);
  } else {
    m->format = "other";
    read_keys(m, desc);
  }
}

/* "3 channels x 5 slices x 2 frames", the counts above 1, into @buf. */
static void axes_text(char *buf, size_t cap, int c, int z, int t) {
  const int n[3] = {c, z, t};
  static const char *const what[3] = {"channels", "slices", "frames"};
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < 3; i++) {
    if (n[i] <= 1) continue;
    int w = snprintf(buf + o, cap - o, "%s%d %s", o ? " x " : "", n[i], what[i]);
    if (w < 0 || (size_t)w >= cap - o) break;
    o += (size_t)w;
  }
}

bw_status bw_tiff_meta_check(const bw_tiff_meta *m, int spp, size_t npages, bw_error *err) {
  int c = 0, z = 0, t = 0;
  const char *what;
  if (m->imagej) {
    c = m->channels, z = m->z, t = m->t;
    what = "ImageJ hyperstack";
  } else if (m->ome.valid) {
    c = (int)m->ome.size_c, z = (int)m->ome.size_z, t = (int)m->ome.size_time;
    what = "OME-TIFF hyperstack";
  } else {
    return BW_OK;
  }
  /* Channels that are not the samples of a pixel are pages. */
  int pages_c = c > 1 && c != spp, pages_t = t > 1;
  if (pages_c || pages_t) {
    char axes[120], samples[40] = "";
    axes_text(axes, sizeof axes, c, z, t);
    if (spp > 1) snprintf(samples, sizeof samples, " (pixels of %d samples)", spp);
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "%s of %s%s: %s stored as pages are not read yet", what, axes, samples,
                        pages_c && pages_t ? "channels and time points"
                        : pages_c          ? "channels"
                                           : "time points");
  }
  /* The pages of several OME images (series) are not one volume. */
  int64_t planes = m->ome.size_z > 0 ? m->ome.size_z : 1;
  if (m->ome.valid && m->ome.images > 1 && (int64_t)npages > planes)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "the OME-XML describes %d images (series) and the file holds %zu pages, "
                        "more than the first image's %lld planes: pages of several images are "
                        "not read as one volume",
                        m->ome.images, npages, (long long)planes);
  return BW_OK;
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
