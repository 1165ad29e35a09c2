"""`chistka experiment`: run a designed comparison of a scenario with arms that take levers away.

`chistka experiment` lists the built-in designs, `experiment show NAME` prints one with what
each arm changes, `experiment run NAME` runs every arm at the same seeds and prints each arm's
effect on each outcome with its 90% interval (`chistka.analysis.experiment`), and `experiment
report DIR` draws experiment.html again from a finished experiment's folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chistka.commands.options import (
    JobsOption,
    ScaleOption,
    counting_bar,
    fail,
    interrupted,
    observable_number,
    output_console,
    quiet_worker_restarts,
)
from chistka.errors import ChistkaError

console = output_console()

experiment_app = typer.Typer(
    help="Run a designed experiment: a scenario against arms that take its levers away.",
    no_args_is_help=False,
)

DesignArgument = Annotated[
    str, typer.Argument(help="built-in experiment name or path to a design (TOML)")
]


@experiment_app.callback(invoke_without_command=True)
def experiment_list(ctx: typer.Context) -> None:
    """List the built-in experiments (`chistka experiment show NAME` prints one)."""
    if ctx.invoked_subcommand is not None:
        return
    from chistka.analysis.experiment import builtin_experiments

    view = Table(title="Built-in experiments")
    view.add_column("name")
    view.add_column("title")
    for name, title in builtin_experiments().items():
        view.add_row(name, escape(title))
    console.print(view)


@experiment_app.command("show")
def experiment_show(design: DesignArgument) -> None:
    """Print a design: its question, outcomes and what each arm leaves out or changes."""
    from chistka.analysis.experiment import load_experiment

    try:
        experiment = load_experiment(design)
    except ChistkaError as exc:
        fail(str(exc))
    header = experiment.design.experiment
    console.print(f"[bold]{escape(header.title)}[/]", highlight=False)
    console.print(f"question: {escape(header.question)}", highlight=False, soft_wrap=True)
    console.print(
        f"scenario: {escape(experiment.scenario_ref)}; {header.seeds} seeds by default; "
        f"outcomes: {escape(', '.join(header.outcomes))}",
        highlight=False,
        soft_wrap=True,
    )
    view = Table(title="Arms (each against the scenario as it stands, at the same seeds)")
    for column in ("arm", "group", "what it changes", "why"):
        view.add_column(column)
    for arm in experiment.arms:
        changes = [f"without {name}" for name in arm.without]
        changes += [f"{key}={value}" for key, value in arm.set.items()]
        view.add_row(
            escape(arm.name), escape(arm.group), escape("\n".join(changes)), escape(arm.why)
        )
    console.print(view)
    if header.note:
        console.print(f"note: {escape(header.note)}", highlight=False, soft_wrap=True)


@experiment_app.command("run")
def experiment_run(
    design: DesignArgument,
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds", help="seeds per arm, counted up from the scenario's (default: the design's)"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: out/experiment-NAME)")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="finish a stopped experiment: keep complete runs, redo the rest"
        ),
    ] = False,
    n_jobs: JobsOption = -1,
    scale: ScaleOption = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PARAM=VALUE",
            help="a variant: change a parameter in the scenario and every arm (an arm's own "
            "setting of it wins), to see how the answer depends on its value; repeat for more",
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="write experiment.html")] = True,
) -> None:
    """Run every arm and the scenario as it stands at the same seeds; print each arm's effect."""
    from chistka.analysis.experiment import BASELINE, load_experiment, run_experiment, seed_list
    from chistka.commands.preflight import check_observable, check_scale
    from chistka.commands.sweep import single_values

    quiet_worker_restarts()
    try:
        experiment = load_experiment(
            design,
            single_values(set_, "an experiment", "run it once per value, each into its own --out"),
        )
        count = len(seed_list(experiment, seeds))
        baseline = experiment.scenarios[BASELINE]
        for index, outcome in enumerate(experiment.design.experiment.outcomes):
            check_observable(outcome, baseline, where=f"outcomes[{index}]")
        for arm, scenario in experiment.scenarios.items():
            try:
                check_scale(scenario, scale)
            except ChistkaError as exc:
                raise ChistkaError(f"arm '{arm}': {exc}") from None
        target = out if out is not None else Path("out") / f"experiment-{experiment.name}"
        arms = len(experiment.scenarios)
        console.print(
            f"{experiment.name}: {arms} arms (the scenario as it stands and {arms - 1} others) x "
            f"{count} seeds = {arms * count} runs -> {target}/",
            highlight=False,
        )
        with counting_bar("runs", console=console, remaining=True, field="arm") as progress:
            task = progress.add_task(f"experiment {experiment.name}", total=arms * count, arm="")

            def advance(arm: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, arm=arm)

            _, effects = run_experiment(
                experiment,
                target,
                seeds=seeds,
                scale=scale,
                n_jobs=n_jobs,
                resume=resume,
                progress=advance,
            )
        written = ["experiment.json", "outcomes.csv", "effects.csv", "fit.csv"]
        if report:
            from chistka.report.experiment import write_experiment_report

            with console.status("writing experiment.html"):
                write_experiment_report(target)
            written.append("experiment.html")
    except ChistkaError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        interrupted(
            "complete runs are kept; run the same command with --resume to finish the experiment"
        )
    print_effects(effects)
    print_baseline_fit(target)
    console.print(
        f"wrote {escape(str(target))}/: one folder of runs per arm, {', '.join(written)}",
        highlight=False,
        soft_wrap=True,
    )


def print_effects(effects) -> None:
    """The effects table: per outcome, each arm's mean and its change with the 90% interval."""
    from chistka.analysis.experiment import BASELINE

    view = Table(title="Effects: each arm against the scenario as it stands (paired by seed)")
    for column in ("outcome", "arm", "mean", "change (90% interval)", "relative (90% interval)"):
        view.add_column(column, justify="left" if column in ("outcome", "arm") else "right")
    for row in effects.itertuples(index=False):
        name = row.outcome
        if row.arm == BASELINE:
            view.add_row(
                escape(name), escape(row.label), observable_number(row.arm_mean, name), "", ""
            )
            continue
        change = observable_number(row.difference, name)
        relative = "-" if math.isnan(row.relative) else f"{row.relative:+.1%}"
        if not math.isnan(row.difference_low):
            change += (
                f" ({observable_number(row.difference_low, name)} to "
                f"{observable_number(row.difference_high, name)})"
            )
            relative += f" ({row.relative_low:+.1%} to {row.relative_high:+.1%})"
        view.add_row("", escape(row.label), observable_number(row.arm_mean, name), change, relative)
    console.print(view)


def print_baseline_fit(folder: Path) -> None:
    """One line: the baseline's calibration rows inside, seed by seed (a fit, or the variant?)."""
    import pandas as pd

    from chistka.analysis.experiment import BASELINE, FIT_FILE, read_document

    fit = pd.read_csv(folder / FIT_FILE)
    runs = fit[fit["arm"] == BASELINE]
    if runs.empty or not runs["calibration_rows"].max():
        return
    inside = ", ".join(str(n) for n in runs["calibration_inside"])
    variant = read_document(folder).get("set") or {}
    who = "the scenario as it stands"
    if variant:
        who = "the scenario with the variant " + ", ".join(f"{k}={v}" for k, v in variant.items())
    console.print(
        f"{who}: {inside} of {runs['calibration_rows'].max()} calibration rows inside, seed by "
        "seed (only it is meant to fit; the arms are what-ifs)",
        highlight=False,
        soft_wrap=True,
    )


@experiment_app.command("report")
def experiment_report(
    folder: Annotated[Path, typer.Argument(help="a finished experiment's folder")],
) -> None:
    """Write experiment.html again from a finished experiment's folder, and print its effects."""
    import pandas as pd

    from chistka.analysis.experiment import EFFECTS_FILE, FIT_FILE, read_fit
    from chistka.report.experiment import write_experiment_report

    try:
        read_fit(folder).to_csv(folder / FIT_FILE, index=False)
        path = write_experiment_report(folder)
        effects = pd.read_csv(folder / EFFECTS_FILE)
    except ChistkaError as exc:
        fail(str(exc))
    print_effects(effects)
    print_baseline_fit(folder)
    console.print(f"wrote {escape(str(path))}", highlight=False, soft_wrap=True)
