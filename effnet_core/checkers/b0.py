"""Checkers for the chapter "EfficientNet-B0": the search reward, an MBConv's parameters, one stage."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ..configs import B0_STAGES, StageConfig
from ..layers import MBConv
from ..scaling import make_divisible
from ._core import CheckFailed, exercise, expect

REWARD_CASES = ((0.75, 400e6, 400e6, -0.07), (0.76, 800e6, 400e6, -0.07), (0.70, 200e6, 400e6, -0.07),
                (0.78, 1.2e9, 600e6, -0.15))


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
        got = float(search_reward(acc, flops, target=target, w=w))
        want = acc * (flops / target) ** w
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        case = f"(acc={acc}, flops={flops:.3g}, target={target:.3g}, w={w})"
        expect(not (flops > target and got > acc),
               f"{case}: your reward grows with FLOPS. A bigger model must be penalised: w is negative, "
               "and the ratio is FLOPS(m) / T, not T / FLOPS(m).")
        expect(not (flops != target and got in (0.0, acc)),
               f"{case}: the objective is a soft trade-off, not a hard limit: a model off the target "
               "gets a small bonus or penalty, never exactly ACC or 0.")
        expect(not math.isclose(got, acc * flops**w, rel_tol=1e-9),
               f"{case}: divide FLOPS by the target T, so that a model exactly at T keeps its accuracy.")
        expect(not math.isclose(got, acc + w * math.log(flops / target), rel_tol=1e-9),
               f"{case}: accuracy and the FLOPS term multiply; they are not added.")
        expect(False, f"search_reward{case} gave {got:.6f}, expected {want:.6f}.")
    return "your reward matches ACC(m) x [FLOPS(m)/T]^w, including other targets and exponents."


MBCONV_CASES = ((32, 16, 1, 3), (16, 24, 6, 3), (40, 80, 6, 3), (112, 192, 6, 5), (192, 192, 6, 5))


def _mbconv_formula(c_in: int, c_out: int, expand: int, k: int, *, bn: bool = True,
                    se_from_expanded: bool = False, full_depthwise: bool = False, se_bias: bool = True,
                    always_expand: bool = False) -> int:
    """Parameters of an MBConv, with switches that reproduce common mistakes."""
    e = make_divisible(c_in * expand, 8)
    per_bn = 2 if bn else 0
    total = 0
    if e != c_in or always_expand:
        total += c_in * e + per_bn * e
    total += (e * e if full_depthwise else e) * k * k + per_bn * e
    s = max(1, int((e if se_from_expanded else c_in) * 0.25))
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
    )
    for c_in, c_out, expand, k in MBCONV_CASES:
        got = mbconv_params(c_in, c_out, expand, k)
        want = sum(p.numel() for p in MBConv(c_in, c_out, expand, k, 1).parameters())
        case = f"mbconv_params({c_in}, {c_out}, {expand}, {k})"
        expect(isinstance(got, int) and not isinstance(got, bool),
               f"{case}: return a Python int, got {type(got).__name__}.")
        if got == want:
            continue
        for switches, message in mistakes:
            expect(got != _mbconv_formula(c_in, c_out, expand, k, **switches), f"{case}: {message}")
        expect(False, f"{case} gave {got:,}, but the block has {want:,} parameters.")
    return "your count matches effnet_core.MBConv for every block shape tried."


@exercise(
    "b0-make-stage",
    hints=[
        "A stage is cfg.num_layers MBConv blocks in an nn.Sequential.",
        "Only the FIRST block changes the resolution (stride) and the channels (in -> out); the others map "
        "out_channels to out_channels with stride 1.",
        "Pass the stage's expand_ratio, kernel_size and se_ratio to every block; stride and in_channels "
        "depend on whether the block is the first.",
    ],
)
def check_make_stage(make_stage: Callable[[StageConfig], nn.Module]) -> str:
    """Check ``make_stage(cfg)`` builds the stage ``efficientnet_b0`` uses (same weights and output)."""
    expect(callable(make_stage), "pass your function itself, e.g. check(make_stage).")
    for index in (0, 1, 5):
        cfg = B0_STAGES[index]
        name = f"stage {index + 1} ({cfg.operator}, {cfg.num_layers} layers)"
        stage = make_stage(cfg)
        expect(isinstance(stage, nn.Module), f"{name}: return an nn.Module (an nn.Sequential of blocks).")
        blocks = list(stage.children())
        expect(len(blocks) == cfg.num_layers,
               f"{name}: a stage has cfg.num_layers = {cfg.num_layers} blocks; yours has {len(blocks)}.")
        reference = nn.Sequential(*(
            MBConv(cfg.in_channels if i == 0 else cfg.out_channels, cfg.out_channels, cfg.expand_ratio,
                   cfg.kernel_size, cfg.stride if i == 0 else 1, se_ratio=cfg.se_ratio)
            for i in range(cfg.num_layers)
        )).eval()
        x = torch.randn(2, cfg.in_channels, 16, 16)
        stage.eval()
        try:
            with torch.no_grad():
                out = stage(x)
        except RuntimeError as error:
            raise CheckFailed(
                f"{name}: running it failed ({str(error).splitlines()[0][:80]}...). Blocks after the first "
                "take cfg.out_channels inputs, not cfg.in_channels."
            ) from None
        want = reference(x)
        expect(out.shape[-1] >= want.shape[-1],
               f"{name}: output is {tuple(out.shape[-2:])} instead of {tuple(want.shape[-2:])}: only the "
               "first block has the stage's stride; later blocks use stride 1.")
        expect(out.shape == want.shape,
               f"{name}: output shape {tuple(out.shape)}, expected {tuple(want.shape)}.")
        got_params = sum(p.numel() for p in stage.parameters())
        want_params = sum(p.numel() for p in reference.parameters())
        expect(got_params == want_params,
               f"{name}: {got_params:,} parameters instead of {want_params:,}: check expand_ratio, "
               "kernel_size and se_ratio of every block.")
        expect(set(stage.state_dict()) == set(reference.state_dict()),
               f"{name}: the parameter names differ from effnet_core's; build it from effnet_core.MBConv "
               "blocks.")
        stage.load_state_dict(reference.state_dict())
        with torch.no_grad():
            expect(torch.allclose(stage(x), want, atol=1e-5),
                   f"{name}: with the same weights your stage computes something else.")
    return "your stages match efficientnet_b0's: same blocks, strides, weights and outputs."
