"""The machinery behind every ``check_*`` function: pass, fail or "not attempted", and hints.

A checker is an ordinary function that inspects the learner's answer and calls
:func:`expect` (or raises :class:`CheckFailed`) with a specific message when
something is wrong. :func:`exercise` wraps it so that calling it

* prints ``Correct`` when every expectation holds,
* prints the specific failure otherwise (never the solution),
* reports ``not attempted`` when the answer is still the stub that raises
  ``NotImplementedError``,
* reports an exception raised by the learner's code as theirs (with the line), and an error
  of the checker itself as the checker's, never as a verdict on the answer,

and gives it a ``.hint(n)`` method. Introduced in "How this book works".
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import sysconfig
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

Status = Literal["pass", "fail", "not attempted"]


class CheckFailed(AssertionError):
    """Raised by a checker with a message that tells the learner what is wrong."""


def expect(condition: bool, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


# Float32 keeps about 7 significant digits: an answer computed in float32 (np.float32, torch.lerp,
# a float32 tensor) differs from the float64 reference by a few 1e-7, a wrong formula by far more.
REL_TOL = 1e-5


def close(got: float, want: float, rel_tol: float = REL_TOL) -> bool:
    """``got`` equals ``want`` up to float32 rounding."""
    return math.isclose(got, want, rel_tol=rel_tol, abs_tol=1e-9)


def _scalar(value: object) -> object:
    """A NumPy scalar, or a one-element NumPy array or torch tensor, as a Python number."""
    if isinstance(value, np.ndarray | torch.Tensor) and value.ndim <= 1 and math.prod(value.shape) == 1:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _returned_none(value: object, what: str) -> None:
    expect(value is not None, f"{what} returned None: is the `return` statement missing?")


def number(value: object, what: str) -> float:
    """The learner's result as a finite float: a Python, NumPy or one-element torch number."""
    _returned_none(value, what)
    plain = _scalar(value)
    expect(isinstance(plain, numbers.Real) and not isinstance(plain, bool),
           f"{what} must return a number, got {type(value).__name__} ({value!r}).")
    expect(math.isfinite(float(plain)), f"{what} must return a finite number, got {value!r}.")
    return float(plain)


def integer(value: object, what: str) -> int:
    """The learner's result as an int: a Python, NumPy or one-element torch integer (not a float)."""
    _returned_none(value, what)
    plain = _scalar(value)
    expect(isinstance(plain, numbers.Integral) and not isinstance(plain, bool),
           f"{what} must return an integer (a count: a Python int), got {type(value).__name__} "
           f"({value!r}).")
    return int(plain)


def tensor(value: object, what: str) -> torch.Tensor:
    """The learner's result as a torch tensor (a NumPy array is converted)."""
    _returned_none(value, what)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return torch.from_numpy(value)
    expect(isinstance(value, torch.Tensor), f"{what} must return a torch.Tensor, got {type(value).__name__}.")
    return value  # type: ignore[return-value]


_CHECKERS = os.path.dirname(os.path.abspath(__file__))
_LIBRARIES = tuple(os.path.dirname(os.path.abspath(m.__file__ or "")) for m in (torch, np)) + (
    os.path.dirname(os.path.dirname(_CHECKERS)),  # effnet_core: the reference the checker builds
    os.path.abspath(sysconfig.get_paths()["stdlib"]),
)


def _culprit(error: BaseException, check: Callable[..., object]) -> tuple[str, int] | None:
    """(function, line) of the innermost frame of the learner's code in ``error``'s traceback;
    None if the checker (its package or the ``check`` function itself) raised it.

    Library frames (torch, NumPy, effnet_core, the standard library) are skipped: they run on
    behalf of whoever called them.
    """
    for frame, line in reversed(list(traceback.walk_tb(error.__traceback__))):
        path = os.path.abspath(frame.f_code.co_filename)
        if frame.f_code is getattr(check, "__code__", None) or path.startswith(_CHECKERS + os.sep):
            return None
        if not path.startswith(_LIBRARIES):
            return frame.f_code.co_name, line
    return None


def _crash_message(error: Exception, check: Callable[..., object]) -> str:
    where = _culprit(error, check)
    if where is None:
        return (f"the checker itself failed ({type(error).__name__}: {error}). That is a bug in the "
                "checker, not a verdict on your answer: please report it.")
    return f"your code raised {type(error).__name__}: {error} (in {where[0]}, line {where[1]})"


@dataclass(frozen=True)
class Result:
    """The outcome of one check. Truthy only when the answer passed."""

    exercise: str
    status: Status
    message: str

    def __bool__(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        mark = {"pass": "✅ Correct", "fail": "❌ Not yet", "not attempted": "✏️  Not attempted"}
        text = f"{mark[self.status]} ({self.exercise}): {self.message}"
        # wrap so the message reads on a narrow web page or notebook without scrolling
        return "\n".join(textwrap.fill(line, width=88, subsequent_indent="    ")
                         for line in text.splitlines())


class Exercise:
    """A checkable exercise: call it with an answer; ask it for hints."""

    def __init__(self, name: str, check: Callable[[Any], str | None], hints: list[str]):
        if not hints:
            raise ValueError(f"exercise {name!r} needs at least one hint")
        self.name = name
        self._check = check
        self.hints = list(hints)
        functools.update_wrapper(self, check)

    def __call__(self, answer: Any, *, quiet: bool = False) -> Result:
        result = self.evaluate(answer)
        if not quiet:
            print(result)
        return result

    def evaluate(self, answer: Any) -> Result:
        """Run the check without printing."""
        if answer is None or answer is Ellipsis:
            return Result(self.name, "not attempted", "nothing to check yet: write your answer first.")
        try:
            praise = self._check(answer)
        except NotImplementedError:
            return Result(
                self.name,
                "not attempted",
                "your answer still raises NotImplementedError; replace the stub with your code.",
            )
        except CheckFailed as failure:
            return Result(self.name, "fail", str(failure))
        except Exception as error:  # whose code crashed: say where, not what to write
            return Result(self.name, "fail", _crash_message(error, self._check))
        return Result(self.name, "pass", praise or "all checks passed.")

    def hint(self, n: int = 1) -> str:
        """Print and return hint ``n`` (1-based); later hints say more."""
        if not isinstance(n, int) or not 1 <= n <= len(self.hints):
            raise ValueError(f"n must be an integer from 1 to {len(self.hints)}, got {n!r}")
        text = f"Hint {n}/{len(self.hints)} ({self.name}): {self.hints[n - 1]}"
        print(text)
        return text


EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, hints: list[str]) -> Callable[[Callable[[Any], str | None]], Exercise]:
    """Register a checker function as the exercise ``name`` with its hints."""

    def register(check: Callable[[Any], str | None]) -> Exercise:
        if name in EXERCISES:
            raise ValueError(f"exercise {name!r} is registered twice")
        EXERCISES[name] = Exercise(name, check, hints)
        return EXERCISES[name]

    return register


def hint(name: str, n: int = 1) -> str:
    """Print hint ``n`` of the exercise ``name``."""
    if name not in EXERCISES:
        raise ValueError(f"name must be one of {sorted(EXERCISES)}, got {name!r}")
    return EXERCISES[name].hint(n)
