"""check_mbconv accepts an inverted-residual block and rejects the usual mistakes specifically."""

import pytest
import torch
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
