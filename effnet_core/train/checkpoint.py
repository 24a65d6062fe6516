"""Checkpoints as plain state dicts, written atomically and loaded with ``weights_only=True``.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn


def save_state(path: str | Path, state: dict) -> None:
    """Save ``state`` (plain data and tensors) to ``path`` atomically.

    Written to ``<path>.tmp`` first and renamed into place, so a crash or Ctrl-C never leaves
    half a file; the temporary file is removed if writing it fails or is interrupted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_state(path: str | Path) -> dict:
    """Load a file written by :func:`save_state` (``weights_only=True``: no code is unpickled)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def save_checkpoint(path: str | Path, model: nn.Module, **extra: object) -> None:
    """Save ``model``'s state dict plus plain-data ``extra`` (epoch, history, settings, ...)."""
    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    save_state(path, {"model": module.state_dict(), **extra})


def load_checkpoint(path: str | Path, model: nn.Module, optimizer=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``) into ``model``.

    Returns the whole checkpoint dict; restores ``optimizer`` too if given and saved.
    """
    state = load_state(path)
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    return state
