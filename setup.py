# SPDX-License-Identifier: MIT
"""Build steps of the libfocal wheel that pyproject.toml cannot declare.

- version: FOCAL_VERSION_MAJOR/MINOR/PATCH of include/focal/focal.h, as
  CMake reads them, so the package, the .so and focal.__version__ agree;
- build_py: configures and builds the C library with CMake (Release, tests
  and focal-bench off: only the library target) and copies libfocal.so.1
  into the package (focal/libfocal.so.1), where the binding looks second;
- bdist_wheel: a platform wheel (py3-none-<platform>): it holds a shared
  library but no CPython extension, so any Python 3 on that platform loads it.

Environment: CMAKE (the cmake program, default "cmake"), FOCAL_WHEEL_BUILD_DIR
(a CMake build directory to configure and reuse across builds, default a
directory under setuptools' build_temp), CMAKE_BUILD_PARALLEL_LEVEL (jobs).
"""

import os
import pathlib
import re
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from wheel.bdist_wheel import bdist_wheel

ROOT = pathlib.Path(__file__).resolve().parent


def header_version():
    text = (ROOT / "include" / "focal" / "focal.h").read_text()
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(rf"^#define FOCAL_VERSION_{part} +([0-9]+)", text, re.MULTILINE)
        if not m:
            raise RuntimeError(f"FOCAL_VERSION_{part} not found in include/focal/focal.h")
        parts.append(m.group(1))
    return ".".join(parts)


class BuildPyWithLibrary(build_py):
    """build_py, then the C library into the package."""

    def run(self):
        super().run()
        build_temp = self.get_finalized_command("build").build_temp
        bdir = pathlib.Path(os.environ.get("FOCAL_WHEEL_BUILD_DIR")
                            or os.path.join(build_temp, "libfocal")).resolve()
        cmake = os.environ.get("CMAKE", "cmake")
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run([cmake, "-S", str(ROOT), "-B", str(bdir), "-DCMAKE_BUILD_TYPE=Release",
                        "-DFOCAL_BUILD_TESTS=OFF", "-DFOCAL_BUILD_BENCH=OFF"], check=True)
        subprocess.run([cmake, "--build", str(bdir), "--target", "focal", "--parallel", jobs],
                       check=True)
        built = bdir / "lib" / "libfocal.so.1"
        dest = pathlib.Path(self.build_lib) / "focal" / "libfocal.so.1"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built.resolve(), dest)  # the file itself, not the symlink
        os.chmod(dest, 0o755)


class WithLibrary(Distribution):
    """A distribution holding a compiled library: a platform wheel, installed
    to platlib (has_ext_modules() is what setuptools and wheel ask)."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(version=header_version(), distclass=WithLibrary,
      cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
