/* PNG output for heatmaps (png_write.c). */
#ifndef BLOCKWISE_CLI_PNG_WRITE_H
#define BLOCKWISE_CLI_PNG_WRITE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Writes an 8-bit RGB picture (rows top to bottom, 3 bytes per pixel) to
 * @path as PNG.  Returns 0, or -1 with a one-line message (the file may be
 * left partly written: the caller writes to a temporary name). */
int blockwise_write_png_rgb(const char *path, const unsigned char *rgb, long width, long height,
                            char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
