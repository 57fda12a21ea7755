# SPDX-License-Identifier: MIT
"""Kernel selection through the binding, and the cross-kernel bitwise contract."""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import focal

EISA_UNKNOWN, EISA_UNSUPPORTED = -9, -10


def usable():
    before, found = focal.isa(), []
    for name in focal.kernels():
        try:
            focal.set_isa(name)
            found.append(name)
        except ValueError:
            pass
    focal.set_isa(before)
    return found


def test_isa_is_a_known_kernel():
    assert focal.isa() in focal.kernels()


def test_kernel_list():
    names = focal.kernels()
    assert names[0] == "scalar"
    assert len(set(names)) == len(names)
    assert "auto" not in names
    # supported_kernels() is exactly what set_isa accepts, in the same order
    assert focal.supported_kernels() == usable()
    lib = focal._lib.lib
    assert lib.focal_kernel_name(len(names)) is None
    assert lib.focal_kernel_name(2**64 - 1) is None
    for name in names:
        assert lib.focal_kernel_supported(name.encode()) in (0, 1)
    for bad in (None, b"", b"auto", b"bogus", b"AVX2"):
        assert lib.focal_kernel_supported(bad) == EISA_UNKNOWN


def test_set_isa_round_trip(restore_isa):
    kernels = usable()
    assert "scalar" in kernels
    for name in kernels:
        focal.set_isa(name)
        assert focal.isa() == name
    focal.set_isa("auto")
    assert focal.isa() in kernels


@pytest.mark.parametrize("name", ["bogus", "", "AVX2", "auto "])
def test_set_isa_unknown(restore_isa, name):
    before = focal.isa()
    with pytest.raises(ValueError) as info:
        focal.set_isa(name)
    assert info.value.code == EISA_UNKNOWN
    assert str(info.value).startswith(focal.strerror(EISA_UNKNOWN))
    assert focal.isa() == before


def test_set_isa_foreign_architecture(restore_isa):
    foreign = "neon" if platform.machine() in ("x86_64", "AMD64") else "avx2"
    with pytest.raises(ValueError) as info:
        focal.set_isa(foreign)
    assert info.value.code == EISA_UNSUPPORTED


def test_set_isa_type():
    with pytest.raises(TypeError):
        focal.set_isa(None)


def _all_results(x, t, alpha, gamma):
    out = []
    for red in ("none", "sum", "mean"):
        loss, grad = focal.loss_and_grad(x, t, alpha, gamma, red)
        out.append((np.asarray(loss, np.float32).tobytes(), grad.tobytes()))
    return out


@pytest.mark.parametrize("n", [1, 15, 16, 17, 63, 1000, 16383, 16384, 16385, 50001])
def test_kernels_bitwise_identical(restore_isa, rng, n):
    kernels = usable()
    base_x = (rng.standard_normal(n + 3) * 6).astype(np.float32)
    hard = (rng.random(n + 3) < 0.5).astype(np.float32)
    soft = rng.random(n + 3).astype(np.float32)
    for offset in (0, 1, 3):  # misaligned starts: the slices stay contiguous, not copied
        x = base_x[offset:offset + n]
        for t, alpha, gamma in ((hard[offset:offset + n], 0.25, 2.0),
                                (soft[offset:offset + n], -1.0, 1.5),
                                (hard[offset:offset + n], 0.9, 0.5)):
            results = {}
            for name in kernels:
                focal.set_isa(name)
                results[name] = _all_results(x, t, alpha, gamma)
            ref = results["scalar"]
            for name, got in results.items():
                assert got == ref, f"{name} differs from scalar (n={n}, offset={offset})"


def _python(code, **env):
    full = dict(os.environ, **env)
    full = {k: v for k, v in full.items() if v is not None}
    full["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(focal.__file__)), full.get("PYTHONPATH", "")])
    full.setdefault("FOCAL_LIBRARY", focal.library_path)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=60)


def test_focal_isa_environment():
    done = _python("import focal; print(focal.isa())", FOCAL_ISA="scalar")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "scalar"
    # A name the CPU cannot run (or no kernel at all) keeps the automatic choice.
    auto = _python("import focal; print(focal.isa())", FOCAL_ISA=None).stdout.strip()
    for name in ("bogus", "neon" if platform.machine() == "x86_64" else "avx512"):
        done = _python("import focal; print(focal.isa())", FOCAL_ISA=name)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == auto


def test_focal_library_override_is_final():
    done = _python("import focal", FOCAL_LIBRARY="/nonexistent/libfocal.so.1")
    assert done.returncode != 0
    assert "FOCAL_LIBRARY" in done.stderr and "/nonexistent/libfocal.so.1" in done.stderr
