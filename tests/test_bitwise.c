/* SPDX-License-Identifier: MIT */
/*
 * test_bitwise: every kernel returns the scalar kernel's bits
 * (docs/DESIGN.md §4.2) for per-element loss, gradient and reduced loss,
 * for every n and misalignment, every call variant, and for extreme and
 * non-finite logits (NaN results are compared bit for bit too, sign and
 * payload included).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "kernels.h"
#include "testutil.h"

static const int reductions[] = {FOCAL_REDUCTION_NONE, FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN};
#define NREDUCTIONS 3
static const float gammas[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 5.0f};
#define NGAMMAS 8
static const float alphas[] = {0.25f, -1.0f, 0.75f, 1.0f, 0.0f};
#define NALPHAS 5

enum { V_FULL, V_FORWARD, V_GRAD_ONLY, V_IN_PLACE, V_COUNT };
static const char *const variant_names[V_COUNT] = {"full", "forward-only", "grad-only",
                                                   "in-place"};

/* Kinds of logits. */
enum { DATA_RANDOM, DATA_EXTREME_FINITE, DATA_NONFINITE };
static const char *const data_names[] = {"random", "extreme finite", "with inf/NaN"};

static const float extreme_finite[] = {
    0.0f,   -0.0f,   1e-30f,  -1e-30f, FLT_TRUE_MIN, -FLT_TRUE_MIN, 16.5f,   -16.5f,
    40.0f,  -40.0f,  87.5f,   -87.5f,  88.72f,       -88.72f,       100.0f,  -100.0f,
    103.97f, -103.97f, 1e4f,  -1e4f,   FLT_MAX,      -FLT_MAX};
#define NEXTREME (sizeof extreme_finite / sizeof extreme_finite[0])

static void fill_logits(rng_t *rng, float *x, size_t n, int kind)
{
    fill_logits_mixed(rng, x, n);
    if (kind == DATA_RANDOM)
        return;
    for (size_t i = 0; i < n; i++) {
        uint64_t u = rng_next(rng);
        if (u & 1)
            continue; /* half stay ordinary */
        size_t k = (size_t)(u >> 8) % (NEXTREME + (kind == DATA_NONFINITE ? 4 : 0));
        if (k < NEXTREME)
            x[i] = extreme_finite[k];
        else
            x[i] = (const float[]){INFINITY, -INFINITY, NAN, -NAN}[k - NEXTREME];
    }
}

typedef struct {
    const char *kernel;
    size_t mismatches; /* configurations with any differing bits              */
    size_t nan_only;   /* ... of which every difference is between two NaNs   */
    size_t compared;
} cmp_ctx_t;

/* Buffers shared by one configuration: inputs, the kernel's and the scalar
 * kernel's outputs, and a work copy of the logits for the in-place variant. */
typedef struct {
    fbuf_t x, t, loss, grad, work;
    float *ref_loss, *ref_grad;
    size_t cap;
} bufs_t;

static void bufs_alloc(bufs_t *b, size_t n, size_t mis)
{
    fbuf_alloc(&b->x, n, mis);
    fbuf_alloc(&b->t, n, (mis + 1) % 4);
    fbuf_alloc(&b->loss, n > 0 ? n : 1, (mis + 2) % 4);
    fbuf_alloc(&b->grad, n, (mis + 3) % 4);
    fbuf_alloc(&b->work, n, mis);
    b->ref_loss = falloc(n + 1);
    b->ref_grad = falloc(n + 1);
    b->cap = n;
}

static void bufs_free(bufs_t *b)
{
    fbuf_free(&b->x);
    fbuf_free(&b->t);
    fbuf_free(&b->loss);
    fbuf_free(&b->grad);
    fbuf_free(&b->work);
    free(b->ref_loss);
    free(b->ref_grad);
}

/* One call of the given variant; outputs into loss/grad (grad is the work
 * copy of the logits for the in-place variant). */
static void call_variant(bufs_t *b, size_t n, float alpha, float gamma, int red, int v,
                         float *loss, float *grad)
{
    const float *x = b->x.data;
    if (v == V_IN_PLACE) {
        memcpy(b->work.data, b->x.data, n * sizeof(float));
        x = grad = b->work.data;
    }
    if (v == V_FORWARD)
        grad = NULL;
    if (v == V_GRAD_ONLY)
        loss = NULL;
    int rc = focal_sigmoid_loss_grad(x, b->t.data, n, alpha, gamma, red, loss, grad);
    if (rc != FOCAL_OK)
        fail_msg("n=%zu alpha=%g gamma=%g reduction=%d %s: returned %d (%s)", n, alpha, gamma, red,
                 variant_names[v], rc, focal_strerror(rc));
}

static void report(cmp_ctx_t *c, const char *what, size_t i, const bufs_t *b, size_t n,
                   float alpha, float gamma, int red, int v, int kind, float got, float want)
{
    if (c->mismatches > 10)
        return;
    print_message("  MISMATCH %s[%zu] kernel %s vs scalar: n=%zu misalign=%zu %s logits, %s, "
                  "alpha=%g gamma=%g reduction=%d: x=%a t=%a: %a (0x%08x) vs scalar %a (0x%08x)\n",
                  what, i, c->kernel, n, (size_t)(b->x.data - b->x.base) - FBUF_GUARD,
                  data_names[kind], variant_names[v], alpha, gamma, red,
                  i < n ? b->x.data[i] : 0.0f, i < n ? b->t.data[i] : 0.0f, got, fbits(got), want,
                  fbits(want));
}

/* Compare m floats bit for bit. Returns 0 when identical, 1 when only NaN
 * sign/payload bits differ, 2 when a value differs; *first is the first
 * differing index of the worst kind. */
static int compare_bits(const float *got, const float *want, size_t m, size_t *first)
{
    if (memcmp(got, want, m * sizeof(float)) == 0)
        return 0;
    int worst = 0;
    for (size_t i = 0; i < m; i++) {
        if (fbits(got[i]) == fbits(want[i]))
            continue;
        int kind = isnan(got[i]) && isnan(want[i]) ? 1 : 2;
        if (kind > worst) {
            worst = kind;
            *first = i;
        }
    }
    return worst;
}

/* Run every variant and reduction on the kernel and on scalar; compare bits. */
static void compare_config(cmp_ctx_t *c, bufs_t *b, size_t n, float alpha, float gamma, int kind,
                           unsigned variant_mask)
{
    for (int r = 0; r < NREDUCTIONS; r++) {
        int red = reductions[r];
        size_t ln = red == FOCAL_REDUCTION_NONE ? n : 1;
        for (int v = 0; v < V_COUNT; v++) {
            if (!(variant_mask & (1u << v)))
                continue;
            bool has_loss = v != V_GRAD_ONLY, has_grad = v != V_FORWARD;
            float *grad_out = v == V_IN_PLACE ? b->work.data : b->grad.data;

            assert_int_equal(focal_set_isa("scalar"), FOCAL_OK);
            call_variant(b, n, alpha, gamma, red, v, b->ref_loss, b->ref_grad);
            if (v == V_IN_PLACE)
                memcpy(b->ref_grad, b->work.data, n * sizeof(float));

            assert_int_equal(focal_set_isa(c->kernel), FOCAL_OK);
            call_variant(b, n, alpha, gamma, red, v, b->loss.data, b->grad.data);

            int diff = 0, d;
            size_t i = 0;
            if (has_loss && (d = compare_bits(b->loss.data, b->ref_loss, ln, &i)) != 0) {
                diff = d;
                if (c->mismatches < 10)
                    report(c, red == FOCAL_REDUCTION_NONE ? "loss" : "reduced loss",
                           red == FOCAL_REDUCTION_NONE ? i : n, b, n, alpha, gamma, red, v, kind,
                           b->loss.data[i], b->ref_loss[i]);
            }
            if (has_grad && (d = compare_bits(grad_out, b->ref_grad, n, &i)) != 0) {
                diff = d > diff ? d : diff;
                if (c->mismatches < 10)
                    report(c, "grad", i, b, n, alpha, gamma, red, v, kind, grad_out[i],
                           b->ref_grad[i]);
            }
            if (diff != 0) {
                c->mismatches++;
                c->nan_only += diff == 1;
            }
            c->compared++;
        }
    }
    if (!fbuf_guards_intact(&b->loss) || !fbuf_guards_intact(&b->grad) ||
        !fbuf_guards_intact(&b->work))
        fail_msg("n=%zu: write outside the output buffers", n);
}

static void finish(cmp_ctx_t *c, const char *label, double seconds)
{
    print_message("  kernel %s, %s: %zu configurations compared with scalar, %zu mismatching "
                  "(%zu of them only in the sign/payload bits of NaN results), %.2f s\n",
                  c->kernel, label, c->compared, c->mismatches, c->nan_only, seconds);
    if (c->mismatches)
        fail_msg("kernel %s differs from scalar in %zu configurations, %zu with different "
                 "values, %zu only in NaN bits (first ones above)",
                 c->kernel, c->mismatches, c->mismatches - c->nan_only, c->nan_only);
}

#define ALL_VARIANTS ((1u << V_COUNT) - 1)

/* n = 0..300, misalignment 0..3, hard and soft targets, eight gammas. */
static void test_bitwise_small_n(void **state)
{
    cmp_ctx_t c = {kernel_enter(state), 0, 0, 0};
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0xb17b);
    double t0 = now_seconds();
    for (size_t n = 0; n <= 300; n++) {
        for (size_t mis = 0; mis < 4; mis++) {
            bufs_t b;
            bufs_alloc(&b, n, mis);
            for (int soft = 0; soft < 2; soft++) {
                fill_logits(&rng, b.x.data, n, DATA_RANDOM);
                if (soft)
                    fill_targets_soft(&rng, b.t.data, n);
                else
                    fill_targets_hard(&rng, b.t.data, n);
                for (int g = 0; g < NGAMMAS; g++) {
                    float alpha = alphas[(n + mis + (size_t)g) % NALPHAS];
                    /* all variants on a rotating subset, full calls always */
                    unsigned mask = (n + mis + (size_t)g) % 4 == 0 ? ALL_VARIANTS : 1u << V_FULL;
                    compare_config(&c, &b, n, alpha, gammas[g], DATA_RANDOM, mask);
                }
            }
            bufs_free(&b);
        }
    }
    finish(&c, "n = 0..300", now_seconds() - t0);
}

/* Extreme finite and non-finite logits (n = 0..300). */
static void test_bitwise_extremes(void **state)
{
    cmp_ctx_t c = {kernel_enter(state), 0, 0, 0};
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0xe87e);
    double t0 = now_seconds();
    const float eg[] = {0.0f, 0.5f, 2.0f, 5.0f};
    for (size_t n = 0; n <= 300; n++) {
        size_t mis = n % 4;
        bufs_t b;
        bufs_alloc(&b, n, mis);
        for (int kind = DATA_EXTREME_FINITE; kind <= DATA_NONFINITE; kind++) {
            for (int soft = 0; soft < 2; soft++) {
                fill_logits(&rng, b.x.data, n, kind);
                if (soft)
                    fill_targets_soft(&rng, b.t.data, n);
                else
                    fill_targets_hard(&rng, b.t.data, n);
                for (size_t g = 0; g < sizeof eg / sizeof eg[0]; g++) {
                    unsigned mask = (n + g) % 3 == 0 ? ALL_VARIANTS : 1u << V_FULL;
                    compare_config(&c, &b, n, alphas[(n + g) % NALPHAS], eg[g], kind, mask);
                }
            }
        }
        bufs_free(&b);
    }
    finish(&c, "extreme and non-finite logits", now_seconds() - t0);
}

/* Large n: many blocks of the reduction, the long-sum path. */
static void test_bitwise_large_n(void **state)
{
    cmp_ctx_t c = {kernel_enter(state), 0, 0, 0};
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x1a29);
    double t0 = now_seconds();
    const size_t sizes[] = {100003 / test_shrink() + 3, ((size_t)1 << 20) / test_shrink()};
    int k = 0;
    for (size_t si = 0; si < 2; si++) {
        size_t n = sizes[si];
        for (size_t mis = 0; mis < 4; mis += si + 1) { /* 0..3, then 0 and 2 */
            bufs_t b;
            bufs_alloc(&b, n, mis);
            for (int soft = 0; soft < 2; soft++, k++) {
                fill_logits(&rng, b.x.data, n, DATA_RANDOM);
                if (soft)
                    fill_targets_soft(&rng, b.t.data, n);
                else
                    fill_targets_hard(&rng, b.t.data, n);
                unsigned mask = k % 2 ? (1u << V_FULL) : ALL_VARIANTS;
                compare_config(&c, &b, n, alphas[k % NALPHAS], gammas[(k * 3) % NGAMMAS],
                               DATA_RANDOM, mask);
            }
            bufs_free(&b);
        }
    }
    finish(&c, "n = 100003, 2^20", now_seconds() - t0);
}

#ifdef FOCAL_ETHREADS
/* Since 1.1 calls may use worker threads; the header promises the same bits
 * for any thread count (fixed blocks summed in block order). */
static void test_bitwise_threads(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t rng;
    rng_seed(&rng, test_seed() ^ 0x7e4d);
    const size_t n = ((size_t)1 << 20) + 77;
    float *x = falloc(n), *t = falloc(n);
    float *l1 = falloc(n), *g1 = falloc(n), *lk = falloc(n), *gk = falloc(n);
    fill_logits_mixed(&rng, x, n);
    fill_targets_soft(&rng, t, n);
    const int threads[] = {2, 3, 8, 0 /* default */};
    size_t mismatches = 0;
    for (int r = 0; r < NREDUCTIONS; r++) {
        int red = reductions[r];
        size_t ln = red == FOCAL_REDUCTION_NONE ? n : 1;
        assert_int_equal(focal_set_num_threads(1), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x, t, n, 0.25f, 2.0f, red, l1, g1), FOCAL_OK);
        for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
            assert_int_equal(focal_set_num_threads(threads[k]), FOCAL_OK);
            assert_int_equal(focal_sigmoid_loss_grad(x, t, n, 0.25f, 2.0f, red, lk, gk),
                             FOCAL_OK);
            if (memcmp(l1, lk, ln * sizeof(float)) != 0 || memcmp(g1, gk, n * sizeof(float)) != 0) {
                mismatches++;
                print_message("  MISMATCH kernel %s reduction=%d: %d threads (%d in use) differ "
                              "from 1 thread\n", kernel, red, threads[k], focal_num_threads());
            }
        }
    }
    assert_int_equal(focal_set_num_threads(0), FOCAL_OK);
    free(x);
    free(t);
    free(l1);
    free(g1);
    free(lk);
    free(gk);
    if (mismatches)
        fail_msg("results depend on the thread count in %zu cases", mismatches);
}
#endif

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        KERNEL_TESTS(test_bitwise_small_n),
        KERNEL_TESTS(test_bitwise_extremes),
        KERNEL_TESTS(test_bitwise_large_n),
#ifdef FOCAL_ETHREADS
        KERNEL_TESTS(test_bitwise_threads),
#endif
    };
    return run_group("test_bitwise", tests, sizeof tests / sizeof tests[0], argc, argv);
}
