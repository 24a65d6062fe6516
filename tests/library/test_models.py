"""Fidelity of the builders: torchvision's parameter counts, MACs, shapes, and clear errors."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import effnet_core as ec
from effnet_core.configs import B0_HEAD_CHANNELS, B0_STEM_CHANNELS, scale_stages
from effnet_core.counting import estimate_cost

# torchvision 0.29 with num_classes=1000, and its MACs (FlopCounterMode FLOPs / 2) at the
# default resolution of each model.
REFERENCE = {
    "efficientnet_b0": (5_288_548, 0.386e9, 224),
    "efficientnet_b1": (7_794_184, 0.687e9, 240),
    "efficientnet_b2": (9_109_994, 0.994e9, 260),
    "efficientnet_b3": (12_233_232, 1.827e9, 300),
    "efficientnet_b4": (19_341_616, 4.394e9, 380),
    "efficientnet_b5": (30_389_784, 10.266e9, 456),
    "efficientnet_b6": (43_040_704, 19.068e9, 528),
    "efficientnet_b7": (66_347_960, 37.746e9, 600),
    "efficientnet_v2_s": (21_458_488, 8.366e9, 384),
    "efficientnet_v2_m": (54_139_356, 24.582e9, 480),
    "efficientnet_v2_l": (118_515_272, 56.080e9, 480),
}


def meta_model(name: str, **kwargs) -> ec.EfficientNet:
    with torch.device("meta"):
        return ec.get_model(name, **kwargs)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_params_and_macs_match_torchvision(name):
    params, macs, size = REFERENCE[name]
    model = meta_model(name)
    assert model.default_image_size == size
    assert ec.count_params(model) == params
    analytic = ec.count_macs(model, size)
    assert analytic == ec.flop_counter_macs(model, size)
    assert analytic == pytest.approx(macs, rel=0.005)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_estimate_from_table_equals_model(name):
    model = meta_model(name)
    size = model.default_image_size
    rows = estimate_cost(model.stages, size, stem_channels=model.features[0].out_channels,
                         head_channels=model.features[-1].out_channels)
    breakdown = ec.stage_breakdown(model, size)
    assert [(r["part"], r["params"], r["macs"]) for r in rows] == [
        (r["part"], r["params"], r["macs"]) for r in breakdown]
    assert [r["output"] for r in rows] == [r["output"] for r in breakdown]


def test_stage_breakdown_sums_to_totals():
    model = ec.efficientnet_b0()
    rows = ec.stage_breakdown(model)
    assert sum(r["params"] for r in rows) == ec.count_params(model)
    assert sum(r["macs"] for r in rows) == ec.count_macs(model, 224)
    assert rows[-2]["output"] == (1280, 7, 7)


@pytest.mark.parametrize("size", [32, 64, 97, 224])
def test_b0_output_shape_at_several_resolutions(size):
    model = ec.efficientnet_b0(num_classes=7).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, size, size)).shape == (2, 7)


def test_v2_s_and_cifar_variant_shapes():
    model = ec.efficientnet_v2_s(num_classes=5).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 5)
    cifar = ec.efficientnet_v2_cifar().eval()
    assert cifar.total_stride == 16 and cifar.default_image_size == 32
    with torch.no_grad():
        assert cifar(torch.randn(3, 3, 32, 32)).shape == (3, 10)
        assert cifar.forward_features(torch.randn(1, 3, 32, 32)).shape[-2:] == (2, 2)


def test_cifar_variant_is_v2_s_code():
    cifar = ec.efficientnet_v2_cifar(width_mult=1.0, depth_mult=1.0, num_classes=1000)
    v2s = ec.efficientnet_v2_s()
    assert ec.count_params(cifar) == ec.count_params(v2s)
    assert list(cifar.state_dict()) == list(v2s.state_dict())


def test_state_dict_layout_is_torchvisions():
    keys = list(ec.efficientnet_b0().state_dict())
    assert keys[:2] == ["features.0.0.weight", "features.0.1.weight"]
    assert "features.1.0.block.1.fc1.weight" in keys  # SE of the first MBConv
    assert "features.2.0.block.0.0.weight" in keys  # expansion conv of stage 2
    assert keys[-2:] == ["classifier.1.weight", "classifier.1.bias"]


def test_phi_zero_is_b0():
    a, b = ec.compound_scaled(0.0), ec.efficientnet_b0()
    assert ec.count_params(a) == ec.count_params(b)
    assert a.default_image_size == 224
    assert ec.count_macs(a, 224) == ec.count_macs(b, 224)


def _macs_at(phi: float) -> int:
    with torch.device("meta"):
        model = ec.compound_scaled(phi)
    return ec.count_macs(model, model.default_image_size)


def test_flops_grow_by_about_factor_per_phi():
    """MACs follow (alpha * beta^2 * gamma^2)^phi up to rounding of layers and channels.

    Rounding layers *up* (ceil) inflates small phi most: a 1-layer stage becomes 2 at phi = 1.
    """
    per_phi = 1.2 * 1.1**2 * 1.15**2
    macs = {phi: _macs_at(phi) for phi in (0, 1, 2, 4, 6, 7)}
    for phi in (1, 2, 4, 6, 7):
        assert 1.0 <= macs[phi] / macs[0] / per_phi**phi <= 1.4
    assert 1.0 < macs[7] / macs[0] / per_phi**7 < 1.1  # the rounding matters less as phi grows
    for a, b in ((2, 4), (4, 6)):
        assert (macs[b] / macs[a]) ** (1 / (b - a)) == pytest.approx(per_phi, rel=0.1)


def test_forward_rejects_bad_input():
    model = ec.efficientnet_b0().eval()
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        model([1, 2, 3])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3, H, W\)"):
        model(torch.randn(3, 224, 224))
    with pytest.raises(ValueError, match="x must have shape"):
        model(torch.randn(1, 1, 224, 224))
    with pytest.raises(ValueError, match="total stride 32"):
        model(torch.randn(1, 3, 16, 16))


def test_builders_reject_bad_arguments():
    with pytest.raises(ValueError, match="name must be one of"):
        ec.get_model("efficientnet_b8")
    with pytest.raises(ValueError, match="num_classes must be an integer >= 1"):
        ec.efficientnet_b0(num_classes=0)
    with pytest.raises(ValueError, match="dropout must be in"):
        ec.efficientnet_b0(dropout=1.5)
    with pytest.raises(ValueError, match="phi must be >= 0"):
        ec.compound_scaled(-1)
    with pytest.raises(ValueError, match="phi must be a finite number"):
        ec.compound_scaled(float("nan"))
    for name in ("alpha", "beta", "gamma"):
        with pytest.raises(ValueError, match=f"{name} must be >= 1"):
            ec.compound_scaled(1.0, **{name: 0.9})
    with pytest.raises(ValueError, match="image_size must be >= 32"):
        ec.count_macs(ec.efficientnet_b0(), 16)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        ec.count_params("b0")


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10),
                 st.text(max_size=3), st.none()))
def test_compound_multipliers_accept_or_explain(phi):
    """Any input either gives finite multipliers >= 1 or a ValueError that names phi."""
    try:
        m = ec.compound_multipliers(phi)
    except ValueError as error:
        assert "phi" in str(error)
    else:
        assert all(math.isfinite(v) and v >= 1 for v in (m.depth, m.width, m.resolution))
        assert m.flops_factor == pytest.approx(m.depth * m.width**2 * m.resolution**2)


@settings(max_examples=30, deadline=None)
@given(st.integers(-5, 600))
def test_image_size_accepted_or_explained(size):
    rows = None
    try:
        rows = estimate_cost(scale_stages(ec.B0_STAGES), size, stem_channels=B0_STEM_CHANNELS,
                             head_channels=B0_HEAD_CHANNELS)
    except ValueError as error:
        assert "image_size must be >= 32" in str(error)
        assert size < 32
    else:
        assert size >= 32 and rows[-1]["macs"] == 1280 * 1000


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(ec.MODEL_BUILDERS) + ["resnet50", "b0", "", "EfficientNet_B0"]))
def test_unknown_variant_names_the_allowed_values(name):
    if name in ec.MODEL_BUILDERS:
        return
    with pytest.raises(ValueError, match="efficientnet_b0"):
        ec.get_model(name)
