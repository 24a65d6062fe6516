"""The checkers of "Compound scaling" accept the reference and reject common mistakes, each specifically."""

import math

import pytest

from effnet_core import round_filters
from effnet_core.book.checkers import EXERCISES, check_coefficients, check_predict_macs, check_round_filters


def coefficients(target):
    s = math.log(target) / math.log(1.2 * 1.1**2 * 1.15**2)
    return 1.2**s, 1.1**s, 1.15**s


def predict(b0_macs, depth, width, resolution, base_resolution=224):
    return b0_macs * depth * width**2 * (resolution / base_resolution) ** 2


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize(
    ("checker", "reference"),
    [
        (check_round_filters, lambda c, w, divisor=8: round_filters(c, w, divisor)),
        (check_coefficients, coefficients),
        (check_predict_macs, predict),
    ],
)
def test_reference_passes_and_stub_is_not_attempted(checker, reference):
    assert checker(reference, quiet=True).status == "pass"
    assert checker(stub, quiet=True).status == "not attempted"
    assert EXERCISES[checker.name] is checker
    assert len(checker.hints) >= 2


def no_ninety(c, w, divisor=8):
    return max(divisor, int(c * w + divisor / 2) // divisor * divisor)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda c, w, divisor=8: int(round(c * w)), "must be a multiple of divisor"),
        (no_ninety, "more than 10% of the channels"),
        (lambda c, w, divisor=8: max(divisor, int(c * w) // divisor * divisor), "rounds DOWN"),
        (lambda c, w, divisor=8: math.ceil(c * w / divisor) * divisor, "rounds UP"),
        (lambda c, w, divisor=8: float(round_filters(c, w, divisor)), "Python int"),
    ],
)
def test_round_filters_mistakes(wrong, message):
    result = check_round_filters(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda t: (1.2, 1.1, 1.15), "must be 3.0"),
        (lambda t: (coefficients(t)[0], coefficients(t)[2], coefficients(t)[1]), "swapped"),
        (lambda t: tuple(1 / v for v in coefficients(t)), "must be >= 1"),
        (lambda t: (t ** (1 / 3),) * 3, "SQUARE"),
        (lambda t: (t ** (1 / 5),) * 3, "proportions"),
        (lambda t: coefficients(t)[:2], "tuple (alpha, beta, gamma)"),
    ],
)
def test_coefficients_mistakes(wrong, message):
    result = check_coefficients(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda b, d, w, r, base_resolution=224: b * d * w * (r / base_resolution) ** 2, "width enters"),
        (lambda b, d, w, r, base_resolution=224: b * d * w**2 * r / base_resolution, "resolution enters"),
        (lambda b, d, w, r, base_resolution=224: b * w**2 * (r / base_resolution) ** 2, "forgot depth"),
        (lambda b, d, w, r, base_resolution=224: b * d * w**2 * r**2, "RATIO"),
        (lambda b, d, w, r, base_resolution=224: b * d * w**2 * (r / 224) ** 2, "expected"),
    ],
)
def test_predict_macs_mistakes(wrong, message):
    result = check_predict_macs(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


def test_hints_do_not_contain_the_solution():
    for checker in (check_round_filters, check_coefficients, check_predict_macs):
        text = " ".join(checker.hints)
        assert "return" not in text and "//" not in text and "math." not in text
