/* SPDX-License-Identifier: MIT */
/*
 * The float64 reference for the accuracy contract (docs/DESIGN.md §4.1), and
 * the checks that compare a library call against it.
 *
 * The oracle is written here from the stable forms of docs/DESIGN.md §2 and
 * shares no code with the library: double precision, libm exp/log1p/pow.
 */
#ifndef FOCAL_TESTS_ORACLE_H
#define FOCAL_TESTS_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    double loss; /* loss of one element                       */
    double grad; /* d loss / d x of that element (unreduced)   */
} oracle_t;

/* One element, in double. Takes doubles so finite differences can move x by
 * less than a float ulp; the accuracy checks pass float inputs widened. */
oracle_t oracle_eval(double x, double t, double alpha, double gamma);

/* The textbook (naive) loss in double: a_t (1 - p_t)^gamma ce with
 * p = 1 / (1 + exp(-x)), ce = -t log p - (1 - t) log(1 - p). Only meaningful
 * for |x| <~ 15; used to check the oracle itself. */
double oracle_naive_loss(double x, double t, double alpha, double gamma);

/* The 1.1 losses of soft scores, one element in double: quality focal
 * |s - p|^g BCE and varifocal (s BCE for s > 0, alpha p^g BCE(x, 0) for
 * s = 0; alpha < 0 means 1). Gradients are the full derivatives. */
oracle_t oracle_quality(double x, double s, double gamma);
oracle_t oracle_varifocal(double x, double s, double alpha, double gamma);

/* 1.2: the sigmoid focal loss around BCE with a positive weight pw,
 * a_t q^g [pw t softplus(-x) + (1 - t) softplus(x)], and the quality focal
 * loss of Ultralytics' QFocalLoss: the same cross-entropy times |s - p|^g,
 * times a_t = alpha s + (1 - alpha)(1 - s) when alpha_t (and alpha >= 0). */
oracle_t oracle_sigmoid_pw(double x, double t, double alpha, double gamma, double pw);
oracle_t oracle_quality_yolo(double x, double s, double alpha, double gamma, double pw,
                             bool alpha_t);

/* Softmax focal loss of one row of finite logits in double: returns the loss
 * sum_c y'_c a_c q_c^g (-log p_c) with y' = y_hit at `label`, y_miss
 * elsewhere, a_c = class_alpha[c], else alpha (1 when < 0); writes d loss /
 * d x_j to grad (classes doubles) unless NULL. O(classes^2): q_c and the
 * gradient use sums over the other classes, with no cancellation. */
double oracle_softmax_row(const float *x, size_t classes, long label, double y_hit,
                          double y_miss, const float *class_alpha, double alpha, double gamma,
                          double *grad);

/* 1.5: the box regression losses of docs/DESIGN.md §2.8, one box pair (or
 * one element of smooth L1) in double, written from that section's
 * expression and its kink rules: min / max pass half the gradient to each
 * side at a tie, a clamp passes it at its bound, torchvision's mask does
 * not, CIoU's alpha is a constant of the gradient. */
typedef struct {
    double loss;        /* unweighted                                        */
    double grad[4];     /* d loss / d pred: x1, y1, x2, y2 (smooth L1: [0])  */
    /* Running error bounds (Wilkinson) of the same expression evaluated in
     * float, in units of u = 2^-24: a float evaluation is within about
     * u * loss_err of loss. 1 - iou and the gradients' sums cancel; these
     * say by how much. */
    double loss_err, grad_err[4];
    bool fragile;       /* a comparison of derived values (U or C against eps,
                           iou against eps or 0.5, CIoU's clamp) within its
                           error bound: float may take the other branch     */
    uint64_t branches;  /* every comparison's outcome, hashed: equal hashes
                           at two points, no kink met between them (for the
                           finite differences)                               */
} oracle_reg_t;

/* A box pair: kind FOCAL_BOX_*, convention FOCAL_BOXES_*, eps. alpha_at:
 * NULL, or the predicted box at which CIoU's alpha is evaluated (it is a
 * constant of the gradient: finite differences hold it there). */
oracle_reg_t oracle_box(const float pred[4], const float target[4], int kind, int convention,
                        double eps, const float *alpha_at);

/* Smooth L1 (L1 at beta = 0) of one element. */
oracle_reg_t oracle_smooth_l1(float pred, float target, double beta);

/* 1 for NONE and SUM, 1/n for MEAN: the factor between d loss_i / d x_i and
 * the gradient the library writes. */
double reduction_scale(int reduction, size_t n);

/* Tolerances of the contract. */
#define TOL_HARD_REL    1e-5
#define TOL_SOFT_REL    3e-5
#define TOL_SOFT_ABS    1e-6
#define TOL_REDUCED_REL 1e-6

/* ---- error statistics ------------------------------------------------------ */

enum { ST_LOSS_HARD, ST_GRAD_HARD, ST_LOSS_SOFT, ST_GRAD_SOFT, ST_REDUCED, ST_COUNT };
extern const char *const stat_names[ST_COUNT];

typedef struct {
    size_t count;     /* values compared                                          */
    double max_rel;   /* worst relative error where it is meaningful (see .c)     */
    double max_ratio; /* worst error / tolerance: > 1 is a failure                */
    /* inputs of the worst relative error, to report it */
    float x, t, alpha, gamma, got;
    double ref;
} err_stat_t;

typedef struct {
    err_stat_t s[ST_COUNT];
    size_t failures;
    size_t reported; /* failures printed so far (capped) */
} acc_stats_t;

void acc_reset(acc_stats_t *a);
void acc_merge(acc_stats_t *into, const acc_stats_t *from);
void acc_print(const char *kernel, const char *label, const acc_stats_t *a);

/* Compare every output of one focal_sigmoid_loss_grad() call with the oracle:
 * per-element loss (NONE), the reduced loss (SUM, MEAN), and the gradient.
 * loss or grad may be NULL (not checked). Elements with a non-finite logit are
 * skipped (tested separately), and so is the reduced loss when any exists.
 * Hard targets (exactly 0 or 1) get the hard tolerance, others the soft one.
 * Failures are counted in a->failures and the first few printed. */
void check_call(acc_stats_t *a, const float *x, const float *t, size_t n, float alpha,
                float gamma, int reduction, const float *loss, const float *grad);

/* Check a single value; exposed for the suites' own checks.
 * hard: contract for hard targets; abs_scale multiplies the soft absolute term. */
bool check_value(acc_stats_t *a, int stat, float got, double ref, bool hard,
                 double abs_scale, float x, float t, float alpha, float gamma,
                 const char *what, size_t index, size_t n, int reduction);

/* Reduced loss against the float64 sum: within TOL_REDUCED_REL relative
 * (absolute FLT_MIN below the normal range); n == 0 MEAN must be NaN. */
bool check_reduced(acc_stats_t *a, float got, long double ref_sum, size_t n, int reduction,
                   float alpha, float gamma);

#endif
