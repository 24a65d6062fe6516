"""Command line: train a small EfficientNetV2 on CIFAR-10, fixed-size and/or progressive.

The runs alternate epoch by epoch (a fair clock on a busy machine). Writes ``results.json`` and
``history_<mode>.csv`` to ``--out`` and a checkpoint after every epoch::

    python -m effnet_core.train --budget cpu --seed 0 --out runs/cpu
    python -m effnet_core.train --budget gpu --mode both --out runs/cifar
    torchrun --nproc_per_node 4 -m effnet_core.train --budget gpu --out runs/ddp
    python scripts/train_summary.py runs/cpu/results.json   # final accuracy and time per run

Bad arguments, a missing device or missing data stop it before any work (exit status 2);
Ctrl-C keeps the last finished epoch and prints the command that resumes from it (exit 130).

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..data import FOLDER, DatasetError, load_cifar10, resolve_root
from ..device import BUDGETS, choose_budget, pick_device
from ..model import efficientnet_v2_cifar
from ..progressive import CIFAR_DEFAULTS, ProgressiveSchedule
from .checkpoint import load_state
from .config import PRESETS, preset_schedule
from .distributed import init_distributed, shutdown, world_size
from .loop import train_interleaved

CIFAR_SIZES = {"--train-size": 50_000, "--test-size": 10_000}


def _number(kind: Callable[[str], float], low: float, low_ok: bool, high: float = math.inf,
            high_ok: bool = True) -> Callable[[str], float]:
    """An argparse ``type``: ``kind`` (int or float), finite, in the range low..high."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        above = value >= low if low_ok else value > low
        below = value <= high if high_ok else value < high
        if not (math.isfinite(value) and above and below):
            wanted = f"{'>=' if low_ok else '>'} {low}"
            if high < math.inf:
                wanted = f"in {'[' if low_ok else '('}{low}, {high}{']' if high_ok else ')'}"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    return parse


positive_int = _number(int, 1, True)
positive_float = _number(float, 0, False)
fraction = _number(float, 0, True, 1, False)


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (see ``--help``)."""
    p = argparse.ArgumentParser(prog="python -m effnet_core.train", description=__doc__.splitlines()[0])
    p.add_argument("--budget", choices=BUDGETS, default=None,
                   help="preset sizes (default: $EFFNET_BUDGET, else gpu on CUDA, else cpu)")
    p.add_argument("--mode", choices=("fixed", "progressive", "both"), default="both")
    p.add_argument("--out", type=Path, default=Path("runs/progressive"),
                   help="folder for results.json and history_*.csv (must not be a file)")
    p.add_argument("--data-root", type=Path, default=None, help="folder holding cifar-10-batches-bin/")
    p.add_argument("--no-download", action="store_true", help="fail if CIFAR-10 is not there already")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=positive_float, help="peak learning rate for batch size 256")
    p.add_argument("--label-smoothing", type=fraction)
    p.add_argument("--train-size", type=positive_int, help="stratified subset of the 50,000")
    p.add_argument("--test-size", type=positive_int, help="stratified subset of the 10,000")
    p.add_argument("--width-mult", type=positive_float)
    p.add_argument("--depth-mult", type=positive_float)
    p.add_argument("--stages", type=positive_int, help="progressive stages (default: the budget's, 4)")
    p.add_argument("--min-size", type=positive_int, help="first stage's image size (default 16)")
    p.add_argument("--max-size", type=positive_int, help="last stage's image size (default 32)")
    p.add_argument("--seed", type=_number(int, 0, True), default=0)
    p.add_argument("--device", choices=("cuda", "mps", "cpu"), default=None)
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="file saved after every epoch (default: OUT/checkpoint.pt)")
    p.add_argument("--resume", type=Path, default=None, help="continue from this checkpoint")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def _device_available(name: str) -> bool:
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        return mps is not None and mps.is_available()
    return True


def _check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Data, output and checkpoint paths, checked before anything is loaded or created."""
    root = resolve_root(args.data_root)
    if not (root / FOLDER).is_dir():
        if args.data_root is not None and not root.is_dir():
            parser.error(f"argument --data-root: {root} does not exist (it should hold {FOLDER}/)")
        if args.no_download:
            parser.error(f"argument --no-download: CIFAR-10 is not in {root} ({FOLDER}/ is missing)")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} exists and is not a folder")
    if args.checkpoint is not None and args.checkpoint.is_dir():
        parser.error(f"argument --checkpoint: {args.checkpoint} is a folder, not a file")
    if args.resume is not None and not args.resume.is_file():
        parser.error(f"argument --resume: {args.resume} is not a file")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the arguments; anything wrong exits with status 2 and a one-line message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    low = args.min_size or CIFAR_DEFAULTS.min_size
    high = args.max_size or CIFAR_DEFAULTS.max_size
    if low > high:
        parser.error(f"argument --min-size: must be <= --max-size ({low} > {high})")
    for flag, top in CIFAR_SIZES.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is not None and value > top:
            parser.error(f"argument {flag}: CIFAR-10 has {top:,} images, got {value:,}")
    if args.device is not None and not _device_available(args.device):
        parser.error(f"argument --device: {args.device} is not available on this machine")
    _check_paths(parser, args)
    args.budget = choose_budget(args.budget, pick_device(args.device)).name
    preset = PRESETS[args.budget]
    for key in ("train_size", "test_size", "width_mult", "depth_mult"):
        if getattr(args, key) is None:
            setattr(args, key, preset[key])
    batch = args.batch_size or preset["config"].batch_size
    if batch > args.train_size:
        parser.error(f"argument --batch-size: {batch} is larger than the training set ({args.train_size})")
    args.checkpoint = args.checkpoint or args.out / "checkpoint.pt"
    args.parser = parser
    return args


def _settings(args: argparse.Namespace) -> tuple[dict, ProgressiveSchedule]:
    """The run's TrainConfig (as a dict) and schedule, from the preset and the arguments."""
    base = PRESETS[args.budget]["config"]
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                 "label_smoothing": args.label_smoothing}
    config = replace(base, seed=args.seed, progress=not args.no_progress, checkpoint=str(args.checkpoint),
                     **{k: v for k, v in overrides.items() if v is not None})
    schedule = preset_schedule(args.budget)
    sizes = {"num_stages": args.stages, "min_size": args.min_size, "max_size": args.max_size}
    schedule = replace(schedule, **{k: v for k, v in sizes.items() if v is not None})
    return config, schedule


def _describe(args: argparse.Namespace, config, schedule: ProgressiveSchedule) -> dict:
    """What must match for a checkpoint to be resumed (stored in the checkpoint)."""
    keep = {k: v for k, v in asdict(config).items() if k not in ("progress", "checkpoint")}
    return {"budget": args.budget, "mode": args.mode, "train_size": args.train_size,
            "test_size": args.test_size, "width_mult": args.width_mult, "depth_mult": args.depth_mult,
            "config": keep, "schedule": schedule.as_dict()}


def _resume_state(args: argparse.Namespace, settings: dict) -> dict | None:
    """The runs saved in ``--resume``, after checking they were made with the same settings."""
    if args.resume is None:
        return None
    try:
        state = load_state(args.resume)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same user error
        args.parser.error(f"argument --resume: cannot read {args.resume} ({type(error).__name__})")
    if state.get("settings") != settings:
        old = state.get("settings") or {}
        differ = sorted(k for k in settings if old.get(k) != settings[k])
        args.parser.error(f"argument --resume: {args.resume} was made with other settings "
                          f"({', '.join(differ)})")
    return state["runs"]


def _interrupted(args: argparse.Namespace, argv: Sequence[str], settings: dict) -> None:
    """Say what Ctrl-C kept and how to go on; exit with status 130."""
    saved = load_state(args.checkpoint) if args.checkpoint.is_file() else {}
    if saved.get("settings") != settings:
        print("\ninterrupted before the first epoch finished: nothing saved.", file=sys.stderr)
    else:
        epochs = min(run["epoch"] for run in saved["runs"].values())
        rest = [a for i, a in enumerate(argv) if a != "--resume" and (i == 0 or argv[i - 1] != "--resume")]
        command = shlex.join(["python", "-m", "effnet_core.train", *rest, "--resume", str(args.checkpoint)])
        print(f"\ninterrupted: epoch {epochs} of {settings['config']['epochs']} is saved in "
              f"{args.checkpoint}.\nresume with: {command}", file=sys.stderr)
    raise SystemExit(130)


def _summary(runs: dict) -> str:
    """One line: each run's final accuracy and training time."""
    parts = [f"{mode} {100 * r['final_test_acc']:.1f}% test accuracy in {r['train_time_s']:.0f} s"
             for mode, r in runs.items()]
    if {"fixed", "progressive"} <= set(runs):
        ratio = runs["progressive"]["train_time_s"] / runs["fixed"]["train_time_s"]
        parts.append(f"progressive took {ratio:.2f}x the fixed run's time")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> dict:
    """Command-line entry point; returns what it writes to ``results.json``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    rank, _ = init_distributed()
    config, schedule = _settings(args)
    settings = _describe(args, config, schedule)
    resume = _resume_state(args, settings)
    try:
        data = load_cifar10(args.data_root, train_size=args.train_size, test_size=args.test_size,
                            seed=args.seed, download=not args.no_download)
    except DatasetError as error:
        args.parser.exit(1, f"{args.parser.prog}: error: {error}\n")
    modes = ("fixed", "progressive") if args.mode == "both" else (args.mode,)
    schedules = {"fixed": schedule.fixed(), "progressive": schedule}

    def model_fn() -> torch.nn.Module:
        return efficientnet_v2_cifar(num_classes=len(data.classes), width_mult=args.width_mult,
                                     depth_mult=args.depth_mult)

    try:
        runs = train_interleaved(model_fn, data, {m: schedules[m] for m in modes}, config, args.device,
                                 resume=resume, meta={"settings": settings})
    except KeyboardInterrupt:
        _interrupted(args, argv, settings)
    results = {
        **settings, "device": str(pick_device(args.device)), "world_size": world_size(),
        "runs": {mode: {"final_test_acc": h[-1]["test_acc"], "train_time_s": h[-1]["train_time_s"],
                        "train_macs": h[-1]["train_macs"], "history": list(h)}
                 for mode, (_, h) in runs.items()},
    }
    if rank == 0:
        _write(args.out, results, runs)
    shutdown()
    return results


def _write(out: Path, results: dict, runs: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    for mode, (_, history) in runs.items():
        history.to_csv(out / f"history_{mode}.csv")
        print(f"{mode}:\n{history}")
    print(f"wrote {out}/results.json and history_*.csv")
    print(_summary(results["runs"]))
