"""The settings of a training run (:class:`TrainConfig`) and the sizes of each compute budget.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..progressive import CIFAR_DEFAULTS, CPU_SCHEDULE, ProgressiveSchedule


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a run except the model, the data and the schedule."""

    epochs: int = 10
    batch_size: int = 256
    lr: float = 0.2  # peak learning rate for batch_size 256; scaled linearly with batch size
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    lr_schedule: str = "onecycle"  # or "cosine"
    seed: int = 0
    eval_size: int | None = None  # test-time image size; None = the schedule's max_size
    eval_batch_size: int = 1000
    amp: bool = True  # mixed precision on CUDA (see effnet_core.precision)
    channels_last: bool | None = None  # None = where measured faster (loop.use_channels_last)
    progress: bool = True
    max_loss: float | None = None  # divergence threshold; None = 10 * ln(num_classes)
    checkpoint: str | None = None  # path written at the end of every epoch
    compile: bool = False  # torch.compile the model (falls back to plain eager if compiling fails)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if self.lr_schedule not in ("onecycle", "cosine"):
            raise ValueError(f"lr_schedule must be 'onecycle' or 'cosine', got {self.lr_schedule!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


# Sizes per budget, shared by the chapter and the command line. The GPU budget is the full
# data set; the CPU budget a stratified subset that fits a few minutes on 2 cores: 25,000 images
# x 4 epochs at batch 128 (more images rather than more epochs: an epoch costs the same per image,
# and new images teach more than repeated ones; measured with one seed, 24,000 x 4 reached 51.4%
# where 12,000 x 8 reached 48.3%), 2,000 test images (a +-1.1-point standard error at 50%), with
# the weaker regularization range of CPU_SCHEDULE. A budget without a "schedule" uses CIFAR_DEFAULTS.
PRESETS: dict[str, dict] = {
    # gpu: both runs of chapter 08 in about 6.5 minutes on a Colab T4 (benchmarks/gpu_acceptance.py)
    "gpu": dict(train_size=None, test_size=None, width_mult=0.5, depth_mult=0.5,
                config=TrainConfig(epochs=24, batch_size=256)),
    "cpu": dict(train_size=25_000, test_size=2000, width_mult=0.25, depth_mult=0.25, schedule=CPU_SCHEDULE,
                config=TrainConfig(epochs=4, batch_size=128, eval_batch_size=500)),
    "smoke": dict(train_size=200, test_size=100, width_mult=0.25, depth_mult=0.25, schedule=CPU_SCHEDULE,
                  config=TrainConfig(epochs=2, batch_size=50, progress=False)),
}


def preset_schedule(budget: str) -> ProgressiveSchedule:
    """The progressive-learning schedule of a budget (``CIFAR_DEFAULTS`` unless it names one)."""
    if budget not in PRESETS:
        raise ValueError(f"budget must be one of {tuple(PRESETS)}, got {budget!r}")
    return PRESETS[budget].get("schedule", CIFAR_DEFAULTS)
