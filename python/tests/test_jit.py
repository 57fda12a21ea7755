# SPDX-License-Identifier: MIT
"""TorchScript and tracing: torch.ops.focal.* operators.

Modules whose forward calls focal.torch's functions or modules are scripted
and traced; the compiled module's loss and gradient must be eager's, bit for
bit (the same kernels run), including after a save / load round trip.
"""

import io
from typing import Optional

import pytest
import torch
from torch import Tensor

import focal.torch as ft
from focal import _lib
from focal.torch import yolo

pytestmark = pytest.mark.skipif(not _lib.has("softmax_labels", "quality_focal", "varifocal"),
                                reason="the operators cover the libfocal 1.1 calls")

N, C = 40, 6


class TorchvisionStyle(torch.nn.Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.head = torch.nn.Linear(8, C)
        self.reduction = reduction

    def forward(self, feats: Tensor, targets: Tensor) -> Tensor:
        return ft.sigmoid_focal_loss(self.head(feats), targets, alpha=0.25, gamma=2.0,
                                     reduction=self.reduction)


class MmdetStyle(torch.nn.Module):
    def __init__(self, avg_factor):
        super().__init__()
        self.head = torch.nn.Linear(8, C)
        self.loss_cls = ft.FocalLoss(gamma=2.0, alpha=0.25, loss_weight=0.5)
        self.avg_factor = avg_factor  # a number: tracing takes tensors only

    def forward(self, feats: Tensor, labels: Tensor, weight: Optional[Tensor]) -> Tensor:
        return self.loss_cls(self.head(feats), labels, weight, avg_factor=self.avg_factor)


class MmdetTensorAvg(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.loss_cls = ft.FocalLoss(reduction="mean")

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor, avg: Tensor) -> Tensor:
        return self.loss_cls(pred, target, weight, avg_factor=avg)


class Family(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qfl = ft.QualityFocalLoss(beta=2.0)
        self.vfl = ft.VarifocalLoss(alpha=0.75, gamma=2.0)

    def forward(self, x: Tensor, labels: Tensor, scores: Tensor, soft: Tensor,
                weight: Tensor) -> Tensor:
        loss = self.qfl(x, (labels, scores), weight, avg_factor=3.0)
        loss = loss + self.vfl(x, soft, reduction_override="sum")
        loss = loss + ft.sigmoid_focal_loss_labels(x, labels, weight=weight, normalizer=2.0)
        loss = loss + ft.sigmoid_focal_loss_dense(x, soft, reduction="sum")
        loss = loss + ft.softmax_focal_loss(x, labels.clamp(max=5), gamma=1.5)  # 5 = C - 1
        loss = loss + ft.quality_focal_loss(x, soft, reduction="sum")
        return loss + ft.varifocal_loss(x, soft, reduction="mean")


class Boxes(torch.nn.Module):
    """A GFL / YOLOv8-like box head: one distribution per box side."""

    def __init__(self, bins=16):
        super().__init__()
        self.head = torch.nn.Linear(8, 4 * bins)
        self.bins = bins
        self.dfl = ft.DistributionFocalLoss(loss_weight=0.25)
        self.yolo = yolo.DFLoss(bins)

    def forward(self, feats: Tensor, ltrb: Tensor, weight: Tensor) -> Tensor:
        dist = self.head(feats).reshape(-1, self.bins)
        t = ltrb.reshape(-1).clamp(0.0, self.bins - 1.01)
        loss = self.dfl(dist, t, weight, avg_factor=4.0)
        loss = loss + self.dfl(dist, t, reduction_override="sum")
        loss = loss + ft.distribution_focal_loss(dist, t, "mean", 0.0, weight)
        loss = loss + ft.distribution_focal_loss(dist, t, reduction="none").sum()
        return loss + (self.yolo(dist, ltrb) * 0.5).sum()


def boxes_batch(seed=0, n=N, bins=16):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(n, 8, generator=g)
    ltrb = torch.rand(n, 4, generator=g) * (bins + 1) - 0.5
    weight = torch.rand(n * 4, generator=g)
    return feats, ltrb, weight


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(N, 8, generator=g)
    labels = torch.randint(0, C + 1, (N,), generator=g)
    targets = (torch.rand(N, C, generator=g) < 0.3).float()
    scores = torch.rand(N, generator=g)
    soft = torch.rand(N, C, generator=g) * (torch.rand(N, C, generator=g) < 0.3)
    weight = torch.rand(N, generator=g)
    return feats, labels, targets, scores, soft, weight


def loss_and_grads(module, *args, upstream=None):
    for p in module.parameters():
        p.grad = None
    loss = module(*args)
    loss.backward(torch.ones_like(loss) if upstream is None else upstream)
    return loss.detach().clone(), [p.grad.clone() for p in module.parameters()]


def same_bits(a, b):
    (la, ga), (lb, gb) = a, b
    assert la.shape == lb.shape and la.dtype == lb.dtype
    assert la.numpy().tobytes() == lb.numpy().tobytes()
    assert len(ga) == len(gb)
    for x, y in zip(ga, gb):
        assert x.numpy().tobytes() == y.numpy().tobytes()


def graph(compiled):
    return str(compiled.inlined_graph)


def roundtrip(compiled):
    buf = io.BytesIO()
    torch.jit.save(compiled, buf)
    buf.seek(0)
    return torch.jit.load(buf)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("compile", ["script", "trace"])
def test_torchvision_style(compile, reduction):
    torch.manual_seed(1)
    module = TorchvisionStyle(reduction)
    feats, _, targets, *_ = batch()
    up = torch.rand(N, C) if reduction == "none" else None
    eager = loss_and_grads(module, feats, targets, upstream=up)
    if compile == "script":
        compiled = torch.jit.script(module)
    else:
        compiled = torch.jit.trace(module, (feats, targets))
    assert "focal::sigmoid_focal_loss" in graph(compiled)
    same_bits(loss_and_grads(compiled, feats, targets, upstream=up), eager)
    same_bits(loss_and_grads(roundtrip(compiled), feats, targets, upstream=up), eager)


@pytest.mark.parametrize("compile", ["script", "trace"])
def test_mmdet_style(compile):
    torch.manual_seed(2)
    module = MmdetStyle(7.0)
    feats, labels, _, _, _, weight = batch(1)
    eager = loss_and_grads(module, feats, labels, weight)
    if compile == "script":
        compiled = torch.jit.script(module)
        same_bits(loss_and_grads(compiled, feats, labels, None),
                  loss_and_grads(module, feats, labels, None))
    else:
        compiled = torch.jit.trace(module, (feats, labels, weight))
    assert "focal::mmdet_focal_loss" in graph(compiled)
    same_bits(loss_and_grads(compiled, feats, labels, weight), eager)
    same_bits(loss_and_grads(roundtrip(compiled), feats, labels, weight), eager)


@pytest.mark.parametrize("avg", [torch.tensor(5.0), torch.tensor([5.0])], ids=["0d", "(1,)"])
def test_mmdet_tensor_avg_factor(avg):
    pred = torch.randn(N, C, generator=torch.Generator().manual_seed(3)).requires_grad_()
    _, labels, _, _, _, weight = batch(2)
    module = MmdetTensorAvg()
    want = module(pred, labels, weight, avg)
    (g_want,) = torch.autograd.grad(want, pred, torch.ones_like(want))
    for compiled in [torch.jit.script(module), torch.jit.trace(module, (pred, labels, weight,
                                                                        avg))]:
        got = compiled(pred, labels, weight, avg)
        assert got.shape == want.shape and torch.equal(got, want)
        (g,) = torch.autograd.grad(got, pred, torch.ones_like(got))
        assert torch.equal(g, g_want)


@pytest.mark.parametrize("compile", ["script", "trace"])
def test_every_operator(compile):
    x = torch.randn(N, C, generator=torch.Generator().manual_seed(4)).requires_grad_()
    _, labels, _, scores, soft, weight = batch(3)
    module = Family()
    args = (x, labels, scores, soft, weight)
    want = module(*args)
    (g_want,) = torch.autograd.grad(want, x)
    compiled = torch.jit.script(module) if compile == "script" else torch.jit.trace(module, args)
    got = compiled(*args)
    (g,) = torch.autograd.grad(got, x)
    assert got.detach().numpy().tobytes() == want.detach().numpy().tobytes()
    assert torch.equal(g, g_want)
    for name in ["mmdet_quality_focal_loss", "mmdet_varifocal_loss", "sigmoid_focal_loss_labels",
                 "sigmoid_focal_loss_dense", "softmax_focal_loss", "quality_focal_loss",
                 "varifocal_loss"]:
        assert f"focal::{name}" in graph(compiled), name


needs_dfl = pytest.mark.skipif(not _lib.has("distribution_focal"),
                               reason="the Distribution Focal Loss is libfocal 1.4")


@needs_dfl
@pytest.mark.parametrize("compile", ["script", "trace"])
def test_distribution_focal_operators(compile):
    torch.manual_seed(6)
    module = Boxes()
    args = boxes_batch(6)
    eager = loss_and_grads(module, *args)
    compiled = torch.jit.script(module) if compile == "script" else torch.jit.trace(module, args)
    for name in ["distribution_focal_loss", "mmdet_distribution_focal_loss", "yolo_dfl_loss"]:
        assert f"focal::{name}" in graph(compiled), name
    same_bits(loss_and_grads(compiled, *args), eager)
    same_bits(loss_and_grads(roundtrip(compiled), *args), eager)
    # Another batch through the same graph (a trace keeps no data-dependent branch).
    other = boxes_batch(7)
    same_bits(loss_and_grads(compiled, *other), loss_and_grads(module, *other))


@needs_dfl
def test_distribution_focal_operator_directly():
    g = torch.Generator().manual_seed(8)
    x = torch.randn(12, 9, generator=g).requires_grad_()
    t = torch.rand(12, generator=g) * 7.9
    got = torch.ops.focal.distribution_focal_loss(x, t, "sum", 0.0, None)
    want = ft.distribution_focal_loss(x, t, "sum")
    assert torch.equal(got, want) and got.grad_fn is not None
    (g1,) = torch.autograd.grad(got, x)
    (g2,) = torch.autograd.grad(want, x)
    assert torch.equal(g1, g2)
    with torch.inference_mode():
        assert torch.equal(torch.ops.focal.distribution_focal_loss(x, t, "sum", 0.0, None),
                           want)
    target = torch.rand(3, 4, generator=g) * 10
    before = target.clone()
    out = torch.ops.focal.yolo_dfl_loss(x, target, 9)
    assert out.shape == (3, 1) and torch.equal(target, before)
    assert torch.equal(out, yolo.DFLoss(9)(x, target))


def test_operators_directly():
    x = torch.randn(30, generator=torch.Generator().manual_seed(5)).requires_grad_()
    t = (torch.rand(30) < 0.5).float()
    got = torch.ops.focal.sigmoid_focal_loss(x, t, 0.25, 2.0, "sum")
    want = ft.sigmoid_focal_loss(x, t, 0.25, 2.0, "sum")
    assert torch.equal(got, want) and got.grad_fn is not None
    (g,) = torch.autograd.grad(got, x)
    (gw,) = torch.autograd.grad(want, x)
    assert torch.equal(g, gw)
    # no_grad: the Autograd kernel, loss only; inference_mode: the CPU kernel.
    with torch.no_grad():
        assert torch.equal(torch.ops.focal.sigmoid_focal_loss(x, t, 0.25, 2.0, "sum"), want)
    with torch.inference_mode():
        assert torch.equal(torch.ops.focal.sigmoid_focal_loss(x, t, 0.25, 2.0, "sum"), want)
    with pytest.raises(ValueError, match="Invalid"):
        torch.ops.focal.sigmoid_focal_loss(x, t, 0.25, 2.0, "avg")


def test_invalid_reduction_is_torchvisions_error():
    x = torch.zeros(3)
    with pytest.raises(ValueError, match="Invalid value for arg 'reduction'"):
        ft.sigmoid_focal_loss(x, x, reduction="avg")
    scripted = torch.jit.script(TorchvisionStyle("avg"))
    with pytest.raises(Exception, match="Invalid value for arg 'reduction'"):
        scripted(torch.zeros(2, 8), torch.zeros(2, C))


class BoxRegression(torch.nn.Module):
    """A box head's regression terms: torchvision's three box losses, the
    library's IoU family in another convention, smooth L1 and L1."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(8, 4)

    def forward(self, feats: Tensor, target: Tensor, weight: Tensor) -> Tensor:
        raw = self.head(feats)
        # boxes x1 y1 x2 y2 with positive sides
        pred = torch.cat((raw[:, :2], raw[:, :2] + 1.0 + raw[:, 2:].exp()), 1)
        loss = ft.complete_box_iou_loss(pred, target, "mean")
        loss = loss + ft.generalized_box_iou_loss(pred, target, "sum", 1e-6)
        loss = loss + ft.distance_box_iou_loss(pred, target).sum()
        loss = loss + ft.box_iou_loss(pred, target, "ciou", "mmdet", None, "mean", 0.0, weight)
        loss = loss + ft.box_iou_loss(pred, target, loss="iou_log", convention="ultralytics",
                                      eps=0.01, reduction="sum")
        loss = loss + ft.smooth_l1_loss(pred, target, 1.0 / 9.0, "mean")
        return loss + ft.smooth_l1_loss(pred, target, 0.0, "sum", 2.0, None)


def box_batch(seed=0, n=N):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(n, 8, generator=g)
    xy = torch.rand(n, 2, generator=g) * 4
    target = torch.cat((xy, xy + 1.0 + torch.rand(n, 2, generator=g) * 3), 1)
    return feats, target, torch.rand(n, generator=g)


needs_boxes = pytest.mark.skipif(not _lib.has("box_iou", "smooth_l1"),
                                 reason="the box regression losses are libfocal 1.5")


@needs_boxes
@pytest.mark.parametrize("compile", ["script", "trace"])
def test_box_operators(compile):
    torch.manual_seed(9)
    module = BoxRegression()
    args = box_batch(9)
    eager = loss_and_grads(module, *args)
    compiled = torch.jit.script(module) if compile == "script" else torch.jit.trace(module, args)
    for name in ["complete_box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss",
                 "box_iou_loss", "smooth_l1_loss"]:
        assert f"focal::{name}" in graph(compiled), name
    same_bits(loss_and_grads(compiled, *args), eager)
    same_bits(loss_and_grads(roundtrip(compiled), *args), eager)
    other = box_batch(10)
    same_bits(loss_and_grads(compiled, *other), loss_and_grads(module, *other))
