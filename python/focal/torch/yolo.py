# SPDX-License-Identifier: MIT
"""YOLOv5 / Ultralytics drop-ins: FocalLoss and QFocalLoss around a BCE loss.

    from focal.torch.yolo import FocalLoss, QFocalLoss
    BCEcls = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([h["cls_pw"]]))
    BCEcls = FocalLoss(BCEcls, gamma=h["fl_gamma"])    # or QFocalLoss(...)
    loss = BCEcls(pred, true)

The interface and the results of utils/loss.py's classes: the constructor
takes the nn.BCEWithLogitsLoss instance (anything else is a TypeError), keeps
its reduction and sets its own to "none", as the originals do; forward(pred,
true) takes any shape. With p = sigmoid(pred), t = true:

    bce  = BCEWithLogitsLoss(pos_weight, weight, reduction="none")(pred, t)
    a_t  = t alpha + (1 - t)(1 - alpha)
    FocalLoss:   loss = bce a_t (1 - p_t)^gamma,  p_t = t p + (1 - t)(1 - p)
    QFocalLoss:  loss = bce a_t |t - p|^gamma

then the BCE's mean, sum or none. Soft targets (smooth_BCE's, IoU
objectness) are taken as they are: 1 - p_t is libfocal's q (docs/DESIGN.md
§2.6), so FocalLoss is focal_sigmoid_dense with pos_weight, QFocalLoss
focal_quality_focal with pos_weight and FOCAL_FLAG_QUALITY_ALPHA.

What runs in libfocal's fused pass (loss and gradient at once): CPU pred
and true of the same shape (float32, or bfloat16 / float16, computed in
float32 as focal.torch does), true without gradient, 0 <= alpha <= 1,
gamma >= 0, and a pos_weight (without gradient) of one value or one per
class of the last dimension (shape (), (1,) or (C,), leading 1s allowed).
The BCE's weight, of any shape that broadcasts to pred, multiplies the fused
loss per element in PyTorch (the library's row weights would cover only some
shapes), which autograd carries into the gradient. Anything else (another
dtype or device, other pos_weight shapes, parameters that need a gradient,
empty inputs)
evaluates Ultralytics' expression in PyTorch: same results, unaccelerated,
never an approximation. Errors of the fused pass (a target outside [0, 1], a
negative or non-finite pos_weight) raise focal.FocalError.

TorchScript and torch.compile: forward is the operator
torch.ops.focal.yolo_focal_loss under torch.jit.script / trace, and traces
into focal.torch's compiled operators under torch.compile.

DFLoss(reg_max=16) (libfocal 1.4) is Ultralytics' Distribution Focal Loss
(YOLOv8 / YOLO11 utils/loss.py, the box term of BboxLoss):

    loss = DFLoss(reg_max)(pred_dist, target)    # (n * 4, reg_max), (n, 4) -> (n, 1)

target is clamped to [0, reg_max - 1 - 0.01], t its value, l = floor(t):
each row's loss is CE(pred_dist, l) (l + 1 - t) + CE(pred_dist, l + 1)
(t - l), and the result the mean over the last dimension of target (the 4
sides of a box), keeping it. One difference: Ultralytics clamps target in
place (target.clamp_), so the caller's tensor changes; DFLoss clamps a copy
and leaves it as it was. The fused pass (focal_distribution_focal, reduction
"none") gives every row's loss and gradient; the mean over the sides is a
product with ones (the same bits eagerly and compiled). The gradient goes to
pred_dist only: target is a constant (Ultralytics' is computed without
gradient). float32, bfloat16 and float16 CPU tensors are fused (target is
made float32 before the clamp); anything else runs Ultralytics' expression
in PyTorch, like FocalLoss above. Its operator is
torch.ops.focal.yolo_dfl_loss.
"""

from typing import Optional

import torch
from torch import Tensor

from .. import _lib
from ._core import (_DTYPES, _autocast_cpu, _dfl_run, _f32, _register, _require, _row_sums,
                    _rows, _soft_run, _vector, _via_ops)

__all__ = ["DFLoss", "FocalLoss", "QFocalLoss"]


def _bce_of(loss_fcn, who):
    if not isinstance(loss_fcn, torch.nn.BCEWithLogitsLoss):
        raise TypeError(f"{who}(loss_fcn) needs a torch.nn.BCEWithLogitsLoss, not "
                        f"{type(loss_fcn).__name__} (the focal factors multiply its "
                        f"per-element binary cross-entropy)")
    if loss_fcn.reduction not in _lib.REDUCTIONS:
        raise ValueError(f"{who}: loss_fcn.reduction must be 'mean', 'sum' or 'none', "
                         f"not {loss_fcn.reduction!r}")
    return loss_fcn


def _class_pos_weight(pos_weight, classes):
    """(fusable, pw): pw the (classes,) float32 positive weights when
    pos_weight is one value or one per class of the last dimension, None when
    there is none or every one is 1 (which gives the same bits without, and
    YOLOv5's default cls_pw = obj_pw = 1 then takes the faster plain path);
    fusable False for any other pos_weight."""
    if pos_weight is None:
        return True, None
    if pos_weight.requires_grad or pos_weight.device.type != "cpu":
        return False, None
    pw = pos_weight.detach()
    while pw.dim() > 1 and pw.shape[0] == 1:
        pw = pw[0]
    if pw.dim() == 0 or pw.numel() == 1:
        pw = pw.reshape(1).to(torch.float32).expand(classes)
    elif not (pw.dim() == 1 and pw.shape[0] == classes):
        return False, None
    pw = _vector(pw, classes, "pos_weight", "one per class")
    if _via_ops():
        return True, pw  # the same bits as None when all are 1; no data-dependent branch
    return True, None if bool((pw == 1.0).all()) else pw


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _ultralytics(pred, true, pos_weight, weight, gamma, alpha, reduction, quality):
    """Ultralytics' expression itself, in PyTorch (the fallback)."""
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        pred, true, weight, reduction="none", pos_weight=pos_weight)
    pred_prob = torch.sigmoid(pred)
    alpha_factor = true * alpha + (1 - true) * (1 - alpha)
    if quality:
        modulating_factor = torch.abs(true - pred_prob) ** gamma
    else:
        p_t = true * pred_prob + (1 - true) * (1 - pred_prob)
        modulating_factor = (1.0 - p_t) ** gamma
    return _reduce(loss * (alpha_factor * modulating_factor), reduction)


def _fusable(pred, true, gamma, alpha):
    return (isinstance(pred, Tensor) and isinstance(true, Tensor)
            and pred.dtype in _DTYPES and true.dtype in _DTYPES
            and pred.device.type == "cpu" and true.device.type == "cpu"
            and pred.shape == true.shape and not true.requires_grad
            and pred.numel() > 0
            and 0.0 <= float(alpha) <= 1.0 and float(gamma) >= 0.0)


@torch.jit.unused
def _yolo_focal_loss(pred, true, pos_weight, weight, gamma, alpha, reduction, quality):
    """FocalLoss (quality False) or QFocalLoss (True) of Ultralytics, given its
    BCE's pos_weight and weight and the reduction the module took from it."""
    classes = pred.shape[-1] if isinstance(pred, Tensor) and pred.dim() > 0 else 1
    fusable, pw = _class_pos_weight(pos_weight, classes)
    if not fusable or not _fusable(pred, true, gamma, alpha):
        return _ultralytics(pred, true, pos_weight, weight, gamma, alpha, reduction, quality)
    # With a weight the fused pass gives per-element losses, which the
    # weight multiplies in PyTorch (autograd scales the stored gradient).
    red = "none" if weight is not None else reduction
    out_dtype = torch.promote_types(pred.dtype, true.dtype)
    if quality:
        _require("quality_focal", "focal.torch.yolo.QFocalLoss")
        s = _f32(true)
        # The quality loss takes one positive weight per element.
        pw_elem = None if pw is None else pw.expand(pred.numel() // classes, classes).reshape(-1)
        loss = _soft_run("quality", pred, s, float(alpha), float(gamma),
                         _lib.reduction_code(red), 0.0, None, pw_elem, _lib.FLAG_QUALITY_ALPHA,
                         out_dtype=out_dtype)
    else:
        x = pred.reshape(-1, classes)
        t = true.reshape(-1, classes)
        loss = _rows(False, x, t, float(alpha), float(gamma), red, 0.0, 0.0, None, None, pw)
        if red == "none":
            loss = loss.reshape(pred.shape)
    if weight is None:
        return loss
    return _reduce(loss * weight, reduction)


_register("yolo_focal_loss(Tensor pred, Tensor true, Tensor? pos_weight, Tensor? weight, "
          "float gamma, float alpha, str reduction, bool quality) -> Tensor",
          _yolo_focal_loss)


class _YoloFocal(torch.nn.Module):
    _quality = False

    def __init__(self, loss_fcn, gamma=1.5, alpha=0.25):
        super().__init__()
        who = type(self).__name__
        self.loss_fcn = _bce_of(loss_fcn, who)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.quality = self._quality
        # As the originals: the reduction is the BCE's, applied here; the BCE
        # itself then gives per-element losses.
        self.reduction = loss_fcn.reduction
        self.loss_fcn.reduction = "none"

    def forward(self, pred: Tensor, true: Tensor) -> Tensor:
        pos_weight: Optional[Tensor] = self.loss_fcn.pos_weight
        weight: Optional[Tensor] = self.loss_fcn.weight
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            return torch.ops.focal.yolo_focal_loss(pred, true, pos_weight, weight, self.gamma,
                                                   self.alpha, self.reduction, self.quality)
        return _yolo_focal_loss(pred, true, pos_weight, weight, self.gamma, self.alpha,
                                self.reduction, self.quality)


class FocalLoss(_YoloFocal):
    """Ultralytics' FocalLoss(loss_fcn, gamma=1.5, alpha=0.25) (YOLOv5
    utils/loss.py): bce a_t (1 - p_t)^gamma, see the module's docstring."""


class QFocalLoss(_YoloFocal):
    """Ultralytics' QFocalLoss(loss_fcn, gamma=1.5, alpha=0.25) (YOLOv5
    utils/loss.py): bce a_t |t - p|^gamma, see the module's docstring."""

    _quality = True


# ---- 1.4: Ultralytics' DFLoss (YOLOv8 / YOLO11) ------------------------------------


def _dfl_bounds(reg_max):
    # Ultralytics' clamp: [0, reg_max - 1 - 0.01], the right bin l + 1 at most reg_max - 1.
    return 0.0, reg_max - 1 - 0.01


def _ultralytics_dfl(pred_dist, target, reg_max):
    """Ultralytics' DFLoss expression, in PyTorch (the fallback), on a clamped copy."""
    t = target.detach().clamp(*_dfl_bounds(reg_max))
    left = t.long()
    right = left + 1
    w_left = right - t
    w_right = 1 - w_left
    ce = torch.nn.functional.cross_entropy
    loss = (ce(pred_dist, left.reshape(-1), reduction="none").view(left.shape) * w_left
            + ce(pred_dist, right.reshape(-1), reduction="none").view(left.shape) * w_right)
    return loss.mean(-1, keepdim=True)


@torch.jit.unused
def _yolo_dfl_loss(pred_dist, target, reg_max):
    for name, a in (("pred_dist", pred_dist), ("target", target)):
        if not isinstance(a, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, not {type(a).__name__}")
    if pred_dist.dim() != 2 or target.dim() == 0 or pred_dist.shape[0] != target.numel():
        raise ValueError(f"DFLoss: pred_dist must be (rows, reg_max) logits with one row per "
                         f"element of target (n, 4); got pred_dist {tuple(pred_dist.shape)}, "
                         f"target {tuple(target.shape)}")
    sides = target.shape[-1]
    if (pred_dist.dtype not in _DTYPES or target.dtype not in _DTYPES or sides == 0
            or pred_dist.device.type != "cpu" or target.device.type != "cpu"):
        return _ultralytics_dfl(pred_dist, target, reg_max)
    _require("distribution_focal", "focal.torch.yolo.DFLoss")
    # A float32 copy, clamped: the caller's target is left as it was.
    t = _f32(target).clamp(*_dfl_bounds(reg_max)).reshape(-1)
    if sides & (sides - 1) == 0:
        # The mean over a power-of-two number of sides as row weights 1 /
        # sides: an exact scaling of each row's loss and gradient, so the
        # row sums are the bits of sum / sides, and the gradient comes out
        # final (a loss.sum() backward then multiplies by nothing).
        w = torch.full((t.numel(),), 1.0 / sides, dtype=torch.float32)
        loss = _row_sums(_dfl_run(pred_dist, t, 0, 0.0, w, None, torch.float32)
                         .reshape(-1, sides))
    else:
        loss = _dfl_run(pred_dist, t, 0, 0.0, None, None, torch.float32)  # one per row
        loss = _row_sums(loss.reshape(-1, sides)) / sides
    loss = loss.reshape(tuple(target.shape[:-1]) + (1,))
    # Ultralytics' dtype: its CE (pred_dist's dtype) times weights in target's.
    out_dtype = (torch.float32 if _autocast_cpu()
                 else torch.promote_types(pred_dist.dtype, target.dtype))
    return loss if loss.dtype == out_dtype else loss.to(out_dtype)


_register("yolo_dfl_loss(Tensor pred_dist, Tensor target, int reg_max) -> Tensor",
          _yolo_dfl_loss)


class DFLoss(torch.nn.Module):
    """Ultralytics' DFLoss(reg_max=16) (YOLOv8 / YOLO11 utils/loss.py): the
    Distribution Focal Loss of pred_dist (n * 4, reg_max) logits against
    target (n, 4) distances in bins, averaged over the 4 sides: (n, 1).
    See the module's docstring; unlike Ultralytics', target is not clamped
    in place."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.reg_max = int(reg_max)

    def extra_repr(self):
        return f"reg_max={self.reg_max}"

    def forward(self, pred_dist: Tensor, target: Tensor) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            return torch.ops.focal.yolo_dfl_loss(pred_dist, target, self.reg_max)
        return _yolo_dfl_loss(pred_dist, target, self.reg_max)
