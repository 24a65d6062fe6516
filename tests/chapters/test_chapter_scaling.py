"""The compound scaling the reader writes in "Compound scaling" is effnet_core's compound_spec."""

import pytest
from nbutils import load_by_hand

import effnet_core as ec
from effnet_core.model import compound_spec


@pytest.fixture(scope="module")
def by_hand():
    return load_by_hand("06_compound_scaling.ipynb")


@pytest.mark.parametrize("phi", [0, 0.5, 1, 2.25, 3, 5.5, 7])
def test_multipliers_match(by_hand, phi):
    m = ec.compound_multipliers(phi)
    assert by_hand["compound_multipliers_by_hand"](phi) == pytest.approx((m.depth, m.width, m.resolution))


@pytest.mark.parametrize(
    ("phi", "coefficients"), [(0, ()), (1, ()), (3.5, ()), (7, ()), (2, (1.3, 1.05, 1.2))]
)
def test_scale_b0_matches_compound_spec(by_hand, phi, coefficients):
    spec = compound_spec(phi, *coefficients)
    assert by_hand["scale_b0"](phi, *coefficients) == (
        spec.stages, spec.stem_channels, spec.head_channels, spec.resolution
    )


def test_scaled_stage_table_builds_the_same_network(by_hand):
    stages, stem, head, resolution = by_hand["scale_b0"](1)
    model = ec.EfficientNet(stages, stem_channels=stem, head_channels=head, image_size=resolution)
    assert ec.count_params(model) == ec.count_params(ec.compound_scaled(1))
