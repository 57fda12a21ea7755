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
