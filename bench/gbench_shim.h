/* SPDX-License-Identifier: MIT */
/*
 * gbench_shim: a small C API over Google Benchmark (1.7).
 *
 * Google Benchmark is C++ only; this lets focal-bench stay a C11 program.
 * Benchmarks are C callbacks with a void * user pointer. The shim also records
 * every reported run so that the C side can print its own summary after
 * Google Benchmark's normal (console, JSON or CSV) output.
 */
#ifndef FOCAL_BENCH_GBENCH_SHIM_H
#define FOCAL_BENCH_GBENCH_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state;         /* a benchmark::State */
typedef struct gb_benchmark gb_benchmark; /* a registered benchmark family */
typedef struct gb_result gb_result;       /* one recorded run */

typedef void (*gb_fn)(gb_state *state, void *user);

typedef enum { GB_NS, GB_US, GB_MS, GB_S } gb_time_unit;

/* Counter kinds (a subset of benchmark::Counter::Flags). */
enum {
    GB_COUNTER_PLAIN = 0, /* reported as is                       */
    GB_COUNTER_RATE = 1,  /* divided by the measured time (per s) */
    GB_COUNTER_AVG_ITERATIONS = 2 /* divided by the iteration count */
};

/* --- set-up and run ----------------------------------------------------- */

/* Parses and removes the --benchmark_* flags from argv. --help prints
 * usage() (when not NULL), then Google Benchmark's flags, and exits. */
void gb_initialize(int *argc, char **argv, void (*usage)(void));
/* Prints the remaining arguments as unrecognized; non-zero if there were any. */
int gb_report_unrecognized(int argc, char **argv);
/* Runs the benchmarks selected by --benchmark_filter through the display
 * reporter chosen by --benchmark_format, recording every run. Returns the
 * number of benchmarks that matched. */
size_t gb_run_specified(void);
/* Non-zero when the display reporter is the console one (so stdout is
 * free-form text, not JSON or CSV). Valid after gb_initialize. */
int gb_display_is_console(void);
/* A key/value line in the context header (console) or "context" (JSON).
 * Call before gb_run_specified. */
void gb_add_context(const char *key, const char *value);
void gb_shutdown(void);

/* --- registration (each returns its argument, for chaining) ------------- */

/* name is copied. user must stay valid until the benchmarks have run. */
gb_benchmark *gb_register(const char *name, gb_fn fn, void *user);
gb_benchmark *gb_arg(gb_benchmark *b, int64_t value);
gb_benchmark *gb_range(gb_benchmark *b, int64_t lo, int64_t hi);
gb_benchmark *gb_range_multiplier(gb_benchmark *b, int multiplier);
gb_benchmark *gb_min_time(gb_benchmark *b, double seconds);
gb_benchmark *gb_repetitions(gb_benchmark *b, int n);
gb_benchmark *gb_unit(gb_benchmark *b, gb_time_unit unit);
/* Time the benchmark by the wall clock (UseRealTime): iteration count, the
 * "Time" column and rates. Google Benchmark appends "/real_time" to the run
 * name. */
gb_benchmark *gb_use_real_time(gb_benchmark *b);
/* The "CPU" column becomes the CPU time of the whole process (all threads,
 * MeasureProcessCPUTime) instead of the benchmark thread's. Google Benchmark
 * appends "/process_time" to the run name (before any "/real_time"). */
gb_benchmark *gb_measure_process_cpu_time(gb_benchmark *b);

/* --- inside a benchmark callback ----------------------------------------- */

/* The timed loop: while (gb_keep_running(st)) { ... } */
int gb_keep_running(gb_state *st);
int64_t gb_range_arg(gb_state *st, int index); /* state.range(index)   */
int64_t gb_iterations(gb_state *st);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
void gb_set_items_processed(gb_state *st, int64_t items);
void gb_set_bytes_processed(gb_state *st, int64_t bytes);
void gb_set_counter(gb_state *st, const char *name, double value, int kind);
void gb_set_label(gb_state *st, const char *label);
/* Marks the run as failed; the caller must leave the loop (break) after it. */
void gb_skip_with_error(gb_state *st, const char *message);

/* Keep the compiler from deleting or sinking work whose result is unused.
 * Same idea as benchmark::DoNotOptimize / ClobberMemory, usable from C. */
#if defined(__GNUC__)
static inline void gb_do_not_optimize(const void *p)
{
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
static inline void gb_clobber_memory(void)
{
    __asm__ __volatile__("" : : : "memory");
}
#else
void gb_do_not_optimize(const void *p);
void gb_clobber_memory(void);
#endif

/* --- results, for the summary -------------------------------------------- */

size_t gb_result_count(void);
const gb_result *gb_result_at(size_t index);
/*
 * The representative run of a benchmark by its full name ("a/b/1024"):
 * the median aggregate when repetitions were run, otherwise the last
 * successful run. NULL when the benchmark did not run or failed.
 */
const gb_result *gb_result_find(const char *name);
const char *gb_result_name(const gb_result *r);      /* without aggregate suffix */
const char *gb_result_aggregate(const gb_result *r); /* "" or "mean", "median"... */
int gb_result_error(const gb_result *r);
int64_t gb_result_iterations(const gb_result *r);
double gb_result_real_ns(const gb_result *r); /* real time per iteration, ns */
double gb_result_cpu_ns(const gb_result *r);  /* CPU time per iteration, ns  */
/* A counter as reported (rates already per second), NaN when absent.
 * "items_per_second" and "bytes_per_second" are counters too. */
double gb_result_counter(const gb_result *r, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_BENCH_GBENCH_SHIM_H */
