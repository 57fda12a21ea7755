# SPDX-License-Identifier: MIT
"""torch.compile of every focal.torch function and module, and the custom
operators it traces (focal/torch/_compile.py).

Each public loss is compiled with fullgraph=True (a graph break is an error)
and must give eager's bits: the loss, and the gradient for an upstream
gradient that is not 1. torch.library.opcheck checks every operator's
schema, fake kernel, autograd registration and AOT tracing. PyTorch >= 2.4.
"""

import pytest
import torch
import torch.nn as nn

import focal.torch as ft
from _cases import CASES, C, _anchor_points, _valid, boxes_of, data, skip_unavailable
from focal import _lib
from focal.torch import _compile

pytestmark = [
    pytest.mark.skipif(not _compile.OPS, reason="needs PyTorch >= 2.4 (torch.library.custom_op)"),
    pytest.mark.skipif(not _lib.has("softmax_labels", "quality_focal", "varifocal"), reason="needs the 1.1 loss family"),
]

def eager_and_compiled(loss_fn, x, upstream_seed=1):
    """(loss, grad) eagerly and compiled (fullgraph), the same upstream gradient."""
    results = []
    compiled = torch.compile(loss_fn, fullgraph=True)
    for fn in (loss_fn, compiled):
        leaf = x.detach().clone().requires_grad_()
        loss = fn(leaf)
        g = torch.Generator().manual_seed(upstream_seed)
        up = torch.rand(loss.shape, generator=g, dtype=loss.dtype) + 0.5
        (grad,) = torch.autograd.grad(loss, leaf, up)
        results.append((loss.detach(), grad))
    return results


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_equals_eager_bit_for_bit(name, reduction):
    skip_unavailable(name)
    torch._dynamo.reset()
    d = data()
    (loss, grad), (closs, cgrad) = eager_and_compiled(lambda x: CASES[name](x, d, reduction),
                                                      d["x"])
    assert closs.dtype == loss.dtype and closs.shape == loss.shape
    assert torch.equal(closs, loss), f"{name}: compiled loss differs from eager"
    assert torch.equal(cgrad, grad), f"{name}: compiled gradient differs from eager"


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", ["sigmoid_focal_loss", "mmdet.FocalLoss", "yolo.FocalLoss",
                                  "softmax_focal_loss", "distribution_focal_loss",
                                  "mmdet.DistributionFocalLoss", "yolo.DFLoss"])
def test_compiled_mixed_precision_equals_eager(name, dtype):
    skip_unavailable(name)
    torch._dynamo.reset()
    d = data(2)
    x = d["x"].to(dtype)
    (loss, grad), (closs, cgrad) = eager_and_compiled(lambda x: CASES[name](x, d, "mean"), x)
    assert grad.dtype == dtype and cgrad.dtype == dtype
    assert torch.equal(closs, loss) and torch.equal(cgrad, grad)


def test_compiled_under_autocast_equals_eager():
    torch._dynamo.reset()
    d = data(3)
    x = d["x"].to(torch.bfloat16)

    def loss_fn(x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return ft.sigmoid_focal_loss(x, d["hard"].to(torch.bfloat16), reduction="sum")

    (loss, grad), (closs, cgrad) = eager_and_compiled(loss_fn, x)
    assert loss.dtype == closs.dtype == torch.float32
    assert torch.equal(closs, loss) and torch.equal(cgrad, grad)


def test_shapes_that_change_recompile_without_a_break():
    # After a second shape dynamo traces with symbolic sizes: the fake kernels
    # must work on them.
    torch._dynamo.reset()
    compiled = torch.compile(lambda x, t: ft.sigmoid_focal_loss(x, t, reduction="none"),
                             fullgraph=True)
    for rows in (8, 13, 21, 34):
        d = data(rows, rows=rows)
        x = d["x"].requires_grad_()
        loss = compiled(x, d["hard"])
        want = ft.sigmoid_focal_loss(d["x"], d["hard"], reduction="none")
        assert torch.equal(loss, want)
        loss.sum().backward()
        assert x.grad.shape == x.shape


def test_a_compiled_model_trains():
    # A detector-head-like model with the loss inside: one graph, no break.
    torch._dynamo.reset()
    torch.manual_seed(0)
    feats = torch.randn(256, 16)
    labels = torch.randint(0, C + 1, (256,))

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls = nn.Linear(16, C)
            self.loss = ft.FocalLoss()

        def forward(self, f, labels):
            # mmdet's heads pass the positive count as a number or a tensor.
            n_pos = (labels < C).sum()
            return (self.loss(self.cls(f), labels, avg_factor=float(n_pos))
                    + self.loss(self.cls(f), labels, avg_factor=n_pos.float()))

    eager = Head()
    compiled_model = Head()
    compiled_model.load_state_dict(eager.state_dict())
    step = torch.compile(compiled_model, fullgraph=True)
    losses = []
    for model, fn in ((eager, eager), (compiled_model, step)):
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        curve = []
        for _ in range(10):
            opt.zero_grad()
            loss = fn(feats, labels)
            loss.backward()
            opt.step()
            curve.append(loss.item())
        losses.append(curve)
    assert losses[0][-1] < 0.8 * losses[0][0]
    # The linear layer may be computed differently once compiled; the loss
    # kernel is the same: the curves agree to float rounding.
    torch.testing.assert_close(torch.tensor(losses[1]), torch.tensor(losses[0]),
                               rtol=1e-4, atol=1e-6)


def opcheck_samples():
    d = data(4)
    x, i32 = d["x"], torch.int32
    lab = d["labels"].to(i32)
    sm = d["softmax_labels"].to(i32)
    div = torch.tensor(7.5)
    flat = lambda x, red, want: (x, d["hard"], 0.25, 2.0, red, want)  # noqa: E731
    rows = lambda x, red, want: (x, d["soft"], False, 0.25, 2.0, red, 0.0, 0.1,  # noqa: E731
                                 d["class_alpha"], d["row_weight"], d["pos_weight"], None, want)
    labels = lambda x, red, want: (x, lab, True, 0.25, 2.0, red, 0.0, 0.0, None,  # noqa: E731
                                   None, None, div if red == 1 else None, want)
    softmax = lambda x, red, want: (x, sm, 0.25, 2.0, red, 0.0, 0.0, None,  # noqa: E731
                                    d["row_weight"], want)
    quality = lambda x, red, want: (x, d["soft"], "quality", 0.25, 2.0, red, 0.0,  # noqa: E731
                                    None, d["elem_pos_weight"].reshape(-1),
                                    _lib.FLAG_QUALITY_ALPHA, None, want)
    vfl = lambda x, red, want: (x, d["soft"], "varifocal", 0.75, 2.0, red, 0.0,  # noqa: E731
                                None, None, 0, div if red == 1 else None, want)
    dfl = lambda x, red, want: (x, d["dist"], red, 0.0, d["row_weight"],  # noqa: E731
                                div if red == 1 else None, want)
    dfl_norm = lambda x, red, want: (x, d["dist"], red, 3.0, None, None, want)  # noqa: E731
    for kind, make in (("flat", flat), ("rows", rows), ("rows", labels), ("softmax", softmax),
                       ("soft", quality), ("soft", vfl), ("dfl", dfl), ("dfl", dfl_norm)):
        for red in (0, 1, 2):
            yield kind, make(x.clone().requires_grad_(), red, True)
            yield kind, make(x.clone(), red, False)


@pytest.mark.parametrize("kind,args", list(opcheck_samples()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_opcheck(kind, args):
    if kind == "dfl" and not _lib.has("distribution_focal"):
        pytest.skip("needs libfocal >= 1.4 (focal_distribution_focal)")
    torch.library.opcheck(_compile.OPS[kind], args)


def operator_samples():
    """Arguments for every torch.ops.focal.* operator of the public API."""
    d = data(5)
    x = d["x"]
    hard, soft, labels = d["hard"], d["soft"], d["labels"]
    b, t = boxes_of(x), d["boxes"]
    vb, vt = _valid(b), _valid(t)
    avg = torch.tensor(6.0)
    rows = (0.25, 2.0, "mean", 0.0, 0.0, d["class_alpha"], d["row_weight"])
    return {
        "sigmoid_focal_loss": [(x, hard, 0.25, 2.0, r) for r in ("none", "mean", "sum")],
        "sigmoid_focal_loss_labels": [(x, labels) + rows + (d["pos_weight"],)],
        "sigmoid_focal_loss_dense": [(x, soft) + rows + (None,)],
        "softmax_focal_loss": [(x, d["softmax_labels"]) + rows],
        "quality_focal_loss": [(x, soft, 2.0, "sum", 0.0, None, d["elem_pos_weight"], 0.25),
                               (x, soft, 2.0, "none", 0.0, d["elem_pos_weight"], None, None)],
        "varifocal_loss": [(x, soft, 0.75, 2.0, "mean", 4.0, None)],
        "mmdet_focal_loss": [(x, labels, d["row_weight"], None, avg, None, "mean", 2.0, 0.25,
                              1.0, False),
                             (x, hard, None, 5.0, None, "none", "mean", 2.0, 0.25, 2.0, False)],
        "mmdet_quality_focal_loss": [(x, labels, d["score"], None, None, avg, None, "mean", 2.0,
                                      1.0, False)],
        "mmdet_varifocal_loss": [(x, soft, None, None, avg, None, "mean", 0.75, 2.0, flag, 1.0)
                                 for flag in (True, False)],
        "yolo_focal_loss": [(x, soft, d["pos_weight"], None, 1.5, 0.25, "mean", q)
                            for q in (False, True)],
        "distribution_focal_loss": [(x, d["dist"], "mean", 0.0, d["row_weight"]),
                                    (x, d["dist"], "none", 0.0, None),
                                    (x, d["dist"], "sum", 5.0, None)],
        "mmdet_distribution_focal_loss": [
            (x, d["dist"], d["row_weight"], None, avg, None, "mean", 0.25),
            (x, d["dist"], None, 4.0, None, "none", "mean", 1.0),
            (x, d["dist"], d["row_weight"][:, None], None, None, "sum", "mean", 1.0)],
        "yolo_dfl_loss": [(x, d["ltrb"], C)],
        # libfocal 1.5
        "box_iou_loss": [(b, t, "ciou", "torchvision", None, "mean", 0.0, d["box_weight"]),
                         (b, t, "iou_log", "mmdet", 0.01, "none", 0.0, None),
                         (b, t, "giou", "ultralytics", None, "sum", 3.0, None)],
        "generalized_box_iou_loss": [(b, t, "none", 1e-7)],
        "distance_box_iou_loss": [(b, t, "mean", 0.5)],
        "complete_box_iou_loss": [(b, t, "sum", 1e-7)],
        "smooth_l1_loss": [(x, d["values"], 1.0 / 9.0, "mean", 0.0, d["row_weight"][:, None]),
                           (x, d["values"], 0.0, "none", 0.0, None)],
        "mmdet_iou_loss": [(vb, vt, d["box_weight"], None, avg, None, "mean", "log", 1e-6, 1.0,
                            False),
                           (vb, vt, None, 5.0, None, "none", "mean", "ciou", 1e-6, 2.0, False),
                           (b, t, d["box_weight"][:, None].expand(-1, 4), None, None, "sum",
                            "mean", "giou", 1e-6, 1.0, False)],
        "mmdet_smooth_l1_loss": [(x, d["values"], d["row_weight"][:, None], None, avg, None,
                                  "mean", 1.0 / 9.0, 1.0, False),
                                 (x, d["values"], None, None, None, "none", "mean", 0.0, 2.0,
                                  True)],
        "yolo_bbox_iou": [(vb, vt, False, False, False, True, 1e-7),
                          (vb.abs(), vt.abs(), True, True, False, False, 0.01)],
        "yolo_bbox_loss": [(x[:, :16].reshape(2, 24, 16).contiguous(),
                            _valid(x[:, 16:]).reshape(2, 24, 4), _anchor_points(24),
                            _valid(d["boxes"][:48]).reshape(2, 24, 4), soft.reshape(2, 24, 20),
                            torch.tensor(6.5), (labels % 2 == 0).reshape(2, 24), None, None, 4)],
    }


def test_every_operator_has_samples():
    assert sorted(operator_samples()) == sorted(ft.OPERATORS)


@pytest.mark.parametrize("name", sorted(operator_samples()))
def test_opcheck_public_operators(name):
    skip_unavailable(name)
    op = getattr(torch.ops.focal, name)
    for args in operator_samples()[name]:
        for grad in (True, False):
            torch.library.opcheck(op, (args[0].clone().requires_grad_(grad),) + args[1:])
