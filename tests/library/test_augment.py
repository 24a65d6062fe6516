"""Batched on-device augmentation: shapes, ranges, determinism, mixup labels, batching."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from effnet_core.augment import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    COLOR_OPS,
    GEOMETRIC_OPS,
    ColorOp,
    DeviceData,
    TrainAugment,
    _beta_quantiles,
    _color_pass,
    device_generator,
    eval_transform,
    mixup,
    normalize,
    rand_augment,
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


def test_crop_and_flip_cut_windows_of_the_padded_image():
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=gen(1))
    plain = TrainAugment(magnitude=0, padding=4)
    out, _ = plain(x, torch.zeros(64, dtype=torch.long), gen())
    out = out * torch.tensor(CIFAR10_STD).view(1, 3, 1, 1) + torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    padded = F.pad(to_float(x), (4, 4, 4, 4))
    flips = 0
    for i in range(len(x)):
        windows = [padded[i, :, y : y + 32, x0 : x0 + 32] for y in range(9) for x0 in range(9)]
        same = [torch.allclose(out[i], w, atol=1e-4) for w in windows]
        mirrored = [torch.allclose(out[i], w.flip(2), atol=1e-4) for w in windows]
        assert any(same) or any(mirrored)
        flips += any(mirrored) and not any(same)
    assert 10 < flips < 54
    again, _ = plain(x, torch.zeros(64, dtype=torch.long), gen())
    assert torch.equal(again, plain(x, torch.zeros(64, dtype=torch.long), gen())[0])
    with pytest.raises(ValueError, match="padding"):
        TrainAugment(padding=-1)


def test_resize(images):
    small = resize(images, 16)
    assert small.shape == (64, 3, 16, 16)
    assert small.min() >= -1e-6 and small.max() <= 1 + 1e-6
    assert resize(images, 32) is images
    assert resize(images, 40).shape[-1] == 40
    with pytest.raises(ValueError, match="size"):
        resize(images, 0)


def reference(name: str, x: torch.Tensor, v: float) -> torch.Tensor:
    """Each color op applied on its own, as the one-op-at-a-time implementation did."""
    gray = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]).expand_as(x)
    f = 1 + 0.9 * v
    if name == "autocontrast":
        low, high = x.amin((2, 3), keepdim=True), x.amax((2, 3), keepdim=True)
        return ((x - low) / (high - low)).clamp(0, 1)
    if name == "posterize":
        levels = 2.0 ** (8 - round(4 * abs(v)))
        return torch.floor(x * 255 / (256 / levels)) * (256 / levels) / 255
    if name == "solarize":
        return torch.where(x >= 1 - abs(v), 1 - x, x)
    other = {
        "brightness": torch.zeros_like(x),
        "color": gray,
        "contrast": gray.mean((1, 2, 3), keepdim=True).expand_as(x),
        "sharpness": F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"),
                              (torch.tensor([[1.0, 1, 1], [1, 5, 1], [1, 1, 1]]) / 13).expand(3, 1, 3, 3),
                              groups=3),
    }[name]
    return (other + f * (x - other)).clamp(0, 1)


def apply(op: ColorOp, x: torch.Tensor) -> torch.Tensor:
    from effnet_core.augment import GRAY

    gray = torch.tensor(GRAY, dtype=torch.float64)
    coefs = torch.tensor([float(op.autocontrast), *(op.mean * gray).tolist(), op.threshold,
                          (255 + 1e-3) * op.levels / 256, 256 / (op.levels * 255), float(op.levels < 256)])
    n = len(x)
    return _color_pass(x, op.kernel.float().expand(n, 3, 3, 5, 5).contiguous(),
                        coefs.float().view(1, 8, 1, 1).expand(n, 8, 1, 1))


@pytest.mark.parametrize("name", list(COLOR_OPS))
@pytest.mark.parametrize("v", [1.0, -0.5])
def test_color_ops_match_the_one_op_reference(name, v):
    x = torch.randint(0, 256, (16, 3, 32, 32), generator=gen(1)).float() / 255
    out = apply(COLOR_OPS[name](v), x)
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, x)
    assert torch.allclose(out, reference(name, x, v), atol=1e-5)


def test_two_linear_ops_compose():
    x = torch.randint(0, 256, (16, 3, 32, 32), generator=gen(1)).float() / 255 * 0.5 + 0.25
    for first, second in [("color", "contrast"), ("brightness", "color"), ("contrast", "brightness")]:
        both = apply(COLOR_OPS[first](0.3).then(COLOR_OPS[second](-0.4)), x)
        one_by_one = reference(second, reference(first, x, 0.3), -0.4)
        assert torch.allclose(both, one_by_one, atol=1e-5), (first, second)


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
        rand_augment(images, 5, gen(), num_ops=3)


def test_mixup_mixes_images_and_labels_the_same_way(images):
    labels = torch.arange(64) % 10
    mixed, targets = mixup(images, labels, 0.4, gen())
    assert targets.shape == (64, 10)
    assert torch.allclose(targets.sum(1), torch.ones(64))
    mixed2, targets2 = mixup(images, labels, 0.4, gen())
    assert torch.equal(mixed, mixed2) and torch.equal(targets, targets2)
    # replay the generator: one uniform for lam (a quantile of Beta(alpha, alpha)), then the permutation
    g = gen()
    lam = _beta_quantiles(0.4, torch.device("cpu"))[int(torch.rand(1, generator=g) * 4096)]
    perm = torch.randperm(64, generator=g)
    assert torch.allclose(mixed, lam * images + (1 - lam) * images[perm], atol=1e-6)
    expected = lam * F.one_hot(labels, 10) + (1 - lam) * F.one_hot(labels[perm], 10)
    assert torch.allclose(targets, expected.float(), atol=1e-6)
    assert 0 < lam < 1


@pytest.mark.parametrize("alpha", [0.2, 1.0, 2.0])
def test_beta_quantiles_match_the_beta_distribution(alpha):
    q = _beta_quantiles(alpha, torch.device("cpu")).double()
    assert torch.all(q[1:] >= q[:-1]) and 0 <= q[0] and q[-1] <= 1
    assert abs(q.mean() - 0.5) < 1e-6
    assert abs(q.var() - 1 / (4 * (2 * alpha + 1))) < 2e-3  # Beta(a, a) has variance 1 / (4 (2a + 1))
    if alpha == 1.0:
        assert torch.allclose(q, (torch.arange(4096) + 0.5).double() / 4096, atol=1e-5)  # uniform


def test_device_generator_is_the_same_on_the_same_device():
    g = gen()
    assert device_generator(g, "cpu") is g


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
