"""Is channels_last faster for training the chapter's network on this CPU? Interleaved timings.

    PYTHONPATH=. python benchmarks/cpu_channels_last.py --out benchmarks/results/cpu_channels_last.json

Times a full training step (forward, backward, SGD step) of ``efficientnet_v2_cifar(0.25, 0.25)``
at 16 and 32 px, with 1 and 2 threads, contiguous against channels_last. The two memory formats
alternate step by step (interleaved), so a change in the machine's load hits both alike. Reports
the median images/s of each and the ratio; :func:`effnet_core.train.loop.cpu_channels_last`
uses channels_last on CPU because of these numbers.
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

from effnet_core import efficientnet_v2_cifar


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    start = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - start


def measure(threads: int, size: int, batch: int, repeats: int) -> dict[str, object]:
    """Median images/s of each memory format, the two alternating step by step."""
    torch.set_num_threads(threads)
    runs = {}
    for fmt in (torch.contiguous_format, torch.channels_last):
        torch.manual_seed(0)
        model = efficientnet_v2_cifar(width_mult=0.25, depth_mult=0.25).to(memory_format=fmt)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(batch, 3, size, size).contiguous(memory_format=fmt)
        runs[fmt] = (model, opt, x)
    y = torch.randint(0, 10, (batch,))
    times = {fmt: [] for fmt in runs}
    for i in range(repeats + 2):
        for fmt, (model, opt, x) in runs.items():
            t = _step(model, opt, x, y)
            if i >= 2:  # warm-up
                times[fmt].append(t)
    plain, last = (batch / statistics.median(times[f]) for f in runs)
    return {"threads": threads, "image_size": size, "batch": batch, "contiguous_img_s": round(plain, 1),
            "channels_last_img_s": round(last, 1), "speedup": round(last / plain, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    start = time.time()
    rows = [measure(t, s, args.batch, args.repeats) for t in (1, 2) for s in (16, 32)]
    for row in rows:
        print(row)
    if args.out is not None:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        args.out.write_text(json.dumps({
            "command": "python benchmarks/cpu_channels_last.py " + " ".join(
                f"--{k} {v}" for k, v in vars(args).items() if v is not None),
            "git_commit": commit, "device": platform.processor() or platform.machine(),
            "torch": torch.__version__, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "duration_s": round(time.time() - start, 1), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
