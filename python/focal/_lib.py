# SPDX-License-Identifier: MIT
"""Locating and loading libfocal.so.1, and the ctypes prototypes of its C API."""

import ctypes
import os
import pathlib

SONAME = "libfocal.so.1"
ABI_MAJOR = 1  # the FOCAL_1.0 ABI, plus 1.1 entry points when present

# Return codes from focal.h that the binding refers to by name.
OK = 0
EREDUCTION = -5
ETARGET = -7
EOPTIONS = -12  # since 1.1
ELABEL = -15  # since 1.1
FLAG_QUALITY_ALPHA = 1  # focal_options.flags, since 1.2

REDUCTIONS = {"none": 0, "sum": 1, "mean": 2}


def _candidates():
    """Where to look, in order (docs/python.md, "Install"):

    1. $FOCAL_LIBRARY, when set: an explicit choice is final (failing to
       load it must not silently pick up some other copy);
    2. the copy inside the package (focal/libfocal.so.1, shipped by the wheel);
    3. the repository's default build (build/default/lib/libfocal.so.1), for
       a checkout used with PYTHONPATH=python;
    4. the system's: the dynamic loader's libfocal.so.1 (LD_LIBRARY_PATH,
       then the ldconfig cache, as ctypes.util.find_library("focal") sees it).
    """
    env = os.environ.get("FOCAL_LIBRARY")
    if env:
        return [env]
    here = pathlib.Path(__file__).resolve().parent
    found = [p for p in (here / SONAME, here.parent.parent / "build" / "default" / "lib" / SONAME)
             if p.is_file()]
    return [str(p) for p in found] + [SONAME]


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
    if has_options(lib):  # since 1.1
        lib.focal_options_init.argtypes = [ptr]
        lib.focal_options_init.restype = None
        if hasattr(lib, "focal_options_init_sized"):  # since 1.3
            lib.focal_options_init_sized.argtypes = [ptr, c_size_t]
            lib.focal_options_init_sized.restype = c_int
        for name in ("focal_sigmoid_labels", "focal_sigmoid_dense"):
            getattr(lib, name).argtypes = [ptr, ptr, c_size_t, c_size_t, ptr, ptr, ptr]
            getattr(lib, name).restype = c_int
    if hasattr(lib, "focal_kernel_name"):  # since 1.2
        lib.focal_kernel_name.argtypes = [c_size_t]
        lib.focal_kernel_name.restype = ctypes.c_char_p
        lib.focal_kernel_supported.argtypes = [ctypes.c_char_p]
        lib.focal_kernel_supported.restype = c_int
    if has_family(lib):  # since 1.1
        lib.focal_softmax_labels.argtypes = [ptr, ptr, c_size_t, c_size_t, ptr, ptr, ptr]
        lib.focal_softmax_labels.restype = c_int
        for name in ("focal_quality_focal", "focal_varifocal"):
            getattr(lib, name).argtypes = [ptr, ptr, c_size_t, ptr, ptr, ptr]
            getattr(lib, name).restype = c_int
    if has_dfl(lib):  # since 1.4
        lib.focal_distribution_focal.argtypes = [ptr, ptr, c_size_t, c_size_t, ptr, ptr, ptr]
        lib.focal_distribution_focal.restype = c_int
    return lib


_FAMILY_SYMBOLS = ("focal_softmax_labels", "focal_quality_focal", "focal_varifocal")


def has_family(lib):
    return all(hasattr(lib, name) for name in _FAMILY_SYMBOLS)


_OPTIONS_SYMBOLS = ("focal_options_init", "focal_sigmoid_labels", "focal_sigmoid_dense")


def has_options(lib):
    return all(hasattr(lib, name) for name in _OPTIONS_SYMBOLS)


def has_dfl(lib):
    """Whether lib has the Distribution Focal Loss (focal_distribution_focal, 1.4)."""
    return hasattr(lib, "focal_distribution_focal")


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
# focal_options_init_sized (1.3): the one init a by-name caller can trust with
# its struct (docs/c-api.md, "FFI callers"); without it, the headroom below.
sized_init = hasattr(lib, "focal_options_init_sized")


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
        # torchvision's wording ("Invalid Value for arg 'reduction'"), still a ValueError.
        raise FocalError(EREDUCTION, f"Invalid value for arg 'reduction': {reduction!r} "
                                     f"(supported: 'none', 'mean', 'sum')") from None


class Options(ctypes.Structure):
    """struct focal_options of focal.h (1.2), field for field."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("alpha", ctypes.c_float),
        ("gamma", ctypes.c_float),
        ("reduction", ctypes.c_int32),
        ("normalizer", ctypes.c_float),
        ("label_smoothing", ctypes.c_float),
        ("class_alpha", ctypes.c_void_p),  # const float *
        ("weight", ctypes.c_void_p),       # const float *
        # since 1.2
        ("pos_weight", ctypes.c_void_p),   # const float *
        ("flags", ctypes.c_uint32),
    ]


# The 1.1 struct ends after `weight`: a 1.1 library's focal_options_init
# writes that size, and knows nothing past it.
_OPTIONS_1_1_SIZE = Options.pos_weight.offset


class _OptionsBuffer(ctypes.Structure):
    # A 1.1 or 1.2 library (no focal_options_init_sized) has only the
    # by-name focal_options_init, which writes *its* struct: 48 or 64 bytes.
    # The headroom keeps any such library from writing past our buffer, and
    # opt.size tells it how many bytes there are. Since 1.3 the library
    # writes exactly sizeof(Options) through focal_options_init_sized.
    _fields_ = [("opt", Options), ("headroom", ctypes.c_ubyte * 256)]


def _require(what, present, needs):
    # One message for every optional part of the API, naming the library that
    # was loaded: a NotImplementedError should say which copy lacks it.
    if not present:
        raise NotImplementedError(
            f"{what} needs {needs}; {path} is {lib.focal_version_string().decode()}")


def require_options(what):
    _require(what, has_options(lib), "libfocal >= 1.1 (focal_sigmoid_labels/_dense)")


def make_options(alpha, gamma, reduction, normalizer, label_smoothing, class_alpha, weight,
                 pos_weight=0, flags=0):
    """A focal_options with the library's defaults and these fields set.

    class_alpha, weight and pos_weight are raw addresses (0 for NULL); the
    caller keeps the arrays alive until the call returns. pos_weight and
    flags need a 1.2 library (NotImplementedError with a 1.1 one, whose
    struct has no such fields: it would ignore them).
    """
    buf = _OptionsBuffer()
    if sized_init:
        # Our struct, our size: the library writes exactly that.
        rc = lib.focal_options_init_sized(ctypes.addressof(buf), ctypes.sizeof(Options))
        if rc != OK:
            raise FocalError(rc, f"focal_options_init_sized(.., {ctypes.sizeof(Options)})")
    else:
        lib.focal_options_init(ctypes.addressof(buf))
    opt = buf.opt
    if not _OPTIONS_1_1_SIZE <= opt.size <= ctypes.sizeof(buf):
        raise RuntimeError(f"{path}: focal_options_init wrote size {opt.size}; "
                           f"this binding knows {ctypes.sizeof(Options)}")
    if (pos_weight or flags) and opt.size < ctypes.sizeof(Options):
        _require("pos_weight and the quality loss's alpha factor", False,
                 "libfocal >= 1.2 (focal_options.pos_weight, .flags)")
    opt.alpha = alpha
    opt.gamma = gamma
    opt.reduction = reduction
    opt.normalizer = normalizer
    opt.label_smoothing = label_smoothing
    opt.class_alpha = class_alpha or None
    opt.weight = weight or None
    if opt.size >= ctypes.sizeof(Options):  # never written into a 1.1 struct
        opt.pos_weight = pos_weight or None
        opt.flags = flags
    return buf


def call_rows(labels, logits, targets, rows, classes, options, loss, grad):
    """focal_sigmoid_labels (labels=True: targets holds int32 labels) or
    focal_sigmoid_dense on raw addresses (0 for NULL); raises FocalError."""
    fn = lib.focal_sigmoid_labels if labels else lib.focal_sigmoid_dense
    rc = fn(logits or None, targets or None, rows, classes, ctypes.addressof(options),
            loss or None, grad or None)
    if rc != OK:
        raise FocalError(rc)


def call(logits, targets, n, alpha, gamma, reduction, loss, grad):
    """focal_sigmoid_loss_grad on raw addresses (0 for NULL); raises FocalError."""
    rc = lib.focal_sigmoid_loss_grad(logits or None, targets or None, n, alpha, gamma,
                                     reduction, loss or None, grad or None)
    if rc != OK:
        raise FocalError(rc)


def require_family(what):
    _require(what, has_family(lib),
             "a libfocal 1.1 with the softmax / quality / varifocal losses")


def call_softmax(logits, labels, rows, classes, options, loss, grad):
    """focal_softmax_labels on raw addresses (0 for NULL); raises FocalError."""
    rc = lib.focal_softmax_labels(logits or None, labels or None, rows, classes,
                                  ctypes.addressof(options), loss or None, grad or None)
    if rc != OK:
        raise FocalError(rc)


def call_soft(name, logits, scores, n, options, loss, grad):
    """focal_quality_focal / focal_varifocal (name "quality" / "varifocal") on raw
    addresses (0 for NULL); raises FocalError."""
    # Each name maps to its own function: an unknown name is a KeyError, never
    # some other loss.
    fn = {"quality": lib.focal_quality_focal, "varifocal": lib.focal_varifocal}[name]
    rc = fn(logits or None, scores or None, n, ctypes.addressof(options), loss or None,
            grad or None)
    if rc != OK:
        raise FocalError(rc)


def require_dfl(what):
    _require(what, has_dfl(lib), "libfocal >= 1.4 (focal_distribution_focal)")


def call_dfl(logits, targets, rows, bins, options, loss, grad):
    """focal_distribution_focal on raw addresses (0 for NULL); raises FocalError,
    naming the targets' range for FOCAL_ETARGET."""
    rc = lib.focal_distribution_focal(logits or None, targets or None, rows, bins,
                                      ctypes.addressof(options), loss or None, grad or None)
    if rc == ETARGET:
        raise FocalError(rc, f"with {bins} bins each target must lie in [0, {bins - 1})")
    if rc != OK:
        raise FocalError(rc)
