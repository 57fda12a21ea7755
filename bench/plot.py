#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Plot focal-bench results: throughput (Melem/s) against size.

Reads the JSON Google Benchmark writes with --benchmark_format=json (stdout)
or --benchmark_out=FILE --benchmark_out_format=json, and draws one panel per
case (mode and targets), one line per kernel or baseline (baselines dashed),
with the stream loop of the same traffic dotted as the memory roofline and
each kernel's sleef_floor (its SLEEF calls and division alone) dash-dotted
in the kernel's colour as its compute roofline.
Rates use the clock focal-bench's own summary used (CPU time when the library
ran single-threaded, else real time).

The threads/ and detector/ benchmarks (wall-clock, library thread scaling and
the RetinaNet-shaped labels/dense comparison) are not size sweeps of one case
and are left out of the plot; focal-bench's summary has their tables.

    focal-bench --benchmark_out=bench.json --benchmark_out_format=json
    python3 bench/plot.py bench.json -o bench.png   (installed: focal-bench-plot)

Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402

# Seconds per time unit, to turn real_time into a rate.
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# The stream loop with the same memory traffic as each mode (see focal_bench.c).
STREAM_FOR_MODE = {"fwdgrad": "add", "fwd": "dot"}
MODE_TITLES = {"fwdgrad": "loss + gradient", "fwd": "loss only"}
BASELINES = ("textbook", "fastmath", "fastmath_g2")


def implementations(context):
    """Baselines, then the kernels the run measured, in the library's order
    (focal-bench records them in the context as libfocal_kernels)."""
    return BASELINES + tuple(context.get("libfocal_kernels", "").split())


def representative_runs(benchmarks):
    """One entry per run name: the median aggregate if repetitions were run,
    else the (last) plain iteration run, the same rule as the C summary."""
    chosen = {}
    for b in benchmarks:
        if b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                chosen[name] = b
        elif name not in chosen or chosen[name].get("run_type") != "aggregate":
            chosen[name] = b
    return chosen


def melem_per_s(b, n, clock):
    return n / (b[clock] * UNIT_SECONDS[b["time_unit"]]) / 1e6


# Benchmark groups that are not plotted (see the module docstring).
NOT_PLOTTED = ("threads", "detector")


def collect(runs, clock):
    """{(mode, case): {impl: [(n, Melem/s)]}}, {stream kind: [(n, Melem/s)]},
    {case: {kernel: [(n, Melem/s)]}} (floors) and the number of runs left out
    (threads/, detector/)."""
    series = defaultdict(lambda: defaultdict(list))
    streams = defaultdict(list)
    floors = defaultdict(lambda: defaultdict(list))
    skipped = 0
    for name, b in runs.items():
        parts = name.split("/")
        if parts[0] in NOT_PLOTTED:
            skipped += 1
            continue
        try:
            n = int(parts[-1])
        except ValueError:
            continue
        if parts[0] == "stream" and len(parts) == 3:
            streams[parts[1]].append((n, melem_per_s(b, n, clock)))
        elif parts[0] == "sleef_floor" and len(parts) == 4:
            floors[parts[1]][parts[2]].append((n, melem_per_s(b, n, clock)))
        elif len(parts) == 4:
            mode, case, impl = parts[:3]
            series[(mode, case)][impl].append((n, melem_per_s(b, n, clock)))
    return series, streams, floors, skipped


def size_label(n):
    if n % (1 << 20) == 0:
        return f"{n >> 20}M"
    if n % (1 << 10) == 0:
        return f"{n >> 10}K"
    return str(n)


def legend_order(impls, label):
    """Implementations in the run's order, each kernel's floor right after it."""
    impl = label.split()[-1]
    return (impls.index(impl) if impl in impls else 99, label != impl, label)


def plot(series, streams, floors, context, out):
    # Fixed order and colours so an implementation looks the same in every panel.
    impls = implementations(context)
    colours = {impl: f"C{i}" for i, impl in enumerate(impls)}
    panels = sorted(series, key=lambda k: (k[1], k[0] != "fwdgrad"))
    cols = 2 if len(panels) > 1 else 1
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    sizes = sorted({n for s in series.values() for pts in s.values() for n, _ in pts})
    legend = {}  # one legend for the figure, every implementation once

    for ax, key in zip(axes.flat, panels):
        mode, case = key
        order = sorted(series[key], key=lambda i: (impls.index(i) if i in impls else 99, i))
        for impl in order:
            pts = sorted(series[key][impl])
            style = "o--" if impl in BASELINES else "o-"
            ax.plot([n for n, _ in pts], [r for _, r in pts], style, label=impl,
                    color=colours.get(impl))
        for impl in order:
            pts = sorted(floors.get(case, {}).get(impl, []))
            if pts:
                ax.plot([n for n, _ in pts], [r for _, r in pts], "-.", linewidth=1,
                        color=colours.get(impl), label=f"sleef_floor {impl}")
        stream = sorted(streams.get(STREAM_FOR_MODE.get(mode, ""), []))
        if stream:
            ax.plot([n for n, _ in stream], [r for _, r in stream], ":", color="grey",
                    label="stream loop (roofline)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([size_label(n) for n in sizes])
        ax.set_xlabel("elements")
        ax.set_ylabel("Melem/s")
        ax.set_title(f"{case}: {MODE_TITLES.get(mode, mode)}")
        ax.grid(True, which="both", alpha=0.3)
        for h, lab in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(lab, h)

    subtitle = ", ".join(
        f"{k.replace('libfocal_', '')} {context[k]}"
        for k in ("libfocal_version", "libfocal_kernels", "libfocal_threads")
        if k in context)
    fig.suptitle(f"focal-bench ({subtitle})" if subtitle else "focal-bench")
    labels = sorted(legend, key=lambda lab: legend_order(impls, lab))
    fig.legend([legend[lab] for lab in labels], labels, loc="lower center",
               ncol=min(len(labels), 5), fontsize="small")
    # Room for the suptitle above and the legend below the panels.
    fig.tight_layout(rect=(0, 0.08 if rows == 1 else 0.05, 1, 0.97))
    fig.savefig(out, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="?", default="-", help="focal-bench JSON (default: stdin)")
    ap.add_argument("-o", "--output", default="focal-bench.png", help="PNG to write")
    args = ap.parse_args()
    if args.json == "-":
        data = json.load(sys.stdin)
    else:
        with open(args.json) as f:
            data = json.load(f)
    # The clock focal-bench's own summary used: CPU time when the library ran
    # single-threaded (robust to other load), else wall-clock time.
    context = data.get("context", {})
    clock = "cpu_time" if context.get("focal_bench_summary_clock", "cpu") == "cpu" else "real_time"
    series, streams, floors, skipped = collect(representative_runs(data.get("benchmarks", [])), clock)
    if skipped:
        print(f"plot.py: left out {skipped} threads/ and detector/ results "
              "(see focal-bench's summary)", file=sys.stderr)
    if not series:
        sys.exit("plot.py: no focal-bench size-sweep results in the input")
    plot(series, streams, floors, context, args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
