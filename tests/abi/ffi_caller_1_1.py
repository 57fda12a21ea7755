# SPDX-License-Identifier: MIT
"""A libfocal 1.1-era ctypes caller, as such bindings were written: it
declares the 1.1 focal_options (48 bytes on LP64), binds focal_options_init
by name (ctypes cannot ask for a symbol version) and calls it on its struct.

Until 1.3 the by-name focal_options_init wrote the newest struct (64 bytes
from 1.2 on) into those 48: heap corruption. The struct here is malloc'ed
through the C allocator the process has, found in the global scope (under
LD_PRELOAD of libasan that is ASan's: its redzone starts right after the 48
bytes, so any write past them is a heap-buffer-overflow report and a
non-zero exit). A first struct with canary bytes after it catches the same
without ASan.

    python3 tests/abi/ffi_caller_1_1.py path/to/libfocal.so.1
    (or FOCAL_LIBRARY=path/to/libfocal.so.1)

Exit 0: nothing written or read past the caller's struct, its defaults
right, and the call with it gives the bits of the call with opt = NULL.
"""

import ctypes
import os
import sys

CANARY = 64


class Options11(ctypes.Structure):
    """struct focal_options of the 1.1 header."""

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


def fail(msg):
    print(f"ffi_caller_1_1: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def canary_struct(lib, libc, size):
    """The struct followed by canary bytes: caught with or without ASan."""
    guarded = (ctypes.c_ubyte * (size + CANARY))(*([0xA5] * (size + CANARY)))
    lib.focal_options_init(ctypes.addressof(guarded))
    written = [i for i in range(size, size + CANARY) if guarded[i] != 0xA5]
    if written:
        fail(f"focal_options_init wrote {len(written)} bytes past the {size}-byte struct "
             f"(up to byte {written[-1]}); it says size {Options11.from_buffer(guarded).size}")


def exact_struct(lib, libc, size):
    """Exactly the struct, malloc'ed: ASan reports any byte written past it."""
    p = libc.malloc(size)
    if not p:
        fail("malloc")
    lib.focal_options_init(p)
    opt = Options11.from_address(p)
    got = (opt.size, opt.alpha, opt.gamma, opt.reduction, opt.normalizer,
           opt.label_smoothing, opt.class_alpha, opt.weight)
    if got != (size, 0.25, 2.0, 2, 0.0, 0.0, None, None):
        fail(f"focal_options_init wrote {got}, want the 1.1 defaults with size {size}")
    return p


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FOCAL_LIBRARY")
    if not path:
        print(__doc__, file=sys.stderr)
        return 2
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        print("ffi_caller_1_1: not LP64, nothing to check")
        return 0
    size = ctypes.sizeof(Options11)
    assert size == 48, size

    lib = ctypes.CDLL(path)
    lib.focal_options_init.argtypes = [ctypes.c_void_p]  # by name, as in 1.1
    lib.focal_options_init.restype = None
    lib.focal_sigmoid_labels.argtypes = [ctypes.c_void_p] * 2 + [ctypes.c_size_t] * 2 + \
        [ctypes.c_void_p] * 3
    lib.focal_sigmoid_labels.restype = ctypes.c_int
    # The process's malloc: the global scope's, ASan's when it is preloaded
    # (libc.so.6's own handle would give glibc's, which ASan does not guard).
    libc = ctypes.CDLL(None)
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None

    # ASan in the process (preloaded): the exact-size struct first, so that a
    # write past it is ASan's report; without ASan, the canary first, so that
    # such a write is found before it corrupts the heap.
    asan = hasattr(libc, "__asan_init")
    steps = (exact_struct, canary_struct) if asan else (canary_struct, exact_struct)
    p = None
    for step in steps:
        p = step(lib, libc, size) or p

    # The library reads the struct as what it is: the bits of opt = NULL.
    rows, classes = 5, 3
    n = rows * classes
    x = (ctypes.c_float * n)(*[(i % 7 - 3) * 0.75 for i in range(n)])
    labels = (ctypes.c_int32 * rows)(0, 1, 2, 3, -1)
    results = []
    for options in (p, None):
        loss = ctypes.c_float()
        grad = (ctypes.c_float * n)()
        rc = lib.focal_sigmoid_labels(x, labels, rows, classes, options, ctypes.byref(loss),
                                      grad)
        if rc != 0:
            fail(f"focal_sigmoid_labels returned {rc}")
        results.append(bytes(loss) + bytes(grad))
    libc.free(p)
    if results[0] != results[1]:
        fail("focal_sigmoid_labels with the 1.1 struct differs from opt = NULL")
    print(f"ffi_caller_1_1: ok: a {size}-byte struct, nothing written past it, "
          f"same bits as the defaults")
    return 0


if __name__ == "__main__":
    sys.exit(main())
