"""The conventional data pipeline, one image at a time with PIL, that the batched augmentation of
:mod:`effnet_core.augment` is measured against (``benchmarks/data_pipeline.py``, chapter
"Progressive learning"). Book support: the library never calls it.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_float, check_int
from ..augment import CIFAR10_MEAN, CIFAR10_STD, MAX_IMAGE_SIZE, MAX_MAGNITUDE


def per_image_augment(
    image: np.ndarray,
    rng: np.random.Generator,
    image_size: int = 32,
    magnitude: float = 0.0,
    padding: int = 4,
) -> np.ndarray:
    """The conventional pipeline, one image at a time with PIL: the baseline :class:`TrainAugment`
    is compared against (``benchmarks/data_pipeline.py``). uint8 ``(3, H, W)`` -> float32.

    Same steps (crop with padding, flip, two RandAugment-style ops, resize, normalize), the way a
    torchvision ``transforms.Compose`` runs them inside a ``DataLoader``.
    """
    from PIL import Image, ImageEnhance, ImageOps

    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise TypeError(f"image must be a uint8 numpy array (3, H, W), got {image!r:.60}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {rng!r:.60}")
    check_int("image_size", image_size, 1, MAX_IMAGE_SIZE)
    check_float("magnitude", magnitude, 0.0, MAX_MAGNITUDE)
    check_int("padding", padding, 0, MAX_IMAGE_SIZE)
    picture = Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0)))
    w, h = picture.size
    canvas = Image.new("RGB", (w + 2 * padding, h + 2 * padding))
    canvas.paste(picture, (padding, padding))
    x, y = rng.integers(0, 2 * padding + 1, 2)
    picture = canvas.crop((x, y, x + w, y + h))
    if rng.random() < 0.5:
        picture = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    s = magnitude / MAX_MAGNITUDE
    for _ in range(2 if magnitude > 0 else 0):
        sign = rng.choice([-1.0, 1.0])
        op = rng.integers(0, 8)
        if op == 0:
            picture = picture.rotate(30 * s * sign, resample=Image.Resampling.BILINEAR)
        elif op == 1:
            shear = (1, 0.3 * s * sign, 0, 0, 1, 0)
            picture = picture.transform(picture.size, Image.Transform.AFFINE, shear)
        elif op == 2:
            shift = (1, 0, 0.3 * s * sign * w, 0, 1, 0)
            picture = picture.transform(picture.size, Image.Transform.AFFINE, shift)
        elif op == 3:
            picture = ImageEnhance.Color(picture).enhance(1 + 0.9 * s * sign)
        elif op == 4:
            picture = ImageEnhance.Contrast(picture).enhance(1 + 0.9 * s * sign)
        elif op == 5:
            picture = ImageEnhance.Brightness(picture).enhance(1 + 0.9 * s * sign)
        elif op == 6:
            picture = ImageOps.solarize(picture, int(255 * (1 - s)))
        else:
            picture = ImageOps.posterize(picture, 8 - int(round(4 * s)))
    picture = picture.resize((image_size, image_size), Image.Resampling.BILINEAR)
    array = np.asarray(picture, dtype=np.float32) / 255
    mean, std = np.array(CIFAR10_MEAN, np.float32), np.array(CIFAR10_STD, np.float32)
    return ((array - mean) / std).transpose(2, 0, 1)
