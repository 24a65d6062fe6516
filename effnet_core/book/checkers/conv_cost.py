"""Checkers for the chapter "The cost of a convolution": parameters and MACs of a convolution.

The expected numbers come from real ``nn.Conv2d`` layers (their parameters, and the output shape
of a forward pass on the ``meta`` device), not from a formula, so the checker and the chapter's
formula cannot share a mistake. Each wrong answer is compared with the usual slips (groups
forgotten, ``k*k`` forgotten, a bias counted that is not there, the input size used for a
stride-2 output, ...) to say which one it looks like.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._core import close, exercise, expect, integer, number

# (c_in, c_out, k, groups, bias): standard, depthwise, pointwise, grouped, with and without bias.
PARAM_CASES = ((16, 32, 3, 1, False), (32, 32, 3, 32, False), (24, 144, 1, 1, False),
               (64, 128, 5, 4, False), (8, 16, 3, 1, True), (48, 48, 5, 48, True), (3, 32, 3, 1, False),
               (12, 18, 3, 3, True), (1, 8, 7, 1, False))
# (c_in, c_out, k, size, stride, groups): "same" padding (k - 1) // 2, square inputs.
MAC_CASES = ((16, 32, 3, 32, 1, 1), (32, 32, 3, 56, 1, 32), (24, 144, 1, 28, 1, 1),
             (32, 64, 3, 56, 2, 1), (96, 96, 5, 28, 2, 96), (40, 80, 3, 15, 2, 1), (64, 128, 3, 14, 1, 4),
             (16, 24, 3, 13, 2, 1), (24, 24, 5, 13, 2, 24), (8, 16, 1, 13, 2, 1))
# Size 13 at stride 2 is 6.5 halved: round() (to even) gives 6, the layer gives 7.


def _conv(c_in: int, c_out: int, k: int, groups: int, bias: bool = False, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2, groups=groups, bias=bias,
                     device="meta")


@exercise(
    "conv-params",
    hints=[
        "Count the numbers stored in the layer: one filter per output channel, plus an optional "
        "bias. How big is one filter?",
        "A filter covers a k x k window of the channels it can see. With groups > 1, how many "
        "input channels does one filter see?",
        "Check your function against sum(p.numel() for p in nn.Conv2d(...).parameters()) for a "
        "depthwise layer (groups = c_in = c_out) and for bias=False.",
    ],
)
def check_conv_params(conv_params: Callable[..., int]) -> str:
    """Check ``conv_params(c_in, c_out, k, groups=1, bias=False)`` (chapter "The cost of a convolution")."""
    expect(callable(conv_params), "pass your function itself, e.g. check_conv_params(conv_params).")
    for c_in, c_out, k, groups, bias in PARAM_CASES:
        call = f"conv_params({c_in}, {c_out}, {k}, groups={groups}, bias={bias})"
        got = integer(conv_params(c_in, c_out, k, groups=groups, bias=bias), call)
        want = sum(p.numel() for p in _conv(c_in, c_out, k, groups, bias).parameters())
        if got == want:
            continue
        weights = c_out * (c_in // groups) * k * k
        extra = c_out if bias else 0
        expect(not (bias and got == weights), f"{call}: you counted the weights but not the bias.")
        expect(not (not bias and got == weights + c_out),
               f"{call}: bias=False, so there is no bias to count.")
        expect(not (groups > 1 and got in (c_out * c_in * k * k, c_out * c_in * k * k + c_out)),
               f"{call}: you ignored groups. With {groups} groups each filter sees only "
               f"{c_in // groups} of the {c_in} input channels.")
        expect(not (groups > 1 and got == (c_out // groups) * (c_in // groups) * k * k + extra),
               f"{call}: you divided by groups twice: the layer still has {c_out} filters.")
        per_filter = c_out * (c_in // groups)
        expect(not (k > 1 and got in (per_filter + extra, per_filter * k + extra)),
               f"{call}: a filter covers a k x k window; check how the kernel size enters.")
        expect(False, f"{call} gave {got}, but nn.Conv2d has {want} parameters.")
    return "your count matches nn.Conv2d for standard, depthwise, pointwise and grouped layers."


@exercise(
    "conv-macs",
    hints=[
        "One MAC per weight per output position: for each output pixel, each filter does one "
        "multiply-accumulate per weight it holds.",
        "The output, not the input, sets the number of positions. With padding (k - 1) // 2 and "
        "stride s, what is the output size for an odd input size?",
        "Compare with a real layer: run nn.Conv2d on a tensor of the right shape and look at the "
        "output's shape; then multiply by the weights one output channel uses.",
    ],
)
def check_conv_macs(conv_macs: Callable[..., int]) -> str:
    """Check ``conv_macs(c_in, c_out, k, size, stride=1, groups=1)`` (chapter "The cost of a convolution")."""
    expect(callable(conv_macs), "pass your function itself, e.g. check_conv_macs(conv_macs).")
    for c_in, c_out, k, size, stride, groups in MAC_CASES:
        call = f"conv_macs({c_in}, {c_out}, {k}, {size}, stride={stride}, groups={groups})"
        got = integer(conv_macs(c_in, c_out, k, size, stride=stride, groups=groups), call)
        out = _conv(c_in, c_out, k, groups, stride=stride)(torch.empty(1, c_in, size, size, device="meta"))
        h_out, w_out = out.shape[2:]
        per_position = c_out * (c_in // groups) * k * k
        want = h_out * w_out * per_position
        if got == want:
            continue
        expect(got != 2 * want, f"{call}: you counted FLOPs (a multiply and an add); count MACs, "
               "one per multiply-accumulate.")
        expect(not (stride > 1 and got == size * size * per_position),
               f"{call}: with stride {stride} the output is {h_out} x {w_out}, not {size} x {size}: "
               "count output positions.")
        expect(not (stride > 1 and size % stride and got == (size // stride) ** 2 * per_position),
               f"{call}: for an odd input size, padding makes the output {h_out} wide, not "
               f"{size // stride}: round the other way.")
        valid = (size - k) // stride + 1
        expect(not (k > 1 and got == valid * valid * per_position),
               f"{call}: the layer pads by (k - 1) // 2, so the output is {h_out} x {w_out}, "
               f"not {valid} x {valid}.")
        expect(not (groups > 1 and got == h_out * w_out * c_out * c_in * k * k),
               f"{call}: you ignored groups; each filter sees only {c_in // groups} input channels.")
        expect(not (k > 1 and got in (h_out * w_out * c_out * (c_in // groups),
                                      h_out * w_out * c_out * (c_in // groups) * k)),
               f"{call}: each output value needs a k x k window per input channel; check how the "
               "kernel size enters.")
        expect(got != want + h_out * w_out * c_out,
               f"{call}: the layer has no bias; count only the multiply-accumulates of the weights.")
        expect(False, f"{call} gave {got}, expected {want}.")
    return "your MAC count is right for standard, depthwise, pointwise and strided layers."


# (c_in, c_out, k, size, groups, batch, peak MACs/s, bandwidth bytes/s)
ROOF_CASES = ((32, 32, 3, 56, 32, 1, 50e9, 20e9), (32, 32, 3, 56, 1, 16, 50e9, 20e9),
              (512, 512, 1, 7, 1, 1, 50e9, 20e9), (512, 512, 1, 7, 1, 256, 50e9, 20e9),
              (96, 96, 5, 28, 96, 8, 400e12, 3e12), (64, 128, 3, 14, 1, 4, 400e12, 3e12))
ROOF_KEYS = ("macs", "bytes", "intensity", "attainable", "bound")


def _roof(c_in: int, c_out: int, k: int, size: int, groups: int, batch: int) -> tuple[int, int]:
    weights = c_out * (c_in // groups) * k * k
    return batch * size * size * weights, 4 * (batch * (c_in + c_out) * size * size + weights)


@exercise(
    "conv-roofline-point",
    hints=[
        "MACs: every output value of every image needs (c_in / groups) * k * k multiply-adds.",
        "Bytes (float32, 4 each): the batch's input and output, and the weights ONCE for the whole batch.",
        "attainable = min(peak, bandwidth * intensity); the layer is memory-bound when "
        "bandwidth * intensity < peak.",
    ],
)
def check_roofline_point(roofline_point: Callable[..., dict]) -> str:
    """Check ``roofline_point(c_in, c_out, k, size, groups, batch, peak, bandwidth)`` for a stride-1
    'same' convolution (chapter "The cost of a convolution", ★★★)."""
    expect(callable(roofline_point), "pass your function itself, e.g. check(roofline_point).")
    for c_in, c_out, k, size, groups, batch, peak, bandwidth in ROOF_CASES:
        case = f"roofline_point({c_in}, {c_out}, {k}, {size}, groups={groups}, batch={batch})"
        report = roofline_point(c_in, c_out, k, size, groups, batch, peak, bandwidth)
        expect(isinstance(report, dict), f"{case} must return a dict, got {type(report).__name__}.")
        expect(set(report) == set(ROOF_KEYS), f"{case}: the dict needs exactly the keys {list(ROOF_KEYS)}, "
                                              f"got {sorted(report)}.")
        macs, moved = integer(report["macs"], f"{case}['macs']"), integer(report["bytes"], f"{case}['bytes']")
        intensity = number(report["intensity"], f"{case}['intensity']")
        attainable = number(report["attainable"], f"{case}['attainable']")
        want_macs, want_bytes = _roof(c_in, c_out, k, size, groups, batch)
        expect(close(intensity, macs / max(moved, 1)), f"{case}: intensity {intensity:.4f} is not your "
                                                       f"macs / bytes ({macs / max(moved, 1):.4f}).")
        expect(groups == 1 or macs != want_macs * groups,
               f"{case}: a grouped conv's filters see c_in / groups channels; divide by groups.")
        expect(macs == want_macs, f"{case}: macs is {macs:,}, expected {want_macs:,}.")
        weights = c_out * (c_in // groups) * k * k
        expect(batch == 1 or moved != want_bytes + 4 * (batch - 1) * weights,
               f"{case}: the weights are loaded ONCE for the whole batch, not once per image.")
        expect(moved != want_bytes // 4, f"{case}: count bytes, 4 per float32 number, not numbers.")
        expect(moved == want_bytes, f"{case}: bytes is {moved:,}, expected {want_bytes:,}.")
        expect(attainable <= peak * (1 + 1e-9), f"{case}: attainable {attainable:.3g} exceeds the peak "
                                                f"{peak:.3g}: the roof is min(peak, bandwidth * I).")
        expect(close(attainable, min(peak, bandwidth * intensity)),
               f"{case}: attainable {attainable:.4g} is not min(peak, bandwidth * intensity).")
        bound = "memory" if bandwidth * intensity < peak else "compute"
        expect(report["bound"] in ("memory", "compute"), f"{case}: bound must be 'memory' or 'compute', "
                                                        f"got {report['bound']!r}.")
        expect(report["bound"] == bound, f"{case}: intensity {intensity:.2f} is "
                                         f"{'below' if bound == 'memory' else 'above'} the ridge "
                                         f"{peak / bandwidth:.1f}, so the layer is {bound}-bound.")
    return "MACs, bytes, intensity, roof and verdict are right for depthwise, pointwise and standard layers."
