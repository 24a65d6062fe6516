"""Figures of the chapter "Squeeze-and-Excitation": parameter overhead and the learned channel gates."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ...counting import se_params


def plot_se_overhead(channels: Sequence[int], ratios: Sequence[int],
                    counted: dict[tuple[int, int], int]) -> Figure:
    """Left: SE parameters against ``r`` (formula as lines, ``counted`` modules as dots).

    Right: the same as a percentage of a 3x3 convolution ``C -> C`` (``9 C^2`` weights).
    Chapter "Squeeze-and-Excitation".
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for c in channels:
        line = [se_params(c, r) for r in ratios]
        (drawn,) = left.plot(ratios, line, label=f"C = {c}")
        dots = [(r, counted[(c, r)]) for r in ratios if (c, r) in counted]
        if dots:
            left.plot(*zip(*dots, strict=True), "o", color=drawn.get_color(), ms=4)
        right.plot(ratios, [100 * p / (9 * c * c) for p in line], color=drawn.get_color(),
                   label=f"C = {c}")
    left.set(xscale="log", yscale="log", xlabel="reduction ratio r", ylabel="SE parameters",
             title="One SE layer (dots: counted in PyTorch)")
    right.set(xscale="log", yscale="log", xlabel="reduction ratio r",
              ylabel="% of a 3x3 conv C -> C", title="Relative to a 3x3 convolution")
    for ax in (left, right):
        ax.axvline(16, color="grey", ls=":", lw=1)
        ax.text(16, ax.get_ylim()[0], " r = 16\n (SE paper)", fontsize=8, va="bottom", color="grey")
        ax.set_xticks(ratios, [str(r) for r in ratios])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_gate_heatmaps(gates: dict[str, np.ndarray], classes: Sequence[str], title: str,
                  max_channels: int = 64) -> Figure:
    """One heatmap per SE layer: rows are classes, columns channels, color the mean gate.

    ``gates[name]`` has shape ``(len(classes), C)``; at most ``max_channels`` columns are drawn.
    Each map is centred on its own mean so the class differences show. Chapter "Squeeze-and-Excitation".
    """
    fig, axes = plt.subplots(1, len(gates), figsize=(4.1 * len(gates), 3.8), squeeze=False)
    for ax, (name, table) in zip(axes[0], gates.items(), strict=True):
        shown = table[:, :max_channels]
        spread = float(np.abs(shown - shown.mean(0)).max()) or 1e-6
        im = ax.imshow(shown - shown.mean(0), aspect="auto", cmap="RdBu_r", vmin=-spread, vmax=spread,
                       interpolation="nearest")
        ax.set_yticks(range(len(classes)), classes, fontsize=9)
        ax.set_xlabel(f"channel (first {shown.shape[1]} of {table.shape[1]})")
        ax.set_title(name, fontsize=10)
        bar = fig.colorbar(im, ax=ax, fraction=0.05)
        bar.set_label("class mean - mean over classes", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_gate_specificity(layer_names: Sequence[str], curves: dict[str, Sequence[float]]) -> Figure:
    """How class-specific each SE layer's gates are, one line per network (trained, untrained).

    Chapter "Squeeze-and-Excitation".
    """
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for label, values in curves.items():
        ax.plot(range(len(layer_names)), values, "o-", label=label)
    ax.set_xticks(range(len(layer_names)), layer_names)
    ax.set(xlabel="SE layer (input side -> output side)",
           ylabel="between-class / within-class\nstd of the gates",
           title="How much the gates depend on the class")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
