"""`chistka sensitivity`: which mechanism drives each observable (Morris or Sobol, with SALib).

To be registered in `chistka.cli` as ``chistka sensitivity SCENARIO --observable NAME ...
[--method morris|sobol] [--n N] [--out DIR] [--force] [--scale S] [--free FILE] [--jobs N]``.
Runs the design points of the free parameters with one seed, prints a table of the indices
with each parameter's rank and, per observable, the mechanism (the section of its most
influential parameter), and writes OUT/sensitivity.html and OUT/sensitivity.csv, both at once
or neither (into an --out folder as every command takes it: `outputs.check_out`). Bad
input is reported as one message with exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chistka.commands.options import (
    NARROW,
    Fitting,
    ForceOption,
    FreeRangesOption,
    ScaleOption,
    ScenarioArgument,
    counting_bar,
    fail,
    output_console,
)
from chistka.commands.preflight import check_modelled, check_observable, check_scale, check_seed
from chistka.errors import ChistkaError
from chistka.outputs import SENSITIVITY, SENSITIVITY_MARKS, atomic_directory, check_out
from chistka.scenario import load_scenario

if TYPE_CHECKING:
    from chistka.analysis.sensitivity import SensitivityResult

console = output_console()


def indices_table(result: SensitivityResult) -> Fitting:
    """Every observable's parameters by rank with their indices and the seed noise.

    Wide where it fits; else (an 80-column terminal) each row stacks its cells, the parameter
    over its observable and each index over the next, so that no name is cut ("review…") or
    broken mid-word, as `validate` and `params` do.
    """
    from chistka.analysis.sensitivity import INDICES, above_noise_text, index_text

    columns = INDICES[result.method]
    scale_words = "" if result.scale is None else f", scale {result.scale:g}"
    noise_words = (
        ""
        if result.noise_seeds == 0
        else f"; the scenario's own values at {result.noise_seeds} seeds for the noise"
    )
    title = escape(
        f"{result.method}: {len(result.X)} runs, seed {result.seed}{scale_words}{noise_words}"
    )
    rows = [
        {
            "observable": escape(row.observable),
            "rank": str(row.rank),
            "parameter": escape(row.parameter),
            "indices": [index_text(getattr(row, column)) for column in columns],
            "noise": index_text(row.noise),
            "above": above_noise_text(row.above_noise),
        }
        for row in result.table.sort_values(["observable", "rank"], kind="stable").itertuples(
            index=False
        )
    ]
    wide = Table(title=title)
    wide.add_column("observable", no_wrap=True)
    wide.add_column("rank", justify="right")
    wide.add_column("parameter", no_wrap=True)
    for column in (*columns, "seed noise", "above it"):
        wide.add_column(column, justify="right", no_wrap=True)
    for cells in rows:
        wide.add_row(
            cells["observable"],
            cells["rank"],
            cells["parameter"],
            *cells["indices"],
            cells["noise"],
            cells["above"],
        )

    def narrow() -> Table:
        view = Table(title=title, show_lines=True, **NARROW)
        view.add_column("rank", justify="right", no_wrap=True)
        view.add_column(
            "parameter\nobservable",
            overflow="fold",
            min_width=max(len(row.parameter) for row in result.table.itertuples(index=False)),
        )
        for first, second in zip(columns[::2], columns[1::2], strict=True):
            view.add_column(f"{first}\n{second}", justify="right", no_wrap=True)
        view.add_column("seed noise\nabove it", justify="right", no_wrap=True)
        for cells in rows:
            pairs = zip(cells["indices"][::2], cells["indices"][1::2], strict=True)
            view.add_row(
                cells["rank"],
                f"[bold]{cells['parameter']}[/]\n[dim]{cells['observable']}[/]",
                *(f"{first}\n{second}" for first, second in pairs),
                f"{cells['noise']}\n{cells['above']}",
            )
        return view

    return Fitting(wide, narrow)


def drivers_table(result: SensitivityResult) -> Fitting:
    """The table "what drives each observable", from `drivers` (the page's source too).

    Per observable: its first parameter and mechanism, the runner-up, and whether their
    intervals tell them apart.

    Narrow: the observable over its mechanism, the parameter over the runner-up, so that no
    parameter is broken mid-word ("review.thresho" / "ld").
    """
    from chistka.analysis.sensitivity import RANK_BY, TOLD_APART, drivers, index_text

    index = RANK_BY[result.method]
    found = drivers(result)
    rows = [
        {
            "observable": escape(row.observable),
            "mechanism": escape(row.mechanism),
            "parameter": escape(row.parameter),
            "next": escape(row.next),
            "next_parameter": escape(row.next_parameter),
            "next_index": f"({index} {index_text(row.next_value)})",
            "apart": TOLD_APART[bool(row.told_apart)],
        }
        for row in found.itertuples(index=False)
    ]
    title = "what drives each observable"
    wide = Table(title=title)
    for column in ("observable", "mechanism", "parameter", "next"):
        wide.add_column(column, no_wrap=True)
    wide.add_column("told apart", overflow="fold")
    for cells in rows:
        wide.add_row(
            cells["observable"],
            cells["mechanism"],
            cells["parameter"],
            cells["next"],
            cells["apart"],
        )

    def narrow() -> Table:
        view = Table(title=title, show_lines=True, **NARROW)
        view.add_column("observable\nmechanism", overflow="fold")
        view.add_column(
            "parameter\nnext",
            overflow="fold",
            min_width=max(
                len(name)
                for row in found.itertuples()
                for name in (row.parameter, row.next_parameter)
            ),
        )
        view.add_column("told apart", overflow="fold")
        for cells in rows:
            runner = (
                f"\n{cells['next_parameter']}\n{cells['next_index']}"
                if cells["next_parameter"]
                else ""
            )
            view.add_row(
                f"{cells['observable']}\n[dim]{cells['mechanism']}[/]",
                f"[bold]{cells['parameter']}[/]{runner}",
                cells["apart"],
            )
        return view

    return Fitting(wide, narrow)


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
    force: ForceOption = False,
) -> None:
    """Rank the free parameters by their effect on each observable (Morris or Sobol)."""
    from chistka.analysis.sensitivity import (
        EXPLAINED,
        NOISE_SEEDS,
        analysed_files,
        check_design,
        free_file_name,
        sensitivity,
    )
    from chistka.report.sensitivity import write_sensitivity_report

    noise_seeds = NOISE_SEEDS if noise_seeds is None else noise_seeds
    try:
        loaded = load_scenario(scenario)
        check_scale(loaded, scale)
        for name in observable:
            check_observable(name, loaded, "--observable")
            check_modelled(name, loaded, "--observable")
        target = out if out is not None else Path("out") / f"{loaded.scenario.name}-sensitivity"
        check_seed(seed)
        check_design(
            loaded,
            scenario,
            list(dict.fromkeys(observable)),
            method=method,
            n=n,
            noise_seeds=noise_seeds,
            n_jobs=jobs,
            free_path=free,
        )
        check_out(target, SENSITIVITY, force=force)
        # the files analysed above the bar, as sensitivity.html names them (QA 46: the bar
        # named only the scenario; in its description they squeezed the bar away at 80 columns)
        files = analysed_files(scenario, free_file_name(scenario, loaded, free))
        with counting_bar("runs", console=console, remaining=True, heading=files) as progress:
            task = progress.add_task(escape(f"{method} n={n}"), total=None)

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
                noise_seeds=noise_seeds,
            )
        with atomic_directory(target, force=force, output=SENSITIVITY) as staged:
            write_sensitivity_report(result, staged / "sensitivity.html")
            result.table.to_csv(staged / "sensitivity.csv", index=False)
    except ChistkaError as exc:
        fail(str(exc))
        return
    console.print(indices_table(result))
    console.print(escape(EXPLAINED[result.method]), highlight=False)
    console.print(drivers_table(result))
    from chistka.analysis.sensitivity import small_sample_warning

    warning = small_sample_warning(result)
    if warning is not None:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    written = ", ".join(str(target / name) for name in SENSITIVITY_MARKS)
    console.print(f"wrote {escape(written)}", highlight=False, soft_wrap=True)
