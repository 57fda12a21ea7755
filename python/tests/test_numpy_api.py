# SPDX-License-Identifier: MIT
"""focal.loss_and_grad: values, shapes, conversions, errors."""

import math

import numpy as np
import pytest

import focal
from _reference import HARD_RTOL, REDUCED_RTOL, assert_close, stable64

# mmcv's unit-test case (docs/DESIGN.md §2.1), float64 values.
MMCV_X = [1.0, 0.0, 0.0, 1.0]
MMCV_SUM = 0.27125922146421316
MMCV_GRAD = [-0.01314528, 0.2237151, 0.2237151, -0.01314528]

# Return codes from focal.h.
EALPHA, EGAMMA, EREDUCTION, ETARGET = -3, -4, -5, -7
EISA_UNKNOWN, EISA_UNSUPPORTED = -9, -10


def test_mmcv_check_value():
    loss, grad = focal.loss_and_grad(MMCV_X, MMCV_X, 0.25, 2.0, "sum")
    assert isinstance(loss, float)
    assert loss == pytest.approx(MMCV_SUM, rel=REDUCED_RTOL)
    assert grad.dtype == np.float32 and grad.shape == (4,)
    np.testing.assert_allclose(grad, MMCV_GRAD, rtol=1e-6, atol=1e-8)


def test_reductions_agree(rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    t = (rng.random((3, 4, 5)) < 0.5).astype(np.float32)
    none, g_none = focal.loss_and_grad(x, t, reduction="none")
    total, g_sum = focal.loss_and_grad(x, t, reduction="sum")
    mean, g_mean = focal.loss_and_grad(x, t, reduction="mean")
    assert none.shape == x.shape and none.dtype == np.float32
    assert g_none.shape == g_sum.shape == g_mean.shape == x.shape
    assert total == pytest.approx(np.sum(none, dtype=np.float64), rel=1e-6)
    assert mean == pytest.approx(total / x.size, rel=1e-6)
    np.testing.assert_array_equal(g_none, g_sum)  # d sum / dx_i = d loss_i / dx_i
    np.testing.assert_allclose(g_mean, g_sum / x.size, rtol=1e-6)


def test_default_arguments(rng):
    x = rng.standard_normal(50).astype(np.float32)
    t = (rng.random(50) < 0.2).astype(np.float32)
    default = focal.loss_and_grad(x, t)
    explicit = focal.loss_and_grad(x, t, alpha=0.25, gamma=2.0, reduction="mean")
    assert default[0] == explicit[0]
    np.testing.assert_array_equal(default[1], explicit[1])


def test_inputs_not_modified(rng):
    x = rng.standard_normal(100).astype(np.float32)
    t = rng.random(100).astype(np.float32)
    x0, t0 = x.copy(), t.copy()
    focal.loss_and_grad(x, t, reduction="none")
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)


@pytest.mark.parametrize("layout", ["strided", "fortran", "transposed", "float64",
                                    "int_targets", "bool_targets", "lists"])
def test_conversions_match_contiguous_float32(rng, layout):
    x = rng.standard_normal((6, 10)).astype(np.float32)
    t = (rng.random((6, 10)) < 0.5).astype(np.float32)
    want_loss, want_grad = focal.loss_and_grad(x, t, reduction="none")
    if layout == "strided":
        bx, bt = np.zeros((6, 20), np.float32), np.zeros((6, 20), np.float32)
        bx[:, ::2], bt[:, ::2] = x, t
        args = bx[:, ::2], bt[:, ::2]
    elif layout == "fortran":
        args = np.asfortranarray(x), np.asfortranarray(t)
    elif layout == "transposed":
        args = np.ascontiguousarray(x.T).T, np.ascontiguousarray(t.T).T
    elif layout == "float64":
        args = x.astype(np.float64), t.astype(np.float64)
    elif layout == "int_targets":
        args = x, t.astype(np.int64)
    elif layout == "bool_targets":
        args = x, t.astype(bool)
    else:
        args = x.tolist(), t.tolist()
    loss, grad = focal.loss_and_grad(*args, reduction="none")
    assert grad.shape == loss.shape == (6, 10)
    np.testing.assert_array_equal(loss, want_loss)
    np.testing.assert_array_equal(grad, want_grad)


def test_scalar_and_empty():
    loss, grad = focal.loss_and_grad(np.float32(1.0), 1.0, reduction="none")
    assert loss.shape == grad.shape == ()
    assert float(loss) == pytest.approx(stable64(1.0, 1.0, 0.25, 2.0)[0], rel=HARD_RTOL)
    empty = np.zeros((0, 3), np.float32)
    loss, grad = focal.loss_and_grad(empty, empty, reduction="sum")
    assert loss == 0.0 and grad.shape == (0, 3)
    loss, _ = focal.loss_and_grad(empty, empty, reduction="mean")
    assert math.isnan(loss)  # as torch's mean of nothing
    loss, grad = focal.loss_and_grad(empty, empty, reduction="none")
    assert loss.shape == grad.shape == (0, 3)


def test_negative_alpha_disables_balancing(rng):
    x = rng.standard_normal(64).astype(np.float32)
    t = (rng.random(64) < 0.5).astype(np.float32)
    a = focal.loss_and_grad(x, t, alpha=-1, reduction="none")
    b = focal.loss_and_grad(x, t, alpha=-0.01, reduction="none")
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
def test_extreme_logits_against_stable_float64(rng, gamma):
    # Beyond |x| ~ 16 the textbook forms (and torchvision in float32) break down;
    # the contract still holds, against the stable forms evaluated in float64.
    x = np.concatenate([np.linspace(-80, 80, 801), rng.uniform(-30, 30, 400)]).astype(np.float32)
    t = (rng.random(x.size) < 0.5).astype(np.float32)
    loss, grad = focal.loss_and_grad(x, t, alpha=0.25, gamma=gamma, reduction="none")
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    ref_loss, ref_grad = stable64(x, t, 0.25, gamma)
    assert_close(loss, ref_loss, HARD_RTOL, what="loss")
    assert_close(grad, ref_grad, HARD_RTOL, what="grad")


def test_stable_reference_matches_finite_differences(rng):
    # Checks the test oracle itself (float64 central differences).
    x = rng.uniform(-6, 6, 200)
    t = np.where(rng.random(200) < 0.5, rng.random(200), (rng.random(200) < 0.5) * 1.0)
    h = 1e-6
    _, grad = stable64(x, t, 0.3, 1.5)
    numeric = (stable64(x + h, t, 0.3, 1.5)[0] - stable64(x - h, t, 0.3, 1.5)[0]) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_nonfinite_logits_propagate():
    x = np.array([np.nan, 0.5, -np.inf, 2.0], np.float32)
    t = np.array([1, 1, 1, 0], np.float32)
    loss, grad = focal.loss_and_grad(x, t, reduction="none")
    assert math.isnan(loss[0]) and math.isnan(grad[0])
    assert np.isinf(loss[2])  # confidently wrong
    assert np.all(np.isfinite(loss[[1, 3]])) and np.all(np.isfinite(grad[[1, 3]]))
    total, _ = focal.loss_and_grad(x, t, reduction="sum")
    assert math.isnan(total)


def _raises(code, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        focal.loss_and_grad(*args, **kwargs)
    assert isinstance(info.value, focal.FocalError)
    assert info.value.code == code
    message = focal.strerror(code)
    assert message and message != focal.strerror(12345)  # a real message, not "unknown"
    assert str(info.value).startswith(message)


X4 = np.array(MMCV_X, np.float32)


@pytest.mark.parametrize("alpha", [1.5, float("nan"), float("inf")])
def test_bad_alpha(alpha):
    _raises(EALPHA, X4, X4, alpha=alpha)


@pytest.mark.parametrize("gamma", [-0.5, float("nan"), float("inf"), 1e39])
def test_bad_gamma(gamma):
    _raises(EGAMMA, X4, X4, gamma=gamma)


@pytest.mark.parametrize("reduction", ["avg", "Mean", "", None, 1])
def test_bad_reduction(reduction):
    _raises(EREDUCTION, X4, X4, reduction=reduction)


@pytest.mark.parametrize("bad", [1.5, -0.25, float("nan"), float("inf")])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_bad_target(bad, reduction):
    t = np.zeros(40000, np.float32)  # spans several kernel blocks
    t[-1] = bad
    _raises(ETARGET, np.zeros(40000, np.float32), t, reduction=reduction)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        focal.loss_and_grad(np.zeros(4), np.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        focal.loss_and_grad(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("bad", [np.zeros(3, np.complex64), np.array(["a", "b", "c"])])
def test_non_numeric_dtype(bad):
    with pytest.raises(TypeError):
        focal.loss_and_grad(bad, np.zeros(3))


def test_version():
    assert focal.version() == "%d.%d.%d" % focal.version_info
    assert focal.version_info[0] == 1


def test_strerror_ok():
    assert focal.strerror(0) != focal.strerror(12345)
