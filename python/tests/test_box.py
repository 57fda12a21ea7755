# SPDX-License-Identifier: MIT
"""The box regression losses (libfocal 1.5) against the peers' own code:
torchvision's generalized / distance / complete box IoU losses and torch's
smooth_l1_loss / l1_loss, evaluated in float64 with autograd on the same
(rounded) inputs; every input rank, dtype, eps and reduction crossed. The
mmdet and Ultralytics drop-ins have suites of their own (test_mmdet_box.py,
test_yolo_box.py)."""

import numpy as np
import pytest
import torch

import focal
import focal.torch as ft
from focal import _lib, _spec

pytestmark = pytest.mark.skipif(not _lib.has("box_iou", "smooth_l1"),
                                reason="the box regression losses are libfocal 1.5")

try:
    import torchvision.ops as tvo
except ImportError:  # the PyTorch matrix's legs without torchvision
    tvo = None
needs_tv_boxes = pytest.mark.skipif(not hasattr(tvo, "complete_box_iou_loss"),
                                    reason="needs torchvision >= 0.15 (its box losses)")

REDUCTIONS = ["none", "mean", "sum"]
LOW = [torch.bfloat16, torch.float16]
TV = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]


def boxes(shape, seed, spread=0.3):
    """Target boxes (x1, y1, x2, y2) and predictions near them: overlapping,
    nested, disjoint and (a few) inverted, no exact ties."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(*shape, 2, generator=g) * 50
    wh = 1 + torch.rand(*shape, 2, generator=g) * 30
    target = torch.cat((xy, xy + wh), -1)
    pred = target + torch.randn(*shape, 4, generator=g) * torch.cat((wh, wh), -1) * spread
    return pred, target


def reference(fn, pred, target, reduction, **kw):
    """The peer function in float64 on the same values: loss and gradient."""
    p = pred.detach().double().requires_grad_()
    loss = fn(p, target.double(), reduction=reduction, **kw)
    loss.backward(torch.ones_like(loss))
    return loss.detach(), p.grad


def ours(fn, pred, target, reduction, **kw):
    p = pred.detach().clone().requires_grad_()
    loss = fn(p, target, reduction=reduction, **kw)
    loss.backward(torch.ones_like(loss))
    return loss.detach(), p.grad


def close(got, want, rtol, atol):
    torch.testing.assert_close(got.double(), want, rtol=rtol, atol=atol)


@needs_tv_boxes
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(37,), (3, 11), (2, 3, 5), ()])
@pytest.mark.parametrize("eps", [1e-7, 0.5])
@pytest.mark.parametrize("name", TV)
def test_torchvision_functions(name, eps, shape, reduction):
    pred, target = boxes(shape, 1)
    got, got_grad = ours(getattr(ft, name), pred, target, reduction, eps=eps)
    want, want_grad = reference(getattr(tvo, name), pred, target, reduction, eps=eps)
    assert got.shape == want.shape and got.dtype == torch.float32
    # 1 - iou of a good box cancels: absolute error against the loss's 1
    close(got, want, 1e-5, 2e-6 * max(1, pred.numel()))
    close(got_grad, want_grad, 1e-4, 1e-6)


@needs_tv_boxes
@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("name", TV)
def test_torchvision_low_precision(name, dtype):
    # bfloat16 / float16 boxes: the float32 call on the rounded values, the
    # loss in their dtype (torchvision's expression keeps the dtype).
    pred, target = boxes((64,), 2)
    pred, target = pred.to(dtype), target.to(dtype)
    got, got_grad = ours(getattr(ft, name), pred, target, "sum")
    want, want_grad = ours(getattr(ft, name), pred.float(), target.float(), "sum")
    assert got.dtype == dtype and got_grad.dtype == dtype
    assert torch.equal(got, want.to(dtype)) and torch.equal(got_grad, want_grad.to(dtype))


@needs_tv_boxes
def test_torchvision_integer_boxes_are_upcast():
    # torchvision's _upcast_non_float: integer boxes compute in float32.
    pred = torch.tensor([[0, 0, 10, 10], [2, 3, 8, 9]])
    target = torch.tensor([[1, 1, 11, 12], [2, 2, 7, 9]])
    for name in TV:
        got = getattr(ft, name)(pred, target, "none")
        want = getattr(tvo, name)(pred, target, "none")
        assert got.dtype == want.dtype == torch.float32
        close(got, want.double(), 1e-6, 1e-7)


@needs_tv_boxes
def test_torchvision_errors():
    pred, target = boxes((4,), 3)
    with pytest.raises(ValueError, match="reduction"):
        ft.complete_box_iou_loss(pred, target, "average")
    with pytest.raises(ValueError, match="shape"):
        ft.generalized_box_iou_loss(pred, target[:3])
    with pytest.raises(ValueError, match="4"):
        ft.distance_box_iou_loss(pred[:, :3], target[:, :3])
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        ft.complete_box_iou_loss(pred.double(), target.double())
    with pytest.raises(focal.FocalError, match="eps"):
        ft.generalized_box_iou_loss(pred, target, eps=-1.0)


@pytest.mark.parametrize("convention", _spec.BOX_CONVENTIONS)
@pytest.mark.parametrize("loss", _spec.BOX_LOSSES)
def test_every_loss_and_convention_numpy_and_torch(loss, convention):
    # Each name reaches the C constant it stands for (the same bits from the
    # numpy function with the name and the torch function), weights and
    # normalizer included; MEAN is the weighted sum over the boxes.
    pred, target = boxes((50,), 4)
    w = torch.rand(50, generator=torch.Generator().manual_seed(5))
    for reduction in REDUCTIONS:
        nl, ng = focal.box_iou_loss(pred.numpy(), target.numpy(), loss, convention,
                                    reduction=reduction, weight=w.numpy())
        tl, tg = ours(ft.box_iou_loss, pred, target, reduction, loss=loss,
                      convention=convention, weight=w)
        # (-log IoU of a disjoint pair is inf, its gradient NaN, without a clamp)
        assert np.array_equal(np.asarray(nl), tl.numpy(), equal_nan=True)
        assert np.array_equal(ng, tg.numpy(), equal_nan=True)
    none, _ = focal.box_iou_loss(pred.numpy(), target.numpy(), loss, convention, reduction="none",
                                 weight=w.numpy())
    mean, _ = focal.box_iou_loss(pred.numpy(), target.numpy(), loss, convention, weight=w.numpy())
    assert mean == pytest.approx(float(np.sum(none, dtype=np.float64)) / 50, rel=1e-6)
    normed, _ = focal.box_iou_loss(pred.numpy(), target.numpy(), loss, convention,
                                   reduction="sum", normalizer=8.0, weight=w.numpy())
    assert normed == pytest.approx(float(np.sum(none, dtype=np.float64)) / 8, rel=1e-6)


@needs_tv_boxes
def test_the_default_eps_is_the_conventions():
    # box_iou_loss(eps=None) is torchvision's function at its default eps.
    pred, target = boxes((40,), 6)
    for loss, name in (("giou", TV[0]), ("diou", TV[1]), ("ciou", TV[2])):
        got = ft.box_iou_loss(pred, target, loss, "torchvision", reduction="none")
        assert torch.equal(got, getattr(ft, name)(pred, target, "none"))


def test_names_and_eps_are_checked():
    pred, target = boxes((4,), 7)
    with pytest.raises(ValueError, match="loss must be one of"):
        ft.box_iou_loss(pred, target, "eiou")
    with pytest.raises(ValueError, match="convention must be one of"):
        ft.box_iou_loss(pred, target, "ciou", "yolov5")
    with pytest.raises(ValueError, match="loss must be one of"):
        focal.box_iou_loss(pred.numpy(), target.numpy(), "CIoU")
    for eps in (-1e-7, float("nan"), float("inf")):
        with pytest.raises(focal.FocalError, match="eps"):
            focal.box_iou_loss(pred.numpy(), target.numpy(), eps=eps)
    with pytest.raises(ValueError, match="weight"):
        ft.box_iou_loss(pred, target, weight=torch.ones(5))


def test_nan_boxes_give_nan_and_nothing_else_moves():
    pred, target = boxes((20,), 8)
    pred[3, 2] = float("nan")
    target[7, 0] = float("nan")
    p = pred.clone().requires_grad_()
    loss = ft.box_iou_loss(p, target, reduction="none")
    loss.sum().backward()
    bad = torch.zeros(20, dtype=torch.bool)
    bad[[3, 7]] = True
    assert loss[bad].isnan().all() and not loss[~bad].isnan().any()
    assert p.grad[bad].isnan().all() and not p.grad[~bad].isnan().any()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 1.0 / 9.0, 1.0])
@pytest.mark.parametrize("shape", [(33,), (5, 4), (2, 3, 4)])
def test_smooth_l1_against_torch(shape, beta, reduction):
    g = torch.Generator().manual_seed(11)
    pred = torch.randn(*shape, generator=g)
    target = pred + torch.randn(*shape, generator=g) * 0.3
    target.view(-1)[::7] = pred.view(-1)[::7]  # d = 0: the gradient there is 0
    got, got_grad = ours(ft.smooth_l1_loss, pred, target, reduction, beta=beta)
    fn = torch.nn.functional.l1_loss if beta == 0 else torch.nn.functional.smooth_l1_loss
    kw = {} if beta == 0 else {"beta": beta}
    want, want_grad = reference(fn, pred, target, reduction, **kw)
    assert got.shape == want.shape
    close(got, want, 1e-6, 1e-7)
    close(got_grad, want_grad, 1e-6, 1e-7)


def test_smooth_l1_weight_and_normalizer():
    g = torch.Generator().manual_seed(12)
    pred, target = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    w = torch.rand(6, 1, generator=g)  # broadcast over the 4 coordinates
    none = ft.smooth_l1_loss(pred, target, 0.5, "none")
    weighted = ft.smooth_l1_loss(pred, target, 0.5, "none", weight=w)
    close(weighted, (none * w).double(), 1e-6, 0)
    got = ft.smooth_l1_loss(pred, target, 0.5, "sum", normalizer=4.0, weight=w)
    close(got, (none * w).double().sum() / 4, 1e-6, 1e-7)
    with pytest.raises(focal.FocalError, match="beta"):
        ft.smooth_l1_loss(pred, target, -0.5)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        ft.smooth_l1_loss(pred.double(), target.double())
