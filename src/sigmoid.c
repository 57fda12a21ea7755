/* SPDX-License-Identifier: MIT */
/*
 * The sigmoid driver shared by the 1.0 and 1.1 entry points: argument
 * checks, per-call constants, and the block job that feeds the kernels
 * through the thread pool before the reduced loss is written.
 */
#include <math.h>
#include <stdint.h>

#include "focal/focal.h"
#include "focal_internal.h"
#include "parallel.h"
#include "sigmoid.h"

/* Do [a, a + an) and [b, b + bn) (in bytes) share a byte? */
int focal_overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    if (a == NULL || b == NULL || an == 0 || bn == 0)
        return 0;
    const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + bn && b0 < a0 + an;
}

int focal_gamma_kind(float gamma)
{
    if (gamma == 0.0f) return FOCAL_GAMMA_0;
    if (gamma == 1.0f) return FOCAL_GAMMA_1;
    if (gamma == 2.0f) return FOCAL_GAMMA_2;
    if (gamma == 3.0f) return FOCAL_GAMMA_3;
    return FOCAL_GAMMA_ANY;
}

typedef struct {
    const float *x, *t;
    float *loss_each, *grad; /* NULL when not wanted */
    const focal_sigmoid_params *prm;
    const focal_kernel *kernel; /* read once per call: focal_set_isa may run meanwhile */
} sigmoid_job;

static int sigmoid_block(void *ctx, size_t begin, size_t count, double *sum)
{
    const sigmoid_job *j = ctx;
    return j->kernel->sigmoid(j->x + begin, j->t ? j->t + begin : NULL, begin, count, j->prm,
                              j->loss_each ? j->loss_each + begin : NULL,
                              j->grad ? j->grad + begin : NULL, sum);
}

/* Argument checks shared by every sigmoid entry point, in the order of the
 * 1.0 documentation. t is the target array: floats, or 1.1's int32 labels. */
int focal_check_sigmoid_args(const float *x, const void *t, size_t n, float alpha, float gamma,
                             int reduction, const float *loss, const float *grad, size_t t_bytes)
{
    return focal_check_args(x, t, n, alpha, gamma, reduction, loss, n, grad, t_bytes);
}

int focal_check_args(const float *x, const void *t, size_t n, float alpha, float gamma,
                     int reduction, const float *loss, size_t loss_none_n, const float *grad,
                     size_t t_bytes)
{
    if (n > 0 && (x == NULL || t == NULL))
        return FOCAL_ENULL;
    if (n > SIZE_MAX / sizeof(float))
        return FOCAL_ESIZE;
    if (loss == NULL && grad == NULL)
        return FOCAL_ENOOUTPUT;
    if (isnan(alpha) || alpha > 1.0f)
        return FOCAL_EALPHA;
    if (!isfinite(gamma) || gamma < 0.0f)
        return FOCAL_EGAMMA;
    if (reduction != FOCAL_REDUCTION_NONE && reduction != FOCAL_REDUCTION_SUM &&
        reduction != FOCAL_REDUCTION_MEAN)
        return FOCAL_EREDUCTION;

    const size_t bytes = n * sizeof(float);
    const size_t loss_bytes = reduction == FOCAL_REDUCTION_NONE ? loss_none_n * sizeof(float)
                                                                : sizeof(float);
    if ((grad != x && focal_overlaps(grad, bytes, x, bytes)) ||
        focal_overlaps(grad, bytes, t, t_bytes) ||
        focal_overlaps(loss, loss_bytes, x, bytes) ||
        focal_overlaps(loss, loss_bytes, t, t_bytes) ||
        focal_overlaps(loss, loss_bytes, grad, bytes))
        return FOCAL_EOVERLAP;
    return FOCAL_OK;
}

void focal_set_alpha(focal_sigmoid_params *prm, float alpha)
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
int focal_run_sigmoid(const float *x, const float *t, size_t n, const focal_sigmoid_params *prm,
                       int reduction, double divisor, float *loss, float *grad)
{
    sigmoid_job job = { x, t, reduction == FOCAL_REDUCTION_NONE ? loss : NULL, grad,
                        prm, focal_active_kernel() };
    double total;
    if (focal_run_blocks(n, sigmoid_block, &job, &total))
        return FOCAL_ETARGET;
    focal_write_reduced(loss, reduction, total, divisor);
    return FOCAL_OK;
}

void focal_write_reduced(float *loss, int reduction, double total, double divisor)
{
    /* NaN sums: the canonical NaN, whatever order the lanes met them in. */
    if (isnan(total))
        total = NAN;
    if (loss != NULL && reduction != FOCAL_REDUCTION_NONE)
        *loss = divisor > 0.0 ? (float)(total / divisor) : NAN; /* torch: mean of nothing */
}

