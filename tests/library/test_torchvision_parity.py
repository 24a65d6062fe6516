"""Where torchvision is installed: its weights load into our models and give the same outputs.

torchvision is not a dependency (it would pull a second multi-GB torch build), so this test
is skipped where it is absent; the parameter counts in ``test_models.py`` hold everywhere.
"""

import pytest
import torch

import effnet_core as ec

tv_models = pytest.importorskip("torchvision.models", reason="torchvision is not installed")


@pytest.mark.parametrize("name", ["efficientnet_b0", "efficientnet_b3", "efficientnet_v2_s"])
def test_torchvision_state_dict_loads_and_outputs_match(name):
    torch.manual_seed(0)
    theirs = getattr(tv_models, name)(weights=None).eval()
    ours = ec.get_model(name).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))
    assert ec.count_params(ours) == sum(p.numel() for p in theirs.parameters())
