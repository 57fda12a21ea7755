# SPDX-License-Identifier: MIT
"""Float64 references and tolerance checks shared by the tests.

Tolerances come from docs/DESIGN.md §4.1 (accuracy contract against float64):
hard targets 1e-5 relative per element; soft targets 3e-5 relative + 1e-6
absolute; reduced losses 1e-6 relative. SLACK adds a few float32 roundings
that happen outside the kernel's contract (the float32 output of a reduced
loss, the 1/n of "mean", the upstream-gradient product in backward).
"""

import numpy as np
import torch
from _torchvision import sigmoid_focal_loss as tv_focal

SLACK = 3 * 2.0**-23
TINY = np.finfo(np.float32).tiny  # values below this are not "normal floats"
HARD_RTOL = 1e-5 + SLACK
SOFT_RTOL, SOFT_ATOL = 3e-5 + SLACK, 1e-6
REDUCED_RTOL = 1e-6 + SLACK


def make_inputs(rng, shape, soft, scale=3.0):
    x = (rng.standard_normal(shape) * scale).astype(np.float32)
    if soft:
        t = rng.random(shape).astype(np.float32)
        t.flat[::7] = 0.0  # soft sets still contain exact 0 and 1
        t.flat[3::7] = 1.0
    else:
        t = (rng.random(shape) < 0.3).astype(np.float32)
    return x, t


def torchvision64(x32, t32, alpha, gamma, reduction, upstream=None):
    """torchvision's loss in float64 on the float32 values, and d(upstream . loss)/dx."""
    x = torch.from_numpy(np.asarray(x32, np.float64)).requires_grad_()
    t = torch.from_numpy(np.asarray(t32, np.float64))
    loss = tv_focal(x, t, alpha=alpha, gamma=gamma, reduction=reduction)
    up = torch.ones_like(loss)
    if upstream is not None:
        up = torch.as_tensor(upstream, dtype=torch.float64)
    (grad,) = torch.autograd.grad(loss, x, up)
    return loss.detach().numpy(), grad.numpy()


def stable64(x, t, alpha, gamma):
    """Per-element loss and d loss/dx from the stable forms of docs/DESIGN.md §2.1, in float64."""
    x, t = np.asarray(x, np.float64), np.asarray(t, np.float64)
    e = np.exp(-np.abs(x))
    l, r = np.log1p(e), 1.0 / (1.0 + e)
    p = np.where(x >= 0, r, e * r)
    pc = np.where(x >= 0, e * r, r)
    ce = t * (np.maximum(-x, 0) + l) + (1 - t) * (np.maximum(x, 0) + l)
    q = t * pc + (1 - t) * p
    at = np.ones_like(x) if alpha < 0 else alpha * t + (1 - alpha) * (1 - t)
    qg = q**gamma
    with np.errstate(invalid="ignore", divide="ignore"):
        ppq = np.where(t == 1, p, np.where(t == 0, pc, p * pc / q))
    grad = at * qg * ((p * (1 - t) - t * pc) - gamma * ppq * (2 * t - 1) * ce)
    return at * qg * ce, grad


def assert_close(ours, ref, rtol, atol=0.0, what="value"):
    """|ours - ref| <= atol + rtol |ref| elementwise; values below TINY get TINY slack."""
    ours = np.asarray(ours, np.float64)
    ref = np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, (what, ours.shape, ref.shape)
    bound = np.asarray(atol, np.float64) + rtol * np.abs(ref) + TINY
    err = np.abs(ours - ref)
    bad = ~(err <= bound)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        worst = np.max(err / np.maximum(bound, TINY))
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} outside tolerance (rtol={rtol:g}); "
            f"first at flat index {i}: ours={ours.ravel()[i]!r} ref={ref.ravel()[i]!r}; "
            f"worst err/bound={worst:.3g}")


def one_hot64(labels, classes):
    """Float64 one-hot of class indices; background (== classes) and ignored
    (< 0) rows are all zero."""
    labels = np.asarray(labels)
    t = np.zeros((labels.size, classes))
    hit = (labels >= 0) & (labels < classes)
    t[np.flatnonzero(hit), labels[hit]] = 1.0
    return t


def smooth(t, ls):
    """Label smoothing as the library applies it: fma(t, 1 - ls, ls / 2) in float32."""
    if ls == 0:
        return np.asarray(t, np.float64)
    ls = np.float32(ls)
    keep, add = np.float32(1) - ls, ls * np.float32(0.5)
    # The product of two floats is exact in float64: one rounding, as fma.
    return (np.asarray(t, np.float64) * keep + add).astype(np.float32).astype(np.float64)


def focal64(x, t, alpha, gamma, class_alpha=None):
    """Per-element focal loss in float64 torch ops (differentiable): torchvision
    itself, or the same formula by hand with one alpha per class (last axis)."""
    if class_alpha is None:
        return tv_focal(x, t, alpha=alpha, gamma=gamma, reduction="none")
    ca = torch.as_tensor(np.asarray(class_alpha, np.float64))
    p = torch.sigmoid(x)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    a_t = ca * t + (1 - ca) * (1 - t)
    return a_t * (1 - p_t) ** gamma * ce


def rows64(x32, labels=None, targets=None, alpha=0.25, gamma=2.0, reduction="mean",
           normalizer=0.0, label_smoothing=0.0, class_alpha=None, weight=None, upstream=None):
    """The 1.1 calls in float64: one-hot expansion of labels (or dense targets),
    smoothing, per-class alpha, row weights, ignored rows, normalizer.
    Returns (loss, d(upstream . loss)/dx) as numpy float64."""
    rows, classes = np.shape(x32)
    if labels is not None:
        t = one_hot64(labels, classes)
        keep = (np.asarray(labels) >= 0) * 1.0
    else:
        t = np.asarray(targets, np.float64)
        keep = np.ones(rows)
    x = torch.from_numpy(np.asarray(x32, np.float64)).requires_grad_()
    t = torch.from_numpy(smooth(t, label_smoothing))
    loss = focal64(x, t, alpha, gamma, class_alpha)
    w = keep if weight is None else keep * np.asarray(weight, np.float64)
    loss = loss * torch.from_numpy(w)[:, None]
    if reduction != "none":
        divisor = 1.0 if reduction == "sum" else keep.sum() * classes
        loss = loss.sum() / (normalizer if normalizer > 0 else divisor)
    up = torch.ones_like(loss) if upstream is None else torch.as_tensor(upstream, dtype=torch.float64)
    (grad,) = torch.autograd.grad(loss, x, up)
    return loss.detach().numpy(), grad.numpy()
