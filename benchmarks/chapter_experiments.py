"""The small CIFAR-10 experiments of chapters 01, 03, 04 and 06, over seeds, recorded with provenance.

    PYTHONPATH=. python benchmarks/chapter_experiments.py --experiment swish_relu  # se, projection, scaling

Every arm of the experiment (:func:`effnet_core.book.experiments.get_experiment`) trains on every seed
in its own process (``--jobs`` at once, ``--threads`` threads each), on the seed's stratified
subset of CIFAR-10 and from the seed's initial weights. The record
``effnet_core/book/records/experiment_<name>_cpu.json`` is rewritten after every run with its provenance
(command, git commit, device, threads, date, duration) and settings;
``tests/library/test_experiments.py`` checks those settings against the current code's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from effnet_core.book import experiments as ex


def run_one(name: str, arm: str, seed: int, threads: int) -> dict:
    """Train one arm on one seed with ``threads`` threads."""
    torch.set_num_threads(threads)
    return ex.run_arm(ex.get_experiment(name), arm, seed)


def summarize(experiment: ex.Experiment, seeds: list[dict]) -> dict:
    """Mean and spread per arm and metric over the finished seeds."""
    return {arm: {metric: ex.spread([s["arms"][arm][metric] for s in seeds])
                  for metric in (*experiment.metrics, "train_time_s")} for arm in experiment.arms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", required=True, choices=ex.NAMES)
    parser.add_argument("--threads", type=int, default=1, help="threads per process")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained at once")
    args = parser.parse_args()
    experiment = ex.get_experiment(args.experiment)
    command = " ".join(["python", "benchmarks/chapter_experiments.py", *sys.argv[1:]])
    record = {**ex.provenance(command, args.threads, args.jobs), "settings": experiment.settings()}
    out = ex.record_path(experiment.name)
    done: dict[int, dict] = {}
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        runs = {pool.submit(run_one, experiment.name, arm, seed, args.threads): (seed, arm)
                for seed in experiment.seeds for arm in experiment.arms}
        for job in as_completed(runs):
            seed, arm = runs[job]
            done.setdefault(seed, {"seed": seed, "arms": {}})["arms"][arm] = job.result()
            finished = [done[s] for s in sorted(done) if len(done[s]["arms"]) == len(experiment.arms)]
            record.update(seeds=finished, duration_s=time.perf_counter() - start,
                          load_average_at_end=os.getloadavg())
            if finished:
                record["summary"] = summarize(experiment, finished)
            out.write_text(json.dumps(record, indent=1) + "\n")
            print(f"{arm} seed {seed}: {100 * done[seed]['arms'][arm]['test_acc']:.1f}% "
                  f"after {record['duration_s']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
