/* SPDX-License-Identifier: MIT */
/*
 * The sigmoid focal loss entry points (docs/DESIGN.md §2.1, §2.2): 1.0's
 * focal_sigmoid_loss_grad over flat targets, and 1.1's focal_sigmoid_labels
 * and focal_sigmoid_dense over rows x classes with focal_options. All three
 * check their arguments, prepare focal_sigmoid_params and run the kernel's
 * sigmoid entry over the blocks (on the thread pool when large).
 */
#include <math.h>
#include <stdint.h>

#include "entry.h"
#include "focal/focal.h"
#include "focal_internal.h"
#include "options.h"
#include "parallel.h"

typedef struct {
    const float *x, *t;
    float *loss_each, *grad; /* NULL when not wanted */
    const focal_sigmoid_params *prm;
    const focal_kernel *kernel; /* read once per call: focal_set_isa may run meanwhile */
} sigmoid_job;

static int sigmoid_job_block(void *ctx, size_t begin, size_t count, double *sum)
{
    const sigmoid_job *j = ctx;
    return j->kernel->sigmoid(j->x + begin, j->t ? j->t + begin : NULL, begin, count, j->prm,
                              j->loss_each ? j->loss_each + begin : NULL,
                              j->grad ? j->grad + begin : NULL, sum);
}

/* alpha_pos / alpha_neg from alpha (< 0: no balancing). */
static void focal_set_alpha(focal_sigmoid_params *prm, float alpha)
{
    if (alpha < 0.0f) {
        /* fma(1, t, 1 * (1 - t)) is exactly 1 for every t in [0, 1]. */
        prm->alpha_pos = 1.0f;
        prm->alpha_neg = 1.0f;
    } else {
        prm->alpha_pos = alpha;
        prm->alpha_neg = 1.0f - alpha;
    }
}

/* Runs the blocks, then writes the reduced loss: total / divisor. */
static int run_sigmoid(const float *x, const float *t, size_t n, const focal_sigmoid_params *prm,
                       int reduction, double divisor, float *loss, float *grad)
{
    sigmoid_job job = { x, t, reduction == FOCAL_REDUCTION_NONE ? loss : NULL, grad,
                        prm, focal_active_kernel() };
    double total;
    if (focal_run_blocks(n, sigmoid_job_block, &job, &total))
        return FOCAL_ETARGET;
    focal_write_reduced(loss, reduction, total, divisor);
    return FOCAL_OK;
}

FOCAL_API int focal_sigmoid_loss_grad(const float *logits, const float *targets, size_t n,
                                      float alpha, float gamma, int reduction,
                                      float *loss, float *grad)
{
    const int rc = focal_check_args(logits, targets, n, alpha, gamma, reduction, loss, n, grad,
                                    n * sizeof(float));
    if (rc != FOCAL_OK)
        return rc;

    focal_sigmoid_params prm = { 0 };
    focal_set_alpha(&prm, alpha);
    prm.gamma = gamma;
    prm.gamma_kind = focal_gamma_kind(gamma);
    const double divisor = reduction == FOCAL_REDUCTION_MEAN ? (double)n : 1.0;
    prm.grad_scale = reduction == FOCAL_REDUCTION_MEAN && n > 0 ? (float)(1.0 / divisor) : 1.0f;
    return run_sigmoid(logits, targets, n, &prm, reduction, divisor, loss, grad);
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
    prm.pos_weight = opt->pos_weight;
    prm.smoothing = opt->label_smoothing > 0.0f;
    prm.smooth_keep = 1.0f - opt->label_smoothing;
    prm.smooth_add = opt->label_smoothing * 0.5f;
    /* Without any of these the 1.0 path gives the same bits, faster. */
    prm.row_inputs =
        labels || opt->class_alpha || opt->weight || prm.smoothing || opt->pos_weight;

    const double divisor = focal_options_divisor(opt, (double)counted_rows * (double)classes);
    prm.grad_scale = focal_grad_scale(opt->reduction, divisor);

    return run_sigmoid(logits, targets, n, &prm, opt->reduction, divisor, loss, grad);
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
