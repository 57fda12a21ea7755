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

#include "focal_internal.h"

void focal_softmax_row_stats(double tops, double others, int want_log_q, focal_softmax_row *out)
{
    /* S - 1, without ever forming S: when one class dominates, `others` is
     * far below the double epsilon of 1 + others. */
    const double rest = (tops - 1.0) + others;
    const double s = tops + others;
    const double log_s = Sleef_log1pd1_u10purec(rest);
    out->log_s = (float)log_s;
    out->inv_s = (float)(1.0 / s);
    out->q_max = (float)(rest / s);
    if (!want_log_q) { /* small integer gammas multiply q instead */
        out->log_q_max = out->log_q_max_lo = 0.0f;
    } else if (rest > 0.0) {
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
