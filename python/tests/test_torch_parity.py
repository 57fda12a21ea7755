# SPDX-License-Identifier: MIT
"""focal.torch.sigmoid_focal_loss against torchvision evaluated in float64.

Our float32 loss and gradients are compared with torchvision's forward and
autograd gradient in float64 on the same float32 values, with a random
upstream gradient, under the docs/DESIGN.md §4.1 tolerances (_reference.py).
"""

import numpy as np
import pytest
import torch

from focal.torch import sigmoid_focal_loss
from _reference import (HARD_RTOL, REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close,
                        make_inputs, torchvision64)

SHAPES = [(7,), (3, 5, 33), (4, 5000)]  # tails, several dims, more than one 16K block


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.5, 2.0])
@pytest.mark.parametrize("alpha", [-1.0, 0.25, 0.9])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_parity(rng, shape, soft, alpha, gamma, reduction):
    x32, t32 = make_inputs(rng, shape, soft)
    up_shape = shape if reduction == "none" else ()
    up = rng.uniform(-2, 2, up_shape).astype(np.float32)

    x = torch.from_numpy(x32).requires_grad_()
    loss = sigmoid_focal_loss(x, torch.from_numpy(t32), alpha, gamma, reduction)
    assert loss.dtype == torch.float32 and loss.shape == up_shape
    loss.backward(torch.from_numpy(up))
    ref_loss, ref_grad = torchvision64(x32, t32, alpha, gamma, reduction, up)

    if reduction == "none":
        rtol, atol = (SOFT_RTOL, SOFT_ATOL) if soft else (HARD_RTOL, 0.0)
        assert_close(loss.detach().numpy(), ref_loss, rtol, atol, "loss")
    else:
        assert_close(loss.item(), ref_loss, REDUCED_RTOL, what="reduced loss")
    # The absolute slack of soft targets scales with everything multiplied in
    # after the per-element derivative: the upstream gradient and 1/n.
    scale = np.abs(up.astype(np.float64)) / (x32.size if reduction == "mean" else 1)
    rtol, atol = (SOFT_RTOL, SOFT_ATOL * scale) if soft else (HARD_RTOL, 0.0)
    assert_close(x.grad.numpy(), ref_grad, rtol, atol, "grad")
