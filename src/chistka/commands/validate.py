"""`chistka validate RUN_DIR [--targets FILE] [--json] [--strict]`: runs against record or targets.

Without --targets the runs are compared with the record as their report compares them: the
record's rows for the runs' scenario, each with its role (calibration, validation, input,
claim) and status, and the fit counted separately on calibration and validation rows.

Runs are grouped by scale and parameter point and each group is compared apart (runs of
different scenarios are refused); an experiment's folder (`chistka experiment run`) is read arm
by arm, each arm's groups apart, and a set of variants' (`experiment run --vary` or `--fits`)
value by value, each value's arms apart (named by their folder, 'v01/baseline'). `--strict`
exits with status 1 when a target falls outside its range, or when no target could be checked at
all (a targets file whose every row is left out).
Prints a table of the targets per group (model value with its spread over the runs, target
value and range, inside or outside), or with --json a JSON list of objects with the keys id,
observable, model, model_low, model_high, value, low, high and inside (null for missing
numbers, and for inside where no run covers the observable; against the record also label,
role, status, read_in_source, grade and fitted_now, with inside null for rows not scored; with
several groups, each object also has group, scale and runs; of an experiment, also arm, which
for a set of variants names the value's folder too: 'v01/baseline'). Bad
input (a missing run, a targets file without a required column, a non-numeric value, a
malformed observable) is reported as one clear message with exit status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from chistka.analysis.observables import observable_number
from chistka.commands.options import NARROW, Fitting, errors, fail, output_console
from chistka.commands.preflight import (
    NOT_MODELLED,
    LeftOut,
    check_observable_form,
    left_out_lines,
)
from chistka.errors import ChistkaError

if TYPE_CHECKING:
    from chistka.analysis.grouping import RunGroup
    from chistka.scenario.schema import Scenario

console = output_console()


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The validation table as a list of plain JSON objects."""
    from chistka.analysis.validate import OUTPUT_COLUMNS, RECORD_COLUMNS
    from chistka.results import jsonable

    columns = RECORD_COLUMNS if "role" in table.columns else OUTPUT_COLUMNS
    return [
        {column: jsonable(row[column]) for column in columns}
        for row in table.to_dict(orient="records")
    ]


def validation_table(table: pd.DataFrame, title: str, runs: int = 1) -> Fitting:
    """The validation as a rich table (narrower where it does not fit).

    Where the table does not fit (an 80-column terminal), each row stacks its cells: the id over
    the observable, the model over its spread, the target over its range, and the role over the
    fit, so that no number or id is cut or split across lines. The spread's column is named by
    the number of `runs` ("lowest-highest over 2 seeds", `chistka.analysis.spread`).
    """
    from chistka.analysis.spread import spread_name
    from chistka.analysis.validate import bounds

    spread_heading = spread_name(runs) if runs > 1 else "spread over the seeds"

    roles = "role" in table.columns
    rows = []
    for row in table.itertuples(index=False):
        name = row.observable
        low, high = bounds(row.value, row.low, row.high)
        not_modelled = roles and row.status == "not modelled"
        spread = (
            None
            if not_modelled or math.isnan(row.model) or row.model_low == row.model_high
            else (observable_number(row.model_low, name), observable_number(row.model_high, name))
        )
        fit = (
            f"[dim]{row.status if roles else 'not in run'}[/]"
            if row.inside is None
            else "[green]inside[/]"
            if row.inside
            else "[red]outside[/]"
        )
        rows.append(
            {
                "id": escape(str(row.id)),
                "role": escape(str(row.role)) if roles else None,
                "observable": escape(name),
                "model": "-" if not_modelled else observable_number(row.model, name),
                "spread": spread,
                "target": observable_number(row.value, name),
                "range": (observable_number(low, name), observable_number(high, name)),
                "fit": fit,
            }
        )

    wide = Table(title=title)
    for column, justify in (
        ("id", "left"),
        *((("role", "left"),) if roles else ()),
        ("observable", "left"),
        ("model", "right"),
        (spread_heading, "right"),
        ("target", "right"),
        ("range", "right"),
        ("fit", "left"),
    ):
        wide.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for cells in rows:
        wide.add_row(
            cells["id"],
            *((cells["role"],) if roles else ()),
            cells["observable"],
            cells["model"],
            " - ".join(cells["spread"]) if cells["spread"] else "",
            cells["target"],
            " - ".join(cells["range"]),
            cells["fit"],
        )

    def narrow() -> Table:
        view = Table(title=title, show_lines=True, **NARROW)
        view.add_column("id\nobservable", overflow="fold")
        narrow_heading = spread_heading.replace(" over ", "\nover ")
        view.add_column(f"model\n{narrow_heading}", justify="right", no_wrap=True)
        view.add_column("target\nrange", justify="right", no_wrap=True)
        view.add_column("role\nfit" if roles else "fit", no_wrap=True)
        for cells in rows:
            spread = f"\n{cells['spread'][0]} -\n{cells['spread'][1]}" if cells["spread"] else ""
            low, high = cells["range"]
            view.add_row(
                f"{cells['id']}\n[dim]{cells['observable']}[/]",
                f"{cells['model']}{spread}",
                f"{cells['target']}\n{low} -\n{high}",
                f"{cells['role']}\n{cells['fit']}" if roles else cells["fit"],
            )
        return view

    return Fitting(wide, narrow)


def validate_command(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="a run written by `chistka run`, a directory of runs (ensemble), an "
            "experiment's folder (each arm apart), or a set of variants' (each value's arms)"
        ),
    ],
    targets: Annotated[
        Path | None,
        typer.Option(
            "--targets",
            help="CSV of targets: id, observable, value, low, high (blank low/high: value ±20%); "
            "default: the record's calibration and validation rows for the runs' scenario",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="print a JSON list instead of a table")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="exit with status 1 if a target falls outside its range, or if no target "
            "could be checked (for CI)",
        ),
    ] = False,
) -> None:
    """Compare saved runs with the record or target figures (model mean and spread over the runs).

    Runs are grouped by scale and parameter point (a sweep's parameter sets are never pooled),
    each group is reported apart, and runs of different scenarios are refused.
    """
    from chistka.analysis.grouping import group_runs
    from chistka.analysis.saved import experiment_arms, find_runs, variant_arms
    from chistka.analysis.validate import against_record, compare, read_targets
    from chistka.results import Results

    against = targets.name if targets is not None else "the record"
    try:
        variants = variant_arms(run_dir)
        arms = variants[1] if variants is not None else experiment_arms(run_dir)
        run_sets = arms if arms is not None else [(None, find_runs(run_dir))]
        table = None
        if targets is not None:
            table = read_targets(targets)
            for row in table.itertuples(index=False):
                check_observable_form(row.observable, f"{targets}, row {row.row}, id '{row.id}'")
        results: list[tuple[str | None, RunGroup, pd.DataFrame]] = []
        for arm, paths in run_sets:
            groups = group_runs(paths)
            for group in groups:
                if arm is not None:
                    group.label = arm if len(groups) == 1 else f"{arm}, {group.label}"
                runs = (Results.load(p) for p in group.paths)
                with errors.status(
                    escape(f"computing {len(group.paths)} run(s) against {against}")
                ):
                    found = against_record(runs) if table is None else compare(runs, table)
                results.append((arm, group, found))
    except ChistkaError as exc:
        fail(str(exc))
        return
    several = len(results) > 1
    if json_output:
        rows = []
        for arm, group, found in results:
            extra = {
                **({"arm": arm} if arm is not None else {}),
                **(
                    {"group": group.label, "scale": group.scale, "runs": len(group.paths)}
                    if several
                    else {}
                ),
            }
            rows.extend({**row, **extra} for row in records(found))
        typer.echo(json.dumps(rows, indent=2))
    else:
        if variants is not None:
            console.print(
                escape(
                    f"{run_dir}: {variants[0]}; each value's experiment arm by arm "
                    f"({len(arms)} arms in all), each compared apart"
                ),
                highlight=False,  # wrapped at the terminal's width, as a sweep's line (QA 45)
            )
        elif arms is not None:
            console.print(
                escape(
                    f"{run_dir}: an experiment of {len(arms)} arms "
                    f"({', '.join(arm for arm, _ in arms)}), each compared apart"
                ),
                highlight=False,
            )
        elif several:
            console.print(
                escape(
                    f"{run_dir}: {len(results)} groups of runs (parameter points or scales), "
                    "each compared apart"
                ),
                highlight=False,
            )
        for _, group, found in results:
            _print_group(run_dir, group, found, against, several=several)
    if strict:
        _strict_verdict([found for _, _, found in results], against_targets=table is not None)


def _strict_verdict(tables: list[pd.DataFrame], *, against_targets: bool) -> None:
    """--strict: exit with status 1 if a target is outside its range, or if none was checked.

    A targets file whose every row is left out (years the runs do not have, another scenario's
    kinds) was "0 of 0 targets inside" and passed (QA 44): a gate that checks nothing must not
    pass. Targets left out beside checked ones are named, since they count neither way.
    """
    checked = sum(int(t["inside"].notna().sum()) for t in tables)
    outside = sum(sum(value is False for value in t["inside"]) for t in tables)
    left_out = sorted(
        {str(row.id) for t in tables for row in t[t["inside"].isna()].itertuples(index=False)}
    )
    if against_targets and left_out and checked:
        errors.print(
            escape(
                f"--strict: {len(left_out)} target(s) left out, not checked (they count neither "
                f"way): {', '.join(left_out)}"
            ),
            highlight=False,
            soft_wrap=True,
        )
    if not checked:
        why = (
            f"every target was left out ({', '.join(left_out)}); give targets inside the runs' "
            "dates, campaigns and operations"
            if against_targets
            else "the record has no calibration or validation row that these runs are scored on"
        )
        errors.print(
            f"[bold red]--strict:[/] no target was checked, so nothing passed: {escape(why)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)
    if outside:
        errors.print(
            f"[bold red]--strict:[/] {outside} target(s) outside their range", highlight=False
        )
        raise typer.Exit(code=1)


def _print_group(
    run_dir: Path, group: RunGroup, table: pd.DataFrame, against: str, *, several: bool
) -> None:
    """One group's table; against the record, every row with its status and the fit per role."""
    from chistka.analysis.comparison import fit, fit_line

    runs = len(group.paths)
    plural = "s" if runs > 1 else ""
    where = f"{run_dir} [{group.label}]" if several else str(run_dir)
    title = escape(
        f"{where}: {group.scenario} at scale {group.scale:g}, {runs} run{plural} against {against}"
    )
    if "role" in table.columns:
        console.print(validation_table(table, title, runs))
        scored = table.rename(columns={"id": "record_id"})
        mean = f" (the mean of the {runs} runs against each row's range)" if runs > 1 else ""
        console.print(fit_line(fit(scored)) + mean)  # wrapped at the terminal's width
        return
    covered = table["inside"].notna()
    console.print(validation_table(table[covered] if covered.any() else table, title, runs))
    inside = int(table.loc[covered, "inside"].astype(bool).sum())
    console.print(f"{inside} of {int(covered.sum())} targets inside their range", soft_wrap=True)
    if not covered.all():
        rest = "--json lists them" if covered.any() else ""
        for line in left_out_lines(_left_out(group, table.loc[~covered]), rest=rest):
            console.print(escape(line), soft_wrap=True, highlight=False)


def _left_out(group: RunGroup, left: pd.DataFrame) -> list[LeftOut]:
    """The targets no run of a group covers, each with why, as `calibrate` words them.

    The reasons and their order are `preflight.left_out_reason`'s, on the runs' own scenario
    (rebuilt from their provenance): outside its dates or not wholly inside them, a campaign,
    operation or body it does not have, a kind it does not model. Any other target has no value
    in the runs. Runs whose provenance gives no scenario fall back on the kinds their `compare`
    list names.
    """
    from dataclasses import replace

    from chistka.analysis.comparison import modelled_kinds
    from chistka.analysis.grouping import provenance_of
    from chistka.commands.preflight import left_out_reason

    provenance = provenance_of(group.paths[0]) if group.paths else None
    scenario = _scenario_of(provenance)
    kinds = modelled_kinds(provenance) if scenario is None and provenance else None
    rest = "not in the runs (dates, campaigns or operations they do not have, or no value)"
    found = []
    for row in left.itertuples(index=False):
        reason = left_out_reason(row.observable, scenario) if scenario is not None else None
        if reason is not None:
            found.append(replace(reason, id=str(row.id)))
        elif kinds is not None and row.observable.partition(":")[0] not in kinds:
            found.append(LeftOut(str(row.id), row.observable, NOT_MODELLED, ""))
        else:
            found.append(LeftOut(str(row.id), row.observable, rest, ""))
    return found


def _scenario_of(provenance: dict[str, Any] | None) -> Scenario | None:
    """The scenario a run ran, from its provenance's parameters (None where they do not load)."""
    from chistka.scenario import scenario_from_dict

    parameters = (provenance or {}).get("parameters")
    if not isinstance(parameters, dict):
        return None
    try:
        return scenario_from_dict(parameters)
    except ChistkaError:
        return None
