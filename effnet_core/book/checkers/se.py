"""Checker for the chapter "Squeeze-and-Excitation": EfficientNet's SE layer.

The learner writes ``cls(channels, block_in_channels, se_ratio=0.25)``: an SE layer acting on a
feature map with ``channels`` channels whose bottleneck width is
``max(1, int(block_in_channels * se_ratio))``. The checker treats the module as a black box
where it can (shapes, gates, pooling, width) and compares it with
:class:`effnet_core.layers.SqueezeExcitation` after giving both the same weights by tensor shape,
so the names, the registration order and ``nn.Linear`` vs 1x1 convolutions do not matter.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ...layers import SqueezeExcitation, se_squeeze_channels
from ._blocks import build, transplant
from ._core import close, exercise, expect, number, tensor

# (channels the SE acts on, block input channels, se_ratio): expand-6 blocks of B0, an expand-1 block,
# a block so narrow that max(1, ...) matters, and other ratios.
CASES = ((96, 16, 0.25), (32, 32, 0.25), (240, 40, 0.25), (24, 2, 0.25), (96, 16, 0.5), (64, 40, 0.125))


def _se_params(channels: int, squeeze: int) -> int:
    return 2 * channels * squeeze + channels + squeeze


def _gates(se: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The per-(sample, channel) factor ``y / x``; checks that it is constant over H and W."""
    y = tensor(se(x), "your layer's forward")
    n, c = x.shape[:2]
    expect(
        tuple(y.shape) != (n, c, 1, 1),
        f"forward returned shape {tuple(y.shape)}: those are the gates s. The layer must return "
        "the input rescaled by them, with the input's shape.",
    )
    expect(
        tuple(y.shape) == tuple(x.shape),
        f"for an input of shape {tuple(x.shape)} forward returned shape {tuple(y.shape)}; an SE "
        "layer keeps the shape of its input.",
    )
    ratio = y / x
    per_channel = ratio.mean(dim=(2, 3), keepdim=True)
    expect(
        torch.allclose(ratio, per_channel.expand_as(ratio), rtol=1e-4, atol=1e-5),
        "output / input is not the same at every pixel of a channel: the scale step multiplies "
        "each whole channel by one number.",
    )
    return per_channel


@exercise(
    "se-efficientnet",
    hints=[
        "Three steps: squeeze each channel to one number, excite (two small linear maps with an "
        "activation between them and a gate at the end), then scale the input.",
        "The gates must lie strictly between 0 and 1, and the layer returns a tensor shaped like "
        "its input.",
        "In EfficientNet the bottleneck width comes from the block's INPUT channels "
        "(se_squeeze_channels), while the two maps act on the channels of the feature map.",
    ],
)
def check_se(cls: type) -> str:
    """Check ``cls(channels, block_in_channels, se_ratio=0.25)`` (chapter "Squeeze-and-Excitation")."""
    expect(isinstance(cls, type) and issubclass(cls, nn.Module),
           "pass your class itself (a subclass of nn.Module), e.g. check_se(EfficientNetSE).")
    torch.manual_seed(0)
    for channels, block_in, ratio in CASES:
        se = build(cls, (channels, block_in), {"se_ratio": ratio} if ratio != 0.25 else None)
        expect(
            all(p.numel() for p in se.parameters()),
            f"for block_in_channels={block_in} a layer of your SE has 0 channels: the bottleneck keeps "
            "at least one.",
        )
        x = torch.randn(2, channels, 5, 6) * 3
        x = torch.where(x.abs() < 1e-2, torch.full_like(x, 0.5), x)  # keep y / x well defined
        with torch.no_grad():
            gates = _gates(se, x)
            expect(
                bool(((gates > 0) & (gates < 1)).all()),
                f"the channel factors range from {gates.min():.3g} to {gates.max():.3g}; gates must "
                "lie strictly between 0 and 1. Is the last step of the excitation a sigmoid?",
            )
            # Same per-channel mean, different per-channel maximum: a mean pool cannot tell them apart.
            bump = torch.zeros_like(x)
            bump[:, :, 0, 0], bump[:, :, 0, 1] = 50.0, -50.0
            expect(
                torch.allclose(_gates(se, x + bump), gates, rtol=1e-4, atol=1e-6),
                "two inputs with the same per-channel MEAN got different gates: squeeze with the "
                "average over H and W (not the maximum or another statistic).",
            )
            # Same mean, four times the pixels: a sum pool would see a different z.
            big = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
            expect(
                torch.allclose(_gates(se, big), gates, rtol=1e-4, atol=1e-6),
                "the gates change when the image is upsampled (same channel means): divide by H*W, "
                "the squeeze is a mean, not a sum.",
            )
        _check_width(se, channels, block_in, ratio)
        _compare_with_reference(se, channels, se_squeeze_channels(block_in, ratio), x)
    return "your layer squeezes, excites and scales exactly as EfficientNet's SE does."


def _check_width(se: nn.Module, channels: int, block_in: int, ratio: float) -> None:
    """The bottleneck width, told from the parameter count."""
    squeeze = se_squeeze_channels(block_in, ratio)
    params = sum(p.numel() for p in se.parameters())
    if params == _se_params(channels, squeeze):
        return
    case = f"for channels={channels}, block_in_channels={block_in}, se_ratio={ratio}"
    wrong = max(1, int(channels * ratio))
    expect(params != _se_params(channels, wrong),
           f"{case} your bottleneck has {wrong} channels: that is se_ratio x the channels of the feature "
           f"map. EfficientNet squeezes to {squeeze} = max(1, int(se_ratio x block_in_channels)).")
    quarter = se_squeeze_channels(block_in)
    expect(ratio == 0.25 or params != _se_params(channels, quarter),
           f"{case} your bottleneck has {quarter} channels, as if se_ratio were 0.25: use the se_ratio "
           f"argument ({squeeze} channels here).")
    expect(False, f"{case} your layer has {params} parameters; two 1x1 maps "
                  f"{channels}->{squeeze}->{channels} with biases have {_se_params(channels, squeeze)}.")


def _compare_with_reference(se: nn.Module, channels: int, squeeze: int, x: torch.Tensor) -> None:
    """Give the layer and SqueezeExcitation the same weights (matched by shape) and compare outputs."""
    reference = SqueezeExcitation(channels, squeeze).eval()
    unknown = transplant(reference, se, seed=channels)
    expect(not unknown, f"your layer for channels={channels} holds tensors of shapes {unknown}, which two "
                        f"maps {channels}->{squeeze}->{channels} with biases do not have.")
    with torch.no_grad():
        got = se(x)
        matches = [torch.allclose(got, reference(x), rtol=1e-4, atol=1e-5)]
        reference.activation = nn.ReLU()
        matches.append(torch.allclose(got, reference(x), rtol=1e-4, atol=1e-5))
    expect(
        any(matches),
        "with the same weights, your output differs from sigmoid(W2 act(W1 z)) * x for both "
        "act = SiLU and act = ReLU. Check the order: mean, first map, activation, second map, "
        "sigmoid, multiply.",
    )


GATE_KEYS = ("gates", "mean", "min", "max", "image_spread")


def _gate_case(seed: int, channels: int, images: int) -> tuple[SqueezeExcitation, torch.Tensor]:
    torch.manual_seed(seed)
    se = SqueezeExcitation(channels, max(1, channels // 4)).eval()
    with torch.no_grad():
        for p in se.parameters():
            p.mul_(3.0)  # spread the gates over (0, 1)
    return se, torch.randn(images, channels, 5, 5) + torch.randn(images, channels, 1, 1)


@exercise(
    "se-gate-report",
    hints=[
        "se.channel_weights(x) gives the gates with shape (N, C, 1, 1); flatten them to (N, C).",
        "mean, min and max are over every gate of the batch; image_spread is the standard deviation "
        "of each channel's gate ACROSS THE IMAGES (dim 0), then averaged over the channels.",
        "gates = se.channel_weights(x).flatten(1); image_spread = gates.std(dim=0).mean().",
    ],
)
def check_gate_report(gate_report: Callable[[nn.Module, torch.Tensor], dict]) -> str:
    """Check ``gate_report(se, x)``, a measurement of what an SE layer does to a batch (★★★)."""
    expect(callable(gate_report), "pass your function itself, e.g. check(gate_report).")
    for seed, channels, images in ((0, 16, 8), (1, 40, 5), (2, 8, 12)):
        se, x = _gate_case(seed, channels, images)
        case = f"an SE layer on {channels} channels and a batch of {images} images"
        with torch.no_grad():
            report = gate_report(se, x)
            want = se.channel_weights(x).flatten(1)
        expect(isinstance(report, dict), f"gate_report must return a dict, got {type(report).__name__}.")
        expect(set(report) == set(GATE_KEYS), f"the report needs exactly the keys {list(GATE_KEYS)}, "
                                              f"got {sorted(report)}.")
        gates = tensor(report["gates"], "report['gates']").detach().double()
        expect(tuple(gates.shape) == (images, channels),
               f"for {case}: gates must have shape (N, C) = {(images, channels)}, got {tuple(gates.shape)} "
               "(flatten the (N, C, 1, 1) gates).")
        expect(bool(((gates > 0) & (gates < 1)).all()),
               f"for {case}: some gates lie outside (0, 1): take them after the sigmoid.")
        expect(not torch.allclose(gates.sum(1), torch.ones(images, dtype=gates.dtype), atol=1e-4),
               f"for {case}: your gates sum to 1 over the channels, a softmax: SE gates each channel "
               "independently with a sigmoid.")
        expect(torch.allclose(gates, want.double(), atol=1e-5),
               f"for {case}: the gates are not the layer's se.channel_weights(x), one per image and channel.")
        stats = {key: number(report[key], f"report[{key!r}]") for key in GATE_KEYS[1:]}
        expect(stats["min"] <= stats["mean"] <= stats["max"],
               f"for {case}: min <= mean <= max does not hold ({stats['min']:.4f}, {stats['mean']:.4f}, "
               f"{stats['max']:.4f}).")
        for key, value in (("mean", want.mean()), ("min", want.min()), ("max", want.max())):
            expect(close(stats[key], value.item(), 1e-4), f"for {case}: {key} is {stats[key]:.5f}, "
                                                          f"expected {value.item():.5f} over all gates.")
        spreads = [want.std(dim=0, correction=c).mean().item() for c in (0, 1)]
        across = want.std(dim=1).mean().item()
        expect(not close(stats["image_spread"], across, 1e-4),
               f"for {case}: image_spread is the spread across IMAGES (dim 0), you took it across channels.")
        expect(any(close(stats["image_spread"], s, 1e-4) for s in spreads),
               f"for {case}: image_spread is {stats['image_spread']:.5f}, expected {spreads[1]:.5f} (the std "
               "over the images of each channel's gate, averaged over channels).")
    return "your report matches the layer's gates and their statistics, per image and per channel."
