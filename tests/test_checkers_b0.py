"""The checkers of "EfficientNet-B0" accept the reference and reject common mistakes, each specifically."""

import math

import pytest
from torch import nn

from effnet_core import MBConv
from effnet_core.checkers import EXERCISES, check_make_stage, check_mbconv_params, check_search_reward
from effnet_core.checkers.b0 import _mbconv_formula


def reward(acc, flops, target=400e6, w=-0.07):
    return acc * (flops / target) ** w


def stage(cfg, *, stride_everywhere=False, same_input=False, layers=None, kernel=None):
    n = cfg.num_layers if layers is None else layers
    return nn.Sequential(*(
        MBConv(cfg.in_channels if i == 0 or same_input else cfg.out_channels, cfg.out_channels,
               cfg.expand_ratio, kernel or cfg.kernel_size,
               cfg.stride if i == 0 or stride_everywhere else 1, se_ratio=cfg.se_ratio)
        for i in range(n)
    ))


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize(
    ("checker", "reference"),
    [
        (check_search_reward, reward),
        (check_mbconv_params, lambda *a: _mbconv_formula(*a)),
        (check_make_stage, stage),
    ],
)
def test_reference_passes_and_stub_is_not_attempted(checker, reference):
    assert checker(reference, quiet=True).status == "pass"
    assert checker(stub, quiet=True).status == "not attempted"
    assert EXERCISES[checker.name] is checker
    assert len(checker.hints) >= 2


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda acc, flops, target=400e6, w=-0.07: acc * (flops / target) ** -w, "grows with FLOPS"),
        (lambda acc, flops, target=400e6, w=-0.07: acc if flops <= target else 0.0, "soft trade-off"),
        (lambda acc, flops, target=400e6, w=-0.07: acc * flops**w, "divide FLOPS by the target"),
        (lambda acc, flops, target=400e6, w=-0.07: acc + w * math.log(flops / target), "multiply"),
        (lambda acc, flops, target=400e6, w=-0.07: acc * (flops / 400e6) ** -0.07, "expected"),
    ],
)
def test_search_reward_mistakes(wrong, message):
    result = check_search_reward(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


@pytest.mark.parametrize(
    ("switch", "message"),
    [
        ({"bn": False}, "BatchNorm"),
        ({"se_from_expanded": True}, "INPUT"),
        ({"full_depthwise": True}, "depthwise"),
        ({"se_bias": False}, "biases"),
        ({"always_expand": True}, "no expansion"),
    ],
)
def test_mbconv_params_mistakes(switch, message):
    result = check_mbconv_params(lambda *a: _mbconv_formula(*a, **switch), quiet=True)
    assert result.status == "fail"
    assert message in result.message


def test_mbconv_params_wants_an_int():
    result = check_mbconv_params(lambda *a: float(_mbconv_formula(*a)), quiet=True)
    assert result.status == "fail" and "Python int" in result.message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"stride_everywhere": True}, "only the first block has the stage's stride"),
        ({"same_input": True}, "take cfg.out_channels inputs"),
        ({"layers": 1}, "blocks; yours has 1"),
        ({"kernel": 3}, "check expand_ratio, kernel_size"),
    ],
)
def test_make_stage_mistakes(options, message):
    result = check_make_stage(lambda cfg: stage(cfg, **options), quiet=True)
    assert result.status == "fail"
    assert message in result.message


def test_hints_do_not_contain_the_solution():
    for checker in (check_search_reward, check_mbconv_params, check_make_stage):
        text = " ".join(checker.hints)
        assert "**" not in text and "MBConv(" not in text and "flops / target" not in text
