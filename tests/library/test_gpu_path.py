"""The GPU path, proven on CPU: ATen ops per training step of the gpu preset, and no host sync.

Every ATen op is one dispatch (and usually one kernel launch) on a GPU, so the count bounds the
launch overhead of a step; none of the counts depends on the batch size.
"""

import collections
from dataclasses import replace

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from effnet_core import efficientnet_v2_cifar
from effnet_core.augment import TrainAugment
from effnet_core.progressive import ProgressiveSchedule
from effnet_core.train import PRESETS
from effnet_core.train.loop import _setup, set_dropout, train_one_epoch

AUGMENT_OPS = 60  # was 654 at batch 256 before the fused augmentation (commit a42a3cb)
STEP_OPS = 1100  # was 1,701
SYNCS = {"_local_scalar_dense", "item", "nonzero", "is_nonzero", "equal", "allclose"}


class Ops(TorchDispatchMode):
    """Record every ATen op; with ``strict`` set, fail on anything that waits for the device."""

    def __init__(self):
        super().__init__()
        self.ops: list[str] = []
        self.strict = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        self.ops.append(name)
        if self.strict and name in SYNCS:
            raise AssertionError(f"host sync in the training step: aten.{name}")
        if self.strict and name in ("_to_copy", "copy_") and _to_host(func, args, kwargs or {}):
            raise AssertionError(f"device-to-host copy in the training step: aten.{name}")
        return func(*args, **(kwargs or {}))


def _to_host(func, args, kwargs) -> bool:
    if func.overloadpacket.__name__ == "copy_":
        return args[0].device.type == "cpu" and args[1].device.type != "cpu"
    return kwargs.get("device") is not None and torch.device(kwargs["device"]).type == "cpu" \
        and args[0].device.type != "cpu"


class NoBar:
    def update(self) -> None:
        pass

    def set_postfix(self, **_) -> None:
        pass


LAST = ProgressiveSchedule().fixed().stage(0)  # the last stage's size and regularization
AUGMENT = TrainAugment(image_size=LAST.image_size, magnitude=LAST.magnitude, mixup_alpha=LAST.mixup_alpha)


def batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(n) % 10


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def run():
    torch.manual_seed(0)
    preset = PRESETS["gpu"]
    model = efficientnet_v2_cifar(width_mult=preset["width_mult"], depth_mult=preset["depth_mult"])
    set_dropout(model, LAST.dropout)
    # Contiguous layout: on CPU, channels_last (now the CPU default) adds 120 ops per step, the CPU
    # kernels' layout copies around the 17 depthwise backward passes (as_strided, squeeze, new_zeros,
    # copy_): a CPU decomposition, not a count of what the GPU launches.
    config = replace(preset["config"], channels_last=False)
    return _setup(model, config, torch.device("cpu"), 1, 10, 10)


def count_augment(n: int) -> collections.Counter:
    g = torch.Generator().manual_seed(0)
    images, labels = batch(n)
    AUGMENT(images, labels, g)  # warm-up: builds the cached tables
    with Ops() as mode:
        AUGMENT(images, labels, g)
    return collections.Counter(mode.ops)


def test_augmentation_is_a_few_dozen_ops_whatever_the_batch():
    small, large = count_augment(8), count_augment(64)
    assert small == large
    assert sum(small.values()) <= AUGMENT_OPS, small.most_common()


def steps_under(mode: Ops, run, n: int, strict_step: int | None = None) -> list[int]:
    """Train ``n`` steps of 8 images under ``mode``; return the op count at the start of each."""
    starts = []

    def batches():
        for step in range(n):
            starts.append(len(mode.ops))
            mode.strict = step == strict_step
            yield batch(8, step)
        mode.strict = False

    with mode:
        train_one_epoch(run, batches(), 25, AUGMENT, torch.Generator().manual_seed(0), 0, NoBar())
    return [*starts, len(mode.ops)]


def test_a_training_step_of_the_gpu_preset_is_at_most_1100_ops(run):
    mode = Ops()
    starts = steps_under(mode, run, 3)
    per_step = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # step 0 also reads the loss back (LOG_EVERY); steps 1 and 2 are plain steps
    assert per_step[1] == per_step[2] <= STEP_OPS, collections.Counter(mode.ops[starts[1]:starts[2]])
    assert per_step[0] > per_step[1]


def test_no_host_sync_outside_the_logging_interval(run):
    steps_under(Ops(), run, 2, strict_step=1)  # step 1 of 25: not a logging step
    with pytest.raises(AssertionError, match="host sync"):
        steps_under(Ops(), run, 1, strict_step=0)  # step 0 reads the loss: the mode must notice


def test_compile_flag_falls_back_to_the_plain_model(monkeypatch, run):
    from dataclasses import replace

    from effnet_core.train.loop import CompiledOrPlain

    calls = []

    def broken(module):
        def forward(x):
            calls.append(len(x))
            raise RuntimeError("no compiler here")

        return forward

    monkeypatch.setattr(torch, "compile", broken)
    net = torch.nn.Linear(4, 2)
    wrapped = CompiledOrPlain(net)
    x = torch.randn(3, 4)
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        assert torch.equal(wrapped(x), net(x))
    assert torch.equal(wrapped(x), net(x)) and calls == [3]  # compiling is not retried
    monkeypatch.setattr(torch, "compile", lambda module: module)
    compiled = _setup(torch.nn.Linear(4, 2), replace(PRESETS["gpu"]["config"], compile=True),
                      torch.device("cpu"), 1, 10, 10)
    assert isinstance(compiled.net, CompiledOrPlain) and compiled.net.compiled is not None
