"""Checkers for the chapter "Compound scaling": round_filters, coefficients for another FLOPs budget,
and the FLOPs formula's prediction for a scaled model."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ...scaling import PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA, round_filters
from ._core import close, exercise, expect, integer, number

# Widths of B0-B7 and beyond; other divisors; 26 x 2.0 = 52 sits half-way between 48 and 56 (round()
# rounds halves to even: 48), 3 x 0.5 and 5 x 0.25 fall below the divisor.
ROUND_CASES = tuple((c, w, 8) for c in (16, 24, 32, 40, 80, 112, 192, 320, 1280)
                    for w in (0.5, 0.7, 1.0, 1.1, 1.2, 1.4, 1.8, 2.0, 3.1)) + (
    (30, 1.0, 4), (11, 1.0, 8), (26, 2.0, 8), (20, 1.0, 8), (3, 0.5, 8), (5, 0.25, 4), (100, 1.0, 16),
    (36, 1.5, 3), (40, 1.0, 1))


@exercise(
    "scaling-round-filters",
    hints=[
        "Multiply first, then round the product to a multiple of `divisor` (hardware likes multiples of 8).",
        "Round to the NEAREST multiple (add half the divisor before dividing), never below `divisor`.",
        "Rounding may not lose more than 10%: if the result is below 0.9 times the unrounded width, add one "
        "more divisor.",
    ],
)
def check_round_filters(round_filters_fn: Callable[..., int]) -> str:
    """Check ``round_filters(channels, width_mult, divisor=8)`` against :func:`effnet_core.round_filters`."""
    expect(callable(round_filters_fn), "pass your function itself, e.g. check(round_filters).")
    answers = []
    for channels, width, divisor in ROUND_CASES:
        got = integer(round_filters_fn(channels, width, divisor=divisor),
                      f"round_filters({channels}, {width}, divisor={divisor})")
        fixed = " (a multiple of 8: use the divisor argument, not a fixed 8)" if got % 8 == 0 else ""
        expect(got % divisor == 0, f"round_filters({channels}, {width}, divisor={divisor}) gave {got}: the "
                                   f"result must be a multiple of divisor={divisor}{fixed}.")
        answers.append(got)

    def rounded(rule: Callable[[float, int], int], ninety: bool, minimum: bool = True) -> list[int]:
        out = []
        for channels, width, divisor in ROUND_CASES:
            value = channels * width
            r = max(divisor, rule(value, divisor)) if minimum else rule(value, divisor)
            out.append(r + divisor if ninety and r < 0.9 * value else r)
        return out

    def nearest(v: float, d: int) -> int:
        return int(v + d / 2) // d * d

    def down(v: float, d: int) -> int:
        return int(v) // d * d

    def up(v: float, d: int) -> int:
        return math.ceil(v / d) * d

    def to_even(v: float, d: int) -> int:
        return round(v / d) * d

    expect(answers != rounded(nearest, ninety=False, minimum=False),
           "you round to the nearest multiple, but two rules are missing: never go below the divisor "
           "(round_filters(3, 0.5) is 8, not 0), and add one divisor when rounding would lose more than 10% "
           "of the channels (round_filters(16, 0.7) is 16, not 8).")
    expect(answers != rounded(nearest, ninety=False),
           "you round to the nearest multiple, but the rule also adds one divisor when rounding would lose "
           "more than 10% of the channels (try round_filters(16, 0.7)).")
    expect(answers not in (rounded(to_even, ninety=False), rounded(to_even, ninety=True)),
           "you round with Python's round(), which sends halves to the EVEN multiple (round(6.5) == 6, so "
           "26 channels at width 2.0 give 48). Round halves up: add half the divisor, then floor.")
    for rule, word in ((down, "DOWN"), (up, "UP")):
        expect(answers not in (rounded(rule, ninety=False), rounded(rule, ninety=True)),
               f"your function rounds {word}; round channels * width_mult to the NEAREST multiple of "
               "divisor.")
    for (channels, width, divisor), got in zip(ROUND_CASES, answers, strict=True):
        want = round_filters(channels, width, divisor)
        expect(got == want or divisor == 8 or got % 8 or got != round_filters(channels, width, 8),
               f"round_filters({channels}, {width}, divisor={divisor}) gave {got}: a multiple of 8, but "
               f"divisor={divisor} was asked for. Use the divisor argument, not a fixed 8.")
        expect(got == want or got >= divisor or want != divisor,
               f"round_filters({channels}, {width}, divisor={divisor}) gave {got}: never go below the "
               f"divisor ({divisor}), however few channels are asked for.")
        expect(got == want,
               f"round_filters({channels}, {width}, divisor={divisor}) gave {got}, expected {want}.")
    return "your rounding matches the reference on every width tried, including the 90% rule."


def _paper_direction(flops_per_phi: float) -> tuple[float, float, float]:
    s = math.log(flops_per_phi) / math.log(PAPER_ALPHA * PAPER_BETA**2 * PAPER_GAMMA**2)
    return PAPER_ALPHA**s, PAPER_BETA**s, PAPER_GAMMA**s


@exercise(
    "scaling-coefficients",
    hints=[
        "FLOPs grow by alpha * beta**2 * gamma**2 per unit of phi; make that product equal the target.",
        "Keep the paper's proportions: raise each of 1.2, 1.1, 1.15 to the SAME power s.",
        "Take logarithms: s times log(1.2 * 1.1**2 * 1.15**2) must equal log(target).",
    ],
)
def check_coefficients(coefficients_for: Callable[[float], tuple[float, float, float]]) -> str:
    """Check ``coefficients_for(flops_per_phi)``: (alpha, beta, gamma) with the paper's proportions."""
    expect(callable(coefficients_for), "pass your function itself, e.g. check(coefficients_for).")
    for target in (3.0, 2.0, 4.0):
        got = coefficients_for(target)
        expect(got is not None,
               f"coefficients_for({target}) returned None: is the `return` statement missing?")
        got = got.tolist() if isinstance(got, np.ndarray | torch.Tensor) else got
        expect(isinstance(got, tuple | list) and len(got) == 3,
               f"coefficients_for({target}) must return a tuple (alpha, beta, gamma), got {got!r}.")
        alpha, beta, gamma = (number(v, f"coefficients_for({target})") for v in got)
        case = f"coefficients_for({target}) = ({alpha:.4f}, {beta:.4f}, {gamma:.4f})"
        expect(min(alpha, beta, gamma) >= 1.0,
               f"{case}: every coefficient must be >= 1; compound scaling grows the network, "
               "it never shrinks a dimension.")
        product = alpha * beta**2 * gamma**2
        if not math.isclose(product, target, rel_tol=1e-2):
            expect(not math.isclose(alpha * beta * gamma, target, rel_tol=1e-2),
                   f"{case}: alpha * beta * gamma = {target}, but FLOPs grow with the SQUARE of width and "
                   "resolution: the constraint is alpha * beta**2 * gamma**2.")
            expect(False, f"{case}: alpha * beta**2 * gamma**2 = {product:.3f}, but it must be {target} "
                          "(within 1%) so that FLOPs grow by that factor per unit of phi.")
        want = _paper_direction(target)
        if all(math.isclose(g, w, rel_tol=1e-3) for g, w in zip((alpha, beta, gamma), want, strict=True)):
            continue
        expect(not (math.isclose(beta, want[2], rel_tol=1e-3) and math.isclose(gamma, want[1], rel_tol=1e-3)),
               f"{case}: beta and gamma are swapped: beta (width) is the smaller one, as 1.1 < 1.15.")
        expect(False, f"{case} satisfies the constraint but not the paper's proportions: "
                      "ln(alpha) : ln(beta) : ln(gamma) must stay as ln(1.2) : ln(1.1) : ln(1.15).")
    return "your coefficients meet the constraint with the paper's depth : width : resolution proportions."


PREDICT_CASES = ((385_814_752, 1.4, 1.2, 300), (385_814_752, 1.0, 1.0, 224), (385_814_752, 3.1, 2.0, 600),
                 (1_000_000, 2.0, 1.5, 112, 112), (2_000_000, 1.8, 1.0, 380, 240))


@exercise(
    "scaling-predict-macs",
    hints=[
        "MACs of a convolutional network grow linearly with depth, and with the square of width and of "
        "resolution.",
        "Width and resolution enter as RATIOS to the baseline (resolution / base_resolution), each squared.",
    ],
)
def check_predict_macs(predict_macs: Callable[..., float]) -> str:
    """Check ``predict_macs(b0_macs, depth, width, resolution, base_resolution=224)`` (FLOPs ~ d w^2 r^2)."""
    expect(callable(predict_macs), "pass your function itself, e.g. check(predict_macs).")
    for b0, d, w, r, *base in PREDICT_CASES:
        base_resolution = base[0] if base else 224
        case = f"predict_macs({b0:,}, {d}, {w}, {r}, base_resolution={base_resolution})"
        got = number(predict_macs(b0, d, w, r, base_resolution=base_resolution), case)
        ratio = r / base_resolution
        want = b0 * d * w**2 * ratio**2
        if close(got, want):
            continue
        expect(not close(got, b0 * d * w * ratio**2),
               f"{case}: width enters squared (both input and output channels of a conv grow).")
        expect(not close(got, b0 * d * w**2 * ratio),
               f"{case}: resolution enters squared (height AND width of every feature map grow).")
        expect(not close(got, b0 * w**2 * ratio**2),
               f"{case}: you forgot depth: more layers, proportionally more MACs.")
        expect(not close(got, b0 * d**2 * w**2 * ratio**2),
               f"{case}: depth enters linearly: twice the layers, twice the MACs (it is not squared).")
        expect(base_resolution == 224 or not close(got, b0 * d * w**2 * (r / 224) ** 2),
               f"{case}: divide by the base_resolution argument, not a fixed 224.")
        expect(not close(got, b0 * d * w**2 * r**2),
               f"{case}: use the resolution RATIO resolution / base_resolution, not the pixels.")
        expect(False, f"{case} gave {got:,.0f}, expected {want:,.0f}.")
    return "your prediction is B0's MACs times d * w**2 * (r / r0)**2."


MATCH_CASES = ((1.0, PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA), (3.0, PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA),
               (2.0, 1.4, 1.2, 1.1), (0.5, 1.1, 1.3, 1.2))
MATCH_KEYS = ("flops_factor", "depth", "width", "resolution")


@exercise(
    "scaling-matched-single",
    hints=[
        "Compound scaling at phi multiplies the FLOPs by (alpha * beta**2 * gamma**2) ** phi.",
        "FLOPs grow linearly with depth but with the SQUARE of width and of resolution.",
        "depth = flops_factor; width = resolution = flops_factor ** 0.5.",
    ],
)
def check_matched_single(matched_single: Callable[..., dict]) -> str:
    """Check ``matched_single(phi, alpha, beta, gamma)``: the single-dimension multipliers that cost the
    same FLOPs as compound scaling at ``phi`` (chapter "Compound scaling", ★★★)."""
    expect(callable(matched_single), "pass your function itself, e.g. check(matched_single).")
    for phi, alpha, beta, gamma in MATCH_CASES:
        case = f"matched_single({phi}, {alpha}, {beta}, {gamma})"
        report = matched_single(phi, alpha, beta, gamma)
        expect(isinstance(report, dict), f"{case} must return a dict, got {type(report).__name__}.")
        expect(set(report) == set(MATCH_KEYS), f"{case}: the dict needs exactly the keys {list(MATCH_KEYS)}, "
                                               f"got {sorted(report)}.")
        got = {key: number(report[key], f"{case}[{key!r}]") for key in MATCH_KEYS}
        want = (alpha * beta**2 * gamma**2) ** phi
        expect(not close(got["flops_factor"], alpha**phi * beta**phi * gamma**phi),
               f"{case}: width and resolution enter the FLOPs squared: (alpha * beta^2 * gamma^2)^phi.")
        expect(close(got["flops_factor"], want), f"{case}: flops_factor is {got['flops_factor']:.5f}, "
                                                 f"expected {want:.5f}.")
        for key in ("width", "resolution"):
            expect(not close(got[key], want) or close(want, 1.0),
                   f"{case}: {key} x{got[key]:.4f} alone would multiply the FLOPs by its SQUARE, "
                   f"{got[key] ** 2:.4f}, not {want:.4f}.")
        expect(not close(got["width"], beta**phi) or close(beta**phi, want**0.5),
               f"{case}: width is the compound width beta^phi; the question is the width that ALONE costs "
               "as much as the whole compound step.")
        for key, power in (("depth", 1), ("width", 2), ("resolution", 2)):
            expect(close(got[key] ** power, got["flops_factor"]),
                   f"{case}: {key} x{got[key]:.4f} costs {got[key] ** power:.4f} times the FLOPs, not the "
                   f"flops_factor {got['flops_factor']:.4f} you report.")
    return "each single dimension costs the compound step's FLOPs: depth x f, width and resolution x sqrt(f)."
