/* SPDX-License-Identifier: MIT */
/*
 * 1.2: BCE's positive weight (focal_options.pos_weight) in the sigmoid
 * labels / dense calls and the quality focal loss, and Ultralytics' alpha
 * factor of the quality loss (FOCAL_FLAG_QUALITY_ALPHA): what is not a
 * property of every entry point. The neutral values (pos_weight all 1, a_t
 * with alpha < 0) give the bits of the calls without them, the infinite
 * limits, the message of FOCAL_EPOSWEIGHT, and the compatibility of 1.1
 * callers (their struct size, their focal_options_init@FOCAL_1.1) and of
 * 1.2 programs (focal_options_init@FOCAL_1.2).
 *
 * The properties run from the descriptors in entry_points.c, where
 * pos_weight and the flag are options of the entry points that take them:
 * the float64 oracle (test_accuracy), finite differences
 * (test_gradient_fd, which also checks the oracles' own gradients), bits
 * of every kernel against scalar and across thread counts (test_bitwise),
 * every argument error (test_errors) and guard pages
 * (hardening/test_guard_pages).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
#include "testutil.h"

/* What programs built against the 1.1 and the 1.2 header call: the FOCAL_1.1
 * and FOCAL_1.2 versions of focal_options_init, bound explicitly. */
void focal_options_init_v11(focal_options *opt);
void focal_options_init_v12(focal_options *opt);
__asm__(".symver focal_options_init_v11, focal_options_init@FOCAL_1.1");
__asm__(".symver focal_options_init_v12, focal_options_init@FOCAL_1.2");

/* The size of the 1.1 struct (its last field is weight). */
#define OPTIONS_1_1_SIZE (offsetof(focal_options, weight) + sizeof(const float *))

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

/* The message, and a size between the 1.1 and the 1.2 struct. The error
 * codes of every entry point are test_errors' generic cases. */
static void pos_weight_errors(void **state)
{
    (void)state;
    float x[8] = { 0 }, t[8] = { 0 }, loss[8], grad[8];
    focal_options o;
    assert_string_equal(focal_strerror(FOCAL_EPOSWEIGHT),
                        "pos_weight values must be finite and >= 0");
    /* a size between the 1.1 and the 1.2 struct is no struct of any version */
    focal_options_init(&o);
    o.size = OPTIONS_1_1_SIZE + 4;
    assert_int_equal(focal_sigmoid_dense(x, t, 4, 2, &o, loss, grad), FOCAL_EOPTIONS);
    assert_int_equal(focal_quality_focal(x, t, 8, &o, loss, grad), FOCAL_EOPTIONS);
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
    /* focal_options_init@FOCAL_1.2 writes the whole 1.2 struct. */
    const size_t align = _Alignof(focal_options); /* the 1.2 struct ends at flags, padded */
    const size_t size_1_2 = (offsetof(focal_options, flags) + sizeof(uint32_t) + align - 1) /
                            align * align;
    memset(buf, 0xA5, sizeof buf);
    focal_options_init_v12((focal_options *)buf);
    focal_options o12;
    memcpy(&o12, buf, sizeof o12);
    assert_int_equal(o12.size, size_1_2);
    assert_null(o12.pos_weight);
    assert_int_equal(o12.flags, 0);
    for (size_t i = size_1_2; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xA5);
    /* The function as the link binds it by name (the default version,
     * FOCAL_1.3) writes the smallest struct, the 1.1 one, since 1.3. */
    memset(buf, 0xA5, sizeof buf);
    (focal_options_init)((focal_options *)buf);
    memcpy(&o11, buf, OPTIONS_1_1_SIZE);
    assert_int_equal(o11.size, OPTIONS_1_1_SIZE);
    for (size_t i = OPTIONS_1_1_SIZE; i < sizeof buf; i++)
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
        KERNEL_TESTS(neutral_values_give_the_1_1_bits),
        KERNEL_TESTS(pos_weight_infinite_limits),
    };
    return run_group("test_pos_weight", tests, sizeof tests / sizeof tests[0], argc, argv);
}
