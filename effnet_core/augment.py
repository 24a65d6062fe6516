"""Data on the device and augmentation as batched tensor operations.

The whole data set lives on the training device as one uint8 tensor; a batch is a
tensor of indices into it. Every augmentation transforms the whole batch at once with
per-image random parameters, so there are no DataLoader workers and no per-image
Python loop. Random numbers are drawn on the device from a :class:`torch.Generator` there
(seeded from the caller's CPU generator, see :func:`device_generator`), and per-image choices
select rows of small precomputed tables instead of picking images out by index: a batch
costs about 45 ATen ops and never waits for the device (no ``.item()``, no ``nonzero``).

Pipeline of :class:`TrainAugment` (all on float images in [0, 1]):
RandAugment's color ops (one fused pass) -> random crop with zero padding, horizontal flip and
RandAugment's geometric ops (one affine warp, one ``grid_sample``) -> resize to the stage's image
size -> normalize -> mixup.

Differences from applying the ops one by one, in the order drawn (the reference semantics):

* the crop and flip are part of the final warp, after the color ops: color statistics
  (autocontrast's range, contrast's mean) come from the whole image, not from the padded
  crop, and a rotation near the crop's edge shows image, not black;
* an image's color ops run in a fixed order (autocontrast, the linear ones, solarize,
  posterize) whatever order they were drawn in; two linear ops (brightness, color, contrast,
  sharpness) are composed into one 5x5 kernel without the clamp between them; solarize drawn
  twice applies once;
* mixup's ``lam ~ Beta(alpha, alpha)`` is read from a table of 4,096 quantiles.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ._checks import check_bool, check_device, check_float, check_int, check_tensor

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
MAX_MAGNITUDE = 30.0  # RandAugment's scale: magnitude m applies m / 30 of each op's full strength
GRAY = (0.299, 0.587, 0.114)
BETA_QUANTILES = 4096  # resolution of mixup's lam table
MAX_MIXUP_ALPHA = 100.0  # Beta(100, 100) already pins lam to 0.5 +- 0.035
MAX_IMAGE_SIZE = 2**16  # pixels a side, as in effnet_core.counting
MAX_CLASSES = 100_000


def device_generator(generator: torch.Generator, device: torch.device | str) -> torch.Generator:
    """``generator`` itself if it lives on ``device``, else a generator there seeded from it.

    Drawing the seed advances ``generator`` (one CPU draw), so runs stay reproducible.
    """
    device = torch.device(device)
    if generator.device.type == device.type:
        return generator
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return torch.Generator(device).manual_seed(seed)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` -> float32 in [0, 1]."""
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be a uint8 tensor, got {images.dtype}")
    return images.div(255.0)


@functools.cache
def _normalizer(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return (-torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1) / std).to(device), (1 / std).to(device)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """Subtract the CIFAR-10 channel mean and divide by the channel std (one fused op)."""
    shift, scale = _normalizer(images.device)
    return torch.addcmul(shift, images, scale)


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize to ``size x size`` (antialiased when shrinking)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    shrink = size < images.shape[-1]
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=shrink)


def _eye_kernel() -> torch.Tensor:
    k = torch.zeros(3, 3, 5, 5, dtype=torch.float64)
    k[range(3), range(3), 2, 2] = 1
    return k


def _gray_kernel() -> torch.Tensor:
    k = torch.zeros(3, 3, 5, 5, dtype=torch.float64)
    k[:, :, 2, 2] = torch.tensor(GRAY, dtype=torch.float64)
    return k


def _smooth_kernel() -> torch.Tensor:
    k = torch.zeros(3, 3, 5, 5, dtype=torch.float64)
    taps = torch.tensor([[1, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=torch.float64) / 13
    k[range(3), range(3), 1:4, 1:4] = taps
    return k


@dataclass(frozen=True)
class ColorOp:
    """A color op as the fused pass applies it, in this order: autocontrast (if set), the
    linear ``kernel`` (channels x channels x 5 x 5) plus ``mean`` times the image's mean grey
    level, clamp to [0, 1], solarize pixels >= ``threshold``, posterize to ``levels`` levels."""

    kernel: torch.Tensor = field(default_factory=_eye_kernel)
    mean: float = 0.0
    autocontrast: bool = False
    threshold: float = 2.0  # 2 = never solarize
    levels: int = 256  # 256 = no posterize

    def then(self, other: ColorOp) -> ColorOp:
        """This op followed by ``other``, as one op (the linear parts composed, see module doc)."""
        kernel = F.conv2d(self.kernel.transpose(0, 1), other.kernel, padding=2).transpose(0, 1)
        gain, other_gain = self.kernel[0].sum().item(), other.kernel[0].sum().item()
        mean = self.mean * other_gain + other.mean * (gain + self.mean)
        return ColorOp(kernel, mean, self.autocontrast or other.autocontrast,
                        min(self.threshold, other.threshold), min(self.levels, other.levels))


def _blend(other: Callable[[], torch.Tensor]) -> Callable[[float], ColorOp]:
    """``f * x + (1 - f) * other(x)`` with ``f = 1 + 0.9 * strength`` (strength signed)."""
    def op(v: float) -> ColorOp:
        f = 1 + 0.9 * v
        return ColorOp(kernel=f * _eye_kernel() + (1 - f) * other())

    return op


def _contrast(v: float) -> ColorOp:
    f = 1 + 0.9 * v
    return ColorOp(kernel=f * _eye_kernel(), mean=1 - f)


# color ops: signed strength in [-1, 1] -> ColorOp (blends use the sign; the others ignore it)
COLOR_OPS: dict[str, Callable[[float], ColorOp]] = {
    "autocontrast": lambda v: ColorOp(autocontrast=True),
    "brightness": _blend(lambda: torch.zeros(3, 3, 5, 5, dtype=torch.float64)),
    "color": _blend(_gray_kernel),
    "contrast": _contrast,
    "sharpness": _blend(_smooth_kernel),
    "posterize": lambda v: ColorOp(levels=int(2 ** (8 - round(4 * abs(v))))),
    "solarize": lambda v: ColorOp(threshold=1 - abs(v)),
}


def _rotate(s: torch.Tensor) -> torch.Tensor:
    angle = math.radians(30) * s
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(s)
    return torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)


def _shear(axis: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def theta(s: torch.Tensor) -> torch.Tensor:
        out = torch.eye(2, 3, dtype=s.dtype).repeat(len(s), 1, 1)
        out[:, axis, 1 - axis] = 0.3 * s
        return out

    return theta


def _translate(axis: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def theta(s: torch.Tensor) -> torch.Tensor:
        out = torch.eye(2, 3, dtype=s.dtype).repeat(len(s), 1, 1)
        out[:, axis, 2] = 2 * 0.3 * s  # up to 30 % of the side (the sampling grid spans 2)
        return out

    return theta


# geometric ops: signed strength per image -> affine matrices (n, 2, 3) for F.affine_grid
GEOMETRIC_OPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "rotate": _rotate,
    "shear_x": _shear(0),
    "shear_y": _shear(1),
    "translate_x": _translate(0),
    "translate_y": _translate(1),
}
RANDAUGMENT_OPS = ("identity", *COLOR_OPS, *GEOMETRIC_OPS)


def _single_ops(strength: float) -> tuple[list[ColorOp], torch.Tensor]:
    """The 26 (op, sign) choices: their color ops and their 3x3 affine matrices."""
    colors, warps = [], torch.eye(3, dtype=torch.float64).repeat(2 * len(RANDAUGMENT_OPS), 1, 1)
    for k, (name, sign) in enumerate((n, s) for n in RANDAUGMENT_OPS for s in (1.0, -1.0)):
        colors.append(COLOR_OPS[name](sign * strength) if name in COLOR_OPS else ColorOp())
        if name in GEOMETRIC_OPS:
            warps[k, :2] = GEOMETRIC_OPS[name](torch.tensor([sign * strength], dtype=torch.float64))[0]
    return colors, warps


@functools.lru_cache(maxsize=32)
def _op_tables(magnitude: float, num_ops: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """One row per sequence of ``num_ops`` (op, sign) draws: 5x5 kernels, per-image color
    coefficients (autocontrast, grey-mean weights, threshold, posterize scales) and warps."""
    colors, warps = _single_ops(magnitude / MAX_MAGNITUDE)
    rows, mats = [ColorOp()], torch.eye(3, dtype=torch.float64)[None]
    for _ in range(num_ops):
        rows = [r.then(c) for r in rows for c in colors]
        mats = (warps[None] @ mats[:, None]).flatten(0, 1)  # later op applied to the output
    gray = torch.tensor(GRAY, dtype=torch.float64)
    coefs = torch.tensor([[float(r.autocontrast), *(r.mean * gray).tolist(), r.threshold,
                           (255 + 1e-3) * r.levels / 256, 256 / (r.levels * 255), float(r.levels < 256)]
                          for r in rows], dtype=torch.float64)
    kernels = torch.stack([r.kernel for r in rows])
    return tuple(t.float().to(device) for t in (kernels, coefs[..., None, None], mats))


def _color_pass(x: torch.Tensor, kernels: torch.Tensor, coefs: torch.Tensor) -> torch.Tensor:
    """Apply each image's :class:`ColorOp` (rows of :func:`_op_tables`) in one batched pass."""
    autocontrast, mean_weights, threshold, scale_up, scale_down, posterize = coefs.split(
        [1, 3, 1, 1, 1, 1], dim=1)
    low, high = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
    x = torch.lerp(x, (x - low) / (high - low).clamp_min(1e-3), autocontrast)  # autocontrast
    grey_mean = (x.mean((2, 3), keepdim=True) * mean_weights).sum(1, keepdim=True)  # contrast
    b, c, h, w = x.shape
    padded = F.pad(x.view(1, b * c, h, w), (2, 2, 2, 2), mode="replicate")
    x = F.conv2d(padded, kernels.view(b * c, c, 5, 5), groups=b).view(b, c, h, w)  # linear
    x = (x + grey_mean).clamp_(0, 1)
    x = torch.where(x >= threshold, 1 - x, x)  # solarize
    return torch.lerp(x, torch.floor(x * scale_up) * scale_down, posterize)  # posterize


def _check_ops(magnitude: float, num_ops: int) -> None:
    check_float("magnitude", magnitude, 0.0, MAX_MAGNITUDE)
    check_int("num_ops", num_ops, 0, 2)


def _check_generator(generator: object) -> None:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {generator!r:.60}")


def _check_batch(images: object, labels: object | None = None) -> None:
    """Float images ``(B, C, H, W)`` and, if given, integer labels ``(B,)``."""
    check_tensor("images", images, ndim=4, floating=True)
    if labels is None:
        return
    check_tensor("labels", labels, ndim=1)
    if labels.is_floating_point() or labels.dtype == torch.bool or len(labels) != len(images):
        raise ValueError(f"labels must be {len(images)} integer class indices, got {labels.dtype} "
                         f"{tuple(labels.shape)}")


def rand_augment(
    images: torch.Tensor,
    magnitude: float,
    generator: torch.Generator,
    num_ops: int = 2,
) -> torch.Tensor:
    """RandAugment on a batch of float images in [0, 1].

    Each image gets ``num_ops`` (0, 1 or 2) ops drawn uniformly (with replacement) from
    :data:`RANDAUGMENT_OPS`, at strength ``magnitude / 30`` of the op's full range
    (30 = rotate 30 degrees, shear 0.3, translate 30 %, color factors 1 +- 0.9) with a
    random sign: one color pass, then one affine warp (see the module docstring for how
    that differs from applying the ops one by one). ``magnitude=0`` changes nothing.
    """
    _check_batch(images)
    _check_ops(magnitude, num_ops)
    _check_generator(generator)
    if magnitude == 0 or num_ops == 0:
        return images
    kernels, coefs, warps = _op_tables(float(magnitude), num_ops, images.device)
    g = device_generator(generator, images.device)
    choice = (torch.rand(len(images), generator=g, device=images.device) * len(warps)).long()
    x = _color_pass(images, kernels[choice], coefs[choice])
    return _warp(x, warps[choice][:, :2])


def _warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


@functools.lru_cache(maxsize=32)
def _crop_flip_table(padding: int, flip: bool, height: int, width: int,
                     device: torch.device) -> torch.Tensor:
    """Affine matrices (2 x 3) of every crop offset and mirror choice, as ``affine_grid`` takes them."""
    shifts = torch.arange(2 * padding + 1, dtype=torch.float64) - padding
    dy, dx, fx = torch.meshgrid(shifts * 2 / height, shifts * 2 / width,
                                torch.tensor([1.0, -1.0] if flip else [1.0], dtype=torch.float64),
                                indexing="ij")
    zero, one = torch.zeros_like(fx), torch.ones_like(fx)
    rows = torch.stack([torch.stack([fx, zero, dx], -1), torch.stack([zero, one, dy], -1)], -2)
    return rows.flatten(0, 2).float().to(device)


@functools.lru_cache(maxsize=32)
def _beta_quantiles(alpha: float, device: torch.device, n: int = BETA_QUANTILES) -> torch.Tensor:
    """The ``(j + 1/2) / n`` quantiles of Beta(alpha, alpha), ``j = 0 .. n-1``.

    The CDF on [0, 1/2] is integrated numerically after substituting ``x = t ** (1 / alpha)``
    (which makes the integrand smooth); the upper half follows by symmetry.
    """
    t = torch.linspace(0, 0.5**alpha, 200_001, dtype=torch.float64)
    density = (1 - t ** (1 / alpha)).clamp_min(0) ** (alpha - 1)
    cdf = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumulative_trapezoid(density, t)])
    cdf = cdf / (2 * cdf[-1])
    p = (torch.arange(n // 2, dtype=torch.float64) + 0.5) / n
    j = torch.searchsorted(cdf, p).clamp(1, len(t) - 1)
    w = (p - cdf[j - 1]) / (cdf[j] - cdf[j - 1])
    low = (t[j - 1] + w * (t[j] - t[j - 1])) ** (1 / alpha)
    return torch.cat([low, 1 - low.flip(0)]).float().to(device)


@functools.lru_cache(maxsize=32)
def _choices(crops: int, ops: int, device: torch.device) -> torch.Tensor:
    return torch.tensor([crops, ops, BETA_QUANTILES], dtype=torch.float32, device=device)


@functools.lru_cache(maxsize=8)
def _one_hot_table(num_classes: int, device: torch.device) -> torch.Tensor:
    return torch.eye(num_classes, device=device)


def _mix(images: torch.Tensor, labels: torch.Tensor, lam: torch.Tensor | None, perm: torch.Tensor | None,
         num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    targets = _one_hot_table(num_classes, labels.device)[labels]  # no F.one_hot: it checks on the host
    if lam is None:
        return images, targets
    return torch.lerp(images[perm], images, lam), torch.lerp(targets[perm], targets, lam)


def mixup(
    images: torch.Tensor,
    labels: torch.Tensor,
    alpha: float,
    generator: torch.Generator,
    num_classes: int = 10,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each image with a random partner: ``lam * x + (1 - lam) * x[perm]``.

    ``lam ~ Beta(alpha, alpha)`` (one per batch, a tensor on the device). Returns the mixed
    images and soft targets ``(B, num_classes)`` that mix the one-hot labels the same way;
    ``alpha=0`` returns the images unchanged with one-hot targets.
    """
    _check_batch(images, labels)
    alpha = check_float("alpha", alpha, 0.0, MAX_MIXUP_ALPHA)
    _check_generator(generator)
    check_int("num_classes", num_classes, 1, MAX_CLASSES)
    if alpha == 0:
        return _mix(images, labels, None, None, num_classes)
    g = device_generator(generator, images.device)
    u = torch.rand(1, generator=g, device=images.device)
    lam = _beta_quantiles(float(alpha), images.device)[(u * BETA_QUANTILES).long()]
    perm = torch.randperm(len(images), generator=g, device=images.device)
    return _mix(images, labels, lam, perm, num_classes)


@dataclass(frozen=True)
class TrainAugment:
    """The training-time transform for one stage of progressive learning."""

    image_size: int = 32
    magnitude: float = 0.0
    mixup_alpha: float = 0.0
    padding: int = 4
    flip: bool = True
    num_ops: int = 2
    num_classes: int = 10

    def __post_init__(self) -> None:
        check_int("image_size", self.image_size, 1, MAX_IMAGE_SIZE)
        _check_ops(self.magnitude, self.num_ops)
        check_float("mixup_alpha", self.mixup_alpha, 0.0, MAX_MIXUP_ALPHA)
        check_int("padding", self.padding, 0, MAX_IMAGE_SIZE)
        check_bool("flip", self.flip)
        check_int("num_classes", self.num_classes, 1, MAX_CLASSES)

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images and int labels -> normalized float images and soft targets."""
        device, (b, _, h, w) = images.device, images.shape
        g = device_generator(generator, device)
        crops = _crop_flip_table(self.padding, self.flip, h, w, device)
        ops = self.num_ops if self.magnitude > 0 else 0
        kernels, coefs, warps = _op_tables(float(self.magnitude), ops, device)
        draws = torch.rand(b, 3, generator=g, device=device) * _choices(len(crops), len(warps), device)
        pick, op, quantile = draws.long().unbind(1)  # crop/flip, RandAugment ops, mixup's lam
        x = to_float(images)
        if ops:
            x = _color_pass(x, kernels[op], coefs[op])  # color
        x = _warp(x, torch.bmm(crops[pick], warps[op]))  # crop, flip, geometric
        x = normalize(resize(x, self.image_size))
        if self.mixup_alpha == 0:
            return _mix(x, labels, None, None, self.num_classes)
        lam = _beta_quantiles(float(self.mixup_alpha), device)[quantile[:1]]  # mixup
        perm = torch.randperm(b, generator=g, device=device)
        return _mix(x, labels, lam, perm, self.num_classes)


def eval_transform(images: torch.Tensor, image_size: int = 32) -> torch.Tensor:
    """Test-time transform: to float, resize to ``image_size``, normalize."""
    check_tensor("images", images, ndim=4)
    check_int("image_size", image_size, 1, MAX_IMAGE_SIZE)
    return normalize(resize(to_float(images), image_size))


def _as_tensor(name: str, value: object) -> torch.Tensor:
    try:
        return torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"{name} must be an array or tensor, got {value!r:.60}") from error


class DeviceData:
    """A labelled image set held on ``device`` as uint8, served as batches of indices."""

    def __init__(self, images, labels, device: torch.device | str = "cpu"):
        device = check_device("device", device)
        images, labels = _as_tensor("images", images), _as_tensor("labels", labels)
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise TypeError(
                f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        if labels.ndim != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
            raise TypeError(f"labels must be integer class indices (N,), got {labels.dtype} "
                            f"{tuple(labels.shape)}")
        if len(labels) != len(images):
            raise ValueError(f"labels must have {len(images)} entries, got {len(labels)}")
        self.device = device
        self.images = images.to(self.device)
        self.labels = labels.long().to(self.device)

    def __len__(self) -> int:
        return len(self.labels)

    def shard(self, rank: int, world_size: int) -> DeviceData:
        """Every ``world_size``-th sample starting at ``rank`` (one process's share under DDP)."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        return DeviceData(self.images[rank::world_size], self.labels[rank::world_size], self.device)

    def batches(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        *,
        steps: int | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(images, labels)`` batches.

        With a ``generator`` the order is a fresh random permutation and exactly ``steps``
        full batches are served (default: as many as fit); without one, all samples in
        order, the last batch possibly smaller (for evaluation).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if generator is None:
            for start in range(0, len(self), batch_size):
                end = start + batch_size
                yield self.images[start:end], self.labels[start:end]
            return
        steps = len(self) // batch_size if steps is None else steps
        if steps * batch_size > len(self):
            raise ValueError(
                f"steps={steps} batches of {batch_size} need more than {len(self)} samples"
            )
        order = torch.randperm(len(self), generator=generator).to(self.device)
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            yield self.images[index], self.labels[index]
