# SPDX-License-Identifier: MIT
"""focal_options through ctypes, as an FFI caller of each release declares it
(docs/DESIGN.md §3; tests/abi/test_ffi_layouts.c is the C twin).

ctypes binds by name, so it gets the default version of every symbol: since
1.3, focal_options_init writes the smallest released struct (1.1, 48 bytes on
LP64) and focal_options_init_sized exactly the size it is given. Each struct
lives in a buffer of exactly its size followed by canary bytes, and gives
focal_sigmoid_labels the bits of opt = NULL.
"""

import ctypes

import numpy as np
import pytest

from focal import _lib

pytestmark = [
    pytest.mark.skipif(not _lib.sized_init, reason="focal_options_init_sized is libfocal 1.3"),
    pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="layouts recorded for LP64"),
]

CANARY = 64
OK, ENULL, EOPTIONS = 0, -1, -12


class Options11(ctypes.Structure):
    """focal_options of the 1.1 header."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("alpha", ctypes.c_float),
        ("gamma", ctypes.c_float),
        ("reduction", ctypes.c_int32),
        ("normalizer", ctypes.c_float),
        ("label_smoothing", ctypes.c_float),
        ("class_alpha", ctypes.c_void_p),
        ("weight", ctypes.c_void_p),
    ]


class Options12(ctypes.Structure):
    """focal_options of the 1.2 header: 1.1's, then pos_weight and flags."""

    _fields_ = Options11._fields_ + [("pos_weight", ctypes.c_void_p), ("flags", ctypes.c_uint32)]


LAYOUTS = [(Options11, 48), (Options12, 64)]  # tests/abi/released_layouts.h


def _lib_fn(name, argtypes, restype):
    # A fresh function object: the binding's own prototypes stay as they are.
    fn = getattr(ctypes.CDLL(_lib.path), name)
    fn.argtypes, fn.restype = argtypes, restype
    return fn


init_by_name = _lib_fn("focal_options_init", [ctypes.c_void_p], None)
init_sized = _lib_fn("focal_options_init_sized", [ctypes.c_void_p, ctypes.c_size_t],
                     ctypes.c_int)
sigmoid_labels = _lib_fn("focal_sigmoid_labels", [ctypes.c_void_p] * 2 + [ctypes.c_size_t] * 2
                         + [ctypes.c_void_p] * 3, ctypes.c_int)


def guarded(size):
    """Exactly `size` bytes for the struct, then CANARY bytes, all 0xA5."""
    return (ctypes.c_ubyte * (size + CANARY))(*([0xA5] * (size + CANARY)))


def assert_canary(buf, start):
    written = [i for i in range(start, len(buf)) if buf[i] != 0xA5]
    assert not written, f"bytes {written} past the {start}-byte struct were written"


def assert_defaults(opt, size):
    assert opt.size == size
    assert (opt.alpha, opt.gamma, opt.reduction, opt.normalizer, opt.label_smoothing) == \
        (0.25, 2.0, 2, 0.0, 0.0)
    assert opt.class_alpha is None and opt.weight is None


def labels_bits(opt_address):
    rng = np.random.default_rng(24)
    rows, classes = 17, 5
    x = (rng.standard_normal((rows, classes)) * 4).astype(np.float32)
    labels = rng.integers(-1, classes + 1, rows).astype(np.int32)
    loss, grad = np.zeros(1, np.float32), np.zeros((rows, classes), np.float32)
    rc = sigmoid_labels(x.ctypes.data, labels.ctypes.data, rows, classes, opt_address,
                        loss.ctypes.data, grad.ctypes.data)
    assert rc == OK
    return loss.tobytes() + grad.tobytes()


@pytest.mark.parametrize("struct, size", LAYOUTS, ids=["1.1", "1.2"])
def test_declared_sizes(struct, size):
    assert ctypes.sizeof(struct) == size


@pytest.mark.parametrize("struct, size", LAYOUTS, ids=["1.1", "1.2"])
def test_sized_init_writes_exactly_the_declared_struct(struct, size):
    buf = guarded(size)
    assert init_sized(ctypes.addressof(buf), ctypes.sizeof(struct)) == OK
    assert_canary(buf, size)
    opt = struct.from_buffer(buf)
    assert_defaults(opt, size)
    if size >= 64:
        assert opt.pos_weight is None and opt.flags == 0
    assert labels_bits(ctypes.addressof(buf)) == labels_bits(None)


def test_by_name_init_writes_the_1_1_struct():
    # A 1.1-era binding's 48-byte struct, the case that corrupted memory.
    buf = guarded(48)
    init_by_name(ctypes.addressof(buf))
    assert_canary(buf, 48)
    assert_defaults(Options11.from_buffer(buf), 48)
    assert labels_bits(ctypes.addressof(buf)) == labels_bits(None)


def test_by_name_init_into_a_1_2_struct():
    # The accepted trade-off (docs/DESIGN.md §3): a 1.2-era binding that
    # called the by-name init gets the 1.1 struct (size 48), so pos_weight
    # and flags are not read until it says size 64 (or uses the sized init).
    buf = guarded(64)
    init_by_name(ctypes.addressof(buf))
    assert_canary(buf, 48)
    opt = Options12.from_buffer(buf)
    assert_defaults(opt, 48)
    assert labels_bits(ctypes.addressof(buf)) == labels_bits(None)


def test_bad_sizes_write_nothing():
    buf = guarded(4097)
    for size in (0, 47, 56, 63, 4097, 2**64 - 1):
        assert init_sized(ctypes.addressof(buf), size) == EOPTIONS
        assert_canary(buf, 0)
    assert init_sized(None, 64) == ENULL


def test_binding_uses_the_sized_init(monkeypatch):
    buf = _lib.make_options(0.25, 2.0, 2, 0.0, 0.0, 0, 0, pos_weight=0, flags=1)
    assert buf.opt.size == ctypes.sizeof(_lib.Options)
    assert buf.opt.flags == 1
    assert not any(buf.headroom)
    # Without the sized init (a 1.1 or 1.2 library), the by-name one: on a
    # 1.3 library that is the 1.1 struct, and the 1.2 fields are refused
    # loudly rather than ignored.
    monkeypatch.setattr(_lib, "sized_init", False)
    buf = _lib.make_options(0.25, 2.0, 2, 0.0, 0.0, 0, 0)
    assert buf.opt.size == 48
    with pytest.raises(NotImplementedError, match="pos_weight"):
        _lib.make_options(0.25, 2.0, 2, 0.0, 0.0, 0, 0, flags=1)
