"""The per-epoch record of a training run. Introduced in the chapter "Progressive learning"."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ..configs import format_table


class History(list):
    """Per-epoch rows (dicts) of one run; ``print(history)`` shows them as a table."""

    def column(self, key: str) -> list:
        """The values of one column, e.g. ``history.column("test_acc")``."""
        return [row[key] for row in self]

    def __str__(self) -> str:
        def tidy(v: object) -> object:
            return f"{v:.4g}" if isinstance(v, float) else v

        return format_table([{k: tidy(v) for k, v in row.items()} for row in self])

    __repr__ = __str__

    def to_csv(self, path: str | Path) -> None:
        """Write the rows as CSV."""
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(self[0]))
            writer.writeheader()
            writer.writerows(self)


def time_to_accuracy(history: Sequence[dict], target: float) -> float | None:
    """Training seconds until the test accuracy first reaches ``target`` (None if never)."""
    for row in history:
        if row["test_acc"] >= target:
            return row["train_time_s"]
    return None
