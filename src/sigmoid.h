/* SPDX-License-Identifier: MIT */
/* The sigmoid driver shared by focal.c (1.0) and options.c (1.1). */
#ifndef FOCAL_SIGMOID_H
#define FOCAL_SIGMOID_H

#include <stddef.h>

#include "focal_internal.h"

/* Do the byte ranges [a, a + an) and [b, b + bn) share a byte? (NULL or
 * empty ranges never do.) */
int focal_overlaps(const void *a, size_t an, const void *b, size_t bn);

/* Which power routine gamma gets (enum focal_gamma_kind). */
int focal_gamma_kind(float gamma);

/* alpha_pos / alpha_neg from alpha (< 0: no balancing). */
void focal_set_alpha(focal_sigmoid_params *prm, float alpha);

/* The checks of focal_sigmoid_loss_grad(), in its documented order; t is
 * the target array (floats or labels) of t_bytes bytes. */
int focal_check_sigmoid_args(const float *x, const void *t, size_t n, float alpha, float gamma,
                             int reduction, const float *loss, const float *grad, size_t t_bytes);

/* The same checks for any loss: loss_none_n is the number of floats `loss`
 * holds for FOCAL_REDUCTION_NONE (n, or one per row). */
int focal_check_args(const float *x, const void *t, size_t n, float alpha, float gamma,
                     int reduction, const float *loss, size_t loss_none_n, const float *grad,
                     size_t t_bytes);

/* Runs every block (on the pool when large), then writes the reduced loss as
 * total / divisor (NaN when divisor is 0). t may be NULL with labels. */
int focal_run_sigmoid(const float *x, const float *t, size_t n, const focal_sigmoid_params *prm,
                      int reduction, double divisor, float *loss, float *grad);

/* The reduced loss, total / divisor, into *loss for SUM and MEAN (NaN when
 * divisor is 0; a NaN total as the canonical NaN). */
void focal_write_reduced(float *loss, int reduction, double total, double divisor);

#endif /* FOCAL_SIGMOID_H */
