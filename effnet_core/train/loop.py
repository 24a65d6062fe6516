"""The training loop: one epoch you can read top to bottom, and the run around it.

:func:`train_one_epoch` is the whole of training (batches in, augment, forward, loss, backward,
step, log); :func:`train` sets up the optimizer and schedules, runs the epochs of a
:class:`~effnet_core.progressive.ProgressiveSchedule` and records a
:class:`~effnet_core.train.History`. DDP and checkpoints live in their own modules beside this one;
mixed precision in :mod:`effnet_core.precision`.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..augment import DeviceData, TrainAugment, device_generator, eval_transform
from ..data import CIFAR10
from ..device import pick_device, synchronize
from ..precision import Precision, choose_precision
from ..progressive import ProgressiveSchedule, Stage
from .checkpoint import save_checkpoint
from .config import TrainConfig
from .distributed import init_distributed, local_device, sum_across
from .history import History

LOG_EVERY = 20  # steps between loss checks: each one waits for the device (.item())


class TrainingDiverged(RuntimeError):
    """The training loss became NaN/inf or exploded."""


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


def check_loss(loss: float, limit: float, where: str, lr: float) -> None:
    """Raise :class:`TrainingDiverged` if ``loss`` is NaN/inf or above ``limit``."""
    if not math.isfinite(loss) or loss > limit:
        raise TrainingDiverged(
            f"training diverged at {where}: loss {loss:.4g} (limit {limit:.3g}) with learning "
            f"rate {lr:.3g}. Lower the learning rate (TrainConfig.lr), or check the data and the "
            "model for NaNs."
        )


@dataclass
class Run:
    """What every step of a run needs: the network, its optimizer and schedules, and settings."""

    net: nn.Module  # the model, or its DDP wrapper
    optimizer: torch.optim.Optimizer
    lr_schedule: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    precision: Precision
    device: torch.device
    memory_format: torch.memory_format
    label_smoothing: float
    loss_limit: float


def train_one_epoch(run: Run, batches: Iterable, steps: int, augment: TrainAugment,
                    generator: torch.Generator, epoch: int, bar: tqdm) -> tuple[torch.Tensor, torch.Tensor]:
    """Train on ``steps`` batches; return the summed loss and the correct count (on the device).

    Nothing in a step waits for the device except the loss check: the loss is read back
    (``.item()``, which waits for the device) every :data:`LOG_EVERY` steps and at the last one,
    to stop a diverging run and to show it on the progress bar.
    """
    run.net.train()
    generator = device_generator(generator, run.device)  # random parameters drawn on the device
    loss_sum = torch.zeros((), device=run.device)
    correct = torch.zeros((), device=run.device)
    for step, (images, labels) in enumerate(batches):
        x, targets = augment(images, labels, generator)  # augment
        x = x.contiguous(memory_format=run.memory_format)
        with run.precision.autocast():  # forward
            logits = run.net(x)
        loss = F.cross_entropy(logits.float(), targets, label_smoothing=run.label_smoothing)
        run.optimizer.zero_grad(set_to_none=True)  # backward
        run.scaler.scale(loss).backward()
        run.scaler.step(run.optimizer)  # step
        run.scaler.update()
        run.lr_schedule.step()
        with torch.no_grad():  # log
            loss_sum.add_(loss, alpha=len(x))
            correct += (logits.argmax(1) == targets.argmax(1)).sum()
        if step % LOG_EVERY == 0 or step == steps - 1:
            value = loss.item()
            check_loss(value, run.loss_limit, f"epoch {epoch + 1}, step {step}",
                       run.lr_schedule.get_last_lr()[0])
            bar.set_postfix(loss=f"{value:.3f}", refresh=False)
        bar.update()
    return loss_sum, correct


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: DeviceData,
    *,
    image_size: int = 32,
    batch_size: int = 1000,
    precision: Precision | None = None,
    channels_last: bool = False,
) -> dict[str, float]:
    """Test loss, accuracy and sample count at ``image_size``, summed over all DDP processes.

    The sums stay on the device until the end: one read-back for the whole test set.
    """
    was_training = model.training
    model.eval()
    precision = precision or choose_precision(data.device, enabled=False)
    sums = torch.zeros(2, device=data.device)  # loss, correct
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for images, labels in data.batches(batch_size):
        x = eval_transform(images, image_size).contiguous(memory_format=fmt)
        with precision.autocast():
            logits = model(x).float()
        sums += torch.stack([F.cross_entropy(logits, labels, reduction="sum"),
                             (logits.argmax(1) == labels).sum()])
    model.train(was_training)
    loss_sum, correct, count = sum_across([*sums.tolist(), float(len(data))], data.device)
    return {"loss": loss_sum / count, "acc": correct / count, "count": int(count)}


class CompiledOrPlain(nn.Module):
    """``torch.compile(module)`` that falls back, for good and with a warning, to the plain
    module if compiling fails (no compiler, an unsupported GPU or op). Shares its parameters."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module
        self.compiled: Callable | None = torch.compile(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.compiled is not None:
            try:
                return self.compiled(x)
            except Exception as error:  # noqa: BLE001  (any compiler failure: run eagerly instead)
                warnings.warn(f"torch.compile failed ({type(error).__name__}: {error}); "
                              "training without it", RuntimeWarning, stacklevel=2)
                self.compiled = None
        return self.module(x)


def _setup(model: nn.Module, config: TrainConfig, device: torch.device, world: int, steps: int,
           num_classes: int) -> Run:
    """Move the model to the device, wrap it for DDP (and torch.compile), make the optimizer and
    LR schedule. On CUDA, cuDNN benchmarks its convolution algorithms once per input shape."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    precision = choose_precision(device, config.amp)
    channels_last = device.type == "cuda" if config.channels_last is None else config.channels_last
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(device, memory_format=fmt)
    net = model
    if world > 1:
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        net = CompiledOrPlain(net)
    lr = config.lr * config.batch_size / 256
    # fused: one kernel for all parameters, and GradScaler hands it the inf check instead of
    # reading it back (.item()) to decide whether to step; it always steps, so the LR schedule
    # never warns about a step skipped by the scaler
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=config.momentum, nesterov=True,
                                weight_decay=config.weight_decay, fused=device.type in ("cuda", "cpu"))
    total = config.epochs * steps
    if config.lr_schedule == "onecycle":
        lr_schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)
    else:
        lr_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    limit = config.max_loss if config.max_loss is not None else 10 * math.log(num_classes)
    return Run(net, optimizer, lr_schedule, precision.scaler(), precision, device, fmt,
               config.label_smoothing, limit)


def _epoch_row(epoch: int, stage: Stage, totals: list[float], test: dict[str, float],
               epoch_time: float, train_time: float) -> dict[str, object]:
    loss_total, correct_total, seen_total = totals
    return {
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


def train(
    model: nn.Module,
    data: CIFAR10,
    schedule: ProgressiveSchedule,
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
    label: str = "",
) -> History:
    """Train ``model`` on ``data`` following ``schedule``; return the per-epoch :class:`History`.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) the process group is started here, every process
    trains on its shard with ``batch_size // world_size`` images per step (the same
    ``(N // batch_size) * batch_size`` training samples per epoch as one process) and the
    test metrics cover the whole test set. ``config`` defaults to ``TrainConfig()``.
    """
    config = config or TrainConfig()
    rank, world = init_distributed()
    device = local_device(pick_device() if device is None else torch.device(device), world)
    if config.batch_size % world:
        raise ValueError(f"batch_size ({config.batch_size}) must be divisible by {world} processes")
    steps = len(data.train_labels) // config.batch_size
    if steps == 0:
        raise ValueError(
            f"batch_size ({config.batch_size}) is larger than the training set ({len(data.train_labels)})"
        )
    train_set = DeviceData(data.train_images, data.train_labels, device).shard(rank, world)
    test_set = DeviceData(data.test_images, data.test_labels, device).shard(rank, world)
    local_batch = config.batch_size // world
    torch.manual_seed(config.seed + rank)
    generator = torch.Generator().manual_seed(config.seed + rank)
    run = _setup(model, config, device, world, steps, len(data.classes))
    history, train_time = History(), 0.0
    for epoch in range(config.epochs):
        stage = schedule.stage_for_epoch(epoch, config.epochs)
        augment = TrainAugment(image_size=stage.image_size, magnitude=stage.magnitude,
                               mixup_alpha=stage.mixup_alpha, num_classes=len(data.classes))
        set_dropout(model, stage.dropout)
        bar = tqdm(total=steps, disable=not config.progress or rank != 0,
                   desc=f"{label} epoch {epoch + 1}/{config.epochs} @ {stage.image_size}px".strip())
        synchronize(device)
        start = time.perf_counter()
        batches = train_set.batches(local_batch, generator, steps=steps)
        loss_sum, correct = train_one_epoch(run, batches, steps, augment, generator, epoch, bar)
        synchronize(device)
        epoch_time = time.perf_counter() - start
        train_time += epoch_time
        totals = sum_across([loss_sum.item(), correct.item(), float(steps * local_batch)], device)
        check_loss(totals[0] / totals[2], run.loss_limit, f"the end of epoch {epoch + 1}",
                   run.lr_schedule.get_last_lr()[0])
        test = evaluate(model, test_set, image_size=config.eval_size or schedule.max_size,
                        batch_size=config.eval_batch_size, precision=run.precision,
                        channels_last=run.memory_format == torch.channels_last)
        history.append(_epoch_row(epoch, stage, totals, test, epoch_time, train_time))
        bar.set_postfix(loss=f"{history[-1]['train_loss']:.3f}", test_acc=f"{test['acc']:.3f}")
        bar.close()
        if config.checkpoint and rank == 0:
            save_checkpoint(config.checkpoint, model, optimizer=run.optimizer.state_dict(),
                            epoch=epoch + 1, history=list(history), schedule=schedule.as_dict(),
                            config=asdict(config))
    return history


def compare_fixed_progressive(
    model_fn: Callable[[], nn.Module],
    data: CIFAR10,
    schedule: ProgressiveSchedule,
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
) -> dict[str, tuple[nn.Module, History]]:
    """Train ``model_fn()`` twice with the same seed and epochs: fixed size, then progressive.

    The fixed baseline trains every epoch at the schedule's final size and regularization
    (:meth:`ProgressiveSchedule.fixed`). Returns ``{"fixed": (model, history),
    "progressive": (model, history)}``. ``config`` defaults to ``TrainConfig()``.
    """
    config = config or TrainConfig()
    results = {}
    for name, sched in (("fixed", schedule.fixed()), ("progressive", schedule)):
        torch.manual_seed(config.seed)
        model = model_fn()
        results[name] = (model, train(model, data, sched, config, device, label=name))
    return results


def resolution_sweep(
    model: nn.Module, data: DeviceData, sizes: Sequence[int], batch_size: int = 1000, *,
    amp: bool = True, channels_last: bool | None = None,
) -> list[dict]:
    """Test accuracy of a trained model at several test-time image sizes (FixRes).

    Runs as training did: mixed precision per :func:`~effnet_core.precision.choose_precision`
    (``amp``) and channels-last inputs on CUDA (``channels_last=None``).
    """
    precision = choose_precision(data.device, amp)
    channels_last = data.device.type == "cuda" if channels_last is None else channels_last
    return [
        {"image_size": s, **evaluate(model, data, image_size=s, batch_size=batch_size,
                                     precision=precision, channels_last=channels_last)}
        for s in sizes
    ]
