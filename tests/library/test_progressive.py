"""The progressive-learning schedule (EfficientNetV2 Algorithm 1)."""

import pytest

from effnet_core.book.plots.progressive import plot_schedule
from effnet_core.progressive import CIFAR_DEFAULTS, ProgressiveSchedule, Stage


def test_cifar_defaults_stage_by_stage():
    stages = CIFAR_DEFAULTS.stages()
    assert [s.image_size for s in stages] == [16, 20, 28, 32]
    assert [s.magnitude for s in stages] == pytest.approx([0, 10 / 3, 20 / 3, 10])
    assert [s.mixup_alpha for s in stages] == pytest.approx([0, 0.2 / 3, 0.4 / 3, 0.2])
    assert [s.dropout for s in stages] == pytest.approx([0.1, 0.1 + 0.2 / 3, 0.1 + 0.4 / 3, 0.3])
    assert [s.index for s in stages] == [0, 1, 2, 3]


def test_paper_values_for_v2_s():
    paper = ProgressiveSchedule(
        num_stages=4, min_size=128, max_size=300, min_magnitude=5, max_magnitude=15,
        min_mixup=0, max_mixup=0, min_dropout=0.1, max_dropout=0.3, size_multiple=1,
    )
    first, last = paper.stage(0), paper.stage(3)
    assert (first.image_size, first.magnitude, first.dropout) == (128, 5, 0.1)
    assert (last.image_size, last.magnitude, last.dropout) == (300, 15, 0.3)
    assert paper.stage(1).image_size == round(128 + 172 / 3)


@pytest.mark.parametrize(
    "epochs, expected",
    [(8, [0, 0, 1, 1, 2, 2, 3, 3]), (4, [0, 1, 2, 3]), (5, [0, 0, 1, 2, 3]), (3, [0, 2, 3]),
     (2, [0, 3]), (1, [3])],
)
def test_stage_for_epoch_splits_epochs_evenly(epochs, expected):
    assert [CIFAR_DEFAULTS.stage_for_epoch(e, epochs).index for e in range(epochs)] == expected


def test_fixed_baseline_is_the_final_stage_throughout():
    fixed = CIFAR_DEFAULTS.fixed()
    assert fixed.num_stages == 1
    assert fixed.stage(0) == Stage(0, 32, 10.0, 0.2, 0.3)
    assert all(fixed.stage_for_epoch(e, 6) == fixed.stage(0) for e in range(6))


def test_sizes_are_multiples_within_bounds():
    schedule = ProgressiveSchedule(num_stages=6, min_size=18, max_size=32, size_multiple=8)
    sizes = [s.image_size for s in schedule.stages()]
    assert sizes == sorted(sizes) and sizes[0] >= 18 and sizes[-1] == 32
    assert all(s % 8 == 0 for s in sizes[1:-1])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(num_stages=0), "num_stages"),
        (dict(min_size=40), "min_size"),
        (dict(min_magnitude=12), "magnitude"),
        (dict(max_dropout=1.5), "dropout"),
        (dict(min_mixup=-1), "mixup"),
        (dict(size_multiple=0), "size_multiple"),
    ],
)
def test_bad_settings_are_rejected(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ProgressiveSchedule(**kwargs)


def test_bad_stage_and_epoch():
    with pytest.raises(ValueError, match="k must"):
        CIFAR_DEFAULTS.stage(4)
    with pytest.raises(ValueError, match="epoch must"):
        CIFAR_DEFAULTS.stage_for_epoch(5, 5)


def test_plot_schedule():
    fig = plot_schedule(CIFAR_DEFAULTS, 8)
    assert len(fig.axes) == 4
    line = fig.axes[0].lines[0]
    assert list(line.get_ydata()) == [16, 16, 20, 20, 28, 28, 32, 32]
    with pytest.raises(ValueError, match="epochs"):
        plot_schedule(CIFAR_DEFAULTS, 0)


def test_plot_ablation_and_accuracy_against_macs():
    from effnet_core.book.plots.progressive import plot_ablation, plot_accuracy_vs_time

    def arm(acc, seconds, macs):
        return {"final_test_acc": {"mean": acc, "min": acc - 0.01, "max": acc + 0.02},
                "train_time_s": {"mean": seconds, "min": seconds - 1, "max": seconds + 1},
                "train_macs": {"mean": macs, "min": macs, "max": macs}}

    record = {"summary": {"arms": {"fixed/fixed": arm(0.5, 100, 4e12),
                                   "progressive/adaptive": arm(0.49, 60, 2e12)}}}
    live = {"fixed": [{"test_acc": 0.52, "train_time_s": 90.0, "train_macs": 3e12}]}
    fig = plot_ablation(record, live)
    times, macs = fig.axes
    first = times.containers[0].lines[0]
    assert list(first.get_xdata()) == [100] and list(first.get_ydata()) == [50]
    assert list(macs.containers[1].lines[0].get_xdata()) == [2.0]  # in units of 1e12
    assert list(times.lines[-1].get_ydata()) == [52]  # the live run's open marker
    fig = plot_accuracy_vs_time(live, x="train_macs")
    assert list(fig.axes[0].lines[0].get_xdata()) == [0.0, 3.0]
    with pytest.raises(ValueError, match="x must be one of"):
        plot_accuracy_vs_time(live, x="epoch")
