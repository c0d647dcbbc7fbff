/* Streaming TIFF reader: opens a file's directory chain once, then decodes
 * only the strips or tiles a region needs. */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef BW_HAVE_LIBDEFLATE
#  include <libdeflate.h>
#endif

/* Uncompressed strips are read in pieces of at most this many bytes (at
 * least one row). */
#define BW_TIFF_ROW_BATCH ((uint64_t)4 << 20)

/* How one page (directory) stores its pixels. */
typedef struct page_layout {
  uint64_t ifd;          /* file offset of the directory */
  int tiled;             /* 1: tiles, 0: strips */
  uint32_t tw, tl;       /* tile width and length */
  uint32_t rps;          /* rows per strip, at most the page's rows */
  uint32_t nchunks;      /* strips or tiles the page needs */
  uint16_t compression;  /* COMPRESSION_* */
  int raw_rows;          /* uncompressed strips: rows are read directly */
  int reverse_bits;      /* FillOrder 2: bits of each byte are reversed */
  uint16_t predictor;    /* PREDICTOR_*, for the codecs that have one */
  int inflate;           /* Deflate chunks this reader inflates itself */
} page_layout;

/* Decoded strips or tiles of one "row" of chunks of one page: one strip, or
 * tiles of one row of tiles (those that reads have asked for).  Reading in
 * bands, each band meets the row the previous band ended in, whose chunks
 * are then taken from here instead of being decoded again.  Slots are
 * allocated on first use and kept (reused for the next row) until the
 * reader is closed or a page with another layout needs them.  At most
 * BW_TIFF_CACHE_MAX bytes are held; a tile past that is decoded into the
 * scratch buffer and not kept. */
typedef struct chunk_cache {
  int valid;             /* page and row name the chunks held */
  size_t page;
  uint32_t row;          /* strip number, or row of tiles */
  uint32_t nslots;       /* chunks per row: 1 (strips) or tiles across */
  uint64_t slot_bytes;   /* decoded bytes of a whole strip or tile */
  unsigned char **slot;  /* nslots buffers, NULL until used */
  unsigned char *ready;  /* ready[i]: slot i holds chunk i of the row */
  uint64_t held;         /* bytes allocated in slots */
} chunk_cache;

/* Most bytes the decoded-chunk cache holds. */
#define BW_TIFF_CACHE_MAX BW_TIFF_MAX_CHUNK

struct bw_tiff_reader {
  bw_tiff_file file;
  TIFF *tif;
  bw_tiff_msg msg;
  bw_tiff_info info;
  page_layout *pages; /* the kept pages, in file order (Z) */
  size_t npages, pages_cap;
  size_t cur;         /* page whose directory libtiff holds, or SIZE_MAX */
  uint32_t width, length;
  size_t esize;
  int swapped;        /* file byte order differs from this machine's */
  unsigned char *scratch; /* rows of uncompressed strips; chunks not cached */
  size_t scratch_cap;
  chunk_cache cache;
  uint64_t chunks_decoded;
#ifdef BW_HAVE_LIBDEFLATE
  struct libdeflate_decompressor *inflater; /* made on first use */
  unsigned char *packed;  /* compressed bytes of one chunk */
  size_t packed_cap;
#endif
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static const char *compression_name(uint16_t c) {
  switch (c) {
  case COMPRESSION_NONE: return "none";
  case COMPRESSION_LZW: return "lzw";
  case COMPRESSION_ADOBE_DEFLATE:
  case COMPRESSION_DEFLATE: return "deflate";
  case COMPRESSION_PACKBITS: return "packbits";
#ifdef COMPRESSION_ZSTD
  case COMPRESSION_ZSTD: return "zstd";
#endif
#ifdef COMPRESSION_LZMA
  case COMPRESSION_LZMA: return "lzma";
#endif
  case COMPRESSION_JPEG: return "jpeg";
  case COMPRESSION_OJPEG: return "ojpeg";
  default: break;
  }
  const TIFFCodec *codec = TIFFFindCODEC(c);
  return codec && codec->name ? codec->name : "unknown";
}

/* A bound on how many times smaller than the pixels their encoding by
 * @compression can be, or 0 when there is none to rely on.  Deflate and
 * LZW are bounded by their longest match per code (about 1032 and 2600),
 * PackBits by 128 bytes per 2; the bounds here are generous. */
static uint64_t max_ratio(uint16_t compression) {
  switch (compression) {
  case COMPRESSION_NONE: return 1;
  case COMPRESSION_PACKBITS: return 128;
  case COMPRESSION_ADOBE_DEFLATE:
  case COMPRESSION_DEFLATE: return 2048;
  case COMPRESSION_LZW: return 8192;
  default: return 0;
  }
}

/* Status for a failure reported by libtiff: a failed system call is an I/O
 * error, anything else a problem of the file's content. */
static bw_status lib_status(const bw_tiff_reader *r) {
  return r->file.io_errno ? BW_ERR_IO : BW_ERR_PARAM;
}

/* a * b, or UINT64_MAX when that would overflow. */
static uint64_t mul_sat(uint64_t a, uint64_t b) {
  return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static bw_status ensure_scratch(bw_tiff_reader *r, uint64_t bytes, bw_error *err) {
  if (bytes <= r->scratch_cap) return BW_OK;
  if (bytes > BW_TIFF_MAX_CHUNK + BW_TIFF_ROW_BATCH)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED, "a strip or tile of %llu bytes is too large",
                        (unsigned long long)bytes);
  unsigned char *p = (unsigned char *)realloc(r->scratch, (size_t)bytes);
  if (!p)
    return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate %llu bytes for a strip or tile",
                        (unsigned long long)bytes);
  r->scratch = p;
  r->scratch_cap = (size_t)bytes;
  return BW_OK;
}

/* The element type of TIFF samples, or 0. */
static bw_dtype dtype_of(uint16_t format, uint16_t bits) {
  switch (format) {
  case SAMPLEFORMAT_UINT:
  case SAMPLEFORMAT_VOID:
    return bits == 8 ? BW_U8 : bits == 16 ? BW_U16 : bits == 32 ? BW_U32 : (bw_dtype)0;
  case SAMPLEFORMAT_INT:
    return bits == 8 ? BW_I8 : bits == 16 ? BW_I16 : bits == 32 ? BW_I32 : (bw_dtype)0;
  case SAMPLEFORMAT_IEEEFP:
    return bits == 32 ? BW_F32 : bits == 64 ? BW_F64 : (bw_dtype)0;
  default: return (bw_dtype)0;
  }
}

static const char *format_name(uint16_t format) {
  switch (format) {
  case SAMPLEFORMAT_UINT: return "unsigned integer";
  case SAMPLEFORMAT_INT: return "signed integer";
  case SAMPLEFORMAT_IEEEFP: return "floating-point";
  case SAMPLEFORMAT_VOID: return "untyped";
  case SAMPLEFORMAT_COMPLEXINT: return "complex integer";
  case SAMPLEFORMAT_COMPLEXIEEEFP: return "complex floating-point";
  default: return "unknown-format";
  }
}

/* ------------------------------------------------------------------------ */
/* Spacing                                                                  */
/* ------------------------------------------------------------------------ */

/* Value of "key=value" lines of @desc for @key, when it is a positive
 * finite number. */
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
      if (m > 0 && *q == '=' && bw_tiff_parse_double(q + 1, m - 1, &v) && isfinite(v) &&
          v > 0) {
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
  double per_unit = unit == RESUNIT_INCH ? 25.4 : unit == RESUNIT_CENTIMETER ? 10.0 : 1.0;
  double s = per_unit / (double)res;
  return isfinite(s) && s > 0 ? s : 0;
}

/* Spacing (C order) from the current directory, by the convention in
 * bw_tiff.h. */
static void read_spacing(TIFF *tif, int ndim, double *spacing) {
  double sx = 1, sy = 1, sz = 1, v;
  uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if ((v = spacing_from_resolution(tif, TIFFTAG_XRESOLUTION, unit)) > 0) sx = v;
  if ((v = spacing_from_resolution(tif, TIFFTAG_YRESOLUTION, unit)) > 0) sy = v;
  const char *desc = NULL;
  if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) && desc) {
    if (description_value(desc, "xspacing", &v)) sx = v;
    if (description_value(desc, "yspacing", &v)) sy = v;
    if (description_value(desc, "spacing", &v)) sz = v;
  }
  if (ndim == 3) {
    spacing[0] = sz;
    spacing[1] = sy;
    spacing[2] = sx;
  } else {
    spacing[0] = sy;
    spacing[1] = sx;
    spacing[2] = 1;
  }
}

/* 1 when the ImageDescription of the current directory says the file is a
 * volume (a stack of images, even of one), by ImageJ's keys: "images=N" or
 * "slices=N"; *images receives N.  tifffile writes "images=1" into the
 * ImageJ description of every single image, and ImageJ itself never does
 * (it writes the key for stacks only), so an ImageJ description with
 * images=1 and no slices line is a single image. */
static int description_volume(TIFF *tif, double *images) {
  const char *desc = NULL;
  *images = 0;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc) || !desc) return 0;
  double n = 0, slices = 0;
  int has_images = description_value(desc, "images", &n);
  int has_slices = description_value(desc, "slices", &slices);
  if (!has_images && !has_slices) return 0;
  if (!has_images) n = slices;
  if (n != floor(n)) return 0;
  if (strncmp(desc, "ImageJ=", 7) == 0 && n == 1 && !has_slices) return 0;
  *images = n;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */
/* ------------------------------------------------------------------------ */

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

/* Checks that directory @dir at @off, and every value it stores out of
 * line, lie inside the file.  libtiff drops a tag whose value is cut off
 * with only a warning; here a file cut short is an error, so that a lost
 * ImageDescription cannot silently change the spacing. */
static bw_status check_directory_extent(bw_tiff_reader *r, uint64_t off, unsigned dir,
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

/* Examines directory @dir (libtiff's current one).  Sets *skip for reduced-
 * resolution copies; otherwise fills *pl, *dtype, *w and *h. */
static bw_status examine_directory(bw_tiff_reader *r, unsigned dir, int *skip,
                                   page_layout *pl, bw_dtype *dtype, uint32_t *w,
                                   uint32_t *h, bw_error *err) {
  TIFF *tif = r->tif;
  memset(pl, 0, sizeof *pl);
  *skip = 0;
  bw_status st = check_directory_extent(r, TIFFCurrentDirOffset(tif), dir, err);
  if (st != BW_OK) return st;
  uint32_t subfile = 0;
  if (TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & FILETYPE_REDUCEDIMAGE)) {
    *skip = 1;
    return BW_OK;
  }
  uint32_t width = 0, length = 0, depth = 1;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width) ||
      !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &length))
    return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: image width or length missing", dir);
  if (width == 0 || length == 0)
    return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: empty image (%u x %u pixels)", dir,
                        width, length);
  if (TIFFGetField(tif, TIFFTAG_IMAGEDEPTH, &depth) && depth > 1)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: volumetric tiles (ImageDepth %u) are not supported",
                        dir, depth);

  uint16_t spp = 1, bits = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  int has_photometric = TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  if (spp != 1)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: %u samples per pixel; only one (grey) is supported", dir,
                        spp);
  if (has_photometric && photometric == PHOTOMETRIC_PALETTE)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: palette-colour images are not supported", dir);
  if (has_photometric && photometric != PHOTOMETRIC_MINISBLACK &&
      photometric != PHOTOMETRIC_MINISWHITE)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: photometric interpretation %u is not supported "
                        "(only grey: min-is-black or min-is-white)",
                        dir, photometric);
  if (bits == 1)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: bilevel (1-bit) images are not supported", dir);
  bw_dtype dt = dtype_of(format, bits);
  if (!dt)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: %u-bit %s samples match no supported type "
                        "(8/16/32-bit integers, 32/64-bit floats)",
                        dir, bits, format_name(format));
  size_t esize = bw_dtype_size(dt);

  uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (!TIFFIsCODECConfigured(compression))
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: compression %u (%s) is not supported by this libtiff",
                        dir, compression, compression_name(compression));
  uint16_t fill = FILLORDER_MSB2LSB;
  TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fill);

  /* Checks that show a corrupt or truncated file come before the limits of
   * this reader, so that a corrupt file is reported as such (BW_ERR_PARAM)
   * rather than as a valid one beyond the limits (BW_ERR_UNSUPPORTED). */
  uint64_t row_bytes = (uint64_t)width * esize;
  uint64_t expected, chunk_bytes;
  int raw = compression == COMPRESSION_NONE;
  pl->compression = compression;
  pl->reverse_bits = fill == FILLORDER_LSB2MSB;
  pl->predictor = PREDICTOR_NONE;
  if (compression == COMPRESSION_ADOBE_DEFLATE || compression == COMPRESSION_DEFLATE ||
      compression == COMPRESSION_LZW || compression == COMPRESSION_ZSTD)
    TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &pl->predictor);
#ifdef BW_HAVE_LIBDEFLATE
  pl->inflate = (compression == COMPRESSION_ADOBE_DEFLATE || compression == COMPRESSION_DEFLATE) &&
                (pl->predictor == PREDICTOR_NONE || pl->predictor == PREDICTOR_HORIZONTAL) &&
                !pl->reverse_bits;
#endif
  if (TIFFIsTiled(tif)) {
    uint32_t tw = 0, tl = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &tl);
    if (tw == 0 || tl == 0)
      return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: tile size %u x %u is invalid", dir,
                          tw, tl);
    chunk_bytes = mul_sat(mul_sat(tw, tl), esize);
    expected = ((uint64_t)width + tw - 1) / tw * (((uint64_t)length + tl - 1) / tl);
    pl->tiled = 1;
    pl->tw = tw;
    pl->tl = tl;
  } else {
    uint32_t rps = UINT32_MAX;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps == 0)
      return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: RowsPerStrip is 0", dir);
    if (rps > length) rps = length;
    chunk_bytes = mul_sat(row_bytes, rps);
    expected = ((uint64_t)length + rps - 1) / rps;
    pl->rps = rps;
    pl->raw_rows = raw;
  }
  const char *what = pl->tiled ? "tiles" : "strips";
  /* Each strip or tile has an offset in the file, at least 2 bytes (SHORT)
   * when there are several: more than the file can hold means a corrupt
   * header, not a reason to allocate. */
  if (expected > 1 && expected > r->file.size / 2)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u: %llu %s cannot be described in a file of %llu bytes",
                        dir, (unsigned long long)expected, what,
                        (unsigned long long)r->file.size);
  /* Uncompressed pixels are stored whole, and the codecs below shrink data
   * by a bounded factor: a file too small to hold the page is cut short or
   * corrupt. */
  uint64_t decoded = pl->tiled ? mul_sat(expected, chunk_bytes) : mul_sat(length, row_bytes);
  uint64_t ratio = max_ratio(compression);
  if (ratio && decoded / ratio > r->file.size)
    return bw_tiff_fail(err, BW_ERR_PARAM,
                        "directory %u: %u x %u pixels (%llu bytes, %s) do not fit in a file "
                        "of %llu bytes: the file is truncated or corrupt",
                        dir, width, length, (unsigned long long)decoded,
                        compression_name(compression), (unsigned long long)r->file.size);
  /* Valid, but beyond what this reader holds in memory at once. */
  if (pl->tiled && chunk_bytes > BW_TIFF_MAX_CHUNK)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: tiles of %u x %u pixels (%llu bytes) exceed the "
                        "limit of 1 GiB",
                        dir, pl->tw, pl->tl, (unsigned long long)chunk_bytes);
  if (!pl->tiled && row_bytes > BW_TIFF_MAX_CHUNK)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: rows of %llu bytes exceed the limit of 1 GiB", dir,
                        (unsigned long long)row_bytes);
  if (!pl->tiled && !raw && chunk_bytes > BW_TIFF_MAX_CHUNK)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "directory %u: compressed strips of %u rows (%llu bytes) exceed "
                        "the limit of 1 GiB",
                        dir, pl->rps, (unsigned long long)chunk_bytes);
  if (expected > UINT32_MAX)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED, "directory %u: %llu %s is too many", dir,
                        (unsigned long long)expected, what);
  uint32_t have = pl->tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
  if (have < expected)
    return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: %u %s, %llu expected", dir, have,
                        what, (unsigned long long)expected);
  pl->nchunks = (uint32_t)expected;
  pl->ifd = TIFFCurrentDirOffset(tif);
  *dtype = dt;
  *w = width;
  *h = length;
  return BW_OK;
}

static bw_status add_page(bw_tiff_reader *r, const page_layout *pl, bw_error *err) {
  if (r->npages == r->pages_cap) {
    size_t cap = r->pages_cap ? 2 * r->pages_cap : 8;
    page_layout *p = (page_layout *)realloc(r->pages, cap * sizeof *p);
    if (!p) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the page table");
    r->pages = p;
    r->pages_cap = cap;
  }
  r->pages[r->npages++] = *pl;
  return BW_OK;
}

/* Reads the directory chain of the file in r->file. */
static bw_status reader_init(bw_tiff_reader *r, const char *name, bw_error *err) {
  r->cur = SIZE_MAX;
  bw_tiff_msg_clear(&r->msg);
  /* r: read; m: no memory mapping; c: no strip chopping (uncompressed strips
   * are read by rows here). */
  r->tif = bw_tiff_client_open(&r->file, name, "rmc", &r->msg);
  if (!r->tif) {
    if (r->file.io_errno)
      return bw_tiff_fail(err, BW_ERR_IO, "cannot read %s: %s", name,
                          strerror(r->file.io_errno));
    return bw_tiff_fail_lib(err, BW_ERR_PARAM, &r->msg, "not a readable TIFF file");
  }
  TIFF *tif = r->tif;
  r->swapped = TIFFIsByteSwapped(tif) ? 1 : 0;
  bw_dtype dtype0 = (bw_dtype)0;
  int last_kept = 0;
  int volume = 0;           /* the first page's description marks a volume */
  double volume_images = 0; /* and announces this many images */
  for (unsigned dir = 0;; dir++) {
    page_layout pl;
    bw_dtype dt = (bw_dtype)0;
    uint32_t w = 0, h = 0;
    int skip = 0;
    bw_status st = examine_directory(r, dir, &skip, &pl, &dt, &w, &h, err);
    if (st != BW_OK) return st;
    last_kept = !skip;
    if (!skip) {
      if (r->npages == 0) {
        dtype0 = dt;
        r->width = w;
        r->length = h;
        r->info.compression = pl.compression;
        r->info.compression_name = compression_name(pl.compression);
        r->info.tiled = pl.tiled;
        r->info.tile_width = pl.tw;
        r->info.tile_length = pl.tl;
        r->info.rows_per_strip = pl.rps;
        read_spacing(tif, 3, r->info.spacing);
        volume = description_volume(tif, &volume_images);
      } else if (w != r->width || h != r->length) {
        return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                            "page %zu is %u x %u pixels, page 0 is %u x %u: pages of "
                            "different sizes are not supported",
                            r->npages, w, h, r->width, r->length);
      } else if (dt != dtype0) {
        return bw_tiff_fail(err, BW_ERR_DTYPE,
                            "page %zu holds %s samples, page 0 %s: pages of different "
                            "types are not supported",
                            r->npages, bw_dtype_name(dt), bw_dtype_name(dtype0));
      }
      st = add_page(r, &pl, err);
      if (st != BW_OK) return st;
    }
    if (TIFFLastDirectory(tif)) break;
    bw_tiff_msg_clear(&r->msg);
    if (!TIFFReadDirectory(tif)) {
      if (!r->msg.set && !r->file.io_errno) break; /* no further directory */
      if (r->file.io_errno)
        return bw_tiff_fail(err, BW_ERR_IO, "directory %u: %s", dir + 1,
                            strerror(r->file.io_errno));
      return bw_tiff_fail_lib(err, BW_ERR_PARAM, &r->msg, "directory %u is corrupt", dir + 1);
    }
  }
  if (r->npages == 0)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "the file holds only reduced-resolution images");
  if (r->npages == 1 && volume && volume_images > 1)
    return bw_tiff_fail(err, BW_ERR_UNSUPPORTED,
                        "the description announces %.0f images but the file holds one page: "
                        "stacks stored after a single directory (ImageJ's layout for large "
                        "files) are not supported",
                        volume_images);
  r->cur = last_kept ? r->npages - 1 : SIZE_MAX;
  r->esize = bw_dtype_size(dtype0);

  bw_tiff_info *in = &r->info;
  in->dtype = dtype0;
  if (r->npages > 1 || volume) {
    in->ndim = 3;
    in->shape[0] = (int64_t)r->npages;
    in->shape[1] = r->length;
    in->shape[2] = r->width;
  } else {
    in->ndim = 2;
    in->shape[0] = r->length;
    in->shape[1] = r->width;
    in->shape[2] = 0;
    /* read_spacing() was asked for (Z, Y, X). */
    in->spacing[0] = in->spacing[1];
    in->spacing[1] = in->spacing[2];
    in->spacing[2] = 1;
  }
  in->bigtiff = TIFFIsBigTIFF(tif) ? 1 : 0;
  in->big_endian = TIFFIsBigEndian(tif) ? 1 : 0;
  return BW_OK;
}

static void cache_free(chunk_cache *c) {
  for (uint32_t i = 0; c->slot && i < c->nslots; i++) free(c->slot[i]);
  free(c->slot);
  free(c->ready);
  memset(c, 0, sizeof *c);
}

static void reader_free(bw_tiff_reader *r) {
  if (!r) return;
  if (r->tif) TIFFClose(r->tif);
  if (r->file.fd >= 0) close(r->file.fd);
  free(r->pages);
  free(r->scratch);
  cache_free(&r->cache);
#ifdef BW_HAVE_LIBDEFLATE
  if (r->inflater) libdeflate_free_decompressor(r->inflater);
  free(r->packed);
#endif
  free(r);
}

static bw_tiff_reader *reader_alloc(void) {
  bw_tiff_reader *r = (bw_tiff_reader *)calloc(1, sizeof *r);
  if (!r) return NULL;
  r->file.fd = -1;
  r->cur = SIZE_MAX;
  return r;
}

bw_status bw_tiff_open(const char *path, bw_tiff_reader **out, bw_error *err) {
  if (!out) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open: out is NULL");
  *out = NULL;
  if (!path) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open: path is NULL");
  bw_tiff_reader *r = reader_alloc();
  if (!r) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a reader");
  /* Non-blocking, so that a FIFO does not wait for a writer; reads of a
   * regular file are not affected. */
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int e = errno;
    reader_free(r);
    return bw_tiff_fail(err, BW_ERR_IO, "cannot open %s: %s", path, strerror(e));
  }
  r->file.fd = fd;
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    reader_free(r);
    return bw_tiff_fail(err, BW_ERR_IO, "cannot open %s: %s", path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    reader_free(r);
    return bw_tiff_fail(err, BW_ERR_IO, "cannot open %s: not a regular file", path);
  }
  r->file.size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
  bw_status st = reader_init(r, path, err);
  if (st != BW_OK) {
    reader_free(r);
    return st;
  }
  *out = r;
  return BW_OK;
}

bw_status bw_tiff_open_memory(const void *data, size_t size, bw_tiff_reader **out,
                              bw_error *err) {
  if (!out) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open_memory: out is NULL");
  *out = NULL;
  if (!data) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_open_memory: data is NULL");
  bw_tiff_reader *r = reader_alloc();
  if (!r) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate a reader");
  r->file.mem = (const unsigned char *)data;
  r->file.size = size;
  bw_status st = reader_init(r, "memory", err);
  if (st != BW_OK) {
    reader_free(r);
    return st;
  }
  *out = r;
  return BW_OK;
}

const bw_tiff_info *bw_tiff_reader_info(const bw_tiff_reader *r) {
  return r ? &r->info : NULL;
}

void bw_tiff_reader_counters(const bw_tiff_reader *r, bw_tiff_counters *c) {
  if (!c) return;
  c->bytes_read = r ? r->file.bytes_read : 0;
  c->chunks_decoded = r ? r->chunks_decoded : 0;
}

void bw_tiff_close(bw_tiff_reader *r) { reader_free(r); }

void bw_tiff_reader_trim(bw_tiff_reader *r) {
  if (!r) return;
  cache_free(&r->cache);
  free(r->scratch);
  r->scratch = NULL;
  r->scratch_cap = 0;
#ifdef BW_HAVE_LIBDEFLATE
  free(r->packed);
  r->packed = NULL;
  r->packed_cap = 0;
#endif
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/* Makes page @z libtiff's current directory. */
static bw_status select_page(bw_tiff_reader *r, size_t z, bw_error *err) {
  if (r->cur == z) return BW_OK;
  const page_layout *pl = &r->pages[z];
  r->cur = SIZE_MAX;
  bw_tiff_msg_clear(&r->msg);
  if (!TIFFSetSubDirectory(r->tif, pl->ifd))
    return bw_tiff_fail_lib(err, lib_status(r), &r->msg, "page %zu: cannot read its directory",
                            z);
  /* The directory was read at open; a file changed since then is refused
   * rather than decoded with a stale layout. */
  uint32_t w = 0, h = 0;
  uint16_t compression = 0;
  TIFFGetField(r->tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(r->tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(r->tif, TIFFTAG_COMPRESSION, &compression);
  int tiled = TIFFIsTiled(r->tif) ? 1 : 0;
  uint32_t have = tiled ? TIFFNumberOfTiles(r->tif) : TIFFNumberOfStrips(r->tif);
  uint16_t predictor = PREDICTOR_NONE, fill = FILLORDER_MSB2LSB;
  if (compression == COMPRESSION_ADOBE_DEFLATE || compression == COMPRESSION_DEFLATE ||
      compression == COMPRESSION_LZW || compression == COMPRESSION_ZSTD)
    TIFFGetFieldDefaulted(r->tif, TIFFTAG_PREDICTOR, &predictor);
  TIFFGetFieldDefaulted(r->tif, TIFFTAG_FILLORDER, &fill);
  int same = w == r->width && h == r->length && compression == pl->compression &&
             tiled == pl->tiled && have >= pl->nchunks && predictor == pl->predictor &&
             (fill == FILLORDER_LSB2MSB) == pl->reverse_bits;
  if (same && tiled) {
    uint32_t tw = 0, tl = 0;
    TIFFGetField(r->tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(r->tif, TIFFTAG_TILELENGTH, &tl);
    same = tw == pl->tw && tl == pl->tl;
  } else if (same) {
    uint32_t rps = UINT32_MAX;
    TIFFGetFieldDefaulted(r->tif, TIFFTAG_ROWSPERSTRIP, &rps);
    same = (rps > h ? h : rps) == pl->rps;
  }
  if (!same)
    return bw_tiff_fail(err, BW_ERR_PARAM, "page %zu: directory changed since the file was opened",
                        z);
  r->cur = z;
  return BW_OK;
}

#ifdef BW_HAVE_LIBDEFLATE
/* Undoes horizontal differencing in @rows rows of @n samples each: every
 * sample becomes the sum (modulo the type's range) of itself and the
 * samples before it in its row.  The running sum stays in a register, so
 * each sample costs one load, one add and one store. */
#  define BW_DEFINE_UNDIFF(name, T)                                         \
    static void name(void *data, size_t n, size_t rows) {                  \
      T *p = (T *)data;                                                    \
      for (size_t y = 0; y < rows; y++, p += n) {                          \
        T acc = p[0];                                                      \
        for (size_t i = 1; i < n; i++) {                                   \
          acc = (T)(acc + p[i]);                                           \
          p[i] = acc;                                                      \
        }                                                                  \
      }                                                                    \
    }
BW_DEFINE_UNDIFF(undiff8, uint8_t)
BW_DEFINE_UNDIFF(undiff16, uint16_t)
BW_DEFINE_UNDIFF(undiff32, uint32_t)
BW_DEFINE_UNDIFF(undiff64, uint64_t)
#  undef BW_DEFINE_UNDIFF

/* Deflate strips and tiles, decoded here rather than by libtiff: the
 * compressed bytes read straight from the file, inflated by libdeflate
 * (libtiff's own fastest path, without its copy through a buffer of its
 * own), then the byte order and horizontal differencing undone with the
 * running sum in a register (libtiff's loop reloads each sum from memory,
 * which costs it a store-to-load round trip per sample).  Returns 1 when
 * @buf holds the chunk; 0 when anything is unusual (an offset, count or
 * stream that is not exactly right, no memory): libtiff then decodes the
 * chunk, and reports what is wrong with it. */
static int inflate_chunk(bw_tiff_reader *r, const page_layout *pl, uint32_t chunk,
                         uint64_t bytes, unsigned char *buf) {
  int e1 = 0, e2 = 0;
  uint64_t off = TIFFGetStrileOffsetWithErr(r->tif, chunk, &e1);
  uint64_t count = TIFFGetStrileByteCountWithErr(r->tif, chunk, &e2);
  if (e1 || e2 || count == 0 || count > BW_TIFF_MAX_CHUNK || off > r->file.size ||
      count > r->file.size - off)
    return 0;
  if (count > r->packed_cap) {
    unsigned char *p = (unsigned char *)realloc(r->packed, (size_t)count);
    if (!p) return 0;
    r->packed = p;
    r->packed_cap = (size_t)count;
  }
  if (!r->inflater && !(r->inflater = libdeflate_alloc_decompressor())) return 0;
  if (bw_tiff_file_pread(&r->file, r->packed, count, off) != (int64_t)count) return 0;
  if (libdeflate_zlib_decompress(r->inflater, r->packed, (size_t)count, buf, (size_t)bytes,
                                 NULL) != LIBDEFLATE_SUCCESS)
    return 0;
  tmsize_t cnt = (tmsize_t)(bytes / r->esize);
  if (r->swapped) {
    switch (r->esize) {
    case 2: TIFFSwabArrayOfShort((uint16_t *)(void *)buf, cnt); break;
    case 4: TIFFSwabArrayOfLong((uint32_t *)(void *)buf, cnt); break;
    case 8: TIFFSwabArrayOfLong8((uint64_t *)(void *)buf, cnt); break;
    default: break;
    }
  }
  if (pl->predictor == PREDICTOR_HORIZONTAL) {
    size_t n = pl->tiled ? pl->tw : r->width;
    size_t rows = (size_t)cnt / n;
    switch (r->esize) {
    case 1: undiff8(buf, n, rows); break;
    case 2: undiff16(buf, n, rows); break;
    case 4: undiff32(buf, n, rows); break;
    default: undiff64(buf, n, rows); break;
    }
  }
  return 1;
}
#endif

/* Decodes strip or tile @chunk of page @z, whole (@bytes decoded bytes),
 * into @buf. */
static bw_status decode_chunk(bw_tiff_reader *r, size_t z, uint32_t chunk, uint64_t bytes,
                              unsigned char *buf, bw_error *err) {
  const page_layout *pl = &r->pages[z];
#ifdef BW_HAVE_LIBDEFLATE
  if (pl->inflate && inflate_chunk(r, pl, chunk, bytes, buf)) {
    r->chunks_decoded++;
    return BW_OK;
  }
#endif
  bw_tiff_msg_clear(&r->msg);
  tmsize_t got = pl->tiled ? TIFFReadEncodedTile(r->tif, chunk, buf, (tmsize_t)bytes)
                           : TIFFReadEncodedStrip(r->tif, chunk, buf, (tmsize_t)bytes);
  const char *what = pl->tiled ? "tile" : "strip";
  if (got < 0)
    return bw_tiff_fail_lib(err, lib_status(r), &r->msg, "page %zu, %s %u: cannot decode", z,
                            what, chunk);
  if ((uint64_t)got < bytes)
    return bw_tiff_fail_lib(err, BW_ERR_PARAM, &r->msg,
                            "page %zu, %s %u: decoded %lld bytes, %llu expected", z, what,
                            chunk, (long long)got, (unsigned long long)bytes);
  r->chunks_decoded++;
  return BW_OK;
}

/* Sets *out to the decoded strip or tile @col of chunk row @row of page @z
 * (strip or tile number @chunk, @bytes decoded bytes): from the cache, or
 * decoded now and kept there. */
static bw_status get_chunk(bw_tiff_reader *r, size_t z, uint32_t row, uint32_t col,
                           uint32_t chunk, uint64_t bytes, const unsigned char **out,
                           bw_error *err) {
  const page_layout *pl = &r->pages[z];
  chunk_cache *c = &r->cache;
  uint64_t slot_bytes = pl->tiled ? (uint64_t)pl->tw * pl->tl * r->esize
                                  : (uint64_t)pl->rps * r->width * r->esize;
  /* Slots for the tiles across, as many as the bound lets the cache hold
   * (so the table stays small for extremely wide images too). */
  uint64_t fit = BW_TIFF_CACHE_MAX / slot_bytes;
  uint64_t across = pl->tiled ? ((uint64_t)r->width + pl->tw - 1) / pl->tw : 1;
  uint32_t nslots = (uint32_t)(across < fit ? across : fit > 0 ? fit : 1);
  if (c->slot && (c->nslots != nslots || c->slot_bytes != slot_bytes)) cache_free(c);
  if (!c->slot) {
    c->slot = (unsigned char **)calloc(nslots, sizeof *c->slot);
    c->ready = (unsigned char *)calloc(nslots, 1);
    if (!c->slot || !c->ready) {
      cache_free(c);
      return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the table of decoded %s",
                          pl->tiled ? "tiles" : "strips");
    }
    c->nslots = nslots;
    c->slot_bytes = slot_bytes;
  }
  if (!c->valid || c->page != z || c->row != row) {
    memset(c->ready, 0, nslots);
    c->valid = 1;
    c->page = z;
    c->row = row;
  }
  if (col < nslots && c->ready[col]) {
    *out = c->slot[col];
    return BW_OK;
  }
  unsigned char *buf = col < nslots ? c->slot[col] : NULL;
  if (!buf && col < nslots && c->held + slot_bytes <= BW_TIFF_CACHE_MAX) {
    buf = (unsigned char *)malloc((size_t)slot_bytes);
    if (buf) {
      c->slot[col] = buf;
      c->held += slot_bytes;
    }
  }
  if (!buf) {
    /* Past the cache's bound (or out of memory for a slot): decoded for
     * this read only. */
    bw_status st = ensure_scratch(r, bytes, err);
    if (st != BW_OK) return st;
    st = decode_chunk(r, z, chunk, bytes, r->scratch, err);
    if (st != BW_OK) return st;
    *out = r->scratch;
    return BW_OK;
  }
  bw_status st = decode_chunk(r, z, chunk, bytes, buf, err);
  if (st != BW_OK) return st;
  c->ready[col] = 1;
  *out = buf;
  return BW_OK;
}

/* Where rows and columns of the region go in dst, for one page. */
typedef struct dst_plane {
  char *base;          /* element (y0, x0) of this page */
  ptrdiff_t sy, sx;    /* strides */
  uint32_t y0, y1, x0, x1; /* region rows [y0, y1), columns [x0, x1) */
} dst_plane;

static void put_row(const bw_tiff_reader *r, const dst_plane *d, uint32_t y,
                    const unsigned char *src_x0) {
  char *row = d->base + (ptrdiff_t)(y - d->y0) * d->sy;
  bw_tiff_copy_to_strided(row, d->sx, src_x0, d->x1 - d->x0, r->esize);
}

/* Uncompressed strips: reads just the rows of the region; straight into
 * the destination when it holds whole rows back to back, else through the
 * scratch buffer. */
static bw_status read_raw_rows(bw_tiff_reader *r, size_t z, const dst_plane *d,
                               bw_error *err) {
  const page_layout *pl = &r->pages[z];
  uint64_t row_bytes = (uint64_t)r->width * r->esize;
  uint64_t batch_rows = BW_TIFF_ROW_BATCH / row_bytes;
  if (batch_rows < 1) batch_rows = 1;
  const int direct = d->x0 == 0 && d->x1 == r->width && d->sx == (ptrdiff_t)r->esize &&
                     d->sy == (ptrdiff_t)row_bytes && (uintptr_t)d->base % r->esize == 0;
  for (uint32_t s = d->y0 / pl->rps; s <= (d->y1 - 1) / pl->rps; s++) {
    uint32_t sy0 = s * pl->rps;
    uint32_t a = d->y0 > sy0 ? d->y0 : sy0;
    uint32_t sy1 = pl->rps > r->length - sy0 ? r->length : sy0 + pl->rps;
    uint32_t b = d->y1 < sy1 ? d->y1 : sy1;
    int e1 = 0, e2 = 0;
    bw_tiff_msg_clear(&r->msg);
    uint64_t off = TIFFGetStrileOffsetWithErr(r->tif, s, &e1);
    uint64_t count = TIFFGetStrileByteCountWithErr(r->tif, s, &e2);
    if (e1 || e2)
      return bw_tiff_fail_lib(err, lib_status(r), &r->msg,
                              "page %zu, strip %u: offset or byte count unreadable", z, s);
    uint64_t need = (uint64_t)(b - sy0) * row_bytes;
    if (count < need)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "page %zu, strip %u: %llu bytes stored, %llu needed for its rows", z,
                          s, (unsigned long long)count, (unsigned long long)need);
    if (off > UINT64_MAX - need || off + need > r->file.size)
      return bw_tiff_fail(err, BW_ERR_PARAM,
                          "page %zu, strip %u: rows at bytes %llu..%llu lie past the end of "
                          "the file (%llu bytes)",
                          z, s, (unsigned long long)off, (unsigned long long)(off + need),
                          (unsigned long long)r->file.size);
    for (uint32_t y = a; y < b;) {
      uint32_t n = (uint64_t)(b - y) < batch_rows ? b - y : (uint32_t)batch_rows;
      uint64_t len = (uint64_t)n * row_bytes;
      unsigned char *buf;
      if (direct) {
        buf = (unsigned char *)(d->base + (ptrdiff_t)(y - d->y0) * d->sy);
      } else {
        bw_status st = ensure_scratch(r, len, err);
        if (st != BW_OK) return st;
        buf = r->scratch;
      }
      int64_t got = bw_tiff_file_pread(&r->file, buf, len,
                                       off + (uint64_t)(y - sy0) * row_bytes);
      if (got < 0)
        return bw_tiff_fail(err, BW_ERR_IO, "page %zu, strip %u: %s", z, s,
                            strerror(r->file.io_errno));
      if ((uint64_t)got < len)
        return bw_tiff_fail(err, BW_ERR_PARAM, "page %zu, strip %u: the file ends inside it",
                            z, s);
      if (pl->reverse_bits) TIFFReverseBits(buf, (tmsize_t)len);
      if (r->swapped) {
        tmsize_t cnt = (tmsize_t)(len / r->esize);
        switch (r->esize) {
        case 2: TIFFSwabArrayOfShort((uint16_t *)(void *)buf, cnt); break;
        case 4: TIFFSwabArrayOfLong((uint32_t *)(void *)buf, cnt); break;
        case 8: TIFFSwabArrayOfLong8((uint64_t *)(void *)buf, cnt); break;
        default: break;
        }
      }
      if (!direct)
        for (uint32_t i = 0; i < n; i++)
          put_row(r, d, y + i, buf + i * row_bytes + (uint64_t)d->x0 * r->esize);
      y += n;
    }
    r->chunks_decoded++;
  }
  return BW_OK;
}

/* Compressed strips: each strip the region meets, decoded whole (once,
 * while it stays in the cache).  A strip that lies inside the region, short
 * of its last row, is decoded straight into the destination when that holds
 * whole, aligned rows back to back: the next read of bands in order, or of
 * bands that overlap by a few rows, starts in the region's last strip, which
 * goes through the cache. */
static bw_status read_strips(bw_tiff_reader *r, size_t z, const dst_plane *d, bw_error *err) {
  const page_layout *pl = &r->pages[z];
  uint64_t row_bytes = (uint64_t)r->width * r->esize;
  const int direct = d->x0 == 0 && d->x1 == r->width && d->sx == (ptrdiff_t)r->esize &&
                     d->sy == (ptrdiff_t)row_bytes && (uintptr_t)d->base % r->esize == 0;
  const chunk_cache *c = &r->cache;
  for (uint32_t s = d->y0 / pl->rps; s <= (d->y1 - 1) / pl->rps; s++) {
    uint32_t sy0 = s * pl->rps;
    uint32_t a = d->y0 > sy0 ? d->y0 : sy0;
    uint32_t sy1 = pl->rps > r->length - sy0 ? r->length : sy0 + pl->rps;
    uint32_t b = d->y1 < sy1 ? d->y1 : sy1;
    const int cached = c->valid && c->page == z && c->row == s && c->ready && c->ready[0];
    if (direct && a == sy0 && b == sy1 && sy1 < d->y1 && !cached) {
      bw_status st = decode_chunk(r, z, s, (uint64_t)(sy1 - sy0) * row_bytes,
                                  (unsigned char *)(d->base + (ptrdiff_t)(a - d->y0) * d->sy),
                                  err);
      if (st != BW_OK) return st;
      continue;
    }
    const unsigned char *buf = NULL;
    bw_status st = get_chunk(r, z, s, 0, s, (uint64_t)(sy1 - sy0) * row_bytes, &buf, err);
    if (st != BW_OK) return st;
    for (uint32_t y = a; y < b; y++)
      put_row(r, d, y, buf + (uint64_t)(y - sy0) * row_bytes + (uint64_t)d->x0 * r->esize);
  }
  return BW_OK;
}

/* Tiles: each tile the region meets, decoded whole (once, while its row of
 * tiles stays in the cache). */
static bw_status read_tiles(bw_tiff_reader *r, size_t z, const dst_plane *d, bw_error *err) {
  const page_layout *pl = &r->pages[z];
  uint64_t tile_row_bytes = (uint64_t)pl->tw * r->esize;
  uint64_t tile_bytes = tile_row_bytes * pl->tl;
  uint32_t across = (uint32_t)(((uint64_t)r->width + pl->tw - 1) / pl->tw);
  for (uint32_t ty = d->y0 / pl->tl; ty <= (d->y1 - 1) / pl->tl; ty++) {
    uint64_t ty0 = (uint64_t)ty * pl->tl;
    uint32_t a = (uint64_t)d->y0 > ty0 ? d->y0 : (uint32_t)ty0;
    uint32_t b = (uint64_t)d->y1 < ty0 + pl->tl ? d->y1 : (uint32_t)(ty0 + pl->tl);
    for (uint32_t tx = d->x0 / pl->tw; tx <= (d->x1 - 1) / pl->tw; tx++) {
      uint64_t tx0 = (uint64_t)tx * pl->tw;
      uint32_t c0 = (uint64_t)d->x0 > tx0 ? d->x0 : (uint32_t)tx0;
      uint32_t c1 = (uint64_t)d->x1 < tx0 + pl->tw ? d->x1 : (uint32_t)(tx0 + pl->tw);
      const unsigned char *buf = NULL;
      bw_status st = get_chunk(r, z, ty, tx, ty * across + tx, tile_bytes, &buf, err);
      if (st != BW_OK) return st;
      for (uint32_t y = a; y < b; y++) {
        const unsigned char *src =
            buf + (uint64_t)(y - ty0) * tile_row_bytes + (c0 - tx0) * r->esize;
        char *row = d->base + (ptrdiff_t)(y - d->y0) * d->sy +
                    (ptrdiff_t)(c0 - d->x0) * d->sx;
        bw_tiff_copy_to_strided(row, d->sx, src, c1 - c0, r->esize);
      }
    }
  }
  return BW_OK;
}

bw_status bw_tiff_read(bw_tiff_reader *r, const bw_region *region, const bw_view *dst,
                       bw_error *err) {
  if (!r || !region || !dst)
    return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_read: NULL argument");
  if (!dst->data) return bw_tiff_fail(err, BW_ERR_NULL, "bw_tiff_read: dst data is NULL");
  const bw_tiff_info *in = &r->info;
  int nd = in->ndim;
  if (dst->ndim != nd)
    return bw_tiff_fail(err, BW_ERR_NDIM, "bw_tiff_read: dst has %d axes, the image %d",
                        dst->ndim, nd);
  if (dst->dtype != in->dtype)
    return bw_tiff_fail(err, BW_ERR_DTYPE, "bw_tiff_read: dst is %s, the file holds %s",
                        bw_dtype_name(dst->dtype), bw_dtype_name(in->dtype));
  for (int i = 0; i < nd; i++) {
    ptrdiff_t st = region->start[i], sz = region->size[i];
    if (st < 0 || sz < 1 || (int64_t)st > in->shape[i] - (int64_t)sz)
      return bw_tiff_fail(err, BW_ERR_REGION,
                          "bw_tiff_read: axis %d range [%td, %td + %td) outside [0, %lld)", i,
                          st, st, sz, (long long)in->shape[i]);
  }
  for (int i = 0; i < nd; i++)
    if (dst->shape[i] != region->size[i])
      return bw_tiff_fail(err, BW_ERR_SHAPE,
                          "bw_tiff_read: dst extent %td along axis %d, region size %td",
                          dst->shape[i], i, region->size[i]);

  int ay = nd - 2, ax = nd - 1;
  size_t z0 = nd == 3 ? (size_t)region->start[0] : 0;
  size_t nz = nd == 3 ? (size_t)region->size[0] : 1;
  dst_plane d;
  d.sy = dst->strides[ay];
  d.sx = dst->strides[ax];
  d.y0 = (uint32_t)region->start[ay];
  d.y1 = (uint32_t)(region->start[ay] + region->size[ay]);
  d.x0 = (uint32_t)region->start[ax];
  d.x1 = (uint32_t)(region->start[ax] + region->size[ax]);
  for (size_t k = 0; k < nz; k++) {
    size_t z = z0 + k;
    d.base = (char *)dst->data + (nd == 3 ? (ptrdiff_t)k * dst->strides[0] : 0);
    bw_status st = select_page(r, z, err);
    if (st != BW_OK) return st;
    const page_layout *pl = &r->pages[z];
    if (pl->tiled)
      st = read_tiles(r, z, &d, err);
    else if (pl->raw_rows)
      st = read_raw_rows(r, z, &d, err);
    else
      st = read_strips(r, z, &d, err);
    if (st != BW_OK) return st;
  }
  return BW_OK;
}
