# SPDX-License-Identifier: MIT
"""The numpy API's pos_weight (sigmoid_labels, sigmoid_dense, quality_focal)
and quality_focal's alpha (libfocal 1.2): losses and gradients against
Ultralytics' FocalLoss / QFocalLoss around BCEWithLogitsLoss(pos_weight)
evaluated in float64 (_yolo_reference.py), within the accuracy contract
(docs/DESIGN.md §4.1: 3e-5 relative + 1e-6 absolute per element, the
absolute part scaled as the reduction and pos_weight scale it); the bits
of the calls without them where pos_weight is all ones; labels against
dense; the errors."""

import numpy as np
import pytest
import torch
from torch import nn

import focal

import _yolo_reference as ultralytics

pytestmark = pytest.mark.skipif(focal.version_info < (1, 2, 0),
                                reason="pos_weight and the quality alpha need libfocal 1.2")

RTOL = 3e-5
EPOSWEIGHT = -16
REDUCTIONS = ["none", "sum", "mean"]


def _reference(kind, x, t, gamma, alpha, pos_weight, reduction):
    """Ultralytics' loss in float64 and the gradient of its sum over the
    outputs (the library's gradient is that of the reduced loss)."""
    ref_cls = ultralytics.FocalLoss if kind == "focal" else ultralytics.QFocalLoss
    pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float64)
    ref = ref_cls(nn.BCEWithLogitsLoss(pos_weight=pw, reduction=reduction), gamma, alpha)
    xd = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
    loss = ref(xd, torch.as_tensor(t, dtype=torch.float64))
    loss.sum().backward()
    return loss.detach().numpy(), xd.grad.numpy()


def _close(got, ref, what, atol):
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, what
    bad = np.abs(got - ref) > RTOL * np.abs(ref) + atol
    assert not bad.any(), (f"{what}: {int(bad.sum())} of {bad.size} outside; first at "
                           f"{np.argwhere(bad)[0]}: got {got[bad][0]!r}, float64 {ref[bad][0]!r}")


def _check(loss, grad, ref_loss, ref_grad, reduction, n, pos_weight):
    """The contract's 1e-6 absolute per element (soft targets: the inherent
    cancellation of p - t) as the reduction divides it and the positive
    weights multiply it."""
    scale = 1.0 / n if reduction == "mean" else 1.0
    atol = 1e-6 * scale * (1.0 + float(np.max(pos_weight)))
    _close(loss, ref_loss, "loss", atol if reduction == "none" else 1e-12)
    _close(grad, ref_grad, "gradient", atol)


def _inputs(rng, rows, classes, soft):
    x = rng.normal(0.0, 3.0, (rows, classes)).astype(np.float32)
    if soft:
        t = rng.uniform(0.0, 1.0, (rows, classes)).astype(np.float32)
    else:
        t = (rng.uniform(size=(rows, classes)) < 0.2).astype(np.float32)
    return x, t


def _class_pos_weight(rng, classes):
    # 0, 1 and values on both sides of 1, as YOLOv5's cls_pw / obj_pw take.
    pw = rng.uniform(0.0, 4.0, classes).astype(np.float32)
    pw[0] = 1.0
    if classes > 2:
        pw[1] = 0.0
    return pw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("gamma", [0.0, 1.5, 2.0])
def test_dense_pos_weight_is_ultralytics_focal_loss(rng, reduction, soft, gamma):
    rows, classes = 37, 11
    x, t = _inputs(rng, rows, classes, soft)
    pw = _class_pos_weight(rng, classes)
    loss, grad = focal.sigmoid_dense(x, t, alpha=0.25, gamma=gamma, reduction=reduction,
                                     pos_weight=pw)
    ref_loss, ref_grad = _reference("focal", x, t, gamma, 0.25, pw, reduction)
    _check(loss, grad, ref_loss, ref_grad, reduction, x.size, pw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_labels_pos_weight_equal_dense_one_hot(rng, reduction):
    rows, classes = 50, 7
    x = rng.normal(0.0, 3.0, (rows, classes)).astype(np.float32)
    labels = rng.integers(-1, classes + 1, rows)  # ignored, positive, background
    pw = _class_pos_weight(rng, classes)
    keep = labels >= 0
    one_hot = np.zeros((rows, classes), np.float32)
    one_hot[keep & (labels < classes), labels[keep & (labels < classes)]] = 1.0
    lab_loss, lab_grad = focal.sigmoid_labels(x, labels, reduction=reduction, pos_weight=pw)
    den_loss, den_grad = focal.sigmoid_dense(x[keep], one_hot[keep], reduction=reduction,
                                             pos_weight=pw)
    # Ignored rows are exactly 0; the others are the dense call's bits.
    assert not lab_grad[~keep].any()
    np.testing.assert_array_equal(lab_grad[keep], den_grad)
    if reduction == "none":
        assert not lab_loss[~keep].any()
        np.testing.assert_array_equal(lab_loss[keep], den_loss)
    else:
        assert lab_loss == den_loss


@pytest.mark.parametrize("fn", ["sigmoid_dense", "sigmoid_labels"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pos_weight_of_ones_keeps_the_bits(rng, fn, reduction):
    rows, classes = 29, 9
    x, t = _inputs(rng, rows, classes, soft=fn == "sigmoid_dense")
    targets = t if fn == "sigmoid_dense" else rng.integers(-1, classes + 1, rows)
    call = getattr(focal, fn)
    plain = call(x, targets, gamma=1.5, reduction=reduction)
    ones = call(x, targets, gamma=1.5, reduction=reduction,
                pos_weight=np.ones(classes, np.float32))
    np.testing.assert_array_equal(ones[1], plain[1])
    np.testing.assert_array_equal(ones[0], plain[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [None, 0.25, 0.9])
@pytest.mark.parametrize("gamma", [1.5, 2.0])
def test_quality_pos_weight_and_alpha_are_ultralytics_qfocal_loss(rng, reduction, alpha,
                                                                    gamma):
    shape = (13, 17)
    x, s = _inputs(rng, *shape, soft=True)
    s[:, ::4] = 0.0  # exact zeros, as IoU targets have away from objects
    pw = rng.uniform(0.0, 3.0, shape).astype(np.float32)
    loss, grad = focal.quality_focal(x, s, gamma=gamma, reduction=reduction, pos_weight=pw,
                                     alpha=alpha)
    # Without alpha the loss has no a_t (mmdet's form): the reference is
    # Ultralytics' expression without its alpha factor.
    if alpha is None:
        xd = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
        sd = torch.as_tensor(s, dtype=torch.float64)
        bce = nn.BCEWithLogitsLoss(pos_weight=torch.as_tensor(pw, dtype=torch.float64),
                                   reduction="none")(xd, sd)
        per = bce * torch.abs(sd - torch.sigmoid(xd)) ** gamma
        ref_t = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
        ref_t.sum().backward()
        ref_loss, ref_grad = ref_t.detach().numpy(), xd.grad.numpy()
    else:
        ref_loss, ref_grad = _reference("quality", x, s, gamma, alpha, pw, reduction)
    _check(loss, grad, ref_loss, ref_grad, reduction, x.size, pw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_quality_defaults_keep_the_bits(rng, reduction):
    x, s = _inputs(rng, 8, 21, soft=True)
    plain = focal.quality_focal(x, s, reduction=reduction)
    same = focal.quality_focal(x, s, reduction=reduction, alpha=-1.0,
                               pos_weight=np.ones_like(x))
    np.testing.assert_array_equal(same[1], plain[1])
    np.testing.assert_array_equal(same[0], plain[0])


def test_pos_weight_shapes_are_checked(rng):
    x, t = _inputs(rng, 4, 5, soft=False)
    with pytest.raises(ValueError, match="pos_weight"):
        focal.sigmoid_dense(x, t, pos_weight=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="pos_weight"):
        focal.sigmoid_labels(x, np.zeros(4, np.int64), pos_weight=np.ones((1, 5), np.float32))
    with pytest.raises(ValueError, match="pos_weight"):
        focal.quality_focal(x, t, pos_weight=np.ones(5, np.float32))


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_bad_pos_weight_values_are_the_library_error(rng, bad):
    x, t = _inputs(rng, 4, 5, soft=False)
    pw = np.ones(5, np.float32)
    pw[3] = bad
    for call in (lambda: focal.sigmoid_dense(x, t, pos_weight=pw),
                 lambda: focal.sigmoid_labels(x, np.zeros(4, np.int32), pos_weight=pw),
                 lambda: focal.quality_focal(x, t, pos_weight=np.broadcast_to(pw, x.shape))):
        with pytest.raises(focal.FocalError) as err:
            call()
        assert err.value.code == EPOSWEIGHT


# ---- the same arguments in PyTorch (focal.torch and its operators) ----------------


def _torch_and_numpy(torch_fn, numpy_fn, x, target, reduction, **kw):
    """(torch loss, torch grad) and (numpy loss, numpy grad) of one call."""
    xt = torch.from_numpy(x.copy()).requires_grad_()
    tkw = {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    target_t = torch.from_numpy(target)
    loss = torch_fn(xt, target_t, reduction=reduction, **tkw)
    loss.backward(torch.ones_like(loss))
    want_loss, want_grad = numpy_fn(x, target, reduction=reduction, **kw)
    return (loss.detach().numpy(), xt.grad.numpy()), (np.asarray(want_loss, np.float32),
                                                       want_grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("form", ["labels", "dense"])
def test_torch_pos_weight_is_the_numpy_apis(rng, form, reduction):
    # The numpy API is checked against Ultralytics above: the torch
    # functions must give its bits, and their operators (TorchScript) too.
    import focal.torch as ft

    rows, classes = 37, 9
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    pw = (rng.random(classes) * 3).astype(np.float32)
    if form == "labels":
        target = rng.integers(-1, classes + 1, rows).astype(np.int64)
        torch_fn, numpy_fn = ft.sigmoid_focal_loss_labels, focal.sigmoid_labels
    else:
        target = rng.random((rows, classes)).astype(np.float32)
        torch_fn, numpy_fn = ft.sigmoid_focal_loss_dense, focal.sigmoid_dense
    (loss, grad), (want_loss, want_grad) = _torch_and_numpy(
        torch_fn, numpy_fn, x, target, reduction, gamma=1.5, pos_weight=pw)
    assert np.array_equal(loss, want_loss) and np.array_equal(grad, want_grad)
    op = getattr(torch.ops.focal, f"sigmoid_focal_loss_{form}")
    got = op(torch.from_numpy(x), torch.from_numpy(target), 0.25, 1.5, reduction, 0.0, 0.0,
             None, None, torch.from_numpy(pw))
    assert np.array_equal(got.numpy(), want_loss)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [None, 0.25, -1.0])
def test_torch_quality_pos_weight_and_alpha_are_the_numpy_apis(rng, reduction, alpha):
    import focal.torch as ft

    x = (rng.standard_normal((23, 7)) * 3).astype(np.float32)
    s = (rng.random((23, 7)) * (rng.random((23, 7)) < 0.4)).astype(np.float32)
    pw = (rng.random((23, 7)) * 3).astype(np.float32)
    (loss, grad), (want_loss, want_grad) = _torch_and_numpy(
        ft.quality_focal_loss, focal.quality_focal, x, s, reduction, gamma=1.5, pos_weight=pw,
        alpha=alpha)
    assert np.array_equal(loss, want_loss) and np.array_equal(grad, want_grad)
    got = torch.ops.focal.quality_focal_loss(torch.from_numpy(x), torch.from_numpy(s), 1.5,
                                             reduction, 0.0, None, torch.from_numpy(pw), alpha)
    assert np.array_equal(got.numpy(), want_loss)
