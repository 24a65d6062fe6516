"""Every public function and class answers wrong arguments with a named ValueError or TypeError.

For each callable in ``effnet_core.__all__`` and the book's widgets and baselines, one argument
of a valid, cheap call is replaced by a random wrong value (type, range or shape). The call
must then either succeed or raise ``ValueError``/``TypeError`` whose message names that
argument, within a limit of CPU time and without growing the process's memory by more than 2 GiB.
Builders run on the meta device (nothing allocated); the size limit they enforce
(``effnet_core.model.MAX_PARAMS``) is what bounds their memory on a real device.
"""

from __future__ import annotations

import inspect
import resource
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import effnet_core as ec
from effnet_core.book import baselines, widgets
from effnet_core.model import MAX_PARAMS

TINY = ec.efficientnet_v2_cifar(width_mult=0.25, depth_mult=0.1)
IMAGES = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
LABELS = torch.arange(4)
STAGE = ec.StageConfig("mbconv", 1, 3, 1, 8, 8, 1)
SPEC = ec.compound_spec(0.0)
FRAME = widgets.explorer_frame(0.0)

# name: (callable, a valid cheap call as keyword arguments)
VALID: dict[str, tuple[object, dict[str, object]]] = {
    "Budget": (ec.Budget, {"name": "smoke", "device": torch.device("cpu")}),
    "CIFAR10": (ec.CIFAR10, {"train_images": IMAGES.numpy(), "train_labels": LABELS.numpy(),
                             "test_images": IMAGES.numpy(), "test_labels": LABELS.numpy()}),
    "ConvBNAct": (ec.ConvBNAct, {"in_channels": 4, "out_channels": 8}),
    "DeviceData": (ec.DeviceData, {"images": IMAGES, "labels": LABELS}),
    "EfficientNet": (ec.EfficientNet, {"stages": (STAGE,), "stem_channels": 8, "head_channels": 16}),
    "FusedMBConv": (ec.FusedMBConv, {"in_channels": 8, "out_channels": 8, "expand_ratio": 1,
                                     "kernel_size": 3, "stride": 1}),
    "MBConv": (ec.MBConv, {"in_channels": 8, "out_channels": 8, "expand_ratio": 4, "kernel_size": 3,
                           "stride": 1}),
    "MobileNetV2": (ec.MobileNetV2, {"num_classes": 10}),
    "Precision": (ec.Precision, {"device_type": "cpu", "dtype": None, "scaled": False}),
    "ProgressiveSchedule": (ec.ProgressiveSchedule, {}),
    "ScaledSpec": (ec.ScaledSpec, {"multipliers": SPEC.multipliers, "stages": SPEC.stages,
                                   "stem_channels": 32, "head_channels": 1280, "resolution": 224}),
    "SqueezeExcitation": (ec.SqueezeExcitation, {"channels": 8, "squeeze_channels": 2}),
    "Stage": (ec.Stage, {"index": 0, "image_size": 32, "magnitude": 0.0, "mixup_alpha": 0.0,
                         "dropout": 0.0}),
    "StageConfig": (ec.StageConfig, {"block": "mbconv", "expand_ratio": 1, "kernel_size": 3, "stride": 1,
                                     "in_channels": 8, "out_channels": 8, "num_layers": 1}),
    "StepTiming": (ec.StepTiming, {"median_ms": 1.0, "min_ms": 1.0, "max_ms": 1.0, "repeats": 1,
                                   "device": "cpu", "peak_mem_mib": None}),
    "StochasticDepth": (ec.StochasticDepth, {"p": 0.1}),
    "Swish": (ec.Swish, {}),
    "TrainAugment": (ec.TrainAugment, {}),
    "activation_bytes": (ec.activation_bytes, {"model": TINY, "image_size": 32}),
    "block_cost": (ec.block_cost, {"stage": STAGE, "in_channels": 8, "stride": 1, "size": 16}),
    "choose_budget": (ec.choose_budget, {"name": "smoke", "device": "cpu"}),
    "choose_precision": (ec.choose_precision, {"device": "cpu"}),
    "class_activation_maps": (ec.class_activation_maps, {"model": TINY, "images": IMAGES.float()}),
    "compound_multipliers": (ec.compound_multipliers, {"phi": 1.0}),
    "compound_scaled": (ec.compound_scaled, {"phi": 0.0}),
    "compound_spec": (ec.compound_spec, {"phi": 1.0}),
    "conv2d_macs": (ec.conv2d_macs, {"c_in": 8, "c_out": 8, "k": 3, "h_out": 4, "w_out": 4}),
    "conv2d_params": (ec.conv2d_params, {"c_in": 8, "c_out": 8, "k": 3}),
    "conv_intensity": (ec.conv_intensity, {"c_in": 8, "c_out": 8, "kernel_size": 3, "h_out": 4,
                                           "w_out": 4}),
    "conv_traffic": (ec.conv_traffic, {"module": ec.ConvBNAct(8, 8), "input_shape": (1, 8, 8, 8)}),
    "count_macs": (ec.count_macs, {"model": TINY, "image_size": 32}),
    "count_params": (ec.count_params, {"model": TINY}),
    "estimate_cost": (ec.estimate_cost, {"stages": (STAGE,), "image_size": 32, "stem_channels": 8,
                                         "head_channels": 16}),
    "eval_transform": (ec.eval_transform, {"images": IMAGES}),
    "flop_counter_macs": (ec.flop_counter_macs, {"model": TINY, "image_size": 32}),
    "flops_factor_per_phi": (ec.flops_factor_per_phi, {}),
    "format_table": (ec.format_table, {"rows": [{"a": 1, "b": "x"}]}),
    "get_model": (ec.get_model, {"name": "efficientnet_b0"}),
    "largest_batch": (ec.largest_batch, {"memory_budget_bytes": 10**9, "per_image_bytes": 10**6,
                                         "num_params": 10**6}),
    "layer_costs": (ec.layer_costs, {"model": TINY, "image_size": 32}),
    "load_cifar10": (ec.load_cifar10, {"download": False}),
    "make_divisible": (ec.make_divisible, {"value": 30.0}),
    "meta_forward": (ec.meta_forward, {"model": TINY, "input_shape": (1, 3, 32, 32)}),
    "mixup": (ec.mixup, {"images": IMAGES.float(), "labels": LABELS, "alpha": 0.2,
                         "generator": torch.Generator().manual_seed(0)}),
    "mobilenet_v2": (ec.mobilenet_v2, {"num_classes": 10}),
    "params_and_macs": (ec.params_and_macs, {"block": ec.ConvBNAct(8, 8), "input_shape": (8, 8, 8)}),
    "pick_device": (ec.pick_device, {"prefer": "cpu"}),
    "rand_augment": (ec.rand_augment, {"images": IMAGES.float() / 255, "magnitude": 5.0,
                                       "generator": torch.Generator().manual_seed(0)}),
    "round_filters": (ec.round_filters, {"channels": 32, "width_mult": 1.1}),
    "round_repeats": (ec.round_repeats, {"repeats": 3, "depth_mult": 1.2}),
    "saved_tensor_bytes": (ec.saved_tensor_bytes, {"model": ec.ConvBNAct(3, 8), "input_shape": (1, 3, 8, 8)}),
    "scale_b0": (ec.scale_b0, {"width_mult": 1.1, "depth_mult": 1.2}),
    "scale_stages": (ec.scale_stages, {"stages": (STAGE,), "width_mult": 1.1}),
    "scaled_cost": (ec.scaled_cost, {"width": 1.1, "depth": 1.2, "resolution": 240}),
    "se_params": (ec.se_params, {"channels": 64, "r": 16}),
    "se_squeeze_channels": (ec.se_squeeze_channels, {"block_in_channels": 16}),
    "spec_cost": (ec.spec_cost, {"spec": SPEC}),
    "speed_up_small_depthwise": (ec.speed_up_small_depthwise, {"model": ec.ConvBNAct(4, 4, groups=4)}),
    "stage_breakdown": (ec.stage_breakdown, {"model": TINY, "image_size": 32}),
    "stage_table": (ec.stage_table, {"stages": (STAGE,)}),
    "stochastic_depth_schedule": (ec.stochastic_depth_schedule, {"num_blocks": 4}),
    "sublayer_costs": (ec.sublayer_costs, {"model": TINY, "image_size": 32}),
    "swish": (ec.swish, {"x": torch.randn(3)}),
    "synchronize": (ec.synchronize, {"device": "cpu"}),
    "time_fn": (ec.time_fn, {"fn": lambda: None, "repeats": 2, "warmup": 0}),
    "time_training_step": (ec.time_training_step, {"model": ec.ConvBNAct(3, 4), "input_shape": (2, 3, 8, 8),
                                                   "repeats": 1, "warmup": 0}),
    "book.baselines.per_image_augment": (baselines.per_image_augment, {
        "image": IMAGES[0].numpy(), "rng": np.random.default_rng(0)}),
    "book.widgets.curve_svg": (widgets.curve_svg, {"frame": FRAME}),
    "book.widgets.explorer_frame": (widgets.explorer_frame, {"phi": 1.0}),
    "book.widgets.frame_html": (widgets.frame_html, {"frame": FRAME}),
    "book.widgets.macs_curve": (widgets.macs_curve, {}),
    "book.widgets.network_svg": (widgets.network_svg, {"spec": SPEC}),
    "book.widgets.phi_explorer": (widgets.phi_explorer, {"step": 7.0, "live": False}),
}
BUILDERS = {"EfficientNet", "MobileNetV2", "compound_scaled", "get_model", "mobilenet_v2"} | {
    n for n in ec.__all__ if n.startswith("efficientnet_")}
for _name in sorted(BUILDERS - set(VALID)):
    VALID[_name] = (getattr(ec, _name), {})
# Not yet validated: effnet_core/augment.py is being rewritten for the GPU (device-side random
# numbers), so its argument checks come with that rewrite; the PIL baseline likewise.
KNOWN_GAPS: set[str] = set()  # functions still without named errors (none left)
EXPECTED_ERRORS = {"load_cifar10": (ValueError, TypeError, ec.DatasetError)}
NOT_FUZZED = {("load_cifar10", "download")}  # True would download 170 MB


def test_every_public_callable_is_covered():
    public = {n for n in ec.__all__ if callable(getattr(ec, n)) and not inspect.ismodule(getattr(ec, n))}
    public -= {"DatasetError"}  # an exception class
    assert public <= set(VALID), sorted(public - set(VALID))


def _tensors(draw_dtype: torch.dtype) -> st.SearchStrategy:
    shapes = st.lists(st.integers(0, 5), max_size=5)
    return shapes.map(lambda s: torch.zeros(s, dtype=draw_dtype))


WRONG = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4), st.binary(max_size=3), st.builds(object),
    st.integers(-(2**70), 0), st.integers(2**31, 2**70), st.integers(1, 64),
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(max_magnitude=4),
    st.lists(st.integers(-3, 3), max_size=4), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    *(_tensors(dtype) for dtype in (torch.float32, torch.uint8, torch.int64, torch.bool)),
    st.lists(st.integers(0, 4), max_size=4).map(lambda s: np.zeros(s, np.float32)),
)


@pytest.fixture(autouse=True)
def no_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv("EFFNET_DATA", str(tmp_path))  # load_cifar10 finds nothing, quickly


def _parameters(name: str) -> list[str]:
    func, _ = VALID[name]
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and (name, p.name) not in NOT_FUZZED] or ["name"]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="known gap"))
                                  if n in KNOWN_GAPS else n for n in sorted(VALID)])
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_wrong_arguments_give_named_errors(name, data):
    func, valid = VALID[name]
    argument = data.draw(st.sampled_from(_parameters(name)), label="argument")
    value = data.draw(WRONG, label="value")
    kwargs = {**valid, argument: value}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()  # CPU time: other processes on a shared machine do not count
    try:
        with torch.device("meta") if name in BUILDERS else torch.device("cpu"):
            result = func(**kwargs)
    except EXPECTED_ERRORS.get(name, (ValueError, TypeError)) as error:
        if not isinstance(error, ec.DatasetError):  # no data here: not about the arguments
            assert argument in str(error), f"{name}({argument}={value!r:.60}): {error!r}"
    else:
        if isinstance(result, torch.nn.Module):
            assert ec.count_params(result) <= MAX_PARAMS
    assert time.process_time() - start < 10.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 2 * 2**20  # KiB
