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
    }
    free(ref.grad);
    free(o.grad);
    focal_set_isa("auto");
    if (bad == 0)
        fprintf(log,
                "cross-check (n = %zu): kernels bitwise identical to scalar; baselines agree "
                "(largest differences: mean loss %.2g relative, gradient %.2g of max |grad|)\n",
                n, worst[0], worst[1]);
    return bad;
}
