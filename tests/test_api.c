/* SPDX-License-Identifier: MIT */
/*
 * test_api: argument checking, error codes, buffer discipline, the published
 * check value, and the equivalence of the call variants (forward only,
 * gradient only, in place).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
#include "testutil.h"

static const int reductions[] = {FOCAL_REDUCTION_NONE, FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN};
#define NREDUCTIONS 3

static size_t loss_len(int reduction, size_t n)
{
    return reduction == FOCAL_REDUCTION_NONE ? n : 1;
}

/* Small valid inputs used by the argument-error tests. */
#define SMALL_N 16
static float small_x[SMALL_N], small_t[SMALL_N];

static int setup_small_inputs(void **state)
{
    (void)state;
    for (int i = 0; i < SMALL_N; i++) {
        small_x[i] = (float)(i - 8) * 0.37f;
        small_t[i] = (float)(i & 1);
    }
    return 0;
}

/* Call with sentinel-filled outputs and require `expected` and untouched
 * outputs: argument errors other than ETARGET are detected before writing. */
static void expect_untouched_error(int expected, const float *x, const float *t, size_t n,
                                   float alpha, float gamma, int reduction, bool want_loss,
                                   bool want_grad)
{
    float loss[SMALL_N], grad[SMALL_N];
    fill_sentinel(loss, SMALL_N);
    fill_sentinel(grad, SMALL_N);
    int rc = focal_sigmoid_loss_grad(x, t, n, alpha, gamma, reduction, want_loss ? loss : NULL,
                                     want_grad ? grad : NULL);
    if (rc != expected)
        fail_msg("n=%zu alpha=%g gamma=%g reduction=%d loss=%d grad=%d: got %d (%s), want %d (%s)",
                 n, alpha, gamma, reduction, want_loss, want_grad, rc, focal_strerror(rc), expected,
                 focal_strerror(expected));
    assert_true(all_sentinel(loss, SMALL_N));
    assert_true(all_sentinel(grad, SMALL_N));
}

/* ---- version and messages ------------------------------------------------------ */

static void test_version(void **state)
{
    (void)state;
    /* the library matches the header it was built with */
    assert_int_equal(focal_version(), FOCAL_VERSION_NUMBER);
    assert_int_equal(FOCAL_VERSION_NUMBER, ((uint32_t)FOCAL_VERSION_MAJOR << 16) |
                                               ((uint32_t)FOCAL_VERSION_MINOR << 8) |
                                               (uint32_t)FOCAL_VERSION_PATCH);
    assert_int_equal(FOCAL_VERSION_MAJOR, 1); /* the ABI of this suite */
    assert_non_null(focal_version_string());
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", FOCAL_VERSION_MAJOR, FOCAL_VERSION_MINOR,
             FOCAL_VERSION_PATCH);
    assert_string_equal(focal_version_string(), expect);
    print_message("  libfocal %s\n", focal_version_string());
}

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {FOCAL_OK,        FOCAL_ENULL,       FOCAL_ENOOUTPUT,
                         FOCAL_EALPHA,    FOCAL_EGAMMA,      FOCAL_EREDUCTION,
                         FOCAL_EOVERLAP,  FOCAL_ETARGET,     FOCAL_ESIZE,
                         FOCAL_EISA_UNKNOWN, FOCAL_EISA_UNSUPPORTED,
#ifdef FOCAL_ETHREADS /* codes added in 1.1 */
                         FOCAL_ETHREADS, FOCAL_EOPTIONS, FOCAL_ENORMALIZER, FOCAL_ESMOOTHING,
                         FOCAL_ELABEL,
#endif
#ifdef FOCAL_EPOSWEIGHT /* added in 1.2 */
                         FOCAL_EPOSWEIGHT,
#endif
    };
    const size_t ncodes = sizeof codes / sizeof codes[0];
    const char *unknown = focal_strerror(12345);
    assert_non_null(unknown);
    assert_non_null(strstr(unknown, "unknown"));

    for (size_t i = 0; i < ncodes; i++) {
        const char *s = focal_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        print_message("  %3d: %s\n", codes[i], s);
        /* a known code must not fall through to the unknown message */
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, focal_strerror(codes[j]));
    }
    const int others[] = {1, -(int)ncodes /* first unused code */, 12345, -12345, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        const char *s = focal_strerror(others[i]);
        assert_non_null(s);
        assert_non_null(strstr(s, "unknown"));
    }
}

/* ---- argument errors ------------------------------------------------------------- */

static void test_null_inputs(void **state)
{
    (void)state;
    for (int r = 0; r < NREDUCTIONS; r++) {
        for (int outputs = 1; outputs <= 3; outputs++) {
            bool wl = outputs & 1, wg = outputs & 2;
            expect_untouched_error(FOCAL_ENULL, NULL, small_t, 4, 0.25f, 2.0f, reductions[r], wl, wg);
            expect_untouched_error(FOCAL_ENULL, small_x, NULL, 4, 0.25f, 2.0f, reductions[r], wl, wg);
            expect_untouched_error(FOCAL_ENULL, NULL, NULL, 1, 0.25f, 2.0f, reductions[r], wl, wg);
        }
    }
    /* n == 0 reads nothing, so NULL inputs are fine */
    float loss = from_bits(SENTINEL_BITS), grad = from_bits(SENTINEL_BITS);
    assert_int_equal(focal_sigmoid_loss_grad(NULL, NULL, 0, 0.25f, 2.0f, FOCAL_REDUCTION_SUM,
                                             &loss, NULL), FOCAL_OK);
    assert_true(loss == 0.0f);
    assert_int_equal(focal_sigmoid_loss_grad(NULL, NULL, 0, 0.25f, 2.0f, FOCAL_REDUCTION_MEAN,
                                             &loss, &grad), FOCAL_OK);
    assert_true(isnan(loss));
    assert_true(all_sentinel(&grad, 1));
    loss = from_bits(SENTINEL_BITS);
    assert_int_equal(focal_sigmoid_loss_grad(NULL, NULL, 0, 0.25f, 2.0f, FOCAL_REDUCTION_NONE,
                                             &loss, &grad), FOCAL_OK);
    assert_true(all_sentinel(&loss, 1));
    assert_true(all_sentinel(&grad, 1));
    assert_int_equal(focal_sigmoid_loss_grad(NULL, small_t, 0, 0.25f, 2.0f, FOCAL_REDUCTION_NONE,
                                             NULL, &grad), FOCAL_OK);
    assert_true(all_sentinel(&grad, 1));
}

static void test_no_output(void **state)
{
    (void)state;
    for (int r = 0; r < NREDUCTIONS; r++) {
        assert_int_equal(focal_sigmoid_loss_grad(small_x, small_t, SMALL_N, 0.25f, 2.0f,
                                                 reductions[r], NULL, NULL), FOCAL_ENOOUTPUT);
        assert_int_equal(focal_sigmoid_loss_grad(small_x, small_t, 0, 0.25f, 2.0f, reductions[r],
                                                 NULL, NULL), FOCAL_ENOOUTPUT);
        assert_int_equal(focal_sigmoid_loss_grad(NULL, NULL, 0, 0.25f, 2.0f, reductions[r], NULL,
                                                 NULL), FOCAL_ENOOUTPUT);
    }
}

static void test_bad_alpha(void **state)
{
    (void)state;
    const float bad[] = {NAN, -NAN, 1.0001f, 0x1.000002p0f /* next float after 1 */, 2.0f,
                         INFINITY, FLT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int r = 0; r < NREDUCTIONS; r++)
            expect_untouched_error(FOCAL_EALPHA, small_x, small_t, SMALL_N, bad[i], 2.0f,
                                   reductions[r], true, true);

    /* alpha in [0, 1] balances; any alpha < 0 (even -inf) means a_t = 1,
     * so all negative alphas must give identical results */
    const float good[] = {1.0f, 0.0f, -0.0f, 0.25f, 0.75f, -1.0f, -0.5f, -1e30f, -INFINITY,
                          -FLT_TRUE_MIN};
    float ref_loss[SMALL_N], ref_grad[SMALL_N];
    assert_int_equal(focal_sigmoid_loss_grad(small_x, small_t, SMALL_N, -1.0f, 2.0f,
                                             FOCAL_REDUCTION_NONE, ref_loss, ref_grad), FOCAL_OK);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        float loss[SMALL_N], grad[SMALL_N];
        int rc = focal_sigmoid_loss_grad(small_x, small_t, SMALL_N, good[i], 2.0f,
                                         FOCAL_REDUCTION_NONE, loss, grad);
        if (rc != FOCAL_OK)
            fail_msg("alpha=%g: got %d (%s)", good[i], rc, focal_strerror(rc));
        for (int k = 0; k < SMALL_N; k++) {
            assert_true(isfinite(loss[k]) && isfinite(grad[k]));
            if (good[i] < 0) {
                assert_memory_equal(&loss[k], &ref_loss[k], sizeof(float));
                assert_memory_equal(&grad[k], &ref_grad[k], sizeof(float));
            }
        }
    }
}

static void test_bad_gamma(void **state)
{
    (void)state;
    const float bad[] = {-0.1f, -FLT_TRUE_MIN, -1.0f, -INFINITY, INFINITY, NAN, -NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int r = 0; r < NREDUCTIONS; r++)
            expect_untouched_error(FOCAL_EGAMMA, small_x, small_t, SMALL_N, 0.25f, bad[i],
                                   reductions[r], true, true);
    /* -0.0 is not < 0 */
    const float good[] = {0.0f, -0.0f, FLT_TRUE_MIN, 0.5f, 8.0f, 100.0f};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        float loss[SMALL_N], grad[SMALL_N];
        int rc = focal_sigmoid_loss_grad(small_x, small_t, SMALL_N, 0.25f, good[i],
                                         FOCAL_REDUCTION_NONE, loss, grad);
        if (rc != FOCAL_OK)
            fail_msg("gamma=%g: got %d (%s)", good[i], rc, focal_strerror(rc));
        for (int k = 0; k < SMALL_N; k++)
            assert_true(isfinite(loss[k]) && isfinite(grad[k]));
    }
}

static void test_bad_reduction(void **state)
{
    (void)state;
    const int bad[] = {-1, 3, 4, 100, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_untouched_error(FOCAL_EREDUCTION, small_x, small_t, SMALL_N, 0.25f, 2.0f, bad[i],
                               true, true);
        expect_untouched_error(FOCAL_EREDUCTION, small_x, small_t, SMALL_N, 0.25f, 2.0f, bad[i],
                               false, true);
        expect_untouched_error(FOCAL_EREDUCTION, small_x, small_t, SMALL_N, 0.25f, 2.0f, bad[i],
                               true, false);
    }
}

/* n * sizeof(float) overflowing size_t must be rejected before any pointer
 * arithmetic or memory access: the buffers are only a few floats long. */
static void test_size_overflow(void **state)
{
    (void)state;
    const size_t bad[] = {SIZE_MAX / 2, SIZE_MAX / sizeof(float) + 1, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int r = 0; r < NREDUCTIONS; r++)
            for (int outputs = 1; outputs <= 3; outputs++)
                expect_untouched_error(FOCAL_ESIZE, small_x, small_t, bad[i], 0.25f, 2.0f,
                                       reductions[r], outputs & 1, outputs & 2);
}

/* ---- overlap ---------------------------------------------------------------------------- */

/* All buffers of the overlap tests live in one arena of values valid both as
 * logits and as targets (in [0, 1]), so a missed overlap would compute and
 * return 0 instead of crashing. The arena must come back unchanged. */
#define ARENA 256
static float arena[ARENA], arena_copy[ARENA];

static void arena_reset(void)
{
    for (int i = 0; i < ARENA; i++)
        arena[i] = (float)((i * 37) % 101) / 100.0f;
    memcpy(arena_copy, arena, sizeof arena);
}

/* One call on buffers at arena offsets (loss, grad < 0: NULL) that must return
 * want: FOCAL_EOVERLAP for an overlap case, FOCAL_OK for a disjoint one. Both
 * kinds share it so that they always make the same call and report alike. */
static void expect_arena_call(int line, int want, size_t xo, size_t to, size_t n, int reduction,
                              long lo, long go)
{
    const int overlap = want == FOCAL_EOVERLAP;
    arena_reset();
    float *loss = lo < 0 ? NULL : arena + lo;
    float *grad = go < 0 ? NULL : arena + go;
    int rc = focal_sigmoid_loss_grad(arena + xo, arena + to, n, 0.25f, 2.0f, reduction, loss,
                                     grad);
    if (rc != want)
        fail_msg("%s case at line %d (x=%zu t=%zu n=%zu red=%d loss=%ld grad=%ld): got %d "
                 "(%s), want %s",
                 overlap ? "overlap" : "disjoint", line, xo, to, n, reduction, lo, go, rc,
                 focal_strerror(rc), overlap ? "FOCAL_EOVERLAP" : "FOCAL_OK");
    /* Only a rejected call must leave the arena alone: a disjoint one writes
     * its outputs there. */
    if (overlap && memcmp(arena, arena_copy, sizeof arena) != 0)
        fail_msg("overlap case at line %d wrote memory before failing", line);
}

#define OVERLAP(...) expect_arena_call(__LINE__, FOCAL_EOVERLAP, __VA_ARGS__)
#define DISJOINT(...) expect_arena_call(__LINE__, FOCAL_OK, __VA_ARGS__)

static void test_overlap(void **state)
{
    (void)state;
    const int NONE = FOCAL_REDUCTION_NONE, SUM = FOCAL_REDUCTION_SUM, MEAN = FOCAL_REDUCTION_MEAN;
    const size_t n = 16;
    /* layout: logits at 0, targets at 64, free space from 128 */
    /*        x   t  n  red   loss  grad */
    OVERLAP(0, 64, n, NONE, 128, 64);      /* grad == targets                  */
    OVERLAP(0, 64, n, NONE, 128, 64 + 3);  /* grad partially over targets      */
    OVERLAP(0, 64, n, NONE, 128, 64 - 15); /* grad ends on targets[0]          */
    OVERLAP(0, 64, n, NONE, -1, 1);        /* grad = logits + 1                */
    OVERLAP(16, 64, n, NONE, -1, 15);      /* grad = logits - 1                */
    OVERLAP(0, 64, n, NONE, 0, 128);       /* loss == logits                   */
    OVERLAP(0, 64, n, NONE, 64, 128);      /* loss == targets                  */
    OVERLAP(0, 64, n, NONE, 64 + 5, 128);  /* loss partially over targets      */
    OVERLAP(0, 64, n, NONE, 64 + 5, -1);   /* same, forward only               */
    OVERLAP(0, 64, n, SUM, 15, 128);       /* 1-float loss on the last logit   */
    OVERLAP(0, 64, n, MEAN, 64, -1);       /* 1-float loss on targets[0]       */
    OVERLAP(0, 64, n, NONE, 128, 128);     /* loss == grad                     */
    OVERLAP(0, 64, n, NONE, 129, 128);     /* loss partially over grad         */
    OVERLAP(0, 64, n, SUM, 128 + 7, 128);  /* 1-float loss inside grad         */
    OVERLAP(0, 64, n, MEAN, 128 + 15, 128);/* 1-float loss on grad's last      */
    OVERLAP(0, 64, n, SUM, 3, 0);          /* in place, loss inside logits/grad */
    OVERLAP(0, 64, n, NONE, 0, 0);         /* loss == grad == logits           */

    /* Touching but disjoint buffers, and grad == logits exactly, are fine. */
    DISJOINT(0, 16, n, NONE, 32, 48);      /* back to back                     */
    DISJOINT(16, 32, n, NONE, 48, 0);      /* grad just before logits          */
    DISJOINT(0, 64, n, SUM, 16, -1);       /* 1-float loss right after logits  */
    DISJOINT(1, 64, n, SUM, 0, -1);        /* 1-float loss right before logits */
    DISJOINT(0, 64, n, MEAN, 63, 128);     /* 1-float loss right before targets*/
    DISJOINT(0, 64, n, NONE, 128, 0);      /* in place                         */
    DISJOINT(0, 64, n, SUM, 16, 0);        /* in place, loss after logits      */
    DISJOINT(0, 0, n, NONE, 128, 144);     /* logits == targets: inputs may alias */
    DISJOINT(0, 4, n, SUM, 128, 144);      /* inputs partially alias           */
}

/* ---- per-kernel tests -------------------------------------------------------------------- */

/* Output variants of a call. */
enum { V_FULL, V_FORWARD, V_GRAD_ONLY, V_IN_PLACE, V_COUNT };
static const char *const variant_names[V_COUNT] = {"full", "forward-only", "grad-only",
                                                   "in-place"};

/* Targets outside [0, 1] or NaN are found inside the pass, at any position,
 * including the last element of a vector tail, whatever the outputs wanted. */
static void test_bad_targets(void **state)
{
    kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x7a7a);
    const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257};
    const float bad[] = {-0.01f, 1.01f, NAN, -NAN, INFINITY, -INFINITY, 0x1.000002p0f,
                         -FLT_TRUE_MIN, -FLT_MAX};
    const float edge_ok[] = {0.0f, -0.0f, 1.0f, FLT_TRUE_MIN, FLT_MIN, 0x1.fffffep-1f};
    size_t cases = 0;

    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        size_t positions[3] = {0, n / 2, n - 1};
        fbuf_t x, t, loss, grad;
        fbuf_alloc(&x, n, n % 4);
        fbuf_alloc(&t, n, (n + 1) % 4);
        fbuf_alloc(&loss, n, (n + 2) % 4);
        fbuf_alloc(&grad, n, (n + 3) % 4);
        float *x_copy = falloc(n);

        for (int pi = 0; pi < 3; pi++) {
            size_t pos = positions[pi];
            if (pi > 0 && pos == positions[pi - 1])
                continue;
            for (size_t bi = 0; bi < sizeof bad / sizeof bad[0]; bi++) {
                for (int r = 0; r < NREDUCTIONS; r++) {
                    for (int v = 0; v < V_COUNT; v++) {
                        fill_logits_uniform(&rng, x.data, n, -5.0f, 5.0f);
                        fill_targets_hard(&rng, t.data, n);
                        t.data[pos] = bad[bi];
                        if (bi % 2 == 1)
                            x.data[pos] = NAN; /* a NaN logit must not hide the bad target */
                        memcpy(x_copy, x.data, n * sizeof(float));
                        float *lp = v == V_GRAD_ONLY ? NULL : loss.data;
                        float *gp = v == V_FORWARD ? NULL : v == V_IN_PLACE ? x.data : grad.data;
                        int rc = focal_sigmoid_loss_grad(x.data, t.data, n, 0.25f, 2.0f,
                                                         reductions[r], lp, gp);
                        if (rc != FOCAL_ETARGET)
                            fail_msg("n=%zu target[%zu]=%g reduction=%d %s: got %d (%s), want "
                                     "FOCAL_ETARGET",
                                     n, pos, bad[bi], reductions[r], variant_names[v], rc,
                                     focal_strerror(rc));
                        assert_true(fbuf_guards_intact(&x));
                        assert_true(fbuf_guards_intact(&t));
                        assert_true(fbuf_guards_intact(&loss));
                        assert_true(fbuf_guards_intact(&grad));
                        assert_true(fbits(t.data[pos]) == fbits(bad[bi]));
                        if (v != V_IN_PLACE)
                            assert_memory_equal(x.data, x_copy, n * sizeof(float));
                        cases++;
                    }
                }
            }
            /* the boundary values of [0, 1] are valid targets */
            for (size_t ei = 0; ei < sizeof edge_ok / sizeof edge_ok[0]; ei++) {
                fill_logits_uniform(&rng, x.data, n, -5.0f, 5.0f);
                fill_targets_hard(&rng, t.data, n);
                t.data[pos] = edge_ok[ei];
                int rc = focal_sigmoid_loss_grad(x.data, t.data, n, 0.25f, 2.0f,
                                                 FOCAL_REDUCTION_NONE, loss.data, grad.data);
                if (rc != FOCAL_OK)
                    fail_msg("n=%zu target[%zu]=%a: got %d (%s), want FOCAL_OK", n, pos,
                             edge_ok[ei], rc, focal_strerror(rc));
                for (size_t i = 0; i < n; i++)
                    assert_true(isfinite(loss.data[i]) && isfinite(grad.data[i]));
            }
        }
        free(x_copy);
        fbuf_free(&x);
        fbuf_free(&t);
        fbuf_free(&loss);
        fbuf_free(&grad);
    }
    print_message("  %zu bad-target calls\n", cases);
}

/* Guard floats around every buffer survive successful calls, every output
 * element is written, and inputs are not modified (except in place). */
static void test_canaries(void **state)
{
    kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0xca7a);
    const size_t sizes[] = {0, 1, 2, 3, 5, 8, 15, 16, 17, 31, 33, 64, 100, 1000, 4099};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (size_t off = 0; off < 4; off++) {
            fbuf_t x, t, loss, grad;
            fbuf_alloc(&x, n, off);
            fbuf_alloc(&t, n, (off + 1) % 4);
            fbuf_alloc(&loss, n > 0 ? n : 1, (off + 3) % 4); /* SUM/MEAN write 1 float */
            fbuf_alloc(&grad, n, (off + 2) % 4);
            float *x_copy = falloc(n + 1), *t_copy = falloc(n + 1);
            for (int r = 0; r < NREDUCTIONS; r++) {
                for (int v = 0; v < V_COUNT; v++) {
                    fill_logits_mixed(&rng, x.data, n);
                    if ((off + v) % 2)
                        fill_targets_soft(&rng, t.data, n);
                    else
                        fill_targets_hard(&rng, t.data, n);
                    memcpy(x_copy, x.data, n * sizeof(float));
                    memcpy(t_copy, t.data, n * sizeof(float));
                    fill_sentinel(loss.data, loss.n);
                    fill_sentinel(grad.data, n);
                    float *lp = v == V_GRAD_ONLY ? NULL : loss.data;
                    float *gp = v == V_FORWARD ? NULL : v == V_IN_PLACE ? x.data : grad.data;
                    int rc = focal_sigmoid_loss_grad(x.data, t.data, n, 0.25f, 1.5f,
                                                     reductions[r], lp, gp);
                    assert_int_equal(rc, FOCAL_OK);
                    assert_true(fbuf_guards_intact(&x));
                    assert_true(fbuf_guards_intact(&t));
                    assert_true(fbuf_guards_intact(&loss));
                    assert_true(fbuf_guards_intact(&grad));
                    assert_memory_equal(t.data, t_copy, n * sizeof(float));
                    if (v != V_IN_PLACE)
                        assert_memory_equal(x.data, x_copy, n * sizeof(float));
                    /* every output element written; nothing written past a
                     * reduced loss; grad untouched when not requested */
                    size_t ln = loss_len(reductions[r], n);
                    if (lp != NULL) {
                        for (size_t i = 0; i < ln; i++)
                            if (all_sentinel(&loss.data[i], 1))
                                fail_msg("n=%zu %s reduction=%d: loss[%zu] not written", n,
                                         variant_names[v], reductions[r], i);
                        assert_true(all_sentinel(loss.data + ln, loss.n - ln));
                    } else {
                        assert_true(all_sentinel(loss.data, loss.n));
                    }
                    if (v == V_FULL || v == V_GRAD_ONLY) {
                        for (size_t i = 0; i < n; i++)
                            if (all_sentinel(&grad.data[i], 1))
                                fail_msg("n=%zu grad[%zu] not written", n, i);
                    } else {
                        assert_true(all_sentinel(grad.data, n));
                    }
                }
            }
            free(x_copy);
            free(t_copy);
            fbuf_free(&x);
            fbuf_free(&t);
            fbuf_free(&loss);
            fbuf_free(&grad);
        }
    }
}

static void test_empty(void **state)
{
    kernel_enter(state);
    float x[1] = {1.0f}, t[1] = {1.0f};
    float loss[2], grad[2];
    for (int with_inputs = 0; with_inputs < 2; with_inputs++) {
        const float *xp = with_inputs ? x : NULL, *tp = with_inputs ? t : NULL;
        fill_sentinel(loss, 2);
        fill_sentinel(grad, 2);
        assert_int_equal(focal_sigmoid_loss_grad(xp, tp, 0, 0.25f, 2.0f, FOCAL_REDUCTION_SUM,
                                                 loss, grad), FOCAL_OK);
        assert_true(loss[0] == 0.0f);
        assert_true(all_sentinel(loss + 1, 1));
        assert_true(all_sentinel(grad, 2));

        fill_sentinel(loss, 2);
        assert_int_equal(focal_sigmoid_loss_grad(xp, tp, 0, 0.25f, 2.0f, FOCAL_REDUCTION_MEAN,
                                                 loss, grad), FOCAL_OK);
        assert_true(isnan(loss[0]));
        assert_true(all_sentinel(loss + 1, 1));
        assert_true(all_sentinel(grad, 2));

        fill_sentinel(loss, 2);
        assert_int_equal(focal_sigmoid_loss_grad(xp, tp, 0, 0.25f, 2.0f, FOCAL_REDUCTION_NONE,
                                                 loss, grad), FOCAL_OK);
        assert_true(all_sentinel(loss, 2));
        assert_true(all_sentinel(grad, 2));

        assert_int_equal(focal_sigmoid_loss_grad(xp, tp, 0, 0.25f, 2.0f, FOCAL_REDUCTION_SUM,
                                                 NULL, grad), FOCAL_OK);
        assert_true(all_sentinel(grad, 2));
    }
}

/* The check value of docs/DESIGN.md §2.1 (mmcv's unit test), float64 values. */
static const double mmcv_sum = 0.27125922146421316;
static const double mmcv_grad[4] = {-0.01314528, 0.2237151, 0.2237151, -0.01314528};

static void assert_rel(double got, double want, double tol, const char *what, int i, size_t off)
{
    if (!(fabs(got - want) <= tol * fabs(want)))
        fail_msg("mmcv check (offset %zu): %s[%d] = %.9g, want %.9g (rel err %.3e > %.0e)", off,
                 what, i, got, want, fabs(got - want) / fabs(want), tol);
}

static void test_mmcv_check(void **state)
{
    kernel_enter(state);
    for (size_t off = 0; off < 4; off++) {
        fbuf_t x, t, loss, grad;
        fbuf_alloc(&x, 4, off);
        fbuf_alloc(&t, 4, (4 - off) % 4);
        fbuf_alloc(&loss, 4, (off + 1) % 4);
        fbuf_alloc(&grad, 4, (off + 2) % 4);
        const float v[4] = {1.0f, 0.0f, 0.0f, 1.0f};
        memcpy(x.data, v, sizeof v);
        memcpy(t.data, v, sizeof v);

        for (int r = 0; r < NREDUCTIONS; r++) {
            int red = reductions[r];
            double scale = red == FOCAL_REDUCTION_MEAN ? 0.25 : 1.0;
            assert_int_equal(focal_sigmoid_loss_grad(x.data, t.data, 4, 0.25f, 2.0f, red,
                                                     loss.data, grad.data), FOCAL_OK);
            if (red == FOCAL_REDUCTION_NONE) {
                double s = (double)loss.data[0] + loss.data[1] + loss.data[2] + loss.data[3];
                assert_rel(s, mmcv_sum, 1e-6, "sum of per-element loss", 0, off);
                assert_true(loss.data[0] == loss.data[3] && loss.data[1] == loss.data[2]);
            } else {
                assert_rel(loss.data[0], mmcv_sum * scale, 1e-6,
                           red == FOCAL_REDUCTION_SUM ? "sum" : "mean", 0, off);
            }
            for (int i = 0; i < 4; i++)
                assert_rel(grad.data[i], mmcv_grad[i] * scale, 1e-6, "grad", i, off);
            assert_true(fbuf_guards_intact(&loss) && fbuf_guards_intact(&grad));
        }
        fbuf_free(&x);
        fbuf_free(&t);
        fbuf_free(&loss);
        fbuf_free(&grad);
    }
}

/* Full call, forward only, gradient only and in place must agree bit for bit:
 * asking for less output must not change what is computed. */
static void test_call_variants_agree(void **state)
{
    kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x5a5a);
    const size_t sizes[] = {1, 3, 7, 16, 17, 33, 100, 1000, 4103};
    const float gammas[] = {0.0f, 0.5f, 1.0f, 2.0f, 3.7f};
    const float alphas[] = {0.25f, -1.0f, 1.0f};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        float *x = falloc(n), *t = falloc(n), *xi = falloc(n);
        float *l_full = falloc(n), *g_full = falloc(n), *l_part = falloc(n),
              *g_part = falloc(n);
        for (int soft = 0; soft < 2; soft++) {
            fill_logits_mixed(&rng, x, n);
            if (soft)
                fill_targets_soft(&rng, t, n);
            else
                fill_targets_hard(&rng, t, n);
            for (size_t gi = 0; gi < sizeof gammas / sizeof gammas[0]; gi++) {
                float alpha = alphas[(si + gi) % 3], gamma = gammas[gi];
                for (int r = 0; r < NREDUCTIONS; r++) {
                    int red = reductions[r];
                    size_t ln = loss_len(red, n);
                    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, red, l_full,
                                                             g_full), FOCAL_OK);
                    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, red, l_part,
                                                             NULL), FOCAL_OK);
                    if (memcmp(l_full, l_part, ln * sizeof(float)) != 0)
                        fail_msg("n=%zu soft=%d gamma=%g reduction=%d: forward-only loss "
                                 "differs from the full call", n, soft, gamma, red);
                    assert_int_equal(focal_sigmoid_loss_grad(x, t, n, alpha, gamma, red, NULL,
                                                             g_part), FOCAL_OK);
                    if (memcmp(g_full, g_part, n * sizeof(float)) != 0)
                        fail_msg("n=%zu soft=%d gamma=%g reduction=%d: grad-only gradient "
                                 "differs from the full call", n, soft, gamma, red);
                    memcpy(xi, x, n * sizeof(float));
                    assert_int_equal(focal_sigmoid_loss_grad(xi, t, n, alpha, gamma, red, l_part,
                                                             xi), FOCAL_OK);
                    if (memcmp(g_full, xi, n * sizeof(float)) != 0)
                        fail_msg("n=%zu soft=%d gamma=%g reduction=%d: in-place gradient "
                                 "differs from out-of-place", n, soft, gamma, red);
                    if (memcmp(l_full, l_part, ln * sizeof(float)) != 0)
                        fail_msg("n=%zu soft=%d gamma=%g reduction=%d: in-place loss differs",
                                 n, soft, gamma, red);
                    memcpy(xi, x, n * sizeof(float));
                    assert_int_equal(focal_sigmoid_loss_grad(xi, t, n, alpha, gamma, red, NULL,
                                                             xi), FOCAL_OK);
                    if (memcmp(g_full, xi, n * sizeof(float)) != 0)
                        fail_msg("n=%zu soft=%d gamma=%g reduction=%d: in-place grad-only "
                                 "gradient differs", n, soft, gamma, red);
                }
            }
        }
        free(x);
        free(t);
        free(xi);
        free(l_full);
        free(g_full);
        free(l_part);
        free(g_part);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test_setup(test_null_inputs, setup_small_inputs),
        cmocka_unit_test_setup(test_no_output, setup_small_inputs),
        cmocka_unit_test_setup(test_bad_alpha, setup_small_inputs),
        cmocka_unit_test_setup(test_bad_gamma, setup_small_inputs),
        cmocka_unit_test_setup(test_bad_reduction, setup_small_inputs),
        cmocka_unit_test_setup(test_size_overflow, setup_small_inputs),
        cmocka_unit_test(test_overlap),
        KERNEL_TESTS(test_bad_targets),
        KERNEL_TESTS(test_canaries),
        KERNEL_TESTS(test_empty),
        KERNEL_TESTS(test_mmcv_check),
        KERNEL_TESTS(test_call_variants_agree),
    };
    return run_group("test_api", tests, sizeof tests / sizeof tests[0], argc, argv);
}
