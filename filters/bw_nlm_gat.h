/*
 * The generalised Anscombe transform of the Poisson-Gaussian noise model of
 * non-local means, and its exact unbiased inverse (bw_nlm_gat.c).  In
 * photo-electron units u = (z - offset) / gain, s = read_sigma / gain, the
 * transform is f(u) = 2 sqrt(max(u + 3/8 + s^2, 0)), which makes the noise
 * about unit Gaussian; the inverse maps a denoised value D back to the
 * expected z whose transform has expectation D, which keeps the means
 * unbiased where the plain algebraic inverse would not.
 */
#ifndef BW_NLM_GAT_H
#define BW_NLM_GAT_H

#include "bw_internal.h"

#include <math.h>

#define BW_GAT_NODES 512

/* The model, and the inverse tabulated at BW_GAT_NODES + 1 nodes. */
typedef struct bw_gat {
  double gain, offset, s2, c; /* c = 3/8 + s2 */
  double d[BW_GAT_NODES + 1], y[BW_GAT_NODES + 1], slope[BW_GAT_NODES + 1];
} bw_gat;

/* Sets up *t for the model of @p (gain, offset and read_sigma already
 * checked).  Fails only for want of memory. */
bw_status bw_gat_init(bw_gat *t, const bw_nlm_params *p, bw_error *err);

/* The transform of image value @z. */
static inline double bw_gat_forward(const bw_gat *t, double z) {
  const double u = (z - t->offset) / t->gain + t->c;
  return u > 0.0 ? 2.0 * sqrt(u) : 0.0;
}

/* The expected photo-electron count y with E{f(u) | y} = @d, in image
 * units (gain * y + offset). */
double bw_gat_inverse(const bw_gat *t, double d);

#endif
