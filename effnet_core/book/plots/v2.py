"""Pictures for the chapter "EfficientNetV2": cost vs resolution, MBConv vs Fused-MBConv, stage depths."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure


def plot_resolution_cost(resolutions: Sequence[int], step_ms: Sequence[float],
                         memory_mib: Sequence[float], memory_label: str, title: str) -> Figure:
    """Left: measured ms per training step; right: activation memory; both against resolution.

    A dashed line shows the ``(r / r_0)^2`` growth predicted from the pixel count.
    Chapter "EfficientNetV2".
    """
    if not len(resolutions) == len(step_ms) == len(memory_mib) >= 1:
        raise ValueError("resolutions, step_ms and memory_mib must be non-empty and of equal length")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    r0 = resolutions[0]
    quadratic = [(r / r0) ** 2 for r in resolutions]
    for ax, values, label in ((axes[0], step_ms, "ms per training step"),
                              (axes[1], memory_mib, memory_label)):
        ax.plot(resolutions, values, "o-", label="measured" if ax is axes[0] else "this model")
        ax.plot(resolutions, [values[0] * q for q in quadratic], "--", color="gray",
                label=r"$\propto r^2$ from the first point")
        ax.set_xlabel("image resolution r (pixels)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_block_times(labels: Sequence[str], mbconv_ms: Sequence[float], fused_ms: Sequence[float],
                     mac_ratio: Sequence[float], title: str) -> Figure:
    """Grouped bars: MBConv vs Fused-MBConv time per step at each shape, annotated with Fused/MBConv MACs.

    Chapter "EfficientNetV2".
    """
    if not len(labels) == len(mbconv_ms) == len(fused_ms) == len(mac_ratio) >= 1:
        raise ValueError("labels, mbconv_ms, fused_ms and mac_ratio must be non-empty and of equal length")
    fig, ax = plt.subplots(figsize=(8, 3.4))
    xs = range(len(labels))
    width = 0.38
    ax.bar([x - width / 2 for x in xs], mbconv_ms, width, label="MBConv (expand, depthwise, SE)")
    ax.bar([x + width / 2 for x in xs], fused_ms, width, label="Fused-MBConv")
    for x, m, f, r in zip(xs, mbconv_ms, fused_ms, mac_ratio, strict=True):
        ax.annotate(f"Fused: {r:.1f}x the MACs,\n{m / f:.2f}x the speed", (x, max(m, f)),
                    xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8)
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("ms per training step")
    ax.set_ylim(0, 1.3 * max(*mbconv_ms, *fused_ms))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_stage_depths(stage_layers: dict[str, Sequence[int]], title: str) -> Figure:
    """Grouped bars: layers per stage for each named network (uniform vs non-uniform scaling).

    Chapter "EfficientNetV2".
    """
    if not stage_layers:
        raise ValueError("stage_layers must name at least one network")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    n = len(stage_layers)
    width = 0.8 / n
    for i, (name, layers) in enumerate(stage_layers.items()):
        xs = [s + 1 + (i - (n - 1) / 2) * width for s in range(len(layers))]
        ax.bar(xs, layers, width, label=name)
    ax.set_xlabel("stage")
    ax.set_ylabel("layers")
    ax.set_xticks(range(1, 1 + max(len(v) for v in stage_layers.values())))
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
