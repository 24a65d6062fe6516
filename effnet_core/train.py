"""Training loop for CIFAR-10 with progressive learning, on one device or many (DDP).

* data on the device (:class:`~effnet_core.augment.DeviceData`), batched augmentation;
* mixed precision on CUDA (bf16 where supported, else fp16 with a gradient scaler),
  channels_last on CUDA;
* SGD with Nesterov momentum and a one-cycle (or cosine) learning rate, label smoothing;
* a :class:`History` of per-epoch rows (loss, accuracy, images/s, time, image size);
* a clear stop when the loss becomes NaN/inf or explodes (:class:`TrainingDiverged`);
* checkpoints as plain state dicts, loaded with ``torch.load(weights_only=True)``;
* under ``torchrun --nproc_per_node N`` each process holds its shard of the data on its
  own device and the metrics are summed over all processes (whole test set).

Command line (writes ``results.json``, ``history.csv`` and plots to ``--out``)::

    python -m effnet_core.train --budget gpu --mode both --out runs/cifar
    torchrun --nproc_per_node 4 -m effnet_core.train --budget gpu --out runs/ddp

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .augment import DeviceData, TrainAugment, eval_transform
from .configs import format_table
from .data import CIFAR10, load_cifar10
from .device import BUDGETS, pick_device
from .progressive import ProgressiveSchedule, plot_schedule


class TrainingDiverged(RuntimeError):
    """The training loss became NaN/inf or exploded."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a run except the model, the data and the schedule."""

    epochs: int = 10
    batch_size: int = 256
    lr: float = 0.2  # peak learning rate for batch_size 256; scaled linearly with batch size
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    lr_schedule: str = "onecycle"  # or "cosine"
    seed: int = 0
    eval_size: int | None = None  # test-time image size; None = the schedule's max_size
    eval_batch_size: int = 1000
    amp: bool = True  # only used on CUDA
    channels_last: bool | None = None  # None = on CUDA only
    progress: bool = True
    max_loss: float | None = None  # divergence threshold; None = 10 * ln(num_classes)
    checkpoint: str | None = None  # path written at the end of every epoch

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if self.lr_schedule not in ("onecycle", "cosine"):
            raise ValueError(f"lr_schedule must be 'onecycle' or 'cosine', got {self.lr_schedule!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


# Sizes per budget, shared by the chapter and the command line. The GPU budget is the full
# data set; the CPU budget a stratified subset that fits a few minutes on 2 cores.
PRESETS: dict[str, dict] = {
    "gpu": dict(train_size=None, test_size=None, width_mult=0.5, depth_mult=0.5,
                config=TrainConfig(epochs=40, batch_size=256)),
    "cpu": dict(train_size=4000, test_size=1000, width_mult=0.25, depth_mult=0.25,
                config=TrainConfig(epochs=8, batch_size=100, eval_batch_size=500)),
    "smoke": dict(train_size=200, test_size=100, width_mult=0.25, depth_mult=0.25,
                  config=TrainConfig(epochs=2, batch_size=50, progress=False)),
}  # fmt: skip


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


def set_dropout(model: nn.Module, p: float) -> None:
    """Set the rate of every ``nn.Dropout`` in ``model`` (the classifier's, in EfficientNet)."""
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    if p > 0 and not dropouts:
        raise ValueError(
            f"the schedule asks for dropout {p} but the model has no nn.Dropout; "
            "add one before its classifier or use min_dropout=max_dropout=0"
        )
    for m in dropouts:
        m.p = p


def _distributed() -> tuple[int, int]:
    """(rank, world size), starting the process group when launched by torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _sum_across(values: list[float], device: torch.device) -> list[float]:
    if not dist.is_initialized():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _amp(device: torch.device, enabled: bool) -> tuple[torch.dtype | None, torch.amp.GradScaler]:
    if not enabled or device.type != "cuda":
        return None, torch.amp.GradScaler("cuda", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return dtype, torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: DeviceData,
    *,
    image_size: int = 32,
    batch_size: int = 1000,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> dict[str, float]:
    """Test loss, accuracy and sample count at ``image_size``, summed over all DDP processes."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0.0
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for images, labels in data.batches(batch_size):
        x = eval_transform(images, image_size).contiguous(memory_format=fmt)
        with _autocast(data.device, amp_dtype):
            logits = model(x).float()
        loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
    model.train(was_training)
    loss_sum, correct, count = _sum_across([loss_sum, correct, float(len(data))], data.device)
    return {"loss": loss_sum / count, "acc": correct / count, "count": int(count)}


def save_checkpoint(path: str | Path, model: nn.Module, **extra: object) -> None:
    """Save ``model``'s state dict plus plain-data ``extra`` (epoch, history, settings, ...)."""
    module = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"model": module.state_dict(), **extra}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, model: nn.Module, optimizer=None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``) into ``model``.

    Returns the whole checkpoint dict; restores ``optimizer`` too if given and saved.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    return state


def _check_loss(loss: float, limit: float, epoch: int, step: int, lr: float) -> None:
    if not math.isfinite(loss) or loss > limit:
        raise TrainingDiverged(
            f"training diverged at epoch {epoch + 1}, step {step}: loss {loss:.4g} "
            f"(limit {limit:.3g}) with learning rate {lr:.3g}. Lower the learning rate "
            "(TrainConfig.lr), or check the data and the model for NaNs."
        )


def train(
    model: nn.Module,
    data: CIFAR10,
    schedule: ProgressiveSchedule,
    config: TrainConfig = TrainConfig(),
    device: torch.device | str | None = None,
    label: str = "",
) -> History:
    """Train ``model`` on ``data`` following ``schedule``; return the per-epoch :class:`History`.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) the process group is started here, every process
    trains on its shard with ``batch_size // world_size`` images per step (the same
    ``(N // batch_size) * batch_size`` training samples per epoch as one process) and the
    test metrics cover the whole test set.
    """
    rank, world = _distributed()
    device = pick_device() if device is None else torch.device(device)
    if device.type == "cuda" and device.index is None and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if config.batch_size % world:
        raise ValueError(f"batch_size ({config.batch_size}) must be divisible by {world} processes")
    num_classes = len(data.classes)
    train_set = DeviceData(data.train_images, data.train_labels, device).shard(rank, world)
    test_set = DeviceData(data.test_images, data.test_labels, device).shard(rank, world)
    steps = len(data.train_labels) // config.batch_size
    if steps == 0:
        raise ValueError(
            f"batch_size ({config.batch_size}) is larger than the training set ({len(data.train_labels)})"
        )
    local_batch = config.batch_size // world

    torch.manual_seed(config.seed + rank)
    generator = torch.Generator().manual_seed(config.seed + rank)
    amp_dtype, scaler = _amp(device, config.amp)
    channels_last = device.type == "cuda" if config.channels_last is None else config.channels_last
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device, memory_format=fmt)
    net = model
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)

    lr = config.lr * config.batch_size / 256
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=config.momentum, nesterov=True,
        weight_decay=config.weight_decay,
    )  # fmt: skip
    total = config.epochs * steps
    if config.lr_schedule == "onecycle":
        lr_sched = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)
    else:
        lr_sched = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    limit = config.max_loss if config.max_loss is not None else 10 * math.log(num_classes)
    eval_size = config.eval_size or schedule.max_size

    history = History()
    train_time = 0.0
    for epoch in range(config.epochs):
        stage = schedule.stage_for_epoch(epoch, config.epochs)
        augment = TrainAugment(
            image_size=stage.image_size, magnitude=stage.magnitude,
            mixup_alpha=stage.mixup_alpha, num_classes=num_classes,
        )  # fmt: skip
        set_dropout(model, stage.dropout)
        net.train()
        _sync(device)
        start = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        bar = tqdm(
            total=steps, disable=not config.progress or rank != 0,
            desc=f"{label} epoch {epoch + 1}/{config.epochs} @ {stage.image_size}px".strip(),
        )  # fmt: skip
        for step, (images, labels) in enumerate(train_set.batches(local_batch, generator, steps=steps)):
            x, targets = augment(images, labels, generator)
            x = x.contiguous(memory_format=fmt)
            with _autocast(device, amp_dtype):
                logits = net(x)
            loss = F.cross_entropy(logits.float(), targets, label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            lr_sched.step()
            loss_sum += loss.detach() * len(x)
            correct += (logits.argmax(1) == targets.argmax(1)).sum()
            if step % 20 == 0 or step == steps - 1:
                value = loss.item()
                _check_loss(value, limit, epoch, step, lr_sched.get_last_lr()[0])
                bar.set_postfix(loss=f"{value:.3f}", refresh=False)
            bar.update()
        _sync(device)
        epoch_time = time.perf_counter() - start
        train_time += epoch_time
        seen = steps * local_batch
        loss_total, correct_total, seen_total = _sum_across(
            [loss_sum.item(), correct.item(), float(seen)], device
        )
        _check_loss(loss_total / seen_total, limit, epoch, steps, lr_sched.get_last_lr()[0])
        test = evaluate(
            model, test_set, image_size=eval_size, batch_size=config.eval_batch_size,
            amp_dtype=amp_dtype, channels_last=channels_last,
        )  # fmt: skip
        row = {
            "epoch": epoch + 1,
            "stage": stage.index + 1,
            "image_size": stage.image_size,
            "magnitude": stage.magnitude,
            "mixup_alpha": stage.mixup_alpha,
            "dropout": stage.dropout,
            "samples": int(seen_total),
            "train_loss": loss_total / seen_total,
            "train_acc": correct_total / seen_total,
            "test_loss": test["loss"],
            "test_acc": test["acc"],
            "test_samples": test["count"],
            "images_per_s": seen_total / epoch_time,
            "epoch_time_s": epoch_time,
            "train_time_s": train_time,
        }
        history.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", test_acc=f"{row['test_acc']:.3f}")
        bar.close()
        if config.checkpoint and rank == 0:
            save_checkpoint(
                config.checkpoint, model, optimizer=optimizer.state_dict(), epoch=epoch + 1,
                history=list(history), schedule=schedule.as_dict(), config=asdict(config),
            )  # fmt: skip
    return history


def compare_fixed_progressive(
    model_fn: Callable[[], nn.Module],
    data: CIFAR10,
    schedule: ProgressiveSchedule,
    config: TrainConfig = TrainConfig(),
    device: torch.device | str | None = None,
) -> dict[str, tuple[nn.Module, History]]:
    """Train ``model_fn()`` twice with the same seed and epochs: fixed size, then progressive.

    The fixed baseline trains every epoch at the schedule's final size and regularization
    (:meth:`ProgressiveSchedule.fixed`). Returns ``{"fixed": (model, history),
    "progressive": (model, history)}``.
    """
    results = {}
    for name, sched in (("fixed", schedule.fixed()), ("progressive", schedule)):
        torch.manual_seed(config.seed)
        model = model_fn()
        results[name] = (model, train(model, data, sched, config, device, label=name))
    return results


def time_to_accuracy(history: Sequence[dict], target: float) -> float | None:
    """Training seconds until the test accuracy first reaches ``target`` (None if never)."""
    for row in history:
        if row["test_acc"] >= target:
            return row["train_time_s"]
    return None


def resolution_sweep(
    model: nn.Module, data: DeviceData, sizes: Sequence[int], batch_size: int = 1000
) -> list[dict]:
    """Test accuracy of a trained model at several test-time image sizes (FixRes)."""
    return [
        {"image_size": s, **evaluate(model, data, image_size=s, batch_size=batch_size)} for s in sizes
    ]


def plot_accuracy_vs_time(histories: dict[str, Sequence[dict]], ax=None):
    """Test accuracy against cumulative training time, one line per run. Returns the figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    for name, history in histories.items():
        times = [0.0] + [row["train_time_s"] for row in history]
        accs = [0.1] + [row["test_acc"] for row in history]  # chance level before training
        ax.plot(times, accs, marker="o", label=name)
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax.figure


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m effnet_core.train",
        description="Train a small EfficientNetV2 on CIFAR-10, fixed-size and/or progressive.",
    )
    parser.add_argument("--budget", choices=BUDGETS, default=None,
                        help="preset sizes (default: gpu on CUDA, else cpu)")
    parser.add_argument("--mode", choices=("fixed", "progressive", "both"), default="both")
    parser.add_argument("--out", type=Path, default=Path("runs/progressive"),
                        help="folder for results.json, history_*.csv and plots")
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
    from .model import efficientnet_v2_cifar

    matplotlib.use("Agg")
    args = _parse_args(argv)
    rank, _ = _distributed()
    device = pick_device(args.device)
    budget = args.budget or ("gpu" if device.type == "cuda" else "cpu")
    preset = PRESETS[budget]

    def pick(value: object, key: str) -> object:
        return preset[key] if value is None else value

    base = preset["config"]
    config = replace(
        base,
        epochs=args.epochs or base.epochs,
        batch_size=args.batch_size or base.batch_size,
        lr=args.lr or base.lr,
        seed=args.seed,
        progress=not args.no_progress,
    )
    data = load_cifar10(
        args.data_root, train_size=pick(args.train_size, "train_size"),
        test_size=pick(args.test_size, "test_size"), seed=args.seed,
    )  # fmt: skip
    schedule = ProgressiveSchedule(
        num_stages=args.stages, min_size=args.min_size, max_size=args.max_size
    )

    def model_fn() -> nn.Module:
        return efficientnet_v2_cifar(
            num_classes=len(data.classes),
            width_mult=pick(args.width_mult, "width_mult"),
            depth_mult=pick(args.depth_mult, "depth_mult"),
        )

    modes = ("fixed", "progressive") if args.mode == "both" else (args.mode,)
    histories = {}
    for mode in modes:
        torch.manual_seed(config.seed)
        sched = schedule.fixed() if mode == "fixed" else schedule
        histories[mode] = train(model_fn(), data, sched, config, args.device, label=mode)
    results = {
        "budget": budget,
        "device": str(device),
        "world_size": dist.get_world_size() if dist.is_initialized() else 1,
        "train_size": len(data.train_labels),
        "test_size": len(data.test_labels),
        "schedule": schedule.as_dict(),
        "config": asdict(config),
        "runs": {
            mode: {
                "final_test_acc": h[-1]["test_acc"],
                "train_time_s": h[-1]["train_time_s"],
                "history": list(h),
            }
            for mode, h in histories.items()
        },
    }
    if rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
        for mode, h in histories.items():
            h.to_csv(args.out / f"history_{mode}.csv")
            print(f"{mode}:\n{h}")
        plot_accuracy_vs_time(histories).savefig(args.out / "accuracy_vs_time.png", dpi=120)
        plot_schedule(schedule, config.epochs).savefig(args.out / "schedule.png", dpi=120)
        print(f"wrote {args.out}/results.json, history_*.csv, accuracy_vs_time.png, schedule.png")
    if dist.is_initialized():
        dist.destroy_process_group()
    return results


if __name__ == "__main__":
    main()
