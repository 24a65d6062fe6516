"""The blocks: Swish, SE, stochastic depth, MBConv, Fused-MBConv, channel rounding."""

import pytest
import torch
from torch import nn

import effnet_core as ec
from effnet_core.layers import se_squeeze_channels, stochastic_depth
from effnet_core.model import stochastic_depth_schedule
from effnet_core.scaling import make_divisible


def test_swish_equals_silu_at_beta_one():
    x = torch.linspace(-8, 8, 1001)
    torch.testing.assert_close(ec.Swish()(x), nn.SiLU()(x))
    torch.testing.assert_close(ec.swish(x, 1.0), torch.nn.functional.silu(x))


def test_swish_limits_and_learnable_beta():
    x = torch.linspace(-4, 4, 101)
    torch.testing.assert_close(ec.swish(x, 1e-6), x / 2, atol=1e-5, rtol=0)
    torch.testing.assert_close(ec.swish(x, 1e3), torch.relu(x), atol=1e-3, rtol=0)
    act = ec.Swish(beta=1.5, learnable=True)
    assert [n for n, _ in act.named_parameters()] == ["beta"]
    act(x).sum().backward()
    assert act.beta.grad is not None and act.beta.grad.abs() > 0
    assert list(ec.Swish(beta=2.0).parameters()) == []
    with pytest.raises(ValueError, match="beta must be a finite number"):
        ec.Swish(beta=float("inf"))


@pytest.mark.parametrize("block_in, expected", [(16, 4), (32, 8), (3, 1), (1, 1), (40, 10)])
def test_se_squeezes_from_block_input(block_in, expected):
    assert se_squeeze_channels(block_in) == expected
    block = ec.MBConv(block_in, block_in, expand_ratio=6, kernel_size=3, stride=1)
    se = block.block[2]
    assert isinstance(se, ec.SqueezeExcitation)
    assert se.fc1.out_channels == expected  # not expanded // 4
    assert se.fc1.in_channels == make_divisible(block_in * 6, 8)


def test_se_paper_form_and_gates():
    se = ec.SqueezeExcitation.with_reduction(64, r=16)
    assert se.fc1.out_channels == 4 and isinstance(se.activation, nn.ReLU)
    x = torch.randn(2, 64, 5, 5)
    gates = se.channel_weights(x)
    assert gates.shape == (2, 64, 1, 1) and ((gates > 0) & (gates < 1)).all()
    torch.testing.assert_close(se(x), x * gates)


@pytest.mark.parametrize(
    "cin, cout, stride, residual",
    [(16, 16, 1, True), (16, 24, 1, False), (16, 16, 2, False), (24, 40, 2, False)],
)
def test_residual_only_where_allowed(cin, cout, stride, residual):
    for block in (ec.MBConv(cin, cout, 4, 3, stride), ec.FusedMBConv(cin, cout, 4, 3, stride)):
        assert block.use_res_connect is residual
        block.eval()
        x = torch.randn(2, cin, 8, 8)
        out = block(x)
        assert out.shape == (2, cout, 8 // stride, 8 // stride)
        if residual:  # the residual branch alone plus x gives the output
            torch.testing.assert_close(out, block.block(x) + x)


def test_fused_expand_one_is_single_conv():
    block = ec.FusedMBConv(24, 24, 1, 3, 1)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 and convs[0].kernel_size == (3, 3)
    block4 = ec.FusedMBConv(24, 48, 4, 3, 2)
    convs4 = [m for m in block4.modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs4] == [(3, 3), (1, 1)]
    assert not any(isinstance(m, ec.SqueezeExcitation) for m in block4.modules())
    assert not isinstance(block4.block[-1][-1], nn.SiLU)  # linear projection


def test_mbconv_projection_is_linear_and_depthwise():
    block = ec.MBConv(16, 24, 6, 5, 2)
    depthwise = block.block[1][0]
    assert depthwise.groups == depthwise.in_channels == 96 and depthwise.kernel_size == (5, 5)
    assert len(block.block[-1]) == 2  # conv + BN, no activation


def test_stochastic_depth_identity_in_eval_and_rate_in_train():
    x = torch.ones(20000, 1, 1, 1)
    torch.testing.assert_close(stochastic_depth(x, 0.3, training=False), x)
    torch.manual_seed(0)
    out = stochastic_depth(x, 0.3, training=True)
    kept = (out != 0).float().mean().item()
    assert kept == pytest.approx(0.7, abs=0.015)
    assert out[out != 0].unique().tolist() == pytest.approx([1 / 0.7])
    assert out.mean().item() == pytest.approx(1.0, abs=0.03)  # unbiased in expectation
    layer = ec.StochasticDepth(0.5).eval()
    torch.testing.assert_close(layer(x), x)
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\]"):
        ec.StochasticDepth(1.5)


def test_stochastic_depth_schedule_is_linear_per_block():
    probs = stochastic_depth_schedule(16, 0.2)
    assert probs[0] == 0 and probs[-1] == pytest.approx(0.2 * 15 / 16)
    assert all(b > a for a, b in zip(probs, probs[1:], strict=False))
    model = ec.efficientnet_b0()
    blocks = [m for m in model.modules() if isinstance(m, ec.MBConv)]
    assert [b.stochastic_depth.p for b in blocks] == pytest.approx(probs)


@pytest.mark.parametrize(
    "channels, mult, expected",
    [(32, 1.0, 32), (32, 1.1, 32), (32, 1.2, 40), (16, 1.1, 16), (320, 1.4, 448),
     (1280, 2.0, 2560), (10, 1.0, 16), (4, 1.0, 8), (1, 0.1, 8), (100, 0.5, 48)],
)
def test_round_filters(channels, mult, expected):
    out = ec.round_filters(channels, mult)
    assert out == expected
    assert out % 8 == 0 and out >= 0.9 * channels * mult


def test_round_filters_never_below_ninety_percent():
    # 36 * 1.0 rounds to 40 (nearest); 20 -> 24; 44 * 1.0 -> 48; 12 -> 16 but 11.9 -> 16 too
    assert [make_divisible(v, 8) for v in (36, 20, 44, 12)] == [40, 24, 48, 16]
    assert make_divisible(83, 8) == 80 and make_divisible(70, 16) == 64
    assert make_divisible(36, 16) == 48  # 32 < 0.9 * 36 = 32.4: bumped up
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        ec.round_filters(0, 1.0)
    with pytest.raises(ValueError, match="width_mult must be > 0"):
        ec.round_filters(32, -1.0)


def test_round_repeats_is_ceil():
    assert [ec.round_repeats(n, 1.1) for n in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert ec.round_repeats(3, 1.0) == 3 and ec.round_repeats(4, 3.1) == 13
    with pytest.raises(ValueError, match="depth_mult must be a finite number"):
        ec.round_repeats(2, float("inf"))


def test_block_arguments_are_validated():
    with pytest.raises(ValueError, match=r"stride must be one of \(1, 2\)"):
        ec.MBConv(16, 16, 6, 3, 3)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ec.ConvBNAct(16, 16, 4)
    with pytest.raises(ValueError, match="expand_ratio must be >= 1"):
        ec.FusedMBConv(16, 16, 0.5, 3, 1)
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        ec.MBConv(0, 16, 6, 3, 1)
