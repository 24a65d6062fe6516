"""Command line: train a small EfficientNetV2 on CIFAR-10, fixed-size and/or progressive.

Writes ``results.json`` and ``history_<mode>.csv`` to ``--out``::

    python -m effnet_core.train --budget gpu --mode both --out runs/cifar
    torchrun --nproc_per_node 4 -m effnet_core.train --budget gpu --out runs/ddp

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..data import load_cifar10
from ..device import BUDGETS, choose_budget, pick_device
from ..model import efficientnet_v2_cifar
from ..progressive import ProgressiveSchedule
from .config import PRESETS
from .distributed import init_distributed, shutdown, world_size
from .loop import train


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line's arguments (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m effnet_core.train",
        description="Train a small EfficientNetV2 on CIFAR-10, fixed-size and/or progressive.",
    )
    parser.add_argument("--budget", choices=BUDGETS, default=None,
                        help="preset sizes (default: $EFFNET_BUDGET, else gpu on CUDA, else cpu)")
    parser.add_argument("--mode", choices=("fixed", "progressive", "both"), default="both")
    parser.add_argument("--out", type=Path, default=Path("runs/progressive"),
                        help="folder for results.json and history_*.csv")
    parser.add_argument("--data-root", default=None, help="folder holding cifar-10-batches-bin/")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--train-size", type=int, help="stratified subset of the 50,000")
    parser.add_argument("--test-size", type=int, help="stratified subset of the 10,000")
    parser.add_argument("--width-mult", type=float)
    parser.add_argument("--depth-mult", type=float)
    parser.add_argument("--stages", type=int, default=4)
    parser.add_argument("--min-size", type=int, default=16)
    parser.add_argument("--max-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cuda", "mps", "cpu"), default=None)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    """Command-line entry point; returns what it writes to ``results.json``."""
    args = parse_args(argv)
    rank, _ = init_distributed()
    device = pick_device(args.device)
    budget = choose_budget(args.budget, device).name
    preset = PRESETS[budget]

    def pick(value: object, key: str) -> object:
        return preset[key] if value is None else value

    base = preset["config"]
    config = replace(base, epochs=args.epochs or base.epochs,
                     batch_size=args.batch_size or base.batch_size, lr=args.lr or base.lr,
                     seed=args.seed, progress=not args.no_progress)
    data = load_cifar10(args.data_root, train_size=pick(args.train_size, "train_size"),
                        test_size=pick(args.test_size, "test_size"), seed=args.seed)
    schedule = ProgressiveSchedule(num_stages=args.stages, min_size=args.min_size, max_size=args.max_size)
    modes = ("fixed", "progressive") if args.mode == "both" else (args.mode,)
    histories = {}
    for mode in modes:
        torch.manual_seed(config.seed)
        model = efficientnet_v2_cifar(num_classes=len(data.classes),
                                      width_mult=pick(args.width_mult, "width_mult"),
                                      depth_mult=pick(args.depth_mult, "depth_mult"))
        sched = schedule.fixed() if mode == "fixed" else schedule
        histories[mode] = train(model, data, sched, config, args.device, label=mode)
    results = {
        "budget": budget, "device": str(device), "world_size": world_size(),
        "train_size": len(data.train_labels), "test_size": len(data.test_labels),
        "schedule": schedule.as_dict(), "config": asdict(config),
        "runs": {mode: {"final_test_acc": h[-1]["test_acc"], "train_time_s": h[-1]["train_time_s"],
                        "history": list(h)} for mode, h in histories.items()},
    }
    if rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
        for mode, h in histories.items():
            h.to_csv(args.out / f"history_{mode}.csv")
            print(f"{mode}:\n{h}")
        print(f"wrote {args.out}/results.json and history_*.csv")
    shutdown()
    return results
