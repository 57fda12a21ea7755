# SPDX-License-Identifier: MIT
"""The package's version and, when run by check_wheel.py against the
installed wheel, where focal and libfocal.so.1 were loaded from."""

import importlib.metadata
import os
import pathlib
import re

import pytest

import focal
from focal import _lib


def test_version_is_the_librarys():
    assert focal.__version__ == focal.version() == _lib.lib.focal_version_string().decode()
    assert focal.__version__ == "%d.%d.%d" % focal.version_info


def test_load_order(monkeypatch, tmp_path):
    # $FOCAL_LIBRARY is final; else the package's copy, the repository's build
    # (when present), then the loader's soname.
    monkeypatch.setenv("FOCAL_LIBRARY", str(tmp_path / "x.so"))
    assert _lib._candidates() == [str(tmp_path / "x.so")]
    monkeypatch.delenv("FOCAL_LIBRARY")
    found = _lib._candidates()
    assert found[-1] == _lib.SONAME
    here = pathlib.Path(_lib.__file__).resolve().parent
    expected = [here / _lib.SONAME, here.parents[1] / "build" / "default" / "lib" / _lib.SONAME]
    assert found[:-1] == [str(p) for p in expected if p.is_file()]


def test_installed_package():
    prefix = os.environ.get("FOCAL_EXPECT_PREFIX")
    if not prefix:
        pytest.skip("only against the installed wheel (python/check_wheel.py)")
    prefix = pathlib.Path(prefix).resolve()
    assert pathlib.Path(focal.__file__).resolve().is_relative_to(prefix), focal.__file__
    lib = pathlib.Path(focal.library_path).resolve()
    assert lib.is_relative_to(prefix) and lib.name == _lib.SONAME, lib
    assert "FOCAL_LIBRARY" not in os.environ
    assert importlib.metadata.version("libfocal") == focal.__version__
    # check_wheel.py read it from include/focal/focal.h
    assert os.environ["FOCAL_EXPECT_VERSION"] == focal.__version__


def test_header_version():
    header = pathlib.Path(__file__).resolve().parents[2] / "include" / "focal" / "focal.h"
    if not header.is_file():
        pytest.skip("no include/focal/focal.h here (tests copied out of the checkout)")
    parts = [re.search(rf"^#define FOCAL_VERSION_{p} +([0-9]+)", header.read_text(),
                       re.MULTILINE).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    assert ".".join(parts) == focal.__version__
