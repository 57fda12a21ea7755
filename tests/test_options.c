/* SPDX-License-Identifier: MIT */
/*
 * The 1.1 entry points: focal_sigmoid_labels / focal_sigmoid_dense with
 * focal_options (class alpha, row weights, normalizer, label smoothing,
 * ignored and background rows). Checked against the float64 oracle expanded
 * to one-hot targets, against each other, against the 1.0 call, by finite
 * differences, and across kernels bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
#include "oracle.h"
#include "testutil.h"

typedef struct {
    size_t rows, classes;
    float *x, *t, *class_alpha, *weight;
    int32_t *labels;
} problem_t;

/* Labels: ~10% ignored (-1), ~30% background (== classes), the rest a class. */
static void make_problem(problem_t *p, rng_t *r, size_t rows, size_t classes)
{
    p->rows = rows;
    p->classes = classes;
    p->x = falloc(rows * classes + 1);
    p->t = falloc(rows * classes + 1);
    p->class_alpha = falloc(classes + 1);
    p->weight = falloc(rows + 1);
    p->labels = malloc((rows + 1) * sizeof(int32_t));
    assert_non_null(p->labels);
    fill_logits_uniform(r, p->x, rows * classes, -12.0f, 12.0f);
    for (size_t c = 0; c < classes; c++)
        p->class_alpha[c] = rng_float(r, 0.0f, 1.0f);
    for (size_t i = 0; i < rows; i++) {
        const size_t u = rng_below(r, 10);
        p->labels[i] = u == 0 ? -1 : u < 4 ? (int32_t)classes : (int32_t)rng_below(r, classes);
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        for (size_t c = 0; c < classes; c++)
            p->t[i * classes + c] = (int32_t)c == p->labels[i] ? 1.0f : 0.0f;
    }
}

static void free_problem(problem_t *p)
{
    free(p->x);
    free(p->t);
    free(p->class_alpha);
    free(p->weight);
    free(p->labels);
}

/* float64 reference of one labels call: per-element loss and gradient of the
 * reduced loss, and the reduced loss. */
static void reference(const problem_t *p, const focal_options *o, double *loss, double *grad,
                      double *reduced)
{
    const size_t n = p->rows * p->classes;
    long double sum = 0;
    size_t counted = 0;
    for (size_t i = 0; i < p->rows; i++)
        counted += p->labels[i] >= 0;
    double divisor = 1.0;
    if (o->reduction != FOCAL_REDUCTION_NONE && o->normalizer > 0)
        divisor = o->normalizer;
    else if (o->reduction == FOCAL_REDUCTION_MEAN)
        divisor = (double)counted * (double)p->classes;
    for (size_t k = 0; k < n; k++) {
        const size_t i = k / p->classes, c = k % p->classes;
        if (p->labels[i] < 0) {
            loss[k] = grad[k] = 0.0;
            continue;
        }
        /* the smoothed target, rounded to float as the library stores it */
        const double t = (double)fmaf(p->labels[i] == (int32_t)c ? 1.0f : 0.0f,
                                      1.0f - o->label_smoothing, o->label_smoothing * 0.5f);
        const double a = o->class_alpha ? o->class_alpha[c] : o->alpha;
        const double w = o->weight ? o->weight[i] : 1.0;
        const oracle_t e = oracle_eval(p->x[k], t, a, o->gamma);
        loss[k] = w * e.loss;
        grad[k] = w * e.grad / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        sum += loss[k];
    }
    *reduced = (double)(sum / divisor);
}

static void expect_close(double got, double ref, double rel, double abs_tol, const char *what,
                         size_t k)
{
    const double err = fabs(got - ref);
    if (!(err <= rel * fabs(ref) + abs_tol) && !(fabs(ref) < 1e-37 && fabs(got) < 1e-30)) {
        fail_msg("%s[%zu]: got %.9g, float64 %.17g (rel %.3g)", what, k, got, ref,
                 err / fabs(ref));
    }
}

static void labels_match_oracle(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x11);
    const size_t shapes[][2] = { { 1, 1 }, { 7, 3 }, { 33, 17 }, { 64, 80 }, { 300, 91 } };
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        problem_t p;
        make_problem(&p, &r, shapes[sh][0], shapes[sh][1]);
        const size_t n = p.rows * p.classes;
        double *rl = malloc(n * sizeof(double)), *rg = malloc(n * sizeof(double));
        float *loss = falloc(n), *grad = falloc(n);
        /* variants 0..5: the last one (gamma 1) only test_family sweeps */
        for (int variant = 0; variant < 6; variant++) {
            for (int red = 0; red <= 2; red++) {
                focal_options o;
                options_variant(&o, variant, red, p.class_alpha, p.weight);
                double ref_reduced;
                reference(&p, &o, rl, rg, &ref_reduced);
                float reduced;
                assert_int_equal(focal_sigmoid_labels(p.x, p.labels, p.rows, p.classes, &o,
                                                      red == FOCAL_REDUCTION_NONE ? loss : &reduced,
                                                      grad), FOCAL_OK);
                const int soft = o.label_smoothing > 0;
                const double rel = soft ? TOL_SOFT_REL : TOL_HARD_REL;
                const double abs_tol = soft ? TOL_SOFT_ABS : 0.0;
                for (size_t k = 0; k < n; k++) {
                    if (p.labels[k / p.classes] < 0) {
                        /* ignored rows: exactly zero */
                        assert_true(grad[k] == 0.0f);
                        if (red == FOCAL_REDUCTION_NONE) assert_true(loss[k] == 0.0f);
                        continue;
                    }
                    expect_close(grad[k], rg[k], rel, abs_tol, "grad", k);
                    if (red == FOCAL_REDUCTION_NONE)
                        expect_close(loss[k], rl[k], rel, abs_tol, "loss", k);
                }
                if (red != FOCAL_REDUCTION_NONE) {
                    if (isnan(ref_reduced))
                        assert_true(isnan(reduced));
                    else
                        expect_close(reduced, ref_reduced, TOL_REDUCED_REL, 1e-37, "reduced", 0);
                }
            }
        }
        free(rl);
        free(rg);
        free(loss);
        free(grad);
        free_problem(&p);
    }
    printf("[ INFO     ] %s: labels path matches the float64 one-hot oracle\n", kernel);
}

/* Same options, one-hot float targets: the same bits (no ignored rows). */
static void labels_equal_dense_one_hot(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x22);
    problem_t p;
    make_problem(&p, &r, 257, 81);
    for (size_t i = 0; i < p.rows; i++)
        if (p.labels[i] < 0) p.labels[i] = (int32_t)p.classes; /* background instead */
    const size_t n = p.rows * p.classes;
    float *l1 = falloc(n), *g1 = falloc(n), *l2 = falloc(n), *g2 = falloc(n);
    focal_options o;
    focal_options_init(&o);
    o.reduction = FOCAL_REDUCTION_NONE;
    o.class_alpha = p.class_alpha;
    o.weight = p.weight;
    o.label_smoothing = 0.05f;
    o.gamma = 1.5f;
    assert_int_equal(focal_sigmoid_labels(p.x, p.labels, p.rows, p.classes, &o, l1, g1), FOCAL_OK);
    assert_int_equal(focal_sigmoid_dense(p.x, p.t, p.rows, p.classes, &o, l2, g2), FOCAL_OK);
    assert_memory_equal(l1, l2, n * sizeof(float));
    assert_memory_equal(g1, g2, n * sizeof(float));
    free(l1); free(g1); free(l2); free(g2);
    free_problem(&p);
}

/* Dense with default options is the 1.0 call, bit for bit. */
static void dense_defaults_equal_1_0(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x33);
    const size_t rows = 1000, classes = 37, n = rows * classes;
    float *x = falloc(n), *t = falloc(n), *l1 = falloc(n), *g1 = falloc(n), *l2 = falloc(n),
          *g2 = falloc(n);
    fill_logits_mixed(&r, x, n);
    fill_targets_soft(&r, t, n);
    for (int red = 0; red <= 2; red++) {
        focal_options o;
        focal_options_init(&o);
        o.reduction = red;
        assert_int_equal(focal_sigmoid_dense(x, t, rows, classes, &o, l1, g1), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x, t, n, 0.25f, 2.0f, red, l2, g2), FOCAL_OK);
        assert_memory_equal(g1, g2, n * sizeof(float));
        assert_memory_equal(l1, l2, (red ? 1 : n) * sizeof(float));
        assert_int_equal(focal_sigmoid_dense(x, t, rows, classes, NULL, l1, g1), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x, t, n, 0.25f, 2.0f, FOCAL_REDUCTION_MEAN, l2, g2),
                         FOCAL_OK);
        assert_memory_equal(l1, l2, sizeof(float));
    }
    free(x); free(t); free(l1); free(g1); free(l2); free(g2);
}

/* Every kernel against scalar, with row lengths that straddle vectors,
 * chunks and blocks. */
static void labels_bitwise_vs_scalar(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x44);
    const size_t classes_list[] = { 1, 3, 15, 16, 17, 80, 91 };
    for (size_t ci = 0; ci < sizeof classes_list / sizeof classes_list[0]; ci++) {
        problem_t p;
        make_problem(&p, &r, 40000 / classes_list[ci] + 3, classes_list[ci]);
        const size_t n = p.rows * p.classes;
        float *l[2], *g[2], red[2];
        focal_options o;
        focal_options_init(&o);
        o.class_alpha = p.class_alpha;
        o.weight = p.weight;
        o.gamma = ci % 2 ? 2.0f : 0.5f;
        o.label_smoothing = ci % 3 == 0 ? 0.1f : 0.0f;
        /* unchecked weights: NaN and inf must still give the same bits */
        p.weight[1] = NAN;
        p.weight[p.rows - 1] = INFINITY;
        for (int k = 0; k < 2; k++) {
            assert_int_equal(focal_set_isa(k == 0 ? "scalar" : kernel), FOCAL_OK);
            l[k] = falloc(n);
            g[k] = falloc(n);
            o.reduction = FOCAL_REDUCTION_NONE;
            assert_int_equal(focal_sigmoid_labels(p.x, p.labels, p.rows, p.classes, &o, l[k], g[k]),
                             FOCAL_OK);
            o.reduction = FOCAL_REDUCTION_MEAN;
            assert_int_equal(focal_sigmoid_labels(p.x, p.labels, p.rows, p.classes, &o, &red[k],
                                                  NULL), FOCAL_OK);
        }
        assert_memory_equal(l[0], l[1], n * sizeof(float));
        assert_memory_equal(g[0], g[1], n * sizeof(float));
        assert_memory_equal(&red[0], &red[1], sizeof(float));
        for (int k = 0; k < 2; k++) { free(l[k]); free(g[k]); }
        free_problem(&p);
    }
}

/* Central differences of the float64 reference's reduced loss against the
 * library's gradient of the reduced loss (weights and normalizer included). */
static void labels_gradient_finite_differences(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x55);
    problem_t p;
    make_problem(&p, &r, 9, 5);
    fill_logits_uniform(&r, p.x, p.rows * p.classes, -4.0f, 4.0f);
    const size_t n = p.rows * p.classes;
    focal_options o;
    focal_options_init(&o);
    o.class_alpha = p.class_alpha;
    o.weight = p.weight;
    o.gamma = 0.5f;
    o.label_smoothing = 0.2f;
    float loss, *grad = falloc(n);
    assert_int_equal(focal_sigmoid_labels(p.x, p.labels, p.rows, p.classes, &o, &loss, grad), FOCAL_OK);
    size_t counted = 0;
    for (size_t i = 0; i < p.rows; i++)
        counted += p.labels[i] >= 0;
    for (size_t k = 0; k < n; k++) {
        if (p.labels[k / p.classes] < 0) continue;
        const float x0 = p.x[k];
        const double h = 1e-3;
        double sum_up = 0, sum_down = 0;
        for (int s = -1; s <= 1; s += 2) {
            double total = 0;
            for (size_t j = 0; j < n; j++) {
                const size_t i = j / p.classes, c = j % p.classes;
                if (p.labels[i] < 0) continue;
                const double t = (double)fmaf(p.labels[i] == (int32_t)c ? 1.0f : 0.0f, 0.8f, 0.1f);
                const double xj = j == k ? (double)x0 + s * h : (double)p.x[j];
                total += p.weight[i] * oracle_eval(xj, t, p.class_alpha[c], o.gamma).loss;
            }
            if (s < 0) sum_down = total; else sum_up = total;
        }
        const double fd = (sum_up - sum_down) / (2 * h) / (double)(counted * p.classes);
        assert_true(fabs(grad[k] - fd) <= 1e-4 * fabs(fd) + 1e-7);
    }
    free(grad);
    free_problem(&p);
}

static void options_errors(void **state)
{
    (void)state;
    float x[6] = { 0 }, t[6] = { 0 }, loss[6], grad[6];
    int32_t labels[2] = { 0, 3 };
    const float bad_alpha[3] = { 0.5f, 1.5f, 0.1f }, good_alpha[3] = { 0.0f, 1.0f, 0.3f };
    focal_options o;

    focal_options_init(&o);
    assert_int_equal(o.size, sizeof(focal_options));
    assert_true(o.alpha == 0.25f && o.gamma == 2.0f && o.reduction == FOCAL_REDUCTION_MEAN);
    assert_true(o.normalizer == 0.0f && o.label_smoothing == 0.0f);
    assert_null(o.class_alpha);
    assert_null(o.weight);
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, NULL, loss, grad), FOCAL_OK);

    o.size = sizeof(focal_options) - 1;
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EOPTIONS);
    /* a newer, larger struct: fine when its unknown tail is zero */
    struct { focal_options o; uint64_t future; } big;
    memset(&big, 0, sizeof big);
    focal_options_init(&big.o);
    big.o.size = sizeof big;
    assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &big.o, loss, grad), FOCAL_OK);
    big.future = 1;
    assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &big.o, loss, grad), FOCAL_EOPTIONS);

    focal_options_init(&o);
    o.class_alpha = bad_alpha;
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EALPHA);
    focal_options_init(&o);
    o.alpha = 2.0f; /* ignored when class_alpha is given, an error otherwise */
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EALPHA);
    o.class_alpha = good_alpha;
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_OK);

    const float bad_normalizers[] = { -1.0f, NAN, INFINITY };
    for (int i = 0; i < 3; i++) {
        focal_options_init(&o);
        o.normalizer = bad_normalizers[i];
        assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &o, loss, grad), FOCAL_ENORMALIZER);
    }
    const float bad_smoothing[] = { -0.1f, 1.0f, NAN };
    for (int i = 0; i < 3; i++) {
        focal_options_init(&o);
        o.label_smoothing = bad_smoothing[i];
        assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &o, loss, grad), FOCAL_ESMOOTHING);
    }

    /* labels > classes: an error before anything is written */
    focal_options_init(&o);
    o.reduction = FOCAL_REDUCTION_NONE;
    labels[1] = 4;
    fill_sentinel(loss, 6);
    fill_sentinel(grad, 6);
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_ELABEL);
    assert_true(all_sentinel(loss, 6) && all_sentinel(grad, 6));
    labels[1] = 3;

    assert_int_equal(focal_sigmoid_labels(x, NULL, 2, 3, &o, loss, grad), FOCAL_ENULL);
    assert_int_equal(focal_sigmoid_labels(NULL, labels, 2, 3, &o, loss, grad), FOCAL_ENULL);
    assert_int_equal(focal_sigmoid_dense(x, NULL, 2, 3, &o, loss, grad), FOCAL_ENULL);
    assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &o, NULL, NULL), FOCAL_ENOOUTPUT);
    assert_int_equal(focal_sigmoid_dense(x, t, SIZE_MAX / 2, 3, &o, loss, grad), FOCAL_ESIZE);
    assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &o, loss, x + 1), FOCAL_EOVERLAP);
    o.weight = grad + 4; /* an output may not overwrite the weights or class alpha */
    assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &o, loss, grad), FOCAL_EOVERLAP);
    o.weight = NULL;
    o.class_alpha = loss + 1;
    assert_int_equal(focal_sigmoid_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EOVERLAP);
    o.class_alpha = NULL;
    t[4] = 1.5f;
    assert_int_equal(focal_sigmoid_dense(x, t, 2, 3, &o, loss, grad), FOCAL_ETARGET);
    t[4] = 0.0f;

    /* MEAN over nothing counted is NaN (every row ignored), unless normalized */
    int32_t ignored[2] = { -1, -1 };
    focal_options_init(&o);
    assert_int_equal(focal_sigmoid_labels(x, ignored, 2, 3, &o, loss, grad), FOCAL_OK);
    assert_true(isnan(loss[0]));
    for (int i = 0; i < 6; i++) assert_true(grad[i] == 0.0f);
    o.normalizer = 4.0f;
    assert_int_equal(focal_sigmoid_labels(x, ignored, 2, 3, &o, loss, grad), FOCAL_OK);
    assert_true(loss[0] == 0.0f);
    for (int i = FOCAL_EOPTIONS; i >= FOCAL_ELABEL; i--)
        assert_string_not_equal(focal_strerror(i), focal_strerror(12345));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_errors),
        KERNEL_TESTS(labels_match_oracle),
        KERNEL_TESTS(labels_equal_dense_one_hot),
        KERNEL_TESTS(dense_defaults_equal_1_0),
        KERNEL_TESTS(labels_bitwise_vs_scalar),
        KERNEL_TESTS(labels_gradient_finite_differences),
    };
    return run_group("test_options", tests, sizeof tests / sizeof tests[0], argc, argv);
}
