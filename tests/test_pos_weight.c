/* SPDX-License-Identifier: MIT */
/*
 * 1.2: BCE's positive weight (focal_options.pos_weight) in the sigmoid
 * labels / dense calls and the quality focal loss, and Ultralytics' alpha
 * factor of the quality loss (FOCAL_FLAG_QUALITY_ALPHA). Against the float64
 * oracle, by finite differences, bit for bit against the scalar kernel and
 * across thread counts, at the infinite limits, with every error code, and
 * the compatibility of 1.1 callers (their struct size, their
 * focal_options_init@FOCAL_1.1).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
#include "oracle.h"
#include "testutil.h"

/* What a program built against the 1.1 header calls: the FOCAL_1.1 version
 * of focal_options_init, bound explicitly. */
void focal_options_init_v11(focal_options *opt);
__asm__(".symver focal_options_init_v11, focal_options_init@FOCAL_1.1");

/* The size of the 1.1 struct (its last field is weight). */
#define OPTIONS_1_1_SIZE (offsetof(focal_options, weight) + sizeof(const float *))

/* |got - ref| <= rel |ref| + abs_tol (subnormal references compare absolutely). */
static void expect_close(double got, double ref, double rel, double abs_tol, const char *what,
                         size_t k)
{
    const double err = fabs(got - ref);
    if (!(err <= rel * fabs(ref) + abs_tol + FLT_MIN))
        fail_msg("%s[%zu]: got %.9g, float64 %.17g (rel %.3g)", what, k, got, ref,
                 err / fabs(ref));
}

/* pos_weight values: BCE's usual range, with exact 0 and 1 among them. */
static void fill_pos_weight(rng_t *r, float *pw, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const size_t k = rng_below(r, 8);
        pw[i] = k == 0 ? 0.0f : k == 1 ? 1.0f : rng_float(r, 0.05f, 6.0f);
    }
}

/* ---- the sigmoid calls against the oracle --------------------------------- */

typedef struct {
    size_t rows, classes;
    float *x, *t, *pw, *ca, *w;
    int32_t *labels;
} rows_problem;

static void rows_make(rows_problem *p, rng_t *r, size_t rows, size_t classes)
{
    const size_t n = rows * classes;
    p->rows = rows;
    p->classes = classes;
    p->x = falloc(n + 1);
    p->t = falloc(n + 1);
    p->pw = falloc(classes + 1);
    p->ca = falloc(classes + 1);
    p->w = falloc(rows + 1);
    p->labels = malloc((rows + 1) * sizeof(int32_t));
    assert_non_null(p->labels);
    fill_logits_mixed(r, p->x, n);
    fill_targets_soft(r, p->t, n);
    for (size_t i = 0; i < n; i++) /* detector-like: mostly hard */
        if (rng_below(r, 3) != 0)
            p->t[i] = rng_below(r, 4) == 0 ? 1.0f : 0.0f;
    fill_pos_weight(r, p->pw, classes);
    for (size_t c = 0; c < classes; c++)
        p->ca[c] = rng_float(r, 0.0f, 1.0f);
    for (size_t i = 0; i < rows; i++) {
        p->w[i] = rng_float(r, 0.0f, 2.0f);
        const size_t k = rng_below(r, 10);
        p->labels[i] = k == 0 ? -1 : k == 1 ? (int32_t)classes : (int32_t)rng_below(r, classes);
    }
}

static void rows_free(rows_problem *p)
{
    free(p->x); free(p->t); free(p->pw); free(p->ca); free(p->w); free(p->labels);
}

/* Checks one call of focal_sigmoid_labels (labels) or _dense against
 * oracle_sigmoid_pw, with the options' smoothing, class alpha, row weights,
 * normalizer and reduction. */
static void rows_check(const rows_problem *p, const focal_options *o, int labels)
{
    const size_t n = p->rows * p->classes;
    float *loss = falloc(n + 1), *grad = falloc(n + 1), reduced;
    const int red = o->reduction;
    int rc = labels ? focal_sigmoid_labels(p->x, p->labels, p->rows, p->classes, o,
                                           red ? &reduced : loss, grad)
                    : focal_sigmoid_dense(p->x, p->t, p->rows, p->classes, o,
                                          red ? &reduced : loss, grad);
    assert_int_equal(rc, FOCAL_OK);
    size_t kept = 0;
    for (size_t row = 0; row < p->rows; row++)
        kept += !labels || p->labels[row] >= 0;
    const double divisor = red == FOCAL_REDUCTION_NONE ? 1.0
                           : o->normalizer > 0 ? o->normalizer
                           : red == FOCAL_REDUCTION_MEAN ? (double)kept * (double)p->classes
                                                          : 1.0;
    const float ls = o->label_smoothing;
    long double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t row = i / p->classes, c = i % p->classes;
        if (labels && p->labels[row] < 0) {
            if (red == FOCAL_REDUCTION_NONE)
                assert_true(loss[i] == 0.0f);
            assert_true(grad[i] == 0.0f);
            continue;
        }
        float t = labels ? ((int32_t)c == p->labels[row] ? 1.0f : 0.0f) : p->t[i];
        if (ls > 0.0f)
            t = fmaf(t, 1.0f - ls, ls * 0.5f); /* the smoothed target, as documented */
        const double alpha = o->class_alpha ? o->class_alpha[c] : o->alpha;
        const double pw = o->pos_weight ? o->pos_weight[c] : 1.0;
        const oracle_t e = oracle_sigmoid_pw(p->x[i], t, alpha, o->gamma, pw);
        const double wi = o->weight ? o->weight[row] : 1.0;
        sum += wi * e.loss;
        const int hard = t == 0.0f || t == 1.0f;
        const double rel = hard ? TOL_HARD_REL : TOL_SOFT_REL;
        /* The soft absolute term scales with the cross-entropy's weights. */
        const double abs_tol = hard ? 0.0 : TOL_SOFT_ABS * wi * (1.0 + pw);
        if (red == FOCAL_REDUCTION_NONE)
            expect_close(loss[i], wi * e.loss, rel, abs_tol, "loss", i);
        expect_close(grad[i], wi * e.grad / divisor, rel, abs_tol / divisor, "grad", i);
    }
    if (red != FOCAL_REDUCTION_NONE)
        expect_close(reduced, (double)(sum / divisor), TOL_REDUCED_REL, 1e-37, "reduced", 0);
    free(loss);
    free(grad);
}

static void sigmoid_pos_weight_matches_oracle(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x91);
    const size_t shapes[][2] = { { 300 / test_shrink() + 3, 80 }, { 501, 7 }, { 2000, 1 },
                                 { 40, 33 } };
    const float gammas[] = { 2.0f, 1.5f, 0.0f, 0.5f, 3.0f, 1.0f };
    for (size_t sh = 0; sh < 4; sh++) {
        rows_problem p;
        rows_make(&p, &r, shapes[sh][0], shapes[sh][1]);
        for (int gi = 0; gi < 6; gi++) {
            for (int red = 0; red <= 2; red++) {
                for (int labels = 0; labels <= 1; labels++) {
                    focal_options o;
                    focal_options_init(&o);
                    o.gamma = gammas[gi];
                    o.alpha = gi == 4 ? -1.0f : 0.25f;
                    o.reduction = red;
                    o.pos_weight = p.pw;
                    /* alone, and with every other row option in turn */
                    o.class_alpha = gi == 1 ? p.ca : NULL;
                    o.weight = gi == 2 || gi == 5 ? p.w : NULL;
                    o.label_smoothing = gi == 3 || gi == 5 ? 0.1f : 0.0f;
                    o.normalizer = gi == 1 && red ? 13.5f : 0.0f;
                    rows_check(&p, &o, labels);
                }
            }
        }
        rows_free(&p);
    }
}

/* ---- the quality focal loss (Ultralytics' QFocalLoss) against the oracle ---- */

static void quality_yolo_matches_oracle(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x92);
    const size_t n = 20000 / test_shrink() + 11;
    float *x = falloc(n), *s = falloc(n), *w = falloc(n), *pw = falloc(n);
    float *loss = falloc(n), *grad = falloc(n);
    fill_logits_mixed(&r, x, n);
    fill_targets_soft(&r, s, n);
    fill_pos_weight(&r, pw, n);
    for (size_t i = 0; i < n; i++) {
        w[i] = rng_float(&r, 0.0f, 2.0f);
        if (rng_below(&r, 3) == 0) s[i] = 0.0f;
    }
    const float gammas[] = { 1.5f, 2.0f, 0.0f, 1.0f, 3.0f, 2.5f };
    for (int gi = 0; gi < 6; gi++) {
        for (int red = 0; red <= 2; red++) {
            for (int variant = 0; variant < 3; variant++) { /* pw; alpha; both */
                focal_options o;
                focal_options_init(&o);
                o.gamma = gammas[gi];
                o.alpha = gi == 3 ? -1.0f : gi == 4 ? 0.6f : 0.25f;
                o.reduction = red;
                o.pos_weight = variant != 1 ? pw : NULL;
                o.flags = variant != 0 ? FOCAL_FLAG_QUALITY_ALPHA : 0;
                o.weight = gi % 2 ? w : NULL;
                float reduced;
                assert_int_equal(focal_quality_focal(x, s, n, &o, red ? &reduced : loss, grad),
                                 FOCAL_OK);
                const double divisor = red == FOCAL_REDUCTION_MEAN ? (double)n : 1.0;
                long double sum = 0;
                for (size_t i = 0; i < n; i++) {
                    const double pwi = o.pos_weight ? pw[i] : 1.0;
                    const oracle_t e = oracle_quality_yolo(x[i], s[i], o.alpha, o.gamma, pwi,
                                                           o.flags != 0);
                    const double wi = o.weight ? w[i] : 1.0;
                    sum += wi * e.loss;
                    const int hard = s[i] == 0.0f || s[i] == 1.0f;
                    if (!hard && o.gamma < 1.0f)
                        continue; /* |s - p|^g, g < 1: unbounded slope at p = s (§4.1) */
                    const double rel = hard ? TOL_HARD_REL : TOL_SOFT_REL;
                    const double abs_tol = hard ? 0.0 : TOL_SOFT_ABS * wi * (1.0 + pwi);
                    if (red == FOCAL_REDUCTION_NONE)
                        expect_close(loss[i], wi * e.loss, rel, abs_tol, "loss", i);
                    expect_close(grad[i], wi * e.grad / divisor, rel, abs_tol / divisor, "grad", i);
                }
                if (red != FOCAL_REDUCTION_NONE)
                    expect_close(reduced, (double)(sum / divisor), TOL_REDUCED_REL, 1e-37,
                                 "reduced", 0);
            }
        }
    }
    free(x); free(s); free(w); free(pw); free(loss); free(grad);
}

/* ---- finite differences ---------------------------------------------------- */

/* The library's gradient, and the oracle's, against central differences of
 * the float64 loss: checks the derivation of the pos_weight and a_t terms,
 * not only the agreement of two codes of one formula. */
static void pos_weight_finite_differences(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x93);
    enum { ROWS = 16, C = 5, N = ROWS * C };
    float x[N], t[N], pw[N], grad[N], loss;
    fill_logits_uniform(&r, x, N, -4.0f, 4.0f);
    fill_targets_soft(&r, t, N);
    fill_pos_weight(&r, pw, N);
    for (size_t i = 0; i < N; i += 3) t[i] = (float)(i % 2);
    const float gammas[] = { 2.0f, 1.5f, 0.0f, 1.0f };
    const double h = 1e-4;
    for (int gi = 0; gi < 4; gi++) {
        for (int which = 0; which < 2; which++) { /* sigmoid dense; quality with a_t */
            focal_options o;
            focal_options_init(&o);
            o.gamma = gammas[gi];
            o.alpha = 0.3f;
            o.reduction = FOCAL_REDUCTION_SUM;
            o.pos_weight = pw; /* [C] for dense, [N] for quality */
            if (which)
                o.flags = FOCAL_FLAG_QUALITY_ALPHA;
            assert_int_equal(which ? focal_quality_focal(x, t, N, &o, &loss, grad)
                                   : focal_sigmoid_dense(x, t, ROWS, C, &o, &loss, grad),
                             FOCAL_OK);
            for (size_t i = 0; i < N; i++) {
                const double pwi = which ? pw[i] : pw[i % C];
                oracle_t (*f)(double, double, double, double, double, bool) = NULL;
                double lp, lm, og;
                if (which) {
                    f = oracle_quality_yolo;
                    lp = f(x[i] + h, t[i], o.alpha, o.gamma, pwi, true).loss;
                    lm = f(x[i] - h, t[i], o.alpha, o.gamma, pwi, true).loss;
                    og = f(x[i], t[i], o.alpha, o.gamma, pwi, true).grad;
                    /* |s - p|^g with g < 2 is not smooth at p = s */
                    const double d = oracle_quality(x[i], t[i], 0.0).grad;
                    if (fabs(d) < 1e-2)
                        continue;
                } else {
                    lp = oracle_sigmoid_pw(x[i] + h, t[i], o.alpha, o.gamma, pwi).loss;
                    lm = oracle_sigmoid_pw(x[i] - h, t[i], o.alpha, o.gamma, pwi).loss;
                    og = oracle_sigmoid_pw(x[i], t[i], o.alpha, o.gamma, pwi).grad;
                }
                const double fd = (lp - lm) / (2 * h);
                if (!(fabs(og - fd) <= 1e-6 * fabs(fd) + 1e-8))
                    fail_msg("oracle %d gamma %g: grad[%zu] %.12g vs finite difference %.12g",
                             which, o.gamma, i, og, fd);
                if (!(fabs(grad[i] - fd) <= 1e-4 * fabs(fd) + 1e-6))
                    fail_msg("%s gamma %g: grad[%zu] %.9g vs finite difference %.9g (x %g t %g pw %g)",
                             which ? "quality" : "dense", o.gamma, i, grad[i], fd, x[i], t[i], pwi);
            }
        }
    }
}

/* ---- bits: every kernel as scalar; thread counts; pw = 1 as none ---------- */

static const float odd_logits[] = { 0.0f, -0.0f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, 88.72f,
                                    -88.72f, 103.97f, -103.97f, INFINITY, -INFINITY, NAN };
#define NODD (sizeof odd_logits / sizeof odd_logits[0])

/* One call: 0 dense, 1 labels, 2 quality. pw: [classes] or [n]. */
static int call(int which, const float *x, const float *t, const int32_t *labels, size_t rows,
                size_t classes, const focal_options *o, float *loss, float *grad)
{
    switch (which) {
    case 0: return focal_sigmoid_dense(x, t, rows, classes, o, loss, grad);
    case 1: return focal_sigmoid_labels(x, labels, rows, classes, o, loss, grad);
    default: return focal_quality_focal(x, t, rows * classes, o, loss, grad);
    }
}

static void pos_weight_bitwise_vs_scalar(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x94);
    const size_t class_counts[] = { 1, 3, 16, 17, 80 };
    for (size_t ci = 0; ci < 5; ci++) {
        const size_t classes = class_counts[ci];
        for (size_t rows = 0; rows <= 40; rows += rows < 6 ? 1 : 17) {
            const size_t n = rows * classes, mis = (rows + ci) % 16;
            fbuf_t xb, tb, pb;
            fbuf_alloc(&xb, n, mis);
            fbuf_alloc(&tb, n, (mis + 5) % 16);
            fbuf_alloc(&pb, n > classes ? n : classes, (mis + 9) % 16);
            int32_t *labels = malloc((rows + 1) * sizeof(int32_t));
            float ca[80];
            for (size_t c = 0; c < classes; c++)
                ca[c] = (const float[]){ 0.0f, 1.0f, 0.25f }[c % 3];
            assert_non_null(labels);
            fill_logits_mixed(&r, xb.data, n);
            for (size_t i = 0; i < n; i++)
                if (rng_below(&r, 4) == 0)
                    xb.data[i] = odd_logits[rng_below(&r, NODD)];
            fill_targets_soft(&r, tb.data, n);
            for (size_t i = 0; i < n; i++)
                if (rng_below(&r, 2) == 0) tb.data[i] = (float)rng_below(&r, 2);
            fill_pos_weight(&r, pb.data, pb.n);
            for (size_t i = 0; i < rows; i++)
                labels[i] = (int32_t)rng_below(&r, classes + 2) - 1;
            for (int which = 0; which < 3; which++) {
                for (int gi = 0; gi < 5; gi++) {
                    for (int red = 0; red <= 2; red++) {
                        focal_options o;
                        focal_options_init(&o);
                        o.gamma = (const float[]){ 2.0f, 0.0f, 1.5f, 3.0f, 0.5f }[gi];
                        o.alpha = gi == 3 ? -1.0f : 0.25f;
                        o.reduction = red;
                        o.pos_weight = pb.data;
                        if (which == 2 && gi % 2 == 0)
                            o.flags = FOCAL_FLAG_QUALITY_ALPHA;
                        if (which < 2 && gi == 2)
                            o.label_smoothing = 0.05f;
                        /* zero alphas meet losses that pw makes inf */
                        if (which < 2 && gi == 1)
                            o.class_alpha = ca;
                        float *loss[2], *grad[2];
                        for (int k = 0; k < 2; k++) {
                            assert_int_equal(focal_set_isa(k ? kernel : "scalar"), FOCAL_OK);
                            loss[k] = falloc(n + 1);
                            grad[k] = falloc(n + 1);
                            assert_int_equal(call(which, xb.data, tb.data, labels, rows, classes,
                                                  &o, loss[k], grad[k]),
                                             FOCAL_OK);
                        }
                        const size_t ln = red == FOCAL_REDUCTION_NONE ? n : 1;
                        if (memcmp(loss[0], loss[1], ln * sizeof(float)) != 0 ||
                            memcmp(grad[0], grad[1], n * sizeof(float)) != 0) {
                            for (size_t i = 0; i < n; i++)
                                if (fbits(grad[0][i]) != fbits(grad[1][i]) ||
                                    (i < ln && fbits(loss[0][i]) != fbits(loss[1][i])))
                                    print_message("  [%zu] x %g t %g pw %g: loss %a / %a, grad %a / %a\n",
                                                  i, xb.data[i], tb.data[i],
                                                  pb.data[which == 2 ? i : i % classes],
                                                  i < ln ? loss[0][i] : 0.0f,
                                                  i < ln ? loss[1][i] : 0.0f, grad[0][i],
                                                  grad[1][i]);
                            fail_msg("%s: call %d rows %zu classes %zu gamma %g reduction %d "
                                     "differs from scalar", kernel, which, rows, classes,
                                     o.gamma, red);
                        }
                        for (int k = 0; k < 2; k++) { free(loss[k]); free(grad[k]); }
                    }
                }
            }
            assert_true(fbuf_guards_intact(&xb) && fbuf_guards_intact(&pb));
            fbuf_free(&xb); fbuf_free(&tb); fbuf_free(&pb);
            free(labels);
        }
    }
}

/* The new options at their neutral values change no bit: pos_weight all 1
 * equals no pos_weight, and a_t with alpha < 0 (exactly 1) equals no a_t. */
static void neutral_values_give_the_1_1_bits(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x95);
    const size_t rows = 97, classes = 80, n = rows * classes;
    float *x = falloc(n), *t = falloc(n), *ones = falloc(n);
    float *l0 = falloc(n), *g0 = falloc(n), *l1 = falloc(n), *g1 = falloc(n);
    int32_t labels[97];
    fill_logits_mixed(&r, x, n);
    fill_targets_soft(&r, t, n);
    for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
    for (size_t i = 0; i < rows; i++) labels[i] = (int32_t)rng_below(&r, classes + 2) - 1;
    for (int which = 0; which < 3; which++) {
        for (int gi = 0; gi < 3; gi++) {
            focal_options o;
            focal_options_init(&o);
            o.gamma = (const float[]){ 2.0f, 1.5f, 0.0f }[gi];
            o.reduction = FOCAL_REDUCTION_NONE;
            if (which == 2)
                o.alpha = -1.0f;
            assert_int_equal(call(which, x, t, labels, rows, classes, &o, l0, g0), FOCAL_OK);
            o.pos_weight = ones;
            if (which == 2)
                o.flags = FOCAL_FLAG_QUALITY_ALPHA;
            assert_int_equal(call(which, x, t, labels, rows, classes, &o, l1, g1), FOCAL_OK);
            assert_memory_equal(l0, l1, n * sizeof(float));
            assert_memory_equal(g0, g1, n * sizeof(float));
        }
    }
    free(x); free(t); free(ones); free(l0); free(g0); free(l1); free(g1);
}

static void pos_weight_same_bits_for_1_to_3_threads(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x96);
    /* more than 8 blocks of 16384: the pool runs */
    const size_t classes = 80, rows = 9 * 16384 / classes + 5, n = rows * classes;
    float *x = falloc(n), *t = falloc(n), *pw = falloc(n), *loss[2], *grad[2];
    int32_t *labels = malloc(rows * sizeof(int32_t));
    assert_non_null(labels);
    fill_logits_mixed(&r, x, n);
    fill_targets_soft(&r, t, n);
    fill_pos_weight(&r, pw, n);
    for (size_t i = 0; i < rows; i++) labels[i] = (int32_t)rng_below(&r, classes + 2) - 1;
    for (int which = 0; which < 3; which++) {
        focal_options o;
        focal_options_init(&o);
        o.gamma = 1.5f;
        o.pos_weight = pw;
        o.flags = which == 2 ? FOCAL_FLAG_QUALITY_ALPHA : 0;
        for (int k = 0; k < 2; k++) {
            loss[k] = falloc(1);
            grad[k] = falloc(n);
            assert_int_equal(focal_set_num_threads(k ? 3 : 1), FOCAL_OK);
            assert_int_equal(call(which, x, t, labels, rows, classes, &o, loss[k], grad[k]),
                             FOCAL_OK);
        }
        assert_memory_equal(loss[0], loss[1], sizeof(float));
        assert_memory_equal(grad[0], grad[1], n * sizeof(float));
        for (int k = 0; k < 2; k++) { free(loss[k]); free(grad[k]); }
    }
    assert_int_equal(focal_set_num_threads(0), FOCAL_OK);
    free(x); free(t); free(pw); free(labels);
}

/* ---- limits ------------------------------------------------------------------ */

static void pos_weight_infinite_limits(void **state)
{
    kernel_enter(state);
    /* t = 1 at x = -inf: ce_pw = pw softplus(-x) = inf; the gradient's limit
     * is a_t q^g (-pw pc) = -alpha pw (q = pc = 1, p ce -> 0). At x = +inf
     * loss and gradient are 0. t = 0 does not see pw. */
    const float x[4] = { -INFINITY, INFINITY, -INFINITY, INFINITY };
    const float t[4] = { 1.0f, 1.0f, 0.0f, 0.0f };
    const float pw[1] = { 2.5f };
    float loss[4], grad[4];
    for (int gi = 0; gi < 2; gi++) {
        focal_options o;
        focal_options_init(&o);
        o.gamma = gi ? 1.5f : 2.0f;
        o.reduction = FOCAL_REDUCTION_NONE;
        o.pos_weight = pw;
        assert_int_equal(focal_sigmoid_dense(x, t, 4, 1, &o, loss, grad), FOCAL_OK);
        assert_true(isinf(loss[0]) && loss[0] > 0);
        assert_true(grad[0] == -0.25f * 2.5f);
        assert_true(loss[1] == 0.0f && grad[1] == 0.0f);
        assert_true(loss[2] == 0.0f && grad[2] == 0.0f);
        assert_true(isinf(loss[3]) && grad[3] == 0.75f);
        /* quality, a_t on: the same limits times a_t */
        o.flags = FOCAL_FLAG_QUALITY_ALPHA;
        const float pw4[4] = { 2.5f, 2.5f, 2.5f, 2.5f };
        o.pos_weight = pw4;
        assert_int_equal(focal_quality_focal(x, t, 4, &o, loss, grad), FOCAL_OK);
        assert_true(isinf(loss[0]) && grad[0] == -0.25f * 2.5f);
        assert_true(loss[1] == 0.0f && grad[1] == 0.0f);
        assert_true(loss[2] == 0.0f && grad[2] == 0.0f);
        assert_true(isinf(loss[3]) && grad[3] == 0.75f);
    }
}

/* ---- errors and 1.1 callers --------------------------------------------------- */

static void pos_weight_errors(void **state)
{
    (void)state;
    float x[8] = { 0 }, t[8] = { 0 }, loss[8], grad[8];
    int32_t labels[4] = { 0, 1, -1, 2 };
    float pw[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    focal_options o;
    const float bad[] = { -1.0f, -0.0f /* valid */, NAN, INFINITY, -INFINITY };
    const int want[] = { FOCAL_EPOSWEIGHT, FOCAL_OK, FOCAL_EPOSWEIGHT, FOCAL_EPOSWEIGHT,
                         FOCAL_EPOSWEIGHT };
    for (int b = 0; b < 5; b++) {
        focal_options_init(&o);
        pw[1] = bad[b];
        o.pos_weight = pw;
        fill_sentinel(loss, 8);
        fill_sentinel(grad, 8);
        assert_int_equal(focal_sigmoid_dense(x, t, 4, 2, &o, loss, grad), want[b]);
        assert_int_equal(focal_sigmoid_labels(x, labels, 4, 2, &o, loss, grad), want[b]);
        assert_int_equal(focal_quality_focal(x, t, 8, &o, loss, grad), want[b]);
        if (want[b] != FOCAL_OK)
            assert_true(all_sentinel(loss, 8) && all_sentinel(grad, 8)); /* nothing written */
    }
    assert_string_equal(focal_strerror(FOCAL_EPOSWEIGHT),
                        "pos_weight values must be finite and >= 0");
    pw[1] = 1.0f;
    /* pos_weight where the loss has no use for it; flags where none applies */
    focal_options_init(&o);
    o.pos_weight = pw;
    assert_int_equal(focal_softmax_labels(x, labels, 4, 2, &o, loss, grad), FOCAL_EOPTIONS);
    assert_int_equal(focal_varifocal(x, t, 8, &o, loss, grad), FOCAL_EOPTIONS);
    focal_options_init(&o);
    o.flags = FOCAL_FLAG_QUALITY_ALPHA;
    assert_int_equal(focal_sigmoid_dense(x, t, 4, 2, &o, loss, grad), FOCAL_EOPTIONS);
    assert_int_equal(focal_sigmoid_labels(x, labels, 4, 2, &o, loss, grad), FOCAL_EOPTIONS);
    assert_int_equal(focal_softmax_labels(x, labels, 4, 2, &o, loss, grad), FOCAL_EOPTIONS);
    assert_int_equal(focal_varifocal(x, t, 8, &o, loss, grad), FOCAL_EOPTIONS);
    assert_int_equal(focal_quality_focal(x, t, 8, &o, loss, grad), FOCAL_OK);
    o.flags = 2; /* unknown */
    assert_int_equal(focal_quality_focal(x, t, 8, &o, loss, grad), FOCAL_EOPTIONS);
    /* pos_weight overlapping an output */
    focal_options_init(&o);
    o.reduction = FOCAL_REDUCTION_NONE;
    o.pos_weight = grad + 1;
    assert_int_equal(focal_sigmoid_dense(x, t, 4, 2, &o, loss, grad), FOCAL_EOVERLAP);
    assert_int_equal(focal_quality_focal(x, t, 8, &o, loss, grad), FOCAL_EOVERLAP);
    o.pos_weight = loss + 7;
    assert_int_equal(focal_quality_focal(x, t, 8, &o, loss, grad), FOCAL_EOVERLAP);
    /* a size between the 1.1 and the 1.2 struct is no struct of any version */
    focal_options_init(&o);
    o.size = OPTIONS_1_1_SIZE + 4;
    assert_int_equal(focal_sigmoid_dense(x, t, 4, 2, &o, loss, grad), FOCAL_EOPTIONS);
}

static void options_1_1_callers_unchanged(void **state)
{
    (void)state;
    /* focal_options_init@FOCAL_1.1 writes the 1.1 struct and not a byte more. */
    unsigned char buf[sizeof(focal_options) + 16];
    memset(buf, 0xA5, sizeof buf);
    focal_options_init_v11((focal_options *)buf);
    focal_options o11;
    memcpy(&o11, buf, OPTIONS_1_1_SIZE);
    assert_int_equal(o11.size, OPTIONS_1_1_SIZE);
    assert_true(o11.alpha == 0.25f && o11.gamma == 2.0f);
    assert_int_equal(o11.reduction, FOCAL_REDUCTION_MEAN);
    for (size_t i = OPTIONS_1_1_SIZE; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xA5);
    /* The default version writes the whole 1.2 struct. */
    memset(buf, 0xA5, sizeof buf);
    focal_options_init((focal_options *)buf);
    focal_options o12;
    memcpy(&o12, buf, sizeof o12);
    assert_int_equal(o12.size, sizeof(focal_options));
    assert_null(o12.pos_weight);
    assert_int_equal(o12.flags, 0);
    for (size_t i = sizeof(focal_options); i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xA5);

    /* A 1.1 struct followed by bytes that are not its own (here: what would
     * be pos_weight and flags, non-zero) gets the 1.1 results: the library
     * never reads past opt->size. */
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x97);
    enum { ROWS = 9, C = 7, N = ROWS * C };
    float x[N], t[N], l0[N], g0[N], l1[N], g1[N], pw[C];
    fill_logits_mixed(&r, x, N);
    fill_targets_soft(&r, t, N);
    for (int c = 0; c < C; c++) pw[c] = 3.0f;
    focal_options full;
    focal_options_init(&full);
    full.reduction = FOCAL_REDUCTION_NONE;
    full.alpha = 0.4f;
    assert_int_equal(focal_sigmoid_dense(x, t, ROWS, C, &full, l0, g0), FOCAL_OK);
    focal_options old = full;
    old.size = OPTIONS_1_1_SIZE;
    old.pos_weight = pw;
    old.flags = FOCAL_FLAG_QUALITY_ALPHA;
    assert_int_equal(focal_sigmoid_dense(x, t, ROWS, C, &old, l1, g1), FOCAL_OK);
    assert_memory_equal(l0, l1, sizeof l0);
    assert_memory_equal(g0, g1, sizeof g0);
    /* quality: 1.1 ignores alpha, whatever the bytes past the struct say */
    assert_int_equal(focal_quality_focal(x, t, N, &full, l0, g0), FOCAL_OK);
    old.pos_weight = NULL;
    assert_int_equal(focal_quality_focal(x, t, N, &old, l1, g1), FOCAL_OK);
    assert_memory_equal(l0, l1, sizeof l0);
    assert_memory_equal(g0, g1, sizeof g0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pos_weight_errors),
        cmocka_unit_test(options_1_1_callers_unchanged),
        cmocka_unit_test(pos_weight_same_bits_for_1_to_3_threads),
        KERNEL_TESTS(sigmoid_pos_weight_matches_oracle),
        KERNEL_TESTS(quality_yolo_matches_oracle),
        KERNEL_TESTS(pos_weight_finite_differences),
        KERNEL_TESTS(pos_weight_bitwise_vs_scalar),
        KERNEL_TESTS(neutral_values_give_the_1_1_bits),
        KERNEL_TESTS(pos_weight_infinite_limits),
    };
    return run_group("test_pos_weight", tests, sizeof tests / sizeof tests[0], argc, argv);
}
