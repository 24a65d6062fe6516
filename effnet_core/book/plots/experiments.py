"""Figure of the recorded chapter experiments: each arm's mean over seeds with its spread, and a live run.

Used by the chapters "Swish", "Squeeze-and-Excitation", "MBConv" and "Compound scaling".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..experiments import spread, values

LABELS = {"test_acc": "test accuracy (%)", "dead_fraction": "channels never positive (%)"}


def plot_experiment(record: dict, metrics: tuple[str, ...] = ("test_acc",),
                    live: dict[str, dict] | None = None) -> Figure:
    """One panel per metric: every seed (dots), the mean with one standard deviation (bar), live run (star).

    ``record`` is a loaded experiment record; ``live`` maps arms to a live :func:`run_arm` result.
    """
    arms = list(record["settings"]["arms"])
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.6 + 1.5 * len(arms) * len(metrics), 3.4),
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for i, arm in enumerate(arms):
            seeds = [100 * v for v in values(record, arm, metric)]
            stats = spread(seeds)
            ax.errorbar(i, stats["mean"], yerr=stats["std"], fmt="s", color="C0", capsize=6, ms=7,
                        label="recorded mean ± 1 sd" if i == 0 else None)
            ax.plot([i + 0.12] * len(seeds), seeds, "o", color="C0", alpha=0.4, ms=4,
                    label=f"recorded seeds (n = {len(seeds)})" if i == 0 else None)
            if live and arm in live:
                first = arm == next(a for a in arms if a in live)
                ax.plot(i - 0.15, 100 * live[arm][metric], "*", color="C3", ms=12,
                        label="your live run" if first else None)
        ax.set_xticks(range(len(arms)), arms)
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_ylabel(LABELS.get(metric, metric))
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="best")
    fig.suptitle(f"{record['settings']['name']}: {len(record['seeds'])} seeds, "
                 f"{record['settings']['train_size']} training images, {record['settings']['epochs']} epochs",
                 fontsize=10)
    fig.tight_layout()
    return fig
