"""`chistka validate RUN_DIR [--targets FILE] [--json]`: saved runs against the record or targets.

Without --targets the runs are compared with the record as their report compares them: the
record's rows for the runs' scenario, each with its role (calibration, validation, input,
claim) and status, and the fit counted separately on calibration and validation rows.

Prints a table of the targets (model value with its spread over an ensemble, target value and
range, inside or outside), or with --json a JSON list of objects with the keys id, observable,
model, model_low, model_high, value, low, high and inside (null for missing numbers, and for
inside where no run covers the observable). Bad input (a missing run, a targets file without a
required column, a non-numeric value, an unknown observable) is reported as one clear message
with exit status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chistka.commands.options import errors, fail
from chistka.errors import ChistkaError

console = Console()


def _plain(value: Any) -> Any:
    """A JSON value: NaN and None become null, numpy scalars plain numbers."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The validation table as a list of plain JSON objects."""
    from chistka.analysis.validate import OUTPUT_COLUMNS, RECORD_COLUMNS

    columns = RECORD_COLUMNS if "role" in table.columns else OUTPUT_COLUMNS
    return [
        {column: _plain(row[column]) for column in columns}
        for row in table.to_dict(orient="records")
    ]


def _format(value: float, observable: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    if "share" in observable.partition(":")[0]:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


def validation_table(table: pd.DataFrame, title: str) -> Table:
    """The validation as a rich table."""
    from chistka.analysis.validate import bounds

    view = Table(title=title)
    roles = "role" in table.columns
    for column, justify in (
        ("id", "left"),
        *((("role", "left"),) if roles else ()),
        ("observable", "left"),
        ("model", "right"),
        ("model 5-95%", "right"),
        ("target", "right"),
        ("range", "right"),
        ("fit", "left"),
    ):
        view.add_column(column, justify=justify, overflow="fold")
    for row in table.itertuples(index=False):
        name = row.observable
        low, high = bounds(row.value, row.low, row.high)
        spread = (
            ""
            if math.isnan(row.model) or row.model_low == row.model_high
            else f"{_format(row.model_low, name)} - {_format(row.model_high, name)}"
        )
        fit = (
            f"[dim]{row.status if roles else 'not in run'}[/]"
            if row.inside is None
            else "[green]inside[/]"
            if row.inside
            else "[red]outside[/]"
        )
        view.add_row(
            escape(str(row.id)),
            *((escape(str(row.role)),) if roles else ()),
            escape(name),
            _format(row.model, name),
            spread,
            _format(row.value, name),
            f"{_format(low, name)} - {_format(high, name)}",
            fit,
        )
    return view


def validate_command(
    run_dir: Annotated[
        Path,
        typer.Argument(help="a run written by `chistka run`, or a directory of runs (ensemble)"),
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
) -> None:
    """Compare saved runs with the record or target figures (model mean and 5-95% spread)."""
    from chistka.analysis.saved import find_runs
    from chistka.analysis.validate import validate

    try:
        runs = find_runs(run_dir)
        against = targets.name if targets is not None else "the record"
        with errors.status(escape(f"computing {len(runs)} run(s) against {against}")):
            table = validate(run_dir, targets)
    except ChistkaError as exc:
        fail(str(exc))
        return
    if json_output:
        typer.echo(json.dumps(records(table), indent=2))
        return
    plural = "s" if len(runs) > 1 else ""
    title = escape(f"{run_dir}: {len(runs)} run{plural} against {against}")
    if targets is None:
        from chistka.analysis.comparison import fit, fit_text

        console.print(validation_table(table, title))
        scored = table.rename(columns={"id": "record_id"})
        console.print(f"Fit {fit_text(fit(scored))}", soft_wrap=True)
        return
    covered = table["inside"].notna()
    console.print(validation_table(table[covered] if covered.any() else table, title))
    inside = int(table.loc[covered, "inside"].astype(bool).sum())
    message = f"{inside} of {int(covered.sum())} targets inside their range"
    if not covered.all():
        message += (
            f"; {int((~covered).sum())} target(s) not covered by the run (dates or operations "
            "outside it)" + (" not shown, --json lists them" if covered.any() else "")
        )
    console.print(message, soft_wrap=True)
