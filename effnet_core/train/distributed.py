"""Running under ``torchrun``: start the process group, and sum metrics over all processes.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_distributed() -> tuple[int, int]:
    """(rank, world size), starting the process group when launched by torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


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
