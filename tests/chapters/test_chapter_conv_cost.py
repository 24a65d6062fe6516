"""The costs and the separable block built by hand in "The cost of a convolution" match effnet_core."""

import pytest
import torch
from nbutils import load_by_hand
from torch import nn

import effnet_core
from effnet_core.counting import conv2d_macs, conv2d_params, count_params

HAND = load_by_hand("02_conv_cost.ipynb")


@pytest.mark.parametrize(("m", "n", "k", "h"), [(32, 64, 3, 28), (96, 24, 5, 14), (1, 1, 1, 1)])
def test_costs_equal_effnet_core_and_the_modules(m, n, k, h):
    assert HAND["standard_cost"](m, n, k, h, h) == (conv2d_params(m, n, k), conv2d_macs(m, n, k, h, h))
    assert HAND["depthwise_cost"](m, k, h, h) == (conv2d_params(m, m, k, groups=m),
                                                  conv2d_macs(m, m, k, h, h, groups=m))
    assert HAND["pointwise_cost"](m, n, h, h) == (conv2d_params(m, n, 1), conv2d_macs(m, n, 1, h, h))
    params, macs = HAND["separable_cost"](m, n, k, h, h)
    assert params == count_params(HAND["SeparableConv"](m, n, k)) - 2 * (m + n)  # minus BN weights
    assert macs == conv2d_macs(m, m, k, h, h, groups=m) + conv2d_macs(m, n, 1, h, h)
    assert macs / HAND["standard_cost"](m, n, k, h, h)[1] == pytest.approx(1 / n + 1 / k**2)


@pytest.mark.parametrize(("m", "n", "k", "stride"), [(32, 48, 3, 1), (16, 24, 5, 2), (24, 24, 3, 2)])
def test_separable_block_equals_mbconv_without_expansion_and_se(m, n, k, stride):
    torch.manual_seed(0)
    mine = HAND["SeparableConv"](m, n, k, stride)
    theirs = effnet_core.MBConv(m, n, expand_ratio=1, kernel_size=k, stride=stride, se_ratio=None)
    for bn in (mod for mod in mine.modules() if isinstance(mod, nn.BatchNorm2d)):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
    theirs.load_state_dict(mine.state_dict())
    x = torch.randn(2, m, 15, 15)
    with torch.no_grad():
        assert torch.equal(mine.eval()(x), theirs.eval()(x))
    mine.train()
    theirs.train()
    assert torch.equal(mine(x), theirs(x))
