"""Pick the device a chapter runs on and the compute budget that goes with it.

Every chapter calls :func:`choose_budget` once, near the top, and sizes its work
with :meth:`Budget.pick`. The budget follows the device (a CUDA GPU gets the
real experiment, a CPU a small honest version) and can be forced with the
``EFFNET_BUDGET`` environment variable (``gpu``, ``cpu`` or ``smoke``; ``smoke``
is the tiny budget the test-suite uses to check that a notebook runs at all).

Introduced in the chapter "How this book works".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch

from ._checks import check_device

T = TypeVar("T")

BUDGETS = ("gpu", "cpu", "smoke")
BUDGET_ENV = "EFFNET_BUDGET"


def pick_device(prefer: str | None = None) -> torch.device:
    """Return ``cuda`` if available, else ``mps``, else ``cpu`` (or ``prefer`` if given)."""
    if prefer is not None:
        allowed = ("cuda", "mps", "cpu")
        if not isinstance(prefer, str) or prefer not in allowed:
            raise ValueError(f"prefer must be one of {allowed}, got {prefer!r}")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def synchronize(device: torch.device | str) -> None:
    """Wait until ``device`` has finished its queued work (CUDA, MPS); a no-op on CPU.

    Needed around every timing on a GPU, whose kernels run asynchronously.
    """
    device = check_device("device", device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@dataclass(frozen=True)
class Budget:
    """A named compute budget (``gpu``, ``cpu`` or ``smoke``) and the device it runs on."""

    name: str
    device: torch.device

    def pick(self, *, gpu: T, cpu: T, smoke: T) -> T:
        """Return the value for this budget, e.g. ``epochs = budget.pick(gpu=30, cpu=3, smoke=1)``."""
        return {"gpu": gpu, "cpu": cpu, "smoke": smoke}[self.name]

    def describe(self) -> str:
        """One sentence saying which budget ran, on what."""
        where = str(self.device)
        if self.device.type == "cuda":
            where = f"cuda ({torch.cuda.get_device_name(self.device)})"
        elif self.device.type == "cpu":
            where = f"cpu ({torch.get_num_threads()} threads)"
        forced = f", forced by {BUDGET_ENV}" if os.environ.get(BUDGET_ENV) else ""
        return f"Running the '{self.name}' budget on {where}{forced}."


def choose_budget(name: str | None = None, device: torch.device | str | None = None) -> Budget:
    """Choose the budget from ``name``, else ``$EFFNET_BUDGET``, else the device found.

    A CUDA GPU gets ``gpu``; a CPU or Apple GPU gets ``cpu``.
    """
    dev = check_device("device", device) if device is not None else pick_device()
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name (the budget) must be None or one of {BUDGETS}, got {name!r:.60}")
    name = name or os.environ.get(BUDGET_ENV) or None
    if name is None:
        name = "gpu" if dev.type == "cuda" else "cpu"
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}, got name={name!r} (from {BUDGET_ENV}?)")
    return Budget(name=name, device=dev)
