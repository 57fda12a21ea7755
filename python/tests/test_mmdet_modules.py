# SPDX-License-Identifier: MIT
"""focal.torch.FocalLoss, QualityFocalLoss, VarifocalLoss and
DistributionFocalLoss against mmdet 3.x.

Each case runs our module on float32 and the mmdet expression of
_mmdet_reference.py twice: in float32 for the result's dtype and shape (which
must be mmdet's: a (1,) avg_factor makes a (1,) loss), in float64 for the
values; loss and gradient (with a random upstream gradient) are compared
within the accuracy contract of _reference.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import _mmdet_reference as mm
import focal
from focal import _lib
from focal.torch import DistributionFocalLoss, FocalLoss, QualityFocalLoss, VarifocalLoss
from _reference import REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close

pytestmark = pytest.mark.skipif(not _lib.has("softmax_labels", "quality_focal", "varifocal"),
                                reason="the mmdet modules need libfocal 1.1")

N, C = 64, 7
REDUCTIONS = [None, "none", "sum", "mean"]  # reduction_override (None: the module's "mean")
AVG = [None, 11.0, 0.0, "0d", "(1,)"]
# Reduced losses: the library sums in double, torch (the generic weight path)
# in float32 pairwise: a few float32 roundings of a 448-term sum.
REDUCED = REDUCED_RTOL + 8 * 2.0**-23


def avg_value(avg, dtype):
    if avg == "0d":
        return torch.tensor(7.0, dtype=dtype)  # reduce_mean(num_pos) tensors
    if avg == "(1,)":
        return torch.tensor([7.0], dtype=dtype)
    return avg


def check(rng, ours, ref, x32, what=""):
    """ours(x): our loss on x (float32, requires grad); ref(x, dtype): mmdet's."""
    x = torch.from_numpy(x32).requires_grad_()
    try:
        want = ref(torch.from_numpy(x32), torch.float32)
    except ValueError as exc:  # "sum" with avg_factor: mmdet's error, and ours
        assert "avg_factor" in str(exc)
        with pytest.raises(ValueError, match="avg_factor"):
            ours(x)
        return None
    loss = ours(x)
    assert loss.dtype == want.dtype and loss.shape == want.shape, (what, loss, want)
    up = torch.from_numpy(rng.uniform(-2, 2, tuple(loss.shape)))
    loss.backward(up.to(loss.dtype))
    x64 = torch.from_numpy(x32.astype(np.float64)).requires_grad_()
    ref64 = ref(x64, torch.float64)
    ref64.backward(up)
    scale = float(np.abs(ref64.detach().numpy()).max(initial=0.0))
    if loss.dim() and loss.numel() > 1:
        assert_close(loss.detach().numpy(), ref64.detach().numpy(), SOFT_RTOL,
                     SOFT_ATOL * scale, what + " loss")
    else:
        assert_close(loss.detach().numpy(), ref64.detach().numpy(), REDUCED, 0.0,
                     what + " reduced loss")
    g = x64.grad.numpy()
    assert_close(x.grad.numpy(), g, SOFT_RTOL, SOFT_ATOL * np.abs(g).max(initial=0.0),
                 what + " grad")
    return loss


def logits(rng, shape):
    return (rng.standard_normal(shape) * 3).astype(np.float32)


def class_labels(rng, n=N, classes=C):
    labels = rng.integers(0, classes, n)
    labels[rng.random(n) < 0.6] = classes  # background
    return torch.from_numpy(labels)


# ---- FocalLoss ------------------------------------------------------------------------


def focal_target(rng, kind):
    labels = class_labels(rng)
    if kind == "labels":
        return labels
    onehot = F.one_hot(labels, C + 1)[:, :C]
    if kind == "onehot_int":
        return onehot  # int64
    if kind == "onehot_float":
        return onehot.float()
    soft = torch.from_numpy(rng.random((N, C)).astype(np.float32))
    soft[onehot == 0] *= (torch.rand(N, C) < 0.5)[onehot == 0].float()
    return soft


def focal_weight(rng, kind):
    w = {"none": None,
         "(N,)": rng.uniform(0, 2, N),
         "(N,1)": rng.uniform(0, 2, (N, 1)),
         "(N,C)": rng.uniform(0, 2, (N, C)),
         "(N*C,)": rng.uniform(0, 2, N * C)}[kind]
    if w is None:
        return None
    w = torch.from_numpy(w.astype(np.float32))
    w[::5] = 0.0
    return w


@pytest.mark.parametrize("avg", AVG, ids=str)
@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("wkind", ["none", "(N,)", "(N,1)", "(N,C)", "(N*C,)"])
@pytest.mark.parametrize("tkind", ["labels", "onehot_float", "onehot_int", "soft"])
def test_focal_loss(rng, tkind, wkind, override, avg):
    target, weight = focal_target(rng, tkind), focal_weight(rng, wkind)
    module = FocalLoss(use_sigmoid=True, gamma=2.0, alpha=0.25, reduction="mean",
                       loss_weight=0.75)

    def ref(x, dtype):
        w = None if weight is None else weight.to(dtype)
        t = target.to(dtype) if target.dtype.is_floating_point else target
        return mm.focal_loss(x, t, w, avg_value(avg, dtype), override, 2.0, 0.25, "mean",
                             0.75)

    check(rng, lambda x: module(x, target, weight, avg_value(avg, torch.float32), override),
          ref, logits(rng, (N, C)), f"{tkind} {wkind} {override} {avg}")


# Every input rank mmdet takes (a target shaped like pred: one-hot or soft)
# crossed with every reduction, avg_factor and weight: the (B, C, H, W) "mean"
# with avg_factor once returned the sum.
RANKED = [(N * C,), (N, C), (4, C, 9), (3, C, 4, 5)]


def ranked_target(rng, shape, kind):
    if len(shape) == 1:  # one class: 0 or 1 per element
        onehot = torch.from_numpy(rng.integers(0, 2, shape))
    else:
        c = shape[1]
        rows = int(np.prod(shape)) // c
        onehot = F.one_hot(torch.from_numpy(rng.integers(0, c + 1, rows)), c + 1)[:, :c]
        # classes last, then moved to dim 1 (mmdet's permuted, non-contiguous target)
        onehot = onehot.reshape(shape[:1] + shape[2:] + shape[1:2]).movedim(-1, 1)
    if kind == "onehot_int":
        return onehot
    soft = torch.from_numpy(rng.random(shape).astype(np.float32))
    return soft * (onehot > 0) if kind == "soft" else onehot.float()


@pytest.mark.parametrize("avg", AVG, ids=str)
@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("tkind", ["onehot_int", "onehot_float", "soft"])
@pytest.mark.parametrize("shape", RANKED, ids=str)
def test_focal_loss_every_rank(rng, shape, tkind, with_weight, override, avg):
    target = ranked_target(rng, shape, tkind)
    weight = (torch.from_numpy(rng.uniform(0, 2, shape).astype(np.float32))
              if with_weight else None)
    module = FocalLoss(gamma=1.5, alpha=0.3, loss_weight=0.5)

    def ref(x, dtype):
        t = target.to(dtype) if target.dtype.is_floating_point else target
        return mm.focal_loss(x, t, None if weight is None else weight.to(dtype),
                             avg_value(avg, dtype), override, 1.5, 0.3, "mean", 0.5)

    check(rng, lambda x: module(x, target, weight, avg_value(avg, torch.float32), override),
          ref, logits(rng, shape), f"{shape} {tkind} {with_weight} {override} {avg}")


def test_focal_loss_4d_avg_factor_is_the_flattened_one(rng):
    # The reported case: pred (2, 5, 4, 4), one-hot target, avg_factor=11.
    x = torch.from_numpy(logits(rng, (2, 5, 4, 4)))
    target = ranked_target(rng, (2, 5, 4, 4), "onehot_float")
    flat = (x.movedim(1, -1).reshape(-1, 5), target.movedim(1, -1).reshape(-1, 5))
    four_d = FocalLoss()(x, target, avg_factor=11.0)
    assert four_d.item() == FocalLoss()(*flat, avg_factor=11.0).item()
    want = mm.focal_loss(x.double(), target.double(), avg_factor=11.0)
    assert abs(four_d.item() - want.item()) <= 1e-5 * abs(want.item())
    assert abs(four_d.item() - FocalLoss()(x, target, reduction_override="sum").item() / 11) \
        <= 1e-5 * four_d.item()


@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
def test_focal_loss_mmdet_test_shape(rng, override):
    # mmdet's own test: a (3, 5, 40, 40) prediction with a permuted integer
    # one-hot target of its shape (not contiguous), avg_factor=10.
    shape = (3, 5, 40, 40)
    target = ranked_target(rng, shape, "onehot_int")
    avg = None if override == "sum" else 10.0

    def ref(x, dtype):
        return mm.focal_loss(x, target, None, avg, override, gamma=1.5, alpha=0.3)

    check(rng, lambda x: FocalLoss(gamma=1.5, alpha=0.3)(x, target, None, avg, override),
          ref, logits(rng, shape))


def test_focal_loss_weight_gets_mmdet_gradient(rng):
    # A weight that wants a gradient goes through torch: it gets mmdet's.
    target = class_labels(rng)
    for shape in [(N,), (N, C)]:
        w32 = torch.from_numpy(rng.uniform(0, 2, shape).astype(np.float32)).requires_grad_()
        x = torch.from_numpy(logits(rng, (N, C)))
        FocalLoss()(x, target, w32, avg_factor=5.0).backward()
        w64 = w32.detach().double().requires_grad_()
        mm.focal_loss(x.double(), target, w64, avg_factor=5.0).backward()
        assert_close(w32.grad.numpy(), w64.grad.numpy(), SOFT_RTOL, SOFT_ATOL, "weight grad")


def test_focal_loss_avg_factor_divides_the_sum(rng):
    # mean with avg_factor is the library's sum divided by avg_factor + eps:
    # inside the library (numbers, 0-d tensors: the double sum divided once)
    # or by torch (a (1,) tensor, or one that wants a gradient).
    x = torch.from_numpy(logits(rng, (N, C))).requires_grad_()
    target = class_labels(rng)
    total = FocalLoss(reduction="sum")(x, target)
    (g_total,) = torch.autograd.grad(total, x)
    eps = torch.finfo(torch.float32).eps
    for avg in [3.0, 0.0, torch.tensor(3.0), torch.tensor(3.0, dtype=torch.float64),
                torch.tensor([3.0]), 5, torch.tensor(3), torch.tensor(3.0, requires_grad=True)]:
        got = FocalLoss()(x, target, avg_factor=avg)
        want = total / (avg + eps)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert_close(got.detach().numpy(), want.detach().numpy(), 2.0**-23, what=str(avg))
        (g,) = torch.autograd.grad(got, x)
        d = np.float32(float(avg + eps))
        assert_close(g.numpy(), g_total.numpy() / d, 2 * 2.0**-23, what=str(avg))
        if isinstance(avg, torch.Tensor) and (avg.dim() == 1 or avg.dtype == torch.float64):
            assert torch.equal(got, want)  # torch's division: mmdet's (1,) shape, float64


# ---- QualityFocalLoss -----------------------------------------------------------------


def qfl_target(rng, kind):
    if kind == "tuple":
        labels = class_labels(rng)
        labels[::9] = -1  # mmdet's pos mask: neither positive nor ignored, all negative
        score = torch.from_numpy(rng.random(N).astype(np.float32))
        score[::4] = 0.0
        return (labels, score)
    soft = torch.from_numpy(rng.random((N, C)).astype(np.float32))
    soft[torch.rand(N, C) < 0.8] = 0.0
    return soft


@pytest.mark.parametrize("avg", AVG, ids=str)
@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("wkind", ["none", "(N,)", "(N,)grad"])
@pytest.mark.parametrize("tkind", ["tuple", "tensor"])
def test_quality_focal_loss(rng, tkind, wkind, override, avg):
    target = qfl_target(rng, tkind)
    weight = None
    if wkind != "none":
        weight = torch.from_numpy(rng.uniform(0, 2, N).astype(np.float32))
        weight.requires_grad_(wkind.endswith("grad"))
    module = QualityFocalLoss(use_sigmoid=True, beta=2.0, reduction="mean", loss_weight=1.5)

    def ref(x, dtype):
        t = target if isinstance(target, torch.Tensor) else (target[0], target[1].to(dtype))
        if isinstance(t, torch.Tensor):
            t = t.to(dtype)
        w = None if weight is None else weight.detach().to(dtype)
        return mm.quality_focal_loss(x, t, w, avg_value(avg, dtype), override, 2.0, "mean",
                                     1.5)

    check(rng, lambda x: module(x, target, weight, avg_value(avg, torch.float32), override),
          ref, logits(rng, (N, C)), f"{tkind} {wkind} {override} {avg}")


@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
def test_quality_focal_loss_more_dims(rng, override):
    shape = (2, C, 5, 5)
    target = torch.from_numpy(rng.random(shape).astype(np.float32))
    target[torch.rand(shape) < 0.7] = 0.0
    weight = torch.from_numpy(rng.uniform(0, 2, (2, 5, 5)).astype(np.float32))

    def ref(x, dtype):
        return mm.quality_focal_loss(x, target.to(dtype), weight.to(dtype),
                                     reduction_override=override, beta=1.5)

    check(rng, lambda x: QualityFocalLoss(beta=1.5)(x, target, weight,
                                                   reduction_override=override),
          ref, logits(rng, shape))


def test_quality_mean_divides_by_rows(rng):
    x = torch.from_numpy(logits(rng, (N, C)))
    target = qfl_target(rng, "tuple")
    total = QualityFocalLoss(reduction="sum")(x, target)
    mean = QualityFocalLoss()(x, target)
    assert mean.item() == pytest.approx(total.item() / N, rel=1e-6)


# ---- VarifocalLoss --------------------------------------------------------------------


def vfl_weight(rng, kind):
    if kind == "none":
        return None
    shape = {"(N,C)": (N, C), "(N,C)grad": (N, C), "(N,1)": (N, 1)}[kind]
    w = torch.from_numpy(rng.uniform(0, 2, shape).astype(np.float32))
    return w.requires_grad_(kind.endswith("grad"))


@pytest.mark.parametrize("avg", AVG, ids=str)
@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("wkind", ["none", "(N,C)", "(N,C)grad", "(N,1)"])
@pytest.mark.parametrize("iou_weighted", [True, False])
def test_varifocal_loss(rng, iou_weighted, wkind, override, avg):
    target = qfl_target(rng, "tensor")  # IoU at the positive class, 0 elsewhere
    weight = vfl_weight(rng, wkind)
    module = VarifocalLoss(use_sigmoid=True, alpha=0.75, gamma=2.0, iou_weighted=iou_weighted,
                           reduction="mean", loss_weight=2.0)

    def ref(x, dtype):
        w = None if weight is None else weight.detach().to(dtype)
        return mm.varifocal_loss(x, target.to(dtype), w, avg_value(avg, dtype), override,
                                 0.75, 2.0, "mean", 2.0, iou_weighted)

    check(rng, lambda x: module(x, target, weight, avg_value(avg, torch.float32), override),
          ref, logits(rng, (N, C)), f"{iou_weighted} {wkind} {override} {avg}")


@pytest.mark.parametrize("avg", AVG, ids=str)
@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("iou_weighted", [True, False])
@pytest.mark.parametrize("shape", RANKED, ids=str)
def test_varifocal_every_rank(rng, shape, iou_weighted, with_weight, override, avg):
    target = torch.from_numpy(rng.random(shape).astype(np.float32))
    target[torch.rand(shape) < 0.7] = 0.0
    weight = (torch.from_numpy(rng.uniform(0, 2, shape).astype(np.float32))
              if with_weight else None)
    module = VarifocalLoss(gamma=1.5, iou_weighted=iou_weighted)

    def ref(x, dtype):
        return mm.varifocal_loss(x, target.to(dtype),
                                 None if weight is None else weight.to(dtype),
                                 avg_value(avg, dtype), override, gamma=1.5,
                                 iou_weighted=iou_weighted)

    check(rng, lambda x: module(x, target, weight, avg_value(avg, torch.float32), override),
          ref, logits(rng, shape), f"{shape} {iou_weighted} {with_weight} {override} {avg}")


# ---- DistributionFocalLoss ------------------------------------------------------------

needs_dfl = pytest.mark.skipif(not _lib.has("distribution_focal"),
                               reason="DistributionFocalLoss needs libfocal 1.4")
BINS = 17  # GFL: reg_max 16, pred (N, reg_max + 1)


def dfl_target(rng, n=N, bins=BINS):
    """GFL's distance targets in [0, n): random, exact integers, 0, and the
    last float below n (bbox2distance clamps to n - 0.01)."""
    t = rng.uniform(0, bins - 1 - 0.01, n).astype(np.float32)
    t[::6] = rng.integers(0, bins - 1, t[::6].size)
    t[1], t[2], t[3] = 0.0, np.nextafter(np.float32(bins - 1), np.float32(0)), bins - 1 - 0.01
    return torch.from_numpy(t)


def dfl_weight(rng, kind):
    """The (N,) weight GFL passes (weight_targets expanded to the 4 sides),
    and the other shapes mmdet's loss * weight broadcasts."""
    if kind == "none":
        return None
    shape = {"(N,)": (N,), "(N,)grad": (N,), "()": (), "(1,)": (1,), "(N,1)": (N, 1)}[kind]
    w = torch.from_numpy(rng.uniform(0, 2, shape).astype(np.float32))
    if w.dim() and w.shape[0] == N:
        w[::5] = 0.0
    return w.requires_grad_(kind.endswith("grad"))


@needs_dfl
@pytest.mark.parametrize("loss_weight", [1.0, 0.25])
@pytest.mark.parametrize("avg", AVG, ids=str)
@pytest.mark.parametrize("override", REDUCTIONS, ids=str)
@pytest.mark.parametrize("wkind", ["none", "(N,)", "(N,)grad", "()", "(1,)", "(N,1)"])
def test_distribution_focal_loss(rng, wkind, override, avg, loss_weight):
    target, weight = dfl_target(rng), dfl_weight(rng, wkind)
    module = DistributionFocalLoss(reduction="mean", loss_weight=loss_weight)

    def ref(x, dtype):
        w = None if weight is None else weight.detach().to(dtype)
        return mm.distribution_focal_loss(x, target.to(dtype), w, avg_value(avg, dtype),
                                          override, "mean", loss_weight)

    check(rng, lambda x: module(x, target, weight, avg_value(avg, torch.float32), override),
          ref, logits(rng, (N, BINS)), f"{wkind} {override} {avg} {loss_weight}")


@needs_dfl
@pytest.mark.parametrize("bins", [2, 8, 16, 17])
def test_distribution_focal_loss_gfl_head(rng, bins):
    # GFLHead.loss_by_feat_single: pred_corners (num_pos * 4, reg_max + 1),
    # weight = weight_targets[:, None].expand(-1, 4).reshape(-1), avg_factor=4.0,
    # loss_weight 0.25.
    pos = 23
    pred = logits(rng, (pos * 4, bins))
    target = dfl_target(rng, pos * 4, bins)
    weight = torch.from_numpy(rng.random(pos).astype(np.float32))[:, None].expand(-1, 4)
    weight = weight.reshape(-1)
    module = DistributionFocalLoss(loss_weight=0.25)

    def ref(x, dtype):
        return mm.distribution_focal_loss(x, target.to(dtype), weight.to(dtype), 4.0,
                                          loss_weight=0.25)

    check(rng, lambda x: module(x, target, weight, avg_factor=4.0), ref, pred)


@needs_dfl
def test_distribution_focal_loss_weight_gets_mmdet_gradient(rng):
    target = dfl_target(rng)
    w32 = torch.from_numpy(rng.uniform(0, 2, N).astype(np.float32)).requires_grad_()
    x = torch.from_numpy(logits(rng, (N, BINS)))
    DistributionFocalLoss()(x, target, w32, avg_factor=5.0).backward()
    w64 = w32.detach().double().requires_grad_()
    mm.distribution_focal_loss(x.double(), target.double(), w64, avg_factor=5.0).backward()
    assert_close(w32.grad.numpy(), w64.grad.numpy(), SOFT_RTOL, SOFT_ATOL, "weight grad")


@needs_dfl
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_distribution_focal_loss_low_precision_dtype_is_mmdets(rng, dtype):
    # mmdet's weights are float32 (dis_right.float() - label): its loss is
    # float32 for a bfloat16 / float16 pred, whatever the target's dtype.
    x = torch.from_numpy(logits(rng, (N, BINS))).to(dtype)
    for t in (dfl_target(rng), dfl_target(rng).clamp(max=15.875).to(dtype)):
        want = mm.distribution_focal_loss(x.float(), t.float())
        got = DistributionFocalLoss()(x, t)
        assert got.dtype == torch.float32
        try:
            assert mm.distribution_focal_loss(x, t).dtype == torch.float32
        except RuntimeError:  # PyTorch 1.13: no float16 cross_entropy on the CPU
            assert dtype == torch.float16
        assert_close(got.numpy(), want.numpy(), REDUCED, 0.0, str(dtype))


@needs_dfl
def test_distribution_focal_loss_errors(rng):
    x = torch.from_numpy(logits(rng, (4, 8)))
    t = torch.tensor([0.5, 1.0, 6.99, 0.0])
    module = DistributionFocalLoss()
    with pytest.raises(ValueError, match="avg_factor"):
        module(x, t, avg_factor=3.0, reduction_override="sum")
    with pytest.raises(AssertionError, match="reduction_override"):
        module(x, t, reduction_override="avg")
    with pytest.raises(ValueError):
        DistributionFocalLoss(reduction="avg")
    bad = DistributionFocalLoss()
    bad.reduction = "avg"
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        bad(x, t)
    for target in ([0.5, 7.0, 1.0, 0.0], [0.5, -0.5, 1.0, 0.0], [0.5, float("nan"), 1.0, 0.0]):
        with pytest.raises(focal.FocalError, match=r"\[0, 7\)"):
            module(x, torch.tensor(target))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        module(x, t[:, None])
    with pytest.raises(ValueError, match="2-D"):
        module(x[None], t)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        module(x.double(), t)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        module(x, t.double())
    assert repr(DistributionFocalLoss(loss_weight=0.25)) == \
        "DistributionFocalLoss(reduction='mean', loss_weight=0.25)"


# ---- errors, as the peers raise them ---------------------------------------------------


def test_errors(rng):
    x = torch.from_numpy(logits(rng, (10, 4)))
    labels = torch.tensor([0, 1, 2, 3, 4, 4, 0, 1, 2, 3])
    soft = torch.rand(10, 4)
    for module, target in [(FocalLoss(), labels), (QualityFocalLoss(), (labels, torch.rand(10))),
                           (VarifocalLoss(), soft)]:
        name = type(module).__name__
        with pytest.raises(ValueError, match="avg_factor"):
            module(x, target, avg_factor=3.0, reduction_override="sum")
        with pytest.raises(AssertionError, match="reduction_override"):
            module(x, target, reduction_override="avg")
        module.reduction = "avg"  # mmdet checks it in reduce_loss
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            module(x, target)
        with pytest.raises(ValueError):
            type(module)(reduction="avg")
        with pytest.raises(AssertionError, match="sigmoid"):
            type(module)(use_sigmoid=False)
        assert "loss_weight=1.0" in repr(type(module)()), name
    with pytest.raises(NotImplementedError, match="activated=True"):
        FocalLoss(activated=True)
    with pytest.raises(NotImplementedError, match="activated=True"):
        QualityFocalLoss(activated=True)
    with pytest.raises(AssertionError, match="alpha"):
        VarifocalLoss(alpha=-0.5)
    with pytest.raises(NotImplementedError, match="alpha"):
        FocalLoss(alpha=-1.0)(x, labels)
    with pytest.raises(AssertionError):  # mmdet: weight.numel() == loss.numel()
        FocalLoss()(x, labels, torch.ones(9))
    with pytest.raises(AssertionError):
        VarifocalLoss()(x, soft[:5])
    with pytest.raises(AssertionError):
        QualityFocalLoss()(x, soft[:5])
    with pytest.raises(AssertionError, match="tuple of two"):
        QualityFocalLoss()(x, (labels,))
    with pytest.raises(ValueError, match="Target size"):  # as binary_cross_entropy_with_logits
        FocalLoss()(x, torch.zeros(10, 5))
