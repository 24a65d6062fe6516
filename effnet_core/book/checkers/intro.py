"""Checker for the demo exercise of "How this book works": count a Linear layer's parameters."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ._core import exercise, expect, integer

CASES = ((3, 2, True), (3, 2, False), (128, 10, True), (1, 1, True), (64, 256, False))


@exercise(
    "linear_params",
    hints=[
        "nn.Linear(n_in, n_out) stores a weight matrix and, if bias=True, a bias vector.",
        "The weight has shape (n_out, n_in); the bias has one entry per output feature.",
        "n_in * n_out weights, plus n_out biases when bias=True.",
    ],
)
def check_linear_params(linear_params: Callable[..., int]) -> str:
    """Check ``linear_params(n_in, n_out, bias=True)`` against ``nn.Linear`` (chapter 0)."""
    expect(callable(linear_params), "pass your function itself, e.g. check(linear_params).")
    for n_in, n_out, bias in CASES:
        got = integer(linear_params(n_in, n_out, bias=bias), f"linear_params({n_in}, {n_out}, bias={bias})")
        expected = sum(p.numel() for p in nn.Linear(n_in, n_out, bias=bias).parameters())
        if got == expected:
            continue
        weights = n_in * n_out
        expect(
            not (bias and got == weights),
            f"for ({n_in}, {n_out}, bias=True) you counted the weights but not the bias vector.",
        )
        expect(
            not (not bias and got == weights + n_out),
            f"for ({n_in}, {n_out}, bias=False) there is no bias vector to count.",
        )
        expect(
            not (bias and got == weights + n_in),
            f"for ({n_in}, {n_out}) the bias has one entry per OUTPUT feature, not per input.",
        )
        expect(
            got != (n_in + 1) * (n_out + 1),
            f"for ({n_in}, {n_out}) you counted (n_in + 1) * (n_out + 1): the bias adds n_out "
            "numbers, not an extra row and column.",
        )
        expect(False, f"linear_params({n_in}, {n_out}, bias={bias}) gave {got}, not {expected}.")
    return "your count matches nn.Linear for every shape tried."


def _shared_model() -> nn.Module:
    """Two Linear layers that share one weight tensor (tied weights), plus a bias each."""
    first, second = nn.Linear(6, 6), nn.Linear(6, 6)
    second.weight = first.weight
    return nn.Sequential(first, nn.ReLU(), second)


def _frozen_model() -> nn.Module:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8, 4))
    for p in model[0].parameters():
        p.requires_grad_(False)
    return model


def _same_module_twice() -> nn.Module:
    layer = nn.Linear(5, 5)
    return nn.Sequential(layer, nn.Tanh(), layer)


REPORT_CASES = (
    ("nn.Linear(3, 2)", lambda: nn.Linear(3, 2)),
    ("a Conv-BatchNorm-Linear model whose conv is frozen", _frozen_model),
    ("two Linear layers sharing one weight", _shared_model),
    ("the same Linear used twice", _same_module_twice),
)


@exercise(
    "intro-param-report",
    hints=[
        "model.parameters() yields each parameter tensor once, even when two layers share it.",
        "A frozen parameter has requires_grad == False; BatchNorm's running statistics are buffers, "
        "not parameters.",
        "Sum p.numel() over model.parameters(), once for all and once for those with p.requires_grad.",
    ],
)
def check_param_report(param_report: Callable[[nn.Module], dict]) -> str:
    """Check ``param_report(model)`` -> {"total", "trainable", "frozen"} (chapter 0, ★★★)."""
    expect(callable(param_report), "pass your function itself, e.g. check(param_report).")
    for name, make in REPORT_CASES:
        model = make()
        report = param_report(model)
        expect(isinstance(report, dict), f"param_report must return a dict, got {type(report).__name__}.")
        keys = {"total", "trainable", "frozen"}
        expect(set(report) == keys, f"the report needs the keys {sorted(keys)}, got {sorted(report)}.")
        got = {key: integer(report[key], f"report[{key!r}] for {name}") for key in sorted(keys)}
        expect(got["total"] == got["trainable"] + got["frozen"],
               f"for {name}: total ({got['total']}) is not trainable + frozen ({got['trainable']} + "
               f"{got['frozen']}).")
        params = list(model.parameters())
        total = sum(p.numel() for p in params)
        trainable = sum(p.numel() for p in params if p.requires_grad)
        buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
        expect(not (buffers and got["total"] == total + buffers),
               f"for {name}: you counted BatchNorm's running mean and variance; they are buffers, "
               "not parameters (nothing trains them by gradient).")
        expect(got["total"] <= total,
               f"for {name}: you counted {got['total']} parameters but the model has {total}: a tensor "
               "shared by two layers (or a layer used twice) is one set of numbers, count it once.")
        expect(got["total"] == total, f"for {name}: total is {got['total']}, expected {total}.")
        expect(not (trainable != total and got["trainable"] == total),
               f"for {name}: a parameter with requires_grad=False is frozen, not trainable.")
        expect(got["trainable"] == trainable,
               f"for {name}: trainable is {got['trainable']}, expected {trainable}.")
    return "totals, trainable and frozen counts are right, shared weights counted once, buffers left out."
