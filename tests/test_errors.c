/* SPDX-License-Identifier: MIT */
/*
 * test_errors: the argument errors of every entry point of entry_points.c,
 * on every kernel. Each case changes one argument of a valid call and names
 * the return code it must give; unless that is FOCAL_ETARGET (found inside
 * the pass) nothing may have been written. The generic cases below apply to
 * every entry point whose flags say it takes what they change; a
 * descriptor's own list (ep_error_case) adds what only it has. Also: empty
 * inputs, and (labels) every row ignored. 1.2's pos_weight (bad values at
 * the last element it reads, overlaps, where unused) and flags (the quality
 * alpha flag where unused, unknown bits) are generic cases too, and so are
 * 1.5's regression targets (EP_REGRESSION: any float, NaN included, is
 * valid; alpha and gamma unread). The box losses' own scalars (kind,
 * convention, eps; smooth L1's beta) are their descriptors' cases.
 *
 * focal_sigmoid_loss_grad's checks go further in test_api.c (every output
 * selection, more bad values, the overlap arena, bad targets at every
 * position of a vector).
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

/* The valid call every case starts from: 2 rows x 3 classes (element-wise
 * entry points: 6 elements; the box losses: 2 boxes of 4, error_classes),
 * default options but NONE. Outputs are larger than any call writes, so
 * that a write past them shows too. */
#define ROWS    2
#define CLASSES 3
#define ELEMS   (ROWS * CLASSES)
#define MAX_CLASSES 4 /* a descriptor's error_classes */
#define MAX_ELEMS (ROWS * MAX_CLASSES)
#define OUTS    (MAX_ELEMS + 2)

/* Entry points that read neither alpha nor gamma: no error from them. */
#define NO_ALPHA_GAMMA (EP_ROW_TARGETS | EP_REGRESSION)

typedef struct {
    float x[MAX_ELEMS], t[MAX_ELEMS], class_alpha[CLASSES], weight[MAX_ELEMS];
    int32_t labels[ROWS];
    float loss[OUTS], grad[OUTS];
    focal_options o;
    ep_args a;
} call_t;

static void call_init(call_t *c, const focal_test_entry *e)
{
    /* as boxes: (0.5, 0, 1, 0.25) and (0, 0, 1, 1) */
    static const float t[MAX_ELEMS] = {0.5f, 0.0f, 1.0f, 0.25f, 0.0f, 0.0f, 1.0f, 1.0f};
    static const float class_alpha[CLASSES] = {0.0f, 1.0f, 0.3f};
    memset(c, 0, sizeof *c);
    memcpy(c->t, t, sizeof t);
    memcpy(c->class_alpha, class_alpha, sizeof class_alpha);
    /* as boxes: (-2.25, -1.5, -0.75, 0) and (0.75, 1.5, 2.25, 3) */
    for (int i = 0; i < MAX_ELEMS; i++) {
        c->x[i] = (float)(i - 3) * 0.75f;
        c->weight[i] = 0.5f + (float)i;
    }
    c->labels[0] = 0;
    c->labels[1] = 2;
    fill_sentinel(c->loss, OUTS);
    fill_sentinel(c->grad, OUTS);
    focal_options_init(&c->o);
    c->o.reduction = FOCAL_REDUCTION_NONE;
    const bool rows =
        (e->flags & (EP_LABELS | EP_CLASS_ALPHA | EP_ROW_TARGETS | EP_BOXES)) != 0;
    const size_t classes = e->error_classes ? e->error_classes : CLASSES;
    if (classes > MAX_CLASSES)
        fail_msg("%s: error_classes %zu, at most %d", e->name, classes, MAX_CLASSES);
    c->a.x = c->x;
    c->a.t = e->flags & EP_LABELS ? NULL : c->t;
    c->a.labels = e->flags & EP_LABELS ? c->labels : NULL;
    c->a.rows = rows ? ROWS : ELEMS;
    c->a.classes = rows ? classes : 1;
    c->a.opt = &c->o;
    c->a.loss = c->loss;
    c->a.grad = c->grad;
}

/* ---- the generic cases -------------------------------------------------------------- */

typedef struct {
    const char *what;
    unsigned need, forbid; /* flags the entry point must have / must not have */
    void (*mutate)(ep_args *a, focal_options *o);
    int expect;
} generic_case;

static void m_none(ep_args *a, focal_options *o) { (void)a; (void)o; }
static void m_x_null(ep_args *a, focal_options *o) { (void)o; a->x = NULL; }
static void m_t_null(ep_args *a, focal_options *o) { (void)o; a->t = NULL; }
static void m_labels_null(ep_args *a, focal_options *o) { (void)o; a->labels = NULL; }
static void m_no_output(ep_args *a, focal_options *o) { (void)o; a->loss = a->grad = NULL; }
static void m_size(ep_args *a, focal_options *o) { (void)o; a->rows = SIZE_MAX / 2; }
static void m_grad_x1(ep_args *a, focal_options *o) { (void)o; a->grad = (float *)a->x + 1; }
static void m_loss_t(ep_args *a, focal_options *o) { (void)o; a->loss = (float *)a->t; }
static void m_in_place(ep_args *a, focal_options *o) { (void)o; a->grad = (float *)a->x; }
static void m_weight_grad(ep_args *a, focal_options *o) { o->weight = a->grad + 2; }
static void m_weight_loss(ep_args *a, focal_options *o) { o->weight = a->loss; }
static void m_class_alpha_loss(ep_args *a, focal_options *o) { o->class_alpha = a->loss + 1; }
static void m_alpha_nan(ep_args *a, focal_options *o) { (void)a; o->alpha = NAN; }
static void m_alpha_2(ep_args *a, focal_options *o) { (void)a; o->alpha = 2.0f; }

static const float bad_class_alpha[CLASSES] = {0.5f, 1.5f, 0.1f};
static const float good_class_alpha[CLASSES] = {0.0f, 1.0f, 0.3f};
static void m_class_alpha_bad(ep_args *a, focal_options *o)
{
    (void)a;
    o->class_alpha = bad_class_alpha;
}
/* alpha is ignored when class_alpha is given, so it cannot be an error */
static void m_alpha_2_class_alpha(ep_args *a, focal_options *o)
{
    (void)a;
    o->alpha = 2.0f;
    o->class_alpha = good_class_alpha;
}
static void m_gamma_neg(ep_args *a, focal_options *o) { (void)a; o->gamma = -1.0f; }
static void m_gamma_inf(ep_args *a, focal_options *o) { (void)a; o->gamma = INFINITY; }
static void m_gamma_nan(ep_args *a, focal_options *o) { (void)a; o->gamma = NAN; }
static void m_red_7(ep_args *a, focal_options *o) { (void)a; o->reduction = 7; }
static void m_red_neg(ep_args *a, focal_options *o) { (void)a; o->reduction = -1; }
static void m_size_8(ep_args *a, focal_options *o) { (void)a; o->size = 8; }
static void m_size_0(ep_args *a, focal_options *o) { (void)a; o->size = 0; }
static void m_size_less(ep_args *a, focal_options *o) { (void)a; o->size = sizeof *o - 1; }

/* A newer, larger struct: fine when its unknown tail is zero. */
static struct {
    focal_options o;
    uint64_t future;
} big;
static void m_big_zero(ep_args *a, focal_options *o)
{
    memset(&big, 0, sizeof big);
    big.o = *o;
    big.o.size = sizeof big;
    a->opt = &big.o;
}
static void m_big_set(ep_args *a, focal_options *o)
{
    m_big_zero(a, o);
    big.future = 1;
}
static void m_class_alpha_unused(ep_args *a, focal_options *o)
{
    o->class_alpha = a->x;
}
static void m_smoothing_unused(ep_args *a, focal_options *o) { (void)a; o->label_smoothing = 0.1f; }
static void m_smoothing_neg(ep_args *a, focal_options *o) { (void)a; o->label_smoothing = -0.1f; }
static void m_smoothing_half(ep_args *a, focal_options *o) { (void)a; o->label_smoothing = -0.5f; }
static void m_smoothing_1(ep_args *a, focal_options *o) { (void)a; o->label_smoothing = 1.0f; }
static void m_smoothing_nan(ep_args *a, focal_options *o) { (void)a; o->label_smoothing = NAN; }
static void m_norm_neg(ep_args *a, focal_options *o) { (void)a; o->normalizer = -1.0f; }
static void m_norm_nan(ep_args *a, focal_options *o) { (void)a; o->normalizer = NAN; }
static void m_norm_inf(ep_args *a, focal_options *o) { (void)a; o->normalizer = INFINITY; }
static void m_opt_null(ep_args *a, focal_options *o) { (void)o; a->opt = NULL; }

/* 1.2's pos_weight: call_init gives the row entry points 3 classes and the
 * element-wise ones one class per element, so the array read is `classes`
 * long for the first (one per class) and `rows` long for the second (one
 * per element): ep_pos_weight_len of either. Room for one more, which the
 * call must not read. */
static float pos_weight[ELEMS + 1];
static void set_pos_weight(ep_args *a, focal_options *o, float last, float past)
{
    const size_t len = a->classes > 1 ? a->classes : a->rows;
    for (size_t i = 0; i < len; i++)
        pos_weight[i] = (const float[]){0.0f, 1.0f, 0.3f, 2.5f}[i % 4];
    pos_weight[len - 1] = last;
    pos_weight[len] = past;
    o->pos_weight = pos_weight;
}
static void m_pw_valid(ep_args *a, focal_options *o) { set_pos_weight(a, o, 2.5f, 1.0f); }
static void m_pw_neg(ep_args *a, focal_options *o) { set_pos_weight(a, o, -1.0f, 1.0f); }
static void m_pw_neg_zero(ep_args *a, focal_options *o) { set_pos_weight(a, o, -0.0f, 1.0f); }
static void m_pw_tiny_neg(ep_args *a, focal_options *o) { set_pos_weight(a, o, -FLT_MIN, 1.0f); }
static void m_pw_nan(ep_args *a, focal_options *o) { set_pos_weight(a, o, NAN, 1.0f); }
static void m_pw_inf(ep_args *a, focal_options *o) { set_pos_weight(a, o, INFINITY, 1.0f); }
static void m_pw_neg_inf(ep_args *a, focal_options *o) { set_pos_weight(a, o, -INFINITY, 1.0f); }
static void m_pw_max(ep_args *a, focal_options *o) { set_pos_weight(a, o, FLT_MAX, 1.0f); }
static void m_pw_nan_past(ep_args *a, focal_options *o) { set_pos_weight(a, o, 1.0f, NAN); }
static void m_pw_grad(ep_args *a, focal_options *o) { o->pos_weight = a->grad + 1; }
static void m_pw_loss(ep_args *a, focal_options *o)
{
    /* the NONE loss is 6 floats; its last one under the array's first */
    o->pos_weight = a->loss + ELEMS - 1;
}
static void m_flag_alpha(ep_args *a, focal_options *o)
{
    (void)a;
    o->flags = FOCAL_FLAG_QUALITY_ALPHA;
}
static void m_flag_bit1(ep_args *a, focal_options *o) { (void)a; o->flags = 2u; }
static void m_flag_bit31(ep_args *a, focal_options *o) { (void)a; o->flags = 1u << 31; }
static void m_flag_alpha_and_unknown(ep_args *a, focal_options *o)
{
    (void)a;
    o->flags = FOCAL_FLAG_QUALITY_ALPHA | 4u;
}
/* a bad pos_weight beside the alpha flag: both checked */
static void m_pw_nan_flag(ep_args *a, focal_options *o)
{
    m_pw_nan(a, o);
    o->flags = FOCAL_FLAG_QUALITY_ALPHA;
}
static void m_target_neg(ep_args *a, focal_options *o) { (void)o; ((float *)a->t)[3] = -0.1f; }
static void m_target_big(ep_args *a, focal_options *o) { (void)o; ((float *)a->t)[4] = 1.5f; }
static void m_target_nan(ep_args *a, focal_options *o) { (void)o; ((float *)a->t)[5] = NAN; }
static void m_target_inf(ep_args *a, focal_options *o) { (void)o; ((float *)a->t)[3] = -INFINITY; }
static void m_target_huge(ep_args *a, focal_options *o) { (void)o; ((float *)a->t)[4] = 1e30f; }
static void m_alpha_gamma(ep_args *a, focal_options *o)
{
    (void)a;
    o->alpha = NAN;
    o->gamma = -1.0f;
}
static void m_label_past(ep_args *a, focal_options *o)
{
    (void)o;
    ((int32_t *)a->labels)[1] = (int32_t)a->classes + 1;
}
static void m_label_background(ep_args *a, focal_options *o)
{
    (void)o;
    ((int32_t *)a->labels)[1] = (int32_t)a->classes;
}

static const generic_case generic[] = {
    {"valid call", 0, 0, m_none, FOCAL_OK},
    {"options NULL (the defaults)", EP_OPTIONS, 0, m_opt_null, FOCAL_OK},
    {"logits NULL", 0, 0, m_x_null, FOCAL_ENULL},
    {"targets NULL", 0, EP_LABELS, m_t_null, FOCAL_ENULL},
    {"labels NULL", EP_LABELS, 0, m_labels_null, FOCAL_ENULL},
    {"loss and grad NULL", 0, 0, m_no_output, FOCAL_ENOOUTPUT},
    {"rows = SIZE_MAX / 2", 0, 0, m_size, FOCAL_ESIZE},
    {"grad = logits + 1", 0, 0, m_grad_x1, FOCAL_EOVERLAP},
    {"loss = targets", 0, EP_LABELS, m_loss_t, FOCAL_EOVERLAP},
    {"grad = logits (in place)", 0, 0, m_in_place, FOCAL_OK},
    {"weight inside grad", EP_WEIGHT, 0, m_weight_grad, FOCAL_EOVERLAP},
    {"weight under loss", EP_WEIGHT, 0, m_weight_loss, FOCAL_EOVERLAP},
    {"class_alpha inside loss", EP_CLASS_ALPHA, 0, m_class_alpha_loss, FOCAL_EOVERLAP},
    {"alpha NaN", 0, NO_ALPHA_GAMMA, m_alpha_nan, FOCAL_EALPHA},
    {"alpha 2", 0, NO_ALPHA_GAMMA, m_alpha_2, FOCAL_EALPHA},
    {"class_alpha 1.5", EP_CLASS_ALPHA, 0, m_class_alpha_bad, FOCAL_EALPHA},
    {"alpha 2 beside class_alpha", EP_CLASS_ALPHA, 0, m_alpha_2_class_alpha, FOCAL_OK},
    {"gamma -1", 0, NO_ALPHA_GAMMA, m_gamma_neg, FOCAL_EGAMMA},
    {"gamma inf", 0, NO_ALPHA_GAMMA, m_gamma_inf, FOCAL_EGAMMA},
    {"gamma NaN", 0, NO_ALPHA_GAMMA, m_gamma_nan, FOCAL_EGAMMA},
    {"alpha NaN, gamma -1 (not read)", EP_REGRESSION, 0, m_alpha_gamma, FOCAL_OK},
    {"reduction 7", 0, 0, m_red_7, FOCAL_EREDUCTION},
    {"reduction -1", 0, 0, m_red_neg, FOCAL_EREDUCTION},
    {"options size 8", EP_OPTIONS, 0, m_size_8, FOCAL_EOPTIONS},
    {"options size 0", EP_OPTIONS, 0, m_size_0, FOCAL_EOPTIONS},
    {"options size one short", EP_OPTIONS, 0, m_size_less, FOCAL_EOPTIONS},
    {"larger options, zero tail", EP_OPTIONS, 0, m_big_zero, FOCAL_OK},
    {"larger options, tail set", EP_OPTIONS, 0, m_big_set, FOCAL_EOPTIONS},
    {"class_alpha where unused", EP_OPTIONS, EP_CLASS_ALPHA, m_class_alpha_unused, FOCAL_EOPTIONS},
    {"smoothing where unused", EP_OPTIONS, EP_SMOOTHING, m_smoothing_unused, FOCAL_EOPTIONS},
    {"smoothing -0.1", EP_OPTIONS, 0, m_smoothing_neg, FOCAL_ESMOOTHING},
    {"smoothing -0.5", EP_OPTIONS, 0, m_smoothing_half, FOCAL_ESMOOTHING},
    {"smoothing 1", EP_OPTIONS, 0, m_smoothing_1, FOCAL_ESMOOTHING},
    {"smoothing NaN", EP_OPTIONS, 0, m_smoothing_nan, FOCAL_ESMOOTHING},
    {"normalizer -1", EP_OPTIONS, 0, m_norm_neg, FOCAL_ENORMALIZER},
    {"normalizer NaN", EP_OPTIONS, 0, m_norm_nan, FOCAL_ENORMALIZER},
    {"normalizer inf", EP_OPTIONS, 0, m_norm_inf, FOCAL_ENORMALIZER},
    {"pos_weight 0, 1, 0.3, 2.5", EP_POS_WEIGHT, 0, m_pw_valid, FOCAL_OK},
    {"pos_weight -1 last", EP_POS_WEIGHT, 0, m_pw_neg, FOCAL_EPOSWEIGHT},
    {"pos_weight -0 last", EP_POS_WEIGHT, 0, m_pw_neg_zero, FOCAL_OK},
    {"pos_weight -FLT_MIN last", EP_POS_WEIGHT, 0, m_pw_tiny_neg, FOCAL_EPOSWEIGHT},
    {"pos_weight NaN last", EP_POS_WEIGHT, 0, m_pw_nan, FOCAL_EPOSWEIGHT},
    {"pos_weight inf last", EP_POS_WEIGHT, 0, m_pw_inf, FOCAL_EPOSWEIGHT},
    {"pos_weight -inf last", EP_POS_WEIGHT, 0, m_pw_neg_inf, FOCAL_EPOSWEIGHT},
    {"pos_weight FLT_MAX last", EP_POS_WEIGHT, 0, m_pw_max, FOCAL_OK},
    {"pos_weight NaN past its length (not read)", EP_POS_WEIGHT, 0, m_pw_nan_past, FOCAL_OK},
    {"pos_weight inside grad", EP_POS_WEIGHT, 0, m_pw_grad, FOCAL_EOVERLAP},
    {"pos_weight over the loss's end", EP_POS_WEIGHT, 0, m_pw_loss, FOCAL_EOVERLAP},
    {"pos_weight where unused", EP_OPTIONS, EP_POS_WEIGHT, m_pw_valid, FOCAL_EOPTIONS},
    {"quality alpha flag", EP_QUALITY_ALPHA, 0, m_flag_alpha, FOCAL_OK},
    {"quality alpha flag where unused", EP_OPTIONS, EP_QUALITY_ALPHA, m_flag_alpha,
     FOCAL_EOPTIONS},
    {"flags: unknown bit 1", EP_OPTIONS, 0, m_flag_bit1, FOCAL_EOPTIONS},
    {"flags: unknown bit 31", EP_OPTIONS, 0, m_flag_bit31, FOCAL_EOPTIONS},
    {"flags: alpha and an unknown bit", EP_QUALITY_ALPHA, 0, m_flag_alpha_and_unknown,
     FOCAL_EOPTIONS},
    {"pos_weight NaN beside the alpha flag", EP_POS_WEIGHT | EP_QUALITY_ALPHA, 0, m_pw_nan_flag,
     FOCAL_EPOSWEIGHT},
    {"target -0.1", 0, EP_LABELS | EP_ROW_TARGETS | EP_REGRESSION, m_target_neg, FOCAL_ETARGET},
    {"target 1.5", 0, EP_LABELS | EP_ROW_TARGETS | EP_REGRESSION, m_target_big, FOCAL_ETARGET},
    {"target NaN", 0, EP_LABELS | EP_ROW_TARGETS | EP_REGRESSION, m_target_nan, FOCAL_ETARGET},
    {"target NaN (regression: not checked)", EP_REGRESSION, 0, m_target_nan, FOCAL_OK},
    {"target -inf (regression: not checked)", EP_REGRESSION, 0, m_target_inf, FOCAL_OK},
    {"target 1e30 (regression: not checked)", EP_REGRESSION, 0, m_target_huge, FOCAL_OK},
    {"label > classes", EP_LABELS, 0, m_label_past, FOCAL_ELABEL},
    {"label == classes (background)", EP_LABELS, EP_NO_BACKGROUND, m_label_background, FOCAL_OK},
};

/* Run one case: the return code, and for an error detected before the pass
 * (all but FOCAL_ETARGET) no output written and no input changed. */
static void run_case(const focal_test_entry *e, const char *what,
                     void (*mutate)(ep_args *, focal_options *), int expect)
{
    call_t c, before;
    call_init(&c, e);
    mutate(&c.a, &c.o);
    before = c;
    const int rc = e->call(&c.a);
    if (rc != expect)
        fail_msg("%s, %s: returned %d (%s), want %d (%s)", e->name, what, rc, focal_strerror(rc),
                 expect, focal_strerror(expect));
    if (expect == FOCAL_OK || expect == FOCAL_ETARGET)
        return;
    if (!all_sentinel(c.loss, OUTS) || !all_sentinel(c.grad, OUTS))
        fail_msg("%s, %s: an output was written before the error", e->name, what);
    if (memcmp(c.x, before.x, sizeof c.x) != 0 || memcmp(c.t, before.t, sizeof c.t) != 0 ||
        memcmp(c.labels, before.labels, sizeof c.labels) != 0)
        fail_msg("%s, %s: an input changed", e->name, what);
}

static void test_entry_errors(void **state)
{
    kernel_enter(state);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        size_t cases = 0;
        for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++) {
            const generic_case *g = &generic[i];
            if ((e->flags & g->need) != g->need || (e->flags & g->forbid) != 0)
                continue;
            run_case(e, g->what, g->mutate, g->expect);
            cases++;
        }
        for (size_t i = 0; i < e->nerrors; i++, cases++)
            run_case(e, e->errors[i].what, e->errors[i].mutate, e->errors[i].expect);
        print_message("  %s: %zu argument cases\n", e->name, cases);
    }
}

/* ---- empty inputs and ignored rows ------------------------------------------------------- */

/* Nothing to read: NULL inputs are fine. SUM is 0, MEAN NaN (0 / 0), NONE
 * writes nothing, and no gradient is written. */
static void test_entry_empty(void **state)
{
    kernel_enter(state);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        for (int red = FOCAL_REDUCTION_NONE; red <= FOCAL_REDUCTION_MEAN; red++) {
            for (int with_inputs = 0; with_inputs < 2; with_inputs++) {
                call_t c;
                call_init(&c, e);
                c.o.reduction = red;
                c.a.rows = 0;
                if (!with_inputs) {
                    c.a.x = c.a.t = NULL;
                    c.a.labels = NULL;
                }
                const int rc = e->call(&c.a);
                if (rc != FOCAL_OK)
                    fail_msg("%s, 0 rows, reduction %d: returned %d (%s)", e->name, red, rc,
                             focal_strerror(rc));
                assert_true(all_sentinel(c.grad, OUTS));
                if (red == FOCAL_REDUCTION_NONE)
                    assert_true(all_sentinel(c.loss, OUTS));
                else if (red == FOCAL_REDUCTION_SUM)
                    assert_true(c.loss[0] == 0.0f && all_sentinel(c.loss + 1, OUTS - 1));
                else
                    assert_true(isnan(c.loss[0]) && all_sentinel(c.loss + 1, OUTS - 1));
            }
        }
    }
}

/* Rows of no classes: labels can only be < 0 (ignored), there is no logit
 * and no gradient; a loss per row (softmax, NONE) is 0, SUM 0, MEAN NaN.
 * Nothing past those outputs is written. */
static void test_entry_no_classes(void **state)
{
    kernel_enter(state);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (!(e->flags & EP_LABELS))
            continue;
        for (int red = FOCAL_REDUCTION_NONE; red <= FOCAL_REDUCTION_MEAN; red++) {
            call_t c;
            call_init(&c, e);
            c.o.reduction = red;
            c.a.classes = 0;
            for (size_t r = 0; r < c.a.rows; r++)
                c.labels[r] = -1;
            const int rc = e->call(&c.a);
            if (rc != FOCAL_OK)
                fail_msg("%s, %zu rows of 0 classes, reduction %d: returned %d (%s)", e->name,
                         c.a.rows, red, rc, focal_strerror(rc));
            assert_true(all_sentinel(c.grad, OUTS));
            const size_t written = ep_loss_len(e, c.a.rows, 0, red);
            for (size_t i = 0; i < written; i++) {
                if (red == FOCAL_REDUCTION_MEAN)
                    assert_true(isnan(c.loss[i]));
                else
                    assert_true(c.loss[i] == 0.0f);
            }
            assert_true(all_sentinel(c.loss + written, OUTS - written));
        }
    }
}

/* Every row ignored: MEAN counts nothing (NaN), the gradient is 0; with a
 * normalizer the loss is 0. */
static void test_entry_all_ignored(void **state)
{
    kernel_enter(state);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (!(e->flags & EP_LABELS))
            continue;
        call_t c;
        call_init(&c, e);
        c.labels[0] = -1;
        c.labels[1] = -5;
        c.o.reduction = FOCAL_REDUCTION_MEAN;
        assert_int_equal(e->call(&c.a), FOCAL_OK);
        assert_true(isnan(c.loss[0]));
        for (int i = 0; i < ELEMS; i++)
            assert_true(c.grad[i] == 0.0f);
        c.o.normalizer = 4.0f;
        assert_int_equal(e->call(&c.a), FOCAL_OK);
        assert_true(c.loss[0] == 0.0f);
        for (int i = 0; i < ELEMS; i++)
            assert_true(c.grad[i] == 0.0f);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        KERNEL_TESTS(test_entry_errors),
        KERNEL_TESTS(test_entry_empty),
        KERNEL_TESTS(test_entry_no_classes),
        KERNEL_TESTS(test_entry_all_ignored),
    };
    return run_group("test_errors", tests, sizeof tests / sizeof tests[0], argc, argv);
}
