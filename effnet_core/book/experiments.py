"""Small CIFAR-10 experiments behind chapters 01, 03, 04 and 06: a proxy network, the runs, the verdict.

Each experiment compares two or more *arms* (variants of one small MBConv network) over several
seeds. ``benchmarks/chapter_experiments.py --experiment NAME`` trains every arm on every seed and
writes ``effnet_core/book/records/experiment_<name>_cpu.json`` with its provenance; the chapters read that
record (:func:`load_record`), run one small live seed (:func:`run_arm`) and glue :func:`verdict`.
Introduced in the chapter "Swish" and used again in "Squeeze-and-Excitation", "MBConv" and
"Compound scaling".
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

import effnet_core as ec

REPO = Path(__file__).resolve().parents[2]
RECORDS = Path(__file__).resolve().parent / "records"  # shipped with the package (Colab reads them too)
ACTIVATIONS = {"swish": nn.SiLU, "relu": nn.ReLU}
PROJECTIONS = ("linear", "relu")
# (expand ratio, kernel, stride, channels, repeats) after a 16-channel stride-2 stem; 128-wide head
PROXY_STAGES = ((1, 3, 1, 16, 1), (4, 3, 2, 24, 2), (4, 3, 2, 40, 2))


@dataclass(frozen=True)
class ProxySpec:
    """One arm: a few-block MBConv network's width, depth, input size, activation, SE and projection."""

    width: float = 1.0
    depth: float = 1.0
    resolution: int = 32
    activation: str = "swish"
    se: bool = True
    projection: str = "linear"

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.projection not in PROJECTIONS:
            raise ValueError(f"projection must be one of {PROJECTIONS}, got {self.projection!r}")
        if not (self.width > 0 and self.depth > 0 and self.resolution >= 8):
            raise ValueError(f"width and depth must be > 0 and resolution >= 8, got {self}")


def _channels(channels: int, width: float) -> int:
    return ec.make_divisible(channels * width, 4)


def proxy_net(spec: ProxySpec, num_classes: int = 10) -> nn.Sequential:
    """The experiments' network: stem, three MBConv stages (:data:`PROXY_STAGES`), head, classifier."""
    act = ACTIVATIONS[spec.activation]
    stem = _channels(16, spec.width)
    layers: list[nn.Module] = [ec.ConvBNAct(3, stem, 3, 2, activation=act)]
    c_in = stem
    for expand, kernel, stride, channels, repeats in PROXY_STAGES:
        c_out = _channels(channels, spec.width)
        for i in range(ec.round_repeats(repeats, spec.depth)):
            block = ec.MBConv(c_in, c_out, expand, kernel, stride if i == 0 else 1,
                              se_ratio=0.25 if spec.se else None, activation=act)
            if spec.projection == "relu":
                block.block.append(nn.ReLU())
            layers.append(block)
            c_in = c_out
    head = _channels(128, spec.width)
    layers += [ec.ConvBNAct(c_in, head, 1, activation=act), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(head, num_classes)]
    return nn.Sequential(*layers)


@functools.cache
def proxy_macs(spec: ProxySpec) -> int:
    """Multiply-accumulates of one image through :func:`proxy_net` at ``spec.resolution``."""
    return ec.count_macs(proxy_net(spec), spec.resolution)


def matched_scaling_arms(alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15,
                         phi: float = 1.0) -> dict[str, ProxySpec]:
    """Compound scaling by ``phi`` and, at the closest MACs, width alone, depth alone, resolution alone.

    Each single dimension is searched on a grid (width in steps of 0.05, depth in steps of 0.25,
    resolution in steps of 4 px) for the value whose MACs are nearest the compound network's.
    Slow (a few dozen MAC counts): :data:`SCALING_ARMS` holds its result, checked by a test.
    """
    compound = ProxySpec(width=round(beta**phi, 3), depth=round(alpha**phi, 3),
                         resolution=4 * round(32 * gamma**phi / 4))
    target = math.log(proxy_macs(compound))
    grids = {"width": [ProxySpec(width=round(1 + 0.05 * i, 2)) for i in range(1, 16)],
             "depth": [ProxySpec(depth=1 + 0.25 * i) for i in range(1, 9)],
             "resolution": [ProxySpec(resolution=32 + 4 * i) for i in range(1, 6)]}
    arms = {f"{name} only": min(specs, key=lambda s: abs(math.log(proxy_macs(s)) - target))
            for name, specs in grids.items()}
    return {**arms, "compound": compound}


SCALING_ARMS = {"width only": ProxySpec(width=1.6), "depth only": ProxySpec(depth=2.25),
                "resolution only": ProxySpec(resolution=48),
                "compound": ProxySpec(width=1.1, depth=1.2, resolution=36)}


@dataclass(frozen=True)
class Experiment:
    """A question, its arms, the metrics recorded and the sizes of the recorded run."""

    name: str
    chapter: str
    arms: dict[str, ProxySpec]
    metrics: tuple[str, ...] = ("test_acc",)
    train_size: int = 1500
    test_size: int = 500
    epochs: int = 3
    batch_size: int = 50
    lr: float = 0.4
    seeds: tuple[int, ...] = (0, 1, 2)
    extra: dict = field(default_factory=dict)

    def settings(self) -> dict:
        """Everything that decides the results, as plain JSON (compared with the record by a test)."""
        return json.loads(json.dumps(asdict(self)))


NAMES = ("swish_relu", "se", "projection", "scaling")


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name`` (one of :data:`NAMES`); only ``scaling`` counts MACs."""
    if name == "swish_relu":
        return Experiment(name, "01_swish", {"swish": ProxySpec(), "relu": ProxySpec(activation="relu")},
                          metrics=("test_acc", "dead_fraction"))
    if name == "se":
        return Experiment(name, "03_squeeze_excitation",
                          {"with SE": ProxySpec(), "without SE": ProxySpec(se=False)})
    if name == "projection":
        return Experiment(name, "04_mbconv", {"linear": ProxySpec(), "relu": ProxySpec(projection="relu")})
    if name == "scaling":
        return Experiment(name, "06_compound_scaling", SCALING_ARMS,
                          extra={"macs": {arm: proxy_macs(spec) for arm, spec in SCALING_ARMS.items()}})
    raise ValueError(f"experiment must be one of {NAMES}, got {name!r}")


def dead_fraction(model: nn.Module, images: torch.Tensor) -> float:
    """Share of activation channels whose input is <= 0 at every position of every image.

    For ReLU such a channel outputs zero and passes no gradient: a dead unit. Swish still passes a
    small gradient there, so the same count measures how many channels sit in the negative half.
    """
    highest: list[torch.Tensor] = []

    def hook(_module: nn.Module, inputs: tuple[torch.Tensor]) -> None:
        highest.append(inputs[0].transpose(0, 1).flatten(1).amax(dim=1))

    handles = [m.register_forward_pre_hook(hook) for m in model.modules()
               if isinstance(m, (nn.ReLU, nn.SiLU))]
    model.eval()
    with torch.no_grad():
        model(images)
    for handle in handles:
        handle.remove()
    channels = torch.cat(highest)
    return float((channels <= 0).float().mean())


def run_arm(experiment: Experiment, arm: str, seed: int, device: torch.device | str = "cpu",
            **sizes: int) -> dict:
    """Train ``arm`` of ``experiment`` on ``seed`` with ``ec.train``; its final numbers and history.

    ``sizes`` overrides ``train_size``, ``test_size``, ``epochs`` or ``batch_size`` (the live runs).
    """
    if arm not in experiment.arms:
        raise ValueError(f"arm must be one of {sorted(experiment.arms)}, got {arm!r}")
    exp = replace(experiment, **sizes)
    spec = experiment.arms[arm]
    data = ec.load_cifar10(train_size=exp.train_size, test_size=exp.test_size, seed=seed, download=False)
    torch.manual_seed(seed)
    model = proxy_net(spec)
    schedule = ec.ProgressiveSchedule(min_size=spec.resolution, max_size=spec.resolution, max_magnitude=0.0,
                                      max_mixup=0.0, min_dropout=0.0, max_dropout=0.0).fixed()
    config = ec.train.TrainConfig(epochs=exp.epochs, batch_size=exp.batch_size, eval_batch_size=500,
                                  lr=exp.lr, seed=seed, progress=False)
    history = ec.train.train(model, data, schedule, config, device)
    result = {"test_acc": history[-1]["test_acc"], "train_time_s": history[-1]["train_time_s"],
              "history": list(history)}
    if "dead_fraction" in exp.metrics:
        images = ec.eval_transform(torch.as_tensor(data.test_images[:500]), spec.resolution)
        result["dead_fraction"] = dead_fraction(model, images.to(device))
    return result


def provenance(command: str, threads: int, jobs: int) -> dict:
    """Command, git commit, device, threads, torch version and date of a recorded run."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout
    return {
        "command": command, "git_commit": commit.strip(),
        "device": f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
        "threads": threads, "jobs": jobs, "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }


def record_path(name: str) -> Path:
    """Where ``benchmarks/chapter_experiments.py`` writes the experiment ``name``."""
    return RECORDS / f"experiment_{name}_cpu.json"


def load_record(name: str) -> dict:
    """The recorded experiment ``name`` (see :func:`record_path`); the records ship with the package."""
    path = record_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no record at {path}: write it with "
                                f"`python benchmarks/chapter_experiments.py --experiment {name}`")
    return json.loads(path.read_text())


def values(record: dict, arm: str, metric: str = "test_acc") -> list[float]:
    """One number per recorded seed for ``arm``."""
    return [seed["arms"][arm][metric] for seed in record["seeds"]]


def spread(numbers: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation, standard error of the mean, min and max."""
    if not numbers:
        raise ValueError("numbers must not be empty")
    sd = statistics.stdev(numbers) if len(numbers) > 1 else 0.0
    return {"mean": statistics.fmean(numbers), "std": sd, "sem": sd / math.sqrt(len(numbers)),
            "min": min(numbers), "max": max(numbers), "n": len(numbers)}


def verdict(a: list[float], b: list[float], names: tuple[str, str] = ("A", "B"), k: float = 2.0,
            higher_is_better: bool = True) -> str:
    """``"<A> better"``, ``"<B> better"`` or ``"within noise"``.

    The difference of the means counts only when it exceeds ``k`` standard errors of that
    difference, computed from each side's spread over seeds.
    """
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"a and b need >= 2 values each, got {len(a)} and {len(b)}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    sa, sb = spread(a), spread(b)
    diff = sa["mean"] - sb["mean"]
    if abs(diff) <= k * math.hypot(sa["sem"], sb["sem"]):
        return "within noise"
    return f"{names[0] if (diff > 0) == higher_is_better else names[1]} better"
