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
