#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Build the libfocal wheel, install it into a fresh venv, run the test suite.

    /usr/bin/python3 python/check_wheel.py [--build-dir DIR] [--keep]

1. python3 -m build --no-isolation --wheel (offline: Debian's
   python3-setuptools, python3-wheel, python3-build), which builds the C
   library with CMake into DIR (reused across runs: incremental; default a
   temporary directory, a full build);
2. python3 -m venv --system-site-packages (numpy, torch, torchvision and
   pytest come from the system) and pip install --no-index of that wheel;
   run by a virtual environment's interpreter (a leg of the PyTorch matrix,
   python/matrix), the new venv sees that environment's packages instead
   (a .pth file naming its site-packages), not the system's;
3. python/tests copied to a directory outside the repository and run there
   by the venv's interpreter, with FOCAL_LIBRARY and PYTHONPATH unset:
   focal, and libfocal.so.1, must come from the venv (test_install.py checks
   it, and that focal.__version__ is the package metadata's version).

Exit status 0 when everything passed. Run by ctest as python.wheel.
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def run(cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", help="CMake build directory for the wheel's library "
                        "(kept and reused; default: a fresh temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="focal-wheel-"))
    t0 = time.monotonic()
    try:
        env = dict(os.environ)
        for var in ("FOCAL_LIBRARY", "PYTHONPATH"):
            env.pop(var, None)
        env["FOCAL_WHEEL_BUILD_DIR"] = str(pathlib.Path(args.build_dir).resolve()
                                           if args.build_dir else tmp / "cmake")
        run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir",
             tmp / "dist", REPO], env=env)
        (wheel,) = (tmp / "dist").glob("libfocal-*.whl")
        t_build = time.monotonic()

        venv = tmp / "venv"
        in_venv = sys.prefix != sys.base_prefix
        run([sys.executable, "-m", "venv"] + ([] if in_venv else ["--system-site-packages"])
            + [venv], env=env)
        py = venv / "bin" / "python"
        if in_venv:
            # A venv made from a venv's interpreter is based on the base
            # interpreter: point it at this venv's packages (torch, pytest).
            # Its own site-packages comes first, so focal is the wheel's.
            site = subprocess.run([str(py), "-c", "import sysconfig; "
                                   "print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip()
            deps = sysconfig.get_paths()["purelib"]
            pathlib.Path(site, "focal-test-deps.pth").write_text(deps + "\n")
        run([py, "-m", "pip", "install", "--no-index", "--no-cache-dir",
             "--disable-pip-version-check", wheel], env=env)

        tests = tmp / "tests"
        shutil.copytree(REPO / "python" / "tests", tests,
                        ignore=shutil.ignore_patterns("__pycache__"))
        env["FOCAL_EXPECT_PREFIX"] = str(venv)
        header = (REPO / "include" / "focal" / "focal.h").read_text()
        env["FOCAL_EXPECT_VERSION"] = ".".join(
            re.search(rf"^#define FOCAL_VERSION_{part} +([0-9]+)", header, re.MULTILINE).group(1)
            for part in ("MAJOR", "MINOR", "PATCH"))
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests], env=env, cwd=tmp)
        t_end = time.monotonic()
        print(f"check_wheel: passed ({wheel.name}; build {t_build - t0:.0f} s, "
              f"venv + install + tests {t_end - t_build:.0f} s)")
    finally:
        if args.keep:
            print(f"check_wheel: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"check_wheel: failed: {exc}")
