"""The phi explorer: exact analytic counts, frames that differ, a browser link, a live panel, speed."""

import statistics
import time

import pytest
from ipywidgets.widgets.widget import _instances
from ipywidgets.widgets.widget_link import Link

import effnet_core as ec
from effnet_core.book.widgets import (
    explorer_frame,
    frame_html,
    live_panel,
    macs_curve,
    phi_explorer,
    released_macs,
)
from effnet_core.counting import scaled_cost


def test_frame_at_phi_zero_is_b0():
    frame = explorer_frame(0.0)
    assert (frame.params, frame.macs) == (5_288_548, 385_814_752)
    assert frame.spec.resolution == 224
    assert frame.predicted_macs == frame.macs


@pytest.mark.parametrize("phi", [1.5, 3.0])
def test_frame_counts_equal_the_built_model(phi):
    frame = explorer_frame(phi)
    model = ec.compound_scaled(phi)
    assert frame.params == ec.count_params(model)
    assert frame.macs == ec.count_macs(model, model.default_image_size)


def test_released_and_scaled_costs_match_built_models():
    counts = {name: (params, macs) for name, params, macs in released_macs()}
    for key in ("b0", "b2"):
        model = ec.get_model(f"efficientnet_{key}")
        assert counts[key.upper()] == (ec.count_params(model), ec.count_macs(model, model.default_image_size))
    assert scaled_cost(1.0, 1.0, 224) == counts["B0"]


@pytest.mark.parametrize("phi", [-0.1, 7.5, True, "1", float("nan")])
def test_frame_rejects_bad_phi(phi):
    with pytest.raises((ValueError, TypeError), match="phi"):  # TypeError for a bool or a str
        explorer_frame(phi)


def test_frame_rejects_bad_coefficients():
    with pytest.raises(ValueError, match="alpha"):
        explorer_frame(1.0, alpha=0.9)


def test_frame_html_shows_the_macs_and_changes_with_phi():
    a, b = frame_html(explorer_frame(0.0)), frame_html(explorer_frame(1.0))
    assert 'class="explorer-macs">386 M<' in a
    assert a != b and "<svg" in a


def test_curve_is_increasing_and_cached():
    curve = macs_curve()
    assert curve[0] == (0.0, 385_814_752)
    assert all(m1 < m2 for (_, m1), (_, m2) in zip(curve, curve[1:], strict=False))
    assert macs_curve() is curve


def _links():
    return [w for w in _instances.values() if isinstance(w, Link)]


def test_static_explorer_links_the_slider_to_precomputed_frames():
    box = phi_explorer(step=0.5, live=False)
    slider, stack = box.children
    assert "phi-explorer-slider" in slider._dom_classes
    assert len(stack.children) == len(slider.options) == 15
    texts = [frame.value for frame in stack.children]
    assert len(set(texts)) == len(texts)
    assert any(link.source == (slider, "index") and link.target == (stack, "selected_index")
               for link in _links())


@pytest.mark.parametrize("step", [0.3, 0, -1, 8, True])
def test_explorer_rejects_bad_step(step):
    with pytest.raises((ValueError, TypeError), match="step"):
        phi_explorer(step=step)


def test_live_panel_recomputes_on_slider_moves():
    panel = live_panel()
    note, fine, coeffs, view = panel.children[0].children
    before = view.value
    fine.value = 4.0
    assert view.value != before and "φ = 4.00" in view.value
    coeffs.children[0].value = 1.3
    assert "α=1.30" in view.value


def test_live_update_is_fast():
    frame_html(explorer_frame(1.0))
    times = []
    for i in range(40):
        start = time.perf_counter()
        frame_html(explorer_frame(7.0 * i / 40))
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.020


def test_slider_falls_back_to_a_linked_tab_without_stack(monkeypatch):
    """ipywidgets 7.7.1 (Colab's) has no Stack: the frames go into a Tab with the same jslink."""
    import ipywidgets

    from effnet_core.book.widgets import linked_slider

    monkeypatch.delattr(ipywidgets, "Stack")
    frames = [ipywidgets.HTML(f"frame {i}") for i in range(3)]
    slider, box = linked_slider(["a", "b", "c"], frames, start=1)
    assert isinstance(box, ipywidgets.Tab) and list(box.children) == frames
    assert box.selected_index == 1 and slider.index == 1
    assert [box.get_title(i) for i in range(3)] == ["a", "b", "c"]
    assert any(link.source == (slider, "index") and link.target == (box, "selected_index")
               for link in _links())
