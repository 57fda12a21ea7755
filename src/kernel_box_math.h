/* SPDX-License-Identifier: MIT */
/*
 * The box regression losses, one vector of boxes at a time (docs/DESIGN.md
 * §2.8): the IoU family (IoU, IoU^2, -log IoU, GIoU, DIoU, CIoU) under a
 * convention's parameters, and smooth L1. Each lane is one box (or, for
 * smooth L1, one element); its coordinates come in coordinate-major, one
 * vector per coordinate.
 *
 * The gradient is written out by hand in reverse order of the forward
 * expression, with the kinks where PyTorch's autograd (2.14) puts them for
 * the libraries' own expressions: max / min pass half to each side at a
 * tie, a clamp passes nothing at its bound (nor does torchvision's mask:
 * the masked and the clamped intersection are then one function). Every
 * conditional is a lane select, so a lane's bits never depend on its
 * neighbours, and every kernel runs the same operations.
 */
#ifndef FOCAL_KERNEL_BOX_MATH_H
#define FOCAL_KERNEL_BOX_MATH_H

#include "focal/focal.h"
#include "kernel_common.h"

/* min with minps semantics (the second operand unless the first is less),
 * from the vocabulary's compare and select. NaN lanes are replaced later. */
FOCAL_INLINE vf box_min(vf a, vf b)
{
    return v_select(v_ge(a, b), b, a);
}

/* d max(a, b) / da as torch.maximum's backward: 1 where a > b, 1/2 at a tie. */
FOCAL_INLINE vf box_dmax(vf a, vf b)
{
    return v_select(v_ge(b, a), v_select(v_eq(a, b), v_set(0.5f), v_set(0.0f)), v_set(1.0f));
}

/* d min(a, b) / da: 1 where a < b, 1/2 at a tie. */
FOCAL_INLINE vf box_dmin(vf a, vf b)
{
    return v_select(v_ge(a, b), v_select(v_eq(a, b), v_set(0.5f), v_set(0.0f)), v_set(1.0f));
}

/* d clamp(v, min=0) / dv: 1 where v > 0, else 0 (PyTorch >= 2.14 passes
 * nothing at a clamp's bound; 2.13 and earlier passed it there). */
FOCAL_INLINE vf box_pass(vf v)
{
    return v_select(v_ge(v_set(0.0f), v), v_set(0.0f), v_set(1.0f));
}

/* A denominator kept off 0, max(v, e) where the convention floors it, else
 * v + e, and its derivative in v (a maximum's at a tie). */
FOCAL_INLINE vf box_floor_or_add(vf v, vf e, int floor, vf *d)
{
    if (floor) {
        *d = box_dmax(v, e);
        return v_max(v, e);
    }
    *d = v_set(1.0f);
    return v_add(v, e);
}

/*
 * The IoU-family loss of one vector of boxes, pred (x1, y1, x2, y2) against
 * target (X1, Y1, X2, Y2), and with want_grad its gradient with respect to
 * pred into g1 .. g4 (before weights and the reduction's scale). kind is a
 * FOCAL_BOX_* constant; the convention's parameters come in prm.
 */
FOCAL_INLINE vf box_iou_loss(const focal_box_params *prm, vf x1, vf y1, vf x2, vf y2, vf X1,
                             vf Y1, vf X2, vf Y2, const int kind, const int want_grad, vf *g1,
                             vf *g2, vf *g3, vf *g4)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f), eps = v_set(prm->eps);
    const vf ueps = v_set(prm->union_eps);
    const vf he = v_set(prm->he);

    /* Areas (Ultralytics adds eps to both heights). */
    const vf w = v_sub(x2, x1), h = v_add(v_sub(y2, y1), he);
    const vf W = v_sub(X2, X1), H = v_add(v_sub(Y2, Y1), he);

    /* The intersection's extents and area. */
    const vf ix1 = v_max(x1, X1), ix2 = box_min(x2, X2);
    const vf iy1 = v_max(y1, Y1), iy2 = box_min(y2, Y2);
    const vf iw = v_sub(ix2, ix1), ih = v_sub(iy2, iy1);
    /* torchvision keeps iw ih where both are > 0, Ultralytics and mmdet
     * multiply the extents clamped at 0: the same values and gradients. */
    const vf cw = v_max(iw, zero), ch = v_max(ih, zero);
    const vf inter = v_mul(cw, ch);
    const vf d_iw = v_mul(box_pass(iw), ch), d_ih = v_mul(box_pass(ih), cw); /* dI/diw, dI/dih */
    const vf uni = v_sub(v_add(v_mul(w, h), v_mul(W, H)), inter);
    vf d_ud; /* d Ud / d U */
    const vf ud = box_floor_or_add(uni, ueps, prm->union_floor, &d_ud); /* the IoU's denominator */
    const vf iou = v_div(inter, ud);

    /* The loss, and its derivatives with respect to the IoU, the union
     * (beyond the IoU's), the enclosure's extents and the centres. */
    vf loss, g_iou, g_ud = zero, g_cw = zero, g_ch = zero, g_rho = zero;
    vf g_w = zero, g_h = zero;
    if (kind == FOCAL_BOX_IOU || kind == FOCAL_BOX_IOU_SQUARE || kind == FOCAL_BOX_IOU_LOG) {
        vf q = iou, d_q = one;
        if (prm->clamp_iou) {
            q = v_max(iou, eps);
            /* iou.clamp(min=eps): nothing at the bound */
            d_q = v_select(v_ge(eps, iou), zero, one);
        }
        if (kind == FOCAL_BOX_IOU) {
            loss = v_sub(one, q);
            g_iou = v_neg(d_q);
        } else if (kind == FOCAL_BOX_IOU_SQUARE) {
            loss = v_sub(one, v_mul(q, q));
            g_iou = v_mul(v_mul(v_set(-2.0f), q), d_q);
        } else {
            loss = v_neg(v_log(q));
            g_iou = v_neg(v_div(d_q, q));
        }
    } else {
        /* The enclosing box. */
        const vf ex1 = box_min(x1, X1), ex2 = v_max(x2, X2);
        const vf ey1 = box_min(y1, Y1), ey2 = v_max(y2, Y2);
        const vf cw_raw = v_sub(ex2, ex1), ch_raw = v_sub(ey2, ey1);
        vf cw = cw_raw, ch = ch_raw, pass_w = one, pass_h = one;
        if (prm->clamp_enclose) {
            cw = v_max(cw_raw, zero);
            ch = v_max(ch_raw, zero);
            pass_w = box_pass(cw_raw);
            pass_h = box_pass(ch_raw);
        }
        g_iou = v_set(-1.0f);
        if (kind == FOCAL_BOX_GIOU) {
            /* 1 - iou + (Cd - Ud) / Cd = 2 - iou - Ud / Cd: torchvision's
             * (C - U) / (C + eps) and Ultralytics' ((C + eps) - (U + eps))
             * / (C + eps) are this with Ud = U + eps, mmdet's with the floors */
            const vf c = v_mul(cw, ch);
            vf d_cd;
            const vf cd = box_floor_or_add(c, eps, prm->enclose_floor, &d_cd);
            const vf ratio = v_div(ud, cd);
            loss = v_add(v_sub(one, iou), v_sub(one, ratio));
            if (want_grad) {
                g_ud = v_neg(v_div(one, cd));
                /* d(-Ud / Cd) / dCd = Ud / Cd^2 = ratio / Cd */
                const vf g_c = v_mul(v_div(ratio, cd), d_cd);
                g_cw = v_mul(v_mul(g_c, ch), pass_w);
                g_ch = v_mul(v_mul(g_c, cw), pass_h);
            }
        } else {
            /* DIoU's penalty rho2 / c2, then CIoU's alpha v. */
            const vf c2 = v_add(v_fma(cw, cw, v_mul(ch, ch)), ueps);
            const vf dx = v_sub(v_add(X1, X2), v_add(x1, x2));
            const vf dy = v_sub(v_add(Y1, Y2), v_add(y1, y2));
            const vf rho2 = v_mul(v_fma(dx, dx, v_mul(dy, dy)), v_set(0.25f));
            const vf pen = v_div(rho2, c2);
            loss = v_add(v_sub(one, iou), pen);
            vf r = zero, hr = one, g_v = zero, dv_dr = zero;
            if (kind == FOCAL_BOX_CIOU) {
                const vf re = v_set(prm->re);
                hr = v_add(h, re);
                r = v_div(w, hr);
                const vf d_at = v_sub(v_atan(v_div(W, v_add(H, re))), v_atan(r));
                const vf k = v_set((float)(4.0 / (3.14159265358979323846 * 3.14159265358979323846)));
                const vf v = v_mul(k, v_mul(d_at, d_at));
                /* alpha = v / (v - iou + (1 + ae)), a constant of the gradient */
                vf alpha = v_div(v, v_add(v_sub(v, iou), v_set(1.0f + prm->ae)));
                /* alpha v is 0 where v is (equal aspect ratios), also where
                 * 1 - iou + v rounds to 0 (mmdet's float32 0 / 0) */
                alpha = v_select(v_eq(v, zero), zero, alpha);
                if (prm->gate_alpha)
                    alpha = v_select(v_ge(v_set(0.5f), iou), zero, alpha);
                loss = v_fma(alpha, v, loss);
                g_v = alpha;
                /* dv/dr = -2 k (atan(W / Hr) - atan(r)) / (1 + r^2) */
                dv_dr = v_div(v_mul(v_set(-2.0f), v_mul(k, d_at)), v_fma(r, r, one));
            }
            vf keep = one;
            if (kind == FOCAL_BOX_CIOU && prm->clamp_ciou) {
                /* mmdet: 1 - ciou.clamp(-1, 1), i.e. the loss clamped to
                 * [0, 2]; the gradient passes strictly inside. NaN stays. */
                const vm out = m_or(v_ge(zero, loss), v_ge(loss, v_set(2.0f)));
                keep = v_select(out, zero, one);
                loss = v_select(v_isnan(loss), loss, v_max(box_min(loss, v_set(2.0f)), zero));
                g_iou = v_neg(keep);
                g_v = v_mul(g_v, keep);
            }
            if (want_grad) {
                g_rho = v_div(keep, c2);
                /* d(rho2 / c2) / dc2 = -pen / c2 */
                const vf g_c2 = v_neg(v_div(v_mul(pen, keep), c2));
                g_cw = v_mul(v_mul(v_mul(g_c2, v_set(2.0f)), cw), pass_w);
                g_ch = v_mul(v_mul(v_mul(g_c2, v_set(2.0f)), ch), pass_h);
                g_rho = v_mul(g_rho, v_set(0.25f));
                if (kind == FOCAL_BOX_CIOU) {
                    const vf g_r = v_mul(g_v, dv_dr);
                    /* r = w / hr: dr/dw = 1 / hr, dr/dh = -r / hr */
                    g_w = v_div(g_r, hr);
                    g_h = v_neg(v_mul(g_w, r));
                }
                /* rho2 = (dx^2 + dy^2) / 4: d/dx1 = d/dx2 = -dx / 2 */
                g_rho = v_mul(g_rho, v_set(-2.0f));
                *g1 = v_mul(g_rho, dx);
                *g2 = v_mul(g_rho, dy);
            }
        }
    }
    if (!want_grad)
        return loss;

    /* Back through iou = I / Ud, Ud(U), U = w h + W H - I. */
    const vf g_i_direct = v_div(g_iou, ud);
    g_ud = v_sub(g_ud, v_mul(g_i_direct, iou)); /* d(I / Ud) / dUd = -iou / Ud */
    const vf g_u = v_fma(g_ud, d_ud, zero);
    const vf g_inter = v_sub(g_i_direct, g_u);
    g_w = v_fma(g_u, h, g_w);
    g_h = v_fma(g_u, w, g_h);

    /* The extents: iw = min(x2, X2) - max(x1, X1), and ih likewise. */
    const vf g_iw = v_mul(g_inter, d_iw), g_ih = v_mul(g_inter, d_ih);
    const int centres = kind == FOCAL_BOX_DIOU || kind == FOCAL_BOX_CIOU;
    vf gx1 = centres ? *g1 : zero, gy1 = centres ? *g2 : zero;
    vf gx2 = gx1, gy2 = gy1;
    gx1 = v_sub(gx1, v_add(g_w, v_mul(g_iw, box_dmax(x1, X1))));
    gx2 = v_add(gx2, v_add(g_w, v_mul(g_iw, box_dmin(x2, X2))));
    gy1 = v_sub(gy1, v_add(g_h, v_mul(g_ih, box_dmax(y1, Y1))));
    gy2 = v_add(gy2, v_add(g_h, v_mul(g_ih, box_dmin(y2, Y2))));
    if (kind == FOCAL_BOX_GIOU || centres) {
        /* cw = max(x2, X2) - min(x1, X1), ch likewise */
        gx1 = v_sub(gx1, v_mul(g_cw, box_dmin(x1, X1)));
        gx2 = v_add(gx2, v_mul(g_cw, box_dmax(x2, X2)));
        gy1 = v_sub(gy1, v_mul(g_ch, box_dmin(y1, Y1)));
        gy2 = v_add(gy2, v_mul(g_ch, box_dmax(y2, Y2)));
    }
    *g1 = gx1;
    *g2 = gy1;
    *g3 = gx2;
    *g4 = gy2;
    return loss;
}

/* Smooth L1 of one vector of elements (beta 0: L1), and its derivative. */
FOCAL_INLINE vf smooth_l1_loss(const focal_box_params *prm, vf p, vf t, const int want_grad,
                               vf *grad)
{
    const vf zero = v_set(0.0f), beta = v_set(prm->beta);
    const vf d = v_sub(p, t), a = v_abs(d);
    /* a < beta: not (a >= beta); false for NaN, which then takes the
     * second form and stays NaN. */
    const vm lin = v_ge(a, beta);
    const vf quad = v_div(v_mul(v_mul(v_set(0.5f), a), a), beta);
    const vf loss = v_select(lin, v_sub(a, v_mul(v_set(0.5f), beta)), quad);
    if (want_grad) {
        const vf sign = v_select(v_ge(zero, d), v_select(v_eq(d, zero), zero, v_set(-1.0f)),
                                 v_set(1.0f));
        *grad = v_select(lin, sign, v_div(d, beta));
    }
    return loss;
}

#endif /* FOCAL_KERNEL_BOX_MATH_H */
