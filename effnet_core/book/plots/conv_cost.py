"""Pictures for the chapter "The cost of a convolution": the separable saving, time vs MACs, roofline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

KIND_STYLE = {
    "standard": {"color": "tab:red", "marker": "s"},
    "depthwise": {"color": "tab:blue", "marker": "o"},
    "pointwise": {"color": "tab:green", "marker": "^"},
    "separable": {"color": "tab:purple", "marker": "D"},
}


def plot_separable_ratio(n: Sequence[int], measured: Mapping[int, Sequence[float]]) -> Figure:
    """Cost of depthwise-separable / standard convolution against output channels ``N``.

    ``measured[k]`` are counted ratios at ``n`` (dots); the lines are ``1/N + 1/k**2``.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    dense = np.geomspace(min(n), max(n), 200)
    for k, ratios in measured.items():
        line = left.plot(dense, 1 / dense + 1 / k**2, label=f"$1/N + 1/{k**2}$ (k = {k})")[0]
        left.plot(n, ratios, "o", color=line.get_color(), markersize=4)
        right.plot(dense, 1 / (1 / dense + 1 / k**2), color=line.get_color(), label=f"k = {k}")
        right.axhline(k**2, color=line.get_color(), linestyle=":", linewidth=0.8)
    left.set_xscale("log", base=2)
    left.set_xlabel("output channels $N$")
    left.set_ylabel("separable / standard")
    left.set_title("Cost ratio (dots: counted)")
    left.legend(fontsize=8)
    right.set_xscale("log", base=2)
    right.set_xlabel("output channels $N$")
    right.set_ylabel("times fewer MACs")
    right.set_title("Saving, approaching $k^2$ (dotted)")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_time_vs_macs(rows: Sequence[Mapping[str, object]], device: str) -> Figure:
    """Measured forward+backward time against MACs, one marker per layer kind.

    Each row has ``kind``, ``macs``, ``ms`` (the fastest repeat), ``ms_max`` and ``label`` (the shape).
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for kind, style in KIND_STYLE.items():
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        macs = np.array([r["macs"] for r in sel], dtype=float)
        ms = np.array([r["ms"] for r in sel], dtype=float)
        err = np.array([[0.0] * len(sel), [r["ms_max"] - r["ms"] for r in sel]])
        ax.errorbar(macs, ms, yerr=err, linestyle="none", label=kind, markersize=6, capsize=2, **style)
        for r, x, y in zip(sel, macs, ms, strict=True):
            ax.annotate(str(r["label"]), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7,
                        color=style["color"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("MACs of one forward pass (log scale)")
    ax.set_ylabel("forward + backward time, ms (log)")
    ax.set_title(f"Time does not follow MACs (measured on {device})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_roofline(rows: Sequence[Mapping[str, object]], peak_macs_per_s: float, bytes_per_s: float,
                  device: str) -> Figure:
    """Attained MACs/s against arithmetic intensity, under the measured roofline.

    Each row has ``kind``, ``intensity`` (MACs per byte), ``macs_per_s`` and ``label``.
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    lo = min(min(float(r["intensity"]) for r in rows) / 2, 0.1)
    hi = max(max(float(r["intensity"]) for r in rows) * 2, 4 * peak_macs_per_s / bytes_per_s)
    x = np.geomspace(lo, hi, 200)
    ax.plot(x, np.minimum(peak_macs_per_s, bytes_per_s * x), color="0.3", linewidth=1.5,
            label="roofline: min(peak, bandwidth × intensity)")
    ax.axvline(peak_macs_per_s / bytes_per_s, color="0.6", linestyle=":", linewidth=1)
    for kind, style in KIND_STYLE.items():
        sel = [r for r in rows if r["kind"] == kind]
        if sel:
            ax.plot([r["intensity"] for r in sel], [r["macs_per_s"] for r in sel], linestyle="none",
                    label=kind, markersize=6, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MACs per byte moved)")
    ax.set_ylabel("attained MACs per second")
    ax.set_title(f"Forward pass of single layers on {device}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
