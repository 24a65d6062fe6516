"""How long chapter 08's training takes on the ``cpu`` budget on a quiet machine, estimated on a busy one.

    PYTHONPATH=. python benchmarks/cpu_budget_estimate.py --out benchmarks/results/cpu_budget_estimate.json

Times, with one thread, the CPU time (``time.process_time``, which other programs on the machine
do not inflate the way they inflate wall-clock time) of a whole training step (augmentation,
forward, backward, SGD step, channels_last) at every image size of the ``cpu`` schedule, and of
evaluation at the final size. From those images/s it adds up the two runs of the chapter (fixed
and progressive, every epoch evaluated on the test set): the estimated one-thread training time
of the page's comparison on a quiet machine (two threads are faster still; a busy machine cannot
measure by how much).
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import effnet_core as ec
from effnet_core.train import PRESETS, preset_schedule


def _rate(step, batch: int, repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return batch / float(np.median(times))


def measure(repeats: int) -> dict[str, float]:
    """One-thread CPU-time images/s of a training step per image size, and of evaluation."""
    preset = PRESETS["cpu"]
    config, schedule = preset["config"], preset_schedule("cpu")
    model = ec.efficientnet_v2_cifar(width_mult=preset["width_mult"], depth_mult=preset["depth_mult"])
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.randint(0, 256, (config.batch_size, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (config.batch_size,))
    generator = torch.Generator().manual_seed(0)
    rates = {}
    for stage in schedule.stages():
        augment = ec.TrainAugment(image_size=stage.image_size, magnitude=stage.magnitude,
                                  mixup_alpha=stage.mixup_alpha)

        def step(augment: ec.TrainAugment = augment) -> None:
            x, y = augment(images, labels, generator)
            loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        rates[f"train_{stage.image_size}px"] = _rate(step, config.batch_size, repeats)
    model.eval()
    test = torch.randint(0, 256, (config.eval_batch_size, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        rates["eval_32px"] = _rate(lambda: model(ec.eval_transform(test, 32).contiguous(
            memory_format=torch.channels_last)), config.eval_batch_size, repeats)
    return rates


def estimate(rates: dict[str, float]) -> dict[str, float]:
    """Seconds of the chapter's fixed and progressive runs (training plus per-epoch evaluation)."""
    preset = PRESETS["cpu"]
    config, schedule = preset["config"], preset_schedule("cpu")
    samples = preset["train_size"] // config.batch_size * config.batch_size
    evals = config.epochs * preset["test_size"] / rates["eval_32px"]
    fixed = config.epochs * samples / rates[f"train_{schedule.max_size}px"]
    progressive = sum(samples / rates[f"train_{schedule.stage_for_epoch(e, config.epochs).image_size}px"]
                      for e in range(config.epochs))
    return {"fixed_train_s": fixed, "progressive_train_s": progressive, "eval_s_per_run": evals,
            "both_runs_s": fixed + progressive + 2 * evals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rates = measure(args.repeats)
    record = {"command": "python benchmarks/cpu_budget_estimate.py", "threads": 1, "clock": "process_time",
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "images_per_s": rates, "estimate_one_thread_s": estimate(rates),
              "settings": {"preset": {k: v for k, v in PRESETS["cpu"].items()
                                      if k not in ("config", "schedule")},
                           "batch_size": PRESETS["cpu"]["config"].batch_size,
                           "epochs": PRESETS["cpu"]["config"].epochs}}
    print(json.dumps(record, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
