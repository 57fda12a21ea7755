/* SPDX-License-Identifier: MIT */
/*
 * The per-row scalars of the softmax focal loss, shared by every kernel.
 *
 * They are computed in double with SLEEF's portable scalar functions (the
 * plain C ones: no FMA, the same bits on any CPU), once per row. One shared
 * function instead of one per ISA file is what makes them identical across
 * kernels without having to keep several copies in step.
 */
#include <math.h>
#include <sleef.h>
#include <stdint.h>
#include <string.h>

#include "focal_internal.h"

/*
 * (float)Sleef_log1pd1_u10purec(rest), mostly without calling it: SLEEF's
 * portable log1p costs ~40 ns of latency per row, as much as the rest of a
 * row of 80 classes; libm's log1p is several times faster.
 *
 * Both are within a few double ulps of the true value (SLEEF's bound is
 * 1.0 ulp, glibc's 1 to 2), so their doubles round to the same float unless
 * a float rounding boundary, the midpoint between two floats, lies between
 * them. The 29 bits of a double below float precision say how far it is
 * from that midpoint (2^28 there); where libm's value is more than
 * FOCAL_LOG1P_MARGIN ulps from it (all but about 1 in 2^16 rows), SLEEF's
 * float is the same, so libm's is returned. Otherwise, and below the normal
 * floats (where the float grid is another), SLEEF itself decides. The bits
 * are therefore SLEEF's on every CPU, whatever libm it runs with, as long as
 * that libm's log1p is within the margin (tests/test_softmax_row.c).
 */
#define FOCAL_LOG1P_MARGIN (1u << 12)

float focal_softmax_log1p_float(double rest)
{
    const double d = log1p(rest);
    if (d >= 0x1p-125 && d <= 0x1p127) {
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        const uint32_t below = (uint32_t)(bits & ((1u << 29) - 1u));
        /* unsigned: below - (2^28 - margin) wraps for below < 2^28 - margin */
        if (below - ((1u << 28) - FOCAL_LOG1P_MARGIN) > 2u * FOCAL_LOG1P_MARGIN)
            return (float)d;
    }
    return (float)Sleef_log1pd1_u10purec(rest);
}

void focal_softmax_row_stats(double tops, double others, int want_log_q, focal_softmax_row *out)
{
    /* S - 1, without ever forming S: when one class dominates, `others` is
     * far below the double epsilon of 1 + others. */
    const double rest = (tops - 1.0) + others;
    const double s = tops + others;
    out->inv_s = (float)(1.0 / s);
    out->q_max = (float)(rest / s);
    if (!want_log_q) { /* small integer gammas multiply q instead */
        out->log_s = focal_softmax_log1p_float(rest);
        out->log_q_max = out->log_q_max_lo = 0.0f;
        return;
    }
    /* log q_max below needs all of log S's double. */
    const double log_s = Sleef_log1pd1_u10purec(rest);
    out->log_s = (float)log_s;
    if (rest > 0.0) {
        /* q^gamma = exp(gamma log q) turns an absolute error of log q into a
         * relative error of the result: keep log q to double precision. */
        const double log_q = Sleef_logd1_u10purec(rest) - log_s;
        out->log_q_max = (float)log_q;
        out->log_q_max_lo = (float)(log_q - (double)out->log_q_max);
    } else {
        out->log_q_max = -INFINITY;
        out->log_q_max_lo = 0.0f;
    }
}
