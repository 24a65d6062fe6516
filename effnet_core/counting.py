"""Counting parameters and multiply-accumulates (MACs), three ways that must agree.

1. :func:`count_macs` walks the model's layers and applies the textbook formula per layer
   (``H_out * W_out * C_out * C_in/groups * k*k`` for a convolution).
2. :func:`flop_counter_macs` asks PyTorch's ``FlopCounterMode`` (FLOPs / 2).
3. :func:`estimate_cost` computes both counts from the stage table alone, with no model at
   all (fast enough for a slider).

All three run on the ``meta`` device, so counting B7 at 600 px costs no real compute.
Introduced in the chapter "The cost of a convolution".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

from ._checks import check_bool, check_float, check_int, check_module, check_shape, shape_errors
from .configs import StageConfig, check_stages, scale_b0
from .layers import MBConv, SqueezeExcitation, se_squeeze_channels
from .scaling import make_divisible

if TYPE_CHECKING:
    from .model import ScaledSpec


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (chapter "The cost of a convolution")."""
    _check_model(model)
    check_bool("trainable_only", trainable_only)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _check_conv(c_in: int, c_out: int, k: int, groups: int) -> None:
    for name, value in (("c_in", c_in), ("c_out", c_out), ("k", k), ("groups", groups)):
        check_int(name, value)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups must divide c_in and c_out, got groups={groups}, c_in={c_in}, "
                         f"c_out={c_out}")


def conv2d_params(c_in: int, c_out: int, k: int, groups: int = 1, bias: bool = False) -> int:
    """Parameters of a ``k x k`` convolution: ``c_out * c_in/groups * k*k (+ c_out)``."""
    _check_conv(c_in, c_out, k, groups)
    check_bool("bias", bias)
    return c_out * (c_in // groups) * k * k + (c_out if bias else 0)


def conv2d_macs(c_in: int, c_out: int, k: int, h_out: int, w_out: int, groups: int = 1) -> int:
    """MACs of a ``k x k`` convolution producing an ``h_out x w_out`` map."""
    _check_conv(c_in, c_out, k, groups)
    check_int("h_out", h_out), check_int("w_out", w_out)
    return h_out * w_out * c_out * (c_in // groups) * k * k


MAX_IMAGE_SIZE = 2**16  # pixels a side: far beyond any EfficientNet input (B7: 600)


def _check_image_size(image_size: object, total_stride: int = 1) -> int:
    if isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral):
        raise TypeError(f"image_size must be an integer number of pixels, got {image_size!r}")
    if image_size < total_stride or image_size < 1 or image_size > MAX_IMAGE_SIZE:
        raise ValueError(
            f"image_size must be >= {max(total_stride, 1)} (the network's total stride) and at most "
            f"{MAX_IMAGE_SIZE:,}, got {image_size}"
        )
    return int(image_size)


def _check_model(model: object) -> nn.Module:
    return check_module("model", model)  # type: ignore[return-value]


@dataclass(frozen=True)
class LayerCost:
    """One leaf layer: its dotted name, type, parameters, MACs and output shape."""

    name: str
    kind: str
    params: int
    macs: int
    output_shape: tuple[int, ...]


def _meta_forward(model: nn.Module, image_size: int, hooks: dict[str, nn.Module] | None = None
                  ) -> tuple[list[LayerCost], dict[str, tuple[int, ...]]]:
    """Run ``model`` once on a meta tensor; return per-leaf costs and the output shapes of ``hooks``."""
    costs: list[LayerCost] = []
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []

    def leaf_hook(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            params = sum(p.numel() for p in module.parameters(recurse=False))
            out = tuple(output.shape[1:])
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                macs = out[1] * out[2] * out[0] * (module.in_channels // module.groups) * kh * kw
            elif isinstance(module, nn.Linear):
                macs = module.in_features * module.out_features
            else:
                macs = 0
            costs.append(LayerCost(name, type(module).__name__, params, macs, out))
        return hook

    def shape_hook(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            shapes[name] = tuple(output.shape[1:])
        return hook

    for name, module in model.named_modules():
        if next(module.children(), None) is None:
            handles.append(module.register_forward_hook(leaf_hook(name)))
    for name, module in (hooks or {}).items():
        handles.append(module.register_forward_hook(shape_hook(name)))
    try:
        _run_on_meta(model, image_size)
    finally:
        for handle in handles:
            handle.remove()
    return costs, shapes


def _run_on_meta(model: nn.Module, image_size: int) -> None:
    """Forward a ``(1, 3, S, S)`` meta tensor after checking ``S`` against the model's stride."""
    _check_image_size(image_size, getattr(model, "total_stride", 1))
    with shape_errors("image_size", image_size):
        meta_forward(model, (1, 3, image_size, image_size))


def meta_forward(model: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    """Run ``model`` in eval mode on an empty ``input_shape`` tensor on the ``meta`` device.

    Shapes flow through every layer (so forward hooks see them) but nothing is computed and the
    real weights are not touched: counting B7 at 600 px costs nothing. The one meta-device
    forward of the package (counting, :mod:`effnet_core.training_cost`).
    """
    input_shape = check_shape("input_shape", input_shape, max_elements=2**62)
    meta_state = {k: torch.empty_like(v, device="meta") for k, v in _check_model(model).state_dict().items()}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            with shape_errors("input_shape", input_shape):
                return functional_call(model, meta_state, (torch.empty(input_shape, device="meta"),))
    finally:
        model.train(was_training)


def layer_costs(model: nn.Module, image_size: int) -> list[LayerCost]:
    """Per-leaf-layer parameters, MACs and output shapes (chapter "MBConv")."""
    return _meta_forward(_check_model(model), image_size)[0]


def count_macs(model: nn.Module, image_size: int) -> int:
    """MACs of one forward pass on a ``(1, 3, image_size, image_size)`` image.

    Counts convolutions and linear layers analytically, layer by layer (the same operations
    ``torch.utils.flop_counter`` counts). Introduced in "The cost of a convolution".
    """
    return sum(c.macs for c in layer_costs(model, image_size))


def flop_counter_macs(model: nn.Module, image_size: int) -> int:
    """MACs as counted by ``torch.utils.flop_counter.FlopCounterMode`` (its FLOPs divided by 2)."""
    _check_model(model)
    counter = FlopCounterMode(display=False)
    with counter:
        _run_on_meta(model, image_size)
    return counter.get_total_flops() // 2


def stage_breakdown(model: nn.Module, image_size: int | None = None) -> list[dict[str, object]]:
    """Params, MACs and output shape of each top-level part: stem, stage 1..n, head, classifier.

    Works for any model with torchvision's ``features``/``classifier`` layout.
    Introduced in the chapter "EfficientNet-B0".
    """
    features = getattr(_check_model(model), "features", None)
    if not isinstance(features, nn.Sequential) or len(features) < 2:
        raise TypeError("model must have a `features` nn.Sequential (torchvision layout)")
    if image_size is None:
        image_size = getattr(model, "default_image_size", 224)
    n = len(features)
    names = {str(i): ("stem" if i == 0 else "head" if i == n - 1 else f"stage {i}")
             for i in range(n)}
    costs, shapes = _meta_forward(model, image_size,
                                  {names[str(i)]: features[i] for i in range(n)})
    rows: dict[str, dict[str, object]] = {
        names[str(i)]: {"part": names[str(i)], "params": 0, "macs": 0,
                        "output": shapes[names[str(i)]]}
        for i in range(n)
    }
    rows["classifier"] = {"part": "classifier", "params": 0, "macs": 0, "output": None}
    for cost in costs:
        parts = cost.name.split(".")
        key = names[parts[1]] if parts[0] == "features" else "classifier"
        rows[key]["params"] += cost.params  # type: ignore[operator]
        rows[key]["macs"] += cost.macs  # type: ignore[operator]
        if key == "classifier" and cost.kind == "Linear":
            rows[key]["output"] = cost.output_shape
    return list(rows.values())


def _out(size: int, stride: int) -> int:
    return -(-size // stride)


def block_cost(stage: StageConfig, in_channels: int, stride: int, size: int) -> tuple[int, int]:
    """(params, MACs) of one (Fused-)MBConv block from its config, by formula."""
    if not isinstance(stage, StageConfig):
        raise TypeError(f"stage must be a StageConfig, got {stage!r:.60}")
    in_channels, size = check_int("in_channels", in_channels), check_int("size", size)
    stride = check_int("stride", stride, 1, 2)
    c, o, k = in_channels, stage.out_channels, stage.kernel_size
    e = make_divisible(c * stage.expand_ratio, 8)
    h = _out(size, stride)
    params = macs = 0
    if stage.block == "fused":
        if e != c:
            params += conv2d_params(c, e, k) + 2 * e + conv2d_params(e, o, 1) + 2 * o
            macs += conv2d_macs(c, e, k, h, h) + conv2d_macs(e, o, 1, h, h)
        else:
            params += conv2d_params(c, o, k) + 2 * o
            macs += conv2d_macs(c, o, k, h, h)
        return params, macs
    if e != c:
        params += conv2d_params(c, e, 1) + 2 * e
        macs += conv2d_macs(c, e, 1, size, size)
    params += conv2d_params(e, e, k, groups=e) + 2 * e
    macs += conv2d_macs(e, e, k, h, h, groups=e)
    if stage.se_ratio:
        s = se_squeeze_channels(c, stage.se_ratio)
        params += conv2d_params(e, s, 1, bias=True) + conv2d_params(s, e, 1, bias=True)
        macs += 2 * e * s
    params += conv2d_params(e, o, 1) + 2 * o
    macs += conv2d_macs(e, o, 1, h, h)
    return params, macs


def estimate_cost(
    stages: Sequence[StageConfig],
    image_size: int,
    *,
    stem_channels: int,
    head_channels: int,
    num_classes: int = 1000,
    stem_stride: int = 2,
) -> list[dict[str, object]]:
    """Per-part params and MACs computed from the stage table alone (no model is built).

    Rows match :func:`stage_breakdown`. Microseconds, so a slider can call it on every move.
    Introduced in the chapter "Compound scaling".
    """
    stages = check_stages(stages)
    stem_channels, head_channels = check_int("stem_channels", stem_channels), check_int(
        "head_channels", head_channels)
    num_classes, stem_stride = check_int("num_classes", num_classes), check_int("stem_stride", stem_stride)
    image_size = _check_image_size(image_size, stem_stride * math.prod(s.stride for s in stages))
    size = _out(image_size, stem_stride)
    rows = [{"part": "stem", "params": conv2d_params(3, stem_channels, 3) + 2 * stem_channels,
             "macs": conv2d_macs(3, stem_channels, 3, size, size),
             "output": (stem_channels, size, size)}]
    for i, stage in enumerate(stages, start=1):
        params, macs = block_cost(stage, stage.in_channels, stage.stride, size)
        size = _out(size, stage.stride)
        if stage.num_layers > 1:  # the other blocks are all alike (stride 1, out -> out channels)
            p, m = block_cost(stage, stage.out_channels, 1, size)
            params, macs = params + (stage.num_layers - 1) * p, macs + (stage.num_layers - 1) * m
        rows.append({"part": f"stage {i}", "params": params, "macs": macs,
                     "output": (stage.out_channels, size, size)})
    last = stages[-1].out_channels
    rows.append({"part": "head", "params": conv2d_params(last, head_channels, 1) + 2 * head_channels,
                 "macs": conv2d_macs(last, head_channels, 1, size, size),
                 "output": (head_channels, size, size)})
    rows.append({"part": "classifier", "params": head_channels * num_classes + num_classes,
                 "macs": head_channels * num_classes, "output": (num_classes,)})
    return rows


def _count(stages: tuple[StageConfig, ...], stem: int, head: int, resolution: int) -> tuple[int, int]:
    rows = estimate_cost(stages, resolution, stem_channels=stem, head_channels=head)
    return sum(r["params"] for r in rows), sum(r["macs"] for r in rows)  # type: ignore[misc]


def spec_cost(spec: ScaledSpec) -> tuple[int, int]:
    """``(params, MACs)`` of a scaled network (:func:`effnet_core.model.compound_spec`), from its table."""
    if not hasattr(spec, "multipliers") or not hasattr(spec, "stages"):
        raise TypeError(f"spec must be a ScaledSpec (from compound_spec), got {type(spec).__name__}")
    return _count(spec.stages, spec.stem_channels, spec.head_channels, spec.resolution)


def scaled_cost(width: float = 1.0, depth: float = 1.0, resolution: int = 224) -> tuple[int, int]:
    """``(params, MACs)`` of B0 scaled by any width and depth multipliers at any input size.

    Counted from the stage table (:func:`effnet_core.counting.estimate_cost`); no model is built.
    Introduced in the chapter "Compound scaling".
    """
    width, depth = check_float("width", width, 0.0, 100.0, low_open=True), check_float(
        "depth", depth, 0.0, 100.0, low_open=True)
    return _count(*scale_b0(width, depth), check_int("resolution", resolution, 32, MAX_IMAGE_SIZE))


def params_and_macs(block: nn.Module, input_shape: Sequence[int]) -> tuple[int, int]:
    """Parameters and multiply-adds of one forward pass of ``block`` on ``(1, *input_shape)``.

    MACs are ``torch.utils.flop_counter`` FLOPs / 2 (convolutions and matrix products).
    Introduced in the chapter "MBConv".
    """
    check_module("block", block)
    x = torch.zeros(1, *check_shape("input_shape", input_shape, max_elements=2**26))
    was_training = block.training
    block.eval()
    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter, shape_errors("input_shape", input_shape):
            block(x)
    finally:
        block.train(was_training)
    return sum(p.numel() for p in block.parameters()), counter.get_total_flops() // 2


MBCONV_PARTS = ("expand 1x1", "depthwise kxk", "SE", "project 1x1", "BatchNorm")


def sublayer_costs(model: nn.Module, image_size: int) -> list[dict[str, object]]:
    """For every :class:`MBConv` in ``model``: its params and MACs split over :data:`MBCONV_PARTS`.

    Uses :func:`effnet_core.counting.layer_costs` (one meta-device forward pass).
    Chapter "MBConv".
    """
    part_of: dict[str, tuple[str, str]] = {}
    blocks = [(name, m) for name, m in _check_model(model).named_modules() if isinstance(m, MBConv)]
    for name, block in blocks:
        steps = list(block.block.named_children())
        for i, (step_name, step) in enumerate(steps):
            for leaf_name, leaf in step.named_modules():
                full = f"{name}.block.{step_name}.{leaf_name}".rstrip(".")
                if isinstance(step, SqueezeExcitation):
                    part = "SE"
                elif isinstance(leaf, nn.BatchNorm2d):
                    part = "BatchNorm"
                elif isinstance(leaf, nn.Conv2d):
                    part = ("depthwise kxk" if leaf.groups > 1 else
                            "project 1x1" if i == len(steps) - 1 else "expand 1x1")
                else:
                    continue
                part_of[full] = (name, part)
    zeros = {f"{what} {part}": 0 for what in ("params", "macs") for part in MBCONV_PARTS}
    rows = {name: {"block": name, **zeros} for name, _ in blocks}
    for cost in layer_costs(model, image_size):
        if cost.name in part_of:
            block_name, part = part_of[cost.name]
            rows[block_name][f"params {part}"] += cost.params
            rows[block_name][f"macs {part}"] += cost.macs
    return list(rows.values())


def se_params(channels: int, r: float) -> int:
    """Parameters of an SE layer on ``channels`` with reduction ``r``: two 1x1 maps with biases.

    ``2 * C * (C // r) + (C // r) + C``, with the bottleneck ``max(1, C // r)``.
    Introduced in the chapter "Squeeze-and-Excitation".
    """
    channels = check_int("channels", channels)
    r = check_float("r", r, 1.0)
    squeeze = max(1, int(channels // r))
    return 2 * channels * squeeze + squeeze + channels
