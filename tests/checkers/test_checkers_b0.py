"""The checkers of "EfficientNet-B0" accept the reference and reject common mistakes, each specifically."""

import math

import numpy as np
import pytest
import torch

from effnet_core import MBConv
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


@pytest.mark.parametrize(
    "correct",
    [
        lambda acc, flops, target=400e6, w=-0.07: np.float32(acc * (flops / target) ** w),
        lambda acc, flops, target=400e6, w=-0.07: torch.tensor(acc) * torch.tensor(flops / target) ** w,
        lambda acc, flops, target=400e6, w=-0.07: acc * math.exp(w * math.log(flops / target)),
        lambda acc, flops, target=400e6, w=-0.07: float(np.float32(acc) * np.power(np.float32(flops / target),
                                                                                  np.float32(w))),
    ],
)
def test_search_reward_correct_variants(correct):
    """float32 (issue 16: 'gave 0.724005, expected 0.724005'), a torch scalar, exp/log, NumPy."""
    result = check_search_reward(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda acc, flops, target=400e6, w=-0.07: acc * flops / target, "power w"),
        (lambda acc, flops, target=400e6, w=-0.07: acc * (flops / target) ** -0.07, "the w argument"),
        (lambda acc, flops, target=400e6, w=-0.07: acc * (flops / 400e6) ** w, "the target argument"),
        (lambda acc, flops, target=400e6, w=-0.07: None, "returned None"),
        (lambda acc, flops, target=400e6, w=-0.07: f"{acc * (flops / target) ** w}", "must return a number"),
        (lambda acc, flops, target=400e6, w=-0.07: acc * (1 + w * math.log(flops / target)), "expected"),
    ],
)
def test_search_reward_more_mistakes(wrong, message):
    """Exponent dropped, fixed w, fixed target, no return, a string, a first-order approximation."""
    result = check_search_reward(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


def mbconv_params_by_module(c_in, c_out, expand_ratio, kernel_size):
    return sum(p.numel() for p in MBConv(c_in, c_out, expand_ratio, kernel_size, 1).parameters())


@pytest.mark.parametrize(
    "correct",
    [
        lambda *a: np.int64(_mbconv_formula(*a)),
        lambda *a: torch.tensor(_mbconv_formula(*a)),
        mbconv_params_by_module,
    ],
)
def test_mbconv_params_correct_variants(correct):
    """A NumPy integer, a torch integer, the count of a real module."""
    result = check_mbconv_params(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda *a: _mbconv_formula(*a, se_from_output=True), "not its output channels"),
        (lambda *a: _mbconv_formula(*a, kernel_ignored=True), "25 weights per channel"),
        (lambda *a: _mbconv_formula(*a, no_se_minimum=True), "at least one channel"),
        (lambda *a: None, "returned None"),
        (lambda *a: str(_mbconv_formula(*a)), "must return an integer"),
        (lambda *a: _mbconv_formula(*a) - a[1], "but the block has"),
    ],
)
def test_mbconv_params_more_mistakes(wrong, message):
    """SE width from the output, kernel fixed at 3, no minimum SE width, no return, a string, a bias lost."""
    result = check_mbconv_params(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize(
    "correct",
    [
        lambda n: tuple(sizes(n)),
        lambda n: np.array(sizes(n)),
        lambda n: [np.int64(v) for v in sizes(n)],
        lambda n: [n] + [math.ceil(n / 2 ** k) for k in (1, 1, 2, 3, 4, 4, 5, 5)],
    ],
)
def test_feature_sizes_correct_variants(correct):
    """A tuple, a NumPy array, NumPy integers, math.ceil of n / 2**k."""
    result = check_feature_sizes(correct, quiet=True)
    assert result.status == "pass", result.message


def rounded_sizes(image_size):
    out = [image_size]
    for stride in (2, 1, 2, 2, 2, 1, 2, 1):
        out.append(round(out[-1] / stride))
    return out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (rounded_sizes, "round() sends halves to the EVEN neighbour"),
        (lambda n: None, "returned None"),
        (lambda n: [str(v) for v in sizes(n)], "list of ints"),
        (lambda n: sizes(n)[:-1] + [sizes(n)[-1] // 2], "expected"),
        (lambda n: [n] + [-(-n // 2 ** k) for k in (1, 2, 3, 4, 5, 5, 5, 5)], "expected"),
        (lambda n: sizes(n) + [1], "Table 1 has 9 rows"),
    ],
)
def test_feature_sizes_more_mistakes(wrong, message):
    """Banker's rounding, no return, strings, a stride on the head, the strides misplaced, a tenth row."""
    result = check_feature_sizes(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message
