"""Block diagrams drawn by code, in one style for every chapter.

Colors follow the cost plots of the chapter "MBConv": a 1x1 expansion (or any pointwise convolution)
is blue, a depthwise convolution orange, Squeeze-and-Excitation green, the 1x1 projection red, a
regular k x k convolution purple; tensors are grey. Introduced in the chapters "The cost of a
convolution" (convolution kinds), "Squeeze-and-Excitation", "MBConv", "EfficientNet-B0" and
"EfficientNetV2".
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

COLORS = {"pointwise": "#4c72b0", "depthwise": "#dd8452", "se": "#55a868", "project": "#c44e52",
          "conv": "#8172b3", "tensor": "#d9d9d9", "skip": "#555555", "optional": "#ffffff"}
CHANNEL_COLORS = ("#4c72b0", "#dd8452", "#55a868")


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, kind: str,
         dashed: bool = False) -> None:
    """A rounded box centred on (x, y), filled with the color of ``kind``, with centred text."""
    face = COLORS[kind]
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=face, edgecolor="#333333", lw=1.0, ls="--" if dashed else "-",
                                alpha=0.9 if kind != "tensor" else 1.0))
    dark = kind not in ("tensor", "optional")
    ax.text(x, y, text, ha="center", va="center", fontsize=8.5, color="white" if dark else "#222222")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str = "#333333") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, color=color, lw=1.2,
                                 shrinkA=0, shrinkB=0))


def _column(ax: Axes, x: float, steps: Sequence[tuple[str, str]], title: str,
            skip: str | None = None, box_w: float = 2.9, box_h: float = 0.62, gap: float = 0.38) -> None:
    """Steps ``(text, kind)`` drawn top to bottom, joined by arrows; an optional skip path and adder."""
    y = 0.0
    centres = []
    for i, (text, kind) in enumerate(steps):
        _box(ax, x, y, box_w, box_h, text, kind, dashed=kind == "optional")
        centres.append(y)
        if i:
            _arrow(ax, (x, y + box_h / 2 + gap), (x, y + box_h / 2))
        y -= box_h + gap
    if skip:  # from the input tensor to an adder after the last step
        x_skip = x + box_w / 2 + 0.3
        add_y = y + box_h / 2
        ax.plot([x + box_w / 2, x_skip, x_skip], [centres[0], centres[0], add_y], color=COLORS["skip"],
                lw=1.2)
        _arrow(ax, (x_skip, add_y), (x + 0.16, add_y), COLORS["skip"])
        _arrow(ax, (x, centres[-1] - box_h / 2), (x, add_y + 0.16))
        ax.add_patch(plt.Circle((x, add_y), 0.16, facecolor="white", edgecolor="#333333", lw=1.0))
        ax.text(x, add_y, "+", ha="center", va="center", fontsize=11)
        ax.text(x_skip + 0.08, (centres[0] + add_y) / 2, skip, rotation=90, va="center", fontsize=8,
                color=COLORS["skip"])
    ax.text(x, box_h / 2 + 0.3, title, ha="center", va="bottom", fontsize=10.5, weight="bold")


def _finish(fig: Figure, ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> Figure:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def _slabs(ax: Axes, x: float, y: float, colors: Sequence[str], size: float = 0.9,
           step: float = 0.16) -> None:
    """A tensor as a stack of channel slabs (front slab last), lower-left corner at (x, y)."""
    for i, c in enumerate(colors):
        ax.add_patch(Rectangle((x + i * step, y + i * step), size, size, facecolor=c, edgecolor="#333333",
                               lw=0.8, alpha=0.85))


def draw_conv_kinds() -> Figure:
    """Standard, depthwise and pointwise convolution on a 3-channel input.

    Chapter "The cost of a convolution".
    """
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    mixed = "#7f7f7f"
    panels = (
        ("standard k x k, M -> N", "each of the N filters is k x k x M:\nmixes space and channels",
         CHANNEL_COLORS, [mixed] * 4, "N filters\nk x k x M"),
        ("depthwise k x k, M channels", "one k x k filter per channel:\nmixes space, not channels",
         CHANNEL_COLORS, CHANNEL_COLORS, "M filters\nk x k x 1"),
        ("pointwise 1 x 1, M -> N", "each of the N filters is 1 x 1 x M:\nmixes channels, not space",
         CHANNEL_COLORS, [mixed] * 4, "N filters\n1 x 1 x M"),
    )
    for ax, (title, note, inputs, outputs, filters) in zip(axes, panels, strict=True):
        _slabs(ax, 0.0, 0.3, inputs)
        _slabs(ax, 3.0, 0.3, outputs)
        kind = "depthwise" if "depthwise" in title else "pointwise" if "pointwise" in title else "conv"
        _box(ax, 2.15, 0.9, 1.1, 0.7, filters, kind)
        _arrow(ax, (1.4, 0.9), (1.6, 0.9))
        _arrow(ax, (2.7, 0.9), (2.95, 0.9))
        ax.text(0.6, 0.05, f"input\n{len(inputs)} channels", ha="center", va="top", fontsize=8.5)
        ax.text(3.7, 0.05, f"output\n{len(outputs)} channels", ha="center", va="top", fontsize=8.5)
        ax.set_title(title, fontsize=10.5, weight="bold")
        ax.text(2.2, 2.05, note, ha="center", va="center", fontsize=8.5)
        _finish(fig, ax, (-0.3, 4.7), (-0.8, 2.5))
    return fig


def draw_inverted_residual(expand: int = 6) -> Figure:
    """ResNet's bottleneck beside MobileNetV2's inverted residual with its linear bottleneck ("MBConv")."""
    fig, ax = plt.subplots(figsize=(9, 5.2))
    _column(ax, 0.0, [("input: wide, 4C channels", "tensor"), ("1x1 reduce to C, BN, ReLU", "pointwise"),
                      ("3x3 conv (C), BN, ReLU", "conv"), ("1x1 expand to 4C, BN", "pointwise")],
            "ResNet bottleneck", skip="shortcut: wide ends")
    _column(ax, 4.8, [("input: narrow, C channels", "tensor"),
                      (f"1x1 expand to {expand}C, BN, ReLU6", "pointwise"),
                      (f"3x3 depthwise ({expand}C), BN, ReLU6", "depthwise"),
                      ("1x1 project to C, BN\nlinear: no activation", "project")],
            "MobileNetV2 inverted residual", skip="shortcut: narrow ends")
    ax.text(2.4, -4.75, "wide - narrow - wide (left) against narrow - wide - narrow (right);\n"
            "no ReLU after the projection: the linear bottleneck",
            ha="center", va="center", fontsize=8.5, style="italic")
    return _finish(fig, ax, (-1.7, 7.0), (-5.1, 1.0))


def draw_se(reduction: int = 4) -> Figure:
    """Squeeze-and-Excitation: squeeze (global pool), excite (two layers, sigmoid), scale (chapter "SE")."""
    fig, ax = plt.subplots(figsize=(10, 3.4))
    xs = [0.0, 2.2, 4.4, 6.6, 8.8]
    side = [("squeeze:\nglobal avg pool\nC x H x W -> C", "se"),
            (f"excite: FC C -> C/{reduction}\nactivation", "se"),
            (f"FC C/{reduction} -> C\nsigmoid: s in (0,1)^C", "se")]
    for x, (text, kind) in zip(xs[1:4], side, strict=True):
        _box(ax, x, 1.2, 1.9, 0.95, text, kind)
    for a, b in zip(xs[1:3], xs[2:4], strict=True):
        _arrow(ax, (a + 0.95, 1.2), (b - 0.95, 1.2))
    _box(ax, xs[0], -0.4, 1.6, 0.7, "x: C x H x W", "tensor")
    _box(ax, xs[4], -0.4, 1.6, 0.7, "y: C x H x W", "tensor")
    ax.add_patch(plt.Circle((xs[3], -0.4), 0.22, facecolor="white", edgecolor="#333333"))
    ax.text(xs[3], -0.4, "x", ha="center", va="center", fontsize=10)
    ax.text(xs[3], -0.85, "scale: y_c = s_c x_c", ha="center", va="top", fontsize=8.5)
    _arrow(ax, (xs[0] + 0.8, -0.4), (xs[3] - 0.22, -0.4))
    _arrow(ax, (xs[3] + 0.22, -0.4), (xs[4] - 0.8, -0.4))
    ax.plot([xs[0], xs[0]], [-0.05, 1.2], color="#333333", lw=1.2)
    _arrow(ax, (xs[0], 1.2), (xs[1] - 0.95, 1.2))
    _arrow(ax, (xs[3], 0.72), (xs[3], -0.18))
    return _finish(fig, ax, (-1.0, 9.8), (-1.3, 2.0))


def draw_mbconv_and_fused(expand: int = 4) -> Figure:
    """MBConv and Fused-MBConv side by side, as in EfficientNetV2's Figure 2 (chapter "EfficientNetV2")."""
    fig, ax = plt.subplots(figsize=(9, 5.8))
    _column(ax, 0.0, [("input: C channels", "tensor"), (f"1x1 expand to {expand}C, BN, SiLU", "pointwise"),
                      ("k x k depthwise, BN, SiLU", "depthwise"), ("SE", "se"),
                      ("1x1 project to C, BN (linear)", "project")], "MBConv", skip="identity")
    _column(ax, 4.8, [("input: C channels", "tensor"), (f"k x k conv to {expand}C, BN, SiLU", "conv"),
                      ("SE (in the paper's figure;\nnot in released S/M/L)", "optional"),
                      ("1x1 project to C, BN (linear)", "project")], "Fused-MBConv", skip="identity")
    ax.text(4.8, -4.75, "one regular k x k convolution replaces\nthe 1x1 expansion and the depthwise k x k",
            ha="center", va="center", fontsize=8.5, style="italic")
    return _finish(fig, ax, (-1.7, 7.0), (-5.3, 1.0))


def _side(resolution: object) -> int:
    """224 from 224 or from "224x224"."""
    return int(str(resolution).split("x")[0])


def draw_stages(rows: Sequence[dict[str, object]], title: str, numbering: Sequence[str] | None = None,
                row_name: str = "row", row_offset: int = 0) -> Figure:
    """A network's stages left to right: box height ~ input resolution, width ~ sqrt(channels).

    ``rows`` are :func:`effnet_core.stage_table` rows (keys ``stage``, ``operator``, ``resolution``,
    ``channels``, ``layers``); ``numbering`` optionally labels each row in this book's stage numbering,
    ``row_name`` and ``row_offset`` name the paper's rows (V2's table counts its stem as stage 0).
    Chapters "EfficientNet-B0" and "EfficientNetV2".
    """
    fig, ax = plt.subplots(figsize=(12, 3.9))
    top = max(_side(r["resolution"]) for r in rows)
    widest = max(int(r["channels"]) for r in rows)
    slot = 1.45
    for i, r in enumerate(rows):
        res, ch, op = _side(r["resolution"]), int(r["channels"]), str(r["operator"])
        h, w = 2.4 * res / top + 0.25, 0.3 + 0.8 * np.sqrt(ch / widest)
        x = i * slot + (slot - w) / 2
        kind = "conv" if op.lower().startswith(("conv", "fused")) else "depthwise"
        ax.add_patch(FancyBboxPatch((x, -h / 2), w, h, boxstyle="round,pad=0.01,rounding_size=0.05",
                                    facecolor=COLORS[kind], edgecolor="#333333", alpha=0.85))
        label = f"{row_name} {int(r['stage']) + row_offset}"
        label += f"\n{numbering[i]}" if numbering and numbering[i] else ""
        ax.text(i * slot + slot / 2, 1.5, label, ha="center", va="bottom", fontsize=8, weight="bold")
        ax.text(i * slot + slot / 2, -1.55, f"{op.replace(', ', chr(10)).replace(' & ', chr(10))}\n"
                f"{res}x{res} in\n{ch} ch, x{r['layers']}", ha="center", va="top", fontsize=7.5)
    ax.set_title(title, fontsize=10.5, weight="bold")
    return _finish(fig, ax, (-0.1, len(rows) * slot + 0.1), (-3.1, 2.2))


def plot_relu_manifold(spiral: np.ndarray, recovered: dict[int, np.ndarray]) -> Figure:
    """The 2-D input spiral and, per dimension n, ReLU(T x) projected back with T's pseudo-inverse.

    Reproduces the idea of MobileNetV2's Figure 1 (chapter "MBConv"); the computation is in the chapter.
    """
    fig, axes = plt.subplots(1, len(recovered) + 1, figsize=(2.3 * (len(recovered) + 1), 2.6))
    colors = plt.cm.viridis(np.linspace(0, 1, len(spiral)))
    axes[0].scatter(spiral[:, 0], spiral[:, 1], c=colors, s=4)
    axes[0].set_title("input (2-D)", fontsize=9.5)
    for ax, (n, points) in zip(axes[1:], recovered.items(), strict=True):
        ax.scatter(points[:, 0], points[:, 1], c=colors, s=4)
        ax.set_title(f"n = {n}", fontsize=9.5)
    for ax in axes:
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
