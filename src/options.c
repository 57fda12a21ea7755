/*
 * The 1.1 entry points: row-structured inputs (class-index labels or dense
 * targets) with focal_options. They validate the options and the small
 * per-row / per-class arrays up front, then run the same kernels as 1.0.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "focal/focal.h"
#include "focal_internal.h"
#include "options.h"
#include "sigmoid.h"

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

/* Shared by labels and dense; `labels` NULL means dense targets. */
static int sigmoid_rows(const float *logits, const float *targets, const int32_t *labels,
                        size_t rows, size_t classes, const focal_options *opt,
                        float *loss, float *grad)
{
    focal_options defaults;
    int rc = focal_options_resolve(&opt, &defaults);
    if (rc != FOCAL_OK)
        return rc;
    if (classes != 0 && rows > SIZE_MAX / sizeof(float) / classes)
        return FOCAL_ESIZE;
    const size_t n = rows * classes;
    const void *t = labels ? (const void *)labels : (const void *)targets;
    const size_t t_bytes = labels ? rows * sizeof(int32_t) : n * sizeof(float);
    rc = focal_check_rows_call(logits, t, t_bytes, rows, classes, opt, loss, n, grad);
    if (rc != FOCAL_OK)
        return rc;

    size_t counted_rows = rows;
    if (labels && focal_count_labels(labels, rows, (int64_t)classes, &counted_rows))
        return FOCAL_ELABEL;

    focal_sigmoid_params prm = { 0 };
    focal_set_alpha(&prm, opt->alpha);
    prm.gamma = opt->gamma;
    prm.gamma_kind = focal_gamma_kind(opt->gamma);
    prm.classes = classes;
    prm.labels = labels;
    prm.class_alpha = opt->class_alpha;
    prm.weight = opt->weight;
    prm.smoothing = opt->label_smoothing > 0.0f;
    prm.smooth_keep = 1.0f - opt->label_smoothing;
    prm.smooth_add = opt->label_smoothing * 0.5f;
    /* Without any of these the 1.0 path gives the same bits, faster. */
    prm.row_inputs = labels || opt->class_alpha || opt->weight || prm.smoothing;

    const double divisor = focal_options_divisor(opt, (double)counted_rows * (double)classes);
    prm.grad_scale = focal_grad_scale(opt->reduction, divisor);

    return focal_run_sigmoid(logits, targets, n, &prm, opt->reduction, divisor, loss, grad);
}

FOCAL_API int focal_sigmoid_labels(const float *logits, const int32_t *labels, size_t rows,
                                   size_t classes, const focal_options *opt,
                                   float *loss, float *grad)
{
    if (rows > 0 && labels == NULL)
        return FOCAL_ENULL;
    return sigmoid_rows(logits, NULL, labels, rows, classes, opt, loss, grad);
}

FOCAL_API int focal_sigmoid_dense(const float *logits, const float *targets, size_t rows,
                                  size_t classes, const focal_options *opt,
                                  float *loss, float *grad)
{
    return sigmoid_rows(logits, targets, NULL, rows, classes, opt, loss, grad);
}
