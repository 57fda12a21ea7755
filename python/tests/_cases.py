# SPDX-License-Identifier: MIT
"""Every public loss of focal.torch as a function of the logits, for the tests
that must cover each one (torch.compile, mixed precision): one table, so a
new function or module is added once."""

import pytest
import torch
import torch.nn as nn

import focal.torch as ft
from focal import _lib, _spec
from focal.torch import yolo

R, C = 48, 20  # rows, classes


def data(seed=0, rows=R, classes=C):
    g = torch.Generator().manual_seed(seed)
    hard = (torch.rand(rows, classes, generator=g) < 0.15).float()
    return {
        "x": torch.randn(rows, classes, generator=g) * 3,
        "hard": hard,
        "soft": torch.rand(rows, classes, generator=g) * hard,
        "labels": torch.randint(-1, classes + 1, (rows,), generator=g),
        "softmax_labels": torch.randint(-1, classes, (rows,), generator=g),
        "row_weight": torch.rand(rows, generator=g),
        "class_alpha": torch.rand(classes, generator=g),
        "pos_weight": torch.rand(classes, generator=g) * 3,
        "elem_pos_weight": torch.rand(rows, classes, generator=g) * 3,
        "score": torch.rand(rows, generator=g),
        # DFL targets in [0, classes - 1), multiples of 1/8: bfloat16 values
        "dist": torch.randint(0, (classes - 1) * 8, (rows,), generator=g) / 8.0,
        # DFLoss's (rows / 4, 4) box distances, some beyond the clamp's bounds
        "ltrb": torch.rand(rows // 4, 4, generator=g) * (classes + 2) - 1.0,
        # target boxes for the logits taken 4 at a time as boxes (boxes_of),
        # one weight per box; regression targets for smooth L1
        "boxes": torch.randn(rows * classes // 4, 4, generator=g) * 3,
        "box_weight": torch.rand(rows * classes // 4, generator=g),
        "values": torch.randn(rows, classes, generator=g) * 3,
    }


# The logits, 4 at a time, as boxes x1 y1 x2 y2: about half of them
# inverted, which every box loss takes (its expression's value, NaN where
# that divides 0 by 0); no arithmetic, so a low-precision case rounds
# nothing but its inputs, in the forward or the backward.
def boxes_of(x):
    return x.reshape(-1, 4)


def _anchor_points(n):
    """n anchor points on a grid of half units (every value exact in bfloat16
    and float16, so a low-precision case rounds nothing here)."""
    i = torch.arange(n)
    return torch.stack(((i % 12) * 0.5 - 3.0, (i // 12) * 2.0 - 1.0), 1)


def _valid(boxes):
    """x1 <= x2, y1 <= y2 by exchanging the corners (no arithmetic)."""
    return torch.cat((torch.minimum(boxes[:, :2], boxes[:, 2:]),
                      torch.maximum(boxes[:, :2], boxes[:, 2:])), 1)


def bbox_loss_case(x, d, reg_max):
    """Ultralytics' BboxLoss on the logits: 2 images of R / 2 anchors,
    pred_dist the first 4 * reg_max logits of a row (reg_max 4: the DFL; 1:
    8.4's L1 of the distances, with imgsz and stride), pred_bboxes its last
    4 as a box; targets from d (the even labels' anchors in the foreground).
    Its two terms as one tensor (stacking rounds nothing)."""
    b, a = 2, R // 2
    pred_dist = x[:, :4 * reg_max].reshape(b, a, 4 * reg_max)
    pred_bboxes = _valid(x[:, C - 4:]).reshape(b, a, 4)
    target_bboxes = _valid(d["boxes"][:R]).reshape(b, a, 4)
    target_scores = d["soft"].reshape(b, a, C)
    fg_mask = (d["labels"] % 2 == 0).reshape(b, a)
    step = {}
    if reg_max == 1:
        step = {"imgsz": torch.tensor([48.0, 64.0]),
                "stride": torch.tensor([8.0] * (a // 2) + [16.0] * (a - a // 2)).unsqueeze(1)}
    loss_iou, loss_dfl = yolo.BboxLoss(reg_max)(
        pred_dist, pred_bboxes, _anchor_points(a).to(x.dtype), target_bboxes, target_scores,
        torch.tensor(6.5), fg_mask, **step)
    return torch.stack((loss_iou, loss_dfl.to(loss_iou.dtype)))


# name -> loss(x, d, reduction): every public function and module, with the
# options that take another path through the wrapper.
CASES = {
    "sigmoid_focal_loss": lambda x, d, r: ft.sigmoid_focal_loss(x, d["hard"], reduction=r),
    "sigmoid_focal_loss_soft": lambda x, d, r: ft.sigmoid_focal_loss(x, d["soft"], 0.4, 1.5,
                                                                     r),
    "sigmoid_focal_loss_labels": lambda x, d, r: ft.sigmoid_focal_loss_labels(
        x, d["labels"], reduction=r, normalizer=3.0, label_smoothing=0.1,
        class_alpha=d["class_alpha"], weight=d["row_weight"], pos_weight=d["pos_weight"]),
    "sigmoid_focal_loss_dense": lambda x, d, r: ft.sigmoid_focal_loss_dense(
        x, d["soft"], reduction=r, weight=d["row_weight"], pos_weight=d["pos_weight"]),
    "softmax_focal_loss": lambda x, d, r: ft.softmax_focal_loss(
        x, d["softmax_labels"], reduction=r, class_alpha=d["class_alpha"],
        weight=d["row_weight"]),
    "quality_focal_loss": lambda x, d, r: ft.quality_focal_loss(x, d["soft"], reduction=r),
    "quality_focal_loss_yolo": lambda x, d, r: ft.quality_focal_loss(
        x, d["soft"], 1.5, r, pos_weight=d["elem_pos_weight"], alpha=0.25),
    "varifocal_loss": lambda x, d, r: ft.varifocal_loss(x, d["soft"], reduction=r,
                                                        weight=d["elem_pos_weight"]),
    "mmdet.FocalLoss": lambda x, d, r: ft.FocalLoss(reduction=r)(x, d["labels"],
                                                                d["row_weight"]),
    "mmdet.FocalLoss_avg_number": lambda x, d, r: ft.FocalLoss(reduction=r)(
        x, d["hard"], avg_factor=7.0) if r != "sum" else ft.FocalLoss()(x, d["hard"]),
    "mmdet.FocalLoss_avg_tensor_4d": lambda x, d, r: ft.FocalLoss(reduction=r, loss_weight=2.0)(
        x.reshape(2, R // 2, 4, C // 4), d["hard"].reshape(2, R // 2, 4, C // 4),
        avg_factor=None if r == "sum" else torch.tensor(7.0)),
    "mmdet.QualityFocalLoss": lambda x, d, r: ft.QualityFocalLoss(reduction=r)(
        x, (d["labels"], d["score"]), d["row_weight"],
        avg_factor=None if r == "sum" else torch.tensor(5.0)),
    "mmdet.QualityFocalLoss_tensor": lambda x, d, r: ft.QualityFocalLoss(reduction=r)(
        x, d["soft"]),
    "mmdet.VarifocalLoss": lambda x, d, r: ft.VarifocalLoss(reduction=r)(
        x, d["soft"], avg_factor=None if r == "sum" else torch.tensor(3.0)),
    "mmdet.VarifocalLoss_iou_weighted_false": lambda x, d, r: ft.VarifocalLoss(
        iou_weighted=False, reduction=r)(x, d["soft"]),
    "yolo.FocalLoss": lambda x, d, r: yolo.FocalLoss(
        nn.BCEWithLogitsLoss(pos_weight=d["pos_weight"], reduction=r), 2.0)(x, d["soft"]),
    "yolo.QFocalLoss": lambda x, d, r: yolo.QFocalLoss(
        nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]), reduction=r))(x, d["soft"]),
    # libfocal 1.4
    "distribution_focal_loss": lambda x, d, r: ft.distribution_focal_loss(
        x, d["dist"], reduction=r, weight=d["row_weight"]),
    "distribution_focal_loss_normalizer": lambda x, d, r: ft.distribution_focal_loss(
        x, d["dist"], r, normalizer=6.0),
    "mmdet.DistributionFocalLoss": lambda x, d, r: ft.DistributionFocalLoss(
        reduction=r, loss_weight=0.25)(x, d["dist"], d["row_weight"],
                                       avg_factor=None if r == "sum" else torch.tensor(4.0)),
    "mmdet.DistributionFocalLoss_avg_number": lambda x, d, r: ft.DistributionFocalLoss(
        reduction=r)(x, d["dist"], avg_factor=None if r == "sum" else 4.0),
    # DFLoss has no reduction: its (n, 1) mean over the sides for each
    "yolo.DFLoss": lambda x, d, r: yolo.DFLoss(C)(x, d["ltrb"]),
    # libfocal 1.5
    "box_iou_loss": lambda x, d, r: ft.box_iou_loss(
        boxes_of(x), d["boxes"], reduction=r, weight=d["box_weight"]),
    "box_iou_loss_mmdet_giou": lambda x, d, r: ft.box_iou_loss(
        boxes_of(x), d["boxes"], "giou", "mmdet", reduction=r, normalizer=5.0),
    "box_iou_loss_ultralytics_ciou": lambda x, d, r: ft.box_iou_loss(
        boxes_of(x), d["boxes"], "ciou", "ultralytics", eps=0.01, reduction=r),
    "box_iou_loss_mmdet_iou_log": lambda x, d, r: ft.box_iou_loss(
        boxes_of(x), d["boxes"], "iou_log", "mmdet", reduction=r),
    "generalized_box_iou_loss": lambda x, d, r: ft.generalized_box_iou_loss(
        boxes_of(x), d["boxes"], r),
    "distance_box_iou_loss": lambda x, d, r: ft.distance_box_iou_loss(
        boxes_of(x), d["boxes"], r, eps=0.5),
    "complete_box_iou_loss": lambda x, d, r: ft.complete_box_iou_loss(
        boxes_of(x).reshape(2, -1, 4), d["boxes"].reshape(2, -1, 4), r),
    "smooth_l1_loss": lambda x, d, r: ft.smooth_l1_loss(
        x, d["values"], 1.0 / 9.0, r, weight=d["row_weight"].unsqueeze(1)),
    "smooth_l1_loss_l1": lambda x, d, r: ft.smooth_l1_loss(x, d["values"], 0.0, r,
                                                           normalizer=7.0),
    # Ultralytics' bbox_iou (its similarity, (..., 1)) and BboxLoss have no
    # reduction. Valid boxes (and sizes), whose similarities and gradients
    # stay well inside float16's range: xyxy, xywh (corners made in
    # torch), broadcast boxes
    "yolo.bbox_iou": lambda x, d, r: yolo.bbox_iou(_valid(boxes_of(x)), _valid(d["boxes"]),
                                                   xywh=False, CIoU=True),
    "yolo.bbox_iou_xywh_giou": lambda x, d, r: yolo.bbox_iou(
        boxes_of(x).abs().reshape(2, -1, 4), d["boxes"].abs().reshape(2, -1, 4), GIoU=True,
        eps=0.01),
    "yolo.bbox_iou_broadcast_diou": lambda x, d, r: yolo.bbox_iou(
        _valid(boxes_of(x)).reshape(2, -1, 1, 4), _valid(d["boxes"][:8]).reshape(2, 1, 4, 4),
        xywh=False, DIoU=True),
    "yolo.BboxLoss": lambda x, d, r: bbox_loss_case(x, d, 4),
    "yolo.BboxLoss_l1": lambda x, d, r: bbox_loss_case(x, d, 1),
    # mmdet's box modules, on valid boxes. A weight with no positive element
    # is mmdet's exit, a branch on the weight's values where the loss is not
    # 0-d: "none" goes without a weight where the module takes that exit
    # then (all but IoULoss).
    "mmdet.IoULoss": lambda x, d, r: ft.IoULoss(reduction=r)(
        _valid(boxes_of(x)), _valid(d["boxes"]), d["box_weight"]),
    "mmdet.IoULoss_square_avg_tensor": lambda x, d, r: ft.IoULoss(
        mode="square", reduction=r, loss_weight=2.0)(
        _valid(boxes_of(x)), _valid(d["boxes"]),
        avg_factor=None if r == "sum" else torch.tensor(9.0)),
    "mmdet.GIoULoss": lambda x, d, r: ft.GIoULoss(reduction=r)(
        _valid(boxes_of(x)), _valid(d["boxes"]),
        None if r == "none" else d["box_weight"], avg_factor=None if r == "sum" else 11.0),
    "mmdet.DIoULoss": lambda x, d, r: ft.DIoULoss(reduction=r, loss_weight=0.5)(
        _valid(boxes_of(x)), _valid(d["boxes"])),
    "mmdet.CIoULoss": lambda x, d, r: ft.CIoULoss(reduction=r)(
        _valid(boxes_of(x)), _valid(d["boxes"]),
        None if r == "none" else d["box_weight"].unsqueeze(1).expand(-1, 4)),
    "mmdet.SmoothL1Loss": lambda x, d, r: ft.SmoothL1Loss(beta=1.0 / 9.0, reduction=r)(
        x, d["values"], None if r == "none" else d["row_weight"].unsqueeze(1)),
    "mmdet.L1Loss": lambda x, d, r: ft.L1Loss(reduction=r)(
        x, d["values"], avg_factor=None if r == "sum" else torch.tensor(5.0)),
}

# The cases that need a libfocal entry point newer than the 1.1 family.
def _needs(name):
    """The entry points (focal/_spec.py names) newer than the 1.1 family that
    a case calls."""
    needs = set()
    if "istribution" in name or "DFL" in name or "BboxLoss" in name:
        needs.add("distribution_focal")
    if "box" in name.lower() or "IoU" in name:
        needs.add("box_iou")
    if "l1" in name.lower():
        needs.add("smooth_l1")
    return needs


def skip_unavailable(name):
    """pytest.skip for a case whose library call the loaded libfocal lacks."""
    for entry in sorted(_needs(name)):
        if not _lib.has(entry):
            e = _spec.entry(entry)
            pytest.skip(f"{name} needs {_spec.release(e)}")
