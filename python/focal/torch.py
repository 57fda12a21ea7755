# SPDX-License-Identifier: MIT
"""A libfocal-backed drop-in for torchvision.ops.sigmoid_focal_loss.

    from focal.torch import sigmoid_focal_loss
    loss = sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2, reduction="mean")

Same signature and results as torchvision's, but the forward pass computes
the loss and its gradient in one fused call and keeps the gradient; backward
only multiplies it by the incoming gradient. Differences, by design:

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

Their default reduction is "mean" (as mmcv's sigmoid_focal_loss and the C
focal_options_init). weight, class_alpha and scores get no gradient.
"""

import numpy as np
import torch

from . import _lib

__all__ = ["FocalLoss", "quality_focal_loss", "sigmoid_focal_loss", "sigmoid_focal_loss_dense",
           "sigmoid_focal_loss_labels", "softmax_focal_loss", "varifocal_loss"]


def _check_tensor(name, x):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(x).__name__}")
    if x.dtype != torch.float32:
        raise TypeError(f"{name} must be float32 (libfocal computes in float32), "
                        f"got {x.dtype}")
    if x.device.type != "cpu":
        raise ValueError(f"{name} must be on the CPU, got device {x.device}")


def _check(inputs, targets):
    _check_tensor("inputs", inputs)
    _check_tensor("targets", targets)
    if inputs.shape != targets.shape:
        raise ValueError(f"inputs and targets differ in shape: "
                         f"{tuple(inputs.shape)} vs {tuple(targets.shape)}")


def _empty(shape):
    # numpy asks the kernel for transparent huge pages on large buffers
    # (madvise); torch's allocator does not. Where THP is in "madvise" mode,
    # first-touch page faults on a fresh 64 MB torch buffer cost several times
    # the focal kernel itself, so outputs are numpy-backed.
    return torch.from_numpy(np.empty(shape, dtype=np.float32))


def _run(inputs, targets, alpha, gamma, red, want_grad):
    """One fused call on detached contiguous copies; returns (loss, grad or None)."""
    x = inputs.detach().contiguous()
    t = targets.detach().contiguous()
    loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call(x.data_ptr(), t.data_ptr(), x.numel(), float(alpha), float(gamma), red,
              loss.data_ptr(), grad.data_ptr() if want_grad else 0)
    return loss, grad


class _FusedLoss(torch.autograd.Function):
    """Forward runs run(want_grad=True) -> (loss, grad) and keeps the gradient.

    Every loss of this module goes through it: the fused call already gave
    the gradient with respect to inputs, so backward is one product. Targets,
    labels and options live in run's closure, which is why they get no
    gradient (None, as for run itself).
    """

    @staticmethod
    def forward(ctx, inputs, run):
        loss, grad = run(True)
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        # "none": elementwise; "sum"/"mean": grad_output is 0-d and broadcasts.
        # "none" is one loss per row for the softmax: broadcast over classes.
        if grad_output.dim() == 1 and grad.dim() == 2:
            grad_output = grad_output.unsqueeze(1)
        # The stored gradient stays intact (backward may run again under
        # retain_graph=True), so the product goes to a new buffer.
        return torch.mul(grad, grad_output, out=_empty(grad.shape)), None


# The same node under the names the 1.0 and the labels / dense losses always
# had: they show in grad_fn (and so in printed tensors).
class _SigmoidFocalLoss(_FusedLoss):
    pass


class _RowsFocalLoss(_FusedLoss):
    pass


def _fused(inputs, run, node=_FusedLoss):
    """The loss from run(want_grad): through node (a _FusedLoss) when autograd
    will want the gradient, else a loss-only call (no gradient pass, nothing
    stored)."""
    if torch.is_grad_enabled() and inputs.requires_grad:
        return node.apply(inputs, run)
    loss, _ = run(False)
    return loss


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """Focal loss of Lin et al. (2017), torchvision semantics, via libfocal.

    inputs: float32 logits of any shape; targets: float32, same shape, in [0, 1].
    alpha: weight of the positive class (< 0: no weighting); gamma: focusing
    exponent; reduction: "none" | "mean" | "sum". Returns a float32 tensor.
    """
    red = _lib.reduction_code(reduction)
    _check(inputs, targets)
    return _fused(inputs, lambda want_grad: _run(inputs, targets, alpha, gamma, red, want_grad),
                  _SigmoidFocalLoss)


# ---- 1.1: row-structured inputs ------------------------------------------------


def _check_rows(inputs):
    _check_tensor("inputs", inputs)
    if inputs.dim() != 2:
        raise ValueError(f"inputs must be 2-D (rows, classes), got shape {tuple(inputs.shape)}")


def _labels_tensor(labels, rows, classes):
    """Class indices as a contiguous int32 CPU tensor, same meaning as given."""
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch.Tensor, not {type(labels).__name__}")
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integers (class indices), got {labels.dtype}")
    if labels.device.type != "cpu":
        raise ValueError(f"labels must be on the CPU, got device {labels.device}")
    if tuple(labels.shape) != (rows,):
        raise ValueError(f"labels must have shape ({rows},) (one per inputs row), "
                         f"got {tuple(labels.shape)}")
    labels = labels.detach()
    if labels.dtype == torch.int64:
        # < 0 is "ignored", > classes an error: clamp so the int32 cast keeps
        # that meaning instead of wrapping. Narrower integers cast exactly.
        labels = labels.clamp(-1, min(classes + 1, 2**31 - 1))
    return labels.to(torch.int32).contiguous()


def _vector(a, n, name, what):
    """A (n,) float32 contiguous CPU tensor (no gradient), or None."""
    if a is None:
        return None
    if isinstance(a, torch.Tensor):
        if a.device.type != "cpu":
            raise ValueError(f"{name} must be on the CPU, got device {a.device}")
        a = a.detach()
    else:
        a = torch.as_tensor(np.asarray(a))
    if not (a.dtype.is_floating_point or a.dtype in (torch.int8, torch.int16, torch.int32,
                                                    torch.int64, torch.uint8, torch.bool)):
        raise TypeError(f"{name} must be real numbers, got {a.dtype}")
    if tuple(a.shape) != (n,):
        raise ValueError(f"{name} must have shape ({n},) ({what}), got {tuple(a.shape)}")
    return a.to(torch.float32).contiguous()


def _run_rows(labels_mode, inputs, targets, options, class_alpha, weight, want_grad):
    """One fused 1.1 call; returns (loss, grad or None). options: (alpha, gamma,
    red, normalizer, label_smoothing); targets, class_alpha, weight prepared."""
    alpha, gamma, red, normalizer, smoothing = options
    x = inputs.detach().contiguous()
    rows, classes = x.shape
    opt = _lib.make_options(alpha, gamma, red, normalizer, smoothing,
                            0 if class_alpha is None else class_alpha.data_ptr(),
                            0 if weight is None else weight.data_ptr())
    loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_rows(labels_mode, x.data_ptr(), targets.data_ptr(), rows, classes, opt,
                   loss.data_ptr(), grad.data_ptr() if want_grad else 0)
    return loss, grad


def _rows(labels_mode, inputs, targets, alpha, gamma, reduction, normalizer, label_smoothing,
          class_alpha, weight):
    _lib.require_options("focal.torch.sigmoid_focal_loss_labels" if labels_mode
                         else "focal.torch.sigmoid_focal_loss_dense")
    red = _lib.reduction_code(reduction)
    _check_rows(inputs)
    rows, classes = inputs.shape
    if labels_mode:
        t = _labels_tensor(targets, rows, classes)
    else:
        _check(inputs, targets)
        t = targets.detach().contiguous()
    class_alpha = _vector(class_alpha, classes, "class_alpha", "one alpha per class")
    weight = _vector(weight, rows, "weight", "one weight per row")
    options = (float(alpha), float(gamma), red, float(normalizer), float(label_smoothing))
    return _fused(inputs, lambda want_grad: _run_rows(labels_mode, inputs, t, options,
                                                      class_alpha, weight, want_grad),
                  _RowsFocalLoss)


def sigmoid_focal_loss_labels(inputs, labels, alpha=0.25, gamma=2.0, reduction="mean",
                              normalizer=0.0, label_smoothing=0.0, class_alpha=None,
                              weight=None):
    """Focal loss of (rows, classes) logits against one class index per row.

    inputs: float32 CPU tensor (rows, classes). labels: integer tensor (rows,):
    c in [0, classes) is the positive class of the row, classes is background,
    < 0 ignores the row (loss and gradient 0, not counted by "mean"), > classes
    is a ValueError. normalizer > 0: "sum" and "mean" divide by it (0: the
    default divisor). label_smoothing in [0, 1): t -> t (1 - ls) + ls / 2.
    class_alpha: (classes,) alpha per class in [0, 1] (replaces alpha).
    weight: (rows,) weight of each row. Returns a float32 tensor: (rows,
    classes) for "none", 0-d otherwise. See focal.sigmoid_labels.
    """
    return _rows(True, inputs, labels, alpha, gamma, reduction, normalizer, label_smoothing,
                 class_alpha, weight)


def sigmoid_focal_loss_dense(inputs, targets, alpha=0.25, gamma=2.0, reduction="mean",
                             normalizer=0.0, label_smoothing=0.0, class_alpha=None,
                             weight=None):
    """sigmoid_focal_loss_labels with dense float32 targets in [0, 1] shaped like inputs."""
    return _rows(False, inputs, targets, alpha, gamma, reduction, normalizer, label_smoothing,
                 class_alpha, weight)


class FocalLoss(torch.nn.Module):
    """mmdet's FocalLoss (use_sigmoid=True) on libfocal.

        loss_cls = FocalLoss(gamma=2.0, alpha=0.25, loss_weight=1.0)
        loss = loss_cls(cls_score, labels, label_weights, avg_factor=num_pos)

    forward(pred, target, weight=None, avg_factor=None, reduction_override=None):
    pred (N, C) float32 logits; target (N,) class indices with C = background
    (or, as mmdet 3.x, (N, C) float targets already one-hot); weight (N,) per
    row (a per-class (N, C) weight is not supported: ValueError); avg_factor:
    with "mean", the loss is sum / avg_factor (avg_factor 0 divides by
    float32 eps, as mmdet does); with "sum" it is an error, with "none"
    ignored. The result is multiplied by loss_weight.

    Differences from mmdet's CPU path: target < 0 ignores the row (mmdet's
    one_hot raises), and "mean" without avg_factor does not count ignored rows.
    """

    def __init__(self, use_sigmoid=True, gamma=2.0, alpha=0.25, reduction="mean",
                 loss_weight=1.0):
        super().__init__()
        if not use_sigmoid:
            raise ValueError("only the sigmoid focal loss is supported (use_sigmoid=True), "
                             "as in mmdet")
        _lib.reduction_code(reduction)
        self.use_sigmoid = use_sigmoid
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = reduction
        self.loss_weight = loss_weight

    def extra_repr(self):
        return (f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred, target, weight=None, avg_factor=None, reduction_override=None):
        if reduction_override not in (None, "none", "mean", "sum"):
            raise ValueError(f"reduction_override must be None, 'none', 'mean' or 'sum', "
                             f"got {reduction_override!r}")
        reduction = reduction_override if reduction_override else self.reduction
        _check_rows(pred)
        rows, classes = pred.shape
        if weight is not None:
            if not isinstance(weight, torch.Tensor):
                weight = torch.as_tensor(weight)
            if tuple(weight.shape) != (rows,):
                raise ValueError(
                    f"only per-row weights are supported: weight must have shape ({rows},) "
                    f"(one per row of pred), got {tuple(weight.shape)} (per-class (N, C) "
                    f"weights, as FSAF uses, are not)")
        normalizer = 0.0
        if avg_factor is not None:
            if reduction == "sum":
                raise ValueError('avg_factor can not be used with reduction="sum"')
            if reduction == "mean":
                normalizer = float(avg_factor)
                if normalizer == 0.0:
                    # mmdet divides by avg_factor + eps, so that a batch whose
                    # rows are all ignored gives 0 rather than a division by 0.
                    normalizer = float(torch.finfo(torch.float32).eps)
        dense = isinstance(target, torch.Tensor) and target.dim() == 2
        loss = _rows(not dense, pred, target, self.alpha, self.gamma, reduction, normalizer,
                     0.0, None, weight)
        return loss * self.loss_weight if self.loss_weight != 1.0 else loss


# ---- 1.1: softmax focal, quality focal, varifocal ------------------------------


def softmax_focal_loss(inputs, labels, alpha=0.25, gamma=2.0, reduction="mean",
                       normalizer=0.0, label_smoothing=0.0, class_alpha=None, weight=None):
    """Softmax focal loss of (rows, classes) logits against one class index per row.

    labels: integer tensor (rows,) in [0, classes); < 0 ignores the row;
    >= classes is a ValueError. a_c = class_alpha[c], else alpha (< 0: 1).
    Returns a float32 tensor: (rows,) for "none", 0-d otherwise. See
    focal.softmax_labels.
    """
    _lib.require_family("focal.torch.softmax_focal_loss")
    red = _lib.reduction_code(reduction)
    _check_rows(inputs)
    rows, classes = inputs.shape
    t = _labels_tensor(labels, rows, classes)
    class_alpha = _vector(class_alpha, classes, "class_alpha", "one alpha per class")
    weight = _vector(weight, rows, "weight", "one weight per row")

    def run(want_grad):
        x = inputs.detach().contiguous()
        opt = _lib.make_options(float(alpha), float(gamma), red, float(normalizer),
                                float(label_smoothing),
                                0 if class_alpha is None else class_alpha.data_ptr(),
                                0 if weight is None else weight.data_ptr())
        loss = _empty((rows,)) if red == 0 else torch.empty((), dtype=torch.float32)
        grad = _empty(x.shape) if want_grad else None
        _lib.call_softmax(x.data_ptr(), t.data_ptr(), rows, classes, opt, loss.data_ptr(),
                          grad.data_ptr() if want_grad else 0)
        return loss, grad

    return _fused(inputs, run)


def _soft(name, inputs, scores, alpha, gamma, reduction, normalizer, weight):
    _lib.require_family(f"focal.torch.{name}")
    red = _lib.reduction_code(reduction)
    _check_tensor("inputs", inputs)
    _check_tensor("scores", scores)
    if inputs.shape != scores.shape:
        raise ValueError(f"inputs and scores differ in shape: "
                         f"{tuple(inputs.shape)} vs {tuple(scores.shape)}")
    s = scores.detach().contiguous()
    if weight is not None:
        weight = _vector(torch.as_tensor(weight).reshape(-1), inputs.numel(), "weight",
                         "one weight per element")

    def run(want_grad):
        x = inputs.detach().contiguous()
        opt = _lib.make_options(float(alpha), float(gamma), red, float(normalizer), 0.0, 0,
                                0 if weight is None else weight.data_ptr())
        loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
        grad = _empty(x.shape) if want_grad else None
        _lib.call_soft(name, x.data_ptr(), s.data_ptr(), x.numel(), opt, loss.data_ptr(),
                       grad.data_ptr() if want_grad else 0)
        return loss, grad

    return _fused(inputs, run)


def quality_focal_loss(inputs, scores, gamma=2.0, reduction="mean", normalizer=0.0,
                       weight=None):
    """Quality focal loss (GFL): |scores - sigmoid(inputs)|^gamma BCE(inputs, scores).

    inputs, scores: float32 CPU tensors of one shape, scores in [0, 1];
    weight: per element (shaped like inputs), or None. mmdet's
    quality_focal_loss with beta = gamma, without detaching anything.
    """
    return _soft("quality", inputs, scores, 0.0, gamma, reduction, normalizer, weight)


def varifocal_loss(inputs, scores, alpha=0.75, gamma=2.0, reduction="mean", normalizer=0.0,
                   weight=None):
    """Varifocal loss (VFNet): w BCE(inputs, scores), w = scores where > 0, else
    alpha sigmoid(inputs)^gamma. mmdet's varifocal_loss (iou_weighted=True);
    as there, w is not detached: the gradient is the full derivative.
    """
    return _soft("varifocal", inputs, scores, alpha, gamma, reduction, normalizer, weight)
