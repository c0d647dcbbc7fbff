/*
 * The core's non-local means on bad input: each invalid parameter, view or
 * geometry gives its status and a message and writes nothing; the parameter
 * check gives the operation's own message; the defaults and the halo.
 */
#include "nlm_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void test_errors(void) {
  const ptrdiff_t shape[2] = {20, 24};
  float img[480], out[480], sentinel[480];
  for (int i = 0; i < 480; i++) {
    img[i] = (float)(i % 17);
    sentinel[i] = -12345.0f;
  }
  bw_view in = bw_view_contiguous(img, BW_F32, 2, shape);
  bw_view ov = bw_view_contiguous(out, BW_F32, 2, shape);
  bw_nlm_params good;
  bw_nlm_params_init(&good, 2, 2.0);
  bw_error err;

#define EXPECT(call, code, what)                                               \
  do {                                                                         \
    memcpy(out, sentinel, sizeof out);                                         \
    memset(&err, 0, sizeof err);                                               \
    bw_status st_ = (call);                                                    \
    CHECK(st_ == (code), "%s: status %d (%s), expected %d", what, st_,         \
          err.message, code);                                                  \
    CHECK(err.status == (code) && err.message[0], "%s: no message", what);     \
    CHECK(!memcmp(out, sentinel, sizeof out), "%s: output written", what);     \
  } while (0)

  bw_nlm_params p = good;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, NULL, &err), BW_ERR_NULL, "NULL params");
  EXPECT(bw_nlm(NULL, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_NULL, "NULL input");
  EXPECT(bw_nlm(&in, NULL, NULL, NULL, NULL, &p, &err), BW_ERR_OUTPUT, "NULL output");
  /* Parameters: each case changes the good ones. */
  for (int c = 0;; c++) {
    const char *what = NULL;
    bw_status want = BW_ERR_PARAM;
    p = good;
    switch (c) {
    case 0: what = "ndim 4", want = BW_ERR_NDIM, p.ndim = 4; break;
    case 1: what = "ndim mismatch", want = BW_ERR_NDIM, p.ndim = 3; break;
    case 2: what = "patch -1", p.patch[1] = -1; break;
    case 3: what = "patch too big", p.patch[0] = BW_NLM_MAX_PATCH + 1; break;
    case 4: what = "search too big", p.search[1] = BW_NLM_MAX_SEARCH + 1; break;
    case 5: what = "search -3", p.search[0] = -3; break;
    case 6: what = "h < 0", p.h = -1; break;
    case 7: what = "h NaN", p.h = NAN; break;
    case 8: what = "h inf", p.h = INFINITY; break;
    case 9: what = "h tiny", p.h = 1e-300; break;
    case 10: what = "sigma < 0", p.sigma = -1; break;
    case 11: what = "sigma NaN", p.sigma = NAN; break;
    case 12: what = "h and sigma 0", p.sigma = 0, p.h = 0; break;
    case 13: what = "noise model", p.noise = (bw_nlm_noise)7; break;
    case 14: what = "gain 0", p.noise = BW_NLM_POISSON_GAUSSIAN, p.gain = 0; break;
    case 15: what = "gain NaN", p.noise = BW_NLM_POISSON_GAUSSIAN, p.gain = NAN; break;
    case 16: what = "offset inf", p.noise = BW_NLM_POISSON_GAUSSIAN, p.offset = INFINITY; break;
    case 17: what = "read sigma < 0", p.noise = BW_NLM_POISSON_GAUSSIAN, p.read_sigma = -2; break;
    case 18:
      what = "read sigma huge", p.noise = BW_NLM_POISSON_GAUSSIAN, p.read_sigma = 1e300;
      break;
    }
    if (!what) break;
    EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), want, what);
  }
  p = good;

  /* Views. */
  bw_view bad = in;
  bad.dtype = (bw_dtype)99;
  EXPECT(bw_nlm(&bad, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_DTYPE, "input dtype");
  bad = ov;
  bad.dtype = (bw_dtype)0;
  EXPECT(bw_nlm(&in, NULL, &bad, NULL, NULL, &p, &err), BW_ERR_OUTPUT, "output dtype");
  bad = ov;
  bad.shape[1] = 0;
  EXPECT(bw_nlm(&in, NULL, &bad, NULL, NULL, &p, &err), BW_ERR_OUTPUT, "output extent 0");
  bad = in;
  bad.data = NULL;
  EXPECT(bw_nlm(&bad, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_NULL, "input data NULL");
  bad = ov;
  bad.shape[0] = 21;
  EXPECT(bw_nlm(&in, NULL, &bad, NULL, NULL, &p, &err), BW_ERR_REGION, "output past the image");
  /* In place. */
  bw_view inplace = bw_view_contiguous(out, BW_F32, 2, shape);
  memcpy(out, sentinel, sizeof out);
  CHECK(bw_nlm(&inplace, NULL, &ov, NULL, NULL, &p, &err) == BW_ERR_OUTPUT, "in place");

  /* Geometry. */
  const ptrdiff_t whole[2] = {40, 50}, start[2] = {10, 10}, neg[2] = {-1, 0};
  const ptrdiff_t ostart[2] = {30, 0}, ostart_ok[2] = {20, 20};
  bw_view small = bw_view_contiguous(out, BW_F32, 2, (ptrdiff_t[]){2, 3});
  EXPECT(bw_nlm(&in, start, &ov, NULL, NULL, &p, &err), BW_ERR_REGION,
         "in_start without image shape");
  EXPECT(bw_nlm(&in, neg, &ov, NULL, whole, &p, &err), BW_ERR_REGION, "negative in_start");
  EXPECT(bw_nlm(&in, start, &ov, ostart, whole, &p, &err), BW_ERR_REGION,
         "output past the image (start)");
  EXPECT(bw_nlm(&in, start, &small, ostart_ok, whole, &p, &err), BW_ERR_REGION,
         "input misses the halo");
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, (ptrdiff_t[]){0, 5}, &p, &err), BW_ERR_SHAPE,
         "image extent 0");
  /* The same box of a larger image is fine when the input holds its halo. */
  bw_view tiny_in = bw_view_contiguous(img, BW_F32, 2, (ptrdiff_t[]){20, 24});
  const ptrdiff_t tin[2] = {0, 0}, tout[2] = {5, 5};
  bw_nlm_params q = good;
  q.patch[0] = q.patch[1] = 1;
  q.search[0] = q.search[1] = 2;
  memcpy(out, sentinel, sizeof out);
  CHECK(bw_nlm(&tiny_in, tin, &small, tout, whole, &q, &err) == BW_OK, "%s", err.message);

  /* Non-finite input anywhere in the needed region. */
  float saved = img[7 * 24 + 11];
  img[7 * 24 + 11] = NAN;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "NaN input");
  img[7 * 24 + 11] = -INFINITY;
  EXPECT(bw_nlm(&in, NULL, &ov, NULL, NULL, &p, &err), BW_ERR_PARAM, "-inf input");
  img[7 * 24 + 11] = saved;
  /* ... but not outside it. */
  img[0] = NAN;
  memcpy(out, sentinel, sizeof out);
  bw_region far_box = {{15, 19, 0}, {5, 5, 0}}, far_need;
  CHECK(bw_nlm_input_region(&q, shape, &far_box, &far_need, &err) == BW_OK, "map");
  bw_view far_in;
  bw_view_subview(&in, &far_need, &far_in, &err);
  bw_view far_out = bw_view_contiguous(out, BW_F32, 2, far_box.size);
  CHECK(bw_nlm(&far_in, far_need.start, &far_out, far_box.start, shape, &q, &err) == BW_OK,
        "NaN outside the needed region: %s", err.message);
  img[0] = 0;

  /* The region map. */
  bw_region box = {{0, 0, 0}, {0, 4, 0}}, got;
  EXPECT(bw_nlm_input_region(&good, shape, &box, &got, &err), BW_ERR_REGION, "empty box");
  box.size[0] = 3;
  box.start[1] = 22;
  EXPECT(bw_nlm_input_region(&good, shape, &box, &got, &err), BW_ERR_REGION, "box past edge");
  box.start[1] = 0;
  EXPECT(bw_nlm_input_region(&good, NULL, &box, &got, &err), BW_ERR_NULL, "NULL shape");
  EXPECT(bw_nlm_input_region(&good, shape, &box, NULL, &err), BW_ERR_NULL, "NULL out");
  p = good;
  p.search[1] = -1;
  EXPECT(bw_nlm_input_region(&p, shape, &box, &got, &err), BW_ERR_PARAM, "map: bad search");
  /* NULL err is allowed. */
  CHECK(bw_nlm(&in, NULL, &ov, NULL, NULL, NULL, NULL) == BW_ERR_NULL, "NULL err");
#undef EXPECT
}

/* bw_nlm_params_check gives bw_nlm's own status and message, and bw_nlm_halo
 * the radii sums worked out by hand. */
void test_params_check_halo(void) {
  bw_nlm_params p;
  bw_error a, b;
  float in[6 * 7] = {0}, out[6 * 7];
  const ptrdiff_t shape[2] = {6, 7};
  const bw_view vin = bw_view_contiguous(in, BW_F32, 2, shape);
  const bw_view vout = bw_view_contiguous(out, BW_F32, 2, shape);
  bw_nlm_params_init(&p, 2, 2.0);
  CHECK(bw_nlm_params_check(&p, &a) == BW_OK, "defaults: %s", a.message);
  /* Each bad setting: the check and the operation agree, word for word. */
  for (int c = 0; c < 9; c++) {
    bw_nlm_params_init(&p, 2, 2.0);
    bw_status want;
    switch (c) {
    case 0: p.ndim = 4; want = BW_ERR_NDIM; break;
    case 1: p.patch[1] = BW_NLM_MAX_PATCH + 1; want = BW_ERR_PARAM; break;
    case 2: p.search[0] = -1; want = BW_ERR_PARAM; break;
    case 3: p.sigma = -1; want = BW_ERR_PARAM; break;
    case 4: p.sigma = 0; want = BW_ERR_PARAM; break; /* h 0 and sigma 0 */
    case 5: p.h = NAN; want = BW_ERR_PARAM; break;
    case 6: p.noise = BW_NLM_POISSON_GAUSSIAN; p.gain = 0; want = BW_ERR_PARAM; break;
    case 7: p.noise = (bw_nlm_noise)7; want = BW_ERR_PARAM; break;
    default: p.noise = BW_NLM_POISSON_GAUSSIAN; p.read_sigma = -2; want = BW_ERR_PARAM; break;
    }
    const bw_status got = bw_nlm_params_check(&p, &a);
    const bw_status ran = bw_nlm(&vin, NULL, &vout, NULL, NULL, &p, &b);
    CHECK(got == want && ran == want, "case %d: check %d, nlm %d, want %d", c, (int)got,
          (int)ran, (int)want);
    CHECK(!strcmp(a.message, b.message), "case %d: '%s' vs '%s'", c, a.message, b.message);
  }
  CHECK(bw_nlm_params_check(NULL, NULL) == BW_ERR_NULL, "NULL params");
  /* A Poisson-Gaussian setting with sigma 0 is valid: its h is 0.8. */
  bw_nlm_params_init(&p, 3, 0.0);
  p.noise = BW_NLM_POISSON_GAUSSIAN;
  CHECK(bw_nlm_params_check(&p, &a) == BW_OK, "Poisson-Gaussian: %s", a.message);

  /* Halo: patch + search per axis, the same before and after. */
  ptrdiff_t before[3] = {-1, -1, -1}, after[3] = {-1, -1, -1};
  bw_nlm_params_init(&p, 3, 1.0);
  p.patch[0] = 1, p.search[0] = 2;
  p.patch[1] = 0, p.search[1] = 0;
  p.patch[2] = 4, p.search[2] = 9;
  CHECK(bw_nlm_halo(&p, before, after, &a) == BW_OK, "%s", a.message);
  CHECK(before[0] == 3 && before[1] == 0 && before[2] == 13, "before %td %td %td", before[0],
        before[1], before[2]);
  CHECK(after[0] == 3 && after[1] == 0 && after[2] == 13, "after %td %td %td", after[0],
        after[1], after[2]);
  bw_nlm_params_init(&p, 2, 1.0);
  before[2] = -7;
  CHECK(bw_nlm_halo(&p, before, NULL, &a) == BW_OK, "%s", a.message);
  CHECK(before[0] == 13 && before[1] == 13 && before[2] == -7, "2-D defaults %td %td (%td)",
        before[0], before[1], before[2]);
  /* The noise does not change the halo; bad radii fail as in the map. */
  p.sigma = -5;
  CHECK(bw_nlm_halo(&p, before, after, &a) == BW_OK, "halo with bad sigma: %s", a.message);
  p.search[1] = BW_NLM_MAX_SEARCH + 1;
  CHECK(bw_nlm_halo(&p, before, after, &a) == BW_ERR_PARAM, "halo of a bad radius");
  /* The region map is the box grown by the halo: one interior pixel. */
  bw_nlm_params_init(&p, 2, 1.0);
  p.patch[0] = 2, p.search[0] = 1, p.patch[1] = 1, p.search[1] = 5;
  const ptrdiff_t big[2] = {50, 60};
  bw_region box = {{20, 30, 0}, {1, 1, 0}}, got;
  CHECK(bw_nlm_input_region(&p, big, &box, &got, &a) == BW_OK, "%s", a.message);
  CHECK(got.start[0] == 17 && got.size[0] == 7 && got.start[1] == 24 && got.size[1] == 13,
        "map [%td +%td) [%td +%td)", got.start[0], got.size[0], got.start[1], got.size[1]);
}

void test_params_init(void) {
  bw_nlm_params p;
  memset(&p, 0xAB, sizeof p);
  bw_nlm_params_init(&p, 3, 12.5);
  CHECK(p.ndim == 3 && p.sigma == 12.5 && p.h == 0 && p.noise == BW_NLM_GAUSSIAN,
        "basic fields");
  for (int i = 0; i < 3; i++)
    CHECK(p.patch[i] == 3 && p.search[i] == 10, "radii along %d", i);
  CHECK(p.gain == 1 && p.offset == 0 && p.read_sigma == 0, "Poisson-Gaussian fields");
  /* h = 0 means 0.8 sigma. */
  const ptrdiff_t shape[2] = {15, 16};
  float img[240];
  for (int i = 0; i < 240; i++) img[i] = (float)((i * 37) % 23);
  bw_nlm_params_init(&p, 2, 4.0);
  bw_status st;
  float *a = run_whole(img, BW_F32, 2, shape, &p, BW_F32, &st);
  CHECK(a && st == BW_OK, "default h: status %d", (int)st);
  p.h = 3.2;
  float *b = run_whole(img, BW_F32, 2, shape, &p, BW_F32, &st);
  if (!b || st != BW_OK) free(a);
  CHECK(b && st == BW_OK, "h = 3.2: status %d", (int)st);
  const int same = !memcmp(a, b, sizeof img);
  free(a);
  free(b);
  CHECK(same, "h = 0 is not 0.8 sigma");
}
