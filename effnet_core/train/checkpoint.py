"""Checkpoints as plain state dicts, written atomically and loaded with ``weights_only=True``.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn


def save_checkpoint(path: str | Path, model: nn.Module, **extra: object) -> None:
    """Save ``model``'s state dict plus plain-data ``extra`` (epoch, history, settings, ...).

    Written to a temporary file first and renamed into place, so a crash never leaves half a file.
    """
    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"model": module.state_dict(), **extra}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, model: nn.Module, optimizer=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``) into ``model``.

    Returns the whole checkpoint dict; restores ``optimizer`` too if given and saved.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    return state
