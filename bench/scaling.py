"""Cost follows the events, not the population.

Runs the reference purge cascade (bench/DECLARATION.md) with the same parameters and seeds at
10^6, 10^7 and 10^8 people. From 10^6 on the daily arrest capacity binds, so every run makes about
the same number of arrests; the day loop's time must then stay within 2x across the range, while
building the population (one pass over everybody) grows with it.

Usage: python bench/scaling.py [--repeats 3] [--largest 100000000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import console, machine, median, table  # noqa: E402
from reference_cascade import CascadeParams, run_cascade  # noqa: E402

TARGET = 2.0
"""Largest allowed ratio between the slowest and the fastest median day loop."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (median)")
    parser.add_argument("--largest", type=int, default=100_000_000, help="largest population")
    args = parser.parse_args()
    if args.repeats < 1 or args.largest < 1_000_000:
        parser.error("--repeats must be >= 1 and --largest >= 1,000,000")
    console.print(f"[bold]machine[/]: {machine()}")
    run_cascade(CascadeParams(people=1_000), 1)  # compile (or load) the kernels once
    sizes = [n for n in (1_000_000, 10_000_000, 100_000_000) if n <= args.largest]
    rows, loops = [], []
    for people in sizes:
        runs = [run_cascade(CascadeParams(people=people), s) for s in range(1, args.repeats + 1)]
        loop = median([r.day_loop_seconds for r in runs])
        loops.append(loop)
        rows.append(
            [
                f"{people:,}",
                f"{median([r.final_arrests for r in runs]):,.0f}",
                f"{median([r.synthesis_seconds for r in runs]):.2f}",
                f"{loop:.4f}",
                f"{loop / loops[0]:.2f}",
            ]
        )
    table(
        f"Reference cascade, 365 days: medians of {args.repeats} seeds",
        ["people", "arrests", "population (s)", "day loop (s)", "day loop / first"],
        rows,
    )
    spread = max(loops) / min(loops)
    ok = spread <= TARGET
    verdict = "met" if ok else "[red]missed[/]"
    console.print(f"day loop spread across sizes: {spread:.2f}x (target <= {TARGET:g}x: {verdict})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
