# SPDX-License-Identifier: MIT
"""Ultralytics' FocalLoss and QFocalLoss (YOLOv5 utils/loss.py), written
again here as the reference of focal.torch.yolo: the expressions as YOLOv5
has them, evaluated by PyTorch in whatever dtype the inputs have (the tests
pass float64). Also smooth_BCE, which makes YOLOv5's class targets, and
YOLOv8 / YOLO11's DFLoss (written from its definition: the clamp in place,
the weights wl = tr - t and wr = 1 - wl, the two cross-entropies, the mean
over the last dimension).

Then YOLOv8 / YOLO11's box loss as Ultralytics 8.4 has it, written from its
definitions with its operations in its order (so that float64 gives the
package's bits): bbox_iou (utils/metrics.py: IoU, GIoU, DIoU, CIoU of
xywh or xyxy boxes, eps in the xyxy heights only), bbox2dist (utils/tal.py)
and BboxLoss (utils/loss.py: the CIoU term, the DFL term with DFLoss8
(8.4's log-softmax-and-gather form of DFLoss), 8.4's L1 term when
reg_max <= 1 and, called without imgsz and stride, the 0 of earlier 8.x)."""

import math

import torch
import torch.nn.functional as F
from torch import nn


def smooth_BCE(eps=0.1):  # noqa: N802 (Ultralytics' name)
    """Positive and negative label smoothing targets: 1 - eps/2, eps/2."""
    return 1.0 - 0.5 * eps, 0.5 * eps


class FocalLoss(nn.Module):
    def __init__(self, loss_fcn, gamma=1.5, alpha=0.25):
        super().__init__()
        self.loss_fcn = loss_fcn  # must be nn.BCEWithLogitsLoss()
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = loss_fcn.reduction
        self.loss_fcn.reduction = "none"  # required to apply FL to each element

    def forward(self, pred, true):
        loss = self.loss_fcn(pred, true)
        pred_prob = torch.sigmoid(pred)  # prob from logits
        p_t = true * pred_prob + (1 - true) * (1 - pred_prob)
        alpha_factor = true * self.alpha + (1 - true) * (1 - self.alpha)
        modulating_factor = (1.0 - p_t) ** self.gamma
        loss *= alpha_factor * modulating_factor
        if self.reduction == "mean":
            return loss.mean()
        elif self.reduction == "sum":
            return loss.sum()
        else:
            return loss


class QFocalLoss(nn.Module):
    def __init__(self, loss_fcn, gamma=1.5, alpha=0.25):
        super().__init__()
        self.loss_fcn = loss_fcn
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = loss_fcn.reduction
        self.loss_fcn.reduction = "none"

    def forward(self, pred, true):
        loss = self.loss_fcn(pred, true)
        pred_prob = torch.sigmoid(pred)
        alpha_factor = true * self.alpha + (1 - true) * (1 - self.alpha)
        modulating_factor = torch.abs(true - pred_prob) ** self.gamma
        loss *= alpha_factor * modulating_factor
        if self.reduction == "mean":
            return loss.mean()
        elif self.reduction == "sum":
            return loss.sum()
        else:
            return loss


class DFLoss(nn.Module):
    """Ultralytics' Distribution Focal Loss: pred_dist (n * 4, reg_max)
    logits, target (n, 4) distances in bins, clamped in place, as there."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.reg_max = reg_max

    def __call__(self, pred_dist, target):
        target = target.clamp_(0, self.reg_max - 1 - 0.01)  # the caller's tensor changes
        left = target.long()
        right = left + 1
        w_left = right - target
        w_right = 1 - w_left
        ce_left = F.cross_entropy(pred_dist, left.view(-1), reduction="none").view(left.shape)
        ce_right = F.cross_entropy(pred_dist, right.view(-1), reduction="none").view(left.shape)
        return (ce_left * w_left + ce_right * w_right).mean(-1, keepdim=True)


def bbox_iou(box1, box2, xywh=True, GIoU=False, DIoU=False, CIoU=False,  # noqa: N803
             eps=1e-7):
    """The IoU-like similarity of boxes (..., 4) that broadcast: (..., 1)."""
    p1, p2 = box1.chunk(4, -1), box2.chunk(4, -1)
    if xywh:
        # the centre -/+ half the size; w and h as given (no eps)
        x1, y1, w1, h1 = p1
        x2, y2, w2, h2 = p2
        hw1, hh1, hw2, hh2 = w1 / 2, h1 / 2, w2 / 2, h2 / 2
        l1, r1, t1, b1 = x1 - hw1, x1 + hw1, y1 - hh1, y1 + hh1
        l2, r2, t2, b2 = x2 - hw2, x2 + hw2, y2 - hh2, y2 + hh2
    else:
        l1, t1, r1, b1 = p1
        l2, t2, r2, b2 = p2
        w1, h1 = r1 - l1, b1 - t1 + eps
        w2, h2 = r2 - l2, b2 - t2 + eps
    inter = ((r1.minimum(r2) - l1.maximum(l2)).clamp_(0)
             * (b1.minimum(b2) - t1.maximum(t2)).clamp_(0))
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    if not (CIoU or DIoU or GIoU):
        return iou
    cw = r1.maximum(r2) - l1.minimum(l2)
    ch = b1.maximum(b2) - t1.minimum(t2)
    if CIoU or DIoU:
        c2 = cw.pow(2) + ch.pow(2) + eps
        rho2 = ((l2 + r2 - l1 - r1).pow(2) + (t2 + b2 - t1 - b1).pow(2)) / 4
        if DIoU and not CIoU:
            return iou - rho2 / c2
        v = (4 / math.pi ** 2) * ((w2 / h2).atan() - (w1 / h1).atan()).pow(2)
        with torch.no_grad():
            alpha = v / (1 - iou + v + eps)
        return iou - (rho2 / c2 + v * alpha)
    c_area = cw * ch + eps
    return iou - (c_area - union) / c_area


def bbox2dist(anchor_points, bbox, reg_max=None):
    """Distances (left, top, right, bottom) from the anchor points to the
    sides of xyxy boxes, clamped in place to [0, reg_max - 0.01] if given."""
    lt, rb = bbox.chunk(2, -1)
    dist = torch.cat((anchor_points - lt, rb - anchor_points), -1)
    if reg_max is not None:
        dist = dist.clamp_(0, reg_max - 0.01)
    return dist


class DFLoss8(nn.Module):
    """DFLoss as Ultralytics 8.4 computes it: one log-softmax, two gathers."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.reg_max = reg_max

    def __call__(self, pred_dist, target):
        target = target.clamp_(0, self.reg_max - 1 - 0.01)
        left = target.long()
        right = left + 1
        w_left = right - target
        w_right = 1 - w_left
        logp = F.log_softmax(pred_dist, dim=1)
        lp_left = logp.gather(1, left.view(-1, 1)).view(left.shape)
        lp_right = logp.gather(1, right.view(-1, 1)).view(left.shape)
        return -(lp_left * w_left + lp_right * w_right).mean(-1, keepdim=True)


class BboxLoss(nn.Module):
    """The CIoU and DFL (or L1) box losses over the foreground anchors."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.dfl_loss = DFLoss8(reg_max) if reg_max > 1 else None

    def forward(self, pred_dist, pred_bboxes, anchor_points, target_bboxes, target_scores,
                target_scores_sum, fg_mask, imgsz=None, stride=None):
        fg = fg_mask.nonzero(as_tuple=True)
        weight = target_scores[fg].sum(-1, keepdim=True)
        iou = bbox_iou(pred_bboxes[fg], target_bboxes[fg], xywh=False, CIoU=True)
        loss_iou = ((1.0 - iou) * weight).sum() / target_scores_sum
        if self.dfl_loss:
            reg_max = self.dfl_loss.reg_max
            ltrb = bbox2dist(anchor_points, target_bboxes, reg_max - 1)
            loss_dfl = self.dfl_loss(pred_dist[fg].view(-1, reg_max), ltrb[fg]) * weight
            return loss_iou, loss_dfl.sum() / target_scores_sum
        if imgsz is None:  # Ultralytics before 8.4
            return loss_iou, torch.tensor(0.0).to(pred_dist.device)
        # 8.4: L1 of the distances in image units
        ltrb = bbox2dist(anchor_points, target_bboxes) * stride
        ltrb[..., 0::2] /= imgsz[1]
        ltrb[..., 1::2] /= imgsz[0]
        pred_dist = pred_dist * stride
        pred_dist[..., 0::2] /= imgsz[1]
        pred_dist[..., 1::2] /= imgsz[0]
        l1 = F.l1_loss(pred_dist[fg], ltrb[fg], reduction="none").mean(-1, keepdim=True)
        return loss_iou, (l1 * weight).sum() / target_scores_sum
