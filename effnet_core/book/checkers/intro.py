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
