"""Read the results file of ``python -m effnet_core.train``: each run's final accuracy and time.

    python scripts/train_summary.py runs/progressive/results.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def summary(path: Path) -> list[dict[str, object]]:
    """One row per run: final test accuracy (%), training seconds and MACs processed."""
    runs = json.loads(path.read_text())["runs"]
    return [{"run": name, "final_test_acc_pct": round(100 * run["final_test_acc"], 2),
             "train_time_s": round(run["train_time_s"], 1), "train_macs": run["train_macs"]}
            for name, run in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="results.json written by python -m effnet_core.train")
    for row in summary(parser.parse_args().results):
        print(f"{row['run']:12s} {row['final_test_acc_pct']:6.2f}% in {row['train_time_s']:7.1f} s "
              f"({row['train_macs'] / 1e12:.3f} TMACs)")


if __name__ == "__main__":
    main()
