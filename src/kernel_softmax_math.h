/* SPDX-License-Identifier: MIT */
/*
 * The softmax focal loss with one class index per row, on one vector of a
 * row's classes (docs/DESIGN.md §2.3). No loops: the row driver of
 * kernel_driver.h walks the rows and their classes and calls these. Per row
 * (classes C, label l, smoothed one-hot y', a_c the class weight), with
 * z_c = x_c - max, S = sum_c exp(z_c):
 *
 *   p_c    = exp(z_c) / S
 *   q_c    = 1 - p_c: (S - 1) / S for a class at the maximum (from the shared
 *            row scalars, never 1 - p), else 1 - p_c (p_c <= 1/2 there)
 *   -log p_c = log S - z_c, log S = log1p(S - 1)
 *   loss   = sum_c y'_c a_c q_c^g (-log p_c)
 *   u_c    = -y'_c a_c q_c^g (1 + g p_c (-log p_c) / q_c)   (= p_c dloss/dp_c)
 *   dL/dx_j = u_j - p_j sum_c u_c = u_j q_j - p_j (U - u_j),  U = sum_c u_c
 *
 * The last form has no cancellation for one-hot targets (U - u_j is then
 * exactly 0 or U), and -log p / q -> 1 as q -> 0 keeps the gradient finite
 * for every gamma >= 0. Limits: equal logits share the probability, +inf
 * ones included (the limit of equal large logits); -inf logits have p = 0; a
 * NaN logit makes its whole row NaN (the driver's business).
 */
#ifndef FOCAL_KERNEL_SOFTMAX_MATH_H
#define FOCAL_KERNEL_SOFTMAX_MATH_H

#include "kernel_common.h"

/* z = x - max, exactly 0 for every logit equal to the maximum (infinite too). */
FOCAL_INLINE vf softmax_z(vf x, vf m)
{
    return v_select(v_eq(x, m), v_set(0.0f), v_sub(x, m));
}

/* q = 1 - p of the classes with e = exp(z), p = e / S: (S - 1) / S (q_max)
 * where e = 1, the classes at the maximum. */
FOCAL_INLINE vf softmax_q(vf e, vf p, vf q_max)
{
    return v_select(v_eq(e, v_set(1.0f)), q_max, v_sub(v_set(1.0f), p));
}

/* log q as hi + lo, for q^g: exact from the row scalars at the classes at
 * the maximum (e = 1), SLEEF's log elsewhere (lo = 0). */
FOCAL_INLINE vf softmax_log_q(vf e, vf q, vf log_q_max, vf log_q_max_lo, vf *lo)
{
    const vm top = v_eq(e, v_set(1.0f));
    const vf lq = v_select(top, log_q_max, v_log(q));
    *lo = v_select(top, log_q_max_lo, v_set(0.0f));
    return lq;
}

/*
 * y' a of the vector whose first class is `first`: y_hit in the label's
 * lane (label_off = label - first, found by its offset in this vector:
 * exact for any number of classes), with `next` y_next in the lane after it
 * (DFL's two bins), else y_miss; times the class weights a.
 * A weight of -0 (alpha or class_alpha) must act as +0: the driver skips
 * one-hot vectors without the label and writes u = -0 there, and which
 * classes are skipped depends on the vector width, so y' a = -0 would make
 * u's sign differ between kernels.
 */
FOCAL_INLINE vf softmax_target_weight(int64_t label_off, vf y_hit, vf y_next, vf y_miss, vf a,
                                      const int next)
{
    const vf zero = v_set(0.0f);
    vf ya = y_miss;
    if (label_off >= 0 && label_off < FOCAL_W)
        ya = v_select(focal_lane_mask((int)label_off), y_hit, y_miss);
    if (next && label_off + 1 >= 0 && label_off + 1 < FOCAL_W)
        ya = v_select(focal_lane_mask((int)label_off + 1), y_next, ya);
    ya = v_mul(ya, a);
    return v_select(v_eq(ya, zero), zero, ya);
}

/* The loss term y' a q^g (-log p) and, into *u (want_grad), u. Classes with
 * y' a = 0 contribute nothing, even where -log p = inf. */
FOCAL_INLINE vf softmax_term(vf ya, vf qg, vf p, vf q, vf nlogp, vf gamma,
                             const int gamma_kind, const int want_grad, vf *u)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f);
    const vf yq = v_mul(ya, qg);
    const vf term = v_select(v_eq(ya, zero), zero, v_mul(yq, nlogp));
    if (want_grad) {
        *u = v_neg(yq);
        if (gamma_kind != FOCAL_GAMMA_0) {
            /* p (-log p) / q: 0 where p = 0 (x = -inf), 1 where q = 0 */
            vf ratio = v_div(v_mul(p, nlogp), q);
            ratio = v_select(v_eq(p, zero), zero, ratio);
            ratio = v_select(v_eq(q, zero), one, ratio);
            *u = v_neg(v_mul(yq, v_fma(gamma, ratio, one)));
        }
    }
    return term;
}

/* dL/dx = (u q - p (U - u)) scale. */
FOCAL_INLINE vf softmax_grad(vf u, vf p, vf q, vf big_u, vf scale)
{
    return v_mul(v_sub(v_mul(u, q), v_mul(p, v_sub(big_u, u))), scale);
}

#endif /* FOCAL_KERNEL_SOFTMAX_MATH_H */
