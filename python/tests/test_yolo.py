# SPDX-License-Identifier: MIT
"""focal.torch.yolo against Ultralytics' FocalLoss / QFocalLoss (YOLOv5
utils/loss.py, _yolo_reference.py) evaluated in float64: losses and
gradients within 1e-5 relative, with BCE pos_weight (scalar, per class),
weight, every reduction, smoothed class targets (smooth_BCE) and soft IoU
objectness targets, YOLOv5's shapes; the fallbacks; the errors. Then
DFLoss (YOLOv8 / YOLO11) against Ultralytics' expression in float64, and
against the ultralytics package itself where it is installed."""

import os

import numpy as np
import pytest
import torch
from torch import nn

import focal
from focal import _lib
from focal.torch import yolo
from focal.torch.yolo import DFLoss, FocalLoss, QFocalLoss

import _yolo_reference as ultralytics

pytestmark = pytest.mark.skipif(focal.version_info < (1, 2, 0),
                                reason="pos_weight and the quality alpha need libfocal 1.2")

RTOL = 1e-5
KINDS = {"focal": (FocalLoss, ultralytics.FocalLoss),
         "quality": (QFocalLoss, ultralytics.QFocalLoss)}


def _bce(pos_weight=None, weight=None, reduction="mean", dtype=torch.float32):
    pw = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=dtype)
    w = None if weight is None else torch.as_tensor(weight, dtype=dtype)
    return nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)


def _close(got, ref, what, atol):
    got = got.detach().double()
    ref = ref.detach()
    assert got.shape == ref.shape, what
    err = (got - ref).abs()
    bad = err > RTOL * ref.abs() + atol
    if bad.any():
        i = int(torch.nonzero(bad.reshape(-1))[0])
        raise AssertionError(f"{what}: element {i}: got {got.reshape(-1)[i].item():.9g}, "
                             f"float64 {ref.reshape(-1)[i].item():.17g}; "
                             f"{int(bad.sum())} of {bad.numel()} outside")


def _compare(kind, pred, true, gamma=1.5, alpha=0.25, pos_weight=None, weight=None,
             reduction="mean", upstream=None, expect_fused=True):
    """Ours in float32 against Ultralytics' in float64 on the same values:
    the loss, and the gradient of sum(loss * upstream)."""
    ours_cls, ref_cls = KINDS[kind]
    ours = ours_cls(_bce(pos_weight, weight, reduction), gamma, alpha)
    ref = ref_cls(_bce(pos_weight, weight, reduction, torch.float64), gamma, alpha)
    assert ours.loss_fcn.reduction == "none" and ours.reduction == reduction

    x = pred.clone().requires_grad_(True)
    xd = pred.double().clone().requires_grad_(True)
    loss = ours(x, true)
    loss_ref = ref(xd, true.double())
    if expect_fused:  # the fused pass ran: its autograd node, not torch's ops
        node = loss.grad_fn
        while node is not None and "Focal" not in type(node).__name__ \
                and "Fused" not in type(node).__name__ and node.next_functions:
            node = node.next_functions[0][0]
        assert node is not None and ("Focal" in type(node).__name__
                                     or "Fused" in type(node).__name__), loss.grad_fn
    n = pred.numel()
    scale = 1.0 / n if reduction == "mean" else 1.0
    # Soft targets: the inherent cancellation of p - t (docs/DESIGN.md §4.1)
    # allows 1e-6 absolute per element of the unreduced loss.
    _close(loss, loss_ref, f"{kind} loss", 1e-12 if reduction != "none" else 1e-9)
    g = torch.ones_like(loss_ref) if upstream is None else upstream
    (loss * g.float()).sum().backward() if reduction == "none" else loss.backward()
    (loss_ref * g).sum().backward() if reduction == "none" else loss_ref.backward()
    wmax = 1.0 if weight is None else float(torch.as_tensor(weight).abs().max())
    pmax = 1.0 if pos_weight is None else float(torch.as_tensor(pos_weight).abs().max())
    _close(x.grad, xd.grad, f"{kind} grad", 1e-6 * scale * wmax * (1 + pmax)
           * float(g.abs().max()))
    return loss


def _logits(rng, shape, lo=-8.0, hi=8.0):
    return torch.from_numpy(rng.uniform(lo, hi, shape).astype(np.float32))


def _class_targets(rng, rows, classes, eps):
    """YOLOv5's class targets: smooth_BCE's cn everywhere, cp at the class."""
    cp, cn = ultralytics.smooth_BCE(eps)
    t = torch.full((rows, classes), cn, dtype=torch.float32)
    t[torch.arange(rows), torch.from_numpy(rng.integers(0, classes, rows))] = cp
    return t


def _iou_targets(rng, shape, frac=0.05):
    """YOLOv5's objectness targets: the IoU (clamped at 0) where an anchor
    is matched, else 0."""
    t = np.zeros(shape, np.float32)
    hit = rng.random(shape) < frac
    t[hit] = rng.uniform(0.0, 1.0, int(hit.sum())).astype(np.float32)
    return torch.from_numpy(t)


@pytest.mark.parametrize("kind", ["focal", "quality"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, 1.0, 2.5, [0.5], "per class"])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_class_loss(rng, kind, reduction, pos_weight, eps):
    rows, classes = 37, 80
    pred = _logits(rng, (rows, classes))
    true = _class_targets(rng, rows, classes, eps)
    if pos_weight == "per class":
        pos_weight = rng.uniform(0.2, 4.0, classes).astype(np.float32)
    upstream = torch.from_numpy(rng.uniform(-1, 1, (rows, classes)))
    _compare(kind, pred, true, pos_weight=pos_weight, reduction=reduction,
             upstream=upstream if reduction == "none" else None)


@pytest.mark.parametrize("kind", ["focal", "quality"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, 1.0, 3.0])
def test_objectness_soft_iou(rng, kind, reduction, pos_weight):
    shape = (2, 3, 20, 20)  # (batch, anchors, grid y, grid x), YOLOv5's tobj
    pred = _logits(rng, shape, -10.0, 6.0)
    true = _iou_targets(rng, shape, 0.2)
    _compare(kind, pred, true, pos_weight=pos_weight, reduction=reduction)


@pytest.mark.parametrize("kind", ["focal", "quality"])
@pytest.mark.parametrize("gamma,alpha", [(0.0, 0.25), (1.0, 0.5), (2.0, 0.25), (1.5, 0.0),
                                         (2.5, 1.0), (1.5, 0.9)])
def test_gamma_alpha(rng, kind, gamma, alpha):
    pred = _logits(rng, (64, 7), -20.0, 20.0)
    true = torch.from_numpy(rng.uniform(0, 1, (64, 7)).astype(np.float32))
    true[::3] = true[::3].round()  # hard and soft targets side by side
    _compare(kind, pred, true, gamma, alpha, pos_weight=[1.7] * 7, reduction="sum")


@pytest.mark.parametrize("kind", ["focal", "quality"])
@pytest.mark.parametrize("weight", ["scalar", "per class", "per row", "per element"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_weight(rng, kind, weight, reduction):
    rows, classes = 12, 9
    shapes = {"scalar": (), "per class": (classes,), "per row": (rows, 1),
              "per element": (rows, classes)}
    w = rng.uniform(0.0, 3.0, shapes[weight]).astype(np.float32)
    pred = _logits(rng, (rows, classes))
    true = _class_targets(rng, rows, classes, 0.1)
    _compare(kind, pred, true, pos_weight=2.0, weight=w, reduction=reduction)


@pytest.mark.parametrize("kind", ["focal", "quality"])
@pytest.mark.parametrize("shape", [(5,), (), (2, 3, 4, 5, 6)])
def test_any_shape(rng, kind, shape):
    pred = _logits(rng, shape)
    true = torch.from_numpy(rng.uniform(0, 1, shape).astype(np.float32))
    # a 0-d pred takes a 0-d pos_weight (torch broadcasts (1,) to no 0-d output)
    pw = rng.uniform(0.5, 2, shape[-1]).astype(np.float32) if shape else 1.25
    _compare(kind, pred, true, pos_weight=pw, reduction="mean")


@pytest.mark.parametrize("kind", ["focal", "quality"])
def test_yolov5_compute_loss_shapes(rng, kind):
    """One YOLOv5 step's calls: classes on the matched anchors of 3 layers,
    objectness on every anchor (80x80, 40x40, 20x20 at 1/4 scale: 20, 10, 5)."""
    for grid in (20, 10, 5):
        tobj = _iou_targets(rng, (2, 3, grid, grid))
        pobj = _logits(rng, (2, 3, grid, grid), -9.0, 4.0)
        _compare(kind, pobj, tobj, pos_weight=1.0, reduction="mean")
        matched = int(rng.integers(1, 60))
        _compare(kind, _logits(rng, (matched, 80)), _class_targets(rng, matched, 80, 0.0),
                 pos_weight=1.0, reduction="mean")


@pytest.mark.parametrize("kind", ["focal", "quality"])
def test_strided_pred(rng, kind):
    """YOLOv5 slices pi[..., 4] out of (b, a, gy, gx, 85): a strided view."""
    p = _logits(rng, (2, 3, 8, 8, 85))
    pred = p[..., 4]
    assert not pred.is_contiguous()
    _compare(kind, pred, _iou_targets(rng, (2, 3, 8, 8), 0.3), pos_weight=1.5)


@pytest.mark.parametrize("kind", ["focal", "quality"])
def test_fallbacks_match_too(rng, kind):
    """What the fused pass does not take runs Ultralytics' expression."""
    pred = _logits(rng, (6, 4))
    true = torch.from_numpy(rng.uniform(0, 1, (6, 4)).astype(np.float32))
    # pos_weight shaped (6, 1): per row, not per class
    _compare(kind, pred, true, pos_weight=rng.uniform(0.5, 2, (6, 1)).astype(np.float32),
             expect_fused=False)
    # alpha outside [0, 1]
    _compare(kind, pred, true, alpha=-1.0, expect_fused=False)
    # float64 inputs: the reference's own arithmetic
    ours_cls, ref_cls = KINDS[kind]
    x = pred.double().requires_grad_(True)
    xr = pred.double().requires_grad_(True)
    a = ours_cls(_bce(2.0, dtype=torch.float64))(x, true.double())
    b = ref_cls(_bce(2.0, dtype=torch.float64))(xr, true.double())
    a.backward()
    b.backward()
    assert torch.equal(a, b) and torch.equal(x.grad, xr.grad)
    # empty inputs: torch's empty mean (NaN) and sum (0)
    e = torch.zeros((0, 80))
    assert torch.isnan(ours_cls(_bce())(e, e))
    assert ours_cls(_bce(reduction="sum"))(e, e).item() == 0.0


def test_pos_weight_with_gradient_falls_back(rng):
    """A pos_weight that wants a gradient runs torch's BCE, as the original:
    the same gradient, or (torch 1.13) the same error."""
    pred = _logits(rng, (4, 3))
    true = torch.from_numpy(rng.uniform(0, 1, (4, 3)).astype(np.float32))
    outcome = []
    for cls in (FocalLoss, ultralytics.FocalLoss):
        pw = torch.tensor([2.0], requires_grad=True)
        try:
            cls(nn.BCEWithLogitsLoss(pos_weight=pw))(pred, true).backward()
            outcome.append(pw.grad.item())
        except RuntimeError as exc:
            outcome.append(str(exc))
    assert outcome[0] == outcome[1]


@pytest.mark.parametrize("cls", [FocalLoss, QFocalLoss])
def test_loss_fcn_must_be_bce(cls):
    for bad in (nn.BCELoss(), nn.MSELoss(), None, lambda p, t: p):
        with pytest.raises(TypeError, match="BCEWithLogitsLoss"):
            cls(bad)


@pytest.mark.parametrize("cls", [FocalLoss, QFocalLoss])
def test_library_errors_are_raised(cls):
    pred = torch.zeros(3, 2)
    with pytest.raises(focal.FocalError, match="target"):
        cls(nn.BCEWithLogitsLoss())(pred, torch.full((3, 2), 1.5))
    with pytest.raises(focal.FocalError, match="pos_weight"):
        cls(nn.BCEWithLogitsLoss(pos_weight=torch.tensor([-1.0])))(pred, torch.zeros(3, 2))


def test_bce_reduction_kept_and_set_to_none():
    bce = nn.BCEWithLogitsLoss(reduction="sum")
    fl = FocalLoss(bce, gamma=2.0, alpha=0.3)
    assert (fl.reduction, bce.reduction, fl.loss_fcn is bce) == ("sum", "none", True)
    assert (fl.gamma, fl.alpha) == (2.0, 0.3)
    q = QFocalLoss(nn.BCEWithLogitsLoss())
    assert (q.gamma, q.alpha, q.reduction) == (1.5, 0.25, "mean")


def test_module_names_do_not_clash():
    import focal.torch as ft
    assert ft.FocalLoss is not yolo.FocalLoss
    assert yolo.__all__ == ["BboxLoss", "DFLoss", "FocalLoss", "QFocalLoss", "bbox_iou"]
    assert not hasattr(ft, "DFLoss")


# ---- DFLoss (YOLOv8 / YOLO11) ----------------------------------------------------------

needs_dfl = pytest.mark.skipif(not _lib.has("distribution_focal"), reason="DFLoss needs libfocal 1.4")


def _ltrb(rng, shape, reg_max):
    """BboxLoss's target_ltrb: distances in bins, most in [0, reg_max - 1),
    some beyond either end (the clamp's work), exact integers, and the values
    next to the clamp's bounds."""
    t = rng.uniform(0, reg_max - 1, shape).astype(np.float32)
    flat = t.reshape(-1)
    flat[::7] = rng.uniform(-2, 0, flat[::7].size)
    flat[3::7] = rng.uniform(reg_max - 1.02, reg_max + 3, flat[3::7].size)
    flat[5::11] = rng.integers(0, reg_max, flat[5::11].size)
    special = [0.0, reg_max - 1 - 0.01, reg_max - 1, np.nextafter(np.float32(reg_max - 1 - 0.01),
                                                                   np.float32(0)), 1e-30, 0.5]
    flat[:min(flat.size, len(special))] = special[:flat.size]
    return torch.from_numpy(t)


def _graph_nodes(node):
    """The class names of the autograd nodes reachable from node."""
    names, todo = set(), [node]
    while todo:
        node = todo.pop()
        if node is not None and type(node).__name__ not in names:
            names.add(type(node).__name__.replace("Backward", ""))
            todo.extend(n for n, _ in node.next_functions)
    return names


def _dfl_compare(rng, pred, target, reg_max, expect_fused=True):
    """Ours (float32 or what pred is) against Ultralytics' expression in
    float64 on the same values: the loss and d(upstream . loss)/d pred."""
    before = target.clone()
    x = pred.clone().requires_grad_(True)
    loss = DFLoss(reg_max)(x, target)
    assert torch.equal(target, before), "DFLoss changed its target"
    x64 = pred.double().requires_grad_(True)
    t64 = target.double()  # a copy: the reference clamps it in place
    ref = ultralytics.DFLoss(reg_max)(x64, t64)
    assert loss.shape == ref.shape
    if expect_fused and loss.numel():  # the library's autograd node is in the graph
        assert "_DistributionFocalLoss" in _graph_nodes(loss.grad_fn)
    up = torch.from_numpy(rng.uniform(-2, 2, tuple(loss.shape)))
    _close(loss, ref, "DFLoss loss", 1e-12)
    loss.backward(up.to(loss.dtype))
    ref.backward(up)
    _close(x.grad, x64.grad, "DFLoss grad", 2e-6)
    return loss


@needs_dfl
@pytest.mark.parametrize("reg_max", [16, 17, 8, 2])
@pytest.mark.parametrize("n", [1, 60])
def test_dfloss_matches_ultralytics(rng, reg_max, n):
    pred = _logits(rng, (n * 4, reg_max), -6.0, 6.0)
    loss = _dfl_compare(rng, pred, _ltrb(rng, (n, 4), reg_max), reg_max)
    assert loss.shape == (n, 1) and loss.dtype == torch.float32


@needs_dfl
@pytest.mark.parametrize("shape", [(3, 5, 4), (12,), (7, 1), (0, 4)], ids=str)
def test_dfloss_other_target_shapes(rng, shape):
    # The mean is over target's last dimension, kept: (..., k) -> (..., 1).
    rows = int(np.prod(shape))
    _dfl_compare(rng, _logits(rng, (rows, 16)), _ltrb(rng, shape, 16), 16)


@needs_dfl
def test_dfloss_bbox_loss_step(rng):
    # BboxLoss: dfl_loss(pred_dist[fg_mask].view(-1, reg_max), target_ltrb[fg_mask]) * weight,
    # summed and divided by target_scores_sum.
    b, anchors, reg_max = 2, 300, 16
    pred_dist = _logits(rng, (b, anchors, 4 * reg_max), -4.0, 4.0)
    target_ltrb = _ltrb(rng, (b, anchors, 4), reg_max)
    fg = torch.from_numpy(rng.random((b, anchors)) < 0.1)
    weight = torch.from_numpy(rng.random((int(fg.sum()), 1)).astype(np.float32))
    x = pred_dist.clone().requires_grad_(True)
    x64 = pred_dist.double().requires_grad_(True)
    ours = (DFLoss(reg_max)(x[fg].view(-1, reg_max), target_ltrb[fg]) * weight).sum() / 7.5
    ref = (ultralytics.DFLoss(reg_max)(x64[fg].view(-1, reg_max), target_ltrb[fg].double())
           * weight.double()).sum() / 7.5
    ours.backward()
    ref.backward()
    _close(ours, ref, "loss", 1e-12)
    _close(x.grad, x64.grad, "grad", 1e-7)


@needs_dfl
def test_dfloss_target_gets_no_gradient(rng):
    pred = _logits(rng, (8, 16)).requires_grad_(True)
    target = _ltrb(rng, (2, 4), 16).requires_grad_(True)
    DFLoss()(pred, target).sum().backward()
    assert target.grad is None and pred.grad is not None


@needs_dfl
def test_dfloss_clamps_a_copy_where_ultralytics_clamps_in_place(rng):
    target = torch.tensor([[-1.0, 3.5, 15.2, 20.0]])
    pred = _logits(rng, (4, 16))
    before = target.clone()
    ours = DFLoss(16)(pred, target)
    assert torch.equal(target, before)
    theirs = ultralytics.DFLoss(16)(pred, target)
    assert torch.equal(target, torch.tensor([[0.0, 3.5, 14.99, 14.99]]))  # changed
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    # Clamped or not beforehand, the same loss.
    assert torch.equal(DFLoss(16)(pred, target), ours)


@needs_dfl
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_dfloss_low_precision(rng, dtype):
    # Computed in float32 on the low-precision values: the loss in
    # Ultralytics' dtype (its log-probabilities in pred's dtype times weights
    # in target's), the gradient in pred's.
    pred = _logits(rng, (40, 16)).to(dtype)
    for target in (_ltrb(rng, (10, 4), 16), _ltrb(rng, (10, 4), 16).to(dtype)):
        x = pred.clone().requires_grad_(True)
        loss = DFLoss()(x, target)
        assert loss.dtype == torch.promote_types(dtype, target.dtype)
        x32 = pred.float().requires_grad_(True)
        want = DFLoss()(x32, target.float())
        assert torch.equal(loss, want.to(loss.dtype))
        loss.float().sum().backward()
        want.sum().backward()
        assert x.grad.dtype == dtype and torch.equal(x.grad, x32.grad.to(dtype))


@needs_dfl
def test_dfloss_fallback_is_ultralytics_expression(rng):
    # float64 is not the library's: Ultralytics' expression, in float64.
    pred = _logits(rng, (20, 16)).double()
    target = _ltrb(rng, (5, 4), 16).double()
    before = target.clone()
    x, xr = pred.clone().requires_grad_(True), pred.clone().requires_grad_(True)
    ours = DFLoss()(x, target)
    theirs = ultralytics.DFLoss()(xr, target.clone())
    assert torch.equal(target, before)
    assert ours.dtype == torch.float64 and torch.equal(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    assert torch.equal(x.grad, xr.grad)


@needs_dfl
def test_dfloss_errors():
    with pytest.raises(ValueError, match="one row per"):
        DFLoss()(torch.zeros(7, 16), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="one row per"):
        DFLoss()(torch.zeros(8, 4, 4), torch.zeros(2, 4))
    with pytest.raises(TypeError):
        DFLoss()(torch.zeros(8, 16), [[0.5] * 4] * 2)
    with pytest.raises(focal.FocalError):
        DFLoss()(torch.zeros(4, 16), torch.tensor([[0.5, float("nan"), 1.0, 2.0]]))
    with pytest.raises(focal.FocalError):  # pred_dist with fewer bins than reg_max
        DFLoss(16)(torch.zeros(4, 8), torch.tensor([[0.5, 12.0, 1.0, 2.0]]))
    assert DFLoss(17).reg_max == 17 and repr(DFLoss()) == "DFLoss(reg_max=16)"


def _real_ultralytics(tmp_path_factory):
    """The ultralytics package's DFLoss, or a skip when it is not importable.
    Its settings file goes to a temporary directory."""
    os.environ.setdefault("YOLO_CONFIG_DIR", str(tmp_path_factory.mktemp("ultralytics")))
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        from ultralytics.utils.loss import DFLoss as RealDFLoss
    except Exception as exc:  # not installed, or not importable with this torch
        pytest.skip(f"ultralytics is not importable here: {type(exc).__name__}: {exc}")
    return RealDFLoss


@needs_dfl
@pytest.mark.parametrize("reg_max", [16, 8])
def test_dfloss_against_the_ultralytics_package(rng, tmp_path_factory, reg_max):
    RealDFLoss = _real_ultralytics(tmp_path_factory)
    n = 50
    pred = _logits(rng, (n * 4, reg_max), -6.0, 6.0)
    target = _ltrb(rng, (n, 4), reg_max)
    up = torch.from_numpy(rng.uniform(-2, 2, (n, 1)).astype(np.float32))
    x, xr = pred.clone().requires_grad_(True), pred.clone().requires_grad_(True)
    before = target.clone()
    ours = DFLoss(reg_max)(x, target)
    assert torch.equal(target, before)
    theirs_target = target.clone()
    theirs = RealDFLoss(reg_max)(xr, theirs_target)
    assert not torch.equal(theirs_target, before)  # clamped in place
    assert ours.shape == theirs.shape == (n, 1) and ours.dtype == theirs.dtype
    torch.testing.assert_close(ours, theirs, rtol=2e-5, atol=1e-6)
    ours.backward(up)
    theirs.backward(up)
    torch.testing.assert_close(x.grad, xr.grad, rtol=1e-4, atol=1e-6)
    # In float64 the package runs as the fallback does: the same bits.
    x64 = pred.double()
    assert torch.equal(DFLoss(reg_max)(x64, target.double()),
                       RealDFLoss(reg_max)(x64, target.double()))


@needs_dfl
def test_dfloss_bfloat16_target_is_clamped_in_float32(rng):
    # Ultralytics clamps a bfloat16 target in bfloat16, where its bound 14.99
    # is 15.0 (then its right bin, 16, is out of range); DFLoss clamps the
    # float32 value: the loss of the float32 target.
    pred = _logits(rng, (4, 16))
    target = torch.tensor([[20.0, 3.0, 2.0, 15.5]], dtype=torch.bfloat16)
    assert target.clone().clamp_(0, 14.99)[0, 0].item() == 15.0
    got = DFLoss()(pred, target)
    assert torch.equal(got, DFLoss()(pred, target.float()))
    want = ultralytics.DFLoss()(pred.double(), target.double())
    _close(got, want, "loss", 1e-12)
