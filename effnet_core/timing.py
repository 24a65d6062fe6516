"""Timing a training step (forward + backward) and measuring its peak memory, on any device.

Used wherever the book claims "X is faster than Y": the claim is measured on the reader's
device, not asserted. Introduced in the chapter "The cost of a convolution".
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import check_bool, check_device, check_int, check_module, check_shape, shape_errors
from .device import synchronize
from .precision import choose_precision


@dataclass(frozen=True)
class StepTiming:
    """Median milliseconds per step (and spread), plus peak memory in MiB where measurable."""

    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    device: str
    peak_mem_mib: float | None

    def __str__(self) -> str:
        mem = f", peak {self.peak_mem_mib:.0f} MiB" if self.peak_mem_mib is not None else ""
        return f"{self.median_ms:.2f} ms/step (median of {self.repeats} on {self.device}{mem})"


def time_fn(fn: Callable[[], object], device: torch.device | str = "cpu", *,
            repeats: int = 10, warmup: int = 2) -> StepTiming:
    """Time ``fn()`` ``repeats`` times after ``warmup`` calls; report the median.

    On CUDA the device is synchronised around each call and peak memory is recorded.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable taking no arguments, got {fn!r:.60}")
    repeats, warmup = check_int("repeats", repeats, 1, 10**6), check_int("warmup", warmup, 0, 10**6)
    device = check_device("device", device)
    for _ in range(warmup):
        fn()
    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return StepTiming(statistics.median(times), min(times), max(times), repeats, str(device), peak)


def time_training_step(
    model: nn.Module,
    input_shape: tuple[int, ...],
    device: torch.device | str = "cpu",
    *,
    repeats: int = 10,
    warmup: int = 2,
    channels_last: bool = False,
    amp: bool = False,
) -> StepTiming:
    """Time one forward + backward pass of ``model`` on random input of ``input_shape``.

    ``amp`` uses the precision policy of :func:`effnet_core.precision.choose_precision` (bf16 on
    compute capability >= 8.0, fp16 on older GPUs, float32 on CPU); ``channels_last`` converts
    model and input memory format.
    """
    device = check_device("device", device)
    model = check_module("model", model).to(device).train()
    x = torch.randn(check_shape("input_shape", input_shape, max_elements=2**26), device=device)
    check_bool("channels_last", channels_last), check_bool("amp", amp)
    if channels_last and x.ndim != 4:
        raise ValueError(f"channels_last needs an input_shape of 4 dimensions, got {input_shape!r}")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    precision = choose_precision(device, amp)

    def step() -> None:
        with precision.autocast(), shape_errors("input_shape", input_shape):
            out = model(x)
        out.float().sum().backward()
        model.zero_grad(set_to_none=True)

    return time_fn(step, device, repeats=repeats, warmup=warmup)
