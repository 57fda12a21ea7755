# SPDX-License-Identifier: MIT
"""mmdet 3.x's focal and box regression losses as reference expressions,
written for these tests.

Written from mmdet 3.x's semantics (mmdet/models/losses/focal_loss.py,
gfocal_loss.py, varifocal_loss.py, iou_loss.py, smooth_l1_loss.py and
utils.py, mmdet/structures/bbox/bbox_overlaps.py), not copied: the CPU path of
FocalLoss (one_hot with num_classes + 1 columns, background dropped;
py_sigmoid_focal_loss with its weight reshaping), quality_focal_loss (label,
score) and its tensor-target form, varifocal_loss, distribution_focal_loss
(its weights made with .float(), so float32 unless the target is float64),
and weight_reduce_loss dividing by avg_factor + float32 eps; the box losses
of mmdet 3.3 (IoULoss, GIoULoss, DIoULoss, CIoULoss, SmoothL1Loss, L1Loss)
with their forward's exits and weight handling. They run in whatever dtype
they are given: float64 for the values, float32 or a low precision for the
result's dtype and shape.
"""

import math

import torch
import torch.nn.functional as F


def reduce_loss(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def weight_reduce_loss(loss, weight=None, reduction="mean", avg_factor=None):
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return reduce_loss(loss, reduction)
    if reduction == "mean":
        return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
    if reduction != "none":
        raise ValueError('avg_factor can not be used with reduction="sum"')
    return loss


def py_sigmoid_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25, reduction="mean",
                          avg_factor=None):
    p = pred.sigmoid()
    target = target.type_as(pred)
    one_minus_pt = (1 - p) * target + p * (1 - target)
    modulator = (alpha * target + (1 - alpha) * (1 - target)) * one_minus_pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * modulator
    if weight is not None:
        if weight.shape != loss.shape:
            if weight.size(0) == loss.size(0):
                weight = weight.view(-1, 1)  # one weight per prior
            else:
                assert weight.numel() == loss.numel()  # FSAF: flattened per class
                weight = weight.view(loss.size(0), -1)
        assert weight.ndim == loss.ndim
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


def focal_loss(pred, target, weight=None, avg_factor=None, reduction_override=None,
               gamma=2.0, alpha=0.25, reduction="mean", loss_weight=1.0):
    """FocalLoss.forward, use_sigmoid=True, not activated, CPU."""
    assert reduction_override in (None, "none", "mean", "sum")
    reduction = reduction_override if reduction_override else reduction
    if pred.dim() != target.dim():
        classes = pred.size(1)
        target = F.one_hot(target, num_classes=classes + 1)[:, :classes]
    return loss_weight * py_sigmoid_focal_loss(pred, target, weight, gamma, alpha, reduction,
                                               avg_factor)


def _qfl_rows(pred, label, score, beta):
    p = pred.sigmoid()
    loss = F.binary_cross_entropy_with_logits(pred, torch.zeros_like(pred),
                                              reduction="none") * p.pow(beta)
    classes = pred.size(1)
    pos = ((label >= 0) & (label < classes)).nonzero().squeeze(1)
    cls = label[pos].long()
    gap = score[pos] - p[pos, cls]
    loss[pos, cls] = F.binary_cross_entropy_with_logits(
        pred[pos, cls], score[pos], reduction="none") * gap.abs().pow(beta)
    return loss.sum(dim=1)


def _qfl_tensor_rows(pred, target, beta):
    assert pred.size() == target.size()
    p = pred.sigmoid()
    target = target.type(pred.dtype)
    loss = F.binary_cross_entropy_with_logits(pred, torch.zeros_like(pred),
                                              reduction="none") * p.pow(beta)
    pos = target != 0
    gap = target[pos] - p[pos]
    loss[pos] = F.binary_cross_entropy_with_logits(pred[pos], target[pos],
                                                   reduction="none") * gap.abs().pow(beta)
    return loss.sum(dim=1)


def quality_focal_loss(pred, target, weight=None, avg_factor=None, reduction_override=None,
                       beta=2.0, reduction="mean", loss_weight=1.0):
    """QualityFocalLoss.forward, use_sigmoid=True, not activated."""
    assert reduction_override in (None, "none", "mean", "sum")
    reduction = reduction_override if reduction_override else reduction
    if isinstance(target, torch.Tensor):
        loss = _qfl_tensor_rows(pred, target, beta)
    else:
        label, score = target
        loss = _qfl_rows(pred, label, score, beta)
    return loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)


def varifocal_loss(pred, target, weight=None, avg_factor=None, reduction_override=None,
                   alpha=0.75, gamma=2.0, reduction="mean", loss_weight=1.0, iou_weighted=True):
    """VarifocalLoss.forward, use_sigmoid=True."""
    assert reduction_override in (None, "none", "mean", "sum")
    reduction = reduction_override if reduction_override else reduction
    assert pred.size() == target.size()
    p = pred.sigmoid()
    target = target.type_as(pred)
    positive = target if iou_weighted else torch.ones_like(target)
    modulator = (positive * (target > 0.0).float()
                 + alpha * (p - target).abs().pow(gamma) * (target <= 0.0).float())
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * modulator
    return loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)


def _dfl_rows(pred, label):
    """distribution_focal_loss before weighted_loss: one loss per row of bins."""
    left = label.long()  # truncates: floor for the targets >= 0 it is given
    right = left + 1
    w_left = right.float() - label
    w_right = label - left.float()
    ce_left = F.cross_entropy(pred, left, reduction="none")
    ce_right = F.cross_entropy(pred, right, reduction="none")
    return ce_left * w_left + ce_right * w_right


def distribution_focal_loss(pred, target, weight=None, avg_factor=None, reduction_override=None,
                            reduction="mean", loss_weight=1.0):
    """DistributionFocalLoss.forward: the @weighted_loss distribution_focal_loss."""
    assert reduction_override in (None, "none", "mean", "sum")
    reduction = reduction_override if reduction_override else reduction
    return loss_weight * weight_reduce_loss(_dfl_rows(pred, target), weight, reduction,
                                            avg_factor)


# ---- box regression losses (mmdet 3.3) ---------------------------------------------


def clamp(x, lo, hi=None):
    """x.clamp(lo, hi) in value; its gradient is the rule the library
    documents (PyTorch 2.14's autograd): it passes only strictly inside the
    bounds, nothing at a bound (PyTorch <= 2.13 passes it there). Written
    with where, so that every PyTorch gives that rule."""
    below = x <= lo
    inside = ~below if hi is None else ~below & (x < hi)
    bound = torch.full_like(x, lo)
    if hi is not None:
        bound = torch.where(below, bound, torch.full_like(x, hi))
    return torch.where(inside | torch.isnan(x), x, bound)


def aligned_overlaps(b1, b2, giou=False, eps=1e-6):
    """bbox_overlaps(b1, b2, mode="iou" or "giou", is_aligned=True, eps):
    the IoU (or GIoU) of each box of (..., n, 4) b1 with its partner in b2;
    extents and the enclosure clamped at 0, union and enclosure floored at
    eps (torch.max against a 1-element tensor of eps in the union's dtype).
    No boxes: a new, empty tensor (not a function of b1)."""
    if b1.size(-2) == 0:
        return b1.new_empty(b1.shape[:-1])
    area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
    area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
    near = torch.maximum(b1[..., :2], b2[..., :2])
    far = torch.minimum(b1[..., 2:], b2[..., 2:])
    extent = clamp(far - near, 0.0)
    inter = extent[..., 0] * extent[..., 1]
    floor = area1.new_tensor([eps])
    union = torch.maximum(area1 + area2 - inter, floor)
    iou = inter / union
    if not giou:
        return iou
    hull = clamp(torch.maximum(b1[..., 2:], b2[..., 2:]) - torch.minimum(b1[..., :2], b2[..., :2]),
                 0.0)
    enclosure = torch.maximum(hull[..., 0] * hull[..., 1], floor)
    return iou - (enclosure - union) / enclosure


def iou_loss_boxes(pred, target, mode="log", eps=1e-6):
    """iou_loss: the IoU (bbox_overlaps' own eps, 1e-6) clamped at eps; a
    float16 pred is computed in float32 and the IoU cast back."""
    assert mode in ("linear", "square", "log")
    half = pred.dtype == torch.float16
    iou = clamp(aligned_overlaps(pred.float() if half else pred, target), eps)
    if half:
        iou = iou.half()
    if mode == "linear":
        return 1 - iou
    return 1 - iou**2 if mode == "square" else -iou.log()


def giou_loss_boxes(pred, target, eps=1e-6):
    half = pred.dtype == torch.float16
    g = aligned_overlaps(pred.float() if half else pred, target, giou=True, eps=eps)
    return 1 - (g.half() if half else g)


def _distance_terms(pred, target, eps):
    """diou_loss's and ciou_loss's shared part on (n, 4) boxes: the IoU with
    eps added to the union, and rho^2 / c^2 with eps added to c^2."""
    near = torch.maximum(pred[:, :2], target[:, :2])
    far = torch.minimum(pred[:, 2:], target[:, 2:])
    extent = clamp(far - near, 0.0)
    inter = extent[:, 0] * extent[:, 1]
    area_p = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_t = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    iou = inter / (area_p + area_t - inter + eps)
    hull = clamp(torch.maximum(pred[:, 2:], target[:, 2:]) - torch.minimum(pred[:, :2],
                                                                          target[:, :2]), 0.0)
    c2 = hull[:, 0] ** 2 + hull[:, 1] ** 2 + eps
    dx = (target[:, 0] + target[:, 2]) - (pred[:, 0] + pred[:, 2])
    dy = (target[:, 1] + target[:, 3]) - (pred[:, 1] + pred[:, 3])
    rho2 = dx**2 / 4 + dy**2 / 4
    return iou, rho2 / c2


def diou_loss_boxes(pred, target, eps=1e-6):
    iou, penalty = _distance_terms(pred, target, eps)
    return 1 - (iou - penalty)


def ciou_loss_boxes(pred, target, eps=1e-6):
    """ciou_loss: eps also in the heights of the aspect ratios; alpha is
    v / (1 - iou + v) where iou > 0.5, else 0, float32-typed by its mask
    and without gradient; CIoU clamped to [-1, 1]."""
    iou, penalty = _distance_terms(pred, target, eps)
    w_p, h_p = pred[:, 2] - pred[:, 0], pred[:, 3] - pred[:, 1] + eps
    w_t, h_t = target[:, 2] - target[:, 0], target[:, 3] - target[:, 1] + eps
    v = (4 / math.pi**2) * (torch.atan(w_t / h_t) - torch.atan(w_p / h_p)) ** 2
    with torch.no_grad():
        alpha = (iou > 0.5).float() * v / (1 - iou + v)
    return 1 - clamp(iou - (penalty + alpha * v), -1.0, 1.0)


def smooth_l1_elements(pred, target, beta=1.0):
    assert beta > 0
    if target.numel() == 0:
        return pred.sum() * 0
    assert pred.size() == target.size()
    a = (pred - target).abs()
    return torch.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)


def l1_elements(pred, target):
    if target.numel() == 0:
        return pred.sum() * 0
    assert pred.size() == target.size()
    return (pred - target).abs()


def _nothing_weighted(pred, weight):
    if pred.dim() == weight.dim() + 1:
        weight = weight.unsqueeze(1)
    return (pred * weight).sum()


_BOX_FUNCTIONS = {"giou": giou_loss_boxes, "diou": diou_loss_boxes, "ciou": ciou_loss_boxes}


def box_module_loss(module, pred, target, weight=None, avg_factor=None, reduction_override=None,
                    eps=1e-6, reduction="mean", loss_weight=1.0, mode="log", beta=1.0,
                    linear=False):
    """The forward of mmdet's IoULoss ("iou", with mode; linear: forward's
    keyword), GIoULoss ("giou"), DIoULoss ("diou"), CIoULoss ("ciou"),
    SmoothL1Loss ("smooth_l1", with beta) or L1Loss ("l1")."""
    if module == "iou":
        # IoULoss: the override asserted first; no exit for "none"
        assert reduction_override in (None, "none", "mean", "sum")
        reduction = reduction_override if reduction_override else reduction
        if weight is not None and not torch.any(weight > 0) and reduction != "none":
            return _nothing_weighted(pred, weight)
    else:
        if weight is not None and not torch.any(weight > 0):
            return _nothing_weighted(pred, weight)
        assert reduction_override in (None, "none", "mean", "sum")
        reduction = reduction_override if reduction_override else reduction
    if module in ("smooth_l1", "l1"):
        loss = smooth_l1_elements(pred, target, beta) if module == "smooth_l1" \
            else l1_elements(pred, target)
    else:
        if weight is not None and weight.dim() > 1:
            assert weight.shape == pred.shape
            weight = weight.mean(-1)
        if module == "iou":
            loss = iou_loss_boxes(pred, target, "linear" if linear else mode, eps)
        else:
            loss = _BOX_FUNCTIONS[module](pred, target, eps)
    return loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)
