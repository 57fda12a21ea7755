# SPDX-License-Identifier: MIT
"""mmdet 3.x's focal losses as reference expressions, written for these tests.

Written from mmdet 3.x's semantics (mmdet/models/losses/focal_loss.py,
gfocal_loss.py, varifocal_loss.py and utils.py), not copied: the CPU path of
FocalLoss (one_hot with num_classes + 1 columns, background dropped;
py_sigmoid_focal_loss with its weight reshaping), quality_focal_loss (label,
score) and its tensor-target form, varifocal_loss, distribution_focal_loss
(its weights made with .float(), so float32 unless the target is float64),
and weight_reduce_loss dividing by avg_factor + float32 eps. They run in whatever dtype they are
given: float64 for the values, float32 for the result's dtype and shape.
"""

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
