"""The SE layer built by hand in "Squeeze-and-Excitation" equals effnet_core's for the same weights."""

import pytest
import torch
from nbutils import load_by_hand
from torch import nn

from effnet_core import SqueezeExcitation
from effnet_core.counting import se_params

NOTEBOOK = "03_squeeze_excitation.ipynb"


@pytest.fixture(scope="module")
def by_hand():
    return load_by_hand(NOTEBOOK)


@pytest.mark.parametrize(("channels", "squeeze", "activation"),
                         [(96, 4, nn.SiLU), (64, 4, nn.ReLU), (1152, 48, nn.SiLU), (8, 1, nn.SiLU)])
def test_by_hand_se_equals_effnet_core(by_hand, channels, squeeze, activation):
    torch.manual_seed(channels)
    reference = SqueezeExcitation(channels, squeeze, activation)
    mine = by_hand["SqueezeExcite"](channels, squeeze, activation)
    mine.load_state_dict(reference.state_dict())
    x = torch.randn(3, channels, 7, 9)
    torch.testing.assert_close(mine(x), reference(x), rtol=0, atol=1e-6)
    torch.testing.assert_close(mine.gates(x), reference.channel_weights(x), rtol=0, atol=1e-6)


def test_by_hand_se_has_no_parameters_of_its_own(by_hand):
    mine = by_hand["SqueezeExcite"](64, 4)
    assert set(mine.state_dict()) == set(SqueezeExcitation(64, 4).state_dict())


@pytest.mark.parametrize(("channels", "r"), [(64, 16), (256, 4), (7, 16), (1024, 1)])
def test_se_params_formula_matches_module(channels, r):
    module = SqueezeExcitation.with_reduction(channels, r)
    assert se_params(channels, r) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("channels", "r"), [(0, 4), (8, 0.5), (True, 4)])
def test_se_params_rejects_bad_input(channels, r):
    with pytest.raises((ValueError, TypeError), match="channels|r must"):
        se_params(channels, r)
