"""Data on the device and augmentation as batched tensor operations.

The whole data set lives on the training device as one uint8 tensor; a batch is a
tensor of indices into it. Every augmentation transforms the whole batch at once with
per-image random parameters, so there are no DataLoader workers and no per-image
Python loop. Random parameters are drawn from a CPU :class:`torch.Generator`, which makes
a run reproducible from its seed and the same on every device.

Pipeline of :class:`TrainAugment` (all on float images in [0, 1]):
random crop with zero padding -> horizontal flip -> RandAugment -> resize to the stage's
image size -> normalize -> mixup.

Introduced in the chapter "Progressive learning".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
MAX_MAGNITUDE = 30.0  # RandAugment's scale: magnitude m applies m / 30 of each op's full strength


def _uniform(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=generator).to(device, non_blocking=True)


def _signed(strength: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    sign = torch.randint(0, 2, strength.shape, generator=generator) * 2 - 1
    return strength * sign.to(strength.device, strength.dtype)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` -> float32 in [0, 1]."""
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be a uint8 tensor, got {images.dtype}")
    return images.float().div_(255.0)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """Subtract the CIFAR-10 channel mean and divide by the channel std."""
    mean = images.new_tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = images.new_tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return (images - mean) / std


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` pixels, then cut a random window of the original size per image."""
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    if padding == 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(images.device)
    dx = torch.randint(0, 2 * padding + 1, (b,), generator=generator).to(images.device)
    windows = padded.unfold(2, h, 1).unfold(3, w, 1)  # (B, C, 2p+1, 2p+1, H, W), a view
    return windows[torch.arange(b, device=images.device), :, dy, dx]


def random_flip(images: torch.Tensor, generator: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    flip = (torch.rand(images.shape[0], generator=generator) < p).to(images.device)
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize to ``size x size`` (antialiased when shrinking)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    shrink = size < images.shape[-1]
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=shrink)


def _gray(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).expand_as(x)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (other + factor.view(-1, 1, 1, 1) * (x - other)).clamp_(0, 1)


def _brightness(x, s, g):
    return _blend(x, torch.zeros_like(x), 1 + _signed(0.9 * s, g))


def _contrast(x, s, g):
    mean = _gray(x).mean(dim=(1, 2, 3), keepdim=True).expand_as(x)
    return _blend(x, mean, 1 + _signed(0.9 * s, g))


def _color(x, s, g):
    return _blend(x, _gray(x), 1 + _signed(0.9 * s, g))


def _sharpness(x, s, g):
    kernel = x.new_tensor([[1, 1, 1], [1, 5, 1], [1, 1, 1]]) / 13
    smooth = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel.expand(3, 1, 3, 3), groups=3)
    return _blend(x, smooth, 1 + _signed(0.9 * s, g))


def _posterize(x, s, g):
    levels = 2.0 ** (8 - (4 * s).round()).view(-1, 1, 1, 1)
    return torch.floor(x * 255 / (256 / levels)) * (256 / levels) / 255


def _solarize(x, s, g):
    threshold = (1 - s).view(-1, 1, 1, 1)
    return torch.where(x >= threshold, 1 - x, x)


def _autocontrast(x, s, g):
    low = x.amin(dim=(2, 3), keepdim=True)
    high = x.amax(dim=(2, 3), keepdim=True)
    scale = torch.where(high > low, 1 / (high - low), torch.ones_like(high))
    return ((x - low) * scale).clamp_(0, 1)


def _rotate(s: torch.Tensor) -> torch.Tensor:
    angle = math.radians(30) * s
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(s)
    return torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)


def _shear(axis: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def theta(s: torch.Tensor) -> torch.Tensor:
        out = torch.eye(2, 3, device=s.device).repeat(len(s), 1, 1)
        out[:, axis, 1 - axis] = 0.3 * s
        return out

    return theta


def _translate(axis: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def theta(s: torch.Tensor) -> torch.Tensor:
        out = torch.eye(2, 3, device=s.device).repeat(len(s), 1, 1)
        out[:, axis, 2] = 2 * 0.3 * s  # up to 30 % of the side (the sampling grid spans 2)
        return out

    return theta


# color ops: (images, strength in [0, 1] per image, generator) -> images
COLOR_OPS: dict[str, Callable] = {
    "autocontrast": _autocontrast,
    "brightness": _brightness,
    "color": _color,
    "contrast": _contrast,
    "sharpness": _sharpness,
    "posterize": _posterize,
    "solarize": _solarize,
}
# geometric ops: signed strength per image -> affine matrices (n, 2, 3) for F.affine_grid
GEOMETRIC_OPS: dict[str, Callable] = {
    "rotate": _rotate,
    "shear_x": _shear(0),
    "shear_y": _shear(1),
    "translate_x": _translate(0),
    "translate_y": _translate(1),
}
RANDAUGMENT_OPS = ("identity", *COLOR_OPS, *GEOMETRIC_OPS)


def rand_augment(
    images: torch.Tensor,
    magnitude: float,
    generator: torch.Generator,
    num_ops: int = 2,
) -> torch.Tensor:
    """RandAugment on a batch of float images in [0, 1].

    Each image gets ``num_ops`` ops drawn uniformly (with replacement) from
    :data:`RANDAUGMENT_OPS`, at strength ``magnitude / 30`` of the op's full range
    (30 = rotate 30 degrees, shear 0.3, translate 30 %, color factors 1 +- 0.9) with a
    random sign. Each op runs once on all the images that drew it; the color ops come
    first, then the geometric ones are composed into one affine warp per image (one
    ``grid_sample`` for the batch). ``magnitude=0`` changes nothing.
    """
    if not 0 <= magnitude <= MAX_MAGNITUDE:
        raise ValueError(f"magnitude must be in [0, {MAX_MAGNITUDE}], got {magnitude}")
    if num_ops < 0:
        raise ValueError(f"num_ops must be >= 0, got {num_ops}")
    if magnitude == 0 or num_ops == 0:
        return images
    b, device = len(images), images.device
    choice = torch.randint(0, len(RANDAUGMENT_OPS), (b, num_ops), generator=generator)
    strength = magnitude / MAX_MAGNITUDE
    images = images.clone()
    warp = torch.eye(3, device=device).repeat(b, 1, 1)
    for slot in range(num_ops):
        for k, name in enumerate(RANDAUGMENT_OPS):
            picked = torch.nonzero(choice[:, slot] == k).squeeze(1).to(device)
            if len(picked) == 0 or name == "identity":
                continue
            s = torch.full((len(picked),), strength, device=device)
            if name in COLOR_OPS:
                images[picked] = COLOR_OPS[name](images[picked], s, generator)
            else:
                step = torch.eye(3, device=device).repeat(len(picked), 1, 1)
                step[:, :2] = GEOMETRIC_OPS[name](_signed(s, generator))
                warp[picked] = step @ warp[picked]
    moved = torch.nonzero((warp != torch.eye(3, device=device)).flatten(1).any(1)).squeeze(1)
    if len(moved):
        x = images[moved]
        grid = F.affine_grid(warp[moved, :2], list(x.shape), align_corners=False)
        images[moved] = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
    return images


def mixup(
    images: torch.Tensor,
    labels: torch.Tensor,
    alpha: float,
    generator: torch.Generator,
    num_classes: int = 10,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each image with a random partner: ``lam * x + (1 - lam) * x[perm]``.

    ``lam ~ Beta(alpha, alpha)`` (one per batch). Returns the mixed images and soft
    targets ``(B, num_classes)`` that mix the one-hot labels the same way; ``alpha=0``
    returns the images unchanged with one-hot targets.
    """
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    targets = F.one_hot(labels, num_classes).float()
    if alpha == 0:
        return images, targets
    # torch's Beta sampler takes no generator, so seed numpy's from ours
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    perm = torch.randperm(len(images), generator=generator).to(images.device)
    mixed = lam * images + (1 - lam) * images[perm]
    return mixed, lam * targets + (1 - lam) * targets[perm]


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

    def __call__(
        self, images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 images and int labels -> normalized float images and soft targets."""
        x = random_crop(to_float(images), self.padding, generator)
        if self.flip:
            x = random_flip(x, generator)
        x = rand_augment(x, self.magnitude, generator, self.num_ops)
        x = normalize(resize(x, self.image_size))
        return mixup(x, labels, self.mixup_alpha, generator, self.num_classes)


def eval_transform(images: torch.Tensor, image_size: int = 32) -> torch.Tensor:
    """Test-time transform: to float, resize to ``image_size``, normalize."""
    return normalize(resize(to_float(images), image_size))


class DeviceData:
    """A labelled image set held on ``device`` as uint8, served as batches of indices."""

    def __init__(self, images, labels, device: torch.device | str = "cpu"):
        images = torch.as_tensor(images)
        labels = torch.as_tensor(labels)
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise TypeError(
                f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}"
            )
        if len(labels) != len(images):
            raise ValueError(f"labels must have {len(images)} entries, got {len(labels)}")
        self.device = torch.device(device)
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
