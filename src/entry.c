/* SPDX-License-Identifier: MIT */
/*
 * Shared by every entry point, whatever the loss (entry.h): argument checks,
 * the gamma kind and the reduced loss.
 */
#include <math.h>
#include <stdint.h>

#include "entry.h"
#include "focal/focal.h"
#include "focal_internal.h"

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

void focal_write_reduced(float *loss, int reduction, double total, double divisor)
{
    /* NaN sums: the canonical NaN, whatever order the lanes met them in. */
    if (isnan(total))
        total = NAN;
    if (loss != NULL && reduction != FOCAL_REDUCTION_NONE)
        *loss = divisor > 0.0 ? (float)(total / divisor) : NAN; /* torch: mean of nothing */
}

