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
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        ec.efficientnet_b0(dropout=1.5)
    with pytest.raises(ValueError, match=r"phi must be a number in \[0, 20\]"):
        ec.compound_scaled(-1)
    with pytest.raises(ValueError, match=r"phi must be a number in \[0, 20\]"):
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


# Transcribed from torchvision's torchvision/models/efficientnet.py (pytorch/vision, the
# builders efficientnet_b0 ... efficientnet_v2_l and _efficientnet_conf): width_mult, depth_mult,
# the stage settings (expand, kernel, stride, in, out, layers; "F" = FusedMBConvConfig),
# last_channel, and the BatchNorm of each builder's `norm_layer` (None = nn.BatchNorm2d's
# defaults eps=1e-5, momentum=0.1; B5-B7: partial(nn.BatchNorm2d, eps=0.001, momentum=0.01);
# V2-S/M/L: partial(nn.BatchNorm2d, eps=1e-03)).
TV_B0 = [("M", 1, 3, 1, 32, 16, 1), ("M", 6, 3, 2, 16, 24, 2), ("M", 6, 5, 2, 24, 40, 2),
         ("M", 6, 3, 2, 40, 80, 3), ("M", 6, 5, 1, 80, 112, 3), ("M", 6, 5, 2, 112, 192, 4),
         ("M", 6, 3, 1, 192, 320, 1)]
TV_V2 = {
    "s": [("F", 1, 3, 1, 24, 24, 2), ("F", 4, 3, 2, 24, 48, 4), ("F", 4, 3, 2, 48, 64, 4),
          ("M", 4, 3, 2, 64, 128, 6), ("M", 6, 3, 1, 128, 160, 9), ("M", 6, 3, 2, 160, 256, 15)],
    "m": [("F", 1, 3, 1, 24, 24, 3), ("F", 4, 3, 2, 24, 48, 5), ("F", 4, 3, 2, 48, 80, 5),
          ("M", 4, 3, 2, 80, 160, 7), ("M", 6, 3, 1, 160, 176, 14), ("M", 6, 3, 2, 176, 304, 18),
          ("M", 6, 3, 1, 304, 512, 5)],
    "l": [("F", 1, 3, 1, 32, 32, 4), ("F", 4, 3, 2, 32, 64, 7), ("F", 4, 3, 2, 64, 96, 7),
          ("M", 4, 3, 2, 96, 192, 10), ("M", 6, 3, 1, 192, 224, 19), ("M", 6, 3, 2, 224, 384, 25),
          ("M", 6, 3, 1, 384, 640, 7)],
}
TV_BN_DEFAULT, TV_BN_B5_B7, TV_BN_V2 = (1e-5, 0.1), (1e-3, 0.01), (1e-3, 0.1)
TORCHVISION_TABLE = {  # name: (width_mult, depth_mult, stages, last_channel, (eps, momentum))
    "efficientnet_b0": (1.0, 1.0, TV_B0, None, TV_BN_DEFAULT),
    "efficientnet_b1": (1.0, 1.1, TV_B0, None, TV_BN_DEFAULT),
    "efficientnet_b2": (1.1, 1.2, TV_B0, None, TV_BN_DEFAULT),
    "efficientnet_b3": (1.2, 1.4, TV_B0, None, TV_BN_DEFAULT),
    "efficientnet_b4": (1.4, 1.8, TV_B0, None, TV_BN_DEFAULT),
    "efficientnet_b5": (1.6, 2.2, TV_B0, None, TV_BN_B5_B7),
    "efficientnet_b6": (1.8, 2.6, TV_B0, None, TV_BN_B5_B7),
    "efficientnet_b7": (2.0, 3.1, TV_B0, None, TV_BN_B5_B7),
    "efficientnet_v2_s": (1.0, 1.0, TV_V2["s"], 1280, TV_BN_V2),
    "efficientnet_v2_m": (1.0, 1.0, TV_V2["m"], 1280, TV_BN_V2),
    "efficientnet_v2_l": (1.0, 1.0, TV_V2["l"], 1280, TV_BN_V2),
}


def _tv_divisible(v: float) -> int:  # torchvision's _make_divisible(v, 8)
    new = max(8, int(v + 4) // 8 * 8)
    return new + 8 if new < 0.9 * v else new


def _conv_norm_act(prefix: str, act: bool = True) -> list[tuple[str, str]]:
    return [(f"{prefix}.0", "Conv2d"), (f"{prefix}.1", "BatchNorm2d")] + ([(f"{prefix}.2", "SiLU")] * act)


def _tv_block(prefix: str, kind: str, cin: int, expand: int, cout: int) -> list[tuple[str, str]]:
    expanded = _tv_divisible(cin * expand)
    if kind == "F":
        steps = [("cna", True), ("cna", False)] if expanded != cin else [("cna", True)]
    else:
        steps = [("cna", True)] * (expanded != cin) + [("cna", True), ("se", None), ("cna", False)]
    names = [(prefix, "MBConv" if kind == "M" else "FusedMBConv"), (f"{prefix}.block", "Sequential")]
    for k, (what, act) in enumerate(steps):
        p = f"{prefix}.block.{k}"
        if what == "se":
            names += [(p, "SqueezeExcitation")] + [(f"{p}.{n}", t) for n, t in (
                ("avgpool", "AdaptiveAvgPool2d"), ("fc1", "Conv2d"), ("fc2", "Conv2d"),
                ("activation", "SiLU"), ("scale_activation", "Sigmoid"))]
        else:
            names += [(p, "ConvBNAct")] + _conv_norm_act(p, act)
    return names + [(f"{prefix}.stochastic_depth", "StochasticDepth")]


def torchvision_modules(name: str) -> list[tuple[str, str]]:
    """(dotted name, layer kind) of every module torchvision builds, from the table above."""
    width, depth, stages, last_channel, _ = TORCHVISION_TABLE[name]
    names = [("", "EfficientNet"), ("features", "Sequential"), ("features.0", "ConvBNAct")]
    names += _conv_norm_act("features.0")
    for i, (kind, expand, _, _, cin, cout, layers) in enumerate(stages, start=1):
        cin, cout = (_tv_divisible(c * width) for c in (cin, cout)) if kind == "M" else (cin, cout)
        names.append((f"features.{i}", "Sequential"))
        for j in range(math.ceil(layers * depth) if kind == "M" else layers):
            names += _tv_block(f"features.{i}.{j}", kind, cin if j == 0 else cout, expand, cout)
    head = f"features.{len(stages) + 1}"
    names += [(head, "ConvBNAct")] + _conv_norm_act(head)
    return names + [("avgpool", "AdaptiveAvgPool2d"), ("classifier", "Sequential"),
                    ("classifier.0", "Dropout"), ("classifier.1", "Linear")]


@pytest.mark.parametrize("name", sorted(TORCHVISION_TABLE))
def test_module_names_and_batchnorm_match_torchvision_table(name):
    model = meta_model(name)
    # torchvision's Conv2dNormActivation is our ConvBNAct; its layer kinds are otherwise the same.
    # Sorted: the stateless StochasticDepth is registered before `block` here, after it there.
    ours = sorted((n, type(m).__name__) for n, m in model.named_modules())
    assert ours == sorted(torchvision_modules(name))
    eps, momentum = TORCHVISION_TABLE[name][-1]
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and {(m.eps, m.momentum) for m in norms} == {(eps, momentum)}
    last_channel = TORCHVISION_TABLE[name][3] or 4 * model.stages[-1].out_channels
    assert model.classifier[1].in_features == last_channel


def test_arguments_of_the_wrong_type_or_range_are_named():
    """Each error names the argument and the values it accepts."""
    model = ec.efficientnet_b0()
    cases = [
        (TypeError, "name must be a str", lambda: ec.get_model(["efficientnet_b0"])),
        (TypeError, r"dropout must be a number in \[0, 1\)", lambda: ec.efficientnet_b0(dropout="0.2")),
        (ValueError, r"stochastic_depth_prob must be a number in \[0, 1\)",
         lambda: ec.efficientnet_b0(stochastic_depth_prob=1.5)),
        (TypeError, "x must be a floating-point tensor",
         lambda: model(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))),
        (ValueError, "image_size must be >= 32", lambda: ec.stage_breakdown(model, 0)),
        (ValueError, "image_size must be an integer >= 1", lambda: ec.stage_table(ec.B0_STAGES, 0)),
        (TypeError, "stages must be a non-empty sequence of StageConfig",
         lambda: estimate_cost([], 224, stem_channels=32, head_channels=1280)),
        (TypeError, "base_resolution must be an integer >= 1",
         lambda: ec.compound_spec(1, base_resolution=224.7)),
        (ValueError, "base_resolution must be an integer >= 1",
         lambda: ec.compound_spec(0, base_resolution=0)),
        (ValueError, r"phi must be a number in \[0, 20\]", lambda: ec.compound_spec(100)),
        (ValueError, "phi=15.*over the limit of 1,000,000,000 parameters",
         lambda: ec.compound_scaled(15)),
        (ValueError, "num_classes", lambda: ec.efficientnet_b0(num_classes=10**7)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


def test_numpy_integers_are_integers():
    import numpy as np

    model = ec.efficientnet_b0()
    assert ec.count_macs(model, np.int64(224)) == ec.count_macs(model, 224)
    assert ec.compound_spec(1, base_resolution=np.int32(224)).resolution == 258


def test_largest_network_within_the_stated_limit_builds_on_meta():
    from effnet_core.model import MAX_PARAMS

    with torch.device("meta"):
        model = ec.compound_scaled(14)
    assert 0.5 * MAX_PARAMS < ec.count_params(model) <= MAX_PARAMS
