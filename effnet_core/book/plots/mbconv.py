"""Figures of the chapter "MBConv": block widths, where the cost lives, stochastic depth schedules."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon

from ...counting import MBCONV_PARTS as PARTS

COLORS = dict(zip(PARTS, ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8c8c8c"), strict=True))


def plot_width_diagram(blocks: dict[str, list[tuple[str, int]]], residual_label: str = "+ x") -> Figure:
    """Draw each block as a row of bars whose heights are the channel widths of its tensors.

    ``blocks`` maps a title to ``[(tensor name, channels), ...]`` from input to output. The same
    vertical scale is used for every block. Chapter "MBConv".
    """
    fig, axes = plt.subplots(1, len(blocks), figsize=(4.2 * len(blocks), 3.6), sharey=True)
    top = max(w for layers in blocks.values() for _, w in layers)
    for ax, (title, layers) in zip(np.atleast_1d(axes), blocks.items(), strict=True):
        xs = np.arange(len(layers)) * 1.6
        for i, (name, width) in enumerate(layers):
            ax.add_patch(plt.Rectangle((xs[i] - 0.2, -width / 2), 0.4, width, color="#4c72b0"))
            ax.text(xs[i], -top / 2 - top * 0.06, f"{name}\n{width} ch", ha="center", va="top", fontsize=9)
            if i:
                prev = layers[i - 1][1]
                ax.add_patch(Polygon([(xs[i - 1] + 0.2, prev / 2), (xs[i] - 0.2, width / 2),
                                      (xs[i] - 0.2, -width / 2), (xs[i - 1] + 0.2, -prev / 2)],
                                     color="#4c72b0", alpha=0.15, lw=0))
        y_short = top * 0.62  # the shortcut runs above every bar
        ax.plot([xs[0], xs[0], xs[-1]], [layers[0][1] / 2, y_short, y_short], color="#c44e52", lw=1.5)
        ax.add_patch(FancyArrowPatch((xs[-1], y_short), (xs[-1], layers[-1][1] / 2 + top * 0.02),
                                     arrowstyle="-|>", mutation_scale=12, color="#c44e52", lw=1.5))
        ax.text((xs[0] + xs[-1]) / 2, y_short + top * 0.04, f"shortcut ({residual_label})", ha="center",
                color="#c44e52", fontsize=9)
        ax.set_xlim(xs[0] - 0.9, xs[-1] + 0.9)
        ax.set_ylim(-top * 0.9, top * 0.78)
        ax.set_title(title, fontsize=11)
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_sublayer_costs(rows: list[dict[str, object]], title: str) -> Figure:
    """Stacked bars, one per block: parameters (top) and MACs (bottom) by sub-layer. Chapter "MBConv"."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.6), sharex=True)
    x = np.arange(len(rows))
    for ax, what, unit, scale in ((axes[0], "params", "parameters (thousands)", 1e3),
                                  (axes[1], "macs", "MACs (millions)", 1e6)):
        bottom = np.zeros(len(rows))
        for part in PARTS:
            values = np.array([r[f"{what} {part}"] for r in rows], dtype=float) / scale
            ax.bar(x, values, bottom=bottom.copy(), color=COLORS[part], label=part, width=0.75)
            bottom += values
        ax.set_ylim(0, bottom.max() * 1.1)
        ax.set_ylabel(unit)
    axes[0].legend(fontsize=8, ncol=5, loc="upper left")
    axes[0].set_title(title, fontsize=10)
    axes[1].set_xticks(x, [str(r["block"]).removeprefix("features.") for r in rows], rotation=60,
                       fontsize=8)
    axes[1].set_xlabel("block (features.stage.index)")
    fig.tight_layout()
    return fig


def plot_drop_schedule(reference: Sequence[float], paper: Sequence[float],
                       residual: Sequence[bool]) -> Figure:
    """Drop probability per block: the reference code's rule and the paper's linear decay.

    Blocks without a residual connection (which never drop anything) are drawn hollow.
    Chapter "MBConv".
    """
    fig, ax = plt.subplots(figsize=(8, 3.4))
    i = np.arange(len(reference))
    ax.plot(i, paper, "--", color="grey", label="stochastic-depth paper: $p_L\\,l/L$, $l = 1..L$")
    ax.plot(i, reference, "-", color="#4c72b0", label="TF, torchvision, effnet_core: $p\\,i/N$, $i = 0..N-1$")
    res = np.array(residual)
    ax.plot(i[res], np.array(reference)[res], "o", color="#4c72b0",
            label="block with a residual (can be dropped)")
    ax.plot(i[~res], np.array(reference)[~res], "o", mfc="white", color="#4c72b0",
            label="no residual (never dropped)")
    ax.set(xlabel="block index in EfficientNet-B0", ylabel="drop probability", xticks=i)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
