"""Training on CIFAR-10 with progressive learning, on one device or many (DDP).

* :mod:`.loop`: :func:`train_one_epoch` (the whole training step, readable top to bottom),
  :class:`Trainer` (one epoch at a time), :func:`train`, :func:`evaluate`,
  :func:`train_interleaved`, :func:`compare_fixed_progressive`, :func:`resolution_sweep`;
* :mod:`.config`: :class:`TrainConfig` and the sizes of each compute budget (:data:`PRESETS`);
* :mod:`.history`: :class:`History` (per-epoch rows) and :func:`time_to_accuracy`;
* :mod:`.distributed`, :mod:`.checkpoint`: torchrun and checkpoints;
* mixed precision follows :mod:`effnet_core.precision`;
* :mod:`.cli`: ``python -m effnet_core.train``.

Introduced in the chapter "Progressive learning".
"""

from .checkpoint import load_checkpoint, load_state, save_checkpoint, save_state
from .cli import main
from .config import PRESETS, TrainConfig, preset_schedule
from .history import History, time_to_accuracy
from .loop import (
    Trainer,
    TrainingDiverged,
    compare_fixed_progressive,
    evaluate,
    resolution_sweep,
    set_dropout,
    train,
    train_interleaved,
    train_one_epoch,
)

__all__ = [
    "PRESETS", "History", "TrainConfig", "Trainer", "TrainingDiverged",
    "compare_fixed_progressive", "evaluate", "load_checkpoint", "load_state", "main", "preset_schedule",
    "resolution_sweep",
    "save_checkpoint", "save_state", "set_dropout", "time_to_accuracy", "train", "train_interleaved",
    "train_one_epoch",
]
