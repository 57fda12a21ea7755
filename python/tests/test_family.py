# SPDX-License-Identifier: MIT
"""The 1.1 loss family from Python: softmax focal, quality focal (GFL) and
varifocal (VFNet), numpy API and torch wrappers.

References are written here in float64 torch, from the papers' / mmdet's
formulas, differentiated by autograd (nothing detached, as libfocal):
mmdet's quality_focal_loss (|s - sigmoid(x)|^beta BCE) and varifocal_loss
(iou_weighted: s where s > 0, else alpha |sigmoid(x) - s|^gamma, times BCE).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import focal
from focal import _lib
from focal.torch import quality_focal_loss, softmax_focal_loss, varifocal_loss
from _reference import REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close

pytestmark = pytest.mark.skipif(not _lib.has("softmax_labels", "quality_focal", "varifocal"),
                                reason="softmax / quality / varifocal are libfocal 1.1 features")

EPS = 2.0**-7


def softmax64(x32, labels, alpha, gamma, ls=0.0, class_alpha=None, weight=None):
    """Per-row loss and its gradient (of the sum of row losses) in float64."""
    x = torch.from_numpy(np.asarray(x32, np.float64)).requires_grad_()
    rows, classes = x.shape
    lab = torch.from_numpy(np.asarray(labels, np.int64))
    keep = lab >= 0
    y = F.one_hot(lab.clamp(min=0), classes).double()
    y = y * np.float32(1 - ls) + np.float32(np.float32(ls) / np.float32(classes))
    a = (torch.from_numpy(np.asarray(class_alpha, np.float64)) if class_alpha is not None
         else torch.full((classes,), 1.0 if alpha < 0 else alpha, dtype=torch.float64))
    logp = F.log_softmax(x, dim=1)
    loss = (y * a * (1 - logp.exp()).pow(gamma) * -logp).sum(1) * keep
    if weight is not None:
        loss = loss * torch.from_numpy(np.asarray(weight, np.float64))
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach().numpy(), grad.numpy()


def quality64(x32, s32, gamma):
    x = torch.from_numpy(np.asarray(x32, np.float64)).requires_grad_()
    s = torch.from_numpy(np.asarray(s32, np.float64))
    loss = F.binary_cross_entropy_with_logits(x, s, reduction="none") * \
        (s - x.sigmoid()).abs().pow(gamma)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach().numpy(), grad.numpy()


def varifocal64(x32, s32, alpha, gamma):
    x = torch.from_numpy(np.asarray(x32, np.float64)).requires_grad_()
    s = torch.from_numpy(np.asarray(s32, np.float64))
    w = s * (s > 0) + alpha * (x.sigmoid() - s).abs().pow(gamma) * (s <= 0)
    loss = F.binary_cross_entropy_with_logits(x, s, reduction="none") * w
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach().numpy(), grad.numpy()


def scores(rng, shape):
    s = rng.random(shape).astype(np.float32)
    s.flat[::3] = 0.0  # negatives
    s.flat[1::7] = 1.0
    return s


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("gamma,alpha,ls", [(2.0, 0.25, 0.0), (0.5, -1.0, 0.1), (1.5, 0.5, 0.0),
                                            (0.0, 0.25, 0.2)])
@pytest.mark.parametrize("classes", [3, 80, 1000])
def test_softmax_matches_float64(rng, classes, gamma, alpha, ls, reduction):
    rows = 37
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    labels = rng.integers(-1, classes, rows)
    w = rng.random(rows).astype(np.float32) + 0.5
    ca = rng.random(classes).astype(np.float32) if gamma == 1.5 else None
    loss, grad = focal.softmax_labels(x, labels, alpha, gamma, reduction, label_smoothing=ls,
                                      class_alpha=ca, weight=w)
    ref_loss, ref_grad = softmax64(x, labels, alpha, gamma, ls, ca, w)
    divisor = {"none": 1.0, "sum": 1.0, "mean": max(1, int((labels >= 0).sum()))}[reduction]
    if reduction == "none":
        assert_close(loss, ref_loss, SOFT_RTOL, SOFT_ATOL, "loss")
    else:
        assert_close(loss, ref_loss.sum() / divisor, REDUCED_RTOL, 0.0, "reduced loss")
    assert_close(grad, ref_grad / divisor, SOFT_RTOL, SOFT_ATOL / divisor, "grad")


@pytest.mark.parametrize("kind", ["quality", "varifocal"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("gamma", [2.0, 1.0, 1.5, 0.0])
def test_soft_losses_match_float64(rng, kind, gamma, reduction):
    x = (rng.standard_normal((64, 20)) * 4).astype(np.float32)
    s = scores(rng, x.shape)
    if kind == "quality":
        loss, grad = focal.quality_focal(x, s, gamma, reduction)
        ref_loss, ref_grad = quality64(x, s, gamma)
    else:
        loss, grad = focal.varifocal(x, s, 0.75, gamma, reduction)
        ref_loss, ref_grad = varifocal64(x, s, 0.75, gamma)
    divisor = x.size if reduction == "mean" else 1.0
    if reduction == "none":
        assert_close(loss, ref_loss, SOFT_RTOL, SOFT_ATOL, "loss")
    else:
        assert_close(loss, ref_loss.sum() / divisor, REDUCED_RTOL, 0.0, "reduced loss")
    assert_close(grad, ref_grad / divisor, SOFT_RTOL, SOFT_ATOL / divisor, "grad")


def test_torch_wrappers_equal_numpy(rng):
    x = (rng.standard_normal((50, 12)) * 3).astype(np.float32)
    labels = rng.integers(-1, 12, 50)
    s = scores(rng, x.shape)
    cases = [
        (lambda t: softmax_focal_loss(t, torch.from_numpy(labels), gamma=1.5, reduction="sum"),
         focal.softmax_labels(x, labels, gamma=1.5, reduction="sum")),
        (lambda t: quality_focal_loss(t, torch.from_numpy(s), reduction="sum"),
         focal.quality_focal(x, s, reduction="sum")),
        (lambda t: varifocal_loss(t, torch.from_numpy(s), reduction="sum"),
         focal.varifocal(x, s, reduction="sum")),
    ]
    for f, (loss, grad) in cases:
        t = torch.from_numpy(x.copy()).requires_grad_()
        out = f(t)
        out.backward()
        assert out.item() == loss
        assert np.array_equal(t.grad.numpy(), grad)
        with torch.no_grad():
            assert f(t).item() == loss


def test_softmax_none_backward_broadcasts_over_classes(rng):
    x = torch.from_numpy((rng.standard_normal((6, 5)) * 2).astype(np.float32)).requires_grad_()
    labels = torch.tensor([0, 1, 2, 3, 4, -1])
    up = torch.arange(6, dtype=torch.float32)
    softmax_focal_loss(x, labels, reduction="none").backward(up)
    ref_loss, ref_grad = softmax64(x.detach().numpy(), labels.numpy(), 0.25, 2.0)
    for r in range(6):  # d(up . loss)/dx_r = up_r d loss_r / dx_r
        assert_close(x.grad.numpy()[r], up[r].item() * ref_grad[r], SOFT_RTOL, SOFT_ATOL)


@pytest.mark.parametrize("gamma", [2.0, 0.5, 1.5])
@pytest.mark.parametrize("which", ["softmax", "quality", "varifocal"])
def test_gradcheck(rng, which, gamma):
    x = torch.from_numpy(rng.integers(-400, 400, (4, 6)) * EPS).requires_grad_()
    labels = torch.tensor([0, 5, -1, 2])
    # scores far from sigmoid(x) for gamma < 1 (the quality factor's slope is
    # unbounded where they meet)
    s = torch.from_numpy(scores(rng, (4, 6)))

    def f(x64):
        xf = x64.float()
        if which == "softmax":
            out = softmax_focal_loss(xf, labels, gamma=gamma, label_smoothing=0.1, reduction="none")
        elif which == "quality":
            out = quality_focal_loss(xf, s, gamma=gamma if gamma >= 1 else 1.0, reduction="none")
        else:
            out = varifocal_loss(xf, s, gamma=gamma, reduction="none")
        return out.double()

    assert torch.autograd.gradcheck(f, (x,), eps=EPS, atol=5e-4, rtol=1e-3)


def test_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(focal.FocalError) as e:
        focal.softmax_labels(x, [0, 3])  # == classes: no background class
    assert e.value.code == _lib.ELABEL
    with pytest.raises(focal.FocalError) as e:
        focal.quality_focal(x, np.full((2, 3), 1.5, np.float32))
    assert e.value.code == -7  # FOCAL_ETARGET
    with pytest.raises(ValueError):
        focal.varifocal(x, np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError):
        varifocal_loss(torch.zeros(3, dtype=torch.float64), torch.zeros(3))
