"""Shared fixtures: where the repository and the built site are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"


def skip_or_fail(reason: str) -> None:
    """Skip the test, except under CI (``CI=true``), where a missing prerequisite is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site ``_build/html`` (``make book`` or ``make site`` builds it)."""
    if not (SITE / "index.html").is_file():
        skip_or_fail("no built site in _build/html: run `make book` first")
    return SITE
