/*
 * PNG output for heatmaps, over libpng.  libpng reports errors by longjmp,
 * which must not cross C++ frames; here it only crosses this C function, and
 * every write and the final close are checked, so a full disk is an error
 * with a message, never a crash or a truncated file reported as success.
 */
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */

#include "png_write.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct png_sink {
  FILE *file;
  int failed;      /* a write or flush failed: errno_saved says why */
  int errno_saved;
  char message[160];
} png_sink;

static void sink_write(png_structp png, png_bytep data, png_size_t length) {
  png_sink *s = (png_sink *)png_get_io_ptr(png);
  if (fwrite(data, 1, length, s->file) != length) {
    s->failed = 1;
    s->errno_saved = errno;
    png_error(png, "write failed");
  }
}

static void sink_flush(png_structp png) {
  png_sink *s = (png_sink *)png_get_io_ptr(png);
  if (fflush(s->file) != 0) {
    s->failed = 1;
    s->errno_saved = errno;
    png_error(png, "flush failed");
  }
}

static void on_error(png_structp png, png_const_charp message) {
  png_sink *s = (png_sink *)png_get_error_ptr(png);
  snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

int blockwise_write_png_rgb(const char *path, const unsigned char *rgb, long width, long height,
                            char *message, size_t message_size) {
  png_sink sink;
  memset(&sink, 0, sizeof sink);
  if (width < 1 || height < 1 || width > 0x7fffffffL || height > 0x7fffffffL) {
    snprintf(message, message_size, "cannot write %s: a picture of %ld x %ld pixels", path, width, height);
    return -1;
  }
  sink.file = fopen(path, "wb");
  if (!sink.file) {
    snprintf(message, message_size, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, on_error, on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, NULL);
    fclose(sink.file);
    snprintf(message, message_size, "cannot write %s: out of memory", path);
    return -1;
  }
  /* Everything below that can fail jumps back here. */
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    fclose(sink.file);
    if (sink.failed)
      snprintf(message, message_size, "cannot write %s: %s", path, strerror(sink.errno_saved));
    else
      snprintf(message, message_size, "cannot write %s: %s", path, sink.message);
    return -1;
  }
  png_set_write_fn(png, &sink, sink_write, sink_flush);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (long y = 0; y < height; y++)
    png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)width * 3));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  int failed = fflush(sink.file) != 0 || fsync(fileno(sink.file)) != 0;
  int why = errno;
  if (fclose(sink.file) != 0 && !failed) {
    failed = 1;
    why = errno;
  }
  if (failed) {
    snprintf(message, message_size, "cannot write %s: %s", path, strerror(why));
    return -1;
  }
  return 0;
}
