"""check_se accepts EfficientNet's SE layer and rejects the usual mistakes with specific messages."""

import pytest
import torch
from torch import nn

from effnet_core.book.checkers import EXERCISES, check_se
from effnet_core.layers import se_squeeze_channels


class Reference(nn.Module):
    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__()
        squeeze = se_squeeze_channels(block_in_channels, se_ratio)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.act = nn.SiLU()

    def gates(self, x):
        return torch.sigmoid(self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True)))))

    def forward(self, x):
        return x * self.gates(x)


class LinearLayers(nn.Module):
    """A correct answer written differently: nn.Linear, ReLU, functional ops."""

    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__()
        squeeze = max(1, int(block_in_channels * se_ratio))
        self.down, self.up = nn.Linear(channels, squeeze), nn.Linear(squeeze, channels)

    def forward(self, x):
        s = torch.sigmoid(self.up(torch.relu(self.down(x.mean((2, 3))))))
        return x * s[:, :, None, None]


class FromExpanded(Reference):
    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__(channels, channels, se_ratio)


class NoSigmoid(Reference):
    def forward(self, x):
        return x * self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))


class ReturnsGates(Reference):
    def forward(self, x):
        return self.gates(x)


class MaxPool(Reference):
    def forward(self, x):
        z = x.amax((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(self.act(self.fc1(z))))


class SumPool(Reference):
    def forward(self, x):
        z = x.sum((2, 3), keepdim=True)
        return x * torch.sigmoid(self.fc2(self.act(self.fc1(z))))


class NoMinimumWidth(Reference):
    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__(channels, block_in_channels, se_ratio)
        squeeze = int(block_in_channels * se_ratio)
        self.fc1, self.fc2 = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)


class FlatGates(Reference):
    def forward(self, x):
        return (x * self.gates(x)).flatten(1)


class SpatialGate(Reference):
    """Gates per pixel instead of per channel."""

    def forward(self, x):
        return x * torch.sigmoid(x) * self.gates(x)


class WrongOrder(Reference):
    """Activation after the second map, sigmoid skipped between: still gates in (0, 1)."""

    def forward(self, x):
        z = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.act(self.fc2(self.fc1(z))))


def test_reference_and_variant_pass():
    for cls in (Reference, LinearLayers):
        result = check_se(cls, quiet=True)
        assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (FromExpanded, "0.25 x the channels of the feature map"),
        (NoSigmoid, "sigmoid"),
        (ReturnsGates, "those are the gates"),
        (MaxPool, "same per-channel MEAN"),
        (SumPool, "not a sum"),
        (FlatGates, "keeps the shape of its input"),
        (NoMinimumWidth, "at least one"),
        (SpatialGate, "one number"),
        (WrongOrder, "Check the order"),
    ],
)
def test_wrong_answers_fail_with_specific_message(wrong, message):
    result = check_se(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


def test_not_a_class_fails():
    assert check_se(Reference(8, 8), quiet=True).status == "fail"


def test_stub_is_not_attempted():
    class Stub(nn.Module):
        def __init__(self, channels, block_in_channels, se_ratio=0.25):
            super().__init__()
            raise NotImplementedError()

    assert check_se(Stub, quiet=True).status == "not attempted"


def test_hints_do_not_give_the_answer():
    assert EXERCISES["se-efficientnet"] is check_se
    text = " ".join(check_se.hints)
    assert len(check_se.hints) >= 2
    for answer in ("sigmoid(", "mean(", "* 0.25", "max(1", "int("):
        assert answer not in text
