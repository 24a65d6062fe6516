"""The checkers of "EfficientNet-B0" accept the reference and reject common mistakes, each specifically."""

import math

import pytest

from effnet_core.book.checkers import EXERCISES, check_feature_sizes, check_mbconv_params, check_search_reward
from effnet_core.book.checkers.b0 import _mbconv_formula


def reward(acc, flops, target=400e6, w=-0.07):
    return acc * (flops / target) ** w


def sizes(image_size):
    out = [image_size]
    for stride in (2, 1, 2, 2, 2, 1, 2, 1):
        out.append((out[-1] + stride - 1) // stride)
    return out


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize(
    ("checker", "reference"),
    [
        (check_search_reward, reward),
        (check_mbconv_params, lambda *a: _mbconv_formula(*a)),
        (check_feature_sizes, sizes),
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
    ("wrong", "message"),
    [
        (lambda n: [n // 2**k for k in (0, 1, 1, 2, 3, 4, 4, 5, 5)], "rounds odd sizes UP (15 -> 8, not 7)"),
        (lambda n: sizes(n)[1:] + sizes(n)[-1:], "INPUT resolution"),
        (lambda n: [n, n, n, -(-n // 2), -(-n // 4), -(-n // 8), -(-n // 8), -(-n // 16), -(-n // 16)],
         "the stem convolution has stride 2"),
        (lambda n: sizes(n)[:-1], "Table 1 has 9 rows"),
        (lambda n: [float(v) for v in sizes(n)], "list of ints"),
    ],
)
def test_feature_sizes_mistakes(wrong, message):
    result = check_feature_sizes(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


def test_hints_do_not_contain_the_solution():
    for checker in (check_search_reward, check_mbconv_params, check_feature_sizes):
        text = " ".join(checker.hints)
        assert "**" not in text and "//" not in text and "flops / target" not in text
