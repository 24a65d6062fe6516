"""Pictures for the chapter "Swish": the beta family, derivatives, dead units, output landscapes.

The beta slider's frames are drawn here and shown with :func:`effnet_core.book.widgets.frame_slider`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ...activations import swish

RELU_STYLE = {"color": "0.3", "linestyle": "--", "linewidth": 1.2}


def plot_swish_beta(beta: float, x_range: tuple[float, float] = (-5.0, 5.0)) -> Figure:
    """One frame of the beta slider: ``swish_beta`` with ReLU and ``x/2``, minimum marked."""
    x = torch.linspace(*x_range, 801)
    y = swish(x, beta)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(x, torch.relu(x), label="ReLU", **RELU_STYLE)
    ax.plot(x, x / 2, color="tab:gray", linestyle=":", linewidth=1.2, label="$x/2$ ($\\beta = 0$)")
    ax.plot(x, y, color="tab:blue", linewidth=2.2, label=f"swish, $\\beta = {beta:g}$")
    i = int(torch.argmin(y))
    if y[i] < -1e-6:
        ax.plot([x[i]], [y[i]], "o", color="tab:red", markersize=5, label="minimum")
    ax.set_xlim(*x_range)
    ax.set_ylim(-1.0, x_range[1])
    ax.axhline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlabel("$x$")
    ax.set_ylabel("output")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    return fig


def plot_derivatives(x: torch.Tensor, curves: Mapping[str, Sequence[torch.Tensor]],
                     mark: tuple[float, float] | None = None) -> Figure:
    """Function, first and second derivative side by side, one line per activation.

    ``curves`` maps a label to ``(f, f', f'')`` sampled at ``x``; ``mark`` is a point (the
    minimum) drawn on the first panel.
    """
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
    titles = ("activation $f(x)$", "first derivative $f'(x)$", "second derivative $f''(x)$")
    for label, values in curves.items():
        style = RELU_STYLE if label == "ReLU" else {"linewidth": 2}
        for ax, v in zip(axes, values, strict=True):
            ax.plot(x, v.detach(), label=label, **style)
    if mark is not None:
        axes[0].plot([mark[0]], [mark[1]], "o", color="tab:red", markersize=5)
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("$x$")
        ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
    axes[0].legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_dead_units(fractions: Mapping[str, Sequence[float]]) -> Figure:
    """Fraction of dead units per hidden layer, one line per (activation, initialisation)."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for label, values in fractions.items():
        style = "--" if "ReLU" in label else "-"
        ax.plot(range(1, len(values) + 1), [100 * v for v in values], style, label=label, linewidth=1.8)
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("dead units (%)")
    ax.set_title("Units that pass no gradient for any input of the batch (random init)")
    ax.set_ylim(-2, 100)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_landscapes(outputs: Mapping[str, torch.Tensor], extent: float) -> Figure:
    """Network output over a 2-D input grid (top row) and the size of its gradient (bottom row)."""
    names = list(outputs)
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.6), squeeze=False)
    box = (-extent, extent, -extent, extent)
    for j, name in enumerate(names):
        z = outputs[name].detach()
        spacing = 2 * extent / (z.shape[0] - 1)
        gy, gx = torch.gradient(z, spacing=spacing)
        axes[0, j].imshow(z, extent=box, origin="lower", cmap="viridis")
        axes[0, j].set_title(f"{name}: output")
        axes[1, j].imshow(torch.hypot(gx, gy), extent=box, origin="lower", cmap="magma")
        axes[1, j].set_title(f"{name}: size of the gradient")
        for ax in axes[:, j]:
            ax.set_xlabel("input 1")
            ax.set_ylabel("input 2")
    fig.tight_layout()
    return fig


def plot_beta_fit(x: torch.Tensor, targets: Mapping[str, torch.Tensor], fits: Mapping[str, torch.Tensor],
                  histories: Mapping[str, Sequence[Sequence[float]]]) -> Figure:
    """Learnable beta: the fitted curves (left) and each layer's beta during training (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for (name, y), color in zip(targets.items(), ("tab:blue", "tab:orange"), strict=False):
        left.plot(x, y, color=color, linewidth=3, alpha=0.35, label=f"{name} (target)")
        left.plot(x, fits[name].detach(), color=color, linewidth=1.3, label=f"{name} (fit)")
        for layer, betas in enumerate(zip(*histories[name], strict=True), start=1):
            right.plot(betas, color=color, linestyle="-" if layer == 1 else "--",
                       label=f"{name}, layer {layer}")
    left.set_xlabel("$x$")
    left.set_title("Two small Swish networks and their targets")
    left.legend(fontsize=8)
    right.axhline(1.0, color="0.7", linewidth=0.8)
    right.set_xlabel("training step")
    right.set_ylabel("$\\beta$")
    right.set_title("The learnable $\\beta$ of each Swish layer")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig

