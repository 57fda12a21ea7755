#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torchvision.ops.sigmoid_focal_loss (eager + autograd) vs libfocal, forward + backward.

    /usr/bin/python3 bench/compare_torch.py [--quick] [--sizes 16K,1M,...]
                                            [--cases flat,detector,yolo]

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

yolo (YOLOv5's ComputeLoss with fl_gamma 1.5: batch 16, 3 output layers of
80x80, 40x40 and 20x20 cells x 3 anchors x (5 + 80 classes); objectness on
every anchor against soft IoU targets (5% matched), the class loss on the
matched anchors' 80 logits (3000, 1500, 750 of them), cls_pw = obj_pw = 1):
  ultralytics: FocalLoss(nn.BCEWithLogitsLoss(pos_weight=...), 1.5) of
               YOLOv5's utils/loss.py (python/tests/_yolo_reference.py) on
               the objectness and class logits of the 3 layers, summed,
               backward
  focal.torch: the same with focal.torch.yolo.FocalLoss (the two-line change)
  The logits are the leaves (slicing them out of the head's output and
  scattering the gradients back costs both sides the same). Losses and
  gradients are compared first.

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

# Ultralytics' FocalLoss, as the Python tests have it.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python" / "tests"))

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


# YOLOv5 at 640x640: strides 8, 16, 32; 3 anchors a cell; 80 classes.
YOLO_BATCH, YOLO_GRIDS, YOLO_ANCHORS, YOLO_CLASSES = 16, (80, 40, 20), 3, 80
YOLO_MATCHED = (3000, 1500, 750)  # matched anchors per layer (targets x anchors x cells)
YOLO_OBJ_POSITIVE = 0.05


def yolo_inputs(rng):
    """Per layer: the objectness logits of every anchor (b, a, gy, gx) against
    soft IoU targets (the matched anchors' IoU, 0 elsewhere), and the class
    logits of the matched anchors (m, 80) against one-hot targets. Both are
    leaves here: slicing them out of the head's (b, a, gy, gx, 85) output and
    scattering their gradients back costs both sides the same."""
    layers = []
    for g, m in zip(YOLO_GRIDS, YOLO_MATCHED):
        shape = (YOLO_BATCH, YOLO_ANCHORS, g, g)
        pobj = torch.from_numpy((rng.standard_normal(shape) * 3 - 4).astype(np.float32))
        tobj = torch.zeros(shape)
        hit = torch.from_numpy(rng.random(shape) < YOLO_OBJ_POSITIVE)
        tobj[hit] = torch.from_numpy(rng.random(int(hit.sum())).astype(np.float32))
        pcls = torch.from_numpy((rng.standard_normal((m, YOLO_CLASSES)) * 3).astype(np.float32))
        tcls = torch.zeros((m, YOLO_CLASSES))
        tcls[torch.arange(m), torch.from_numpy(rng.integers(0, YOLO_CLASSES, m))] = 1.0
        layers.append((pobj.requires_grad_(), tobj, pcls.requires_grad_(), tcls))
    return layers


def yolo_step(focal_cls, layers):
    """ComputeLoss's class and objectness terms, YOLOv5 style (its
    BCEcls / BCEobj wrapped in FocalLoss when fl_gamma > 0)."""
    bce_cls = focal_cls(torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0])), 1.5)
    bce_obj = focal_cls(torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0])), 1.5)

    def step():
        total = 0.0
        for pobj, tobj, pcls, tcls in layers:
            pobj.grad = pcls.grad = None
            total = total + bce_cls(pcls, tcls) + bce_obj(pobj, tobj)
        total.backward()
        return total
    return step


def yolo_table(counts, budget, rng):
    import _yolo_reference as ultralytics  # noqa: E402
    from focal.torch.yolo import FocalLoss as YoloFocalLoss  # noqa: E402
    layers = yolo_inputs(rng)
    ul_step = yolo_step(ultralytics.FocalLoss, layers)
    ours_step = yolo_step(YoloFocalLoss, layers)
    ul_loss = float(ul_step())
    leaves = [t for pobj, _, pcls, _ in layers for t in (pobj, pcls)]
    ul_grads = [t.grad.clone() for t in leaves]
    our_loss = float(ours_step())
    grad_diff = max(float((t.grad - g).abs().max() / g.abs().max())
                    for t, g in zip(leaves, ul_grads))
    loss_diff = abs(our_loss - ul_loss) / abs(ul_loss)
    obj = sum(pobj.numel() for pobj, *_ in layers)
    print(f"\nyolo: YOLOv5 ComputeLoss, batch {YOLO_BATCH}, grids {YOLO_GRIDS} x "
          f"{YOLO_ANCHORS} anchors: objectness on {obj} anchors, classes on "
          f"{sum(YOLO_MATCHED)} x {YOLO_CLASSES}; FocalLoss gamma 1.5, alpha 0.25; "
          f"median ms per forward+backward")
    print(f"agreement: loss {our_loss:.6g} vs Ultralytics {ul_loss:.6g} (rel {loss_diff:.1e}), "
          f"gradient max diff {grad_diff:.1e} of max |grad|")
    if not (loss_diff < 1e-5 and grad_diff < 1e-4):
        sys.exit("compare_torch: focal.torch.yolo and Ultralytics disagree on the yolo case")
    header = f"{'threads':>7} {'ultralytics':>11} {'focal.torch':>11} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for k in counts:
        set_threads(k)
        ul = median_time(ul_step, budget)
        ours = median_time(ours_step, budget)
        print(f"{k:>7} {ul * 1e3:11.3f} {ours * 1e3:11.3f} {ul / ours:8.1f}x", flush=True)
    set_threads(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument("--cases", default="flat,detector,yolo",
                        help="comma list of flat, detector, yolo (default: all)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per cell (default 1)")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1M, 0.2 s per cell")
    args = parser.parse_args()
    names = args.sizes.split(",")
    cases = args.cases.split(",")
    if set(cases) - {"flat", "detector", "yolo"}:
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
    if "yolo" in cases:
        if focal.version_info < (1, 2, 0):
            print("yolo: skipped (needs libfocal >= 1.2 for pos_weight)")
        else:
            yolo_table(counts, args.budget, rng)


if __name__ == "__main__":
    main()
