/* SPDX-License-Identifier: MIT */
/*
 * Textbook loops for the other losses focal-bench measures: what a user
 * writes from the papers' formulas with libm, one element (or row) at a time,
 * -O2, no fast-math. They are the yardstick of the family/ summary, not a
 * reference: their naive forms lose accuracy where libfocal's stable ones
 * do not (the bench's logits stay in [-15, 15], where they still work).
 */
#include <math.h>

#include "baselines.h"

void textbook_softmax(const float *x, const int32_t *labels, size_t rows, size_t classes,
                      float alpha, float gamma, float *loss, float *grad)
{
    double sum = 0.0;
    size_t counted = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * classes;
        float *g = grad + r * classes;
        if (labels[r] < 0) {
            for (size_t c = 0; c < classes; c++) g[c] = 0.0f;
            continue;
        }
        counted++;
        float m = xr[0];
        for (size_t c = 1; c < classes; c++) m = xr[c] > m ? xr[c] : m;
        float s = 0.0f;
        for (size_t c = 0; c < classes; c++) s += expf(xr[c] - m);
        const size_t l = (size_t)labels[r];
        const float pl = expf(xr[l] - m) / s, logpl = logf(pl);
        sum += -alpha * powf(1.0f - pl, gamma) * logpl;
        /* d/dp_l of -a (1-p)^g log p, times dp_l/dx_c = p_l (delta - p_c) */
        const float dldp = alpha * (gamma * powf(1.0f - pl, gamma - 1.0f) * logpl -
                                    powf(1.0f - pl, gamma) / pl);
        for (size_t c = 0; c < classes; c++) {
            const float pc = expf(xr[c] - m) / s;
            g[c] = dldp * pl * ((c == l ? 1.0f : 0.0f) - pc);
        }
    }
    const float scale = counted ? 1.0f / (float)counted : 0.0f;
    for (size_t k = 0; k < rows * classes; k++) grad[k] *= scale;
    *loss = (float)(sum / (double)counted);
}

void textbook_quality(const float *x, const float *s, size_t n, float gamma, float *loss,
                      float *grad)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float p = 1.0f / (1.0f + expf(-x[i]));
        const float ce = fmaxf(x[i], 0.0f) - x[i] * s[i] + log1pf(expf(-fabsf(x[i])));
        const float d = p - s[i], ad = fabsf(d);
        sum += powf(ad, gamma) * ce;
        const float sign = d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f;
        grad[i] = (powf(ad, gamma) * d + gamma * powf(ad, gamma - 1.0f) * sign * p * (1.0f - p) * ce) /
                  (float)n;
    }
    *loss = (float)(sum / (double)n);
}

void textbook_varifocal(const float *x, const float *s, size_t n, float alpha, float gamma,
                        float *loss, float *grad)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float p = 1.0f / (1.0f + expf(-x[i]));
        const float ce = fmaxf(x[i], 0.0f) - x[i] * s[i] + log1pf(expf(-fabsf(x[i])));
        if (s[i] > 0.0f) {
            sum += s[i] * ce;
            grad[i] = s[i] * (p - s[i]) / (float)n;
        } else {
            const float w = alpha * powf(p, gamma);
            sum += w * ce;
            grad[i] = (alpha * gamma * powf(p, gamma - 1.0f) * p * (1.0f - p) * ce + w * p) /
                      (float)n;
        }
    }
    *loss = (float)(sum / (double)n);
}

/* Distribution Focal Loss, row by row: the two cross-entropies of the bins
 * around t by a two-pass log-sum-exp (max, then the sum of exp), and the
 * softmax gradient from the same exponentials (kept in grad between the
 * passes, as one would write it to call expf once per element). */
void textbook_dfl(const float *x, const float *t, size_t rows, size_t bins, float *loss,
                  float *grad)
{
    double sum = 0.0;
    const float scale = 1.0f / (float)rows;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * bins;
        float *g = grad + r * bins;
        float m = xr[0];
        for (size_t c = 1; c < bins; c++) m = xr[c] > m ? xr[c] : m;
        float s = 0.0f;
        for (size_t c = 0; c < bins; c++) {
            g[c] = expf(xr[c] - m);
            s += g[c];
        }
        const float lse = m + logf(s);
        const size_t l = (size_t)floorf(t[r]);
        const float wl = (float)(l + 1) - t[r], wr = t[r] - (float)l;
        sum += wl * (lse - xr[l]) + wr * (lse - xr[l + 1]);
        const float k = (wl + wr) * scale / s;
        for (size_t c = 0; c < bins; c++) g[c] *= k;
        g[l] -= wl * scale;
        g[l + 1] -= wr * scale;
    }
    *loss = (float)(sum / (double)rows);
}

/* Box regression, torchvision's expressions (complete_box_iou_loss,
 * generalized_box_iou_loss; docs/DESIGN.md §2.8, convention torchvision)
 * box by box, and their gradients with respect to pred derived by hand:
 * the intersection kept only where both extents are > 0, iou = I / (U +
 * eps), the enclosure's c2 + eps, CIoU's alpha = v / (1 - iou + v + eps)
 * a constant. A min or max passes its gradient to the coordinate that won
 * it (the inputs have no ties, where autograd splits it). Boxes are x1, y1,
 * x2, y2; mean over boxes. */

/* The end of both box loops: the gradients of the intersection's extents
 * (g_iw, g_ih: 0 where the boxes do not overlap) and of the enclosure's
 * (g_cw, g_ch) to the predicted corners that won their min / max, added to
 * what the areas and centres gave (gx1 .. gy2), into g. */
static void box_corners(const float *p, const float *t, float g_iw, float g_ih, float g_cw,
                        float g_ch, float gx1, float gy1, float gx2, float gy2, float *g)
{
    if (p[0] > t[0]) gx1 -= g_iw;
    if (p[2] < t[2]) gx2 += g_iw;
    if (p[1] > t[1]) gy1 -= g_ih;
    if (p[3] < t[3]) gy2 += g_ih;
    if (p[0] < t[0]) gx1 -= g_cw;
    if (p[2] > t[2]) gx2 += g_cw;
    if (p[1] < t[1]) gy1 -= g_ch;
    if (p[3] > t[3]) gy2 += g_ch;
    g[0] = gx1;
    g[1] = gy1;
    g[2] = gx2;
    g[3] = gy2;
}

void textbook_ciou(const float *pred, const float *target, size_t boxes, float eps,
                   float *loss, float *grad)
{
    const float k = 0.405284735f; /* 4 / pi^2 */
    const float scale = 1.0f / (float)boxes;
    double sum = 0.0;
    for (size_t b = 0; b < boxes; b++) {
        const float *p = pred + 4 * b, *t = target + 4 * b;
        float *g = grad + 4 * b;
        const float x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
        const float X1 = t[0], Y1 = t[1], X2 = t[2], Y2 = t[3];
        const float w = x2 - x1, h = y2 - y1, W = X2 - X1, H = Y2 - Y1;

        /* IoU */
        const float iw = fminf(x2, X2) - fmaxf(x1, X1), ih = fminf(y2, Y2) - fmaxf(y1, Y1);
        const int overlap = iw > 0.0f && ih > 0.0f;
        const float inter = overlap ? iw * ih : 0.0f;
        const float uni = w * h + W * H - inter;
        const float iou = inter / (uni + eps);

        /* DIoU: centre distance over the enclosure's diagonal */
        const float cw = fmaxf(x2, X2) - fminf(x1, X1), ch = fmaxf(y2, Y2) - fminf(y1, Y1);
        const float c2 = cw * cw + ch * ch + eps;
        const float dx = (x1 + x2) / 2.0f - (X1 + X2) / 2.0f;
        const float dy = (y1 + y2) / 2.0f - (Y1 + Y2) / 2.0f;
        const float rho2 = dx * dx + dy * dy;

        /* CIoU: aspect-ratio term */
        const float dat = atanf(W / H) - atanf(w / h);
        const float v = k * dat * dat;
        const float alpha = v / (1.0f - iou + v + eps);
        sum += 1.0f - iou + rho2 / c2 + alpha * v;

        /* d loss / d iou = -1 through iou = I / (U + eps), U = w h + W H - I */
        const float g_iou = -scale;
        const float g_u = -g_iou * iou / (uni + eps);
        const float g_i = g_iou / (uni + eps) - g_u;
        float g_w = g_u * h, g_h = g_u * w;
        /* rho2 / c2 */
        const float g_c2 = -scale * rho2 / (c2 * c2);
        const float g_cw = g_c2 * 2.0f * cw, g_ch = g_c2 * 2.0f * ch;
        const float g_dx = scale * dx / c2, g_dy = scale * dy / c2; /* d/dx1 = d/dx2 */
        /* alpha v, v of r = w / h */
        const float r = w / h;
        const float g_r = scale * alpha * (-2.0f * k * dat / (1.0f + r * r));
        g_w += g_r / h;
        g_h -= g_r * r / h;

        float gx1 = g_dx - g_w, gx2 = g_dx + g_w, gy1 = g_dy - g_h, gy2 = g_dy + g_h;
        box_corners(p, t, overlap ? g_i * ih : 0.0f, overlap ? g_i * iw : 0.0f, g_cw, g_ch, gx1,
                    gy1, gx2, gy2, g);
    }
    *loss = (float)(sum / (double)boxes);
}

void textbook_giou(const float *pred, const float *target, size_t boxes, float eps,
                   float *loss, float *grad)
{
    const float scale = 1.0f / (float)boxes;
    double sum = 0.0;
    for (size_t b = 0; b < boxes; b++) {
        const float *p = pred + 4 * b, *t = target + 4 * b;
        float *g = grad + 4 * b;
        const float x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
        const float X1 = t[0], Y1 = t[1], X2 = t[2], Y2 = t[3];
        const float w = x2 - x1, h = y2 - y1, W = X2 - X1, H = Y2 - Y1;

        const float iw = fminf(x2, X2) - fmaxf(x1, X1), ih = fminf(y2, Y2) - fmaxf(y1, Y1);
        const int overlap = iw > 0.0f && ih > 0.0f;
        const float inter = overlap ? iw * ih : 0.0f;
        const float uni = w * h + W * H - inter;
        const float iou = inter / (uni + eps);
        const float cw = fmaxf(x2, X2) - fminf(x1, X1), ch = fmaxf(y2, Y2) - fminf(y1, Y1);
        const float area_c = cw * ch;
        sum += 1.0f - iou + (area_c - uni) / (area_c + eps);

        /* loss = 1 - I / (U + eps) + (C - U) / (C + eps) */
        const float g_iou = -scale;
        const float g_u = -g_iou * iou / (uni + eps) - scale / (area_c + eps);
        const float g_i = g_iou / (uni + eps) - g_u;
        const float g_c = scale * (uni + eps) / ((area_c + eps) * (area_c + eps));
        const float g_w = g_u * h, g_h = g_u * w;
        const float g_cw = g_c * ch, g_ch = g_c * cw;

        float gx1 = -g_w, gx2 = g_w, gy1 = -g_h, gy2 = g_h;
        box_corners(p, t, overlap ? g_i * ih : 0.0f, overlap ? g_i * iw : 0.0f, g_cw, g_ch, gx1,
                    gy1, gx2, gy2, g);
    }
    *loss = (float)(sum / (double)boxes);
}

/* Smooth L1 (torch's smooth_l1_loss, mmdet's SmoothL1Loss), mean over n. */
void textbook_smooth_l1(const float *pred, const float *target, size_t n, float beta,
                        float *loss, float *grad)
{
    const float scale = 1.0f / (float)n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float d = pred[i] - target[i];
        if (fabsf(d) < beta) {
            sum += 0.5f * d * d / beta;
            grad[i] = d / beta * scale;
        } else {
            sum += fabsf(d) - 0.5f * beta;
            grad[i] = (d > 0.0f ? 1.0f : d < 0.0f ? -1.0f : 0.0f) * scale;
        }
    }
    *loss = (float)(sum / (double)n);
}
