/* OME-XML, the ImageDescription of OME-TIFF files, parsed with expat: what
 * the first Image's Pixels element says of the image (sizes, dimension
 * order, pixel type, physical sizes and their units) and the names of its
 * channels.  Nothing else of the XML is kept.
 *
 * Element names are matched by their local name, so the OME namespace may
 * be the default one or have any prefix ("ome:Pixels"); the parser runs
 * without namespace processing, so an undeclared prefix is no error.
 * Hostile input is bounded: at most BW_TIFF_OME_MAX_BYTES are parsed, no
 * element nests deeper than BW_TIFF_OME_MAX_DEPTH, a DTD that declares
 * entities stops the parser (OME-XML has none; this also keeps entity
 * expansion out, on top of expat's own amplification limit), and names are
 * cut to BW_TIFF_NAME_MAX - 1 bytes.  Any XML error makes the whole
 * description count as no OME-XML. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_internal.h"

#include <expat.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bytes handed to expat at a time. */
#define CHUNK ((size_t)1 << 16)

typedef struct ome_parse {
  XML_Parser p;
  bw_tiff_ome *o;
  int depth;        /* of the element being read: the root is 1 */
  int failed;       /* stopped for hostile input */
  int image_depth;  /* depth of the first Image element, 0 outside it */
  int pixels_depth; /* depth of its first Pixels element, 0 outside it */
  int pixels_seen;  /* that Pixels element was started */
  int pixels_done;  /* ... and ended */
} ome_parse;

/* The local name of an element or attribute: past any prefix. */
static const char *local_name(const char *name) {
  const char *colon = strrchr(name, ':');
  return colon ? colon + 1 : name;
}

/* A count from 1 to 2^31 - 1, blanks around it allowed; 0 otherwise. */
static int64_t parse_count(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  int64_t v = 0;
  int digits = 0;
  for (; *s >= '0' && *s <= '9'; s++, digits++) {
    v = v * 10 + (*s - '0');
    if (v > INT32_MAX) return 0;
  }
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  return digits && *s == '\0' ? v : 0;
}

/* Copies @s into @dst of @cap bytes when it fits; "" otherwise. */
static void copy_short(char *dst, size_t cap, const char *s) {
  size_t n = strlen(s);
  if (n >= cap) n = 0;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* A copy of @s cut to BW_TIFF_NAME_MAX - 1 bytes (at a UTF-8 character's
 * start), or NULL when out of memory. */
static char *copy_name(const char *s) {
  size_t n = strlen(s);
  if (n > BW_TIFF_NAME_MAX - 1) {
    n = BW_TIFF_NAME_MAX - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  }
  char *c = (char *)malloc(n + 1);
  if (!c) return NULL;
  memcpy(c, s, n);
  c[n] = '\0';
  return c;
}

/* Millimetres of a physical size attribute's @value in @unit (NULL when
 * the unit attribute is missing: micrometres, the schema's default); 0
 * when missing, invalid or in a unit that is not a known length. */
static double physical_mm(const char *value, const char *unit) {
  double v = 0;
  if (!value || !bw_tiff_parse_double(value, strlen(value), &v) || !isfinite(v) || !(v > 0))
    return 0;
  double per = unit ? bw_tiff_unit_mm(unit, strlen(unit)) : 1e-3;
  double mm = v * per;
  return isfinite(mm) && mm > 0 ? mm : 0;
}

static void read_pixels(bw_tiff_ome *o, const XML_Char **attr) {
  static const char *const size_keys[] = {"PhysicalSizeX", "PhysicalSizeY", "PhysicalSizeZ"};
  static const char *const unit_keys[] = {"PhysicalSizeXUnit", "PhysicalSizeYUnit",
                                          "PhysicalSizeZUnit"};
  const char *size[3] = {NULL, NULL, NULL}, *unit[3] = {NULL, NULL, NULL};
  for (int i = 0; attr[i] && attr[i + 1]; i += 2) {
    const char *k = local_name(attr[i]), *v = attr[i + 1];
    if (strcmp(k, "SizeX") == 0) o->size_x = parse_count(v);
    else if (strcmp(k, "SizeY") == 0) o->size_y = parse_count(v);
    else if (strcmp(k, "SizeZ") == 0) o->size_z = parse_count(v);
    else if (strcmp(k, "SizeC") == 0) o->size_c = parse_count(v);
    else if (strcmp(k, "SizeT") == 0) o->size_time = parse_count(v);
    else if (strcmp(k, "DimensionOrder") == 0)
      copy_short(o->dimension_order, sizeof o->dimension_order, v);
    else if (strcmp(k, "Type") == 0) copy_short(o->type, sizeof o->type, v);
    for (int a = 0; a < 3; a++) {
      if (strcmp(k, size_keys[a]) == 0) size[a] = v;
      if (strcmp(k, unit_keys[a]) == 0) unit[a] = v;
    }
  }
  for (int a = 0; a < 3; a++) o->physical_mm[a] = physical_mm(size[a], unit[a]);
}

static void read_channel(bw_tiff_ome *o, const XML_Char **attr) {
  if (o->channels >= BW_TIFF_MAX_CHANNELS) return;
  int c = o->channels++;
  for (int i = 0; attr[i] && attr[i + 1]; i += 2) {
    const char *k = local_name(attr[i]);
    if (strcmp(k, "SamplesPerPixel") == 0) {
      int64_t n = parse_count(attr[i + 1]);
      o->channel_spp[c] = n <= BW_TIFF_MAX_CHANNELS ? (int)n : 0;
    } else if (strcmp(k, "Name") == 0 && !o->names[c]) {
      o->names[c] = copy_name(attr[i + 1]);
    }
  }
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attr) {
  ome_parse *s = (ome_parse *)data;
  if (++s->depth > BW_TIFF_OME_MAX_DEPTH) {
    s->failed = 1;
    XML_StopParser(s->p, XML_FALSE);
    return;
  }
  const char *n = local_name(name);
  if (s->depth == 1) {
    if (strcmp(n, "OME") != 0) {
      s->failed = 1;
      XML_StopParser(s->p, XML_FALSE);
    }
    return;
  }
  if (strcmp(n, "Image") == 0) {
    s->o->images++;
    if (s->o->images == 1) s->image_depth = s->depth;
  } else if (strcmp(n, "Pixels") == 0 && s->image_depth && s->depth == s->image_depth + 1 &&
             !s->pixels_seen) {
    s->pixels_seen = 1;
    s->pixels_depth = s->depth;
    read_pixels(s->o, attr);
  } else if (strcmp(n, "Channel") == 0 && s->pixels_depth && s->depth == s->pixels_depth + 1) {
    read_channel(s->o, attr);
  }
}

static void XMLCALL on_end(void *data, const XML_Char *name) {
  ome_parse *s = (ome_parse *)data;
  (void)name;
  if (s->depth == s->pixels_depth) {
    s->pixels_depth = 0;
    s->pixels_done = 1;
  }
  if (s->depth == s->image_depth) s->image_depth = 0;
  s->depth--;
}

/* Any entity declaration (internal or external, general or parameter):
 * OME-XML has no DTD, so this is not OME-XML. */
static void XMLCALL on_entity(void *data, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_length, const XML_Char *base,
                              const XML_Char *system_id, const XML_Char *public_id,
                              const XML_Char *notation) {
  ome_parse *s = (ome_parse *)data;
  (void)name, (void)is_param, (void)value, (void)value_length, (void)base, (void)system_id,
      (void)public_id, (void)notation;
  s->failed = 1;
  XML_StopParser(s->p, XML_FALSE);
}

int bw_tiff_is_xml(const char *desc) {
  if (!desc) return 0;
  const unsigned char *p = (const unsigned char *)desc;
  if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return *p == '<';
}

int bw_tiff_ome_parse(const char *xml, size_t len, bw_tiff_ome *o) {
  memset(o, 0, sizeof *o);
  if (!xml) return 0;
  /* The encoding is the document's (UTF-8 without a declaration); names
   * come out in UTF-8. */
  XML_Parser p = XML_ParserCreate(NULL);
  if (!p) return 0;
  ome_parse s;
  memset(&s, 0, sizeof s);
  s.p = p;
  s.o = o;
  XML_SetUserData(p, &s);
  XML_SetElementHandler(p, on_start, on_end);
  XML_SetEntityDeclHandler(p, on_entity);
  XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
  /* A description cut at the limit is not parsed to its end: it counts
   * when its first Pixels element ended before the cut. */
  int cut = len > BW_TIFF_OME_MAX_BYTES;
  if (cut) len = BW_TIFF_OME_MAX_BYTES;
  int ok = 1;
  for (size_t at = 0; ok && !s.failed && (at < len || (at == 0 && len == 0));) {
    size_t n = len - at < CHUNK ? len - at : CHUNK;
    int last = at + n == len && !cut;
    ok = XML_Parse(p, xml + at, (int)n, last) == XML_STATUS_OK;
    at += n;
    if (n == 0) break;
  }
  XML_ParserFree(p);
  o->valid = ok && !s.failed && s.pixels_done;
  if (!o->valid) bw_tiff_ome_free(o);
  if (!o->valid) memset(o, 0, sizeof *o);
  return o->valid;
}

void bw_tiff_ome_free(bw_tiff_ome *o) {
  if (!o) return;
  for (int c = 0; c < BW_TIFF_MAX_CHANNELS; c++) {
    free(o->names[c]);
    o->names[c] = NULL;
  }
}
