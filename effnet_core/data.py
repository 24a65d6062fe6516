"""CIFAR-10 from the official binary files: find or download, verify, parse, subset.

The data come from the authors' ``cifar-10-binary.tar.gz`` (no pickle): each record
is 1 label byte followed by 3072 image bytes (red, green, blue planes of 32x32).
Where the files live, in order of preference:

1. the ``root`` argument, else the ``EFFNET_DATA`` environment variable;
2. the cache folder ``~/.cache/effnet_core``, downloading the archive there if needed.

A folder that already contains ``cifar-10-batches-bin/`` is used as it is. Every file is
checked against the published md5; a successful check is remembered (by path, size and
modification time) in the cache folder so later runs skip the 180 MB of hashing.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
ARCHIVE = "cifar-10-binary.tar.gz"
ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
FILE_MD5 = {
    "data_batch_1.bin": "5dd7e06a14cb22eb9f671a540d1b7c25",
    "data_batch_2.bin": "5ea93a67294ea407fff1d09f752e9692",
    "data_batch_3.bin": "942cd6a4bcdd0dd3c604fbe906cb4421",
    "data_batch_4.bin": "ae636b3ba5c66a11e91e8cb52e771fcb",
    "data_batch_5.bin": "53f37980c15c3d472c316c40844f3f0d",
    "test_batch.bin": "803d5f7f4d78ea53de84dbe85f74fb6d",
}
CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32
DATA_ENV = "EFFNET_DATA"
CACHE_DIR = Path.home() / ".cache" / "effnet_core"


class DatasetError(RuntimeError):
    """The CIFAR-10 files are missing, damaged or cannot be downloaded."""


@dataclass(frozen=True)
class CIFAR10:
    """Images as uint8 arrays ``(N, 3, 32, 32)`` and labels as int64 arrays ``(N,)``."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple[str, ...] = CLASSES

    def describe(self) -> str:
        """One line: how many training and test images."""
        n_train, n_test = len(self.train_labels), len(self.test_labels)
        return f"CIFAR-10: {n_train:,} training and {n_test:,} test images"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_VERIFIED: set[tuple[str, int, int, str]] = set()  # (path, size, mtime, md5) checked here


def _stamp_file() -> Path:
    return CACHE_DIR / "verified.json"


def _read_stamps() -> dict[str, list]:
    try:
        return json.loads(_stamp_file().read_text())
    except (OSError, ValueError):
        return {}


def _write_stamp(key: tuple[str, int, int, str]) -> None:
    stamps = _read_stamps()
    stamps[key[0]] = list(key[1:])
    try:
        _stamp_file().parent.mkdir(parents=True, exist_ok=True)
        tmp = _stamp_file().with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stamps, indent=1))
        os.replace(tmp, _stamp_file())
    except OSError:
        pass  # a read-only home only costs re-hashing in the next process


def verify_file(path: Path, md5: str, *, size: int | None = None,
                advice: str = "delete it and download again.") -> None:
    """Raise :class:`DatasetError` unless ``path`` exists (with ``size`` bytes) and has ``md5``.

    ``advice`` ends the message: what the user should do next. A file already verified with
    the same size and modification time is not hashed again.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"missing file {path}: {advice}")
    stat = path.stat()
    if size is not None and stat.st_size != size:
        raise DatasetError(
            f"{path} has {stat.st_size:,} bytes, expected {size:,}: the file is truncated or "
            f"not the official CIFAR-10 binary version; {advice}"
        )
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, md5)
    if key in _VERIFIED or _read_stamps().get(key[0]) == list(key[1:]):
        _VERIFIED.add(key)
        return
    found = _md5(path)
    if found != md5:
        raise DatasetError(
            f"checksum mismatch for {path}: md5 {found}, expected {md5}. The file is damaged "
            f"or not the official CIFAR-10 binary version; {advice}"
        )
    _VERIFIED.add(key)
    _write_stamp(key)


def _verify_folder(folder: Path, checksums: dict[str, str]) -> None:
    """Verify every file; a missing or damaged one is repaired by deleting the whole folder."""
    advice = (f"delete the folder {folder} (not only this file) and load again: its files are "
              f"extracted anew from {ARCHIVE} beside it, or downloaded again from {URL}.")
    for name, md5 in checksums.items():
        verify_file(folder / name, md5, advice=advice)


def resolve_root(root: str | Path | None = None) -> Path:
    """The folder that holds (or will hold) ``cifar-10-batches-bin/``; see the module docstring."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return CACHE_DIR


_WRITE_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR,
                 errno.EEXIST, errno.EISDIR}


def _is_write_error(error: BaseException) -> bool:
    """A local file-system error (no permission, read-only, full), not a network or archive one."""
    return (isinstance(error, OSError) and not isinstance(error, urllib.error.URLError)
            and error.errno in _WRITE_ERRORS)


def _not_writable(root: Path, error: OSError) -> str:
    return (f"cannot write CIFAR-10 into {root} ({error}). Choose a writable folder "
            f"(load_cifar10(root=...) or the {DATA_ENV} environment variable), or put {FOLDER}/ "
            f"(extracted from {URL}) there by hand.")


def _remove(path: Path) -> None:
    """Delete a partial file if possible; never raises, so it cannot hide the error being reported."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _make_folder(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(_not_writable(root, error)) from error


def _download(url: str, target: Path) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        with (urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as f,
              tqdm(total=int(response.headers.get("Content-Length") or 0) or None, unit="B", unit_scale=True,
                   desc=f"downloading CIFAR-10 into {target.parent}") as bar):
            while chunk := response.read(1 << 20):  # progress
                f.write(chunk)
                bar.update(len(chunk))
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        _remove(partial)
        if _is_write_error(error):
            raise DatasetError(_not_writable(target.parent, error)) from error
        raise DatasetError(
            f"could not download CIFAR-10 ({error}). Download {URL} (md5 {ARCHIVE_MD5}) "
            f"by hand and put it in {target.parent}/ (or extract it there so that "
            f"{target.parent / FOLDER}/ exists), or set {DATA_ENV} to a folder that holds "
            f"{FOLDER}/."
        ) from error
    os.replace(partial, target)


def _extract(archive: Path, root: Path, checksums: dict[str, str]) -> None:
    """Extract into a temporary folder, verify, then move into place in one rename."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=root))
    except OSError as error:
        raise DatasetError(_not_writable(root, error)) from error
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:
            if _is_write_error(error):
                raise DatasetError(_not_writable(root, error)) from error
            raise DatasetError(
                f"could not extract {archive} ({error}): the archive is truncated or damaged; "
                "delete it and download again."
            ) from error
        for name, md5 in checksums.items():
            verify_file(tmp / FOLDER / name, md5, advice=f"the archive is damaged: delete {archive} "
                        "and load again to download it anew.")
        os.replace(tmp / FOLDER, root / FOLDER)
    except OSError as error:
        raise DatasetError(_not_writable(root, error)) from error
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_cifar10(
    root: str | Path | None = None,
    *,
    download: bool = True,
    url: str = URL,
    archive_md5: str = ARCHIVE_MD5,
    checksums: dict[str, str] | None = None,
) -> Path:
    """Return the verified ``cifar-10-batches-bin`` folder, downloading and extracting if needed.

    Under torchrun only rank 0 downloads and extracts; the other processes wait at a barrier and
    then use its files (they never download). ``url``, ``archive_md5`` and ``checksums`` exist
    for tests; leave them alone otherwise.
    """
    from .train.distributed import rank_zero_first  # noqa: PLC0415  (torch only when needed)

    checksums = FILE_MD5 if checksums is None else checksums
    root = resolve_root(root)
    with rank_zero_first() as first:  # under torchrun rank 0 downloads; the others find the files
        return _find_or_fetch(root, download and first, url, archive_md5, checksums)


def _find_or_fetch(root: Path, download: bool, url: str, archive_md5: str,
                   checksums: dict[str, str]) -> Path:
    folder = root / FOLDER
    if folder.is_dir():
        _verify_folder(folder, checksums)
        return folder
    archive = root / ARCHIVE
    if not archive.is_file():
        if not download:
            raise DatasetError(
                f"CIFAR-10 not found in {root}. Download {URL} (md5 {ARCHIVE_MD5}) and put it "
                f"there, or set {DATA_ENV} to a folder that holds {FOLDER}/."
            )
        _make_folder(root)
        _download(url, archive)
    verify_file(archive, archive_md5)
    _extract(archive, root, checksums)
    print(f"CIFAR-10: md5 checksums verified, files stored in {folder}")
    return folder


def read_batches(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """Parse official binary batch files into ``(images uint8 (N,3,32,32), labels int64 (N,))``."""
    records = []
    for path in paths:
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % RECORD_BYTES:
            raise DatasetError(
                f"{path} has {raw.size:,} bytes, not a whole number of {RECORD_BYTES}-byte "
                f"records: the file is truncated; delete the folder {path.parent} and load again."
            )
        records.append(raw.reshape(-1, RECORD_BYTES))
    table = np.concatenate(records)
    labels = table[:, 0].astype(np.int64)
    if labels.max() >= len(CLASSES):
        raise DatasetError(f"labels must be 0..9, found {labels.max()} in {paths}")
    return np.ascontiguousarray(table[:, 1:].reshape(-1, *IMAGE_SHAPE)), labels


def stratified_subset(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``size`` samples with the classes as balanced as possible.

    Each class gets ``size // C`` samples (the remainder goes to randomly chosen classes),
    drawn without replacement with a seeded generator.
    """
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if not isinstance(size, (int, np.integer)) or not 0 < size <= len(labels):
        raise ValueError(f"size must be an integer from 1 to {len(labels)}, got {size!r}")
    rng = np.random.default_rng(seed)
    per_class = np.full(len(classes), size // len(classes))
    per_class[rng.choice(len(classes), size % len(classes), replace=False)] += 1
    if np.any(per_class > counts):
        raise ValueError(f"size={size} needs more samples of a class than there are")
    picked = [
        rng.choice(np.flatnonzero(labels == c), n, replace=False)
        for c, n in zip(classes, per_class, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def _check_load_arguments(root: object, train_size: object, test_size: object, seed: object,
                          download: object, checksums: object) -> None:
    if root is not None and not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be None, a str or a path, got {root!r:.60}")
    for name, size, limit in (("train_size", train_size, 50_000), ("test_size", test_size, 10_000)):
        if size is not None and (isinstance(size, bool) or not isinstance(size, int | np.integer)):
            raise TypeError(f"{name} must be None or an integer from 1 to {limit:,}, got {size!r:.60}")
        if size is not None and not 1 <= size <= limit:
            raise ValueError(f"{name} must be None or an integer from 1 to {limit:,}, got {size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer, got {seed!r:.60}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r:.60}")
    if checksums is not None and not isinstance(checksums, dict):
        raise TypeError(f"checksums must be None or a dict of file name to md5, got {checksums!r:.60}")


def load_cifar10(
    root: str | Path | None = None,
    *,
    train_size: int | None = None,
    test_size: int | None = None,
    seed: int = 0,
    download: bool = True,
    checksums: dict[str, str] | None = None,
) -> CIFAR10:
    """Load CIFAR-10 (verified), optionally as stratified seeded subsets of the given sizes.

    >>> data = load_cifar10(train_size=5000, test_size=1000)  # doctest: +SKIP
    """
    _check_load_arguments(root, train_size, test_size, seed, download, checksums)
    folder = ensure_cifar10(root, download=download, checksums=checksums)
    train_x, train_y = read_batches([folder / f for f in TRAIN_FILES])
    test_x, test_y = read_batches([folder / f for f in TEST_FILES])
    if train_size is not None:
        keep = stratified_subset(train_y, train_size, seed)
        train_x, train_y = train_x[keep], train_y[keep]
    if test_size is not None:
        keep = stratified_subset(test_y, test_size, seed + 1)
        test_x, test_y = test_x[keep], test_y[keep]
    return CIFAR10(train_x, train_y, test_x, test_y)
