"""Where torchvision is installed: its state dicts load into our models and give the same outputs.

torchvision is not a dependency (it would pull a second multi-GB torch build), so this test
is skipped where it is absent; ``test_models.py`` checks the module names and BatchNorm
settings against a table transcribed from torchvision's source everywhere. Run it in a side
environment with ``pytest -s`` to see the largest output difference per model.
"""

import pytest
import torch

import effnet_core as ec

tv_models = pytest.importorskip("torchvision.models", reason="torchvision is not installed")


def _randomise_batchnorm_statistics(model: torch.nn.Module) -> None:
    """Running statistics other than (0, 1), so that the BatchNorm layers matter."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)


@pytest.mark.parametrize("name", sorted(ec.MODEL_BUILDERS))
def test_torchvision_state_dict_loads_and_outputs_match(name):
    torch.manual_seed(0)
    theirs = getattr(tv_models, name)(weights=None, stochastic_depth_prob=0.0).eval()
    _randomise_batchnorm_statistics(theirs)
    ours = ec.get_model(name, dropout=0.0, stochastic_depth_prob=0.0).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
        eval_diff = (a - b).abs().max().item()
        torch.testing.assert_close(a, b)
        # train mode: batch statistics, and the running averages move by the BatchNorm momentum
        theirs.classifier[0].p = 0.0
        torch.testing.assert_close(ours.train()(x), theirs.train()(x))
    ours_stats, their_stats = ours.state_dict(), theirs.state_dict()
    stat_diff = max((ours_stats[k] - their_stats[k]).abs().max().item()
                    for k in their_stats if k.endswith(("running_mean", "running_var")))
    assert stat_diff < 1e-5
    assert ec.count_params(ours) == sum(p.numel() for p in theirs.parameters())
    print(f"\n{name}: largest |output difference| in eval mode {eval_diff:.3g}, "
          f"largest running-statistics difference after one training step {stat_diff:.3g}")
