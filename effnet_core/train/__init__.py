"""Training on CIFAR-10 with progressive learning, on one device or many (DDP).

* :mod:`.loop`: :func:`train_one_epoch` (the whole training step, readable top to bottom),
  :func:`train`, :func:`evaluate`, :func:`compare_fixed_progressive`, :func:`resolution_sweep`;
* :mod:`.config`: :class:`TrainConfig` and the sizes of each compute budget (:data:`PRESETS`);
* :mod:`.history`: :class:`History` (per-epoch rows) and :func:`time_to_accuracy`;
* :mod:`.distributed`, :mod:`.checkpoint`: torchrun and checkpoints;
* mixed precision follows :mod:`effnet_core.precision`;
* :mod:`.cli`: ``python -m effnet_core.train``.

Introduced in the chapter "Progressive learning".
"""

from .checkpoint import load_checkpoint, save_checkpoint
from .cli import main
from .config import PRESETS, TrainConfig
from .history import History, time_to_accuracy
from .loop import (
    TrainingDiverged,
    compare_fixed_progressive,
    evaluate,
    resolution_sweep,
    set_dropout,
    train,
    train_one_epoch,
)

__all__ = [
    "PRESETS", "History", "TrainConfig", "TrainingDiverged",
    "compare_fixed_progressive", "evaluate", "load_checkpoint", "main", "resolution_sweep",
    "save_checkpoint", "set_dropout", "time_to_accuracy", "train", "train_one_epoch",
]
