# SPDX-License-Identifier: MIT
"""YOLOv5 / Ultralytics drop-ins: FocalLoss and QFocalLoss around a BCE loss;
YOLOv8 / YOLO11's DFLoss, bbox_iou and BboxLoss.

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

bbox_iou(box1, box2, xywh=True, GIoU=False, DIoU=False, CIoU=False,
eps=1e-7) (libfocal 1.5) is Ultralytics' utils/metrics.py function: the IoU,
GIoU, DIoU or CIoU (CIoU first, then DIoU, then GIoU, as there) of boxes
(..., 4) that broadcast, as (..., 1). It is 1 - the fused loss of
focal_box_iou_loss (docs/DESIGN.md §2.8), whose gradient autograd carries:

    xywh=False  Ultralytics' convention: eps added to both heights, the
                union, the enclosure's area and diagonal, CIoU's alpha
    xywh=True   the corners x -/+ w / 2, y -/+ h / 2 are made in PyTorch (the
                centre and size get their gradient through them); the sizes
                then take no eps (Ultralytics uses w and h as given there),
                which is torchvision's convention: eps in the union, the
                enclosure and alpha only. torchvision's CIoU has the union
                eps 1e-7 whatever eps is, so CIoU with another eps runs
                Ultralytics' expression in PyTorch.

The areas and CIoU's ratio come from the corners (x2 - x1) where
Ultralytics' xywh branch takes w and h as given: the same in exact
arithmetic, different in float rounding only. The gradient goes to one box:
box1, or box2 when box2 alone wants one (the similarity is symmetric); when
both want one, Ultralytics' expression runs in PyTorch. float32, bfloat16 and
float16 CPU boxes are fused (computed in float32; the result in their
promoted dtype, float32 under CPU autocast); other dtypes or devices, a
negative or non-finite eps, a last dimension other than 4 run Ultralytics'
expression (its float64 bits). Its operator is torch.ops.focal.yolo_bbox_iou.

BboxLoss(reg_max=16) (libfocal 1.5) is YOLOv8 / YOLO11's box loss
(utils/loss.py): forward(pred_dist, pred_bboxes, anchor_points,
target_bboxes, target_scores, target_scores_sum, fg_mask, imgsz=None,
stride=None) -> (loss_iou, loss_dfl). With weight = the sum of each
foreground anchor's target scores:

    loss_iou = sum(weight (1 - CIoU(pred_bboxes, target_bboxes))) / target_scores_sum
    loss_dfl = sum(weight DFLoss(pred_dist, bbox2dist(anchor_points,
                   target_bboxes, reg_max - 1))) / target_scores_sum

over the anchors of fg_mask; CIoU is bbox_iou's (xyxy, eps 1e-7). Each
term is one fused call with the weights (for the DFL, a quarter of the box's
weight on each side's row) and the division by target_scores_sum inside
(read from the tensor in the call, so a compiled graph has no data-dependent
branch). With reg_max <= 1 there is no DFL: Ultralytics 8.4 then takes the
L1 distance of the distances scaled by stride / imgsz (imgsz and stride,
which 8.4 passes; the fused focal_smooth_l1 with beta 0), and earlier 8.x
returned loss_dfl 0 (their forward has no imgsz and stride: called without
them, so does this one). target_bboxes, target_scores, target_scores_sum
and anchor_points get no gradient (Ultralytics' come from its assigner
without one); their distances are computed in float32. float32, bfloat16
and float16 CPU tensors are fused; anything else runs Ultralytics'
expression in PyTorch. Its operator is torch.ops.focal.yolo_bbox_loss.
"""

import math
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from .. import _lib, _spec
from ._core import (_DTYPES, _autocast_cpu, _box_run, _compiling, _dfl_run, _f32,
                    _library_divisor, _pair_run, _register, _require, _row_sums, _rows,
                    _soft_run, _vector, _via_ops)

__all__ = ["BboxLoss", "DFLoss", "FocalLoss", "QFocalLoss", "bbox_iou"]


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


# ---- 1.5: Ultralytics' bbox_iou and BboxLoss (YOLOv8 / YOLO11) ----------------------

_SUM = _lib.reduction_code("sum")
_NONE = _lib.reduction_code("none")
_CIOU = _spec.BOX_LOSSES.index("ciou")
_XYXY = _spec.BOX_CONVENTIONS.index("ultralytics")  # bbox_iou(xywh=False)
# bbox_iou(xywh=True): the sizes as given, eps in the union, enclosure and alpha only
_XYWH = _spec.BOX_CONVENTIONS.index("torchvision")
# torchvision's CIoU has this union eps whatever the call's (DESIGN §2.8)
_TORCHVISION_CIOU_UNION_EPS = float(np.float32(1e-7))


def _box_kind(giou, diou, ciou):
    """The library's loss for Ultralytics' flags: CIoU first, then DIoU, then
    GIoU (the order of its branches), else IoU."""
    return _spec.BOX_LOSSES.index("ciou" if ciou else "diou" if diou else "giou" if giou
                                  else "iou")


def _ultralytics_bbox_iou(box1, box2, xywh, giou, diou, ciou, eps):
    """Ultralytics' bbox_iou expression, in PyTorch (the fallback): its
    operations in its order, so that float64 gives the package's bits."""
    a, b = box1.chunk(4, -1), box2.chunk(4, -1)
    if xywh:
        # corners at the centre -/+ half the size; the sizes as given
        aw, ah, bw, bh = a[2], a[3], b[2], b[3]
        a_hw, a_hh, b_hw, b_hh = aw / 2, ah / 2, bw / 2, bh / 2
        ax1, ax2, ay1, ay2 = a[0] - a_hw, a[0] + a_hw, a[1] - a_hh, a[1] + a_hh
        bx1, bx2, by1, by2 = b[0] - b_hw, b[0] + b_hw, b[1] - b_hh, b[1] + b_hh
    else:
        # corners as given; eps in both heights
        ax1, ay1, ax2, ay2 = a
        bx1, by1, bx2, by2 = b
        aw, ah = ax2 - ax1, ay2 - ay1 + eps
        bw, bh = bx2 - bx1, by2 - by1 + eps
    inter = ((ax2.minimum(bx2) - ax1.maximum(bx1)).clamp(0)
             * (ay2.minimum(by2) - ay1.maximum(by1)).clamp(0))
    union = aw * ah + bw * bh - inter + eps
    iou = inter / union
    if not (giou or diou or ciou):
        return iou
    cw = ax2.maximum(bx2) - ax1.minimum(bx1)  # the enclosing box
    ch = ay2.maximum(by2) - ay1.minimum(by1)
    if diou or ciou:
        c2 = cw.pow(2) + ch.pow(2) + eps
        rho2 = ((bx1 + bx2 - ax1 - ax2).pow(2) + (by1 + by2 - ay1 - ay2).pow(2)) / 4
        if not ciou:
            return iou - rho2 / c2
        v = (4 / math.pi ** 2) * ((bw / bh).atan() - (aw / ah).atan()).pow(2)
        with torch.no_grad():  # alpha is a constant of the gradient
            alpha = v / (1 - iou + v + eps)
        return iou - (rho2 / c2 + v * alpha)
    c_area = cw * ch + eps
    return iou - (c_area - union) / c_area


def _xywh_corners(boxes):
    """(x, y, w, h) -> (x1, y1, x2, y2) as Ultralytics' xywh branch makes
    them: the centre minus and plus half the size."""
    half = boxes[..., 2:] / 2
    return torch.cat((boxes[..., :2] - half, boxes[..., :2] + half), -1)


def _fusable_tensors(*tensors):
    return all(isinstance(t, Tensor) and t.dtype in _DTYPES and t.device.type == "cpu"
               for t in tensors)


def _wants_grad(t):
    return isinstance(t, Tensor) and t.requires_grad and torch.is_grad_enabled()


def _out_dtype(*tensors):
    """The dtype Ultralytics' expression gives: the tensors' promoted dtype
    (float32 under CPU autocast, as every fused loss here)."""
    if _autocast_cpu():
        return torch.float32
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if isinstance(t, Tensor):
            dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def _cast(t, dtype):
    return t if t.dtype == dtype else t.to(dtype)


@torch.jit.unused
def _yolo_bbox_iou(box1, box2, xywh=True, giou=False, diou=False, ciou=False, eps=1e-7):
    # (the schema's defaults: the dispatcher may leave defaulted arguments out)
    kind = _box_kind(giou, diou, ciou)
    conv = _XYXY
    if xywh:
        # torchvision's CIoU fixes its union eps at 1e-7: another eps is not
        # Ultralytics' xywh CIoU there.
        ciou_eps_fixed = kind == _CIOU and float(np.float32(eps)) != _TORCHVISION_CIOU_UNION_EPS
        conv = None if ciou_eps_fixed else _XYWH
    grad1, grad2 = _wants_grad(box1), _wants_grad(box2)
    if (conv is None or not _fusable_tensors(box1, box2) or (grad1 and grad2)
            or not 0.0 <= float(eps) < math.inf
            or box1.shape[-1:] != (4,) or box2.shape[-1:] != (4,)):
        return _ultralytics_bbox_iou(box1, box2, xywh, giou, diou, ciou, eps)
    _require("box_iou", "focal.torch.yolo.bbox_iou")
    out_dtype = _out_dtype(box1, box2)
    if grad2:
        # The library's gradient is the predicted box's: the similarity is
        # symmetric, so the box that wants one takes that place.
        box1, box2 = box2, box1
    pred = _cast(box1, torch.float32)
    target = _f32(box2)
    if xywh:
        pred, target = _xywh_corners(pred), _xywh_corners(target)
    shape = torch.broadcast_shapes(pred.shape, target.shape)
    pred = pred.expand(shape).reshape(-1, 4)
    target = target.expand(shape).reshape(-1, 4).contiguous()
    loss = _box_run(pred, target, kind, conv, float(eps), _NONE, 0.0, None, None,
                    torch.float32)
    # 1 - loss in float32, then rounded once to the boxes' dtype
    iou = (1.0 - loss).reshape(tuple(shape[:-1]) + (1,))
    return _cast(iou, out_dtype)


_register("yolo_bbox_iou(Tensor box1, Tensor box2, bool xywh=True, bool GIoU=False, "
          "bool DIoU=False, bool CIoU=False, float eps=1e-07) -> Tensor", _yolo_bbox_iou)


def bbox_iou(box1: Tensor, box2: Tensor, xywh: bool = True, GIoU: bool = False,  # noqa: N803
             DIoU: bool = False, CIoU: bool = False, eps: float = 1e-7) -> Tensor:  # noqa: N803
    """Ultralytics' bbox_iou (utils/metrics.py): the IoU, or with GIoU,
    DIoU or CIoU that similarity, of boxes box1 and box2 (..., 4) that
    broadcast, x, y, w, h (xywh) or x1, y1, x2, y2: (..., 1). Fused as
    1 - focal_box_iou_loss; see the module's docstring."""
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.yolo_bbox_iou(box1, box2, xywh, GIoU, DIoU, CIoU, float(eps))
    return _yolo_bbox_iou(box1, box2, xywh, GIoU, DIoU, CIoU, eps)


def _bbox2dist(anchor_points, bbox, reg_max=None):
    """Ultralytics' bbox2dist (utils/tal.py): each anchor point's distances to
    the box's left, top, right and bottom sides, clamped to [0, reg_max - 0.01]
    when reg_max is given."""
    dist = torch.cat((anchor_points - bbox[..., :2], bbox[..., 2:] - anchor_points), -1)
    return dist if reg_max is None else dist.clamp(0, reg_max - 0.01)


def _image_scaled(dist, stride, imgsz):
    """Ultralytics 8.4's L1 distances: dist * stride, the x sides divided by
    the image's width imgsz[1], the y sides by its height imgsz[0]."""
    dist = dist * stride
    dist[..., 0::2] /= imgsz[1]
    dist[..., 1::2] /= imgsz[0]
    return dist


def _ultralytics_dfl_gathered(pred_dist, target, reg_max):
    """Ultralytics 8.4's DFLoss expression: _ultralytics_dfl's values, with
    the log-probabilities computed once and the two bins' gathered (in
    float64, the package's gradient bits too)."""
    t = target.detach().clamp(*_dfl_bounds(reg_max))
    left = t.long()
    right = left + 1
    w_left = right - t
    w_right = 1 - w_left
    logp = torch.nn.functional.log_softmax(pred_dist, dim=1)
    at_left = logp.gather(1, left.view(-1, 1)).view(left.shape)
    at_right = logp.gather(1, right.view(-1, 1)).view(left.shape)
    return -(at_left * w_left + at_right * w_right).mean(-1, keepdim=True)


def _ultralytics_bbox_loss(pred_dist, pred_bboxes, anchor_points, target_bboxes,
                           target_scores, target_scores_sum, fg_mask, imgsz, stride, reg_max):
    """Ultralytics' BboxLoss expression, in PyTorch (the fallback)."""
    fg_mask = fg_mask.nonzero(as_tuple=True)
    weight = target_scores[fg_mask].sum(-1, keepdim=True)
    iou = _ultralytics_bbox_iou(pred_bboxes[fg_mask], target_bboxes[fg_mask], False, False,
                                False, True, 1e-7)
    loss_iou = ((1.0 - iou) * weight).sum() / target_scores_sum
    if reg_max > 1:
        ltrb = _bbox2dist(anchor_points, target_bboxes, reg_max - 1)
        dfl = _ultralytics_dfl_gathered(pred_dist[fg_mask].view(-1, reg_max), ltrb[fg_mask],
                                        reg_max)
        loss_dfl = (dfl * weight).sum() / target_scores_sum
    elif imgsz is None:  # Ultralytics before 8.4: no distance loss without DFL
        loss_dfl = torch.tensor(0.0).to(pred_dist.device)
    else:
        ltrb = _image_scaled(_bbox2dist(anchor_points, target_bboxes), stride, imgsz)
        pred = _image_scaled(pred_dist, stride, imgsz)
        l1 = torch.nn.functional.l1_loss(pred[fg_mask], ltrb[fg_mask], reduction="none")
        loss_dfl = (l1.mean(-1, keepdim=True) * weight).sum() / target_scores_sum
    return loss_iou, loss_dfl


def _scores_sum_divided(call, target_scores_sum):
    """call(normalizer, divisor), a fused sum, divided by target_scores_sum:
    inside the call where the library can take it (a 0-d CPU tensor, read
    in the call, so a compiled graph has no data-dependent branch; a
    number), else by torch (a tensor of another shape gives Ultralytics'
    shape)."""
    s = target_scores_sum
    if not isinstance(s, Tensor) and _compiling():
        s = torch.tensor(s, dtype=torch.float32)  # a traced number may be symbolic
    if isinstance(s, Tensor):
        if s.dim() == 0 and s.dtype in _DTYPES and s.device.type == "cpu":
            return call(0.0, s.detach())
        return call(0.0, None) / s
    f = _library_divisor(s)
    return call(f, None) if f is not None else call(0.0, None) / s


def _score_sums(scores):
    """Each row's sum of scores in float32: a product with ones (the same
    bits eagerly and compiled) outside autocast, whose CPU policy would run
    the product in the low precision."""
    with torch.autocast("cpu", enabled=False):
        return _row_sums(_f32(scores))


def _side_weights(weight):
    """A box's weight over its 4 sides' rows: a quarter each (the DFL and
    L1 are the mean over the sides, times the weight)."""
    return (weight * 0.25).unsqueeze(1).expand(-1, 4).reshape(-1)


@torch.jit.unused
def _yolo_bbox_loss(pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores,
                    target_scores_sum, fg_mask, imgsz, stride, reg_max):
    if (imgsz is None) != (stride is None):
        raise ValueError("BboxLoss: imgsz and stride go together (Ultralytics 8.4 passes "
                         "both; earlier versions neither)")
    l1 = reg_max <= 1 and imgsz is not None
    tensors = (pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores)
    if l1:
        tensors += (imgsz, stride)
    s = target_scores_sum
    if (not _fusable_tensors(*tensors) or not isinstance(fg_mask, Tensor)
            or fg_mask.device.type != "cpu"
            or (isinstance(s, Tensor) and (s.device.type != "cpu" or s.dtype not in _DTYPES))):
        return _ultralytics_bbox_loss(pred_dist, pred_bboxes, anchor_points, target_bboxes,
                                      target_scores, s, fg_mask, imgsz, stride, reg_max)
    _require("box_iou", "focal.torch.yolo.BboxLoss")
    if reg_max > 1:
        _require("distribution_focal", "focal.torch.yolo.BboxLoss")
        if pred_dist.shape[-1] != 4 * reg_max:
            raise ValueError(f"BboxLoss: pred_dist must be (..., 4 * reg_max) = (..., "
                             f"{4 * reg_max}) logits, got shape {tuple(pred_dist.shape)}")
    elif l1:
        _require("smooth_l1", "focal.torch.yolo.BboxLoss")

    # The foreground's indices, found once (as Ultralytics 8.4: a boolean
    # mask would be searched again by every indexing and its backward).
    lead = tuple(pred_dist.shape[:-1])
    fg = fg_mask.nonzero(as_tuple=True)
    # Each foreground box's weight: the sum of its target scores (a product
    # with ones: the same bits eagerly and compiled).
    weight = _score_sums(target_scores[fg])
    pred = pred_bboxes[fg].reshape(-1, 4)
    target = _f32(target_bboxes[fg]).reshape(-1, 4)
    loss_iou = _scores_sum_divided(
        lambda normalizer, divisor: _box_run(pred, target, _CIOU, _XYXY, 1e-7, _SUM, normalizer,
                                             weight, divisor, torch.float32), s)
    loss_iou = _cast(loss_iou, _out_dtype(pred_bboxes, target_bboxes, target_scores, s))

    dfl_dtype = _out_dtype(pred_dist, anchor_points, target_bboxes, target_scores, s)
    if reg_max > 1:
        # the foreground's anchor points, then their distances
        points = _f32(anchor_points).expand(tuple(target_bboxes.shape[:-1]) + (2,))[fg]
        ltrb = _bbox2dist(points, target, reg_max - 1)
        # The 4 sides' rows of each foreground anchor. (Masking the
        # (..., 4 * reg_max) logits and then splitting each row in 4, as
        # Ultralytics' view does, gave wrong gradients under torch.compile
        # with PyTorch 2.14: the first row's, in every row.)
        rows = pred_dist.reshape(lead + (4, reg_max))[fg]
        rows = rows.reshape(-1, reg_max)
        loss_dfl = _scores_sum_divided(
            lambda normalizer, divisor: _dfl_run(rows, ltrb.reshape(-1), _SUM, normalizer,
                                                 _side_weights(weight), divisor,
                                                 torch.float32), s)
    elif l1:
        st, size = _f32(stride), _f32(imgsz)
        ltrb = _image_scaled(_bbox2dist(_f32(anchor_points), _f32(target_bboxes)), st, size)
        dist = _image_scaled(_cast(pred_dist, torch.float32), st, size)[fg]
        ltrb = ltrb[fg].contiguous()
        loss_dfl = _scores_sum_divided(
            lambda normalizer, divisor: _pair_run(dist, ltrb, 0.0, _SUM, normalizer,
                                                  _side_weights(weight), divisor,
                                                  torch.float32), s)
        dfl_dtype = _out_dtype(pred_dist, anchor_points, target_bboxes, target_scores, s,
                               imgsz, stride)
    else:  # Ultralytics before 8.4
        return loss_iou, torch.tensor(0.0).to(pred_dist.device)
    return loss_iou, _cast(loss_dfl, dfl_dtype)


_register("yolo_bbox_loss(Tensor pred_dist, Tensor pred_bboxes, Tensor anchor_points, "
          "Tensor target_bboxes, Tensor target_scores, Tensor target_scores_sum, "
          "Tensor fg_mask, Tensor? imgsz, Tensor? stride, int reg_max) -> (Tensor, Tensor)",
          _yolo_bbox_loss)


class BboxLoss(torch.nn.Module):
    """Ultralytics' BboxLoss(reg_max=16) (YOLOv8 / YOLO11 utils/loss.py):
    forward(pred_dist, pred_bboxes, anchor_points, target_bboxes,
    target_scores, target_scores_sum, fg_mask, imgsz=None, stride=None) ->
    (loss_iou, loss_dfl), the CIoU and DFL terms over the foreground anchors,
    each one fused call. dfl_loss is a DFLoss when reg_max > 1, else None, as
    there. See the module's docstring."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.reg_max = int(reg_max)
        self.dfl_loss = DFLoss(reg_max) if reg_max > 1 else None

    def forward(self, pred_dist: Tensor, pred_bboxes: Tensor, anchor_points: Tensor,
                target_bboxes: Tensor, target_scores: Tensor, target_scores_sum: Tensor,
                fg_mask: Tensor, imgsz: Optional[Tensor] = None,
                stride: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            return torch.ops.focal.yolo_bbox_loss(pred_dist, pred_bboxes, anchor_points,
                                                  target_bboxes, target_scores,
                                                  target_scores_sum, fg_mask, imgsz, stride,
                                                  self.reg_max)
        return _yolo_bbox_loss(pred_dist, pred_bboxes, anchor_points, target_bboxes,
                               target_scores, target_scores_sum, fg_mask, imgsz, stride,
                               self.reg_max)
