"""One mixed-precision policy for training, timing and the chapters.

* CUDA with compute capability >= 8.0 (A100, H100, RTX 30xx and later): bfloat16 autocast.
  bf16 keeps fp32's exponent range, so no gradient scaling is needed.
* Older CUDA GPUs (T4, V100: capability 7.x): float16 autocast with a gradient scaler.
  ``torch.cuda.is_bf16_supported()`` answers True on a T4 too, through emulation, but there bf16
  convolutions leave cuDNN for a slow fallback; capability is what decides.
* CPU and MPS: float32, unless ``cpu_dtype`` asks for autocast there (tests, experiments).

Introduced in the chapter "EfficientNetV2".
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch

from ._checks import check_bool, check_device


@dataclass(frozen=True)
class Precision:
    """The autocast dtype (None = plain float32) and whether gradients need scaling."""

    device_type: str
    dtype: torch.dtype | None
    scaled: bool

    @property
    def name(self) -> str:
        """``"bf16"``, ``"fp16+scaler"`` or ``"fp32"``."""
        if self.dtype is None:
            return "fp32"
        return "fp16+scaler" if self.scaled else {torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    def autocast(self):
        """The autocast context for the forward pass (a no-op for fp32)."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scaler(self) -> torch.amp.GradScaler:
        """A gradient scaler, enabled only for float16."""
        device = self.device_type if self.device_type in ("cuda", "cpu") else "cpu"
        return torch.amp.GradScaler(device, enabled=self.scaled)


def choose_precision(device: torch.device | str, enabled: bool = True,
                     cpu_dtype: torch.dtype | None = None) -> Precision:
    """The precision policy above for ``device``; ``enabled=False`` gives float32 everywhere."""
    device = check_device("device", device)
    check_bool("enabled", enabled)
    if not (cpu_dtype is None or isinstance(cpu_dtype, torch.dtype)) or cpu_dtype not in (
            None, torch.bfloat16, torch.float16):
        raise ValueError(f"cpu_dtype must be None, torch.bfloat16 or torch.float16, got {cpu_dtype!r}")
    if not enabled:
        return Precision(device.type, None, False)
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        if major >= 8:
            return Precision("cuda", torch.bfloat16, False)
        return Precision("cuda", torch.float16, True)
    if device.type == "cpu" and cpu_dtype is not None:
        return Precision("cpu", cpu_dtype, cpu_dtype == torch.float16)
    return Precision(device.type, None, False)
