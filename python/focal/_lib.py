"""Locating and loading libfocal.so.1, and the ctypes prototypes of its C API."""

import ctypes
import os
import pathlib

SONAME = "libfocal.so.1"
ABI_MAJOR = 1  # the FOCAL_1.0 ABI, plus 1.1 entry points when present

# Return codes from focal.h that the binding refers to by name.
OK = 0
EREDUCTION = -5

REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}


def _candidates():
    """Where to look, in order: $FOCAL_LIBRARY, the repo's default build, the system."""
    env = os.environ.get("FOCAL_LIBRARY")
    if env:
        # An explicit choice is final: failing to load it must not silently
        # pick up some other copy.
        return [env]
    repo = pathlib.Path(__file__).resolve().parents[2]
    build = repo / "build" / "default" / "lib" / SONAME
    return ([str(build)] if build.is_file() else []) + [SONAME]


def _declare(lib):
    c_float, c_int, c_size_t = ctypes.c_float, ctypes.c_int, ctypes.c_size_t
    ptr = ctypes.c_void_p  # raw addresses: numpy and torch buffers alike
    lib.focal_sigmoid_loss_grad.argtypes = [ptr, ptr, c_size_t, c_float, c_float,
                                            c_int, ptr, ptr]
    lib.focal_sigmoid_loss_grad.restype = c_int
    lib.focal_version.argtypes = []
    lib.focal_version.restype = ctypes.c_uint32
    for name in ("focal_version_string", "focal_isa"):
        getattr(lib, name).argtypes = []
        getattr(lib, name).restype = ctypes.c_char_p
    lib.focal_set_isa.argtypes = [ctypes.c_char_p]
    lib.focal_set_isa.restype = c_int
    lib.focal_strerror.argtypes = [c_int]
    lib.focal_strerror.restype = ctypes.c_char_p
    if hasattr(lib, "focal_set_num_threads"):  # since 1.1
        lib.focal_set_num_threads.argtypes = [c_int]
        lib.focal_set_num_threads.restype = c_int
        lib.focal_num_threads.argtypes = []
        lib.focal_num_threads.restype = c_int
    return lib


def load():
    errors = []
    for path in _candidates():
        try:
            lib = _declare(ctypes.CDLL(path))
        except (OSError, AttributeError) as exc:
            errors.append(f"{path}: {exc}")
            continue
        major = lib.focal_version() >> 16
        if major != ABI_MAJOR:
            raise ImportError(f"{path} is libfocal {major}.x; this binding needs {ABI_MAJOR}.x")
        return lib, path
    raise OSError("cannot load libfocal (set FOCAL_LIBRARY to its path): " + "; ".join(errors))


lib, path = load()


def strerror(code):
    return lib.focal_strerror(code).decode()


class FocalError(ValueError):
    """An error code returned by libfocal; the message is focal_strerror(code)."""

    def __init__(self, code, detail=None):
        msg = strerror(code)
        super().__init__(f"{msg}: {detail}" if detail else msg)
        self.code = code


def reduction_code(reduction):
    try:
        return REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise FocalError(EREDUCTION, f"{reduction!r} (use 'none', 'sum' or 'mean')") from None


def call(logits, targets, n, alpha, gamma, reduction, loss, grad):
    """focal_sigmoid_loss_grad on raw addresses (0 for NULL); raises FocalError."""
    rc = lib.focal_sigmoid_loss_grad(logits or None, targets or None, n, alpha, gamma,
                                     reduction, loss or None, grad or None)
    if rc != OK:
        raise FocalError(rc)
