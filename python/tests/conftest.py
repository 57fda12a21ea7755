# SPDX-License-Identifier: MIT
import numpy as np
import pytest

import focal


@pytest.fixture
def rng(request):
    # A fixed seed per test id: failures reproduce, tests stay independent.
    seed = sum(request.node.nodeid.encode()) * 7919 % 2**32
    return np.random.default_rng(seed)


@pytest.fixture
def restore_isa():
    before = focal.isa()
    yield
    focal.set_isa(before)


def pytest_report_header(config):
    import torch
    import _torchvision

    return [f"libfocal {focal.version()} ({focal.isa()}) from {focal.library_path}",
            f"torch {torch.__version__}; torchvision: {_torchvision.SOURCE}"]
