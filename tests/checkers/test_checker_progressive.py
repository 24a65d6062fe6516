"""The progressive-learning checkers accept the reference and reject common mistakes."""

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
