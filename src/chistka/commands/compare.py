"""`chistka compare RUN_A RUN_B`: two runs or ensembles side by side, and what differs.

Writes OUT/compare.html (`chistka.report.compare`) and OUT/differences.csv, and prints the table
of differences (`chistka.analysis.compare`: each side's mean and spread over the seeds, the
difference B - A and its 90% interval). OUT is taken as every command takes its --out
(`outputs.check_out`: new, empty or an earlier comparison; with --force beside files chistka did
not write); both files are written together or not at all (`outputs.staged_files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chistka.analysis.compare import differences, load_side, scale_warning
from chistka.commands.options import (
    NARROW,
    Fitting,
    ForceOption,
    errors,
    fail,
    output_console,
)
from chistka.errors import ChistkaError
from chistka.outputs import COMPARE, check_out, staged_files
from chistka.report.compare import (
    has_intervals,
    interval_note,
    modelled_rows,
    table_cells,
    table_headings,
    write_comparison_report,
)

if TYPE_CHECKING:
    import pandas as pd

console = output_console()


def compare_command(
    run_a: Annotated[Path, typer.Argument(help="side A: a run or an ensemble's directory")],
    run_b: Annotated[Path, typer.Argument(help="side B: a run or an ensemble's directory")],
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: out/compare-A-B)")
    ] = None,
    a_point: Annotated[
        str | None,
        typer.Option(
            "--a-point", help="side A is this point of a sweep (its runs' pNNN, e.g. p000)"
        ),
    ] = None,
    b_point: Annotated[
        str | None,
        typer.Option(
            "--b-point", help="side B is this point of a sweep (its runs' pNNN, e.g. p001)"
        ),
    ] = None,
    force: ForceOption = False,
) -> None:
    """Compare two runs or ensembles: charts side by side and a table of the differences.

    A side that is a sweep of several parameter points takes one of them with --a-point or
    --b-point: `chistka compare out/S-sweep out/S-sweep --a-point p000 --b-point p001` compares
    two points of one sweep. --out may be a new or empty folder or an earlier comparison; a
    folder holding another command's output (a run, a sweep, ...) is refused, and one holding
    files chistka did not write unless --force.
    """
    try:
        default = default_target(run_a, run_b, a_point, b_point)
        target = out if out is not None else default
        check_out(target, COMPARE, force=force, instead=default)
        with errors.status("reading both sides"):
            a = load_side(run_a, a_point, "--a-point")
            b = load_side(run_b, b_point, "--b-point")
        table = differences(a, b)
        if table.empty:
            raise ChistkaError(
                f"'{run_a}' and '{run_b}' have no compared figure in common (comparison.csv)"
            )
        with staged_files(target) as staging:
            write_comparison_report(a, b, table, staging / "compare.html")
            table.to_csv(staging / "differences.csv", index=False)
        report = target / "compare.html"
    except ChistkaError as exc:
        fail(str(exc))
    shown, left_out = modelled_rows(table)
    console.print(differences_view(shown, escape(f"B - A: {b.name} against {a.name}")))
    for note in (interval_note(shown), left_out):
        if note:
            console.print(note, highlight=False)
    if a.where != a.name or b.where != b.name:  # the folders as given, once
        where = f"A: {escape(a.where)}\nB: {escape(b.where)}"
        console.print(where, highlight=False, soft_wrap=True)
    console.print(
        f"wrote {escape(str(report))}, {escape(str(target / 'differences.csv'))}",
        highlight=False,
        soft_wrap=True,
    )
    warning = scale_warning(a, b)
    if warning:  # last, where it is seen after a long table
        console.print(f"warning: {escape(warning)}", highlight=False, soft_wrap=True)


def default_target(run_a: Path, run_b: Path, a_point: str | None, b_point: str | None) -> Path:
    """out/compare-A-B, each side named by its folder and the point it takes, if any."""

    def side(run: Path, point: str | None) -> str:
        return f"{run.name}-{point}" if point else run.name

    return Path("out") / f"compare-{side(run_a, a_point)}-{side(run_b, b_point)}"


FIGURE_WIDTH = 20
"""The least width of the wide table's figure column: narrower, its names ran a word a line, and
the table is stacked instead (`Fitting`)."""


def differences_view(table: pd.DataFrame, title: str) -> Fitting:
    """The table of differences as printed: wide where it fits, else stacked (80 columns).

    Stacked, each row gives the figure over the record's value, side A over side B (each mean
    over its spread) and the difference over its interval and the relative change, so that no
    number is cut or split across lines.
    """
    cells = [tuple(escape(cell) for cell in table_cells(row)) for row in table.itertuples()]
    wide = Table(title=title)
    for index, column in enumerate(table_headings(table)):  # a number whole, or the table stacked
        if column == "figure":  # a name wrapped at words, a few to a line, or stacked
            wide.add_column(column, min_width=FIGURE_WIDTH)
        else:
            widest = max((len(row[index]) for row in cells), default=0)
            wide.add_column(column, justify="right", no_wrap=True, min_width=widest)
    for row in cells:
        wide.add_row(*row)

    def stacked(cell: str) -> str:
        return cell.replace(" (", "\n(", 1)

    def narrow() -> Table:
        view = Table(title=title, show_lines=True, **NARROW)
        view.add_column("figure\nrecord", overflow="fold")
        view.add_column("A\nB", justify="right", no_wrap=True)
        interval = "\n90% interval" if has_intervals(table) else ""
        view.add_column(f"B - A{interval}\nrelative", justify="right", no_wrap=True)
        for label, record, a, b, difference, relative in cells:
            view.add_row(
                f"{label}\n[dim]record {record}[/]",
                f"A {stacked(a)}\nB {stacked(b)}",
                f"{stacked(difference)}\n{relative}",
            )
        return view

    return Fitting(wide, narrow)
