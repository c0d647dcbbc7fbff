/* Samples to channels: which pixel formats the reader reads and how (the
 * photometric interpretation, samples per pixel, bits, planar
 * configuration, colour map), and the copy of decoded rows into the
 * channels a read asks for, converting where the file's samples are not
 * the channels' elements (packed bits, half floats, min-is-white, palette). */
#define _POSIX_C_SOURCE 200809L

#include "bw_tiff_reader.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Pixel formats                                                            */
/* ------------------------------------------------------------------------ */

/* The element type of TIFF samples of a whole type, or 0. */
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

/* Photometric interpretations this reader does not read, in words. */
static const char *unread_photometric(uint16_t photometric) {
  switch (photometric) {
  case PHOTOMETRIC_SEPARATED: return "CMYK (separated) colour";
  case PHOTOMETRIC_MASK: return "a transparency mask";
  case PHOTOMETRIC_CIELAB: return "CIE L*a*b* colour";
  case PHOTOMETRIC_ICCLAB: return "ICC L*a*b* colour";
  case PHOTOMETRIC_ITULAB: return "ITU L*a*b* colour";
  case PHOTOMETRIC_CFA: return "a colour filter array (raw camera data)";
  case PHOTOMETRIC_LOGL: return "LogL (SGI log luminance)";
  case PHOTOMETRIC_LOGLUV: return "LogLuv (SGI log colour)";
  default: return NULL;
  }
}

static const char *photometric_name(uint16_t photometric) {
  switch (photometric) {
  case PHOTOMETRIC_MINISWHITE: return "min-is-white";
  case PHOTOMETRIC_RGB: return "RGB";
  case PHOTOMETRIC_YCBCR: return "YCbCr";
  case PHOTOMETRIC_PALETTE: return "palette";
  default: return "min-is-black";
  }
}

/* 1 when every entry of the colour map is grey (red = green = blue). */
static int grey_map(const uint16_t *red, const uint16_t *green, const uint16_t *blue, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (red[i] != green[i] || red[i] != blue[i]) return 0;
  return 1;
}

bw_status bw_tiff_examine_samples(TIFF *tif, unsigned dir, sample_format *f, bw_error *err) {
  memset(f, 0, sizeof *f);
  uint16_t spp = 1, bits = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
  uint16_t planar = PLANARCONFIG_CONTIG, compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  const char *unread = unread_photometric(photometric);
  if (unread)
    return bw_tiff_fail(err, BW_ERR_DTYPE, "directory %u: %s is not supported", dir, unread);
  if (photometric > PHOTOMETRIC_YCBCR || photometric == 4)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: photometric interpretation %u is not one this reader "
                        "knows (grey, RGB, YCbCr or palette)",
                        dir, photometric);
  if (spp == 0 || spp > BW_TIFF_MAX_CHANNELS)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: %u samples per pixel (at most %d are supported)", dir, spp,
                        BW_TIFF_MAX_CHANNELS);
  if (bits <= 1)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: bilevel (1-bit) images are not supported", dir);
  uint16_t nextra = 0, *extra = NULL;
  TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &nextra, &extra);
  f->photometric = photometric;
  f->photometric_name = photometric_name(photometric);
  f->spp = spp;
  f->bits = bits;
  f->planar = spp > 1 && planar == PLANARCONFIG_SEPARATE;
  f->channels = spp;
  f->color = spp == 1 ? BW_TIFF_GREY : BW_TIFF_CHANNELS;
  f->alpha = nextra > 0 && extra &&
             (extra[nextra - 1] == EXTRASAMPLE_ASSOCALPHA ||
              extra[nextra - 1] == EXTRASAMPLE_UNASSALPHA);

  switch (photometric) {
  case PHOTOMETRIC_MINISWHITE:
    if (spp != 1)
      return bw_tiff_fail(err, BW_ERR_DTYPE,
                          "directory %u: min-is-white with %u samples per pixel is not "
                          "supported",
                          dir, spp);
    if (format == SAMPLEFORMAT_IEEEFP)
      return bw_tiff_fail(err, BW_ERR_DTYPE,
                          "directory %u: min-is-white floating-point samples have no "
                          "defined inversion",
                          dir);
    f->invert = 1;
    break;
  case PHOTOMETRIC_YCBCR:
    if (compression != COMPRESSION_JPEG)
      return bw_tiff_fail(err, BW_ERR_DTYPE,
                          "directory %u: YCbCr samples are read only when JPEG-compressed "
                          "(this file: %s)",
                          dir, bw_tiff_code_name(compression));
    if (spp != 3 || bits != 8 || f->planar)
      return bw_tiff_fail(err, BW_ERR_DTYPE,
                          "directory %u: YCbCr JPEG of %u samples of %u bits%s is not "
                          "supported (3 samples of 8 bits, interleaved)",
                          dir, spp, bits, f->planar ? ", planar" : "");
    /* libtiff's JPEG codec upsamples and converts to RGB. */
    f->jpeg_rgb = 1;
    f->color = BW_TIFF_RGB;
    break;
  case PHOTOMETRIC_RGB:
    if (spp < 3)
      return bw_tiff_fail(err, BW_ERR_DTYPE,
                          "directory %u: RGB with %u samples per pixel (at least 3 needed)",
                          dir, spp);
    f->color = spp == 3 ? BW_TIFF_RGB : spp == 4 && f->alpha ? BW_TIFF_RGBA : BW_TIFF_CHANNELS;
    break;
  case PHOTOMETRIC_PALETTE: {
    if (spp != 1 || bits > 16 || format != SAMPLEFORMAT_UINT)
      return bw_tiff_fail(err, BW_ERR_DTYPE,
                          "directory %u: palette of %u samples of %u-bit %s indices is not "
                          "supported (one unsigned sample of 2 to 16 bits)",
                          dir, spp, bits, format_name(format));
    uint16_t *red = NULL, *green = NULL, *blue = NULL;
    if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue) || !red || !green || !blue)
      return bw_tiff_fail(err, BW_ERR_PARAM, "directory %u: palette image without a colour map",
                          dir);
    size_t n = (size_t)1 << bits;
    if (grey_map(red, green, blue, n)) break; /* the indices are the grey image */
    f->conv = CONV_PALETTE;
    f->channels = 3;
    f->color = BW_TIFF_RGB;
    f->dtype = bits <= 8 ? BW_U8 : BW_U16;
    return BW_OK;
  }
  default: break;
  }

  bw_dtype dt = dtype_of(format, bits);
  if (!dt && format == SAMPLEFORMAT_IEEEFP && bits == 16) {
    dt = BW_F32;
    f->conv = CONV_HALF;
  } else if (!dt && (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID) && bits < 16 &&
             bits != 8) {
    dt = bits < 8 ? BW_U8 : BW_U16;
    f->conv = CONV_BITS;
  }
  if (!dt)
    return bw_tiff_fail(err, BW_ERR_DTYPE,
                        "directory %u: %u-bit %s samples match no supported type "
                        "(8/16/32-bit integers, unsigned integers of 2 to 15 bits, "
                        "16/32/64-bit floats)",
                        dir, bits, format_name(format));
  f->dtype = dt;
  return BW_OK;
}

bw_status bw_tiff_make_lut(bw_tiff_reader *r, TIFF *tif, bw_error *err) {
  uint16_t *map[3] = {NULL, NULL, NULL};
  TIFFGetField(tif, TIFFTAG_COLORMAP, &map[0], &map[1], &map[2]);
  size_t n = (size_t)1 << r->bits;
  free(r->lut);
  r->lut = (unsigned char *)malloc(n * 3 * r->esize);
  if (!r->lut) return bw_tiff_fail(err, BW_ERR_NOMEM, "cannot allocate the colour map");
  /* 8-bit palettes give 8-bit channels: the map's 16-bit values scaled
   * down, or taken as they are when every one is below 256 (some writers
   * store 8-bit values in the map). */
  int small = 1;
  for (int c = 0; c < 3; c++)
    for (size_t i = 0; i < n; i++) small &= map[c][i] < 256;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) {
      uint16_t v = map[c][i];
      if (r->esize == 1)
        r->lut[i * 3 + (size_t)c] = (unsigned char)(small ? v : v >> 8);
      else
        memcpy(r->lut + (i * 3 + (size_t)c) * 2, &v, 2);
    }
  return BW_OK;
}

/* ------------------------------------------------------------------------ */
/* Decoded rows to channels                                                 */
/* ------------------------------------------------------------------------ */

/* n elements of @esize bytes, @sstride bytes apart at src, to @dstride
 * bytes apart at dst. */
static void copy_elements(char *dst, ptrdiff_t dstride, const unsigned char *src,
                          size_t sstride, size_t n, size_t esize) {
  if (sstride == esize) {
    bw_tiff_copy_to_strided(dst, dstride, src, n, esize);
    return;
  }
  switch (esize) {
  case 1:
    for (size_t i = 0; i < n; i++, dst += dstride, src += sstride) *dst = (char)*src;
    break;
  case 2:
    for (size_t i = 0; i < n; i++, dst += dstride, src += sstride) memcpy(dst, src, 2);
    break;
  case 4:
    for (size_t i = 0; i < n; i++, dst += dstride, src += sstride) memcpy(dst, src, 4);
    break;
  default:
    for (size_t i = 0; i < n; i++, dst += dstride, src += sstride) memcpy(dst, src, esize);
    break;
  }
}

/* The unsigned sample of @bits bits (at most 16) that starts @bit bits
 * into @row, most significant bit first (TIFF's packing). */
static uint32_t packed_sample(const unsigned char *row, uint64_t bit, int bits) {
  const unsigned char *p = row + (bit >> 3);
  int skip = (int)(bit & 7), need = skip + bits;
  uint64_t acc = 0;
  for (int got = 0; got < need; got += 8) acc = acc << 8 | *p++;
  int have = (need + 7) & ~7;
  return (uint32_t)((acc >> (have - need)) & (((uint64_t)1 << bits) - 1));
}

/* An IEEE half-precision float, widened. */
static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | man << 13; /* infinity, NaN (payload kept) */
  } else if (exp != 0) {
    bits = sign | (exp + 112) << 23 | man << 13; /* normal: rebias 15 -> 127 */
  } else if (man == 0) {
    bits = sign; /* zero */
  } else {
    /* Subnormal: normalise the mantissa. */
    int e = -1;
    do {
      e++;
      man <<= 1;
    } while (!(man & 0x400));
    bits = sign | (uint32_t)(112 - e) << 23 | (man & 0x3ff) << 13;
  }
  float v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* Stores @v as an element of @esize bytes (1 or 2: CONV_BITS's types). */
static void put_uint(char *dst, uint32_t v, size_t esize) {
  if (esize == 1) {
    *(unsigned char *)dst = (unsigned char)v;
  } else {
    uint16_t w = (uint16_t)v;
    memcpy(dst, &w, 2);
  }
}

/* Inverts (bitwise, within @mask) n integer elements of @esize bytes. */
static void invert_elements(char *dst, ptrdiff_t stride, size_t n, size_t esize,
                            uint64_t mask) {
  for (size_t i = 0; i < n; i++, dst += stride) {
    uint64_t v = 0;
    memcpy(&v, dst, esize); /* little or big endian: the low bytes are the element's */
    v ^= mask;
    memcpy(dst, &v, esize);
  }
}

void bw_tiff_put_pixels(const bw_tiff_reader *r, const dst_plane *d, int plane, uint32_t y,
                        const unsigned char *row, uint32_t px, uint32_t col, uint32_t n) {
  const ptrdiff_t dy = (ptrdiff_t)(y - d->y0), dx = (ptrdiff_t)(col - d->x0);
  if (d->plan) {
    bw_channel_convert_pixels(d->plan, row + (size_t)px * r->pixel_bytes,
                              (ptrdiff_t)r->pixel_bytes, d->base[0] + dy * d->sy[0] + dx * d->sx[0],
                              d->sx[0], n);
    return;
  }
  if (d->whole_pixels) {
    char *dst = d->base[0] + dy * d->sy[0] + dx * d->sx[0];
    bw_tiff_copy_to_strided(dst, d->sx[0], row + (size_t)px * r->pixel_bytes, n,
                            r->pixel_bytes);
    return;
  }
  for (int k = 0; k < d->count; k++) {
    const int c = d->first + k;
    int s = c; /* the channel's sample within a pixel of this plane */
    if (r->conv == CONV_PALETTE) {
      s = 0;
    } else if (r->planes > 1) {
      if (c != plane) continue;
      s = 0;
    }
    char *const first = d->base[k] + dy * d->sy[k] + dx * d->sx[k];
    char *dst = first;
    const ptrdiff_t sx = d->sx[k];
    switch (r->conv) {
    case CONV_COPY:
      copy_elements(dst, sx, row + ((size_t)px * (size_t)r->plane_spp + (size_t)s) * r->esize,
                    (size_t)r->plane_spp * r->esize, n, r->esize);
      break;
    case CONV_BITS:
      for (uint32_t i = 0; i < n; i++, dst += sx) {
        uint64_t bit = ((uint64_t)(px + i) * (uint64_t)r->plane_spp + (uint64_t)s) *
                       (uint64_t)r->bits;
        put_uint(dst, packed_sample(row, bit, r->bits), r->esize);
      }
      break;
    case CONV_HALF:
      for (uint32_t i = 0; i < n; i++, dst += sx) {
        uint16_t h;
        memcpy(&h, row + ((size_t)(px + i) * (size_t)r->plane_spp + (size_t)s) * 2, 2);
        float v = half_to_float(h);
        memcpy(dst, &v, sizeof v);
      }
      break;
    case CONV_PALETTE:
      for (uint32_t i = 0; i < n; i++, dst += sx) {
        uint32_t index;
        if (r->sample_bytes == 2) {
          uint16_t w;
          memcpy(&w, row + (size_t)(px + i) * 2, 2);
          index = w;
        } else if (r->sample_bytes == 1) {
          index = row[px + i];
        } else {
          index = packed_sample(row, (uint64_t)(px + i) * (uint64_t)r->bits, r->bits);
        }
        memcpy(dst, r->lut + ((size_t)index * 3 + (size_t)c) * r->esize, r->esize);
      }
      break;
    }
    if (r->invert) invert_elements(first, sx, n, r->esize, r->invert_mask);
  }
}
