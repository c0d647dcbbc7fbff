/*
 * tiff_tool: a test-only command line over bw_tiff.h, used by the Python
 * interoperability tests and to make the fuzzer's seed files.
 *
 *   tiff_tool info FILE [--level N]
 *       prints the file's bw_tiff_info, its band units (rows, and pages of
 *       a volume), its channel names (null when unknown) and its levels, as
 *       one JSON line
 *   tiff_tool read FILE OUT.raw [--level N] [--channels FIRST,COUNT] [--planar]
 *       [--convert NAME [--f64]] [START... SIZE...]
 *       writes the region (default: everything) as raw native-endian
 *       C-order bytes, channels last (..., Y, X, C) or, with --planar,
 *       first (C, ..., Y, X); all channels, or COUNT from FIRST; or, with
 *       --convert, the one channel bw_tiff_read_channel() makes by the
 *       core's conversion NAME (bw_channel_from_name: luminance, od, ...,
 *       a channel number), as float32 (float64 with --f64; with a channel
 *       number and no --f64, the file's dtype); prints the reader's
 *       counters as one JSON line
 *   tiff_tool counters FILE START... SIZE...
 *       reads the region and prints the counters and the file size
 *   tiff_tool write IN.raw OUT.tif --dtype D --shape [Z,]Y,X
 *       [--compression none|lzw|deflate|packbits|zstd (any case)] [--level N]
 *       [--predictor] [--tiled WxL] [--rows-per-strip N] [--bigtiff -1|0|1]
 *       [--spacing [z,]y,x] [--pieces N]
 *       writes IN.raw (native-endian, C order) with bw_tiff_write, each
 *       page in N row bands (N = 0: the whole image in one call)
 *
 * Errors print one line on stderr and exit with status 1 (2 for usage).
 */
#include "bw_tiff.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
  fprintf(stderr,
          "usage: tiff_tool info FILE [--level N]\n"
          "       tiff_tool read FILE OUT.raw [--level N] [--channels FIRST,COUNT] [--planar]\n"
          "                 [--convert NAME [--f64]] [START... SIZE...]\n"
          "       tiff_tool counters FILE START... SIZE...\n"
          "       tiff_tool write IN.raw OUT.tif --dtype D --shape [Z,]Y,X [options]\n");
  return 2;
}

static int fail(const bw_error *e) {
  fprintf(stderr, "tiff_tool: %s: %s\n", bw_status_string(e->status), e->message);
  return 1;
}

static bw_dtype parse_dtype(const char *s) {
  static const bw_dtype all[] = {BW_U8, BW_I8, BW_U16, BW_I16, BW_U32, BW_I32, BW_F32, BW_F64};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (strcmp(s, bw_dtype_name(all[i])) == 0) return all[i];
  return (bw_dtype)0;
}

/* Parses up to max comma-separated numbers; returns how many, or -1. */
static int parse_doubles(const char *s, double *v, int max) {
  int n = 0;
  while (*s && n < max) {
    char *end;
    v[n++] = strtod(s, &end);
    if (end == s) return -1;
    s = end;
    if (*s == ',') s++;
    else if (*s) return -1;
  }
  return *s ? -1 : n;
}

/* The same, for integers (of at most 2^53). */
static int parse_list(const char *s, int64_t *v, int max) {
  double d[3];
  int n = parse_doubles(s, d, max < 3 ? max : 3);
  for (int i = 0; i < n; i++) {
    if (!(d[i] >= -9007199254740992.0 && d[i] <= 9007199254740992.0) ||
        d[i] != (double)(int64_t)d[i])
      return -1;
    v[i] = (int64_t)d[i];
  }
  return n;
}

/* @s as a JSON string (UTF-8 passed through; quotes, backslashes and
 * control characters escaped), or null for NULL. */
static void print_json_string(const char *s) {
  if (!s) {
    printf("null");
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static void print_info(const bw_tiff_reader *r) {
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  printf("{\"dtype\": \"%s\", \"ndim\": %d, \"shape\": [", bw_dtype_name(in->dtype), in->ndim);
  for (int i = 0; i < in->ndim; i++) printf("%s%lld", i ? ", " : "", (long long)in->shape[i]);
  printf("], \"spacing\": [");
  for (int i = 0; i < in->ndim; i++) printf("%s%.17g", i ? ", " : "", in->spacing[i]);
  printf("], \"tiled\": %d, \"tile_width\": %u, \"tile_length\": %u, \"rows_per_strip\": %u, "
         "\"compression\": %d, \"compression_name\": \"%s\", \"bigtiff\": %d, "
         "\"big_endian\": %d, \"band_rows\": %lld, \"band_pages\": %lld, \"channels\": %d, "
         "\"color\": %d, \"alpha\": %d, \"planar\": %d, \"bits_per_sample\": %d, "
         "\"photometric\": \"%s\", \"level\": %d, ",
         in->tiled, in->tile_width, in->tile_length, in->rows_per_strip, in->compression,
         in->compression_name, in->bigtiff, in->big_endian,
         (long long)bw_tiff_band_unit(r, in->ndim - 2),
         (long long)(in->ndim == 3 ? bw_tiff_band_unit(r, 0) : 0), in->channels, (int)in->color,
         in->alpha, in->planar, in->bits_per_sample, in->photometric_name, in->level);
  printf("\"spacing_stated\": %d, \"spacing_source\": \"%s\", \"description_format\": \"%s\", "
         "\"meta_channels\": %d, \"meta_z\": %d, \"meta_t\": %d, \"channel_names\": [",
         in->spacing_stated, in->spacing_source, in->description_format, in->meta_channels,
         in->meta_z, in->meta_t);
  for (int c = 0; c < in->channels; c++) {
    if (c) printf(", ");
    print_json_string(bw_tiff_channel_name(r, c));
  }
  printf("], \"levels\": [");
  for (int k = 0; k < in->levels; k++) {
    bw_tiff_level lv;
    if (bw_tiff_reader_level(r, k, &lv, NULL) != BW_OK) continue;
    printf("%s{\"shape\": [", k ? ", " : "");
    for (int i = 0; i < in->ndim; i++) printf("%s%lld", i ? ", " : "", (long long)lv.shape[i]);
    printf("], \"spacing\": [");
    for (int i = 0; i < in->ndim; i++) printf("%s%.17g", i ? ", " : "", lv.spacing[i]);
    printf("], \"downsample\": %.17g}", lv.downsample);
  }
  printf("]}\n");
}

/* "--level N" at argv[*i]: N into *level, *i past it; 0 when argv[*i] is
 * not that option, -1 when N is missing. */
static int level_option(int argc, char **argv, int *i, int *level) {
  if (*i >= argc || strcmp(argv[*i], "--level") != 0) return 0;
  if (*i + 1 >= argc) return -1;
  *level = atoi(argv[*i + 1]);
  *i += 2;
  return 1;
}

/* Region from argv (ndim starts then ndim sizes), or the whole image. */
static int parse_region(const bw_tiff_info *in, int argc, char **argv, bw_region *reg) {
  memset(reg, 0, sizeof *reg);
  if (argc == 0) {
    for (int i = 0; i < in->ndim; i++) reg->size[i] = (ptrdiff_t)in->shape[i];
    return 0;
  }
  if (argc != 2 * in->ndim) return -1;
  for (int i = 0; i < in->ndim; i++) {
    reg->start[i] = (ptrdiff_t)strtoll(argv[i], NULL, 10);
    reg->size[i] = (ptrdiff_t)strtoll(argv[in->ndim + i], NULL, 10);
  }
  return 0;
}

static int cmd_read(int argc, char **argv, int write_out) {
  /* argv: FILE [OUT] [--channels FIRST,COUNT] [--planar] region... */
  bw_error e = {BW_OK, ""};
  bw_tiff_reader *r = NULL;
  int skip = write_out ? 2 : 1, level = 0, got;
  while ((got = level_option(argc, argv, &skip, &level)) != 0)
    if (got < 0) return usage();
  if (bw_tiff_open_level(argv[0], level, &r, &e) != BW_OK) return fail(&e);
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  int first = 0, count = in->channels, planar = 0, f64 = 0;
  const char *convert = NULL;
  while (skip < argc && strncmp(argv[skip], "--", 2) == 0) {
    if (strcmp(argv[skip], "--planar") == 0) {
      planar = 1;
      skip++;
    } else if (strcmp(argv[skip], "--f64") == 0) {
      f64 = 1;
      skip++;
    } else if (strcmp(argv[skip], "--convert") == 0 && skip + 1 < argc) {
      convert = argv[skip + 1];
      skip += 2;
    } else if (strcmp(argv[skip], "--channels") == 0 && skip + 1 < argc &&
               sscanf(argv[skip + 1], "%d,%d", &first, &count) == 2) {
      skip += 2;
    } else {
      bw_tiff_close(r);
      return usage();
    }
  }
  bw_region reg;
  if (parse_region(in, argc - skip, argv + skip, &reg) != 0 || count < 1 ||
      count > BW_TIFF_MAX_CHANNELS) {
    bw_tiff_close(r);
    return usage();
  }
  bw_channel_params conv;
  bw_channel_params_init(&conv);
  bw_dtype out_type = in->dtype;
  if (convert) {
    if (bw_channel_from_name(convert, &conv, &e) != BW_OK) {
      bw_tiff_close(r);
      return fail(&e);
    }
    out_type = f64 ? BW_F64 : conv.op == BW_CHANNEL_INDEX ? in->dtype : BW_F32;
    count = 1;
  }
  size_t esize = bw_dtype_size(out_type), n = esize * (size_t)count;
  for (int i = 0; i < in->ndim; i++) {
    if (reg.size[i] < 1 || (size_t)reg.size[i] > SIZE_MAX / 2 / n) {
      n = 0;
      break;
    }
    n *= (size_t)reg.size[i];
  }
  if (n == 0) {
    /* Let the library report the bad region. */
    char one[8];
    bw_view v = bw_view_contiguous(one, in->dtype, in->ndim, reg.size);
    bw_tiff_read_channels(r, &reg, first, 1, &v, &e);
    bw_tiff_close(r);
    return fail(&e);
  }
  void *buf = malloc(n);
  if (!buf) {
    bw_tiff_close(r);
    fprintf(stderr, "tiff_tool: out of memory\n");
    return 1;
  }
  /* One view per channel: interleaved (channel c at element c of each
   * pixel) or planar (channel c at plane c). */
  bw_view views[BW_TIFF_MAX_CHANNELS];
  size_t plane = n / (size_t)count;
  for (int c = 0; c < count; c++) {
    views[c] = bw_view_contiguous((char *)buf + (planar ? (size_t)c * plane : (size_t)c * esize),
                                  out_type, in->ndim, reg.size);
    if (!planar)
      for (int i = 0; i < in->ndim; i++) views[c].strides[i] *= count;
  }
  const bw_status st = convert ? bw_tiff_read_channel(r, &reg, &conv, &views[0], &e)
                               : bw_tiff_read_channels(r, &reg, first, count, views, &e);
  if (st != BW_OK) {
    free(buf);
    bw_tiff_close(r);
    return fail(&e);
  }
  int rc = 0;
  if (write_out) {
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
      fprintf(stderr, "tiff_tool: cannot write %s\n", argv[1]);
      rc = 1;
    }
  }
  bw_tiff_counters c;
  bw_tiff_reader_counters(r, &c);
  FILE *f = fopen(argv[0], "rb");
  long long fsize = -1;
  if (f && fseek(f, 0, SEEK_END) == 0) fsize = ftell(f);
  if (f) fclose(f);
  printf("{\"bytes_read\": %llu, \"chunks_decoded\": %llu, \"file_size\": %lld}\n",
         (unsigned long long)c.bytes_read, (unsigned long long)c.chunks_decoded, fsize);
  free(buf);
  bw_tiff_close(r);
  return rc;
}

static int cmd_write(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *in_path = argv[0], *out_path = argv[1];
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  int pieces = 1, have_shape = 0, have_dtype = 0;
  double spacing[3];
  int nspacing = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--predictor") == 0) {
      p.predictor = 1;
      continue;
    }
    if (!v) return usage();
    i++;
    if (strcmp(a, "--dtype") == 0) {
      p.dtype = parse_dtype(v);
      have_dtype = 1;
    } else if (strcmp(a, "--shape") == 0) {
      int n = parse_list(v, p.shape, 3);
      if (n < 2) return usage();
      p.ndim = n;
      have_shape = 1;
    } else if (strcmp(a, "--compression") == 0) {
      if (bw_tiff_compression_from_name(v, &p.compression, NULL) != BW_OK) return usage();
    } else if (strcmp(a, "--level") == 0) {
      p.level = atoi(v);
    } else if (strcmp(a, "--tiled") == 0) {
      unsigned tw, tl;
      if (sscanf(v, "%ux%u", &tw, &tl) != 2) return usage();
      p.tiled = 1;
      p.tile_width = tw;
      p.tile_length = tl;
    } else if (strcmp(a, "--rows-per-strip") == 0) {
      p.rows_per_strip = (uint32_t)strtoul(v, NULL, 10);
    } else if (strcmp(a, "--bigtiff") == 0) {
      p.bigtiff = atoi(v);
    } else if (strcmp(a, "--spacing") == 0) {
      nspacing = parse_doubles(v, spacing, 3);
      if (nspacing < 2) return usage();
    } else if (strcmp(a, "--pieces") == 0) {
      pieces = atoi(v);
    } else {
      return usage();
    }
  }
  if (!have_shape || !have_dtype || pieces < 0) return usage();
  if (nspacing) {
    if (nspacing != p.ndim) return usage();
    for (int i = 0; i < nspacing; i++) p.spacing[i] = spacing[i];
  }
  size_t es = bw_dtype_size(p.dtype);
  if (es == 0) return usage();
  size_t n = es;
  for (int i = 0; i < p.ndim; i++) n *= (size_t)p.shape[i];
  void *buf = malloc(n ? n : 1);
  FILE *f = fopen(in_path, "rb");
  if (!buf || !f || fread(buf, 1, n, f) != n) {
    fprintf(stderr, "tiff_tool: cannot read %zu bytes from %s\n", n, in_path);
    if (f) fclose(f);
    free(buf);
    return 1;
  }
  fclose(f);

  bw_error e = {BW_OK, ""};
  bw_tiff_writer *w = NULL;
  if (bw_tiff_create(out_path, &p, &w, &e) != BW_OK) {
    free(buf);
    return fail(&e);
  }
  ptrdiff_t shape[3] = {(ptrdiff_t)p.shape[0], (ptrdiff_t)p.shape[1], (ptrdiff_t)p.shape[2]};
  bw_view all = bw_view_contiguous(buf, p.dtype, p.ndim, shape);
  int nd = p.ndim;
  ptrdiff_t pages = nd == 3 ? shape[0] : 1, rows = shape[nd - 2];
  bw_status st = BW_OK;
  if (pieces == 0) {
    bw_region reg;
    memset(&reg, 0, sizeof reg);
    for (int i = 0; i < nd; i++) reg.size[i] = shape[i];
    st = bw_tiff_write(w, &reg, &all, &e);
  } else {
    ptrdiff_t band = (rows + pieces - 1) / pieces;
    for (ptrdiff_t z = 0; z < pages && st == BW_OK; z++)
      for (ptrdiff_t y = 0; y < rows && st == BW_OK; y += band) {
        bw_region reg;
        memset(&reg, 0, sizeof reg);
        int ay = nd - 2;
        if (nd == 3) {
          reg.start[0] = z;
          reg.size[0] = 1;
        }
        reg.start[ay] = y;
        reg.size[ay] = band < rows - y ? band : rows - y;
        reg.size[nd - 1] = shape[nd - 1];
        bw_view sub;
        st = bw_view_subview(&all, &reg, &sub, &e);
        if (st == BW_OK) st = bw_tiff_write(w, &reg, &sub, &e);
      }
  }
  free(buf);
  if (st != BW_OK) {
    bw_tiff_abort(w);
    return fail(&e);
  }
  if (bw_tiff_finish(w, &e) != BW_OK) return fail(&e);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return usage();
  const char *cmd = argv[1];
  if (strcmp(cmd, "info") == 0) {
    int i = 3, level = 0;
    if (level_option(argc, argv, &i, &level) < 0 || i != argc) return usage();
    bw_error e = {BW_OK, ""};
    bw_tiff_reader *r = NULL;
    if (bw_tiff_open_level(argv[2], level, &r, &e) != BW_OK) return fail(&e);
    print_info(r);
    bw_tiff_close(r);
    return 0;
  }
  if (strcmp(cmd, "read") == 0) return argc >= 4 ? cmd_read(argc - 2, argv + 2, 1) : usage();
  if (strcmp(cmd, "counters") == 0) return cmd_read(argc - 2, argv + 2, 0);
  if (strcmp(cmd, "write") == 0) return cmd_write(argc - 2, argv + 2);
  return usage();
}
