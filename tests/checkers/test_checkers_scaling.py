"""The checkers of "Compound scaling" accept the reference and reject common mistakes, each specifically."""

import math

import numpy as np
import pytest
import torch

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
        (lambda b, d, w, r, base_resolution=224: b * d * w**2 * (r / 224) ** 2, "not a fixed 224"),
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


def nearest_with_ninety(c, w, divisor=8, rounding=None, minimum=True):
    value = c * w
    r = rounding(value, divisor) if rounding else int(value + divisor / 2) // divisor * divisor
    r = max(divisor, r) if minimum else r
    return r + divisor if r < 0.9 * value else r


@pytest.mark.parametrize(
    "correct",
    [
        lambda c, w, divisor=8: np.int64(round_filters(c, w, divisor)),
        lambda c, w, divisor=8: torch.tensor(round_filters(c, w, divisor)),
        lambda c, w, divisor=8: nearest_with_ninety(c, w, divisor, lambda v, d: math.floor(v / d + 0.5) * d),
        lambda c, w, divisor=8: nearest_with_ninety(c, w, divisor, minimum=False),
    ],
)
def test_round_filters_correct_variants(correct):
    """NumPy and torch integers, floor(v / d + 0.5), no explicit minimum (the 90% rule covers it)."""
    result = check_round_filters(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda c, w, divisor=8: nearest_with_ninety(c, w, divisor, lambda v, d: round(v / d) * d),
         "Python's round()"),
        (lambda c, w, divisor=8: nearest_with_ninety(c, w, 8), "not a fixed 8"),
        (lambda c, w, divisor=8: int(c * w + divisor / 2) // divisor * divisor, "never go below the divisor"),
        (lambda c, w, divisor=8: int(round_filters(c, 1.0, divisor) * w), "must be a multiple of divisor"),
        (lambda c, w, divisor=8: None, "returned None"),
        (lambda c, w, divisor=8: np.float64(round_filters(c, w, divisor)), "must return an integer"),
    ],
)
def test_round_filters_more_mistakes(wrong, message):
    """Banker's rounding (26 at 2.0 gives 48), divisor ignored, no minimum, width after rounding, no return,
    a float."""
    result = check_round_filters(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


def test_round_filters_bankers_case():
    """26 channels at width 2.0: 52 lies half-way; the reference gives 56, round() gives 48."""
    assert round_filters(26, 2.0) == 56 and round(52 / 8) * 8 == 48


@pytest.mark.parametrize(
    "correct",
    [
        lambda t: list(coefficients(t)),
        lambda t: np.array(coefficients(t), dtype=np.float32),
        lambda t: torch.tensor(coefficients(t)),
        lambda t: tuple(math.exp(math.log(t) * math.log(v) / math.log(1.2 * 1.1**2 * 1.15**2))
                        for v in (1.2, 1.1, 1.15)),
    ],
)
def test_coefficients_correct_variants(correct):
    """A list, a float32 NumPy array, a torch tensor, exp/log."""
    result = check_coefficients(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda t: None, "returned None"),
        (lambda t: {"alpha": 1.2, "beta": 1.1, "gamma": 1.15}, "tuple (alpha, beta, gamma)"),
        (lambda t: tuple(str(v) for v in coefficients(t)), "must return a number"),
        (lambda t: tuple(v ** (math.log(t) / math.log(1.2 * 1.1 * 1.15)) for v in (1.2, 1.1, 1.15)),
         "SQUARE"),
        (lambda t: (t, 1.0, 1.0), "proportions"),
        (lambda t: tuple(1 + (v - 1) * t / 2 for v in (1.2, 1.1, 1.15)), "within 1%"),
    ],
)
def test_coefficients_more_mistakes(wrong, message):
    """No return, a dict, strings, the constraint without squares, depth only, linear scaling."""
    result = check_coefficients(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize(
    "correct",
    [
        lambda *a, **k: np.float32(predict(*a, **k)),
        lambda *a, **k: torch.tensor(predict(*a, **k), dtype=torch.float32),
        lambda *a, **k: round(predict(*a, **k)),
    ],
)
def test_predict_macs_correct_variants(correct):
    """np.float32, a float32 tensor, a rounded integer."""
    result = check_predict_macs(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda b, d, w, r, base_resolution=224: b * d**2 * w**2 * (r / base_resolution) ** 2, "linearly"),
        (lambda b, d, w, r, base_resolution=224: None, "returned None"),
        (lambda b, d, w, r, base_resolution=224: str(predict(b, d, w, r, base_resolution)), "must return"),
        (lambda b, d, w, r, base_resolution=224: b * d * (w * r / base_resolution), "expected"),
        (lambda b, d, w, r, base_resolution=224: b + d * w**2 * (r / base_resolution) ** 2, "expected"),
    ],
)
def test_predict_macs_more_mistakes(wrong, message):
    """Depth squared, no return, a string, nothing squared, added instead of multiplied."""
    result = check_predict_macs(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message
