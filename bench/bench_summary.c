/* SPDX-License-Identifier: MIT */
/*
 * The human summary focal-bench prints after Google Benchmark's output:
 * per case, throughput of every implementation and of each kernel's compute
 * floor at every size, with the fraction of the stream loop's rate (memory
 * roofline) and, for kernels, of their floor's rate (compute roofline);
 * speed-ups of each kernel over each baseline. Then two sections for the
 * wall-clock runs: "threads" (1 vs all library threads) and "detector"
 * (labels vs dense vs the 1.0 call on a RetinaNet shape). The last line
 * (bench_print_verdict) sums up the active kernel.
 *
 * Everything is computed from time per iteration (the median when
 * --benchmark_repetitions was given): CPU time (the "CPU" column) when the
 * library runs single-threaded, else real time (see bench_cpu_clock). The
 * threads and detector sections always use real (wall) time.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_data.h"
#include "gbench_shim.h"

#define CELL 24  /* width of one size column: rate, % of stream, % of floor */
#define SHARE 7  /* " 100.0%" */

/* Sizes that have at least one result: a --benchmark_filter on one size
 * should not print columns of dashes. */
static int size_used[8];

static void mark_used_sizes(void)
{
    for (size_t i = 0; i < gb_result_count(); i++) {
        const char *name = gb_result_name(gb_result_at(i));
        const char *last = strrchr(name, '/');
        for (size_t s = 0; last && s < bench_nsizes; s++)
            if (strtoull(last + 1, NULL, 10) == bench_sizes[s])
                size_used[s] = 1;
    }
}

static int any_value(const double *v)
{
    for (size_t s = 0; s < bench_nsizes; s++)
        if (size_used[s] && !isnan(v[s]))
            return 1;
    return 0;
}

/* Million elements per second, NaN when the benchmark did not run. */
static double melem(const char *name, size_t n)
{
    const gb_result *r = gb_result_find(name);
    return r ? (double)n / bench_result_ns(r) * 1e3 : NAN;
}

static double impl_melem(bench_mode m, const bench_case *c, const char *impl, size_t n)
{
    char name[96];
    bench_run_name(name, sizeof name, m, c, impl, n);
    return melem(name, n);
}

static double stream_melem(bench_mode m, size_t n)
{
    char name[96];
    bench_stream_name(name, sizeof name, m, n);
    return melem(name, n);
}

static const char *size_label(size_t n, char *buf, size_t len)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, len, "%zuM", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%zuK", n >> 10);
    else
        snprintf(buf, len, "%zu", n);
    return buf;
}

static void print_size_header(FILE *out, const char *title)
{
    char label[32];
    fprintf(out, "  %-24s", title);
    for (size_t s = 0; s < bench_nsizes; s++)
        if (size_used[s])
            fprintf(out, "%*s", CELL, size_label(bench_sizes[s], label, sizeof label));
    fputc('\n', out);
}

/* printf to line + *at (line holds len chars), advancing *at; output that
 * does not fit is cut off. */
static void append(char *line, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line + *at, len - *at, fmt, ap);
    va_end(ap);
    if (k > 0)
        *at = *at + (size_t)k < len ? *at + (size_t)k : len - 1;
}

/* " 12.3%", or blanks for NaN. */
static void append_share(char *line, size_t len, size_t *at, double share)
{
    if (isnan(share))
        append(line, len, at, "%*s", SHARE, "");
    else
        append(line, len, at, " %5.1f%%", 100.0 * share);
}

/* rate: Melem/s per size; roof, floor: fraction of the stream loop's and of
 * the compute floor's rate per size (NaN: blank; floor NULL: none). */
static void print_rate_row(FILE *out, const char *label, const double *rate, const double *roof,
                           const double *floor)
{
    char line[256];
    size_t at = 0;
    if (!any_value(rate))
        return;
    append(line, sizeof line, &at, "  %-24s", label);
    for (size_t s = 0; s < bench_nsizes; s++) {
        if (!size_used[s])
            continue;
        if (isnan(rate[s])) {
            append(line, sizeof line, &at, "%*s", CELL, "-");
            continue;
        }
        append(line, sizeof line, &at, "%*.1f", CELL - 2 * SHARE, rate[s]);
        append_share(line, sizeof line, &at, roof[s]);
        append_share(line, sizeof line, &at, floor ? floor[s] : NAN);
    }
    /* Rows without a floor share would end in blanks. */
    while (at > 0 && line[at - 1] == ' ')
        line[--at] = '\0';
    fprintf(out, "%s\n", line);
}

/* Melem/s of the floor of kernel `isa` for case c (NaN: none, or not run). */
static double floor_melem(const bench_case *c, const char *isa, size_t n)
{
    char name[96];
    if (!bench_floor_of(isa))
        return NAN;
    bench_floor_run_name(name, sizeof name, c, isa, n);
    return melem(name, n);
}

/* Fraction of the stream loop's rate. When a filter left the stream loop out,
 * the run's own roofline counter (from a short self-timed stream run) stands
 * in. */
static double roof_fraction(bench_mode m, const bench_case *c, const char *impl, size_t n)
{
    char name[96];
    double roof = impl_melem(m, c, impl, n) / stream_melem(m, n);
    if (isnan(roof)) {
        bench_run_name(name, sizeof name, m, c, impl, n);
        const gb_result *r = gb_result_find(name);
        roof = r ? gb_result_counter(r, "roofline") : NAN;
    }
    return roof;
}

static int block_ran(bench_mode m, const bench_case *c)
{
    for (size_t k = 0; k < bench_nimpls; k++)
        for (size_t s = 0; s < bench_nsizes; s++)
            if (!isnan(impl_melem(m, c, bench_impls[k].name, bench_sizes[s])))
                return 1;
    return 0;
}

static void print_block(FILE *out, bench_mode m, const bench_case *c)
{
    double rate[8], roof[8], floor[8];
    char label[64];

    fprintf(out, "\n%s/%s: %s; %s\n", bench_mode_name(m), c->name, bench_mode_title(m),
            c->title);
    print_size_header(out, "Melem/s, % stream/floor");
    for (size_t s = 0; s < bench_nsizes; s++) {
        rate[s] = stream_melem(m, bench_sizes[s]);
        roof[s] = isnan(rate[s]) ? NAN : 1.0;
    }
    snprintf(label, sizeof label, "stream (%zu B/elem)", bench_bytes_per_elem(m));
    print_rate_row(out, label, rate, roof, NULL);
    for (size_t f = 0; f < bench_nfloors; f++) {
        const char *isa = bench_floors[f].isa;
        for (size_t s = 0; s < bench_nsizes; s++) {
            rate[s] = floor_melem(c, isa, bench_sizes[s]);
            roof[s] = rate[s] / stream_melem(m, bench_sizes[s]);
        }
        snprintf(label, sizeof label, "sleef_floor %s", isa);
        print_rate_row(out, label, rate, roof, NULL);
    }
    for (size_t k = 0; k < bench_nimpls; k++) {
        const bench_impl *impl = &bench_impls[k];
        if (!bench_impl_applies(impl, c))
            continue;
        for (size_t s = 0; s < bench_nsizes; s++) {
            rate[s] = impl_melem(m, c, impl->name, bench_sizes[s]);
            roof[s] = roof_fraction(m, c, impl->name, bench_sizes[s]);
            floor[s] = impl->isa ? rate[s] / floor_melem(c, impl->isa, bench_sizes[s]) : NAN;
        }
        print_rate_row(out, impl->name, rate, roof, floor);
    }

    int header = 0;
    for (size_t k = 0; k < bench_nimpls; k++) {
        const bench_impl *kern = &bench_impls[k];
        if (!kern->isa || !bench_impl_applies(kern, c))
            continue;
        for (size_t b = 0; b < bench_nimpls; b++) {
            const bench_impl *base = &bench_impls[b];
            if (base->isa || !bench_impl_applies(base, c))
                continue;
            for (size_t s = 0; s < bench_nsizes; s++)
                rate[s] = impl_melem(m, c, kern->name, bench_sizes[s]) /
                          impl_melem(m, c, base->name, bench_sizes[s]);
            if (!any_value(rate))
                continue;
            if (!header++)
                print_size_header(out, "speed-up (x)");
            snprintf(label, sizeof label, "%s / %s", kern->name, base->name);
            fprintf(out, "  %-24s", label);
            for (size_t s = 0; s < bench_nsizes; s++) {
                if (!size_used[s])
                    continue;
                if (isnan(rate[s]))
                    fprintf(out, "%*s", CELL, "-");
                else
                    fprintf(out, "%*.2f", CELL, rate[s]);
            }
            fputc('\n', out);
        }
    }
}

/* ---- wall-clock sections ------------------------------------------------- */

/* Melem/s from the wall clock, and the cores kept busy (process CPU time /
 * wall time); NaN when the run is missing. */
static double wall_melem(const char *name, size_t n, double *busy)
{
    const gb_result *r = gb_result_find(name);
    *busy = r ? gb_result_cpu_ns(r) / gb_result_real_ns(r) : NAN;
    return r ? (double)n / gb_result_real_ns(r) * 1e3 : NAN;
}

static void print_cell(FILE *out, int width, const char *fmt, double v)
{
    if (isnan(v))
        fprintf(out, "%*s", width, "-");
    else
        fprintf(out, fmt, width, v);
}

/* "0.98 / 1.95": cores busy at 1 and at N threads, "-" for a missing run. */
static void print_busy(FILE *out, const double *busy)
{
    char cell[32], v[BENCH_NTHREADS][12];
    for (int t = 0; t < BENCH_NTHREADS; t++) {
        if (isnan(busy[t]))
            snprintf(v[t], sizeof v[t], "-");
        else
            snprintf(v[t], sizeof v[t], "%.2f", busy[t]);
    }
    snprintf(cell, sizeof cell, "%s / %s", v[BENCH_T1], v[BENCH_TALL]);
    fprintf(out, "%16s\n", cell);
}

/* "all online CPUs" or the environment variable that set the default. */
static const char *threads_all_source(void)
{
    const char *env = getenv("FOCAL_NUM_THREADS");
    return env && *env ? "FOCAL_NUM_THREADS" : "all online CPUs";
}

static void print_threads_header(FILE *out, const char *first, int first_width)
{
    char tn[32];
    snprintf(tn, sizeof tn, "%d thread%s", bench_threads_all, bench_threads_all == 1 ? "" : "s");
    fprintf(out, "  %-*s%12s%14s%11s%16s\n", first_width, first, "1 thread", tn, "speed-up",
            "cores busy 1/N");
}

/* The cells both wall-clock tables share after their row label: Melem/s at
 * 1 and at N threads, the speed-up and the cores busy (one line). */
static void print_threads_cells(FILE *out, const double *rate, const double *busy)
{
    print_cell(out, 12, "%*.1f", rate[BENCH_T1]);
    print_cell(out, 14, "%*.1f", rate[BENCH_TALL]);
    double up = rate[BENCH_TALL] / rate[BENCH_T1];
    if (isnan(up))
        fprintf(out, "%11s", "-");
    else
        fprintf(out, "%10.2fx", up);
    print_busy(out, busy);
}

static void print_threads_section(FILE *out)
{
    double rate[8][BENCH_NTHREADS], busy[8][BENCH_NTHREADS];
    char name[128], label[32];
    int any = 0;

    for (size_t s = 0; s < bench_threads_nsizes; s++)
        for (int t = 0; t < BENCH_NTHREADS; t++) {
            bench_threads_run_name(name, sizeof name, (bench_threads)t, bench_threads_sizes[s]);
            rate[s][t] = wall_melem(name, bench_threads_sizes[s], &busy[s][t]);
            any |= !isnan(rate[s][t]);
        }
    if (!any)
        return;

    fprintf(out,
            "\nthreads: %s, loss + gradient, MEAN; %s; %s kernel; Melem/s from real (wall) "
            "time; N = %d (%s); cores busy = process CPU time / wall time\n",
            bench_threads_case->name, bench_threads_case->title, bench_best_isa,
            bench_threads_all, threads_all_source());
    print_threads_header(out, "elements", 10);
    for (size_t s = 0; s < bench_threads_nsizes; s++) {
        fprintf(out, "  %-10s", size_label(bench_threads_sizes[s], label, sizeof label));
        print_threads_cells(out, rate[s], busy[s]);
    }
}

static void print_detector_section(FILE *out, const bench_data *d)
{
    double rate[BENCH_NDET][BENCH_NTHREADS], busy[BENCH_NDET][BENCH_NTHREADS];
    char name[128];
    int any = 0;
    const size_t rows = d->det_rows, classes = d->det_classes, n = rows * classes;

    for (int k = 0; k < BENCH_NDET; k++)
        for (int t = 0; t < BENCH_NTHREADS; t++) {
            bench_det_run_name(name, sizeof name, (bench_det)k, (bench_threads)t);
            rate[k][t] = wall_melem(name, n, &busy[k][t]);
            any |= !isnan(rate[k][t]);
        }
    if (!any || rows == 0)
        return;

    fprintf(out,
            "\ndetector: RetinaNet head, %zu rows x %zu classes = %.2fM elements (%zu positive "
            "rows (%.1f%%), %zu ignored (%.1f%%), the rest background); loss + gradient, MEAN, "
            "alpha 0.25, gamma 2; %s kernel; Melem/s from real (wall) time over all %zu "
            "elements; N = %d (%s)\n",
            rows, classes, (double)n / 1e6, d->det_positive,
            100.0 * (double)d->det_positive / (double)rows, d->det_ignored,
            100.0 * (double)d->det_ignored / (double)rows, bench_best_isa, n, bench_threads_all,
            threads_all_source());
    print_threads_header(out, "Melem/s                  B/elem", 31);
    for (int k = 0; k < BENCH_NDET; k++) {
        static const char *const labels[BENCH_NDET] = {
            "labels (int32 labels)", "dense (float one-hot)", "flat (1.0 loss_grad)"};
        fprintf(out, "  %-24s%7.2f", labels[k], bench_det_bytes_per_elem((bench_det)k));
        print_threads_cells(out, rate[k], busy[k]);
    }
    double ratio[BENCH_NTHREADS];
    fprintf(out, "  %-31s", "labels / dense");
    for (int t = 0; t < BENCH_NTHREADS; t++) {
        ratio[t] = rate[BENCH_DET_LABELS][t] / rate[BENCH_DET_DENSE][t];
        if (isnan(ratio[t]))
            fprintf(out, "%*s", t == 0 ? 12 : 14, "-");
        else
            fprintf(out, "%*.2fx", t == 0 ? 11 : 13, ratio[t]);
    }
    fputc('\n', out);
    fprintf(out,
            "  note: dense targets have no ignore, so dense and flat treat the %zu ignored rows "
            "as background (all-zero targets) and compute and average over all %zu rows; "
            "labels skips them (loss and gradient 0, MEAN over %zu rows). Melem/s counts all "
            "%zu elements for every call.\n",
            d->det_ignored, rows, rows - d->det_ignored, n);
}

void bench_print_summary(FILE *out, const bench_data *d)
{
    if (gb_result_count() == 0)
        return; /* --benchmark_list_tests, or nothing matched */
    mark_used_sizes();

    fprintf(out,
            "\nfocal-bench summary: Melem/s from %s time per iteration (median of "
            "repetitions if any); %% stream = of the stream loop's rate (memory roofline); "
            "%% floor = of the rate of the kernel's own SLEEF calls and division alone "
            "(sleef_floor, compute roofline); speed-up = kernel / baseline\n",
            bench_cpu_clock ? "CPU" : "real");
    for (size_t c = 0; c < bench_ncases; c++)
        for (int m = 0; m < BENCH_NMODES; m++)
            if (block_ran((bench_mode)m, &bench_cases[c]))
                print_block(out, (bench_mode)m, &bench_cases[c]);

    print_threads_section(out);
    print_detector_section(out, d);
    fflush(out);
}

void bench_print_verdict(FILE *out)
{
    const bench_case *c = bench_threads_case; /* hard_g2: the detector's case */
    const bench_mode m = BENCH_FWDGRAD;
    char label[32];
    int any = 0;

    if (gb_result_count() == 0)
        return;
    fprintf(out, "\nactive kernel %s, %s %s:", bench_best_isa, c->name, bench_mode_name(m));
    for (size_t s = 0; s < bench_nsizes; s++) {
        const size_t n = bench_sizes[s];
        const double k = impl_melem(m, c, bench_best_isa, n);
        if (isnan(k))
            continue;
        /* The fastest baseline at this size. */
        const char *best = NULL;
        double b = NAN;
        for (size_t i = 0; i < bench_nimpls; i++) {
            const bench_impl *base = &bench_impls[i];
            const double r = base->isa || !bench_impl_applies(base, c)
                                 ? NAN
                                 : impl_melem(m, c, base->name, n);
            if (!isnan(r) && !(r <= b)) {
                b = r;
                best = base->name;
            }
        }
        fprintf(out, "%s %s ", any++ ? ";" : "", size_label(n, label, sizeof label));
        if (best)
            fprintf(out, "%.2fx %s, ", k / b, best);
        fprintf(out, "%.1f%% of stream", 100.0 * roof_fraction(m, c, bench_best_isa, n));
        const double f = k / floor_melem(c, bench_best_isa, n);
        if (!isnan(f))
            fprintf(out, ", %.1f%% of floor", 100.0 * f);
    }
    fprintf(out, "%s\n", any ? "" : " not run (filtered out)");
    fflush(out);
}
