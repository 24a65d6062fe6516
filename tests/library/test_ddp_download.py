"""torchrun done right, on CPU: 4 gloo processes that start with no data download CIFAR once
(rank 0, from a local file:// URL; the others wait at a barrier), then train and finish."""

import hashlib
import os
import socket
import tarfile
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp
from torch import nn

from effnet_core import data
from effnet_core.progressive import ProgressiveSchedule
from effnet_core.train import TrainConfig, train
from effnet_core.train.distributed import init_distributed, shutdown

WORLD = 4


def fake_archive(tmp_path: Path, records: int = 24) -> tuple[Path, dict[str, str]]:
    """A CIFAR-10 archive in the official binary format with ``records`` random images per file."""
    folder = tmp_path / "source" / data.FOLDER
    folder.mkdir(parents=True)
    rng, checksums = np.random.default_rng(0), {}
    for name in (*data.TRAIN_FILES, *data.TEST_FILES):
        labels = (np.arange(records) % 10).astype(np.uint8)
        images = rng.integers(0, 256, (records, 3 * 32 * 32), dtype=np.uint8)
        raw = np.concatenate([labels[:, None], images], axis=1).tobytes()
        (folder / name).write_bytes(raw)
        checksums[name] = hashlib.md5(raw).hexdigest()
    archive = tmp_path / data.ARCHIVE
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=data.FOLDER)
    return archive, checksums


def worker(rank: int, port: int, tmp_path: Path, checksums: dict[str, str]) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD))
    torch.set_num_threads(1)
    data.CACHE_DIR = tmp_path / f"cache{rank}"
    fetch = data._download

    def logged(url: str, target: Path) -> None:
        with open(tmp_path / "downloads.log", "a") as log:
            log.write(f"{rank}\n")
        fetch(url, target)

    data._download = logged
    assert init_distributed() == (rank, WORLD)
    root = tmp_path / "data"
    archive = tmp_path / data.ARCHIVE
    data.ensure_cifar10(root, url=archive.as_uri(), archive_md5=hashlib.md5(archive.read_bytes()).hexdigest(),
                        checksums=checksums)
    cifar = data.load_cifar10(root, download=False, checksums=checksums)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Dropout(0.0), nn.Linear(8, 10))
    history = train(net, cifar, ProgressiveSchedule(num_stages=1, min_size=16, max_size=16),
                    TrainConfig(epochs=1, batch_size=8, eval_batch_size=8, progress=False), "cpu")
    (tmp_path / f"done{rank}").write_text(f"{history[-1]['samples']} {history[-1]['test_samples']}")
    shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_four_processes_download_once_and_all_finish(tmp_path):
    archive, checksums = fake_archive(tmp_path)
    assert not (tmp_path / "data").exists()
    mp.start_processes(worker, args=(free_port(), tmp_path, checksums), nprocs=WORLD,
                       start_method="fork")
    assert (tmp_path / "downloads.log").read_text().split() == ["0"]  # one download, by rank 0
    assert {p.name for p in (tmp_path / "data").iterdir()} == {data.ARCHIVE, data.FOLDER}  # no .part
    for rank in range(WORLD):  # everyone trained on its shard and saw the whole test set
        assert (tmp_path / f"done{rank}").read_text() == "120 24"
