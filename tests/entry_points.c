/* SPDX-License-Identifier: MIT */
/*
 * The descriptors of entry_points.h: per entry point its call, inputs,
 * option sets, float64 reference, tolerance rule and own argument errors.
 * Tolerances are docs/DESIGN.md §4.1's; where an older per-API suite used a
 * tighter rule for one entry point, the descriptor keeps it.
 */
#include "entry_points.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "golden/golden_digest.h"
#include "oracle.h"

/* ---- shared by the descriptors and the runners ---------------------------------- */

size_t ep_shape_rows(const ep_shape *s)
{
    return s->shrink ? s->rows / test_shrink() + 13 : s->rows;
}

static void *ep_calloc(size_t n, size_t size)
{
    void *p = calloc(n + 1, size);
    if (p == NULL)
        abort();
    return p;
}

void ep_alloc(ep_problem *p, size_t rows, size_t classes, bool targets, bool labels)
{
    p->rows = rows;
    p->classes = classes;
    p->x = ep_calloc(rows * classes, sizeof(float));
    p->t = targets ? ep_calloc(rows * classes, sizeof(float)) : NULL;
    p->labels = labels ? ep_calloc(rows, sizeof(int32_t)) : NULL;
    p->class_alpha = ep_calloc(classes, sizeof(float));
    p->weight = ep_calloc(rows, sizeof(float));
    p->pos_weight = NULL;
    p->x_at = NULL;
}

void ep_free(ep_problem *p)
{
    free(p->x);
    free(p->t);
    free(p->labels);
    free(p->class_alpha);
    free(p->weight);
    free(p->pos_weight);
    memset(p, 0, sizeof *p);
}

size_t ep_pos_weight_len(const focal_test_entry *e, size_t rows, size_t classes)
{
    if (!(e->flags & EP_POS_WEIGHT))
        return 0;
    return e->flags & EP_POS_WEIGHT_ELEM ? rows * classes : classes;
}

/* len positive weights: 0 (the positive term dropped), 1 (BCE's own), 0.3
 * and 2.5 (below and above 1), and one drawn from [0.05, 6], in turn from a
 * drawn start, so that short per-class arrays differ between problems. */
static void alloc_pos_weight(ep_problem *p, rng_t *r, size_t len)
{
    p->pos_weight = ep_calloc(len, sizeof(float));
    const size_t start = rng_below(r, 5);
    for (size_t i = 0; i < len; i++) {
        const float drawn = rng_float(r, 0.05f, 6.0f);
        p->pos_weight[i] = (const float[]){0.0f, 1.0f, 0.3f, 2.5f, drawn}[(start + i) % 5];
    }
}

size_t ep_targets_len(const focal_test_entry *e, size_t rows, size_t classes)
{
    if (e->flags & EP_LABELS)
        return 0;
    return e->flags & EP_ROW_TARGETS ? rows : rows * classes;
}

float ep_row_target(double u, size_t classes)
{
    if (classes < 2)
        return 0.0f;
    const double span = (double)(classes - 1), x = u * span; /* [0, classes - 1) */
    const double l = floor(x);
    /* one draw in four exactly on the bin (t integral: wr = 0) */
    if (fmod(floor(u * 4096.0), 4.0) == 0.0)
        return (float)l;
    const float t = (float)x; /* may round up to l + 1: still a bin, if not the last */
    return t < (float)span ? t : (float)l;
}

ep_args ep_args_of(const ep_problem *p, const focal_options *o, float *loss, float *grad)
{
    ep_args a = {p->x, p->t, p->labels, p->rows, p->classes, o, loss, grad, NULL};
    return a;
}

size_t ep_loss_len(const focal_test_entry *e, size_t rows, size_t classes, int reduction)
{
    if (reduction != FOCAL_REDUCTION_NONE)
        return 1;
    return e->flags & EP_ROW_LOSS ? rows : rows * classes;
}

bool ep_ignored(const focal_test_entry *e, const ep_problem *p, size_t k, enum ep_what what)
{
    if (p->labels == NULL)
        return false;
    const size_t row = what == EP_LOSS && (e->flags & EP_ROW_LOSS) ? k : k / p->classes;
    return p->labels[row] < 0;
}

const float ep_odd_logits[] = {0.0f,    -0.0f,   1e30f,   -1e30f,    FLT_MAX, -FLT_MAX, 88.72f,
                               -88.72f, 103.97f, -103.97f, INFINITY, -INFINITY, NAN};
const size_t ep_odd_count = sizeof ep_odd_logits / sizeof ep_odd_logits[0];
const size_t ep_odd_finite_count = sizeof ep_odd_logits / sizeof ep_odd_logits[0] - 3;

/* A quarter of the logits from ep_odd_logits (non-finite ones too when asked). */
static void sprinkle_odd(rng_t *r, float *x, size_t n, bool nonfinite)
{
    for (size_t i = 0; i < n; i++)
        if (rng_below(r, 4) == 0)
            x[i] = ep_odd_logits[rng_below(r, nonfinite ? ep_odd_count : ep_odd_finite_count)];
}

bool ep_close(double got, double ref, const ep_tol *tol)
{
    double bound = tol->rel * fabs(ref) + tol->abs;
    if (fabs(ref) < FLT_MIN && bound < FLT_MIN)
        bound = FLT_MIN;
    return fabs(got - ref) <= bound;
}

/* The divisor of SUM and MEAN (1 for NONE), as docs/DESIGN.md §2.2. */
static double divisor_of(const focal_options *o, double counted)
{
    if (o->reduction != FOCAL_REDUCTION_NONE && o->normalizer > 0)
        return o->normalizer;
    if (o->reduction == FOCAL_REDUCTION_MEAN)
        return counted;
    return 1.0;
}

static int tol_set(ep_tol *t, double rel, double abs_tol)
{
    t->rel = rel;
    t->abs = abs_tol;
    t->skip = false;
    return 0;
}

/* Option sets every row entry point (and the 1.0 call, restricted to what it
 * takes) uses for bit identity: every gamma path, class alpha and weights on
 * and off, alpha -0 (must act as +0), smoothing with a fractional and an
 * integral gamma. */
static void bits_row_options(focal_options *o, const ep_problem *p, int i, int reduction)
{
    focal_options_init(o);
    o->reduction = reduction;
    o->gamma = (const float[]){2.0f, 0.0f, 1.0f, 3.0f, 0.5f, 1.5f}[i];
    o->class_alpha = i % 2 ? p->class_alpha : NULL;
    if (i == 2)
        o->alpha = -0.0f;
    o->weight = i >= 2 ? p->weight : NULL;
    o->label_smoothing = i == 3 || i == 4 ? 0.1f : 0.0f;
}

/* Finite differences: smoothing on and off, every gamma kind (the fifth
 * set, gamma 1, only where a descriptor asks for it). */
static void fd_row_options(focal_options *o, const ep_problem *p, int i, int reduction)
{
    focal_options_init(o);
    o->reduction = reduction;
    o->class_alpha = p->class_alpha;
    o->weight = p->weight;
    o->gamma = (const float[]){0.5f, 2.0f, 1.5f, 0.0f, 1.0f}[i];
    o->label_smoothing = i == 1 ? 0.0f : 0.2f;
}

/* ---- sigmoid: focal_sigmoid_loss_grad, _dense, _labels ---------------------------- */

static const focal_options *opt_or_defaults(const ep_args *a, focal_options *defaults)
{
    if (a->opt != NULL)
        return a->opt;
    focal_options_init(defaults);
    return defaults;
}

static int call_loss_grad(const ep_args *a)
{
    focal_options d;
    const focal_options *o = opt_or_defaults(a, &d);
    return focal_sigmoid_loss_grad(a->x, a->t, a->rows * a->classes, o->alpha, o->gamma,
                                   o->reduction, a->loss, a->grad);
}

static int call_dense(const ep_args *a)
{
    return focal_sigmoid_dense(a->x, a->t, a->rows, a->classes, a->opt, a->loss, a->grad);
}

static int call_labels(const ep_args *a)
{
    return focal_sigmoid_labels(a->x, a->labels, a->rows, a->classes, a->opt, a->loss, a->grad);
}

/* The float64 reference of every sigmoid entry point: the target of element
 * (i, c) is the label's one-hot value or the given target, smoothed and
 * rounded to float as the library stores it. */
static void sigmoid_reference(const ep_problem *p, const focal_options *o, double *loss,
                              double *grad, double *reduced)
{
    const size_t n = p->rows * p->classes;
    size_t counted = 0;
    for (size_t i = 0; i < p->rows; i++)
        counted += p->labels == NULL || p->labels[i] >= 0;
    const double divisor = divisor_of(o, (double)counted * (double)p->classes);
    long double sum = 0;
    for (size_t k = 0; k < n; k++) {
        const size_t i = k / p->classes, c = k % p->classes;
        if (p->labels != NULL && p->labels[i] < 0) {
            loss[k] = grad[k] = 0.0;
            continue;
        }
        const float t0 = p->labels ? (p->labels[i] == (int32_t)c ? 1.0f : 0.0f) : p->t[k];
        const double t = (double)fmaf(t0, 1.0f - o->label_smoothing, o->label_smoothing * 0.5f);
        const double a = o->class_alpha ? o->class_alpha[c] : o->alpha;
        const double w = o->weight ? o->weight[i] : 1.0;
        /* pos_weight: one per class (the 1.0 call has none) */
        const oracle_t e = o->pos_weight
                               ? oracle_sigmoid_pw(p->x[k], t, a, o->gamma, o->pos_weight[c])
                               : oracle_eval(p->x[k], t, a, o->gamma);
        loss[k] = w * e.loss;
        grad[k] = w * e.grad / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        sum += loss[k];
    }
    *reduced = (double)(sum / divisor);
}

/* Hard where the (smoothed) target is 0 or 1; the soft absolute term scales
 * with what multiplies the element (weight, 1 / divisor), capped at 1. */
static void sigmoid_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                              enum ep_what what, ep_tol *tol)
{
    if (what == EP_FD_GRAD) {
        tol_set(tol, 1e-4, 1e-7);
        return;
    }
    const size_t i = k / p->classes;
    bool hard;
    if (o->label_smoothing > 0)
        hard = false;
    else if (p->labels)
        hard = true;
    else
        hard = p->t[k] == 0.0f || p->t[k] == 1.0f;
    double scale = o->weight ? o->weight[i] : 1.0;
    if (what == EP_GRAD && o->reduction != FOCAL_REDUCTION_NONE) {
        size_t counted = 0;
        for (size_t r = 0; r < p->rows; r++)
            counted += p->labels == NULL || p->labels[r] >= 0;
        scale /= divisor_of(o, (double)counted * (double)p->classes);
    }
    tol_set(tol, hard ? TOL_HARD_REL : TOL_SOFT_REL, hard ? 0.0 : TOL_SOFT_ABS * fmin(1.0, scale));
}

/* Rows of the sigmoid row entry points: ~10% ignored (-1), ~30% background
 * (== classes), the rest a class; targets the labels' one-hot values. */
static void make_sigmoid_rows(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                              enum ep_purpose purpose, bool labels)
{
    ep_alloc(p, rows, classes, true, labels);
    int32_t *lab = labels ? p->labels : malloc((rows + 1) * sizeof(int32_t));
    if (lab == NULL)
        abort();
    fill_logits_uniform(r, p->x, rows * classes, -12.0f, 12.0f);
    for (size_t c = 0; c < classes; c++)
        p->class_alpha[c] = rng_float(r, 0.0f, 1.0f);
    for (size_t i = 0; i < rows; i++) {
        const size_t u = rng_below(r, 10);
        /* dense targets have no ignored rows: background instead */
        lab[i] = u == 0 && labels ? -1 : u < 4 ? (int32_t)classes : (int32_t)rng_below(r, classes);
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        for (size_t c = 0; c < classes; c++)
            p->t[i * classes + c] = (int32_t)c == lab[i] ? 1.0f : 0.0f;
        /* dense: every third row soft (the dense call's own case) */
        if (!labels && i % 3 == 1)
            fill_targets_soft(r, p->t + i * classes, classes);
    }
    if (!labels)
        free(lab);
    if (purpose == EP_FD)
        fill_logits_uniform(r, p->x, rows * classes, -4.0f, 4.0f);
    if (purpose == EP_BITS) {
        sprinkle_odd(r, p->x, rows * classes, true);
        /* unchecked weights: NaN and inf must still give the same bits */
        if (rows > 1) {
            p->weight[1] = NAN;
            p->weight[rows - 1] = INFINITY;
        }
        /* class alphas of -0 act as +0 on every kernel */
        for (size_t c = 2; c < classes; c += 5)
            p->class_alpha[c] = -0.0f;
    }
}

static void make_labels(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                        enum ep_purpose purpose)
{
    make_sigmoid_rows(p, r, rows, classes, purpose, true);
    alloc_pos_weight(p, r, classes);
}

static void make_dense(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                       enum ep_purpose purpose)
{
    make_sigmoid_rows(p, r, rows, classes, purpose, false);
    alloc_pos_weight(p, r, classes);
}

static void row_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose, int i,
                        int reduction)
{
    if (purpose == EP_ORACLE)
        options_variant(o, i, reduction, p->class_alpha, p->weight);
    else if (purpose == EP_FD)
        fd_row_options(o, p, i, reduction);
    else
        bits_row_options(o, p, i, reduction);
}

/* The row option sets of each purpose (softmax's), then each of them again
 * with pos_weight, one per class: every gamma path, class alpha, weights,
 * smoothing and normalizer meet it, and the sets without it keep the 1.1
 * calls covered. */
static const int row_sets[EP_PURPOSES] = {OPTIONS_VARIANTS, 5, 6};

static void sigmoid_row_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose,
                                int i, int reduction)
{
    row_options(o, p, purpose, i % row_sets[purpose], reduction);
    if (i >= row_sets[purpose])
        o->pos_weight = p->pos_weight;
}

/* The 1.0 call: logits mixed, targets half soft, half hard. */
static void make_loss_grad(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                           enum ep_purpose purpose)
{
    ep_alloc(p, rows, classes, true, false);
    const size_t n = rows * classes;
    if (purpose == EP_FD)
        fill_logits_uniform(r, p->x, n, -6.0f, 6.0f);
    else
        fill_logits_mixed(r, p->x, n);
    fill_targets_soft(r, p->t, n);
    for (size_t i = 0; i < n; i += 2)
        p->t[i] = (float)rng_below(r, 2);
    if (purpose == EP_BITS)
        sprinkle_odd(r, p->x, n, true);
}

static void loss_grad_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose,
                              int i, int reduction)
{
    (void)p;
    focal_options_init(o);
    o->reduction = reduction;
    if (purpose == EP_ORACLE) {
        o->gamma = (const float[]){2.0f, 1.5f, 0.0f, 0.5f, 3.0f, 2.5f, 1.0f, 8.0f}[i];
        o->alpha = (const float[]){0.25f, -1.0f, 0.75f, 1.0f, 0.0f, 0.25f, 0.9f, 0.5f}[i];
    } else if (purpose == EP_FD) {
        o->gamma = (const float[]){0.5f, 2.0f, 1.5f, 0.0f}[i];
        o->alpha = (const float[]){0.25f, -1.0f, 0.9f, 0.25f}[i];
    } else {
        o->gamma = (const float[]){2.0f, 0.0f, 1.0f, 3.0f, 0.5f, 1.5f}[i];
        o->alpha = (const float[]){0.25f, -1.0f, -0.0f, 1.0f, 0.0f, 0.75f}[i];
    }
}

/* ---- softmax ---------------------------------------------------------------------- */

static int call_softmax(const ep_args *a)
{
    return focal_softmax_labels(a->x, a->labels, a->rows, a->classes, a->opt, a->loss, a->grad);
}

/* The bitwise inputs of a row loss: in every third row extreme logits
 * (non-finite ones in odd rows), and unchecked weights of NaN and inf. */
static void row_extremes(ep_problem *p, rng_t *r)
{
    const size_t rows = p->rows, classes = p->classes;
    for (size_t i = 0; i < rows; i += 3)
        for (size_t c = 0; c < classes; c++)
            if (rng_below(r, 3) == 0)
                p->x[i * classes + c] =
                    ep_odd_logits[rng_below(r, i % 2 ? ep_odd_count : ep_odd_finite_count)];
    if (rows > 1) {
        p->weight[1] = NAN;
        p->weight[rows - 1] = INFINITY;
    }
}

/* The absolute part of the soft-gradient tolerance: TOL_SOFT_ABS, over the
 * normalizer where one divides the reduced loss's gradient. */
static double soft_grad_abs(const focal_options *o)
{
    return TOL_SOFT_ABS * (o->reduction == FOCAL_REDUCTION_NONE || !(o->normalizer > 0)
                               ? 1.0
                               : 1.0 / o->normalizer);
}

/* ~10% of rows ignored; logits in [-range, range], some rows confident (the
 * label, or another class, far above the rest). */
static void make_softmax(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                         enum ep_purpose purpose)
{
    const float range = purpose == EP_ORACLE ? 8.0f : purpose == EP_FD ? 3.0f : 12.0f;
    ep_alloc(p, rows, classes, false, true);
    fill_logits_uniform(r, p->x, rows * classes, -range, range);
    for (size_t c = 0; c < classes; c++)
        p->class_alpha[c] = rng_float(r, 0.0f, 1.0f);
    for (size_t i = 0; i < rows; i++) {
        p->labels[i] = rng_below(r, 10) == 0 ? -1 : (int32_t)rng_below(r, classes);
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        if (purpose == EP_FD) /* a smooth region: no far outliers */
            continue;
        if (rng_below(r, 4) == 0 && p->labels[i] >= 0)
            p->x[i * classes + (size_t)p->labels[i]] += rng_float(r, 10.0f, 60.0f);
        else if (rng_below(r, 4) == 0)
            p->x[i * classes + rng_below(r, classes)] += rng_float(r, 10.0f, 60.0f);
    }
    if (purpose == EP_BITS) {
        row_extremes(p, r);
        /* kernels skip different class ranges of one-hot rows: -0 acts as +0 */
        for (size_t c = 2; c < classes; c += 5)
            p->class_alpha[c] = -0.0f;
    }
}

static void softmax_reference(const ep_problem *p, const focal_options *o, double *loss,
                              double *grad, double *reduced)
{
    const size_t C = p->classes;
    size_t counted = 0;
    for (size_t i = 0; i < p->rows; i++)
        counted += p->labels[i] >= 0;
    const double divisor = divisor_of(o, (double)counted);
    /* the smoothed targets, rounded to float as the library stores them */
    const float keep = 1.0f - o->label_smoothing, add = o->label_smoothing / (float)C;
    long double sum = 0;
    for (size_t i = 0; i < p->rows; i++) {
        if (p->labels[i] < 0) {
            loss[i] = 0;
            for (size_t c = 0; c < C; c++)
                grad[i * C + c] = 0;
            continue;
        }
        const double w = o->weight ? o->weight[i] : 1.0;
        loss[i] = w * oracle_softmax_row(p->x + i * C, C, p->labels[i], fmaf(1.0f, keep, add),
                                         add, o->class_alpha, o->alpha, o->gamma, grad + i * C);
        for (size_t c = 0; c < C; c++)
            grad[i * C + c] *= w / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        sum += loss[i];
    }
    *reduced = (double)(sum / divisor);
}

/* Smoothing spreads the target, so p - y' cancels as for soft targets. */
static void softmax_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                              enum ep_what what, ep_tol *tol)
{
    (void)p;
    (void)k;
    if (what == EP_FD_GRAD) {
        tol_set(tol, 2e-4, 1e-6);
        return;
    }
    const bool soft = o->label_smoothing > 0;
    double abs_tol = 0.0;
    if (what == EP_GRAD && soft)
        abs_tol = soft_grad_abs(o);
    tol_set(tol, soft ? TOL_SOFT_REL : TOL_HARD_REL, abs_tol);
}

static void softmax_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose, int i,
                            int reduction)
{
    row_options(o, p, purpose, i, reduction);
}

/* label == classes: no background class for softmax. */
static void softmax_label_classes(ep_args *a, focal_options *o)
{
    (void)o;
    ((int32_t *)a->labels)[1] = (int32_t)a->classes;
}

/* The per-row loss is 2 floats (NONE): right after it the logits may start. */
static void softmax_logits_after_loss(ep_args *a, focal_options *o)
{
    o->reduction = FOCAL_REDUCTION_NONE;
    a->x = a->loss + 2;
    a->rows = 1;
}

static void softmax_logits_touch_loss(ep_args *a, focal_options *o)
{
    o->reduction = FOCAL_REDUCTION_NONE;
    a->x = a->loss + 1;
    a->rows = 1;
}

/* 2 rows of 2 classes: 2 loss floats, the second over the logits. */
static void softmax_logits_in_loss(ep_args *a, focal_options *o)
{
    o->reduction = FOCAL_REDUCTION_NONE;
    a->x = a->loss + 1;
    a->classes = 2;
}

static const ep_error_case softmax_errors[] = {
    {"label == classes", softmax_label_classes, FOCAL_ELABEL},
    {"logits right after the row losses", softmax_logits_after_loss, FOCAL_OK},
    {"logits after the first row loss (1 row)", softmax_logits_touch_loss, FOCAL_OK},
    {"logits over the second row loss", softmax_logits_in_loss, FOCAL_EOVERLAP},
};

/* ---- quality focal and varifocal ---------------------------------------------------- */

static int call_quality(const ep_args *a)
{
    return focal_quality_focal(a->x, a->t, a->rows * a->classes, a->opt, a->loss, a->grad);
}

static int call_varifocal(const ep_args *a)
{
    return focal_varifocal(a->x, a->t, a->rows * a->classes, a->opt, a->loss, a->grad);
}

/* Scores: soft with a third exact 0 (the negatives, as detection heads have)
 * and a few exact 1; per-element weights. */
static void make_scores(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                        enum ep_purpose purpose)
{
    ep_alloc(p, rows, classes, true, false);
    const size_t n = rows * classes;
    if (purpose == EP_FD) {
        fill_logits_uniform(r, p->x, n, -4.0f, 4.0f);
        fill_targets_soft(r, p->t, n);
        for (size_t i = 0; i < n; i += 3)
            p->t[i] = 0.0f;
        for (size_t i = 0; i < n; i++)
            p->weight[i] = rng_float(r, 0.0f, 2.0f);
        return;
    }
    fill_logits_mixed(r, p->x, n);
    if (purpose == EP_ORACLE) /* extreme finite logits */
        for (size_t i = 0; i < n; i += 97)
            p->x[i] = (const float[]){1e30f, -1e30f, 88.0f, -88.0f, 200.0f, -200.0f}[(i / 97) % 6];
    else
        sprinkle_odd(r, p->x, n, n % 2);
    fill_targets_soft(r, p->t, n);
    for (size_t i = 0; i < n; i++) {
        p->weight[i] = rng_float(r, 0.0f, 2.0f);
        if (rng_below(r, 3) == 0)
            p->t[i] = 0.0f;
    }
    if (purpose == EP_BITS && n > 5) {
        p->weight[2] = NAN;
        p->weight[4] = INFINITY;
    }
}

/* Quality focal: mmdet's (alpha ignored), or with pos_weight (one per
 * element) or the alpha flag Ultralytics' QFocalLoss. */
static oracle_t quality_one(const ep_problem *p, const focal_options *o, size_t i)
{
    if (o->pos_weight == NULL && !(o->flags & FOCAL_FLAG_QUALITY_ALPHA))
        return oracle_quality(p->x[i], p->t[i], o->gamma);
    return oracle_quality_yolo(p->x[i], p->t[i], o->alpha, o->gamma,
                               o->pos_weight ? o->pos_weight[i] : 1.0,
                               (o->flags & FOCAL_FLAG_QUALITY_ALPHA) != 0);
}

static oracle_t varifocal_one(const ep_problem *p, const focal_options *o, size_t i)
{
    return oracle_varifocal(p->x[i], p->t[i], o->alpha, o->gamma);
}

static void scores_reference(const ep_problem *p, const focal_options *o, double *loss,
                             double *grad, double *reduced,
                             oracle_t (*one)(const ep_problem *, const focal_options *, size_t))
{
    const size_t n = p->rows * p->classes;
    const double divisor = divisor_of(o, (double)n);
    long double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const oracle_t e = one(p, o, i);
        const double w = o->weight ? o->weight[i] : 1.0;
        loss[i] = w * e.loss;
        grad[i] = w * e.grad / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        sum += loss[i];
    }
    *reduced = (double)(sum / divisor);
}

static void quality_reference(const ep_problem *p, const focal_options *o, double *loss,
                              double *grad, double *reduced)
{
    scores_reference(p, o, loss, grad, reduced, quality_one);
}

static void varifocal_reference(const ep_problem *p, const focal_options *o, double *loss,
                                double *grad, double *reduced)
{
    scores_reference(p, o, loss, grad, reduced, varifocal_one);
}

static void scores_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                             enum ep_what what, ep_tol *tol, bool quality)
{
    const float s = p->t[k];
    const bool hard = s == 0.0f || s == 1.0f;
    if (what == EP_FD_GRAD) {
        tol_set(tol, 1e-4, 1e-6);
        /* |s - p|^g with g < 1 has an unbounded slope at p = s, and for g < 2
         * an unbounded curvature: a central difference over a step that
         * reaches p = s measures the kink, not the derivative (the oracle
         * suite checks the gradient there) */
        const double d = fabs(oracle_quality(p->x[k], s, 0.0).grad); /* |p - s| */
        tol->skip = quality && ((o->gamma < 1.0f && d < 1e-2) || (o->gamma < 2.0f && d < 1e-3));
        return;
    }
    const double w = o->weight ? o->weight[k] : 1.0;
    double scale = w;
    if (what == EP_GRAD && o->reduction != FOCAL_REDUCTION_NONE)
        scale /= divisor_of(o, (double)(p->rows * p->classes));
    tol_set(tol, hard ? TOL_HARD_REL : TOL_SOFT_REL, hard ? 0.0 : TOL_SOFT_ABS * scale);
    /* the same slope: the soft quality loss is checked for g >= 1 only */
    tol->skip = quality && !hard && o->gamma < 1.0f;
}

static void quality_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                              enum ep_what what, ep_tol *tol)
{
    scores_tolerance(p, o, k, what, tol, true);
}

static void varifocal_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                                enum ep_what what, ep_tol *tol)
{
    scores_tolerance(p, o, k, what, tol, false);
}

static void scores_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose, int i,
                           int reduction, float alpha)
{
    focal_options_init(o);
    o->reduction = reduction;
    o->alpha = alpha;
    if (purpose == EP_ORACLE) {
        o->gamma = (const float[]){2.0f, 0.0f, 1.0f, 1.5f, 3.0f, 2.5f, 0.5f}[i];
        o->weight = i % 2 ? p->weight : NULL;
        o->normalizer = i == 3 ? 9.5f : 0.0f;
    } else if (purpose == EP_FD) {
        o->gamma = (const float[]){2.0f, 1.5f, 0.5f, 0.0f}[i];
        o->alpha = 0.75f;
        o->weight = i == 2 ? p->weight : NULL;
    } else {
        o->gamma = (const float[]){2.0f, 0.0f, 1.0f, 3.0f, 0.5f, 1.5f}[i % 6];
        o->alpha = i % 6 == 4 ? -1.0f : 0.75f;
        o->weight = i >= 6 ? p->weight : NULL;
    }
}

/* Scores with a per-element pos_weight (see make_scores). */
static void make_quality(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                         enum ep_purpose purpose)
{
    make_scores(p, r, rows, classes, purpose);
    alloc_pos_weight(p, r, rows * classes);
}

/* The score sets of each purpose (varifocal's), then extra sets with 1.2's
 * pos_weight (one per element), the alpha flag, or both, in turn, over the
 * base sets' gammas and weights: oracle 12 (each gamma with pos_weight and
 * with the flag; alpha < 0, a_t = 1, and 0.6 among them), finite
 * differences 5 (the last with gamma 1), bits 6 (NaN and inf weights in
 * the odd ones; the last is the thread check's). */
static const int score_sets[EP_PURPOSES] = {7, 4, 12};

static void quality_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose, int i,
                            int reduction)
{
    const int base = score_sets[purpose];
    if (i < base) {
        scores_options(o, p, purpose, i, reduction, 0.25f);
        return;
    }
    const int k = i - base;
    int kind; /* 0 pos_weight, 1 the flag, 2 both */
    if (purpose == EP_ORACLE) {
        scores_options(o, p, purpose, k % 6, reduction, 0.25f);
        kind = k / 4;
        if (k == 9)
            o->alpha = -1.0f;
        if (k == 10)
            o->alpha = 0.6f;
    } else if (purpose == EP_FD) {
        scores_options(o, p, purpose, k % 4, reduction, 0.25f);
        kind = k == 1 ? 0 : 2;
        if (k == 4)
            o->gamma = 1.0f;
    } else {
        scores_options(o, p, purpose, k % 2 ? 6 + k : k, reduction, 0.25f);
        kind = k % 3;
    }
    o->pos_weight = kind != 1 ? p->pos_weight : NULL;
    o->flags = kind != 0 ? FOCAL_FLAG_QUALITY_ALPHA : 0;
}

static void varifocal_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose,
                              int i, int reduction)
{
    scores_options(o, p, purpose, i, reduction, 0.75f);
}

/* ---- distribution focal (1.4) ---------------------------------------------------------- */

static int call_dfl(const ep_args *a)
{
    return focal_distribution_focal(a->x, a->t, a->rows, a->classes, a->opt, a->loss, a->grad);
}

/* Logits as softmax's (some rows confident, at a target bin or elsewhere);
 * one target per row, a quarter of them exactly on a bin. */
static void make_dfl(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                     enum ep_purpose purpose)
{
    const float range = purpose == EP_ORACLE ? 8.0f : purpose == EP_FD ? 3.0f : 12.0f;
    ep_alloc(p, rows, classes, true, false);
    fill_logits_uniform(r, p->x, rows * classes, -range, range);
    for (size_t i = 0; i < rows; i++) {
        p->t[i] = ep_row_target(rng_float(r, 0.0f, 1.0f), classes);
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        if (purpose == EP_FD)
            continue;
        if (rng_below(r, 4) == 0)
            p->x[i * classes + (size_t)p->t[i]] += rng_float(r, 10.0f, 60.0f);
        else if (rng_below(r, 4) == 0)
            p->x[i * classes + rng_below(r, classes)] += rng_float(r, 10.0f, 60.0f);
    }
    if (purpose == EP_BITS)
        row_extremes(p, r);
}

/* The two cross-entropies from the softmax oracle at gamma 0, weighted by
 * wl and wr as the library rounds them (wl to float once, wr exact). */
static void dfl_reference(const ep_problem *p, const focal_options *o, double *loss,
                          double *grad, double *reduced)
{
    const size_t C = p->classes;
    const double divisor = divisor_of(o, (double)p->rows);
    double gl[C > 0 ? C : 1], gr[C > 0 ? C : 1];
    long double sum = 0;
    for (size_t i = 0; i < p->rows; i++) {
        const double t = p->t[i], l = floor(t);
        const double wl = (float)(l + 1.0 - t), wr = t - l;
        const float *x = p->x + i * C;
        const double ce_l = oracle_softmax_row(x, C, (long)l, 1.0, 0.0, NULL, 1.0, 0.0, gl);
        const double ce_r = oracle_softmax_row(x, C, (long)l + 1, 1.0, 0.0, NULL, 1.0, 0.0, gr);
        const double w = o->weight ? o->weight[i] : 1.0;
        /* a zero weight drops its term, even where the CE is infinite */
        loss[i] = w * ((wl != 0 ? wl * ce_l : 0.0) + (wr != 0 ? wr * ce_r : 0.0));
        const double scale = w / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        for (size_t c = 0; c < C; c++)
            grad[i * C + c] = (wl * gl[c] + wr * gr[c]) * scale;
        sum += loss[i];
    }
    *reduced = (double)(sum / divisor);
}

/* The gradient p (wl + wr) - y cancels where p is close to a target weight,
 * as for the softmax loss's smoothed targets. */
static void dfl_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                          enum ep_what what, ep_tol *tol)
{
    (void)p;
    (void)k;
    if (what == EP_FD_GRAD) {
        tol_set(tol, 2e-4, 1e-6);
        return;
    }
    tol_set(tol, what == EP_GRAD ? TOL_SOFT_REL : TOL_HARD_REL,
            what == EP_GRAD ? soft_grad_abs(o) : 0.0);
}

/* Weights and the normalizer on and off; alpha and gamma are not read, so
 * some sets hold values that would be errors elsewhere (the bits must not
 * change with them). The box losses and smooth L1 take the same sets. */
static void dfl_options(focal_options *o, const ep_problem *p, enum ep_purpose purpose, int i,
                        int reduction)
{
    focal_options_init(o);
    o->reduction = reduction;
    o->weight = i % 2 ? p->weight : NULL;
    if (i == 2 || i == 3)
        o->normalizer = purpose == EP_FD ? 3.5f : 17.5f;
    if (purpose == EP_BITS && i >= 2) {
        o->alpha = NAN;
        o->gamma = -1.0f;
    }
}

/* Targets: one past the last valid one, the last bin itself, a negative
 * zero (valid), alpha and gamma that others refuse. 2 rows x 3 bins:
 * targets in [0, 2). */
static void dfl_target_last_bin(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->t)[1] = (float)a->classes - 1.0f;
}
static void dfl_target_below_last(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->t)[1] = nextafterf((float)a->classes - 1.0f, 0.0f);
}
static void dfl_target_neg(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->t)[0] = -0x1p-149f;
}
static void dfl_target_neg_zero(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->t)[0] = -0.0f;
}
static void dfl_target_nan(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->t)[1] = NAN;
}
static void dfl_target_inf(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->t)[1] = INFINITY;
}
static void dfl_one_bin(ep_args *a, focal_options *o)
{
    (void)o;
    a->classes = 1;
    ((float *)a->t)[0] = 0.0f;
    ((float *)a->t)[1] = 0.0f;
}
static void dfl_alpha_gamma(ep_args *a, focal_options *o)
{
    (void)a;
    o->alpha = NAN;
    o->gamma = -1.0f;
}

static const ep_error_case dfl_errors[] = {
    {"target = bins - 1", dfl_target_last_bin, FOCAL_ETARGET},
    {"target just below bins - 1", dfl_target_below_last, FOCAL_OK},
    {"target -FLT_TRUE_MIN", dfl_target_neg, FOCAL_ETARGET},
    {"target -0", dfl_target_neg_zero, FOCAL_OK},
    {"target NaN", dfl_target_nan, FOCAL_ETARGET},
    {"target inf", dfl_target_inf, FOCAL_ETARGET},
    {"one bin (no valid target)", dfl_one_bin, FOCAL_ETARGET},
    {"alpha NaN, gamma -1 (not read)", dfl_alpha_gamma, FOCAL_OK},
    {"logits right after the row losses", softmax_logits_after_loss, FOCAL_OK},
    {"logits over the second row loss", softmax_logits_in_loss, FOCAL_EOVERLAP},
};

/* ---- box regression losses (1.5) -------------------------------------------------- */

/*
 * focal_box_iou_loss and focal_smooth_l1 take scalars that focal_options
 * does not hold: the kind, the convention and eps; beta. Each value of them
 * is a descriptor of its own, generated from one list (REGRESSION_ENTRIES,
 * below): per box descriptor its call, generator, reference and tolerance
 * pass its constants to the shared functions here. A box is a row of 4
 * "classes" (EP_BOXES): the predicted box where the logits are, the target
 * box where the targets are, one weight and (NONE) one loss per box.
 */

/* The large eps of the second set of box descriptors: next to areas of 1 to
 * 100, the defaults (1e-7, 1e-6) change nothing a float shows; 0.05 makes
 * every placement of eps (heights, ratios, union, enclosure, alpha, the
 * clamps) show in the loss and the gradient. */
#define BOX_LARGE_EPS 0.05f

/* The finite differences' step and how many steps from a kink every point
 * of an EP_FD problem stays. */
#define BOX_FD_STEP 0x1p-10
#define BOX_FD_KINK_STEPS 8.0

static int call_box(const ep_args *a, int kind, int convention, float eps)
{
    const ep_scalars *s = a->scalars;
    if (s != NULL) {
        kind = s->set & EP_SET_KIND ? s->kind : kind;
        convention = s->set & EP_SET_CONVENTION ? s->convention : convention;
        eps = s->set & EP_SET_SCALAR ? s->scalar : eps;
    }
    return focal_box_iou_loss(a->x, a->t, a->rows, kind, convention, eps, a->opt, a->loss,
                              a->grad);
}

static int call_smooth_l1(const ep_args *a, float beta)
{
    if (a->scalars != NULL && (a->scalars->set & EP_SET_SCALAR))
        beta = a->scalars->scalar;
    return focal_smooth_l1(a->x, a->t, a->rows * a->classes, beta, a->opt, a->loss, a->grad);
}

/* A side log-uniform in [lo, hi]. */
static float box_side(rng_t *r, double lo, double hi)
{
    return (float)(lo * exp(rng_unit(r) * log(hi / lo)));
}

/* How a predicted box is drawn around its target (box_pair). */
enum box_pair_kind {
    PAIR_JITTER,   /* each side moved by up to 60% of the target's size: iou 0..1 */
    PAIR_NESTED,   /* one box inside the other                                  */
    PAIR_NEAR,     /* sides moved by 1e-4 to 1e-2 of the size: 1 - iou cancels   */
    PAIR_AROUND,   /* an independent box within 1.5 sizes: iou anywhere, often 0 */
    PAIR_DISJOINT, /* beside it, a gap of 5% to 2 sizes along one axis           */
    PAIR_KINDS
};

/* A valid pair (x1 < x2, y1 < y2 for both): the target's corner in
 * [-50, 150)^2, its sides and the prediction's log-uniform in [lo, hi]. */
static void box_pair(rng_t *r, float *p, float *t, double lo, double hi)
{
    t[0] = rng_float(r, -50.0f, 150.0f);
    t[1] = rng_float(r, -50.0f, 150.0f);
    t[2] = t[0] + box_side(r, lo, hi);
    t[3] = t[1] + box_side(r, lo, hi);
    const int kind = (int)rng_below(r, PAIR_KINDS);
    const bool pred_inside = rng_below(r, 2) == 0;
    const size_t gap_axis = rng_below(r, 2);
    for (size_t a = 0; a < 2; a++) {
        const float t1 = t[a], t2 = t[a + 2], s = t2 - t1;
        float p1, p2;
        if (kind == PAIR_JITTER) {
            p1 = t1 + s * rng_float(r, -0.6f, 0.6f);
            p2 = t2 + s * rng_float(r, -0.6f, 0.6f);
            if (!(p2 - p1 >= 0.1f * s))
                p2 = p1 + s * rng_float(r, 0.1f, 1.0f);
        } else if (kind == PAIR_NESTED) {
            const float f1 = rng_float(r, 0.05f, 0.4f), f2 = rng_float(r, 0.05f, 0.4f);
            p1 = pred_inside ? t1 + s * f1 : t1 - s * f1;
            p2 = pred_inside ? t2 - s * f2 : t2 + s * f2;
        } else if (kind == PAIR_NEAR) {
            const float d = (float)pow(10.0, -4.0 + 2.0 * rng_unit(r));
            p1 = t1 + s * rng_float(r, -d, d);
            p2 = t2 + s * rng_float(r, -d, d);
        } else if (kind == PAIR_DISJOINT && a == gap_axis) {
            const float gap = s * box_side(r, 0.05, 2.0), side = box_side(r, lo, hi);
            p1 = rng_below(r, 2) ? t2 + gap : t1 - gap - side;
            p2 = p1 + side;
        } else { /* around, and the other axis of a disjoint pair */
            const float c = 0.5f * (t1 + t2) + s * rng_float(r, -1.5f, 1.5f);
            const float side = box_side(r, lo, hi);
            p1 = c - 0.5f * side;
            p2 = c + 0.5f * side;
        }
        if (!(p2 > p1))
            p2 = p1 + s; /* rounding at the far ends of [lo, hi] */
        p[a] = p1;
        p[a + 2] = p2;
    }
}

/* The features at the kinks, all exact in float: a coordinate tied to the
 * target's (min / max share the gradient), boxes that touch (an extent of
 * exactly 0, the clamp's bound: nothing passes), a zero width, an
 * identical pair. */
static void box_exact_features(rng_t *r, float *p, const float *t, bool zero_height)
{
    const size_t u = rng_below(r, 24);
    const size_t k = rng_below(r, 4), a = k % 2;
    if (u < 4) {
        const float old = p[k];
        p[k] = t[k];
        if (!(p[a + 2] > p[a]))
            p[k] = old;
    } else if (u < 6) {
        const float side = p[a + 2] - p[a], o1 = p[a], o2 = p[a + 2];
        p[a] = u == 4 ? t[a + 2] : t[a] - side;
        p[a + 2] = u == 4 ? t[a + 2] + side : t[a];
        if (!(p[a + 2] > p[a])) {
            p[a] = o1;
            p[a + 2] = o2;
        }
    } else if (u == 6) {
        p[2] = p[0];
    } else if (u == 7 && zero_height) {
        p[3] = p[1];
    } else if (u == 8) {
        memcpy(p, t, 4 * sizeof(float));
    }
}

/* Values for the bitwise inputs' box coordinates. */
static const float box_odd[] = {NAN,     INFINITY, -INFINITY, 1e30f,        -1e30f,
                                FLT_MAX, -FLT_MAX, -0.0f,     FLT_TRUE_MIN, 1e-30f,
                                0.0f,    1e18f,    -1e18f};

/* Bitwise inputs: one pair in four made odd: inverted (x2 < x1), zero width
 * or height, identical, a tiny pair (areas next to eps), far apart, or a
 * coordinate from box_odd (NaN, infinities, huge, -0, subnormal). */
static void box_odd_pair(rng_t *r, float *p, float *t)
{
    float *b = rng_below(r, 3) == 0 ? t : p;
    const size_t k = rng_below(r, 4), a = k % 2;
    switch (rng_below(r, 7)) {
    case 0: {
        const float s = b[a];
        b[a] = b[a + 2];
        b[a + 2] = s;
        break;
    }
    case 1:
        b[a + 2] = b[a];
        break;
    case 2:
        memcpy(p, t, 4 * sizeof(float));
        break;
    case 3:
        for (size_t i = 0; i < 4; i++) {
            p[i] = (float)((double)p[i] * 1e-4);
            t[i] = (float)((double)t[i] * 1e-4);
        }
        break;
    case 4:
        for (size_t i = 0; i < 4; i++)
            b[i] += 1e6f;
        break;
    default:
        b[k] = box_odd[rng_below(r, sizeof box_odd / sizeof box_odd[0])];
        break;
    }
}

/* No kink within BOX_FD_KINK_STEPS steps of the pair along any predicted
 * coordinate: the same comparisons, none fragile, at every such shift. */
static bool box_smooth_around(const float *p, const float *t, int kind, int convention, float eps)
{
    const oracle_reg_t o = oracle_box(p, t, kind, convention, eps, NULL);
    if (o.fragile || !isfinite(o.loss))
        return false;
    for (size_t k = 0; k < 4; k++)
        for (int s = -1; s <= 1; s += 2) {
            float q[4];
            memcpy(q, p, sizeof q);
            q[k] = (float)((double)p[k] + s * BOX_FD_KINK_STEPS * BOX_FD_STEP);
            const oracle_reg_t m = oracle_box(q, t, kind, convention, eps, NULL);
            if (m.fragile || m.branches != o.branches)
                return false;
        }
    return true;
}

/* Boxes for one kind, convention and eps (rows x 4; weights per box in
 * [0, 3)). Oracle: the pairs of box_pair, one in eight tiny (sides 0.01 to
 * 1, where even the default eps shows), with the exact kink features; none
 * fragile (the float may take the other branch there, e.g. mmdet's alpha
 * at iou = 0.5: no accuracy is promised). Finite differences: sides 2 to 60,
 * no kink within BOX_FD_KINK_STEPS steps. Bits: the oracle's pairs, one in
 * four made odd (box_odd_pair), weights NaN and inf. -log iou is infinite
 * at iou = 0: for IOU_LOG without mmdet's clamp the oracle and finite
 * differences keep the boxes overlapping. */
static void make_boxes(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                       enum ep_purpose purpose, int kind, int convention, float eps)
{
    if (classes != 4)
        abort();
    ep_alloc(p, rows, 4, true, false);
    const bool no_zero_iou = kind == FOCAL_BOX_IOU_LOG && convention != FOCAL_BOXES_MMDET &&
                             purpose != EP_BITS;
    for (size_t i = 0; i < rows; i++) {
        float *pb = p->x + 4 * i, *tb = p->t + 4 * i;
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        for (int tries = 0;; tries++) {
            const bool tiny = purpose == EP_ORACLE && rng_below(r, 8) == 0;
            if (purpose == EP_FD)
                box_pair(r, pb, tb, 2.0, 60.0);
            else
                box_pair(r, pb, tb, tiny ? 0.01 : 1.0, tiny ? 1.0 : 100.0);
            if (purpose != EP_FD)
                box_exact_features(r, pb, tb, purpose == EP_BITS);
            if (purpose == EP_BITS) {
                if (rng_below(r, 4) == 0)
                    box_odd_pair(r, pb, tb);
                break;
            }
            if (tries > 1000)
                abort(); /* the generator cannot meet its own conditions */
            /* finite differences: -log iou curves on the scale of the
             * extents, (h / iw)^2 / 3 of truncation: iw, ih >= 0.5 */
            const float least = purpose == EP_FD ? 0.5f : 0.0f;
            if (no_zero_iou && !(fminf(pb[2], tb[2]) - fmaxf(pb[0], tb[0]) > least &&
                                 fminf(pb[3], tb[3]) - fmaxf(pb[1], tb[1]) > least))
                continue;
            if (purpose == EP_FD ? box_smooth_around(pb, tb, kind, convention, eps)
                                 : !oracle_box(pb, tb, kind, convention, eps, NULL).fragile)
                break;
        }
    }
    if (purpose == EP_BITS && rows > 1) {
        p->weight[1] = NAN;
        p->weight[rows - 1] = INFINITY;
    }
}

/* Weighted losses and gradients (one weight per box, MEAN divides by the
 * boxes) of the pairs' float64 references. */
static void box_reference(const ep_problem *p, const focal_options *o, double *loss,
                          double *grad, double *reduced, int kind, int convention, float eps)
{
    const double divisor = divisor_of(o, (double)p->rows);
    long double sum = 0;
    for (size_t i = 0; i < p->rows; i++) {
        const oracle_reg_t b = oracle_box(p->x + 4 * i, p->t + 4 * i, kind, convention, eps,
                                          p->x_at ? p->x_at + 4 * i : NULL);
        const double w = o->weight ? o->weight[i] : 1.0;
        loss[i] = w * b.loss;
        const double scale = w / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        for (size_t c = 0; c < 4; c++)
            grad[4 * i + c] = b.grad[c] * scale;
        sum += loss[i];
    }
    *reduced = (double)(sum / divisor);
}

/* The float evaluation's running error bound (oracle_reg_t: Wilkinson's,
 * in units of u = 2^-24) times REGRESSION_TOL_ULPS, for the library's own
 * order of operations, plus REGRESSION_TOL_REL relative for the weight and
 * the 1 / divisor it multiplies by. The bound is what 1 - iou near 0,
 * (Cd - Ud) / Cd and the gradients' sums of opposite terms need: an
 * absolute error relative to the terms (1, iou, ...), not to the result.
 * Measured (test_accuracy, every kernel, seeds 0 to 10): where nothing
 * cancels the worst error is about 1.5 u of the value (the weight and
 * scale roundings), 0.24 of this tolerance; where something cancels the
 * library is well inside the bound, which counts every rounding at full
 * size; smooth L1's gradient (+-w / divisor) 1.4 u, 0.36 of it. So 4 u
 * times the bound and 4 u relative: about 3x of margin. */
#define REGRESSION_TOL_ULPS 4.0
#define REGRESSION_TOL_REL 0x1p-22

static void regression_tol(const focal_options *o, size_t rows, double w, double err,
                           enum ep_what what, ep_tol *tol)
{
    double scale = fabs(w);
    if (what != EP_LOSS && o->reduction != FOCAL_REDUCTION_NONE)
        scale /= divisor_of(o, (double)rows);
    if (what == EP_FD_GRAD) /* plus the central difference's own error */
        tol_set(tol, 1e-4, (REGRESSION_TOL_ULPS * 0x1p-24 * err + 1e-7) * scale);
    else
        tol_set(tol, REGRESSION_TOL_REL, REGRESSION_TOL_ULPS * 0x1p-24 * err * scale);
}

/* The reduced loss: TOL_REDUCED_REL for the sum's own rounding, plus the
 * weighted sum of the boxes' bounds over the divisor. */
static void box_reduced_tolerance(const ep_problem *p, const focal_options *o, ep_tol *tol,
                                  int kind, int convention, float eps)
{
    double err = 0;
    for (size_t i = 0; i < p->rows; i++)
        err += fabs(o->weight ? o->weight[i] : 1.0) *
               oracle_box(p->x + 4 * i, p->t + 4 * i, kind, convention, eps, NULL).loss_err;
    tol_set(tol, TOL_REDUCED_REL,
            REGRESSION_TOL_ULPS * 0x1p-24 * err / divisor_of(o, (double)p->rows));
}

static void box_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                          enum ep_what what, ep_tol *tol, int kind, int convention, float eps)
{
    const size_t i = what == EP_LOSS ? k : k / 4;
    const oracle_reg_t b = oracle_box(p->x + 4 * i, p->t + 4 * i, kind, convention, eps, NULL);
    regression_tol(o, p->rows, o->weight ? o->weight[i] : 1.0,
                   what == EP_LOSS ? b.loss_err : b.grad_err[k % 4], what, tol);
    /* the generators draw no fragile pair; a caller's own might be */
    tol->skip = b.fragile;
}

/* Smooth L1: target coordinates in [-50, 150), pred = target + d with d 0
 * (one in eight: the L1 kink), inside (-beta, beta) (one in eight) or
 * log-uniform in [1e-3, 30] with either sign; weights per element. Finite
 * differences: |d| >= 0.01 and BOX_FD_KINK_STEPS steps from beta. Bits:
 * ep_odd_logits (NaN, infinities, huge) in a quarter of pred and target. */
static void make_smooth_l1(ep_problem *p, rng_t *r, size_t rows, size_t classes,
                           enum ep_purpose purpose, float beta)
{
    ep_alloc(p, rows, classes, true, false);
    const size_t n = rows * classes;
    for (size_t i = 0; i < n; i++) {
        p->weight[i] = rng_float(r, 0.0f, 3.0f);
        for (int tries = 0;; tries++) {
            const float t = rng_float(r, -50.0f, 150.0f);
            const size_t u = rng_below(r, 8);
            double d = (rng_below(r, 2) ? 1.0 : -1.0) * box_side(r, 1e-3, 30.0);
            if (u == 0 && purpose != EP_FD)
                d = 0.0;
            else if (u == 1)
                d = beta * rng_unit(r) * (rng_below(r, 2) ? 1.0 : -1.0);
            p->t[i] = t;
            p->x[i] = (float)(t + d);
            if (purpose != EP_FD)
                break;
            if (tries > 1000)
                abort();
            const oracle_reg_t o = oracle_smooth_l1(p->x[i], t, beta);
            bool smooth = fabs((double)p->x[i] - t) >= 0.01;
            for (int s = -1; s <= 1 && smooth; s += 2) {
                const float q = (float)((double)p->x[i] + s * BOX_FD_KINK_STEPS * BOX_FD_STEP);
                smooth = oracle_smooth_l1(q, t, beta).branches == o.branches;
            }
            if (smooth)
                break;
        }
    }
    if (purpose == EP_BITS) {
        sprinkle_odd(r, p->x, n, true);
        sprinkle_odd(r, p->t, n, true);
        if (n > 5) {
            p->weight[2] = NAN;
            p->weight[4] = INFINITY;
        }
    }
}

static void smooth_l1_reference(const ep_problem *p, const focal_options *o, double *loss,
                                double *grad, double *reduced, float beta)
{
    const size_t n = p->rows * p->classes;
    const double divisor = divisor_of(o, (double)n);
    long double sum = 0;
    for (size_t i = 0; i < n; i++) {
        const oracle_reg_t e = oracle_smooth_l1(p->x[i], p->t[i], beta);
        const double w = o->weight ? o->weight[i] : 1.0;
        loss[i] = w * e.loss;
        grad[i] = w * e.grad[0] / (o->reduction == FOCAL_REDUCTION_NONE ? 1.0 : divisor);
        sum += loss[i];
    }
    *reduced = (double)(sum / divisor);
}

static void smooth_l1_tolerance(const ep_problem *p, const focal_options *o, size_t k,
                                enum ep_what what, ep_tol *tol, float beta)
{
    const oracle_reg_t e = oracle_smooth_l1(p->x[k], p->t[k], beta);
    regression_tol(o, p->rows * p->classes, o->weight ? o->weight[k] : 1.0,
                   what == EP_LOSS ? e.loss_err : e.grad_err[0], what, tol);
}

/* The argument errors of the box losses: kind, convention, eps (the
 * descriptor's own replaced through ep_args.scalars), the targets as an
 * output, and the per-box loss next to the predictions. On the 2 x 4
 * problem of test_errors. */
#define SCALARS_CASE(fn, bits, k, c, value)                                                 \
    static void fn(ep_args *a, focal_options *o)                                            \
    {                                                                                       \
        static const ep_scalars s = {(bits), (k), (c), (value)};                            \
        (void)o;                                                                            \
        a->scalars = &s;                                                                    \
    }
SCALARS_CASE(box_kind_neg, EP_SET_KIND, -1, 0, 0.0f)
SCALARS_CASE(box_kind_6, EP_SET_KIND, 6, 0, 0.0f)
SCALARS_CASE(box_kind_big, EP_SET_KIND, 1 << 20, 0, 0.0f)
SCALARS_CASE(box_convention_neg, EP_SET_CONVENTION, 0, -1, 0.0f)
SCALARS_CASE(box_convention_3, EP_SET_CONVENTION, 0, 3, 0.0f)
SCALARS_CASE(scalar_neg, EP_SET_SCALAR, 0, 0, -1.0f)
SCALARS_CASE(scalar_tiny_neg, EP_SET_SCALAR, 0, 0, -FLT_TRUE_MIN)
SCALARS_CASE(scalar_nan, EP_SET_SCALAR, 0, 0, NAN)
SCALARS_CASE(scalar_inf, EP_SET_SCALAR, 0, 0, INFINITY)
SCALARS_CASE(scalar_neg_inf, EP_SET_SCALAR, 0, 0, -INFINITY)
SCALARS_CASE(scalar_zero, EP_SET_SCALAR, 0, 0, 0.0f)
SCALARS_CASE(scalar_neg_zero, EP_SET_SCALAR, 0, 0, -0.0f)
SCALARS_CASE(scalar_max, EP_SET_SCALAR, 0, 0, FLT_MAX)
/* every kind with every convention: the valid range's ends */
SCALARS_CASE(box_ciou_mmdet, EP_SET_KIND | EP_SET_CONVENTION, FOCAL_BOX_CIOU,
             FOCAL_BOXES_MMDET, 0.0f)
SCALARS_CASE(box_iou_torchvision, EP_SET_KIND | EP_SET_CONVENTION, FOCAL_BOX_IOU,
             FOCAL_BOXES_TORCHVISION, 0.0f)
static void grad_is_targets(ep_args *a, focal_options *o)
{
    (void)o;
    a->grad = (float *)a->t;
}
static void targets_in_grad(ep_args *a, focal_options *o)
{
    (void)o;
    a->t = a->grad + 2;
}
static void pred_nan(ep_args *a, focal_options *o)
{
    (void)o;
    ((float *)a->x)[2] = NAN;
}

static const ep_error_case box_errors[] = {
    {"kind -1", box_kind_neg, FOCAL_EBOXLOSS},
    {"kind 6", box_kind_6, FOCAL_EBOXLOSS},
    {"kind 2^20", box_kind_big, FOCAL_EBOXLOSS},
    {"convention -1", box_convention_neg, FOCAL_EBOXLOSS},
    {"convention 3", box_convention_3, FOCAL_EBOXLOSS},
    {"CIoU, mmdet (the last of each)", box_ciou_mmdet, FOCAL_OK},
    {"IoU, torchvision (the first of each)", box_iou_torchvision, FOCAL_OK},
    {"eps -1", scalar_neg, FOCAL_EEPS},
    {"eps -FLT_TRUE_MIN", scalar_tiny_neg, FOCAL_EEPS},
    {"eps NaN", scalar_nan, FOCAL_EEPS},
    {"eps inf", scalar_inf, FOCAL_EEPS},
    {"eps -inf", scalar_neg_inf, FOCAL_EEPS},
    {"eps 0", scalar_zero, FOCAL_OK},
    {"eps -0", scalar_neg_zero, FOCAL_OK},
    {"eps FLT_MAX", scalar_max, FOCAL_OK},
    {"grad = targets", grad_is_targets, FOCAL_EOVERLAP},
    {"targets inside grad", targets_in_grad, FOCAL_EOVERLAP},
    {"pred NaN (not an error)", pred_nan, FOCAL_OK},
    {"pred right after the box losses", softmax_logits_after_loss, FOCAL_OK},
    {"pred over the second box loss", softmax_logits_in_loss, FOCAL_EOVERLAP},
};

static const ep_error_case smooth_l1_errors[] = {
    {"beta -1", scalar_neg, FOCAL_EBETA},
    {"beta -FLT_TRUE_MIN", scalar_tiny_neg, FOCAL_EBETA},
    {"beta NaN", scalar_nan, FOCAL_EBETA},
    {"beta inf", scalar_inf, FOCAL_EBETA},
    {"beta -inf", scalar_neg_inf, FOCAL_EBETA},
    {"beta 0 (L1)", scalar_zero, FOCAL_OK},
    {"beta -0", scalar_neg_zero, FOCAL_OK},
    {"beta FLT_MAX", scalar_max, FOCAL_OK},
    {"grad = targets", grad_is_targets, FOCAL_EOVERLAP},
    {"targets inside grad", targets_in_grad, FOCAL_EOVERLAP},
    {"pred NaN (not an error)", pred_nan, FOCAL_OK},
};

/*
 * The list: every box kind with every convention, at the convention's
 * default eps (1e-7 torchvision and Ultralytics, 1e-6 mmdet) and at
 * BOX_LARGE_EPS; smooth L1 at beta 1 (torch's default), 1/9 (Detectron's)
 * and 0 (L1). BOX(KIND, kind, CONVENTION, convention, eps, suites) and
 * SMOOTH_L1(name, beta, suites) are expanded for the functions, the golden
 * families, the descriptors and focal_test_entries[]: a descriptor is one
 * line here. suites: `full` every suite; `golden` every suite and the
 * golden family (a box kind's takes turns over its three conventions,
 * smooth L1's over its three betas); `eps` the oracle, the finite
 * differences, a few bitwise shapes, the argument errors and the fuzz
 * target (the walk is the default eps's).
 */
#define BOX_CONVENTIONS(BOX, K, k)                                                          \
    BOX(K, k, TORCHVISION, torchvision, 1e-7f, golden)                                      \
    BOX(K, k, ULTRALYTICS, ultralytics, 1e-7f, full)                                        \
    BOX(K, k, MMDET, mmdet, 1e-6f, full)                                                    \
    BOX(K, k, TORCHVISION, torchvision_bigeps, BOX_LARGE_EPS, eps)                          \
    BOX(K, k, ULTRALYTICS, ultralytics_bigeps, BOX_LARGE_EPS, eps)                          \
    BOX(K, k, MMDET, mmdet_bigeps, BOX_LARGE_EPS, eps)
#define REGRESSION_ENTRIES(BOX, SMOOTH_L1)                                                  \
    BOX_CONVENTIONS(BOX, IOU, iou)                                                          \
    BOX_CONVENTIONS(BOX, IOU_SQUARE, iou_square)                                            \
    BOX_CONVENTIONS(BOX, IOU_LOG, iou_log)                                                  \
    BOX_CONVENTIONS(BOX, GIOU, giou)                                                        \
    BOX_CONVENTIONS(BOX, DIOU, diou)                                                        \
    BOX_CONVENTIONS(BOX, CIOU, ciou)                                                        \
    SMOOTH_L1(beta1, 1.0f, golden)                                                          \
    SMOOTH_L1(beta1_9, 1.0f / 9.0f, full)                                                   \
    SMOOTH_L1(beta0, 0.0f, full)

#define BOX_FUNCTIONS(K, k, C, c, EPS, suites)                                              \
    static int call_box_##k##_##c(const ep_args *a)                                         \
    {                                                                                       \
        return call_box(a, FOCAL_BOX_##K, FOCAL_BOXES_##C, EPS);                            \
    }                                                                                       \
    static void make_box_##k##_##c(ep_problem *p, rng_t *r, size_t rows, size_t classes,    \
                                   enum ep_purpose purpose)                                 \
    {                                                                                       \
        make_boxes(p, r, rows, classes, purpose, FOCAL_BOX_##K, FOCAL_BOXES_##C, EPS);      \
    }                                                                                       \
    static void reference_box_##k##_##c(const ep_problem *p, const focal_options *o,        \
                                        double *loss, double *grad, double *reduced)        \
    {                                                                                       \
        box_reference(p, o, loss, grad, reduced, FOCAL_BOX_##K, FOCAL_BOXES_##C, EPS);      \
    }                                                                                       \
    static void tolerance_box_##k##_##c(const ep_problem *p, const focal_options *o,        \
                                        size_t k_, enum ep_what what, ep_tol *tol)          \
    {                                                                                       \
        box_tolerance(p, o, k_, what, tol, FOCAL_BOX_##K, FOCAL_BOXES_##C, EPS);            \
    }                                                                                       \
    static void reduced_tolerance_box_##k##_##c(const ep_problem *p, const focal_options *o, \
                                                ep_tol *tol)                                \
    {                                                                                       \
        box_reduced_tolerance(p, o, tol, FOCAL_BOX_##K, FOCAL_BOXES_##C, EPS);              \
    }
#define SMOOTH_L1_FUNCTIONS(b, BETA, suites)                                                \
    static int call_smooth_l1_##b(const ep_args *a)                                         \
    {                                                                                       \
        return call_smooth_l1(a, BETA);                                                     \
    }                                                                                       \
    static void make_smooth_l1_##b(ep_problem *p, rng_t *r, size_t rows, size_t classes,    \
                                   enum ep_purpose purpose)                                 \
    {                                                                                       \
        make_smooth_l1(p, r, rows, classes, purpose, BETA);                                 \
    }                                                                                       \
    static void reference_smooth_l1_##b(const ep_problem *p, const focal_options *o,        \
                                        double *loss, double *grad, double *reduced)        \
    {                                                                                       \
        smooth_l1_reference(p, o, loss, grad, reduced, BETA);                               \
    }                                                                                       \
    static void tolerance_smooth_l1_##b(const ep_problem *p, const focal_options *o,        \
                                        size_t k, enum ep_what what, ep_tol *tol)           \
    {                                                                                       \
        smooth_l1_tolerance(p, o, k, what, tol, BETA);                                      \
    }
REGRESSION_ENTRIES(BOX_FUNCTIONS, SMOOTH_L1_FUNCTIONS)

/* ---- shapes -------------------------------------------------------------------------- */

#define FLAT(n) {(n), 1, false}
#define FLAT10(b)                                                                           \
    FLAT(b), FLAT((b) + 1), FLAT((b) + 2), FLAT((b) + 3), FLAT((b) + 4), FLAT((b) + 5),   \
        FLAT((b) + 6), FLAT((b) + 7), FLAT((b) + 8), FLAT((b) + 9)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* n = 0..70 (every body/tail split of 4-, 8- and 16-lane vectors), then
 * past the 256-element chunk. */
static const ep_shape flat_bits[] = {
    FLAT10(0), FLAT10(10), FLAT10(20), FLAT10(30), FLAT10(40), FLAT10(50), FLAT10(60),
    FLAT(70),  FLAT(107),  FLAT(144),  FLAT(181),  FLAT(218),  FLAT(255),  FLAT(292)};
static const ep_shape flat_fd[] = {FLAT(64)};
static const ep_shape loss_grad_oracle[] = {FLAT(0),   FLAT(1),    FLAT(7),   FLAT(16),
                                            FLAT(17),  FLAT(100),  FLAT(1000), FLAT(4099)};
static const ep_shape scores_oracle[] = {{20000, 1, true}};

static const ep_shape sigmoid_rows_oracle[] = {
    {1, 1, false}, {7, 3, false}, {33, 17, false}, {64, 80, false}, {300, 91, false}};
static const ep_shape sigmoid_rows_fd[] = {{9, 5, false}};
/* row lengths that straddle vectors, chunks and blocks; then small
 * problems, which run every reduction and output variant of every set (a
 * per-class pos_weight shorter than a vector, no rows at all) */
static const ep_shape sigmoid_rows_bits[] = {
    {40000 / 1, 1, true},   {40000 / 3, 3, true},   {40000 / 15, 15, true}, {40000 / 16, 16, true},
    {40000 / 17, 17, true}, {40000 / 80, 80, true}, {40000 / 91, 91, true}, {0, 3, false},
    {1, 1, false},          {5, 3, false},          {6, 16, false},         {23, 17, false},
    {40, 80, false}};

static const ep_shape softmax_oracle[] = {{1, 1, false},   {7, 3, false},    {33, 17, false},
                                          {40, 80, false}, {4, 1000, false}, {3, 1100, false}};
static const ep_shape softmax_fd[] = {{6, 5, false}};
static const ep_shape softmax_bits[] = {
    {4000 / 1 + 5, 1, false},       {4000 / 2 + 5, 2, false},       {4000 / 3 + 5, 3, false},
    {4000 / 15 + 5, 15, false},     {4000 / 16 + 5, 16, false},     {4000 / 17 + 5, 17, false},
    {4000 / 31 + 5, 31, false},     {4000 / 80 + 5, 80, false},     {4000 / 1000 + 5, 1000, false},
    {4000 / 1100 + 5, 1100, false}};

/* DFL: 16 and 17 bins (reg_max of YOLOv8 / GFL), short rows, and rows
 * past FOCAL_SOFTMAX_SEG (walked in segments) */
static const ep_shape dfl_oracle[] = {{1, 2, false},   {7, 3, false},   {33, 16, false},
                                      {40, 17, false}, {5, 1000, false}, {3, 1100, false}};
static const ep_shape dfl_fd[] = {{6, 5, false}};
static const ep_shape dfl_bits[] = {
    {4000 / 2 + 5, 2, false},   {4000 / 3 + 5, 3, false},       {4000 / 15 + 5, 15, false},
    {4000 / 16 + 5, 16, false}, {4000 / 17 + 5, 17, false},     {4000 / 33 + 5, 33, false},
    {0, 16, false},             {4000 / 1100 + 5, 1100, false}};

/* boxes (rows of 4): a box is a lane, so 0..33 boxes meet every tail of 4-,
 * 8- and 16-box vectors; then around the 4096-box block */
#define BOXES(n) {(n), 4, false}
#define BOXES10(b)                                                                          \
    BOXES(b), BOXES((b) + 1), BOXES((b) + 2), BOXES((b) + 3), BOXES((b) + 4),               \
        BOXES((b) + 5), BOXES((b) + 6), BOXES((b) + 7), BOXES((b) + 8), BOXES((b) + 9)
static const ep_shape box_oracle[] = {BOXES(1),  BOXES(7),   BOXES(16),
                                      BOXES(17), BOXES(100), BOXES(1000)};
static const ep_shape box_fd[] = {BOXES(12)};
static const ep_shape box_bits[] = {BOXES10(0), BOXES10(10), BOXES10(20), BOXES(30),
                                    BOXES(31),  BOXES(32),   BOXES(33),   BOXES(47),
                                    BOXES(100), BOXES(4095), BOXES(4096), BOXES(4097),
                                    BOXES(2 * 4096 + 13)};
/* the large-eps descriptors: a few short ones (the walk is the defaults') */
static const ep_shape box_bits_eps[] = {BOXES(0),  BOXES(1),  BOXES(5),  BOXES(16),
                                        BOXES(17), BOXES(33), BOXES(100)};
/* smooth L1: element-wise */
static const ep_shape smooth_l1_oracle[] = {FLAT(1),   FLAT(7),    FLAT(16),
                                            FLAT(17),  FLAT(100),  FLAT(4099)};

/* guard pages: row lengths and counts at every vector width, and n = 0..40
 * with the 64- and 256-element boundaries */
static const size_t guard_rows_sigmoid[] = {0, 1, 2, 3, 5, 9, 17};
static const size_t guard_classes_sigmoid[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 80};
static const size_t guard_rows_softmax[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33};
static const size_t guard_classes_softmax[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                               13, 14, 15, 16, 17, 18, 19, 20, 31, 32, 33};
static const size_t guard_classes_dfl[] = {2,  3,  4,  5,  6,  7,  8,  9,  15, 16,
                                           17, 18, 19, 20, 31, 32, 33};
static const size_t guard_rows_flat[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                         12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                                         24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
                                         36, 37, 38, 39, 40, 63, 64, 65, 255, 256, 257};
static const size_t guard_classes_flat[] = {1};
/* 1663 x 81 = 134703 elements: 9 blocks, which start mid-row */
#define GUARD_ROWS_LARGE {1663, 81, false}
#define GUARD_FLAT_LARGE {16384 * 8 + 77, 1, false}
static const size_t guard_rows_boxes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33};
static const size_t guard_classes_boxes[] = {4};
/* 8 blocks of 4096 boxes and a tail */
#define GUARD_BOXES_LARGE {4096 * 8 + 77, 4, false}
#define GUARD(r, c, turns, large)                                                        \
    .guard_rows = r, .guard_classes = c, .nguard_rows = N_OF(r), .nguard_classes = N_OF(c), \
    .guard_turns = turns, .guard_large = large

#define THREAD_ROWS_80 {16384 * 9 / 80 + 3, 80, false}
#define THREAD_FLAT {16384 * 9 + 77, 1, false}
#define THREAD_ROWS_16 {16384 * 9 / 16 + 3, 16, false}
#define THREAD_BOXES {4096 * 9 + 77, 4, false}

/* ---- golden families (tests/golden/test_golden.c) ------------------------------ */

/* The committed families' calls, shapes and seeds must never change (each
 * digest covers them); a new loss adds its own. Element-wise entry points
 * see n elements as n x 1. */
#define G(r, c) {(r), (c), false}
#define GFLAT(n) G((n), 1)
#define GOLDEN_BLOCK 16384
#define GOLDEN_PARALLEL (8 * GOLDEN_BLOCK) /* where the thread pool starts */

/* sigmoid_loss_grad: the 1.0 set, unchanged since its digest was committed
 * (its own input seeds, and the default thread count). */
static const ep_shape golden_1_0[] = {GFLAT(0),  GFLAT(1),  GFLAT(7),   GFLAT(15),
                                      GFLAT(16), GFLAT(17), GFLAT(63),  GFLAT(100),
                                      GFLAT(1000), GFLAT(65537)};
/* around one block, at exactly 8 blocks (the first size the thread pool
 * takes) and past it with a tail */
static const ep_shape golden_blocks[] = {GFLAT(16383), GFLAT(16384), GFLAT(16385),
                                         GFLAT(GOLDEN_PARALLEL), GFLAT(GOLDEN_PARALLEL + 4099)};
/* sigmoid rows: ignored and background rows (labels), hard and soft targets
 * (dense), 1 to 91 classes, rows that straddle blocks */
static const ep_shape golden_rows[] = {
    G(0, 5), G(1, 1), G(6, 1), G(3, 7), G(5, 3), G(13, 17), G(7, 80), G(3, 91),
    G(205, 80),  /* 16400: one block and a bit */
    G(1700, 80), /* 136000: past 8 blocks      */
};
/* softmax: 1, 2 and odd class counts, 80 and 91 (COCO), 1000 (ImageNet),
 * 16500 (a row wider than a block: one row per block) */
static const ep_shape golden_softmax_shapes[] = {
    G(0, 5), G(1, 1), G(37, 1), G(29, 2), G(11, 3), G(13, 7), G(6, 80), G(5, 91), G(3, 1000),
    G(1700, 80), /* 9 blocks of 204 rows */
    G(9, 16500), /* 9 blocks of 1 row    */
};
/* DFL: 2, 3 and 7 bins, 16 and 17 (box distributions), 1000, rows that
 * straddle blocks, and rows wider than a block */
static const ep_shape golden_dfl_shapes[] = {
    G(0, 5),  G(1, 2),      G(37, 2),  G(11, 3), G(13, 7), G(60, 16), G(50, 17), G(3, 1000),
    G(8200, 16), /* 9 blocks of 1024 rows */
    G(9, 16500), /* 9 blocks of 1 row     */
};
static const ep_shape golden_elems[] = {GFLAT(0),    GFLAT(1),     GFLAT(7),  GFLAT(15),
                                        GFLAT(16),   GFLAT(17),    GFLAT(63), GFLAT(100),
                                        GFLAT(1000), GFLAT(16385), GFLAT(GOLDEN_PARALLEL + 4099)};
/* boxes: every tail up to 33 boxes, a block (4096 boxes) and a bit, past 8
 * blocks */
static const ep_shape golden_box_shapes[] = {G(0, 4),  G(1, 4),   G(5, 4),    G(16, 4),
                                             G(17, 4), G(33, 4),  G(100, 4),  G(4097, 4),
                                             G(GOLDEN_PARALLEL / 4 + 5, 4)};
#define GSHAPES(a) .shapes = a, .nshapes = sizeof(a) / sizeof((a)[0])

static const ep_golden golden_loss_grad[] = {
    {.name = "sigmoid_loss_grad", .seed = 0x5eed0000u, .seed_by_elems = true,
     GSHAPES(golden_1_0), .sweep = EP_GOLDEN_1_0, .digest = GOLDEN_DIGEST_SIGMOID_LOSS_GRAD,
     .default_threads = true},
    {.name = "sigmoid_loss_grad_blocks", .seed = 0xb10c0000u, .seed_by_elems = true,
     GSHAPES(golden_blocks), .sweep = EP_GOLDEN_SHAPES,
     .digest = GOLDEN_DIGEST_SIGMOID_LOSS_GRAD_BLOCKS},
};
/* sigmoid_pos_weight (1.2): every third call labels, the others dense, all
 * with pos_weight */
static const ep_golden golden_labels[] = {
    {.name = "sigmoid_labels", .seed = 0x1abe1000u, GSHAPES(golden_rows),
     .sweep = EP_GOLDEN_SHAPES, .digest = GOLDEN_DIGEST_SIGMOID_LABELS},
    {.name = "sigmoid_pos_weight", .turns = {NULL, "sigmoid_dense", "sigmoid_dense"},
     .seed = 0x905e1000u, GSHAPES(golden_rows), .sweep = EP_GOLDEN_SHAPES,
     .pos_weight_turns = 07, .digest = GOLDEN_DIGEST_SIGMOID_POS_WEIGHT},
};
static const ep_golden golden_dense[] = {
    {.name = "sigmoid_dense", .seed = 0xde45e000u, GSHAPES(golden_rows),
     .sweep = EP_GOLDEN_SHAPES, .digest = GOLDEN_DIGEST_SIGMOID_DENSE},
};
static const ep_golden golden_softmax[] = {
    {.name = "softmax_labels", .seed = 0x50f7000u, GSHAPES(golden_softmax_shapes),
     .sweep = EP_GOLDEN_SHAPES, .digest = GOLDEN_DIGEST_SOFTMAX_LABELS},
};
/* quality_yolo (1.2, Ultralytics' QFocalLoss): a_t (the flag) on two calls
 * in three, pos_weight on two in three, not the same */
static const ep_golden golden_quality[] = {
    {.name = "quality_focal", .seed = 0x9a1e000u, GSHAPES(golden_elems),
     .sweep = EP_GOLDEN_SHAPES, .digest = GOLDEN_DIGEST_QUALITY_FOCAL},
    {.name = "quality_yolo", .seed = 0x901f000u, GSHAPES(golden_elems),
     .sweep = EP_GOLDEN_SHAPES, .pos_weight_turns = 05, .flag_turns = 03,
     .digest = GOLDEN_DIGEST_QUALITY_YOLO},
};
static const ep_golden golden_varifocal[] = {
    {.name = "varifocal", .seed = 0x7a1f000u, GSHAPES(golden_elems), .sweep = EP_GOLDEN_SHAPES,
     .digest = GOLDEN_DIGEST_VARIFOCAL},
};
static const ep_golden golden_dfl[] = {
    {.name = "distribution_focal", .seed = 0xdf1000u, GSHAPES(golden_dfl_shapes),
     .sweep = EP_GOLDEN_SHAPES, .digest = GOLDEN_DIGEST_DISTRIBUTION_FOCAL},
};
/* 1.5: one family per box kind, owned by its `golden` descriptor
 * (torchvision's), its calls taking turns over the three conventions;
 * smooth L1's over its three betas. The inputs are test_golden's boxes
 * (EP_REGRESSION). */
#define BOX_GOLDEN_FAMILY_golden(K, k)                                                      \
    static const ep_golden golden_box_##k[] = {                                             \
        {.name = "box_" #k, .turns = {NULL, "box_" #k "_ultralytics", "box_" #k "_mmdet"},  \
         .seed = 0xb0c50000u + 0x100u * FOCAL_BOX_##K, GSHAPES(golden_box_shapes),          \
         .sweep = EP_GOLDEN_SHAPES, .digest = GOLDEN_DIGEST_BOX_##K},                       \
    };
#define BOX_GOLDEN_FAMILY_full(K, k)
#define BOX_GOLDEN_FAMILY_eps(K, k)
#define BOX_GOLDEN_FAMILY(K, k, C, c, EPS, suites) BOX_GOLDEN_FAMILY_##suites(K, k)
#define SMOOTH_L1_GOLDEN_FAMILY(b, BETA, suites)
REGRESSION_ENTRIES(BOX_GOLDEN_FAMILY, SMOOTH_L1_GOLDEN_FAMILY)
static const ep_golden golden_smooth_l1[] = {
    {.name = "smooth_l1", .turns = {NULL, "smooth_l1_beta1_9", "smooth_l1_beta0"},
     .seed = 0x5e1000u, GSHAPES(golden_elems), .sweep = EP_GOLDEN_SHAPES,
     .digest = GOLDEN_DIGEST_SMOOTH_L1},
};
#define GOLDEN(a) .golden = a, .ngolden = sizeof(a) / sizeof((a)[0])

/* ---- the table ------------------------------------------------------------------------ */

static const focal_test_entry entry_loss_grad = {
    .name = "sigmoid_loss_grad",
    .flags = 0,
    .call = call_loss_grad,
    .make = make_loss_grad,
    .noptions = {8, 4, 6},
    .options = loss_grad_options,
    /* no bitwise shapes: test_bitwise's own cases sweep this call deeper
     * (n = 0..300 and 2^20, every misalignment, extreme logits) */
    .shapes = {loss_grad_oracle, flat_fd, NULL},
    .nshapes = {N_OF(loss_grad_oracle), N_OF(flat_fd), 0},
    .thread_shape = {((size_t)1 << 20) + 77, 1, false},
    .thread_options = 0,
    .reference = sigmoid_reference,
    .tolerance = sigmoid_tolerance,
    .fd_step = 0x1p-10,
    GOLDEN(golden_loss_grad),
};

static const focal_test_entry entry_labels = {
    .name = "sigmoid_labels",
    .flags = EP_OPTIONS | EP_CLASS_ALPHA | EP_SMOOTHING | EP_WEIGHT | EP_LABELS | EP_POS_WEIGHT,
    .call = call_labels,
    .make = make_labels,
    .noptions = {2 * OPTIONS_VARIANTS, 10, 12},
    .options = sigmoid_row_options,
    .shapes = {sigmoid_rows_oracle, sigmoid_rows_fd, sigmoid_rows_bits},
    .nshapes = {N_OF(sigmoid_rows_oracle), N_OF(sigmoid_rows_fd), N_OF(sigmoid_rows_bits)},
    .thread_shape = THREAD_ROWS_80,
    .thread_options = 11, /* gamma 1.5, class alpha, weights, pos_weight */
    .reference = sigmoid_reference,
    .tolerance = sigmoid_tolerance,
    .fd_step = 0x1p-10,
    GUARD(guard_rows_sigmoid, guard_classes_sigmoid, 4, GUARD_ROWS_LARGE),
    GOLDEN(golden_labels),
};

static const focal_test_entry entry_dense = {
    .name = "sigmoid_dense",
    .flags = EP_OPTIONS | EP_CLASS_ALPHA | EP_SMOOTHING | EP_WEIGHT | EP_POS_WEIGHT,
    .call = call_dense,
    .make = make_dense,
    .noptions = {2 * OPTIONS_VARIANTS, 10, 12},
    .options = sigmoid_row_options,
    .shapes = {sigmoid_rows_oracle, sigmoid_rows_fd, sigmoid_rows_bits},
    .nshapes = {N_OF(sigmoid_rows_oracle), N_OF(sigmoid_rows_fd), N_OF(sigmoid_rows_bits)},
    .thread_shape = THREAD_ROWS_80,
    .thread_options = 11, /* gamma 1.5, class alpha, weights, pos_weight */
    .reference = sigmoid_reference,
    .tolerance = sigmoid_tolerance,
    .fd_step = 0x1p-10,
    GUARD(guard_rows_sigmoid, guard_classes_sigmoid, 4, GUARD_ROWS_LARGE),
    GOLDEN(golden_dense),
};

static const focal_test_entry entry_softmax = {
    .name = "softmax_labels",
    .flags = EP_OPTIONS | EP_CLASS_ALPHA | EP_SMOOTHING | EP_WEIGHT | EP_LABELS | EP_ROW_LOSS |
             EP_NO_BACKGROUND,
    .call = call_softmax,
    .make = make_softmax,
    .noptions = {OPTIONS_VARIANTS, 4, 6},
    .options = softmax_options,
    .shapes = {softmax_oracle, softmax_fd, softmax_bits},
    .nshapes = {N_OF(softmax_oracle), N_OF(softmax_fd), N_OF(softmax_bits)},
    .thread_shape = THREAD_ROWS_80,
    .thread_options = 5,
    .reference = softmax_reference,
    .tolerance = softmax_tolerance,
    .fd_step = 0x1p-10,
    GUARD(guard_rows_softmax, guard_classes_softmax, 1, GUARD_ROWS_LARGE),
    .errors = softmax_errors,
    .nerrors = N_OF(softmax_errors),
    GOLDEN(golden_softmax),
};

static const focal_test_entry entry_quality = {
    .name = "quality_focal",
    .flags = EP_OPTIONS | EP_WEIGHT | EP_POS_WEIGHT | EP_POS_WEIGHT_ELEM | EP_QUALITY_ALPHA |
             EP_SCORES,
    .call = call_quality,
    .make = make_quality,
    .noptions = {7 + 12, 4 + 5, 12 + 6},
    .options = quality_options,
    .shapes = {scores_oracle, flat_fd, flat_bits},
    .nshapes = {N_OF(scores_oracle), N_OF(flat_fd), N_OF(flat_bits)},
    .thread_shape = THREAD_FLAT,
    .thread_options = 12 + 5, /* gamma 1.5, weights, pos_weight, the alpha flag */
    .reference = quality_reference,
    .tolerance = quality_tolerance,
    .fd_step = 0x1p-13,
    GUARD(guard_rows_flat, guard_classes_flat, 5, GUARD_FLAT_LARGE),
    GOLDEN(golden_quality),
};

static const focal_test_entry entry_varifocal = {
    .name = "varifocal",
    .flags = EP_OPTIONS | EP_WEIGHT | EP_SCORES,
    .call = call_varifocal,
    .make = make_scores,
    .noptions = {7, 4, 12},
    .options = varifocal_options,
    .shapes = {scores_oracle, flat_fd, flat_bits},
    .nshapes = {N_OF(scores_oracle), N_OF(flat_fd), N_OF(flat_bits)},
    .thread_shape = THREAD_FLAT,
    .thread_options = 11,
    .reference = varifocal_reference,
    .tolerance = varifocal_tolerance,
    .fd_step = 0x1p-13,
    GUARD(guard_rows_flat, guard_classes_flat, 5, GUARD_FLAT_LARGE),
    GOLDEN(golden_varifocal),
};

static const focal_test_entry entry_dfl = {
    .name = "distribution_focal",
    .flags = EP_OPTIONS | EP_WEIGHT | EP_ROW_LOSS | EP_ROW_TARGETS,
    .call = call_dfl,
    .make = make_dfl,
    .noptions = {4, 4, 4},
    .options = dfl_options,
    .shapes = {dfl_oracle, dfl_fd, dfl_bits},
    .nshapes = {N_OF(dfl_oracle), N_OF(dfl_fd), N_OF(dfl_bits)},
    .thread_shape = THREAD_ROWS_16,
    .thread_options = 3, /* weights, normalizer */
    .reference = dfl_reference,
    .tolerance = dfl_tolerance,
    .fd_step = 0x1p-10,
    GUARD(guard_rows_softmax, guard_classes_dfl, 2, GUARD_ROWS_LARGE),
    .errors = dfl_errors,
    .nerrors = N_OF(dfl_errors),
    GOLDEN(golden_dfl),
};

/* The box losses and smooth L1 (1.5), one descriptor per line of
 * REGRESSION_ENTRIES, with the suites of its `suites` column. */
#define BOX_FLAGS (EP_OPTIONS | EP_WEIGHT | EP_ROW_LOSS | EP_REGRESSION | EP_BOXES)
#define BOX_SUITES_full(k)                                                                  \
    .shapes = {box_oracle, box_fd, box_bits},                                               \
    .nshapes = {N_OF(box_oracle), N_OF(box_fd), N_OF(box_bits)},                            \
    .thread_shape = THREAD_BOXES, .thread_options = 3, /* weights, normalizer */            \
    GUARD(guard_rows_boxes, guard_classes_boxes, 1, GUARD_BOXES_LARGE),
#define BOX_SUITES_golden(k) BOX_SUITES_full(k) GOLDEN(golden_box_##k),
#define BOX_SUITES_eps(k)                                                                   \
    .shapes = {box_oracle, box_fd, box_bits_eps},                                           \
    .nshapes = {N_OF(box_oracle), N_OF(box_fd), N_OF(box_bits_eps)},
#define BOX_DESCRIPTOR(K, k, C, c, EPS, suites)                                             \
    static const focal_test_entry entry_box_##k##_##c = {                                   \
        .name = "box_" #k "_" #c,                                                           \
        .flags = BOX_FLAGS,                                                                 \
        .call = call_box_##k##_##c,                                                         \
        .make = make_box_##k##_##c,                                                         \
        .noptions = {4, 4, 4},                                                              \
        .options = dfl_options,                                                             \
        .reference = reference_box_##k##_##c,                                               \
        .tolerance = tolerance_box_##k##_##c,                                               \
        .reduced_tolerance = reduced_tolerance_box_##k##_##c,                               \
        .fd_step = BOX_FD_STEP,                                                             \
        .errors = box_errors,                                                               \
        .nerrors = N_OF(box_errors),                                                        \
        .error_classes = 4,                                                                 \
        BOX_SUITES_##suites(k)                                                              \
    };
#define SMOOTH_L1_GOLDEN_golden GOLDEN(golden_smooth_l1),
#define SMOOTH_L1_GOLDEN_full
#define SMOOTH_L1_DESCRIPTOR(b, BETA, suites)                                               \
    static const focal_test_entry entry_smooth_l1_##b = {                                   \
        .name = "smooth_l1_" #b,                                                            \
        .flags = EP_OPTIONS | EP_WEIGHT | EP_SCORES | EP_REGRESSION,                        \
        .call = call_smooth_l1_##b,                                                         \
        .make = make_smooth_l1_##b,                                                         \
        .noptions = {4, 4, 4},                                                              \
        .options = dfl_options,                                                             \
        .shapes = {smooth_l1_oracle, flat_fd, flat_bits},                                   \
        .nshapes = {N_OF(smooth_l1_oracle), N_OF(flat_fd), N_OF(flat_bits)},                \
        .thread_shape = THREAD_FLAT,                                                        \
        .thread_options = 3, /* weights, normalizer */                                      \
        .reference = reference_smooth_l1_##b,                                               \
        .tolerance = tolerance_smooth_l1_##b,                                               \
        .fd_step = BOX_FD_STEP,                                                             \
        GUARD(guard_rows_flat, guard_classes_flat, 2, GUARD_FLAT_LARGE),                    \
        .errors = smooth_l1_errors,                                                         \
        .nerrors = N_OF(smooth_l1_errors),                                                  \
        SMOOTH_L1_GOLDEN_##suites                                                           \
    };
REGRESSION_ENTRIES(BOX_DESCRIPTOR, SMOOTH_L1_DESCRIPTOR)

#define BOX_ENTRY(K, k, C, c, EPS, suites) &entry_box_##k##_##c,
#define SMOOTH_L1_ENTRY(b, BETA, suites) &entry_smooth_l1_##b,
const focal_test_entry *const focal_test_entries[] = {
    &entry_loss_grad, &entry_labels, &entry_dense,     &entry_softmax,
    &entry_quality,   &entry_varifocal, &entry_dfl,
    REGRESSION_ENTRIES(BOX_ENTRY, SMOOTH_L1_ENTRY)
};
const size_t focal_test_entry_count = N_OF(focal_test_entries);

const focal_test_entry *ep_named(const char *name)
{
    for (size_t i = 0; i < focal_test_entry_count; i++)
        if (strcmp(focal_test_entries[i]->name, name) == 0)
            return focal_test_entries[i];
    return NULL;
}
