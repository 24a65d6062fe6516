"""What the block checkers (SE, MBConv, Fused-MBConv) share: judge a module by what it does.

* :func:`trace` runs a forward pass and records every leaf module with its input and output, in
  the order they EXECUTE, so a layer's role comes from where it acts, not where it was registered.
* :func:`transplant` gives a learner's block the weights of a reference block by tensor SHAPE.
  Reference tensors that share a shape (the BatchNorms of equal width, a bias of that width) get
  the same random values first, so any correct layout receives exactly the reference's function,
  whatever its names, registration order, or ``nn.Linear`` in place of a 1x1 convolution.

Introduced with the checkers of the chapters "Squeeze-and-Excitation", "MBConv" and "EfficientNetV2".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ._core import expect, tensor


def build(cls: type, args: tuple, kwargs: dict | None = None) -> nn.Module:
    """``cls(*args, **kwargs)`` in eval mode, checked to be an ``nn.Module``."""
    module = cls(*args, **(kwargs or {}))
    expect(isinstance(module, nn.Module), f"{cls.__name__}{args} must build an nn.Module, got "
                                          f"{type(module).__name__}.")
    return module.eval()


def run(block: nn.Module, x: torch.Tensor, what: str) -> torch.Tensor:
    """The block's output for ``x`` (no gradients), checked to be a tensor."""
    with torch.no_grad():
        return tensor(block(x), what)


@dataclass(frozen=True)
class Call:
    """One leaf module's execution: the module, its first input and its output."""

    module: nn.Module
    given: object
    out: object


def trace(block: nn.Module, x: torch.Tensor) -> list[Call]:
    """Every leaf module's call during ``block(x)``, in execution order (references kept alive)."""
    calls: list[Call] = []
    leaves = [m for m in block.modules() if not list(m.children())]
    def record(module: nn.Module, args: tuple, out: object) -> None:
        calls.append(Call(module, args[0] if args else None, out))

    handles = [m.register_forward_hook(record) for m in leaves]
    try:
        with torch.no_grad():
            block(x)
    finally:
        for handle in handles:
            handle.remove()
    return calls


def spatial_size(value: object) -> int:
    """H * W of a 4-D tensor; 1 for anything else (a pooled vector, a Linear's input)."""
    return value.shape[2] * value.shape[3] if isinstance(value, torch.Tensor) and value.ndim == 4 else 1


def shape_key(t: torch.Tensor) -> tuple[int, ...]:
    """A tensor's shape with a 1x1 kernel dropped: a 1x1 conv's weight and a Linear's look alike."""
    shape = tuple(t.shape)
    return shape[:2] if len(shape) == 4 and shape[2:] == (1, 1) else shape


def own_tensors(module: nn.Module) -> list[torch.Tensor]:
    """Parameters and floating-point buffers (BatchNorm statistics), each once."""
    seen: dict[int, torch.Tensor] = {}
    for t in [*module.parameters(), *module.buffers()]:
        if t.is_floating_point():
            seen.setdefault(id(t), t)
    return list(seen.values())


def transplant(reference: nn.Module, learner: nn.Module, seed: int) -> list[tuple[int, ...]]:
    """Fill ``reference`` with random values, one draw per shape, and copy them into ``learner``'s
    tensors of the same shape. Returns the learner's shapes that the reference does not have."""
    generator = torch.Generator().manual_seed(seed)
    values: dict[tuple[int, ...], torch.Tensor] = {}
    for t in own_tensors(reference):
        key = shape_key(t)
        if key not in values:
            if len(key) == 1:  # BatchNorm scale, shift, mean and variance, biases: all in (0.5, 1.5)
                values[key] = torch.rand(key, generator=generator) + 0.5
            else:
                fan_in = math.prod(t.shape[1:])
                values[key] = torch.randn(t.shape, generator=generator) * 2 / math.sqrt(fan_in)
        with torch.no_grad():
            t.copy_(values[key].reshape(t.shape))
    unknown = []
    for t in own_tensors(learner):
        key = shape_key(t)
        if key not in values:
            unknown.append(tuple(t.shape))
            continue
        with torch.no_grad():
            t.copy_(values[key].reshape(t.shape))
    return unknown


def measured_cost(block: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(parameters, MACs) of ``block`` measured on ``x``: every Conv2d and Linear that runs, by its
    output shape (the ★★★ exercises of the chapters "MBConv" and "EfficientNetV2")."""
    macs = 0
    for call in trace(block, x):
        module, out = call.module, call.out
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            macs += out.numel() // out.shape[0] * per_output
        elif isinstance(module, nn.Linear):
            macs += module.in_features * module.out_features
    return sum(p.numel() for p in block.parameters()), macs
