/*
 * The core's block statistics over views and regions: block-aligned
 * sub-regions and strided, padded or reversed views give the whole image's
 * bits, one call equals separate calls, and the region maps (output to input
 * and back) give the values worked out by hand.
 */
#include "core_test_util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Output of a block-aligned sub-region equals the whole-image output bit for
 * bit, for random output regions. */
void test_subregion_bit_identical(void) {
  for (size_t c = 0; c < sizeof shape_cases / sizeof *shape_cases; c++) {
    const shape_case *sc = &shape_cases[c];
    for (size_t t = 0; t < 8; t++)
      for (int edge = 0; edge < 2; edge++) {
        const bw_dtype dt = bw_test_dtypes[t];
        const int nd = sc->nd;
        bw_block_params p;
        bw_block_params_init(&p, nd, sc->block);
        p.edge = (bw_edge)edge;
        ptrdiff_t on[3];
        if (bw_block_output_shape(&p, sc->shape, on, NULL) != BW_OK) continue;
        size_t n = prod(sc->shape, nd), es = bw_dtype_size(dt);
        void *a = malloc(n * es), *b = malloc(n * es);
        fill_random(a, dt, n);
        fill_random(b, dt, n);
        bw_view va = bw_view_contiguous(a, dt, nd, sc->shape);
        bw_view vb = bw_view_contiguous(b, dt, nd, sc->shape);
        double *whole[N_OUT], *part[N_OUT];
        CHECK(run_all(&va, &vb, &p, whole, on, NULL) == BW_OK, "whole");
        for (int trial = 0; trial < 6; trial++) {
          bw_region oreg, ireg;
          memset(&oreg, 0, sizeof oreg);
          for (int d = 0; d < nd; d++) {
            oreg.start[d] = (ptrdiff_t)(rnd() % (uint64_t)on[d]);
            oreg.size[d] = 1 + (ptrdiff_t)(rnd() % (uint64_t)(on[d] - oreg.start[d]));
          }
          CHECK(bw_block_input_region(&p, sc->shape, &oreg, &ireg, NULL) == BW_OK, "map");
          for (int d = 0; d < nd; d++)
            CHECK(ireg.start[d] % sc->block[d] == 0, "region not block aligned");
          bw_view sa, sb;
          CHECK(bw_view_subview(&va, &ireg, &sa, NULL) == BW_OK, "subview a");
          CHECK(bw_view_subview(&vb, &ireg, &sb, NULL) == BW_OK, "subview b");
          ptrdiff_t pon[3];
          CHECK(run_all(&sa, &sb, &p, part, pon, NULL) == BW_OK, "part");
          for (int d = 0; d < nd; d++)
            CHECK(pon[d] == oreg.size[d], "sub-output extent %td vs region %td", pon[d],
                  oreg.size[d]);
          ptrdiff_t o3[3] = {1, 1, 1}, s3[3] = {0, 0, 0}, z3[3] = {1, 1, 1};
          for (int d = 0; d < nd; d++) {
            o3[3 - nd + d] = on[d];
            s3[3 - nd + d] = oreg.start[d];
            z3[3 - nd + d] = oreg.size[d];
          }
          int mism = 0;
          for (int o = 0; o < N_OUT; o++)
            for (ptrdiff_t k = 0; k < z3[0]; k++)
              for (ptrdiff_t i = 0; i < z3[1]; i++)
                for (ptrdiff_t j = 0; j < z3[2]; j++) {
                  double w = whole[o][((s3[0] + k) * o3[1] + s3[1] + i) * o3[2] + s3[2] + j];
                  double q = part[o][(k * z3[1] + i) * z3[2] + j];
                  if (memcmp(&w, &q, sizeof w) != 0) mism++;
                }
          for (int o = 0; o < N_OUT; o++) free(part[o]);
          CHECK(mism == 0, "case %zu dtype %s edge %d: %d values differ", c,
                bw_dtype_name(dt), edge, mism);
        }
        for (int o = 0; o < N_OUT; o++) free(whole[o]);
        free(a);
        free(b);
      }
  }
}

/* Views with padding, non-unit x steps and negative strides give the same
 * bits as contiguous copies; outputs may be strided too. */
void test_strided_views(void) {
  const ptrdiff_t shape[3] = {5, 23, 41}, block[3] = {2, 4, 6};
  for (size_t t = 0; t < 8; t++) {
    const bw_dtype dt = bw_test_dtypes[t];
    size_t es = bw_dtype_size(dt);
    /* a big buffer of shape (7, 30, 2*41 + 5); the view takes every other x,
     * starting at (1, 3, 2) */
    const ptrdiff_t big[3] = {7, 30, 2 * 41 + 5};
    size_t nbig = prod(big, 3), n = prod(shape, 3);
    void *abig = malloc(nbig * es), *bbig = malloc(nbig * es);
    fill_random(abig, dt, nbig);
    fill_random(bbig, dt, nbig);
    bw_view vabig = bw_view_contiguous(abig, dt, 3, big);
    bw_view vbbig = bw_view_contiguous(bbig, dt, 3, big);
    bw_view sa = vabig, sb = vbbig;
    ptrdiff_t start = ((1 * big[1] + 3) * big[2] + 2) * (ptrdiff_t)es;
    sa.data = (char *)abig + start;
    sb.data = (char *)bbig + start;
    for (int d = 0; d < 3; d++) sa.shape[d] = sb.shape[d] = shape[d];
    sa.strides[2] = sb.strides[2] = 2 * (ptrdiff_t)es;
    /* contiguous copies made by index arithmetic */
    char *ca = malloc(n * es), *cb = malloc(n * es);
    for (ptrdiff_t z = 0; z < shape[0]; z++)
      for (ptrdiff_t y = 0; y < shape[1]; y++)
        for (ptrdiff_t x = 0; x < shape[2]; x++) {
          size_t src = (size_t)(((1 + z) * big[1] + 3 + y) * big[2] + 2 + 2 * x);
          size_t dst = (size_t)((z * shape[1] + y) * shape[2] + x);
          memcpy(ca + dst * es, (char *)abig + src * es, es);
          memcpy(cb + dst * es, (char *)bbig + src * es, es);
        }
    bw_view va = bw_view_contiguous(ca, dt, 3, shape), vb = bw_view_contiguous(cb, dt, 3, shape);
    bw_block_params p;
    bw_block_params_init(&p, 3, block);
    double *ref[N_OUT], *got[N_OUT];
    ptrdiff_t on[3];
    CHECK(run_all(&va, &vb, &p, ref, on, NULL) == BW_OK, "contiguous");
    CHECK(run_all(&sa, &sb, &p, got, on, NULL) == BW_OK, "strided");
    size_t no = prod(on, 3);
    for (int o = 0; o < N_OUT; o++)
      CHECK(memcmp(ref[o], got[o], no * sizeof(double)) == 0, "dtype %s output %s differs",
            bw_dtype_name(dt), bw_stat_name(out_stats[o]));
    /* flipped along y (negative stride) equals the flipped contiguous copy */
    {
      bw_view fa = va;
      fa.data = ca + (shape[1] - 1) * va.strides[1];
      fa.strides[1] = -va.strides[1];
      const ptrdiff_t one[3] = {1, 1, 1};
      bw_block_params p1;
      bw_block_params_init(&p1, 3, one);
      double *fl = malloc(n * sizeof(double)), *pl = malloc(n * sizeof(double));
      bw_block_output of = {BW_STAT_SUM, 0, bw_view_contiguous(fl, BW_F64, 3, shape)};
      bw_block_output op = {BW_STAT_SUM, 0, bw_view_contiguous(pl, BW_F64, 3, shape)};
      CHECK(bw_block_stats(&fa, NULL, &p1, &of, 1, NULL) == BW_OK, "flipped");
      CHECK(bw_block_stats(&va, NULL, &p1, &op, 1, NULL) == BW_OK, "plain");
      int mism = 0;
      for (ptrdiff_t z = 0; z < shape[0]; z++)
        for (ptrdiff_t y = 0; y < shape[1]; y++)
          for (ptrdiff_t x = 0; x < shape[2]; x++)
            mism += fl[(z * shape[1] + y) * shape[2] + x] !=
                    pl[(z * shape[1] + shape[1] - 1 - y) * shape[2] + x];
      free(fl);
      free(pl);
      CHECK(mism == 0, "dtype %s: flipped view gives %d different values", bw_dtype_name(dt),
            mism);
    }
    /* a strided f32 output: every third element of a larger buffer */
    {
      float *big_out = malloc(3 * no * sizeof(float));
      for (size_t i = 0; i < 3 * no; i++) big_out[i] = 12345.0f;
      bw_block_output o = {BW_STAT_CORR, 0, bw_view_contiguous(big_out, BW_F32, 3, on)};
      o.view.strides[2] *= 3;
      o.view.strides[1] *= 3;
      o.view.strides[0] *= 3;
      CHECK(bw_block_stats(&sa, &sb, &p, &o, 1, NULL) == BW_OK, "f32 strided out");
      int mism = 0;
      for (size_t i = 0; i < 3 * no; i++) {
        float want = (i % 3 == 0) ? (float)ref[8][i / 3] : 12345.0f;
        if (memcmp(&want, &big_out[i], sizeof want) != 0) mism++;
      }
      free(big_out);
      CHECK(mism == 0, "dtype %s: strided f32 output differs in %d places",
            bw_dtype_name(dt), mism);
    }
    for (int o = 0; o < N_OUT; o++) {
      free(ref[o]);
      free(got[o]);
    }
    free(abig);
    free(bbig);
    free(ca);
    free(cb);
  }
}

/* Several statistics in one call equal separate calls, bit for bit. */
void test_one_pass_equals_separate(void) {
  const ptrdiff_t shape[2] = {64, 77}, block[2] = {8, 11};
  for (size_t t = 0; t < 8; t++) {
    const bw_dtype dt = bw_test_dtypes[t];
    size_t n = prod(shape, 2), es = bw_dtype_size(dt);
    void *a = malloc(n * es), *b = malloc(n * es);
    fill_random(a, dt, n);
    fill_random(b, dt, n);
    bw_view va = bw_view_contiguous(a, dt, 2, shape), vb = bw_view_contiguous(b, dt, 2, shape);
    bw_block_params p;
    bw_block_params_init(&p, 2, block);
    p.ddof = 1;
    double *all[N_OUT];
    ptrdiff_t on[2];
    CHECK(run_all(&va, &vb, &p, all, on, NULL) == BW_OK, "all");
    size_t no = prod(on, 2);
    double *one = malloc(no * sizeof(double));
    for (int o = 0; o < N_OUT; o++) {
      bw_block_output out = {out_stats[o], out_input[o], bw_view_contiguous(one, BW_F64, 2, on)};
      CHECK(bw_block_stats(&va, &vb, &p, &out, 1, NULL) == BW_OK, "single");
      CHECK(memcmp(one, all[o], no * sizeof(double)) == 0, "dtype %s %s differs",
            bw_dtype_name(dt), bw_stat_name(out_stats[o]));
    }
    free(one);
    for (int o = 0; o < N_OUT; o++) free(all[o]);
    free(a);
    free(b);
  }
}

/* The region map on known cases, written out by hand. */
void test_region_map_values(void) {
  const ptrdiff_t shape[3] = {10, 37, 53}, block[3] = {4, 5, 7};
  bw_block_params p;
  bw_block_params_init(&p, 3, block);
  ptrdiff_t on[3];
  CHECK(bw_block_output_shape(&p, shape, on, NULL) == BW_OK, "shape");
  CHECK(on[0] == 3 && on[1] == 8 && on[2] == 8, "partial output %td %td %td", on[0], on[1],
        on[2]);
  bw_region r = {{1, 2, 6}, {2, 6, 2}}, in;
  CHECK(bw_block_input_region(&p, shape, &r, &in, NULL) == BW_OK, "map");
  CHECK(in.start[0] == 4 && in.size[0] == 6, "z: %td + %td", in.start[0], in.size[0]);
  CHECK(in.start[1] == 10 && in.size[1] == 27, "y: %td + %td", in.start[1], in.size[1]);
  CHECK(in.start[2] == 42 && in.size[2] == 11, "x: %td + %td", in.start[2], in.size[2]);
  p.edge = BW_EDGE_TRIM;
  CHECK(bw_block_output_shape(&p, shape, on, NULL) == BW_OK, "trim shape");
  CHECK(on[0] == 2 && on[1] == 7 && on[2] == 7, "trim output %td %td %td", on[0], on[1],
        on[2]);
  bw_region t = {{0, 0, 0}, {2, 7, 7}};
  CHECK(bw_block_input_region(&p, shape, &t, &in, NULL) == BW_OK, "trim map");
  CHECK(in.size[0] == 8 && in.size[1] == 35 && in.size[2] == 49, "trim region %td %td %td",
        in.size[0], in.size[1], in.size[2]);
}

/* bw_block_output_region: hand-worked cases, then pieces that tile the
 * image give output regions that tile the output, each mapped back by
 * bw_block_input_region to the piece it came from. */
void test_output_region(void) {
  const ptrdiff_t shape[2] = {23, 40}, block[2] = {5, 8};
  bw_block_params p;
  bw_block_params_init(&p, 2, block);
  bw_region in = {{10, 16, 0}, {13, 24, 0}}, out;
  bw_error err;
  CHECK(bw_block_output_region(&p, shape, &in, &out, &err) == BW_OK, "%s", err.message);
  CHECK(out.start[0] == 2 && out.size[0] == 3 && out.start[1] == 2 && out.size[1] == 3,
        "partial: [%td +%td) [%td +%td)", out.start[0], out.size[0], out.start[1], out.size[1]);
  p.edge = BW_EDGE_TRIM;
  CHECK(bw_block_output_region(&p, shape, &in, &out, &err) == BW_OK, "%s", err.message);
  CHECK(out.start[0] == 2 && out.size[0] == 2 && out.size[1] == 3, "trim: %td +%td, +%td",
        out.start[0], out.size[0], out.size[1]);
  /* Only the trimmed remainder (rows 20..22): no blocks along that axis. */
  bw_region rest = {{20, 0, 0}, {3, 40, 0}};
  CHECK(bw_block_output_region(&p, shape, &rest, &out, &err) == BW_OK, "%s", err.message);
  CHECK(out.start[0] == 4 && out.size[0] == 0 && out.size[1] == 5, "remainder %td +%td",
        out.start[0], out.size[0]);
  /* Misaligned start, misaligned end, outside, empty. */
  bw_region bad = {{3, 0, 0}, {5, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "start");
  bad = (bw_region){{0, 0, 0}, {7, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "end");
  bad = (bw_region){{20, 0, 0}, {5, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "outside");
  bad = (bw_region){{0, 0, 0}, {0, 8, 0}};
  CHECK(bw_block_output_region(&p, shape, &bad, &out, &err) == BW_ERR_REGION, "empty");
  p.block[0] = 0;
  CHECK(bw_block_output_region(&p, shape, &in, &out, &err) == BW_ERR_BLOCK, "bad block");
  /* Tiling, both edges, random block-aligned cuts. */
  for (int edge = 0; edge < 2; edge++)
    for (int t = 0; t < 50; t++) {
      bw_block_params_init(&p, 2, block);
      p.edge = (bw_edge)edge;
      ptrdiff_t cut[2][8], nc[2];
      for (int a = 0; a < 2; a++) {
        nc[a] = 0;
        cut[a][nc[a]++] = 0;
        for (ptrdiff_t x = block[a]; x < shape[a]; x += block[a])
          if (rnd() & 1) cut[a][nc[a]++] = x;
        cut[a][nc[a]++] = shape[a];
      }
      ptrdiff_t on[2], covered[2] = {0, 0};
      CHECK(bw_block_output_shape(&p, shape, on, NULL) == BW_OK, "output shape");
      for (int a = 0; a < 2; a++)
        for (ptrdiff_t k = 0; k + 1 < nc[a]; k++) {
          bw_region piece = {{0, 0, 0}, {shape[0], shape[1], 0}};
          piece.start[a] = cut[a][k];
          piece.size[a] = cut[a][k + 1] - cut[a][k];
          CHECK(bw_block_output_region(&p, shape, &piece, &out, &err) == BW_OK, "%s",
                err.message);
          CHECK(out.start[a] == covered[a], "axis %d: piece starts at block %td, not %td", a,
                out.start[a], covered[a]);
          covered[a] += out.size[a];
          if (out.size[a] > 0) {
            bw_region back;
            CHECK(bw_block_input_region(&p, shape, &out, &back, &err) == BW_OK, "%s",
                  err.message);
            CHECK(back.start[a] == piece.start[a] && back.size[a] <= piece.size[a],
                  "axis %d: back to [%td +%td) from [%td +%td)", a, back.start[a],
                  back.size[a], piece.start[a], piece.size[a]);
          }
        }
      CHECK(covered[0] == on[0] && covered[1] == on[1], "pieces cover %td x %td of %td x %td",
            covered[0], covered[1], on[0], on[1]);
    }
}
