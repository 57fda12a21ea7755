#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""torchvision.ops.sigmoid_focal_loss (eager and torch.compile) vs libfocal, forward + backward.

    python3 bench/compare_torch.py [--quick] [--sizes 16K,1M,...]
                                   [--cases flat,detector,yolo,dfl,box,bbox]
                                   [--compile 16K,1M,16M,detector,dfl,box] [--budget S]

Each cell is the median wall time of one training-step-shaped call.

flat (one table row per size, hard targets with 1% positive):
  tv:          loss = sigmoid_focal_loss(x, t, reduction="mean"); loss.backward()
               (torchvision, eager + autograd)
  tvc:         the same two lines with torch.compile(sigmoid_focal_loss)
               (default settings: Inductor; one graph, forward and backward
               compiled), sizes of --compile only (default 16K, 1M, 16M)
  focal:       the same two lines with focal.torch's wrapper (one fused pass,
               then a scale)
  focal np:    focal.loss_and_grad(x, t) alone (no autograd), 1 thread
  tv/f, tvc/f = tv / focal and tvc / focal at the same thread count (how many
  times faster focal.torch is); torch/np = focal.torch / focal np at 1 thread
  (what the PyTorch layer costs).

detector (a RetinaNet classification head: 120000 anchors x 80 classes, int64
class labels, 1% positive rows, 10% ignored, the rest background):
  torchvision: what torchvision's RetinaNet head does: one_hot of the labels
               (background as an extra class, dropped), the ignored rows masked
               out, sigmoid_focal_loss(..., reduction="sum") / num_pos, backward
  tv compiled: torch.compile of that whole expression (default settings; the
               boolean-mask indexing splits it into several graphs)
  focal.torch: FocalLoss(gamma=2, alpha=0.25)(x, labels, avg_factor=num_pos),
               backward (mmdet's interface; ignored rows are labels < 0)
  bare C:      focal.sigmoid_labels(x, labels, normalizer=num_pos), the numpy
               API on int32 labels: one library call, no autograd
  Before timing, the torchvision and focal.torch losses and gradients are
  compared (they must agree to float rounding).

torch.compile: compiled afresh for every size and thread count (Inductor
specializes its kernels on both: static shapes, and the thread count at
compile time), so each cell times the kernels a training loop of that shape
would run. Compiling and the first calls are not timed. Before timing, the
compiled loss and gradient are compared with eager torchvision's; a cell
that fails to compile or disagrees says so (the reason is printed below its
table) and the rest runs on. Without torch.compile (torch < 2) the column
reads "n/a (torch 1.13)".

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

dfl (YOLOv8's box distribution term, DFLoss of Ultralytics' utils/loss.py:
batch 16 at 640 px, 8400 anchors an image, 10% of them foreground, so 13440
foreground anchors x 4 sides = 53760 rows of reg_max 16 bins; pred_dist
(53760, 16) float32 logits, target (13440, 4) distances in [0, 15)):
  ultralytics: DFLoss(reg_max=16)(pred_dist, target) as Ultralytics writes it
               (the target clamped to [0, 14.99], two F.cross_entropy calls
               weighted by the distances to the two bins around it, mean over
               the 4 sides: (13440, 1)), summed, backward
  ul compiled: torch.compile of that expression (default settings)
  gather:      the same loss as one log_softmax and a gather of the two bins
  gather comp: torch.compile of the gather form
  focal.torch: focal.torch.yolo.DFLoss(reg_max=16)(pred_dist, target) (one
               fused pass of focal_distribution_focal), summed, backward;
               without it (a binding older than the DFL), the column is
               skipped and says why
  Losses and gradients are compared first; the compiled forms are compiled
  afresh for every thread count, as above ("dfl" in --compile).

box (box regression, forward + backward of the mean loss over n predicted
boxes against their targets: targets with x1, y1 in [0, 600) and sides in
[4, 300), predictions the targets moved by 10% of their size, n = 10K, 100K
and 1M):
  baseline:    torchvision.ops.generalized_box_iou_loss, distance_box_iou_loss
               and complete_box_iou_loss (reduction "mean"), and Ultralytics'
               1 - bbox_iou(pred, target, xywh=False, CIoU=True), mean (its
               expression, as utils/metrics.py writes it), eager + autograd
  compiled:    torch.compile of the baseline (at 100K only: "box" in --compile)
  focal.torch: focal.torch's generalized_box_iou_loss, distance_box_iou_loss,
               complete_box_iou_loss (torchvision's signatures), and
               box_iou_loss(pred, target, "ciou", "ultralytics")
  Losses and gradients are compared first.

bbox (YOLOv8's BboxLoss, utils/loss.py: the CIoU and DFL terms of a batch of
16 at 640 px, 8400 anchors an image, 10% of them foreground, reg_max 16;
pred_dist (16, 8400, 64) and pred_bboxes (16, 8400, 4) the leaves, target
scores over 80 classes):
  ultralytics: the installed ultralytics package's BboxLoss(16) where it
               imports, else its 8.4 expression (python/tests/_yolo_reference.py),
               loss_iou + loss_dfl, backward
  focal.torch: focal.torch.yolo.BboxLoss(16) (one fused CIoU call, one
               fused DFL call, weights and target_scores_sum inside both)
  Losses and gradients are compared first.

Both sides run at 1 thread and at every CPU (torch.set_num_threads and, with
libfocal >= 1.1, focal.set_num_threads). Runs on Debian's python3-torch and
python3-torchvision (torch 1.13: no compiled column), or in the PyTorch
matrix's torch 2.x venv with torchvision, whose interpreter
`sh python/matrix/env.sh torch-2.14-torchvision` prints (it makes the venv
the first time). The library is found as the binding finds it
($FOCAL_LIBRARY, build/default, or the system).
"""

import argparse
import logging
import math
import os
import pathlib
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parents[1]

# numpy, torch, torchvision and the binding: imported by load_modules(), after
# the command line is parsed (--help needs none of them).
np = torch = F = tv_focal = focal = FocalLoss = focal_loss = None


def load_modules():
    global np, torch, F, tv_focal, focal, FocalLoss, focal_loss
    try:
        import numpy as np
        import torch
        import torch.nn.functional as F
        from torchvision.ops import sigmoid_focal_loss as tv_focal
    except ImportError as e:
        sys.exit(f"compare_torch: needs numpy, PyTorch and torchvision ({e}); run it with "
                 f"Debian's /usr/bin/python3 (python3-torch, python3-torchvision) or the "
                 f"interpreter `sh python/matrix/env.sh torch-2.14-torchvision` prints")
    sys.path.insert(0, str(HERE / "python"))
    try:
        import focal
        from focal.torch import FocalLoss
        from focal.torch import sigmoid_focal_loss as focal_loss
    except (OSError, ImportError) as e:
        sys.exit(f"compare_torch: {e}")
    # Ultralytics' FocalLoss, as the Python tests have it.
    sys.path.insert(0, str(HERE / "python" / "tests"))


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
        loss = loss_fn(x, t, alpha=0.25, gamma=2, reduction="mean")
        loss.backward()
        return loss
    return step


def set_threads(k):
    torch.set_num_threads(k)
    if focal.version_info >= (1, 1, 0):
        focal.set_num_threads(k)


def compile_unavailable():
    """Why this torch has no torch.compile column (a short reason), or None."""
    if not hasattr(torch, "compile"):
        return "torch " + ".".join(torch.__version__.split(".")[:2])
    return None


def reset_compiled():
    """Forget every compiled graph: the next call compiles afresh (static
    shapes, kernels for the current thread count)."""
    if hasattr(torch, "compiler") and hasattr(torch.compiler, "reset"):
        torch.compiler.reset()
    else:
        torch._dynamo.reset()


def compiled_step(make_step, loss_fn, eager_step, x, tol, notes, label):
    """A warm step of torch.compile(loss_fn) (make_step(compiled) makes it),
    checked against eager_step; (step, None) or (None, "failed"/"differs"),
    with a line for notes either way."""
    reset_compiled()
    # The CUDA build of torch warns that it finds no CUDA when Inductor first
    # builds a CPU kernel: irrelevant here, and it would cut a table in two.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    from torch._dynamo.utils import counters
    counters.clear()
    try:
        step = make_step(torch.compile(loss_fn))
        t0 = time.perf_counter()
        step()  # compiles the forward and the backward
        first = time.perf_counter() - t0
        loss = float(step().detach())
        grad = x.grad.clone()
    except Exception as e:  # noqa: BLE001 - any failure of the compiler stack
        why = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
        notes.append(f"{label}: compile failed: {type(e).__name__}: {why}")
        return None, "failed"
    graphs = counters["stats"]["unique_graphs"]
    eager_loss = float(eager_step().detach())
    loss_diff = abs(loss - eager_loss) / max(abs(eager_loss), 1e-30)
    grad_diff = float((x.grad - grad).abs().max() / x.grad.abs().max())
    x.grad = None
    notes.append(f"{label}: {graphs} graph{'s' if graphs != 1 else ''}, first call {first:.1f} s; "
                 f"loss rel {loss_diff:.1e}, gradient max diff {grad_diff:.1e} of max |grad| "
                 f"vs eager")
    if not (loss_diff < tol and grad_diff < tol):
        notes[-1] += " : DISAGREES, not timed"
        return None, "differs"
    return step, None


def compiled_cell(na, wanted, make_step, loss_fn, eager_step, x, budget, notes, label):
    """A table's torch.compile cell: "n/a (why)" without torch.compile, "-"
    where not asked for, "failed" / "differs" where compiled_step says so
    (its note says why), else the compiled step's median time."""
    if na:
        return f"n/a ({na})"
    if not wanted:
        return "-"
    step, why = compiled_step(make_step, loss_fn, eager_step, x, 1e-4, notes, label)
    if step is None:
        return why
    t = median_time(step, budget)
    reset_compiled()
    return t


def ratio(a, b, width):
    return f"{a / b:{width - 1}.1f}x" if isinstance(a, float) else f"{'-':>{width}}"


def cell(v, width):
    return f"{v * 1e3:{width}.3f}" if isinstance(v, float) else f"{v:>{width}}"


def flat_table(names, counts, budget, rng, compile_names):
    na = compile_unavailable()
    cw = max(9, len(f"n/a ({na})") if na else 0)
    print("flat: median ms per forward+backward, reduction mean, hard targets (1% positive)")
    header = f"{'n':>5}"
    for k in counts:
        header += (f" {f'tv {k}T':>9} {f'tvc {k}T':>{cw}} {f'focal {k}T':>9}"
                   f" {'tv/f':>7} {'tvc/f':>7}")
    header += f" {'focal np':>9} {'torch/np':>8}"
    print(header)
    print("-" * len(header))
    notes = []
    for name in names:
        n = SIZES[name]
        x = torch.from_numpy((rng.standard_normal(n) * 3).astype(np.float32)).requires_grad_()
        t = torch.from_numpy((rng.random(n) < 0.01).astype(np.float32))
        row = f"{name:>5}"
        ours_1t = None
        for k in counts:
            set_threads(k)
            tv = median_time(autograd_step(tv_focal, x, t), budget)
            tvc = compiled_cell(na, name in compile_names,
                                lambda fn: autograd_step(fn, x, t), tv_focal,
                                autograd_step(tv_focal, x, t), x, budget, notes, f"{name} {k}T")
            ours = median_time(autograd_step(focal_loss, x, t), budget)
            ours_1t = ours if ours_1t is None else ours_1t
            row += (f" {tv * 1e3:9.3f} {cell(tvc, cw)} {ours * 1e3:9.3f}"
                    f" {tv / ours:6.1f}x {ratio(tvc, ours, 7)}")
        set_threads(1)
        xn, tn = x.detach().numpy(), t.numpy()
        raw = median_time(lambda: focal.loss_and_grad(xn, tn), budget)
        print(f"{row} {raw * 1e3:9.3f} {ours_1t / raw:7.2f}x", flush=True)
    if notes:
        print("torch.compile (tvc), per cell:" + "".join("\n  " + n for n in notes))


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


def torchvision_detector_loss(x, labels, num_pos):
    """torchvision's RetinaNet head loss (retinanet.py), as users write it."""
    valid = labels >= 0
    target = F.one_hot(labels[valid], DET_CLASSES + 1)[:, :DET_CLASSES].to(x.dtype)
    return tv_focal(x[valid], target, alpha=0.25, gamma=2, reduction="sum") / max(1, num_pos)


def torchvision_detector_step(x, labels, num_pos, loss_fn=None):
    loss_fn = loss_fn or torchvision_detector_loss

    def step():
        x.grad = None
        loss = loss_fn(x, labels, num_pos)
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


def detector_table(counts, budget, rng, compile_it):
    x, labels, num_pos = detector_inputs(rng)
    tv_step = torchvision_detector_step(x, labels, num_pos)
    ours_step = focal_detector_step(x, labels, num_pos)
    # Same loss, same gradient: a speed ratio of different work means nothing.
    tv_loss = float(tv_step().detach())
    tv_grad = x.grad.clone()
    our_loss = float(ours_step().detach())
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
    na = compile_unavailable()
    cw = max(11, len(f"n/a ({na})") if na else 0)
    header = (f"{'threads':>7} {'torchvision':>11} {'tv compiled':>{cw}} {'focal.torch':>11} "
              f"{'bare C':>9} {'tv/focal.torch':>14} {'tvc/focal.torch':>15} "
              f"{'focal.torch/bare C':>18}")
    print(header)
    print("-" * len(header))
    notes = []
    for k in counts:
        set_threads(k)
        tv = median_time(tv_step, budget)
        tvc = compiled_cell(na, compile_it,
                            lambda fn: torchvision_detector_step(x, labels, num_pos, fn),
                            torchvision_detector_loss, tv_step, x, budget, notes, f"{k}T")
        ours = median_time(ours_step, budget)
        raw = median_time(lambda: focal.sigmoid_labels(xn, labels32, alpha=0.25, gamma=2.0,
                                                       normalizer=num_pos), budget)
        print(f"{k:>7} {tv * 1e3:11.3f} {cell(tvc, cw)} {ours * 1e3:11.3f} {raw * 1e3:9.3f} "
              f"{tv / ours:13.1f}x {ratio(tvc, ours, 15)} {ours / raw:17.2f}x", flush=True)
    set_threads(1)
    if notes:
        print("torch.compile (tv compiled), per thread count:"
              + "".join("\n  " + n for n in notes))


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


def ultralytics_rows(counts, budget, ul_step, our_step, ratio_label):
    """The table of the cases against an Ultralytics step alone (yolo, bbox):
    per thread count, the median ms of its step and of ours, and their ratio."""
    header = f"{'threads':>7} {'ultralytics':>11} {'focal.torch':>11} {ratio_label:>9}"
    print(header)
    print("-" * len(header))
    for k in counts:
        set_threads(k)
        ul, ours = median_time(ul_step, budget), median_time(our_step, budget)
        print(f"{k:>7} {ul * 1e3:11.3f} {ours * 1e3:11.3f} {ul / ours:8.1f}x", flush=True)
    set_threads(1)


def yolo_table(counts, budget, rng):
    import _yolo_reference as ultralytics  # noqa: E402
    from focal.torch.yolo import FocalLoss as YoloFocalLoss  # noqa: E402
    layers = yolo_inputs(rng)
    ul_step = yolo_step(ultralytics.FocalLoss, layers)
    ours_step = yolo_step(YoloFocalLoss, layers)
    ul_loss = float(ul_step().detach())
    leaves = [t for pobj, _, pcls, _ in layers for t in (pobj, pcls)]
    ul_grads = [t.grad.clone() for t in leaves]
    our_loss = float(ours_step().detach())
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
    ultralytics_rows(counts, budget, ul_step, ours_step, "speed-up")


# YOLOv8 at 640x640: 8400 anchors an image (80x80 + 40x40 + 20x20), batch 16,
# 10% of the anchors foreground; DFL over the 4 box sides, reg_max 16 bins.
DFL_BATCH, DFL_ANCHORS, DFL_FOREGROUND, DFL_REG_MAX = 16, 8400, 0.10, 16


def ultralytics_dfl(pred_dist, target, reg_max=DFL_REG_MAX):
    """DFLoss.__call__ of Ultralytics' utils/loss.py, the same expression:
    (n, 1), the mean over the sides of the two weighted cross-entropies."""
    target = target.clamp_(0, reg_max - 1 - 0.01)
    tl = target.long()  # target left
    tr = tl + 1  # target right
    wl = tr - target  # weight left
    wr = 1 - wl  # weight right
    return (F.cross_entropy(pred_dist, tl.view(-1), reduction="none").view(tl.shape) * wl
            + F.cross_entropy(pred_dist, tr.view(-1), reduction="none").view(tl.shape) * wr
            ).mean(-1, keepdim=True)


def gather_dfl(pred_dist, target, reg_max=DFL_REG_MAX):
    """The same loss in one log_softmax: the log-probabilities of the two bins
    around each target, gathered and weighted."""
    target = target.clamp(0, reg_max - 1 - 0.01)
    tl = target.long().view(-1, 1)
    wl = (tl + 1) - target.view(-1, 1)
    logp = F.log_softmax(pred_dist, dim=-1).gather(1, torch.cat((tl, tl + 1), 1))
    weights = torch.cat((wl, 1 - wl), 1)
    return -(logp * weights).sum(1).view(target.shape).mean(-1, keepdim=True)


def library_dfl():
    """focal.torch's DFL as a callable (pred_dist, target) -> (n, 1), and a
    name; or (None, why) when this binding has none."""
    try:
        from focal.torch.yolo import DFLoss as FocalDFLoss
    except ImportError:
        FocalDFLoss = None
    if FocalDFLoss is not None:
        return FocalDFLoss(reg_max=DFL_REG_MAX), "focal.torch.yolo.DFLoss"
    import focal.torch as ft
    if hasattr(ft, "distribution_focal_loss"):
        def fn(pred_dist, target):
            t = target.clamp(0, DFL_REG_MAX - 1 - 0.01)
            return ft.distribution_focal_loss(pred_dist, t.reshape(-1), reduction="none") \
                .view(t.shape).mean(-1, keepdim=True)
        return fn, "focal.torch.distribution_focal_loss"
    return None, ("focal.torch.yolo has no DFLoss (this binding predates the Distribution "
                  "Focal Loss): focal.torch column skipped")


def dfl_inputs(rng):
    n_fg = int(DFL_BATCH * DFL_ANCHORS * DFL_FOREGROUND)
    pred = torch.from_numpy((rng.standard_normal((n_fg * 4, DFL_REG_MAX)) * 3)
                            .astype(np.float32))
    target = torch.from_numpy((rng.random((n_fg, 4)) * (DFL_REG_MAX - 1)).astype(np.float32))
    # Clamped once here, as every form clamps it (Ultralytics in place): the
    # forms then all see the same target.
    target.clamp_(0, DFL_REG_MAX - 1 - 0.01)
    return pred.requires_grad_(), target


def dfl_step(loss_fn, pred, target):
    def step():
        pred.grad = None
        loss = loss_fn(pred, target).sum()
        loss.backward()
        return loss
    return step


def dfl_table(counts, budget, rng, compile_it):
    pred, target = dfl_inputs(rng)
    ours_fn, ours_name = library_dfl()
    forms = [("ultralytics", ultralytics_dfl), ("gather", gather_dfl)]
    print(f"\ndfl: YOLOv8 DFLoss, batch {DFL_BATCH}, {DFL_ANCHORS} anchors, "
          f"{100 * DFL_FOREGROUND:.0f}% foreground: pred_dist {tuple(pred.shape)}, target "
          f"{tuple(target.shape)}, reg_max {DFL_REG_MAX}; (n, 1).sum(), backward; "
          f"median ms per forward+backward")
    steps = {name: dfl_step(fn, pred, target) for name, fn in forms}
    ref_loss = float(steps["ultralytics"]().detach())
    ref_grad = pred.grad.clone()
    checks = [("gather", steps["gather"])]
    if ours_fn is not None:
        steps["focal"] = dfl_step(ours_fn, pred, target)
        checks.append((ours_name, steps["focal"]))
    else:
        print(f"dfl: {ours_name}")
    for name, step in checks:
        try:
            loss = float(step().detach())
        except Exception as e:  # noqa: BLE001 - an older or partial binding
            if step is not steps.get("focal"):
                raise
            print(f"dfl: {name} failed ({type(e).__name__}: {e}): focal.torch column skipped")
            del steps["focal"]
            continue
        loss_diff = abs(loss - ref_loss) / abs(ref_loss)
        grad_diff = float((pred.grad - ref_grad).abs().max() / ref_grad.abs().max())
        print(f"agreement: {name} loss {loss:.7g} vs Ultralytics {ref_loss:.7g} "
              f"(rel {loss_diff:.1e}), gradient max diff {grad_diff:.1e} of max |grad|")
        if not (loss_diff < 1e-5 and grad_diff < 1e-4):
            sys.exit(f"compare_torch: {name} and Ultralytics' DFLoss disagree on the dfl case")
    na = compile_unavailable()
    cw = max(11, len(f"n/a ({na})") if na else 0)
    header = (f"{'threads':>7} {'ultralytics':>11} {'ul compiled':>{cw}} {'gather':>11} "
              f"{'gather comp':>{cw}} {'focal.torch':>11} {'ul/focal':>9} {'ulc/focal':>9} "
              f"{'gather/focal':>12} {'gc/focal':>9}")
    print(header)
    print("-" * len(header))
    notes = []
    for k in counts:
        set_threads(k)
        cells = {}
        for name, fn in forms:
            cells[name] = median_time(steps[name], budget)
            cells[f"{name} compiled"] = compiled_cell(
                na, compile_it, lambda f: dfl_step(f, pred, target), fn, steps[name], pred,
                budget, notes, f"{name} {k}T")
        ours = median_time(steps["focal"], budget) if "focal" in steps else "skipped"
        row = (f"{k:>7} {cell(cells['ultralytics'], 11)} "
               f"{cell(cells['ultralytics compiled'], cw)} {cell(cells['gather'], 11)} "
               f"{cell(cells['gather compiled'], cw)} {cell(ours, 11)}")
        for base, width in (("ultralytics", 9), ("ultralytics compiled", 9), ("gather", 12),
                            ("gather compiled", 9)):
            row += " " + (ratio(cells[base], ours, width) if isinstance(ours, float)
                          else f"{'-':>{width}}")
        print(row, flush=True)
    set_threads(1)
    if notes:
        print("torch.compile (ul compiled, gather comp), per form and thread count:"
              + "".join("\n  " + n for n in notes))


# Box regression: n predicted boxes near their targets (IoU mostly 0.4 .. 0.95).
BOX_SIZES = {"10K": 10_000, "100K": 100_000, "1M": 1_000_000}
BOX_COMPILED_AT = "100K"


def box_inputs(rng, n):
    xy = rng.uniform(0, 600, (n, 2))
    wh = rng.uniform(4, 300, (n, 2))
    target = np.concatenate([xy, xy + wh], 1)
    pred = target + rng.standard_normal((n, 4)) * np.concatenate([wh, wh], 1) * 0.1
    return (torch.from_numpy(pred.astype(np.float32)).requires_grad_(),
            torch.from_numpy(target.astype(np.float32)))


def ultralytics_ciou_loss(pred, target, eps=1e-7):
    """1 - bbox_iou(pred, target, xywh=False, CIoU=True) of Ultralytics'
    utils/metrics.py, the same expression, mean over the boxes."""
    b1_x1, b1_y1, b1_x2, b1_y2 = pred.chunk(4, -1)
    b2_x1, b2_y1, b2_x2, b2_y2 = target.chunk(4, -1)
    w1, h1 = b1_x2 - b1_x1, b1_y2 - b1_y1 + eps
    w2, h2 = b2_x2 - b2_x1, b2_y2 - b2_y1 + eps
    inter = ((b1_x2.minimum(b2_x2) - b1_x1.maximum(b2_x1)).clamp_(0)
             * (b1_y2.minimum(b2_y2) - b1_y1.maximum(b2_y1)).clamp_(0))
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = b1_x2.maximum(b2_x2) - b1_x1.minimum(b2_x1)
    ch = b1_y2.maximum(b2_y2) - b1_y1.minimum(b2_y1)
    c2 = cw.pow(2) + ch.pow(2) + eps
    rho2 = ((b2_x1 + b2_x2 - b1_x1 - b1_x2).pow(2) + (b2_y1 + b2_y2 - b1_y1 - b1_y2).pow(2)) / 4
    v = (4 / math.pi**2) * ((w2 / h2).atan() - (w1 / h1).atan()).pow(2)
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return (1 - (iou - (rho2 / c2 + v * alpha))).mean()


def box_forms():
    """(name, baseline, focal.torch) per row: the baseline's mean loss of
    (pred, target); focal.torch's the same, or None when this binding has no
    box losses."""
    import torchvision.ops as tvo
    import focal.torch as ft
    has = hasattr(ft, "complete_box_iou_loss")
    forms = []
    for name in ("generalized", "distance", "complete"):
        fn = f"{name}_box_iou_loss"
        forms.append((f"tv {name[0]}iou", lambda p, t, fn=fn: getattr(tvo, fn)(p, t, "mean"),
                      (lambda p, t, fn=fn: getattr(ft, fn)(p, t, "mean")) if has else None))
    forms.append(("ul ciou", ultralytics_ciou_loss,
                  (lambda p, t: ft.box_iou_loss(p, t, "ciou", "ultralytics")) if has else None))
    return forms


def box_step(loss_fn, pred, target):
    def step():
        pred.grad = None
        loss = loss_fn(pred, target)
        loss.backward()
        return loss
    return step


def box_table(counts, budget, rng, compile_it):
    forms = box_forms()
    na = compile_unavailable()
    cw = max(9, len(f"n/a ({na})") if na else 0)
    print("\nbox: median ms per forward+backward of the mean loss over n boxes; "
          "baseline = torchvision's function / Ultralytics' bbox_iou expression")
    header = f"{'form':>8} {'n':>5}"
    for k in counts:
        header += (f" {f'base {k}T':>9} {f'comp {k}T':>{cw}} {f'focal {k}T':>10}"
                   f" {'b/f':>7} {'c/f':>7}")
    print(header)
    print("-" * len(header))
    notes = []
    for size, n in BOX_SIZES.items():
        pred, target = box_inputs(rng, n)
        for name, base, ours in forms:
            if ours is None:
                print(f"{name:>8} {size:>5} focal.torch has no box losses (a binding older "
                      f"than 1.5): skipped")
                continue
            pred.grad = None
            ref = base(pred, target)
            ref.backward()
            ref_grad, pred.grad = pred.grad.clone(), None
            got = ours(pred, target)
            got.backward()
            loss_diff = abs(float(got.detach()) - float(ref.detach())) / abs(float(ref.detach()))
            grad_diff = float((pred.grad - ref_grad).abs().max() / ref_grad.abs().max())
            pred.grad = None
            if not (loss_diff < 1e-5 and grad_diff < 1e-4):
                sys.exit(f"compare_torch: {name} at {size}: focal.torch and the baseline "
                         f"disagree (loss rel {loss_diff:.1e}, gradient {grad_diff:.1e})")
            row = f"{name:>8} {size:>5}"
            for k in counts:
                set_threads(k)
                tb = median_time(box_step(base, pred, target), budget)
                tc = compiled_cell(na, compile_it and size == BOX_COMPILED_AT,
                                   lambda f: box_step(f, pred, target), base,
                                   box_step(base, pred, target), pred, budget, notes,
                                   f"{name} {size} {k}T")
                tf = median_time(box_step(ours, pred, target), budget)
                row += (f" {tb * 1e3:9.3f} {cell(tc, cw)} {tf * 1e3:10.3f}"
                        f" {tb / tf:6.1f}x {ratio(tc, tf, 7)}")
            set_threads(1)
            print(row, flush=True)
    if notes:
        print("torch.compile (comp), per cell:" + "".join("\n  " + n for n in notes))


# YOLOv8's BboxLoss: batch 16 at 640 px, 8400 anchors an image, 10% foreground.
BBOX_BATCH, BBOX_ANCHORS, BBOX_FOREGROUND, BBOX_REG_MAX, BBOX_CLASSES = 16, 8400, 0.10, 16, 80


def bbox_inputs(rng):
    b, a, r = BBOX_BATCH, BBOX_ANCHORS, BBOX_REG_MAX
    # anchor points of the 80x80, 40x40 and 20x20 grids, in grid units
    points = [np.stack(np.meshgrid(np.arange(s) + 0.5, np.arange(s) + 0.5), -1).reshape(-1, 2)
              for s in (80, 40, 20)]
    anchors = torch.from_numpy(np.concatenate(points).astype(np.float32))
    centre = anchors.numpy()[None] + rng.uniform(-2, 2, (b, a, 2))
    half = rng.uniform(0.5, r / 2 - 1, (b, a, 2))
    target = np.concatenate([centre - half, centre + half], -1)
    pred = target + rng.standard_normal((b, a, 4)) * 0.5
    fg = rng.random((b, a)) < BBOX_FOREGROUND
    scores = (rng.random((b, a, BBOX_CLASSES)) < 0.02) * rng.random((b, a, BBOX_CLASSES))
    scores[~fg] = 0
    f32 = lambda v: torch.from_numpy(v.astype(np.float32))  # noqa: E731
    dist = torch.from_numpy((rng.standard_normal((b, a, 4 * r)) * 3).astype(np.float32))
    scores_t = f32(scores)
    # imgsz and the anchors' strides: Ultralytics 8.4's forward takes them (its
    # L1 term for reg_max 1 reads them; the DFL term here does not)
    stride = torch.cat([torch.full((len(p), 1), float(s)) for p, s in zip(points, (8, 16, 32))])
    return (dist.requires_grad_(), f32(pred).requires_grad_(), anchors, f32(target), scores_t,
            scores_t.sum().clamp(min=1), torch.from_numpy(fg), torch.tensor([640.0, 640.0]),
            stride)


def ultralytics_bbox_loss():
    """Ultralytics' own BboxLoss where the package imports, else its 8.4
    expression; and which one."""
    try:
        from ultralytics.utils.loss import BboxLoss
        import ultralytics
        return BboxLoss(BBOX_REG_MAX), f"ultralytics {ultralytics.__version__}"
    except ImportError:
        sys.path.insert(0, str(HERE / "python" / "tests"))
        import _yolo_reference
        return _yolo_reference.BboxLoss(BBOX_REG_MAX), "Ultralytics 8.4's expression"


def bbox_step(module, inputs):
    dist, pred = inputs[0], inputs[1]

    def step():
        dist.grad = pred.grad = None
        loss_iou, loss_dfl = module(*inputs)
        loss = loss_iou + loss_dfl
        loss.backward()
        return loss
    return step


def bbox_table(counts, budget, rng):
    try:
        from focal.torch.yolo import BboxLoss as FocalBboxLoss
    except ImportError:
        print("\nbbox: focal.torch.yolo has no BboxLoss (a binding older than 1.5): skipped")
        return
    inputs = bbox_inputs(rng)
    theirs, which = ultralytics_bbox_loss()
    ours = FocalBboxLoss(BBOX_REG_MAX)
    print(f"\nbbox: YOLOv8 BboxLoss, batch {BBOX_BATCH}, {BBOX_ANCHORS} anchors, "
          f"{int(inputs[6].sum())} foreground, reg_max {BBOX_REG_MAX}; loss_iou + loss_dfl, "
          f"backward; median ms; baseline: {which}")
    ref_step, our_step = bbox_step(theirs, inputs), bbox_step(ours, inputs)
    ref = float(ref_step().detach())
    ref_grads = [inputs[0].grad.clone(), inputs[1].grad.clone()]
    got = float(our_step().detach())
    diffs = [float((g - r).abs().max() / r.abs().max())
             for g, r in zip((inputs[0].grad, inputs[1].grad), ref_grads)]
    print(f"agreement: loss {got:.7g} vs {ref:.7g} (rel {abs(got - ref) / abs(ref):.1e}), "
          f"gradient max diff {max(diffs):.1e} of max |grad|")
    if not (abs(got - ref) / abs(ref) < 1e-5 and max(diffs) < 1e-4):
        sys.exit("compare_torch: focal.torch.yolo.BboxLoss and Ultralytics' disagree")
    ultralytics_rows(counts, budget, ref_step, our_step, "ul/focal")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ",".join(SIZES))
    parser.add_argument("--cases", default="flat,detector,yolo,dfl,box,bbox",
                        help="comma list of flat, detector, yolo, dfl, box, bbox (default: all)")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per cell (default 1)")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1M, 0.2 s per cell")
    parser.add_argument("--compile", default="16K,1M,16M,detector,dfl,box",
                        help="flat sizes and/or 'detector', 'dfl', 'box' that also time "
                             "torch.compile of the baselines, 'all' or 'none' "
                             "(default: 16K,1M,16M,detector,dfl,box; needs torch >= 2)")
    args = parser.parse_args()
    names = args.sizes.split(",")
    cases = args.cases.split(",")
    if set(cases) - {"flat", "detector", "yolo", "dfl", "box", "bbox"}:
        parser.error(f"unknown case in --cases {args.cases!r}")
    if set(names) - set(SIZES):
        parser.error(f"unknown size in --sizes {args.sizes!r}")
    compile_names = {"all": set(SIZES) | {"detector", "dfl", "box"}, "none": set()}.get(
        args.compile, set(args.compile.split(",")))
    if compile_names - set(SIZES) - {"detector", "dfl", "box"}:
        parser.error(f"unknown size or case in --compile {args.compile!r}")
    if args.quick:
        names, args.budget = [n for n in names if SIZES[n] <= SIZES["1M"]], 0.2

    load_modules()
    import torchvision
    cpus = os.cpu_count() or 1
    counts = [1] if cpus == 1 else [1, cpus]
    na = compile_unavailable()
    print(f"libfocal {focal.version()} ({focal.isa()}), torch {torch.__version__}, "
          f"torchvision {torchvision.__version__}, {cpus} CPUs; torch.compile: "
          f"{'n/a (' + na + ')' if na else 'default settings (Inductor)'}")
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average {load:.2f} before starting: the multi-thread "
              f"columns are unreliable on a busy machine")
    rng = np.random.default_rng(0)
    if "flat" in cases:
        flat_table(names, counts, args.budget, rng, compile_names)
    if "detector" in cases:
        if focal.version_info < (1, 1, 0):
            print("detector: skipped (needs libfocal >= 1.1 for labels)")
        else:
            detector_table(counts, args.budget, rng, "detector" in compile_names)
    if "yolo" in cases:
        if focal.version_info < (1, 2, 0):
            print("yolo: skipped (needs libfocal >= 1.2 for pos_weight)")
        else:
            yolo_table(counts, args.budget, rng)
    if "dfl" in cases:
        dfl_table(counts, args.budget, rng, "dfl" in compile_names)
    if "box" in cases:
        box_table(counts, args.budget, rng, "box" in compile_names)
    if "bbox" in cases:
        bbox_table(counts, args.budget, rng)


if __name__ == "__main__":
    main()
