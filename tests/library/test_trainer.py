"""Runs an epoch at a time: interleaving does not change a run, and MACs are counted per row."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from runutils import drop_times
from torch import nn

import effnet_core as ec
from effnet_core.data import FOLDER, load_cifar10, resolve_root
from effnet_core.progressive import CPU_SCHEDULE, ProgressiveSchedule
from effnet_core.train import TrainConfig, Trainer, train, train_interleaved
from effnet_core.train.loop import use_channels_last

HAVE_CIFAR = (resolve_root() / FOLDER / "test_batch.bin").is_file()
REPO = Path(__file__).resolve().parents[2]
FAST = TrainConfig(epochs=2, batch_size=50, lr=0.4, eval_batch_size=500, progress=False)
SCHEDULE = ProgressiveSchedule(num_stages=2, min_size=16, max_size=24, max_mixup=0.2)


def tiny_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0), nn.Linear(8, 10),
    )


@pytest.fixture(scope="module")
def cifar():
    if not HAVE_CIFAR:
        pytest.skip("the real CIFAR-10 files are not available")
    return load_cifar10(train_size=200, test_size=100, download=False)




def test_interleaved_runs_equal_runs_made_one_after_the_other(cifar):
    torch.set_num_threads(1)
    schedules = {"progressive": SCHEDULE, "fixed": SCHEDULE.fixed()}
    together = train_interleaved(tiny_net, cifar, schedules, FAST, "cpu")
    for name, schedule in schedules.items():
        torch.manual_seed(FAST.seed)
        alone = train(tiny_net(), cifar, schedule, FAST, "cpu")
        assert drop_times(alone) == drop_times(together[name][1])


def test_history_counts_the_macs_processed(cifar):
    torch.manual_seed(0)
    trainer = Trainer(tiny_net(), cifar, SCHEDULE, replace(FAST, epochs=3), "cpu")
    total = 0
    while not trainer.done:
        row = trainer.run_epoch()
        total += row["samples"] * ec.count_macs(tiny_net(), row["image_size"])
        assert row["train_macs"] == total
    assert [r["image_size"] for r in trainer.history] == [16, 16, 24]


def test_the_trainer_speeds_up_small_depthwise_convolutions_on_cpu(cifar):
    from effnet_core.cpu_depthwise import SmallMapDepthwiseConv2d

    model = ec.efficientnet_v2_cifar(width_mult=0.25, depth_mult=0.25)
    trainer = Trainer(model, cifar, SCHEDULE, FAST, "cpu")
    depthwise = [m for m in trainer.model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert depthwise and all(type(m) is SmallMapDepthwiseConv2d for m in depthwise)


def test_cpu_uses_channels_last():
    assert use_channels_last(torch.device("cpu")) and use_channels_last(torch.device("cuda"))
    assert not use_channels_last(torch.device("mps"))


def test_ablation_arms():
    arms = CPU_SCHEDULE.ablation()
    assert arms["fixed/fixed"] == CPU_SCHEDULE.fixed() and arms["progressive/adaptive"] == CPU_SCHEDULE
    for name, schedule in arms.items():
        sizes = [s.image_size for s in schedule.stages()]
        magnitudes = [s.magnitude for s in schedule.stages()]
        assert (len(set(sizes)) > 1) == name.startswith("progressive/")
        assert (len(set(magnitudes)) > 1) == name.endswith("/adaptive")
        assert sizes[-1] == 32 and magnitudes[-1] == CPU_SCHEDULE.max_magnitude


@pytest.mark.skipif(not HAVE_CIFAR, reason="the real CIFAR-10 files are not available")
def test_results_file_gives_final_accuracy_and_time(tmp_path):
    """What python -m effnet_core.train writes, read by scripts/train_summary.py."""
    from effnet_core.train import main

    torch.set_num_threads(1)
    main(["--budget", "smoke", "--train-size", "100", "--epochs", "1", "--out", str(tmp_path),
          "--no-progress"])
    results = tmp_path / "results.json"
    written = json.loads(results.read_text())
    script = str(REPO / "scripts" / "train_summary.py")
    lines = subprocess.run([sys.executable, script, str(results)], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["fixed", "progressive"]
    for line, run in zip(lines, written["runs"].values(), strict=True):
        assert f"{100 * run['final_test_acc']:.2f}%" in line and f"{run['train_time_s']:.1f} s" in line
