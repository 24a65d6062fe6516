"""Progressive learning (EfficientNetV2, Algorithm 1): grow image size and regularization together.

Training is split into ``K`` stages. Stage ``k`` (0-based) of ``K`` trains at

    S_k = S_0 + (S_e - S_0) * k / (K - 1)        (image size)
    phi_k = phi_0 + (phi_e - phi_0) * k / (K - 1) (each regularization strength)

so the first stage uses small images with weak regularization and the last one the full
size with the strongest regularization. The paper's ImageNet values for V2-S are
128 -> 300 px, RandAugment magnitude 5 -> 15, mixup alpha 0 -> 0, dropout 0.1 -> 0.3.

CIFAR-10 defaults (:data:`CIFAR_DEFAULTS`), scaled to 32-pixel images: size 16 -> 32 px
(half the final size; the paper starts at 128/300, about 0.43), RandAugment
magnitude 0 -> 10 (of 30), mixup alpha 0 -> 0.2, dropout 0.1 -> 0.3, over 4 stages.
Sizes are rounded to a multiple of 4 so each stage's feature maps stay whole.

A run of minutes on a CPU (:data:`CPU_SCHEDULE`, the ``cpu`` and ``smoke`` budgets) gets a
weaker range: RandAugment magnitude 0 -> 5, mixup 0 -> 0.1, dropout 0.05 -> 0.15. The paper scales
regularization with the model (V2-S 5 -> 15 magnitude and dropout 0.1 -> 0.3, V2-M up to 20 and
0.4, V2-L up to 25 and 0.5), all for 350 epochs; the book's CPU network has about 1/60 of V2-S's
parameters and trains for 4 epochs, so it underfits rather than overfits and strong
regularization only slows it down. The range keeps the paper's shape (weak to strong, mixup off
at the start) at a third (magnitude) to a half (dropout) of V2-S's final strengths, half of
:data:`CIFAR_DEFAULTS`. Measured with it: ``effnet_core/book/records/progressive_ablation_cpu.json``.

:meth:`ProgressiveSchedule.ablation` gives the four arms of the paper's ablation: image size
fixed or progressive, times regularization fixed (at its final strength) or adaptive.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ._checks import check_float, check_int


@dataclass(frozen=True)
class Stage:
    """What one stage trains with."""

    index: int
    image_size: int
    magnitude: float
    mixup_alpha: float
    dropout: float


@dataclass(frozen=True)
class ProgressiveSchedule:
    """Image size and regularization for each of ``num_stages`` stages, linear from min to max."""

    num_stages: int = 4
    min_size: int = 16
    max_size: int = 32
    min_magnitude: float = 0.0
    max_magnitude: float = 10.0
    min_mixup: float = 0.0
    max_mixup: float = 0.2
    min_dropout: float = 0.1
    max_dropout: float = 0.3
    size_multiple: int = 4

    def __post_init__(self) -> None:
        for name in ("num_stages", "min_size", "max_size", "size_multiple"):
            check_int(name, getattr(self, name), 1, 4096)
        for name in ("min_magnitude", "max_magnitude", "min_mixup", "max_mixup", "min_dropout",
                     "max_dropout"):
            check_float(name, getattr(self, name))
        if not 0 < self.min_size <= self.max_size:
            raise ValueError(
                f"min_size and max_size must satisfy 0 < min_size <= max_size, "
                f"got {self.min_size} and {self.max_size}"
            )
        if self.size_multiple < 1:
            raise ValueError(f"size_multiple must be >= 1, got {self.size_multiple}")
        for name, low, high, top in (
            ("magnitude", self.min_magnitude, self.max_magnitude, 30.0),
            ("mixup", self.min_mixup, self.max_mixup, float("inf")),
            ("dropout", self.min_dropout, self.max_dropout, 1.0),
        ):
            if not 0 <= low <= high <= top:
                raise ValueError(
                    f"min_{name} and max_{name} must satisfy 0 <= min <= max <= {top}, "
                    f"got {low} and {high}"
                )

    def _lerp(self, low: float, high: float, k: int) -> float:
        if self.num_stages == 1:
            return high
        return low + (high - low) * k / (self.num_stages - 1)

    def stage(self, k: int) -> Stage:
        """Stage ``k`` (0-based). A one-stage schedule trains at the max values."""
        if not isinstance(k, int) or not 0 <= k < self.num_stages:
            raise ValueError(f"k must be an integer in [0, {self.num_stages}), got {k!r}")
        size = self._lerp(self.min_size, self.max_size, k)
        size = int(self.size_multiple * round(size / self.size_multiple))
        return Stage(
            index=k,
            image_size=min(max(size, self.min_size), self.max_size),
            magnitude=self._lerp(self.min_magnitude, self.max_magnitude, k),
            mixup_alpha=self._lerp(self.min_mixup, self.max_mixup, k),
            dropout=self._lerp(self.min_dropout, self.max_dropout, k),
        )

    def stages(self) -> list[Stage]:
        """All stages in order."""
        return [self.stage(k) for k in range(self.num_stages)]

    def stage_for_epoch(self, epoch: int, epochs: int) -> Stage:
        """The stage that trains epoch ``epoch`` (0-based) of ``epochs``.

        Each stage gets an equal share of the epochs. With fewer epochs than stages the first
        epoch still uses the first stage and the last epoch the last stage (stages in between
        are spread evenly and some are skipped).
        """
        if not 0 <= epoch < epochs:
            raise ValueError(f"epoch must be in [0, {epochs}), got {epoch}")
        if epochs >= self.num_stages:
            return self.stage(epoch * self.num_stages // epochs)
        if epochs == 1:
            return self.stage(self.num_stages - 1)
        return self.stage(round(epoch * (self.num_stages - 1) / (epochs - 1)))

    def fixed(self) -> ProgressiveSchedule:
        """The fixed-size baseline: one stage at the final size and regularization."""
        return replace(
            self,
            num_stages=1,
            min_size=self.max_size,
            min_magnitude=self.max_magnitude,
            min_mixup=self.max_mixup,
            min_dropout=self.max_dropout,
        )

    def fixed_size(self) -> ProgressiveSchedule:
        """The same stages, all at the final image size (regularization still grows)."""
        return replace(self, min_size=self.max_size)

    def fixed_regularization(self) -> ProgressiveSchedule:
        """The same stages, all at the final regularization (image size still grows)."""
        return replace(self, min_magnitude=self.max_magnitude, min_mixup=self.max_mixup,
                       min_dropout=self.max_dropout)

    def ablation(self) -> dict[str, ProgressiveSchedule]:
        """The paper's 2x2: image size fixed/progressive x regularization fixed/adaptive.

        Keys are ``"<size>/<regularization>"``; ``"fixed/fixed"`` is :meth:`fixed` and
        ``"progressive/adaptive"`` this schedule (progressive learning).
        """
        return {
            "fixed/fixed": self.fixed(),
            "fixed/adaptive": self.fixed_size(),
            "progressive/fixed": self.fixed_regularization(),
            "progressive/adaptive": self,
        }

    def as_dict(self) -> dict:
        """The settings as a plain dict (for JSON and checkpoints)."""
        return asdict(self)


CIFAR_DEFAULTS = ProgressiveSchedule()
CPU_SCHEDULE = ProgressiveSchedule(max_magnitude=5.0, max_mixup=0.1, min_dropout=0.05, max_dropout=0.15)
