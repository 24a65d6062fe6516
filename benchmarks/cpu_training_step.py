"""How fast does the chapter's network train on this CPU, and what makes it faster? Interleaved timings.

    PYTHONPATH=. python benchmarks/cpu_training_step.py --out benchmarks/results/cpu_training_step.json

Times a full training step (forward, backward, SGD step) of ``efficientnet_v2_cifar(0.25, 0.25)``
at each image size of the ``cpu`` budget's schedule, with 1 and 2 threads, in three variants:

- ``contiguous``: PyTorch's default memory layout;
- ``channels_last``: the layout :func:`effnet_core.train.loop.use_channels_last` picks on CPU;
- ``channels_last+depthwise``: also :func:`effnet_core.speed_up_small_depthwise` (what the trainer
  runs on CPU), which replaces oneDNN's slow weight gradient of depthwise convolutions on 2 x 2
  and smaller maps.

The variants alternate step by step (interleaved), so a change in the machine's load hits all
alike. Reports the median images/s of each; the last variant should make a 16 px step much
cheaper than a 32 px one, which is what progressive learning saves.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from effnet_core import efficientnet_v2_cifar, speed_up_small_depthwise
from effnet_core.train import preset_schedule

VARIANTS = ("contiguous", "channels_last", "channels_last+depthwise")


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    start = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - start


def measure(threads: int, size: int, batch: int, repeats: int) -> dict[str, object]:
    """Median images/s of each variant, the three alternating step by step."""
    torch.set_num_threads(threads)
    runs = {}
    for variant in VARIANTS:
        torch.manual_seed(0)
        fmt = torch.contiguous_format if variant == "contiguous" else torch.channels_last
        model = efficientnet_v2_cifar(width_mult=0.25, depth_mult=0.25).to(memory_format=fmt)
        if variant.endswith("+depthwise"):
            speed_up_small_depthwise(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        runs[variant] = (model, opt, torch.randn(batch, 3, size, size).contiguous(memory_format=fmt))
    y = torch.randint(0, 10, (batch,))
    times: dict[str, list[float]] = {v: [] for v in runs}
    for i in range(repeats + 2):
        for variant, (model, opt, x) in runs.items():
            t = _step(model, opt, x, y)
            if i >= 2:  # warm-up
                times[variant].append(t)
    return {"threads": threads, "image_size": size, "batch": batch,
            **{f"{v}_img_s": round(batch / statistics.median(times[v]), 1) for v in VARIANTS}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    start = time.time()
    sizes = sorted({s.image_size for s in preset_schedule("cpu").stages()})
    rows = [measure(t, s, args.batch, args.repeats) for t in (1, 2) for s in sizes]
    for row in rows:
        print(row)
    if args.out is not None:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        args.out.write_text(json.dumps({
            "command": "python benchmarks/cpu_training_step.py " + " ".join(
                f"--{k} {v}" for k, v in vars(args).items() if v is not None),
            "git_commit": commit, "device": platform.processor() or platform.machine(),
            "torch": torch.__version__, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "duration_s": round(time.time() - start, 1), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
