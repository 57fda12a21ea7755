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
from focal import _lib
from focal.torch import _compile, yolo

pytestmark = [
    pytest.mark.skipif(not _compile.OPS, reason="needs PyTorch >= 2.4 (torch.library.custom_op)"),
    pytest.mark.skipif(not _lib.has_family(_lib.lib), reason="needs the 1.1 loss family"),
]

R, C = 48, 20  # rows, classes


def data(seed=0, rows=R, classes=C):
    g = torch.Generator().manual_seed(seed)
    hard = (torch.rand(rows, classes, generator=g) < 0.15).float()
    return {
        "x": torch.randn(rows, classes, generator=g) * 3,
        "hard": hard,
        "soft": torch.rand(rows, classes, generator=g) * hard,
        "labels": torch.randint(-1, classes + 1, (rows,), generator=g),
        "softmax_labels": torch.randint(-1, classes, (rows,), generator=g),
        "row_weight": torch.rand(rows, generator=g),
        "class_alpha": torch.rand(classes, generator=g),
        "pos_weight": torch.rand(classes, generator=g) * 3,
        "elem_pos_weight": torch.rand(rows, classes, generator=g) * 3,
        "score": torch.rand(rows, generator=g),
    }


# name -> loss(x, d, reduction): every public function and module, with the
# options that take another path through the wrapper.
CASES = {
    "sigmoid_focal_loss": lambda x, d, r: ft.sigmoid_focal_loss(x, d["hard"], reduction=r),
    "sigmoid_focal_loss_soft": lambda x, d, r: ft.sigmoid_focal_loss(x, d["soft"], 0.4, 1.5,
                                                                     r),
    "sigmoid_focal_loss_labels": lambda x, d, r: ft.sigmoid_focal_loss_labels(
        x, d["labels"], reduction=r, normalizer=3.0, label_smoothing=0.1,
        class_alpha=d["class_alpha"], weight=d["row_weight"], pos_weight=d["pos_weight"]),
    "sigmoid_focal_loss_dense": lambda x, d, r: ft.sigmoid_focal_loss_dense(
        x, d["soft"], reduction=r, weight=d["row_weight"], pos_weight=d["pos_weight"]),
    "softmax_focal_loss": lambda x, d, r: ft.softmax_focal_loss(
        x, d["softmax_labels"], reduction=r, class_alpha=d["class_alpha"],
        weight=d["row_weight"]),
    "quality_focal_loss": lambda x, d, r: ft.quality_focal_loss(x, d["soft"], reduction=r),
    "quality_focal_loss_yolo": lambda x, d, r: ft.quality_focal_loss(
        x, d["soft"], 1.5, r, pos_weight=d["elem_pos_weight"], alpha=0.25),
    "varifocal_loss": lambda x, d, r: ft.varifocal_loss(x, d["soft"], reduction=r,
                                                        weight=d["elem_pos_weight"]),
    "mmdet.FocalLoss": lambda x, d, r: ft.FocalLoss(reduction=r)(x, d["labels"],
                                                                d["row_weight"]),
    "mmdet.FocalLoss_avg_number": lambda x, d, r: ft.FocalLoss(reduction=r)(
        x, d["hard"], avg_factor=7.0) if r != "sum" else ft.FocalLoss()(x, d["hard"]),
    "mmdet.FocalLoss_avg_tensor_4d": lambda x, d, r: ft.FocalLoss(reduction=r, loss_weight=2.0)(
        x.reshape(2, R // 2, 4, C // 4), d["hard"].reshape(2, R // 2, 4, C // 4),
        avg_factor=None if r == "sum" else torch.tensor(7.0)),
    "mmdet.QualityFocalLoss": lambda x, d, r: ft.QualityFocalLoss(reduction=r)(
        x, (d["labels"], d["score"]), d["row_weight"],
        avg_factor=None if r == "sum" else torch.tensor(5.0)),
    "mmdet.QualityFocalLoss_tensor": lambda x, d, r: ft.QualityFocalLoss(reduction=r)(
        x, d["soft"]),
    "mmdet.VarifocalLoss": lambda x, d, r: ft.VarifocalLoss(reduction=r)(
        x, d["soft"], avg_factor=None if r == "sum" else torch.tensor(3.0)),
    "mmdet.VarifocalLoss_iou_weighted_false": lambda x, d, r: ft.VarifocalLoss(
        iou_weighted=False, reduction=r)(x, d["soft"]),
    "yolo.FocalLoss": lambda x, d, r: yolo.FocalLoss(
        nn.BCEWithLogitsLoss(pos_weight=d["pos_weight"], reduction=r), 2.0)(x, d["soft"]),
    "yolo.QFocalLoss": lambda x, d, r: yolo.QFocalLoss(
        nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]), reduction=r))(x, d["soft"]),
}


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
    torch._dynamo.reset()
    d = data()
    (loss, grad), (closs, cgrad) = eager_and_compiled(lambda x: CASES[name](x, d, reduction),
                                                      d["x"])
    assert closs.dtype == loss.dtype and closs.shape == loss.shape
    assert torch.equal(closs, loss), f"{name}: compiled loss differs from eager"
    assert torch.equal(cgrad, grad), f"{name}: compiled gradient differs from eager"


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", ["sigmoid_focal_loss", "mmdet.FocalLoss", "yolo.FocalLoss",
                                  "softmax_focal_loss"])
def test_compiled_mixed_precision_equals_eager(name, dtype):
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
    for kind, make in (("flat", flat), ("rows", rows), ("rows", labels), ("softmax", softmax),
                       ("soft", quality), ("soft", vfl)):
        for red in (0, 1, 2):
            yield kind, make(x.clone().requires_grad_(), red, True)
            yield kind, make(x.clone(), red, False)


@pytest.mark.parametrize("kind,args", list(opcheck_samples()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_opcheck(kind, args):
    torch.library.opcheck(_compile.OPS[kind], args)
