/* SPDX-License-Identifier: MIT */
#include "oracle.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <focal/focal.h>

/* ---- the float64 reference ---------------------------------------------------- */

oracle_t oracle_eval(double x, double t, double alpha, double gamma)
{
    /* docs/DESIGN.md §2.1: e = exp(-|x|), l = log1p(e), r = 1 / (1 + e). */
    double e = exp(-fabs(x));
    double l = log1p(e);
    double r = 1.0 / (1.0 + e);
    double p = x >= 0 ? r : e * r;      /* sigmoid(x)                        */
    double pc = x >= 0 ? e * r : r;     /* 1 - sigmoid(x), without 1 - p     */
    double sp_pos = fmax(x, 0.0) + l;   /* softplus(x)  = -log(1 - p)        */
    double sp_neg = fmax(-x, 0.0) + l;  /* softplus(-x) = -log p             */
    double a_t = alpha < 0 ? 1.0 : alpha * t + (1.0 - alpha) * (1.0 - t);

    double ce, qg, p_minus_t, ppc_over_q;
    if (t == 1.0) {
        /* q = pc, log q = -softplus(x), p pc / q = p */
        ce = sp_neg;
        qg = exp(-gamma * sp_pos);
        p_minus_t = -pc;
        ppc_over_q = p;
    } else if (t == 0.0) {
        /* q = p, log q = -softplus(-x), p pc / q = pc */
        ce = sp_pos;
        qg = exp(-gamma * sp_neg);
        p_minus_t = p;
        ppc_over_q = pc;
    } else {
        double q = t * pc + (1.0 - t) * p; /* 1 - p_t, > 0 for soft t in double */
        ce = t * sp_neg + (1.0 - t) * sp_pos;
        qg = pow(q, gamma);
        p_minus_t = p * (1.0 - t) - t * pc;
        ppc_over_q = p * pc / q;
    }
    oracle_t o;
    o.loss = a_t * qg * ce;
    o.grad = a_t * qg * (p_minus_t - gamma * ppc_over_q * (2.0 * t - 1.0) * ce);
    return o;
}

double oracle_naive_loss(double x, double t, double alpha, double gamma)
{
    double p = 1.0 / (1.0 + exp(-x));
    double ce = -t * log(p) - (1.0 - t) * log(1.0 - p);
    double p_t = p * t + (1.0 - p) * (1.0 - t);
    double a_t = alpha < 0 ? 1.0 : alpha * t + (1.0 - alpha) * (1.0 - t);
    return a_t * pow(1.0 - p_t, gamma) * ce;
}

double reduction_scale(int reduction, size_t n)
{
    return reduction == FOCAL_REDUCTION_MEAN ? 1.0 / (double)n : 1.0;
}

/* ---- statistics ------------------------------------------------------------------ */

const char *const stat_names[ST_COUNT] = {"loss hard", "grad hard", "loss soft", "grad soft",
                                          "reduced"};

static const char *reduction_name(int r)
{
    return r == FOCAL_REDUCTION_NONE ? "none" : r == FOCAL_REDUCTION_SUM ? "sum" : "mean";
}

void acc_reset(acc_stats_t *a)
{
    memset(a, 0, sizeof *a);
}

void acc_merge(acc_stats_t *into, const acc_stats_t *from)
{
    for (int k = 0; k < ST_COUNT; k++) {
        err_stat_t *d = &into->s[k];
        const err_stat_t *s = &from->s[k];
        size_t count = d->count + s->count;
        if (s->max_rel > d->max_rel)
            *d = *s;
        if (s->max_ratio > d->max_ratio)
            d->max_ratio = s->max_ratio;
        d->count = count;
    }
    into->failures += from->failures;
}

void acc_print(const char *kernel, const char *label, const acc_stats_t *a)
{
    printf("[ WORST    ] kernel %-6s %s: %zu failures\n", kernel, label, a->failures);
    for (int k = 0; k < ST_COUNT; k++) {
        const err_stat_t *s = &a->s[k];
        if (s->count == 0)
            continue;
        printf("[ WORST    ]   %-9s  n=%-9zu max rel %.3e  max err/tol %.3f", stat_names[k],
               s->count, s->max_rel, s->max_ratio);
        if (s->max_rel > 0)
            printf("  (x=%.9g t=%.9g alpha=%g gamma=%.9g: got %.9g ref %.17g)", s->x, s->t,
                   s->alpha, s->gamma, s->got, s->ref);
        printf("\n");
    }
    fflush(stdout);
}

/* Print at most this many failures per stats object: enough to diagnose,
 * without flooding the log when a kernel is badly wrong. */
#define MAX_REPORTED 12

bool check_value(acc_stats_t *a, int stat, float got, double ref, bool hard,
                 double abs_scale, float x, float t, float alpha, float gamma,
                 const char *what, size_t index, size_t n, int reduction)
{
    double aref = fabs(ref);
    double tol;
    bool rel_meaningful;
    if (hard) {
        /* 1e-5 relative where the reference is a normal float; below that the
         * float result cannot carry relative accuracy, so one FLT_MIN absolute */
        rel_meaningful = aref >= FLT_MIN;
        tol = rel_meaningful ? TOL_HARD_REL * aref : FLT_MIN;
    } else {
        double abs_tol = TOL_SOFT_ABS * abs_scale;
        tol = TOL_SOFT_REL * aref + abs_tol;
        if (tol < FLT_MIN)
            tol = FLT_MIN;
        /* relative error only reported where the relative term dominates */
        rel_meaningful = TOL_SOFT_REL * aref >= abs_tol && aref >= FLT_MIN;
    }
    double err = fabs((double)got - ref);
    bool ok = err <= tol; /* false for NaN */
    double ratio = ok ? err / tol : (isnan(err) ? INFINITY : err / tol);

    err_stat_t *s = &a->s[stat];
    s->count++;
    if (ratio > s->max_ratio)
        s->max_ratio = ratio;
    if (rel_meaningful) {
        double rel = isnan(err) ? INFINITY : err / aref;
        if (rel > s->max_rel) {
            s->max_rel = rel;
            s->x = x;
            s->t = t;
            s->alpha = alpha;
            s->gamma = gamma;
            s->got = got;
            s->ref = ref;
        }
    }
    if (!ok) {
        a->failures++;
        if (a->reported < MAX_REPORTED) {
            a->reported++;
            printf("[ MISMATCH ] %s[%zu] n=%zu reduction=%s x=%.9g (%a) t=%.9g alpha=%.9g "
                   "gamma=%.9g: got %.9g ref %.17g err %.3e tol %.3e\n",
                   what, index, n, reduction_name(reduction), x, x, t, alpha, gamma, got, ref,
                   err, tol);
            fflush(stdout);
        }
    }
    return ok;
}

bool check_reduced(acc_stats_t *a, float got, long double ref_sum, size_t n, int reduction,
                   float alpha, float gamma)
{
    if (n == 0) {
        bool ok = reduction == FOCAL_REDUCTION_MEAN ? isnan(got) : got == 0.0f;
        if (!ok) {
            a->failures++;
            printf("[ MISMATCH ] n=0 reduction=%s: got %.9g\n", reduction_name(reduction), got);
        }
        return ok;
    }
    long double ref = reduction == FOCAL_REDUCTION_MEAN ? ref_sum / (long double)n : ref_sum;
    if (isinf((float)ref)) {
        /* the float result overflows: +inf is the only right answer */
        bool ok = got == (float)ref;
        if (!ok) {
            a->failures++;
            printf("[ MISMATCH ] reduced n=%zu reduction=%s: got %.9g, want inf (ref %.6Lg)\n", n,
                   reduction_name(reduction), got, ref);
        }
        return ok;
    }
    long double aref = fabsl(ref);
    long double tol = aref >= FLT_MIN ? TOL_REDUCED_REL * aref : (long double)FLT_MIN;
    long double err = fabsl((long double)got - ref);
    bool ok = err <= tol;

    err_stat_t *s = &a->s[ST_REDUCED];
    s->count++;
    double ratio = ok ? (double)(err / tol) : INFINITY;
    if (!ok && !isnan((double)err))
        ratio = (double)(err / tol);
    if (ratio > s->max_ratio)
        s->max_ratio = ratio;
    if (aref >= FLT_MIN) {
        double rel = isnan((double)err) ? INFINITY : (double)(err / aref);
        if (rel > s->max_rel) {
            s->max_rel = rel;
            s->x = NAN;
            s->t = NAN;
            s->alpha = alpha;
            s->gamma = gamma;
            s->got = got;
            s->ref = (double)ref;
        }
    }
    if (!ok) {
        a->failures++;
        if (a->reported < MAX_REPORTED) {
            a->reported++;
            printf("[ MISMATCH ] reduced n=%zu reduction=%s alpha=%.9g gamma=%.9g: got %.9g "
                   "ref %.17Lg rel err %.3Le\n",
                   n, reduction_name(reduction), alpha, gamma, got, ref, err / aref);
            fflush(stdout);
        }
    }
    return ok;
}

void check_call(acc_stats_t *a, const float *x, const float *t, size_t n, float alpha,
                float gamma, int reduction, const float *loss, const float *grad)
{
    double scale = reduction_scale(reduction, n);
    long double sum = 0;
    bool all_finite = true;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            all_finite = false;
            continue;
        }
        oracle_t o = oracle_eval(x[i], t[i], alpha, gamma);
        bool hard = t[i] == 0.0f || t[i] == 1.0f;
        sum += o.loss;
        if (loss != NULL && reduction == FOCAL_REDUCTION_NONE)
            check_value(a, hard ? ST_LOSS_HARD : ST_LOSS_SOFT, loss[i], o.loss, hard, 1.0, x[i],
                        t[i], alpha, gamma, "loss", i, n, reduction);
        if (grad != NULL)
            check_value(a, hard ? ST_GRAD_HARD : ST_GRAD_SOFT, grad[i], o.grad * scale, hard,
                        scale, x[i], t[i], alpha, gamma, "grad", i, n, reduction);
    }
    if (loss != NULL && reduction != FOCAL_REDUCTION_NONE && all_finite)
        check_reduced(a, loss[0], sum, n, reduction, alpha, gamma);
}

/* ---- the 1.1 losses of soft scores and the softmax --------------------------- */

/* Stable sigmoid pieces in double (docs/DESIGN.md §2.1). */
typedef struct {
    double p, pc, sp_pos, sp_neg;
} sig_parts_t;

static sig_parts_t sig_parts(double x)
{
    double e = exp(-fabs(x)), l = log1p(e), r = 1.0 / (1.0 + e);
    sig_parts_t s = { x >= 0 ? r : e * r, x >= 0 ? e * r : r, fmax(x, 0.0) + l,
                      fmax(-x, 0.0) + l };
    return s;
}

static double bce(const sig_parts_t *s, double t)
{
    if (t == 1.0) return s->sp_neg;
    if (t == 0.0) return s->sp_pos;
    return t * s->sp_neg + (1.0 - t) * s->sp_pos;
}

oracle_t oracle_quality(double x, double s, double gamma)
{
    sig_parts_t g = sig_parts(x);
    double ce = bce(&g, s);
    double d = s == 1.0 ? -g.pc : s == 0.0 ? g.p : g.p * (1.0 - s) - s * g.pc; /* p - s */
    double dg = pow(fabs(d), gamma);
    oracle_t o;
    o.loss = dg * ce;
    /* d/dx |d|^g = g |d|^g / d * p pc; the factor's derivative is 0 at d = 0 */
    o.grad = dg * (d + (d != 0.0 ? gamma * ce * g.p * g.pc / d : 0.0));
    return o;
}

oracle_t oracle_varifocal(double x, double s, double alpha, double gamma)
{
    sig_parts_t g = sig_parts(x);
    double a = alpha < 0 ? 1.0 : alpha;
    oracle_t o;
    if (s > 0.0) {
        double d = s == 1.0 ? -g.pc : g.p * (1.0 - s) - s * g.pc;
        o.loss = s * bce(&g, s);
        o.grad = s * d;
    } else {
        double pg = pow(g.p, gamma);
        o.loss = a * pg * g.sp_pos;
        o.grad = a * pg * (gamma * g.pc * g.sp_pos + g.p);
    }
    return o;
}

double oracle_softmax_row(const float *x, size_t classes, long label, double y_hit,
                          double y_miss, const float *class_alpha, double alpha, double gamma,
                          double *grad)
{
    double m = -INFINITY;
    for (size_t c = 0; c < classes; c++) /* (not fmax: GCC 12 for aarch64 crashes vectorizing it) */
        m = (double)x[c] > m ? (double)x[c] : m;
    double e[classes], u[classes], p[classes], q[classes], s = 0.0;
    for (size_t c = 0; c < classes; c++)
        s += e[c] = exp((double)x[c] - m);
    const double lse = log(s);
    double loss = 0.0;
    for (size_t c = 0; c < classes; c++) {
        double others = 0.0; /* 1 - p_c as the sum of the other classes: no cancellation */
        for (size_t j = 0; j < c; j++)
            others += e[j];
        for (size_t j = c + 1; j < classes; j++)
            others += e[j];
        p[c] = e[c] / s;
        q[c] = others / s;
        /* -log p_c = log(S / e_c) = log1p(others / e_c): accurate also
         * when p_c is close to 1 (lse - z_c would round S to 1) */
        const double nlogp = e[c] > 0 ? log1p(others / e[c]) : lse - ((double)x[c] - m);
        const double a = class_alpha ? class_alpha[c] : alpha < 0 ? 1.0 : alpha;
        const double ya = ((long)c == label ? y_hit : y_miss) * a;
        const double qg = pow(q[c], gamma);
        loss += ya * qg * nlogp;
        const double ratio = q[c] > 0 ? p[c] * nlogp / q[c] : 1.0;
        u[c] = -ya * qg * (1.0 + gamma * ratio);
    }
    for (size_t j = 0; grad && j < classes; j++) {
        double rest = 0.0;
        for (size_t c = 0; c < j; c++)
            rest += u[c];
        for (size_t c = j + 1; c < classes; c++)
            rest += u[c];
        grad[j] = u[j] * q[j] - p[j] * rest;
    }
    return loss;
}

/* ---- 1.2: BCE's positive weight, Ultralytics' quality alpha ---------------- */

oracle_t oracle_sigmoid_pw(double x, double t, double alpha, double gamma, double pw)
{
    sig_parts_t g = sig_parts(x);
    double a_t = alpha < 0 ? 1.0 : alpha * t + (1.0 - alpha) * (1.0 - t);
    /* ce_pw = pw t softplus(-x) + (1 - t) softplus(x); its derivative
     * -pw t pc + (1 - t) p. Written without the 0 * inf of a hard target at
     * an infinite logit, where the other term is 0. */
    double ce = (t != 0.0 ? pw * t * g.sp_neg : 0.0) + (t != 1.0 ? (1.0 - t) * g.sp_pos : 0.0);
    double dce = (t != 1.0 ? (1.0 - t) * g.p : 0.0) - pw * t * g.pc;
    /* q = 1 - p_t; q^g and d(q^g)/dx = -g q^g (p pc / q)(2t - 1) */
    double q = t == 1.0 ? g.pc : t == 0.0 ? g.p : t * g.pc + (1.0 - t) * g.p;
    double logq = t == 1.0 ? -g.sp_pos : t == 0.0 ? -g.sp_neg : log(q);
    double qg = exp(gamma * logq);
    double ratio = t == 1.0 ? g.p : t == 0.0 ? g.pc : g.p * g.pc / q;
    double dmod = gamma * ratio * (2.0 * t - 1.0) * ce; /* q^-g d(q^g)/dx * -ce */
    if (isinf(x) && ratio == 0.0)
        dmod = 0.0; /* the limit of p pc ce at an infinite logit */
    oracle_t o;
    o.loss = a_t * qg * ce;
    o.grad = a_t * qg * (dce - dmod);
    return o;
}

oracle_t oracle_quality_yolo(double x, double s, double alpha, double gamma, double pw,
                             bool alpha_t)
{
    sig_parts_t g = sig_parts(x);
    double ce = (s != 0.0 ? pw * s * g.sp_neg : 0.0) + (s != 1.0 ? (1.0 - s) * g.sp_pos : 0.0);
    double dce = (s != 1.0 ? (1.0 - s) * g.p : 0.0) - pw * s * g.pc;
    double d = s == 1.0 ? -g.pc : s == 0.0 ? g.p : g.p * (1.0 - s) - s * g.pc; /* p - s */
    double dg = pow(fabs(d), gamma);
    double a_t = !alpha_t || alpha < 0 ? 1.0 : alpha * s + (1.0 - alpha) * (1.0 - s);
    /* d/dx |d|^g = g |d|^g p pc / d; 0 where d = 0 */
    double dmod = d != 0.0 ? gamma * ce * g.p * g.pc / d : 0.0;
    if (isinf(x) && g.p * g.pc == 0.0)
        dmod = 0.0;
    oracle_t o;
    o.loss = a_t * dg * ce;
    o.grad = a_t * dg * (dce + dmod);
    return o;
}

/* ---- 1.5: box regression losses (docs/DESIGN.md §2.8) --------------------------- */

/*
 * A value in double and the running error bound of the same expression
 * evaluated in float (Wilkinson): every operation rounds once, so to first
 * order the float result is within u m of v, u = 2^-24. Inputs and eps are
 * floats, hence exact (m = 0). The bound is what the descriptors' tolerances
 * scale with: 1 - iou, (Cd - Un) / Cd and the gradients' sums cancel, and
 * the bound says by how much.
 */
typedef struct {
    double v, m;
} rv_t;

static rv_t rv_exact(double v)
{
    rv_t r = {v, 0.0};
    return r;
}
static rv_t rv_add(rv_t a, rv_t b)
{
    rv_t r = {a.v + b.v, 0.0};
    r.m = a.m + b.m + fabs(r.v);
    return r;
}
static rv_t rv_sub(rv_t a, rv_t b)
{
    rv_t r = {a.v - b.v, 0.0};
    r.m = a.m + b.m + fabs(r.v);
    return r;
}
static rv_t rv_mul(rv_t a, rv_t b)
{
    rv_t r = {a.v * b.v, 0.0};
    r.m = a.m * fabs(b.v) + fabs(a.v) * b.m + fabs(r.v);
    return r;
}
static rv_t rv_div(rv_t a, rv_t b)
{
    rv_t r = {a.v / b.v, 0.0};
    r.m = (a.m + fabs(r.v) * b.m) / fabs(b.v) + fabs(r.v);
    return r;
}
/* times s, a power of two or 0, 1/2 (the ties' share): exact */
static rv_t rv_scale(rv_t a, double s)
{
    rv_t r = {a.v * s, a.m * fabs(s)};
    return r;
}
static rv_t rv_neg(rv_t a)
{
    rv_t r = {-a.v, a.m};
    return r;
}
static const rv_t rv_zero = {0.0, 0.0};

/* The comparisons the expression makes: every outcome goes into a hash
 * (branches) and those of derived values within their error bounds of each
 * other make the pair fragile (a float evaluation may take the other side). */
#define BOX_FRAGILE_ULPS 64.0

typedef struct {
    uint64_t branches;
    bool fragile;
} box_ctx_t;

/* -1, 0, +1 as a <, ==, > b (NaN: 0). */
static int cmp3(box_ctx_t *c, rv_t a, rv_t b)
{
    const int r = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    c->branches = (c->branches ^ (uint64_t)(r + 2)) * 0x100000001b3u;
    const double bound = BOX_FRAGILE_ULPS * 0x1p-24 * (a.m + b.m);
    if (bound > 0.0 && fabs(a.v - b.v) <= bound)
        c->fragile = true;
    return r;
}

/* min(a, b) and max(a, b): the value and the share of the gradient a gets
 * (torch.minimum / maximum: half each at a tie). */
static rv_t rv_min(box_ctx_t *c, rv_t a, rv_t b, double *da)
{
    const int r = cmp3(c, a, b);
    *da = r < 0 ? 1.0 : r == 0 ? 0.5 : 0.0;
    return r <= 0 ? a : b;
}
static rv_t rv_max(box_ctx_t *c, rv_t a, rv_t b, double *da)
{
    const int r = cmp3(c, a, b);
    *da = r > 0 ? 1.0 : r == 0 ? 0.5 : 0.0;
    return r >= 0 ? a : b;
}
/* clamp(a, min=lo): the gradient passes above the bound only (PyTorch 2.14:
 * nothing at the bound itself) */
static rv_t rv_clamp_min(box_ctx_t *c, rv_t a, double lo, double *da)
{
    const int r = cmp3(c, a, rv_exact(lo));
    *da = r > 0 ? 1.0 : 0.0;
    return r >= 0 ? a : rv_exact(lo);
}

/* The knobs of §2.8's table for one kind and convention. torchvision's
 * mask of the intersection (both extents > 0) is the product of the
 * clamped extents, gradient included: one expression for all three. */
typedef struct {
    double he, re, ae;
    double ue;        /* the eps of the union and of c2                    */
    bool union_floor; /* Ud = max(U, ue), else U + ue                      */
    bool iou_clamp;   /* IoU kinds: q = clamp(iou, min=e)                  */
    bool c_floor;     /* GIoU: Cd = max(C, e), else C + e                  */
    bool encl_clamp;  /* cw, ch clamped at 0                               */
    bool alpha_gate;  /* CIoU: alpha = 0 unless iou > 0.5                  */
    bool ciou_clamp;  /* CIoU: L clamped to [0, 2]                         */
} box_knobs_t;

static box_knobs_t box_knobs(int kind, int convention, double e)
{
    const bool iou_kind =
        kind == FOCAL_BOX_IOU || kind == FOCAL_BOX_IOU_SQUARE || kind == FOCAL_BOX_IOU_LOG;
    box_knobs_t k;
    memset(&k, 0, sizeof k);
    k.ue = e;
    switch (convention) {
    case FOCAL_BOXES_TORCHVISION:
        k.ae = e;
        /* its CIoU passes eps to alpha only: the DIoU part keeps 1e-7 */
        if (kind == FOCAL_BOX_CIOU)
            k.ue = 1e-7f;
        break;
    case FOCAL_BOXES_ULTRALYTICS:
        k.he = e;
        k.ae = e;
        break;
    default: /* FOCAL_BOXES_MMDET */
        k.re = e;
        /* its IoU loss: bbox_overlaps' own eps in the union */
        if (iou_kind)
            k.ue = 1e-6f;
        k.union_floor = iou_kind || kind == FOCAL_BOX_GIOU;
        k.iou_clamp = iou_kind;
        k.c_floor = true;
        k.encl_clamp = true;
        k.alpha_gate = true;
        k.ciou_clamp = true;
        break;
    }
    return k;
}

/* An extent min(a2, b2) - max(a1, b1) (intersection) or max(a2, b2) -
 * min(a1, b1) (enclosure), and the shares of its gradient the predicted
 * a1 and a2 get. */
static rv_t inter_extent(box_ctx_t *c, float a1, float a2, float b1, float b2, double *d1,
                         double *d2)
{
    const rv_t hi = rv_min(c, rv_exact(a2), rv_exact(b2), d2);
    const rv_t lo = rv_max(c, rv_exact(a1), rv_exact(b1), d1);
    *d1 = -*d1;
    return rv_sub(hi, lo);
}
static rv_t encl_extent(box_ctx_t *c, float a1, float a2, float b1, float b2, double *d1,
                        double *d2)
{
    const rv_t hi = rv_max(c, rv_exact(a2), rv_exact(b2), d2);
    const rv_t lo = rv_min(c, rv_exact(a1), rv_exact(b1), d1);
    *d1 = -*d1;
    return rv_sub(hi, lo);
}

#define BOX_PI 3.14159265358979323846

/* iou and v (CIoU's aspect term) of a pair, forward only: what alpha is
 * computed from. */
static void box_iou_v(const float *p, const float *t, int kind, int convention, double e,
                      double *iou, double *v);

static oracle_reg_t box_eval(const float *p, const float *t, int kind, int convention, double e,
                             const double *alpha_fixed, double *iou_out, double *v_out)
{
    oracle_reg_t o;
    memset(&o, 0, sizeof o);
    for (int i = 0; i < 4; i++)
        if (isnan(p[i]) || isnan(t[i])) {
            o.loss = NAN;
            for (int k = 0; k < 4; k++)
                o.grad[k] = NAN;
            return o;
        }
    const box_knobs_t kn = box_knobs(kind, convention, e);
    box_ctx_t c = {0xcbf29ce484222325u, false};
    const rv_t E = rv_exact(e), UE = rv_exact(kn.ue);

    /* sizes; he (Ultralytics) in both heights */
    const rv_t w = rv_sub(rv_exact(p[2]), rv_exact(p[0]));
    const rv_t W = rv_sub(rv_exact(t[2]), rv_exact(t[0]));
    rv_t h = rv_sub(rv_exact(p[3]), rv_exact(p[1]));
    rv_t H = rv_sub(rv_exact(t[3]), rv_exact(t[1]));
    if (kn.he != 0.0) {
        h = rv_add(h, rv_exact(kn.he));
        H = rv_add(H, rv_exact(kn.he));
    }

    /* intersection: dI/diw, dI/dih, and the shares of x1, x2 (y1, y2) in iw (ih) */
    double dix1, dix2, diy1, diy2;
    const rv_t iw = inter_extent(&c, p[0], p[2], t[0], t[2], &dix1, &dix2);
    const rv_t ih = inter_extent(&c, p[1], p[3], t[1], t[3], &diy1, &diy2);
    double pa, pb;
    const rv_t a = rv_clamp_min(&c, iw, 0.0, &pa);
    const rv_t b = rv_clamp_min(&c, ih, 0.0, &pb);
    const rv_t I = rv_mul(a, b);
    const rv_t dI_diw = rv_scale(b, pa), dI_dih = rv_scale(a, pb);

    /* union */
    const rv_t U = rv_sub(rv_add(rv_mul(w, h), rv_mul(W, H)), I);
    double dUd_dU = 1.0;
    const rv_t Ud = kn.union_floor ? rv_max(&c, U, UE, &dUd_dU) : rv_add(U, UE);
    const rv_t iou = rv_div(I, Ud);
    if (iou_out)
        *iou_out = iou.v;

    /* the loss and its adjoints: of iou, of Ud (GIoU), of the enclosure's
     * extents, of rho2's differences, and CIoU's of w and h */
    rv_t L = rv_zero, g_iou = rv_zero, g_Ud_giou = rv_zero, g_cw = rv_zero, g_ch = rv_zero;
    rv_t g_rho2 = rv_zero, g_w_v = rv_zero, g_h_v = rv_zero;
    rv_t dx = rv_zero, dy = rv_zero;
    double dcx1 = 0, dcx2 = 0, dcy1 = 0, dcy2 = 0, pass_all = 1.0;
    const rv_t one = rv_exact(1.0);
    if (kind == FOCAL_BOX_IOU || kind == FOCAL_BOX_IOU_SQUARE || kind == FOCAL_BOX_IOU_LOG) {
        double dq = 1.0;
        const rv_t q = kn.iou_clamp ? rv_clamp_min(&c, iou, e, &dq) : iou;
        rv_t dL;
        if (kind == FOCAL_BOX_IOU) {
            L = rv_sub(one, q);
            dL = rv_exact(-1.0);
        } else if (kind == FOCAL_BOX_IOU_SQUARE) {
            L = rv_sub(one, rv_mul(q, q));
            dL = rv_neg(rv_scale(q, 2.0));
        } else {
            /* -log q: its error is q's relative error plus log's own */
            const double lv = -log(q.v);
            L.v = lv;
            L.m = q.m / fabs(q.v) + 2.0 * fabs(lv);
            dL = rv_neg(rv_div(one, q));
        }
        g_iou = rv_scale(dL, dq);
    } else {
        double ecw = 1.0, ech = 1.0;
        rv_t cw = encl_extent(&c, p[0], p[2], t[0], t[2], &dcx1, &dcx2);
        rv_t ch = encl_extent(&c, p[1], p[3], t[1], t[3], &dcy1, &dcy2);
        if (kn.encl_clamp) {
            cw = rv_clamp_min(&c, cw, 0.0, &ecw);
            ch = rv_clamp_min(&c, ch, 0.0, &ech);
        }
        dcx1 *= ecw;
        dcx2 *= ecw;
        dcy1 *= ech;
        dcy2 *= ech;
        g_iou = rv_exact(-1.0);
        if (kind == FOCAL_BOX_GIOU) {
            /* L = 1 - iou + (Cd - Ud) / Cd */
            const rv_t C = rv_mul(cw, ch);
            double dCd_dC = 1.0;
            const rv_t Cd = kn.c_floor ? rv_max(&c, C, E, &dCd_dC) : rv_add(C, E);
            L = rv_add(rv_sub(one, iou), rv_div(rv_sub(Cd, Ud), Cd));
            g_Ud_giou = rv_neg(rv_div(one, Cd));
            const rv_t g_C = rv_scale(rv_div(Ud, rv_mul(Cd, Cd)), dCd_dC);
            g_cw = rv_mul(g_C, ch);
            g_ch = rv_mul(g_C, cw);
        } else {
            /* L = 1 - iou + rho2 / c2 (+ alpha v) */
            const rv_t c2 = rv_add(rv_add(rv_mul(cw, cw), rv_mul(ch, ch)), UE);
            dx = rv_sub(rv_add(rv_exact(t[0]), rv_exact(t[2])),
                        rv_add(rv_exact(p[0]), rv_exact(p[2])));
            dy = rv_sub(rv_add(rv_exact(t[1]), rv_exact(t[3])),
                        rv_add(rv_exact(p[1]), rv_exact(p[3])));
            const rv_t rho2 = rv_scale(rv_add(rv_mul(dx, dx), rv_mul(dy, dy)), 0.25);
            L = rv_add(rv_sub(one, iou), rv_div(rho2, c2));
            g_rho2 = rv_div(one, c2);
            const rv_t g_c2 = rv_neg(rv_div(rho2, rv_mul(c2, c2)));
            g_cw = rv_scale(rv_mul(g_c2, cw), 2.0);
            g_ch = rv_scale(rv_mul(g_c2, ch), 2.0);
            if (kind == FOCAL_BOX_CIOU) {
                /* v = 4 / pi^2 (atan(W / Hr) - atan(r))^2, r = w / hr */
                const rv_t hr = kn.re != 0.0 ? rv_add(h, rv_exact(kn.re)) : h;
                const rv_t Hr = kn.re != 0.0 ? rv_add(H, rv_exact(kn.re)) : H;
                const rv_t R = rv_div(W, Hr), r = rv_div(w, hr);
                /* atan: SLEEF's, within 3.5 ulp, plus the argument's error */
                rv_t A = {atan(R.v), 0.0}, a = {atan(r.v), 0.0};
                A.m = R.m / (1.0 + R.v * R.v) + 4.0 * fabs(A.v);
                a.m = r.m / (1.0 + r.v * r.v) + 4.0 * fabs(a.v);
                const rv_t dlt = rv_sub(A, a);
                const rv_t k4 = {4.0 / (BOX_PI * BOX_PI), 4.0 / (BOX_PI * BOX_PI)};
                const rv_t v = rv_mul(k4, rv_mul(dlt, dlt));
                if (v_out)
                    *v_out = v.v;
                rv_t alpha;
                const bool gated = kn.alpha_gate && cmp3(&c, iou, rv_exact(0.5)) <= 0;
                if (alpha_fixed) {
                    alpha.v = *alpha_fixed;
                    alpha.m = 4.0 * fabs(alpha.v);
                } else if (gated || v.v == 0.0) {
                    alpha = rv_zero;
                } else {
                    alpha = rv_div(v, rv_add(rv_sub(v, iou), rv_exact(1.0 + kn.ae)));
                    alpha.m += fabs(alpha.v); /* 1 + ae rounded to float */
                }
                L = rv_add(L, rv_mul(alpha, v));
                /* alpha dv/dr = -alpha 8 / pi^2 dlt / (1 + r^2) */
                const rv_t g_r = rv_neg(rv_div(rv_mul(rv_mul(alpha, rv_scale(k4, 2.0)), dlt),
                                               rv_add(one, rv_mul(r, r))));
                g_w_v = rv_div(g_r, hr);
                g_h_v = rv_neg(rv_div(rv_mul(g_r, r), hr));
                if (kn.ciou_clamp) {
                    /* L clamped to [0, 2]: nothing passes at or past the bounds */
                    const int lo = cmp3(&c, L, rv_zero);
                    const int hi = cmp3(&c, L, rv_exact(2.0));
                    if (lo <= 0 || hi >= 0)
                        pass_all = 0.0;
                    if (lo < 0 || hi > 0)
                        L = rv_exact(lo < 0 ? 0.0 : 2.0);
                }
            }
        }
    }

    /* back through the union and the intersection */
    const rv_t g_iou_p = rv_scale(g_iou, pass_all);
    rv_t g_Ud = rv_neg(rv_div(rv_mul(g_iou_p, iou), Ud));
    if (kind == FOCAL_BOX_GIOU)
        g_Ud = rv_add(g_Ud, g_Ud_giou);
    const rv_t g_U = rv_scale(g_Ud, dUd_dU);
    const rv_t g_I = rv_sub(rv_div(g_iou_p, Ud), g_U);
    const rv_t g_w = rv_add(rv_mul(g_U, h), rv_scale(g_w_v, pass_all));
    const rv_t g_h = rv_add(rv_mul(g_U, w), rv_scale(g_h_v, pass_all));
    const rv_t g_iw = rv_mul(g_I, dI_diw), g_ih = rv_mul(g_I, dI_dih);
    const rv_t gcw = rv_scale(g_cw, pass_all), gch = rv_scale(g_ch, pass_all);
    /* rho2 = (dx^2 + dy^2) / 4: d/dx1 = d/dx2 = -dx / 2 */
    const rv_t grx = rv_neg(rv_scale(rv_mul(rv_scale(g_rho2, pass_all), dx), 0.5));
    const rv_t gry = rv_neg(rv_scale(rv_mul(rv_scale(g_rho2, pass_all), dy), 0.5));

    const rv_t g[4] = {
        rv_add(rv_add(rv_neg(g_w), rv_scale(g_iw, dix1)), rv_add(rv_scale(gcw, dcx1), grx)),
        rv_add(rv_add(rv_neg(g_h), rv_scale(g_ih, diy1)), rv_add(rv_scale(gch, dcy1), gry)),
        rv_add(rv_add(g_w, rv_scale(g_iw, dix2)), rv_add(rv_scale(gcw, dcx2), grx)),
        rv_add(rv_add(g_h, rv_scale(g_ih, diy2)), rv_add(rv_scale(gch, dcy2), gry)),
    };
    o.loss = L.v;
    o.loss_err = L.m;
    for (int k = 0; k < 4; k++) {
        o.grad[k] = g[k].v;
        o.grad_err[k] = g[k].m;
    }
    o.branches = c.branches;
    o.fragile = c.fragile;
    return o;
}

static void box_iou_v(const float *p, const float *t, int kind, int convention, double e,
                      double *iou, double *v)
{
    *v = 0.0;
    box_eval(p, t, kind, convention, e, NULL, iou, v);
}

oracle_reg_t oracle_box(const float pred[4], const float target[4], int kind, int convention,
                        double eps, const float *alpha_at)
{
    if (kind == FOCAL_BOX_CIOU && alpha_at != NULL) {
        /* alpha is a constant of the gradient: evaluated at alpha_at */
        double iou, v;
        box_iou_v(alpha_at, target, kind, convention, eps, &iou, &v);
        const box_knobs_t kn = box_knobs(kind, convention, eps);
        double alpha = (kn.alpha_gate && !(iou > 0.5)) || v == 0.0
                           ? 0.0
                           : v / (v - iou + (1.0 + kn.ae));
        return box_eval(pred, target, kind, convention, eps, &alpha, NULL, NULL);
    }
    return box_eval(pred, target, kind, convention, eps, NULL, NULL, NULL);
}

oracle_reg_t oracle_smooth_l1(float pred, float target, double beta)
{
    oracle_reg_t o;
    memset(&o, 0, sizeof o);
    const rv_t d = rv_sub(rv_exact(pred), rv_exact(target));
    const double a = fabs(d.v);
    o.branches = a < beta ? 1 : d.v > 0 ? 2 : d.v < 0 ? 3 : 4;
    if (a < beta) {
        const rv_t l = rv_div(rv_scale(rv_mul(d, d), 0.5), rv_exact(beta));
        const rv_t g = rv_div(d, rv_exact(beta));
        o.loss = l.v;
        o.loss_err = l.m;
        o.grad[0] = g.v;
        o.grad_err[0] = g.m;
    } else {
        const rv_t ad = {a, d.m};
        const rv_t l = rv_sub(ad, rv_exact(0.5 * beta)); /* beta / 2: exact */
        o.loss = l.v;
        o.loss_err = l.m;
        o.grad[0] = d.v > 0 ? 1.0 : d.v < 0 ? -1.0 : 0.0;
    }
    if (isnan(d.v))
        o.loss = o.grad[0] = NAN;
    return o;
}
