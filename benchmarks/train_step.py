"""Time a training step (forward + backward) of our EfficientNet-B0 against torchvision's.

    .venv/bin/python benchmarks/train_step.py                 # defaults: the best device, batch 32
    .venv/bin/python benchmarks/train_step.py --batch 8 --image-size 128 --repeats 5

Reports median ms per step, images per second, peak memory (CUDA only) and the ratio ours /
torchvision for contiguous and channels_last memory formats. Without torchvision it times ours
only and says so. Goal: ratio <= 1 for time and memory.
"""

from __future__ import annotations

import argparse
import importlib.util

import torch

from effnet_core import efficientnet_b0, format_table, pick_device
from effnet_core.timing import StepTiming, time_training_step


def _torchvision_b0() -> torch.nn.Module | None:
    if importlib.util.find_spec("torchvision") is None:
        return None
    from torchvision.models import efficientnet_b0 as tv_b0

    return tv_b0()


def _row(name: str, fmt: str, t: StepTiming, batch: int, ours: StepTiming | None) -> dict[str, object]:
    return {
        "model": name,
        "memory format": fmt,
        "ms/step": f"{t.median_ms:.1f}",
        "img/s": f"{1e3 * batch / t.median_ms:.1f}",
        "peak MiB": "n/a" if t.peak_mem_mib is None else f"{t.peak_mem_mib:.0f}",
        "time ours/tv": "" if ours is None else f"{ours.median_ms / t.median_ms:.3f}",
        "mem ours/tv": "" if ours is None or t.peak_mem_mib is None or ours.peak_mem_mib is None
        else f"{ours.peak_mem_mib / t.peak_mem_mib:.3f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("cuda", "mps", "cpu"), default=None)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--amp", action="store_true", help="bfloat16 autocast (CUDA only)")
    args = parser.parse_args()
    if args.batch < 1 or args.image_size < 32 or args.repeats < 1:
        parser.error("--batch and --repeats must be >= 1 and --image-size >= 32")

    device = pick_device(args.device)
    shape = (args.batch, 3, args.image_size, args.image_size)
    torchvision_model = _torchvision_b0()
    if torchvision_model is None:
        print("torchvision is not installed: timing effnet_core's B0 only (no ratio).")
    rows = []
    for channels_last in (False, True):
        fmt = "channels_last" if channels_last else "contiguous"
        kwargs = dict(device=device, repeats=args.repeats, warmup=args.warmup,
                      channels_last=channels_last, amp=args.amp)
        torch.manual_seed(0)
        ours = time_training_step(efficientnet_b0(), shape, **kwargs)
        rows.append(_row("effnet_core", fmt, ours, args.batch, None))
        if torchvision_model is not None:
            theirs = time_training_step(torchvision_model, shape, **kwargs)
            rows.append(_row("torchvision", fmt, theirs, args.batch, ours))
            torchvision_model = torchvision_model.to(memory_format=torch.contiguous_format)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"{device.type} ({torch.get_num_threads()} threads)"
    print(f"EfficientNet-B0 training step, input {shape}, on {where}, torch {torch.__version__}"
          f"{', bf16 autocast' if args.amp and device.type == 'cuda' else ''}:")
    print(format_table(rows))


if __name__ == "__main__":
    main()
