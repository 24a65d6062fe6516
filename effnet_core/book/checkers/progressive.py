"""Checkers for the exercises of the chapter "Progressive learning"."""

from __future__ import annotations

import math

import torch
from torch import nn

from ...layers import FusedMBConv, MBConv
from ._core import exercise, expect


@exercise(
    "progressive_stage_value",
    hints=[
        "Algorithm 1 interpolates linearly: stage 0 gets `low`, the last stage gets `high`.",
        "The fraction of the way is k / (num_stages - 1), not k / num_stages.",
        "With num_stages == 1 there is nothing to interpolate: return `high`.",
    ],
)
def check_stage_value(fn) -> str:
    """``fn(k, num_stages, low, high)``: the value of a setting at stage ``k`` (0-based)."""
    expect(math.isclose(fn(0, 4, 16, 32), 16), "stage 0 must use the low value (16 for 16 -> 32).")
    last = fn(3, 4, 16, 32)
    expect(
        math.isclose(last, 32),
        f"the last stage (k=3 of 4) must reach the high value 32, got {last}: "
        "divide by num_stages - 1.",
    )
    mid = fn(1, 4, 0.1, 0.3)
    expect(
        math.isclose(mid, 0.1 + 0.2 / 3),
        f"stage 1 of 4 from 0.1 to 0.3 should be {0.1 + 0.2 / 3:.4f}, got {mid}.",
    )
    expect(
        math.isclose(fn(1, 5, 10, 0), 7.5),
        "a setting may also decrease: stage 1 of 10 -> 0 over 5 stages is 7.5.",
    )
    try:
        single = fn(0, 1, 16, 32)
    except ZeroDivisionError:
        single = None
    expect(
        single is not None and math.isclose(single, 32),
        "with a single stage, train at the final (high) value without dividing by zero.",
    )
    return "your schedule matches Algorithm 1 of the EfficientNetV2 paper."


@exercise(
    "progressive_mixup_targets",
    hints=[
        "Start from one-hot labels: torch.nn.functional.one_hot(labels, num_classes).float().",
        "Image i is mixed with image perm[i], so its second label is labels[perm[i]].",
        "targets = lam * one_hot(labels) + (1 - lam) * one_hot(labels[perm]).",
    ],
)
def check_mixup_targets(fn) -> str:
    """``fn(labels, perm, lam, num_classes)``: soft targets ``(B, num_classes)`` for mixup."""
    labels = torch.tensor([0, 1, 2, 3])
    perm = torch.tensor([2, 3, 0, 1])
    out = fn(labels, perm, 0.7, 5)
    expect(isinstance(out, torch.Tensor), f"return a tensor, got {type(out).__name__}.")
    expect(tuple(out.shape) == (4, 5), f"expected shape (4, 5), got {tuple(out.shape)}.")
    expect(torch.allclose(out.float().sum(1), torch.ones(4)), "each row must sum to 1.")
    own, partner = out[0, 0].item(), out[0, 2].item()
    expect(
        not (math.isclose(own, 0.3, abs_tol=1e-6) and math.isclose(partner, 0.7, abs_tol=1e-6)),
        "lam and 1 - lam are swapped: the image's own label gets lam.",
    )
    expect(
        math.isclose(partner, 0.3, abs_tol=1e-6),
        f"the partner's label (labels[perm[i]]) must get weight 1 - lam = 0.3, got {partner:.3g}.",
    )
    expect(
        math.isclose(own, 0.7, abs_tol=1e-6),
        f"the image's own label must get weight lam = 0.7, got {own:.3g}.",
    )
    same = fn(labels, perm, 1.0, 5)
    expect(torch.allclose(same.float(), torch.eye(5)[:4]), "lam = 1 must give plain one-hot targets.")
    return "your mixup targets mix the labels exactly as the images are mixed."


@exercise(
    "progressive_resnet",
    hints=[
        "The same schedule shows the network 16, 20, 28 and 32 px images: end the feature "
        "extractor with nn.AdaptiveAvgPool2d(1) so any size works.",
        "The schedule sets the dropout rate of every nn.Dropout; put one just before the final "
        "nn.Linear.",
        "A basic residual block: conv-BN-ReLU-conv-BN, add the input (a 1x1 conv when the "
        "shape changes), ReLU.",
    ],
)
def check_resnet_for_progressive(model_fn) -> str:
    """``model_fn()`` builds a small non-EfficientNet network ready for progressive training."""
    expect(
        callable(model_fn) and not isinstance(model_fn, nn.Module),
        "pass the function that builds the model (e.g. `small_resnet`), not a model.",
    )
    model = model_fn()
    expect(isinstance(model, nn.Module), f"model_fn() must return an nn.Module, got {type(model)}.")
    expect(
        not any(isinstance(m, (MBConv, FusedMBConv)) for m in model.modules()),
        "this exercise is about a different network: build a ResNet, not an EfficientNet.",
    )
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    expect(bool(dropouts), "the model needs an nn.Dropout (before its classifier) for the schedule.")
    model.eval()
    with torch.no_grad():
        for size in (16, 20, 28, 32):
            try:
                out = model(torch.randn(2, 3, size, size))
            except RuntimeError as error:
                expect(False, f"the model fails on {size} px images ({error}); use global pooling.")
            expect(
                tuple(out.shape) == (2, 10),
                f"on {size} px images the output must be (2, 10) logits, got {tuple(out.shape)}.",
            )
    return "your network accepts every stage's image size and has dropout for the schedule."
