/*
 * Tests of the TIFF reader and writer.  One executable, many tests:
 * `blockwise_tiff_tests NAME` runs one (CTest registers each), no argument
 * runs them all.
 *
 * Oracles: the arrays written are kept and compared byte for byte with what
 * is read back; files that exercise the reader on its own are assembled here
 * byte by byte (a small TIFF builder that shares no code with the library),
 * so their contents are known independently of libtiff; partial reads are
 * checked against slices of whole reads and against the counters' byte and
 * chunk counts computed from the layout.
 *
 * Files go to a fresh folder under $BW_TEST_TMPDIR (default /tmp), removed
 * at the end of each test.
 */
#define _XOPEN_SOURCE 700

#include "bw_tiff.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_failures;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      g_failures++;                                                            \
      return;                                                                  \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Random data, folders, files                                              */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void) {
  uint64_t x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static ptrdiff_t rnd_below(ptrdiff_t n) { return (ptrdiff_t)(rnd() % (uint64_t)n); }

static const bw_dtype all_dtypes[] = {BW_U8,  BW_I8,  BW_U16, BW_I16,
                                      BW_U32, BW_I32, BW_F32, BW_F64};
enum { N_DTYPES = 8 };

/* Random bytes, except that floats get finite random values (NaN payloads
 * would survive too, but a finite value is a clearer failure message). */
static void fill_random(void *p, bw_dtype dt, size_t n) {
  if (dt == BW_F32) {
    for (size_t i = 0; i < n; i++)
      ((float *)p)[i] = (float)((double)(int64_t)rnd() / 9.2e15);
  } else if (dt == BW_F64) {
    for (size_t i = 0; i < n; i++) ((double *)p)[i] = (double)(int64_t)rnd() / 3.3e9;
  } else {
    unsigned char *b = (unsigned char *)p;
    size_t bytes = n * bw_dtype_size(dt);
    for (size_t i = 0; i < bytes; i++) b[i] = (unsigned char)(rnd() >> 56);
  }
}

/* Smooth data, which compresses (for large files that should stay small
 * on disk where that does not matter). */
static void fill_smooth_u16(uint16_t *p, size_t rows, size_t cols) {
  for (size_t y = 0; y < rows; y++)
    for (size_t x = 0; x < cols; x++) p[y * cols + x] = (uint16_t)(y * 7 + x * 3 + (rnd() & 3));
}

static size_t nelem(int nd, const int64_t *shape) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  return n;
}

typedef struct tmpdir {
  char path[512];
} tmpdir;

static int tmpdir_make(tmpdir *t) {
  const char *base = getenv("BW_TEST_TMPDIR");
  if (!base || !*base) base = "/tmp";
  mkdir(base, 0777);
  snprintf(t->path, sizeof t->path, "%s/bwtiff-XXXXXX", base);
  return mkdtemp(t->path) ? 0 : -1;
}

static void tmpdir_file(const tmpdir *t, const char *name, char *out, size_t len) {
  snprintf(out, len, "%s/%s", t->path, name);
}

/* Number of entries in the folder (besides . and ..); the first name goes
 * to first (if not NULL). */
static int tmpdir_count(const tmpdir *t, char *first, size_t len) {
  DIR *d = opendir(t->path);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  if (first && len) first[0] = '\0';
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == 0 && first) snprintf(first, len, "%s", e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static void tmpdir_remove(tmpdir *t) {
  DIR *d = opendir(t->path);
  if (d) {
    struct dirent *e;
    char f[1024];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(f, sizeof f, "%s/%s", t->path, e->d_name);
      unlink(f);
    }
    closedir(d);
  }
  rmdir(t->path);
}

static unsigned char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return b;
}

/* stderr captured into a file, to check that nothing is printed. */
typedef struct capture {
  int saved;
  char path[600];
} capture;

static void capture_begin(capture *c, const tmpdir *t) {
  fflush(stderr);
  tmpdir_file(t, "stderr.txt", c->path, sizeof c->path);
  int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  c->saved = dup(2);
  dup2(fd, 2);
  close(fd);
}

/* Ends the capture; returns the bytes that were printed. */
static long capture_end(capture *c) {
  fflush(stderr);
  dup2(c->saved, 2);
  close(c->saved);
  struct stat sb;
  long n = stat(c->path, &sb) == 0 ? (long)sb.st_size : -1;
  if (n > 0) {
    size_t sz;
    unsigned char *b = slurp(c->path, &sz);
    if (b) {
      fprintf(stderr, "captured stderr: %.*s\n", (int)(sz > 400 ? 400 : sz), (const char *)b);
      free(b);
    }
  }
  unlink(c->path);
  return n;
}

/* ------------------------------------------------------------------------ */
/* Writing and reading whole arrays                                         */
/* ------------------------------------------------------------------------ */

/* Writes the C-contiguous @data with regions of @band rows (within each
 * page; band 0: the whole image in one call). */
static bw_status write_array(const char *path, const bw_tiff_write_params *p, const void *data,
                             ptrdiff_t band, bw_error *err) {
  bw_tiff_writer *w = NULL;
  bw_status st = bw_tiff_create(path, p, &w, err);
  if (st != BW_OK) return st;
  int nd = p->ndim;
  ptrdiff_t shape[3] = {(ptrdiff_t)p->shape[0], (ptrdiff_t)p->shape[1], (ptrdiff_t)p->shape[2]};
  bw_view all = bw_view_contiguous((void *)data, p->dtype, nd, shape);
  if (band == 0) {
    bw_region reg;
    memset(&reg, 0, sizeof reg);
    for (int i = 0; i < nd; i++) reg.size[i] = shape[i];
    st = bw_tiff_write(w, &reg, &all, err);
  } else {
    ptrdiff_t pages = nd == 3 ? shape[0] : 1, rows = shape[nd - 2];
    for (ptrdiff_t z = 0; z < pages && st == BW_OK; z++)
      for (ptrdiff_t y = 0; y < rows && st == BW_OK; y += band) {
        bw_region reg;
        memset(&reg, 0, sizeof reg);
        if (nd == 3) {
          reg.start[0] = z;
          reg.size[0] = 1;
        }
        reg.start[nd - 2] = y;
        reg.size[nd - 2] = band < rows - y ? band : rows - y;
        reg.size[nd - 1] = shape[nd - 1];
        bw_view sub;
        st = bw_view_subview(&all, &reg, &sub, err);
        if (st == BW_OK) st = bw_tiff_write(w, &reg, &sub, err);
      }
  }
  if (st != BW_OK) {
    bw_tiff_abort(w);
    return st;
  }
  return bw_tiff_finish(w, err);
}

/* Reads the whole image of an open reader into a new contiguous buffer. */
static void *read_whole(bw_tiff_reader *r, bw_error *err) {
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  size_t n = nelem(in->ndim, in->shape) * bw_dtype_size(in->dtype);
  void *buf = malloc(n);
  if (!buf) return NULL;
  bw_region reg;
  memset(&reg, 0, sizeof reg);
  ptrdiff_t shape[3];
  for (int i = 0; i < in->ndim; i++) reg.size[i] = shape[i] = (ptrdiff_t)in->shape[i];
  bw_view v = bw_view_contiguous(buf, in->dtype, in->ndim, shape);
  if (bw_tiff_read(r, &reg, &v, err) != BW_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Opens @path and reads everything; NULL on error (message in err). */
static void *read_file(const char *path, bw_tiff_info *info, bw_error *err) {
  bw_tiff_reader *r = NULL;
  if (bw_tiff_open(path, &r, err) != BW_OK) return NULL;
  if (info) *info = *bw_tiff_reader_info(r);
  void *buf = read_whole(r, err);
  bw_tiff_close(r);
  return buf;
}

/* ------------------------------------------------------------------------ */
/* A small TIFF builder (classic TIFF, either byte order), independent of   */
/* libtiff, for files with exactly known contents and for broken files.     */
/* ------------------------------------------------------------------------ */

enum { T_BYTE = 1, T_ASCII = 2, T_SHORT = 3, T_LONG = 4, T_RATIONAL = 5 };

typedef struct tb_tag {
  uint16_t tag, type;
  uint32_t count;
  uint64_t v[2];          /* values when arr is NULL (RATIONAL: v[0]/v[1]) */
  const uint64_t *arr;    /* count values */
  const char *str;        /* ASCII */
  int rel;                /* values are offsets from the page's pixel data */
} tb_tag;

typedef struct tb_page {
  tb_tag tags[32];
  int ntags;
  const void *pix; /* pixel bytes, already in the file's byte order */
  size_t npix;
} tb_page;

typedef struct tb_file {
  unsigned char *b;
  size_t n, cap;
  int be;
} tb_file;

static void tb_reserve(tb_file *f, size_t n) {
  if (n <= f->cap) return;
  size_t cap = f->cap ? f->cap : 256;
  while (cap < n) cap *= 2;
  f->b = realloc(f->b, cap);
  memset(f->b + f->cap, 0, cap - f->cap);
  f->cap = cap;
}

static void tb_put(tb_file *f, size_t at, uint64_t v, int bytes) {
  tb_reserve(f, at + (size_t)bytes);
  for (int i = 0; i < bytes; i++) {
    int shift = f->be ? 8 * (bytes - 1 - i) : 8 * i;
    f->b[at + (size_t)i] = (unsigned char)(v >> shift);
  }
  if (at + (size_t)bytes > f->n) f->n = at + (size_t)bytes;
}

static int tb_type_size(uint16_t type) {
  return type == T_SHORT ? 2 : type == T_LONG ? 4 : type == T_RATIONAL ? 8 : 1;
}

static int tag_cmp(const void *a, const void *b) {
  return (int)((const tb_tag *)a)->tag - (int)((const tb_tag *)b)->tag;
}

/* Adds or replaces a tag of one value. */
static void tb_set(tb_page *pg, uint16_t tag, uint16_t type, uint64_t value) {
  tb_tag t;
  memset(&t, 0, sizeof t);
  t.tag = tag;
  t.type = type;
  t.count = 1;
  t.v[0] = value;
  for (int i = 0; i < pg->ntags; i++)
    if (pg->tags[i].tag == tag) {
      pg->tags[i] = t;
      return;
    }
  pg->tags[pg->ntags++] = t;
}

static void tb_set_tag(tb_page *pg, const tb_tag *t) {
  for (int i = 0; i < pg->ntags; i++)
    if (pg->tags[i].tag == t->tag) {
      pg->tags[i] = *t;
      return;
    }
  pg->tags[pg->ntags++] = *t;
}

static void tb_remove(tb_page *pg, uint16_t tag) {
  for (int i = 0; i < pg->ntags; i++)
    if (pg->tags[i].tag == tag) {
      pg->tags[i] = pg->tags[--pg->ntags];
      return;
    }
}

/* A one-strip grey page: w x h samples of @bits bits, SampleFormat @fmt
 * (0: no SampleFormat tag). */
static void tb_grey(tb_page *pg, uint32_t w, uint32_t h, int bits, int fmt, const void *pix,
                    size_t npix) {
  memset(pg, 0, sizeof *pg);
  tb_set(pg, 256, T_LONG, w);
  tb_set(pg, 257, T_LONG, h);
  tb_set(pg, 258, T_SHORT, (uint64_t)bits);
  tb_set(pg, 259, T_SHORT, 1);
  tb_set(pg, 262, T_SHORT, 1);
  tb_set(pg, 273, T_LONG, 0);
  pg->tags[pg->ntags - 1].rel = 1;
  tb_set(pg, 277, T_SHORT, 1);
  tb_set(pg, 278, T_LONG, h);
  tb_set(pg, 279, T_LONG, npix);
  if (fmt) tb_set(pg, 339, T_SHORT, (uint64_t)fmt);
  pg->pix = pix;
  pg->npix = npix;
}

/* Assembles the pages into a file image: header, then per page its pixels,
 * its directory and the directory's out-of-line values.  Free f->b. */
static void tb_build(tb_file *f, int big_endian, tb_page *pages, int npages) {
  memset(f, 0, sizeof *f);
  f->be = big_endian;
  tb_reserve(f, 8);
  f->b[0] = f->b[1] = big_endian ? 'M' : 'I';
  f->n = 2;
  tb_put(f, 2, 42, 2);
  size_t link = 4; /* where the offset of the next directory goes */
  size_t pos = 8;
  for (int p = 0; p < npages; p++) {
    tb_page *pg = &pages[p];
    size_t pixbase = pos;
    tb_reserve(f, pos + pg->npix);
    if (pg->npix) memcpy(f->b + pos, pg->pix, pg->npix);
    pos += pg->npix;
    if (pos > f->n) f->n = pos;
    pos = (pos + 1) & ~(size_t)1;
    qsort(pg->tags, (size_t)pg->ntags, sizeof(tb_tag), tag_cmp);
    size_t ifd = pos;
    tb_put(f, link, ifd, 4);
    tb_put(f, ifd, (uint64_t)pg->ntags, 2);
    size_t ext = ifd + 2 + 12 * (size_t)pg->ntags + 4;
    for (int i = 0; i < pg->ntags; i++) {
      tb_tag *t = &pg->tags[i];
      uint32_t count = t->str ? (uint32_t)strlen(t->str) + 1 : t->count;
      int ts = tb_type_size(t->type);
      size_t bytes = (size_t)count * (size_t)ts;
      size_t e = ifd + 2 + 12 * (size_t)i;
      tb_put(f, e, t->tag, 2);
      tb_put(f, e + 2, t->type, 2);
      tb_put(f, e + 4, count, 4);
      size_t at = e + 8;
      if (bytes > 4) {
        ext = (ext + 1) & ~(size_t)1;
        tb_put(f, e + 8, ext, 4);
        at = ext;
        ext += bytes;
      }
      if (t->str) {
        tb_reserve(f, at + bytes);
        memcpy(f->b + at, t->str, bytes);
        if (at + bytes > f->n) f->n = at + bytes;
      } else if (t->type == T_RATIONAL) {
        tb_put(f, at, t->v[0], 4);
        tb_put(f, at + 4, t->v[1], 4);
      } else {
        for (uint32_t k = 0; k < count; k++) {
          uint64_t v = t->arr ? t->arr[k] : t->v[k < 2 ? k : 1];
          if (t->rel) v += pixbase;
          tb_put(f, at + (size_t)k * (size_t)ts, v, ts);
        }
      }
    }
    link = ifd + 2 + 12 * (size_t)pg->ntags;
    tb_put(f, link, 0, 4);
    pos = ext;
    if (pos > f->n) f->n = pos;
    pos = (pos + 1) & ~(size_t)1;
  }
}

/* Byte-swaps n elements of size es in place (for big-endian pixels). */
static void swap_elems(void *p, size_t n, size_t es) {
  unsigned char *b = (unsigned char *)p;
  for (size_t i = 0; i < n; i++, b += es)
    for (size_t k = 0; k < es / 2; k++) {
      unsigned char t = b[k];
      b[k] = b[es - 1 - k];
      b[es - 1 - k] = t;
    }
}

static int host_big_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 0;
}

/* Opens a file image from memory and expects an error with a message. */
static int expect_open_fails(const tb_file *f, bw_status want, const char *what) {
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  bw_status st = bw_tiff_open_memory(f->b, f->n, &r, &e);
  if (st == BW_OK) {
    /* Some breakage shows only when the pixels are decoded. */
    void *buf = read_whole(r, &e);
    bw_tiff_close(r);
    r = NULL;
    if (buf) {
      free(buf);
      fprintf(stderr, "%s: opened and read without error\n", what);
      return 0;
    }
    st = e.status;
  }
  if (r) {
    fprintf(stderr, "%s: reader set on error\n", what);
    return 0;
  }
  if (want != BW_OK && st != want) {
    fprintf(stderr, "%s: status %s, expected %s (%s)\n", what, bw_status_string(st),
            bw_status_string(want), e.message);
    return 0;
  }
  if (getenv("BW_TEST_VERBOSE")) printf("  %s -> %s: %s\n", what, bw_status_string(st), e.message);
  if (e.status != st || strlen(e.message) < 10) {
    fprintf(stderr, "%s: no clear message (%s)\n", what, e.message);
    return 0;
  }
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

/* Every dtype, 2-D and 3-D, strips (default, 3 rows, one strip) and tiles,
 * every available compression, with and without predictor, written in
 * bands of several heights: read back identically, from the file and from
 * memory, with the layout reported as written. */
static void test_roundtrip(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "rt.tif", path, sizeof path);
  static const bw_tiff_compression comps[] = {BW_TIFF_NONE, BW_TIFF_LZW, BW_TIFF_DEFLATE,
                                              BW_TIFF_PACKBITS, BW_TIFF_ZSTD};
  static const int tiff_codes[] = {1, 5, 8, 32773, 50000};
  int files = 0;
  for (int di = 0; di < N_DTYPES; di++)
    for (int nd = 2; nd <= 3; nd++)
      for (int layout = 0; layout < 4; layout++)
        for (int ci = 0; ci < 5; ci++)
          for (int pred = 0; pred <= 1; pred++) {
            bw_tiff_compression c = comps[ci];
            if (!bw_tiff_compression_available(c)) continue;
            if (pred && (c == BW_TIFF_NONE || c == BW_TIFF_PACKBITS)) continue;
            bw_tiff_write_params p;
            bw_tiff_write_params_init(&p);
            p.dtype = all_dtypes[di];
            p.ndim = nd;
            int64_t shape[3] = {3, 37, 45};
            if (nd == 2) {
              p.shape[0] = 37;
              p.shape[1] = 45;
            } else {
              memcpy(p.shape, shape, sizeof shape);
            }
            p.compression = c;
            p.predictor = pred;
            if (layout == 1) p.rows_per_strip = 3;
            if (layout == 2) p.rows_per_strip = 1000;
            if (layout == 3) {
              p.tiled = 1;
              p.tile_width = 16;
              p.tile_length = 32;
            }
            size_t n = nelem(nd, p.shape), es = bw_dtype_size(p.dtype);
            unsigned char *data = malloc(n * es);
            fill_random(data, p.dtype, n);
            bw_error e = {BW_OK, ""};
            ptrdiff_t band = (ptrdiff_t)(files % 4 == 0 ? 0 : files % 4 == 1 ? 1 : 7 + files % 5);
            bw_status st = write_array(path, &p, data, band, &e);
            CHECK(st == BW_OK, "write %s nd %d layout %d comp %d pred %d: %s",
                  bw_dtype_name(p.dtype), nd, layout, (int)c, pred, e.message);
            bw_tiff_info in;
            unsigned char *back = read_file(path, &in, &e);
            CHECK(back != NULL, "read %s nd %d layout %d comp %d: %s", bw_dtype_name(p.dtype),
                  nd, layout, (int)c, e.message);
            int same = memcmp(back, data, n * es) == 0;
            free(back);
            CHECK(same, "data differ: %s nd %d layout %d comp %d pred %d",
                  bw_dtype_name(p.dtype), nd, layout, (int)c, pred);
            CHECK(in.dtype == p.dtype && in.ndim == nd, "info dtype/ndim");
            for (int i = 0; i < nd; i++) CHECK(in.shape[i] == p.shape[i], "info shape %d", i);
            CHECK(in.tiled == p.tiled, "info tiled");
            CHECK(in.compression == tiff_codes[ci], "info compression %d", in.compression);
            CHECK(!p.tiled || (in.tile_width == 16 && in.tile_length == 32), "tile size");
            uint32_t want_rps = layout == 1 ? 3 : layout == 2 ? 37 : 0;
            CHECK(p.tiled || layout == 0 || in.rows_per_strip == want_rps, "rows per strip %u",
                  in.rows_per_strip);
            CHECK(in.bigtiff == 0 && in.big_endian == host_big_endian(), "bigtiff/endianness");

            /* The same bytes from memory. */
            size_t sz;
            unsigned char *img = slurp(path, &sz);
            bw_tiff_reader *r = NULL;
            CHECK(img && bw_tiff_open_memory(img, sz, &r, &e) == BW_OK, "memory open: %s",
                  e.message);
            back = read_whole(r, &e);
            bw_tiff_close(r);
            same = back && memcmp(back, data, n * es) == 0;
            free(back);
            free(img);
            free(data);
            CHECK(same, "memory read differs");
            files++;
          }
  CHECK(files >= 8 * 2 * 4 * 4, "only %d files", files);
  CHECK(tmpdir_count(&t, NULL, 0) == 1, "stray files");
  tmpdir_remove(&t);
}

/* Regions of every allowed form: single rows, bands across strip and tile
 * edges, several whole pages at once, and strided sources (reversed
 * columns, every other row of a larger buffer). */
static void test_write_regions(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "w.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = BW_I16;
  p.ndim = 3;
  p.shape[0] = 5;
  p.shape[1] = 41;
  p.shape[2] = 29;
  p.tiled = 1;
  p.tile_width = 16;
  p.tile_length = 16;
  p.compression = BW_TIFF_LZW;
  size_t n = nelem(3, p.shape);
  int16_t *data = malloc(n * 2);
  fill_random(data, BW_I16, n);
  /* A source buffer twice as tall and with columns reversed. */
  ptrdiff_t Z = 5, Y = 41, X = 29;
  int16_t *big = malloc((size_t)(Z * 2 * Y * X) * 2);
  for (ptrdiff_t z = 0; z < Z; z++)
    for (ptrdiff_t y = 0; y < Y; y++)
      for (ptrdiff_t x = 0; x < X; x++)
        big[(z * 2 * Y + 2 * y) * X + (X - 1 - x)] = data[(z * Y + y) * X + x];
  bw_view src;
  src.data = big + (X - 1);
  src.dtype = BW_I16;
  src.ndim = 3;
  src.shape[0] = Z;
  src.shape[1] = Y;
  src.shape[2] = X;
  src.strides[0] = 2 * Y * X * 2;
  src.strides[1] = 2 * X * 2;
  src.strides[2] = -2;

  for (int mode = 0; mode < 2; mode++) {
    p.tiled = mode;
    bw_tiff_writer *w = NULL;
    bw_error e = {BW_OK, ""};
    CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
    /* pages 0-1 whole, page 2 in rows 1, 15, 25; page 3 row by row; page 4 whole */
    bw_region regs[64];
    int nr = 0;
    memset(regs, 0, sizeof regs);
    regs[nr].start[0] = 0, regs[nr].size[0] = 2, regs[nr].size[1] = Y, nr++;
    ptrdiff_t cuts[] = {0, 1, 16, 41};
    for (int i = 0; i < 3; i++)
      regs[nr].start[0] = 2, regs[nr].size[0] = 1, regs[nr].start[1] = cuts[i],
      regs[nr].size[1] = cuts[i + 1] - cuts[i], nr++;
    for (ptrdiff_t y = 0; y < Y; y++)
      regs[nr].start[0] = 3, regs[nr].size[0] = 1, regs[nr].start[1] = y, regs[nr].size[1] = 1,
      nr++;
    regs[nr].start[0] = 4, regs[nr].size[0] = 1, regs[nr].size[1] = Y, nr++;
    for (int i = 0; i < nr; i++) {
      regs[i].size[2] = X;
      CHECK(!bw_tiff_writer_complete(w), "complete too early");
      bw_view sub;
      CHECK(bw_view_subview(&src, &regs[i], &sub, &e) == BW_OK, "subview");
      CHECK(bw_tiff_write(w, &regs[i], &sub, &e) == BW_OK, "write region %d: %s", i,
            e.message);
    }
    CHECK(bw_tiff_writer_complete(w), "not complete");
    CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);
    bw_tiff_info in;
    int16_t *back = read_file(path, &in, &e);
    CHECK(back, "read: %s", e.message);
    int same = memcmp(back, data, n * 2) == 0;
    free(back);
    CHECK(same, "data differ (mode %d)", mode);
  }
  free(big);
  free(data);
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Partial reads                                                            */
/* ------------------------------------------------------------------------ */

/* Random regions of striped (raw and compressed) and tiled files, into
 * views with unusual strides inside a larger buffer: equal to the slice of
 * the whole image, and nothing outside the view is touched. */
static void test_subregions(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "s.tif", path, sizeof path);
  for (int layout = 0; layout < 4; layout++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_F32;
    p.ndim = 3;
    p.shape[0] = 4;
    p.shape[1] = 70;
    p.shape[2] = 90;
    if (layout == 0) p.rows_per_strip = 70;                    /* raw, one strip */
    if (layout == 1) p.rows_per_strip = 9;                     /* raw, strips */
    if (layout == 2) p.compression = BW_TIFF_DEFLATE, p.rows_per_strip = 8;
    if (layout == 3) p.tiled = 1, p.tile_width = 32, p.tile_length = 16,
                     p.compression = BW_TIFF_LZW, p.predictor = 1;
    size_t n = nelem(3, p.shape);
    float *data = malloc(n * 4);
    fill_random(data, BW_F32, n);
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 13, &e) == BW_OK, "write: %s", e.message);
    bw_tiff_reader *r = NULL;
    CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
    for (int it = 0; it < 60; it++) {
      bw_region reg;
      memset(&reg, 0, sizeof reg);
      for (int i = 0; i < 3; i++) {
        reg.start[i] = rnd_below((ptrdiff_t)p.shape[i]);
        reg.size[i] = 1 + rnd_below((ptrdiff_t)p.shape[i] - reg.start[i]);
      }
      /* dst: axes reversed in Y, padded in X, inside a buffer of NaN-free
       * sentinels. */
      ptrdiff_t pz = reg.size[0], py = reg.size[1], px = reg.size[2];
      size_t cap = (size_t)(pz * py * (px + 3));
      float *buf = malloc(cap * 4);
      for (size_t i = 0; i < cap; i++) buf[i] = -12345.0f;
      bw_view v;
      v.dtype = BW_F32;
      v.ndim = 3;
      v.shape[0] = pz;
      v.shape[1] = py;
      v.shape[2] = px;
      v.strides[2] = 4;
      v.strides[1] = -(px + 3) * 4;
      v.strides[0] = py * (px + 3) * 4;
      v.data = buf + (py - 1) * (px + 3);
      CHECK(bw_tiff_read(r, &reg, &v, &e) == BW_OK, "read: %s", e.message);
      size_t touched = 0;
      int ok = 1;
      for (ptrdiff_t z = 0; z < pz; z++)
        for (ptrdiff_t y = 0; y < py; y++)
          for (ptrdiff_t x = 0; x < px; x++) {
            float got = *(float *)((char *)v.data + z * v.strides[0] + y * v.strides[1] +
                                   x * v.strides[2]);
            float want = data[((reg.start[0] + z) * p.shape[1] + reg.start[1] + y) * p.shape[2] +
                              reg.start[2] + x];
            if (memcmp(&got, &want, 4) != 0) ok = 0;
          }
      for (size_t i = 0; i < cap; i++) touched += buf[i] != -12345.0f;
      free(buf);
      CHECK(ok, "layout %d region (%td,%td,%td)+(%td,%td,%td) differs", layout, reg.start[0],
            reg.start[1], reg.start[2], pz, py, px);
      CHECK(touched <= (size_t)(pz * py * px), "wrote outside the view (%zu)", touched);
    }
    bw_tiff_close(r);
    free(data);
  }
  tmpdir_remove(&t);
}

/* Reads of a small region of a 4096 x 4096 u16 image touch only the chunks
 * it meets: the byte and chunk counters show it. */
static void test_partial_counters(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "big.tif", path, sizeof path);
  const ptrdiff_t N = 4096;
  uint16_t *data = malloc((size_t)(N * N) * 2);
  fill_smooth_u16(data, (size_t)N, (size_t)N);
  for (int layout = 0; layout < 4; layout++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_U16;
    p.shape[0] = N;
    p.shape[1] = N;
    const char *name = "";
    if (layout == 0) p.tiled = 1, name = "tiled 256x256";
    if (layout == 1) p.tiled = 1, p.compression = BW_TIFF_DEFLATE, name = "tiled deflate";
    if (layout == 2) p.rows_per_strip = 16, name = "16-row strips";
    if (layout == 3) p.rows_per_strip = (uint32_t)N, name = "one uncompressed strip";
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 512, &e) == BW_OK, "%s: write: %s", name, e.message);
    struct stat sb;
    CHECK(stat(path, &sb) == 0, "stat");
    bw_tiff_reader *r = NULL;
    CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "%s: open: %s", name, e.message);
    bw_tiff_counters c0, c1;
    bw_tiff_reader_counters(r, &c0);
    /* 10 x 10 inside one tile and one strip. */
    bw_region reg = {{2000, 3000, 0}, {10, 10, 0}};
    uint16_t out[100];
    ptrdiff_t sh[2] = {10, 10};
    bw_view v = bw_view_contiguous(out, BW_U16, 2, sh);
    CHECK(bw_tiff_read(r, &reg, &v, &e) == BW_OK, "%s: read: %s", name, e.message);
    bw_tiff_reader_counters(r, &c1);
    for (int y = 0; y < 10; y++)
      for (int x = 0; x < 10; x++)
        CHECK(out[y * 10 + x] == data[(2000 + y) * N + 3000 + x], "%s: value", name);
    uint64_t bytes = c1.bytes_read, size = (uint64_t)sb.st_size;
    CHECK(bytes * 20 < size, "%s: read %llu of %llu bytes", name, (unsigned long long)bytes,
          (unsigned long long)size);
    CHECK(c1.chunks_decoded - c0.chunks_decoded == 1, "%s: %llu chunks", name,
          (unsigned long long)(c1.chunks_decoded - c0.chunks_decoded));
    uint64_t region_bytes = c1.bytes_read - c0.bytes_read;
    if (layout == 0) CHECK(region_bytes == 256 * 256 * 2, "%s: %llu bytes", name,
                           (unsigned long long)region_bytes);
    if (layout == 2) CHECK(region_bytes == 16 * 4096 * 2 || region_bytes == 10 * 4096 * 2,
                           "%s: %llu bytes", name, (unsigned long long)region_bytes);
    if (layout == 3) CHECK(region_bytes == 10 * 4096 * 2, "%s: %llu bytes", name,
                           (unsigned long long)region_bytes);
    /* Across tile and strip edges: 2 x 2 tiles, 2 strips. */
    bw_region reg2 = {{250, 250, 0}, {10, 10, 0}};
    bw_tiff_reader_counters(r, &c0);
    CHECK(bw_tiff_read(r, &reg2, &v, &e) == BW_OK, "%s: read 2: %s", name, e.message);
    bw_tiff_reader_counters(r, &c1);
    for (int y = 0; y < 10; y++)
      for (int x = 0; x < 10; x++)
        CHECK(out[y * 10 + x] == data[(250 + y) * N + 250 + x], "%s: value 2", name);
    uint64_t want_chunks = layout <= 1 ? 4 : layout == 2 ? 2 : 1;
    CHECK(c1.chunks_decoded - c0.chunks_decoded == want_chunks, "%s: %llu chunks, want %llu",
          name, (unsigned long long)(c1.chunks_decoded - c0.chunks_decoded),
          (unsigned long long)want_chunks);
    CHECK(c1.bytes_read * 20 < size, "%s: read %llu of %llu bytes", name,
          (unsigned long long)c1.bytes_read, (unsigned long long)size);
    bw_tiff_close(r);
  }
  free(data);
  tmpdir_remove(&t);
}

/* Page z of a many-page file is reached through the offsets cached at
 * open: reading the last page after the first re-reads one directory, not
 * the chain; pages are right in any order. */
static void test_page_jumps(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "pages.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = BW_U8;
  p.ndim = 3;
  p.shape[0] = 60;
  p.shape[1] = 8;
  p.shape[2] = 8;
  size_t n = nelem(3, p.shape);
  uint8_t *data = malloc(n);
  fill_random(data, BW_U8, n);
  bw_error e = {BW_OK, ""};
  CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "write: %s", e.message);
  bw_tiff_reader *r = NULL;
  CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
  CHECK(bw_tiff_reader_info(r)->ndim == 3 && bw_tiff_reader_info(r)->shape[0] == 60, "pages");
  static const int order[] = {0, 59, 1, 58, 30, 30, 2, 0, 59};
  uint8_t px[64];
  ptrdiff_t sh[3] = {1, 8, 8};
  bw_view v = bw_view_contiguous(px, BW_U8, 3, sh);
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    bw_region reg = {{order[i], 0, 0}, {1, 8, 8}};
    bw_tiff_counters c0, c1;
    bw_tiff_reader_counters(r, &c0);
    CHECK(bw_tiff_read(r, &reg, &v, &e) == BW_OK, "read page %d: %s", order[i], e.message);
    bw_tiff_reader_counters(r, &c1);
    CHECK(memcmp(px, data + (size_t)order[i] * 64, 64) == 0, "page %d differs", order[i]);
    /* One directory (~300 bytes with its values) and 64 pixel bytes. */
    CHECK(c1.bytes_read - c0.bytes_read < 1024, "page %d: %llu bytes read", order[i],
          (unsigned long long)(c1.bytes_read - c0.bytes_read));
  }
  bw_tiff_close(r);
  free(data);
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Files assembled here                                                     */
/* ------------------------------------------------------------------------ */

/* Big-endian and little-endian files of every dtype, one strip, with and
 * without SampleFormat (missing means unsigned). */
static void test_crafted_byte_orders(void) {
  for (int di = 0; di < N_DTYPES; di++)
    for (int be = 0; be <= 1; be++)
      for (int omit_fmt = 0; omit_fmt <= 1; omit_fmt++) {
        bw_dtype dt = all_dtypes[di];
        int fmt = (dt == BW_F32 || dt == BW_F64) ? 3
                  : (dt == BW_I8 || dt == BW_I16 || dt == BW_I32) ? 2
                                                                  : 1;
        if (omit_fmt && fmt != 1) continue;
        size_t es = bw_dtype_size(dt);
        const uint32_t W = 7, H = 5;
        unsigned char *vals = malloc(W * H * es), *pix = malloc(W * H * es);
        fill_random(vals, dt, W * H);
        memcpy(pix, vals, W * H * es);
        if (be != host_big_endian()) swap_elems(pix, W * H, es);
        tb_page pg;
        tb_grey(&pg, W, H, (int)(8 * es), omit_fmt ? 0 : fmt, pix, W * H * es);
        tb_file f;
        tb_build(&f, be, &pg, 1);
        bw_tiff_reader *r = NULL;
        bw_error e = {BW_OK, ""};
        CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "%s be %d: %s",
              bw_dtype_name(dt), be, e.message);
        const bw_tiff_info *in = bw_tiff_reader_info(r);
        CHECK(in->dtype == dt && in->ndim == 2 && in->shape[0] == H && in->shape[1] == W,
              "info %s", bw_dtype_name(in->dtype));
        CHECK(in->big_endian == be && in->bigtiff == 0, "byte order");
        CHECK(strcmp(in->compression_name, "none") == 0, "name %s", in->compression_name);
        CHECK(in->spacing[0] == 1 && in->spacing[1] == 1, "default spacing");
        void *back = read_whole(r, &e);
        bw_tiff_close(r);
        CHECK(back && memcmp(back, vals, W * H * es) == 0, "%s be %d: values differ",
              bw_dtype_name(dt), be);
        free(back);
        free(vals);
        free(pix);
        free(f.b);
      }
}

/* FillOrder 2 (bits of each byte reversed), as libtiff decodes it: the
 * direct row reads agree with libtiff's own decoding of the same bytes. */
static void test_crafted_fill_order(void) {
  uint8_t vals[16], pix[16];
  for (int i = 0; i < 16; i++) {
    vals[i] = (uint8_t)(i * 37 + 1);
    uint8_t b = vals[i], rev = 0;
    for (int k = 0; k < 8; k++) rev |= (uint8_t)(((b >> k) & 1) << (7 - k));
    pix[i] = rev;
  }
  tb_page pg;
  tb_grey(&pg, 4, 4, 8, 1, pix, 16);
  tb_set(&pg, 266, T_SHORT, 2);
  tb_file f;
  tb_build(&f, 0, &pg, 1);
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "open: %s", e.message);
  uint8_t *back = read_whole(r, &e);
  bw_tiff_close(r);
  CHECK(back && memcmp(back, vals, 16) == 0, "fill order 2 not undone");
  free(back);
  free(f.b);
}

/* Reduced-resolution pages (NewSubfileType bit 0) are skipped; the others
 * form Z. */
static void test_crafted_reduced_pages(void) {
  uint8_t a[12], small[3], c[12];
  for (int i = 0; i < 12; i++) a[i] = (uint8_t)i, c[i] = (uint8_t)(100 + i);
  memset(small, 7, sizeof small);
  tb_page pg[3];
  tb_grey(&pg[0], 4, 3, 8, 1, a, 12);
  tb_grey(&pg[1], 2, 1, 8, 1, small, 2);
  tb_set(&pg[1], 254, T_LONG, 1);
  tb_grey(&pg[2], 4, 3, 8, 1, c, 12);
  tb_set(&pg[2], 254, T_LONG, 2); /* a page of a multi-page file: kept */
  tb_file f;
  tb_build(&f, 1, pg, 3);
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "open: %s", e.message);
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  CHECK(in->ndim == 3 && in->shape[0] == 2 && in->shape[1] == 3 && in->shape[2] == 4,
        "shape %d %lld", in->ndim, (long long)in->shape[0]);
  uint8_t *back = read_whole(r, &e);
  bw_tiff_close(r);
  CHECK(back && memcmp(back, a, 12) == 0 && memcmp(back + 12, c, 12) == 0, "pages differ");
  free(back);
  free(f.b);
}

/* Spacing read from resolution tags in inches, centimetres and without
 * unit, and from description lines (which win), including ImageJ's. */
static void test_crafted_spacing(void) {
  uint8_t pix[6] = {1, 2, 3, 4, 5, 6};
  struct {
    int unit; /* 0: no ResolutionUnit tag (TIFF default: inch) */
    uint32_t xn, xd, yn, yd;
    const char *desc;
    int pages;
    double want[3]; /* C order */
  } cases[] = {
      {2, 300, 1, 150, 1, NULL, 1, {25.4 / 150, 25.4 / 300, 0}},
      {0, 72, 1, 72, 1, NULL, 1, {25.4 / 72, 25.4 / 72, 0}},
      {3, 2000, 1, 4000, 1, NULL, 1, {10.0 / 4000, 10.0 / 2000, 0}},
      {1, 4, 1, 2, 1, NULL, 1, {0.5, 0.25, 0}},
      {3, 2000, 1, 4000, 1, "xspacing=0.123\nyspacing=7\n", 1, {7, 0.123, 0}},
      {1, 5, 1, 5, 1, "ImageJ=1.53t\nimages=2\nslices=2\nunit=micron\nspacing=2.5\n", 2,
       {2.5, 0.2, 0.2}},
      {3, 0, 1, 10, 0, "spacing=-4\nxspacing=nan\n", 2, {1, 1, 1}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    tb_page pg[2];
    for (int p = 0; p < cases[k].pages; p++) {
      tb_grey(&pg[p], 3, 2, 8, 1, pix, 6);
      if (cases[k].unit) tb_set(&pg[p], 296, T_SHORT, (uint64_t)cases[k].unit);
      tb_tag xr = {282, T_RATIONAL, 1, {cases[k].xn, cases[k].xd}, NULL, NULL, 0};
      tb_tag yr = {283, T_RATIONAL, 1, {cases[k].yn, cases[k].yd}, NULL, NULL, 0};
      tb_set_tag(&pg[p], &xr);
      tb_set_tag(&pg[p], &yr);
      if (cases[k].desc) {
        tb_tag d = {270, T_ASCII, 0, {0, 0}, NULL, cases[k].desc, 0};
        tb_set_tag(&pg[p], &d);
      }
    }
    tb_file f;
    tb_build(&f, 0, pg, cases[k].pages);
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    CHECK(bw_tiff_open_memory(f.b, f.n, &r, &e) == BW_OK, "case %zu: %s", k, e.message);
    const bw_tiff_info *in = bw_tiff_reader_info(r);
    int nd = cases[k].pages > 1 ? 3 : 2;
    CHECK(in->ndim == nd, "case %zu ndim", k);
    for (int i = 0; i < nd; i++)
      CHECK(fabs(in->spacing[i] - cases[k].want[i]) <= 1e-6 * cases[k].want[i], "case %zu: spacing[%d] %.9g, want %.9g",
            k, i, in->spacing[i], cases[k].want[i]);
    bw_tiff_close(r);
    free(f.b);
  }
}

/* Broken and unsupported files: an error status with a message, nothing
 * printed, no crash, no huge allocation. */
static void test_bad_files(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  capture cap;
  capture_begin(&cap, &t);
  int ok = 1;
  uint8_t pix[64], ones[64];
  memset(pix, 9, sizeof pix);
  memset(ones, 0xFF, sizeof ones);
  tb_page pg[2];
  tb_file f;

#define BAD(want, what)                                                                       \
  do {                                                                                        \
    tb_build(&f, 0, pg, npages);                                                              \
    if (!expect_open_fails(&f, want, what)) ok = 0;                                           \
    free(f.b);                                                                                \
  } while (0)
  int npages = 1;

  /* Not TIFF at all. */
  {
    const char junk[] = "PK\x03\x04 this is a zip file, not a TIFF file at all";
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    if (bw_tiff_open_memory(junk, sizeof junk, &r, &e) != BW_ERR_PARAM || r ||
        strlen(e.message) < 10)
      ok = 0, fprintf(stderr, "wrong magic: %s\n", e.message);
    if (bw_tiff_open_memory(junk, 0, &r, &e) == BW_OK || r)
      ok = 0, fprintf(stderr, "empty file accepted\n");
    if (bw_tiff_open_memory(junk, 5, &r, &e) == BW_OK || r)
      ok = 0, fprintf(stderr, "5 bytes accepted\n");
  }
  tb_grey(&pg[0], 0, 8, 8, 1, pix, 64);
  BAD(BW_OK, "zero width");
  tb_grey(&pg[0], 8, 0, 8, 1, pix, 64);
  BAD(BW_OK, "zero length");
  /* 2^31 x 2^31 with one tiny strip per row, and with one strip. */
  tb_grey(&pg[0], 1u << 31, 1u << 31, 8, 1, pix, 64);
  tb_set(&pg[0], 278, T_LONG, 1);
  BAD(BW_ERR_PARAM, "absurd dimensions, 1 row per strip");
  tb_grey(&pg[0], 1u << 31, 1u << 31, 8, 1, pix, 64);
  BAD(BW_ERR_PARAM, "absurd dimensions, one strip");
  tb_grey(&pg[0], 1u << 31, 1u << 31, 8, 1, pix, 64);
  tb_set(&pg[0], 259, T_SHORT, 5);
  BAD(BW_ERR_PARAM, "absurd dimensions, one LZW strip");
  /* Huge tiles. */
  tb_grey(&pg[0], 8, 8, 64, 3, pix, 64);
  tb_remove(&pg[0], 273);
  tb_remove(&pg[0], 278);
  tb_remove(&pg[0], 279);
  tb_set(&pg[0], 322, T_LONG, 65536);
  tb_set(&pg[0], 323, T_LONG, 65536);
  tb_set(&pg[0], 324, T_LONG, 0);
  pg[0].tags[pg[0].ntags - 1].rel = 1;
  tb_set(&pg[0], 325, T_LONG, 64);
  BAD(BW_ERR_PARAM, "32 GiB tiles");
  /* Compressed strips far too large for what they hold. */
  tb_grey(&pg[0], 70000, 70000, 16, 1, pix, 64);
  tb_set(&pg[0], 259, T_SHORT, 8);
  BAD(BW_ERR_PARAM, "9 GiB deflate strip");
  /* A strip beyond the end of the file, uncompressed and compressed. */
  tb_grey(&pg[0], 8, 8, 8, 1, pix, 64);
  tb_set(&pg[0], 273, T_LONG, 1000000);
  BAD(BW_ERR_PARAM, "strip past EOF");
  tb_set(&pg[0], 259, T_SHORT, 5);
  BAD(BW_ERR_PARAM, "LZW strip past EOF");
  /* A strip shorter than its rows (of two: with one strip libtiff takes
   * the count for a mistake and computes it). */
  {
    static const uint64_t offs[2] = {0, 32}, counts[2] = {32, 10};
    tb_grey(&pg[0], 8, 8, 8, 1, pix, 64);
    tb_set(&pg[0], 278, T_LONG, 4);
    tb_tag o = {273, T_LONG, 2, {0, 0}, offs, NULL, 1};
    tb_tag c = {279, T_LONG, 2, {0, 0}, counts, NULL, 0};
    tb_set_tag(&pg[0], &o);
    tb_set_tag(&pg[0], &c);
    BAD(BW_ERR_PARAM, "short strip");
  }
  /* Codes beyond the LZW table where LZW data should be. */
  tb_grey(&pg[0], 8, 8, 8, 1, ones, 64);
  tb_set(&pg[0], 259, T_SHORT, 5);
  BAD(BW_ERR_PARAM, "corrupt LZW");
  /* Pixel formats. */
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 48);
  tb_set(&pg[0], 277, T_SHORT, 3);
  BAD(BW_ERR_DTYPE, "RGB");
  {
    static uint64_t colormap[768];
    for (int i = 0; i < 768; i++) colormap[i] = (uint64_t)(i % 256) * 257;
    tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
    tb_set(&pg[0], 262, T_SHORT, 3);
    tb_tag cm = {320, T_SHORT, 768, {0, 0}, colormap, NULL, 0};
    tb_set_tag(&pg[0], &cm);
    BAD(BW_ERR_DTYPE, "palette");
  }
  tb_grey(&pg[0], 8, 8, 1, 1, pix, 8);
  tb_set(&pg[0], 262, T_SHORT, 0);
  BAD(BW_ERR_DTYPE, "bilevel");
  tb_grey(&pg[0], 4, 4, 12, 1, pix, 24);
  BAD(BW_ERR_DTYPE, "12 bits");
  tb_grey(&pg[0], 4, 4, 16, 3, pix, 32);
  BAD(BW_ERR_DTYPE, "half floats");
  tb_grey(&pg[0], 4, 4, 32, 6, pix, 64);
  BAD(BW_ERR_DTYPE, "complex");
  tb_grey(&pg[0], 4, 4, 64, 1, pix, 64);
  BAD(BW_ERR_DTYPE, "64-bit integers");
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_set(&pg[0], 259, T_SHORT, 12345);
  BAD(BW_ERR_UNSUPPORTED, "unknown compression");
  /* Pages that do not stack. */
  npages = 2;
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_grey(&pg[1], 5, 4, 8, 1, pix, 20);
  BAD(BW_ERR_UNSUPPORTED, "pages of different sizes");
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_grey(&pg[1], 4, 4, 16, 1, pix, 32);
  BAD(BW_ERR_DTYPE, "pages of different types");
  npages = 1;
#undef BAD

  /* A directory chain that loops back to itself. */
  {
    tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
    tb_build(&f, 0, pg, 1);
    uint32_t ifd = (uint32_t)f.b[4] | (uint32_t)f.b[5] << 8 | (uint32_t)f.b[6] << 16 | (uint32_t)f.b[7] << 24;
    uint16_t nent = (uint16_t)(f.b[ifd] | f.b[ifd + 1] << 8);
    tb_put(&f, ifd + 2 + 12u * nent, ifd, 4);
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_open_memory(f.b, f.n, &r, &e);
    /* Either refused, or read as the one page it is. */
    if (st == BW_OK) {
      if (bw_tiff_reader_info(r)->ndim != 2) ok = 0, fprintf(stderr, "loop: pages\n");
      bw_tiff_close(r);
    } else if (strlen(e.message) < 10) {
      ok = 0, fprintf(stderr, "loop: no message\n");
    }
    free(f.b);
  }

  long printed = capture_end(&cap);
  CHECK(ok, "see above");
  CHECK(printed == 0, "%ld bytes printed on stderr", printed);
  tmpdir_remove(&t);
}

/* Files cut short at many points, including every one of the last 300
 * bytes (directories and their values): always an error with a message,
 * never a crash or wrong pixels. */
static void test_truncated(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "t.tif", path, sizeof path);
  capture cap;
  for (int layout = 0; layout < 3; layout++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_U16;
    p.ndim = 3;
    p.shape[0] = 3;
    p.shape[1] = 40;
    p.shape[2] = 50;
    if (layout == 0) p.rows_per_strip = 40;
    if (layout == 1) p.tiled = 1, p.tile_width = 16, p.tile_length = 16,
                     p.compression = BW_TIFF_LZW;
    if (layout == 2) p.compression = BW_TIFF_DEFLATE, p.rows_per_strip = 7;
    size_t n = nelem(3, p.shape);
    uint16_t *data = malloc(n * 2);
    fill_random(data, BW_U16, n);
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "write: %s", e.message);
    size_t size;
    unsigned char *img = slurp(path, &size);
    CHECK(img, "slurp");
    capture_begin(&cap, &t);
    int ok = 1;
    for (size_t cut = 0; cut < size; cut += cut + 300 < size ? 1 + cut / 64 : 1) {
      unsigned char *part = malloc(cut ? cut : 1);
      memcpy(part, img, cut);
      bw_tiff_reader *r = NULL;
      e.status = BW_OK;
      e.message[0] = '\0';
      bw_status st = bw_tiff_open_memory(part, cut, &r, &e);
      void *back = NULL;
      if (st == BW_OK) {
        back = read_whole(r, &e);
        const bw_tiff_info *in = bw_tiff_reader_info(r);
        if (back && (in->ndim != 3 || memcmp(back, data, n * 2) != 0)) {
          fprintf(stderr, "layout %d cut %zu: wrong pixels without error\n", layout, cut);
          ok = 0;
        }
        bw_tiff_close(r);
      }
      if (!back && strlen(e.message) < 10) {
        fprintf(stderr, "layout %d cut %zu: no message\n", layout, cut);
        ok = 0;
      }
      if (back) {
        fprintf(stderr, "layout %d cut %zu of %zu: read without error\n", layout, cut, size);
        ok = 0;
      }
      free(back);
      free(part);
    }
    long printed = capture_end(&cap);
    free(img);
    free(data);
    CHECK(ok, "layout %d: see above", layout);
    CHECK(printed == 0, "%ld bytes printed", printed);
  }
  tmpdir_remove(&t);
}

/* Deterministic byte flips in valid files: any outcome but a crash; when
 * the read succeeds, the output is complete (no error is lost). */
static void test_mutations(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "m.tif", path, sizeof path);
  capture cap;
  static const bw_tiff_compression comps[] = {BW_TIFF_NONE, BW_TIFF_LZW, BW_TIFF_DEFLATE,
                                              BW_TIFF_PACKBITS, BW_TIFF_ZSTD};
  for (int ci = 0; ci < 5; ci++) {
    if (!bw_tiff_compression_available(comps[ci])) continue;
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_I32;
    p.ndim = 3;
    p.shape[0] = 2;
    p.shape[1] = 20;
    p.shape[2] = 33;
    p.compression = comps[ci];
    p.tiled = ci % 2;
    p.tile_width = p.tile_length = 16;
    p.rows_per_strip = 6;
    p.predictor = comps[ci] == BW_TIFF_LZW || comps[ci] == BW_TIFF_ZSTD;
    size_t n = nelem(3, p.shape);
    int32_t *data = malloc(n * 4);
    fill_random(data, BW_I32, n);
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 5, &e) == BW_OK, "write: %s", e.message);
    size_t size;
    unsigned char *img = slurp(path, &size);
    CHECK(img, "slurp");
    capture_begin(&cap, &t);
    for (int it = 0; it < 400; it++) {
      unsigned char *m = malloc(size);
      memcpy(m, img, size);
      int flips = 1 + (int)rnd_below(4);
      for (int k = 0; k < flips; k++) {
        size_t at = (size_t)rnd_below((ptrdiff_t)size);
        /* Half the time aim at the directories (after the pixels). */
        if (rnd() & 1) at = size - 1 - (size_t)rnd_below((ptrdiff_t)(size / 4));
        m[at] = (unsigned char)rnd();
      }
      bw_tiff_reader *r = NULL;
      if (bw_tiff_open_memory(m, size, &r, &e) == BW_OK) {
        const bw_tiff_info *in = bw_tiff_reader_info(r);
        size_t bytes = nelem(in->ndim, in->shape) * bw_dtype_size(in->dtype);
        if (bytes <= ((size_t)1 << 26)) free(read_whole(r, &e));
        bw_tiff_close(r);
      }
      free(m);
    }
    long printed = capture_end(&cap);
    free(img);
    free(data);
    CHECK(printed == 0, "%ld bytes printed", printed);
  }
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Spacing, BigTIFF, tags                                                   */
/* ------------------------------------------------------------------------ */

static void test_spacing_roundtrip(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "sp.tif", path, sizeof path);
  static const double sets[][3] = {{1, 1, 1}, {2.5, 0.123456789012345, 3.3e-4},
                                   {1e-7, 1e5, 0.1}, {0.3, 0.3, 0.30000000000000004}};
  for (int nd = 2; nd <= 3; nd++)
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
      bw_tiff_write_params p;
      bw_tiff_write_params_init(&p);
      p.ndim = nd;
      p.shape[0] = 2;
      p.shape[1] = 3;
      p.shape[2] = 4;
      memcpy(p.spacing, sets[k], sizeof sets[k]);
      uint8_t data[24] = {0};
      bw_error e = {BW_OK, ""};
      CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "write: %s", e.message);
      bw_tiff_reader *r = NULL;
      CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
      const bw_tiff_info *in = bw_tiff_reader_info(r);
      for (int i = 0; i < nd; i++)
        CHECK(in->spacing[i] == sets[k][i], "nd %d set %zu axis %d: %.17g != %.17g", nd, k, i,
              in->spacing[i], sets[k][i]);
      bw_tiff_close(r);
    }
  tmpdir_remove(&t);
}

/* BigTIFF: forced, automatic for images past 4 GB (checked on the header
 * of the temporary file, then aborted), refused when forbidden. */
static void test_bigtiff(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "b.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = BW_F64;
  p.ndim = 3;
  p.shape[0] = 2;
  p.shape[1] = 17;
  p.shape[2] = 19;
  p.bigtiff = 1;
  p.compression = BW_TIFF_DEFLATE;
  p.predictor = 1;
  size_t n = nelem(3, p.shape);
  double *data = malloc(n * 8);
  fill_random(data, BW_F64, n);
  bw_error e = {BW_OK, ""};
  CHECK(write_array(path, &p, data, 4, &e) == BW_OK, "write: %s", e.message);
  bw_tiff_info in;
  double *back = read_file(path, &in, &e);
  CHECK(back && memcmp(back, data, n * 8) == 0, "bigtiff data: %s", e.message);
  CHECK(in.bigtiff == 1, "not BigTIFF");
  free(back);
  free(data);
  unlink(path);

  bw_tiff_write_params_init(&p);
  p.ndim = 3;
  p.shape[0] = 3;
  p.shape[1] = 40000;
  p.shape[2] = 40000; /* 4.8 GB of u8 */
  for (int mode = 0; mode < 4; mode++) {
    p.bigtiff = mode == 1 ? 0 : -1;
    p.compression = mode >= 2 ? BW_TIFF_LZW : BW_TIFF_NONE;
    if (mode == 3) p.bigtiff = 0;
    bw_tiff_writer *w = NULL;
    bw_status st = bw_tiff_create(path, &p, &w, &e);
    if (mode == 1) {
      CHECK(st == BW_ERR_PARAM && !w, "bigtiff 0 accepted for 4.8 GB: %s", e.message);
      CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
      continue;
    }
    CHECK(st == BW_OK, "create mode %d: %s", mode, e.message);
    char name[256], tmp[900];
    CHECK(tmpdir_count(&t, name, sizeof name) == 1, "temporary file");
    CHECK(strncmp(name, "b.tif.tmp-", 10) == 0, "temporary name %s", name);
    snprintf(tmp, sizeof tmp, "%s/%s", t.path, name);
    size_t sz;
    unsigned char *hdr = slurp(tmp, &sz);
    CHECK(hdr && sz >= 8, "header");
    int version = host_big_endian() ? hdr[3] : hdr[2];
    free(hdr);
    CHECK(version == (mode == 3 ? 42 : 43), "mode %d: version %d", mode, version);
    bw_tiff_abort(w);
    CHECK(tmpdir_count(&t, NULL, 0) == 0, "abort left a file");
  }
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Every bad parameter of bw_tiff_create: its status, a message, no file. */
static void test_writer_params(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "p.tif", path, sizeof path);
  struct {
    const char *what;
    bw_status want;
    int field;
    double value;
  } cases[] = {
      {"dtype 0", BW_ERR_DTYPE, 0, 0},       {"dtype 99", BW_ERR_DTYPE, 0, 99},
      {"ndim 1", BW_ERR_NDIM, 1, 1},         {"ndim 4", BW_ERR_NDIM, 1, 4},
      {"shape 0", BW_ERR_SHAPE, 2, 0},       {"shape -3", BW_ERR_SHAPE, 2, -3},
      {"shape 2^32", BW_ERR_SHAPE, 2, 4294967296.0},
      {"spacing 0", BW_ERR_PARAM, 3, 0},     {"spacing -1", BW_ERR_PARAM, 3, -1},
      {"spacing nan", BW_ERR_PARAM, 3, NAN}, {"spacing inf", BW_ERR_PARAM, 3, INFINITY},
      {"compression 9", BW_ERR_PARAM, 4, 9}, {"compression -1", BW_ERR_PARAM, 4, -1},
      {"level for lzw", BW_ERR_PARAM, 5, 3}, {"deflate level 10", BW_ERR_PARAM, 6, 10},
      {"zstd level 23", BW_ERR_PARAM, 7, 23},
      {"predictor without compression", BW_ERR_PARAM, 8, 1},
      {"predictor 2", BW_ERR_PARAM, 9, 2},   {"tile width 100", BW_ERR_PARAM, 10, 100},
      {"tile length 8", BW_ERR_PARAM, 11, 8}, {"tile width 0", BW_ERR_PARAM, 10, 0},
      {"tiled 2", BW_ERR_PARAM, 12, 2},      {"bigtiff 2", BW_ERR_PARAM, 13, 2},
      {"strip over 1 GiB", BW_ERR_PARAM, 14, 0}, {"tile row over 1 GiB", BW_ERR_PARAM, 15, 0},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.shape[0] = 10;
    p.shape[1] = 10;
    double v = cases[k].value;
    switch (cases[k].field) {
    case 0: p.dtype = (bw_dtype)(int)v; break;
    case 1: p.ndim = (int)v; break;
    case 2: p.shape[1] = (int64_t)v; break;
    case 3: p.spacing[0] = v; break;
    case 4: p.compression = (bw_tiff_compression)(int)v; break;
    case 5: p.compression = BW_TIFF_LZW, p.level = (int)v; break;
    case 6: p.compression = BW_TIFF_DEFLATE, p.level = (int)v; break;
    case 7: p.compression = BW_TIFF_ZSTD, p.level = (int)v; break;
    case 8: p.predictor = (int)v; break;
    case 9: p.compression = BW_TIFF_LZW, p.predictor = (int)v; break;
    case 10: p.tiled = 1, p.tile_width = (uint32_t)v; break;
    case 11: p.tiled = 1, p.tile_length = (uint32_t)v; break;
    case 12: p.tiled = (int)v; break;
    case 13: p.bigtiff = (int)v; break;
    case 14: p.dtype = BW_F64, p.shape[0] = 100000, p.shape[1] = 200000000,
             p.rows_per_strip = 1000; break;
    case 15: p.dtype = BW_F64, p.shape[1] = 4000000000, p.tiled = 1; break;
    }
    if (cases[k].field == 7 && !bw_tiff_compression_available(BW_TIFF_ZSTD)) continue;
    bw_tiff_writer *w = NULL;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_create(path, &p, &w, &e);
    CHECK(st == cases[k].want && !w, "%s: status %s (%s)", cases[k].what, bw_status_string(st),
          e.message);
    CHECK(e.status == st && strlen(e.message) > 10, "%s: message '%s'", cases[k].what,
          e.message);
    CHECK(tmpdir_count(&t, NULL, 0) == 0, "%s: file left", cases[k].what);
  }
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.shape[0] = p.shape[1] = 4;
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_create(NULL, &p, &w, &e) == BW_ERR_NULL, "NULL path");
  CHECK(bw_tiff_create(path, NULL, &w, &e) == BW_ERR_NULL, "NULL params");
  CHECK(bw_tiff_create(path, &p, NULL, &e) == BW_ERR_NULL, "NULL out");
  char nodir[700];
  tmpdir_file(&t, "no/such/folder/x.tif", nodir, sizeof nodir);
  CHECK(bw_tiff_create(nodir, &p, &w, &e) == BW_ERR_IO && !w, "missing folder: %s",
        e.message);
  CHECK(strstr(e.message, "No such file") != NULL, "message: %s", e.message);
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
  tmpdir_remove(&t);
}

/* Misplaced regions and mismatched views: an error, nothing changes, the
 * writer goes on.  Finishing early fails and leaves nothing behind; so does
 * aborting. */
static void test_writer_sequence(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "seq.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = BW_U16;
  p.ndim = 3;
  p.shape[0] = 3;
  p.shape[1] = 10;
  p.shape[2] = 6;
  size_t n = nelem(3, p.shape);
  uint16_t *data = malloc(n * 2);
  fill_random(data, BW_U16, n);
  ptrdiff_t shape[3] = {3, 10, 6};
  bw_view all = bw_view_contiguous(data, BW_U16, 3, shape);
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  struct {
    bw_region reg;
    bw_status want;
  } bad[] = {
      {{{0, 3, 0}, {1, 2, 6}}, BW_ERR_REGION},  /* skips rows 0-2 */
      {{{1, 0, 0}, {1, 10, 6}}, BW_ERR_REGION}, /* page 1 first */
      {{{0, 0, 0}, {1, 2, 5}}, BW_ERR_REGION},  /* not whole rows */
      {{{0, 0, 1}, {1, 2, 5}}, BW_ERR_REGION},
      {{{0, 0, 0}, {2, 5, 6}}, BW_ERR_REGION},  /* two pages, part of each */
      {{{0, 0, 0}, {1, 11, 6}}, BW_ERR_REGION}, /* past the end */
      {{{0, -1, 0}, {1, 2, 6}}, BW_ERR_REGION},
      {{{0, 0, 0}, {4, 10, 6}}, BW_ERR_REGION},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    bw_view v = all;
    for (int i = 0; i < 3; i++) v.shape[i] = bad[k].reg.size[i];
    bw_status st = bw_tiff_write(w, &bad[k].reg, &v, &e);
    CHECK(st == bad[k].want, "bad region %zu: %s (%s)", k, bw_status_string(st), e.message);
    CHECK(strlen(e.message) > 10, "message");
  }
  bw_region first = {{0, 0, 0}, {1, 4, 6}};
  bw_view sub;
  CHECK(bw_view_subview(&all, &first, &sub, &e) == BW_OK, "subview");
  bw_view wrong = sub;
  wrong.shape[1] = 3;
  CHECK(bw_tiff_write(w, &first, &wrong, &e) == BW_ERR_SHAPE, "shape mismatch: %s", e.message);
  wrong = sub;
  wrong.dtype = BW_I16;
  CHECK(bw_tiff_write(w, &first, &wrong, &e) == BW_ERR_DTYPE, "dtype mismatch");
  wrong = sub;
  wrong.ndim = 2;
  CHECK(bw_tiff_write(w, &first, &wrong, &e) == BW_ERR_NDIM, "ndim mismatch");
  wrong = sub;
  wrong.data = NULL;
  CHECK(bw_tiff_write(w, &first, &wrong, &e) == BW_ERR_NULL, "NULL data");
  CHECK(bw_tiff_write(w, NULL, &sub, &e) == BW_ERR_NULL, "NULL region");
  /* Still usable: write everything properly. */
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_OK, "first: %s", e.message);
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_ERR_REGION, "the same rows twice");
  bw_region rest = {{0, 4, 0}, {1, 6, 6}};
  CHECK(bw_view_subview(&all, &rest, &sub, &e) == BW_OK, "subview");
  CHECK(bw_tiff_write(w, &rest, &sub, &e) == BW_OK, "rest: %s", e.message);
  bw_region pages = {{1, 0, 0}, {2, 10, 6}};
  CHECK(bw_view_subview(&all, &pages, &sub, &e) == BW_OK, "subview");
  CHECK(bw_tiff_write(w, &pages, &sub, &e) == BW_OK, "pages: %s", e.message);
  CHECK(bw_tiff_writer_complete(w), "complete");
  CHECK(bw_tiff_write(w, &pages, &sub, &e) == BW_ERR_REGION, "past the end");
  CHECK(bw_tiff_finish(w, &e) == BW_OK, "finish: %s", e.message);
  uint16_t *back = read_file(path, NULL, &e);
  CHECK(back && memcmp(back, data, n * 2) == 0, "data: %s", e.message);
  free(back);
  unlink(path);

  /* Finishing early. */
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  CHECK(bw_view_subview(&all, &first, &sub, &e) == BW_OK, "subview");
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_OK, "first: %s", e.message);
  CHECK(tmpdir_count(&t, NULL, 0) == 1, "temporary file while writing");
  CHECK(access(path, F_OK) != 0, "final name exists before finish");
  bw_status st = bw_tiff_finish(w, &e);
  CHECK(st == BW_ERR_REGION, "early finish: %s (%s)", bw_status_string(st), e.message);
  CHECK(strstr(e.message, "4 of 30 rows") != NULL, "message: %s", e.message);
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left after early finish");
  /* Aborting. */
  CHECK(bw_tiff_create(path, &p, &w, &e) == BW_OK, "create: %s", e.message);
  CHECK(bw_tiff_write(w, &first, &sub, &e) == BW_OK, "first: %s", e.message);
  bw_tiff_abort(w);
  bw_tiff_abort(NULL);
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left after abort");
  CHECK(bw_tiff_finish(NULL, &e) == BW_ERR_NULL, "NULL finish");
  free(data);
  tmpdir_remove(&t);
}

/* A write that fails at the system level (file size limit): BW_ERR_IO
 * with the system's message, the temporary file removed, later calls
 * refused. */
static void test_writer_io_failure(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "io.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.shape[0] = 1000;
  p.shape[1] = 1000;
  size_t n = nelem(2, p.shape);
  uint8_t *data = malloc(n);
  fill_random(data, BW_U8, n);
  struct rlimit old, lim;
  CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0, "getrlimit");
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  lim = old;
  lim.rlim_cur = 100000;
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
  bw_tiff_writer *w = NULL;
  bw_error e = {BW_OK, ""};
  bw_status st = bw_tiff_create(path, &p, &w, &e);
  ptrdiff_t sh[2] = {1000, 1000};
  bw_view all = bw_view_contiguous(data, BW_U8, 2, sh);
  bw_status wst = BW_OK;
  bw_error we = {BW_OK, ""};
  if (st == BW_OK) {
    bw_region reg = {{0, 0, 0}, {1000, 1000, 0}};
    wst = bw_tiff_write(w, &reg, &all, &we);
  }
  int left = tmpdir_count(&t, NULL, 0);
  bw_status again = BW_OK;
  if (st == BW_OK) {
    bw_region reg = {{0, 0, 0}, {1000, 1000, 0}};
    again = bw_tiff_write(w, &reg, &all, &e);
  }
  bw_status fst = st == BW_OK ? bw_tiff_finish(w, &e) : BW_OK;
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  free(data);
  CHECK(st == BW_OK, "create: %s", e.message);
  CHECK(wst == BW_ERR_IO, "write past the size limit: %s (%s)", bw_status_string(wst),
        we.message);
  CHECK(strstr(we.message, "too large") != NULL, "message: %s", we.message);
  CHECK(left == 0, "temporary file not removed");
  CHECK(again == BW_ERR_IO, "a failed writer accepted more");
  CHECK(fst == BW_ERR_IO, "finish of a failed writer: %s", bw_status_string(fst));
  CHECK(tmpdir_count(&t, NULL, 0) == 0, "file left");
  tmpdir_remove(&t);
}

/* Reader argument checks leave dst untouched; missing files are I/O
 * errors. */
static void test_reader_errors(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "r.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = BW_I8;
  p.ndim = 3;
  p.shape[0] = 2;
  p.shape[1] = 5;
  p.shape[2] = 6;
  int8_t data[60];
  fill_random(data, BW_I8, 60);
  bw_error e = {BW_OK, ""};
  CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "write: %s", e.message);
  bw_tiff_reader *r = NULL;
  CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
  int8_t out[60];
  memset(out, 0x5A, sizeof out);
  ptrdiff_t sh[3] = {2, 5, 6};
  bw_view v = bw_view_contiguous(out, BW_I8, 3, sh);
  bw_region all = {{0, 0, 0}, {2, 5, 6}};
  struct {
    bw_region reg;
    bw_status want;
  } bad[] = {
      {{{0, 0, 0}, {2, 5, 7}}, BW_ERR_REGION}, {{{1, 0, 0}, {2, 5, 6}}, BW_ERR_REGION},
      {{{0, -1, 0}, {2, 5, 6}}, BW_ERR_REGION}, {{{0, 0, 0}, {2, 0, 6}}, BW_ERR_REGION},
      {{{0, 0, 0}, {2, 4, 6}}, BW_ERR_SHAPE},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    bw_status st = bw_tiff_read(r, &bad[k].reg, &v, &e);
    CHECK(st == bad[k].want, "region %zu: %s", k, bw_status_string(st));
  }
  bw_view w2 = v;
  w2.dtype = BW_U8;
  CHECK(bw_tiff_read(r, &all, &w2, &e) == BW_ERR_DTYPE, "dtype");
  w2 = v;
  w2.ndim = 2;
  CHECK(bw_tiff_read(r, &all, &w2, &e) == BW_ERR_NDIM, "ndim");
  w2 = v;
  w2.data = NULL;
  CHECK(bw_tiff_read(r, &all, &w2, &e) == BW_ERR_NULL, "NULL data");
  CHECK(bw_tiff_read(r, NULL, &v, &e) == BW_ERR_NULL, "NULL region");
  CHECK(bw_tiff_read(NULL, &all, &v, &e) == BW_ERR_NULL, "NULL reader");
  for (int i = 0; i < 60; i++) CHECK(out[i] == 0x5A, "dst touched at %d", i);
  CHECK(bw_tiff_read(r, &all, &v, NULL) == BW_OK, "read without err");
  CHECK(memcmp(out, data, 60) == 0, "data");
  bw_tiff_close(r);
  bw_tiff_close(NULL);
  CHECK(bw_tiff_reader_info(NULL) == NULL, "info of NULL");

  r = (bw_tiff_reader *)1;
  char missing[700];
  tmpdir_file(&t, "missing.tif", missing, sizeof missing);
  CHECK(bw_tiff_open(missing, &r, &e) == BW_ERR_IO && r == NULL, "missing file: %s",
        e.message);
  CHECK(strstr(e.message, "missing.tif") && strstr(e.message, "No such file"), "message: %s",
        e.message);
  CHECK(bw_tiff_open(t.path, &r, &e) == BW_ERR_IO, "a folder: %s", e.message);
  CHECK(bw_tiff_open(NULL, &r, &e) == BW_ERR_NULL, "NULL path");
  CHECK(bw_tiff_open(path, NULL, &e) == BW_ERR_NULL, "NULL out");
  CHECK(bw_tiff_open_memory(NULL, 10, &r, &e) == BW_ERR_NULL, "NULL data");
  tmpdir_remove(&t);
}

/* Writer tags, found in the raw bytes: Software names Blockwise and its
 * version, ImageDescription holds the page count and the spacing lines in
 * their shortest exact form. */
static void test_tags(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "tags.tif", path, sizeof path);
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.ndim = 3;
  p.shape[0] = 2;
  p.shape[1] = 2;
  p.shape[2] = 2;
  p.spacing[0] = 4;
  p.spacing[1] = 0.1;
  p.spacing[2] = 0.25;
  uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  bw_error e = {BW_OK, ""};
  CHECK(write_array(path, &p, data, 1, &e) == BW_OK, "write: %s", e.message);
  size_t sz;
  char *img = (char *)slurp(path, &sz);
  CHECK(img, "slurp");
  char want[64];
  snprintf(want, sizeof want, "Blockwise %s", bw_version_string());
  const char *desc = "images=2\nxspacing=0.25\nyspacing=0.1\nspacing=4\n";
  size_t lw = strlen(want) + 1, ld = strlen(desc) + 1;
  int found_sw = 0, found_desc = 0;
  for (size_t i = 0; i < sz; i++) {
    if (i + lw <= sz && memcmp(img + i, want, lw) == 0) found_sw++;
    if (i + ld <= sz && memcmp(img + i, desc, ld) == 0) found_desc++;
  }
  free(img);
  CHECK(found_sw == 2, "Software tag on both pages (%d)", found_sw);
  CHECK(found_desc == 2, "description on both pages (%d)", found_desc);
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */
/* Volumes of one page, unsupported files, the decoded-chunk cache          */
/* ------------------------------------------------------------------------ */

/* A 1 x 5 x 7 volume keeps its three axes and spacings through a round
 * trip: the writer's images= line marks it as a volume.  Descriptions from
 * other writers decide the same way (images= or slices=), except the
 * ImageJ description tifffile writes for every single image (images=1,
 * no slices line); without such a line one page is 2-D, as before. */
static void test_single_page_volume(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "vol1.tif", path, sizeof path);
  static const double sp[3] = {2.5, 0.5, 0.25};
  for (int layout = 0; layout < 3; layout++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_U16;
    p.ndim = 3;
    p.shape[0] = 1;
    p.shape[1] = 5;
    p.shape[2] = 7;
    memcpy(p.spacing, sp, sizeof sp);
    if (layout == 1) p.compression = BW_TIFF_DEFLATE, p.rows_per_strip = 2;
    if (layout == 2) p.tiled = 1, p.tile_width = 16, p.tile_length = 16;
    uint16_t data[35];
    fill_random(data, BW_U16, 35);
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, layout, &e) == BW_OK, "layout %d: write: %s", layout,
          e.message);
    bw_tiff_reader *r = NULL;
    CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "layout %d: open: %s", layout, e.message);
    const bw_tiff_info *in = bw_tiff_reader_info(r);
    int ok = in->ndim == 3 && in->shape[0] == 1 && in->shape[1] == 5 && in->shape[2] == 7;
    for (int i = 0; i < 3; i++) ok = ok && in->spacing[i] == sp[i];
    if (!ok) bw_tiff_close(r);
    CHECK(ok, "layout %d: ndim %d shape %lld x %lld x %lld spacing %g %g %g", layout, in->ndim,
          (long long)in->shape[0], (long long)in->shape[1], (long long)in->shape[2],
          in->spacing[0], in->spacing[1], in->spacing[2]);
    uint16_t *back = read_whole(r, &e);
    uint16_t part[12];
    bw_region reg = {{0, 1, 2}, {1, 3, 4}};
    ptrdiff_t sh[3] = {1, 3, 4};
    bw_view v = bw_view_contiguous(part, BW_U16, 3, sh);
    bw_status st = bw_tiff_read(r, &reg, &v, &e);
    bw_tiff_close(r);
    int same = back && memcmp(back, data, sizeof data) == 0;
    free(back);
    CHECK(same, "layout %d: pixels differ", layout);
    CHECK(st == BW_OK, "layout %d: partial read: %s", layout, e.message);
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 4; x++)
        CHECK(part[y * 4 + x] == data[(1 + y) * 7 + 2 + x], "layout %d: partial read differs",
              layout);
  }
  /* A 2-D image stays 2-D. */
  {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.shape[0] = 5;
    p.shape[1] = 7;
    uint8_t data[35] = {0};
    bw_error e = {BW_OK, ""};
    bw_tiff_info in;
    memset(&in, 0, sizeof in);
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "2-D write: %s", e.message);
    free(read_file(path, &in, &e));
    CHECK(in.ndim == 2 && in.shape[0] == 5 && in.shape[1] == 7, "2-D read as %d-D", in.ndim);
  }
  /* Descriptions of other writers, on one page. */
  static const struct {
    const char *desc;
    int ndim;
    double zspacing;
  } cases[] = {
      {NULL, 2, 0},
      {"images=1\n", 3, 1},
      {"slices=1\nspacing=3\n", 3, 3},
      {"ImageJ=1.53t\nimages=1\nslices=1\nspacing=3\n", 3, 3},
      {"ImageJ=1.11a\nimages=1\nhyperstack=true\nmode=grayscale\nspacing=2.5", 2, 0},
      {"images=1.5\n", 2, 0},
      {"images=0\n", 2, 0},
      {"a microscope's notes, without keys\n", 2, 0},
  };
  uint8_t pix[6] = {1, 2, 3, 4, 5, 6};
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    tb_page pg;
    tb_grey(&pg, 3, 2, 8, 1, pix, 6);
    if (cases[k].desc) {
      tb_tag d = {270, T_ASCII, 0, {0, 0}, NULL, cases[k].desc, 0};
      tb_set_tag(&pg, &d);
    }
    tb_file f;
    tb_build(&f, 0, &pg, 1);
    bw_tiff_reader *r = NULL;
    bw_error e = {BW_OK, ""};
    bw_status st = bw_tiff_open_memory(f.b, f.n, &r, &e);
    if (st != BW_OK) free(f.b);
    CHECK(st == BW_OK, "case %zu: %s", k, e.message);
    bw_tiff_info in = *bw_tiff_reader_info(r);
    uint8_t *back = read_whole(r, &e);
    bw_tiff_close(r);
    free(f.b);
    int same = back && memcmp(back, pix, 6) == 0;
    free(back);
    CHECK(in.ndim == cases[k].ndim, "case %zu: %d axes, want %d", k, in.ndim, cases[k].ndim);
    CHECK(same, "case %zu: pixels (%s)", k, e.message);
    int yx = in.ndim - 2;
    CHECK(in.shape[yx] == 2 && in.shape[yx + 1] == 3 && (in.ndim == 2 || in.shape[0] == 1),
          "case %zu: shape", k);
    CHECK(in.ndim == 2 || in.spacing[0] == cases[k].zspacing, "case %zu: z spacing %g", k,
          in.spacing[0]);
  }
  tmpdir_remove(&t);
}

/* Opens a file image and expects @want with @word in the message. */
static int expect_status(const tb_file *f, bw_status want, const char *word, const char *what) {
  bw_tiff_reader *r = NULL;
  bw_error e = {BW_OK, ""};
  bw_status st = bw_tiff_open_memory(f->b, f->n, &r, &e);
  bw_tiff_close(r);
  if (st != want || e.status != st || !strstr(e.message, word)) {
    fprintf(stderr, "%s: %s (%s), expected %s with \"%s\"\n", what, bw_status_string(st),
            e.message, bw_status_string(want), word);
    return 0;
  }
  if (getenv("BW_TEST_VERBOSE")) printf("  %s -> %s: %s\n", what, bw_status_string(st), e.message);
  return 1;
}

/* Valid files in layouts or encodings the reader does not handle give
 * BW_ERR_UNSUPPORTED with a message that names what; corrupt files of the
 * same kinds stay BW_ERR_PARAM, and pixel formats BW_ERR_DTYPE. */
static void test_unsupported(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  capture cap;
  capture_begin(&cap, &t);
  int ok = 1;
  uint8_t pix[64];
  memset(pix, 3, sizeof pix);
  tb_page pg[2];
  tb_file f;
#define EXPECT(n, want, word, what)                                                           \
  do {                                                                                        \
    tb_build(&f, 0, pg, n);                                                                   \
    if (!expect_status(&f, want, word, what)) ok = 0;                                         \
    free(f.b);                                                                                \
  } while (0)
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_grey(&pg[1], 5, 4, 8, 1, pix, 20);
  EXPECT(2, BW_ERR_UNSUPPORTED, "different sizes", "pages of different sizes");
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_set(&pg[0], 32997, T_LONG, 2);
  EXPECT(1, BW_ERR_UNSUPPORTED, "ImageDepth 2", "ImageDepth 2");
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_set(&pg[0], 259, T_SHORT, 12345);
  EXPECT(1, BW_ERR_UNSUPPORTED, "compression 12345", "unknown compression");
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 16);
  tb_set(&pg[0], 254, T_LONG, 1);
  EXPECT(1, BW_ERR_UNSUPPORTED, "reduced-resolution", "reduced-resolution pages only");
  {
    /* ImageJ's layout for large stacks: one directory, the pages' pixels
     * one after the other. */
    tb_grey(&pg[0], 4, 4, 8, 1, pix, 64);
    tb_tag d = {270, T_ASCII, 0, {0, 0}, NULL, "ImageJ=1.53t\nimages=4\nslices=4\n", 0};
    tb_set_tag(&pg[0], &d);
    EXPECT(1, BW_ERR_UNSUPPORTED, "one page", "ImageJ stack after one directory");
  }
  /* The same kinds, corrupt: pixels the file is too small to hold. */
  tb_grey(&pg[0], 70000, 70000, 16, 1, pix, 64);
  tb_set(&pg[0], 259, T_SHORT, 8);
  EXPECT(1, BW_ERR_PARAM, "truncated or corrupt", "9 GiB of deflate in 64 bytes");
  tb_grey(&pg[0], 1u << 28, 16, 64, 3, pix, 64);
  tb_set(&pg[0], 279, T_LONG, (uint64_t)1 << 31);
  EXPECT(1, BW_ERR_PARAM, "truncated or corrupt", "32 GiB uncompressed in 64 bytes");
  tb_grey(&pg[0], 4, 4, 8, 1, pix, 48);
  tb_set(&pg[0], 277, T_SHORT, 3);
  EXPECT(1, BW_ERR_DTYPE, "samples per pixel", "RGB");
#undef EXPECT

  /* Rows past the 1 GiB limit in a file that holds them (sparse): valid,
   * not supported. */
  {
    const uint32_t W = (1u << 30) + 16;
    tb_grey(&pg[0], W, 1, 8, 1, NULL, 0);
    tb_set(&pg[0], 273, T_LONG, 4096);
    tb_set(&pg[0], 279, T_LONG, W);
    tb_build(&f, 0, pg, 1);
    char path[600];
    tmpdir_file(&t, "wide.tif", path, sizeof path);
    FILE *fp = fopen(path, "wb");
    int written = fp && fwrite(f.b, 1, f.n, fp) == f.n;
    if (fp) fclose(fp);
    free(f.b);
    if (!written || truncate(path, (off_t)4096 + W) != 0) {
      ok = 0;
      fprintf(stderr, "cannot make the sparse file %s\n", path);
    } else {
      bw_tiff_reader *r = NULL;
      bw_error e = {BW_OK, ""};
      bw_status st = bw_tiff_open(path, &r, &e);
      bw_tiff_close(r);
      if (st != BW_ERR_UNSUPPORTED || !strstr(e.message, "limit of 1 GiB")) {
        ok = 0;
        fprintf(stderr, "1 GiB rows: %s (%s)\n", bw_status_string(st), e.message);
      }
    }
    unlink(path);
  }
  long printed = capture_end(&cap);
  CHECK(ok, "see above");
  CHECK(printed == 0, "%ld bytes printed on stderr", printed);
  CHECK(strcmp(bw_status_string(BW_ERR_UNSUPPORTED), "unknown status") != 0, "status string");
  tmpdir_remove(&t);
}

/* Reads @bands bands of rows (all columns; per page in 3-D) and compares
 * them with @data; returns the counters of the reader. */
static int read_bands(const char *path, int bands, const uint16_t *data, bw_tiff_counters *c,
                      bw_error *e) {
  bw_tiff_reader *r = NULL;
  if (bw_tiff_open(path, &r, e) != BW_OK) return 0;
  const bw_tiff_info *in = bw_tiff_reader_info(r);
  int nd = in->ndim;
  ptrdiff_t pages = nd == 3 ? (ptrdiff_t)in->shape[0] : 1;
  ptrdiff_t rows = (ptrdiff_t)in->shape[nd - 2], cols = (ptrdiff_t)in->shape[nd - 1];
  uint16_t *buf = malloc((size_t)(rows * cols) * 2);
  int ok = buf != NULL;
  for (ptrdiff_t z = 0; ok && z < pages; z++)
    for (int b = 0; ok && b < bands; b++) {
      ptrdiff_t y0 = rows * b / bands, y1 = rows * (b + 1) / bands;
      bw_region reg;
      memset(&reg, 0, sizeof reg);
      ptrdiff_t sh[3] = {1, y1 - y0, cols};
      if (nd == 3) reg.start[0] = z, reg.size[0] = 1;
      reg.start[nd - 2] = y0;
      reg.size[nd - 2] = y1 - y0;
      reg.size[nd - 1] = cols;
      bw_view v = bw_view_contiguous(buf, BW_U16, nd, nd == 3 ? sh : sh + 1);
      ok = bw_tiff_read(r, &reg, &v, e) == BW_OK &&
           memcmp(buf, data + (size_t)((z * rows + y0) * cols), (size_t)((y1 - y0) * cols) * 2) == 0;
      if (!ok && e->status == BW_OK) snprintf(e->message, sizeof e->message, "pixels differ");
    }
  bw_tiff_reader_counters(r, c);
  bw_tiff_close(r);
  free(buf);
  return ok;
}

/* Compressed strips and tiles read in bands are decoded once each: the
 * same pixels as one read, chunks_decoded the number of chunks (not chunks
 * times bands), and no more bytes read than one read takes.  The cache
 * holds one row of chunks: going back to an earlier row decodes it again,
 * staying in the row does not. */
static void test_decode_cache(void) {
  tmpdir t;
  CHECK(tmpdir_make(&t) == 0, "mkdtemp");
  char path[600];
  tmpdir_file(&t, "cache.tif", path, sizeof path);
  const ptrdiff_t Z = 3, Y = 1000, X = 1200;
  uint16_t *data = malloc((size_t)(Z * Y * X) * 2);
  fill_smooth_u16(data, (size_t)(Z * Y), (size_t)X);
  for (int layout = 0; layout < 5; layout++) {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_U16;
    p.shape[0] = Y;
    p.shape[1] = X;
    p.compression = BW_TIFF_DEFLATE;
    p.rows_per_strip = (uint32_t)Y;
    uint64_t chunks = 1;
    const char *name = "deflate, one strip";
    if (layout == 1)
      p.tiled = 1, p.tile_width = p.tile_length = 128, chunks = 8 * 10,
      name = "deflate, 128 x 128 tiles";
    if (layout == 2)
      p.compression = BW_TIFF_LZW, p.predictor = 1, p.rows_per_strip = 64, chunks = 16,
      name = "lzw, 64-row strips";
    if (layout == 3)
      p.tiled = 1, p.tile_width = 1024, p.tile_length = 256, chunks = 4 * 2,
      name = "deflate, 1024 x 256 tiles";
    if (layout == 4) {
      p.ndim = 3, p.shape[0] = Z, p.shape[1] = Y, p.shape[2] = X, chunks = (uint64_t)Z;
      name = "deflate, three pages of one strip";
    }
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "%s: write: %s", name, e.message);
    bw_tiff_counters one, banded;
    CHECK(read_bands(path, 1, data, &one, &e), "%s: one read: %s", name, e.message);
    CHECK(read_bands(path, 16, data, &banded, &e), "%s: 16 bands: %s", name, e.message);
    CHECK(one.chunks_decoded == chunks, "%s: one read decoded %llu chunks, want %llu", name,
          (unsigned long long)one.chunks_decoded, (unsigned long long)chunks);
    CHECK(banded.chunks_decoded == chunks, "%s: 16 bands decoded %llu chunks, want %llu", name,
          (unsigned long long)banded.chunks_decoded, (unsigned long long)chunks);
    CHECK(banded.bytes_read == one.bytes_read, "%s: 16 bands read %llu bytes, one read %llu",
          name, (unsigned long long)banded.bytes_read, (unsigned long long)one.bytes_read);
  }
  /* The bound: one row of tiles. */
  {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_U16;
    p.shape[0] = Y;
    p.shape[1] = X;
    p.compression = BW_TIFF_DEFLATE;
    p.tiled = 1;
    p.tile_width = p.tile_length = 128;
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "write: %s", e.message);
    bw_tiff_reader *r = NULL;
    CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
    static const struct {
      ptrdiff_t y0;
      uint64_t decoded; /* tiles decoded by this read */
    } steps[] = {{0, 10}, {10, 0}, {130, 10}, {250, 0}, {5, 10}, {120, 10}};
    uint16_t *buf = malloc((size_t)(10 * X) * 2);
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
      bw_region reg = {{steps[k].y0, 0, 0}, {steps[k].y0 == 120 ? 10 : 6, X, 0}};
      ptrdiff_t sh[2] = {reg.size[0], X};
      bw_view v = bw_view_contiguous(buf, BW_U16, 2, sh);
      bw_tiff_counters c0, c1;
      bw_tiff_reader_counters(r, &c0);
      bw_status st = bw_tiff_read(r, &reg, &v, &e);
      bw_tiff_reader_counters(r, &c1);
      int same = st == BW_OK &&
                 memcmp(buf, data + (size_t)(steps[k].y0 * X), (size_t)(reg.size[0] * X) * 2) == 0;
      if (!same || c1.chunks_decoded - c0.chunks_decoded != steps[k].decoded) {
        bw_tiff_close(r);
        free(buf);
      }
      CHECK(same, "rows %td: %s", steps[k].y0, st == BW_OK ? "pixels differ" : e.message);
      CHECK(c1.chunks_decoded - c0.chunks_decoded == steps[k].decoded,
            "rows %td..: %llu tiles decoded, want %llu", steps[k].y0,
            (unsigned long long)(c1.chunks_decoded - c0.chunks_decoded),
            (unsigned long long)steps[k].decoded);
    }
    bw_tiff_close(r);
    free(buf);
  }
  /* Bands that overlap by a few rows (streaming with a halo), read into
   * whole rows: a strip inside a band is decoded straight into it, the
   * band's last strip through the cache, where the next band finds it.
   * Then into a destination one byte off alignment: the pixels still. */
  {
    bw_tiff_write_params p;
    bw_tiff_write_params_init(&p);
    p.dtype = BW_U16;
    p.shape[0] = 40;
    p.shape[1] = X;
    p.compression = BW_TIFF_DEFLATE;
    p.predictor = 1;
    p.rows_per_strip = 8;
    bw_error e = {BW_OK, ""};
    CHECK(write_array(path, &p, data, 0, &e) == BW_OK, "write: %s", e.message);
    bw_tiff_reader *r = NULL;
    CHECK(bw_tiff_open(path, &r, &e) == BW_OK, "open: %s", e.message);
    static const struct {
      ptrdiff_t y0, y1;
      uint64_t decoded;
    } bands[] = {{0, 16, 2}, {14, 30, 2}, {28, 37, 1}, {30, 40, 2}}; /* the last goes back a strip */
    unsigned char *raw = malloc((size_t)(16 * X) * 2 + 1);
    for (int misaligned = 0; misaligned < 2; misaligned++) {
      uint16_t *buf = (uint16_t *)(void *)(raw + misaligned);
      for (size_t k = 0; k < sizeof bands / sizeof *bands; k++) {
        bw_region reg = {{bands[k].y0, 0, 0}, {bands[k].y1 - bands[k].y0, X, 0}};
        ptrdiff_t sh[2] = {reg.size[0], X};
        bw_view v = bw_view_contiguous(buf, BW_U16, 2, sh);
        bw_tiff_counters c0, c1;
        bw_tiff_reader_counters(r, &c0);
        bw_status st = bw_tiff_read(r, &reg, &v, &e);
        bw_tiff_reader_counters(r, &c1);
        int same = st == BW_OK;
        for (ptrdiff_t i = 0; same && i < reg.size[0] * X; i++) {
          uint16_t got;
          memcpy(&got, (unsigned char *)buf + 2 * i, 2);
          same = got == data[(size_t)(bands[k].y0 * X + i)];
        }
        CHECK(same, "overlapping bands, rows %td..%td%s: %s", bands[k].y0, bands[k].y1,
              misaligned ? ", misaligned" : "", st == BW_OK ? "pixels differ" : e.message);
        if (!misaligned)
          CHECK(c1.chunks_decoded - c0.chunks_decoded == bands[k].decoded,
                "overlapping bands, rows %td..%td: %llu strips decoded, want %llu", bands[k].y0,
                bands[k].y1, (unsigned long long)(c1.chunks_decoded - c0.chunks_decoded),
                (unsigned long long)bands[k].decoded);
      }
    }
    free(raw);
    bw_tiff_close(r);
  }
  free(data);
  tmpdir_remove(&t);
}

/* ------------------------------------------------------------------------ */

typedef struct test_entry {
  const char *name;
  void (*fn)(void);
} test_entry;

static const test_entry tests[] = {
    {"roundtrip", test_roundtrip},
    {"write_regions", test_write_regions},
    {"subregions", test_subregions},
    {"partial_counters", test_partial_counters},
    {"page_jumps", test_page_jumps},
    {"byte_orders", test_crafted_byte_orders},
    {"fill_order", test_crafted_fill_order},
    {"reduced_pages", test_crafted_reduced_pages},
    {"spacing_tags", test_crafted_spacing},
    {"bad_files", test_bad_files},
    {"truncated", test_truncated},
    {"mutations", test_mutations},
    {"spacing_roundtrip", test_spacing_roundtrip},
    {"bigtiff", test_bigtiff},
    {"writer_params", test_writer_params},
    {"writer_sequence", test_writer_sequence},
    {"writer_io_failure", test_writer_io_failure},
    {"reader_errors", test_reader_errors},
    {"tags", test_tags},
    {"single_page_volume", test_single_page_volume},
    {"unsupported", test_unsupported},
    {"decode_cache", test_decode_cache},
};

int main(int argc, char **argv) {
  const int ntests = (int)(sizeof tests / sizeof *tests);
  int passed = 0, failed = 0, ran = 0;
  if (argc > 1 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < ntests; i++) printf("%s\n", tests[i].name);
    return 0;
  }
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0) continue;
    ran++;
    rng_state = 0x9E3779B97F4A7C15ull; /* same data alone or in a full run */
    int before = g_failures;
    tests[i].fn();
    if (g_failures == before) {
      passed++;
      printf("ok   %s\n", tests[i].name);
    } else {
      failed++;
      printf("FAIL %s\n", tests[i].name);
    }
  }
  if (ran == 0) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
