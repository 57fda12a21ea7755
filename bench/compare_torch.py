#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torchvision.ops.sigmoid_focal_loss (eager + autograd) vs libfocal, forward + backward.

    /usr/bin/python3 bench/compare_torch.py [--quick] [--sizes 16K,1M,...]
                                            [--cases flat,detector]

Each cell is the median wall time of one training-step-shaped call.

flat (one table row per size, hard targets with 1% positive):
  torchvision: loss = sigmoid_focal_loss(x, t, reduction="mean"); loss.backward()
  focal.torch: the same two lines with our wrapper (one fused pass, then a scale)
  focal np:    focal.loss_and_grad(x, t) alone (no autograd), 1 thread
  ratio = torchvision / focal.torch at the same thread count; torch/np =
  focal.torch / focal np at 1 thread (what the PyTorch layer costs).

detector (a RetinaNet classification head: 120000 anchors x 80 classes, int64
class labels, 1% positive rows, 10% ignored, the rest background):
  torchvision: what torchvision's RetinaNet head does: one_hot of the labels
               (background as an extra class, dropped), the ignored rows masked
               out, sigmoid_focal_loss(..., reduction="sum") / num_pos, backward
  focal.torch: FocalLoss(gamma=2, alpha=0.25)(x, labels, avg_factor=num_pos),
               backward (mmdet's interface; ignored rows are labels < 0)
  bare C:      focal.sigmoid_labels(x, labels, normalizer=num_pos), the numpy
               API on int32 labels: one library call, no autograd
  Before timing, the torchvision and focal.torch losses and gradients are
  compared (they must agree to float rounding).

Both sides run at 1 thread and at every CPU (torch.set_num_threads and, with
libfocal >= 1.1, focal.set_num_threads). Needs Debian's python3-torch and
python3-torchvision; the library is found as the binding finds it
($FOCAL_LIBRARY, build/default, or the system).
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss as tv_focal

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
import focal  # noqa: E402
from focal.torch import FocalLoss  # noqa: E402
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


def set_threads(k):
    torch.set_num_threads(k)
    if focal.version_info >= (1, 1, 0):
        focal.set_num_threads(k)


def flat_table(names, counts, budget, rng):
    print("flat: median ms per forward+backward, reduction mean, hard targets (1% positive)")
    header = f"{'n':>5}"
    for k in counts:
        header += f" {f'tv {k}T':>9} {f'focal {k}T':>9} {'ratio':>7}"
    header += f" {'focal np':>9} {'torch/np':>8}"
    print(header)
    print("-" * len(header))
    for name in names:
        n = SIZES[name]
        x = torch.from_numpy((rng.standard_normal(n) * 3).astype(np.float32)).requires_grad_()
        t = torch.from_numpy((rng.random(n) < 0.01).astype(np.float32))
        row = f"{name:>5}"
        ours_1t = None
        for k in counts:
            set_threads(k)
            tv = median_time(autograd_step(tv_focal, x, t), budget)
            ours = median_time(autograd_step(focal_loss, x, t), budget)
            ours_1t = ours if ours_1t is None else ours_1t
            row += f" {tv * 1e3:9.3f} {ours * 1e3:9.3f} {tv / ours:6.1f}x"
        set_threads(1)
        xn, tn = x.detach().numpy(), t.numpy()
        raw = median_time(lambda: focal.loss_and_grad(xn, tn), budget)
        print(f"{row} {raw * 1e3:9.3f} {ours_1t / raw:7.2f}x", flush=True)


# RetinaNet on COCO: ~120k anchors per image, 80 classes.
DET_ROWS, DET_CLASSES = 120000, 80
DET_POSITIVE, DET_IGNORED = 0.01, 0.10


def detector_inputs(rng):
    """Logits (float32, requires grad) and int64 labels: class in [0, 80) for
    1% of the rows, -1 (ignored) for 10%, 80 (background) for the rest, in
    random order; and the number of positive rows."""
    rows, classes = DET_ROWS, DET_CLASSES
    kind = rng.permutation(rows)
    n_pos, n_ign = int(rows * DET_POSITIVE), int(rows * DET_IGNORED)
    labels = np.full(rows, classes, dtype=np.int64)
    labels[kind[:n_pos]] = rng.integers(0, classes, n_pos)
    labels[kind[n_pos:n_pos + n_ign]] = -1
    x = torch.from_numpy((rng.standard_normal((rows, classes)) * 3).astype(np.float32))
    return x.requires_grad_(), torch.from_numpy(labels), n_pos


def torchvision_detector_step(x, labels, num_pos):
    """torchvision's RetinaNet head loss (retinanet.py), as users write it."""
    def step():
        x.grad = None
        valid = labels >= 0
        target = F.one_hot(labels[valid], DET_CLASSES + 1)[:, :DET_CLASSES].to(x.dtype)
        loss = tv_focal(x[valid], target, alpha=0.25, gamma=2, reduction="sum") / max(1, num_pos)
        loss.backward()
        return loss
    return step


def focal_detector_step(x, labels, num_pos):
    criterion = FocalLoss(gamma=2.0, alpha=0.25)

    def step():
        x.grad = None
        loss = criterion(x, labels, avg_factor=num_pos)
        loss.backward()
        return loss
    return step


def detector_table(counts, budget, rng):
    x, labels, num_pos = detector_inputs(rng)
    tv_step = torchvision_detector_step(x, labels, num_pos)
    ours_step = focal_detector_step(x, labels, num_pos)
    # Same loss, same gradient: a speed ratio of different work means nothing.
    tv_loss = float(tv_step())
    tv_grad = x.grad.clone()
    our_loss = float(ours_step())
    grad_diff = float((x.grad - tv_grad).abs().max() / tv_grad.abs().max())
    loss_diff = abs(our_loss - tv_loss) / abs(tv_loss)
    ignored = int((labels < 0).sum())
    print(f"\ndetector: {DET_ROWS} x {DET_CLASSES}, {num_pos} positive rows "
          f"({100 * num_pos / DET_ROWS:.1f}%), {ignored} ignored ({100 * ignored / DET_ROWS:.1f}%), "
          f"alpha 0.25, gamma 2, sum / num_pos; median ms per forward+backward")
    print(f"agreement: loss {our_loss:.6g} vs torchvision {tv_loss:.6g} (rel {loss_diff:.1e}), "
          f"gradient max diff {grad_diff:.1e} of max |grad|")
    if not (loss_diff < 1e-4 and grad_diff < 1e-4):
        sys.exit("compare_torch: focal.torch and torchvision disagree on the detector case")
    xn = x.detach().numpy()
    labels32 = labels.numpy().astype(np.int32)
    header = (f"{'threads':>7} {'torchvision':>11} {'focal.torch':>11} {'bare C':>9} "
              f"{'tv/focal.torch':>14} {'focal.torch/bare C':>18}")
    print(header)
    print("-" * len(header))
    for k in counts:
        set_threads(k)
        tv = median_time(tv_step, budget)
        ours = median_time(ours_step, budget)
        raw = median_time(lambda: focal.sigmoid_labels(xn, labels32, alpha=0.25, gamma=2.0,
                                                       normalizer=num_pos), budget)
        print(f"{k:>7} {tv * 1e3:11.3f} {ours * 1e3:11.3f} {raw * 1e3:9.3f} "
              f"{tv / ours:13.1f}x {ours / raw:17.2f}x", flush=True)
    set_threads(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument("--cases", default="flat,detector",
                        help="comma list of flat, detector (default: both)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per cell (default 1)")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1M, 0.2 s per cell")
    args = parser.parse_args()
    names = args.sizes.split(",")
    cases = args.cases.split(",")
    if set(cases) - {"flat", "detector"}:
        parser.error(f"unknown case in --cases {args.cases!r}")
    if args.quick:
        names, args.budget = [n for n in names if SIZES[n] <= SIZES["1M"]], 0.2

    cpus = os.cpu_count() or 1
    counts = [1] if cpus == 1 else [1, cpus]
    print(f"libfocal {focal.version()} ({focal.isa()}), torch {torch.__version__}, {cpus} CPUs")
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f} before starting: the multi-thread "
              f"columns are unreliable on a busy machine")
    rng = np.random.default_rng(0)
    if "flat" in cases:
        flat_table(names, counts, args.budget, rng)
    if "detector" in cases:
        if focal.version_info < (1, 1, 0):
            print("detector: skipped (needs libfocal >= 1.1 for labels)")
        else:
            detector_table(counts, args.budget, rng)


if __name__ == "__main__":
    main()
