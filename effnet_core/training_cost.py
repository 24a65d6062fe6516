"""What a training step costs beyond its MACs: activation memory, the largest batch, arithmetic intensity.

MACs say how much arithmetic a network does; they do not say how many bytes it moves or keeps.
Training keeps every intermediate activation for the backward pass, and a layer that does few
MACs per byte it reads (a depthwise convolution) runs far below the accelerator's peak. These
helpers put numbers on both. Introduced in the chapter "EfficientNetV2".
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_device, check_int, check_module, check_shape, shape_errors
from .counting import layer_costs, meta_forward

# Leaf layers whose output is their input (or is not kept for backward in eval-mode shape tracing).
_PASS_THROUGH = ("Dropout", "StochasticDepth", "Identity", "AdaptiveAvgPool2d")


def _check_positive(name: str, value: object) -> None:
    check_int(name, value)


def activation_bytes(model: nn.Module, image_size: int, batch_size: int = 1,
                     bytes_per_element: int = 4) -> int:
    """Analytic estimate of the activations a training step keeps for backward.

    Sums the output size of every leaf layer (convolutions, batch norms, activations) from
    :func:`effnet_core.counting.layer_costs`, times ``batch_size`` and ``bytes_per_element``.
    An estimate: it ignores the tensors of non-module operations (SE's product, residual sums)
    and the fact that some layers keep their input rather than their output. Chapter "EfficientNetV2".
    """
    _check_positive("batch_size", batch_size)
    _check_positive("bytes_per_element", bytes_per_element)
    elements = sum(math.prod(c.output_shape) for c in layer_costs(model, image_size)
                   if c.kind not in _PASS_THROUGH)
    return elements * batch_size * bytes_per_element


def saved_tensor_bytes(model: nn.Module, input_shape: tuple[int, ...],
                       device: torch.device | str = "cpu") -> int:
    """Measure the bytes autograd saves for backward during one forward pass (any device).

    Counts each saved tensor's storage once and leaves out the parameters (they exist anyway).
    Chapter "EfficientNetV2".
    """
    device = check_device("device", device)
    input_shape = check_shape("input_shape", input_shape, max_elements=2**26)
    model = check_module("model", model).to(device).train()
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with shape_errors("input_shape", input_shape):
            model(torch.randn(input_shape, device=device))
    return sum(seen.values())


def largest_batch(memory_budget_bytes: int, per_image_bytes: int, num_params: int,
                  bytes_per_param: int = 12) -> int:
    """Largest batch whose activations fit next to the weights, gradients and optimiser state.

    ``bytes_per_param = 12``: fp32 weights, their gradients and one momentum buffer (SGD).
    Returns 0 when not even one image fits. Chapter "EfficientNetV2".
    """
    for name, value in (("memory_budget_bytes", memory_budget_bytes),
                        ("per_image_bytes", per_image_bytes), ("num_params", num_params),
                        ("bytes_per_param", bytes_per_param)):
        _check_positive(name, value)
    free = memory_budget_bytes - num_params * bytes_per_param
    return max(0, free // per_image_bytes)


def conv_intensity(c_in: int, c_out: int, kernel_size: int, h_out: int, w_out: int, *,
                   groups: int = 1, stride: int = 1, bytes_per_element: int = 4) -> float:
    """Arithmetic intensity of one convolution: MACs per byte of input, output and weights.

    .. math:: I = \\frac{H_o W_o C_o (C_i/g) k^2}
              {b\\,(C_i\\, s H_o\\, s W_o + C_o H_o W_o + C_o (C_i/g) k^2)}

    Chapter "EfficientNetV2".
    """
    for name, value in (("c_in", c_in), ("c_out", c_out), ("kernel_size", kernel_size),
                        ("h_out", h_out), ("w_out", w_out), ("groups", groups), ("stride", stride),
                        ("bytes_per_element", bytes_per_element)):
        _check_positive(name, value)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups must divide c_in and c_out, got groups={groups}, c_in={c_in}, "
                         f"c_out={c_out}")
    weights = c_out * (c_in // groups) * kernel_size**2
    macs = h_out * w_out * weights
    moved = c_in * (stride * h_out) * (stride * w_out) + c_out * h_out * w_out + weights
    return macs / (bytes_per_element * moved)


def conv_traffic(module: nn.Module, input_shape: tuple[int, ...], bytes_per_element: int = 4
                 ) -> tuple[int, int]:
    """``(MACs, bytes)`` of every convolution in ``module`` for one input of ``input_shape``.

    Bytes are each convolution's input, output and weights (as in :func:`conv_intensity`), so
    ``macs / bytes`` is the module's arithmetic intensity. Runs on the meta device (free).
    Chapter "EfficientNetV2".
    """
    check_module("module", module)
    input_shape = check_shape("input_shape", input_shape, ndim=4, max_elements=2**62)
    _check_positive("bytes_per_element", bytes_per_element)
    totals = [0, 0]

    def hook(conv: nn.Conv2d, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        weights = conv.weight.numel()
        totals[0] += output.shape[0] * output.shape[2] * output.shape[3] * weights
        totals[1] += bytes_per_element * (inputs[0].numel() + output.numel() + weights)

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        meta_forward(module, input_shape)
    finally:
        for handle in handles:
            handle.remove()
    return totals[0], totals[1]
