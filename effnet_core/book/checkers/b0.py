"""Checkers for the chapter "EfficientNet-B0": the search reward, an MBConv's parameters, feature sizes."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from ...configs import B0_STAGES
from ...counting import stage_breakdown
from ...layers import MBConv
from ...model import efficientnet_b0
from ...scaling import make_divisible
from ._core import close, exercise, expect, integer, number

REWARD_CASES = ((0.75, 400e6, 400e6, -0.07), (0.76, 800e6, 400e6, -0.07), (0.70, 200e6, 400e6, -0.07),
                (0.78, 1.2e9, 600e6, -0.15), (0.6, 300e6, 400e6, -0.1), (0.82, 900e6, 900e6, -0.07))


@exercise(
    "b0-search-reward",
    hints=[
        "The objective multiplies the accuracy by a factor that depends on FLOPS(m) / T.",
        "At FLOPS(m) = T the factor is exactly 1; w < 0 makes it shrink for bigger models.",
        "Test it by hand: at FLOPS = T the factor is 1; at FLOPS = 2T it is 2 to the power w (about 0.95).",
    ],
)
def check_search_reward(search_reward: Callable[..., float]) -> str:
    """Check ``search_reward(acc, flops, target=400e6, w=-0.07)`` (chapter "EfficientNet-B0")."""
    expect(callable(search_reward), "pass your function itself, e.g. check(search_reward).")
    for acc, flops, target, w in REWARD_CASES:
        case = f"(acc={acc}, flops={flops:.3g}, target={target:.3g}, w={w})"
        got = number(search_reward(acc, flops, target=target, w=w), f"search_reward{case}")
        want = acc * (flops / target) ** w
        if close(got, want):
            continue
        expect(not close(got, acc * flops / target),
               f"{case}: raise the ratio FLOPS(m) / T to the power w; it is not used as a plain factor.")
        expect(not (flops > target and got > acc),
               f"{case}: your reward grows with FLOPS. A bigger model must be penalised: w is negative, "
               "and the ratio is FLOPS(m) / T, not T / FLOPS(m).")
        expect(not (flops != target and (got == 0.0 or close(got, acc))),
               f"{case}: the objective is a soft trade-off, not a hard limit: a model off the target "
               "gets a small bonus or penalty, never exactly ACC or 0.")
        expect(w == -0.07 or not close(got, acc * (flops / target) ** -0.07),
               f"{case}: use the w argument, not a fixed -0.07.")
        expect(target == 400e6 or not close(got, acc * (flops / 400e6) ** w),
               f"{case}: divide by the target argument, not a fixed 400e6.")
        expect(not close(got, acc * flops**w),
               f"{case}: divide FLOPS by the target T, so that a model exactly at T keeps its accuracy.")
        expect(not close(got, acc + w * math.log(flops / target)),
               f"{case}: accuracy and the FLOPS term multiply; they are not added.")
        expect(False, f"search_reward{case} gave {got:.6f}, expected {want:.6f}.")
    return "your reward matches ACC(m) x [FLOPS(m)/T]^w, including other targets and exponents."


MBCONV_CASES = ((32, 16, 1, 3), (16, 24, 6, 3), (40, 80, 6, 3), (112, 192, 6, 5), (192, 192, 6, 5),
                (2, 8, 4, 3), (24, 40, 6, 5), (16, 16, 1, 5))


def _mbconv_formula(c_in: int, c_out: int, expand: int, k: int, *, bn: bool = True,
                    se_from_expanded: bool = False, full_depthwise: bool = False, se_bias: bool = True,
                    always_expand: bool = False, se_from_output: bool = False, kernel_ignored: bool = False,
                    no_se_minimum: bool = False) -> int:
    """Parameters of an MBConv, with switches that reproduce common mistakes."""
    e = make_divisible(c_in * expand, 8)
    per_bn = 2 if bn else 0
    total = 0
    if e != c_in or always_expand:
        total += c_in * e + per_bn * e
    k = 3 if kernel_ignored else k
    total += (e * e if full_depthwise else e) * k * k + per_bn * e
    s = int((e if se_from_expanded else c_out if se_from_output else c_in) * 0.25)
    s = s if no_se_minimum else max(1, s)
    total += 2 * e * s + ((e + s) if se_bias else 0)
    total += e * c_out + per_bn * c_out
    return total


@exercise(
    "b0-mbconv-params",
    hints=[
        "Go layer by layer: expand 1x1 (skipped when expand_ratio is 1), depthwise kxk, SE (two 1x1 convs "
        "with bias), project 1x1. Every conv but SE's is followed by a BatchNorm.",
        "A BatchNorm has 2 learned parameters per channel; a depthwise kxk conv has k*k weights per channel.",
        "SE squeezes to max(1, int(c_in * se_ratio)) channels, computed from the block's INPUT channels.",
    ],
)
def check_mbconv_params(mbconv_params: Callable[..., int]) -> str:
    """Check ``mbconv_params(c_in, c_out, expand_ratio, kernel_size)`` against ``effnet_core.MBConv``."""
    expect(callable(mbconv_params), "pass your function itself, e.g. check(mbconv_params).")
    mistakes = (
        ({"bn": False}, "you left out the BatchNorm parameters (2 per channel after each conv but SE's)."),
        ({"se_from_expanded": True}, "EfficientNet's SE squeezes to int(0.25 * c_in), the block's INPUT "
                                     "channels, not the expanded ones."),
        ({"full_depthwise": True}, "the kxk convolution is depthwise: k*k weights per channel, not per pair "
                                   "of channels."),
        ({"se_bias": False}, "the two 1x1 convolutions of SE have biases."),
        ({"always_expand": True}, "with expand_ratio = 1 there is no expansion convolution."),
        ({"se_from_output": True}, "SE squeezes to int(0.25 * c_in), from the block's INPUT channels, not "
                                   "its output channels."),
        ({"kernel_ignored": True}, "the depthwise kernel is kernel_size x kernel_size: a 5x5 one has 25 "
                                   "weights per channel."),
        ({"no_se_minimum": True}, "the SE bottleneck keeps at least one channel, even when 0.25 * c_in < 1."),
    )
    for c_in, c_out, expand, k in MBCONV_CASES:
        case = f"mbconv_params({c_in}, {c_out}, {expand}, {k})"
        got = integer(mbconv_params(c_in, c_out, expand, k), case)
        want = sum(p.numel() for p in MBConv(c_in, c_out, expand, k, 1).parameters())
        if got == want:
            continue
        for switches, message in mistakes:
            expect(got != _mbconv_formula(c_in, c_out, expand, k, **switches), f"{case}: {message}")
        expect(False, f"{case} gave {got:,}, but the block has {want:,} parameters.")
    return "your count matches effnet_core.MBConv for every block shape tried."


SIZES = (224, 240, 300, 380, 456, 33)


ROUNDING = {"ceil": lambda n, s: -(-n // s), "floor": lambda n, s: n // s, "round": lambda n, s: round(n / s)}


def _sizes(image_size: int, *, rule: str = "ceil", stem_stride: int = 2, shift: bool = False) -> list[int]:
    """Input resolution of each row of Table 1 (stem, stages 1-7, head), with switches for mistakes."""
    strides = [stem_stride, *(s.stride for s in B0_STAGES)]
    sizes = [image_size]
    for stride in strides:
        sizes.append(ROUNDING[rule](sizes[-1], stride))
    return sizes[1:] + [sizes[-1]] if shift else sizes


@exercise(
    "b0-feature-sizes",
    hints=[
        "Start from the image size; the stem and each stage's first block divide it by their stride.",
        "The rows of Table 1 give the resolution at the INPUT of each row, so the list starts with the "
        "image size itself and has 9 entries (stem, 7 stages, head).",
        "A stride-2 convolution with 'same' padding turns an odd size n into (n + 1) / 2: round up.",
    ],
)
def check_feature_sizes(feature_sizes: Callable[[int], list[int]]) -> str:
    """Check ``feature_sizes(image_size)``: the input resolution of each row of Table 1 (B0's strides)."""
    expect(callable(feature_sizes), "pass your function itself, e.g. check(feature_sizes).")
    for size in SIZES:
        got = feature_sizes(size)
        want = _sizes(size)
        expect(got is not None, f"feature_sizes({size}) returned None: is the `return` statement missing?")
        got = got.tolist() if isinstance(got, np.ndarray) else got
        expect(isinstance(got, list | tuple)
               and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in got),
               f"feature_sizes({size}): return a list of ints, got {got!r}.")
        got = [int(v) for v in got]
        if got == want:
            continue
        expect(len(got) == len(want),
               f"feature_sizes({size}): Table 1 has {len(want)} rows (stem, 7 stages, head); you gave "
               f"{len(got)} sizes.")
        expect(got != _sizes(size, rule="round"),
               f"feature_sizes({size}): round() sends halves to the EVEN neighbour (round(28.5) == 28), "
               "but a stride-2 'same' convolution turns an odd size n into (n + 1) / 2.")
        floor = _sizes(size, rule="floor")
        if got == floor:
            i = next(i for i, (w, f) in enumerate(zip(want, floor, strict=True)) if w != f)
            expect(False, f"feature_sizes({size}): a stride-2 'same' convolution rounds odd sizes UP "
                          f"({want[i - 1]} -> {want[i]}, not {floor[i]}); it does not floor them.")
        expect(got != _sizes(size, shift=True),
               f"feature_sizes({size}): give each row's INPUT resolution (the first is the image itself), "
               "not its output.")
        expect(got != _sizes(size, stem_stride=1),
               f"feature_sizes({size}): the stem convolution has stride 2 too.")
        expect(False, f"feature_sizes({size}) gave {got}, expected {want}.")
    return "your sizes match Table 1's resolution column, including odd sizes."


STAGE_SIZES = (224, 240, 300, 97)


@exercise(
    "b0-stage-macs",
    hints=[
        "Walk B0_STAGES in order, tracking the channels and the side of the feature map; the stem "
        "halves the side first (ceil(size / 2)).",
        "Only the FIRST block of a stage has the stage's stride and its input channels; the other "
        "repeats are stride 1 from out_channels to out_channels.",
        "ec.block_cost(stage, in_channels, stride, size) gives (params, MACs) of one block; the side "
        "after a stride-s block is ceil(size / s).",
    ],
)
def check_stage_macs(stage_macs: Callable[[int], list[int]]) -> str:
    """Check ``stage_macs(image_size)``: the MACs of each of B0's 7 MBConv stages (★★★)."""
    expect(callable(stage_macs), "pass your function itself, e.g. check(stage_macs).")
    model = efficientnet_b0()
    for size in STAGE_SIZES:
        got = stage_macs(size)
        expect(isinstance(got, list | tuple), f"stage_macs({size}) must return a list, got "
                                              f"{type(got).__name__}.")
        expect(len(got) == len(B0_STAGES), f"stage_macs({size}) must return one number per MBConv stage "
                                           f"({len(B0_STAGES)}), got {len(got)}: no stem, head, classifier.")
        got = [integer(v, f"stage_macs({size})[{i}]") for i, v in enumerate(got)]
        rows = [r for r in stage_breakdown(model, size) if str(r["part"]).startswith("stage")]
        want = [int(r["macs"]) for r in rows]
        sides = [-(-size // 2)]
        for cfg in B0_STAGES:
            sides.append(-(-sides[-1] // cfg.stride))
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if g == w:
                continue
            cfg = B0_STAGES[i]
            odd = any(side % 2 for side in sides[: i + 1])
            expect(not (cfg.num_layers > 1 and g > w * 1.2),
                   f"stage {i + 1} at {size} px: {g:,} is too much; did every repeat get the stride and "
                   "the input side of the first block? Only the first block downsamples.")
            expect(not (cfg.num_layers > 1 and g < w * 0.8),
                   f"stage {i + 1} at {size} px: {g:,} is too little; count all {cfg.num_layers} repeats.")
            expect(not odd, f"stage {i + 1} at {size} px: {g:,}, expected {w:,}. The side before it is "
                            f"{sides[i]} ({sides[:i + 1]} so far): a stride-2 conv with 'same' padding "
                            "gives ceil(n / 2), not n // 2.")
            expect(False, f"stage {i + 1} at {size} px: {g:,}, expected {w:,} (measured on "
                          "effnet_core.efficientnet_b0).")
    return "all 7 stages match the measured B0 at 224, 240, 300 and an odd 97 px."
