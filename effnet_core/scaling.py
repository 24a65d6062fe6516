"""Compound scaling: how EfficientNet grows depth, width and resolution together.

.. math:: d = \\alpha^\\phi,\\quad w = \\beta^\\phi,\\quad r = \\gamma^\\phi,
          \\qquad \\alpha\\,\\beta^2\\gamma^2 \\approx 2

so FLOPs grow by about :math:`(\\alpha\\beta^2\\gamma^2)^\\phi \\approx 2^\\phi`.
Introduced in the chapter "Compound scaling".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PAPER_ALPHA, PAPER_BETA, PAPER_GAMMA = 1.2, 1.1, 1.15


def _check_finite(name: str, value: object, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return float(value)


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never below 90% of ``value``.

    This is the channel-rounding rule of the reference implementations (MobileNetV2 onwards).
    """
    value = _check_finite("value", value, 0.0)
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f"divisor must be a positive integer, got {divisor!r}")
    if min_value is not None and (isinstance(min_value, bool) or not isinstance(min_value, int)):
        raise ValueError(f"min_value must be None or an integer, got {min_value!r}")
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def round_filters(channels: int, width_mult: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width_mult`` and round it with :func:`make_divisible`.

    Introduced in the chapter "Compound scaling".
    """
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive integer, got {channels!r}")
    width_mult = _check_finite("width_mult", width_mult)
    if width_mult <= 0:
        raise ValueError(f"width_mult must be > 0, got {width_mult!r}")
    return make_divisible(channels * width_mult, divisor)


def round_repeats(repeats: int, depth_mult: float) -> int:
    """Scale a stage's number of layers by ``depth_mult``, rounding up (chapter "Compound scaling")."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    depth_mult = _check_finite("depth_mult", depth_mult)
    if depth_mult <= 0:
        raise ValueError(f"depth_mult must be > 0, got {depth_mult!r}")
    return int(math.ceil(repeats * depth_mult))


@dataclass(frozen=True)
class Multipliers:
    """Depth, width and resolution multipliers for one value of phi."""

    phi: float
    depth: float
    width: float
    resolution: float

    @property
    def flops_factor(self) -> float:
        """Predicted FLOPs ratio to the baseline: ``depth * width**2 * resolution**2``."""
        return self.depth * self.width**2 * self.resolution**2


def validate_coefficients(alpha: float, beta: float, gamma: float) -> tuple[float, float, float]:
    """Validate compound-scaling coefficients (each a finite number >= 1)."""
    return (
        _check_finite("alpha", alpha, 1.0),
        _check_finite("beta", beta, 1.0),
        _check_finite("gamma", gamma, 1.0),
    )


def compound_multipliers(
    phi: float,
    alpha: float = PAPER_ALPHA,
    beta: float = PAPER_BETA,
    gamma: float = PAPER_GAMMA,
) -> Multipliers:
    """Return ``alpha**phi, beta**phi, gamma**phi`` for depth, width, resolution.

    ``phi`` is any finite real number >= 0. Introduced in the chapter "Compound scaling".
    """
    phi = _check_finite("phi", phi, 0.0)
    alpha, beta, gamma = validate_coefficients(alpha, beta, gamma)
    # log of the FLOPs factor; beyond ~700 the multipliers overflow a float
    if phi * (math.log(alpha) + 2 * math.log(beta) + 2 * math.log(gamma)) > 700:
        raise ValueError(f"phi must be small enough for finite multipliers (e.g. <= 100), got {phi!r}")
    return Multipliers(phi=phi, depth=alpha**phi, width=beta**phi, resolution=gamma**phi)


def flops_factor_per_phi(
    alpha: float = PAPER_ALPHA, beta: float = PAPER_BETA, gamma: float = PAPER_GAMMA
) -> float:
    """``alpha * beta**2 * gamma**2``: how much FLOPs grow for each unit of phi (about 2)."""
    alpha, beta, gamma = validate_coefficients(alpha, beta, gamma)
    return alpha * beta**2 * gamma**2
