# SPDX-License-Identifier: MIT
"""Gradient checks of the torch wrapper by finite differences.

torch.autograd.gradcheck wants float64 inputs, and our op is float32 only.
So the checked function casts: f(x64) = ours(x64.float()).double(). The cast
is differentiable, so gradcheck compares our analytic gradient with central
differences of our own float32 forward. To keep that numeric side honest,
logits are multiples of eps = 2**-7 in (-4, 4), so x +- eps is exact in
float32. What remains: the float32 rounding of the loss, a few ulp(f) / (2 eps)
~ 2e-5 |f| (|f| < 8 with 8 elements), and truncation, eps**2 / 6 * f''' < 1e-5.
Hence atol 5e-4, rtol 1e-3: loose, but it catches any wrong term or scale.

test_against_float64_central_differences is the strict version: central
differences of the float64 torchvision forward (no autograd, eps 1e-6,
error ~1e-9), against our gradient at the contract tolerance.
"""

import numpy as np
import pytest
import torch
from _torchvision import sigmoid_focal_loss as tv_focal

from focal.torch import sigmoid_focal_loss
from _reference import HARD_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close

EPS = 2.0**-7


def grid_logits(rng, n):
    return torch.from_numpy(rng.integers(-511, 512, n) * EPS)  # float64, exact in float32


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 0.5), (0.9, 1.5), (0.25, 0.0)])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_gradcheck(rng, soft, alpha, gamma, reduction):
    n = 8
    x = grid_logits(rng, n).requires_grad_()
    t = torch.from_numpy(rng.random(n) if soft else (rng.random(n) < 0.5) * 1.0).float()

    def f(x64):
        return sigmoid_focal_loss(x64.float(), t, alpha, gamma, reduction).double()

    assert torch.autograd.gradcheck(f, (x,), eps=EPS, atol=5e-4, rtol=1e-3)


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 0.5), (0.9, 1.5), (0.5, 0.0)])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_against_float64_central_differences(rng, soft, alpha, gamma):
    n = 500
    x32 = (rng.standard_normal(n) * 3).astype(np.float32)
    t32 = (rng.random(n) if soft else (rng.random(n) < 0.5) * 1.0).astype(np.float32)
    x = torch.from_numpy(x32).requires_grad_()
    sigmoid_focal_loss(x, torch.from_numpy(t32), alpha, gamma, "sum").backward()

    x64, t64 = torch.from_numpy(x32.astype(np.float64)), torch.from_numpy(t32.astype(np.float64))
    h = 1e-6
    with torch.no_grad():
        up = tv_focal(x64 + h, t64, alpha, gamma, "none")
        down = tv_focal(x64 - h, t64, alpha, gamma, "none")
    numeric = ((up - down) / (2 * h)).numpy()
    rtol, atol = (SOFT_RTOL, SOFT_ATOL) if soft else (HARD_RTOL, 0.0)
    # + 1e-8 absolute: the truncation and rounding error of the differences.
    assert_close(x.grad.numpy(), numeric, rtol, atol + 1e-8, "grad vs central differences")
