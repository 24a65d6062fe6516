"""Checkers for the chapter "Swish": the function ``swish(x, beta=1.0)`` and its derivative.

Both are treated as black boxes: called on a grid of inputs for several values of beta and
compared with autograd on :func:`effnet_core.activations.swish`. When the answer is wrong the
checker recognises the usual mistakes (the gate alone, ReLU, beta ignored, the gate flipped,
a missing chain-rule factor, ...) and says which one it looks like.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ...activations import swish as reference_swish
from ._core import CheckFailed, close, exercise, expect, number

X = torch.linspace(-6.0, 6.0, 241, dtype=torch.float64)
BETAS = (1.0, 2.0, 0.5, 0.0, 10.0)
EXTREMES = torch.tensor([-1000.0, -100.0, -30.0, 30.0, 100.0, 1000.0], dtype=torch.float64)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, rtol=1e-5, atol=1e-7))


def _call(fn: Callable[..., object], x: torch.Tensor, beta: float | torch.Tensor, what: str) -> torch.Tensor:
    out = fn(x.clone(), beta)
    expect(out is not None, f"{what}(x, beta) returned None: is the `return` statement missing?")
    expect(isinstance(out, torch.Tensor),
           f"{what}(x, beta) must return a torch.Tensor, got {type(out).__name__}.")
    expect(tuple(out.shape) == tuple(x.shape),
           f"{what}(x, beta) must return a tensor shaped like x ({tuple(x.shape)}), got {tuple(out.shape)}.")
    return out.detach().to(torch.float64)


def _reference_grad(x: torch.Tensor, beta: float) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(reference_swish(x, beta).sum(), x)
    return grad


def _worst(got: torch.Tensor, want: torch.Tensor) -> str:
    i = int(torch.argmax((got - want).abs()))
    return f"at x = {float(X[i]):.2f} you return {float(got[i]):.4f} instead of {float(want[i]):.4f}"


@exercise(
    "swish-function",
    hints=[
        "Swish multiplies its input by a gate: a number between 0 and 1 that itself depends on the "
        "input. Which familiar function squashes any real number into (0, 1)?",
        "beta belongs inside the gate, where it sets how sharply the gate switches from closed to "
        "open. Plot your function for beta = 0.5, 1 and 5: you should see the x/2 line and ReLU as limits.",
        "Write the gate with torch.exp and arithmetic only. Large |x| must not produce inf/inf: "
        "choose the form of the gate whose denominator can only overflow towards a gate of 0.",
    ],
)
def check_swish(swish: Callable[..., torch.Tensor]) -> str:
    """Check ``swish(x, beta=1.0)`` for several beta, tensor beta and huge inputs (chapter "Swish")."""
    expect(callable(swish), "pass your function itself, e.g. check_swish(swish).")
    outs = {beta: _call(swish, X, beta, "swish") for beta in BETAS}
    relu = torch.relu(X)
    for beta, got in outs.items():
        want = reference_swish(X, beta)
        if _close(got, want):
            continue
        expect(not _close(got, relu),
               f"for beta = {beta:g} you return ReLU: swish only approaches ReLU as beta grows. For "
               "negative x it is small but not zero, and it is smooth at 0.")
        expect(not _close(got, torch.sigmoid(beta * X)),
               f"for beta = {beta:g} your output lies between 0 and 1 even for large x: that is the gate "
               "on its own. Swish returns the gated input, not the gate.")
        expect(not _close(got, X * torch.sigmoid(-beta * X)),
               f"for beta = {beta:g} your output follows x for negative x and dies out for positive x: "
               "the gate is flipped, so it opens for the wrong sign of x.")
        expect(beta == 1.0 or not _close(got, outs[1.0]),
               f"changing beta from 1 to {beta:g} did not change your output: your function ignores beta.")
        expect(beta in (0.0, 1.0) or not _close(got, reference_swish(X, 1 / beta)),
               f"for beta = {beta:g} your gate is sigma(x / beta): beta multiplies x inside the gate, "
               "it does not divide it.")
        expect(not _close(got, beta * reference_swish(X, 1.0)),
               f"for beta = {beta:g} you multiply the whole output by beta; beta belongs inside the gate, "
               "where it changes how sharply the gate opens.")
        expect(False, f"swish(x, beta={beta:g}) is wrong: {_worst(got, want)}.")
    try:
        default = _call(lambda x, _beta: swish(x), X, 1.0, "swish")
    except TypeError as error:
        raise CheckFailed("beta needs a default value so that swish(x) works on its own "
                             f"(calling swish(x) raised TypeError: {error}).") from error
    expect(_close(default, outs[1.0]), "swish(x) with the default beta differs from swish(x, 1.0); the "
           "default beta is 1, the value EfficientNet uses (nn.SiLU).")
    for beta in (1.0, 10.0):
        big = swish(EXTREMES.clone(), beta)
        expect(isinstance(big, torch.Tensor) and bool(torch.isfinite(big).all()),
               f"for beta = {beta:g} and inputs as large as +-1000 your function returns inf or nan "
               "(an exponential overflows); rearrange the gate so it stays finite.")
        expect(bool(torch.allclose(big.double(), reference_swish(EXTREMES, beta), rtol=1e-5, atol=1e-6)),
               f"for beta = {beta:g} and inputs as large as +-1000 your function is inaccurate.")
    beta = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    out = swish(X.clone(), beta)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           "with beta given as a tensor that requires grad (a learnable beta), no gradient reaches beta: "
           "use torch operations on beta, not float(beta) or the math module.")
    (grad,) = torch.autograd.grad(out.sum(), beta)
    ref_beta = beta.detach().clone().requires_grad_(True)
    (want,) = torch.autograd.grad(reference_swish(X, ref_beta).sum(), ref_beta)
    expect(bool(torch.allclose(grad, want, rtol=1e-5)),
           "the gradient with respect to a tensor beta is wrong.")
    return ("your swish matches the reference for every beta tried, stays finite for huge inputs, and "
            "passes gradients to a learnable beta.")


@exercise(
    "swish-derivative",
    hints=[
        "Swish is a product of two functions of x. Which rule differentiates a product?",
        "You need the derivative of the sigmoid. It can be written with the sigmoid itself, no new "
        "exponentials needed.",
        "The gate is sigma(beta * x), a function of beta * x: differentiating it with respect to x "
        "goes through the chain rule. Compare your formula with autograd at beta = 2, not only at 1.",
    ],
)
def check_swish_grad(swish_grad: Callable[..., torch.Tensor]) -> str:
    """Check the closed-form derivative ``swish_grad(x, beta=1.0)`` against autograd (chapter "Swish")."""
    expect(callable(swish_grad), "pass your function itself, e.g. check_swish_grad(swish_grad).")
    for beta in BETAS:
        got = _call(swish_grad, X, beta, "swish_grad")
        want = _reference_grad(X, beta)
        if _close(got, want):
            continue
        gate = torch.sigmoid(beta * X)
        expect(not _close(got, reference_swish(X, beta)),
               f"for beta = {beta:g} you return swish itself, not its derivative.")
        expect(not _close(got, gate),
               f"for beta = {beta:g} you return the gate sigma(beta x) only: that treats the gate as a "
               "constant, but it depends on x too.")
        expect(not _close(got, (X > 0).to(X.dtype)),
               f"for beta = {beta:g} you return ReLU's derivative (a step); swish's derivative is smooth, "
               "and negative for some x < 0.")
        expect(not _close(got, gate + X * gate * (1 - gate)),
               f"for beta = {beta:g} your derivative is what it would be at beta = 1: the chain rule through "
               "sigma(beta x) is missing a factor.")
        expect(not (_close(got, gate + beta * X * gate**2) or _close(got, gate + beta * X * (1 - gate))),
               f"for beta = {beta:g} the derivative of the sigmoid is wrong; sigma'(u) is not sigma(u)^2 "
               "and not 1 - sigma(u).")
        expect(False, f"swish_grad(x, beta={beta:g}) is wrong: {_worst(got, want)}.")
    return "your closed-form derivative matches autograd for every beta tried."


def _true_minimum(beta: float) -> float:
    """Where swish_beta is smallest: the root of its derivative, by bisection in float64."""
    def slope(x: float) -> float:
        s = 1.0 / (1.0 + math.exp(-beta * x))
        return s + beta * x * s * (1.0 - s)

    low, high = -5.0 / beta, -0.5 / beta  # slope(low) < 0 < slope(high)
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if slope(mid) < 0 else (low, mid)
    return (low + high) / 2


MIN_BETAS = (1.0, 2.0, 0.5, 10.0, 3.3)


@exercise(
    "swish-minimum",
    hints=[
        "At the minimum the derivative is zero; the derivative is negative to the left of it and "
        "positive to the right, so bisection on the derivative finds it.",
        "Find x* for beta = 1 first; eq-swish-scaling moves it to x* / beta for other betas.",
        "Bisection on [-5, -0.5] for 1 + x (1 - sigmoid(x)) = 0, 60 halvings; value = x * sigmoid(beta x).",
    ],
)
def check_swish_minimum(swish_minimum: Callable[[float], dict]) -> str:
    """Check ``swish_minimum(beta)`` -> {"x", "value"}: where swish_beta is smallest (★★★)."""
    expect(callable(swish_minimum), "pass your function itself, e.g. check(swish_minimum).")
    x_one = _true_minimum(1.0)
    for beta in MIN_BETAS:
        report = swish_minimum(beta)
        expect(isinstance(report, dict), f"swish_minimum must return a dict, got {type(report).__name__}.")
        expect(set(report) == {"x", "value"}, f"the dict needs exactly the keys ['value', 'x'], got "
                                              f"{sorted(report)}.")
        x, value = number(report["x"], "report['x']"), number(report["value"], "report['value']")
        want = _true_minimum(beta)
        expect(close(value, x / (1.0 + math.exp(-beta * x)), 1e-6),
               f"beta={beta}: your value {value:.6f} is not swish_beta at your x ({x:.6f}).")
        expect(x < 0, f"beta={beta}: Swish increases for x > 0; its minimum is at a negative x, not {x:.4f}.")
        expect(beta == 1.0 or not close(x, x_one, 1e-6),
               f"beta={beta}: the minimum moves with beta: swish_beta(x) = swish_1(beta x) / beta.")
        expect(not (abs(x - want) < 0.02 and not close(x, want, 1e-6)),
               f"beta={beta}: x = {x:.6f} is close but not the minimum ({want:.6f} to 6 digits): a grid is "
               "not precise enough; solve derivative = 0 (bisection or Newton).")
        expect(close(x, want, 1e-6), f"beta={beta}: x = {x:.6f}, but the minimum is at {want:.6f}.")
    return "the minimum and its value are right to 6 digits for every beta, and move as x*/beta."
