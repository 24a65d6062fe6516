"""Pictures for the chapter "Progressive learning": schedule, accuracy against time, ablation, CAMs."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from ...progressive import ProgressiveSchedule


def plot_schedule(schedule: ProgressiveSchedule, epochs: int, axes=None):
    """Step plots of image size, RandAugment magnitude, mixup alpha and dropout per epoch.

    Returns the matplotlib figure. Pass ``axes`` (four of them) to draw into existing ones.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    stages = [schedule.stage_for_epoch(e, epochs) for e in range(epochs)]
    if axes is None:
        fig, axes = plt.subplots(1, 4, figsize=(13, 2.8), constrained_layout=True)
    else:
        fig = axes[0].figure
    panels = [
        ("image size (px)", "image_size"),
        ("RandAugment magnitude", "magnitude"),
        ("mixup alpha", "mixup_alpha"),
        ("dropout", "dropout"),
    ]
    x = list(range(1, epochs + 1))
    for ax, (title, field) in zip(axes, panels, strict=True):
        ax.step(x, [getattr(s, field) for s in stages], where="mid", marker="o")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    return fig


AXES = {"train_time_s": "training time (s)", "train_macs": "MACs processed (forward, x 1e12)"}


def plot_accuracy_vs_time(histories: dict[str, Sequence[dict]], ax=None, x: str = "train_time_s"):
    """Test accuracy against training time (or ``x="train_macs"``), one line per run. Returns the figure."""
    if x not in AXES:
        raise ValueError(f"x must be one of {tuple(AXES)}, got {x!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    scale = 1e12 if x == "train_macs" else 1.0
    for name, history in histories.items():
        xs = [0.0] + [row[x] / scale for row in history]
        accs = [0.1] + [row["test_acc"] for row in history]  # chance level before training
        ax.plot(xs, accs, marker="o", label=name)
    ax.set_xlabel(AXES[x])
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax.figure


def plot_ablation(record: dict, live: dict[str, Sequence[dict]] | None = None):
    """The recorded 2x2 ablation: mean final accuracy against mean training time and MACs per arm.

    Error bars span the seeds' min..max. ``live`` (this page's histories) adds the chapter's own
    run's final points as open markers (its data size may differ from the record's).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, key in zip(axes, AXES, strict=True):
        scale = 1e12 if key == "train_macs" else 1.0
        for name, arm in record["summary"]["arms"].items():
            acc, cost = arm["final_test_acc"], arm[key]
            ax.errorbar(cost["mean"] / scale, 100 * acc["mean"], fmt="o", capsize=3, label=name,
                        xerr=[[(cost["mean"] - cost["min"]) / scale], [(cost["max"] - cost["mean"]) / scale]],
                        yerr=[[100 * (acc["mean"] - acc["min"])], [100 * (acc["max"] - acc["mean"])]])
        for name, history in (live or {}).items():
            ax.plot(history[-1][key] / scale, 100 * history[-1]["test_acc"], marker="s", fillstyle="none",
                    linestyle="none", markersize=9, label=f"this page: {name}")
        ax.set_xlabel(AXES[key])
        ax.set_ylabel("final test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return fig


def plot_cams(images: torch.Tensor, cams: torch.Tensor, titles: list[str]):
    """Top row: the uint8 images ``(B, 3, H, W)``; bottom row: the same with the CAM overlaid."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.4), constrained_layout=True, squeeze=False)
    for i in range(n):
        picture = images[i].permute(1, 2, 0).cpu().numpy()
        h, w = picture.shape[:2]
        axes[0, i].imshow(picture)
        axes[0, i].set_title(titles[i], fontsize=8)
        axes[1, i].imshow(picture)
        extent = (-0.5, w - 0.5, h - 0.5, -0.5)
        axes[1, i].imshow(cams[i].cpu().numpy(), cmap="jet", alpha=0.5, extent=extent)
        for ax in axes[:, i]:
            ax.axis("off")
    return fig
