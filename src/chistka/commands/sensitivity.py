"""`chistka sensitivity`: which mechanism drives each observable (Morris or Sobol, with SALib).

To be registered in `chistka.cli` as ``chistka sensitivity SCENARIO --observable NAME ...
[--method morris|sobol] [--n N] [--out DIR] [--scale S] [--free FILE] [--jobs N]``. Runs the
design points of the free parameters with one seed, prints a table of the indices and, per
observable, the mechanism (the section of its most influential parameter), and writes
OUT/sensitivity.html and OUT/sensitivity.csv. Bad input is reported as one message with exit
status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chistka.commands.options import (
    FreeRangesOption,
    ScaleOption,
    ScenarioArgument,
    counting_bar,
    fail,
    output_console,
)
from chistka.commands.preflight import (
    check_modelled,
    check_observable,
    check_output_folder,
    check_scale,
    check_seed,
)
from chistka.errors import ChistkaError
from chistka.scenario import load_scenario

console = output_console()


SENSITIVITY_MARKS = {
    "sensitivity.html": "<title>chistka sensitivity: ",
    "sensitivity.csv": "observable,parameter,",
}
"""What marks sensitivity.html and sensitivity.csv as written by `chistka sensitivity`."""


def sensitivity_command(
    scenario: ScenarioArgument,
    observable: Annotated[
        list[str],
        typer.Option(
            "--observable",
            metavar="KIND:ARGUMENT",
            help="observable to analyse, e.g. expelled_share:1921 (chistka observables lists "
            "them); repeat for more",
        ),
    ],
    method: Annotated[
        str, typer.Option(metavar="METHOD", help="morris (screening) or sobol (variance)")
    ] = "morris",
    n: Annotated[
        int,
        typer.Option(
            "--n", help="Morris trajectories ((k+1) runs each) or Sobol base samples (power of 2)"
        ),
    ] = 10,
    out: Annotated[
        Path | None, typer.Option(help="output directory (default: out/SCENARIO-sensitivity)")
    ] = None,
    scale: ScaleOption = None,
    free: FreeRangesOption = None,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", help="local processes (-1: one per core; 1: no parallelism)"),
    ] = -1,
    seed: Annotated[int, typer.Option(help="run seed of every design point")] = 1,
    noise_seeds: Annotated[
        int | None,
        typer.Option(
            "--noise-seeds",
            help="runs of the scenario's own values (seeds SEED, SEED+1, ...) that measure the "
            "seed noise each index is compared with; 0: none, else at least 2 (default: 4)",
        ),
    ] = None,
) -> None:
    """Rank the free parameters by their effect on each observable (Morris or Sobol)."""
    from chistka.analysis.sensitivity import (
        EXPLAINED,
        INDICES,
        NOISE_SEEDS,
        drivers,
        index_text,
        sensitivity,
    )
    from chistka.report.sensitivity import write_sensitivity_report

    try:
        loaded = load_scenario(scenario)
        check_scale(loaded, scale)
        for name in observable:
            check_observable(name, loaded, "--observable")
            check_modelled(name, loaded, "--observable")
        target = out if out is not None else Path("out") / f"{loaded.scenario.name}-sensitivity"
        check_seed(seed)
        check_output_folder(target, files=SENSITIVITY_MARKS, writer="chistka sensitivity")
        with counting_bar("runs", console=console, remaining=True) as progress:
            task = progress.add_task(escape(f"{method} n={n} {scenario}"), total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = sensitivity(
                scenario,
                observable,
                method=method,
                n=n,
                seed=seed,
                scale=scale,
                free_path=free,
                n_jobs=jobs,
                progress=advance,
                noise_seeds=NOISE_SEEDS if noise_seeds is None else noise_seeds,
            )
        report = write_sensitivity_report(result, target / "sensitivity.html")
        result.table.to_csv(target / "sensitivity.csv", index=False)
    except ChistkaError as exc:
        fail(str(exc))
        return
    columns = INDICES[result.method]
    scale_words = "" if scale is None else f", scale {scale:g}"
    noise_words = (
        ""
        if result.noise_seeds == 0
        else f"; the scenario's own values at {result.noise_seeds} seeds for the noise"
    )
    view = Table(
        title=escape(
            f"{result.method}: {len(result.X)} runs, seed {result.seed}{scale_words}{noise_words}"
        )
    )
    for column in ("observable", "parameter", *columns, "seed noise", "above it"):
        view.add_column(
            column, justify="left" if column in {"observable", "parameter"} else "right"
        )
    for row in result.table.sort_values(["observable", "rank"], kind="stable").itertuples(
        index=False
    ):
        view.add_row(
            escape(row.observable),
            escape(row.parameter),
            *(index_text(getattr(row, c)) for c in columns),
            index_text(row.noise),
            {True: "yes", False: "no"}.get(row.above_noise, "-"),
        )
    console.print(view)
    console.print(escape(EXPLAINED[result.method]), highlight=False)
    summary = Table(title="what drives each observable")
    for column in ("observable", "mechanism", "parameter", "next", "told apart"):
        summary.add_column(column, overflow="fold")
    for row in drivers(result).itertuples(index=False):
        apart = "yes" if row.told_apart else "no: the intervals overlap (more points: --n)"
        summary.add_row(
            escape(row.observable),
            escape(row.mechanism),
            escape(row.parameter),
            escape(row.next),
            apart,
        )
    console.print(summary)
    console.print(f"wrote {escape(str(report))}, {escape(str(target / 'sensitivity.csv'))}")
