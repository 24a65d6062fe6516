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
from ..counting import count_macs
from ..cpu_depthwise import speed_up_small_depthwise
from ..data import CIFAR10
from ..device import pick_device, synchronize
from ..precision import Precision, choose_precision
from ..progressive import ProgressiveSchedule, Stage
from .checkpoint import save_state
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


def use_channels_last(device: torch.device) -> bool:
    """Whether ``channels_last`` trains faster on ``device``: on CUDA, and on CPU as measured.

    On CPU ``benchmarks/cpu_training_step.py`` measured a training step of the chapter's network
    at the ``cpu`` schedule's sizes (16-32 px) with 1 and 2 threads: channels_last was faster in 7
    of the 8 cases, by 8-41%, and 7% slower in one (16 px, 2 threads); its results file has the
    numbers. On other devices (MPS) it was not measured, so they keep the default layout.
    """
    return device.type in ("cuda", "cpu")


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
    channels_last = use_channels_last(device) if config.channels_last is None else config.channels_last
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
               epoch_time: float, train_time: float, macs: int) -> dict[str, object]:
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
        "train_macs": macs,
    }


def _rng_state(device: torch.device) -> list[torch.Tensor]:
    cuda = [torch.cuda.get_rng_state(device)] if device.type == "cuda" else []
    return [torch.get_rng_state(), *cuda]


def _set_rng_state(device: torch.device, state: list[torch.Tensor]) -> None:
    torch.set_rng_state(state[0])
    if device.type == "cuda":
        torch.cuda.set_rng_state(state[1], device)


class Trainer:
    """One training run, an epoch at a time: :meth:`run_epoch` trains and tests the next epoch.

    Each trainer keeps its own random state (batch order, augmentation, dropout), so runs
    interleaved epoch by epoch (:func:`train_interleaved`) give the same histories as runs made
    one after the other, and share the machine's load fairly. Under ``torchrun`` every process
    trains on its shard with ``batch_size // world_size`` images per step. ``history`` rows also
    record ``train_macs``, the multiply-accumulates processed so far (samples x
    :func:`~effnet_core.count_macs` at each epoch's image size): a clock that load cannot skew.
    """

    def __init__(self, model: nn.Module, data: CIFAR10, schedule: ProgressiveSchedule,
                 config: TrainConfig | None = None, device: torch.device | str | None = None,
                 label: str = "") -> None:
        self.config = config = config or TrainConfig()
        self.rank, world = init_distributed()
        self.device = local_device(pick_device() if device is None else torch.device(device), world)
        if config.batch_size % world:
            raise ValueError(f"batch_size ({config.batch_size}) must be divisible by {world} processes")
        self.steps = len(data.train_labels) // config.batch_size
        if self.steps == 0:
            raise ValueError(f"batch_size ({config.batch_size}) is larger than the training set "
                             f"({len(data.train_labels)})")
        self.model, self.schedule, self.label = model, schedule, label
        self.num_classes = len(data.classes)
        self.train_set = DeviceData(data.train_images, data.train_labels, self.device).shard(self.rank, world)
        self.test_set = DeviceData(data.test_images, data.test_labels, self.device).shard(self.rank, world)
        self.local_batch = config.batch_size // world
        self.macs_per_image = {s.image_size: count_macs(model, s.image_size) for s in schedule.stages()}
        if self.device.type == "cpu":
            speed_up_small_depthwise(model)  # oneDNN's depthwise weight gradient is slow on tiny maps
        outer = _rng_state(self.device)
        torch.manual_seed(config.seed + self.rank)
        self.generator = torch.Generator().manual_seed(config.seed + self.rank)
        self.run = _setup(model, config, self.device, world, self.steps, self.num_classes)
        self.rng = _rng_state(self.device)
        _set_rng_state(self.device, outer)
        self.history, self.train_time, self.macs = History(), 0.0, 0

    @property
    def epoch(self) -> int:
        """Epochs finished so far."""
        return len(self.history)

    @property
    def done(self) -> bool:
        """Whether all ``config.epochs`` epochs are finished."""
        return self.epoch >= self.config.epochs

    def run_epoch(self) -> dict[str, object]:
        """Train and test the next epoch; return its :class:`History` row."""
        config, run, epoch = self.config, self.run, self.epoch
        stage = self.schedule.stage_for_epoch(epoch, config.epochs)
        augment = TrainAugment(image_size=stage.image_size, magnitude=stage.magnitude,
                               mixup_alpha=stage.mixup_alpha, num_classes=self.num_classes)
        set_dropout(self.model, stage.dropout)
        bar = tqdm(total=self.steps, disable=not config.progress or self.rank != 0,
                   desc=f"{self.label} epoch {epoch + 1}/{config.epochs} @ {stage.image_size}px".strip())
        outer = _rng_state(self.device)
        _set_rng_state(self.device, self.rng)
        synchronize(self.device)
        start = time.perf_counter()
        batches = self.train_set.batches(self.local_batch, self.generator, steps=self.steps)
        loss_sum, correct = train_one_epoch(run, batches, self.steps, augment, self.generator, epoch, bar)
        synchronize(self.device)
        epoch_time = time.perf_counter() - start
        self.rng = _rng_state(self.device)
        _set_rng_state(self.device, outer)
        self.train_time += epoch_time
        totals = sum_across([loss_sum.item(), correct.item(), float(self.steps * self.local_batch)],
                            self.device)
        self.macs += int(totals[2]) * self.macs_per_image[stage.image_size]
        check_loss(totals[0] / totals[2], run.loss_limit, f"the end of epoch {epoch + 1}",
                   run.lr_schedule.get_last_lr()[0])
        test = evaluate(self.model, self.test_set, image_size=config.eval_size or self.schedule.max_size,
                        batch_size=config.eval_batch_size, precision=run.precision,
                        channels_last=run.memory_format == torch.channels_last)
        self.history.append(_epoch_row(epoch, stage, totals, test, epoch_time, self.train_time, self.macs))
        bar.set_postfix(loss=f"{self.history[-1]['train_loss']:.3f}", test_acc=f"{test['acc']:.3f}")
        bar.close()
        return self.history[-1]

    def state_dict(self) -> dict[str, object]:
        """Everything needed to continue this run later (plain data, for ``weights_only`` loads)."""
        module = self.model.module if isinstance(self.model, nn.parallel.DistributedDataParallel) \
            else self.model
        return {"model": module.state_dict(), "optimizer": self.run.optimizer.state_dict(),
                "lr_schedule": self.run.lr_schedule.state_dict(), "scaler": self.run.scaler.state_dict(),
                "generator": self.generator.get_state(), "rng": self.rng, "epoch": self.epoch,
                "history": list(self.history), "train_time_s": self.train_time, "train_macs": self.macs,
                "schedule": self.schedule.as_dict(), "config": asdict(self.config)}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict` of a run with the same schedule and settings."""
        self.model.load_state_dict(state["model"])
        self.run.optimizer.load_state_dict(state["optimizer"])
        self.run.lr_schedule.load_state_dict(state["lr_schedule"])
        self.run.scaler.load_state_dict(state["scaler"])
        self.generator.set_state(state["generator"])
        self.rng = list(state["rng"])
        self.history = History(state["history"])
        self.train_time, self.macs = state["train_time_s"], state["train_macs"]


def train(
    model: nn.Module,
    data: CIFAR10,
    schedule: ProgressiveSchedule,
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
    label: str = "",
) -> History:
    """Train ``model`` on ``data`` following ``schedule``; return the per-epoch :class:`History`.

    The whole run of a :class:`Trainer`; with ``config.checkpoint`` set, the run is saved at
    the end of every epoch (:meth:`Trainer.state_dict`). ``config`` defaults to ``TrainConfig()``.
    """
    trainer = Trainer(model, data, schedule, config, device, label)
    while not trainer.done:
        trainer.run_epoch()
        if trainer.config.checkpoint and trainer.rank == 0:
            save_state(trainer.config.checkpoint, trainer.state_dict())
    return trainer.history


def train_interleaved(
    model_fn: Callable[[], nn.Module],
    data: CIFAR10,
    schedules: dict[str, ProgressiveSchedule],
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
    resume: dict[str, dict] | None = None,
    meta: dict | None = None,
) -> dict[str, tuple[nn.Module, History]]:
    """Train one ``model_fn()`` per schedule, same seed and epochs, interleaved epoch by epoch.

    Epoch 1 of every run, then epoch 2 of every run, and so on: a change in the machine's load
    hits all runs alike. With ``config.checkpoint`` set, all runs are saved together after each
    round (``{"runs": {name: state}, **meta}``); ``resume`` (that file's ``"runs"``) continues them.
    """
    config = config or TrainConfig()
    trainers = {}
    for name, schedule in schedules.items():
        torch.manual_seed(config.seed)
        trainers[name] = Trainer(model_fn(), data, schedule, config, device, label=name)
        if resume is not None:
            trainers[name].load_state_dict(resume[name])
    while not all(t.done for t in trainers.values()):
        for trainer in trainers.values():
            trainer.run_epoch()
        if config.checkpoint and next(iter(trainers.values())).rank == 0:
            runs = {name: t.state_dict() for name, t in trainers.items()}
            save_state(config.checkpoint, {**(meta or {}), "runs": runs})
    return {name: (t.model, t.history) for name, t in trainers.items()}


def compare_fixed_progressive(
    model_fn: Callable[[], nn.Module],
    data: CIFAR10,
    schedule: ProgressiveSchedule,
    config: TrainConfig | None = None,
    device: torch.device | str | None = None,
) -> dict[str, tuple[nn.Module, History]]:
    """Train ``model_fn()`` twice with the same seed and epochs, fixed size and progressive.

    The fixed baseline trains every epoch at the schedule's final size and regularization
    (:meth:`ProgressiveSchedule.fixed`); the two runs alternate epoch by epoch
    (:func:`train_interleaved`). Returns ``{"fixed": (model, history), "progressive": (model,
    history)}``. ``config`` defaults to ``TrainConfig()``.
    """
    return train_interleaved(model_fn, data, {"fixed": schedule.fixed(), "progressive": schedule},
                             config, device)


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
