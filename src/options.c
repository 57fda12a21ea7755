/* SPDX-License-Identifier: MIT */
/*
 * focal_options, shared by every 1.1 entry point: the defaults, the checks of
 * the struct and of the per-row / per-class arrays it points to, labels, and
 * the reduction's divisor and gradient scale (docs/DESIGN.md §2.2, §3).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "entry.h"
#include "focal/focal.h"
#include "options.h"

/* The size of the 1.1 struct: fields after it belong to later versions. */
#define FOCAL_OPTIONS_1_1_SIZE (offsetof(focal_options, weight) + sizeof(const float *))

/* Writes exactly the 1.1 struct, never more: a version that grows the
 * struct will export a new symbol version of this function, so programs
 * built against the 1.1 header keep getting this one. */
FOCAL_API void focal_options_init(focal_options *opt)
{
    if (opt == NULL)
        return;
    memset(opt, 0, FOCAL_OPTIONS_1_1_SIZE);
    opt->size = FOCAL_OPTIONS_1_1_SIZE;
    opt->alpha = 0.25f;
    opt->gamma = 2.0f;
    opt->reduction = FOCAL_REDUCTION_MEAN;
}

/* A caller built against a newer header may pass a larger struct: accept it
 * only if every field we do not know is zero (i.e. left at its default). */
static int check_options(const focal_options *opt)
{
    if (opt->size < FOCAL_OPTIONS_1_1_SIZE)
        return FOCAL_EOPTIONS;
    /* An uninitialized struct has garbage here: a size past any plausible
     * future struct is an error, not a reason to scan far into the stack. */
    if (opt->size > 4096)
        return FOCAL_EOPTIONS;
    const unsigned char *bytes = (const unsigned char *)opt;
    for (size_t i = sizeof(focal_options); i < opt->size; i++)
        if (bytes[i] != 0)
            return FOCAL_EOPTIONS;
    if (isnan(opt->normalizer) || isinf(opt->normalizer) || opt->normalizer < 0.0f)
        return FOCAL_ENORMALIZER;
    if (!(opt->label_smoothing >= 0.0f && opt->label_smoothing < 1.0f))
        return FOCAL_ESMOOTHING;
    return FOCAL_OK;
}

int focal_options_resolve(const focal_options **opt, focal_options *defaults)
{
    if (*opt == NULL) {
        focal_options_init(defaults);
        *opt = defaults;
    }
    return check_options(*opt);
}

static int check_class_alpha(const float *class_alpha, size_t classes)
{
    for (size_t c = 0; class_alpha && c < classes; c++)
        if (!(class_alpha[c] >= 0.0f && class_alpha[c] <= 1.0f))
            return FOCAL_EALPHA;
    return FOCAL_OK;
}

int focal_writes_into(const float *loss, size_t loss_n, const float *grad, size_t n,
                      const void *p, size_t bytes)
{
    return focal_overlaps(loss, loss_n * sizeof(float), p, bytes) ||
           focal_overlaps(grad, n * sizeof(float), p, bytes);
}

int focal_check_rows_call(const float *logits, const void *t, size_t t_bytes, size_t rows,
                          size_t classes, const focal_options *opt, const float *loss,
                          size_t loss_none_n, const float *grad)
{
    const size_t n = rows * classes;
    /* With class_alpha the scalar alpha is ignored, so it cannot be an error. */
    int rc = focal_check_args(logits, t, n, opt->class_alpha ? 0.0f : opt->alpha, opt->gamma,
                              opt->reduction, loss, loss_none_n, grad, t_bytes);
    if (rc != FOCAL_OK)
        return rc;
    const size_t loss_n = opt->reduction == FOCAL_REDUCTION_NONE ? loss_none_n : 1;
    if (focal_writes_into(loss, loss_n, grad, n, opt->weight, rows * sizeof(float)) ||
        focal_writes_into(loss, loss_n, grad, n, opt->class_alpha, classes * sizeof(float)))
        return FOCAL_EOVERLAP;
    return check_class_alpha(opt->class_alpha, classes);
}

int focal_count_labels(const int32_t *labels, size_t rows, int64_t max_label, size_t *counted)
{
    size_t k = 0;
    for (size_t r = 0; r < rows; r++) {
        if (labels[r] > max_label)
            return FOCAL_ELABEL;
        k += labels[r] >= 0;
    }
    *counted = k;
    return FOCAL_OK;
}

double focal_options_divisor(const focal_options *opt, double counted)
{
    if (opt->reduction != FOCAL_REDUCTION_NONE && opt->normalizer > 0.0f)
        return opt->normalizer;
    if (opt->reduction == FOCAL_REDUCTION_MEAN)
        return counted;
    return 1.0;
}

float focal_grad_scale(int reduction, double divisor)
{
    return reduction != FOCAL_REDUCTION_NONE && divisor > 0.0 ? (float)(1.0 / divisor) : 1.0f;
}
