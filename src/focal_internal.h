/*
 * Private interface between the public entry points (focal.c), the
 * dispatcher (dispatch.c) and the per-ISA kernels. Nothing here is exported.
 */
#ifndef FOCAL_INTERNAL_H
#define FOCAL_INTERNAL_H

#include <stddef.h>

/*
 * Determinism rests on two fixed sizes that no kernel may change:
 *
 * FOCAL_LANES: every kernel accumulates the loss into 16 logical lanes
 * (element i of a block goes to lane i % 16), whatever its vector width, and
 * folds them with focal_lane_tree(). A 16-wide AVX-512 kernel holds one
 * vector of lanes, AVX2 two, NEON four, the scalar kernel sixteen scalars:
 * the additions are the same, so the sums are the same bits.
 *
 * FOCAL_BLOCK: the public entry points cut the input into blocks of this many
 * elements and add the block sums in order. Results therefore never depend
 * on how blocks are scheduled, which is what lets a later multi-threaded
 * driver reproduce single-threaded bits. Changing either constant changes
 * reduced losses in the last bits: treat them as part of the ABI contract.
 */
#define FOCAL_LANES 16
#define FOCAL_BLOCK 16384

/* Which power routine a call uses; small integer gammas are multiplications. */
enum focal_gamma_kind {
    FOCAL_GAMMA_0,
    FOCAL_GAMMA_1,
    FOCAL_GAMMA_2,
    FOCAL_GAMMA_3,
    FOCAL_GAMMA_ANY
};

/* Per-call constants, prepared once by focal.c. */
typedef struct focal_sigmoid_params {
    float alpha_pos;  /* a_t = alpha_pos * t + alpha_neg * (1 - t)             */
    float alpha_neg;  /* (both 1 when balancing is off: a_t is then exactly 1) */
    float gamma;
    float grad_scale; /* 1 / divisor of the reduction (1 for NONE)             */
    int gamma_kind;   /* enum focal_gamma_kind */

    /* 1.1 row-structured inputs. With per_element == 0 none of them is read
     * and the kernel runs the 1.0 path. Elements are rows x classes,
     * row-major; the kernel is told the flat index of its first element. */
    int per_element;
    size_t classes;
    const int32_t *labels;     /* [rows] class index, or NULL: targets array */
    const float *class_alpha;  /* [classes], or NULL: alpha_pos / alpha_neg */
    const float *weight;       /* [rows], or NULL                            */
    float smooth_keep;         /* t' = fma(t, smooth_keep, smooth_add)       */
    float smooth_add;
    int smoothing;
} focal_sigmoid_params;

/*
 * One block (n <= FOCAL_BLOCK, any alignment) of the sigmoid focal loss.
 * x, t, loss, grad point at element `first` of the whole input (first is
 * only used for row-structured inputs; t is unused with labels).
 * loss: n per-element losses, or NULL. grad: n gradients, or NULL; may equal x.
 * *sum receives the block's loss sum (lanes folded by focal_lane_tree).
 * Returns nonzero when a target is NaN or outside [0, 1].
 */
typedef int (*focal_sigmoid_fn)(const float *x, const float *t, size_t first, size_t n,
                                const focal_sigmoid_params *params,
                                float *loss, float *grad, double *sum);

/* One per ISA, libsodium style: a const table of entry points. */
typedef struct focal_kernel {
    const char *name;
    focal_sigmoid_fn sigmoid;
} focal_kernel;

extern const focal_kernel focal_kernel_scalar;
#if defined(__x86_64__)
extern const focal_kernel focal_kernel_scalar_nofma;
extern const focal_kernel focal_kernel_avx2;
extern const focal_kernel focal_kernel_avx512;
#elif defined(__aarch64__)
extern const focal_kernel focal_kernel_neon;
#endif

/* The kernel chosen at load time or by focal_set_isa(). Never NULL. */
const focal_kernel *focal_active_kernel(void);

/* Fixed pairwise tree over the 16 lane sums: (0+8)(1+9)... then 4, 2, 1. */
static inline double focal_lane_tree(const double lanes[FOCAL_LANES])
{
    double s[FOCAL_LANES / 2];
    for (int i = 0; i < 8; i++) s[i] = lanes[i] + lanes[i + 8];
    for (int i = 0; i < 4; i++) s[i] = s[i] + s[i + 4];
    for (int i = 0; i < 2; i++) s[i] = s[i] + s[i + 2];
    return s[0] + s[1];
}

#endif /* FOCAL_INTERNAL_H */
