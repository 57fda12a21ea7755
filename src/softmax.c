/* SPDX-License-Identifier: MIT */
/*
 * The losses over softmax rows: the 1.1 softmax focal loss with class-index
 * labels and the 1.4 Distribution Focal Loss (docs/DESIGN.md §2.3, §2.7).
 * Checks and options as the sigmoid entry points; blocks are whole rows (as
 * many as fit in FOCAL_BLOCK elements, at least one), so results never
 * depend on threads.
 */
#include <stdint.h>

#include "entry.h"
#include "focal/focal.h"
#include "focal_internal.h"
#include "options.h"
#include "parallel.h"

typedef struct {
    const float *x, *w;
    const int32_t *labels; /* softmax */
    const float *t;        /* DFL     */
    float *loss_rows, *grad; /* NULL when not wanted */
    size_t rows, rows_per_block;
    const focal_rows_params *prm;
    const focal_kernel *kernel; /* read once per call: focal_set_isa may run meanwhile */
} rows_job;

/* focal_run_blocks counts in FOCAL_BLOCK units: block b is rows
 * [b rows_per_block, (b + 1) rows_per_block). */
static int rows_job_block(void *ctx, size_t begin, size_t count, double *sum)
{
    (void)count;
    const rows_job *j = ctx;
    const size_t r0 = begin / FOCAL_BLOCK * j->rows_per_block;
    const size_t nr = j->rows - r0 < j->rows_per_block ? j->rows - r0 : j->rows_per_block;
    const size_t classes = j->prm->classes;
    const float *x = j->x + r0 * classes, *w = j->w ? j->w + r0 : NULL;
    float *loss = j->loss_rows ? j->loss_rows + r0 : NULL;
    float *grad = j->grad ? j->grad + r0 * classes : NULL;
    return j->labels ? j->kernel->softmax(x, j->labels + r0, w, nr, j->prm, loss, grad, sum)
                     : j->kernel->dfl(x, j->t + r0, w, nr, j->prm, loss, grad, sum);
}

/* Runs the prepared call and writes the reduced loss. */
static int run_rows(rows_job *job, const focal_options *opt, float *loss, double divisor)
{
    const size_t classes = job->prm->classes;
    job->rows_per_block = classes >= FOCAL_BLOCK ? 1 : classes ? FOCAL_BLOCK / classes
                                                               : FOCAL_BLOCK;
    job->loss_rows = opt->reduction == FOCAL_REDUCTION_NONE ? loss : NULL;
    job->kernel = focal_active_kernel();
    const size_t blocks = (job->rows + job->rows_per_block - 1) / job->rows_per_block;
    double total;
    focal_run_blocks(blocks * FOCAL_BLOCK, rows_job_block, job, &total);
    focal_write_reduced(loss, opt->reduction, total, divisor);
    return FOCAL_OK;
}

FOCAL_API int focal_softmax_labels(const float *logits, const int32_t *labels, size_t rows,
                                   size_t classes, const focal_options *opt,
                                   float *loss, float *grad)
{
    if (rows > 0 && labels == NULL)
        return FOCAL_ENULL;
    focal_options defaults;
    int rc = focal_options_resolve(&opt, &defaults);
    if (rc != FOCAL_OK)
        return rc;
    /* BCE's positive weight has no meaning under a softmax. */
    if (opt->pos_weight != NULL)
        return FOCAL_EOPTIONS;
    if (rows > SIZE_MAX / sizeof(float) || (classes != 0 && rows > SIZE_MAX / sizeof(float) / classes))
        return FOCAL_ESIZE;
    rc = focal_check_rows_call(logits, labels, rows * sizeof(int32_t), rows, classes, opt, loss,
                               rows, grad);
    if (rc != FOCAL_OK)
        return rc;
    /* No background class here: every kept row names one of the classes. */
    size_t counted;
    if (focal_count_labels(labels, rows, (int64_t)classes - 1, &counted))
        return FOCAL_ELABEL;

    focal_rows_params prm = { 0 };
    prm.classes = classes;
    prm.class_alpha = opt->class_alpha;
    prm.alpha = opt->alpha < 0.0f ? 1.0f : opt->alpha;
    prm.gamma = opt->gamma;
    prm.gamma_kind = focal_gamma_kind(opt->gamma);
    prm.smooth_keep = 1.0f - opt->label_smoothing;
    prm.smooth_add = classes ? opt->label_smoothing / (float)classes : 0.0f;
    const double divisor = focal_options_divisor(opt, (double)counted);
    prm.grad_scale = focal_grad_scale(opt->reduction, divisor);

    rows_job job = { .x = logits, .w = opt->weight, .labels = labels, .grad = grad,
                     .rows = rows, .prm = &prm };
    return run_rows(&job, opt, loss, divisor);
}

FOCAL_API int focal_distribution_focal(const float *logits, const float *targets, size_t rows,
                                       size_t bins, const focal_options *opt, float *loss,
                                       float *grad)
{
    if (rows > 0 && targets == NULL)
        return FOCAL_ENULL;
    focal_options defaults;
    int rc = focal_options_resolve(&opt, &defaults);
    if (rc != FOCAL_OK)
        return rc;
    /* The loss has no class weights, smoothing, positive weight or flag. */
    if (opt->class_alpha != NULL || opt->label_smoothing != 0.0f || opt->pos_weight != NULL ||
        opt->flags != 0)
        return FOCAL_EOPTIONS;
    if (rows > SIZE_MAX / sizeof(float) || (bins != 0 && rows > SIZE_MAX / sizeof(float) / bins))
        return FOCAL_ESIZE;
    /* alpha and gamma are not read, so whatever they hold is no error. */
    focal_options checked = *opt;
    checked.alpha = 0.0f;
    checked.gamma = 0.0f;
    rc = focal_check_rows_call(logits, targets, rows * sizeof(float), rows, bins, &checked,
                               loss, rows, grad);
    if (rc != FOCAL_OK)
        return rc;
    /* Every target before anything is written: l = floor(t) and l + 1 must
     * both be bins (the row driver relies on it). */
    const double last = (double)bins - 1.0;
    for (size_t r = 0; r < rows; r++)
        if (!(targets[r] >= 0.0f && (double)targets[r] < last))
            return FOCAL_ETARGET;

    focal_rows_params prm = { 0 };
    prm.classes = bins;
    prm.alpha = 1.0f;
    prm.gamma_kind = FOCAL_GAMMA_0;
    prm.smooth_keep = 1.0f;
    const double divisor = focal_options_divisor(opt, (double)rows);
    prm.grad_scale = focal_grad_scale(opt->reduction, divisor);

    rows_job job = { .x = logits, .w = opt->weight, .t = targets, .grad = grad, .rows = rows,
                     .prm = &prm };
    return run_rows(&job, opt, loss, divisor);
}
