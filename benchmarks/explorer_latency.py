"""How long one live update of the phi explorer takes (the budget is 20 ms).

A live update is what the explorer's Python callback does when a slider moves: scale B0
(``compound_spec``), count params and MACs analytically (``estimate_cost``) and render the HTML/SVG
view. Moving phi reuses the cached MACs-vs-phi curve; moving alpha, beta or gamma recomputes it,
so both cases are timed. Run: ``.venv/bin/python benchmarks/explorer_latency.py``.
Introduced in the chapter "Compound scaling".
"""

from __future__ import annotations

import argparse
import statistics
import time

from effnet_core.book.widgets import _macs_curve, explorer_frame, frame_html

BUDGET_MS = 20.0


def time_updates(moves: list[tuple[float, float, float, float]]) -> list[float]:
    """Milliseconds taken by the explorer's update for each (phi, alpha, beta, gamma) in ``moves``."""
    times = []
    for args in moves:
        start = time.perf_counter()
        frame_html(explorer_frame(*args))
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="slider moves per case")
    args = parser.parse_args()
    n = args.moves
    frame_html(explorer_frame(1.0))  # warm the cache of the paper's curve, as the widget does
    phi_moves = [(7.0 * i / n, 1.2, 1.1, 1.15) for i in range(n)]
    coeff_moves = [(3.0, 1.0 + 0.5 * i / n, 1.1, 1.15) for i in range(n)]
    _macs_curve.cache_clear()
    for name, moves in (("move phi", phi_moves), ("move alpha (curve recomputed)", coeff_moves)):
        t = time_updates(moves)
        print(f"{name:32s} median {statistics.median(t):6.2f} ms   p95 "
              f"{sorted(t)[int(0.95 * len(t))]:6.2f} ms   max {max(t):6.2f} ms   (budget {BUDGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
