"""torchinfo summaries work on every model (on the meta device: shapes only, no compute)."""

import pytest
import torch
import torchinfo

import effnet_core as ec


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ec.MODEL_BUILDERS))
def test_torchinfo_summary(name):
    with torch.device("meta"):
        model = ec.get_model(name, num_classes=10)
    stats = torchinfo.summary(model, input_size=(1, 3, 64, 64), depth=3, verbose=0,
                              device=torch.device("meta"))
    assert stats.total_params == ec.count_params(model)
    assert "MBConv" in str(stats)
