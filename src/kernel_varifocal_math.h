/* SPDX-License-Identifier: MIT */
/*
 * The varifocal loss (Zhang et al. 2021, VFNet; mmdet varifocal_loss with
 * iou_weighted) on one vector, over soft scores s in [0, 1], built from the
 * sigmoid basics of kernel_sigmoid_math.h (docs/DESIGN.md §2.5). No loops:
 * kernel_driver.h calls these once per vector. With p = sigmoid(x),
 * pc = 1 - p, ce = BCE(x, s):
 *
 *   s > 0: loss = s ce,               dL/dx = s (p - s)
 *   s = 0: loss = a p^g softplus(x),  dL/dx = a p^g (g pc softplus(x) + p)
 *
 * The weight a p^g is not detached: the gradient is the full derivative.
 */
#ifndef FOCAL_KERNEL_VARIFOCAL_MATH_H
#define FOCAL_KERNEL_VARIFOCAL_MATH_H

#include "kernel_common.h"
#include "kernel_sigmoid_math.h"

/* The base of the modulating factor, p. Its log, -softplus(-x), is exact in
 * every lane: sigmoid_hard_log_q with no lane at t = 1. */
FOCAL_INLINE vf varifocal_pow_base(vf p)
{
    return p;
}

/* The loss and, into *grad (want_grad), its derivative before weights and
 * the reduction's scale. pg: p^gamma; alpha: a; l: log1p(exp(-|x|));
 * pmt: p - s (sigmoid_p_minus_t). */
FOCAL_INLINE vf varifocal(vf x, vf s, vf l, vf p, vf pc, vf ce, vf pmt, vf pg, vf alpha,
                          vf gamma, const int gamma_kind, const int want_grad, vf *grad)
{
    const vf zero = v_set(0.0f);
    const vm neg = v_eq(s, zero);
    const vf apg = v_mul(alpha, pg);
    const vf spx = v_add(v_max(x, zero), l); /* softplus(x) */
    const vf loss = v_select(neg, v_mul(apg, spx), v_mul(s, ce));
    if (want_grad) {
        vf gneg = v_mul(apg, p);
        if (gamma_kind != FOCAL_GAMMA_0) {
            /* pc softplus(x) -> 0 as x -> inf (pc is 0 from x ~ 104 on) */
            const vf pcs = v_select(v_eq(pc, zero), zero, v_mul(pc, spx));
            gneg = v_mul(apg, v_fma(gamma, pcs, p));
        }
        *grad = v_select(neg, gneg, v_mul(s, pmt));
    }
    return loss;
}

#endif /* FOCAL_KERNEL_VARIFOCAL_MATH_H */
