# SPDX-License-Identifier: MIT
"""A short training run: logistic regression on a 1:100 imbalanced synthetic set.

The same SGD run is done twice from the same start: with torchvision's loss
in float64 (the reference trajectory) and with ours in float32. The loss
curves must agree step by step, and training must actually make progress.
"""

import math

import numpy as np
import torch
from _torchvision import sigmoid_focal_loss as tv_focal

from focal.torch import sigmoid_focal_loss

STEPS, LR, DIM = 100, 2.0, 16


def dataset():
    rng = np.random.default_rng(1234)
    n_neg, n_pos = 10000, 100
    direction = rng.standard_normal(DIM)
    direction /= np.linalg.norm(direction)
    neg = rng.standard_normal((n_neg, DIM))
    pos = rng.standard_normal((n_pos, DIM)) + 2.5 * direction
    x = np.concatenate([neg, pos]).astype(np.float32)
    y = np.concatenate([np.zeros(n_neg), np.ones(n_pos)]).astype(np.float32)
    return x, y


def train(loss_fn, dtype):
    x, y = (torch.from_numpy(a).to(dtype) for a in dataset())
    w = torch.zeros(DIM, dtype=dtype, requires_grad=True)
    # RetinaNet's prior initialisation: p(positive) = 0.01 at the start.
    b = torch.full((), -math.log(99.0), dtype=dtype, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=LR)
    curve = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(x @ w + b, y, alpha=0.25, gamma=2, reduction="mean")
        loss.backward()
        opt.step()
        curve.append(loss.item())
    return np.array(curve), w.detach().double().numpy(), float(b)


def test_training_curve_matches_torchvision():
    ours, w_ours, b_ours = train(sigmoid_focal_loss, torch.float32)
    ref, w_ref, b_ref = train(tv_focal, torch.float64)
    assert ref[-1] < 0.5 * ref[0]  # the reference run does learn something
    # float32 parameters vs float64 ones: the trajectories drift apart only by
    # accumulated float32 rounding of x @ w and of the updates.
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    np.testing.assert_allclose(w_ours, w_ref, rtol=1e-3, atol=1e-4)
    assert abs(b_ours - b_ref) < 1e-3
    assert np.all(np.diff(ours) <= 1e-7)  # monotone decrease at this step size
