/*
 * The core's non-local means over boxes, bands, views and instruction sets,
 * against the whole-image result bit for bit; the region map against the
 * box grown by the halo.
 */
#define _POSIX_C_SOURCE 200112L
#include "nlm_test_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A box of the image computed from a view of exactly its mapped input
 * region (or a larger box) gives the whole image's bits. */
static int check_box(const void *img, bw_dtype dt, int nd, const ptrdiff_t *shape,
                     const bw_nlm_params *p, const void *whole, bw_dtype odt,
                     const bw_region *box, int larger) {
  bw_region need;
  bw_error err;
  if (bw_nlm_input_region(p, shape, box, &need, &err)) {
    fprintf(stderr, "input region: %s\n", err.message);
    return 0;
  }
  if (larger)
    for (int i = 0; i < nd; i++) {
      if (need.start[i] > 0) need.start[i]--, need.size[i]++;
      if (need.start[i] + need.size[i] < shape[i]) need.size[i]++;
    }
  bw_view all = bw_view_contiguous((void *)img, dt, nd, shape), in;
  if (bw_view_subview(&all, &need, &in, &err)) return 0;
  const size_t esz = bw_dtype_size(odt);
  void *out = malloc(prod(box->size, nd) * esz);
  bw_view ov = bw_view_contiguous(out, odt, nd, box->size);
  if (bw_nlm(&in, need.start, &ov, box->start, shape, p, &err)) {
    fprintf(stderr, "box: %s\n", err.message);
    free(out);
    return 0;
  }
  /* Compare with the box of the whole result. */
  bw_view wv = bw_view_contiguous((void *)whole, odt, nd, shape), wsub;
  bw_view_subview(&wv, box, &wsub, &err);
  int ok = 1;
  const size_t nb = prod(box->size, nd);
  for (size_t i = 0; i < nb && ok; i++) {
    size_t r = i;
    const char *q = wsub.data;
    for (int a = nd - 1; a >= 0; a--) {
      q += (ptrdiff_t)(r % (size_t)box->size[a]) * wsub.strides[a];
      r /= (size_t)box->size[a];
    }
    if (memcmp(q, (char *)out + i * esz, esz) != 0) {
      fprintf(stderr, "box pixel %zu differs: %.17g vs %.17g\n", i,
              (double)bw_test_get(out, odt, i), (double)bw_test_get(q, odt, 0));
      ok = 0;
    }
  }
  free(out);
  return ok;
}

static void random_box(int nd, const ptrdiff_t *shape, bw_region *b) {
  memset(b, 0, sizeof *b);
  for (int i = 0; i < nd; i++) {
    ptrdiff_t a = (ptrdiff_t)(rnd() % (uint64_t)shape[i]);
    ptrdiff_t c = (ptrdiff_t)(rnd() % (uint64_t)shape[i]);
    if (a > c) {
      ptrdiff_t t = a;
      a = c;
      c = t;
    }
    b->start[i] = a;
    b->size[i] = c - a + 1;
  }
}

static void check_subregions(bw_dtype dt, int nd, const ptrdiff_t *shape,
                             const ptrdiff_t *patch, const ptrdiff_t *search,
                             int poisson, bw_dtype odt, int nboxes) {
  const size_t n = prod(shape, nd);
  void *img = malloc(n * bw_dtype_size(dt));
  double sigma;
  if (poisson) {
    fluorescence(img, dt, nd, shape, 0.5, 200, 2.0, 100, 3.0);
    sigma = 0;
  } else {
    sigma = fill_image(img, dt, nd, shape, 0.08);
  }
  bw_nlm_params p;
  nlm_params_radii(&p, nd, sigma, patch, search);
  if (poisson) {
    p.noise = BW_NLM_POISSON_GAUSSIAN;
    p.gain = 2.0;
    p.offset = 100;
    p.read_sigma = 3.0;
  }
  bw_status st;
  void *whole = run_whole(img, dt, nd, shape, &p, odt, &st);
  CHECK(st == BW_OK, "whole image: status %d", st);
  /* Corners, edges, single pixels and lines, then random boxes. */
  for (int b = 0; b < nboxes; b++) {
    bw_region box;
    memset(&box, 0, sizeof box);
    if (b < nd * 2) {
      for (int i = 0; i < nd; i++) {
        box.start[i] = 0;
        box.size[i] = shape[i];
      }
      const int ax = b / 2;
      box.size[ax] = 1 + (shape[ax] - 1) / 3;
      if (b % 2) box.start[ax] = shape[ax] - box.size[ax];
    } else if (b < nd * 2 + 3) {
      for (int i = 0; i < nd; i++) {
        box.start[i] = (ptrdiff_t)(rnd() % (uint64_t)shape[i]);
        box.size[i] = 1;
      }
      if (b == nd * 2 + 1) { /* a whole line along x */
        box.start[nd - 1] = 0;
        box.size[nd - 1] = shape[nd - 1];
      }
    } else {
      random_box(nd, shape, &box);
    }
    CHECK(check_box(img, dt, nd, shape, &p, whole, odt, &box, b % 3 == 2),
          "%s %dD%s box %d (start %td,%td,%td size %td,%td,%td)",
          bw_dtype_name(dt), nd, poisson ? " poisson" : "", b, box.start[0],
          box.start[1], box.start[2], box.size[0], box.size[1], box.size[2]);
  }
  free(whole);
  free(img);
}

void test_subregion(void) {
  /* Larger than one tile of the core, so the whole image is computed in
   * several tiles and every box in others. */
  const ptrdiff_t s2[2] = {300, 280}, p2[2] = {3, 3}, q2[2] = {5, 6};
  check_subregions(BW_U8, 2, s2, p2, q2, 0, BW_F32, 14);
  check_subregions(BW_F64, 2, s2, p2, q2, 0, BW_F64, 8);
  check_subregions(BW_U16, 2, s2, p2, q2, 1, BW_U16, 8);
  const ptrdiff_t s3[3] = {40, 90, 81}, p3[3] = {1, 2, 2}, q3[3] = {2, 3, 3};
  check_subregions(BW_I16, 3, s3, p3, q3, 0, BW_F32, 12);
  check_subregions(BW_I32, 3, s3, p3, q3, 0, BW_I32, 7);
  const ptrdiff_t p4[3] = {0, 3, 3}, q4[3] = {1, 4, 4};
  check_subregions(BW_F32, 3, s3, p4, q4, 1, BW_F32, 7);
}

/* Bands along the slowest axis, as threads split the work: together they
 * are the whole image. */
void test_bands(void) {
  const ptrdiff_t shape[2] = {257, 190};
  uint8_t *img = malloc(257 * 190);
  const double sigma = fill_image(img, BW_U8, 2, shape, 0.08);
  bw_nlm_params p;
  bw_nlm_params_init(&p, 2, sigma);
  bw_status st;
  float *whole = run_whole(img, BW_U8, 2, shape, &p, BW_F32, &st);
  CHECK(st == BW_OK, "whole");
  float *banded = calloc(257 * 190, sizeof *banded);
  for (int nb = 2; nb <= 9; nb += 7) {
    for (int b = 0; b < nb; b++) {
      bw_region box = {{257 * b / nb, 0, 0}, {257 * (b + 1) / nb - 257 * b / nb, 190, 0}};
      bw_region need;
      bw_error err;
      CHECK(bw_nlm_input_region(&p, shape, &box, &need, &err) == BW_OK, "map");
      bw_view all = bw_view_contiguous(img, BW_U8, 2, shape), in;
      bw_view_subview(&all, &need, &in, &err);
      bw_view ov = bw_view_contiguous(banded + box.start[0] * 190, BW_F32, 2, box.size);
      CHECK(bw_nlm(&in, need.start, &ov, box.start, shape, &p, &err) == BW_OK,
            "band: %s", err.message);
    }
    CHECK(memcmp(whole, banded, 257 * 190 * sizeof(float)) == 0, "%d bands differ", nb);
  }
  free(img);
  free(whole);
  free(banded);
}

/* Transposed, reversed and strided views give the same bits as contiguous
 * ones holding the same pixels. */
void test_strided_views(void) {
  const ptrdiff_t shape[2] = {37, 29};
  const size_t n = 37 * 29;
  int16_t *img = malloc(n * sizeof *img);
  const double sigma = fill_image(img, BW_I16, 2, shape, 0.08);
  bw_nlm_params p;
  bw_nlm_params_init(&p, 2, sigma);
  p.search[0] = 4;
  p.patch[1] = 2;
  bw_status st;
  double *want = run_whole(img, BW_I16, 2, shape, &p, BW_F64, &st);
  CHECK(st == BW_OK, "contiguous");
  /* Input: the transpose of a buffer holding the image transposed and
   * reversed along its rows; output: every third double of a wider buffer,
   * rows reversed. */
  int16_t *tr = malloc(n * sizeof *tr);
  for (ptrdiff_t y = 0; y < 37; y++)
    for (ptrdiff_t x = 0; x < 29; x++) tr[x * 37 + (36 - y)] = img[y * 29 + x];
  bw_view in;
  memset(&in, 0, sizeof in);
  in.data = tr + 36;
  in.dtype = BW_I16;
  in.ndim = 2;
  in.shape[0] = 37;
  in.shape[1] = 29;
  in.strides[0] = -(ptrdiff_t)sizeof(int16_t);
  in.strides[1] = 37 * (ptrdiff_t)sizeof(int16_t);
  double *buf = calloc(n * 3, sizeof *buf);
  bw_view out;
  memset(&out, 0, sizeof out);
  out.data = buf + 36 * 29 * 3;
  out.dtype = BW_F64;
  out.ndim = 2;
  out.shape[0] = 37;
  out.shape[1] = 29;
  out.strides[0] = -29 * 3 * (ptrdiff_t)sizeof(double);
  out.strides[1] = 3 * (ptrdiff_t)sizeof(double);
  bw_error err;
  CHECK(bw_nlm(&in, NULL, &out, NULL, NULL, &p, &err) == BW_OK, "%s", err.message);
  for (ptrdiff_t y = 0; y < 37; y++)
    for (ptrdiff_t x = 0; x < 29; x++) {
      const double got = buf[(36 - y) * 29 * 3 + x * 3];
      CHECK(memcmp(&got, &want[y * 29 + x], sizeof got) == 0, "pixel %td,%td", y, x);
    }
  free(img);
  free(tr);
  free(buf);
  free(want);
}

/* Every instruction set the library may pick computes the same bits. */
void test_simd_paths(void) {
  const ptrdiff_t s2[2] = {70, 90}, s3[3] = {8, 21, 34};
  const char *caps[3] = {"portable", "avx2", NULL};
  const bw_dtype dts[2] = {BW_U16, BW_F64};
  for (int d = 0; d < 2; d++)
    for (int nd = 2; nd <= 3; nd++) {
      const ptrdiff_t *shape = nd == 2 ? s2 : s3;
      const size_t n = prod(shape, nd);
      void *img = malloc(n * bw_dtype_size(dts[d]));
      const double sigma = fill_image(img, dts[d], nd, shape, 0.08);
      bw_nlm_params p;
      bw_nlm_params_init(&p, nd, sigma);
      if (nd == 3) {
        p.patch[0] = 1;
        p.search[0] = 2;
        p.search[1] = p.search[2] = 4;
      }
      void *res[3];
      for (int c = 0; c < 3; c++) {
        if (caps[c])
          setenv("BLOCKWISE_SIMD", caps[c], 1);
        else
          unsetenv("BLOCKWISE_SIMD");
        bw_status st;
        res[c] = run_whole(img, dts[d], nd, shape, &p, BW_F64, &st);
      }
      unsetenv("BLOCKWISE_SIMD");
      const int same = !memcmp(res[0], res[1], n * 8) && !memcmp(res[0], res[2], n * 8);
      for (int c = 0; c < 3; c++) free(res[c]);
      free(img);
      CHECK(same, "%s %dD: instruction sets differ", bw_dtype_name(dts[d]), nd);
    }
}

void test_region_map(void) {
  const ptrdiff_t shape[3] = {30, 200, 150};
  static const ptrdiff_t patch[3] = {1, 3, 2}, search[3] = {2, 10, 7};
  bw_nlm_params p;
  nlm_params_radii(&p, 3, 1.0, patch, search);
  const ptrdiff_t halo[3] = {3, 13, 9};
  for (int t = 0; t < 200; t++) {
    bw_region box, got;
    random_box(3, shape, &box);
    bw_error err;
    CHECK(bw_nlm_input_region(&p, shape, &box, &got, &err) == BW_OK, "%s", err.message);
    for (int i = 0; i < 3; i++) {
      ptrdiff_t lo = box.start[i] - halo[i], hi = box.start[i] + box.size[i] + halo[i];
      if (lo < 0) lo = 0;
      if (hi > shape[i]) hi = shape[i];
      CHECK(got.start[i] == lo && got.size[i] == hi - lo,
            "axis %d: [%td, +%td) for box [%td, +%td)", i, got.start[i], got.size[i],
            box.start[i], box.size[i]);
    }
  }
}
