"""Figure of the chapter "Compound scaling": receptive field against image size, and its cost."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def plot_coverage(singles: dict[str, tuple[Sequence[float], Sequence[float]]], depths: Sequence[float],
                  resolutions: Sequence[int], coverage: np.ndarray, gmacs: np.ndarray) -> Figure:
    """Left: receptive field / image side when one dimension grows. Right: the same over (depth, pixels).

    ``singles`` maps a dimension to (multipliers, coverage); ``coverage`` and ``gmacs`` have one row per
    depth multiplier and one column per resolution. Chapter "Compound scaling".
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, (mult, cov) in singles.items():
        left.plot(mult, cov, marker="o", label=f"{name} only")
    left.axhline(1.0, color="#555555", lw=0.8, ls="--")
    left.set_xlabel("multiplier of the one dimension that grows")
    left.set_ylabel("receptive field / image side")
    left.legend(frameon=False)
    left.set_title("one dimension at a time", fontsize=10.5)
    image = right.pcolormesh(resolutions, depths, coverage, cmap="viridis", shading="nearest")
    fig.colorbar(image, ax=right, label="receptive field / image side")
    contours = right.contour(resolutions, depths, gmacs, colors="white", linewidths=0.8,
                             levels=np.geomspace(gmacs.min() * 1.5, gmacs.max() / 1.2, 5))
    right.clabel(contours, fmt="%.1f GMACs", fontsize=7)
    right.set_xlabel("input pixels")
    right.set_ylabel("depth multiplier $d$")
    right.set_title("depth and resolution together (white: equal MACs)", fontsize=10.5)
    fig.tight_layout()
    return fig
