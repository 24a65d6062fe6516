"""Widgets that work on the static website: sliders over precomputed frames, and the phi explorer.

:func:`linked_slider` is the one helper behind both: a slider ``jslink``-ed in the browser to a
``Stack`` of frames (a ``Tab`` on ipywidgets 7, e.g. Colab's 7.7.1). :func:`frame_slider` shows PNG
frames (the Swish beta slider); :func:`phi_explorer` shows EfficientNet growing as the compound
coefficient phi moves.

Everything is counted analytically from the stage table (:func:`effnet_core.model.compound_spec`
and :func:`effnet_core.counting.estimate_cost`); no model is built, so a live update takes about a
millisecond (``benchmarks/explorer_latency.py``). Each view is plain HTML with inline SVG, so the
same frames serve two purposes:

* on the static website (no kernel) a slider is linked in the browser to a ``Stack`` of frames
  precomputed at steps of ``step`` in phi;
* in Jupyter or Colab, a second panel recomputes the view on every move of fine phi, alpha, beta
  and gamma sliders.

Introduced in the chapter "Compound scaling".
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
from matplotlib.figure import Figure

from .._checks import check_bool, check_float, check_int
from ..configs import V1_SCALES
from ..counting import scaled_cost, spec_cost
from ..model import ScaledSpec, compound_spec
from ..scaling import PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA, flops_factor_per_phi, validate_coefficients


def linked_slider(
    labels: Sequence[str], children: Sequence[widgets.Widget], *, description: str = "", start: int = 0,
    width: str = "min(100%, 560px)",
) -> tuple[widgets.SelectionSlider, widgets.Box]:
    """A slider whose ``index`` is ``jslink``-ed in the browser to a box showing one of ``children``.

    The one way the book shows precomputed frames: the link lives in the page, so the slider
    keeps working on the static website, where no kernel runs. The box is a ``Stack`` (ipywidgets 8)
    or, on ipywidgets 7 (Colab's 7.7.1 has no ``Stack``), a ``Tab``; both show only the child at
    ``selected_index``. Chapters "Swish", "Compound scaling".
    """
    if len(labels) != len(children) or not children:
        raise ValueError(f"labels and frames must be non-empty and equally long, got "
                         f"{len(labels)} and {len(children)}")
    if not 0 <= start < len(children):
        raise ValueError(f"start must be in [0, {len(children) - 1}], got {start!r}")
    stack = frames_box(children, labels, start)
    slider = widgets.SelectionSlider(options=list(labels), index=start, description=description,
                                     continuous_update=True, layout=widgets.Layout(width=width))
    widgets.jslink((slider, "index"), (stack, "selected_index"))
    return slider, stack


def frames_box(children: Sequence[widgets.Widget], labels: Sequence[str], selected: int = 0) -> widgets.Box:
    """A box showing only ``children[selected_index]``: a ``Stack`` when ipywidgets has one (8.x), else
    a ``Tab`` titled with ``labels`` (7.x: its tab bar is a second way to pick a frame)."""
    if hasattr(widgets, "Stack"):
        return widgets.Stack(list(children), selected_index=selected)
    tab = widgets.Tab(list(children))
    for i, label in enumerate(labels):
        tab.set_title(i, label)
    tab.selected_index = selected
    return tab


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
    if captions is not None and len(captions) != len(frames):
        raise ValueError(f"captions must have one entry per frame ({len(frames)}), got {len(captions)}")
    css = f' class="{css_class}-caption"' if css_class else ""
    children = []
    for i, png in enumerate(frames):
        image = base64.b64encode(png).decode("ascii")
        caption = f"<div{css}>{captions[i]}</div>" if captions else ""
        children.append(widgets.HTML(f'{caption}<img src="data:image/png;base64,{image}" '
                                     'style="max-width:100%"/>'))
    slider, stack = linked_slider(labels, children, description=description, start=start)
    box = widgets.VBox([slider, stack])
    if css_class:
        box.add_class(css_class)
        slider.add_class(f"{css_class}-slider")
    return box


PHI_MAX = 7.0
CURVE_STEP = 1.0  # the curve is nearly straight on a log scale; 8 points keep a live update fast
# Fixed drawing scales, so that frames for different phi are comparable.
_MAX_CHANNELS = 2560
_MAX_RESOLUTION = 600
_STAGE_COLORS = ("#8c8c8c", "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                  "#b07aa1", "#8c8c8c")


@dataclass(frozen=True)
class ExplorerFrame:
    """What the explorer shows for one (phi, alpha, beta, gamma): the scaled network and its cost."""

    phi: float
    alpha: float
    beta: float
    gamma: float
    spec: ScaledSpec
    params: int
    macs: int
    b0_macs: int

    @property
    def predicted_macs(self) -> float:
        """B0's MACs times ``(alpha * beta**2 * gamma**2) ** phi``: the formula's prediction."""
        return self.b0_macs * flops_factor_per_phi(self.alpha, self.beta, self.gamma) ** self.phi


def _check_frame(frame: object) -> None:
    if not isinstance(frame, ExplorerFrame):
        raise TypeError(f"frame must be an ExplorerFrame (from explorer_frame), got {type(frame).__name__}")


def explorer_frame(
    phi: float, alpha: float = PAPER_ALPHA, beta: float = PAPER_BETA, gamma: float = PAPER_GAMMA
) -> ExplorerFrame:
    """Scale B0 by ``phi`` and count its parameters and MACs, without building a model.

    ``phi`` must lie in ``[0, 7]``; alpha, beta, gamma must each be >= 1.
    Introduced in the chapter "Compound scaling".
    """
    phi = check_float("phi", phi, 0.0, PHI_MAX)
    spec = compound_spec(phi, alpha, beta, gamma)
    params, macs = spec_cost(spec)
    return ExplorerFrame(float(phi), float(alpha), float(beta), float(gamma), spec, params, macs,
                         _b0_macs())


@lru_cache(maxsize=1)
def _b0_macs() -> int:
    return spec_cost(compound_spec(0.0))[1]


@lru_cache(maxsize=1)
def released_macs() -> tuple[tuple[str, int, int], ...]:
    """``(name, params, MACs)`` of the released B0-B7 (hand-tuned :data:`V1_SCALES`), by formula."""
    return tuple((name.upper(), *scaled_cost(s.width, s.depth, s.resolution))
                 for name, s in V1_SCALES.items())


def _check_step(step: object) -> int:
    """The number of steps from 0 to :data:`PHI_MAX`, or an error unless ``step`` divides it evenly."""
    step = check_float("step", step, 0.0, PHI_MAX, low_open=True)
    n = round(PHI_MAX / step)
    if not math.isclose(n * step, PHI_MAX) or n > 10_000:
        raise ValueError(f"step must divide {PHI_MAX} evenly, at least {PHI_MAX / 10_000} "
                         f"(e.g. 0.25, 0.5, 1), got {step!r}")
    return n


def macs_curve(alpha: float = PAPER_ALPHA, beta: float = PAPER_BETA, gamma: float = PAPER_GAMMA,
               step: float = CURVE_STEP) -> tuple[tuple[float, int], ...]:
    """``(phi, MACs)`` of the formula-scaled network for phi = 0, step, ..., 7 (cached).

    ``step`` is a number in (0, 7] that divides 7 evenly (e.g. 0.25, 0.5, 1).
    """
    alpha, beta, gamma = validate_coefficients(alpha, beta, gamma)
    return _macs_curve(alpha, beta, gamma, check_float("step", step))


@lru_cache(maxsize=32)
def _macs_curve(alpha: float, beta: float, gamma: float, step: float) -> tuple[tuple[float, int], ...]:
    n = _check_step(step)
    return tuple((i * step, spec_cost(compound_spec(i * step, alpha, beta, gamma))[1]) for i in range(n + 1))


def _fmt_count(n: float) -> str:
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.0f} M"


def network_svg(spec: ScaledSpec, width: int = 760, height: int = 190) -> str:
    """An SVG drawing of the network: input square, then one bar per layer (height ~ sqrt(channels)).

    Bars of a stage share a color; labels give channels (above) and layers (below).
    ``width`` must be at least 400 and ``height`` at least 100 pixels (room for the labels).
    """
    if not isinstance(spec, ScaledSpec):
        raise TypeError(f"spec must be a ScaledSpec (from compound_spec), got {type(spec).__name__}")
    width, height = check_int("width", width, 400, 10_000), check_int("height", height, 100, 10_000)
    parts = [("stem", spec.stem_channels, 1), *((f"{i}", s.out_channels, s.num_layers)
                                                for i, s in enumerate(spec.stages, start=1)),
             ("head", spec.head_channels, 1)]
    bar_area = height - 44
    img = 12 + 70 * spec.resolution / _MAX_RESOLUTION
    x0 = 20 + 70 + 14
    gap = 7
    min_part = 24.0  # room for a part's label even when it has a single thin layer
    layers = sum(n for _, _, n in parts)
    per_layer = min(9.0, (width - x0 - (gap + min_part) * len(parts)) / layers)
    mid = 18 + bar_area / 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
           f'<rect x="{20 + 35 - img / 2:.1f}" y="{mid - img / 2:.1f}" width="{img:.1f}" '
           f'height="{img:.1f}" fill="#dde6f0" stroke="#4e79a7"/>',
           f'<text x="55" y="{mid + img / 2 + 12:.1f}" text-anchor="middle">{spec.resolution} px</text>']
    x = float(x0)
    for i, (label, channels, n) in enumerate(parts):
        h = max(2.0, bar_area * math.sqrt(channels / _MAX_CHANNELS))
        color = _STAGE_COLORS[min(i, len(_STAGE_COLORS) - 1)]
        span = max(n * per_layer, min_part)
        centre = x + span / 2
        x = centre - n * per_layer / 2
        for _ in range(n):
            out.append(f'<rect x="{x:.1f}" y="{mid - h / 2:.1f}" width="{max(per_layer - 1, 1):.1f}" '
                       f'height="{h:.1f}" fill="{color}"/>')
            x += per_layer
        x = centre + span / 2
        out.append(f'<text x="{centre:.1f}" y="{mid - h / 2 - 3:.1f}" text-anchor="middle">{channels}</text>')
        out.append(f'<text x="{centre:.1f}" y="{height - 14}" text-anchor="middle">{label}</text>')
        out.append(f'<text x="{centre:.1f}" y="{height - 3}" text-anchor="middle" fill="#555">×{n}</text>')
        x += gap
    out.append(f'<text x="{x0}" y="11" fill="#555">bar height ~ √channels (number above), '
               'one bar per layer; stage name and layers below</text></svg>')
    return "".join(out)


def curve_svg(frame: ExplorerFrame, width: int = 400, height: int = 210) -> str:
    """MACs against phi (log scale): the formula-scaled network, the released B0-B7, and this phi."""
    _check_frame(frame)
    width, height = check_int("width", width, 200, 10_000), check_int("height", height, 100, 10_000)
    curve = macs_curve(frame.alpha, frame.beta, frame.gamma)
    released = released_macs()
    left, right, top, bottom = 48, 10, 10, 30
    lo = math.log10(min(c[1] for c in curve) / 1.3)
    hi = math.log10(max(max(c[1] for c in curve), released[-1][2]) * 1.3)

    def xy(phi: float, macs: float) -> tuple[float, float]:
        return (left + (width - left - right) * phi / PHI_MAX,
                height - bottom - (height - top - bottom) * (math.log10(macs) - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
           f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
           'fill="none" stroke="#999"/>']
    for e in range(math.ceil(lo), math.floor(hi) + 1):
        _, y = xy(0, 10**e)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{10**e / 1e9:g} G</text>')
    for p in range(8):
        x, _ = xy(p, 10**lo)
        out.append(f'<text x="{x:.1f}" y="{height - bottom + 12}" text-anchor="middle">{p}</text>')
    out.append(f'<text x="{(width + left) / 2}" y="{height - 4}" text-anchor="middle">φ</text>')
    points = " ".join("{:.1f},{:.1f}".format(*xy(p, m)) for p, m in curve)
    out.append(f'<polyline points="{points}" fill="none" stroke="#4e79a7" stroke-width="2"/>')
    for i, (name, _, macs) in enumerate(released):
        x, y = xy(i, macs)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#e15759"/>'
                   f'<text x="{x - 5:.1f}" y="{y - 6:.1f}" text-anchor="end" fill="#e15759">{name}</text>')
    x, y = xy(frame.phi, frame.macs)
    out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" stroke="#333" '
               f'stroke-dasharray="3,3"/><circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#333"/>')
    out.append(f'<text x="{width - right - 6}" y="{height - bottom - 20}" text-anchor="end" '
               'fill="#4e79a7">line: B0 scaled by α^φ, β^φ, γ^φ</text>'
               f'<text x="{width - right - 6}" y="{height - bottom - 7}" text-anchor="end" '
               'fill="#e15759">dots: released B0-B7 at φ = 0..7</text>'
               '</svg>')
    return "".join(out)


def frame_html(frame: ExplorerFrame) -> str:
    """The full view for one frame: the numbers, the network drawing and the MACs-vs-phi curve."""
    _check_frame(frame)
    m, s = frame.spec.multipliers, frame.spec
    stages = " · ".join(f"{st.out_channels}×{st.num_layers}" for st in s.stages)
    numbers = (
        f'<div style="font-family:sans-serif;font-size:13px;line-height:1.5">'
        f'<b>φ = {frame.phi:.2f}</b> (α={frame.alpha:.2f}, β={frame.beta:.2f}, γ={frame.gamma:.2f};'
        f' α·β²·γ² = {flops_factor_per_phi(frame.alpha, frame.beta, frame.gamma):.3f})<br>'
        f'depth ×{m.depth:.2f} · width ×{m.width:.2f} · resolution ×{m.resolution:.2f} '
        f'= <b>{s.resolution} px</b><br>'
        f'stages (channels×layers): {s.stem_channels} stem · {stages} · {s.head_channels} head<br>'
        f'params <b class="explorer-params">{frame.params / 1e6:.2f} M</b> · '
        f'MACs <b class="explorer-macs">{_fmt_count(frame.macs)}</b> '
        f'(formula B0×(αβ²γ²)^φ: {_fmt_count(frame.predicted_macs)})</div>'
    )
    return (f'<div class="phi-frame">{numbers}{network_svg(s)}'
            f'<div>{curve_svg(frame)}</div></div>')


def phi_explorer(step: float = 0.25, live: bool = True) -> widgets.VBox:
    """The phi explorer widget.

    A phi slider linked *in the browser* to a ``Stack`` of frames precomputed every ``step``
    (works on the static site); with ``live=True`` an extra panel recomputes the view from fine
    phi, alpha, beta, gamma sliders (needs a running kernel). Introduced in "Compound scaling".
    """
    n = _check_step(step)
    phis = [i * step for i in range(n + 1)]
    frames = [widgets.HTML(frame_html(explorer_frame(p))) for p in phis]
    slider, stack = linked_slider([f"{p:.2f}" for p in phis], frames, description="φ", width="520px")
    slider.add_class("phi-explorer-slider")
    stack.add_class("phi-explorer-frames")
    children: list[widgets.Widget] = [slider, stack]
    if check_bool("live", live):
        children.append(live_panel())
    return widgets.VBox(children)


def live_panel() -> widgets.Accordion:
    """Fine phi and alpha, beta, gamma sliders whose Python callback redraws the view (kernel only)."""
    fine = widgets.FloatSlider(value=1.0, min=0.0, max=PHI_MAX, step=0.01, description="φ",
                               layout=widgets.Layout(width="520px"))
    coeffs = [widgets.FloatSlider(value=v, min=1.0, max=1.6, step=0.01, description=name)
              for name, v in (("α", PAPER_ALPHA), ("β", PAPER_BETA), ("γ", PAPER_GAMMA))]
    view = widgets.HTML()

    def update(_: object = None) -> None:
        view.value = frame_html(explorer_frame(fine.value, *(c.value for c in coeffs)))

    for w in (fine, *coeffs):
        w.observe(update, names="value")
    update()
    note = widgets.HTML("<i>These controls call Python: they work in Jupyter or Colab, not on the "
                        "static website (there is no kernel behind the page).</i>")
    panel = widgets.Accordion([widgets.VBox([note, fine, widgets.HBox(coeffs), view])])
    panel.set_title(0, "Finer φ and your own α, β, γ (needs a running kernel)")
    panel.add_class("phi-explorer-live")
    return panel
