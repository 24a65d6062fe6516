"""The MBConv built by hand in "MBConv" equals effnet_core.MBConv for the same weights (and seeds)."""

import pytest
import torch
from nbutils import load_by_hand

from effnet_core import MBConv, efficientnet_b0
from effnet_core.counting import MBCONV_PARTS as PARTS
from effnet_core.counting import count_params, params_and_macs, sublayer_costs

NOTEBOOK = "04_mbconv.ipynb"


@pytest.fixture(scope="module")
def by_hand():
    return load_by_hand(NOTEBOOK)


@pytest.mark.parametrize("cfg", [(16, 16, 6, 3, 1), (16, 24, 6, 5, 2), (32, 16, 1, 3, 1), (40, 40, 6, 5, 1)])
@pytest.mark.parametrize("training", [False, True])
def test_by_hand_mbconv_equals_effnet_core(by_hand, cfg, training):
    reference = MBConv(*cfg, stochastic_depth_prob=0.5).train(training)
    mine = by_hand["MBConvByHand"](*cfg, drop_prob=0.5).train(training)
    mine.load_state_dict(reference.state_dict())
    x = torch.randn(6, cfg[0], 12, 12)
    torch.manual_seed(0)
    expected = reference(x)
    torch.manual_seed(0)
    torch.testing.assert_close(mine(x), expected, rtol=0, atol=1e-5)


def test_drop_path_drops_whole_samples_and_rescales(by_hand):
    drop_path = by_hand["drop_path"]
    torch.manual_seed(0)
    out = drop_path(torch.ones(4000, 2, 3, 3), 0.25, training=True)
    per_sample = out.flatten(1)
    assert torch.all(per_sample == per_sample[:, :1])  # one decision per sample
    values = per_sample[:, 0].unique()
    assert len(values) == 2 and values[0] == 0 and abs(values[1].item() - 1 / 0.75) < 1e-6
    assert abs((per_sample[:, 0] > 0).float().mean().item() - 0.75) < 0.03
    x = torch.randn(5, 2, 3, 3)
    assert torch.equal(drop_path(x, 0.25, training=False), x)


def test_params_and_macs_of_mbconv_match_formula():
    c, t, k, h = 40, 6, 5, 14
    params, macs = params_and_macs(MBConv(c, c, t, k, 1, se_ratio=None), (c, h, h))
    assert macs == h * h * t * c * (2 * c + k * k)
    assert params == count_params(MBConv(c, c, t, k, 1, se_ratio=None))


def test_sublayer_costs_cover_every_mbconv_parameter():
    model = efficientnet_b0()
    rows = sublayer_costs(model, 224)
    assert len(rows) == 16
    blocks = [m for m in model.modules() if isinstance(m, MBConv)]
    assert sum(sum(r[f"params {p}"] for p in PARTS) for r in rows) == sum(map(count_params, blocks))
    assert all(r["macs depthwise kxk"] > 0 and r["params SE"] > 0 for r in rows)
    assert rows[0]["params expand 1x1"] == 0  # B0's first block has expansion ratio 1
