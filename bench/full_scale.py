"""The whole USSR of 1937 at one agent per person: `chistka run great-terror --scale 1`.

Runs the command as a child process (three times; medians) and prints its wall time, peak
resident memory and the time split into population synthesis, the day loop and writing the
results (as the command reports it), with the rate of each part: agents synthesised per second,
events per second of the day loop, and events written per second. (The day loop is
event-driven: its work follows the events, not agents x days, so "person-days per second" would
say nothing.) Each run is listed with the machine's load average (1 minute) when it started,
since other jobs on a shared machine slow it.
The compiled kernels are built (and cached on disk) before the first timed run: a one-time cost
per machine. The timed runs are seeds 1, 2, 3 ...: their work is alike, and together they
give the full scale's mean for each compared observable (in persons). Then runs the default
scale for a few seeds and checks that the two scales give the same observables: for each, the
difference of the two means against the default scale's seed-to-seed standard deviation
(t = difference / (sd * sqrt(1/seeds + 1/repeats))), within the bound that Student's t with
seeds - 1 degrees of freedom passes in all but one bench run in a hundred if the scales agree,
over all the rows compared together (Bonferroni: with some sixty rows, one of them beyond three
standard deviations is what chance gives about once a run; session 41, docs/scale.md).
Targets on this machine: at most 60 s and 8 GiB.

Usage: python bench/full_scale.py [--repeats 3] [--seeds 16] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import console, machine, table  # noqa: E402

from chistka import Sim  # noqa: E402
from chistka.analysis.comparison import comparison as compare  # noqa: E402
from chistka.engine import region_sizes  # noqa: E402

CHISTKA = Path(sys.executable).with_name("chistka")
WALL_TARGET = 60.0
MEMORY_TARGET_GIB = 8.0
SPLIT = re.compile(
    r"([\d,]+) events; synthesis ([\d.]+) s, day loop ([\d.]+) s, writing ([\d.]+) s"
)


def full_scale_run(out: Path, seed: int) -> dict[str, float]:
    """Run the command once; wall time, its peak RSS (GiB), the split it reports and the load.

    `load` is the load average over the last minute when the run started (other jobs included).
    """
    load = os.getloadavg()[0]
    command = [str(CHISTKA), "run", "great-terror", "--scale", "1", "--seed", str(seed)]
    command += ["--out", str(out)]
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        printed = output.read()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{printed}")
    match = SPLIT.search(printed)
    if match is None:
        raise SystemExit(f"no time split in the output:\n{printed}")
    events, synthesis, loop, writing = match.groups()
    return {
        "load": load,
        "wall": wall,
        "peak_gib": usage.ru_maxrss / 2**20,  # KiB -> GiB
        "events": float(events.replace(",", "")),
        "synthesis": float(synthesis),
        "day_loop": float(loop),
        "writing": float(writing),
    }


def figure_row(figures: dict[str, float], agents: int) -> list[str]:
    """One run's (or the medians') figures as table cells, with the rates of each part."""
    return [
        f"{figures['load']:.1f}",
        f"{figures['wall']:.1f}",
        f"{figures['peak_gib']:.2f}",
        f"{figures['synthesis']:.1f}",
        f"{figures['day_loop']:.1f}",
        f"{figures['writing']:.1f}",
        f"{figures['events']:,.0f}",
        f"{agents / figures['synthesis']:.3g}",
        f"{figures['events'] / figures['day_loop']:.3g}",
        f"{figures['events'] / figures['writing']:.3g}",
    ]


def scale_agreement(
    full: pd.DataFrame, default: pd.DataFrame, family_alpha: float = 0.01
) -> tuple[pd.DataFrame, float]:
    """Whether the full scale's mean of each compared observable is the default scale's.

    `full` and `default` hold one column per seed, one row per record_id. The difference of the
    means is measured in the default scale's seed-to-seed standard deviation of a difference of
    means (an estimate from few seeds, hence Student's t), and the bound is two-sided at
    `family_alpha` over all the rows together (Bonferroni), so that a bench run flags a row by
    chance once in a hundred runs at most, not once a run.
    Rows that only one side has are left out; a row with no spread between seeds is the same
    only if the means are equal.
    """
    rows = full.index.intersection(default.index)
    full_mean, default_mean = full.loc[rows].mean(axis=1), default.loc[rows].mean(axis=1)
    sd = default.loc[rows].std(axis=1, ddof=1)
    error = sd * np.sqrt(1 / default.shape[1] + 1 / full.shape[1])
    difference = full_mean - default_mean
    t = (difference / error.where(error > 0)).fillna(0.0)
    tail = family_alpha / (2 * max(len(rows), 1))
    bound = float(stats.t.ppf(1 - tail, default.shape[1] - 1))
    same = (t.abs() <= bound) & ((error > 0) | (difference == 0))
    frame = pd.DataFrame(
        {"full": full_mean, "default": default_mean, "sd": sd, "t": t, "same": same}
    )
    return frame, bound


def default_scale(seed: int) -> pd.Series:
    """The compared observables of one default-scale run (persons)."""
    comparison = compare(Sim.from_scenario("great-terror", seed=seed).run())
    return comparison.set_index("record_id")["model"].astype(float)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16, help="default-scale seeds for the spread")
    parser.add_argument(
        "--repeats", type=int, default=3, help="full-scale runs, seeds 1, 2, ... (medians)"
    )
    parser.add_argument(
        "--keep", type=Path, help="keep the full-scale outputs in this directory (seed-N/)"
    )
    args = parser.parse_args()
    if args.seeds < 2 or args.repeats < 1:
        parser.error("--seeds must be >= 2 (a spread needs two runs) and --repeats >= 1")
    console.print(f"[bold]machine[/]: {machine()}")
    # compile the kernels once (cached on disk): a one-time cost per machine, not per run
    Sim.from_scenario("party-purges-1921-1936", scale=0.001).build()
    with tempfile.TemporaryDirectory() as scratch:
        outs = [(args.keep or Path(scratch)) / f"seed-{s}" for s in range(1, args.repeats + 1)]
        runs = [full_scale_run(out, seed) for seed, out in enumerate(outs, start=1)]
        figures = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        full = pd.concat(
            [
                pd.read_csv(out / "comparison.csv").set_index("record_id")["model"].astype(float)
                for out in outs
            ],
            axis=1,
        )
        provenances = [(out / "provenance.json").read_text() for out in outs]
    scenario = Sim.from_scenario("great-terror", scale=1.0).scenario
    agents = int(region_sizes(scenario)[0].sum())
    rows = [[f"seed {i + 1}", *figure_row(run, agents)] for i, run in enumerate(runs)]
    table(
        f"chistka run great-terror --scale 1: {args.repeats} runs and their medians",
        [
            "",
            "load avg",
            "wall (s)",
            "peak RSS (GiB)",
            "synthesis (s)",
            "day loop (s)",
            "writing (s)",
            "events",
            "agents / s synthesis",
            "events / s day loop",
            "events / s writing",
        ],
        [*rows, ["median", *figure_row(figures, agents)]],
    )
    assert all('"scale": 1.0' in provenance for provenance in provenances)

    console.print(f"default scale, seeds 1-{args.seeds} (for the spread) ...")
    runs = Parallel(n_jobs=-1)(delayed(default_scale)(s) for s in range(1, args.seeds + 1))
    spread = pd.concat(runs, axis=1)
    agreement, bound = scale_agreement(full, spread)
    inside_all = bool(agreement["same"].all())
    table(
        f"Full scale (seeds 1-{args.repeats}) against the default scale (seeds 1-{args.seeds}), "
        f"persons: the scales agree where |t| <= {bound:.2f}",
        ["observable", "full scale mean", "default mean", "default sd", "t", "same"],
        [
            [
                record_id,
                f"{row.full:,.4g}",
                f"{row.default:,.4g}",
                f"{row.sd:,.3g}",
                f"{row.t:+.1f}",
                "yes" if row.same else "[red]no[/]",
            ]
            for record_id, row in agreement.iterrows()
        ],
    )
    fast = figures["wall"] <= WALL_TARGET
    small = figures["peak_gib"] <= MEMORY_TARGET_GIB
    verdict = {True: "met", False: "missed"}
    console.print(
        f"wall {figures['wall']:.1f} s (target <= {WALL_TARGET:g} s: {verdict[fast]}), "
        f"peak {figures['peak_gib']:.2f} GiB (target <= {MEMORY_TARGET_GIB:g} GiB: "
        f"{verdict[small]}), observables the same at both scales: {'yes' if inside_all else 'no'}"
    )
    return 0 if fast and small and inside_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
