/*
 * Blockwise TIFF IO: streaming reading and writing of 2-D and 3-D images in
 * TIFF files, over libtiff.
 *
 * Part of libblockwise_tiff, which depends on libtiff; the core library
 * (blockwise.h) does not.  Regions, views and errors are the core's types:
 * axes in C order, slowest first, (Y, X) for one page and (Z, Y, X) for a
 * volume, Z being the page.  A file of several pages is a volume; so is a
 * file of one page whose ImageDescription has an "images=N" or "slices=N"
 * line (ImageJ's keys, which this writer uses: a 3-D image of one page
 * reads back as 3-D), except ImageJ descriptions with "images=1" and no
 * "slices=" line, which tifffile writes for every single image.
 *
 * Reading touches only the strips or tiles that intersect the region asked
 * for.  Uncompressed strips are read by rows, just the rows asked for, so
 * files stored as one uncompressed strip per page read partially too.  A
 * compressed strip, and any tile, is decoded whole, and kept in a cache of
 * decoded chunks until a read needs another row of chunks: reads in
 * successive bands of rows (as ITK's streaming asks for) decode each strip
 * or tile once, however many bands meet it.  The cache holds chunks of one
 * row of chunks of one page at a time: the current strip (striped files),
 * or the tiles of one row of tiles that reads have met (tiled files); so
 * it is bounded by one strip or one row of tiles, and never holds more
 * than 1 GiB (tiles past that are decoded for the read that needs them and
 * not kept).  A read that goes back to an earlier row of chunks, or to
 * another page, decodes again.  A file with one compressed strip per page
 * cannot be read partially: the first read of a page decodes all of it.
 *
 * Writing goes region by region, in order, holding one strip (striped
 * files) or one row of tiles (tiled files) in memory.  The file is written
 * under a temporary name next to the final one ("<path>.tmp-<pid>-<n>") and
 * renamed by bw_tiff_finish() once every row is written; a writer that
 * fails or is aborted removes it.
 *
 * Spacing, written.  X and Y spacing are stored in the resolution tags
 * (ResolutionUnit centimetre, XResolution = 10 / spacing_x: spacing in
 * millimetres) and, exactly, in the ImageDescription as "xspacing=" and
 * "yspacing=" lines; Z spacing as a "spacing=" line, the key ImageJ uses
 * for the distance between slices.
 *
 * Spacing, read, in millimetres, from the first page (bw_tiff_info's
 * spacing, spacing_stated and spacing_source).  The ImageDescription says
 * which rule applies:
 *  - OME-XML (OME-TIFF): PhysicalSizeX/Y/Z of the first Image's Pixels, in
 *    their PhysicalSizeX/Y/ZUnit (the OME schema's default: micrometre;
 *    any length of its UnitsLength list, from pm and angstrom to km,
 *    inches and points).  An axis it gives no physical size keeps the
 *    value of the resolution tags below.
 *  - ImageJ (a description that starts "ImageJ="): its "unit=" line is the
 *    unit of the resolution tags (pixels per unit) and of "spacing=" (Z),
 *    whatever the ResolutionUnit tag says.  This is tifffile's rule, which
 *    documents ImageJ's unit as the unit of X/YResolution and of spacing
 *    and writes the same resolution values whatever ResolutionUnit it is
 *    given; ImageJ itself writes ResolutionUnit "none", or inch and
 *    centimetre along with unit=inch and unit=cm, so its files read the
 *    same by either rule.  (ImageJ's reader also rescales ResolutionUnit
 *    centimetre with unit=um by 10^4, a case its writer never makes; this
 *    reader does not.)  Units: "micron", "um", "µm" (also written
 *    "\u00B5m", or with a Greek mu), "nm", "mm", "cm", "m", "inch" and the
 *    OME symbols above.  Without a resolution tag an axis is 1 unit, as in
 *    ImageJ; without "spacing=", Z is 1 unit.  Without a unit= line the
 *    resolution tags' ResolutionUnit (inch or centimetre) serves, for
 *    spacing= too.  A unit= that is not a length ("pixel", or one not known
 *    here), or no unit anywhere, states no spacing: ImageJ shows such a
 *    file uncalibrated.
 *  - Any other description: the "xspacing=", "yspacing=" lines (this
 *    writer's; they win over the resolution tags) and "spacing=" (Z), in
 *    millimetres.
 *  - Resolution tags alone: ResolutionUnit inch (also when the tag is
 *    missing: TIFF's default) or centimetre, and the millimetre and
 *    micrometre codes tifffile knows (4 and 5), are converted to
 *    millimetres; without a unit (ResolutionUnit "none") they give only a
 *    ratio: spacing 1 / resolution, not stated.
 * A file that states no physical spacing has spacing_stated 0, and spacing
 * 1 on every axis (spacing_source "none"), or the ratios a file gives
 * without a unit.
 *
 * Hyperstacks are not flattened into Z: a file whose ImageJ description
 * has channels or frames stored as pages (channels=N > 1 that are not the
 * samples of a pixel, frames=N > 1), or whose OME-XML has SizeT > 1, or
 * SizeC > 1 that are not the samples of a pixel (SizeC != SamplesPerPixel),
 * gives BW_ERR_UNSUPPORTED.  Metadata that cannot be parsed (malformed or
 * hostile XML, absurd values) is ignored: it never makes a file fail to
 * open.
 *
 * Every function returns BW_OK or an error status with a message in *err
 * (err may be NULL); libtiff's own messages go into that message, never to
 * stderr.  A file that cannot be opened, read or written gives BW_ERR_IO.
 * A valid TIFF file this reader does not read gives BW_ERR_DTYPE (its pixel
 * format) or BW_ERR_UNSUPPORTED (its layout or encoding): another reader
 * may read it.  A corrupt or truncated file gives BW_ERR_PARAM.
 * None of them crashes or hangs on a corrupt, truncated or hostile file.
 * bw_tiff_read() checks the region and the destination view completely
 * before writing to it, so an invalid request leaves dst untouched; but a
 * strip or tile that turns out to be corrupt only when it is decoded stops
 * the read with an error after the strips or tiles before it were copied,
 * so dst may then hold part of the region.
 */
#ifndef BW_TIFF_H
#define BW_TIFF_H

#include <stdint.h>

#include "blockwise.h"
#include "bw_channel.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Compression schemes for writing (all are readable; see
 * bw_tiff_compression_available()). */
typedef enum bw_tiff_compression {
  BW_TIFF_NONE = 0,
  BW_TIFF_LZW,
  BW_TIFF_DEFLATE,
  BW_TIFF_PACKBITS,
  BW_TIFF_ZSTD
} bw_tiff_compression;

/** The name of @c: "none", "lzw", "deflate", "packbits" or "zstd" (the
 * names bw_tiff_info.compression_name gives files written so), or NULL for
 * a value that is not a bw_tiff_compression.
 * See also: bw_tiff_compression_from_name(). */
BW_API const char *bw_tiff_compression_name(bw_tiff_compression c);

/** The scheme named @name, one of the names of bw_tiff_compression_name(),
 * in any case ("deflate", "DEFLATE" and "Deflate" are all Deflate; ASCII
 * case folding, the same in every locale), into *out.  An unknown name
 * (the empty string too) gives BW_ERR_PARAM with a message that lists the
 * names, NULL arguments BW_ERR_NULL; *out is then unchanged.  Whether this
 * libtiff has the codec is bw_tiff_compression_available()'s answer. */
BW_API bw_status bw_tiff_compression_from_name(const char *name, bw_tiff_compression *out,
                                               bw_error *err);

/** The highest compression level of @c that bw_tiff_write_params.level
 * takes: 9 for Deflate, 22 for ZSTD; 0 for schemes without a level (and
 * for values that are not a bw_tiff_compression). */
BW_API int bw_tiff_compression_max_level(bw_tiff_compression c);

/** 1 when @c takes a predictor (bw_tiff_write_params.predictor): LZW,
 * Deflate and ZSTD; else 0. */
BW_API int bw_tiff_compression_has_predictor(bw_tiff_compression c);

/** Most channels a pixel may have: the core's. */
#define BW_TIFF_MAX_CHANNELS BW_MAX_CHANNELS

/** What the channels of a pixel are. */
typedef enum bw_tiff_color {
  BW_TIFF_GREY = 0, /**< one channel: grey (min-is-black; min-is-white files
                         are inverted; palette files with a grey colour map
                         give their indices) */
  BW_TIFF_RGB,      /**< red, green, blue: RGB files, YCbCr JPEG (converted
                         by libtiff's codec), palette files through their
                         colour map */
  BW_TIFF_RGBA,     /**< red, green, blue and alpha (an extra sample) */
  BW_TIFF_CHANNELS  /**< channels of their own: several samples per pixel of
                         a min-is-black file (fluorescence), or RGB with more
                         than one extra sample */
} bw_tiff_color;

/** What a TIFF file holds, as bw_tiff_reader_info() reports it. */
typedef struct bw_tiff_info {
  bw_dtype dtype;    /**< element type of every page */
  int ndim;          /**< 2 for one page, 3 for a volume (several pages, or
                          one marked as a volume: see above) */
  int64_t shape[3];  /**< extents, C order: (rows, columns) or (pages, rows, columns) */
  double spacing[3]; /**< spacing per axis, same order as shape, millimetres */
  int tiled;         /**< 1: tiles; 0: strips */
  uint32_t tile_width, tile_length; /**< tiled files */
  uint32_t rows_per_strip;          /**< striped files, as stored (capped at the rows of a page) */
  int compression;                  /**< libtiff's COMPRESSION_* code */
  const char *compression_name;     /**< "none", "lzw", "deflate", "packbits", "zstd", ... */
  int bigtiff;                      /**< 1: BigTIFF, 0: classic TIFF */
  int big_endian;                   /**< 1: big-endian ("MM"), 0: little-endian ("II") */
  int channels;                     /**< channels per pixel, 1 to BW_TIFF_MAX_CHANNELS */
  bw_tiff_color color;              /**< what they are */
  int alpha;                        /**< 1: the last channel is alpha */
  int planar;                       /**< 1: channels stored in planes of their own */
  int bits_per_sample;              /**< as stored: 12 for packed 12-bit samples
                                         (read as uint16), 16 for half floats
                                         (read as float32) */
  const char *photometric_name;     /**< how pixels are stored, in words:
                                         "min-is-black", "min-is-white",
                                         "RGB", "YCbCr", "palette" */
  int levels;                       /**< levels of the pyramid, 1 when the
                                         file has none (see bw_tiff_open_level()) */
  int level;                        /**< the level this reader reads; shape,
                                         spacing and layout are its own */
  int spacing_stated;               /**< 1: the file states a physical
                                         spacing, and spacing[] holds it in
                                         millimetres; 0: it states none, and
                                         spacing[] is 1 per pixel, or the
                                         ratios of resolution tags (or an
                                         ImageJ description) without a unit */
  const char *spacing_source;       /**< where spacing[] comes from:
                                         "resolution tags", "ImageJ",
                                         "OME-XML", "Blockwise" (the
                                         description keys of this writer),
                                         or "none" (spacing 1) */
  const char *description_format;   /**< what the first page's
                                         ImageDescription is: "OME-XML",
                                         "ImageJ", "other" (any other text,
                                         this writer's too), "none" */
  int meta_channels, meta_z, meta_t; /**< channels, Z planes and time points
                                         the description states: OME-XML's
                                         SizeC, SizeZ, SizeT; ImageJ's
                                         channels=, slices=, frames= (1 when
                                         a line is missing; slices from
                                         images=); 0 when it states none */
} bw_tiff_info;

/** One level of a pyramid, as bw_tiff_reader_level() reports it. */
typedef struct bw_tiff_level {
  int64_t shape[3];  /**< as bw_tiff_info.shape: pages stay, rows and columns shrink */
  double spacing[3]; /**< millimetres: level 0's spacing times the level's
                          reduction on each axis */
  double downsample; /**< level 0's pixels per pixel of this level: the mean
                          of the two axes' reductions (OpenSlide's figure) */
} bw_tiff_level;

/** An open file for reading.  One reader serves one thread at a time. */
typedef struct bw_tiff_reader bw_tiff_reader;

/** Opens a TIFF file and reads its directory structure (every page's header,
 * not its pixels).  Accepted: 8, 16, 32 or 64 bits of unsigned, signed or
 * IEEE float samples matching a bw_dtype; unsigned samples of 2 to 15 bits
 * that are not a whole type (10-, 12-, 14-bit cameras), read as the
 * smallest unsigned type that holds them; 16-bit floats, read as float32;
 * one sample per pixel (grey) or several (up to BW_TIFF_MAX_CHANNELS),
 * pixel-interleaved or planar-separate: RGB, RGBA, channels of a
 * min-is-black file; min-is-white integer samples, inverted (0 is black);
 * YCbCr when JPEG-compressed, read as RGB; palette images of 2 to 8 or 16
 * bits, through their colour map (RGB: 8-bit channels for an 8-bit
 * palette, 16-bit for a 16-bit one), or as their indices when every entry
 * of the map is grey; any compression this libtiff decodes, strips or
 * tiles, classic TIFF or BigTIFF, either byte order.  Pages marked as
 * reduced-resolution copies (NewSubfileType bit 0) are levels of a pyramid
 * (bw_tiff_open_level()), or skipped; the remaining pages must all have
 * the same size, type and channels, and form the Z axis.
 *
 * Valid files it does not read give, with a message that says in words
 * what is not supported: BW_ERR_DTYPE for their pixel format (bilevel,
 * CMYK, CIE L*a*b*, YCbCr without JPEG, min-is-white floats, signed or
 * floating-point samples of other sizes, complex or 64-bit integer
 * samples, pages of different types); BW_ERR_UNSUPPORTED for their layout
 * or encoding (pages of different sizes, ImageDepth > 1, a compression
 * this libtiff has no codec for, only reduced-resolution pages, a one-page
 * file whose description announces several images (ImageJ's
 * single-directory stacks), an ImageJ or OME-TIFF hyperstack whose
 * channels or time points are stored as pages (see above), a row,
 * compressed strip or tile over 1 GiB decoded).  Corrupt or truncated
 * files give BW_ERR_PARAM: among them a zero-size image, a directory, or
 * a tag value, that lies past the end of the file, even where libtiff
 * would only drop the tag, and a page whose pixels cannot fit in the
 * file's size (uncompressed, or with a codec of bounded ratio: Deflate,
 * LZW, PackBits); these are told apart from the size limits above. */
BW_API bw_status bw_tiff_open(const char *path, bw_tiff_reader **out, bw_error *err);

/** As bw_tiff_open(), over a file image in memory that the caller keeps
 * alive until bw_tiff_close(). */
BW_API bw_status bw_tiff_open_memory(const void *data, size_t size,
                              bw_tiff_reader **out, bw_error *err);

/** As bw_tiff_open(), reading level @level of a pyramid: 0 is the image
 * itself, 1 the largest reduced-resolution copy, and so on.  A pyramid is
 * made of copies of every page at one smaller size, one per page, in page
 * order: directories marked reduced-resolution (NewSubfileType bit 0) in
 * the chain after their page (vips, tifffile), SubIFDs of each page
 * (OME-TIFF, tifffile's subifds=), or, in a file of one image, smaller
 * unmarked directories.  A copy is of "the same picture" when both axes
 * shrink by one factor, to the pixel: thumbnails count as levels, a slide
 * label or overview image of another shape does not.  Levels are numbered
 * by size, largest first, one per size; masks (NewSubfileType bit 2) are
 * never levels.  A level must have level 0's channels and element type.
 * A level past the last gives BW_ERR_PARAM with the levels there are. */
BW_API bw_status bw_tiff_open_level(const char *path, int level, bw_tiff_reader **out,
                                    bw_error *err);
BW_API bw_status bw_tiff_open_memory_level(const void *data, size_t size, int level,
                                           bw_tiff_reader **out, bw_error *err);

/** Level @level (0 to info->levels - 1) of the file @r reads, whichever
 * level @r has open. */
BW_API bw_status bw_tiff_reader_level(const bw_tiff_reader *r, int level, bw_tiff_level *out,
                                      bw_error *err);

/** The file's description; valid until bw_tiff_close(). */
BW_API const bw_tiff_info *bw_tiff_reader_info(const bw_tiff_reader *r);

/** The name of channel @c of the image, as the file's OME-XML gives it
 * (the Name of its Channel elements, when there is one element per
 * channel; at most 255 bytes of UTF-8), or NULL when the file names none
 * or @r is NULL or @c out of range.  Valid until bw_tiff_close(). */
BW_API const char *bw_tiff_channel_name(const bw_tiff_reader *r, int c);

/** Reads a region of an image of one channel into dst.  region has
 * info->ndim axes (start and size in C order); dst has the same number of
 * axes, extents equal to region's size, the file's dtype, and any strides.
 * Reads only the strips or tiles that intersect the region.  An image of
 * several channels gives BW_ERR_PARAM: read it with
 * bw_tiff_read_channels(). */
BW_API bw_status bw_tiff_read(bw_tiff_reader *r, const bw_region *region,
                       const bw_view *dst, bw_error *err);

/** Reads channels [@first, @first + @count) of a region into dst[0] ..
 * dst[count - 1], one view per channel, each as bw_tiff_read()'s dst: the
 * region's extents, the file's dtype, any strides.  An interleaved buffer
 * of pixels (ITK's, numpy's (Y, X, C)) is @count views that differ only by
 * their data pointer, one element apart; a planar one (C, Y, X) is @count
 * views one plane apart.  Reads every strip or tile of the region once for
 * all the channels of a pixel-interleaved file, and only the planes of the
 * channels asked for in a planar-separate one. */
BW_API bw_status bw_tiff_read_channels(bw_tiff_reader *r, const bw_region *region, int first,
                                       int count, const bw_view *dst, bw_error *err);

/** Reads a region converted to one channel by the core's conversion
 * @channel (bw_channel.h: luminance, optical density, a stain, or one
 * channel) into @dst: the region's extents, any strides, float32 or
 * float64 (with an index, also the file's dtype).  The same values as
 * bw_tiff_read_channels() of every channel followed by
 * bw_channel_convert(), without a buffer of them: in a pixel-interleaved
 * file each decoded strip or tile is converted as it is copied out; other
 * layouts (planar-separate, palette, packed bits, half floats, MinIsWhite)
 * are unpacked a few rows at a time (about 4 MiB) first.  The parameters
 * are checked against the file's channels before a pixel is read. */
BW_API bw_status bw_tiff_read_channel(bw_tiff_reader *r, const bw_region *region,
                                      const bw_channel_params *channel, const bw_view *dst,
                                      bw_error *err);

/** What a reader has done so far: bytes read from the file, and strips or
 * tiles decoded (a strip or tile taken from the cache of decoded chunks is
 * not counted again; an uncompressed strip read by rows counts once per
 * read that meets it).  For tests and benchmarks of partial reads. */
typedef struct bw_tiff_counters {
  uint64_t bytes_read;
  uint64_t chunks_decoded;
} bw_tiff_counters;

BW_API void bw_tiff_reader_counters(const bw_tiff_reader *r, bw_tiff_counters *c);

/** The band unit of an open file along @axis: the rows (@axis = ndim - 2)
 * or pages (@axis = 0 of a volume) to which the edges of bands should be
 * aligned when a region is read in bands, one after another (streaming)
 * or each through a reader of its own (threads).  A band is a region that
 * spans the others' extent along every axis but @axis; its edges along
 * @axis are aligned when they are multiples of the unit (counted from row
 * 0 of a page, or page 0) or edges of the region.
 *
 * Read in aligned bands, each strip or tile is decoded by one band only,
 * once over all the bands (and each row of an uncompressed strip read by
 * one band only), however many readers share the work.  The unit is, in rows: 1 for uncompressed strips (read row by row,
 * straight into the destination when it holds whole rows: any row is an
 * edge); RowsPerStrip for compressed strips; TileLength for tiles; for
 * pages of different layouts the least common multiple of theirs; and
 * never more than the rows of a page.  In pages: 1 (every page has strips
 * or tiles of its own).  Bands that are not aligned read the same pixels,
 * decoding the strips or tiles they share once per reader that meets them
 * (a reader reading bands in order keeps the last row of strips or tiles:
 * see the top of this file).
 *
 * Returns 0 when @r is NULL or @axis is neither of those axes. */
BW_API int64_t bw_tiff_band_unit(const bw_tiff_reader *r, int axis);

/** Frees the memory a reader keeps between reads (decoded chunks, scratch
 * buffers), as for a reader that will sit idle; the next read allocates and
 * decodes again.  NULL is allowed. */
BW_API void bw_tiff_reader_trim(bw_tiff_reader *r);

/** Closes the file and frees the reader (NULL is allowed). */
BW_API void bw_tiff_close(bw_tiff_reader *r);

/** 1 if this libtiff can write (and read) the compression scheme. */
BW_API int bw_tiff_compression_available(bw_tiff_compression c);

/** The most samples per pixel bw_tiff_create() writes. */
#define BW_TIFF_WRITE_MAX_CHANNELS 16

/** Parameters of a new file.  Initialise with bw_tiff_write_params_init(). */
typedef struct bw_tiff_write_params {
  bw_dtype dtype;
  int channels;      /**< samples per pixel, 1 (default) to
                          BW_TIFF_WRITE_MAX_CHANNELS, stored interleaved
                          as MinIsBlack with unspecified extra samples (a
                          vector per pixel, as a displacement field);
                          written with bw_tiff_write_channels() */
  int ndim;          /**< 2, or 3 for one page per Z */
  int64_t shape[3];  /**< C order, as bw_tiff_info */
  double spacing[3]; /**< C order, millimetres; default 1 */
  bw_tiff_compression compression; /**< default BW_TIFF_NONE */
  int level;         /**< Deflate (1-9) and ZSTD (1-22) level; 0 for the
                          codec's default, and for the other compressions */
  int predictor;     /**< 1: horizontal differencing (floating-point predictor
                          for f32/f64) with LZW, Deflate and ZSTD; default 0 */
  int tiled;         /**< 1: tiles; default 0: strips */
  uint32_t tile_width, tile_length; /**< multiples of 16; default 256 */
  uint32_t rows_per_strip; /**< 0 (default): strips of about 64 KiB; more
                                than the rows of a page: one strip per page */
  int bigtiff;       /**< -1 (default): BigTIFF when the file could pass 4 GB;
                          0: never (error if it would: from bw_tiff_create()
                          for an uncompressed image, from bw_tiff_write()
                          when compressed data pass 4 GB); 1: always */
} bw_tiff_write_params;

BW_API void bw_tiff_write_params_init(bw_tiff_write_params *p);

/** A file being written. */
typedef struct bw_tiff_writer bw_tiff_writer;

/** Validates the parameters and creates the file (under a temporary name in
 * the same folder).  Strips (and one row of tiles) are limited to 1 GiB.
 * Each page is a directory with the resolution tags and ImageDescription
 * of the spacing convention above and Software "Blockwise <version>"; in
 * 3-D the description starts with "images=<pages>" (so that one page is
 * read back as a volume) and the pages have NewSubfileType "page" and
 * PageNumber (up to 65535 pages). */
BW_API bw_status bw_tiff_create(const char *path, const bw_tiff_write_params *p,
                         bw_tiff_writer **out, bw_error *err);

/** Writes the next region of the image from src.  Regions come in order:
 * each one spans whole rows (start and size of the X axis cover the image
 * width) and, in 3-D, lies within one page or covers whole pages; each
 * starts where the previous one ended.  src has the region's extents and
 * the file's dtype, with any strides.  A file of several channels gives
 * BW_ERR_PARAM: write it with bw_tiff_write_channels().
 * A region or view that breaks these rules gives an error (BW_ERR_REGION
 * for a region out of place or out of order) and changes nothing: the
 * writer goes on.  A failure to write (disk full, libtiff error) ends the
 * writer: the temporary file is removed, later calls fail, and
 * bw_tiff_finish() or bw_tiff_abort() still has to free it. */
BW_API bw_status bw_tiff_write(bw_tiff_writer *w, const bw_region *region,
                        const bw_view *src, bw_error *err);

/** Writes the next region of a file of @count channels (the writer's
 * channels) from src[0] .. src[count - 1], one view per channel, each as
 * bw_tiff_write()'s src: as bw_tiff_read_channels() takes them, so an
 * interleaved buffer of pixels is @count views one element apart (copied
 * row by row), a planar one @count views one plane apart.  The same rules
 * and failures as bw_tiff_write(). */
BW_API bw_status bw_tiff_write_channels(bw_tiff_writer *w, const bw_region *region, int count,
                                        const bw_view *src, bw_error *err);

/** 1 once every row of the image has been written. */
BW_API int bw_tiff_writer_complete(const bw_tiff_writer *w);

/** Completes the file: requires every row to have been written; flushes,
 * closes and renames the file to its final name.  Frees the writer, on
 * success and on error (when the temporary file is removed). */
BW_API bw_status bw_tiff_finish(bw_tiff_writer *w, bw_error *err);

/** Abandons the file: removes the temporary file and frees the writer
 * (NULL is allowed). */
BW_API void bw_tiff_abort(bw_tiff_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* BW_TIFF_H */
