/* SPDX-License-Identifier: MIT */
/*
 * Private interface between the public entry points, the drivers they share
 * (entry.c, parallel.c), the dispatcher (dispatch.c) and the per-ISA kernels
 * (kernel_driver.h, kernel_table.h). Nothing here is exported.
 * docs/DESIGN.md §5 follows a call through these pieces.
 */
#ifndef FOCAL_INTERNAL_H
#define FOCAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "loss_list.h"

/*
 * Determinism rests on two fixed sizes that no kernel may change
 * (docs/DESIGN.md §4.3):
 *
 * FOCAL_LANES: every kernel accumulates the loss into 16 logical lanes
 * (element i of a block goes to lane i % 16), whatever its vector width, and
 * folds them with focal_lane_tree(). A 16-wide AVX-512 kernel holds one
 * vector of lanes, AVX2 two, NEON four, the scalar kernel sixteen scalars:
 * the additions are the same, so the sums are the same bits.
 *
 * FOCAL_BLOCK: the public entry points cut the input into blocks of this many
 * elements (the softmax loss: as many whole rows as fit) and add the block
 * sums in order (focal_run_blocks). Results therefore never depend on how
 * blocks are scheduled, which is what lets the thread pool (parallel.c)
 * reproduce single-threaded bits (docs/DESIGN.md §4.2, §4.3). Changing
 * either constant changes
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

/* Per-call constants of the sigmoid focal loss, prepared once by its entry
 * points (focal_sigmoid_loss_grad, focal_sigmoid_labels / _dense). */
typedef struct focal_sigmoid_params {
    float alpha_pos;  /* a_t = alpha_pos * t + alpha_neg * (1 - t)             */
    float alpha_neg;  /* (both 1 when balancing is off: a_t is then exactly 1) */
    float gamma;
    float grad_scale; /* 1 / divisor of the reduction (1 for NONE)             */
    int gamma_kind;   /* enum focal_gamma_kind */

    /* 1.1 row-structured inputs. With row_inputs == 0 none of them is read
     * and the kernel runs the 1.0 (flat) path. Elements are rows x classes,
     * row-major; the kernel is told the flat index of its first element. */
    int row_inputs;
    size_t classes;
    const int32_t *labels;     /* [rows] class index, or NULL: targets array */
    const float *class_alpha;  /* [classes], or NULL: alpha_pos / alpha_neg */
    const float *weight;       /* [rows], or NULL                            */
    const float *pos_weight;   /* [classes] BCE positive weight, or NULL (1) */
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

/* Per-call constants of the losses over scores: quality focal
 * (|s - p|^gamma BCE(x, s)) and varifocal (s BCE(x, s) where s > 0,
 * alpha p^gamma BCE(x, 0) where s = 0). */
typedef struct focal_score_params {
    float alpha_pos;       /* quality with alpha_t: a_t = alpha_pos s + alpha_neg (1 - s) */
    float alpha_neg;
    int alpha_t;           /* quality: multiply by a_t (Ultralytics' QFocalLoss)    */
    float varifocal_alpha; /* varifocal: its negatives' weight (1 when alpha < 0)   */
    float gamma;
    int gamma_kind;        /* enum focal_gamma_kind */
    float grad_scale;      /* 1 / divisor of the reduction (1 for NONE)             */
} focal_score_params;

/*
 * One block (n <= FOCAL_BLOCK) of the quality focal or the varifocal loss.
 * s: n scores in [0, 1]; w: n element weights or NULL; pw: n BCE positive
 * weights (quality only) or NULL. loss, grad, sum as
 * for focal_sigmoid_fn. Returns nonzero when a score is NaN or outside [0, 1].
 */
typedef int (*focal_score_fn)(const float *x, const float *s, const float *w,
                              const float *pw, size_t n,
                              const focal_score_params *params,
                              float *loss, float *grad, double *sum);

/* Per-call constants of the losses over softmax rows: the softmax focal
 * loss, and the Distribution Focal Loss (alpha 1, gamma 0, no smoothing). */
typedef struct focal_rows_params {
    size_t classes;           /* classes (softmax), bins (DFL)                  */
    float alpha;              /* a_c when class_alpha is NULL (1: no balancing) */
    const float *class_alpha; /* [classes], or NULL                            */
    float gamma;
    int gamma_kind;           /* enum focal_gamma_kind */
    float smooth_keep;        /* y' = fma(y, smooth_keep, smooth_add)          */
    float smooth_add;         /* label_smoothing / classes                      */
    float grad_scale;         /* 1 / divisor of the reduction (1 for NONE)      */
} focal_rows_params;

/*
 * `rows` whole rows of the softmax focal loss: x is rows x classes, labels
 * and w (row weights, or NULL) hold `rows` entries. loss: one loss per row,
 * or NULL. grad: rows x classes, or NULL; may equal x. *sum receives the sum
 * of the row losses, added in row order. Labels are valid (checked before).
 */
typedef int (*focal_softmax_fn)(const float *x, const int32_t *labels, const float *w,
                                size_t rows, const focal_rows_params *params,
                                float *loss, float *grad, double *sum);

/*
 * The same for the Distribution Focal Loss: t holds one target per row, in
 * [0, classes - 1) (checked before); the row's target weights are derived
 * from it (docs/DESIGN.md §2.7).
 */
typedef int (*focal_dfl_fn)(const float *x, const float *t, const float *w, size_t rows,
                            const focal_rows_params *params, float *loss, float *grad,
                            double *sum);

/* Per-call constants of the box regression losses (docs/DESIGN.md §2.8):
 * the IoU family's convention as parameters, and smooth L1's beta. */
typedef struct focal_box_params {
    int kind;           /* FOCAL_BOX_* (the IoU family)                        */
    float eps;
    float union_eps;    /* eps of the IoU's denominator and of DIoU's c2        */
    float he;           /* eps in both heights (areas and CIoU's ratio), or 0  */
    float re;           /* eps in CIoU's ratio's heights only, or 0            */
    float ae;           /* eps in CIoU's alpha: v / (v - iou + (1 + ae))       */
    int union_floor;    /* IoU denominator max(U, eps), else U + eps           */
    int clamp_iou;      /* IoU kinds: IoU clamped below at eps                 */
    int enclose_floor;  /* GIoU's enclosure max(C, eps), else C + eps          */
    int clamp_enclose;  /* enclosure extents clamped at 0                      */
    int gate_alpha;     /* CIoU's alpha only where iou > 0.5                   */
    int clamp_ciou;     /* CIoU's loss clamped to [0, 2]                       */
    float beta;         /* smooth L1 (0: L1)                                   */
    float grad_scale;   /* 1 / divisor of the reduction (1 for NONE)           */
} focal_box_params;

/*
 * One block of the IoU family: n boxes (p, t: n x 4, x1 y1 x2 y2), w one
 * weight per box or NULL; loss n per-box losses or NULL; grad n x 4 or
 * NULL (may equal p). *sum: the losses' sum, box i in lane i % 16.
 */
typedef int (*focal_box_fn)(const float *p, const float *t, const float *w, size_t n,
                            const focal_box_params *params, float *loss, float *grad,
                            double *sum);

/* The same over n elements of an element-wise loss of (prediction, target)
 * pairs (smooth L1): w, loss and grad one per element. */
typedef focal_box_fn focal_pair_fn;

/*
 * What every softmax kernel derives from a row's sum S = sum_c exp(x_c - max),
 * given as `tops` (the classes whose exp is exactly 1, >= 1) plus `others`
 * (the sum of the rest). Computed once per row by one shared function in
 * double, so every kernel gets the same bits:
 *   log_s      log S, via log1p(S - 1): accurate when S is close to 1, which
 *              is when -log p of the top class is tiny
 *   inv_s      1 / S
 *   q_max      1 - p of a class at the maximum, as (S - 1) / S (never 1 - p)
 *   log_q_max  log q_max as hi + lo (-inf, 0 when S == 1; 0, 0 unless
 *              want_log_q: only gammas outside {0, 1, 2, 3} need it)
 */
typedef struct {
    float log_s, inv_s, q_max, log_q_max, log_q_max_lo;
} focal_softmax_row;

void focal_softmax_row_stats(double tops, double others, int want_log_q, focal_softmax_row *out);

/* (float)Sleef_log1pd1_u10purec(rest), the same bits, mostly from libm
 * (softmax_row.c). */
float focal_softmax_log1p_float(double rest);

/* One per ISA, libsodium style: a const table of entry points, one per loss
 * (emitted by kernel_table.h), its fields generated from the one list of
 * losses (loss_list.h). The ISAs are listed once, in isa_list.h;
 * dispatch.c names the tables from there. */
#define FOCAL_KERNEL_FIELD(name, NAME, shape) focal_##shape##_fn name;
typedef struct focal_kernel {
    const char *name;
    FOCAL_LOSS_LIST(FOCAL_KERNEL_FIELD)
} focal_kernel;
#undef FOCAL_KERNEL_FIELD

extern const focal_kernel focal_kernel_scalar;
#if defined(__x86_64__)
extern const focal_kernel focal_kernel_scalar_nofma;
extern const focal_kernel focal_kernel_avx2;
extern const focal_kernel focal_kernel_avx512;
#elif defined(__aarch64__)
extern const focal_kernel focal_kernel_neon;
extern const focal_kernel focal_kernel_sve;
/* svcntw(): lanes per SVE vector. Call only where HWCAP_SVE is set. */
size_t focal_sve_lanes(void);
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
