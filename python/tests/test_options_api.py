# SPDX-License-Identifier: MIT
"""focal.sigmoid_labels / focal.sigmoid_dense (libfocal 1.1): focal_options.

Parity with a float64 reference built by one-hot expansion (torchvision's
loss on the one-hot targets, by hand with per-class alpha), bitwise
identities between the entry points, conversions, and every error path.
"""

import ctypes
import types

import numpy as np
import pytest

import focal
from focal import _lib
from _reference import (HARD_RTOL, REDUCED_RTOL, SOFT_ATOL, SOFT_RTOL, assert_close,
                        focal64, one_hot64, rows64)

pytestmark = pytest.mark.skipif(not _lib.has_options(_lib.lib),
                                reason="focal_options is a libfocal 1.1 feature")

# Return codes from focal.h.
EALPHA, EGAMMA, EREDUCTION, ETARGET = -3, -4, -5, -7
EOPTIONS, ENORMALIZER, ESMOOTHING, ELABEL = -12, -13, -14, -15


def make_labels(rng, rows, classes, ignored=0.1, background=0.5):
    """Class indices with ~10% ignored rows (-1) and ~50% background (classes)."""
    u = rng.random(rows)
    labels = rng.integers(0, classes, rows)
    labels[u < background + ignored] = classes
    labels[u < ignored] = -1
    return labels.astype(np.int32)


def make_weight(rng, rows):
    w = rng.uniform(0.0, 2.0, rows).astype(np.float32)
    w[::5] = 0.0
    w[1::5] = 1.0
    return w


def options(rng, variant, rows, classes):
    """Keyword arguments for one option set."""
    kw = {}
    if variant in ("class_alpha", "all"):
        kw["class_alpha"] = rng.uniform(0.0, 1.0, classes).astype(np.float32)
        kw["class_alpha"][0] = 0.0  # the ends of [0, 1] are valid
        kw["class_alpha"][-1] = 1.0
    if variant in ("weight", "all"):
        kw["weight"] = make_weight(rng, rows)
    if variant in ("normalizer", "all"):
        kw["normalizer"] = 17.5
    if variant in ("smoothing", "all"):
        kw["label_smoothing"] = 0.1
    return kw


def bits(result):
    loss, grad = result
    return np.asarray(loss, np.float32).tobytes(), grad.tobytes()


VARIANTS = ["plain", "class_alpha", "weight", "normalizer", "smoothing", "all"]
SHAPES = [(37, 7), (300, 80), (9, 1)]  # rows straddling vectors, a COCO head, 1 class


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("gamma", [0.0, 1.5, 2.0])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_labels_parity(rng, shape, variant, gamma, reduction):
    rows, classes = shape
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    labels = make_labels(rng, rows, classes)
    kw = options(rng, variant, rows, classes)
    alpha = 0.25 if variant != "plain" else -1.0 if gamma == 1.5 else 0.25

    loss, grad = focal.sigmoid_labels(x, labels, alpha, gamma, reduction, **kw)
    ref_loss, ref_grad = rows64(x, labels=labels, alpha=alpha, gamma=gamma,
                                reduction=reduction, **kw)

    soft = kw.get("label_smoothing", 0.0) > 0
    w = np.abs(kw.get("weight", np.ones(rows)).astype(np.float64))[:, None]
    if reduction == "none":
        rtol, atol = (SOFT_RTOL, SOFT_ATOL * w) if soft else (HARD_RTOL, 0.0)
        assert loss.shape == shape and loss.dtype == np.float32
        assert_close(loss, ref_loss, rtol, atol, "loss")
    else:
        assert isinstance(loss, float)
        assert_close(loss, ref_loss, REDUCED_RTOL, what="reduced loss")
    divisor = 1.0
    if reduction != "none":
        divisor = kw.get("normalizer") or (
            (labels >= 0).sum() * classes if reduction == "mean" else 1.0)
    rtol, atol = (SOFT_RTOL, SOFT_ATOL * w / divisor) if soft else (HARD_RTOL, 0.0)
    assert grad.shape == shape and grad.dtype == np.float32
    assert_close(grad, ref_grad, rtol, atol, "grad")
    # Ignored rows: exactly +0, whatever the options.
    if reduction == "none":
        assert not loss.view(np.uint32)[labels < 0].any()
    assert not grad.view(np.uint32)[labels < 0].any()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("variant", ["plain", "weight", "all"])
def test_dense_parity_soft_targets(rng, variant, reduction):
    rows, classes = 40, 9
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    t = rng.random((rows, classes)).astype(np.float32)
    t.flat[::5] = 1.0
    kw = options(rng, variant, rows, classes)
    loss, grad = focal.sigmoid_dense(x, t, 0.3, 1.5, reduction, **kw)
    ref_loss, ref_grad = rows64(x, targets=t, alpha=0.3, gamma=1.5, reduction=reduction, **kw)
    w = np.abs(kw.get("weight", np.ones(rows)).astype(np.float64))[:, None]
    if reduction == "none":
        assert_close(loss, ref_loss, SOFT_RTOL, SOFT_ATOL * w, "loss")
    else:
        assert_close(loss, ref_loss, REDUCED_RTOL, what="reduced loss")
    divisor = kw.get("normalizer") or (x.size if reduction == "mean" else 1.0)
    assert_close(grad, ref_grad, SOFT_RTOL, SOFT_ATOL * w / divisor, "grad")


def test_class_alpha_reference_is_torchvision_with_constant_alpha(rng):
    # The hand-written per-class oracle against torchvision (oracle check).
    import torch
    x = torch.from_numpy(rng.standard_normal((20, 6)) * 3)
    t = torch.from_numpy(rng.random((20, 6)))
    np.testing.assert_allclose(focal64(x, t, 0.3, 1.5, np.full(6, 0.3)).numpy(),
                               focal64(x, t, 0.3, 1.5).numpy(), rtol=1e-13)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES + [(2000, 80)], ids=lambda s: "x".join(map(str, s)))
def test_labels_equal_dense_one_hot_bitwise(rng, shape, variant, reduction):
    rows, classes = shape
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    labels = make_labels(rng, rows, classes, ignored=0.0)
    onehot = one_hot64(labels, classes).astype(np.float32)
    kw = options(rng, variant, rows, classes)
    assert bits(focal.sigmoid_labels(x, labels, 0.25, 2.0, reduction, **kw)) == \
        bits(focal.sigmoid_dense(x, onehot, 0.25, 2.0, reduction, **kw))


def test_ignored_rows_match_dense_elementwise(rng):
    # With ignored rows the reductions differ; per element, kept rows are the
    # same bits as dense one-hot, and ignored rows are +0.
    rows, classes = 50, 13
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    labels = make_labels(rng, rows, classes, ignored=0.3)
    kw = options(rng, "all", rows, classes)
    loss, grad = focal.sigmoid_labels(x, labels, reduction="none", **kw)
    dloss, dgrad = focal.sigmoid_dense(x, one_hot64(labels, classes).astype(np.float32),
                                       reduction="none", **kw)
    kept = labels >= 0
    assert loss[kept].tobytes() == dloss[kept].tobytes()
    assert grad[kept].tobytes() == dgrad[kept].tobytes()
    assert not loss[~kept].view(np.uint32).any() and not grad[~kept].view(np.uint32).any()
    # "sum" adds the same per-element values; "mean" counts only kept rows.
    total, _ = focal.sigmoid_labels(x, labels, reduction="sum", **dict(kw, normalizer=0.0))
    mean, _ = focal.sigmoid_labels(x, labels, reduction="mean", **dict(kw, normalizer=0.0))
    assert mean == pytest.approx(total / (kept.sum() * classes), rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 0.5), (0.9, 3.0)])
def test_dense_default_options_are_the_1_0_bits(rng, alpha, gamma, reduction):
    x = (rng.standard_normal((123, 11)) * 4).astype(np.float32)
    t = rng.random((123, 11)).astype(np.float32)
    assert bits(focal.sigmoid_dense(x, t, alpha, gamma, reduction)) == \
        bits(focal.loss_and_grad(x, t, alpha, gamma, reduction))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_neutral_options_keep_the_bits(rng, reduction):
    # Unit weights and a constant class_alpha take the per-element path but
    # must not change a bit.
    rows, classes = 77, 19
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    labels = make_labels(rng, rows, classes)
    want = bits(focal.sigmoid_labels(x, labels, 0.25, 2.0, reduction))
    assert bits(focal.sigmoid_labels(x, labels, 0.25, 2.0, reduction,
                                     weight=np.ones(rows))) == want
    assert bits(focal.sigmoid_labels(x, labels, 0.7, 2.0, reduction,
                                     class_alpha=np.full(classes, 0.25))) == want


def test_normalizer_and_weights_scale(rng):
    rows, classes = 30, 5
    x = (rng.standard_normal((rows, classes)) * 3).astype(np.float32)
    labels = make_labels(rng, rows, classes)
    total, g_sum = focal.sigmoid_labels(x, labels, reduction="sum")
    for red in ("sum", "mean"):
        loss, grad = focal.sigmoid_labels(x, labels, reduction=red, normalizer=4.0)
        assert loss == pytest.approx(total / 4.0, rel=1e-6)
        np.testing.assert_allclose(grad, g_sum / 4.0, rtol=1e-6)
    none, g_none = focal.sigmoid_labels(x, labels, reduction="none", normalizer=4.0)
    np.testing.assert_array_equal(g_none, g_sum)  # NONE ignores the normalizer
    w = np.full(rows, 3.0, np.float32)
    loss, grad = focal.sigmoid_labels(x, labels, reduction="sum", weight=w)
    assert loss == pytest.approx(3 * total, rel=1e-6)
    np.testing.assert_allclose(grad, 3 * g_sum, rtol=1e-6)


def test_all_rows_ignored():
    x = np.ones((3, 4), np.float32)
    labels = np.full(3, -1)
    loss, grad = focal.sigmoid_labels(x, labels, reduction="mean")
    assert np.isnan(loss)  # mean of nothing, as torch
    assert not grad.any()
    loss, _ = focal.sigmoid_labels(x, labels, reduction="mean", normalizer=2.0)
    assert loss == 0.0
    loss, _ = focal.sigmoid_labels(x, labels, reduction="sum")
    assert loss == 0.0


def test_empty():
    x = np.zeros((0, 5), np.float32)
    loss, grad = focal.sigmoid_labels(x, [], reduction="sum")
    assert loss == 0.0 and grad.shape == (0, 5)
    loss, grad = focal.sigmoid_dense(x, x, reduction="none")
    assert loss.shape == grad.shape == (0, 5)
    loss, grad = focal.sigmoid_labels(np.zeros((4, 0), np.float32), [0, 0, -1, 0],
                                      reduction="none")
    assert loss.shape == grad.shape == (4, 0)


def test_default_arguments(rng):
    x = rng.standard_normal((10, 4)).astype(np.float32)
    labels = make_labels(rng, 10, 4)
    assert bits(focal.sigmoid_labels(x, labels)) == bits(focal.sigmoid_labels(
        x, labels, alpha=0.25, gamma=2.0, reduction="mean", normalizer=0.0,
        label_smoothing=0.0, class_alpha=None, weight=None))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int64, np.uint32,
                                   np.uint64, "list"])
def test_integer_label_dtypes(rng, dtype):
    x = rng.standard_normal((12, 6)).astype(np.float32)
    labels = make_labels(rng, 12, 6, ignored=0.0 if dtype in (np.uint8, np.uint32, np.uint64)
                         else 0.2)
    want = bits(focal.sigmoid_labels(x, labels, reduction="none"))
    other = labels.tolist() if dtype == "list" else labels.astype(dtype)
    assert bits(focal.sigmoid_labels(x, other, reduction="none")) == want


def test_wide_labels_do_not_wrap(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    # 2**32 would be 0 after a plain int32 cast: it must stay "> classes".
    with pytest.raises(focal.FocalError) as info:
        focal.sigmoid_labels(x, np.array([0, 2**32, 1], np.int64))
    assert info.value.code == ELABEL
    # and a very negative label stays "ignored".
    a = focal.sigmoid_labels(x, np.array([0, -2**40, 1], np.int64), reduction="none")
    b = focal.sigmoid_labels(x, np.array([0, -1, 1], np.int32), reduction="none")
    assert bits(a) == bits(b)


def test_logits_conversions(rng):
    x = rng.standard_normal((8, 5)).astype(np.float32)
    labels = make_labels(rng, 8, 5)
    want = bits(focal.sigmoid_labels(x, labels, reduction="none"))
    assert bits(focal.sigmoid_labels(x.astype(np.float64), labels, reduction="none")) == want
    assert bits(focal.sigmoid_labels(np.asfortranarray(x), labels, reduction="none")) == want
    assert bits(focal.sigmoid_labels(x.tolist(), labels, reduction="none")) == want
    w = np.linspace(0, 2, 8)
    assert bits(focal.sigmoid_labels(x, labels, weight=w.tolist())) == \
        bits(focal.sigmoid_labels(x, labels, weight=w.astype(np.float32)))


def test_inputs_not_modified(rng):
    x = rng.standard_normal((8, 5)).astype(np.float32)
    labels = make_labels(rng, 8, 5)
    w = make_weight(rng, 8)
    ca = rng.random(5).astype(np.float32)
    copies = [a.copy() for a in (x, labels, w, ca)]
    focal.sigmoid_labels(x, labels, reduction="none", weight=w, class_alpha=ca)
    for a, b in zip((x, labels, w, ca), copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n_rows", [1640, 2000])  # 8 blocks - 20 elements, 10 blocks
def test_thread_count_does_not_change_bits(rng, n_rows):
    classes = 80
    x = (rng.standard_normal((n_rows, classes)) * 3).astype(np.float32)
    labels = make_labels(rng, n_rows, classes)
    kw = options(rng, "all", n_rows, classes)
    results = []
    try:
        for threads in (1, 3):
            focal.set_num_threads(threads)
            results.append([bits(focal.sigmoid_labels(x, labels, 0.25, 2.0, red, **kw))
                            for red in ("none", "sum", "mean")])
    finally:
        focal.set_num_threads(0)
    assert results[0] == results[1]


# ---- the options struct -------------------------------------------------------


def test_options_struct_layout():
    # focal_options_init_sized() writes the size we pass and the defaults; if
    # our ctypes mirror had another size or field offsets, these would not read back.
    if ctypes.sizeof(ctypes.c_void_p) == 8:  # LP64: 8 + 5 * 4 + 4 padding + 3 * 8 + 4 + 4
        assert ctypes.sizeof(_lib.Options) == 64  # 48 in 1.1
        assert _lib.Options.class_alpha.offset == 32
        assert (_lib.Options.pos_weight.offset, _lib.Options.flags.offset) == (48, 56)
    fresh = _lib._OptionsBuffer()
    if _lib.sized_init:
        assert _lib.lib.focal_options_init_sized(ctypes.addressof(fresh),
                                                 ctypes.sizeof(_lib.Options)) == 0
    else:  # a 1.2 library's by-name init writes its (our) struct
        _lib.lib.focal_options_init(ctypes.addressof(fresh))
    o = fresh.opt
    assert o.size == ctypes.sizeof(_lib.Options)
    assert (o.alpha, o.gamma, o.reduction, o.normalizer, o.label_smoothing) == \
        (0.25, 2.0, 2, 0.0, 0.0)
    assert o.class_alpha is None and o.weight is None
    assert o.pos_weight is None and o.flags == 0
    assert not any(fresh.headroom)  # init wrote nothing past its struct


def _raw(x, labels, buf):
    loss = np.empty((), np.float32)
    _lib.call_entry("sigmoid_labels", x.ctypes.data, labels.ctypes.data, x.shape[0],
                    x.shape[1], buf, loss.ctypes.data, 0)
    return float(loss)


def test_options_size_protocol(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    labels = np.array([0, 1, 3, -1], np.int32)
    want = focal.sigmoid_labels(x, labels)[0]
    buf = _lib.make_options(0.25, 2.0, 2, 0.0, 0.0, 0, 0)
    assert _raw(x, labels, buf) == want
    size = buf.opt.size
    # A larger struct (a newer caller) is accepted while the unknown tail is 0...
    buf.opt.size = size + 16
    assert _raw(x, labels, buf) == want
    # ...and rejected when it is not (an option this library does not know).
    buf.headroom[15] = 1
    with pytest.raises(focal.FocalError) as info:
        _raw(x, labels, buf)
    assert info.value.code == EOPTIONS
    buf.headroom[15] = 0
    # Too small to hold the 1.1 fields.
    for small in (0, 8, size - 8):
        buf.opt.size = small
        with pytest.raises(focal.FocalError) as info:
            _raw(x, labels, buf)
        assert info.value.code == EOPTIONS


def test_missing_1_1_symbols(monkeypatch):
    class Lib10:  # what a 1.0 library offers
        focal_version_string = staticmethod(lambda: b"1.0.0")
    monkeypatch.setattr(_lib, "lib", Lib10())
    x = np.zeros((2, 2), np.float32)
    for call in (lambda: focal.sigmoid_labels(x, [0, 1]),
                 lambda: focal.sigmoid_dense(x, x)):
        with pytest.raises(NotImplementedError, match="1.1"):
            call()


# ---- errors ---------------------------------------------------------------------


def _raises(code, fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, focal.FocalError)
    assert info.value.code == code
    assert str(info.value).startswith(focal.strerror(code))
    assert focal.strerror(code) != focal.strerror(12345)


X = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], np.float32)
LABELS = np.array([2, 3])
BOTH = [(focal.sigmoid_labels, LABELS), (focal.sigmoid_dense, one_hot64(LABELS, 3))]


@pytest.mark.parametrize("label", [4, 5, 2**31 - 1])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_label_above_classes(label, reduction):
    labels = np.array([0, label])
    _raises(ELABEL, focal.sigmoid_labels, X, labels, reduction=reduction)
    focal.sigmoid_labels(X, np.array([0, 3]), reduction=reduction)  # == classes: background


@pytest.mark.parametrize("fn,t", BOTH)
@pytest.mark.parametrize("normalizer", [-1.0, float("nan"), float("inf"), 1e39])
def test_bad_normalizer(fn, t, normalizer):
    _raises(ENORMALIZER, fn, X, t, normalizer=normalizer)


@pytest.mark.parametrize("fn,t", BOTH)
@pytest.mark.parametrize("ls", [1.0, 1.5, -0.1, float("nan")])
def test_bad_label_smoothing(fn, t, ls):
    _raises(ESMOOTHING, fn, X, t, label_smoothing=ls)


@pytest.mark.parametrize("fn,t", BOTH)
@pytest.mark.parametrize("bad", [1.5, -0.25, float("nan")])
def test_bad_class_alpha(fn, t, bad):
    _raises(EALPHA, fn, X, t, class_alpha=[0.25, bad, 0.5])


@pytest.mark.parametrize("fn,t", BOTH)
def test_scalar_alpha_checks(fn, t):
    _raises(EALPHA, fn, X, t, alpha=1.5)
    _raises(EALPHA, fn, X, t, alpha=float("nan"))
    # alpha is ignored with class_alpha, so it cannot be an error then.
    fn(X, t, alpha=1.5, class_alpha=[0.5, 0.5, 0.5])


@pytest.mark.parametrize("fn,t", BOTH)
def test_bad_gamma_and_reduction(fn, t):
    _raises(EGAMMA, fn, X, t, gamma=-1.0)
    _raises(EGAMMA, fn, X, t, gamma=float("inf"))
    for red in ("avg", None, 2):
        _raises(EREDUCTION, fn, X, t, reduction=red)


def test_bad_dense_target():
    t = one_hot64(LABELS, 3)
    t[1, 1] = 1.5
    _raises(ETARGET, focal.sigmoid_dense, X, t)
    t[1, 1] = 0.0
    focal.sigmoid_dense(X, t, label_smoothing=0.2)  # raw targets are checked, then smoothed


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0]), np.array([True, False]),
                                   np.array([0.5, 1.0]), np.array(["a", "b"]), [0.0, 1.0]])
def test_non_integer_labels(labels):
    with pytest.raises(ValueError, match="integer"):
        focal.sigmoid_labels(X, labels)


def test_shape_errors():
    with pytest.raises(ValueError, match="labels"):
        focal.sigmoid_labels(X, [0, 1, 2])
    with pytest.raises(ValueError, match="labels"):
        focal.sigmoid_labels(X, [[0], [1]])
    with pytest.raises(ValueError, match="2-D"):
        focal.sigmoid_labels(X.ravel(), np.zeros(6, int))
    with pytest.raises(ValueError, match="2-D"):
        focal.sigmoid_dense(X[None], X[None])
    with pytest.raises(ValueError, match="shape"):
        focal.sigmoid_dense(X, X.T)
    with pytest.raises(ValueError, match="class_alpha"):
        focal.sigmoid_labels(X, LABELS, class_alpha=[0.5, 0.5])
    with pytest.raises(ValueError, match="weight"):
        focal.sigmoid_labels(X, LABELS, weight=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="weight"):
        focal.sigmoid_dense(X, X * 0, weight=np.ones((2, 3)))  # per-row only
