"""The conv-cost checkers accept correct counts and name the usual mistakes."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from effnet_core.book.checkers import EXERCISES, check_conv_macs, check_conv_params


def params(c_in, c_out, k, groups=1, bias=False):
    return c_out * (c_in // groups) * k * k + (c_out if bias else 0)


def macs(c_in, c_out, k, size, stride=1, groups=1):
    out = -(-size // stride)
    return out * out * c_out * (c_in // groups) * k * k


def stub(*args, **kwargs):
    raise NotImplementedError()


def test_reference_params_pass():
    assert check_conv_params(params, quiet=True).status == "pass"


def test_reference_macs_pass():
    assert check_conv_macs(macs, quiet=True).status == "pass"


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda c_in, c_out, k, groups=1, bias=False: c_out * c_in * k * k + (c_out if bias else 0),
         "ignored groups"),
        (lambda c_in, c_out, k, groups=1, bias=False: c_out * (c_in // groups) + (c_out if bias else 0),
         "kernel size enters"),
        (lambda c_in, c_out, k, groups=1, bias=False: params(c_in, c_out, k, groups) + c_out,
         "no bias to count"),
        (lambda c_in, c_out, k, groups=1, bias=False: params(c_in, c_out, k, groups),
         "not the bias"),
        (lambda c_in, c_out, k, groups=1, bias=False: (c_out // groups) * (c_in // groups) * k * k
         + (c_out if bias else 0), "divided by groups twice"),
        (lambda c_in, c_out, k, groups=1, bias=False: float(params(c_in, c_out, k, groups, bias)),
         "Python int"),
        (lambda c_in, c_out, k, groups=1, bias=False: params(c_in, c_out, k, groups, bias) + 1,
         "but nn.Conv2d has"),
    ],
)
def test_wrong_params_fail_with_specific_message(wrong, message):
    result = check_conv_params(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda c_in, c_out, k, size, stride=1, groups=1: size * size * c_out * (c_in // groups) * k * k,
         "count output positions"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: (size // stride) ** 2 * c_out * (c_in // groups)
         * k * k, "round the other way"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: macs(c_in, c_out, k, size, stride),
         "ignored groups"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: macs(c_in, c_out, 1, size, stride, groups),
         "kernel size enters"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: 2 * macs(c_in, c_out, k, size, stride, groups),
         "counted FLOPs"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: ((size - k) // stride + 1) ** 2 * c_out
         * (c_in // groups) * k * k, "pads by (k - 1) // 2"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: macs(c_in, c_out, k, size, stride, groups)
         + (-(-size // stride)) ** 2 * c_out, "no bias"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: macs(c_in, c_out, k, size, stride, groups) - 1,
         "expected"),
    ],
)
def test_wrong_macs_fail_with_specific_message(wrong, message):
    result = check_conv_macs(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize("checker", [check_conv_params, check_conv_macs])
def test_stub_is_not_attempted(checker):
    assert checker(stub, quiet=True).status == "not attempted"


@pytest.mark.parametrize(("name", "checker"), [("conv-params", check_conv_params),
                                               ("conv-macs", check_conv_macs)])
def test_registered_with_hints_that_do_not_give_the_answer(name, checker):
    assert EXERCISES[name] is checker
    assert len(checker.hints) >= 2
    for hint in checker.hints:
        for answer in ("c_out * c_in", "(c_in // groups)", "c_in / groups", "k * k *", "h_out * w_out *",
                       "ceil", "-(-"):
            assert answer not in hint


def params_by_module(c_in, c_out, k, groups=1, bias=False):
    return sum(p.numel() for p in nn.Conv2d(c_in, c_out, k, groups=groups, bias=bias).parameters())


@pytest.mark.parametrize(
    "correct",
    [
        lambda *a, **k: np.int64(params(*a, **k)),
        lambda *a, **k: torch.tensor(params(*a, **k)),
        params_by_module,
        lambda c_in, c_out, k, groups=1, bias=False: math.prod((c_out, c_in // groups, k, k)) + bias * c_out,
    ],
)
def test_params_correct_variants(correct):
    """NumPy and torch integers, a real nn.Conv2d, math.prod with bias as a 0/1 factor."""
    result = check_conv_params(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda c_in, c_out, k, groups=1, bias=False: None, "returned None"),
        (lambda c_in, c_out, k, groups=1, bias=False: c_out * c_in / groups * k * k + (c_out if bias else 0),
         "must return an integer"),
        (lambda c_in, c_out, k, groups=1, bias=False: c_out * (c_in // groups) * k + (c_out if bias else 0),
         "kernel size enters"),
        (lambda c_in, c_out, k, groups=1, bias=False: c_out * (c_in // groups) * (k - 1) ** 2
         + (c_out if bias else 0), "but nn.Conv2d has"),
        (lambda c_in, c_out, k, groups=1, bias=False: params(c_in, c_out, k, groups) + (c_in if bias else 0),
         "but nn.Conv2d has"),
        (lambda c_in, c_out, k, groups=1, bias=False: str(params(c_in, c_out, k, groups, bias)),
         "must return an integer"),
    ],
)
def test_more_wrong_params(wrong, message):
    """No return, true division, k not squared, (k - 1)**2, bias per input channel, a string."""
    result = check_conv_params(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


def macs_by_module(c_in, c_out, k, size, stride=1, groups=1):
    conv = nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False, device="meta")
    out = conv(torch.empty(1, c_in, size, size, device="meta"))
    return out.shape[2] * out.shape[3] * conv.weight.numel()


@pytest.mark.parametrize(
    "correct",
    [
        lambda *a, **k: np.int64(macs(*a, **k)),
        macs_by_module,
        lambda c_in, c_out, k, size, stride=1, groups=1: ((size + 2 * (k // 2) - k) // stride + 1) ** 2
        * c_out * (c_in // groups) * k * k,
        lambda c_in, c_out, k, size, stride=1, groups=1: math.ceil(size / stride) ** 2 * c_out
        * c_in // groups * k * k,
    ],
)
def test_macs_correct_variants(correct):
    """A NumPy integer, a real layer on the meta device, the padding formula, math.ceil."""
    result = check_conv_macs(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda c_in, c_out, k, size, stride=1, groups=1: round(size / stride) ** 2 * c_out * (c_in // groups)
         * k * k, "round the other way"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: None, "returned None"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: (size / stride) ** 2 * c_out * (c_in // groups)
         * k * k,
         "must return an integer"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: (size // stride + 1) ** 2 * c_out * (c_in // groups)
         * k * k, "expected"),
        (lambda c_in, c_out, k, size, stride=1, groups=1: macs(c_in, c_out, k, size, stride, groups)
         // groups,
         "expected"),
    ],
)
def test_more_wrong_macs(wrong, message):
    """Banker's round() of 13 / 2 (6, not 7), no return, a float, an output size off by one, groups twice."""
    result = check_conv_macs(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message
