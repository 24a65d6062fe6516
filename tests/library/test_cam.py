"""Class activation maps point where the class evidence is."""

import pytest
import torch
from torch import nn

from effnet_core import efficientnet_v2_cifar
from effnet_core.book.plots.progressive import plot_cams
from effnet_core.cam import class_activation_maps


class Toy(nn.Module):
    """Features = the input itself; class 0 reads channel 0, class 1 reads channel 1."""

    def __init__(self):
        super().__init__()
        self.features = nn.Identity()
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(3, 2))
        with torch.no_grad():
            self.classifier[1].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
            self.classifier[1].bias.zero_()


def test_cam_peaks_where_the_evidence_is():
    x = torch.zeros(1, 3, 8, 8)
    x[0, 0, :2, :2] = 5.0  # class 0 evidence top-left
    x[0, 1, 6:, 6:] = 1.0  # weaker class 1 evidence bottom-right
    cams, logits = class_activation_maps(Toy(), x)
    assert logits.argmax(1).item() == 0
    assert cams.shape == (1, 8, 8) and cams.min() == 0 and cams.max() == 1
    assert cams[0, 0, 0] == 1 and cams[0, 7, 7] == 0
    other, _ = class_activation_maps(Toy(), x, classes=torch.tensor([1]))
    assert other[0, 7, 7] == 1


def test_cam_logits_match_the_model():
    torch.manual_seed(0)
    model = efficientnet_v2_cifar(width_mult=0.25).eval()
    x = torch.randn(3, 3, 32, 32)
    cams, logits = class_activation_maps(model, x)
    assert torch.allclose(logits, model(x), atol=1e-5)
    assert cams.shape == (3, 32, 32)
    fig = plot_cams(torch.zeros(3, 3, 32, 32, dtype=torch.uint8), cams, ["a", "b", "c"])
    assert len(fig.axes) == 6


def test_cam_needs_torchvision_structure():
    with pytest.raises(TypeError, match="features"):
        class_activation_maps(nn.Linear(3, 2), torch.zeros(1, 3))
