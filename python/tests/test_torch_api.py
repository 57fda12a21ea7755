# SPDX-License-Identifier: MIT
"""focal.torch.sigmoid_focal_loss: autograd wiring, no-grad path, argument errors."""

import inspect

import pytest
import torch
import _torchvision

from focal.torch import sigmoid_focal_loss


def inputs(shape=(4, 6), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g) * 3
    t = (torch.rand(shape, generator=g) < 0.3).float()
    return x, t


@_torchvision.needs_torchvision
def test_signature_matches_torchvision():
    ours = inspect.signature(sigmoid_focal_loss).parameters
    theirs = inspect.signature(_torchvision.sigmoid_focal_loss).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


def test_default_reduction_is_none():
    x, t = inputs()
    assert sigmoid_focal_loss(x, t).shape == x.shape


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_forward_only_paths_store_nothing(reduction):
    x, t = inputs()
    plain = sigmoid_focal_loss(x, t, reduction=reduction)  # inputs without grad
    assert plain.grad_fn is None and not plain.requires_grad
    xg = x.clone().requires_grad_()
    with torch.no_grad():
        nograd = sigmoid_focal_loss(xg, t, reduction=reduction)
    assert nograd.grad_fn is None and not nograd.requires_grad
    tracked = sigmoid_focal_loss(xg, t, reduction=reduction)
    assert tracked.grad_fn is not None
    # The forward-only call (grad=NULL) gives the same bits as the fused one.
    assert torch.equal(plain, tracked.detach()) and torch.equal(plain, nograd)


def test_backward_scales_stored_gradient():
    x, t = inputs()
    x.requires_grad_()
    sigmoid_focal_loss(x, t, reduction="sum").backward()
    g1 = x.grad.clone()
    x.grad = None
    (3 * sigmoid_focal_loss(x, t, reduction="sum")).backward()
    assert torch.allclose(x.grad, 3 * g1, rtol=1e-6, atol=0)
    x.grad = None
    up = torch.randn(x.shape)
    sigmoid_focal_loss(x, t, reduction="none").backward(up)
    assert torch.allclose(x.grad, g1 * up, rtol=1e-6, atol=0)


def test_retain_graph_backward_twice():
    x, t = inputs()
    x.requires_grad_()
    loss = sigmoid_focal_loss(x, t, reduction="mean")
    loss.backward(retain_graph=True)
    once = x.grad.clone()
    loss.backward()
    assert torch.equal(x.grad, 2 * once)


def test_targets_get_no_gradient():
    x, t = inputs()
    x.requires_grad_()
    t.requires_grad_()
    sigmoid_focal_loss(x, t, reduction="mean").backward()
    assert x.grad is not None and t.grad is None


def test_targets_requiring_grad_alone_are_forward_only():
    x, t = inputs()
    loss = sigmoid_focal_loss(x, t.requires_grad_(), reduction="sum")
    assert loss.grad_fn is None


def test_non_contiguous_inputs():
    base = (torch.randn(6, 9) * 3).requires_grad_()
    t = (torch.rand(9, 6) < 0.5).float()
    x = base.t()  # non-contiguous view
    ours = sigmoid_focal_loss(x, t, reduction="none")
    ours.sum().backward()
    ref = sigmoid_focal_loss(x.detach().contiguous().requires_grad_(), t.contiguous(),
                             reduction="none")
    assert torch.equal(ours.detach(), ref.detach())
    x2 = x.detach().contiguous().requires_grad_()
    sigmoid_focal_loss(x2, t, reduction="sum").backward()
    assert torch.equal(base.grad, x2.grad.t())


def test_used_inside_a_graph():
    # Gradient flows through our op into earlier layers.
    lin = torch.nn.Linear(5, 3)
    feats = torch.randn(8, 5)
    t = (torch.rand(8, 3) < 0.2).float()
    sigmoid_focal_loss(lin(feats), t, reduction="mean").backward()
    ours = lin.weight.grad.clone()
    lin.zero_grad()
    _torchvision.sigmoid_focal_loss(lin(feats), t, reduction="mean").backward()
    assert torch.allclose(ours, lin.weight.grad, rtol=1e-4, atol=1e-7)


def test_no_double_backward():
    x, t = inputs()
    x.requires_grad_()
    (g,) = torch.autograd.grad(sigmoid_focal_loss(x, t, reduction="sum"), x,
                               create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()


def test_empty():
    x = torch.zeros(0, 4, requires_grad=True)
    t = torch.zeros(0, 4)
    assert torch.isnan(sigmoid_focal_loss(x, t, reduction="mean"))
    loss = sigmoid_focal_loss(x, t, reduction="sum")
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad.shape == (0, 4)


def test_rejects_float64_naming_the_supported_dtypes():
    # float64 is refused rather than silently computed in float32 (the
    # library's precision): docs/DESIGN.md §5.2.
    x, t = inputs()
    msg = "float32, bfloat16 or float16 .*got torch.float64"
    with pytest.raises(TypeError, match=msg):
        sigmoid_focal_loss(x.double(), t)
    with pytest.raises(TypeError, match=msg):
        sigmoid_focal_loss(x, t.double())


def test_rejects_integer_targets_and_non_tensors():
    x, t = inputs()
    with pytest.raises(TypeError):
        sigmoid_focal_loss(x, t.long())
    with pytest.raises(TypeError):
        sigmoid_focal_loss(x.numpy(), t)


def test_rejects_non_cpu_device():
    x, t = inputs()
    with pytest.raises(ValueError, match="CPU"):
        sigmoid_focal_loss(x.to("meta"), t.to("meta"))
    with pytest.raises(ValueError, match="CPU"):
        sigmoid_focal_loss(x, t.to("meta"))


def test_rejects_shape_mismatch():
    x, t = inputs()
    with pytest.raises(ValueError, match="shape"):
        sigmoid_focal_loss(x, t[:, :3])
    with pytest.raises(ValueError, match="shape"):  # no broadcasting, as torchvision
        sigmoid_focal_loss(x, t[:1])


@pytest.mark.parametrize("kwargs", [dict(reduction="avg"), dict(alpha=2.0),
                                    dict(gamma=-1.0), dict(gamma=float("nan"))])
@pytest.mark.parametrize("grad", [False, True])
def test_rejects_bad_arguments(kwargs, grad):
    x, t = inputs()
    x.requires_grad_(grad)
    with pytest.raises(ValueError):
        sigmoid_focal_loss(x, t, **kwargs)


@pytest.mark.parametrize("grad", [False, True])
def test_rejects_targets_outside_unit_interval(grad):
    x, t = inputs()
    x.requires_grad_(grad)
    t[1, 2] = 1.25
    with pytest.raises(ValueError, match="target"):
        sigmoid_focal_loss(x, t, reduction="mean")
