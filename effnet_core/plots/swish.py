"""Pictures for the chapter "Swish": the beta family, derivatives, dead units, output landscapes.

Also :func:`frame_slider`, a slider that keeps working on the static website (no kernel): the
frames are drawn in advance, and the slider's ``index`` is ``jslink``-ed in the browser to the
``selected_index`` of an :class:`ipywidgets.Stack` holding them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..activations import swish

RELU_STYLE = {"color": "0.3", "linestyle": "--", "linewidth": 1.2}


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (chapter "Swish")."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def frame_slider(
    labels: Sequence[str],
    frames: Sequence[bytes],
    captions: Sequence[str] | None = None,
    *,
    description: str = "",
    start: int = 0,
    css_class: str | None = None,
) -> widgets.VBox:
    """A slider over precomputed PNG ``frames`` that works without a kernel (chapter "Swish").

    Args:
        labels: the slider's readout for each frame (e.g. ``"0.5"``).
        frames: PNG bytes, one per label (see :func:`figure_png`).
        captions: optional HTML shown above each frame (it switches with the frame).
        description: the slider's label.
        start: index of the frame shown first.
        css_class: added to the box, the slider (``<css_class>-slider``) and each caption
            (``<css_class>-caption``) so that browser tests can find them.
    """
    if len(labels) != len(frames) or not frames:
        raise ValueError(f"labels and frames must be non-empty and equally long, got "
                         f"{len(labels)} and {len(frames)}")
    if captions is not None and len(captions) != len(frames):
        raise ValueError(f"captions must have one entry per frame ({len(frames)}), got {len(captions)}")
    if not 0 <= start < len(frames):
        raise ValueError(f"start must be in [0, {len(frames) - 1}], got {start!r}")
    css = f' class="{css_class}-caption"' if css_class else ""
    children = []
    for i, png in enumerate(frames):
        image = base64.b64encode(png).decode("ascii")
        caption = f"<div{css}>{captions[i]}</div>" if captions else ""
        children.append(widgets.HTML(f'{caption}<img src="data:image/png;base64,{image}" '
                                     'style="max-width:100%"/>'))
    stack = widgets.Stack(children, selected_index=start)
    slider = widgets.SelectionSlider(options=list(labels), index=start, description=description,
                                     continuous_update=True,
                                     layout=widgets.Layout(width="min(100%, 560px)"))
    widgets.jslink((slider, "index"), (stack, "selected_index"))
    box = widgets.VBox([slider, stack])
    if css_class:
        box.add_class(css_class)
        slider.add_class(f"{css_class}-slider")
    return box


def plot_swish_beta(beta: float, x_range: tuple[float, float] = (-5.0, 5.0)) -> Figure:
    """One frame of the beta slider: ``swish_beta`` with ReLU and ``x/2``, minimum marked."""
    x = torch.linspace(*x_range, 801)
    y = swish(x, beta)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(x, torch.relu(x), label="ReLU", **RELU_STYLE)
    ax.plot(x, x / 2, color="tab:gray", linestyle=":", linewidth=1.2, label="$x/2$ ($\\beta = 0$)")
    ax.plot(x, y, color="tab:blue", linewidth=2.2, label=f"swish, $\\beta = {beta:g}$")
    i = int(torch.argmin(y))
    if y[i] < -1e-6:
        ax.plot([x[i]], [y[i]], "o", color="tab:red", markersize=5, label="minimum")
    ax.set_xlim(*x_range)
    ax.set_ylim(-1.0, x_range[1])
    ax.axhline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.axvline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlabel("$x$")
    ax.set_ylabel("output")
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    return fig


def plot_derivatives(x: torch.Tensor, curves: Mapping[str, Sequence[torch.Tensor]],
                     mark: tuple[float, float] | None = None) -> Figure:
    """Function, first and second derivative side by side, one line per activation.

    ``curves`` maps a label to ``(f, f', f'')`` sampled at ``x``; ``mark`` is a point (the
    minimum) drawn on the first panel.
    """
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.3))
    titles = ("activation $f(x)$", "first derivative $f'(x)$", "second derivative $f''(x)$")
    for label, values in curves.items():
        style = RELU_STYLE if label == "ReLU" else {"linewidth": 2}
        for ax, v in zip(axes, values, strict=True):
            ax.plot(x, v.detach(), label=label, **style)
    if mark is not None:
        axes[0].plot([mark[0]], [mark[1]], "o", color="tab:red", markersize=5)
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("$x$")
        ax.axhline(0, color="0.85", linewidth=0.8, zorder=0)
    axes[0].legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_dead_units(fractions: Mapping[str, Sequence[float]]) -> Figure:
    """Fraction of dead units per hidden layer, one line per (activation, initialisation)."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for label, values in fractions.items():
        style = "--" if "ReLU" in label else "-"
        ax.plot(range(1, len(values) + 1), [100 * v for v in values], style, label=label, linewidth=1.8)
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("dead units (%)")
    ax.set_title("Units that pass no gradient for any input of the batch (random init)")
    ax.set_ylim(-2, 100)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_landscapes(outputs: Mapping[str, torch.Tensor], extent: float) -> Figure:
    """Network output over a 2-D input grid (top row) and the size of its gradient (bottom row)."""
    names = list(outputs)
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.6), squeeze=False)
    box = (-extent, extent, -extent, extent)
    for j, name in enumerate(names):
        z = outputs[name].detach()
        spacing = 2 * extent / (z.shape[0] - 1)
        gy, gx = torch.gradient(z, spacing=spacing)
        axes[0, j].imshow(z, extent=box, origin="lower", cmap="viridis")
        axes[0, j].set_title(f"{name}: output")
        axes[1, j].imshow(torch.hypot(gx, gy), extent=box, origin="lower", cmap="magma")
        axes[1, j].set_title(f"{name}: size of the gradient")
        for ax in axes[:, j]:
            ax.set_xlabel("input 1")
            ax.set_ylabel("input 2")
    fig.tight_layout()
    return fig


def plot_beta_fit(x: torch.Tensor, targets: Mapping[str, torch.Tensor], fits: Mapping[str, torch.Tensor],
                  histories: Mapping[str, Sequence[Sequence[float]]]) -> Figure:
    """Learnable beta: the fitted curves (left) and each layer's beta during training (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for (name, y), color in zip(targets.items(), ("tab:blue", "tab:orange"), strict=False):
        left.plot(x, y, color=color, linewidth=3, alpha=0.35, label=f"{name} (target)")
        left.plot(x, fits[name].detach(), color=color, linewidth=1.3, label=f"{name} (fit)")
        for layer, betas in enumerate(zip(*histories[name], strict=True), start=1):
            right.plot(betas, color=color, linestyle="-" if layer == 1 else "--",
                       label=f"{name}, layer {layer}")
    left.set_xlabel("$x$")
    left.set_title("Two small Swish networks and their targets")
    left.legend(fontsize=8)
    right.axhline(1.0, color="0.7", linewidth=0.8)
    right.set_xlabel("training step")
    right.set_ylabel("$\\beta$")
    right.set_title("The learnable $\\beta$ of each Swish layer")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig

