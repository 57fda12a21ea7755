/* SPDX-License-Identifier: MIT */
/*
 * The quality focal loss (Li et al. 2020, GFL; mmdet quality_focal_loss) on
 * one vector, over soft scores s in [0, 1], built from the sigmoid basics of
 * kernel_sigmoid_math.h (docs/DESIGN.md §2.4). No loops: kernel_driver.h
 * calls these once per vector. With p = sigmoid(x), pc = 1 - p,
 * ce = BCE(x, s):
 *
 *   loss  = |s - p|^g ce
 *   dL/dx = |s - p|^g [ (p - s) - g sr ce ],  sr = -p pc / (p - s)
 *
 * With a positive weight (Ultralytics' QFocalLoss) ce is ce_pw and p - s in
 * the bracket its derivative (kernel_sigmoid_math.h); the alpha factor a_t,
 * when asked for, multiplies the result in the driver.
 *
 * sr = p for s = 1 and -pc for s = 0, as in the focal loss, whose q is
 * |s - p| for hard targets; 0 where p == s. The modulating factor is not
 * detached: the gradient is the full derivative.
 */
#ifndef FOCAL_KERNEL_QUALITY_MATH_H
#define FOCAL_KERNEL_QUALITY_MATH_H

#include "kernel_common.h"
#include "kernel_sigmoid_math.h"

/* The base of the modulating factor, |s - p|: the focal loss's q where the
 * score is hard (and there its log is exact, sigmoid_hard_log_q). pmt is
 * p - s (sigmoid_p_minus_t). */
FOCAL_INLINE vf quality_pow_base(vf q, vf pmt, vm hard, focal_hardness h)
{
    return HARD_OR_SOFT(h, hard, q, v_abs(pmt));
}

/* The loss bg ce (bg: base^gamma) and, into *grad (want_grad), its
 * derivative before weights, a_t and the reduction's scale. dce is d ce / dx:
 * pmt, or with a positive weight sigmoid_dce_pos_weight (ce then being
 * ce_pw); the factor's base and sr always use the true p - s, pmt. */
FOCAL_INLINE vf quality_focal(vf p, vf pc, vf ce, vf pmt, vf dce, vm is1, vm hard,
                              focal_hardness h, vf bg, vf gamma, vm inf_x, int any_inf,
                              const int gamma_kind, const int want_grad, vf *grad)
{
    const vf loss = v_mul(bg, ce);
    if (want_grad) {
        vf inner = dce;
        if (gamma_kind != FOCAL_GAMMA_0) {
            const vf zero = v_set(0.0f);
            /* sr -> 0 where p == s (the sign of 0 is 0) and at infinite
             * logits, where it meets ce = inf: the limit of p pc ce is 0. */
            const vf soft_sr = v_select(v_eq(pmt, zero), zero, v_neg(v_div(v_mul(p, pc), pmt)));
            const vf sr = HARD_OR_SOFT(h, hard, v_select(is1, p, v_neg(pc)), soft_sr);
            vf wv = v_mul(v_mul(gamma, sr), ce);
            if (any_inf) /* per lane: a lane's bits never depend on its neighbours */
                wv = v_select(m_and(inf_x, v_eq(sr, zero)), zero, wv);
            inner = v_sub(dce, wv);
        }
        *grad = v_mul(bg, inner);
    }
    return loss;
}

#endif /* FOCAL_KERNEL_QUALITY_MATH_H */
