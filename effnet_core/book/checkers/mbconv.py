"""Checker for the chapter "MBConv": the learner's inverted-residual block.

The learner writes ``cls(in_channels, out_channels, expand_ratio, kernel_size, stride)``: expand
1x1 to ``in_channels * expand_ratio`` (skipped when the ratio is 1) -> depthwise ``kernel_size``
conv with ``stride`` -> SE squeezing to ``max(1, int(in_channels * 0.25))`` -> linear 1x1
projection, SiLU activations, BatchNorm after every conv, residual only when ``stride == 1``
and ``in_channels == out_channels``. Every test runs in eval mode.

The block is judged by what it does, over configurations with stride 1 and 2, in == out and
in != out, expand ratio 1 and 6, kernel 3 and 5: the roles of its layers come from a traced
forward pass (which conv runs on the pooled vector, which one runs after the depthwise), and
its output is compared with :class:`effnet_core.layers.MBConv` after both get the same weights
by tensor shape (see :mod:`._blocks`), whatever the names or the registration order.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ...layers import MBConv
from ._blocks import Call, build, measured_cost, run, spatial_size, trace, transplant
from ._core import CheckFailed, exercise, expect, integer

# in, out, expand, kernel, stride
RESIDUAL = (16, 16, 6, 3, 1)
PROJECTING = (16, 32, 6, 3, 1)
CASES = (RESIDUAL, (16, 24, 6, 5, 2), (24, 24, 4, 3, 2), PROJECTING, (32, 16, 1, 3, 1), (16, 16, 1, 5, 1),
         (24, 24, 6, 5, 1), (32, 32, 1, 3, 2))
SIZE = 16


def _forward(block: nn.Module, x: torch.Tensor, cfg: tuple[int, ...]) -> torch.Tensor:
    c_in, c_out, _, _, stride = cfg
    try:
        return run(block, x, f"the block {cfg}")
    except RuntimeError as error:
        if "must match the size" not in str(error):
            raise
        if stride != 1:
            raise CheckFailed(
                f"the block {cfg} (stride {stride}) crashed adding the shortcut: a stride-2 block "
                "changes the spatial size, so it has no residual connection."
            ) from None
        if c_in != c_out:
            raise CheckFailed(
                f"the block {cfg} crashed adding the shortcut: in_channels={c_in} differs from "
                f"out_channels={c_out}, so this block has no residual connection."
            ) from None
        raise


def _is_conv(call: Call, *, depthwise: bool) -> bool:
    m = call.module
    if not isinstance(m, nn.Conv2d) or spatial_size(call.given) == 1:  # 1x1 input: SE's map
        return False
    return (m.groups > 1) == depthwise


def _check_shape(block: nn.Module, cfg: tuple[int, ...]) -> tuple[list[Call], torch.Tensor]:
    c_in, c_out, _, _, stride = cfg
    x = torch.randn(2, c_in, SIZE, SIZE)
    y = _forward(block, x, cfg)
    want = (2, c_out, SIZE // stride, SIZE // stride)
    expect(tuple(y.shape) == want,
           f"the block {cfg} maps an input {tuple(x.shape)} to {tuple(y.shape)}, expected {want}.")
    calls = trace(block, x)
    biased = [c.module for c in calls if _is_conv(c, depthwise=True) or _is_conv(c, depthwise=False)
              if c.module.bias is not None]
    expect(not biased, f"in the block {cfg} a convolution on the feature map has a bias: the BatchNorm after "
                       "it adds its own shift, so MBConv's convolutions use bias=False (only SE's maps have "
                       "biases).")
    return calls, x


def _wrong_stride(cfg: tuple[int, ...]) -> str:
    return (f"in the block {cfg} the stride sits on the wrong conv: only the depthwise conv carries "
            f"stride={cfg[4]}; the 1x1 expansion and projection use stride 1.")


def _check_depthwise(calls: list[Call], cfg: tuple[int, ...]) -> int:
    """The one depthwise conv: width, kernel, stride. Returns its position in the execution."""
    c_in, _, expand, k, stride = cfg
    where = [i for i, c in enumerate(calls) if _is_conv(c, depthwise=True)]
    expect(len(where) == 1,
           f"the block {cfg} has {len(where)} depthwise convolutions (groups == channels); it needs one.")
    dw = calls[where[0]].module
    expect(dw.in_channels == c_in * expand,
           f"the block {cfg} expands to {dw.in_channels} channels; the expanded width is "
           f"in_channels * expand_ratio = {c_in * expand}.")
    expect(dw.kernel_size == (k, k),
           f"the block {cfg} has a {dw.kernel_size[0]}x{dw.kernel_size[1]} depthwise conv: use kernel_size "
           f"({k}x{k}).")
    expect(dw.stride == (stride, stride), _wrong_stride(cfg))
    following = calls[where[0] + 1].module if where[0] + 1 < len(calls) else None
    expect(isinstance(following, nn.BatchNorm2d),
           f"in the block {cfg} the depthwise conv is not followed by a BatchNorm2d: every conv of the "
           "block (expansion, depthwise, projection) has its BatchNorm.")
    return where[0]


def _check_pointwise(calls: list[Call], dw: int, x: torch.Tensor, cfg: tuple[int, ...]) -> None:
    """The 1x1 convs on the feature map: an expansion (unless the ratio is 1), a projection, nothing else."""
    expand = cfg[2]
    wide = calls[dw].module.in_channels
    dense = [i for i, c in enumerate(calls) if _is_conv(c, depthwise=False)]
    expansion = [i for i in dense if i < dw and calls[i].module.out_channels == wide][-1:]
    shortcut = [i for i in dense if calls[i].given is x and i not in expansion]
    expect(not shortcut,
           f"the block {cfg} passes its input through an extra convolution (a ResNet-style shortcut?). "
           "MBConv adds the input unchanged when shapes match, and has no shortcut at all otherwise.")
    expect(not (expand == 1 and expansion),
           f"the block {cfg} has a 1x1 conv before the depthwise one, but with expand_ratio=1 there is "
           "nothing to expand: skip the expansion.")
    before = [i for i in dense if i < dw]
    expect(len(before) == len(expansion),
           f"the block {cfg} runs {len(before)} convolutions before the depthwise one; MBConv runs "
           f"{'none' if expand == 1 else 'one, the 1x1 expansion'}.")
    after = [i for i in dense if i > dw]
    expect(len(after) == 1, f"the block {cfg} should run one 1x1 projection after the depthwise conv; it "
                            f"runs {len(after)}.")
    for i, name in [(j, "expansion") for j in expansion] + [(after[0], "projection")]:
        expect(calls[i].module.stride == (1, 1), _wrong_stride(cfg))
        nxt = calls[i + 1].module if i + 1 < len(calls) else None
        expect(isinstance(nxt, nn.BatchNorm2d),
               f"in the block {cfg} the 1x1 {name} conv is not followed by a BatchNorm2d.")
    _check_se_layers(calls, dw, after[0], cfg)


def _check_se_layers(calls: list[Call], dw: int, project: int, cfg: tuple[int, ...]) -> None:
    """SE's maps run on the pooled vector, between the depthwise conv and the projection."""
    c_in, c_out, expand, _, _ = cfg
    maps = [i for i, c in enumerate(calls) if isinstance(c.module, nn.Linear)
            or (isinstance(c.module, nn.Conv2d) and spatial_size(c.given) == 1)]
    if not maps:
        return  # no SE module: the receptive-field test below says so
    expect(all(dw < i < project for i in maps),
           f"in the block {cfg} the Squeeze-and-Excitation runs "
           f"{'after the projection' if maps[0] > project else 'before the depthwise conv'}: it belongs "
           "between the depthwise conv and the 1x1 projection, on the expanded channels.")
    first = calls[maps[0]].module
    width = first.out_features if isinstance(first, nn.Linear) else first.out_channels
    want = max(1, int(c_in * 0.25))
    if width == want:
        return
    for source, name in ((c_in * expand, "expanded"), (c_out, "output")):
        expect(width != max(1, int(source * 0.25)),
               f"in the block {cfg} the SE squeezes to {width} channels, 0.25 x the {name} channels. "
               f"EfficientNet's SE width comes from the block's INPUT channels: {want}.")
    expect(False, f"in the block {cfg} the SE squeezes to {width} channels; it should be {want}.")


def _check_se_present(block: nn.Module, cfg: tuple[int, ...]) -> None:
    """Without a global pool, a 1x1-kxk-1x1 block cannot see one corner from the other."""
    x = torch.randn(1, cfg[0], SIZE, SIZE)
    far = x.clone()
    far[..., -1, -1] += 50.0
    y0, y1 = _forward(block, x, cfg), _forward(block, far, cfg)
    expect(
        not torch.allclose(y0[..., 0, 0], y1[..., 0, 0]),
        f"in the block {cfg} the output at the top-left pixel ignores the bottom-right input pixel: "
        "nothing in the block looks at the whole image. Is the Squeeze-and-Excitation step missing?",
    )


def _check_shortcut(cls: type, cfg: tuple[int, ...]) -> None:
    """With every weight zero the branch gives 0: what is left is the shortcut, x or nothing."""
    c_in, c_out, _, _, stride = cfg
    block = build(cls, cfg)
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()
    x = torch.randn(2, c_in, SIZE, SIZE)
    out = _forward(block, x, cfg)
    if stride == 1 and c_in == c_out:
        expect(torch.allclose(out, x, atol=1e-6),
               f"with every weight set to zero the block {cfg} should return its input x (branch 0 "
               "plus shortcut x); it does not. Stride 1 and in == out: add the residual.")
        return
    expect(out.abs().max().item() < 1e-6,
           f"with every weight set to zero the block {cfg} still returns something: it adds a shortcut "
           f"{'(a pooled or strided input?) to a stride-2 block' if stride == 2 else 'although in != out'}"
           ". The residual exists only when stride == 1 and in_channels == out_channels.")


def _check_linear_projection(cls: type) -> None:
    """Set every BatchNorm scale to 10: outputs far below SiLU's minimum mean a linear projection."""
    block = build(cls, PROJECTING)
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d) and m.weight is not None:
                m.weight.fill_(10.0)
    y = _forward(block, torch.randn(4, 16, SIZE, SIZE), PROJECTING)
    expect(
        float(y.min()) < -0.3,
        f"the smallest output of the block {PROJECTING} is {float(y.min()):.3f}, even with every "
        "BatchNorm scale set to 10: the outputs look clipped by an activation. The projection "
        "(last 1x1 conv + BN) must be linear.",
    )


@exercise(
    "mbconv",
    hints=[
        "Four steps: 1x1 expansion, depthwise kxk (it carries the stride), Squeeze-and-Excitation, 1x1 "
        "projection; BatchNorm after each convolution.",
        "Which convolutions are followed by an activation? Compare the block's last step with the others "
        "(the 'linear bottleneck').",
        "The shortcut x + F(x) needs x and F(x) to have the same shape. When is that true?",
    ],
)
def check_mbconv(cls: type) -> str:
    """Check ``cls(in_channels, out_channels, expand_ratio, kernel_size, stride)`` (chapter "MBConv")."""
    expect(isinstance(cls, type) and issubclass(cls, nn.Module),
           "pass your class itself (a subclass of nn.Module), e.g. check_mbconv(MyMBConv).")
    torch.manual_seed(0)
    for cfg in CASES:
        block = build(cls, cfg)
        calls, x = _check_shape(block, cfg)
        dw = _check_depthwise(calls, cfg)
        _check_pointwise(calls, dw, x, cfg)
        _check_se_present(block, cfg)
        _check_shortcut(cls, cfg)
    _check_linear_projection(cls)
    for cfg in CASES:
        _compare_with_reference(cls, cfg)
    return "your block matches MBConv: expansion, depthwise, SE, linear projection, residual."


def _compare_with_reference(cls: type, cfg: tuple[int, ...]) -> None:
    """Give the block and MBConv the same weights (matched by tensor shape) and compare outputs."""
    mine, ref = build(cls, cfg), MBConv(*cfg).eval()
    unknown = transplant(ref, mine, seed=sum(cfg))
    expect(not unknown, f"your block {cfg} holds tensors of shapes {unknown}, which MBConv{cfg} does not "
                        "have (with the same layers, every weight has a counterpart of the same shape).")
    x = torch.randn(2, cfg[0], SIZE, SIZE)
    diff = (_forward(mine, x, cfg) - _forward(ref, x, cfg)).abs().max().item()
    expect(
        diff < 1e-4,
        f"with the same weights, your block {cfg} computes something different from MBConv (up to "
        f"{diff:.3g} apart). Check the activations (SiLU after expansion, depthwise and inside SE; none "
        "after the projection), the order conv -> BatchNorm -> SiLU, and the SE width, "
        "max(1, int(0.25 * in_channels)).",
    )


MACS_CASES = ((16, 16, 1, 3, 1, 28), (16, 24, 6, 3, 2, 56), (24, 24, 6, 5, 1, 14), (40, 80, 6, 3, 2, 15),
              (8, 16, 4, 5, 2, 9), (112, 192, 6, 5, 2, 14))


@exercise(
    "mbconv-macs",
    hints=[
        "Follow the block: expand 1x1 (skipped when the expanded width equals c_in), depthwise kxk "
        "(carries the stride), SE (two 1x1 convs on a 1x1 map), project 1x1.",
        "After the depthwise conv the map is ceil(size / stride) on a side; the projection works there.",
        "A depthwise kxk conv does k*k MACs per output value; the SE convs do e*s and s*e MACs, "
        "s = max(1, int(c_in * 0.25)), e = ec.make_divisible(c_in * expand_ratio, 8).",
    ],
)
def check_mbconv_macs(mbconv_macs: Callable[..., int]) -> str:
    """Check ``mbconv_macs(c_in, c_out, expand_ratio, kernel_size, stride, size)`` against the MACs
    measured on :class:`effnet_core.MBConv` (chapter "MBConv", ★★★)."""
    expect(callable(mbconv_macs), "pass your function itself, e.g. check(mbconv_macs).")
    for c_in, c_out, expand, k, stride, size in MACS_CASES:
        case = f"mbconv_macs({c_in}, {c_out}, {expand}, {k}, {stride}, {size})"
        got = integer(mbconv_macs(c_in, c_out, expand, k, stride, size), case)
        block = MBConv(c_in, c_out, expand, k, stride).eval()
        want = measured_cost(block, torch.zeros(1, c_in, size, size))[1]
        if got == want:
            continue
        e, out = block.expanded_channels, -(-size // stride)
        s = max(1, int(c_in * 0.25))
        expect(got != want - 2 * e * s, f"{case}: the SE convolutions are missing ({2 * e * s} MACs).")
        full = (e * k * k * out * out) * (e - 1)
        expect(got != want + full, f"{case}: the depthwise conv gives each channel its OWN k x k filter; "
                                   "you counted a full convolution (e input channels per output).")
        extra = (e * k * k + e * c_out) * (size * size - out * out)
        expect(stride == 1 or got != want + extra,
               f"{case}: the depthwise conv carries the stride: it and the projection run on a "
               f"{out}x{out} map, not {size}x{size}.")
        expect(e != c_in or got != want + c_in * e * size * size,
               f"{case}: with expand_ratio 1 there is no expansion conv.")
        expect(False, f"{case} gave {got:,}, measured {want:,} on effnet_core.MBConv.")
    return "your MACs match the measured MBConv for every width, kernel, stride and odd size tried."
