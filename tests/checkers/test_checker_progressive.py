"""The progressive-learning checkers accept the reference and reject common mistakes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from effnet_core import efficientnet_v2_cifar
from effnet_core.book.checkers.progressive import (
    check_mixup_targets,
    check_resnet_for_progressive,
    check_stage_value,
)


def status(checker, answer) -> tuple[str, str]:
    result = checker.evaluate(answer)
    return result.status, result.message


def stage_value(k, num_stages, low, high):
    if num_stages == 1:
        return high
    return low + (high - low) * k / (num_stages - 1)


def test_stage_value():
    assert status(check_stage_value, stage_value)[0] == "pass"
    wrong = {
        "reach the high value": lambda k, n, lo, hi: lo + (hi - lo) * k / n,
        "low value": lambda k, n, lo, hi: lo + (hi - lo) * (k + 1) / n,
        "dividing by zero": lambda k, n, lo, hi: lo + (hi - lo) * k / (n - 1),
        "decrease": lambda k, n, lo, hi: min(lo, hi) + abs(hi - lo) * k / (n - 1) if n > 1 else hi,
    }
    for message, answer in wrong.items():
        got = status(check_stage_value, answer)
        assert got[0] == "fail" and message in got[1], (message, got)


@pytest.mark.parametrize(
    "correct",
    [
        lambda k, n, lo, hi: hi if n == 1 else torch.lerp(torch.tensor(float(lo)), torch.tensor(float(hi)),
                                                          k / (n - 1)),
        lambda k, n, lo, hi: hi if n == 1 else np.float32(lo + (hi - lo) * k / (n - 1)),
        lambda k, n, lo, hi: float(np.interp(k, [0, max(n - 1, 1e-9)], [lo, hi])) if n > 1 else hi,
    ],
)
def test_stage_value_correct_variants(correct):
    """torch.lerp (float32 tensor), np.float32, np.interp all pass."""
    assert status(check_stage_value, correct) == ("pass", check_stage_value.evaluate(correct).message)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda k, n, lo, hi: round(stage_value(k, n, lo, hi)), "do not round"),
        (lambda k, n, lo, hi: lo + (hi - lo) * k // (n - 1) if n > 1 else hi, "should be"),
        (lambda k, n, lo, hi: lo + (hi - lo) * k / (n - 1) if n > 1 else lo, "single stage"),
        (lambda k, n, lo, hi: lo + (hi - lo) * (k / (n - 1)) ** 2 if n > 1 else hi, "k / (num_stages - 1)"),
        (lambda k, n, lo, hi: None, "returned None"),
        (lambda k, n, lo, hi: str(stage_value(k, n, lo, hi)), "must return a number"),
    ],
)
def test_stage_value_more_mistakes(wrong, message):
    """Rounding, truncation, the one-stage case, a curved schedule, no return, a string."""
    got = status(check_stage_value, wrong)
    assert got[0] == "fail" and message in got[1], got


def mixup_targets(labels, perm, lam, num_classes):
    one_hot = F.one_hot(labels, num_classes).float()
    return lam * one_hot + (1 - lam) * one_hot[perm]


def test_mixup_targets():
    assert status(check_mixup_targets, mixup_targets)[0] == "pass"
    wrong = {
        "partner's label": lambda y, p, lam, c: F.one_hot(y, c).float(),
        "swapped": lambda y, p, lam, c: mixup_targets(y, p, 1 - lam, c),
        "sum to 1": lambda y, p, lam, c: F.one_hot(y, c).float() + F.one_hot(y[p], c).float(),
        "shape": lambda y, p, lam, c: mixup_targets(y, p, lam, c).T,
    }
    for message, answer in wrong.items():
        got = status(check_mixup_targets, answer)
        assert got[0] == "fail" and message in got[1], (message, got)


@pytest.mark.parametrize(
    "correct",
    [
        lambda y, p, lam, c: lam * F.one_hot(y, c).double() + (1 - lam) * F.one_hot(y[p], c).double(),
        lambda y, p, lam, c: torch.eye(c)[y] * lam + torch.eye(c)[y][p] * (1 - lam),
        lambda y, p, lam, c: (lam * np.eye(c)[y.numpy()] + (1 - lam) * np.eye(c)[y.numpy()[p.numpy()]])
        .astype(np.float32),
        lambda y, p, lam, c: torch.lerp(F.one_hot(y[p], c).float(), F.one_hot(y, c).float(), lam),
    ],
)
def test_mixup_correct_variants(correct):
    """float64, torch.eye indexing, a NumPy float32 array, torch.lerp all pass."""
    result = check_mixup_targets.evaluate(correct)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda y, p, lam, c: lam * F.one_hot(y, c).float() + (1 - lam) * F.one_hot(p, c).float(),
         "one-hot encoded perm itself"),
        (lambda y, p, lam, c: mixup_targets(y, p.argsort(), lam, c), "inverse permutation"),
        (lambda y, p, lam, c: mixup_targets(y, torch.arange(len(y)), lam, c), "plain one-hot"),
        (lambda y, p, lam, c: mixup_targets(y, p, lam, int(y.max()) + 1), "expected shape"),
        (lambda y, p, lam, c: mixup_targets(y, p.roll(1), lam, c), "row"),
        (lambda y, p, lam, c: None, "returned None"),
        (lambda y, p, lam, c: mixup_targets(y, p, lam, c).tolist(), "must return a torch.Tensor"),
    ],
)
def test_mixup_more_mistakes(wrong, message):
    """one_hot(perm), the inverse permutation, no mixing, num_classes, wrong partner, return type."""
    got = status(check_mixup_targets, wrong)
    assert got[0] == "fail" and message in got[1], got


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
        )
        self.skip = nn.Identity() if stride == 1 and c_in == c_out else nn.Conv2d(c_in, c_out, 1, stride)

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


def resnet(head=None, dropout=True):
    layers = [nn.Conv2d(3, 8, 3, padding=1), Block(8, 8, 1), Block(8, 16, 2)]
    pool = head or [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    tail = [nn.Dropout(0.1)] if dropout else []
    width = 16 if head is None else 16 * 16 * 16
    return nn.Sequential(*layers, *pool, *tail, nn.Linear(width, 10))


def test_resnet_for_progressive():
    assert status(check_resnet_for_progressive, resnet)[0] == "pass"
    wrong = {
        "global pooling": lambda: resnet(head=[nn.Flatten()]),
        "nn.Dropout": lambda: resnet(dropout=False),
        "not an EfficientNet": lambda: efficientnet_v2_cifar(width_mult=0.25, dropout=0.1),
        "(2, 10)": lambda: nn.Sequential(resnet(), nn.Linear(10, 5)),
        "not a model": resnet(),
    }
    for message, answer in wrong.items():
        got = status(check_resnet_for_progressive, answer)
        assert got[0] == "fail" and message in got[1], (message, got)


def resnet_with(tail, blocks=True, input_dropout=False):
    body = [Block(8, 8, 1), Block(8, 16, 2)] if blocks else [nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU()]
    head = [nn.Dropout(0.1)] if input_dropout else []
    pool = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*head, nn.Conv2d(3, 8, 3, padding=1), *body, *pool, *tail)


class Functional(nn.Module):
    """Correct: blocks in a ModuleList, functional pooling and dropout module before the classifier."""

    def __init__(self):
        super().__init__()
        self.classifier = nn.Linear(16, 10)
        self.drop = nn.Dropout(0.2)
        self.blocks = nn.ModuleList([Block(3, 8, 1), Block(8, 16, 2)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.classifier(self.drop(F.adaptive_avg_pool2d(x, 1).flatten(1)))


@pytest.mark.parametrize(
    "correct",
    [
        Functional,
        lambda: resnet_with([nn.Dropout(0.1), nn.Linear(16, 10)]),
        lambda: resnet_with([nn.Dropout(0.1), nn.Identity(), nn.Linear(16, 10)]),
        lambda: resnet_with([nn.Dropout(0.0), nn.Linear(16, 10)]),
    ],
)
def test_resnet_correct_variants(correct):
    """A ModuleList with functional pooling, a Sequential, an Identity after the dropout, a rate of 0
    (the chapter's solution: the schedule sets the rate)."""
    result = check_resnet_for_progressive.evaluate(correct)
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda: resnet_with([nn.Linear(16, 10), nn.Dropout(0.1)]), "last layer is an nn.Dropout"),
        (lambda: resnet_with([nn.Linear(16, 10)], input_dropout=True), "acts on the input image"),
        (lambda: resnet_with([nn.Dropout(0.1), nn.Linear(16, 10)], blocks=False), "no residual connection"),
        (lambda: resnet_with([nn.Dropout(0.1), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 10)]),
         "does not read the output of an nn.Dropout"),
        (lambda: None, "returned None"),
        (lambda: resnet_with([nn.Dropout(0.1), nn.Linear(16, 10), nn.Softmax(dim=1)]),
         "should end with an nn.Linear"),
    ],
)
def test_resnet_more_mistakes(wrong, message):
    """Dropout after the Linear, on the input, not before the classifier; no residual; no return."""
    got = status(check_resnet_for_progressive, wrong)
    assert got[0] == "fail" and message in got[1], got
