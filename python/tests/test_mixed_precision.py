# SPDX-License-Identifier: MIT
"""bfloat16 / float16 inputs, CPU autocast and float64 (docs/DESIGN.md §5.2,
docs/python.md "Mixed precision").

libfocal computes in float32. Every bfloat16 or float16 value is a float32
value, so a low-precision call must give exactly the float32 call's results
on the same values, rounded once: the loss to the dtype torchvision's
expression returns (the promoted dtype of logits and targets; float32 under
autocast), the gradient to the logits' dtype. float64 is a TypeError that
names the supported dtypes. Then training: 50 steps under autocast and with
float16 logits agree with torchvision's loss to the low precision.
"""

import contextlib

import pytest
import torch
import torch.nn as nn

import _torchvision
import focal.torch as ft
from _cases import CASES, C, data, skip_unavailable
from focal import _lib

pytestmark = pytest.mark.skipif(not _lib.has("softmax_labels", "quality_focal", "varifocal"),
                                reason="needs the 1.1 loss family")

LOW = [torch.bfloat16, torch.float16]
# The peers' modules post-process the fused loss in torch, in the low
# precision, as their own code does (loss_weight, a weight, a row sum): those
# are checked to the dtype's rounding instead of bit for bit.
MODULES = tuple(name for name in CASES if name.startswith(("mmdet.", "yolo.")))


@contextlib.contextmanager
def autocast_or_skip(dtype):
    # PyTorch 1.13's CPU autocast takes bfloat16 only.
    ctx = torch.autocast("cpu", dtype=dtype)
    try:
        ctx.__enter__()
    except RuntimeError as exc:
        pytest.skip(f"torch {torch.__version__}: {exc}")
    try:
        yield
    finally:
        ctx.__exit__(None, None, None)


def same_bits(got, want):
    """Equal values, NaN in the same places (torch.equal is False for NaN):
    a box loss of a degenerate box is NaN, as its expression is."""
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


def close_to_the_float32_call(got, want32, dtype):
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(got.float(), want32, rtol=4 * eps, atol=1e-6)
FLOAT_KEYS = ("x", "hard", "soft", "score", "dist", "ltrb", "boxes", "values")  # the logits and every float target


def cast(d, dtype):
    """The data with the logits and targets in dtype (weights stay float32)."""
    return {k: (v.to(dtype) if k in FLOAT_KEYS else v) for k, v in d.items()}


def loss_and_grad(name, d, reduction):
    x = d["x"].clone().requires_grad_()
    loss = CASES[name](x, d, reduction)
    (grad,) = torch.autograd.grad(loss, x, torch.ones_like(loss))
    return loss.detach(), grad


def rounded_float32_results(name, d, reduction, dtype):
    """The float32 call on the low-precision values."""
    return loss_and_grad(name, cast(cast(d, dtype), torch.float32), reduction)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", sorted(CASES))
def test_low_precision_is_the_float32_call_rounded_once(name, dtype, reduction):
    skip_unavailable(name)
    d = data(11)
    loss, grad = loss_and_grad(name, cast(d, dtype), reduction)
    loss32, grad32 = rounded_float32_results(name, d, reduction, dtype)
    assert grad.dtype == dtype
    if name in MODULES:
        close_to_the_float32_call(loss, loss32, dtype)
        close_to_the_float32_call(grad, grad32, dtype)
    else:
        same_bits(grad, grad32.to(dtype))
        assert loss.dtype == dtype, f"{name}: loss dtype {loss.dtype}"
        same_bits(loss, loss32.to(dtype))


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", sorted(CASES))
def test_autocast_computes_in_float32_and_returns_float32(name, dtype):
    skip_unavailable(name)
    d = data(12)
    low = cast(d, dtype)
    with autocast_or_skip(dtype):
        loss, grad = loss_and_grad(name, low, "mean")
    loss32, grad32 = rounded_float32_results(name, d, "mean", dtype)
    assert loss.dtype == torch.float32, f"{name}: loss dtype {loss.dtype} under autocast"
    assert grad.dtype == dtype
    if name in MODULES:
        close_to_the_float32_call(loss, loss32, dtype)
        close_to_the_float32_call(grad, grad32, dtype)
    else:
        same_bits(loss, loss32)
        same_bits(grad, grad32.to(dtype))


@pytest.mark.parametrize("dtype", LOW)
def test_loss_dtype_is_torchvisions(dtype):
    d = data(13)
    x, t = d["x"], d["hard"]
    for xd, td in ((dtype, dtype), (dtype, torch.float32), (torch.float32, dtype)):
        try:
            want = _torchvision.sigmoid_focal_loss(x.to(xd), t.to(td), reduction="sum").dtype
        except RuntimeError as exc:  # PyTorch 1.13: no float16 sigmoid on the CPU
            pytest.skip(f"torchvision's loss does not run in {dtype} here: {exc}")
        assert ft.sigmoid_focal_loss(x.to(xd), t.to(td), reduction="sum").dtype == want
        with autocast_or_skip(dtype):
            want = _torchvision.sigmoid_focal_loss(x.to(xd), t.to(td), reduction="sum").dtype
            got = ft.sigmoid_focal_loss(x.to(xd), t.to(td), reduction="sum").dtype
        assert got == want == torch.float32


@pytest.mark.parametrize("dtype", LOW)
def test_operators_have_an_autocast_kernel(dtype):
    # The registered operator itself (TorchScript's path) follows autocast,
    # whoever calls it.
    d = cast(data(14), dtype)
    op = torch.ops.focal.sigmoid_focal_loss
    assert op(d["x"], d["hard"], 0.25, 2.0, "mean").dtype == dtype
    with autocast_or_skip(dtype):
        assert op(d["x"], d["hard"], 0.25, 2.0, "mean").dtype == torch.float32
    scripted = torch.jit.script(scripted_loss)
    assert scripted(d["x"], d["hard"]).dtype == dtype
    with autocast_or_skip(dtype):
        assert scripted(d["x"], d["hard"]).dtype == torch.float32


def scripted_loss(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return ft.sigmoid_focal_loss(x, t, 0.25, 2.0, "sum")


@pytest.mark.parametrize("name", sorted(CASES))
def test_float64_is_a_type_error_naming_the_dtypes(name):
    skip_unavailable(name)
    d = data(15)
    if name.startswith("yolo."):
        # The Ultralytics modules evaluate their own expression in torch for
        # whatever the library does not take (focal/torch/yolo.py): float64
        # is computed in float64 there.
        d64 = {k: (v.double() if v.is_floating_point() else v) for k, v in d.items()}
        assert CASES[name](d64["x"], d64, "mean").dtype == torch.float64
        return
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        CASES[name](d["x"].double(), d, "mean")


# ---- training --------------------------------------------------------------------


def train(loss_fn, steps=50, autocast=None, logits_dtype=None):
    """SGD on a small classification head; returns the loss curve."""
    torch.manual_seed(0)
    feats = torch.randn(512, 32)
    labels = torch.randint(0, C + 1, (512,))  # C = background
    onehot = torch.zeros(512, C + 1).scatter_(1, labels[:, None], 1.0)[:, :C]
    head = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, C))
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    curve = []
    for _ in range(steps):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=autocast or torch.bfloat16,
                            enabled=autocast is not None):
            logits = head(feats)
            if logits_dtype is not None:
                logits = logits.to(logits_dtype)
            loss = loss_fn(logits, onehot.to(logits.dtype))
        loss.float().backward()
        opt.step()
        curve.append(float(loss.detach()))
    return torch.tensor(curve)


def mmdet_focal(logits, targets):
    return ft.FocalLoss()(logits, targets)


def torchvision_focal(logits, targets):
    return _torchvision.sigmoid_focal_loss(logits, targets, reduction="mean")


def test_autocast_bfloat16_training_matches_torchvision():
    ours = train(mmdet_focal, autocast=torch.bfloat16)
    theirs = train(torchvision_focal, autocast=torch.bfloat16)
    assert ours[-1] < 0.5 * ours[0], "the head did not learn"
    # bfloat16 has 8 significant bits: the two runs agree to a few of its ulps.
    torch.testing.assert_close(ours, theirs, rtol=3e-2, atol=0.0)


def test_float16_logits_training_matches_torchvision_in_float32():
    ours = train(mmdet_focal, logits_dtype=torch.float16)
    reference = train(torchvision_focal)
    assert ours[-1] < 0.5 * ours[0], "the head did not learn"
    torch.testing.assert_close(ours, reference, rtol=5e-3, atol=0.0)
