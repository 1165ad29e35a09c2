"""`chistka report RUN_DIR`: write a run's report.html, or an ensemble's ensemble.html, again.

For a report lost, deleted to save space, or made by an older version: the report is drawn
from the saved tables with the report code of the installed chistka. The file is replaced
atomically (written beside it, then moved into place).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chistka.commands.options import errors, fail, output_console
from chistka.errors import ChistkaError

console = output_console()


def write_run_report(run_dir: Path) -> Path:
    """Write RUN_DIR/report.html from a saved run; return its path.

    Raises:
        ChistkaError: the directory is not a saved run.
    """
    from chistka.report import write_report
    from chistka.results import Results

    results = Results.load(run_dir)
    target = run_dir / "report.html"
    handle, tmp = tempfile.mkstemp(prefix=".report.html.tmp-", dir=run_dir)
    os.close(handle)
    try:
        write_report(results, Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def report_command(
    run_dir: Annotated[
        Path, typer.Argument(help="a run written by `chistka run`, or a sweep's directory")
    ],
) -> None:
    """Write a run's report.html, or an ensemble's ensemble.html, again from its saved files."""
    from chistka.analysis.ensemble import read_plan
    from chistka.analysis.saved import is_run

    try:
        if not run_dir.is_dir():
            raise ChistkaError(f"'{run_dir}' is not a directory of a run or a sweep")
        if is_run(run_dir):
            with errors.status(escape(f"drawing {run_dir}/report.html")):
                path = write_run_report(run_dir)
        elif read_plan(run_dir) is not None or any(
            is_run(p) for p in run_dir.iterdir() if not p.name.startswith(".")
        ):
            from chistka.report.ensemble import write_ensemble_report

            with errors.status(escape(f"drawing {run_dir}/ensemble.html")):
                path = write_ensemble_report(run_dir)
        else:
            raise ChistkaError(
                f"'{run_dir}' holds no saved run (summary.json, provenance.json, daily.parquet, "
                "events.parquet) and no sweep (plan.json)"
            )
    except ChistkaError as exc:
        fail(str(exc))
    console.print(f"wrote {escape(str(path))}", highlight=False, soft_wrap=True)
