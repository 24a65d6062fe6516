"""check_mbconv accepts an inverted-residual block and rejects the usual mistakes specifically."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from effnet_core.book.checkers import EXERCISES, check_mbconv
from effnet_core.layers import MBConv, SqueezeExcitation


def conv_bn(c_in, c_out, k=1, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(c_out)]
    return nn.Sequential(*layers, nn.SiLU()) if act else nn.Sequential(*layers)


class Reference(nn.Module):
    """Written from the description, with the options the wrong answers below change."""

    residual_rule = staticmethod(lambda stride, c_in, c_out: stride == 1 and c_in == c_out)
    width = staticmethod(lambda c_in, c_out, e: c_in * e)
    project_act = False
    use_se = True

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        super().__init__()
        wide = self.width(in_channels, out_channels, expand_ratio)
        layers = [conv_bn(in_channels, wide)] if wide != in_channels else []
        layers.append(conv_bn(wide, wide, kernel_size, stride, groups=wide))
        if self.use_se:
            layers.append(SqueezeExcitation(wide, max(1, int(in_channels * 0.25))))
        layers.append(conv_bn(wide, out_channels, act=self.project_act))
        self.block = nn.Sequential(*layers)
        self.residual = self.residual_rule(stride, in_channels, out_channels)

    def forward(self, x):
        out = self.block(x)
        return out + x if self.residual else out


class ResidualOnStride2(Reference):
    residual_rule = staticmethod(lambda stride, c_in, c_out: c_in == c_out)


class ResidualWhenChannelsDiffer(Reference):
    residual_rule = staticmethod(lambda stride, c_in, c_out: stride == 1)


class NoResidual(Reference):
    residual_rule = staticmethod(lambda stride, c_in, c_out: False)


class ActivationAfterProjection(Reference):
    project_act = True


class NoSE(Reference):
    use_se = False


class ExpandsOutput(Reference):
    width = staticmethod(lambda c_in, c_out, e: c_out * e)


class ReLUInside(Reference):
    def __init__(self, *args):
        super().__init__(*args)
        for m in list(self.modules()):
            for child_name, child in m.named_children():
                if isinstance(child, nn.SiLU):
                    setattr(m, child_name, nn.ReLU())


def test_reference_and_effnet_core_pass():
    for cls in (Reference, MBConv):
        result = check_mbconv(cls, quiet=True)
        assert result.status == "pass", result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (ResidualOnStride2, "stride-2 block changes the spatial size"),
        (ResidualWhenChannelsDiffer, "in_channels=16 differs from"),
        (NoResidual, "add the residual"),
        (ActivationAfterProjection, "must be linear"),
        (NoSE, "Squeeze-and-Excitation step missing"),
        (ExpandsOutput, "in_channels * expand_ratio"),
        (ReLUInside, "computes something different from MBConv"),
    ],
)
def test_wrong_answers_fail_with_specific_message(wrong, message):
    result = check_mbconv(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message


@pytest.mark.parametrize("seed", range(5))
def test_linear_projection_check_has_margin(seed):
    """The 'projection must be linear' test must not reject a correct block by bad luck."""
    torch.manual_seed(seed)
    block = MBConv(16, 32, 6, 3, 1).eval()
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(10.0)
        assert float(block(torch.randn(4, 16, 16, 16)).min()) < -30


class Configurable(nn.Module):
    """A correct MBConv with switches for the mistakes below (SE width, placement, kernel, ...)."""

    se_from = "in"
    se_after_projection = False
    fixed_kernel = None
    bn_after_depthwise = True
    always_expand = False
    stride_on_projection = False
    shortcut = "right"
    conv_bias = False

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        super().__init__()
        wide = in_channels * expand_ratio
        k = self.fixed_kernel or kernel_size
        s_dw, s_proj = (1, stride) if self.stride_on_projection else (stride, 1)
        source = {"in": in_channels, "expanded": wide, "output": out_channels}[self.se_from]
        se_on = out_channels if self.se_after_projection else wide
        self.expand = conv_bn(in_channels, wide) if wide != in_channels or self.always_expand else None
        dw = conv_bn(wide, wide, k, s_dw, groups=wide)
        self.depthwise = dw if self.bn_after_depthwise else nn.Sequential(dw[0], dw[2])
        self.se = SqueezeExcitation(se_on, max(1, int(source * 0.25)))
        self.project = nn.Sequential(nn.Conv2d(wide, out_channels, 1, s_proj, bias=self.conv_bias),
                                     nn.BatchNorm2d(out_channels))
        self.residual = stride == 1 and in_channels == out_channels
        self.pooled = self.shortcut == "pooled" and in_channels == out_channels and stride == 2
        self.conv_shortcut = None
        if self.shortcut == "1x1 conv" and not self.residual:
            self.conv_shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x):
        out = self.expand(x) if self.expand is not None else x
        out = self.depthwise(out)
        if not self.se_after_projection:
            out = self.se(out)
        out = self.project(out)
        if self.se_after_projection:
            out = self.se(out)
        if self.residual:
            return out + x
        if self.pooled:
            return out + nn.functional.avg_pool2d(x, 2)
        if self.conv_shortcut is not None:
            return out + self.conv_shortcut(x)
        return out


def configured(**switches):
    return type("Configured", (Configurable,), switches)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (configured(se_from="expanded"), "0.25 x the expanded channels"),
        (configured(se_from="output"), "0.25 x the output channels"),
        (configured(se_after_projection=True), "after the projection"),
        (configured(fixed_kernel=3), "use kernel_size (5x5)"),
        (configured(bn_after_depthwise=False), "depthwise conv is not followed by a BatchNorm2d"),
        (configured(always_expand=True), "with expand_ratio=1 there is"),
        (configured(stride_on_projection=True), "only the depthwise conv carries"),
        (configured(shortcut="pooled"), "(a pooled or strided input?) to a stride-2 block"),
        (configured(shortcut="1x1 conv"), "ResNet-style shortcut"),
        (configured(conv_bias=True), "bias=False"),
    ],
)
def test_more_wrong_blocks_fail_with_specific_message(wrong, message):
    """Layout, arithmetic (SE width), placement, shape rule and shortcut mistakes the issue listed."""
    result = check_mbconv(wrong, quiet=True)
    assert result.status == "fail"
    assert message in result.message, result.message


class Reordered(Configurable):
    """Correct, with the layers registered in the reverse order of use."""

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        nn.Module.__init__(self)
        wide = in_channels * expand_ratio
        self.project = nn.Sequential(nn.Conv2d(wide, out_channels, 1, bias=False),
                                     nn.BatchNorm2d(out_channels))
        self.se = SqueezeExcitation(wide, max(1, in_channels // 4))
        self.depthwise = conv_bn(wide, wide, kernel_size, stride, groups=wide)
        self.expand = conv_bn(in_channels, wide) if expand_ratio != 1 else None
        self.residual = stride == 1 and in_channels == out_channels
        self.pooled, self.conv_shortcut, self.se_after_projection = False, None, False


class LinearSE(nn.Module):
    """Correct: SE with nn.Linear maps registered up-then-down, functional SiLU and pooling."""

    def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
        super().__init__()
        wide, squeeze = in_channels * expand_ratio, max(1, int(in_channels * 0.25))
        self.se_up, self.se_down = nn.Linear(squeeze, wide), nn.Linear(wide, squeeze)
        self.bns = nn.ModuleList([nn.BatchNorm2d(out_channels), nn.BatchNorm2d(wide), nn.BatchNorm2d(wide)])
        self.project = nn.Conv2d(wide, out_channels, 1, bias=False)
        self.dw = nn.Conv2d(wide, wide, kernel_size, stride, kernel_size // 2, groups=wide, bias=False)
        self.expand = nn.Conv2d(in_channels, wide, 1, bias=False) if expand_ratio > 1 else None
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        out = x if self.expand is None else F.silu(self.bns[2](self.expand(x)))
        out = F.silu(self.bns[1](self.dw(out)))
        gates = torch.sigmoid(self.se_up(F.silu(self.se_down(out.mean((2, 3))))))
        out = self.bns[0](self.project(out * gates[:, :, None, None]))
        return out + x if self.residual else out


@pytest.mark.parametrize("correct", [Configurable, Reordered, LinearSE, MBConv])
def test_correct_variants_pass(correct):
    """Other registration orders, nn.Linear vs 1x1 conv, functional vs module all pass."""
    result = check_mbconv(correct, quiet=True)
    assert result.status == "pass", result.message


def test_stub_is_not_attempted():
    class Stub(nn.Module):
        def __init__(self, in_channels, out_channels, expand_ratio, kernel_size, stride):
            super().__init__()
            raise NotImplementedError()

    assert check_mbconv(Stub, quiet=True).status == "not attempted"


def test_hints_do_not_give_the_answer():
    assert EXERCISES["mbconv"] is check_mbconv
    text = " ".join(check_mbconv.hints).lower()
    assert len(check_mbconv.hints) >= 2
    for answer in ("stride == 1 and", "no activation after", "in_channels * expand_ratio"):
        assert answer not in text
