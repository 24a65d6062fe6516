"""The architectures as plain data: stage tables and scale tables.

* :data:`B0_STAGES` is the body of Table 1 of the EfficientNet paper.
* :data:`V1_SCALES` holds the released (width, depth, resolution, dropout) of B0-B7.
  They are a hand-tuned table, *not* exactly ``alpha**phi`` etc. (chapter "Compound scaling").
* :data:`V2_VARIANTS` holds EfficientNetV2-S/M/L as in the reference code (V2-S's last stage
  has 256 channels; the first version of the paper printed 272).

Introduced in the chapter "EfficientNet-B0".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ._checks import check_float, check_int
from .scaling import round_filters, round_repeats

BlockType = Literal["mbconv", "fused"]


@dataclass(frozen=True)
class StageConfig:
    """One stage: ``num_layers`` blocks of one type; only the first has ``stride`` and changes channels."""

    block: BlockType
    expand_ratio: int
    kernel_size: int
    stride: int
    in_channels: int
    out_channels: int
    num_layers: int
    se_ratio: float = 0.25

    def __post_init__(self) -> None:
        if self.block not in ("mbconv", "fused"):
            raise ValueError(f"block must be 'mbconv' or 'fused', got {self.block!r}")
        for name in ("expand_ratio", "kernel_size", "in_channels", "out_channels", "num_layers"):
            check_int(name, getattr(self, name))
        check_int("stride", self.stride, 1, 2)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (1, 3, 5, ...), got {self.kernel_size!r}")
        check_float("se_ratio", self.se_ratio, 0.0, 1.0)

    @property
    def operator(self) -> str:
        """The paper's name for the stage's operator, e.g. ``MBConv6, k5x5``."""
        name = "MBConv" if self.block == "mbconv" else "Fused-MBConv"
        return f"{name}{self.expand_ratio}, k{self.kernel_size}x{self.kernel_size}"

    def scaled(self, width_mult: float = 1.0, depth_mult: float = 1.0) -> StageConfig:
        """This stage with channels rounded by :func:`round_filters` and layers by :func:`round_repeats`."""
        return replace(
            self,
            in_channels=round_filters(self.in_channels, width_mult),
            out_channels=round_filters(self.out_channels, width_mult),
            num_layers=round_repeats(self.num_layers, depth_mult),
        )


def _mb(e: int, k: int, s: int, cin: int, cout: int, n: int) -> StageConfig:
    return StageConfig("mbconv", e, k, s, cin, cout, n)


def _fused(e: int, k: int, s: int, cin: int, cout: int, n: int) -> StageConfig:
    return StageConfig("fused", e, k, s, cin, cout, n, se_ratio=0.0)


# EfficientNet paper, Table 1 (stages 2-8): expand, kernel, stride, in, out, layers.
B0_STAGES: tuple[StageConfig, ...] = (
    _mb(1, 3, 1, 32, 16, 1),
    _mb(6, 3, 2, 16, 24, 2),
    _mb(6, 5, 2, 24, 40, 2),
    _mb(6, 3, 2, 40, 80, 3),
    _mb(6, 5, 1, 80, 112, 3),
    _mb(6, 5, 2, 112, 192, 4),
    _mb(6, 3, 1, 192, 320, 1),
)
B0_STEM_CHANNELS = 32
B0_HEAD_CHANNELS = 1280


@dataclass(frozen=True)
class V1Scale:
    """A released EfficientNet-V1 variant: multipliers relative to B0, input size, dropout, BatchNorm.

    ``norm_eps``/``norm_momentum`` are torchvision's: PyTorch's defaults for B0-B4, the TensorFlow
    values (eps 1e-3, momentum 0.01) for B5-B7, whose weights torchvision ported from TensorFlow.
    """

    width: float
    depth: float
    resolution: int
    dropout: float
    norm_eps: float = 1e-5
    norm_momentum: float = 0.1


V1_SCALES: dict[str, V1Scale] = {
    "b0": V1Scale(1.0, 1.0, 224, 0.2),
    "b1": V1Scale(1.0, 1.1, 240, 0.2),
    "b2": V1Scale(1.1, 1.2, 260, 0.3),
    "b3": V1Scale(1.2, 1.4, 300, 0.3),
    "b4": V1Scale(1.4, 1.8, 380, 0.4),
    "b5": V1Scale(1.6, 2.2, 456, 0.4, norm_eps=1e-3, norm_momentum=0.01),
    "b6": V1Scale(1.8, 2.6, 528, 0.5, norm_eps=1e-3, norm_momentum=0.01),
    "b7": V1Scale(2.0, 3.1, 600, 0.5, norm_eps=1e-3, norm_momentum=0.01),
}


@dataclass(frozen=True)
class V2Setting:
    """An EfficientNetV2 variant: its stage table, evaluation size, largest training size, dropout."""

    stages: tuple[StageConfig, ...]
    eval_size: int
    train_size: int
    dropout: float
    head_channels: int = 1280
    norm_eps: float = 1e-3  # torchvision's V2-S/M/L: eps 1e-3, PyTorch's default momentum 0.1


V2_VARIANTS: dict[str, V2Setting] = {
    "s": V2Setting(
        (
            _fused(1, 3, 1, 24, 24, 2),
            _fused(4, 3, 2, 24, 48, 4),
            _fused(4, 3, 2, 48, 64, 4),
            _mb(4, 3, 2, 64, 128, 6),
            _mb(6, 3, 1, 128, 160, 9),
            _mb(6, 3, 2, 160, 256, 15),
        ),
        eval_size=384, train_size=300, dropout=0.2,
    ),
    "m": V2Setting(
        (
            _fused(1, 3, 1, 24, 24, 3),
            _fused(4, 3, 2, 24, 48, 5),
            _fused(4, 3, 2, 48, 80, 5),
            _mb(4, 3, 2, 80, 160, 7),
            _mb(6, 3, 1, 160, 176, 14),
            _mb(6, 3, 2, 176, 304, 18),
            _mb(6, 3, 1, 304, 512, 5),
        ),
        eval_size=480, train_size=384, dropout=0.3,
    ),
    "l": V2Setting(
        (
            _fused(1, 3, 1, 32, 32, 4),
            _fused(4, 3, 2, 32, 64, 7),
            _fused(4, 3, 2, 64, 96, 7),
            _mb(4, 3, 2, 96, 192, 10),
            _mb(6, 3, 1, 192, 224, 19),
            _mb(6, 3, 2, 224, 384, 25),
            _mb(6, 3, 1, 384, 640, 7),
        ),
        eval_size=480, train_size=384, dropout=0.4,
    ),
}


def check_stages(stages: object) -> tuple[StageConfig, ...]:
    """``stages`` as a tuple, or a ``TypeError`` unless it is a non-empty sequence of :class:`StageConfig`."""
    if isinstance(stages, StageConfig) or not isinstance(stages, Sequence) or not stages or not all(
            isinstance(s, StageConfig) for s in stages):
        raise TypeError(f"stages must be a non-empty sequence of StageConfig, got {stages!r:.80}")
    return tuple(stages)


def scale_stages(
    stages: Sequence[StageConfig], width_mult: float = 1.0, depth_mult: float = 1.0
) -> tuple[StageConfig, ...]:
    """Apply :meth:`StageConfig.scaled` to every stage (chapter "Compound scaling")."""
    return tuple(stage.scaled(width_mult, depth_mult) for stage in check_stages(stages))


def scale_b0(width_mult: float = 1.0, depth_mult: float = 1.0
             ) -> tuple[tuple[StageConfig, ...], int, int]:
    """B0 grown by width and depth multipliers: ``(stages, stem_channels, head_channels)``.

    The one place B1-B7, compound scaling and the phi explorer scale B0.
    Introduced in the chapter "Compound scaling".
    """
    return (scale_stages(B0_STAGES, width_mult, depth_mult),
            round_filters(B0_STEM_CHANNELS, width_mult),
            round_filters(B0_HEAD_CHANNELS, width_mult))


def stage_table(
    stages: Sequence[StageConfig],
    image_size: int = 224,
    stem_channels: int = B0_STEM_CHANNELS,
    head_channels: int = B0_HEAD_CHANNELS,
    stem_stride: int = 2,
) -> list[dict[str, object]]:
    """Rows of the paper's Table 1 for any stage list: stage, operator, resolution, channels, layers.

    ``resolution`` is the *input* resolution of each stage, as in the paper.
    Introduced in the chapter "EfficientNet-B0".
    """
    stages = check_stages(stages)
    size = check_int("image_size", image_size)
    stem_channels, head_channels = check_int("stem_channels", stem_channels), check_int(
        "head_channels", head_channels)
    stem_stride = check_int("stem_stride", stem_stride, 1, 2)
    rows: list[dict[str, object]] = []
    rows.append({"stage": 1, "operator": "Conv3x3", "resolution": f"{size}x{size}",
                 "channels": stem_channels, "layers": 1})
    size = -(-size // stem_stride)
    for i, stage in enumerate(stages, start=2):
        rows.append({"stage": i, "operator": stage.operator, "resolution": f"{size}x{size}",
                     "channels": stage.out_channels, "layers": stage.num_layers})
        size = -(-size // stage.stride)
    rows.append({"stage": len(stages) + 2, "operator": "Conv1x1 & Pooling & FC",
                 "resolution": f"{size}x{size}", "channels": head_channels, "layers": 1})
    return rows


def format_table(rows: Sequence[dict[str, object]]) -> str:
    """Render a list of dicts as an aligned plain-text table (for ``print``).

    Integers get thousands separators and are right-aligned; everything else is left-aligned.
    """
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence) or not all(
            isinstance(row, dict) for row in rows):
        raise TypeError(f"rows must be a sequence of dicts, got {rows!r:.60}")
    if not rows:
        return ""
    columns = list(rows[0])
    if any(c not in row for row in rows for c in columns):
        raise ValueError(f"rows must all have the keys of the first row {columns}, got {rows!r:.60}")

    def cell(value: object) -> str:
        return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

    cells = [[cell(row[c]) for c in columns] for row in rows]
    numeric = [all(isinstance(row[c], int) for row in rows) for c in columns]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])
