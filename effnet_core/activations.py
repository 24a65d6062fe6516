"""Swish, the activation EfficientNet uses everywhere.

.. math:: \\operatorname{swish}_\\beta(x) = x \\cdot \\sigma(\\beta x)

At :math:`\\beta = 1` it is PyTorch's ``nn.SiLU``; as :math:`\\beta \\to 0` it tends to
:math:`x/2`, and as :math:`\\beta \\to \\infty` to ReLU. Introduced in the chapter "Swish".
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_bool, check_float, check_tensor


def _broadcasts_to(shape: torch.Size, target: torch.Size) -> bool:
    try:
        return torch.broadcast_shapes(shape, target) == target
    except RuntimeError:
        return False


def swish(x: torch.Tensor, beta: float | torch.Tensor = 1.0) -> torch.Tensor:
    """Return ``x * sigmoid(beta * x)`` (chapter "Swish")."""
    check_tensor("x", x, floating=True)
    if not isinstance(beta, torch.Tensor):
        beta = check_float("beta", beta)
    elif not beta.is_floating_point() or not _broadcasts_to(beta.shape, x.shape):
        raise ValueError(f"beta must be a number or a floating-point tensor that broadcasts to x's "
                         f"shape {tuple(x.shape)}, got {beta!r:.60}")
    return x * torch.sigmoid(beta * x)


class Swish(nn.Module):
    """Swish with a fixed or learnable ``beta`` (chapter "Swish").

    Args:
        beta: the initial slope of the gate; must be finite.
        learnable: if True, ``beta`` is an ``nn.Parameter`` trained with the network.
    """

    def __init__(self, beta: float = 1.0, learnable: bool = False):
        super().__init__()
        if not isinstance(beta, int | float) or not math.isfinite(beta):
            raise ValueError(f"beta must be a finite number, got {beta!r}")
        tensor = torch.tensor(float(beta))
        if check_bool("learnable", learnable):
            self.beta = nn.Parameter(tensor)
        else:
            self.register_buffer("beta", tensor)
        self.learnable = learnable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return swish(x, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta.item():.3g}, learnable={self.learnable}"
