"""One-shot GPU acceptance run: chapter 08's gpu budget (both runs) and chapter 07's timings.

    make gpu-check                                    # one GPU, <= 8 minutes: gpu_acceptance.json
    .venv/bin/python benchmarks/gpu_acceptance.py --dry-run --out /tmp/a.json   # CPU plumbing check

Writes the device name, the precision policy's choice, images/s per stage, final test accuracies,
the training time each run needed to reach the fixed run's final accuracy, chapter 07's step
timings and the wall time; exits non-zero when the fixed run ends below ``--min-acc`` (90 % on
the full test set) or the whole run exceeds ``--budget-s`` (480 s). ``--dry-run`` uses tiny
sizes and synthetic images on the CPU (accuracy not checked).

How the gpu preset (``PRESETS["gpu"]``: 24 epochs, batch 256, 50,000 images) was sized for a
Colab T4, without a GPU, from counts measured on the CPU:

* model ``efficientnet_v2_cifar(width_mult=0.5, depth_mult=0.5)``: 2.71 M parameters; forward
  MACs per image 8.0 M / 17.5 M / 26.9 M / 30.6 M at 16 / 20 / 28 / 32 px (the progressive
  stages); training activations 0.86 / 1.90 / 2.93 / 3.24 MB per image (fp32).
* reference: EfficientNet-B0 at 224 px (386 M MACs, 78.6 MB activations) trains with AMP at
  about 330 images/s on a T4 and 2,600 on an A100: 3.0 ms and 0.38 ms per image. Scaling by
  MACs (12.6x fewer) gives 240 / 31 us per 32-px image, by activation bytes (24.3x fewer)
  125 / 16 us; we take the mean, 183 us (T4) and 23 us (A100): 47 ms and 5.9 ms per step of 256.
* launch floor: a step is 1,096 ATen ops (tests/library/test_gpu_path.py), about 8 us each
  from Python: 9 ms. With no host sync in the step the CPU queues ahead, so a step takes
  max(GPU time, 9 ms).
* T4, fixed: 47 ms x 195 steps = 9.2 s + 0.6 s test pass (10,000 images, forward only, about
  a third of a training image each) = 9.8 s per epoch. Progressive: the stages cost 0.26 / 0.58
  / 0.89 / 1.0 of a 32-px step (mean of the MAC and activation ratios): 12 / 27 / 42 / 47 ms,
  mean 32 ms, 6.9 s per epoch. Both runs: 24 x 16.7 s = 400 s.
* the rest of chapter 08 (load, PIL baseline on 5,000 images, resolution sweep = 14 test
  passes, the ResNet exercise: 2 x 10 epochs of a 3.2 M-MAC network at the launch floor, about
  0.5 s per epoch, CAMs) is about 60 s: about 7.7 minutes on a T4 (limit 10). This run: both
  trainings plus chapter 07's timings (about 30 s), about 7.3 minutes on a T4 (limit 8).
* A100: launch-bound, max(5.9, 9) ms per step at every size, about 2 s per epoch for either run:
  both runs in about 1.5 minutes, and progressive learning saves little time there (it saves
  MACs, the A100 waits for launches); ``TrainConfig(compile=True)`` is the lever.
* accuracy: 24 epochs of one-cycle SGD with the last stage's regularization is what we expect to
  reach 90-92 % for the fixed run; this run is the check (``--min-acc``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import effnet_core as ec
from effnet_core.data import CIFAR10
from effnet_core.train import PRESETS, compare_fixed_progressive, time_to_accuracy

BUDGET_S = 480.0
MIN_ACC = 0.90


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_acceptance.json"))
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes, synthetic data")
    parser.add_argument("--min-acc", type=float, default=None,
                        help=f"fixed run's final test accuracy needed (default {MIN_ACC}; 0 with --dry-run)")
    parser.add_argument("--budget-s", type=float, default=BUDGET_S, help="wall-time limit in seconds")
    return parser.parse_args(argv)


def synthetic_cifar(train: int = 100, test: int = 50) -> CIFAR10:
    """Random uint8 images with labels 0..9: the dry run needs no download."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (train + test, 3, 32, 32), dtype=np.uint8)
    labels = np.arange(train + test) % 10
    return CIFAR10(images[:train], labels[:train], images[train:], labels[train:])


def run_chapter08(device: torch.device, dry_run: bool) -> dict:
    """Both runs of chapter 08 (fixed, progressive) with the gpu preset (tiny for a dry run)."""
    preset = PRESETS["smoke" if dry_run else "gpu"]
    config = replace(preset["config"], progress=False)
    data = synthetic_cifar() if dry_run else ec.load_cifar10()
    schedule = ec.ProgressiveSchedule()

    def model_fn() -> torch.nn.Module:
        return ec.efficientnet_v2_cifar(width_mult=preset["width_mult"], depth_mult=preset["depth_mult"])

    results = compare_fixed_progressive(model_fn, data, schedule, config, device)
    fixed_final = results["fixed"][1][-1]["test_acc"]
    runs = {}
    for name, (_, history) in results.items():
        per_stage: dict[str, list[float]] = {}
        for row in history:
            per_stage.setdefault(f"{row['image_size']}px", []).append(row["images_per_s"])
        runs[name] = {
            "final_test_acc": history[-1]["test_acc"],
            "test_samples": history[-1]["test_samples"],
            "train_time_s": history[-1]["train_time_s"],
            "images_per_s_by_stage": {k: float(np.median(v)) for k, v in per_stage.items()},
            "time_to_fixed_final_acc_s": time_to_accuracy(history, fixed_final),
            "history": list(history),
        }
    return {"epochs": config.epochs, "batch_size": config.batch_size,
            "train_size": len(data.train_labels), "runs": runs}


def run_chapter07(device: torch.device, dry_run: bool) -> dict:
    """Chapter 07's gpu-budget timings: B4's resolution sweep, and MBConv vs Fused-MBConv."""
    on_cuda = device.type == "cuda"
    timing = dict(device=device, repeats=1 if dry_run else 10, warmup=0 if dry_run else 3,
                  amp=on_cuda, channels_last=on_cuda)
    if dry_run:
        stages = ec.scale_stages(ec.B0_STAGES, 0.25, 0.25)
        model = ec.EfficientNet(stages, stem_channels=8, head_channels=320)
        resolutions, batch = [32], 2
        blocks = {"early": (24, 8, 4), "late": (160, 2, 6)}
    else:
        model, resolutions, batch = ec.efficientnet_b4(), [224, 300, 380, 456], 8
        blocks = {"early": (24, 112, 4), "late": (160, 14, 6)}
    sweep = {f"{r}px": ec.time_training_step(model, (batch, 3, r, r), **timing).median_ms
             for r in resolutions}
    block_ms = {}
    for stage, (c, h, e) in blocks.items():
        for kind, cls in (("MBConv", ec.MBConv), ("Fused-MBConv", ec.FusedMBConv)):
            shape = (1 if dry_run else 64, c, h, h)
            block_ms[f"{stage} {kind}"] = ec.time_training_step(cls(c, c, e, 3, 1), shape, **timing).median_ms
    return {"resolution_sweep_ms": sweep, "block_step_ms": block_ms}


def checks(report: dict, min_acc: float, budget_s: float) -> dict[str, bool]:
    """Pass/fail of the two acceptance criteria."""
    return {
        "fixed_acc_ok": report["chapter08"]["runs"]["fixed"]["final_test_acc"] >= min_acc,
        "time_ok": report["wall_time_s"] <= budget_s,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    min_acc = args.min_acc if args.min_acc is not None else (0.0 if args.dry_run else MIN_ACC)
    device = torch.device("cpu") if args.dry_run else ec.pick_device()
    if args.dry_run:
        torch.set_num_threads(1)
    if device.type != "cuda" and not args.dry_run:
        print("no CUDA GPU: run with --dry-run to check the plumbing on the CPU", file=sys.stderr)
        return 2
    start = time.perf_counter()
    report: dict = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "precision": ec.choose_precision(device).name, "torch": torch.__version__,
        "dry_run": args.dry_run, "chapter08": run_chapter08(device, args.dry_run),
        "chapter07": run_chapter07(device, args.dry_run),
    }
    report["wall_time_s"] = time.perf_counter() - start
    report.update(min_acc=min_acc, budget_s=args.budget_s,
                  checks=checks(report, min_acc, args.budget_s))
    report["passed"] = all(report["checks"].values())
    args.out.write_text(json.dumps(report, indent=1))
    runs = report["chapter08"]["runs"]
    print(f"{report['device']} ({report['precision']}): fixed {runs['fixed']['final_test_acc']:.2%}, "
          f"progressive {runs['progressive']['final_test_acc']:.2%}, wall {report['wall_time_s']:.0f} s "
          f"-> {'PASS' if report['passed'] else 'FAIL'} ({args.out})")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
