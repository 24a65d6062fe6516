"""The EfficientNetV2 chapter's checkers accept the reference and reject common mistakes specifically."""

import numpy as np
import pytest
import torch
from torch import nn

from effnet_core.book.checkers import EXERCISES, check_conv_intensity, check_fused_mbconv
from effnet_core.training_cost import conv_intensity


def conv_bn(c_in, c_out, k, s, act=True, groups=1):
    layers = [nn.Conv2d(c_in, c_out, k, s, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.SiLU()) if act else nn.Sequential(*layers)


class Fused(nn.Module):
    """A correct Fused-MBConv in a layout of its own (not effnet_core's names)."""

    se = False
    depthwise = False
    act_after_project = False
    skip_rule = "right"
    always_project = False

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        super().__init__()
        mid = in_channels * expand_ratio
        if expand_ratio == 1 and not self.always_project:
            self.body = conv_bn(in_channels, out_channels, kernel_size, stride)
        elif self.depthwise:
            self.body = nn.Sequential(conv_bn(in_channels, mid, 1, 1),
                                      conv_bn(mid, mid, kernel_size, stride, groups=mid),
                                      conv_bn(mid, out_channels, 1, 1, act=False))
        else:
            self.body = nn.Sequential(conv_bn(in_channels, mid, kernel_size, stride),
                                      conv_bn(mid, out_channels, 1, 1, act=self.act_after_project))
        if self.se:
            self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(out_channels, 4, 1), nn.SiLU(),
                                      nn.Conv2d(4, out_channels, 1), nn.Sigmoid())
        self.stride = stride
        self.same = in_channels == out_channels

    def forward(self, x):
        out = self.body(x)
        if self.se:
            out = out * self.gate(out)
        if self.skip_rule == "right" and self.stride == 1 and self.same:
            out = out + x
        elif self.skip_rule == "ignore stride" and self.same:
            out = out + x
        elif self.skip_rule == "pooled" and self.same:
            out = out + nn.functional.avg_pool2d(x, self.stride) if self.stride == 2 else out + x
        elif self.skip_rule == "never":
            pass
        return out


def variant(**attrs):
    return type("Variant", (Fused,), attrs)


def test_reference_passes():
    result = check_fused_mbconv(Fused, quiet=True)
    assert result.status == "pass", result.message


def test_effnet_core_block_passes():
    from effnet_core import FusedMBConv

    assert check_fused_mbconv(FusedMBConv, quiet=True).status == "pass"


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (variant(se=True), "Squeeze-and-Excitation"),
        (variant(depthwise=True), "depthwise"),
        (variant(act_after_project=True), "activation follows the 1x1 projection"),
        (variant(skip_rule="ignore stride"), "residual on a stride-2 block"),
        (variant(skip_rule="pooled"), "(this is a stride-2 block)"),
        (variant(always_project=True), "with expand_ratio=1"),
        (variant(skip_rule="never"), "no skip connection"),
    ],
)
def test_wrong_fused_fails_with_specific_message(wrong, message):
    result = check_fused_mbconv(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


def test_fused_wrong_layer_order_is_caught():
    class BNFirst(Fused):
        def __init__(self, *args):
            super().__init__(*args)
            for seq in self.body.modules():
                if isinstance(seq, nn.Sequential) and isinstance(seq[0], nn.Conv2d) and len(seq) == 3:
                    seq[1], seq[2] = seq[2], seq[1]  # conv -> SiLU -> BN

    result = check_fused_mbconv(BNFirst, quiet=True)
    assert result.status == "fail"
    assert "followed by a BatchNorm2d" in result.message, result.message


class Configurable(nn.Module):
    """A correct Fused-MBConv registered projection-first, with switches for more mistakes."""

    skip = "right"
    fixed_kernel = None
    stride_on_projection = False
    bn_after_first = True
    width_from_output = False

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        super().__init__()
        mid = (out_channels if self.width_from_output else in_channels) * expand_ratio
        k = self.fixed_kernel or kernel_size
        s_first, s_proj = (1, stride) if self.stride_on_projection else (stride, 1)
        first_out = mid if expand_ratio > 1 else out_channels
        if expand_ratio > 1:
            self.project = nn.Conv2d(mid, out_channels, 1, s_proj, bias=False)
            self.project_bn = nn.BatchNorm2d(out_channels)
        self.first_bn = nn.BatchNorm2d(first_out) if self.bn_after_first else nn.Identity()
        self.first = nn.Conv2d(in_channels, first_out, k, s_first, k // 2, bias=False)
        self.expand_ratio = expand_ratio
        self.residual = stride == 1 and (in_channels == out_channels or self.skip == "stride only")
        self.shortcut = None
        if self.skip == "1x1 conv" and not self.residual:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x):
        out = nn.functional.silu(self.first_bn(self.first(x)))
        if self.expand_ratio > 1:
            out = self.project_bn(self.project(out))
        if self.residual:
            out = out + x
        elif self.shortcut is not None:
            out = out + self.shortcut(x)
        return out


def configured(**switches):
    return type("Configured", (Configurable,), switches)


class ReturnsNothing(Fused):
    def forward(self, x):
        super().forward(x)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (configured(skip="stride only"), "AND the channels match"),
        (configured(skip="1x1 conv"), "ResNet-style shortcut"),
        (configured(fixed_kernel=3), "should be 5x5"),
        (configured(stride_on_projection=True), "the stride belongs to the first (kxk) convolution"),
        (configured(bn_after_first=False), "followed by a BatchNorm2d"),
        (configured(width_from_output=True), "in_channels * expand_ratio"),
        (ReturnsNothing, "returned None"),
    ],
)
def test_more_wrong_fused_fail_with_specific_message(wrong, message):
    """Skip rule, shortcut, kernel, stride placement, BatchNorm placement, width and return mistakes."""
    result = check_fused_mbconv(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


class ByHand(nn.Module):
    """Correct: effnet_core's ConvBNAct pieces in a ModuleDict registered last-first."""

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        super().__init__()
        from effnet_core import ConvBNAct

        mid = in_channels * expand_ratio
        parts = {}
        if expand_ratio > 1:
            parts["b"] = ConvBNAct(mid, out_channels, 1, activation=None)
        parts["a"] = ConvBNAct(in_channels, mid if expand_ratio > 1 else out_channels, kernel_size, stride)
        self.parts = nn.ModuleDict(parts)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        out = self.parts["a"](x)
        if "b" in self.parts:
            out = self.parts["b"](out)
        return out + x if self.residual else out


@pytest.mark.parametrize("correct", [Configurable, ByHand, variant(skip_rule="right")])
def test_correct_fused_variants_pass(correct):
    """Other registration orders, functional SiLU, effnet_core's ConvBNAct all pass."""
    result = check_fused_mbconv(correct, quiet=True)
    assert result.status == "pass", result.message


def test_fused_stub_is_not_attempted():
    class Stub(nn.Module):
        def __init__(self, *args):
            raise NotImplementedError()

    assert check_fused_mbconv(Stub, quiet=True).status == "not attempted"


def reference_intensity(c_in, c_out, kernel_size, h_out, w_out, groups=1, stride=1):
    return conv_intensity(c_in, c_out, kernel_size, h_out, w_out, groups=groups, stride=stride)


def intensity_parts(c_in, c_out, kernel_size, h_out, w_out, groups=1, stride=1):
    weights = c_out * c_in // groups * kernel_size**2
    return (h_out * w_out * weights, c_in * stride * h_out * stride * w_out, c_out * h_out * w_out, weights)


def test_intensity_reference_passes():
    result = check_conv_intensity(reference_intensity, quiet=True)
    assert result.status == "pass", result.message


def no_groups(c_in, c_out, kernel_size, h_out, w_out, groups=1, stride=1):
    return reference_intensity(c_in, c_out, kernel_size, h_out, w_out, 1, stride) if groups == 1 else (
        h_out * w_out * c_out * c_in * kernel_size**2
        / (4 * (c_in * (stride * h_out) ** 2 + c_out * h_out * w_out + c_out * c_in * kernel_size**2)))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_groups, "divide by groups"),
        (lambda *a, **k: 2 * reference_intensity(*a, **k), "FLOPs"),
        (lambda *a, **k: (lambda m, i, o, w: m / (4 * (i + o)))(*intensity_parts(*a, **k)), "weights"),
        (lambda c_in, c_out, kernel_size, h_out, w_out, groups=1, stride=1:
            reference_intensity(c_in, c_out, kernel_size, h_out, w_out, groups, 1), "stride s"),
        (lambda *a, **k: 4 * reference_intensity(*a, **k), "per element"),
        (lambda *a, **k: reference_intensity(*a, **k) + 1.0, "expected"),
        (lambda *a, **k: torch.tensor(float("nan")), "finite number"),
        (lambda *a, **k: None, "returned None"),
        (lambda *a, **k: "4.77", "must return a number"),
    ],
)
def test_wrong_intensity_fails_with_specific_message(wrong, message):
    result = check_conv_intensity(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda *a, **k: (lambda m, i, o, w: m / (4 * (o + w)))(*intensity_parts(*a, **k)),
         "count the input"),
        (lambda *a, **k: (lambda m, i, o, w: m / (4 * (i + o + w * k.get("groups", 1))))(
            *intensity_parts(*a, **k)), "expected"),
        (lambda *a, **k: (lambda m, i, o, w: m // (4 * (i + o + w)))(*intensity_parts(*a, **k)), "expected"),
        (lambda *a, **k: (lambda m, i, o, w: m / (8 * (i + o + w)))(*intensity_parts(*a, **k)), "8 bytes"),
        (lambda *a, **k: [reference_intensity(*a, **k)], "must return a number"),
    ],
)
def test_more_wrong_intensities_fail_with_specific_message(wrong, message):
    """Traffic, positions, integer division, bytes per element and return-type mistakes."""
    result = check_conv_intensity(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


@pytest.mark.parametrize(
    "correct",
    [
        lambda *a, **k: np.float32(reference_intensity(*a, **k)),
        lambda *a, **k: torch.tensor(reference_intensity(*a, **k), dtype=torch.float32),
        lambda *a, **k: np.array([reference_intensity(*a, **k)]),
        lambda *a, **k: (lambda m, i, o, w: float(np.float32(m) / np.float32(4 * (i + o + w))))(
            *intensity_parts(*a, **k)),
    ],
)
def test_correct_intensity_variants_pass(correct):
    """np.float32 (issue 16: 'got np.float32(4.77)'), a float32 tensor, a one-element array, float32 maths."""
    result = check_conv_intensity(correct, quiet=True)
    assert result.status == "pass", result.message


def test_intensity_stub_is_not_attempted():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    assert check_conv_intensity(stub, quiet=True).status == "not attempted"


@pytest.mark.parametrize("name", ["v2-fused-mbconv", "v2-conv-intensity"])
def test_hints_do_not_give_the_answer(name):
    exercise = EXERCISES[name]
    assert len(exercise.hints) >= 2
    text = " ".join(exercise.hints)
    assert "class " not in text and "def " not in text and "return " not in text
