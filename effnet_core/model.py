"""EfficientNet V1 and V2: one network class, built from a stage table.

The builders use torchvision's names (``efficientnet_b0`` ... ``efficientnet_b7``,
``efficientnet_v2_s/m/l``), its module layout and its BatchNorm settings, so parameter counts,
state dicts and (with the same weights) outputs match torchvision exactly.
Introduced in the chapter "EfficientNet-B0".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import MAX_PARAMS, check_float, check_int
from .configs import (
    V1_SCALES,
    V2_VARIANTS,
    StageConfig,
    check_stages,
    scale_b0,
    scale_stages,
)
from .counting import estimate_cost
from .layers import ConvBNAct, FusedMBConv, MBConv
from .scaling import (
    PAPER_ALPHA,
    PAPER_BETA,
    PAPER_GAMMA,
    Multipliers,
    compound_multipliers,
    round_filters,
)

# The largest network a builder makes: MAX_PARAMS = 1e9 parameters (4 GB of float32 weights) in
# 1,000 blocks (B7 has 66 M parameters in 55 blocks, V2-L 119 M in 79). Checked from the stage
# table before anything is allocated, so no argument can make a builder exhaust the memory.
MAX_BLOCKS = 1_000
# compound_spec's largest phi: B0 grown 2**20 times in FLOPs, far beyond any trained network.
MAX_PHI = 20.0


def stochastic_depth_schedule(num_blocks: int, max_prob: float = 0.2) -> list[float]:
    """Drop probability of each block: ``max_prob * i / num_blocks`` for block ``i = 0 .. n-1``.

    This is the reference code's linear rule (the first block is never dropped, the last is
    dropped with ``max_prob * (n-1)/n``). Introduced in the chapter "MBConv".
    """
    num_blocks = check_int("num_blocks", num_blocks)
    max_prob = check_float("max_prob", max_prob, 0.0, 1.0, high_open=True)
    return [max_prob * i / num_blocks for i in range(num_blocks)]


def _make_block(stage: StageConfig, first: bool, p: float, norm: dict[str, float]) -> nn.Module:
    in_channels = stage.in_channels if first else stage.out_channels
    stride = stage.stride if first else 1
    if stage.block == "fused":
        return FusedMBConv(in_channels, stage.out_channels, stage.expand_ratio, stage.kernel_size,
                           stride, stochastic_depth_prob=p, **norm)
    return MBConv(in_channels, stage.out_channels, stage.expand_ratio, stage.kernel_size, stride,
                  se_ratio=stage.se_ratio, stochastic_depth_prob=p, **norm)


def check_network_size(stages: Sequence[StageConfig], stem_channels: int, head_channels: int,
                       num_classes: int, stem_stride: int = 2) -> tuple[StageConfig, ...]:
    """Check the arguments of :class:`EfficientNet` and that the network stays within
    :data:`MAX_PARAMS` parameters and :data:`MAX_BLOCKS` blocks, counted from the table."""
    stages = check_stages(stages)
    stem_channels, head_channels = check_int("stem_channels", stem_channels), check_int(
        "head_channels", head_channels)
    num_classes = check_int("num_classes", num_classes)
    stem_stride = check_int("stem_stride", stem_stride, 1, 2)
    blocks = sum(s.num_layers for s in stages)
    size = stem_stride * math.prod(s.stride for s in stages)  # any size: parameters do not depend on it
    params = sum(r["params"] for r in estimate_cost(  # type: ignore[misc]
        stages, size, stem_channels=stem_channels, head_channels=head_channels, num_classes=num_classes,
        stem_stride=stem_stride))
    if params > MAX_PARAMS or blocks > MAX_BLOCKS:
        raise ValueError(
            f"this network would have {params:,} parameters in {blocks:,} blocks, over the limit of "
            f"{MAX_PARAMS:,} parameters in {MAX_BLOCKS:,} blocks (4 GB of float32 weights): choose "
            "fewer or narrower stages (stages, stem_channels, head_channels) or fewer num_classes")
    return stages


class EfficientNet(nn.Module):
    """Stem conv -> stages of (Fused-)MBConv blocks -> 1x1 head conv -> pool -> dropout -> linear.

    Args:
        stages: the stage table (already scaled), see :mod:`effnet_core.configs`.
        stem_channels: output channels of the 3x3 stem convolution.
        head_channels: output channels of the final 1x1 convolution.
        num_classes: size of the classifier (>= 1).
        dropout: dropout before the classifier.
        stochastic_depth_prob: drop probability reached by the linear schedule at the end.
        stem_stride: 2 for ImageNet; 1 keeps small (e.g. 32 px CIFAR) images large enough.
        image_size: the default input resolution of this model (``model.default_image_size``).
        norm_eps, norm_momentum: BatchNorm settings, as in torchvision: PyTorch's defaults
            (1e-5, 0.1) for B0-B4, (1e-3, 0.01) for B5-B7, (1e-3, 0.1) for V2-S/M/L.
    """

    def __init__(
        self,
        stages: Sequence[StageConfig],
        *,
        stem_channels: int,
        head_channels: int,
        num_classes: int = 1000,
        dropout: float = 0.2,
        stochastic_depth_prob: float = 0.2,
        stem_stride: int = 2,
        image_size: int = 224,
        norm_eps: float = 1e-5,
        norm_momentum: float = 0.1,
    ):
        super().__init__()
        dropout = check_float("dropout", dropout, 0.0, 1.0, high_open=True)
        stochastic_depth_prob = check_float("stochastic_depth_prob", stochastic_depth_prob, 0.0, 1.0,
                                            high_open=True)
        norm_eps = check_float("norm_eps", norm_eps, 0.0, 1.0, low_open=True)
        norm_momentum = check_float("norm_momentum", norm_momentum, 0.0, 1.0)
        self.stages = check_network_size(stages, stem_channels, head_channels, num_classes, stem_stride)
        self.default_image_size = check_int("image_size", image_size)
        self.total_stride = stem_stride * math.prod(s.stride for s in self.stages)

        probs = stochastic_depth_schedule(sum(s.num_layers for s in self.stages),
                                          stochastic_depth_prob)
        norm = {"norm_eps": norm_eps, "norm_momentum": norm_momentum}
        layers: list[nn.Module] = [ConvBNAct(3, stem_channels, 3, stem_stride, **norm)]
        block_id = 0
        for stage in self.stages:
            blocks = []
            for i in range(stage.num_layers):
                blocks.append(_make_block(stage, i == 0, probs[block_id], norm))
                block_id += 1
            layers.append(nn.Sequential(*blocks))
        layers.append(ConvBNAct(self.stages[-1].out_channels, head_channels, 1, **norm))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout, inplace=True), nn.Linear(head_channels, num_classes)
        )
        self._init_weights()

    def _init_weights(self) -> None:
        # Same initialisation as the reference implementations.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def check_input(self, x: torch.Tensor) -> None:
        """A clear error unless ``x`` is a floating ``(N, 3, H, W)`` tensor with H, W >= total stride."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor of shape (N, 3, H, W), got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor (float32, float16 or bfloat16), got "
                            f"{x.dtype}; convert images first, e.g. x.float() / 255")
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"x must have shape (N, 3, H, W), got {tuple(x.shape)}")
        if min(x.shape[-2:]) < self.total_stride:
            raise ValueError(
                f"image size {tuple(x.shape[-2:])} is smaller than the network's total stride "
                f"{self.total_stride}; use images of at least {self.total_stride} px"
            )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map (before pooling), e.g. for class activation maps."""
        self.check_input(x)
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.forward_features(x))
        return self.classifier(torch.flatten(x, 1))


def _v1(name: str, num_classes: int, dropout: float | None, stochastic_depth_prob: float
        ) -> EfficientNet:
    scale = V1_SCALES[name]
    stages, stem_channels, head_channels = scale_b0(scale.width, scale.depth)
    return EfficientNet(
        stages,
        stem_channels=stem_channels,
        head_channels=head_channels,
        num_classes=num_classes,
        dropout=scale.dropout if dropout is None else dropout,
        stochastic_depth_prob=stochastic_depth_prob,
        image_size=scale.resolution,
        norm_eps=scale.norm_eps,
        norm_momentum=scale.norm_momentum,
    )


def _v2(name: str, num_classes: int, dropout: float | None, stochastic_depth_prob: float
        ) -> EfficientNet:
    setting = V2_VARIANTS[name]
    return EfficientNet(
        setting.stages,
        stem_channels=setting.stages[0].in_channels,
        head_channels=setting.head_channels,
        num_classes=num_classes,
        dropout=setting.dropout if dropout is None else dropout,
        stochastic_depth_prob=stochastic_depth_prob,
        image_size=setting.eval_size,
        norm_eps=setting.norm_eps,
    )


def efficientnet_b0(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B0, the searched baseline (224 px). Chapter "EfficientNet-B0"."""
    return _v1("b0", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b1(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B1 (240 px). Chapter "Compound scaling"."""
    return _v1("b1", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b2(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B2 (260 px). Chapter "Compound scaling"."""
    return _v1("b2", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b3(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B3 (300 px). Chapter "Compound scaling"."""
    return _v1("b3", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b4(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B4 (380 px). Chapter "Compound scaling"."""
    return _v1("b4", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b5(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B5 (456 px). Chapter "Compound scaling"."""
    return _v1("b5", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b6(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B6 (528 px). Chapter "Compound scaling"."""
    return _v1("b6", num_classes, dropout, stochastic_depth_prob)


def efficientnet_b7(*, num_classes: int = 1000, dropout: float | None = None,
                    stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNet-B7 (600 px). Chapter "Compound scaling"."""
    return _v1("b7", num_classes, dropout, stochastic_depth_prob)


def efficientnet_v2_s(*, num_classes: int = 1000, dropout: float | None = None,
                      stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNetV2-S (evaluated at 384 px). Chapter "EfficientNetV2"."""
    return _v2("s", num_classes, dropout, stochastic_depth_prob)


def efficientnet_v2_m(*, num_classes: int = 1000, dropout: float | None = None,
                      stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNetV2-M (evaluated at 480 px). Chapter "EfficientNetV2"."""
    return _v2("m", num_classes, dropout, stochastic_depth_prob)


def efficientnet_v2_l(*, num_classes: int = 1000, dropout: float | None = None,
                      stochastic_depth_prob: float = 0.2) -> EfficientNet:
    """EfficientNetV2-L (evaluated at 480 px). Chapter "EfficientNetV2"."""
    return _v2("l", num_classes, dropout, stochastic_depth_prob)


@dataclass(frozen=True)
class ScaledSpec:
    """What compound scaling makes of B0: the stage table, stem/head widths and input size."""

    multipliers: Multipliers
    stages: tuple[StageConfig, ...]
    stem_channels: int
    head_channels: int
    resolution: int


def compound_spec(
    phi: float,
    alpha: float = PAPER_ALPHA,
    beta: float = PAPER_BETA,
    gamma: float = PAPER_GAMMA,
    base_resolution: int = 224,
) -> ScaledSpec:
    """B0 grown by the compound-scaling formula, as data (no model is built).

    Depth ``alpha**phi``, width ``beta**phi``, resolution ``round(base_resolution * gamma**phi)``;
    ``phi`` in ``[0, MAX_PHI]`` (20), ``base_resolution`` a positive integer.
    Shared by :func:`compound_scaled` and the phi explorer. Introduced in the chapter "Compound scaling".
    """
    phi = check_float("phi", phi, 0.0, MAX_PHI)
    base_resolution = check_int("base_resolution", base_resolution)
    m = compound_multipliers(phi, alpha, beta, gamma)
    stages, stem_channels, head_channels = scale_b0(m.width, m.depth)
    return ScaledSpec(m, stages, stem_channels, head_channels, round(base_resolution * m.resolution))


def compound_scaled(
    phi: float,
    alpha: float = PAPER_ALPHA,
    beta: float = PAPER_BETA,
    gamma: float = PAPER_GAMMA,
    *,
    num_classes: int = 1000,
    dropout: float = 0.2,
    stochastic_depth_prob: float = 0.2,
    base_resolution: int = 224,
) -> EfficientNet:
    """B0 grown by the compound-scaling formula (see :func:`compound_spec`).

    ``phi = 0`` is B0. The released B1-B7 use a hand-tuned table instead (see :data:`V1_SCALES`).
    Networks over :data:`MAX_PARAMS` parameters or :data:`MAX_BLOCKS` blocks are refused
    (with the paper's alpha, beta, gamma: phi above 14).
    Introduced in the chapter "Compound scaling".
    """
    spec = compound_spec(phi, alpha, beta, gamma, base_resolution)
    try:
        check_network_size(spec.stages, spec.stem_channels, spec.head_channels, num_classes)
    except ValueError as error:
        raise ValueError(f"phi={phi!r}, alpha={alpha!r}, beta={beta!r}, gamma={gamma!r}: {error}; "
                         "choose a smaller phi or alpha, beta, gamma closer to 1") from None
    return EfficientNet(
        spec.stages,
        stem_channels=spec.stem_channels,
        head_channels=spec.head_channels,
        num_classes=num_classes,
        dropout=dropout,
        stochastic_depth_prob=stochastic_depth_prob,
        image_size=spec.resolution,
    )


def efficientnet_v2_cifar(
    *,
    num_classes: int = 10,
    width_mult: float = 0.5,
    depth_mult: float = 0.25,
    dropout: float = 0.0,
    stochastic_depth_prob: float = 0.0,
) -> EfficientNet:
    """A small EfficientNetV2-S for 32 px images: V2-S's stage table, scaled down, stride-1 stem.

    Built by the same code as :func:`efficientnet_v2_s`. Introduced in the chapter
    "Progressive learning".
    """
    setting = V2_VARIANTS["s"]
    width_mult = check_float("width_mult", width_mult, 0.0, 100.0, low_open=True)
    depth_mult = check_float("depth_mult", depth_mult, 0.0, 100.0, low_open=True)
    stages = scale_stages(setting.stages, width_mult, depth_mult)
    head_channels = round_filters(setting.head_channels, width_mult)
    try:
        check_network_size(stages, stages[0].in_channels, head_channels, num_classes, stem_stride=1)
    except ValueError as error:
        raise ValueError(f"width_mult={width_mult!r}, depth_mult={depth_mult!r}: {error}") from None
    return EfficientNet(
        stages,
        stem_channels=stages[0].in_channels,
        head_channels=head_channels,
        num_classes=num_classes,
        dropout=dropout,
        stochastic_depth_prob=stochastic_depth_prob,
        stem_stride=1,
        image_size=32,
        norm_eps=setting.norm_eps,
    )


MODEL_BUILDERS = {
    "efficientnet_b0": efficientnet_b0,
    "efficientnet_b1": efficientnet_b1,
    "efficientnet_b2": efficientnet_b2,
    "efficientnet_b3": efficientnet_b3,
    "efficientnet_b4": efficientnet_b4,
    "efficientnet_b5": efficientnet_b5,
    "efficientnet_b6": efficientnet_b6,
    "efficientnet_b7": efficientnet_b7,
    "efficientnet_v2_s": efficientnet_v2_s,
    "efficientnet_v2_m": efficientnet_v2_m,
    "efficientnet_v2_l": efficientnet_v2_l,
}


def get_model(name: str, **kwargs: object) -> EfficientNet:
    """Build a model by its torchvision-style name, e.g. ``get_model("efficientnet_b3")``."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {sorted(MODEL_BUILDERS)}, got {name!r:.80}")
    if name not in MODEL_BUILDERS:
        raise ValueError(f"name must be one of {sorted(MODEL_BUILDERS)}, got {name!r}")
    return MODEL_BUILDERS[name](**kwargs)  # type: ignore[arg-type]
