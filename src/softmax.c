/* SPDX-License-Identifier: MIT */
/*
 * The 1.1 softmax focal loss with class-index labels. Checks and options as
 * the sigmoid entry points; blocks are whole rows (as many as fit in
 * FOCAL_BLOCK elements, at least one), so results never depend on threads.
 */
#include <stdint.h>

#include "entry.h"
#include "focal/focal.h"
#include "focal_internal.h"
#include "options.h"
#include "parallel.h"

typedef struct {
    const float *x, *w;
    const int32_t *labels;
    float *loss_rows, *grad; /* NULL when not wanted */
    size_t rows, rows_per_block;
    const focal_softmax_params *prm;
    const focal_kernel *kernel;
} softmax_job;

/* focal_run_blocks counts in FOCAL_BLOCK units: block b is rows
 * [b rows_per_block, (b + 1) rows_per_block). */
static int softmax_block(void *ctx, size_t begin, size_t count, double *sum)
{
    (void)count;
    const softmax_job *j = ctx;
    const size_t r0 = begin / FOCAL_BLOCK * j->rows_per_block;
    const size_t nr = j->rows - r0 < j->rows_per_block ? j->rows - r0 : j->rows_per_block;
    const size_t classes = j->prm->classes;
    return j->kernel->softmax(j->x + r0 * classes, j->labels + r0, j->w ? j->w + r0 : NULL, nr,
                              j->prm, j->loss_rows ? j->loss_rows + r0 : NULL,
                              j->grad ? j->grad + r0 * classes : NULL, sum);
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

    focal_softmax_params prm = { 0 };
    prm.classes = classes;
    prm.class_alpha = opt->class_alpha;
    prm.alpha = opt->alpha < 0.0f ? 1.0f : opt->alpha;
    prm.gamma = opt->gamma;
    prm.gamma_kind = focal_gamma_kind(opt->gamma);
    prm.smooth_keep = 1.0f - opt->label_smoothing;
    prm.smooth_add = classes ? opt->label_smoothing / (float)classes : 0.0f;
    const double divisor = focal_options_divisor(opt, (double)counted);
    prm.grad_scale = focal_grad_scale(opt->reduction, divisor);

    softmax_job job = { logits, opt->weight, labels,
                        opt->reduction == FOCAL_REDUCTION_NONE ? loss : NULL, grad, rows,
                        classes >= FOCAL_BLOCK ? 1 : classes ? FOCAL_BLOCK / classes : FOCAL_BLOCK,
                        &prm, focal_active_kernel() };
    const size_t blocks = (rows + job.rows_per_block - 1) / job.rows_per_block;
    double total;
    focal_run_blocks(blocks * FOCAL_BLOCK, softmax_block, &job, &total);
    focal_write_reduced(loss, opt->reduction, total, divisor);
    return FOCAL_OK;
}
