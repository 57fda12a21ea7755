# SPDX-License-Identifier: MIT
"""FocalLoss under torch.distributed: 2 processes, gloo on localhost, DDP.

Each rank trains _ddp_worker.head() on its half of every step's batch with
FocalLoss(reduction="sum"); DDP averages the gradients over the ranks. A
single process at the same parameters on the whole batch must give the sum
of the ranks' gradients: world * the all-reduced one, within 1e-6 relative.
"""

import os
import pathlib
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist

import _ddp_worker as worker
from focal.torch import FocalLoss

WORLD = 2
TIMEOUT = 180  # seconds for both ranks (importing torch dominates)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rel_err(a, b):
    return (a - b).norm().item() / max(b.norm().item(), 1e-30)


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
def test_ddp_gradients_equal_single_process(tmp_path):
    script = pathlib.Path(worker.__file__)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(script.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    port = free_port()
    ranks = [subprocess.Popen([sys.executable, str(script), str(r), str(WORLD), str(port),
                               str(tmp_path)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for r in range(WORLD)]
    try:
        outputs = [p.communicate(timeout=TIMEOUT)[0] for p in ranks]
    finally:
        for p in ranks:
            if p.poll() is None:
                p.kill()
                p.wait()
    for r, (p, out) in enumerate(zip(ranks, outputs)):
        assert p.returncode == 0, f"rank {r} failed:\n{out}"
    records = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]

    model = worker.head()
    loss_cls = FocalLoss(reduction="sum")
    for step in range(worker.STEPS):
        mine = [rec[step] for rec in records]
        # DDP keeps the replicas identical: same parameters, same reduced gradients.
        for other in mine[1:]:
            assert all(torch.equal(a, b) for a, b in zip(mine[0]["params"], other["params"]))
            assert all(torch.equal(a, b) for a, b in zip(mine[0]["grads"], other["grads"]))
        with torch.no_grad():
            for p, value in zip(model.parameters(), mine[0]["params"]):
                p.copy_(value)
        model.zero_grad()
        feats, labels = worker.batch(step, WORLD)
        loss = loss_cls(model(feats), labels)
        loss.backward()
        assert rel_err(sum(m["loss"] for m in mine), loss.detach()) <= 1e-6, step
        for p, reduced in zip(model.parameters(), mine[0]["grads"]):
            assert rel_err(WORLD * reduced, p.grad) <= 1e-6, (step, rel_err(WORLD * reduced,
                                                                           p.grad))
    # The steps trained: the parameters moved.
    assert not torch.equal(records[0][0]["params"][0], records[0][-1]["params"][0])
