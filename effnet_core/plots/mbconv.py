"""Figures of the chapter "MBConv": block widths, where the cost lives, stochastic depth schedules."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..counting import layer_costs
from ..layers import MBConv, SqueezeExcitation

PARTS = ("expand 1x1", "depthwise kxk", "SE", "project 1x1", "BatchNorm")
COLORS = dict(zip(PARTS, ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8c8c8c"), strict=True))


def params_and_macs(block: nn.Module, input_shape: Sequence[int]) -> tuple[int, int]:
    """Parameters and multiply-adds of one forward pass of ``block`` on ``(1, *input_shape)``.

    MACs are ``torch.utils.flop_counter`` FLOPs / 2 (convolutions and matrix products).
    Introduced in the chapter "MBConv".
    """
    x = torch.zeros(1, *input_shape)
    was_training = block.training
    block.eval()
    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter:
            block(x)
    finally:
        block.train(was_training)
    return sum(p.numel() for p in block.parameters()), counter.get_total_flops() // 2


def width_diagram(blocks: dict[str, list[tuple[str, int]]], residual_label: str = "+ x") -> Figure:
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


def sublayer_costs(model: nn.Module, image_size: int) -> list[dict[str, object]]:
    """For every :class:`MBConv` in ``model``: its params and MACs split over :data:`PARTS`.

    Uses :func:`effnet_core.counting.layer_costs` (one meta-device forward pass).
    Chapter "MBConv".
    """
    part_of: dict[str, tuple[str, str]] = {}
    blocks = [(name, m) for name, m in model.named_modules() if isinstance(m, MBConv)]
    for name, block in blocks:
        steps = list(block.block.named_children())
        for i, (step_name, step) in enumerate(steps):
            for leaf_name, leaf in step.named_modules():
                full = f"{name}.block.{step_name}.{leaf_name}".rstrip(".")
                if isinstance(step, SqueezeExcitation):
                    part = "SE"
                elif isinstance(leaf, nn.BatchNorm2d):
                    part = "BatchNorm"
                elif isinstance(leaf, nn.Conv2d):
                    part = ("depthwise kxk" if leaf.groups > 1 else
                            "project 1x1" if i == len(steps) - 1 else "expand 1x1")
                else:
                    continue
                part_of[full] = (name, part)
    rows = {name: {"block": name, **{f"params {p}": 0 for p in PARTS}, **{f"macs {p}": 0 for p in PARTS}}
            for name, _ in blocks}
    for cost in layer_costs(model, image_size):
        if cost.name in part_of:
            block_name, part = part_of[cost.name]
            rows[block_name][f"params {part}"] += cost.params
            rows[block_name][f"macs {part}"] += cost.macs
    return list(rows.values())


def sublayer_figure(rows: list[dict[str, object]], title: str) -> Figure:
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


def schedule_figure(reference: Sequence[float], paper: Sequence[float], residual: Sequence[bool]) -> Figure:
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
