"""benchmarks/gpu_acceptance.py (``make gpu-check``): a dry run on CPU writes a valid report."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_acceptance.py"


@pytest.fixture(scope="module")
def acceptance():
    spec = importlib.util.spec_from_file_location("gpu_acceptance", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_writes_a_valid_report(tmp_path, acceptance):
    out = tmp_path / "gpu_acceptance.json"
    assert acceptance.main(["--dry-run", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["device"] == "cpu" and report["precision"] == "fp32" and report["passed"]
    runs = report["chapter08"]["runs"]
    assert set(runs) == {"fixed", "progressive"}
    assert list(runs["fixed"]["images_per_s_by_stage"]) == ["32px"]
    assert list(runs["progressive"]["images_per_s_by_stage"]) == ["16px", "32px"]  # 2 epochs, 4 stages
    assert all(0 <= r["final_test_acc"] <= 1 and r["test_samples"] == 50 for r in runs.values())
    assert runs["fixed"]["time_to_fixed_final_acc_s"] <= runs["fixed"]["train_time_s"]
    assert set(report["chapter07"]["block_step_ms"]) == {
        "early MBConv", "early Fused-MBConv", "late MBConv", "late Fused-MBConv"}
    assert 0 < report["wall_time_s"] <= report["budget_s"]
    # the same report fails the real criteria: 90 % accuracy, and a budget it cannot meet
    assert acceptance.checks(report, 0.9, 1e9) == {"fixed_acc_ok": False, "time_ok": True}
    assert acceptance.checks(report, 0.0, 1e-3) == {"fixed_acc_ok": True, "time_ok": False}


def test_without_a_gpu_the_real_run_refuses(tmp_path, acceptance, monkeypatch):
    monkeypatch.setattr(acceptance.ec, "pick_device", lambda: acceptance.torch.device("cpu"))
    assert acceptance.main(["--out", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()
