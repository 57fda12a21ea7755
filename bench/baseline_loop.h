/* SPDX-License-Identifier: MIT */
/*
 * The textbook focal loss loop. Not a normal header: each baseline_*.c
 * defines BASELINE_NAME(suffix) (and optionally BASELINE_FIXED_GAMMA) and
 * includes it once, so every baseline runs exactly this code and differs only
 * in compiler flags.
 *
 * Naive forms on purpose (they are what the library is compared with):
 * p = 1 / (1 + exp(-x)), ce through two logs, (1 - p_t)^gamma through pow,
 * and the gradient by the textbook chain rule,
 *
 *     dL/dx = a_t [ q^gamma (p - t) - gamma q^(gamma-1) (2t - 1) p (1 - p) ce ],
 *
 * with q = 1 - p_t. One pow per element (q^gamma = q^(gamma-1) q) rather than
 * two keeps the baseline honest, not artificially slow. The mean is summed in
 * double, as the library's accuracy contract requires of it.
 */
#include <math.h>
#include <stddef.h>

#include "baselines.h"

#ifndef BASELINE_NAME
#error "define BASELINE_NAME(suffix) before including baseline_loop.h"
#endif

#ifdef BASELINE_FIXED_GAMMA
#define BASELINE_GAMMA(g) ((void)(g), (float)(BASELINE_FIXED_GAMMA))
#else
#define BASELINE_GAMMA(g) (g)
#endif

/* Declares the textbook terms of one element that both loops below need: p =
 * sigmoid(xi), ce (cross-entropy, through two logs), pt = p_t, at = alpha_t (1
 * when alpha < 0) and q = 1 - p_t.
 *
 * A macro, not a function: the baselines are what the library is measured
 * against, so each loop must compile to exactly the code it had when the
 * terms were written out in it. With the macro the object code is the same
 * byte for byte; an always-inline helper, tried, gave the same arithmetic
 * but moved registers and operand order in the loss + gradient loop. */
#define BASELINE_TERMS(xi, ti, alpha)                                                              \
    float p = 1.0f / (1.0f + expf(-(xi)));                                                         \
    float ce = -(ti) * logf(p) - (1.0f - (ti)) * logf(1.0f - p);                                   \
    float pt = p * (ti) + (1.0f - p) * (1.0f - (ti));                                              \
    float at = (alpha) >= 0.0f ? (alpha) * (ti) + (1.0f - (alpha)) * (1.0f - (ti)) : 1.0f;         \
    float q = 1.0f - pt

void BASELINE_NAME(loss_grad)(const float *restrict x, const float *restrict t, size_t n,
                              float alpha, float gamma, float *loss, float *restrict grad)
{
    const float g = BASELINE_GAMMA(gamma);
    const float inv_n = 1.0f / (float)n;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float ti = t[i];
        BASELINE_TERMS(x[i], ti, alpha);
        float qg1 = powf(q, g - 1.0f);
        float qg = qg1 * q;
        sum += at * qg * ce;
        grad[i] = at * (qg * (p - ti) - g * qg1 * (2.0f * ti - 1.0f) * p * (1.0f - p) * ce) *
                  inv_n;
    }
    *loss = (float)(sum / (double)n);
}

void BASELINE_NAME(loss)(const float *restrict x, const float *restrict t, size_t n, float alpha,
                         float gamma, float *loss)
{
    const float g = BASELINE_GAMMA(gamma);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float ti = t[i];
        BASELINE_TERMS(x[i], ti, alpha);
        sum += at * powf(q, g) * ce;
    }
    *loss = (float)(sum / (double)n);
}
