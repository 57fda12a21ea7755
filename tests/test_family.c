/* SPDX-License-Identifier: MIT */
/*
 * What only the 1.1 loss family promises: the softmax loss's check value and
 * the infinite limits of softmax, quality focal and varifocal, on every
 * kernel. The properties every entry point has (oracle, finite differences,
 * bits across kernels and threads, argument errors) run over the descriptors
 * of entry_points.c in test_accuracy, test_gradient_fd, test_bitwise and
 * test_errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
#include "testutil.h"

enum { QFL, VFL };
typedef int (*soft_fn)(const float *, const float *, size_t, const focal_options *, float *,
                       float *);
static const soft_fn soft_fns[2] = { focal_quality_focal, focal_varifocal };

/* ---- infinite limits -------------------------------------------------------------- */

static void family_infinite_limits(void **state)
{
    kernel_enter(state);
    focal_options o;
    focal_options_init(&o);
    o.reduction = FOCAL_REDUCTION_NONE;
    const float gammas[] = { 2.0f, 0.5f, 0.0f };
    for (int gi = 0; gi < 3; gi++) {
        o.gamma = gammas[gi];
        /* softmax: +inf at the label: loss 0; at another class: loss inf;
         * -inf at the label: inf; -inf elsewhere: finite. Gradients finite. */
        const float rows_x[4][3] = { { INFINITY, 0.0f, 1.0f }, { 0.0f, INFINITY, 1.0f },
                                     { -INFINITY, 0.0f, 1.0f }, { 0.0f, -INFINITY, 1e30f } };
        const int32_t labels[4] = { 0, 0, 0, 2 };
        float loss[4], grad[12];
        assert_int_equal(focal_softmax_labels(&rows_x[0][0], labels, 4, 3, &o, loss, grad), FOCAL_OK);
        assert_true(loss[0] == 0.0f && isinf(loss[1]) && isinf(loss[2]) && loss[3] == 0.0f);
        for (int k = 0; k < 12; k++)
            assert_true(isfinite(grad[k]));
        /* NaN: the whole row is the canonical NaN */
        const float nan_row[3] = { 1.0f, NAN, 2.0f };
        assert_int_equal(focal_softmax_labels(nan_row, labels, 1, 3, &o, loss, grad), FOCAL_OK);
        for (int k = 0; k < 3; k++)
            assert_int_equal(fbits(grad[k]), 0x7fc00000u);
        assert_int_equal(fbits(loss[0]), 0x7fc00000u);

        /* quality / varifocal: confidently right gives 0, wrong gives inf,
         * every gradient finite */
        const float x[6] = { INFINITY, -INFINITY, INFINITY, -INFINITY, INFINITY, -INFINITY };
        const float s[6] = { 1.0f, 0.0f, 0.0f, 1.0f, 0.3f, 0.3f };
        float l[6], g[6];
        for (int kind = QFL; kind <= VFL; kind++) {
            assert_int_equal(soft_fns[kind](x, s, 6, &o, l, g), FOCAL_OK);
            assert_true(l[0] == 0.0f && l[1] == 0.0f);
            assert_true(isinf(l[3]) && isinf(l[4]) && isinf(l[5]));
            assert_true(kind == VFL || isinf(l[2]));
            for (int k = 0; k < 6; k++)
                assert_true(isfinite(g[k]));
        }
    }
}

/* A check value: two classes, logits (0, 0), label 0, gamma 2, alpha off:
 * p = 1/2, loss = (1/2)^2 log 2, dL/dx_0 = -dL/dx_1 = dL/dp p (1 - p)
 * = (-2 (1/2) log 2 - (1/2)^2 / (1/2)) / 4 = -(1 + 2 log 2) / 8. */
static void softmax_check_value(void **state)
{
    kernel_enter(state);
    const float x[2] = { 0.0f, 0.0f };
    const int32_t label = 0;
    focal_options o;
    focal_options_init(&o);
    o.alpha = -1.0f;
    float loss, grad[2];
    assert_int_equal(focal_softmax_labels(x, &label, 1, 2, &o, &loss, grad), FOCAL_OK);
    const double want = 0.25 * log(2.0), g0 = -(1.0 + 2.0 * log(2.0)) / 8.0;
    assert_true(fabs(loss - want) <= 1e-7 * want);
    assert_true(fabs(grad[0] - g0) <= 1e-6 * fabs(g0) && fabs(grad[1] + g0) <= 1e-6 * fabs(g0));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        KERNEL_TESTS(softmax_check_value),
        KERNEL_TESTS(family_infinite_limits),
    };
    return run_group("test_family", tests, sizeof tests / sizeof tests[0], argc, argv);
}
