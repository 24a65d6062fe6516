"""Helpers for tests that look inside the chapter notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import effnet_core

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"


def tagged_source(notebook: str, tag: str = "by-hand") -> str:
    """The source of every code cell of ``chapters/<notebook>`` carrying ``tag``, in order."""
    cells = json.loads((CHAPTERS / notebook).read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells
               if c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])]
    if not sources:
        raise AssertionError(f"{notebook} has no code cell tagged {tag!r}")
    return "\n\n".join(sources)


def load_by_hand(notebook: str, tag: str = "by-hand") -> dict[str, object]:
    """Execute the cells tagged ``tag`` (the code a chapter builds by hand) and return their namespace.

    The namespace starts with ``ec`` (``import effnet_core as ec``), as every chapter's first cell does.
    """
    namespace: dict[str, object] = {"__name__": f"chapter_{Path(notebook).stem}", "ec": effnet_core}
    exec(compile(tagged_source(notebook, tag), notebook, "exec"), namespace)  # noqa: S102
    return namespace
