"""The direct weight gradient of small depthwise convolutions equals PyTorch's; the model keeps its state."""

import pytest
import torch
from torch import nn

import effnet_core as ec
from effnet_core.cpu_depthwise import SmallMapDepthwiseConv2d, speed_up_small_depthwise

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize(("kernel", "stride"), [(3, 1), (3, 2), (5, 1), (5, 2)])
def test_gradients_equal_pytorchs(size, kernel, stride):
    torch.manual_seed(size * 10 + kernel + stride)
    plain = nn.Conv2d(6, 6, kernel, stride, kernel // 2, groups=6, bias=False)
    fast = nn.Conv2d(6, 6, kernel, stride, kernel // 2, groups=6, bias=False)
    fast.load_state_dict(plain.state_dict())
    assert speed_up_small_depthwise(fast) == 1
    x = torch.randn(4, 6, size, size)
    outputs = []
    for conv in (plain, fast):
        xi = x.clone().requires_grad_()
        y = conv(xi)
        y.backward(torch.arange(y.numel(), dtype=torch.float32).view_as(y).sin())
        outputs.append((y.detach(), xi.grad, conv.weight.grad))
    for ref, got in zip(*outputs, strict=True):
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5)


def test_only_depthwise_convolutions_switch_and_the_state_dict_stays():
    model = ec.efficientnet_v2_cifar(width_mult=0.25, depth_mult=0.25)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    depthwise = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert speed_up_small_depthwise(model) == len(depthwise) > 0
    assert all(type(m) is SmallMapDepthwiseConv2d for m in depthwise)
    assert all(type(m) is nn.Conv2d for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups == 1)
    assert model.state_dict().keys() == before.keys()
    assert speed_up_small_depthwise(model) == 0  # already switched


def test_a_training_step_of_the_model_is_unchanged():
    torch.manual_seed(0)
    x, y = torch.randn(8, 3, 16, 16), torch.arange(8) % 10
    grads = []
    for fast in (False, True):
        torch.manual_seed(1)
        model = ec.efficientnet_v2_cifar(width_mult=0.25, depth_mult=0.25)
        if fast:
            speed_up_small_depthwise(model)
        nn.functional.cross_entropy(model(x), y).backward()
        grads.append([p.grad for p in model.parameters()])
    for ref, got in zip(*grads, strict=True):
        torch.testing.assert_close(got, ref, rtol=1e-3, atol=1e-5)
