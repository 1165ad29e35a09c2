"""Command-line interface: `chistka run`, and the other commands registered from `commands/`.

Bad input (a malformed scenario, an unknown key, a value out of range, a missing file) is reported
as one clear message naming the field, with exit status 2, no traceback, and no output left
behind.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core
from rich.markup import escape
from rich.table import Table

from chistka.analysis.comparison import (
    budget_text,
    comparison,
    fit,
    fit_line,
    parameter_budget,
    save_run,
)
from chistka.analysis.observables import observable_number
from chistka.commands.options import (
    NARROW,
    Fitting,
    ForceOption,
    ScaleOption,
    ScenarioArgument,
    WithoutOption,
    counting_bar,
    fail,
    output_console,
)
from chistka.commands.preflight import check_scale, check_seed
from chistka.commands.sweep import apply_set_options, set_notes, single_values
from chistka.engine import Sim
from chistka.errors import ChistkaError
from chistka.outputs import RUN, RUN_FILES, check_out
from chistka.record import RELIABLE_GRADES
from chistka.results import Results
from chistka.scenario import load_scenario
from chistka.scenario.whatif import without

if TYPE_CHECKING:
    import click
    import pandas as pd

    from chistka.scenario import Scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="chistka: agent-based simulator of the Soviet party purges and the Great Terror.",
)
console = output_console()


def _version(value: bool) -> None:
    if value:
        from chistka import __version__

        typer.echo(f"chistka {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """chistka: agent-based simulator of the Soviet party purges and the Great Terror."""


def comparison_table(comparison: pd.DataFrame) -> Fitting:
    """The run against the record (`chistka.analysis.comparison.comparison`), as a rich table.

    Only rows of kinds the scenario models are shown. Each row shows its role (calibration,
    validation, input, claim) and status, whether the figure was read in its source and the
    source's reliability grade; the caption gives the fit on calibration and on validation rows
    separately. Where the table does not fit (an 80-column terminal), the model and the record
    share a column, as do role and fit, and read and grade, so that the figure's name keeps its
    width, its record_id whole on a line under it.
    """
    shown = comparison[comparison["status"] != "not modelled"]
    hidden = len(comparison) - len(shown)
    caption = fit_line(fit(comparison)) + (
        f"; {hidden} row(s) of kinds this scenario does not model not shown" if hidden else ""
    )
    colours = {"inside": "green", "outside": "red"}
    cells = [
        (
            (escape(row.label), escape(row.record_id)),
            observable_number(row.model, row.observable),
            observable_number(row.record, row.observable),
            row.tolerance,
            row.role,
            f"[{colours.get(row.status, 'dim')}]{row.status}[/]",
            "yes" if row.read_in_source else "[yellow]no[/]",
            row.grade if row.grade in RELIABLE_GRADES else f"[yellow]{row.grade}[/]",
        )
        for row in shown.itertuples()
    ]
    title = "Model against the record"
    wide = Table(title=title, caption=caption, show_lines=False)
    wide.add_column("figure (its record_id in comparison.csv)", ratio=3)
    for column in ("model", "record", "tolerance", "role", "fit", "read", "grade"):
        wide.add_column(
            column, justify="right" if column in {"model", "record"} else "left", no_wrap=True
        )
    for (label, record_id), *row in cells:
        wide.add_row(f"{label} [dim]{record_id}[/]", *row)

    def narrow() -> Table:
        # the figure's name over its record_id, as wide as the longest id so that none is
        # split (QA 45: "arrested_nkvd_1936_10_to_1" over "938_07"); the model over the record
        table = Table(title=title, caption=caption, show_lines=True, **NARROW)
        table.add_column(
            "figure\n(record_id in comparison.csv)",
            min_width=max([20, *(len(record_id) for (_, record_id), *_ in cells)]),
            overflow="fold",
        )
        table.add_column("model\nrecord", justify="right", no_wrap=True)
        table.add_column("tolerance")
        table.add_column("role, fit", no_wrap=True)
        table.add_column("read, grade", no_wrap=True)
        for (label, record_id), model, record, tolerance, role, status, read, grade in cells:
            table.add_row(
                f"{label}\n[dim]{record_id}[/]",
                f"{model}\n[dim]{record}[/]",
                tolerance,
                f"{role}\n{status}",
                f"{read}\n{grade}",
            )
        return table

    return Fitting(wide, narrow)


def campaign_table(results: Results) -> Fitting:
    """Review outcomes per campaign, as a rich table (narrower where it does not fit)."""
    columns = (
        "campaign",
        "reviewed",
        "kept",
        "demoted",
        "expelled",
        "left before review",
        "reinstated",
        "expelled %",
    )
    cells = [
        (
            row.campaign,
            f"{row.reviewed:,.0f}",
            f"{row.kept:,.0f}",
            f"{row.demoted:,.0f}",
            f"{row.expelled:,.0f}",
            f"{row.left:,.0f}",
            f"{row.reinstated:,.0f}",
            f"{row.expelled_share:.1%}" if not math.isnan(row.expelled_share) else "-",
        )
        for row in results.campaigns().itertuples()
    ]

    def table(**frame: object) -> Table:
        drawn = Table(title="Purge campaigns (persons)", **frame)  # type: ignore[arg-type]
        for column in columns:
            drawn.add_column(
                column,
                justify="left" if column == "campaign" else "right",
                no_wrap=column != "left before review",
            )
        for row in cells:
            drawn.add_row(*row)
        return drawn

    return Fitting(table(), lambda: table(**NARROW))


def record_what_if(results: Results, changes: list[str] | None, removed: list[str] | None) -> None:
    """Note a what-if run's changes and left-out decisions in its provenance (and report)."""
    if changes or removed:
        results.provenance["what_if"] = {"set": list(changes or []), "without": list(removed or [])}


def _report_writer(results: Results) -> Callable[[Path], None]:
    """Writes the run's report.html into the directory its results are being written to."""
    from chistka.report import write_report

    return lambda directory: write_report(results, directory / "report.html")


def fitted_scale_note(scenario: Scenario, scale: float | None) -> str:
    """A note where the run's scale is not the one the scenario's calibrate fit was made at.

    A fit at one scale need not hold at another (QA 45: `run fitted.toml --scale 0.03` of a
    study at 0.02 said nothing); "" where they agree, or where no fit says its scale.
    """
    from chistka.scenario.fitted import fitted_scale

    fitted_at = fitted_scale(scenario)
    at = scenario.population.scale if scale is None else scale
    if fitted_at is None or math.isclose(fitted_at, at, rel_tol=1e-9):
        return ""
    return (
        f"note: the values calibrate fitted were fitted at population.scale {fitted_at:g}; this "
        f"run is at {at:g} (a fit at one scale need not hold at another)"
    )


@app.command()
def run(
    scenario: ScenarioArgument,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the scenario's)")] = None,
    scale: ScaleOption = None,
    out: Annotated[
        Path | None, typer.Option(help="output directory (default: out/SCENARIO)")
    ] = None,
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
    force: ForceOption = False,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PARAM=VALUE",
            help="change one parameter for this run, e.g. review.noise_sd=0.8 or "
            "operations.NAME.field=...; repeat for more (for several values, use sweep)",
        ),
    ] = None,
    without_: WithoutOption = None,
) -> None:
    """Run a scenario, print the model against the record, and write the results.

    An earlier run in the output folder is replaced; a folder that holds anything else is
    refused before the run starts (--force writes beside files chistka did not write).
    """
    try:
        check_seed(seed)
        loaded = apply_set_options(without(load_scenario(scenario), without_ or []), set_)
        for note in set_notes(loaded, list(single_values(set_))):
            console.print(note, highlight=False)
        check_scale(loaded, scale)
        scale_note = fitted_scale_note(loaded, scale)
        if scale_note:
            console.print(scale_note, highlight=False)
        target = out if out is not None else Path("out") / loaded.scenario.name
        check_out(target, RUN, force=force)
        sim = Sim(loaded, seed=seed, scale=scale, name=scenario)
        with counting_bar("days", console=console) as progress:
            task = progress.add_task(f"{loaded.scenario.name} (seed {sim.seed})", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            results = sim.run(progress=advance)
        record_what_if(results, set_, without_)
        console.print(campaign_table(results))
        table = comparison(results)
        console.print(comparison_table(table))
        budget = parameter_budget(
            results.provenance.get("fitted"), fit(table), results.provenance.get("fitted_changed")
        )
        console.print(budget_text(budget), style=None if budget["within"] else "bold red")
        with console.status("writing results"):
            started = time.perf_counter()
            save_run(
                results, target, extra=_report_writer(results) if report else None, force=force
            )
            writing = time.perf_counter() - started
        written = sorted(p.name for p in target.iterdir() if p.name in RUN_FILES)
        console.print(f"wrote {target}/: {', '.join(written)}")
        console.print(
            f"{len(results.events['person']):,} events; "
            f"synthesis {sim.timings['synthesis']:.1f} s, "
            f"day loop {sim.timings['day_loop']:.1f} s, writing {writing:.1f} s"
        )
    except ChistkaError as exc:
        fail(str(exc))


@app.command()
def record(
    search: Annotated[
        str | None, typer.Option(help="only rows whose id, quantity, period or source contain it")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            metavar="ROLE",
            help="only rows of this role: input, calibration, validation or claim (with "
            "--scenario, the role the scenario gives them)",
        ),
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="built-in scenario name or TOML file: each row's role in it (a scenario may give "
            "a row another role than the record's) and whether its runs are compared with it",
        ),
    ] = None,
) -> None:
    """Print the historical record: figures, ranges, sources, read in source and grade.

    Each figure shows whether it was read in the cited source and the source's reliability
    grade (archival, scholarly, journalism, memory). Claims from popular texts are shown with
    what the archival record says instead. The role is the record's own unless --scenario
    names a scenario, which may give a row another (great-terror takes Rigby's party of
    1 Jan 1935 as an input, the record lists it for validation).
    """
    from chistka.record import ROLES, records

    if role is not None and role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)} (got '{role}')")
    uses = _record_uses(scenario) if scenario is not None else {}
    roles = {ident: use[0] for ident, use in uses.items()}
    rows = [
        row
        for row in records().values()
        if (role is None or roles.get(row.id, row.role) == role)
        and (
            search is None
            or any(
                search.lower() in text.lower()
                for text in (row.id, row.quantity, row.period, row.source, row.population_scope)
            )
        )
    ]
    set_aside: dict[str, int] = {}  # with --scenario: the rows it is not compared with, by why
    if scenario is not None:
        for row in rows:
            why = uses[row.id][1]
            if why is not None:
                set_aside[why] = set_aside.get(why, 0) + 1
        rows = [row for row in rows if uses[row.id][1] is None]
    if not rows:
        given = [
            f"{option} '{value}'"
            for option, value in (("--search", search), ("--role", role), ("--scenario", scenario))
            if value is not None
        ]
        fail(f"no record row matches {' and '.join(given)}" + _aside_words(set_aside))
    counted = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
    if scenario is not None:
        title = f"The historical record that {scenario}'s runs are compared with ({counted})"
    else:
        title = f"The historical record ({counted}; roles as the record gives them)"
    cells = [
        (
            escape(row.id),
            escape(roles.get(row.id, row.role)),
            escape(row.quantity),
            escape(row.period),
            _number(row.value, row.unit),
            None
            if row.low is None and row.high is None
            else (_number(row.low, row.unit), _number(row.high, row.unit)),
            "yes" if row.read_in_source else "[yellow]no[/]",
            escape(row.grade_label) if row.reliable else f"[yellow]{escape(row.grade_label)}[/]",
            escape(row.dispute_note if row.role == "claim" else row.source),
        )
        for row in rows
    ]
    wide = Table(title=title, show_lines=True)
    for column in (
        "id",
        "role",
        "quantity",
        "period",
        "value",
        "range",
        "read in source",
        "grade",
        "source / what the record says",
    ):
        # an id or a number is never split, nor the texts squeezed to a word a line: where the
        # table does not fit so, the narrow layout is used
        whole = column in {"id", "period", "value", "range", "read in source"}
        least = {"quantity": 24, "source / what the record says": 30}.get(column)
        wide.add_column(column, overflow="fold", no_wrap=whole, min_width=least)
    for ident, role_, quantity, period, value, span, read, grade, note in cells:
        wide.add_row(
            ident, role_, quantity, period, value, " - ".join(span or ()), read, grade, note
        )

    def narrow() -> Table:
        # each row's cells stacked, the value over its range, so that no id or number is split
        table = Table(title=title, show_lines=True, **NARROW)
        table.add_column(
            "id; role, read in source, grade;\nquantity, period",
            overflow="fold",
            min_width=max(len(row.id) for row in rows),
        )
        table.add_column("value\nrange", justify="right", no_wrap=True)
        table.add_column("source / what the record says", overflow="fold")  # a URL whole
        for ident, role_, quantity, period, value, span, read, grade, note in cells:
            table.add_row(
                f"[bold]{ident}[/]\n{role_}, read in source: {read}, {grade}\n{quantity}, {period}",
                value + (f"\n{span[0]} -\n{span[1]}" if span else ""),
                note,
            )
        return table

    console.print(Fitting(wide, narrow))
    if set_aside:
        words = _aside_words(set_aside).lstrip("; ")
        console.print(words[0].upper() + words[1:], highlight=False)


def _aside_words(set_aside: dict[str, int]) -> str:
    """'; not listed: 60 rows not compared: outside ...', or '' where none was set aside."""
    if not set_aside:
        return ""
    counts = "; ".join(f"{n} {why}" for why, n in set_aside.items())
    return f"; not listed, as the scenario's runs are not compared with them: {counts}"


def _record_uses(scenario: str) -> dict[str, tuple[str, str | None]]:
    """Each record row's role in a scenario, and why its runs are not compared with it.

    The reason is None where they are. Rows the comparison plans (`analysis.comparison.plan`,
    with the roles the scenario gives and its first day's inputs) are compared unless their
    kind is not modelled or their period is not inside the scenario's dates
    (`preflight.left_out_reason`); no observable of the model gives the others. Fails naming
    the scenario where it does not load.
    """
    from chistka.analysis.comparison import plan
    from chistka.commands.preflight import NOT_MODELLED, left_out_reason
    from chistka.mechanisms.camps import camp_input_rows
    from chistka.record import records, role_in

    try:
        loaded = load_scenario(scenario)
    except ChistkaError as exc:
        fail(f"--scenario: {exc}")
    name = loaded.scenario.name
    unmatched = "given by no observable of the model"
    uses: dict[str, tuple[str, str | None]] = {
        ident: (role_in(ident, name).role, unmatched) for ident in records()
    }
    for planned in plan(name, loaded.scenario.compare, camp_input_rows(loaded)):
        left = left_out_reason(planned.spec.observable, loaded) if planned.modelled else None
        if not planned.modelled:
            why: str | None = NOT_MODELLED.split(" (")[0]
        else:
            why = left.reason if left is not None else None
        uses[planned.spec.record_id] = (planned.role, why)
    return uses


def _number(value: float | None, unit: str = "") -> str:
    """A record figure as `record` prints it: a fraction with its percentage, as pages give it."""
    if value is None:
        return "-"
    if unit.startswith("fraction"):
        return f"{value:g} ({value:.1%})"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:g}"


from chistka.commands.calibrate import calibrate_command  # noqa: E402
from chistka.commands.catalogue import (  # noqa: E402
    observables_command,
    params_command,
    scenarios_app,
)
from chistka.commands.compare import compare_command  # noqa: E402
from chistka.commands.experiment import experiment_app  # noqa: E402
from chistka.commands.report import report_command  # noqa: E402
from chistka.commands.sensitivity import sensitivity_command  # noqa: E402
from chistka.commands.serve import serve_command  # noqa: E402
from chistka.commands.sweep import sweep_command  # noqa: E402
from chistka.commands.validate import validate_command  # noqa: E402

app.command("sweep")(sweep_command)
app.add_typer(scenarios_app, name="scenarios")
app.command("params")(params_command)
app.command("observables")(observables_command)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.add_typer(experiment_app, name="experiment")
app.command("calibrate")(calibrate_command)
app.command("sensitivity")(sensitivity_command)
app.command("validate")(validate_command)
app.command("serve")(serve_command)


def flowed(docstring: str) -> str:
    """A docstring's paragraphs with their wrapped lines joined into one line each.

    typer's rich help keeps every line break after the first paragraph, so a docstring wrapped
    at 100 columns printed as broken lines in `--help` ("... target is" and "refused" on two lines).
    """
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def flow_command_help(commands: typer.Typer) -> None:
    """Give every command of `commands` (and of its sub-apps) its docstring as flowed help."""
    for command in commands.registered_commands:
        docstring = command.help or (command.callback.__doc__ if command.callback else None)
        if docstring:
            command.help = flowed(docstring)
    for group in commands.registered_groups:
        if group.typer_instance is not None:
            flow_command_help(group.typer_instance)


flow_command_help(app)

_option_type_text = typer.core.TyperOption.display_type_rich


def _no_type_for_flags(option: typer.core.TyperOption, ctx: click.Context) -> str | None:
    """The type column of an option's help: nothing for a flag, which takes no value.

    typer 0.29 writes `<bool>` beside every flag (`--json <bool>`, `--help <bool>`), which reads
    as if the flag wanted a value after it.
    """
    if option.is_flag:
        return None
    return _option_type_text(option, ctx)


typer.core.TyperOption.display_type_rich = _no_type_for_flags  # type: ignore[method-assign]


def main() -> None:
    """Entry point for `python -m chistka`."""
    app()
