"""The training loop, checkpoints, the command line and the DDP path (on real CIFAR-10 subsets)."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from runutils import drop_times
from torch import nn

from effnet_core.data import FOLDER, load_cifar10, resolve_root
from effnet_core.progressive import ProgressiveSchedule
from effnet_core.train import (
    History,
    TrainConfig,
    TrainingDiverged,
    compare_fixed_progressive,
    load_checkpoint,
    main,
    set_dropout,
    time_to_accuracy,
    train,
)

HAVE_CIFAR = (resolve_root() / FOLDER / "test_batch.bin").is_file()
needs_cifar = pytest.mark.skipif(not HAVE_CIFAR, reason="the real CIFAR-10 files are not available")
REPO = Path(__file__).resolve().parents[2]

FAST = TrainConfig(epochs=3, batch_size=50, lr=0.4, eval_batch_size=500, progress=False)
SCHEDULE = ProgressiveSchedule(num_stages=2, min_size=16, max_size=24)


def tiny_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0), nn.Linear(32, 10),
    )


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cifar():
    if not HAVE_CIFAR:
        pytest.skip("the real CIFAR-10 files are not available")
    return load_cifar10(train_size=500, test_size=200, download=False)




@needs_cifar
def test_training_reduces_loss_and_is_reproducible(cifar):
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        runs.append(train(tiny_net(), cifar, SCHEDULE, FAST, "cpu"))
    history = runs[0]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_acc"] > 0.15  # chance is 0.10
    assert drop_times(runs[0]) == drop_times(runs[1])
    assert [row["image_size"] for row in history] == [16, 16, 24]
    assert all(row["samples"] == 500 and row["test_samples"] == 200 for row in history)
    table = str(history)
    assert "test_acc" in table and len(table.splitlines()) == 2 + len(history)


@needs_cifar
def test_checkpoint_round_trip(cifar, tmp_path):
    path = tmp_path / "ckpt" / "last.pt"
    torch.manual_seed(0)
    model = tiny_net()
    history = train(model, cifar, SCHEDULE, replace(FAST, epochs=1, checkpoint=str(path)), "cpu")
    state = torch.load(path, weights_only=True)  # plain data only
    assert state["epoch"] == 1 and state["history"] == list(history)
    fresh = tiny_net()
    loaded = load_checkpoint(path, fresh)
    assert loaded["schedule"]["max_size"] == 24
    trained = model.state_dict()
    assert all(torch.equal(trained[k], v) for k, v in fresh.state_dict().items())
    x = torch.randn(4, 3, 24, 24)
    model.eval()
    fresh.eval()
    torch.testing.assert_close(model(x), fresh(x))  # channels_last (trained on CPU) vs contiguous


@needs_cifar
def test_nan_loss_stops_with_a_clear_message(cifar):
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = tiny_net()

        def forward(self, x):
            return self.net(x) * float("nan")

    with pytest.raises(TrainingDiverged, match="diverged at epoch 1.*learning rate"):
        train(Broken(), cifar, SCHEDULE, FAST, "cpu")


@needs_cifar
def test_compare_fixed_progressive(cifar):
    results = compare_fixed_progressive(tiny_net, cifar, SCHEDULE, replace(FAST, epochs=2), "cpu")
    fixed, progressive = results["fixed"][1], results["progressive"][1]
    assert [r["image_size"] for r in fixed] == [24, 24]
    assert [r["image_size"] for r in progressive] == [16, 24]
    assert fixed[0]["dropout"] == progressive[-1]["dropout"] == SCHEDULE.max_dropout


def test_set_dropout_and_errors():
    model = tiny_net()
    set_dropout(model, 0.25)
    assert model[8].p == 0.25
    with pytest.raises(ValueError, match="no nn.Dropout"):
        set_dropout(nn.Linear(2, 2), 0.1)
    set_dropout(nn.Linear(2, 2), 0.0)
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def test_history_helpers(tmp_path):
    history = History(
        [{"epoch": 1, "test_acc": 0.3, "train_time_s": 2.0},
         {"epoch": 2, "test_acc": 0.5, "train_time_s": 4.5}]
    )
    assert history.column("test_acc") == [0.3, 0.5]
    assert time_to_accuracy(history, 0.4) == 4.5
    assert time_to_accuracy(history, 0.9) is None
    history.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "epoch,test_acc,train_time_s"


TINY_CLI = ["--train-size", "100", "--test-size", "100", "--epochs", "1", "--batch-size", "50",
            "--width-mult", "0.25", "--depth-mult", "0.25", "--device", "cpu", "--no-progress"]


@needs_cifar
def test_cli_end_to_end(tmp_path):
    results = main([*TINY_CLI, "--out", str(tmp_path), "--mode", "both"])
    written = json.loads((tmp_path / "results.json").read_text())
    assert written == json.loads(json.dumps(results))
    assert set(written["runs"]) == {"fixed", "progressive"}
    for name in ("history_fixed.csv", "history_progressive.csv"):
        assert (tmp_path / name).stat().st_size > 0
    help_text = subprocess.run(
        [sys.executable, "-m", "effnet_core.train", "--help"], capture_output=True, text=True,
        cwd=REPO, check=True,
    ).stdout
    assert "--budget" in help_text and "--out" in help_text


@pytest.mark.slow
@needs_cifar
def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path):
    """torchrun + gloo: same samples per epoch and the whole test set evaluated."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [*TINY_CLI, "--mode", "progressive", "--epochs", "2"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", "2", "-m", "effnet_core.train"]
    run = subprocess.run([*torchrun, *args, "--out", str(tmp_path / "ddp")], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    single = main([*args, "--out", str(tmp_path / "one")])
    ddp = json.loads((tmp_path / "ddp" / "results.json").read_text())
    assert ddp["world_size"] == 2 and single["world_size"] == 1
    for one, two in zip(single["runs"]["progressive"]["history"],
                        ddp["runs"]["progressive"]["history"], strict=True):
        assert one["samples"] == two["samples"] == 100
        assert one["test_samples"] == two["test_samples"] == 100
        assert one["image_size"] == two["image_size"]
        assert 0 <= two["test_acc"] <= 1 and two["test_acc"] * 100 == round(two["test_acc"] * 100)
