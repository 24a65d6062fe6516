"""The chapter experiments: recorded settings match the code, the verdict, the proxy network."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from effnet_core.book import experiments as ex
from effnet_core.book.plots.experiments import plot_experiment


@pytest.mark.parametrize("name", ex.NAMES)
def test_record_matches_current_settings(name: str) -> None:
    experiment = ex.get_experiment(name)
    record = ex.load_record(name)
    assert record["settings"] == experiment.settings(), (
        f"{ex.record_path(name).name} was made with other settings: rerun "
        f"`python benchmarks/chapter_experiments.py --experiment {name}`")
    assert [s["seed"] for s in record["seeds"]] == list(experiment.seeds)
    for seed in record["seeds"]:
        assert set(seed["arms"]) == set(experiment.arms)
        for result in seed["arms"].values():
            assert all(0 <= result[metric] <= 1 for metric in experiment.metrics)
    for key in ("command", "git_commit", "device", "threads", "date", "duration_s"):
        assert record[key], key


def test_verdict_clear_differences() -> None:
    low, high = [0.50, 0.51, 0.49], [0.60, 0.61, 0.59]
    assert ex.verdict(high, low, ("swish", "relu")) == "swish better"
    assert ex.verdict(low, high, ("swish", "relu")) == "relu better"
    assert ex.verdict(low, high) == "B better"


def test_verdict_within_noise() -> None:
    a, b = [0.50, 0.60, 0.40], [0.52, 0.62, 0.42]
    assert ex.verdict(a, b) == "within noise"
    # the same gap with a tenth of the spread is real
    assert ex.verdict([0.50, 0.51, 0.49], [0.52, 0.53, 0.51]) == "B better"
    assert ex.verdict([0.5, 0.5], [0.5, 0.5]) == "within noise"


def test_verdict_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="a and b"):
        ex.verdict([0.5], [0.4, 0.5])
    with pytest.raises(ValueError, match="k must"):
        ex.verdict([0.5, 0.6], [0.4, 0.5], k=-1)


def test_spread() -> None:
    stats = ex.spread([1.0, 2.0, 3.0])
    assert stats["mean"] == 2.0 and stats["std"] == 1.0
    assert stats["sem"] == pytest.approx(1 / 3**0.5)


def test_proxy_variants() -> None:
    relu_proj = ex.proxy_net(ex.ProxySpec(projection="relu"))
    blocks = [m for m in relu_proj if hasattr(m, "block")]
    assert all(isinstance(b.block[-1], nn.ReLU) for b in blocks)
    assert not any(isinstance(m, nn.ReLU) for m in ex.proxy_net(ex.ProxySpec()).modules())
    without_se = ex.proxy_net(ex.ProxySpec(se=False))
    assert not any(isinstance(m, ex.ec.SqueezeExcitation) for m in without_se.modules())
    with pytest.raises(ValueError, match="activation"):
        ex.ProxySpec(activation="gelu")


def test_dead_fraction_counts_never_positive_channels() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 1, bias=True), nn.ReLU())
    with torch.no_grad():
        net[0].weight.fill_(0.0)
        net[0].bias.copy_(torch.tensor([-1.0, 1.0]))
    assert ex.dead_fraction(net, torch.randn(4, 1, 3, 3)) == 0.5


@pytest.mark.slow
def test_scaling_arms_are_matched_in_macs() -> None:
    assert ex.matched_scaling_arms() == ex.SCALING_ARMS
    macs = ex.get_experiment("scaling").extra["macs"]
    assert max(macs.values()) / min(macs.values()) < 1.1


def test_verdict_lower_is_better() -> None:
    fewer, more = [0.01, 0.02, 0.015], [0.20, 0.22, 0.21]
    assert ex.verdict(fewer, more, ("swish", "relu"), higher_is_better=False) == "swish better"


def test_missing_record_says_how_to_make_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(ex, "RECORDS", tmp_path)
    with pytest.raises(FileNotFoundError, match="--experiment se"):
        ex.load_record("se")
    with pytest.raises(ValueError, match="experiment must be one of"):
        ex.get_experiment("gelu")


def test_plot_marks_each_live_arm_once_in_the_legend() -> None:
    record = ex.load_record("scaling")
    live = {"depth only": {"test_acc": 0.3}, "compound": {"test_acc": 0.2}}
    fig = plot_experiment(record, ("test_acc",), live)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels.count("your live run") == 1
    assert len(fig.axes[0].get_xticklabels()) == len(record["settings"]["arms"])
