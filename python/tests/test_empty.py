# SPDX-License-Identifier: MIT
"""Empty inputs (0 elements, or 0 rows of C classes) through every focal.torch
wrapper and module: "none" is an empty loss of the right shape, "sum" 0, "mean"
NaN (torch.mean of nothing), as torchvision and mmdet give; backward gives an
empty gradient. Numpy-backed empty tensors have data_ptr() == 0, which must
not reach the library as a NULL output.
"""

import math

import numpy as np
import pytest
import torch
import _torchvision

import _mmdet_reference as mm
import _yolo_reference as ultralytics
from focal import _lib
from focal.torch import (DistributionFocalLoss, FocalLoss, QualityFocalLoss, VarifocalLoss,
                         distribution_focal_loss, quality_focal_loss, sigmoid_focal_loss,
                         sigmoid_focal_loss_dense, sigmoid_focal_loss_labels,
                         softmax_focal_loss, varifocal_loss)
from focal.torch.yolo import DFLoss

pytestmark = pytest.mark.skipif(not _lib.has("softmax_labels", "quality_focal", "varifocal"),
                                reason="the 1.1 wrappers need libfocal 1.1")

C = 5


def empties(shape):
    # Both kinds of empty tensor: torch's own and numpy-backed (data_ptr 0).
    return [torch.empty(shape), torch.from_numpy(np.empty(shape, np.float32))]


def expect(loss, reduction, none_shape):
    assert loss.dtype == torch.float32
    if reduction == "none":
        assert tuple(loss.shape) == none_shape
    elif reduction == "sum":
        assert loss.shape == () and loss.item() == 0.0
    else:
        assert loss.shape == () and math.isnan(loss.item())


def run(fn, x, reduction, none_shape, grad=True):
    x = x.clone().requires_grad_(grad) if grad else x
    loss = fn(x, reduction)
    expect(loss, reduction, none_shape)
    if grad:
        loss.backward(torch.ones_like(loss))
        assert x.grad is not None and x.grad.shape == x.shape
    with torch.no_grad():
        expect(fn(x, reduction), reduction, none_shape)
    return loss


REDUCTIONS = ["none", "sum", "mean"]
LABELS = [torch.empty(0, dtype=torch.int64), torch.from_numpy(np.empty(0, np.int64))]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (0, C), (2, 0, 3)])
def test_sigmoid_focal_loss(reduction, shape):
    for x in empties(shape):
        for t in empties(shape):
            loss = run(lambda x, r: sigmoid_focal_loss(x, t, reduction=r), x, reduction, shape)
            tv = _torchvision.sigmoid_focal_loss(x, t, reduction=reduction)
            assert tv.shape == loss.shape
            assert torch.equal(tv, loss) or (reduction == "mean" and tv.isnan())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_labels_and_dense(reduction):
    for x in empties((0, C)):
        for labels in LABELS:
            run(lambda x, r: sigmoid_focal_loss_labels(x, labels, reduction=r,
                                                       weight=torch.empty(0)),
                x, reduction, (0, C))
        for t in empties((0, C)):
            run(lambda x, r: sigmoid_focal_loss_dense(x, t, reduction=r), x, reduction, (0, C))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_softmax(reduction):
    for x in empties((0, C)):
        for labels in LABELS:
            run(lambda x, r: softmax_focal_loss(x, labels, reduction=r), x, reduction, (0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", [quality_focal_loss, varifocal_loss])
def test_soft(fn, reduction):
    for x in empties((0, C)):
        for s in empties((0, C)):
            run(lambda x, r: fn(x, s, reduction=r), x, reduction, (0, C))


@pytest.mark.parametrize("avg", [None, 4.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mmdet_modules(reduction, avg):
    # mmdet on nothing: "none" empty, "sum" 0, "mean" NaN, or 0 / (avg + eps) = 0.
    if avg is not None and reduction == "sum":
        return
    cases = [
        (FocalLoss(reduction=reduction), LABELS[1], (0, C), mm.focal_loss),
        (FocalLoss(reduction=reduction), torch.empty(0, C), (0, C), mm.focal_loss),
        (QualityFocalLoss(reduction=reduction), (LABELS[1], torch.empty(0)), (0,),
         mm.quality_focal_loss),
        (QualityFocalLoss(reduction=reduction), torch.empty(0, C), (0,),
         mm.quality_focal_loss),
        (VarifocalLoss(reduction=reduction), torch.empty(0, C), (0, C), mm.varifocal_loss),
    ]
    for module, target, none_shape, ref in cases:
        # per row, except VarifocalLoss's, which broadcasts against (0, C)
        row = torch.empty(0, C) if isinstance(module, VarifocalLoss) else torch.empty(0)
        for x in empties((0, C)):
            for weight in [None, row]:
                xg = x.clone().requires_grad_()
                loss = module(xg, target, weight, avg_factor=avg)
                want = ref(x, target, weight, avg_factor=avg, reduction=reduction)
                assert loss.shape == want.shape and loss.dtype == want.dtype
                assert torch.equal(loss, want) or (loss.isnan().all() and want.isnan().all())
                loss.backward(torch.ones_like(loss))
                assert xg.grad.shape == x.shape


needs_dfl = pytest.mark.skipif(not _lib.has("distribution_focal"),
                               reason="the Distribution Focal Loss is libfocal 1.4")


@needs_dfl
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_distribution_focal(reduction):
    for x in empties((0, 16)):
        for t in empties((0,)):
            for w in (None, torch.empty(0)):
                run(lambda x, r: distribution_focal_loss(x, t, r, weight=w), x, reduction,
                    (0,))
        for t in LABELS:  # integer targets
            run(lambda x, r: distribution_focal_loss(x, t, r), x, reduction, (0,))


@needs_dfl
@pytest.mark.parametrize("avg", [None, 4.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mmdet_distribution_focal(reduction, avg):
    if avg is not None and reduction == "sum":
        return
    module = DistributionFocalLoss(reduction=reduction)
    for x in empties((0, 17)):
        for t in empties((0,)):
            for weight in [None, torch.empty(0)]:
                xg = x.clone().requires_grad_()
                loss = module(xg, t, weight, avg_factor=avg)
                want = mm.distribution_focal_loss(x, t, weight, avg_factor=avg,
                                                  reduction=reduction)
                assert loss.shape == want.shape and loss.dtype == want.dtype
                assert torch.equal(loss, want) or (loss.isnan().all() and want.isnan().all())
                loss.backward(torch.ones_like(loss))
                assert xg.grad.shape == x.shape


@needs_dfl
def test_yolo_dfloss():
    for x in empties((0, 16)):
        for t in empties((0, 4)):
            xg = x.clone().requires_grad_()
            loss = DFLoss(16)(xg, t)
            want = ultralytics.DFLoss(16)(x, t.clone())
            assert loss.shape == want.shape == (0, 1) and loss.dtype == want.dtype
            loss.backward(torch.ones_like(loss))
            assert xg.grad.shape == x.shape


needs_boxes = pytest.mark.skipif(not _lib.has("box_iou", "smooth_l1"),
                                 reason="the box regression losses are libfocal 1.5")


@needs_boxes
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_box_iou(reduction):
    from focal.torch import box_iou_loss
    for x in empties((0, 4)):
        for t in empties((0, 4)):
            for w in (None, torch.empty(0)):
                for loss, convention in (("ciou", "torchvision"), ("iou_log", "mmdet")):
                    run(lambda x, r: box_iou_loss(x, t, loss, convention, reduction=r, weight=w),
                        x, reduction, (0,))
    for x in empties((2, 0, 4)):  # leading dimensions kept for "none"
        run(lambda x, r: box_iou_loss(x, torch.empty(2, 0, 4), reduction=r), x, reduction,
            (2, 0))


@needs_boxes
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_torchvision_box_losses(reduction):
    # torchvision's "mean" of no boxes is 0 (0.0 * loss.sum()), not NaN.
    import focal.torch as ft
    for name in ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"):
        for x in empties((0, 4)):
            xg = x.clone().requires_grad_()
            loss = getattr(ft, name)(xg, torch.empty(0, 4), reduction)
            want = getattr(_torchvision_box(), name)(x, torch.empty(0, 4), reduction)
            assert loss.shape == want.shape and loss.dtype == want.dtype
            assert torch.equal(loss, want)
            loss.backward(torch.ones_like(loss))
            assert xg.grad.shape == x.shape


def _torchvision_box():
    tvo = pytest.importorskip("torchvision.ops")
    if not hasattr(tvo, "complete_box_iou_loss"):
        pytest.skip("torchvision < 0.15 has no box losses")
    return tvo


@needs_boxes
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1(reduction):
    from focal.torch import smooth_l1_loss
    for shape in ((0,), (0, 4), (3, 0)):
        for x in empties(shape):
            for t in empties(shape):
                for beta in (0.0, 1.0):
                    run(lambda x, r: smooth_l1_loss(x, t, beta, r), x, reduction, shape)
