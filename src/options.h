/* SPDX-License-Identifier: MIT */
/* Option handling shared by every entry point that takes focal_options. */
#ifndef FOCAL_OPTIONS_H
#define FOCAL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "focal/focal.h"

/* *opt, or the defaults (the whole struct, written to *defaults) when NULL,
 * or a copy of an older released layout in *defaults with its later fields
 * zero (so that *opt may always be read whole); then checks the struct:
 * FOCAL_EOPTIONS (a size of no released layout, unknown non-zero bytes past
 * ours, unknown flags), FOCAL_ENORMALIZER, FOCAL_ESMOOTHING. */
int focal_options_resolve(const focal_options **opt, focal_options *defaults);

/* FOCAL_EPOSWEIGHT unless each of the `count` pos_weight values (none when
 * pos_weight is NULL) is finite and >= 0. */
int focal_check_pos_weight(const float *pos_weight, size_t count);

/* Does loss (loss_n floats) or grad (n floats) overlap [p, p + bytes)? */
int focal_writes_into(const float *loss, size_t loss_n, const float *grad, size_t n,
                      const void *p, size_t bytes);

/* The argument checks of a call on rows x classes logits with options (the
 * sigmoid checks, weight, class_alpha and pos_weight overlaps, no flags,
 * class alpha range, pos_weight values), in that order; t: targets or labels of t_bytes; loss_none_n: floats of loss
 * for FOCAL_REDUCTION_NONE. rows * classes must not overflow (checked
 * before). */
int focal_check_rows_call(const float *logits, const void *t, size_t t_bytes, size_t rows,
                          size_t classes, const focal_options *opt, const float *loss,
                          size_t loss_none_n, const float *grad);

/* FOCAL_ELABEL when a label exceeds max_label; else the labels >= 0 in *counted. */
int focal_count_labels(const int32_t *labels, size_t rows, int64_t max_label, size_t *counted);

/* The reduction's divisor: normalizer when set (SUM, MEAN), `counted` for
 * MEAN, else 1. */
double focal_options_divisor(const focal_options *opt, double counted);

/* 1 / divisor rounded to float for SUM and MEAN, 1 for NONE (and divisor 0). */
float focal_grad_scale(int reduction, double divisor);

#endif /* FOCAL_OPTIONS_H */
