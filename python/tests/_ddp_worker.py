# SPDX-License-Identifier: MIT
"""One rank of test_ddp.py: DistributedDataParallel training with FocalLoss.

    python3 _ddp_worker.py RANK WORLD PORT OUTDIR

Trains HEAD (below) for STEPS steps on this rank's slice of each step's
batch with gloo on 127.0.0.1:PORT, and saves, per step, the parameters
before the step, the gradients DDP all-reduced and the local loss.
"""

import datetime
import pathlib
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from focal.torch import FocalLoss

FEATURES, CLASSES, PER_RANK, STEPS = 16, 5, 24, 3


def head():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(FEATURES, 32), torch.nn.ReLU(),
                               torch.nn.Linear(32, CLASSES))


def batch(step, world):
    """Step's whole batch (every rank draws the same): features and class
    indices, CLASSES = background."""
    g = torch.Generator().manual_seed(1000 + step)
    n = PER_RANK * world
    return torch.randn(n, FEATURES, generator=g), torch.randint(0, CLASSES + 1, (n,), generator=g)


def main(rank, world, port, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, timeout=datetime.timedelta(seconds=60))
    model = head()
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.5)
    loss_cls = FocalLoss(reduction="sum")
    record = []
    for step in range(STEPS):
        feats, labels = batch(step, world)
        mine = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
        before = [p.detach().clone() for p in model.parameters()]
        opt.zero_grad()
        loss = loss_cls(ddp(feats[mine]), labels[mine])
        loss.backward()  # DDP all-reduces: every rank holds the mean of the ranks' gradients
        record.append({"params": before, "grads": [p.grad.clone() for p in model.parameters()],
                       "loss": loss.detach().clone()})
        opt.step()
    torch.save(record, pathlib.Path(out) / f"rank{rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
