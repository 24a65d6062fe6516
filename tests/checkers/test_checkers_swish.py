"""The Swish checkers accept correct answers and reject the common wrong ones, each with its own message."""

import pytest
import torch

from effnet_core.book.checkers import EXERCISES, check_swish, check_swish_grad


def swish_exp(x, beta=1.0):
    return x / (1 + torch.exp(-beta * x))


def swish_grad(x, beta=1.0):
    s = torch.sigmoid(beta * x)
    return s + beta * x * s * (1 - s)


def stub(x, beta=1.0):
    raise NotImplementedError()


@pytest.mark.parametrize("answer", [swish_exp, lambda x, beta=1.0: x * torch.sigmoid(beta * x)])
def test_correct_swish_passes(answer):
    result = check_swish(answer, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, beta=1.0: x * torch.sigmoid(x), "ignores beta"),
        (lambda x, beta=1.0: torch.sigmoid(beta * x), "the gate on its own"),
        (lambda x, beta=1.0: torch.relu(x), "you return ReLU"),
        (lambda x, beta=1.0: x * torch.sigmoid(-beta * x), "the gate is flipped"),
        (lambda x, beta=1.0: beta * x * torch.sigmoid(x), "multiply the whole output by beta"),
        (lambda x, beta=1.0: x * torch.exp(beta * x) / (1 + torch.exp(beta * x)), "inf or nan"),
        (lambda x, beta: x * torch.sigmoid(beta * x), "needs a default value"),
        (lambda x, beta=2.0: x * torch.sigmoid(beta * x), "default beta"),
        (lambda x, beta=1.0: x * torch.sigmoid(torch.tensor(float(beta), dtype=x.dtype) * x), "no gradient"),
        (lambda x, beta=1.0: x * torch.tanh(beta * x), "is wrong: at x ="),
        (lambda x, beta=1.0: (x * torch.sigmoid(beta * x)).tolist(), "must return a torch.Tensor"),
        (lambda x, beta=1.0: (x * torch.sigmoid(beta * x)).sum(), "shaped like x"),
    ],
)
def test_wrong_swish_fails_with_specific_message(wrong, message):
    result = check_swish(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


def test_correct_derivative_passes():
    result = check_swish_grad(swish_grad, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, beta=1.0: torch.sigmoid(beta * x), "gate sigma(beta x) only"),
        (lambda x, beta=1.0: swish_grad(x, beta) + 0.01, "is wrong: at x ="),
        (lambda x, beta=1.0: torch.sigmoid(beta * x) * (1 + x * (1 - torch.sigmoid(beta * x))),
         "missing a factor"),
        (lambda x, beta=1.0: torch.sigmoid(beta * x) * (1 + beta * x * torch.sigmoid(beta * x)),
         "derivative of the sigmoid"),
        (lambda x, beta=1.0: x * torch.sigmoid(beta * x), "swish itself"),
        (lambda x, beta=1.0: (x > 0).to(x.dtype), "ReLU's derivative"),
    ],
)
def test_wrong_derivative_fails_with_specific_message(wrong, message):
    result = check_swish_grad(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize("checker", [check_swish, check_swish_grad])
def test_stub_is_not_attempted(checker):
    assert checker(stub, quiet=True).status == "not attempted"


@pytest.mark.parametrize(("name", "checker"), [("swish-function", check_swish),
                                               ("swish-derivative", check_swish_grad)])
def test_registered_with_hints_that_do_not_give_the_answer(name, checker):
    assert EXERCISES[name] is checker
    assert len(checker.hints) >= 2
    for hint in checker.hints:
        for answer in ("x * sigmoid(beta * x)", "x * torch.sigmoid", "1 + torch.exp(-", "s * (1 - s)",
                       "sigma(u) * (1 - sigma(u))", "beta * x * s"):
            assert answer not in hint


@pytest.mark.parametrize(
    "correct",
    [
        lambda x, beta=1.0: x * (1 + torch.tanh(beta * x / 2)) / 2,
        lambda x, beta=1.0: (x.float() * torch.sigmoid(beta * x.float())),
        lambda x, beta=1.0: x * torch.special.expit(beta * x),
    ],
)
def test_correct_swish_variants_pass(correct):
    """The tanh form, computed in float32, torch.special.expit."""
    result = check_swish(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, beta=1.0: None, "returned None"),
        (lambda x, beta=1.0: x * torch.sigmoid(x / beta), "it does not divide it"),
        (lambda x, beta=1.0: x * torch.sigmoid(beta * x) ** 2, "is wrong: at x ="),
        (lambda x, beta=1.0: (x * torch.sigmoid(beta * x)).unsqueeze(0), "shaped like x"),
        (lambda x, beta=1.0: x * torch.sigmoid(torch.as_tensor(beta) + x), "is wrong: at x ="),
    ],
)
def test_more_wrong_swish(wrong, message):
    """No return, beta dividing, the gate squared, an extra dimension, beta added instead of multiplied."""
    result = check_swish(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


def swish_grad_by_autograd(x, beta=1.0):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((x * torch.sigmoid(beta * x)).sum(), x)
    return grad


@pytest.mark.parametrize(
    "correct",
    [
        swish_grad_by_autograd,
        lambda x, beta=1.0: (lambda s: s * (1 + beta * x * (1 - s)))(torch.sigmoid(beta * x)),
        lambda x, beta=1.0: swish_grad(x.float(), beta),
    ],
)
def test_correct_derivative_variants_pass(correct):
    """Autograd, the factored form, computed in float32."""
    result = check_swish_grad(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, beta=1.0: None, "returned None"),
        (lambda x, beta=1.0: torch.sigmoid(beta * x) - beta * x * torch.sigmoid(beta * x)
         * (1 - torch.sigmoid(beta * x)), "is wrong: at x ="),
        (lambda x, beta=1.0: swish_grad(x, beta).numpy().tolist(), "must return a torch.Tensor"),
        (lambda x, beta=1.0: torch.sigmoid(beta * x) * (1 - torch.sigmoid(beta * x)), "is wrong: at x ="),
        (lambda x, beta=1.0: (x * torch.sigmoid(beta * (x + 1e-2)) - x * torch.sigmoid(beta * x)) / 1e-2,
         "is wrong: at x ="),
    ],
)
def test_more_wrong_derivatives(wrong, message):
    """No return, a sign error, a list, the sigmoid's derivative alone, a one-sided finite difference."""
    result = check_swish_grad(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message
