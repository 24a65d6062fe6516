"""MobileNetV2 from the same blocks as EfficientNet: MBConv with ReLU6 and no SE.

MobileNetV2 (Sandler et al., 2018) introduced the inverted residual with a linear bottleneck
that EfficientNet's MBConv builds on. Its table (expand ``t``, channels ``c``, repeats ``n``,
stride ``s``, all kernels 3x3) is written here as :class:`~effnet_core.configs.StageConfig`
rows, so the comparison with EfficientNet uses one code path. Parameter count equals
torchvision's ``mobilenet_v2`` (3,504,872). Introduced in the chapter "EfficientNetV2".
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_float, check_int
from .configs import StageConfig
from .layers import ConvBNAct, MBConv


def _ir(t: int, s: int, cin: int, cout: int, n: int) -> StageConfig:
    return StageConfig("mbconv", t, 3, s, cin, cout, n, se_ratio=0.0)


# MobileNetV2 paper, Table 2 (t, c, n, s), with input channels spelled out.
MOBILENET_V2_STAGES: tuple[StageConfig, ...] = (
    _ir(1, 1, 32, 16, 1),
    _ir(6, 2, 16, 24, 2),
    _ir(6, 2, 24, 32, 3),
    _ir(6, 2, 32, 64, 4),
    _ir(6, 1, 64, 96, 3),
    _ir(6, 2, 96, 160, 3),
    _ir(6, 1, 160, 320, 1),
)


class MobileNetV2(nn.Module):
    """Stem 3x3 conv (32) -> inverted residual stages -> 1x1 conv (1280) -> pool -> dropout -> linear.

    All activations are ReLU6; there is no Squeeze-and-Excitation and no stochastic depth.
    Chapter "EfficientNetV2".
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, 1, 10**6)  # <= 1.3e9 parameters
        dropout = check_float("dropout", dropout, 0.0, 1.0, high_open=True)
        layers: list[nn.Module] = [ConvBNAct(3, 32, 3, 2, activation=nn.ReLU6)]
        for stage in MOBILENET_V2_STAGES:
            for i in range(stage.num_layers):
                layers.append(MBConv(stage.in_channels if i == 0 else stage.out_channels,
                                     stage.out_channels, stage.expand_ratio, stage.kernel_size,
                                     stage.stride if i == 0 else 1, se_ratio=None,
                                     activation=nn.ReLU6))
        layers.append(ConvBNAct(MOBILENET_V2_STAGES[-1].out_channels, 1280, 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.total_stride = 32
        self.default_image_size = 224
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2(*, num_classes: int = 1000, dropout: float = 0.2) -> MobileNetV2:
    """MobileNetV2 at width 1.0 (224 px), torchvision's parameter count. Chapter "EfficientNetV2"."""
    return MobileNetV2(num_classes=num_classes, dropout=dropout)
