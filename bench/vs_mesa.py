"""chistka against Mesa 3 on the reference purge cascade (bench/DECLARATION.md).

First checks that the two implementations give the same results: final arrests over 30 seeds at
10^4 people, with a test of equivalence (two one-sided Welch t-tests, TOST, at the 5% level) of
their means within a margin of 5% of Mesa's mean. The margin is about 1.5 seed-to-seed standard
deviations of either implementation (their spread is 3-4% of the mean at 10^4 people), so that
30 seeds can show equivalence and a difference of a few percent in the rules would not pass.

Then times whole runs (building the population and 365 days). Each timing holds at least a
second of work on each side: Mesa's runs are long enough alone; chistka's run is repeated within
one timing (same seed) until a second has passed, and the time per run is the total over the
repeats. At 10^4 and 10^5 people the two are timed in pairs (same seed, one pair after the
other, at least 5 pairs), and the ratio of each pair is reported with its median, minimum and
maximum; chistka alone is timed at 10^6 and 10^7. Target: the median ratio at 10^5 people is at
least 300.

Usage: python bench/vs_mesa.py [--seeds 30] [--pairs 5] [--equivalence-size 10000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import console, machine, median, table  # noqa: E402
from peers import mesa_cascade  # noqa: E402
from reference_cascade import CascadeParams, run_cascade  # noqa: E402

TARGET_RATIO = 300
"""The median ratio of Mesa's time to chistka's at 10^5 people must be at least this."""

MARGIN = 0.05
"""Equivalence margin: the means of final arrests may differ by at most this share of Mesa's."""

ALPHA = 0.05
"""Level of each one-sided test of the TOST."""

MIN_SECONDS = 1.0
"""Each timing holds at least this much work."""


def chistka_final_arrests(people: int, seed: int) -> int:
    """Final arrests of one chistka run."""
    return run_cascade(CascadeParams(people=people), seed).final_arrests


def mesa_final_arrests(people: int, seed: int) -> int:
    """Final arrests of one Mesa run."""
    return mesa_cascade.final_arrests(mesa_cascade.run(seed=seed, people=people))


@dataclass(frozen=True)
class Equivalence:
    """A two one-sided tests (TOST) comparison of the mean of `ours` with that of `theirs`."""

    ours: list[int]
    theirs: list[int]
    margin: float  # in arrests: MARGIN times the mean of theirs
    difference: float  # mean of ours minus mean of theirs
    low: float  # the (1 - 2 alpha) confidence interval of the difference
    high: float
    pvalue: float  # the larger of the two one-sided p-values

    @property
    def equivalent(self) -> bool:
        """Both one-sided tests reject: the difference lies within the margin."""
        return self.pvalue < ALPHA


def tost(
    ours: list[int], theirs: list[int], margin: float = MARGIN, alpha: float = ALPHA
) -> Equivalence:
    """Welch's two one-sided t-tests of |mean(ours) - mean(theirs)| < margin * mean(theirs).

    Equivalence is concluded when both null hypotheses, difference <= -margin and difference
    >= +margin, are rejected at level `alpha`, that is when the (1 - 2 alpha) confidence
    interval of the difference lies inside the margin (Schuirmann 1987).
    """
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else math.inf
    difference = float(a.mean() - b.mean())
    bound = margin * float(b.mean())
    if se == 0:
        pvalue = 0.0 if abs(difference) < bound else 1.0
        low = high = difference
    else:
        p_low = stats.t.sf((difference + bound) / se, df)  # H0: difference <= -bound
        p_high = stats.t.cdf((difference - bound) / se, df)  # H0: difference >= +bound
        pvalue = float(max(p_low, p_high))
        half = stats.t.ppf(1 - alpha, df) * se
        low, high = difference - half, difference + half
    return Equivalence(list(ours), list(theirs), bound, difference, low, high, pvalue)


def equivalence(people: int, seeds: int) -> Equivalence:
    """Final arrests of both implementations over seeds 1..`seeds`, compared by TOST."""
    ours = [chistka_final_arrests(people, seed) for seed in range(1, seeds + 1)]
    theirs = [mesa_final_arrests(people, seed) for seed in range(1, seeds + 1)]
    return tost(ours, theirs)


def chistka_seconds(people: int, seed: int) -> tuple[float, int]:
    """Seconds per whole chistka run, repeated within one timing for at least MIN_SECONDS."""
    params = CascadeParams(people=people)
    repeats = 0
    started = time.perf_counter()
    while True:
        run_cascade(params, seed)
        repeats += 1
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return elapsed / repeats, repeats


def mesa_seconds(people: int, seed: int) -> tuple[float, int]:
    """Seconds per whole Mesa run, repeated within one timing for at least MIN_SECONDS."""
    repeats = 0
    started = time.perf_counter()
    while True:
        mesa_cascade.run(seed=seed, people=people)
        repeats += 1
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return elapsed / repeats, repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="seeds for the equivalence test")
    parser.add_argument("--pairs", type=int, default=5, help="paired timings per size (>= 5)")
    parser.add_argument("--equivalence-size", type=int, default=10_000, help="people per run")
    args = parser.parse_args()
    if args.seeds < 2 or args.pairs < 5 or args.equivalence_size < 10:
        parser.error("--seeds must be >= 2, --pairs >= 5, --equivalence-size >= 10")
    console.print(f"[bold]machine[/]: {machine()}")
    run_cascade(CascadeParams(people=1_000), 1)  # compile (or load) the kernels once

    result = equivalence(args.equivalence_size, args.seeds)
    table(
        f"Final arrests over {args.seeds} seeds, {args.equivalence_size:,} people",
        ["implementation", "mean", "sd", "min", "max"],
        [
            [name, f"{np.mean(x):,.1f}", f"{np.std(x, ddof=1):,.1f}", min(x), max(x)]
            for name, x in (("chistka", result.ours), ("Mesa", result.theirs))
        ],
    )
    console.print(
        f"TOST (Welch, {ALPHA:.0%} each side), margin ±{MARGIN:.0%} of Mesa's mean "
        f"(±{result.margin:,.0f} arrests): difference {result.difference:+,.1f}, "
        f"{1 - 2 * ALPHA:.0%} CI [{result.low:+,.1f}, {result.high:+,.1f}], p = "
        f"{result.pvalue:.2g} -> "
        + ("equivalent" if result.equivalent else "[red]equivalence not shown[/]")
    )

    rows = []
    median_at_1e5 = 0.0
    for people in (10_000, 100_000, 1_000_000, 10_000_000):
        seeds = range(1, args.pairs + 1)
        if people <= 100_000:
            ratios, ours, theirs = [], [], []
            for seed in seeds:  # one pair after the other: both sides see the same machine
                mesa, mesa_repeats = mesa_seconds(people, seed)
                own, own_repeats = chistka_seconds(people, seed)
                theirs.append(mesa)
                ours.append(own)
                ratios.append(mesa / own)
            middle = statistics.median(ratios)
            if people == 100_000:
                median_at_1e5 = middle
            rows.append(
                [
                    f"{people:,}",
                    f"{median(ours):.4f} (x{own_repeats})",
                    f"{median(theirs):.2f} (x{mesa_repeats})",
                    f"{middle:,.0f}x",
                    f"{min(ratios):,.0f}x - {max(ratios):,.0f}x",
                ]
            )
        else:
            ours = [chistka_seconds(people, seed) for seed in seeds]
            rows.append(
                [
                    f"{people:,}",
                    f"{median([t for t, _ in ours]):.4f} (x{ours[-1][1]})",
                    "-",
                    "-",
                    "-",
                ]
            )
    table(
        f"Whole runs, 365 days: seconds per run, medians of {args.pairs} timings of at least "
        f"{MIN_SECONDS:g} s each (runs per timing in brackets)",
        ["people", "chistka (s)", "Mesa 3 (s)", "median ratio", "ratio min - max"],
        rows,
    )
    fast = median_at_1e5 >= TARGET_RATIO
    verdict = "met" if fast else "[red]missed[/]"
    console.print(
        f"at 10^5 people chistka is {median_at_1e5:,.0f}x faster than Mesa (median of "
        f"{args.pairs} paired timings; target >= {TARGET_RATIO}x: {verdict})"
    )
    return 0 if result.equivalent and fast else 1


if __name__ == "__main__":
    raise SystemExit(main())
