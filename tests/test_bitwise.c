/* SPDX-License-Identifier: MIT */
/*
 * test_bitwise: every kernel returns the scalar kernel's bits
 * (docs/DESIGN.md §4.2) for per-element loss, gradient and reduced loss,
 * for every n and misalignment, every call variant, and for extreme and
 * non-finite logits (NaN results are compared bit for bit too, sign and
 * payload included), and every thread count returns the bits of one thread.
 *
 * entry_bits and entry_threads run every entry point of entry_points.c
 * (shapes and option sets from its descriptor); the other cases go deep on
 * focal_sigmoid_loss_grad.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "entry_points.h"
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
    const size_t step = test_subset();
    for (size_t n = 0; n <= 300; n += step) {
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
    const size_t step = test_subset();
    for (size_t n = 0; n <= 300; n += step) {
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
        /* 0..3, then 0 and 2; aligned only in a subset run */
        const size_t mis_step = test_subset() > 1 ? 4 : si + 1;
        for (size_t mis = 0; mis < 4; mis += mis_step) {
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


/* ---- every entry point ------------------------------------------------------------------ */

/* A problem copied into guarded buffers at its own misalignments (logits,
 * targets or labels, weight, class alpha, pos_weight), so that every kernel
 * sees unaligned inputs. */
typedef struct {
    ep_problem p;    /* points into the buffers below */
    ep_problem heap; /* as made, freed at the end    */
    fbuf_t x, t, w, ca, pw;
} placed_t;

static void place(placed_t *pl, const focal_test_entry *e, size_t mis)
{
    ep_problem *h = &pl->heap;
    const size_t n = h->rows * h->classes;
    pl->p = *h;
    fbuf_alloc(&pl->x, n, mis % 16);
    memcpy(pl->x.data, h->x, n * sizeof(float));
    pl->p.x = pl->x.data;
    const size_t nt = ep_targets_len(e, h->rows, h->classes);
    fbuf_alloc(&pl->t, nt, (mis + 1) % 16);
    if (h->t) {
        memcpy(pl->t.data, h->t, nt * sizeof(float));
        pl->p.t = pl->t.data;
    }
    fbuf_alloc(&pl->w, h->rows, (mis + 3) % 16);
    memcpy(pl->w.data, h->weight, h->rows * sizeof(float));
    pl->p.weight = pl->w.data;
    fbuf_alloc(&pl->ca, h->classes, (mis + 5) % 16);
    memcpy(pl->ca.data, h->class_alpha, h->classes * sizeof(float));
    pl->p.class_alpha = pl->ca.data;
    const size_t npw = ep_pos_weight_len(e, h->rows, h->classes);
    fbuf_alloc(&pl->pw, npw, (mis + 9) % 16);
    if (h->pos_weight) {
        memcpy(pl->pw.data, h->pos_weight, npw * sizeof(float));
        pl->p.pos_weight = pl->pw.data;
    }
}

static void unplace(placed_t *pl)
{
    assert_true(fbuf_guards_intact(&pl->x) && fbuf_guards_intact(&pl->t) &&
                fbuf_guards_intact(&pl->w) && fbuf_guards_intact(&pl->ca) &&
                fbuf_guards_intact(&pl->pw));
    fbuf_free(&pl->x);
    fbuf_free(&pl->t);
    fbuf_free(&pl->w);
    fbuf_free(&pl->ca);
    fbuf_free(&pl->pw);
    ep_free(&pl->heap);
}

/* Outputs of one kernel: loss, gradient, and a work copy of the logits for
 * the in-place variant. */
typedef struct {
    fbuf_t loss, grad, work;
} outs_t;

/* One call of variant v (V_FULL .. V_IN_PLACE) into o; returns the gradient
 * written (NULL for forward only). */
static const float *entry_call(const focal_test_entry *e, const ep_problem *p,
                               const focal_options *opt, int v, outs_t *o)
{
    const size_t n = p->rows * p->classes;
    fill_sentinel(o->loss.data, o->loss.n);
    fill_sentinel(o->grad.data, n);
    ep_args a = ep_args_of(p, opt, v == V_GRAD_ONLY ? NULL : o->loss.data,
                           v == V_FORWARD ? NULL : o->grad.data);
    if (v == V_IN_PLACE) {
        memcpy(o->work.data, p->x, n * sizeof(float));
        a.x = a.grad = o->work.data;
    }
    const int rc = e->call(&a);
    if (rc != FOCAL_OK)
        fail_msg("%s %zux%zu %s gamma %g reduction %d: returned %d (%s)", e->name, p->rows,
                 p->classes, variant_names[v], opt->gamma, opt->reduction, rc, focal_strerror(rc));
    assert_true(fbuf_guards_intact(&o->loss) && fbuf_guards_intact(&o->grad) &&
                fbuf_guards_intact(&o->work));
    return a.grad;
}

/* Small problems run every reduction and output variant for every option
 * set; large ones one of each, the pair rotating with the shape and the set
 * (k = shape + set: k % 3 and k % 4 meet every pair over 12 consecutive k). */
#define EVERY_VARIANT_MAX 10000

static size_t bits_shape(const focal_test_entry *e, const char *kernel, rng_t *r,
                         const ep_shape *sh, size_t si)
{
    placed_t pl;
    const size_t rows = ep_shape_rows(sh), classes = sh->classes, n = rows * classes;
    e->make(&pl.heap, r, rows, classes, EP_BITS);
    place(&pl, e, n + si);
    const ep_problem *p = &pl.p;
    const size_t ln_none = ep_loss_len(e, rows, classes, FOCAL_REDUCTION_NONE);
    outs_t o[2];
    for (int k = 0; k < 2; k++) {
        fbuf_alloc(&o[k].loss, ln_none > 0 ? ln_none : 1, (n + si + 2 + (size_t)k) % 16);
        fbuf_alloc(&o[k].grad, n, (n + si + 7) % 16);
        fbuf_alloc(&o[k].work, n, (n + si) % 16);
    }
    /* FOCAL_TEST_SUBSET=k > 1: each shape runs the option sets congruent
     * to it modulo m = min(k, sets), so every shape and every option set
     * still runs at least once, on about 1/m of the pairs. */
    const size_t step = test_subset(), nsets = (size_t)e->noptions[EP_BITS];
    const size_t m = step < nsets ? step : nsets;
    size_t compared = 0;
    for (int oi = 0; oi < e->noptions[EP_BITS]; oi++) {
        if (step > 1 && (size_t)oi % m != si % m)
            continue;
        const size_t k = si + (size_t)oi;
        for (int ri = 0; ri < NREDUCTIONS; ri++) {
            if (n > EVERY_VARIANT_MAX && (size_t)ri != k % NREDUCTIONS)
                continue;
            focal_options opt;
            e->options(&opt, p, EP_BITS, oi, reductions[ri]);
            const size_t ln = ep_loss_len(e, rows, classes, reductions[ri]);
            for (int v = 0; v < V_COUNT; v++) {
                if (n > EVERY_VARIANT_MAX && (size_t)v != k % V_COUNT)
                    continue;
                const float *g[2];
                for (int k = 0; k < 2; k++) {
                    assert_int_equal(focal_set_isa(k == 0 ? "scalar" : kernel), FOCAL_OK);
                    g[k] = entry_call(e, p, &opt, v, &o[k]);
                }
                size_t i = 0;
                if (v != V_GRAD_ONLY && compare_bits(o[1].loss.data, o[0].loss.data, ln, &i))
                    fail_msg("%s %zux%zu kernel %s, %s, options %d, reduction %d: loss[%zu] "
                             "0x%08x, scalar 0x%08x", e->name, rows, classes, kernel,
                             variant_names[v], oi, reductions[ri], i, fbits(o[1].loss.data[i]),
                             fbits(o[0].loss.data[i]));
                if (v != V_FORWARD && compare_bits(g[1], g[0], n, &i))
                    fail_msg("%s %zux%zu kernel %s, %s, options %d, reduction %d: grad[%zu] "
                             "0x%08x, scalar 0x%08x (x %a)", e->name, rows, classes, kernel,
                             variant_names[v], oi, reductions[ri], i, fbits(g[1][i]),
                             fbits(g[0][i]), p->x[i]);
                if (v == V_GRAD_ONLY && !all_sentinel(o[1].loss.data, o[1].loss.n))
                    fail_msg("%s: gradient-only call wrote a loss", e->name);
                if (v == V_FORWARD && !all_sentinel(o[1].grad.data, n))
                    fail_msg("%s: forward-only call wrote a gradient", e->name);
                compared++;
            }
        }
    }
    for (int k = 0; k < 2; k++) {
        fbuf_free(&o[k].loss);
        fbuf_free(&o[k].grad);
        fbuf_free(&o[k].work);
    }
    unplace(&pl);
    return compared;
}

static void test_entry_bits(void **state)
{
    const char *kernel = kernel_enter(state);
    double t0 = now_seconds();
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        rng_t r;
        rng_seed(&r, test_seed() ^ (0xb100 + ei));
        size_t compared = 0;
        for (size_t si = 0; si < e->nshapes[EP_BITS]; si++)
            compared += bits_shape(e, kernel, &r, &e->shapes[EP_BITS][si], si);
        print_message("  kernel %s, %s: %zu configurations identical to scalar\n", kernel,
                      e->name, compared);
    }
    print_message("  %.2f s\n", now_seconds() - t0);
}

/* Since 1.1 calls may use worker threads; the header promises the same bits
 * for any thread count (fixed blocks summed in block order). */
static void test_entry_threads(void **state)
{
    const char *kernel = kernel_enter(state);
    const int all_threads[] = {2, 3, 4, 8, 0 /* default */};
    /* A subset run checks 3 threads alone: two workers and the caller, the
     * blocks handed out unevenly. */
    const int subset_threads[] = {3};
    const bool subset = test_subset() > 1;
    const int *threads = subset ? subset_threads : all_threads;
    const size_t nthreads = subset ? 1 : sizeof all_threads / sizeof all_threads[0];
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (e->thread_shape.rows == 0) /* none: a variant of another descriptor's walk */
            continue;
        rng_t r;
        rng_seed(&r, test_seed() ^ (0x7e00 + ei));
        placed_t pl;
        const size_t rows = e->thread_shape.rows, classes = e->thread_shape.classes;
        const size_t n = rows * classes;
        /* finite inputs: which thread computes a block is what varies here,
         * and non-finite logits only slow every chunk down (entry_bits has
         * them) */
        e->make(&pl.heap, &r, rows, classes, EP_ORACLE);
        place(&pl, e, ei);
        outs_t o[2];
        for (int k = 0; k < 2; k++) {
            fbuf_alloc(&o[k].loss, n, (size_t)k);
            fbuf_alloc(&o[k].grad, n, 2 + (size_t)k);
            fbuf_alloc(&o[k].work, n, 0);
        }
        for (int ri = 0; ri < NREDUCTIONS; ri++) {
            focal_options opt;
            e->options(&opt, &pl.p, EP_BITS, e->thread_options, reductions[ri]);
            const size_t ln = ep_loss_len(e, rows, classes, reductions[ri]);
            assert_int_equal(focal_set_num_threads(1), FOCAL_OK);
            entry_call(e, &pl.p, &opt, V_FULL, &o[0]);
            for (size_t ti = 0; ti < nthreads; ti++) {
                assert_int_equal(focal_set_num_threads(threads[ti]), FOCAL_OK);
                entry_call(e, &pl.p, &opt, V_FULL, &o[1]);
                if (memcmp(o[0].loss.data, o[1].loss.data, ln * sizeof(float)) != 0 ||
                    memcmp(o[0].grad.data, o[1].grad.data, n * sizeof(float)) != 0)
                    fail_msg("%s kernel %s reduction %d: %d threads (%d in use) differ from 1 "
                             "thread", e->name, kernel, reductions[ri], threads[ti],
                             focal_num_threads());
            }
        }
        assert_int_equal(focal_set_num_threads(0), FOCAL_OK);
        for (int k = 0; k < 2; k++) {
            fbuf_free(&o[k].loss);
            fbuf_free(&o[k].grad);
            fbuf_free(&o[k].work);
        }
        unplace(&pl);
        print_message("  kernel %s, %s: %zu elements, 1 and %s threads agree\n", kernel,
                      e->name, n, subset ? "3" : "2, 3, 4, 8 and the default");
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        KERNEL_TESTS(test_bitwise_small_n),
        KERNEL_TESTS(test_bitwise_extremes),
        KERNEL_TESTS(test_bitwise_large_n),
        KERNEL_TESTS(test_entry_bits),
        KERNEL_TESTS(test_entry_threads),
    };
    return run_group("test_bitwise", tests, sizeof tests / sizeof tests[0], argc, argv);
}
