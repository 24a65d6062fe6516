"""The mixed-precision policy (effnet_core.precision) with mocked GPUs, and real AMP steps on CPU."""

import warnings
from dataclasses import replace

import pytest
import torch
from torch import nn

from effnet_core.augment import TrainAugment
from effnet_core.precision import choose_precision
from effnet_core.train import TrainConfig
from effnet_core.train.loop import _setup, train_one_epoch


class NoBar:
    def update(self) -> None:
        pass

    def set_postfix(self, **_) -> None:
        pass


def mock_gpu(monkeypatch, capability: tuple[int, int]) -> None:
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # a T4 says True too


@pytest.mark.parametrize(("capability", "name", "dtype", "scaled"), [
    ((7, 5), "fp16+scaler", torch.float16, True),  # T4 (Colab)
    ((7, 0), "fp16+scaler", torch.float16, True),  # V100
    ((8, 0), "bf16", torch.bfloat16, False),  # A100
    ((9, 0), "bf16", torch.bfloat16, False),  # H100
])
def test_policy_follows_compute_capability(monkeypatch, capability, name, dtype, scaled):
    mock_gpu(monkeypatch, capability)
    p = choose_precision("cuda")
    assert (p.name, p.dtype, p.scaled, p.device_type) == (name, dtype, scaled, "cuda")
    assert choose_precision("cuda", enabled=False).name == "fp32"


def test_policy_on_cpu():
    assert choose_precision("cpu").name == "fp32"
    assert choose_precision("cpu").dtype is None and not choose_precision("cpu").scaled
    assert choose_precision("cpu", cpu_dtype=torch.bfloat16).name == "bf16"
    assert choose_precision("cpu", cpu_dtype=torch.float16).name == "fp16+scaler"
    with pytest.raises(ValueError, match="cpu_dtype"):
        choose_precision("cpu", cpu_dtype=torch.float32)


def tiny_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))


def run_steps(dtype: torch.dtype, steps: int, init_scale: float = 2.0**16):
    torch.manual_seed(0)
    model = tiny_net()
    run = _setup(model, TrainConfig(epochs=1, batch_size=8, progress=False), torch.device("cpu"),
                 1, steps, 10)
    precision = choose_precision("cpu", cpu_dtype=dtype)
    run = replace(run, precision=precision,
                  scaler=torch.amp.GradScaler("cpu", init_scale=init_scale, enabled=precision.scaled))
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (steps * 8, 3, 16, 16), dtype=torch.uint8, generator=g)
    labels = torch.arange(steps * 8) % 10
    batches = [(images[i * 8:(i + 1) * 8], labels[i * 8:(i + 1) * 8]) for i in range(steps)]
    before = [p.detach().clone() for p in model.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_sum, _ = train_one_epoch(run, batches, steps, TrainAugment(image_size=16), g, 0, NoBar())
    return model, run, before, loss_sum


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_amp_steps_train_without_warnings(dtype):
    model, run, before, loss_sum = run_steps(dtype, steps=4)
    assert torch.isfinite(loss_sum)
    assert run.scaler.is_enabled() == (dtype == torch.float16)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_scaler_skips_first_steps_without_scheduler_warning():
    # a scale of 2**100 overflows float16 gradients: the first steps are skipped, the scale backs off
    model, run, before, _ = run_steps(torch.float16, steps=3, init_scale=2.0**100)
    assert run.scaler.get_scale() < 2.0**100
    assert run.lr_schedule.last_epoch == 3  # the schedule advanced with every step, silently
