/*
 * libfocal: the sigmoid focal loss and its gradient in one fused pass.
 *
 *     p    = sigmoid(x)
 *     ce   = -t log p - (1 - t) log(1 - p)
 *     p_t  = p t + (1 - p)(1 - t)
 *     a_t  = alpha t + (1 - alpha)(1 - t)      (a_t = 1 when alpha < 0)
 *     loss = a_t (1 - p_t)^gamma ce
 *
 * Semantics are those of torchvision.ops.sigmoid_focal_loss (Lin et al. 2017);
 * the gradient is the exact derivative of the (reduced) loss with respect to
 * the logits, finite for every gamma >= 0.
 *
 * Every symbol declared here is exported in ELF version node FOCAL_1.0 of
 * libfocal.so.1. Signatures and meanings of 1.0 entry points never change.
 */
#ifndef FOCAL_FOCAL_H
#define FOCAL_FOCAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FOCAL_API marks the exported entry points. The library is built with
 * -fvisibility=hidden, so anything without it stays private. */
#ifndef FOCAL_API
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define FOCAL_API __attribute__((visibility("default")))
#  else
#    define FOCAL_API
#  endif
#endif

#define FOCAL_VERSION_MAJOR 1
#define FOCAL_VERSION_MINOR 0
#define FOCAL_VERSION_PATCH 0
#define FOCAL_VERSION_NUMBER \
    ((FOCAL_VERSION_MAJOR << 16) | (FOCAL_VERSION_MINOR << 8) | FOCAL_VERSION_PATCH)

/* Reductions. The gradient written is d(reduced loss) / d logit_i. */
#define FOCAL_REDUCTION_NONE 0 /* loss: n floats, one per element           */
#define FOCAL_REDUCTION_SUM  1 /* loss: one float, the sum                   */
#define FOCAL_REDUCTION_MEAN 2 /* loss: one float, sum / n (NaN when n == 0) */

/* Return codes: 0 on success, a negative FOCAL_E* code otherwise.
 * focal_strerror() turns any of them into a short English message. */
#define FOCAL_OK               0
#define FOCAL_ENULL          (-1) /* logits or targets NULL while n > 0          */
#define FOCAL_ENOOUTPUT      (-2) /* loss and grad both NULL                      */
#define FOCAL_EALPHA         (-3) /* alpha is NaN or > 1                          */
#define FOCAL_EGAMMA         (-4) /* gamma < 0, NaN or infinite                   */
#define FOCAL_EREDUCTION     (-5) /* reduction is not NONE, SUM or MEAN           */
#define FOCAL_EOVERLAP       (-6) /* an output overlaps an input or the other output
                                     (grad == logits exactly is allowed)         */
#define FOCAL_ETARGET        (-7) /* a target is NaN or outside [0, 1]            */
#define FOCAL_ESIZE          (-8) /* n * sizeof(float) does not fit in size_t     */
#define FOCAL_EISA_UNKNOWN   (-9) /* focal_set_isa: not a kernel name             */
#define FOCAL_EISA_UNSUPPORTED (-10) /* focal_set_isa: kernel not usable on this CPU
                                        or not built into this library           */

/*
 * focal_sigmoid_loss_grad - focal loss and its gradient in one pass.
 *
 * logits    n floats (raw scores, before the sigmoid). Read only, unless
 *           grad == logits.
 * targets   n floats in [0, 1]: hard (0 or 1) or soft labels. Read only.
 * n         number of elements; 0 is allowed.
 * alpha     class balance weight in [0, 1]; any alpha < 0 disables balancing
 *           (a_t = 1). NaN or > 1 is FOCAL_EALPHA.
 * gamma     focusing exponent, finite and >= 0 (0 gives alpha-weighted BCE).
 * reduction FOCAL_REDUCTION_NONE, _SUM or _MEAN.
 * loss      output, or NULL when the loss is not wanted: n floats for NONE,
 *           one float for SUM and MEAN. n == 0 gives 0 for SUM, NaN for MEAN.
 * grad      output, or NULL (forward only): n floats, d(reduced loss)/d logits.
 *           May be exactly `logits` (gradient written in place).
 *
 * All buffers are owned by the caller; the library keeps no pointer after the
 * call returns and writes nothing outside `loss` and `grad`. Any alignment is
 * accepted. Outputs may not overlap the inputs or each other, except
 * grad == logits.
 *
 * Returns FOCAL_OK, or a negative FOCAL_E* code. Targets are validated in the
 * same pass that computes the loss, so after FOCAL_ETARGET the outputs hold
 * unspecified values (but nothing outside them was touched). Argument errors
 * other than FOCAL_ETARGET are detected before anything is written.
 *
 * Non-finite logits are not errors. They affect only their own element:
 * a NaN logit gives NaN loss and gradient; an infinite logit gives an infinite
 * loss when it is confidently wrong and NaN otherwise (0 * inf in the
 * cross-entropy, as torch's binary_cross_entropy_with_logits). Reduced losses
 * over such elements are NaN or inf.
 *
 * Accuracy: every element within 1e-5 relative of a float64 evaluation for
 * hard targets (3e-5 relative + 1e-6 absolute for soft targets); reduced loss
 * within 1e-6 relative. Every kernel returns bitwise identical results for
 * the same inputs, whatever the alignment, n or CPU.
 *
 * Thread safety: reentrant; concurrent calls on shared inputs are safe.
 */
FOCAL_API int focal_sigmoid_loss_grad(const float *logits, const float *targets, size_t n,
                                      float alpha, float gamma, int reduction,
                                      float *loss, float *grad);

/* The library's version: major << 16 | minor << 8 | patch. Compare with
 * FOCAL_VERSION_NUMBER to detect a header/library mismatch. */
FOCAL_API uint32_t focal_version(void);

/* The library's version as "major.minor.patch". Static storage; do not free. */
FOCAL_API const char *focal_version_string(void);

/* The active kernel: "scalar", "avx2", "avx512", "neon" or "sve".
 * Static storage; do not free. */
FOCAL_API const char *focal_isa(void);

/*
 * Select the kernel used by subsequent calls: one of the names focal_isa()
 * reports, or "auto" for the best one this CPU supports.
 * Returns FOCAL_OK, FOCAL_EISA_UNKNOWN for an unknown name (or NULL), or
 * FOCAL_EISA_UNSUPPORTED when the CPU (or this build) lacks that kernel; on
 * error the active kernel is unchanged.
 *
 * The switch is an atomic pointer store: a call already running finishes with
 * the kernel it started with, and later calls use the new one. Since every
 * kernel returns the same bits, switching never changes results, only speed.
 *
 * At load time the environment variable FOCAL_ISA (same names) is read once;
 * a name this CPU cannot run is ignored and the automatic choice kept.
 */
FOCAL_API int focal_set_isa(const char *name);

/* A short English description of a FOCAL_* return code ("unknown error code"
 * for anything else). Static storage; never NULL. */
FOCAL_API const char *focal_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_FOCAL_H */
