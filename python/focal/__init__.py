"""Python binding of libfocal: the sigmoid focal loss and its gradient in one pass.

    loss, grad = focal.loss_and_grad(logits, targets, alpha=0.25, gamma=2.0,
                                     reduction="mean")

The shared library is found through $FOCAL_LIBRARY, else the repository's
build/default/lib/libfocal.so.1, else the system loader (libfocal.so.1).
`focal.torch.sigmoid_focal_loss` is a drop-in for torchvision's.
"""

import numpy as np

from ._lib import FocalError, strerror
from . import _lib

__all__ = ["FocalError", "isa", "loss_and_grad", "num_threads", "set_isa",
           "set_num_threads", "strerror", "version", "version_info"]


def version():
    """The loaded library's version string, e.g. "1.0.0"."""
    return _lib.lib.focal_version_string().decode()


_v = _lib.lib.focal_version()
version_info = (_v >> 16, (_v >> 8) & 0xFF, _v & 0xFF)
library_path = _lib.path
del _v


def isa():
    """The active kernel: "scalar", "avx2", "avx512", "neon" or "sve"."""
    return _lib.lib.focal_isa().decode()


def set_isa(name):
    """Select a kernel by name (or "auto"); ValueError if unknown or unsupported here."""
    if not isinstance(name, str):
        raise TypeError(f"kernel name must be a str, not {type(name).__name__}")
    rc = _lib.lib.focal_set_isa(name.encode())
    if rc != _lib.OK:
        raise FocalError(rc, repr(name))


def num_threads():
    """Threads each call uses (1 with a 1.0 library, which has no threads)."""
    if not hasattr(_lib.lib, "focal_num_threads"):
        return 1
    return _lib.lib.focal_num_threads()


def set_num_threads(n):
    """Threads per call (libfocal >= 1.1); 0 restores the default. Results never change."""
    if not hasattr(_lib.lib, "focal_set_num_threads"):
        raise NotImplementedError(f"libfocal {version()} has no threads (needs 1.1)")
    rc = _lib.lib.focal_set_num_threads(int(n))
    if rc != _lib.OK:
        raise FocalError(rc, repr(n))


def _as_f32(a):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"expected a real numeric array, got dtype {a.dtype}")
    return np.asarray(a, dtype=np.float32, order="C")  # (ascontiguousarray makes 0-d 1-d)


def loss_and_grad(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    """Focal loss of `logits` against `targets` in [0, 1] and d(loss)/d(logits).

    Arrays of any (equal) shape; other dtypes and layouts are converted to
    contiguous float32. Returns (loss, grad): grad is a float32 array shaped
    like logits; loss is a Python float for "sum"/"mean" and a float32 array
    shaped like logits for "none". alpha < 0 disables class balancing.
    Raises ValueError (a FocalError for the library's own checks) on a shape
    mismatch, a bad alpha, gamma or reduction, or a target outside [0, 1].
    """
    red = _lib.reduction_code(reduction)
    x, t = _as_f32(logits), _as_f32(targets)
    if x.shape != t.shape:
        raise ValueError(f"logits and targets differ in shape: {x.shape} vs {t.shape}")
    grad = np.empty_like(x)
    loss = np.empty_like(x) if red == 0 else np.empty((), np.float32)
    _lib.call(x.ctypes.data, t.ctypes.data, x.size, float(alpha), float(gamma), red,
              loss.ctypes.data, grad.ctypes.data)
    return (loss if red == 0 else float(loss)), grad
