/* SPDX-License-Identifier: MIT */
/* What focal-bench measures: cases, implementations, sizes, and the names
 * Google Benchmark reports them under (also parsed by plot.py). */
#include "bench.h"

#include <string.h>

#include <focal/focal.h>

#include "baselines.h"
#include "bench_data.h"
#include "gbench_shim.h"

int bench_cpu_clock = 1;

double bench_result_ns(const gb_result *r)
{
    return bench_cpu_clock ? gb_result_cpu_ns(r) : gb_result_real_ns(r);
}

const bench_case bench_cases[] = {
    {"hard_g2", "hard targets (1% positive), alpha 0.25, gamma 2", 1, 0.25f, 2.0f,
     BENCH_FLOOR_HARD},
    {"soft_g1.5", "soft targets (uniform [0,1]), alpha 0.25, gamma 1.5", 0, 0.25f, 1.5f,
     BENCH_FLOOR_SOFT},
};
const size_t bench_ncases = sizeof bench_cases / sizeof bench_cases[0];

/* 4K and 64K stay in L1/L2, 1M (12 MB of traffic) in L3 on most server
 * parts, 16M (192 MB) goes to DRAM. */
const size_t bench_sizes[] = {4096, 65536, 1u << 20, 1u << 24};
const size_t bench_nsizes = sizeof bench_sizes / sizeof bench_sizes[0];

static int library(const float *x, const float *t, size_t n, float alpha, float gamma,
                   float *loss, float *grad)
{
    return focal_sigmoid_loss_grad(x, t, n, alpha, gamma, FOCAL_REDUCTION_MEAN, loss, grad);
}

#define BASELINE_ADAPTER(prefix)                                                            \
    static int prefix(const float *x, const float *t, size_t n, float alpha, float gamma,  \
                      float *loss, float *grad)                                             \
    {                                                                                       \
        if (grad)                                                                           \
            prefix##_loss_grad(x, t, n, alpha, gamma, loss, grad);                          \
        else                                                                                \
            prefix##_loss(x, t, n, alpha, gamma, loss);                                     \
        return 0;                                                                           \
    }
BASELINE_ADAPTER(textbook)
BASELINE_ADAPTER(fastmath)
BASELINE_ADAPTER(fastmath_g2)

/* Baselines first, then the library's kernels in focal_kernel_name() order
 * (narrowest to widest), appended by bench_add_kernels(): the summary and
 * the console output follow this order. */
bench_impl bench_impls[BENCH_MAX_IMPLS] = {
    {"textbook", NULL, textbook, 0.0f, 1},
    {"fastmath", NULL, fastmath, 0.0f, 1},
    {"fastmath_g2", NULL, fastmath_g2, 2.0f, 1},
};
size_t bench_nimpls = 3;

void bench_add_kernels(void)
{
    const char *name;
    for (size_t i = 0; bench_nimpls < BENCH_MAX_IMPLS && (name = focal_kernel_name(i)) != NULL; i++)
        bench_impls[bench_nimpls++] = (bench_impl){name, name, library, 0.0f, 0};
}

/* The floors built for this architecture, in the order of the kernels. */
#define FLOOR_ENTRY(isa) {#isa, {sleef_floor_hard_##isa, sleef_floor_soft_##isa}, 0}
bench_floor bench_floors[] = {
    FLOOR_ENTRY(scalar),
#if defined(__x86_64__)
    FLOOR_ENTRY(avx2),
    FLOOR_ENTRY(avx512),
#elif defined(__aarch64__)
    FLOOR_ENTRY(neon),
    FLOOR_ENTRY(sve),
#endif
};
const size_t bench_nfloors = sizeof bench_floors / sizeof bench_floors[0];

const bench_floor *bench_floor_of(const char *isa)
{
    for (size_t f = 0; f < bench_nfloors; f++)
        if (bench_floors[f].available && strcmp(bench_floors[f].isa, isa) == 0)
            return &bench_floors[f];
    return NULL;
}

void bench_floor_family(char *buf, size_t len, const bench_case *c, const char *isa)
{
    snprintf(buf, len, "sleef_floor/%s/%s", c->name, isa);
}

void bench_floor_run_name(char *buf, size_t len, const bench_case *c, const char *isa, size_t n)
{
    snprintf(buf, len, "sleef_floor/%s/%s/%zu", c->name, isa, n);
}

const char *bench_mode_name(bench_mode m) { return m == BENCH_FWDGRAD ? "fwdgrad" : "fwd"; }

const char *bench_mode_title(bench_mode m)
{
    return m == BENCH_FWDGRAD ? "loss + gradient, MEAN" : "loss only (forward), MEAN";
}

/* Loss + gradient reads logits and targets and writes the gradient; forward
 * only reads (its one-float output is noise). */
size_t bench_bytes_per_elem(bench_mode m) { return m == BENCH_FWDGRAD ? 12 : 8; }

int bench_impl_applies(const bench_impl *impl, const bench_case *c)
{
    return impl->available && (impl->only_gamma <= 0.0f || impl->only_gamma == c->gamma);
}

void bench_family_name(char *buf, size_t len, bench_mode m, const bench_case *c, const char *impl)
{
    snprintf(buf, len, "%s/%s/%s", bench_mode_name(m), c->name, impl);
}

void bench_run_name(char *buf, size_t len, bench_mode m, const bench_case *c, const char *impl,
                    size_t n)
{
    snprintf(buf, len, "%s/%s/%s/%zu", bench_mode_name(m), c->name, impl, n);
}

void bench_stream_name(char *buf, size_t len, bench_mode m, size_t n)
{
    snprintf(buf, len, "stream/%s/%zu", m == BENCH_FWDGRAD ? "add" : "dot", n);
}

/* ---- thread scaling and detector shape ---------------------------------- */

char bench_best_isa[16] = "scalar";
int bench_threads_all = 1;
int bench_base_threads = 1;
const bench_case *const bench_threads_case = &bench_cases[0]; /* hard_g2 */

/* L3-resident and DRAM-bound, as in the main table. */
const size_t bench_threads_sizes[] = {1u << 20, 1u << 24};
const size_t bench_threads_nsizes = sizeof bench_threads_sizes / sizeof bench_threads_sizes[0];

const char *bench_threads_name(bench_threads t) { return t == BENCH_T1 ? "t1" : "tall"; }

void bench_use_threads(bench_threads t) { focal_set_num_threads(t == BENCH_T1 ? 1 : 0); }

void bench_restore_threads(void) { focal_set_num_threads(bench_base_threads); }

const char *bench_det_name(bench_det k)
{
    static const char *const names[BENCH_NDET] = {"labels", "dense", "flat"};
    return names[k];
}

const char *bench_det_title(bench_det k)
{
    static const char *const titles[BENCH_NDET] = {
        "focal_sigmoid_labels, int32 labels",
        "focal_sigmoid_dense, float one-hot",
        "focal_sigmoid_loss_grad (1.0), flat",
    };
    return titles[k];
}

/* Logits read and gradient written (4 + 4), plus the targets: one int32 per
 * row of classes elements, or one float per element. */
double bench_det_bytes_per_elem(bench_det k)
{
    return k == BENCH_DET_LABELS ? 8.0 + 4.0 / (double)BENCH_DET_CLASSES : 12.0;
}

void bench_threads_family(char *buf, size_t len, bench_threads t)
{
    snprintf(buf, len, "threads/%s/%s/%s", bench_threads_case->name, bench_best_isa,
             bench_threads_name(t));
}

void bench_threads_run_name(char *buf, size_t len, bench_threads t, size_t n)
{
    snprintf(buf, len, "threads/%s/%s/%s/%zu%s", bench_threads_case->name, bench_best_isa,
             bench_threads_name(t), n, BENCH_WALL_SUFFIX);
}

void bench_det_family(char *buf, size_t len, bench_det k, bench_threads t)
{
    snprintf(buf, len, "detector/%s/%s/%s", bench_det_name(k), bench_best_isa,
             bench_threads_name(t));
}

void bench_det_run_name(char *buf, size_t len, bench_det k, bench_threads t)
{
    snprintf(buf, len, "detector/%s/%s/%s%s", bench_det_name(k), bench_best_isa,
             bench_threads_name(t), BENCH_WALL_SUFFIX);
}

int bench_det_call(const bench_data *d, bench_det k, size_t rows, int reduction, float *loss,
                   float *grad)
{
    const size_t classes = d->det_classes;
    focal_options opt;
    focal_options_init(&opt);
    opt.alpha = 0.25f;
    opt.gamma = 2.0f;
    opt.reduction = reduction;
    switch (k) {
    case BENCH_DET_LABELS:
        return focal_sigmoid_labels(d->logits, d->det_labels, rows, classes, &opt, loss, grad);
    case BENCH_DET_DENSE:
        return focal_sigmoid_dense(d->logits, d->det_targets, rows, classes, &opt, loss, grad);
    default:
        return focal_sigmoid_loss_grad(d->logits, d->det_targets, rows * classes, opt.alpha,
                                       opt.gamma, reduction, loss, grad);
    }
}
