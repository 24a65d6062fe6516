"""Checker for the chapter "MBConv": the learner's inverted-residual block.

The learner writes ``cls(in_channels, out_channels, expand_ratio, kernel_size, stride)``: expand
1x1 to ``in_channels * expand_ratio`` (skipped when the ratio is 1) -> depthwise ``kernel_size``
conv with ``stride`` -> SE squeezing to ``max(1, int(in_channels * 0.25))`` -> linear 1x1
projection, SiLU activations, BatchNorm after every conv, residual only when ``stride == 1``
and ``in_channels == out_channels``. Every test runs in eval mode.
"""

from __future__ import annotations

import torch
from torch import nn

from ...layers import MBConv
from ._core import CheckFailed, exercise, expect

# in, out, expand, kernel, stride
RESIDUAL = (16, 16, 6, 3, 1)
CASES = (RESIDUAL, (16, 24, 6, 5, 2), (24, 24, 4, 3, 2), (16, 32, 6, 3, 1), (32, 16, 1, 3, 1))
SIZE = 16


def _forward(block: nn.Module, x: torch.Tensor, cfg: tuple[int, ...]) -> torch.Tensor:
    c_in, c_out, _, _, stride = cfg
    try:
        with torch.no_grad():
            return block(x)
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


def _depthwise_widths(block: nn.Module) -> list[int]:
    return [m.in_channels for m in block.modules()
            if isinstance(m, nn.Conv2d) and m.groups > 1 and m.groups == m.in_channels == m.out_channels]


def _check_structure(cls: type, cfg: tuple[int, ...]) -> nn.Module:
    c_in, c_out, expand, _, stride = cfg
    block = cls(*cfg)
    expect(isinstance(block, nn.Module), "your class must build an nn.Module.")
    block.eval()
    x = torch.randn(2, c_in, SIZE, SIZE)
    y = _forward(block, x, cfg)
    want = (2, c_out, SIZE // stride, SIZE // stride)
    expect(tuple(y.shape) == want,
           f"the block {cfg} maps an input {tuple(x.shape)} to {tuple(y.shape)}, expected {want}.")
    widths = _depthwise_widths(block)
    expect(len(widths) == 1,
           f"the block {cfg} has {len(widths)} depthwise convolutions (groups == channels); it needs one.")
    expect(
        widths[0] == c_in * expand,
        f"the block {cfg} expands to {widths[0]} channels; the expanded width is "
        f"in_channels * expand_ratio = {c_in * expand}.",
    )
    return block


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


def _zeroed(block: nn.Module) -> nn.Module:
    with torch.no_grad():
        for p in block.parameters():
            p.zero_()
    return block


def _amplified(block: nn.Module) -> nn.Module:
    """Set every BatchNorm scale to 10 so the outputs are large, whatever the initialisation."""
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d) and m.weight is not None:
                m.weight.fill_(10.0)
    return block


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
    blocks = {cfg: _check_structure(cls, cfg) for cfg in CASES}
    _check_se_present(blocks[RESIDUAL], RESIDUAL)

    x = torch.randn(2, RESIDUAL[0], SIZE, SIZE)
    out = _forward(_zeroed(cls(*RESIDUAL).eval()), x, RESIDUAL)
    expect(torch.allclose(out, x, atol=1e-6),
           f"with every weight set to zero the block {RESIDUAL} should return its input x (branch 0 "
           "plus shortcut x); it does not. Stride 1 and in == out: add the residual.")

    projecting = (16, 32, 6, 3, 1)
    y = _forward(_amplified(blocks[projecting]), torch.randn(4, 16, SIZE, SIZE), projecting)
    expect(
        float(y.min()) < -0.3,
        f"the smallest output of the block {projecting} is {float(y.min()):.3f}, even with every "
        "BatchNorm scale set to 10: the outputs look clipped by an activation. The projection "
        "(last 1x1 conv + BN) must be linear.",
    )
    _compare_with_reference(cls, projecting)
    return "your block matches MBConv: expansion, depthwise, SE, linear projection, residual."


def _compare_with_reference(cls: type, cfg: tuple[int, ...]) -> None:
    """When parameters line up one to one with MBConv's, copy them over and compare outputs."""
    mine, ref = cls(*cfg).eval(), MBConv(*cfg).eval()
    torch.manual_seed(1)
    for m in ref.modules():  # non-trivial BatchNorm statistics, so a swapped order would show
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    src = list(ref.parameters()) + [b for b in ref.buffers() if b.is_floating_point()]
    dst = list(mine.parameters()) + [b for b in mine.buffers() if b.is_floating_point()]
    if [t.shape for t in src] != [t.shape for t in dst]:
        return
    with torch.no_grad():
        for s, d in zip(src, dst, strict=True):
            d.copy_(s)
    x = torch.randn(2, cfg[0], SIZE, SIZE)
    expect(
        torch.allclose(_forward(mine, x, cfg), _forward(ref, x, cfg), rtol=1e-4, atol=1e-5),
        f"with the same weights, your block {cfg} computes something different from MBConv. Check "
        "the activations (SiLU after expansion, depthwise and inside SE; none after the projection) "
        "and the SE width, max(1, int(0.25 * in_channels)).",
    )
