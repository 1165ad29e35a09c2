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

from chistka.analysis.observables import difference_number, observable_number
from chistka.commands.options import (
    SEEDS_METAVAR,
    ForceOption,
    JobsOption,
    ScaleOption,
    counting_bar,
    fail,
    interrupted,
    output_console,
    parse_seeds,
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
    from chistka.commands.options import NARROW, Fitting

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
    title = "Arms (each against the scenario as it stands, at the same seeds)"
    rows = []
    for arm in experiment.arms:
        changes = [f"without {name}" for name in arm.without]
        changes += [f"{key}={value}" for key, value in arm.set.items()]
        rows.append((escape(arm.name), escape(arm.group), escape("\n".join(changes)), arm.why))
    # an arm's name and each of its settings whole, to be copied (QA 45: at 80 columns they
    # were cut, "operations.order_00…"); where the table does not fit so, each arm is stacked
    wide = Table(title=title)
    for column in ("arm", "group", "what it changes"):
        wide.add_column(column, no_wrap=True)
    wide.add_column("why", min_width=24)
    for name, group, changes, why in rows:
        wide.add_row(name, group, changes, escape(why))

    def beside() -> Table:  # the arm over its settings, beside why
        view = Table(title=title, show_lines=True, **NARROW)
        view.add_column("arm (group)\nwhat it changes", no_wrap=True)
        view.add_column("why", min_width=24)
        for name, group, changes, why in rows:
            view.add_row(f"[bold]{name}[/] ({group})\n{changes}", escape(why))
        return view

    def stacked() -> Table:  # the arm, its settings, then why, each on lines of its own
        view = Table(title=title, show_lines=True, **NARROW)
        view.add_column("arm (group)\nwhat it changes\nwhy", overflow="fold")
        for name, group, changes, why in rows:
            view.add_row(f"[bold]{name}[/] ({group})\n{changes}\n[dim]{escape(why)}[/]")
        return view

    console.print(Fitting(wide, lambda: Fitting(beside(), stacked)))
    if header.note:
        console.print(f"note: {escape(header.note)}", highlight=False, soft_wrap=True)


@experiment_app.command("run")
def experiment_run(
    design: DesignArgument,
    seeds: Annotated[
        str | None,
        typer.Option(
            "--seeds",
            metavar=SEEDS_METAVAR,
            help="seeds per arm: N seeds counted up from the scenario's seed, or the seeds A to "
            "B, e.g. 9-16 (default: the design's number)",
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
    vary: Annotated[
        str | None,
        typer.Option(
            "--vary",
            metavar="PARAM=V1,V2,...",
            help="run the whole experiment once per value of one parameter (2-12 values, each "
            "in the scenario and every arm) and put the answers side by side (variants.html)",
        ),
    ] = None,
    fits: Annotated[
        str | None,
        typer.Option(
            "--fits",
            metavar="STUDY",
            help="run the whole experiment at each of a calibration study's best trials (the "
            "study.db `chistka calibrate` wrote, or a storage URL), each trial's values in place "
            "of the scenario's fitted ones, and put the answers side by side (variants.html)",
        ),
    ] = None,
    fits_count: Annotated[
        int | None,
        typer.Option(
            "--fits-count",
            help="how many of the study's best distinct trials --fits runs (2-12; default 5)",
        ),
    ] = None,
    fits_study: Annotated[
        str | None,
        typer.Option(
            "--fits-study",
            help="the study's name in --fits's storage (default: its only study, or the "
            "scenario's name)",
        ),
    ] = None,
    report: Annotated[bool, typer.Option(help="write experiment.html")] = True,
    force: ForceOption = False,
) -> None:
    """Run every arm and the scenario as it stands at the same seeds; print each arm's effect."""
    from chistka.analysis.experiment import (
        BASELINE,
        MAX_SEEDS,
        load_experiment,
        run_experiment,
        seed_list,
    )
    from chistka.analysis.variants import load_variants, vary_axis
    from chistka.commands.sweep import parse_set_options, single_values
    from chistka.engine import day_words

    quiet_worker_restarts()
    try:
        chosen = (
            None
            if seeds is None
            else parse_seeds(seeds, most=MAX_SEEDS, each="arm", limit="seeds per arm")
        )
        changes = single_values(
            set_, "an experiment", "run it once per value, each into its own --out"
        )
        if fits is not None:
            from chistka.analysis.fits import DEFAULT_COUNT, load_fits

            if changes or vary is not None:
                raise ChistkaError(
                    "--fits: give it without --set and --vary (the study's trials are fits of the "
                    "scenario as it stands)"
                )
            experiments, study = load_fits(
                design, fits, fits_study, DEFAULT_COUNT if fits_count is None else fits_count
            )
            run_variants_command(
                experiments,
                {"fits": study},
                chosen,
                out,
                resume,
                n_jobs,
                scale,
                report,
                "fits",
                force=force,
            )
            return
        if fits_study is not None or fits_count is not None:
            raise ChistkaError("--fits-study and --fits-count go with --fits")
        if vary is not None:
            try:
                [(parameter, values)] = parse_set_options([vary]).items()
            except ChistkaError as exc:
                raise ChistkaError(str(exc).replace("--set", "--vary", 1)) from None
            experiments = load_variants(design, parameter, values, changes)
            run_variants_command(
                experiments,
                vary_axis(experiments, parameter),
                chosen,
                out,
                resume,
                n_jobs,
                scale,
                report,
                parameter,
                force=force,
            )
            return
        experiment = load_experiment(design, changes)
        seed_values = seed_list(experiment, chosen)
        count = len(seed_values)
        check_experiment(experiment, scale)
        target = out if out is not None else Path("out") / f"experiment-{experiment.name}"
        arms = len(experiment.scenarios)
        console.print(
            f"{experiment.name}: {arms} arms (the scenario as it stands and {arms - 1} others) x "
            f"{count} seed{'s' * (count != 1)} ({seed_span(seed_values)}) = {arms * count} runs "
            f"-> {target}/",
            highlight=False,
        )
        with counting_bar("runs", console=console, remaining=True, field="arm") as progress:
            task = progress.add_task(f"experiment {experiment.name}", total=arms * count, arm="")

            def advance(arm: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, arm=arm)

            dates = experiment.scenarios[BASELINE].scenario  # every arm has its dates

            def day(arm: str, seed: int, days_done: int, days_total: int) -> None:
                at = day_words(
                    dates.end, days_done, days_total, dates.spin_up_days, f"{arm}, seed {seed}"
                )
                progress.update(task, arm=at)

            _, effects = run_experiment(
                experiment,
                target,
                seeds=chosen,
                scale=scale,
                n_jobs=n_jobs,
                resume=resume,
                force=force,
                progress=advance,
                day_progress=day if n_jobs == 1 else None,
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


def seed_span(seeds: list[int]) -> str:
    """An experiment's seeds as --seeds gives them: '5' or '5-12' (counted up, or a span)."""
    return str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"


def check_experiment(experiment, scale: float | None) -> None:
    """Refuse, before anything runs, an outcome the scenario cannot give or a scale an arm refuses.

    Raises:
        ChistkaError: naming the outcome (its index in the design) or the arm.
    """
    from chistka.analysis.experiment import BASELINE
    from chistka.commands.preflight import check_observable, check_scale

    baseline = experiment.scenarios[BASELINE]
    for index, outcome in enumerate(experiment.design.experiment.outcomes):
        check_observable(outcome, baseline, where=f"outcomes[{index}]")
    for arm, scenario in experiment.scenarios.items():
        try:
            check_scale(scenario, scale)
        except ChistkaError as exc:
            raise ChistkaError(f"arm '{arm}': {exc}") from None


def run_variants_command(
    experiments: list,
    axis: dict,
    seeds: int | list[int] | None,
    out: Path | None,
    resume: bool,
    n_jobs: int,
    scale: float | None,
    report: bool,
    folder_suffix: str,
    *,
    force: bool = False,
) -> None:
    """`experiment run --vary` or `--fits`: the experiment at each value, side by side."""
    from chistka.analysis.experiment import BASELINE, seed_list
    from chistka.analysis.variants import run_variants, variant_axis
    from chistka.engine import day_words

    for experiment in experiments:
        check_experiment(experiment, scale)
    first = experiments[0]
    seed_values = seed_list(first, seeds)
    target = out if out is not None else Path("out") / f"experiment-{first.name}-{folder_suffix}"
    runs = len(experiments) * len(first.scenarios) * len(seed_values)
    what, _ = variant_axis(axis)
    where = "fits of study " + axis["fits"]["study"] if what == "fit" else f"values of {what}"
    seed_words = f"seed{'s' * (len(seed_values) != 1)} {seed_span(seed_values)}"
    console.print(
        f"{first.name} at {len(experiments)} {where}: {runs} runs ({seed_words} per arm) -> "
        f"{target}/",
        highlight=False,
    )
    with counting_bar("runs", console=console, remaining=True, field="arm") as progress:
        task = progress.add_task(f"variants of {first.name}", total=runs, arm="")

        def advance(folder: str, arm: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, arm=f"{folder} {arm}")

        dates = first.scenarios[BASELINE].scenario  # no value of --vary moves the dates

        def day(folder: str, arm: str, seed: int, days_done: int, days_total: int) -> None:
            where = f"{folder} {arm}, seed {seed}"
            at = day_words(dates.end, days_done, days_total, dates.spin_up_days, where)
            progress.update(task, arm=at)

        table = run_variants(
            experiments,
            axis,
            target,
            seeds=seeds,
            scale=scale,
            n_jobs=n_jobs,
            resume=resume,
            force=force,
            progress=advance,
            day_progress=day if n_jobs == 1 else None,
        )
    if report:
        from chistka.analysis.variants import variant_folder
        from chistka.report.experiment import write_experiment_report, write_variants_report

        with console.status("writing variants.html"):
            for index in range(len(experiments)):
                write_experiment_report(target / variant_folder(index))
            write_variants_report(target)
    print_variants(table)
    console.print(
        f"wrote {escape(str(target))}/: one experiment per value (v01/, v02/, ...), "
        "variants.json, variants.csv, spread.csv"
        + (", fits.csv" if what == "fit" else "")
        + (", variants.html" if report else ""),
        highlight=False,
        soft_wrap=True,
    )


def print_variants(table) -> None:
    """Each arm's relative change of each outcome, one column per value.

    An outcome's code and an arm's label are whole (QA 45: at 80 columns the codes were cut to
    "political_convic…" for three different years); where the table does not fit so, each
    outcome's code stands on a line of its own above its arms' rows.
    """
    from chistka.commands.options import NARROW, Fitting

    values = list(dict.fromkeys(table["value"]))
    parameter = table["parameter"].iloc[0]
    at = "at each fit" if parameter == "fit" else f"at each value of {parameter}"
    title = f"Each arm's change against its own baseline, {at}"
    heads = []
    for value in values:
        rows = table[table["value"] == value].iloc[0]
        heads.append(
            f"{value}\n(baseline: {rows['baseline_calibration_inside']} of "
            f"{rows['calibration_rows']} calibration rows at every seed)"
        )
    groups: dict[str, list[tuple[str, list[str]]]] = {}
    for (outcome, _), rows in table.groupby(["outcome", "arm"], sort=False):
        cells = [
            "-" if math.isnan(r) else f"{r:+.1%}"
            for r in (rows.set_index("value")["relative"].get(v, math.nan) for v in values)
        ]
        groups.setdefault(outcome, []).append((rows["label"].iloc[0], cells))

    wide = Table(title=title)
    wide.add_column("outcome", no_wrap=True)
    wide.add_column("arm")
    for head in heads:
        wide.add_column(head, justify="right")
    for outcome, arms in groups.items():
        for label, cells in arms:
            wide.add_row(escape(outcome), escape(label), *cells)

    def narrow() -> Table:  # the outcome's code on a line of its own, its arms under it
        view = Table(title=title, **NARROW)
        longest = max(len(outcome) for outcome in groups)
        view.add_column("outcome\n  arm", overflow="fold", min_width=min(longest, 40))
        for head in heads:
            view.add_column(head, justify="right")
        for outcome, arms in groups.items():
            view.add_row(f"[bold]{escape(outcome)}[/]", *([""] * len(heads)))
            for label, cells in arms:
                view.add_row(f"  {escape(label)}", *cells)
        return view

    console.print(Fitting(wide, narrow))


def print_effects(effects) -> None:
    """The effects table: per outcome, each arm's mean and its change with the 90% interval.

    Each outcome names its unit; a change of a share is in points. An outcome's code and an
    arm's label are whole (QA 45: at 80 columns "political_…" and "great-terr… as it stands");
    where the table does not fit so, each outcome's code and unit stand on a line of their own
    above its arms' rows, and an interval under its change.
    """
    from chistka.analysis.experiment import BASELINE
    from chistka.analysis.observables import is_share, unit
    from chistka.commands.options import NARROW, Fitting

    without_interval = bool(effects[effects["arm"] != BASELINE]["difference_low"].isna().any())
    title = "Effects: each arm against the scenario as it stands (paired by seed)"
    caption = "90% interval: Student's t over the seeds, paired" + (
        "; none where a change rests on one seed (--seeds 2 or more)" * without_interval
    )
    # per outcome: its code, its unit, and each arm's label, mean, change and relative change
    # (the change and the relative change with their intervals, if any)
    groups: dict[str, tuple[str, list[tuple[str, str, tuple[str, str], tuple[str, str]]]]] = {}
    for row in effects.itertuples(index=False):
        name = row.outcome
        if row.arm == BASELINE:
            counted = f"{unit(name)}, change in points" if is_share(name) else unit(name)
            groups[name] = (counted, [])
            groups[name][1].append(
                (row.label, observable_number(row.arm_mean, name), ("", ""), ("", ""))
            )
            continue
        change = (difference_number(row.difference, name), "")
        relative = ("-" if math.isnan(row.relative) else f"{row.relative:+.1%}", "")
        if not math.isnan(row.difference_low):
            change = (
                change[0],
                f"({difference_number(row.difference_low, name)} to "
                f"{difference_number(row.difference_high, name)})",
            )
            relative = (relative[0], f"({row.relative_low:+.1%} to {row.relative_high:+.1%})")
        groups.setdefault(name, (unit(name), []))[1].append(
            (row.label, observable_number(row.arm_mean, name), change, relative)
        )

    def joined(cell: tuple[str, str], between: str) -> str:
        return between.join(part for part in cell if part)

    wide = Table(title=title, caption=caption)
    columns = ("outcome", "unit", "arm", "mean", "change (90% interval)", "relative (90% interval)")
    for column in columns:
        justify = "left" if column in columns[:3] else "right"
        wide.add_column(column, justify=justify, no_wrap=column == "outcome")
    for name, (counted, arms) in groups.items():
        for index, (label, mean, change, relative) in enumerate(arms):
            head = (escape(name), escape(counted)) if index == 0 else ("", "")
            wide.add_row(*head, escape(label), mean, joined(change, " "), joined(relative, " "))

    def narrow() -> Table:  # the outcome's code and unit on a line, its arms under it
        view = Table(title=title, caption=caption, **NARROW)
        longest = max(len(name) for name in groups)
        view.add_column("outcome (unit)\n  arm", overflow="fold", min_width=min(longest, 40))
        # the intervals wrap within a set width: rich's squeezing of a table too wide takes
        # the widest column first, below its min_width, and would cut the outcome's code
        view.add_column("mean", justify="right")
        for column in ("change\n(90% interval)", "relative\n(90% interval)"):
            view.add_column(column, justify="right", max_width=13)
        for name, (counted, arms) in groups.items():
            view.add_row(f"[bold]{escape(name)}[/] ({escape(counted)})", "", "", "")
            for label, mean, change, relative in arms:
                view.add_row(
                    f"  {escape(label)}", mean, joined(change, "\n"), joined(relative, "\n")
                )
        return view

    console.print(Fitting(wide, narrow))


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
    folder: Annotated[
        Path, typer.Argument(help="a finished experiment's folder, or a set of variants'")
    ],
) -> None:
    """Write experiment.html (or variants.html) again from a finished folder, and print it."""
    import pandas as pd

    from chistka.analysis.experiment import EFFECTS_FILE, FIT_FILE, read_fit
    from chistka.analysis.variants import (
        TABLE_FILE,
        VARIANTS_FILE,
        read_variants_document,
        variant_table,
        write_tables,
    )
    from chistka.report.experiment import write_experiment_report, write_variants_report

    try:
        if (folder / VARIANTS_FILE).is_file():
            document = read_variants_document(folder)
            for sub in document["folders"]:
                read_fit(folder / sub).to_csv(folder / sub / FIT_FILE, index=False)
                write_experiment_report(folder / sub)
            write_tables(folder, variant_table(folder))
            path = write_variants_report(folder)
            print_variants(pd.read_csv(folder / TABLE_FILE, dtype={"value": str}))
            console.print(f"wrote {escape(str(path))}", highlight=False, soft_wrap=True)
            return
        read_fit(folder).to_csv(folder / FIT_FILE, index=False)
        path = write_experiment_report(folder)
        effects = pd.read_csv(folder / EFFECTS_FILE)
    except ChistkaError as exc:
        fail(str(exc))
    print_effects(effects)
    print_baseline_fit(folder)
    console.print(f"wrote {escape(str(path))}", highlight=False, soft_wrap=True)
