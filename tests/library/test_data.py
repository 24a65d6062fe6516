"""CIFAR-10 loading: official binary format, checksums, atomic extraction, subsets."""

import errno
import hashlib
import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from effnet_core import data
from effnet_core.data import (
    FOLDER,
    RECORD_BYTES,
    DatasetError,
    ensure_cifar10,
    load_cifar10,
    read_batches,
    resolve_root,
    stratified_subset,
    verify_file,
)

NAMES = (*data.TRAIN_FILES, *data.TEST_FILES)


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    """Each test gets its own verification cache."""
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(data, "_VERIFIED", set())


def write_batches(folder: Path, records: int = 20, seed: int = 0) -> dict[str, str]:
    """Small files in the official format; returns their md5s."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    checksums = {}
    for name in NAMES:
        labels = (np.arange(records) % 10).astype(np.uint8)
        images = rng.integers(0, 256, (records, 3 * 32 * 32), dtype=np.uint8)
        raw = np.concatenate([labels[:, None], images], axis=1).tobytes()
        (folder / name).write_bytes(raw)
        checksums[name] = hashlib.md5(raw).hexdigest()
    return checksums


def make_archive(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    source = tmp_path / "source"
    checksums = write_batches(source / FOLDER)
    archive = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / FOLDER, arcname=FOLDER)
    return archive, checksums


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".extract") or p.name == FOLDER)


def test_records_parse_as_label_then_channel_planes(tmp_path):
    record = np.zeros(RECORD_BYTES, np.uint8)
    record[0] = 7
    record[1 : 1 + 1024] = 10  # red plane
    record[1 + 1024 : 1 + 2048] = 20  # green plane
    record[1 + 2048 + 5] = 99  # blue, row 0, column 5
    path = tmp_path / "one.bin"
    path.write_bytes(record.tobytes())
    images, labels = read_batches([path])
    assert labels.tolist() == [7] and labels.dtype == np.int64
    assert images.shape == (1, 3, 32, 32) and images.dtype == np.uint8
    assert images[0, 0].min() == images[0, 0].max() == 10
    assert images[0, 1].min() == 20 and images[0, 2, 0, 5] == 99 and images[0, 2, 1, 5] == 0


def test_local_folder_is_used_directly(tmp_path):
    checksums = write_batches(tmp_path / FOLDER, records=30)
    cifar = load_cifar10(tmp_path, checksums=checksums, download=False)
    assert cifar.train_images.shape == (150, 3, 32, 32)
    assert cifar.test_labels.shape == (30,)
    assert "150 training" in cifar.describe()


def test_wrong_checksum_in_local_folder(tmp_path):
    checksums = write_batches(tmp_path / FOLDER)
    checksums["data_batch_3.bin"] = "0" * 32
    with pytest.raises(DatasetError, match="checksum mismatch.*data_batch_3.bin"):
        load_cifar10(tmp_path, checksums=checksums)


def test_truncated_batch_file(tmp_path):
    write_batches(tmp_path / FOLDER)
    path = tmp_path / FOLDER / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="truncated"):
        read_batches([path])
    with pytest.raises(DatasetError, match="truncated"):
        verify_file(path, "0" * 32, size=20 * RECORD_BYTES)


def test_download_extract_and_verify(tmp_path):
    archive, checksums = make_archive(tmp_path)
    root = tmp_path / "root"
    folder = ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)
    assert folder == root / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == sorted(NAMES)
    assert leftovers(root) == [FOLDER]  # no temporary folder left behind
    assert (root / "cifar-10-binary.tar.gz").is_file()


def test_download_shows_progress_and_says_where(tmp_path, capsys):
    archive, checksums = make_archive(tmp_path)
    root = tmp_path / "root"
    folder = ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)
    out, err = capsys.readouterr()
    assert f"downloading CIFAR-10 into {root}" in err and "100%" in err  # tqdm's bar, on stderr
    assert f"checksums verified, files stored in {folder}" in out


def test_archive_with_wrong_checksum_extracts_nothing(tmp_path):
    archive, checksums = make_archive(tmp_path)
    root = tmp_path / "root"
    with pytest.raises(DatasetError, match="checksum mismatch"):
        ensure_cifar10(root, url=archive.as_uri(), archive_md5="0" * 32, checksums=checksums)
    assert leftovers(root) == []


def test_truncated_archive_leaves_nothing_half_extracted(tmp_path):
    archive, checksums = make_archive(tmp_path)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    root = tmp_path / "root"
    with pytest.raises(DatasetError, match="truncated or damaged"):
        ensure_cifar10(root, url=cut.as_uri(), archive_md5=md5(cut), checksums=checksums)
    assert leftovers(root) == []


def test_damaged_member_leaves_nothing_extracted(tmp_path):
    archive, checksums = make_archive(tmp_path)
    checksums["test_batch.bin"] = "f" * 32
    root = tmp_path / "root"
    with pytest.raises(DatasetError, match="test_batch.bin"):
        ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)
    assert leftovers(root) == []


def test_no_network_says_what_to_download_and_where(tmp_path):
    root = tmp_path / "root"
    with pytest.raises(DatasetError) as error:
        ensure_cifar10(root, url=(tmp_path / "nowhere.tar.gz").as_uri())
    message = str(error.value)
    assert data.URL in message and str(root) in message and data.ARCHIVE_MD5 in message
    assert not any(root.iterdir())  # no partial download left
    with pytest.raises(DatasetError, match="not found"):
        ensure_cifar10(tmp_path / "empty", download=False)


def test_verification_is_cached_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    good = hashlib.md5(b"abc").hexdigest()
    verify_file(path, good)
    calls = []
    real_md5 = data._md5
    monkeypatch.setattr(data, "_md5", lambda p: calls.append(p) or real_md5(p))
    monkeypatch.setattr(data, "_VERIFIED", set())  # a new process: only the stamp file remains
    verify_file(path, good)
    assert calls == []
    path.write_bytes(b"abd")  # same size, new content and mtime
    with pytest.raises(DatasetError, match="checksum mismatch"):
        verify_file(path, good)
    assert calls == [path]


def test_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert resolve_root() == tmp_path
    assert resolve_root(tmp_path / "x") == tmp_path / "x"


def test_stratified_subset_is_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 100)
    np.random.default_rng(0).shuffle(labels)
    idx = stratified_subset(labels, 250, seed=3)
    counts = np.bincount(labels[idx], minlength=10)
    assert len(idx) == len(set(idx.tolist())) == 250
    assert counts.max() - counts.min() <= 1
    assert np.array_equal(idx, stratified_subset(labels, 250, seed=3))
    assert not np.array_equal(idx, stratified_subset(labels, 250, seed=4))
    for bad in (0, 1001, 2.5):
        with pytest.raises(ValueError, match="size"):
            stratified_subset(labels, bad)


def test_archive_member_names_are_safe(tmp_path):
    """An archive that tries to write outside its folder is refused."""
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    root = tmp_path / "root"
    with pytest.raises(DatasetError):
        ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive))
    assert not (tmp_path / "escape.txt").exists()
    assert leftovers(root) == []


def real_root() -> Path | None:
    try:
        root = resolve_root()
    except OSError:
        return None
    return root if (root / FOLDER / "test_batch.bin").is_file() else None


@pytest.mark.skipif(real_root() is None, reason="the real CIFAR-10 files are not available")
def test_real_cifar10_files():
    cifar = load_cifar10(train_size=1000, test_size=500, download=False)
    assert cifar.train_images.shape == (1000, 3, 32, 32)
    assert np.bincount(cifar.train_labels).tolist() == [100] * 10
    assert np.bincount(cifar.test_labels).tolist() == [50] * 10
    images, labels = read_batches([real_root() / FOLDER / "test_batch.bin"])
    assert images.shape == (10000, 3, 32, 32)
    assert labels[:4].tolist() == [3, 8, 8, 0]  # cat, ship, ship, airplane: the published order


def downloaded(tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    """A root with the archive and the extracted folder, as after a first download."""
    archive, checksums = make_archive(tmp_path)
    root = tmp_path / "root"
    ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)
    return root, checksums, md5(archive)


def test_damaged_then_deleted_file_says_how_to_repair_and_the_advice_works(tmp_path):
    root, checksums, archive_md5 = downloaded(tmp_path)
    nowhere = (tmp_path / "nowhere.tar.gz").as_uri()  # the repair must not need the network
    damaged = root / FOLDER / "data_batch_3.bin"
    damaged.write_bytes(b"x" + damaged.read_bytes()[1:])
    with pytest.raises(DatasetError, match="checksum mismatch.*data_batch_3.bin.*delete the folder"):
        load_cifar10(root, checksums=checksums)
    damaged.unlink()  # the user deletes only the damaged file
    with pytest.raises(DatasetError) as error:
        load_cifar10(root, checksums=checksums)
    message = str(error.value)
    assert "missing file" in message and "data_batch_3.bin" in message
    assert f"delete the folder {root / FOLDER}" in message and data.URL in message
    shutil.rmtree(root / FOLDER)  # as advised
    folder = ensure_cifar10(root, url=nowhere, archive_md5=archive_md5, checksums=checksums)
    assert md5(folder / "data_batch_3.bin") == checksums["data_batch_3.bin"]
    assert leftovers(root) == [FOLDER]


def test_folder_deleted_without_the_archive_downloads_again(tmp_path):
    archive, checksums = make_archive(tmp_path)
    root, _, archive_md5 = downloaded(tmp_path / "first")
    (root / FOLDER / "test_batch.bin").unlink()
    with pytest.raises(DatasetError, match="missing file .*test_batch.bin"):
        load_cifar10(root, checksums=checksums)
    shutil.rmtree(root / FOLDER)
    (root / data.ARCHIVE).unlink()
    with pytest.raises(DatasetError, match="not found"):
        load_cifar10(root, checksums=checksums, download=False)
    ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)
    assert sorted(p.name for p in (root / FOLDER).iterdir()) == sorted(NAMES)


def test_location_that_is_not_a_folder_says_to_choose_another(tmp_path):
    archive, checksums = make_archive(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DatasetError, match=f"cannot write CIFAR-10 into .*{data.DATA_ENV}"):
        ensure_cifar10(blocker / "data", url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)


def _read_only(*args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize("where", ["download", "extract", "move"])
def test_read_only_location_is_a_dataset_error_and_leaves_nothing(tmp_path, monkeypatch, where):
    """Root bypasses file permissions, so a read-only folder is simulated where it is written."""
    archive, checksums = make_archive(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    if where == "download":
        monkeypatch.setattr(data, "open", _read_only, raising=False)
    elif where == "extract":
        monkeypatch.setattr(data.tempfile, "mkdtemp", _read_only)
    else:
        monkeypatch.setattr(data.os, "replace", lambda a, b: (_read_only() if Path(b).name == FOLDER
                                                              else shutil.move(a, b)))
    monkeypatch.setattr(Path, "unlink", _read_only)  # and the clean-up fails too
    with pytest.raises(DatasetError) as error:
        ensure_cifar10(root, url=archive.as_uri(), archive_md5=md5(archive), checksums=checksums)
    assert f"cannot write CIFAR-10 into {root}" in str(error.value)
    assert "Permission denied" in str(error.value) and data.DATA_ENV in str(error.value)
    monkeypatch.undo()
    assert leftovers(root) == [] and not list(root.glob("*.part"))


def test_failed_clean_up_never_hides_the_download_error(tmp_path, monkeypatch):
    root = tmp_path / "root"
    monkeypatch.setattr(Path, "unlink", _read_only)
    with pytest.raises(DatasetError, match="could not download CIFAR-10"):
        ensure_cifar10(root, url=(tmp_path / "nowhere.tar.gz").as_uri())
