/* SPDX-License-Identifier: MIT */
/*
 * The 1.1 loss family: softmax focal (focal_softmax_labels), quality focal
 * (focal_quality_focal) and varifocal (focal_varifocal). Each against its
 * float64 oracle, by finite differences, bit for bit against the scalar
 * kernel (every n, alignment, variant, extreme and non-finite logits), for
 * every thread count, at the infinite limits, and every error code.
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

enum { QFL, VFL };
typedef int (*soft_fn)(const float *, const float *, size_t, const focal_options *, float *,
                       float *);
static const soft_fn soft_fns[2] = { focal_quality_focal, focal_varifocal };
static const char *const soft_names[2] = { "quality", "varifocal" };

static oracle_t soft_oracle(int kind, double x, double s, double alpha, double gamma)
{
    return kind == QFL ? oracle_quality(x, s, gamma) : oracle_varifocal(x, s, alpha, gamma);
}

static double worst_rel[4]; /* softmax loss, softmax grad, soft loss, soft grad */

/* |got - ref| <= rel |ref| + abs_tol (values below FLT_MIN compare absolutely). */
static void expect_close(double got, double ref, double rel, double abs_tol, const char *what,
                         size_t k, int stat)
{
    const double err = fabs(got - ref);
    if (fabs(ref) >= FLT_MIN && err / fabs(ref) > worst_rel[stat] && rel * fabs(ref) >= abs_tol)
        worst_rel[stat] = err / fabs(ref);
    if (!(err <= rel * fabs(ref) + abs_tol + FLT_MIN))
        fail_msg("%s[%zu]: got %.9g, float64 %.17g (rel %.3g)", what, k, got, ref,
                 err / fabs(ref));
}

/* ---- softmax ------------------------------------------------------------------ */

typedef struct {
    size_t rows, classes;
    float *x, *class_alpha, *weight;
    int32_t *labels;
} sm_problem;

/* ~10% of rows ignored; logits in [-lo, lo] with a few far out. */
static void sm_make(sm_problem *p, rng_t *r, size_t rows, size_t classes, float range)
{
    p->rows = rows;
    p->classes = classes;
    p->x = falloc(rows * classes + 1);
    p->class_alpha = falloc(classes + 1);
    p->weight = falloc(rows + 1);
    p->labels = malloc((rows + 1) * sizeof(int32_t));
    assert_non_null(p->labels);
    fill_logits_uniform(r, p->x, rows * classes, -range, range);
    for (size_t c = 0; c < classes; c++)
        p->class_alpha[c] = rng_float(r, 0.0f, 1.0f);
    for (size_t i = 0; i < rows; i++) {
        p->labels[i] = rng_below(r, 10) == 0 ? -1 : (int32_t)rng_below(r, classes);
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        /* some confident rows: the label (or another class) far above the rest */
        if (rng_below(r, 4) == 0 && p->labels[i] >= 0)
            p->x[i * classes + (size_t)p->labels[i]] += rng_float(r, 10.0f, 60.0f);
        else if (rng_below(r, 4) == 0)
            p->x[i * classes + rng_below(r, classes)] += rng_float(r, 10.0f, 60.0f);
    }
}

static void sm_free(sm_problem *p)
{
    free(p->x);
    free(p->class_alpha);
    free(p->weight);
    free(p->labels);
}

/* float64 reference of one call: per-row loss, gradient of the reduced
 * loss, reduced loss. */
static void sm_reference(const sm_problem *p, const focal_options *o, double *loss, double *grad,
                         double *reduced)
{
    const size_t C = p->classes;
    size_t counted = 0;
    for (size_t i = 0; i < p->rows; i++)
        counted += p->labels[i] >= 0;
    double divisor = 1.0;
    if (o->reduction != FOCAL_REDUCTION_NONE && o->normalizer > 0)
        divisor = o->normalizer;
    else if (o->reduction == FOCAL_REDUCTION_MEAN)
        divisor = (double)counted;
    /* the smoothed targets, rounded to float as the library stores them */
    const float keep = 1.0f - o->label_smoothing, add = o->label_smoothing / (float)C;
    long double sum = 0;
    for (size_t i = 0; i < p->rows; i++) {
        if (p->labels[i] < 0) {
            loss[i] = 0;
            for (size_t c = 0; c < C; c++) grad[i * C + c] = 0;
            continue;
        }
        const double w = o->weight ? o->weight[i] : 1.0;
        loss[i] = w * oracle_softmax_row(p->x + i * C, C, p->labels[i], fmaf(1.0f, keep, add), add,
                                         o->class_alpha, o->alpha, o->gamma, grad + i * C);
        for (size_t c = 0; c < C; c++)
            grad[i * C + c] *= w / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        sum += loss[i];
    }
    *reduced = (double)(sum / divisor);
}

static void softmax_matches_oracle(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x61);
    const size_t shapes[][2] = { { 1, 1 }, { 7, 3 }, { 33, 17 }, { 40, 80 }, { 4, 1000 }, { 3, 1100 } };
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        sm_problem p;
        sm_make(&p, &r, shapes[sh][0], shapes[sh][1], 8.0f);
        const size_t n = p.rows * p.classes;
        double *rl = malloc(p.rows * sizeof(double)), *rg = malloc(n * sizeof(double));
        float *loss = falloc(p.rows), *grad = falloc(n);
        for (int variant = 0; variant < OPTIONS_VARIANTS; variant++) {
            for (int red = 0; red <= 2; red++) {
                focal_options o;
                options_variant(&o, variant, red, p.class_alpha, p.weight);
                double ref_reduced;
                sm_reference(&p, &o, rl, rg, &ref_reduced);
                float reduced;
                assert_int_equal(focal_softmax_labels(p.x, p.labels, p.rows, p.classes, &o,
                                                      red == FOCAL_REDUCTION_NONE ? loss : &reduced,
                                                      grad), FOCAL_OK);
                /* Smoothing spreads the target: p - y' cancels as for soft targets. */
                const int soft = o.label_smoothing > 0;
                const double rel = soft ? TOL_SOFT_REL : TOL_HARD_REL;
                const double gscale = red == FOCAL_REDUCTION_NONE ? 1.0 : 1.0 / (o.normalizer > 0 ? o.normalizer : 1.0);
                for (size_t k = 0; k < n; k++) {
                    if (p.labels[k / p.classes] < 0) {
                        assert_true(grad[k] == 0.0f);
                        continue;
                    }
                    expect_close(grad[k], rg[k], rel, soft ? TOL_SOFT_ABS * gscale : 0.0, "grad", k, 1);
                }
                for (size_t i = 0; red == FOCAL_REDUCTION_NONE && i < p.rows; i++)
                    expect_close(loss[i], rl[i], rel, 0.0, "loss", i, 0);
                if (red != FOCAL_REDUCTION_NONE) {
                    if (isnan(ref_reduced))
                        assert_true(isnan(reduced));
                    else
                        expect_close(reduced, ref_reduced, TOL_REDUCED_REL, 1e-37, "reduced", 0, 0);
                }
            }
        }
        free(rl); free(rg); free(loss); free(grad);
        sm_free(&p);
    }
    printf("[ INFO     ] %s: softmax worst relative error: loss %.3g, grad %.3g\n", kernel,
           worst_rel[0], worst_rel[1]);
}

static void softmax_finite_differences(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x62);
    sm_problem p;
    sm_make(&p, &r, 6, 5, 3.0f);
    for (size_t i = 0; i < p.rows; i++) /* no huge offsets: a smooth region */
        for (size_t c = 0; c < p.classes; c++)
            p.x[i * p.classes + c] = rng_float(&r, -3.0f, 3.0f);
    const size_t n = p.rows * p.classes;
    const float gammas[] = { 0.5f, 2.0f, 1.5f, 0.0f };
    for (int gi = 0; gi < 4; gi++) {
        focal_options o;
        focal_options_init(&o);
        o.class_alpha = p.class_alpha;
        o.weight = p.weight;
        o.gamma = gammas[gi];
        o.label_smoothing = gi == 1 ? 0.0f : 0.2f;
        float loss, *grad = falloc(n);
        assert_int_equal(focal_softmax_labels(p.x, p.labels, p.rows, p.classes, &o, &loss, grad),
                         FOCAL_OK);
        size_t counted = 0;
        for (size_t i = 0; i < p.rows; i++)
            counted += p.labels[i] >= 0;
        const float keep = 1.0f - o.label_smoothing, add = o.label_smoothing / (float)p.classes;
        for (size_t k = 0; k < n; k++) {
            const size_t i = k / p.classes;
            if (p.labels[i] < 0) continue;
            const double h = 1e-3;
            double f[2];
            float row[5];
            for (int s = 0; s < 2; s++) {
                memcpy(row, p.x + i * p.classes, sizeof row);
                /* double x_k +- h: evaluate the oracle on a float row whose
                 * element k is replaced; the step is exact in float near |x| < 4 */
                row[k % p.classes] = (float)((double)p.x[k] + (s ? h : -h));
                f[s] = oracle_softmax_row(row, p.classes, p.labels[i], fmaf(1.0f, keep, add), add,
                                          p.class_alpha, 0.0, o.gamma, NULL);
                f[s] = f[s] * p.weight[i];
            }
            const double hs = ((double)(float)((double)p.x[k] + h) - (double)(float)((double)p.x[k] - h));
            const double fd = (f[1] - f[0]) / hs / (double)counted;
            if (!(fabs(grad[k] - fd) <= 2e-4 * fabs(fd) + 1e-6))
                fail_msg("gamma %g: grad[%zu] %.9g vs finite difference %.9g", o.gamma, k, grad[k], fd);
        }
        free(grad);
    }
    sm_free(&p);
}

/* ---- quality focal and varifocal ------------------------------------------------ */

static void soft_matches_oracle(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x71);
    const size_t n = 20000 / test_shrink() + 13;
    float *x = falloc(n), *s = falloc(n), *w = falloc(n), *loss = falloc(n), *grad = falloc(n);
    fill_logits_mixed(&r, x, n);
    for (size_t i = 0; i < n; i += 97) /* extreme finite logits */
        x[i] = (const float[]){ 1e30f, -1e30f, 88.0f, -88.0f, 200.0f, -200.0f }[(i / 97) % 6];
    fill_targets_soft(&r, s, n);
    for (size_t i = 0; i < n; i++) {
        w[i] = rng_float(&r, 0.0f, 2.0f);
        if (rng_below(&r, 3) == 0) s[i] = 0.0f; /* negatives, as detection heads have */
    }
    const float gammas[] = { 2.0f, 0.0f, 1.0f, 1.5f, 3.0f, 2.5f, 0.5f };
    for (int kind = QFL; kind <= VFL; kind++) {
        for (int gi = 0; gi < 7; gi++) {
            for (int red = 0; red <= 2; red++) {
                focal_options o;
                focal_options_init(&o);
                o.gamma = gammas[gi];
                o.alpha = kind == VFL ? 0.75f : 0.25f;
                o.reduction = red;
                o.weight = gi % 2 ? w : NULL;
                o.normalizer = gi == 3 ? 9.5f : 0.0f;
                float reduced;
                assert_int_equal(soft_fns[kind](x, s, n, &o, red ? &reduced : loss, grad), FOCAL_OK);
                const double divisor = red == FOCAL_REDUCTION_NONE ? 1.0
                                       : o.normalizer > 0 ? o.normalizer
                                       : red == FOCAL_REDUCTION_MEAN ? (double)n : 1.0;
                long double sum = 0;
                for (size_t i = 0; i < n; i++) {
                    const oracle_t e = soft_oracle(kind, x[i], s[i], o.alpha, o.gamma);
                    const double wi = o.weight ? w[i] : 1.0;
                    sum += wi * e.loss;
                    const int hard = s[i] == 0.0f || s[i] == 1.0f;
                    /* |s - p|^g with g < 1 has an unbounded slope at p = s:
                     * the soft quality gradient is checked for g >= 1 only. */
                    if (kind == QFL && !hard && o.gamma < 1.0f)
                        continue;
                    const double rel = hard ? TOL_HARD_REL : TOL_SOFT_REL;
                    const double abs_tol = hard ? 0.0 : TOL_SOFT_ABS;
                    if (red == FOCAL_REDUCTION_NONE)
                        expect_close(loss[i], wi * e.loss, rel, abs_tol * wi, "loss", i, 2);
                    expect_close(grad[i], wi * e.grad / divisor, rel, abs_tol * wi / divisor, "grad", i, 3);
                }
                if (red != FOCAL_REDUCTION_NONE)
                    expect_close(reduced, (double)(sum / divisor), TOL_REDUCED_REL, 1e-37, "reduced", 0, 2);
            }
        }
    }
    printf("[ INFO     ] %s: quality/varifocal worst relative error: loss %.3g, grad %.3g\n",
           kernel, worst_rel[2], worst_rel[3]);
    free(x); free(s); free(w); free(loss); free(grad);
}

static void soft_finite_differences(void **state)
{
    kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x72);
    const size_t n = 64;
    float x[64], s[64], loss, grad[64];
    fill_logits_uniform(&r, x, n, -4.0f, 4.0f);
    fill_targets_soft(&r, s, n);
    for (size_t i = 0; i < n; i += 3) s[i] = 0.0f;
    const float gammas[] = { 2.0f, 1.5f, 0.5f, 0.0f };
    for (int kind = QFL; kind <= VFL; kind++) {
        for (int gi = 0; gi < 4; gi++) {
            focal_options o;
            focal_options_init(&o);
            o.gamma = gammas[gi];
            o.alpha = 0.75f;
            o.reduction = FOCAL_REDUCTION_SUM;
            assert_int_equal(soft_fns[kind](x, s, n, &o, &loss, grad), FOCAL_OK);
            for (size_t i = 0; i < n; i++) {
                const double h = 1e-4;
                const double fd = (soft_oracle(kind, x[i] + h, s[i], 0.75, o.gamma).loss -
                                   soft_oracle(kind, x[i] - h, s[i], 0.75, o.gamma).loss) / (2 * h);
                const double d = oracle_quality(x[i], s[i], 0.0).grad; /* p - s */
                if (fabs(d) < 1e-2 && kind == QFL && o.gamma < 1.0f)
                    continue; /* unbounded slope near p = s */
                if (!(fabs(grad[i] - fd) <= 1e-4 * fabs(fd) + 1e-6))
                    fail_msg("%s gamma %g: grad[%zu] %.9g vs finite difference %.9g (x %g s %g)",
                             soft_names[kind], o.gamma, i, grad[i], fd, x[i], s[i]);
            }
        }
    }
}

/* ---- bit identity with the scalar kernel --------------------------------------- */

static const float odd_logits[] = { 0.0f, -0.0f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, 88.72f,
                                    -88.72f, 103.97f, -103.97f, INFINITY, -INFINITY, NAN };
#define NODD (sizeof odd_logits / sizeof odd_logits[0])

static void fill_odd(rng_t *r, float *x, size_t n, int with_nonfinite)
{
    fill_logits_mixed(r, x, n);
    for (size_t i = 0; i < n; i++)
        if (rng_below(r, 4) == 0)
            x[i] = odd_logits[rng_below(r, with_nonfinite ? NODD : NODD - 3)];
}

/* One call per kernel (scalar first) into the two buffer sets; compare. */
typedef struct {
    float *loss, *grad, *work;
} outs_t;

static void soft_bitwise_vs_scalar(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x81);
    const size_t max_n = 300;
    fbuf_t xb, sb, wb;
    outs_t o[2];
    for (size_t n = 0; n <= max_n; n += n < 70 ? 1 : 37) {
        const size_t mis = n % 16;
        fbuf_alloc(&xb, n, mis);
        fbuf_alloc(&sb, n, (mis + 1) % 16);
        fbuf_alloc(&wb, n, (mis + 3) % 16);
        fill_odd(&r, xb.data, n, n % 2);
        fill_targets_soft(&r, sb.data, n);
        for (size_t i = 0; i < n; i++) {
            if (rng_below(&r, 3) == 0) sb.data[i] = 0.0f;
            wb.data[i] = rng_float(&r, 0.0f, 2.0f);
        }
        if (n > 5) { wb.data[2] = NAN; wb.data[4] = INFINITY; }
        for (int kind = QFL; kind <= VFL; kind++) {
            for (int gi = 0; gi < 6; gi++) {
                for (int red = 0; red <= 2; red++) {
                    for (int v = 0; v < 4; v++) { /* full, forward, in place, weighted */
                        focal_options opt;
                        focal_options_init(&opt);
                        opt.gamma = (const float[]){ 2.0f, 0.0f, 1.0f, 3.0f, 0.5f, 1.5f }[gi];
                        opt.alpha = gi == 4 ? -1.0f : 0.75f;
                        opt.reduction = red;
                        if (v == 3) opt.weight = wb.data;
                        for (int k = 0; k < 2; k++) {
                            assert_int_equal(focal_set_isa(k ? kernel : "scalar"), FOCAL_OK);
                            o[k].loss = falloc(n + 1);
                            o[k].grad = falloc(n + 1);
                            o[k].work = falloc(n + 1);
                            memcpy(o[k].work, xb.data, n * sizeof(float));
                            const float *x = v == 2 ? o[k].work : xb.data;
                            float *g = v == 2 ? o[k].work : v == 1 ? NULL : o[k].grad;
                            assert_int_equal(soft_fns[kind](x, sb.data, n, &opt, o[k].loss, g), FOCAL_OK);
                            if (v == 2)
                                memcpy(o[k].grad, o[k].work, n * sizeof(float));
                        }
                        const size_t ln = red == FOCAL_REDUCTION_NONE ? n : 1;
                        if (memcmp(o[0].loss, o[1].loss, ln * sizeof(float)) != 0 ||
                            (v != 1 && memcmp(o[0].grad, o[1].grad, n * sizeof(float)) != 0))
                            fail_msg("%s: %s n=%zu gamma=%g reduction=%d variant %d differs from scalar",
                                     kernel, soft_names[kind], n, opt.gamma, red, v);
                        for (int k = 0; k < 2; k++) { free(o[k].loss); free(o[k].grad); free(o[k].work); }
                    }
                }
            }
        }
        assert_true(fbuf_guards_intact(&xb));
        fbuf_free(&xb); fbuf_free(&sb); fbuf_free(&wb);
    }
}

static void softmax_bitwise_vs_scalar(void **state)
{
    const char *kernel = kernel_enter(state);
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x82);
    const size_t classes_list[] = { 1, 2, 3, 15, 16, 17, 31, 80, 1000, 1100 };
    for (size_t ci = 0; ci < sizeof classes_list / sizeof classes_list[0]; ci++) {
        const size_t C = classes_list[ci], rows = 4000 / C + 5, n = rows * C;
        sm_problem p;
        sm_make(&p, &r, rows, C, 12.0f);
        /* odd rows: extreme and non-finite logits; a NaN and an inf weight */
        for (size_t i = 0; i < rows; i += 3)
            for (size_t c = 0; c < C; c++)
                if (rng_below(&r, 3) == 0)
                    p.x[i * C + c] = odd_logits[rng_below(&r, i % 2 ? NODD : NODD - 3)];
        p.weight[1] = NAN;
        p.weight[rows - 1] = INFINITY;
        /* weights of -0 act as +0 on every kernel (kernels skip different
         * class ranges of one-hot rows) */
        for (size_t c = 2; c < C; c += 5)
            p.class_alpha[c] = -0.0f;
        for (int gi = 0; gi < 6; gi++) {
            for (int red = 0; red <= 2; red++) {
                for (int v = 0; v < 3; v++) { /* full, forward, in place */
                    focal_options opt;
                    focal_options_init(&opt);
                    opt.gamma = (const float[]){ 2.0f, 0.0f, 1.0f, 3.0f, 0.5f, 1.5f }[gi];
                    opt.reduction = red;
                    opt.class_alpha = gi % 2 ? p.class_alpha : NULL;
                    if (gi == 2)
                        opt.alpha = -0.0f;
                    opt.weight = gi >= 2 ? p.weight : NULL;
                    /* gamma 0.5 with smoothing, 1.5 without: both call paths */
                    opt.label_smoothing = gi == 3 || gi == 4 ? 0.1f : 0.0f;
                    outs_t o[2];
                    for (int k = 0; k < 2; k++) {
                        assert_int_equal(focal_set_isa(k ? kernel : "scalar"), FOCAL_OK);
                        o[k].loss = falloc(rows + 1);
                        o[k].grad = falloc(n + 1);
                        o[k].work = falloc(n + 1);
                        memcpy(o[k].work, p.x, n * sizeof(float));
                        const float *x = v == 2 ? o[k].work : p.x;
                        float *g = v == 2 ? o[k].work : v == 1 ? NULL : o[k].grad;
                        assert_int_equal(focal_softmax_labels(x, p.labels, rows, C, &opt, o[k].loss, g),
                                         FOCAL_OK);
                        if (v == 2)
                            memcpy(o[k].grad, o[k].work, n * sizeof(float));
                    }
                    const size_t ln = red == FOCAL_REDUCTION_NONE ? rows : 1;
                    if (memcmp(o[0].loss, o[1].loss, ln * sizeof(float)) != 0 ||
                        (v != 1 && memcmp(o[0].grad, o[1].grad, n * sizeof(float)) != 0))
                        fail_msg("%s: softmax classes=%zu gamma=%g reduction=%d variant %d differs "
                                 "from scalar", kernel, C, opt.gamma, red, v);
                    for (int k = 0; k < 2; k++) { free(o[k].loss); free(o[k].grad); free(o[k].work); }
                }
            }
        }
        sm_free(&p);
    }
}

/* ---- threads -------------------------------------------------------------------- */

static void family_same_bits_for_1_to_4_threads(void **state)
{
    (void)state;
    rng_t r;
    rng_seed(&r, test_seed() ^ 0x91);
    /* past 8 blocks of 16 Ki elements: the pool runs */
    const size_t n = 16384 * 9 + 77, rows = n / 80 + 3, C = 80;
    float *x = falloc(rows * C), *s = falloc(n), *ref_l = falloc(n), *ref_g = falloc(rows * C),
          *l = falloc(n), *g = falloc(rows * C), ref_red, red;
    int32_t *labels = malloc(rows * sizeof(int32_t));
    fill_logits_mixed(&r, x, rows * C);
    fill_targets_soft(&r, s, n);
    for (size_t i = 0; i < rows; i++)
        labels[i] = i % 11 == 0 ? -1 : (int32_t)rng_below(&r, C);
    for (int f = 0; f < 3; f++) {
        for (int t = 1; t <= 4; t++) {
            assert_int_equal(focal_set_num_threads(t), FOCAL_OK);
            focal_options o;
            focal_options_init(&o);
            o.gamma = 1.5f;
            float *lo = t == 1 ? ref_l : l, *go = t == 1 ? ref_g : g, *ro = t == 1 ? &ref_red : &red;
            for (int red_kind = 0; red_kind < 2; red_kind++) {
                o.reduction = red_kind ? FOCAL_REDUCTION_MEAN : FOCAL_REDUCTION_NONE;
                float *lout = red_kind ? ro : lo;
                int rc = f == 2 ? focal_softmax_labels(x, labels, rows, C, &o, lout, go)
                                : soft_fns[f](x, s, n, &o, lout, go);
                assert_int_equal(rc, FOCAL_OK);
            }
            if (t > 1) {
                const size_t ln = f == 2 ? rows : n, gn = f == 2 ? rows * C : n;
                assert_memory_equal(ref_l, l, ln * sizeof(float));
                assert_memory_equal(ref_g, g, gn * sizeof(float));
                assert_memory_equal(&ref_red, &red, sizeof(float));
            }
        }
    }
    focal_set_num_threads(0);
    free(x); free(s); free(ref_l); free(ref_g); free(l); free(g); free(labels);
}

/* ---- infinite limits -------------------------------------------------------------- */

static void family_infinite_limits(void **state)
{
    kernel_enter(state);
    focal_options o;
    focal_options_init(&o);
    o.reduction = FOCAL_REDUCTION_NONE;
    const float gammas[] = { 2.0f, 0.5f, 0.0f };
    for (int gi = 0; gi < 3; gi++) {
        o.gamma = gammas[gi];
        /* softmax: +inf at the label: loss 0; at another class: loss inf;
         * -inf at the label: inf; -inf elsewhere: finite. Gradients finite. */
        const float rows_x[4][3] = { { INFINITY, 0.0f, 1.0f }, { 0.0f, INFINITY, 1.0f },
                                     { -INFINITY, 0.0f, 1.0f }, { 0.0f, -INFINITY, 1e30f } };
        const int32_t labels[4] = { 0, 0, 0, 2 };
        float loss[4], grad[12];
        assert_int_equal(focal_softmax_labels(&rows_x[0][0], labels, 4, 3, &o, loss, grad), FOCAL_OK);
        assert_true(loss[0] == 0.0f && isinf(loss[1]) && isinf(loss[2]) && loss[3] == 0.0f);
        for (int k = 0; k < 12; k++)
            assert_true(isfinite(grad[k]));
        /* NaN: the whole row is the canonical NaN */
        const float nan_row[3] = { 1.0f, NAN, 2.0f };
        assert_int_equal(focal_softmax_labels(nan_row, labels, 1, 3, &o, loss, grad), FOCAL_OK);
        for (int k = 0; k < 3; k++)
            assert_int_equal(fbits(grad[k]), 0x7fc00000u);
        assert_int_equal(fbits(loss[0]), 0x7fc00000u);

        /* quality / varifocal: confidently right gives 0, wrong gives inf,
         * every gradient finite */
        const float x[6] = { INFINITY, -INFINITY, INFINITY, -INFINITY, INFINITY, -INFINITY };
        const float s[6] = { 1.0f, 0.0f, 0.0f, 1.0f, 0.3f, 0.3f };
        float l[6], g[6];
        for (int kind = QFL; kind <= VFL; kind++) {
            assert_int_equal(soft_fns[kind](x, s, 6, &o, l, g), FOCAL_OK);
            assert_true(l[0] == 0.0f && l[1] == 0.0f);
            assert_true(isinf(l[3]) && isinf(l[4]) && isinf(l[5]));
            assert_true(kind == VFL || isinf(l[2]));
            for (int k = 0; k < 6; k++)
                assert_true(isfinite(g[k]));
        }
    }
}

/* ---- errors ----------------------------------------------------------------------- */

static void family_errors(void **state)
{
    (void)state;
    float x[6] = { 0 }, s[6] = { 0.5f, 0, 1, 0.25f, 0, 0 }, loss[6], grad[6];
    int32_t labels[2] = { 0, 2 };
    focal_options o;
    focal_options_init(&o);
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, NULL, loss, grad), FOCAL_OK);
    for (int k = 0; k < 2; k++) {
        const soft_fn f = soft_fns[k];
        focal_options_init(&o);
        assert_int_equal(f(x, s, 6, NULL, loss, grad), FOCAL_OK);
        assert_int_equal(f(NULL, s, 6, &o, loss, grad), FOCAL_ENULL);
        assert_int_equal(f(x, NULL, 6, &o, loss, grad), FOCAL_ENULL);
        assert_int_equal(f(x, s, 6, &o, NULL, NULL), FOCAL_ENOOUTPUT);
        assert_int_equal(f(x, s, SIZE_MAX / 2, &o, loss, grad), FOCAL_ESIZE);
        assert_int_equal(f(x, s, 6, &o, loss, x + 1), FOCAL_EOVERLAP);
        assert_int_equal(f(x, s, 6, &o, s, grad), FOCAL_EOVERLAP);
        assert_int_equal(f(x, s, 6, &o, loss, x), FOCAL_OK); /* in place */
        o.weight = grad + 2;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EOVERLAP);
        focal_options_init(&o);
        o.alpha = NAN;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EALPHA);
        o.alpha = 0.5f; o.gamma = -1.0f;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EGAMMA);
        o.gamma = 2.0f; o.reduction = 7;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EREDUCTION);
        focal_options_init(&o);
        o.size = 8;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EOPTIONS);
        focal_options_init(&o);
        o.class_alpha = s;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EOPTIONS);
        focal_options_init(&o);
        o.label_smoothing = 0.1f;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_EOPTIONS);
        o.label_smoothing = 1.0f;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_ESMOOTHING);
        focal_options_init(&o);
        o.normalizer = -1.0f;
        assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_ENORMALIZER);
        focal_options_init(&o);
        const float bad[3] = { -0.1f, 1.5f, NAN };
        for (int b = 0; b < 3; b++) {
            s[3] = bad[b];
            assert_int_equal(f(x, s, 6, &o, loss, grad), FOCAL_ETARGET);
        }
        s[3] = 0.25f;
        /* n = 0: MEAN of nothing is NaN, SUM 0 */
        assert_int_equal(f(NULL, NULL, 0, &o, loss, NULL), FOCAL_OK);
        assert_true(isnan(loss[0]));
        o.reduction = FOCAL_REDUCTION_SUM;
        assert_int_equal(f(NULL, NULL, 0, &o, loss, NULL), FOCAL_OK);
        assert_true(loss[0] == 0.0f);
    }

    /* softmax */
    focal_options_init(&o);
    o.reduction = FOCAL_REDUCTION_NONE;
    fill_sentinel(loss, 6);
    fill_sentinel(grad, 6);
    labels[1] = 3; /* == classes: no background class for softmax */
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_ELABEL);
    assert_true(all_sentinel(loss, 6) && all_sentinel(grad, 6));
    labels[1] = 2;
    assert_int_equal(focal_softmax_labels(x, NULL, 2, 3, &o, loss, grad), FOCAL_ENULL);
    assert_int_equal(focal_softmax_labels(NULL, labels, 2, 3, &o, loss, grad), FOCAL_ENULL);
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, NULL, NULL), FOCAL_ENOOUTPUT);
    assert_int_equal(focal_softmax_labels(x, labels, SIZE_MAX / 2, 3, &o, loss, grad), FOCAL_ESIZE);
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, x + 2), FOCAL_EOVERLAP);
    /* the per-row loss is 2 floats: right after it the logits may start */
    assert_int_equal(focal_softmax_labels(loss + 2, labels, 1, 3, &o, loss, grad), FOCAL_OK);
    assert_int_equal(focal_softmax_labels(loss + 1, labels, 1, 3, &o, loss, grad), FOCAL_OK);
    assert_int_equal(focal_softmax_labels(loss + 1, labels, 2, 2, &o, loss, grad), FOCAL_EOVERLAP);
    o.weight = loss;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EOVERLAP);
    o.weight = NULL;
    const float bad_alpha[3] = { 0.5f, 1.5f, 0.1f };
    o.class_alpha = bad_alpha;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EALPHA);
    focal_options_init(&o);
    o.alpha = 2.0f;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EALPHA);
    focal_options_init(&o);
    o.gamma = INFINITY;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EGAMMA);
    focal_options_init(&o);
    o.reduction = -1;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EREDUCTION);
    focal_options_init(&o);
    o.label_smoothing = -0.5f;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_ESMOOTHING);
    focal_options_init(&o);
    o.normalizer = NAN;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_ENORMALIZER);
    focal_options_init(&o);
    o.size = 0;
    assert_int_equal(focal_softmax_labels(x, labels, 2, 3, &o, loss, grad), FOCAL_EOPTIONS);
    /* every row ignored: MEAN is NaN, gradient 0; a normalizer gives 0 */
    int32_t ignored[2] = { -1, -5 };
    focal_options_init(&o);
    assert_int_equal(focal_softmax_labels(x, ignored, 2, 3, &o, loss, grad), FOCAL_OK);
    assert_true(isnan(loss[0]));
    for (int i = 0; i < 6; i++) assert_true(grad[i] == 0.0f);
    o.normalizer = 4.0f;
    assert_int_equal(focal_softmax_labels(x, ignored, 2, 3, &o, loss, grad), FOCAL_OK);
    assert_true(loss[0] == 0.0f);
}

/* A check value: two classes, logits (0, 0), label 0, gamma 2, alpha off:
 * p = 1/2, loss = (1/2)^2 log 2, dL/dx_0 = -dL/dx_1 = dL/dp p (1 - p)
 * = (-2 (1/2) log 2 - (1/2)^2 / (1/2)) / 4 = -(1 + 2 log 2) / 8. */
static void softmax_check_value(void **state)
{
    (void)state;
    const float x[2] = { 0.0f, 0.0f };
    const int32_t label = 0;
    focal_options o;
    focal_options_init(&o);
    o.alpha = -1.0f;
    float loss, grad[2];
    assert_int_equal(focal_softmax_labels(x, &label, 1, 2, &o, &loss, grad), FOCAL_OK);
    const double want = 0.25 * log(2.0), g0 = -(1.0 + 2.0 * log(2.0)) / 8.0;
    assert_true(fabs(loss - want) <= 1e-7 * want);
    assert_true(fabs(grad[0] - g0) <= 1e-6 * fabs(g0) && fabs(grad[1] + g0) <= 1e-6 * fabs(g0));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(family_errors),
        cmocka_unit_test(softmax_check_value),
        cmocka_unit_test(family_same_bits_for_1_to_4_threads),
        KERNEL_TESTS(softmax_matches_oracle),
        KERNEL_TESTS(softmax_finite_differences),
        KERNEL_TESTS(soft_matches_oracle),
        KERNEL_TESTS(soft_finite_differences),
        KERNEL_TESTS(soft_bitwise_vs_scalar),
        KERNEL_TESTS(softmax_bitwise_vs_scalar),
        KERNEL_TESTS(family_infinite_limits),
    };
    return run_group("test_family", tests, sizeof tests / sizeof tests[0], argc, argv);
}
