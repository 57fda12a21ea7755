"""A libfocal-backed drop-in for torchvision.ops.sigmoid_focal_loss.

    from focal.torch import sigmoid_focal_loss
    loss = sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2, reduction="mean")

Same signature and results as torchvision's, but the forward pass computes
the loss and its gradient in one fused call and keeps the gradient; backward
only multiplies it by the incoming gradient. Differences, by design:

- inputs and targets must be float32 CPU tensors of the same shape (TypeError
  for another dtype, ValueError for another device or shape); any layout is
  accepted (copied to contiguous when needed);
- targets get no gradient (backward returns None for them, so targets.grad
  stays None even if targets.requires_grad);
- alpha must be <= 1 (alpha < 0 disables balancing), gamma finite and >= 0,
  and targets in [0, 1]: otherwise ValueError with libfocal's message;
- the backward is not itself differentiable (no double backward);
- the returned loss (reduction "none") and the gradients are numpy-backed
  tensors (see _empty), so they cannot be resized in place.

Under torch.no_grad(), or when inputs does not require grad, only the loss
is computed (no gradient pass, nothing stored).
"""

import numpy as np
import torch

from . import _lib

__all__ = ["sigmoid_focal_loss"]


def _check(inputs, targets):
    for name, x in (("inputs", inputs), ("targets", targets)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, not {type(x).__name__}")
        if x.dtype != torch.float32:
            raise TypeError(f"{name} must be float32 (libfocal computes in float32), "
                            f"got {x.dtype}")
        if x.device.type != "cpu":
            raise ValueError(f"{name} must be on the CPU, got device {x.device}")
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


class _SigmoidFocalLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, targets, alpha, gamma, red):
        loss, grad = _run(inputs, targets, alpha, gamma, red, want_grad=True)
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        # "none": elementwise; "sum"/"mean": grad_output is 0-d and broadcasts.
        # The stored gradient stays intact (backward may run again under
        # retain_graph=True), so the product goes to a new buffer.
        return torch.mul(grad, grad_output, out=_empty(grad.shape)), None, None, None, None


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """Focal loss of Lin et al. (2017), torchvision semantics, via libfocal.

    inputs: float32 logits of any shape; targets: float32, same shape, in [0, 1].
    alpha: weight of the positive class (< 0: no weighting); gamma: focusing
    exponent; reduction: "none" | "mean" | "sum". Returns a float32 tensor.
    """
    red = _lib.reduction_code(reduction)
    _check(inputs, targets)
    if torch.is_grad_enabled() and inputs.requires_grad:
        return _SigmoidFocalLoss.apply(inputs, targets, alpha, gamma, red)
    loss, _ = _run(inputs, targets, alpha, gamma, red, want_grad=False)
    return loss
