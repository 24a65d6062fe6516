"""Checkers for the exercises of the chapter "Progressive learning"."""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch
import torch.fx
from torch import nn

from ...layers import FusedMBConv, MBConv
from ...progressive import ProgressiveSchedule
from ._core import close, exercise, expect, integer, number, tensor


@exercise(
    "progressive_stage_value",
    hints=[
        "Algorithm 1 interpolates linearly: stage 0 gets `low`, the last stage gets `high`.",
        "The fraction of the way is k / (num_stages - 1), not k / num_stages.",
        "With num_stages == 1 there is nothing to interpolate: return `high`.",
    ],
)
def check_stage_value(fn) -> str:
    """``fn(k, num_stages, low, high)``: the value of a setting at stage ``k`` (0-based)."""
    expect(callable(fn), "pass your function itself, e.g. check_stage_value(stage_value).")

    def value(*args: float) -> float:
        return number(fn(*args), f"stage_value{args}")

    expect(close(value(0, 4, 16, 32), 16), "stage 0 must use the low value (16 for 16 -> 32).")
    last = value(3, 4, 16, 32)
    expect(close(last, 32), f"the last stage (k=3 of 4) must reach the high value 32, got {last}: "
                            "divide by num_stages - 1.")
    for args, want in (((1, 4, 0.1, 0.3), 0.1 + 0.2 / 3), ((2, 4, 128, 300), 128 + 172 * 2 / 3),
                       ((4, 6, 0.0, 0.5), 0.4)):
        got = value(*args)
        expect(not close(got, round(want)) or close(got, want),
               f"stage_value{args} gave {got}: do not round the value, a rate like 0.1 must stay a float.")
        expect(close(got, want), f"stage_value{args} should be {want:.4f}, got {got}: the fraction of the "
                                 "way is k / (num_stages - 1).")
    expect(close(value(1, 5, 10, 0), 7.5),
           "a setting may also decrease: stage 1 of 10 -> 0 over 5 stages is 7.5.")
    try:
        single = fn(0, 1, 16, 32)
    except ZeroDivisionError:
        single = None
    expect(single is not None and close(number(single, "stage_value(0, 1, 16, 32)"), 32),
           "with a single stage, train at the final (high) value without dividing by zero.")
    return "your schedule matches Algorithm 1 of the EfficientNetV2 paper."


@exercise(
    "progressive_mixup_targets",
    hints=[
        "Start from one-hot labels: torch.nn.functional.one_hot(labels, num_classes).float().",
        "Image i is mixed with image perm[i], so its second label is labels[perm[i]].",
        "targets = lam * one_hot(labels) + (1 - lam) * one_hot(labels[perm]).",
    ],
)
def check_mixup_targets(fn) -> str:
    """``fn(labels, perm, lam, num_classes)``: soft targets ``(B, num_classes)`` for mixup.

    Random labels (not equal to their indices) and a permutation that is not its own inverse, so
    ``one_hot(perm)`` and ``labels[perm.argsort()]`` cannot pass by accident.
    """
    expect(callable(fn), "pass your function itself, e.g. check_mixup_targets(mixup_targets).")
    generator = torch.Generator().manual_seed(0)
    labels = torch.tensor([7, 2, 2, 9, 0, 5, 3, 7])
    perm = torch.tensor([3, 0, 6, 5, 1, 7, 2, 4])  # one cycle of length 8: perm[perm] != identity
    for lam, classes in ((0.7, 10), (0.25, 12), (1.0, 10)):
        out = tensor(fn(labels.clone(), perm.clone(), lam, classes),
                     f"mixup_targets(labels, perm, {lam}, {classes})")
        _check_targets(out.detach().double(), labels, perm, lam, classes)
    labels = torch.randint(0, 100, (64,), generator=generator)
    perm = torch.randperm(64, generator=generator)
    out = tensor(fn(labels.clone(), perm.clone(), 0.6, 100), "mixup_targets on 64 random labels")
    _check_targets(out.detach().double(), labels, perm, 0.6, 100)
    return "your mixup targets mix the labels exactly as the images are mixed."


def _check_targets(out: torch.Tensor, labels: torch.Tensor, perm: torch.Tensor, lam: float,
                   classes: int) -> None:
    n = len(labels)
    case = f"for {n} labels, lam={lam}, num_classes={classes}"
    expect(tuple(out.shape) == (n, classes),
           f"{case} expected shape ({n}, {classes}), got {tuple(out.shape)}.")
    expect(torch.allclose(out.sum(1), torch.ones(n, dtype=out.dtype), atol=1e-5),
           f"{case}: each row must sum to 1.")
    one_hot = torch.nn.functional.one_hot(labels, classes).double()
    want = lam * one_hot + (1 - lam) * one_hot[perm]

    def same(other: torch.Tensor) -> bool:
        return tuple(other.shape) == tuple(out.shape) and bool(torch.allclose(out, other, atol=1e-5))

    if same(want):
        return
    expect(not same((1 - lam) * one_hot + lam * one_hot[perm]),
           f"{case}: lam and 1 - lam are swapped: the image's own label gets lam.")
    expect(not same(one_hot), f"{case}: these are the plain one-hot labels: the partner's label "
                              "(labels[perm[i]]) must get weight 1 - lam.")
    expect(not same(lam * one_hot + (1 - lam) * one_hot[perm.argsort()]),
           f"{case}: you used the inverse permutation. Image i is mixed with image perm[i], so its "
           "partner's label is labels[perm[i]].")
    if classes >= n:
        expect(not same(lam * one_hot + (1 - lam) * torch.nn.functional.one_hot(perm, classes).double()),
               f"{case}: you one-hot encoded perm itself; perm holds image indices, the partner's LABEL "
               "is labels[perm[i]].")
    row = int(((out - want).abs().sum(1) > 1e-5).nonzero()[0])
    expect(False, f"{case}: row {row} is {out[row].tolist()}, expected lam on labels[{row}]="
                  f"{int(labels[row])} plus 1 - lam on labels[perm[{row}]]={int(labels[perm[row]])}.")


@exercise(
    "progressive_resnet",
    hints=[
        "The same schedule shows the network 16, 20, 28 and 32 px images: end the feature "
        "extractor with nn.AdaptiveAvgPool2d(1) so any size works.",
        "The schedule sets the dropout rate of every nn.Dropout; put one just before the final "
        "nn.Linear.",
        "A basic residual block: conv-BN-ReLU-conv-BN, add the input (a 1x1 conv when the "
        "shape changes), ReLU.",
    ],
)
def check_resnet_for_progressive(model_fn) -> str:
    """``model_fn()`` builds a small non-EfficientNet network ready for progressive training."""
    expect(
        callable(model_fn) and not isinstance(model_fn, nn.Module),
        "pass the function that builds the model (e.g. `small_resnet`), not a model.",
    )
    model = model_fn()
    _returned_module(model)
    expect(
        not any(isinstance(m, (MBConv, FusedMBConv)) for m in model.modules()),
        "this exercise is about a different network: build a ResNet, not an EfficientNet.",
    )
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    expect(bool(dropouts), "the model needs an nn.Dropout (before its classifier) for the schedule.")
    model.eval()
    with torch.no_grad():
        for size in (16, 20, 28, 32):
            try:
                out = model(torch.randn(2, 3, size, size))
            except RuntimeError as error:
                expect(False, f"the model fails on {size} px images ({error}); use global pooling.")
            expect(
                isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 10),
                f"on {size} px images the output must be (2, 10) logits, got "
                f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}.",
            )
    _check_dropout_placement(model)
    _check_residual(model)
    return "your residual network accepts every stage's image size and has dropout before its classifier."


def _returned_module(model: object) -> None:
    expect(model is not None, "model_fn() returned None: is the `return` statement missing?")
    expect(isinstance(model, nn.Module), f"model_fn() must return an nn.Module, got {type(model).__name__}.")


def _trace(model: nn.Module, x: torch.Tensor) -> tuple[list[tuple[nn.Module, object, object]], object]:
    """Run ``model`` in training mode (dropout rate 0.5) and record (leaf module, input, output) in
    execution order."""
    calls: list[tuple[nn.Module, object, object]] = []
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(lambda m, args, out: calls.append((m, args[0] if args else None, out)))
               for m in leaves]
    rates = {m: m.p for m in leaves if isinstance(m, nn.Dropout)}
    try:
        for m in rates:  # at p = 0 dropout hands its input back unchanged and could not be traced
            m.p = 0.5
        model.train()
        torch.manual_seed(0)
        with torch.no_grad():
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
        for m, rate in rates.items():
            m.p = rate
        model.eval()
    return calls, out


def _check_dropout_placement(model: nn.Module) -> None:
    """The schedule's dropout must act on the features the final nn.Linear reads, and only there."""
    x = torch.randn(2, 3, 16, 16)
    calls, out = _trace(model, x)
    for module, given, _ in calls:
        expect(not (isinstance(module, nn.Dropout) and given is x),
               "an nn.Dropout acts on the input image: the schedule's dropout belongs just before the "
               "final nn.Linear, on the pooled features (image augmentation is a separate setting).")
    producer: dict[int, tuple[nn.Module, object]] = {}
    for module, given, result in calls:  # the first module to produce a tensor (Identity passes it on)
        producer.setdefault(id(result), (module, given))
    last, source = producer.get(id(out), (None, None))
    expect(not isinstance(last, nn.Dropout),
           "the last layer is an nn.Dropout: it would zero some of the logits. Put it just BEFORE the "
           "final nn.Linear.")
    expect(isinstance(last, nn.Linear), "the network should end with an nn.Linear classifier (after "
                                        f"pooling and dropout); its last layer is {type(last).__name__}.")
    while isinstance(producer.get(id(source), (None,))[0], nn.Flatten | nn.Identity):
        source = producer[id(source)][1]
    expect(isinstance(producer.get(id(source), (None,))[0], nn.Dropout),
           "the final nn.Linear does not read the output of an nn.Dropout: the schedule's dropout goes "
           "between the pooled features and the classifier.")


def _check_residual(model: nn.Module) -> None:
    """A ResNet adds a block's input to its output: look for additions in the traced graph."""
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - a forward fx cannot trace is judged by the other checks only
        return
    adds = [node for node in graph.nodes
            if (node.op == "call_function" and node.target in (operator.add, operator.iadd, torch.add))
            or (node.op == "call_method" and node.target in ("add", "add_"))]
    expect(bool(adds), "the network has no residual connection (no addition of a block's input to its "
                       "output): build basic residual blocks, out = relu(F(x) + x).")


COST_CASES = ((ProgressiveSchedule(), 8), (ProgressiveSchedule(), 3), (ProgressiveSchedule(num_stages=3), 10),
              (ProgressiveSchedule(min_size=128, max_size=300, size_multiple=8), 12),
              (ProgressiveSchedule(num_stages=1), 5))


@exercise(
    "progressive-schedule-cost",
    hints=[
        "schedule.stage_for_epoch(epoch, epochs).image_size is the size of each epoch.",
        "A convolutional network's work per image grows with the number of pixels: size squared.",
        "relative_cost = mean over epochs of (size / schedule.max_size) ** 2; a fixed schedule gives 1.",
    ],
)
def check_schedule_cost(schedule_cost: Callable[[ProgressiveSchedule, int], dict]) -> str:
    """Check ``schedule_cost(schedule, epochs)`` -> {"sizes", "relative_cost"}: the compute of a
    progressive run relative to training every epoch at the final size (★★★)."""
    expect(callable(schedule_cost), "pass your function itself, e.g. check(schedule_cost).")
    for schedule, epochs in COST_CASES:
        case = (f"schedule_cost(ProgressiveSchedule(num_stages={schedule.num_stages}, min_size="
                f"{schedule.min_size}, max_size={schedule.max_size}), epochs={epochs})")
        report = schedule_cost(schedule, epochs)
        expect(isinstance(report, dict), f"{case} must return a dict, got {type(report).__name__}.")
        expect(set(report) == {"sizes", "relative_cost"},
               f"{case}: the dict needs exactly the keys ['relative_cost', 'sizes'], got {sorted(report)}.")
        sizes = report["sizes"]
        expect(isinstance(sizes, list | tuple), f"{case}: sizes must be a list, got {type(sizes).__name__}.")
        expect(len(sizes) == epochs, f"{case}: one size per EPOCH ({epochs}), got {len(sizes)}.")
        sizes = [integer(s, f"{case}['sizes'][{i}]") for i, s in enumerate(sizes)]
        want = [schedule.stage_for_epoch(e, epochs).image_size for e in range(epochs)]
        expect(sizes == want, f"{case}: sizes {sizes} are not the schedule's {want}; use stage_for_epoch.")
        cost = number(report["relative_cost"], f"{case}['relative_cost']")
        expect(0 < cost <= 1 + 1e-9, f"{case}: relative_cost {cost:.4f} is not in (0, 1]: no epoch is "
                                     "bigger than the final size.")
        expect(not close(cost, sum(sizes) / (epochs * schedule.max_size)) or schedule.num_stages == 1,
               f"{case}: the cost grows with the number of PIXELS, size squared, not with the side.")
        want_cost = sum((s / schedule.max_size) ** 2 for s in sizes) / epochs
        expect(not close(cost, want_cost * schedule.max_size**2 / schedule.min_size**2),
               f"{case}: compare with the FIXED run at max_size, not min_size.")
        expect(close(cost, want_cost), f"{case}: relative_cost is {cost:.5f}; your own sizes give "
                                       f"{want_cost:.5f} = mean((size / max_size)^2).")
    return "sizes per epoch and the relative cost match, including fewer epochs than stages."
