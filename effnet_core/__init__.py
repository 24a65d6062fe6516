"""effnet_core: EfficientNet V1 and V2, built step by step (the code behind the book).

The library: everything a user of EfficientNet imports. ``import effnet_core as ec`` gives every
public name below; the book's own support (exercise checkers, plots, widgets, the papers'
reported numbers) lives apart in :mod:`effnet_core.book`, which the library never imports.
"""

from . import train  # noqa: E402  (the training loop and its command line, ec.train.*)
from .activations import Swish, swish
from .augment import DeviceData, TrainAugment, eval_transform, mixup, rand_augment
from .cam import class_activation_maps
from .configs import (
    B0_HEAD_CHANNELS,
    B0_STAGES,
    B0_STEM_CHANNELS,
    V1_SCALES,
    V2_VARIANTS,
    StageConfig,
    format_table,
    scale_b0,
    scale_stages,
    stage_table,
)
from .counting import (
    MBCONV_PARTS,
    block_cost,
    conv2d_macs,
    conv2d_params,
    count_macs,
    count_params,
    estimate_cost,
    flop_counter_macs,
    layer_costs,
    meta_forward,
    params_and_macs,
    scaled_cost,
    se_params,
    spec_cost,
    stage_breakdown,
    sublayer_costs,
)
from .cpu_depthwise import speed_up_small_depthwise
from .data import CIFAR10, CLASSES, DatasetError, load_cifar10
from .device import Budget, choose_budget, pick_device, synchronize
from .layers import ConvBNAct, FusedMBConv, MBConv, SqueezeExcitation, StochasticDepth, se_squeeze_channels
from .mobilenet import MOBILENET_V2_STAGES, MobileNetV2, mobilenet_v2
from .model import (
    MODEL_BUILDERS,
    EfficientNet,
    ScaledSpec,
    compound_scaled,
    compound_spec,
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
    stochastic_depth_schedule,
)
from .precision import Precision, choose_precision
from .progressive import CIFAR_DEFAULTS, CPU_SCHEDULE, ProgressiveSchedule, Stage
from .scaling import compound_multipliers, flops_factor_per_phi, make_divisible, round_filters, round_repeats
from .timing import StepTiming, time_fn, time_training_step
from .training_cost import activation_bytes, conv_intensity, conv_traffic, largest_batch, saved_tensor_bytes

__all__ = [
    "B0_HEAD_CHANNELS", "B0_STAGES", "B0_STEM_CHANNELS", "CIFAR10", "CIFAR_DEFAULTS", "CLASSES",
    "CPU_SCHEDULE", "MBCONV_PARTS", "MOBILENET_V2_STAGES", "MODEL_BUILDERS", "V1_SCALES", "V2_VARIANTS",
    "Budget", "ConvBNAct", "DatasetError", "DeviceData", "EfficientNet", "FusedMBConv", "MBConv",
    "MobileNetV2", "Precision", "ProgressiveSchedule", "ScaledSpec", "SqueezeExcitation", "Stage",
    "StageConfig", "StepTiming", "StochasticDepth", "Swish", "TrainAugment",
    "activation_bytes", "block_cost", "choose_budget", "choose_precision", "class_activation_maps",
    "compound_multipliers", "compound_scaled", "compound_spec", "conv2d_macs", "conv2d_params",
    "conv_intensity", "conv_traffic", "count_macs", "count_params",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_cifar", "efficientnet_v2_l", "efficientnet_v2_m", "efficientnet_v2_s",
    "estimate_cost", "eval_transform", "flop_counter_macs", "flops_factor_per_phi", "format_table",
    "get_model", "largest_batch", "layer_costs", "load_cifar10", "make_divisible", "meta_forward",
    "mixup", "mobilenet_v2", "params_and_macs", "pick_device", "rand_augment", "round_filters",
    "round_repeats", "saved_tensor_bytes", "scale_b0", "scale_stages", "scaled_cost", "se_params",
    "se_squeeze_channels", "spec_cost", "speed_up_small_depthwise", "stage_breakdown", "stage_table",
    "stochastic_depth_schedule",
    "sublayer_costs", "swish", "synchronize", "time_fn", "time_training_step", "train",
]
