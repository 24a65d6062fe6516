"""The Swish the chapter builds by hand computes exactly what effnet_core and PyTorch compute."""

import pytest
import torch
from nbutils import load_by_hand
from torch import nn

import effnet_core

HAND = load_by_hand("01_swish.ipynb")
X = torch.linspace(-12, 12, 4001)


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 2.5, 40.0])
def test_function_equals_effnet_core(beta):
    assert torch.equal(HAND["swish_by_hand"](X, beta), effnet_core.swish(X, beta))


def test_function_equals_silu_at_beta_one():
    torch.testing.assert_close(HAND["swish_by_hand"](X), nn.SiLU()(X))


@pytest.mark.parametrize(("beta", "learnable"), [(1.0, False), (0.7, True), (3.0, True)])
def test_module_equals_effnet_core_with_the_same_state(beta, learnable):
    mine = HAND["SwishByHand"](beta=beta, learnable=learnable)
    theirs = effnet_core.Swish(beta=1.0, learnable=learnable)
    theirs.load_state_dict(mine.state_dict())
    x = X.clone().requires_grad_(True)
    y_mine, y_theirs = mine(x), theirs(x)
    assert torch.equal(y_mine, y_theirs)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    if learnable:
        (g_mine,) = torch.autograd.grad(y_mine.square().sum(), mine.beta)
        (g_theirs,) = torch.autograd.grad(y_theirs.square().sum(), theirs.beta)
        assert torch.equal(g_mine, g_theirs)
