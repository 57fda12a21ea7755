/* SPDX-License-Identifier: MIT */
/*
 * focal-bench: every libfocal kernel this CPU runs against the textbook,
 * fast-math and stream baselines, on the same inputs, through Google
 * Benchmark. All --benchmark_* flags pass through (filter, repetitions,
 * format, out...). After Google Benchmark's own output comes a summary table
 * (bench_summary.c): on stdout with the console format, on stderr with
 * --benchmark_format=json or csv so that stdout stays machine-readable.
 *
 * Benchmark names: <mode>/<case>/<implementation>/<elements>, e.g.
 * fwdgrad/hard_g2/avx512/1048576, and stream/add/<elements>,
 * stream/dot/<elements> for the memory roofline loops,
 * sleef_floor/<case>/<kernel>/<elements> for each kernel's compute floor (its
 * SLEEF calls and division alone, baseline_floor.h).
 *
 * The library runs on one thread unless FOCAL_NUM_THREADS is set, like the
 * baselines. Single-threaded, the summary and the roofline counter use the
 * thread's CPU time (the "CPU" column), robust to other load on the machine;
 * with library threads, wall-clock time (the "Time" column).
 *
 * Counters: items_per_second (elements/s), bytes_per_second (12 bytes per
 * element with the gradient, 8 without), roofline, the fraction of the
 * stream loop's bandwidth at the same size (stream/add with the gradient,
 * stream/dot without), and for kernels floor, the fraction of their floor's
 * rate (when the floor ran).
 *
 * Two more groups, with the library's best kernel only, each at 1 library
 * thread (t1) and at the default count (tall: all online CPUs, or
 * FOCAL_NUM_THREADS), always timed by the wall clock ("Time"; "CPU" is then
 * the whole process's CPU time, so CPU / Time = cores kept busy):
 *   threads/hard_g2/<kernel>/<t1|tall>/<elements>/process_time/real_time
 *     thread scaling of the 1.0 call, hard targets gamma 2, 1M and 16M;
 *   detector/<labels|dense|flat>/<kernel>/<t1|tall>/process_time/real_time
 *     a RetinaNet head (120000 rows x 80 classes, 1% positive rows, 10%
 *     ignored, the rest background) through focal_sigmoid_labels (int32
 *     labels), focal_sigmoid_dense (float one-hot, ignored rows as
 *     background: dense has no ignore) and the 1.0 call on the flattened
 *     arrays. Counters: bytes_per_elem (8.05 for labels, 12 otherwise) and
 *     lib_threads (the library's thread count during the run).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <focal/focal.h>

#include "baselines.h"
#include "bench.h"
#include "bench_data.h"
#include "gbench_shim.h"

/* Shorter than Google Benchmark's 0.5 s so that the whole default run stays
 * under a minute on two cores; --benchmark_min_time overrides it. */
#define DEFAULT_MIN_TIME "--benchmark_min_time=0.2"
#define CHECK_ELEMENTS 65536
#define SEED 20170807ull /* fixed: the same inputs on every run and machine */
#define DETECTOR_SEED 20180207ull

static bench_data data;

typedef struct bench_run {
    bench_mode mode;
    const bench_case *c;
    const bench_impl *impl;
} bench_run;

/* The clock of bench_cpu_clock: this thread's CPU time, or wall time. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(bench_cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void stream_once(bench_mode m, size_t n)
{
    if (m == BENCH_FWDGRAD) {
        stream_add(data.logits, data.hard_targets, data.out, n);
    } else {
        float s = stream_dot(data.logits, data.hard_targets, n);
        gb_do_not_optimize(&s);
    }
    gb_clobber_memory();
}

/*
 * Stream bandwidth (bytes/s) with the traffic of mode m at n elements. Taken
 * from the stream benchmark, which is registered first and so has already run
 * (its results are recorded as they are reported). When a filter left it out,
 * a short self-timed run stands in, once per size and mode.
 */
static double stream_bandwidth(bench_mode m, size_t n)
{
    static double cache[BENCH_NMODES][8];
    char name[96];
    double bytes = (double)n * (double)bench_bytes_per_elem(m);

    bench_stream_name(name, sizeof name, m, n);
    const gb_result *r = gb_result_find(name);
    if (r)
        return bytes / (bench_result_ns(r) * 1e-9);

    size_t slot = 0;
    while (slot < bench_nsizes && bench_sizes[slot] != n)
        slot++;
    if (slot < 8 && cache[m][slot] > 0.0)
        return cache[m][slot];
    stream_once(m, n); /* warm the caches, as the timed loops are */
    long reps = 0;
    double t0 = now_seconds(), t;
    do {
        stream_once(m, n);
        reps++;
        t = now_seconds() - t0;
    } while (t < 0.05 || reps < 3);
    double bw = bytes * (double)reps / t;
    if (slot < 8)
        cache[m][slot] = bw;
    return bw;
}

/* Elements per second of the floor of kernel `isa` for case c at n, from its
 * benchmark (registered before the kernels); 0 when it did not run. */
static double floor_rate(const bench_case *c, const char *isa, size_t n)
{
    char name[96];
    bench_floor_run_name(name, sizeof name, c, isa, n);
    const gb_result *r = gb_result_find(name);
    return r ? (double)n / (bench_result_ns(r) * 1e-9) : 0.0;
}

/* roof_bw: stream bytes/s, floor_eps: floor elements/s (0: none). */
static void set_counters(gb_state *st, bench_mode m, size_t n, double seconds, double roof_bw,
                         double floor_eps)
{
    int64_t items = gb_iterations(st) * (int64_t)n;
    int64_t bytes = items * (int64_t)bench_bytes_per_elem(m);
    gb_set_items_processed(st, items);
    gb_set_bytes_processed(st, bytes);
    /* Plain counters from our own clock (same one as the summary): a Google
     * Benchmark rate counter would be printed as "/s", which a ratio is not. */
    if (roof_bw > 0.0 && seconds > 0.0)
        gb_set_counter(st, "roofline", (double)bytes / seconds / roof_bw, GB_COUNTER_PLAIN);
    if (floor_eps > 0.0 && seconds > 0.0)
        gb_set_counter(st, "floor", (double)items / seconds / floor_eps, GB_COUNTER_PLAIN);
}

static void run_stream(gb_state *st, void *user)
{
    bench_mode m = *(const bench_mode *)user;
    size_t n = (size_t)gb_range_arg(st, 0);
    while (gb_keep_running(st))
        stream_once(m, n);
    set_counters(st, m, n, 0.0, 0.0, 0.0);
}

typedef struct floor_run {
    const bench_case *c;
    const bench_floor *f;
} floor_run;

static void run_floor(gb_state *st, void *user)
{
    const floor_run *r = user;
    size_t n = (size_t)gb_range_arg(st, 0);
    const bench_floor_fn fn = r->f->fn[r->c->floor];
    /* Its output goes where the kernels' gradient does: a store the
     * compiler must keep, as the kernel keeps its own. */
    while (gb_keep_running(st)) {
        fn(data.logits, n, r->c->gamma, data.out);
        gb_clobber_memory();
    }
    /* Reads x, writes out: 8 bytes per element. */
    gb_set_items_processed(st, gb_iterations(st) * (int64_t)n);
    gb_set_bytes_processed(st, gb_iterations(st) * (int64_t)n * 8);
}

static void run_focal(gb_state *st, void *user)
{
    const bench_run *r = user;
    size_t n = (size_t)gb_range_arg(st, 0);
    const float *t = r->c->hard ? data.hard_targets : data.soft_targets;
    float *grad = r->mode == BENCH_FWDGRAD ? data.out : NULL;
    float loss = 0.0f;

    if (r->impl->isa && focal_set_isa(r->impl->isa) != FOCAL_OK) {
        gb_skip_with_error(st, "kernel not available on this CPU");
        return;
    }
    double roof_bw = stream_bandwidth(r->mode, n); /* before the timer starts */
    double t0 = now_seconds();
    while (gb_keep_running(st)) {
        int rc = r->impl->fn(data.logits, t, n, r->c->alpha, r->c->gamma, &loss, grad);
        if (rc != 0) {
            gb_skip_with_error(st, focal_strerror(rc));
            break;
        }
        gb_do_not_optimize(&loss);
        gb_clobber_memory();
    }
    set_counters(st, r->mode, n, now_seconds() - t0, roof_bw,
                 r->impl->isa ? floor_rate(r->c, r->impl->isa, n) : 0.0);
}

/* ---- thread scaling and detector shape (wall clock) --------------------- */

typedef struct wall_run {
    bench_threads t;
    bench_det det; /* detector runs only */
} wall_run;

static void set_wall_counters(gb_state *st, double elems, double bytes_per_elem, int threads)
{
    double iters = (double)gb_iterations(st);
    gb_set_items_processed(st, (int64_t)(iters * elems));
    gb_set_bytes_processed(st, (int64_t)(iters * elems * bytes_per_elem));
    gb_set_counter(st, "bytes_per_elem", bytes_per_elem, GB_COUNTER_PLAIN);
    gb_set_counter(st, "lib_threads", (double)threads, GB_COUNTER_PLAIN);
}

/* One call of a wall-clock run: the threads case at n elements, or a
 * detector call on all the detector rows. */
static int wall_call(const wall_run *w, int detector, size_t n, float *loss)
{
    const bench_case *c = bench_threads_case;
    if (detector)
        return bench_det_call(&data, w->det, data.det_rows, FOCAL_REDUCTION_MEAN, loss, data.out);
    return focal_sigmoid_loss_grad(data.logits, data.hard_targets, n, c->alpha, c->gamma,
                                   FOCAL_REDUCTION_MEAN, loss, data.out);
}

static void run_wall(gb_state *st, const wall_run *w, int detector)
{
    size_t n = detector ? data.det_rows * data.det_classes : (size_t)gb_range_arg(st, 0);
    float loss = 0.0f;

    if (focal_set_isa(bench_best_isa) != FOCAL_OK) {
        gb_skip_with_error(st, "kernel not available on this CPU");
        return;
    }
    bench_use_threads(w->t);
    const int threads = focal_num_threads();
    /* Untimed: starts the workers on first use and warms the caches. */
    int rc = wall_call(w, detector, n, &loss);
    if (rc != 0) {
        bench_restore_threads();
        gb_skip_with_error(st, focal_strerror(rc));
        return;
    }
    while (gb_keep_running(st)) {
        rc = wall_call(w, detector, n, &loss);
        if (rc != 0) {
            gb_skip_with_error(st, focal_strerror(rc));
            break;
        }
        gb_do_not_optimize(&loss);
        gb_clobber_memory();
    }
    bench_restore_threads();
    set_wall_counters(st, (double)n, detector ? bench_det_bytes_per_elem(w->det) : 12.0, threads);
}

static void run_threads(gb_state *st, void *user) { run_wall(st, user, 0); }
static void run_detector(gb_state *st, void *user) { run_wall(st, user, 1); }

static gb_benchmark *wall_clock(gb_benchmark *b)
{
    gb_unit(b, GB_US);
    gb_measure_process_cpu_time(b);
    return gb_use_real_time(b);
}

static void register_wall(void)
{
    static wall_run threads[BENCH_NTHREADS];
    static wall_run detector[BENCH_NDET][BENCH_NTHREADS];
    char name[96];

    /* 1 and N threads back to back at each size (one family per size, same
     * names as one family with two args): on a shared machine the load then
     * drifts less between the two runs a ratio is taken of. */
    for (int t = 0; t < BENCH_NTHREADS; t++)
        threads[t].t = (bench_threads)t;
    for (size_t s = 0; s < bench_threads_nsizes; s++)
        for (int t = 0; t < BENCH_NTHREADS; t++) {
            bench_threads_family(name, sizeof name, (bench_threads)t);
            gb_benchmark *b = gb_register(name, run_threads, &threads[t]);
            wall_clock(gb_arg(b, (int64_t)bench_threads_sizes[s]));
        }
    if (!data.det_labels)
        return; /* no memory for the detector inputs (reported at start-up) */
    for (int k = 0; k < BENCH_NDET; k++)
        for (int t = 0; t < BENCH_NTHREADS; t++) {
            detector[k][t].t = (bench_threads)t;
            detector[k][t].det = (bench_det)k;
            bench_det_family(name, sizeof name, (bench_det)k, (bench_threads)t);
            wall_clock(gb_register(name, run_detector, &detector[k][t]));
        }
}

static void add_size(gb_benchmark *b, size_t n) { gb_unit(gb_arg(b, (int64_t)n), GB_US); }

static void add_sizes(gb_benchmark *b)
{
    for (size_t s = 0; s < bench_nsizes; s++)
        add_size(b, bench_sizes[s]);
}

static void register_all(void)
{
    static const bench_mode modes[BENCH_NMODES] = {BENCH_FWDGRAD, BENCH_FWD};
    static bench_run runs[BENCH_NMODES * 4 * 16];
    static floor_run floors[4 * 8];
    size_t nruns = 0, nfloors = 0;
    char name[96];

    /* Stream first: the roofline counters of the later runs read its results. */
    add_sizes(gb_register("stream/add", run_stream, (void *)&modes[BENCH_FWDGRAD]));
    add_sizes(gb_register("stream/dot", run_stream, (void *)&modes[BENCH_FWD]));

    for (size_t c = 0; c < bench_ncases; c++)
        for (int m = 0; m < BENCH_NMODES; m++)
            for (size_t k = 0; k < bench_nimpls; k++) {
                if (!bench_impl_applies(&bench_impls[k], &bench_cases[c]) ||
                    nruns == sizeof runs / sizeof runs[0])
                    continue;
                bench_run *r = &runs[nruns++];
                r->mode = modes[m];
                r->c = &bench_cases[c];
                r->impl = &bench_impls[k];
                /* A kernel's floor (one per case, for both modes) runs right
                 * before its loss + gradient run at each size: on a shared
                 * machine the load then drifts less between the two runs a
                 * share is taken of. One family per size, same names as one
                 * family with several args. */
                const bench_floor *fl = r->impl->isa && r->mode == BENCH_FWDGRAD
                                            ? bench_floor_of(r->impl->isa)
                                            : NULL;
                floor_run *f = NULL;
                if (fl && nfloors < sizeof floors / sizeof floors[0]) {
                    f = &floors[nfloors++];
                    f->c = r->c;
                    f->f = fl;
                }
                for (size_t s = 0; s < bench_nsizes; s++) {
                    if (f) {
                        bench_floor_family(name, sizeof name, f->c, fl->isa);
                        add_size(gb_register(name, run_floor, f), bench_sizes[s]);
                    }
                    bench_family_name(name, sizeof name, r->mode, r->c, r->impl->name);
                    add_size(gb_register(name, run_focal, r), bench_sizes[s]);
                }
            }

    bench_family_register();

    /* Last: the single-threaded table runs first, on a quiet pool. */
    register_wall();
}

/* Adds the library's kernels to the implementations, marks those this CPU
 * can run (and their floors), and returns them as a space-separated list. */
static const char *probe_kernels(void)
{
    static char list[128];
    list[0] = '\0';
    bench_add_kernels();
    for (size_t k = 0; k < bench_nimpls; k++) {
        bench_impl *impl = &bench_impls[k];
        if (!impl->isa)
            continue;
        impl->available = focal_set_isa(impl->isa) == FOCAL_OK;
        if (impl->available) {
            strncat(list, list[0] ? " " : "", sizeof list - strlen(list) - 1);
            strncat(list, impl->isa, sizeof list - strlen(list) - 1);
        }
    }
    /* A floor runs where its kernel does (the library checked CPUID and the
     * OS). The x86-64 scalar floor is built with -mfma like the reference
     * scalar kernel, which a pre-FMA CPU replaces by a no-FMA build: no
     * floor there. */
    for (size_t f = 0; f < bench_nfloors; f++) {
        bench_floor *fl = &bench_floors[f];
        fl->available = focal_set_isa(fl->isa) == FOCAL_OK;
#if defined(__x86_64__)
        if (strcmp(fl->isa, "scalar") == 0 && !__builtin_cpu_supports("fma"))
            fl->available = 0;
#endif
    }
    focal_set_isa("auto");
    snprintf(bench_best_isa, sizeof bench_best_isa, "%s", focal_isa());
    return list;
}

static const char *probed_kernels; /* probe_kernels(), for the usage text */

/* --help, before Google Benchmark's own flags (gbench_shim prints those). */
static void print_usage(void)
{
    FILE *o = stdout;
    fprintf(o,
            "Usage: focal-bench [-h | --help] [--version] [--benchmark_* flags]\n"
            "\n"
            "Times libfocal's fused focal loss (loss + gradient and loss only, MEAN) on\n"
            "every kernel this CPU runs (here: %s; auto picks %s) against\n"
            "what you would write instead, on the same inputs:\n"
            "  textbook      the paper's formulas in a plain C loop, -O2, libm\n"
            "  fastmath      the same loop at -O3 -march=native -ffast-math (vectorized\n"
            "                through glibc's libmvec), gamma at run time\n"
            "  fastmath_g2   the same with gamma = 2 folded at compile time\n"
            "and two rooflines:\n"
            "  stream        a loop moving the same bytes: the memory roofline\n"
            "  sleef_floor   per kernel, only its SLEEF exp/log calls and its division,\n"
            "                with its ISA flags: the compute floor it cannot beat\n"
            "The library runs on 1 thread (FOCAL_NUM_THREADS=n overrides) and rates are\n"
            "per CPU-second of the benchmark thread. After Google Benchmark's output comes\n"
            "a summary: Melem/s with the share of stream and floor, speed-ups over each\n"
            "baseline, thread scaling, the detector shape; its last line gives the active\n"
            "kernel's speed-up over the best baseline and its roofline shares per size.\n"
            "\n"
            "Benchmarks (select with --benchmark_filter=<regex>):\n",
            probed_kernels, bench_best_isa);
    fprintf(o, "  <mode>/<case>/<impl>/<elements>  mode: fwdgrad (loss + gradient), fwd (loss)\n");
    fprintf(o, "    elements:");
    for (size_t s = 0; s < bench_nsizes; s++)
        fprintf(o, " %zu", bench_sizes[s]);
    fprintf(o, "\n    impl:");
    for (size_t k = 0; k < bench_nimpls; k++)
        fprintf(o, " %s", bench_impls[k].name);
    fprintf(o, "\n          (kernels this CPU lacks are left out)\n");
    for (size_t c = 0; c < bench_ncases; c++)
        fprintf(o, "    case %-11s %s\n", bench_cases[c].name, bench_cases[c].title);
    fprintf(o, "  stream/add/<elements>, stream/dot/<elements>  12 and 8 bytes per element\n");
    fprintf(o, "  sleef_floor/<case>/<kernel>/<elements>       the floor of each kernel:");
    for (size_t f = 0; f < bench_nfloors; f++)
        fprintf(o, " %s", bench_floors[f].isa);
    fprintf(o,
            "\n  family/<loss>/<impl>   other losses, kernels vs textbook (1M, rows x bins or\n"
            "                         boxes; k, m decimal; items/s: boxes for box_*):\n");
    bench_family_usage(o);
    fprintf(o, "  threads/%s/<kernel>/<t1|tall>/<elements>  1 vs all library threads\n",
            bench_threads_case->name);
    fprintf(o,
            "  detector/<labels|dense|flat>/<kernel>/<t1|tall>  RetinaNet head, %u x %u,\n"
            "    1%% positive rows, 10%% ignored (threads/ and detector/: wall clock)\n",
            BENCH_DET_ROWS, BENCH_DET_CLASSES);
    fprintf(o,
            "\n"
            "Own flags:\n"
            "  -h, --help    this text, then Google Benchmark's flags\n"
            "  --version     libfocal's version and kernels\n"
            "\n"
            "JSON and plots:\n"
            "  focal-bench --benchmark_format=json > bench.json     (summary on stderr)\n"
            "  focal-bench --benchmark_out=bench.json --benchmark_out_format=json\n"
            "                                      (console output and summary as usual)\n"
            "  focal-bench-plot bench.json -o bench.png   (source tree: bench/plot.py;\n"
            "                                             needs python3-matplotlib)\n"
            "\n"
            "A \"***WARNING*** Library was built as DEBUG\" line comes from Debian's build of\n"
            "Google Benchmark (libbenchmark), not from libfocal or the code measured.\n"
            "%s\n",
            "Defaults: --benchmark_min_time=0.2 (a full run takes a few minutes).");
}

/* Our own flags: -h becomes --help (Google Benchmark prints the usage and
 * exits); --version prints and exits. Returns 1 when done. */
static int own_flags(int *argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "-h") == 0) {
            argv[out++] = (char *)"--help";
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("focal-bench, libfocal %s (kernels: %s; auto: %s)\n", focal_version_string(),
                   probed_kernels, bench_best_isa);
            return 1;
        } else {
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    return 0;
}

int main(int argc, char **argv)
{
    /* Our default goes first so that the user's flags, parsed later, win. */
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args)
        return 1;
    int nargs = 0;
    args[nargs++] = argv[0];
    args[nargs++] = (char *)DEFAULT_MIN_TIME;
    for (int i = 1; i < argc; i++)
        args[nargs++] = argv[i];
    /* Before the flags: the usage text names this CPU's kernels. */
    const char *kernels = probed_kernels = probe_kernels();
    if (own_flags(&nargs, args)) {
        free(args);
        return 0;
    }
    gb_initialize(&nargs, args, print_usage);
    if (gb_report_unrecognized(nargs, args)) {
        free(args);
        return 1;
    }

    /* The baselines run on one core, so by default the library does too: the
     * speed-ups compare kernels, not core counts. FOCAL_NUM_THREADS, when
     * set, is the user's explicit choice and is kept. */
    focal_set_num_threads(0); /* the default count: the "tall" runs */
    bench_threads_all = focal_num_threads();
    bench_base_threads = getenv("FOCAL_NUM_THREADS") ? 0 : 1;
    bench_restore_threads();
    bench_cpu_clock = focal_num_threads() == 1;
    char threads[16], threads_all[16];
    snprintf(threads, sizeof threads, "%d", focal_num_threads());
    snprintf(threads_all, sizeof threads_all, "%d", bench_threads_all);
    if (focal_version() != FOCAL_VERSION_NUMBER)
        fprintf(stderr, "focal-bench: warning: built against libfocal %d.%d.%d, running %s\n",
                FOCAL_VERSION_MAJOR, FOCAL_VERSION_MINOR, FOCAL_VERSION_PATCH,
                focal_version_string());
    gb_add_context("libfocal_version", focal_version_string());
    gb_add_context("libfocal_auto_kernel", focal_isa());
    gb_add_context("libfocal_kernels", kernels);
    gb_add_context("libfocal_threads", threads);
    gb_add_context("focal_bench_summary_clock", bench_cpu_clock ? "cpu" : "real");
    /* The threads/ and detector/ runs: kernel, thread count of "tall". */
    gb_add_context("focal_bench_best_kernel", bench_best_isa);
    gb_add_context("focal_bench_threads_all", threads_all);

    if (bench_data_init(&data, bench_sizes[bench_nsizes - 1], SEED) != 0) {
        fprintf(stderr, "focal-bench: out of memory for the inputs\n");
        free(args);
        return 1;
    }
    if (bench_data_init_detector(&data, BENCH_DET_ROWS, BENCH_DET_CLASSES, DETECTOR_SEED) != 0)
        fprintf(stderr, "focal-bench: out of memory for the detector inputs; detector/ "
                        "benchmarks left out\n");
    int mismatches = bench_cross_check(&data, CHECK_ELEMENTS, stderr);
    if (data.det_labels)
        mismatches += bench_cross_check_threads(&data, stderr);
    if (bench_family_init(&data) == 0)
        mismatches += bench_cross_check_family(CHECK_ELEMENTS, stderr);
    else
        fprintf(stderr, "focal-bench: out of memory for the family inputs; family/ "
                        "benchmarks left out\n");
    if (mismatches != 0)
        fprintf(stderr, "focal-bench: WARNING: implementations disagree; speed-ups are "
                        "not comparing like with like\n");

    register_all();
    gb_run_specified();
    focal_set_isa("auto");
    bench_print_summary(gb_display_is_console() ? stdout : stderr, &data);
    bench_family_summary(gb_display_is_console() ? stdout : stderr);
    bench_print_verdict(gb_display_is_console() ? stdout : stderr);

    gb_shutdown();
    bench_family_free();
    bench_data_free(&data);
    free(args);
    return 0;
}
