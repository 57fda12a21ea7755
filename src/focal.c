/*
 * Public entry points: argument checks, the block loop and the reduction.
 * The arithmetic lives in the kernels; this file decides nothing numerical
 * except the order in which block sums are added (in order, in double).
 */
#include <math.h>
#include <stdint.h>

#include "focal/focal.h"
#include "focal_internal.h"

#define FOCAL_STR_(x) #x
#define FOCAL_STR(x) FOCAL_STR_(x)

FOCAL_API uint32_t focal_version(void)
{
    return FOCAL_VERSION_NUMBER;
}

FOCAL_API const char *focal_version_string(void)
{
    return FOCAL_STR(FOCAL_VERSION_MAJOR) "." FOCAL_STR(FOCAL_VERSION_MINOR) "." FOCAL_STR(FOCAL_VERSION_PATCH);
}

FOCAL_API const char *focal_strerror(int code)
{
    switch (code) {
    case FOCAL_OK: return "success";
    case FOCAL_ENULL: return "logits or targets is NULL while n > 0";
    case FOCAL_ENOOUTPUT: return "loss and grad are both NULL: nothing to compute";
    case FOCAL_EALPHA: return "alpha must be <= 1 (or < 0 to disable balancing), not NaN";
    case FOCAL_EGAMMA: return "gamma must be finite and >= 0";
    case FOCAL_EREDUCTION: return "reduction must be FOCAL_REDUCTION_NONE, _SUM or _MEAN";
    case FOCAL_EOVERLAP: return "an output buffer overlaps an input or the other output (only grad == logits is allowed)";
    case FOCAL_ETARGET: return "a target is NaN or outside [0, 1]";
    case FOCAL_ESIZE: return "n is too large: n * sizeof(float) overflows size_t";
    case FOCAL_EISA_UNKNOWN: return "unknown kernel name (expected scalar, avx2, avx512, neon, sve or auto)";
    case FOCAL_EISA_UNSUPPORTED: return "that kernel is not supported by this CPU or not built into this library";
    default: return "unknown error code";
    }
}

/* Do [a, a + an) and [b, b + bn) (in bytes) share a byte? */
static int overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    if (a == NULL || b == NULL || an == 0 || bn == 0)
        return 0;
    const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + bn && b0 < a0 + an;
}

static int gamma_kind(float gamma)
{
    if (gamma == 0.0f) return FOCAL_GAMMA_0;
    if (gamma == 1.0f) return FOCAL_GAMMA_1;
    if (gamma == 2.0f) return FOCAL_GAMMA_2;
    if (gamma == 3.0f) return FOCAL_GAMMA_3;
    return FOCAL_GAMMA_ANY;
}

FOCAL_API int focal_sigmoid_loss_grad(const float *logits, const float *targets, size_t n,
                                      float alpha, float gamma, int reduction,
                                      float *loss, float *grad)
{
    if (n > 0 && (logits == NULL || targets == NULL))
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
    const size_t loss_bytes = reduction == FOCAL_REDUCTION_NONE ? bytes : sizeof(float);
    if ((grad != logits && overlaps(grad, bytes, logits, bytes)) ||
        overlaps(grad, bytes, targets, bytes) ||
        overlaps(loss, loss_bytes, logits, bytes) ||
        overlaps(loss, loss_bytes, targets, bytes) ||
        overlaps(loss, loss_bytes, grad, bytes))
        return FOCAL_EOVERLAP;

    focal_sigmoid_params prm;
    if (alpha < 0.0f) {
        /* fma(1, t, 1 * (1 - t)) is exactly 1 for every t in [0, 1]. */
        prm.alpha_pos = 1.0f;
        prm.alpha_neg = 1.0f;
    } else {
        prm.alpha_pos = alpha;
        prm.alpha_neg = 1.0f - alpha;
    }
    prm.gamma = gamma;
    prm.gamma_kind = gamma_kind(gamma);
    prm.grad_scale = reduction == FOCAL_REDUCTION_MEAN && n > 0 ? (float)(1.0 / (double)n) : 1.0f;

    const focal_kernel *k = focal_active_kernel();
    float *loss_each = reduction == FOCAL_REDUCTION_NONE ? loss : NULL;
    double total = 0.0;
    for (size_t i = 0; i < n; i += FOCAL_BLOCK) {
        const size_t m = n - i < FOCAL_BLOCK ? n - i : FOCAL_BLOCK;
        double block_sum;
        if (k->sigmoid(logits + i, targets + i, m, &prm, loss_each ? loss_each + i : NULL,
                       grad ? grad + i : NULL, &block_sum))
            return FOCAL_ETARGET;
        total += block_sum;
    }

    if (loss != NULL && reduction == FOCAL_REDUCTION_SUM)
        *loss = (float)total;
    else if (loss != NULL && reduction == FOCAL_REDUCTION_MEAN)
        *loss = n > 0 ? (float)(total / (double)n) : NAN;
    return FOCAL_OK;
}
