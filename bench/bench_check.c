/* SPDX-License-Identifier: MIT */
/*
 * The cross-check focal-bench runs before timing: a speed-up only means
 * something if both sides compute the same loss and gradient.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "bench.h"
#include "bench_data.h"

/* Baselines use libm or libmvec (a few ulp) and naive forms (cancellation in
 * 1 - p); 1e-3 relative catches a wrong formula without flagging rounding. */
#define BASELINE_TOLERANCE 1e-3

typedef struct outputs {
    float loss, loss_fwd; /* with gradient, forward only */
    float *grad;
} outputs;

static int compute(const bench_impl *impl, const bench_case *c, const float *x, const float *t,
                   size_t n, outputs *o)
{
    if (impl->isa && focal_set_isa(impl->isa) != FOCAL_OK)
        return FOCAL_EISA_UNSUPPORTED;
    int rc = impl->fn(x, t, n, c->alpha, c->gamma, &o->loss, o->grad);
    if (rc == 0)
        rc = impl->fn(x, t, n, c->alpha, c->gamma, &o->loss_fwd, NULL);
    return rc;
}

static double rel_diff(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-30); }

/* Largest gradient difference relative to the largest reference gradient:
 * per-element relative error is meaningless where the gradient is ~0. */
static double grad_diff(const float *g, const float *ref, size_t n)
{
    double dmax = 0.0, rmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)g[i] - ref[i]);
        if (!(d <= dmax)) /* also keeps a NaN, which then fails the check */
            dmax = d;
        rmax = fmax(rmax, fabs(ref[i]));
    }
    return dmax / fmax(rmax, 1e-30);
}

static int check_case(const bench_impl *scalar, const bench_case *c, const bench_data *d, size_t n, outputs *ref,
                      outputs *o, double *worst, FILE *log)
{
    const float *t = c->hard ? d->hard_targets : d->soft_targets;
    int bad = 0;
    int rc = compute(scalar, c, d->logits, t, n, ref);
    if (rc != 0) {
        fprintf(log, "cross-check: scalar kernel failed on %s: %s\n", c->name, focal_strerror(rc));
        return 1;
    }
    for (size_t k = 0; k < bench_nimpls; k++) {
        const bench_impl *impl = &bench_impls[k];
        if (!bench_impl_applies(impl, c))
            continue;
        rc = compute(impl, c, d->logits, t, n, o);
        if (rc != 0) {
            fprintf(log, "cross-check: %s failed on %s: %s\n", impl->name, c->name,
                    focal_strerror(rc));
            bad++;
            continue;
        }
        double dl = fmax(rel_diff(o->loss, ref->loss), rel_diff(o->loss_fwd, ref->loss_fwd));
        double dg = grad_diff(o->grad, ref->grad, n);
        if (impl->isa) {
            /* The library promises the same bits from every kernel. */
            if (memcmp(&o->loss, &ref->loss, sizeof o->loss) != 0 ||
                memcmp(&o->loss_fwd, &ref->loss_fwd, sizeof o->loss) != 0 ||
                memcmp(o->grad, ref->grad, n * sizeof *o->grad) != 0) {
                fprintf(log,
                        "cross-check: %s kernel is NOT bitwise identical to scalar on %s "
                        "(loss rel %.3g, grad rel %.3g)\n",
                        impl->name, c->name, dl, dg);
                bad++;
            }
        } else {
            if (!(dl <= BASELINE_TOLERANCE && dg <= BASELINE_TOLERANCE)) {
                fprintf(log,
                        "cross-check: baseline %s disagrees with the library on %s "
                        "(loss %.9g vs %.9g, grad rel %.3g)\n",
                        impl->name, c->name, o->loss, ref->loss, dg);
                bad++;
            }
            worst[0] = fmax(worst[0], dl);
            worst[1] = fmax(worst[1], dg);
        }
    }
    return bad;
}

/* The floors must do the work they claim: each against the same formulas in
 * double with libm (SLEEF's 1.0 and 3.5-ulp functions, then float rounding
 * of u = 1 + e: far below 1e-5 of an output >= 0.35), and every ISA's floor
 * bitwise equal to the first one's (SLEEF gives the same bits in every ISA,
 * so a difference is a lane or phase bug in the floor). n: multiple of 16. */
#define FLOOR_TOLERANCE 1e-5

static double floor_reference(float x, bench_floor_kind kind, float gamma)
{
    const double e = (double)(float)exp(-fabs((double)x)), u = (double)(float)(1.0 + e);
    const double r = 1.0 / u, l = log(u);
    return (kind == BENCH_FLOOR_SOFT ? pow(r, (double)gamma) : r) + l;
}

static int check_floors(const bench_data *d, size_t n, float *first, float *o, FILE *log)
{
    int bad = 0;
    for (size_t c = 0; c < bench_ncases; c++) {
        const bench_case *bc = &bench_cases[c];
        const bench_floor *ref = NULL;
        for (size_t f = 0; f < bench_nfloors; f++) {
            const bench_floor *fl = &bench_floors[f];
            if (!fl->available)
                continue;
            fl->fn[bc->floor](d->logits, n, bc->gamma, ref ? o : first);
            const float *out = ref ? o : first;
            double worst = 0.0;
            for (size_t i = 0; i < n; i++) {
                const double want = floor_reference(d->logits[i], bc->floor, bc->gamma);
                const double diff = fabs(out[i] - want) / fabs(want);
                if (!(diff <= worst)) /* keeps a NaN */
                    worst = diff;
            }
            if (!(worst <= FLOOR_TOLERANCE)) {
                fprintf(log, "cross-check: sleef_floor %s on %s is off by %.3g relative\n",
                        fl->isa, bc->name, worst);
                bad++;
            }
            if (ref && memcmp(o, first, n * sizeof *o) != 0) {
                fprintf(log, "cross-check: sleef_floor %s on %s is NOT bitwise identical to %s\n",
                        fl->isa, bc->name, ref->isa);
                bad++;
            }
            if (!ref)
                ref = fl;
        }
    }
    return bad;
}

int bench_cross_check(const bench_data *d, size_t n, FILE *log)
{
    outputs ref = {0}, o = {0};
    double worst[2] = {0.0, 0.0};
    int bad = 0;
    const bench_impl *scalar = NULL;
    for (size_t k = 0; k < bench_nimpls; k++)
        if (bench_impls[k].isa && strcmp(bench_impls[k].isa, "scalar") == 0)
            scalar = &bench_impls[k];
    if (n > d->n)
        n = d->n;
    ref.grad = malloc(n * sizeof *ref.grad);
    o.grad = malloc(n * sizeof *o.grad);
    if (!ref.grad || !o.grad) {
        fprintf(log, "cross-check: out of memory\n");
        bad = 1;
    } else {
        for (size_t c = 0; c < bench_ncases; c++)
            bad += check_case(scalar, &bench_cases[c], d, n, &ref, &o, worst, log);
        bad += check_floors(d, n - n % 16, ref.grad, o.grad, log);
    }
    free(ref.grad);
    free(o.grad);
    focal_set_isa("auto");
    if (bad == 0)
        fprintf(log,
                "cross-check (n = %zu): kernels bitwise identical to scalar; baselines agree "
                "(largest differences: mean loss %.2g relative, gradient %.2g of max |grad|); "
                "sleef_floors agree with libm and with each other\n",
                n, worst[0], worst[1]);
    return bad;
}

/* The family/ cases on their first rows, at most about n elements (one row
 * at least): every kernel bitwise equal to the scalar one (the library's
 * promise for every entry point), the textbook loop within
 * BASELINE_TOLERANCE. Loss + gradient, MEAN, as the family/ runs. */
int bench_cross_check_family(size_t n, FILE *log)
{
    const bench_impl *scalar = NULL;
    size_t most = 0;
    for (size_t k = 0; k < bench_nimpls; k++)
        if (bench_impls[k].isa && strcmp(bench_impls[k].isa, "scalar") == 0)
            scalar = &bench_impls[k];
    for (size_t c = 0; c < bench_family_ncases; c++) {
        const bench_family_case *fc = &bench_family_cases[c];
        const size_t rows = n / fc->classes ? n / fc->classes : 1;
        const size_t e = (rows < fc->rows ? rows : fc->rows) * fc->classes;
        most = e > most ? e : most;
    }
    outputs ref = {0}, o = {0};
    double worst[2] = {0.0, 0.0};
    int bad = 0;
    ref.grad = malloc(most * sizeof *ref.grad);
    o.grad = malloc(most * sizeof *o.grad);
    const int oom = !scalar || !ref.grad || !o.grad;
    if (oom) {
        fprintf(log, "cross-check (family): out of memory\n");
        bad = 1;
    }
    for (size_t c = 0; c < bench_family_ncases && !oom; c++) {
        const bench_family_case *fc = &bench_family_cases[c];
        size_t rows = n / fc->classes ? n / fc->classes : 1;
        rows = rows < fc->rows ? rows : fc->rows;
        const size_t elems = rows * fc->classes;
        int rc = focal_set_isa("scalar");
        if (rc == FOCAL_OK)
            rc = bench_family_call(fc, scalar, rows, &ref.loss, ref.grad);
        if (rc != 0) {
            fprintf(log, "cross-check: scalar kernel failed on family/%s: %s\n", fc->name,
                    focal_strerror(rc));
            bad++;
            continue;
        }
        /* k == bench_nimpls: the textbook loop. */
        for (size_t k = 0; k <= bench_nimpls; k++) {
            const bench_impl *impl = k < bench_nimpls ? &bench_impls[k] : NULL;
            if (impl && (!impl->isa || !impl->available || impl == scalar))
                continue;
            rc = impl ? focal_set_isa(impl->isa) : FOCAL_OK;
            if (rc == FOCAL_OK)
                rc = bench_family_call(fc, impl, rows, &o.loss, o.grad);
            const char *who = impl ? impl->name : "textbook";
            if (rc != 0) {
                fprintf(log, "cross-check: %s failed on family/%s: %s\n", who, fc->name,
                        focal_strerror(rc));
                bad++;
                continue;
            }
            const double dl = rel_diff(o.loss, ref.loss), dg = grad_diff(o.grad, ref.grad, elems);
            if (impl) {
                if (memcmp(&o.loss, &ref.loss, sizeof o.loss) != 0 ||
                    memcmp(o.grad, ref.grad, elems * sizeof *o.grad) != 0) {
                    fprintf(log,
                            "cross-check: %s kernel is NOT bitwise identical to scalar on "
                            "family/%s (loss rel %.3g, grad rel %.3g)\n",
                            who, fc->name, dl, dg);
                    bad++;
                }
            } else {
                if (!(dl <= BASELINE_TOLERANCE && dg <= BASELINE_TOLERANCE)) {
                    fprintf(log,
                            "cross-check: baseline textbook disagrees with the library on "
                            "family/%s (loss %.9g vs %.9g, grad rel %.3g)\n",
                            fc->name, o.loss, ref.loss, dg);
                    bad++;
                }
                worst[0] = fmax(worst[0], dl);
                worst[1] = fmax(worst[1], dg);
            }
        }
    }
    free(ref.grad);
    free(o.grad);
    focal_set_isa("auto");
    if (bad == 0)
        fprintf(log,
                "cross-check (family, up to %zu elements a case): kernels bitwise identical "
                "to scalar; textbook loops agree (largest differences: mean loss %.2g "
                "relative, gradient %.2g of max |grad|)\n",
                n, worst[0], worst[1]);
    return bad;
}

/* Detector rows for the check: 327680 elements, 20 blocks, so the "tall"
 * runs do use the workers. */
#define CHECK_DET_ROWS 4096

/* Runs the same call at 1 and at all threads; the results must be the same
 * bits (the library cuts the input into fixed blocks whatever the count).
 * k < 0: the threads case (1.0 call, hard targets, n elements). */
static int check_thread_counts(const bench_data *d, int k, size_t n, float *g1, float *gn,
                               FILE *log)
{
    const bench_case *c = bench_threads_case;
    float loss[BENCH_NTHREADS];
    float *grad[BENCH_NTHREADS] = {g1, gn};
    char name[96];
    for (int t = 0; t < BENCH_NTHREADS; t++) {
        bench_use_threads((bench_threads)t);
        int rc = k < 0 ? focal_sigmoid_loss_grad(d->logits, d->hard_targets, n, c->alpha,
                                                 c->gamma, FOCAL_REDUCTION_MEAN, &loss[t],
                                                 grad[t])
                       : bench_det_call(d, (bench_det)k, n, FOCAL_REDUCTION_MEAN, &loss[t],
                                        grad[t]);
        bench_restore_threads();
        if (k < 0)
            bench_threads_family(name, sizeof name, (bench_threads)t);
        else
            bench_det_family(name, sizeof name, (bench_det)k, (bench_threads)t);
        if (rc != 0) {
            fprintf(log, "cross-check: %s failed: %s\n", name, focal_strerror(rc));
            return 1;
        }
    }
    const size_t elems = k < 0 ? n : n * d->det_classes;
    if (memcmp(&loss[0], &loss[1], sizeof loss[0]) != 0 ||
        memcmp(g1, gn, elems * sizeof *g1) != 0) {
        fprintf(log,
                "cross-check: %s: 1 and %d threads are NOT bitwise identical (loss %.9g vs "
                "%.9g)\n",
                name, bench_threads_all, loss[0], loss[1]);
        return 1;
    }
    return 0;
}

int bench_cross_check_threads(const bench_data *d, FILE *log)
{
    const size_t n = (size_t)1 << 20 <= d->n ? (size_t)1 << 20 : d->n;
    const size_t rows = CHECK_DET_ROWS <= d->det_rows ? CHECK_DET_ROWS : d->det_rows;
    const size_t elems = rows * d->det_classes;
    const size_t len = n > elems ? n : elems;
    float *a = malloc(len * sizeof *a), *b = malloc(len * sizeof *b);
    double worst = 0.0;
    int bad = 0;

    if (!a || !b || !d->det_labels) {
        fprintf(log, "cross-check: out of memory\n");
        free(a);
        free(b);
        return 1;
    }
    if (focal_set_isa(bench_best_isa) != FOCAL_OK) {
        fprintf(log, "cross-check: kernel %s not available\n", bench_best_isa);
        bad++;
    }

    bad += check_thread_counts(d, -1, n, a, b, log);
    for (int k = 0; k < BENCH_NDET; k++)
        bad += check_thread_counts(d, k, rows, a, b, log);

    /* Dense with default options is the 1.0 call on the flattened arrays. */
    float ld, lf;
    if (bench_det_call(d, BENCH_DET_DENSE, rows, FOCAL_REDUCTION_MEAN, &ld, a) != 0 ||
        bench_det_call(d, BENCH_DET_FLAT, rows, FOCAL_REDUCTION_MEAN, &lf, b) != 0 ||
        memcmp(&ld, &lf, sizeof ld) != 0 || memcmp(a, b, elems * sizeof *a) != 0) {
        fprintf(log, "cross-check: detector dense is NOT bitwise identical to the 1.0 call "
                     "(loss %.9g vs %.9g)\n", ld, lf);
        bad++;
    }

    /* Labels against their dense one-hot equivalent, per element (SUM, so no
     * divisor differs): the same gradient where the row is not ignored, zero
     * where it is (dense, which has no ignore, computes those rows as
     * background). */
    float ll;
    if (bench_det_call(d, BENCH_DET_LABELS, rows, FOCAL_REDUCTION_SUM, &ll, a) != 0 ||
        bench_det_call(d, BENCH_DET_DENSE, rows, FOCAL_REDUCTION_SUM, &ld, b) != 0) {
        fprintf(log, "cross-check: detector labels or dense failed with SUM\n");
        bad++;
    } else {
        double dmax = 0.0, rmax = 0.0;
        int ignored_nonzero = 0;
        for (size_t r = 0; r < rows; r++)
            for (size_t j = r * d->det_classes; j < (r + 1) * d->det_classes; j++) {
                if (d->det_labels[r] < 0) {
                    ignored_nonzero |= a[j] != 0.0f;
                    continue;
                }
                double diff = fabs((double)a[j] - b[j]);
                if (!(diff <= dmax))
                    dmax = diff;
                rmax = fmax(rmax, fabs(b[j]));
            }
        worst = dmax / fmax(rmax, 1e-30);
        if (ignored_nonzero || !(worst <= 1e-5)) {
            fprintf(log,
                    "cross-check: detector labels disagree with dense one-hot targets "
                    "(gradient rel %.3g%s)\n",
                    worst, ignored_nonzero ? ", non-zero gradient on ignored rows" : "");
            bad++;
        }
    }

    free(a);
    free(b);
    focal_set_isa("auto");
    if (bad == 0)
        fprintf(log,
                "cross-check (threads, detector; %s): 1 and %d thread%s bitwise identical; "
                "dense == 1.0 call bitwise; labels == dense gradient on non-ignored rows "
                "(largest difference %.2g of max |grad|), 0 on ignored rows\n",
                bench_best_isa, bench_threads_all, bench_threads_all == 1 ? "" : "s", worst);
    return bad;
}
