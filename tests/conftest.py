"""Shared fixtures: where the repository and the built site are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"

# The CIFAR-10 files for tests: $EFFNET_DATA if set, else the shared data folder beside the
# checkout (the package itself knows nothing about that folder).
_SHARED_DATA = ROOT.parent / "shared" / "data"
if not os.environ.get("EFFNET_DATA") and (_SHARED_DATA / "cifar-10-batches-bin").is_dir():
    os.environ["EFFNET_DATA"] = str(_SHARED_DATA)


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


@pytest.fixture
def one_thread():
    """Tiny models train faster on one thread, and a busy machine does not oversubscribe."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
