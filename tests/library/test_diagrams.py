"""The book's block diagrams (effnet_core.book.plots.diagrams) draw what their data says."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import effnet_core as ec  # noqa: E402
from effnet_core.book.plots import diagrams  # noqa: E402


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_stage_diagram_has_one_box_per_table_row_with_its_input_resolution():
    rows = ec.stage_table(ec.B0_STAGES, 224)
    fig = diagrams.draw_stages(rows, "B0", numbering=["stem", *(f"stage {i}" for i in range(1, 8)), "head"])
    labels = texts(fig)
    assert len(fig.axes[0].patches) == len(rows)
    for row in rows:
        assert any(f"{row['resolution']} in" in t for t in labels), row
    assert "row 5\nstage 4" in labels  # Table 1's row 5 is this book's stage 4 (80 channels, 28x28 input)
    plt.close(fig)


def test_v2_stage_numbers_start_at_zero_like_the_paper():
    v2s = ec.V2_VARIANTS["s"]
    rows = ec.stage_table(v2s.stages, v2s.eval_size, stem_channels=24, head_channels=1280)
    labels = texts(diagrams.draw_stages(rows, "V2-S", row_name="stage", row_offset=-1))
    assert "stage 0" in labels and f"stage {len(rows) - 1}" in labels
    plt.close("all")


@pytest.mark.parametrize("draw", [diagrams.draw_conv_kinds, diagrams.draw_inverted_residual, diagrams.draw_se,
                                  diagrams.draw_mbconv_and_fused])
def test_block_diagrams_use_the_shared_colors(draw):
    fig = draw()
    faces = {matplotlib.colors.to_hex(p.get_facecolor()) for ax in fig.axes for p in ax.patches}
    assert faces & {diagrams.COLORS[k] for k in ("pointwise", "depthwise", "se", "project", "conv")}
    plt.close(fig)


def test_fused_diagram_marks_se_as_optional_and_mbconv_has_it():
    labels = texts(diagrams.draw_mbconv_and_fused())
    assert "SE" in labels and any("not in released" in t for t in labels)
    plt.close("all")


def test_manifold_plot_has_one_panel_per_dimension_plus_the_input():
    spiral = np.random.default_rng(0).standard_normal((50, 2))
    fig = diagrams.plot_relu_manifold(spiral, {n: spiral for n in (2, 3, 5)})
    assert [ax.get_title() for ax in fig.axes] == ["input (2-D)", "n = 2", "n = 3", "n = 5"]
    plt.close(fig)
