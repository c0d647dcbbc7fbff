/* Directories read without libtiff: tag values libtiff drops or cannot
 * reach (a file it refuses to open, codes it finds out of range), and the
 * check that a directory and its values lie inside the file. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_reader.h"

#include <stdio.h>
#include <stdlib.h>

/* An unsigned integer of @n bytes at @p in the file's byte order. */
static uint64_t file_uint(const unsigned char *p, int n, int big_endian) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint64_t)p[big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
  return v;
}

/* Bytes per value of a TIFF field type, 0 for types libtiff ignores. */
static unsigned type_size(unsigned type) {
  switch (type) {
  case TIFF_BYTE: case TIFF_ASCII: case TIFF_SBYTE: case TIFF_UNDEFINED: return 1;
  case TIFF_SHORT: case TIFF_SSHORT: return 2;
  case TIFF_LONG: case TIFF_SLONG: case TIFF_FLOAT: case TIFF_IFD: return 4;
  case TIFF_RATIONAL: case TIFF_SRATIONAL: case TIFF_DOUBLE: case TIFF_LONG8:
  case TIFF_SLONG8: case TIFF_IFD8: return 8;
  default: return 0;
  }
}

uint64_t bw_tiff_directory_value(bw_tiff_file *f, uint64_t off, int big, int be, unsigned tag) {
  int count_size = big ? 8 : 2, entry_size = big ? 20 : 12;
  unsigned char buf[20];
  if (off > f->size || bw_tiff_file_pread(f, buf, (uint64_t)count_size, off) != count_size)
    return UINT64_MAX;
  uint64_t n = file_uint(buf, count_size, be);
  for (uint64_t i = 0; i < n && i < 4096; i++) {
    uint64_t at = off + (uint64_t)count_size + i * (uint64_t)entry_size;
    if (bw_tiff_file_pread(f, buf, (uint64_t)entry_size, at) != entry_size) return UINT64_MAX;
    if (file_uint(buf, 2, be) != tag) continue;
    unsigned type = (unsigned)file_uint(buf + 2, 2, be);
    const unsigned char *v = buf + (big ? 12 : 8);
    return type == TIFF_SHORT  ? file_uint(v, 2, be)
           : type == TIFF_LONG ? file_uint(v, 4, be)
                               : UINT64_MAX;
  }
  return UINT64_MAX;
}

uint64_t bw_tiff_first_directory_value(bw_tiff_file *f, unsigned tag) {
  unsigned char head[16];
  if (bw_tiff_file_pread(f, head, 16, 0) < 16 || head[0] != head[1] ||
      (head[0] != 'M' && head[0] != 'I'))
    return UINT64_MAX;
  int be = head[0] == 'M';
  uint64_t magic = file_uint(head + 2, 2, be);
  if (magic != 42 && magic != 43) return UINT64_MAX;
  int big = magic == 43;
  uint64_t off = big ? file_uint(head + 8, 8, be) : file_uint(head + 4, 4, be);
  return bw_tiff_directory_value(f, off, big, be, tag);
}

void bw_tiff_header_problem(bw_tiff_file *f, char *out, size_t cap) {
  unsigned char head[16];
  const int64_t got = bw_tiff_file_pread(f, head, 16, 0);
  if (got < 8) {
    snprintf(out, cap, "the file holds %lld bytes, too few for a TIFF header (8)",
             (long long)(got < 0 ? 0 : got));
    return;
  }
  if (head[0] != head[1] || (head[0] != 'M' && head[0] != 'I')) {
    snprintf(out, cap, "it does not start as a TIFF file does (\"II\" or \"MM\")");
    return;
  }
  const int be = head[0] == 'M';
  const uint64_t magic = file_uint(head + 2, 2, be);
  if (magic != 42 && magic != 43) {
    snprintf(out, cap, "its header gives version %llu, not 42 (TIFF) or 43 (BigTIFF)",
             (unsigned long long)magic);
    return;
  }
  const int big = magic == 43;
  if (big && got < 16) {
    snprintf(out, cap, "the file is too short for a BigTIFF header (16 bytes)");
    return;
  }
  const uint64_t off = big ? file_uint(head + 8, 8, be) : file_uint(head + 4, 4, be);
  const int count_size = big ? 8 : 2, entry_size = big ? 20 : 12;
  unsigned char c[8];
  if (off == 0 || off > f->size || f->size - off < (uint64_t)count_size ||
      bw_tiff_file_pread(f, c, (uint64_t)count_size, off) != count_size) {
    snprintf(out, cap,
             "its first directory lies at byte %llu, outside the file (%llu bytes): the file is "
             "truncated or corrupt",
             (unsigned long long)off, (unsigned long long)f->size);
    return;
  }
  const uint64_t n = file_uint(c, count_size, be);
  if (n == 0 || n > (f->size - off - (uint64_t)count_size) / (uint64_t)entry_size) {
    snprintf(out, cap,
             "its first directory claims %llu entries, which do not fit in the file: the file is "
             "truncated or corrupt",
             (unsigned long long)n);
    return;
  }
  snprintf(out, cap, "its first directory is damaged (a tag that every image needs is missing or "
                     "unreadable)");
}

bw_status bw_tiff_check_directory_extent(bw_tiff_reader *r, uint64_t off, unsigned dir,
                                         bw_error *err) {
  int big = TIFFIsBigTIFF(r->tif) ? 1 : 0, be = TIFFIsBigEndian(r->tif) ? 1 : 0;
  int count_size = big ? 8 : 2, entry_size = big ? 20 : 12, inline_size = big ? 8 : 4;
  uint64_t size = r->file.size;
  unsigned char head[8];
  if (off > size || size - off < (uint64_t)count_size ||
      bw_tiff_file_pread(&r->file, head, (uint64_t)count_size, off) != count_size)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u lies past the end of the file (%llu bytes): the file is "
                        "truncated or corrupt",
                        dir, (unsigned long long)size);
  uint64_t n = file_uint(head, count_size, be);
  uint64_t table = n * (uint64_t)entry_size;
  if (n > ((uint64_t)1 << 20) || size - off - (uint64_t)count_size < table + (uint64_t)inline_size)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u (%llu entries at byte %llu) does not fit in the file "
                        "(%llu bytes): the file is truncated or corrupt",
                        dir, (unsigned long long)n, (unsigned long long)off,
                        (unsigned long long)size);
  if (n == 0) return BW_OK;
  unsigned char *t = (unsigned char *)malloc((size_t)table);
  if (!t) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate directory %u", dir);
  int64_t got = bw_tiff_file_pread(&r->file, t, table, off + (uint64_t)count_size);
  bw_status st = BW_OK;
  if (got < 0 || (uint64_t)got != table) {
    st = bw_tiff_fail(err, r->file.io_errno ? BW_ERR_IO : BW_ERR_PARAM,
                      "directory %u cannot be read again", dir);
  }
  for (uint64_t i = 0; st == BW_OK && i < n; i++) {
    const unsigned char *e = t + i * (uint64_t)entry_size;
    unsigned tag = (unsigned)file_uint(e, 2, be);
    unsigned ts = type_size((unsigned)file_uint(e + 2, 2, be));
    uint64_t count = file_uint(e + 4, big ? 8 : 4, be);
    if (ts == 0 || count <= (uint64_t)inline_size / ts) continue; /* inline or ignored */
    uint64_t at = file_uint(e + (big ? 12 : 8), inline_size, be);
    if (count > UINT64_MAX / ts || at > size || count * ts > size - at)
      st = bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u: the value of tag %u lies past the end of the file "
                        "(%llu bytes): the file is truncated or corrupt",
                        dir, tag, (unsigned long long)size);
  }
  free(t);
  return st;
}

