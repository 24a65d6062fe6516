"""A faster CPU backward pass for depthwise convolutions on tiny feature maps.

On CPU, PyTorch computes a depthwise convolution's weight gradient with oneDNN, which is slow
when the feature map is 2 x 2 or smaller: on this book's 2-core build machine (PyTorch 2.13), the
weight gradient of a 3 x 3 depthwise convolution over a 128 x 384 x 2 x 2 batch took about 13 ms,
and over the larger 128 x 240 x 4 x 4 batch 0.2 ms. The last stages of the book's CIFAR network
run at 2 x 2 and 1 x 1, so a training step at 16 px cost almost as much as one at 32 px, and
progressive learning's small images saved little (``benchmarks/cpu_training_step.py`` measures
whole training steps with and without this module).

For these maps the weight gradient is a sum of ``k * k`` shifted products,

    dL/dw[c, i, j] = sum over n, h, w of  g[n, c, h, w] * x_padded[n, c, h*s + i, w*s + j]

a few thousand multiply-adds per channel, computed here directly; the forward pass and the
input gradient stay PyTorch's own. :func:`speed_up_small_depthwise` switches a model's
depthwise convolutions to it (same parameters, same state dict); the trainer does this on CPU.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SMALL_MAP = 4  # height x width at or below which the direct weight gradient is used


class _SmallMapDepthwise(torch.autograd.Function):
    """Depthwise conv (zero padding, no dilation, no bias) whose weight gradient sums shifted products."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, stride: int, padding: int) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding = stride, padding
        return F.conv2d(x, weight, stride=stride, padding=padding, groups=weight.shape[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor, None, None]:
        x, weight = ctx.saved_tensors
        s, p, k = ctx.stride, ctx.padding, weight.shape[-1]
        grad_x = None
        if ctx.needs_input_grad[0]:  # input gradient: PyTorch's own kernel
            grad_x = torch.ops.aten.convolution_backward(
                grad, x, weight, None, [s, s], [p, p], [1, 1], False, [0, 0], weight.shape[0],
                [True, False, False])[0]
        padded = F.pad(x, (p, p, p, p)).permute(0, 2, 3, 1)  # (N, H, W, C): channels innermost
        g = grad.permute(0, 2, 3, 1)
        h, w = g.shape[1:3]
        taps = [(padded[:, i:i + (h - 1) * s + 1:s, j:j + (w - 1) * s + 1:s] * g).sum((0, 1, 2))
                for i in range(k) for j in range(k)]  # one shifted product per kernel tap
        return grad_x, torch.stack(taps, 1).reshape_as(weight), None, None


class SmallMapDepthwiseConv2d(nn.Conv2d):
    """An ``nn.Conv2d`` that trains faster on CPU when it is depthwise and its input is tiny."""

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if (x.device.type == "cpu" and x.shape[-2] * x.shape[-1] <= SMALL_MAP
                and torch.is_grad_enabled() and weight.requires_grad):
            return _SmallMapDepthwise.apply(x, weight, self.stride[0], self.padding[0])
        return super()._conv_forward(x, weight, bias)


def _eligible(module: nn.Module) -> bool:
    return (type(module) is nn.Conv2d and module.groups == module.in_channels == module.out_channels
            and module.bias is None and module.padding_mode == "zeros" and module.dilation == (1, 1)
            and isinstance(module.padding, tuple) and module.padding[0] == module.padding[1]
            and module.stride[0] == module.stride[1]
            and module.kernel_size[0] == module.kernel_size[1])


def speed_up_small_depthwise(model: nn.Module) -> int:
    """Switch every depthwise ``nn.Conv2d`` of ``model`` to :class:`SmallMapDepthwiseConv2d`.

    In place; parameters, state dict and outputs are unchanged (gradients agree to float
    rounding). Returns how many convolutions were switched.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {model!r:.60}")
    switched = 0
    for module in model.modules():
        if _eligible(module):
            module.__class__ = SmallMapDepthwiseConv2d
            switched += 1
    return switched
