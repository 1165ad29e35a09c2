"""`chistka compare RUN_A RUN_B`: two runs or ensembles side by side, and what differs.

Writes OUT/compare.html (`chistka.report.compare`) and OUT/differences.csv, and prints the table
of differences (`chistka.analysis.compare`: each side's mean and spread over the seeds, the
difference B - A and its 90% interval).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chistka.analysis.compare import differences, load_side
from chistka.commands.options import (
    errors,
    fail,
    output_console,
)
from chistka.commands.preflight import check_output_folder
from chistka.errors import ChistkaError
from chistka.report.compare import TABLE_HEADINGS, table_cells, write_comparison_report

console = output_console()


COMPARE_MARKS = {
    "compare.html": "<title>chistka compare: ",
    "differences.csv": "observable,label,record,a_mean",
}
"""What marks compare.html and differences.csv as written by `chistka compare` (an earlier
comparison is replaced; a file of those names chistka did not write is not)."""


def compare_command(
    run_a: Annotated[Path, typer.Argument(help="side A: a run or an ensemble's directory")],
    run_b: Annotated[Path, typer.Argument(help="side B: a run or an ensemble's directory")],
    out: Annotated[
        Path | None, typer.Option(help="output folder (default: out/compare-A-B)")
    ] = None,
) -> None:
    """Compare two runs or ensembles: charts side by side and a table of the differences."""
    try:
        target = out if out is not None else Path("out") / f"compare-{run_a.name}-{run_b.name}"
        check_output_folder(target, files=COMPARE_MARKS, writer="chistka compare")
        with errors.status("reading both sides"):
            a, b = load_side(run_a), load_side(run_b)
        table = differences(a, b)
        if table.empty:
            raise ChistkaError(
                f"'{run_a}' and '{run_b}' have no compared figure in common (comparison.csv)"
            )
        report = write_comparison_report(a, b, table, target / "compare.html")
        table.to_csv(target / "differences.csv", index=False)
    except ChistkaError as exc:
        fail(str(exc))
    view = Table(title=escape(f"B - A: {run_b} against {run_a}"))
    for column in TABLE_HEADINGS:
        view.add_column(column, justify="left" if column == "figure" else "right")
    for row in table.itertuples(index=False):
        view.add_row(*(escape(cell) for cell in table_cells(row)))
    console.print(view)
    console.print(
        f"wrote {escape(str(report))}, {escape(str(target / 'differences.csv'))}",
        highlight=False,
        soft_wrap=True,
    )
