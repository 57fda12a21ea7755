/* SPDX-License-Identifier: MIT */
/*
 * What every entry point does around its kernel, whatever the loss
 * (docs/DESIGN.md §5): the argument checks, the gamma kind, and the reduced
 * loss. The options of the 1.1 entry points are options.h's.
 */
#ifndef FOCAL_ENTRY_H
#define FOCAL_ENTRY_H

#include <stddef.h>

/* Do the byte ranges [a, a + an) and [b, b + bn) share a byte? (NULL or
 * empty ranges never do.) */
int focal_overlaps(const void *a, size_t an, const void *b, size_t bn);

/* Which power routine gamma gets (enum focal_gamma_kind). */
int focal_gamma_kind(float gamma);

/* The checks of every loss, in the documented order of
 * focal_sigmoid_loss_grad(): x holds n floats; t is the target array
 * (floats, scores or labels) of t_bytes bytes; loss_none_n is the number of
 * floats `loss` holds for FOCAL_REDUCTION_NONE (n, or one per row). */
int focal_check_args(const float *x, const void *t, size_t n, float alpha, float gamma,
                     int reduction, const float *loss, size_t loss_none_n, const float *grad,
                     size_t t_bytes);

/* The reduced loss, total / divisor, into *loss for SUM and MEAN (NaN when
 * divisor is 0; a NaN total as the canonical NaN). */
void focal_write_reduced(float *loss, int reduction, double total, double divisor);

#endif /* FOCAL_ENTRY_H */
