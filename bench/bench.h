/* Shared between the focal-bench driver (focal_bench.c) and its summary
 * (bench_summary.c): what is measured and how benchmarks are named. */
#ifndef FOCAL_BENCH_BENCH_H
#define FOCAL_BENCH_BENCH_H

#include <stddef.h>
#include <stdio.h>

typedef enum { BENCH_FWDGRAD, BENCH_FWD, BENCH_NMODES } bench_mode;

typedef struct bench_case {
    const char *name;  /* in benchmark names: "hard_g2"               */
    const char *title; /* for the summary                             */
    int hard;          /* hard (0/1) targets, else soft ones          */
    float alpha, gamma;
} bench_case;

/* One implementation of the MEAN focal loss; grad == NULL is forward only.
 * Returns 0 or a FOCAL_E* code. */
typedef int (*bench_fn)(const float *x, const float *t, size_t n, float alpha, float gamma,
                        float *loss, float *grad);

typedef struct bench_impl {
    const char *name;  /* in benchmark names: "avx512", "textbook"... */
    const char *isa;   /* focal_set_isa() name; NULL for a baseline   */
    bench_fn fn;
    float only_gamma;  /* > 0: gamma is compiled in; other cases skip */
    int available;     /* set at start-up: the CPU runs this kernel   */
} bench_impl;

/* Which clock the rates come from. 1 (the default, the library on one thread):
 * the benchmark thread's CPU time, which on a shared machine leaves out the
 * time other processes held the core. 0 (library multi-threaded, where one
 * thread's CPU time would leave out the workers): wall-clock time. */
extern int bench_cpu_clock;
struct gb_result;
double bench_result_ns(const struct gb_result *r); /* per iteration, that clock */

extern const bench_case bench_cases[];
extern const size_t bench_ncases;
extern bench_impl bench_impls[];
extern const size_t bench_nimpls;
extern const size_t bench_sizes[];
extern const size_t bench_nsizes;

const char *bench_mode_name(bench_mode m);   /* "fwdgrad", "fwd"          */
const char *bench_mode_title(bench_mode m);
size_t bench_bytes_per_elem(bench_mode m);   /* 12 with gradient, else 8  */
int bench_impl_applies(const bench_impl *impl, const bench_case *c);

/* "fwdgrad/hard_g2/avx512" (the size is appended by Google Benchmark). */
void bench_family_name(char *buf, size_t len, bench_mode m, const bench_case *c,
                       const char *impl);
/* Full names: "fwdgrad/hard_g2/avx512/1048576", and the stream loop with
 * the same traffic as mode m: "stream/add/1048576" or "stream/dot/1048576". */
void bench_run_name(char *buf, size_t len, bench_mode m, const bench_case *c, const char *impl,
                    size_t n);
void bench_stream_name(char *buf, size_t len, bench_mode m, size_t n);

struct bench_data;
/* Before anything is timed: runs every available implementation on the first
 * n elements and compares with the scalar kernel (kernels must match bit for
 * bit, baselines within 1e-3). Prints to log; returns the number of
 * mismatches. */
int bench_cross_check(const struct bench_data *d, size_t n, FILE *log);

/* The summary table and the three issue targets, after the benchmarks ran. */
void bench_print_summary(FILE *out);

#endif /* FOCAL_BENCH_BENCH_H */
