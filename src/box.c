/* SPDX-License-Identifier: MIT */
/*
 * The box regression losses (1.5; docs/DESIGN.md §2.8): the IoU family
 * under a library's convention, and smooth L1. Checks and options as the
 * row losses; blocks are FOCAL_BLOCK floats of the prediction (4096 boxes,
 * or 16384 elements), so results never depend on threads.
 */
#include <float.h>
#include <stdint.h>

#include "entry.h"
#include "focal/focal.h"
#include "focal_internal.h"
#include "options.h"
#include "parallel.h"

typedef struct {
    const float *p, *t, *w;
    float *loss_each, *grad; /* NULL when not wanted */
    size_t units;            /* floats of p per weight and loss: 4 (boxes) or 1 */
    const focal_box_params *prm;
    focal_box_fn fn; /* read once per call: focal_set_isa may run meanwhile */
} box_job;

/* Floats [begin, begin + count) of p: count / units boxes or elements. */
static int box_job_block(void *ctx, size_t begin, size_t count, double *sum)
{
    const box_job *j = ctx;
    const size_t first = begin / j->units;
    return j->fn(j->p + begin, j->t + begin, j->w ? j->w + first : NULL, count / j->units,
                 j->prm, j->loss_each ? j->loss_each + first : NULL,
                 j->grad ? j->grad + begin : NULL, sum);
}

/* The checks both entry points share, in the order of the row losses':
 * NULL inputs, the options and the fields these losses do not use, sizes,
 * then focal_check_rows_call on `count` rows of `units` floats. */
static int box_check(const float *pred, const float *target, size_t count, size_t units,
                     const focal_options **opt, focal_options *defaults, const float *loss,
                     const float *grad)
{
    if (count > 0 && target == NULL)
        return FOCAL_ENULL;
    int rc = focal_options_resolve(opt, defaults);
    if (rc != FOCAL_OK)
        return rc;
    const focal_options *o = *opt;
    if (o->class_alpha != NULL || o->label_smoothing != 0.0f || o->pos_weight != NULL ||
        o->flags != 0)
        return FOCAL_EOPTIONS;
    if (count > SIZE_MAX / sizeof(float) / units)
        return FOCAL_ESIZE;
    /* alpha and gamma are not read, so whatever they hold is no error. */
    focal_options checked = *o;
    checked.alpha = 0.0f;
    checked.gamma = 0.0f;
    return focal_check_rows_call(pred, target, count * units * sizeof(float), count, units,
                                 &checked, loss, count, grad);
}

/* Runs the prepared call over count x units floats and writes the loss. */
static int box_run(box_job *job, focal_box_params *prm, size_t count, const focal_options *opt,
                   float *loss)
{
    const double divisor = focal_options_divisor(opt, (double)count);
    job->prm = prm;
    prm->grad_scale = focal_grad_scale(opt->reduction, divisor);
    job->w = opt->weight;
    job->loss_each = opt->reduction == FOCAL_REDUCTION_NONE ? loss : NULL;
    double total;
    focal_run_blocks(count * job->units, box_job_block, job, &total);
    focal_write_reduced(loss, opt->reduction, total, divisor);
    return FOCAL_OK;
}

static int finite_nonnegative(float v)
{
    return v >= 0.0f && v <= FLT_MAX;
}

/* A convention's parameters (the table of docs/DESIGN.md §2.8). */
static void box_convention(focal_box_params *prm, int kind, int convention, float eps)
{
    const int iou_kind = kind <= FOCAL_BOX_IOU_LOG;
    prm->kind = kind;
    prm->eps = eps;
    prm->union_eps = eps;
    switch (convention) {
    case FOCAL_BOXES_TORCHVISION:
        prm->ae = eps;
        /* complete_box_iou_loss passes its eps to alpha only: its DIoU part
         * runs with _diou_iou_loss's default. */
        if (kind == FOCAL_BOX_CIOU)
            prm->union_eps = 1e-7f;
        break;
    case FOCAL_BOXES_ULTRALYTICS:
        prm->he = eps;
        prm->ae = eps;
        break;
    default: /* FOCAL_BOXES_MMDET: bbox_overlaps for IoU and GIoU, its own DIoU, CIoU */
        prm->union_floor = iou_kind || kind == FOCAL_BOX_GIOU;
        prm->clamp_iou = iou_kind;
        /* iou_loss calls bbox_overlaps with that function's default eps and
         * clamps the IoU with its own */
        if (iou_kind)
            prm->union_eps = 1e-6f;
        prm->enclose_floor = 1;
        prm->clamp_enclose = 1;
        prm->re = eps;
        prm->gate_alpha = 1;
        prm->clamp_ciou = 1;
        break;
    }
}

FOCAL_API int focal_box_iou_loss(const float *pred, const float *target, size_t boxes,
                                 int loss_kind, int convention, float eps,
                                 const focal_options *opt, float *loss, float *grad)
{
    focal_options defaults;
    int rc = box_check(pred, target, boxes, 4, &opt, &defaults, loss, grad);
    if (rc != FOCAL_OK)
        return rc;
    if (loss_kind < FOCAL_BOX_IOU || loss_kind > FOCAL_BOX_CIOU ||
        convention < FOCAL_BOXES_TORCHVISION || convention > FOCAL_BOXES_MMDET)
        return FOCAL_EBOXLOSS;
    if (!finite_nonnegative(eps))
        return FOCAL_EEPS;

    focal_box_params prm = { 0 };
    box_convention(&prm, loss_kind, convention, eps);
    box_job job = { .p = pred, .t = target, .grad = grad, .units = 4,
                    .fn = focal_active_kernel()->box_iou };
    return box_run(&job, &prm, boxes, opt, loss);
}

FOCAL_API int focal_smooth_l1(const float *pred, const float *target, size_t n, float beta,
                              const focal_options *opt, float *loss, float *grad)
{
    focal_options defaults;
    int rc = box_check(pred, target, n, 1, &opt, &defaults, loss, grad);
    if (rc != FOCAL_OK)
        return rc;
    if (!finite_nonnegative(beta))
        return FOCAL_EBETA;

    focal_box_params prm = { 0 };
    prm.beta = beta;
    box_job job = { .p = pred, .t = target, .grad = grad, .units = 1,
                    .fn = focal_active_kernel()->smooth_l1 };
    return box_run(&job, &prm, n, opt, loss);
}
