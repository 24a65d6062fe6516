"""check_se accepts EfficientNet's SE layer and rejects the usual mistakes with specific messages."""

import pytest
import torch
from torch import nn

from effnet_core.book.checkers import EXERCISES, check_se
from effnet_core.layers import SqueezeExcitation, se_squeeze_channels


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
        (FromExpanded, "se_ratio x the channels of the feature map"),
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


class UpFirst(nn.Module):
    """Correct: the expanding map registered before the reducing one (the order issue 16 tripped on)."""

    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__()
        squeeze = max(1, int(block_in_channels * se_ratio))
        self.excite = nn.Conv2d(squeeze, channels, 1)
        self.reduce = nn.Conv2d(channels, squeeze, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.excite(nn.functional.silu(self.reduce(x.mean((2, 3), keepdim=True)))))


class LinearUpFirst(LinearLayers):
    """Correct: nn.Linear maps, registered up then down."""

    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        nn.Module.__init__(self)
        squeeze = max(1, int(block_in_channels * se_ratio))
        self.up = nn.Linear(squeeze, channels)
        self.down = nn.Linear(channels, squeeze)


class Functional(nn.Module):
    """Correct: bare parameters, F.conv2d, computed in float64."""

    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__()
        squeeze = max(1, int(block_in_channels * se_ratio))
        self.b2, self.b1 = nn.Parameter(torch.zeros(channels)), nn.Parameter(torch.zeros(squeeze))
        self.w2 = nn.Parameter(torch.randn(channels, squeeze, 1, 1) * 0.1)
        self.w1 = nn.Parameter(torch.randn(squeeze, channels, 1, 1) * 0.1)

    def forward(self, x):
        z = nn.functional.adaptive_avg_pool2d(x.double(), 1)
        h = nn.functional.silu(nn.functional.conv2d(z, self.w1.double(), self.b1.double()))
        s = torch.sigmoid(nn.functional.conv2d(h, self.w2.double(), self.b2.double()))
        return (x.double() * s).to(x.dtype)


class WrapsEffnetCore(nn.Module):
    """Correct: effnet_core's layer inside."""

    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__()
        self.inner = SqueezeExcitation(channels, se_squeeze_channels(block_in_channels, se_ratio))

    def forward(self, x):
        return self.inner(x)


@pytest.mark.parametrize("correct", [UpFirst, LinearUpFirst, Functional, WrapsEffnetCore])
def test_correct_variants_pass(correct):
    """Registration order, nn.Linear vs 1x1 conv, functional vs module, float64 inside."""
    result = check_se(correct, quiet=True)
    assert result.status == "pass", result.message


class IgnoresRatio(Reference):
    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__(channels, block_in_channels)


class NoBias(Reference):
    def __init__(self, channels, block_in_channels, se_ratio=0.25):
        super().__init__(channels, block_in_channels, se_ratio)
        squeeze = se_squeeze_channels(block_in_channels, se_ratio)
        self.fc1 = nn.Conv2d(channels, squeeze, 1, bias=False)
        self.fc2 = nn.Conv2d(squeeze, channels, 1, bias=False)


class AddsGates(Reference):
    def forward(self, x):
        return x + self.gates(x)


class NoActivation(Reference):
    def forward(self, x):
        return x * torch.sigmoid(self.fc2(self.fc1(x.mean((2, 3), keepdim=True))))


class SoftmaxGate(Reference):
    def forward(self, x):
        return x * torch.softmax(self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True)))), dim=1)


class ForgetsReturn(Reference):
    def forward(self, x):
        x * self.gates(x)  # noqa: B018 - the mistake: no return


class ChannelMean(Reference):
    """Squeezes over the channels instead of over H and W."""

    def forward(self, x):
        return x * torch.sigmoid(x.mean(1, keepdim=True))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (IgnoresRatio, "as if se_ratio were 0.25"),
        (NoBias, "with biases have"),
        (AddsGates, "multiplies each whole channel by one number"),
        (NoActivation, "for both act = SiLU and act = ReLU"),
        (SoftmaxGate, "Check the order"),
        (ForgetsReturn, "returned None"),
        (ChannelMean, "one number"),
    ],
)
def test_more_wrong_answers_fail_with_specific_message(wrong, message):
    """Arithmetic (width, se_ratio), parameters, gating, order and return-value mistakes."""
    result = check_se(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


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
