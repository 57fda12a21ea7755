// SPDX-License-Identifier: MIT
// gbench_shim: the C API of gbench_shim.h over Google Benchmark 1.7.
//
// Results are captured by a reporter that wraps the display reporter Google
// Benchmark would have used anyway (CreateDefaultDisplayReporter honours
// --benchmark_format), so the normal output, including valid JSON on stdout,
// is unchanged. --benchmark_out files are handled by the library as usual.

#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

struct Result {
    std::string name;      // run name without the aggregate suffix
    std::string aggregate; // "" for an iteration run
    bool error = false;
    int64_t iterations = 0;
    double real_ns = NAN;
    double cpu_ns = NAN;
    std::map<std::string, double> counters;
};

// A deque keeps pointers handed to C valid while runs are appended (the
// bench looks results up while later benchmarks are still running).
std::deque<Result> g_results;

double to_ns(double value, benchmark::TimeUnit unit)
{
    return value * 1e9 / benchmark::GetTimeUnitMultiplier(unit);
}

class RecordingReporter : public benchmark::BenchmarkReporter {
  public:
    explicit RecordingReporter(benchmark::BenchmarkReporter *inner) : inner_(inner) {}

    bool ReportContext(const Context &context) override
    {
        return inner_->ReportContext(context);
    }

    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &run : runs)
            record(run);
        inner_->ReportRuns(runs);
        // The C side prints with stdio; keep the two streams in order.
        inner_->GetOutputStream().flush();
    }

    void Finalize() override
    {
        inner_->Finalize();
        inner_->GetOutputStream().flush();
    }

  private:
    static void record(const Run &run)
    {
        Result r;
        r.name = run.run_name.str();
        r.aggregate = run.run_type == Run::RT_Aggregate ? run.aggregate_name : "";
        r.error = run.error_occurred;
        r.iterations = run.iterations;
        // Percentage aggregates (cv) carry no time.
        if (!r.error && run.aggregate_unit == benchmark::kTime) {
            r.real_ns = to_ns(run.GetAdjustedRealTime(), run.time_unit);
            r.cpu_ns = to_ns(run.GetAdjustedCPUTime(), run.time_unit);
        }
        for (const auto &kv : run.counters)
            r.counters[kv.first] = kv.second.value;
        g_results.push_back(std::move(r));
    }

    benchmark::BenchmarkReporter *inner_;
};

benchmark::State *S(gb_state *st) { return reinterpret_cast<benchmark::State *>(st); }
benchmark::internal::Benchmark *B(gb_benchmark *b)
{
    return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}
gb_benchmark *G(benchmark::internal::Benchmark *b) { return reinterpret_cast<gb_benchmark *>(b); }
const Result *R(const gb_result *r) { return reinterpret_cast<const Result *>(r); }

} // namespace

extern "C" {

} // extern "C"

namespace {
void (*g_usage)(void);

// --help: the program's own usage first, then Google Benchmark's flags.
void print_help()
{
    if (g_usage) {
        g_usage();
        std::fflush(stdout);
        std::printf("\nGoogle Benchmark's flags (all pass through):\n");
    }
    benchmark::PrintDefaultHelp();
}
} // namespace

extern "C" {

void gb_initialize(int *argc, char **argv, void (*usage)(void))
{
    g_usage = usage;
    benchmark::Initialize(argc, argv, print_help);
}

int gb_report_unrecognized(int argc, char **argv)
{
    return benchmark::ReportUnrecognizedArguments(argc, argv) ? 1 : 0;
}

int gb_display_is_console(void)
{
    // The default display reporter is created once and owned by the library.
    return dynamic_cast<benchmark::ConsoleReporter *>(
               benchmark::CreateDefaultDisplayReporter()) != nullptr;
}

size_t gb_run_specified(void)
{
    RecordingReporter reporter(benchmark::CreateDefaultDisplayReporter());
    size_t matched = benchmark::RunSpecifiedBenchmarks(&reporter);
    std::cout.flush();
    std::cerr.flush();
    return matched;
}

void gb_add_context(const char *key, const char *value) { benchmark::AddCustomContext(key, value); }

void gb_shutdown(void) { benchmark::Shutdown(); }

gb_benchmark *gb_register(const char *name, gb_fn fn, void *user)
{
    return G(benchmark::RegisterBenchmark(
        name, [fn, user](benchmark::State &st) { fn(reinterpret_cast<gb_state *>(&st), user); }));
}

gb_benchmark *gb_arg(gb_benchmark *b, int64_t value) { return G(B(b)->Arg(value)); }
gb_benchmark *gb_range(gb_benchmark *b, int64_t lo, int64_t hi) { return G(B(b)->Range(lo, hi)); }
gb_benchmark *gb_range_multiplier(gb_benchmark *b, int m) { return G(B(b)->RangeMultiplier(m)); }
gb_benchmark *gb_min_time(gb_benchmark *b, double s) { return G(B(b)->MinTime(s)); }
gb_benchmark *gb_repetitions(gb_benchmark *b, int n) { return G(B(b)->Repetitions(n)); }

gb_benchmark *gb_unit(gb_benchmark *b, gb_time_unit unit)
{
    static const benchmark::TimeUnit units[] = {benchmark::kNanosecond, benchmark::kMicrosecond,
                                                benchmark::kMillisecond, benchmark::kSecond};
    return G(B(b)->Unit(units[unit]));
}

gb_benchmark *gb_use_real_time(gb_benchmark *b) { return G(B(b)->UseRealTime()); }
gb_benchmark *gb_measure_process_cpu_time(gb_benchmark *b)
{
    return G(B(b)->MeasureProcessCPUTime());
}

int gb_keep_running(gb_state *st) { return S(st)->KeepRunning() ? 1 : 0; }
int64_t gb_range_arg(gb_state *st, int index) { return S(st)->range(static_cast<size_t>(index)); }
int64_t gb_iterations(gb_state *st) { return static_cast<int64_t>(S(st)->iterations()); }
void gb_pause_timing(gb_state *st) { S(st)->PauseTiming(); }
void gb_resume_timing(gb_state *st) { S(st)->ResumeTiming(); }
void gb_set_items_processed(gb_state *st, int64_t items) { S(st)->SetItemsProcessed(items); }
void gb_set_bytes_processed(gb_state *st, int64_t bytes) { S(st)->SetBytesProcessed(bytes); }
void gb_set_label(gb_state *st, const char *label) { S(st)->SetLabel(label); }
void gb_skip_with_error(gb_state *st, const char *message) { S(st)->SkipWithError(message); }

void gb_set_counter(gb_state *st, const char *name, double value, int kind)
{
    int flags = benchmark::Counter::kDefaults;
    if (kind & GB_COUNTER_RATE)
        flags |= benchmark::Counter::kIsRate;
    if (kind & GB_COUNTER_AVG_ITERATIONS)
        flags |= benchmark::Counter::kAvgIterations;
    S(st)->counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(flags));
}

#if !defined(__GNUC__)
void gb_do_not_optimize(const void *p) { benchmark::DoNotOptimize(p); }
void gb_clobber_memory(void) { benchmark::ClobberMemory(); }
#endif

size_t gb_result_count(void) { return g_results.size(); }

const gb_result *gb_result_at(size_t index)
{
    return index < g_results.size() ? reinterpret_cast<const gb_result *>(&g_results[index])
                                    : nullptr;
}

const gb_result *gb_result_find(const char *name)
{
    const Result *median = nullptr, *last = nullptr;
    for (const Result &r : g_results) {
        if (r.error || r.name != name)
            continue;
        if (r.aggregate == "median")
            median = &r;
        else if (r.aggregate.empty())
            last = &r;
    }
    return reinterpret_cast<const gb_result *>(median ? median : last);
}

const char *gb_result_name(const gb_result *r) { return R(r)->name.c_str(); }
const char *gb_result_aggregate(const gb_result *r) { return R(r)->aggregate.c_str(); }
int gb_result_error(const gb_result *r) { return R(r)->error ? 1 : 0; }
int64_t gb_result_iterations(const gb_result *r) { return R(r)->iterations; }
double gb_result_real_ns(const gb_result *r) { return R(r)->real_ns; }
double gb_result_cpu_ns(const gb_result *r) { return R(r)->cpu_ns; }

double gb_result_counter(const gb_result *r, const char *name)
{
    auto it = R(r)->counters.find(name);
    return it == R(r)->counters.end() ? NAN : it->second;
}

} // extern "C"
