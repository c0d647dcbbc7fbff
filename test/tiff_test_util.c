/* Helpers of the TIFF layer's tests (tiff_test_util.h). */
#define _XOPEN_SOURCE 700

#include "tiff_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Random bytes, except that floats get finite random values (NaN payloads
 * would survive too, but a finite value is a clearer failure message). */
void fill_random(void *p, bw_dtype dt, size_t n) {
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
void fill_smooth_u16(uint16_t *p, size_t rows, size_t cols) {
  for (size_t y = 0; y < rows; y++)
    for (size_t x = 0; x < cols; x++) p[y * cols + x] = (uint16_t)(y * 7 + x * 3 + (rnd() & 3));
}

size_t nelem(int nd, const int64_t *shape) {
  size_t n = 1;
  for (int i = 0; i < nd; i++) n *= (size_t)shape[i];
  return n;
}

int tmpdir_make(tmpdir *t) {
  const char *base = getenv("BW_TEST_TMPDIR");
  if (!base || !*base) base = "/tmp";
  mkdir(base, 0777);
  snprintf(t->path, sizeof t->path, "%s/bwtiff-XXXXXX", base);
  return mkdtemp(t->path) ? 0 : -1;
}

void tmpdir_file(const tmpdir *t, const char *name, char *out, size_t len) {
  snprintf(out, len, "%s/%s", t->path, name);
}

int tmpdir_make_with(tmpdir *t, const char *name, char *out, size_t len) {
  if (tmpdir_make(t) != 0) return -1;
  tmpdir_file(t, name, out, len);
  return 0;
}

/* Number of entries in the folder (besides . and ..); the first name goes
 * to first (if not NULL). */
int tmpdir_count(const tmpdir *t, char *first, size_t len) {
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

void tmpdir_remove(tmpdir *t) {
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

unsigned char *slurp(const char *path, size_t *size) {
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

int spill(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int ok = fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok ? 0 : -1;
}

void capture_begin(capture *c, const tmpdir *t) {
  fflush(stderr);
  tmpdir_file(t, "stderr.txt", c->path, sizeof c->path);
  int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  c->saved = dup(2);
  dup2(fd, 2);
  close(fd);
}

/* Ends the capture; returns the bytes that were printed. */
long capture_end(capture *c) {
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

bw_tiff_write_params test_params(bw_dtype dtype, int64_t z, int64_t y, int64_t x) {
  bw_tiff_write_params p;
  bw_tiff_write_params_init(&p);
  p.dtype = dtype;
  p.ndim = z ? 3 : 2;
  const int64_t shape[3] = {z, y, x};
  memcpy(p.shape, z ? shape : shape + 1, (size_t)p.ndim * sizeof *shape);
  return p;
}

void *random_image(const bw_tiff_write_params *p, size_t *n) {
  *n = nelem(p->ndim, p->shape);
  void *data = malloc(*n * bw_dtype_size(p->dtype));
  if (data) fill_random(data, p->dtype, *n);
  return data;
}

/* Writes the C-contiguous @data with regions of @band rows (within each
 * page; band 0: the whole image in one call). */
bw_status write_array(const char *path, const bw_tiff_write_params *p, const void *data,
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

bw_tiff_reader *write_and_open(const char *path, const bw_tiff_write_params *p, const void *data,
                               ptrdiff_t band, bw_error *err) {
  bw_tiff_reader *r = NULL;
  if (write_array(path, p, data, band, err) != BW_OK || bw_tiff_open(path, &r, err) != BW_OK)
    return NULL;
  return r;
}

void *write_random_and_open(const char *path, const bw_tiff_write_params *p, ptrdiff_t band,
                            bw_tiff_reader **r, bw_error *err) {
  size_t n;
  void *data = random_image(p, &n);
  *r = data ? write_and_open(path, p, data, band, err) : NULL;
  if (!*r) {
    free(data);
    return NULL;
  }
  return data;
}

void *write_random_and_slurp(const char *path, const bw_tiff_write_params *p, ptrdiff_t band,
                             unsigned char **img, size_t *size, bw_error *err) {
  size_t n;
  void *data = random_image(p, &n);
  *img = NULL;
  if (data && write_array(path, p, data, band, err) == BW_OK) {
    *img = slurp(path, size);
    if (!*img) snprintf(err->message, sizeof err->message, "cannot read %s back", path);
  }
  if (!*img) {
    free(data);
    return NULL;
  }
  return data;
}

/* Reads the whole image of an open reader into a new contiguous buffer. */
void *read_whole(bw_tiff_reader *r, bw_error *err) {
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
void *read_file(const char *path, bw_tiff_info *info, bw_error *err) {
  bw_tiff_reader *r = NULL;
  if (bw_tiff_open(path, &r, err) != BW_OK) return NULL;
  if (info) *info = *bw_tiff_reader_info(r);
  void *buf = read_whole(r, err);
  bw_tiff_close(r);
  return buf;
}


bw_status read_counted(bw_tiff_reader *r, const bw_region *region, const bw_view *dst,
                       bw_tiff_counters *used, bw_error *err) {
  bw_tiff_counters c0, c1;
  bw_tiff_reader_counters(r, &c0);
  bw_status st = bw_tiff_read(r, region, dst, err);
  bw_tiff_reader_counters(r, &c1);
  used->bytes_read = c1.bytes_read - c0.bytes_read;
  used->chunks_decoded = c1.chunks_decoded - c0.chunks_decoded;
  return st;
}

void bad_views(const bw_view *v, bw_dtype other, bad_view out[N_BAD_VIEWS]) {
  for (int i = 0; i < N_BAD_VIEWS; i++) out[i].v = *v;
  out[0].what = "another dtype";
  out[0].v.dtype = other;
  out[0].want = BW_ERR_DTYPE;
  out[1].what = "another number of axes";
  out[1].v.ndim = v->ndim == 2 ? 3 : 2;
  out[1].want = BW_ERR_NDIM;
  out[2].what = "NULL data";
  out[2].v.data = NULL;
  out[2].want = BW_ERR_NULL;
}

/* ------------------------------------------------------------------------ */
/* A small TIFF builder (classic TIFF, either byte order), independent of   */
/* libtiff, for files with exactly known contents and for broken files.     */
/* ------------------------------------------------------------------------ */

static void tb_reserve(tb_file *f, size_t n) {
  if (n <= f->cap) return;
  size_t cap = f->cap ? f->cap : 256;
  while (cap < n) cap *= 2;
  f->b = realloc(f->b, cap);
  memset(f->b + f->cap, 0, cap - f->cap);
  f->cap = cap;
}

void tb_put(tb_file *f, size_t at, uint64_t v, int bytes) {
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

void tb_set_tag(tb_page *pg, const tb_tag *t) {
  for (int i = 0; i < pg->ntags; i++)
    if (pg->tags[i].tag == t->tag) {
      pg->tags[i] = *t;
      return;
    }
  pg->tags[pg->ntags++] = *t;
}

void tb_set(tb_page *pg, uint16_t tag, uint16_t type, uint64_t value) {
  tb_tag t;
  memset(&t, 0, sizeof t);
  t.tag = tag;
  t.type = type;
  t.count = 1;
  t.v[0] = value;
  tb_set_tag(pg, &t);
}

void tb_remove(tb_page *pg, uint16_t tag) {
  for (int i = 0; i < pg->ntags; i++)
    if (pg->tags[i].tag == tag) {
      pg->tags[i] = pg->tags[--pg->ntags];
      return;
    }
}

/* A one-strip grey page: w x h samples of @bits bits, SampleFormat @fmt
 * (0: no SampleFormat tag). */
void tb_grey(tb_page *pg, uint32_t w, uint32_t h, int bits, int fmt, const void *pix,
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
void tb_build(tb_file *f, int big_endian, tb_page *pages, int npages) {
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
void swap_elems(void *p, size_t n, size_t es) {
  unsigned char *b = (unsigned char *)p;
  for (size_t i = 0; i < n; i++, b += es)
    for (size_t k = 0; k < es / 2; k++) {
      unsigned char t = b[k];
      b[k] = b[es - 1 - k];
      b[es - 1 - k] = t;
    }
}

int host_big_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 0;
}

