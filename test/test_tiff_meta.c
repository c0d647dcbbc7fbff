/*
 * Tests of the metadata of other writers: the OME-XML parser on XML
 * written here by hand (namespaces, units, missing and invalid attributes,
 * channel names, malformed and hostile input), the table of units, and
 * hyperstacks and channel names through the reader on files assembled by
 * the test's own TIFF builder.
 *
 * Oracles: the values written into the XML and the files here; for
 * hostile input, no crash, no leak (under the sanitizers) and no metadata.
 */
#define _XOPEN_SOURCE 700

#include "tiff_test_util.h"

#include "bw_tiff_internal.h" /* the parser and the units, not installed */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-12 * fabs(b))

static const char OME_HEAD[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">";

/* Parses @xml; the caller frees o. */
static int parse(const char *xml, bw_tiff_ome *o) { return bw_tiff_ome_parse(xml, strlen(xml), o); }

/* ------------------------------------------------------------------------ */
/* The parser                                                               */
/* ------------------------------------------------------------------------ */

void test_ome_parse(void) {
  bw_tiff_ome o;
  char xml[4096];
  /* tifffile's layout: default namespace, µm written out. */
  snprintf(xml, sizeof xml,
           "%s<Image ID=\"Image:0\"><Pixels ID=\"Pixels:0\" DimensionOrder=\"XYCZT\" "
           "Type=\"uint16\" SizeX=\"6\" SizeY=\"4\" SizeC=\"1\" SizeZ=\"5\" SizeT=\"1\" "
           "PhysicalSizeX=\"0.5\" PhysicalSizeXUnit=\"\xC2\xB5m\" PhysicalSizeY=\"250\" "
           "PhysicalSizeYUnit=\"nm\" PhysicalSizeZ=\"2\"><Channel ID=\"Channel:0:0\" "
           "SamplesPerPixel=\"1\"><LightPath/></Channel><TiffData IFD=\"0\" PlaneCount=\"5\"/>"
           "</Pixels></Image></OME>",
           OME_HEAD);
  CHECK(parse(xml, &o) == 1, "tifffile's OME-XML");
  CHECK(o.size_x == 6 && o.size_y == 4 && o.size_z == 5 && o.size_c == 1 && o.size_time == 1,
        "sizes %lld %lld %lld", (long long)o.size_x, (long long)o.size_y, (long long)o.size_z);
  CHECK(strcmp(o.dimension_order, "XYCZT") == 0 && strcmp(o.type, "uint16") == 0, "order, type");
  /* µm, nm, and Z without a unit: µm, the schema's default. */
  CHECK(NEAR(o.physical_mm[0], 0.5e-3) && NEAR(o.physical_mm[1], 250e-6) &&
            NEAR(o.physical_mm[2], 2e-3),
        "physical %g %g %g", o.physical_mm[0], o.physical_mm[1], o.physical_mm[2]);
  CHECK(o.images == 1 && o.channels == 1 && o.channel_spp[0] == 1 && !o.names[0], "channels");
  bw_tiff_ome_free(&o);

  /* Prefixed elements, declared or not; other units; names; a second
   * image that changes nothing but the count. */
  const char *prefixed[] = {
      "<ome:OME xmlns:ome=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">",
      "<ome:OME>",
  };
  for (int k = 0; k < 2; k++) {
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\"?>\n%s\n  <ome:Image><ome:Pixels SizeX=\"8\" SizeY=\"9\" "
             "SizeC=\"3\" SizeZ=\"1\" SizeT=\"1\" PhysicalSizeX=\"1.5\" "
             "PhysicalSizeXUnit=\"mm\" PhysicalSizeY=\"40\" PhysicalSizeYUnit=\"\xC3\x85\">"
             "<ome:Channel Name=\"DAPI\" SamplesPerPixel=\"1\"/><ome:Channel/>"
             "<ome:Channel Name=\"R&amp;D &#x3bc;\"/></ome:Pixels></ome:Image>"
             "<ome:Image><ome:Pixels SizeX=\"1\" PhysicalSizeX=\"9\"/></ome:Image></ome:OME>",
             prefixed[k]);
    CHECK(parse(xml, &o) == 1, "prefix %d", k);
    CHECK(o.size_x == 8 && o.size_y == 9 && o.size_c == 3 && o.images == 2, "prefix %d: sizes",
          k);
    CHECK(NEAR(o.physical_mm[0], 1.5) && NEAR(o.physical_mm[1], 40e-7) && o.physical_mm[2] == 0,
          "prefix %d: physical %g %g %g", k, o.physical_mm[0], o.physical_mm[1],
          o.physical_mm[2]);
    CHECK(o.channels == 3 && o.names[0] && strcmp(o.names[0], "DAPI") == 0 && !o.names[1] &&
              o.names[2] && strcmp(o.names[2], "R&D \xCE\xBC") == 0,
          "prefix %d: names", k);
    bw_tiff_ome_free(&o);
  }

  /* Missing and invalid attributes: nothing, but still OME-XML. */
  static const char *const bad_values[] = {"-3", "3.5", "abc", "99999999999", "", "0"};
  static const char *const bad_sizes[] = {"nan", "-1", "abc", "inf", "", "0"};
  for (size_t k = 0; k < sizeof bad_values / sizeof *bad_values; k++) {
    snprintf(xml, sizeof xml,
             "%s<Image><Pixels SizeX=\"%s\" SizeZ=\"%s\" PhysicalSizeX=\"%s\" "
             "PhysicalSizeY=\"1\" PhysicalSizeYUnit=\"pixel\" PhysicalSizeZ=\"1e400\" "
             "DimensionOrder=\"XYZCTXYZCT\"/></Image></OME>",
             OME_HEAD, bad_values[k], bad_values[k], bad_sizes[k]);
    CHECK(parse(xml, &o) == 1, "bad value %s", bad_values[k]);
    CHECK(o.size_x == 0 && o.size_z == 0 && o.size_c == 0 && o.physical_mm[0] == 0 &&
              o.physical_mm[1] == 0 && o.physical_mm[2] == 0 && o.dimension_order[0] == 0 &&
              o.type[0] == 0 && o.channels == 0,
          "bad value %s: %lld %g", bad_values[k], (long long)o.size_x, o.physical_mm[0]);
    bw_tiff_ome_free(&o);
  }

  /* Names: cut at 255 bytes on a character's start; at most
   * BW_TIFF_MAX_CHANNELS channels. */
  char *big = malloc(200000);
  CHECK(big, "malloc");
  size_t n = (size_t)snprintf(big, 200000, "%s<Image><Pixels SizeC=\"99\"><Channel Name=\"",
                              OME_HEAD);
  for (int i = 0; i < 150; i++) n += (size_t)sprintf(big + n, "\xC3\xA9"); /* é, 2 bytes */
  n += (size_t)sprintf(big + n, "\"/>");
  for (int c = 1; c < 99; c++) n += (size_t)sprintf(big + n, "<Channel Name=\"c%d\"/>", c);
  sprintf(big + n, "</Pixels></Image></OME>");
  int ok = parse(big, &o);
  free(big);
  CHECK(ok && o.channels == BW_TIFF_MAX_CHANNELS && o.size_c == 99, "99 channels: %d", o.channels);
  CHECK(o.names[0] && strlen(o.names[0]) == 254 && (unsigned char)o.names[0][252] == 0xC3,
        "long name cut to %zu bytes", o.names[0] ? strlen(o.names[0]) : 0);
  CHECK(o.names[BW_TIFF_MAX_CHANNELS - 1] &&
            strcmp(o.names[BW_TIFF_MAX_CHANNELS - 1], "c63") == 0,
        "last name kept");
  bw_tiff_ome_free(&o);

  /* Another encoding, declared: names come out in UTF-8. */
  snprintf(xml, sizeof xml,
           "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><OME><Image><Pixels>"
           "<Channel Name=\"5 \xB5m\"/></Pixels></Image></OME>");
  CHECK(parse(xml, &o) == 1 && o.names[0] && strcmp(o.names[0], "5 \xC2\xB5m") == 0,
        "Latin-1 name");
  bw_tiff_ome_free(&o);
}

/* Malformed, truncated and not-OME XML: nothing, and nothing leaks. */
void test_ome_malformed(void) {
  static const char *const cases[] = {
      "",
      "<",
      "not xml at all",
      "<OME><Image><Pixels SizeX=\"3\"></Image></OME>",                 /* mismatched */
      "<OME><Image><Pixels SizeX=\"3\"><Channel Name=\"a\"/></Pixels>", /* unclosed */
      "<OME><Image><Pixels SizeX=\"3\"/></Image></OME><OME/>",         /* two roots */
      "<OME><Image><Pixels SizeX=\"3\" SizeX=\"4\"/></Image></OME>",  /* duplicate */
      "<OME><Image><Pixels SizeX=\"&undefined;\"/></Image></OME>",
      "<OME><Image><Pixels SizeX=\"3\"/></Image></OME>\xFF\xFE",
      "<svg><Image><Pixels SizeX=\"3\"/></Image></svg>",                /* another root */
      "<OME><Pixels SizeX=\"3\"/></OME>",                               /* Pixels outside Image */
      "<OME><Image><Other><Pixels SizeX=\"3\"/></Other></Image></OME>", /* not a child */
      "<OME><Image/></OME>",                                            /* no Pixels */
      "<OME><Image><Pixels SizeX=\"3\"><Channel Name=\"\xC3\"/></Pixels></Image></OME>",
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    bw_tiff_ome o;
    int got = parse(cases[k], &o);
    int clean = o.valid == 0 && o.size_x == 0 && o.channels == 0 && !o.names[0];
    bw_tiff_ome_free(&o);
    CHECK(got == 0 && clean, "case %zu (%s) parsed as OME-XML", k, cases[k]);
  }
  CHECK(bw_tiff_ome_parse(NULL, 0, &(bw_tiff_ome){0}) == 0, "NULL");
  CHECK(bw_tiff_is_xml("  \n<OME/>") && bw_tiff_is_xml("\xEF\xBB\xBF<?xml?>") &&
            !bw_tiff_is_xml("ImageJ=1.53t\n") && !bw_tiff_is_xml("{\"shape\": [2, 3]}") &&
            !bw_tiff_is_xml(NULL),
        "XML or not");
}

/* Hostile XML: entities that expand (billion laughs, external entities),
 * nesting without end, a huge attribute, a description past the limit.
 * None may crash, hang or allocate without bound. */
void test_ome_hostile(void) {
  bw_tiff_ome o;
  const char *laughs =
      "<?xml version=\"1.0\"?><!DOCTYPE OME [<!ENTITY a \"aaaaaaaaaa\">"
      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
      "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
      "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
      "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">"
      "]><OME><Image><Pixels SizeX=\"3\"><Channel Name=\"&i;\"/></Pixels></Image></OME>";
  CHECK(parse(laughs, &o) == 0 && !o.names[0], "billion laughs parsed");
  bw_tiff_ome_free(&o);
  const char *external =
      "<?xml version=\"1.0\"?><!DOCTYPE OME [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<OME><Image><Pixels><Channel Name=\"&x;\"/></Pixels></Image></OME>";
  CHECK(parse(external, &o) == 0 && !o.names[0], "external entity parsed");
  bw_tiff_ome_free(&o);
  const char *param =
      "<?xml version=\"1.0\"?><!DOCTYPE OME [<!ENTITY % p SYSTEM \"http://example.invalid/x\">"
      "%p;]><OME><Image><Pixels/></Image></OME>";
  CHECK(parse(param, &o) == 0, "parameter entity parsed");
  bw_tiff_ome_free(&o);

  /* 1 000 000 nested elements (3 MB), inside the first Pixels too. */
  const size_t levels = 1000000;
  char *deep = malloc(3 * levels + 200);
  CHECK(deep, "malloc");
  size_t n = (size_t)sprintf(deep, "<OME><Image><Pixels SizeX=\"2\">");
  for (size_t i = 0; i < levels; i++, n += 3) memcpy(deep + n, "<a>", 3);
  deep[n] = '\0';
  int got = parse(deep, &o);
  bw_tiff_ome_free(&o);
  free(deep);
  CHECK(got == 0, "endless nesting parsed");

  /* Past the limit: cut there.  A first Pixels before the cut counts; a
   * huge attribute that crosses it gives nothing. */
  const size_t big = BW_TIFF_OME_MAX_BYTES + ((size_t)1 << 20);
  char *x = malloc(big + 1);
  CHECK(x, "malloc");
  n = (size_t)sprintf(x, "<OME><Image><Pixels SizeX=\"7\"/></Image>");
  while (n + 8 < big) n += (size_t)sprintf(x + n, "<Image/>");
  x[n] = '\0';
  got = parse(x, &o);
  int images = o.images;
  int64_t size_x = o.size_x;
  bw_tiff_ome_free(&o);
  if (got != 1 || size_x != 7) free(x);
  CHECK(got == 1 && size_x == 7, "long description cut: %d", got);
  CHECK(images > 1000, "%d images counted", images);
  n = (size_t)sprintf(x, "<OME><Image><Pixels SizeX=\"7\" Huge=\"");
  memset(x + n, 'x', big - n);
  x[big] = '\0';
  got = parse(x, &o);
  bw_tiff_ome_free(&o);
  free(x);
  CHECK(got == 0, "huge attribute parsed");
}

void test_units(void) {
  static const struct {
    const char *unit;
    double mm;
  } cases[] = {
      {"um", 1e-3},   {"\xC2\xB5m", 1e-3}, {"\xCE\xBCm", 1e-3}, {"\\u00B5m", 1e-3},
      {"\\u00b5m", 1e-3}, {"micron", 1e-3}, {"Microns", 1e-3},  {"nm", 1e-6},
      {"pm", 1e-9},   {"\xC3\x85", 1e-7},  {"mm", 1},           {"cm", 10},
      {"m", 1000},    {"meter", 1000},     {"km", 1e6},         {"inch", 25.4},
      {"INCH", 25.4}, {"in", 25.4},        {"pt", 25.4 / 72},   {"Mm", 0},
      {"MM", 0},      {"pixel", 0},        {"", 0},             {"u m", 0},
      {"reference frame", 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    double got = bw_tiff_unit_mm(cases[k].unit, strlen(cases[k].unit));
    CHECK(cases[k].mm == 0 ? got == 0 : NEAR(got, cases[k].mm), "%s: %g mm, want %g",
          cases[k].unit, got, cases[k].mm);
  }
  CHECK(bw_tiff_unit_mm("umx", 2) == 1e-3 && bw_tiff_unit_mm(NULL, 0) == 0, "length, NULL");
}

/* ------------------------------------------------------------------------ */
/* Through the reader                                                       */
/* ------------------------------------------------------------------------ */

/* Builds @npages pages of 3 x 2 pixels of @spp 8-bit samples, the first
 * with description @desc, into *f (free f->b after closing the reader),
 * and opens them: the status, the reader in *out (on success). */
static bw_status open_built(int npages, int spp, const char *desc, tb_file *f,
                            bw_tiff_reader **out, bw_error *e) {
  static const uint8_t pix[6 * 8];
  static const uint64_t bits[8] = {8, 8, 8, 8, 8, 8, 8, 8};
  tb_page pg[8];
  for (int p = 0; p < npages; p++) {
    tb_grey(&pg[p], 3, 2, 8, 1, pix, (size_t)(6 * spp));
    tb_set(&pg[p], 277, T_SHORT, (uint64_t)spp);
    tb_tag b = {258, T_SHORT, (uint32_t)spp, {8, 0}, spp > 1 ? bits : NULL, NULL, 0};
    tb_set_tag(&pg[p], &b);
    if (desc && p == 0) {
      tb_tag d = {270, T_ASCII, 0, {0, 0}, NULL, desc, 0};
      tb_set_tag(&pg[p], &d);
    }
  }
  tb_build(f, 0, pg, npages);
  *out = NULL;
  return bw_tiff_open_memory(f->b, f->n, out, e);
}

/* Hyperstacks declined with a message that names what is stored as
 * pages; stacks of slices, and channels that are samples, read. */
void test_meta_hyperstacks(void) {
  static const struct {
    const char *desc;
    int pages, spp;
    bw_status want;
    const char *says; /* in the message, or the description format */
    int ndim, c, z, t;
  } cases[] = {
      {"ImageJ=1.53t\nimages=6\nchannels=3\nslices=2\nhyperstack=true\nmode=composite\n", 6, 1,
       BW_ERR_UNSUPPORTED, "ImageJ hyperstack of 3 channels x 2 slices: channels stored as pages", 0, 0, 0, 0},
      {"ImageJ=1.53t\nimages=4\nslices=2\nframes=2\n", 4, 1, BW_ERR_UNSUPPORTED,
       "2 slices x 2 frames: time points stored as pages", 0, 0, 0, 0},
      {"ImageJ=1.53t\nimages=4\nchannels=2\nframes=2\n", 4, 1, BW_ERR_UNSUPPORTED,
       "channels and time points stored as pages", 0, 0, 0, 0},
      {"ImageJ=1.53t\nimages=6\nchannels=2\nslices=3\n", 6, 3, BW_ERR_UNSUPPORTED,
       "(pixels of 3 samples): channels stored", 0, 0, 0, 0},
      {"ImageJ=1.53t\nimages=3\nslices=3\nunit=um\nspacing=4\n", 3, 1, BW_OK, "ImageJ", 3, 1, 3,
       1},
      {"ImageJ=1.53t\nimages=1\nchannels=3\n", 1, 3, BW_OK, "ImageJ", 2, 3, 1, 1},
      {"ImageJ=1.53t\nimages=4\n", 4, 1, BW_OK, "ImageJ", 3, 1, 4, 1},
      {"<OME><Image><Pixels SizeC=\"3\" SizeZ=\"2\" SizeT=\"1\"/></Image></OME>", 6, 1,
       BW_ERR_UNSUPPORTED, "OME-TIFF hyperstack of 3 channels x 2 slices: channels stored", 0, 0, 0, 0},
      {"<OME><Image><Pixels SizeC=\"1\" SizeZ=\"1\" SizeT=\"3\"/></Image></OME>", 3, 1,
       BW_ERR_UNSUPPORTED, "OME-TIFF hyperstack of 3 frames: time points stored", 0, 0, 0, 0},
      {"<OME><Image><Pixels SizeC=\"3\" SizeZ=\"2\" SizeT=\"1\"/></Image></OME>", 2, 3, BW_OK,
       "OME-XML", 3, 3, 2, 1},
      {"<OME><Image><Pixels SizeZ=\"1\"/></Image><Image><Pixels SizeZ=\"1\"/></Image></OME>", 2, 1,
       BW_ERR_UNSUPPORTED, "2 images (series)", 0, 0, 0, 0},
      {"<OME><Image><Pixels SizeZ=\"2\"/></Image><Image><Pixels SizeZ=\"1\"/></Image></OME>", 2, 1,
       BW_OK, "OME-XML", 3, 0, 2, 0},
      /* Broken OME-XML is no OME-XML: read as before. */
      {"<OME><Image><Pixels SizeC=\"3\" SizeZ=\"2\"></Image></OME>", 6, 1, BW_OK, "other", 3, 0,
       0, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    tb_file f;
    bw_status st = open_built(cases[k].pages, cases[k].spp, cases[k].desc, &f, &r, &e);
    if (cases[k].want != BW_OK) {
      bw_tiff_close(r);
      free(f.b);
      CHECK(st == cases[k].want && !r, "case %zu: %s (%s)", k, bw_status_string(st), e.message);
      CHECK(strstr(e.message, cases[k].says), "case %zu: message \"%s\" lacks \"%s\"", k,
            e.message, cases[k].says);
      continue;
    }
    CHECK(st == BW_OK, "case %zu: %s", k, e.message);
    const bw_tiff_info *in = bw_tiff_reader_info(r);
    int ok = in->ndim == cases[k].ndim && strcmp(in->description_format, cases[k].says) == 0 &&
             in->meta_channels == cases[k].c && in->meta_z == cases[k].z &&
             in->meta_t == cases[k].t && in->channels == cases[k].spp;
    char got[200];
    snprintf(got, sizeof got, "%d-D, %s, c %d z %d t %d", in->ndim, in->description_format,
             in->meta_channels, in->meta_z, in->meta_t);
    bw_tiff_close(r);
    free(f.b);
    CHECK(ok, "case %zu: %s", k, got);
  }
  /* A hostile description opens as a file without metadata. */
  char *deep = malloc(300000);
  CHECK(deep, "malloc");
  size_t n = (size_t)sprintf(deep, "<OME><Image><Pixels SizeC=\"3\" PhysicalSizeX=\"1\">");
  while (n + 3 < 300000 - 1) n += (size_t)sprintf(deep + n, "<a>");
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  tb_file f;
  bw_status st = open_built(3, 1, deep, &f, &r, &e);
  free(deep);
  if (st != BW_OK) free(f.b);
  CHECK(st == BW_OK, "deep XML: %s", e.message);
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  int ok = in->ndim == 3 && strcmp(in->description_format, "other") == 0 && !in->spacing_stated &&
           in->spacing[2] == 1;
  bw_tiff_close(r);
  free(f.b);
  CHECK(ok, "deep XML: metadata taken");
}

/* Channel names of OME-XML: one Channel element per sample; none for a
 * Channel of several samples; spacing from PhysicalSize. */
void test_meta_channel_names(void) {
  char desc[1000];
  snprintf(desc, sizeof desc,
           "%s<Image><Pixels SizeC=\"3\" SizeZ=\"1\" SizeT=\"1\" PhysicalSizeX=\"0.25\" "
           "PhysicalSizeY=\"0.5\" PhysicalSizeYUnit=\"mm\"><Channel Name=\"DAPI\" "
           "SamplesPerPixel=\"1\"/><Channel SamplesPerPixel=\"1\"/><Channel Name=\"Cy5\"/>"
           "</Pixels></Image></OME>",
           OME_HEAD);
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  tb_file f;
  CHECK(open_built(1, 3, desc, &f, &r, &e) == BW_OK, "%s", e.message);
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  const char *n0 = bw_tiff_channel_name(r, 0), *n1 = bw_tiff_channel_name(r, 1),
             *n2 = bw_tiff_channel_name(r, 2);
  int names = n0 && strcmp(n0, "DAPI") == 0 && !n1 && n2 && strcmp(n2, "Cy5") == 0 &&
              !bw_tiff_channel_name(r, 3) && !bw_tiff_channel_name(r, -1) &&
              !bw_tiff_channel_name(NULL, 0);
  int spacing = in->ndim == 2 && NEAR(in->spacing[1], 0.25e-3) && NEAR(in->spacing[0], 0.5) &&
                in->spacing_stated == 1 && strcmp(in->spacing_source, "OME-XML") == 0;
  bw_tiff_close(r);
  free(f.b);
  CHECK(names, "names");
  CHECK(spacing, "spacing");

  snprintf(desc, sizeof desc,
           "%s<Image><Pixels SizeC=\"3\"><Channel Name=\"RGB\" SamplesPerPixel=\"3\"/>"
           "</Pixels></Image></OME>",
           OME_HEAD);
  CHECK(open_built(1, 3, desc, &f, &r, &e) == BW_OK, "%s", e.message);
  in = bw_tiff_reader_info(r);
  names = !bw_tiff_channel_name(r, 0) && !bw_tiff_channel_name(r, 2);
  spacing = in->spacing_stated == 0 && strcmp(in->spacing_source, "none") == 0 &&
            in->spacing[0] == 1 && in->spacing[1] == 1;
  bw_tiff_close(r);
  free(f.b);
  CHECK(names, "one Channel of 3 samples: no names");
  CHECK(spacing, "no PhysicalSize, no resolution tags: not stated");
}
