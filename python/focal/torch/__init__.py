# SPDX-License-Identifier: MIT
"""A libfocal-backed drop-in for torchvision.ops.sigmoid_focal_loss.

    from focal.torch import sigmoid_focal_loss
    loss = sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2, reduction="mean")

Same signature and results as torchvision's, but the forward pass computes
the loss and its gradient in one fused call and keeps the gradient; backward
hands it on, scaled in place by the incoming gradient unless that is 1.
Differences, by design:

- inputs and targets must be float32 CPU tensors of the same shape (TypeError
  for another dtype, ValueError for another device or shape); any layout is
  accepted (copied to contiguous when needed);
- targets get no gradient (they are not inputs of the autograd node, so
  targets.grad stays None even if targets.requires_grad);
- alpha must be <= 1 (alpha < 0 disables balancing), gamma finite and >= 0,
  and targets in [0, 1]: otherwise ValueError with libfocal's message;
- the backward is not itself differentiable (no double backward);
- the returned loss (reduction "none") and the gradients are numpy-backed
  tensors (see _empty), so they cannot be resized in place.

Under torch.no_grad(), or when inputs does not require grad, only the loss
is computed (no gradient pass, nothing stored).

libfocal 1.1 adds, with the same conventions:

- sigmoid_focal_loss_labels(inputs, labels, ...): (rows, classes) logits and
  one class index per row (classes = background, < 0 ignored), with per-class
  alpha, row weights, a normalizer and label smoothing;
- sigmoid_focal_loss_dense(inputs, targets, ...): the same with dense targets;
- FocalLoss: a module with the interface of mmdet's FocalLoss (use_sigmoid).

- softmax_focal_loss(inputs, labels, ...): the softmax focal loss, one class
  index per row (< 0 ignored), per-class alpha, row weights, smoothing;
- quality_focal_loss(inputs, scores, ...) (GFL) and varifocal_loss(inputs,
  scores, ...) (VFNet) over soft scores shaped like inputs, full derivatives.

libfocal 1.4 adds distribution_focal_loss(inputs, targets, ...): the
Distribution Focal Loss (GFL's box term) of (rows, bins) logits against one
continuous target per row in [0, bins - 1).

libfocal 1.5 adds the box regression losses: box_iou_loss(pred, target,
loss, convention, ...) (IoU, IoU^2, -log IoU, GIoU, DIoU, CIoU in
torchvision's, Ultralytics' or mmdet's convention), torchvision's
generalized_box_iou_loss, distance_box_iou_loss and complete_box_iou_loss
(same signatures), and smooth_l1_loss(pred, target, beta, ...).

Their default reduction is "mean" (as mmcv's sigmoid_focal_loss and the C
focal_options_init). weight, class_alpha, scores and the DFL's targets get no
gradient.

mmdet 3.x drop-ins, with mmdet's constructor arguments and
forward(pred, target, weight=None, avg_factor=None, reduction_override=None):
FocalLoss, QualityFocalLoss, VarifocalLoss and DistributionFocalLoss, and
(libfocal 1.5) the box regression losses IoULoss, GIoULoss, DIoULoss,
CIoULoss, SmoothL1Loss and L1Loss (see their docstrings).

YOLOv5 / Ultralytics drop-ins (libfocal 1.2), FocalLoss(loss_fcn) and
QFocalLoss(loss_fcn) around an nn.BCEWithLogitsLoss, and (libfocal 1.4)
YOLOv8 / YOLO11's DFLoss(reg_max), live in focal.torch.yolo (their names are
Ultralytics', which would clash with mmdet's here).

TorchScript and tracing: every function and module above is also a PyTorch
operator, torch.ops.focal.<name> (registered with torch.library when this
module is imported), with a CPU kernel (forward only, used under
torch.inference_mode) and an Autograd kernel (the fused forward and its
stored gradient). Under torch.jit.script / torch.jit.trace the functions
call the operator; in eager mode they run the same Python code directly, so
a scripted or traced model gives the bits of the eager one. A saved
TorchScript model needs `import focal.torch` in the process that loads it.
"""

from ._core import OPERATORS, _BufferPool, _FusedLoss  # noqa: F401
from .functional import (box_iou_loss, complete_box_iou_loss, distance_box_iou_loss,
                         distribution_focal_loss, generalized_box_iou_loss, quality_focal_loss,
                         sigmoid_focal_loss, sigmoid_focal_loss_dense, sigmoid_focal_loss_labels,
                         smooth_l1_loss, softmax_focal_loss, varifocal_loss)
from .mmdet import (CIoULoss, DIoULoss, DistributionFocalLoss, FocalLoss, GIoULoss, IoULoss,
                    L1Loss, QualityFocalLoss, SmoothL1Loss, VarifocalLoss)

__all__ = ["CIoULoss", "DIoULoss", "DistributionFocalLoss", "FocalLoss", "GIoULoss", "IoULoss",
           "L1Loss", "QualityFocalLoss", "SmoothL1Loss", "VarifocalLoss",
           "box_iou_loss", "complete_box_iou_loss", "distance_box_iou_loss",
           "distribution_focal_loss", "generalized_box_iou_loss", "quality_focal_loss",
           "sigmoid_focal_loss", "sigmoid_focal_loss_dense", "sigmoid_focal_loss_labels",
           "smooth_l1_loss", "softmax_focal_loss", "varifocal_loss"]
