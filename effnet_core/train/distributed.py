"""Running under ``torchrun``: start the process group, and sum metrics over all processes.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist


def init_distributed() -> tuple[int, int]:
    """(rank, world size), starting the process group when launched by torchrun.

    With CUDA, each process takes its GPU (``LOCAL_RANK``) first and hands it to the process group
    (NCCL then knows its device from the start); without, the group uses gloo on the CPU.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        if torch.cuda.is_available():
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
            dist.init_process_group("nccl", device_id=device)
        else:
            dist.init_process_group("gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@contextmanager
def rank_zero_first() -> Iterator[bool]:
    """Run the body on rank 0 first while the other processes wait at a barrier, then on them
    (e.g. rank 0 downloads, the others find the files); yields whether this is rank 0 (True
    without a process group)."""
    first = not dist.is_initialized() or dist.get_rank() == 0
    if not first:
        dist.barrier()
    try:
        yield first
    finally:
        if first and dist.is_initialized():
            dist.barrier()


def local_device(device: torch.device, world: int) -> torch.device:
    """Under torchrun, a bare ``cuda`` becomes this process's GPU (``LOCAL_RANK``)."""
    if device.type == "cuda" and device.index is None and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return device


def sum_across(values: list[float], device: torch.device) -> list[float]:
    """Sum each value over all processes (no-op in a single process)."""
    if not dist.is_initialized():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def world_size() -> int:
    """The number of processes (1 without torchrun)."""
    return dist.get_world_size() if dist.is_initialized() else 1


def shutdown() -> None:
    """End the process group, if one was started."""
    if dist.is_initialized():
        dist.destroy_process_group()
