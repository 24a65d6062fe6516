"""The paper's ablation on CPU: image size fixed/progressive x regularization fixed/adaptive, over seeds.

    PYTHONPATH=. python benchmarks/progressive_ablation.py            # writes the results file below

For every seed the four arms (:meth:`effnet_core.ProgressiveSchedule.ablation` of the ``cpu``
budget's schedule) train from the same initial weights on the same stratified subset, interleaved
epoch by epoch in one process (:func:`effnet_core.train.train_interleaved`), so a change in the
machine's load hits all four alike; the seeds run in parallel processes (``--jobs``, one thread
each by default). Each arm's final test accuracy, training time and MACs processed are recorded,
with the mean and spread over seeds, and whether progressive learning reached the fixed run's
final accuracy and in what share of its time. The file is rewritten after every seed, with its
provenance (command, git commit, device, threads, date, duration, settings);
``tests/library/test_ablation_record.py`` checks its settings against this code's.

The default size and thread count are the ``cpu`` budget's chapter run's (25,000 training and
2,000 test images, the same network, schedule, batch size and 4 epochs, 2 threads, one seed at a
time), so that the chapter can plot its live run on the same clock; 3 seeds x 4 arms take about
25 minutes on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path

import torch

import effnet_core as ec
from effnet_core.train import PRESETS, preset_schedule, time_to_accuracy, train_interleaved

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "effnet_core" / "book" / "records" / "progressive_ablation_cpu.json"  # in the package
DEFAULTS = {"budget": "cpu", "train_size": 25_000, "test_size": 2000, "seeds": 3, "threads": 2, "jobs": 1}


def settings(budget: str, train_size: int, test_size: int, seeds: int) -> dict:
    """Everything that decides the results (compared with the recorded file by a test)."""
    preset = PRESETS[budget]
    return {
        "budget": budget, "train_size": train_size, "test_size": test_size,
        "width_mult": preset["width_mult"], "depth_mult": preset["depth_mult"],
        "seeds": list(range(seeds)), "config": {k: v for k, v in asdict(preset["config"]).items()
                                                if k not in ("progress", "seed")},
        "arms": {name: s.as_dict() for name, s in preset_schedule(budget).ablation().items()},
    }


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation, min and max."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": sd, "min": min(values), "max": max(values)}


def run_seed(setup: dict, seed: int, threads: int) -> dict[str, dict]:
    """Train the four arms on one seed with ``threads`` threads; per arm its final numbers and history."""
    torch.set_num_threads(threads)
    preset = PRESETS[setup["budget"]]
    data = ec.load_cifar10(train_size=setup["train_size"], test_size=setup["test_size"], seed=seed,
                           download=False)
    config = replace(preset["config"], seed=seed, progress=False)
    schedules = preset_schedule(setup["budget"]).ablation()

    def model_fn() -> torch.nn.Module:
        return ec.efficientnet_v2_cifar(width_mult=setup["width_mult"], depth_mult=setup["depth_mult"])

    runs = train_interleaved(model_fn, data, schedules, config, "cpu")
    return {name: {"final_test_acc": h[-1]["test_acc"], "train_time_s": h[-1]["train_time_s"],
                   "train_macs": h[-1]["train_macs"], "history": list(h)} for name, (_, h) in runs.items()}


def summarize(per_seed: list[dict[str, dict]]) -> dict:
    """Mean and spread per arm, and progressive learning against the fixed baseline per seed."""
    arms = {name: {key: spread([seed[name][key] for seed in per_seed])
                   for key in ("final_test_acc", "train_time_s", "train_macs")} for name in per_seed[0]}
    verdicts = []
    for seed in per_seed:
        fixed, prog = seed["fixed/fixed"], seed["progressive/adaptive"]
        reach = time_to_accuracy(prog["history"], fixed["final_test_acc"])
        row = next((r for r in prog["history"] if r["test_acc"] >= fixed["final_test_acc"]), None)
        verdicts.append({
            "acc_gap_points": 100 * (prog["final_test_acc"] - fixed["final_test_acc"]),
            "time_ratio": prog["train_time_s"] / fixed["train_time_s"],
            "macs_ratio": prog["train_macs"] / fixed["train_macs"],
            "time_to_fixed_acc_ratio": None if reach is None else reach / fixed["train_time_s"],
            "macs_to_fixed_acc_ratio": None if row is None else row["train_macs"] / fixed["train_macs"],
        })
    return {"arms": arms, "progressive_vs_fixed": verdicts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=("cpu", "smoke"), default=DEFAULTS["budget"])
    parser.add_argument("--train-size", type=int, default=DEFAULTS["train_size"])
    parser.add_argument("--test-size", type=int, default=DEFAULTS["test_size"])
    parser.add_argument("--seeds", type=int, default=DEFAULTS["seeds"])
    parser.add_argument("--threads", type=int, default=DEFAULTS["threads"], help="threads per seed")
    parser.add_argument("--jobs", type=int, default=DEFAULTS["jobs"], help="seeds trained at once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    setup = settings(args.budget, args.train_size, args.test_size, args.seeds)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout
    record = {
        "command": " ".join(["python", "benchmarks/progressive_ablation.py", *sys.argv[1:]]),
        "git_commit": commit.strip(), "device": f"cpu ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores)", "threads": args.threads, "jobs": args.jobs, "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(), "settings": setup, "seeds": [],
    }
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = {pool.submit(run_seed, setup, seed, args.threads): seed for seed in setup["seeds"]}
        done = {}
        for job in as_completed(jobs):
            done[jobs[job]] = job.result()
            record["seeds"] = [done[seed] for seed in sorted(done)]
            record["summary"] = summarize(record["seeds"])
            record["duration_s"] = time.perf_counter() - start
            record["load_average_at_end"] = os.getloadavg()
            args.out.write_text(json.dumps(record, indent=1) + "\n")
            print(f"seed {jobs[job]} done after {record['duration_s']:.0f} s:",
                  {n: round(100 * r["final_test_acc"], 1) for n, r in done[jobs[job]].items()}, flush=True)


if __name__ == "__main__":
    main()
