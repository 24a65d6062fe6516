"""Activation memory, largest batch, arithmetic intensity, and MobileNetV2 (chapter "EfficientNetV2")."""

import pytest
import torch

from effnet_core import EfficientNet, FusedMBConv, MBConv, count_macs, count_params, flop_counter_macs
from effnet_core.configs import B0_STAGES, scale_stages
from effnet_core.mobilenet import mobilenet_v2
from effnet_core.training_cost import (
    activation_bytes,
    conv_intensity,
    conv_traffic,
    largest_batch,
    saved_tensor_bytes,
)


def tiny() -> EfficientNet:
    return EfficientNet(scale_stages(B0_STAGES, 0.25, 0.25), stem_channels=8, head_channels=64,
                        num_classes=10)


def test_activation_estimate_is_close_to_what_autograd_saves():
    model = tiny()
    estimate = activation_bytes(model, 64, batch_size=2)
    measured = saved_tensor_bytes(model, (2, 3, 64, 64))
    assert 0.6 < estimate / measured < 1.4


def test_activation_bytes_scale_with_batch_and_resolution():
    model = tiny()
    one = activation_bytes(model, 64)
    assert activation_bytes(model, 64, batch_size=3) == 3 * one
    assert 3.5 < activation_bytes(model, 128) / one < 4.5


def test_largest_batch():
    assert largest_batch(1000, 100, 10, bytes_per_param=10) == 9
    assert largest_batch(100, 100, 10, bytes_per_param=10) == 0
    with pytest.raises(ValueError, match="per_image_bytes"):
        largest_batch(1000, 0, 10)


def test_conv_intensity_by_hand():
    # 1x1 conv 2 -> 2 on a 1x1 map: 4 MACs over (2 + 2 + 4) elements of 4 bytes.
    assert conv_intensity(2, 2, 1, 1, 1) == pytest.approx(4 / 32)
    # Depthwise 3x3 on 4 channels, 2x2 output at stride 2: input is 4x4.
    macs, moved = 2 * 2 * 4 * 9, 4 * 16 + 4 * 4 + 4 * 9
    assert conv_intensity(4, 4, 3, 2, 2, groups=4, stride=2) == pytest.approx(macs / (4 * moved))
    with pytest.raises(ValueError, match="groups"):
        conv_intensity(4, 6, 3, 2, 2, groups=4)


def test_conv_traffic_matches_conv_intensity_for_one_conv():
    conv = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
    macs, moved = conv_traffic(conv, (1, 8, 16, 16))
    assert macs == 8 * 8 * 16 * 8 * 9
    assert macs / moved == pytest.approx(conv_intensity(8, 16, 3, 8, 8, stride=2))


def test_fused_has_more_macs_and_higher_intensity_than_mbconv():
    mb, fused = conv_traffic(MBConv(24, 24, 4, 3, 1), (1, 24, 56, 56)), conv_traffic(
        FusedMBConv(24, 24, 4, 3, 1), (1, 24, 56, 56))
    assert fused[0] > mb[0]
    assert fused[0] / fused[1] > mb[0] / mb[1]


def test_mobilenet_v2_matches_torchvision_params_and_paper_macs():
    model = mobilenet_v2()
    assert count_params(model) == 3_504_872
    assert count_macs(model, 224) == flop_counter_macs(model, 224)
    assert abs(count_macs(model, 224) / 300e6 - 1) < 0.01
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 1000)


def test_mobilenet_v2_rejects_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        mobilenet_v2(num_classes=0)
