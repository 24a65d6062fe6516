"""The EfficientNetV2 chapter: its by-hand Fused-MBConv equals effnet_core's, and its counts hold."""

import json
from dataclasses import replace

import pytest
import torch
from nbutils import CHAPTERS, load_by_hand

import effnet_core as ec
from effnet_core.book.checkers import check_fused_mbconv
from effnet_core.configs import V2_VARIANTS
from effnet_core.counting import estimate_cost

NOTEBOOK = "07_efficientnet_v2.ipynb"


@pytest.fixture(scope="module")
def by_hand():
    return load_by_hand(NOTEBOOK)["FusedMBConvByHand"]


@pytest.mark.parametrize("args", [(24, 48, 4, 3, 2), (48, 48, 4, 3, 1), (24, 24, 1, 3, 1), (32, 64, 4, 5, 1)])
def test_by_hand_fused_equals_effnet_core(by_hand, args):
    ours, theirs = by_hand(*args).eval(), ec.FusedMBConv(*args).eval()
    ours.load_state_dict(theirs.state_dict())  # same module names: loads without renaming
    x = torch.randn(2, args[0], 20, 20)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))


def test_by_hand_fused_passes_the_exercise_checker(by_hand):
    assert check_fused_mbconv(by_hand, quiet=True).status == "pass"


def test_by_hand_residual_uses_stochastic_depth(by_hand):
    block = by_hand(16, 16, 4, 3, 1, stochastic_depth_prob=1.0).train()
    x = torch.randn(3, 16, 8, 8)
    assert torch.equal(block(x), x)  # the branch is always dropped: only the skip is left


@pytest.mark.parametrize(("name", "params"), [("efficientnet_v2_s", 21_458_488),
                                              ("efficientnet_v2_m", 54_139_356),
                                              ("efficientnet_v2_l", 118_515_272)])
def test_v2_counts_from_the_stage_table(name, params):
    setting = V2_VARIANTS[name[-1]]
    rows = estimate_cost(setting.stages, setting.eval_size, stem_channels=setting.stages[0].in_channels,
                         head_channels=setting.head_channels)
    assert sum(r["params"] for r in rows) == params


def test_paper_272_channels_variant_is_larger():
    stages = V2_VARIANTS["s"].stages
    paper = stages[:-1] + (replace(stages[-1], out_channels=272),)

    def params(s):
        return sum(r["params"] for r in estimate_cost(s, 384, stem_channels=24, head_channels=1280))

    assert params(paper) - params(stages) > 1_000_000


def test_notebook_is_committed_clean_and_glues_what_it_cites():
    nb = json.loads((CHAPTERS / NOTEBOOK).read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    sources = "\n".join("".join(c["source"]) for c in nb["cells"])
    for key in ("v2s_272_params", "fused_verdict", "scale_verdict", "b7_batch_600", "sweep_time_ratio"):
        assert f'glue("{key}"' in sources, key  # computed ...
        assert f"`{key}" in sources, key  # ... and used in the prose
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert markdown.count("{exercise}") >= 3
    assert markdown.count("{solution-start}") == markdown.count("{solution-end}")
