/*
 * decode_floor: the decode floor of a pair of tiled TIFFs, for
 * bench_slides.py.  Every tile of the first directory (level 0 of a
 * pyramid) of each file is decoded by libtiff into a scratch buffer and
 * discarded, on N threads.
 *
 *   decode_floor [--threads N] A.tif [B.tif ...]
 *
 * N defaults to the number of online cores.  Each thread opens every file
 * with a TIFF* handle of its own and sets TIFFTAG_JPEGCOLORMODE to
 * JPEGCOLORMODE_RGB on YCbCr JPEG files (libtiff's codec then upsamples and
 * converts to RGB, as a reader of RGB pixels must); the tiles of all the
 * files are numbered as one list, and threads take them from a shared
 * counter in runs of a few tiles, so a thread slowed by a neighbour on a
 * shared machine takes fewer.  Prints one line of JSON: seconds (threads
 * started to threads joined; opening the files included), tiles and
 * decoded bytes.  Exits non-zero if any tile fails to decode.
 */
#define _POSIX_C_SOURCE 200112L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tiffio.h>

#define MAX_FILES 16
#define RUN 4 /* tiles taken from the counter at a time */

typedef struct job {
  int nfiles;
  const char *path[MAX_FILES];
  uint32_t ntiles[MAX_FILES];
  uint64_t first[MAX_FILES + 1]; /* first global tile number of each file */
  atomic_uint_fast64_t next;
  atomic_int failed;
  atomic_uint_fast64_t bytes;
} job;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Opens @path at its first directory for decoding RGB tiles; NULL (with a
 * message) if it cannot, or is not tiled. */
static TIFF *open_rgb(const char *path) {
  TIFF *tif = TIFFOpen(path, "r");
  if (!tif) return NULL;
  if (!TIFFIsTiled(tif)) {
    fprintf(stderr, "decode_floor: %s: not tiled\n", path);
    TIFFClose(tif);
    return NULL;
  }
  uint16_t compression = 0, photometric = 0;
  TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  if (compression == COMPRESSION_JPEG && photometric == PHOTOMETRIC_YCBCR &&
      !TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)) {
    fprintf(stderr, "decode_floor: %s: cannot set JPEGCOLORMODE_RGB\n", path);
    TIFFClose(tif);
    return NULL;
  }
  return tif;
}

static void *worker(void *arg) {
  job *j = arg;
  TIFF *tif[MAX_FILES] = {0};
  void *buf[MAX_FILES] = {0};
  tmsize_t size[MAX_FILES] = {0};
  for (int f = 0; f < j->nfiles; f++) {
    tif[f] = open_rgb(j->path[f]);
    if (!tif[f]) goto fail;
    size[f] = TIFFTileSize(tif[f]);
    buf[f] = malloc((size_t)size[f]);
    if (!buf[f]) goto fail;
  }
  const uint64_t total = j->first[j->nfiles];
  uint64_t bytes = 0;
  for (;;) {
    uint64_t lo = atomic_fetch_add(&j->next, RUN);
    if (lo >= total || atomic_load(&j->failed)) break;
    uint64_t hi = lo + RUN < total ? lo + RUN : total;
    for (uint64_t g = lo; g < hi; g++) {
      int f = 0;
      while (g >= j->first[f + 1]) f++;
      tmsize_t n = TIFFReadEncodedTile(tif[f], (uint32_t)(g - j->first[f]), buf[f], size[f]);
      if (n < 0) {
        fprintf(stderr, "decode_floor: %s: tile %llu failed\n", j->path[f],
                (unsigned long long)(g - j->first[f]));
        goto fail;
      }
      bytes += (uint64_t)n;
    }
  }
  atomic_fetch_add(&j->bytes, bytes);
  goto done;
fail:
  atomic_store(&j->failed, 1);
done:
  for (int f = 0; f < j->nfiles; f++) {
    free(buf[f]);
    if (tif[f]) TIFFClose(tif[f]);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long threads = sysconf(_SC_NPROCESSORS_ONLN);
  job j;
  memset(&j, 0, sizeof j);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = strtol(argv[++i], NULL, 10);
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: decode_floor [--threads N] A.tif [B.tif ...]\n");
      return 2;
    } else if (j.nfiles < MAX_FILES) {
      j.path[j.nfiles++] = argv[i];
    }
  }
  if (j.nfiles == 0 || threads < 1 || threads > 1024) {
    fprintf(stderr, "usage: decode_floor [--threads N] A.tif [B.tif ...]\n");
    return 2;
  }
  for (int f = 0; f < j.nfiles; f++) {
    TIFF *tif = open_rgb(j.path[f]);
    if (!tif) return 1;
    j.ntiles[f] = TIFFNumberOfTiles(tif);
    j.first[f + 1] = j.first[f] + j.ntiles[f];
    TIFFClose(tif);
  }
  pthread_t *tid = malloc((size_t)threads * sizeof *tid);
  if (!tid) return 1;
  double t0 = now();
  long started = 0;
  for (; started < threads; started++)
    if (pthread_create(&tid[started], NULL, worker, &j)) break;
  if (started == 0) return 1;
  for (long t = 0; t < started; t++) pthread_join(tid[t], NULL);
  double t1 = now();
  free(tid);
  if (atomic_load(&j.failed)) return 1;
  printf("{\"seconds\": %.6f, \"threads\": %ld, \"tiles\": %llu, \"bytes\": %llu}\n", t1 - t0,
         started, (unsigned long long)j.first[j.nfiles], (unsigned long long)atomic_load(&j.bytes));
  return 0;
}
