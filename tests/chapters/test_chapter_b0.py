"""The B0 the reader assembles in "EfficientNet-B0" is effnet_core's B0: same names, same outputs."""

import pytest
import torch
from nbutils import load_by_hand

import effnet_core as ec


@pytest.fixture(scope="module")
def by_hand():
    return load_by_hand("05_efficientnet_b0.ipynb")


def test_hand_built_b0_equals_effnet_core(by_hand):
    torch.manual_seed(0)
    reference = ec.efficientnet_b0().eval()
    mine = by_hand["HandB0"]().eval()
    assert list(mine.state_dict()) == list(reference.state_dict())
    assert ec.count_params(mine) == 5_288_548
    mine.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(mine(x), reference(x))


def test_hand_built_stage_has_the_reference_drop_schedule(by_hand):
    mine = by_hand["HandB0"]()
    reference = ec.efficientnet_b0()
    probs = [m.stochastic_depth.p for m in mine.modules() if isinstance(m, ec.MBConv)]
    want = [m.stochastic_depth.p for m in reference.modules() if isinstance(m, ec.MBConv)]
    assert probs == pytest.approx(want)


def test_hand_built_stem_and_stage_shapes(by_hand):
    x = torch.randn(1, 3, 224, 224)
    h = by_hand["make_stem"]()(x)
    assert h.shape == (1, 32, 112, 112)
    stage = by_hand["make_stage"](ec.B0_STAGES[1], [0.0, 0.0]).eval()
    assert stage(torch.randn(1, 16, 112, 112)).shape == (1, 24, 56, 56)
