"""The demo exercise of "How this book works" accepts the reference and rejects common mistakes."""

import numpy as np
import pytest
import torch
from torch import nn

from effnet_core.book.checkers import EXERCISES, check_linear_params


def reference(n_in, n_out, bias=True):
    return n_in * n_out + (n_out if bias else 0)


def test_reference_passes():
    result = check_linear_params(reference, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda n_in, n_out, bias=True: n_in * n_out, "not the bias vector"),
        (lambda n_in, n_out, bias=True: n_in * n_out + n_out, "no bias vector to count"),
        (lambda n_in, n_out, bias=True: n_in * n_out + (n_in if bias else 0), "OUTPUT feature"),
        (lambda n_in, n_out, bias=True: (n_in + 1) * (n_out + 1), "(n_in + 1) * (n_out + 1)"),
        (lambda n_in, n_out, bias=True: float(reference(n_in, n_out, bias)), "Python int"),
        (lambda n_in, n_out, bias=True: reference(n_in, n_out, bias) + 1, "not"),
    ],
)
def test_wrong_answers_fail_with_specific_message(wrong, message):
    result = check_linear_params(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


def test_stub_is_not_attempted():
    def stub(n_in, n_out, bias=True):
        raise NotImplementedError()

    assert check_linear_params(stub, quiet=True).status == "not attempted"


def test_registered_with_hints():
    assert EXERCISES["linear_params"] is check_linear_params
    assert len(check_linear_params.hints) >= 2


@pytest.mark.parametrize(
    "correct",
    [
        lambda n_in, n_out, bias=True: np.int64(reference(n_in, n_out, bias)),
        lambda n_in, n_out, bias=True: sum(p.numel() for p in nn.Linear(n_in, n_out, bias=bias).parameters()),
        lambda n_in, n_out, bias=True: torch.tensor(n_in * n_out + bias * n_out),
    ],
)
def test_correct_variants_pass(correct):
    """A NumPy integer, a real nn.Linear, a torch integer with bias as a 0/1 factor."""
    result = check_linear_params(correct, quiet=True)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda n_in, n_out, bias=True: None, "returned None"),
        (lambda n_in, n_out, bias=True: str(reference(n_in, n_out, bias)), "must return an integer"),
        (lambda n_in, n_out, bias=True: 2 * n_in * n_out + (n_out if bias else 0), "not"),
        (lambda n_in, n_out, bias=True: n_in + n_out, "not"),
        (lambda n_in, n_out, bias=True: n_in * n_out + (2 * n_out if bias else 0), "not"),
        (lambda n_in, n_out, bias=True: np.float64(reference(n_in, n_out, bias)), "must return an integer"),
    ],
)
def test_more_wrong_answers(wrong, message):
    """No return, a string, weights counted twice, a sum for a product, bias counted twice, a float."""
    result = check_linear_params(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message
