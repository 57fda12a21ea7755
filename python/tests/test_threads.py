# SPDX-License-Identifier: MIT
"""focal.set_num_threads (libfocal 1.1): results never depend on the thread count."""

import numpy as np
import pytest

import focal

needs_threads = pytest.mark.skipif(focal.version_info < (1, 1, 0),
                                   reason="threads are a libfocal 1.1 feature")


@pytest.fixture
def restore_threads():
    yield
    if focal.version_info >= (1, 1, 0):
        focal.set_num_threads(0)


@needs_threads
def test_default_and_round_trip(restore_threads):
    focal.set_num_threads(0)
    assert focal.num_threads() >= 1
    for n in (1, 2, 3, 8):
        focal.set_num_threads(n)
        assert focal.num_threads() == n


@needs_threads
def test_negative_is_rejected(restore_threads):
    before = focal.num_threads()
    with pytest.raises(ValueError) as info:
        focal.set_num_threads(-1)
    assert info.value.code == -11  # FOCAL_ETHREADS
    assert focal.num_threads() == before


@needs_threads
@pytest.mark.parametrize("n", [16384 * 8 - 1, 16384 * 8 + 5, 400001])
def test_thread_count_does_not_change_bits(restore_threads, rng, n):
    x = (rng.standard_normal(n) * 5).astype(np.float32)
    t = rng.random(n).astype(np.float32)
    results = {}
    for threads in (1, 2, 3, 7):
        focal.set_num_threads(threads)
        results[threads] = [(np.asarray(loss).tobytes(), grad.tobytes())
                            for loss, grad in (focal.loss_and_grad(x, t, 0.25, 2.0, red)
                                               for red in ("none", "sum", "mean"))]
    assert all(r == results[1] for r in results.values())
