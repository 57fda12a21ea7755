# SPDX-License-Identifier: MIT
"""The library calls as PyTorch 2 custom operators, for torch.compile.

torch.compile traces Python; a ctypes call on a tensor's address cannot be
traced, so under torch.compile focal.torch's functions call these operators
instead of the library directly (focal.torch._fused picks). Each operator is
one library call of focal.torch's _CALLS, with its arguments:

    focal::flat_call(inputs, targets, ...)    -> (loss, grad)
    focal::rows_call / softmax_call / soft_call / dfl_call / box_call / pair_call

and gives the loss and, when want_grad, the gradient with respect to inputs
(else an empty tensor). The fused gradient makes the autograd formula one
product: d inputs = grad * d loss (the eager _FusedLoss's backward, whose
bits it gives). A fake implementation gives the outputs' shapes to the
tracer, and the operators are in autocast's float32 policy, as
binary_cross_entropy_with_logits is.

Needs torch.library.custom_op (PyTorch >= 2.4); with an older torch, OPS is
empty and nothing here is used (torch.compile of focal.torch needs 2.4).
"""

from typing import Optional, Tuple

import torch
from torch import Tensor

from ._core import _CALLS

OPS = {}

_NONE = 0  # reduction "none": a loss per element (per row for the softmax and the DFL)


def _outputs(inputs: Tensor, loss_shape, want_grad: bool) -> Tuple[Tensor, Tensor]:
    loss = inputs.new_empty(loss_shape, dtype=torch.float32)
    grad = inputs.new_empty(tuple(inputs.shape) if want_grad else (0,), dtype=torch.float32)
    return loss, grad


def _result(loss, grad):
    # An operator returns tensors: an empty gradient when none was wanted.
    return loss, (torch.empty(0, dtype=torch.float32) if grad is None else grad)


def _setup_context(ctx, inputs, output):
    ctx.nargs = len(inputs)  # every argument of the operator
    ctx.save_for_backward(output[1])
    ctx.mark_non_differentiable(output[1])


def _backward(ctx, grad_loss, _grad_grad):
    # As _FusedLoss.backward: the stored gradient times the incoming one,
    # which broadcasts (0-d for "sum"/"mean"; one per row for the softmax's
    # and the DFL's "none", over its classes / bins).
    (grad,) = ctx.saved_tensors
    if grad_loss.dim() == 1 and grad.dim() == 2:
        grad_loss = grad_loss.unsqueeze(1)
    return (grad * grad_loss,) + (None,) * (ctx.nargs - 1)


def _define(kind, red_index, loss_shape):
    """Registers the fake kernel, the autograd formula and the autocast policy
    of OPS[kind], whose implementation was just defined; its reduction code
    is argument red_index."""
    op = OPS[kind]

    @op.register_fake
    def _fake(*args):
        inputs, red, want_grad = args[0], args[red_index], args[-1]
        return _outputs(inputs, loss_shape(inputs) if red == _NONE else (), want_grad)

    op.register_autograd(_backward, setup_context=_setup_context)
    if hasattr(torch.library, "register_autocast"):
        torch.library.register_autocast(op, "cpu", torch.float32)


if hasattr(torch.library, "custom_op"):

    @torch.library.custom_op("focal::flat_call", mutates_args=())
    def _flat(inputs: Tensor, targets: Tensor, alpha: float, gamma: float, red: int,
              want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["flat"](inputs, targets, alpha, gamma, red, want_grad))

    OPS["flat"] = _flat
    _define("flat", 4, lambda x: tuple(x.shape))

    @torch.library.custom_op("focal::rows_call", mutates_args=())
    def _rows(inputs: Tensor, targets: Tensor, labels_mode: bool, alpha: float, gamma: float,
              red: int, normalizer: float, smoothing: float, class_alpha: Optional[Tensor],
              weight: Optional[Tensor], pos_weight: Optional[Tensor], divisor: Optional[Tensor],
              want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["rows"](inputs, targets, labels_mode, alpha, gamma, red,
                                       normalizer, smoothing, class_alpha, weight, pos_weight,
                                       divisor, want_grad))

    OPS["rows"] = _rows
    _define("rows", 5, lambda x: tuple(x.shape))

    @torch.library.custom_op("focal::softmax_call", mutates_args=())
    def _softmax(inputs: Tensor, labels: Tensor, alpha: float, gamma: float, red: int,
                 normalizer: float, smoothing: float, class_alpha: Optional[Tensor],
                 weight: Optional[Tensor], want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["softmax"](inputs, labels, alpha, gamma, red, normalizer,
                                          smoothing, class_alpha, weight, want_grad))

    OPS["softmax"] = _softmax
    _define("softmax", 4, lambda x: (x.shape[0],))

    @torch.library.custom_op("focal::soft_call", mutates_args=())
    def _soft(inputs: Tensor, scores: Tensor, name: str, alpha: float, gamma: float, red: int,
              normalizer: float, weight: Optional[Tensor], pos_weight: Optional[Tensor],
              flags: int, divisor: Optional[Tensor], want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["soft"](inputs, scores, name, alpha, gamma, red, normalizer,
                                       weight, pos_weight, flags, divisor, want_grad))

    OPS["soft"] = _soft
    _define("soft", 5, lambda x: tuple(x.shape))

    @torch.library.custom_op("focal::dfl_call", mutates_args=())
    def _dfl(inputs: Tensor, targets: Tensor, red: int, normalizer: float,
             weight: Optional[Tensor], divisor: Optional[Tensor],
             want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["dfl"](inputs, targets, red, normalizer, weight, divisor,
                                      want_grad))

    OPS["dfl"] = _dfl
    _define("dfl", 2, lambda x: (x.shape[0],))

    @torch.library.custom_op("focal::box_call", mutates_args=())
    def _box(inputs: Tensor, targets: Tensor, kind: int, conv: int, eps: float, red: int,
             normalizer: float, weight: Optional[Tensor], divisor: Optional[Tensor],
             want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["box"](inputs, targets, kind, conv, eps, red, normalizer,
                                      weight, divisor, want_grad))

    OPS["box"] = _box
    _define("box", 5, lambda x: (x.shape[0],))

    @torch.library.custom_op("focal::pair_call", mutates_args=())
    def _pair(inputs: Tensor, targets: Tensor, beta: float, red: int, normalizer: float,
              weight: Optional[Tensor], divisor: Optional[Tensor],
              want_grad: bool) -> Tuple[Tensor, Tensor]:
        return _result(*_CALLS["pair"](inputs, targets, beta, red, normalizer, weight,
                                       divisor, want_grad))

    OPS["pair"] = _pair
    _define("pair", 3, lambda x: tuple(x.shape))
