"""Numbers *as reported in the paper*, typed from its tables, so chapters can set them beside ours.

Nothing here is computed: these are citations. :data:`V1_TABLE2` is Table 2 of Tan & Le,
"EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks" (arXiv:1905.11946v5,
2020). The ICML 2019 version printed B7 at 84.4% / 97.1%; v5 reports 84.3% / 97.0%.
Introduced in the chapters "EfficientNet-B0" and "Compound scaling".
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "Tan & Le (2019), EfficientNet, Table 2 (arXiv v5), as reported in the paper"


@dataclass(frozen=True)
class ReportedV1:
    """One row of the paper's Table 2: ImageNet accuracy (%), parameters and FLOPs as printed."""

    top1: float
    top5: float
    params_m: float
    flops_b: float


V1_TABLE2: dict[str, ReportedV1] = {
    "b0": ReportedV1(77.1, 93.3, 5.3, 0.39),
    "b1": ReportedV1(79.1, 94.4, 7.8, 0.70),
    "b2": ReportedV1(80.1, 94.9, 9.2, 1.0),
    "b3": ReportedV1(81.6, 95.7, 12.0, 1.8),
    "b4": ReportedV1(82.9, 96.4, 19.0, 4.2),
    "b5": ReportedV1(83.6, 96.7, 30.0, 9.9),
    "b6": ReportedV1(84.0, 96.8, 43.0, 19.0),
    "b7": ReportedV1(84.3, 97.0, 66.0, 37.0),
}

# Section 4 of the paper: the search objective ACC(m) * [FLOPS(m) / T] ** w.
SEARCH_TARGET_FLOPS = 400e6
SEARCH_W = -0.07

# torchvision 0.29's documented parameter count of its efficientnet_b0 (ImageNet weights).
TORCHVISION_B0_PARAMS = 5_288_548


@dataclass(frozen=True)
class ReportedModel:
    """A model's ImageNet top-1 (%), parameters (M) and multiply-adds (B) as printed, and where."""

    top1: float
    params_m: float
    madds_b: float
    source: str


# Chapter "EfficientNetV2": MobileNetV2 beside B0, each as its own paper reports it.
MOBILENET_VS_B0: dict[str, ReportedModel] = {
    "MobileNetV2": ReportedModel(72.0, 3.4, 0.300, "Sandler et al. (2018), Table 4"),
    "EfficientNet-B0": ReportedModel(V1_TABLE2["b0"].top1, V1_TABLE2["b0"].params_m, V1_TABLE2["b0"].flops_b,
                                     SOURCE),
}
