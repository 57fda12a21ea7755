# SPDX-License-Identifier: MIT
"""mmdet 3.x's FocalLoss, QualityFocalLoss, VarifocalLoss and
DistributionFocalLoss, and its box regression losses IoULoss, GIoULoss,
DIoULoss, CIoULoss, SmoothL1Loss and L1Loss, on libfocal, with their
operators (see the package's docstring and each class's)."""

import warnings
from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from .. import _lib, _spec
from ._core import (_box_run, _box_tensor, _check_bins, _check_tensor, _compiling, _dfl_run,
                    _dfl_targets, _f32, _library_divisor, _pair_run, _register, _require,
                    _row_sums, _rows, _soft_run)
from .functional import _sigmoid_focal_loss

__all__ = ["CIoULoss", "DIoULoss", "DistributionFocalLoss", "FocalLoss", "GIoULoss", "IoULoss",
           "L1Loss", "QualityFocalLoss", "SmoothL1Loss", "VarifocalLoss"]


# ---- mmdet 3.x drop-ins ------------------------------------------------------------
#
# Each module's forward follows mmdet's: the loss per element (FocalLoss,
# VarifocalLoss) or per row (QualityFocalLoss sums over classes first;
# DistributionFocalLoss has one loss per row of bins), then
# weight_reduce_loss: loss * weight; with avg_factor, "mean" is
# loss.sum() / (avg_factor + eps), eps = torch.finfo(torch.float32).eps,
# "none" ignores it and "sum" is a ValueError; without it, torch's mean or sum.
# Where libfocal can apply the weight and reduce inside its pass (per-row
# weights for FocalLoss, QualityFocalLoss and DistributionFocalLoss,
# per-element weights for VarifocalLoss, all float32 and without gradient),
# it does; any other weight
# goes through torch exactly as mmdet's expression (broadcasting, dtype
# promotion, the weight's own gradient), on the fused per-element loss.

_EPS = torch.finfo(torch.float32).eps  # a Python float, as in weight_reduce_loss


def _mmdet_reduction_override(reduction_override, reduction):
    """mmdet's forward: the override asserted, then the reduction it picks."""
    if reduction_override not in (None, "none", "mean", "sum"):
        raise AssertionError(f"reduction_override must be None, 'none', 'mean' or 'sum' "
                             f"(as mmdet asserts), got {reduction_override!r}")
    return reduction_override if reduction_override else reduction


def _mmdet_reduction(reduction_override, reduction, avg_factor):
    reduction = _mmdet_reduction_override(reduction_override, reduction)
    if reduction not in _lib.REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if avg_factor is not None and reduction == "sum":
        raise ValueError('avg_factor can not be used with reduction="sum"')
    return reduction


def _weight_reduce(loss, weight, reduction, avg_factor):
    """mmdet's weight_reduce_loss, in torch."""
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss
    if reduction == "mean":
        return loss.sum() / (avg_factor + _EPS)
    return loss  # "none" ("sum" was refused by _mmdet_reduction)


def _fused_reduce(call, reduction, avg_factor):
    """weight_reduce_loss on a fused call(reduction, normalizer, divisor)
    that applies the weight itself.

    "mean" with avg_factor: the library divides its sum by the divisor
    avg_factor + eps (as torch computes it, rounded to float32 as torch's
    float32 division does) when that gives mmdet's dtype and shape, i.e.
    avg_factor is a number or a 0-d tensor that wants no gradient and makes a
    float32 divisor (a float64 one makes mmdet's loss float64); then the
    gradient needs no further pass. A tensor divisor goes into the call,
    which reads it (_divide_by): a compiled graph has no data-dependent
    branch here. Else (a (1,) tensor gives a (1,) loss in mmdet) torch
    divides the library's sum."""
    if avg_factor is None:
        return call(reduction, 0.0, None)
    if reduction == "mean":
        divisor = avg_factor + _EPS
        if not isinstance(divisor, torch.Tensor) and _compiling():
            # A traced number may be symbolic (avg_factor = float(n_pos)):
            # as a tensor the call reads it; float32 rounds it as above.
            divisor = torch.tensor(divisor, dtype=torch.float32)
        if not isinstance(divisor, torch.Tensor):
            f = _library_divisor(divisor)
            if f is not None:
                return call("sum", f, None)
        elif (divisor.dim() == 0 and divisor.dtype == torch.float32
              and divisor.device.type == "cpu" and not divisor.requires_grad):
            return call("sum", 0.0, divisor.detach())
        return call("sum", 0.0, None) / divisor
    return call("none", 0.0, None)


def _fast_weight(weight, shape):
    """True if weight (already shaped as mmdet leaves it) can go to the
    library: float32 on the CPU, no gradient wanted, the given shape."""
    return (weight.dtype == torch.float32 and weight.device.type == "cpu"
            and not weight.requires_grad and tuple(weight.shape) == tuple(shape))


def _split_avg_factor(avg_factor: Optional[Union[float, Tensor]]
                      ) -> Tuple[Optional[float], Optional[Tensor]]:
    # An operator argument has one type: a number and a tensor travel apart.
    if avg_factor is None:
        return None, None
    if isinstance(avg_factor, Tensor):
        return None, avg_factor
    return float(avg_factor), None


def _as_target(target, name="target", dtype=torch.float32):
    """target without gradient, contiguous, in dtype (mmdet's
    target.type_as(pred) when dtype is pred's)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(target).__name__}")
    if target.device.type != "cpu":
        raise ValueError(f"{name} must be on the CPU, got device {target.device}")
    return target.detach().to(dtype).contiguous()


@torch.jit.unused
def _mmdet_focal_loss(pred, target, weight, avg_factor, reduction_override, reduction, gamma,
                      alpha, loss_weight, activated):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    if activated:
        raise NotImplementedError(
            "FocalLoss(activated=True) (mmdet's focal loss of probabilities, "
            "py_focal_loss_with_prob): libfocal computes the loss from logits only")
    if not 0.0 <= alpha <= 1.0:
        raise NotImplementedError(f"FocalLoss(alpha={alpha}): libfocal's alpha is a weight in "
                                  f"[0, 1] (mmdet would use a negative or > 1 alpha as given)")
    _check_tensor("pred", pred)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, not {type(target).__name__}")
    labels = dense = None
    if pred.dim() == target.dim():
        # mmdet: the target is already one-hot (float or integer) or soft,
        # shaped like pred (any number of dims): elementwise.
        if target.shape != pred.shape:
            raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                             f"({pred.size()})")
        dense = _as_target(target, dtype=pred.dtype)
    elif pred.dim() == 2 and target.dim() == 1:
        labels = target  # class indices, C = background (checked by _labels_tensor)
    else:
        raise ValueError(f"target must be shaped like pred (one-hot or soft) or be (N,) class "
                         f"indices for a 2-D pred (N, C); got pred {tuple(pred.shape)}, "
                         f"target {tuple(target.shape)}")

    row_weight = None
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            raise TypeError(f"weight must be a torch.Tensor, not {type(weight).__name__}")
        # py_sigmoid_focal_loss: (N,) becomes (N, 1); (N * C,) becomes (N, C).
        if weight.shape != pred.shape:
            if weight.dim() > 0 and pred.dim() > 0 and weight.size(0) == pred.size(0):
                weight = weight.reshape(-1, 1)
            else:
                if weight.numel() != pred.numel():
                    raise AssertionError(
                        f"weight must have one value per row or per element of pred "
                        f"{tuple(pred.shape)} (as mmdet asserts), got {tuple(weight.shape)}")
                weight = weight.reshape(pred.size(0), -1)
        if weight.dim() != pred.dim():
            raise AssertionError(f"weight {tuple(weight.shape)} must have pred's number of "
                                 f"dims, {pred.dim()} (as mmdet asserts)")
        if pred.dim() == 2 and _fast_weight(weight, (pred.size(0), 1)):
            row_weight, weight = weight.reshape(-1), None

    def call(red, normalizer, divisor):
        if labels is not None:
            return _rows(True, pred, labels, alpha, gamma, red, normalizer, 0.0, None,
                         row_weight, None, divisor)
        if pred.dim() == 2:
            return _rows(False, pred, dense, alpha, gamma, red, normalizer, 0.0, None,
                         row_weight, None, divisor)
        if normalizer or divisor is not None:
            # The sum divided by avg_factor + eps (_fused_reduce): the rows
            # call takes the divisor; the loss is element-wise, so the
            # elements of any shape can be one row.
            return _rows(False, pred.reshape(1, -1), dense.reshape(1, -1), alpha, gamma, red,
                         normalizer, 0.0, None, None, None, divisor)
        return _sigmoid_focal_loss(pred, dense, alpha, gamma, red)

    if weight is None:
        loss = _fused_reduce(call, reduction, avg_factor)
    else:
        loss = _weight_reduce(call("none", 0.0, None), weight, reduction, avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_focal_op(pred, target, weight, avg_number, avg_tensor, reduction_override,
                    reduction, gamma, alpha, loss_weight, activated):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_focal_loss(pred, target, weight, avg_factor, reduction_override, reduction,
                             gamma, alpha, loss_weight, activated)


_MMDET_ARGS = "Tensor? weight, float? avg_number, Tensor? avg_tensor, str? reduction_override, "
_register("mmdet_focal_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, float gamma, float alpha, float loss_weight, bool activated) -> Tensor",
          _mmdet_focal_op)


@torch.jit.unused
def _mmdet_quality_focal_loss(pred, label, score, weight, avg_factor, reduction_override,
                              reduction, beta, loss_weight, activated):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    if activated:
        raise NotImplementedError(
            "QualityFocalLoss(activated=True) (mmdet's quality focal loss of probabilities, "
            "quality_focal_loss_with_prob): libfocal computes the loss from logits only")
    _require("quality_focal", "focal.torch.QualityFocalLoss")
    _check_tensor("pred", pred)
    if label is None:
        # quality_focal_loss_tensor_target: soft one-hot scores shaped like pred.
        if not isinstance(score, torch.Tensor):
            raise TypeError(f"target must be a torch.Tensor or a (label, score) tuple, "
                            f"not {type(score).__name__}")
        if score.shape != pred.shape:
            raise AssertionError(f"target {tuple(score.shape)} must be shaped like pred "
                                 f"{tuple(pred.shape)} (as mmdet asserts)")
        if pred.dim() < 2:
            raise IndexError(f"pred must have a class dimension (dim 1), got shape "
                             f"{tuple(pred.shape)}")
        s = _as_target(score)
    else:
        # quality_focal_loss: label in [0, C) is the positive class of its row,
        # with score its IoU; any other label (C is background) leaves the row
        # all negative (score 0 everywhere), as mmdet's pos mask does.
        if pred.dim() != 2:
            raise ValueError(f"pred must be 2-D (N, C) with (label, score) targets, got shape "
                             f"{tuple(pred.shape)}")
        rows, classes = pred.shape
        for name, t in (("label", label), ("score", score)):
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, not {type(t).__name__}")
            if tuple(t.shape) != (rows,):
                raise ValueError(f"{name} must have shape ({rows},), got {tuple(t.shape)}")
        if label.dtype.is_floating_point or label.dtype.is_complex:
            raise ValueError(f"label must be integers (class indices), got {label.dtype}")
        s = torch.zeros((rows, classes), dtype=torch.float32)
        pos = ((label >= 0) & (label < classes)).nonzero().squeeze(1)
        s[pos, label[pos].long()] = _as_target(score, "score")[pos]

    def call(red, normalizer, divisor, w=None):
        return _soft_run("quality", pred, s, 0.0, beta, _lib.REDUCTIONS[red], normalizer, w,
                         divisor=divisor)

    rows = pred.size(0)
    if pred.dim() == 2 and reduction != "none" and (weight is None or _fast_weight(weight,
                                                                                 (rows,))):
        w = None
        if weight is not None:
            w = weight.detach().reshape(-1, 1).expand(pred.shape).contiguous().reshape(-1)
        if avg_factor is None and reduction == "mean":
            # mean over rows: the sum over every element / N (NaN for N = 0)
            loss = call("sum", float(rows), None, w) if rows else call("mean", 0.0, None, w)
        else:
            loss = _fused_reduce(lambda red, normalizer, divisor: call(red, normalizer, divisor,
                                                                        w),
                                 reduction, avg_factor)
    else:
        loss = _weight_reduce(_row_sums(call("none", 0.0, None)), weight, reduction,
                              avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_quality_op(pred, label, score, weight, avg_number, avg_tensor, reduction_override,
                      reduction, beta, loss_weight, activated):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_quality_focal_loss(pred, label, score, weight, avg_factor,
                                     reduction_override, reduction, beta, loss_weight,
                                     activated)


_register("mmdet_quality_focal_loss(Tensor pred, Tensor? label, Tensor score, " + _MMDET_ARGS +
          "str reduction, float beta, float loss_weight, bool activated) -> Tensor",
          _mmdet_quality_op)


@torch.jit.unused
def _mmdet_varifocal_loss(pred, target, weight, avg_factor, reduction_override, reduction,
                          alpha, gamma, iou_weighted, loss_weight):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    _require("varifocal", "focal.torch.VarifocalLoss")
    _check_tensor("pred", pred)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, not {type(target).__name__}")
    if target.shape != pred.shape:
        raise AssertionError(f"target {tuple(target.shape)} must be shaped like pred "
                             f"{tuple(pred.shape)} (as mmdet asserts)")
    s = _as_target(target)

    def call(red, normalizer, divisor, w=None):
        return _soft_run("varifocal", pred, s, alpha, gamma, _lib.REDUCTIONS[red], normalizer,
                         w, divisor=divisor)

    if not iou_weighted:
        # mmdet's modulator is 1 instead of the target on positives (t > 0):
        # their loss is plain BCE-with-logits, which is the quality loss with
        # gamma 0 (|t - p|^0 = 1); the negatives' is the varifocal loss's.
        # Both from the library, so a compiled graph gives eager's bits;
        # torch.where keeps each element's loss and gradient from one call.
        bce = _soft_run("quality", pred, s, 0.0, 0.0, 0, 0.0, None)
        loss = _weight_reduce(torch.where(s > 0.0, bce, call("none", 0.0, None)), weight,
                              reduction, avg_factor)
    elif weight is None or _fast_weight(weight, pred.shape):
        w = None if weight is None else weight.detach().contiguous().reshape(-1)
        loss = _fused_reduce(lambda red, normalizer, divisor: call(red, normalizer, divisor, w),
                             reduction, avg_factor)
    else:
        loss = _weight_reduce(call("none", 0.0, None), weight, reduction, avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_varifocal_op(pred, target, weight, avg_number, avg_tensor, reduction_override,
                        reduction, alpha, gamma, iou_weighted, loss_weight):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_varifocal_loss(pred, target, weight, avg_factor, reduction_override,
                                 reduction, alpha, gamma, iou_weighted, loss_weight)


_register("mmdet_varifocal_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, float alpha, float gamma, bool iou_weighted, float loss_weight) "
          "-> Tensor", _mmdet_varifocal_op)


@torch.jit.unused
def _mmdet_distribution_focal_loss(pred, target, weight, avg_factor, reduction_override,
                                   reduction, loss_weight):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    _require("distribution_focal", "focal.torch.DistributionFocalLoss")
    _check_bins(pred, "pred")
    rows = pred.size(0)
    t = _dfl_targets(target, rows, "target")
    # mmdet's loss is CE(pred, .) (pred's dtype) times weights computed as
    # dis_right.float() - label: float32 for every target dtype taken here.
    out_dtype = torch.promote_types(pred.dtype, torch.promote_types(torch.float32, target.dtype))

    def call(red, normalizer, divisor, w=None):
        return _dfl_run(pred, t, _lib.REDUCTIONS[red], normalizer, w, divisor, out_dtype)

    if weight is None or (isinstance(weight, Tensor) and _fast_weight(weight, (rows,))):
        w = None if weight is None else weight.detach().contiguous()
        loss = _fused_reduce(lambda red, normalizer, divisor: call(red, normalizer, divisor, w),
                             reduction, avg_factor)
    else:
        # Any other weight (a scalar, another shape that broadcasts, one that
        # wants a gradient): mmdet's loss * weight, in torch.
        loss = _weight_reduce(call("none", 0.0, None), weight, reduction, avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_distribution_op(pred, target, weight, avg_number, avg_tensor, reduction_override,
                           reduction, loss_weight):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_distribution_focal_loss(pred, target, weight, avg_factor, reduction_override,
                                          reduction, loss_weight)


_register("mmdet_distribution_focal_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, float loss_weight) -> Tensor", _mmdet_distribution_op)


# ---- mmdet 3.x box regression losses (libfocal 1.5) --------------------------------
#
# IoULoss, GIoULoss, DIoULoss and CIoULoss are the library's box losses in
# mmdet's convention (its eps placement, clamps and CIoU alpha gate: DESIGN
# §2.8), one loss per box; SmoothL1Loss and L1Loss its smooth L1 (beta 0 for
# L1), one loss per element. Around them, each forward is mmdet's:
#
# - a weight with no positive element returns (pred * weight).sum() before
#   anything else (IoULoss: only when the reduction is not "none");
# - the IoU family's (n, 4) weight (shaped like pred) becomes its mean over
#   the last dim, one per box;
# - then weight_reduce_loss (see above) and loss_weight.
#
# A float32 weight that wants no gradient (per box for the IoU family, per
# element or broadcasting to pred's shape for (smooth) L1) is applied inside
# the library's pass, and so is avg_factor's divisor (_fused_reduce); any
# other weight goes through torch as mmdet's loss * weight.

try:
    from torch._subclasses.fake_tensor import is_fake as _is_fake
except ImportError:  # PyTorch 1.13: no fake tensors to meet
    _is_fake = None

# IoULoss's modes and the other IoU-family modules, by the library's names.
_MMDET_BOX_LOSSES = {"linear": "iou", "square": "iou_square", "log": "iou_log",
                     "giou": "giou", "diou": "diou", "ciou": "ciou"}
_IOU_MODES = ("linear", "square", "log")


def _values_unreadable(t):
    """True where t's values cannot be read without a data-dependent branch:
    while torch.compile traces, or for a fake tensor (torch.library.opcheck,
    AOT tracing)."""
    if _compiling():
        return True
    return _is_fake is not None and _is_fake(t)


def _weighted_nothing(pred, weight):
    """mmdet's exit for a weight with no positive element: (pred * weight).sum()
    (0 for a zero weight), an (n,) weight unsqueezed against an (n, 4) pred."""
    if pred.dim() == weight.dim() + 1:
        weight = weight.unsqueeze(1)
    return (pred * weight).sum()


def _unless_nothing_weighted(pred, weight, compute):
    """compute(), or mmdet's exit when weight (not None) has no element > 0.

    Eagerly the weight is read first, as mmdet does. Where its values cannot
    be read (torch.compile, fake tensors) a 0-d loss picks between the two
    with torch.where, so the graph has no data-dependent branch (the exit's
    value is then in the loss's dtype); a loss of another shape ("none") is
    a branch on the data, which torch.compile breaks the graph at, as it
    does for mmdet's own modules."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, not {type(weight).__name__}")
    if _values_unreadable(weight):
        loss = compute()
        any_positive = torch.any(weight > 0)
        if loss.dim() == 0:
            return torch.where(any_positive, loss, _weighted_nothing(pred, weight).to(loss.dtype))
        return loss if any_positive else _weighted_nothing(pred, weight)
    if not torch.any(weight > 0):
        return _weighted_nothing(pred, weight)
    return compute()


def _mmdet_box_dtype(pred_dtype, target_dtype, loss):
    """The dtype of mmdet's per-box loss: bbox_overlaps (IoU kinds, GIoU)
    computes a float16 pred in float32 and casts the IoU back to float16;
    CIoU's alpha is float32 ((ious > 0.5).float()), which promotes its loss;
    otherwise pred's and target's promoted dtype."""
    d = torch.promote_types(pred_dtype, target_dtype)
    if not d.is_floating_point:
        d = torch.float32
    if loss == "ciou":
        return torch.promote_types(d, torch.float32)
    if loss != "diou" and pred_dtype == torch.float16:
        return torch.float16
    return d


def _fused_weighted(call, weight, dtype, reduction, avg_factor):
    """_fused_reduce on call(red, normalizer, divisor, w, out_dtype) with the
    library-side weight w (flat float32, or None), in the dtype mmdet's
    expression gives: its loss times a float32 weight (both with dims) is
    float32, and so is its sum divided by a float32 0-d tensor."""
    if weight is not None:
        dtype = torch.promote_types(dtype, torch.float32)

    def reduced(red, normalizer, divisor):
        out = dtype if divisor is None else torch.promote_types(dtype, divisor.dtype)
        return call(red, normalizer, divisor, weight, out)

    return _fused_reduce(reduced, reduction, avg_factor)


@torch.jit.unused
def _mmdet_iou_loss(pred, target, weight, avg_factor, reduction_override, reduction, loss, eps,
                    loss_weight, linear=False):
    """IoULoss (loss: its mode, "linear", "square" or "log"), GIoULoss,
    DIoULoss or CIoULoss (loss "giou", "diou", "ciou")."""
    check_weight = weight
    if loss not in ("giou", "diou", "ciou"):
        # IoULoss asserts the override first and exits on a weight with no
        # positive element only when the reduction is not "none".
        reduction = _mmdet_reduction_override(reduction_override, reduction)
        if reduction == "none":
            check_weight = None

    def compute():
        return _mmdet_iou_compute(pred, target, weight, avg_factor, reduction_override,
                                  reduction, loss, eps, loss_weight, linear)

    if check_weight is None:
        return compute()
    return _unless_nothing_weighted(pred, check_weight, compute)


def _mmdet_iou_compute(pred, target, weight, avg_factor, reduction_override, reduction, loss,
                       eps, loss_weight, linear):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    if loss not in _MMDET_BOX_LOSSES:
        raise AssertionError(f"mode must be 'linear', 'square' or 'log' (as mmdet asserts), "
                             f"got {loss!r}")
    if linear and loss in _IOU_MODES:
        loss = "linear"
        warnings.warn('DeprecationWarning: Setting "linear=True" in iou_loss is deprecated, '
                      'please use "mode=`linear`" instead.')
    box = _MMDET_BOX_LOSSES[loss]
    what = {"giou": "GIoULoss", "diou": "DIoULoss", "ciou": "CIoULoss"}.get(box, "IoULoss")
    _require("box_iou", "focal.torch." + what)
    for name, x in (("pred", pred), ("target", target), ("weight", weight)):
        if x is not None and not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, not {type(x).__name__}")
    dtype = _mmdet_box_dtype(pred.dtype, target.dtype, box)
    pred = _box_tensor("pred", pred)
    target = _box_tensor("target", target)
    if pred.dim() < 2:
        raise IndexError(f"pred must be (n, 4) boxes (mmdet indexes its rows), got shape "
                         f"{tuple(pred.shape)}")
    if box in ("diou", "ciou") and pred.dim() != 2:
        raise ValueError(f"{what}: pred must be 2-D (n, 4) boxes (mmdet's {box}_loss indexes "
                         f"pred[:, k]), got shape {tuple(pred.shape)}")
    if target.shape != pred.shape:
        raise AssertionError(f"target {tuple(target.shape)} must be shaped like pred "
                             f"{tuple(pred.shape)}")
    if weight is not None and weight.dim() > 1:
        # mmdet: an (n, 4) weight, shaped like pred, becomes one per box.
        if weight.shape != pred.shape:
            raise AssertionError(f"weight {tuple(weight.shape)} must be (n,) or shaped like "
                                 f"pred {tuple(pred.shape)} (as mmdet asserts)")
        weight = weight.mean(-1)
    if box in ("iou", "iou_square", "iou_log", "giou") and pred.size(-2) == 0:
        # bbox_overlaps returns a new empty tensor for no boxes: the loss
        # is not a function of pred.
        pred = pred.detach()
    lead = tuple(pred.shape[:-1])
    boxes = pred.numel() // 4
    p = pred.reshape(boxes, 4)
    t = _f32(target).reshape(boxes, 4)
    kind, conv = _spec.box_codes(box, "mmdet")

    def call(red, normalizer, divisor, w, out_dtype):
        out = _box_run(p, t, kind, conv, float(eps), _lib.REDUCTIONS[red], normalizer, w,
                       divisor, out_dtype)
        return out.reshape(lead) if red == "none" else out

    if weight is None or _fast_weight(weight, lead):
        w = None if weight is None else weight.detach().contiguous().reshape(-1)
        out = _fused_weighted(call, w, dtype, reduction, avg_factor)
    else:
        out = _weight_reduce(call("none", 0.0, None, None, dtype), weight, reduction, avg_factor)
    return out * loss_weight if loss_weight != 1.0 else out


def _mmdet_iou_op(pred, target, weight, avg_number, avg_tensor, reduction_override, reduction,
                  loss, eps, loss_weight, linear):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_iou_loss(pred, target, weight, avg_factor, reduction_override, reduction, loss,
                           eps, loss_weight, linear)


_register("mmdet_iou_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, str loss, float eps, float loss_weight, bool linear) -> Tensor",
          _mmdet_iou_op)


@torch.jit.unused
def _mmdet_smooth_l1_loss(pred, target, weight, avg_factor, reduction_override, reduction, beta,
                          loss_weight, l1):
    """SmoothL1Loss, or L1Loss (l1: beta is not read)."""

    def compute():
        return _mmdet_smooth_l1_compute(pred, target, weight, avg_factor, reduction_override,
                                        reduction, beta, loss_weight, l1)

    if weight is None:
        return compute()
    return _unless_nothing_weighted(pred, weight, compute)


def _value_tensor(name, x):
    """A float32 / bfloat16 / float16 CPU tensor; integers become float32."""
    if isinstance(x, torch.Tensor) and not (x.dtype.is_floating_point or x.dtype.is_complex
                                            or x.dtype == torch.bool):
        x = x.to(torch.float32)
    _check_tensor(name, x)
    return x


def _mmdet_smooth_l1_compute(pred, target, weight, avg_factor, reduction_override, reduction,
                             beta, loss_weight, l1):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    what = "L1Loss" if l1 else "SmoothL1Loss"
    if not l1 and not beta > 0:
        raise AssertionError(f"SmoothL1Loss: beta must be > 0 (as mmdet asserts), got {beta}")
    for name, x in (("pred", pred), ("target", target), ("weight", weight)):
        if x is not None and not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, not {type(x).__name__}")
    if target.numel() == 0:
        # mmdet: pred.sum() * 0, then weight_reduce_loss.
        out = _weight_reduce(pred.sum() * 0, weight, reduction, avg_factor)
        return out * loss_weight if loss_weight != 1.0 else out
    if pred.size() != target.size():
        raise AssertionError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must "
                             f"have one size (as mmdet asserts)")
    _require("smooth_l1", "focal.torch." + what)
    dtype = torch.promote_types(pred.dtype, target.dtype)
    pred = _value_tensor("pred", pred)
    target = _value_tensor("target", target)
    if not dtype.is_floating_point:
        dtype = torch.float32
    t = _f32(target)
    b = 0.0 if l1 else float(beta)

    def call(red, normalizer, divisor, w, out_dtype):
        return _pair_run(pred, t, b, _lib.REDUCTIONS[red], normalizer, w, divisor, out_dtype)

    if weight is None:
        out = _fused_weighted(call, None, dtype, reduction, avg_factor)
    elif (pred.dim() >= 1 and weight.dim() == pred.dim() and _fast_weight(weight, weight.shape)
          and tuple(torch.broadcast_shapes(weight.shape, pred.shape)) == tuple(pred.shape)):
        # An element-wise weight, or one that broadcasts to pred's shape
        # ((n, 1): one per row): expanded, one per element.
        w = weight.detach().expand(pred.shape).contiguous().reshape(-1)
        out = _fused_weighted(call, w, dtype, reduction, avg_factor)
    else:
        out = _weight_reduce(call("none", 0.0, None, None, dtype), weight, reduction, avg_factor)
    return out * loss_weight if loss_weight != 1.0 else out


def _mmdet_smooth_l1_op(pred, target, weight, avg_number, avg_tensor, reduction_override,
                        reduction, beta, loss_weight, l1):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_smooth_l1_loss(pred, target, weight, avg_factor, reduction_override,
                                 reduction, beta, loss_weight, l1)


_register("mmdet_smooth_l1_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, float beta, float loss_weight, bool l1) -> Tensor",
          _mmdet_smooth_l1_op)


def _require_sigmoid(use_sigmoid, what):
    if use_sigmoid is not True:
        raise AssertionError(f"Only sigmoid {what} supported now (use_sigmoid=True), as in mmdet")


class FocalLoss(torch.nn.Module):
    """mmdet 3.x's FocalLoss (use_sigmoid=True) on libfocal.

        loss_cls = FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)
        loss = loss_cls(cls_score, labels, label_weights, avg_factor=num_pos)

    forward(pred, target, weight=None, avg_factor=None, reduction_override=None)
    as mmdet's: pred float32 logits; target either (N,) class indices for a
    (N, C) pred (C = background) or shaped like pred (one-hot float or
    integer, or soft targets in [0, 1]; any number of dims); weight (N,),
    (N, 1), (N, C) or (N * C,) for a 2-D pred, else shaped like pred;
    avg_factor None, a number or a tensor: "mean" is then
    loss.sum() / (avg_factor + float32 eps), "sum" a ValueError, "none"
    ignores it. The result is multiplied by loss_weight.

    Differences from mmdet (CPU path): class index < 0 ignores the row (loss
    and gradient 0, not counted by "mean" without avg_factor) where mmdet's
    one_hot raises; activated=True (probabilities) and alpha outside [0, 1]
    are NotImplementedError; targets must lie in [0, 1]; target gets no
    gradient (neither does weight when it is a float32 (N,) / (N, 1) tensor).
    """

    def __init__(self, use_sigmoid=True, gamma=2.0, alpha=0.25, reduction="mean",
                 loss_weight=1.0, activated=False):
        super().__init__()
        _require_sigmoid(use_sigmoid, "focal loss")
        if activated:
            raise NotImplementedError(
                "FocalLoss(activated=True) (mmdet's focal loss of probabilities, "
                "py_focal_loss_with_prob): libfocal computes the loss from logits only")
        _lib.reduction_code(reduction)
        self.use_sigmoid = True
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.activated = bool(activated)

    def extra_repr(self):
        return (f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_focal_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.gamma, self.alpha, self.loss_weight, self.activated)
        return _mmdet_focal_loss(pred, target, weight, avg_factor, reduction_override,
                                 self.reduction, self.gamma, self.alpha, self.loss_weight,
                                 self.activated)


class QualityFocalLoss(torch.nn.Module):
    """mmdet 3.x's QualityFocalLoss (GFL, use_sigmoid=True) on libfocal.

        loss_cls = QualityFocalLoss(use_sigmoid=True, beta=2.0, loss_weight=1.0)
        loss = loss_cls(cls_score, (labels, iou_scores), label_weights, avg_factor=n)

    target: a (label, score) pair for a (N, C) pred (label (N,) in [0, C) is
    the row's positive class, scored by score (N,); any other label is
    background), or a tensor of soft scores shaped like pred. The loss is
    summed over classes (dim 1) before weight_reduce_loss, so "mean" divides
    by N; weight is per row. Differences: activated=True is
    NotImplementedError; scores must lie in [0, 1] and get no gradient.
    """

    def __init__(self, use_sigmoid=True, beta=2.0, reduction="mean", loss_weight=1.0,
                 activated=False):
        super().__init__()
        _require_sigmoid(use_sigmoid, "in QFL")
        if activated:
            raise NotImplementedError(
                "QualityFocalLoss(activated=True) (mmdet's quality focal loss of "
                "probabilities): libfocal computes the loss from logits only")
        _lib.reduction_code(reduction)
        self.use_sigmoid = True
        self.beta = float(beta)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.activated = bool(activated)

    def extra_repr(self):
        return (f"beta={self.beta}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Union[Tensor, Tuple[Tensor, Tensor]],
                weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            label: Optional[Tensor] = None
            if isinstance(target, Tensor):
                score = target
            else:
                label, score = target
            return torch.ops.focal.mmdet_quality_focal_loss(
                pred, label, score, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.beta, self.loss_weight, self.activated)
        if isinstance(target, torch.Tensor):
            label, score = None, target
        else:
            if len(target) != 2:
                raise AssertionError("target for QFL must be a tuple of two elements, "
                                     "including category label and quality label")
            label, score = target
        return _mmdet_quality_focal_loss(pred, label, score, weight, avg_factor,
                                         reduction_override, self.reduction, self.beta,
                                         self.loss_weight, self.activated)


class VarifocalLoss(torch.nn.Module):
    """mmdet 3.x's VarifocalLoss (VFNet, use_sigmoid=True) on libfocal.

        loss_cls = VarifocalLoss(use_sigmoid=True, alpha=0.75, gamma=2.0,
                                 iou_weighted=True, loss_weight=1.0)
        loss = loss_cls(cls_score, iou_targets, avg_factor=num_pos)

    target: IoU-aware scores in [0, 1] shaped like pred; weight broadcasts
    against the per-element loss as in mmdet. iou_weighted=False weights
    positives by 1 instead of their score (their loss is then the BCE,
    computed by the library's quality loss with gamma 0, the negatives' by
    its varifocal loss). Difference: targets get no gradient.
    """

    def __init__(self, use_sigmoid=True, alpha=0.75, gamma=2.0, iou_weighted=True,
                 reduction="mean", loss_weight=1.0):
        super().__init__()
        _require_sigmoid(use_sigmoid, "varifocal loss")
        if not alpha >= 0.0:
            raise AssertionError(f"alpha must be >= 0 (as mmdet asserts), got {alpha}")
        _lib.reduction_code(reduction)
        self.use_sigmoid = True
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.iou_weighted = bool(iou_weighted)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return (f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_varifocal_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.alpha, self.gamma, self.iou_weighted, self.loss_weight)
        return _mmdet_varifocal_loss(pred, target, weight, avg_factor, reduction_override,
                                     self.reduction, self.alpha, self.gamma,
                                     self.iou_weighted, self.loss_weight)


class DistributionFocalLoss(torch.nn.Module):
    """mmdet 3.x's DistributionFocalLoss (GFL's box loss) on libfocal (>= 1.4).

        loss_dfl = DistributionFocalLoss(reduction="mean", loss_weight=0.25)
        loss = loss_dfl(pred_corners, target_corners, weight, avg_factor=4.0)

    pred: (N, n + 1) logits over the bins 0..n; target: (N,) distances in
    [0, n) (float32, bfloat16, float16 or integers). The loss of a row is
    CE(pred, l) (l + 1 - t) + CE(pred, l + 1) (t - l), l = floor(t), then
    mmdet's weight_reduce_loss: times weight (a float32 (N,) weight is
    applied inside the fused pass; any other shape that broadcasts against
    the (N,) loss, or a weight that wants a gradient, goes through torch as
    in mmdet); avg_factor: "mean" is loss.sum() / (avg_factor + float32 eps),
    "sum" a ValueError, "none" ignores it. The result is multiplied by
    loss_weight. The loss is float32, as mmdet's (its weights are float32).

    Differences from mmdet: a target that is NaN or outside [0, n) is a
    focal.FocalError (ValueError) before anything is computed (mmdet's
    cross_entropy fails for a target >= n or <= -1, and a target in (-1, 0)
    gets weights outside [0, 1]); float64 pred or target is a TypeError;
    target gets no gradient.
    """

    def __init__(self, reduction="mean", loss_weight=1.0):
        super().__init__()
        _lib.reduction_code(reduction)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, loss_weight={self.loss_weight}"

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_distribution_focal_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.loss_weight)
        return _mmdet_distribution_focal_loss(pred, target, weight, avg_factor,
                                              reduction_override, self.reduction,
                                              self.loss_weight)


# ---- mmdet 3.x box regression losses (libfocal 1.5) --------------------------------


class IoULoss(torch.nn.Module):
    """mmdet 3.x's IoULoss on libfocal (>= 1.5).

        loss_bbox = IoULoss(mode="log", eps=1e-6, loss_weight=1.0)
        loss = loss_bbox(pos_decoded_bbox_pred, pos_decoded_target, weight, avg_factor=n)

    pred and target: (..., n, 4) boxes x1, y1, x2, y2. The loss of a box is
    1 - IoU (mode "linear"), 1 - IoU^2 ("square") or -log IoU ("log"), IoU
    as mmdet's bbox_overlaps (extents clamped at 0, union floored at 1e-6)
    clamped at eps; linear=True (here or as forward's keyword) is mmdet's
    deprecated alias of mode "linear". forward(pred, target, weight=None,
    avg_factor=None, reduction_override=None, linear=False) as mmdet's: a
    weight with no positive element returns (pred * weight).sum() unless the
    reduction is "none"; an (n, 4) weight (shaped like pred) is averaged to
    one per box; then weight_reduce_loss (avg_factor: "mean" is
    loss.sum() / (avg_factor + float32 eps), "sum" a ValueError, "none"
    ignores it) and loss_weight. A float32 per-box weight is applied inside
    the fused pass; any other (one that requires grad, broadcasting ones) by
    torch as in mmdet. target gets no gradient.
    """

    def __init__(self, linear=False, eps=1e-6, reduction="mean", loss_weight=1.0, mode="log"):
        super().__init__()
        if mode not in _IOU_MODES:
            raise AssertionError(f"mode must be 'linear', 'square' or 'log' (as mmdet asserts), "
                                 f"got {mode!r}")
        if linear:
            mode = "linear"
            warnings.warn('DeprecationWarning: Setting "linear=True" in IOULoss is deprecated, '
                          'please use "mode=`linear`" instead.')
        _lib.reduction_code(reduction)
        self.mode = mode
        self.linear = bool(linear)
        self.eps = float(eps)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return (f"mode={self.mode!r}, eps={self.eps}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None, linear: bool = False) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_iou_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.mode, self.eps, self.loss_weight, linear)
        return _mmdet_iou_loss(pred, target, weight, avg_factor, reduction_override,
                               self.reduction, self.mode, self.eps, self.loss_weight, linear)


class _BoxIoUModule(torch.nn.Module):
    """GIoULoss, DIoULoss and CIoULoss: mmdet's constructor arguments."""

    def __init__(self, eps=1e-6, reduction="mean", loss_weight=1.0):
        super().__init__()
        _lib.reduction_code(reduction)
        self.eps = float(eps)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return f"eps={self.eps}, reduction={self.reduction!r}, loss_weight={self.loss_weight}"


class GIoULoss(_BoxIoUModule):
    """mmdet 3.x's GIoULoss on libfocal (>= 1.5): 1 - GIoU of (..., n, 4)
    boxes, as mmdet's bbox_overlaps(mode="giou", eps=eps) computes it
    (extents and enclosure clamped at 0, union and enclosure floored at
    eps). forward as IoULoss's (see it), except that a weight with no
    positive element returns (pred * weight).sum() for every reduction, as
    mmdet's."""

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_iou_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, "giou", self.eps, self.loss_weight, False)
        return _mmdet_iou_loss(pred, target, weight, avg_factor, reduction_override,
                               self.reduction, "giou", self.eps, self.loss_weight)


class DIoULoss(_BoxIoUModule):
    """mmdet 3.x's DIoULoss on libfocal (>= 1.5): 1 - IoU + rho^2 / c^2 of
    (n, 4) boxes, eps added to the union and to c^2 as mmdet's diou_loss
    does. forward as GIoULoss's."""

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_iou_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, "diou", self.eps, self.loss_weight, False)
        return _mmdet_iou_loss(pred, target, weight, avg_factor, reduction_override,
                               self.reduction, "diou", self.eps, self.loss_weight)


class CIoULoss(_BoxIoUModule):
    """mmdet 3.x's CIoULoss on libfocal (>= 1.5): 1 - CIoU of (n, 4) boxes
    as mmdet's ciou_loss (eps in the union, c^2 and the heights of the
    aspect ratios; alpha = v / (1 - IoU + v) only where IoU > 0.5, a
    constant of the gradient; CIoU clamped to [-1, 1]). forward as
    GIoULoss's. Where v = 0 alpha is 0: mmdet's float32 expression divides
    0 by 0 there for identical boxes of area above ~16 and gives NaN."""

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_iou_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, "ciou", self.eps, self.loss_weight, False)
        return _mmdet_iou_loss(pred, target, weight, avg_factor, reduction_override,
                               self.reduction, "ciou", self.eps, self.loss_weight)


class SmoothL1Loss(torch.nn.Module):
    """mmdet 3.x's SmoothL1Loss on libfocal (>= 1.5), element-wise over
    pred and target of one size: 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta (d = pred - target; beta > 0, asserted in forward as
    mmdet does). forward(pred, target, weight=None, avg_factor=None,
    reduction_override=None) as mmdet's: a weight with no positive element
    returns (pred * weight).sum(); an empty target gives pred.sum() * 0
    (then weight_reduce_loss); weight is element-wise (broadcasting as
    loss * weight); weight_reduce_loss and loss_weight as IoULoss's. A
    float32 weight of pred's number of dims that broadcasts to its shape
    ((n, 4) bbox weights, (n, 1)) is applied inside the fused pass; any
    other by torch as in mmdet. target gets no gradient."""

    def __init__(self, beta=1.0, reduction="mean", loss_weight=1.0):
        super().__init__()
        _lib.reduction_code(reduction)
        self.beta = float(beta)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return (f"beta={self.beta}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_smooth_l1_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.beta, self.loss_weight, False)
        return _mmdet_smooth_l1_loss(pred, target, weight, avg_factor, reduction_override,
                                     self.reduction, self.beta, self.loss_weight, False)


class L1Loss(torch.nn.Module):
    """mmdet 3.x's L1Loss on libfocal (>= 1.5): |pred - target| element-wise
    (the library's smooth L1 with beta 0); forward as SmoothL1Loss's."""

    def __init__(self, reduction="mean", loss_weight=1.0):
        super().__init__()
        _lib.reduction_code(reduction)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, loss_weight={self.loss_weight}"

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_smooth_l1_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, 0.0, self.loss_weight, True)
        return _mmdet_smooth_l1_loss(pred, target, weight, avg_factor, reduction_override,
                                     self.reduction, 0.0, self.loss_weight, True)
