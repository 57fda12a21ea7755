/* What focal-bench measures: cases, implementations, sizes, and the names
 * Google Benchmark reports them under (also parsed by plot.py). */
#include "bench.h"

#include <focal/focal.h>

#include "baselines.h"
#include "gbench_shim.h"

int bench_cpu_clock = 1;

double bench_result_ns(const gb_result *r)
{
    return bench_cpu_clock ? gb_result_cpu_ns(r) : gb_result_real_ns(r);
}

const bench_case bench_cases[] = {
    {"hard_g2", "hard targets (1% positive), alpha 0.25, gamma 2", 1, 0.25f, 2.0f},
    {"soft_g1.5", "soft targets (uniform [0,1]), alpha 0.25, gamma 1.5", 0, 0.25f, 1.5f},
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

/* Baselines first, then kernels from narrowest to widest: the summary and
 * the console output follow this order. */
bench_impl bench_impls[] = {
    {"textbook", NULL, textbook, 0.0f, 1},
    {"fastmath", NULL, fastmath, 0.0f, 1},
    {"fastmath_g2", NULL, fastmath_g2, 2.0f, 1},
    {"scalar", "scalar", library, 0.0f, 0},
    {"avx2", "avx2", library, 0.0f, 0},
    {"avx512", "avx512", library, 0.0f, 0},
    {"neon", "neon", library, 0.0f, 0},
    {"sve", "sve", library, 0.0f, 0},
};
const size_t bench_nimpls = sizeof bench_impls / sizeof bench_impls[0];

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
