/* SPDX-License-Identifier: MIT */
/*
 * The sigmoid focal loss on one vector, and the sigmoid "basics" that the
 * quality focal and varifocal losses are built from (docs/DESIGN.md §2.1).
 * No loops: kernel_driver.h calls these once per vector, in its phases.
 * Written over the vocabulary of the ISA file that includes the driver; no
 * vector is kept in a struct or an array (docs/DESIGN.md §10).
 *
 * With e = exp(-|x|), r = 1 / (1 + e) and l = log1p(e) from the driver's
 * call phases, the stable forms are: e never overflows, and 1 - sigmoid(x)
 * is computed directly (never as 1 - p).
 *
 * Hard targets (t exactly 0 or 1) take select forms: q = pc or p,
 * ce = softplus(-+x), p - t = -pc or p, (p pc / q)(2t - 1) = p or -pc, with
 * no multiply by t or 1 - t. They equal the general forms bit for bit at
 * every finite x, and give the right limits at infinite x, where the general
 * ce would compute 0 * inf. The form is chosen per lane, so a lane's bits
 * never depend on its neighbours; a vector whose lanes are all hard simply
 * skips the general forms.
 */
#ifndef FOCAL_KERNEL_SIGMOID_MATH_H
#define FOCAL_KERNEL_SIGMOID_MATH_H

#include "kernel_common.h"

/* is1 and hard of the targets t. */
FOCAL_INLINE focal_hardness sigmoid_classify(vf t, vm *is1, vm *hard)
{
    *is1 = v_eq(t, v_set(1.0f));
    *hard = m_or(*is1, v_eq(t, v_set(0.0f)));
    const focal_hardness h = { m_all(*hard), m_any(*hard) };
    return h;
}

/* p = sigmoid(x), pc = 1 - sigmoid(x), q = 1 - p_t, ce = BCE(x, t). */
FOCAL_INLINE void sigmoid_basics(vf x, vf t, vf e, vf r, vf l, vm is1, vm hard, focal_hardness h,
                                 vf *p, vf *pc, vf *q, vf *ce)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f);
    const vf er = v_mul(e, r);
    const vm pos = v_ge(x, zero);
    *p = v_select(pos, r, er);
    *pc = v_select(pos, er, r);
    if (h.all) {
        *q = v_select(is1, *pc, *p);
        /* softplus(-x) = -log p for t = 1, softplus(x) = -log(1 - p) for 0 */
        *ce = v_add(v_max(v_select(is1, v_neg(x), x), zero), l);
    } else {
        const vf omt = v_sub(one, t);
        const vf spx = v_add(v_max(x, zero), l);
        const vf spnx = v_add(v_max(v_neg(x), zero), l);
        *q = HARD_OR_SOFT(h, hard, v_select(is1, *pc, *p), v_fma(t, *pc, v_mul(omt, *p)));
        *ce = HARD_OR_SOFT(h, hard, v_select(is1, spnx, spx), v_fma(t, spnx, v_mul(omt, spx)));
    }
}

/* p - t without cancellation beyond the inherent one: -pc or p when hard. */
FOCAL_INLINE vf sigmoid_p_minus_t(vf t, vf p, vf pc, vm is1, vm hard, focal_hardness h)
{
    return HARD_OR_SOFT(h, hard, v_select(is1, v_neg(pc), p),
                        v_fma(p, v_sub(v_set(1.0f), t), v_neg(v_mul(t, pc))));
}

/*
 * BCE with a positive weight pw (BCEWithLogitsLoss's pos_weight), from the
 * plain ce of sigmoid_basics:
 *   ce_pw = pw t softplus(-x) + (1 - t) softplus(x),
 * pw weighing the softplus term (never a log p formed from p). Hard lanes
 * scale ce by pw where t = 1 (and by 1, exactly, where t = 0); soft lanes
 * recompute both softplus terms, as sigmoid_basics does.
 */
FOCAL_INLINE vf sigmoid_ce_pos_weight(vf x, vf t, vf l, vf ce, vf pw, vm is1, vm hard,
                                      focal_hardness h)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f);
    const vf hard_form = v_mul(v_select(is1, pw, one), ce);
    if (h.all)
        return hard_form;
    const vf spx = v_add(v_max(x, zero), l);
    const vf spnx = v_add(v_max(v_neg(x), zero), l);
    return HARD_OR_SOFT(h, hard, hard_form,
                        v_fma(v_mul(pw, t), spnx, v_mul(v_sub(one, t), spx)));
}

/* d ce_pw / dx = p (1 - t) - pw t pc (p - t at pw = 1, bit for bit): -pw pc
 * or p for hard targets. */
FOCAL_INLINE vf sigmoid_dce_pos_weight(vf t, vf p, vf pc, vf pw, vm is1, vm hard,
                                       focal_hardness h)
{
    return HARD_OR_SOFT(h, hard, v_select(is1, v_neg(v_mul(pw, pc)), p),
                        v_fma(p, v_sub(v_set(1.0f), t), v_neg(v_mul(v_mul(pw, t), pc))));
}

/* a_t = apos t + aneg (1 - t): apos or aneg for hard targets. */
FOCAL_INLINE vf sigmoid_alpha_t(vf apos, vf aneg, vf t, vm is1, vm hard, focal_hardness h)
{
    return HARD_OR_SOFT(h, hard, v_select(is1, apos, aneg),
                        v_fma(apos, t, v_mul(aneg, v_sub(v_set(1.0f), t))));
}

/*
 * log q as hi + lo for hard lanes (is1: t = 1), for q^g = exp(g log q). exp
 * turns an absolute error of its argument into a relative error of the
 * result, and |g log q| reaches ~87 before q^g underflows, where half an ulp
 * of the argument is 4e-6. So log q = -softplus(+-x) is kept exact as a
 * two-sum; the driver's q^gamma step (focal_pow_from_log) splits g log q by
 * an FMA and folds the low part back. Soft lanes take log q from SLEEF.
 */
FOCAL_INLINE vf sigmoid_hard_log_q(vf x, vf l, vm is1, vf *lo)
{
    const vf big = v_max(v_select(is1, x, v_neg(x)), v_set(0.0f));
    const vf sp = v_add(big, l); /* big + l, rounded */
    const vf bv = v_sub(sp, big);
    *lo = v_neg(v_add(v_sub(big, v_sub(sp, bv)), v_sub(l, bv)));
    return v_neg(sp);
}

/* The base whose gamma-th power modulates the loss: q = 1 - p_t. Its log is
 * exact (sigmoid_hard_log_q) in the hard lanes. */
FOCAL_INLINE vf sigmoid_pow_base(vf q)
{
    return q;
}

/*
 * The sigmoid focal loss a_t q^g ce and, into *grad (want_grad), its
 * derivative before the reduction's scale. dce is d ce / dx: p - t
 * (sigmoid_p_minus_t), or with a positive weight sigmoid_dce_pos_weight (ce
 * then being ce_pw). The gradient uses p pc / q instead of q^(gamma - 1), so
 * it stays finite for gamma < 1:
 *   dL/dx = a_t q^g [ dce - g ((p pc / q)(2t - 1)) ce ].
 * inf_x: lanes whose logit is infinite (any_inf: there are some). There
 * sratio = 0 (p or pc is 0) meets ce = inf, and the product's limit is 0
 * (pc softplus(x) -> 0), not the NaN that 0 * inf gives.
 */
FOCAL_INLINE vf sigmoid_focal(vf at, vf t, vf p, vf pc, vf q, vf ce, vf dce, vm is1, vm hard,
                              focal_hardness h, vf qg, vf gamma, vm inf_x, int any_inf,
                              const int gamma_kind, const int want_grad, vf *grad)
{
    const vf atqg = v_mul(at, qg);
    const vf loss = v_mul(atqg, ce);
    if (want_grad) {
        vf inner = dce;
        if (gamma_kind != FOCAL_GAMMA_0) {
            /* (p pc / q)(2t - 1) is p when t = 1 (q = pc), -pc when t = 0 (q = p). */
            const vf sratio = HARD_OR_SOFT(h, hard, v_select(is1, p, v_neg(pc)),
                                           v_mul(v_div(v_mul(p, pc), q),
                                                 v_sub(v_add(t, t), v_set(1.0f))));
            vf w = v_mul(v_mul(gamma, sratio), ce);
            if (any_inf)
                w = v_select(m_and(inf_x, v_eq(sratio, v_set(0.0f))), v_set(0.0f), w);
            inner = v_sub(dce, w);
        }
        *grad = v_mul(atqg, inner);
    }
    return loss;
}

#endif /* FOCAL_KERNEL_SIGMOID_MATH_H */
