"""The machinery behind every ``check_*`` function: pass, fail or "not attempted", and hints.

A checker is an ordinary function that inspects the learner's answer and calls
:func:`expect` (or raises :class:`CheckFailed`) with a specific message when
something is wrong. :func:`exercise` wraps it so that calling it

* prints ``Correct`` when every expectation holds,
* prints the specific failure otherwise (never the solution),
* reports ``not attempted`` when the answer is still the stub that raises
  ``NotImplementedError``,

and gives it a ``.hint(n)`` method. Introduced in "How this book works".
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "fail", "not attempted"]


class CheckFailed(AssertionError):
    """Raised by a checker with a message that tells the learner what is wrong."""


def expect(condition: bool, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


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
        except Exception as error:  # the learner's code crashed: say where, not what to write
            return Result(
                self.name,
                "fail",
                f"your code raised {type(error).__name__}: {error}",
            )
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
