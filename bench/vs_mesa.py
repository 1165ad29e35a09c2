"""chistka against Mesa 3 on the reference purge cascade (bench/DECLARATION.md).

First checks that the two implementations give the same distribution of final arrests over 30
seeds (two-sample Kolmogorov-Smirnov test at 0.05), then times whole runs (building the
population and 365 days) of both at 10^4 and 10^5 people, and of chistka alone at 10^6 and 10^7,
and prints the medians and the ratio. Target: chistka at least 300x faster than Mesa at 10^5.

Usage: python bench/vs_mesa.py [--seeds 30] [--repeats 3] [--equivalence-size 10000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scipy.stats import ks_2samp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import console, machine, median, table, timed  # noqa: E402
from peers import mesa_cascade  # noqa: E402
from reference_cascade import CascadeParams, run_cascade  # noqa: E402

TARGET_RATIO = 300
"""chistka must be at least this many times faster than Mesa at 10^5 people."""


def chistka_final_arrests(people: int, seed: int) -> int:
    """Final arrests of one chistka run."""
    return run_cascade(CascadeParams(people=people), seed).final_arrests


def mesa_final_arrests(people: int, seed: int) -> int:
    """Final arrests of one Mesa run."""
    return mesa_cascade.final_arrests(mesa_cascade.run(seed=seed, people=people))


def equivalence(people: int, seeds: int) -> tuple[float, float, list[int], list[int]]:
    """KS statistic and p-value of final arrests over `seeds` seeds, and the two samples."""
    ours = [chistka_final_arrests(people, seed) for seed in range(1, seeds + 1)]
    theirs = [mesa_final_arrests(people, seed) for seed in range(1, seeds + 1)]
    result = ks_2samp(ours, theirs)
    return float(result.statistic), float(result.pvalue), ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="seeds for the KS test")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per size (median)")
    parser.add_argument("--equivalence-size", type=int, default=10_000, help="people in KS runs")
    args = parser.parse_args()
    if args.seeds < 2 or args.repeats < 1 or args.equivalence_size < 10:
        parser.error("--seeds must be >= 2, --repeats >= 1, --equivalence-size >= 10")
    console.print(f"[bold]machine[/]: {machine()}")
    run_cascade(CascadeParams(people=1_000), 1)  # compile (or load) the kernels once

    statistic, pvalue, ours, theirs = equivalence(args.equivalence_size, args.seeds)
    same = pvalue >= 0.05
    table(
        f"Final arrests over {args.seeds} seeds, {args.equivalence_size:,} people",
        ["implementation", "median", "min", "max"],
        [
            ["chistka", median(ours), min(ours), max(ours)],
            ["Mesa", median(theirs), min(theirs), max(theirs)],
        ],
    )
    console.print(
        f"Kolmogorov-Smirnov: D = {statistic:.3f}, p = {pvalue:.3f} -> "
        + ("same distribution (p >= 0.05)" if same else "[red]distributions differ[/]")
    )

    rows = []
    ratio_at_1e5 = 0.0
    for people in (10_000, 100_000, 1_000_000, 10_000_000):
        seeds = range(1, args.repeats + 1)
        params = CascadeParams(people=people)
        ours = [timed(lambda s=s, p=params: run_cascade(p, s))[0] for s in seeds]
        if people <= 100_000:
            theirs = [
                timed(lambda s=s, n=people: mesa_cascade.run(seed=s, people=n))[0] for s in seeds
            ]
            ratio = median(theirs) / median(ours)
            if people == 100_000:
                ratio_at_1e5 = ratio
            rows.append(
                [f"{people:,}", f"{median(ours):.4f}", f"{median(theirs):.2f}", f"{ratio:,.0f}x"]
            )
        else:
            rows.append([f"{people:,}", f"{median(ours):.4f}", "-", "-"])
    table(
        f"Whole runs, 365 days: median seconds of {args.repeats} (same seeds)",
        ["people", "chistka (s)", "Mesa 3 (s)", "Mesa / chistka"],
        rows,
    )
    fast = ratio_at_1e5 >= TARGET_RATIO
    verdict = "met" if fast else "[red]missed[/]"
    console.print(
        f"at 10^5 people chistka is {ratio_at_1e5:,.0f}x faster than Mesa "
        f"(target >= {TARGET_RATIO}x: {verdict})"
    )
    return 0 if same and fast else 1


if __name__ == "__main__":
    raise SystemExit(main())
