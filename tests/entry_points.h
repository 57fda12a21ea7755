/* SPDX-License-Identifier: MIT */
/*
 * One descriptor per public loss entry point, so that the property suites
 * (test_accuracy: float64 oracle, test_gradient_fd: finite differences,
 * test_bitwise: kernels and thread counts, test_errors: argument errors) are
 * written once and run over every entry point. A new loss adds a descriptor
 * here and its oracle in oracle.c; the suites pick it up from
 * focal_test_entries[].
 *
 * Every entry point is seen through one shape: rows x classes logits (the
 * element-wise ones are rows = n, classes = 1), float targets or scores
 * (rows x classes; one per row with EP_ROW_TARGETS) or int32 labels (rows), a per-class alpha (classes), a
 * per-row weight (rows: per element for the element-wise ones), a positive
 * weight where the entry point takes one (ep_pos_weight_len), and a
 * focal_options. The 1.0 call reads alpha, gamma and reduction from it.
 * The box losses (1.5, EP_BOXES) are rows = boxes, classes = 4: the
 * predicted boxes stand where the logits do, the target boxes where the
 * targets do; their scalars outside focal_options (kind, convention, eps;
 * smooth L1's beta) are constants of each descriptor (ep_scalars).
 *
 * docs/DESIGN.md §8 says how to add an entry point or an option.
 */
#ifndef FOCAL_TESTS_ENTRY_POINTS_H
#define FOCAL_TESTS_ENTRY_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <focal/focal.h>

#include "testutil.h"

/* What an entry point takes and uses (focal_test_entry.flags). */
#define EP_OPTIONS      (1u << 0) /* takes a focal_options (1.1), else alpha/gamma/reduction */
#define EP_CLASS_ALPHA  (1u << 1) /* uses class_alpha                                       */
#define EP_SMOOTHING    (1u << 2) /* uses label_smoothing                                   */
#define EP_WEIGHT       (1u << 3) /* uses weight                                            */
#define EP_LABELS       (1u << 4) /* int32 labels, else float targets / scores in [0, 1]    */
#define EP_ROW_LOSS     (1u << 5) /* NONE writes one loss per row, else one per element     */
#define EP_NO_BACKGROUND (1u << 6) /* label == classes is FOCAL_ELABEL (softmax)             */
#define EP_POS_WEIGHT   (1u << 7) /* uses pos_weight (1.2): one per class                   */
#define EP_POS_WEIGHT_ELEM (1u << 8) /* with EP_POS_WEIGHT: one per element, not per class   */
#define EP_QUALITY_ALPHA (1u << 9) /* takes FOCAL_FLAG_QUALITY_ALPHA (1.2)                    */
#define EP_SCORES       (1u << 10) /* element-wise on scores in [0, 1] (quality, varifocal):
                                     rows = n, classes = 1, one weight per element */
#define EP_ROW_TARGETS  (1u << 11) /* one float target per row in [0, classes - 1) (DFL,
                                     1.4), not rows x classes; alpha and gamma unread */
#define EP_REGRESSION   (1u << 12) /* targets are any floats, not checked (regression, 1.5);
                                     alpha and gamma unread; with EP_SCORES element-wise
                                     (smooth L1) */
#define EP_BOXES        (1u << 13) /* rows are boxes x1, y1, x2, y2 (1.5): classes is 4, pred
                                     in x, the target boxes in t (rows x 4) */

/* The scalars of an entry point that focal_options does not hold (1.5: the
 * box loss's kind, convention and eps; smooth L1's beta). A descriptor's
 * call passes its own; an argument error case overrides those whose EP_SET_*
 * bit is in `set` (ep_args.scalars). */
#define EP_SET_KIND       1u
#define EP_SET_CONVENTION 2u
#define EP_SET_SCALAR     4u
typedef struct {
    unsigned set;
    int kind, convention;
    float scalar; /* eps, beta */
} ep_scalars;

/* The inputs of one problem. Arrays hold one spare element (never read by a
 * correct call) so that 0-sized problems allocate something. */
typedef struct {
    size_t rows, classes;
    float *x;           /* rows x classes logits                         */
    float *t;           /* rows x classes targets / scores, or NULL      */
    int32_t *labels;    /* rows labels, or NULL                          */
    float *class_alpha; /* classes                                       */
    float *weight;      /* rows                                          */
    float *pos_weight;  /* ep_pos_weight_len, or NULL: the entry point
                           takes none, so no option set can pass one     */
    const float *x_at;  /* NULL, or where the reference evaluates what is a
                           constant of the gradient (CIoU's alpha): the
                           unperturbed x of test_gradient_fd             */
} ep_problem;

/* The arguments of one call, as the runners pass (and the error runner
 * mutates) them. */
typedef struct {
    const float *x, *t;
    const int32_t *labels;
    size_t rows, classes;
    const focal_options *opt; /* NULL: the defaults */
    float *loss, *grad;
    const ep_scalars *scalars; /* NULL: the descriptor's own */
} ep_args;

/* What a problem is generated for: each purpose keeps the value ranges its
 * checks need (smooth regions for finite differences, odd and non-finite
 * values for bit identity). */
enum ep_purpose { EP_ORACLE, EP_FD, EP_BITS, EP_PURPOSES };

/* Which value a tolerance is for. */
enum ep_what { EP_LOSS, EP_GRAD, EP_FD_GRAD };

/* |got - ref| <= rel |ref| + abs (at least FLT_MIN where |ref| is below the
 * normal range); skip: no accuracy promised there. */
typedef struct {
    double rel, abs;
    bool skip;
} ep_tol;

/* rows x classes; shrink: rows / test_shrink() + 13 (the sizes that make a
 * run slow under emulation; + 13 keeps an odd tail). */
typedef struct {
    size_t rows, classes;
    bool shrink;
} ep_shape;

/* The rows of a shape in this run. */
size_t ep_shape_rows(const ep_shape *s);

/* An argument error only this entry point has (the generic ones are in
 * test_errors.c, selected by flags). mutate() changes the arguments of a
 * valid call on the error problem (2 x 3, or 2 x error_classes, see
 * test_errors.c); expect is the
 * return code, and unless it is FOCAL_ETARGET nothing may be written. */
typedef struct {
    const char *what;
    void (*mutate)(ep_args *a, focal_options *o);
    int expect;
} ep_error_case;

/* A family of golden calls (tests/golden/test_golden.c): fixed calls whose
 * output bits every kernel, architecture and thread count must reproduce,
 * digested into one committed value (tests/golden/golden_digest.h). The
 * inputs come from test_golden's own integer LCG, never from make (libm):
 * what a call reads follows from the flags (EP_LABELS, EP_NO_BACKGROUND,
 * EP_SCORES). Call k goes to turns[k % 3] (a descriptor name; NULL: this
 * descriptor) and takes pos_weight if bit k % 3 of pos_weight_turns is set,
 * FOCAL_FLAG_QUALITY_ALPHA if bit k % 3 of flag_turns is. Shape i draws
 * from seed + i, or seed + rows x classes with seed_by_elems. */
enum ep_golden_sweep {
    EP_GOLDEN_1_0,   /* the 1.0 set: every target kind, gamma, 3 alphas, reduction,
                        output on every shape, only logits and targets drawn */
    EP_GOLDEN_SHAPES /* every option combination on small shapes, a few calls
                        cycling through them on large ones */
};

typedef struct {
    const char *name;
    const char *turns[3];
    uint64_t seed;
    bool seed_by_elems;
    const ep_shape *shapes; /* never shrunk: the digest fixes them */
    size_t nshapes;
    enum ep_golden_sweep sweep;
    unsigned pos_weight_turns, flag_turns;
    uint64_t digest;      /* committed, golden_digest.h */
    bool default_threads; /* on the default thread count (the 1.0 set), else 1 then 3 */
} ep_golden;

typedef struct focal_test_entry {
    const char *name;
    unsigned flags;

    /* The call, on whatever kernel and thread count are active. */
    int (*call)(const ep_args *a);

    /* Input generator: allocates p (free with ep_free) and fills it. */
    void (*make)(ep_problem *p, rng_t *r, size_t rows, size_t classes, enum ep_purpose purpose);

    /* Option sets per purpose: options(o, p, purpose, i, reduction) for
     * i < noptions[purpose] sets *o (after focal_options_init). */
    int noptions[EP_PURPOSES];
    void (*options)(focal_options *o, const ep_problem *p, enum ep_purpose purpose, int i,
                    int reduction);

    /* Shapes per purpose (none: a suite's own cases cover that purpose). */
    const ep_shape *shapes[EP_PURPOSES];
    size_t nshapes[EP_PURPOSES];

    /* The thread-count check's shape (past 8 blocks of 16 Ki elements: the
     * pool runs), with EP_ORACLE inputs and this EP_BITS option set; no
     * rows: not checked (a variant of another descriptor's walk). */
    ep_shape thread_shape;
    int thread_options;

    /* float64 oracle: per-output loss (loss_len(NONE) values), gradient of
     * the reduced loss (rows x classes) and reduced loss (for SUM and MEAN;
     * NONE gives the plain sum). */
    void (*reference)(const ep_problem *p, const focal_options *o, double *loss, double *grad,
                      double *reduced);

    /* The contract's tolerance for loss (index = loss index) or gradient
     * (element index) under these options, and for finite differences. */
    void (*tolerance)(const ep_problem *p, const focal_options *o, size_t k, enum ep_what what,
                      ep_tol *tol);

    /* The reduced loss's (SUM, MEAN) tolerance under these options; NULL:
     * TOL_REDUCED_REL relative (docs/DESIGN.md §4.1). The box losses' sum
     * carries each box's 1 - iou cancellation. */
    void (*reduced_tolerance)(const ep_problem *p, const focal_options *o, ep_tol *tol);

    /* Guard pages (hardening/test_guard_pages.c): every guard_rows x
     * guard_classes shape with its arrays against PROT_NONE pages,
     * guard_turns calls per output selection (option sets and gammas take
     * turns), and guard_large past 8 blocks on 2 threads. No guard_rows: not
     * swept there (the 1.0 call has a deeper sweep of its own). */
    const size_t *guard_rows, *guard_classes;
    size_t nguard_rows, nguard_classes;
    int guard_turns;
    ep_shape guard_large;

    /* Step of the central differences in x (a power of two, so x +- h is
     * mostly exact in float; the runner divides by the step actually taken). */
    double fd_step;

    const ep_error_case *errors;
    size_t nerrors;
    /* test_errors' problem has 2 rows of this many classes (0: 3; boxes: 4) */
    size_t error_classes;

    /* Its golden families (none: not in test_golden). */
    const ep_golden *golden;
    size_t ngolden;
} focal_test_entry;

/* Every entry point, in release order. */
extern const focal_test_entry *const focal_test_entries[];
extern const size_t focal_test_entry_count;

/* The descriptor of that name, NULL if there is none (the golden families
 * and the fuzz targets name entry points). */
const focal_test_entry *ep_named(const char *name);

/* ---- what the runners share ----------------------------------------------------- */

void ep_alloc(ep_problem *p, size_t rows, size_t classes, bool targets, bool labels);
void ep_free(ep_problem *p);

/* Positive weights an entry point reads: classes (EP_POS_WEIGHT), rows x
 * classes (with EP_POS_WEIGHT_ELEM), 0 when it takes none. */
size_t ep_pos_weight_len(const focal_test_entry *e, size_t rows, size_t classes);

/* Float targets an entry point reads: rows x classes, rows (EP_ROW_TARGETS),
 * 0 with labels. */
size_t ep_targets_len(const focal_test_entry *e, size_t rows, size_t classes);

/* A valid row target (EP_ROW_TARGETS) for `classes` bins from a draw u in
 * [0, 1): l + f with the bin l and the fraction f both drawn from u, f
 * often exactly 0; 0 when there is no valid target (classes < 2). */
float ep_row_target(double u, size_t classes);

/* The arguments of a call on p (loss, grad as given). */
ep_args ep_args_of(const ep_problem *p, const focal_options *o, float *loss, float *grad);

/* Floats NONE writes (rows or rows x classes); 1 for SUM and MEAN. */
size_t ep_loss_len(const focal_test_entry *e, size_t rows, size_t classes, int reduction);

/* Element k (or loss index k) belongs to an ignored row (label < 0). */
bool ep_ignored(const focal_test_entry *e, const ep_problem *p, size_t k, enum ep_what what);

/* got within tol of ref: |got - ref| <= rel |ref| + abs, and at least
 * FLT_MIN absolute where |ref| is below the normal range (no relative
 * accuracy exists there). False for NaN. */
bool ep_close(double got, double ref, const ep_tol *tol);

/* Logits that stress the kernels' special paths: extreme finite values and,
 * with nonfinite, infinities and NaN. */
extern const float ep_odd_logits[];
extern const size_t ep_odd_count, ep_odd_finite_count;

#endif
