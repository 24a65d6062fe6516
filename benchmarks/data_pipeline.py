"""Images per second: batched on-device augmentation vs the per-image PIL pipeline.

    .venv/bin/python benchmarks/data_pipeline.py [--images 5000] [--out results.json]

Compares, on the real CIFAR-10 training images, the same augmentation (crop with padding,
flip, two RandAugment ops, resize, normalize; chapter 08's last stage on the ``cpu`` budget, whose
batched version also mixes up, as in the chapter) done

* per image with PIL in a Python loop (one process),
* per image with PIL inside a ``torch.utils.data.DataLoader`` with worker processes (the
  torchvision-style setup; torchvision itself is not needed for it),
* as batched tensor ops (:class:`effnet_core.augment.TrainAugment`) on the CPU, and on the
  GPU when there is one (the data already on the device).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from effnet_core.augment import DeviceData, TrainAugment
from effnet_core.book.baselines import per_image_augment
from effnet_core.data import load_cifar10
from effnet_core.device import synchronize
from effnet_core.train import preset_schedule

FINAL = preset_schedule("cpu").stages()[-1]  # what chapter 08 measures: the cpu budget's last stage
SIZE, MAGNITUDE, MIXUP, BATCH = FINAL.image_size, FINAL.magnitude, FINAL.mixup_alpha, 256


class PerImageDataset(torch.utils.data.Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        rng = np.random.default_rng(i)
        return per_image_augment(self.images[i], rng, SIZE, MAGNITUDE), int(self.labels[i])


def per_image_loop(images: np.ndarray, labels: np.ndarray) -> float:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for s in range(0, len(images), BATCH):
        batch = np.stack([per_image_augment(im, rng, SIZE, MAGNITUDE) for im in images[s : s + BATCH]])
        torch.from_numpy(batch), torch.from_numpy(labels[s : s + BATCH])
    return len(images) / (time.perf_counter() - start)


def data_loader(images: np.ndarray, labels: np.ndarray, workers: int) -> float:
    loader = torch.utils.data.DataLoader(
        PerImageDataset(images, labels), batch_size=BATCH, num_workers=workers, shuffle=True
    )
    start = time.perf_counter()
    for _ in loader:
        pass
    return len(images) / (time.perf_counter() - start)


def batched(images: np.ndarray, labels: np.ndarray, device: torch.device) -> float:
    data = DeviceData(images, labels, device)
    augment = TrainAugment(image_size=SIZE, magnitude=MAGNITUDE, mixup_alpha=MIXUP)
    generator = torch.Generator().manual_seed(0)
    for x, y in data.batches(BATCH, generator, steps=2):  # warm-up
        augment(x, y, generator)
    synchronize(device)
    start = time.perf_counter()
    count = 0
    for x, y in data.batches(BATCH, generator):
        out, _ = augment(x, y, generator)
        count += len(out)
    synchronize(device)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch threads (chapter 08 uses the default, one per core)")
    parser.add_argument("--out", type=Path, default=None, help="write the numbers as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cifar = load_cifar10(train_size=args.images)
    images, labels = cifar.train_images, cifar.train_labels
    rows = {
        "per-image PIL loop": per_image_loop(images, labels),
        f"DataLoader, {args.workers} workers, per-image PIL": data_loader(images, labels, args.workers),
        "batched tensor ops, cpu": batched(images, labels, torch.device("cpu")),
    }
    if torch.cuda.is_available():
        rows["batched tensor ops, cuda"] = batched(images, labels, torch.device("cuda"))
    base = rows["per-image PIL loop"]
    for name, rate in rows.items():
        print(f"{name:45s} {rate:12,.0f} images/s  ({rate / base:5.1f}x the PIL loop)")
    if args.out:
        result = {
            "images": args.images, "image_size": SIZE, "magnitude": MAGNITUDE, "mixup_alpha": MIXUP,
            "torch_threads": torch.get_num_threads(), "load_average": os.getloadavg(), "images_per_s": rows,
        }
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
