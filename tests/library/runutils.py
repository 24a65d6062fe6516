"""Helpers shared by the library's training tests."""


def drop_times(history):
    """History rows without their wall-clock columns (the rest must match run for run)."""
    return [{k: v for k, v in row.items() if "time" not in k and "per_s" not in k} for row in history]
