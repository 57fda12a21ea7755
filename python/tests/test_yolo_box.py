# SPDX-License-Identifier: MIT
"""focal.torch.yolo's bbox_iou and BboxLoss (YOLOv8 / YOLO11) against
Ultralytics' expressions evaluated in float64 (_yolo_reference.py) and,
where the ultralytics package is importable, against the package itself.

bbox_iou: the similarity and its gradient (autograd, for an upstream
gradient that is not 1) in every mode (IoU, GIoU, DIoU, CIoU), xywh and
xyxy, several eps, float32 / bfloat16 / float16 (computed in float32 on the
same values) and float64 (Ultralytics' expression, its bits), ranks (4,),
(n, 4), (b, n, 4) and broadcast shapes; which box gets the gradient; the
fallbacks. BboxLoss: a YOLOv8-shaped batch (2 images, 200 anchors,
reg_max 16), both losses and their gradients with respect to pred_dist and
pred_bboxes, with the foreground empty, partial and full; 8.4's L1 term
(reg_max 1) and the 0 of earlier versions; float64 and the errors.

Gradients are compared away from the kinks, except where the library and
the running PyTorch take a kink alike: the library follows PyTorch 2.14
(a clamp passes no gradient at its bound; docs/DESIGN.md §2.8).
"""

import os

import numpy as np
import pytest
import torch

from focal import _lib
from focal.torch.yolo import BboxLoss, bbox_iou

import _yolo_reference as ultralytics

pytestmark = pytest.mark.skipif(not _lib.has("box_iou", "distribution_focal", "smooth_l1"),
                                reason="bbox_iou and BboxLoss need libfocal 1.5")

MODES = {"iou": {}, "giou": {"GIoU": True}, "diou": {"DIoU": True}, "ciou": {"CIoU": True}}
LOW = (torch.bfloat16, torch.float16)
# PyTorch <= 2.13 passes a clamp's gradient at its bound; the library does not.
TORCH_CLAMP_BOUND_PASSES = tuple(int(v) for v in torch.__version__.split(".")[:2]) < (2, 14)


def _graph_nodes(node):
    names, todo = set(), [node]
    while todo:
        node = todo.pop()
        if node is not None and type(node).__name__ not in names:
            names.add(type(node).__name__)
            todo.extend(n for n, _ in node.next_functions)
    return names


def _fused(t):
    return t.grad_fn is not None and any("_BoxIoULoss" in n for n in _graph_nodes(t.grad_fn))


def _boxes(rng, shape, xywh, spread=20.0):
    """Valid boxes, centres in [0, spread) and sizes in [0.5, 6): x, y, w, h
    or their corners."""
    c = rng.uniform(0.0, spread, shape + (2,))
    wh = rng.uniform(0.5, 6.0, shape + (2,))
    b = np.concatenate((c, wh) if xywh else (c - wh / 2, c + wh / 2), -1)
    return torch.from_numpy(b.astype(np.float32))


def _pairs(rng, n, xywh):
    """Predictions and targets: every other target a jittered copy of its
    prediction (overlapping, nested, near-identical), the rest anywhere."""
    pred = _boxes(rng, (n,), xywh)
    target = _boxes(rng, (n,), xywh)
    jitter = torch.from_numpy(rng.normal(0.0, 0.6, (n, 4)).astype(np.float32))
    near = pred + jitter
    if xywh:
        near[:, 2:] = near[:, 2:].abs() + 0.1
    else:
        near = torch.cat((torch.minimum(near[:, :2], near[:, 2:]),
                          torch.maximum(near[:, :2], near[:, 2:]) + 0.1), 1)
    target[::2] = near[::2]
    return pred, target


def _corners64(b, xywh):
    b = b.double()
    if not xywh:
        return b
    return torch.cat((b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2), -1)


def _at_clamp_bound(pred, target, xywh):
    """(...,) True where an intersection extent is exactly 0 (a clamp at its
    bound: touching boxes), in float64 on the given values."""
    p, t = _corners64(pred, xywh), _corners64(target, xywh)
    iw = torch.minimum(p[..., 2], t[..., 2]) - torch.maximum(p[..., 0], t[..., 0])
    ih = torch.minimum(p[..., 3], t[..., 3]) - torch.maximum(p[..., 1], t[..., 1])
    return (iw == 0) | (ih == 0)


def _close(got, ref, what, rtol, atol, rows=None):
    """got (any dtype) within rtol |ref| + atol of ref (float64); rows: a mask
    of the leading dimension that is compared (all when None)."""
    got = got.detach().double()
    ref = ref.detach().double()
    assert got.shape == ref.shape, f"{what}: shape {tuple(got.shape)} vs {tuple(ref.shape)}"
    bad = (got - ref).abs() > rtol * ref.abs() + atol
    if rows is not None:
        bad &= rows.reshape(rows.shape + (1,) * (bad.dim() - rows.dim()))
    if bad.any():
        i = int(torch.nonzero(bad.reshape(-1))[0])
        raise AssertionError(f"{what}: element {i}: got {got.reshape(-1)[i].item():.9g}, "
                             f"float64 {ref.reshape(-1)[i].item():.17g}; "
                             f"{int(bad.sum())} of {bad.numel()} outside")


def _tolerances(dtype, xywh):
    """(rtol, atol) of the similarity and of the gradient: float32 arithmetic
    (the xywh corners x -/+ w / 2 lose what a centre of ~20 has beyond a
    size's bits), then the result rounded once to dtype."""
    atol = 4e-6 if xywh else 1e-6
    rtol = 1e-5 if dtype == torch.float32 else float(torch.finfo(dtype).eps)
    return rtol, atol


def _compare_iou(rng, box1, box2, xywh, mode, eps=1e-7, grad_of=(True, False),
                 expect_fused=True, dtype=torch.float32):
    """bbox_iou of box1 and box2 (cast to dtype) against the reference in
    float64 on the same values: the similarity and the gradient of
    sum(similarity * upstream) for the boxes grad_of names."""
    box1, box2 = box1.to(dtype), box2.to(dtype)
    a = box1.clone().requires_grad_(grad_of[0])
    b = box2.clone().requires_grad_(grad_of[1])
    a64 = box1.double().requires_grad_(grad_of[0])
    b64 = box2.double().requires_grad_(grad_of[1])
    got = bbox_iou(a, b, xywh, eps=eps, **MODES[mode])
    ref = ultralytics.bbox_iou(a64, b64, xywh, eps=eps, **MODES[mode])
    assert got.dtype == dtype and got.shape == ref.shape
    assert _fused(got) == expect_fused, got.grad_fn
    rtol, atol = _tolerances(dtype, xywh)
    _close(got, ref, f"{mode} similarity", rtol, atol)
    up = torch.from_numpy(rng.uniform(0.5, 1.5, tuple(ref.shape)))
    (got * up.to(dtype)).sum().backward()
    (ref * up).sum().backward()
    # Away from the clamps' bounds, or where this PyTorch takes them as the
    # library does.
    kinked = None
    if TORCH_CLAMP_BOUND_PASSES:
        shape = torch.broadcast_shapes(box1.shape, box2.shape)
        kinked = _at_clamp_bound(box1.expand(shape), box2.expand(shape), xywh)
    for leaf, leaf64, name in ((a, a64, "box1"), (b, b64, "box2")):
        if not leaf.requires_grad:
            assert leaf.grad is None
            continue
        assert leaf.grad.dtype == dtype
        rows = None
        if kinked is not None and kinked.any():
            if leaf.shape[:-1] != kinked.shape:
                continue  # a broadcast box sums over pairs, touching ones among them
            rows = ~kinked
        _close(leaf.grad, leaf64.grad, f"{mode} {name} gradient", rtol, atol, rows)
    return got


# ---- bbox_iou ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, *LOW], ids=str)
@pytest.mark.parametrize("eps", [1e-7, 1e-3, 0.5])
@pytest.mark.parametrize("xywh", [False, True], ids=["xyxy", "xywh"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_bbox_iou_matches_ultralytics(rng, mode, xywh, eps, dtype):
    pred, target = _pairs(rng, 64, xywh)
    # torchvision's convention (xywh) fixes CIoU's union eps at 1e-7: another
    # eps runs Ultralytics' expression in torch (in dtype: no float32 bound).
    fused = not (xywh and mode == "ciou" and eps != 1e-7)
    if not fused and dtype != torch.float32:
        # Ultralytics' own expression, in dtype: its bits, or its error
        # (PyTorch 1.13 has no float16 clamp on the CPU)
        low = pred.to(dtype), target.to(dtype)
        try:
            want = ultralytics.bbox_iou(*low, True, CIoU=True, eps=eps)
        except RuntimeError as exc:
            with pytest.raises(RuntimeError, match=str(exc)):
                bbox_iou(*low, True, CIoU=True, eps=eps)
            return
        torch.testing.assert_close(bbox_iou(*low, True, CIoU=True, eps=eps), want,
                                   rtol=0, atol=0, equal_nan=True)
        return
    got = _compare_iou(rng, pred, target, xywh, mode, eps, expect_fused=fused, dtype=dtype)
    assert got.shape == (64, 1)


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 40), (3, 40)), ((40,), (1,)),
                                    ((2, 12, 1), (2, 1, 7)), ((5, 1), (9,))], ids=str)
@pytest.mark.parametrize("xywh", [False, True], ids=["xyxy", "xywh"])
@pytest.mark.parametrize("mode", ["iou", "ciou"])
def test_bbox_iou_ranks_and_broadcasting(rng, mode, xywh, shapes):
    box1 = _boxes(rng, shapes[0], xywh, spread=6.0)
    box2 = _boxes(rng, shapes[1], xywh, spread=6.0)
    got = _compare_iou(rng, box1, box2, xywh, mode)
    assert got.shape == torch.broadcast_shapes(shapes[0], shapes[1]) + (1,)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_bbox_iou_gradient_goes_to_the_box_that_wants_one(rng, mode):
    pred, target = _pairs(rng, 32, False)
    # box2 alone: the similarity is symmetric, box2 takes the library's place
    _compare_iou(rng, pred, target, False, mode, grad_of=(False, True))
    # both: Ultralytics' expression, both gradients
    _compare_iou(rng, pred, target, False, mode, grad_of=(True, True), expect_fused=False)
    # neither, and under no_grad: the similarity alone
    with torch.no_grad():
        got = bbox_iou(pred.requires_grad_(), target, False, **MODES[mode])
    assert got.grad_fn is None
    _close(got, ultralytics.bbox_iou(pred.double(), target.double(), False, **MODES[mode]),
           mode, 1e-5, 1e-6)


@pytest.mark.parametrize("xywh", [False, True], ids=["xyxy", "xywh"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_bbox_iou_float64_is_ultralytics_expression(rng, mode, xywh):
    pred, target = _pairs(rng, 48, xywh)
    a, a_ref = pred.double().requires_grad_(), pred.double().requires_grad_()
    got = bbox_iou(a, target.double(), xywh, **MODES[mode])
    ref = ultralytics.bbox_iou(a_ref, target.double(), xywh, **MODES[mode])
    assert got.dtype == torch.float64 and torch.equal(got, ref)
    got.sum().backward()
    ref.sum().backward()
    assert torch.equal(a.grad, a_ref.grad)


def test_bbox_iou_other_fallbacks(rng):
    """What the library does not take: Ultralytics' expression."""
    pred, target = _pairs(rng, 16, False)
    for eps in (-1e-3, float("inf")):  # eps the library refuses
        a = pred.clone().requires_grad_()
        got = bbox_iou(a, target, False, GIoU=True, eps=eps)
        assert not _fused(got)
        want = ultralytics.bbox_iou(pred, target, False, GIoU=True, eps=eps)
        torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)
    # 8 coordinates: Ultralytics chunks them in pairs, elementwise
    wide = torch.cat((pred, pred + 1.0), 1).double()
    assert torch.equal(bbox_iou(wide, wide.flip(0), False),
                       ultralytics.bbox_iou(wide, wide.flip(0), False))
    # integer boxes
    ints = (pred * 10).long()
    assert torch.equal(bbox_iou(ints, ints.flip(0), False, CIoU=True),
                       ultralytics.bbox_iou(ints, ints.flip(0), False, CIoU=True))


def test_bbox_iou_xywh_sizes_take_no_eps(rng):
    # Ultralytics' xywh branch: no eps in the heights. A box of height 0 has
    # a CIoU ratio w / 0 = inf (atan pi / 2), as there; xyxy adds eps.
    box1 = torch.tensor([[1.0, 1.0, 2.0, 0.0], [3.0, 3.0, 1.0, 2.0]])
    box2 = torch.tensor([[1.5, 1.0, 2.0, 1.0], [3.0, 3.5, 2.0, 1.0]])
    for xywh in (True, False):
        for mode in MODES:
            got = bbox_iou(box1, box2, xywh, **MODES[mode])
            want = ultralytics.bbox_iou(box1.double(), box2.double(), xywh, **MODES[mode])
            _close(got, want, f"{mode} xywh={xywh}", 1e-6, 1e-6)


def _kink_compare(pred, target, what):
    for mode in MODES:
        a, a64 = pred.clone().requires_grad_(), pred.double().requires_grad_()
        got = bbox_iou(a, target, False, **MODES[mode])
        ref = ultralytics.bbox_iou(a64, target.double(), False, **MODES[mode])
        _close(got, ref, f"{mode} {what}", 1e-6, 1e-6)
        got.sum().backward()
        ref.sum().backward()
        _close(a.grad, a64.grad, f"{mode} {what} gradient", 1e-6, 1e-6)


def test_bbox_iou_ties():
    # min / max ties (shared sides, identical boxes): half the gradient to
    # each side, in every PyTorch
    _kink_compare(torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 4.0]]),
                  torch.tensor([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 3.0, 4.0]]), "ties")


@pytest.mark.skipif(TORCH_CLAMP_BOUND_PASSES,
                    reason=f"torch {torch.__version__} passes a clamp's gradient at its bound; "
                           f"the library follows PyTorch 2.14 (DESIGN §2.8)")
def test_bbox_iou_touching_boxes():
    # an intersection extent exactly 0: the clamp at its bound passes nothing
    _kink_compare(torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.0]]),
                  torch.tensor([[2.0, 0.5, 3.0, 1.5], [0.5, 2.0, 1.5, 3.0]]), "touching")


def test_bbox_iou_empty():
    e = torch.zeros((0, 4), requires_grad=True)
    got = bbox_iou(e, torch.zeros((0, 4)), CIoU=True)
    assert got.shape == (0, 1)
    got.sum().backward()
    assert e.grad.shape == (0, 4)


def test_bbox_iou_autocast_is_float32(rng):
    pred, target = _pairs(rng, 8, False)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = bbox_iou(pred.bfloat16(), target.bfloat16(), False, CIoU=True)
    assert got.dtype == torch.float32
    want = bbox_iou(pred.bfloat16().float(), target.bfloat16().float(), False, CIoU=True)
    assert torch.equal(got, want)


# ---- BboxLoss ---------------------------------------------------------------------------


def _batch(rng, fg="some", b=2, reg_max=16, nc=5):
    """A YOLOv8-shaped batch in grid units, as v8DetectionLoss hands it to
    BboxLoss: a 96 x 128 image (h, w) at strides 8, 16, 32 gives 192 + 48 +
    12 = 252 anchor points at cell centres; predicted distributions and
    boxes, assigned target boxes around their anchors (some sides beyond
    reg_max - 1: the clamp's work), soft target scores on the foreground
    (zero elsewhere) and their sum, clamped at 1."""
    h, w = 96, 128
    pts, strides = [], []
    for s in (8, 16, 32):
        yy, xx = np.meshgrid(np.arange(h // s) + 0.5, np.arange(w // s) + 0.5, indexing="ij")
        pts.append(np.stack((xx.ravel(), yy.ravel()), 1))
        strides.append(np.full(xx.size, float(s)))
    anchors = np.concatenate(pts)
    a = len(anchors)
    lt = rng.uniform(0.2, reg_max + 2.0, (b, a, 2))
    rb = rng.uniform(0.2, reg_max + 2.0, (b, a, 2))
    target = np.concatenate((anchors - lt, anchors + rb), -1)
    pred = target + rng.normal(0.0, 0.8, (b, a, 4))
    pred = np.concatenate((np.minimum(pred[..., :2], pred[..., 2:]),
                           np.maximum(pred[..., :2], pred[..., 2:]) + 0.05), -1)
    mask = {"some": rng.random((b, a)) < 0.3, "none": np.zeros((b, a), bool),
            "all": np.ones((b, a), bool)}[fg]
    scores = np.zeros((b, a, nc))
    cls = rng.integers(0, nc, (b, a))
    scores[np.arange(b)[:, None], np.arange(a)[None, :], cls] = rng.uniform(0.05, 1.0, (b, a))
    scores *= mask[..., None]
    f32 = lambda v: torch.from_numpy(np.asarray(v, np.float32))  # noqa: E731
    t_scores = f32(scores)
    return {"pred_dist": f32(rng.normal(0.0, 2.0, (b, a, 4 * reg_max))),
            "pred_bboxes": f32(pred), "anchor_points": f32(anchors),
            "target_bboxes": f32(target), "target_scores": t_scores,
            "target_scores_sum": t_scores.sum().clamp(min=1), "fg_mask": torch.from_numpy(mask),
            "imgsz": f32([h, w]), "stride": f32(np.concatenate(strides)[:, None])}


ARGS = ("pred_dist", "pred_bboxes", "anchor_points", "target_bboxes", "target_scores",
        "target_scores_sum", "fg_mask")


def _run(module, batch, dtype=None, step=()):
    """(loss_iou, loss_dfl, pred_dist.grad, pred_bboxes.grad): module on the
    batch (its floats cast to dtype), backward of loss_iou + 2 loss_dfl."""
    args = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v.clone())
            for k, v in batch.items()}
    for k in ("pred_dist", "pred_bboxes"):
        args[k] = args[k].detach().clone().requires_grad_()
    extra = [args[k] for k in step]
    loss_iou, loss_dfl = module(*[args[k] for k in ARGS], *extra)
    (loss_iou + 2 * loss_dfl).backward()
    return loss_iou, loss_dfl, args["pred_dist"].grad, args["pred_bboxes"].grad


@pytest.mark.parametrize("fg", ["some", "none", "all"])
def test_bbox_loss_matches_ultralytics(rng, fg):
    batch = _batch(rng, fg)
    before = {k: v.clone() for k, v in batch.items()}
    loss_iou, loss_dfl, g_dist, g_box = _run(BboxLoss(16), batch)
    assert all(torch.equal(before[k], batch[k]) for k in batch), "BboxLoss changed an input"
    ref_iou, ref_dfl, ref_g_dist, ref_g_box = _run(ultralytics.BboxLoss(16), batch,
                                                   torch.float64)
    assert loss_iou.dtype == loss_dfl.dtype == torch.float32
    assert loss_iou.shape == loss_dfl.shape == ()
    names = _graph_nodes(loss_iou.grad_fn) | _graph_nodes(loss_dfl.grad_fn)
    assert {"_BoxIoULossBackward", "_DistributionFocalLossBackward"} <= names, names
    _close(loss_iou, ref_iou, "loss_iou", 1e-6, 1e-7)
    _close(loss_dfl, ref_dfl, "loss_dfl", 1e-6, 1e-7)
    _close(g_dist, ref_g_dist, "pred_dist gradient", 1e-5, 1e-8)
    _close(g_box, ref_g_box, "pred_bboxes gradient", 1e-5, 1e-8)
    if fg == "none":  # zero, and still in the graph
        assert loss_iou.item() == loss_dfl.item() == 0.0
        assert not g_dist.any() and not g_box.any()


@pytest.mark.parametrize("dtype", LOW, ids=str)
def test_bbox_loss_low_precision(rng, dtype):
    # Computed in float32 on the low-precision values, the losses rounded
    # once to the inputs' dtype, the gradients in theirs.
    batch = _batch(rng)
    low = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in batch.items()}
    got = _run(BboxLoss(16), low)
    want = _run(BboxLoss(16), {k: (v.float() if v.is_floating_point() else v)
                               for k, v in low.items()})
    ref = _run(ultralytics.BboxLoss(16), low, torch.float64)
    eps = float(torch.finfo(dtype).eps)
    for g, w, r, what in zip(got, want, ref, ("loss_iou", "loss_dfl", "pred_dist grad",
                                                "pred_bboxes grad")):
        assert g.dtype == dtype, what
        assert torch.equal(g, w.to(dtype)), what
        _close(g, r, what, eps, 1e-7)


def test_bbox_loss_l1_without_dfl(rng):
    # reg_max 1: Ultralytics 8.4's L1 of the distances scaled to the image
    # (imgsz and stride passed), earlier versions' 0 (called without them).
    batch = _batch(rng, reg_max=1)
    step = ("imgsz", "stride")
    got = _run(BboxLoss(1), batch, step=step)
    ref = _run(ultralytics.BboxLoss(1), batch, torch.float64, step=step)
    assert "_SmoothL1LossBackward" in _graph_nodes(got[1].grad_fn)
    for g, r, what in zip(got, ref, ("loss_iou", "loss_l1", "pred_dist grad",
                                     "pred_bboxes grad")):
        _close(g, r, what, 1e-5, 1e-8)
    loss_iou, loss_dfl, g_dist, _ = _run(BboxLoss(1), batch)
    assert loss_dfl.item() == 0.0 and loss_dfl.dtype == torch.float32 and g_dist is None
    assert BboxLoss(1).dfl_loss is None and BboxLoss(16).dfl_loss.reg_max == 16


@pytest.mark.parametrize("reg_max", [16, 1])
def test_bbox_loss_float64_is_ultralytics_expression(rng, reg_max):
    batch = _batch(rng, reg_max=reg_max)
    step = ("imgsz", "stride") if reg_max == 1 else ()
    got = _run(BboxLoss(reg_max), batch, torch.float64, step)
    ref = _run(ultralytics.BboxLoss(reg_max), batch, torch.float64, step)
    for g, r in zip(got, ref):
        assert g.dtype == torch.float64 and torch.equal(g, r)


def test_bbox_loss_target_scores_sum_forms(rng):
    """Ultralytics < 8.4 passed max(target_scores.sum(), 1): a tensor or the
    number 1; a (1,) tensor divides in torch, giving its shape."""
    batch = _batch(rng)
    module = BboxLoss(16)
    args = [batch[k] for k in ARGS]
    as_tensor = module(*args[:5], torch.tensor(1.0), args[6])
    as_number = module(*args[:5], 1, args[6])
    assert all(torch.equal(a, b) for a, b in zip(as_tensor, as_number))
    shaped = module(*args[:5], batch["target_scores_sum"].reshape(1), args[6])
    ref = ultralytics.BboxLoss(16)(*args[:5], batch["target_scores_sum"].reshape(1), args[6])
    for g, r in zip(shaped, ref):
        assert g.shape == r.shape == (1,)
        _close(g, r, "(1,) divisor", 1e-6, 1e-7)


def test_bbox_loss_targets_get_no_gradient(rng):
    batch = _batch(rng)
    for k in ("target_bboxes", "target_scores", "anchor_points"):
        batch[k].requires_grad_()
    loss_iou, loss_dfl = BboxLoss(16)(*[batch[k] for k in ARGS])
    assert not loss_iou.requires_grad and not loss_dfl.requires_grad


def test_bbox_loss_errors(rng):
    batch = _batch(rng)
    args = [batch[k] for k in ARGS]
    with pytest.raises(ValueError, match="imgsz and stride"):
        BboxLoss(16)(*args, batch["imgsz"])
    with pytest.raises(ValueError, match="4 \\* reg_max"):
        BboxLoss(8)(*args)


# ---- TorchScript and the ultralytics package --------------------------------------------


def scripted_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return bbox_iou(a, b, False, CIoU=True) + bbox_iou(a, b, True, GIoU=True, eps=1e-3)


def test_torchscript_and_tracing(rng):
    pred, target = _pairs(rng, 24, False)
    scripted = torch.jit.script(scripted_iou)
    traced = torch.jit.trace(scripted_iou, (pred, target))
    want = scripted_iou(pred, target)
    assert torch.equal(scripted(pred, target), want) and torch.equal(traced(pred, target), want)
    assert torch.equal(torch.ops.focal.yolo_bbox_iou(pred, target, False, False, True, False,
                                                     1e-7),
                       bbox_iou(pred, target, False, DIoU=True))
    batch = _batch(rng)
    module = torch.jit.script(BboxLoss(16))
    for got, want in zip(_run(module, batch), _run(BboxLoss(16), batch)):
        assert torch.equal(got, want)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The ultralytics package's bbox_iou and BboxLoss, or a skip. Its
    settings file goes to a temporary directory."""
    os.environ.setdefault("YOLO_CONFIG_DIR", str(tmp_path_factory.mktemp("ultralytics")))
    os.environ.setdefault("YOLO_OFFLINE", "1")
    try:
        from ultralytics.utils.loss import BboxLoss as RealBboxLoss
        from ultralytics.utils.metrics import bbox_iou as real_bbox_iou
    except Exception as exc:  # not installed, or not importable with this torch
        pytest.skip(f"ultralytics is not importable here: {type(exc).__name__}: {exc}")
    return real_bbox_iou, RealBboxLoss


@pytest.mark.parametrize("xywh", [False, True], ids=["xyxy", "xywh"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_bbox_iou_against_the_ultralytics_package(rng, real, mode, xywh):
    real_bbox_iou, _ = real
    pred, target = _pairs(rng, 64, xywh)
    a, a_real = pred.clone().requires_grad_(), pred.clone().requires_grad_()
    got = bbox_iou(a, target, xywh, **MODES[mode])
    theirs = real_bbox_iou(a_real, target, xywh, **MODES[mode])
    assert got.shape == theirs.shape and got.dtype == theirs.dtype
    torch.testing.assert_close(got, theirs, rtol=1e-5, atol=4e-6)
    got.sum().backward()
    theirs.sum().backward()
    torch.testing.assert_close(a.grad, a_real.grad, rtol=1e-4, atol=4e-6)
    p64, t64 = pred.double(), target.double()
    assert torch.equal(bbox_iou(p64, t64, xywh, **MODES[mode]),
                       real_bbox_iou(p64, t64, xywh, **MODES[mode]))
    assert torch.equal(ultralytics.bbox_iou(p64, t64, xywh, **MODES[mode]),
                       real_bbox_iou(p64, t64, xywh, **MODES[mode]))


@pytest.mark.parametrize("reg_max", [16, 1])
def test_bbox_loss_against_the_ultralytics_package(rng, real, reg_max):
    _, RealBboxLoss = real
    batch = _batch(rng, reg_max=reg_max)
    step = ("imgsz", "stride")  # the package's (8.4) forward takes them
    got = _run(BboxLoss(reg_max), batch, step=step)
    theirs = _run(RealBboxLoss(reg_max), batch, step=step)
    for g, t in zip(got, theirs):
        torch.testing.assert_close(g, t, rtol=1e-5, atol=1e-7)
    for g, t, r in zip(_run(BboxLoss(reg_max), batch, torch.float64, step),
                       _run(RealBboxLoss(reg_max), batch, torch.float64, step),
                       _run(ultralytics.BboxLoss(reg_max), batch, torch.float64, step)):
        assert torch.equal(g, t) and torch.equal(r, t)
