/* SPDX-License-Identifier: MIT */
/*
 * focal_options and the relations between the sigmoid entry points: the
 * defaults, labels = dense on one-hot targets, dense with default options =
 * the 1.0 call, bit for bit on every kernel. The properties every entry point
 * has (oracle, finite differences, bits, argument errors) run over the
 * descriptors of entry_points.c in test_accuracy, test_gradient_fd,
 * test_bitwise and test_errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
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

/* focal_options_init (the header's macro: focal_options_init_sized with
 * this header's size) writes the documented defaults into the whole struct;
 * NULL options mean the same. (Every argument error of the options is in
 * test_errors.c, for every entry point; the sizes, symbol versions and
 * by-name callers in abi/test_ffi_layouts.c.) */
static void options_defaults(void **state)
{
    (void)state;
    focal_options o;
    memset(&o, 0xa5, sizeof o);
    focal_options_init(&o);
    assert_int_equal(o.size, sizeof(focal_options));
    assert_true(o.alpha == 0.25f && o.gamma == 2.0f && o.reduction == FOCAL_REDUCTION_MEAN);
    assert_true(o.normalizer == 0.0f && o.label_smoothing == 0.0f);
    assert_null(o.class_alpha);
    assert_null(o.weight);
    assert_null(o.pos_weight);
    assert_int_equal(o.flags, 0);
    focal_options_init(NULL); /* FOCAL_ENULL, ignored by the macro */
    assert_int_equal(focal_options_init_sized(NULL, sizeof o), FOCAL_ENULL);
    (focal_options_init)(NULL); /* the function: does nothing, does not crash */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_defaults),
        KERNEL_TESTS(labels_equal_dense_one_hot),
        KERNEL_TESTS(dense_defaults_equal_1_0),
    };
    return run_group("test_options", tests, sizeof tests / sizeof tests[0], argc, argv);
}
