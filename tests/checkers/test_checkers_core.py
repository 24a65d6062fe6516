"""The checker machinery: the learner's exception is theirs, the checker's own error the checker's."""

import numpy as np
import pytest
import torch

from effnet_core.book.checkers import (
    Exercise,
    check_fused_mbconv,
    check_linear_params,
    check_mbconv,
    check_se,
    check_stage_value,
    expect,
)
from effnet_core.book.checkers._core import integer, number


def test_learner_exception_is_reported_as_theirs_with_the_line():
    def linear_params(n_in, n_out, bias=True):
        return {}[n_in]

    result = check_linear_params(linear_params, quiet=True)
    assert result.status == "fail"
    assert result.message.startswith("your code raised KeyError")
    assert "in linear_params, line" in result.message


def test_exception_inside_torch_called_by_the_learner_is_theirs():
    def stage_value(k, num_stages, low, high):
        return torch.cat([torch.zeros(2, 3), torch.zeros(3, 2)]).sum()

    result = check_stage_value(stage_value, quiet=True)
    assert result.message.startswith("your code raised RuntimeError"), result.message


def test_checker_own_error_is_never_blamed_on_the_learner():
    def buggy_check(answer):
        return {}["missing"] + answer  # the checker's bug, not the answer's

    exercise = Exercise("buggy", buggy_check, ["a hint"])
    result = exercise(lambda: 1, quiet=True)
    assert result.status == "fail"
    assert "the checker itself failed (KeyError" in result.message
    assert "your code" not in result.message


def test_checker_failure_still_wins_over_blame():
    exercise = Exercise("strict", lambda answer: expect(answer == 1, "answer must be 1"), ["a hint"])
    assert exercise(2, quiet=True).message == "answer must be 1"
    assert exercise(1, quiet=True).status == "pass"


@pytest.mark.parametrize("value", [0.5, np.float32(0.5), np.float64(0.5), torch.tensor(0.5), np.array([0.5]),
                                   torch.tensor([0.5], dtype=torch.float16), 1])
def test_number_accepts_python_numpy_and_torch_scalars(value):
    assert number(value, "f") == pytest.approx(0.5 if value != 1 else 1.0)


@pytest.mark.parametrize(("value", "message"), [(None, "returned None"), ("0.5", "must return a number"),
                                                (float("inf"), "finite"),
                                                (torch.ones(2), "must return a number"),
                                                (True, "must return a number")])
def test_number_rejects_with_a_clear_message(value, message):
    with pytest.raises(AssertionError, match=message):
        number(value, "f(1)")


@pytest.mark.parametrize(("value", "ok"), [(3, True), (np.int64(3), True), (torch.tensor(3), True),
                                           (3.0, False),
                                           (np.float32(3), False), (True, False), (None, False)])
def test_integer_accepts_only_integers(value, ok):
    if ok:
        assert integer(value, "f") == 3
    else:
        with pytest.raises(AssertionError):
            integer(value, "f")


class ForwardStub(torch.nn.Module):
    """A student stub whose __init__ is written but whose forward is not."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)

    def forward(self, x):
        raise NotImplementedError()


@pytest.mark.parametrize("checker", [check_se, check_mbconv, check_fused_mbconv])
def test_forward_stub_is_not_attempted(checker):
    """The traced forward passes (hooks) let the stub's NotImplementedError through."""
    assert checker(ForwardStub, quiet=True).status == "not attempted"
