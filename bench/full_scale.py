"""The whole USSR of 1937 at one agent per person: `chistka run great-terror --scale 1`.

Runs the command as a child process (three times; medians) and prints its wall time, peak
resident memory and the time split into population synthesis, the day loop and writing the
results (as the command reports it), with the rate of each part: agents synthesised per second,
events per second of the day loop, and events written per second. (The day loop is
event-driven: its work follows the events, not agents x days, so "person-days per second" would
say nothing.) Each run is listed with the machine's load average (1 minute) when it started,
since other jobs on a shared machine slow it.
The compiled kernels are built (and cached on disk) before the first timed run: a one-time cost
per machine. Then runs the default scale for a few seeds and checks that each compared
observable of the full-scale run (in persons) lies within the default scale's seed-to-seed
spread: within three standard deviations of their mean, or inside their range. Targets on
this machine: at most 60 s and 8 GiB.

Usage: python bench/full_scale.py [--repeats 3] [--seeds 8] [--keep DIR]
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


def full_scale_run(out: Path) -> dict[str, float]:
    """Run the command once; wall time, its peak RSS (GiB), the split it reports and the load.

    `load` is the load average over the last minute when the run started (other jobs included).
    """
    load = os.getloadavg()[0]
    command = [str(CHISTKA), "run", "great-terror", "--scale", "1", "--out", str(out)]
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


def default_scale(seed: int) -> pd.Series:
    """The compared observables of one default-scale run (persons)."""
    comparison = compare(Sim.from_scenario("great-terror", seed=seed).run())
    return comparison.set_index("record_id")["model"].astype(float)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="default-scale seeds for the spread")
    parser.add_argument("--repeats", type=int, default=3, help="full-scale runs (medians)")
    parser.add_argument("--keep", type=Path, help="keep the full-scale output in this directory")
    args = parser.parse_args()
    if args.seeds < 2 or args.repeats < 1:
        parser.error("--seeds must be >= 2 (a spread needs two runs) and --repeats >= 1")
    console.print(f"[bold]machine[/]: {machine()}")
    # compile the kernels once (cached on disk): a one-time cost per machine, not per run
    Sim.from_scenario("party-purges-1921-1936", scale=0.001).build()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.keep or Path(scratch) / "full"
        runs = [full_scale_run(out) for _ in range(args.repeats)]
        figures = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        full = pd.read_csv(out / "comparison.csv").set_index("record_id")["model"].astype(float)
        provenance = (out / "provenance.json").read_text()
    scenario = Sim.from_scenario("great-terror", scale=1.0).scenario
    agents = int(region_sizes(scenario)[0].sum())
    rows = [[f"run {i + 1}", *figure_row(run, agents)] for i, run in enumerate(runs)]
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
    assert '"scale": 1.0' in provenance

    console.print(f"default scale, seeds 1-{args.seeds} (for the spread) ...")
    runs = Parallel(n_jobs=-1)(delayed(default_scale)(s) for s in range(1, args.seeds + 1))
    spread = pd.concat(runs, axis=1)
    rows, inside_all = [], True
    for record_id, value in full.items():
        if record_id not in spread.index:
            continue
        values = spread.loc[record_id].to_numpy()
        mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
        inside = abs(value - mean) <= 3 * sd or values.min() <= value <= values.max()
        inside_all &= bool(inside)
        z = (value - mean) / sd if sd > 0 else 0.0
        rows.append(
            [
                record_id,
                f"{value:,.4g}",
                f"{mean:,.4g}",
                f"{sd:,.3g}",
                f"{z:+.1f}",
                "yes" if inside else "[red]no[/]",
            ]
        )
    table(
        "Full scale against the default scale's seed-to-seed spread (persons)",
        ["observable", "full scale", "default mean", "default sd", "z", "within"],
        rows,
    )
    fast = figures["wall"] <= WALL_TARGET
    small = figures["peak_gib"] <= MEMORY_TARGET_GIB
    verdict = {True: "met", False: "missed"}
    console.print(
        f"wall {figures['wall']:.1f} s (target <= {WALL_TARGET:g} s: {verdict[fast]}), "
        f"peak {figures['peak_gib']:.2f} GiB (target <= {MEMORY_TARGET_GIB:g} GiB: "
        f"{verdict[small]}), observables within the spread: {'yes' if inside_all else 'no'}"
    )
    return 0 if fast and small and inside_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
