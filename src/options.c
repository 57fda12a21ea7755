/* SPDX-License-Identifier: MIT */
/*
 * focal_options, shared by every 1.1 entry point: the defaults, the checks of
 * the struct (both symbol versions of its init) and of the per-row /
 * per-class arrays it points to, labels, and
 * the reduction's divisor and gradient scale (docs/DESIGN.md §2.2, §3).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "entry.h"
#include "focal/focal.h"
#include "options.h"

/* The size of the 1.1 struct: fields after it belong to later versions. */
#define FOCAL_OPTIONS_1_1_SIZE (offsetof(focal_options, weight) + sizeof(const float *))

/* Defaults in the first `size` bytes of *opt, nothing past them. */
static void options_init(focal_options *opt, size_t size)
{
    memset(opt, 0, size);
    opt->size = size;
    opt->alpha = 0.25f;
    opt->gamma = 2.0f;
    opt->reduction = FOCAL_REDUCTION_MEAN;
}

/* Two versions of one symbol (docs/DESIGN.md §3): a program built against
 * the 1.1 header has room for the 1.1 struct only and is bound to
 * focal_options_init@FOCAL_1.1, which never writes more; programs built
 * since 1.2 bind to the default version, which writes the 1.2 struct. */
FOCAL_API void focal_options_init_1_1(focal_options *opt);
FOCAL_API void focal_options_init_1_2(focal_options *opt);
__asm__(".symver focal_options_init_1_1, focal_options_init@FOCAL_1.1");
__asm__(".symver focal_options_init_1_2, focal_options_init@@FOCAL_1.2");

FOCAL_API void focal_options_init_1_1(focal_options *opt)
{
    if (opt != NULL)
        options_init(opt, FOCAL_OPTIONS_1_1_SIZE);
}

FOCAL_API void focal_options_init_1_2(focal_options *opt)
{
    if (opt != NULL)
        options_init(opt, sizeof(focal_options));
}

/* A caller built against a newer header may pass a larger struct: accept it
 * only if every field we do not know is zero (i.e. left at its default). A
 * 1.1 struct is accepted as is; its 1.2 fields are read as NULL and 0. */
static int check_options(const focal_options *opt)
{
    if (opt->size != FOCAL_OPTIONS_1_1_SIZE && opt->size < sizeof(focal_options))
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
    if (opt->flags & ~(uint32_t)FOCAL_FLAG_QUALITY_ALPHA)
        return FOCAL_EOPTIONS;
    return FOCAL_OK;
}

int focal_options_resolve(const focal_options **opt, focal_options *defaults)
{
    if (*opt == NULL) {
        focal_options_init_1_2(defaults);
        *opt = defaults;
    } else if ((*opt)->size == FOCAL_OPTIONS_1_1_SIZE) {
        /* Never read past the caller's 1.1 struct: copy it, the 1.2 fields 0. */
        memset(defaults, 0, sizeof(*defaults));
        memcpy(defaults, *opt, FOCAL_OPTIONS_1_1_SIZE);
        *opt = defaults;
    }
    return check_options(*opt);
}

int focal_check_pos_weight(const float *pos_weight, size_t count)
{
    for (size_t i = 0; pos_weight && i < count; i++)
        if (!(pos_weight[i] >= 0.0f && pos_weight[i] <= FLT_MAX))
            return FOCAL_EPOSWEIGHT;
    return FOCAL_OK;
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
        focal_writes_into(loss, loss_n, grad, n, opt->class_alpha, classes * sizeof(float)) ||
        focal_writes_into(loss, loss_n, grad, n, opt->pos_weight, classes * sizeof(float)))
        return FOCAL_EOVERLAP;
    /* The alpha factor of the quality loss is no option of the sigmoid loss. */
    if (opt->flags != 0)
        return FOCAL_EOPTIONS;
    rc = check_class_alpha(opt->class_alpha, classes);
    if (rc != FOCAL_OK)
        return rc;
    return focal_check_pos_weight(opt->pos_weight, classes);
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
