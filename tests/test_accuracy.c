/* SPDX-License-Identifier: MIT */
/*
 * test_accuracy: every kernel against the float64 oracle (oracle.c), under the
 * contract of docs/DESIGN.md §4.1. entry_oracle runs every entry point of
 * entry_points.c (shapes, option sets and reductions from its descriptor);
 * the other cases go deep on focal_sigmoid_loss_grad:
 *   hard targets  every loss/grad element within 1e-5 relative (absolute
 *                 FLT_MIN where the float64 value is below the normal range)
 *   soft targets  within 3e-5 relative + 1e-6 absolute
 *   SUM / MEAN    within 1e-6 relative of the float64 sum
 * The worst errors per kernel are printed for the record.
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

static const float std_gammas[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 5.0f};
#define NSTD_GAMMAS 7
static const float std_alphas[] = {-1.0f, 0.0f, 0.25f, 0.75f, 1.0f};
#define NSTD_ALPHAS 5

/* Errors of every test, per kernel, printed at the end. */
static acc_stats_t summary[KERNEL_MAX];

static void finish(const char *kernel, const char *label, acc_stats_t *acc)
{
    acc_print(kernel, label, acc);
    acc_merge(&summary[kernel_index(kernel)], acc);
    if (acc->failures != 0)
        fail_msg("kernel %s, %s: %zu values outside the contract (first ones printed above)",
                 kernel, label, acc->failures);
}

/* Buffers for one call at given misalignments (in floats, 0..3 each). */
typedef struct {
    fbuf_t x, t, loss, grad;
} call_bufs_t;

static void bufs_alloc(call_bufs_t *b, size_t n, unsigned offsets)
{
    fbuf_alloc(&b->x, n, offsets & 3);
    fbuf_alloc(&b->t, n, (offsets >> 2) & 3);
    fbuf_alloc(&b->loss, n > 0 ? n : 1, (offsets >> 4) & 3);
    fbuf_alloc(&b->grad, n, (offsets >> 6) & 3);
}

static void bufs_free(call_bufs_t *b)
{
    fbuf_free(&b->x);
    fbuf_free(&b->t);
    fbuf_free(&b->loss);
    fbuf_free(&b->grad);
}

/* Run one full call (loss and gradient) on the inputs already in b and check
 * it against the oracle. */
static void run_and_check(acc_stats_t *acc, call_bufs_t *b, size_t n, float alpha, float gamma,
                          int reduction)
{
    int rc = focal_sigmoid_loss_grad(b->x.data, b->t.data, n, alpha, gamma, reduction,
                                     b->loss.data, b->grad.data);
    if (rc != FOCAL_OK)
        fail_msg("n=%zu alpha=%g gamma=%g reduction=%d: returned %d (%s)", n, alpha, gamma,
                 reduction, rc, focal_strerror(rc));
    check_call(acc, b->x.data, b->t.data, n, alpha, gamma, reduction, b->loss.data, b->grad.data);
    if (!fbuf_guards_intact(&b->loss) || !fbuf_guards_intact(&b->grad))
        fail_msg("n=%zu: write outside the output buffers", n);
}

/* ---- the oracle itself ------------------------------------------------------------ */

/* The oracle must agree with the textbook formula where that is accurate,
 * reproduce the published check value, and have finite-difference-consistent
 * gradients (test_gradient_fd checks the latter thoroughly). */
static void test_oracle_self_check(void **state)
{
    (void)state;
    double s = 0;
    const double v[4] = {1, 0, 0, 1};
    for (int i = 0; i < 4; i++)
        s += oracle_eval(v[i], v[i], 0.25, 2.0).loss;
    assert_true(fabs(s - 0.27125922146421316) <= 1e-15);
    assert_true(fabs(oracle_eval(1, 1, 0.25, 2).grad - -0.01314528) <= 5e-9);
    assert_true(fabs(oracle_eval(0, 0, 0.25, 2).grad - 0.2237151) <= 5e-8);

    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x0a0a);
    double worst = 0;
    for (int i = 0; i < 100000; i++) {
        double x = -12.0 + 24.0 * rng_unit(&rng);
        double t = (i % 3 == 0) ? rng_unit(&rng) : (double)(i & 1);
        double alpha = (i % 5 == 0) ? -1.0 : rng_unit(&rng);
        double gamma = 8.0 * rng_unit(&rng);
        double a = oracle_eval(x, t, alpha, gamma).loss;
        double b = oracle_naive_loss(x, t, alpha, gamma);
        /* naive 1 - p loses |log10 e^-12| ~ 5 digits at worst */
        double err = fabs(a - b) / fmax(fabs(b), 1e-300);
        if (b != 0 && err > worst)
            worst = err;
        if (!(err <= 1e-9 || fabs(a - b) <= 1e-300))
            fail_msg("oracle vs naive: x=%g t=%g alpha=%g gamma=%g: %.17g vs %.17g", x, t, alpha,
                     gamma, a, b);
    }
    print_message("  oracle vs textbook formula, |x| <= 12: worst rel diff %.3e\n", worst);
}

/* ---- the 1.5 references by hand ------------------------------------------------------ */

/* The box and smooth L1 references against values worked out by hand from
 * docs/DESIGN.md §2.8's table, with eps = 1/16 so that where it goes shows
 * (and stays exact): the pair (0,0,2,2) / (1,1,3,3) (I = 1, U = 7, C = 9,
 * rho2 = 2, c2 = 18, v = 0) in every kind and convention, CIoU on (0,0,4,2) /
 * (0,0,2,4) (v > 0; iou < 0.5: mmdet's gate closed), and the kink rules: a
 * tie passes half the gradient, a clamp nothing at its bound (boxes that
 * touch: the intersection passes nothing in any convention), mmdet's IoU
 * clamp nothing below eps. Smooth L1 on both sides of beta and at d = 0. */
static void check_box(const char *what, oracle_reg_t o, double loss, const double *grad)
{
    if (!(fabs(o.loss - loss) <= 1e-14 * fmax(1.0, fabs(loss))))
        fail_msg("%s: loss %.17g, by hand %.17g", what, o.loss, loss);
    for (int k = 0; grad != NULL && k < 4; k++)
        if (!(fabs(o.grad[k] - grad[k]) <= 1e-14))
            fail_msg("%s: grad[%d] %.17g, by hand %.17g", what, k, o.grad[k], grad[k]);
}

static void test_oracle_box_values(void **state)
{
    (void)state;
    const double e = 0.0625, pi = 3.14159265358979323846;
    const float p[4] = {0, 0, 2, 2}, t[4] = {1, 1, 3, 3};
    enum { TV = FOCAL_BOXES_TORCHVISION, UL = FOCAL_BOXES_ULTRALYTICS, MM = FOCAL_BOXES_MMDET };
    /* torchvision: Ud = U + e, Cd = C + e; CIoU's union and c2 take 1e-7 */
    const double ue7 = 1e-7f;
    check_box("IoU tv", oracle_box(p, t, FOCAL_BOX_IOU, TV, e, NULL), 1 - 1 / (7 + e), NULL);
    check_box("IoU^2 tv", oracle_box(p, t, FOCAL_BOX_IOU_SQUARE, TV, e, NULL),
              1 - 1 / ((7 + e) * (7 + e)), NULL);
    check_box("-log IoU tv", oracle_box(p, t, FOCAL_BOX_IOU_LOG, TV, e, NULL), log(7 + e), NULL);
    check_box("GIoU tv", oracle_box(p, t, FOCAL_BOX_GIOU, TV, e, NULL),
              1 - 1 / (7 + e) + (9 + e - (7 + e)) / (9 + e), NULL);
    check_box("DIoU tv", oracle_box(p, t, FOCAL_BOX_DIOU, TV, e, NULL),
              1 - 1 / (7 + e) + 2 / (18 + e), NULL);
    check_box("CIoU tv", oracle_box(p, t, FOCAL_BOX_CIOU, TV, e, NULL),
              1 - 1 / (7 + ue7) + 2 / (18 + ue7), NULL);
    /* Ultralytics: heights + e (U = 4 (2 + e) - 1), Ud = U + e */
    check_box("IoU ul", oracle_box(p, t, FOCAL_BOX_IOU, UL, e, NULL), 1 - 1 / (7 + 5 * e), NULL);
    check_box("GIoU ul", oracle_box(p, t, FOCAL_BOX_GIOU, UL, e, NULL),
              1 - 1 / (7 + 5 * e) + (9 + e - (7 + 5 * e)) / (9 + e), NULL);
    check_box("DIoU ul", oracle_box(p, t, FOCAL_BOX_DIOU, UL, e, NULL),
              1 - 1 / (7 + 5 * e) + 2 / (18 + e), NULL);
    check_box("CIoU ul", oracle_box(p, t, FOCAL_BOX_CIOU, UL, e, NULL),
              1 - 1 / (7 + 5 * e) + 2 / (18 + e), NULL);
    /* mmdet: IoU and GIoU floor U and C (at 1e-6, e: no change here), DIoU
     * and CIoU add e to the union */
    check_box("IoU mm", oracle_box(p, t, FOCAL_BOX_IOU, MM, e, NULL), 1 - 1.0 / 7, NULL);
    check_box("-log IoU mm", oracle_box(p, t, FOCAL_BOX_IOU_LOG, MM, e, NULL), log(7.0), NULL);
    check_box("GIoU mm", oracle_box(p, t, FOCAL_BOX_GIOU, MM, e, NULL), 1 - 1.0 / 7 + 2.0 / 9,
              NULL);
    check_box("DIoU mm", oracle_box(p, t, FOCAL_BOX_DIOU, MM, e, NULL),
              1 - 1 / (7 + e) + 2 / (18 + e), NULL);

    /* CIoU with v > 0: w/h 2 against W/H 1/2; I = 4, rho2 = 2, c2 = 32 + e */
    const float pc[4] = {0, 0, 4, 2}, tc[4] = {0, 0, 2, 4};
    const double k4 = 4 / (pi * pi);
    double iou = 4 / (12 + ue7), v = k4 * pow(atan(0.5) - atan(2.0), 2);
    check_box("CIoU tv, v > 0", oracle_box(pc, tc, FOCAL_BOX_CIOU, TV, e, NULL),
              1 - iou + 2 / (32 + ue7) + v * v / (v - iou + 1 + e), NULL);
    iou = 4 / (12 + 7 * e); /* U = 4 (2 + e) + 2 (4 + e) - 4, + e */
    v = k4 * pow(atan(2 / (4 + e)) - atan(4 / (2 + e)), 2);
    check_box("CIoU ul, v > 0", oracle_box(pc, tc, FOCAL_BOX_CIOU, UL, e, NULL),
              1 - iou + 2 / (32 + e) + v * v / (v - iou + 1 + e), NULL);
    check_box("CIoU mm, v > 0, iou < 0.5", oracle_box(pc, tc, FOCAL_BOX_CIOU, MM, e, NULL),
              1 - 4 / (12 + e) + 2 / (32 + e), NULL);

    /* a tie at x1 (IoU, eps 0): I = 2, U = 8, g_U = 1/32, g_I = -5/32;
     * x1 gets -g_U h and half of -g_I ih */
    const float pt[4] = {0, 0, 2, 2}, tt[4] = {0, 1, 3, 3};
    const double g_tie[4] = {1.0 / 64, -1.0 / 16, -3.0 / 32, -1.0 / 4};
    check_box("IoU tv, tie at x1", oracle_box(pt, tt, FOCAL_BOX_IOU, TV, 0.0, NULL), 0.75,
              g_tie);
    /* touching at x = 1 (I = 0, U = 2; y1 and y2 tied): iw = 0 is the
     * clamp's bound, so nothing passes; a hair of overlap (iw = 1/64)
     * passes g_I = -1 / Ud - g_U (g_U = iou / Ud) times ih = 1 to x2 and
     * half of g_I iw to each of the tied y1, y2, and w h's g_U to every
     * side */
    const float pa[4] = {0, 0, 1, 1}, ta[4] = {1, 0, 2, 1};
    const double g_none[4] = {0, 0, 0, 0};
    check_box("IoU tv, touching", oracle_box(pa, ta, FOCAL_BOX_IOU, TV, 0.0, NULL), 1, g_none);
    check_box("IoU ul, touching", oracle_box(pa, ta, FOCAL_BOX_IOU, UL, 0.0, NULL), 1, g_none);
    check_box("IoU mm, touching", oracle_box(pa, ta, FOCAL_BOX_IOU, MM, e, NULL), 1 - e, g_none);
    const float ph[4] = {0, 0, 1 + 1.0f / 64, 1};
    const double Ih = 1.0 / 64, Uh = 2 + 1.0 / 64 - Ih, gU = Ih / Uh / Uh, gI = -1 / Uh - gU;
    const double g_hair[4] = {-gU, -gU * (1 + Ih) - 0.5 * gI * Ih, gU + gI,
                              gU * (1 + Ih) + 0.5 * gI * Ih};
    check_box("IoU tv, iw = 1/64", oracle_box(ph, ta, FOCAL_BOX_IOU, TV, 0.0, NULL), 1 - Ih / Uh,
              g_hair);

    /* smooth L1 */
    const struct {
        float p, t, beta;
        double loss, grad;
    } l1[] = {{2.5f, 2.0f, 1.0f, 0.125, 0.5}, {0.0f, 2.0f, 1.0f, 1.5, -1.0},
              {3.0f, 2.0f, 1.0f, 0.5, 1.0},   {2.0f, 2.0f, 0.0f, 0.0, 0.0},
              {-1.0f, 2.0f, 0.0f, 3.0, -1.0}, {2.0f, 2.0f, 0.5f, 0.0, 0.0}};
    for (size_t i = 0; i < sizeof l1 / sizeof l1[0]; i++) {
        const oracle_reg_t o = oracle_smooth_l1(l1[i].p, l1[i].t, l1[i].beta);
        if (o.loss != l1[i].loss || o.grad[0] != l1[i].grad)
            fail_msg("smooth L1 p=%g t=%g beta=%g: %g, %g; by hand %g, %g", l1[i].p, l1[i].t,
                     l1[i].beta, o.loss, o.grad[0], l1[i].loss, l1[i].grad);
    }
}

/* ---- special logits ------------------------------------------------------------------ */

static const float edge_logits[] = {
    0.0f,   -0.0f,  1e-30f, -1e-30f, 0.5f,   -0.5f,  3.0f,   -3.0f, 9.5f, -9.5f,
    16.5f, -16.5f, 40.0f,  -40.0f,  87.5f, -87.5f, 100.0f, -100.0f};
#define NEDGE (sizeof edge_logits / sizeof edge_logits[0])
static const float soft_levels[] = {0.01f, 0.25f, 0.5f, 0.75f, 0.99f};
#define NSOFT (sizeof soft_levels / sizeof soft_levels[0])

/* Every special logit with both hard targets, and with five soft targets, for
 * every standard gamma (plus random ones and 8), alpha, reduction and four
 * misalignments. */
static void test_edge_logits(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0xed9e);
    acc_stats_t acc;
    acc_reset(&acc);

    float gammas[NSTD_GAMMAS + 6];
    memcpy(gammas, std_gammas, sizeof std_gammas);
    gammas[NSTD_GAMMAS] = 8.0f;
    for (int i = 1; i < 6; i++)
        gammas[NSTD_GAMMAS + i] = rng_float(&rng, 0.0f, 8.0f);

    for (int soft = 0; soft < 2; soft++) {
        size_t n = soft ? NEDGE * NSOFT : NEDGE * 2;
        for (unsigned off = 0; off < 4; off++) {
            call_bufs_t b;
            /* all four buffers misaligned by off floats, or (off = 0) each by a
             * different amount: x 0, t 1, loss 2, grad 3 */
            bufs_alloc(&b, n, off ? off * 0x55u : 0xe4u);
            for (size_t i = 0; i < n; i++) {
                size_t levels = soft ? NSOFT : 2;
                b.x.data[i] = edge_logits[i / levels];
                b.t.data[i] = soft ? soft_levels[i % levels] : (float)(i % levels);
            }
            for (size_t gi = 0; gi < sizeof gammas / sizeof gammas[0]; gi++)
                for (int ai = 0; ai < NSTD_ALPHAS; ai++)
                    for (int r = 0; r < NREDUCTIONS; r++)
                        run_and_check(&acc, &b, n, std_alphas[ai], gammas[gi], reductions[r]);
            bufs_free(&b);
        }
    }
    finish(kernel, "edge logits", &acc);
}

/* Finite logits far outside the usual range: exp(-|x|) underflows, softplus
 * is huge, 0 * huge products must not become inf or NaN. */
static void test_extreme_finite_logits(void **state)
{
    const char *kernel = kernel_enter(state);
    const float extremes[] = {1e4f,     -1e4f,    1e10f,   -1e10f,  1e30f,       -1e30f,
                              FLT_MAX,  -FLT_MAX, FLT_MIN, -FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN,
                              88.7f,    -88.7f,   89.0f,   -89.0f,  103.9f,      -103.9f,
                              104.0f,   -104.0f};
    const size_t ne = sizeof extremes / sizeof extremes[0];
    const float targets[] = {0.0f, 1.0f, 0.5f, 0.01f, 0.99f};
    const size_t nt = sizeof targets / sizeof targets[0];
    acc_stats_t acc;
    acc_reset(&acc);
    size_t n = ne * nt;
    call_bufs_t b;
    bufs_alloc(&b, n, 0x1b);
    for (size_t i = 0; i < n; i++) {
        b.x.data[i] = extremes[i / nt];
        b.t.data[i] = targets[i % nt];
    }
    const float gammas[] = {0.0f, 0.5f, 1.0f, 2.0f, 5.0f, 8.0f};
    for (size_t gi = 0; gi < sizeof gammas / sizeof gammas[0]; gi++)
        for (int ai = 0; ai < NSTD_ALPHAS; ai++)
            for (int r = 0; r < NREDUCTIONS; r++)
                run_and_check(&acc, &b, n, std_alphas[ai], gammas[gi], reductions[r]);
    bufs_free(&b);
    finish(kernel, "extreme finite logits", &acc);
}

/* ---- sizes and alignment --------------------------------------------------------------- */

/* n = 0..70 covers every vector body/tail split of 4-, 8- and 16-lane kernels
 * (several times over); each buffer gets its own misalignment. */
static void test_sizes_and_alignment(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x512e);
    acc_stats_t acc;
    acc_reset(&acc);
    for (size_t n = 0; n <= 70; n++) {
        for (unsigned off = 0; off < 4; off++) {
            call_bufs_t b;
            /* x, t, loss, grad misaligned by off, off+1, off+2, off+3 floats */
            unsigned offsets = (off & 3) | (((off + 1) & 3) << 2) | (((off + 2) & 3) << 4) |
                               (((off + 3) & 3) << 6);
            bufs_alloc(&b, n, offsets);
            for (int soft = 0; soft < 2; soft++) {
                fill_logits_mixed(&rng, b.x.data, n);
                if (soft)
                    fill_targets_soft(&rng, b.t.data, n);
                else
                    fill_targets_hard(&rng, b.t.data, n);
                size_t k = n * 8 + off * 2 + (size_t)soft;
                float gamma = k % 8 < NSTD_GAMMAS ? std_gammas[k % 8] : rng_float(&rng, 0, 8);
                float alpha = std_alphas[k % NSTD_ALPHAS];
                for (int r = 0; r < NREDUCTIONS; r++)
                    run_and_check(&acc, &b, n, alpha, gamma, reductions[r]);
            }
            bufs_free(&b);
        }
    }
    finish(kernel, "n = 0..70, misaligned", &acc);
}

/* ---- randomized sweep ------------------------------------------------------------------ */

#define SWEEP_CHUNKS 16
#define SWEEP_CHUNK  65536 /* chunk k has SWEEP_CHUNK + k elements: odd tails too */

static void random_sweep(void **state, bool soft)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ (soft ? 0x50f7 : 0x4a7d));
    acc_stats_t acc;
    acc_reset(&acc);
    size_t total = 0;
    double t0 = now_seconds();
    for (int k = 0; k < SWEEP_CHUNKS; k++) {
        size_t n = SWEEP_CHUNK / test_shrink() + (size_t)k;
        call_bufs_t b;
        bufs_alloc(&b, n, (unsigned)k * 0x39u);
        fill_logits_mixed(&rng, b.x.data, n);
        if (soft)
            fill_targets_soft(&rng, b.t.data, n);
        else
            fill_targets_hard(&rng, b.t.data, n);
        /* the standard gammas first, then random ones in [0, 8] */
        float gamma = k < NSTD_GAMMAS ? std_gammas[k] : rng_float(&rng, 0.0f, 8.0f);
        float alpha = k % 4 == 3 ? rng_float(&rng, 0.0f, 1.0f) : std_alphas[(k * 3) % NSTD_ALPHAS];
        for (int r = 0; r < NREDUCTIONS; r++)
            run_and_check(&acc, &b, n, alpha, gamma, reductions[r]);
        total += n;
        bufs_free(&b);
    }
    print_message("  %zu elements, %s targets, %.2f s\n", total, soft ? "soft" : "hard",
                  now_seconds() - t0);
    finish(kernel, soft ? "random sweep, soft targets" : "random sweep, hard targets", &acc);
}

static void test_random_hard(void **state)
{
    random_sweep(state, false);
}

static void test_random_soft(void **state)
{
    random_sweep(state, true);
}

/* ---- non-finite logits ------------------------------------------------------------------- */

/* The loss of one element with a non-finite logit. The header: a NaN logit
 * gives NaN; an infinite logit gives +inf when confidently wrong (x = +inf
 * with t < 1, x = -inf with t > 0) and NaN otherwise (t = 1 at +inf, t = 0
 * at -inf, from 0 * inf in the cross-entropy). For that last case the
 * mathematical limit, +0, is also accepted (and counted), since a kernel may
 * take hard-target select forms that reach the limit instead of 0 * inf. */
static void check_nonfinite_loss(float x, float t, float gamma, float l, size_t n, size_t i,
                                 size_t *right_zero, size_t *right_nan)
{
    if (isnan(x)) {
        if (!isnan(l))
            fail_msg("n=%zu x[%zu]=NaN t=%g gamma=%g: loss %g, want NaN", n, i, t, gamma, l);
        return;
    }
    bool wrong = x > 0 ? t < 1.0f : t > 0.0f;
    if (wrong) {
        if (!(isinf(l) && l > 0))
            fail_msg("n=%zu x[%zu]=%g t=%g gamma=%g: loss %g, want +inf (confidently wrong)", n,
                     i, x, t, gamma, l);
    } else if (isnan(l)) {
        ++*right_nan;
    } else if (fbits(l) == 0) {
        ++*right_zero;
    } else {
        fail_msg("n=%zu x[%zu]=%g t=%g gamma=%g: loss %g, want NaN (documented) or +0 (the "
                 "limit)", n, i, x, t, gamma, l);
    }
}

/* ±inf and NaN logits are not errors and stay in their own element: its loss
 * follows check_nonfinite_loss, a NaN logit gives a NaN gradient; every other
 * element is still accurate and the reduced loss is non-finite. The gradient
 * at ±inf is not documented: it may be non-finite, or finite, and then it must
 * be the limit x -> ±inf (which exists: the oracle at x = ±1e300 in double). */
static void test_nonfinite_logits(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x1f1f);
    acc_stats_t acc;
    acc_reset(&acc);
    const float specials[] = {INFINITY, -INFINITY, NAN};
    const size_t sizes[] = {1, 2, 5, 8, 16, 17, 31, 37, 64, 100};
    const float gammas[] = {0.0f, 0.5f, 2.0f, 5.0f};
    size_t inf_grads = 0, finite_inf_grads = 0, right_side_zero = 0, right_side_nan = 0;

    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (unsigned off = 0; off < 4; off++) {
            call_bufs_t b;
            bufs_alloc(&b, n, off * 0x55u);
            for (int soft = 0; soft < 2; soft++) {
                for (size_t gi = 0; gi < sizeof gammas / sizeof gammas[0]; gi++) {
                    float gamma = gammas[gi];
                    fill_logits_mixed(&rng, b.x.data, n);
                    if (soft)
                        fill_targets_soft(&rng, b.t.data, n);
                    else
                        fill_targets_hard(&rng, b.t.data, n);
                    /* specials at the first and last element and every 7th */
                    for (size_t i = 0; i < n; i++)
                        if (i == 0 || i == n - 1 || i % 7 == 3)
                            b.x.data[i] = specials[(i + off + gi) % 3];
                    /* what the per-element losses (the NONE call, first) add up to */
                    bool sum_nan = false, sum_inf = false;
                    long double finite_sum = 0;
                    for (int r = 0; r < NREDUCTIONS; r++) {
                        int red = reductions[r];
                        run_and_check(&acc, &b, n, 0.25f, gamma, red); /* the neighbours */
                        if (red == FOCAL_REDUCTION_NONE) {
                            for (size_t i = 0; i < n; i++) {
                                sum_nan |= isnan(b.loss.data[i]);
                                sum_inf |= isinf(b.loss.data[i]);
                                if (isfinite(b.x.data[i]))
                                    finite_sum += oracle_eval(b.x.data[i], b.t.data[i], 0.25,
                                                              gamma).loss;
                            }
                        } else {
                            float l = b.loss.data[0];
                            if (sum_nan ? !isnan(l) : sum_inf ? !(isinf(l) && l > 0) : false)
                                fail_msg("n=%zu reduction=%d: reduced loss %g, but the elements "
                                         "hold %s", n, red, l, sum_nan ? "NaN" : "+inf");
                            if (!sum_nan && !sum_inf) /* only limit-0 infinite logits */
                                check_reduced(&acc, l, finite_sum, n, red, 0.25f, gamma);
                        }
                        for (size_t i = 0; i < n; i++) {
                            float x = b.x.data[i], t = b.t.data[i], g = b.grad.data[i];
                            if (isfinite(x))
                                continue;
                            if (red == FOCAL_REDUCTION_NONE)
                                check_nonfinite_loss(x, t, gamma, b.loss.data[i], n, i,
                                                     &right_side_zero, &right_side_nan);
                            if (isnan(x)) {
                                if (!isnan(g))
                                    fail_msg("n=%zu x[%zu]=NaN: gradient %g", n, i, g);
                                continue;
                            }
                            inf_grads++;
                            if (!isfinite(g))
                                continue;
                            finite_inf_grads++;
                            bool hard = t == 0.0f || t == 1.0f;
                            double limit = oracle_eval(x > 0 ? 1e300 : -1e300, t, 0.25, gamma).grad *
                                           reduction_scale(red, n);
                            check_value(&acc, hard ? ST_GRAD_HARD : ST_GRAD_SOFT, g, limit, hard,
                                        reduction_scale(red, n), x, t, 0.25f, gamma,
                                        "grad (limit at inf)", i, n, red);
                        }
                    }
                }
            }
            bufs_free(&b);
        }
    }
    print_message("  infinite logits: %zu of %zu gradients finite (each checked against the "
                  "limit x -> inf), the rest non-finite\n",
                  finite_inf_grads, inf_grads);
    print_message("  confidently right infinite logits: loss NaN %zu times (as documented), "
                  "+0 (the limit) %zu times\n", right_side_nan, right_side_zero);
    if (right_side_nan && right_side_zero)
        fail_msg("confidently right infinite logits give NaN in some cases and 0 in others");
    finish(kernel, "non-finite logits", &acc);
}

/* ---- 1.5: NaN and infinite regression inputs --------------------------------------- */

#define CANONICAL_NAN 0x7fc00000u

/* docs/DESIGN.md §2.8: a NaN in any of a pair's 8 coordinates makes the
 * box's loss and all 4 of its gradients the canonical NaN (smooth L1: the
 * element's), and a reduced loss over it NaN; an infinite difference has
 * smooth L1's gradient +-1 (loss +inf). The other boxes and elements keep
 * their reference values. Boxes 0..15 get a NaN at coordinate i % 8 (pred,
 * then target); smooth L1 elements 0..15 a NaN in pred or target, 16..23 an
 * infinite pred or target. */
static void test_regression_nonfinite(void **state)
{
    const char *kernel = kernel_enter(state);
    size_t poisoned = 0, kept = 0;
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (!(e->flags & EP_REGRESSION))
            continue;
        const bool boxes = (e->flags & EP_BOXES) != 0;
        const size_t rows = boxes ? 24 : 40, classes = boxes ? 4 : 1, n = rows * classes;
        rng_t r;
        rng_seed(&r, test_seed() ^ (0x1f50 + ei));
        ep_problem p;
        e->make(&p, &r, rows, classes, EP_ORACLE);
        for (size_t i = 0; i < 16; i++) {
            if (boxes)
                (i % 8 < 4 ? p.x : p.t)[4 * i + i % 4] = NAN;
            else
                (i % 2 ? p.t : p.x)[i] = NAN;
        }
        for (size_t i = 16; !boxes && i < 24; i++)
            (i % 2 ? p.t : p.x)[i] = i % 4 < 2 ? INFINITY : -INFINITY;
        double *rl = malloc((n + 1) * sizeof(double)), *rg = malloc((n + 1) * sizeof(double));
        float *loss = falloc(n + 1), *grad = falloc(n + 1);
        assert_true(rl != NULL && rg != NULL);
        for (int red = FOCAL_REDUCTION_NONE; red <= FOCAL_REDUCTION_MEAN; red++) {
            focal_options o;
            focal_options_init(&o);
            o.reduction = red;
            double ref_reduced;
            e->reference(&p, &o, rl, rg, &ref_reduced);
            const ep_args a = ep_args_of(&p, &o, loss, grad);
            assert_int_equal(e->call(&a), FOCAL_OK);
            if (red != FOCAL_REDUCTION_NONE && fbits(loss[0]) != CANONICAL_NAN)
                fail_msg("%s reduction %d: reduced loss 0x%08x over NaN inputs, want the "
                         "canonical NaN", e->name, red, fbits(loss[0]));
            for (size_t row = 0; row < rows; row++) {
                const bool nan_in = row < 16, inf_in = !boxes && row >= 16 && row < 24;
                for (size_t c = 0; c < classes; c++) {
                    const size_t k = row * classes + c;
                    if (nan_in) {
                        if (fbits(grad[k]) != CANONICAL_NAN ||
                            (red == FOCAL_REDUCTION_NONE && c == 0 &&
                             fbits(loss[row]) != CANONICAL_NAN))
                            fail_msg("%s reduction %d: row %zu with a NaN: loss 0x%08x grad[%zu] "
                                     "0x%08x, want the canonical NaN", e->name, red, row,
                                     fbits(loss[row]), k, fbits(grad[k]));
                        poisoned++;
                        continue;
                    }
                    if (inf_in && red == FOCAL_REDUCTION_NONE && !(loss[row] == INFINITY))
                        fail_msg("%s: element %zu, an infinite difference: loss %g, want +inf",
                                 e->name, row, loss[row]);
                    ep_tol tol;
                    e->tolerance(&p, &o, k, EP_GRAD, &tol);
                    if (!ep_close(grad[k], rg[k], &tol))
                        fail_msg("%s reduction %d: grad[%zu] = %.9g beside NaN inputs, float64 "
                                 "%.17g", e->name, red, k, grad[k], rg[k]);
                    if (red == FOCAL_REDUCTION_NONE && c == 0 && !inf_in) {
                        e->tolerance(&p, &o, row, EP_LOSS, &tol);
                        if (!ep_close(loss[row], rl[row], &tol))
                            fail_msg("%s: loss[%zu] = %.9g beside NaN inputs, float64 %.17g",
                                     e->name, row, loss[row], rl[row]);
                    }
                    kept++;
                }
            }
        }
        free(rl);
        free(rg);
        free(loss);
        free(grad);
        ep_free(&p);
    }
    print_message("  %s: %zu outputs of NaN inputs the canonical NaN, %zu beside them as the "
                  "reference\n", kernel, poisoned, kept);
}

/* ---- large n reduction ------------------------------------------------------------------- */

/* n = 2^26 is where a float running sum is off by far more than 1e-6. The
 * inputs repeat a random block of prime length P, so the float64 reference
 * costs P oracle calls (sum = reps * block + prefix) while the library still
 * reduces 2^26 different-position elements. Runs on every supported kernel:
 * 256 MB each for logits and targets, the gradient written in place. */
#define LARGE_N      ((size_t)1 << 26)
#define LARGE_PERIOD 4093

static void test_large_n_sum(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x1a26);
    const size_t n = LARGE_N / test_shrink(), P = LARGE_PERIOD;
    const float alpha = 0.25f, gamma = 2.0f;
    float px[LARGE_PERIOD], pt[LARGE_PERIOD];
    double pgrad[LARGE_PERIOD];
    fill_logits_mixed(&rng, px, P);
    fill_targets_hard(&rng, pt, P);
    for (size_t i = 1; i < P; i += 2)
        pt[i] = rng_float(&rng, 0.0f, 1.0f); /* half the elements soft */

    long double block = 0, prefix = 0;
    size_t reps = n / P, rest = n % P;
    for (size_t i = 0; i < P; i++) {
        oracle_t o = oracle_eval(px[i], pt[i], alpha, gamma);
        block += o.loss;
        if (i < rest)
            prefix += o.loss;
        pgrad[i] = o.grad;
    }
    long double ref = block * (long double)reps + prefix;

    float *x = falloc(n), *t = falloc(n);
    for (size_t i = 0; i < n; i += P) {
        size_t m = n - i < P ? n - i : P;
        memcpy(x + i, px, m * sizeof(float));
        memcpy(t + i, pt, m * sizeof(float));
    }
    acc_stats_t acc;
    acc_reset(&acc);
    float sum_fwd, mean_fwd, sum_inplace;
    double t0 = now_seconds();
    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, FOCAL_REDUCTION_SUM, &sum_fwd,
                                             NULL), FOCAL_OK);
    double t1 = now_seconds();
    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, FOCAL_REDUCTION_MEAN,
                                             &mean_fwd, NULL), FOCAL_OK);
    double t2 = now_seconds();
    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, FOCAL_REDUCTION_SUM,
                                             &sum_inplace, x), FOCAL_OK);
    double t3 = now_seconds();
    check_reduced(&acc, sum_fwd, ref, n, FOCAL_REDUCTION_SUM, alpha, gamma);
    check_reduced(&acc, mean_fwd, ref, n, FOCAL_REDUCTION_MEAN, alpha, gamma);
    check_reduced(&acc, sum_inplace, ref, n, FOCAL_REDUCTION_SUM, alpha, gamma);
    if (fbits(sum_fwd) != fbits(sum_inplace))
        fail_msg("n=2^26: forward-only sum %.9g differs from the sum with gradient %.9g", sum_fwd,
                 sum_inplace);
    /* the in-place gradient, element by element */
    for (size_t i = 0; i < n; i++) {
        size_t j = i % P;
        bool hard = pt[j] == 0.0f || pt[j] == 1.0f;
        check_value(&acc, hard ? ST_GRAD_HARD : ST_GRAD_SOFT, x[i], pgrad[j], hard, 1.0, px[j],
                    pt[j], alpha, gamma, "grad", i, n, FOCAL_REDUCTION_SUM);
    }
    print_message("  n=2^26: sum %.9g (ref %.12Lg, rel err %.2e), mean %.9g; library time: "
                  "sum %.3f s, mean %.3f s, sum+grad in place %.3f s\n",
                  sum_fwd, ref, (double)fabsl((sum_fwd - ref) / ref), mean_fwd, t1 - t0, t2 - t1,
                  t3 - t2);

    /* Constant inputs (all-zero logits: a freshly initialised head). Every
     * partial sum then has the same low-order bits, so any float stage in the
     * accumulation rounds the same way every time and the error adds up
     * instead of averaging out, as it does on random data. */
    for (size_t i = 0; i < n; i++)
        x[i] = t[i] = 0.0f;
    long double ref0 = (long double)oracle_eval(0.0, 0.0, alpha, gamma).loss * (long double)n;
    float sum0, mean0;
    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, FOCAL_REDUCTION_SUM, &sum0,
                                             NULL), FOCAL_OK);
    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, FOCAL_REDUCTION_MEAN, &mean0,
                                             NULL), FOCAL_OK);
    check_reduced(&acc, sum0, ref0, n, FOCAL_REDUCTION_SUM, alpha, gamma);
    check_reduced(&acc, mean0, ref0, n, FOCAL_REDUCTION_MEAN, alpha, gamma);
    print_message("  n=2^26 constant inputs: sum %.9g (ref %.12Lg, rel err %.2e)\n", sum0, ref0,
                  (double)fabsl((sum0 - ref0) / ref0));
    free(x);
    free(t);
    finish(kernel, "n = 2^26", &acc);
}

/* ---- every entry point against its float64 oracle ------------------------------------ */

/* Worst relative error (where the relative term is the bound) of one entry
 * point's loss and gradient, and worst error / tolerance, for the record. */
typedef struct {
    double loss, grad, loss_ratio, grad_ratio;
} worst_t;

static void track(double *worst, double *ratio, double got, double ref, const ep_tol *tol)
{
    const double aref = fabs(ref);
    if (aref >= FLT_MIN && tol->rel * aref >= tol->abs && fabs(got - ref) / aref > *worst)
        *worst = fabs(got - ref) / aref;
    const double bound = fmax(tol->rel * aref + tol->abs, aref < FLT_MIN ? FLT_MIN : 0.0);
    if (bound > 0 && fabs(got - ref) / bound > *ratio)
        *ratio = fabs(got - ref) / bound;
}

static void oracle_shape(const focal_test_entry *e, rng_t *r, const ep_shape *sh, size_t si,
                         worst_t *w)
{
    const size_t rows = ep_shape_rows(sh), classes = sh->classes, n = rows * classes;
    const size_t ln = ep_loss_len(e, rows, classes, FOCAL_REDUCTION_NONE);
    ep_problem p;
    e->make(&p, r, rows, classes, EP_ORACLE);
    double *rl = malloc((ln + 1) * sizeof(double)), *rg = malloc((n + 1) * sizeof(double));
    assert_true(rl != NULL && rg != NULL);
    fbuf_t loss, grad;
    fbuf_alloc(&loss, ln > 0 ? ln : 1, si % 4);
    fbuf_alloc(&grad, n, (si + 1) % 4);
    for (int v = 0; v < e->noptions[EP_ORACLE]; v++) {
        for (int red = 0; red < NREDUCTIONS; red++) {
            focal_options o;
            e->options(&o, &p, EP_ORACLE, v, reductions[red]);
            double ref_reduced;
            e->reference(&p, &o, rl, rg, &ref_reduced);
            float reduced;
            const ep_args a = ep_args_of(&p, &o, red == 0 ? loss.data : &reduced, grad.data);
            const int rc = e->call(&a);
            if (rc != FOCAL_OK)
                fail_msg("%s %zux%zu options %d reduction %d: returned %d (%s)", e->name, rows,
                         classes, v, reductions[red], rc, focal_strerror(rc));
            for (size_t k = 0; k < n; k++) {
                if (ep_ignored(e, &p, k, EP_GRAD)) { /* ignored rows: exactly zero */
                    if (!(grad.data[k] == 0.0f))
                        fail_msg("%s: grad[%zu] = %g in an ignored row", e->name, k, grad.data[k]);
                    continue;
                }
                ep_tol tol;
                e->tolerance(&p, &o, k, EP_GRAD, &tol);
                if (tol.skip)
                    continue;
                track(&w->grad, &w->grad_ratio, grad.data[k], rg[k], &tol);
                if (!ep_close(grad.data[k], rg[k], &tol))
                    fail_msg("%s %zux%zu options %d reduction %d: grad[%zu] = %.9g, float64 "
                             "%.17g (x %g)", e->name, rows, classes, v, reductions[red], k,
                             grad.data[k], rg[k], p.x[k]);
            }
            if (reductions[red] == FOCAL_REDUCTION_NONE) {
                for (size_t k = 0; k < ln; k++) {
                    if (ep_ignored(e, &p, k, EP_LOSS)) {
                        if (!(loss.data[k] == 0.0f))
                            fail_msg("%s: loss[%zu] = %g in an ignored row", e->name, k,
                                     loss.data[k]);
                        continue;
                    }
                    ep_tol tol;
                    e->tolerance(&p, &o, k, EP_LOSS, &tol);
                    if (tol.skip)
                        continue;
                    track(&w->loss, &w->loss_ratio, loss.data[k], rl[k], &tol);
                    if (!ep_close(loss.data[k], rl[k], &tol))
                        fail_msg("%s %zux%zu options %d: loss[%zu] = %.9g, float64 %.17g",
                                 e->name, rows, classes, v, k, loss.data[k], rl[k]);
                }
            } else if (isnan(ref_reduced)) {
                if (!isnan(reduced))
                    fail_msg("%s %zux%zu options %d reduction %d: reduced %g, want NaN",
                             e->name, rows, classes, v, reductions[red], reduced);
            } else {
                ep_tol tol = {TOL_REDUCED_REL, 0.0, false};
                if (e->reduced_tolerance)
                    e->reduced_tolerance(&p, &o, &tol);
                if (!ep_close(reduced, ref_reduced, &tol))
                    fail_msg("%s %zux%zu options %d reduction %d: reduced %.9g, float64 %.17g",
                             e->name, rows, classes, v, reductions[red], reduced, ref_reduced);
            }
            if (!fbuf_guards_intact(&loss) || !fbuf_guards_intact(&grad))
                fail_msg("%s %zux%zu: write outside the output buffers", e->name, rows, classes);
        }
    }
    fbuf_free(&loss);
    fbuf_free(&grad);
    free(rl);
    free(rg);
    ep_free(&p);
}

static void test_entry_oracle(void **state)
{
    const char *kernel = kernel_enter(state);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        rng_t r;
        rng_seed(&r, test_seed() ^ (0x0e00 + ei));
        worst_t w = {0, 0, 0, 0};
        for (size_t si = 0; si < e->nshapes[EP_ORACLE]; si++)
            oracle_shape(e, &r, &e->shapes[EP_ORACLE][si], si, &w);
        print_message("  %s %s: worst relative error loss %.3g, grad %.3g; worst error / "
                      "tolerance loss %.3g, grad %.3g\n", kernel, e->name, w.loss, w.grad,
                      w.loss_ratio, w.grad_ratio);
    }
}

/* ---- summary --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_self_check),
        cmocka_unit_test(test_oracle_box_values),
        KERNEL_TESTS(test_entry_oracle),
        KERNEL_TESTS(test_edge_logits),
        KERNEL_TESTS(test_extreme_finite_logits),
        KERNEL_TESTS(test_sizes_and_alignment),
        KERNEL_TESTS(test_random_hard),
        KERNEL_TESTS(test_random_soft),
        KERNEL_TESTS(test_nonfinite_logits),
        KERNEL_TESTS(test_regression_nonfinite),
        KERNEL_TESTS(test_large_n_sum),
    };
    int failed = run_group("test_accuracy", tests, sizeof tests / sizeof tests[0], argc, argv);
    printf("\n[ SUMMARY  ] worst errors per kernel over all accuracy tests\n");
    for (int k = 0; k < kernel_count(); k++) {
        bool any = false;
        for (int s = 0; s < ST_COUNT; s++)
            any |= summary[k].s[s].count != 0;
        if (any)
            acc_print(kernel_name(k), "all tests", &summary[k]);
    }
    return failed;
}
