# SPDX-License-Identifier: MIT
"""The functions of focal.torch: torchvision's sigmoid_focal_loss and the
loss family (labels, dense, softmax, quality focal, varifocal, distribution
focal), each with its
torch.ops.focal operator (see the package's docstring)."""

from typing import Optional

import torch
from torch import Tensor

from .. import _lib
from .. import _spec
from ._core import (_box_run, _box_tensor, _check, _check_bins, _check_tensor, _dfl_run,
                    _dfl_targets, _f32, _fused, _labels_tensor, _pair_run, _register, _require,
                    _rows, _soft, _SigmoidFocalLoss, _check_rows, _vector)

__all__ = ["distribution_focal_loss", "quality_focal_loss", "sigmoid_focal_loss",
           "sigmoid_focal_loss_dense", "sigmoid_focal_loss_labels", "softmax_focal_loss",
           "varifocal_loss"]


# Each public function below is the one place its operator's arguments are
# listed: _register derives torch.ops.focal.<name>'s schema from its
# signature (_core._schema_of). An argument added in a later release goes
# last, with a default, so that TorchScript models saved before it still
# call the operator without it (pos_weight of the labels / dense losses,
# pos_weight and alpha of the quality loss).


# ---- torchvision's sigmoid_focal_loss -------------------------------------------------


@torch.jit.unused
def _sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    red = _lib.reduction_code(reduction)
    _check(inputs, targets)
    return _fused("flat", (inputs, targets, float(alpha), float(gamma), red),
                  torch.promote_types(inputs.dtype, targets.dtype), _SigmoidFocalLoss)


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2,
                       reduction: str = "none") -> Tensor:
    """Focal loss of Lin et al. (2017), torchvision semantics, via libfocal.

    inputs: float32 logits of any shape; targets: float32, same shape, in [0, 1].
    alpha: weight of the positive class (< 0: no weighting); gamma: focusing
    exponent; reduction: "none" | "mean" | "sum". Returns a float32 tensor.
    A bad reduction is a ValueError ("Invalid value ..."), as torchvision's.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        # torch 1.13's TorchScript interpreter drops the message of an
        # exception raised in a Python kernel: check here, as torchvision does.
        if reduction not in ["none", "mean", "sum"]:
            raise ValueError("Invalid value for arg 'reduction': '" + reduction
                             + "' (supported: 'none', 'mean', 'sum')")
        return torch.ops.focal.sigmoid_focal_loss(inputs, targets, float(alpha), float(gamma),
                                                  reduction)
    return _sigmoid_focal_loss(inputs, targets, alpha, gamma, reduction)


_register(sigmoid_focal_loss, _sigmoid_focal_loss)


@torch.jit.unused
def _sigmoid_focal_loss_labels(inputs, labels, alpha=0.25, gamma=2.0, reduction="mean",
                               normalizer=0.0, label_smoothing=0.0, class_alpha=None,
                               weight=None, pos_weight=None):
    return _rows(True, inputs, labels, alpha, gamma, reduction, normalizer, label_smoothing,
                 class_alpha, weight, pos_weight)


@torch.jit.unused
def _sigmoid_focal_loss_dense(inputs, targets, alpha=0.25, gamma=2.0, reduction="mean",
                              normalizer=0.0, label_smoothing=0.0, class_alpha=None,
                              weight=None, pos_weight=None):
    return _rows(False, inputs, targets, alpha, gamma, reduction, normalizer, label_smoothing,
                 class_alpha, weight, pos_weight)


def sigmoid_focal_loss_labels(inputs: Tensor, labels: Tensor, alpha: float = 0.25,
                              gamma: float = 2.0, reduction: str = "mean",
                              normalizer: float = 0.0, label_smoothing: float = 0.0,
                              class_alpha: Optional[Tensor] = None,
                              weight: Optional[Tensor] = None,
                              pos_weight: Optional[Tensor] = None) -> Tensor:
    """Focal loss of (rows, classes) logits against one class index per row.

    inputs: float32 CPU tensor (rows, classes). labels: integer tensor (rows,):
    c in [0, classes) is the positive class of the row, classes is background,
    < 0 ignores the row (loss and gradient 0, not counted by "mean"), > classes
    is a ValueError. normalizer > 0: "sum" and "mean" divide by it (0: the
    default divisor). label_smoothing in [0, 1): t -> t (1 - ls) + ls / 2.
    class_alpha: (classes,) alpha per class in [0, 1] (replaces alpha).
    weight: (rows,) weight of each row. pos_weight: (classes,) BCE positive
    weights >= 0, as torch's BCEWithLogitsLoss(pos_weight=...). Returns a
    tensor (rows, classes) for "none", 0-d otherwise, in inputs' dtype. See
    focal.sigmoid_labels.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.sigmoid_focal_loss_labels(
            inputs, labels, float(alpha), float(gamma), reduction, float(normalizer),
            float(label_smoothing), class_alpha, weight, pos_weight)
    return _sigmoid_focal_loss_labels(inputs, labels, alpha, gamma, reduction, normalizer,
                                      label_smoothing, class_alpha, weight, pos_weight)


_register(sigmoid_focal_loss_labels, _sigmoid_focal_loss_labels)


def sigmoid_focal_loss_dense(inputs: Tensor, targets: Tensor, alpha: float = 0.25,
                             gamma: float = 2.0, reduction: str = "mean",
                             normalizer: float = 0.0, label_smoothing: float = 0.0,
                             class_alpha: Optional[Tensor] = None,
                             weight: Optional[Tensor] = None,
                             pos_weight: Optional[Tensor] = None) -> Tensor:
    """sigmoid_focal_loss_labels with dense float32 targets in [0, 1] shaped like inputs."""
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.sigmoid_focal_loss_dense(
            inputs, targets, float(alpha), float(gamma), reduction, float(normalizer),
            float(label_smoothing), class_alpha, weight, pos_weight)
    return _sigmoid_focal_loss_dense(inputs, targets, alpha, gamma, reduction, normalizer,
                                     label_smoothing, class_alpha, weight, pos_weight)


_register(sigmoid_focal_loss_dense, _sigmoid_focal_loss_dense)


# ---- 1.1: softmax focal, quality focal, varifocal ------------------------------


@torch.jit.unused
def _softmax_focal_loss(inputs, labels, alpha=0.25, gamma=2.0, reduction="mean",
                        normalizer=0.0, label_smoothing=0.0, class_alpha=None, weight=None):
    _require("softmax_labels", "focal.torch.softmax_focal_loss")
    red = _lib.reduction_code(reduction)
    _check_rows(inputs)
    rows, classes = inputs.shape
    t = _labels_tensor(labels, rows, classes)
    class_alpha = _vector(class_alpha, classes, "class_alpha", "one alpha per class")
    weight = _vector(weight, rows, "weight", "one weight per row")
    return _fused("softmax", (inputs, t, float(alpha), float(gamma), red, float(normalizer),
                              float(label_smoothing), class_alpha, weight), inputs.dtype)


def softmax_focal_loss(inputs: Tensor, labels: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "mean", normalizer: float = 0.0,
                       label_smoothing: float = 0.0, class_alpha: Optional[Tensor] = None,
                       weight: Optional[Tensor] = None) -> Tensor:
    """Softmax focal loss of (rows, classes) logits against one class index per row.

    labels: integer tensor (rows,) in [0, classes); < 0 ignores the row;
    >= classes is a ValueError. a_c = class_alpha[c], else alpha (< 0: 1).
    Returns a float32 tensor: (rows,) for "none", 0-d otherwise. See
    focal.softmax_labels.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.softmax_focal_loss(
            inputs, labels, float(alpha), float(gamma), reduction, float(normalizer),
            float(label_smoothing), class_alpha, weight)
    return _softmax_focal_loss(inputs, labels, alpha, gamma, reduction, normalizer,
                               label_smoothing, class_alpha, weight)


_register(softmax_focal_loss, _softmax_focal_loss)


@torch.jit.unused
def _quality_focal_loss(inputs, scores, gamma=2.0, reduction="mean", normalizer=0.0,
                        weight=None, pos_weight=None, alpha=None):
    flags = 0 if alpha is None else _lib.FLAG_QUALITY_ALPHA
    return _soft("quality", inputs, scores, 0.0 if alpha is None else alpha, gamma, reduction,
                 normalizer, weight, pos_weight, flags)


@torch.jit.unused
def _varifocal_loss(inputs, scores, alpha=0.75, gamma=2.0, reduction="mean", normalizer=0.0,
                    weight=None):
    return _soft("varifocal", inputs, scores, alpha, gamma, reduction, normalizer, weight)


def quality_focal_loss(inputs: Tensor, scores: Tensor, gamma: float = 2.0,
                       reduction: str = "mean", normalizer: float = 0.0,
                       weight: Optional[Tensor] = None, pos_weight: Optional[Tensor] = None,
                       alpha: Optional[float] = None) -> Tensor:
    """Quality focal loss (GFL): |scores - sigmoid(inputs)|^gamma BCE(inputs, scores).

    inputs, scores: CPU tensors of one shape, scores in [0, 1];
    weight: per element (shaped like inputs), or None. mmdet's
    quality_focal_loss with beta = gamma, without detaching anything; but
    "mean" divides by every element (mmdet's QualityFocalLoss divides by the
    rows: it sums over classes first, as the module here does).

    Ultralytics' QFocalLoss: pos_weight (shaped like inputs, >= 0) weighs the
    positive part of the BCE, pw s softplus(-x) + (1 - s) softplus(x); alpha,
    when not None, multiplies the loss by a_t = alpha s + (1 - alpha)(1 - s)
    (alpha < 0: a_t = 1). None for both is mmdet's loss. See focal.quality_focal.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.quality_focal_loss(inputs, scores, float(gamma), reduction,
                                                  float(normalizer), weight, pos_weight, alpha)
    return _quality_focal_loss(inputs, scores, gamma, reduction, normalizer, weight, pos_weight,
                               alpha)


_register(quality_focal_loss, _quality_focal_loss)


def varifocal_loss(inputs: Tensor, scores: Tensor, alpha: float = 0.75, gamma: float = 2.0,
                   reduction: str = "mean", normalizer: float = 0.0,
                   weight: Optional[Tensor] = None) -> Tensor:
    """Varifocal loss (VFNet): w BCE(inputs, scores), w = scores where > 0, else
    alpha sigmoid(inputs)^gamma. mmdet's varifocal_loss (iou_weighted=True);
    as there, w is not detached: the gradient is the full derivative.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.varifocal_loss(inputs, scores, float(alpha), float(gamma),
                                              reduction, float(normalizer), weight)
    return _varifocal_loss(inputs, scores, alpha, gamma, reduction, normalizer, weight)


_register(varifocal_loss, _varifocal_loss)


# ---- 1.4: Distribution Focal Loss ------------------------------------------------


@torch.jit.unused
def _distribution_focal_loss(inputs, targets, reduction="mean", normalizer=0.0, weight=None):
    _require("distribution_focal", "focal.torch.distribution_focal_loss")
    red = _lib.reduction_code(reduction)
    _check_bins(inputs)
    rows = inputs.shape[0]
    t = _dfl_targets(targets, rows)
    weight = _vector(weight, rows, "weight", "one weight per row")
    return _dfl_run(inputs, t, red, normalizer, weight, None,
                    torch.promote_types(inputs.dtype, targets.dtype))


def distribution_focal_loss(inputs: Tensor, targets: Tensor, reduction: str = "mean",
                            normalizer: float = 0.0,
                            weight: Optional[Tensor] = None) -> Tensor:
    """Distribution Focal Loss (GFL) of (rows, bins) logits against one
    continuous target per row (libfocal >= 1.4).

    loss_r = wl CE(inputs[r], l) + wr CE(inputs[r], l + 1), l = floor(t),
    wl = l + 1 - t, wr = t - l: mmdet's distribution_focal_loss.
    targets: (rows,) tensor in [0, bins - 1) (float32, bfloat16, float16 or
    integers; no gradient). weight: (rows,) weight of each row, or None.
    "mean" divides by rows unless normalizer > 0. Returns (rows,) for
    "none", 0-d otherwise, in the promoted dtype of inputs and targets. A
    target that is NaN or outside [0, bins - 1) is a focal.FocalError
    (ValueError). See focal.distribution_focal.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.distribution_focal_loss(inputs, targets, reduction,
                                                       float(normalizer), weight)
    return _distribution_focal_loss(inputs, targets, reduction, normalizer, weight)


_register(distribution_focal_loss, _distribution_focal_loss)


# ---- 1.5: box regression losses --------------------------------------------------


@torch.jit.unused
def _boxes(pred, target, loss, convention, eps, reduction, normalizer, weight, what, divisor=None):
    """The fused box loss of (..., 4) pred against target: (...) for "none"."""
    _require("box_iou", what)
    kind, conv = _spec.box_codes(loss, convention)
    red = _lib.reduction_code(reduction)
    pred = _box_tensor("pred", pred)
    target = _box_tensor("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target differ in shape: {tuple(pred.shape)} vs "
                         f"{tuple(target.shape)}")
    lead = tuple(pred.shape[:-1])
    boxes = pred.numel() // 4
    if eps is None:
        eps = _spec.BOX_DEFAULT_EPS[convention]
    weight = _vector(None if weight is None else torch.as_tensor(weight).reshape(-1), boxes,
                     "weight", "one weight per box")
    out = _box_run(pred.reshape(boxes, 4), _f32(target).reshape(boxes, 4), kind, conv, eps, red,
                   normalizer, weight, divisor,
                   torch.promote_types(pred.dtype, target.dtype))
    return out.reshape(lead) if red == 0 else out


def box_iou_loss(pred: Tensor, target: Tensor, loss: str = "ciou",
                 convention: str = "torchvision", eps: Optional[float] = None,
                 reduction: str = "mean", normalizer: float = 0.0,
                 weight: Optional[Tensor] = None) -> Tensor:
    """An IoU-family box regression loss of (..., 4) boxes x1, y1, x2, y2
    (libfocal >= 1.5): loss "iou", "iou_square", "iou_log", "giou", "diou"
    or "ciou", in torchvision's, Ultralytics' or mmdet's convention (eps
    placement and clamps, docs/DESIGN.md §2.8; eps None: that library's
    default). weight: one per box, or None. "mean" divides by the boxes
    unless normalizer > 0. Returns (...) for "none", 0-d otherwise. target
    and weight get no gradient. See focal.box_iou_loss.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.box_iou_loss(pred, target, loss, convention, eps, reduction,
                                            float(normalizer), weight)
    return _boxes(pred, target, loss, convention, eps, reduction, normalizer, weight,
                  "focal.torch.box_iou_loss")


@torch.jit.unused
def _box_iou_loss(pred, target, loss="ciou", convention="torchvision", eps=None,
                  reduction="mean", normalizer=0.0, weight=None):
    return _boxes(pred, target, loss, convention, eps, reduction, normalizer, weight,
                  "focal.torch.box_iou_loss")


_register(box_iou_loss, _box_iou_loss)


# torchvision.ops' box losses, same signatures and semantics (0.15+): boxes
# (..., 4), reduction "none" by default, eps 1e-7; torchvision's expressions
# in float64 and this library's agree to float32 rounding (DESIGN §2.8).


def generalized_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                             eps: float = 1e-7) -> Tensor:
    """torchvision.ops.generalized_box_iou_loss, fused (libfocal >= 1.5)."""
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.generalized_box_iou_loss(boxes1, boxes2, reduction, float(eps))
    return _generalized_box_iou_loss(boxes1, boxes2, reduction, eps)


@torch.jit.unused
def _generalized_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    return _torchvision_box(boxes1, boxes2, "giou", reduction, eps,
                            "focal.torch.generalized_box_iou_loss")


def distance_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                          eps: float = 1e-7) -> Tensor:
    """torchvision.ops.distance_box_iou_loss, fused (libfocal >= 1.5)."""
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.distance_box_iou_loss(boxes1, boxes2, reduction, float(eps))
    return _distance_box_iou_loss(boxes1, boxes2, reduction, eps)


@torch.jit.unused
def _distance_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    return _torchvision_box(boxes1, boxes2, "diou", reduction, eps,
                            "focal.torch.distance_box_iou_loss")


def complete_box_iou_loss(boxes1: Tensor, boxes2: Tensor, reduction: str = "none",
                          eps: float = 1e-7) -> Tensor:
    """torchvision.ops.complete_box_iou_loss, fused (libfocal >= 1.5). As
    torchvision's, eps enters CIoU's alpha only; the DIoU part uses 1e-7."""
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.complete_box_iou_loss(boxes1, boxes2, reduction, float(eps))
    return _complete_box_iou_loss(boxes1, boxes2, reduction, eps)


@torch.jit.unused
def _complete_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    return _torchvision_box(boxes1, boxes2, "ciou", reduction, eps,
                            "focal.torch.complete_box_iou_loss")


@torch.jit.unused
def _torchvision_box(boxes1, boxes2, loss, reduction, eps, what):
    if reduction not in ("none", "mean", "sum"):
        # torchvision's message
        raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported "
                         f"reduction modes: 'none', 'mean', 'sum'")
    # torchvision's mean of no boxes is 0 (0.0 * loss.sum()), not NaN.
    if reduction == "mean" and boxes1.numel() == 0:
        return _boxes(boxes1, boxes2, loss, "torchvision", eps, "sum", 0.0, None, what)
    return _boxes(boxes1, boxes2, loss, "torchvision", eps, reduction, 0.0, None, what)


for _fn, _impl in ((generalized_box_iou_loss, _generalized_box_iou_loss),
                   (distance_box_iou_loss, _distance_box_iou_loss),
                   (complete_box_iou_loss, _complete_box_iou_loss)):
    _register(_fn, _impl)


@torch.jit.unused
def _smooth_l1(pred, target, beta, reduction, normalizer, weight, what, divisor=None):
    _require("smooth_l1", what)
    red = _lib.reduction_code(reduction)
    _check_tensor("pred", pred)
    _check_tensor("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target differ in shape: {tuple(pred.shape)} vs "
                         f"{tuple(target.shape)}")
    n = pred.numel()
    if weight is not None:
        weight = _vector(torch.as_tensor(weight).expand(pred.shape).reshape(-1), n, "weight",
                         "one weight per element")
    return _pair_run(pred, _f32(target), beta, red, normalizer, weight, divisor,
                     torch.promote_types(pred.dtype, target.dtype))


def smooth_l1_loss(pred: Tensor, target: Tensor, beta: float = 1.0, reduction: str = "mean",
                   normalizer: float = 0.0, weight: Optional[Tensor] = None) -> Tensor:
    """Smooth L1 (torch.nn.functional.smooth_l1_loss, mmdet's SmoothL1Loss)
    and, with beta = 0, L1, element-wise over pred and target of one shape
    (libfocal >= 1.5). weight: broadcast to pred's shape, or None. "mean"
    divides by the element count unless normalizer > 0. Returns pred's shape
    for "none", 0-d otherwise. target and weight get no gradient.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.smooth_l1_loss(pred, target, float(beta), reduction,
                                              float(normalizer), weight)
    return _smooth_l1(pred, target, beta, reduction, normalizer, weight,
                      "focal.torch.smooth_l1_loss")


@torch.jit.unused
def _smooth_l1_loss(pred, target, beta=1.0, reduction="mean", normalizer=0.0, weight=None):
    return _smooth_l1(pred, target, beta, reduction, normalizer, weight,
                      "focal.torch.smooth_l1_loss")


_register(smooth_l1_loss, _smooth_l1_loss)
