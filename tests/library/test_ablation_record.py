"""The recorded 2x2 ablation was made with the code's current settings (it cannot go stale silently)."""

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "progressive_ablation.py"


def load_script():
    spec = importlib.util.spec_from_file_location("progressive_ablation", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_ablation_matches_the_current_settings():
    script = load_script()
    record = json.loads(script.RESULTS.read_text())
    current = script.settings(**{k: v for k, v in script.DEFAULTS.items() if k not in ("threads", "jobs")})
    assert record["settings"] == json.loads(json.dumps(current)), (
        "benchmarks/results/progressive_ablation_cpu.json was made with other settings: "
        "rerun python benchmarks/progressive_ablation.py"
    )
    assert (record["threads"], record["jobs"]) == (script.DEFAULTS["threads"], script.DEFAULTS["jobs"])
    assert len(record["seeds"]) == len(current["seeds"]) >= 3
    for provenance in ("command", "git_commit", "device", "date", "duration_s"):
        assert record[provenance]
    summary = record["summary"]["arms"]
    for arm in current["arms"]:
        accs = [seed[arm]["final_test_acc"] for seed in record["seeds"]]
        assert abs(summary[arm]["final_test_acc"]["mean"] - sum(accs) / len(accs)) < 1e-12
