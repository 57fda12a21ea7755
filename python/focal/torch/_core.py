# SPDX-License-Identifier: MIT
"""focal.torch's machinery: one function per library call, the autograd node
that keeps the fused gradient, dtype and device checks, the output buffer
pool, and the registration of torch.ops.focal.* operators (docs/DESIGN.md
§5.2). The public functions (functional.py), the mmdet modules (mmdet.py)
and the YOLOv5 modules (yolo.py) are written on it."""

import inspect
import sys
import threading
import typing
from typing import Optional

import numpy as np
import torch
from torch import Tensor

from .. import _lib

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
    _lib.call_entry("sigmoid_loss_grad", _ptr(x), _ptr(t), x.numel(), float(alpha),
                    float(gamma), red, _ptr(loss), _ptr(grad) if want_grad else 0)
    return loss, grad


def _is_one(t, grad=None):
    """True if every element of t is 1: read at once where t is one value,
    0-d (the upstream gradient of a reduced loss) or expanded from one
    (stride 0 everywhere, as loss.sum() hands to a "none" loss); else, for a
    row loss's upstream gradient (one per row of grad, so a check costs a
    fraction of the product it saves: a row sum's backward hands ones
    materialized), compared; else False, unread."""
    if t.numel() == 0:
        return False
    if all(st == 0 for st in t.stride()):
        return t[(0,) * t.dim()].item() == 1.0
    if grad is not None and grad.dim() == 2 and t.numel() * 4 <= grad.numel():
        return bool((t == 1.0).all())
    return False


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
        if not _is_one(grad_output, grad):
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


def _require(name, what):
    """_lib.require(name, what): the library has the entry point `name`
    (_spec.ENTRY_POINTS), checked eagerly; a compiled graph was traced after
    one check (and the library cannot lose a symbol), so it is skipped there."""
    if not _compiling():
        _lib.require(name, what)


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


# The schema type of each annotation a public function may carry.
_SCHEMA_TYPES = {Tensor: "Tensor", Optional[Tensor]: "Tensor?", float: "float",
                 Optional[float]: "float?", int: "int", str: "str", bool: "bool"}


def _schema_default(value):
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, float):
        return repr(value)
    return repr(value)


def _schema_of(fn):
    """The operator schema of a public function, from its signature: its
    name, each argument's annotation (_SCHEMA_TYPES) and default, its return
    annotation. The function (written out for TorchScript, which reads its
    source) is then the one place its operator's arguments are listed."""
    hints = typing.get_type_hints(fn)
    args = []
    for p in inspect.signature(fn).parameters.values():
        arg = f"{_SCHEMA_TYPES[hints[p.name]]} {p.name}"
        if p.default is not inspect.Parameter.empty:
            kind = hints[p.name]
            default = float(p.default) if kind in (float, Optional[float]) \
                and p.default is not None else p.default
            arg += "=" + _schema_default(default)
        args.append(arg)
    return f"{fn.__name__}({', '.join(args)}) -> {_SCHEMA_TYPES[hints['return']]}"


def _register(schema, impl):
    """Defines torch.ops.focal.<name> with impl as its kernels. schema: the
    schema string, or the public function whose signature gives it
    (_schema_of)."""
    if callable(schema):
        schema = _schema_of(schema)
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
    _lib.call_entry("sigmoid_labels" if labels_mode else "sigmoid_dense", _ptr(x),
                    _ptr(targets), rows, classes, opt, _ptr(loss),
                    _ptr(grad) if want_grad else 0)
    return _divided(loss, grad, post)


def _rows(labels_mode, inputs, targets, alpha, gamma, reduction, normalizer, label_smoothing,
          class_alpha, weight, pos_weight=None, divisor=None):
    _require("sigmoid_labels" if labels_mode else "sigmoid_dense",
             "focal.torch.sigmoid_focal_loss_labels" if labels_mode
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
    _lib.call_entry("softmax_labels", _ptr(x), _ptr(labels), rows, classes, opt, _ptr(loss),
                    _ptr(grad) if want_grad else 0)
    return loss, grad


# The losses over scores by the short names the "soft" call kind passes
# ("quality", "varifocal"): each maps to its own entry point, and an unknown
# name is a KeyError, never another loss.
_SOFT_ENTRY = {"quality": "quality_focal", "varifocal": "varifocal"}


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
    _lib.call_entry(_SOFT_ENTRY[name], _ptr(x), _ptr(scores), x.numel(), opt, _ptr(loss),
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
    _require(_SOFT_ENTRY[name], f"focal.torch.{name}")
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


# ---- 1.4: Distribution Focal Loss -------------------------------------------------


class _DistributionFocalLoss(_FusedLoss):
    pass


def _check_bins(inputs, name="inputs"):
    _check_tensor(name, inputs)
    if inputs.dim() != 2:
        raise ValueError(f"{name} must be 2-D (rows, bins), got shape {tuple(inputs.shape)}")


def _dfl_targets(targets, rows, name="targets"):
    """Continuous targets, one per row, as a contiguous float32 CPU tensor
    without gradient (the loss's constants). float32, bfloat16, float16 or
    integers; float64 is a TypeError, as for the logits."""
    if not isinstance(targets, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(targets).__name__}")
    if targets.dtype.is_floating_point:
        _check_tensor(name, targets)
    elif targets.dtype.is_complex or targets.dtype == torch.bool:
        raise TypeError(f"{name} must be real numbers (distances in bins), got {targets.dtype}")
    elif targets.device.type != "cpu":
        raise ValueError(f"{name} must be on the CPU, got device {targets.device}")
    if tuple(targets.shape) != (rows,):
        raise ValueError(f"{name} must have shape ({rows},) (one per row), "
                         f"got {tuple(targets.shape)}")
    return _f32(targets)


def _call_dfl(inputs, targets, red, normalizer, weight, divisor, want_grad):
    """focal_distribution_focal on (rows, bins) inputs against prepared
    targets and row weights: one loss per row; divisor: see _divide_by."""
    normalizer, post = _divide_by(divisor, normalizer)
    x = inputs.detach().contiguous()
    rows, bins = x.shape
    # alpha and gamma are not read by the loss.
    opt = _lib.make_options(0.0, 0.0, red, normalizer, 0.0, 0,
                            0 if weight is None else _ptr(weight))
    loss = _empty((rows,)) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_entry("distribution_focal", _ptr(x), _ptr(targets), rows, bins, opt, _ptr(loss),
                    _ptr(grad) if want_grad else 0)
    return _divided(loss, grad, post)


def _dfl_run(inputs, t, red, normalizer, weight, divisor, out_dtype):
    """The fused DFL of inputs against prepared targets t (see _call_dfl)."""
    return _fused("dfl", (inputs, t, red, float(normalizer), weight, divisor), out_dtype,
                  _DistributionFocalLoss)


# ---- 1.5: box regression losses -------------------------------------------------


class _BoxIoULoss(_FusedLoss):
    pass


class _SmoothL1Loss(_FusedLoss):
    pass


def _box_tensor(name, boxes):
    """(..., 4) boxes as a float32-able CPU tensor: integer boxes become
    float32, as torchvision's _upcast_non_float makes them."""
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, not {type(boxes).__name__}")
    if not (boxes.dtype.is_floating_point or boxes.dtype.is_complex or boxes.dtype == torch.bool):
        boxes = boxes.to(torch.float32)
    _check_tensor(name, boxes)
    if boxes.dim() == 0 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} must be (..., 4) boxes x1, y1, x2, y2, got shape "
                         f"{tuple(boxes.shape)}")
    return boxes


def _call_box(inputs, targets, kind, conv, eps, red, normalizer, weight, divisor, want_grad):
    """focal_box_iou_loss on (boxes, 4) inputs against prepared (boxes, 4)
    targets and box weights: one loss per box; divisor: see _divide_by."""
    normalizer, post = _divide_by(divisor, normalizer)
    x = inputs.detach().contiguous()
    opt = _lib.make_options(0.0, 0.0, red, normalizer, 0.0, 0,
                            0 if weight is None else _ptr(weight))
    loss = _empty((x.shape[0],)) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_entry("box_iou", _ptr(x), _ptr(targets), x.shape[0], kind, conv, float(eps), opt,
                    _ptr(loss), _ptr(grad) if want_grad else 0)
    return _divided(loss, grad, post)


def _box_run(inputs, t, kind, conv, eps, red, normalizer, weight, divisor, out_dtype):
    """The fused box loss of (boxes, 4) inputs against prepared targets t."""
    return _fused("box", (inputs, t, int(kind), int(conv), float(eps), red, float(normalizer),
                          weight, divisor), out_dtype, _BoxIoULoss)


def _call_pair(inputs, targets, beta, red, normalizer, weight, divisor, want_grad):
    """focal_smooth_l1 on inputs against prepared targets (same shape) and
    element weights; divisor: see _divide_by."""
    normalizer, post = _divide_by(divisor, normalizer)
    x = inputs.detach().contiguous()
    opt = _lib.make_options(0.0, 0.0, red, normalizer, 0.0, 0,
                            0 if weight is None else _ptr(weight))
    loss = _empty(x.shape) if red == 0 else torch.empty((), dtype=torch.float32)
    grad = _empty(x.shape) if want_grad else None
    _lib.call_entry("smooth_l1", _ptr(x), _ptr(targets), x.numel(), float(beta), opt,
                    _ptr(loss), _ptr(grad) if want_grad else 0)
    return _divided(loss, grad, post)


def _pair_run(inputs, t, beta, red, normalizer, weight, divisor, out_dtype):
    """The fused smooth L1 of inputs against prepared targets t."""
    return _fused("pair", (inputs, t, float(beta), red, float(normalizer), weight, divisor),
                  out_dtype, _SmoothL1Loss)


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


# The library calls by kind, as _fused and focal/torch/_compile.py name them.
_CALLS = {"flat": _call_flat, "rows": _call_rows, "softmax": _call_softmax, "soft": _call_soft,
          "dfl": _call_dfl, "box": _call_box, "pair": _call_pair}


# The custom operators torch.compile traces (PyTorch >= 2.4); they need _CALLS.
from . import _compile  # noqa: E402
