# SPDX-License-Identifier: MIT
"""Ultralytics' FocalLoss and QFocalLoss (YOLOv5 utils/loss.py), written
again here as the reference of focal.torch.yolo: the expressions as YOLOv5
has them, evaluated by PyTorch in whatever dtype the inputs have (the tests
pass float64). Also smooth_BCE, which makes YOLOv5's class targets, and
YOLOv8 / YOLO11's DFLoss (written from its definition: the clamp in place,
the weights wl = tr - t and wr = 1 - wl, the two cross-entropies, the mean
over the last dimension)."""

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
