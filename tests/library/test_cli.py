"""The command line fails well: bad arguments, missing devices and data, Ctrl-C and resuming."""

import json

import pytest
import torch
from runutils import drop_times

from effnet_core.data import FOLDER, resolve_root
from effnet_core.train import cli, load_state, loop, main

HAVE_CIFAR = (resolve_root() / FOLDER / "test_batch.bin").is_file()
needs_cifar = pytest.mark.skipif(not HAVE_CIFAR, reason="the real CIFAR-10 files are not available")
TINY = ["--train-size", "100", "--test-size", "100", "--epochs", "2", "--batch-size", "50",
        "--width-mult", "0.25", "--depth-mult", "0.25", "--device", "cpu", "--no-progress"]


pytestmark = pytest.mark.usefixtures("one_thread")


def fails(argv: list[str], capsys) -> str:
    """Run ``main(argv)``; check exit status 2 and a one-line error; return that line."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("usage: python -m effnet_core.train")
    errors = [line for line in err if "error:" in line]
    assert len(errors) == 1 and errors[0] == err[-1] and "Traceback" not in "\n".join(err)
    return errors[0]


BAD = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "-3"], "--epochs"), (["--epochs", "two"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"), (["--lr", "0"], "--lr"), (["--lr", "-0.1"], "--lr"),
    (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"), (["--train-size", "0"], "--train-size"),
    (["--train-size", "50001"], "--train-size"), (["--test-size", "-1"], "--test-size"),
    (["--test-size", "10001"], "--test-size"), (["--width-mult", "0"], "--width-mult"),
    (["--depth-mult", "nan"], "--depth-mult"), (["--stages", "0"], "--stages"),
    (["--min-size", "64", "--max-size", "32"], "--min-size"), (["--max-size", "0"], "--max-size"),
    (["--seed", "-1"], "--seed"), (["--label-smoothing", "1"], "--label-smoothing"),
    (["--label-smoothing", "-0.1"], "--label-smoothing"),
    (["--train-size", "100", "--batch-size", "200"], "--batch-size"),
]


@pytest.mark.parametrize(("argv", "flag"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_numbers_exit_2_naming_the_argument(argv, flag, tmp_path, capsys):
    out = tmp_path / "out"
    line = fails([*argv, "--out", str(out)], capsys)
    assert f"argument {flag}:" in line
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_device_is_reported_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    line = fails(["--device", "cuda", "--out", str(out)], capsys)
    assert "argument --device: cuda is not available" in line
    assert not out.exists()


def test_missing_data_is_reported_without_creating_folders(tmp_path, capsys):
    nowhere, out = tmp_path / "no" / "such" / "folder", tmp_path / "out"
    assert "argument --data-root:" in fails(["--data-root", str(nowhere), "--out", str(out)], capsys)
    assert not (tmp_path / "no").exists() and not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    line = fails(["--data-root", str(empty), "--no-download", "--out", str(out)], capsys)
    assert "argument --no-download:" in line and list(empty.iterdir()) == [] and not out.exists()


def test_bad_paths_are_reported_up_front(tmp_path, capsys):
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    assert "argument --out:" in fails(["--out", str(a_file)], capsys)
    assert a_file.read_text() == "keep me"
    assert "argument --checkpoint:" in fails(["--checkpoint", str(tmp_path)], capsys)
    assert "argument --resume:" in fails(["--resume", str(tmp_path / "none.pt")], capsys)
    assert "argument --resume:" in fails(["--resume", str(a_file), "--out", str(tmp_path / "o")], capsys)


@needs_cifar
def test_ctrl_c_keeps_the_last_finished_epoch_and_resumes(tmp_path, capsys, monkeypatch):
    whole = main([*TINY, "--out", str(tmp_path / "whole")])
    capsys.readouterr()
    calls = []
    real = loop.train_one_epoch

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the fixed run's second epoch, after one whole round
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "train_one_epoch", interrupted)
    out = tmp_path / "cut"
    with pytest.raises(SystemExit) as exit_info:
        main([*TINY, "--out", str(out)])
    assert exit_info.value.code == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "epoch 1 of 2" in err and "--resume" in err
    saved = load_state(out / "checkpoint.pt")
    assert {name: run["epoch"] for name, run in saved["runs"].items()} == {"fixed": 1, "progressive": 1}
    assert list(out.glob("*.tmp")) == []
    monkeypatch.setattr(loop, "train_one_epoch", real)
    resumed = main([*TINY, "--out", str(out), "--resume", str(out / "checkpoint.pt")])
    for name in ("fixed", "progressive"):
        assert drop_times(resumed["runs"][name]["history"]) == drop_times(whole["runs"][name]["history"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("fixed ") and "progressive " in last and "% test accuracy in" in last
    written = json.loads((out / "results.json").read_text())
    assert written["runs"]["fixed"]["train_macs"] > written["runs"]["progressive"]["train_macs"] > 0


def test_argument_types():
    assert cli.positive_int("3") == 3 and cli.positive_float("0.5") == 0.5 and cli.fraction("0") == 0
