"""The building blocks: Conv-BN-activation, Squeeze-and-Excitation, stochastic depth, MBConv, Fused-MBConv.

The module layout (names of sub-modules) follows torchvision's ``efficientnet.py`` so that a
state dict moves between the two unchanged.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import torch
from torch import nn

from ._checks import MAX_PARAMS, check_float
from .scaling import make_divisible

ActivationFactory = Callable[[], nn.Module]


def _check_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r:.60}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_stride(stride: object) -> None:
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral):
        raise TypeError(f"stride must be one of (1, 2), got {stride!r:.60}")
    if stride not in (1, 2):
        raise ValueError(f"stride must be one of (1, 2), got {stride!r}")


def _check_activation(activation: object, optional: bool = False) -> None:
    if not callable(activation) and not (optional and activation is None):
        raise TypeError(f"activation must be a callable that returns a module (e.g. nn.SiLU)"
                        f"{' or None' if optional else ''}, got {activation!r:.60}")


def _check_kernel(kernel_size: object) -> None:
    _check_positive_int("kernel_size", kernel_size)
    if kernel_size % 2 == 0:  # type: ignore[operator]
        raise ValueError(f"kernel_size must be odd (1, 3, 5, ...), got {kernel_size!r}")


class ConvBNAct(nn.Sequential):
    """``Conv2d`` (no bias, "same" padding) -> ``BatchNorm2d`` -> activation.

    Introduced in the chapter "The cost of a convolution".

    ``groups=in_channels`` makes the convolution depthwise; ``activation=None`` leaves it linear.
    ``norm_eps`` and ``norm_momentum`` are the BatchNorm settings (PyTorch's defaults 1e-5, 0.1).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation: ActivationFactory | None = nn.SiLU,
        norm_eps: float = 1e-5,
        norm_momentum: float = 0.1,
    ):
        _check_positive_int("in_channels", in_channels)
        _check_positive_int("out_channels", out_channels)
        _check_kernel(kernel_size)
        _check_stride(stride)
        _check_positive_int("groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups must divide in_channels and out_channels, got groups={groups}")
        if out_channels * (in_channels // groups) * kernel_size**2 > MAX_PARAMS:
            raise ValueError(f"in_channels * out_channels / groups * kernel_size**2 must be at most "
                             f"{MAX_PARAMS:,} parameters, got {in_channels}, {out_channels}, {kernel_size}")
        _check_activation(activation, optional=True)
        norm_eps = check_float("norm_eps", norm_eps, 0.0, 1.0, low_open=True)
        norm_momentum = check_float("norm_momentum", norm_momentum, 0.0, 1.0)
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=(kernel_size - 1) // 2,
                groups=groups,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels, eps=norm_eps, momentum=norm_momentum),
        ]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)
        self.out_channels = out_channels


def se_squeeze_channels(block_in_channels: int, se_ratio: float = 0.25) -> int:
    """EfficientNet's SE width: ``max(1, int(block_in_channels * se_ratio))``.

    Note the *block input* channels, not the expanded channels the SE layer acts on.
    Introduced in the chapter "Squeeze-and-Excitation".
    """
    _check_positive_int("block_in_channels", block_in_channels)
    se_ratio = check_float("se_ratio", se_ratio, 0.0, 1.0, low_open=True)
    return max(1, int(block_in_channels * se_ratio))


class SqueezeExcitation(nn.Module):
    """Squeeze (global average pool) -> excite (1x1 conv, act, 1x1 conv, sigmoid) -> scale.

    .. math:: z_c = \\frac{1}{HW}\\sum_{i,j} x_{c,i,j},\\quad
              s = \\sigma(W_2\\,\\delta(W_1 z)),\\quad y_c = s_c\\, x_c

    Args:
        channels: channels of the feature map being recalibrated.
        squeeze_channels: width of the bottleneck (``channels // r`` in the SE paper;
            EfficientNet uses :func:`se_squeeze_channels`).
        activation: the non-linearity between the two 1x1 convolutions (SiLU in EfficientNet,
            ReLU in the SE paper).

    Introduced in the chapter "Squeeze-and-Excitation".
    """

    def __init__(
        self,
        channels: int,
        squeeze_channels: int,
        activation: ActivationFactory = nn.SiLU,
    ):
        super().__init__()
        _check_positive_int("channels", channels)
        _check_positive_int("squeeze_channels", squeeze_channels)
        _check_activation(activation)
        if channels * squeeze_channels > MAX_PARAMS:
            raise ValueError(f"channels * squeeze_channels must be at most {MAX_PARAMS:,}, "
                             f"got {channels} * {squeeze_channels}")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.activation = activation()
        self.scale_activation = nn.Sigmoid()

    @classmethod
    def with_reduction(
        cls, channels: int, r: int = 16, activation: ActivationFactory = nn.ReLU
    ) -> SqueezeExcitation:
        """The SE paper's form: squeeze to ``max(1, channels // r)`` with a ReLU in between."""
        _check_positive_int("r", r)
        return cls(channels, max(1, channels // r), activation)

    def channel_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The per-channel gates ``s`` in (0, 1), shape ``(N, C, 1, 1)``."""
        z = self.avgpool(x)
        return self.scale_activation(self.fc2(self.activation(self.fc1(z))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.channel_weights(x)


def stochastic_depth(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Drop whole samples of a residual branch with probability ``p``; rescale survivors by ``1/(1-p)``.

    Identity when not training or ``p == 0``. Introduced in the chapter "MBConv".
    """
    p = check_float("p", p, 0.0, 1.0)
    if not training or p == 0.0:
        return x
    survival = 1.0 - p
    mask = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device)
    mask.bernoulli_(survival)
    if survival > 0.0:
        mask.div_(survival)
    return x * mask


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth` (per-sample, "row" mode)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = check_float("p", p, 0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return stochastic_depth(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _ResidualBlock(nn.Module):
    """What MBConv and Fused-MBConv share: ``block(x)``, plus ``x`` (through stochastic depth)
    when the shapes allow it, i.e. ``stride == 1`` and ``in_channels == out_channels``."""

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: float, stride: int,
                 stochastic_depth_prob: float):
        super().__init__()
        _check_positive_int("in_channels", in_channels)
        _check_positive_int("out_channels", out_channels)
        _check_stride(stride)
        if check_float("expand_ratio", expand_ratio) < 1 or expand_ratio > 64:
            raise ValueError(f"expand_ratio must be >= 1 (and at most 64), got {expand_ratio!r}")
        stochastic_depth_prob = check_float("stochastic_depth_prob", stochastic_depth_prob, 0.0, 1.0)
        self.use_res_connect = stride == 1 and in_channels == out_channels
        self.expanded_channels = make_divisible(in_channels * expand_ratio, 8)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob)
        self.out_channels = out_channels
        self.block = nn.Sequential()  # filled in by the subclass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``block(x)``, plus ``x`` (through stochastic depth) when the shapes allow it."""
        out = self.block(x)
        if self.use_res_connect:
            out = self.stochastic_depth(out) + x
        return out


class MBConv(_ResidualBlock):
    """Mobile inverted bottleneck: expand 1x1 -> depthwise kxk -> SE -> project 1x1 (linear).

    The residual (with stochastic depth) is used only when ``stride == 1`` and
    ``in_channels == out_channels``. With ``expand_ratio == 1`` the expansion is skipped.
    ``forward`` comes from :class:`_ResidualBlock`: ``block(x)``, plus ``x`` when the residual applies.
    Introduced in the chapter "MBConv".
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratio: float,
        kernel_size: int,
        stride: int,
        se_ratio: float | None = 0.25,
        stochastic_depth_prob: float = 0.0,
        norm_eps: float = 1e-5,
        norm_momentum: float = 0.1,
        activation: ActivationFactory = nn.SiLU,
    ):
        super().__init__(in_channels, out_channels, expand_ratio, stride, stochastic_depth_prob)
        expanded = self.expanded_channels
        norm = {"norm_eps": norm_eps, "norm_momentum": norm_momentum}
        # expand 1x1 (skipped when the ratio is 1)
        if expanded != in_channels:
            self.block.append(ConvBNAct(in_channels, expanded, 1, activation=activation, **norm))
        # depthwise kxk, carries the stride
        self.block.append(ConvBNAct(expanded, expanded, kernel_size, stride, groups=expanded,
                                    activation=activation, **norm))
        # SE, squeezing to se_ratio of the block's INPUT channels
        if se_ratio is not None and check_float("se_ratio", se_ratio, 0.0, 1.0):
            squeeze = se_squeeze_channels(in_channels, se_ratio)
            self.block.append(SqueezeExcitation(expanded, squeeze, activation))
        # project 1x1, linear: no activation
        self.block.append(ConvBNAct(expanded, out_channels, 1, activation=None, **norm))


class FusedMBConv(_ResidualBlock):
    """Fused-MBConv (EfficientNetV2): one kxk conv replaces expand 1x1 + depthwise kxk.

    ``expand_ratio > 1``: kxk conv to the expanded width, then a linear 1x1 projection.
    ``expand_ratio == 1``: a single kxk Conv-BN-activation. No SE, as in the reference code.
    ``forward`` comes from :class:`_ResidualBlock`: ``block(x)``, plus ``x`` when the residual applies.
    Introduced in the chapter "EfficientNetV2".
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        expand_ratio: float,
        kernel_size: int,
        stride: int,
        stochastic_depth_prob: float = 0.0,
        norm_eps: float = 1e-5,
        norm_momentum: float = 0.1,
        activation: ActivationFactory = nn.SiLU,
    ):
        super().__init__(in_channels, out_channels, expand_ratio, stride, stochastic_depth_prob)
        expanded = self.expanded_channels
        norm = {"norm_eps": norm_eps, "norm_momentum": norm_momentum}
        if expanded != in_channels:
            # fused expand kxk: replaces expand 1x1 + depthwise kxk, carries the stride
            self.block.append(ConvBNAct(in_channels, expanded, kernel_size, stride,
                                        activation=activation, **norm))
            # project 1x1, linear: no activation
            self.block.append(ConvBNAct(expanded, out_channels, 1, activation=None,
                                        **norm))
        else:
            # one kxk conv straight to the output width (expand ratio 1)
            self.block.append(ConvBNAct(in_channels, out_channels, kernel_size, stride,
                                        activation=activation, **norm))
