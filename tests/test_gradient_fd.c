/* SPDX-License-Identifier: MIT */
/*
 * test_gradient_fd: the gradient is the derivative of the loss.
 *
 * entry_fd runs every entry point of entry_points.c: the library's gradient
 * of the reduced loss (SUM and MEAN, the descriptor's option sets: weights,
 * class alpha, smoothing, normalizer) against central differences of the
 * float64 reference's reduced loss.
 *
 * For focal_sigmoid_loss_grad three more independent checks, none of which
 * uses the closed-form gradient of the oracle:
 *   - the library's gradient against a finite difference (in double) of the
 *     float64 oracle *loss*, to the accuracy contract's tolerance;
 *   - the library's gradient against a central difference of the library's
 *     own float loss (SUM, MEAN and NONE), to a tolerance derived from the
 *     float rounding of the loss;
 *   - at gamma < 1 and q -> 0 (confidently right), where the textbook
 *     q^(gamma - 1) form gives inf * 0 = NaN, the gradient is finite, has the
 *     right sign and matches the oracle.
 * The oracle's own closed-form gradients (the 1.2 pos_weight and quality
 * alpha forms, the 1.5 box losses and smooth L1 included) are checked
 * against their finite differences first, so the accuracy suite and the
 * descriptors' references can rely on them.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "entry_points.h"
#include "kernels.h"
#include "oracle.h"
#include "testutil.h"

static const int reductions[] = {FOCAL_REDUCTION_NONE, FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN};
#define NREDUCTIONS 3

static const float fd_gammas[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 5.0f};
#define NFD_GAMMAS (sizeof fd_gammas / sizeof fd_gammas[0])
static const float fd_alphas[] = {0.25f, -1.0f, 0.9f};
#define NFD_ALPHAS (sizeof fd_alphas / sizeof fd_alphas[0])

/* Fourth-order central difference (Richardson on two step sizes) of the
 * oracle loss in x, in double: truncation O(h^4), rounding O(eps / h). The
 * loss varies on a scale of 1 / (1 + gamma) in x (it behaves like
 * exp(-(1 + gamma) |x|) on the confident side), so h follows that scale. */
static double oracle_loss_derivative(double x, double t, double alpha, double gamma)
{
    double h = 1e-3 / (1.0 + gamma);
    double f1 = oracle_eval(x + h, t, alpha, gamma).loss - oracle_eval(x - h, t, alpha, gamma).loss;
    double f2 = oracle_eval(x + 2 * h, t, alpha, gamma).loss -
                oracle_eval(x - 2 * h, t, alpha, gamma).loss;
    return (8.0 * f1 - f2) / (12.0 * h);
}

/* The central difference of e's float64 reduced loss in x[k], step h: x +- h
 * rounded to float (the reference reads floats), divided by the step
 * actually taken; x[k] restored. loss, grad: the reference's scratch. */
static double reference_difference(const focal_test_entry *e, ep_problem *p,
                                   const focal_options *o, size_t k, double h, double *loss,
                                   double *grad)
{
    const float x0 = p->x[k];
    const float up = (float)((double)x0 + h), down = (float)((double)x0 - h);
    double f_up, f_down;
    p->x[k] = up;
    e->reference(p, o, loss, grad, &f_up);
    p->x[k] = down;
    e->reference(p, o, loss, grad, &f_down);
    p->x[k] = x0;
    return (f_up - f_down) / ((double)up - (double)down);
}

/* The oracle's closed-form gradient is the derivative of its loss. */
static void test_oracle_gradient(void **state)
{
    (void)state;
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0xfdfd);
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        double x = -20.0 + 40.0 * rng_unit(&rng);
        double t = i % 2 ? rng_unit(&rng) : (double)((i >> 1) & 1);
        double alpha = i % 7 == 0 ? -1.0 : rng_unit(&rng);
        double gamma = i % 3 == 0 ? fd_gammas[(i / 3) % NFD_GAMMAS] : 8.0 * rng_unit(&rng);
        double g = oracle_eval(x, t, alpha, gamma).grad;
        double fd = oracle_loss_derivative(x, t, alpha, gamma);
        double loss = oracle_eval(x, t, alpha, gamma).loss;
        /* rounding of the difference quotient scales with the loss itself */
        double tol = 1e-7 * fabs(g) + 1e-11 * fabs(loss) + 1e-300;
        double err = fabs(g - fd);
        if (fabs(g) > 1e-280 && err / fabs(g) > worst)
            worst = err / fabs(g);
        if (!(err <= tol))
            fail_msg("oracle gradient x=%.17g t=%.17g alpha=%g gamma=%g: closed form %.17g, "
                     "finite difference %.17g",
                     x, t, alpha, gamma, g, fd);
    }
    print_message("  oracle closed-form gradient vs finite differences: worst rel diff %.3e\n",
                  worst);
}

/* 1.2: the closed-form gradients of oracle_sigmoid_pw and
 * oracle_quality_yolo (pos_weight, the quality loss's a_t) against central
 * differences of their losses, so that the descriptors' references can be
 * trusted where pos_weight or the alpha flag is set. */
static void test_oracle_pos_weight_gradient(void **state)
{
    (void)state;
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0xfd93);
    const double h = 1e-4;
    double worst = 0;
    size_t checked = 0;
    for (int i = 0; i < 40000; i++) {
        const double x = -4.0 + 8.0 * rng_unit(&rng);
        const double t = i % 3 == 0 ? (double)(i % 2) : rng_unit(&rng);
        const double pw = (const double[]){0.0, 1.0, 0.3, 2.5, 6.0 * rng_unit(&rng)}[i % 5];
        const double alpha = i % 7 == 0 ? -1.0 : rng_unit(&rng);
        const double gamma = (const double[]){2.0, 1.5, 0.0, 1.0, 3.0, 0.5}[(i / 5) % 6];
        const bool quality = i % 2 != 0, alpha_t = i % 4 != 1;
        double g, up, down;
        if (quality) {
            /* |s - p|^g with g < 2 is not smooth at p = s */
            if (fabs(oracle_quality(x, t, 0.0).grad) < 1e-2)
                continue;
            g = oracle_quality_yolo(x, t, alpha, gamma, pw, alpha_t).grad;
            up = oracle_quality_yolo(x + h, t, alpha, gamma, pw, alpha_t).loss;
            down = oracle_quality_yolo(x - h, t, alpha, gamma, pw, alpha_t).loss;
        } else {
            g = oracle_sigmoid_pw(x, t, alpha, gamma, pw).grad;
            up = oracle_sigmoid_pw(x + h, t, alpha, gamma, pw).loss;
            down = oracle_sigmoid_pw(x - h, t, alpha, gamma, pw).loss;
        }
        const double fd = (up - down) / (2 * h);
        const double err = fabs(g - fd);
        if (fabs(fd) > 1e-6 && err / fabs(fd) > worst)
            worst = err / fabs(fd);
        checked++;
        if (!(err <= 1e-6 * fabs(fd) + 1e-8))
            fail_msg("%s oracle gradient x=%.17g t=%.17g alpha=%g gamma=%g pw=%g: closed form "
                     "%.17g, finite difference %.17g",
                     quality ? "quality (Ultralytics)" : "sigmoid pos_weight", x, t, alpha,
                     gamma, pw, g, fd);
    }
    print_message("  pos_weight oracles' gradients vs finite differences: %zu, worst rel diff "
                  "%.3e\n", checked, worst);
}

/* Logits where a finite difference is well conditioned, down to where q is
 * tiny (|x| = 12, 20) and gamma < 1 matters. */
static const float fd_logits[] = {-20.0f, -12.0f, -8.0f, -4.5f, -2.2f, -1.3f, -0.4f, 0.0f,
                                  0.3f,   0.9f,   2.2f,  4.5f,  8.0f,  12.0f, 20.0f};
#define NFD_LOGITS (sizeof fd_logits / sizeof fd_logits[0])
static const float fd_targets[] = {0.0f, 1.0f, 0.2f, 0.5f, 0.85f};
#define NFD_TARGETS (sizeof fd_targets / sizeof fd_targets[0])

static void test_grad_vs_oracle_loss_fd(void **state)
{
    const char *kernel = kernel_enter(state);
    const size_t n = NFD_LOGITS * NFD_TARGETS;
    float *x = falloc(n), *t = falloc(n), *loss = falloc(n), *grad = falloc(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = fd_logits[i / NFD_TARGETS];
        t[i] = fd_targets[i % NFD_TARGETS];
    }
    acc_stats_t acc;
    acc_reset(&acc);
    for (size_t gi = 0; gi < NFD_GAMMAS; gi++) {
        for (size_t ai = 0; ai < NFD_ALPHAS; ai++) {
            float alpha = fd_alphas[ai], gamma = fd_gammas[gi];
            for (int r = 0; r < NREDUCTIONS; r++) {
                int red = reductions[r];
                assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, red, loss, grad),
                                 FOCAL_OK);
                double scale = reduction_scale(red, n);
                for (size_t i = 0; i < n; i++) {
                    bool hard = t[i] == 0.0f || t[i] == 1.0f;
                    double fd = oracle_loss_derivative(x[i], t[i], alpha, gamma) * scale;
                    check_value(&acc, hard ? ST_GRAD_HARD : ST_GRAD_SOFT, grad[i], fd, hard, scale,
                                x[i], t[i], alpha, gamma, "grad vs d(oracle loss)/dx", i, n, red);
                }
            }
        }
    }
    free(x);
    free(t);
    free(loss);
    free(grad);
    acc_print(kernel, "gradient vs finite differences of the float64 loss", &acc);
    if (acc.failures)
        fail_msg("%zu gradients differ from the derivative of the float64 loss", acc.failures);
}

/* Central difference of the library's own float loss. Logits are multiples
 * of 1/8 and h = 1/64, so x +- h and x +- 2h are exact in float and the
 * difference quotient has an exact denominator. The loss values carry float
 * rounding (a few ulps of the reduced loss L), which the quotient amplifies by
 * about 1.5 / h; the tolerance is that bound plus 0.1% for truncation. */
#define LIB_FD_N 12
#define LIB_FD_H (1.0f / 64.0f)

static float library_loss(const float *x, const float *t, size_t n, float alpha, float gamma,
                          int red, size_t i)
{
    float loss[LIB_FD_N];
    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, red, loss, NULL), FOCAL_OK);
    return red == FOCAL_REDUCTION_NONE ? loss[i] : loss[0];
}

static void test_grad_vs_library_loss_fd(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x11fd);
    float x[LIB_FD_N], t[LIB_FD_N], grad[LIB_FD_N], loss[LIB_FD_N];
    double worst_rel = 0, worst_ratio = 0;
    size_t checked = 0, failures = 0;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < LIB_FD_N; i++) {
            x[i] = (float)((int)rng_below(&rng, 97) - 48) / 8.0f; /* [-6, 6] in steps of 1/8 */
            t[i] = round % 2 ? (float)rng_below(&rng, 2) : fd_targets[rng_below(&rng, NFD_TARGETS)];
        }
        for (size_t gi = 0; gi < NFD_GAMMAS; gi++) {
            float alpha = fd_alphas[(round + gi) % NFD_ALPHAS], gamma = fd_gammas[gi];
            for (int r = 0; r < NREDUCTIONS; r++) {
                int red = reductions[r];
                assert_int_equal(focal_sigmoid_loss_grad(x, t, LIB_FD_N, alpha, gamma, red, loss,
                                                         grad), FOCAL_OK);
                for (size_t i = 0; i < LIB_FD_N; i++) {
                    float xi = x[i], l[4], lmax = 0;
                    const float steps[4] = {-2, -1, 1, 2};
                    for (int s = 0; s < 4; s++) {
                        x[i] = xi + steps[s] * LIB_FD_H;
                        l[s] = library_loss(x, t, LIB_FD_N, alpha, gamma, red, i);
                        lmax = fmaxf(lmax, fabsf(l[s]));
                    }
                    x[i] = xi;
                    double fd = (8.0 * ((double)l[2] - l[1]) - ((double)l[3] - l[0])) /
                                (12.0 * LIB_FD_H);
                    /* 18 / 12 rounding errors of up to 8 ulp(lmax) each, over h */
                    double tol = 1e-3 * fabs(grad[i]) +
                                 1.5 * 8.0 * FLT_EPSILON * lmax / LIB_FD_H;
                    double err = fabs(grad[i] - fd);
                    checked++;
                    worst_ratio = fmax(worst_ratio, err / tol);
                    if (fabs(grad[i]) > 1e-2 * lmax && err / fabs(grad[i]) > worst_rel)
                        worst_rel = err / fabs(grad[i]);
                    if (!(err <= tol) && failures++ < 10)
                        print_message("  MISMATCH x=%g t=%g alpha=%g gamma=%g reduction=%d: "
                                      "grad %.9g, float central difference %.9g (tol %.2e)\n",
                                      xi, t[i], alpha, gamma, red, grad[i], fd, tol);
                }
            }
        }
    }
    print_message("  kernel %s: %zu gradients vs central differences of the float loss, worst "
                  "rel diff %.3e, worst diff / tolerance %.3f\n", kernel, checked, worst_rel,
                  worst_ratio);
    if (failures)
        fail_msg("%zu gradients differ from the library's own loss differences", failures);
}

/* gamma < 1 with q -> 0: the gradient a_t q^gamma [...] must stay finite, with
 * the sign of (p - t), and match the oracle, all the way to q = 0 in float. */
static void test_small_gamma_confident(void **state)
{
    const char *kernel = kernel_enter(state);
    const float mags[] = {8.0f,  12.0f, 16.5f,  30.0f,  40.0f, 87.5f,
                          88.7f, 100.f, 104.0f, 200.0f, 1e4f,  FLT_MAX};
    const size_t nm = sizeof mags / sizeof mags[0];
    const float gammas[] = {0.5f, 0.25f, 0.1f, 1e-3f, FLT_TRUE_MIN, 0.0f, 0.99f};
    /* t = 1 with x > 0, t = 0 with x < 0: q = 1 - p_t -> 0. Soft targets
     * close to 1 with large x: q -> 1 - t. */
    const size_t n = nm * 4;
    float x[4 * 12], t[4 * 12], loss[4 * 12], grad[4 * 12];
    for (size_t i = 0; i < nm; i++) {
        x[4 * i + 0] = mags[i];
        t[4 * i + 0] = 1.0f;
        x[4 * i + 1] = -mags[i];
        t[4 * i + 1] = 0.0f;
        x[4 * i + 2] = mags[i];
        t[4 * i + 2] = 0x1.fffffep-1f; /* 1 - 2^-24 */
        x[4 * i + 3] = -mags[i];
        t[4 * i + 3] = 0x1p-24f;
    }
    acc_stats_t acc;
    acc_reset(&acc);
    for (size_t gi = 0; gi < sizeof gammas / sizeof gammas[0]; gi++) {
        for (int r = 0; r < NREDUCTIONS; r++) {
            int red = reductions[r];
            assert_int_equal(focal_sigmoid_loss_grad(x, t, n, 0.25f, gammas[gi], red, loss, grad),
                             FOCAL_OK);
            for (size_t i = 0; i < n; i++) {
                if (!isfinite(grad[i]) || (red == FOCAL_REDUCTION_NONE && !isfinite(loss[i])))
                    fail_msg("gamma=%g x=%g t=%.9g reduction=%d: loss %g grad %g", gammas[gi],
                             x[i], t[i], red, red == FOCAL_REDUCTION_NONE ? loss[i] : loss[0],
                             grad[i]);
                /* hard targets: t = 1 gives -alpha q^g (q + g p ce) <= 0, t = 0 the
                 * mirror image >= 0 (soft targets have no fixed sign) */
                if ((t[i] == 1.0f && grad[i] > 0) || (t[i] == 0.0f && grad[i] < 0))
                    fail_msg("gamma=%g x=%g t=%.9g: gradient %g has the wrong sign", gammas[gi],
                             x[i], t[i], grad[i]);
            }
            check_call(&acc, x, t, n, 0.25f, gammas[gi], red, loss, grad);
        }
    }
    acc_print(kernel, "gamma < 1, q -> 0", &acc);
    if (acc.failures)
        fail_msg("%zu values outside the contract", acc.failures);
}

/* The 1.5 references (the box losses of every kind, convention and eps, and
 * smooth L1: the EP_REGRESSION descriptors) against central differences of
 * their own reduced losses, on their finite-difference inputs (no kink
 * within BOX_FD_KINK_STEPS steps, entry_points.c) with a quarter of their
 * step, CIoU's alpha held at the unperturbed point (ep_problem.x_at). */
static void test_oracle_regression_gradient(void **state)
{
    (void)state;
    double worst = 0;
    size_t checked = 0;
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (!(e->flags & EP_REGRESSION))
            continue;
        rng_t r;
        rng_seed(&r, test_seed() ^ (0xfdb0 + ei));
        ep_problem p;
        e->make(&p, &r, e->flags & EP_BOXES ? 64 : 256, e->flags & EP_BOXES ? 4 : 1, EP_FD);
        const size_t n = p.rows * p.classes;
        const size_t ln = ep_loss_len(e, p.rows, p.classes, FOCAL_REDUCTION_NONE);
        double *rl = malloc((ln + 1) * sizeof(double)), *rg = malloc((n + 1) * sizeof(double));
        double *scratch = malloc((n + 1) * sizeof(double));
        float *x_at = falloc(n + 1);
        assert_true(rl != NULL && rg != NULL && scratch != NULL);
        memcpy(x_at, p.x, n * sizeof(float));
        p.x_at = x_at;
        focal_options o;
        focal_options_init(&o);
        o.reduction = FOCAL_REDUCTION_SUM;
        double f;
        e->reference(&p, &o, rl, rg, &f);
        for (size_t k = 0; k < n; k++) {
            const double fd = reference_difference(e, &p, &o, k, e->fd_step / 4, rl, scratch);
            const double err = fabs(rg[k] - fd);
            if (fabs(fd) > 1e-6 && err / fabs(fd) > worst)
                worst = err / fabs(fd);
            checked++;
            if (!(err <= 1e-5 * fabs(fd) + 1e-9))
                fail_msg("%s reference gradient[%zu] (x %.9g): closed form %.17g, finite "
                         "difference %.17g", e->name, k, p.x[k], rg[k], fd);
        }
        free(rl);
        free(rg);
        free(scratch);
        free(x_at);
        ep_free(&p);
    }
    print_message("  box and smooth L1 references' gradients vs finite differences: %zu, worst "
                  "rel diff %.3e\n", checked, worst);
}

/* ---- every entry point: central differences of the float64 reduced loss ---------- */

/* The reference's reduced loss is differenced with ep_problem.x_at at the
 * unperturbed logits: where the gradient holds something constant that the
 * loss computes from them (CIoU's alpha, docs/DESIGN.md §2.8), the
 * reference holds it there too. */

static void fd_shape(const focal_test_entry *e, rng_t *r, const ep_shape *sh)
{
    const size_t rows = ep_shape_rows(sh), classes = sh->classes, n = rows * classes;
    const size_t ln = ep_loss_len(e, rows, classes, FOCAL_REDUCTION_NONE);
    ep_problem p;
    e->make(&p, r, rows, classes, EP_FD);
    double *rl = malloc((ln + 1) * sizeof(double)), *rg = malloc((n + 1) * sizeof(double));
    float *grad = falloc(n + 1);
    assert_true(rl != NULL && rg != NULL);
    /* what is a constant of the gradient (CIoU's alpha) stays at the
     * unperturbed point */
    float *x_at = falloc(n + 1);
    memcpy(x_at, p.x, n * sizeof(float));
    p.x_at = x_at;
    const int reds[2] = {FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN};
    size_t checked = 0;
    for (int v = 0; v < e->noptions[EP_FD]; v++) {
        for (int ri = 0; ri < 2; ri++) {
            focal_options o;
            e->options(&o, &p, EP_FD, v, reds[ri]);
            float loss;
            const ep_args a = ep_args_of(&p, &o, &loss, grad);
            assert_int_equal(e->call(&a), FOCAL_OK);
            for (size_t k = 0; k < n; k++) {
                if (ep_ignored(e, &p, k, EP_GRAD))
                    continue;
                ep_tol tol;
                e->tolerance(&p, &o, k, EP_FD_GRAD, &tol);
                if (tol.skip)
                    continue;
                const double fd = reference_difference(e, &p, &o, k, e->fd_step, rl, rg);
                checked++;
                if (!ep_close(grad[k], fd, &tol))
                    fail_msg("%s %zux%zu options %d reduction %d: grad[%zu] %.9g vs finite "
                             "difference %.9g (x %g)", e->name, rows, classes, v, reds[ri], k,
                             grad[k], fd, p.x[k]);
            }
        }
    }
    print_message("  %s: %zu gradients vs finite differences of the float64 loss\n", e->name,
                  checked);
    free(rl);
    free(rg);
    free(grad);
    free(x_at);
    ep_free(&p);
}

static void test_entry_fd(void **state)
{
    kernel_enter(state);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        rng_t r;
        rng_seed(&r, test_seed() ^ (0xfd00 + ei));
        for (size_t si = 0; si < e->nshapes[EP_FD]; si++)
            fd_shape(e, &r, &e->shapes[EP_FD][si]);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_gradient),
        cmocka_unit_test(test_oracle_pos_weight_gradient),
        cmocka_unit_test(test_oracle_regression_gradient),
        KERNEL_TESTS(test_entry_fd),
        KERNEL_TESTS(test_grad_vs_oracle_loss_fd),
        KERNEL_TESTS(test_grad_vs_library_loss_fd),
        KERNEL_TESTS(test_small_gamma_confident),
    };
    return run_group("test_gradient_fd", tests, sizeof tests / sizeof tests[0], argc, argv);
}
