"""Checkers for the chapter "EfficientNetV2": a reader's Fused-MBConv and arithmetic intensity.

The Fused-MBConv is judged by what it does: the convolutions in the order they run (a traced
forward pass), and its outputs next to :class:`effnet_core.layers.FusedMBConv`'s once both have
the same weights, matched by tensor shape, so any names and any registration order pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ...layers import FusedMBConv, MBConv
from ...training_cost import conv_intensity
from ._blocks import build, measured_cost, spatial_size, trace, transplant
from ._core import close, exercise, expect, integer, number, tensor

# (in_channels, out_channels, expand_ratio, kernel_size, stride). The blocks without a residual
# (stride 2 with in == out, stride 1 with in != out) come last: a residual there crashes or adds a
# pooled or projected input, and is reported as such.
FUSED_CASES = ((16, 32, 4, 3, 2), (24, 24, 4, 3, 1), (24, 24, 1, 3, 1), (16, 24, 1, 5, 2),
               (24, 24, 2, 5, 1), (16, 16, 4, 3, 2), (16, 24, 4, 3, 1), (24, 16, 1, 5, 1))
SILU_MIN = -0.2785  # min_x x * sigmoid(x)


def _describe(case: tuple[int, ...]) -> str:
    c_in, c_out, e, k, s = case
    return (f"(in_channels={c_in}, out_channels={c_out}, expand_ratio={e}, kernel_size={k}, "
            f"stride={s})")


def _check_structure(block: nn.Module, case: tuple[int, ...]) -> None:
    c_in, c_out, e, k, s = case
    where = _describe(case)
    x = torch.randn(2, c_in, 16, 16)
    try:
        calls = trace(block, x)
    except RuntimeError:
        return  # a residual that does not fit: _check_behaviour names it
    convs = [c.module for c in calls if isinstance(c.module, nn.Conv2d)]
    expect(all(c.groups == 1 for c in convs),
           f"{where}: a convolution has groups > 1 (depthwise). Fused-MBConv replaces the 1x1 "
           "expansion AND the depthwise conv by one regular kxk convolution.")
    se_like = [c.module for c in calls
               if isinstance(c.module, nn.AdaptiveAvgPool2d | nn.Sigmoid | nn.Linear)
               or (isinstance(c.module, nn.Conv2d) and spatial_size(c.given) == 1)]
    expect(not se_like,
           f"{where}: found {type(se_like[0]).__name__ if se_like else ''} layers that look like "
           "Squeeze-and-Excitation. EfficientNetV2's Fused-MBConv has no SE (only its MBConv stages do).")
    shortcut = [c for c in calls[1:] if isinstance(c.module, nn.Conv2d) and c.given is x]
    expect(not shortcut,
           f"{where}: the input goes through a second convolution (a ResNet-style shortcut?). The skip "
           "connection adds x unchanged, and only when stride == 1 and in_channels == out_channels.")
    want, layout = (1, "convolution (one kxk Conv-BN-SiLU: nothing to expand)") if e == 1 else (
        2, "convolutions (kxk expansion, then a 1x1 projection)")
    expect(len(convs) == want,
           f"{where}: with expand_ratio={e} the block runs {want} {layout}; yours runs {len(convs)}.")
    expect(convs[0].kernel_size == (k, k) and convs[-1].kernel_size == ((k, k) if e == 1 else (1, 1)),
           f"{where}: the first conv to run should be {k}x{k} (it expands)"
           + ("" if e == 1 else " and the second 1x1 (it projects)")
           + f"; yours are {[c.kernel_size for c in convs]}.")
    expect(e == 1 or convs[0].out_channels == c_in * e,
           f"{where}: the kxk conv expands to {convs[0].out_channels} channels; the expanded width is "
           f"in_channels * expand_ratio = {c_in * e}.")
    expect(convs[0].stride == (s, s) and all(c.stride == (1, 1) for c in convs[1:]),
           f"{where}: the stride belongs to the first (kxk) convolution, and only to it.")
    for i, call in enumerate(calls):
        following = calls[i + 1].module if i + 1 < len(calls) else None
        expect(not isinstance(call.module, nn.Conv2d) or isinstance(following, nn.BatchNorm2d),
               f"{where}: every convolution is followed by a BatchNorm2d; one of yours is not.")
    reference = FusedMBConv(c_in, c_out, e, k, s)
    got, want = sum(p.numel() for p in block.parameters()), sum(p.numel() for p in reference.parameters())
    expect(got == want, f"{where}: {got:,} parameters, effnet_core.FusedMBConv has {want:,} "
                        "(convolutions have no bias; each conv is followed by a BatchNorm2d).")


def _check_behaviour(block: nn.Module, case: tuple[int, ...]) -> None:
    c_in, c_out, e, k, s = case
    where = _describe(case)
    size = 16
    x = torch.randn(4, c_in, size, size)
    block.train()
    try:
        out = tensor(block(x), f"{where}: forward")
    except RuntimeError as error:
        expect(not (s == 2 and c_in == c_out),
               f"{where}: forward failed ({error}). Looks like a residual on a stride-2 block: the "
               "skip connection is used only when stride == 1 and in_channels == out_channels.")
        expect(not (s == 1 and c_in != c_out),
               f"{where}: forward failed ({error}). Looks like a residual although in_channels != "
               "out_channels: the skip connection is used only when stride == 1 AND the channels match.")
        raise
    expect(tuple(out.shape) == (4, c_out, size // s, size // s),
           f"{where}: output shape {tuple(out.shape)}, expected {(4, c_out, size // s, size // s)}.")
    # With every BatchNorm's scale and shift at 0 the branch outputs 0: what is left is the skip.
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.zero_()
                m.bias.zero_()
    block.eval()
    with torch.no_grad():
        skip = tensor(block(x), f"{where}: forward")
    residual = s == 1 and c_in == c_out
    if residual:
        expect(torch.allclose(skip, x, atol=1e-5),
               f"{where}: no skip connection. With stride 1 and in_channels == out_channels the "
               "block returns branch(x) + x.")
    else:
        expect(skip.abs().max().item() < 1e-5,
               f"{where}: the block adds a skip connection, but a residual is used only when "
               "stride == 1 and in_channels == out_channels"
               + (" (this is a stride-2 block)." if s == 2 else "."))


def _check_activations(cls: Callable[..., nn.Module]) -> None:
    torch.manual_seed(0)
    case = FUSED_CASES[0]
    block = cls(*case).train()
    out = tensor(block(torch.randn(8, case[0], 16, 16)), f"{_describe(case)}: forward")
    expect(out.min().item() < SILU_MIN - 0.2,
           f"{_describe(case)}: no output is below {SILU_MIN}, the minimum of SiLU: an activation "
           "follows the 1x1 projection. The projection is linear (BatchNorm, no activation).")
    case = FUSED_CASES[3]  # expand_ratio=1, stride 2: no skip, so the output is SiLU's
    block = cls(*case).train()
    out = tensor(block(torch.randn(8, case[0], 16, 16)), f"{_describe(case)}: forward")
    expect(out.min().item() >= SILU_MIN - 1e-3,
           f"{_describe(case)}: outputs go below {SILU_MIN}, the minimum of SiLU. With expand_ratio=1 "
           "the single conv is followed by BatchNorm AND SiLU.")


def _check_same_outputs(cls: Callable[..., nn.Module]) -> None:
    for case in FUSED_CASES:
        reference, block = FusedMBConv(*case).eval(), cls(*case).eval()
        unknown = transplant(reference, block, seed=sum(case))
        expect(not unknown, f"{_describe(case)}: your block holds tensors of shapes {unknown}, which "
                            "effnet_core.FusedMBConv does not have.")
        x = torch.randn(2, case[0], 12, 12)
        with torch.no_grad():
            diff = (tensor(block(x), 'forward') - reference(x)).abs().max().item()
        expect(diff < 1e-4,
               f"{_describe(case)}: with effnet_core.FusedMBConv's weights your block's output differs "
               f"by up to {diff:.3g}. Check the order conv -> BatchNorm -> SiLU (-> 1x1 conv -> BatchNorm).")


@exercise(
    "v2-fused-mbconv",
    hints=[
        "Start from MBConv and merge its first two convolutions: expand 1x1 + depthwise kxk become one "
        "regular kxk convolution to the expanded width.",
        "Expanded width = in_channels * expand_ratio; the stride goes on the kxk conv; the 1x1 "
        "projection has BatchNorm but no activation; no Squeeze-and-Excitation.",
        "When expand_ratio == 1 there is no projection: one kxk Conv-BN-SiLU from in to out channels. "
        "Skip connection only when stride == 1 and in_channels == out_channels.",
    ],
)
def check_fused_mbconv(cls: Callable[..., nn.Module]) -> str:
    """Check a Fused-MBConv class ``cls(in_channels, out_channels, expand_ratio, kernel_size, stride)``.

    Judges behaviour and structure, not module names. Chapter "EfficientNetV2".
    """
    expect(callable(cls), "pass your class itself, e.g. check_fused_mbconv(MyFusedMBConv).")
    torch.manual_seed(0)
    for case in FUSED_CASES:
        _check_structure(build(cls, case), case)
    _check_activations(cls)
    for case in FUSED_CASES:
        _check_behaviour(cls(*case), case)
    _check_same_outputs(cls)
    return "structure, skip connections and outputs match effnet_core.FusedMBConv."


INTENSITY_CASES = (
    dict(c_in=24, c_out=96, kernel_size=1, h_out=56, w_out=56),
    dict(c_in=96, c_out=96, kernel_size=3, h_out=56, w_out=56, groups=96),
    dict(c_in=24, c_out=96, kernel_size=3, h_out=28, w_out=28, stride=2),
    dict(c_in=1536, c_out=1536, kernel_size=3, h_out=7, w_out=7, groups=1536),
    dict(c_in=256, c_out=1536, kernel_size=1, h_out=7, w_out=7),
    dict(c_in=32, c_out=64, kernel_size=5, h_out=14, w_out=10, groups=2, stride=2),
)


def _intensity_variants(c_in: int, c_out: int, kernel_size: int, h_out: int, w_out: int,
                        groups: int = 1, stride: int = 1) -> dict[str, float]:
    """Common wrong formulas, each with the message it deserves."""
    k2 = kernel_size**2
    w_right, w_no_groups = c_out * (c_in // groups) * k2, c_out * c_in * k2
    x_in, x_in_no_stride, x_out = c_in * (stride * h_out) * (stride * w_out), c_in * h_out * w_out, \
        c_out * h_out * w_out
    right = h_out * w_out * w_right / (4 * (x_in + x_out + w_right))
    return {
        "a depthwise conv (groups = channels) connects each output channel to C_in / groups input "
        "channels, not all of them: divide by groups in the MACs and in the weights.":
            h_out * w_out * w_no_groups / (4 * (x_in + x_out + w_no_groups)),
        "that is FLOPs per byte (2 per multiply-accumulate); count MACs.": 2 * right,
        "count the weights among the bytes moved: they are read from memory too.":
            h_out * w_out * w_right / (4 * (x_in + x_out)),
        "at stride s the input is s times larger than the output in each direction "
        "(H_in = s * H_out).": h_out * w_out * w_right / (4 * (x_in_no_stride + x_out + w_right)),
        "that is MACs per element; divide by bytes (4 bytes per float32 element).": 4 * right,
        "count the input among the bytes moved: the layer reads it from memory.":
            h_out * w_out * w_right / (4 * (x_out + w_right)),
        "that counts 8 bytes per element (float64); the tensors are float32: 4 bytes each.": right / 2,
    }


@exercise(
    "v2-conv-intensity",
    hints=[
        "Arithmetic intensity = work / traffic: MACs divided by the bytes read and written.",
        "MACs = H_out * W_out * C_out * (C_in / groups) * k^2. Traffic = input + output + weights, "
        "4 bytes per float32 element.",
        "The input has C_in * (s * H_out) * (s * W_out) elements; the weights C_out * (C_in / groups) * k^2.",
    ],
)
def check_conv_intensity(fn: Callable[..., float]) -> str:
    """Check ``fn(c_in, c_out, kernel_size, h_out, w_out, groups=1, stride=1)`` (MACs per byte).

    Chapter "EfficientNetV2".
    """
    expect(callable(fn), "pass your function itself, e.g. check_conv_intensity(intensity).")
    for case in INTENSITY_CASES:
        got = number(fn(**case), f"for {case} your function")
        want = conv_intensity(**case)
        if close(got, want):
            continue
        for message, value in _intensity_variants(**case).items():
            expect(not close(got, value), f"for {case}: {message}")
        expect(False, f"for {case} you return {got:.4g} MACs/byte, expected {want:.4g}.")
    return "your intensities match for 1x1, depthwise and strided convolutions."


TRADE_CASES = ((24, 4, 56, 3), (48, 4, 28, 3), (64, 4, 28, 3), (128, 4, 14, 3), (32, 1, 20, 5), (16, 6, 9, 3))
TRADE_KEYS = ("mbconv_params", "mbconv_macs", "fused_params", "fused_macs", "macs_ratio")


@exercise(
    "v2-fused-tradeoff",
    hints=[
        "Build ec.MBConv(c, c, expand_ratio, kernel_size, 1) and ec.FusedMBConv(c, c, expand_ratio, "
        "kernel_size, 1); count parameters with ec.count_params.",
        "The blocks take c channels, not 3: count the MACs with forward hooks on every Conv2d during "
        "block(torch.zeros(1, c, size, size)), or by formula, layer by layer.",
        "A Conv2d does out_channels * H_out * W_out * (in_channels / groups) * k * k MACs; "
        "macs_ratio = fused_macs / mbconv_macs.",
    ],
)
def check_fused_tradeoff(fused_vs_mbconv: Callable[..., dict]) -> str:
    """Check ``fused_vs_mbconv(c, expand_ratio, size, kernel_size=3)``: parameters and MACs of a
    stride-1 MBConv and Fused-MBConv of width ``c`` (chapter "EfficientNetV2", ★★★)."""
    expect(callable(fused_vs_mbconv), "pass your function itself, e.g. check(fused_vs_mbconv).")
    for c, expand, size, k in TRADE_CASES:
        case = f"fused_vs_mbconv({c}, {expand}, {size}, kernel_size={k})"
        report = fused_vs_mbconv(c, expand, size, kernel_size=k)
        expect(isinstance(report, dict), f"{case} must return a dict, got {type(report).__name__}.")
        expect(set(report) == set(TRADE_KEYS), f"{case}: the dict needs exactly the keys {list(TRADE_KEYS)}, "
                                               f"got {sorted(report)}.")
        got = {key: integer(report[key], f"{case}[{key!r}]") for key in TRADE_KEYS[:4]}
        ratio = number(report["macs_ratio"], f"{case}['macs_ratio']")
        x = torch.zeros(1, c, size, size)
        want_m = measured_cost(MBConv(c, c, expand, k, 1).eval(), x)
        want_f = measured_cost(FusedMBConv(c, c, expand, k, 1).eval(), x)
        expect(close(ratio, got["fused_macs"] / max(got["mbconv_macs"], 1), 1e-4),
               f"{case}: macs_ratio {ratio:.4f} is not fused_macs / mbconv_macs of your own numbers.")
        expect(not (got["fused_macs"] == want_m[1] and got["mbconv_macs"] == want_f[1]),
               f"{case}: you swapped the two blocks: the fused one does the kxk conv at full width.")
        for name, want in (("mbconv", want_m), ("fused", want_f)):
            expect(got[f"{name}_params"] == want[0], f"{case}: {name}_params is {got[f'{name}_params']:,}, "
                                                     f"expected {want[0]:,}.")
            expect(got[f"{name}_macs"] != want[1] * 3 // c or c == 3,
                   f"{case}: {name}_macs looks measured on a 3-channel image; the block takes {c} channels.")
            expect(got[f"{name}_macs"] == want[1], f"{case}: {name}_macs is {got[f'{name}_macs']:,}, "
                                                   f"expected {want[1]:,}.")
    return "parameters, MACs and their ratio match both blocks at every width, ratio and kernel tried."
