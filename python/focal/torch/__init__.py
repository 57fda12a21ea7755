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

Their default reduction is "mean" (as mmcv's sigmoid_focal_loss and the C
focal_options_init). weight, class_alpha and scores get no gradient.

mmdet 3.x drop-ins, with mmdet's constructor arguments and
forward(pred, target, weight=None, avg_factor=None, reduction_override=None):
FocalLoss, QualityFocalLoss and VarifocalLoss (see their docstrings).

YOLOv5 / Ultralytics drop-ins (libfocal 1.2), FocalLoss(loss_fcn) and
QFocalLoss(loss_fcn) around an nn.BCEWithLogitsLoss, live in focal.torch.yolo
(their names are Ultralytics', which would clash with mmdet's here).

TorchScript and tracing: every function and module above is also a PyTorch
operator, torch.ops.focal.<name> (registered with torch.library when this
module is imported), with a CPU kernel (forward only, used under
torch.inference_mode) and an Autograd kernel (the fused forward and its
stored gradient). Under torch.jit.script / torch.jit.trace the functions
call the operator; in eager mode they run the same Python code directly, so
a scripted or traced model gives the bits of the eager one. A saved
TorchScript model needs `import focal.torch` in the process that loads it.
"""


import sys
import threading
from typing import Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _lib

__all__ = ["FocalLoss", "QualityFocalLoss", "VarifocalLoss", "quality_focal_loss",
           "sigmoid_focal_loss", "sigmoid_focal_loss_dense", "sigmoid_focal_loss_labels",
           "softmax_focal_loss", "varifocal_loss"]


# libfocal computes in float32. bfloat16 and float16 tensors (mixed
# precision) are accepted and computed in float32, every value of theirs being
# a float32 value; float64 is refused: computing it in float32 would quietly
# drop the precision its caller chose (docs/DESIGN.md §5.2).
_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _check_tensor(name, x):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(x).__name__}")
    if x.dtype not in _DTYPES:
        raise TypeError(f"{name} must be float32, bfloat16 or float16 (libfocal computes in "
                        f"float32), got {x.dtype}")
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
    # the focal kernel itself, so outputs are numpy-backed, and large ones
    # come from _POOL when a buffer of the size is free again.
    n = 1
    for d in shape:
        n *= int(d)
    if n * 4 >= _POOL_MIN_BYTES:
        return _POOL.take(n, shape)
    return torch.from_numpy(np.empty(shape, dtype=np.float32))


_POOL_MIN_BYTES = 1 << 20


class _BufferPool:
    """Recycles the large output buffers (losses, gradients) of earlier calls.

    A training loop allocates the same outputs every step, and the page
    faults of a fresh buffer cost as much as the kernel. A tensor made by
    torch.from_numpy holds a reference to its array until the tensor's
    storage is freed (every view, every .numpy() of it and every C++ user of
    the storage keeps it alive), so an array that nothing but the pool
    refers to any more is provably unused: it is handed out again. At most
    `keep` arrays are kept (the most recently used); the pool never holds a
    buffer that is in use, and holds at most `keep` free ones.
    """

    def __init__(self, keep=4):
        self.keep = keep
        self.arrays = []  # most recently used last
        self.lock = threading.Lock()

    def take(self, n, shape):
        with self.lock:
            arrays = self.arrays
            for i in range(len(arrays)):
                # referred to by the list and getrefcount's argument only
                # (no loop variable: it would be one more reference)
                if arrays[i].size == n and sys.getrefcount(arrays[i]) == 2:
                    arrays.append(arrays.pop(i))
                    return torch.from_numpy(arrays[-1].reshape(shape))
            a = np.empty(n, dtype=np.float32)
            self.arrays.append(a)
            if len(self.arrays) > self.keep:
                # forget the least recently used (in use or not: its
                # tensors, if any, keep it alive as long as they need it)
                del self.arrays[0]
            return torch.from_numpy(a.reshape(shape))

    def clear(self):
        with self.lock:
            self.arrays.clear()


_POOL = _BufferPool()


# A tensor with no elements may have no storage at all: data_ptr() is 0 for
# numpy-backed empty tensors, and the library reads address 0 as NULL ("no
# output"; loss and grad both NULL is an error even for n = 0). Such buffers
# are never read or written (0 bytes), so any valid address stands in.
_NOWHERE = np.zeros(1, np.float32)


def _ptr(t):
    """t's address for a libfocal call (t non-empty or a valid stand-in)."""
    p = t.data_ptr()
    return p if p else _NOWHERE.ctypes.data


def _f32(t):
    """t without gradient, float32 and contiguous (t itself when it is)."""
    return t.detach().to(torch.float32).contiguous()


# ---- the library calls --------------------------------------------------------------
#
# One function per C entry point: float32 inputs first, then the prepared
# arguments, then want_grad; returns (loss, grad or None). Eager mode calls
# them directly; under torch.compile each is a custom operator of the same
# arguments (focal/torch/_compile.py), so the compiled graph makes the same
# library call and gives the same bits.


def _call_flat(inputs, targets, alpha, gamma, red, want_grad):
    """focal_sigmoid_focal on detached contiguous copies."""
    x = inputs.detach().contiguous()
    t = _f32(targets)
    loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call(_ptr(x), _ptr(t), x.numel(), float(alpha), float(gamma), red,
              _ptr(loss), _ptr(grad) if want_grad else 0)
    return loss, grad


def _is_one(t):
    """True if every element of t is 1, for a t that is one value: 0-d (the
    upstream gradient of a reduced loss) or expanded from one (stride 0
    everywhere, as loss.sum() hands to a "none" loss). Else False, unread."""
    if t.numel() == 0 or any(st != 0 for st in t.stride()):
        return False
    return t[(0,) * t.dim()].item() == 1.0


class _FusedLoss(torch.autograd.Function):
    """Forward runs run(want_grad=True) -> (loss, grad) and keeps the gradient.

    Every loss of this module goes through it: the fused call already gave
    the gradient with respect to inputs, so backward is at most one product.
    Targets, labels and options live in run's closure, which is why they get
    no gradient (None, as for run itself).

    Backward hands the stored gradient itself to autograd (nothing else
    refers to it, so AccumulateGrad adopts it as inputs.grad instead of
    copying it): unchanged when the upstream gradient is 1 (loss.backward()
    of a reduced loss), else scaled in place. A second backward through the
    same graph (retain_graph=True) finds it given away and recomputes it with
    run, after checking that inputs was not modified in place meanwhile.
    """

    @staticmethod
    def forward(ctx, inputs, run):
        loss, grad = run(True)
        ctx.grad, ctx.run = grad, run
        ctx.inputs_version = inputs._version
        ctx.inputs = inputs.detach()  # shares the version counter
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        grad, ctx.grad = ctx.grad, None
        if grad is None:  # backward again through a retained graph
            if ctx.inputs._version != ctx.inputs_version:
                raise RuntimeError("one of the variables needed for gradient computation "
                                   "has been modified by an inplace operation: the inputs "
                                   "of a focal loss, before a second backward")
            _, grad = ctx.run(True)
        if not _is_one(grad_output):
            # "none": elementwise; "sum"/"mean": grad_output is 0-d and broadcasts.
            # "none" is one loss per row for the softmax: broadcast over classes.
            if grad_output.dim() == 1 and grad.dim() == 2:
                grad_output = grad_output.unsqueeze(1)
            grad.mul_(grad_output)
        return grad, None


# The same node under the names the 1.0 and the labels / dense losses always
# had: they show in grad_fn (and so in printed tensors).
class _SigmoidFocalLoss(_FusedLoss):
    pass


class _RowsFocalLoss(_FusedLoss):
    pass


if hasattr(torch, "compiler") and hasattr(torch.compiler, "is_compiling"):
    _compiling = torch.compiler.is_compiling
else:  # torch < 2.3: no torch.compile support here (TorchScript only)
    def _compiling():
        return False


if hasattr(torch, "get_autocast_dtype"):  # torch >= 2.4
    def _autocast_cpu():
        return torch.is_autocast_enabled("cpu")
else:
    def _autocast_cpu():
        return torch.is_autocast_cpu_enabled()


def _fused(kind, args, out_dtype, node=_FusedLoss):
    """The loss of _CALLS[kind](*args, want_grad); args[0] is the logits.

    Autograd wants the gradient when grad mode is on and the logits require
    it: then the call goes through node (a _FusedLoss), else it computes the
    loss alone (no gradient pass, nothing stored). Under torch.compile the
    call is the custom operator _compile.OPS[kind] (same call, same bits).

    Mixed precision: bfloat16 / float16 logits are cast to float32 first
    (autograd casts their gradient back to their dtype), and the loss, computed
    in float32, is returned in out_dtype: the dtype torchvision's expression
    gives for the same inputs. Under CPU autocast it stays float32, as for
    binary_cross_entropy_with_logits, which autocast runs in float32.
    """
    if _autocast_cpu():
        out_dtype = torch.float32
    inputs = args[0]
    if inputs.dtype != torch.float32:
        inputs = inputs.to(torch.float32)
        args = (inputs,) + tuple(args[1:])
    want_grad = torch.is_grad_enabled() and inputs.requires_grad
    if _via_ops():
        loss = _compile.OPS[kind](*args, want_grad)[0]
    elif want_grad:
        loss = node.apply(inputs, lambda want: _CALLS[kind](*args, want))
    else:
        loss, _ = _CALLS[kind](*args, False)
    return loss if loss.dtype == out_dtype else loss.to(out_dtype)


def _via_ops():
    """True when the library is reached through _compile's custom operators:
    while torch.compile traces, and inside a torch.ops.focal.* kernel on
    PyTorch >= 2.4. The wrapper then takes no data-dependent branch."""
    return _compiling() or getattr(_VIA_OPS, "on", False)


def _require(check, what):
    """A _lib.require_* check, eagerly; a compiled graph was traced after
    one (and the library cannot lose a symbol), so it is skipped there."""
    if not _compiling():
        check(what)


# ---- the operators: torch.ops.focal.* ----------------------------------------------
#
# Each public function has an eager implementation (_name, Python) and, for
# TorchScript and tracing, an operator of the same name whose kernels are that
# implementation: Autograd (the dispatcher calls it whenever autograd is on
# for the inputs, even under torch.no_grad, which the implementation checks)
# and CPU (reached only below autograd, e.g. under torch.inference_mode: the
# loss alone). torch 1.13's Python torch.library gives both keys, and a
# Python Autograd kernel's autograd.Function records its node as in eager
# mode, so scripted and traced graphs train: no C++ extension is needed.
# A third kernel, AutocastCPU, puts them in autocast's float32 policy.
#
# PyTorch >= 2.4 has custom operators (torch.library.custom_op) with fake
# kernels and autograd formulas: _compile.py makes one per library call. There
# the operators below are CompositeImplicitAutograd kernels instead: the
# implementation itself, whose library calls go through those custom
# operators, so that FakeTensor, AOT tracing and torch.library.opcheck see
# through them. torch.compile traces the Python functions, which reach the
# same custom operators.

_OPS = torch.library.Library("focal", "DEF")
_HAS_CUSTOM_OP = hasattr(torch.library, "custom_op")
OPERATORS = []  # the names of torch.ops.focal.*, as registered


# Set while a torch.ops.focal.* kernel runs on PyTorch >= 2.4 (see _register).
_VIA_OPS = threading.local()


def _register(schema, impl):
    name = _OPS.define(schema)
    OPERATORS.append(name)

    def cpu(*args):
        with torch.no_grad():
            return impl(*args)

    def composite(*args):
        # PyTorch >= 2.4: the operator is the implementation itself, with the
        # library calls as _compile's custom operators (their autograd
        # formula, fake kernels): then FakeTensor, AOT tracing and opcheck
        # see through it, and its bits are still eager mode's.
        _VIA_OPS.on = True
        try:
            return impl(*args)
        finally:
            _VIA_OPS.on = False

    def autocast_cpu(*args):
        # autocast's float32 policy (binary_cross_entropy_with_logits's):
        # bfloat16 / float16 tensors become float32, then the operator runs
        # below autocast, so its loss is float32.
        args = tuple(a.to(torch.float32) if isinstance(a, Tensor)
                     and a.dtype in (torch.bfloat16, torch.float16) else a for a in args)
        with torch.autocast("cpu", enabled=False):
            return getattr(torch.ops.focal, name)(*args)

    if _HAS_CUSTOM_OP:
        _OPS.impl(name, composite, "CompositeImplicitAutograd")
    else:
        _OPS.impl(name, impl, "Autograd")
        _OPS.impl(name, cpu, "CPU")
    _OPS.impl(name, autocast_cpu, "AutocastCPU")
    return impl


# ---- torchvision's sigmoid_focal_loss -------------------------------------------------


@torch.jit.unused
def _sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    red = _lib.reduction_code(reduction)
    _check(inputs, targets)
    return _fused("flat", (inputs, targets, float(alpha), float(gamma), red),
                  torch.promote_types(inputs.dtype, targets.dtype), _SigmoidFocalLoss)


_register("sigmoid_focal_loss(Tensor inputs, Tensor targets, float alpha, float gamma, "
          "str reduction) -> Tensor", _sigmoid_focal_loss)


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2,
                       reduction: str = "none") -> Tensor:
    """Focal loss of Lin et al. (2017), torchvision semantics, via libfocal.

    inputs: float32 logits of any shape; targets: float32, same shape, in [0, 1].
    alpha: weight of the positive class (< 0: no weighting); gamma: focusing
    exponent; reduction: "none" | "mean" | "sum". Returns a float32 tensor.
    A bad reduction is a ValueError ("Invalid value ..."), as torchvision's.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        # torch 1.13's TorchScript interpreter drops the message of an
        # exception raised in a Python kernel: check here, as torchvision does.
        if reduction not in ["none", "mean", "sum"]:
            raise ValueError("Invalid value for arg 'reduction': '" + reduction
                             + "' (supported: 'none', 'mean', 'sum')")
        return torch.ops.focal.sigmoid_focal_loss(inputs, targets, float(alpha), float(gamma),
                                                  reduction)
    return _sigmoid_focal_loss(inputs, targets, alpha, gamma, reduction)


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


def _library_divisor(d):
    """The normalizer for the library that divides a float32 sum by the
    number d as torch's float32 division by d would (d rounded to float32),
    or None when the library cannot take it (d not > 0 and finite in float32)."""
    d = float(d)
    f = float(np.float32(d))
    return f if 0.0 < d < float("inf") and 0.0 < f < float("inf") else None


def _divide_by(divisor, normalizer):
    """(normalizer, post): a 0-d float32 divisor tensor (mmdet's avg_factor +
    eps) becomes the library's normalizer when it can be (its value is read
    here, inside the call, so that a compiled graph does not break on it);
    else post is the divisor, which the caller divides the sum by."""
    if divisor is None:
        return normalizer, None
    f = _library_divisor(divisor)
    return (normalizer, divisor) if f is None else (f, None)


def _divided(loss, grad, post):
    if post is not None:
        loss = loss / post
        if grad is not None:
            grad = grad.div_(post)
    return loss, grad


def _call_rows(inputs, targets, labels_mode, alpha, gamma, red, normalizer, smoothing,
               class_alpha, weight, pos_weight, divisor, want_grad):
    """focal_sigmoid_labels (labels_mode) or focal_sigmoid_dense on (rows,
    classes) inputs; targets, class_alpha, weight and pos_weight (1.2, one per
    class) prepared; divisor: see _divide_by."""
    normalizer, post = _divide_by(divisor, normalizer)
    x = inputs.detach().contiguous()
    rows, classes = x.shape
    opt = _lib.make_options(alpha, gamma, red, normalizer, smoothing,
                            0 if class_alpha is None else _ptr(class_alpha),
                            0 if weight is None else _ptr(weight),
                            0 if pos_weight is None else _ptr(pos_weight))
    loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_rows(labels_mode, _ptr(x), _ptr(targets), rows, classes, opt,
                   _ptr(loss), _ptr(grad) if want_grad else 0)
    return _divided(loss, grad, post)


def _rows(labels_mode, inputs, targets, alpha, gamma, reduction, normalizer, label_smoothing,
          class_alpha, weight, pos_weight=None, divisor=None):
    _require(_lib.require_options, "focal.torch.sigmoid_focal_loss_labels" if labels_mode
             else "focal.torch.sigmoid_focal_loss_dense")
    red = _lib.reduction_code(reduction)
    _check_rows(inputs)
    rows, classes = inputs.shape
    if labels_mode:
        t = _labels_tensor(targets, rows, classes)
        out_dtype = inputs.dtype
    else:
        _check(inputs, targets)
        t = _f32(targets)
        out_dtype = torch.promote_types(inputs.dtype, targets.dtype)
    class_alpha = _vector(class_alpha, classes, "class_alpha", "one alpha per class")
    weight = _vector(weight, rows, "weight", "one weight per row")
    pos_weight = _vector(pos_weight, classes, "pos_weight", "one per class")
    return _fused("rows", (inputs, t, labels_mode, float(alpha), float(gamma), red,
                           float(normalizer), float(label_smoothing), class_alpha, weight,
                           pos_weight, divisor), out_dtype, _RowsFocalLoss)


@torch.jit.unused
def _sigmoid_focal_loss_labels(inputs, labels, alpha=0.25, gamma=2.0, reduction="mean",
                               normalizer=0.0, label_smoothing=0.0, class_alpha=None,
                               weight=None, pos_weight=None):
    return _rows(True, inputs, labels, alpha, gamma, reduction, normalizer, label_smoothing,
                 class_alpha, weight, pos_weight)


@torch.jit.unused
def _sigmoid_focal_loss_dense(inputs, targets, alpha=0.25, gamma=2.0, reduction="mean",
                              normalizer=0.0, label_smoothing=0.0, class_alpha=None,
                              weight=None, pos_weight=None):
    return _rows(False, inputs, targets, alpha, gamma, reduction, normalizer, label_smoothing,
                 class_alpha, weight, pos_weight)


_ROWS_ARGS = ("float alpha, float gamma, str reduction, float normalizer, "
              "float label_smoothing, Tensor? class_alpha, Tensor? weight")
# pos_weight (1.3 of the binding) comes last, with a default: TorchScript
# models saved by earlier releases call these operators without it.
_register("sigmoid_focal_loss_labels(Tensor inputs, Tensor labels, " + _ROWS_ARGS +
          ", Tensor? pos_weight=None) -> Tensor", _sigmoid_focal_loss_labels)
_register("sigmoid_focal_loss_dense(Tensor inputs, Tensor targets, " + _ROWS_ARGS +
          ", Tensor? pos_weight=None) -> Tensor", _sigmoid_focal_loss_dense)


def sigmoid_focal_loss_labels(inputs: Tensor, labels: Tensor, alpha: float = 0.25,
                              gamma: float = 2.0, reduction: str = "mean",
                              normalizer: float = 0.0, label_smoothing: float = 0.0,
                              class_alpha: Optional[Tensor] = None,
                              weight: Optional[Tensor] = None,
                              pos_weight: Optional[Tensor] = None) -> Tensor:
    """Focal loss of (rows, classes) logits against one class index per row.

    inputs: float32 CPU tensor (rows, classes). labels: integer tensor (rows,):
    c in [0, classes) is the positive class of the row, classes is background,
    < 0 ignores the row (loss and gradient 0, not counted by "mean"), > classes
    is a ValueError. normalizer > 0: "sum" and "mean" divide by it (0: the
    default divisor). label_smoothing in [0, 1): t -> t (1 - ls) + ls / 2.
    class_alpha: (classes,) alpha per class in [0, 1] (replaces alpha).
    weight: (rows,) weight of each row. pos_weight: (classes,) BCE positive
    weights >= 0, as torch's BCEWithLogitsLoss(pos_weight=...). Returns a
    tensor (rows, classes) for "none", 0-d otherwise, in inputs' dtype. See
    focal.sigmoid_labels.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.sigmoid_focal_loss_labels(
            inputs, labels, float(alpha), float(gamma), reduction, float(normalizer),
            float(label_smoothing), class_alpha, weight, pos_weight)
    return _sigmoid_focal_loss_labels(inputs, labels, alpha, gamma, reduction, normalizer,
                                      label_smoothing, class_alpha, weight, pos_weight)


def sigmoid_focal_loss_dense(inputs: Tensor, targets: Tensor, alpha: float = 0.25,
                             gamma: float = 2.0, reduction: str = "mean",
                             normalizer: float = 0.0, label_smoothing: float = 0.0,
                             class_alpha: Optional[Tensor] = None,
                             weight: Optional[Tensor] = None,
                             pos_weight: Optional[Tensor] = None) -> Tensor:
    """sigmoid_focal_loss_labels with dense float32 targets in [0, 1] shaped like inputs."""
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.sigmoid_focal_loss_dense(
            inputs, targets, float(alpha), float(gamma), reduction, float(normalizer),
            float(label_smoothing), class_alpha, weight, pos_weight)
    return _sigmoid_focal_loss_dense(inputs, targets, alpha, gamma, reduction, normalizer,
                                     label_smoothing, class_alpha, weight, pos_weight)


# ---- 1.1: softmax focal, quality focal, varifocal ------------------------------


@torch.jit.unused
def _softmax_focal_loss(inputs, labels, alpha=0.25, gamma=2.0, reduction="mean",
                        normalizer=0.0, label_smoothing=0.0, class_alpha=None, weight=None):
    _require(_lib.require_family, "focal.torch.softmax_focal_loss")
    red = _lib.reduction_code(reduction)
    _check_rows(inputs)
    rows, classes = inputs.shape
    t = _labels_tensor(labels, rows, classes)
    class_alpha = _vector(class_alpha, classes, "class_alpha", "one alpha per class")
    weight = _vector(weight, rows, "weight", "one weight per row")
    return _fused("softmax", (inputs, t, float(alpha), float(gamma), red, float(normalizer),
                              float(label_smoothing), class_alpha, weight), inputs.dtype)


def _call_softmax(inputs, labels, alpha, gamma, red, normalizer, smoothing, class_alpha,
                  weight, want_grad):
    """focal_softmax_labels: one loss per row."""
    x = inputs.detach().contiguous()
    rows, classes = x.shape
    opt = _lib.make_options(alpha, gamma, red, normalizer, smoothing,
                            0 if class_alpha is None else _ptr(class_alpha),
                            0 if weight is None else _ptr(weight))
    loss = _empty((rows,)) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_softmax(_ptr(x), _ptr(labels), rows, classes, opt, _ptr(loss),
                      _ptr(grad) if want_grad else 0)
    return loss, grad


_register("softmax_focal_loss(Tensor inputs, Tensor labels, " + _ROWS_ARGS + ") -> Tensor",
          _softmax_focal_loss)


def softmax_focal_loss(inputs: Tensor, labels: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "mean", normalizer: float = 0.0,
                       label_smoothing: float = 0.0, class_alpha: Optional[Tensor] = None,
                       weight: Optional[Tensor] = None) -> Tensor:
    """Softmax focal loss of (rows, classes) logits against one class index per row.

    labels: integer tensor (rows,) in [0, classes); < 0 ignores the row;
    >= classes is a ValueError. a_c = class_alpha[c], else alpha (< 0: 1).
    Returns a float32 tensor: (rows,) for "none", 0-d otherwise. See
    focal.softmax_labels.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.softmax_focal_loss(
            inputs, labels, float(alpha), float(gamma), reduction, float(normalizer),
            float(label_smoothing), class_alpha, weight)
    return _softmax_focal_loss(inputs, labels, alpha, gamma, reduction, normalizer,
                               label_smoothing, class_alpha, weight)


def _call_soft(inputs, scores, name, alpha, gamma, red, normalizer, weight, pos_weight, flags,
               divisor, want_grad):
    """focal_quality_focal / focal_varifocal (name "quality" / "varifocal")
    against prepared scores, with prepared per-element weights (flat, or
    None); for the quality loss (1.2) per-element positive weights and
    focal_options.flags too; divisor: see _divide_by."""
    normalizer, post = _divide_by(divisor, normalizer)
    x = inputs.detach().contiguous()
    opt = _lib.make_options(alpha, gamma, red, normalizer, 0.0, 0,
                            0 if weight is None else _ptr(weight),
                            0 if pos_weight is None else _ptr(pos_weight), flags)
    loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_soft(name, _ptr(x), _ptr(scores), x.numel(), opt, _ptr(loss),
                   _ptr(grad) if want_grad else 0)
    return _divided(loss, grad, post)


def _soft_run(name, inputs, s, alpha, gamma, red, normalizer, weight, pos_weight=None,
              flags=0, divisor=None, out_dtype=None):
    """The fused quality / varifocal loss of inputs against prepared scores s
    (contiguous float32); the loss in out_dtype (default: the inputs')."""
    return _fused("soft", (inputs, s, name, float(alpha), float(gamma), red, float(normalizer),
                           weight, pos_weight, int(flags), divisor),
                  inputs.dtype if out_dtype is None else out_dtype)


def _soft(name, inputs, scores, alpha, gamma, reduction, normalizer, weight, pos_weight=None,
          flags=0):
    _require(_lib.require_family, f"focal.torch.{name}")
    red = _lib.reduction_code(reduction)
    _check_tensor("inputs", inputs)
    _check_tensor("scores", scores)
    if inputs.shape != scores.shape:
        raise ValueError(f"inputs and scores differ in shape: "
                         f"{tuple(inputs.shape)} vs {tuple(scores.shape)}")
    s = _f32(scores)
    n = inputs.numel()
    if weight is not None:
        weight = _vector(torch.as_tensor(weight).reshape(-1), n, "weight",
                         "one weight per element")
    if pos_weight is not None:
        pos_weight = _vector(torch.as_tensor(pos_weight).reshape(-1), n, "pos_weight",
                             "one positive weight per element")
    return _soft_run(name, inputs, s, alpha, gamma, red, normalizer, weight, pos_weight, flags,
                     out_dtype=torch.promote_types(inputs.dtype, scores.dtype))


@torch.jit.unused
def _quality_focal_loss(inputs, scores, gamma=2.0, reduction="mean", normalizer=0.0,
                        weight=None, pos_weight=None, alpha=None):
    flags = 0 if alpha is None else _lib.FLAG_QUALITY_ALPHA
    return _soft("quality", inputs, scores, 0.0 if alpha is None else alpha, gamma, reduction,
                 normalizer, weight, pos_weight, flags)


@torch.jit.unused
def _varifocal_loss(inputs, scores, alpha=0.75, gamma=2.0, reduction="mean", normalizer=0.0,
                    weight=None):
    return _soft("varifocal", inputs, scores, alpha, gamma, reduction, normalizer, weight)


_register("quality_focal_loss(Tensor inputs, Tensor scores, float gamma, str reduction, "
          "float normalizer, Tensor? weight, Tensor? pos_weight=None, float? alpha=None) "
          "-> Tensor", _quality_focal_loss)
_register("varifocal_loss(Tensor inputs, Tensor scores, float alpha, float gamma, "
          "str reduction, float normalizer, Tensor? weight) -> Tensor", _varifocal_loss)


def quality_focal_loss(inputs: Tensor, scores: Tensor, gamma: float = 2.0,
                       reduction: str = "mean", normalizer: float = 0.0,
                       weight: Optional[Tensor] = None, pos_weight: Optional[Tensor] = None,
                       alpha: Optional[float] = None) -> Tensor:
    """Quality focal loss (GFL): |scores - sigmoid(inputs)|^gamma BCE(inputs, scores).

    inputs, scores: CPU tensors of one shape, scores in [0, 1];
    weight: per element (shaped like inputs), or None. mmdet's
    quality_focal_loss with beta = gamma, without detaching anything; but
    "mean" divides by every element (mmdet's QualityFocalLoss divides by the
    rows: it sums over classes first, as the module here does).

    Ultralytics' QFocalLoss: pos_weight (shaped like inputs, >= 0) weighs the
    positive part of the BCE, pw s softplus(-x) + (1 - s) softplus(x); alpha,
    when not None, multiplies the loss by a_t = alpha s + (1 - alpha)(1 - s)
    (alpha < 0: a_t = 1). None for both is mmdet's loss. See focal.quality_focal.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.quality_focal_loss(inputs, scores, float(gamma), reduction,
                                                  float(normalizer), weight, pos_weight, alpha)
    return _quality_focal_loss(inputs, scores, gamma, reduction, normalizer, weight, pos_weight,
                               alpha)


def varifocal_loss(inputs: Tensor, scores: Tensor, alpha: float = 0.75, gamma: float = 2.0,
                   reduction: str = "mean", normalizer: float = 0.0,
                   weight: Optional[Tensor] = None) -> Tensor:
    """Varifocal loss (VFNet): w BCE(inputs, scores), w = scores where > 0, else
    alpha sigmoid(inputs)^gamma. mmdet's varifocal_loss (iou_weighted=True);
    as there, w is not detached: the gradient is the full derivative.
    """
    if torch.jit.is_scripting() or torch.jit.is_tracing():
        return torch.ops.focal.varifocal_loss(inputs, scores, float(alpha), float(gamma),
                                              reduction, float(normalizer), weight)
    return _varifocal_loss(inputs, scores, alpha, gamma, reduction, normalizer, weight)


# The library calls by kind, as _fused and focal/torch/_compile.py name them.
_CALLS = {"flat": _call_flat, "rows": _call_rows, "softmax": _call_softmax, "soft": _call_soft}


# ---- mmdet 3.x drop-ins ------------------------------------------------------------
#
# Each module's forward follows mmdet's: the loss per element (FocalLoss,
# VarifocalLoss) or per row (QualityFocalLoss sums over classes first), then
# weight_reduce_loss: loss * weight; with avg_factor, "mean" is
# loss.sum() / (avg_factor + eps), eps = torch.finfo(torch.float32).eps,
# "none" ignores it and "sum" is a ValueError; without it, torch's mean or sum.
# Where libfocal can apply the weight and reduce inside its pass (per-row
# weights for FocalLoss and QualityFocalLoss, per-element weights for
# VarifocalLoss, all float32 and without gradient), it does; any other weight
# goes through torch exactly as mmdet's expression (broadcasting, dtype
# promotion, the weight's own gradient), on the fused per-element loss.

_EPS = torch.finfo(torch.float32).eps  # a Python float, as in weight_reduce_loss


def _mmdet_reduction(reduction_override, reduction, avg_factor):
    if reduction_override not in (None, "none", "mean", "sum"):
        raise AssertionError(f"reduction_override must be None, 'none', 'mean' or 'sum' "
                             f"(as mmdet asserts), got {reduction_override!r}")
    reduction = reduction_override if reduction_override else reduction
    if reduction not in _lib.REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if avg_factor is not None and reduction == "sum":
        raise ValueError('avg_factor can not be used with reduction="sum"')
    return reduction


def _weight_reduce(loss, weight, reduction, avg_factor):
    """mmdet's weight_reduce_loss, in torch."""
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        if reduction == "mean":
            return loss.mean()
        return loss.sum() if reduction == "sum" else loss
    if reduction == "mean":
        return loss.sum() / (avg_factor + _EPS)
    return loss  # "none" ("sum" was refused by _mmdet_reduction)


def _fused_reduce(call, reduction, avg_factor):
    """weight_reduce_loss on a fused call(reduction, normalizer, divisor)
    that applies the weight itself.

    "mean" with avg_factor: the library divides its sum by the divisor
    avg_factor + eps (as torch computes it, rounded to float32 as torch's
    float32 division does) when that gives mmdet's dtype and shape, i.e.
    avg_factor is a number or a 0-d tensor that wants no gradient and makes a
    float32 divisor (a float64 one makes mmdet's loss float64); then the
    gradient needs no further pass. A tensor divisor goes into the call,
    which reads it (_divide_by): a compiled graph has no data-dependent
    branch here. Else (a (1,) tensor gives a (1,) loss in mmdet) torch
    divides the library's sum."""
    if avg_factor is None:
        return call(reduction, 0.0, None)
    if reduction == "mean":
        divisor = avg_factor + _EPS
        if not isinstance(divisor, torch.Tensor) and _compiling():
            # A traced number may be symbolic (avg_factor = float(n_pos)):
            # as a tensor the call reads it; float32 rounds it as above.
            divisor = torch.tensor(divisor, dtype=torch.float32)
        if not isinstance(divisor, torch.Tensor):
            f = _library_divisor(divisor)
            if f is not None:
                return call("sum", f, None)
        elif (divisor.dim() == 0 and divisor.dtype == torch.float32
              and divisor.device.type == "cpu" and not divisor.requires_grad):
            return call("sum", 0.0, divisor.detach())
        return call("sum", 0.0, None) / divisor
    return call("none", 0.0, None)


def _row_sums(loss):
    """loss.sum(dim=1), as a product with ones: a BLAS call that eager mode
    and a compiled graph both make (Inductor would generate a reduction of
    its own, summing in another order), so both give the same bits."""
    ones = loss.new_ones(loss.shape[1], 1)
    try:
        if loss.dim() == 2:
            return torch.mm(loss, ones).squeeze(1)
        return torch.matmul(loss.movedim(1, -1), ones).squeeze(-1)
    except RuntimeError:  # PyTorch 1.13 has no float16 matrix product on the CPU
        return loss.sum(dim=1)


def _fast_weight(weight, shape):
    """True if weight (already shaped as mmdet leaves it) can go to the
    library: float32 on the CPU, no gradient wanted, the given shape."""
    return (weight.dtype == torch.float32 and weight.device.type == "cpu"
            and not weight.requires_grad and tuple(weight.shape) == tuple(shape))


def _split_avg_factor(avg_factor: Optional[Union[float, Tensor]]
                      ) -> Tuple[Optional[float], Optional[Tensor]]:
    # An operator argument has one type: a number and a tensor travel apart.
    if avg_factor is None:
        return None, None
    if isinstance(avg_factor, Tensor):
        return None, avg_factor
    return float(avg_factor), None


def _as_target(target, name="target", dtype=torch.float32):
    """target without gradient, contiguous, in dtype (mmdet's
    target.type_as(pred) when dtype is pred's)."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(target).__name__}")
    if target.device.type != "cpu":
        raise ValueError(f"{name} must be on the CPU, got device {target.device}")
    return target.detach().to(dtype).contiguous()


@torch.jit.unused
def _mmdet_focal_loss(pred, target, weight, avg_factor, reduction_override, reduction, gamma,
                      alpha, loss_weight, activated):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    if activated:
        raise NotImplementedError(
            "FocalLoss(activated=True) (mmdet's focal loss of probabilities, "
            "py_focal_loss_with_prob): libfocal computes the loss from logits only")
    if not 0.0 <= alpha <= 1.0:
        raise NotImplementedError(f"FocalLoss(alpha={alpha}): libfocal's alpha is a weight in "
                                  f"[0, 1] (mmdet would use a negative or > 1 alpha as given)")
    _check_tensor("pred", pred)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, not {type(target).__name__}")
    labels = dense = None
    if pred.dim() == target.dim():
        # mmdet: the target is already one-hot (float or integer) or soft,
        # shaped like pred (any number of dims): elementwise.
        if target.shape != pred.shape:
            raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                             f"({pred.size()})")
        dense = _as_target(target, dtype=pred.dtype)
    elif pred.dim() == 2 and target.dim() == 1:
        labels = target  # class indices, C = background (checked by _labels_tensor)
    else:
        raise ValueError(f"target must be shaped like pred (one-hot or soft) or be (N,) class "
                         f"indices for a 2-D pred (N, C); got pred {tuple(pred.shape)}, "
                         f"target {tuple(target.shape)}")

    row_weight = None
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            raise TypeError(f"weight must be a torch.Tensor, not {type(weight).__name__}")
        # py_sigmoid_focal_loss: (N,) becomes (N, 1); (N * C,) becomes (N, C).
        if weight.shape != pred.shape:
            if weight.dim() > 0 and pred.dim() > 0 and weight.size(0) == pred.size(0):
                weight = weight.reshape(-1, 1)
            else:
                if weight.numel() != pred.numel():
                    raise AssertionError(
                        f"weight must have one value per row or per element of pred "
                        f"{tuple(pred.shape)} (as mmdet asserts), got {tuple(weight.shape)}")
                weight = weight.reshape(pred.size(0), -1)
        if weight.dim() != pred.dim():
            raise AssertionError(f"weight {tuple(weight.shape)} must have pred's number of "
                                 f"dims, {pred.dim()} (as mmdet asserts)")
        if pred.dim() == 2 and _fast_weight(weight, (pred.size(0), 1)):
            row_weight, weight = weight.reshape(-1), None

    def call(red, normalizer, divisor):
        if labels is not None:
            return _rows(True, pred, labels, alpha, gamma, red, normalizer, 0.0, None,
                         row_weight, None, divisor)
        if pred.dim() == 2:
            return _rows(False, pred, dense, alpha, gamma, red, normalizer, 0.0, None,
                         row_weight, None, divisor)
        if normalizer or divisor is not None:
            # The sum divided by avg_factor + eps (_fused_reduce): the rows
            # call takes the divisor; the loss is element-wise, so the
            # elements of any shape can be one row.
            return _rows(False, pred.reshape(1, -1), dense.reshape(1, -1), alpha, gamma, red,
                         normalizer, 0.0, None, None, None, divisor)
        return _sigmoid_focal_loss(pred, dense, alpha, gamma, red)

    if weight is None:
        loss = _fused_reduce(call, reduction, avg_factor)
    else:
        loss = _weight_reduce(call("none", 0.0, None), weight, reduction, avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_focal_op(pred, target, weight, avg_number, avg_tensor, reduction_override,
                    reduction, gamma, alpha, loss_weight, activated):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_focal_loss(pred, target, weight, avg_factor, reduction_override, reduction,
                             gamma, alpha, loss_weight, activated)


_MMDET_ARGS = "Tensor? weight, float? avg_number, Tensor? avg_tensor, str? reduction_override, "
_register("mmdet_focal_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, float gamma, float alpha, float loss_weight, bool activated) -> Tensor",
          _mmdet_focal_op)


@torch.jit.unused
def _mmdet_quality_focal_loss(pred, label, score, weight, avg_factor, reduction_override,
                              reduction, beta, loss_weight, activated):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    if activated:
        raise NotImplementedError(
            "QualityFocalLoss(activated=True) (mmdet's quality focal loss of probabilities, "
            "quality_focal_loss_with_prob): libfocal computes the loss from logits only")
    _require(_lib.require_family, "focal.torch.QualityFocalLoss")
    _check_tensor("pred", pred)
    if label is None:
        # quality_focal_loss_tensor_target: soft one-hot scores shaped like pred.
        if not isinstance(score, torch.Tensor):
            raise TypeError(f"target must be a torch.Tensor or a (label, score) tuple, "
                            f"not {type(score).__name__}")
        if score.shape != pred.shape:
            raise AssertionError(f"target {tuple(score.shape)} must be shaped like pred "
                                 f"{tuple(pred.shape)} (as mmdet asserts)")
        if pred.dim() < 2:
            raise IndexError(f"pred must have a class dimension (dim 1), got shape "
                             f"{tuple(pred.shape)}")
        s = _as_target(score)
    else:
        # quality_focal_loss: label in [0, C) is the positive class of its row,
        # with score its IoU; any other label (C is background) leaves the row
        # all negative (score 0 everywhere), as mmdet's pos mask does.
        if pred.dim() != 2:
            raise ValueError(f"pred must be 2-D (N, C) with (label, score) targets, got shape "
                             f"{tuple(pred.shape)}")
        rows, classes = pred.shape
        for name, t in (("label", label), ("score", score)):
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, not {type(t).__name__}")
            if tuple(t.shape) != (rows,):
                raise ValueError(f"{name} must have shape ({rows},), got {tuple(t.shape)}")
        if label.dtype.is_floating_point or label.dtype.is_complex:
            raise ValueError(f"label must be integers (class indices), got {label.dtype}")
        s = torch.zeros((rows, classes), dtype=torch.float32)
        pos = ((label >= 0) & (label < classes)).nonzero().squeeze(1)
        s[pos, label[pos].long()] = _as_target(score, "score")[pos]

    def call(red, normalizer, divisor, w=None):
        return _soft_run("quality", pred, s, 0.0, beta, _lib.REDUCTIONS[red], normalizer, w,
                         divisor=divisor)

    rows = pred.size(0)
    if pred.dim() == 2 and reduction != "none" and (weight is None or _fast_weight(weight,
                                                                                 (rows,))):
        w = None
        if weight is not None:
            w = weight.detach().reshape(-1, 1).expand(pred.shape).contiguous().reshape(-1)
        if avg_factor is None and reduction == "mean":
            # mean over rows: the sum over every element / N (NaN for N = 0)
            loss = call("sum", float(rows), None, w) if rows else call("mean", 0.0, None, w)
        else:
            loss = _fused_reduce(lambda red, normalizer, divisor: call(red, normalizer, divisor,
                                                                        w),
                                 reduction, avg_factor)
    else:
        loss = _weight_reduce(_row_sums(call("none", 0.0, None)), weight, reduction,
                              avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_quality_op(pred, label, score, weight, avg_number, avg_tensor, reduction_override,
                      reduction, beta, loss_weight, activated):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_quality_focal_loss(pred, label, score, weight, avg_factor,
                                     reduction_override, reduction, beta, loss_weight,
                                     activated)


_register("mmdet_quality_focal_loss(Tensor pred, Tensor? label, Tensor score, " + _MMDET_ARGS +
          "str reduction, float beta, float loss_weight, bool activated) -> Tensor",
          _mmdet_quality_op)


@torch.jit.unused
def _mmdet_varifocal_loss(pred, target, weight, avg_factor, reduction_override, reduction,
                          alpha, gamma, iou_weighted, loss_weight):
    reduction = _mmdet_reduction(reduction_override, reduction, avg_factor)
    _require(_lib.require_family, "focal.torch.VarifocalLoss")
    _check_tensor("pred", pred)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, not {type(target).__name__}")
    if target.shape != pred.shape:
        raise AssertionError(f"target {tuple(target.shape)} must be shaped like pred "
                             f"{tuple(pred.shape)} (as mmdet asserts)")
    s = _as_target(target)

    def call(red, normalizer, divisor, w=None):
        return _soft_run("varifocal", pred, s, alpha, gamma, _lib.REDUCTIONS[red], normalizer,
                         w, divisor=divisor)

    if not iou_weighted:
        # mmdet's modulator is 1 instead of the target on positives (t > 0):
        # their loss is plain BCE-with-logits, which is the quality loss with
        # gamma 0 (|t - p|^0 = 1); the negatives' is the varifocal loss's.
        # Both from the library, so a compiled graph gives eager's bits;
        # torch.where keeps each element's loss and gradient from one call.
        bce = _soft_run("quality", pred, s, 0.0, 0.0, 0, 0.0, None)
        loss = _weight_reduce(torch.where(s > 0.0, bce, call("none", 0.0, None)), weight,
                              reduction, avg_factor)
    elif weight is None or _fast_weight(weight, pred.shape):
        w = None if weight is None else weight.detach().contiguous().reshape(-1)
        loss = _fused_reduce(lambda red, normalizer, divisor: call(red, normalizer, divisor, w),
                             reduction, avg_factor)
    else:
        loss = _weight_reduce(call("none", 0.0, None), weight, reduction, avg_factor)
    return loss * loss_weight if loss_weight != 1.0 else loss


def _mmdet_varifocal_op(pred, target, weight, avg_number, avg_tensor, reduction_override,
                        reduction, alpha, gamma, iou_weighted, loss_weight):
    avg_factor = avg_tensor if avg_tensor is not None else avg_number
    return _mmdet_varifocal_loss(pred, target, weight, avg_factor, reduction_override,
                                 reduction, alpha, gamma, iou_weighted, loss_weight)


_register("mmdet_varifocal_loss(Tensor pred, Tensor target, " + _MMDET_ARGS +
          "str reduction, float alpha, float gamma, bool iou_weighted, float loss_weight) "
          "-> Tensor", _mmdet_varifocal_op)


def _require_sigmoid(use_sigmoid, what):
    if use_sigmoid is not True:
        raise AssertionError(f"Only sigmoid {what} supported now (use_sigmoid=True), as in mmdet")


class FocalLoss(torch.nn.Module):
    """mmdet 3.x's FocalLoss (use_sigmoid=True) on libfocal.

        loss_cls = FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0)
        loss = loss_cls(cls_score, labels, label_weights, avg_factor=num_pos)

    forward(pred, target, weight=None, avg_factor=None, reduction_override=None)
    as mmdet's: pred float32 logits; target either (N,) class indices for a
    (N, C) pred (C = background) or shaped like pred (one-hot float or
    integer, or soft targets in [0, 1]; any number of dims); weight (N,),
    (N, 1), (N, C) or (N * C,) for a 2-D pred, else shaped like pred;
    avg_factor None, a number or a tensor: "mean" is then
    loss.sum() / (avg_factor + float32 eps), "sum" a ValueError, "none"
    ignores it. The result is multiplied by loss_weight.

    Differences from mmdet (CPU path): class index < 0 ignores the row (loss
    and gradient 0, not counted by "mean" without avg_factor) where mmdet's
    one_hot raises; activated=True (probabilities) and alpha outside [0, 1]
    are NotImplementedError; targets must lie in [0, 1]; target gets no
    gradient (neither does weight when it is a float32 (N,) / (N, 1) tensor).
    """

    def __init__(self, use_sigmoid=True, gamma=2.0, alpha=0.25, reduction="mean",
                 loss_weight=1.0, activated=False):
        super().__init__()
        _require_sigmoid(use_sigmoid, "focal loss")
        if activated:
            raise NotImplementedError(
                "FocalLoss(activated=True) (mmdet's focal loss of probabilities, "
                "py_focal_loss_with_prob): libfocal computes the loss from logits only")
        _lib.reduction_code(reduction)
        self.use_sigmoid = True
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.activated = bool(activated)

    def extra_repr(self):
        return (f"gamma={self.gamma}, alpha={self.alpha}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_focal_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.gamma, self.alpha, self.loss_weight, self.activated)
        return _mmdet_focal_loss(pred, target, weight, avg_factor, reduction_override,
                                 self.reduction, self.gamma, self.alpha, self.loss_weight,
                                 self.activated)


class QualityFocalLoss(torch.nn.Module):
    """mmdet 3.x's QualityFocalLoss (GFL, use_sigmoid=True) on libfocal.

        loss_cls = QualityFocalLoss(use_sigmoid=True, beta=2.0, loss_weight=1.0)
        loss = loss_cls(cls_score, (labels, iou_scores), label_weights, avg_factor=n)

    target: a (label, score) pair for a (N, C) pred (label (N,) in [0, C) is
    the row's positive class, scored by score (N,); any other label is
    background), or a tensor of soft scores shaped like pred. The loss is
    summed over classes (dim 1) before weight_reduce_loss, so "mean" divides
    by N; weight is per row. Differences: activated=True is
    NotImplementedError; scores must lie in [0, 1] and get no gradient.
    """

    def __init__(self, use_sigmoid=True, beta=2.0, reduction="mean", loss_weight=1.0,
                 activated=False):
        super().__init__()
        _require_sigmoid(use_sigmoid, "in QFL")
        if activated:
            raise NotImplementedError(
                "QualityFocalLoss(activated=True) (mmdet's quality focal loss of "
                "probabilities): libfocal computes the loss from logits only")
        _lib.reduction_code(reduction)
        self.use_sigmoid = True
        self.beta = float(beta)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.activated = bool(activated)

    def extra_repr(self):
        return (f"beta={self.beta}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Union[Tensor, Tuple[Tensor, Tensor]],
                weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            label: Optional[Tensor] = None
            if isinstance(target, Tensor):
                score = target
            else:
                label, score = target
            return torch.ops.focal.mmdet_quality_focal_loss(
                pred, label, score, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.beta, self.loss_weight, self.activated)
        if isinstance(target, torch.Tensor):
            label, score = None, target
        else:
            if len(target) != 2:
                raise AssertionError("target for QFL must be a tuple of two elements, "
                                     "including category label and quality label")
            label, score = target
        return _mmdet_quality_focal_loss(pred, label, score, weight, avg_factor,
                                         reduction_override, self.reduction, self.beta,
                                         self.loss_weight, self.activated)


class VarifocalLoss(torch.nn.Module):
    """mmdet 3.x's VarifocalLoss (VFNet, use_sigmoid=True) on libfocal.

        loss_cls = VarifocalLoss(use_sigmoid=True, alpha=0.75, gamma=2.0,
                                 iou_weighted=True, loss_weight=1.0)
        loss = loss_cls(cls_score, iou_targets, avg_factor=num_pos)

    target: IoU-aware scores in [0, 1] shaped like pred; weight broadcasts
    against the per-element loss as in mmdet. iou_weighted=False weights
    positives by 1 instead of their score (their loss is then the BCE,
    computed by the library's quality loss with gamma 0, the negatives' by
    its varifocal loss). Difference: targets get no gradient.
    """

    def __init__(self, use_sigmoid=True, alpha=0.75, gamma=2.0, iou_weighted=True,
                 reduction="mean", loss_weight=1.0):
        super().__init__()
        _require_sigmoid(use_sigmoid, "varifocal loss")
        if not alpha >= 0.0:
            raise AssertionError(f"alpha must be >= 0 (as mmdet asserts), got {alpha}")
        _lib.reduction_code(reduction)
        self.use_sigmoid = True
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.iou_weighted = bool(iou_weighted)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def extra_repr(self):
        return (f"alpha={self.alpha}, gamma={self.gamma}, reduction={self.reduction!r}, "
                f"loss_weight={self.loss_weight}")

    def forward(self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                avg_factor: Optional[Union[float, Tensor]] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        if torch.jit.is_scripting() or torch.jit.is_tracing():
            avg_number, avg_tensor = _split_avg_factor(avg_factor)
            return torch.ops.focal.mmdet_varifocal_loss(
                pred, target, weight, avg_number, avg_tensor, reduction_override,
                self.reduction, self.alpha, self.gamma, self.iou_weighted, self.loss_weight)
        return _mmdet_varifocal_loss(pred, target, weight, avg_factor, reduction_override,
                                     self.reduction, self.alpha, self.gamma,
                                     self.iou_weighted, self.loss_weight)


# The custom operators torch.compile traces (PyTorch >= 2.4); they need _CALLS.
from . import _compile  # noqa: E402
