"""The demo exercise of "How this book works" accepts the reference and rejects common mistakes."""

import pytest

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
