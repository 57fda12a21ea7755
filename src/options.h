/* Option handling shared by every entry point that takes focal_options. */
#ifndef FOCAL_OPTIONS_H
#define FOCAL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "focal/focal.h"

/* *opt, or the defaults of focal_options_init() (written to *defaults) when
 * NULL; then checks the struct: FOCAL_EOPTIONS, FOCAL_ENORMALIZER,
 * FOCAL_ESMOOTHING. */
int focal_options_resolve(const focal_options **opt, focal_options *defaults);

/* FOCAL_EALPHA unless every class alpha is in [0, 1] (NULL: none). */
int focal_check_class_alpha(const float *class_alpha, size_t classes);

/* Does loss (loss_n floats) or grad (n floats) overlap [p, p + bytes)? */
int focal_writes_into(const float *loss, size_t loss_n, const float *grad, size_t n,
                      const void *p, size_t bytes);

/* FOCAL_ELABEL when a label exceeds max_label; else the labels >= 0 in *counted. */
int focal_count_labels(const int32_t *labels, size_t rows, int64_t max_label, size_t *counted);

/* The reduction's divisor: normalizer when set (SUM, MEAN), `counted` for
 * MEAN, else 1. */
double focal_options_divisor(const focal_options *opt, double counted);

/* 1 / divisor rounded to float for SUM and MEAN, 1 for NONE (and divisor 0). */
float focal_grad_scale(int reduction, double divisor);

#endif /* FOCAL_OPTIONS_H */
