"""The ★★★ challenge checkers (one per chapter) accept the chapters' reference solutions and correct
variants, and reject wrong answers, each with a message that says what is wrong."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from nbutils import CHAPTERS
from torch import nn

import effnet_core as ec
from effnet_core.book.checkers import (
    EXERCISES,
    check_fused_tradeoff,
    check_gate_report,
    check_matched_single,
    check_mbconv_macs,
    check_param_report,
    check_roofline_point,
    check_schedule_cost,
    check_stage_macs,
    check_swish_minimum,
)

# checker, chapter, name of the function the solution cell defines
CHALLENGES = [
    (check_param_report, "00_how_this_book_works.ipynb", "param_report"),
    (check_swish_minimum, "01_swish.ipynb", "swish_minimum"),
    (check_roofline_point, "02_conv_cost.ipynb", "roofline_point"),
    (check_gate_report, "03_squeeze_excitation.ipynb", "gate_report"),
    (check_mbconv_macs, "04_mbconv.ipynb", "mbconv_macs"),
    (check_stage_macs, "05_efficientnet_b0.ipynb", "stage_macs"),
    (check_matched_single, "06_compound_scaling.ipynb", "matched_single"),
    (check_fused_tradeoff, "07_efficientnet_v2.ipynb", "fused_vs_mbconv"),
    (check_schedule_cost, "08_progressive_learning.ipynb", "schedule_cost"),
]


def solution_cell(notebook: str, name: str):
    """Execute the chapter's solution cell that defines ``name`` and return that function."""
    cells = json.loads((CHAPTERS / notebook).read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    source = next(s for s in sources if f"def {name}(" in s and "### BEGIN SOLUTION" in s)
    namespace = {"ec": ec, "torch": torch, "nn": nn, "math": math}
    exec(compile(source, notebook, "exec"), namespace)  # noqa: S102
    return namespace[name]


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize(("checker", "notebook", "name"), CHALLENGES)
def test_reference_solution_passes(checker, notebook, name):
    assert checker(solution_cell(notebook, name), quiet=True).status == "pass"
    assert checker(stub, quiet=True).status == "not attempted"
    assert EXERCISES[checker.name] is checker and len(checker.hints) >= 3


def fails(checker, answer, message):
    result = checker(answer, quiet=True)
    assert result.status == "fail", result
    assert message in result.message, result.message


def passes(checker, answer):
    result = checker(answer, quiet=True)
    assert result.status == "pass", result.message


# chapter 00: param_report(model) -> {"total", "trainable", "frozen"}
def _report(total, trainable):
    return {"total": total, "trainable": trainable, "frozen": total - trainable}


PARAM_CORRECT = [
    lambda m: _report(sum(p.numel() for p in m.parameters()),
                      sum(p.numel() for p in m.parameters() if p.requires_grad)),
    lambda m: _report(ec.count_params(m), ec.count_params(m, trainable_only=True)),
    lambda m: _report(len(torch.nn.utils.parameters_to_vector(m.parameters())),
                      sum(p.numel() for p in {id(p): p for p in m.parameters()}.values() if p.requires_grad)),
]
PARAM_WRONG = [
    (lambda m: _report(sum(p.numel() for mod in m.modules() for p in mod.parameters(recurse=False)),
                       sum(p.numel() for mod in m.modules() for p in mod.parameters(recurse=False)
                           if p.requires_grad)), "count it once"),
    (lambda m: _report(sum(t.numel() for t in m.state_dict().values() if t.is_floating_point()),
                       ec.count_params(m, trainable_only=True)), "buffers"),
    (lambda m: _report(ec.count_params(m), ec.count_params(m)), "frozen, not trainable"),
    (lambda m: {"total": ec.count_params(m), "trainable": ec.count_params(m, trainable_only=True),
                "frozen": 0}, "not trainable + frozen"),
    (lambda m: {"total": ec.count_params(m), "trainable": ec.count_params(m)}, "needs the keys"),
    (lambda m: {k: float(v) for k, v in _report(ec.count_params(m), ec.count_params(m, True)).items()},
     "integer"),
    (lambda m: [ec.count_params(m)], "must return a dict"),
]


@pytest.mark.parametrize("answer", PARAM_CORRECT)
def test_param_report_correct(answer):
    passes(check_param_report, answer)


@pytest.mark.parametrize(("answer", "message"), PARAM_WRONG)
def test_param_report_wrong(answer, message):
    fails(check_param_report, answer, message)


# chapter 03: gate_report(se, x) -> gates and their statistics
def _gates_report(gates, spread=None):
    return {"gates": gates, "mean": gates.mean().item(), "min": gates.min().item(), "max": gates.max().item(),
            "image_spread": gates.std(dim=0).mean().item() if spread is None else spread}


def _by_hand(se, x):
    z = x.mean(dim=(2, 3))
    w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias
    w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias
    return torch.sigmoid(nn.functional.silu(z @ w1.T + b1) @ w2.T + b2)


GATE_CORRECT = [
    lambda se, x: _gates_report(se.channel_weights(x).detach().flatten(1)),
    lambda se, x: _gates_report(_by_hand(se, x).detach(),
                                spread=_by_hand(se, x).detach().std(dim=0, correction=0).mean().item()),
    lambda se, x: {k: (v.numpy() if isinstance(v, torch.Tensor) else np.float32(v))
                   for k, v in _gates_report((se(x) / x).detach().mean(dim=(2, 3))).items()},
]
GATE_WRONG = [
    (lambda se, x: _gates_report(se.channel_weights(x).detach()), "shape (N, C)"),
    (lambda se, x: _gates_report(se.fc2(se.activation(se.fc1(x.mean((2, 3), keepdim=True)))).detach()
                                 .flatten(1)), "outside (0, 1)"),
    (lambda se, x: _gates_report(torch.softmax(se.fc2(se.activation(se.fc1(x.mean((2, 3), keepdim=True))))
                                               .detach().flatten(1), dim=1)), "softmax"),
    (lambda se, x: _gates_report(se.channel_weights(x).detach().flatten(1),
                                 spread=se.channel_weights(x).detach().flatten(1).std(dim=1).mean().item()),
     "across channels"),
    (lambda se, x: {**_gates_report(se.channel_weights(x).detach().flatten(1)),
                    "mean": se.channel_weights(x).detach().flatten(1).mean(0)[0].item()}, "over all gates"),
    (lambda se, x: {**_gates_report(se.channel_weights(x).detach().flatten(1)), "min": 0.0, "max": 1.0},
     "expected"),
    (lambda se, x: {k: v for k, v in _gates_report(se.channel_weights(x).detach().flatten(1)).items()
                    if k != "image_spread"}, "needs exactly the keys"),
    (lambda se, x: _gates_report(torch.sigmoid(x.mean(dim=(2, 3)))), "not the layer's"),
]


@pytest.mark.parametrize("answer", GATE_CORRECT)
def test_gate_report_correct(answer):
    passes(check_gate_report, answer)


@pytest.mark.parametrize(("answer", "message"), GATE_WRONG)
def test_gate_report_wrong(answer, message):
    fails(check_gate_report, answer, message)


# chapter 04: mbconv_macs(c_in, c_out, expand_ratio, kernel_size, stride, size)
def _macs(c_in, c_out, t, k, stride, size, *, se=True, full_dw=False, no_stride=False, always_expand=False,
          floor=False):
    e = ec.make_divisible(c_in * t, 8)
    s = max(1, int(c_in * 0.25))
    out = size if no_stride else (size // stride if floor else -(-size // stride))
    total = c_in * e * size * size if (e != c_in or always_expand) else 0
    total += (e if full_dw else 1) * e * k * k * out * out
    total += 2 * e * s if se else 0
    return total + e * c_out * out * out


MBCONV_CORRECT = [
    _macs,
    lambda *a: sum(c.macs for c in ec.layer_costs(_Wrapped(ec.MBConv(*a[:5]), a[0]), a[5])),
    lambda c_in, c_out, t, k, stride, size: int(np.int64(_macs(c_in, c_out, t, k, stride, size))),
]


class _Wrapped(nn.Module):
    """A block behind a 1x1 conv from 3 channels, so ec.layer_costs can feed it (the conv is removed)."""

    def __init__(self, block: nn.Module, c_in: int):
        super().__init__()
        self.block = block

    def forward(self, x):
        return self.block(x.new_zeros(x.shape[0], self.block.block[0][0].in_channels, *x.shape[2:]))


MBCONV_WRONG = [
    (lambda *a: _macs(*a, se=False), "SE convolutions are missing"),
    (lambda *a: _macs(*a, full_dw=True), "OWN k x k filter"),
    (lambda *a: _macs(*a, no_stride=True), "carries the stride"),
    (lambda *a: _macs(*a, always_expand=True), "no expansion conv"),
    (lambda *a: _macs(*a, floor=True), "measured"),
    (lambda *a: float(_macs(*a)), "integer"),
]


@pytest.mark.parametrize("answer", MBCONV_CORRECT)
def test_mbconv_macs_correct(answer):
    passes(check_mbconv_macs, answer)


@pytest.mark.parametrize(("answer", "message"), MBCONV_WRONG)
def test_mbconv_macs_wrong(answer, message):
    fails(check_mbconv_macs, answer, message)


# chapter 05: stage_macs(image_size) -> 7 MACs
def _stages(image_size, *, ceil=True, stride_every_block=False, first_only=False):
    size, totals = -(-image_size // 2) if ceil else image_size // 2, []
    for stage in ec.B0_STAGES:
        total, channels = 0, stage.in_channels
        for i in range(1 if first_only else stage.num_layers):
            stride = stage.stride if (i == 0 or stride_every_block) else 1
            total += ec.block_cost(stage, channels, stride, size)[1]
            size = -(-size // stride) if ceil else size // stride
            channels = stage.out_channels
        totals.append(total)
    return totals


def _measured_stages(image_size):
    rows = ec.stage_breakdown(ec.efficientnet_b0(), image_size)
    return [r["macs"] for r in rows if r["part"].startswith("stage")]


STAGE_CORRECT = [_stages, _measured_stages, lambda size: tuple(np.array(_stages(size), dtype=np.int64))]
STAGE_WRONG = [
    (lambda size: _stages(size, first_only=True), "count all"),
    (lambda size: _stages(size, stride_every_block=True), "too little"),
    (lambda size: _stages(size, ceil=False), "ceil(n / 2)"),
    (lambda size: [r["macs"] for r in ec.stage_breakdown(ec.efficientnet_b0(), size)], "one number per"),
    (lambda size: [float(m) for m in _stages(size)], "integer"),
    (lambda size: sum(_stages(size)), "must return a list"),
]


@pytest.mark.parametrize("answer", STAGE_CORRECT)
def test_stage_macs_correct(answer):
    passes(check_stage_macs, answer)


@pytest.mark.parametrize(("answer", "message"), STAGE_WRONG)
def test_stage_macs_wrong(answer, message):
    fails(check_stage_macs, answer, message)


# chapter 06: matched_single(phi, alpha, beta, gamma)
def _single(f, depth=None, width=None, resolution=None):
    return {"flops_factor": f, "depth": f if depth is None else depth,
            "width": f**0.5 if width is None else width,
            "resolution": f**0.5 if resolution is None else resolution}


MATCH_CORRECT = [
    lambda phi, a, b, g: _single((a * b**2 * g**2) ** phi),
    lambda phi, a, b, g: _single(ec.compound_multipliers(phi, a, b, g).flops_factor),
    lambda phi, a, b, g: {k: np.float32(v)
                          for k, v in _single(ec.flops_factor_per_phi(a, b, g) ** phi).items()},
]
MATCH_WRONG = [
    (lambda phi, a, b, g: _single((a * b * g) ** phi), "enter the FLOPs squared"),
    (lambda phi, a, b, g: _single((a * b**2 * g**2) ** phi, width=(a * b**2 * g**2) ** phi), "SQUARE"),
    (lambda phi, a, b, g: _single((a * b**2 * g**2) ** phi, width=b**phi), "ALONE"),
    (lambda phi, a, b, g: _single((a * b**2 * g**2) ** phi, depth=a**phi), "times the FLOPs"),
    (lambda phi, a, b, g: _single(a * b**2 * g**2 * phi), "flops_factor is"),
    (lambda phi, a, b, g: {"depth": 1.0, "width": 1.0}, "needs exactly the keys"),
]


@pytest.mark.parametrize("answer", MATCH_CORRECT)
def test_matched_single_correct(answer):
    passes(check_matched_single, answer)


@pytest.mark.parametrize(("answer", "message"), MATCH_WRONG)
def test_matched_single_wrong(answer, message):
    fails(check_matched_single, answer, message)


# chapter 07: fused_vs_mbconv(c, expand_ratio, size, kernel_size=3)
def _trade(c, t, size, kernel_size=3, *, swap=False, three_channels=False, ratio=None, no_bn=False):
    e = ec.make_divisible(c * t, 8)
    stage = ec.StageConfig("mbconv", t, kernel_size, 1, c, c, 1)
    fused_stage = ec.StageConfig("fused", t, kernel_size, 1, c, c, 1)
    mb, fu = ec.block_cost(stage, c, 1, size), ec.block_cost(fused_stage, c, 1, size)
    if three_channels:
        mb, fu = (mb[0], mb[1] * 3 // c), (fu[0], fu[1] * 3 // c)
    if swap:
        mb, fu = fu, mb
    if no_bn:
        mb = (mb[0] - 2 * (2 * e + c) + (2 * c if e == c else 0), mb[1])
    report = {"mbconv_params": mb[0], "mbconv_macs": mb[1], "fused_params": fu[0], "fused_macs": fu[1]}
    report["macs_ratio"] = fu[1] / mb[1] if ratio is None else ratio
    return report


def _trade_measured(c, t, size, kernel_size=3):
    blocks = [ec.MBConv(c, c, t, kernel_size, 1), ec.FusedMBConv(c, c, t, kernel_size, 1)]
    costs = [sum(x.macs for x in ec.layer_costs(_Wrapped(b, c), size)) for b in blocks]
    return {"mbconv_params": ec.count_params(blocks[0]), "mbconv_macs": costs[0],
            "fused_params": ec.count_params(blocks[1]), "fused_macs": costs[1],
            "macs_ratio": costs[1] / costs[0]}


TRADE_CORRECT = [_trade, _trade_measured,
                 lambda *a, **k: {key: (np.int64(v) if "ratio" not in key else np.float32(v))
                                  for key, v in _trade(*a, **k).items()}]
TRADE_WRONG = [
    (lambda *a, **k: _trade(*a, **k, swap=True), "swapped"),
    (lambda *a, **k: _trade(*a, **k, three_channels=True), "3-channel"),
    (lambda *a, **k: _trade(*a, **k, ratio=1.0), "not fused_macs / mbconv_macs"),
    (lambda *a, **k: _trade(*a, **k, no_bn=True), "mbconv_params is"),
    (lambda *a, **k: {key: v for key, v in _trade(*a, **k).items() if key != "macs_ratio"}, "keys"),
    (lambda *a, **k: {**_trade(*a, **k), "fused_macs": float(_trade(*a, **k)["fused_macs"])}, "integer"),
]


@pytest.mark.parametrize("answer", TRADE_CORRECT)
def test_fused_tradeoff_correct(answer):
    passes(check_fused_tradeoff, answer)


@pytest.mark.parametrize(("answer", "message"), TRADE_WRONG)
def test_fused_tradeoff_wrong(answer, message):
    fails(check_fused_tradeoff, answer, message)


# chapter 08: schedule_cost(schedule, epochs)
def _cost(schedule, epochs, *, by_stage=False, power=2, base=None, sizes=None):
    if sizes is None:
        sizes = ([s.image_size for s in schedule.stages()] if by_stage else
                 [schedule.stage_for_epoch(e, epochs).image_size for e in range(epochs)])
    base = schedule.max_size if base is None else base
    return {"sizes": sizes, "relative_cost": sum((s / base) ** power for s in sizes) / len(sizes)}


COST_CORRECT = [
    _cost,
    lambda sch, epochs: {"sizes": np.array(_cost(sch, epochs)["sizes"]).tolist(),
                         "relative_cost": float(np.mean((np.array(_cost(sch, epochs)["sizes"]) / sch.max_size)
                                                        ** 2))},
    lambda sch, epochs: {"sizes": tuple(_cost(sch, epochs)["sizes"]),
                         "relative_cost": torch.tensor(_cost(sch, epochs)["relative_cost"])},
]
COST_WRONG = [
    (lambda sch, epochs: _cost(sch, epochs, by_stage=True), "one size per EPOCH"),
    (lambda sch, epochs: _cost(sch, epochs, power=1), "size squared"),
    (lambda sch, epochs: _cost(sch, epochs, base=sch.min_size), "not in (0, 1]"),
    (lambda sch, epochs: _cost(sch, epochs, sizes=[round(sch.min_size + (sch.max_size - sch.min_size) * e
                                                          / max(epochs - 1, 1)) for e in range(epochs)]),
     "use stage_for_epoch"),
    (lambda sch, epochs: {**_cost(sch, epochs), "relative_cost": _cost(sch, epochs)["relative_cost"] * 0.9},
     "your own sizes give"),
    (lambda sch, epochs: {"relative_cost": _cost(sch, epochs)["relative_cost"]}, "needs exactly the keys"),
]


@pytest.mark.parametrize("answer", COST_CORRECT)
def test_schedule_cost_correct(answer):
    passes(check_schedule_cost, answer)


@pytest.mark.parametrize(("answer", "message"), COST_WRONG)
def test_schedule_cost_wrong(answer, message):
    fails(check_schedule_cost, answer, message)


# chapter 01: swish_minimum(beta) -> {"x", "value"}
def _bisect(beta, halvings=60, scale=True):
    def slope(x):
        s = 1 / (1 + math.exp(-x))
        return s + x * s * (1 - s)

    low, high = -5.0, -0.5
    for _ in range(halvings):
        mid = (low + high) / 2
        low, high = (mid, high) if slope(mid) < 0 else (low, mid)
    x = (low + high) / 2 / (beta if scale else 1)
    return {"x": x, "value": x / (1 + math.exp(-beta * x))}


def _newton(beta):
    x = -1.0
    for _ in range(50):
        s = torch.sigmoid(torch.tensor(x, dtype=torch.float64))
        grad = s + x * s * (1 - s)
        curvature = s * (1 - s) * (2 + x * (1 - 2 * s))
        x = (x - grad / curvature).item()
    return {"x": x / beta, "value": x / beta * torch.sigmoid(torch.tensor(x, dtype=torch.float64)).item()}


def _grid(beta):
    xs = torch.linspace(-5, 0, 501, dtype=torch.float64) / beta
    ys = xs * torch.sigmoid(beta * xs)
    i = int(ys.argmin())
    return {"x": xs[i].item(), "value": ys[i].item()}


MIN_CORRECT = [_bisect, _newton, lambda beta: {k: np.float64(v) for k, v in _bisect(beta).items()}]
MIN_WRONG = [
    (lambda beta: _bisect(beta, scale=False), "moves with beta"),
    (_grid, "a grid is not precise enough"),
    (lambda beta: {**_bisect(beta), "value": _bisect(beta)["x"] + 1}, "is not swish_beta at your x"),
    (lambda beta: {"x": -_bisect(beta)["x"], "value": -_bisect(beta)["x"] * torch.sigmoid(
        torch.tensor(-beta * _bisect(beta)["x"], dtype=torch.float64)).item()}, "negative x"),
    (lambda beta: _bisect(beta, halvings=3), "but the minimum is at"),
    (lambda beta: _bisect(beta)["x"], "must return a dict"),
]


@pytest.mark.parametrize("answer", MIN_CORRECT)
def test_swish_minimum_correct(answer):
    passes(check_swish_minimum, answer)


@pytest.mark.parametrize(("answer", "message"), MIN_WRONG)
def test_swish_minimum_wrong(answer, message):
    fails(check_swish_minimum, answer, message)


# chapter 02: roofline_point(c_in, c_out, k, size, groups, batch, peak, bandwidth)
def _point(c_in, c_out, k, size, groups, batch, peak, bandwidth, *, weights_per_image=False, numbers=False,
           no_min=False, flip=False, no_groups=False, intensity=None):
    weights = c_out * (c_in // (1 if no_groups else groups)) * k * k
    macs = batch * size * size * weights
    moved = (batch * (c_in + c_out) * size * size + weights * (batch if weights_per_image else 1))
    moved *= 1 if numbers else 4
    i = macs / moved if intensity is None else intensity
    memory = bandwidth * i < peak
    return {"macs": macs, "bytes": moved, "intensity": i,
            "attainable": bandwidth * i if no_min else min(peak, bandwidth * i),
            "bound": ("compute" if memory else "memory") if flip else ("memory" if memory else "compute")}


def _point_from_core(c_in, c_out, k, size, groups, batch, peak, bandwidth):
    macs = batch * ec.conv2d_macs(c_in, c_out, k, size, size, groups=groups)
    moved = 4 * (batch * (c_in + c_out) * size * size + ec.conv2d_params(c_in, c_out, k, groups=groups))
    roof = min(peak, bandwidth * macs / moved)
    return {"macs": macs, "bytes": moved, "intensity": macs / moved, "attainable": roof,
            "bound": "compute" if roof == peak else "memory"}


ROOF_CORRECT = [_point, _point_from_core,
                lambda *a: {k: (np.int64(v) if k in ("macs", "bytes") else v) for k, v in _point(*a).items()}]
ROOF_WRONG = [
    (lambda *a: _point(*a, weights_per_image=True), "ONCE for the whole batch"),
    (lambda *a: _point(*a, numbers=True), "4 per float32"),
    (lambda *a: _point(*a, no_min=True), "exceeds the peak"),
    (lambda *a: _point(*a, flip=True), "-bound"),
    (lambda *a: _point(*a, no_groups=True), "divide by groups"),
    (lambda *a: _point(*a, intensity=1.0), "is not your macs / bytes"),
    (lambda *a: {**_point(*a), "bound": "latency"}, "'memory' or 'compute'"),
]


@pytest.mark.parametrize("answer", ROOF_CORRECT)
def test_roofline_point_correct(answer):
    passes(check_roofline_point, answer)


@pytest.mark.parametrize(("answer", "message"), ROOF_WRONG)
def test_roofline_point_wrong(answer, message):
    fails(check_roofline_point, answer, message)
