"""Pictures for the chapter "Compound scaling": single-dimension sweeps, the FLOPs formula against
counted MACs, the feasible (alpha, beta, gamma) grid, and the B0-B7 family."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

COLOURS = {"depth": "#4e79a7", "width": "#f28e2b", "resolution": "#59a14f"}
EXPONENT = {"depth": 1, "width": 2, "resolution": 2}


def plot_single_dimension(sweeps: Mapping[str, tuple[Sequence[float], Sequence[int], Sequence[int]]]
                          ) -> Figure:
    """MACs and params (relative to the first point) against the multiplier of one dimension.

    ``sweeps[name] = (multipliers, params, macs)`` for ``name`` in depth / width / resolution; the
    dashed lines are the formula's prediction (``m``, ``m**2``, ``m**2`` for MACs).
    """
    if not sweeps or not set(sweeps) <= set(EXPONENT):
        raise ValueError(f"sweeps must have keys among {sorted(EXPONENT)}, got {sorted(sweeps)}")
    fig, (ax_m, ax_p) = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, (mult, params, macs) in sweeps.items():
        m = np.asarray(mult, dtype=float)
        c = COLOURS[name]
        ax_m.plot(m, np.asarray(macs) / macs[0], "o", color=c, label=f"{name}: counted")
        ax_m.plot(m, m ** EXPONENT[name], "--", color=c, label=f"{name}: $m^{EXPONENT[name]}$")
        ax_p.plot(m, np.asarray(params) / params[0], "o-", color=c, label=name)
    ticks = [1, 1.5, 2, 3, 4, 6, 8]
    for ax in (ax_m, ax_p):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("multiplier $m$ of one dimension (others fixed at B0)")
        ax.grid(True, which="major", alpha=0.3)
    ax_m.set_ylabel("MACs / MACs of B0")
    ax_m.set_title("Compute: counted vs formula")
    ax_m.legend(fontsize=7, ncol=1)
    ax_p.set_ylabel("params / params of B0")
    ax_p.set_title("Parameters")
    ax_p.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_formula_vs_computed(formula: Sequence[float], computed: Sequence[float],
                             color_by: Sequence[float] | None = None, label: str = "") -> Figure:
    """Scatter of the formula's MACs ratio ``d w^2 r^2`` against the counted one, with the line y = x."""
    if len(formula) != len(computed) or len(formula) == 0:
        raise ValueError("formula and computed must be non-empty and of the same length")
    f, c = np.asarray(formula, dtype=float), np.asarray(computed, dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 4))
    points = ax.scatter(f, c, c=color_by, s=14, cmap="viridis")
    if color_by is not None:
        fig.colorbar(points, ax=ax, label=label)
    lim = [min(f.min(), c.min()) / 1.2, max(f.max(), c.max()) * 1.2]
    ax.plot(lim, lim, "k--", lw=1, label="counted = formula")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("formula: $d\\,w^2 r^2$")
    ax.set_ylabel("counted MACs / MACs of B0")
    ax.set_title("FLOPs formula vs counted MACs")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_feasible_grid(alpha: Sequence[float], beta: Sequence[float], gamma: Sequence[float],
                       chosen: tuple[float, float, float], tolerance: float) -> Figure:
    """(beta, gamma) of every grid point meeting the constraint, colored by alpha; ``chosen`` starred."""
    if len(alpha) == 0:
        raise ValueError("alpha, beta, gamma must be non-empty")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    points = ax.scatter(beta, gamma, c=alpha, s=70, cmap="viridis", edgecolors="k", linewidths=0.4)
    fig.colorbar(points, ax=ax, label="$\\alpha$ (depth)")
    a, b, g = chosen
    ax.scatter([b], [g], marker="*", s=400, facecolors="none", edgecolors="red", linewidths=1.6,
               label=f"paper: $\\alpha$={a}, $\\beta$={b}, $\\gamma$={g}")
    ax.set_xlabel("$\\beta$ (width)")
    ax.set_ylabel("$\\gamma$ (resolution)")
    ax.set_title(f"Grid points with $|\\alpha\\beta^2\\gamma^2 - 2| \\leq {tolerance:g}$")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def plot_family(names: Sequence[str], macs: Sequence[float], top1: Sequence[float]) -> Figure:
    """Top-1 accuracy *as reported in the paper* against MACs counted here, one point per model."""
    if not len(names) == len(macs) == len(top1) or len(names) == 0:
        raise ValueError("names, macs and top1 must be non-empty and of the same length")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = np.asarray(macs, dtype=float) / 1e9
    ax.plot(x, top1, "o-", color="#e15759")
    for n, xi, yi in zip(names, x, top1, strict=True):
        ax.annotate(n, (xi, yi), textcoords="offset points", xytext=(-4, 6), ha="right", fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("MACs counted by effnet_core (billions, log scale)")
    ax.set_ylabel("ImageNet top-1 (%), as reported")
    ax.set_title("B0-B7: accuracy reported in the paper's Table 2 vs our MACs")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
