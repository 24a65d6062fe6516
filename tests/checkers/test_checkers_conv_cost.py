"""The conv-cost checkers accept correct counts and name the usual mistakes."""

import pytest

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
