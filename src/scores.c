/* SPDX-License-Identifier: MIT */
/*
 * The 1.1 losses over scores in [0, 1]: quality focal (GFL) and varifocal
 * (VFNet) (docs/DESIGN.md §2.4, §2.5). Same checks, options and block
 * driver as the sigmoid entry points; the scores are validated in the
 * computing pass. Each loss has its own kernel entry: nothing is treated as
 * the other by default.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "entry.h"
#include "focal/focal.h"
#include "focal_internal.h"
#include "options.h"
#include "parallel.h"

typedef struct {
    const float *x, *s, *w, *pw;
    float *loss_each, *grad; /* NULL when not wanted */
    const focal_score_params *prm;
    focal_score_fn fn; /* of the kernel read once per call: focal_set_isa may run meanwhile */
} score_job;

static int score_job_block(void *ctx, size_t begin, size_t count, double *sum)
{
    const score_job *j = ctx;
    return j->fn(j->x + begin, j->s + begin, j->w ? j->w + begin : NULL,
                 j->pw ? j->pw + begin : NULL, count, j->prm,
                 j->loss_each ? j->loss_each + begin : NULL, j->grad ? j->grad + begin : NULL,
                 sum);
}

/* A loss over scores: the offset of its entry in the kernel table (its
 * field, from loss_list.h), and whether it takes Ultralytics' options
 * (pos_weight and the alpha flag: the quality loss). Nothing else tells the
 * losses apart here, so there is no list of them to keep. */
static int score_loss(size_t kernel_field, int yolo_options, const float *logits,
                      const float *scores, size_t n, const focal_options *opt, float *loss,
                      float *grad)
{
    focal_options defaults;
    int rc = focal_options_resolve(&opt, &defaults);
    if (rc != FOCAL_OK)
        return rc;
    rc = focal_check_args(logits, scores, n, opt->alpha, opt->gamma, opt->reduction, loss, n,
                          grad, n * sizeof(float));
    if (rc != FOCAL_OK)
        return rc;
    /* Scores are already soft and carry no class: nothing to smooth or balance
     * per class. Ultralytics' positive weight and alpha factor exist for the
     * quality loss only. */
    if (opt->class_alpha != NULL || opt->label_smoothing != 0.0f)
        return FOCAL_EOPTIONS;
    if (!yolo_options && (opt->pos_weight != NULL || opt->flags != 0))
        return FOCAL_EOPTIONS;
    const size_t loss_n = opt->reduction == FOCAL_REDUCTION_NONE ? n : 1;
    if (focal_writes_into(loss, loss_n, grad, n, opt->weight, n * sizeof(float)) ||
        focal_writes_into(loss, loss_n, grad, n, opt->pos_weight, n * sizeof(float)))
        return FOCAL_EOVERLAP;
    rc = focal_check_pos_weight(opt->pos_weight, n);
    if (rc != FOCAL_OK)
        return rc;

    focal_score_params prm = { 0 };
    /* a_t = alpha s + (1 - alpha)(1 - s), or exactly 1 with alpha < 0. */
    prm.alpha_pos = opt->alpha < 0.0f ? 1.0f : opt->alpha;
    prm.alpha_neg = opt->alpha < 0.0f ? 1.0f : 1.0f - opt->alpha;
    prm.alpha_t = (opt->flags & FOCAL_FLAG_QUALITY_ALPHA) != 0;
    prm.varifocal_alpha = opt->alpha < 0.0f ? 1.0f : opt->alpha;
    prm.gamma = opt->gamma;
    prm.gamma_kind = focal_gamma_kind(opt->gamma);
    const double divisor = focal_options_divisor(opt, (double)n);
    prm.grad_scale = focal_grad_scale(opt->reduction, divisor);

    focal_score_fn fn;
    memcpy(&fn, (const char *)focal_active_kernel() + kernel_field, sizeof fn);
    score_job job = { logits, scores, opt->weight, opt->pos_weight,
                      opt->reduction == FOCAL_REDUCTION_NONE ? loss : NULL, grad, &prm, fn };
    double total;
    if (focal_run_blocks(n, score_job_block, &job, &total))
        return FOCAL_ETARGET;
    focal_write_reduced(loss, opt->reduction, total, divisor);
    return FOCAL_OK;
}

FOCAL_API int focal_quality_focal(const float *logits, const float *scores, size_t n,
                                  const focal_options *opt, float *loss, float *grad)
{
    return score_loss(offsetof(focal_kernel, quality), 1, logits, scores, n, opt, loss, grad);
}

FOCAL_API int focal_varifocal(const float *logits, const float *scores, size_t n,
                              const focal_options *opt, float *loss, float *grad)
{
    return score_loss(offsetof(focal_kernel, varifocal), 0, logits, scores, n, opt, loss, grad);
}
