# SPDX-License-Identifier: MIT
"""torchvision's sigmoid_focal_loss for the tests: the package's own function
when torchvision imports, else its expression written out here.

PyPI's torchvision pairs with one torch build per release, so some legs of the
PyTorch matrix (docs/python.md, "Supported PyTorch versions") have no
torchvision. There the tests that compare with torchvision's *values* use the
expression below (the same operations in the same order as
torchvision.ops.sigmoid_focal_loss); tests of torchvision's *API* (its
signature, its error messages) need the package and skip without it
(`needs_torchvision`). Which one ran is in pytest's header.
"""

import pytest
import torch
import torch.nn.functional as F

try:
    import torchvision.ops

    sigmoid_focal_loss = torchvision.ops.sigmoid_focal_loss
    SOURCE = f"torchvision {torchvision.__version__}"
except ImportError:
    torchvision = None

    def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
        p = torch.sigmoid(inputs)
        ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce_loss * ((1 - p_t) ** gamma)
        if alpha >= 0:
            alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
            loss = alpha_t * loss
        if reduction == "none":
            pass
        elif reduction == "mean":
            loss = loss.mean()
        elif reduction == "sum":
            loss = loss.sum()
        else:
            raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n "
                             "Supported reduction modes: 'none', 'mean', 'sum'")
        return loss

    SOURCE = "torchvision not installed: its expression, written out in the tests"

needs_torchvision = pytest.mark.skipif(torchvision is None, reason="needs the torchvision package")
