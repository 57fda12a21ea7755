# SPDX-License-Identifier: MIT
"""Locating and loading libfocal.so.1, and the ctypes prototypes of its C API."""

import ctypes
import os
import pathlib

from . import _spec

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
    if hasattr(lib, "focal_kernel_name"):  # since 1.2
        lib.focal_kernel_name.argtypes = [c_size_t]
        lib.focal_kernel_name.restype = ctypes.c_char_p
        lib.focal_kernel_supported.argtypes = [ctypes.c_char_p]
        lib.focal_kernel_supported.restype = c_int
    # The loss entry points, from the one table of them (_spec.py): each
    # prototype only where the library has the symbol (an older library
    # lacks the later ones; require() says which release they need).
    types = {"ptr": ptr, "size": c_size_t, "float": c_float, "int": c_int}
    for e in _spec.ENTRY_POINTS:
        if hasattr(lib, e.symbol):
            fn = getattr(lib, e.symbol)
            fn.argtypes = [types[_spec.ROLE_CTYPES[role]] for role in e.args]
            fn.restype = c_int
    return lib


def has_options(lib):
    """Whether lib has focal_options (1.1), which every entry point but the 1.0 one takes."""
    return hasattr(lib, "focal_options_init")


def has(*names, library=None):
    """Whether the library (the loaded one by default) has every entry point
    named (_spec.ENTRY_POINTS names, e.g. "distribution_focal")."""
    library = lib if library is None else library
    return all(hasattr(library, _spec.entry(name).symbol) for name in names)


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


def require(name, what):
    """NotImplementedError unless the loaded library has the entry point
    `name`, naming the release it needs and the library that was loaded."""
    e = _spec.entry(name)
    _require(what, has(name), _spec.release(e))


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


def call_entry(name, *args):
    """The entry point `name` on its C arguments (_spec.ENTRY_POINTS' roles):
    raw addresses (0 for NULL), sizes, numbers, and the options buffer from
    make_options. Raises FocalError with the library's message; a target out
    of its range names the range where the call alone knows it (the bins of
    the Distribution Focal Loss)."""
    e = _spec.entry(name)
    if len(args) != len(e.args):
        raise TypeError(f"{e.symbol} takes {len(e.args)} arguments ({', '.join(e.args)}), "
                        f"got {len(args)}")
    call_args = []
    for role, value in zip(e.args, args):
        if role == "options":
            value = ctypes.addressof(value)
        elif _spec.ROLE_CTYPES[role] == "ptr":
            value = value or None
        call_args.append(value)
    rc = getattr(lib, e.symbol)(*call_args)
    if rc == OK:
        return
    if rc == ETARGET and e.targets == "row targets":
        bins = args[e.args.index("bins")]
        raise FocalError(rc, f"with {bins} bins each target must lie in [0, {bins - 1})")
    raise FocalError(rc)

