"""effnet_core: EfficientNet V1 and V2, built step by step (the code behind the book)."""

from .activations import Swish, swish
from .configs import B0_STAGES, V1_SCALES, V2_STAGES, StageConfig, format_table, stage_table
from .counting import count_macs, count_params, flop_counter_macs, stage_breakdown
from .device import Budget, choose_budget, pick_device
from .layers import ConvBNAct, FusedMBConv, MBConv, SqueezeExcitation, StochasticDepth
from .model import (
    MODEL_BUILDERS,
    EfficientNet,
    compound_scaled,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_b2,
    efficientnet_b3,
    efficientnet_b4,
    efficientnet_b5,
    efficientnet_b6,
    efficientnet_b7,
    efficientnet_v2_cifar,
    efficientnet_v2_l,
    efficientnet_v2_m,
    efficientnet_v2_s,
    get_model,
)
from .scaling import compound_multipliers, round_filters, round_repeats

__all__ = [
    "B0_STAGES", "MODEL_BUILDERS", "V1_SCALES", "V2_STAGES",
    "Budget", "ConvBNAct", "EfficientNet", "FusedMBConv", "MBConv", "SqueezeExcitation",
    "StageConfig", "StochasticDepth", "Swish",
    "choose_budget", "compound_multipliers", "compound_scaled", "count_macs", "count_params",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_cifar", "efficientnet_v2_l", "efficientnet_v2_m", "efficientnet_v2_s",
    "flop_counter_macs", "format_table", "get_model", "pick_device", "round_filters",
    "round_repeats", "stage_breakdown", "stage_table", "swish",
]
