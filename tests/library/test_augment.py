"""Batched on-device augmentation: shapes, ranges, determinism, mixup labels, batching."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from effnet_core.augment import (
    COLOR_OPS,
    GEOMETRIC_OPS,
    DeviceData,
    TrainAugment,
    eval_transform,
    mixup,
    normalize,
    rand_augment,
    random_crop,
    random_flip,
    resize,
    to_float,
)
from effnet_core.book.baselines import per_image_augment


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(64, 3, 32, 32, generator=gen(1))


def test_to_float_and_normalize():
    x = to_float(torch.tensor([0, 255], dtype=torch.uint8).view(1, 1, 1, 2).expand(1, 3, 1, 2))
    assert x.dtype == torch.float32 and x.min() == 0 and x.max() == 1
    with pytest.raises(TypeError, match="uint8"):
        to_float(torch.rand(1, 3, 2, 2))
    z = normalize(torch.full((1, 3, 2, 2), 0.4914))
    assert z[0, 0].abs().max() < 1e-6


def test_random_crop_cuts_windows_of_the_padded_image(images):
    out = random_crop(images, 4, gen())
    assert out.shape == images.shape
    padded = F.pad(images, (4, 4, 4, 4))
    for i in range(len(images)):
        windows = [padded[i, :, y : y + 32, x : x + 32] for y in range(9) for x in range(9)]
        assert any(torch.equal(out[i], w) for w in windows)
    assert torch.equal(out, random_crop(images, 4, gen()))
    assert not torch.equal(out, random_crop(images, 4, gen(5)))
    assert random_crop(images, 0, gen()) is images
    with pytest.raises(ValueError, match="padding"):
        random_crop(images, -1, gen())


def test_random_flip(images):
    out = random_flip(images, gen())
    flipped = [torch.equal(o, i.flip(2)) for o, i in zip(out, images, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, images, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54
    assert torch.equal(random_flip(images, gen(), p=0.0), images)
    assert torch.equal(random_flip(images, gen(), p=1.0), images.flip(3))


def test_resize(images):
    small = resize(images, 16)
    assert small.shape == (64, 3, 16, 16)
    assert small.min() >= -1e-6 and small.max() <= 1 + 1e-6
    assert resize(images, 32) is images
    assert resize(images, 40).shape[-1] == 40
    with pytest.raises(ValueError, match="size"):
        resize(images, 0)


@pytest.mark.parametrize("name", list(COLOR_OPS))
def test_colour_ops_stay_in_range(images, name):
    out = COLOR_OPS[name](images, torch.ones(len(images)), gen())
    assert out.shape == images.shape
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, images)


@pytest.mark.parametrize("name", list(GEOMETRIC_OPS))
def test_geometric_ops_give_affine_matrices(name):
    theta = GEOMETRIC_OPS[name](torch.tensor([0.0, 1.0, -1.0]))
    assert theta.shape == (3, 2, 3)
    assert torch.allclose(theta[0], torch.eye(2, 3))  # zero strength is the identity
    assert not torch.allclose(theta[1], torch.eye(2, 3))
    assert not torch.allclose(theta[1], theta[2])  # the sign matters


def test_rand_augment(images):
    out = rand_augment(images, 15, gen())
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, rand_augment(images, 15, gen()))
    assert not torch.equal(out, rand_augment(images, 15, gen(2)))
    changed = (out - images).abs().flatten(1).amax(1) > 1e-4
    assert changed.float().mean() > 0.6  # ~ 1 - (1/13)^2 of the images draw a real op
    assert rand_augment(images, 0, gen()) is images
    weak = (rand_augment(images, 3, gen()) - images).abs().mean()
    strong = (rand_augment(images, 30, gen()) - images).abs().mean()
    assert strong > weak
    with pytest.raises(ValueError, match="magnitude"):
        rand_augment(images, 31, gen())
    with pytest.raises(ValueError, match="num_ops"):
        rand_augment(images, 5, gen(), num_ops=-1)


def test_mixup_mixes_images_and_labels_the_same_way(images):
    labels = torch.arange(64) % 10
    mixed, targets = mixup(images, labels, 0.4, gen())
    assert targets.shape == (64, 10)
    assert torch.allclose(targets.sum(1), torch.ones(64))
    mixed2, targets2 = mixup(images, labels, 0.4, gen())
    assert torch.equal(mixed, mixed2) and torch.equal(targets, targets2)
    # replay the generator: one seed for lam ~ Beta(alpha, alpha), then the partner permutation
    g = gen()
    seed = int(torch.randint(0, 2**62, (1,), generator=g))
    perm = torch.randperm(64, generator=g)
    lam = float(np.random.default_rng(seed).beta(0.4, 0.4))
    assert torch.allclose(mixed, lam * images + (1 - lam) * images[perm])
    expected = lam * F.one_hot(labels, 10) + (1 - lam) * F.one_hot(labels[perm], 10)
    assert torch.allclose(targets, expected.float())
    assert 0 < lam < 1


def test_mixup_alpha_zero_is_one_hot(images):
    labels = torch.arange(64) % 10
    out, targets = mixup(images, labels, 0.0, gen())
    assert out is images and torch.equal(targets, F.one_hot(labels, 10).float())
    with pytest.raises(ValueError, match="alpha"):
        mixup(images, labels, -0.1, gen())


def test_train_augment_pipeline():
    x = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8, generator=gen())
    y = torch.arange(32) % 10
    augment = TrainAugment(image_size=20, magnitude=9, mixup_alpha=0.2)
    out, targets = augment(x, y, gen())
    assert out.shape == (32, 3, 20, 20) and out.dtype == torch.float32
    assert targets.shape == (32, 10)
    again, _ = augment(x, y, gen())
    assert torch.equal(out, again)
    plain = eval_transform(x, 32)
    assert torch.allclose(plain, normalize(x.float() / 255))


def test_device_data_batches():
    data = DeviceData(torch.zeros(103, 3, 4, 4, dtype=torch.uint8), torch.arange(103) % 10)
    assert len(data) == 103
    seen = [labels for _, labels in data.batches(10, gen())]
    assert len(seen) == 10 and all(len(b) == 10 for b in seen)
    order = [next(data.batches(10, gen()))[1] for _ in range(2)]
    assert torch.equal(order[0], order[1])
    everything = torch.cat([labels for _, labels in data.batches(25)])
    assert torch.equal(everything, torch.arange(103) % 10)
    assert len(list(data.batches(10, gen(), steps=3))) == 3
    with pytest.raises(ValueError, match="steps"):
        list(data.batches(10, gen(), steps=11))
    shards = [data.shard(r, 2) for r in range(2)]
    assert len(shards[0]) + len(shards[1]) == 103
    with pytest.raises(ValueError, match="rank"):
        data.shard(2, 2)
    with pytest.raises(TypeError, match="uint8"):
        DeviceData(torch.zeros(2, 3, 4, 4), torch.zeros(2))


def test_per_image_baseline():
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=gen()).numpy()
    out = per_image_augment(image, np.random.default_rng(0), image_size=24, magnitude=10)
    assert out.shape == (3, 24, 24) and out.dtype == np.float32
    again = per_image_augment(image, np.random.default_rng(0), image_size=24, magnitude=10)
    assert np.array_equal(out, again)
    plain = per_image_augment(image, np.random.default_rng(0), magnitude=0, padding=0)
    flipped = image[:, :, ::-1]
    expected = normalize(to_float(torch.from_numpy(np.ascontiguousarray(image))[None]))[0].numpy()
    expected_flip = normalize(to_float(torch.from_numpy(np.ascontiguousarray(flipped))[None]))[0]
    assert np.allclose(plain, expected, atol=1e-5) or np.allclose(plain, expected_flip, atol=1e-5)
