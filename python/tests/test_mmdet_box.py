# SPDX-License-Identifier: MIT
"""focal.torch's IoULoss, GIoULoss, DIoULoss, CIoULoss, SmoothL1Loss and
L1Loss against mmdet 3.3.

Each case runs our module on float32 boxes and the mmdet expression of
_mmdet_reference.py on the same values twice: in float32 (or the case's low
precision) for the result's dtype and shape, in float64 for the values.
Loss, the gradient of pred and, for a weight that requires grad, the
weight's (with a random upstream gradient) are compared within the
accuracy contract of _reference.py. The inputs are multiples of 1/8 (exact
in bfloat16 and float16 too) and include identical boxes, shared edges
(min / max ties), boxes that touch (an extent exactly 0: the clamp's bound,
where the gradient follows the rule the library documents, as the
reference's clamp does on every PyTorch), disjoint, nested, zero-area and
inverted boxes.
"""

import warnings

import numpy as np
import pytest
import torch

import _mmdet_reference as mm
from _reference import REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close
from focal import _lib
from focal.torch import CIoULoss, DIoULoss, GIoULoss, IoULoss, L1Loss, SmoothL1Loss
from focal.torch import _compile

pytestmark = pytest.mark.skipif(not _lib.has("box_iou", "smooth_l1"),
                                reason="the box regression losses need libfocal 1.5")

N = 40
REDUCTIONS = [None, "none", "sum", "mean"]  # reduction_override (None: the module's "mean")
AVG = [None, 6.0, "0d", "(1,)"]
# Reduced losses: the library sums in double, torch (the generic weight
# path) in float32: a few float32 roundings of a short sum.
REDUCED = REDUCED_RTOL + 8 * 2.0**-23

# name -> (our module, the reference's keyword arguments)
MODULES = {
    "IoULoss": (lambda: IoULoss(loss_weight=0.75), dict(module="iou", loss_weight=0.75)),
    "IoULoss_linear": (lambda: IoULoss(mode="linear", eps=0.01),
                       dict(module="iou", mode="linear", eps=0.01)),
    "IoULoss_square": (lambda: IoULoss(mode="square"), dict(module="iou", mode="square")),
    "GIoULoss": (lambda: GIoULoss(eps=1e-6), dict(module="giou")),
    "DIoULoss": (lambda: DIoULoss(eps=1e-3, loss_weight=2.0),
                 dict(module="diou", eps=1e-3, loss_weight=2.0)),
    "CIoULoss": (lambda: CIoULoss(), dict(module="ciou")),
    "SmoothL1Loss": (lambda: SmoothL1Loss(beta=0.25, loss_weight=1.5),
                     dict(module="smooth_l1", beta=0.25, loss_weight=1.5)),
    "L1Loss": (lambda: L1Loss(), dict(module="l1")),
}
ELEMENTWISE = ("SmoothL1Loss", "L1Loss")


def avg_value(avg, dtype=torch.float32):
    if avg == "0d":
        return torch.tensor(7.0, dtype=dtype)
    if avg == "(1,)":
        return torch.tensor([7.0], dtype=dtype)
    return avg


# ---- inputs ------------------------------------------------------------------------


def eighths(rng, lo, hi, shape):
    return rng.integers(int(lo * 8), int(hi * 8), shape) / 8.0


def box_pairs(rng, n=N):
    """(pred, target) float32 (n, 4) boxes x1 y1 x2 y2, n >= 14: most of them
    near each other (IoU above and below 0.5, for CIoU's gate), then the
    special rows. Every coordinate is k / 8 with |k| < 256."""
    xy = eighths(rng, -8, 8, (n, 2))
    p = np.concatenate([xy, xy + eighths(rng, 0.5, 6, (n, 2))], 1)
    txy = p[:, :2] + eighths(rng, -1.5, 1.5, (n, 2))
    t = np.concatenate([txy, np.maximum(p[:, 2:] + eighths(rng, -1.5, 1.5, (n, 2)),
                                        txy + 0.125)], 1)
    w = p[:, 2:] - p[:, :2]
    t[0:3] = p[0:3]                                          # identical
    t[3] = p[3] + [0, 0, 1, 2]                               # shares x1, y1 (max ties)
    t[4] = p[4] - [1, 0.5, 0, 0]                             # shares x2, y2 (min ties)
    t[5] = p[5] + [w[5, 0], 0, w[5, 0], 0]                   # touches at x: extent 0
    t[6] = p[6] + [w[6, 0], w[6, 1], w[6, 0], w[6, 1]]       # touches at a corner
    t[7] = p[7] + [10, -10, 10, -10]                         # disjoint
    t[8] = p[8] + [0.125, 0.125, -0.125, -0.125]             # inside pred
    t[8, 2:] = np.maximum(t[8, 2:], t[8, :2])
    p[9, 2] = p[9, 0]                                        # pred of zero width
    t[10, 3] = t[10, 1]                                      # target of zero height
    p[11] = t[11] = [1.0, 1.0, 1.0, 1.0]                     # two identical points
    p[12, [0, 2]] = p[12, [2, 0]]                            # pred inverted in x
    t[13] = [p[13, 0] - 1, p[13, 1] + 0.5, p[13, 2] + 1, p[13, 3] - 0.25]  # crosses pred
    return p.astype(np.float32), t.astype(np.float32)


def value_pairs(rng, shape=(N, 4), beta=0.25):
    """(pred, target) for (smooth) L1: differences of every size, exactly 0
    and exactly +-beta among them."""
    p = np.asarray(eighths(rng, -4, 4, shape), np.float32)
    d = np.asarray(eighths(rng, -1, 1, shape))
    flat = d.reshape(-1)
    flat[::7] = 0.0
    flat[1::9] = beta
    flat[2::11] = -beta
    return p, (p + d).astype(np.float32)


def inputs(rng, name, shape=None):
    if name in ELEMENTWISE:
        return value_pairs(rng, (N, 4) if shape is None else shape)
    p, t = box_pairs(rng, int(np.prod(shape[:-1])) if shape else N)
    return (p, t) if shape is None else (p.reshape(shape), t.reshape(shape))


WEIGHTS = ["none", "per-box", "(n,4)", "nonpositive", "(n,4) grad"]


def make_weight(rng, kind, pred_shape, elementwise):
    """per-box: (n,) for the IoU family, (n, 1) for (smooth) L1 (their
    loss is (n, 4)); nonpositive: 0 with some negative values, mmdet's
    early exit."""
    if kind == "none":
        return None
    lead = pred_shape[:-1]
    shape = pred_shape if kind.startswith("(n,4)") else (
        lead + (1,) if elementwise else lead)
    if kind == "nonpositive":
        shape = pred_shape if elementwise else lead
        w = np.zeros(shape)
        w.reshape(-1)[::3] = -rng.uniform(0.5, 1.5, w.reshape(-1)[::3].shape)
    else:
        w = np.asarray(rng.uniform(0, 2, shape))
        w.reshape(-1)[1::5] = 0.0
    return torch.from_numpy(w.astype(np.float32)).requires_grad_(kind.endswith("grad"))


# ---- the comparison ----------------------------------------------------------------


def check(rng, ours, ref, pred32, target32, weight=None, what=""):
    """ours(pred, target, weight): our loss; ref(pred, target, weight, dtype):
    mmdet's expression. Compares dtype and shape (float32 run of ref),
    values and gradients (float64 run)."""
    wants_grad = weight is not None and weight.requires_grad

    def w_in(dtype):
        return None if weight is None else weight.detach().to(dtype).requires_grad_(wants_grad)

    t32 = torch.from_numpy(target32)
    try:
        want = ref(torch.from_numpy(pred32), t32, w_in(torch.float32), torch.float32)
    except (ValueError, AssertionError, RuntimeError) as exc:
        # "sum" with avg_factor, a batched per-box weight (mmdet asserts a
        # >1-D weight is shaped like pred), one that does not broadcast in
        # mmdet's exit: mmdet's error, and ours
        with pytest.raises(type(exc)):
            ours(torch.from_numpy(pred32), t32, weight)
        return None
    x = torch.from_numpy(pred32).requires_grad_()
    w = w_in(torch.float32)
    loss = ours(x, t32, w)
    assert loss.dtype == want.dtype and loss.shape == want.shape, (what, loss, want)
    up = torch.from_numpy(rng.uniform(-2, 2, tuple(loss.shape)))
    x64 = torch.from_numpy(pred32.astype(np.float64)).requires_grad_()
    w64 = w_in(torch.float64)
    ref64 = ref(x64, torch.from_numpy(target32.astype(np.float64)), w64, torch.float64)
    if loss.requires_grad:
        loss.backward(up.to(loss.dtype))
    if ref64.requires_grad:
        ref64.backward(up)
    assert (x.grad is None) == (x64.grad is None), what
    scale = float(np.abs(ref64.detach().numpy()).max(initial=0.0))
    if loss.dim() == 0 and weight is not None and not torch.any(weight > 0):
        # mmdet's exit, (pred * weight).sum(): its float32 expression's bits
        # (a sum of terms of both signs, whose float64 value is no measure)
        assert torch.equal(loss.detach(), want), what
    elif loss.dim() and loss.numel() > 1:
        assert_close(loss.detach().numpy(), ref64.detach().numpy(), SOFT_RTOL,
                     SOFT_ATOL * scale, what + " loss")
    else:
        assert_close(loss.detach().numpy(), ref64.detach().numpy(), REDUCED, 0.0,
                     what + " reduced loss")
    for ours_grad, ref_grad, name in ((x.grad, x64.grad, "grad"),
                                      (w.grad if wants_grad else None,
                                       w64.grad if wants_grad else None, "weight grad")):
        if ref_grad is None:
            continue
        g = ref_grad.numpy()
        assert_close(ours_grad.numpy(), g, SOFT_RTOL, SOFT_ATOL * np.abs(g).max(initial=0.0),
                     f"{what} {name}")
    return loss


def reference(name, avg, override):
    """mmdet's forward of the module of MODULES[name] as ref(x, t, w, dtype)."""
    kwargs = dict(MODULES[name][1])
    module = kwargs.pop("module")

    def ref(x, t, w, dtype):
        return mm.box_module_loss(module, x, t, w, avg_value(avg, dtype), override, **kwargs)

    return ref


@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("wkind", WEIGHTS)
@pytest.mark.parametrize("name", sorted(MODULES))
def test_module(rng, name, wkind, override):
    pred, target = inputs(rng, name)
    weight = make_weight(rng, wkind, pred.shape, name in ELEMENTWISE)
    module = MODULES[name][0]()
    for avg in AVG:
        check(rng, lambda x, t, w: module(x, t, w, avg_value(avg), override),
              reference(name, avg, override), pred, target, weight,
              f"{name} {wkind} {override} {avg}")


# Every input rank mmdet takes: bbox_overlaps' batch dims for the IoU loss
# and GIoU, any shape for (smooth) L1 (DIoU and CIoU index pred[:, k]: 2-D).
RANKED = [("IoULoss", (3, 7, 4)), ("IoULoss_square", (2, 2, 5, 4)), ("GIoULoss", (3, 7, 4)),
          ("SmoothL1Loss", (13,)), ("SmoothL1Loss", (2, 6, 4)), ("L1Loss", (3, 2, 5)),
          ("L1Loss", ())]


@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("wkind", ["none", "(n,4)", "(n,4) grad", "nonpositive"])
@pytest.mark.parametrize("name,shape", RANKED, ids=str)
def test_every_rank(rng, name, shape, wkind, override):
    pred, target = inputs(rng, name, shape)
    pred, target = np.asarray(pred, np.float32), np.asarray(target, np.float32)
    weight = make_weight(rng, wkind, tuple(shape), name in ELEMENTWISE)
    module = MODULES[name][0]()
    for avg in (None, "0d"):
        check(rng, lambda x, t, w: module(x, t, w, avg_value(avg), override),
              reference(name, avg, override), pred, target, weight,
              f"{name} {shape} {wkind} {override} {avg}")


# ---- low precision -----------------------------------------------------------------

LOW = [torch.bfloat16, torch.float16]


@pytest.mark.parametrize("target_dtype", ["same", "float32"])
@pytest.mark.parametrize("wkind", ["none", "per-box", "(n,4) grad"])
@pytest.mark.parametrize("override", ["none", "mean"])
@pytest.mark.parametrize("dtype", LOW, ids=str)
@pytest.mark.parametrize("name", sorted(MODULES))
def test_low_precision(rng, name, dtype, override, wkind, target_dtype):
    # The inputs are exact in the low precision: the loss and gradient are
    # the float32 call's, rounded once; the loss's dtype is the one mmdet's
    # expression gives (float32 for CIoU, whose alpha is float32; float16
    # for a float16 pred in the IoU loss and GIoU, computed in float32 and
    # cast back), where that expression runs on this PyTorch's CPU.
    pred32, target32 = inputs(rng, name)
    tdt = dtype if target_dtype == "same" else torch.float32
    weight = make_weight(rng, wkind, pred32.shape, name in ELEMENTWISE)
    module = MODULES[name][0]()
    ref = reference(name, "0d", override)
    x = torch.from_numpy(pred32).to(dtype).requires_grad_()
    t = torch.from_numpy(target32).to(tdt)
    w = None if weight is None else weight.detach().requires_grad_(weight.requires_grad)
    loss = module(x, t, w, avg_value("0d"), override)
    try:
        want = ref(x.detach(), t, None if weight is None else weight.detach(), torch.float32)
    except RuntimeError as exc:  # e.g. PyTorch 1.13: no float16 log / clamp on the CPU
        assert dtype == torch.float16 and "Half" in str(exc), exc
    else:
        assert loss.dtype == want.dtype and loss.shape == want.shape, (loss.dtype, want.dtype)
    up = torch.from_numpy(rng.uniform(-2, 2, tuple(loss.shape)))
    loss.backward(up.to(loss.dtype))
    x64 = torch.from_numpy(pred32.astype(np.float64)).requires_grad_()
    ref64 = ref(x64, torch.from_numpy(target32.astype(np.float64)),
                None if weight is None else weight.detach().double(), torch.float64)
    ref64.backward(up)
    # mmdet's loss may be rounded to the low precision before a float32
    # weight promotes it: the low precision's rounding, once.
    eps = torch.finfo(dtype).eps
    # below the dtype's normal range its spacing is fixed: the subnormals'
    # (float16: 6e-8), which a value rounded once may be off by half of
    sub = torch.finfo(dtype).tiny * eps
    scale = float(np.abs(ref64.detach().numpy()).max(initial=0.0))
    assert_close(loss.detach().double().numpy(), ref64.detach().numpy(), eps + SOFT_RTOL,
                 SOFT_ATOL * scale + sub, "loss")
    g = x64.grad.numpy()
    assert x.grad.dtype == dtype
    # the gradient is rounded twice: the upstream gradient to the loss's
    # dtype (the float64 reference takes it exact), then the result
    assert_close(x.grad.double().numpy(), g, 2 * eps + SOFT_RTOL,
                 SOFT_ATOL * np.abs(g).max(initial=0.0) + sub, "grad")


# ---- mmdet's particulars -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODULES))
def test_nonpositive_weight_exit(rng, name):
    # mmdet returns (pred * weight).sum() for a weight with no positive
    # element, before loss_weight: GIoU, DIoU, CIoU and (smooth) L1 for
    # every reduction ("none" too: a 0-d loss), IoULoss except for "none".
    pred, target = inputs(rng, name)
    module = MODULES[name][0]()
    x = torch.from_numpy(pred).requires_grad_()
    w = torch.zeros(pred.shape if name in ELEMENTWISE else pred.shape[:1])
    w[::4] = -0.5
    for override in REDUCTIONS:
        loss = module(x, torch.from_numpy(target), w, reduction_override=override)
        exits = override != "none" or not name.startswith("IoULoss")
        assert (loss.dim() == 0) == exits, (override, loss.shape)
        if exits:
            want = (x * (w if w.dim() == 2 else w[:, None])).sum()
            assert torch.equal(loss, want)
            (g,) = torch.autograd.grad(loss, x)
            assert torch.equal(g, (w if w.dim() == 2 else w[:, None]).expand_as(x))
    # The exit comes before GIoU's override assertion (IoULoss asserts first).
    if not name.startswith("IoULoss"):
        assert module(x, torch.from_numpy(target), w, reduction_override="avg").dim() == 0
    else:
        with pytest.raises(AssertionError, match="reduction_override"):
            module(x, torch.from_numpy(target), w, reduction_override="avg")


def test_iou_loss_linear_is_the_deprecated_mode(rng):
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng))
    with pytest.warns(UserWarning, match="linear"):
        module = IoULoss(linear=True)
    assert module.mode == "linear" and module.linear
    linear = IoULoss(mode="linear")(pred, target)
    assert torch.equal(module(pred, target), linear)
    with pytest.warns(UserWarning, match="linear"):
        assert torch.equal(IoULoss()(pred, target, linear=True), linear)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IoULoss()(pred, target)
    with pytest.raises(AssertionError, match="mode"):
        IoULoss(mode="exp")
    module = IoULoss()
    module.mode = "exp"  # mmdet's iou_loss asserts it again
    with pytest.raises(AssertionError, match="mode"):
        module(pred, target)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_boxes(name):
    # mmdet's bbox_overlaps gives a new, empty IoU for no boxes: the IoU
    # loss's and GIoU's result is not a function of pred; DIoU's and CIoU's
    # is. (Smooth) L1 of an empty target is pred.sum() * 0, a 0-d zero for
    # every reduction ("none" included).
    module = MODULES[name][0]()
    kwargs = {k: v for k, v in MODULES[name][1].items() if k != "module"}
    x = torch.zeros(0, 4, requires_grad=True)
    t = torch.zeros(0, 4)
    for override in ["none", "sum", "mean"]:
        loss = module(x, t, reduction_override=override)
        want = mm.box_module_loss(MODULES[name][1]["module"], x, t, None, None, override,
                                  **kwargs)
        assert loss.shape == want.shape and loss.dtype == want.dtype
        assert loss.requires_grad == want.requires_grad, override
        torch.testing.assert_close(loss, want, equal_nan=True)
        if loss.requires_grad:
            (g,) = torch.autograd.grad(loss.sum(), x)
            assert g.shape == x.shape
    if name in ELEMENTWISE:
        x = torch.ones(3, 4, requires_grad=True)
        loss = module(x, torch.zeros(0), avg_factor=3.0)
        assert loss.shape == () and loss.item() == 0.0
        (g,) = torch.autograd.grad(loss, x)
        assert torch.equal(g, torch.zeros(3, 4))


def test_ciou_of_identical_boxes_is_finite():
    # mmdet's float32 CIoU divides 0 by 0 in alpha for identical boxes whose
    # union + eps rounds to the union (areas above ~16): NaN. The library's
    # alpha is 0 where v = 0 (alpha v is 0 there anyway): the float64 value.
    boxes = torch.tensor([[0.0, 0.0, 8.0, 4.0], [1.0, 2.0, 3.0, 3.0]])
    assert torch.isnan(mm.ciou_loss_boxes(boxes, boxes)[0])
    x = boxes.clone().requires_grad_()
    loss = CIoULoss(reduction="none")(x, boxes)
    want = mm.ciou_loss_boxes(boxes.double(), boxes.double())
    assert torch.isfinite(loss).all()
    assert_close(loss.detach().numpy(), want.numpy(), 0.0, 1e-6)
    loss.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_non_finite_values():
    # The library's rules (DESIGN §2.8), where mmdet's expressions differ:
    # a NaN element has a NaN gradient (mmdet's L1: abs's 0), an infinite
    # difference the gradient +-1 (mmdet's smooth L1: NaN, from the other
    # branch of its where); a NaN coordinate makes its box NaN, as mmdet.
    x = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.5], requires_grad=True)
    for module in (L1Loss(reduction="none"), SmoothL1Loss(reduction="none")):
        loss = module(x, torch.zeros(4))
        (g,) = torch.autograd.grad(loss.sum(), x)
        assert torch.isnan(loss[0]) and torch.isinf(loss[1:3]).all()
        assert torch.isnan(g[0]) and g[1:3].tolist() == [1.0, -1.0]
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, float("nan"), 2.0]],
                        requires_grad=True)
    target = torch.tensor([[1.0, 1.0, 3.0, 3.0]] * 2)
    for name in ("IoULoss", "GIoULoss", "DIoULoss", "CIoULoss"):
        loss = MODULES[name][0]()(pred, target, reduction_override="none")
        (g,) = torch.autograd.grad(loss.sum(), pred)
        assert torch.isfinite(loss[0]) and torch.isnan(loss[1]), name
        assert torch.isfinite(g[0]).all() and torch.isnan(g[1]).all(), name

def test_weight_gradient_and_avg_tensor_gradient(rng):
    # Weights and avg_factor that require grad go through torch: mmdet's
    # gradients for both.
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng))
    for name in ["GIoULoss", "CIoULoss"]:
        w32 = torch.from_numpy(rng.uniform(0, 2, (N, 4)).astype(np.float32)).requires_grad_()
        a32 = torch.tensor(5.0, requires_grad=True)
        MODULES[name][0]()(pred, target, w32, a32).backward()
        w64 = w32.detach().double().requires_grad_()
        a64 = a32.detach().double().requires_grad_()
        mm.box_module_loss(MODULES[name][1]["module"], pred.double(), target.double(), w64,
                           a64).backward()
        assert_close(w32.grad.numpy(), w64.grad.numpy(), SOFT_RTOL, SOFT_ATOL, "weight grad")
        assert_close(a32.grad.numpy(), a64.grad.numpy(), SOFT_RTOL, 0.0, "avg_factor grad")


def test_avg_factor_divides_the_library_sum(rng):
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng))
    pred.requires_grad_()
    eps = torch.finfo(torch.float32).eps
    for module in (GIoULoss(), SmoothL1Loss(beta=0.5)):
        total = module(pred, target, reduction_override="sum")
        (g_total,) = torch.autograd.grad(total, pred)
        for avg in [3.0, 0.0, torch.tensor(3.0), torch.tensor([3.0]), 5]:
            got = module(pred, target, avg_factor=avg)
            want = total / (avg + eps)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert_close(got.detach().numpy(), want.detach().numpy(), 2.0**-23, what=str(avg))
            (g,) = torch.autograd.grad(got, pred)
            d = np.float32(float(avg + eps))
            assert_close(g.numpy(), g_total.numpy() / d, 2 * 2.0**-23, what=str(avg))


def test_errors(rng):
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng, 16))
    for name, (make, _) in MODULES.items():
        module = make()
        with pytest.raises(ValueError, match="avg_factor"):
            module(pred, target, avg_factor=3.0, reduction_override="sum")
        with pytest.raises(AssertionError, match="reduction_override"):
            module(pred, target, reduction_override="avg")
        with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
            module(pred.double(), target)
        with pytest.raises(AssertionError):
            module(pred, target[:5])
        module.reduction = "avg"  # mmdet checks it in reduce_loss
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            module(pred, target)
        with pytest.raises(ValueError):
            type(module)(reduction="avg")
        assert "loss_weight=" in repr(module), name
    for module in (DIoULoss(), CIoULoss()):
        with pytest.raises(ValueError, match="2-D"):
            module(pred.reshape(2, 8, 4), target.reshape(2, 8, 4))
    for module in (IoULoss(), GIoULoss()):
        with pytest.raises(AssertionError):  # mmdet: a >1-D weight must be shaped like pred
            module(pred.reshape(2, 8, 4), target.reshape(2, 8, 4), torch.ones(2, 8))
        with pytest.raises(IndexError):
            module(pred[0], target[0])
    # SmoothL1Loss asserts beta > 0 in forward, as mmdet (after the exit).
    for beta in (0.0, -1.0):
        module = SmoothL1Loss(beta=beta)
        with pytest.raises(AssertionError, match="beta"):
            module(pred, target)
        assert module(pred, target, torch.zeros(16, 4)).item() == 0.0
    assert repr(IoULoss()) == "IoULoss(mode='log', eps=1e-06, reduction='mean', loss_weight=1.0)"


# ---- TorchScript, tracing and the operators ------------------------------------------


class Head(torch.nn.Module):
    """A box head with every box loss: decoded boxes and their deltas."""

    def __init__(self):
        super().__init__()
        self.reg = torch.nn.Linear(8, 4)
        self.iou = IoULoss(mode="square", loss_weight=0.5)
        self.giou = GIoULoss()
        self.diou = DIoULoss(eps=1e-3)
        self.ciou = CIoULoss(loss_weight=2.0)
        self.smooth_l1 = SmoothL1Loss(beta=1.0 / 9.0)
        self.l1 = L1Loss(reduction="sum")

    def forward(self, feats: torch.Tensor, anchors: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor, avg: torch.Tensor) -> torch.Tensor:
        deltas = self.reg(feats)
        boxes = anchors + deltas
        loss = self.iou(boxes, target, weight, avg_factor=avg)
        loss = loss + self.giou(boxes, target, weight, avg_factor=3.0)
        loss = loss + self.diou(boxes, target, reduction_override="sum")
        loss = loss + self.ciou(boxes, target, weight[:, None].expand(-1, 4))
        loss = loss + self.iou(boxes, target, reduction_override="none", linear=True).sum()
        loss = loss + self.smooth_l1(deltas, target - anchors, weight[:, None], avg_factor=avg)
        return loss + self.l1(deltas, target - anchors)


def head_batch(seed):
    rng = np.random.default_rng(seed)
    anchors, target = (torch.from_numpy(a) for a in box_pairs(rng, 24))
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(24, 8, generator=g), anchors, target, torch.rand(24, generator=g),
            torch.tensor(9.0))


def loss_and_grads(module, *args):
    for p in module.parameters():
        p.grad = None
    loss = module(*args)
    loss.backward()
    return loss.detach().clone(), [p.grad.clone() for p in module.parameters()]


def same_bits(a, b):
    (la, ga), (lb, gb) = a, b
    assert la.dtype == lb.dtype and la.numpy().tobytes() == lb.numpy().tobytes()
    for x, y in zip(ga, gb):
        assert x.numpy().tobytes() == y.numpy().tobytes()


@pytest.mark.parametrize("compile", ["script", "trace"])
def test_scripted_and_traced_give_eagers_bits(compile):
    torch.manual_seed(3)
    module = Head()
    args = head_batch(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # linear=True's deprecation
        eager = loss_and_grads(module, *args)
        compiled = torch.jit.script(module) if compile == "script" \
            else torch.jit.trace(module, args)
        graph = str(compiled.inlined_graph)
        assert "focal::mmdet_iou_loss" in graph and "focal::mmdet_smooth_l1_loss" in graph
        same_bits(loss_and_grads(compiled, *args), eager)
        other = head_batch(4)
        same_bits(loss_and_grads(compiled, *other), loss_and_grads(module, *other))


def test_operators_directly(rng):
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng, 16))
    x = pred.clone().requires_grad_()
    w = torch.rand(16)
    got = torch.ops.focal.mmdet_iou_loss(x, target, w, 4.0, None, None, "mean", "ciou", 1e-6,
                                         1.0, False)
    want = CIoULoss()(x, target, w, 4.0)
    assert torch.equal(got, want) and got.grad_fn is not None
    with torch.inference_mode():
        assert torch.equal(torch.ops.focal.mmdet_smooth_l1_loss(
            pred, target, None, None, None, "none", "mean", 0.5, 2.0, False),
            SmoothL1Loss(beta=0.5, loss_weight=2.0)(pred, target, reduction_override="none"))


needs_compile = pytest.mark.skipif(not _compile.OPS,
                                   reason="needs PyTorch >= 2.4 (torch.library.custom_op)")


@needs_compile
def test_compiled_exit_has_no_graph_break(rng):
    # Under torch.compile the nonpositive-weight exit of a reduced loss is a
    # torch.where, not a branch: one graph serves both weights.
    torch._dynamo.reset()
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng, 16))

    def fn(x, w):
        return (GIoULoss()(x, target, w, avg_factor=5.0)
                + L1Loss(reduction="sum")(x, target, w[:, None].expand(-1, 4)))

    # backend "eager": dynamo traces it (a graph break would be an error,
    # the custom operators run on fake tensors), without Inductor's compile
    # time; test_compile.py compiles the _cases entries with Inductor.
    compiled = torch.compile(fn, fullgraph=True, backend="eager")
    for w in (torch.rand(16), torch.zeros(16)):
        results = []
        for f in (fn, compiled):
            x = pred.clone().requires_grad_()
            loss = f(x, w)
            (g,) = torch.autograd.grad(loss, x)
            results.append((loss.detach(), g))
        (loss, g), (closs, cg) = results
        assert torch.equal(closs, loss) and torch.equal(cg, g)


@needs_compile
def test_opcheck(rng):
    pred, target = (torch.from_numpy(a) for a in box_pairs(rng, 16))
    w, avg = torch.rand(16), torch.tensor(3.0)
    samples = [
        ("mmdet_iou_loss", (target, w, None, avg, None, "mean", "log", 1e-6, 1.0, False)),
        ("mmdet_iou_loss", (target, None, 2.0, None, "none", "mean", "ciou", 1e-6, 0.5, False)),
        ("mmdet_iou_loss", (target, w[:, None].expand(-1, 4), None, None, "sum", "mean", "giou",
                            1e-6, 1.0, False)),
        ("mmdet_smooth_l1_loss", (target, w[:, None], None, avg, None, "mean", 0.5, 1.0,
                                  False)),
        ("mmdet_smooth_l1_loss", (target, None, None, None, "none", "mean", 0.0, 2.0, True)),
    ]
    for name, args in samples:
        torch.library.opcheck(getattr(torch.ops.focal, name),
                              (pred.clone().requires_grad_(),) + args)
