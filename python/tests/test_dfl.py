# SPDX-License-Identifier: MIT
"""The Distribution Focal Loss (libfocal 1.4) from Python.

focal.distribution_focal against a float64 reference of its definition
(GFL's DFL, mmdet's distribution_focal_loss): every reduction, row weights,
the normalizer, 16 and 17 bins, targets at exact integers, next to 0 and
just below bins - 1; its errors; focal.torch.distribution_focal_loss and
torch.ops.focal.distribution_focal_loss against it, bit for bit. mmdet's
module is tested in test_mmdet_modules.py, Ultralytics' DFLoss in
test_yolo.py.
"""

import ctypes

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import focal
from focal import _lib
from focal.torch import distribution_focal_loss
from _reference import REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close

pytestmark = pytest.mark.skipif(not _lib.has("distribution_focal"),
                                reason="the Distribution Focal Loss is libfocal 1.4")

EPS = 2.0**-7
F32 = np.float32


def dfl64(x32, t32, weight=None):
    """Per-row loss and the gradient of their sum, in float64 on the float32
    values. The weights are the library's (and mmdet's float32 ones):
    wl = l + 1 - t rounded to float32 once, wr = t - l (exact)."""
    t = np.asarray(t32, F32)
    left = np.floor(t)
    wl = torch.from_numpy((left + F32(1) - t).astype(np.float64))  # float32 arithmetic
    wr = torch.from_numpy(t.astype(np.float64) - left.astype(np.float64))
    x = torch.from_numpy(np.asarray(x32, np.float64)).requires_grad_()
    li = torch.from_numpy(left.astype(np.int64))
    logp = F.log_softmax(x, dim=1)
    loss = -(logp.gather(1, li[:, None])[:, 0] * wl + logp.gather(1, li[:, None] + 1)[:, 0] * wr)
    if weight is not None:
        loss = loss * torch.from_numpy(np.asarray(weight, np.float64))
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach().numpy(), grad.numpy()


def targets(rng, rows, bins):
    """Continuous targets in [0, bins - 1): random, with exact integers,
    0, the smallest positive floats and the largest float below bins - 1."""
    t = rng.uniform(0, bins - 1, rows).astype(F32)
    t = np.minimum(t, np.nextafter(F32(bins - 1), F32(0)))
    t[::5] = rng.integers(0, bins - 1, t[::5].size)  # exact integers
    special = np.asarray([0.0, np.nextafter(F32(bins - 1), F32(0)), bins - 1 - 0.01, 1e-30,
                          1.0 - 2.0**-24, bins - 2, 0.5, 2.0**-20, 1.0], F32)
    k = min(rows, special.size)
    t[:k] = special[:k]
    return t


def logits(rng, rows, bins, scale=3.0):
    x = (rng.standard_normal((rows, bins)) * scale).astype(F32)
    if rows > 3:
        x[2] *= 20.0  # a peaked distribution: probabilities far below float32's epsilon
        x[3] = 0.0  # a flat one
    return x


def divisor_of(reduction, rows, normalizer):
    if reduction == "none":
        return 1.0
    if normalizer > 0:
        return normalizer
    return float(rows) if reduction == "mean" else 1.0


@pytest.mark.parametrize("normalizer", [0.0, 3.5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("bins", [16, 17])
@pytest.mark.parametrize("rows", [1, 37, 1000])
def test_matches_float64(rng, rows, bins, reduction, weighted, normalizer):
    x = logits(rng, rows, bins)
    t = targets(rng, rows, bins)
    w = None
    if weighted:
        w = rng.uniform(0, 2, rows).astype(F32)
        w[::7] = 0.0
    loss, grad = focal.distribution_focal(x, t, reduction, normalizer, w)
    assert grad.dtype == np.float32 and grad.shape == x.shape
    ref_loss, ref_grad = dfl64(x, t, w)
    d = divisor_of(reduction, rows, normalizer)
    if reduction == "none":
        assert loss.dtype == np.float32 and loss.shape == (rows,)
        assert_close(loss, ref_loss, SOFT_RTOL, SOFT_ATOL, "loss")
    else:
        assert isinstance(loss, float)
        assert_close(loss, ref_loss.sum() / d, REDUCED_RTOL, 0.0, "reduced loss")
    assert_close(grad, ref_grad / d, SOFT_RTOL, SOFT_ATOL / d, "grad")


def test_exact_integer_targets_are_cross_entropy(rng):
    # t = l: wl = 1, wr = 0: the softmax cross-entropy of class l.
    x = logits(rng, 40, 16)
    t = rng.integers(0, 15, 40)
    loss, grad = focal.distribution_focal(x, t, "none")
    ce = F.cross_entropy(torch.from_numpy(x.astype(np.float64)), torch.from_numpy(t),
                         reduction="none").numpy()
    assert_close(loss, ce, SOFT_RTOL, SOFT_ATOL, "loss")
    onehot = np.eye(16)[t]
    p = torch.softmax(torch.from_numpy(x.astype(np.float64)), 1).numpy()
    assert_close(grad, p - onehot, SOFT_RTOL, SOFT_ATOL, "grad")


def test_weight_and_normalizer_scale(rng):
    x, t = logits(rng, 50, 16), targets(rng, 50, 16)
    w = rng.uniform(0.5, 2, 50).astype(F32)
    plain, g_plain = focal.distribution_focal(x, t, "none")
    weighted, g_w = focal.distribution_focal(x, t, "none", weight=w)
    assert_close(weighted, plain * w, 2.0**-23, 0.0, "weighted loss")
    assert_close(g_w, g_plain * w[:, None], 2.0**-23, 0.0, "weighted grad")
    total, g_sum = focal.distribution_focal(x, t, "sum")
    mean, g_mean = focal.distribution_focal(x, t, "mean")
    by_norm, g_norm = focal.distribution_focal(x, t, "mean", normalizer=8.0)
    assert_close(mean, total / 50, 2 * 2.0**-23, 0.0, "mean")
    assert by_norm == pytest.approx(total / 8.0, rel=2.0**-22)
    assert focal.distribution_focal(x, t, "sum", normalizer=8.0)[0] == by_norm
    assert np.array_equal(g_norm, g_sum * F32(1 / 8.0))
    assert np.array_equal(g_sum, g_plain)


def test_inputs_are_converted(rng):
    x, t = logits(rng, 20, 17), targets(rng, 20, 17)
    want = focal.distribution_focal(x, t, "none")
    got = focal.distribution_focal(np.asfortranarray(x.astype(np.float64)), t.tolist(), "none")
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    strided = np.repeat(x, 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous
    got = focal.distribution_focal(strided, t, "none")
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_empty():
    loss, grad = focal.distribution_focal(np.zeros((0, 16), F32), [], "none")
    assert loss.shape == (0,) and grad.shape == (0, 16)
    assert focal.distribution_focal(np.zeros((0, 16), F32), [], "sum")[0] == 0.0
    assert np.isnan(focal.distribution_focal(np.zeros((0, 16), F32), [], "mean")[0])


# ---- errors --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [15.0, 15.5, 16.0, -1e-30, -0.5, float("nan"), float("inf"),
                                 -float("inf")])
def test_target_out_of_range_is_focal_error(bad):
    x = np.zeros((3, 16), F32)
    with pytest.raises(focal.FocalError, match=r"\[0, 15\)") as e:
        focal.distribution_focal(x, [0.5, bad, 3.0])
    assert e.value.code == _lib.ETARGET
    assert isinstance(e.value, ValueError)


def test_target_error_writes_nothing():
    # The library checks every target before it writes anything.
    x = np.zeros((4, 8), F32)
    t = np.array([0.5, 1.0, 2.0, 7.0], F32)  # the last one is bins - 1
    loss = np.full(4, 123.0, F32)
    grad = np.full((4, 8), 456.0, F32)
    opt = _lib.make_options(0.0, 0.0, 0, 0.0, 0.0, 0, 0)
    with pytest.raises(focal.FocalError):
        _lib.call_entry("distribution_focal", x.ctypes.data, t.ctypes.data, 4, 8, opt,
                        loss.ctypes.data, grad.ctypes.data)
    assert (loss == 123.0).all() and (grad == 456.0).all()


@pytest.mark.parametrize("bins", [0, 1])
def test_fewer_than_two_bins_is_a_target_error(bins):
    with pytest.raises(focal.FocalError) as e:
        focal.distribution_focal(np.zeros((2, bins), F32), [0.0, 0.0])
    assert e.value.code == _lib.ETARGET


def test_shape_and_type_errors():
    x = np.zeros((3, 16), F32)
    with pytest.raises(ValueError, match="2-D"):
        focal.distribution_focal(np.zeros(16, F32), [0.5])
    with pytest.raises(ValueError, match="2-D"):
        focal.distribution_focal(np.zeros((2, 3, 16), F32), [0.5, 0.5])
    with pytest.raises(ValueError, match=r"targets must have shape \(3,\)"):
        focal.distribution_focal(x, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"targets must have shape \(3,\)"):
        focal.distribution_focal(x, np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        focal.distribution_focal(x, np.zeros(3), weight=np.ones((3, 16)))
    with pytest.raises(TypeError):
        focal.distribution_focal(x, np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="Invalid value for arg 'reduction'"):
        focal.distribution_focal(x, np.zeros(3), reduction="avg")
    with pytest.raises(focal.FocalError) as e:
        focal.distribution_focal(x, np.zeros(3), normalizer=-1.0)
    assert e.value.code == -13  # FOCAL_ENORMALIZER


def test_options_the_loss_does_not_take():
    # The Python function has no such parameters ...
    x, t = np.zeros((2, 4), F32), np.array([0.5, 1.5], F32)
    for kw in ({"gamma": 2.0}, {"alpha": 0.25}, {"label_smoothing": 0.1},
               {"class_alpha": np.ones(4, F32)}, {"pos_weight": np.ones(4, F32)}):
        with pytest.raises(TypeError):
            focal.distribution_focal(x, t, **kw)
    # ... and the library refuses them (FOCAL_EOPTIONS), but not alpha and
    # gamma, which it does not read.
    ones = np.ones(4, F32)
    loss, grad = np.empty((), F32), np.empty_like(x)

    def call(**fields):
        args = dict(alpha=0.25, gamma=2.0, reduction=2, normalizer=0.0, label_smoothing=0.0,
                    class_alpha=0, weight=0, pos_weight=0, flags=0)
        args.update(fields)
        opt = _lib.make_options(**args)
        _lib.call_entry("distribution_focal", x.ctypes.data, t.ctypes.data, 2, 4, opt,
                        loss.ctypes.data, grad.ctypes.data)
        return float(loss), grad.copy()

    for fields in ({"class_alpha": ones.ctypes.data}, {"label_smoothing": 0.1},
                   {"pos_weight": ones.ctypes.data}, {"flags": _lib.FLAG_QUALITY_ALPHA}):
        with pytest.raises(focal.FocalError) as e:
            call(**fields)
        assert e.value.code == _lib.EOPTIONS, fields
    want = call()
    for fields in ({"alpha": 0.9, "gamma": 0.0}, {"alpha": -1.0, "gamma": 5.0}):
        got = call(**fields)
        assert got[0] == want[0] and np.array_equal(got[1], want[1]), fields


def test_a_library_without_it_says_so(monkeypatch):
    # An older libfocal (no focal_distribution_focal): NotImplementedError
    # naming the version, from numpy and torch alike.
    real_has = _lib.has
    monkeypatch.setattr(_lib, "has", lambda *names, library=None: (
        "distribution_focal" not in names and real_has(*names, library=library)))
    with pytest.raises(NotImplementedError, match="libfocal >= 1.4"):
        focal.distribution_focal(np.zeros((1, 4), F32), [0.5])
    with pytest.raises(NotImplementedError, match="libfocal >= 1.4"):
        distribution_focal_loss(torch.zeros(1, 4), torch.tensor([0.5]))


def test_prototype():
    fn = _lib.lib.focal_distribution_focal
    assert fn.restype is ctypes.c_int and len(fn.argtypes) == 7


# ---- focal.torch --------------------------------------------------------------------


@pytest.mark.parametrize("normalizer", [0.0, 2.5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_torch_function_and_operator_are_numpys_bits(rng, reduction, weighted, normalizer):
    rows, bins = 33, 17
    x, t = logits(rng, rows, bins), targets(rng, rows, bins)
    w = rng.uniform(0, 2, rows).astype(F32) if weighted else None
    loss, grad = focal.distribution_focal(x, t, reduction, normalizer, w)
    tw = None if w is None else torch.from_numpy(w)
    up = torch.from_numpy(rng.uniform(-2, 2, rows).astype(F32)) if reduction == "none" else None

    calls = {
        "function": lambda xt: distribution_focal_loss(xt, torch.from_numpy(t), reduction,
                                                       normalizer, tw),
        "operator": lambda xt: torch.ops.focal.distribution_focal_loss(
            xt, torch.from_numpy(t), reduction, normalizer, tw),
    }
    for name, fn in calls.items():
        xt = torch.from_numpy(x.copy()).requires_grad_()
        out = fn(xt)
        assert out.dtype == torch.float32, name
        if reduction == "none":
            assert out.shape == (rows,) and np.array_equal(out.detach().numpy(), loss), name
            out.backward(up)
            assert torch.equal(xt.grad, torch.from_numpy(grad) * up[:, None]), name
        else:
            assert out.shape == () and out.item() == loss, name
            out.backward()
            assert np.array_equal(xt.grad.numpy(), grad), name
        with torch.no_grad():
            again = fn(xt)
        assert np.array_equal(again.numpy(), out.detach().numpy()), name
        with torch.inference_mode():
            assert torch.equal(fn(xt.detach()), out.detach()), name


def test_torch_targets_any_real_dtype_no_gradient(rng):
    x = torch.from_numpy(logits(rng, 12, 16)).requires_grad_()
    t_int = torch.from_numpy(rng.integers(0, 15, 12))
    want = distribution_focal_loss(x, t_int.float(), "sum")
    assert torch.equal(distribution_focal_loss(x, t_int, "sum"), want)
    assert torch.equal(distribution_focal_loss(x, t_int.to(torch.int32), "sum"), want)
    t = torch.from_numpy(targets(rng, 12, 16)).requires_grad_()
    distribution_focal_loss(x, t).backward()
    assert t.grad is None and x.grad is not None
    # strided inputs and targets
    wide = torch.from_numpy(logits(rng, 12, 32))[:, ::2]
    tt = torch.from_numpy(targets(rng, 24, 16))[::2]
    assert torch.equal(distribution_focal_loss(wide, tt, "none"),
                       distribution_focal_loss(wide.contiguous(), tt.contiguous(), "none"))


def test_torch_errors():
    x, t = torch.zeros(3, 16), torch.full((3,), 0.5)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        distribution_focal_loss(x.double(), t)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        distribution_focal_loss(x, t.double())
    with pytest.raises(TypeError):
        distribution_focal_loss(x, t.bool())
    with pytest.raises(TypeError):
        distribution_focal_loss(x.numpy(), t)
    with pytest.raises(ValueError, match="2-D"):
        distribution_focal_loss(torch.zeros(16), t[:1])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        distribution_focal_loss(x, t[:2])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        distribution_focal_loss(x, t[:, None])
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        distribution_focal_loss(x, t, weight=torch.ones(3, 1))
    with pytest.raises(ValueError, match="Invalid value"):
        distribution_focal_loss(x, t, reduction="avg")
    with pytest.raises(focal.FocalError, match=r"\[0, 15\)"):
        distribution_focal_loss(x, torch.tensor([0.5, 15.0, 1.0]))
    with pytest.raises(focal.FocalError):
        distribution_focal_loss(x.requires_grad_(), torch.tensor([0.5, float("nan"), 1.0]))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_gradcheck(rng, reduction):
    # On a grid of exact float32 values, against finite differences.
    x = torch.from_numpy(rng.integers(-300, 300, (5, 7)) * EPS).requires_grad_()
    t = torch.tensor([0.0, 0.25, 3.5, 5.75, 2.0])
    w = torch.tensor([1.0, 0.5, 2.0, 0.0, 1.5])

    def f(x64):
        return distribution_focal_loss(x64.float(), t, reduction, weight=w).double()

    assert torch.autograd.gradcheck(f, (x,), eps=EPS, atol=5e-4, rtol=1e-3)
