#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torchvision.ops.sigmoid_focal_loss (eager + autograd) vs libfocal, forward + backward.

    /usr/bin/python3 bench/compare_torch.py [--quick] [--sizes 16K,1M,...]

Each cell is the median wall time of one training-step-shaped call:
torchvision: loss = sigmoid_focal_loss(x, t, reduction="mean"); loss.backward()
focal.torch: the same two lines with our wrapper (one fused pass, then a scale)
focal np:    focal.loss_and_grad(x, t) alone (no autograd), 1 thread
Both sides run at 1 thread and at every CPU (torch.set_num_threads and, with
libfocal >= 1.1, focal.set_num_threads); ratio = torchvision / focal.torch at
the same thread count. Needs Debian's python3-torch and python3-torchvision;
the library is found as the binding finds it ($FOCAL_LIBRARY, build/default,
or the system).
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
from torchvision.ops import sigmoid_focal_loss as tv_focal

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
import focal  # noqa: E402
from focal.torch import sigmoid_focal_loss as focal_loss  # noqa: E402

SIZES = {"16K": 1 << 14, "256K": 1 << 18, "1M": 1 << 20, "4M": 1 << 22, "16M": 1 << 24}


def median_time(step, budget, min_reps=3, max_reps=200):
    step()  # warm-up: first-touch page faults, allocator growth
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < budget and len(times) < max_reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def autograd_step(loss_fn, x, t):
    def step():
        x.grad = None
        loss_fn(x, t, alpha=0.25, gamma=2, reduction="mean").backward()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per cell (default 1)")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1M, 0.2 s per cell")
    args = parser.parse_args()
    names = args.sizes.split(",")
    if args.quick:
        names, args.budget = [n for n in names if SIZES[n] <= SIZES["1M"]], 0.2

    cpus = os.cpu_count() or 1
    counts = [1] if cpus == 1 else [1, cpus]
    print(f"libfocal {focal.version()} ({focal.isa()}), torch {torch.__version__}, {cpus} CPUs; "
          f"median ms per forward+backward, reduction mean")
    header = f"{'n':>5}"
    for k in counts:
        header += f" {f'tv {k}T':>9} {f'focal {k}T':>9} {'ratio':>7}"
    header += f" {'focal np':>9}"
    print(header)
    print("-" * len(header))
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f} before starting: the multi-thread "
              f"columns are unreliable on a busy machine")
    rng = np.random.default_rng(0)
    for name in names:
        n = SIZES[name]
        x = torch.from_numpy((rng.standard_normal(n) * 3).astype(np.float32)).requires_grad_()
        t = torch.from_numpy((rng.random(n) < 0.01).astype(np.float32))
        row = f"{name:>5}"
        for k in counts:
            torch.set_num_threads(k)
            if focal.version_info >= (1, 1, 0):
                focal.set_num_threads(k)
            tv = median_time(autograd_step(tv_focal, x, t), args.budget)
            ours = median_time(autograd_step(focal_loss, x, t), args.budget)
            row += f" {tv * 1e3:9.3f} {ours * 1e3:9.3f} {tv / ours:6.1f}x"
        if focal.version_info >= (1, 1, 0):
            focal.set_num_threads(1)
        xn, tn = x.detach().numpy(), t.numpy()
        raw = median_time(lambda: focal.loss_and_grad(xn, tn), args.budget)
        print(f"{row} {raw * 1e3:9.3f}", flush=True)

if __name__ == "__main__":
    main()
