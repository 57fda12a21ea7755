# SPDX-License-Identifier: MIT
"""focal.torch 1.1 wrappers: sigmoid_focal_loss_labels / _dense and FocalLoss.

FocalLoss is checked against an mmdet-style float64 reference written here
(mmdet's py_sigmoid_focal_loss and weight_reduce_loss semantics: one-hot of
target with num_classes + 1 columns, background column dropped; per-row
weight; avg_factor), the wrappers by gradcheck and against the numpy API.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import focal
from focal import _lib
from focal.torch import FocalLoss, sigmoid_focal_loss_dense, sigmoid_focal_loss_labels
from _reference import (HARD_RTOL, REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close,
                        one_hot64)

pytestmark = pytest.mark.skipif(not _lib.has_options(_lib.lib),
                                reason="focal_options is a libfocal 1.1 feature")

ELABEL = -15
EPS = 2.0**-7


# ---- the mmdet reference (float64, autograd) --------------------------------------


def mmdet_weight_reduce_loss(loss, weight=None, reduction="mean", avg_factor=None):
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    if reduction == "mean":
        eps = torch.finfo(torch.float32).eps
        return loss.sum() / (avg_factor + eps)
    if reduction != "none":
        raise ValueError('avg_factor can not be used with reduction="sum"')
    return loss


def mmdet_py_sigmoid_focal_loss(pred, target, weight=None, gamma=2.0, alpha=0.25,
                                reduction="mean", avg_factor=None):
    pred_sigmoid = pred.sigmoid()
    target = target.type_as(pred)
    pt = (1 - pred_sigmoid) * target + pred_sigmoid * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight
    if weight is not None:
        if weight.shape != loss.shape:
            assert weight.size(0) == loss.size(0)
            weight = weight.view(-1, 1)
    return mmdet_weight_reduce_loss(loss, weight, reduction, avg_factor)


def mmdet_focal_loss(pred, target, weight=None, avg_factor=None, reduction_override=None,
                     gamma=2.0, alpha=0.25, reduction="mean", loss_weight=1.0):
    """mmdet's FocalLoss.forward on the CPU path (use_sigmoid, not activated)."""
    reduction = reduction_override if reduction_override else reduction
    num_classes = pred.size(1)
    target = F.one_hot(target, num_classes=num_classes + 1)[:, :num_classes]
    return loss_weight * mmdet_py_sigmoid_focal_loss(pred, target, weight, gamma, alpha,
                                                     reduction, avg_factor)


def detector_batch(rng, rows=150, classes=20, ignored=0.0):
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    u = rng.random(rows)
    labels = np.where(u < 0.6, classes, rng.integers(0, classes, rows))
    labels[u < ignored] = -1
    w = rng.uniform(0.0, 2.0, rows).astype(np.float32)
    w[::4] = 0.0
    return x, torch.from_numpy(labels.astype(np.int64)), torch.from_numpy(w)


# ---- FocalLoss vs mmdet -------------------------------------------------------------


# "sum" with avg_factor is an error in mmdet (test_focal_loss_errors).
REDUCTION_AVG = [("none", None), ("none", 23.0), ("sum", None), ("mean", None),
                 ("mean", 23.0), ("mean", "tensor")]


@pytest.mark.parametrize("loss_weight", [1.0, 0.5])
@pytest.mark.parametrize("use_weight", [False, True], ids=["noweight", "weight"])
@pytest.mark.parametrize("reduction,avg_factor", REDUCTION_AVG)
def test_focal_loss_matches_mmdet(rng, reduction, avg_factor, use_weight, loss_weight):
    x32, labels, w = detector_batch(rng)
    if avg_factor == "tensor":
        avg_factor = torch.tensor(7.0)  # heads pass reduce_mean(num_pos) tensors
    weight = w if use_weight else None
    up = torch.from_numpy(rng.uniform(-2, 2, x32.shape if reduction == "none" else ()))

    module = FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25, reduction=reduction,
                       loss_weight=loss_weight)
    x = torch.from_numpy(x32).requires_grad_()
    loss = module(x, labels, weight, avg_factor=avg_factor)
    assert loss.dtype == torch.float32 and loss.shape == up.shape
    loss.backward(up.float())

    x64 = torch.from_numpy(x32.astype(np.float64)).requires_grad_()
    ref = mmdet_focal_loss(x64, labels, None if weight is None else weight.double(),
                           avg_factor, reduction=reduction, loss_weight=loss_weight)
    ref.backward(up)

    if reduction == "none":
        assert_close(loss.detach().numpy(), ref.detach().numpy(), HARD_RTOL, what="loss")
    else:
        assert_close(loss.item(), ref.item(), REDUCED_RTOL, what="reduced loss")
    # + the float32 rounding of the upstream gradient (and of loss_weight * it).
    assert_close(x.grad.numpy(), x64.grad.numpy(), HARD_RTOL + 2 * 2.0**-23, what="grad")


@pytest.mark.parametrize("override", [None, "none", "sum", "mean"])
def test_reduction_override(rng, override):
    x32, labels, w = detector_batch(rng, rows=40, classes=6)
    module = FocalLoss(reduction="sum", loss_weight=2.0)
    ours = module(torch.from_numpy(x32), labels, w, reduction_override=override)
    ref = mmdet_focal_loss(torch.from_numpy(x32).double(), labels, w.double(),
                           reduction_override=override, reduction="sum", loss_weight=2.0)
    assert ours.shape == ref.shape
    assert_close(ours.numpy(), ref.numpy(),
                 HARD_RTOL if override == "none" else REDUCED_RTOL, what="loss")


def test_avg_factor_zero_is_mmdet_eps(rng):
    x32, labels, w = detector_batch(rng, rows=30, classes=5)
    ours = FocalLoss()(torch.from_numpy(x32), labels, w, avg_factor=0.0)
    ref = mmdet_focal_loss(torch.from_numpy(x32).double(), labels, w.double(), avg_factor=0.0)
    assert_close(ours.item(), ref.item(), REDUCED_RTOL, what="loss / eps")
    # All rows ignored: 0, not NaN (mmdet's reason for the eps).
    loss = FocalLoss()(torch.from_numpy(x32), torch.full((30,), -1), avg_factor=0)
    assert loss.item() == 0.0


def test_ignored_rows_contribute_nothing(rng):
    x32, labels, w = detector_batch(rng, rows=60, classes=8, ignored=0.3)
    keep = labels >= 0
    x = torch.from_numpy(x32).requires_grad_()
    loss = FocalLoss()(x, labels, w, avg_factor=11.0)
    loss.backward()
    x_kept = torch.from_numpy(x32[keep.numpy()]).requires_grad_()
    kept = FocalLoss()(x_kept, labels[keep], w[keep], avg_factor=11.0)
    kept.backward()
    assert loss.item() == pytest.approx(kept.item(), rel=1e-6)
    assert torch.equal(x.grad[keep], x_kept.grad)
    assert not x.grad[~keep].any()


def test_dense_target_path(rng):
    # mmdet 3.x: a target shaped like pred is already one-hot.
    x32, labels, w = detector_batch(rng, rows=50, classes=7)
    onehot = torch.from_numpy(one_hot64(labels.numpy(), 7).astype(np.float32))
    for reduction in ("none", "sum", "mean"):
        a = FocalLoss(reduction=reduction)(torch.from_numpy(x32), labels, w)
        b = FocalLoss(reduction=reduction)(torch.from_numpy(x32), onehot, w)
        assert torch.equal(a, b)


def test_focal_loss_errors(rng):
    x32, labels, w = detector_batch(rng, rows=10, classes=4)
    x = torch.from_numpy(x32)
    with pytest.raises(ValueError, match="avg_factor"):
        FocalLoss(reduction="sum")(x, labels, avg_factor=3.0)
    with pytest.raises(ValueError, match="avg_factor"):
        FocalLoss()(x, labels, avg_factor=3.0, reduction_override="sum")
    # (N, C) and (N * C,) weights are mmdet's per-class weights (FSAF), and
    # accepted: test_mmdet_modules.py compares them with mmdet.
    with pytest.raises(AssertionError, match="weight"):  # as mmdet asserts
        FocalLoss()(x, labels, torch.ones(9))
    with pytest.raises(AssertionError, match="reduction_override"):
        FocalLoss()(x, labels, reduction_override="avg")
    with pytest.raises(AssertionError, match="sigmoid"):
        FocalLoss(use_sigmoid=False)
    with pytest.raises(ValueError):
        FocalLoss(reduction="avg")
    with pytest.raises(ValueError) as info:
        FocalLoss()(x, torch.full((10,), 5))
    assert info.value.code == ELABEL


def test_focal_loss_in_a_head():
    # Gradient flows into earlier layers; a module like any other.
    torch.manual_seed(0)
    head = torch.nn.Linear(8, 5)
    loss_cls = FocalLoss(loss_weight=1.0)
    feats = torch.randn(32, 8)
    labels = torch.randint(0, 6, (32,))
    loss_cls(head(feats), labels, avg_factor=max((labels < 5).sum().item(), 1)).backward()
    ours = head.weight.grad.clone()
    head.zero_grad()
    mmdet_focal_loss(head(feats), labels, avg_factor=max((labels < 5).sum().item(), 1)).backward()
    assert torch.allclose(ours, head.weight.grad, rtol=1e-4, atol=1e-7)
    assert "gamma=2.0" in repr(loss_cls)


# ---- the autograd wrappers ----------------------------------------------------------


def grid_logits(rng, shape):
    return torch.from_numpy(rng.integers(-511, 512, shape) * EPS)  # exact in float32


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("variant", ["plain", "weight", "class_alpha", "all"])
@pytest.mark.parametrize("gamma", [2.0, 0.5])
def test_gradcheck_labels(rng, gamma, variant, reduction):
    rows, classes = 4, 3
    x = grid_logits(rng, (rows, classes)).requires_grad_()
    labels = torch.tensor([0, 3, -1, 2])
    kw = {}
    if variant in ("weight", "all"):
        kw["weight"] = torch.tensor([0.5, 2.0, 1.0, 1.5])
    if variant in ("class_alpha", "all"):
        kw["class_alpha"] = torch.tensor([0.1, 0.5, 0.9])
    if variant == "all":
        kw.update(normalizer=2.0, label_smoothing=0.1)

    def f(x64):
        return sigmoid_focal_loss_labels(x64.float(), labels, 0.25, gamma, reduction,
                                         **kw).double()

    assert torch.autograd.gradcheck(f, (x,), eps=EPS, atol=5e-4, rtol=1e-3)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_gradcheck_dense(rng, reduction):
    x = grid_logits(rng, (3, 4)).requires_grad_()
    t = torch.from_numpy(rng.random((3, 4))).float()

    def f(x64):
        return sigmoid_focal_loss_dense(x64.float(), t, 0.3, 1.5, reduction,
                                        weight=torch.tensor([1.0, 0.5, 2.0])).double()

    assert torch.autograd.gradcheck(f, (x,), eps=EPS, atol=5e-4, rtol=1e-3)


def _kw(rng, rows, classes):
    return dict(weight=rng.uniform(0, 2, rows).astype(np.float32),
                class_alpha=rng.uniform(0, 1, classes).astype(np.float32),
                normalizer=9.0, label_smoothing=0.05)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_wrappers_are_the_numpy_bits(rng, reduction):
    rows, classes = 33, 10
    x32 = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    labels = rng.integers(-1, classes + 1, rows)
    kw = _kw(rng, rows, classes)
    want_loss, want_grad = focal.sigmoid_labels(x32, labels, 0.25, 2.0, reduction, **kw)
    x = torch.from_numpy(x32).requires_grad_()
    tkw = dict(kw, weight=torch.from_numpy(kw["weight"]),
               class_alpha=torch.from_numpy(kw["class_alpha"]))
    loss = sigmoid_focal_loss_labels(x, torch.from_numpy(labels), 0.25, 2.0, reduction, **tkw)
    loss.backward(torch.ones_like(loss))
    assert np.array_equal(loss.detach().numpy(), np.float32(want_loss))
    assert x.grad.numpy().tobytes() == want_grad.tobytes()

    t32 = rng.random((rows, classes)).astype(np.float32)
    want_loss, want_grad = focal.sigmoid_dense(x32, t32, 0.25, 2.0, reduction, **kw)
    x.grad = None
    loss = sigmoid_focal_loss_dense(x, torch.from_numpy(t32), 0.25, 2.0, reduction, **tkw)
    loss.backward(torch.ones_like(loss))
    assert np.array_equal(loss.detach().numpy(), np.float32(want_loss))
    assert x.grad.numpy().tobytes() == want_grad.tobytes()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_forward_only_paths(rng, reduction):
    x = torch.from_numpy((rng.standard_normal((12, 5)) * 3).astype(np.float32))
    labels = torch.from_numpy(rng.integers(-1, 6, 12))
    plain = sigmoid_focal_loss_labels(x, labels, reduction=reduction)
    assert plain.grad_fn is None and not plain.requires_grad
    xg = x.clone().requires_grad_()
    with torch.no_grad():
        nograd = sigmoid_focal_loss_labels(xg, labels, reduction=reduction)
    assert nograd.grad_fn is None
    tracked = sigmoid_focal_loss_labels(xg, labels, reduction=reduction)
    assert tracked.grad_fn is not None
    assert torch.equal(plain, tracked.detach()) and torch.equal(plain, nograd)


def test_backward_scales_and_retains(rng):
    x = torch.from_numpy((rng.standard_normal((12, 5)) * 3).astype(np.float32))
    x.requires_grad_()
    labels = torch.from_numpy(rng.integers(-1, 6, 12))
    sigmoid_focal_loss_labels(x, labels, reduction="sum").backward()
    g1 = x.grad.clone()
    x.grad = None
    loss = 3 * sigmoid_focal_loss_labels(x, labels, reduction="sum")
    loss.backward(retain_graph=True)
    assert torch.allclose(x.grad, 3 * g1, rtol=1e-6, atol=0)
    loss.backward()
    assert torch.allclose(x.grad, 6 * g1, rtol=1e-6, atol=0)
    x.grad = None
    up = torch.randn(12, 5)
    sigmoid_focal_loss_labels(x, labels, reduction="none").backward(up)
    assert torch.allclose(x.grad, g1 * up, rtol=1e-6, atol=0)


def test_weight_and_class_alpha_get_no_gradient(rng):
    x = torch.randn(6, 3, requires_grad=True)
    w = torch.rand(6, requires_grad=True)
    ca = torch.rand(3, requires_grad=True)
    sigmoid_focal_loss_labels(x, torch.tensor([0, 1, 2, 3, -1, 0]), weight=w,
                              class_alpha=ca).backward()
    assert x.grad is not None and w.grad is None and ca.grad is None


@pytest.mark.parametrize("dtype", [torch.int8, torch.uint8, torch.int16, torch.int32])
def test_label_dtypes(rng, dtype):
    x = torch.from_numpy(rng.standard_normal((9, 4)).astype(np.float32))
    labels = torch.tensor([0, 1, 2, 3, 4, 4, 0, 1, 2])
    want = sigmoid_focal_loss_labels(x, labels, reduction="none")
    assert torch.equal(sigmoid_focal_loss_labels(x, labels.to(dtype), reduction="none"), want)
    # int64 beyond int32 keeps its meaning instead of wrapping to 0 / 1.
    with pytest.raises(ValueError) as info:
        sigmoid_focal_loss_labels(x, labels.clone().index_fill_(0, torch.tensor([3]), 2**32))
    assert info.value.code == ELABEL


@pytest.mark.parametrize("grad", [False, True])
def test_wrapper_errors(grad):
    x = torch.randn(4, 3).requires_grad_(grad)
    labels = torch.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match="integer"):
        sigmoid_focal_loss_labels(x, labels.float())
    with pytest.raises(ValueError, match="integer"):
        sigmoid_focal_loss_labels(x, labels > 1)
    with pytest.raises(TypeError):
        sigmoid_focal_loss_labels(x, labels.numpy())
    with pytest.raises(ValueError) as info:
        sigmoid_focal_loss_labels(x, torch.tensor([0, 1, 2, 4]))
    assert info.value.code == ELABEL
    with pytest.raises(ValueError, match="labels"):
        sigmoid_focal_loss_labels(x, labels[:3])
    with pytest.raises(ValueError, match="2-D"):
        sigmoid_focal_loss_labels(x.reshape(12), torch.zeros(12, dtype=torch.long))
    with pytest.raises(TypeError, match="float32"):
        sigmoid_focal_loss_labels(x.double(), labels)
    with pytest.raises(ValueError, match="CPU"):
        sigmoid_focal_loss_labels(x.detach().to("meta"), labels)
    with pytest.raises(ValueError, match="CPU"):
        sigmoid_focal_loss_labels(x, labels.to("meta"))
    with pytest.raises(ValueError, match="weight"):
        sigmoid_focal_loss_labels(x, labels, weight=torch.ones(4, 3))
    with pytest.raises(ValueError, match="class_alpha"):
        sigmoid_focal_loss_labels(x, labels, class_alpha=torch.ones(4))
    with pytest.raises(ValueError):  # library checks: normalizer, smoothing, class_alpha
        sigmoid_focal_loss_labels(x, labels, normalizer=-1.0)
    with pytest.raises(ValueError):
        sigmoid_focal_loss_labels(x, labels, label_smoothing=1.0)
    with pytest.raises(ValueError):
        sigmoid_focal_loss_labels(x, labels, class_alpha=torch.tensor([0.5, 1.5, 0.5]))
    with pytest.raises(ValueError):
        sigmoid_focal_loss_labels(x, labels, reduction="avg")
    with pytest.raises(ValueError, match="shape"):
        sigmoid_focal_loss_dense(x, torch.zeros(3, 4))
    with pytest.raises(ValueError, match="target"):
        sigmoid_focal_loss_dense(x, torch.full((4, 3), 1.5))


def test_backward_gives_the_stored_gradient_away(rng, monkeypatch):
    # Upstream 1 (or expanded from 1): the fused gradient becomes x.grad as
    # it is (no product, no copy); another upstream scales it in place.
    import focal.torch as ft
    kept = []
    forward = ft._FusedLoss.forward

    def spy(ctx, inputs, run):
        out = forward(ctx, inputs, run)
        kept.append((ctx.grad.data_ptr(), ctx.grad.clone()))
        return out

    monkeypatch.setattr(ft._FusedLoss, "forward", staticmethod(spy))
    x = torch.from_numpy((rng.standard_normal((12, 5)) * 3).astype(np.float32))
    x.requires_grad_()
    labels = torch.from_numpy(rng.integers(-1, 6, 12))
    for make, scale in [(lambda: sigmoid_focal_loss_labels(x, labels, reduction="sum"), 1.0),
                        (lambda: sigmoid_focal_loss_labels(x, labels, reduction="none").sum(),
                         1.0),
                        (lambda: 0.5 * sigmoid_focal_loss_labels(x, labels), 0.5)]:
        x.grad = None
        make().backward()
        ptr, value = kept[-1]
        assert x.grad.data_ptr() == ptr
        assert torch.equal(x.grad, value * scale if scale != 1.0 else value)


def test_second_backward_recomputes(rng):
    x = torch.from_numpy((rng.standard_normal((12, 5)) * 3).astype(np.float32))
    x.requires_grad_()
    labels = torch.from_numpy(rng.integers(-1, 6, 12))
    loss = sigmoid_focal_loss_labels(x, labels)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    x.grad.zero_()  # the first gradient was given away: changing it changes nothing
    loss.backward(retain_graph=True)
    assert torch.equal(x.grad, first)
    with torch.no_grad():
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="inplace"):
        loss.backward()


def test_buffer_pool_reuses_only_free_buffers():
    import focal.torch as ft
    pool = ft._BufferPool(keep=2)
    n = 300000
    a = pool.take(n, (n,))
    ptr = a.data_ptr()
    assert pool.take(n, (n,)).data_ptr() != ptr  # a is in use
    del a
    c = pool.take(n, (1000, 300))
    assert c.data_ptr() == ptr and c.shape == (1000, 300)  # free again: recycled
    rest = c[5:]  # a view keeps the buffer in use, as does .numpy() of it
    del c
    assert pool.take(n, (n,)).data_ptr() != ptr
    arr = rest.numpy()
    del rest
    assert pool.take(n, (n,)).data_ptr() != ptr
    arr[:] = 7.0
    assert len(pool.arrays) == 2
    del arr
    assert pool.take(n - 1, (n - 1,)).data_ptr() != ptr  # another size: a new buffer
    # The loss path: a freed gradient's buffer serves the next call.
    x = torch.randn(400, 1000, requires_grad=True)
    t = (torch.rand(400, 1000) < 0.3).float()
    ft.sigmoid_focal_loss(x, t, reduction="sum").backward()
    first, value = x.grad.data_ptr(), x.grad.clone()
    x.grad = None
    ft.sigmoid_focal_loss(x, t, reduction="sum").backward()
    assert x.grad.data_ptr() == first and torch.equal(x.grad, value)
