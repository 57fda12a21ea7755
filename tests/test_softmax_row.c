/* SPDX-License-Identifier: MIT */
/*
 * test_softmax_row: the per-row scalars of the softmax loss
 * (src/softmax_row.c, docs/DESIGN.md §2.3), built here from the library's
 * source since they are internal to it. log S comes mostly from libm's log1p
 * and must still be exactly SLEEF's float: checked over millions of rows of
 * every scale, together with the precondition that makes it so (libm's
 * double within a few ulps of SLEEF's, far inside the margin the shortcut
 * leaves around float rounding boundaries), and every field of the row
 * scalars against the formulas written out with SLEEF alone.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sleef.h>

#include "focal_internal.h"
#include "testutil.h"

static uint64_t lcg_state = 0x9e3779b97f4a7c15ull;

static uint64_t lcg(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return lcg_state >> 11; /* 53 bits */
}

static double unit(void) { return (double)lcg() * 0x1p-53; }

/* A row's (tops, others) as the kernels produce them: tops a count >= 1,
 * others a float sum, from tiny (one dominating class) to many classes. */
static void random_row(double *tops, double *others)
{
    const uint64_t k = lcg() % 8;
    *tops = 1.0 + (double)(k < 6 ? 0 : k - 5);
    if (k == 0)
        *others = 0.0;
    else if (k < 4)
        *others = (double)(float)ldexp(1.0 + unit(), -(int)(lcg() % 150)); /* 2^-149 .. 2 */
    else
        *others = (double)(float)(unit() * 1100.0); /* up to ~1000 classes */
}

static uint64_t bits_of(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

/* 2M rows natively; FOCAL_TEST_SHRINK divides them under emulation. */
#define ROWS ((unsigned)((1u << 21) / test_shrink()))

static void log1p_float_is_sleefs(void **state)
{
    (void)state;
    unsigned differ = 0; /* rows where libm's double is not SLEEF's */
    uint64_t worst = 0;
    for (unsigned i = 0; i < ROWS; i++) {
        double tops, others;
        random_row(&tops, &others);
        const double rest = (tops - 1.0) + others;
        const double ref = Sleef_log1pd1_u10purec(rest);
        const double lib = log1p(rest);
        /* Both are >= 0: the ulp distance is the distance of the bits. */
        const uint64_t dist = bits_of(ref) > bits_of(lib) ? bits_of(ref) - bits_of(lib)
                                                          : bits_of(lib) - bits_of(ref);
        differ += dist != 0;
        worst = dist > worst ? dist : worst;
        if (fbits(focal_softmax_log1p_float(rest)) != fbits((float)ref)) {
            fprintf(stderr, "rest %a: %a, SLEEF %a\n", rest,
                    (double)focal_softmax_log1p_float(rest), (double)(float)ref);
            fail();
        }
    }
    printf("log1p: libm's double differs from SLEEF's in %u of %u rows, by at most %llu ulps\n",
           differ, ROWS, (unsigned long long)worst);
    /* The shortcut's margin is 2^12 ulps: the precondition holds by far. */
    assert_true(worst <= 16);
}

/* The rows closest to a float rounding boundary: log1p(rest) is there for
 * rest = expm1(m), m a midpoint between two floats. */
static void log1p_float_near_midpoints(void **state)
{
    (void)state;
    for (unsigned i = 0; i < ROWS / 8; i++) {
        const float f = (float)ldexp(1.0 + unit(), -(int)(lcg() % 120)) * (i % 2 ? 1.0f : 7.0f);
        const double mid = ((double)f + (double)nextafterf(f, INFINITY)) / 2.0;
        const double base = Sleef_expm1d1_u10purec(mid);
        for (int k = -2; k <= 2; k++) {
            const double rest = base + k * ldexp(base, -52);
            if (!(rest >= 0.0))
                continue;
            const float want = (float)Sleef_log1pd1_u10purec(rest);
            assert_int_equal(fbits(focal_softmax_log1p_float(rest)), fbits(want));
        }
    }
}

/* Every field of focal_softmax_row_stats as the formulas of §2.3 give it. */
static void row_stats_match_formulas(void **state)
{
    (void)state;
    for (unsigned i = 0; i < ROWS / 4; i++) {
        double tops, others;
        random_row(&tops, &others);
        const double rest = (tops - 1.0) + others, s = tops + others;
        const double log_s = Sleef_log1pd1_u10purec(rest);
        for (int want_log_q = 0; want_log_q < 2; want_log_q++) {
            focal_softmax_row st;
            focal_softmax_row_stats(tops, others, want_log_q, &st);
            float lq = 0.0f, lq_lo = 0.0f;
            if (want_log_q && rest > 0.0) {
                const double log_q = Sleef_logd1_u10purec(rest) - log_s;
                lq = (float)log_q;
                lq_lo = (float)(log_q - (double)lq);
            } else if (want_log_q) {
                lq = -INFINITY;
            }
            assert_int_equal(fbits(st.log_s), fbits((float)log_s));
            assert_int_equal(fbits(st.inv_s), fbits((float)(1.0 / s)));
            assert_int_equal(fbits(st.q_max), fbits((float)(rest / s)));
            assert_int_equal(fbits(st.log_q_max), fbits(lq));
            assert_int_equal(fbits(st.log_q_max_lo), fbits(lq_lo));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log1p_float_is_sleefs),
        cmocka_unit_test(log1p_float_near_midpoints),
        cmocka_unit_test(row_stats_match_formulas),
    };
    return cmocka_run_group_tests_name("test_softmax_row", tests, NULL, NULL);
}
