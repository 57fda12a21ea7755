# SPDX-License-Identifier: MIT
"""Every entry point of the binding's one table (focal/_spec.py), crossed
with what the table drives: the ctypes prototype, the numpy function and its
checks, the torch function and its torch.ops.focal operator (whose schema
comes from the function's signature), the case table of the compile and
mixed-precision suites, and the message an older library gives. A C entry
point missing from the table, or a table entry missing any of these, fails
here."""

import ctypes
import pathlib
import re
import types

import numpy as np
import pytest
import torch

import focal
import focal.torch as ft
from focal import _lib, _spec
from focal.torch._core import _schema_of

import _cases

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENTRIES = [pytest.param(e, id=e.name) for e in _spec.ENTRY_POINTS]
ROWS, CLASSES = 5, 6


def _source(relative):
    """A file of the source tree; these tests skip where the suite runs from a
    copy outside it (the wheel's test, python/check_wheel.py)."""
    path = ROOT / relative
    if not path.is_file():
        pytest.skip(f"needs the source tree ({relative})")
    return path.read_text()


def _present(e):
    if not _lib.has(e.name):
        pytest.skip(f"{_lib.path} lacks {e.symbol}")


def test_the_header_has_no_other_loss():
    # Every function of focal.h that takes logits (or predictions) is in the
    # table, and every symbol of the table is declared there: a new C entry
    # point cannot be left out of the binding.
    header = _source("include/focal/focal.h")
    declared = set(re.findall(r"FOCAL_API int (focal_\w+)\(const float \*(?:logits|pred)",
                              header))
    assert declared == {e.symbol for e in _spec.ENTRY_POINTS}


def test_box_names_are_the_c_constants():
    # focal_box_iou_loss's losses and conventions by name: each name's index
    # is the value of its FOCAL_BOX_* / FOCAL_BOXES_* constant in focal.h.
    header = _source("include/focal/focal.h")
    for prefix, names in (("FOCAL_BOX_", _spec.BOX_LOSSES),
                          ("FOCAL_BOXES_", _spec.BOX_CONVENTIONS)):
        defined = dict(re.findall(rf"#define {prefix}([A-Z_]+) +(\d+)", header))
        assert {k.lower(): int(v) for k, v in defined.items()} == \
            {name: i for i, name in enumerate(names)}
    assert set(_spec.BOX_DEFAULT_EPS) == set(_spec.BOX_CONVENTIONS)


def test_names_are_the_c_descriptors():
    # One name per entry point in C and Python: the written-out test
    # descriptors of tests/entry_points.c carry the table's names, and the
    # entry points their calls reach (those of the descriptors an X-macro
    # generates too, one per box loss and convention) are the table's.
    source = _source("tests/entry_points.c")
    descriptors = set(re.findall(r'\.name = "(\w+)",\n    \.flags', source))
    assert descriptors <= {e.name for e in _spec.ENTRY_POINTS}
    called = set(re.findall(r"return (focal_\w+)\(a->x,", source))
    assert called == {e.symbol for e in _spec.ENTRY_POINTS}


@pytest.mark.parametrize("e", ENTRIES)
def test_prototype(e):
    _present(e)
    fn = getattr(_lib.lib, e.symbol)
    want = {"ptr": ctypes.c_void_p, "size": ctypes.c_size_t, "float": ctypes.c_float,
            "int": ctypes.c_int}
    assert fn.restype is ctypes.c_int
    assert list(fn.argtypes) == [want[_spec.ROLE_CTYPES[r]] for r in e.args]


def _inputs(e, rng):
    """A small valid problem of the entry point, from its description."""
    shape = (ROWS, 4 if e.logits == "boxes" else CLASSES)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    if e.logits == "boxes":
        # boxes x1 y1 x2 y2 of sizes 1 .. 5, targets near them
        x[:, 2:] = x[:, :2] + 1 + 4 * rng.random((ROWS, 2)).astype(np.float32)
        t = (x + rng.standard_normal(shape)).astype(np.float32)
    elif e.targets == "labels":
        t = rng.integers(-1, CLASSES, ROWS).astype(np.int64)
    elif e.targets == "row targets":
        t = (rng.random(ROWS) * (CLASSES - 1)).astype(np.float32)
    elif e.targets == "values":
        t = (rng.standard_normal(shape) * 3).astype(np.float32)
    else:
        t = (rng.random(shape) < 0.3).astype(np.float32) * rng.random(shape).astype(np.float32)
    sizes = {"rows": (ROWS,), "classes": (CLASSES,), "elements": shape}
    w = (rng.random(sizes[e.weight]) * 2).astype(np.float32) if e.weight else None
    return x, t, w


def _numpy(e, x, t, w, reduction):
    kwargs = {"weight": w} if w is not None else {}
    return getattr(focal, e.numpy)(x, t, reduction=reduction, **kwargs)


def _torch(e, x, t, w, reduction):
    xt = torch.tensor(x, requires_grad=True)
    kwargs = {"weight": torch.tensor(w)} if w is not None else {}
    loss = getattr(ft, e.torch)(xt, torch.tensor(t), reduction=reduction, **kwargs)
    upstream = torch.ones_like(loss) if loss.dim() else torch.tensor(1.0)
    loss.backward(upstream)
    return loss.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("e", ENTRIES)
def test_numpy_and_torch_agree(e, reduction):
    # The numpy function and the torch function of one entry point are the
    # same library call: the same bits, shaped as the table says.
    _present(e)
    assert e.numpy in focal.__all__ and e.torch in ft.__all__
    x, t, w = _inputs(e, np.random.default_rng(7))
    loss, grad = _numpy(e, x, t, w, reduction)
    tloss, tgrad = _torch(e, x, t, w, reduction)
    assert grad.shape == x.shape and np.array_equal(grad, tgrad)
    if reduction == "none":
        want = (ROWS,) if e.loss_none == "rows" else x.shape
        assert loss.shape == want and np.array_equal(loss, tloss)
    else:
        assert isinstance(loss, float) and loss == float(tloss)


@pytest.mark.parametrize("e", ENTRIES)
def test_numpy_checks_follow_the_table(e):
    _present(e)
    x, t, w = _inputs(e, np.random.default_rng(3))
    fn = getattr(focal, e.numpy)
    if e.logits == "rows":
        with pytest.raises(ValueError, match="2-D"):
            fn(x.reshape(-1), t)
    if e.logits == "boxes":
        with pytest.raises(ValueError, match="4"):
            fn(x.reshape(-1, 2), t.reshape(-1, 2))
    with pytest.raises(ValueError, match="shape"):
        fn(x, t[:-1])  # one target (row) short
    if e.weight:
        with pytest.raises(ValueError, match="weight"):
            fn(x, t, weight=np.ones(w.size + 1, np.float32))
    with pytest.raises(ValueError):
        fn(x, t, reduction="average")


@pytest.mark.parametrize("e", ENTRIES)
def test_operator_schema_is_the_functions_signature(e):
    public = getattr(ft, e.torch)
    op = getattr(torch.ops.focal, e.torch)
    assert e.torch in ft.OPERATORS
    derived = torch._C.parse_schema("focal::" + _schema_of(public))
    assert str(op.default._schema) == str(derived)


@pytest.mark.parametrize("e", ENTRIES)
def test_in_the_case_table(e):
    # The compile and mixed-precision suites cross _cases.CASES: every entry
    # point's torch function is there under its own name.
    assert e.torch in _cases.CASES


@pytest.mark.parametrize("e", ENTRIES)
def test_an_older_library_names_the_release(e, monkeypatch):
    if e.since <= (1, 0):
        pytest.skip("in every release")
    # The loaded library, less this entry point: a stand-in whose attributes
    # are the real library's, but for the symbol.
    stand_in = types.SimpleNamespace(**{name: getattr(_lib.lib, name) for name in (
        "focal_version_string", "focal_version", "focal_strerror")})
    monkeypatch.setattr(_lib, "lib", stand_in)
    x, t, w = _inputs(e, np.random.default_rng(1))
    release = re.escape(_spec.release(e))
    with pytest.raises(NotImplementedError, match=release):
        getattr(focal, e.numpy)(x, t)
    with pytest.raises(NotImplementedError, match=release):
        getattr(ft, e.torch)(torch.tensor(x), torch.tensor(t))


def test_unknown_names_are_errors():
    with pytest.raises(KeyError):
        _spec.entry("focal")
    with pytest.raises(KeyError):
        _lib.call_entry("quality", 0, 0, 0, None, 0, 0)
