"""Pictures for the chapter "EfficientNet-B0": where parameters and MACs sit, and the search reward."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def plot_stage_breakdown(rows: Sequence[dict[str, object]], title: str = "EfficientNet-B0") -> Figure:
    """Two bar charts, parameters and MACs per part (rows from ``effnet_core.stage_breakdown``)."""
    if not rows or not all({"part", "params", "macs"} <= set(r) for r in rows):
        raise ValueError("rows must be a non-empty list of dicts with keys 'part', 'params', 'macs'")
    parts = [str(r["part"]).replace("stage ", "").replace("classifier", "fc") for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, unit, scale, color in ((axes[0], "params", "parameters (millions)", 1e6, "#4e79a7"),
                                         (axes[1], "macs", "MACs (millions)", 1e6, "#f28e2b")):
        values = np.array([float(r[key]) for r in rows]) / scale  # type: ignore[arg-type]
        bars = ax.bar(parts, values, color=color)
        total = values.sum()
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(f"{100 * v / total:.0f}%", (bar.get_x() + bar.get_width() / 2, v),
                        ha="center", va="bottom", fontsize=8)
        ax.set_ylabel(unit)
        ax.set_xlabel("part (stem, stages 1-7, head conv, fc = classifier)")
        ax.tick_params(axis="x", labelsize=8)
        ax.margins(y=0.15)
    axes[0].set_title(f"{title}: parameters per part")
    axes[1].set_title(f"{title}: MACs per part")
    fig.tight_layout()
    return fig


def plot_search_reward(target: float, ws: Sequence[float] = (-0.07,)) -> Figure:
    """The factor ``(FLOPS / T) ** w`` that multiplies accuracy in the search objective, against FLOPS."""
    if target <= 0:
        raise ValueError(f"target must be > 0, got {target!r}")
    flops = np.geomspace(target / 8, target * 8, 200)
    fig, ax = plt.subplots(figsize=(7, 3.3))
    for w in ws:
        ax.plot(flops / 1e6, (flops / target) ** w, label=f"w = {w:g}")
    ax.axvline(target / 1e6, color="grey", ls="--", lw=1)
    ax.axhline(1.0, color="grey", lw=0.6)
    ax.set_xscale("log")
    ticks = target * np.array([0.125, 0.25, 0.5, 1, 2, 4, 8]) / 1e6
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("FLOPS(m) of a candidate (millions, log scale)")
    ax.set_ylabel("$[\\mathrm{FLOPS}(m)/T]^w$")
    ax.set_title(f"Reward multiplier around the target T = {target / 1e6:.0f}M")
    ax.legend()
    fig.tight_layout()
    return fig
